/* SPDX-License-Identifier: Apache-2.0 */
/* Ruby package inventories: installed gem specifications (specifications/NAME-VERSION.gemspec, the
 * Ruby that rubygems writes for each installed gem, read for its literal name and version without
 * evaluating anything) and Bundler's Gemfile.lock (GEM sections). */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "lang.h"

#define RB_MAX_FILE (64u << 20)

static const char *rb_path(const char *path)
{
    return path && path[0] ? path : "(input)";
}

/* Put "PATH: line N: " (line 0: "PATH: ") before the message diag_set() just wrote; returns
 * err. RB_FAIL(d, err, path, line, off, fmt, ...) does both (no va_list: clang-tidy). */
static int rb_locate(struct diag *d, int err, const char *path, size_t line)
{
    if (line)
        return diag_prefix(d, err, "%s: line %zu: ", rb_path(path), line);
    return diag_prefix(d, err, "%s: ", rb_path(path));
}

#define RB_FAIL(d, err, path, line, off, ...) \
    rb_locate((d), diag_set((d), (err), (off), __VA_ARGS__), (path), (line))

static void rb_show(struct str s, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < s.len && n + 1 < cap && i < 60; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[n] = '\0';
}

static bool rb_is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* Gem names as rubygems accepts them: letters, digits, '.', '-', '_'. */
static bool rb_name_ok(struct str s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (!rb_is_alnum(c) && c != '.' && c != '-' && c != '_')
            return false;
    }
    return true;
}

/* A gem version as rubygems writes it in specs and lockfiles: digits, letters and dots,
 * starting with a digit ('-' has become ".pre." by then). */
static bool rb_version_ok(struct str s)
{
    if (s.len == 0 || s.ptr[0] < '0' || s.ptr[0] > '9')
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (!rb_is_alnum(c) && c != '.')
            return false;
    }
    return true;
}

static void rb_push(struct arena *a, struct pkg_list *out, const char *db_path, struct str name,
                    struct str version)
{
    struct pkg p = pkgdb_pkg_blank(PKG_GEM, db_path);
    p.name = pkgdb_dup(a, name);
    p.version = pkgdb_dup(a, version);
    p.src_name = p.name;
    p.src_version = p.version;
    p.upstream = p.version;
    VEC_PUSH(&out->items, p);
}

static int rb_precheck(struct str data, const char *path, struct diag *d)
{
    if (data.len > RB_MAX_FILE)
        return RB_FAIL(d, -ERR_TOO_BIG, path, 0, 0, "%zu bytes is over the limit", data.len);
    size_t nul;
    if (pkgdb_has_nul(data, &nul)) {
        size_t line = 1;
        for (size_t i = 0; i < nul; i++)
            line += data.ptr[i] == '\n';
        return RB_FAIL(d, -ERR_CORRUPT, path, line, nul, "NUL byte (not a text file)");
    }
    return 0;
}

static struct str rb_skip_bom(struct str s)
{
    if (str_has_prefix(s, "\xef\xbb\xbf")) {
        s.ptr += 3;
        s.len -= 3;
    }
    return s;
}

static void rb_skip_blanks(struct str *s)
{
    while (s->len && (s->ptr[0] == ' ' || s->ptr[0] == '\t')) {
        s->ptr++;
        s->len--;
    }
}

static bool rb_take(struct str *s, const char *lit)
{
    if (!str_has_prefix(*s, lit))
        return false;
    size_t n = strlen(lit);
    s->ptr += n;
    s->len -= n;
    return true;
}

/* ---- gemspec ---------------------------------------------------------------------------------
 * rubygems writes installed specs as
 *     # stub: rexml 3.3.9 ruby lib
 *     Gem::Specification.new do |s|
 *       s.name = "rexml".freeze
 *       s.version = "3.3.9"
 * Older releases wrote %q{...} strings; hand-written gemspecs use other block variables and
 * single quotes. We read VAR.name and VAR.version when the value is a string literal
 * (optionally .freeze'd, or Gem::Version.new("...")); otherwise the "# stub:" line, otherwise
 * the file name NAME-VERSION[-PLATFORM].gemspec. No Ruby is evaluated. */

