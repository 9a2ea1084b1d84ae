/* SPDX-License-Identifier: Apache-2.0 */
/* The request-target as sent on the request line ("/v2/x/tags/list?n=10&last=a%2Fb"), split
 * into the decoded path, the raw query (kept byte-exact for SigV4 canonical requests) and the
 * decoded query arguments. The server adapter decodes here rather than trusting the library. */
#ifndef VIGIL_HTTP_TARGET_H
#define VIGIL_HTTP_TARGET_H

#include <stddef.h>

#include "base/arena.h"
#include "base/http_msg.h"

/* Longest request-target accepted (the connection memory limit usually stops it earlier). */
#define HTTP_TARGET_MAX ((size_t)64 << 10)
/* Most query arguments in one request. */
#define HTTP_QUERY_ARGS_MAX 256

/* Parse raw[0..len) (origin-form: starts with '/') into req->path, req->raw_query (without
 * '?', "" when none) and req->query (appended in order; a name without '=' gets the value
 * ""). All strings go to arena a; req->query's storage is the caller's to VEC_FREE.
 * Decoding: %XX in the path (a NUL or a malformed escape is an error); %XX and '+' (space) in
 * query names and values, where a malformed or NUL escape is kept as sent.
 * Returns 0, -ERR_INVALID (not origin-form, a control byte, space or DEL anywhere, a bad
 * escape in the path) or -ERR_TOO_BIG (longer than HTTP_TARGET_MAX, more than
 * HTTP_QUERY_ARGS_MAX arguments). On error req->path and req->raw_query are still set, to
 * "/" and "" at worst, so the request can be logged. */
int http_target_parse(struct arena *a, const char *raw, size_t len, struct http_req *req);

/* Copy s[0..len) to out (capacity cap, including the NUL) with every byte outside printable
 * ASCII, and space, '"' and '\\', written as %XX, so that a log line cannot be forged or
 * broken by what a client sent; cut short with "..." when it does not fit. Returns out. */
char *http_log_escape(const char *s, size_t len, char *out, size_t cap);

#endif
