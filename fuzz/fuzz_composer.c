/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: composer.lock and vendor/composer/installed.json parsers (both on every
 * input), and composer_vercmp against itself on every version they report. */
#include <stdint.h>

#include "fuzz_pkgdb_common.h"
#include "pkgdb/lang.h"
#include "version/version.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const lang_parse_fn fns[] = { php_parse_composer_lock, php_parse_installed_json };
    for (size_t f = 0; f < 2; f++) {
        struct arena a;
        struct pkg_list l = { VEC_INIT };
        struct diag d = { 0 };
        arena_init(&a);
        int rc = fns[f](str_make((const char *)data, size), "composer.lock", &a, &l, &d);
        pkgdb_fuzz_check(rc, &l, &d, PKG_COMPOSER);
        for (size_t i = 0; i < l.items.n; i++) {
            struct str v = str_from(l.items.v[i].version);
            if (composer_vercmp(v, v) != 0)
                abort();
        }
        VEC_FREE(&l.items);
        arena_release(&a);
    }
    return 0;
}
