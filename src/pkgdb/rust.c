/* SPDX-License-Identifier: Apache-2.0 */
/* Rust inventories: Cargo.lock (lockfile versions 1 to 4, read with a small strict TOML
 * subset reader of our own) and the cargo-auditable dependency list that `cargo auditable
 * build` stores zlib-compressed in the ".dep-v0" ELF section. */
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <zlib.h>

#include "base/xalloc.h"
#include "elf.h"
#include "internal.h"
#include "lang.h"

#define RUST_MAX_PKGS    200000u     /* packages in one lockfile or binary */
#define RUST_MAX_NESTING 32u         /* arrays/inline tables inside each other */
#define AUDIT_MAX_JSON   (16u << 20) /* inflated .dep-v0 bytes accepted */

static void push_crate(struct arena *a, struct pkg_list *out, const char *path, struct str name,
                       struct str version)
{
    struct pkg p = pkgdb_pkg_blank(PKG_CARGO, path);
    p.name = pkgdb_dup(a, name);
    p.version = pkgdb_dup(a, version);
    p.src_name = p.name;
    p.src_version = p.version;
    p.upstream = p.version;
    VEC_PUSH(&out->items, p);
}

/* ---- TOML subset ---------------------------------------------------------------------------
 * Enough TOML for lockfiles, and strict about it: comments, [table] and [[array.of.tables]]
 * headers with bare, "basic" or 'literal' dotted keys, key = value pairs whose values are basic
 * or literal one-line strings, integers, booleans, arrays (over several lines, trailing comma
 * allowed) and one-line inline tables. Multi-line strings, floats and dates are refused with
 * an error: Cargo never writes them. Values are handed to a callback with the table path and
 * the key; strings with escapes are decoded into the arena. */

struct toml {
    struct str src;
    size_t pos, line, line_start;
    const char *path;
    struct diag *d;
    struct arena *a;
};

enum tv_kind { TV_STRING, TV_INT, TV_BOOL, TV_ARRAY, TV_TABLE };

static int terr(struct toml *t, const char *what)
{
    return diag_set(t->d, -ERR_CORRUPT, t->pos, "%s:%zu:%zu: %s", t->path, t->line,
                    t->pos - t->line_start + 1, what);
}

static int peek(const struct toml *t)
{
    return t->pos < t->src.len ? (unsigned char)t->src.ptr[t->pos] : -1;
}

static void skip_ws(struct toml *t)
{
    while (peek(t) == ' ' || peek(t) == '\t')
        t->pos++;
}

static void newline(struct toml *t)
{
    t->pos++;
    t->line++;
    t->line_start = t->pos;
}

/* Skip a comment to the end of the line (not the newline). Control characters other than
 * TAB are not allowed in comments. */
static int skip_comment(struct toml *t)
{
    if (peek(t) != '#')
        return 0;
    while (t->pos < t->src.len && t->src.ptr[t->pos] != '\n') {
        unsigned char c = (unsigned char)t->src.ptr[t->pos];
        if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
            return terr(t, "control character in a comment");
        t->pos++;
    }
    return 0;
}

/* After a header or a key/value pair: blanks, an optional comment, then a newline or EOF. */
static int end_of_line(struct toml *t)
{
    skip_ws(t);
    int rc = skip_comment(t);
    if (rc < 0)
        return rc;
    if (peek(t) == '\r' && t->pos + 1 < t->src.len && t->src.ptr[t->pos + 1] == '\n')
        t->pos++;
    if (peek(t) == '\n') {
        newline(t);
        return 0;
    }
    if (peek(t) < 0)
        return 0;
    return terr(t, "expected the end of the line");
}

/* Blanks, comments and newlines (inside arrays). */
static int skip_ws_nl(struct toml *t)
{
    for (;;) {
        skip_ws(t);
        int rc = skip_comment(t);
        if (rc < 0)
            return rc;
        if (peek(t) == '\r' && t->pos + 1 < t->src.len && t->src.ptr[t->pos + 1] == '\n')
            t->pos++;
        if (peek(t) != '\n')
            return 0;
        newline(t);
    }
}