/* A Ruby string literal without interpolation at the start of *s: "..", '..', %q/%Q/% with
 * (), [], {}, <> or a repeated delimiter. The literal's contents (escapes not decoded; a
 * literal holding a backslash is refused) go to *val. */
static bool rb_literal(struct str *s, struct str *val)
{
    struct str c = *s;
    char open, close;
    if (rb_take(&c, "%q") || rb_take(&c, "%Q") || rb_take(&c, "%")) {
        if (!c.len)
            return false;
        open = c.ptr[0];
        close = open == '('   ? ')'
                : open == '[' ? ']'
                : open == '{' ? '}'
                : open == '<' ? '>'
                              : open;
        if (rb_is_alnum((unsigned char)open) || open == ' ')
            return false;
    } else if (c.len && (c.ptr[0] == '"' || c.ptr[0] == '\'')) {
        open = close = c.ptr[0];
    } else {
        return false;
    }
    c.ptr++;
    c.len--;
    long end = str_chr(c, close);
    if (end < 0)
        return false;
    struct str body = str_make(c.ptr, (size_t)end);
    if (str_chr(body, '\\') >= 0 || str_chr(body, '#') >= 0 ||
        (open != close && str_chr(body, open) >= 0))
        return false; /* escapes, interpolation, nesting: not a plain literal */
    *val = body;
    s->ptr = c.ptr + end + 1;
    s->len = c.len - (size_t)end - 1;
    return true;
}

/* The value of VAR.FIELD = VALUE when it is a plain literal followed by nothing but blanks
 * and a comment. */
static bool rb_assignment_value(struct str rest, struct str *val)
{
    rb_skip_blanks(&rest);
    if (!rb_take(&rest, "="))
        return false;
    if (rest.len && rest.ptr[0] == '=')
        return false; /* a comparison */
    rb_skip_blanks(&rest);
    bool wrapped = rb_take(&rest, "Gem::Version.new(");
    if (!rb_literal(&rest, val))
        return false;
    rb_take(&rest, ".freeze");
    if (wrapped && !rb_take(&rest, ")"))
        return false;
    rb_skip_blanks(&rest);
    return rest.len == 0 || rest.ptr[0] == '#';
}

/* "Gem::Specification.new do |VAR|" or "... { |VAR|": the block variable. */
static bool rb_spec_block(struct str line, struct str *var)
{
    long at = -1;
    static const char pat[] = "Gem::Specification.new";
    for (size_t i = 0; i + sizeof(pat) - 1 <= line.len; i++)
        if (memcmp(line.ptr + i, pat, sizeof(pat) - 1) == 0) {
            at = (long)i;
            break;
        }
    if (at < 0)
        return false;
    struct str rest =
        str_make(line.ptr + at + sizeof(pat) - 1, line.len - (size_t)at - sizeof(pat) + 1);
    rb_skip_blanks(&rest);
    if (!rb_take(&rest, "do") && !rb_take(&rest, "{"))
        return false;
    rb_skip_blanks(&rest);
    if (!rb_take(&rest, "|"))
        return false;
    rb_skip_blanks(&rest);
    size_t n = 0;
    while (n < rest.len && (rb_is_alnum((unsigned char)rest.ptr[n]) || rest.ptr[n] == '_'))
        n++;
    if (n == 0)
        return false;
    *var = str_make(rest.ptr, n);
    rest.ptr += n;
    rest.len -= n;
    rb_skip_blanks(&rest);
    return rest.len && rest.ptr[0] == '|';
}

/* "# stub: NAME VERSION PLATFORM ..." */
static bool rb_stub(struct str line, struct str *name, struct str *version)
{
    if (!rb_take(&line, "# stub: "))
        return false;
    if (!str_cut(&line, ' ', name) || name->len == 0)
        return false;
    str_cut(&line, ' ', version);
    return version->len > 0;
}

/* NAME-VERSION[-PLATFORM].gemspec with NAME known: VERSION. */
static bool rb_version_from_file_name(const char *path, struct str name, struct str *version)
{
    struct str base = str_from(path);
    long slash = -1;
    for (size_t i = 0; i < base.len; i++)
        if (base.ptr[i] == '/')
            slash = (long)i;
    base.ptr += slash + 1;
    base.len -= (size_t)(slash + 1);
    if (!str_has_suffix(base, ".gemspec"))
        return false;
    base.len -= 8;
    if (base.len <= name.len + 1 || memcmp(base.ptr, name.ptr, name.len) != 0 ||
        base.ptr[name.len] != '-')
        return false;
    struct str v = str_make(base.ptr + name.len + 1, base.len - name.len - 1);
    long dash = str_chr(v, '-');
    if (dash >= 0)
        v.len = (size_t)dash;
    *version = v;
    return v.len > 0;
}

