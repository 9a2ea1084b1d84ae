/* SPDX-License-Identifier: Apache-2.0 */
/* Python package inventories: installed distributions (dist-info METADATA, egg-info PKG-INFO
 * or single-file *.egg-info, all RFC 822-style core metadata), poetry.lock, Pipfile.lock and
 * pinned requirements files. Names are normalised as PEP 503 says, which is how OSV's PyPI
 * data names packages. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "internal.h"
#include "lang.h"
#include "toml.h"

/* Largest file any parser here reads: real lockfiles are a few MB at most. */
#define PY_MAX_FILE (64u << 20)

static const char *py_path(const char *path)
{
    return path && path[0] ? path : "(input)";
}

/* Put "PATH: line N: " (line 0: "PATH: ") before the message diag_set() just wrote; returns
 * err. PY_FAIL(d, err, path, line, off, fmt, ...) does both (no va_list: clang-tidy). */
static int py_locate(struct diag *d, int err, const char *path, size_t line)
{
    if (line)
        return diag_prefix(d, err, "%s: line %zu: ", py_path(path), line);
    return diag_prefix(d, err, "%s: ", py_path(path));
}

#define PY_FAIL(d, err, path, line, off, ...) \
    py_locate((d), diag_set((d), (err), (off), __VA_ARGS__), (path), (line))

/* For messages: at most 60 bytes, printable. */
static void py_show(struct str s, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < s.len && n + 1 < cap && i < 60; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[n] = '\0';
}

static bool py_is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static bool py_is_namechar(unsigned char c)
{
    return py_is_alnum(c) || c == '-' || c == '_' || c == '.';
}

/* PEP 508 name: ^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$, case-insensitive. */
static bool py_name_ok(struct str s)
{
    if (s.len == 0 || !py_is_alnum((unsigned char)s.ptr[0]) ||
        !py_is_alnum((unsigned char)s.ptr[s.len - 1]))
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!py_is_namechar((unsigned char)s.ptr[i]))
            return false;
    return true;
}

/* A version string we keep: printable ASCII without blanks (PEP 440 or legacy). */
static bool py_version_ok(struct str s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c <= 0x20 || c >= 0x7f)
            return false;
    }
    return true;
}

/* PEP 503: lower case, every run of '-', '_' and '.' becomes one '-'. */
static const char *py_normalise(struct arena *a, struct str name)
{
    char *o = arena_alloc(a, name.len + 1), *w = o;
    for (size_t i = 0; i < name.len; i++) {
        unsigned char c = (unsigned char)name.ptr[i];
        if (c == '-' || c == '_' || c == '.') {
            if (w == o || w[-1] != '-')
                *w++ = '-';
            continue;
        }
        *w++ = (char)(c >= 'A' && c <= 'Z' ? c | 0x20 : c);
    }
    *w = '\0';
    return o;
}

static void py_push(struct arena *a, struct pkg_list *out, const char *db_path, struct str name,
                    struct str version)
{
    struct pkg p = pkgdb_pkg_blank(PKG_PYPI, db_path);
    p.name = py_normalise(a, name);
    p.version = pkgdb_dup(a, version);
    p.src_name = p.name;
    p.src_version = p.version;
    p.upstream = p.version;
    VEC_PUSH(&out->items, p);
}

/* Common checks on entry: size cap, NUL bytes (text formats). */
static int py_precheck(struct str data, const char *path, struct diag *d)
{
    if (data.len > PY_MAX_FILE)
        return PY_FAIL(d, -ERR_TOO_BIG, path, 0, 0, "%zu bytes is over the limit", data.len);
    size_t nul;
    if (pkgdb_has_nul(data, &nul)) {
        size_t line = 1;
        for (size_t i = 0; i < nul; i++)
            line += data.ptr[i] == '\n';
        return PY_FAIL(d, -ERR_CORRUPT, path, line, nul, "NUL byte (not a text file)");
    }
    return 0;
}

static struct str py_skip_bom(struct str s)
{
    if (str_has_prefix(s, "\xef\xbb\xbf")) {
        s.ptr += 3;
        s.len -= 3;
    }
    return s;
}

