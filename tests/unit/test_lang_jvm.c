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
#include "base/log.h"
#include "base/str.h"
#include "base/vec.h"
#include "base/xalloc.h"
#include "base/zip.h"
#include "pkgdb/lang.h"
#include "test.h"
#include "version/version.h"
#include "vtable.h"

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

/* ---- Maven ------------------------------------------------------------------------------ */

TEST(lang_jvm_maven_table)
{
    vtable_check("maven", maven_vercmp, 10000, 100);
}

TEST(lang_jvm_maven_table_sorts)
{
    /* Maven's own order is intransitive on some made-up strings: real versions only */
    vtable_sort_check("maven", maven_vercmp, true);
}

/* ---- Composer --------------------------------------------------------------------------- */

TEST(lang_jvm_composer_table)
{
    vtable_check("composer", composer_vercmp, 10000, 100);
}

TEST(lang_jvm_composer_table_sorts)
{
    vtable_sort_check("composer", composer_vercmp, true);
}

TEST(lang_jvm_maven_edges)
{
    /* the qualifier ladder of ComparableVersion's documentation */
    static const char *const ladder[] = { "1-alpha-1", "1-beta-1",   "1-milestone-1",
                                          "1-rc-1",    "1-SNAPSHOT", "1",
                                          "1-sp-1",    "1-abc",      "1-xyz",
                                          "1-1",       "1.1" };
    for (size_t i = 0; i + 1 < ARRAY_SIZE(ladder); i++) {
        struct str a = str_from(ladder[i]), b = str_from(ladder[i + 1]);
        if (maven_vercmp(a, b) >= 0 || maven_vercmp(b, a) <= 0)
            test_fail(__FILE__, __LINE__, "'%s' < '%s' expected", ladder[i], ladder[i + 1]);
    }
    /* spellings Maven treats as the same version */
    static const char *const same[][2] = {
        { "1", "1.0.0" },
        { "1.0", "1-0" },
        { "1-ga", "1" },
        { "1-final", "1.0" },
        { "1-release", "1" },
        { "1-cr1", "1-rc1" },
        { "1-a1", "1-alpha-1" },
        { "1.0RC1", "1.0-rc-1" },
        { "1.0-SNAPSHOT", "1-snapshot" },
        { "", "0" },
        { ".", "-" },
        { "1.0.alpha1", "1-alpha1" },
        { "007", "7" },
        { "1..1", "1.0.1" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(same); i++)
        if (maven_vercmp(str_from(same[i][0]), str_from(same[i][1])) != 0)
            test_fail(__FILE__, __LINE__, "'%s' == '%s' expected", same[i][0], same[i][1]);
    /* numbers of any length, letters before numbers, '.a' not followed by a digit */
    ASSERT_TRUE(maven_vercmp(STR_LIT("1.123456789012345678901234567890"),
                             STR_LIT("1.123456789012345678901234567889")) > 0);
    ASSERT_TRUE(maven_vercmp(STR_LIT("1.a"), STR_LIT("1.alpha")) > 0); /* "a" is unknown */
    ASSERT_TRUE(maven_vercmp(STR_LIT("1a1"), STR_LIT("1alpha1")) == 0);
    ASSERT_TRUE(maven_vercmp(STR_LIT("2.0.0.Final"), STR_LIT("2.0.0.CR1")) > 0);
    ASSERT_TRUE(maven_vercmp(STR_LIT("31.1-jre"), STR_LIT("31.1-android")) > 0);
    ASSERT_TRUE(maven_vercmp(STR_LIT("1-0.1"), STR_LIT("1")) > 0);
    /* any bytes: no crash, reflexive */
    static const char junk[] = "\xff\x00-.-\x80";
    ASSERT_EQ(maven_vercmp(str_make(junk, sizeof(junk) - 1), str_make(junk, sizeof(junk) - 1)), 0);
    ASSERT_EQ(maven_vercmp(STR_NULL, STR_NULL), 0);

    struct diag d = { 0 };
    ASSERT_EQ(maven_version_check(STR_LIT("2.14.0"), &d), 0);
    ASSERT_EQ(maven_version_check(STR_LIT("1.0.0.Beta1-SNAPSHOT"), &d), 0);
    ASSERT_EQ(maven_version_check(STR_LIT(""), &d), -ERR_VERSION);
    ASSERT_EQ(maven_version_check(STR_LIT("1.0 beta"), &d), -ERR_VERSION);
    ASSERT_EQ(d.offset, 3);
    ASSERT_EQ(maven_version_check(STR_LIT("3\xef\xbf\xbd.18"), NULL), -ERR_VERSION);
}

TEST(lang_jvm_composer_edges)
{
    /* normalisation: the same version written differently */
    static const char *const same[][2] = {
        { "v1.2.3", "1.2.3" },
        { "1.2", "1.2.0.0" },
        { "V2.0", "2" },
        { "1.0.0-beta1", "1.0.0b1" },
        { "1.0-BETA.1", "1.0.0-beta1" },
        { "1.0.0-RC2", "1.0rc2" },
        { "1.0.0-p1", "1.0.0-pl1" },
        { "1.0.0-patch1", "1.0.0.p1" },
        { "1.0.0-stable", "1.0" },
        { "1.0.0+build.7", "1.0.0" },
        { "1.0.0@beta", "1.0.0" },
        { " 1.0 ", "1.0" },
        { "1.0.0 as 2.0", "1.0" },
        { "3.27.4+210622", "3.27.4" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(same); i++)
        if (composer_vercmp(str_from(same[i][0]), str_from(same[i][1])) != 0)
            test_fail(__FILE__, __LINE__, "'%s' == '%s' expected", same[i][0], same[i][1]);
    static const char *const ladder[] = { "dev-master",  "1.0.0-dev", "1.0.0-alpha1", "1.0.0-beta",
                                          "1.0.0-beta2", "1.0.0-RC1", "1.0.0",        "1.0.0-p1",
                                          "1.0.0.1",     "1.0.1",     "1.x-dev",      "2021-01-01",
                                          "20210102" };
    for (size_t i = 0; i + 1 < ARRAY_SIZE(ladder); i++) {
        struct str a = str_from(ladder[i]), b = str_from(ladder[i + 1]);
        if (composer_vercmp(a, b) >= 0 || composer_vercmp(b, a) <= 0)
            test_fail(__FILE__, __LINE__, "'%s' < '%s' expected", ladder[i], ladder[i + 1]);
    }
    /* version_compare's own corners, as chosen in composer.c */
    ASSERT_TRUE(composer_vercmp(STR_LIT(""), STR_LIT("dev")) < 0); /* "" is the least */
    ASSERT_TRUE(composer_vercmp(STR_LIT("1.2.3.4.5"), STR_LIT("1.2.3.4")) > 0); /* raw */
    ASSERT_EQ(composer_vercmp(STR_LIT("1."), STR_LIT("1")), 0);                 /* both 1.0.0.0 */
    /* not normalisable, so version_compare on the strings: PHP says -1 both ways */
    ASSERT_EQ(composer_vercmp(STR_LIT("1.2.3.4.5."), STR_LIT("1.2.3.4.5.")), 0);
    ASSERT_TRUE(composer_vercmp(STR_LIT("1.2.3.4.5."), STR_LIT("1.2.3.4.5")) < 0);
    ASSERT_TRUE(composer_vercmp(STR_LIT("1.2.3.4.5#"), STR_LIT("1.2.3.4.5")) == 0);
    ASSERT_TRUE(composer_vercmp(STR_LIT("1.#"), STR_LIT("1.0")) < 0);
    ASSERT_EQ(composer_vercmp(STR_LIT("99999999999999999999"), STR_LIT("9223372036854775807")),
              0); /* strtol saturates */
    static const char junk[] = "\x00\xff--..##";
    ASSERT_EQ(composer_vercmp(str_make(junk, sizeof(junk) - 1), str_make(junk, sizeof(junk) - 1)),
              0);
    ASSERT_EQ(composer_vercmp(STR_NULL, STR_NULL), 0);

    struct diag d = { 0 };
    static const char *const good[] = { "1.0.0",   "v2.3",       "1.0.0-beta.2", "dev-master",
                                        "1.x-dev", "2021-01-01", "1.0.0+build",  "master" };
    for (size_t i = 0; i < ARRAY_SIZE(good); i++)
        if (composer_version_check(str_from(good[i]), &d) != 0)
            test_fail(__FILE__, __LINE__, "'%s' should be valid: %s", good[i], d.msg);
    static const char *const bad[] = {
        "", "1.2.3.4.5", "foo", "1.0-foo", "1.0-rc1-foo", "1.0 beta"
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        if (composer_version_check(str_from(bad[i]), &d) != -ERR_VERSION)
            test_fail(__FILE__, __LINE__, "'%s' should be invalid", bad[i]);
}

/* ---- base/zip ----------------------------------------------------------------------------- */

static char *fixture(const char *dir, const char *name, size_t *n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/lang/%s/%s", test_data_dir(), dir, name);
    return slurp(path, n);
}

/* The entry named `name`, or fail. */
static void zip_find(struct zip *z, const char *name, struct zip_entry *e)
{
    struct diag d = { 0 };
    int rc;
    while ((rc = zip_next(z, e, &d)) > 0)
        if (str_eq_cstr(e->name, name))
            return;
    test_fail(__FILE__, __LINE__, "'%s' not in the archive (rc %d)", name, rc);
}

TEST(lang_jvm_zip_caps)
{
    size_t n;
    char *bomb = fixture("java", "bomb.jar", &n);
    struct zip z;
    struct zip_entry e;
    struct zip_data zd;
    struct diag d = { 0 };
    ASSERT_EQ(zip_open(&z, bomb, n, NULL, &d), 0);
    ASSERT_EQ(z.count, 4);
    /* a member claiming 3.75 GiB: refused before anything is allocated */
    struct zip start = z;
    zip_find(&z, "BOOT-INF/lib/huge.jar", &e);
    ASSERT_EQ(e.usize, 0xF0000000u);
    ASSERT_EQ(zip_extract(&z, &e, &zd, &d), -ERR_TOO_BIG);
    ASSERT_TRUE(strstr(d.msg, "huge.jar") != NULL);
    ASSERT_TRUE(zd.ptr == NULL && zd.len == 0);
    /* 2 MiB of zeros from 2 KiB: a ratio of ~1000 */
    z = start;
    zip_find(&z, "BOOT-INF/lib/zeros.jar", &e);
    ASSERT_EQ(zip_extract(&z, &e, &zd, &d), -ERR_TOO_BIG);
    ASSERT_TRUE(strstr(d.msg, "ratio") != NULL);
    /* ... which a higher ratio cap lets through, with its CRC checked */
    struct zip_limits lim = { .max_ratio = 2000 };
    ASSERT_EQ(zip_open(&z, bomb, n, &lim, &d), 0);
    zip_find(&z, "BOOT-INF/lib/zeros.jar", &e);
    ASSERT_EQ(zip_extract(&z, &e, &zd, &d), 0);
    ASSERT_EQ(zd.len, 2u << 20);
    ASSERT_TRUE(zd.owned != NULL && ((const char *)zd.ptr)[12345] == 0);
    zip_data_release(&zd);
    /* the per-member cap */
    lim = (struct zip_limits){ .max_member_size = 100 };
    ASSERT_EQ(zip_open(&z, bomb, n, &lim, &d), 0);
    zip_find(&z, "BOOT-INF/lib/good-1.0.jar", &e);
    ASSERT_TRUE(e.usize > 100);
    ASSERT_EQ(zip_extract(&z, &e, &zd, &d), -ERR_TOO_BIG);
    /* the total cap: the first member fits, the second does not */
    lim = (struct zip_limits){ .max_total = 150 };
    ASSERT_EQ(zip_open(&z, bomb, n, &lim, &d), 0);
    start = z;
    zip_find(&z, "META-INF/maven/com.example/bomb/pom.properties", &e);
    ASSERT_EQ(zip_extract(&z, &e, &zd, &d), 0);
    ASSERT_TRUE(zd.len > 75 && zd.len < 150 && memcmp(zd.ptr, "#Generated by Maven", 19) == 0);
    zip_data_release(&zd);
    z.pos = start.pos;
    z.next = start.next;
    zip_find(&z, "META-INF/maven/com.example/bomb/pom.properties", &e);
    ASSERT_EQ(zip_extract(&z, &e, &zd, &d), -ERR_TOO_BIG);
    /* the member-count cap */
    lim = (struct zip_limits){ .max_members = 3 };
    ASSERT_EQ(zip_open(&z, bomb, n, &lim, &d), -ERR_TOO_BIG);
    free(bomb);
}

TEST(lang_jvm_zip_damage)
{
    size_t n;
    char *jar = fixture("java", "app.jar", &n);
    struct zip z;
    struct zip_entry e;
    struct diag d = { 0 };
    /* stored nested jars come back without a copy */
    ASSERT_EQ(zip_open(&z, jar, n, NULL, &d), 0);
    zip_find(&z, "BOOT-INF/lib/snakeyaml-1.33.jar", &e);
    ASSERT_EQ(e.method, 0);
    struct zip_data zd;
    ASSERT_EQ(zip_extract(&z, &e, &zd, &d), 0);
    ASSERT_TRUE(zd.owned == NULL && (const char *)zd.ptr > jar && (const char *)zd.ptr < jar + n);
    ASSERT_EQ(memcmp(zd.ptr, "PK\x03\x04", 4), 0);
    /* a flipped byte in its data: CRC mismatch */
    size_t off = (size_t)((const char *)zd.ptr - jar) + 100;
    jar[off] ^= 1;
    ASSERT_EQ(zip_extract(&z, &e, &zd, &d), -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "CRC") != NULL);
    jar[off] ^= 1;
    /* a deflated member whose data is damaged */
    ASSERT_EQ(zip_open(&z, jar, n, NULL, &d), 0);
    zip_find(&z, "META-INF/MANIFEST.MF", &e);
    ASSERT_EQ(e.method, 8);
    char *copy = xmalloc(n);
    memcpy(copy, jar, n);
    memset(copy + e.local_offset + 30 + e.name.len, 0xff, 8);
    struct zip z2;
    ASSERT_EQ(zip_open(&z2, copy, n, NULL, &d), 0);
    ASSERT_EQ(zip_extract(&z2, &e, &zd, &d), -ERR_CORRUPT);
    free(copy);
    /* cut short, app.jar still holds whole nested jars: their end records are found and
     * one of them is read as the archive (bounded nonsense, as in Java) */
    ASSERT_EQ(zip_open(&z, jar, n - 30, NULL, &d), 0);
    ASSERT_EQ(zip_next(&z, &e, &d), 1);
    ASSERT_TRUE(str_has_prefix(e.name, "META-INF/"));
    ASSERT_TRUE(z.shift > 0);
    free(jar);
    /* a plain jar cut short: no end record */
    jar = fixture("java", "snakeyaml.jar", &n);
    ASSERT_EQ(zip_open(&z, jar, n - 30, NULL, &d), -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "end of central directory") != NULL);
    ASSERT_EQ(zip_open(&z, jar, n / 2, NULL, &d), -ERR_CORRUPT);
    ASSERT_EQ(zip_open(&z, jar, 10, NULL, &d), -ERR_CORRUPT);
    /* an end record whose directory would start before the file */
    copy = xmalloc(n);
    memcpy(copy, jar, n);
    copy[n - 22 + 12] = (char)0xff; /* directory size */
    copy[n - 22 + 13] = (char)0xff;
    copy[n - 22 + 14] = (char)0xff;
    ASSERT_EQ(zip_open(&z, copy, n, NULL, &d), -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "outside the file") != NULL);
    /* data in front of the archive (an executable jar's launch script): offsets shift */
    static const char script[] = "#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n";
    char *pre = xmalloc(n + sizeof(script) - 1);
    memcpy(pre, script, sizeof(script) - 1);
    memcpy(pre + sizeof(script) - 1, jar, n);
    ASSERT_EQ(zip_open(&z, pre, n + sizeof(script) - 1, NULL, &d), 0);
    ASSERT_EQ(z.shift, sizeof(script) - 1);
    zip_find(&z, "META-INF/maven/org.yaml/snakeyaml/pom.properties", &e);
    ASSERT_EQ(zip_extract(&z, &e, &zd, &d), 0);
    ASSERT_TRUE(memmem(zd.ptr, zd.len, "version=1.33", 12) != NULL);
    zip_data_release(&zd);
    free(pre);
    free(copy);
    free(jar);
}

