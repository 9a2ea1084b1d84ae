/* SPDX-License-Identifier: Apache-2.0 */
/* Layer cache in SQLite (WAL, busy timeout: several vigil processes may share it). Entries are
 * a compact binary encoding of struct layer_contents, decoded without re-parsing any tar. */
#include "scan/layer_cache.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "base/xalloc.h"

/* Encoding, little endian:
 *   "VLC1" u32 count
 *   per entry: u8 kind, u8 flags (1 = too_big, 2 = has data, 4 = analyzed, 8 = analysis
 *              failed), u32 mode, u64 size,
 *              u32 path_len, path bytes, NUL, u32 link_len, link bytes, NUL,
 *              [u32 data_len, data bytes, NUL]          when flags & 2
 * The trailing NULs let decoded slices be used as C strings in place. */
#define LC_MAGIC     "VLC1"
#define LC_HAS_DATA  2u
#define LC_TOO_BIG   1u
#define LC_ANALYZED  4u
#define LC_FAILED    8u
#define LC_MAX_ENTRY (1u << 30)

struct layer_cache {
    sqlite3 *db;
    sqlite3_stmt *get;
    sqlite3_stmt *put;
    sqlite3_stmt *del;
};

static int put_u32(struct buf *b, uint32_t v)
{
    unsigned char p[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 24) };
    return buf_append(b, p, 4);
}

static int put_u64(struct buf *b, uint64_t v)
{
    int rc = put_u32(b, (uint32_t)v);
    return rc ? rc : put_u32(b, (uint32_t)(v >> 32));
}

static int put_bytes(struct buf *b, const char *p, size_t n)
{
    if (n > LC_MAX_ENTRY)
        return -ERR_TOO_BIG;
    int rc = put_u32(b, (uint32_t)n);
    if (!rc)
        rc = buf_append(b, p, n);
    if (!rc)
        rc = buf_putc(b, '\0');
    return rc;
}

int layer_contents_encode(const struct layer_contents *lc, struct buf *out)
{
    int rc = buf_append(out, LC_MAGIC, 4);
    if (!rc)
        rc = put_u32(out, (uint32_t)lc->files.n);
    for (size_t i = 0; !rc && i < lc->files.n; i++) {
        const struct layer_file *f = &lc->files.v[i];
        unsigned char head[2] = {
            (unsigned char)f->kind,
            (unsigned char)((f->too_big ? LC_TOO_BIG : 0) | (f->data.ptr ? LC_HAS_DATA : 0) |
                            (f->analyzed ? LC_ANALYZED : 0) | (f->failed ? LC_FAILED : 0))
        };
        rc = buf_append(out, head, 2);
        if (!rc)
            rc = put_u32(out, f->mode);
        if (!rc)
            rc = put_u64(out, f->size);
        if (!rc)
            rc = put_bytes(out, f->path, strlen(f->path));
        if (!rc)
            rc = put_bytes(out, f->link ? f->link : "", f->link ? strlen(f->link) : 0);
        if (!rc && f->data.ptr)
            rc = put_bytes(out, f->data.ptr, f->data.len);
    }
    return rc;
}

struct dec {
    const unsigned char *p;
    size_t left;
    size_t off;
};

static bool get_u32(struct dec *c, uint32_t *v)
{
    if (c->left < 4)
        return false;
    *v = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 |
         (uint32_t)c->p[3] << 24;
    c->p += 4;
    c->left -= 4;
    c->off += 4;
    return true;
}

static bool get_bytes(struct dec *c, struct str *s)
{
    uint32_t n;
    if (!get_u32(c, &n) || (size_t)n + 1 > c->left || c->p[n] != '\0')
        return false;
    *s = str_make((const char *)c->p, n);
    c->p += (size_t)n + 1;
    c->left -= (size_t)n + 1;
    c->off += (size_t)n + 1;
    return true;
}

int layer_contents_decode(struct str in, struct layer_contents *lc, struct diag *d)
{
    if (in.len < 8 || memcmp(in.ptr, LC_MAGIC, 4) != 0)
        return diag_set(d, -ERR_CORRUPT, 0, "layer cache entry: bad magic");
    /* one copy into the arena; every slice points into it */
    char *copy = arena_alloc(&lc->arena, in.len);
    memcpy(copy, in.ptr, in.len);
    struct dec c = { (const unsigned char *)copy + 4, in.len - 4, 4 };
    uint32_t count;
    if (!get_u32(&c, &count) || count > c.left / 18)
        return diag_set(d, -ERR_CORRUPT, c.off, "layer cache entry: bad entry count");
    VEC_GROW(&lc->files, count);
    for (uint32_t i = 0; i < count; i++) {
        struct layer_file f = { 0 };
        uint32_t lo, hi;
        struct str path, link;
        if (c.left < 2)
            return diag_set(d, -ERR_CORRUPT, c.off, "layer cache entry %u: truncated", i);
        unsigned kind = c.p[0], flags = c.p[1];
        c.p += 2;
        c.left -= 2;
        c.off += 2;
        if (kind < LF_FILE || kind > LF_OPAQUE)
            return diag_set(d, -ERR_CORRUPT, c.off, "layer cache entry %u: bad kind %u", i, kind);
        if (!get_u32(&c, &f.mode) || !get_u32(&c, &lo) || !get_u32(&c, &hi) ||
            !get_bytes(&c, &path) || !get_bytes(&c, &link))
            return diag_set(d, -ERR_CORRUPT, c.off, "layer cache entry %u: truncated", i);
        f.kind = (enum lf_kind)kind;
        f.size = (uint64_t)hi << 32 | lo;
        f.path = path.ptr;
        f.link = link.ptr;
        f.too_big = (flags & LC_TOO_BIG) != 0;
        f.analyzed = (flags & LC_ANALYZED) != 0;
        f.failed = (flags & LC_FAILED) != 0;
        if (flags & LC_HAS_DATA) {
            if (!get_bytes(&c, &f.data))
                return diag_set(d, -ERR_CORRUPT, c.off, "layer cache entry %u: truncated data", i);
            lc->kept_bytes += f.data.len;
        }
        VEC_PUSH(&lc->files, f);
    }
    if (c.left)
        return diag_set(d, -ERR_CORRUPT, c.off, "layer cache entry: %zu trailing bytes", c.left);
    lc->entries = count;
    return 0;
}

