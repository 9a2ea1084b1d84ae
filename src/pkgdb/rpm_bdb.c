/* SPDX-License-Identifier: Apache-2.0 */
/* Berkeley DB hash reader for rpm's old "Packages" database, read-only and without
 * libdb: the metadata page maps each hash bucket to its first page; a bucket is a chain of
 * hash pages holding key/value items, and a value too big for the page lives in a chain of
 * overflow pages. Every page is visited at most once, so a crafted file cannot loop or make
 * us copy the same chain twice. */
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "internal.h"
#include "rpm.h"

#define HASH_MAGIC   0x00061561u
#define BTREE_MAGIC  0x00053162u
#define BSWAP32(x)   __builtin_bswap32(x)
#define PAGE_HDR     26 /* lsn, pgno, prev, next, entries, hf_offset, level, type */
#define PAGE_HDR_CK  32 /* ... followed by a page checksum (DB_CHKSUM databases) */
#define META_CHKSUM  0x01
#define P_INVALID    0
#define P_HASH_OLD   2 /* P_HASH_UNSORTED */
#define P_OVERFLOW   7
#define P_HASH       13
#define H_KEYDATA    1
#define H_OFFPAGE    3
#define HOFFPAGE_LEN 12 /* type, 3 unused, first overflow page, total length */

struct bdb {
    const unsigned char *p;
    size_t len;
    bool big; /* big-endian file */
    uint32_t pgsz, npages, hdr;
    uint32_t max_bucket;
    uint32_t spares[32];
    unsigned char *seen; /* one bit per page */
};

static uint32_t rd32(const struct bdb *b, const unsigned char *p)
{
    return b->big ? pkgdb_be32(p) : pkgdb_le32(p);
}

static uint16_t rd16(const struct bdb *b, const unsigned char *p)
{
    return b->big ? pkgdb_be16(p) : pkgdb_le16(p);
}

/* Page pgno, checked for bounds, for a previous visit, and (unless all zero: a bucket page
 * never written, which Berkeley DB leaves as a hole) for its own page number. */
static int get_page(struct bdb *b, uint64_t pgno, const unsigned char **out, struct diag *d)
{
    if (pgno >= b->npages)
        return diag_set(d, pgno * b->pgsz >= b->len ? -ERR_TRUNCATED : -ERR_CORRUPT, 0,
                        "Packages: page %llu is beyond the last page %u", (unsigned long long)pgno,
                        b->npages - 1);
    if (b->seen[pgno / 8] & (1u << (pgno % 8)))
        return diag_set(d, -ERR_CORRUPT, (size_t)pgno * b->pgsz,
                        "Packages: page %llu is reached twice (a loop in a page chain)",
                        (unsigned long long)pgno);
    b->seen[pgno / 8] |= (unsigned char)(1u << (pgno % 8));
    const unsigned char *pg = b->p + (size_t)pgno * b->pgsz;
    if (pg[25] != P_INVALID && rd32(b, pg + 8) != pgno)
        return diag_set(d, -ERR_CORRUPT, (size_t)pgno * b->pgsz,
                        "Packages: page %llu says it is page %u", (unsigned long long)pgno,
                        rd32(b, pg + 8));
    *out = pg;
    return 0;
}

/* Gather an off-page value of tlen bytes starting at overflow page pgno into *buf. */
static int read_overflow(struct bdb *b, uint32_t pgno, uint32_t tlen, unsigned char **buf,
                         struct diag *d)
{
    if (tlen == 0 || tlen > RPM_HEADER_MAX || tlen > b->len)
        return diag_set(d, -ERR_CORRUPT, 0, "Packages: off-page item of %u bytes", tlen);
    unsigned char *v = xmalloc(tlen);
    uint32_t got = 0;
    while (got < tlen) {
        const unsigned char *pg;
        int rc = pgno ? get_page(b, pgno, &pg, d)
                      : diag_set(d, -ERR_CORRUPT, 0,
                                 "Packages: overflow chain ends after %u of %u bytes", got, tlen);
        if (rc < 0) {
            free(v);
            return rc;
        }
        uint16_t n = rd16(b, pg + 22);
        if (pg[25] != P_OVERFLOW || n > b->pgsz - b->hdr || n > tlen - got) {
            free(v);
            return diag_set(d, -ERR_CORRUPT, (size_t)pgno * b->pgsz,
                            "Packages: page %u is not a valid overflow page (type %u, %u bytes)",
                            pgno, pg[25], n);
        }
        memcpy(v + got, pg + b->hdr, n);
        got += n;
        pgno = rd32(b, pg + 16);
    }
    *buf = v;
    return 0;
}

