/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the ECR control API (src/api/ecr*.c): every operation driven through the AWS
 * router with synthesized JSON 1.1 requests, over a real metadata database, blob store and
 * registry in a temporary directory; images are pushed through the registry's own /v2/
 * handler and API. Checks shapes, AWS's error codes and messages, pagination, sizes, the
 * byte-exact manifests, deletion rules and registry login tokens. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/awsproto.h"
#include "api/ecr.h"
#include "base/arena.h"
#include "base/b64.h"
#include "base/buf.h"
#include "base/hash.h"
#include "base/http_msg.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "image/manifest.h"
#include "registry/auth.h"
#include "registry/registry.h"
#include "scan/service.h"
#include "store/blob_store.h"
#include "store/meta.h"
#include "test.h"
#include "vulndb/import.h"

#define ACCT   "123456789012"
#define REGION "eu-west-3"
#define HOST   "127.0.0.1:5000"
#define TARGET ECR_TARGET_PREFIX "."

static const unsigned char token_key[32] = "0123456789abcdef0123456789abcdef";

struct env {
    char *dir;
    struct meta_db *db;
    struct blob_store *bs;
    struct registry *reg;
    struct reg_auth *auth;
    struct ecr_api *ecr;
    struct api_router *router;
    struct http_handler h;
    struct scan_service *svc; /* NULL unless opened with a vulnerability database */
    char *vdb;
    int64_t now;
    int auth_calls;
};

static int64_t fake_now(void *ctx)
{
    return ((struct env *)ctx)->now;
}

/* The API hook a SigV4 verifier would be: accept everything, record a principal. */
static enum api_auth_status accept_all(void *ctx, struct http_req *req,
                                       const struct api_auth_info *info, char *msg, size_t n)
{
    (void)msg;
    (void)n;
    struct env *e = ctx;
    e->auth_calls++;
    ASSERT_STREQ(info->signing_name, "ecr");
    req->principal = "AKIDTEST";
    return API_AUTH_OK;
}

/* The server's glue (cmd_serve.c): registry pushes and deletions reach the scan service. */
static int on_reg_event(void *ctx, struct meta_conn *c, const struct reg_event *ev)
{
    struct env *e = ctx;
    if (!e->svc || (ev->action != REG_EVENT_PUSH && ev->action != REG_EVENT_DELETE))
        return 0;
    struct scan_image_event se = {
        .action = ev->action == REG_EVENT_PUSH ? SCAN_IMAGE_PUSHED : SCAN_IMAGE_DELETED,
        .repo = ev->repo,
        .repo_id = ev->repo_id,
        .manifest_id = ev->manifest_id,
        .digest = ev->digest,
        .media_type = ev->media_type,
        .subject = ev->subject,
        .artifact_type = ev->artifact_type,
        .is_new = ev->is_new,
        .at = ev->at,
    };
    return scan_service_on_push(e->svc, c, &se);
}

static void open_scan_service(struct env *e);

static void env_open_full(struct env *e, const struct ecr_api_config *tmpl, bool with_scan)
{
    memset(e, 0, sizeof(*e));
    e->dir = xstrdup(test_tmpdir());
    e->now = 1700000000;
    char *dbpath = xasprintf("%s/vigil.db", e->dir);
    ASSERT_EQ(meta_open(dbpath, NULL, &e->db, NULL), 0);
    free(dbpath);
    ASSERT_EQ(blob_store_open(e->dir, &e->bs, NULL), 0);
    struct reg_auth_config ac = { .token_key = token_key,
                                  .token_key_len = sizeof(token_key),
                                  .token_ttl_s = 3600 };
    ASSERT_EQ(reg_auth_new(&ac, &e->auth, NULL), 0);
    if (with_scan)
        open_scan_service(e);
    struct registry_config rc;
    registry_config_init(&rc);
    rc.db = e->db;
    rc.blobs = e->bs;
    rc.on_event = on_reg_event;
    rc.event_ctx = e;
    ASSERT_EQ(registry_new(&rc, &e->reg, NULL), 0);
    registry_handler(e->reg, &e->h);
    struct ecr_api_config ec = { 0 };
    if (tmpl)
        ec = *tmpl;
    ec.db = e->db;
    ec.registry = e->reg;
    ec.auth = e->auth;
    ec.scan = e->svc;
    if (!ec.account_id)
        ec.account_id = ACCT;
    if (!ec.region)
        ec.region = REGION;
    ec.now = fake_now;
    ec.now_ctx = e;
    struct diag d = { 0 };
    if (ecr_api_new(&ec, &e->ecr, &d) != 0)
        test_fail(__FILE__, __LINE__, "ecr_api_new: %s", d.msg);
    e->router = api_router_new();
    ASSERT_EQ(ecr_api_register(e->ecr, e->router), 0);
    api_router_set_auth(e->router, accept_all, e);
}

static void env_open_with(struct env *e, const struct ecr_api_config *tmpl)
{
    env_open_full(e, tmpl, false);
}

static void env_open(struct env *e)
{
    env_open_full(e, NULL, false);
}

static void env_free(struct env *e)
{
    api_router_free(e->router);
    ecr_api_free(e->ecr);
    registry_free(e->reg);
    scan_service_free(e->svc);
    free(e->vdb);
    reg_auth_free(e->auth);
    blob_store_close(e->bs);
    meta_close(e->db);
    free(e->dir);
}

/* ---- calls ---- */

struct answer {
    int status;
    json_t *body; /* owned */
    char *text;   /* owned raw body */
};

static void answer_release(struct answer *a)
{
    json_decref(a->body);
    free(a->text);
    memset(a, 0, sizeof(*a));
}

/* One JSON 1.1 request through the router, as the HTTP adapter would hand it over. */
static void call_raw(struct env *e, const char *target, const char *body, struct answer *out)
{
    struct arena ar;
    arena_init(&ar);
    struct http_req req;
    memset(&req, 0, sizeof(req));
    req.arena = &ar;
    req.method = HTTP_POST;
    req.method_str = "POST";
    req.path = "/";
    req.raw_query = "";
    buf_init(&req.body, AWS_BODY_MAX);
    buf_append_cstr(&req.body, body);
    struct http_kv h1 = { "Content-Type", "application/x-amz-json-1.1" };
    struct http_kv h2 = { "X-Amz-Target", target };
    struct http_kv h3 = { "Host", HOST };
    VEC_PUSH(&req.headers, h1);
    VEC_PUSH(&req.headers, h2);
    VEC_PUSH(&req.headers, h3);
    struct http_resp resp;
    memset(&resp, 0, sizeof(resp));
    resp.fd = -1;
    buf_init(&resp.body, AWS_RESPONSE_MAX);
    api_dispatch(e->router, &req, &resp);
    out->status = resp.status;
    out->text = xstrdup(buf_cstr(&resp.body));
    out->body = json_loads(out->text, 0, NULL);
    if (!out->body)
        test_fail(__FILE__, __LINE__, "response is not JSON: %s", out->text);
    buf_release(&resp.body);
    buf_release(&req.body);
    VEC_FREE(&req.headers);
    VEC_FREE(&resp.headers);
    arena_release(&ar);
}

static void ecr(struct env *e, const char *op, const char *body, struct answer *out)
{
    char target[128];
    snprintf(target, sizeof(target), TARGET "%s", op);
    call_raw(e, target, body, out);
}

/* Call and require success. */
static json_t *ok(struct env *e, const char *op, const char *body, struct answer *a)
{
    ecr(e, op, body, a);
    if (a->status != 200)
        test_fail(__FILE__, __LINE__, "%s %s -> %d %s", op, body, a->status, a->text);
    return a->body;
}

/* Call and require an error with that code (and message, when not NULL). */
static void aws_err_at(int line, struct env *e, const char *op, const char *req, const char *code,
                       const char *msg)
{
    struct answer a;
    ecr(e, op, req, &a);
    const char *t = json_string_value(json_object_get(a.body, "__type"));
    const char *m = json_string_value(json_object_get(a.body, "message"));
    if (a.status != 400 || !t || strcmp(t, code) != 0 || (msg && (!m || strcmp(m, msg) != 0)))
        test_fail(__FILE__, line, "%s: want 400 %s %s, got %d %s", op, code, msg ? msg : "",
                  a.status, a.text);
    answer_release(&a);
}
#define ASSERT_AWS_ERR(e, op, req, code, msg) aws_err_at(__LINE__, (e), (op), (req), (code), (msg))

static const char *jstr(json_t *o, const char *path)
{
    /* "a.b.c" through objects; "a.0.b" indexes arrays */
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%s", path);
    json_t *cur = o;
    for (char *p = tmp, *next; p && cur; p = next) {
        next = strchr(p, '.');
        if (next)
            *next++ = '\0';
        cur = json_is_array(cur) ? json_array_get(cur, strtoul(p, NULL, 10))
                                 : json_object_get(cur, p);
    }
    return json_string_value(cur);
}

static json_t *jget(json_t *o, const char *path)
{
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%s", path);
    json_t *cur = o;
    for (char *p = tmp, *next; p && cur; p = next) {
        next = strchr(p, '.');
        if (next)
            *next++ = '\0';
        cur = json_is_array(cur) ? json_array_get(cur, strtoul(p, NULL, 10))
                                 : json_object_get(cur, p);
    }
    return cur;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof(bufs[0]), f, ap);
    va_end(ap);
    return b;
}

/* ---- pushing images through the registry ---- */

static void digest_of(const void *p, size_t n, char *out)
{
    unsigned char raw[SHA256_LEN];
    sha256_buf(p, n, raw);
    digest_format(raw, out);
}

