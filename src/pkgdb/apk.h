/* SPDX-License-Identifier: Apache-2.0 */
/* Alpine apk-tools v2 installed-package database reader (/lib/apk/db/installed). */
#ifndef VIGIL_PKGDB_APK_H
#define VIGIL_PKGDB_APK_H

#include "base/arena.h"
#include "base/err.h"
#include "base/str.h"
#include "pkg.h"

/* Parse the installed db in `data` and append one PKG_APK struct pkg per record to `out`.
 * Records are separated by blank lines; each line is "X:value" with a one-letter key.
 * Kept: P: name, V: version ("1.2.4_git20230717-r4"; release is the "rN" after the last
 * "-r", upstream what precedes it; epoch 0), A: arch, o: origin (src_name; the name when
 * absent), L: license, m: maintainer. src_version = version (Alpine builds every subpackage
 * from its origin at the same version). Other keys (file lists, checksums, dependencies) are
 * skipped. Every string, db_path included, is copied into `a`; layer is -1.
 *
 * Returns 0, or on error (out unchanged, line number in d):
 *   -ERR_TOO_BIG   data larger than the parser's cap (512 MiB)
 *   -ERR_CORRUPT   NUL byte, a line that is not "X:value", a second P: in one record (a
 *                  missing blank line), a record with fields but no P:
 *   -ERR_VERSION   a record without V: */
int apk_parse_installed(struct str data, const char *db_path, struct arena *a, struct pkg_list *out,
                        struct diag *d);

#endif
