/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the report writers (report*.c): finding order, severity names, UTF-8
 * handling, time formatting and small jansson wrappers that abort on OOM like xmalloc. */
#ifndef VIGIL_SCAN_REPORT_INTERNAL_H
#define VIGIL_SCAN_REPORT_INTERNAL_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "scan/report.h"

/* vigil's version and home as reported inside SARIF and CycloneDX documents. The project has
 * no public home page yet: the ".invalid" default is a placeholder a packager overrides with
 * -DVIGIL_INFORMATION_URI=... */
#ifndef VIGIL_VERSION_STRING
#define VIGIL_VERSION_STRING "0.1.0"
#endif
#ifndef VIGIL_INFORMATION_URI
#define VIGIL_INFORMATION_URI "https://vigil.invalid/"
#endif

/* "CRITICAL", ...; "UNDEFINED" for out-of-range values. */
const char *rpt_sev_name(enum severity s);
/* Clamp a severity read from a struct to the enum's range (UNDEFINED when out of range). */
enum severity rpt_sev(enum severity s);

/* Findings in report order: severity descending (UNDEFINED last), then id, then package name,
 * then installed version. Returns an owned array of n borrowed pointers (NULL when n is 0). */
const struct finding **rpt_sorted(const struct finding_list *fl, size_t *n);

/* A group of findings sharing one vulnerability id (the ECR enhanced and CycloneDX shapes
 * report one entry per vulnerability listing every affected package). */
struct rpt_group {
    const struct finding *rep;      /* most severe member: its texts and scores are reported */
    const struct finding **members; /* points into the array given to rpt_group_by_id */
    size_t n;
};
/* Group findings (as returned by rpt_sorted) by id. The groups come in report order (by their
 * representative's severity, then id); members are ordered by package name and version.
 * Reorders `sorted` in place. Returns an owned array (NULL when n is 0). */
struct rpt_group *rpt_group_by_id(const struct finding **sorted, size_t n, size_t *ngroups);

/* The CVSS entry to report for a major version (2, 3 or 4): NVD's when present, else the one
 * with the newest minor version, else the first. NULL when the finding has none. */
const struct finding_cvss *rpt_pick_cvss(const struct finding *f, int major);
/* The one CVSS entry that best describes the finding: v3.x, else v4.0, else v2. NULL if none. */
const struct finding_cvss *rpt_best_cvss(const struct finding *f);
/* Score rounded to one decimal (vectors are computed to one decimal; this drops binary noise). */
double rpt_score(double score);
/* The rounded score as text with one decimal ("9.8", "10.0"). */
void rpt_score_str(double score, char out[8]);
/* Qualitative rating of a CVSS score for the given version string ("2.0" uses NVD's v2
 * bands, where nothing is CRITICAL; v3/v4 give INFORMATIONAL for 0.0). */
enum severity rpt_cvss_band(const char *version, double score);

/* Decode one UTF-8 sequence from s[0..len). Returns its length (1-4) and the code point, or 0
 * when the bytes at s are not valid UTF-8 (overlong, surrogate, > U+10FFFF, truncated). */
size_t rpt_utf8_next(const char *s, size_t len, uint32_t *cp);
/* Terminal columns a code point occupies: 0 for combining marks, 2 for East Asian wide and
 * full-width characters, 1 otherwise (locale-independent, so output is byte-stable). */
int rpt_cp_width(uint32_t cp);

/* "2024-01-02T03:04:05Z" into out (at least 21 bytes). */
void rpt_rfc3339(time_t t, char out[32]);
/* Parse RFC 3339 ("2024-01-02T03:04:05Z", fractional seconds and "+hh:mm" offsets accepted, a
 * bare date taken as midnight UTC). Returns false when s is not such a string. */
bool rpt_parse_rfc3339(const char *s, time_t *out);

/* Empty-string-safe accessors: NULL is treated as "". */
static inline const char *rpt_s(const char *s)
{
    return s ? s : "";
}
static inline bool rpt_empty(const char *s)
{
    return !s || !*s;
}

/* jansson wrappers that abort on OOM. rpt_jstr() never fails: invalid UTF-8 is replaced by U+FFFD
 * (jansson refuses invalid UTF-8, and package metadata is not always clean). */
json_t *rpt_jstr(const char *s);
json_t *rpt_jobj(void);
json_t *rpt_jarr(void);
json_t *rpt_jint(long long v);
json_t *rpt_jreal(double v);
/* Steal v into obj[key] / the end of arr. */
void rpt_jset(json_t *obj, const char *key, json_t *v);
void rpt_jset_str(json_t *obj, const char *key, const char *s);
/* Set only when s is non-empty. */
void rpt_jset_str_opt(json_t *obj, const char *key, const char *s);
void rpt_jpush(json_t *arr, json_t *v);
void rpt_jpush_str(json_t *arr, const char *s);
/* Write root (2-space indent, insertion order, UTF-8 kept as is) and a final newline, then
 * drop the reference. 0 or -EIO. */
int rpt_dump(FILE *out, json_t *root);

/* Repository name and tag for the ECR shapes: r->repository / r->tag when set, else derived
 * from the image name ("registry:5000/team/app:1.0" -> "team/app", "1.0"). Owned strings. */
void rpt_repo_tag(const struct scan_result *r, char **repo, char **tag);
/* Architecture part of a "linux/amd64[/v8]" platform ("amd64"), owned; "" when unknown. */
char *rpt_arch(const char *platform);
/* True when VIGIL_DETERMINISTIC=1 is set (golden tests: no random UUIDs or wall clock). */
bool rpt_deterministic(void);

/* Individual writers (report_*.c). */
int rpt_write_ecr(FILE *out, const struct scan_result *r, bool enhanced);
int rpt_write_sarif(FILE *out, const struct scan_result *r);
int rpt_write_cdx(FILE *out, const struct inventory *inv, const struct scan_result *r);
int rpt_write_scan_table(FILE *out, const struct scan_result *r, const struct report_opts *o);
int rpt_write_inv_table(FILE *out, const struct inventory *inv, const struct report_opts *o);
int rpt_write_inv_json(FILE *out, const struct inventory *inv);

/* "deb", "apk", "rpm", "npm", "pypi", "maven", "golang", "gem", "cargo", "composer", "nuget" */
const char *rpt_pkg_type_name(enum pkg_type t);
/* Inspector's PackageManager value for a package ("OS", "NPM", "PYTHONPKG", "JAR", ...). */
const char *rpt_package_manager(const struct pkg *p);

#endif