/* POST /v2/<repo>/blobs/uploads/?digest= with the whole blob (a monolithic upload). */
static void push_blob(struct env *e, const char *repo, const void *data, size_t n, char *digest)
{
    digest_of(data, n, digest);
    struct arena ar;
    arena_init(&ar);
    struct http_req req;
    memset(&req, 0, sizeof(req));
    req.arena = &ar;
    req.method = HTTP_POST;
    req.method_str = "POST";
    req.path = arena_strdup(&ar, fmt("/v2/%s/blobs/uploads/", repo));
    req.raw_query = arena_strdup(&ar, fmt("digest=%s", digest));
    struct http_kv q = { "digest", digest };
    VEC_PUSH(&req.query, q);
    req.has_content_length = true;
    req.content_length = n;
    req.body_max = 1 << 20;
    struct http_resp resp;
    memset(&resp, 0, sizeof(resp));
    resp.fd = -1;
    buf_init(&resp.body, 1 << 20);
    e->h.begin(e->h.app, &req, &resp);
    ASSERT_EQ(resp.status, 0);
    buf_init(&req.body, req.body_max);
    if (req.stream) {
        ASSERT_EQ(e->h.body(e->h.app, &req, data, n), 0);
        req.body_bytes = n;
    } else {
        buf_append(&req.body, data, n);
    }
    e->h.end(e->h.app, &req, &resp);
    if (resp.status != 201)
        test_fail(__FILE__, __LINE__, "blob push: %d %s", resp.status, buf_cstr(&resp.body));
    buf_release(&resp.body);
    buf_release(&req.body);
    VEC_FREE(&resp.headers);
    VEC_FREE(&req.query);
    arena_release(&ar);
}

/* An image manifest over a config and one layer (both pushed), with extra whitespace so that
 * any re-serialisation would show. Returns the manifest (owned) and its digest. */
static char *push_image(struct env *e, const char *repo, const char *ref, const char *layer,
                        char *digest)
{
    char cfgd[DIGEST_STR_LEN + 1], layd[DIGEST_STR_LEN + 1];
    char *config = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":"
                             "{\"type\":\"layers\",\"diff_ids\":[]},\"x\":\"%s\"}",
                             layer);
    push_blob(e, repo, config, strlen(config), cfgd);
    push_blob(e, repo, layer, strlen(layer), layd);
    char *m =
        xasprintf("{\n   \"schemaVersion\": 2,\n   \"mediaType\": \"%s\",\n"
                  "   \"config\": {\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": %zu},\n"
                  "   \"layers\": [{\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": %zu}]\n}",
                  MT_DOCKER_MANIFEST, MT_DOCKER_CONFIG, cfgd, strlen(config), MT_DOCKER_LAYER_GZ,
                  layd, strlen(layer));
    free(config);
    struct reg_put_result res;
    struct reg_error err;
    if (registry_manifest_put(e->reg, repo, ref, MT_DOCKER_MANIFEST, m, strlen(m), &res, &err) != 0)
        test_fail(__FILE__, __LINE__, "manifest put: %s %s", err.code, err.message);
    digest_of(m, strlen(m), digest);
    ASSERT_STREQ(res.digest, digest);
    return m;
}

static void tag_image(struct env *e, const char *repo, const char *tag, const char *manifest)
{
    struct reg_put_result res;
    struct reg_error err;
    if (registry_manifest_put(e->reg, repo, tag, NULL, manifest, strlen(manifest), &res, &err) != 0)
        test_fail(__FILE__, __LINE__, "tag %s: %s %s", tag, err.code, err.message);
}

/* ---- repositories ---- */

TEST(ecr_create_repository_shape)
{
    struct env e;
    env_open(&e);
    struct answer a;
    json_t *r = ok(&e, "CreateRepository",
                   "{\"repositoryName\": \"team/app\", \"imageTagMutability\": \"IMMUTABLE\", "
                   "\"imageScanningConfiguration\": {\"scanOnPush\": true}, "
                   "\"encryptionConfiguration\": {\"encryptionType\": \"AES256\"}, "
                   "\"tags\": [{\"Key\": \"team\", \"Value\": \"a\"}]}",
                   &a);
    ASSERT_STREQ(jstr(r, "repository.repositoryArn"),
                 "arn:aws:ecr:" REGION ":" ACCT ":repository/team/app");
    ASSERT_STREQ(jstr(r, "repository.registryId"), ACCT);
    ASSERT_STREQ(jstr(r, "repository.repositoryName"), "team/app");
    ASSERT_STREQ(jstr(r, "repository.repositoryUri"), HOST "/team/app");
    ASSERT_STREQ(jstr(r, "repository.imageTagMutability"), "IMMUTABLE");
    ASSERT_TRUE(json_is_true(jget(r, "repository.imageScanningConfiguration.scanOnPush")));
    ASSERT_STREQ(jstr(r, "repository.encryptionConfiguration.encryptionType"), "AES256");
    json_t *created = jget(r, "repository.createdAt");
    ASSERT_TRUE(json_is_number(created));
    struct reg_repo info;
    ASSERT_EQ(registry_repo_get(e.reg, "team/app", &info), 0);
    ASSERT_EQ((long long)json_number_value(created), info.created_at);
    ASSERT_TRUE(info.immutable);
    answer_release(&a);

    /* the same name again; defaults when nothing is given */
    ASSERT_AWS_ERR(&e, "CreateRepository", "{\"repositoryName\": \"team/app\"}",
                   "RepositoryAlreadyExistsException",
                   "The repository with name 'team/app' already exists in the registry with id "
                   "'" ACCT "'");
    r = ok(&e, "CreateRepository", "{\"repositoryName\": \"plain\"}", &a);
    ASSERT_STREQ(jstr(r, "repository.imageTagMutability"), "MUTABLE");
    ASSERT_TRUE(json_is_false(jget(r, "repository.imageScanningConfiguration.scanOnPush")));
    answer_release(&a);
    ASSERT_EQ(e.auth_calls, 3); /* every call went through the hook */
    env_free(&e);
}

TEST(ecr_create_repository_refusals)
{
    struct ecr_api_config cfg = { .max_repositories = 2 };
    struct env e;
    env_open_with(&e, &cfg);
    /* the model's own constraints, checked before the handler */
    ASSERT_AWS_ERR(&e, "CreateRepository", "{\"repositoryName\": \"Bad\"}",
                   "InvalidParameterException", NULL);
    ASSERT_AWS_ERR(&e, "CreateRepository", "{\"repositoryName\": \"a\"}",
                   "InvalidParameterException", NULL);
    ASSERT_AWS_ERR(&e, "CreateRepository",
                   "{\"repositoryName\": \"x1\", \"imageTagMutability\": \"SOMETIMES\"}",
                   "InvalidParameterException", NULL);
    /* ours */
    ASSERT_AWS_ERR(&e, "CreateRepository",
                   "{\"repositoryName\": \"x1\", \"encryptionConfiguration\": "
                   "{\"encryptionType\": \"KMS\"}}",
                   "InvalidParameterException", NULL);
    ASSERT_AWS_ERR(&e, "CreateRepository",
                   "{\"repositoryName\": \"x1\", \"encryptionConfiguration\": "
                   "{\"encryptionType\": \"AES256\", \"kmsKey\": \"k\"}}",
                   "InvalidParameterException", NULL);
    ASSERT_AWS_ERR(
        &e, "CreateRepository",
        "{\"repositoryName\": \"x1\", \"tags\": [{\"Key\": \"aws:x\", \"Value\": \"\"}]}",
        "InvalidTagParameterException", NULL);
    ASSERT_AWS_ERR(&e, "CreateRepository",
                   "{\"repositoryName\": \"x1\", \"tags\": [{\"Key\": \"k\"}, {\"Key\": \"k\"}]}",
                   "InvalidTagParameterException", NULL);
    ASSERT_AWS_ERR(&e, "CreateRepository",
                   "{\"repositoryName\": \"x1\", \"tags\": [{\"Value\": \"v\"}]}",
                   "InvalidTagParameterException", NULL);
    struct buf many;
    buf_init(&many, 1 << 20);
    buf_append_cstr(&many, "{\"repositoryName\": \"x1\", \"tags\": [");
    for (int i = 0; i < 51; i++)
        buf_printf(&many, "%s{\"Key\": \"k%d\", \"Value\": \"v\"}", i ? ", " : "", i);
    buf_append_cstr(&many, "]}");
    ASSERT_AWS_ERR(&e, "CreateRepository", buf_cstr(&many), "TooManyTagsException", NULL);
    buf_release(&many);
    ASSERT_AWS_ERR(&e, "CreateRepository",
                   "{\"registryId\": \"999999999999\", \"repositoryName\": \"x1\"}",
                   "InvalidParameterException", NULL);
    /* nothing above created anything */
    struct reg_repo info;
    ASSERT_EQ(registry_repo_get(e.reg, "x1", &info), -ENOENT);
    struct answer a;
    ok(&e, "CreateRepository", "{\"repositoryName\": \"x1\"}", &a);
    answer_release(&a);
    ok(&e, "CreateRepository", "{\"repositoryName\": \"x2\"}", &a);
    answer_release(&a);
    ASSERT_AWS_ERR(&e, "CreateRepository", "{\"repositoryName\": \"x3\"}", "LimitExceededException",
                   NULL);
    env_free(&e);
}