int ruby_parse_gemspec(struct str data, const char *path, struct arena *a, struct pkg_list *out,
                       struct diag *d)
{
    /* no NUL check here: rubygems separates the extensions on its second "# stub:" line with
     * NUL bytes (Debian's digest and json default gems have them) */
    if (data.len > RB_MAX_FILE)
        return RB_FAIL(d, -ERR_TOO_BIG, path, 0, 0, "%zu bytes is over the limit", data.len);
    struct str cur = rb_skip_bom(data), line, var = STR_NULL;
    struct str name = STR_NULL, version = STR_NULL, stub_name = STR_NULL, stub_version = STR_NULL;
    bool have_name = false, have_version = false, have_stub = false, in_spec = false;
    size_t lineno = 0, name_line = 0, version_line = 0;
    while (str_next_line(&cur, &line)) {
        lineno++;
        if (!in_spec) {
            if (!have_stub && rb_stub(line, &stub_name, &stub_version))
                have_stub = true;
            else
                in_spec = rb_spec_block(line, &var);
            continue;
        }
        struct str s = line;
        rb_skip_blanks(&s);
        if (s.len <= var.len || memcmp(s.ptr, var.ptr, var.len) != 0 || s.ptr[var.len] != '.')
            continue;
        s.ptr += var.len + 1;
        s.len -= var.len + 1;
        struct str val;
        if (!have_name && rb_take(&s, "name") &&
            (s.len == 0 || s.ptr[0] == ' ' || s.ptr[0] == '=')) {
            if (rb_assignment_value(s, &val)) {
                name = val;
                have_name = true;
                name_line = lineno;
            }
        } else if (!have_version && rb_take(&s, "version") &&
                   (s.len == 0 || s.ptr[0] == ' ' || s.ptr[0] == '=')) {
            if (rb_assignment_value(s, &val)) {
                version = val;
                have_version = true;
                version_line = lineno;
            }
        }
        if (have_name && have_version)
            break;
    }
    if (!in_spec)
        return RB_FAIL(d, -ERR_CORRUPT, path, 0, 0, "no 'Gem::Specification.new do |s|' block");
    if (!have_name && have_stub) {
        name = stub_name;
        name_line = 1;
        have_name = true;
    }
    if (!have_version && have_stub && have_name && str_eq(name, stub_name)) {
        version = stub_version;
        version_line = 1;
        have_version = true;
    }
    if (!have_name)
        return RB_FAIL(d, -ERR_CORRUPT, path, 0, 0, "no literal gem name (s.name = \"...\")");
    if (!have_version && rb_version_from_file_name(rb_path(path), name, &version))
        have_version = true;
    if (!have_version)
        return RB_FAIL(d, -ERR_CORRUPT, path, 0, 0,
                       "no literal version (s.version = \"...\") and none in the file name");
    char show[64];
    if (!rb_name_ok(name)) {
        rb_show(name, show, sizeof(show));
        return RB_FAIL(d, -ERR_CORRUPT, path, name_line, 0, "invalid gem name '%s'", show);
    }
    version = str_trim(version);
    if (!rb_version_ok(version)) {
        rb_show(version, show, sizeof(show));
        return RB_FAIL(d, -ERR_VERSION, path, version_line, 0, "invalid gem version '%s'", show);
    }
    rb_push(a, out, arena_strdup(a, rb_path(path)), name, version);
    return 0;
}

/* ---- Gemfile.lock ----------------------------------------------------------------------------
 *     GEM
 *       remote: https://rubygems.org/
 *       specs:
 *         nokogiri (1.13.10-x86_64-linux)
 *           racc (~> 1.4)
 * Sections start at column 0 (GEM, GIT, PATH, PLATFORMS, DEPENDENCIES, RUBY VERSION, BUNDLED
 * WITH, CHECKSUMS, ...); only GEM sections name gems from a gem server. Their specs are the
 * lines indented by exactly four spaces, "name (version[-platform])"; six spaces are the
 * dependencies of the spec above. The platform is cut at the first '-', as Bundler does. */

