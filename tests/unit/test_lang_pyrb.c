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
#include "base/vec.h"
#include "base/xalloc.h"
#include "pkgdb/lang.h"
#include "pkgdb/toml.h"
#include "test.h"
#include "version/version.h"
#include "vtable.h"

typedef int (*pyrb_cmp_fn)(struct str a, struct str b);

static int sgn(int v)
{
    return (v > 0) - (v < 0);
}

/* ---- oracle tables ------------------------------------------------------------------------ */

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

TEST(lang_pep440_table)
{
    vtable_check("pep440", pep440_vercmp, 10000, 0);
}

TEST(lang_pep440_table_sorts)
{
    vtable_sort_check("pep440", pep440_vercmp, false);
}

TEST(lang_gem_table)
{
    vtable_check("gem", gem_vercmp, 10000, 0);
}

TEST(lang_gem_table_sorts)
{
    vtable_sort_check("gem", gem_vercmp, false);
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
    ASSERT_EQ(gem_vercmp(STR_NULL, str_from("0.0")), 0);
    ASSERT_EQ(gem_version_check(STR_NULL, NULL), 0);
    ASSERT_EQ(pep440_version_check(STR_NULL, NULL), -ERR_VERSION);
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

/* ---- package files: fixtures against independent readers ---------------------------------- */

static struct str pyrb_read(const char *rel, char **owned)
{
    char path[512];
    size_t len;
    snprintf(path, sizeof(path), "%s/lang/%s", test_data_dir(), rel);
    *owned = pyrb_slurp(path, &len);
    return str_make(*owned, len);
}

static lang_parse_fn pyrb_parser_for(const char *file)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    if (strcmp(base, "METADATA") == 0 || strcmp(base, "PKG-INFO") == 0 ||
        str_has_suffix(str_from(base), ".egg-info"))
        return python_parse_metadata;
    if (strcmp(base, "Pipfile.lock") == 0)
        return python_parse_pipfile_lock;
    if (strcmp(base, "Gemfile.lock") == 0)
        return ruby_parse_gemfile_lock;
    if (str_has_suffix(str_from(base), ".lock"))
        return python_parse_poetry_lock;
    if (str_has_suffix(str_from(base), ".gemspec"))
        return ruby_parse_gemspec;
    if (strncmp(base, "requirements", 12) == 0)
        return python_parse_requirements;
    return NULL;
}

static int pyrb_row_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Parse every file expected.tsv names (under tests/data/lang/ECO) and compare the
 * "file\tname\tversion" rows, sorted, with the file's. Also checks the fields every parser
 * must fill. Returns the number of packages. */
static size_t pyrb_fixture_check(const char *eco, enum pkg_type type)
{
    char rel[256];
    snprintf(rel, sizeof(rel), "%s/expected.tsv", eco);
    char *text;
    struct str exp = pyrb_read(rel, &text);
    VEC(char *) want = VEC_INIT;
    VEC(char *) got = VEC_INIT;
    VEC(char *) files = VEC_INIT;
    struct str cur = exp, line;
    while (str_next_line(&cur, &line)) {
        if (!line.len || line.ptr[0] == '#')
            continue;
        char *row = str_dup(line);
        VEC_PUSH(&want, row);
        struct str f = line, fname;
        str_cut(&f, '\t', &fname);
        bool seen = false;
        for (size_t i = 0; i < files.n; i++)
            seen |= str_eq_cstr(fname, files.v[i]);
        if (!seen)
            VEC_PUSH(&files, str_dup(fname));
    }
    free(text);

    struct arena a;
    arena_init(&a);
    for (size_t i = 0; i < files.n; i++) {
        snprintf(rel, sizeof(rel), "%s/%s", eco, files.v[i]);
        char *buf;
        struct str data = pyrb_read(rel, &buf);
        lang_parse_fn fn = pyrb_parser_for(files.v[i]);
        ASSERT_TRUE(fn != NULL);
        struct pkg_list l = { VEC_INIT };
        struct diag d = { 0 };
        int r = fn(data, files.v[i], &a, &l, &d);
        if (r != 0)
            fprintf(stderr, "%s: %s\n", rel, d.msg);
        ASSERT_EQ(r, 0);
        for (size_t k = 0; k < l.items.n; k++) {
            const struct pkg *p = &l.items.v[k];
            ASSERT_EQ(p->type, type);
            ASSERT_STREQ(p->db_path, files.v[i]);
            ASSERT_STREQ(p->src_name, p->name);
            ASSERT_STREQ(p->src_version, p->version);
            ASSERT_STREQ(p->arch, "");
            ASSERT_STREQ(p->release, "");
            ASSERT_EQ(p->epoch, 0);
            ASSERT_EQ(p->layer, -1);
            VEC_PUSH(&got, xasprintf("%s\t%s\t%s", files.v[i], p->name, p->version));
        }
        VEC_FREE(&l.items);
        free(buf);
    }
    arena_release(&a);

    qsort(want.v, want.n, sizeof(char *), pyrb_row_cmp);
    qsort(got.v, got.n, sizeof(char *), pyrb_row_cmp);
    size_t bad = 0;
    for (size_t i = 0; i < want.n || i < got.n; i++) {
        const char *w = i < want.n ? want.v[i] : "(none)", *g = i < got.n ? got.v[i] : "(none)";
        if (strcmp(w, g) != 0 && bad++ < 10)
            fprintf(stderr, "%s fixtures: expected '%s', got '%s'\n", eco, w, g);
    }
    size_t n = want.n;
    bool same_count = want.n == got.n;
    for (size_t i = 0; i < want.n; i++)
        free(want.v[i]);
    for (size_t i = 0; i < got.n; i++)
        free(got.v[i]);
    for (size_t i = 0; i < files.n; i++)
        free(files.v[i]);
    VEC_FREE(&want);
    VEC_FREE(&got);
    VEC_FREE(&files);
    ASSERT_EQ(bad, 0);
    ASSERT_TRUE(same_count);
    return n;
}

