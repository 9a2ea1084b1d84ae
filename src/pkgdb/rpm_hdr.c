/* SPDX-License-Identifier: Apache-2.0 */
/* rpm header blob reader. A header is: int32 il (index entries), int32 dl (data bytes), il
 * entries of {int32 tag, type, offset, count}, then dl bytes of data, all big-endian. We
 * look up a handful of tags and never trust an offset before checking it against dl. */
#include <string.h>

#include "base/xalloc.h"
#include "internal.h"
#include "rpm.h"

enum {
    TAG_NAME = 1000,
    TAG_VERSION = 1001,
    TAG_RELEASE = 1002,
    TAG_EPOCH = 1003,
    TAG_VENDOR = 1011,
    TAG_LICENSE = 1014,
    TAG_ARCH = 1022,
    TAG_SOURCERPM = 1044,
};

enum {
    TYPE_INT32 = 4,
    TYPE_STRING = 6,
    TYPE_STRING_ARRAY = 8,
    TYPE_I18NSTRING = 9,
};

#define RPM_HEADER_MAX_TAGS 0xffffu /* rpm's own limit on index entries */

struct hdr {
    const unsigned char *index; /* il entries of 16 bytes */
    const unsigned char *data;  /* dl bytes */
    uint32_t il, dl;
    size_t base; /* offset of the blob's index in the caller's blob, for messages */
};

/* The index entry for tag (the last one wins: entries appended after the immutable region
 * replace the region's), or NULL. */
static const unsigned char *find_tag(const struct hdr *h, uint32_t tag)
{
    const unsigned char *hit = NULL;
    for (uint32_t i = 0; i < h->il; i++)
        if (pkgdb_be32(h->index + (size_t)i * 16) == tag)
            hit = h->index + (size_t)i * 16;
    return hit;
}

/* String value of tag (the first element of an array or i18n table). 1 when found, 0 when
 * the tag is absent, <0 when it is malformed. */
static int get_string(const struct hdr *h, uint32_t tag, const char *what, struct str *out,
                      struct diag *d)
{
    const unsigned char *e = find_tag(h, tag);
    if (!e)
        return 0;
    uint32_t type = pkgdb_be32(e + 4), off = pkgdb_be32(e + 8), count = pkgdb_be32(e + 12);
    if (type != TYPE_STRING && type != TYPE_STRING_ARRAY && type != TYPE_I18NSTRING)
        return diag_set(d, -ERR_CORRUPT, h->base, "rpm header: %s tag has type %u, not a string",
                        what, type);
    if (count == 0 || off >= h->dl)
        return diag_set(d, -ERR_CORRUPT, h->base,
                        "rpm header: %s tag points outside the data (offset %u, %u bytes)", what,
                        off, h->dl);
    const char *p = (const char *)h->data + off;
    const char *nul = memchr(p, '\0', h->dl - off);
    if (!nul)
        return diag_set(d, -ERR_CORRUPT, h->base, "rpm header: %s string at %u has no end", what,
                        off);
    *out = str_make(p, (size_t)(nul - p));
    return 1;
}

/* INT32 value of tag: 1 when found, 0 when absent, <0 when malformed. */
static int get_u32(const struct hdr *h, uint32_t tag, const char *what, uint32_t *out,
                   struct diag *d)
{
    const unsigned char *e = find_tag(h, tag);
    if (!e)
        return 0;
    uint32_t type = pkgdb_be32(e + 4), off = pkgdb_be32(e + 8), count = pkgdb_be32(e + 12);
    if (type != TYPE_INT32 || count == 0 || off > h->dl || h->dl - off < 4)
        return diag_set(d, -ERR_CORRUPT, h->base,
                        "rpm header: %s tag is not an INT32 inside the data", what);
    *out = pkgdb_be32(h->data + off);
    return 1;
}

/* "name-ver-rel.src.rpm" -> name, "ver-rel"; false when s does not have that form. */
static bool split_sourcerpm(struct str s, struct str *name, struct str *verrel)
{
    if (str_has_suffix(s, ".src.rpm"))
        s.len -= 8;
    else if (str_has_suffix(s, ".nosrc.rpm"))
        s.len -= 10;
    else
        return false;
    size_t i = s.len, dashes = 0;
    while (i > 0) {
        i--;
        if (s.ptr[i] == '-' && ++dashes == 2)
            break;
    }
    if (dashes != 2 || i == 0 || i + 1 >= s.len)
        return false;
    *name = str_make(s.ptr, i);
    *verrel = str_make(s.ptr + i + 1, s.len - i - 1);
    /* neither version nor release may be empty: "a--1", "a-1-" */
    long dash = str_chr(*verrel, '-');
    return dash > 0 && (size_t)dash + 1 < verrel->len;
}

