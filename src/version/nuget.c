/* SPDX-License-Identifier: Apache-2.0 */
/* NuGet versions ordered as NuGet's default version comparison does, from NuGet's documented
 * rules: "N[.N[.N[.N]]][-LABEL[.LABEL]...][+METADATA]" with one to four numeric parts (missing
 * parts are 0, leading zeros do not count: 1.01 = 1.1.0 = 1.1.0.0), a version with a
 * prerelease label below the same version without one, labels compared one by one (numeric
 * ones by value and below alphanumeric ones, alphanumeric ones ASCII case-insensitively), a
 * shorter label list first, metadata ignored. Numeric labels with leading zeros are accepted
 * and compared by value. Parts are compared exactly at any length (NuGet caps them at
 * int32). Strings that are not NuGet versions sort below every version and among themselves
 * by their bytes. */
#include "internal.h"
#include "version.h"

struct nv {
    struct str part[4]; /* missing parts are "0" */
    struct str pre;     /* labels without the '-', may be empty */
};

static bool label_char(unsigned char c)
{
    return ver_is_digit(c) || ver_is_alpha(c) || c == '-';
}

/* Dot-separated non-empty labels of [0-9A-Za-z-] up to the end or (stop_plus) a '+'. */
static size_t take_labels(struct str s, bool stop_plus)
{
    size_t i = 0, start = 0;
    for (;; i++) {
        bool end = i == s.len || (stop_plus && s.ptr[i] == '+');
        if (end || s.ptr[i] == '.') {
            if (i == start)
                return 0;
            if (end)
                return i;
            start = i + 1;
            continue;
        }
        if (!label_char((unsigned char)s.ptr[i]))
            return 0;
    }
}

static bool parse(struct str s, struct nv *v)
{
    size_t np = 0;
    for (int k = 0; k < 4; k++)
        v->part[k] = STR_LIT("0");
    v->pre = STR_NULL;
    for (;;) {
        size_t n = ver_digit_span((const unsigned char *)s.ptr, s.len);
        if (n == 0 || np == 4)
            return false;
        v->part[np++] = str_make(s.ptr, n);
        s.ptr += n, s.len -= n;
        if (!s.len || s.ptr[0] != '.')
            break;
        s.ptr++, s.len--;
    }
    if (s.len && s.ptr[0] == '-') {
        s.ptr++, s.len--;
        size_t n = take_labels(s, true);
        if (n == 0)
            return false;
        v->pre = str_make(s.ptr, n);
        s.ptr += n, s.len -= n;
    }
    if (s.len && s.ptr[0] == '+') {
        s.ptr++, s.len--;
        if (s.len == 0 || take_labels(s, false) != s.len)
            return false;
        s.len = 0;
    }
    return s.len == 0;
}

static int fold(unsigned char c)
{
    return c >= 'a' && c <= 'z' ? c - 32 : c;
}

static int label_cmp(struct str x, struct str y)
{
    bool nx = ver_digit_span((const unsigned char *)x.ptr, x.len) == x.len;
    bool ny = ver_digit_span((const unsigned char *)y.ptr, y.len) == y.len;
    if (nx != ny)
        return nx ? -1 : 1;
    if (nx)
        return ver_num_cmp((const unsigned char *)x.ptr, x.len, (const unsigned char *)y.ptr,
                           y.len);
    size_t n = x.len < y.len ? x.len : y.len;
    for (size_t i = 0; i < n; i++) {
        int a = fold((unsigned char)x.ptr[i]), b = fold((unsigned char)y.ptr[i]);
        if (a != b)
            return a < b ? -1 : 1;
    }
    return x.len == y.len ? 0 : (x.len < y.len ? -1 : 1);
}

static int pre_cmp(struct str x, struct str y)
{
    if (x.len == 0 || y.len == 0)
        return x.len == y.len ? 0 : (x.len == 0 ? 1 : -1);
    for (;;) {
        long i = str_chr(x, '.'), j = str_chr(y, '.');
        int c = label_cmp(str_make(x.ptr, i < 0 ? x.len : (size_t)i),
                          str_make(y.ptr, j < 0 ? y.len : (size_t)j));
        if (c)
            return c;
        if (i < 0 || j < 0)
            return (i < 0) == (j < 0) ? 0 : (i < 0 ? -1 : 1);
        x = str_make(x.ptr + i + 1, x.len - (size_t)i - 1);
        y = str_make(y.ptr + j + 1, y.len - (size_t)j - 1);
    }
}

int nuget_vercmp(struct str a, struct str b)
{
    struct nv x, y;
    bool okx = parse(a, &x), oky = parse(b, &y);
    if (!okx || !oky) {
        if (okx != oky)
            return okx ? 1 : -1;
        return ver_bytes_cmp((const unsigned char *)a.ptr, a.len, (const unsigned char *)b.ptr,
                             b.len);
    }
    for (int k = 0; k < 4; k++) {
        int c = ver_num_cmp((const unsigned char *)x.part[k].ptr, x.part[k].len,
                            (const unsigned char *)y.part[k].ptr, y.part[k].len);
        if (c)
            return c;
    }
    return pre_cmp(x.pre, y.pre);
}

int nuget_version_check(struct str v, struct diag *d)
{
    struct nv x;
    if (parse(v, &x))
        return 0;
    return diag_set(d, -ERR_VERSION, 0, "'%.*s' is not a NuGet version",
                    (int)(v.len > 64 ? 64 : v.len), v.ptr ? v.ptr : "");
}
