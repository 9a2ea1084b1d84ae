/* SPDX-License-Identifier: Apache-2.0 */
/* Invariants every package-database fuzz target checks after a parse: on success each
 * package has every string set and layer -1; on failure the list is empty (parsers leave it
 * as they found it) and the diagnostic says something. A violation aborts. */
#ifndef VIGIL_FUZZ_PKGDB_COMMON_H
#define VIGIL_FUZZ_PKGDB_COMMON_H

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "pkgdb/pkg.h"

static inline void pkgdb_fuzz_check(int rc, const struct pkg_list *l, const struct diag *d,
                                    enum pkg_type type)
{
    if (rc > 0)
        abort();
    if (rc < 0) {
        if (l->items.n != 0 || d->msg[0] == '\0')
            abort();
        return;
    }
    for (size_t i = 0; i < l->items.n; i++) {
        const struct pkg *p = &l->items.v[i];
        if (p->type != type || !p->name[0] || !p->version[0] || !p->arch || !p->src_name[0] ||
            !p->src_version[0] || !p->upstream || !p->release || !p->license || !p->maintainer ||
            !p->db_path || p->layer != -1)
            abort();
        /* the strings are NUL-terminated where strlen says (ASan checks the reads) */
        size_t n = strlen(p->name) + strlen(p->version) + strlen(p->arch) + strlen(p->src_name) +
                   strlen(p->src_version) + strlen(p->upstream) + strlen(p->release) +
                   strlen(p->license) + strlen(p->maintainer);
        (void)n;
    }
}

#endif
