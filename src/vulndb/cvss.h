/* SPDX-License-Identifier: Apache-2.0 */
/* CVSS base scores computed from vectors: v2.0, v3.0, v3.1 and v4.0, each by the formulas of
 * its FIRST specification (v4.0 through its MacroVector lookup and interpolation). */
#ifndef VIGIL_VULNDB_CVSS_H
#define VIGIL_VULNDB_CVSS_H

#include "base/err.h"
#include "base/str.h"

enum cvss_version { CVSS_V2 = 20, CVSS_V30 = 30, CVSS_V31 = 31, CVSS_V40 = 40 };

struct cvss_result {
    enum cvss_version version;
    double base_score; /* 0.0 .. 10.0, one decimal */
};

/* Parse a vector and compute its base score. v3.x/v4.0 vectors carry their "CVSS:3.1/" prefix;
 * v2 vectors have none (an optional "(...)" wrapper or "CVSS:2.0/" prefix is accepted).
 * Returns 0 or -ERR_INVALID with a message in d naming the bad metric. */
int cvss_parse(struct str vector, struct cvss_result *out, struct diag *d);
/* Same, but the version is imposed (for vectors stored without prefix, e.g. NVD v2). */
int cvss_parse_as(struct str vector, enum cvss_version v, struct cvss_result *out, struct diag *d);
/* Qualitative rating as ECR names it: "NONE" is reported as "INFORMATIONAL".
 * v3/v4: 0 INFORMATIONAL, 0.1-3.9 LOW, 4.0-6.9 MEDIUM, 7.0-8.9 HIGH, 9.0-10 CRITICAL.
 * v2 (NVD): 0-3.9 LOW, 4.0-6.9 MEDIUM, 7.0-10 HIGH. */
const char *cvss_severity(enum cvss_version v, double score);

#endif
