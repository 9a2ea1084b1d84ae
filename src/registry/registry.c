/* SPDX-License-Identifier: Apache-2.0 */
/* The /v2/ handler: authentication, routing by path and method, OCI error bodies, the base
 * endpoint and the catalog; blobs.c and manifests.c do the rest. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "registry/auth.h"
#include "registry/internal.h"

int64_t reg_now(void)
{
    return (int64_t)time(NULL);
}

/* ---- errors ---- */

int reg_fail(struct reg_error *e, int rc, int status, const char *code, const char *fmt, ...)
{
    if (!e)
        return rc;
    memset(e, 0, sizeof(*e));
    e->status = status;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap); /* NOLINT(clang-analyzer-valist.*) */
    va_end(ap);
    return rc;
}

int reg_fail_internal(struct reg_error *e, int rc, const char *what)
{
    log_error("registry", "%s: %s", what, err_str(rc));
    if (rc == -EBUSY)
        return reg_fail(e, rc, 503, "UNAVAILABLE", "%s: the database is busy, retry", what);
    if (rc == -ENOSPC)
        return reg_fail(e, rc, 507, "UNKNOWN", "%s: no space left on the server", what);
    return reg_fail(e, rc, 500, "UNKNOWN", "%s: %s", what, err_str(rc));
}

static json_t *error_entry(const char *code, const char *message, const char *digest)
{
    json_t *o = json_object();
    json_object_set_new(o, "code", json_string(code));
    json_object_set_new(o, "message", json_string(message));
    if (digest)
        json_object_set_new(o, "detail", json_pack("{s:s}", "digest", digest));
    return o;
}

void reg_send_error(struct http_req *req, struct http_resp *resp, const struct reg_error *e)
{
    json_t *errs = json_array();
    if (e->nmissing > 0) {
        /* one entry per unknown blob, each naming its digest (distribution-spec) */
        size_t n = e->nmissing < REG_ERR_MAX_DIGESTS ? e->nmissing : REG_ERR_MAX_DIGESTS;
        for (size_t i = 0; i < n; i++)
            json_array_append_new(errs, error_entry(e->code, e->message, e->missing[i]));
    } else {
        json_array_append_new(errs, error_entry(e->code, e->message, NULL));
    }
    json_t *root = json_pack("{s:o}", "errors", errs);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (e->status == 401)
        http_resp_header(req, resp, "WWW-Authenticate", "Basic realm=\"vigil\"");
    http_resp_set(req, resp, e->status, "application/json", text, text ? strlen(text) : 0);
    free(text);
}

/* ---- database helpers ---- */

int reg_repo_id(struct meta_conn *c, const char *name, bool create, int64_t *id, bool *immutable)
{
    sqlite3_stmt *st = NULL;
    int rc = meta_stmt(c, "SELECT id, immutable FROM repositories WHERE name = ?1", &st);
    if (rc)
        return rc;
    meta_bind_text(st, 1, name);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        if (immutable)
            *immutable = sqlite3_column_int(st, 1) != 0;
        meta_done(st);
        return 0;
    }
    meta_done(st);
    if (s != SQLITE_DONE)
        return meta_err(c, s, "repository lookup");
    if (!create)
        return -ENOENT;
    rc = meta_stmt(c, "INSERT INTO repositories (name, created_at) VALUES (?1, ?2)", &st);
    if (rc)
        return rc;
    meta_bind_text(st, 1, name);
    meta_bind_int(st, 2, reg_now());
    rc = meta_step_done(c, st);
    if (rc)
        return rc;
    *id = meta_last_rowid(c);
    if (immutable)
        *immutable = false;
    log_info("registry", "repository '%s' created", name);
    return 0;
}

void reg_page_args(const struct http_req *req, size_t *n, const char **last)
{
    *n = REG_PAGE_DEFAULT;
    const char *v = http_req_query(req, "n");
    unsigned long long x;
    if (v && str_to_u64(str_from(v), &x))
        *n = x > REG_PAGE_MAX ? REG_PAGE_MAX : (size_t)x;
    *last = http_req_query(req, "last");
    if (*last && !**last)
        *last = NULL;
}

/* ---- catalog ---- */

