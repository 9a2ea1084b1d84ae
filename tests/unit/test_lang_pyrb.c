/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the Python and Ruby pieces: the PEP 440 and RubyGems comparators against
 * their oracle tables (tests/data/versions/{pep440,gem}.txt, every pair both ways, plus a sort
 * of all their versions) and hand-written edge cases; the package-file parsers
 * (src/pkgdb/python.c, ruby.c, toml.c) on files cut from the polyglot test image and Debian's
 * ruby, hand-written lockfiles, and malformed input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/str.h"
#include "base/xalloc.h"
#include "test.h"
#include "version/version.h"

typedef int (*pyrb_cmp_fn)(struct str a, struct str b);

static int sgn(int v)
{
    return (v > 0) - (v < 0);
}

/* ---- oracle tables ------------------------------------------------------------------------ */

struct pyrb_pair {
    struct str a, b;
    int expect;
    int line;
};

struct pyrb_table {
    char *text;
    struct pyrb_pair *v;
    size_t n, cap;
};

static int pyrb_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Unescape a field in place (\\ \t \n \r \xHH); the length goes to *n. */
static bool pyrb_unescape(char *p, char *end, size_t *n)
{
    char *o = p, *start = p;
    while (p < end) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        if (end - p < 2)
            return false;
        char c = p[1];
        if (c == 'x') {
            if (end - p < 4 || pyrb_hex(p[2]) < 0 || pyrb_hex(p[3]) < 0)
                return false;
            *o++ = (char)(pyrb_hex(p[2]) * 16 + pyrb_hex(p[3]));
            p += 4;
            continue;
        }
        if (c == '\\')
            *o++ = '\\';
        else if (c == 't')
            *o++ = '\t';
        else if (c == 'n')
            *o++ = '\n';
        else if (c == 'r')
            *o++ = '\r';
        else
            return false;
        p += 2;
    }
    *n = (size_t)(o - start);
    return true;
}

static char *pyrb_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        test_fail(__FILE__, __LINE__, "cannot open '%s'", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (size < 0 || size > (64L << 20)) {
        fclose(f);
        test_fail(__FILE__, __LINE__, "'%s': bad size", path);
    }
    char *buf = xmalloc((size_t)size + 1);
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    if (got != (size_t)size) {
        free(buf);
        test_fail(__FILE__, __LINE__, "'%s': short read", path);
    }
    buf[size] = '\0';
    *len = (size_t)size;
    return buf;
}

static void pyrb_table_load(struct pyrb_table *t, const char *eco)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/versions/%s.txt", test_data_dir(), eco);
    size_t size;
    t->text = pyrb_slurp(path, &size);
    t->v = NULL;
    t->n = t->cap = 0;
    char *p = t->text, *end = t->text + size;
    for (int line = 1; p < end; line++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        if (le > p && *p != '#') {
            char *t1 = memchr(p, '\t', (size_t)(le - p));
            char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(le - t1 - 1)) : NULL;
            size_t la, lb;
            if (!t2 || !pyrb_unescape(p, t1, &la) || !pyrb_unescape(t1 + 1, t2, &lb))
                test_fail(__FILE__, __LINE__, "%s:%d: bad line", path, line);
            struct str r = str_make(t2 + 1, (size_t)(le - t2 - 1));
            int want = str_eq_cstr(r, "-1") ? -1 : str_eq_cstr(r, "1") ? 1 : 0;
            if (!want && !str_eq_cstr(r, "0"))
                test_fail(__FILE__, __LINE__, "%s:%d: bad result field", path, line);
            if (t->n == t->cap) {
                t->cap = t->cap ? t->cap * 2 : 1024;
                t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
            }
            t->v[t->n++] = (struct pyrb_pair){ str_make(p, la), str_make(t1 + 1, lb), want, line };
        }
        p = le + 1;
    }
}

static void pyrb_table_free(struct pyrb_table *t)
{
    free(t->v);
    free(t->text);
}

static void pyrb_table_check(const char *eco, pyrb_cmp_fn cmp, size_t min_pairs)
{
    struct pyrb_table t;
    pyrb_table_load(&t, eco);
    size_t bad = 0, lt = 0, eq = 0, gt = 0;
    for (size_t i = 0; i < t.n; i++) {
        const struct pyrb_pair *vp = &t.v[i];
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
    fprintf(stderr, "%s: %zu pairs (%zu <, %zu =, %zu >), %zu mismatches\n", eco, t.n, lt, eq, gt,
            bad);
    size_t n = t.n;
    pyrb_table_free(&t);
    ASSERT_EQ(bad, 0);
    ASSERT_TRUE(n >= min_pairs);
    ASSERT_TRUE(lt > 100 && eq > 100 && gt > 100);
}

static pyrb_cmp_fn pyrb_sort_fn;

static int pyrb_sort_thunk(const void *x, const void *y)
{
    return pyrb_sort_fn(*(const struct str *)x, *(const struct str *)y);
}

/* Sort every version of a table; an intransitive order leaves neighbours or random later
 * elements out of order. */
static void pyrb_table_sort_check(const char *eco, pyrb_cmp_fn cmp)
{
    struct pyrb_table t;
    pyrb_table_load(&t, eco);
    size_t n = t.n * 2;
    struct str *v = xreallocarray(NULL, n, sizeof(*v));
    for (size_t i = 0; i < t.n; i++) {
        v[2 * i] = t.v[i].a;
        v[2 * i + 1] = t.v[i].b;
    }
    pyrb_sort_fn = cmp;
    qsort(v, n, sizeof(*v), pyrb_sort_thunk);
    size_t bad = 0;
    for (size_t i = 0; i + 1 < n; i++)
        bad += cmp(v[i], v[i + 1]) > 0;
    uint64_t x = 0x2545F4914F6CDD1Du;
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
        bad += cmp(v[i], v[j]) > 0;
    }
    free(v);
    pyrb_table_free(&t);
    ASSERT_EQ(bad, 0);
}