/* ---- jar_parse ---------------------------------------------------------------------------- */

struct want {
    char *text;
    VEC(char *) rows; /* "name\tversion\tdb_path" per expected package */
};

static void want_load(struct want *w, const char *fixture_name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/lang/java/expected.txt", test_data_dir());
    size_t n;
    w->text = slurp(path, &n);
    w->rows.v = NULL;
    w->rows.n = w->rows.cap = 0;
    size_t fl = strlen(fixture_name);
    for (char *p = w->text; *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (*p != '#' && strncmp(p, fixture_name, fl) == 0 && p[fl] == '\t')
            VEC_PUSH(&w->rows, p + fl + 1);
        p = nl ? nl + 1 : p + strlen(p);
    }
}

/* jar_parse on a fixture must give exactly the packages of expected.txt (as a multiset). */
static void check_jar(const char *name)
{
    size_t n;
    char *data = fixture("java", name, &n);
    struct want w;
    want_load(&w, name);
    struct arena a;
    arena_init(&a);
    struct pkg_list out = { VEC_INIT };
    struct diag d = { 0 };
    int rc = jar_parse(str_make(data, n), name, &a, &out, &d);
    if (rc != 0)
        test_fail(__FILE__, __LINE__, "%s: jar_parse: %d %s", name, rc, d.msg);
    bool *used = xcalloc(w.rows.n + 1, 1);
    size_t bad = 0;
    for (size_t i = 0; i < out.items.n; i++) {
        const struct pkg *p = &out.items.v[i];
        char *row = xasprintf("%s\t%s\t%s", p->name, p->version, p->db_path);
        size_t k = 0;
        while (k < w.rows.n && (used[k] || strcmp(w.rows.v[k], row) != 0))
            k++;
        if (k == w.rows.n) {
            fprintf(stderr, "%s: unexpected package %s\n", name, row);
            bad++;
        } else {
            used[k] = true;
        }
        free(row);
        if (p->type != PKG_MAVEN || strcmp(p->src_name, p->name) != 0 ||
            strcmp(p->src_version, p->version) != 0 || p->layer != -1 || p->arch[0] ||
            p->epoch != 0)
            bad++;
    }
    for (size_t k = 0; k < w.rows.n; k++)
        if (!used[k]) {
            fprintf(stderr, "%s: missing package %s\n", name, w.rows.v[k]);
            bad++;
        }
    free(used);
    VEC_FREE(&w.rows);
    free(w.text);
    VEC_FREE(&out.items);
    arena_release(&a);
    free(data);
    ASSERT_EQ(bad, 0);
}

