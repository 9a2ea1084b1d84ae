/* SPDX-License-Identifier: Apache-2.0 */
/* RPM version comparison: rpmvercmp() over one segment, and [E:]V[-R] labels split the way
 * rpm's parseEVR() splits them and compared the way rpm.labelCompare() compares them.
 * Works on slices: no allocation, no NUL terminator needed. */
#include <stdint.h>

#include "version/internal.h"
#include "version/version.h"

static bool rpm_is_alnum(unsigned char c)
{
    return ver_is_digit(c) || ver_is_alpha(c);
}

/* Separators are every byte that is not alphanumeric, '~' or '^' (an embedded NUL too). */
static bool rpm_is_sep(unsigned char c)
{
    return !rpm_is_alnum(c) && c != '~' && c != '^';
}

/* rpmvercmp(): the string is a sequence of digit runs, letter runs, '~' and '^', with
 * separators only delimiting runs. At each step: '~' is below everything including the end;
 * then the end; then '^'; then a letter run; then a digit run. Letter runs compare as
 * strings, digit runs as numbers of any length. */
static int rpm_vercmp_raw(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
    const unsigned char *ae = a + an, *be = b + bn;

    for (;;) {
        while (a < ae && rpm_is_sep(*a))
            a++;
        while (b < be && rpm_is_sep(*b))
            b++;

        bool a_end = a == ae, b_end = b == be;
        if ((!a_end && *a == '~') || (!b_end && *b == '~')) {
            if (a_end || *a != '~')
                return 1;
            if (b_end || *b != '~')
                return -1;
            a++;
            b++;
            continue;
        }
        if ((!a_end && *a == '^') || (!b_end && *b == '^')) {
            if (a_end)
                return -1;
            if (b_end)
                return 1;
            if (*a != '^')
                return 1;
            if (*b != '^')
                return -1;
            a++;
            b++;
            continue;
        }
        if (a_end || b_end)
            break;

        const unsigned char *sa = a, *sb = b;
        bool isnum = ver_is_digit(*a);
        if (isnum) {
            while (a < ae && ver_is_digit(*a))
                a++;
            while (b < be && ver_is_digit(*b))
                b++;
        } else {
            while (a < ae && ver_is_alpha(*a))
                a++;
            while (b < be && ver_is_alpha(*b))
                b++;
        }
        /* b's run is empty when the run types differ: digits beat letters */
        if (b == sb)
            return isnum ? 1 : -1;
        int r = isnum ? ver_num_cmp(sa, (size_t)(a - sa), sb, (size_t)(b - sb))
                      : ver_bytes_cmp(sa, (size_t)(a - sa), sb, (size_t)(b - sb));
        if (r)
            return r;
    }
    if (a == ae && b == be)
        return 0;
    return a == ae ? -1 : 1;
}

int rpm_segment_cmp(struct str a, struct str b)
{
    if (str_eq(a, b))
        return 0;
    return rpm_vercmp_raw((const unsigned char *)a.ptr, a.ptr ? a.len : 0,
                          (const unsigned char *)b.ptr, b.ptr ? b.len : 0);
}

struct rpm_evr {
    const unsigned char *e, *v, *r; /* e and r are NULL when absent */
    size_t elen, vlen, rlen;
};

/* rpm's parseEVR(): the epoch is a (possibly empty) run of digits ended by ':' at the very
 * start, an empty one meaning 0; the release follows the last '-'. */
static void rpm_split(struct str s, struct rpm_evr *out)
{
    const unsigned char *p = (const unsigned char *)s.ptr;
    size_t n = s.ptr ? s.len : 0;
    size_t d = ver_digit_span(p, n);

    out->e = NULL;
    out->elen = 0;
    if (d < n && p[d] == ':') {
        out->e = d ? p : (const unsigned char *)"0";
        out->elen = d ? d : 1;
        p += d + 1;
        n -= d + 1;
    }
    const unsigned char *hyphen = n ? memrchr(p, '-', n) : NULL;
    out->v = p;
    if (hyphen) {
        out->vlen = (size_t)(hyphen - p);
        out->r = hyphen + 1;
        out->rlen = n - out->vlen - 1;
    } else {
        out->vlen = n;
        out->r = NULL;
        out->rlen = 0;
    }
}

/* Like rpm.labelCompare((e, v, r), ...): a missing epoch is "0"; epochs, versions and
 * releases are each compared by rpmvercmp(); a missing release sorts before any release
 * (even an empty one), two missing releases are equal. */
int rpm_vercmp(struct str a, struct str b)
{
    if (str_eq(a, b))
        return 0;

    struct rpm_evr x, y;
    rpm_split(a, &x);
    rpm_split(b, &y);

    const unsigned char *zero = (const unsigned char *)"0";
    int r = rpm_vercmp_raw(x.e ? x.e : zero, x.e ? x.elen : 1, y.e ? y.e : zero, y.e ? y.elen : 1);
    if (r)
        return r;
    r = rpm_vercmp_raw(x.v, x.vlen, y.v, y.vlen);
    if (r)
        return r;
    if (!x.r || !y.r)
        return x.r ? 1 : (y.r ? -1 : 0);
    return rpm_vercmp_raw(x.r, x.rlen, y.r, y.rlen);
}

/* Characters rpmbuild accepts in Version and Release, minus the macro characters %{}. */
static bool rpm_char_ok(unsigned char c)
{
    return rpm_is_alnum(c) || c == '.' || c == '_' || c == '+' || c == '~' || c == '^';
}

int rpm_version_check(struct str v, struct diag *d)
{
    const unsigned char *base = (const unsigned char *)v.ptr;
    size_t n = v.ptr ? v.len : 0;
    if (n == 0)
        return diag_set(d, -ERR_VERSION, 0, "empty version");

    size_t i = 0;
    size_t dn = ver_digit_span(base, n);
    if (dn < n && base[dn] == ':') {
        if (dn == 0)
            return diag_set(d, -ERR_VERSION, 0, "empty epoch");
        uint64_t e = 0;
        for (size_t k = 0; k < dn && e <= UINT32_MAX; k++)
            e = e * 10 + (uint64_t)(base[k] - '0');
        if (e > UINT32_MAX)
            return diag_set(d, -ERR_VERSION, 0, "epoch is too big");
        i = dn + 1;
    }
    const unsigned char *hyphen = memrchr(base + i, '-', n - i);
    size_t vend = hyphen ? (size_t)(hyphen - base) : n;
    if (vend == i)
        return diag_set(d, -ERR_VERSION, i, "empty version part");
    for (size_t k = i; k < vend; k++) {
        if (base[k] == '-')
            return diag_set(d, -ERR_VERSION, k, "'-' in version part");
        if (!rpm_char_ok(base[k]))
            return diag_set(d, -ERR_VERSION, k, "invalid character 0x%02x in version part",
                            base[k]);
    }
    if (hyphen) {
        if (vend + 1 == n)
            return diag_set(d, -ERR_VERSION, vend, "empty release");
        for (size_t k = vend + 1; k < n; k++)
            if (!rpm_char_ok(base[k]))
                return diag_set(d, -ERR_VERSION, k, "invalid character 0x%02x in release", base[k]);
    }
    return 0;
}