TEST(ecr_public_url_in_uri_and_login)
{
    struct ecr_api_config cfg = { .public_url = "https://registry.example:8443/" };
    struct env e;
    env_open_with(&e, &cfg);
    struct answer a;
    json_t *r = ok(&e, "CreateRepository", "{\"repositoryName\": \"web\"}", &a);
    ASSERT_STREQ(jstr(r, "repository.repositoryUri"), "registry.example:8443/web");
    answer_release(&a);
    r = ok(&e, "GetAuthorizationToken", "{}", &a);
    ASSERT_STREQ(jstr(r, "authorizationData.0.proxyEndpoint"), "https://registry.example:8443");
    answer_release(&a);
    env_free(&e);

    struct ecr_api *x = NULL;
    struct diag d = { 0 };
    struct meta_db *db;
    char *dbpath = xasprintf("%s/other.db", test_tmpdir());
    ASSERT_EQ(meta_open(dbpath, NULL, &db, NULL), 0);
    free(dbpath);
    static char not_a_registry;
    struct ecr_api_config c2 = { .db = db,
                                 .registry = (struct registry *)(void *)&not_a_registry,
                                 .public_url = "ftp://x" };
    ASSERT_EQ(ecr_api_new(&c2, &x, &d), -ERR_INVALID);
    c2.public_url = "http://host/path";
    ASSERT_EQ(ecr_api_new(&c2, &x, &d), -ERR_INVALID);
    c2.public_url = NULL;
    c2.account_id = "12345";
    ASSERT_EQ(ecr_api_new(&c2, &x, &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "12 digits") != NULL);
    c2.account_id = NULL;
    c2.region = "EU WEST";
    ASSERT_EQ(ecr_api_new(&c2, &x, &d), -ERR_INVALID);
    ASSERT_TRUE(x == NULL);
    meta_close(db);
}

static void create(struct env *e, const char *name)
{
    struct answer a;
    ok(e, "CreateRepository", fmt("{\"repositoryName\": \"%s\"}", name), &a);
    answer_release(&a);
}

TEST(ecr_describe_repositories_pages)
{
    struct env e;
    env_open(&e);
    const char *names[] = { "r-e", "r-a", "r-d", "r-b", "r-c" };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        create(&e, names[i]);
    /* a repository made by a push (no ECR settings row) is listed with the defaults */
    char d[DIGEST_STR_LEN + 1];
    free(push_image(&e, "r-f", "v1", "layer", d));

    struct buf seen;
    buf_init(&seen, 4096);
    char *token = NULL;
    int pages = 0;
    do {
        struct answer a;
        json_t *r = ok(&e, "DescribeRepositories",
                       token ? fmt("{\"maxResults\": 2, \"nextToken\": \"%s\"}", token)
                             : "{\"maxResults\": 2}",
                       &a);
        free(token);
        token = NULL;
        json_t *list = json_object_get(r, "repositories");
        ASSERT_TRUE(json_array_size(list) >= 1 && json_array_size(list) <= 2);
        for (size_t i = 0; i < json_array_size(list); i++)
            buf_printf(&seen, "%s,", jstr(json_array_get(list, i), "repositoryName"));
        const char *nt = jstr(r, "nextToken");
        if (nt)
            token = xstrdup(nt);
        answer_release(&a);
        pages++;
    } while (token && pages < 10);
    ASSERT_EQ(pages, 3);
    ASSERT_STREQ(buf_cstr(&seen), "r-a,r-b,r-c,r-d,r-e,r-f,");
    buf_release(&seen);

    /* without maxResults everything fits one page of 100 */
    struct answer a;
    json_t *r = ok(&e, "DescribeRepositories", "{}", &a);
    ASSERT_EQ(json_array_size(json_object_get(r, "repositories")), 6);
    ASSERT_TRUE(json_object_get(r, "nextToken") == NULL);
    answer_release(&a);

    /* by name, in the order asked, duplicates once */
    r = ok(&e, "DescribeRepositories", "{\"repositoryNames\": [\"r-f\", \"r-a\", \"r-f\"]}", &a);
    ASSERT_EQ(json_array_size(json_object_get(r, "repositories")), 2);
    ASSERT_STREQ(jstr(r, "repositories.0.repositoryName"), "r-f");
    ASSERT_TRUE(json_is_false(jget(r, "repositories.0.imageScanningConfiguration.scanOnPush")));
    ASSERT_STREQ(jstr(r, "repositories.1.repositoryName"), "r-a");
    answer_release(&a);

    ASSERT_AWS_ERR(&e, "DescribeRepositories", "{\"repositoryNames\": [\"r-a\", \"nope\"]}",
                   "RepositoryNotFoundException",
                   "The repository with name 'nope' does not exist in the registry with id '" ACCT
                   "'");
    ASSERT_AWS_ERR(&e, "DescribeRepositories",
                   "{\"repositoryNames\": [\"r-a\"], \"registryId\": \"000000000001\"}",
                   "RepositoryNotFoundException",
                   "The repository with name 'r-a' does not exist in the registry with id "
                   "'000000000001'");
    ASSERT_AWS_ERR(&e, "DescribeRepositories",
                   "{\"repositoryNames\": [\"r-a\"], \"maxResults\": 1}",
                   "InvalidParameterException", NULL);
    ASSERT_AWS_ERR(&e, "DescribeRepositories", "{\"nextToken\": \"bogus\"}",
                   "InvalidParameterException", "Invalid NextToken");
    ASSERT_AWS_ERR(&e, "DescribeRepositories", "{\"maxResults\": 0}", "InvalidParameterException",
                   NULL);
    ASSERT_AWS_ERR(&e, "DescribeRepositories", "{\"maxResults\": 1001}",
                   "InvalidParameterException", NULL);
    /* a token of another operation is refused */
    free(push_image(&e, "r-f", "v2", "layer2", d));
    r = ok(&e, "ListImages", "{\"repositoryName\": \"r-f\", \"maxResults\": 1}", &a);
    ASSERT_TRUE(jstr(r, "nextToken") != NULL);
    ASSERT_AWS_ERR(&e, "DescribeRepositories", fmt("{\"nextToken\": \"%s\"}", jstr(r, "nextToken")),
                   "InvalidParameterException", "Invalid NextToken");
    answer_release(&a);
    env_free(&e);
}

TEST(ecr_delete_repository_and_mutability)
{
    struct env e;
    env_open(&e);
    create(&e, "del/me");
    char d[DIGEST_STR_LEN + 1];
    char *m = push_image(&e, "del/me", "v1", "layer-1", d);
    ASSERT_AWS_ERR(&e, "DeleteRepository", "{\"repositoryName\": \"del/me\"}",
                   "RepositoryNotEmptyException",
                   "The repository with name 'del/me' in registry with id '" ACCT
                   "' cannot be deleted because it still contains images");
    ASSERT_AWS_ERR(
        &e, "DeleteRepository", "{\"repositoryName\": \"no/such\"}", "RepositoryNotFoundException",
        "The repository with name 'no/such' does not exist in the registry with id '" ACCT "'");

    /* immutability through the API is what the registry enforces on push */
    struct answer a;
    json_t *r = ok(&e, "PutImageTagMutability",
                   "{\"repositoryName\": \"del/me\", \"imageTagMutability\": \"IMMUTABLE\"}", &a);
    ASSERT_STREQ(jstr(r, "registryId"), ACCT);
    ASSERT_STREQ(jstr(r, "repositoryName"), "del/me");
    ASSERT_STREQ(jstr(r, "imageTagMutability"), "IMMUTABLE");
    answer_release(&a);
    char d2[DIGEST_STR_LEN + 1];
    char cfgd[DIGEST_STR_LEN + 1];
    push_blob(&e, "del/me", "{}", 2, cfgd);
    char *other = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
                            "\"%s\",\"digest\":\"%s\",\"size\":2},\"layers\":[]}",
                            MT_OCI_MANIFEST, MT_OCI_CONFIG, cfgd);
    struct reg_put_result res;
    struct reg_error err;
    ASSERT_NE(registry_manifest_put(e.reg, "del/me", "v1", NULL, other, strlen(other), &res, &err),
              0);
    ASSERT_STREQ(err.code, "TAG_INVALID");
    r = ok(&e, "DescribeRepositories", "{\"repositoryNames\": [\"del/me\"]}", &a);
    ASSERT_STREQ(jstr(r, "repositories.0.imageTagMutability"), "IMMUTABLE");
    answer_release(&a);
    ok(&e, "PutImageTagMutability",
       "{\"repositoryName\": \"del/me\", \"imageTagMutability\": \"MUTABLE\"}", &a);
    answer_release(&a);
    ASSERT_EQ(registry_manifest_put(e.reg, "del/me", "v1", NULL, other, strlen(other), &res, &err),
              0);
    digest_of(other, strlen(other), d2);
    ASSERT_AWS_ERR(&e, "PutImageTagMutability",
                   "{\"repositoryName\": \"gone\", \"imageTagMutability\": \"MUTABLE\"}",
                   "RepositoryNotFoundException", NULL);
    ASSERT_AWS_ERR(&e, "PutImageTagMutability",
                   "{\"repositoryName\": \"del/me\", \"imageTagMutability\": \"mutable\"}",
                   "InvalidParameterException", NULL);

    r = ok(&e, "DeleteRepository", "{\"repositoryName\": \"del/me\", \"force\": true}", &a);
    ASSERT_STREQ(jstr(r, "repository.repositoryName"), "del/me");
    ASSERT_STREQ(jstr(r, "repository.repositoryArn"),
                 "arn:aws:ecr:" REGION ":" ACCT ":repository/del/me");
    answer_release(&a);
    struct reg_repo info;
    ASSERT_EQ(registry_repo_get(e.reg, "del/me", &info), -ENOENT);
    /* an empty repository goes without force; its settings row goes with it */
    create(&e, "empty");
    ok(&e, "DeleteRepository", "{\"repositoryName\": \"empty\"}", &a);
    answer_release(&a);
    r = ok(&e, "DescribeRepositories", "{}", &a);
    ASSERT_EQ(json_array_size(json_object_get(r, "repositories")), 0);
    answer_release(&a);
    struct meta_conn *c;
    ASSERT_EQ(meta_conn_get(e.db, &c), 0);
    sqlite3_stmt *st;
    ASSERT_EQ(meta_stmt(c, "SELECT count(*) FROM ecr_repo_settings", &st), 0);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    ASSERT_EQ(sqlite3_column_int(st, 0), 0);
    meta_done(st);
    free(m);
    free(other);
    env_free(&e);
}

