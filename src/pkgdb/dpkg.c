/* SPDX-License-Identifier: Apache-2.0 */
/* dpkg status reader: a line-oriented pass over deb822 stanzas that keeps only the handful
 * of fields vulnerability matching needs and never builds a field table. */
#include "dpkg.h"

#include <string.h>
#include <strings.h>

#include "internal.h"

/* The fields of one stanza that we keep, as slices into the input. */
struct stanza {
    size_t line;   /* line number of its first field, for messages */
    size_t offset; /* byte offset of its first field */
    bool any;      /* saw at least one field */
    bool have_pkg, have_ver, have_status;
    struct str pkg, ver, arch, source, maint, status;
};

static bool field_is(struct str name, const char *want)
{
    size_t n = strlen(want);
    return name.len == n && strncasecmp(name.ptr, want, n) == 0;
}

static bool is_blank_line(struct str line)
{
    for (size_t i = 0; i < line.len; i++)
        if (line.ptr[i] != ' ' && line.ptr[i] != '\t')
            return false;
    return true;
}

/* Split "[epoch:]upstream[-revision]" the way dpkg does: the epoch is what precedes the
 * first ':', the revision what follows the last '-'. */
static int split_version(struct str v, struct pkg *p, struct arena *a, size_t line, struct diag *d)
{
    struct str rest = v;
    long colon = str_chr(v, ':');
    if (colon >= 0) {
        struct str e = str_make(v.ptr, (size_t)colon);
        if (!pkgdb_parse_epoch(e, &p->epoch))
            return diag_set(d, -ERR_VERSION, 0, "line %zu: epoch of version '%.*s' is not a number",
                            line, STR_FMT(v));
        rest = str_make(v.ptr + colon + 1, v.len - (size_t)colon - 1);
    }
    size_t dash = rest.len;
    while (dash > 0 && rest.ptr[dash - 1] != '-')
        dash--;
    if (dash > 0) {
        p->upstream = pkgdb_dup(a, str_make(rest.ptr, dash - 1));
        p->release = pkgdb_dup(a, str_make(rest.ptr + dash, rest.len - dash));
    } else {
        p->upstream = pkgdb_dup(a, rest);
        p->release = "";
    }
    return 0;
}

/* Turn a finished stanza into a package (or nothing, when it is not installed). */
static int emit(const struct stanza *s, const char *db_path, struct arena *a, struct pkg_list *out,
                struct diag *d)
{
    if (!s->any)
        return 0;
    if (!s->have_pkg || s->pkg.len == 0)
        return diag_set(d, -ERR_CORRUPT, s->offset, "line %zu: stanza has no Package field",
                        s->line);
    /* no Status: a distroless status.d file (the .deb's own control fields), installed */
    struct str st = s->have_status ? s->status : STR_LIT("install ok installed");
    struct str want, eflag, state;
    str_cut(&st, ' ', &want);
    str_cut(&st, ' ', &eflag);
    state = str_trim(st);
    if (want.len == 0 || eflag.len == 0 || state.len == 0 || str_chr(state, ' ') >= 0)
        return diag_set(d, -ERR_CORRUPT, s->offset,
                        "line %zu: package '%.*s': Status '%.*s' is not three words", s->line,
                        STR_FMT(s->pkg), STR_FMT(s->status));
    if (!str_eq_cstr(eflag, "ok") || !str_eq_cstr(state, "installed"))
        return 0;
    if (!s->have_ver || s->ver.len == 0)
        return diag_set(d, -ERR_VERSION, s->offset,
                        "line %zu: installed package '%.*s' has no Version", s->line,
                        STR_FMT(s->pkg));

    struct pkg p = pkgdb_pkg_blank(PKG_DEB, db_path);
    p.name = pkgdb_dup(a, s->pkg);
    p.version = pkgdb_dup(a, s->ver);
    p.arch = pkgdb_dup(a, s->arch);
    p.maintainer = pkgdb_dup(a, s->maint);
    int rc = split_version(s->ver, &p, a, s->line, d);
    if (rc < 0)
        return rc;

