/* SPDX-License-Identifier: Apache-2.0 */
/* crates.io versions: strict SemVer 2.0 ("MAJOR.MINOR.PATCH[-PRE][+BUILD]", no leading zeros
 * in numbers or numeric prerelease identifiers, as Cargo's semver crate parses them) ordered
 * by SemVer 2.0 precedence: numbers by value (any length, exactly), a prerelease below its
 * release, prerelease identifiers numeric-before-alphanumeric, numeric by value, alphanumeric
 * by ASCII, a shorter list first. Build metadata does not take part, as in Cargo's version
 * requirement matching (the semver crate's Ord breaks ties between builds lexically; matching
 * never does). Strings that are not SemVer sort below every version and among themselves by
 * their bytes, so the order stays total. */
#include "internal.h"
#include "version.h"

struct csv {
    struct str major, minor, patch, pre; /* pre without the '-', may be empty */
};

static bool ident_char(unsigned char c)
{
    return ver_is_digit(c) || ver_is_alpha(c) || c == '-';
}

static bool take_num(struct str *s, struct str *out)
{
    size_t n = ver_digit_span((const unsigned char *)s->ptr, s->len);
    if (n == 0 || (n > 1 && s->ptr[0] == '0'))
        return false;
    *out = str_make(s->ptr, n);
    s->ptr += n;
    s->len -= n;
    return true;
}

/* Identifiers up to the end or a '+' (prerelease) / the end (build). Returns bytes used or 0. */
static size_t take_idents(struct str s, bool pre)
{
    size_t i = 0, start = 0;
    for (;; i++) {
        bool end = i == s.len || (pre && s.ptr[i] == '+');
        if (end || s.ptr[i] == '.') {
            if (i == start)
                return 0;
            struct str id = str_make(s.ptr + start, i - start);
            size_t dn = ver_digit_span((const unsigned char *)id.ptr, id.len);
            if (pre && dn == id.len && id.len > 1 && id.ptr[0] == '0')
                return 0;
            if (end)
                return i;
            start = i + 1;
            continue;
        }
        if (!ident_char((unsigned char)s.ptr[i]))
            return 0;
    }
}

static bool parse(struct str s, struct csv *v)
{
    v->pre = STR_NULL;
    if (!take_num(&s, &v->major) || !s.len || s.ptr[0] != '.')
        return false;
    s.ptr++, s.len--;
    if (!take_num(&s, &v->minor) || !s.len || s.ptr[0] != '.')
        return false;
    s.ptr++, s.len--;
    if (!take_num(&s, &v->patch))
        return false;
    if (s.len && s.ptr[0] == '-') {
        s.ptr++, s.len--;
        size_t n = take_idents(s, true);
        if (n == 0)
            return false;
        v->pre = str_make(s.ptr, n);
        s.ptr += n, s.len -= n;
    }
    if (s.len && s.ptr[0] == '+') {
        s.ptr++, s.len--;
        size_t n = take_idents(s, false);
        if (n == 0 || n != s.len)
            return false;
        s.len = 0;
    }
    return s.len == 0;
}

static int num_cmp(struct str a, struct str b)
{
    return ver_num_cmp((const unsigned char *)a.ptr, a.len, (const unsigned char *)b.ptr, b.len);
}

static int pre_cmp(struct str x, struct str y)
{
    if (x.len == 0 || y.len == 0)
        return x.len == y.len ? 0 : (x.len == 0 ? 1 : -1);
    for (;;) {
        long i = str_chr(x, '.'), j = str_chr(y, '.');
        struct str dx = str_make(x.ptr, i < 0 ? x.len : (size_t)i);
        struct str dy = str_make(y.ptr, j < 0 ? y.len : (size_t)j);
        bool nx = ver_digit_span((const unsigned char *)dx.ptr, dx.len) == dx.len;
        bool ny = ver_digit_span((const unsigned char *)dy.ptr, dy.len) == dy.len;
        int c;
        if (nx != ny)
            c = nx ? -1 : 1;
        else if (nx)
            c = num_cmp(dx, dy);
        else
            c = ver_bytes_cmp((const unsigned char *)dx.ptr, dx.len, (const unsigned char *)dy.ptr,
                              dy.len);
        if (c)
            return c;
        if (i < 0 || j < 0)
            return (i < 0) == (j < 0) ? 0 : (i < 0 ? -1 : 1);
        x = str_make(x.ptr + i + 1, x.len - (size_t)i - 1);
        y = str_make(y.ptr + j + 1, y.len - (size_t)j - 1);
    }
}

int cargo_vercmp(struct str a, struct str b)
{
    struct csv x, y;
    bool okx = parse(a, &x), oky = parse(b, &y);
    if (!okx || !oky) {
        if (okx != oky)
            return okx ? 1 : -1;
        return ver_bytes_cmp((const unsigned char *)a.ptr, a.len, (const unsigned char *)b.ptr,
                             b.len);
    }
    int c = num_cmp(x.major, y.major);
    if (c == 0)
        c = num_cmp(x.minor, y.minor);
    if (c == 0)
        c = num_cmp(x.patch, y.patch);
    if (c == 0)
        c = pre_cmp(x.pre, y.pre);
    return c;
}

int cargo_version_check(struct str v, struct diag *d)
{
    struct csv x;
    if (parse(v, &x))
        return 0;
    return diag_set(d, -ERR_VERSION, 0, "'%.*s' is not a SemVer 2.0 version",
                    (int)(v.len > 64 ? 64 : v.len), v.ptr ? v.ptr : "");
}
