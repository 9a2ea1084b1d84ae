/* SPDX-License-Identifier: Apache-2.0 */
/* Loading and checking the version-comparison oracle tables (see vtable.h). */
#include "vtable.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "test.h"

static int sgn(int v)
{
    return (v > 0) - (v < 0);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Unescape [p, end) into dst (never longer than the source); false on a bad escape. */
static bool unescape(const char *p, const char *end, char *dst, size_t *outlen)
{
    size_t n = 0;
    while (p < end) {
        if (*p != '\\') {
            dst[n++] = *p++;
            continue;
        }
        if (end - p < 2)
            return false;
        switch (p[1]) {
        case '\\':
            dst[n++] = '\\';
            p += 2;
            break;
        case 't':
            dst[n++] = '\t';
            p += 2;
            break;
        case 'n':
            dst[n++] = '\n';
            p += 2;
            break;
        case 'r':
            dst[n++] = '\r';
            p += 2;
            break;
        case 'x':
            if (end - p < 4 || hexval(p[2]) < 0 || hexval(p[3]) < 0)
                return false;
            dst[n++] = (char)(hexval(p[2]) * 16 + hexval(p[3]));
            p += 4;
            break;
        default:
            return false;
        }
    }
    *outlen = n;
    return true;
}

void vtable_load(struct vtable *t, const char *eco, bool real_only)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/versions/%s.txt", test_data_dir(), eco);
    FILE *f = fopen(path, "rb");
    if (!f)
        test_fail(__FILE__, __LINE__, "cannot open '%s'", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    ASSERT_TRUE(size > 0 && size < (64L << 20));
    t->text = xmalloc((size_t)size + 1);
    ASSERT_EQ(fread(t->text, 1, (size_t)size, f), size);
    fclose(f);
    t->text[size] = '\0';
    t->pairs = NULL;
    t->n = t->cap = 0;

    char *p = t->text, *end = t->text + size;
    int line = 0;
    bool skip = false;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        line++;
        struct str ls = str_make(p, (size_t)(le - p));
        if (str_has_prefix(ls, "# section: "))
            skip = real_only && (str_has_prefix(ls, "# section: edge-cases") ||
                                 str_has_prefix(ls, "# section: synthetic") ||
                                 str_has_prefix(ls, "# section: equivalent-forms"));
        if (le > p && *p != '#' && !skip) {
            char *t1 = memchr(p, '\t', (size_t)(le - p));
            char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(le - t1 - 1)) : NULL;
            if (!t2)
                test_fail(__FILE__, __LINE__, "%s:%d: expected 3 TAB-separated fields", path, line);
            struct vpair vp = { .line = line };
            size_t la, lb;
            if (!unescape(p, t1, p, &la) || !unescape(t1 + 1, t2, t1 + 1, &lb))
                test_fail(__FILE__, __LINE__, "%s:%d: bad escape", path, line);
            vp.a = str_make(p, la);
            vp.b = str_make(t1 + 1, lb);
            struct str r = str_make(t2 + 1, (size_t)(le - t2 - 1));
            if (str_eq_cstr(r, "-1"))
                vp.expect = -1;
            else if (str_eq_cstr(r, "0"))
                vp.expect = 0;
            else if (str_eq_cstr(r, "1"))
                vp.expect = 1;
            else
                test_fail(__FILE__, __LINE__, "%s:%d: bad result field", path, line);
            if (t->n == t->cap) {
                t->cap = t->cap ? t->cap * 2 : 1024;
                t->pairs = xreallocarray(t->pairs, t->cap, sizeof(*t->pairs));
            }
            t->pairs[t->n++] = vp;
        }
        p = le + 1;
    }
}

void vtable_free(struct vtable *t)
{
    free(t->pairs);
    free(t->text);
}

/* Every pair: sign(cmp(a, b)) is the oracle's, and cmp(b, a) is its opposite. Reports the
 * first few mismatches with their line numbers. */
void vtable_check(const char *eco, vtable_cmp_fn cmp, size_t min_pairs, size_t min_each)
{
    struct vtable t;
    vtable_load(&t, eco, false);
    ASSERT_TRUE(t.n >= min_pairs);
    size_t bad = 0, lt = 0, eq = 0, gt = 0;
    for (size_t i = 0; i < t.n; i++) {
        const struct vpair *vp = &t.pairs[i];
        int ab = sgn(cmp(vp->a, vp->b));
        int ba = sgn(cmp(vp->b, vp->a));
        if (ab != vp->expect || ba != -vp->expect) {
            if (bad < 10)
                fprintf(stderr, "%s.txt:%d: '%.*s' vs '%.*s': oracle %d, got %d (reverse %d)\n",
                        eco, vp->line, STR_FMT(vp->a), STR_FMT(vp->b), vp->expect, ab, ba);
            bad++;
        }
        lt += vp->expect < 0;
        eq += vp->expect == 0;
        gt += vp->expect > 0;
    }
    fprintf(stderr, "%s: %zu pairs (%zu <, %zu =, %zu >), %zu mismatches\n", eco, t.n, lt, eq, gt,
            bad);
    vtable_free(&t);
    ASSERT_EQ(bad, 0);
    /* the tables must exercise every outcome */
    ASSERT_TRUE(lt >= min_each && eq >= min_each && gt >= min_each);
}

static vtable_cmp_fn sort_cmp;

static int sort_cmp_thunk(const void *x, const void *y)
{
    return sort_cmp(*(const struct str *)x, *(const struct str *)y);
}

/* Sort every version of a table and check that the result is consistent: each element is
 * <= its successor, and random pairs (i < j) compare <=. An intransitive comparator leaves
 * violations behind. */
void vtable_sort_check(const char *eco, vtable_cmp_fn cmp, bool real_only)
{
    struct vtable t;
    vtable_load(&t, eco, real_only);
    size_t n = t.n * 2;
    struct str *v = xreallocarray(NULL, n, sizeof(*v));
    for (size_t i = 0; i < t.n; i++) {
        v[2 * i] = t.pairs[i].a;
        v[2 * i + 1] = t.pairs[i].b;
    }
    sort_cmp = cmp;
    qsort(v, n, sizeof(*v), sort_cmp_thunk);
    size_t bad = 0;
    for (size_t i = 0; i + 1 < n; i++)
        bad += cmp(v[i], v[i + 1]) > 0;
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int k = 0; k < 200000; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t i = (size_t)(x % n), j = (size_t)((x >> 32) % n);
        if (i > j) {
            size_t tmp = i;
            i = j;
            j = tmp;
        }
        if (cmp(v[i], v[j]) > 0) {
            if (bad < 5)
                fprintf(stderr, "%s: sorted '%.*s' before '%.*s' but cmp > 0\n", eco, STR_FMT(v[i]),
                        STR_FMT(v[j]));
            bad++;
        }
    }
    free(v);
    vtable_free(&t);
    ASSERT_EQ(bad, 0);
}