TEST(lang_jvm_jar_real)
{
    /* real jars of the polyglot image: pom.properties, manifest only, file name only, and the
     * Spring Boot fat jar with its BOOT-INF/lib */
    check_jar("commons-io.jar");
    check_jar("snakeyaml.jar");
    check_jar("app.jar");
    check_jar("h2-2.1.214.jar");
    check_jar("jsr305-0.1~+svn49.jar");
}

TEST(lang_jvm_jar_synthetic)
{
    /* skipped members are logged as warnings: keep the test output clean */
    enum log_level saved = log_threshold;
    log_set_level(LOG_ERROR);
    check_jar("shaded.jar");        /* several pom.properties, a duplicate, one without version */
    check_jar("shop.ear");          /* ear: a lib/ jar and a war with WEB-INF/lib */
    check_jar("deep.jar");          /* nested 6 deep: levels 0-4 read */
    check_jar("bomb.jar");          /* claimed 3.75 GiB and ratio 1000 members skipped */
    check_jar("broken-nested.jar"); /* garbage, truncated and CRC-damaged nested jars */
    check_jar("vendor-id-2.3.jar");
    check_jar("osgi-lib.jar");
    check_jar("modular-1.0.jar");
    check_jar("noversion.jar");  /* nothing to report */
    check_jar("continued.jar");  /* values over continuation lines, one of 12,000 lines */
    check_jar("long-props.jar"); /* 16,000 logical lines, escaped line breaks */
    log_set_level(saved);
}

