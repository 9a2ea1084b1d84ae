/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for src/registry: the /v2/ handler driven with synthesized requests (no
 * sockets): uploads (monolithic, chunked, resumed, out of order, mismatched), mounts,
 * manifests (validation, references, immutability), listing with pagination, referrers,
 * deletion, events, authentication and gc. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/hash.h"
#include "base/http_msg.h"
#include "base/xalloc.h"
#include "registry/auth.h"
#include "registry/internal.h"
#include "registry/registry.h"
#include "store/blob_store.h"
#include "store/meta.h"
#include "test.h"

#define OCI_MANIFEST MT_OCI_MANIFEST
#define OCI_INDEX    MT_OCI_INDEX

/* ---- a registry over a fresh data directory ---- */

struct env {
    char *dir;
    struct meta_db *db;
    struct blob_store *bs;
    struct registry *reg;
    struct http_handler h;
    struct registry_config cfg;
};

static void env_open(struct env *e, const struct registry_config *tmpl)
{
    if (!e->dir)
        e->dir = xstrdup(test_tmpdir());
    char *dbpath = xasprintf("%s/vigil.db", e->dir);
    ASSERT_EQ(meta_open(dbpath, NULL, &e->db, NULL), 0);
    free(dbpath);
    ASSERT_EQ(blob_store_open(e->dir, &e->bs, NULL), 0);
    if (tmpl)
        e->cfg = *tmpl;
    else
        registry_config_init(&e->cfg);
    e->cfg.db = e->db;
    e->cfg.blobs = e->bs;
    ASSERT_EQ(registry_new(&e->cfg, &e->reg, NULL), 0);
    registry_handler(e->reg, &e->h);
}

static void env_close(struct env *e)
{
    registry_free(e->reg);
    blob_store_close(e->bs);
    meta_close(e->db);
    e->reg = NULL;
    e->bs = NULL;
    e->db = NULL;
}

static void env_free(struct env *e)
{
    env_close(e);
    free(e->dir);
}

/* ---- synthesized requests ---- */

struct resp {
    int status;
    struct arena arena;
    VEC(struct http_kv) headers;
    char *body; /* owned, NUL-terminated */
    size_t len;
};

static void resp_release(struct resp *r)
{
    arena_release(&r->arena);
    VEC_FREE(&r->headers);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

static const char *hdr(const struct resp *r, const char *name)
{
    for (size_t i = 0; i < r->headers.n; i++)
        if (strcasecmp(r->headers.v[i].name, name) == 0)
            return r->headers.v[i].value;
    return NULL;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char *pct_decode(struct arena *a, const char *s, size_t n, bool query)
{
    char *out = arena_alloc(a, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
            out[o++] = (char)(unsigned char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
            i += 2;
        } else {
            char c = s[i];
            if (query && c == '+')
                c = ' ';
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return out;
}

struct reqopt {
    const char *const *headers; /* name, value, ..., NULL */
    size_t chunk;               /* body() chunk size; 0 = all at once */
    size_t abort_after;         /* stream this many bytes, then abort() (0 = no abort) */
    bool no_length;             /* no Content-Length (chunked transfer) */
};

/* Run one request through the handler the way the HTTP adapter does. `target` is the path
 * with an optional ?query. */
static void run(struct env *e, enum http_method m, const char *target, const void *body, size_t len,
                const struct reqopt *opt, struct resp *out)
{
    struct reqopt none = { 0 };
    if (!opt)
        opt = &none;
    memset(out, 0, sizeof(*out));
    arena_init(&out->arena);
    struct http_req req;
    memset(&req, 0, sizeof(req));
    req.arena = &out->arena;
    req.method = m;
    req.method_str = http_method_name(m);
    const char *q = strchr(target, '?');
    size_t plen = q ? (size_t)(q - target) : strlen(target);
    req.path = pct_decode(&out->arena, target, plen, false);
    req.raw_query = q ? arena_strdup(&out->arena, q + 1) : "";
    if (q) {
        struct str cur = str_from(q + 1), item;
        while (cur.len) {
            str_cut(&cur, '&', &item);
            struct str k;
            bool has_v = str_cut(&item, '=', &k);
            struct http_kv kv = { pct_decode(&out->arena, k.ptr, k.len, true),
                                  has_v ? pct_decode(&out->arena, item.ptr, item.len, true) : "" };
            VEC_PUSH(&req.query, kv);
        }
    }
    for (size_t i = 0; opt->headers && opt->headers[i]; i += 2) {
        struct http_kv kv = { opt->headers[i], opt->headers[i + 1] };
        VEC_PUSH(&req.headers, kv);
    }
    req.remote = "127.0.0.1:1";
    req.route = "registry";
    req.has_content_length =
        !opt->no_length && (body != NULL || m == HTTP_PUT || m == HTTP_PATCH || m == HTTP_POST);
    req.content_length = len;
    req.chunked = opt->no_length;
    req.body_max = 1 << 20;
    struct http_resp resp;
    memset(&resp, 0, sizeof(resp));
    resp.fd = -1;
    buf_init(&resp.body, 256u << 20);

    e->h.begin(e->h.app, &req, &resp);
    bool aborted = false;
    if (resp.status == 0) {
        buf_init(&req.body, req.body_max);
        if (req.stream) {
            size_t step = opt->chunk ? opt->chunk : (len ? len : 1);
            size_t limit = opt->abort_after ? opt->abort_after : len;
            for (size_t off = 0; off < limit && req.body_err == 0; off += step) {
                size_t n = limit - off < step ? limit - off : step;
                int rc = e->h.body(e->h.app, &req, (const char *)body + off, n);
                if (rc)
                    req.body_err = rc;
                else
                    req.body_bytes += n;
            }
            if (opt->abort_after && req.body_err == 0) {
                e->h.abort(e->h.app, &req);
                aborted = true;
            }
        } else if (len > req.body_max) {
            req.body_err = -ERR_TOO_BIG;
        } else if (len) {
            ASSERT_EQ(buf_append(&req.body, body, len), 0);
            req.body_bytes = len;
        }
        if (!aborted)
            e->h.end(e->h.app, &req, &resp);
    }
    out->status = aborted ? -1 : resp.status;
    out->headers.v = resp.headers.v;
    out->headers.n = resp.headers.n;
    out->headers.cap = resp.headers.cap;
    if (resp.fd >= 0) {
        out->body = xmalloc(resp.fd_len + 1);
        ssize_t got = pread(resp.fd, out->body, resp.fd_len, (off_t)resp.fd_off);
        ASSERT_EQ(got, (ssize_t)resp.fd_len);
        out->len = resp.fd_len;
        out->body[out->len] = '\0';
        close(resp.fd);
    } else {
        out->len = resp.body.len;
        out->body = xmalloc(out->len + 1);
        memcpy(out->body, resp.body.data ? resp.body.data : "", out->len);
        out->body[out->len] = '\0';
    }
    buf_release(&resp.body);
    buf_release(&req.body);
    VEC_FREE(&req.headers);
    VEC_FREE(&req.query);
}

/* The first OCI error code in a body ("" when none). */
static const char *err_code(const struct resp *r, char *buf, size_t n)
{
    buf[0] = '\0';
    json_t *root = json_loadb(r->body, r->len, 0, NULL);
    json_t *c = json_object_get(json_array_get(json_object_get(root, "errors"), 0), "code");
    if (json_is_string(c))
        snprintf(buf, n, "%s", json_string_value(c));
    json_decref(root);
    return buf;
}

#define ASSERT_ERR(r, st, code)                                                               \
    do {                                                                                      \
        char cb_[64];                                                                         \
        if ((r)->status != (st) || strcmp(err_code((r), cb_, sizeof(cb_)), (code)) != 0)      \
            test_fail(__FILE__, __LINE__, "want %d %s, got %d %s", (st), (code), (r)->status, \
                      (r)->body);                                                             \
    } while (0)

static void digest_of(const void *p, size_t n, char *out)
{
    unsigned char raw[SHA256_LEN];
    sha256_buf(p, n, raw);
    digest_format(raw, out);
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    static _Thread_local char bufs[8][512];
    static _Thread_local int next;
    char *b = bufs[next++ % 8];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof(bufs[0]), f, ap); /* NOLINT(clang-analyzer-valist.*) */
    va_end(ap);
    return b;
}

/* Push a blob monolithically (POST then PUT); returns its digest in out. */
static void push_blob(struct env *e, const char *repo, const void *data, size_t n, char *out)
{
    digest_of(data, n, out);
    struct resp r;
    run(e, HTTP_POST, fmt("/v2/%s/blobs/uploads/", repo), NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 202);
    char *loc = xstrdup(hdr(&r, "Location"));
    resp_release(&r);
    run(e, HTTP_PUT, fmt("%s?digest=%s", loc, out), data, n, NULL, &r);
    ASSERT_EQ(r.status, 201);
    ASSERT_STREQ(hdr(&r, "Docker-Content-Digest"), out);
    resp_release(&r);
    free(loc);
}

static const char CONFIG[] = "{\"architecture\":\"amd64\",\"os\":\"linux\","
                             "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";

/* Build an image manifest over a config and one layer already pushed to repo. extra is
 * inserted before the closing brace (",\"subject\":{...}"), may be "". */
static char *image_manifest(struct env *e, const char *repo, const char *layer, const char *extra)
{
    char cfg[DIGEST_STR_LEN + 1], lay[DIGEST_STR_LEN + 1];
    push_blob(e, repo, CONFIG, strlen(CONFIG), cfg);
    push_blob(e, repo, layer, strlen(layer), lay);
    return xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
                     "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
                     "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
                     "\"digest\":\"%s\",\"size\":%zu}]%s}",
                     OCI_MANIFEST, cfg, strlen(CONFIG), lay, strlen(layer), extra);
}

static void put_manifest(struct env *e, const char *repo, const char *ref, const char *body,
                         const char *ct, struct resp *r)
{
    const char *h[] = { "Content-Type", ct, NULL };
    struct reqopt o = { .headers = ct ? h : NULL };
    run(e, HTTP_PUT, fmt("/v2/%s/manifests/%s", repo, ref), body, strlen(body), &o, r);
}

/* ---- tests ---- */

static int collect_names(void *ctx, const struct reg_repo *repo)
{
    struct buf *b = ctx;
    buf_printf(b, "%s,", repo->name);
    return 0;
}

TEST(registry_base_and_routes)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    struct resp r;
    run(&e, HTTP_GET, "/v2/", NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STREQ(r.body, "{}");
    ASSERT_STREQ(hdr(&r, "Docker-Distribution-API-Version"), "registry/2.0");
    resp_release(&r);
    run(&e, HTTP_GET, "/v2/a/b/c/nothing/here", NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 404);
    resp_release(&r);
    run(&e, HTTP_PATCH, "/v2/", NULL, 0, NULL, &r);
    ASSERT_ERR(&r, 405, "UNSUPPORTED");
    resp_release(&r);
    env_free(&e);
}

TEST(registry_route_parse)
{
    struct reg_route rt;
    ASSERT_EQ(reg_route_parse(STR_LIT("/v2/team/app/blobs/uploads/"), &rt), 0);
    ASSERT_EQ(rt.kind, REG_ROUTE_UPLOADS);
    ASSERT_STR_EQ(rt.name, "team/app");
    ASSERT_EQ(reg_route_parse(STR_LIT("/v2/team/app/blobs/uploads/abc"), &rt), 0);
    ASSERT_EQ(rt.kind, REG_ROUTE_UPLOAD);
    ASSERT_STR_EQ(rt.arg, "abc");
    /* a repository may be called "blobs" or "manifests" */
    ASSERT_EQ(reg_route_parse(STR_LIT("/v2/x/blobs/blobs/sha256:ab"), &rt), 0);
    ASSERT_EQ(rt.kind, REG_ROUTE_BLOB);
    ASSERT_STR_EQ(rt.name, "x/blobs");
    ASSERT_EQ(reg_route_parse(STR_LIT("/v2/a/manifests/manifests/latest"), &rt), 0);
    ASSERT_EQ(rt.kind, REG_ROUTE_MANIFEST);
    ASSERT_STR_EQ(rt.name, "a/manifests");
    ASSERT_EQ(reg_route_parse(STR_LIT("/v2/a/tags/list"), &rt), 0);
    ASSERT_EQ(rt.kind, REG_ROUTE_TAGS);
    ASSERT_EQ(reg_route_parse(STR_LIT("/v2/_catalog"), &rt), 0);
    ASSERT_EQ(rt.kind, REG_ROUTE_CATALOG);
    ASSERT_EQ(reg_route_parse(STR_LIT("/v2/a/referrers/sha256:00"), &rt), 0);
    ASSERT_EQ(rt.kind, REG_ROUTE_REFERRERS);
    ASSERT_EQ(reg_route_parse(STR_LIT("/v2/Upper/manifests/x"), &rt), -ERR_INVALID);
    ASSERT_EQ(reg_route_parse(STR_LIT("/v3/a/manifests/x"), &rt), -ERR_NOT_FOUND);
    ASSERT_EQ(reg_route_parse(STR_LIT("/v2/a/other/x"), &rt), -ERR_NOT_FOUND);

    ASSERT_TRUE(reg_name_is_valid("a", 1));
    ASSERT_TRUE(reg_name_is_valid("team/app-1", 10));
    ASSERT_TRUE(reg_name_is_valid("a__b/c.d/e--f", 13));
    ASSERT_FALSE(reg_name_is_valid("a___b", 5));
    ASSERT_FALSE(reg_name_is_valid("a/../b", 6));
    ASSERT_FALSE(reg_name_is_valid("a//b", 4));
    ASSERT_FALSE(reg_name_is_valid("a/", 2));
    ASSERT_FALSE(reg_name_is_valid("-a", 2));
    ASSERT_FALSE(reg_name_is_valid("a.", 2));
    ASSERT_FALSE(reg_name_is_valid("App", 3));
    char longname[300];
    memset(longname, 'a', sizeof(longname));
    ASSERT_TRUE(reg_name_is_valid(longname, 255));
    ASSERT_FALSE(reg_name_is_valid(longname, 256));
    ASSERT_TRUE(reg_tag_is_valid("v1.0-rc_1", 9));
    ASSERT_TRUE(reg_tag_is_valid("_x", 2));
    ASSERT_FALSE(reg_tag_is_valid(".x", 2));
    ASSERT_FALSE(reg_tag_is_valid("a:b", 3));
    ASSERT_TRUE(reg_tag_is_valid(longname, 128));
    ASSERT_FALSE(reg_tag_is_valid(longname, 129));
}

TEST(registry_invalid_names)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    char longname[300];
    memset(longname, 'x', 256);
    longname[256] = '\0';
    const char *bad[] = { "Upper/app", "a/../b", "a//b", "-lead", longname, "a/b/" };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct resp r;
        run(&e, HTTP_POST, fmt("/v2/%s/blobs/uploads/", bad[i]), NULL, 0, NULL, &r);
        ASSERT_ERR(&r, 400, "NAME_INVALID");
        resp_release(&r);
    }
    /* nothing was created */
    struct buf names;
    buf_init(&names, 4096);
    ASSERT_EQ(registry_repo_list(e.reg, NULL, 0, collect_names, &names), 0);
    ASSERT_EQ(names.len, 0);
    buf_release(&names);
    env_free(&e);
}

