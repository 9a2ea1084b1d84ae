/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: rpm header blob parser. */
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
    int rc = rpm_parse_header(str_make((const char *)data, size), "hdr", &a, &l, &d);
    pkgdb_fuzz_check(rc, &l, &d, PKG_RPM);
    if (rc == 0 && l.items.n > 1)
        abort();
    VEC_FREE(&l.items);
    arena_release(&a);
    return 0;
}