static int hexdig(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A basic ("...") or literal ('...') one-line string at t->pos; *out is a slice of the input
 * when there are no escapes, else an arena copy with them decoded. */
static int parse_string(struct toml *t, struct str *out)
{
    char q = (char)peek(t);
    if (t->pos + 2 < t->src.len && t->src.ptr[t->pos + 1] == q && t->src.ptr[t->pos + 2] == q)
        return terr(t, "multi-line strings are not supported");
    size_t start = ++t->pos;
    bool escaped = false;
    for (;;) {
        int c = peek(t);
        if (c < 0 || c == '\n' || c == '\r')
            return terr(t, "unterminated string");
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return terr(t, "control character in a string");
        if (c == q)
            break;
        if (c == '\\' && q == '"') {
            escaped = true;
            t->pos++;
            if (peek(t) < 0)
                return terr(t, "unterminated string");
        }
        t->pos++;
    }
    struct str raw = str_make(t->src.ptr + start, t->pos - start);
    t->pos++; /* closing quote */
    if (!escaped) {
        *out = raw;
        return 0;
    }
    /* decode: \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX (UTF-8 is never longer than the escape) */
    char *o = arena_alloc(t->a, raw.len + 1), *w = o;
    for (size_t i = 0; i < raw.len; i++) {
        char c = raw.ptr[i];
        if (c != '\\') {
            *w++ = c;
            continue;
        }
        char e = raw.ptr[++i], simple = 0;
        switch (e) {
        case 'b':
            simple = '\b';
            break;
        case 't':
            simple = '\t';
            break;
        case 'n':
            simple = '\n';
            break;
        case 'f':
            simple = '\f';
            break;
        case 'r':
            simple = '\r';
            break;
        case '"':
        case '\\':
            simple = e;
            break;
        default:
            break;
        }
        if (simple) {
            *w++ = simple;
            continue;
        }
        if (e != 'u' && e != 'U') {
            t->pos = start + i;
            return terr(t, "unknown escape in a string");
        }
        size_t nd = e == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (size_t k = 0; k < nd; k++) {
            int h = i + 1 + k < raw.len ? hexdig((unsigned char)raw.ptr[i + 1 + k]) : -1;
            if (h < 0) {
                t->pos = start + i;
                return terr(t, "bad \\u escape in a string");
            }
            cp = cp << 4 | (uint32_t)h;
        }
        i += nd;
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            t->pos = start + i;
            return terr(t, "escape is not a Unicode scalar value");
        }
        if (cp < 0x80) {
            *w++ = (char)cp;
        } else if (cp < 0x800) {
            *w++ = (char)(0xc0 | cp >> 6);
            *w++ = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            *w++ = (char)(0xe0 | cp >> 12);
            *w++ = (char)(0x80 | (cp >> 6 & 0x3f));
            *w++ = (char)(0x80 | (cp & 0x3f));
        } else {
            *w++ = (char)(0xf0 | cp >> 18);
            *w++ = (char)(0x80 | (cp >> 12 & 0x3f));
            *w++ = (char)(0x80 | (cp >> 6 & 0x3f));
            *w++ = (char)(0x80 | (cp & 0x3f));
        }
    }
    *w = '\0';
    *out = str_make(o, (size_t)(w - o));
    return 0;
}

static bool is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* One key part: bare, "basic" or 'literal'. */
static int parse_key_part(struct toml *t, struct str *out)
{
    int c = peek(t);
    if (c == '"' || c == '\'')
        return parse_string(t, out);
    size_t start = t->pos;
    while (is_bare(peek(t)))
        t->pos++;
    if (t->pos == start)
        return terr(t, "expected a key");
    *out = str_make(t->src.ptr + start, t->pos - start);
    return 0;
}