TEST(lang_jvm_jar_expected_counts)
{
    /* the expectations themselves: not empty where something must be found */
    struct want w;
    want_load(&w, "app.jar");
    ASSERT_EQ(w.rows.n, 4);
    VEC_FREE(&w.rows);
    free(w.text);
    want_load(&w, "deep.jar");
    ASSERT_EQ(w.rows.n, 5);
    VEC_FREE(&w.rows);
    free(w.text);
    want_load(&w, "h2-2.1.214.jar");
    ASSERT_EQ(w.rows.n, 1);
    ASSERT_STREQ(w.rows.v[0], "com.h2database:h2\t2.1.214\th2-2.1.214.jar");
    VEC_FREE(&w.rows);
    free(w.text);
}

TEST(lang_jvm_jar_errors)
{
    enum log_level saved = log_threshold;
    log_set_level(LOG_ERROR);
    size_t n;
    char *jar = fixture("java", "app.jar", &n);
    struct arena a;
    arena_init(&a);
    struct pkg_list out = { VEC_INIT };
    struct pkg keep = { .name = "x" };
    VEC_PUSH(&out.items, keep);
    struct diag d = { 0 };
    /* the fat jar cut short just before its end record: no crash, no error needed */
    ASSERT_TRUE(jar_parse(str_make(jar, n - 30), "opt/app/app.jar", &a, &out, &d) <= 0);
    out.items.n = 1;
    free(jar);
    /* a damaged central directory entry (the second one) */
    jar = fixture("java", "commons-io.jar", &n);
    char *copy = xmalloc(n);
    memcpy(copy, jar, n);
    struct zip z;
    ASSERT_EQ(zip_open(&z, copy, n, NULL, &d), 0);
    char *cd2 = memmem(copy + z.pos + 4, z.cd_end - z.pos - 4, "PK\x01\x02", 4);
    ASSERT_TRUE(cd2 != NULL);
    cd2[1] = 'X';
    ASSERT_EQ(jar_parse(str_make(copy, n), "usr/share/java/commons-io.jar", &a, &out, &d),
              -ERR_CORRUPT);
    ASSERT_TRUE(
        strstr(d.msg, "usr/share/java/commons-io.jar: zip: bad central directory entry 1") != NULL);
    ASSERT_EQ(out.items.n, 1);
    /* cut in half: no end record at all */
    ASSERT_EQ(jar_parse(str_make(jar, n / 2), "usr/share/java/commons-io.jar", &a, &out, &d),
              -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "commons-io.jar: zip: ") != NULL);
    ASSERT_EQ(out.items.n, 1);
    /* not a zip at all, and nothing */
    ASSERT_EQ(jar_parse(STR_LIT("Manifest-Version: 1.0\n"), "x.jar", &a, &out, &d), -ERR_CORRUPT);
    ASSERT_EQ(jar_parse(STR_NULL, "empty.jar", &a, &out, &d), -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "empty.jar") != NULL);
    ASSERT_EQ(out.items.n, 1);
    free(copy);
    free(jar);
    VEC_FREE(&out.items);
    arena_release(&a);
    log_set_level(saved);
}

