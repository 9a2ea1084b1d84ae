/* SPDX-License-Identifier: Apache-2.0 */
/* Which distribution an image is: os-release (etc/os-release, usr/lib/os-release) and the
 * older one-line markers (etc/debian_version, etc/alpine-release, etc/redhat-release and
 * friends, etc/lsb-release). */
#ifndef VIGIL_PKGDB_OSRELEASE_H
#define VIGIL_PKGDB_OSRELEASE_H

#include "base/arena.h"
#include "base/err.h"
#include "base/str.h"

/* Each member is NULL when the source does not say (os-release's ID defaults to "linux" per
 * the specification, but NULL here lets the caller tell "said nothing" from "linux"). The
 * strings live in the arena passed to the parser, or are static (fixed names such as
 * "debian"): either way they outlive the arena's user. */
struct os_info {
    const char *id;               /* "debian", "alpine", "rocky", "rhel", "centos", "amzn" */
    const char *version_id;       /* "12", "3.19.0", "9.3" */
    const char *version_codename; /* "bookworm"; for Debian filled from VERSION_ID if absent */
    const char *name;             /* "Debian GNU/Linux" */
    const char *pretty_name;      /* "Debian GNU/Linux 12 (bookworm)" */
    const char *id_like;          /* "rhel centos fedora" */
};

/* Parse os-release: shell-like KEY=value lines. Values may be unquoted (a backslash quotes
 * the next byte; an unquoted blank ends the value), "double-quoted" (backslash escapes \"
 * \\ \$ \`; a backslash before anything else is kept, as in a shell) or 'single-quoted'
 * (no escapes); adjacent pieces are joined as in a shell. '#' lines and blank lines are
 * skipped, and so are lines without a valid KEY=, lines with an unterminated quote (a value
 * cannot span lines) and keys we do not keep. A later assignment of a key wins.
 * When ID is debian and VERSION_CODENAME is missing, the codename is derived from the major
 * number of VERSION_ID (12 -> bookworm). *out is zeroed first.
 * Returns 0, or (out zeroed, message in d):
 *   -ERR_TOO_BIG   more than 64 KiB (real files are a few hundred bytes)
 *   -ERR_CORRUPT   NUL byte
 *   -ERR_INVALID   not a single well-formed KEY=value line */
int osrelease_parse(struct str data, struct arena *a, struct os_info *out, struct diag *d);

/* Parse one of the older marker files; `path` names which (leading "/" or "./" ignored;
 * etc/os-release and usr/lib/os-release are passed on to osrelease_parse):
 *   etc/debian_version   "12.15" -> debian 12 bookworm; "bookworm/sid" -> debian, codename
 *                        bookworm, no version_id (testing/unstable)
 *   etc/alpine-release   "3.19.0" -> alpine 3.19.0
 *   etc/redhat-release, etc/centos-release, etc/rocky-release, etc/almalinux-release,
 *   etc/fedora-release, etc/system-release, etc/oracle-release:
 *                        "<Name> release <version> (<codename>)" -> the distribution the
 *                        name says (rhel, centos, rocky, almalinux, fedora, amzn, ol), with
 *                        the id_like its os-release would carry; CentOS keeps only the
 *                        major version, as its os-release does ("7.9.2009" -> "7")
 *                        An unknown name gives id NULL with the other fields filled.
 *   etc/lsb-release      DISTRIB_ID (lower-cased as id; name as written), DISTRIB_RELEASE,
 *                        DISTRIB_CODENAME, DISTRIB_DESCRIPTION (pretty_name), os-release syntax
 * Ubuntu also ships etc/debian_version (naming the Debian testing it forked from), so callers
 * should prefer os-release and fall back to the markers only without one.
 * Returns 0, or (out zeroed, message in d): -ERR_TOO_BIG (over 64 KiB), -ERR_CORRUPT (NUL
 * byte), -ERR_UNSUPPORTED (a path that is not one of the above), -ERR_INVALID (content that
 * does not have the marker's form). */
int osrelease_from_marker(const char *path, struct str data, struct arena *a, struct os_info *out,
                          struct diag *d);

/* Debian codename for a major release number ("12" or "12.4" -> "bookworm"), NULL when not
 * known. Static string. */
const char *osrelease_debian_codename(const char *version_id);
/* Debian major release number for a codename ("bookworm" -> "12"), NULL when not known (also
 * for "sid", which never has one). Static string. */
const char *osrelease_debian_version(const char *codename);

#endif
