/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the ECR operations (src/api/ecr*.c) behind the AWS router, over a real
 * database, blob store and registry in a temporary directory that holds two repositories and
 * a tagged image. The first byte picks the operation, the rest is the JSON body. Every answer
 * must be a JSON object: 200 with output, or a 4xx error naming its code; a 5xx (an internal
 * failure on client input) is a bug. */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/awsproto.h"
#include "api/ecr.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "registry/auth.h"
#include "registry/registry.h"
#include "store/blob_store.h"
#include "store/meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const ops[] = {
    "CreateRepository",
    "DescribeRepositories",
    "DeleteRepository",
    "PutImageTagMutability",
    "GetAuthorizationToken",
    "ListImages",
    "DescribeImages",
    "BatchGetImage",
    "BatchDeleteImage",
    "PutImageScanningConfiguration",
    "GetRegistryScanningConfiguration",
};

static struct {
    char dir[64];
    struct meta_db *db;
    struct blob_store *bs;
    struct registry *reg;
    struct reg_auth *auth;
    struct ecr_api *ecr;
    struct api_router *router;
    struct http_handler h;
} W;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    api_router_free(W.router);
    ecr_api_free(W.ecr);
    registry_free(W.reg);
    reg_auth_free(W.auth);
    blob_store_close(W.bs);
    meta_close(W.db);
    nftw(W.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A monolithic blob upload through the registry's own /v2/ handler. */
static void push_blob(const char *repo, const char *blob, char *digest)
{
    unsigned char raw[SHA256_LEN];
    sha256_buf(blob, strlen(blob), raw);
    digest_format(raw, digest);
    struct arena ar;
    arena_init(&ar);
    struct http_req req;
    memset(&req, 0, sizeof(req));
    req.arena = &ar;
    req.method = HTTP_POST;
    req.method_str = "POST";
    char path[128];
    snprintf(path, sizeof(path), "/v2/%s/blobs/uploads/", repo);
    req.path = path;
    req.raw_query = "";
    struct http_kv q = { "digest", digest };
    VEC_PUSH(&req.query, q);
    req.has_content_length = true;
    req.content_length = strlen(blob);
    req.body_max = 1 << 20;
    struct http_resp resp;
    memset(&resp, 0, sizeof(resp));
    resp.fd = -1;
    buf_init(&resp.body, 1 << 20);
    buf_init(&req.body, req.body_max);
    W.h.begin(W.h.app, &req, &resp);
    if (req.stream)
        W.h.body(W.h.app, &req, blob, strlen(blob));
    else
        buf_append_cstr(&req.body, blob);
    W.h.end(W.h.app, &req, &resp);
    BUG_ON(resp.status != 201);
    buf_release(&resp.body);
    buf_release(&req.body);
    VEC_FREE(&resp.headers);
    VEC_FREE(&req.query);
    arena_release(&ar);
}

static void setup(void)
{
    log_set_level(LOG_ERROR);
    snprintf(W.dir, sizeof(W.dir), "/tmp/vigil-fuzz-ecr-XXXXXX");
    BUG_ON(!mkdtemp(W.dir));
    char *path = xasprintf("%s/vigil.db", W.dir);
    BUG_ON(meta_open(path, NULL, &W.db, NULL) != 0);
    free(path);
    BUG_ON(blob_store_open(W.dir, &W.bs, NULL) != 0);
    static const unsigned char key[32] = "fuzz-fuzz-fuzz-fuzz-fuzz-fuzz-!";
    struct reg_auth_config ac = { .token_key = key, .token_key_len = sizeof(key) };
    BUG_ON(reg_auth_new(&ac, &W.auth, NULL) != 0);
    struct registry_config rc;
    registry_config_init(&rc);
    rc.db = W.db;
    rc.blobs = W.bs;
    BUG_ON(registry_new(&rc, &W.reg, NULL) != 0);
    registry_handler(W.reg, &W.h);
    struct ecr_api_config ec = { .db = W.db, .registry = W.reg, .auth = W.auth };
    BUG_ON(ecr_api_new(&ec, &W.ecr, NULL) != 0);
    W.router = api_router_new();
    BUG_ON(ecr_api_register(W.ecr, W.router) != 0);
    atexit(cleanup);

    /* two repositories; "app" holds one image with tags v1 and latest */
    BUG_ON(registry_repo_create(W.reg, "app", false, NULL) != 0);
    BUG_ON(registry_repo_create(W.reg, "team/other", true, NULL) != 0);
    static const char config[] = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
    static const char blob[] = "layer bytes";
    char cfg[DIGEST_STR_LEN + 1], layer[DIGEST_STR_LEN + 1];
    push_blob("app", config, cfg);
    push_blob("app", blob, layer);
    char *m = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest."
                        "v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config."
                        "v1+json\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
                        "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":"
                        "%zu}]}",
                        cfg, strlen(config), layer, strlen(blob));
    struct reg_put_result res;
    struct reg_error err;
    BUG_ON(registry_manifest_put(W.reg, "app", "v1", NULL, m, strlen(m), &res, &err) != 0);
    BUG_ON(registry_manifest_put(W.reg, "app", "latest", NULL, m, strlen(m), &res, &err) != 0);
    free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > AWS_BODY_MAX + 1)
        return 0;
    if (!W.db)
        setup();
    char target[128];
    snprintf(target, sizeof(target), "%s.%s", ECR_TARGET_PREFIX,
             ops[data[0] % (sizeof(ops) / sizeof(ops[0]))]);
    struct arena ar;
    arena_init(&ar);
    struct http_req req;
    memset(&req, 0, sizeof(req));
    req.arena = &ar;
    req.method = HTTP_POST;
    req.method_str = "POST";
    req.path = "/";
    req.raw_query = "";
    buf_init(&req.body, AWS_BODY_MAX + 1);
    buf_append(&req.body, data + 1, size - 1);
    struct http_kv h1 = { "X-Amz-Target", target };
    struct http_kv h2 = { "Host", "127.0.0.1:5000" };
    VEC_PUSH(&req.headers, h1);
    VEC_PUSH(&req.headers, h2);
    struct http_resp resp;
    memset(&resp, 0, sizeof(resp));
    resp.fd = -1;
    buf_init(&resp.body, AWS_RESPONSE_MAX);
    api_dispatch(W.router, &req, &resp);

    BUG_ON(resp.status < 200 || resp.status >= 500);
    json_t *doc = json_loadb(resp.body.data, resp.body.len, 0, NULL);
    BUG_ON(!json_is_object(doc));
    if (resp.status != 200)
        BUG_ON(!json_is_string(json_object_get(doc, "__type")));
    json_decref(doc);
    buf_release(&resp.body);
    buf_release(&req.body);
    VEC_FREE(&req.headers);
    VEC_FREE(&resp.headers);
    arena_release(&ar);
    return 0;
}
