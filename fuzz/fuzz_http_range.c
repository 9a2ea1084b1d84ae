/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the Range header parser. The first 8 bytes are the representation size (little
 * endian), the rest the header value. Checks that a partial range always lies inside the
 * representation and that the answer does not depend on the bytes after a NUL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/http_range.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8 || size > HTTP_RANGE_VALUE_MAX + 64)
        return 0;
    uint64_t rep = 0;
    for (int i = 7; i >= 0; i--)
        rep = rep << 8 | data[i];
    /* small sizes matter most; keep some huge ones */
    if (data[7] < 0xf0)
        rep &= 0xffffff;
    size_t n = size - 8;
    char *v = xmalloc(n + 1);
    memcpy(v, data + 8, n);
    v[n] = '\0';

    uint64_t off = 0, len = 0;
    enum http_range_result r = http_parse_range(v, rep, &off, &len);
    BUG_ON(r != HTTP_RANGE_FULL && r != HTTP_RANGE_PARTIAL && r != HTTP_RANGE_UNSATISFIABLE);
    if (r == HTTP_RANGE_PARTIAL) {
        BUG_ON(len == 0);
        BUG_ON(off >= rep);
        BUG_ON(len > rep - off);
    }
    /* the same value against a larger representation never becomes unsatisfiable unless the
     * range was already: a position that fits still fits */
    if (r == HTTP_RANGE_PARTIAL && rep < UINT64_MAX) {
        uint64_t off2, len2;
        BUG_ON(http_parse_range(v, rep + 1, &off2, &len2) != HTTP_RANGE_PARTIAL);
    }
    BUG_ON(http_parse_range(NULL, rep, &off, &len) != HTTP_RANGE_FULL);
    free(v);
    return 0;
}
