/* SPDX-License-Identifier: Apache-2.0 */
/* Blob endpoints: download (sendfile, ranges), delete, and uploads — sessions (POST), chunks
 * streamed to disk as they arrive (PATCH), status (GET), completion (PUT), cancellation
 * (DELETE), single-request uploads (POST ?digest=) and cross-repository mounts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/http_range.h"
#include "base/log.h"
#include "registry/internal.h"

static void send_err(struct http_req *req, struct http_resp *resp, const struct reg_error *e)
{
    reg_send_error(req, resp, e);
}

static int conn(struct registry *r, struct meta_conn **c, struct reg_error *e)
{
    int rc = meta_conn_get(r->cfg.db, c);
    return rc ? reg_fail_internal(e, rc, "database connection") : 0;
}

/* Is `digest` a usable blob digest? Fills e with DIGEST_INVALID when not. */
static bool digest_ok(const char *digest, struct reg_error *e)
{
    if (digest && digest_is_sha256(str_from(digest)))
        return true;
    if (digest && digest_is_wellformed(str_from(digest)))
        reg_fail(e, 0, 400, "DIGEST_INVALID", "only sha256 digests are supported");
    else
        reg_fail(e, 0, 400, "DIGEST_INVALID", "invalid digest '%.80s'", digest ? digest : "");
    return false;
}

/* Size of a blob linked to the repository: 0, -ENOENT (not linked, or no such repository). */
static int linked_blob(struct meta_conn *c, const char *repo, const char *digest, uint64_t *size)
{
    sqlite3_stmt *st = NULL;
    int rc = meta_stmt(c,
                       "SELECT b.size FROM repositories r "
                       "JOIN repo_blobs rb ON rb.repo_id = r.id "
                       "JOIN blobs b ON b.digest = rb.digest "
                       "WHERE r.name = ?1 AND rb.digest = ?2",
                       &st);
    if (rc)
        return rc;
    meta_bind_text(st, 1, repo);
    meta_bind_text(st, 2, digest);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        *size = (uint64_t)sqlite3_column_int64(st, 0);
    meta_done(st);
    if (s == SQLITE_ROW)
        return 0;
    return s == SQLITE_DONE ? -ENOENT : meta_err(c, s, "blob lookup");
}

/* ---- GET / HEAD / DELETE /v2/<name>/blobs/<digest> ---- */

void reg_blob_get(struct registry *r, struct http_req *req, struct http_resp *resp,
                  struct reg_req *st)
{
    struct reg_error e;
    struct meta_conn *c;
    if (!digest_ok(st->arg, &e) || conn(r, &c, &e)) {
        send_err(req, resp, &e);
        return;
    }
    uint64_t size = 0;
    int rc = linked_blob(c, st->name, st->arg, &size);
    if (rc == -ENOENT) {
        reg_fail(&e, 0, 404, "BLOB_UNKNOWN", "blob unknown to repository '%s'", st->name);
        send_err(req, resp, &e);
        return;
    }
    if (rc) {
        reg_fail_internal(&e, rc, "blob lookup");
        send_err(req, resp, &e);
        return;
    }
    int fd = -1;
    uint64_t fsize = 0;
    rc = blob_store_open_read(r->cfg.blobs, st->arg, &fd, &fsize);
    if (rc) {
        /* linked but the file is gone (removed by hand, lost): say unknown; gc drops the row */
        log_warn("registry", "blob %s of '%s' is in the database but not on disk: %s", st->arg,
                 st->name, err_str(rc));
        reg_fail(&e, 0, 404, "BLOB_UNKNOWN", "blob unknown to repository '%s'", st->name);
        send_err(req, resp, &e);
        return;
    }
    (void)size;
    http_resp_header(req, resp, "Docker-Content-Digest", "%s", st->arg);
    http_resp_header(req, resp, "ETag", "\"%s\"", st->arg);
    http_resp_header(req, resp, "Accept-Ranges", "bytes");
    http_resp_header(req, resp, "Cache-Control", "max-age=31536000");
    http_resp_set(req, resp, 200, "application/octet-stream", NULL, 0);
    uint64_t off = 0, len = fsize;
    const char *range = req->method == HTTP_GET ? http_req_header(req, "Range") : NULL;
    switch (http_parse_range(range, fsize, &off, &len)) {
    case HTTP_RANGE_PARTIAL:
        resp->status = 206;
        http_resp_header(req, resp, "Content-Range", "bytes %llu-%llu/%llu",
                         (unsigned long long)off, (unsigned long long)(off + len - 1),
                         (unsigned long long)fsize);
        break;
    case HTTP_RANGE_UNSATISFIABLE:
        close(fd);
        http_resp_header(req, resp, "Content-Range", "bytes */%llu", (unsigned long long)fsize);
        http_resp_set(req, resp, 416, NULL, NULL, 0);
        return;
    case HTTP_RANGE_FULL:
        break;
    }
    resp->fd = fd;
    resp->fd_off = off;
    resp->fd_len = len;
}