TEST(lang_pep440_table)
{
    pyrb_table_check("pep440", pep440_vercmp, 10000);
}

TEST(lang_pep440_table_sorts)
{
    pyrb_table_sort_check("pep440", pep440_vercmp);
}

TEST(lang_gem_table)
{
    pyrb_table_check("gem", gem_vercmp, 10000);
}

TEST(lang_gem_table_sorts)
{
    pyrb_table_sort_check("gem", gem_vercmp);
}

/* ---- hand-written comparator cases ------------------------------------------------------- */

#define CMP(fn, a, b, want)                                    \
    do {                                                       \
        ASSERT_EQ(sgn(fn(str_from(a), str_from(b))), (want));  \
        ASSERT_EQ(sgn(fn(str_from(b), str_from(a))), -(want)); \
    } while (0)

#define VALID(fn, s)   ASSERT_EQ(fn(str_from(s), NULL), 0)
#define INVALID(fn, s) ASSERT_EQ(fn(str_from(s), NULL), -ERR_VERSION)

TEST(lang_pep440_edges)
{
    /* the order PEP 440's summary gives */
    CMP(pep440_vercmp, "1.0.dev456", "1.0a1", -1);
    CMP(pep440_vercmp, "1.0a1", "1.0a2.dev456", -1);
    CMP(pep440_vercmp, "1.0a2.dev456", "1.0a12.dev456", -1);
    CMP(pep440_vercmp, "1.0a12", "1.0b1.dev456", -1);
    CMP(pep440_vercmp, "1.0b2", "1.0b2.post345.dev456", -1);
    CMP(pep440_vercmp, "1.0b2.post345.dev456", "1.0b2.post345", -1);
    CMP(pep440_vercmp, "1.0rc1.dev456", "1.0rc1", -1);
    CMP(pep440_vercmp, "1.0rc1", "1.0", -1);
    CMP(pep440_vercmp, "1.0", "1.0+abc.5", -1);
    CMP(pep440_vercmp, "1.0+abc.5", "1.0+abc.7", -1);
    CMP(pep440_vercmp, "1.0+abc.7", "1.0+5", -1);
    CMP(pep440_vercmp, "1.0+5", "1.0.post456.dev34", -1);
    CMP(pep440_vercmp, "1.0.post456.dev34", "1.0.post456", -1);
    CMP(pep440_vercmp, "1.0.post456", "1.1.dev1", -1);
    /* normalisation */
    CMP(pep440_vercmp, "1.0-alpha1", "1.0a1", 0);
    CMP(pep440_vercmp, "1.0.post-1", "1.0.post1", 0);
    CMP(pep440_vercmp, "1.0-1", "1.0.post1", 0);
    CMP(pep440_vercmp, "1.0rev", "1.0.post0", 0);
    CMP(pep440_vercmp, "1.0C1", "1.0rc1", 0);
    CMP(pep440_vercmp, "1.0preview2", "1.0rc2", 0);
    CMP(pep440_vercmp, "v1.0", "1.0.0", 0);
    CMP(pep440_vercmp, "0!1.0", "1", 0);
    CMP(pep440_vercmp, "1!0.1", "999", 1);
    CMP(pep440_vercmp, " 1.0\n", "1.0", 0);
    CMP(pep440_vercmp, "1.0+ABC", "1.0+abc", 0);
    CMP(pep440_vercmp, "1.0+a-1", "1.0+a.1", 0);
    CMP(pep440_vercmp, "1.0+007", "1.0+7", 0);
    CMP(pep440_vercmp, "1.0a-", "1.0a0", 0);
    CMP(pep440_vercmp, "1.0a--1", "1.0a0.post1", 0);
    /* numbers of any length */
    CMP(pep440_vercmp, "1.99999999999999999999999", "1.100000000000000000000000", -1);
    /* invalid strings sort below valid ones, as packaging 21.3's LegacyVersion */
    CMP(pep440_vercmp, "1.0-final", "0.0.1.dev0", -1);
    CMP(pep440_vercmp, "", "0", -1);
    CMP(pep440_vercmp, "0.3.2d", "0.3.2e", -1);
    CMP(pep440_vercmp, "0.3.2d.dev", "0.3.2d", -1);
    CMP(pep440_vercmp, "0.3m1", "0.3m2", -1);
    CMP(pep440_vercmp, "1.0-SNAPSHOT", "1.0-snapshot", 0);
    CMP(pep440_vercmp, "1.0.0-final", "1-final", 0); /* zeros before a letter part go */
    CMP(pep440_vercmp, "1-0-snap", "1--snap", 0);    /* "-0-": the zero goes before the '-' */
    CMP(pep440_vercmp, "1-0-snap", "1-snap", -1);
    CMP(pep440_vercmp, "1.x.00000001", "1.x.000000001", 1); /* digits padded to 8, as strings */
    ASSERT_EQ(pep440_vercmp(STR_NULL, STR_NULL), 0);
    ASSERT_EQ(sgn(pep440_vercmp(STR_NULL, str_from("1.0"))), -1);
    /* bytes: NUL and high bytes are "other" characters */
    ASSERT_EQ(sgn(pep440_vercmp(str_make("1.0\0", 4), str_from("1.0"))), -1);
    CMP(pep440_vercmp, "1.0\xc3\xa9", "1.0\xc3\xa8", 1);
}

