/* SPDX-License-Identifier: Apache-2.0 */
/* vulndb.sqlite: schema, opening with a clear error for files that are not ours, and the
 * status report. */
#include "vulndb/db.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/xalloc.h"

static const char schema_sql[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE ecosystems(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE packages(id INTEGER PRIMARY KEY, eco INTEGER NOT NULL, name TEXT NOT NULL,"
    " entries BLOB);"
    "CREATE UNIQUE INDEX packages_name ON packages(name, eco);"
    "CREATE TABLE advisories(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " kind INTEGER NOT NULL, modified TEXT NOT NULL, published TEXT NOT NULL, withdrawn TEXT,"
    " source TEXT NOT NULL, keys TEXT NOT NULL, summary TEXT NOT NULL,"
    " vendor_severity TEXT NOT NULL, cvss TEXT NOT NULL, text BLOB,"
    " aliases TEXT NOT NULL DEFAULT '', pkgs BLOB);"
    "CREATE TABLE aliases(alias TEXT NOT NULL, adv INTEGER NOT NULL, PRIMARY KEY(alias, adv))"
    " WITHOUT ROWID;"
    "CREATE TABLE cve_info(cve TEXT NOT NULL, source TEXT NOT NULL, modified TEXT NOT NULL,"
    " published TEXT NOT NULL, cvss TEXT NOT NULL, description TEXT NOT NULL,"
    " PRIMARY KEY(cve, source)) WITHOUT ROWID;"
    "CREATE TABLE sources(path TEXT PRIMARY KEY, kind TEXT NOT NULL, size INTEGER,"
    " mtime INTEGER, records INTEGER, skipped INTEGER, import_id INTEGER, imported_at TEXT)"
    " WITHOUT ROWID;"
    "CREATE TABLE imports(id INTEGER PRIMARY KEY, started_at TEXT, finished_at TEXT,"
    " mode TEXT, paths TEXT, records INTEGER, added INTEGER, changed INTEGER,"
    " removed INTEGER, unchanged INTEGER, skipped INTEGER, warnings INTEGER,"
    " cve_updated INTEGER);"
    "CREATE TABLE changes(id INTEGER PRIMARY KEY, import_id INTEGER NOT NULL,"
    " advisory TEXT NOT NULL, kind TEXT NOT NULL CHECK(kind IN ('added','changed','removed')),"
    " reason TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX changes_import ON changes(import_id);"
    "CREATE TABLE change_pkgs(change INTEGER NOT NULL, pkg INTEGER NOT NULL,"
    " PRIMARY KEY(change, pkg)) WITHOUT ROWID;"
    "CREATE TABLE eco_stats(eco INTEGER PRIMARY KEY, records INTEGER NOT NULL);"
    "CREATE TABLE dicts(id INTEGER PRIMARY KEY, label TEXT NOT NULL UNIQUE, dict BLOB NOT NULL);"
    "CREATE VIEW change_pairs AS SELECT c.import_id AS import_id, c.advisory AS advisory,"
    " c.kind AS kind, e.name AS ecosystem, p.name AS package FROM changes c"
    " JOIN change_pkgs cp ON cp.change = c.id JOIN packages p ON p.id = cp.pkg"
    " JOIN ecosystems e ON e.id = p.eco;";

char *vulndb_default_path(void)
{
    const char *e = getenv("VIGIL_DATA_DIR");
    if (e && *e)
        return xasprintf("%s/%s", e, VULNDB_DEFAULT_NAME);
    e = getenv("VIGIL_CACHE_DIR");
    if (e && *e)
        return xasprintf("%s/%s", e, VULNDB_DEFAULT_NAME);
    e = getenv("XDG_CACHE_HOME");
    if (e && *e)
        return xasprintf("%s/vigil/%s", e, VULNDB_DEFAULT_NAME);
    e = getenv("HOME");
    return xasprintf("%s/.cache/vigil/%s", e && *e ? e : "/tmp", VULNDB_DEFAULT_NAME);
}

int vdb_error(sqlite3 *db, int rc, const char *what, struct diag *d)
{
    int prim = rc & 0xff;
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (prim == SQLITE_NOTADB || prim == SQLITE_CORRUPT)
        return diag_set(d, -ERR_CORRUPT, 0, "%s: database is damaged or not a database (%s)", what,
                        msg);
    return diag_set(d, -ERR_DB, 0, "%s: %s", what, msg);
}

int vdb_exec(sqlite3 *db, const char *sql, struct diag *d)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        int prim = rc & 0xff;
        int code = (prim == SQLITE_NOTADB || prim == SQLITE_CORRUPT) ? -ERR_CORRUPT : -ERR_DB;
        diag_set(d, code, 0, "%s", err ? err : sqlite3_errstr(rc));
        sqlite3_free(err);
        return code;
    }
    return 0;
}

int vdb_create_schema(sqlite3 *db, struct diag *d)
{
    int rc = vdb_exec(db, schema_sql, d);
    if (rc < 0)
        return rc;
    char sql[256];
    snprintf(sql, sizeof(sql),
             "INSERT INTO meta VALUES('format','%s'),('schema','%d'),"
             "('created_at',strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ','now'));",
             VULNDB_FORMAT, VULNDB_SCHEMA);
    return vdb_exec(db, sql, d);
}

int vdb_open(const char *path, bool writable, sqlite3 **out, struct diag *d)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return diag_set(d, errno == ENOENT ? -ERR_NOT_FOUND : -errno, 0,
                        "cannot open vulnerability database '%s': %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return diag_set(d, -ERR_CORRUPT, 0, "'%s' is not a regular file", path);
    sqlite3 *db = NULL;
    int flags = writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
    int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        diag_set(d, -ERR_DB, 0, "cannot open vulnerability database '%s': %s", path,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return -ERR_DB;
    }
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt *st_meta = NULL;
    rc = sqlite3_prepare_v2(db, "SELECT key, value FROM meta", -1, &st_meta, NULL);
    if (rc != SQLITE_OK) {
        int prim = rc & 0xff;
        if (prim == SQLITE_NOTADB || prim == SQLITE_CORRUPT)
            diag_set(d, -ERR_CORRUPT, 0,
                     "'%s' is not a vigil vulnerability database (%s); rebuild it with "
                     "'vigil db import --rebuild'",
                     path, sqlite3_errmsg(db));
        else
            diag_set(d, -ERR_CORRUPT, 0, "'%s' is not a vigil vulnerability database (%s)", path,
                     sqlite3_errmsg(db));
        sqlite3_close(db);
        return -ERR_CORRUPT;
    }
    bool ours = false;
    long schema = -1;
    while ((rc = sqlite3_step(st_meta)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st_meta, 0);
        const char *v = (const char *)sqlite3_column_text(st_meta, 1);
        if (!k || !v)
            continue;
        if (strcmp(k, "format") == 0 && strcmp(v, VULNDB_FORMAT) == 0)
            ours = true;
        else if (strcmp(k, "schema") == 0)
            schema = strtol(v, NULL, 10);
    }
    sqlite3_finalize(st_meta);
    if (rc != SQLITE_DONE) {
        vdb_error(db, rc, path, d);
        sqlite3_close(db);
        return d ? d->err : -ERR_CORRUPT;
    }
    if (!ours) {
        sqlite3_close(db);
        return diag_set(d, -ERR_CORRUPT, 0, "'%s' is not a vigil vulnerability database", path);
    }
    if (schema != VULNDB_SCHEMA) {
        sqlite3_close(db);
        return diag_set(d, -ERR_UNSUPPORTED, 0,
                        "'%s' has database schema %ld, this vigil reads schema %d; rebuild it "
                        "with 'vigil db import --rebuild'",
                        path, schema, VULNDB_SCHEMA);
    }
    *out = db;
    return 0;
}

/* ---- status ---------------------------------------------------------------------------- */

static json_t *col_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, i));
    case SQLITE_NULL:
        return json_null();
    default:
        return json_string((const char *)sqlite3_column_text(st, i));
    }
}

