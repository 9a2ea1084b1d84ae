/* SPDX-License-Identifier: Apache-2.0 */
/* Work-queue statement helpers over the metadata database (see queue.h): binding, stepping and
 * the not-found rules shared by every queue table. */
#include "store/queue.h"

int queue_page(struct meta_conn *c, const char *sql, int64_t key, int64_t after_id, size_t limit,
               sqlite3_stmt **out)
{
    int rc = meta_stmt(c, sql, out);
    if (rc < 0)
        return rc;
    meta_bind_int(*out, 1, key);
    meta_bind_int(*out, 2, after_id);
    meta_bind_int(*out, 3, (int64_t)(limit ? limit : QUEUE_PAGE_DEFAULT));
    return 0;
}

int queue_scalar_int64(struct meta_conn *c, const char *sql, const char *what, int64_t if_null,
                       int64_t *out)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c, sql, &st);
    if (rc < 0)
        return rc;
    int sr = sqlite3_step(st);
    *out = if_null;
    if (sr == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *out = sqlite3_column_int64(st, 0);
    else if (sr != SQLITE_ROW)
        rc = meta_err(c, sr, what);
    meta_done(st);
    return rc;
}

int queue_row_update(struct meta_conn *c, const char *sql, int64_t id, int64_t a, const char *text,
                     int64_t now)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c, sql, &st);
    if (rc < 0)
        return rc;
    meta_bind_int(st, 1, id);
    meta_bind_int(st, 2, a);
    meta_bind_text(st, 3, text);
    meta_bind_int(st, 4, now);
    rc = meta_step_done(c, st);
    if (rc == 0 && meta_changes(c) == 0)
        rc = -ERR_NOT_FOUND;
    return rc;
}

int queue_redrive(struct meta_conn *c, const char *sql, int64_t id, int64_t now, size_t *n)
{
    if (n)
        *n = 0;
    sqlite3_stmt *st;
    int rc = meta_stmt(c, sql, &st);
    if (rc < 0)
        return rc;
    meta_bind_int(st, 1, id);
    meta_bind_int(st, 2, now);
    rc = meta_step_done(c, st);
    if (rc < 0)
        return rc;
    int changed = meta_changes(c);
    if (n)
        *n = (size_t)changed;
    return id > 0 && changed == 0 ? -ERR_NOT_FOUND : 0;
}
