/* SPDX-License-Identifier: Apache-2.0 */
/* npm version ordering: node-semver's loose parse (SemVer 2.0 plus "v"/"=" prefixes, leading
 * zeros and a prerelease without its '-') and its compare(). Strings node-semver rejects sort
 * below every valid version, byte-wise among themselves. No allocation. */
#include <stdint.h>

#include "version/internal.h"
#include "version/version.h"

/* node-semver's MAX_LENGTH, in UTF-16 code units of the untrimmed string. */
#define NPM_MAX_LENGTH 256
/* Number.MAX_SAFE_INTEGER: the largest major/minor/patch node-semver accepts. */
#define NPM_MAX_SAFE "9007199254740991"

struct npm_ver {
    struct str major, minor, patch; /* digit runs, leading zeros possible */
    struct str pre;                 /* prerelease identifiers "a.1.b"; len 0 = none */
};

/* Byte length of the ECMAScript white-space or line-terminator character at p (what JS
 * trim() and the regex class \s remove: TAB LF VT FF CR SP, U+00A0, U+1680, U+2000-U+200A,
 * U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF), or 0. */
static size_t ws_at(const unsigned char *p, size_t n)
{
    if (n >= 1 && (p[0] == ' ' || (p[0] >= '\t' && p[0] <= '\r')))
        return 1;
    if (n >= 2 && p[0] == 0xC2 && p[1] == 0xA0)
        return 2;
    if (n < 3)
        return 0;
    unsigned c = (unsigned)(p[0] << 16 | p[1] << 8 | p[2]);
    if (c == 0xE19A80 || (c >= 0xE28080 && c <= 0xE2808A) || c == 0xE280A8 || c == 0xE280A9 ||
        c == 0xE280AF || c == 0xE2819F || c == 0xE38080 || c == 0xEFBBBF)
        return 3;
    return 0;
}

/* Byte length of a white-space character that ends at p + n, or 0. */
static size_t ws_before(const unsigned char *p, size_t n)
{
    for (size_t k = 1; k <= 3 && k <= n; k++)
        if (ws_at(p + n - k, k) == k)
            return k;
    return 0;
}

/* Length in UTF-16 code units as JavaScript counts it (a stray byte counts as one unit;
 * such a string is invalid anyway, since only white space may be non-ASCII). */
static size_t utf16_len(const unsigned char *p, size_t n)
{
    size_t units = 0;
    for (size_t i = 0; i < n; i++)
        units += ((p[i] & 0xC0) != 0x80) + (p[i] >= 0xF0);
    return units;
}

static bool is_ident_char(unsigned char c)
{
    return ver_is_digit(c) || ver_is_alpha(c) || c == '-';
}

/* Dot-separated, non-empty identifiers of [0-9A-Za-z-]. On failure *bad is the offset (in
 * s) of the first byte that breaks the rule. */
static bool idents_valid(const unsigned char *s, size_t n, size_t *bad)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (run == 0) {
                *bad = i;
                return false;
            }
            run = 0;
        } else if (is_ident_char(s[i])) {
            run++;
        } else {
            *bad = i;
            return false;
        }
    }
    if (run == 0) {
        *bad = n;
        return false;
    }
    return true;
}

/* A digit run within Number.MAX_SAFE_INTEGER. */
static bool num_is_safe(struct str s)
{
    return ver_num_cmp((const unsigned char *)s.ptr, s.len, (const unsigned char *)NPM_MAX_SAFE,
                       sizeof(NPM_MAX_SAFE) - 1) <= 0;
}

/* node-semver's `new SemVer(v, {loose: true})`: the 256-unit limit, trim(), the LOOSE
 * pattern ^[v=\s]*(\d+)\.(\d+)\.(\d+)(?:-?(PRE))?(?:\+(BUILD))?$ with its backtracking,
 * and the MAX_SAFE_INTEGER check on the three numbers. Fills *d (message and offset in v)
 * on failure when d is not NULL. */
