/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 (RFC 4648): the standard alphabet with '=' padding (HTTP Basic credentials, stored
 * password hashes) and the URL-safe alphabet without padding (tokens). Decoding is strict:
 * one canonical spelling per byte string, so a value can be compared as text. */
#ifndef VIGIL_BASE_B64_H
#define VIGIL_BASE_B64_H

#include <stddef.h>

#include "buf.h"
#include "str.h"

enum b64_variant {
    B64_STD, /* A-Z a-z 0-9 + /, padded with '=' to a multiple of 4 characters */
    B64_URL, /* A-Z a-z 0-9 - _, never padded */
};

/* Characters b64_encode() produces for n input bytes (without the NUL). */
size_t b64_encoded_len(size_t n, enum b64_variant v);
/* Largest number of bytes a text of `len` characters can decode to. */
size_t b64_decoded_max(size_t len);

/* Append the encoding of p[0..n) to *out. 0 or -ERR_TOO_BIG (nothing appended). */
int b64_encode(const void *p, size_t n, enum b64_variant v, struct buf *out);

/* Decode `in` and append the bytes to *out (binary; out stays NUL-terminated after them).
 * Strict: rejects characters outside the variant's alphabet (whitespace included), padding
 * that is missing (B64_STD) or present (B64_URL), a length that no encoding has, and unused
 * low bits that are not zero. Returns 0, -ERR_CORRUPT (nothing appended) or -ERR_TOO_BIG. */
int b64_decode(struct str in, enum b64_variant v, struct buf *out);

#endif