TEST(registry_monolithic_uploads)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    static const char data[] = "a blob pushed in one request";
    char dg[DIGEST_STR_LEN + 1];
    digest_of(data, strlen(data), dg);
    struct resp r;
    run(&e, HTTP_POST, fmt("/v2/mono/app/blobs/uploads/?digest=%s", dg), data, strlen(data), NULL,
        &r);
    ASSERT_EQ(r.status, 201);
    ASSERT_STREQ(hdr(&r, "Location"), fmt("/v2/mono/app/blobs/%s", dg));
    ASSERT_STREQ(hdr(&r, "Docker-Content-Digest"), dg);
    resp_release(&r);

    run(&e, HTTP_HEAD, fmt("/v2/mono/app/blobs/%s", dg), NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.len, strlen(data)); /* the adapter's Content-Length */
    ASSERT_STREQ(hdr(&r, "Docker-Content-Digest"), dg);
    resp_release(&r);
    run(&e, HTTP_GET, fmt("/v2/mono/app/blobs/%s", dg), NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STREQ(r.body, data);
    ASSERT_STREQ(hdr(&r, "Content-Type"), "application/octet-stream");
    resp_release(&r);

    /* POST then PUT with the whole blob */
    char dg2[DIGEST_STR_LEN + 1];
    push_blob(&e, "mono/app", "second", 6, dg2);
    run(&e, HTTP_GET, fmt("/v2/mono/app/blobs/%s", dg2), NULL, 0, NULL, &r);
    ASSERT_STREQ(r.body, "second");
    resp_release(&r);

    /* the empty blob */
    char empty[DIGEST_STR_LEN + 1];
    push_blob(&e, "mono/app", "", 0, empty);
    run(&e, HTTP_GET, fmt("/v2/mono/app/blobs/%s", empty), NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.len, 0);
    resp_release(&r);
    env_free(&e);
}

