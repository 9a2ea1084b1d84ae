/* SPDX-License-Identifier: Apache-2.0 */
/* Repository management for the control API: create, look up, list, immutability, delete. */
#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "base/vec.h"
#include "registry/internal.h"

static void fill_repo(sqlite3_stmt *st, struct reg_repo *out)
{
    memset(out, 0, sizeof(*out));
    out->id = sqlite3_column_int64(st, 0);
    const char *name = (const char *)sqlite3_column_text(st, 1);
    size_t n = name ? strlen(name) : 0;
    if (n >= sizeof(out->name))
        n = sizeof(out->name) - 1;
    if (n)
        memcpy(out->name, name, n);
    out->created_at = sqlite3_column_int64(st, 2);
    out->immutable = sqlite3_column_int(st, 3) != 0;
}

int registry_repo_get(struct registry *r, const char *name, struct reg_repo *out)
{
    if (!reg_name_is_valid(name, strlen(name)))
        return -ERR_INVALID;
    struct meta_conn *c;
    sqlite3_stmt *st = NULL;
    int rc = meta_conn_get(r->cfg.db, &c);
    if (rc == 0)
        rc = meta_stmt(
            c, "SELECT id, name, created_at, immutable FROM repositories WHERE name = ?1", &st);
    if (rc)
        return rc;
    meta_bind_text(st, 1, name);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        fill_repo(st, out);
    meta_done(st);
    if (s == SQLITE_ROW)
        return 0;
    return s == SQLITE_DONE ? -ENOENT : meta_err(c, s, "repository");
}

int registry_repo_create(struct registry *r, const char *name, bool immutable, struct reg_repo *out)
{
    if (!reg_name_is_valid(name, strlen(name)))
        return -ERR_INVALID;
    struct meta_conn *c;
    sqlite3_stmt *st = NULL;
    int rc = meta_conn_get(r->cfg.db, &c);
    if (rc == 0)
        rc = meta_stmt(c,
                       "INSERT INTO repositories (name, created_at, immutable) VALUES (?1, ?2, ?3) "
                       "ON CONFLICT (name) DO NOTHING",
                       &st);
    if (rc)
        return rc;
    meta_bind_text(st, 1, name);
    meta_bind_int(st, 2, reg_now());
    meta_bind_int(st, 3, immutable);
    rc = meta_step_done(c, st);
    if (rc)
        return rc;
    if (meta_changes(c) == 0)
        return -EEXIST;
    log_info("registry", "repository '%s' created%s", name, immutable ? " (immutable tags)" : "");
    return out ? registry_repo_get(r, name, out) : 0;
}

int registry_repo_list(struct registry *r, const char *after, size_t limit, reg_repo_fn fn,
                       void *ctx)
{
    struct meta_conn *c;
    sqlite3_stmt *st = NULL;
    int rc = meta_conn_get(r->cfg.db, &c);
    if (rc == 0)
        rc = meta_stmt(c,
                       "SELECT id, name, created_at, immutable FROM repositories "
                       "WHERE ?1 IS NULL OR name > ?1 ORDER BY name LIMIT ?2",
                       &st);
    if (rc)
        return rc;
    meta_bind_text(st, 1, after);
    meta_bind_int(st, 2, limit ? (int64_t)limit : -1);
    /* Collect first: the callback may use the database (same connection, other statements),
     * and a statement in progress would hold its read snapshot. */
    VEC(struct reg_repo) all = VEC_INIT;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct reg_repo one;
        fill_repo(st, &one);
        VEC_PUSH(&all, one);
    }
    meta_done(st);
    rc = s == SQLITE_DONE ? 0 : meta_err(c, s, "repository list");
    for (size_t i = 0; rc == 0 && i < all.n; i++)
        rc = fn(ctx, &all.v[i]);
    VEC_FREE(&all);
    return rc;
}

int registry_repo_set_immutable(struct registry *r, const char *name, bool immutable)
{
    if (!reg_name_is_valid(name, strlen(name)))
        return -ERR_INVALID;
    struct meta_conn *c;
    sqlite3_stmt *st = NULL;
    int rc = meta_conn_get(r->cfg.db, &c);
    if (rc == 0)
        rc = meta_stmt(c, "UPDATE repositories SET immutable = ?2 WHERE name = ?1", &st);
    if (rc)
        return rc;
    meta_bind_text(st, 1, name);
    meta_bind_int(st, 2, immutable);
    rc = meta_step_done(c, st);
    if (rc)
        return rc;
    return meta_changes(c) ? 0 : -ENOENT;
}

int registry_repo_delete(struct registry *r, const char *name, bool force)
{
    if (!reg_name_is_valid(name, strlen(name)))
        return -ERR_INVALID;
    struct meta_conn *c;
    int rc = meta_conn_get(r->cfg.db, &c);
    if (rc)
        return rc;
    rc = meta_begin(c);
    if (rc)
        return rc;
    int64_t repo_id;
    rc = reg_repo_id(c, name, false, &repo_id, NULL);
    VEC(int64_t) ids = VEC_INIT;
    sqlite3_stmt *st = NULL;
    if (rc == 0)
        rc = meta_stmt(c, "SELECT id FROM manifests WHERE repo_id = ?1 ORDER BY id", &st);
    if (rc == 0) {
        meta_bind_int(st, 1, repo_id);
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW)
            VEC_PUSH(&ids, sqlite3_column_int64(st, 0));
        meta_done(st);
        if (s != SQLITE_DONE)
            rc = meta_err(c, s, "repository delete");
    }
    if (rc == 0 && ids.n && !force)
        rc = -ENOTEMPTY;
    /* one DELETE event per manifest, so listeners see images go as with single deletes */
    for (size_t i = 0; rc == 0 && i < ids.n; i++) {
        struct reg_error e;
        rc = reg_delete_manifest_tx(r, c, name, repo_id, ids.v[i], &e);
    }
    if (rc == 0)
        rc = meta_stmt(c, "DELETE FROM repositories WHERE id = ?1", &st);
    if (rc == 0) {
        meta_bind_int(st, 1, repo_id);
        rc = meta_step_done(c, st);
    }
    if (rc == 0)
        rc = meta_commit(c);
    else
        meta_rollback(c);
    VEC_FREE(&ids);
    if (rc == 0)
        log_info("registry", "repository '%s' deleted", name);
    return rc;
}
