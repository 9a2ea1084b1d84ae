/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers private to src/deliver: UTF-8 validation, percent-encoding, random bytes,
 * and a small summary of a reply line for logs. */
#ifndef VIGIL_DELIVER_INTERNAL_H
#define VIGIL_DELIVER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/str.h"

/* Length of the valid UTF-8 prefix of s (shortest forms only, no surrogates, <= U+10FFFF).
 * s is valid UTF-8 when the result equals s.len. */
size_t dlv_utf8_valid_prefix(struct str s);
static inline bool dlv_utf8_valid(struct str s)
{
    return dlv_utf8_valid_prefix(s) == s.len;
}
/* Length of the UTF-8 sequence starting with byte c (1 for ASCII and for invalid bytes). */
size_t dlv_utf8_seq_len(unsigned char c);
/* Percent-encode for a URL query value: ALPHA DIGIT - . _ ~ : @ stay, all else is %XX
 * (upper-case hex). 0 or -ERR_TOO_BIG. */
int dlv_pct_encode(struct buf *out, struct str s);
/* Decode %XX escapes (a '+' stays a '+'). -ERR_INVALID on a bad escape or a NUL byte. */
int dlv_pct_decode(struct buf *out, struct str s);
/* n bytes from the kernel's random source (getrandom); aborts if it is unavailable. */
void dlv_random(void *p, size_t n);
/* Copy s into dst[cap] as one printable line: controls become spaces, the end is trimmed,
 * long text is cut (with "..."). dst is always NUL-terminated. */
void dlv_summary(char *dst, size_t cap, struct str s);

#endif
