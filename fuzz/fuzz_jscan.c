/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the event scanner. Skips the input as one JSON value, unescapes every string it
 * can find, and walks it as an event against a fixed rule set naming many paths; nothing may
 * read outside the input and a walk must agree with the skip about well-formedness. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "events/jscan.h"
#include "events/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const rules[] = {
    "{\"a\":[\"x\",1,null,true,{\"prefix\":\"p\"},{\"numeric\":[\">\",0]}]}",
    "{\"a\":{\"b\":[{\"exists\":true}],\"c\":[{\"exists\":false}]}}",
    "{\"a.b\":[{\"anything-but\":[\"q\"]}],\"d\":[{\"wildcard\":\"*x*\"}]}",
    "{\"$or\":[{\"e\":[{\"cidr\":\"10.0.0.0/8\"}]},{\"e\":[{\"equals-ignore-case\":\"AbC\"}]}]}",
    "{\"f\":{\"g\":{\"h\":[{\"suffix\":\"z\"},{\"anything-but\":{\"prefix\":\"y\"}}]}}}",
};

static struct pattern_set *set;
static struct pattern_scratch *scr;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    if (!set) {
        set = pattern_set_new();
        for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
            char id[8] = { 'r', (char)('0' + i), 0 };
            BUG_ON(pattern_set_add(set, id, rules[i], strlen(rules[i]), NULL) != 0);
        }
        BUG_ON(pattern_set_build(set) != 0);
        scr = pattern_scratch_new();
    }
    /* an exact-size copy so reads past the end are caught */
    char *buf = xmalloc(size ? size : 1);
    memcpy(buf, data, size);
    const char *end = buf + size;
    const char *p = jscan_ws(buf, end);
    const char *q = p < end ? jscan_skip(p, end, 0) : NULL;
    BUG_ON(q && (q < p || q > end));
    /* every string body: unescaping never grows it */
    char *out = xmalloc(size ? size : 1);
    for (const char *s = buf; s < end; s++) {
        if (*s != '"')
            continue;
        bool esc;
        const char *e = jscan_string_end(s + 1, end, &esc);
        if (!e)
            break;
        long n = jscan_unescape(s + 1, (size_t)(e - s - 1), out);
        BUG_ON(n > (long)(e - s - 1));
        s = e;
    }
    free(out);
    int rc = pattern_set_match(set, scr, buf, size, NULL, NULL);
    BUG_ON(rc > (int)ARRAY_SIZE(rules));
    /* a well-formed object (nothing after it) is never refused; jscan_skip does not look inside
     * escapes, the walk does for the strings it keeps, so only escape-free input counts */
    if (p < end && *p == '{' && q && jscan_ws(q, end) == end && !memchr(buf, '\\', size))
        BUG_ON(rc < 0);
    free(buf);
    return 0;
}
