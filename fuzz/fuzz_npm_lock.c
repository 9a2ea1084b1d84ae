/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: npm package-lock.json (v1, v2, v3) parser. */
#include <stdint.h>

#include "fuzz_pkgdb_common.h"
#include "pkgdb/lang.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    struct pkg_list l = { VEC_INIT };
    struct diag d = { 0 };
    arena_init(&a);
    int rc = npm_parse_package_lock(str_make((const char *)data, size), "fuzz", &a, &l, &d);
    pkgdb_fuzz_check(rc, &l, &d, PKG_NPM);
    VEC_FREE(&l.items);
    arena_release(&a);
    return 0;
}