/* ---- images ---- */

/* Three images in "img": A tagged latest+v1, B tagged v2, C untagged. */
struct three {
    char a[DIGEST_STR_LEN + 1], b[DIGEST_STR_LEN + 1], c[DIGEST_STR_LEN + 1];
    char *ma, *mb, *mc;
};

static void three_images(struct env *e, struct three *t)
{
    create(e, "img");
    t->ma = push_image(e, "img", "v1", "layer-a", t->a);
    tag_image(e, "img", "latest", t->ma);
    t->mb = push_image(e, "img", "v2", "layer-b", t->b);
    t->mc = push_image(e, "img", "v3", "layer-c", t->c);
    struct reg_error err;
    ASSERT_EQ(registry_manifest_delete(e->reg, "img", "v3", &err), 0); /* now untagged */
}

static void three_free(struct three *t)
{
    free(t->ma);
    free(t->mb);
    free(t->mc);
}

/* The imageIds of a ListImages answer as "digest-prefix:tag" items. */
static void ids_text(json_t *ids, const struct three *t, struct buf *out)
{
    for (size_t i = 0; i < json_array_size(ids); i++) {
        json_t *id = json_array_get(ids, i);
        const char *d = jstr(id, "imageDigest");
        const char *tag = jstr(id, "imageTag");
        const char *who = !d                     ? "?"
                          : strcmp(d, t->a) == 0 ? "A"
                          : strcmp(d, t->b) == 0 ? "B"
                          : strcmp(d, t->c) == 0 ? "C"
                                                 : "?";
        buf_printf(out, "%s:%s,", who, tag ? tag : "-");
    }
}

TEST(ecr_list_images_filters_and_pages)
{
    struct env e;
    env_open(&e);
    struct three t;
    three_images(&e, &t);
    struct answer a;
    struct buf s;
    buf_init(&s, 4096);
    json_t *r = ok(&e, "ListImages", "{\"repositoryName\": \"img\"}", &a);
    ids_text(json_object_get(r, "imageIds"), &t, &s);
    ASSERT_STREQ(buf_cstr(&s), "A:latest,A:v1,B:v2,C:-,");
    ASSERT_TRUE(json_object_get(r, "nextToken") == NULL);
    answer_release(&a);
    buf_reset(&s);
    r = ok(&e, "ListImages",
           "{\"repositoryName\": \"img\", \"filter\": {\"tagStatus\": \"TAGGED\"}}", &a);
    ids_text(json_object_get(r, "imageIds"), &t, &s);
    ASSERT_STREQ(buf_cstr(&s), "A:latest,A:v1,B:v2,");
    answer_release(&a);
    buf_reset(&s);
    r = ok(&e, "ListImages",
           "{\"repositoryName\": \"img\", \"filter\": {\"tagStatus\": \"UNTAGGED\"}}", &a);
    ids_text(json_object_get(r, "imageIds"), &t, &s);
    ASSERT_STREQ(buf_cstr(&s), "C:-,");
    answer_release(&a);

    /* one id per page: four pages, the same order */
    buf_reset(&s);
    char *token = NULL;
    int pages = 0;
    do {
        r = ok(&e, "ListImages",
               token ? fmt("{\"repositoryName\": \"img\", \"maxResults\": 1, \"nextToken\": "
                           "\"%s\"}",
                           token)
                     : "{\"repositoryName\": \"img\", \"maxResults\": 1}",
               &a);
        free(token);
        token = jstr(r, "nextToken") ? xstrdup(jstr(r, "nextToken")) : NULL;
        ids_text(json_object_get(r, "imageIds"), &t, &s);
        answer_release(&a);
        pages++;
    } while (token && pages < 10);
    ASSERT_EQ(pages, 4);
    ASSERT_STREQ(buf_cstr(&s), "A:latest,A:v1,B:v2,C:-,");

    /* a token is bound to its repository and filter */
    r = ok(&e, "ListImages", "{\"repositoryName\": \"img\", \"maxResults\": 2}", &a);
    token = xstrdup(jstr(r, "nextToken"));
    answer_release(&a);
    create(&e, "other");
    ASSERT_AWS_ERR(&e, "ListImages",
                   fmt("{\"repositoryName\": \"other\", \"nextToken\": \"%s\"}", token),
                   "InvalidParameterException", "Invalid NextToken");
    ASSERT_AWS_ERR(&e, "ListImages",
                   fmt("{\"repositoryName\": \"img\", \"nextToken\": \"%s\", \"filter\": "
                       "{\"tagStatus\": \"TAGGED\"}}",
                       token),
                   "InvalidParameterException", "Invalid NextToken");
    ASSERT_AWS_ERR(&e, "DescribeImages",
                   fmt("{\"repositoryName\": \"img\", \"nextToken\": \"%s\"}", token),
                   "InvalidParameterException", "Invalid NextToken");
    free(token);
    ASSERT_AWS_ERR(
        &e, "ListImages", "{\"repositoryName\": \"nope\"}", "RepositoryNotFoundException",
        "The repository with name 'nope' does not exist in the registry with id '" ACCT "'");
    ASSERT_AWS_ERR(&e, "ListImages",
                   "{\"repositoryName\": \"img\", \"filter\": {\"tagStatus\": "
                   "\"SOME\"}}",
                   "InvalidParameterException", NULL);
    r = ok(&e, "ListImages", "{\"repositoryName\": \"other\"}", &a);
    ASSERT_EQ(json_array_size(json_object_get(r, "imageIds")), 0);
    answer_release(&a);
    buf_release(&s);
    three_free(&t);
    env_free(&e);
}

TEST(ecr_describe_images_details)
{
    struct env e;
    env_open(&e);
    struct three t;
    three_images(&e, &t);
    struct answer a;
    json_t *r = ok(&e, "DescribeImages", "{\"repositoryName\": \"img\"}", &a);
    json_t *list = json_object_get(r, "imageDetails");
    ASSERT_EQ(json_array_size(list), 3);
    json_t *d = json_array_get(list, 0);
    ASSERT_STREQ(jstr(d, "registryId"), ACCT);
    ASSERT_STREQ(jstr(d, "repositoryName"), "img");
    ASSERT_STREQ(jstr(d, "imageDigest"), t.a);
    ASSERT_EQ(json_array_size(json_object_get(d, "imageTags")), 2);
    ASSERT_STREQ(jstr(d, "imageTags.0"), "latest");
    ASSERT_STREQ(jstr(d, "imageTags.1"), "v1");
    /* config + layer, as the manifest declares them */
    size_t config_len = strlen("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":"
                               "{\"type\":\"layers\",\"diff_ids\":[]},\"x\":\"layer-a\"}");
    ASSERT_EQ(json_integer_value(json_object_get(d, "imageSizeInBytes")),
              (long long)(config_len + strlen("layer-a")));
    /* pushed by the registry just now, on the real clock */
    json_int_t pushed = json_integer_value(json_object_get(d, "imagePushedAt"));
    ASSERT_TRUE(pushed >= (json_int_t)time(NULL) - 600 && pushed <= (json_int_t)time(NULL) + 5);
    ASSERT_STREQ(jstr(d, "imageManifestMediaType"), MT_DOCKER_MANIFEST);
    ASSERT_STREQ(jstr(d, "artifactMediaType"), MT_DOCKER_CONFIG);
    ASSERT_TRUE(json_object_get(d, "imageScanStatus") == NULL);
    ASSERT_TRUE(json_object_get(json_array_get(list, 2), "imageTags") == NULL);
    answer_release(&a);

    r = ok(&e, "DescribeImages",
           "{\"repositoryName\": \"img\", \"filter\": {\"tagStatus\": \"UNTAGGED\"}}", &a);
    ASSERT_EQ(json_array_size(json_object_get(r, "imageDetails")), 1);
    ASSERT_STREQ(jstr(r, "imageDetails.0.imageDigest"), t.c);
    answer_release(&a);

    /* pages of two */
    r = ok(&e, "DescribeImages", "{\"repositoryName\": \"img\", \"maxResults\": 2}", &a);
    ASSERT_EQ(json_array_size(json_object_get(r, "imageDetails")), 2);
    char *token = xstrdup(jstr(r, "nextToken"));
    answer_release(&a);
    r = ok(&e, "DescribeImages",
           fmt("{\"repositoryName\": \"img\", \"maxResults\": 2, \"nextToken\": \"%s\"}", token),
           &a);
    free(token);
    ASSERT_EQ(json_array_size(json_object_get(r, "imageDetails")), 1);
    ASSERT_STREQ(jstr(r, "imageDetails.0.imageDigest"), t.c);
    ASSERT_TRUE(json_object_get(r, "nextToken") == NULL);
    answer_release(&a);

    /* by id: a tag and the same image's digest give one detail */
    r = ok(&e, "DescribeImages",
           fmt("{\"repositoryName\": \"img\", \"imageIds\": [{\"imageTag\": \"v1\"}, "
               "{\"imageDigest\": \"%s\"}, {\"imageTag\": \"v2\"}]}",
               t.a),
           &a);
    ASSERT_EQ(json_array_size(json_object_get(r, "imageDetails")), 2);
    ASSERT_STREQ(jstr(r, "imageDetails.0.imageDigest"), t.a);
    ASSERT_STREQ(jstr(r, "imageDetails.1.imageDigest"), t.b);
    answer_release(&a);
    ASSERT_AWS_ERR(&e, "DescribeImages",
                   "{\"repositoryName\": \"img\", \"imageIds\": [{\"imageTag\": \"nope\"}]}",
                   "ImageNotFoundException",
                   "The image with imageId {imageDigest:'null', imageTag:'nope'} does not exist "
                   "within the repository with name 'img' in the registry with id '" ACCT "'");
    ASSERT_AWS_ERR(&e, "DescribeImages",
                   fmt("{\"repositoryName\": \"img\", \"imageIds\": [{\"imageTag\": \"v2\", "
                       "\"imageDigest\": \"%s\"}]}",
                       t.a),
                   "ImageNotFoundException",
                   fmt("The image with imageId {imageDigest:'%s', imageTag:'v2'} does not exist "
                       "within the repository with name 'img' in the registry with id '" ACCT "'",
                       t.a));
    ASSERT_AWS_ERR(&e, "DescribeImages",
                   "{\"repositoryName\": \"img\", \"imageIds\": [{\"imageTag\": \"v1\"}], "
                   "\"maxResults\": 5}",
                   "InvalidParameterException", NULL);
    ASSERT_AWS_ERR(&e, "DescribeImages",
                   "{\"repositoryName\": \"img\", \"imageIds\": [{\"imageDigest\": \"sha256\"}]}",
                   "InvalidParameterException", NULL);
    ASSERT_AWS_ERR(&e, "DescribeImages", "{\"repositoryName\": \"img\", \"imageIds\": []}",
                   "InvalidParameterException", NULL);
    three_free(&t);
    env_free(&e);
}

