/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: jar_parse (pom.properties, MANIFEST.MF, nested archives). */
#include <stdint.h>

#include "base/log.h"
#include "fuzz_pkgdb_common.h"
#include "pkgdb/lang.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_level(LOG_ERROR); /* skipped members are warnings */
    struct arena a;
    struct pkg_list l = { VEC_INIT };
    struct diag d = { 0 };
    arena_init(&a);
    int rc = jar_parse(str_make((const char *)data, size), "opt/app/app-1.0.jar", &a, &l, &d);
    pkgdb_fuzz_check(rc, &l, &d, PKG_MAVEN);
    VEC_FREE(&l.items);
    arena_release(&a);
    return 0;
}
