/* SPDX-License-Identifier: Apache-2.0 */
/* The matcher: installed packages in, findings out, from the database `vigil db import`
 * builds. Also the compact form of an OSV `affected[]` entry ("arow") that the importer writes
 * and the matcher evaluates, and the ecosystem rules (which comparator, which package name and
 * version, which link) shared by both. */
#ifndef VIGIL_VULNDB_MATCH_H
#define VIGIL_VULNDB_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/str.h"
#include "pkgdb/pkg.h"
#include "vulndb/finding.h"
#include "vulndb/osv.h"

/* ---- ecosystems ------------------------------------------------------------------------ */

typedef int (*vercmp_fn)(struct str a, struct str b);

enum eco_family {
    ECO_OTHER = 0,
    ECO_DEBIAN = 1, /* "Debian:12": source package name, source version, deb_vercmp */
    ECO_ALPINE = 2, /* "Alpine:v3.19": origin name, package version, apk_vercmp */
    ECO_REDHAT = 3, /* "Red Hat:...": binary name, [epoch:]version-release, rpm_vercmp */
    /* language ecosystems: package name (normalised, see eco_package_name) and version */
    ECO_NPM = 4,        /* "npm", npm_vercmp */
    ECO_PYPI = 5,       /* "PyPI", pep440_vercmp, PEP 503 names */
    ECO_MAVEN = 6,      /* "Maven", maven_vercmp */
    ECO_GO = 7,         /* "Go", gomod_vercmp */
    ECO_RUBYGEMS = 8,   /* "RubyGems", gem_vercmp */
    ECO_CRATES = 9,     /* "crates.io", cargo_vercmp */
    ECO_PACKAGIST = 10, /* "Packagist", composer_vercmp, names lower case */
    ECO_NUGET = 11,     /* "NuGet", nuget_vercmp, names compared case-insensitively */
};

enum eco_family eco_family_of(const char *ecosystem);
/* The name under which a package is stored and looked up: PEP 503 normalisation for PyPI
 * ("Jinja2" -> "jinja2", "ruamel.yaml" -> "ruamel-yaml"), lower case for NuGet and Packagist,
 * as is otherwise. Writes into buf (n bytes) when it changes anything; returns name or buf. */
const char *eco_package_name(enum eco_family f, const char *name, char *buf, size_t n);
/* The comparator for a range of the given type in an ecosystem: deb/apk/rpm for ECOSYSTEM
 * ranges of the OS families, a SemVer 2.0 comparison for SEMVER ranges, NULL when vigil has
 * no comparator (such entries match only through their explicit `versions` list, or when the
 * range is "introduced 0" with nothing after it). */
vercmp_fn eco_vercmp(enum eco_family f, enum osv_range_type type);
/* SemVer 2.0 precedence (a leading 'v' is ignored, build metadata too); total on any bytes. */
int semver_cmp(struct str a, struct str b);

/* ---- the compact affected entry ("arow") ------------------------------------------------ */
/* A byte string: the format byte ARROW_FORMAT, then items, each a tag byte and a NUL-terminated
 * string:
 *   'E' / 'S'            start of an ECOSYSTEM / SEMVER range (empty string)
 *   'i' 'f' 'l' 'L'      introduced / fixed / last_affected / limit event of that range,
 *                        sorted by the ecosystem's comparator when it has one
 *   'v'                  an explicitly listed affected version that the ranges do not cover
 *   'k'                  a vulnerability id this entry is about (rows that speak for several
 *                        ids, such as Alpine secdb fixes; OSV rows take the ids of their
 *                        advisory instead)
 *   'u'                  Debian urgency, one digit (enum osv_urgency) */
#define AROW_FORMAT   1
#define AROW_MAX      (1u << 20) /* rows are capped at 1 MiB */
#define AROW_MAX_KEYS 32         /* 'k' items evaluated per row */

/* Encode an affected entry. Events are sorted with cmp (when not NULL); explicit versions that
 * the ranges already cover are dropped (when cmp is known), the rest kept. keys may be NULL.
 * 0, or -ERR_TOO_BIG when the row would exceed AROW_MAX. */
int arow_encode(const struct osv_affected *a, enum eco_family f, const char *const *keys,
                size_t n_keys, struct buf *out);

struct arow_result {
    bool affected;
    bool by_version_list; /* matched an explicit version only */
    const char *fixed;    /* fix of the matching interval (points into the row); "" = none */
    enum osv_urgency urgency;
    const char *keys[AROW_MAX_KEYS]; /* 'k' items (pointers into the row) */
    size_t n_keys;
};

/* Evaluate a row for one installed version. Returns 0 (result in *res) or -ERR_CORRUPT when
 * the row is malformed. Rows come from the database, which may be damaged: every read is
 * bounds-checked. */
int arow_check(const void *row, size_t n, enum eco_family f, struct str version,
               struct arow_result *res);

/* A package's entry list (db.h packages.entries): "varint advisory, varint length, arow"
 * repeated. entry_next() returns 1 with the next entry, 0 at the end, -ERR_CORRUPT when the
 * list is malformed (every length is checked against the list). */
struct entry_iter {
    const unsigned char *p;
    size_t n, off;
};
int entry_next(struct entry_iter *it, int64_t *adv, const void **row, size_t *len);

