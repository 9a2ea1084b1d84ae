/* SPDX-License-Identifier: Apache-2.0 */
/* Report writers for scan results: a terminal table, ECR's DescribeImageScanFindings JSON
 * (basic findings), ECR enhanced findings JSON, SARIF 2.1.0 and CycloneDX 1.5 (with
 * vulnerabilities), plus the inventory (SBOM) writers. */
#ifndef VIGIL_SCAN_REPORT_H
#define VIGIL_SCAN_REPORT_H

#include <stdio.h>
#include <time.h>

#include "scan/inventory.h"
#include "vulndb/finding.h"

enum report_format {
    REPORT_TABLE,
    REPORT_JSON,          /* ECR DescribeImageScanFindings response shape */
    REPORT_ENHANCED_JSON, /* ECR response with enhancedFindings[] */
    REPORT_SARIF,
    REPORT_CYCLONEDX,
};

/* "table", "json", "enhanced-json", "sarif", "cyclonedx"; -1 when unknown. */
int report_format_parse(const char *s);

struct scan_result {
    const struct inventory *inv;
    const struct finding_list *findings; /* already filtered (severity, unfixed, ignores) */
    time_t completed_at;                 /* scan completion time */
    time_t vuln_source_updated_at;       /* newest record date of the vulnerability data */
    const char *account_id;              /* "000000000000" unless configured */
    const char *region;                  /* "us-east-1" unless configured */
    const char *repository;              /* repository name for the ECR shapes ("" = from ref) */
    const char *tag;                     /* image tag ("" = from ref) */
};

struct report_opts {
    bool color; /* table: ANSI colours (when stdout is a terminal) */
    int width;  /* table: terminal width (0 = 120) */
};

/* Write the scan result. 0, -EINVAL (NULL out/r/r->inv), or -EIO (write error). Findings
 * come in report order: severity descending (UNDEFINED last), then id, then package. The
 * enhanced-JSON, SARIF and CycloneDX shapes report one entry per vulnerability id listing every
 * affected package. r->findings may be NULL (no findings); o may be NULL (defaults). With
 * VIGIL_DETERMINISTIC=1 in the environment the CycloneDX serial number is derived from the
 * manifest digest instead of being random (golden tests). */
int report_write_scan(FILE *out, enum report_format fmt, const struct scan_result *r,
                      const struct report_opts *o);

/* Inventory output: REPORT_TABLE, REPORT_JSON (vigil's own inventory JSON, documented in
 * report.c) or REPORT_CYCLONEDX (CycloneDX 1.5 with purls). -EINVAL for the scan-only formats;
 * otherwise as report_write_scan(). */
int report_write_inventory(FILE *out, enum report_format fmt, const struct inventory *inv,
                           const struct report_opts *o);

/* Package URL for a package ("pkg:deb/debian/curl@7.88.1-10?arch=amd64&distro=debian-12"),
 * encoded per the purl spec (ECMA-427: ':' is never encoded, '+' is). Owned by the caller
 * (free()); NULL for a package type with no purl mapping. */
char *report_purl(const struct inventory *inv, const struct pkg *p);

#endif