/* ---- core metadata (METADATA, PKG-INFO, *.egg-info) ------------------------------------------
 * Header fields up to the first blank line (the body is the description). Reading stops once
 * Name and Version are known: the core metadata spec puts them right after Metadata-Version,
 * and what follows does not change the package. */

int python_parse_metadata(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                          struct diag *d)
{
    int r = py_precheck(data, path, d);
    if (r < 0)
        return r;
    struct str cur = py_skip_bom(data), line, name = STR_NULL, version = STR_NULL;
    size_t lineno = 0, name_line = 0, version_line = 0;
    bool have_name = false, have_version = false, last_was_ours = false;
    while (!(have_name && have_version) && str_next_line(&cur, &line)) {
        lineno++;
        size_t off = (size_t)(line.ptr - data.ptr);
        if (line.len == 0)
            break; /* a blank-looking line of spaces is a continuation, as in RFC 822 */
        if (line.ptr[0] == ' ' || line.ptr[0] == '\t') {
            if (lineno == 1)
                return PY_FAIL(d, -ERR_CORRUPT, path, lineno, off,
                               "continuation line before any field");
            if (last_was_ours)
                return PY_FAIL(d, -ERR_CORRUPT, path, lineno, off,
                               "Name or Version folded over several lines");
            continue;
        }
        long colon = str_chr(line, ':');
        if (colon <= 0) {
            char show[64];
            py_show(line, show, sizeof(show));
            return PY_FAIL(d, -ERR_CORRUPT, path, lineno, off,
                           "'%s' is not a 'Field: value' header line", show);
        }
        struct str key = str_trim(str_make(line.ptr, (size_t)colon));
        struct str val = str_trim(str_make(line.ptr + colon + 1, line.len - (size_t)colon - 1));
        last_was_ours = false;
        if (key.len == 4 && strncasecmp(key.ptr, "name", 4) == 0 && !have_name) {
            name = val;
            have_name = true;
            name_line = lineno;
            last_was_ours = true;
        } else if (key.len == 7 && strncasecmp(key.ptr, "version", 7) == 0 && !have_version) {
            version = val;
            have_version = true;
            version_line = lineno;
            last_was_ours = true;
        }
    }
    if (!have_name)
        return PY_FAIL(d, -ERR_CORRUPT, path, 0, 0, "no Name field in the metadata header");
    if (!have_version)
        return PY_FAIL(d, -ERR_CORRUPT, path, 0, 0, "no Version field in the metadata header");
    char show[64];
    if (!py_name_ok(name)) {
        py_show(name, show, sizeof(show));
        return PY_FAIL(d, -ERR_CORRUPT, path, name_line, 0, "invalid project name '%s'", show);
    }
    if (!py_version_ok(version)) {
        py_show(version, show, sizeof(show));
        return PY_FAIL(d, -ERR_VERSION, path, version_line, 0, "invalid version '%s'", show);
    }
    py_push(a, out, arena_strdup(a, py_path(path)), name, version);
    return 0;
}

/* ---- poetry.lock ----------------------------------------------------------------------------
 * TOML: one [[package]] table per locked distribution with string keys name and version;
 * [package.*] sub-tables (dependencies, extras, source, files) belong to the last one. */

struct poetry_ctx {
    const char *path;
    const char *db_path;
    struct arena *a;
    struct pkg_list *out;
    bool open; /* inside a [[package]] (or one of its sub-tables) */
    size_t line;
    struct str name, version; /* arena copies */
    bool have_name, have_version;
    bool failed; /* the error in d is ours (it names the path) */
};

static int poetry_close(struct poetry_ctx *c, struct diag *d)
{
    if (!c->open)
        return 0;
    c->open = false;
    if (!c->have_name)
        return PY_FAIL(d, -ERR_CORRUPT, c->path, c->line, 0, "[[package]] without a name");
    if (!c->have_version)
        return PY_FAIL(d, -ERR_CORRUPT, c->path, c->line, 0, "[[package]] '%s' without a version",
                       c->name.ptr);
    py_push(c->a, c->out, c->db_path, c->name, c->version);
    return 0;
}