/* "[E:]V-R" into the arena. */
static const char *evr(struct arena *a, bool has_epoch, uint32_t epoch, struct str v, struct str r)
{
    char buf[11];
    struct str parts[] = { STR_NULL, STR_NULL, v, STR_LIT("-"), r };
    if (has_epoch) {
        parts[0] = pkgdb_u32_str(epoch, buf);
        parts[1] = STR_LIT(":");
    }
    return pkgdb_join(a, parts, ARRAY_SIZE(parts));
}

int rpm_parse_header(struct str blob, const char *db_path, struct arena *a, struct pkg_list *out,
                     struct diag *d)
{
    return rpm_header_append(blob, arena_strdup(a, db_path ? db_path : ""), a, out, d);
}

int rpm_header_append(struct str blob, const char *path, struct arena *a, struct pkg_list *out,
                      struct diag *d)
{
    static const unsigned char magic[8] = { 0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0 };
    const unsigned char *b = (const unsigned char *)blob.ptr;
    size_t len = blob.len, base = 0;
    if (len >= 8 && memcmp(b, magic, 4) == 0) {
        b += 8;
        len -= 8;
        base = 8;
    }
    if (len < 8)
        return diag_set(d, -ERR_TRUNCATED, 0, "rpm header: %zu bytes, too short", blob.len);
    struct hdr h = { .il = pkgdb_be32(b), .dl = pkgdb_be32(b + 4), .base = base };
    if (h.il == 0 || h.il > RPM_HEADER_MAX_TAGS || h.dl > RPM_HEADER_MAX)
        return diag_set(d, h.il == 0 ? -ERR_CORRUPT : -ERR_TOO_BIG, base,
                        "rpm header: %u index entries, %u data bytes: not a plausible header", h.il,
                        h.dl);
    uint64_t need = 8 + (uint64_t)h.il * 16 + h.dl;
    if (need > len)
        return diag_set(d, -ERR_TRUNCATED, base,
                        "rpm header: needs %llu bytes for %u entries and %u data bytes, has %zu",
                        (unsigned long long)need, h.il, h.dl, len);
    h.index = b + 8;
    h.data = b + 8 + (size_t)h.il * 16;

    struct str name, ver, rel, arch = STR_NULL, lic = STR_NULL, vendor = STR_NULL, srpm = STR_NULL;
    uint32_t epoch = 0;
    int rc;
    if ((rc = get_string(&h, TAG_NAME, "NAME", &name, d)) <= 0 ||
        (rc = get_string(&h, TAG_VERSION, "VERSION", &ver, d)) <= 0 ||
        (rc = get_string(&h, TAG_RELEASE, "RELEASE", &rel, d)) <= 0) {
        if (rc == 0)
            rc = diag_set(d, -ERR_CORRUPT, base, "rpm header: no NAME, VERSION or RELEASE");
        return rc;
    }
    if (name.len == 0 || ver.len == 0 || rel.len == 0)
        return diag_set(d, -ERR_CORRUPT, base, "rpm header: empty NAME, VERSION or RELEASE");
    int has_epoch = get_u32(&h, TAG_EPOCH, "EPOCH", &epoch, d);
    if (has_epoch < 0)
        return has_epoch;
    if ((rc = get_string(&h, TAG_ARCH, "ARCH", &arch, d)) < 0 ||
        (rc = get_string(&h, TAG_LICENSE, "LICENSE", &lic, d)) < 0 ||
        (rc = get_string(&h, TAG_VENDOR, "VENDOR", &vendor, d)) < 0 ||
        (rc = get_string(&h, TAG_SOURCERPM, "SOURCERPM", &srpm, d)) < 0)
        return rc;

    if (str_eq_cstr(name, "gpg-pubkey"))
        return 0; /* an imported signing key, not an installed package */

    struct pkg p = pkgdb_pkg_blank(PKG_RPM, path);
    p.name = pkgdb_dup(a, name);
    p.has_epoch = has_epoch > 0;
    p.epoch = epoch;
    p.version = evr(a, p.has_epoch, epoch, ver, rel);
    p.upstream = pkgdb_dup(a, ver);
    p.release = pkgdb_dup(a, rel);
    p.arch = pkgdb_dup(a, arch);
    p.license = pkgdb_dup(a, lic);
    p.maintainer = pkgdb_dup(a, vendor);
    struct str sname, sverrel;
    if (srpm.len && split_sourcerpm(srpm, &sname, &sverrel)) {
        long dash = str_chr(sverrel, '-');
        struct str sv = str_make(sverrel.ptr, (size_t)dash);
        struct str sr = str_make(sverrel.ptr + dash + 1, sverrel.len - (size_t)dash - 1);
        p.src_name = pkgdb_dup(a, sname);
        p.src_version = evr(a, p.has_epoch, epoch, sv, sr);
    } else {
        p.src_name = p.name;
        p.src_version = p.version;
    }
    VEC_PUSH(&out->items, p);
    return 0;
}
