/* SPDX-License-Identifier: Apache-2.0 */
/* The Range request header (RFC 9110 section 14.2) for byte ranges of a representation whose
 * size is known, as blob downloads need it. One range is served; anything else is ignored. */
#ifndef VIGIL_BASE_HTTP_RANGE_H
#define VIGIL_BASE_HTTP_RANGE_H

#include <stdint.h>

enum http_range_result {
    /* No Range, or one the server ignores (another unit, several ranges, bad syntax, too
     * long): answer 200 with the whole representation. */
    HTTP_RANGE_FULL = 0,
    /* Answer 206 with *len bytes from *off and
     * `Content-Range: bytes <off>-<off+len-1>/<size>`; *len >= 1. */
    HTTP_RANGE_PARTIAL = 1,
    /* The range starts at or past the end (or is "-0"): answer 416 with
     * `Content-Range: bytes * /<size>` (without the space). */
    HTTP_RANGE_UNSATISFIABLE = 2,
};

/* Longer header values are ignored (HTTP_RANGE_FULL). */
#define HTTP_RANGE_VALUE_MAX 4096

/* Interpret a Range header value (NULL = absent) against a representation of `size` bytes.
 * Accepted: `bytes=first-last`, `bytes=first-`, `bytes=-suffix` (the unit is case-insensitive,
 * blanks around the single range and empty list elements are allowed). A last position past
 * the end is clamped to size - 1; a suffix longer than the representation selects all of it.
 * Numbers too large for 64 bits count as "past the end". *off and *len are set only for
 * HTTP_RANGE_PARTIAL. Never fails. A zero-size representation is always sent whole, unless the
 * range is unsatisfiable. */
enum http_range_result http_parse_range(const char *value, uint64_t size, uint64_t *off,
                                        uint64_t *len);

#endif
