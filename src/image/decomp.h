/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming decompression of layer blobs: gzip (ISA-L igzip inflate), zstd (libzstd) or none,
 * detected from the magic bytes (the media type is only a hint). Guards against bombs. */
#ifndef VIGIL_IMAGE_DECOMP_H
#define VIGIL_IMAGE_DECOMP_H

#include <stdint.h>

#include "base/reader.h"

enum compression { COMP_NONE = 0, COMP_GZIP = 1, COMP_ZSTD = 2 };

struct decomp_limits {
    uint64_t max_output;     /* total uncompressed bytes allowed (0 = default 16 GiB) */
    uint32_t max_ratio;      /* output may exceed input * max_ratio only below 64 MiB
                              * (0 = default 1000) */
};

/* Wrap `inner` (ownership taken, closed with the result) in a decompressing reader. Reads
 * fail with -ERR_CORRUPT (bad data), -ERR_TRUNCATED (stream ends mid-member) or -ERR_TOO_BIG
 * (a limit), with a message in the reader's diag. *kind tells what was detected. */
int decomp_open(struct reader *inner, const struct decomp_limits *lim, struct reader **out,
                enum compression *kind, struct diag *d);
const char *compression_name(enum compression c);

#endif
