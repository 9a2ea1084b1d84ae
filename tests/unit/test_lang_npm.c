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
#include "pkgdb/npm_yaml.h"
#include "pkgdb/pkg.h"
#include "test.h"
#include "version/version.h"
#include "vtable.h"

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

/* ---- the oracle table (tests/unit/vtable.c) --------------------------------------------- */

TEST(version_npm_table)
{
    vtable_check("npm", npm_vercmp, 10000, 100);
    /* the oracle accepted every version of the table, so npm_version_check must too */
    struct vtable t;
    vtable_load(&t, "npm", false);
    size_t invalid = 0;
    for (size_t i = 0; i < t.n; i++)
        invalid += (npm_version_check(t.pairs[i].a, NULL) != 0) +
                   (npm_version_check(t.pairs[i].b, NULL) != 0);
    vtable_free(&t);
    ASSERT_EQ(invalid, 0);
}

/* Sorting every version of the table leaves no pair out of order (an intransitive
 * comparator would). */
TEST(version_npm_table_sorts)
{
    vtable_sort_check("npm", npm_vercmp, false);
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

/* ---- inventories ----------------------------------------------------------------------- */

#define NPM_DATA "lang/npm/"

struct parsed {
    struct arena a;
    struct pkg_list l;
    struct diag d;
    int rc;
    char *buf;
};

/* Parse tests/data/lang/npm/<rel> with fn; the path handed to the parser is <rel>. */
static void parse_file(struct parsed *p, lang_parse_fn fn, const char *rel)
{
    char path[512];
    size_t len;
    snprintf(path, sizeof(path), "%s/" NPM_DATA "%s", test_data_dir(), rel);
    p->buf = slurp(path, &len);
    if (!p->buf)
        test_fail(__FILE__, __LINE__, "cannot read '%s'", path);
    arena_init(&p->a);
    p->l = (struct pkg_list){ VEC_INIT };
    memset(&p->d, 0, sizeof(p->d));
    p->rc = fn(str_make(p->buf, len), rel, &p->a, &p->l, &p->d);
    if (p->rc < 0)
        fprintf(stderr, "%s: rc %d: %s\n", rel, p->rc, p->d.msg);
}

static void parsed_free(struct parsed *p)
{
    VEC_FREE(&p->l.items);
    arena_release(&p->a);
    free(p->buf);
}

static int line_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* "name\tversion" of every package, sorted (arena strings). */
static char **pkg_lines(struct parsed *p)
{
    char **v = arena_alloc(&p->a, (p->l.items.n + 1) * sizeof(*v));
    for (size_t i = 0; i < p->l.items.n; i++) {
        const struct pkg *k = &p->l.items.v[i];
        size_t nl = strlen(k->name), vl = strlen(k->version);
        v[i] = arena_alloc(&p->a, nl + vl + 2);
        memcpy(v[i], k->name, nl);
        v[i][nl] = '\t';
        memcpy(v[i] + nl + 1, k->version, vl + 1);
    }
    qsort(v, p->l.items.n, sizeof(*v), line_cmp);
    return v;
}

/* The invariants of lang.h for every package of a successful parse. */
static void check_pkgs(const struct parsed *p, const char *rel)
{
    for (size_t i = 0; i < p->l.items.n; i++) {
        const struct pkg *k = &p->l.items.v[i];
        ASSERT_EQ(k->type, PKG_NPM);
        ASSERT_TRUE(k->name[0] && k->version[0]);
        ASSERT_STREQ(k->src_name, k->name);
        ASSERT_STREQ(k->src_version, k->version);
        ASSERT_STREQ(k->arch, "");
        ASSERT_STREQ(k->release, "");
        ASSERT_EQ(k->epoch, 0);
        ASSERT_STREQ(k->db_path, rel);
        ASSERT_EQ(k->layer, -1);
    }
}

/* Parse <rel> and compare its packages with <rel>.truth (sorted "name\tversion" lines
 * written by an independent reader, see make-truth.sh). Returns the package count. */
static size_t check_truth(lang_parse_fn fn, const char *rel)
{
    struct parsed p;
    parse_file(&p, fn, rel);
    ASSERT_EQ(p.rc, 0);
    check_pkgs(&p, rel);
    char **got = pkg_lines(&p);

    char tpath[512];
    size_t tlen;
    snprintf(tpath, sizeof(tpath), "%s/" NPM_DATA "%s.truth", test_data_dir(), rel);
    char *truth = slurp(tpath, &tlen);
    if (!truth)
        test_fail(__FILE__, __LINE__, "cannot read '%s'", tpath);
    size_t n = 0, bad = 0;
    for (char *line = truth, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            nl = line + strlen(line) - 1 + 1;
        char save = *nl;
        *nl = '\0';
        if (line[0] && line[0] != '#') {
            if (n >= p.l.items.n || strcmp(got[n], line) != 0) {
                if (bad++ < 5)
                    fprintf(stderr, "%s: truth '%s', parser '%s'\n", rel, line,
                            n < p.l.items.n ? got[n] : "(end)");
            }
            n++;
        }
        if (!save)
            break;
    }
    fprintf(stderr, "%s: %zu packages, truth %zu\n", rel, p.l.items.n, n);
    size_t count = p.l.items.n;
    free(truth);
    parsed_free(&p);
    ASSERT_EQ(bad, 0);
    ASSERT_EQ(count, n);
    return count;
}

TEST(npm_lock_node_app)
{
    /* the node-app image's /app/package-lock.json (v3): 68 entries, minus the root */
    ASSERT_EQ(check_truth(npm_parse_package_lock, "node-app/package-lock.json"), 67);

    struct parsed p;
    parse_file(&p, npm_parse_package_lock, "node-app/package-lock.json");
    ASSERT_EQ(p.rc, 0);
    int seen = 0;
    for (size_t i = 0; i < p.l.items.n; i++) {
        const struct pkg *k = &p.l.items.v[i];
        if (strcmp(k->name, "express") == 0) {
            ASSERT_STREQ(k->version, "4.17.1");
            ASSERT_STREQ(k->license, "MIT");
            seen |= 1;
        }
        /* three copies of ms: node_modules/ms and two nested ones */
        if (strcmp(k->name, "ms") == 0)
            seen += 2;
    }
    ASSERT_EQ(seen, 1 + 2 * 3);
    parsed_free(&p);
}

TEST(npm_lock_versions)
{
    ASSERT_EQ(check_truth(npm_parse_package_lock, "real/package-lock-v1.json"), 24);
    ASSERT_EQ(check_truth(npm_parse_package_lock, "real/package-lock-v2.json"), 24);
    ASSERT_EQ(check_truth(npm_parse_package_lock, "real/package-lock-v3.json"), 24);
    /* v1: alias, nested and bundled entries; git, github, file and URL versions left out */
    ASSERT_EQ(check_truth(npm_parse_package_lock, "edge/package-lock-v1-edge.json"), 6);
    /* v3: link entries, a named workspace, aliases by name, scoped and nested keys */
    ASSERT_EQ(check_truth(npm_parse_package_lock, "edge/package-lock-v3-edge.json"), 8);
}

TEST(npm_yarn_lock)
{
    ASSERT_EQ(check_truth(npm_parse_yarn_lock, "real/yarn-v1.lock"), 24);
    ASSERT_EQ(check_truth(npm_parse_yarn_lock, "real/yarn-berry.lock"), 24);
    ASSERT_EQ(check_truth(npm_parse_yarn_lock, "edge/yarn-v1-edge.lock"), 6);
    ASSERT_EQ(check_truth(npm_parse_yarn_lock, "edge/yarn-berry-edge.lock"), 4);
}

TEST(npm_pnpm_lock)
{
    ASSERT_EQ(check_truth(npm_parse_pnpm_lock, "real/pnpm-lock-v5.yaml"), 24);
    ASSERT_EQ(check_truth(npm_parse_pnpm_lock, "real/pnpm-lock-v6.yaml"), 24);
    ASSERT_EQ(check_truth(npm_parse_pnpm_lock, "real/pnpm-lock-v9.yaml"), 24);
    ASSERT_EQ(check_truth(npm_parse_pnpm_lock, "edge/pnpm-lock-v5-edge.yaml"), 6);
    ASSERT_EQ(check_truth(npm_parse_pnpm_lock, "edge/pnpm-lock-v6-edge.yaml"), 6);
    /* two documents: the env document's pnpm is not an installed package */
    ASSERT_EQ(check_truth(npm_parse_pnpm_lock, "edge/pnpm-lock-v9-edge.yaml"), 6);
}

/* The eight lockfiles made from real/package.json by npm, yarn and pnpm list the same
 * packages. */
TEST(npm_real_lockfiles_agree)
{
    static const struct {
        lang_parse_fn fn;
        const char *rel;
    } files[] = {
        { npm_parse_package_lock, "real/package-lock-v1.json" },
        { npm_parse_package_lock, "real/package-lock-v2.json" },
        { npm_parse_package_lock, "real/package-lock-v3.json" },
        { npm_parse_yarn_lock, "real/yarn-v1.lock" },
        { npm_parse_yarn_lock, "real/yarn-berry.lock" },
        { npm_parse_pnpm_lock, "real/pnpm-lock-v5.yaml" },
        { npm_parse_pnpm_lock, "real/pnpm-lock-v6.yaml" },
        { npm_parse_pnpm_lock, "real/pnpm-lock-v9.yaml" },
    };
    struct parsed first;
    parse_file(&first, files[0].fn, files[0].rel);
    ASSERT_EQ(first.rc, 0);
    char **want = pkg_lines(&first);
    for (size_t f = 1; f < sizeof(files) / sizeof(files[0]); f++) {
        struct parsed p;
        parse_file(&p, files[f].fn, files[f].rel);
        ASSERT_EQ(p.rc, 0);
        ASSERT_EQ(p.l.items.n, first.l.items.n);
        char **got = pkg_lines(&p);
        for (size_t i = 0; i < p.l.items.n; i++)
            ASSERT_STREQ(got[i], want[i]);
        parsed_free(&p);
    }
    parsed_free(&first);
}

TEST(npm_package_json)
{
    char tpath[512];
    size_t tlen, files = 0;
    snprintf(tpath, sizeof(tpath), "%s/" NPM_DATA "node-app/package-json.truth", test_data_dir());
    char *truth = slurp(tpath, &tlen);
    ASSERT_TRUE(truth != NULL);
    char *save = NULL;
    for (char *line = strtok_r(truth, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        ASSERT_TRUE(t2 != NULL);
        *t1 = *t2 = '\0';
        const char *rel = line;
        struct parsed p;
        parse_file(&p, npm_parse_package_json, rel);
        ASSERT_EQ(p.rc, 0);
        ASSERT_EQ(p.l.items.n, 1);
        check_pkgs(&p, rel);
        ASSERT_STREQ(p.l.items.v[0].name, t1 + 1);
        ASSERT_STREQ(p.l.items.v[0].version, t2 + 1);
        parsed_free(&p);
        files++;
    }
    free(truth);
    ASSERT_EQ(files, 5);
}

/* ---- in-memory cases and malformed input ------------------------------------------------ */

/* Run fn on the text s (an exactly sized heap copy) with a list that already holds one
 * package, which must survive whatever happens. Returns rc; *n gets the packages added. */
static int run(lang_parse_fn fn, const char *s, size_t len, struct diag *d, size_t *n,
               struct arena *a, struct pkg_list *l)
{
    char *copy = xmalloc(len ? len : 1);
    memcpy(copy, s, len);
    *l = (struct pkg_list){ VEC_INIT };
    struct pkg sentinel = { .type = PKG_DEB, .name = "sentinel", .version = "1" };
    VEC_PUSH(&l->items, sentinel);
    memset(d, 0, sizeof(*d));
    int rc = fn(str_make(copy, len), "x/lockfile", a, l, d);
    free(copy);
    ASSERT_TRUE(l->items.n >= 1);
    ASSERT_STREQ(l->items.v[0].name, "sentinel");
    if (rc < 0) {
        ASSERT_EQ(l->items.n, 1);                          /* rolled back */
        ASSERT_TRUE(d->msg[0] != '\0');                    /* says something */
        ASSERT_TRUE(strstr(d->msg, "x/lockfile") != NULL); /* names the file */
    }
    *n = l->items.n - 1;
    return rc;
}

/* rc of parsing s; *n packages. */
static int parse_text(lang_parse_fn fn, const char *s, struct diag *d, size_t *n)
{
    struct arena a;
    struct pkg_list l;
    arena_init(&a);
    int rc = run(fn, s, strlen(s), d, n, &a, &l);
    VEC_FREE(&l.items);
    arena_release(&a);
    return rc;
}

TEST(npm_package_json_cases)
{
    struct diag d;
    size_t n;
    /* a project's package.json without a version is not an installed package */
    ASSERT_EQ(parse_text(npm_parse_package_json, "{\"name\": \"app\", \"private\": true}", &d, &n),
              0);
    ASSERT_EQ(n, 0);
    ASSERT_EQ(parse_text(npm_parse_package_json, "{\"version\": \"1.0.0\"}", &d, &n), 0);
    ASSERT_EQ(n, 0);
    ASSERT_EQ(
        parse_text(npm_parse_package_json, "{\"name\": \"\", \"version\": \"1.0.0\"}", &d, &n), 0);
    ASSERT_EQ(n, 0);
    ASSERT_EQ(parse_text(npm_parse_package_json, "{\"name\": 5, \"version\": \"1.0.0\"}", &d, &n),
              0);
    ASSERT_EQ(n, 0);
    /* "private" does not matter; a byte-order mark is skipped */
    ASSERT_EQ(parse_text(npm_parse_package_json,
                         "\xef\xbb\xbf{\"name\": \"a\", \"version\": \"1.0.0\", \"private\": true}",
                         &d, &n),
              0);
    ASSERT_EQ(n, 1);

    /* malformed: position and path in the message */
    ASSERT_EQ(
        parse_text(npm_parse_package_json, "{\n  \"name\": \"a\",\n  \"version\" 1\n}", &d, &n),
        -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "line 3") != NULL);
    ASSERT_EQ(parse_text(npm_parse_package_json, "[1, 2]", &d, &n), -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "not a JSON object") != NULL);
    ASSERT_EQ(parse_text(npm_parse_package_json, "", &d, &n), -ERR_CORRUPT);
    ASSERT_EQ(parse_text(npm_parse_package_json,
                         "{\"name\": \"a\", \"version\": \"1\", \"name\": \"b\"}", &d, &n),
              -ERR_CORRUPT); /* JSON_REJECT_DUPLICATES */
    ASSERT_TRUE(strstr(d.msg, "duplicate") != NULL);
    ASSERT_EQ(
        parse_text(npm_parse_package_json, "{\"name\": \"a\\u0000b\", \"version\": \"1\"}", &d, &n),
        -ERR_CORRUPT);

    /* over the size cap: refused before reading */
    struct arena a;
    struct pkg_list l = { VEC_INIT };
    arena_init(&a);
    size_t big = (16u << 20) + 1;
    char *buf = xmalloc(big);
    memset(buf, ' ', big);
    ASSERT_EQ(npm_parse_package_json(str_make(buf, big), "big/package.json", &a, &l, &d),
              -ERR_TOO_BIG);
    ASSERT_EQ(l.items.n, 0);
    free(buf);
    arena_release(&a);
}