/* Item i of a hash page: its bytes (type byte first). */
static int page_item(const struct bdb *b, const unsigned char *pg, uint32_t pgno, uint16_t n,
                     uint16_t i, struct str *item, struct diag *d)
{
    uint32_t off = rd16(b, pg + b->hdr + 2u * i);
    uint32_t end = i == 0 ? b->pgsz : rd16(b, pg + b->hdr + 2u * (i - 1));
    if (off < b->hdr + 2u * n || off >= end || end > b->pgsz)
        return diag_set(d, -ERR_CORRUPT, (size_t)pgno * b->pgsz,
                        "Packages: page %u item %u lies outside its page (%u..%u)", pgno, i, off,
                        end);
    *item = str_make((const char *)pg + off, end - off);
    return 0;
}

static int read_bucket_page(struct bdb *b, const unsigned char *pg, uint32_t pgno, const char *path,
                            struct arena *a, struct pkg_list *out, struct diag *d)
{
    uint16_t n = rd16(b, pg + 20);
    if (n % 2 != 0 || b->hdr + 2u * n > b->pgsz)
        return diag_set(d, -ERR_CORRUPT, (size_t)pgno * b->pgsz, "Packages: page %u has %u items",
                        pgno, n);
    for (uint16_t i = 0; i < n; i += 2) {
        struct str key, val;
        int rc = page_item(b, pg, pgno, n, i, &key, d);
        if (rc == 0)
            rc = page_item(b, pg, pgno, n, (uint16_t)(i + 1), &val, d);
        if (rc < 0)
            return rc;
        /* rpm kept its instance counter under key 0: not a package */
        if (key.ptr[0] == H_KEYDATA && key.len == 5 && memcmp(key.ptr + 1, "\0\0\0\0", 4) == 0)
            continue;
        if (key.ptr[0] != H_KEYDATA && key.ptr[0] != H_OFFPAGE)
            return diag_set(d, -ERR_CORRUPT, (size_t)pgno * b->pgsz,
                            "Packages: page %u item %u has type %u", pgno, i,
                            (unsigned char)key.ptr[0]);
        unsigned char *heap = NULL;
        struct str blob;
        if (val.ptr[0] == H_KEYDATA) {
            blob = str_make(val.ptr + 1, val.len - 1);
        } else if (val.ptr[0] == H_OFFPAGE && val.len >= HOFFPAGE_LEN) {
            const unsigned char *h = (const unsigned char *)val.ptr;
            rc = read_overflow(b, rd32(b, h + 4), rd32(b, h + 8), &heap, d);
            if (rc < 0)
                return rc;
            blob = str_make((const char *)heap, rd32(b, h + 8));
        } else {
            return diag_set(d, -ERR_CORRUPT, (size_t)pgno * b->pgsz,
                            "Packages: page %u item %u: value of type %u", pgno, i + 1,
                            (unsigned char)val.ptr[0]);
        }
        struct diag sub = { 0 };
        rc = rpm_header_append(blob, path, a, out, &sub);
        free(heap);
        if (rc < 0)
            return diag_set(d, rc, (size_t)pgno * b->pgsz, "Packages: page %u item %u: %s", pgno,
                            i + 1, sub.msg);
    }
    return 0;
}