/* Run a query and hand each row to fn; 0 or <0 with d set. */
static int query_rows(sqlite3 *db, const char *sql, void (*fn)(sqlite3_stmt *, json_t *),
                      json_t *acc, struct diag *d)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return vdb_error(db, rc, "status", d);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fn(st, acc);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return vdb_error(db, rc, "status", d);
    return 0;
}

/* Row -> object with the column names as keys, appended to an array. */
static void row_to_array(sqlite3_stmt *st, json_t *arr)
{
    json_t *o = json_object();
    for (int i = 0; i < sqlite3_column_count(st); i++)
        json_object_set_new(o, sqlite3_column_name(st, i), col_json(st, i));
    json_array_append_new(arr, o);
}

/* Two-column row -> key: value. */
static void row_to_kv(sqlite3_stmt *st, json_t *obj)
{
    const char *k = (const char *)sqlite3_column_text(st, 0);
    if (k)
        json_object_set_new(obj, k, col_json(st, 1));
}

/* One-row query -> top-level fields of obj. */
static void row_to_fields(sqlite3_stmt *st, json_t *obj)
{
    for (int i = 0; i < sqlite3_column_count(st); i++)
        json_object_set_new(obj, sqlite3_column_name(st, i), col_json(st, i));
}

int vulndb_status_json(const char *path, json_t **out, struct diag *d)
{
    *out = NULL;
    sqlite3 *db;
    int rc = vdb_open(path, false, &db, d);
    if (rc < 0)
        return rc;
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(path));
    json_object_set_new(o, "schema", json_integer(VULNDB_SCHEMA));
    struct stat st;
    if (stat(path, &st) == 0)
        json_object_set_new(o, "size_bytes", json_integer((json_int_t)st.st_size));

    json_t *tmp = json_object();
    rc = query_rows(db,
                    "SELECT (SELECT COUNT(*) FROM advisories WHERE kind=1 AND withdrawn IS NULL)"
                    " AS records,"
                    " (SELECT COUNT(*) FROM advisories WHERE kind=1 AND withdrawn IS NOT NULL)"
                    " AS withdrawn,"
                    " (SELECT COUNT(*) FROM advisories WHERE kind=2 AND withdrawn IS NULL)"
                    " AS secdb_documents,"
                    " (SELECT COUNT(*) FROM packages) AS packages,"
                    " (SELECT MAX(modified) FROM advisories WHERE kind=1) AS newest_modified,"
                    " (SELECT MAX(published) FROM advisories WHERE kind=1) AS newest_published",
                    row_to_fields, tmp, d);
    if (rc < 0)
        goto out;
    json_object_update(o, tmp);

    json_t *ecos = json_object();
    json_object_set_new(o, "ecosystems", ecos);
    rc = query_rows(db,
                    "SELECT e.name, s.records FROM eco_stats s JOIN ecosystems e ON e.id = s.eco"
                    " WHERE s.records > 0 ORDER BY e.name",
                    row_to_kv, ecos, d);
    if (rc < 0)
        goto out;
    json_t *ci = json_object();
    json_object_set_new(o, "cve_info", ci);
    rc = query_rows(db, "SELECT source, COUNT(*) FROM cve_info GROUP BY source ORDER BY source",
                    row_to_kv, ci, d);
    if (rc < 0)
        goto out;
    json_t *srcs = json_array();
    json_object_set_new(o, "sources", srcs);
    rc = query_rows(db,
                    "SELECT path, kind, size, records, skipped, import_id, imported_at FROM"
                    " sources ORDER BY path",
                    row_to_array, srcs, d);
    if (rc < 0)
        goto out;
    json_t *imps = json_array();
    rc = query_rows(db,
                    "SELECT id, started_at, finished_at, mode, records, added, changed, removed,"
                    " unchanged, skipped, warnings, cve_updated FROM imports ORDER BY id DESC"
                    " LIMIT 1",
                    row_to_array, imps, d);
    if (rc < 0) {
        json_decref(imps);
        goto out;
    }
    json_object_set(o, "last_import",
                    json_array_size(imps) ? json_array_get(imps, 0) : json_null());
    json_decref(imps);
    rc = query_rows(db, "SELECT COUNT(*) AS import_count FROM imports", row_to_fields, o, d);
out:
    json_decref(tmp);
    sqlite3_close(db);
    if (rc < 0) {
        json_decref(o);
        return rc;
    }
    *out = o;
    return 0;
}