void reg_catalog(struct registry *r, struct http_req *req, struct http_resp *resp)
{
    struct reg_error e;
    struct meta_conn *c;
    size_t n;
    const char *last;
    reg_page_args(req, &n, &last);
    int rc = meta_conn_get(r->cfg.db, &c);
    sqlite3_stmt *st = NULL;
    if (rc == 0)
        rc = meta_stmt(c,
                       "SELECT name FROM repositories WHERE ?1 IS NULL OR name > ?1 "
                       "ORDER BY name LIMIT ?2",
                       &st);
    if (rc) {
        reg_fail_internal(&e, rc, "catalog");
        reg_send_error(req, resp, &e);
        return;
    }
    meta_bind_text(st, 1, last);
    meta_bind_int(st, 2, (int64_t)n + 1);
    json_t *arr = json_array();
    const char *lastname = NULL;
    bool more = false;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (json_array_size(arr) == n) {
            more = true;
            break;
        }
        const char *name = (const char *)sqlite3_column_text(st, 0);
        json_array_append_new(arr, json_string(name));
        lastname = json_string_value(json_array_get(arr, json_array_size(arr) - 1));
    }
    meta_done(st);
    if (s != SQLITE_ROW && s != SQLITE_DONE) {
        json_decref(arr);
        reg_fail_internal(&e, meta_err(c, s, "catalog"), "catalog");
        reg_send_error(req, resp, &e);
        return;
    }
    if (more && lastname)
        http_resp_header(req, resp, "Link", "</v2/_catalog?last=%s&n=%zu>; rel=\"next\"", lastname,
                         n);
    json_t *root = json_pack("{s:o}", "repositories", arr);
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    http_resp_set(req, resp, 200, "application/json", text, strlen(text));
    free(text);
}

/* ---- the handler ---- */

static void send_simple(struct http_req *req, struct http_resp *resp, int status, const char *code,
                        const char *msg)
{
    struct reg_error e;
    reg_fail(&e, 0, status, code, "%s", msg);
    reg_send_error(req, resp, &e);
}

static void method_not_allowed(struct http_req *req, struct http_resp *resp)
{
    send_simple(req, resp, 405, "UNSUPPORTED", "method not allowed on this endpoint");
}

static bool deletes_refused(struct registry *r, struct http_req *req, struct http_resp *resp)
{
    if (!r->cfg.delete_disabled)
        return false;
    send_simple(req, resp, 405, "UNSUPPORTED", "deletion is disabled on this registry");
    return true;
}