TEST(npm_lock_cases)
{
    struct diag d;
    size_t n;
    /* an empty v1 lock (no dependencies) and an empty v3 lock (root only) */
    ASSERT_EQ(
        parse_text(npm_parse_package_lock, "{\"name\": \"a\", \"lockfileVersion\": 1}", &d, &n), 0);
    ASSERT_EQ(n, 0);
    ASSERT_EQ(parse_text(npm_parse_package_lock,
                         "{\"lockfileVersion\": 3, \"packages\": {\"\": {\"name\": \"a\", "
                         "\"version\": \"1.0.0\"}}}",
                         &d, &n),
              0);
    ASSERT_EQ(n, 0);
    /* duplicates within one file are reported once */
    ASSERT_EQ(parse_text(npm_parse_package_lock,
                         "{\"lockfileVersion\": 2, \"packages\": {"
                         "\"node_modules/a\": {\"version\": \"1.0.0\"},"
                         "\"node_modules/b/node_modules/a\": {\"version\": \"1.0.0\"},"
                         "\"node_modules/c/node_modules/a\": {\"version\": \"2.0.0\"}}}",
                         &d, &n),
              0);
    ASSERT_EQ(n, 2);

    ASSERT_EQ(parse_text(npm_parse_package_lock, "{\"lockfileVersion\": \"3\"}", &d, &n),
              -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "lockfileVersion") != NULL);
    ASSERT_EQ(
        parse_text(npm_parse_package_lock, "{\"lockfileVersion\": 3, \"packages\": []}", &d, &n),
        -ERR_CORRUPT);
    ASSERT_EQ(parse_text(npm_parse_package_lock,
                         "{\"lockfileVersion\": 3, \"packages\": {\"node_modules/a\": 7}}", &d, &n),
              -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "node_modules/a") != NULL);
    ASSERT_EQ(parse_text(npm_parse_package_lock,
                         "{\"lockfileVersion\": 1, \"dependencies\": {\"a\": {\"version\": \"1\", "
                         "\"dependencies\": []}}}",
                         &d, &n),
              -ERR_CORRUPT);
    ASSERT_EQ(
        parse_text(npm_parse_package_lock,
                   "{\"lockfileVersion\": 3,\n\"packages\": {\n\"node_modules/a\": {\"version\": "
                   "\"1.0.0\"},\n",
                   &d, &n),
        -ERR_CORRUPT); /* truncated */
    ASSERT_TRUE(strstr(d.msg, "line 4") != NULL);

    /* v1 nesting deeper than the cap */
    char deep[16384];
    size_t o = 0;
    o +=
        (size_t)snprintf(deep + o, sizeof(deep) - o, "{\"lockfileVersion\": 1, \"dependencies\": ");
    for (int i = 0; i < 300; i++)
        o += (size_t)snprintf(deep + o, sizeof(deep) - o,
                              "{\"a\": {\"version\": \"1\", \"dependencies\": ");
    o += (size_t)snprintf(deep + o, sizeof(deep) - o, "{}");
    for (int i = 0; i < 300; i++)
        o += (size_t)snprintf(deep + o, sizeof(deep) - o, "}}");
    snprintf(deep + o, sizeof(deep) - o, "}");
    ASSERT_EQ(parse_text(npm_parse_package_lock, deep, &d, &n), -ERR_TOO_BIG);
}

