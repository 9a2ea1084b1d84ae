/* SPDX-License-Identifier: Apache-2.0 */
/* Manifests: push (validate, check references, immutability, store byte-exact, tag, event —
 * one transaction), pull with content negotiation, delete by digest or tag, tag listing and
 * the referrers API. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "registry/internal.h"

static bool is_digest_ref(const char *ref)
{
    return strchr(ref, ':') != NULL;
}

/* Validate repository and reference; fills e. */
static bool check_name_ref(const char *repo, const char *ref, struct reg_error *e)
{
    if (!reg_name_is_valid(repo, strlen(repo))) {
        reg_fail(e, 0, 400, "NAME_INVALID", "invalid repository name '%.256s'", repo);
        return false;
    }
    if (is_digest_ref(ref)) {
        if (!digest_is_wellformed(str_from(ref))) {
            reg_fail(e, 0, 400, "DIGEST_INVALID", "invalid digest '%.80s'", ref);
            return false;
        }
    } else if (!reg_tag_is_valid(ref, strlen(ref))) {
        reg_fail(e, 0, 400, "TAG_INVALID", "invalid tag '%.130s'", ref);
        return false;
    }
    return true;
}

static int conn_or_fail(struct registry *r, struct meta_conn **c, struct reg_error *e)
{
    int rc = meta_conn_get(r->cfg.db, c);
    return rc ? reg_fail_internal(e, rc, "database connection") : 0;
}

static int exists(struct meta_conn *c, const char *sql, int64_t repo_id, const char *digest,
                  bool *found)
{
    sqlite3_stmt *st = NULL;
    int rc = meta_stmt(c, sql, &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, repo_id);
    meta_bind_text(st, 2, digest);
    int s = sqlite3_step(st);
    meta_done(st);
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        return meta_err(c, s, "reference check");
    *found = s == SQLITE_ROW;
    return 0;
}

static const char SQL_BLOB_LINKED[] = "SELECT 1 FROM repo_blobs WHERE repo_id = ?1 AND digest = ?2";
static const char SQL_MANIFEST_IN[] = "SELECT 1 FROM manifests WHERE repo_id = ?1 AND digest = ?2";

/* Every reference must be in the repository; the missing ones go to e. */
static int check_refs(struct meta_conn *c, int64_t repo_id, const struct reg_manifest_meta *m,
                      struct reg_error *e)
{
    char missing[REG_ERR_MAX_DIGESTS][DIGEST_STR_LEN + 1];
    size_t nmissing = 0, kept = 0;
    for (size_t i = 0; i < m->nrefs; i++) {
        const struct reg_ref *ref = &m->refs[i];
        if (ref->optional)
            continue;
        bool found = false;
        int rc = 0;
        if (ref->is_manifest || ref->any)
            rc = exists(c, SQL_MANIFEST_IN, repo_id, ref->digest, &found);
        if (rc == 0 && !found && !ref->is_manifest)
            rc = exists(c, SQL_BLOB_LINKED, repo_id, ref->digest, &found);
        if (rc)
            return rc;
        if (found)
            continue;
        bool dup = false;
        for (size_t j = 0; j < kept && !dup; j++)
            dup = strcmp(missing[j], ref->digest) == 0;
        if (dup)
            continue;
        nmissing++;
        /* sha512 digests are longer than the slot; they are counted, not listed */
        if (kept < REG_ERR_MAX_DIGESTS && strlen(ref->digest) <= DIGEST_STR_LEN)
            memcpy(missing[kept++], ref->digest, strlen(ref->digest) + 1);
    }
    if (nmissing == 0)
        return 0;
    reg_fail(e, -ERR_BLOB_UNKNOWN, 400, "MANIFEST_BLOB_UNKNOWN",
             "manifest references %zu blob(s) or manifest(s) unknown to the repository%s%s",
             nmissing, kept ? ", e.g. " : "", kept ? missing[0] : "");
    memcpy(e->missing, missing, kept * sizeof(missing[0]));
    e->nmissing = kept;
    return -ERR_BLOB_UNKNOWN;
}

