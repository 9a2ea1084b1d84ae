/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for npm: the version comparator against node-semver's table
 * (tests/data/versions/npm.txt, every pair both ways, plus a sort of all its versions), hand
 * edge cases, and the four inventory parsers on real and hand-written fixtures in
 * tests/data/lang/npm/, each checked against a *.truth file made by an independent reader
 * (jq, PyYAML, awk: tests/data/lang/npm/make-truth.sh). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/str.h"
#include "base/xalloc.h"
#include "pkgdb/lang.h"
#include "pkgdb/pkg.h"
#include "test.h"
#include "version/version.h"

static int sgn(int v)
{
    return (v > 0) - (v < 0);
}

/* Whole file into memory (exactly sized, so ASan sees reads past the end); NULL when it
 * cannot be read. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (size < 0 || size > (64L << 20)) {
        fclose(f);
        return NULL;
    }
    char *p = xmalloc((size_t)size + 1);
    size_t got = fread(p, 1, (size_t)size, f);
    fclose(f);
    if (got != (size_t)size) {
        free(p);
        return NULL;
    }
    p[size] = '\0';
    *len = (size_t)size;
    return p;
}

/* ---- the oracle table ------------------------------------------------------------------ */

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
        char c = p[1];
        if (c == 'x') {
            if (end - p < 4 || hexval(p[2]) < 0 || hexval(p[3]) < 0)
                return false;
            dst[n++] = (char)(hexval(p[2]) * 16 + hexval(p[3]));
            p += 4;
            continue;
        }
        if (c == '\\')
            dst[n++] = '\\';
        else if (c == 't')
            dst[n++] = '\t';
        else if (c == 'n')
            dst[n++] = '\n';
        else if (c == 'r')
            dst[n++] = '\r';
        else
            return false;
        p += 2;
    }
    *outlen = n;
    return true;
}