TEST(npm_yarn_cases)
{
    struct diag d;
    size_t n;
    ASSERT_EQ(parse_text(npm_parse_yarn_lock, "# yarn lockfile v1\n\n", &d, &n), 0);
    ASSERT_EQ(n, 0);
    ASSERT_EQ(parse_text(npm_parse_yarn_lock, "a@^1:\r\n  version \"1.0.0\"\r\n", &d, &n), 0);
    ASSERT_EQ(n, 1); /* CRLF line ends */
    ASSERT_EQ(parse_text(npm_parse_yarn_lock, "a@^1:\n   version \"1.0.0\"\n", &d, &n),
              -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "line 2") != NULL);
    ASSERT_EQ(parse_text(npm_parse_yarn_lock, "  version \"1.0.0\"\n", &d, &n), -ERR_CORRUPT);
    ASSERT_EQ(parse_text(npm_parse_yarn_lock, "a@^1\n  version \"1.0.0\"\n", &d, &n), -ERR_CORRUPT);
    ASSERT_EQ(parse_text(npm_parse_yarn_lock, "a@^1:\n  version \"1.0.0\n", &d, &n),
              -ERR_CORRUPT); /* unclosed quote */
    ASSERT_EQ(parse_text(npm_parse_yarn_lock, "a@^1:\n\tversion \"1.0.0\"\n", &d, &n),
              -ERR_CORRUPT);
    struct arena a;
    struct pkg_list l;
    arena_init(&a);
    ASSERT_EQ(run(npm_parse_yarn_lock, "a@^1:\n  version \"1\0\"\n", 20, &d, &n, &a, &l),
              -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "NUL") != NULL);
    VEC_FREE(&l.items);
    arena_release(&a);

    /* berry */
    ASSERT_EQ(parse_text(npm_parse_yarn_lock,
                         "__metadata:\n  version: 8\n\n\"a@npm:^1\":\n  version: 1.0.0\n", &d, &n),
              -ERR_CORRUPT); /* no resolution */
    ASSERT_TRUE(strstr(d.msg, "line 4") != NULL);
    ASSERT_EQ(
        parse_text(npm_parse_yarn_lock,
                   "__metadata:\n  version: 8\n\n\"a@npm:^1\":\n  resolution: \"a@npm:1.0.0\n", &d,
                   &n),
        -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "line 5 column 15") != NULL);
}

