/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: SNS subscription filter policies. Input: one byte picking the scope and the
 * attribute types, the policy text, a NUL, then the message body / attribute values separated
 * by 0x01. A policy the check accepts must compile for matching; a refused one must carry
 * SNS's "Invalid parameter: FilterPolicy: " message; "no policy" lets everything pass. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "deliver/sns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > ((size_t)64 << 10))
        return 0;
    uint8_t sel = data[0];
    enum sns_filter_scope scope = sel & 1 ? SNS_SCOPE_BODY : SNS_SCOPE_ATTRIBUTES;
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    const char *nul = memchr(rest, '\0', n);
    size_t plen = nul ? (size_t)(nul - rest) : n;
    struct str policy = str_make(rest, plen);
    /* the payload, NUL-terminated, split into up to three attribute values */
    size_t mlen = nul ? n - plen - 1 : 0;
    char *msg = xstrndup(nul ? nul + 1 : "", mlen);
    static const char *const types[] = { "String", "Number", "String.Array", "Binary" };
    static const char *const names[] = { "a", "b", "c" };
    struct sns_msg_attr attrs[3];
    size_t na = 0;
    char *vals = xstrdup(msg);
    char *cur = vals;
    while (na < 3 && cur) {
        char *sep = strchr(cur, '\x01');
        if (sep)
            *sep = '\0';
        const char *type = types[(sel >> (1 + 2 * na)) & 3];
        bool binary = strcmp(type, "Binary") == 0;
        attrs[na] =
            (struct sns_msg_attr){ names[na], type, binary ? NULL : cur, binary ? cur : NULL };
        na++;
        cur = sep ? sep + 1 : NULL;
    }

    struct diag d = { 0 };
    int rc = sns_filter_policy_check(policy, scope, &d);
    bool pass = false;
    int mrc = sns_filter_match(policy, scope, attrs, na, str_from(msg), &pass);
    if (rc == 0) {
        /* accepted policies always compile for matching */
        BUG_ON(mrc != 0);
    } else {
        BUG_ON(rc != -ERR_INVALID);
        BUG_ON(strncmp(d.msg, "Invalid parameter: FilterPolicy: ", 33) != 0);
    }
    if (plen == 0) {
        BUG_ON(rc != 0 || mrc != 0 || !pass);
    }
    free(vals);
    free(msg);
    return 0;
}
