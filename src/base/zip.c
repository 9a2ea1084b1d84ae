/* SPDX-License-Identifier: Apache-2.0 */
/* Zip reader over memory (PKWARE APPNOTE 6.3: end of central directory, zip64 locator and
 * extra field, central directory, local header): directory walk and capped extraction. */
#include "base/zip.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/xalloc.h"

#define SIG_LOCAL   0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD    0x06054b50u
#define SIG_EOCD64  0x06064b50u
#define SIG_LOC64   0x07064b50u

#define EOCD_SIZE    22
#define CENTRAL_SIZE 46
#define LOCAL_SIZE   30

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

int zip_open(struct zip *z, const void *data, size_t n, const struct zip_limits *lim,
             struct diag *d)
{
    memset(z, 0, sizeof(*z));
    z->data = data;
    z->size = n;
    if (lim)
        z->lim = *lim;
    if (!z->lim.max_members)
        z->lim.max_members = ZIP_DEFAULT_MAX_MEMBERS;
    if (!z->lim.max_member_size)
        z->lim.max_member_size = ZIP_DEFAULT_MAX_MEMBER_SIZE;
    if (!z->lim.max_total)
        z->lim.max_total = ZIP_DEFAULT_MAX_TOTAL;
    if (!z->lim.max_ratio)
        z->lim.max_ratio = ZIP_DEFAULT_MAX_RATIO;

    const unsigned char *p = data;
    if (n < EOCD_SIZE)
        return diag_set(d, -ERR_CORRUPT, 0, "zip: too short for an end of central directory");
    /* The end record is followed by a comment of at most 65535 bytes: search back from the
     * last place it can start. The central directory ends where the end record (or the zip64
     * end record) begins; the difference between that and the recorded offset is data put
     * in front of the archive (a launch script, a self-extractor stub), by which every offset
     * is shifted, as Java's ZipFile does. A candidate is taken when its comment reaches
     * exactly the end of the data, else only when a directory entry starts where it says:
     * jars inside a jar bring their own end records. */
    size_t lo = n > EOCD_SIZE + 65535 ? n - EOCD_SIZE - 65535 : 0;
    const char *why = "zip: no end of central directory record";
    size_t why_at = 0;
    for (size_t i = n - EOCD_SIZE + 1; i-- > lo;) {
        if (le32(p + i) != SIG_EOCD)
            continue;
        uint64_t count = le16(p + i + 10);
        uint64_t cd_size = le32(p + i + 12);
        uint64_t cd_off = le32(p + i + 16);
        size_t dir_end = i;
        if ((count == 0xffff || cd_size == 0xffffffff || cd_off == 0xffffffff) && i >= 20 &&
            le32(p + i - 20) == SIG_LOC64) {
            /* zip64: the locator gives the zip64 end record's offset (unshifted); with data
             * in front it sits just before the locator instead (no extensible data) */
            uint64_t z64 = le64(p + i - 20 + 8);
            if (n < 56 || z64 > n - 56 || le32(p + z64) != SIG_EOCD64) {
                z64 = i >= 20 + 56 ? i - 20 - 56 : SIZE_MAX;
                if (z64 == SIZE_MAX || le32(p + z64) != SIG_EOCD64) {
                    why = "zip: bad zip64 end of central directory";
                    why_at = i;
                    continue;
                }
            }
            count = le64(p + z64 + 32);
            cd_size = le64(p + z64 + 40);
            cd_off = le64(p + z64 + 48);
            dir_end = (size_t)z64;
        }
        if (cd_size > dir_end || cd_off > dir_end - cd_size) {
            why = "zip: central directory outside the file";
            why_at = i;
            continue;
        }
        size_t cd_start = (size_t)(dir_end - cd_size);
        bool exact = i + EOCD_SIZE + le16(p + i + 20) == n;
        if (!exact && count && le32(p + cd_start) != SIG_CENTRAL) {
            why = "zip: end of central directory record does not match its directory";
            why_at = i;
            continue;
        }
        if (count > cd_size / CENTRAL_SIZE)
            return diag_set(d, -ERR_CORRUPT, i, "zip: more entries than the directory can hold");
        if (count > z->lim.max_members)
            return diag_set(d, -ERR_TOO_BIG, i, "zip: %llu entries, more than the cap of %llu",
                            (unsigned long long)count, (unsigned long long)z->lim.max_members);
        z->count = count;
        z->pos = cd_start;
        z->cd_end = cd_start + (size_t)cd_size;
        z->shift = cd_start - (size_t)cd_off;
        return 0;
    }
    return diag_set(d, -ERR_CORRUPT, why_at, "%s", why);
}
int zip_next(struct zip *z, struct zip_entry *e, struct diag *d)
{
    if (z->next >= z->count)
        return 0;
    const unsigned char *p = z->data + z->pos;
    size_t avail = z->cd_end - z->pos;
    if (avail < CENTRAL_SIZE || le32(p) != SIG_CENTRAL)
        return diag_set(d, -ERR_CORRUPT, z->pos, "zip: bad central directory entry %llu",
                        (unsigned long long)z->next);
    size_t nlen = le16(p + 28), xlen = le16(p + 30), clen = le16(p + 32);
    if (avail - CENTRAL_SIZE < nlen + xlen + clen)
        return diag_set(d, -ERR_CORRUPT, z->pos, "zip: central directory entry %llu overruns",
                        (unsigned long long)z->next);
    memset(e, 0, sizeof(*e));
    e->index = z->next;
    e->dir_offset = z->pos;
    e->flags = le16(p + 8);
    e->method = le16(p + 10);
    e->crc32 = le32(p + 16);
    e->csize = le32(p + 20);
    e->usize = le32(p + 24);
    e->local_offset = le32(p + 42);
    e->name = str_make((const char *)p + CENTRAL_SIZE, nlen);
    /* zip64 extended information: present fields follow in this order, each only when the
     * 32-bit field says 0xffffffff */
    const unsigned char *x = p + CENTRAL_SIZE + nlen, *xe = x + xlen;
    while (xe - x >= 4) {
        uint16_t tag = le16(x), sz = le16(x + 2);
        if ((size_t)(xe - x - 4) < sz)
            break;
        if (tag == 0x0001) {
            const unsigned char *f = x + 4, *fe = f + sz;
            if (e->usize == 0xffffffff && fe - f >= 8) {
                e->usize = le64(f);
                f += 8;
            }
            if (e->csize == 0xffffffff && fe - f >= 8) {
                e->csize = le64(f);
                f += 8;
            }
            if (e->local_offset == 0xffffffff && fe - f >= 8)
                e->local_offset = le64(f);
        }
        x += 4 + sz;
    }
    z->pos += CENTRAL_SIZE + nlen + xlen + clen;
    z->next++;
    return 1;
}

