/* SPDX-License-Identifier: Apache-2.0 */
/* Package-list encoding for analyzed layer files. */
#include "codec.h"

#include <string.h>

#define PKG_MAGIC "VPK1"

static int put_cstr(struct buf *b, const char *s)
{
    return buf_append(b, s ? s : "", (s ? strlen(s) : 0) + 1);
}

int pkg_list_encode(const struct pkg *p, size_t n, struct buf *out)
{
    if (n > UINT32_MAX)
        return -ERR_TOO_BIG;
    unsigned char head[8] = { 'V',
                              'P',
                              'K',
                              '1',
                              (unsigned char)n,
                              (unsigned char)(n >> 8),
                              (unsigned char)(n >> 16),
                              (unsigned char)(n >> 24) };
    int rc = buf_append(out, head, sizeof(head));
    for (size_t i = 0; !rc && i < n; i++) {
        rc = buf_putc(out, (char)p[i].type);
        if (!rc)
            rc = put_cstr(out, p[i].name);
        if (!rc)
            rc = put_cstr(out, p[i].version);
        if (!rc)
            rc = put_cstr(out, p[i].src_name);
        if (!rc)
            rc = put_cstr(out, p[i].src_version);
        if (!rc)
            rc = put_cstr(out, p[i].db_path);
    }
    return rc;
}

/* Next NUL-terminated string at *pos, or NULL when none ends inside in. */
static const char *take_cstr(struct str in, size_t *pos)
{
    if (*pos >= in.len)
        return NULL;
    const char *s = in.ptr + *pos;
    const char *nul = memchr(s, '\0', in.len - *pos);
    if (!nul)
        return NULL;
    *pos += (size_t)(nul - s) + 1;
    return s;
}

static bool known_type(unsigned t)
{
    return t == PKG_DEB || t == PKG_APK || t == PKG_RPM || (t >= PKG_NPM && t <= PKG_NUGET);
}

int pkg_list_decode(struct str in, struct arena *a, struct pkg_list *out, struct diag *d)
{
    if (in.len < 8 || memcmp(in.ptr, PKG_MAGIC, 4) != 0)
        return diag_set(d, -ERR_CORRUPT, 0, "package list: bad magic");
    const unsigned char *u = (const unsigned char *)in.ptr;
    uint32_t n = (uint32_t)u[4] | (uint32_t)u[5] << 8 | (uint32_t)u[6] << 16 | (uint32_t)u[7] << 24;
    /* each package takes at least 6 bytes: a bound before anything is allocated */
    if (n > (in.len - 8) / 6)
        return diag_set(d, -ERR_CORRUPT, 4, "package list: count %u exceeds the data", n);
    size_t start = out->items.n, pos = 8;
    for (uint32_t i = 0; i < n; i++) {
        if (pos >= in.len || !known_type(u[pos])) {
            out->items.n = start;
            return diag_set(d, -ERR_CORRUPT, pos, "package list: bad type in entry %u", i);
        }
        struct pkg p = { .type = (enum pkg_type)u[pos++], .layer = -1 };
        const char *f[5];
        for (int k = 0; k < 5; k++) {
            f[k] = take_cstr(in, &pos);
            if (!f[k]) {
                out->items.n = start;
                return diag_set(d, -ERR_CORRUPT, pos, "package list: entry %u truncated", i);
            }
        }
        p.name = arena_strdup(a, f[0]);
        p.version = arena_strdup(a, f[1]);
        p.src_name = arena_strdup(a, f[2]);
        p.src_version = arena_strdup(a, f[3]);
        p.db_path = arena_strdup(a, f[4]);
        p.arch = p.upstream = p.release = p.license = p.maintainer = "";
        VEC_PUSH(&out->items, p);
    }
    if (pos != in.len) {
        out->items.n = start;
        return diag_set(d, -ERR_CORRUPT, pos, "package list: %zu trailing bytes", in.len - pos);
    }
    return 0;
}