/* A dotted key; *first and *last are its first and last parts, *nparts their count. */
static int parse_key(struct toml *t, struct str *first, struct str *last, size_t *nparts)
{
    *nparts = 0;
    for (;;) {
        struct str part;
        skip_ws(t);
        int rc = parse_key_part(t, &part);
        if (rc < 0)
            return rc;
        if ((*nparts)++ == 0)
            *first = part;
        *last = part;
        skip_ws(t);
        if (peek(t) != '.')
            return 0;
        t->pos++;
    }
}

struct tval {
    enum tv_kind kind;
    struct str s; /* TV_STRING */
};

static int parse_value(struct toml *t, struct tval *v, unsigned depth);

/* [ v, v, ... ] over any number of lines; the elements are checked and dropped. */
static int parse_array(struct toml *t, unsigned depth)
{
    t->pos++;
    for (;;) {
        int rc = skip_ws_nl(t);
        if (rc < 0)
            return rc;
        if (peek(t) == ']') {
            t->pos++;
            return 0;
        }
        struct tval el;
        rc = parse_value(t, &el, depth + 1);
        if (rc < 0)
            return rc;
        rc = skip_ws_nl(t);
        if (rc < 0)
            return rc;
        if (peek(t) == ',') {
            t->pos++;
            continue;
        }
        if (peek(t) == ']') {
            t->pos++;
            return 0;
        }
        return terr(t, "expected ',' or ']' in an array");
    }
}

/* { k = v, k = v } on one line; checked and dropped. */
static int parse_inline_table(struct toml *t, unsigned depth)
{
    t->pos++;
    skip_ws(t);
    if (peek(t) == '}') {
        t->pos++;
        return 0;
    }
    for (;;) {
        struct str first, last;
        size_t np;
        int rc = parse_key(t, &first, &last, &np);
        if (rc < 0)
            return rc;
        if (peek(t) != '=')
            return terr(t, "expected '=' in an inline table");
        t->pos++;
        skip_ws(t);
        struct tval el;
        rc = parse_value(t, &el, depth + 1);
        if (rc < 0)
            return rc;
        skip_ws(t);
        if (peek(t) == ',') {
            t->pos++;
            continue;
        }
        if (peek(t) == '}') {
            t->pos++;
            return 0;
        }
        return terr(t, "expected ',' or '}' in an inline table");
    }
}

static int parse_value(struct toml *t, struct tval *v, unsigned depth)
{
    if (depth > RUST_MAX_NESTING)
        return terr(t, "arrays nested too deeply");
    int c = peek(t);
    memset(v, 0, sizeof(*v));
    if (c == '"' || c == '\'') {
        v->kind = TV_STRING;
        return parse_string(t, &v->s);
    }
    if (c == '[') {
        v->kind = TV_ARRAY;
        return parse_array(t, depth);
    }
    if (c == '{') {
        v->kind = TV_TABLE;
        return parse_inline_table(t, depth);
    }
    struct str rest = str_make(t->src.ptr + t->pos, t->src.len - t->pos);
    if (str_has_prefix(rest, "true") && !is_bare(t->pos + 4 < t->src.len ? rest.ptr[4] : 0)) {
        v->kind = TV_BOOL;
        t->pos += 4;
        return 0;
    }
    if (str_has_prefix(rest, "false") && !is_bare(t->pos + 5 < t->src.len ? rest.ptr[5] : 0)) {
        v->kind = TV_BOOL;
        t->pos += 5;
        return 0;
    }
    /* a decimal integer: [+-]digits with single underscores between digits, no leading 0 */
    size_t i = 0;
    if (i < rest.len && (rest.ptr[i] == '+' || rest.ptr[i] == '-'))
        i++;
    size_t digits = 0;
    bool prev_digit = false;
    while (i < rest.len) {
        char ch = rest.ptr[i];
        if (ch >= '0' && ch <= '9') {
            digits++;
            prev_digit = true;
        } else if (ch == '_' && prev_digit && i + 1 < rest.len && rest.ptr[i + 1] >= '0' &&
                   rest.ptr[i + 1] <= '9') {
            prev_digit = false;
        } else {
            break;
        }
        i++;
    }
    size_t sign = (rest.len && (rest.ptr[0] == '+' || rest.ptr[0] == '-')) ? 1 : 0;
    if (digits == 0 || is_bare(i < rest.len ? rest.ptr[i] : 0) ||
        (i < rest.len && rest.ptr[i] == '.') || (digits > 1 && rest.ptr[sign] == '0'))
        return terr(t, "unsupported or malformed value");
    v->kind = TV_INT;
    t->pos += i;
    return 0;
}

