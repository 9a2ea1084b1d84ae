/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: rpm Berkeley DB hash Packages reader. */
#include <stdint.h>

#include "fuzz_pkgdb_common.h"
#include "pkgdb/rpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    struct pkg_list l = { VEC_INIT };
    struct diag d = { 0 };
    arena_init(&a);
    int rc = rpm_parse_bdb(str_make((const char *)data, size), "Packages", &a, &l, &d);
    pkgdb_fuzz_check(rc, &l, &d, PKG_RPM);
    VEC_FREE(&l.items);
    arena_release(&a);
    return 0;
}
