/* SPDX-License-Identifier: Apache-2.0 */
/* Version-comparison oracle tables (tests/data/versions/<eco>.txt): one pair per line,
 * "A<TAB>B<TAB>RESULT" with backslash escapes (\\ \t \n \r \xHH), RESULT -1/0/1 as the
 * ecosystem's reference implementation says; "#" lines are comments, "# section: NAME" starts a
 * section. Shared by the tests of every comparator. */
#ifndef VIGIL_TEST_VTABLE_H
#define VIGIL_TEST_VTABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/str.h"

typedef int (*vtable_cmp_fn)(struct str a, struct str b);

struct vpair {
    struct str a, b;
    int expect;
    int line;
};

struct vtable {
    char *text; /* file contents, unescaped in place */
    struct vpair *pairs;
    size_t n, cap;
};

/* Load a table (the test fails on a malformed one). real_only leaves out the sections of
 * made-up or derived strings ("edge-cases", "synthetic", "equivalent-forms"). */
void vtable_load(struct vtable *t, const char *eco, bool real_only);
void vtable_free(struct vtable *t);
/* Every pair in both directions: sign(cmp(a, b)) is the oracle's and cmp(b, a) its opposite.
 * Fails the test on any mismatch (the first ones are printed with their lines), with fewer
 * than min_pairs pairs, or when an outcome (<, =, >) occurs fewer than min_each times. */
void vtable_check(const char *eco, vtable_cmp_fn cmp, size_t min_pairs, size_t min_each);
/* Sort all versions of the table and check the order is consistent (each element <= its
 * successor; 200,000 random pairs i < j compare <=): an intransitive comparator fails. */
void vtable_sort_check(const char *eco, vtable_cmp_fn cmp, bool real_only);

#endif
