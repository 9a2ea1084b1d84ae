/* SPDX-License-Identifier: Apache-2.0 */
/* `vigil db import`: reads OSV data (JSON lines, gzip'd or not; single JSON files; directories
 * of them; osv.dev's per-ecosystem all.zip), Alpine secdb documents, NVD 1.1 items and CVE
 * JSON 5 / CISA vulnrichment records, recognised by content, into vulndb.sqlite.
 *
 * A missing database is built from scratch in a temporary file (journal off, one
 * transaction) and renamed into place; an existing one is updated in place in one WAL
 * transaction. Records are keyed by id: a record whose `modified` is not newer than the stored
 * one changes nothing (so overlapping files and re-imports are no-ops), a newer one replaces
 * it, a `withdrawn` one removes it. Each run is recorded in `imports`, each added, changed or
 * removed record in `changes` with the (ecosystem, package) pairs it touches. NVD/CISA
 * severity is kept only for CVEs some advisory names. Bad input (corrupt gzip, truncated
 * file, a line that is not JSON, a malformed record) is skipped with a warning naming the
 * file, the line and the record id. */
#ifndef VIGIL_VULNDB_IMPORT_H
#define VIGIL_VULNDB_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct import_opts {
    bool rebuild;            /* build a new database even when one exists, then replace it */
    unsigned max_warnings;   /* warnings printed per input file (0: 20); all are counted */
    bool keep_build_changes; /* record per-record changes for a fresh build too */
};

struct import_stats {
    int64_t import_id;
    bool built; /* a new database was built (mode "build") */
    unsigned long long files, documents;
    unsigned long long records; /* OSV records read (including duplicates) */
    unsigned long long added, changed, removed, unchanged;
    unsigned long long duplicates; /* same id seen again in this run with no newer modified */
    unsigned long long skipped;    /* documents or records not imported because of errors */
    unsigned long long warnings;
    unsigned long long secdb_docs;
    unsigned long long cve_info;         /* NVD/CISA records stored or updated */
    unsigned long long cve_unreferenced; /* NVD/CISA records no advisory names (dropped) */
    unsigned long long cve_updated;      /* severity changes recorded for existing advisories */
    double seconds;
};

/* Import the given files and directories into the database at db_path. Returns 0 when the
 * database was written (even if some input was skipped: see st->skipped/warnings), or <0:
 * -ENOENT etc. for an input path that cannot be read at all, -ERR_CORRUPT when db_path is
 * not a vigil database, -ERR_DB on SQLite failures; d says what and where. On failure an
 * existing database is left untouched. */
int vulndb_import(const char *db_path, char *const *paths, size_t n, const struct import_opts *o,
                  struct import_stats *st, struct diag *d);

/* osv.dev's all.zip on top of base/zip.h: calls fn for every member whose name ends with
 * ".json", with its uncompressed content. A member that cannot be extracted (encrypted, a
 * method other than stored/deflate, over the 64 MiB member cap, damaged data, CRC mismatch,
 * bad local header) is reported through warn_fn (may be NULL) with zip's message and skipped.
 * Returns 0, the first non-zero value of fn, or -ERR_CORRUPT when the central directory is
 * unreadable (d set). */
typedef int (*zip_member_fn)(void *ctx, const char *name, const void *data, size_t n);
typedef void (*zip_warn_fn)(void *ctx, const char *name, const char *msg);
int zip_walk(const void *zip, size_t n, zip_member_fn fn, zip_warn_fn warn_fn, void *ctx,
             struct diag *d);

#endif
