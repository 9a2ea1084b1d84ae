/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 encoding and strict decoding over the standard and URL-safe alphabets. */
#include "b64.h"

#include <stdint.h>

#include "err.h"

static const char b64_std_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t b64_encoded_len(size_t n, enum b64_variant v)
{
    size_t full = n / 3 * 4;
    size_t rest = n % 3;
    if (rest == 0)
        return full;
    return full + (v == B64_STD ? 4 : rest + 1);
}

size_t b64_decoded_max(size_t len)
{
    return len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
}

int b64_encode(const void *p, size_t n, enum b64_variant v, struct buf *out)
{
    const char *tab = v == B64_URL ? b64_url_chars : b64_std_chars;
    const unsigned char *s = p;
    if (n > (SIZE_MAX - 4) / 4 * 3)
        return -ERR_TOO_BIG;
    size_t want = b64_encoded_len(n, v);
    int rc = buf_reserve(out, want);
    if (rc < 0)
        return rc;
    char *d = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t w = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *d++ = tab[w >> 18];
        *d++ = tab[(w >> 12) & 63];
        *d++ = tab[(w >> 6) & 63];
        *d++ = tab[w & 63];
    }
    if (n - i == 1) {
        uint32_t w = (uint32_t)s[i] << 16;
        *d++ = tab[w >> 18];
        *d++ = tab[(w >> 12) & 63];
        if (v == B64_STD) {
            *d++ = '=';
            *d++ = '=';
        }
    } else if (n - i == 2) {
        uint32_t w = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *d++ = tab[w >> 18];
        *d++ = tab[(w >> 12) & 63];
        *d++ = tab[(w >> 6) & 63];
        if (v == B64_STD)
            *d++ = '=';
    }
    out->len += want;
    out->data[out->len] = '\0';
    return 0;
}

/* Value of one character in the variant's alphabet, or -1. */
static int b64_value(unsigned char c, enum b64_variant v)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (v == B64_STD)
        return c == '+' ? 62 : c == '/' ? 63 : -1;
    return c == '-' ? 62 : c == '_' ? 63 : -1;
}

int b64_decode(struct str in, enum b64_variant v, struct buf *out)
{
    size_t len = in.len;
    const unsigned char *s = (const unsigned char *)in.ptr;

    /* Strip the padding of the standard form; it must make the length a multiple of 4. */
    if (v == B64_STD) {
        if (len % 4 != 0)
            return -ERR_CORRUPT;
        size_t pad = 0;
        while (pad < 2 && len > pad && s[len - 1 - pad] == '=')
            pad++;
        len -= pad; /* "xx==" leaves 2 characters, "xxx=" 3: both decodable */
    }
    /* A final group of one character cannot encode a byte. */
    if (len % 4 == 1)
        return -ERR_CORRUPT;

    size_t n = b64_decoded_max(len);
    int rc = buf_reserve(out, n);
    if (rc < 0)
        return rc;
    unsigned char *d = (unsigned char *)out->data + out->len;
    uint32_t acc = 0;
    size_t i;
    for (i = 0; i < len; i++) {
        int x = b64_value(s[i], v);
        if (x < 0)
            goto corrupt;
        acc = acc << 6 | (uint32_t)x;
        if (i % 4 == 3) {
            *d++ = (unsigned char)(acc >> 16);
            *d++ = (unsigned char)(acc >> 8);
            *d++ = (unsigned char)acc;
            acc = 0;
        }
    }
    switch (len % 4) {
    case 2: /* 12 bits: one byte, 4 unused bits */
        if (acc & 0xf)
            goto corrupt;
        *d++ = (unsigned char)(acc >> 4);
        break;
    case 3: /* 18 bits: two bytes, 2 unused bits */
        if (acc & 0x3)
            goto corrupt;
        *d++ = (unsigned char)(acc >> 10);
        *d++ = (unsigned char)(acc >> 2);
        break;
    default:
        break;
    }
    out->len += n;
    out->data[out->len] = '\0';
    return 0;

corrupt:
    /* Bytes may have been written past len: restore the terminator. */
    out->data[out->len] = '\0';
    return -ERR_CORRUPT;
}