TEST(lang_python_fixtures)
{
    /* 6 real metadata files, 2 poetry.lock, Pipfile.lock, requirements.txt */
    ASSERT_TRUE(pyrb_fixture_check("python", PKG_PYPI) >= 25);
}

TEST(lang_ruby_fixtures)
{
    /* 5 gemspecs and a Gemfile.lock with 11 distinct gems in GEM sections */
    ASSERT_TRUE(pyrb_fixture_check("ruby", PKG_GEM) >= 15);
}

/* Parse a string; returns the rc, the list in *l (caller frees), "name=version,..." in out. */
static int pyrb_parse(lang_parse_fn fn, const char *text, const char *path, struct arena *a,
                      struct pkg_list *l, struct diag *d, char *out, size_t cap)
{
    int r = fn(str_from(text), path, a, l, d);
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < l->items.n && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s=%s", i ? "," : "", l->items.v[i].name,
                              l->items.v[i].version);
    return r;
}

#define PARSES(fn, text, want)                                                     \
    do {                                                                           \
        struct pkg_list l_ = { VEC_INIT };                                         \
        struct diag d_ = { 0 };                                                    \
        char got_[512];                                                            \
        int r_ = pyrb_parse(fn, text, "x/file", &a, &l_, &d_, got_, sizeof(got_)); \
        VEC_FREE(&l_.items);                                                       \
        if (r_ != 0)                                                               \
            fprintf(stderr, "unexpected error: %s\n", d_.msg);                     \
        ASSERT_EQ(r_, 0);                                                          \
        ASSERT_STREQ(got_, want);                                                  \
    } while (0)

/* Fails with the path and `where` (e.g. "line 3") in the message, and leaves a list that
 * already held one package as it was. */
#define FAILS(fn, text, where)                                                          \
    do {                                                                                \
        struct pkg_list l_ = { VEC_INIT };                                              \
        struct pkg keep_ = { .type = PKG_PYPI, .name = "keep", .version = "1" };        \
        VEC_PUSH(&l_.items, keep_);                                                     \
        struct diag d_ = { 0 };                                                         \
        int r_ = fn(str_from(text), "x/file", &a, &l_, &d_);                            \
        size_t n_ = l_.items.n;                                                         \
        VEC_FREE(&l_.items);                                                            \
        if (r_ >= 0 || !strstr(d_.msg, "x/file") || !strstr(d_.msg, where))             \
            fprintf(stderr, "got %d '%s', want an error at '%s'\n", r_, d_.msg, where); \
        ASSERT_TRUE(r_ < 0);                                                            \
        ASSERT_EQ(n_, 1);                                                               \
        ASSERT_TRUE(strstr(d_.msg, "x/file") != NULL);                                  \
        ASSERT_TRUE(strstr(d_.msg, where) != NULL);                                     \
    } while (0)