/* ---- Cargo.lock ------------------------------------------------------------------------------ */

struct lock_pkg {
    struct str name, version, source;
    bool in_pkg, has_name, has_version, has_source;
    size_t line, offset;
};

/* Crates with a source (a registry, sparse index or git) are reported; workspace members and
 * path dependencies (no source) are local code that no advisory names. */
static int lock_emit(struct lock_pkg *p, const char *path, struct arena *a, struct pkg_list *out,
                     size_t n0, struct diag *d)
{
    if (!p->in_pkg)
        return 0;
    p->in_pkg = false;
    if (!p->has_name || !p->has_version || p->name.len == 0 || p->version.len == 0)
        return diag_set(d, -ERR_CORRUPT, p->offset,
                        "%s:%zu: [[package]] without a non-empty name and version", path, p->line);
    if (!p->has_source)
        return 0;
    if (out->items.n - n0 >= RUST_MAX_PKGS)
        return diag_set(d, -ERR_TOO_BIG, p->offset, "%s:%zu: more than %u packages", path, p->line,
                        RUST_MAX_PKGS);
    push_crate(a, out, path, p->name, p->version);
    return 0;
}

int rust_parse_cargo_lock(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                          struct diag *d)
{
    size_t n0 = out->items.n, where;
    if (!path)
        path = "";
    if (data.len > PKGDB_MAX_DB)
        return diag_set(d, -ERR_TOO_BIG, 0, "%s: %zu bytes is over the limit", path, data.len);
    if (pkgdb_has_nul(data, &where))
        return diag_set(d, -ERR_CORRUPT, where, "%s: NUL byte at offset %zu", path, where);
    const char *dpath = arena_strdup(a, path);
    struct toml t = { .src = data, .line = 1, .path = dpath, .d = d, .a = a };
    struct lock_pkg cur = { 0 };
    int rc = 0;
    /* a UTF-8 byte-order mark is allowed before the first line */
    if (str_has_prefix(data, "\xef\xbb\xbf"))
        t.pos = t.line_start = 3;
    for (;;) {
        rc = skip_ws_nl(&t);
        if (rc < 0)
            goto out;
        if (peek(&t) < 0)
            break;
        if (peek(&t) == '[') {
            size_t hline = t.line, hoff = t.pos;
            bool array = t.pos + 1 < data.len && data.ptr[t.pos + 1] == '[';
            t.pos += array ? 2 : 1;
            struct str first, last;
            size_t np;
            rc = parse_key(&t, &first, &last, &np);
            if (rc < 0)
                goto out;
            if (peek(&t) != ']' ||
                (array && (t.pos + 1 >= data.len || data.ptr[t.pos + 1] != ']'))) {
                rc = terr(&t, array ? "expected ']]'" : "expected ']'");
                goto out;
            }
            t.pos += array ? 2 : 1;
            rc = end_of_line(&t);
            if (rc < 0)
                goto out;
            rc = lock_emit(&cur, dpath, a, out, n0, d);
            if (rc < 0)
                goto out;
            if (array && np == 1 && str_eq_cstr(first, "package")) {
                cur = (struct lock_pkg){ .in_pkg = true, .line = hline, .offset = hoff };
            }
            continue;
        }
        struct str first, last;
        size_t np, kline = t.line, koff = t.pos;
        rc = parse_key(&t, &first, &last, &np);
        if (rc < 0)
            goto out;
        if (peek(&t) != '=') {
            rc = terr(&t, "expected '='");
            goto out;
        }
        t.pos++;
        skip_ws(&t);
        struct tval v;
        rc = parse_value(&t, &v, 0);
        if (rc < 0)
            goto out;
        rc = end_of_line(&t);
        if (rc < 0)
            goto out;
        if (!cur.in_pkg || np != 1)
            continue;
        bool *seen = NULL;
        struct str *dst = NULL;
        if (str_eq_cstr(first, "name")) {
            seen = &cur.has_name;
            dst = &cur.name;
        } else if (str_eq_cstr(first, "version")) {
            seen = &cur.has_version;
            dst = &cur.version;
        } else if (str_eq_cstr(first, "source")) {
            seen = &cur.has_source;
            dst = &cur.source;
        }
        if (!seen)
            continue;
        if (*seen) {
            rc = diag_set(d, -ERR_CORRUPT, koff, "%s:%zu: duplicate key '%.*s'", dpath, kline,
                          STR_FMT(first));
            goto out;
        }
        if (v.kind != TV_STRING) {
            rc = diag_set(d, -ERR_CORRUPT, koff, "%s:%zu: '%.*s' is not a string", dpath, kline,
                          STR_FMT(first));
            goto out;
        }
        *seen = true;
        *dst = v.s;
    }
    rc = lock_emit(&cur, dpath, a, out, n0, d);
out:
    return pkgdb_rollback(out, n0, rc);
}

