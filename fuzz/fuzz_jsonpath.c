/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the JSONPath subset and the compact writer: the input is "PATH\0DOCUMENT". A path that
 * compiles is evaluated over the document; whatever it selects must print as JSON that reads
 * back equal to it (the writer's reals round-trip, its strings escape what they must). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "events/jsonpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const json_t *v)
{
    struct buf b;
    buf_init(&b, 1 << 22);
    if (jsonpath_dump(v, &b) != 0)
        abort();
    json_t *back = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!back || !json_equal(back, v))
        abort();
    json_decref(back);
    buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1 << 16))
        return 0;
    const char *s = (const char *)data;
    const char *nul = memchr(s, '\0', size);
    size_t path_len = nul ? (size_t)(nul - s) : size;
    struct jsonpath *p = NULL;
    struct diag d = { 0 };
    if (jsonpath_compile(str_make(s, path_len), &p, &d) != 0) {
        if (p || d.msg[0] == '\0')
            abort();
        return 0;
    }
    json_t *doc = NULL;
    if (nul)
        doc = json_loadb(nul + 1, size - path_len - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (doc) {
        roundtrip(doc);
        json_t *v = jsonpath_eval(p, doc);
        if (v) {
            if (!jsonpath_is_definite(p) && (!json_is_array(v) || json_array_size(v) == 0))
                abort(); /* wildcard results come as a non-empty array */
            roundtrip(v);
            json_decref(v);
        }
        json_decref(doc);
    }
    jsonpath_free(p);
    return 0;
}
