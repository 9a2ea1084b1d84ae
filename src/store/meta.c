/* SPDX-License-Identifier: Apache-2.0 */
/* SQLite metadata store: per-thread connections, migrations, transactions and a small cache of
 * prepared statements per connection. */
#include "store/meta.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xalloc.h"

/* Schema steps, applied in order; step i (1-based) brings user_version to i. Append new steps
 * at the end and never edit a step that has shipped: databases already past it would not see
 * the change. Each step runs in one transaction with the version bump. */
static const char *const migrations[] = {
    /* 1: registry: repositories, blobs and their per-repository links, manifests (stored
     * byte-exact), what they reference, tags, upload sessions. */
    "CREATE TABLE repositories ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL,"
    "  immutable INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE blobs ("
    "  digest TEXT PRIMARY KEY,"
    "  size INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  linked_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE repo_blobs ("
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  digest TEXT NOT NULL REFERENCES blobs(digest) ON DELETE CASCADE,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (repo_id, digest)) WITHOUT ROWID;"
    "CREATE INDEX repo_blobs_digest ON repo_blobs(digest);"
    "CREATE TABLE manifests ("
    "  id INTEGER PRIMARY KEY,"
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  digest TEXT NOT NULL,"
    "  media_type TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  content BLOB NOT NULL,"
    "  subject TEXT,"
    "  artifact_type TEXT,"
    "  annotations TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (repo_id, digest));"
    "CREATE INDEX manifests_subject ON manifests(repo_id, subject) WHERE subject IS NOT NULL;"
    "CREATE TABLE manifest_refs ("
    "  manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,"
    "  digest TEXT NOT NULL,"
    "  is_manifest INTEGER NOT NULL,"
    "  PRIMARY KEY (manifest_id, digest)) WITHOUT ROWID;"
    "CREATE INDEX manifest_refs_digest ON manifest_refs(digest);"
    "CREATE TABLE tags ("
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,"
    "  updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (repo_id, name)) WITHOUT ROWID;"
    "CREATE INDEX tags_manifest ON tags(manifest_id);"
    "CREATE TABLE uploads ("
    "  id TEXT PRIMARY KEY,"
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL) WITHOUT ROWID;",
    /* 2: scanning (src/scan/service.h): registry and repository scanning configuration, one
     * result per (repository, manifest) with its stored inventory and severity counts, the
     * job queue, findings (one row per basic finding or per enhanced vulnerability) whose
     * advisory texts are shared through scan_vulns, the (ecosystem, package) -> result index
     * the continuous rescans look up, and the service's own state (rescan progress). */
    "CREATE TABLE scan_registry_config ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  scan_type INTEGER NOT NULL,"
    "  rules TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE scan_repo_config ("
    "  repo_id INTEGER PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,"
    "  scan_on_push INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE scan_results ("
    "  id INTEGER PRIMARY KEY,"
    "  repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,"
    "  manifest_id INTEGER NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,"
    "  digest TEXT NOT NULL,"
    "  scan_type INTEGER NOT NULL,"
    "  frequency INTEGER NOT NULL,"
    "  status INTEGER NOT NULL,"
    "  description TEXT NOT NULL DEFAULT '',"
    "  requested_at INTEGER NOT NULL,"
    "  started_at INTEGER,"
    "  completed_at INTEGER,"
    "  evaluated_at INTEGER,"
    "  vuln_updated_at INTEGER,"
    "  vuln_import INTEGER,"
    "  n_critical INTEGER NOT NULL DEFAULT 0,"
    "  n_high INTEGER NOT NULL DEFAULT 0,"
    "  n_medium INTEGER NOT NULL DEFAULT 0,"
    "  n_low INTEGER NOT NULL DEFAULT 0,"
    "  n_informational INTEGER NOT NULL DEFAULT 0,"
    "  n_undefined INTEGER NOT NULL DEFAULT 0,"
    "  inventory BLOB,"
    "  UNIQUE (repo_id, digest));"
    "CREATE INDEX scan_results_manifest ON scan_results(manifest_id);"
    "CREATE INDEX scan_results_digest ON scan_results(digest, scan_type);"
    "CREATE TABLE scan_jobs ("
    "  id INTEGER PRIMARY KEY,"
    "  result_id INTEGER NOT NULL UNIQUE REFERENCES scan_results(id) ON DELETE CASCADE,"
    "  kind INTEGER NOT NULL,"
    "  state INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  claimed_at INTEGER);"
    "CREATE INDEX scan_jobs_queue ON scan_jobs(state, id);"
    "CREATE TABLE scan_vulns ("
    "  hash BLOB PRIMARY KEY,"
    "  vuln_id TEXT NOT NULL,"
    "  data BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE scan_findings ("
    "  result_id INTEGER NOT NULL REFERENCES scan_results(id) ON DELETE CASCADE,"
    "  fkey TEXT NOT NULL,"
    "  vuln_id TEXT NOT NULL,"
    "  severity INTEGER NOT NULL,"
    "  status INTEGER NOT NULL,"
    "  fix TEXT NOT NULL,"
    "  first_at INTEGER NOT NULL,"
    "  last_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  chash BLOB NOT NULL,"
    "  members BLOB NOT NULL,"
    "  PRIMARY KEY (result_id, fkey)) WITHOUT ROWID;"
    "CREATE TABLE scan_pkg_index ("
    "  eco TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  result_id INTEGER NOT NULL REFERENCES scan_results(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (eco, name, result_id)) WITHOUT ROWID;"
    "CREATE INDEX scan_pkg_index_result ON scan_pkg_index(result_id);"
    "CREATE TABLE scan_state ("
    "  key TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL) WITHOUT ROWID;",
    /* 3: schema versions of the modules that keep their own list of steps (meta_migrate) */
    "CREATE TABLE schema_modules ("
    "  module TEXT PRIMARY KEY,"
    "  version INTEGER NOT NULL) WITHOUT ROWID;",
};