void reg_blob_delete(struct registry *r, struct http_req *req, struct http_resp *resp,
                     struct reg_req *st)
{
    struct reg_error e;
    struct meta_conn *c;
    if (!digest_ok(st->arg, &e) || conn(r, &c, &e)) {
        send_err(req, resp, &e);
        return;
    }
    sqlite3_stmt *s = NULL;
    int rc = meta_stmt(c,
                       "DELETE FROM repo_blobs WHERE digest = ?2 AND repo_id = "
                       "(SELECT id FROM repositories WHERE name = ?1)",
                       &s);
    if (rc == 0) {
        meta_bind_text(s, 1, st->name);
        meta_bind_text(s, 2, st->arg);
        rc = meta_step_done(c, s);
    }
    if (rc) {
        reg_fail_internal(&e, rc, "blob delete");
        send_err(req, resp, &e);
        return;
    }
    if (meta_changes(c) == 0) {
        reg_fail(&e, 0, 404, "BLOB_UNKNOWN", "blob unknown to repository '%s'", st->name);
        send_err(req, resp, &e);
        return;
    }
    /* the file stays until gc finds no manifest and no repository that needs it */
    http_resp_set(req, resp, 202, NULL, NULL, 0);
}

/* ---- uploads ---- */

static void upload_headers(struct http_req *req, struct http_resp *resp, const char *repo,
                           const char *id, uint64_t offset)
{
    http_resp_header(req, resp, "Location", "/v2/%s/blobs/uploads/%s", repo, id);
    http_resp_header(req, resp, "Docker-Upload-UUID", "%s", id);
    /* inclusive end of what is stored; "0-0" also for an empty upload, as distribution does */
    http_resp_header(req, resp, "Range", "0-%llu", (unsigned long long)(offset ? offset - 1 : 0));
}

/* The session's repository must be the one in the path. 0, -ENOENT, or an error. */
static int session_lookup(struct meta_conn *c, const char *repo, const char *id, int64_t *repo_id)
{
    sqlite3_stmt *st = NULL;
    int rc = meta_stmt(c,
                       "SELECT u.repo_id FROM uploads u JOIN repositories r ON r.id = u.repo_id "
                       "WHERE u.id = ?1 AND r.name = ?2",
                       &st);
    if (rc)
        return rc;
    meta_bind_text(st, 1, id);
    meta_bind_text(st, 2, repo);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        *repo_id = sqlite3_column_int64(st, 0);
    meta_done(st);
    if (s == SQLITE_ROW)
        return 0;
    return s == SQLITE_DONE ? -ENOENT : meta_err(c, s, "upload lookup");
}

static int session_delete(struct meta_conn *c, const char *id)
{
    sqlite3_stmt *st = NULL;
    int rc = meta_stmt(c, "DELETE FROM uploads WHERE id = ?1", &st);
    if (rc)
        return rc;
    meta_bind_text(st, 1, id);
    return meta_step_done(c, st);
}