/* ---- cargo-auditable ------------------------------------------------------------------------- */

/* Inflate a zlib stream into a malloc'ed buffer of at most AUDIT_MAX_JSON bytes. */
static int inflate_all(struct str in, char **out, size_t *out_len, const char *path, size_t off,
                       struct diag *d)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit(&zs) != Z_OK)
        return diag_set(d, -ENOMEM, off, "%s: cannot start zlib", path);
    size_t cap = in.len * 4 + 256, len = 0;
    if (cap > AUDIT_MAX_JSON)
        cap = AUDIT_MAX_JSON;
    char *buf = xmalloc(cap + 1);
    zs.next_in = (Bytef *)(uintptr_t)in.ptr;
    int rc = 0, zr;
    size_t fed = 0;
    for (;;) {
        if (len == cap) {
            if (cap >= AUDIT_MAX_JSON) {
                rc = diag_set(d, -ERR_TOO_BIG, off,
                              "%s: .dep-v0 at offset %zu inflates to more than %u bytes", path, off,
                              AUDIT_MAX_JSON);
                break;
            }
            cap = cap * 2 > AUDIT_MAX_JSON ? AUDIT_MAX_JSON : cap * 2;
            buf = xrealloc(buf, cap + 1);
        }
        /* zlib counts in uInt: feed and drain in pieces */
        size_t chunk_in = in.len - fed > 1u << 30 ? 1u << 30 : in.len - fed;
        zs.next_in = (Bytef *)(uintptr_t)(in.ptr + fed);
        zs.avail_in = (uInt)chunk_in;
        zs.next_out = (Bytef *)buf + len;
        zs.avail_out = (uInt)(cap - len);
        zr = inflate(&zs, Z_NO_FLUSH);
        fed += chunk_in - zs.avail_in;
        len = cap - zs.avail_out;
        if (zr == Z_STREAM_END)
            break;
        if (zr == Z_OK)
            continue;
        if (zr == Z_BUF_ERROR && zs.avail_out != 0) {
            rc = diag_set(d, -ERR_TRUNCATED, off + fed,
                          "%s: .dep-v0 zlib stream cut short at offset %zu", path, off + fed);
            break;
        }
        if (zr == Z_BUF_ERROR)
            continue;
        rc = diag_set(d, -ERR_CORRUPT, off + fed, "%s: .dep-v0 zlib data at offset %zu: %s", path,
                      off + fed, zs.msg ? zs.msg : "corrupt");
        break;
    }
    inflateEnd(&zs);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

