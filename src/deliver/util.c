/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by the delivery code: base64 (OpenSSL's block encoder), UTF-8
 * validation, query percent-encoding, kernel randomness, the curl one-time init. */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include "base/err.h"
#include "base/xalloc.h"
#include "deliver/deliver.h"
#include "deliver/internal.h"

const char *deliver_outcome_name(enum deliver_outcome o)
{
    switch (o) {
    case DELIVER_OK:
        return "delivered";
    case DELIVER_RETRY:
        return "retry";
    case DELIVER_REJECTED:
        return "rejected";
    }
    return "unknown";
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void deliver_curl_init(void)
{
    pthread_once(&curl_once, curl_init_once);
}

size_t dlv_utf8_seq_len(unsigned char c)
{
    if (c >= 0xF0 && c <= 0xF4)
        return 4;
    if (c >= 0xE0 && c <= 0xEF)
        return 3;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    return 1;
}

size_t dlv_utf8_valid_prefix(struct str s)
{
    const unsigned char *p = (const unsigned char *)s.ptr;
    size_t i = 0;
    while (i < s.len) {
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n = dlv_utf8_seq_len(c);
        if (n == 1 || i + n > s.len)
            return i;
        unsigned char c1 = p[i + 1];
        /* second-byte ranges exclude overlong forms, surrogates and code points > U+10FFFF */
        unsigned char lo = 0x80, hi = 0xBF;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
        else if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
        if (c1 < lo || c1 > hi)
            return i;
        for (size_t k = 2; k < n; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return i;
        i += n;
    }
    return i;
}

int dlv_pct_encode(struct buf *out, struct str s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == '@';
        int err;
        if (keep) {
            err = buf_putc(out, (char)c);
        } else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            err = buf_append(out, e, 3);
        }
        if (err)
            return err;
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int dlv_pct_decode(struct buf *out, struct str s)
{
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (c == '%') {
            if (i + 2 >= s.len)
                return -ERR_INVALID;
            int h = hexval(s.ptr[i + 1]), l = hexval(s.ptr[i + 2]);
            if (h < 0 || l < 0)
                return -ERR_INVALID;
            c = (char)(h << 4 | l);
            i += 2;
        }
        if (c == '\0')
            return -ERR_INVALID;
        int err = buf_putc(out, c);
        if (err)
            return err;
    }
    return 0;
}

void dlv_random(void *p, size_t n)
{
    unsigned char *q = p;
    while (n > 0) {
        ssize_t got = getrandom(q, n, 0);
        if (got < 0 && errno == EINTR)
            continue;
        BUG_ON(got <= 0);
        q += got;
        n -= (size_t)got;
    }
}

void dlv_summary(char *dst, size_t cap, struct str s)
{
    BUG_ON(cap < 4);
    size_t n = 0;
    bool cut = false;
    for (size_t i = 0; i < s.len; i++) {
        if (n + 1 >= cap) {
            cut = true;
            break;
        }
        unsigned char c = (unsigned char)s.ptr[i];
        dst[n++] = (char)(c < 0x20 || c == 0x7f ? ' ' : c);
    }
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    if (cut) {
        n = n > cap - 4 ? cap - 4 : n;
        /* do not leave half a UTF-8 sequence before the ellipsis */
        while (n > 0 && ((unsigned char)dst[n] & 0xC0) == 0x80)
            n--;
        memcpy(dst + n, "...", 3);
        n += 3;
    }
    dst[n] = '\0';
}