/* Link an existing blob into a repository (mount, or a completed upload of a known blob). */
static int link_blob(struct meta_conn *c, int64_t repo_id, const char *digest, int64_t now)
{
    sqlite3_stmt *st = NULL;
    int rc = meta_stmt(c,
                       "INSERT INTO repo_blobs (repo_id, digest, created_at) VALUES (?1, ?2, ?3) "
                       "ON CONFLICT DO NOTHING",
                       &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, repo_id);
    meta_bind_text(st, 2, digest);
    meta_bind_int(st, 3, now);
    rc = meta_step_done(c, st);
    if (rc)
        return rc;
    /* a fresh link restarts the gc grace period: a push in progress may rely on it */
    rc = meta_stmt(c, "UPDATE blobs SET linked_at = ?2 WHERE digest = ?1", &st);
    if (rc)
        return rc;
    meta_bind_text(st, 1, digest);
    meta_bind_int(st, 2, now);
    return meta_step_done(c, st);
}

static bool repo_missing(struct registry *r, struct meta_conn *c, const char *repo,
                         struct reg_error *e)
{
    if (r->cfg.create_on_push)
        return false;
    int64_t id;
    int rc = reg_repo_id(c, repo, false, &id, NULL);
    if (rc == 0)
        return false;
    if (rc == -ENOENT)
        reg_fail(e, rc, 404, "NAME_UNKNOWN", "repository '%s' does not exist", repo);
    else
        reg_fail_internal(e, rc, "repository lookup");
    return true;
}

/* POST ?mount=<digest>[&from=<repo>]: 0 mounted, -ENOENT not possible (start an upload). */
static int try_mount(struct registry *r, struct meta_conn *c, const char *repo, const char *digest,
                     const char *from, struct reg_error *e)
{
    if (!digest_is_sha256(str_from(digest)))
        return -ENOENT;
    uint64_t size;
    int rc;
    if (from) {
        if (!reg_name_is_valid(from, strlen(from)))
            return -ENOENT;
        rc = linked_blob(c, from, digest, &size);
    } else {
        /* no source named: any repository that holds the blob will do (spec: optional) */
        sqlite3_stmt *st = NULL;
        rc = meta_stmt(c, "SELECT 1 FROM repo_blobs WHERE digest = ?1 LIMIT 1", &st);
        if (rc == 0) {
            meta_bind_text(st, 1, digest);
            int s = sqlite3_step(st);
            meta_done(st);
            rc = s == SQLITE_ROW ? 0 : (s == SQLITE_DONE ? -ENOENT : meta_err(c, s, "mount"));
        }
    }
    if (rc)
        return rc == -ENOENT ? rc : reg_fail_internal(e, rc, "mount lookup");
    if (blob_store_stat(r->cfg.blobs, digest, NULL, NULL) != 0)
        return -ENOENT;
    rc = meta_begin(c);
    if (rc)
        return reg_fail_internal(e, rc, "mount");
    int64_t repo_id;
    rc = reg_repo_id(c, repo, r->cfg.create_on_push, &repo_id, NULL);
    if (rc == -ENOENT) {
        meta_rollback(c);
        return reg_fail(e, rc, 404, "NAME_UNKNOWN", "repository '%s' does not exist", repo);
    }
    /* the source may have lost the blob since the check: look again under the lock */
    sqlite3_stmt *st = NULL;
    if (rc == 0)
        rc = meta_stmt(c, "SELECT 1 FROM blobs WHERE digest = ?1", &st);
    if (rc == 0) {
        meta_bind_text(st, 1, digest);
        int s = sqlite3_step(st);
        meta_done(st);
        rc = s == SQLITE_ROW ? 0 : (s == SQLITE_DONE ? -ENOENT : meta_err(c, s, "mount"));
    }
    if (rc == 0)
        rc = link_blob(c, repo_id, digest, reg_now());
    if (rc == 0)
        rc = meta_commit(c);
    else
        meta_rollback(c);
    if (rc && rc != -ENOENT)
        return reg_fail_internal(e, rc, "mount");
    return rc;
}