TEST(registry_chunked_upload_three_patches)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    size_t n = 3 * 1000 * 1000 + 17;
    char *data = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i * 7 + (i >> 9));
    char dg[DIGEST_STR_LEN + 1];
    digest_of(data, n, dg);
    struct resp r;
    run(&e, HTTP_POST, "/v2/chunk/app/blobs/uploads/", NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 202);
    ASSERT_STREQ(hdr(&r, "Range"), "0-0");
    ASSERT_TRUE(hdr(&r, "Docker-Upload-UUID") != NULL);
    char *loc = xstrdup(hdr(&r, "Location"));
    ASSERT_TRUE(strstr(loc, hdr(&r, "Docker-Upload-UUID")) != NULL);
    resp_release(&r);
    size_t cuts[] = { 0, 1000000, 2500000, n };
    for (int i = 0; i < 3; i++) {
        char range[64];
        snprintf(range, sizeof(range), "%zu-%zu", cuts[i], cuts[i + 1] - 1);
        const char *h[] = { "Content-Range", range, "Content-Type", "application/octet-stream",
                            NULL };
        struct reqopt o = { .headers = h, .chunk = 65536 };
        run(&e, HTTP_PATCH, loc, data + cuts[i], cuts[i + 1] - cuts[i], &o, &r);
        ASSERT_EQ(r.status, 202);
        ASSERT_STREQ(hdr(&r, "Range"), fmt("0-%zu", cuts[i + 1] - 1));
        resp_release(&r);
        /* not visible before the PUT */
        run(&e, HTTP_HEAD, fmt("/v2/chunk/app/blobs/%s", dg), NULL, 0, NULL, &r);
        ASSERT_EQ(r.status, 404);
        resp_release(&r);
    }
    run(&e, HTTP_PUT, fmt("%s?digest=%s", loc, dg), NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 201);
    resp_release(&r);
    run(&e, HTTP_GET, fmt("/v2/chunk/app/blobs/%s", dg), NULL, 0, NULL, &r);
    ASSERT_EQ(r.len, n);
    ASSERT_TRUE(memcmp(r.body, data, n) == 0);
    resp_release(&r);
    /* the session is gone */
    run(&e, HTTP_GET, loc, NULL, 0, NULL, &r);
    ASSERT_ERR(&r, 404, "BLOB_UPLOAD_UNKNOWN");
    resp_release(&r);
    free(loc);
    free(data);
    env_free(&e);
}

TEST(registry_patch_without_range_and_status)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    struct resp r;
    run(&e, HTTP_POST, "/v2/stream/app/blobs/uploads/", NULL, 0, NULL, &r);
    char *loc = xstrdup(hdr(&r, "Location"));
    resp_release(&r);
    /* docker-style streaming PATCH: no Content-Range, no Content-Length */
    struct reqopt o = { .no_length = true, .chunk = 7 };
    run(&e, HTTP_PATCH, loc, "0123456789abcdef", 16, &o, &r);
    ASSERT_EQ(r.status, 202);
    ASSERT_STREQ(hdr(&r, "Range"), "0-15");
    resp_release(&r);
    run(&e, HTTP_GET, loc, NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 204);
    ASSERT_STREQ(hdr(&r, "Range"), "0-15");
    ASSERT_STREQ(hdr(&r, "Location"), loc);
    resp_release(&r);
    /* cancel */
    run(&e, HTTP_DELETE, loc, NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 204);
    resp_release(&r);
    run(&e, HTTP_GET, loc, NULL, 0, NULL, &r);
    ASSERT_ERR(&r, 404, "BLOB_UPLOAD_UNKNOWN");
    resp_release(&r);
    run(&e, HTTP_PATCH, loc, "x", 1, NULL, &r);
    ASSERT_ERR(&r, 404, "BLOB_UPLOAD_UNKNOWN");
    resp_release(&r);
    /* a session is bound to its repository */
    run(&e, HTTP_POST, "/v2/stream/app/blobs/uploads/", NULL, 0, NULL, &r);
    const char *id = hdr(&r, "Docker-Upload-UUID");
    char *other = xasprintf("/v2/stream/other/blobs/uploads/%s", id);
    resp_release(&r);
    run(&e, HTTP_PATCH, other, "x", 1, NULL, &r);
    ASSERT_ERR(&r, 404, "BLOB_UPLOAD_UNKNOWN");
    resp_release(&r);
    free(other);
    free(loc);
    env_free(&e);
}

TEST(registry_resumed_upload_across_restart)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    size_t n = 500000;
    char *data = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i % 251);
    char dg[DIGEST_STR_LEN + 1];
    digest_of(data, n, dg);
    struct resp r;
    run(&e, HTTP_POST, "/v2/resume/app/blobs/uploads/", NULL, 0, NULL, &r);
    char *loc = xstrdup(hdr(&r, "Location"));
    resp_release(&r);
    const char *h1[] = { "Content-Range", "0-199999", NULL };
    struct reqopt o1 = { .headers = h1 };
    run(&e, HTTP_PATCH, loc, data, 200000, &o1, &r);
    ASSERT_EQ(r.status, 202);
    resp_release(&r);
    /* the client disconnects half-way through its next chunk: what arrived is kept */
    struct reqopt cut = { .chunk = 1000, .abort_after = 50000 };
    const char *h2[] = { "Content-Range", "200000-299999", NULL };
    cut.headers = h2;
    run(&e, HTTP_PATCH, loc, data + 200000, 100000, &cut, &r);
    ASSERT_EQ(r.status, -1);
    resp_release(&r);

    /* restart: new store, database and registry on the same directory */
    env_close(&e);
    env_open(&e, NULL);
    run(&e, HTTP_GET, loc, NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 204);
    ASSERT_STREQ(hdr(&r, "Range"), "0-249999");
    resp_release(&r);
    const char *h3[] = { "Content-Range", "250000-399999", NULL };
    struct reqopt o3 = { .headers = h3 };
    run(&e, HTTP_PATCH, loc, data + 250000, 150000, &o3, &r);
    ASSERT_EQ(r.status, 202);
    ASSERT_STREQ(hdr(&r, "Range"), "0-399999");
    resp_release(&r);
    /* the last chunk comes with the PUT */
    run(&e, HTTP_PUT, fmt("%s?digest=%s", loc, dg), data + 400000, n - 400000, NULL, &r);
    ASSERT_EQ(r.status, 201);
    resp_release(&r);
    run(&e, HTTP_GET, fmt("/v2/resume/app/blobs/%s", dg), NULL, 0, NULL, &r);
    ASSERT_EQ(r.len, n);
    ASSERT_TRUE(memcmp(r.body, data, n) == 0);
    resp_release(&r);
    free(loc);
    free(data);
    env_free(&e);
}

TEST(registry_out_of_order_chunk_416)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    struct resp r;
    run(&e, HTTP_POST, "/v2/crange/app/blobs/uploads/", NULL, 0, NULL, &r);
    char *loc = xstrdup(hdr(&r, "Location"));
    resp_release(&r);
    char a[100], b[100];
    memset(a, 'a', sizeof(a));
    memset(b, 'b', sizeof(b));
    const char *h1[] = { "Content-Range", "0-99", NULL };
    struct reqopt o1 = { .headers = h1 };
    run(&e, HTTP_PATCH, loc, a, 100, &o1, &r);
    ASSERT_EQ(r.status, 202);
    resp_release(&r);
    const char *cases[] = { "150-249", "50-149", "garbage", "100-98" };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const char *h[] = { "Content-Range", cases[i], NULL };
        struct reqopt o = { .headers = h };
        run(&e, HTTP_PATCH, loc, b, 100, &o, &r);
        ASSERT_EQ(r.status, 416);
        ASSERT_STREQ(hdr(&r, "Range"), "0-99");
        ASSERT_STREQ(hdr(&r, "Location"), loc);
        resp_release(&r);
    }
    /* a Content-Length that disagrees with the range */
    const char *h2[] = { "Content-Range", "100-149", NULL };
    struct reqopt o2 = { .headers = h2 };
    run(&e, HTTP_PATCH, loc, b, 100, &o2, &r);
    ASSERT_EQ(r.status, 416);
    resp_release(&r);
    /* the upload is intact and continues */
    const char *h3[] = { "Content-Range", "100-199", NULL };
    struct reqopt o3 = { .headers = h3 };
    run(&e, HTTP_PATCH, loc, b, 100, &o3, &r);
    ASSERT_EQ(r.status, 202);
    ASSERT_STREQ(hdr(&r, "Range"), "0-199");
    resp_release(&r);
    free(loc);
    env_free(&e);
}