    /* Source: "name" or "name (version)" */
    struct str src = str_trim(s->source), srcver = STR_NULL;
    long paren = str_chr(src, '(');
    if (paren >= 0) {
        struct str inner = str_make(src.ptr + paren + 1, src.len - (size_t)paren - 1);
        long close = str_chr(inner, ')');
        if (close >= 0)
            inner.len = (size_t)close;
        srcver = str_trim(inner);
        src = str_trim(str_make(src.ptr, (size_t)paren));
    }
    p.src_name = src.len ? pkgdb_dup(a, src) : p.name;
    p.src_version = srcver.len ? pkgdb_dup(a, srcver) : p.version;
    VEC_PUSH(&out->items, p);
    return 0;
}

int dpkg_parse_status(struct str data, const char *db_path, struct arena *a, struct pkg_list *out,
                      struct diag *d)
{
    size_t n0 = out->items.n, where;
    if (data.len > PKGDB_MAX_DB)
        return diag_set(d, -ERR_TOO_BIG, 0, "dpkg status: %zu bytes is over the limit", data.len);
    if (pkgdb_has_nul(data, &where))
        return diag_set(d, -ERR_CORRUPT, where, "dpkg status: NUL byte at offset %zu", where);

    const char *path = arena_strdup(a, db_path ? db_path : "");
    struct stanza s = { 0 };
    bool in_field = false; /* a continuation line may follow */
    struct str cur = data, line;
    size_t lineno = 0;
    int rc = 0;
    for (;;) {
        size_t off = (size_t)(cur.ptr - data.ptr);
        bool more = str_next_line(&cur, &line);
        if (more)
            lineno++;
        if (!more || is_blank_line(line)) {
            rc = emit(&s, path, a, out, d);
            if (rc < 0 || !more)
                break;
            memset(&s, 0, sizeof(s));
            in_field = false;
            continue;
        }
        if (line.ptr[0] == '#')
            continue;
        if (line.ptr[0] == ' ' || line.ptr[0] == '\t') {
            if (!in_field) {
                rc = diag_set(d, -ERR_CORRUPT, off, "line %zu: continuation line outside a field",
                              lineno);
                break;
            }
            continue; /* multi-line fields (Description, Conffiles) are not kept */
        }
        long colon = str_chr(line, ':');
        if (colon <= 0) {
            rc = diag_set(d, -ERR_CORRUPT, off, "line %zu: expected 'Field: value'", lineno);
            break;
        }
        struct str name = str_make(line.ptr, (size_t)colon);
        struct str value = str_trim(str_make(line.ptr + colon + 1, line.len - (size_t)colon - 1));
        if (!s.any) {
            s.any = true;
            s.line = lineno;
            s.offset = off;
        }
        in_field = true;
        bool *seen = NULL;
        struct str *dst = NULL;
        if (field_is(name, "Package")) {
            seen = &s.have_pkg;
            dst = &s.pkg;
        } else if (field_is(name, "Version")) {
            seen = &s.have_ver;
            dst = &s.ver;
        } else if (field_is(name, "Status")) {
            seen = &s.have_status;
            dst = &s.status;
        } else if (field_is(name, "Architecture")) {
            s.arch = value;
        } else if (field_is(name, "Source")) {
            s.source = value;
        } else if (field_is(name, "Maintainer")) {
            s.maint = value;
        }
        if (seen) {
            if (*seen) {
                rc = diag_set(d, -ERR_CORRUPT, off,
                              "line %zu: duplicate %.*s field "
                              "(missing blank line between stanzas?)",
                              lineno, STR_FMT(name));
                break;
            }
            *seen = true;
            *dst = value;
        }
    }
    return pkgdb_rollback(out, n0, rc);
}

bool dpkg_status_d_is_stanza_file(const char *name)
{
    struct str n = str_from(name);
    return n.len > 0 && name[0] != '.' && !str_has_suffix(n, ".md5sums");
}