TEST(npm_pnpm_cases)
{
    struct diag d;
    size_t n;
    ASSERT_EQ(parse_text(npm_parse_pnpm_lock, "lockfileVersion: '9.0'\n", &d, &n), 0);
    ASSERT_EQ(n, 0);
    ASSERT_EQ(parse_text(npm_parse_pnpm_lock, "lockfileVersion: '9.0'\npackages: {}\n", &d, &n), 0);
    ASSERT_EQ(n, 0);
    ASSERT_EQ(parse_text(npm_parse_pnpm_lock, "packages:\n  a@1.0.0: {}\n", &d, &n), -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "lockfileVersion") != NULL);
    ASSERT_EQ(parse_text(npm_parse_pnpm_lock, "lockfileVersion: x\n", &d, &n), -ERR_CORRUPT);
    ASSERT_EQ(parse_text(npm_parse_pnpm_lock, "lockfileVersion: '9.0'\npackages:\n  - a\n", &d, &n),
              -ERR_CORRUPT);
    ASSERT_EQ(
        parse_text(npm_parse_pnpm_lock, "lockfileVersion: '9.0'\npackages:\n  nover: {}\n", &d, &n),
        -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "line 3") != NULL);
    /* YAML the reader refuses, with line and column */
    ASSERT_EQ(
        parse_text(npm_parse_pnpm_lock, "lockfileVersion: '9.0'\npackages:\n\ta@1: {}\n", &d, &n),
        -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "line 3 column 1") != NULL);
    ASSERT_EQ(parse_text(npm_parse_pnpm_lock, "lockfileVersion: &v '9.0'\n", &d, &n), -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "anchors") != NULL);
    ASSERT_EQ(
        parse_text(npm_parse_pnpm_lock,
                   "lockfileVersion: '9.0'\npackages:\n  a@1:\n    resolution: {integrity: x\n", &d,
                   &n),
        -ERR_CORRUPT);
    ASSERT_EQ(parse_text(npm_parse_pnpm_lock, "lockfileVersion: '9.0'\n  packages: {}\n", &d, &n),
              -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "line 2 column 3") != NULL);
    /* peer suffixes and a v5 "_hash" suffix are cut off */
    ASSERT_EQ(parse_text(npm_parse_pnpm_lock,
                         "lockfileVersion: 5.3\npackages:\n  /a/1.0.0_b@2.0.0+c@3.0.0:\n"
                         "    dev: false\n  /@s/d/2.0.0_abcdef:\n    dev: true\n",
                         &d, &n),
              0);
    ASSERT_EQ(n, 2);
}

