/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the compact range rows and package entry lists. The first byte picks the ecosystem
 * family; the rest is read twice: as raw row/entry-list bytes (as a damaged database would
 * hold them) and as a small text form of an affected entry, one item per line:
 *   "E" / "S"             start an ECOSYSTEM / SEMVER range
 *   "i V" "f V" "l V" "L V"  events          "v V" an explicit version     "? V" a version to test
 * The encoded row is checked for every test version: evaluation must succeed, explicitly
 * listed versions must be affected, a reported fix must be one of the row's fixes, and a
 * version equal to a fix of a single introduced-0 range must not be affected. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "vulndb/match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ITEMS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 16)
        return 0;
    enum eco_family fam = (enum eco_family)(data[0] % 4);
    const char *p = (const char *)data + 1;
    size_t n = size - 1;

    /* raw bytes as a row and as an entry list */
    struct arow_result r;
    arow_check(p, n, fam, STR_LIT("1.0"), &r);
    struct entry_iter it = { (const unsigned char *)p, n, 0 };
    int64_t adv;
    const void *row;
    size_t len;
    int guard = 0;
    while (entry_next(&it, &adv, &row, &len) > 0 && guard++ < 1000)
        arow_check(row, len, fam, STR_LIT("2.0"), &r);

    /* text form */
    char *text = malloc(n + 1);
    if (!text)
        return 0;
    memcpy(text, p, n);
    text[n] = '\0';
    struct osv_range ranges[8];
    struct osv_event events[8][MAX_ITEMS];
    const char *versions[MAX_ITEMS], *tests[MAX_ITEMS];
    size_t n_ranges = 0, n_versions = 0, n_tests = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char k = line[0];
        const char *v = line[1] == ' ' ? line + 2 : NULL;
        if ((k == 'E' || k == 'S') && n_ranges < 8) {
            ranges[n_ranges].type = k == 'E' ? OSV_RANGE_ECOSYSTEM : OSV_RANGE_SEMVER;
            ranges[n_ranges].events = events[n_ranges];
            ranges[n_ranges].n_events = 0;
            n_ranges++;
        } else if ((k == 'i' || k == 'f' || k == 'l' || k == 'L') && v && *v && n_ranges &&
                   ranges[n_ranges - 1].n_events < MAX_ITEMS) {
            struct osv_range *rg = &ranges[n_ranges - 1];
            rg->events[rg->n_events].kind = (enum osv_event_kind)k;
            rg->events[rg->n_events].version = v;
            rg->n_events++;
        } else if (k == 'v' && v && *v && n_versions < MAX_ITEMS) {
            versions[n_versions++] = v;
        } else if (k == '?' && v && n_tests < MAX_ITEMS) {
            tests[n_tests++] = v;
        }
    }
    struct osv_affected a = { .ecosystem = "fuzz",
                              .name = "pkg",
                              .ranges = ranges,
                              .n_ranges = n_ranges,
                              .versions = versions,
                              .n_versions = n_versions };
    struct buf b;
    buf_init(&b, AROW_MAX + 4096);
    if (arow_encode(&a, fam, NULL, 0, &b) == 0) {
        for (size_t t = 0; t < n_tests + n_versions; t++) {
            const char *v = t < n_tests ? tests[t] : versions[t - n_tests];
            if (arow_check(b.data, b.len, fam, str_from(v), &r) != 0)
                abort();
            if (t >= n_tests && !r.affected)
                abort();
            if (r.fixed[0] &&
                (r.fixed < b.data + 2 || r.fixed >= b.data + b.len || r.fixed[-1] != 'f'))
                abort();
        }
        /* [introduced 0, fixed X]: X itself is never affected (no other range, no list) */
        if (n_ranges == 1 && n_versions == 0 && ranges[0].n_events == 2 &&
            eco_vercmp(fam, ranges[0].type)) {
            const struct osv_event *e = ranges[0].events;
            bool i0 = (e[0].kind == OSV_EV_INTRODUCED && strcmp(e[0].version, "0") == 0);
            bool i1 = (e[1].kind == OSV_EV_INTRODUCED && strcmp(e[1].version, "0") == 0);
            const struct osv_event *fx = i0 ? &e[1] : i1 ? &e[0] : NULL;
            if (fx && fx->kind == OSV_EV_FIXED) {
                if (arow_check(b.data, b.len, fam, str_from(fx->version), &r) != 0 || r.affected)
                    abort();
            }
        }
    }
    buf_release(&b);
    free(text);
    return 0;
}