TEST(registry_digest_mismatch_leaves_nothing)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    static const char data[] = "the real content";
    char wrong[DIGEST_STR_LEN + 1], right[DIGEST_STR_LEN + 1];
    digest_of("something else", 14, wrong);
    digest_of(data, strlen(data), right);
    struct resp r;
    run(&e, HTTP_POST, "/v2/mismatch/app/blobs/uploads/", NULL, 0, NULL, &r);
    char *loc = xstrdup(hdr(&r, "Location"));
    resp_release(&r);
    run(&e, HTTP_PUT, fmt("%s?digest=%s", loc, wrong), data, strlen(data), NULL, &r);
    ASSERT_ERR(&r, 400, "DIGEST_INVALID");
    resp_release(&r);
    run(&e, HTTP_HEAD, fmt("/v2/mismatch/app/blobs/%s", wrong), NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 404);
    resp_release(&r);
    run(&e, HTTP_HEAD, fmt("/v2/mismatch/app/blobs/%s", right), NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 404);
    resp_release(&r);
    ASSERT_EQ(blob_store_stat(e.bs, right, NULL, NULL), -ENOENT);
    /* the upload was discarded */
    run(&e, HTTP_GET, loc, NULL, 0, NULL, &r);
    ASSERT_ERR(&r, 404, "BLOB_UPLOAD_UNKNOWN");
    resp_release(&r);
    /* malformed digests are refused before any byte is taken */
    const char *bad[] = { "sha256:xyz", "md5:abcd", "nodigest", "sha256:ABCD" };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        run(&e, HTTP_POST, "/v2/mismatch/app/blobs/uploads/", NULL, 0, NULL, &r);
        char *l2 = xstrdup(hdr(&r, "Location"));
        resp_release(&r);
        run(&e, HTTP_PUT, fmt("%s?digest=%s", l2, bad[i]), "abc", 3, NULL, &r);
        ASSERT_ERR(&r, 400, "DIGEST_INVALID");
        resp_release(&r);
        run(&e, HTTP_POST, fmt("/v2/mismatch/app/blobs/uploads/?digest=%s", bad[i]), "abc", 3, NULL,
            &r);
        ASSERT_ERR(&r, 400, "DIGEST_INVALID");
        resp_release(&r);
        run(&e, HTTP_HEAD, fmt("/v2/mismatch/app/blobs/%s", bad[i]), NULL, 0, NULL, &r);
        ASSERT_EQ(r.status, 400);
        resp_release(&r);
        free(l2);
    }
    /* a one-request upload with the wrong digest leaves no upload file either */
    run(&e, HTTP_POST, fmt("/v2/mismatch/app/blobs/uploads/?digest=%s", wrong), data, strlen(data),
        NULL, &r);
    ASSERT_ERR(&r, 400, "DIGEST_INVALID");
    resp_release(&r);
    free(loc);
    env_free(&e);
}

TEST(registry_mount)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    char dg[DIGEST_STR_LEN + 1];
    push_blob(&e, "mount/src", "shared layer", 12, dg);
    struct resp r;
    /* invisible elsewhere until mounted */
    run(&e, HTTP_HEAD, fmt("/v2/mount/dst/blobs/%s", dg), NULL, 0, NULL, &r);
    ASSERT_ERR(&r, 404, "BLOB_UNKNOWN");
    resp_release(&r);
    run(&e, HTTP_POST, fmt("/v2/mount/dst/blobs/uploads/?mount=%s&from=mount%%2Fsrc", dg), NULL, 0,
        NULL, &r);
    ASSERT_EQ(r.status, 201);
    ASSERT_STREQ(hdr(&r, "Docker-Content-Digest"), dg);
    resp_release(&r);
    run(&e, HTTP_GET, fmt("/v2/mount/dst/blobs/%s", dg), NULL, 0, NULL, &r);
    ASSERT_STREQ(r.body, "shared layer");
    resp_release(&r);
    /* from a repository that lacks it: an ordinary session */
    char other[DIGEST_STR_LEN + 1];
    digest_of("never pushed", 12, other);
    run(&e, HTTP_POST, fmt("/v2/mount/dst2/blobs/uploads/?mount=%s&from=mount/src", other), NULL, 0,
        NULL, &r);
    ASSERT_EQ(r.status, 202);
    ASSERT_TRUE(hdr(&r, "Location") != NULL);
    resp_release(&r);
    /* mount without from: any repository holding it */
    run(&e, HTTP_POST, fmt("/v2/mount/dst3/blobs/uploads/?mount=%s", dg), NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 201);
    resp_release(&r);
    run(&e, HTTP_HEAD, fmt("/v2/mount/dst3/blobs/%s", dg), NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 200);
    resp_release(&r);
    /* a bad source name is not mountable either */
    run(&e, HTTP_POST, fmt("/v2/mount/dst4/blobs/uploads/?mount=%s&from=BAD", dg), NULL, 0, NULL,
        &r);
    ASSERT_EQ(r.status, 202);
    resp_release(&r);
    env_free(&e);
}

TEST(registry_blob_range_and_delete)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    char data[1000];
    for (int i = 0; i < 1000; i++)
        data[i] = (char)('a' + i % 26);
    char dg[DIGEST_STR_LEN + 1];
    push_blob(&e, "range/app", data, sizeof(data), dg);
    struct resp r;
    const char *h[] = { "Range", "bytes=10-99", NULL };
    struct reqopt o = { .headers = h };
    run(&e, HTTP_GET, fmt("/v2/range/app/blobs/%s", dg), NULL, 0, &o, &r);
    ASSERT_EQ(r.status, 206);
    ASSERT_EQ(r.len, 90);
    ASSERT_TRUE(memcmp(r.body, data + 10, 90) == 0);
    ASSERT_STREQ(hdr(&r, "Content-Range"), "bytes 10-99/1000");
    resp_release(&r);
    const char *h2[] = { "Range", "bytes=1005-", NULL };
    o.headers = h2;
    run(&e, HTTP_GET, fmt("/v2/range/app/blobs/%s", dg), NULL, 0, &o, &r);
    ASSERT_EQ(r.status, 416);
    ASSERT_STREQ(hdr(&r, "Content-Range"), "bytes */1000");
    resp_release(&r);

    run(&e, HTTP_DELETE, fmt("/v2/range/app/blobs/%s", dg), NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 202);
    resp_release(&r);
    run(&e, HTTP_GET, fmt("/v2/range/app/blobs/%s", dg), NULL, 0, NULL, &r);
    ASSERT_ERR(&r, 404, "BLOB_UNKNOWN");
    resp_release(&r);
    run(&e, HTTP_DELETE, fmt("/v2/range/app/blobs/%s", dg), NULL, 0, NULL, &r);
    ASSERT_ERR(&r, 404, "BLOB_UNKNOWN");
    resp_release(&r);
    env_free(&e);
}

TEST(registry_manifest_push_pull_delete)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    char *m = image_manifest(&e, "man/app", "layer-a", "");
    char md[DIGEST_STR_LEN + 1];
    digest_of(m, strlen(m), md);
    struct resp r;
    put_manifest(&e, "man/app", "v1", m, OCI_MANIFEST, &r);
    ASSERT_EQ(r.status, 201);
    ASSERT_STREQ(hdr(&r, "Docker-Content-Digest"), md);
    ASSERT_STREQ(hdr(&r, "Location"), fmt("/v2/man/app/manifests/%s", md));
    ASSERT_TRUE(hdr(&r, "OCI-Subject") == NULL);
    resp_release(&r);
    const char *refs[] = { "v1", md };
    for (int i = 0; i < 2; i++) {
        const char *h[] = { "Accept", OCI_MANIFEST ", " OCI_INDEX, NULL };
        struct reqopt o = { .headers = h };
        run(&e, HTTP_GET, fmt("/v2/man/app/manifests/%s", refs[i]), NULL, 0, &o, &r);
        ASSERT_EQ(r.status, 200);
        ASSERT_STREQ(r.body, m); /* byte-exact */
        ASSERT_STREQ(hdr(&r, "Content-Type"), OCI_MANIFEST);
        ASSERT_STREQ(hdr(&r, "Docker-Content-Digest"), md);
        ASSERT_STREQ(hdr(&r, "ETag"), fmt("\"%s\"", md));
        resp_release(&r);
        run(&e, HTTP_HEAD, fmt("/v2/man/app/manifests/%s", refs[i]), NULL, 0, NULL, &r);
        ASSERT_EQ(r.status, 200);
        ASSERT_EQ(r.len, strlen(m));
        resp_release(&r);
    }
    /* an Accept that lists only other manifest types */
    const char *hd[] = { "Accept", "application/vnd.docker.distribution.manifest.v2+json", NULL };
    struct reqopt od = { .headers = hd };
    run(&e, HTTP_GET, "/v2/man/app/manifests/v1", NULL, 0, &od, &r);
    ASSERT_ERR(&r, 404, "MANIFEST_UNKNOWN");
    resp_release(&r);
    run(&e, HTTP_GET, "/v2/man/app/manifests/v2", NULL, 0, NULL, &r);
    ASSERT_ERR(&r, 404, "MANIFEST_UNKNOWN");
    resp_release(&r);
    run(&e, HTTP_GET, "/v2/no/such/manifests/v1", NULL, 0, NULL, &r);
    ASSERT_ERR(&r, 404, "NAME_UNKNOWN");
    resp_release(&r);

    /* pushed by digest too, and a second tag */
    put_manifest(&e, "man/app", md, m, OCI_MANIFEST, &r);
    ASSERT_EQ(r.status, 201);
    resp_release(&r);
    put_manifest(&e, "man/app", "latest", m, OCI_MANIFEST, &r);
    ASSERT_EQ(r.status, 201);
    resp_release(&r);
    /* delete a tag: the other tag and the digest remain */
    run(&e, HTTP_DELETE, "/v2/man/app/manifests/latest", NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 202);
    resp_release(&r);
    run(&e, HTTP_GET, "/v2/man/app/manifests/latest", NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 404);
    resp_release(&r);
    run(&e, HTTP_GET, "/v2/man/app/manifests/v1", NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 200);
    resp_release(&r);
    /* delete by digest: the tags go with it */
    run(&e, HTTP_DELETE, fmt("/v2/man/app/manifests/%s", md), NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 202);
    resp_release(&r);
    run(&e, HTTP_GET, "/v2/man/app/manifests/v1", NULL, 0, NULL, &r);
    ASSERT_ERR(&r, 404, "MANIFEST_UNKNOWN");
    resp_release(&r);
    run(&e, HTTP_DELETE, fmt("/v2/man/app/manifests/%s", md), NULL, 0, NULL, &r);
    ASSERT_ERR(&r, 404, "MANIFEST_UNKNOWN");
    resp_release(&r);
    free(m);
    env_free(&e);
}

