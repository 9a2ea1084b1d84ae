/* SPDX-License-Identifier: Apache-2.0 */
/* The ECR control API: configuration, registration, shared helpers, and the repository and
 * login operations (CreateRepository, DescribeRepositories, DeleteRepository,
 * PutImageTagMutability, GetAuthorizationToken). Image operations are in ecr_images.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/ecr_internal.h"
#include "base/b64.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "events/envelope.h"
#include "scan/service.h"

/* ECR's own limits on resource tags (the 2.9 model does not carry them). */
#define ECR_TAGS_MAX      50
#define ECR_TAG_KEY_MAX   128
#define ECR_TAG_VALUE_MAX 256

/* Schema steps of the "ecr" module (store/meta.h meta_migrate; append, never edit a shipped
 * step). 1: repository settings no other module keeps: the encryption type (always AES256
 * here) and the CreateRepository resource tags as compact JSON; rows go with the repository.
 * scanOnPush lives in the scan service's scan_repo_config. */
static const char *const ecr_steps[] = {
    "CREATE TABLE IF NOT EXISTS ecr_repo_settings ("
    "  repo_id INTEGER PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,"
    "  encryption TEXT NOT NULL DEFAULT 'AES256',"
    "  tags TEXT)",
};

/* ---- Configuration ---------------------------------------------------------------------- */

static bool all_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool region_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

