/* SPDX-License-Identifier: Apache-2.0 */
/* Go module versions ordered as golang.org/x/mod/semver.Compare orders them, plus Go
 * toolchain versions ("go1.21rc2") mapped the way the Go vulnerability database spells stdlib
 * versions ("1.21.0-rc.2").
 *
 * Accepted spellings (first that parses wins):
 *   "vMAJOR[.MINOR[.PATCH[-PRE][+BUILD]]]"  x/mod/semver's grammar ("v1" = "v1.0.0", a
 *                                          prerelease or build only after all three numbers);
 *   "MAJOR..." without the "v"             the same grammar: OSV's Go ranges drop the "v"
 *                                          ("1.2.3"), so it is read as "v1.2.3" (x/mod itself
 *                                          calls it invalid);
 *   "[go]N[.N[.N]][(alpha|beta|rc)N]"      a Go toolchain tag: "go1.21rc2" = "v1.21.0-rc.2",
 *                                          "go1.20" = "v1.20.0", as the vulnerability
 *                                          database's stdlib ranges spell them.
 * As in x/mod, build metadata ("+incompatible") does not take part in the order, a
 * pseudo-version ("v0.0.0-20191109021931-daa7c04131f5") is an ordinary prerelease, every
 * invalid string sorts below every valid one and two invalid strings are equal. */
#include "internal.h"
#include "version.h"

struct gover {
    struct str major, minor, patch;
    struct str pre; /* "-a.b" including the '-', or empty */
    char buf[48];   /* holds pre for a toolchain tag */
};

static bool is_ident_char(unsigned char c)
{
    return ver_is_digit(c) || ver_is_alpha(c) || c == '-';
}

/* A decimal number without a leading zero (x/mod's parseInt). */
static bool take_int(struct str *s, struct str *out)
{
    size_t n = ver_digit_span((const unsigned char *)s->ptr, s->len);
    if (n == 0 || (n > 1 && s->ptr[0] == '0'))
        return false;
    *out = str_make(s->ptr, n);
    s->ptr += n;
    s->len -= n;
    return true;
}

static bool is_bad_num(struct str id)
{
    size_t n = ver_digit_span((const unsigned char *)id.ptr, id.len);
    return n == id.len && n > 1 && id.ptr[0] == '0';
}

/* Dot-separated non-empty identifiers of [0-9A-Za-z-] after the lead byte ('-' or '+');
 * numeric prerelease identifiers without leading zeros. Returns the length consumed or 0. */
static size_t take_idents(struct str s, bool prerelease)
{
    size_t i = 1, start = 1;
    while (i < s.len && !(prerelease && s.ptr[i] == '+')) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c == '.') {
            if (start == i || (prerelease && is_bad_num(str_make(s.ptr + start, i - start))))
                return 0;
            start = i + 1;
        } else if (!is_ident_char(c)) {
            return 0;
        }
        i++;
    }
    if (start == i || (prerelease && is_bad_num(str_make(s.ptr + start, i - start))))
        return 0;
    return i;
}

static bool parse_semver(struct str s, struct gover *g)
{
    g->minor = g->patch = STR_LIT("0");
    g->pre = STR_NULL;
    if (!take_int(&s, &g->major))
        return false;
    if (s.len == 0)
        return true;
    if (s.ptr[0] != '.')
        return false;
    s.ptr++, s.len--;
    if (!take_int(&s, &g->minor))
        return false;
    if (s.len == 0)
        return true;
    if (s.ptr[0] != '.')
        return false;
    s.ptr++, s.len--;
    if (!take_int(&s, &g->patch))
        return false;
    if (s.len && s.ptr[0] == '-') {
        size_t n = take_idents(s, true);
        if (n == 0)
            return false;
        g->pre = str_make(s.ptr, n);
        s.ptr += n, s.len -= n;
    }
    if (s.len && s.ptr[0] == '+') {
        size_t n = take_idents(s, false);
        if (n == 0)
            return false;
        s.ptr += n, s.len -= n;
    }
    return s.len == 0;
}

