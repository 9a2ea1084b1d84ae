/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: event patterns. The input is a pattern and an event separated by a NUL byte.
 * Checks that compiling and validating agree, that a refusal always carries EventBridge's
 * message, and that a one-rule set matches exactly as the single-pattern test does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "events/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PREFIX "Event pattern is not valid. Reason: "

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t plen = nul ? (size_t)(nul - text) : size;
    const char *ev = nul ? nul + 1 : "{}";
    size_t elen = nul ? size - plen - 1 : 2;

    struct pattern *p = NULL;
    struct diag d = { 0 };
    int rc = pattern_compile(text, plen, &p, &d);
    char *msg = NULL;
    int vrc = pattern_validate(text, plen, &msg);
    BUG_ON(rc != vrc);
    if (rc != 0) {
        BUG_ON(rc != -ERR_INVALID);
        BUG_ON(strncmp(d.msg, PREFIX, strlen(PREFIX)) != 0);
        BUG_ON(!msg || strncmp(msg, d.msg, strlen(PREFIX)) != 0);
        free(msg);
        return 0;
    }
    BUG_ON(msg != NULL);
    bool single = false;
    int mrc = pattern_match(p, ev, elen, &single);

    struct pattern_set *s = pattern_set_new();
    BUG_ON(pattern_set_add(s, "r", text, plen, NULL) != 0);
    BUG_ON(pattern_set_build(s) != 0);
    struct pattern_scratch *m = pattern_scratch_new();
    int n = pattern_set_match(s, m, ev, elen, NULL, NULL);
    if (mrc == 0)
        BUG_ON(n != (single ? 1 : 0));
    else
        BUG_ON(n != mrc);
    /* the scratch is reusable */
    BUG_ON(pattern_set_match(s, m, ev, elen, NULL, NULL) != n);
    pattern_scratch_free(m);
    pattern_set_free(s);
    pattern_free(p);
    return 0;
}