static void table_load(struct vtable *t, const char *eco)
{
    char path[512];
    size_t size;
    snprintf(path, sizeof(path), "%s/versions/%s.txt", test_data_dir(), eco);
    t->text = slurp(path, &size);
    if (!t->text)
        test_fail(__FILE__, __LINE__, "cannot read '%s'", path);
    t->pairs = NULL;
    t->n = t->cap = 0;

    char *p = t->text, *end = t->text + size;
    int line = 0;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        line++;
        if (le > p && *p != '#') {
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

static void table_free(struct vtable *t)
{
    free(t->pairs);
    free(t->text);
}

TEST(version_npm_table)
{
    struct vtable t;
    table_load(&t, "npm");
    ASSERT_TRUE(t.n >= 10000);
    size_t bad = 0, lt = 0, eq = 0, gt = 0, invalid = 0;
    for (size_t i = 0; i < t.n; i++) {
        const struct vpair *vp = &t.pairs[i];
        int ab = sgn(npm_vercmp(vp->a, vp->b));
        int ba = sgn(npm_vercmp(vp->b, vp->a));
        if (ab != vp->expect || ba != -vp->expect) {
            if (bad < 10)
                fprintf(stderr, "npm.txt:%d: '%.*s' vs '%.*s': oracle %d, got %d (reverse %d)\n",
                        vp->line, STR_FMT(vp->a), STR_FMT(vp->b), vp->expect, ab, ba);
            bad++;
        }
        /* the oracle accepted both, so both are valid for us too */
        invalid += npm_version_check(vp->a, NULL) != 0;
        invalid += npm_version_check(vp->b, NULL) != 0;
        lt += vp->expect < 0;
        eq += vp->expect == 0;
        gt += vp->expect > 0;
    }
    fprintf(stderr, "npm: %zu pairs (%zu <, %zu =, %zu >), %zu mismatches\n", t.n, lt, eq, gt, bad);
    table_free(&t);
    ASSERT_EQ(bad, 0);
    ASSERT_EQ(invalid, 0);
    ASSERT_TRUE(lt > 100 && eq > 100 && gt > 100);
}

static int sort_thunk(const void *x, const void *y)
{
    return npm_vercmp(*(const struct str *)x, *(const struct str *)y);
}

/* Sorting every version of the table leaves no pair out of order (an intransitive
 * comparator would). */
TEST(version_npm_table_sorts)
{
    struct vtable t;
    table_load(&t, "npm");
    size_t n = t.n * 2;
    struct str *v = xreallocarray(NULL, n, sizeof(*v));
    for (size_t i = 0; i < t.n; i++) {
        v[2 * i] = t.pairs[i].a;
        v[2 * i + 1] = t.pairs[i].b;
    }
    qsort(v, n, sizeof(*v), sort_thunk);
    size_t bad = 0;
    for (size_t i = 0; i + 1 < n; i++)
        bad += npm_vercmp(v[i], v[i + 1]) > 0;
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
        bad += npm_vercmp(v[i], v[j]) > 0;
    }
    free(v);
    table_free(&t);
    ASSERT_EQ(bad, 0);
}

/* ---- hand-written cases ---------------------------------------------------------------- */

#define CMP(a, b, want)                                                \
    do {                                                               \
        ASSERT_EQ(sgn(npm_vercmp(str_from(a), str_from(b))), (want));  \
        ASSERT_EQ(sgn(npm_vercmp(str_from(b), str_from(a))), -(want)); \
    } while (0)
#define VALID(s)   ASSERT_EQ(npm_version_check(str_from(s), NULL), 0)
#define INVALID(s) ASSERT_EQ(npm_version_check(str_from(s), NULL), -ERR_VERSION)

TEST(version_npm_edges)
{
    /* SemVer 2.0 precedence (the spec's own example chain) */
    CMP("1.0.0-alpha", "1.0.0-alpha.1", -1);
    CMP("1.0.0-alpha.1", "1.0.0-alpha.beta", -1);
    CMP("1.0.0-alpha.beta", "1.0.0-beta", -1);
    CMP("1.0.0-beta", "1.0.0-beta.2", -1);
    CMP("1.0.0-beta.2", "1.0.0-beta.11", -1);
    CMP("1.0.0-beta.11", "1.0.0-rc.1", -1);
    CMP("1.0.0-rc.1", "1.0.0", -1);
    CMP("1.9.0", "1.10.0", -1);
    CMP("1.10.0", "1.11.0", -1);
    /* build metadata does not count; loose prefixes and white space are dropped */
    CMP("1.0.0+a", "1.0.0+b", 0);
    CMP("v1.2.3", "1.2.3", 0);
    CMP("=v 1.2.3", "1.2.3", 0);
    CMP("\xc2\xa0"
        "1.2.3\xef\xbb\xbf",
        "1.2.3", 0); /* U+00A0, U+FEFF */
    /* loose: leading zeros, a prerelease without '-', "-" alone as an identifier */
    CMP("01.002.0003", "1.2.3", 0);
    CMP("1.0.0-01", "1.0.0-1", 0);
    CMP("1.0.0beta", "1.0.0-beta", 0);
    CMP("1.0.0-", "1.0.0--", 0);
    CMP("1.0.0-", "1.0.0-0", 1); /* a word after a number */
    /* the loose pattern backtracks into the patch digits */
    CMP("1.2.34.5", "1.2.3-4.5", 0);
    CMP("1.2.34.5", "1.2.3", -1);
    /* numbers of any length compare exactly */
    CMP("1.0.0-123456789012345678901", "1.0.0-123456789012345678902", -1);
    CMP("9007199254740991.0.0", "9007199254740990.0.0", 1);
    /* garbage sorts below every version, byte-wise among itself, never equal to a version */
    CMP("1.2", "0.0.0-0", -1);
    CMP("1.2", "1.3", -1);
    CMP("", "0.0.0", -1);
    CMP("", "", 0);
    CMP("9007199254740992.0.0", "0.0.1", -1); /* over MAX_SAFE_INTEGER: rejected */
    ASSERT_EQ(npm_vercmp(STR_NULL, STR_NULL), 0);
    ASSERT_EQ(sgn(npm_vercmp(str_make("1.0.0\0", 6), str_from("1.0.0"))), -1);

    /* 256 UTF-16 units at most, counted before trimming */
    char longv[300];
    memset(longv, ' ', sizeof(longv));
    memcpy(longv + 251, "1.0.0", 6); /* 256 characters */
    VALID(longv);
    memset(longv, ' ', sizeof(longv));
    memcpy(longv + 252, "1.0.0", 6); /* 257 */
    INVALID(longv);
}

TEST(version_npm_check)
{
    VALID("1.2.3");
    VALID("0.0.0-0");
    VALID("1.2.3-alpha.1+build.5");
    VALID("v1.2.3");
    VALID(" =1.2.3 ");
    VALID("1.2.3beta");
    VALID("1.2.3-");
    INVALID("");
    INVALID("1.2");
    INVALID("1.2.3.4");
    INVALID("1.2.3-a..b");
    INVALID("1.2.3+");
    INVALID("1.2.3+a+b");
    INVALID("1.2.3 beta");
    INVALID("1.2.3-\xc3\xa9");
    INVALID("a.b.c");

    struct diag d = { 0 };
    ASSERT_EQ(npm_version_check(str_from("1.x.3"), &d), -ERR_VERSION);
    ASSERT_EQ(d.offset, 2);
    ASSERT_TRUE(strstr(d.msg, "minor") != NULL);
    ASSERT_EQ(npm_version_check(str_from("1.2.3-a..b"), &d), -ERR_VERSION);
    ASSERT_EQ(d.offset, 8);
    ASSERT_EQ(npm_version_check(str_from("1.2.3+a+b"), &d), -ERR_VERSION);
    ASSERT_EQ(d.offset, 7);
}