static int call_event(struct registry *r, struct meta_conn *c, const struct reg_event *ev,
                      struct reg_error *e)
{
    if (!r->cfg.on_event)
        return 0;
    int rc = r->cfg.on_event(r->cfg.event_ctx, c, ev);
    if (rc == 0)
        return 0;
    int status = err_http_status(rc);
    if (status < 400)
        status = 500;
    return reg_fail(e, rc, status, status >= 500 ? "UNKNOWN" : err_oci_code(rc),
                    "the change was refused: %s", err_str(rc));
}

/* Insert the manifest row and its references, or find the existing one. */
static int store_manifest(struct meta_conn *c, int64_t repo_id, const char *digest,
                          const struct reg_manifest_meta *m, const void *body, size_t len,
                          int64_t now, int64_t *id, bool *is_new)
{
    sqlite3_stmt *st = NULL;
    int rc = meta_stmt(c, "SELECT id FROM manifests WHERE repo_id = ?1 AND digest = ?2", &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, repo_id);
    meta_bind_text(st, 2, digest);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    meta_done(st);
    if (s == SQLITE_ROW) {
        *is_new = false;
        return 0;
    }
    if (s != SQLITE_DONE)
        return meta_err(c, s, "manifest lookup");
    *is_new = true;
    rc = meta_stmt(c,
                   "INSERT INTO manifests (repo_id, digest, media_type, size, content, subject, "
                   "artifact_type, annotations, created_at) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                   &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, repo_id);
    meta_bind_text(st, 2, digest);
    meta_bind_text(st, 3, m->media_type);
    meta_bind_int(st, 4, (int64_t)len);
    meta_bind_blob(st, 5, body, len);
    meta_bind_text(st, 6, m->subject);
    meta_bind_text(st, 7, m->artifact_type);
    meta_bind_text(st, 8, m->annotations);
    meta_bind_int(st, 9, now);
    rc = meta_step_done(c, st);
    if (rc)
        return rc;
    *id = meta_last_rowid(c);
    rc = meta_stmt(c,
                   "INSERT INTO manifest_refs (manifest_id, digest, is_manifest) "
                   "VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                   &st);
    for (size_t i = 0; rc == 0 && i < m->nrefs; i++) {
        meta_bind_int(st, 1, *id);
        meta_bind_text(st, 2, m->refs[i].digest);
        meta_bind_int(st, 3, m->refs[i].is_manifest);
        rc = meta_step_done(c, st);
    }
    return rc;
}

/* Point `tag` at manifest `id`, unless the repository is immutable and the tag is elsewhere. */
static int set_tag(struct meta_conn *c, int64_t repo_id, const char *repo, bool immutable,
                   const char *tag, int64_t id, int64_t now, bool *moved, struct reg_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = meta_stmt(c, "SELECT manifest_id FROM tags WHERE repo_id = ?1 AND name = ?2", &st);
    if (rc)
        return reg_fail_internal(e, rc, "tag lookup");
    meta_bind_int(st, 1, repo_id);
    meta_bind_text(st, 2, tag);
    int s = sqlite3_step(st);
    int64_t cur = s == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    meta_done(st);
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        return reg_fail_internal(e, meta_err(c, s, "tag lookup"), "tag lookup");
    *moved = false;
    if (s == SQLITE_ROW && cur == id)
        return 0;
    if (s == SQLITE_ROW && immutable)
        return reg_fail(e, -ERR_DENIED, 400, "TAG_INVALID",
                        "The image tag '%s' already exists in the '%s' repository and cannot be "
                        "overwritten because the repository is immutable.",
                        tag, repo);
    rc = meta_stmt(c,
                   "INSERT INTO tags (repo_id, name, manifest_id, updated_at) "
                   "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (repo_id, name) DO UPDATE SET "
                   "manifest_id = excluded.manifest_id, updated_at = excluded.updated_at",
                   &st);
    if (rc == 0) {
        meta_bind_int(st, 1, repo_id);
        meta_bind_text(st, 2, tag);
        meta_bind_int(st, 3, id);
        meta_bind_int(st, 4, now);
        rc = meta_step_done(c, st);
    }
    if (rc)
        return reg_fail_internal(e, rc, "tag update");
    *moved = true;
    return 0;
}

int registry_manifest_put(struct registry *r, const char *repo, const char *reference,
                          const char *content_type, const void *body, size_t len,
                          struct reg_put_result *res, struct reg_error *e)
{
    struct reg_error local;
    if (!e)
        e = &local;
    memset(res, 0, sizeof(*res));
    if (!check_name_ref(repo, reference, e))
        return -ERR_INVALID;
    struct reg_manifest_meta m;
    struct diag d = { 0 };
    int rc = reg_manifest_validate(body, len, r->cfg.manifest_max, content_type, &m, &d);
    if (rc == -ERR_TOO_BIG)
        return reg_fail(e, rc, 413, "MANIFEST_INVALID", "%s", d.msg);
    if (rc)
        return reg_fail(e, -ERR_MANIFEST_INVALID, 400, "MANIFEST_INVALID", "%s", d.msg);

    unsigned char raw[SHA256_LEN];
    sha256_buf(body, len, raw);
    digest_format(raw, res->digest);
    const char *tag = NULL;
    if (is_digest_ref(reference)) {
        if (strcmp(reference, res->digest) != 0) {
            reg_manifest_meta_release(&m);
            return reg_fail(e, -ERR_DIGEST, 400, "DIGEST_INVALID",
                            "manifest digest is %s, not %.80s as the reference says", res->digest,
                            reference);
        }
    } else {
        tag = reference;
    }
    if (m.subject && strlen(m.subject) <= DIGEST_STR_LEN)
        memcpy(res->subject, m.subject, strlen(m.subject) + 1);

    struct meta_conn *c;
    rc = conn_or_fail(r, &c, e);
    if (rc)
        goto out;
    rc = meta_begin(c);
    if (rc) {
        reg_fail_internal(e, rc, "manifest push");
        goto out;
    }
    int64_t repo_id, id = 0, now = reg_now();
    bool immutable = false, moved = false;
    rc = reg_repo_id(c, repo, r->cfg.create_on_push, &repo_id, &immutable);
    if (rc == -ENOENT) {
        reg_fail(e, rc, 404, "NAME_UNKNOWN", "repository '%s' does not exist", repo);
        goto rollback;
    }
    if (rc) {
        reg_fail_internal(e, rc, "manifest push");
        goto rollback;
    }
    rc = check_refs(c, repo_id, &m, e);
    if (rc) {
        if (rc != -ERR_BLOB_UNKNOWN)
            reg_fail_internal(e, rc, "manifest push");
        goto rollback;
    }
    rc = store_manifest(c, repo_id, res->digest, &m, body, len, now, &id, &res->is_new);
    if (rc) {
        reg_fail_internal(e, rc, "manifest store");
        goto rollback;
    }
    if (tag) {
        rc = set_tag(c, repo_id, repo, immutable, tag, id, now, &moved, e);
        if (rc)
            goto rollback;
    }
    struct reg_event ev = {
        .action = REG_EVENT_PUSH,
        .repo = repo,
        .repo_id = repo_id,
        .manifest_id = id,
        .digest = res->digest,
        .media_type = m.media_type,
        .size = len,
        .tag = tag,
        .subject = m.subject,
        .artifact_type = m.artifact_type,
        .is_new = res->is_new,
        .tag_moved = moved,
        .at = now,
    };
    rc = call_event(r, c, &ev, e);
    if (rc)
        goto rollback;
    rc = meta_commit(c);
    if (rc) {
        reg_fail_internal(e, rc, "manifest commit");
        goto out;
    }
    log_info("registry", "pushed %s:%s (%s, %zu bytes)", repo, tag ? tag : res->digest, res->digest,
             len);
    goto out;
rollback:
    meta_rollback(c);
out:
    reg_manifest_meta_release(&m);
    return rc;
}

/* Position a statement on the manifest a reference names (columns: digest, media_type,
 * content, created_at, id). 0 (caller reads then meta_done), or a code with e filled. */
static int manifest_lookup(struct registry *r, const char *repo, const char *reference,
                           struct meta_conn **cp, sqlite3_stmt **out, struct reg_error *e)
{
    if (!check_name_ref(repo, reference, e))
        return -ERR_INVALID;
    struct meta_conn *c;
    int rc = conn_or_fail(r, &c, e);
    if (rc)
        return rc;
    int64_t repo_id;
    rc = reg_repo_id(c, repo, false, &repo_id, NULL);
    if (rc == -ENOENT)
        return reg_fail(e, rc, 404, "NAME_UNKNOWN", "repository '%s' does not exist", repo);
    if (rc)
        return reg_fail_internal(e, rc, "manifest lookup");
    sqlite3_stmt *st = NULL;
    if (is_digest_ref(reference))
        rc = meta_stmt(c,
                       "SELECT digest, media_type, content, created_at, id FROM manifests "
                       "WHERE repo_id = ?1 AND digest = ?2",
                       &st);
    else
        rc = meta_stmt(c,
                       "SELECT m.digest, m.media_type, m.content, m.created_at, m.id "
                       "FROM tags t JOIN manifests m ON m.id = t.manifest_id "
                       "WHERE t.repo_id = ?1 AND t.name = ?2",
                       &st);
    if (rc)
        return reg_fail_internal(e, rc, "manifest lookup");
    meta_bind_int(st, 1, repo_id);
    meta_bind_text(st, 2, reference);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *cp = c;
        *out = st;
        return 0;
    }
    meta_done(st);
    if (s == SQLITE_DONE)
        return reg_fail(e, -ENOENT, 404, "MANIFEST_UNKNOWN",
                        "manifest '%.130s' unknown to repository '%s'", reference, repo);
    return reg_fail_internal(e, meta_err(c, s, "manifest lookup"), "manifest lookup");
}

int registry_manifest_get(struct registry *r, const char *repo, const char *reference,
                          struct reg_manifest *out, struct reg_error *e)
{
    memset(out, 0, sizeof(*out));
    struct meta_conn *c;
    sqlite3_stmt *st = NULL;
    int rc = manifest_lookup(r, repo, reference, &c, &st, e);
    if (rc)
        return rc;
    const char *dg = (const char *)sqlite3_column_text(st, 0);
    if (dg && strlen(dg) <= DIGEST_STR_LEN)
        memcpy(out->digest, dg, strlen(dg) + 1);
    out->media_type = xstrdup((const char *)sqlite3_column_text(st, 1));
    out->size = (size_t)sqlite3_column_bytes(st, 2);
    out->content = xmalloc(out->size ? out->size : 1);
    if (out->size)
        memcpy(out->content, sqlite3_column_blob(st, 2), out->size);
    out->created_at = sqlite3_column_int64(st, 3);
    meta_done(st);
    return 0;
}

void reg_manifest_release(struct reg_manifest *m)
{
    free(m->media_type);
    free(m->content);
    memset(m, 0, sizeof(*m));
}

/* Delete everything about manifest `id` (its tags and references cascade). */
static int delete_manifest_row(struct meta_conn *c, int64_t id)
{
    sqlite3_stmt *st = NULL;
    int rc = meta_stmt(c, "DELETE FROM manifests WHERE id = ?1", &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, id);
    return meta_step_done(c, st);
}

int reg_delete_manifest_tx(struct registry *r, struct meta_conn *c, const char *repo,
                           int64_t repo_id, int64_t id, struct reg_error *e)
{
    sqlite3_stmt *st = NULL;
    int rc = meta_stmt(c,
                       "SELECT digest, media_type, size, subject, artifact_type FROM manifests "
                       "WHERE id = ?1",
                       &st);
    if (rc)
        return reg_fail_internal(e, rc, "manifest delete");
    meta_bind_int(st, 1, id);
    int s = sqlite3_step(st);
    if (s != SQLITE_ROW) {
        meta_done(st);
        return s == SQLITE_DONE ? reg_fail(e, -ENOENT, 404, "MANIFEST_UNKNOWN", "manifest gone")
                                : reg_fail_internal(e, meta_err(c, s, "manifest"), "delete");
    }
    char *digest = xstrdup((const char *)sqlite3_column_text(st, 0));
    char *mt = xstrdup((const char *)sqlite3_column_text(st, 1));
    uint64_t size = (uint64_t)sqlite3_column_int64(st, 2);
    char *subject = sqlite3_column_type(st, 3) == SQLITE_NULL
                        ? NULL
                        : xstrdup((const char *)sqlite3_column_text(st, 3));
    char *at = sqlite3_column_type(st, 4) == SQLITE_NULL
                   ? NULL
                   : xstrdup((const char *)sqlite3_column_text(st, 4));
    meta_done(st);

    VEC(char *) tags = VEC_INIT;
    rc = meta_stmt(c, "SELECT name FROM tags WHERE manifest_id = ?1 ORDER BY name", &st);
    if (rc == 0) {
        meta_bind_int(st, 1, id);
        while ((s = sqlite3_step(st)) == SQLITE_ROW)
            VEC_PUSH(&tags, xstrdup((const char *)sqlite3_column_text(st, 0)));
        meta_done(st);
        if (s != SQLITE_DONE)
            rc = meta_err(c, s, "tags of manifest");
    }
    if (rc == 0)
        rc = delete_manifest_row(c, id);
    if (rc) {
        reg_fail_internal(e, rc, "manifest delete");
    } else {
        struct reg_event ev = {
            .action = REG_EVENT_DELETE,
            .repo = repo,
            .repo_id = repo_id,
            .manifest_id = id,
            .digest = digest,
            .media_type = mt,
            .size = size,
            .tags = (const char *const *)tags.v,
            .ntags = tags.n,
            .subject = subject,
            .artifact_type = at,
            .at = reg_now(),
        };
        rc = call_event(r, c, &ev, e);
    }
    for (size_t i = 0; i < tags.n; i++)
        free(tags.v[i]);
    VEC_FREE(&tags);
    free(digest);
    free(mt);
    free(subject);
    free(at);
    return rc;
}

int registry_manifest_delete(struct registry *r, const char *repo, const char *reference,
                             struct reg_error *e)
{
    struct reg_error local;
    if (!e)
        e = &local;
    if (!check_name_ref(repo, reference, e))
        return -ERR_INVALID;
    struct meta_conn *c;
    int rc = conn_or_fail(r, &c, e);
    if (rc)
        return rc;
    rc = meta_begin(c);
    if (rc)
        return reg_fail_internal(e, rc, "manifest delete");
    int64_t repo_id;
    rc = reg_repo_id(c, repo, false, &repo_id, NULL);
    if (rc) {
        meta_rollback(c);
        if (rc == -ENOENT)
            return reg_fail(e, rc, 404, "NAME_UNKNOWN", "repository '%s' does not exist", repo);
        return reg_fail_internal(e, rc, "manifest delete");
    }
    sqlite3_stmt *st = NULL;
    bool by_digest = is_digest_ref(reference);
    rc = meta_stmt(c,
                   by_digest ? "SELECT id, digest, media_type, size FROM manifests "
                               "WHERE repo_id = ?1 AND digest = ?2"
                             : "SELECT m.id, m.digest, m.media_type, m.size FROM tags t "
                               "JOIN manifests m ON m.id = t.manifest_id "
                               "WHERE t.repo_id = ?1 AND t.name = ?2",
                   &st);
    if (rc) {
        meta_rollback(c);
        return reg_fail_internal(e, rc, "manifest delete");
    }
    meta_bind_int(st, 1, repo_id);
    meta_bind_text(st, 2, reference);
    int s = sqlite3_step(st);
    if (s != SQLITE_ROW) {
        meta_done(st);
        meta_rollback(c);
        if (s == SQLITE_DONE)
            return reg_fail(e, -ENOENT, 404, "MANIFEST_UNKNOWN",
                            "manifest '%.130s' unknown to repository '%s'", reference, repo);
        return reg_fail_internal(e, meta_err(c, s, "manifest delete"), "manifest delete");
    }
    int64_t id = sqlite3_column_int64(st, 0);
    char *digest = xstrdup((const char *)sqlite3_column_text(st, 1));
    char *mt = xstrdup((const char *)sqlite3_column_text(st, 2));
    uint64_t size = (uint64_t)sqlite3_column_int64(st, 3);
    meta_done(st);

    if (by_digest) {
        rc = reg_delete_manifest_tx(r, c, repo, repo_id, id, e);
    } else {
        rc = meta_stmt(c, "DELETE FROM tags WHERE repo_id = ?1 AND name = ?2", &st);
        if (rc == 0) {
            meta_bind_int(st, 1, repo_id);
            meta_bind_text(st, 2, reference);
            rc = meta_step_done(c, st);
        }
        if (rc) {
            reg_fail_internal(e, rc, "tag delete");
        } else {
            struct reg_event ev = {
                .action = REG_EVENT_UNTAG,
                .repo = repo,
                .repo_id = repo_id,
                .manifest_id = id,
                .digest = digest,
                .media_type = mt,
                .size = size,
                .tag = reference,
                .at = reg_now(),
            };
            rc = call_event(r, c, &ev, e);
        }
    }
    if (rc == 0) {
        rc = meta_commit(c);
        if (rc)
            reg_fail_internal(e, rc, "manifest delete");
    } else {
        meta_rollback(c);
    }
    if (rc == 0)
        log_info("registry", "deleted %s %s from '%s'", by_digest ? "manifest" : "tag", reference,
                 repo);
    free(digest);
    free(mt);
    return rc;
}

/* ---- HTTP ---- */

/* Does the Accept header rule out media type `mt`? Only when it lists manifest types and
 * neither mt nor a wildcard is among them (distribution answers 404 then too). */
static bool accept_refuses(const struct http_req *req, const char *mt)
{
    bool lists_manifest = false, ok = false;
    for (size_t i = 0; i < req->headers.n; i++) {
        if (strcasecmp(req->headers.v[i].name, "Accept") != 0)
            continue;
        struct str cur = str_from(req->headers.v[i].value), item;
        while (cur.len > 0) {
            str_cut(&cur, ',', &item);
            struct str t = item;
            long semi = str_chr(t, ';');
            if (semi >= 0)
                t.len = (size_t)semi;
            t = str_trim(t);
            if (str_eq_cstr(t, mt) || str_eq_cstr(t, "*/*") || str_eq_cstr(t, "application/*"))
                ok = true;
            char buf[128];
            if (t.len < sizeof(buf)) {
                memcpy(buf, t.ptr, t.len);
                buf[t.len] = '\0';
                if (manifest_kind_of(buf) != MANIFEST_UNKNOWN)
                    lists_manifest = true;
            }
        }
    }
    return lists_manifest && !ok;
}

void reg_manifest_get_http(struct registry *r, struct http_req *req, struct http_resp *resp,
                           struct reg_req *rs)
{
    struct reg_error e;
    struct meta_conn *c;
    sqlite3_stmt *st = NULL;
    int rc = manifest_lookup(r, rs->name, rs->arg, &c, &st, &e);
    if (rc) {
        reg_send_error(req, resp, &e);
        return;
    }
    const char *digest = arena_strdup(req->arena, (const char *)sqlite3_column_text(st, 0));
    const char *mt = arena_strdup(req->arena, (const char *)sqlite3_column_text(st, 1));
    if (accept_refuses(req, mt)) {
        meta_done(st);
        reg_fail(&e, 0, 404, "MANIFEST_UNKNOWN",
                 "manifest '%.130s' is %s, which the Accept header does not list", rs->arg, mt);
        reg_send_error(req, resp, &e);
        return;
    }
    http_resp_header(req, resp, "Docker-Content-Digest", "%s", digest);
    http_resp_header(req, resp, "ETag", "\"%s\"", digest);
    /* the stored bytes go straight from SQLite's row into the response */
    http_resp_set(req, resp, 200, mt, sqlite3_column_blob(st, 2),
                  (size_t)sqlite3_column_bytes(st, 2));
    meta_done(st);
}

void reg_manifest_put_http(struct registry *r, struct http_req *req, struct http_resp *resp,
                           struct reg_req *rs)
{
    struct reg_error e;
    if (req->body_err) {
        if (req->body_err == -ERR_TOO_BIG)
            reg_fail(&e, 0, 413, "MANIFEST_INVALID",
                     "manifest is larger than the %zu bytes allowed", r->cfg.manifest_max);
        else
            reg_fail_internal(&e, req->body_err, "manifest upload");
        reg_send_error(req, resp, &e);
        return;
    }
    struct reg_put_result res;
    int rc = registry_manifest_put(r, rs->name, rs->arg, http_req_header(req, "Content-Type"),
                                   req->body.data, req->body.len, &res, &e);
    if (rc) {
        reg_send_error(req, resp, &e);
        return;
    }
    http_resp_header(req, resp, "Location", "/v2/%s/manifests/%s", rs->name, res.digest);
    http_resp_header(req, resp, "Docker-Content-Digest", "%s", res.digest);
    if (res.subject[0])
        http_resp_header(req, resp, "OCI-Subject", "%s", res.subject);
    http_resp_set(req, resp, 201, NULL, NULL, 0);
}

void reg_manifest_delete_http(struct registry *r, struct http_req *req, struct http_resp *resp,
                              struct reg_req *rs)
{
    struct reg_error e;
    if (registry_manifest_delete(r, rs->name, rs->arg, &e) != 0) {
        reg_send_error(req, resp, &e);
        return;
    }
    http_resp_set(req, resp, 202, NULL, NULL, 0);
}

void reg_tags_list(struct registry *r, struct http_req *req, struct http_resp *resp,
                   struct reg_req *rs)
{
    struct reg_error e;
    struct meta_conn *c;
    size_t n;
    const char *last;
    reg_page_args(req, &n, &last);
    int rc = conn_or_fail(r, &c, &e);
    int64_t repo_id = 0;
    if (rc == 0) {
        rc = reg_repo_id(c, rs->name, false, &repo_id, NULL);
        if (rc == -ENOENT)
            reg_fail(&e, rc, 404, "NAME_UNKNOWN", "repository '%s' does not exist", rs->name);
        else if (rc)
            reg_fail_internal(&e, rc, "tags");
    }
    sqlite3_stmt *st = NULL;
    if (rc == 0) {
        rc = meta_stmt(c,
                       "SELECT name FROM tags WHERE repo_id = ?1 AND (?2 IS NULL OR name > ?2) "
                       "ORDER BY name LIMIT ?3",
                       &st);
        if (rc)
            reg_fail_internal(&e, rc, "tags");
    }
    if (rc) {
        reg_send_error(req, resp, &e);
        return;
    }
    meta_bind_int(st, 1, repo_id);
    meta_bind_text(st, 2, last);
    meta_bind_int(st, 3, (int64_t)n + 1);
    json_t *arr = json_array();
    bool more = false;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (json_array_size(arr) == n) {
            more = true;
            break;
        }
        json_array_append_new(arr, json_string((const char *)sqlite3_column_text(st, 0)));
    }
    meta_done(st);
    if (s != SQLITE_ROW && s != SQLITE_DONE) {
        json_decref(arr);
        reg_fail_internal(&e, meta_err(c, s, "tags"), "tags");
        reg_send_error(req, resp, &e);
        return;
    }
    if (more && n > 0)
        http_resp_header(req, resp, "Link", "</v2/%s/tags/list?n=%zu&last=%s>; rel=\"next\"",
                         rs->name, n, json_string_value(json_array_get(arr, n - 1)));
    json_t *root = json_pack("{s:s, s:o}", "name", rs->name, "tags", arr);
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    http_resp_set(req, resp, 200, "application/json", text, strlen(text));
    free(text);
}

