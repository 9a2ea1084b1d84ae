/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: decoding of layer-cache entries and the package lists inside them (the cache
 * file may be damaged or written by another version). */
#include <stdint.h>

#include "pkgdb/codec.h"
#include "scan/layer_cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct str in = str_make((const char *)data, size);
    struct layer_contents lc;
    struct diag d = { 0 };
    layer_contents_init(&lc);
    if (layer_contents_decode(in, &lc, &d) == 0) {
        for (size_t i = 0; i < lc.files.n; i++) {
            if (!lc.files.v[i].analyzed || lc.files.v[i].failed)
                continue;
            struct pkg_list pl = { VEC_INIT };
            pkg_list_decode(lc.files.v[i].data, &lc.arena, &pl, &d);
            VEC_FREE(&pl.items);
        }
    }
    layer_contents_release(&lc);
    struct arena a;
    arena_init(&a);
    struct pkg_list pl = { VEC_INIT };
    pkg_list_decode(in, &a, &pl, &d);
    VEC_FREE(&pl.items);
    arena_release(&a);
    return 0;
}
