/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: maven_vercmp antisymmetry and reflexivity, maven_version_check. Not
 * transitivity: Maven's own ComparableVersion is not transitive on some odd strings
 * ("+" < "+.+02" < "+00rc" < "+", "3-0.0-m27" < "3.0" < "3.0.0-preview" < "3-0.0-m27")
 * and maven_vercmp follows it. Transitivity is checked only when all three versions are
 * digits and dots, where it holds. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_version_common.h"
#include "version/version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Digits and dots, starting with a digit. */
static bool plain(struct str v)
{
    if (!v.len || v.len > 64 || !(v.ptr[0] >= '0' && v.ptr[0] <= '9'))
        return false;
    for (size_t i = 0; i < v.len; i++) {
        char c = v.ptr[i];
        if (!((c >= '0' && c <= '9') || c == '.'))
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t i = fv_sep(data, size);
    struct str a = str_make((const char *)data, i);
    struct str b = str_make(i < size ? (const char *)data + i + 1 : (const char *)data + size,
                            i < size ? size - i - 1 : 0);
    size_t j = fv_sep((const uint8_t *)b.ptr, b.len);
    struct str b0 = str_make(b.ptr, j);
    if (plain(a) && plain(b0) && (j == b.len || plain(str_make(b.ptr + j + 1, b.len - j - 1)))) {
        fv_run(data, size, maven_vercmp, maven_version_check); /* with transitivity */
        return 0;
    }
    int ab = fv_sign(maven_vercmp(a, b0)), ba = fv_sign(maven_vercmp(b0, a));
    if (ab != -ba || maven_vercmp(a, a) != 0 || maven_vercmp(b0, b0) != 0)
        abort();
    int r = maven_version_check(a, NULL);
    if (r != 0 && r != -ERR_VERSION)
        abort();
    return 0;
}
