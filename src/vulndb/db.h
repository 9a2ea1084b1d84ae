/* SPDX-License-Identifier: Apache-2.0 */
/* vulndb.sqlite: the schema of the vulnerability database, opening it (and recognising a file
 * that is not one), the default location, and `vigil db status`.
 *
 * Layout (schema 1), designed for per-package lookups and a small file:
 *   ecosystems(id, name)                    "Debian:12", "Red Hat:enterprise_linux:9::baseos"
 *   packages(id, eco, name, entries)        one row per (ecosystem, package); never deleted,
 *                                           so change records can keep pointing at them.
 *                                           entries: every affected entry for the package,
 *                                           ordered by advisory, each "varint advisory id,
 *                                           varint length, arow" (match.h); one lookup by
 *                                           name fetches all a package needs
 *   advisories(id, name, kind, modified, published, withdrawn, source, keys, summary,
 *              vendor_severity, cvss, text, aliases, pkgs)
 *                                           one row per record id; text is "details NUL
 *                                           references joined by '\n'", zstd-compressed with
 *                                           the dictionary of its source (see dicts); cvss
 *                                           lines are "version TAB vector TAB score TAB
 *                                           source"; aliases lists the alias rows and pkgs
 *                                           (LEB128 deltas) the packages holding its entries,
 *                                           so both can be found without an index
 *   aliases(alias, adv)                     id, aliases, upstream and issue keys -> advisory
 *   dicts(id, label, dict)                  zstd dictionaries for advisory text, one per
 *                                           source (trained on its first records)
 *   cve_info(cve, source, modified, published, cvss, description)
 *                                           NVD / CISA severity for CVEs the advisories name
 *   sources(path, kind, size, mtime, records, skipped, import_id, imported_at)
 *   imports(id, started_at, finished_at, mode, paths, records, added, changed, removed,
 *           unchanged, skipped, warnings, cve_updated)
 *   changes(id, import_id, advisory, kind, reason)   kind: added | changed | removed
 *   change_pkgs(change, pkg)                the (ecosystem, package) pairs a change touches;
 *                                           view change_pairs joins the names in
 *   eco_stats(eco, records)                 OSV records per ecosystem, refreshed per import */
#ifndef VIGIL_VULNDB_DB_H
#define VIGIL_VULNDB_DB_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>

#include "base/err.h"

#define VULNDB_SCHEMA       1
#define VULNDB_FORMAT       "vigil-vulndb"
#define VULNDB_DEFAULT_NAME "vulndb.sqlite"

/* advisories.kind */
#define ADV_OSV   1
#define ADV_SECDB 2

/* advisories.text: 4-byte little-endian dicts.id (0 = no dictionary), then a zstd frame that
 * records its content size. */
#define TEXT_MAX (16u << 20) /* uncompressed cap */

/* The default database path, owned by the caller: $VIGIL_DATA_DIR/vulndb.sqlite when
 * VIGIL_DATA_DIR is set (the directory `vigil serve` uses), else vulndb.sqlite in the cache
 * directory: $VIGIL_CACHE_DIR, $XDG_CACHE_HOME/vigil or ~/.cache/vigil (as the layer cache). */
char *vulndb_default_path(void);

/* Open an existing database and check that it is one of ours with this schema.
 * -ERR_NOT_FOUND (no such file), -ERR_CORRUPT (not a SQLite file, not ours, damaged),
 * -ERR_UNSUPPORTED (another schema version), each with a message naming the path in d. */
int vdb_open(const char *path, bool writable, sqlite3 **out, struct diag *d);
/* Create the schema in an empty database (tables, indexes, meta rows). */
int vdb_create_schema(sqlite3 *db, struct diag *d);
/* Run SQL without results; -ERR_DB with sqlite's message in d. */
int vdb_exec(sqlite3 *db, const char *sql, struct diag *d);
/* Map a sqlite result code to -ERR_CORRUPT (damaged/not a database) or -ERR_DB and describe
 * it (what we were doing, sqlite's message). */
int vdb_error(sqlite3 *db, int rc, const char *what, struct diag *d);

/* `vigil db status` as JSON: {"path", "schema", "size_bytes", "records" (live OSV records),
 * "withdrawn", "secdb_documents", "packages", "newest_modified", "newest_published",
 * "ecosystems": {name: OSV records with an entry there}, "cve_info": {"NVD": n, "CISA": n},
 * "sources": [{path, kind, size, records, skipped, import_id, imported_at}],
 * "last_import": {id, started_at, finished_at, mode, records, added, changed, removed,
 * unchanged, skipped, warnings, cve_updated} | null, "import_count"}. *out is owned by the
 * caller. */
int vulndb_status_json(const char *path, json_t **out, struct diag *d);

#endif
