/* SPDX-License-Identifier: Apache-2.0 */
/* Garbage collection: expired upload sessions, unreferenced blobs past the grace period,
 * blob files without a row and rows without a file. Candidates are found with plain reads;
 * each removal is re-checked inside a short write transaction, and the file is unlinked while
 * that transaction holds the write lock, so a concurrent upload (which renames its file into
 * place under the same lock) can never lose its file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/vec.h"
#include "base/xalloc.h"
#include "registry/internal.h"

#define GC_BATCH 64

struct upload_file {
    char *id;
    uint64_t size;
    int64_t mtime;
};

typedef VEC(struct upload_file) upload_files;

static int collect_upload(void *ctx, const char *id, uint64_t size, int64_t mtime)
{
    upload_files *v = ctx;
    struct upload_file f = { xstrdup(id), size, mtime };
    VEC_PUSH(v, f);
    return 0;
}

static const struct upload_file *find_upload(const upload_files *v, const char *id)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i].id, id) == 0)
            return &v->v[i];
    return NULL;
}

static int session_exists(struct meta_conn *c, const char *id, int64_t *updated_at)
{
    sqlite3_stmt *st = NULL;
    int rc = meta_stmt(c, "SELECT updated_at FROM uploads WHERE id = ?1", &st);
    if (rc)
        return rc;
    meta_bind_text(st, 1, id);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW && updated_at)
        *updated_at = sqlite3_column_int64(st, 0);
    meta_done(st);
    if (s == SQLITE_ROW)
        return 0;
    return s == SQLITE_DONE ? -ENOENT : meta_err(c, s, "gc uploads");
}

/* Expired sessions (row and file idle past the expiry) and upload files with no session. */
static int gc_uploads(struct registry *r, struct meta_conn *c, int64_t expire_before,
                      int64_t orphan_before, bool dry, struct reg_gc_report *rep)
{
    upload_files files = VEC_INIT;
    int rc = blob_upload_walk(r->cfg.blobs, collect_upload, &files);
    VEC(char *) expired = VEC_INIT;
    sqlite3_stmt *st = NULL;
    if (rc == 0)
        rc = meta_stmt(c, "SELECT id FROM uploads WHERE updated_at < ?1", &st);
    if (rc == 0) {
        meta_bind_int(st, 1, expire_before);
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW)
            VEC_PUSH(&expired, xstrdup((const char *)sqlite3_column_text(st, 0)));
        meta_done(st);
        if (s != SQLITE_DONE)
            rc = meta_err(c, s, "gc uploads");
    }
    for (size_t i = 0; rc == 0 && i < expired.n; i++) {
        const struct upload_file *f = find_upload(&files, expired.v[i]);
        if (f && f->mtime >= expire_before)
            continue; /* written to recently: the session is alive */
        rep->uploads_removed++;
        rep->upload_bytes_removed += f ? f->size : 0;
        if (dry)
            continue;
        rc = meta_stmt(c, "DELETE FROM uploads WHERE id = ?1", &st);
        if (rc == 0) {
            meta_bind_text(st, 1, expired.v[i]);
            rc = meta_step_done(c, st);
        }
        if (rc == 0)
            blob_upload_remove(r->cfg.blobs, expired.v[i]);
    }
    for (size_t i = 0; rc == 0 && i < files.n; i++) {
        const struct upload_file *f = &files.v[i];
        if (f->mtime >= orphan_before)
            continue;
        rc = session_exists(c, f->id, NULL);
        if (rc == 0)
            continue; /* a live session (expired ones were handled above) */
        if (rc != -ENOENT)
            break;
        rc = 0;
        bool counted = false;
        for (size_t j = 0; j < expired.n && !counted; j++)
            counted = strcmp(expired.v[j], f->id) == 0;
        if (counted)
            continue;
        rep->uploads_removed++;
        rep->upload_bytes_removed += f->size;
        if (!dry)
            blob_upload_remove(r->cfg.blobs, f->id);
    }
    for (size_t i = 0; i < expired.n; i++)
        free(expired.v[i]);
    VEC_FREE(&expired);
    for (size_t i = 0; i < files.n; i++)
        free(files.v[i].id);
    VEC_FREE(&files);
    return rc;
}

static const char SQL_UNREFERENCED[] =
    "SELECT b.digest, b.size FROM blobs b WHERE b.linked_at < ?1 "
    "AND NOT EXISTS (SELECT 1 FROM manifest_refs m WHERE m.digest = b.digest) "
    "AND (?2 IS NULL OR b.digest = ?2)";

struct candidate {
    char *digest;
    uint64_t size;
};

