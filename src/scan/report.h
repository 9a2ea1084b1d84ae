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

/* Write the scan result. 0 or -errno (write error). */
int report_write_scan(FILE *out, enum report_format fmt, const struct scan_result *r,
                      const struct report_opts *o);

/* Inventory output: REPORT_TABLE, REPORT_JSON (vigil's own inventory JSON) or
 * REPORT_CYCLONEDX (CycloneDX 1.5 with purls). */
int report_write_inventory(FILE *out, enum report_format fmt, const struct inventory *inv,
                           const struct report_opts *o);

/* Package URL for a package ("pkg:deb/debian/curl@7.88.1-10?arch=amd64&distro=debian-12"). */
char *report_purl(const struct inventory *inv, const struct pkg *p);

#endif