TEST(registry_manifest_refused)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    char *good = image_manifest(&e, "bad/app", "layer", "");
    struct resp r;
    /* a layer that was never uploaded (and one that exists only in another repository) */
    char elsewhere[DIGEST_STR_LEN + 1], never[DIGEST_STR_LEN + 1];
    push_blob(&e, "other/repo", "only there", 10, elsewhere);
    digest_of("never uploaded", 14, never);
    char cfg[DIGEST_STR_LEN + 1];
    digest_of(CONFIG, strlen(CONFIG), cfg);
    char *missing = xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"a/b\",\"digest\":"
        "\"%s\",\"size\":1},\"layers\":[{\"mediaType\":\"a/c\",\"digest\":\"%s\",\"size\":1},"
        "{\"mediaType\":\"a/c\",\"digest\":\"%s\",\"size\":1}]}",
        OCI_MANIFEST, cfg, never, elsewhere);
    put_manifest(&e, "bad/app", "missing", missing, OCI_MANIFEST, &r);
    ASSERT_ERR(&r, 400, "MANIFEST_BLOB_UNKNOWN");
    json_t *root = json_loadb(r.body, r.len, 0, NULL);
    json_t *errs = json_object_get(root, "errors");
    ASSERT_EQ(json_array_size(errs), 2);
    ASSERT_STREQ(json_string_value(
                     json_object_get(json_object_get(json_array_get(errs, 0), "detail"), "digest")),
                 never);
    ASSERT_STREQ(json_string_value(
                     json_object_get(json_object_get(json_array_get(errs, 1), "detail"), "digest")),
                 elsewhere);
    json_decref(root);
    resp_release(&r);

    /* oversize: refused from Content-Length before any byte is read */
    size_t big = (4u << 20) + 10;
    char *huge = xmalloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = '\0';
    put_manifest(&e, "bad/app", "huge", huge, OCI_MANIFEST, &r);
    ASSERT_ERR(&r, 413, "MANIFEST_INVALID");
    resp_release(&r);
    free(huge);

    struct {
        const char *name, *body, *ct, *code;
    } cases[] = {
        { "bad json", "{\"schemaVersion\": 2,", OCI_MANIFEST, "MANIFEST_INVALID" },
        { "not an object", "[1,2]", OCI_MANIFEST, "MANIFEST_INVALID" },
        { "bad media type", good, "application/x-not-a-manifest", "MANIFEST_INVALID" },
        { "schema 1", good, "application/vnd.docker.distribution.manifest.v1+prettyjws",
          "MANIFEST_INVALID" },
        { "media type mismatch", good, OCI_INDEX, "MANIFEST_INVALID" },
        { "duplicate keys", "{\"schemaVersion\":2,\"schemaVersion\":2}", OCI_MANIFEST,
          "MANIFEST_INVALID" },
        { "bad subject",
          "{\"schemaVersion\":2,\"mediaType\":\"" OCI_INDEX "\",\"manifests\":[],"
          "\"subject\":{\"digest\":\"nope\"}}",
          OCI_INDEX, "MANIFEST_INVALID" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        put_manifest(&e, "bad/app", "bad", cases[i].body, cases[i].ct, &r);
        if (r.status != 400 || strstr(r.body, cases[i].code) == NULL)
            test_fail(__FILE__, __LINE__, "%s: %d %s", cases[i].name, r.status, r.body);
        resp_release(&r);
        run(&e, HTTP_GET, "/v2/bad/app/manifests/bad", NULL, 0, NULL, &r);
        ASSERT_EQ(r.status, 404);
        resp_release(&r);
    }
    /* the reference must match the content when it is a digest */
    char other[DIGEST_STR_LEN + 1];
    digest_of("x", 1, other);
    put_manifest(&e, "bad/app", other, good, OCI_MANIFEST, &r);
    ASSERT_ERR(&r, 400, "DIGEST_INVALID");
    resp_release(&r);
    put_manifest(&e, "bad/app", "bad:tag", good, OCI_MANIFEST, &r);
    ASSERT_EQ(r.status, 400);
    resp_release(&r);
    /* no Content-Type: the document's own mediaType is used */
    put_manifest(&e, "bad/app", "ok", good, NULL, &r);
    ASSERT_EQ(r.status, 201);
    resp_release(&r);
    free(missing);
    free(good);
    env_free(&e);
}

TEST(registry_index_needs_its_manifests)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    char *m = image_manifest(&e, "idx/app", "layer", "");
    char md[DIGEST_STR_LEN + 1];
    digest_of(m, strlen(m), md);
    char *idx = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{"
                          "\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,\"platform\":{"
                          "\"architecture\":\"amd64\",\"os\":\"linux\"}}]}",
                          OCI_INDEX, OCI_MANIFEST, md, strlen(m));
    struct resp r;
    put_manifest(&e, "idx/app", "multi", idx, OCI_INDEX, &r);
    ASSERT_ERR(&r, 400, "MANIFEST_BLOB_UNKNOWN");
    resp_release(&r);
    put_manifest(&e, "idx/app", md, m, OCI_MANIFEST, &r);
    ASSERT_EQ(r.status, 201);
    resp_release(&r);
    put_manifest(&e, "idx/app", "multi", idx, OCI_INDEX, &r);
    ASSERT_EQ(r.status, 201);
    resp_release(&r);
    run(&e, HTTP_GET, "/v2/idx/app/manifests/multi", NULL, 0, NULL, &r);
    ASSERT_STREQ(hdr(&r, "Content-Type"), OCI_INDEX);
    ASSERT_STREQ(r.body, idx);
    resp_release(&r);
    free(idx);
    free(m);
    env_free(&e);
}

TEST(registry_tag_immutability)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    ASSERT_EQ(registry_repo_create(e.reg, "imm/app", true, NULL), 0);
    ASSERT_EQ(registry_repo_create(e.reg, "imm/app", true, NULL), -EEXIST);
    char *m1 = image_manifest(&e, "imm/app", "one", "");
    char *m2 = image_manifest(&e, "imm/app", "two", "");
    struct resp r;
    put_manifest(&e, "imm/app", "v1", m1, OCI_MANIFEST, &r);
    ASSERT_EQ(r.status, 201);
    resp_release(&r);
    /* the same content again is fine */
    put_manifest(&e, "imm/app", "v1", m1, OCI_MANIFEST, &r);
    ASSERT_EQ(r.status, 201);
    resp_release(&r);
    put_manifest(&e, "imm/app", "v1", m2, OCI_MANIFEST, &r);
    ASSERT_ERR(&r, 400, "TAG_INVALID");
    ASSERT_TRUE(strstr(r.body, "'v1'") && strstr(r.body, "'imm/app'"));
    resp_release(&r);
    run(&e, HTTP_GET, "/v2/imm/app/manifests/v1", NULL, 0, NULL, &r);
    ASSERT_STREQ(r.body, m1);
    resp_release(&r);
    /* a new tag is fine; lifting immutability allows the move */
    put_manifest(&e, "imm/app", "v2", m2, OCI_MANIFEST, &r);
    ASSERT_EQ(r.status, 201);
    resp_release(&r);
    ASSERT_EQ(registry_repo_set_immutable(e.reg, "imm/app", false), 0);
    put_manifest(&e, "imm/app", "v1", m2, OCI_MANIFEST, &r);
    ASSERT_EQ(r.status, 201);
    resp_release(&r);
    struct reg_repo info;
    ASSERT_EQ(registry_repo_get(e.reg, "imm/app", &info), 0);
    ASSERT_FALSE(info.immutable);
    ASSERT_EQ(registry_repo_set_immutable(e.reg, "no/such", true), -ENOENT);
    free(m1);
    free(m2);
    env_free(&e);
}