/* Every prefix of every fixture: an error (with the list untouched and a message) or a
 * parse; never a crash, a leak or a read past the end (ASan, UBSan). */
TEST(npm_truncated_fixtures)
{
    static const struct {
        lang_parse_fn fn;
        const char *rel;
    } files[] = {
        { npm_parse_package_lock, "real/package-lock-v1.json" },
        { npm_parse_package_lock, "edge/package-lock-v3-edge.json" },
        { npm_parse_package_json, "node-app/node_modules/express/package.json" },
        { npm_parse_yarn_lock, "real/yarn-v1.lock" },
        { npm_parse_yarn_lock, "edge/yarn-berry-edge.lock" },
        { npm_parse_pnpm_lock, "edge/pnpm-lock-v5-edge.yaml" },
        { npm_parse_pnpm_lock, "edge/pnpm-lock-v6-edge.yaml" },
        { npm_parse_pnpm_lock, "edge/pnpm-lock-v9-edge.yaml" },
    };
    size_t errors = 0, runs = 0;
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        char path[512];
        size_t len;
        snprintf(path, sizeof(path), "%s/" NPM_DATA "%s", test_data_dir(), files[f].rel);
        char *text = slurp(path, &len);
        ASSERT_TRUE(text != NULL);
        for (size_t cut = 0; cut < len; cut += 1 + cut / 64) {
            struct arena a;
            struct pkg_list l;
            struct diag d;
            size_t n;
            arena_init(&a);
            errors += run(files[f].fn, text, cut, &d, &n, &a, &l) < 0;
            runs++;
            VEC_FREE(&l.items);
            arena_release(&a);
        }
        free(text);
    }
    fprintf(stderr, "truncated fixtures: %zu runs, %zu errors\n", runs, errors);
    ASSERT_TRUE(errors > runs / 4); /* most cuts break the syntax */
}

