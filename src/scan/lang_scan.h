/* SPDX-License-Identifier: Apache-2.0 */
/* Which files in a layer the language-package analyzers read, and the analyze hook that turns
 * each into its package list while the layer is walked (so jars and binaries are never kept). */
#ifndef VIGIL_SCAN_LANG_SCAN_H
#define VIGIL_SCAN_LANG_SCAN_H

#include "image/layer.h"
#include "pkgdb/pkg.h"

/* The action for a regular file: LAYER_ANALYZE for language files (lockfiles, manifests,
 * archives, executables), else LAYER_SKIP. */
enum layer_action lang_action(const char *path, uint64_t size, uint32_t mode);
/* layer_analyze_fn: parse the file with its analyzer and encode the packages (pkgdb/codec.h). */
int lang_analyze(const char *path, uint32_t mode, struct str content, struct buf *out, void *ctx,
                 struct diag *d);
/* The OSV ecosystem of a language package type ("npm", "PyPI", ...), NULL for OS types. */
const char *lang_ecosystem(enum pkg_type t);
/* The inventory's name for a type ("npm", "pypi", "maven", ...). */
const char *lang_type_name(enum pkg_type t);

#endif
