/* SPDX-License-Identifier: Apache-2.0 */
/* Shared body of the CVSS fuzz targets: any accepted vector must score within 0.0 .. 10.0 with
 * one decimal and map to a severity; any refused one must come with a message. */
#ifndef VIGIL_FUZZ_CVSS_COMMON_H
#define VIGIL_FUZZ_CVSS_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vulndb/cvss.h"

static void check(int rc, const struct cvss_result *r, const struct diag *d)
{
    if (rc == 0) {
        double t = r->base_score * 10.0;
        if (!(r->base_score >= 0.0 && r->base_score <= 10.0) || fabs(t - round(t)) > 1e-9)
            abort();
        if (strcmp(cvss_severity(r->version, r->base_score), "UNDEFINED") == 0)
            abort();
    } else if (rc != -ERR_INVALID || d->msg[0] == '\0' ||
               memchr(d->msg, '\0', sizeof(d->msg)) == NULL) {
        abort();
    }
}

/* Parse the input as given and as each of versions[]; every outcome must be well-formed. */
static int fuzz_cvss(const uint8_t *data, size_t size, const enum cvss_version *versions, size_t n)
{
    struct str s = str_make((const char *)data, size);
    struct cvss_result r;
    struct diag d;

    memset(&d, 0, sizeof(d));
    check(cvss_parse(s, &r, &d), &r, &d);
    for (size_t i = 0; i < n; i++) {
        memset(&d, 0, sizeof(d));
        int rc = cvss_parse_as(s, versions[i], &r, &d);
        check(rc, &r, &d);
        if (rc == 0 && r.version != versions[i])
            abort();
    }
    return 0;
}

#endif