TEST(registry_create_on_push_off)
{
    struct registry_config cfg;
    registry_config_init(&cfg);
    cfg.create_on_push = false;
    struct env e = { 0 };
    env_open(&e, &cfg);
    struct resp r;
    run(&e, HTTP_POST, "/v2/strict/app/blobs/uploads/", NULL, 0, NULL, &r);
    ASSERT_ERR(&r, 404, "NAME_UNKNOWN");
    resp_release(&r);
    ASSERT_EQ(registry_repo_create(e.reg, "strict/app", false, NULL), 0);
    run(&e, HTTP_POST, "/v2/strict/app/blobs/uploads/", NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 202);
    resp_release(&r);
    env_free(&e);
}

TEST(registry_tags_and_catalog_pagination)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    char *m = image_manifest(&e, "page/app", "l", "");
    const char *tags[] = { "e", "a", "D", "c", "b" };
    struct resp r;
    for (size_t i = 0; i < ARRAY_SIZE(tags); i++) {
        put_manifest(&e, "page/app", tags[i], m, OCI_MANIFEST, &r);
        ASSERT_EQ(r.status, 201);
        resp_release(&r);
    }
    run(&e, HTTP_GET, "/v2/page/app/tags/list", NULL, 0, NULL, &r);
    ASSERT_STREQ(r.body, "{\"name\":\"page/app\",\"tags\":[\"D\",\"a\",\"b\",\"c\",\"e\"]}");
    ASSERT_TRUE(hdr(&r, "Link") == NULL);
    resp_release(&r);
    run(&e, HTTP_GET, "/v2/page/app/tags/list?n=2", NULL, 0, NULL, &r);
    ASSERT_STREQ(r.body, "{\"name\":\"page/app\",\"tags\":[\"D\",\"a\"]}");
    ASSERT_STREQ(hdr(&r, "Link"), "</v2/page/app/tags/list?n=2&last=a>; rel=\"next\"");
    resp_release(&r);
    run(&e, HTTP_GET, "/v2/page/app/tags/list?n=2&last=a", NULL, 0, NULL, &r);
    ASSERT_STREQ(r.body, "{\"name\":\"page/app\",\"tags\":[\"b\",\"c\"]}");
    ASSERT_TRUE(hdr(&r, "Link") != NULL);
    resp_release(&r);
    run(&e, HTTP_GET, "/v2/page/app/tags/list?n=2&last=c", NULL, 0, NULL, &r);
    ASSERT_STREQ(r.body, "{\"name\":\"page/app\",\"tags\":[\"e\"]}");
    ASSERT_TRUE(hdr(&r, "Link") == NULL);
    resp_release(&r);
    run(&e, HTTP_GET, "/v2/page/app/tags/list?n=0", NULL, 0, NULL, &r);
    ASSERT_STREQ(r.body, "{\"name\":\"page/app\",\"tags\":[]}");
    ASSERT_TRUE(hdr(&r, "Link") == NULL);
    resp_release(&r);
    run(&e, HTTP_GET, "/v2/page/nothing/tags/list", NULL, 0, NULL, &r);
    ASSERT_ERR(&r, 404, "NAME_UNKNOWN");
    resp_release(&r);

    ASSERT_EQ(registry_repo_create(e.reg, "page/zz", false, NULL), 0);
    ASSERT_EQ(registry_repo_create(e.reg, "aaa", false, NULL), 0);
    run(&e, HTTP_GET, "/v2/_catalog?n=1", NULL, 0, NULL, &r);
    ASSERT_STREQ(r.body, "{\"repositories\":[\"aaa\"]}");
    ASSERT_STREQ(hdr(&r, "Link"), "</v2/_catalog?last=aaa&n=1>; rel=\"next\"");
    resp_release(&r);
    run(&e, HTTP_GET, "/v2/_catalog?n=5&last=aaa", NULL, 0, NULL, &r);
    ASSERT_STREQ(r.body, "{\"repositories\":[\"page/app\",\"page/zz\"]}");
    ASSERT_TRUE(hdr(&r, "Link") == NULL);
    resp_release(&r);
    struct buf names;
    buf_init(&names, 4096);
    ASSERT_EQ(registry_repo_list(e.reg, "aaa", 1, collect_names, &names), 0);
    ASSERT_STREQ(buf_cstr(&names), "page/app,");
    buf_release(&names);
    free(m);
    env_free(&e);
}