/* ---- PHP ---------------------------------------------------------------------------------- */

static void check_php(lang_parse_fn fn, const char *file, const char *const *want, size_t nwant)
{
    size_t n;
    char *data = fixture("php", file, &n);
    struct arena a;
    arena_init(&a);
    struct pkg_list out = { VEC_INIT };
    struct diag d = { 0 };
    char *path = xasprintf("app/%s", file);
    int rc = fn(str_make(data, n), path, &a, &out, &d);
    if (rc != 0)
        test_fail(__FILE__, __LINE__, "%s: %d %s", file, rc, d.msg);
    ASSERT_EQ(out.items.n, nwant);
    for (size_t i = 0; i < nwant; i++) {
        const struct pkg *p = &out.items.v[i];
        char *got = xasprintf("%s %s", p->name, p->version);
        ASSERT_STREQ(got, want[i]);
        free(got);
        ASSERT_EQ(p->type, PKG_COMPOSER);
        ASSERT_STREQ(p->db_path, path);
        ASSERT_STREQ(p->src_name, p->name);
        ASSERT_EQ(p->layer, -1);
    }
    free(path);
    VEC_FREE(&out.items);
    arena_release(&a);
    free(data);
}

TEST(lang_jvm_php_files)
{
    static const char *const lock[] = { "guzzlehttp/guzzle 7.4.4", "symfony/http-kernel v5.4.19",
                                        "twig/twig v2.14.10",      "acme/internal-tools dev-main",
                                        "phpunit/phpunit 9.5.20",  "mockery/mockery 1.5.0" };
    check_php(php_parse_composer_lock, "composer.lock", lock, ARRAY_SIZE(lock));
    static const char *const nodev[] = { "league/flysystem 1.0.69" };
    check_php(php_parse_composer_lock, "composer-nodev.lock", nodev, ARRAY_SIZE(nodev));
    static const char *const v2[] = { "guzzlehttp/guzzle 7.4.4", "monolog/monolog 2.3.5",
                                      "phpunit/phpunit 9.5.20" };
    check_php(php_parse_installed_json, "installed-v2.json", v2, ARRAY_SIZE(v2));
    static const char *const v1[] = { "symfony/polyfill-mbstring v1.19.0",
                                      "laravel/framework v5.8.38" };
    check_php(php_parse_installed_json, "installed-v1.json", v1, ARRAY_SIZE(v1));
}

