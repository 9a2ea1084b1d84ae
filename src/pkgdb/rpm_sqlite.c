/* SPDX-License-Identifier: Apache-2.0 */
/* rpmdb.sqlite reader. rpm keeps its database in WAL mode, and an image may carry committed
 * transactions that live only in rpmdb.sqlite-wal. SQLite cannot open an in-memory image in
 * WAL mode, so we replay the WAL's committed frames into a private copy ourselves (the WAL
 * format is small and fully specified), mark the copy as a rollback-journal database
 * (header bytes 18/19 = 1) and hand it to sqlite3_deserialize read-only. No file is
 * written, so none can be left behind. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "internal.h"
#include "rpm.h"

#define WAL_HDR       32
#define WAL_FRAME_HDR 24
#define WAL_VERSION   3007000u
/* SQLite VM steps allowed for reading one database: a real rpmdb needs a few per package;
 * a crafted one must not keep a scan busy. */
#define SQLITE_MAX_STEPS 200000000u

static uint32_t page_size_of(const unsigned char *hdr)
{
    uint32_t v = pkgdb_be16(hdr + 16);
    return v == 1 ? 65536u : v;
}

static bool page_size_ok(uint32_t v)
{
    return v >= 512 && v <= 65536 && (v & (v - 1)) == 0;
}

/* SQLite's WAL checksum: Fletcher-like sums over pairs of 32-bit words, in the byte order
 * the WAL magic names. n is a multiple of 8. */
static void wal_cksum(bool big, const unsigned char *p, size_t n, uint32_t *s0, uint32_t *s1)
{
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint32_t x0 = big ? pkgdb_be32(p + i) : pkgdb_le32(p + i);
        uint32_t x1 = big ? pkgdb_be32(p + i + 4) : pkgdb_le32(p + i + 4);
        *s0 += x0 + *s1;
        *s1 += x1 + *s0;
    }
}

/* Apply the committed frames of `wal` to the database image *img (*len bytes, page size
 * pgsz), reallocating it when the database grew. A WAL that does not check out is ignored,
 * as SQLite ignores it. Returns 0, -ERR_TOO_BIG, or -ERR_CORRUPT for a commit claiming pages
 * that neither the database nor the log holds. */
static int wal_apply(unsigned char **img, size_t *len, uint32_t pgsz, struct str wal,
                     struct diag *d)
{
    const unsigned char *w = (const unsigned char *)wal.ptr;
    if (wal.len < WAL_HDR)
        return 0;
    uint32_t magic = pkgdb_be32(w);
    if ((magic & 0xfffffffeu) != 0x377f0682u || pkgdb_be32(w + 4) != WAL_VERSION ||
        pkgdb_be32(w + 8) != pgsz) {
        log_debug("pkgdb", "rpmdb.sqlite-wal ignored: bad header or page size");
        return 0;
    }
    bool big = magic & 1;
    uint32_t s0 = 0, s1 = 0;
    wal_cksum(big, w, 24, &s0, &s1);
    if (s0 != pkgdb_be32(w + 24) || s1 != pkgdb_be32(w + 28)) {
        log_debug("pkgdb", "rpmdb.sqlite-wal ignored: header checksum");
        return 0;
    }
    uint32_t salt1 = pkgdb_be32(w + 16), salt2 = pkgdb_be32(w + 20);
    size_t frame = WAL_FRAME_HDR + (size_t)pgsz, end = 0;
    uint32_t db_pages = 0;
    /* find the last valid commit frame: frames must carry the header's salts and continue
     * the running checksum; the first one that does not ends the log */
    for (size_t off = WAL_HDR; off + frame <= wal.len; off += frame) {
        const unsigned char *f = w + off;
        if (pkgdb_be32(f) == 0 || pkgdb_be32(f + 8) != salt1 || pkgdb_be32(f + 12) != salt2)
            break;
        wal_cksum(big, f, 8, &s0, &s1);
        wal_cksum(big, f + WAL_FRAME_HDR, pgsz, &s0, &s1);
        if (s0 != pkgdb_be32(f + 16) || s1 != pkgdb_be32(f + 20))
            break;
        if (pkgdb_be32(f + 4) != 0) {
            end = off + frame;
            db_pages = pkgdb_be32(f + 4);
        }
    }
    if (end == 0)
        return 0; /* nothing committed */
    /* every page of the committed database is in the file or in the log, so it cannot have
     * more pages than both together: a commit that says otherwise is a lie, and believing
     * it would let a few bytes of WAL make us allocate hundreds of MiB */
    uint64_t avail = *len / pgsz + (end - WAL_HDR) / frame;
    if (db_pages > avail)
        return diag_set(d, -ERR_CORRUPT, 0,
                        "rpmdb.sqlite-wal: commit says %u pages, at most %llu exist", db_pages,
                        (unsigned long long)avail);
    if ((uint64_t)db_pages * pgsz > PKGDB_MAX_DB)
        return diag_set(d, -ERR_TOO_BIG, 0, "rpmdb.sqlite-wal: database of %u pages is too big",
                        db_pages);
    size_t nlen = (size_t)db_pages * pgsz;
    if (nlen != *len) {
        unsigned char *n = xrealloc(*img, nlen);
        if (nlen > *len)
            memset(n + *len, 0, nlen - *len);
        *img = n;
        *len = nlen;
    }
    for (size_t off = WAL_HDR; off < end; off += frame) {
        uint32_t pgno = pkgdb_be32(w + off);
        if (pgno <= db_pages) /* pages past the final size were truncated away */
            memcpy(*img + (size_t)(pgno - 1) * pgsz, w + off + WAL_FRAME_HDR, pgsz);
    }
    return 0;
}