TEST(ecr_describe_images_index_size)
{
    struct env e;
    env_open(&e);
    create(&e, "multi");
    char d1[DIGEST_STR_LEN + 1], d2[DIGEST_STR_LEN + 1];
    char *m1 = push_image(&e, "multi", "amd64", "small", d1);
    char *m2 = push_image(&e, "multi", "arm64", "a-much-larger-layer", d2);
    char *idx = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":["
                          "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
                          "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
                          "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
                          "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}}]}",
                          MT_OCI_INDEX, MT_DOCKER_MANIFEST, d1, strlen(m1), MT_DOCKER_MANIFEST, d2,
                          strlen(m2));
    struct reg_put_result res;
    struct reg_error err;
    ASSERT_EQ(registry_manifest_put(e.reg, "multi", "latest", NULL, idx, strlen(idx), &res, &err),
              0);
    struct answer a;
    json_t *r = ok(&e, "DescribeImages",
                   "{\"repositoryName\": \"multi\", \"imageIds\": [{\"imageTag\": \"latest\"}, "
                   "{\"imageTag\": \"arm64\"}]}",
                   &a);
    json_t *big = jget(r, "imageDetails.1.imageSizeInBytes");
    ASSERT_TRUE(json_integer_value(big) > 0);
    ASSERT_EQ(json_integer_value(jget(r, "imageDetails.0.imageSizeInBytes")),
              json_integer_value(big));
    ASSERT_STREQ(jstr(r, "imageDetails.0.imageManifestMediaType"), MT_OCI_INDEX);
    ASSERT_TRUE(jget(r, "imageDetails.0.artifactMediaType") == NULL);
    answer_release(&a);

    /* a manifest the index lists cannot be deleted while the index stays */
    r = ok(&e, "BatchDeleteImage",
           fmt("{\"repositoryName\": \"multi\", \"imageIds\": [{\"imageDigest\": \"%s\"}]}", d1),
           &a);
    ASSERT_EQ(json_array_size(json_object_get(r, "imageIds")), 0);
    ASSERT_STREQ(jstr(r, "failures.0.failureCode"), "ImageReferencedByManifestList");
    ASSERT_STREQ(jstr(r, "failures.0.failureReason"),
                 fmt("Requested image referenced by manifest list: [%s]", res.digest));
    answer_release(&a);
    /* with the index in the same batch, both go */
    r = ok(&e, "BatchDeleteImage",
           fmt("{\"repositoryName\": \"multi\", \"imageIds\": [{\"imageDigest\": \"%s\"}, "
               "{\"imageDigest\": \"%s\"}]}",
               d1, res.digest),
           &a);
    ASSERT_EQ(json_array_size(json_object_get(r, "failures")), 0);
    ASSERT_EQ(json_array_size(json_object_get(r, "imageIds")), 2);
    answer_release(&a);
    free(m1);
    free(m2);
    free(idx);
    env_free(&e);
}

TEST(ecr_batch_get_image_exact_manifest)
{
    struct env e;
    env_open(&e);
    struct three t;
    three_images(&e, &t);
    struct answer a;
    json_t *r = ok(&e, "BatchGetImage",
                   fmt("{\"repositoryName\": \"img\", \"imageIds\": [{\"imageTag\": \"v1\"}, "
                       "{\"imageDigest\": \"%s\"}, {\"imageTag\": \"nope\"}, {}, "
                       "{\"imageDigest\": \"bad digest\"}, "
                       "{\"imageTag\": \"v2\", \"imageDigest\": \"%s\"}]}",
                       t.c, t.a),
                   &a);
    json_t *images = json_object_get(r, "images");
    ASSERT_EQ(json_array_size(images), 2);
    ASSERT_STREQ(jstr(images, "0.imageManifest"), t.ma); /* byte for byte, whitespace too */
    ASSERT_STREQ(jstr(images, "0.imageId.imageTag"), "v1");
    ASSERT_STREQ(jstr(images, "0.imageId.imageDigest"), t.a);
    ASSERT_STREQ(jstr(images, "0.imageManifestMediaType"), MT_DOCKER_MANIFEST);
    ASSERT_STREQ(jstr(images, "0.registryId"), ACCT);
    ASSERT_STREQ(jstr(images, "1.imageManifest"), t.mc);
    ASSERT_TRUE(jget(images, "1.imageId.imageTag") == NULL);
    json_t *f = json_object_get(r, "failures");
    ASSERT_EQ(json_array_size(f), 4);
    ASSERT_STREQ(jstr(f, "0.failureCode"), "ImageNotFound");
    ASSERT_STREQ(jstr(f, "0.failureReason"), "Requested image not found");
    ASSERT_STREQ(jstr(f, "0.imageId.imageTag"), "nope");
    ASSERT_STREQ(jstr(f, "1.failureCode"), "MissingDigestAndTag");
    ASSERT_STREQ(jstr(f, "1.failureReason"),
                 "Invalid request parameters: both tag and digest cannot be null");
    ASSERT_STREQ(jstr(f, "2.failureCode"), "InvalidImageDigest");
    ASSERT_STREQ(jstr(f, "2.failureReason"),
                 "Invalid request parameters: image digest should satisfy the regex "
                 "'[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'");
    ASSERT_STREQ(jstr(f, "3.failureCode"), "ImageTagDoesNotMatchDigest");
    ASSERT_STREQ(jstr(f, "3.failureReason"),
                 "Invalid request parameters: given tag does not map to the given digest");
    ASSERT_STREQ(jstr(f, "3.imageId.imageTag"), "v2");
    answer_release(&a);

    /* acceptedMediaTypes */
    r = ok(&e, "BatchGetImage",
           "{\"repositoryName\": \"img\", \"imageIds\": [{\"imageTag\": \"v1\"}], "
           "\"acceptedMediaTypes\": [\"application/vnd.oci.image.manifest.v1+json\"]}",
           &a);
    ASSERT_EQ(json_array_size(json_object_get(r, "images")), 0);
    ASSERT_STREQ(jstr(r, "failures.0.failureCode"), "ImageNotFound");
    answer_release(&a);
    r = ok(&e, "BatchGetImage",
           "{\"repositoryName\": \"img\", \"imageIds\": [{\"imageTag\": \"v1\"}], "
           "\"acceptedMediaTypes\": [\"application/vnd.oci.image.manifest.v1+json\", "
           "\"application/vnd.docker.distribution.manifest.v2+json\"]}",
           &a);
    ASSERT_EQ(json_array_size(json_object_get(r, "images")), 1);
    answer_release(&a);
    ASSERT_AWS_ERR(&e, "BatchGetImage",
                   "{\"repositoryName\": \"nope\", \"imageIds\": [{\"imageTag\": \"v1\"}]}",
                   "RepositoryNotFoundException", NULL);
    ASSERT_AWS_ERR(&e, "BatchGetImage", "{\"repositoryName\": \"img\", \"imageIds\": []}",
                   "InvalidParameterException", NULL);
    ASSERT_AWS_ERR(&e, "BatchGetImage", "{\"repositoryName\": \"img\"}",
                   "InvalidParameterException", NULL);
    three_free(&t);
    env_free(&e);
}