static void blob_created(struct http_req *req, struct http_resp *resp, const char *repo,
                         const char *digest)
{
    http_resp_header(req, resp, "Location", "/v2/%s/blobs/%s", repo, digest);
    http_resp_header(req, resp, "Docker-Content-Digest", "%s", digest);
    http_resp_set(req, resp, 201, NULL, NULL, 0);
}

/* POST /v2/<name>/blobs/uploads/: a session (202), a mount (201), or a one-request upload. */
static void upload_post(struct registry *r, struct http_req *req, struct http_resp *resp,
                        struct reg_req *st, struct meta_conn *c)
{
    struct reg_error e;
    const char *mount = http_req_query(req, "mount");
    const char *digest = http_req_query(req, "digest");
    if (repo_missing(r, c, st->name, &e)) {
        send_err(req, resp, &e);
        return;
    }
    if (mount) {
        int rc = try_mount(r, c, st->name, mount, http_req_query(req, "from"), &e);
        if (rc == 0) {
            log_debug("registry", "mounted %s into '%s'", mount, st->name);
            blob_created(req, resp, st->name, mount);
            return;
        }
        if (rc != -ENOENT) {
            send_err(req, resp, &e);
            return;
        }
        /* not mountable: fall through to an ordinary upload session */
    } else if (digest) {
        if (!digest_ok(digest, &e)) {
            send_err(req, resp, &e);
            return;
        }
        if (req->has_content_length && req->content_length > r->cfg.blob_max) {
            reg_fail(&e, 0, 413, "SIZE_INVALID", "blob is larger than the %llu bytes allowed",
                     (unsigned long long)r->cfg.blob_max);
            send_err(req, resp, &e);
            return;
        }
        char id[BLOB_UPLOAD_ID_LEN + 1];
        blob_upload_id_new(id);
        int rc = blob_upload_create(r->cfg.blobs, id, &st->w);
        if (rc) {
            reg_fail_internal(&e, rc, "upload file");
            send_err(req, resp, &e);
            return;
        }
        st->digest = digest;
        st->op = REG_OP_UPLOAD_POST;
        req->stream = true;
        return;
    }

    char id[BLOB_UPLOAD_ID_LEN + 1];
    blob_upload_id_new(id);
    struct blob_writer *w;
    int rc = blob_upload_create(r->cfg.blobs, id, &w);
    if (rc) {
        reg_fail_internal(&e, rc, "upload file");
        send_err(req, resp, &e);
        return;
    }
    blob_upload_release(r->cfg.blobs, w);
    int64_t repo_id, now = reg_now();
    rc = meta_begin(c);
    if (rc == 0) {
        rc = reg_repo_id(c, st->name, r->cfg.create_on_push, &repo_id, NULL);
        sqlite3_stmt *s = NULL;
        if (rc == 0)
            rc = meta_stmt(c,
                           "INSERT INTO uploads (id, repo_id, created_at, updated_at) "
                           "VALUES (?1, ?2, ?3, ?3)",
                           &s);
        if (rc == 0) {
            meta_bind_text(s, 1, id);
            meta_bind_int(s, 2, repo_id);
            meta_bind_int(s, 3, now);
            rc = meta_step_done(c, s);
        }
        if (rc == 0)
            rc = meta_commit(c);
        else
            meta_rollback(c);
    }
    if (rc) {
        blob_upload_remove(r->cfg.blobs, id);
        if (rc == -ENOENT)
            reg_fail(&e, rc, 404, "NAME_UNKNOWN", "repository '%s' does not exist", st->name);
        else
            reg_fail_internal(&e, rc, "upload session");
        send_err(req, resp, &e);
        return;
    }
    upload_headers(req, resp, st->name, id, 0);
    http_resp_set(req, resp, 202, NULL, NULL, 0);
}

