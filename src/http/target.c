/* SPDX-License-Identifier: Apache-2.0 */
/* Request-target parsing: path and query decoding, and escaping for the access log. */
#include "target.h"

#include <string.h>

#include "base/err.h"

static int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode s[0..n) into the arena. Path mode: a bad or NUL escape fails (NULL). Query mode:
 * '+' is a space and a bad or NUL escape is copied as sent. */
static char *decode(struct arena *a, const char *s, size_t n, bool query)
{
    char *out = arena_alloc(a, n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < n ? hex_val(s[i + 1]) : -1;
            int lo = i + 2 < n ? hex_val(s[i + 2]) : -1;
            if (hi >= 0 && lo >= 0 && (hi | lo) != 0) {
                out[j++] = (char)(hi << 4 | lo);
                i += 2;
                continue;
            }
            if (!query)
                return NULL;
        } else if (c == '+' && query) {
            c = ' ';
        }
        out[j++] = c;
    }
    out[j] = '\0';
    return out;
}

int http_target_parse(struct arena *a, const char *raw, size_t len, struct http_req *req)
{
    req->path = "/";
    req->raw_query = "";
    if (len > HTTP_TARGET_MAX)
        return -ERR_TOO_BIG;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c <= 0x20 || c == 0x7f)
            return -ERR_INVALID;
    }
    const char *q = memchr(raw, '?', len);
    size_t plen = q ? (size_t)(q - raw) : len;
    if (q) {
        req->raw_query = arena_strndup(a, q + 1, len - plen - 1);
    }
    if (plen == 0 || raw[0] != '/')
        return -ERR_INVALID;
    char *path = decode(a, raw, plen, false);
    if (!path)
        return -ERR_INVALID;
    req->path = path;

    const char *s = req->raw_query, *end = s + strlen(s);
    unsigned nargs = 0;
    while (s < end) {
        const char *amp = memchr(s, '&', (size_t)(end - s));
        const char *stop = amp ? amp : end;
        if (stop > s) {
            if (++nargs > HTTP_QUERY_ARGS_MAX)
                return -ERR_TOO_BIG;
            const char *eq = memchr(s, '=', (size_t)(stop - s));
            const char *nend = eq ? eq : stop;
            struct http_kv kv;
            kv.name = decode(a, s, (size_t)(nend - s), true);
            kv.value = eq ? decode(a, eq + 1, (size_t)(stop - eq - 1), true) : "";
            VEC_PUSH(&req->query, kv);
        }
        s = amp ? amp + 1 : end;
    }
    return 0;
}

char *http_log_escape(const char *s, size_t len, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    if (cap < 4) {
        if (cap)
            out[0] = '\0';
        return out;
    }
    size_t j = 0, room = cap - 4; /* keep space for "..." and the NUL */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool plain = c > 0x20 && c < 0x7f && c != '"' && c != '\\';
        if (j + (plain ? 1 : 3) > room) {
            memcpy(out + j, "...", 3);
            j += 3;
            break;
        }
        if (plain) {
            out[j++] = (char)c;
        } else {
            out[j++] = '%';
            out[j++] = hex[c >> 4];
            out[j++] = hex[c & 15];
        }
    }
    out[j] = '\0';
    return out;
}
