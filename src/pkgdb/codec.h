/* SPDX-License-Identifier: Apache-2.0 */
/* A compact encoding of package lists: what a layer keeps for a parsed language file (and
 * what the layer cache stores), so the file itself is never kept or read again. */
#ifndef VIGIL_PKGDB_CODEC_H
#define VIGIL_PKGDB_CODEC_H

#include "base/buf.h"
#include "base/err.h"
#include "pkg.h"

/* Append n packages to out: "VPK1", u32 count, then per package u8 type and NUL-terminated
 * name, version, src_name, src_version, db_path. 0 or -ERR_TOO_BIG. */
int pkg_list_encode(const struct pkg *p, size_t n, struct buf *out);
/* Decode and append to out (strings in a; layer = -1, other fields empty). 0 or
 * -ERR_CORRUPT with d set; out is unchanged on error. */
int pkg_list_decode(struct str in, struct arena *a, struct pkg_list *out, struct diag *d);

#endif