#define STMT_CACHE 96

struct stmt_slot {
    const char *key; /* address of the caller's SQL text */
    sqlite3_stmt *st;
};

struct meta_conn {
    sqlite3 *db;
    struct meta_db *owner;
    struct meta_conn *next; /* in owner->conns */
    bool in_tx;
    size_t nslots, evict;
    struct stmt_slot slots[STMT_CACHE];
};

struct meta_db {
    char *path;
    int busy_timeout_ms;
    uint64_t gen;         /* unique per open, keys the thread-local connection slots */
    pthread_mutex_t lock; /* guards conns */
    struct meta_conn *conns;
};

/* Each thread remembers its connection per open database in a few thread-local slots keyed by
 * the database's generation number. Generations are never reused, so a slot left behind by a
 * closed database can never match a later one (a pthread key could be recycled and hand back
 * a freed connection). */
#define TLS_SLOTS 8
static _Thread_local struct {
    uint64_t gen;
    struct meta_conn *conn;
} tls_slots[TLS_SLOTS];
static _Thread_local unsigned tls_next;
static uint64_t next_gen = 1;
static pthread_mutex_t gen_lock = PTHREAD_MUTEX_INITIALIZER;

int meta_schema_version(void)
{
    return (int)ARRAY_SIZE(migrations);
}

int meta_err(struct meta_conn *c, int rc, const char *what)
{
    int prim = rc & 0xff;
    log_error("store", "sqlite %s: %s (%d)", what, c ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc),
              rc);
    switch (prim) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_CONSTRAINT:
        return -EEXIST;
    case SQLITE_IOERR:
        return -EIO;
    default:
        return -ERR_DB;
    }
}

static void conn_close(struct meta_conn *c)
{
    for (size_t i = 0; i < c->nslots; i++)
        sqlite3_finalize(c->slots[i].st);
    sqlite3_close(c->db);
    free(c);
}