TEST(lang_python_metadata_cases)
{
    struct arena a;
    arena_init(&a);
    /* PEP 503 names */
    PARSES(python_parse_metadata, "Metadata-Version: 2.1\nName: Flask_Cors\nVersion: 3.0.8\n",
           "flask-cors=3.0.8");
    PARSES(python_parse_metadata, "Name: zope.interface\nVersion: 5.5.2\n", "zope-interface=5.5.2");
    PARSES(python_parse_metadata, "Name: A-_.B\nVersion: 1\n", "a-b=1");
    /* CRLF, BOM, case of field names, blanks, the body never read */
    PARSES(python_parse_metadata, "\xef\xbb\xbfNAME:  Foo \r\nversion:1.0\r\n\r\nName: bar\n",
           "foo=1.0");
    /* continuation lines of other fields, including blank-looking ones */
    PARSES(python_parse_metadata,
           "Metadata-Version: 1.1\nSummary: a\n  b\n        \nName: x\nVersion: 2\n", "x=2");
    /* the first Name wins; what follows Name and Version is not read */
    PARSES(python_parse_metadata, "Name: a\nName: b\nVersion: 1\nnot a header\n", "a=1");
    FAILS(python_parse_metadata, "Name: a\n\nVersion: 1\n", "no Version");
    FAILS(python_parse_metadata, "Version: 1\n", "no Name");
    FAILS(python_parse_metadata, "", "no Name");
    FAILS(python_parse_metadata, "Metadata-Version: 2.1\nthis is not a header\nName: a\n",
          "line 2");
    FAILS(python_parse_metadata, " Name: a\nVersion: 1\n", "line 1");
    FAILS(python_parse_metadata, "Name: a\n b\nVersion: 1\n", "line 2");
    FAILS(python_parse_metadata, "Name: -a\nVersion: 1\n", "line 1: invalid project name");
    FAILS(python_parse_metadata, "Name: a\nVersion: 1 0\n", "line 2: invalid version");
    FAILS(python_parse_metadata, "Name: a\nVersion:\n", "line 2");
    {
        struct pkg_list l = { VEC_INIT };
        struct diag d = { 0 };
        ASSERT_TRUE(python_parse_metadata(str_make("Name: a\nVer\0sion: 1\n", 19), "x/file", &a, &l,
                                          &d) < 0);
        ASSERT_TRUE(strstr(d.msg, "line 2") != NULL);
        ASSERT_EQ(l.items.n, 0);
    }
    arena_release(&a);
}

TEST(lang_python_requirements_cases)
{
    struct arena a;
    arena_init(&a);
    PARSES(python_parse_requirements, "a==1\nb == 2\nc===3\n", "a=1,b=2,c=3");
    PARSES(python_parse_requirements, "D[x, y]==1.0;python_version<'3'\n", "d=1.0");
    PARSES(python_parse_requirements, "e==1 --hash=sha256:ab \\\n  --hash=sha256:cd\nf==2\n",
           "e=1,f=2");
    PARSES(python_parse_requirements, "g==1.*\nh>=1\ni\nj~=1.0\nk==1,<2\nl @ https://x/l.whl\n",
           "");
    PARSES(python_parse_requirements, "-r base.txt\n--index-url https://x\n-e .\n./pkg\n", "");
    PARSES(python_parse_requirements, "# m==1\nn==1 # o==2\n  # p==1\n", "n=1");
    PARSES(python_parse_requirements, "q==${Q_VERSION}\n", "");
    PARSES(python_parse_requirements, "r\\\n==\\\n1\n", "r=1");
    PARSES(python_parse_requirements, "s==1\\", "s=1");
    PARSES(python_parse_requirements, "", "");
    FAILS(python_parse_requirements, "a==1\nb==\n", "line 2: '==' without a version");
    FAILS(python_parse_requirements, "a==1\n\nc[x==1\n", "line 3: unterminated extras");
    FAILS(python_parse_requirements, "a==1 b\n", "line 1: unexpected 'b'");
    FAILS(python_parse_requirements, "p==1#frag\n", "line 1: unexpected '#frag'"); /* as pip */
    FAILS(python_parse_requirements, "a==1\n# x\nb (==1\n", "line 3: unterminated '('");
    FAILS(python_parse_requirements, "a_==1\n", "line 1: invalid project name 'a_'");
    FAILS(python_parse_requirements, "x==1 \\\n --hash=a\ny==\n", "line 3");
    arena_release(&a);
}

