/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: request-target parsing (path and query decoding) and the access-log escaping.
 * Checks the parse results against the input and that escaped text is always log-safe. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/xalloc.h"
#include "http/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > HTTP_TARGET_MAX + 16)
        return 0;
    /* the server passes a NUL-terminated copy of the request line's target */
    char *raw = xmalloc(size + 1);
    memcpy(raw, data, size);
    raw[size] = '\0';
    struct arena a;
    arena_init(&a);
    struct http_req req = { .arena = &a };
    int rc = http_target_parse(&a, raw, size, &req);
    BUG_ON(!req.path || !req.raw_query);
    if (rc == 0) {
        BUG_ON(req.path[0] != '/');
        BUG_ON(req.query.n > HTTP_QUERY_ARGS_MAX);
        const char *q = memchr(raw, '?', size);
        if (q) {
            BUG_ON(strlen(req.raw_query) != size - (size_t)(q - raw) - 1);
            BUG_ON(memcmp(req.raw_query, q + 1, strlen(req.raw_query)) != 0);
        } else {
            BUG_ON(req.raw_query[0] != '\0' || req.query.n != 0);
        }
        /* decoding never lengthens */
        BUG_ON(strlen(req.path) > (q ? (size_t)(q - raw) : size));
        for (size_t i = 0; i < req.query.n; i++)
            BUG_ON(!req.query.v[i].name || !req.query.v[i].value);
    } else {
        BUG_ON(rc != -ERR_INVALID && rc != -ERR_TOO_BIG);
    }
    VEC_FREE(&req.query);
    arena_release(&a);

    char out[64];
    http_log_escape(raw, size, out, sizeof(out));
    size_t n = strlen(out);
    BUG_ON(n >= sizeof(out));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        BUG_ON(c <= 0x20 || c >= 0x7f || c == '"' || c == '\\');
    }
    free(raw);
    return 0;
}