static int audit_field_err(struct diag *d, size_t off, const char *path, size_t i, const char *what)
{
    return diag_set(d, -ERR_CORRUPT, off, "%s: .dep-v0 packages[%zu]: %s", path, i, what);
}

int rust_parse_auditable(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                         struct diag *d)
{
    size_t n0 = out->items.n;
    struct elf_file e;
    struct diag inner = { 0 };
    if (!path)
        path = "";
    int rc = elf_open(&e, data, &inner);
    if (rc == 0)
        return 0;
    if (rc < 0)
        return diag_set(d, rc, inner.offset, "%s: %s", path, inner.msg);
    struct elf_section s;
    if (!elf_section_by_name(&e, ".dep-v0", &s))
        return 0;
    struct str z;
    rc = elf_section_data(&e, &s, &z, &inner);
    if (rc < 0)
        return diag_set(d, rc, inner.offset, "%s: %s", path, inner.msg);
    size_t off = (size_t)s.offset;
    char *json = NULL;
    size_t json_len = 0;
    rc = inflate_all(z, &json, &json_len, path, off, d);
    if (rc < 0)
        return rc;

    json_error_t je;
    json_t *root = json_loadb(json, json_len, JSON_REJECT_DUPLICATES, &je);
    free(json);
    if (!root)
        return diag_set(d, -ERR_CORRUPT, off,
                        "%s: .dep-v0 JSON (section at offset %zu) line %d column %d: %s", path, off,
                        je.line, je.column, je.text);
    json_t *pkgs = json_object_get(root, "packages");
    const char *dpath = arena_strdup(a, path);
    if (!json_is_array(pkgs)) {
        rc = diag_set(d, -ERR_CORRUPT, off, "%s: .dep-v0 JSON has no \"packages\" array", path);
        goto out;
    }
    size_t n = json_array_size(pkgs);
    if (n > RUST_MAX_PKGS) {
        rc = diag_set(d, -ERR_TOO_BIG, off, "%s: .dep-v0 lists %zu packages (limit %u)", path, n,
                      RUST_MAX_PKGS);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(pkgs, i);
        if (!json_is_object(p)) {
            rc = audit_field_err(d, off, path, i, "not an object");
            goto out;
        }
        json_t *name = json_object_get(p, "name"), *ver = json_object_get(p, "version"),
               *src = json_object_get(p, "source"), *kind = json_object_get(p, "kind"),
               *deps = json_object_get(p, "dependencies"), *isroot = json_object_get(p, "root");
        if (!json_is_string(name) || json_string_length(name) == 0 || !json_is_string(ver) ||
            json_string_length(ver) == 0 || !json_is_string(src)) {
            rc = audit_field_err(d, off, path, i, "needs string name, version and source");
            goto out;
        }
        if ((kind && !json_is_string(kind)) || (isroot && !json_is_boolean(isroot))) {
            rc = audit_field_err(d, off, path, i, "kind must be a string and root a boolean");
            goto out;
        }
        if (deps) {
            size_t j;
            json_t *dep;
            if (!json_is_array(deps)) {
                rc = audit_field_err(d, off, path, i, "dependencies is not an array");
                goto out;
            }
            json_array_foreach(deps, j, dep)
            {
                if (!json_is_integer(dep) || json_integer_value(dep) < 0 ||
                    (size_t)json_integer_value(dep) >= n) {
                    rc = audit_field_err(d, off, path, i, "dependency index out of range");
                    goto out;
                }
            }
        }
        /* the binary's own crate is not a dependency; git, local and other registries'
         * crates are not the crates.io crates the advisories name */
        if (json_is_true(isroot) || strcmp(json_string_value(src), "crates.io") != 0)
            continue;
        push_crate(a, out, dpath, str_make(json_string_value(name), json_string_length(name)),
                   str_make(json_string_value(ver), json_string_length(ver)));
    }
out:
    json_decref(root);
    return pkgdb_rollback(out, n0, rc);
}