TEST(lang_jvm_php_errors)
{
    struct arena a;
    arena_init(&a);
    struct pkg_list out = { VEC_INIT };
    struct diag d = { 0 };
    static const struct {
        lang_parse_fn fn;
        const char *text, *msg;
    } cases[] = {
        { php_parse_composer_lock, "{\"packages\": [", "line 1" },
        { php_parse_composer_lock, "[]", "not a JSON object" },
        { php_parse_composer_lock, "{\"packages\": {}}", "packages is not an array" },
        { php_parse_composer_lock, "{\"packages\": [{\"name\": \"a/b\", \"version\": \"1.0\"}, 7]}",
          "packages[1] is not an object" },
        { php_parse_composer_lock,
          "{\"packages\": [], \"packages-dev\": [{\"name\": \"a/b\", \"version\": 1}]}",
          "packages-dev[0] (\"a/b\") has no string \"version\"" },
        { php_parse_composer_lock, "{\"packages\": [{\"version\": \"1.0\"}]}",
          "packages[0] has no string \"name\"" },
        { php_parse_installed_json, "\"x\"", "neither an array nor an object" },
        { php_parse_installed_json, "{\"dev\": true}", "no \"packages\" array" },
        { php_parse_installed_json, "[{\"name\": \"a/b\", \"version\": \"\"}]", "\"version\"" },
        { php_parse_installed_json, "{\"packages\": [1], \"packages\": []}", "duplicate" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int rc =
            cases[i].fn(str_from(cases[i].text), "vendor/composer/installed.json", &a, &out, &d);
        if (rc != -ERR_CORRUPT || !strstr(d.msg, cases[i].msg) ||
            !strstr(d.msg, "vendor/composer/installed.json") || out.items.n != 0)
            test_fail(__FILE__, __LINE__, "case %zu: rc %d, '%s' (want '%s'), %zu packages", i, rc,
                      d.msg, cases[i].msg, out.items.n);
    }
    /* a valid file with no packages */
    ASSERT_EQ(php_parse_composer_lock(STR_LIT("{\"packages\": []}"), "composer.lock", &a, &out, &d),
              0);
    ASSERT_EQ(php_parse_installed_json(STR_LIT("[]"), "installed.json", &a, &out, &d), 0);
    ASSERT_EQ(out.items.n, 0);
    VEC_FREE(&out.items);
    arena_release(&a);
}