TEST(registry_referrers)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    char *base = image_manifest(&e, "ref/app", "base", "");
    char bd[DIGEST_STR_LEN + 1];
    digest_of(base, strlen(base), bd);
    struct resp r;
    char *subject = xasprintf(",\"artifactType\":\"application/vnd.example.sig\","
                              "\"subject\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},"
                              "\"annotations\":{\"org.example.k\":\"v\"}",
                              OCI_MANIFEST, bd, strlen(base));
    char *sig = image_manifest(&e, "ref/app", "signature", subject);
    char sd[DIGEST_STR_LEN + 1];
    digest_of(sig, strlen(sig), sd);
    /* the referrer may come before its subject */
    put_manifest(&e, "ref/app", sd, sig, OCI_MANIFEST, &r);
    ASSERT_EQ(r.status, 201);
    ASSERT_STREQ(hdr(&r, "OCI-Subject"), bd);
    resp_release(&r);
    put_manifest(&e, "ref/app", "base", base, OCI_MANIFEST, &r);
    ASSERT_EQ(r.status, 201);
    resp_release(&r);
    /* a second referrer without artifactType: its config's media type is reported */
    char *sbom_extra =
        xasprintf(",\"subject\":{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}",
                  OCI_MANIFEST, bd, strlen(base));
    char *sbom = image_manifest(&e, "ref/app", "sbom", sbom_extra);
    put_manifest(&e, "ref/app", "sbom", sbom, OCI_MANIFEST, &r);
    ASSERT_EQ(r.status, 201);
    resp_release(&r);

    run(&e, HTTP_GET, fmt("/v2/ref/app/referrers/%s", bd), NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_STREQ(hdr(&r, "Content-Type"), OCI_INDEX);
    json_t *root = json_loadb(r.body, r.len, 0, NULL);
    json_t *ms = json_object_get(root, "manifests");
    ASSERT_EQ(json_array_size(ms), 2);
    json_t *first = json_array_get(ms, 0);
    ASSERT_STREQ(json_string_value(json_object_get(first, "digest")), sd);
    ASSERT_STREQ(json_string_value(json_object_get(first, "artifactType")),
                 "application/vnd.example.sig");
    ASSERT_STREQ(
        json_string_value(json_object_get(json_object_get(first, "annotations"), "org.example.k")),
        "v");
    ASSERT_EQ(json_integer_value(json_object_get(first, "size")), (long long)strlen(sig));
    ASSERT_STREQ(json_string_value(json_object_get(json_array_get(ms, 1), "artifactType")),
                 "application/vnd.oci.image.config.v1+json");
    json_decref(root);
    resp_release(&r);

    run(&e, HTTP_GET, fmt("/v2/ref/app/referrers/%s?artifactType=application/vnd.example.sig", bd),
        NULL, 0, NULL, &r);
    ASSERT_STREQ(hdr(&r, "OCI-Filters-Applied"), "artifactType");
    root = json_loadb(r.body, r.len, 0, NULL);
    ASSERT_EQ(json_array_size(json_object_get(root, "manifests")), 1);
    json_decref(root);
    resp_release(&r);
    /* nothing refers to the signature; unknown repositories have no referrers either */
    run(&e, HTTP_GET, fmt("/v2/ref/app/referrers/%s", sd), NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_TRUE(strstr(r.body, "\"manifests\":[]") != NULL);
    resp_release(&r);
    run(&e, HTTP_GET, fmt("/v2/ref/none/referrers/%s", sd), NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 200);
    resp_release(&r);
    run(&e, HTTP_GET, "/v2/ref/app/referrers/sha256:nope", NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 400);
    resp_release(&r);
    /* deleting the referrer removes it from the list */
    run(&e, HTTP_DELETE, fmt("/v2/ref/app/manifests/%s", sd), NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 202);
    resp_release(&r);
    run(&e, HTTP_GET, fmt("/v2/ref/app/referrers/%s", bd), NULL, 0, NULL, &r);
    root = json_loadb(r.body, r.len, 0, NULL);
    ASSERT_EQ(json_array_size(json_object_get(root, "manifests")), 1);
    json_decref(root);
    resp_release(&r);
    free(sbom);
    free(sbom_extra);
    free(sig);
    free(subject);
    free(base);
    env_free(&e);
}

/* ---- events ---- */

struct ev_log {
    int pushes, deletes, untags;
    int refuse; /* return this from the next call */
    char last_tag[64];
    char last_digest[DIGEST_STR_LEN + 1];
    size_t last_ntags;
    bool in_tx;
    bool wrote_row;
};

static int on_event(void *ctx, struct meta_conn *c, const struct reg_event *ev)
{
    struct ev_log *l = ctx;
    l->in_tx = meta_in_tx(c);
    if (ev->action == REG_EVENT_PUSH)
        l->pushes++;
    else if (ev->action == REG_EVENT_DELETE)
        l->deletes++;
    else
        l->untags++;
    snprintf(l->last_tag, sizeof(l->last_tag), "%s", ev->tag ? ev->tag : "");
    snprintf(l->last_digest, sizeof(l->last_digest), "%s", ev->digest);
    l->last_ntags = ev->ntags;
    /* a row written here commits or rolls back with the change */
    meta_exec(c, "CREATE TABLE IF NOT EXISTS ev_test (x INTEGER)");
    meta_exec(c, "INSERT INTO ev_test VALUES (1)");
    int rc = l->refuse;
    l->refuse = 0;
    return rc;
}

static int ev_rows(struct env *e)
{
    struct meta_conn *c;
    ASSERT_EQ(meta_conn_get(e->db, &c), 0);
    sqlite3_stmt *st;
    if (meta_stmt(c, "SELECT count(*) FROM ev_test", &st) != 0)
        return 0;
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    meta_done(st);
    return n;
}

TEST(registry_events_in_transaction)
{
    struct ev_log log = { 0 };
    struct registry_config cfg;
    registry_config_init(&cfg);
    cfg.on_event = on_event;
    cfg.event_ctx = &log;
    struct env e = { 0 };
    env_open(&e, &cfg);
    char *m = image_manifest(&e, "ev/app", "l", "");
    char md[DIGEST_STR_LEN + 1];
    digest_of(m, strlen(m), md);
    struct resp r;
    put_manifest(&e, "ev/app", "v1", m, OCI_MANIFEST, &r);
    ASSERT_EQ(r.status, 201);
    resp_release(&r);
    ASSERT_EQ(log.pushes, 1);
    ASSERT_TRUE(log.in_tx);
    ASSERT_STREQ(log.last_tag, "v1");
    ASSERT_STREQ(log.last_digest, md);
    ASSERT_EQ(ev_rows(&e), 1);

    /* a refusing listener rolls the push back, its own row included */
    log.refuse = -ERR_DB;
    put_manifest(&e, "ev/app", "v2", m, OCI_MANIFEST, &r);
    ASSERT_EQ(r.status, 500);
    resp_release(&r);
    ASSERT_EQ(log.pushes, 2);
    ASSERT_EQ(ev_rows(&e), 1);
    run(&e, HTTP_GET, "/v2/ev/app/manifests/v2", NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 404);
    resp_release(&r);

    put_manifest(&e, "ev/app", "v3", m, OCI_MANIFEST, &r);
    resp_release(&r);
    run(&e, HTTP_DELETE, "/v2/ev/app/manifests/v3", NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 202);
    resp_release(&r);
    ASSERT_EQ(log.untags, 1);
    ASSERT_STREQ(log.last_tag, "v3");
    run(&e, HTTP_DELETE, fmt("/v2/ev/app/manifests/%s", md), NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 202);
    resp_release(&r);
    ASSERT_EQ(log.deletes, 1);
    ASSERT_EQ(log.last_ntags, 1); /* v1 went with it */
    free(m);
    env_free(&e);
}

TEST(registry_repo_delete)
{
    struct ev_log log = { 0 };
    struct registry_config cfg;
    registry_config_init(&cfg);
    cfg.on_event = on_event;
    cfg.event_ctx = &log;
    struct env e = { 0 };
    env_open(&e, &cfg);
    char *m = image_manifest(&e, "gone/app", "l", "");
    struct resp r;
    put_manifest(&e, "gone/app", "v1", m, OCI_MANIFEST, &r);
    resp_release(&r);
    ASSERT_EQ(registry_repo_delete(e.reg, "gone/app", false), -ENOTEMPTY);
    ASSERT_EQ(registry_repo_delete(e.reg, "gone/app", true), 0);
    ASSERT_EQ(log.deletes, 1);
    struct reg_repo info;
    ASSERT_EQ(registry_repo_get(e.reg, "gone/app", &info), -ENOENT);
    run(&e, HTTP_GET, "/v2/gone/app/manifests/v1", NULL, 0, NULL, &r);
    ASSERT_ERR(&r, 404, "NAME_UNKNOWN");
    resp_release(&r);
    ASSERT_EQ(registry_repo_delete(e.reg, "gone/app", true), -ENOENT);
    free(m);
    env_free(&e);
}

/* ---- control API manifest functions ---- */

TEST(registry_manifest_api)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    char *m = image_manifest(&e, "api/app", "l", "");
    struct reg_put_result res;
    struct reg_error err;
    ASSERT_EQ(registry_manifest_put(e.reg, "api/app", "v1", OCI_MANIFEST "; charset=utf-8", m,
                                    strlen(m), &res, &err),
              0);
    ASSERT_TRUE(res.is_new);
    struct reg_manifest got;
    ASSERT_EQ(registry_manifest_get(e.reg, "api/app", "v1", &got, &err), 0);
    ASSERT_EQ(got.size, strlen(m));
    ASSERT_TRUE(memcmp(got.content, m, got.size) == 0);
    ASSERT_STREQ(got.media_type, OCI_MANIFEST);
    ASSERT_STREQ(got.digest, res.digest);
    reg_manifest_release(&got);
    ASSERT_NE(registry_manifest_get(e.reg, "api/app", "nope", &got, &err), 0);
    ASSERT_STREQ(err.code, "MANIFEST_UNKNOWN");
    ASSERT_EQ(err.status, 404);
    ASSERT_EQ(registry_manifest_put(e.reg, "api/app", "v1", OCI_MANIFEST, m, strlen(m), &res, &err),
              0);
    ASSERT_FALSE(res.is_new);
    ASSERT_EQ(registry_manifest_delete(e.reg, "api/app", res.digest, &err), 0);
    ASSERT_NE(registry_manifest_delete(e.reg, "API", "v1", &err), 0);
    ASSERT_STREQ(err.code, "NAME_INVALID");
    free(m);
    env_free(&e);
}

/* ---- authentication ---- */

TEST(registry_requires_auth_when_configured)
{
    struct reg_auth_config ac = { 0 };
    struct buf hash;
    buf_init(&hash, 4096);
    ASSERT_EQ(buf_append_cstr(&hash, "alice:"), 0);
    ASSERT_EQ(reg_auth_hash_password("secret", &hash), 0);
    ac.users_text = buf_cstr(&hash);
    static const unsigned char key[32] = { 1, 2, 3 };
    ac.token_key = key;
    ac.token_key_len = sizeof(key);
    struct reg_auth *auth;
    ASSERT_EQ(reg_auth_new(&ac, &auth, NULL), 0);
    struct registry_config cfg;
    registry_config_init(&cfg);
    cfg.auth = auth;
    struct env e = { 0 };
    env_open(&e, &cfg);
    struct resp r;
    run(&e, HTTP_GET, "/v2/", NULL, 0, NULL, &r);
    ASSERT_ERR(&r, 401, "UNAUTHORIZED");
    ASSERT_STREQ(hdr(&r, "WWW-Authenticate"), "Basic realm=\"vigil\"");
    resp_release(&r);
    run(&e, HTTP_POST, "/v2/x/blobs/uploads/", NULL, 0, NULL, &r);
    ASSERT_ERR(&r, 401, "UNAUTHORIZED");
    resp_release(&r);
    /* alice:secret */
    const char *h[] = { "Authorization", "Basic YWxpY2U6c2VjcmV0", NULL };
    struct reqopt o = { .headers = h };
    run(&e, HTTP_GET, "/v2/", NULL, 0, &o, &r);
    ASSERT_EQ(r.status, 200);
    resp_release(&r);
    const char *bad[] = { "Authorization", "Basic YWxpY2U6d3Jvbmc=", NULL };
    o.headers = bad;
    run(&e, HTTP_GET, "/v2/", NULL, 0, &o, &r);
    ASSERT_EQ(r.status, 401);
    resp_release(&r);
    env_free(&e);
    reg_auth_free(auth);
    buf_release(&hash);
}

/* ---- gc ---- */

static void age_blob(struct env *e, const char *digest, int64_t linked_at)
{
    struct meta_conn *c;
    ASSERT_EQ(meta_conn_get(e->db, &c), 0);
    sqlite3_stmt *st;
    ASSERT_EQ(meta_stmt(c, "UPDATE blobs SET linked_at = ?2 WHERE digest = ?1", &st), 0);
    meta_bind_text(st, 1, digest);
    meta_bind_int(st, 2, linked_at);
    ASSERT_EQ(meta_step_done(c, st), 0);
}

