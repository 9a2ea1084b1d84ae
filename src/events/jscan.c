/* SPDX-License-Identifier: Apache-2.0 */
/* jscan: allocation-free JSON walking primitives (see jscan.h). Strings are searched sixteen
 * (SSE2) or eight bytes at a time for a quote or a backslash. */
#include "events/jscan.h"

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static inline uint64_t has_zero(uint64_t v)
{
    return (v - ONES) & ~v & HIGHS;
}

const char *jscan_string_end(const char *p, const char *end, bool *has_esc)
{
    bool esc = false;
    for (;;) {
#if defined(__SSE2__)
        /* sixteen bytes at a time: a quote or a backslash ends the run */
        const __m128i q = _mm_set1_epi8('"'), b = _mm_set1_epi8('\\');
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            unsigned mask = (unsigned)_mm_movemask_epi8(
                _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)));
            if (mask) {
                p += __builtin_ctz(mask);
                goto found;
            }
            p += 16;
        }
#endif
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            uint64_t m = has_zero(w ^ (ONES * '"')) | has_zero(w ^ (ONES * '\\'));
            if (m) {
                p += __builtin_ctzll(m) / 8;
                break;
            }
            p += 8;
        }
        while (p < end && *p != '"' && *p != '\\')
            p++;
#if defined(__SSE2__)
    found:
#endif
        if (p >= end)
            return NULL;
        if (*p == '"') {
            *has_esc = esc;
            return p;
        }
        /* a backslash escapes the next byte (\u's hex digits need no special care here) */
        esc = true;
        p += 2;
        if (p > end)
            return NULL;
    }
}

long jscan_unescape(const char *p, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        if (p[i] != '\\') {
            out[k++] = p[i++];
            continue;
        }
        if (i + 1 >= n)
            return -1;
        char e = p[i + 1];
        i += 2;
        int ch = jscan_escape_char(e);
        if (ch >= 0) {
            out[k++] = (char)ch;
            continue;
        }
        if (e != 'u')
            return -1;
        uint32_t v;
        if (i + 4 > n || jscan_hex4(p + i, &v) != 0)
            return -1;
        i += 4;
        i += jscan_surrogate_pair(p + i, n - i, &v);
        /* "\uXXXX" is six bytes and yields at most three; a pair is twelve for four */
        k += jscan_put_utf8(v, out + k);
    }
    return (long)k;
}

const char *jscan_number_end(const char *p, const char *end)
{
    if (p < end && *p == '-')
        p++;
    if (p >= end || *p < '0' || *p > '9')
        return NULL;
    if (*p == '0') {
        p++;
    } else {
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || *p < '0' || *p > '9')
            return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

static const char *skip_literal(const char *p, const char *end, const char *word, size_t n)
{
    if ((size_t)(end - p) < n || memcmp(p, word, n) != 0)
        return NULL;
    return p + n;
}

const char *jscan_skip(const char *p, const char *end, int depth)
{
    /* containers are walked with an explicit stack of expected closers */
    char stack[JSCAN_MAX_DEPTH];
    int sp = 0;
    bool has_esc;
    for (;;) {
        p = jscan_ws(p, end);
        if (p >= end)
            return NULL;
        /* one value at p */
        switch (*p) {
        case '"':
            p = jscan_string_end(p + 1, end, &has_esc);
            if (!p)
                return NULL;
            p++;
            break;
        case '{':
        case '[':
            if (depth + sp >= JSCAN_MAX_DEPTH)
                return NULL;
            stack[sp++] = *p == '{' ? '}' : ']';
            p = jscan_ws(p + 1, end);
            if (p < end && *p == stack[sp - 1]) {
                sp--;
                p++;
                break;
            }
            if (stack[sp - 1] == '}') {
                /* a key and its colon, then the value */
                if (p >= end || *p != '"')
                    return NULL;
                p = jscan_string_end(p + 1, end, &has_esc);
                if (!p)
                    return NULL;
                p = jscan_ws(p + 1, end);
                if (p >= end || *p != ':')
                    return NULL;
                p++;
            }
            continue;
        case 't':
            p = skip_literal(p, end, "true", 4);
            break;
        case 'f':
            p = skip_literal(p, end, "false", 5);
            break;
        case 'n':
            p = skip_literal(p, end, "null", 4);
            break;
        default:
            p = jscan_number_end(p, end);
            break;
        }
        if (!p)
            return NULL;
        /* after a value: close containers or move to the next member */
        for (;;) {
            if (sp == 0)
                return p;
            p = jscan_ws(p, end);
            if (p >= end)
                return NULL;
            if (*p == stack[sp - 1]) {
                sp--;
                p++;
                continue;
            }
            if (*p != ',')
                return NULL;
            p = jscan_ws(p + 1, end);
            if (stack[sp - 1] == '}') {
                if (p >= end || *p != '"')
                    return NULL;
                p = jscan_string_end(p + 1, end, &has_esc);
                if (!p)
                    return NULL;
                p = jscan_ws(p + 1, end);
                if (p >= end || *p != ':')
                    return NULL;
                p++;
            }
            break;
        }
    }
}