TEST(lang_python_poetry_cases)
{
    struct arena a;
    arena_init(&a);
    PARSES(python_parse_poetry_lock, "[[package]]\nname = \"A.B\"\nversion = '1.0'\n", "a-b=1.0");
    PARSES(python_parse_poetry_lock,
           "[[package]]\n\"name\" = \"x\"\nversion = \"1\"\n[package.dependencies]\n"
           "name = \"not-a-package\"\nversion = \"9\"\n[[package]]\nname = \"y\"\n"
           "version = \"2\"\n[package.source]\ntype = \"git\"\n[metadata]\nname = \"z\"\n",
           "x=1,y=2");
    PARSES(python_parse_poetry_lock, "[metadata]\nlock-version = \"2.0\"\n", "");
    FAILS(python_parse_poetry_lock, "[[package]]\nname = \"x\"\n\n[[package]]\n",
          "line 1: [[package]] 'x' without a version");
    FAILS(python_parse_poetry_lock, "[[package]]\nversion = \"1\"\n",
          "line 1: [[package]] without a name");
    FAILS(python_parse_poetry_lock, "[[package]]\nname = 5\n",
          "line 2: package name is not a string");
    FAILS(python_parse_poetry_lock, "[[package]]\nname = \"a\"\nname = \"b\"\n",
          "line 3: duplicate package name");
    FAILS(python_parse_poetry_lock, "[[package]]\nname = \"a b\"\n",
          "line 2: invalid package name");
    FAILS(python_parse_poetry_lock, "[[package]]\nname = \"a\"\nversion = \"1\n", "line 3");
    FAILS(python_parse_poetry_lock, "[[package]\nname = \"a\"\n", "line 1");
    FAILS(python_parse_poetry_lock, "x = [1,\n2,\n", "line 3");
    arena_release(&a);
}

TEST(lang_python_pipfile_cases)
{
    struct arena a;
    arena_init(&a);
    PARSES(python_parse_pipfile_lock,
           "{\"default\": {\"Foo_Bar\": {\"version\": \"==1.0\"}, \"g\": {\"git\": \"u\"}},"
           " \"develop\": {\"t\": {\"version\": \"===2\"}}}",
           "foo-bar=1.0,t=2");
    PARSES(python_parse_pipfile_lock, "{\"_meta\": {}}", "");
    FAILS(python_parse_pipfile_lock, "{\"default\": {\n\"a\": {\"version\": \"==1\"},\n}}",
          "line 3");
    FAILS(python_parse_pipfile_lock, "{\"default\": {\"a\": {\"version\": \">=1\"}}}",
          "default.a.version '>=1' is not an exact pin");
    FAILS(python_parse_pipfile_lock, "{\"develop\": {\"a\": {\"version\": 1}}}",
          "develop.a.version is not a string");
    FAILS(python_parse_pipfile_lock, "{\"default\": []}", "\"default\" is not an object");
    FAILS(python_parse_pipfile_lock, "[]", "top level is not an object");
    FAILS(python_parse_pipfile_lock, "{\"default\": {}, \"default\": {}}", "duplicate");
    arena_release(&a);
}

