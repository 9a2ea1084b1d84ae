/* SPDX-License-Identifier: Apache-2.0 */
/* Shared statement plumbing for work-queue tables kept in the metadata database (rows with an
 * id, a state, an attempt count and a next_at time): paging, the earliest due time, one-row
 * state updates and redrives. Each caller keeps its own SQL and column list. */
#ifndef VIGIL_STORE_QUEUE_H
#define VIGIL_STORE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "store/meta.h"

/* Rows a page holds when the caller passes limit 0. */
#define QUEUE_PAGE_DEFAULT 1000

/* Prepare `sql` (a SELECT taking ?1 = key, ?2 = after_id, ?3 = row limit) and bind them; a
 * `limit` of 0 binds QUEUE_PAGE_DEFAULT. The caller steps *out and resets it (meta_done).
 * Errors: as meta_stmt(). */
int queue_page(struct meta_conn *c, const char *sql, int64_t key, int64_t after_id, size_t limit,
               sqlite3_stmt **out);

/* Run `sql`, a query without parameters whose first row's first column is an integer or NULL:
 * *out is that integer, or `if_null` when the column is NULL. `what` names the query in the
 * log on failure. Errors: as meta_stmt() and meta_err(). */
int queue_scalar_int64(struct meta_conn *c, const char *sql, const char *what, int64_t if_null,
                       int64_t *out);

/* Run an UPDATE `sql` of one row taking ?1 = id, ?2 = a, ?3 = text (NULL binds SQL NULL) and
 * ?4 = now. Errors: -ERR_NOT_FOUND when it changed no row, otherwise as meta_step_done(). */
int queue_row_update(struct meta_conn *c, const char *sql, int64_t id, int64_t a, const char *text,
                     int64_t now);

/* Run a redrive UPDATE `sql` taking ?1 = id (0 = every row it selects) and ?2 = now; *n (may
 * be NULL) is set to the number of rows changed (0 on error). Errors: -ERR_NOT_FOUND when id
 * is positive and no row changed, otherwise as meta_step_done(). */
int queue_redrive(struct meta_conn *c, const char *sql, int64_t id, int64_t now, size_t *n);

#endif