static int poetry_event_body(struct poetry_ctx *c, const struct toml_event *ev, struct diag *d)
{
    if (ev->kind == TOML_EV_TABLE) {
        bool pkg = ev->array_table && toml_key_is(ev->table, ev->ntable, "package");
        bool sub = ev->ntable > 1 && str_eq_cstr(ev->table[0], "package");
        if (pkg || !sub) {
            int r = poetry_close(c, d);
            if (r < 0)
                return r;
        }
        if (pkg) {
            c->open = true;
            c->line = ev->line;
            c->have_name = c->have_version = false;
        }
        return 0;
    }
    if (!c->open || !ev->array_table || !toml_key_is(ev->table, ev->ntable, "package") ||
        ev->nkey != 1)
        return 0;
    bool is_name = str_eq_cstr(ev->key[0], "name");
    if (!is_name && !str_eq_cstr(ev->key[0], "version"))
        return 0;
    const char *what = is_name ? "name" : "version";
    if (ev->type != TOML_STRING)
        return PY_FAIL(d, -ERR_CORRUPT, c->path, ev->line, ev->offset, "package %s is not a string",
                       what);
    if (is_name ? c->have_name : c->have_version)
        return PY_FAIL(d, -ERR_CORRUPT, c->path, ev->line, ev->offset, "duplicate package %s",
                       what);
    char show[64];
    py_show(ev->value, show, sizeof(show));
    if (is_name && !py_name_ok(ev->value))
        return PY_FAIL(d, -ERR_CORRUPT, c->path, ev->line, ev->offset, "invalid package name '%s'",
                       show);
    if (!is_name && !py_version_ok(ev->value))
        return PY_FAIL(d, -ERR_VERSION, c->path, ev->line, ev->offset, "invalid version '%s'",
                       show);
    struct str copy = arena_str(c->a, ev->value);
    if (is_name) {
        c->name = copy;
        c->have_name = true;
    } else {
        c->version = copy;
        c->have_version = true;
    }
    return 0;
}

static int poetry_event(const struct toml_event *ev, void *ctx, struct diag *d)
{
    struct poetry_ctx *c = ctx;
    int r = poetry_event_body(c, ev, d);
    c->failed = r < 0;
    return r;
}

int python_parse_poetry_lock(struct str data, const char *path, struct arena *a,
                             struct pkg_list *out, struct diag *d)
{
    size_t n0 = out->items.n;
    if (data.len > PY_MAX_FILE)
        return PY_FAIL(d, -ERR_TOO_BIG, path, 0, 0, "%zu bytes is over the limit", data.len);
    struct poetry_ctx c = {
        .path = path, .db_path = arena_strdup(a, py_path(path)), .a = a, .out = out
    };
    struct diag td = { 0 };
    int r = toml_parse(data, poetry_event, &c, &td);
    if (r == 0) {
        r = poetry_close(&c, &td);
        c.failed = r < 0;
    }
    if (r < 0) {
        /* toml.c does not know the path; our own messages already carry it */
        if (c.failed)
            diag_set(d, r, td.offset, "%s", td.msg);
        else
            diag_set(d, r, td.offset, "%s: %s", py_path(path), td.msg);
    }
    return pkgdb_rollback(out, n0, r);
}

/* ---- Pipfile.lock ---------------------------------------------------------------------------
 * JSON: {"_meta": ..., "default": {NAME: {"version": "==V", ...}}, "develop": {...}}. Entries
 * without a version (VCS, path and editable installs) are left out. */

