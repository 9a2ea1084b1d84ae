/* SPDX-License-Identifier: Apache-2.0 */
/* The metadata database DATA/vigil.db: SQLite in WAL mode, one connection per thread, schema
 * migrations in order (PRAGMA user_version), BEGIN IMMEDIATE transactions and a per-connection
 * cache of prepared statements. Every module that keeps state writes its rows through here. */
#ifndef VIGIL_STORE_META_H
#define VIGIL_STORE_META_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

struct meta_db;
struct meta_conn;

/* Name of the database file inside the data directory. */
#define META_DB_FILE "vigil.db"

struct meta_options {
    /* Milliseconds a statement waits for another connection's write lock before failing with
     * -EBUSY; 0 = 10000. */
    int busy_timeout_ms;
};

/* Open (creating when absent) the database at `path` and bring its schema up to date: every
 * migration step past the file's user_version runs, in order, each in its own transaction.
 * `opts` may be NULL for defaults. Errors: -ERR_DB (SQLite failure, message in d), -ERR_VERSION
 * (the file was written by a newer vigil: its user_version is past the last known step). */
int meta_open(const char *path, const struct meta_options *opts, struct meta_db **out,
              struct diag *d);
/* Bring one module's own tables up to date: steps[i] (SQL, may hold several statements) takes
 * the module from version i to i + 1; versions are kept per module in schema_modules, so a
 * module appends steps to its own list without touching store/. Call once at start-up (after
 * meta_open), before the module's tables are used; each step runs in its own transaction and
 * concurrent callers (another process) wait for each other. Never edit a step that has shipped.
 * Errors: -ERR_DB (a step failed: d names module and step), -ERR_VERSION (the database has more
 * steps than this build), -EBUSY. */
int meta_migrate(struct meta_db *db, const char *module, const char *const *steps, size_t n,
                 struct diag *d);
/* Close every connection and free the handle. No thread may use a connection of db any more. */
void meta_close(struct meta_db *db);
/* Schema version this build migrates to (the number of migration steps). */
int meta_schema_version(void);

/* The calling thread's connection, opened on first use and kept until meta_thread_done() or
 * meta_close(). Never shared between threads. Errors: -ERR_DB. */
int meta_conn_get(struct meta_db *db, struct meta_conn **out);
/* Close the calling thread's connection (a thread that is about to exit calls this; threads
 * that live as long as the db need not). No-op when the thread has none. */
void meta_thread_done(struct meta_db *db);
/* The raw SQLite handle, for modules that run their own statements. */
sqlite3 *meta_conn_sqlite(struct meta_conn *c);

/* A prepared statement for `sql` from the connection's cache, reset and with bindings cleared.
 * `sql` must be one statement and should be a string literal: the cache is keyed by its
 * address (the text is compared too, so a reused address is harmless). After stepping, call
 * meta_done() (or sqlite3_reset) so the statement releases its read snapshot. Errors:
 * -ERR_DB (the SQL does not compile; logged). */
int meta_stmt(struct meta_conn *c, const char *sql, sqlite3_stmt **out);
/* Reset a statement from meta_stmt() (releases locks); NULL is allowed. */
void meta_done(sqlite3_stmt *st);

/* Run SQL without results (may hold several statements). 0 or a code from meta_err(). */
int meta_exec(struct meta_conn *c, const char *sql);

/* Transactions. meta_begin() takes the write lock at once (BEGIN IMMEDIATE), waiting up to the
 * busy timeout, so a transaction never fails half-way for lock upgrades. Nesting is a BUG.
 * meta_commit() is durable when it returns 0 (synchronous=FULL, see meta.c). meta_rollback()
 * is a no-op without an open transaction. Errors as meta_err(). */
int meta_begin(struct meta_conn *c);
int meta_commit(struct meta_conn *c);
void meta_rollback(struct meta_conn *c);
/* True between meta_begin() and meta_commit()/meta_rollback(). */
bool meta_in_tx(const struct meta_conn *c);

/* Map an SQLite result code to vigil's: SQLITE_BUSY/LOCKED -> -EBUSY, SQLITE_FULL -> -ENOSPC,
 * SQLITE_CONSTRAINT -> -EEXIST, SQLITE_IOERR -> -EIO, anything else -> -ERR_DB. Logs the
 * connection's message (`what` says which operation). */
int meta_err(struct meta_conn *c, int sqlite_rc, const char *what);

/* Step a statement that returns no row, then reset it. 0 or meta_err(). */
int meta_step_done(struct meta_conn *c, sqlite3_stmt *st);
/* The rowid of the last INSERT on this connection. */
int64_t meta_last_rowid(struct meta_conn *c);
/* Rows changed by the last statement on this connection. */
int meta_changes(struct meta_conn *c);

/* Bind helpers: text (NULL binds SQL NULL; copied), 64-bit integers, and a blob that is NOT
 * copied (it must stay valid until the statement is reset). */
void meta_bind_text(sqlite3_stmt *st, int idx, const char *s);
void meta_bind_int(sqlite3_stmt *st, int idx, int64_t v);
void meta_bind_blob(sqlite3_stmt *st, int idx, const void *p, size_t n);

#endif
