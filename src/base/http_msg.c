/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers over struct http_req / http_resp (header and query lookup, response building) and
 * the Range header parser. Nothing here knows the server library. */
#include "http_msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "http_range.h"
#include "log.h"

const char *http_req_header(const struct http_req *req, const char *name)
{
    for (size_t i = 0; i < req->headers.n; i++)
        if (strcasecmp(req->headers.v[i].name, name) == 0)
            return req->headers.v[i].value;
    return NULL;
}

const char *http_req_query(const struct http_req *req, const char *name)
{
    for (size_t i = 0; i < req->query.n; i++)
        if (strcmp(req->query.v[i].name, name) == 0)
            return req->query.v[i].value;
    return NULL;
}

void http_resp_header(struct http_req *req, struct http_resp *resp, const char *name,
                      const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    char *value;
    if (n < 0) {
        value = arena_strdup(req->arena, "");
    } else {
        value = arena_alloc(req->arena, (size_t)n + 1);
        vsnprintf(value, (size_t)n + 1, fmt, ap);
    }
    va_end(ap);
    struct http_kv kv = { arena_strdup(req->arena, name), value };
    VEC_PUSH(&resp->headers, kv);
}

void http_resp_set(struct http_req *req, struct http_resp *resp, int status,
                   const char *content_type, const void *body, size_t len)
{
    resp->status = status;
    if (content_type) {
        const char *ct = arena_strdup(req->arena, content_type);
        bool replaced = false;
        for (size_t i = 0; i < resp->headers.n && !replaced; i++) {
            if (strcasecmp(resp->headers.v[i].name, "Content-Type") == 0) {
                resp->headers.v[i].value = ct;
                replaced = true;
            }
        }
        if (!replaced) {
            struct http_kv kv = { "Content-Type", ct };
            VEC_PUSH(&resp->headers, kv);
        }
    }
    buf_reset(&resp->body);
    if (len && buf_append(&resp->body, body, len) != 0) {
        /* only a response larger than the adapter's cap gets here: a bug, not bad input */
        log_error("http", "response body of %zu bytes exceeds the limit of %zu", len,
                  resp->body.max);
        resp->status = 500;
        buf_reset(&resp->body);
    }
}

const char *http_method_name(enum http_method m)
{
    switch (m) {
    case HTTP_GET:
        return "GET";
    case HTTP_HEAD:
        return "HEAD";
    case HTTP_POST:
        return "POST";
    case HTTP_PUT:
        return "PUT";
    case HTTP_PATCH:
        return "PATCH";
    case HTTP_DELETE:
        return "DELETE";
    case HTTP_OPTIONS:
        return "OPTIONS";
    case HTTP_OTHER:
        break;
    }
    return "OTHER";
}

/* ---- Range ---- */

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* 1*DIGIT at *p; saturates at UINT64_MAX (a position that large is past any end). */
static bool parse_pos(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    bool sat = false;
    while (s < end && *s >= '0' && *s <= '9') {
        if (!sat && (__builtin_mul_overflow(v, 10u, &v) ||
                     __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v)))
            sat = true;
        s++;
    }
    if (s == *p)
        return false;
    *out = sat ? UINT64_MAX : v;
    *p = s;
    return true;
}

enum http_range_result http_parse_range(const char *value, uint64_t size, uint64_t *off,
                                        uint64_t *len)
{
    if (!value)
        return HTTP_RANGE_FULL;
    size_t n = strnlen(value, HTTP_RANGE_VALUE_MAX + 1);
    if (n > HTTP_RANGE_VALUE_MAX)
        return HTTP_RANGE_FULL;
    const char *p = value, *end = value + n;
    while (p < end && is_ows(*p))
        p++;
    if ((size_t)(end - p) < 6 || strncasecmp(p, "bytes=", 6) != 0)
        return HTTP_RANGE_FULL;
    p += 6;

    /* range-set = 1#range-spec; a list may hold empty elements (RFC 9110 5.6.1.2) */
    unsigned count = 0;
    bool suffix = false, has_last = false;
    uint64_t first = 0, last = 0;
    while (p < end) {
        while (p < end && is_ows(*p))
            p++;
        if (p == end)
            break;
        if (*p == ',') {
            p++;
            continue;
        }
        if (++count > 1)
            return HTTP_RANGE_FULL; /* several ranges: served whole, as RFC 9110 allows */
        if (*p == '-') {
            p++;
            suffix = true;
            if (!parse_pos(&p, end, &last))
                return HTTP_RANGE_FULL;
        } else {
            if (!parse_pos(&p, end, &first) || p == end || *p != '-')
                return HTTP_RANGE_FULL;
            p++;
            has_last = parse_pos(&p, end, &last);
        }
        while (p < end && is_ows(*p))
            p++;
        if (p < end && *p != ',')
            return HTTP_RANGE_FULL;
    }
    if (count == 0)
        return HTTP_RANGE_FULL;

    if (suffix) {
        if (last == 0)
            return HTTP_RANGE_UNSATISFIABLE;
        if (size == 0)
            return HTTP_RANGE_FULL;
        uint64_t take = last < size ? last : size;
        *off = size - take;
        *len = take;
        return HTTP_RANGE_PARTIAL;
    }
    if (has_last && last < first)
        return HTTP_RANGE_FULL; /* an invalid range-spec makes the header invalid */
    if (first >= size)
        return HTTP_RANGE_UNSATISFIABLE;
    if (!has_last || last >= size)
        last = size - 1;
    *off = first;
    *len = last - first + 1;
    return HTTP_RANGE_PARTIAL;
}
