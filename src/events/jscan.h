/* SPDX-License-Identifier: Apache-2.0 */
/* jscan: allocation-free primitives for walking JSON text once (the event side of pattern
 * matching): whitespace, strings (end and unescaping), numbers and skipping whole values. They
 * check structure (brackets, quotes, commas, colons, literals) but are lenient about control
 * characters inside strings. Every function takes the end of the buffer and never reads past
 * it. */
#ifndef VIGIL_EVENTS_JSCAN_H
#define VIGIL_EVENTS_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

/* Deepest nesting jscan_skip accepts. */
#define JSCAN_MAX_DEPTH 256

static inline const char *jscan_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* p points just after an opening quote: returns the closing quote, or NULL when the string is
 * not terminated. *has_esc tells whether a backslash occurs in it. */
const char *jscan_string_end(const char *p, const char *end, bool *has_esc);

/* Unescape the body of a JSON string (between the quotes) into out, which must hold n bytes
 * (unescaped text is never longer). Returns the length, or -1 on a bad escape. \u escapes
 * become UTF-8; a surrogate pair becomes one 4-byte character. */
long jscan_unescape(const char *p, size_t n, char *out);

/* p points at the first character of a number: returns the end of the number token, or NULL
 * when it is not a JSON number. */
const char *jscan_number_end(const char *p, const char *end);

/* p points at the first character of any value: returns the position after it, or NULL when
 * it is malformed or nests deeper than JSCAN_MAX_DEPTH - depth. */
const char *jscan_skip(const char *p, const char *end, int depth);

#endif