static int pipfile_section(json_t *root, const char *section, const char *path, const char *db_path,
                           struct arena *a, struct pkg_list *out, struct diag *d)
{
    json_t *sec = json_object_get(root, section);
    if (!sec || json_is_null(sec))
        return 0;
    if (!json_is_object(sec))
        return PY_FAIL(d, -ERR_CORRUPT, path, 0, 0, "\"%s\" is not an object", section);
    const char *key;
    json_t *ent;
    char show[64];
    json_object_foreach(sec, key, ent)
    {
        struct str name = str_from(key);
        py_show(name, show, sizeof(show));
        if (!json_is_object(ent))
            return PY_FAIL(d, -ERR_CORRUPT, path, 0, 0, "%s.%s is not an object", section, show);
        json_t *v = json_object_get(ent, "version");
        if (!v)
            continue;
        if (!json_is_string(v))
            return PY_FAIL(d, -ERR_CORRUPT, path, 0, 0, "%s.%s.version is not a string", section,
                           show);
        if (!py_name_ok(name))
            return PY_FAIL(d, -ERR_CORRUPT, path, 0, 0, "%s: invalid package name '%s'", section,
                           show);
        struct str ver = str_make(json_string_value(v), json_string_length(v));
        if (str_has_prefix(ver, "===")) {
            ver.ptr += 3;
            ver.len -= 3;
        } else if (str_has_prefix(ver, "==")) {
            ver.ptr += 2;
            ver.len -= 2;
        } else {
            char vs[64];
            py_show(ver, vs, sizeof(vs));
            return PY_FAIL(d, -ERR_VERSION, path, 0, 0,
                           "%s.%s.version '%s' is not an exact pin (\"==V\")", section, show, vs);
        }
        ver = str_trim(ver);
        if (!py_version_ok(ver) || memchr(ver.ptr, '*', ver.len)) {
            char vs[64];
            py_show(ver, vs, sizeof(vs));
            return PY_FAIL(d, -ERR_VERSION, path, 0, 0, "%s.%s.version: invalid version '%s'",
                           section, show, vs);
        }
        py_push(a, out, db_path, name, ver);
    }
    return 0;
}

int python_parse_pipfile_lock(struct str data, const char *path, struct arena *a,
                              struct pkg_list *out, struct diag *d)
{
    size_t n0 = out->items.n;
    if (data.len > PY_MAX_FILE)
        return PY_FAIL(d, -ERR_TOO_BIG, path, 0, 0, "%zu bytes is over the limit", data.len);
    json_error_t je;
    json_t *root = json_loadb(data.len ? data.ptr : "", data.len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return PY_FAIL(d, -ERR_CORRUPT, path, (size_t)(je.line > 0 ? je.line : 0),
                       je.position > 0 ? (size_t)je.position : 0, "column %d: %s", je.column,
                       je.text);
    int r;
    if (!json_is_object(root)) {
        r = PY_FAIL(d, -ERR_CORRUPT, path, 0, 0, "top level is not an object");
    } else {
        const char *db_path = arena_strdup(a, py_path(path));
        r = pipfile_section(root, "default", path, db_path, a, out, d);
        if (r == 0)
            r = pipfile_section(root, "develop", path, db_path, a, out, d);
    }
    json_decref(root);
    return pkgdb_rollback(out, n0, r);
}

/* ---- requirements files ---------------------------------------------------------------------
 * pip's format, reduced to what says which version is installed: lines "name==V" (extras,
 * environment markers and per-requirement options such as --hash after it). Comments ('#' at
 * the start or after a blank) and backslash continuations are handled; option lines (-r, -c,
 * -e, --index-url, ...), URLs, paths and anything not pinned to one version are skipped. */

#define REQ_MAX_LINE (1u << 20) /* one logical line, continuations joined */

static bool req_is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

static void req_skip_blanks(struct str *s)
{
    while (s->len && req_is_blank((unsigned char)s->ptr[0])) {
        s->ptr++;
        s->len--;
    }
}

/* Strip a comment: '#' at the start or preceded by a blank, to the end. */
static struct str req_strip_comment(struct str s)
{
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] == '#' && (i == 0 || req_is_blank((unsigned char)s.ptr[i - 1])))
            return str_make(s.ptr, i);
    return s;
}

static bool req_is_version_char(unsigned char c)
{
    return py_is_alnum(c) || c == '.' || c == '!' || c == '+' || c == '-' || c == '_' || c == '*';
}

