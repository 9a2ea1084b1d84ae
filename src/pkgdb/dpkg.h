/* SPDX-License-Identifier: Apache-2.0 */
/* dpkg database reader: /var/lib/dpkg/status and the files of distroless images'
 * /var/lib/dpkg/status.d/ (the same deb822 stanzas, one or more per file). */
#ifndef VIGIL_PKGDB_DPKG_H
#define VIGIL_PKGDB_DPKG_H

#include <stdbool.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/str.h"
#include "pkg.h"

/* Parse the stanzas in `data` (a status file, or one file of status.d) and append one
 * PKG_DEB struct pkg per installed package to `out`.
 *
 * Which stanzas count as installed: those whose Status is "<want> ok installed", i.e. the
 * package's files are on disk and configured. Besides the usual "install ok installed" this
 * keeps "hold ok installed" (apt-mark hold) and "deinstall/purge ok installed" (selected for
 * removal, not yet removed), since their files are present and scannable. Every other state
 * is skipped: config-files and not-installed (no files), half-installed, unpacked,
 * half-configured, triggers-awaited/pending, and any "reinstreq" error flag (dpkg itself does
 * not consider those installed). A stanza WITHOUT a Status field counts as installed: that is
 * the distroless status.d format (each file is the .deb's control fields, `dpkg-deb --field`,
 * which have no Status), while dpkg always writes Status into /var/lib/dpkg/status.
 *
 * Fields: Package, Version (kept exactly as written; epoch, upstream and revision are split
 * out), Architecture, Source ("name" or "name (version)"; the version becomes src_version,
 * else src_version = version; no Source means src_name = name), Maintainer. Field names are
 * case-insensitive; continuation lines (leading space or tab) belong to the previous field;
 * lines starting with '#' are comments; lines of only blanks separate stanzas. Every string,
 * db_path included, is copied into `a`; layer is -1.
 *
 * Returns 0, or on error (out unchanged, message with the line number in d):
 *   -ERR_TOO_BIG   data larger than the parser's cap (512 MiB)
 *   -ERR_CORRUPT   NUL byte, a line that is neither "Field: value", a continuation nor a
 *                  comment, a continuation without a field, a duplicate Package, Version or
 *                  Status field, a Status that is not three words, a stanza without Package
 *   -ERR_VERSION   an installed package without Version, or with a non-numeric or too large
 *                  (over 2^32-1) epoch */
int dpkg_parse_status(struct str data, const char *db_path, struct arena *a, struct pkg_list *out,
                      struct diag *d);

/* Whether a file name found in /var/lib/dpkg/status.d/ holds stanzas: distroless puts a
 * "<pkg>.md5sums" beside each "<pkg>" file; those and hidden files are not stanza files. */
bool dpkg_status_d_is_stanza_file(const char *name);

#endif