void reg_referrers(struct registry *r, struct http_req *req, struct http_resp *resp,
                   struct reg_req *rs)
{
    struct reg_error e;
    if (!digest_is_wellformed(str_from(rs->arg))) {
        reg_fail(&e, 0, 400, "DIGEST_INVALID", "invalid digest '%.80s'", rs->arg);
        reg_send_error(req, resp, &e);
        return;
    }
    const char *filter = http_req_query(req, "artifactType");
    if (filter && !*filter)
        filter = NULL;
    struct meta_conn *c;
    int rc = conn_or_fail(r, &c, &e);
    int64_t repo_id = 0;
    if (rc == 0) {
        rc = reg_repo_id(c, rs->name, false, &repo_id, NULL);
        if (rc && rc != -ENOENT)
            reg_fail_internal(&e, rc, "referrers");
    }
    if (rc && rc != -ENOENT) {
        reg_send_error(req, resp, &e);
        return;
    }
    json_t *arr = json_array();
    if (rc == 0) { /* an unknown repository has no referrers: an empty index, never 404 */
        sqlite3_stmt *st = NULL;
        rc = meta_stmt(c,
                       "SELECT media_type, digest, size, artifact_type, annotations "
                       "FROM manifests WHERE repo_id = ?1 AND subject = ?2 "
                       "AND (?3 IS NULL OR artifact_type = ?3) ORDER BY id LIMIT ?4",
                       &st);
        if (rc) {
            json_decref(arr);
            reg_fail_internal(&e, rc, "referrers");
            reg_send_error(req, resp, &e);
            return;
        }
        meta_bind_int(st, 1, repo_id);
        meta_bind_text(st, 2, rs->arg);
        meta_bind_text(st, 3, filter);
        meta_bind_int(st, 4, REG_REFERRERS_MAX);
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_t *d = json_pack("{s:s, s:s, s:I}", "mediaType", sqlite3_column_text(st, 0),
                                  "digest", sqlite3_column_text(st, 1), "size",
                                  (json_int_t)sqlite3_column_int64(st, 2));
            if (sqlite3_column_type(st, 3) != SQLITE_NULL)
                json_object_set_new(d, "artifactType",
                                    json_string((const char *)sqlite3_column_text(st, 3)));
            if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
                json_t *ann = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
                if (ann)
                    json_object_set_new(d, "annotations", ann);
            }
            json_array_append_new(arr, d);
        }
        meta_done(st);
    }
    if (filter)
        http_resp_header(req, resp, "OCI-Filters-Applied", "artifactType");
    json_t *root = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", MT_OCI_INDEX,
                             "manifests", arr);
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    http_resp_set(req, resp, 200, MT_OCI_INDEX, text, strlen(text));
    free(text);
}
