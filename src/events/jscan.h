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
#include <stdint.h>

/* Deepest nesting jscan_skip accepts. */
#define JSCAN_MAX_DEPTH 256

static inline const char *jscan_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* Value of one hexadecimal digit, or -1 when c is not one. */
static inline int jscan_hexv(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hexadecimal digits at p (the caller checked that four bytes are there) into *v: 0, or -1
 * when one is not a hex digit. */
static inline int jscan_hex4(const char *p, uint32_t *v)
{
    uint32_t x = 0;
    for (int i = 0; i < 4; i++) {
        int h = jscan_hexv(p[i]);
        if (h < 0)
            return -1;
        x = x * 16 + (uint32_t)h;
    }
    *v = x;
    return 0;
}

/* The byte a one-character JSON escape (the character after the backslash) stands for, or -1
 * when e is not one (\u is not: it takes hex digits). */
static inline int jscan_escape_char(char e)
{
    switch (e) {
    case '"':
    case '\\':
    case '/':
        return e;
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return -1;
    }
}

/* After a \u escape decoded to v with p just past its hex digits and n bytes left: when v is a
 * high surrogate and p holds a "\uXXXX" low surrogate, store the combined code point in *v and
 * return 6 (the bytes consumed); otherwise return 0 and leave *v alone (a lone surrogate is
 * kept as it is). */
static inline size_t jscan_surrogate_pair(const char *p, size_t n, uint32_t *v)
{
    uint32_t lo;
    if (*v >= 0xd800 && *v < 0xdc00 && n >= 6 && p[0] == '\\' && p[1] == 'u' &&
        jscan_hex4(p + 2, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
        *v = 0x10000 + ((*v - 0xd800) << 10) + (lo - 0xdc00);
        return 6;
    }
    return 0;
}

/* Write code point v (at most 0x10ffff) to out as UTF-8; returns the bytes written (1-4). */
static inline size_t jscan_put_utf8(uint32_t v, char *out)
{
    if (v < 0x80) {
        out[0] = (char)v;
        return 1;
    }
    if (v < 0x800) {
        out[0] = (char)(0xc0 | (v >> 6));
        out[1] = (char)(0x80 | (v & 0x3f));
        return 2;
    }
    if (v < 0x10000) {
        out[0] = (char)(0xe0 | (v >> 12));
        out[1] = (char)(0x80 | ((v >> 6) & 0x3f));
        out[2] = (char)(0x80 | (v & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (v >> 18));
    out[1] = (char)(0x80 | ((v >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((v >> 6) & 0x3f));
    out[3] = (char)(0x80 | (v & 0x3f));
    return 4;
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