void zip_data_release(struct zip_data *zd)
{
    free(zd->owned);
    zd->owned = NULL;
    zd->ptr = NULL;
    zd->len = 0;
}

/* Raw deflate of exactly usize bytes from in[0..csize) into out. */
static bool inflate_exact(const unsigned char *in, uint64_t csize, unsigned char *out,
                          uint64_t usize)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
        return false;
    int zr;
    uint64_t in_left = csize, out_left = usize;
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.next_out = out;
    /* avail_in/avail_out are 32-bit: refill in slices; inflate() says Z_BUF_ERROR only when
     * it can make no progress, which after a refill means input or room ran out */
    for (;;) {
        if (zs.avail_in == 0 && in_left) {
            zs.avail_in = (uInt)(in_left > UINT_MAX ? UINT_MAX : in_left);
            in_left -= zs.avail_in;
        }
        if (zs.avail_out == 0 && out_left) {
            zs.avail_out = (uInt)(out_left > UINT_MAX ? UINT_MAX : out_left);
            out_left -= zs.avail_out;
        }
        zr = inflate(&zs, Z_NO_FLUSH);
        if (zr != Z_OK)
            break;
    }
    bool ok = zr == Z_STREAM_END && zs.total_out == usize;
    inflateEnd(&zs);
    return ok;
}

/* CRC-32 of any length (crc32() takes a 32-bit length). */
static uint32_t crc_of(const unsigned char *p, uint64_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (n) {
        uInt k = (uInt)(n > UINT_MAX ? UINT_MAX : n);
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)c;
}