/* "1.21rc2", "1.9.2beta1", "1.20": up to three numbers and an optional alpha/beta/rc N. */
static bool parse_toolchain(struct str s, struct gover *g)
{
    g->minor = g->patch = STR_LIT("0");
    g->pre = STR_NULL;
    if (!take_int(&s, &g->major))
        return false;
    if (s.len && s.ptr[0] == '.') {
        s.ptr++, s.len--;
        if (!take_int(&s, &g->minor))
            return false;
        if (s.len && s.ptr[0] == '.') {
            s.ptr++, s.len--;
            if (!take_int(&s, &g->patch))
                return false;
        }
    }
    if (s.len == 0)
        return true;
    static const char *const kinds[] = { "alpha", "beta", "rc" };
    for (size_t k = 0; k < 3; k++) {
        size_t kl = strlen(kinds[k]);
        if (!str_has_prefix(s, kinds[k]))
            continue;
        struct str rest = str_make(s.ptr + kl, s.len - kl), num;
        if (!take_int(&rest, &num) || rest.len || num.len > sizeof(g->buf) - kl - 3)
            return false;
        char *o = g->buf;
        *o++ = '-';
        memcpy(o, kinds[k], kl);
        o += kl;
        *o++ = '.';
        memcpy(o, num.ptr, num.len);
        o += num.len;
        g->pre = str_make(g->buf, (size_t)(o - g->buf));
        return true;
    }
    return false;
}

static bool parse(struct str v, struct gover *g)
{
    if (v.len && v.ptr[0] == 'v')
        return parse_semver(str_make(v.ptr + 1, v.len - 1), g);
    if (str_has_prefix(v, "go"))
        return parse_toolchain(str_make(v.ptr + 2, v.len - 2), g);
    return parse_semver(v, g) || parse_toolchain(v, g);
}

static bool all_digits(struct str s)
{
    return ver_digit_span((const unsigned char *)s.ptr, s.len) == s.len;
}

/* x/mod's comparePrerelease: no prerelease sorts last; identifiers one by one, numeric ones
 * by value and before alphanumeric ones, which compare as ASCII; a shorter list first. */
static int cmp_pre(struct str x, struct str y)
{
    if (str_eq(x, y))
        return 0;
    if (x.len == 0)
        return 1;
    if (y.len == 0)
        return -1;
    while (x.len && y.len) {
        struct str dx, dy;
        x.ptr++, x.len--; /* the '-' or '.' */
        y.ptr++, y.len--;
        long i = str_chr(x, '.'), j = str_chr(y, '.');
        dx = str_make(x.ptr, i < 0 ? x.len : (size_t)i);
        dy = str_make(y.ptr, j < 0 ? y.len : (size_t)j);
        x.ptr += dx.len, x.len -= dx.len;
        y.ptr += dy.len, y.len -= dy.len;
        if (str_eq(dx, dy))
            continue;
        bool nx = all_digits(dx), ny = all_digits(dy);
        if (nx != ny)
            return nx ? -1 : 1;
        if (nx)
            return ver_num_cmp((const unsigned char *)dx.ptr, dx.len, (const unsigned char *)dy.ptr,
                               dy.len);
        return ver_bytes_cmp((const unsigned char *)dx.ptr, dx.len, (const unsigned char *)dy.ptr,
                             dy.len);
    }
    return x.len == 0 ? -1 : 1;
}

static int cmp_num(struct str a, struct str b)
{
    return ver_num_cmp((const unsigned char *)a.ptr, a.len, (const unsigned char *)b.ptr, b.len);
}

int gomod_vercmp(struct str a, struct str b)
{
    struct gover x, y;
    bool okx = parse(a, &x), oky = parse(b, &y);
    if (!okx || !oky)
        return okx == oky ? 0 : (okx ? 1 : -1);
    int c = cmp_num(x.major, y.major);
    if (c == 0)
        c = cmp_num(x.minor, y.minor);
    if (c == 0)
        c = cmp_num(x.patch, y.patch);
    if (c == 0)
        c = cmp_pre(x.pre, y.pre);
    return c;
}

int gomod_version_check(struct str v, struct diag *d)
{
    struct gover g;
    if (parse(v, &g))
        return 0;
    return diag_set(d, -ERR_VERSION, 0, "'%.*s' is not a Go module or toolchain version",
                    (int)(v.len > 64 ? 64 : v.len), v.ptr ? v.ptr : "");
}