static int open_meta(struct bdb *b, struct str data, struct diag *d)
{
    b->p = (const unsigned char *)data.ptr;
    b->len = data.len;
    if (data.len < 512)
        return diag_set(d, -ERR_TRUNCATED, 0, "Packages: %zu bytes, shorter than a page", data.len);
    uint32_t magic = pkgdb_le32(b->p + 12);
    if (magic == BSWAP32(HASH_MAGIC) || magic == BSWAP32(BTREE_MAGIC)) {
        b->big = true;
        magic = BSWAP32(magic);
    }
    if (magic == BTREE_MAGIC)
        return diag_set(d, -ERR_UNSUPPORTED, 12, "Packages: a B-tree database, not a hash");
    if (magic != HASH_MAGIC)
        return diag_set(d, -ERR_CORRUPT, 12, "Packages: not a Berkeley DB hash database");
    uint32_t version = rd32(b, b->p + 16);
    if (version < 8 || version > 10)
        return diag_set(d, -ERR_UNSUPPORTED, 16, "Packages: hash version %u", version);
    b->pgsz = rd32(b, b->p + 20);
    if (b->pgsz < 512 || b->pgsz > 65536 || (b->pgsz & (b->pgsz - 1)) != 0)
        return diag_set(d, -ERR_CORRUPT, 20, "Packages: page size %u", b->pgsz);
    if (b->p[24] != 0)
        return diag_set(d, -ERR_UNSUPPORTED, 24, "Packages: encrypted database");
    b->hdr = (b->p[26] & META_CHKSUM) ? PAGE_HDR_CK : PAGE_HDR;
    uint32_t last = rd32(b, b->p + 32);
    /* pages past the end of the data are reported when a chain reaches them */
    uint64_t in_file = data.len / b->pgsz;
    b->npages = (uint32_t)((uint64_t)last + 1 < in_file ? (uint64_t)last + 1 : in_file);
    b->max_bucket = rd32(b, b->p + 72);
    if (b->max_bucket > last)
        return diag_set(d, -ERR_CORRUPT, 72, "Packages: %u buckets in %u pages", b->max_bucket + 1,
                        last + 1);
    for (int i = 0; i < 32; i++)
        b->spares[i] = rd32(b, b->p + 96 + 4 * i);
    return 0;
}

int rpm_parse_bdb(struct str data, const char *db_path, struct arena *a, struct pkg_list *out,
                  struct diag *d)
{
    size_t n0 = out->items.n;
    if (data.len > PKGDB_MAX_DB)
        return diag_set(d, -ERR_TOO_BIG, 0, "Packages: %zu bytes is over the limit", data.len);
    struct bdb b = { 0 };
    int rc = open_meta(&b, data, d);
    if (rc < 0)
        return rc;
    b.seen = xcalloc((size_t)b.npages / 8 + 1, 1);
    b.seen[0] = 1; /* the metadata page is never a bucket or overflow page */
    const char *path = arena_strdup(a, db_path ? db_path : "");
    for (uint64_t bucket = 0; bucket <= b.max_bucket && rc == 0; bucket++) {
        /* bucket -> page: bucket plus the spare pages of its split point (the bit length of
         * the bucket number) */
        int bits = bucket ? 64 - __builtin_clzll(bucket) : 0;
        uint64_t pgno = bits < 32 ? bucket + b.spares[bits] : 0;
        if (pgno == 0) {
            rc = diag_set(d, -ERR_CORRUPT, 96, "Packages: bucket %llu has no page",
                          (unsigned long long)bucket);
            break;
        }
        bool first = true;
        while (pgno != 0 && rc == 0) {
            const unsigned char *pg;
            rc = get_page(&b, pgno, &pg, d);
            if (rc < 0)
                break;
            if (pg[25] == P_INVALID && first && rd16(&b, pg + 20) == 0)
                break; /* a bucket that never held anything */
            if (pg[25] != P_HASH && pg[25] != P_HASH_OLD) {
                rc = diag_set(d, -ERR_CORRUPT, (size_t)pgno * b.pgsz,
                              "Packages: bucket %llu page %llu has type %u, not a hash page",
                              (unsigned long long)bucket, (unsigned long long)pgno, pg[25]);
                break;
            }
            rc = read_bucket_page(&b, pg, (uint32_t)pgno, path, a, out, d);
            pgno = rd32(&b, pg + 16);
            first = false;
        }
    }
    free(b.seen);
    return pkgdb_rollback(out, n0, rc);
}