TEST(lang_ruby_gemspec_cases)
{
    struct arena a;
    arena_init(&a);
    /* hand-written gemspecs: other block variables, single quotes, %q() */
    PARSES(ruby_parse_gemspec,
           "Gem::Specification.new do |spec|\n  spec.name    = 'foo'\n"
           "  spec.version = %q(1.2.3) # pinned\nend\n",
           "foo=1.2.3");
    PARSES(ruby_parse_gemspec,
           "Gem::Specification.new { |g| g.name = %q<bar>.freeze; }\n  g.name = \"bar\"\n"
           "  g.version = Gem::Version.new(\"2.0.rc1\")\n",
           "bar=2.0.rc1");
    /* a version that is not a literal: the stub line, else the file name */
    PARSES(ruby_parse_gemspec,
           "# stub: baz 0.4.1 ruby lib\nGem::Specification.new do |s|\n  s.name = \"baz\"\n"
           "  s.version = Baz::VERSION\nend\n",
           "baz=0.4.1");
    {
        struct pkg_list l = { VEC_INIT };
        struct diag d = { 0 };
        const char *spec = "Gem::Specification.new do |s|\n  s.name = \"qux\"\n"
                           "  s.version = Qux::VERSION\nend\n";
        ASSERT_EQ(ruby_parse_gemspec(str_from(spec), "gems/specifications/qux-3.1.0-java.gemspec",
                                     &a, &l, &d),
                  0);
        ASSERT_EQ(l.items.n, 1);
        ASSERT_STREQ(l.items.v[0].version, "3.1.0");
        ASSERT_EQ(ruby_parse_gemspec(str_from(spec), "qux.gemspec", &a, &l, &d), -ERR_CORRUPT);
        ASSERT_TRUE(strstr(d.msg, "no literal version") != NULL);
        ASSERT_EQ(l.items.n, 1);
        VEC_FREE(&l.items);
    }
    /* interpolation and escapes are not literals */
    FAILS(ruby_parse_gemspec, "Gem::Specification.new do |s|\n  s.name = \"a#{x}\"\n",
          "no literal gem name");
    FAILS(ruby_parse_gemspec, "s.name = \"a\"\ns.version = \"1\"\n", "no 'Gem::Specification");
    FAILS(ruby_parse_gemspec,
          "Gem::Specification.new do |s|\n  s.name = \"a b\"\n  s.version = \"1\"\n",
          "line 2: invalid gem name");
    FAILS(ruby_parse_gemspec,
          "Gem::Specification.new do |s|\n  s.name = \"a\"\n  s.version = \"x1\"\n",
          "line 3: invalid gem version");
    arena_release(&a);
}

TEST(lang_ruby_gemfile_lock_cases)
{
    struct arena a;
    arena_init(&a);
    PARSES(ruby_parse_gemfile_lock,
           "GEM\r\n  remote: https://rubygems.org/\r\n  specs:\r\n    a (1.0)\r\n      b (>= 0)\r\n"
           "    b (2.0-java)\r\n    b (2.0-x86_64-linux)\r\n\r\nPLATFORMS\r\n  ruby\r\n",
           "a=1.0,b=2.0");
    PARSES(ruby_parse_gemfile_lock,
           "PATH\n  remote: .\n  specs:\n    x (1)\n\nBUNDLED WITH\n   2.4.1\n", "");
    PARSES(ruby_parse_gemfile_lock, "", "");
    FAILS(ruby_parse_gemfile_lock, "GEM\n  specs:\n    a (1.0)\n    b 2.0\n", "line 4: 'b 2.0'");
    FAILS(ruby_parse_gemfile_lock, "GEM\n  specs:\n    a ()\n", "line 3");
    FAILS(ruby_parse_gemfile_lock, "GEM\n  specs:\n     a (1.0)\n",
          "line 3: unexpected indentation");
    FAILS(ruby_parse_gemfile_lock, "GEM\n  specs:\n\ta (1.0)\n", "line 3");
    FAILS(ruby_parse_gemfile_lock, "GEM\n  specs:\n    a (=1)\n", "line 3: invalid gem version");
    FAILS(ruby_parse_gemfile_lock, "GEM\n  remote: x\n    a (1)\n",
          "line 3: 'a (1)' outside a specs");
    FAILS(ruby_parse_gemfile_lock, "{\"not\": \"a lockfile\"}\n", "line 1");
    arena_release(&a);
}

/* ---- TOML reader ------------------------------------------------------------------------------
 */

struct toml_rec {
    char out[2048];
    size_t n;
};

static void toml_rec_keys(struct toml_rec *r, const struct str *k, size_t n)
{
    for (size_t i = 0; i < n && r->n < sizeof(r->out); i++)
        r->n += (size_t)snprintf(r->out + r->n, sizeof(r->out) - r->n, "%s%.*s", i ? "." : "",
                                 STR_FMT(k[i]));
}