/* Remove a batch of candidates, each re-checked under the write lock. */
static int sweep_batch(struct registry *r, struct meta_conn *c, const struct candidate *cand,
                       size_t n, int64_t before, struct reg_gc_report *rep)
{
    int rc = meta_begin(c);
    if (rc)
        return rc;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_stmt *st = NULL;
        rc = meta_stmt(c, SQL_UNREFERENCED, &st);
        if (rc)
            break;
        meta_bind_int(st, 1, before);
        meta_bind_text(st, 2, cand[i].digest);
        int s = sqlite3_step(st);
        meta_done(st);
        if (s == SQLITE_DONE)
            continue; /* referenced or relinked meanwhile */
        if (s != SQLITE_ROW) {
            rc = meta_err(c, s, "gc recheck");
            break;
        }
        rc = meta_stmt(c, "DELETE FROM blobs WHERE digest = ?1", &st);
        if (rc == 0) {
            meta_bind_text(st, 1, cand[i].digest);
            rc = meta_step_done(c, st);
        }
        if (rc)
            break;
        int frc = blob_store_remove(r->cfg.blobs, cand[i].digest);
        if (frc && frc != -ENOENT)
            log_warn("registry", "gc: cannot remove blob %s: %s", cand[i].digest, err_str(frc));
        rep->blobs_removed++;
        rep->bytes_removed += cand[i].size;
    }
    if (rc == 0)
        return meta_commit(c);
    meta_rollback(c);
    return rc;
}

static int gc_blobs(struct registry *r, struct meta_conn *c, int64_t before, bool dry,
                    struct reg_gc_report *rep)
{
    VEC(struct candidate) cand = VEC_INIT;
    sqlite3_stmt *st = NULL;
    int rc = meta_stmt(c, SQL_UNREFERENCED, &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, before);
    meta_bind_text(st, 2, NULL);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct candidate one = { xstrdup((const char *)sqlite3_column_text(st, 0)),
                                 (uint64_t)sqlite3_column_int64(st, 1) };
        VEC_PUSH(&cand, one);
    }
    meta_done(st);
    if (s != SQLITE_DONE)
        rc = meta_err(c, s, "gc mark");
    if (rc == 0 && dry) {
        rep->blobs_removed += cand.n;
        for (size_t i = 0; i < cand.n; i++)
            rep->bytes_removed += cand.v[i].size;
    }
    for (size_t i = 0; rc == 0 && !dry && i < cand.n; i += GC_BATCH) {
        size_t n = cand.n - i < GC_BATCH ? cand.n - i : GC_BATCH;
        rc = sweep_batch(r, c, cand.v + i, n, before, rep);
    }
    for (size_t i = 0; i < cand.n; i++)
        free(cand.v[i].digest);
    VEC_FREE(&cand);
    return rc;
}

/* Blob rows whose file is gone: drop them (their repository links go with them). */
static int gc_dangling(struct registry *r, struct meta_conn *c, bool dry, struct reg_gc_report *rep)
{
    VEC(char *) gone = VEC_INIT;
    sqlite3_stmt *st = NULL;
    int rc = meta_stmt(c, "SELECT digest FROM blobs", &st);
    if (rc)
        return rc;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(st, 0);
        if (blob_store_stat(r->cfg.blobs, d, NULL, NULL) == -ENOENT)
            VEC_PUSH(&gone, xstrdup(d));
    }
    meta_done(st);
    if (s != SQLITE_DONE)
        rc = meta_err(c, s, "gc dangling");
    if (rc == 0 && gone.n && !dry)
        rc = meta_begin(c);
    for (size_t i = 0; rc == 0 && i < gone.n; i++) {
        if (dry) {
            rep->dangling_rows_removed++;
            continue;
        }
        if (blob_store_stat(r->cfg.blobs, gone.v[i], NULL, NULL) != -ENOENT)
            continue; /* uploaded again meanwhile */
        rc = meta_stmt(c, "DELETE FROM blobs WHERE digest = ?1", &st);
        if (rc == 0) {
            meta_bind_text(st, 1, gone.v[i]);
            rc = meta_step_done(c, st);
        }
        if (rc == 0)
            rep->dangling_rows_removed++;
    }
    if (gone.n && !dry) {
        if (rc == 0)
            rc = meta_commit(c);
        else if (meta_in_tx(c))
            meta_rollback(c);
    }
    for (size_t i = 0; i < gone.n; i++)
        free(gone.v[i]);
    VEC_FREE(&gone);
    return rc;
}

struct orphan_ctx {
    struct meta_conn *c;
    int64_t before;
    VEC(struct candidate) found;
    int err;
};

