/* SPDX-License-Identifier: Apache-2.0 */
/* struct finding: one vulnerability affecting one installed package, merged across the
 * advisories that describe it (CVE + DSA/DLA/GHSA through aliases). Produced by the matcher,
 * consumed by the report writers (table, ECR JSON, enhanced JSON, SARIF, CycloneDX). */
#ifndef VIGIL_VULNDB_FINDING_H
#define VIGIL_VULNDB_FINDING_H

#include <stdbool.h>
#include <stdint.h>

#include "base/vec.h"
#include "pkgdb/pkg.h"

/* ECR FindingSeverity, ordered so that a larger value is more severe (UNDEFINED sorts lowest
 * when ranking, but is reported by name). */
enum severity {
    SEV_UNDEFINED = 0,
    SEV_INFORMATIONAL = 1,
    SEV_LOW = 2,
    SEV_MEDIUM = 3,
    SEV_HIGH = 4,
    SEV_CRITICAL = 5,
};
#define SEV_COUNT 6

const char *severity_name(enum severity s); /* "CRITICAL", ... */
/* Parse an ECR name (case-insensitive); -1 when unknown. */
int severity_parse(const char *s);

struct finding_cvss {
    const char *version; /* "2.0", "3.0", "3.1", "4.0" */
    const char *vector;  /* as published, with its "CVSS:3.1/" prefix for v3/v4 */
    double score;        /* computed from the vector by src/vulndb/cvss.c */
    const char *source;  /* who published it: "NVD", "GHSA", "CISA-ADP", "OSV", ... */
};

struct finding {
    const char *id;            /* the CVE id when the issue has one (as ECR names findings), else
                                * the advisory id (GHSA-..., DSA-..., MAL-..., RHSA-...) */
    VEC(const char *) related; /* other ids describing the same issue (DSA/DLA/GHSA/...) */
    const char *title;         /* one line: OSV summary, or the first line of the details */
    const char *description;   /* longer text (OSV details or NVD description); "" when none */
    const char *uri;           /* primary link (Debian tracker, Alpine secdb, Red Hat, GHSA, NVD) */
    VEC(const char *) references; /* further URLs */
    enum severity severity;       /* vendor rating first, else CVSS v3.x, else v2, else UNDEFINED */
    const char
        *vendor_severity; /* as the vendor wrote it ("high", "Important", "MODERATE"), or "" */
    const char *severity_source; /* "vendor", "cvss3", "cvss2", "cvss4", "none" */
    VEC(struct finding_cvss) cvss;
    const struct pkg *pkg; /* the installed package (borrowed from the inventory) */
    const char *ecosystem; /* "Debian:12", "Alpine:v3.19", "npm", ... */
    const char
        *fixed_version;    /* lowest version that fixes it on this package's line; "" = no fix */
    const char *published; /* RFC 3339 or "" */
    const char *modified;  /* RFC 3339 or "" */
    const char *source;    /* data source id, e.g. "osv:debian-cve" */
    bool malicious;        /* MAL-* record: the package itself is malware */
};

/* Owns the array; strings and nested vectors live in the arena the matcher was given. */
struct finding_list {
    VEC(struct finding) items;
};

#endif