/* Content-Range of a chunk: "first-last" as the spec says, also "bytes first-last/total"
 * and "bytes=first-last" as some clients send. */
static bool parse_content_range(const char *v, uint64_t *first, uint64_t *last)
{
    struct str s = str_trim(str_from(v));
    if (str_has_prefix(s, "bytes")) {
        s.ptr += 5;
        s.len -= 5;
        if (s.len && (s.ptr[0] == '=' || s.ptr[0] == ' ')) {
            s.ptr++;
            s.len--;
        }
    }
    long slash = str_chr(s, '/');
    if (slash >= 0)
        s.len = (size_t)slash;
    struct str a;
    if (!str_cut(&s, '-', &a))
        return false;
    unsigned long long x, y;
    if (!str_to_u64(str_trim(a), &x) || !str_to_u64(str_trim(s), &y) || y < x)
        return false;
    *first = x;
    *last = y;
    return true;
}

static void range_refused(struct http_req *req, struct http_resp *resp, const char *repo,
                          const char *id, uint64_t offset, const char *why)
{
    struct reg_error e;
    upload_headers(req, resp, repo, id, offset);
    reg_fail(&e, 0, 416, "BLOB_UPLOAD_INVALID", "%s (the upload holds %llu bytes)", why,
             (unsigned long long)offset);
    reg_send_error(req, resp, &e);
}

void reg_upload_begin(struct registry *r, struct http_req *req, struct http_resp *resp,
                      struct reg_req *st)
{
    struct reg_error e;
    struct meta_conn *c;
    if (conn(r, &c, &e)) {
        send_err(req, resp, &e);
        return;
    }
    if (st->route.kind == REG_ROUTE_UPLOADS) {
        upload_post(r, req, resp, st, c);
        return;
    }

    const char *id = st->arg;
    int rc = blob_upload_id_valid(id) ? session_lookup(c, st->name, id, &st->repo_id) : -ENOENT;
    if (rc == -ENOENT) {
        reg_fail(&e, 0, 404, "BLOB_UPLOAD_UNKNOWN", "upload '%.80s' unknown to repository '%s'", id,
                 st->name);
        send_err(req, resp, &e);
        return;
    }
    if (rc) {
        reg_fail_internal(&e, rc, "upload lookup");
        send_err(req, resp, &e);
        return;
    }

    if (req->method == HTTP_GET) {
        uint64_t off;
        rc = blob_upload_offset(r->cfg.blobs, id, &off);
        if (rc) {
            reg_fail(&e, 0, 404, "BLOB_UPLOAD_UNKNOWN", "upload '%s' has no data file", id);
            send_err(req, resp, &e);
            return;
        }
        upload_headers(req, resp, st->name, id, off);
        http_resp_set(req, resp, 204, NULL, NULL, 0);
        return;
    }
    if (req->method == HTTP_DELETE) {
        blob_upload_remove(r->cfg.blobs, id);
        rc = session_delete(c, id);
        if (rc) {
            reg_fail_internal(&e, rc, "upload cancel");
            send_err(req, resp, &e);
            return;
        }
        http_resp_set(req, resp, 204, NULL, NULL, 0);
        return;
    }