TEST(registry_gc)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    int64_t now = reg_now();
    /* referenced: config + layer of a pushed manifest */
    char *m = image_manifest(&e, "gc/app", "kept layer", "");
    struct resp r;
    put_manifest(&e, "gc/app", "v1", m, OCI_MANIFEST, &r);
    ASSERT_EQ(r.status, 201);
    resp_release(&r);
    char cfgd[DIGEST_STR_LEN + 1], kept[DIGEST_STR_LEN + 1], old[DIGEST_STR_LEN + 1],
        recent[DIGEST_STR_LEN + 1];
    digest_of(CONFIG, strlen(CONFIG), cfgd);
    digest_of("kept layer", 10, kept);
    /* unreferenced and old; unreferenced and recent (a push in progress) */
    push_blob(&e, "gc/app", "old orphan", 10, old);
    push_blob(&e, "gc/app", "recent orphan", 13, recent);
    age_blob(&e, old, now - 7200);
    age_blob(&e, cfgd, now - 7200);
    age_blob(&e, kept, now - 7200);
    /* an upload session gone stale, and a live one */
    run(&e, HTTP_POST, "/v2/gc/app/blobs/uploads/", NULL, 0, NULL, &r);
    char *stale = xstrdup(hdr(&r, "Location"));
    resp_release(&r);
    /* a blob file nobody knows (a crash between rename and commit) */
    char orphan[DIGEST_STR_LEN + 1];
    ASSERT_EQ(blob_store_put(e.bs, "lost file", 9, NULL, orphan), 0);

    struct reg_gc_options o = { .now = now, .dry_run = true };
    struct reg_gc_report rep;
    ASSERT_EQ(registry_gc(e.reg, &o, &rep), 0);
    ASSERT_EQ(rep.blobs_removed, 1);
    ASSERT_EQ(rep.bytes_removed, 10);
    ASSERT_EQ(blob_store_stat(e.bs, old, NULL, NULL), 0); /* dry run: still there */

    o.dry_run = false;
    ASSERT_EQ(registry_gc(e.reg, &o, &rep), 0);
    ASSERT_EQ(rep.blobs_removed, 1);
    ASSERT_EQ(rep.bytes_removed, 10);
    ASSERT_EQ(rep.uploads_removed, 0);      /* not expired yet */
    ASSERT_EQ(rep.orphan_files_removed, 0); /* too recent */
    ASSERT_EQ(blob_store_stat(e.bs, old, NULL, NULL), -ENOENT);
    ASSERT_EQ(blob_store_stat(e.bs, recent, NULL, NULL), 0);
    ASSERT_EQ(blob_store_stat(e.bs, kept, NULL, NULL), 0);
    ASSERT_EQ(blob_store_stat(e.bs, cfgd, NULL, NULL), 0);
    run(&e, HTTP_HEAD, fmt("/v2/gc/app/blobs/%s", old), NULL, 0, NULL, &r);
    ASSERT_EQ(r.status, 404);
    resp_release(&r);
    run(&e, HTTP_GET, fmt("/v2/gc/app/blobs/%s", kept), NULL, 0, NULL, &r);
    ASSERT_STREQ(r.body, "kept layer");
    resp_release(&r);

    /* a day later: the session expired, the orphan file and the recent blob are old */
    o.now = now + (int64_t)25 * 3600;
    ASSERT_EQ(registry_gc(e.reg, &o, &rep), 0);
    ASSERT_EQ(rep.uploads_removed, 1);
    ASSERT_EQ(rep.orphan_files_removed, 1); /* "lost file" */
    ASSERT_EQ(blob_store_stat(e.bs, orphan, NULL, NULL), -ENOENT);
    ASSERT_EQ(rep.blobs_removed, 1); /* "recent orphan" */
    run(&e, HTTP_GET, stale, NULL, 0, NULL, &r);
    ASSERT_ERR(&r, 404, "BLOB_UPLOAD_UNKNOWN");
    resp_release(&r);
    ASSERT_EQ(blob_store_stat(e.bs, kept, NULL, NULL), 0);

    /* deleting the manifest makes its blobs collectable */
    run(&e, HTTP_DELETE, "/v2/gc/app/manifests/v1", NULL, 0, NULL, &r);
    resp_release(&r);
    ASSERT_EQ(registry_gc(e.reg, &o, &rep), 0);
    ASSERT_EQ(rep.blobs_removed, 0); /* the tag went; the manifest still references them */
    char md[DIGEST_STR_LEN + 1];
    digest_of(m, strlen(m), md);
    run(&e, HTTP_DELETE, fmt("/v2/gc/app/manifests/%s", md), NULL, 0, NULL, &r);
    resp_release(&r);
    ASSERT_EQ(registry_gc(e.reg, &o, &rep), 0);
    ASSERT_EQ(rep.blobs_removed, 2);
    ASSERT_EQ(blob_store_stat(e.bs, kept, NULL, NULL), -ENOENT);

    /* a row whose file vanished is dropped */
    char lost[DIGEST_STR_LEN + 1];
    push_blob(&e, "gc/app", "vanishing", 9, lost);
    ASSERT_EQ(blob_store_remove(e.bs, lost), 0);
    o.now = now;
    ASSERT_EQ(registry_gc(e.reg, &o, &rep), 0);
    ASSERT_EQ(rep.dangling_rows_removed, 1);
    free(stale);
    free(m);
    env_free(&e);
}

TEST(registry_gc_orphan_files)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    char orphan[DIGEST_STR_LEN + 1];
    ASSERT_EQ(blob_store_put(e.bs, "lost file", 9, NULL, orphan), 0);
    struct blob_writer *w;
    ASSERT_EQ(blob_upload_create(e.bs, "orphan-upload", &w), 0);
    ASSERT_EQ(blob_writer_write(w, "xyz", 3), 0);
    blob_upload_release(e.bs, w);
    /* with no grace period, files at least a second old go */
    sleep(1);
    struct reg_gc_options o = { .grace_s = -1, .now = reg_now() + 1 };
    struct reg_gc_report rep;
    ASSERT_EQ(registry_gc(e.reg, &o, &rep), 0);
    ASSERT_EQ(rep.orphan_files_removed, 1);
    ASSERT_EQ(rep.uploads_removed, 1);
    ASSERT_EQ(rep.upload_bytes_removed, 3);
    ASSERT_EQ(blob_store_stat(e.bs, orphan, NULL, NULL), -ENOENT);
    uint64_t off;
    ASSERT_EQ(blob_upload_offset(e.bs, "orphan-upload", &off), -ENOENT);
    env_free(&e);
}

/* ---- concurrency ---- */

struct pusher {
    struct env *e;
    int id;
    int failures;
};

static void *push_many(void *p)
{
    struct pusher *pu = p;
    for (int i = 0; i < 8; i++) {
        char layer[64], repo[32], tag[16];
        snprintf(layer, sizeof(layer), "layer %d/%d", pu->id, i);
        snprintf(repo, sizeof(repo), "conc/app%d", pu->id % 2); /* two threads per repository */
        snprintf(tag, sizeof(tag), "t%d-%d", pu->id, i);
        char *m = image_manifest(pu->e, repo, layer, "");
        struct resp r;
        put_manifest(pu->e, repo, tag, m, OCI_MANIFEST, &r);
        if (r.status != 201)
            pu->failures++;
        resp_release(&r);
        run(pu->e, HTTP_GET, fmt("/v2/%s/manifests/%s", repo, tag), NULL, 0, NULL, &r);
        if (r.status != 200 || strcmp(r.body, m) != 0)
            pu->failures++;
        resp_release(&r);
        free(m);
    }
    meta_thread_done(pu->e->db);
    return NULL;
}

struct collector {
    struct env *e;
    int stop;
    int runs, failures;
};

static void *gc_loop(void *p)
{
    struct collector *co = p;
    while (!__atomic_load_n(&co->stop, __ATOMIC_ACQUIRE)) {
        struct reg_gc_report rep;
        if (registry_gc(co->e->reg, NULL, &rep) != 0 || rep.blobs_removed != 0)
            co->failures++;
        co->runs++;
    }
    meta_thread_done(co->e->db);
    return NULL;
}

TEST(registry_concurrent_pushes_with_gc)
{
    struct env e = { 0 };
    env_open(&e, NULL);
    struct pusher pu[4];
    pthread_t t[4], g;
    struct collector co = { .e = &e };
    ASSERT_EQ(pthread_create(&g, NULL, gc_loop, &co), 0);
    for (int i = 0; i < 4; i++) {
        pu[i] = (struct pusher){ .e = &e, .id = i };
        ASSERT_EQ(pthread_create(&t[i], NULL, push_many, &pu[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ASSERT_EQ(pu[i].failures, 0);
    }
    __atomic_store_n(&co.stop, 1, __ATOMIC_RELEASE);
    pthread_join(g, NULL);
    ASSERT_EQ(co.failures, 0);
    ASSERT_TRUE(co.runs > 0);
    struct resp r;
    run(&e, HTTP_GET, "/v2/conc/app0/tags/list", NULL, 0, NULL, &r);
    json_t *root = json_loadb(r.body, r.len, 0, NULL);
    ASSERT_EQ(json_array_size(json_object_get(root, "tags")), 16);
    json_decref(root);
    resp_release(&r);
    env_free(&e);
}