TEST(lang_pep440_check)
{
    VALID(pep440_version_check, "1.0");
    VALID(pep440_version_check, "1!2.0.post3.dev4+ubuntu.1");
    VALID(pep440_version_check, " v1.0rc1\n");
    VALID(pep440_version_check, "1.0a-");
    VALID(pep440_version_check, "2022.9.24");
    INVALID(pep440_version_check, "");
    INVALID(pep440_version_check, "1.0-");
    INVALID(pep440_version_check, "1.0+");
    INVALID(pep440_version_check, "1.0_1");
    INVALID(pep440_version_check, "1.0.");
    INVALID(pep440_version_check, "1.0-final");
    INVALID(pep440_version_check, "1.0\xc2\xa0");
    struct diag d = { 0 };
    ASSERT_EQ(pep440_version_check(str_from("1.0.0-final"), &d), -ERR_VERSION);
    ASSERT_EQ(d.offset, 5);
    ASSERT_TRUE(strstr(d.msg, "'-'") != NULL);
    ASSERT_EQ(pep440_version_check(str_from("1.0+"), &d), -ERR_VERSION);
    ASSERT_EQ(d.offset, 4);
}

TEST(lang_gem_edges)
{
    CMP(gem_vercmp, "1.0", "1", 0);
    CMP(gem_vercmp, "1.0.0", "1.0", 0);
    CMP(gem_vercmp, "1.0.a", "1.0", -1);
    CMP(gem_vercmp, "1.0.a", "1.a", 0);      /* zeros before the first letter go */
    CMP(gem_vercmp, "1.0.a.0", "1.0.a", 0);  /* and trailing zeros after it */
    CMP(gem_vercmp, "1.0.a.0.b", "1.a", -1); /* padding 0 beats a letter */
    CMP(gem_vercmp, "1.0-1", "1.0.pre.1", 0);
    CMP(gem_vercmp, "1.0-1", "1.0", -1);
    CMP(gem_vercmp, "1.0.rc1", "1.0.rc10", -1);
    CMP(gem_vercmp, "1.0.RC1", "1.0.rc1", -1); /* letters compare byte-wise */
    CMP(gem_vercmp, "1.0.beta", "1.0.alpha", 1);
    CMP(gem_vercmp, "1.10", "1.9", 1);
    CMP(gem_vercmp, "", "0", 0);
    CMP(gem_vercmp, "99999999999999999999999.1", "99999999999999999999999", 1);
    CMP(gem_vercmp, "1.0.0.1", "1.0.1", -1);
    CMP(gem_vercmp, "1.0.0.a", "1.0.1", -1);
    /* strings Gem::Version refuses are ordered by the same segment rule */
    CMP(gem_vercmp, "1_0", "1.0", 0);
    CMP(gem_vercmp, "abc", "", -1);
    CMP(gem_vercmp, "1.0 x", "1.0.x", 0);
    ASSERT_EQ(gem_vercmp(STR_NULL, STR_NULL), 0);
    ASSERT_EQ(sgn(gem_vercmp(str_make("1.0\0\x01", 5), str_from("1"))), 0);
}

TEST(lang_gem_check)
{
    VALID(gem_version_check, "1.0");
    VALID(gem_version_check, "");
    VALID(gem_version_check, " 1.0.rc1\n");
    VALID(gem_version_check, "1.0-x86-linux");
    VALID(gem_version_check, "1.0--");
    VALID(gem_version_check, "1.0a");
    INVALID(gem_version_check, "1a");
    INVALID(gem_version_check, "a");
    INVALID(gem_version_check, "1.0-");
    INVALID(gem_version_check, "1.0.");
    INVALID(gem_version_check, "1.0 1");
    INVALID(gem_version_check, "1.0_1");
    struct diag d = { 0 };
    ASSERT_EQ(gem_version_check(str_from("1.2.3_p1"), &d), -ERR_VERSION);
    ASSERT_EQ(d.offset, 5);
}