static int steps_exceeded(void *arg)
{
    (void)arg;
    return 1; /* called after SQLITE_MAX_STEPS VM steps: interrupt */
}

static int sqlite_err(sqlite3 *db, int src, struct diag *d, const char *what)
{
    int e = src & 0xff;
    int err = (e == SQLITE_CORRUPT || e == SQLITE_NOTADB)   ? -ERR_CORRUPT
              : e == SQLITE_INTERRUPT || e == SQLITE_TOOBIG ? -ERR_TOO_BIG
                                                            : -ERR_DB;
    return diag_set(d, err, 0, "rpmdb.sqlite: %s: %s", what, db ? sqlite3_errmsg(db) : "?");
}

int rpm_parse_sqlite(struct str db_bytes, struct str wal_bytes, const char *db_path,
                     struct arena *a, struct pkg_list *out, struct diag *d)
{
    size_t n0 = out->items.n;
    const unsigned char *h = (const unsigned char *)db_bytes.ptr;
    if (db_bytes.len > PKGDB_MAX_DB || wal_bytes.len > PKGDB_MAX_DB)
        return diag_set(d, -ERR_TOO_BIG, 0, "rpmdb.sqlite: %zu + %zu bytes is over the limit",
                        db_bytes.len, wal_bytes.len);
    if (db_bytes.len < 100 || memcmp(h, "SQLite format 3", 16) != 0)
        return diag_set(d, -ERR_CORRUPT, 0, "rpmdb.sqlite: not an SQLite database");
    uint32_t pgsz = page_size_of(h);
    if (!page_size_ok(pgsz))
        return diag_set(d, -ERR_CORRUPT, 16, "rpmdb.sqlite: bad page size %u", pgsz);

    size_t len = db_bytes.len;
    unsigned char *img = xmalloc(len);
    memcpy(img, h, len);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = wal_apply(&img, &len, pgsz, wal_bytes, d);
    if (rc < 0)
        goto out;
    if (len < 100) { /* a WAL that committed an empty database */
        rc = diag_set(d, -ERR_CORRUPT, 0, "rpmdb.sqlite: empty database");
        goto out;
    }
    /* WAL (2) -> legacy (1) read/write versions: memdb cannot do WAL, and the frames that
     * matter are in the image now */
    if (img[18] == 2)
        img[18] = 1;
    if (img[19] == 2)
        img[19] = 1;

    int src = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (src != SQLITE_OK) {
        rc = sqlite_err(db, src, d, "open");
        goto out;
    }
    /* the image is untrusted: no triggers, views, unsafe schema functions or huge values */
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, (int *)NULL);
    /* no value can be longer than the database holding it: with that limit, a corrupt
     * record length cannot make SQLite allocate more than the image's size */
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH,
                  (int)(len < RPM_HEADER_MAX + 1024u ? len : RPM_HEADER_MAX + 1024u));
    sqlite3_progress_handler(db, (int)SQLITE_MAX_STEPS, steps_exceeded, NULL);
    src = sqlite3_deserialize(db, "main", img, (sqlite3_int64)len, (sqlite3_int64)len,
                              SQLITE_DESERIALIZE_READONLY);
    if (src != SQLITE_OK) {
        rc = sqlite_err(db, src, d, "deserialize");
        goto out;
    }

    src = sqlite3_prepare_v2(db, "SELECT type FROM sqlite_master WHERE name = 'Packages'", -1, &st,
                             NULL);
    if (src == SQLITE_OK)
        src = sqlite3_step(st);
    if (src != SQLITE_ROW && src != SQLITE_DONE) {
        rc = sqlite_err(db, src, d, "reading the schema");
        goto out;
    }
    if (src == SQLITE_DONE ||
        !str_eq_cstr(str_from((const char *)sqlite3_column_text(st, 0)), "table")) {
        rc = diag_set(d, -ERR_CORRUPT, 0, "rpmdb.sqlite: no Packages table: not an rpm database");
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;

    src = sqlite3_prepare_v2(db, "SELECT hnum, blob FROM Packages ORDER BY hnum", -1, &st, NULL);
    if (src != SQLITE_OK) {
        rc = sqlite_err(db, src, d, "reading Packages");
        goto out;
    }
    const char *path = arena_strdup(a, db_path ? db_path : "");
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 hnum = sqlite3_column_int64(st, 0);
        if (sqlite3_column_type(st, 1) != SQLITE_BLOB) {
            rc = diag_set(d, -ERR_CORRUPT, 0,
                          "rpmdb.sqlite: Packages hnum %lld: blob is not a BLOB", (long long)hnum);
            goto out;
        }
        const void *blob = sqlite3_column_blob(st, 1);
        int blen = sqlite3_column_bytes(st, 1);
        struct diag sub = { 0 };
        rc = rpm_header_append(str_make(blob ? blob : "", (size_t)blen), path, a, out, &sub);
        if (rc < 0) {
            diag_set(d, rc, sub.offset, "rpmdb.sqlite: Packages hnum %lld: %s", (long long)hnum,
                     sub.msg);
            goto out;
        }
    }
    if (src != SQLITE_DONE)
        rc = sqlite_err(db, src, d, "reading Packages");
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(img);
    return pkgdb_rollback(out, n0, rc);
}