/* One logical line. Appends a package for an exact pin; <0 on a malformed requirement. */
static int req_line(struct str line, size_t lineno, size_t off, const char *path,
                    const char *db_path, struct arena *a, struct pkg_list *out, struct diag *d)
{
    struct str s = str_trim(req_strip_comment(line));
    if (s.len == 0 || s.ptr[0] == '-')
        return 0; /* blank, comment or option line */
    if (!py_is_alnum((unsigned char)s.ptr[0]))
        return 0; /* path, URL, archive */
    size_t i = 0;
    while (i < s.len && py_is_namechar((unsigned char)s.ptr[i]))
        i++;
    struct str name = str_make(s.ptr, i);
    struct str rest = str_make(s.ptr + i, s.len - i);
    char show[64];
    req_skip_blanks(&rest);
    if (rest.len && rest.ptr[0] == '[') {
        long close = str_chr(rest, ']');
        if (close < 0)
            return PY_FAIL(d, -ERR_CORRUPT, path, lineno, off, "unterminated extras '['");
        rest.ptr += close + 1;
        rest.len -= (size_t)close + 1;
        req_skip_blanks(&rest);
    }
    bool paren = rest.len && rest.ptr[0] == '(';
    if (paren) {
        rest.ptr++;
        rest.len--;
        req_skip_blanks(&rest);
    }
    size_t op = str_has_prefix(rest, "===") ? 3 : str_has_prefix(rest, "==") ? 2 : 0;
    if (!op)
        return 0; /* unpinned, a range, a URL requirement ("name @ url") */
    if (!py_name_ok(name)) {
        py_show(name, show, sizeof(show));
        return PY_FAIL(d, -ERR_CORRUPT, path, lineno, off, "invalid project name '%s'", show);
    }
    rest.ptr += op;
    rest.len -= op;
    req_skip_blanks(&rest);
    size_t v = 0;
    while (v < rest.len && req_is_version_char((unsigned char)rest.ptr[v]))
        v++;
    struct str ver = str_make(rest.ptr, v);
    rest.ptr += v;
    rest.len -= v;
    if (ver.len == 0) {
        if (rest.len == 0 || rest.ptr[0] == ';' || req_is_blank((unsigned char)rest.ptr[0]))
            return PY_FAIL(d, -ERR_VERSION, path, lineno, off, "'==' without a version");
        return 0; /* "==${VERSION}" and the like: nothing we can read */
    }
    req_skip_blanks(&rest);
    if (paren) {
        if (!rest.len || rest.ptr[0] != ')')
            return PY_FAIL(d, -ERR_CORRUPT, path, lineno, off, "unterminated '('");
        rest.ptr++;
        rest.len--;
        req_skip_blanks(&rest);
    }
    if (rest.len && rest.ptr[0] == ',')
        return 0; /* more specifiers: not a plain pin */
    if (rest.len && rest.ptr[0] != ';' && rest.ptr[0] != '-') {
        py_show(rest, show, sizeof(show));
        return PY_FAIL(d, -ERR_CORRUPT, path, lineno, off, "unexpected '%s' after the version",
                       show);
    }
    if (memchr(ver.ptr, '*', ver.len))
        return 0; /* "==1.2.*" matches many versions */
    py_push(a, out, db_path, name, ver);
    return 0;
}

int python_parse_requirements(struct str data, const char *path, struct arena *a,
                              struct pkg_list *out, struct diag *d)
{
    size_t n0 = out->items.n;
    int r = py_precheck(data, path, d);
    if (r < 0)
        return r;
    const char *db_path = arena_strdup(a, py_path(path));
    struct str cur = py_skip_bom(data), line;
    struct buf joined;
    buf_init(&joined, REQ_MAX_LINE);
    size_t lineno = 0, first = 0, first_off = 0;
    bool more = true;
    while (more) {
        more = str_next_line(&cur, &line);
        if (more) {
            lineno++;
            if (joined.len == 0) {
                first = lineno;
                first_off = (size_t)(line.ptr - data.ptr);
            }
            /* a backslash at the end continues the line, unless the line is a comment */
            bool cont = line.len && line.ptr[line.len - 1] == '\\' &&
                        req_strip_comment(line).len == line.len;
            if (buf_append(&joined, line.ptr, cont ? line.len - 1 : line.len) < 0) {
                r = PY_FAIL(d, -ERR_TOO_BIG, path, first, first_off,
                            "logical line longer than %u bytes", REQ_MAX_LINE);
                break;
            }
            if (cont)
                continue;
        } else if (joined.len == 0) {
            break;
        }
        r = req_line(buf_str(&joined), first, first_off, path, db_path, a, out, d);
        buf_reset(&joined);
        if (r < 0)
            break;
    }
    buf_release(&joined);
    return pkgdb_rollback(out, n0, r);
}