static bool npm_parse(struct str v, struct npm_ver *out, struct diag *d)
{
    const unsigned char *base = (const unsigned char *)v.ptr;
    const unsigned char *p = base, *end = base + v.len;
    size_t bad = 0;

    if (v.len == 0) {
        diag_set(d, -ERR_VERSION, 0, "empty version");
        return false;
    }
    if (utf16_len(base, v.len) > NPM_MAX_LENGTH) {
        diag_set(d, -ERR_VERSION, 0, "version is longer than %d characters", NPM_MAX_LENGTH);
        return false;
    }
    /* trim(), then the [v=\s]* prefix */
    for (size_t k; (k = ws_before(p, (size_t)(end - p))) > 0;)
        end -= k;
    for (;;) {
        size_t k = ws_at(p, (size_t)(end - p));
        if (k == 0 && p < end && (*p == 'v' || *p == '='))
            k = 1;
        if (k == 0)
            break;
        p += k;
    }

    struct str *nums[3] = { &out->major, &out->minor, &out->patch };
    static const char *const what[3] = { "major", "minor", "patch" };
    for (int i = 0; i < 3; i++) {
        size_t n = ver_digit_span(p, (size_t)(end - p));
        if (n == 0) {
            diag_set(d, -ERR_VERSION, (size_t)(p - base),
                     "expected a digit (%s version) at offset %zu", what[i], (size_t)(p - base));
            return false;
        }
        *nums[i] = str_make((const char *)p, n);
        p += n;
        if (i < 2) {
            if (p == end || *p != '.') {
                diag_set(d, -ERR_VERSION, (size_t)(p - base),
                         "expected '.' after the %s version at offset %zu", what[i],
                         (size_t)(p - base));
                return false;
            }
            p++;
        }
    }

    /* the rest: [-]prerelease before the first '+', build after it */
    const unsigned char *plus = memchr(p, '+', (size_t)(end - p));
    const unsigned char *pre_end = plus ? plus : end;
    if (plus && !idents_valid(plus + 1, (size_t)(end - plus - 1), &bad)) {
        diag_set(d, -ERR_VERSION, (size_t)(plus + 1 + bad - base),
                 "bad build metadata at offset %zu", (size_t)(plus + 1 + bad - base));
        return false;
    }
    size_t pre_n = (size_t)(pre_end - p);
    out->pre = STR_NULL;
    if (pre_n == 0) {
        /* no prerelease */
    } else if (*p == '-' && idents_valid(p + 1, pre_n - 1, &bad)) {
        out->pre = str_make((const char *)p + 1, pre_n - 1);
    } else if (idents_valid(p, pre_n, &bad)) {
        /* "-" stays part of the first identifier ("1.2.3-" is prerelease "-") or there was
         * no '-' at all ("1.2.3beta") */
        out->pre = str_make((const char *)p, pre_n);
    } else if (out->patch.len >= 2 && *p == '.' && idents_valid(p - 1, pre_n + 1, &bad)) {
        /* the regex backtracks into the patch digits: "1.2.34.5" is 1.2.3-4.5 */
        out->patch.len--;
        out->pre = str_make((const char *)p - 1, pre_n + 1);
    } else {
        size_t off = (size_t)(p - base) + (*p == '-' ? 1 : 0);
        idents_valid(base + off, (size_t)(pre_end - base) - off, &bad);
        diag_set(d, -ERR_VERSION, off + bad, "bad prerelease at offset %zu", off + bad);
        return false;
    }

    for (int i = 0; i < 3; i++)
        if (!num_is_safe(*nums[i])) {
            diag_set(d, -ERR_VERSION, (size_t)((const unsigned char *)nums[i]->ptr - base),
                     "%s version is larger than 2^53-1", what[i]);
            return false;
        }
    return true;
}

/* Next identifier of a prerelease list at *pos, or false at its end. */
static bool next_ident(struct str pre, size_t *pos, struct str *id)
{
    if (*pos > pre.len || pre.len == 0)
        return false;
    const char *s = pre.ptr + *pos;
    const char *dot = memchr(s, '.', pre.len - *pos);
    size_t n = dot ? (size_t)(dot - s) : pre.len - *pos;
    *id = str_make(s, n);
    *pos += n + 1;
    return true;
}

static bool all_digits(struct str s)
{
    return ver_digit_span((const unsigned char *)s.ptr, s.len) == s.len;
}

/* compareIdentifiers(): numbers numerically (exactly, where node-semver converts to double
 * from 2^53 on), numbers before words, words byte-wise. */
static int ident_cmp(struct str a, struct str b)
{
    bool an = all_digits(a), bn = all_digits(b);
    const unsigned char *ap = (const unsigned char *)a.ptr, *bp = (const unsigned char *)b.ptr;
    if (an && bn)
        return ver_num_cmp(ap, a.len, bp, b.len);
    if (an != bn)
        return an ? -1 : 1;
    return ver_bytes_cmp(ap, a.len, bp, b.len);
}

static int npm_cmp_parsed(const struct npm_ver *a, const struct npm_ver *b)
{
    const struct str *an[3] = { &a->major, &a->minor, &a->patch };
    const struct str *bn[3] = { &b->major, &b->minor, &b->patch };
    for (int i = 0; i < 3; i++) {
        int c = ver_num_cmp((const unsigned char *)an[i]->ptr, an[i]->len,
                            (const unsigned char *)bn[i]->ptr, bn[i]->len);
        if (c)
            return c;
    }
    /* a release sorts above its prereleases */
    if (!a->pre.len || !b->pre.len)
        return (int)(a->pre.len == 0) - (int)(b->pre.len == 0);
    size_t pa = 0, pb = 0;
    for (;;) {
        struct str ia, ib;
        bool ha = next_ident(a->pre, &pa, &ia), hb = next_ident(b->pre, &pb, &ib);
        if (!ha || !hb)
            return (int)ha - (int)hb;
        int c = ident_cmp(ia, ib);
        if (c)
            return c;
    }
}

int npm_vercmp(struct str a, struct str b)
{
    struct npm_ver va, vb;
    bool oka = npm_parse(a, &va, NULL), okb = npm_parse(b, &vb, NULL);
    if (oka && okb)
        return npm_cmp_parsed(&va, &vb);
    if (oka != okb)
        return oka ? 1 : -1; /* anything node-semver rejects is older than any version */
    return ver_bytes_cmp((const unsigned char *)a.ptr, a.len, (const unsigned char *)b.ptr, b.len);
}

int npm_version_check(struct str v, struct diag *d)
{
    struct npm_ver pv;
    if (!npm_parse(v, &pv, d))
        return -ERR_VERSION;
    return 0;
}