    /* PATCH or PUT: check the digest and range before taking any body */
    if (req->method == HTTP_PUT) {
        st->digest = http_req_query(req, "digest");
        if (!st->digest) {
            reg_fail(&e, 0, 400, "DIGEST_INVALID", "the digest parameter is required");
            send_err(req, resp, &e);
            return;
        }
        if (!digest_ok(st->digest, &e)) {
            send_err(req, resp, &e);
            return;
        }
    }
    rc = blob_upload_acquire(r->cfg.blobs, id, &st->w);
    if (rc == -EBUSY) {
        reg_fail(&e, 0, 409, "BLOB_UPLOAD_INVALID", "upload '%s' is in use by another request", id);
        send_err(req, resp, &e);
        return;
    }
    if (rc) {
        session_delete(c, id);
        if (rc == -ENOENT)
            reg_fail(&e, 0, 404, "BLOB_UPLOAD_UNKNOWN", "upload '%s' has no data file", id);
        else
            reg_fail_internal(&e, rc, "upload resume");
        send_err(req, resp, &e);
        return;
    }
    uint64_t off = blob_writer_offset(st->w);
    const char *cr = http_req_header(req, "Content-Range");
    if (cr) {
        uint64_t first, last;
        const char *why = NULL;
        if (!parse_content_range(cr, &first, &last))
            why = "malformed Content-Range";
        else if (first != off)
            why = "Content-Range does not start at the end of the upload";
        else if (req->has_content_length && req->content_length != last - first + 1)
            why = "Content-Range and Content-Length disagree";
        if (why) {
            blob_upload_release(r->cfg.blobs, st->w);
            st->w = NULL;
            range_refused(req, resp, st->name, id, off, why);
            return;
        }
        st->has_range = true;
        st->range_first = first;
        st->range_last = last;
    }
    if (req->has_content_length && off + req->content_length > r->cfg.blob_max) {
        blob_upload_release(r->cfg.blobs, st->w);
        st->w = NULL;
        reg_fail(&e, 0, 413, "SIZE_INVALID", "blob would be larger than the %llu bytes allowed",
                 (unsigned long long)r->cfg.blob_max);
        send_err(req, resp, &e);
        return;
    }
    st->op = req->method == HTTP_PUT ? REG_OP_UPLOAD_PUT : REG_OP_UPLOAD_PATCH;
    req->stream = true;
}

int reg_upload_body(struct registry *r, struct http_req *req, struct reg_req *st, const char *data,
                    size_t len)
{
    (void)req;
    if (blob_writer_offset(st->w) + len > r->cfg.blob_max)
        return -ERR_TOO_BIG;
    return blob_writer_write(st->w, data, len);
}

/* Verify, publish and record a completed upload; answers 201 or an error. */
static void upload_complete(struct registry *r, struct http_req *req, struct http_resp *resp,
                            struct reg_req *st)
{
    struct reg_error e;
    struct meta_conn *c;
    struct blob_writer *w = st->w;
    st->w = NULL;
    bool session = st->op == REG_OP_UPLOAD_PUT;
    char id[BLOB_UPLOAD_ID_MAX + 1];
    memcpy(id, blob_writer_id(w), strlen(blob_writer_id(w)) + 1);
    uint64_t size = blob_writer_offset(w);
    char digest[DIGEST_STR_LEN + 1];

