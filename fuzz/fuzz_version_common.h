/* SPDX-License-Identifier: Apache-2.0 */
/* Shared body of the version-comparator fuzz targets: the input is split at the first NUL or
 * newline into versions a and b (b is the rest); cmp must be antisymmetric and reflexive and
 * the syntax check must not crash. When b holds another NUL or newline, it is split again
 * into b and c and the three must be ordered transitively. Violations abort. */
#ifndef VIGIL_FUZZ_VERSION_COMMON_H
#define VIGIL_FUZZ_VERSION_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/str.h"

static int fv_sign(int v)
{
    return (v > 0) - (v < 0);
}

static size_t fv_sep(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\0' || p[i] == '\n')
            return i;
    return n;
}

static void fv_run(const uint8_t *data, size_t size, int (*cmp)(struct str, struct str),
                   int (*check)(struct str, struct diag *))
{
    size_t i = fv_sep(data, size);
    struct str a = str_make((const char *)data, i);
    struct str b = str_make(i < size ? (const char *)data + i + 1 : (const char *)data + size,
                            i < size ? size - i - 1 : 0);

    int ab = fv_sign(cmp(a, b)), ba = fv_sign(cmp(b, a));
    if (ab != -ba)
        abort();
    if (cmp(a, a) != 0 || cmp(b, b) != 0)
        abort();

    struct diag d;
    int r = check(a, &d);
    if (r != 0 && r != -ERR_VERSION)
        abort();
    r = check(b, NULL);
    if (r != 0 && r != -ERR_VERSION)
        abort();

    size_t j = fv_sep((const uint8_t *)b.ptr, b.len);
    if (j == b.len)
        return;
    struct str c = str_make(b.ptr + j + 1, b.len - j - 1);
    b.len = j;
    ab = fv_sign(cmp(a, b));
    int bc = fv_sign(cmp(b, c)), ac = fv_sign(cmp(a, c));
    /* a <= b <= c implies a <= c, strictly if either step is strict; same for >= */
    if (ab <= 0 && bc <= 0 && ac > (ab == 0 && bc == 0 ? 0 : -1))
        abort();
    if (ab >= 0 && bc >= 0 && ac < (ab == 0 && bc == 0 ? 0 : 1))
        abort();
}

#endif