int zip_extract(struct zip *z, const struct zip_entry *e, struct zip_data *out, struct diag *d)
{
    memset(out, 0, sizeof(*out));
    const char *nm = e->name.ptr;
    int nl = e->name.len > 200 ? 200 : (int)e->name.len;
    if (e->flags & 1)
        return diag_set(d, -ERR_UNSUPPORTED, e->dir_offset, "zip: '%.*s' is encrypted", nl, nm);
    if (e->method != 0 && e->method != 8)
        return diag_set(d, -ERR_UNSUPPORTED, e->dir_offset,
                        "zip: '%.*s' uses compression method %u (only stored and deflate)", nl, nm,
                        e->method);
    if (e->usize > z->lim.max_member_size || e->usize > SIZE_MAX - 1)
        return diag_set(d, -ERR_TOO_BIG, e->dir_offset,
                        "zip: '%.*s' claims %llu bytes, more than the member cap of %llu", nl, nm,
                        (unsigned long long)e->usize, (unsigned long long)z->lim.max_member_size);
    if (e->usize > z->lim.max_total - z->total_out)
        return diag_set(d, -ERR_TOO_BIG, e->dir_offset,
                        "zip: '%.*s' (%llu bytes) would pass the archive's cap of %llu "
                        "uncompressed bytes",
                        nl, nm, (unsigned long long)e->usize, (unsigned long long)z->lim.max_total);
    if (e->usize > ZIP_RATIO_MIN_SIZE && e->usize / (e->csize ? e->csize : 1) > z->lim.max_ratio)
        return diag_set(d, -ERR_TOO_BIG, e->dir_offset,
                        "zip: '%.*s' claims %llu bytes from %llu, a ratio above %u (zip bomb)", nl,
                        nm, (unsigned long long)e->usize, (unsigned long long)e->csize,
                        z->lim.max_ratio);
    uint64_t lho = e->local_offset;
    if (lho > UINT64_MAX - z->shift)
        return diag_set(d, -ERR_CORRUPT, e->dir_offset, "zip: bad local header offset for '%.*s'",
                        nl, nm);
    lho += z->shift;
    if (z->size < LOCAL_SIZE || lho > z->size - LOCAL_SIZE || le32(z->data + lho) != SIG_LOCAL)
        return diag_set(d, -ERR_CORRUPT, (size_t)lho, "zip: bad local header for '%.*s'", nl, nm);
    uint64_t at = lho + LOCAL_SIZE + le16(z->data + lho + 26) + le16(z->data + lho + 28);
    if (at > z->size || e->csize > z->size - at)
        return diag_set(d, -ERR_CORRUPT, (size_t)lho, "zip: data of '%.*s' outside the file", nl,
                        nm);
    const unsigned char *src = z->data + at;
    /* charged before the work: a member that then fails its CRC still cost the time */
    z->total_out += e->usize;
    if (e->method == 0) {
        if (e->csize != e->usize)
            return diag_set(d, -ERR_CORRUPT, e->dir_offset,
                            "zip: stored '%.*s' has different compressed and plain sizes", nl, nm);
        if (crc_of(src, e->usize) != e->crc32)
            return diag_set(d, -ERR_CORRUPT, e->dir_offset, "zip: CRC mismatch in '%.*s'", nl, nm);
        out->ptr = src;
        out->len = (size_t)e->usize;
        return 0;
    }
    unsigned char *buf = xmalloc(e->usize ? (size_t)e->usize : 1);
    if (!inflate_exact(src, e->csize, buf, e->usize)) {
        free(buf);
        return diag_set(d, -ERR_CORRUPT, e->dir_offset,
                        "zip: '%.*s' does not inflate to its recorded size of %llu", nl, nm,
                        (unsigned long long)e->usize);
    }
    if (crc_of(buf, e->usize) != e->crc32) {
        free(buf);
        return diag_set(d, -ERR_CORRUPT, e->dir_offset, "zip: CRC mismatch in '%.*s'", nl, nm);
    }
    out->ptr = buf;
    out->owned = buf;
    out->len = (size_t)e->usize;
    return 0;
}
