/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the OS package-database parsers (dpkg, apk, rpm): byte-order readers,
 * list rollback on error, and the common struct pkg set-up. Private to src/pkgdb. */
#ifndef VIGIL_PKGDB_INTERNAL_H
#define VIGIL_PKGDB_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/str.h"
#include "pkg.h"

/* Largest database any parser here accepts (bytes): far above a real one (a full RHEL
 * rpmdb is ~100 MB), low enough that a hostile image cannot make us work for minutes. */
#define PKGDB_MAX_DB (512u << 20)

static inline uint32_t pkgdb_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint32_t pkgdb_le32(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static inline uint16_t pkgdb_be16(const unsigned char *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint16_t pkgdb_le16(const unsigned char *p)
{
    return (uint16_t)(p[1] << 8 | p[0]);
}

/* A struct pkg with every string "" and layer -1, db_path set. */
static inline struct pkg pkgdb_pkg_blank(enum pkg_type type, const char *db_path)
{
    return (struct pkg){ .type = type,
                         .name = "",
                         .version = "",
                         .arch = "",
                         .src_name = "",
                         .src_version = "",
                         .upstream = "",
                         .release = "",
                         .license = "",
                         .maintainer = "",
                         .db_path = db_path,
                         .layer = -1 };
}

/* Arena copy of a slice as a C string. */
static inline const char *pkgdb_dup(struct arena *a, struct str s)
{
    return arena_strndup(a, s.len ? s.ptr : "", s.len);
}

/* The parsers leave `out` as they found it when they fail: they remember out->items.n on
 * entry and cut the list back to it on error (the strings stay in the arena). */
static inline int pkgdb_rollback(struct pkg_list *out, size_t n0, int err)
{
    if (err < 0)
        out->items.n = n0;
    return err;
}

/* Parse a decimal epoch ("0".."4294967295"); false on anything else. */
static inline bool pkgdb_parse_epoch(struct str s, uint32_t *out)
{
    unsigned long long v;
    if (!str_to_u64(s, &v) || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Concatenate n slices into one NUL-terminated arena string. */
static inline const char *pkgdb_join(struct arena *a, const struct str *parts, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += parts[i].len;
    char *s = arena_alloc(a, len + 1), *o = s;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len)
            memcpy(o, parts[i].ptr, parts[i].len);
        o += parts[i].len;
    }
    *o = '\0';
    return s;
}

/* Decimal digits of v in buf (at least 11 bytes), as a slice into buf. */
static inline struct str pkgdb_u32_str(uint32_t v, char *buf)
{
    char *e = buf + 11, *p = e;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return str_make(p, (size_t)(e - p));
}

/* True when s holds a NUL byte (binary garbage in a text database). */
static inline bool pkgdb_has_nul(struct str s, size_t *where)
{
    const char *p = s.len ? memchr(s.ptr, '\0', s.len) : NULL;
    if (p && where)
        *where = (size_t)(p - s.ptr);
    return p != NULL;
}

/* rpm_parse_header() for the database readers: `path` is already in the arena (copied once
 * per database, not once per package). */
int rpm_header_append(struct str blob, const char *path, struct arena *a, struct pkg_list *out,
                      struct diag *d);

#endif
