/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming decompression of layer blobs: gzip (ISA-L igzip inflate), zstd (libzstd) or none,
 * detected from the magic bytes (the media type is only a hint). Guards against bombs. */
#ifndef VIGIL_IMAGE_DECOMP_H
#define VIGIL_IMAGE_DECOMP_H

#include <stdint.h>

#include "base/reader.h"

enum compression { COMP_NONE = 0, COMP_GZIP = 1, COMP_ZSTD = 2 };

struct decomp_limits {
    uint64_t max_output; /* total uncompressed bytes allowed (0 = default 16 GiB) */
    uint32_t max_ratio;  /* output may exceed input * max_ratio only below 64 MiB
                          * (0 = default 1000) */
};

/* Wrap `inner` (ownership taken, closed with the result) in a decompressing reader. Reads
 * fail with -ERR_CORRUPT (bad data), -ERR_TRUNCATED (stream ends mid-member) or -ERR_TOO_BIG
 * (a limit), with a message in the reader's diag. *kind tells what was detected.
 *
 * Detection reads the first bytes: 1f 8b = gzip, 28 b5 2f fd = zstd, a block with a valid tar
 * header checksum (or all zeros) = uncompressed; an empty stream is an empty uncompressed
 * stream; anything else fails here with -ERR_UNSUPPORTED "not a tar, gzip or zstd stream".
 * On any failure of decomp_open() itself inner is closed too; an error from inner while
 * detecting is returned with inner's message in d.
 * - gzip: any number of members; CRC-32 and length are checked; zero bytes after the last
 *   member are ignored (as gzip(1) does), any other trailing byte is -ERR_CORRUPT.
 * - zstd: concatenated and skippable frames; trailing garbage is -ERR_CORRUPT; frames whose
 *   window exceeds libzstd's default limit (128 MiB) are -ERR_TOO_BIG.
 * - Limits: output stops exactly at max_output; the -ERR_TOO_BIG comes with the next read,
 *   so a consumer sees which tar member crossed it. The ratio guard compares output with
 *   compressed bytes consumed so far.
 * - Errors of inner (I/O, -ERR_DIGEST from a verifying reader) pass through unchanged: same
 *   code, inner's message.
 * - Messages give the offset in the compressed stream. Errors are sticky.
 * Reads go straight into the caller's buffer (no intermediate copy): read in big chunks. */
int decomp_open(struct reader *inner, const struct decomp_limits *lim, struct reader **out,
                enum compression *kind, struct diag *d);
const char *compression_name(enum compression c);

#endif
