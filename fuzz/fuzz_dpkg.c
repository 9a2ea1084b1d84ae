/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: dpkg status / status.d stanza parser. */
#include <stdint.h>

#include "fuzz_pkgdb_common.h"
#include "pkgdb/dpkg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    struct pkg_list l = { VEC_INIT };
    struct diag d = { 0 };
    arena_init(&a);
    int rc = dpkg_parse_status(str_make((const char *)data, size), "status", &a, &l, &d);
    pkgdb_fuzz_check(rc, &l, &d, PKG_DEB);
    VEC_FREE(&l.items);
    arena_release(&a);
    return 0;
}
