/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the model-pattern matcher. Input "pattern\0subject" compiles an arbitrary
 * pattern and runs it; input without NUL matches the subject against every model pattern.
 * Checks that nothing crashes or hangs and that matching is deterministic. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/awsproto_internal.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    const char *s = (const char *)data;
    const char *nul = memchr(s, '\0', size);
    if (!nul) {
        for (size_t i = 0; i < aws_pattern_count(); i++) {
            const struct aws_regex *re = aws_pattern_regex((int)i);
            bool a = aws_regex_match(re, s, size);
            BUG_ON(a != aws_regex_match(re, s, size));
            /* a subject that is not UTF-8 never matches */
            BUG_ON(a && !aws_utf8_valid(s, size));
        }
        return 0;
    }
    struct aws_regex *re;
    struct diag d = { 0 };
    if (aws_regex_compile(s, &re, &d) != 0) {
        BUG_ON(d.msg[0] == '\0');
        return 0;
    }
    const char *subject = nul + 1;
    size_t len = size - (size_t)(subject - s);
    bool a = aws_regex_match(re, subject, len);
    BUG_ON(a != aws_regex_match(re, subject, len));
    aws_regex_free(re);
    return 0;
}