static int blob_row_exists(struct meta_conn *c, const char *digest, bool *found)
{
    sqlite3_stmt *st = NULL;
    int rc = meta_stmt(c, "SELECT 1 FROM blobs WHERE digest = ?1", &st);
    if (rc)
        return rc;
    meta_bind_text(st, 1, digest);
    int s = sqlite3_step(st);
    meta_done(st);
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        return meta_err(c, s, "gc orphans");
    *found = s == SQLITE_ROW;
    return 0;
}

static int orphan_cb(void *ctx, const char *digest, uint64_t size, int64_t mtime)
{
    struct orphan_ctx *o = ctx;
    if (mtime >= o->before)
        return 0;
    bool found = false;
    int rc = blob_row_exists(o->c, digest, &found);
    if (rc)
        return rc;
    if (!found) {
        struct candidate one = { xstrdup(digest), size };
        VEC_PUSH(&o->found, one);
    }
    return 0;
}

/* Blob files the database does not know (a crash between rename and commit, or a commit that
 * failed): removed once older than the grace period. */
static int gc_orphans(struct registry *r, struct meta_conn *c, int64_t before, bool dry,
                      struct reg_gc_report *rep)
{
    struct orphan_ctx o = { .c = c, .before = before };
    int rc = blob_store_walk(r->cfg.blobs, orphan_cb, &o);
    for (size_t i = 0; rc == 0 && i < o.found.n; i += GC_BATCH) {
        size_t n = o.found.n - i < GC_BATCH ? o.found.n - i : GC_BATCH;
        if (dry) {
            rep->orphan_files_removed += n;
            for (size_t j = 0; j < n; j++)
                rep->bytes_removed += o.found.v[i + j].size;
            continue;
        }
        rc = meta_begin(c);
        for (size_t j = 0; rc == 0 && j < n; j++) {
            bool found = false;
            rc = blob_row_exists(c, o.found.v[i + j].digest, &found);
            if (rc || found)
                continue;
            if (blob_store_remove(r->cfg.blobs, o.found.v[i + j].digest) == 0) {
                rep->orphan_files_removed++;
                rep->bytes_removed += o.found.v[i + j].size;
            }
        }
        if (rc == 0)
            rc = meta_commit(c);
        else if (meta_in_tx(c))
            meta_rollback(c);
    }
    for (size_t i = 0; i < o.found.n; i++)
        free(o.found.v[i].digest);
    VEC_FREE(&o.found);
    return rc;
}

int registry_gc(struct registry *r, const struct reg_gc_options *opts, struct reg_gc_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    struct reg_gc_options o = { 0 };
    if (opts)
        o = *opts;
    int64_t now = o.now ? o.now : reg_now();
    int64_t grace = o.grace_s == 0 ? REG_GC_GRACE_S : (o.grace_s < 0 ? 0 : o.grace_s);
    int64_t expiry = o.upload_expiry_s > 0 ? o.upload_expiry_s : r->cfg.upload_expiry_s;
    if (expiry <= 0)
        expiry = REG_UPLOAD_EXPIRY_S;
    /* "older than the grace period" is strict: with no grace at all, only what is at least a
     * second old goes (a blob linked in this very second may belong to a push in progress) */
    int64_t before = now - grace;

    struct meta_conn *c;
    int rc = meta_conn_get(r->cfg.db, &c);
    if (rc == 0)
        rc = gc_uploads(r, c, now - expiry, before, o.dry_run, rep);
    if (rc == 0)
        rc = gc_blobs(r, c, before, o.dry_run, rep);
    if (rc == 0)
        rc = gc_orphans(r, c, before, o.dry_run, rep);
    if (rc == 0)
        rc = gc_dangling(r, c, o.dry_run, rep);
    if (rc == 0) {
        sqlite3_stmt *st = NULL;
        rc = meta_stmt(c, "SELECT count(*) FROM blobs", &st);
        if (rc == 0) {
            if (sqlite3_step(st) == SQLITE_ROW)
                rep->blobs_kept = (uint64_t)sqlite3_column_int64(st, 0);
            meta_done(st);
            if (o.dry_run)
                rep->blobs_kept =
                    rep->blobs_kept > rep->blobs_removed ? rep->blobs_kept - rep->blobs_removed : 0;
        }
    }
    log_info("registry",
             "gc%s: %llu blobs (%llu bytes) removed, %llu kept, %llu uploads, %llu orphan "
             "files, %llu dangling rows",
             o.dry_run ? " (dry run)" : "", (unsigned long long)rep->blobs_removed,
             (unsigned long long)rep->bytes_removed, (unsigned long long)rep->blobs_kept,
             (unsigned long long)rep->uploads_removed,
             (unsigned long long)rep->orphan_files_removed,
             (unsigned long long)rep->dangling_rows_removed);
    return rc;
}