/* ---- the YAML subset reader ---------------------------------------------------------- */

TEST(npm_yaml_reader)
{
    struct arena a;
    struct diag d = { 0 };
    struct yaml_node *docs;
    arena_init(&a);
    const char *text = "# comment\n"
                       "a: plain value  # trailing comment\n"
                       "'q''k': \"esc \\\"\\u00e9\\t\\x41\\U0001F600\"\n"
                       "flow: {x: 1, 'y': [p, \"q\", {z: }], w}\n"
                       "seq:\n"
                       "- one\n"
                       "- k: v\n"
                       "  k2: v2\n"
                       "-\n"
                       "  nested: yes\n"
                       "empty:\n"
                       "block: |\n"
                       "  line 1\n"
                       "\n"
                       "    indented\n"
                       "after: x:y\n"
                       "---\n"
                       "second: doc\n";
    ASSERT_EQ(yaml_parse(str_from(text), &a, &docs, &d), 0);
    ASSERT_TRUE(docs && docs->next && !docs->next->next);
    ASSERT_STR_EQ(*yaml_get_str(docs, "a"), "plain value");
    ASSERT_STR_EQ(*yaml_get_str(docs, "q'k"), "esc \"\xc3\xa9\tA\xf0\x9f\x98\x80");
    const struct yaml_node *flow = yaml_get(docs, "flow");
    ASSERT_EQ(flow->kind, YAML_MAP);
    ASSERT_STR_EQ(*yaml_get_str(flow, "x"), "1");
    const struct yaml_node *fy = yaml_get(flow, "y");
    ASSERT_EQ(fy->kind, YAML_SEQ);
    ASSERT_STR_EQ(fy->child->next->str, "q");
    ASSERT_EQ(fy->child->next->next->kind, YAML_MAP);
    ASSERT_TRUE(yaml_get_str(flow, "w") != NULL);
    const struct yaml_node *seq = yaml_get(docs, "seq");
    ASSERT_EQ(seq->kind, YAML_SEQ);
    ASSERT_STR_EQ(seq->child->str, "one");
    ASSERT_STR_EQ(*yaml_get_str(seq->child->next, "k2"), "v2");
    ASSERT_STR_EQ(*yaml_get_str(seq->child->next->next, "nested"), "yes");
    ASSERT_EQ(seq->child->next->next->next, NULL);
    ASSERT_STR_EQ(*yaml_get_str(docs, "empty"), "");
    ASSERT_STR_EQ(*yaml_get_str(docs, "block"), "line 1\n\n  indented\n");
    ASSERT_STR_EQ(*yaml_get_str(docs, "after"), "x:y");
    ASSERT_EQ(yaml_get(docs, "after")->line, 16);
    ASSERT_STR_EQ(*yaml_get_str(docs->next, "second"), "doc");

    /* refused, with a position */
    static const struct {
        const char *text;
        const char *where;
    } bad[] = {
        { "a: b: c\n", "line 1 column 5" }, { "a:\n  b: 1\n c: 2\n", "line 3" },
        { "a: 'x\n", "line 1 column 4" },   { "a: *ref\n", "line 1 column 4" },
        { "? complex\n: v\n", "line 1" },   { "a: {b: 1\n", "line 1" },
        { "a: [1, 2] x\n", "line 1" },      { "a: \"\\q\"\n", "line 1 column 5" },
        { "a: \"\\ud800\"\n", "line 1" },   { "- a\nb: c\n", "line 2" },
        { "a: 1\n- b\n", "line 2" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&d, 0, sizeof(d));
        int rc = yaml_parse(str_from(bad[i].text), &a, &docs, &d);
        if (rc != -ERR_CORRUPT || !strstr(d.msg, bad[i].where))
            test_fail(__FILE__, __LINE__, "case %zu: rc %d, '%s' (want '%s')", i, rc, d.msg,
                      bad[i].where);
    }

    /* nesting cap, block and flow */
    char deep[8192];
    size_t o = 0;
    for (int i = 0; i < 80; i++) /* 80 levels: 3320 bytes */
        o += (size_t)snprintf(deep + o, sizeof(deep) - o, "%*sk:\n", i, "");
    ASSERT_EQ(yaml_parse(str_from(deep), &a, &docs, &d), -ERR_TOO_BIG);
    char flowdeep[300] = "a: ";
    memset(flowdeep + 3, '[', 200);
    flowdeep[203] = '\0';
    ASSERT_EQ(yaml_parse(str_from(flowdeep), &a, &docs, &d), -ERR_TOO_BIG);
    /* nothing at all: no document */
    ASSERT_EQ(yaml_parse(str_from("# only a comment\n\n"), &a, &docs, &d), 0);
    ASSERT_TRUE(docs == NULL);
    arena_release(&a);
}
