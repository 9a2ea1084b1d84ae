/* SPDX-License-Identifier: Apache-2.0 */
/* apk installed-db reader: one pass over "X:value" lines, one package per blank-line
 * separated record. */
#include "apk.h"

#include <string.h>

#include "internal.h"

struct record {
    size_t line, offset;
    bool any;
    bool have_name, have_ver;
    struct str name, ver, arch, origin, license, maint;
};

static int emit(const struct record *r, const char *db_path, struct arena *a, struct pkg_list *out,
                struct diag *d)
{
    if (!r->any)
        return 0;
    if (!r->have_name || r->name.len == 0)
        return diag_set(d, -ERR_CORRUPT, r->offset, "line %zu: record has no P: (name) line",
                        r->line);
    if (!r->have_ver || r->ver.len == 0)
        return diag_set(d, -ERR_VERSION, r->offset, "line %zu: package '%.*s' has no V: line",
                        r->line, STR_FMT(r->name));

    struct pkg p = pkgdb_pkg_blank(PKG_APK, db_path);
    p.name = pkgdb_dup(a, r->name);
    p.version = pkgdb_dup(a, r->ver);
    p.arch = pkgdb_dup(a, r->arch);
    p.license = pkgdb_dup(a, r->license);
    p.maintainer = pkgdb_dup(a, r->maint);
    p.src_name = r->origin.len ? pkgdb_dup(a, r->origin) : p.name;
    p.src_version = p.version;

    /* "-rN" release suffix: the last "-r" followed by digits only */
    struct str v = r->ver;
    size_t i = v.len;
    while (i > 0 && v.ptr[i - 1] >= '0' && v.ptr[i - 1] <= '9')
        i--;
    if (i < v.len && i >= 2 && v.ptr[i - 1] == 'r' && v.ptr[i - 2] == '-') {
        p.upstream = pkgdb_dup(a, str_make(v.ptr, i - 2));
        p.release = pkgdb_dup(a, str_make(v.ptr + i - 1, v.len - i + 1));
    } else {
        p.upstream = p.version;
        p.release = "";
    }
    VEC_PUSH(&out->items, p);
    return 0;
}

int apk_parse_installed(struct str data, const char *db_path, struct arena *a, struct pkg_list *out,
                        struct diag *d)
{
    size_t n0 = out->items.n, where;
    if (data.len > PKGDB_MAX_DB)
        return diag_set(d, -ERR_TOO_BIG, 0, "apk installed db: %zu bytes is over the limit",
                        data.len);
    if (pkgdb_has_nul(data, &where))
        return diag_set(d, -ERR_CORRUPT, where, "apk installed db: NUL byte at offset %zu", where);

    const char *path = arena_strdup(a, db_path ? db_path : "");
    struct record r = { 0 };
    struct str cur = data, line;
    size_t lineno = 0;
    int rc = 0;
    for (;;) {
        size_t off = (size_t)(cur.ptr - data.ptr);
        bool more = str_next_line(&cur, &line);
        if (more)
            lineno++;
        if (!more || line.len == 0) {
            rc = emit(&r, path, a, out, d);
            if (rc < 0 || !more)
                break;
            memset(&r, 0, sizeof(r));
            continue;
        }
        if (line.len < 2 || line.ptr[1] != ':') {
            rc = diag_set(d, -ERR_CORRUPT, off, "line %zu: expected 'X:value'", lineno);
            break;
        }
        if (!r.any) {
            r.any = true;
            r.line = lineno;
            r.offset = off;
        }
        struct str value = str_make(line.ptr + 2, line.len - 2);
        switch (line.ptr[0]) {
        case 'P':
            if (r.have_name) {
                rc = diag_set(d, -ERR_CORRUPT, off,
                              "line %zu: second P: in one record (missing blank line?)", lineno);
                goto out;
            }
            r.have_name = true;
            r.name = value;
            break;
        case 'V':
            r.have_ver = true;
            r.ver = value;
            break;
        case 'A':
            r.arch = value;
            break;
        case 'o':
            r.origin = value;
            break;
        case 'L':
            r.license = value;
            break;
        case 'm':
            r.maint = value;
            break;
        default:
            break;
        }
    }
out:
    return pkgdb_rollback(out, n0, rc);
}
