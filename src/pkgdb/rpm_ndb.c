/* SPDX-License-Identifier: Apache-2.0 */
/* rpm ndb "Packages.db" reader (the backend SUSE uses), from the format rpm's
 * lib/backend/ndb/rpmpkg.c defines; all integers little-endian:
 *   header, 32 bytes: "RpmP", version 0, generation, number of slot pages, next index
 *   slot pages (4096 bytes each, the header taking the first two slots): 16-byte slots
 *     "Slot", package index, block offset, block count (offset 0 = free slot)
 *   blobs at offset*16, count*16 bytes: "BlbS", package index, timestamp, length, the
 *     header blob, zero padding, then Adler-32 of everything before it, length, "BlbE" */
#include <string.h>
#include <zlib.h>

#include "internal.h"
#include "rpm.h"

#define NDB_PAGE      4096u
#define NDB_BLK       16u
#define NDB_SLOT      16u
#define NDB_HDR       32u
#define NDB_BLOB_HEAD 16u
#define NDB_BLOB_TAIL 12u

static int read_blob(struct str data, uint32_t slot_off, uint32_t pkgidx, uint32_t blkoff,
                     uint32_t blkcnt, struct str *blob, struct diag *d)
{
    const unsigned char *p = (const unsigned char *)data.ptr;
    uint64_t off = (uint64_t)blkoff * NDB_BLK, size = (uint64_t)blkcnt * NDB_BLK;
    if (off + size > data.len)
        return diag_set(d, -ERR_TRUNCATED, slot_off,
                        "Packages.db: package %u: blob at %llu (%llu bytes) is past the end",
                        pkgidx, (unsigned long long)off, (unsigned long long)size);
    if (size < NDB_BLOB_HEAD + NDB_BLOB_TAIL)
        return diag_set(d, -ERR_CORRUPT, slot_off, "Packages.db: package %u: blob of %u blocks",
                        pkgidx, blkcnt);
    const unsigned char *b = p + off;
    uint32_t len = pkgdb_le32(b + 12);
    if (memcmp(b, "BlbS", 4) != 0 || pkgdb_le32(b + 4) != pkgidx)
        return diag_set(d, -ERR_CORRUPT, (size_t)off,
                        "Packages.db: package %u: no blob head at %llu", pkgidx,
                        (unsigned long long)off);
    if ((uint64_t)NDB_BLOB_HEAD + len + NDB_BLOB_TAIL > size ||
        ((uint64_t)NDB_BLOB_HEAD + len + NDB_BLOB_TAIL + NDB_BLK - 1) / NDB_BLK != blkcnt)
        return diag_set(d, -ERR_CORRUPT, (size_t)off,
                        "Packages.db: package %u: blob length %u does not fit %u blocks", pkgidx,
                        len, blkcnt);
    const unsigned char *tail = b + size - NDB_BLOB_TAIL;
    if (memcmp(tail + 8, "BlbE", 4) != 0 || pkgdb_le32(tail + 4) != len)
        return diag_set(d, -ERR_CORRUPT, (size_t)(off + size - NDB_BLOB_TAIL),
                        "Packages.db: package %u: bad blob tail", pkgidx);
    uLong adl = adler32(1L, b, (uInt)(size - NDB_BLOB_TAIL));
    if ((uint32_t)adl != pkgdb_le32(tail))
        return diag_set(d, -ERR_CORRUPT, (size_t)off, "Packages.db: package %u: Adler-32 mismatch",
                        pkgidx);
    *blob = str_make((const char *)b + NDB_BLOB_HEAD, len);
    return 0;
}

int rpm_parse_ndb(struct str data, const char *db_path, struct arena *a, struct pkg_list *out,
                  struct diag *d)
{
    size_t n0 = out->items.n;
    const unsigned char *p = (const unsigned char *)data.ptr;
    if (data.len > PKGDB_MAX_DB)
        return diag_set(d, -ERR_TOO_BIG, 0, "Packages.db: %zu bytes is over the limit", data.len);
    if (data.len < NDB_HDR)
        return diag_set(d, -ERR_TRUNCATED, 0, "Packages.db: %zu bytes, too short", data.len);
    if (memcmp(p, "RpmP", 4) != 0)
        return diag_set(d, -ERR_CORRUPT, 0, "Packages.db: not an rpm ndb database");
    uint32_t version = pkgdb_le32(p + 4), slotpages = pkgdb_le32(p + 12);
    if (version != 0)
        return diag_set(d, -ERR_UNSUPPORTED, 4, "Packages.db: format version %u", version);
    if (slotpages == 0 || (uint64_t)slotpages * NDB_PAGE > data.len)
        return diag_set(d, slotpages ? -ERR_TRUNCATED : -ERR_CORRUPT, 12,
                        "Packages.db: %u slot pages in %zu bytes", slotpages, data.len);

    const char *path = arena_strdup(a, db_path ? db_path : "");
    uint32_t min_blk = slotpages * (NDB_PAGE / NDB_BLK); /* blobs start after the slots */
    int rc = 0;
    for (uint32_t off = NDB_HDR; off < slotpages * NDB_PAGE; off += NDB_SLOT) {
        const unsigned char *s = p + off;
        if (memcmp(s, "Slot", 4) != 0) {
            rc = diag_set(d, -ERR_CORRUPT, off, "Packages.db: bad slot magic at %u", off);
            break;
        }
        uint32_t pkgidx = pkgdb_le32(s + 4), blkoff = pkgdb_le32(s + 8),
                 blkcnt = pkgdb_le32(s + 12);
        if (blkoff == 0)
            continue; /* free slot */
        if (pkgidx == 0 || blkcnt == 0 || blkoff < min_blk) {
            rc = diag_set(d, -ERR_CORRUPT, off, "Packages.db: slot at %u: package %u, blocks %u+%u",
                          off, pkgidx, blkoff, blkcnt);
            break;
        }
        struct str blob;
        rc = read_blob(data, off, pkgidx, blkoff, blkcnt, &blob, d);
        if (rc < 0)
            break;
        struct diag sub = { 0 };
        rc = rpm_header_append(blob, path, a, out, &sub);
        if (rc < 0) {
            diag_set(d, rc, (size_t)blkoff * NDB_BLK, "Packages.db: package %u: %s", pkgidx,
                     sub.msg);
            break;
        }
    }
    return pkgdb_rollback(out, n0, rc);
}