    int rc = blob_writer_finish(w, st->digest, digest);
    if (rc) {
        /* the spec: a failed upload is over; nothing of it becomes visible */
        blob_writer_abort(r->cfg.blobs, w);
        if (session && conn(r, &c, &e) == 0)
            session_delete(c, id);
        if (rc == -ERR_DIGEST || rc == -ERR_INVALID || rc == -ERR_UNSUPPORTED)
            reg_fail(&e, 0, 400, "DIGEST_INVALID",
                     "provided digest %.80s did not match uploaded content", st->digest);
        else
            reg_fail_internal(&e, rc, "upload verify");
        send_err(req, resp, &e);
        return;
    }
    if (conn(r, &c, &e)) {
        blob_writer_abort(r->cfg.blobs, w);
        send_err(req, resp, &e);
        return;
    }
    /* The rename happens under the database write lock, so gc (which deletes rows and files
     * under the same lock) can never remove a file this transaction is about to record. */
    rc = meta_begin(c);
    if (rc) {
        blob_upload_release(r->cfg.blobs, w); /* keep it: the client may retry the PUT */
        reg_fail_internal(&e, rc, "upload commit");
        send_err(req, resp, &e);
        return;
    }
    int64_t repo_id, now = reg_now();
    rc = reg_repo_id(c, st->name, r->cfg.create_on_push, &repo_id, NULL);
    if (rc) {
        meta_rollback(c);
        blob_writer_abort(r->cfg.blobs, w);
        if (rc == -ENOENT)
            reg_fail(&e, rc, 404, "NAME_UNKNOWN", "repository '%s' does not exist", st->name);
        else
            reg_fail_internal(&e, rc, "upload commit");
        send_err(req, resp, &e);
        return;
    }
    rc = blob_writer_publish(r->cfg.blobs, w, NULL);
    sqlite3_stmt *s = NULL;
    if (rc == 0)
        rc = meta_stmt(c,
                       "INSERT INTO blobs (digest, size, created_at, linked_at) "
                       "VALUES (?1, ?2, ?3, ?3) ON CONFLICT (digest) DO UPDATE SET "
                       "linked_at = excluded.linked_at",
                       &s);
    if (rc == 0) {
        meta_bind_text(s, 1, digest);
        meta_bind_int(s, 2, (int64_t)size);
        meta_bind_int(s, 3, now);
        rc = meta_step_done(c, s);
    }
    if (rc == 0)
        rc = link_blob(c, repo_id, digest, now);
    if (rc == 0 && session)
        rc = session_delete(c, id);
    if (rc == 0)
        rc = meta_commit(c);
    else
        meta_rollback(c);
    if (rc) {
        /* a file that was renamed into place without its row is removed by gc */
        reg_fail_internal(&e, rc, "upload commit");
        send_err(req, resp, &e);
        return;
    }
    log_debug("registry", "blob %s (%llu bytes) pushed to '%s'", digest, (unsigned long long)size,
              st->name);
    blob_created(req, resp, st->name, digest);
}

void reg_upload_end(struct registry *r, struct http_req *req, struct http_resp *resp,
                    struct reg_req *st)
{
    struct reg_error e;
    if (req->body_err) {
        struct blob_writer *w = st->w;
        st->w = NULL;
        if (st->op == REG_OP_UPLOAD_POST)
            blob_writer_abort(r->cfg.blobs, w);
        else
            blob_upload_release(r->cfg.blobs, w); /* keeps what was written in order */
        if (req->body_err == -ERR_TOO_BIG)
            reg_fail(&e, 0, 413, "SIZE_INVALID", "blob is larger than the %llu bytes allowed",
                     (unsigned long long)r->cfg.blob_max);
        else
            reg_fail_internal(&e, req->body_err, "upload write");
        send_err(req, resp, &e);
        return;
    }
    uint64_t off = blob_writer_offset(st->w);
    if (st->has_range && off != st->range_last + 1) {
        /* fewer (or more) bytes than the Content-Range announced: keep them, say where the
         * upload stands */
        const char *id = arena_strdup(req->arena, blob_writer_id(st->w));
        blob_upload_release(r->cfg.blobs, st->w);
        st->w = NULL;
        range_refused(req, resp, st->name, id, off,
                      "the chunk's length does not match its Content-Range");
        return;
    }
    if (st->op == REG_OP_UPLOAD_PATCH) {
        const char *id = arena_strdup(req->arena, blob_writer_id(st->w));
        blob_upload_release(r->cfg.blobs, st->w);
        st->w = NULL;
        upload_headers(req, resp, st->name, id, off);
        http_resp_set(req, resp, 202, NULL, NULL, 0);
        return;
    }
    upload_complete(r, req, resp, st);
}

void reg_upload_abort(struct registry *r, struct reg_req *st)
{
    struct blob_writer *w = st->w;
    st->w = NULL;
    if (st->op == REG_OP_UPLOAD_POST)
        blob_writer_abort(r->cfg.blobs, w); /* one-request upload: nothing to resume */
    else
        blob_upload_release(r->cfg.blobs, w); /* the client may ask where it stands */
}