static void conn_unlink(struct meta_db *db, struct meta_conn *c)
{
    pthread_mutex_lock(&db->lock);
    for (struct meta_conn **pp = &db->conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    pthread_mutex_unlock(&db->lock);
}

static void tls_set(uint64_t gen, struct meta_conn *c)
{
    for (unsigned i = 0; i < TLS_SLOTS; i++) {
        if (tls_slots[i].gen == gen || tls_slots[i].gen == 0) {
            tls_slots[i].gen = gen;
            tls_slots[i].conn = c;
            return;
        }
    }
    unsigned i = tls_next++ % TLS_SLOTS;
    tls_slots[i].gen = gen;
    tls_slots[i].conn = c;
}

static struct meta_conn *tls_get(uint64_t gen)
{
    for (unsigned i = 0; i < TLS_SLOTS; i++)
        if (tls_slots[i].gen == gen)
            return tls_slots[i].conn;
    return NULL;
}

static void tls_clear(uint64_t gen)
{
    for (unsigned i = 0; i < TLS_SLOTS; i++)
        if (tls_slots[i].gen == gen)
            tls_slots[i].gen = 0;
}

/* Open one connection with vigil's settings.
 *
 * Durability: journal_mode=WAL with synchronous=FULL, so every COMMIT fsyncs the WAL before it
 * returns. synchronous=NORMAL would already survive a killed process (SIGKILL: the WAL is in
 * the OS page cache and is replayed on the next open) but can lose the last transactions on
 * power loss or a kernel crash; an acknowledged push must survive both, and the price is one
 * WAL fsync per write transaction (a few per image push). */
static int conn_open(struct meta_db *db, struct meta_conn **out, struct diag *d)
{
    struct meta_conn *c = xcalloc(1, sizeof(*c));
    c->owner = db;
    int rc = sqlite3_open_v2(
        db->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        diag_set(d, -ERR_DB, 0, "cannot open '%s': %s", db->path,
                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        sqlite3_close(c->db);
        free(c);
        return -ERR_DB;
    }
    sqlite3_busy_timeout(c->db, db->busy_timeout_ms);
    sqlite3_extended_result_codes(c->db, 1);
    static const char setup[] = "PRAGMA journal_mode=WAL;"
                                "PRAGMA synchronous=FULL;"
                                "PRAGMA foreign_keys=ON;"
                                "PRAGMA temp_store=MEMORY;";
    char *msg = NULL;
    rc = sqlite3_exec(c->db, setup, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        diag_set(d, -ERR_DB, 0, "cannot set up '%s': %s", db->path, msg ? msg : "?");
        sqlite3_free(msg);
        conn_close(c);
        return -ERR_DB;
    }
    *out = c;
    return 0;
}

static int user_version(struct meta_conn *c, int *v)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return meta_err(c, rc, "user_version");
    rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : meta_err(c, rc, "user_version");
}

static int migrate(struct meta_conn *c, struct diag *d)
{
    int have = 0, rc;
    for (;;) {
        rc = meta_begin(c);
        if (rc)
            return diag_set(d, rc, 0, "cannot lock the database for migration");
        /* read inside the write lock: another process may have migrated meanwhile */
        rc = user_version(c, &have);
        if (rc)
            goto fail;
        if (have > meta_schema_version()) {
            meta_rollback(c);
            return diag_set(d, -ERR_VERSION, 0,
                            "database schema version %d is newer than this vigil (%d)", have,
                            meta_schema_version());
        }
        if (have == meta_schema_version()) {
            meta_rollback(c);
            return 0;
        }
        char *msg = NULL;
        rc = sqlite3_exec(c->db, migrations[have], NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
            diag_set(d, -ERR_DB, 0, "migration %d failed: %s", have + 1, msg ? msg : "?");
            sqlite3_free(msg);
            meta_rollback(c);
            return -ERR_DB;
        }
        char bump[64];
        snprintf(bump, sizeof(bump), "PRAGMA user_version=%d", have + 1);
        rc = meta_exec(c, bump);
        if (rc)
            goto fail;
        rc = meta_commit(c);
        if (rc)
            return diag_set(d, rc, 0, "migration %d: commit failed", have + 1);
        log_info("store", "database migrated to schema version %d", have + 1);
    }
fail:
    meta_rollback(c);
    return diag_set(d, rc, 0, "migration failed: %s", err_str(rc));
}

static int module_version(struct meta_conn *c, const char *module, int *v)
{
    sqlite3_stmt *st = NULL;
    int rc = meta_stmt(c, "SELECT version FROM schema_modules WHERE module = ?1", &st);
    if (rc)
        return rc;
    meta_bind_text(st, 1, module);
    int s = sqlite3_step(st);
    *v = s == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    meta_done(st);
    return s == SQLITE_ROW || s == SQLITE_DONE ? 0 : meta_err(c, s, "schema_modules");
}

int meta_migrate(struct meta_db *db, const char *module, const char *const *steps, size_t n,
                 struct diag *d)
{
    struct meta_conn *c;
    int rc = meta_conn_get(db, &c);
    if (rc)
        return diag_set(d, rc, 0, "%s: no database connection", module);
    for (;;) {
        int have = 0;
        rc = meta_begin(c);
        if (rc)
            return diag_set(d, rc, 0, "%s: cannot lock the database for migration", module);
        rc = module_version(c, module, &have);
        if (rc) {
            meta_rollback(c);
            return diag_set(d, rc, 0, "%s: cannot read the schema version", module);
        }
        if (have < 0 || (size_t)have > n) {
            meta_rollback(c);
            return diag_set(d, -ERR_VERSION, 0,
                            "%s: database schema version %d is newer than this vigil (%zu)", module,
                            have, n);
        }
        if ((size_t)have == n) {
            meta_rollback(c);
            return 0;
        }
        char *msg = NULL;
        rc = sqlite3_exec(c->db, steps[have], NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
            diag_set(d, -ERR_DB, 0, "%s: migration %d failed: %s", module, have + 1,
                     msg ? msg : "?");
            sqlite3_free(msg);
            meta_rollback(c);
            return -ERR_DB;
        }
        sqlite3_stmt *st = NULL;
        rc = meta_stmt(c,
                       "INSERT INTO schema_modules (module, version) VALUES (?1, ?2) "
                       "ON CONFLICT (module) DO UPDATE SET version = excluded.version",
                       &st);
        if (rc == 0) {
            meta_bind_text(st, 1, module);
            meta_bind_int(st, 2, have + 1);
            rc = meta_step_done(c, st);
        }
        if (rc == 0)
            rc = meta_commit(c);
        else
            meta_rollback(c);
        if (rc)
            return diag_set(d, rc, 0, "%s: migration %d: %s", module, have + 1, err_str(rc));
        log_info("store", "module %s migrated to schema version %d", module, have + 1);
    }
}

int meta_open(const char *path, const struct meta_options *opts, struct meta_db **out,
              struct diag *d)
{
    struct meta_db *db = xcalloc(1, sizeof(*db));
    db->path = xstrdup(path);
    db->busy_timeout_ms = opts && opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : 10000;
    pthread_mutex_init(&db->lock, NULL);
    pthread_mutex_lock(&gen_lock);
    db->gen = next_gen++;
    pthread_mutex_unlock(&gen_lock);
    struct meta_conn *c;
    int rc = conn_open(db, &c, d);
    if (rc == 0) {
        c->next = db->conns;
        db->conns = c;
        tls_set(db->gen, c);
        rc = migrate(c, d);
    }
    if (rc) {
        meta_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

void meta_close(struct meta_db *db)
{
    if (!db)
        return;
    /* other threads' slots for this generation are left behind and never match again */
    tls_clear(db->gen);
    pthread_mutex_lock(&db->lock);
    struct meta_conn *c = db->conns;
    db->conns = NULL;
    pthread_mutex_unlock(&db->lock);
    while (c) {
        struct meta_conn *next = c->next;
        conn_close(c);
        c = next;
    }
    pthread_mutex_destroy(&db->lock);
    free(db->path);
    free(db);
}

int meta_conn_get(struct meta_db *db, struct meta_conn **out)
{
    struct meta_conn *c = tls_get(db->gen);
    if (c) {
        *out = c;
        return 0;
    }
    struct diag d = { 0 };
    int rc = conn_open(db, &c, &d);
    if (rc) {
        log_error("store", "%s", d.msg);
        return rc;
    }
    pthread_mutex_lock(&db->lock);
    c->next = db->conns;
    db->conns = c;
    pthread_mutex_unlock(&db->lock);
    tls_set(db->gen, c);
    *out = c;
    return 0;
}

void meta_thread_done(struct meta_db *db)
{
    struct meta_conn *c = tls_get(db->gen);
    if (!c)
        return;
    tls_clear(db->gen);
    conn_unlink(db, c);
    conn_close(c);
}

sqlite3 *meta_conn_sqlite(struct meta_conn *c)
{
    return c->db;
}

int meta_stmt(struct meta_conn *c, const char *sql, sqlite3_stmt **out)
{
    for (size_t i = 0; i < c->nslots; i++) {
        struct stmt_slot *s = &c->slots[i];
        if (s->key == sql && strcmp(sqlite3_sql(s->st), sql) == 0) {
            sqlite3_reset(s->st);
            sqlite3_clear_bindings(s->st);
            *out = s->st;
            return 0;
        }
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK)
        return meta_err(c, rc, "prepare");
    struct stmt_slot *slot;
    if (c->nslots < STMT_CACHE) {
        slot = &c->slots[c->nslots++];
    } else {
        /* full: replace slots round-robin (the working set is far smaller than the cache) */
        slot = &c->slots[c->evict];
        c->evict = (c->evict + 1) % STMT_CACHE;
        sqlite3_finalize(slot->st);
    }
    slot->key = sql;
    slot->st = st;
    *out = st;
    return 0;
}

void meta_done(sqlite3_stmt *st)
{
    if (st)
        sqlite3_reset(st);
}

int meta_exec(struct meta_conn *c, const char *sql)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : meta_err(c, rc, "exec");
}

int meta_begin(struct meta_conn *c)
{
    BUG_ON(c->in_tx);
    sqlite3_stmt *st = NULL;
    int rc = meta_stmt(c, "BEGIN IMMEDIATE", &st);
    if (rc)
        return rc;
    rc = meta_step_done(c, st);
    if (rc == 0)
        c->in_tx = true;
    return rc;
}

int meta_commit(struct meta_conn *c)
{
    BUG_ON(!c->in_tx);
    sqlite3_stmt *st = NULL;
    int rc = meta_stmt(c, "COMMIT", &st);
    if (rc == 0)
        rc = meta_step_done(c, st);
    if (rc) {
        /* a failed COMMIT may leave the transaction open (SQLITE_BUSY): end it */
        meta_rollback(c);
        return rc;
    }
    c->in_tx = false;
    return 0;
}

void meta_rollback(struct meta_conn *c)
{
    c->in_tx = false;
    if (sqlite3_get_autocommit(c->db))
        return;
    sqlite3_stmt *st = NULL;
    if (meta_stmt(c, "ROLLBACK", &st) == 0) {
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            log_error("store", "rollback failed: %s", sqlite3_errmsg(c->db));
    }
}

bool meta_in_tx(const struct meta_conn *c)
{
    return c->in_tx;
}

int meta_step_done(struct meta_conn *c, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        return 0;
    return meta_err(c, rc, "step");
}

int64_t meta_last_rowid(struct meta_conn *c)
{
    return sqlite3_last_insert_rowid(c->db);
}

int meta_changes(struct meta_conn *c)
{
    return sqlite3_changes(c->db);
}

void meta_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (s)
        sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, idx);
}

void meta_bind_int(sqlite3_stmt *st, int idx, int64_t v)
{
    sqlite3_bind_int64(st, idx, v);
}

void meta_bind_blob(sqlite3_stmt *st, int idx, const void *p, size_t n)
{
    sqlite3_bind_blob64(st, idx, p ? p : "", n, SQLITE_STATIC);
}