/* host[:port], [v6]:port or [v6]: the characters a Host header may carry for us. */
static bool host_ok(const char *s, size_t n)
{
    if (n == 0 || n > 255)
        return false;
    size_t i = 0;
    if (s[0] == '[') {
        for (i = 1; i < n && s[i] != ']'; i++)
            if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                  (s[i] >= 'A' && s[i] <= 'F') || s[i] == ':' || s[i] == '.'))
                return false;
        if (i >= n || i == 1)
            return false;
        i++;
    } else {
        for (; i < n && s[i] != ':'; i++)
            if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                  (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-'))
                return false;
        if (i == 0)
            return false;
    }
    if (i == n)
        return true;
    if (s[i] != ':' || i + 1 == n || n - i - 1 > 5)
        return false;
    for (i++; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int parse_public_url(struct ecr_api *e, const char *url, struct diag *d)
{
    size_t n = strlen(url);
    const char *rest;
    if (strncmp(url, "http://", 7) == 0)
        rest = url + 7;
    else if (strncmp(url, "https://", 8) == 0)
        rest = url + 8;
    else
        return diag_set(d, -ERR_INVALID, 0, "public URL '%s' must start with http:// or https://",
                        url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    size_t hlen = (size_t)(url + n - rest);
    if (n > ECR_PUBLIC_URL_MAX || url + n < rest || !host_ok(rest, hlen))
        return diag_set(d, -ERR_INVALID, 0,
                        "public URL '%s' must be http(s)://HOST[:PORT] with no path", url);
    e->public_url = xstrndup(url, n);
    e->public_host = xstrndup(rest, hlen);
    return 0;
}

int ecr_api_new(const struct ecr_api_config *cfg, struct ecr_api **out, struct diag *d)
{
    *out = NULL;
    if (!cfg->db || !cfg->registry)
        return diag_set(d, -ERR_INVALID, 0, "the ECR API needs the %s",
                        cfg->db ? "registry" : "metadata database");
    const char *acct = cfg->account_id ? cfg->account_id : ECR_DEFAULT_ACCOUNT;
    const char *region = cfg->region ? cfg->region : ECR_DEFAULT_REGION;
    if (!all_digits(acct, 12))
        return diag_set(d, -ERR_INVALID, 0, "account id '%s' is not 12 digits", acct);
    if (!region_ok(region))
        return diag_set(d, -ERR_INVALID, 0, "region '%s' is not a region name ([a-z0-9-])", region);
    struct ecr_api *e = xcalloc(1, sizeof(*e));
    e->db = cfg->db;
    e->reg = cfg->registry;
    e->auth = cfg->auth;
    e->scan = cfg->scan;
    memcpy(e->account, acct, 13);
    snprintf(e->region, sizeof(e->region), "%s", region);
    e->max_repos = cfg->max_repositories ? cfg->max_repositories : ECR_REPOS_MAX_DEFAULT;
    e->now = cfg->now;
    e->now_ctx = cfg->now_ctx;
    int rc = 0;
    if (cfg->public_url && (rc = parse_public_url(e, cfg->public_url, d)) < 0)
        goto fail;
    rc = meta_migrate(e->db, "ecr", ecr_steps, ARRAY_SIZE(ecr_steps), d);
    if (rc < 0)
        goto fail;
    *out = e;
    return 0;
fail:
    ecr_api_free(e);
    return rc;
}

void ecr_api_free(struct ecr_api *e)
{
    if (!e)
        return;
    free(e->public_url);
    free(e->public_host);
    free(e);
}

int64_t ecr_now(const struct ecr_api *e)
{
    return e->now ? e->now(e->now_ctx) : (int64_t)time(NULL);
}

/* ---- Shared helpers --------------------------------------------------------------------- */

const char *ecr_registry_id(const struct ecr_api *e, const struct api_call *call)
{
    const char *id = json_string_value(json_object_get(call->input, "registryId"));
    return id ? id : e->account;
}

bool ecr_is_own_registry(const struct ecr_api *e, const char *registry_id)
{
    return strcmp(registry_id, e->account) == 0;
}

int ecr_fail_repo_not_found(struct api_call *call, const char *name, const char *registry_id)
{
    return api_fail(call, "RepositoryNotFoundException",
                    "The repository with name '%s' does not exist in the registry with id '%s'",
                    name, registry_id);
}

int ecr_repo_lookup(struct ecr_api *e, struct api_call *call, const char *name,
                    struct reg_repo *out)
{
    const char *reg_id = ecr_registry_id(e, call);
    if (!ecr_is_own_registry(e, reg_id))
        return ecr_fail_repo_not_found(call, name, reg_id);
    int rc = registry_repo_get(e->reg, name, out);
    /* -ERR_INVALID: a name ECR's rules allow but the registry's do not (256 characters), so
     * no such repository can exist */
    if (rc == -ENOENT || rc == -ERR_INVALID)
        return ecr_fail_repo_not_found(call, name, reg_id);
    if (rc < 0)
        return api_fail(call, "ServerException", "cannot read repository '%s': %s", name,
                        err_str(rc));
    return 0;
}

const char *ecr_public_host(const struct ecr_api *e, const struct api_call *call)
{
    if (e->public_host)
        return e->public_host;
    const char *h = http_req_header(call->req, "Host");
    if (h && host_ok(h, strlen(h)))
        return h;
    return "localhost";
}

int ecr_settings_get(struct ecr_api *e, int64_t repo_id, struct ecr_repo_settings *out)
{
    memset(out, 0, sizeof(*out));
    struct meta_conn *c;
    int rc = meta_conn_get(e->db, &c);
    if (rc == 0)
        rc = scan_repo_scan_on_push_get(c, repo_id, &out->scan_on_push);
    return rc;
}

int ecr_settings_set_scan_on_push(struct ecr_api *e, int64_t repo_id, bool scan_on_push)
{
    struct meta_conn *c;
    int rc = meta_conn_get(e->db, &c);
    if (rc == 0)
        rc = scan_repo_scan_on_push_set(c, repo_id, scan_on_push);
    return rc;
}

/* The rows of a repository just created: its tags here, scanOnPush in the scan service's
 * table, in one transaction. */
static int settings_insert(struct ecr_api *e, int64_t repo_id, bool scan_on_push,
                           const char *tags_json)
{
    struct meta_conn *c;
    sqlite3_stmt *st;
    int rc = meta_conn_get(e->db, &c);
    if (rc == 0)
        rc = meta_begin(c);
    if (rc)
        return rc;
    rc = meta_stmt(c, "INSERT OR REPLACE INTO ecr_repo_settings (repo_id, tags) VALUES (?1, ?2)",
                   &st);
    if (rc == 0) {
        meta_bind_int(st, 1, repo_id);
        meta_bind_text(st, 2, tags_json);
        rc = meta_step_done(c, st);
    }
    if (rc == 0)
        rc = scan_repo_scan_on_push_set(c, repo_id, scan_on_push);
    if (rc == 0)
        rc = meta_commit(c);
    else
        meta_rollback(c);
    return rc;
}

json_t *ecr_repository_json(const struct ecr_api *e, const struct api_call *call,
                            const struct reg_repo *repo, const struct ecr_repo_settings *s)
{
    char *arn = ecr_repository_arn(e->region, e->account, repo->name);
    json_t *o = json_object();
    json_object_set_new(o, "repositoryArn", json_string(arn));
    free(arn);
    json_object_set_new(o, "registryId", json_string(e->account));
    json_object_set_new(o, "repositoryName", json_string(repo->name));
    struct buf uri;
    buf_init(&uri, 1024);
    buf_printf(&uri, "%s/%s", ecr_public_host(e, call), repo->name);
    json_object_set_new(o, "repositoryUri", json_string(buf_cstr(&uri)));
    buf_release(&uri);
    aws_json_set_time(o, "createdAt", repo->created_at * 1000);
    json_object_set_new(o, "imageTagMutability",
                        json_string(repo->immutable ? "IMMUTABLE" : "MUTABLE"));
    json_object_set_new(o, "imageScanningConfiguration",
                        json_pack("{s:b}", "scanOnPush", s->scan_on_push));
    json_object_set_new(o, "encryptionConfiguration",
                        json_pack("{s:s}", "encryptionType", "AES256"));
    return o;
}

void ecr_image_id_text(struct buf *out, const char *digest, const char *tag)
{
    buf_printf(out, "{imageDigest:'%s', imageTag:'%s'}", digest ? digest : "null",
               tag ? tag : "null");
}

int ecr_fail_image_not_found(struct api_call *call, const char *digest, const char *tag,
                             const char *repo, const char *registry_id)
{
    struct buf id;
    buf_init(&id, 1024);
    ecr_image_id_text(&id, digest, tag);
    int rc = api_fail(call, "ImageNotFoundException",
                      "The image with imageId %s does not exist within the repository with name "
                      "'%s' in the registry with id '%s'",
                      buf_cstr(&id), repo, registry_id);
    buf_release(&id);
    return rc;
}

void ecr_image_id_get(json_t *image_id, const char **digest, const char **tag)
{
    *digest = json_string_value(json_object_get(image_id, "imageDigest"));
    *tag = json_string_value(json_object_get(image_id, "imageTag"));
}

json_t *ecr_image_id_json(const char *digest, const char *tag)
{
    json_t *o = json_object();
    if (digest)
        json_object_set_new(o, "imageDigest", json_string(digest));
    if (tag)
        json_object_set_new(o, "imageTag", json_string(tag));
    return o;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool ecr_digest_syntax_ok(const char *digest)
{
    const char *colon = strchr(digest, ':');
    if (!colon || colon == digest || colon[1] == '\0')
        return false;
    for (const char *p = digest; p < colon; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '+' || *p == '.'))
            return false;
    for (const char *p = colon + 1; *p; p++)
        if (!is_hex(*p))
            return false;
    return true;
}

/* Copy a digest column into ref->digest (registry digests are "sha256:<64 hex>"). */
static void ref_fill(sqlite3_stmt *st, struct ecr_image_ref *out)
{
    out->id = sqlite3_column_int64(st, 0);
    snprintf(out->digest, sizeof(out->digest), "%s", (const char *)sqlite3_column_text(st, 1));
}

int ecr_image_resolve(struct meta_conn *c, int64_t repo_id, const char *digest, const char *tag,
                      enum ecr_resolve *result, struct ecr_image_ref *out)
{
    sqlite3_stmt *st;
    int rc;
    *result = ECR_NOT_FOUND;
    if (tag)
        rc = meta_stmt(c,
                       "SELECT m.id, m.digest FROM tags t JOIN manifests m ON m.id = t.manifest_id "
                       "WHERE t.repo_id = ?1 AND t.name = ?2",
                       &st);
    else
        rc = meta_stmt(c, "SELECT id, digest FROM manifests WHERE repo_id = ?1 AND digest = ?2",
                       &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, repo_id);
    meta_bind_text(st, 2, tag ? tag : digest);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        ref_fill(st, out);
        *result = tag && digest && strcmp(out->digest, digest) != 0 ? ECR_TAG_MISMATCH : ECR_FOUND;
    } else if (s != SQLITE_DONE) {
        rc = meta_err(c, s, "image lookup");
    }
    meta_done(st);
    return rc;
}

size_t ecr_max_results(const struct api_call *call)
{
    json_t *v = json_object_get(call->input, "maxResults");
    json_int_t n = json_is_integer(v) ? json_integer_value(v) : ECR_PAGE_DEFAULT;
    return n >= 1 && n <= 1000 ? (size_t)n : ECR_PAGE_DEFAULT;
}

/* ---- CreateRepository ------------------------------------------------------------------- */

/* ECR's rules for resource tags, which the 2.9 model leaves out: at most 50, keys 1..128
 * characters not starting with "aws:", values up to 256, no key twice. On success *json is
 * the compact tag list (NULL when there are none; free it). */
static int check_tags(struct api_call *call, json_t *tags, char **json)
{
    *json = NULL;
    size_t n = json_array_size(tags);
    if (n == 0)
        return 0;
    if (n > ECR_TAGS_MAX)
        return api_fail(call, "TooManyTagsException",
                        "Cannot apply %zu tags: a resource can have at most %d tags", n,
                        ECR_TAGS_MAX);
    for (size_t i = 0; i < n; i++) {
        json_t *t = json_array_get(tags, i);
        const char *k = json_string_value(json_object_get(t, "Key"));
        const char *v = json_string_value(json_object_get(t, "Value"));
        if (!k || !*k || strlen(k) > ECR_TAG_KEY_MAX)
            return api_fail(call, "InvalidTagParameterException",
                            "Invalid parameter at 'tags.%zu.member.key' failed to satisfy "
                            "constraint: 'Member must have length between 1 and %d'",
                            i + 1, ECR_TAG_KEY_MAX);
        if (strncmp(k, "aws:", 4) == 0)
            return api_fail(call, "InvalidTagParameterException",
                            "Tag keys starting with 'aws:' are reserved for AWS use");
        if (v && strlen(v) > ECR_TAG_VALUE_MAX)
            return api_fail(call, "InvalidTagParameterException",
                            "Invalid parameter at 'tags.%zu.member.value' failed to satisfy "
                            "constraint: 'Member must have length less than or equal to %d'",
                            i + 1, ECR_TAG_VALUE_MAX);
        for (size_t j = 0; j < i; j++)
            if (strcmp(k, json_string_value(json_object_get(json_array_get(tags, j), "Key"))) == 0)
                return api_fail(call, "InvalidTagParameterException",
                                "Tag key '%s' is given more than once", k);
    }
    *json = json_dumps(tags, JSON_COMPACT);
    return 0;
}

static int count_repos(struct ecr_api *e, size_t *n)
{
    struct meta_conn *c;
    sqlite3_stmt *st;
    int rc = meta_conn_get(e->db, &c);
    if (rc == 0)
        rc = meta_stmt(c, "SELECT count(*) FROM repositories", &st);
    if (rc)
        return rc;
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        *n = (size_t)sqlite3_column_int64(st, 0);
    else
        rc = meta_err(c, s, "repository count");
    meta_done(st);
    return rc;
}

static int create_repository(void *ctx, struct api_call *call)
{
    struct ecr_api *e = ctx;
    json_t *in = call->input;
    const char *name = json_string_value(json_object_get(in, "repositoryName"));
    const char *reg_id = ecr_registry_id(e, call);
    if (!ecr_is_own_registry(e, reg_id))
        return api_fail(call, "InvalidParameterException",
                        "Invalid parameter at 'registryId' failed to satisfy constraint: "
                        "'Repositories can only be created in the registry with id '%s''",
                        e->account);
    json_t *enc = json_object_get(in, "encryptionConfiguration");
    if (enc) {
        const char *type = json_string_value(json_object_get(enc, "encryptionType"));
        if (!type || strcmp(type, "AES256") != 0)
            return api_fail(call, "InvalidParameterException",
                            "Invalid parameter at 'encryptionConfiguration.encryptionType' failed "
                            "to satisfy constraint: 'Only AES256 is supported by this registry'");
        if (json_object_get(enc, "kmsKey"))
            return api_fail(call, "InvalidParameterException",
                            "Invalid parameter at 'encryptionConfiguration.kmsKey' failed to "
                            "satisfy constraint: 'A KMS key cannot be specified with the AES256 "
                            "encryption type'");
    }
    char *tags_json = NULL;
    int rc = check_tags(call, json_object_get(in, "tags"), &tags_json);
    if (rc < 0)
        return rc;
    const char *mut = json_string_value(json_object_get(in, "imageTagMutability"));
    bool immutable = mut && strcmp(mut, "IMMUTABLE") == 0;
    struct ecr_repo_settings s = {
        .scan_on_push = json_is_true(
            json_object_get(json_object_get(in, "imageScanningConfiguration"), "scanOnPush")),
    };

    /* a soft limit: concurrent creations may pass it by a few */
    size_t nrepos = 0;
    rc = count_repos(e, &nrepos);
    if (rc < 0)
        goto server_error;
    if (nrepos >= e->max_repos) {
        rc = api_fail(call, "LimitExceededException",
                      "The operation did not succeed because it would have exceeded a service "
                      "limit for your account: at most %zu repositories",
                      e->max_repos);
        goto out;
    }
    struct reg_repo repo;
    rc = registry_repo_create(e->reg, name, immutable, &repo);
    if (rc == -EEXIST) {
        rc = api_fail(call, "RepositoryAlreadyExistsException",
                      "The repository with name '%s' already exists in the registry with id '%s'",
                      name, e->account);
        goto out;
    }
    if (rc == -ERR_INVALID) {
        rc = api_fail(call, "InvalidParameterException",
                      "Invalid parameter at 'repositoryName' failed to satisfy constraint: "
                      "'must be at most %d characters'",
                      REG_NAME_MAX);
        goto out;
    }
    if (rc < 0)
        goto server_error;
    rc = settings_insert(e, repo.id, s.scan_on_push, tags_json);
    if (rc < 0) {
        /* no half-made repository: it is empty, so this cannot remove anything else */
        registry_repo_delete(e->reg, name, false);
        goto server_error;
    }
    call->output = json_pack("{s:o}", "repository", ecr_repository_json(e, call, &repo, &s));
    goto out;
server_error:
    log_error("ecr", "CreateRepository %s: %s", name, err_str(rc));
    rc = api_fail(call, "ServerException", "The repository could not be created: %s", err_str(rc));
out:
    free(tags_json);
    return rc;
}

/* ---- DescribeRepositories --------------------------------------------------------------- */

#define TOKEN_SCOPE_REPOS "ecr:DescribeRepositories"

struct repo_page {
    struct ecr_api *e;
    struct api_call *call;
    json_t *list;
    size_t want; /* entries for this page */
    char last[REG_NAME_MAX + 1];
    bool more;
    int err;
};

static int page_repo(void *ctx, const struct reg_repo *repo)
{
    struct repo_page *p = ctx;
    if (json_array_size(p->list) == p->want) {
        p->more = true;
        return 1;
    }
    struct ecr_repo_settings s;
    int rc = ecr_settings_get(p->e, repo->id, &s);
    if (rc < 0) {
        p->err = rc;
        return 1;
    }
    json_array_append_new(p->list, ecr_repository_json(p->e, p->call, repo, &s));
    snprintf(p->last, sizeof(p->last), "%s", repo->name);
    return 0;
}

static int describe_repositories(void *ctx, struct api_call *call)
{
    struct ecr_api *e = ctx;
    json_t *in = call->input;
    json_t *names = json_object_get(in, "repositoryNames");
    const char *reg_id = ecr_registry_id(e, call);
    const char *token = json_string_value(json_object_get(in, "nextToken"));
    if (names && (token || json_object_get(in, "maxResults")))
        return api_fail(call, "InvalidParameterException",
                        "Invalid parameter: nextToken and maxResults cannot be used with "
                        "repositoryNames");
    json_t *list = json_array();
    call->output = json_pack("{s:o}", "repositories", list);
    if (names) {
        for (size_t i = 0; i < json_array_size(names); i++) {
            const char *name = json_string_value(json_array_get(names, i));
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++)
                seen = strcmp(name, json_string_value(json_array_get(names, j))) == 0;
            if (seen)
                continue;
            struct reg_repo repo;
            int rc = ecr_repo_lookup(e, call, name, &repo);
            if (rc < 0)
                return rc;
            struct ecr_repo_settings s;
            rc = ecr_settings_get(e, repo.id, &s);
            if (rc < 0)
                return rc;
            json_array_append_new(list, ecr_repository_json(e, call, &repo, &s));
        }
        return 0;
    }
    if (!ecr_is_own_registry(e, reg_id))
        return 0; /* nothing lives in another account's registry here */
    char *after = NULL;
    if (token) {
        json_t *state;
        if (aws_page_token_decode(TOKEN_SCOPE_REPOS, token, &state) < 0)
            return api_fail_next_token(call);
        const char *a = json_string_value(json_object_get(state, "after"));
        after = a ? xstrdup(a) : NULL;
        json_decref(state);
        if (!after)
            return api_fail_next_token(call);
    }
    struct repo_page p = { .e = e, .call = call, .list = list, .want = ecr_max_results(call) };
    int rc = registry_repo_list(e->reg, after, p.want + 1, page_repo, &p);
    free(after);
    if (rc < 0 || p.err < 0)
        return api_fail(call, "ServerException", "cannot list repositories: %s",
                        err_str(p.err < 0 ? p.err : rc));
    if (p.more) {
        json_t *state = json_pack("{s:s}", "after", p.last);
        char *next = aws_page_token_encode(TOKEN_SCOPE_REPOS, state);
        json_decref(state);
        if (next)
            json_object_set_new(call->output, "nextToken", json_string(next));
        free(next);
    }
    return 0;
}

/* ---- DeleteRepository, PutImageTagMutability -------------------------------------------- */

static int delete_repository(void *ctx, struct api_call *call)
{
    struct ecr_api *e = ctx;
    const char *name = json_string_value(json_object_get(call->input, "repositoryName"));
    bool force = json_is_true(json_object_get(call->input, "force"));
    struct reg_repo repo;
    int rc = ecr_repo_lookup(e, call, name, &repo);
    if (rc < 0)
        return rc;
    struct ecr_repo_settings s;
    rc = ecr_settings_get(e, repo.id, &s);
    if (rc < 0)
        return rc;
    json_t *out = ecr_repository_json(e, call, &repo, &s);
    rc = registry_repo_delete(e->reg, name, force);
    if (rc == -ENOTEMPTY) {
        json_decref(out);
        return api_fail(call, "RepositoryNotEmptyException",
                        "The repository with name '%s' in registry with id '%s' cannot be deleted "
                        "because it still contains images",
                        name, e->account);
    }
    if (rc == -ENOENT) {
        json_decref(out);
        return ecr_fail_repo_not_found(call, name, e->account);
    }
    if (rc < 0) {
        json_decref(out);
        return api_fail(call, "ServerException", "cannot delete repository '%s': %s", name,
                        err_str(rc));
    }
    call->output = json_pack("{s:o}", "repository", out);
    return 0;
}

static int put_image_tag_mutability(void *ctx, struct api_call *call)
{
    struct ecr_api *e = ctx;
    const char *name = json_string_value(json_object_get(call->input, "repositoryName"));
    const char *mut = json_string_value(json_object_get(call->input, "imageTagMutability"));
    struct reg_repo repo;
    int rc = ecr_repo_lookup(e, call, name, &repo);
    if (rc < 0)
        return rc;
    rc = registry_repo_set_immutable(e->reg, name, strcmp(mut, "IMMUTABLE") == 0);
    if (rc == -ENOENT)
        return ecr_fail_repo_not_found(call, name, e->account);
    if (rc < 0)
        return api_fail(call, "ServerException", "cannot update repository '%s': %s", name,
                        err_str(rc));
    call->output = json_pack("{s:s,s:s,s:s}", "registryId", e->account, "repositoryName", name,
                             "imageTagMutability", mut);
    return 0;
}

/* ---- GetAuthorizationToken -------------------------------------------------------------- */

static int get_authorization_token(void *ctx, struct api_call *call)
{
    struct ecr_api *e = ctx;
    json_t *ids = json_object_get(call->input, "registryIds");
    for (size_t i = 0; i < json_array_size(ids); i++) {
        const char *id = json_string_value(json_array_get(ids, i));
        if (!ecr_is_own_registry(e, id))
            return api_fail(call, "InvalidParameterException",
                            "Invalid parameter at 'registryIds' failed to satisfy constraint: "
                            "'This registry only holds registry id '%s''",
                            e->account);
    }
    if (!e->auth)
        return api_fail(call, "ServerException", "registry authentication is not configured");
    /* the token names who asked: the SigV4 access key the auth hook recorded */
    const char *who = call->req->principal && *call->req->principal ? call->req->principal : "AWS";
    struct buf pw, basic, token, endpoint;
    buf_init(&pw, 4096);
    buf_init(&basic, 4096);
    buf_init(&token, 8192);
    buf_init(&endpoint, 1024);
    int64_t expires = 0;
    int rc = reg_auth_token_mint(e->auth, who, ecr_now(e), &pw, &expires);
    if (rc == 0) {
        buf_printf(&basic, "AWS:%s", buf_cstr(&pw));
        rc = b64_encode(basic.data, basic.len, B64_STD, &token);
    }
    if (rc < 0) {
        rc = api_fail(call, "ServerException", "cannot mint a registry token: %s", err_str(rc));
        goto out;
    }
    if (e->public_url)
        buf_append_cstr(&endpoint, e->public_url);
    else
        buf_printf(&endpoint, "http://%s", ecr_public_host(e, call));
    json_t *list = json_array();
    size_t n = json_array_size(ids) ? json_array_size(ids) : 1;
    for (size_t i = 0; i < n; i++) {
        json_t *d = json_object();
        json_object_set_new(d, "authorizationToken", json_string(buf_cstr(&token)));
        aws_json_set_time(d, "expiresAt", expires * 1000);
        json_object_set_new(d, "proxyEndpoint", json_string(buf_cstr(&endpoint)));
        json_array_append_new(list, d);
    }
    call->output = json_pack("{s:o}", "authorizationData", list);
out:
    explicit_bzero(pw.data, pw.len);
    explicit_bzero(basic.data, basic.len);
    explicit_bzero(token.data, token.len);
    buf_release(&pw);
    buf_release(&basic);
    buf_release(&token);
    buf_release(&endpoint);
    return rc;
}

/* ---- Registration ----------------------------------------------------------------------- */

static const struct {
    const char *name;
    api_handler_fn fn;
} ecr_ops[] = {
    { "CreateRepository", create_repository },
    { "DescribeRepositories", describe_repositories },
    { "DeleteRepository", delete_repository },
    { "PutImageTagMutability", put_image_tag_mutability },
    { "GetAuthorizationToken", get_authorization_token },
    { "ListImages", ecr_list_images },
    { "DescribeImages", ecr_describe_images },
    { "BatchGetImage", ecr_batch_get_image },
    { "BatchDeleteImage", ecr_batch_delete_image },
};

int ecr_api_register(struct ecr_api *e, struct api_router *r)
{
    for (size_t i = 0; i < ARRAY_SIZE(ecr_ops); i++) {
        int rc = api_router_add_json(r, ECR_TARGET_PREFIX, ecr_ops[i].name, ecr_ops[i].fn, e);
        if (rc < 0) {
            log_error("ecr", "cannot register %s: %s", ecr_ops[i].name, err_str(rc));
            return rc;
        }
    }
    return ecr_scan_register(e, r);
}
