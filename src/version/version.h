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
 * -ERR_VERSION with a message in d. parseversion's warnings count as failures: an upstream
 * version that does not start with a digit, or a byte outside [A-Za-z0-9.+~:-] (upstream) or
 * [A-Za-z0-9.+~] (revision), is rejected although dpkg installs such packages with a
 * warning. deb_vercmp still orders such strings exactly as dpkg does. */
int deb_version_check(struct str v, struct diag *d);

/* Alpine: apk-tools' version ordering (digits, letter, _suffix (alpha beta pre rc < none <
 * cvs svn git hg p), ~hash, -rN). Returns <0, 0, >0. As in apk-tools, a '.'-component with
 * a leading zero compares as a string (1.05 < 1.1), and a string that breaks the format
 * sorts below one that ends or goes on validly at that point. Where apk-tools calls two
 * strings equal because both break the format at the same point, we order the rests
 * (digit runs as numbers, before other bytes, which compare by value): real advisories
 * hold such versions ("1.9.5p2-r0"). Unlike apk-tools (uint64), numbers of any length
 * compare exactly. */
int apk_vercmp(struct str a, struct str b);
/* 0 when v matches number{.number}...{letter}{_suffix{number}}...{~hash}{-rN}, else
 * -ERR_VERSION with the offset of the first unexpected byte in d. */
int apk_version_check(struct str v, struct diag *d);

/* RPM: rpmvercmp on version and release with epoch ("[E:]V[-R]", split like rpm's parseEVR:
 * a digit run before ':' is the epoch, the release follows the last '-'), '~' and '^' as rpm
 * 4.15+. A missing epoch is 0. A missing release sorts before any release and equals another
 * missing one: that is what python3-rpm's labelCompare does with a None release (checked
 * with rpm 4.18; rpm's dependency-range matching, which treats it as a wildcard, is not a
 * total order). Returns <0, 0, >0. */
int rpm_vercmp(struct str a, struct str b);
/* rpmvercmp alone on one segment (no epoch/release split). */
int rpm_segment_cmp(struct str a, struct str b);
/* 0 when v is [E:]V[-R] with E a decimal number up to 2^32-1, V and R non-empty and made of
 * [A-Za-z0-9._+~^] (rpmbuild's set without the macro characters), else -ERR_VERSION. */
int rpm_version_check(struct str v, struct diag *d);

/* ---- language ecosystems (enhanced scanning) ----------------------------------------------
 * Each *_vercmp is a total order over any byte strings, never allocates, never crashes;
 * *_version_check returns 0 for a well-formed version or -ERR_VERSION with a message. */

/* npm: node-semver's ordering of SemVer 2.0 versions (prerelease identifiers, build metadata
 * ignored; a leading "v" or "=" tolerated as node-semver's loose parse does). */
int npm_vercmp(struct str a, struct str b);
int npm_version_check(struct str v, struct diag *d);

/* PyPI: PEP 440 (epochs, pre/post/dev releases, local versions, normalisation). */
int pep440_vercmp(struct str a, struct str b);
int pep440_version_check(struct str v, struct diag *d);

/* RubyGems: Gem::Version's ordering (segments, letters make a prerelease). */
int gem_vercmp(struct str a, struct str b);
int gem_version_check(struct str v, struct diag *d);

/* Maven: ComparableVersion's ordering (qualifiers alpha < beta < milestone < rc < snapshot <
 * "" < sp, separators, padding). */
int maven_vercmp(struct str a, struct str b);
int maven_version_check(struct str v, struct diag *d);

/* Packagist: Composer's version ordering (composer/semver normalisation and comparison). */
int composer_vercmp(struct str a, struct str b);
int composer_version_check(struct str v, struct diag *d);

/* Go: module versions as golang.org/x/mod/semver compares them ("v" prefix, +incompatible,
 * pseudo-versions); also Go toolchain versions ("go1.19.8", "1.21rc2") for the stdlib. */
int gomod_vercmp(struct str a, struct str b);
int gomod_version_check(struct str v, struct diag *d);

/* crates.io: SemVer 2.0 as Cargo's semver crate orders it. */
int cargo_vercmp(struct str a, struct str b);
int cargo_version_check(struct str v, struct diag *d);

/* NuGet: NuGet's version ordering (up to 4 numeric parts, SemVer 2.0 prerelease labels
 * compared case-insensitively, metadata ignored). */
int nuget_vercmp(struct str a, struct str b);
int nuget_version_check(struct str v, struct diag *d);

#endif