TEST(ecr_batch_delete_image_rules)
{
    struct env e;
    env_open(&e);
    struct three t;
    three_images(&e, &t);
    tag_image(&e, "img", "v2b", t.mb);
    struct answer a;
    struct buf s;
    buf_init(&s, 4096);

    /* one of A's two tags: A stays with the other */
    json_t *r = ok(&e, "BatchDeleteImage",
                   "{\"repositoryName\": \"img\", \"imageIds\": [{\"imageTag\": \"latest\"}]}", &a);
    ids_text(json_object_get(r, "imageIds"), &t, &s);
    ASSERT_STREQ(buf_cstr(&s), "A:latest,");
    ASSERT_EQ(json_array_size(json_object_get(r, "failures")), 0);
    answer_release(&a);
    /* A's last tag: the image goes (ECR's rule) */
    r = ok(&e, "BatchDeleteImage",
           "{\"repositoryName\": \"img\", \"imageIds\": [{\"imageTag\": \"v1\"}]}", &a);
    answer_release(&a);
    buf_reset(&s);
    r = ok(&e, "ListImages", "{\"repositoryName\": \"img\"}", &a);
    ids_text(json_object_get(r, "imageIds"), &t, &s);
    ASSERT_STREQ(buf_cstr(&s), "B:v2,B:v2b,C:-,");
    answer_release(&a);

    /* by digest with a tag as well, and failures kept apart */
    buf_reset(&s);
    r = ok(&e, "BatchDeleteImage",
           fmt("{\"repositoryName\": \"img\", \"imageIds\": [{\"imageDigest\": \"%s\"}, "
               "{\"imageTag\": \"v2\"}, {\"imageTag\": \"gone\"}, {\"imageTag\": \"v2b\", "
               "\"imageDigest\": \"%s\"}, {}]}",
               t.b, t.c),
           &a);
    ids_text(json_object_get(r, "imageIds"), &t, &s);
    ASSERT_STREQ(buf_cstr(&s), "B:v2,B:v2b,");
    json_t *f = json_object_get(r, "failures");
    ASSERT_EQ(json_array_size(f), 3);
    ASSERT_STREQ(jstr(f, "0.failureCode"), "ImageNotFound");
    ASSERT_STREQ(jstr(f, "0.imageId.imageTag"), "gone");
    ASSERT_STREQ(jstr(f, "1.failureCode"), "ImageTagDoesNotMatchDigest");
    ASSERT_STREQ(jstr(f, "2.failureCode"), "MissingDigestAndTag");
    answer_release(&a);

    /* the untagged image by digest */
    buf_reset(&s);
    r = ok(&e, "BatchDeleteImage",
           fmt("{\"repositoryName\": \"img\", \"imageIds\": [{\"imageDigest\": \"%s\"}]}", t.c),
           &a);
    ids_text(json_object_get(r, "imageIds"), &t, &s);
    ASSERT_STREQ(buf_cstr(&s), "C:-,");
    answer_release(&a);
    r = ok(&e, "ListImages", "{\"repositoryName\": \"img\"}", &a);
    ASSERT_EQ(json_array_size(json_object_get(r, "imageIds")), 0);
    answer_release(&a);
    /* now the repository is empty and may go without force */
    ok(&e, "DeleteRepository", "{\"repositoryName\": \"img\"}", &a);
    answer_release(&a);
    ASSERT_AWS_ERR(&e, "BatchDeleteImage",
                   "{\"repositoryName\": \"img\", \"imageIds\": [{\"imageTag\": \"x\"}]}",
                   "RepositoryNotFoundException", NULL);
    buf_release(&s);
    three_free(&t);
    env_free(&e);
}

/* ---- login ---- */

TEST(ecr_get_authorization_token)
{
    struct env e;
    env_open(&e);
    struct answer a;
    json_t *r = ok(&e, "GetAuthorizationToken", "{}", &a);
    json_t *list = json_object_get(r, "authorizationData");
    ASSERT_EQ(json_array_size(list), 1);
    ASSERT_STREQ(jstr(list, "0.proxyEndpoint"), "http://" HOST);
    ASSERT_EQ(json_integer_value(jget(list, "0.expiresAt")), e.now + 3600);
    const char *tok = jstr(list, "0.authorizationToken");
    struct buf dec;
    buf_init(&dec, 8192);
    ASSERT_EQ(b64_decode(str_from(tok), B64_STD, &dec), 0);
    ASSERT_TRUE(strncmp(buf_cstr(&dec), "AWS:", 4) == 0);
    /* the registry accepts it as Basic credentials until it expires */
    char *basic = xasprintf("Basic %s", tok);
    struct arena ar;
    arena_init(&ar);
    const char *who = NULL;
    ASSERT_EQ(reg_auth_check(e.auth, basic, e.now + 10, &ar, &who), 0);
    ASSERT_STREQ(who, "AKIDTEST");
    ASSERT_EQ(reg_auth_check(e.auth, basic, e.now + 3601, &ar, &who), -ERR_UNAUTHORIZED);
    /* one changed character of the password is refused */
    char *forged = xstrdup(buf_cstr(&dec));
    size_t n = strlen(forged);
    forged[n - 2] = forged[n - 2] == 'A' ? 'B' : 'A';
    struct buf enc;
    buf_init(&enc, 8192);
    b64_encode(forged, n, B64_STD, &enc);
    char *bad = xasprintf("Basic %s", buf_cstr(&enc));
    ASSERT_EQ(reg_auth_check(e.auth, bad, e.now + 10, &ar, &who), -ERR_UNAUTHORIZED);
    answer_release(&a);

    r = ok(&e, "GetAuthorizationToken", "{\"registryIds\": [\"" ACCT "\", \"" ACCT "\"]}", &a);
    ASSERT_EQ(json_array_size(json_object_get(r, "authorizationData")), 2);
    answer_release(&a);
    ASSERT_AWS_ERR(&e, "GetAuthorizationToken", "{\"registryIds\": [\"111111111111\"]}",
                   "InvalidParameterException", NULL);
    ASSERT_AWS_ERR(&e, "GetAuthorizationToken", "{\"registryIds\": [\"12\"]}",
                   "InvalidParameterException", NULL);
    arena_release(&ar);
    free(basic);
    free(bad);
    free(forged);
    buf_release(&dec);
    buf_release(&enc);
    env_free(&e);
}

/* ---- the wire around the handlers ---- */

TEST(ecr_bodies_the_dispatcher_refuses)
{
    struct env e;
    env_open(&e);
    struct answer a;
    call_raw(&e, TARGET "CreateRepository", "not json", &a);
    ASSERT_EQ(a.status, 400);
    ASSERT_STREQ(jstr(a.body, "__type"), "SerializationException");
    answer_release(&a);
    call_raw(&e, TARGET "CreateRepository", "{\"repositoryName\": 7}", &a);
    ASSERT_EQ(a.status, 400);
    ASSERT_STREQ(jstr(a.body, "__type"), "SerializationException");
    answer_release(&a);
    call_raw(&e, TARGET "CreateRepository", "{}", &a);
    ASSERT_EQ(a.status, 400);
    ASSERT_STREQ(jstr(a.body, "__type"), "InvalidParameterException");
    answer_release(&a);
    call_raw(&e, TARGET "PutImage", "{}", &a); /* modelled, not served */
    ASSERT_EQ(a.status, 400);
    ASSERT_STREQ(jstr(a.body, "__type"), "UnknownOperationException");
    answer_release(&a);
    call_raw(&e, "AmazonEC2ContainerRegistry_V20150922.ListImages", "{}", &a);
    ASSERT_STREQ(jstr(a.body, "__type"), "UnknownOperationException");
    answer_release(&a);
    /* the scanning operations need a scan service */
    call_raw(&e, TARGET "StartImageScan", "{}", &a);
    ASSERT_STREQ(jstr(a.body, "__type"), "UnknownOperationException");
    answer_release(&a);
    /* registering twice is refused */
    ASSERT_EQ(ecr_api_register(e.ecr, e.router), -EEXIST);
    env_free(&e);
}

/* ---- scanning ---- */

/* Debian 12 advisories for the packages of the image below (invented ids). */
static const char *const osv_records[] = {
    /* openssh: fixed, rated high by Debian */
    "{\"id\":\"CVE-2099-0101\",\"modified\":\"2025-01-01T00:00:00Z\",\"published\":"
    "\"2024-12-01T00:00:00Z\",\"details\":\"First openssh issue.\",\"affected\":[{\"package\":"
    "{\"ecosystem\":\"Debian:12\",\"name\":\"openssh\"},\"ranges\":[{\"type\":\"ECOSYSTEM\","
    "\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1:9.2p1-2+deb12u3\"}]}],"
    "\"ecosystem_specific\":{\"urgency\":\"high\"}}]}",
    /* openssh: no fix, CVSS 9.8 */
    "{\"id\":\"CVE-2099-0102\",\"modified\":\"2025-01-01T00:00:00Z\",\"published\":"
    "\"2024-12-01T00:00:00Z\",\"details\":\"Second openssh issue.\",\"severity\":[{\"type\":"
    "\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}],\"affected\":[{"
    "\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"openssh\"},\"ranges\":[{\"type\":"
    "\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}]}]}]}",
    /* zlib: fixed, medium */
    "{\"id\":\"CVE-2099-0103\",\"modified\":\"2025-01-01T00:00:00Z\",\"published\":"
    "\"2024-12-01T00:00:00Z\",\"details\":\"A zlib issue.\",\"affected\":[{\"package\":{"
    "\"ecosystem\":\"Debian:12\",\"name\":\"zlib\"},\"ranges\":[{\"type\":\"ECOSYSTEM\","
    "\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1:1.2.13.dfsg-2\"}]}],"
    "\"ecosystem_specific\":{\"urgency\":\"medium\"}}]}",
    /* a package the image does not have */
    "{\"id\":\"CVE-2099-0104\",\"modified\":\"2025-01-01T00:00:00Z\",\"published\":"
    "\"2024-12-01T00:00:00Z\",\"details\":\"Elsewhere.\",\"affected\":[{\"package\":{"
    "\"ecosystem\":\"Debian:12\",\"name\":\"nginx\"},\"ranges\":[{\"type\":\"ECOSYSTEM\","
    "\"events\":[{\"introduced\":\"0\"}]}]}]}",
};