static int sql_fail(sqlite3 *db, struct diag *d, const char *what)
{
    return diag_set(d, -ERR_DB, 0, "layer cache: %s: %s", what, sqlite3_errmsg(db));
}

int layer_cache_open(const char *dir, struct layer_cache **out, struct diag *d)
{
    /* create the directory and its parents */
    char path[4096];
    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
        return diag_set(d, -ENAMETOOLONG, 0, "cache directory path too long");
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return diag_set(d, -errno, 0, "cannot create cache directory '%s': %s", dir,
                        strerror(errno));
    if (snprintf(path, sizeof(path), "%s/layers.sqlite", dir) >= (int)sizeof(path))
        return diag_set(d, -ENAMETOOLONG, 0, "cache directory path too long");
    struct layer_cache *c = xcalloc(1, sizeof(*c));
    int rc = 0;
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = sql_fail(c->db, d, path);
        goto out;
    }
    sqlite3_busy_timeout(c->db, 10000);
    static const char schema[] =
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "CREATE TABLE IF NOT EXISTS layer ("
        "  digest TEXT NOT NULL, interest INTEGER NOT NULL, created INTEGER NOT NULL,"
        "  contents BLOB NOT NULL, PRIMARY KEY (digest, interest)) WITHOUT ROWID;";
    if (sqlite3_exec(c->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        rc = sql_fail(c->db, d, "cannot initialise the cache database");
        goto out;
    }
    if (sqlite3_prepare_v2(c->db, "SELECT contents FROM layer WHERE digest = ?1 AND interest = ?2",
                           -1, &c->get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db,
                           "INSERT OR REPLACE INTO layer (digest, interest, created, contents)"
                           " VALUES (?1, ?2, strftime('%s','now'), ?3)",
                           -1, &c->put, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, "DELETE FROM layer WHERE digest = ?1 AND interest = ?2", -1,
                           &c->del, NULL) != SQLITE_OK) {
        rc = sql_fail(c->db, d, "cannot prepare statements");
        goto out;
    }
out:
    if (rc) {
        layer_cache_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void layer_cache_close(struct layer_cache *c)
{
    if (!c)
        return;
    sqlite3_finalize(c->get);
    sqlite3_finalize(c->put);
    sqlite3_finalize(c->del);
    sqlite3_close(c->db);
    free(c);
}

int layer_cache_get(struct layer_cache *c, const char *digest, unsigned interest_version,
                    struct layer_contents *lc)
{
    sqlite3_reset(c->get);
    sqlite3_bind_text(c->get, 1, digest, -1, SQLITE_STATIC);
    sqlite3_bind_int(c->get, 2, (int)interest_version);
    int step = sqlite3_step(c->get);
    if (step == SQLITE_DONE)
        return 0;
    if (step != SQLITE_ROW) {
        log_warn("cache", "layer cache read failed for %s: %s", digest, sqlite3_errmsg(c->db));
        return -ERR_DB;
    }
    struct str blob =
        str_make(sqlite3_column_blob(c->get, 0), (size_t)sqlite3_column_bytes(c->get, 0));
    struct diag d = { 0 };
    int rc = layer_contents_decode(blob, lc, &d);
    sqlite3_reset(c->get);
    if (rc) {
        log_warn("cache", "dropping corrupt layer cache entry %s: %s", digest, d.msg);
        layer_contents_release(lc);
        layer_contents_init(lc);
        sqlite3_reset(c->del);
        sqlite3_bind_text(c->del, 1, digest, -1, SQLITE_STATIC);
        sqlite3_bind_int(c->del, 2, (int)interest_version);
        sqlite3_step(c->del);
        sqlite3_reset(c->del);
        return 0;
    }
    return 1;
}

int layer_cache_put(struct layer_cache *c, const char *digest, unsigned interest_version,
                    const struct layer_contents *lc)
{
    struct buf b;
    buf_init(&b, (size_t)2 << 30);
    int rc = layer_contents_encode(lc, &b);
    if (rc) {
        buf_release(&b);
        return rc;
    }
    sqlite3_reset(c->put);
    sqlite3_bind_text(c->put, 1, digest, -1, SQLITE_STATIC);
    sqlite3_bind_int(c->put, 2, (int)interest_version);
    sqlite3_bind_blob64(c->put, 3, b.data, b.len, SQLITE_STATIC);
    int step = sqlite3_step(c->put);
    sqlite3_reset(c->put);
    buf_release(&b);
    if (step != SQLITE_DONE) {
        log_warn("cache", "layer cache write failed for %s: %s", digest, sqlite3_errmsg(c->db));
        return -ERR_DB;
    }
    return 0;
}