static void reg_begin(void *app, struct http_req *req, struct http_resp *resp)
{
    struct registry *r = app;
    http_resp_header(req, resp, "Docker-Distribution-API-Version", "registry/2.0");
    if (r->cfg.auth) {
        const char *principal = NULL;
        int rc = reg_auth_check(r->cfg.auth, http_req_header(req, "Authorization"), reg_now(),
                                req->arena, &principal);
        if (rc) {
            send_simple(req, resp, 401, "UNAUTHORIZED", "authentication required");
            return;
        }
        req->principal = principal;
    }

    struct reg_req *st = arena_zalloc(req->arena, sizeof(*st));
    req->state = st;
    int rc = reg_route_parse(str_from(req->path), &st->route);
    if (rc == -ERR_NOT_FOUND) {
        send_simple(req, resp, 404, "NAME_UNKNOWN", "no such registry endpoint");
        return;
    }
    if (rc) {
        struct reg_error e;
        reg_fail(&e, 0, 400, "NAME_INVALID", "invalid repository name '%.*s'",
                 (int)(st->route.name.len > 300 ? 300 : st->route.name.len),
                 st->route.name.ptr ? st->route.name.ptr : "");
        reg_send_error(req, resp, &e);
        return;
    }
    st->name =
        arena_strndup(req->arena, st->route.name.ptr ? st->route.name.ptr : "", st->route.name.len);
    st->arg =
        arena_strndup(req->arena, st->route.arg.ptr ? st->route.arg.ptr : "", st->route.arg.len);

    enum http_method m = req->method;
    bool get = m == HTTP_GET || m == HTTP_HEAD;
    switch (st->route.kind) {
    case REG_ROUTE_BASE:
        if (!get) {
            method_not_allowed(req, resp);
            return;
        }
        http_resp_set(req, resp, 200, "application/json", "{}", 2);
        return;
    case REG_ROUTE_CATALOG:
        if (!get) {
            method_not_allowed(req, resp);
            return;
        }
        reg_catalog(r, req, resp);
        return;
    case REG_ROUTE_TAGS:
        if (!get) {
            method_not_allowed(req, resp);
            return;
        }
        reg_tags_list(r, req, resp, st);
        return;
    case REG_ROUTE_REFERRERS:
        if (!get) {
            method_not_allowed(req, resp);
            return;
        }
        reg_referrers(r, req, resp, st);
        return;
    case REG_ROUTE_MANIFEST:
        if (get) {
            reg_manifest_get_http(r, req, resp, st);
        } else if (m == HTTP_PUT) {
            size_t max = r->cfg.manifest_max;
            if (req->has_content_length && req->content_length > max) {
                struct reg_error e;
                reg_fail(&e, 0, 413, "MANIFEST_INVALID",
                         "manifest is %llu bytes, more than the %zu allowed",
                         (unsigned long long)req->content_length, max);
                reg_send_error(req, resp, &e);
                resp->close = true;
                return;
            }
            st->op = REG_OP_MANIFEST_PUT;
            req->body_max = max;
        } else if (m == HTTP_DELETE) {
            if (!deletes_refused(r, req, resp))
                reg_manifest_delete_http(r, req, resp, st);
        } else {
            method_not_allowed(req, resp);
        }
        return;
    case REG_ROUTE_BLOB:
        if (get)
            reg_blob_get(r, req, resp, st);
        else if (m == HTTP_DELETE) {
            if (!deletes_refused(r, req, resp))
                reg_blob_delete(r, req, resp, st);
        } else
            method_not_allowed(req, resp);
        return;
    case REG_ROUTE_UPLOADS:
        if (m != HTTP_POST) {
            method_not_allowed(req, resp);
            return;
        }
        reg_upload_begin(r, req, resp, st);
        return;
    case REG_ROUTE_UPLOAD:
        if (m != HTTP_GET && m != HTTP_PATCH && m != HTTP_PUT && m != HTTP_DELETE) {
            method_not_allowed(req, resp);
            return;
        }
        reg_upload_begin(r, req, resp, st);
        return;
    }
    method_not_allowed(req, resp);
}

static int reg_body(void *app, struct http_req *req, const char *data, size_t len)
{
    struct reg_req *st = req->state;
    if (!st || !st->w)
        return len ? -ERR_INVALID : 0;
    return reg_upload_body(app, req, st, data, len);
}

static void reg_end(void *app, struct http_req *req, struct http_resp *resp)
{
    struct registry *r = app;
    struct reg_req *st = req->state;
    if (!st || st->op == REG_OP_NONE) {
        if (resp->status == 0)
            send_simple(req, resp, 500, "UNKNOWN", "request not handled");
        return;
    }
    if (st->op == REG_OP_MANIFEST_PUT)
        reg_manifest_put_http(r, req, resp, st);
    else
        reg_upload_end(r, req, resp, st);
}

static void reg_abort(void *app, struct http_req *req)
{
    struct reg_req *st = req->state;
    if (st && st->w)
        reg_upload_abort(app, st);
}

void registry_handler(struct registry *r, struct http_handler *h)
{
    memset(h, 0, sizeof(*h));
    h->app = r;
    h->begin = reg_begin;
    h->body = reg_body;
    h->end = reg_end;
    h->abort = reg_abort;
}

/* ---- lifecycle ---- */

void registry_config_init(struct registry_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->create_on_push = true;
}

int registry_new(const struct registry_config *cfg, struct registry **out, struct diag *d)
{
    if (!cfg->db || !cfg->blobs)
        return diag_set(d, -ERR_INVALID, 0, "registry: %s missing",
                        cfg->db ? "blob store" : "database");
    struct registry *r = xcalloc(1, sizeof(*r));
    r->cfg = *cfg;
    if (!r->cfg.manifest_max)
        r->cfg.manifest_max = REG_MANIFEST_MAX_DEFAULT;
    if (!r->cfg.blob_max)
        r->cfg.blob_max = REG_BLOB_MAX_DEFAULT;
    if (r->cfg.upload_expiry_s <= 0)
        r->cfg.upload_expiry_s = REG_UPLOAD_EXPIRY_S;
    *out = r;
    return 0;
}

void registry_free(struct registry *r)
{
    free(r);
}