static void open_scan_service(struct env *e)
{
    e->vdb = xasprintf("%s/vulndb.sqlite", e->dir);
    char *src = xasprintf("%s/debian.jsonl", e->dir);
    FILE *f = fopen(src, "w");
    ASSERT_TRUE(f != NULL);
    for (size_t i = 0; i < ARRAY_SIZE(osv_records); i++)
        fprintf(f, "%s\n", osv_records[i]);
    ASSERT_EQ(fclose(f), 0);
    char *paths[] = { src };
    struct import_opts o = { .max_warnings = 1 };
    struct import_stats st;
    struct diag d = { 0 };
    enum log_level saved = log_threshold;
    log_set_level(LOG_ERROR);
    int rc = vulndb_import(e->vdb, paths, 1, &o, &st, &d);
    log_set_level(saved);
    if (rc)
        test_fail(__FILE__, __LINE__, "import: %s", d.msg);
    free(src);
    struct scan_service_config sc;
    scan_service_config_init(&sc);
    sc.db = e->db;
    sc.blobs = e->bs;
    sc.vulndb_path = e->vdb;
    sc.workers = -1; /* the test runs the queue itself */
    sc.rescan_poll_s = -1;
    sc.account_id = ACCT;
    sc.region = REGION;
    sc.now = fake_now;
    sc.now_ctx = e;
    ASSERT_EQ(scan_service_new(&sc, &e->svc, &d), 0);
    ASSERT_EQ(scan_service_start(e->svc), 0);
}

/* Append one regular file to a tar archive (ustar). */
static void tar_file(struct buf *out, const char *name, const char *content)
{
    char h[512];
    memset(h, 0, sizeof(h));
    size_t n = strlen(content);
    snprintf(h, 100, "%s", name);
    snprintf(h + 100, 8, "%07o", 0644u);
    snprintf(h + 108, 8, "%07o", 0u);
    snprintf(h + 116, 8, "%07o", 0u);
    snprintf(h + 124, 12, "%011o", (unsigned)n);
    snprintf(h + 136, 12, "%011o", 1700000000u);
    h[156] = '0';
    memcpy(h + 257,
           "ustar\0"
           "00",
           8);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < sizeof(h); i++)
        sum += (unsigned char)h[i];
    snprintf(h + 148, 8, "%06o", sum & 0777777u);
    buf_append(out, h, sizeof(h));
    buf_append(out, content, n);
    static const char zeros[512];
    buf_append(out, zeros, (512 - n % 512) % 512);
}

/* A Debian 12 image with openssh-client, zlib1g and libfoo installed, one uncompressed layer.
 * `salt` makes the image unique. Returns the manifest (owned); digest in *digest. */
static char *push_debian(struct env *e, const char *repo, const char *tag, const char *salt,
                         char *digest)
{
    struct buf tar;
    buf_init(&tar, 1 << 20);
    tar_file(&tar, "etc/os-release",
             "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n");
    tar_file(&tar, "var/lib/dpkg/status",
             "Package: openssh-client\nStatus: install ok installed\nArchitecture: amd64\n"
             "Source: openssh\nVersion: 1:9.2p1-2\n\n"
             "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\n"
             "Source: zlib\nVersion: 1:1.2.13.dfsg-1\n\n"
             "Package: libfoo\nStatus: install ok installed\nArchitecture: amd64\n"
             "Version: 1.0-1\n");
    tar_file(&tar, "etc/salt", salt);
    static const char end[1024];
    buf_append(&tar, end, sizeof(end));
    char layd[DIGEST_STR_LEN + 1], cfgd[DIGEST_STR_LEN + 1];
    push_blob(e, repo, tar.data, tar.len, layd);
    char *config = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                             "\"layers\",\"diff_ids\":[\"%s\"]}}",
                             layd);
    push_blob(e, repo, config, strlen(config), cfgd);
    char *m = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
                        "\"%s\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
                        "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\","
                        "\"size\":%zu}]}",
                        MT_OCI_MANIFEST, MT_OCI_CONFIG, cfgd, strlen(config), layd, tar.len);
    struct reg_put_result res;
    struct reg_error err;
    if (registry_manifest_put(e->reg, repo, tag, NULL, m, strlen(m), &res, &err) != 0)
        test_fail(__FILE__, __LINE__, "manifest put: %s %s", err.code, err.message);
    snprintf(digest, DIGEST_STR_LEN + 1, "%s", res.digest);
    free(config);
    buf_release(&tar);
    return m;
}

static size_t run_scans(struct env *e)
{
    size_t ran = 0;
    ASSERT_EQ(scan_service_run_pending(e->svc, 0, &ran), 0);
    return ran;
}

TEST(ecr_scan_manual_findings_pages)
{
    struct env e;
    env_open_full(&e, NULL, true);
    create(&e, "deb");
    char d[DIGEST_STR_LEN + 1];
    char *m = push_debian(&e, "deb", "v1", "1", d);
    ASSERT_EQ(run_scans(&e), 0); /* not scan-on-push: nothing queued */

    ASSERT_AWS_ERR(&e, "DescribeImageScanFindings",
                   "{\"repositoryName\": \"deb\", \"imageId\": {\"imageTag\": \"v1\"}}",
                   "ScanNotFoundException",
                   "Image scan does not exist for the image with '{imageDigest:'null', "
                   "imageTag:'v1'}' in the repository with name 'deb' in the registry with id "
                   "'" ACCT "'");
    struct answer a;
    json_t *r = ok(&e, "StartImageScan",
                   "{\"repositoryName\": \"deb\", \"imageId\": {\"imageTag\": \"v1\"}}", &a);
    ASSERT_STREQ(jstr(r, "registryId"), ACCT);
    ASSERT_STREQ(jstr(r, "repositoryName"), "deb");
    ASSERT_STREQ(jstr(r, "imageId.imageDigest"), d);
    ASSERT_STREQ(jstr(r, "imageId.imageTag"), "v1");
    ASSERT_STREQ(jstr(r, "imageScanStatus.status"), "IN_PROGRESS");
    answer_release(&a);
    /* queued, not run yet: the waiter keeps polling */
    r = ok(&e, "DescribeImageScanFindings",
           fmt("{\"repositoryName\": \"deb\", \"imageId\": {\"imageDigest\": \"%s\"}}", d), &a);
    ASSERT_STREQ(jstr(r, "imageScanStatus.status"), "IN_PROGRESS");
    ASSERT_TRUE(jget(r, "imageScanFindings") == NULL);
    answer_release(&a);
    /* once a day per image */
    ASSERT_AWS_ERR(&e, "StartImageScan",
                   fmt("{\"repositoryName\": \"deb\", \"imageId\": {\"imageDigest\": \"%s\"}}", d),
                   "LimitExceededException",
                   "The scan quota per image has been exceeded. Wait and try again.");
    ASSERT_EQ(run_scans(&e), 1);

    r = ok(&e, "DescribeImageScanFindings",
           "{\"repositoryName\": \"deb\", \"imageId\": {\"imageTag\": \"v1\"}}", &a);
    ASSERT_STREQ(jstr(r, "imageScanStatus.status"), "COMPLETE");
    ASSERT_STREQ(jstr(r, "imageId.imageDigest"), d);
    json_t *f = jget(r, "imageScanFindings.findings");
    ASSERT_EQ(json_array_size(f), 3);
    ASSERT_STREQ(jstr(f, "0.name"), "CVE-2099-0102");
    ASSERT_STREQ(jstr(f, "0.severity"), "CRITICAL");
    ASSERT_TRUE(strstr(jstr(f, "0.uri"), "CVE-2099-0102") != NULL);
    ASSERT_STREQ(jstr(f, "1.name"), "CVE-2099-0101");
    ASSERT_STREQ(jstr(f, "1.severity"), "HIGH");
    ASSERT_STREQ(jstr(f, "2.name"), "CVE-2099-0103");
    ASSERT_STREQ(jstr(f, "2.severity"), "MEDIUM");
    json_t *counts = jget(r, "imageScanFindings.findingSeverityCounts");
    ASSERT_EQ(json_object_size(counts), 3);
    ASSERT_EQ(json_integer_value(json_object_get(counts, "CRITICAL")), 1);
    ASSERT_TRUE(json_is_number(jget(r, "imageScanFindings.imageScanCompletedAt")));
    ASSERT_TRUE(jget(r, "nextToken") == NULL);
    answer_release(&a);

    /* two pages of two: counts cover the whole scan on each */
    r = ok(&e, "DescribeImageScanFindings",
           "{\"repositoryName\": \"deb\", \"imageId\": {\"imageTag\": \"v1\"}, \"maxResults\": 2}",
           &a);
    ASSERT_EQ(json_array_size(jget(r, "imageScanFindings.findings")), 2);
    ASSERT_EQ(json_object_size(jget(r, "imageScanFindings.findingSeverityCounts")), 3);
    char *token = xstrdup(jstr(r, "nextToken"));
    answer_release(&a);
    r = ok(&e, "DescribeImageScanFindings",
           fmt("{\"repositoryName\": \"deb\", \"imageId\": {\"imageTag\": \"v1\"}, "
               "\"maxResults\": 2, \"nextToken\": \"%s\"}",
               token),
           &a);
    ASSERT_EQ(json_array_size(jget(r, "imageScanFindings.findings")), 1);
    ASSERT_STREQ(jstr(r, "imageScanFindings.findings.0.name"), "CVE-2099-0103");
    ASSERT_TRUE(jget(r, "nextToken") == NULL);
    answer_release(&a);
    /* a token belongs to its image */
    char d2[DIGEST_STR_LEN + 1];
    char *m2 = push_debian(&e, "deb", "v2", "2", d2);
    ASSERT_AWS_ERR(&e, "DescribeImageScanFindings",
                   fmt("{\"repositoryName\": \"deb\", \"imageId\": {\"imageTag\": \"v2\"}, "
                       "\"nextToken\": \"%s\"}",
                       token),
                   "InvalidParameterException", "Invalid NextToken");
    free(token);

    /* DescribeImages reports the scan */
    r = ok(&e, "DescribeImages",
           "{\"repositoryName\": \"deb\", \"imageIds\": [{\"imageTag\": \"v1\"}, {\"imageTag\": "
           "\"v2\"}]}",
           &a);
    ASSERT_STREQ(jstr(r, "imageDetails.0.imageScanStatus.status"), "COMPLETE");
    ASSERT_EQ(json_integer_value(
                  jget(r, "imageDetails.0.imageScanFindingsSummary.findingSeverityCounts.HIGH")),
              1);
    ASSERT_TRUE(jget(r, "imageDetails.1.imageScanStatus") == NULL); /* never scanned */
    answer_release(&a);

    /* errors */
    ASSERT_AWS_ERR(&e, "StartImageScan",
                   "{\"repositoryName\": \"deb\", \"imageId\": {\"imageTag\": \"v9\"}}",
                   "ImageNotFoundException",
                   "The image with imageId {imageDigest:'null', imageTag:'v9'} does not exist "
                   "within the repository with name 'deb' in the registry with id '" ACCT "'");
    ASSERT_AWS_ERR(&e, "StartImageScan",
                   "{\"repositoryName\": \"nodeb\", \"imageId\": {\"imageTag\": \"v1\"}}",
                   "RepositoryNotFoundException", NULL);
    ASSERT_AWS_ERR(&e, "StartImageScan", "{\"repositoryName\": \"deb\", \"imageId\": {}}",
                   "InvalidParameterException", NULL);
    ASSERT_AWS_ERR(&e, "DescribeImageScanFindings",
                   fmt("{\"repositoryName\": \"deb\", \"imageId\": {\"imageTag\": \"v1\", "
                       "\"imageDigest\": \"%s\"}}",
                       d2),
                   "ImageNotFoundException", NULL);
    ASSERT_AWS_ERR(&e, "DescribeImageScanFindings",
                   "{\"repositoryName\": \"deb\", \"imageId\": {\"imageTag\": \"v1\"}, "
                   "\"maxResults\": 1001}",
                   "InvalidParameterException", NULL);
    /* an index is not an image ECR scans */
    char *idx = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{\"mediaType\":"
                          "\"%s\",\"digest\":\"%s\",\"size\":%zu,\"platform\":{\"architecture\":"
                          "\"amd64\",\"os\":\"linux\"}}]}",
                          MT_OCI_INDEX, MT_OCI_MANIFEST, d, strlen(m));
    struct reg_put_result res;
    struct reg_error err;
    ASSERT_EQ(registry_manifest_put(e.reg, "deb", "multi", NULL, idx, strlen(idx), &res, &err), 0);
    ASSERT_AWS_ERR(&e, "StartImageScan",
                   "{\"repositoryName\": \"deb\", \"imageId\": {\"imageTag\": \"multi\"}}",
                   "UnsupportedImageTypeException", NULL);
    free(idx);
    /* a new day: the image may be scanned again */
    e.now += 86400 + 1;
    r = ok(&e, "StartImageScan",
           "{\"repositoryName\": \"deb\", \"imageId\": {\"imageTag\": \"v1\"}}", &a);
    ASSERT_STREQ(jstr(r, "imageScanStatus.status"), "IN_PROGRESS");
    answer_release(&a);
    free(m);
    free(m2);
    env_free(&e);
}

