/* SPDX-License-Identifier: Apache-2.0 */
/* Debian version comparison (dpkg's ordering of [epoch:]upstream[-revision]) and the syntax
 * check of dpkg's version parser. Works on slices: no allocation, no NUL terminator needed. */
#include <stdint.h>

#include "version/internal.h"
#include "version/version.h"

struct deb_parts {
    const unsigned char *epoch; /* digits only, may be empty (epoch 0) */
    size_t epoch_len;
    const unsigned char *upstream;
    size_t upstream_len;
    const unsigned char *revision; /* empty when there is no '-' */
    size_t revision_len;
    bool none; /* nothing but blanks */
};

static bool deb_is_blank(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* isspace() of the C locale: strtol() skips these before an epoch. */
static bool deb_is_cspace(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Length of an epoch in strtol() syntax at p ([space]... [+-]? digit+), or 0 when p[0..n) is
 * not exactly that. The digit run goes to *digits and *ndigits, and *neg says whether a '-' sign
 * was seen. */
static size_t deb_epoch_syntax(const unsigned char *p, size_t n, const unsigned char **digits,
                               size_t *ndigits, bool *neg)
{
    size_t i = 0;
    while (i < n && deb_is_cspace(p[i]))
        i++;
    *neg = false;
    if (i < n && (p[i] == '+' || p[i] == '-')) {
        *neg = p[i] == '-';
        i++;
    }
    size_t d = ver_digit_span(p + i, n - i);
    *digits = p + i;
    *ndigits = d;
    return d && i + d == n ? n : 0;
}

/* Split v as dpkg does: blanks trimmed at both ends, the epoch before the first ':' when it
 * is a number, the revision after the last '-'. Strings dpkg rejects are split the same way
 * as far as possible (a non-numeric "epoch" stays part of the upstream version), so every
 * string gets a deterministic place in the order. A string of blanks is "no version". */
static void deb_split(struct str v, struct deb_parts *out)
{
    const unsigned char *p = (const unsigned char *)v.ptr;
    size_t n = v.ptr ? v.len : 0;

    while (n && deb_is_blank(p[0])) {
        p++;
        n--;
    }
    while (n && deb_is_blank(p[n - 1]))
        n--;

    out->none = n == 0;
    out->epoch = p;
    out->epoch_len = 0;
    const unsigned char *colon = n ? memchr(p, ':', n) : NULL;
    if (colon) {
        const unsigned char *digits;
        size_t nd;
        bool neg;
        size_t c = (size_t)(colon - p);
        if (deb_epoch_syntax(p, c, &digits, &nd, &neg)) {
            out->epoch = digits;
            out->epoch_len = nd;
            p += c + 1;
            n -= c + 1;
        }
    }

    const unsigned char *hyphen = n ? memrchr(p, '-', n) : NULL;
    out->upstream = p;
    if (hyphen) {
        out->upstream_len = (size_t)(hyphen - p);
        out->revision = hyphen + 1;
        out->revision_len = n - out->upstream_len - 1;
    } else {
        out->upstream_len = n;
        out->revision = p + n;
        out->revision_len = 0;
    }
}

/* Weight of a non-digit byte in the lexical part; the end of the string (and the start of a
 * digit run) weighs 0. '~' is below everything, letters come before other bytes. dpkg reads
 * bytes as (signed) char, so bytes >= 0x80 land between letters and ASCII punctuation. */
static int deb_order(unsigned char c)
{
    if (ver_is_alpha(c))
        return c;
    if (c == '~')
        return -1;
    if (c >= 0x80)
        return c;
    return c + 256;
}

/* dpkg's comparison of one version part (upstream or revision): alternating non-digit runs
 * compared by deb_order() and digit runs compared as numbers of any length. */
static int deb_part_cmp(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
    const unsigned char *ae = a + an, *be = b + bn;

    while (a < ae || b < be) {
        while ((a < ae && !ver_is_digit(*a)) || (b < be && !ver_is_digit(*b))) {
            int ac = a < ae && !ver_is_digit(*a) ? deb_order(*a) : 0;
            int bc = b < be && !ver_is_digit(*b) ? deb_order(*b) : 0;
            if (ac != bc)
                return ac < bc ? -1 : 1;
            /* equal weights mean the same non-digit byte on both sides */
            a++;
            b++;
        }
        while (a < ae && *a == '0')
            a++;
        while (b < be && *b == '0')
            b++;
        int first_diff = 0;
        while (a < ae && b < be && ver_is_digit(*a) && ver_is_digit(*b)) {
            if (!first_diff)
                first_diff = (int)*a - (int)*b;
            a++;
            b++;
        }
        if (a < ae && ver_is_digit(*a))
            return 1;
        if (b < be && ver_is_digit(*b))
            return -1;
        if (first_diff)
            return first_diff < 0 ? -1 : 1;
    }
    return 0;
}

int deb_vercmp(struct str a, struct str b)
{
    if (str_eq(a, b))
        return 0;

    struct deb_parts pa, pb;
    deb_split(a, &pa);
    deb_split(b, &pb);

    /* `dpkg --compare-versions` takes an empty argument as "no version", below all others */
    if (pa.none || pb.none)
        return pa.none == pb.none ? 0 : (pa.none ? -1 : 1);

    int r = ver_num_cmp(pa.epoch, pa.epoch_len, pb.epoch, pb.epoch_len);
    if (r)
        return r;
    r = deb_part_cmp(pa.upstream, pa.upstream_len, pb.upstream, pb.upstream_len);
    if (r)
        return r;
    return deb_part_cmp(pa.revision, pa.revision_len, pb.revision, pb.revision_len);
}

static bool deb_upstream_char_ok(unsigned char c)
{
    return ver_is_digit(c) || ver_is_alpha(c) || c == '.' || c == '-' || c == '+' || c == '~' ||
           c == ':';
}

static bool deb_revision_char_ok(unsigned char c)
{
    return ver_is_digit(c) || ver_is_alpha(c) || c == '.' || c == '+' || c == '~';
}

/* The checks of dpkg's parseversion(), in its order and with its messages. dpkg only warns
 * about an upstream version that does not start with a digit and about characters outside
 * the allowed sets; we reject those too (parseversion reports them as a failure with a
 * warning, and Debian policy forbids them). Quirks kept from dpkg: blanks around the version
 * are ignored, and the epoch is read by strtol(), so "+1:2" is epoch 1. */
int deb_version_check(struct str v, struct diag *d)
{
    const unsigned char *base = (const unsigned char *)v.ptr;
    size_t n = v.ptr ? v.len : 0;
    const unsigned char *nul = n ? memchr(base, '\0', n) : NULL;
    if (nul)
        return diag_set(d, -ERR_VERSION, (size_t)(nul - base), "NUL byte in version");

    size_t start = 0;
    while (start < n && deb_is_blank(base[start]))
        start++;
    if (start == n)
        return diag_set(d, -ERR_VERSION, start, "version string is empty");
    size_t end = start;
    while (end < n && !deb_is_blank(base[end]))
        end++;
    for (size_t i = end; i < n; i++)
        if (!deb_is_blank(base[i]))
            return diag_set(d, -ERR_VERSION, end, "version string has embedded spaces");

    const unsigned char *p = base + start;
    size_t len = end - start;
    const unsigned char *colon = memchr(p, ':', len);
    size_t off = start;
    if (colon) {
        const unsigned char *digits;
        size_t nd;
        bool neg;
        size_t c = (size_t)(colon - p);
        if (!deb_epoch_syntax(p, c, &digits, &nd, &neg)) {
            if (nd == 0)
                return diag_set(d, -ERR_VERSION, start, "epoch in version is empty");
            return diag_set(d, -ERR_VERSION, start, "epoch in version is not number");
        }
        /* strtol() semantics: "-0" is 0, any other negative number is negative */
        bool nonzero = false;
        uint64_t epoch = 0;
        for (size_t i = 0; i < nd; i++) {
            if (digits[i] != '0')
                nonzero = true;
            if (epoch <= INT32_MAX)
                epoch = epoch * 10 + (uint64_t)(digits[i] - '0');
        }
        if (neg && nonzero)
            return diag_set(d, -ERR_VERSION, start, "epoch in version is negative");
        if (epoch > INT32_MAX)
            return diag_set(d, -ERR_VERSION, start, "epoch in version is too big");
        if (c + 1 == len)
            return diag_set(d, -ERR_VERSION, start + c, "nothing after colon in version number");
        p += c + 1;
        len -= c + 1;
        off += c + 1;
    }

    const unsigned char *hyphen = memrchr(p, '-', len);
    size_t up_len = hyphen ? (size_t)(hyphen - p) : len;
    if (hyphen && up_len + 1 == len)
        return diag_set(d, -ERR_VERSION, off + up_len, "revision number is empty");
    if (up_len == 0)
        return diag_set(d, -ERR_VERSION, off, "version number is empty");
    if (!ver_is_digit(p[0]))
        return diag_set(d, -ERR_VERSION, off, "version number does not start with digit");
    for (size_t i = 1; i < up_len; i++)
        if (!deb_upstream_char_ok(p[i]))
            return diag_set(d, -ERR_VERSION, off + i,
                            "invalid character in version number (0x%02x)", p[i]);
    for (size_t i = up_len + 1; i < len; i++)
        if (!deb_revision_char_ok(p[i]))
            return diag_set(d, -ERR_VERSION, off + i,
                            "invalid character in revision number (0x%02x)", p[i]);
    return 0;
}
