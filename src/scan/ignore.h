/* SPDX-License-Identifier: Apache-2.0 */
/* Ignore files for CI gating: one vulnerability id per line, optionally limited to a package,
 * with an optional expiry date and reason:
 *
 *     # comment
 *     CVE-2023-4911
 *     CVE-2024-6387  exp:2026-12-31  package=openssh-server  # fixed in the next base image
 *     GHSA-xxxx-xxxx-xxxx  expires=2027-01-15
 *
 * An entry matches a finding whose id, or one of whose related ids, is the entry's id. After
 * its expiry date (end of that day, UTC) the entry no longer applies. */
#ifndef VIGIL_SCAN_IGNORE_H
#define VIGIL_SCAN_IGNORE_H

#include <stdbool.h>
#include <time.h>

#include "base/err.h"
#include "base/str.h"
#include "base/vec.h"
#include "vulndb/finding.h"

struct ignore_rule {
    char *id;
    char *package;  /* NULL = any package */
    time_t expires; /* 0 = never */
    char *reason;   /* NULL when none */
    int line;
};

struct ignore_list {
    VEC(struct ignore_rule) rules;
};

void ignore_list_release(struct ignore_list *l);
/* Parse the text of an ignore file; name is used in messages. 0 or -ERR_INVALID with d
 * naming the line. Appends to l. */
int ignore_parse(struct str text, const char *name, struct ignore_list *l, struct diag *d);
/* Read and parse a file. */
int ignore_load(const char *path, struct ignore_list *l, struct diag *d);
/* The rule that silences f at time now, or NULL. */
const struct ignore_rule *ignore_match(const struct ignore_list *l, const struct finding *f,
                                       time_t now);

#endif
