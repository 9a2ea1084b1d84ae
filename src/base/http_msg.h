/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP requests and responses as the protocol modules (registry/, api/) see them, with no
 * server-library type in sight. src/http/ fills a struct http_req from libmicrohttpd, drives a
 * struct http_handler, and sends what the handler put in the struct http_resp. */
#ifndef VIGIL_BASE_HTTP_MSG_H
#define VIGIL_BASE_HTTP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/vec.h"

enum http_method {
    HTTP_GET = 1 << 0,
    HTTP_HEAD = 1 << 1,
    HTTP_POST = 1 << 2,
    HTTP_PUT = 1 << 3,
    HTTP_PATCH = 1 << 4,
    HTTP_DELETE = 1 << 5,
    HTTP_OPTIONS = 1 << 6,
    HTTP_OTHER = 1 << 7,
};

struct http_kv {
    const char *name;
    const char *value;
};

struct http_req {
    enum http_method method;
    const char *method_str; /* as sent ("GET") */
    const char *path;       /* percent-decoded path, starts with '/' */
    const char *raw_query;  /* the query string as sent, without '?'; "" when none */
    const char *remote;     /* peer address ("127.0.0.1:53122") */
    const char *route;      /* name of the route that took the request (for metrics) */
    uint64_t content_length;
    bool has_content_length;
    bool chunked; /* Transfer-Encoding: chunked */

    /* All request headers in arrival order (names as sent; compare case-insensitively) and the
     * query arguments percent-decoded, both in the arena. */
    VEC(struct http_kv) headers;
    VEC(struct http_kv) query;

    /* Freed when the request ends; everything a handler allocates per request goes here. */
    struct arena *arena;

    /* Body handling, chosen by the handler's begin(): by default the body is buffered into
     * `body` up to `body_max` bytes (default 1 MiB); a larger body makes the adapter stop
     * reading and call end() with body_err = -ERR_TOO_BIG. With `stream` set, the adapter calls
     * body() for each chunk instead and `body` stays empty. */
    bool stream;
    size_t body_max;
    struct buf body;
    int body_err;        /* 0, -ERR_TOO_BIG, or the error a body() call returned */
    uint64_t body_bytes; /* bytes of body read so far */

    /* Per-request state of the handler; the adapter never touches it. */
    void *state;
    /* Authenticated identity a handler may record for the access log; NULL = anonymous. */
    const char *principal;
};

struct http_resp {
    int status;                  /* 0 until the handler decides */
    VEC(struct http_kv) headers; /* strings in the request arena */
    struct buf body;             /* in-memory body (max set by the adapter) */
    /* File body: when fd >= 0 the adapter sends fd_len bytes from fd_off (sendfile where it
     * can) instead of `body`, and closes fd. For HEAD the adapter sends the headers with
     * Content-Length = fd_len (or body.len) and no body. */
    int fd;
    uint64_t fd_off, fd_len;
    /* Close the connection after this response (set on errors before the body was read). */
    bool close;
};

/* A handler for one route. The adapter calls, on one thread per request at a time:
 *   begin()  once the headers are in. To answer at once, set resp->status (the body, if any, is
 *            then not read and the connection is closed when one was announced). Otherwise set
 *            req->stream / req->body_max as needed and leave resp->status 0.
 *   body()   streaming mode only: each body chunk in order. Return 0, or a negative code to stop
 *            reading (the adapter records it in req->body_err and calls end()).
 *   end()    the whole body was read (or reading stopped: req->body_err != 0): fill resp.
 *   abort()  the request ended without end() (client gone, timeout, shutdown): release
 *            req->state. May be NULL when the handler keeps no state.
 * begin() and end() must set resp->status (a 0 status becomes a 500). */
struct http_handler {
    void *app;
    void (*begin)(void *app, struct http_req *req, struct http_resp *resp);
    int (*body)(void *app, struct http_req *req, const char *data, size_t len);
    void (*end)(void *app, struct http_req *req, struct http_resp *resp);
    void (*abort)(void *app, struct http_req *req);
};

/* First header of that name (ASCII case-insensitive), NULL when absent. */
const char *http_req_header(const struct http_req *req, const char *name);
/* First query argument of that name (case-sensitive, decoded), NULL when absent. */
const char *http_req_query(const struct http_req *req, const char *name);
/* Add a response header; name and value are copied into the request arena. */
void http_resp_header(struct http_req *req, struct http_resp *resp, const char *name,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Set status, Content-Type (copied, may be NULL) and an in-memory body (copied) in one call. */
void http_resp_set(struct http_req *req, struct http_resp *resp, int status,
                   const char *content_type, const void *body, size_t len);
/* Text of a method bit ("GET"). */
const char *http_method_name(enum http_method m);

#endif
