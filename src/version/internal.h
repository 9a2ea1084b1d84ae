/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the OS version comparators (deb.c, apk.c, rpm.c): ASCII classes that
 * ignore the locale, and a numeric comparison of digit runs of any length. */
#ifndef VIGIL_VERSION_INTERNAL_H
#define VIGIL_VERSION_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static inline bool ver_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static inline bool ver_is_alpha(unsigned char c)
{
    return (unsigned char)((c | 0x20) - 'a') < 26;
}

static inline bool ver_is_lower(unsigned char c)
{
    return c >= 'a' && c <= 'z';
}

static inline int ver_sign(long long v)
{
    return (v > 0) - (v < 0);
}

/* Length of the run of ASCII digits at p (at most n bytes). */
static inline size_t ver_digit_span(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n && ver_is_digit(p[i]))
        i++;
    return i;
}

/* Compare two runs of ASCII digits as unsigned integers of any length (leading zeros do not
 * count): -1, 0 or 1. Never converts, so huge numbers cannot overflow. */
static inline int ver_num_cmp(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
    while (an && *a == '0') {
        a++;
        an--;
    }
    while (bn && *b == '0') {
        b++;
        bn--;
    }
    if (an != bn)
        return an < bn ? -1 : 1;
    /* runs are short: a plain loop beats a call to memcmp */
    for (size_t i = 0; i < an; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

/* Byte-wise comparison in the manner of strcmp (a proper prefix sorts first): -1, 0 or 1. */
static inline int ver_bytes_cmp(const unsigned char *a, size_t an, const unsigned char *b,
                                size_t bn)
{
    size_t n = an < bn ? an : bn;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return an == bn ? 0 : (an < bn ? -1 : 1);
}

#endif