static int toml_rec_event(const struct toml_event *ev, void *ctx, struct diag *d)
{
    (void)d;
    static const char *const types[] = { "str", "int", "float", "bool", "date", "array", "table" };
    struct toml_rec *r = ctx;
    if (r->n >= sizeof(r->out))
        return 0;
    if (ev->kind == TOML_EV_TABLE) {
        r->n += (size_t)snprintf(r->out + r->n, sizeof(r->out) - r->n, "%s",
                                 ev->array_table ? "[[" : "[");
        toml_rec_keys(r, ev->table, ev->ntable);
        r->n += (size_t)snprintf(r->out + r->n, sizeof(r->out) - r->n, "%s@%zu;",
                                 ev->array_table ? "]]" : "]", ev->line);
        return 0;
    }
    toml_rec_keys(r, ev->key, ev->nkey);
    if (r->n < sizeof(r->out))
        r->n += (size_t)snprintf(r->out + r->n, sizeof(r->out) - r->n, "=%s:%.*s;", types[ev->type],
                                 STR_FMT(ev->value));
    return 0;
}

#define TOML_OK(doc, want)                                             \
    do {                                                               \
        struct toml_rec r_ = { "", 0 };                                \
        struct diag d_ = { 0 };                                        \
        int rc_ = toml_parse(str_from(doc), toml_rec_event, &r_, &d_); \
        if (rc_ != 0)                                                  \
            fprintf(stderr, "toml: %s\n", d_.msg);                     \
        ASSERT_EQ(rc_, 0);                                             \
        ASSERT_STREQ(r_.out, want);                                    \
    } while (0)

#define TOML_BAD(doc, err, where)                                                  \
    do {                                                                           \
        struct toml_rec r_ = { "", 0 };                                            \
        struct diag d_ = { 0 };                                                    \
        int rc_ = toml_parse(str_from(doc), toml_rec_event, &r_, &d_);             \
        if (rc_ != (err) || !strstr(d_.msg, where))                                \
            fprintf(stderr, "toml: got %d '%s', want '%s'\n", rc_, d_.msg, where); \
        ASSERT_EQ(rc_, (err));                                                     \
        ASSERT_TRUE(strstr(d_.msg, where) != NULL);                                \
    } while (0)

TEST(lang_toml_values)
{
    /* strings of the four kinds, escapes, line-ending backslashes, quotes before the end */
    TOML_OK("a = \"x\\ty\\u00e9\\U0001F600\\\\\"\nb = 'C:\\x'\n",
            "a=str:x\ty\xc3\xa9\xf0\x9f\x98\x80\\;b=str:C:\\x;");
    TOML_OK("s = \"\"\"\nline1\n  line2 \\\n    cont\"\"\"\n", "s=str:line1\n  line2 cont;");
    TOML_OK("s = '''\r\nraw \\n'''\nq = \"\"\"x\"\"\"\"\"\n", "s=str:raw \\n;q=str:x\"\";");
    /* numbers, booleans, dates */
    TOML_OK("i = +1_000\nh = 0xDEAD_beef\no = 0o755\nb = 0b1\nz = -0\n",
            "i=int:+1_000;h=int:0xDEAD_beef;o=int:0o755;b=int:0b1;z=int:-0;");
    TOML_OK("f = 3.14\ne = -1e-5\ng = 6.626E+34\nn = nan\ni = -inf\nt = true\nu = false\n",
            "f=float:3.14;e=float:-1e-5;g=float:6.626E+34;n=float:nan;i=float:-inf;t=bool:true;"
            "u=bool:false;");
    TOML_OK("d = 1979-05-27T07:32:00Z\ne = 1979-05-27 00:32:00.999-07:00\nf = 1979-05-27\n"
            "g = 07:32:00\n",
            "d=date:1979-05-27T07:32:00Z;e=date:1979-05-27 00:32:00.999-07:00;f=date:1979-05-27;"
            "g=date:07:32:00;");
    /* arrays over lines with comments and a trailing comma; inline tables; dotted and quoted
     * keys; headers with blanks; comments everywhere */
    TOML_OK(
        "# top\na = [ 1, [2, \"x\"], # c\n  {k = 1}, ]  # after\n"
        "[ x . \"y.z\" ] # h\nk.\"q r\" . s = { a = 1, b.c = [] }\n[[arr]]\n[[arr]]\n",
        "a=array:[ 1, [2, \"x\"], # c\n  {k = 1}, ];[x.y.z]@4;k.q r.s=table:{ a = 1, b.c = [] };"
        "[[arr]]@6;[[arr]]@7;");
    TOML_OK("", "");
    TOML_OK("\xef\xbb\xbf\n\n  \t\n# only comments\r\n", "");
    ASSERT_TRUE(
        toml_key_is((struct str[]){ STR_LIT("package"), STR_LIT("source") }, 2, "package.source"));
    ASSERT_FALSE(toml_key_is((struct str[]){ STR_LIT("package") }, 1, "package.source"));
    ASSERT_FALSE(toml_key_is((struct str[]){ STR_LIT("package"), STR_LIT("x") }, 2, "package"));
}

