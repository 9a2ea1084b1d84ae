/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the JVM and PHP inventories and comparators: base/zip (caps, damage),
 * jar_parse on jars cut from the polyglot image and on built fixtures, composer.lock and
 * installed.json, and the Maven and Composer oracle tables (tests/data/versions/). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/str.h"
#include "base/vec.h"
#include "base/xalloc.h"
#include "base/zip.h"
#include "pkgdb/lang.h"
#include "test.h"
#include "version/version.h"

typedef int (*vercmp_fn)(struct str a, struct str b);

static int sgn(int v)
{
    return (v > 0) - (v < 0);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        test_fail(__FILE__, __LINE__, "cannot open '%s'", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (size < 0 || size > (256L << 20))
        test_fail(__FILE__, __LINE__, "'%s': unexpected size %ld", path, size);
    char *p = xmalloc((size_t)size + 1);
    if (fread(p, 1, (size_t)size, f) != (size_t)size)
        test_fail(__FILE__, __LINE__, "cannot read '%s'", path);
    fclose(f);
    p[size] = '\0';
    *n = (size_t)size;
    return p;
}

/* ---- oracle tables (format: tools/gen-versions/common.py) ------------------------------- */

struct vpair {
    struct str a, b;
    int expect, line;
};

struct vtable {
    char *text;
    VEC(struct vpair) pairs;
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Unescape a field in place; false on a bad escape. */
static bool field_unescape(char *p, char *end, size_t *len)
{
    char *start = p, *o = p;
    while (p < end) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        if (end - p < 2)
            return false;
        char c = p[1];
        p += 2;
        if (c == '\\' || c == 't' || c == 'n' || c == 'r') {
            *o++ = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : '\\';
        } else if (c == 'x' && end - p >= 2 && hexval(p[0]) >= 0 && hexval(p[1]) >= 0) {
            *o++ = (char)(hexval(p[0]) * 16 + hexval(p[1]));
            p += 2;
        } else {
            return false;
        }
    }
    *len = (size_t)(o - start);
    return true;
}

/* real_only: leave out the sections of made-up or derived strings ("edge-cases",
 * "synthetic", "equivalent-forms"). */
static void table_load(struct vtable *t, const char *eco, bool real_only)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/versions/%s.txt", test_data_dir(), eco);
    size_t size;
    t->text = slurp(path, &size);
    t->pairs.v = NULL;
    t->pairs.n = t->pairs.cap = 0;
    struct str cur = str_make(t->text, size), line;
    int ln = 0;
    bool skip = false;
    while (str_next_line(&cur, &line)) {
        ln++;
        if (str_has_prefix(line, "# section: "))
            skip = real_only && (str_has_prefix(line, "# section: edge-cases") ||
                                 str_has_prefix(line, "# section: synthetic") ||
                                 str_has_prefix(line, "# section: equivalent-forms"));
        if (!line.len || line.ptr[0] == '#' || skip)
            continue;
        char *p = (char *)(uintptr_t)line.ptr, *end = p + line.len;
        char *t1 = memchr(p, '\t', line.len);
        char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(end - t1 - 1)) : NULL;
        if (!t2)
            test_fail(__FILE__, __LINE__, "%s:%d: expected 3 fields", path, ln);
        struct vpair vp = { .line = ln };
        char *ea = p, *eb = t1 + 1;
        size_t la = 0, lb = 0;
        if (!field_unescape(ea, t1, &la) || !field_unescape(eb, t2, &lb))
            test_fail(__FILE__, __LINE__, "%s:%d: bad escape", path, ln);
        vp.a = str_make(ea, la);
        vp.b = str_make(eb, lb);
        struct str r = str_make(t2 + 1, (size_t)(end - t2 - 1));
        if (str_eq_cstr(r, "-1"))
            vp.expect = -1;
        else if (str_eq_cstr(r, "0"))
            vp.expect = 0;
        else if (str_eq_cstr(r, "1"))
            vp.expect = 1;
        else
            test_fail(__FILE__, __LINE__, "%s:%d: bad result", path, ln);
        VEC_PUSH(&t->pairs, vp);
    }
}

static void table_free(struct vtable *t)
{
    VEC_FREE(&t->pairs);
    free(t->text);
}

/* Every pair in both directions against the oracle; every outcome must occur. */
static void table_check(const char *eco, vercmp_fn cmp, size_t min_pairs)
{
    struct vtable t;
    table_load(&t, eco, false);
    size_t bad = 0, lt = 0, eq = 0, gt = 0;
    for (size_t i = 0; i < t.pairs.n; i++) {
        const struct vpair *vp = &t.pairs.v[i];
        int ab = sgn(cmp(vp->a, vp->b)), ba = sgn(cmp(vp->b, vp->a));
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
    fprintf(stderr, "%s: %zu pairs (%zu <, %zu =, %zu >), %zu mismatches\n", eco, t.pairs.n, lt, eq,
            gt, bad);
    size_t n = t.pairs.n;
    table_free(&t);
    ASSERT_TRUE(n >= min_pairs);
    ASSERT_EQ(bad, 0);
    ASSERT_TRUE(lt > 100 && eq > 100 && gt > 100);
}

static vercmp_fn sort_cmp;

static int sort_thunk(const void *x, const void *y)
{
    return sort_cmp(*(const struct str *)x, *(const struct str *)y);
}

/* Sort all real versions of a table; an intransitive order leaves neighbours out of order
 * or random pairs i < j with cmp > 0. (Made-up strings are left out: Maven's own order is
 * not transitive on some, e.g. "+" < "+.+02" < "+00rc" < "+" or "3-0.0-m27" < "3.0" <
 * "3.0.0-preview" < "3-0.0-m27", and we follow Maven.) */
static void table_sort_check(const char *eco, vercmp_fn cmp)
{
    struct vtable t;
    table_load(&t, eco, true);
    size_t n = t.pairs.n * 2;
    struct str *v = xreallocarray(NULL, n, sizeof(*v));
    for (size_t i = 0; i < t.pairs.n; i++) {
        v[2 * i] = t.pairs.v[i].a;
        v[2 * i + 1] = t.pairs.v[i].b;
    }
    sort_cmp = cmp;
    qsort(v, n, sizeof(*v), sort_thunk);
    size_t bad = 0;
    for (size_t i = 0; i + 1 < n; i++)
        bad += cmp(v[i], v[i + 1]) > 0;
    uint64_t x = 0x243F6A8885A308D3u;
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
    table_free(&t);
    ASSERT_EQ(bad, 0);
}

/* ---- Maven ------------------------------------------------------------------------------ */

TEST(lang_jvm_maven_table)
{
    table_check("maven", maven_vercmp, 10000);
}

TEST(lang_jvm_maven_table_sorts)
{
    table_sort_check("maven", maven_vercmp);
}

/* ---- Composer --------------------------------------------------------------------------- */

TEST(lang_jvm_composer_table)
{
    table_check("composer", composer_vercmp, 10000);
}

TEST(lang_jvm_composer_table_sorts)
{
    table_sort_check("composer", composer_vercmp);
}
