/* SPDX-License-Identifier: Apache-2.0 */
/* Version comparators of the OS package ecosystems. Each *_vercmp is a total order over
 * any byte strings (garbage compares deterministically, never crashes); *_version_check says
 * whether a string is a well-formed version of that ecosystem. */
#ifndef VIGIL_VERSION_VERSION_H
#define VIGIL_VERSION_VERSION_H

#include <stdbool.h>

#include "base/err.h"
#include "base/str.h"

/* Debian: dpkg's rules (epoch, upstream, revision; '~' sorts before everything, letters before
 * non-letters). Returns <0, 0, >0 as `dpkg --compare-versions a lt/eq/gt b`. */
int deb_vercmp(struct str a, struct str b);
/* 0 when v is a valid Debian version (as dpkg's parseversion accepts it), else
 * -ERR_VERSION with a message in d. */
int deb_version_check(struct str v, struct diag *d);

/* Alpine: apk-tools' version ordering (digits, letter, _suffix (alpha beta pre rc < none <
 * cvs svn git hg p), -rN). Returns <0, 0, >0. */
int apk_vercmp(struct str a, struct str b);
int apk_version_check(struct str v, struct diag *d);

/* RPM: rpmvercmp on version and release with epoch ("[E:]V[-R]"), '~' and '^' as rpm 4.15+.
 * A missing epoch is 0. A missing release on one side compares equal to any release (as
 * rpm's labelCompare does when one release is absent). Returns <0, 0, >0. */
int rpm_vercmp(struct str a, struct str b);
/* rpmvercmp alone on one segment (no epoch/release split). */
int rpm_segment_cmp(struct str a, struct str b);
int rpm_version_check(struct str v, struct diag *d);

#endif