TEST(lang_toml_errors)
{
    TOML_BAD("a = 1\nb = \"x\n", -ERR_CORRUPT, "line 2: unterminated string");
    TOML_BAD("a = 1\nb = \"\\q\"\n", -ERR_CORRUPT, "line 2: invalid escape");
    TOML_BAD("a = \"\\uD800\"\n", -ERR_CORRUPT, "not a Unicode scalar value");
    TOML_BAD("a = \"\xc3\x28\"\n", -ERR_CORRUPT, "invalid UTF-8");
    TOML_BAD("a = \"x\x01\"\n", -ERR_CORRUPT, "control character");
    TOML_BAD("# \x7f\n", -ERR_CORRUPT, "line 1: control character 0x7f in a comment");
    TOML_BAD("a = 01\n", -ERR_CORRUPT, "invalid value '01'");
    TOML_BAD("a = 1__0\n", -ERR_CORRUPT, "invalid value");
    TOML_BAD("a = +0x1\n", -ERR_CORRUPT, "invalid value");
    TOML_BAD("a = 1.\n", -ERR_CORRUPT, "invalid value");
    TOML_BAD("a = 1979-13-01\n", -ERR_CORRUPT, "invalid value");
    TOML_BAD("a = True\n", -ERR_CORRUPT, "invalid value 'True'");
    TOML_BAD("a = 1 2\n", -ERR_CORRUPT, "line 1: unexpected '2', expected a newline");
    TOML_BAD("a =\n", -ERR_CORRUPT, "line 1: unexpected end of line, expected a value");
    TOML_BAD("a = [1 2]\n", -ERR_CORRUPT, "expected ',' or ']'");
    TOML_BAD("a = [1,\n", -ERR_CORRUPT, "line 2: unexpected end of document");
    TOML_BAD("a = {x = 1,}\n", -ERR_CORRUPT, "expected a key");
    TOML_BAD("a = {x = 1\n}\n", -ERR_CORRUPT, "inline tables stay on one line");
    TOML_BAD("\n\n[a\n", -ERR_CORRUPT, "line 3: unexpected end of line, expected ']'");
    TOML_BAD("[[a]\n", -ERR_CORRUPT, "expected ']]'");
    TOML_BAD("[a] b = 1\n", -ERR_CORRUPT, "expected a newline");
    TOML_BAD("a b = 1\n", -ERR_CORRUPT, "expected '='");
    TOML_BAD("= 1\n", -ERR_CORRUPT, "expected a key");
    TOML_BAD("a.\"b\nc\" = 1\n", -ERR_CORRUPT, "unterminated string");
    TOML_BAD("a = \"\"\"x\n", -ERR_CORRUPT, "unterminated multi-line string");
    /* caps: nesting and key parts */
    char deep[200];
    memset(deep, '[', sizeof(deep));
    memcpy(deep, "a = ", 4);
    deep[sizeof(deep) - 1] = '\0';
    TOML_BAD(deep, -ERR_TOO_BIG, "nested deeper than 32");
    TOML_BAD("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q = 1\n", -ERR_TOO_BIG, "more than 16 parts");
}

static int toml_stop_event(const struct toml_event *ev, void *ctx, struct diag *d)
{
    (void)ctx;
    if (ev->kind == TOML_EV_VALUE && str_eq_cstr(ev->key[0], "stop"))
        return diag_set(d, -ERR_VERSION, ev->offset, "stopped at line %zu", ev->line);
    return 0;
}

TEST(lang_toml_callback_error)
{
    struct diag d = { 0 };
    ASSERT_EQ(toml_parse(str_from("a = 1\n\nstop = 2\nx = [\n"), toml_stop_event, NULL, &d),
              -ERR_VERSION);
    ASSERT_STREQ(d.msg, "stopped at line 3");
    ASSERT_EQ(d.offset, 7);
}
