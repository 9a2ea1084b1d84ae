/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz decompression (format detection, gzip members and trailers, zstd frames, limits):
 * read the whole stream with the read size varying, then walk it again as a layer. */
#include <stdint.h>
#include <stdlib.h>

#include "base/reader.h"
#include "image/decomp.h"
#include "image/layer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct decomp_limits lim = { .max_output = 8 << 20, .max_ratio = 200 };
    struct reader *z;
    struct diag d = { 0 };
    if (decomp_open(reader_mem_new(data, size), &lim, &z, NULL, &d) != 0)
        return 0;
    static unsigned char out[1 << 16];
    size_t step = size ? (size_t)data[size - 1] + 1 : 1;
    for (;;) {
        ssize_t got = reader_read(z, out, step);
        if (got <= 0)
            break;
        step = step * 7 % sizeof(out) + 1;
    }
    reader_close(z);

    if (decomp_open(reader_mem_new(data, size), &lim, &z, NULL, &d) != 0)
        abort(); /* detection must not depend on anything but the bytes */
    struct layer_contents lc;
    layer_contents_init(&lc);
    layer_collect(z, NULL, NULL, NULL, &lc, &d);
    layer_contents_release(&lc);
    reader_close(z);
    return 0;
}
