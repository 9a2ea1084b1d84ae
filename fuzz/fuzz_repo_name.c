/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: repository names, tags and /v2/ request paths. The name check is compared with
 * a second, differently written reading of the distribution-spec regex, and a parsed path must
 * name a valid repository that parses back to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "registry/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)* read as: split into
 * runs of alphanumerics and runs of separators; every separator run sits between two
 * alphanumeric runs and is ".", "_", "__", "/" or only dashes. */
static bool oracle_name(const char *s, size_t n)
{
    if (n == 0 || n > REG_NAME_MAX)
        return false;
    size_t i = 0;
    bool need_alnum = true;
    while (i < n) {
        size_t j = i;
        bool alnum = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9');
        while (j < n && (((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= '0' && s[j] <= '9')) == alnum))
            j++;
        if (alnum) {
            need_alnum = false;
        } else {
            if (need_alnum)
                return false;
            size_t len = j - i;
            bool dashes = true;
            for (size_t k = i; k < j; k++)
                dashes = dashes && s[k] == '-';
            bool ok = dashes || (len == 1 && (s[i] == '.' || s[i] == '_' || s[i] == '/')) ||
                      (len == 2 && s[i] == '_' && s[i + 1] == '_');
            if (!ok)
                return false;
            need_alnum = true;
        }
        i = j;
    }
    return !need_alnum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    const char *s = (const char *)data;
    BUG_ON(reg_name_is_valid(s, size) != oracle_name(s, size));
    if (reg_tag_is_valid(s, size))
        BUG_ON(size > 128 || size == 0 || s[0] == '.' || s[0] == '-');

    struct reg_route rt;
    int rc = reg_route_parse(str_make(s, size), &rt);
    BUG_ON(rc != 0 && rc != -ERR_NOT_FOUND && rc != -ERR_INVALID);
    if (rc == 0 && rt.kind != REG_ROUTE_BASE && rt.kind != REG_ROUTE_CATALOG) {
        BUG_ON(!reg_name_is_valid(rt.name.ptr, rt.name.len));
        BUG_ON(rt.name.ptr < s || rt.name.ptr + rt.name.len > s + size);
        /* the same name in a tags path parses back to itself */
        char *p = xasprintf("/v2/%.*s/tags/list", (int)rt.name.len, rt.name.ptr);
        struct reg_route again;
        BUG_ON(reg_route_parse(str_from(p), &again) != 0);
        BUG_ON(again.kind != REG_ROUTE_TAGS || !str_eq(again.name, rt.name));
        free(p);
    }
    return 0;
}