/* ---- matching -------------------------------------------------------------------------- */

struct vulndb;

/* Open a database read-only for matching. -ERR_NOT_FOUND when the file does not exist,
 * -ERR_CORRUPT when it is not a vigil vulnerability database (message in d). One handle per
 * thread; it caches advisory data between calls. */
int vulndb_open(const char *path, struct vulndb **out, struct diag *d);
void vulndb_close(struct vulndb *db);

/* The OSV ecosystem for an OS (os-release ID and VERSION_ID), allocated in a: "Debian:12"
 * (debian 12.x; Debian codenames are accepted as version_id too), "Alpine:v3.19" (alpine
 * 3.19.x; pre-releases such as 3.21_alpha... map to "Alpine:edge", which only the secdb data
 * covers), "Red Hat:enterprise_linux:9" for rhel/rocky/almalinux/centos 9.x (Rocky and Alma
 * rebuild RHEL, so Red Hat's data is used: it names the same binary packages and
 * epoch:version-release). NULL when vigil has no data for it. */
const char *vulndb_ecosystem_for_os(const char *os_id, const char *version_id, struct arena *a);

struct match_opts {
    bool ignore_unfixed;        /* drop findings without a fixed version */
    enum severity min_severity; /* drop findings below (SEV_UNDEFINED keeps all) */
    bool include_unimportant;   /* keep Debian "unimportant" issues (as INFORMATIONAL) */
};

/* Match n packages of one ecosystem. The ecosystem names the data to use: an exact ecosystem
 * ("Debian:12", "npm") or a Red Hat product prefix ("Red Hat:enterprise_linux:9" matches every
 * "Red Hat:enterprise_linux:9::<stream>"). Findings are appended to out, one per
 * (vulnerability, package), in package order then by descending severity and id; their
 * strings live in a, their pkg points into pkgs (which must outlive them).
 * Rules, per ecosystem family:
 *   Debian  - src_name and src_version (falls back to name/version); findings report the
 *             binary package. Urgency low/medium/high is the vendor rating; "unimportant" is
 *             INFORMATIONAL and dropped unless o->include_unimportant.
 *   Alpine  - src_name (origin) and version.
 *   Red Hat - name and version ("[epoch:]version-release").
 *   others  - name and version.
 * An issue reported by several advisories (CVE record, DSA/DLA, GHSA, PYSEC, RHSA, secdb) is
 * one finding named by its CVE id; the most specific record decides whether the package is
 * affected and what fixes it (the record named by the id, then single-issue advisories, then
 * multi-issue advisories); every other advisory that matched is listed in `related`.
 * Severity: the vendor's rating (Debian urgency, Red Hat's RHSA rating, GHSA's), else CVSS
 * v3.x, v4.0, v2 (the record's own vectors first, then NVD, then CISA/CNA), else UNDEFINED.
 * uri: Debian tracker, Alpine security tracker or Red Hat CVE page for those ecosystems; the
 * GitHub advisory when one matched in a language ecosystem; NVD for other CVEs; osv.dev.
 * The handle notices imports made meanwhile (in place, or a rebuilt file renamed over it).
 * Returns 0, or <0 (-ERR_DB, -ERR_CORRUPT) with d set. */
int vulndb_match(struct vulndb *db, const char *ecosystem, const struct pkg *pkgs, size_t n,
                 const struct match_opts *o, struct arena *a, struct finding_list *out,
                 struct diag *d);

/* Counters since vulndb_open (for benchmarks and logs). */
struct vulndb_stats {
    unsigned long long packages; /* packages looked up */
    unsigned long long rows;     /* affected rows evaluated ("package-version checks") */
    unsigned long long findings;
};
void vulndb_get_stats(const struct vulndb *db, struct vulndb_stats *st);

/* ---- what imports changed (for the continuous rescans) ------------------------------------ */

struct vulndb_change {
    int64_t import_id;
    const char *advisory;  /* record id; a CVE id for a severity-only change */
    const char *kind;      /* "added", "changed", "removed" */
    const char *reason;    /* "", "modified", "withdrawn", "severity:NVD", "severity:CISA" */
    const char *ecosystem; /* one (ecosystem, package) pair the change touches */
    const char *package;
};

/* The last import: its id (0 when none) and whether it built the database from scratch
 * (a build records no per-record pairs: everything is new). */
int vulndb_last_import(struct vulndb *db, int64_t *id, bool *was_build, struct diag *d);
/* Call fn for every (change, pair) of the imports after since_import, oldest first; the
 * strings live until fn returns. fn returning non-zero stops the walk (that value is
 * returned). Imports older than the last 20 have had their changes pruned. */
int vulndb_changes(struct vulndb *db, int64_t since_import,
                   int (*fn)(void *ctx, const struct vulndb_change *c), void *ctx, struct diag *d);

/* Severity from a vendor's word: Debian urgency ("low", "medium", "high"; "unimportant" ->
 * INFORMATIONAL), Red Hat ("Low", "Moderate", "Important", "Critical"), GHSA ("LOW",
 * "MODERATE", "HIGH", "CRITICAL"). SEV_UNDEFINED when the word is not a rating ("not yet
 * assigned", "end-of-life", unknown). Case-insensitive. */
enum severity severity_from_vendor(const char *word);

#endif