TEST(ecr_scan_on_push_and_configuration)
{
    struct env e;
    env_open_full(&e, NULL, true);
    struct answer a;
    json_t *r = ok(&e, "GetRegistryScanningConfiguration", "{}", &a);
    ASSERT_STREQ(jstr(r, "registryId"), ACCT);
    ASSERT_STREQ(jstr(r, "scanningConfiguration.scanType"), "BASIC");
    ASSERT_EQ(json_array_size(jget(r, "scanningConfiguration.rules")), 0);
    answer_release(&a);

    /* the repository flag: CreateRepository and PutImageScanningConfiguration */
    ok(&e, "CreateRepository",
       "{\"repositoryName\": \"sop\", \"imageScanningConfiguration\": {\"scanOnPush\": true}}", &a);
    answer_release(&a);
    char d[DIGEST_STR_LEN + 1];
    free(push_debian(&e, "sop", "v1", "1", d));
    ASSERT_EQ(run_scans(&e), 1);
    r = ok(&e, "DescribeImageScanFindings",
           "{\"repositoryName\": \"sop\", \"imageId\": {\"imageTag\": \"v1\"}}", &a);
    ASSERT_STREQ(jstr(r, "imageScanStatus.status"), "COMPLETE");
    answer_release(&a);
    create(&e, "later");
    r = ok(&e, "PutImageScanningConfiguration",
           "{\"repositoryName\": \"later\", \"imageScanningConfiguration\": {\"scanOnPush\": "
           "true}}",
           &a);
    ASSERT_STREQ(jstr(r, "registryId"), ACCT);
    ASSERT_STREQ(jstr(r, "repositoryName"), "later");
    ASSERT_TRUE(json_is_true(jget(r, "imageScanningConfiguration.scanOnPush")));
    answer_release(&a);
    r = ok(&e, "DescribeRepositories", "{\"repositoryNames\": [\"later\"]}", &a);
    ASSERT_TRUE(json_is_true(jget(r, "repositories.0.imageScanningConfiguration.scanOnPush")));
    answer_release(&a);
    free(push_debian(&e, "later", "v1", "2", d));
    ASSERT_EQ(run_scans(&e), 1);
    ASSERT_AWS_ERR(
        &e, "PutImageScanningConfiguration",
        "{\"repositoryName\": \"nope\", \"imageScanningConfiguration\": {\"scanOnPush\": "
        "true}}",
        "RepositoryNotFoundException", NULL);

    /* registry rules */
    ASSERT_AWS_ERR(&e, "PutRegistryScanningConfiguration",
                   "{\"scanType\": \"BASIC\", \"rules\": [{\"scanFrequency\": \"CONTINUOUS_SCAN\", "
                   "\"repositoryFilters\": [{\"filter\": \"x\", \"filterType\": \"WILDCARD\"}]}]}",
                   "InvalidParameterException", NULL);
    ASSERT_AWS_ERR(&e, "PutRegistryScanningConfiguration",
                   "{\"scanType\": \"BASIC\", \"rules\": [{\"scanFrequency\": \"SCAN_ON_PUSH\", "
                   "\"repositoryFilters\": [{\"filter\": \"Bad Filter\", \"filterType\": "
                   "\"WILDCARD\"}]}]}",
                   "InvalidParameterException", NULL);
    ASSERT_AWS_ERR(&e, "PutRegistryScanningConfiguration", "{\"scanType\": \"SOMETIMES\"}",
                   "InvalidParameterException", NULL);
    r = ok(&e, "PutRegistryScanningConfiguration",
           "{\"scanType\": \"ENHANCED\", \"rules\": [{\"scanFrequency\": \"CONTINUOUS_SCAN\", "
           "\"repositoryFilters\": [{\"filter\": \"enh*\", \"filterType\": \"WILDCARD\"}]}]}",
           &a);
    ASSERT_STREQ(jstr(r, "registryScanningConfiguration.scanType"), "ENHANCED");
    ASSERT_STREQ(jstr(r, "registryScanningConfiguration.rules.0.scanFrequency"), "CONTINUOUS_SCAN");
    ASSERT_STREQ(jstr(r, "registryScanningConfiguration.rules.0.repositoryFilters.0.filter"),
                 "enh*");
    json_t *put = json_deep_copy(jget(r, "registryScanningConfiguration"));
    answer_release(&a);
    r = ok(&e, "GetRegistryScanningConfiguration", "{}", &a);
    ASSERT_TRUE(json_equal(jget(r, "scanningConfiguration"), put));
    json_decref(put);
    answer_release(&a);
    run_scans(&e); /* the existing images of matching repositories (none here) */

    /* ENHANCED: one finding per vulnerability, Inspector's shape */
    create(&e, "enh-app");
    free(push_debian(&e, "enh-app", "v1", "3", d));
    r = ok(&e, "DescribeImageScanFindings",
           "{\"repositoryName\": \"enh-app\", \"imageId\": {\"imageTag\": \"v1\"}}", &a);
    ASSERT_STREQ(jstr(r, "imageScanStatus.status"), "PENDING");
    answer_release(&a);
    ASSERT_TRUE(run_scans(&e) >= 1);
    r = ok(&e, "DescribeImageScanFindings",
           "{\"repositoryName\": \"enh-app\", \"imageId\": {\"imageTag\": \"v1\"}, "
           "\"maxResults\": 2}",
           &a);
    ASSERT_STREQ(jstr(r, "imageScanStatus.status"), "ACTIVE");
    json_t *enh = jget(r, "imageScanFindings.enhancedFindings");
    ASSERT_EQ(json_array_size(enh), 2);
    ASSERT_TRUE(jget(r, "imageScanFindings.findings") == NULL);
    ASSERT_STREQ(jstr(enh, "0.packageVulnerabilityDetails.vulnerabilityId"), "CVE-2099-0102");
    ASSERT_STREQ(jstr(enh, "0.awsAccountId"), ACCT);
    ASSERT_TRUE(strncmp(jstr(enh, "0.findingArn"),
                        "arn:aws:inspector2:" REGION ":" ACCT ":finding/",
                        strlen("arn:aws:inspector2:" REGION ":" ACCT ":finding/")) == 0);
    ASSERT_TRUE(jstr(r, "nextToken") != NULL);
    answer_release(&a);
    /* a repository no filter matches is not scanned under ENHANCED */
    create(&e, "plain");
    free(push_debian(&e, "plain", "v1", "4", d));
    ASSERT_EQ(run_scans(&e), 0);
    env_free(&e);
}