static bool rb_section_ok(struct str line)
{
    if (!line.len)
        return false;
    for (size_t i = 0; i < line.len; i++) {
        char c = line.ptr[i];
        if (!(c >= 'A' && c <= 'Z') && c != ' ' && c != '_')
            return false;
    }
    return true;
}

static size_t rb_indent(struct str line)
{
    size_t n = 0;
    while (n < line.len && line.ptr[n] == ' ')
        n++;
    return n;
}

int ruby_parse_gemfile_lock(struct str data, const char *path, struct arena *a,
                            struct pkg_list *out, struct diag *d)
{
    size_t n0 = out->items.n;
    int r = rb_precheck(data, path, d);
    if (r < 0)
        return r;
    const char *db_path = arena_strdup(a, rb_path(path));
    struct str cur = rb_skip_bom(data), line;
    size_t lineno = 0;
    bool in_gem = false, in_specs = false;
    char show[64];
    while (str_next_line(&cur, &line)) {
        lineno++;
        size_t off = (size_t)(line.ptr - data.ptr);
        if (str_trim(line).len == 0) {
            in_gem = in_specs = false;
            continue;
        }
        size_t ind = rb_indent(line);
        if (ind == 0) {
            if (!rb_section_ok(line)) {
                rb_show(line, show, sizeof(show));
                return pkgdb_rollback(out, n0,
                                      RB_FAIL(d, -ERR_CORRUPT, path, lineno, off,
                                              "'%s' is not a section header", show));
            }
            in_gem = str_eq_cstr(line, "GEM");
            in_specs = false;
            continue;
        }
        if (!in_gem)
            continue;
        if (line.ptr[ind] == '\t' || (ind != 2 && ind != 4 && ind != 6)) {
            return pkgdb_rollback(out, n0,
                                  RB_FAIL(d, -ERR_CORRUPT, path, lineno, off,
                                          "unexpected indentation in a GEM section"));
        }
        struct str s = str_make(line.ptr + ind, line.len - ind);
        if (ind == 2) {
            in_specs = str_eq_cstr(str_trim(s), "specs:");
            continue;
        }
        if (!in_specs) {
            rb_show(s, show, sizeof(show));
            return pkgdb_rollback(
                out, n0,
                RB_FAIL(d, -ERR_CORRUPT, path, lineno, off, "'%s' outside a specs: list", show));
        }
        if (ind == 6)
            continue; /* a dependency of the spec above */
        /* "name (version)" */
        struct str name, ver;
        long sp = str_chr(s, ' ');
        if (sp <= 0 || (size_t)sp + 2 >= s.len || s.ptr[sp + 1] != '(' || s.ptr[s.len - 1] != ')') {
            rb_show(s, show, sizeof(show));
            return pkgdb_rollback(
                out, n0,
                RB_FAIL(d, -ERR_CORRUPT, path, lineno, off, "'%s' is not 'name (version)'", show));
        }
        name = str_make(s.ptr, (size_t)sp);
        ver = str_make(s.ptr + sp + 2, s.len - (size_t)sp - 3);
        long dash = str_chr(ver, '-');
        if (dash >= 0)
            ver.len = (size_t)dash; /* platform suffix */
        if (!rb_name_ok(name)) {
            rb_show(name, show, sizeof(show));
            return pkgdb_rollback(
                out, n0,
                RB_FAIL(d, -ERR_CORRUPT, path, lineno, off, "invalid gem name '%s'", show));
        }
        if (!rb_version_ok(ver)) {
            rb_show(ver, show, sizeof(show));
            return pkgdb_rollback(
                out, n0,
                RB_FAIL(d, -ERR_VERSION, path, lineno, off, "invalid gem version '%s'", show));
        }
        /* Bundler lists a gem once per platform, the variants next to each other */
        if (out->items.n > n0) {
            const struct pkg *last = &out->items.v[out->items.n - 1];
            if (str_eq_cstr(name, last->name) && str_eq_cstr(ver, last->version))
                continue;
        }
        rb_push(a, out, db_path, name, ver);
    }
    return 0;
}
