/* SPDX-License-Identifier: Apache-2.0 */
/* Report writers: every format rendered from a small synthetic inventory and finding list and
 * compared byte for byte with tests/data/report/ (regenerate with VIGIL_UPDATE_GOLDEN=1, then
 * review the diff), plus structural checks that parse the output back with jansson, purl
 * rules, UTF-8 handling and table truncation. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "scan/report.h"
#include "scan/report_internal.h"
#include "test.h"

#define ELLIPSIS "\xE2\x80\xA6" /* U+2026, what the table writer cuts with */

/* ---- fixture ------------------------------------------------------------------------- */

#define DIGEST_MANIFEST "sha256:4c3b0c7d2a9e6f1b8a5d3e2c1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a"
#define DIGEST_CONFIG   "sha256:9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
#define DIGEST_L0       "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define DIGEST_L1       "sha256:2222222222222222222222222222222222222222222222222222222222222222"

/* Japanese text (UTF-8) used for a description and a title. */
#define JA_TITLE "bash: 細工された入力によりヒープバッファオーバーフローが発生する脆弱性"
#define JA_DESC                                                                                                                        \
    "bash の展開処理に境界チェックの欠如があり、細工された文字列によってメモリ破壊が起こる。" \
    "「修正版」はまだ公開されていない。"

enum { P_LIBC6, P_LIBCBIN, P_OPENSSL, P_ATTR, P_BASH, P_CURL, NPKG };

struct fixture {
    struct inventory inv;
    struct finding_list fl;
};

static void add_pkg(struct inventory *inv, const char *name, const char *version,
                    const char *upstream, const char *release, uint32_t epoch, const char *src,
                    const char *src_version, const char *license, int layer)
{
    struct pkg p = {
        .type = PKG_DEB,
        .name = name,
        .version = version,
        .arch = "amd64",
        .src_name = src,
        .src_version = src_version,
        .epoch = epoch,
        .upstream = upstream,
        .release = release,
        .license = license,
        .maintainer = "",
        .db_path = "var/lib/dpkg/status",
        .layer = layer,
    };
    VEC_PUSH(&inv->pkgs.items, p);
}

static void fixture_inventory(struct inventory *inv)
{
    memset(inv, 0, sizeof(*inv));
    arena_init(&inv->arena);
    inv->image_ref = "oci:images:debian-vuln:bookworm-oldpkgs";
    inv->image_name = "debian-vuln:bookworm-oldpkgs";
    inv->manifest_digest = DIGEST_MANIFEST;
    inv->config_digest = DIGEST_CONFIG;
    inv->platform = "linux/amd64";
    inv->os = (struct inventory_os){ .id = "debian",
                                     .version_id = "12",
                                     .codename = "bookworm",
                                     .pretty_name = "Debian GNU/Linux 12 (bookworm)",
                                     .source = "etc/os-release" };
    struct inventory_layer l0 = { .digest = DIGEST_L0, .diff_id = DIGEST_L0, .size = 29000000 };
    struct inventory_layer l1 = { .digest = DIGEST_L1, .diff_id = "", .size = 1234 };
    VEC_PUSH(&inv->layers, l0);
    VEC_PUSH(&inv->layers, l1);
    add_pkg(inv, "libc6", "2.36-9+deb12u1", "2.36", "9+deb12u1", 0, "glibc", "2.36-9+deb12u1", "",
            0);
    add_pkg(inv, "libc-bin", "2.36-9+deb12u1", "2.36", "9+deb12u1", 0, "glibc", "2.36-9+deb12u1",
            "", 0);
    add_pkg(inv, "openssl", "3.0.9-1", "3.0.9", "1", 0, "openssl", "3.0.9-1", "", 1);
    add_pkg(inv, "attr", "1:2.5.1-4", "2.5.1", "4", 1, "attr", "1:2.5.1-4", "GPL-2+", 0);
    add_pkg(inv, "bash", "5.2.15-2+b2", "5.2.15", "2+b2", 0, "bash", "5.2.15-2", "GPL-3+", 0);
    add_pkg(inv, "libcurl4", "7.88.1-10", "7.88.1", "10", 0, "curl", "7.88.1-10", "curl", 1);
    /* a maintainer in Latin-1, as old dpkg databases have them: not valid UTF-8 */
    inv->pkgs.items.v[P_ATTR].maintainer = "Ren\xE9 M\xFCller <rene@example.org>";
    VEC_PUSH(&inv->warnings, "var/lib/dpkg/status: record 7 has no Package field, skipped");
}

static struct finding *add_finding(struct fixture *fx, const char *id, int pkg, enum severity s)
{
    struct finding f = {
        .id = id,
        .title = "",
        .description = "",
        .uri = "",
        .severity = s,
        .vendor_severity = "",
        .severity_source = "none",
        .pkg = &fx->inv.pkgs.items.v[pkg],
        .ecosystem = "Debian:12",
        .fixed_version = "",
        .published = "",
        .modified = "",
        .source = "osv:debian-cve",
    };
    VEC_PUSH(&fx->fl.items, f);
    return &fx->fl.items.v[fx->fl.items.n - 1];
}

static void add_cvss(struct finding *f, const char *version, const char *vector, double score,
                     const char *source)
{
    struct finding_cvss c = { version, vector, score, source };
    VEC_PUSH(&f->cvss, c);
}

static void fixture_init(struct fixture *fx)
{
    memset(fx, 0, sizeof(*fx));
    fixture_inventory(&fx->inv);
    /* Reserve up front: findings are referenced by pointer while being filled in. */
    VEC_GROW(&fx->fl.items, 16);

    struct finding *f = add_finding(fx, "CVE-2023-4911", P_LIBC6, SEV_HIGH);
    f->title = "glibc: buffer overflow in ld.so leading to privilege escalation";
    f->description = "A buffer overflow was discovered in the GNU C Library's dynamic loader "
                     "ld.so while processing the GLIBC_TUNABLES environment variable.";
    f->uri = "https://security-tracker.debian.org/tracker/CVE-2023-4911";
    f->vendor_severity = "high";
    f->severity_source = "vendor";
    f->fixed_version = "2.36-9+deb12u3";
    f->published = "2023-10-03T18:15:10Z";
    f->modified = "2024-01-20T09:00:00.123+01:00";
    add_cvss(f, "3.1", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "NVD");
    VEC_PUSH(&f->related, "DSA-5514-1");
    VEC_PUSH(&f->references, "https://www.openwall.com/lists/oss-security/2023/10/03/2");
    VEC_PUSH(&f->references, "https://security-tracker.debian.org/tracker/CVE-2023-4911");
    VEC_PUSH(&f->references, "see the advisory");

    /* same vulnerability, second binary package of the same source */
    struct finding *g = add_finding(fx, "CVE-2023-4911", P_LIBCBIN, SEV_HIGH);
    g->title = f->title;
    g->description = f->description;
    g->uri = f->uri;
    g->vendor_severity = "high";
    g->severity_source = "vendor";
    g->fixed_version = "2.36-9+deb12u3";
    g->published = f->published;
    add_cvss(g, "3.1", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "NVD");

    f = add_finding(fx, "CVE-2023-38545", P_CURL, SEV_CRITICAL);
    f->title = "curl: heap based buffer overflow in the SOCKS5 proxy handshake";
    f->description = "This flaw makes curl overflow a heap based buffer in the SOCKS5 proxy "
                     "handshake.";
    f->uri = "https://security-tracker.debian.org/tracker/CVE-2023-38545";
    f->severity_source = "cvss3";
    f->fixed_version = "7.88.1-10+deb12u4";
    add_cvss(f, "2.0", "AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5, "NVD");
    add_cvss(f, "3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "NVD");

    f = add_finding(fx, "CVE-2023-5678", P_OPENSSL, SEV_MEDIUM);
    f->title = "openssl: Generating excessively long X9.42 DH keys or checking excessively "
               "long X9.42 DH keys or parameters may be very slow";
    f->uri = "https://security-tracker.debian.org/tracker/CVE-2023-5678";
    f->severity_source = "cvss3";
    f->fixed_version = "3.0.13-1~deb12u1";
    add_cvss(f, "3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 5.3, "NVD");

    f = add_finding(fx, "CVE-2024-0727", P_OPENSSL, SEV_LOW);
    f->title = "openssl: denial of service via null dereference";
    f->uri = "https://security-tracker.debian.org/tracker/CVE-2024-0727";
    f->vendor_severity = "unimportant";
    f->severity_source = "vendor";

    f = add_finding(fx, "CVE-2022-3715", P_BASH, SEV_UNDEFINED);
    f->title = JA_TITLE;
    f->description = JA_DESC;
    f->uri = "https://security-tracker.debian.org/tracker/CVE-2022-3715";

    /* a title that tries to smuggle a terminal escape sequence and a line break */
    f = add_finding(fx, "TEMP-0000000-ABCDEF", P_ATTR, SEV_INFORMATIONAL);
    f->title = "attr: \x1b[2Jcleared\nsecond line";
}

static void clear_findings(struct fixture *fx)
{
    for (size_t i = 0; i < fx->fl.items.n; i++) {
        VEC_FREE(&fx->fl.items.v[i].related);
        VEC_FREE(&fx->fl.items.v[i].references);
        VEC_FREE(&fx->fl.items.v[i].cvss);
    }
    VEC_FREE(&fx->fl.items);
}

static void fixture_release(struct fixture *fx)
{
    clear_findings(fx);
    VEC_FREE(&fx->inv.pkgs.items);
    VEC_FREE(&fx->inv.layers);
    VEC_FREE(&fx->inv.warnings);
    arena_release(&fx->inv.arena);
}

static struct scan_result fixture_result(const struct fixture *fx)
{
    return (struct scan_result){
        .inv = &fx->inv,
        .findings = &fx->fl,
        .completed_at = 1700000000, /* 2023-11-14T22:13:20Z */
        .vuln_source_updated_at = 1699990000,
        .account_id = "",
        .region = "",
        .repository = "",
        .tag = "",
    };
}

/* ---- rendering and golden files -------------------------------------------------------- */

struct out {
    char *data;
    size_t len;
};

static struct out render_scan(const struct scan_result *r, enum report_format fmt, bool color,
                              int width)
{
    struct out o = { NULL, 0 };
    FILE *f = open_memstream(&o.data, &o.len);
    ASSERT_TRUE(f != NULL);
    struct report_opts opts = { .color = color, .width = width };
    ASSERT_EQ(report_write_scan(f, fmt, r, &opts), 0);
    ASSERT_EQ(fclose(f), 0);
    return o;
}

static struct out render_inv(const struct inventory *inv, enum report_format fmt)
{
    struct out o = { NULL, 0 };
    FILE *f = open_memstream(&o.data, &o.len);
    ASSERT_TRUE(f != NULL);
    struct report_opts opts = { .color = false, .width = 100 };
    ASSERT_EQ(report_write_inventory(f, fmt, inv, &opts), 0);
    ASSERT_EQ(fclose(f), 0);
    return o;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct out o = { NULL, 0 };
    FILE *m = open_memstream(&o.data, &o.len);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    fclose(m);
    *len = o.len;
    return o.data;
}

/* Compare with tests/data/report/<name>; with VIGIL_UPDATE_GOLDEN=1 write it instead. */
static void golden(const char *name, const struct out *o)
{
    char *path = xasprintf("%s/report/%s", test_data_dir(), name);
    const char *upd = getenv("VIGIL_UPDATE_GOLDEN");
    if (upd && strcmp(upd, "1") == 0) {
        FILE *f = fopen(path, "wb");
        ASSERT_TRUE(f != NULL);
        ASSERT_EQ(fwrite(o->data, 1, o->len, f), o->len);
        ASSERT_EQ(fclose(f), 0);
        fprintf(stderr, "updated %s\n", path);
    }
    size_t len = 0;
    char *want = read_all(path, &len);
    if (!want)
        test_fail(__FILE__, __LINE__, "missing golden file %s (VIGIL_UPDATE_GOLDEN=1)", path);
    if (len != o->len || memcmp(want, o->data, len) != 0) {
        size_t i = 0;
        while (i < len && i < o->len && want[i] == o->data[i])
            i++;
        test_fail(__FILE__, __LINE__,
                  "%s differs at byte %zu (got %zu bytes, want %zu); got: \"%.60s\"", path, i,
                  o->len, len, o->data + (i < o->len ? i : o->len));
    }
    free(want);
    free(path);
}

static json_t *parse(const struct out *o)
{
    json_error_t err;
    json_t *j = json_loadb(o->data, o->len, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        test_fail(__FILE__, __LINE__, "output is not JSON: %s at line %d", err.text, err.line);
    return j;
}

/* Walk a path of object keys ("a.b.c"); NULL when absent. */
static json_t *at(json_t *j, const char *path)
{
    while (j && *path) {
        size_t n = strcspn(path, ".");
        char *key = xstrndup(path, n);
        j = json_is_object(j) ? json_object_get(j, key) : NULL;
        free(key);
        path += n;
        if (*path == '.')
            path++;
    }
    return j;
}

static const char *str_at(json_t *j, const char *path)
{
    json_t *v = at(j, path);
    if (!json_is_string(v))
        test_fail(__FILE__, __LINE__, "%s is not a string", path);
    return json_string_value(v);
}

static void set_deterministic(void)
{
    setenv("VIGIL_DETERMINISTIC", "1", 1);
    unsetenv("SOURCE_DATE_EPOCH");
}

/* ---- tests ------------------------------------------------------------------------------- */

TEST(report_format_names)
{
    ASSERT_EQ(report_format_parse("table"), REPORT_TABLE);
    ASSERT_EQ(report_format_parse("json"), REPORT_JSON);
    ASSERT_EQ(report_format_parse("enhanced-json"), REPORT_ENHANCED_JSON);
    ASSERT_EQ(report_format_parse("sarif"), REPORT_SARIF);
    ASSERT_EQ(report_format_parse("cyclonedx"), REPORT_CYCLONEDX);
    ASSERT_EQ(report_format_parse("xml"), -1);
    ASSERT_EQ(report_format_parse(""), -1);
    ASSERT_EQ(report_format_parse(NULL), -1);
}

TEST(report_purl_rules)
{
    struct fixture fx;
    fixture_init(&fx);
    char *p = report_purl(&fx.inv, &fx.inv.pkgs.items.v[P_ATTR]);
    /* the colon of an epoch is never encoded (ECMA-427); '+' is */
    ASSERT_STREQ(p, "pkg:deb/debian/attr@1:2.5.1-4?arch=amd64&distro=debian-12");
    free(p);
    p = report_purl(&fx.inv, &fx.inv.pkgs.items.v[P_BASH]);
    ASSERT_STREQ(p, "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12");
    free(p);

    struct pkg apk = {
        .type = PKG_APK, .name = "Busybox", .version = "1.36.1-r15", .arch = "x86_64"
    };
    struct pkg rpm = { .type = PKG_RPM,
                       .name = "NetworkManager",
                       .version = "1:1.44.0-3.el9",
                       .arch = "x86_64",
                       .epoch = 1,
                       .has_epoch = true };
    struct pkg rpm0 = {
        .type = PKG_RPM, .name = "bash", .version = "5.1.8-6.el9_1", .arch = "x86_64"
    };
    struct inventory alpine = { 0 }, rocky = { 0 }, bare = { 0 };
    alpine.os = (struct inventory_os){ .id = "alpine", .version_id = "3.19.0" };
    rocky.os = (struct inventory_os){ .id = "rocky", .version_id = "9.3" };
    bare.os = (struct inventory_os){ .id = "", .version_id = "" };

    p = report_purl(&alpine, &apk);
    ASSERT_STREQ(p, "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=3.19.0");
    free(p);
    /* rpm: name keeps its case, epoch moves to a qualifier, qualifiers sorted by key */
    p = report_purl(&rocky, &rpm);
    ASSERT_STREQ(p, "pkg:rpm/rocky/NetworkManager@1.44.0-3.el9?arch=x86_64&distro=rocky-9.3"
                    "&epoch=1");
    free(p);
    p = report_purl(&rocky, &rpm0);
    ASSERT_STREQ(p, "pkg:rpm/rocky/bash@5.1.8-6.el9_1?arch=x86_64&distro=rocky-9.3");
    free(p);
    rocky.os.id = "rhel";
    p = report_purl(&rocky, &rpm0);
    ASSERT_STREQ(p, "pkg:rpm/redhat/bash@5.1.8-6.el9_1?arch=x86_64&distro=rhel-9.3");
    free(p);
    /* no known vendor: rpm drops the namespace, deb defaults to debian, no distro */
    p = report_purl(&bare, &rpm0);
    ASSERT_STREQ(p, "pkg:rpm/bash@5.1.8-6.el9_1?arch=x86_64");
    free(p);
    struct pkg deb = { .type = PKG_DEB, .name = "libstdc++6", .version = "12.2.0-14", .arch = "" };
    p = report_purl(&bare, &deb);
    ASSERT_STREQ(p, "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14");
    free(p);
    struct pkg odd = { .type = (enum pkg_type)99, .name = "x", .version = "1" };
    ASSERT_TRUE(report_purl(&bare, &odd) == NULL);
    fixture_release(&fx);
}

TEST(report_golden_scan)
{
    struct fixture fx;
    set_deterministic();
    fixture_init(&fx);
    struct scan_result r = fixture_result(&fx);
    static const struct {
        enum report_format fmt;
        bool color;
        const char *file;
    } cases[] = {
        { REPORT_TABLE, false, "scan.table.txt" },
        { REPORT_TABLE, true, "scan.color.txt" },
        { REPORT_JSON, false, "scan.ecr.json" },
        { REPORT_ENHANCED_JSON, false, "scan.enhanced.json" },
        { REPORT_SARIF, false, "scan.sarif.json" },
        { REPORT_CYCLONEDX, false, "scan.cdx.json" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct out o = render_scan(&r, cases[i].fmt, cases[i].color, 140);
        golden(cases[i].file, &o);
        /* byte-stable: a second rendering is identical */
        struct out o2 = render_scan(&r, cases[i].fmt, cases[i].color, 140);
        ASSERT_EQ(o2.len, o.len);
        ASSERT_TRUE(memcmp(o.data, o2.data, o.len) == 0);
        free(o.data);
        free(o2.data);
    }
    fixture_release(&fx);
}

TEST(report_golden_inventory)
{
    struct fixture fx;
    set_deterministic();
    fixture_init(&fx);
    struct out o = render_inv(&fx.inv, REPORT_TABLE);
    golden("inventory.table.txt", &o);
    free(o.data);
    o = render_inv(&fx.inv, REPORT_JSON);
    golden("inventory.json", &o);
    free(o.data);
    o = render_inv(&fx.inv, REPORT_CYCLONEDX);
    golden("inventory.cdx.json", &o);
    free(o.data);

    /* scan-only formats are refused for an inventory */
    FILE *f = fopen("/dev/null", "w");
    ASSERT_TRUE(f != NULL);
    ASSERT_TRUE(report_write_inventory(f, REPORT_SARIF, &fx.inv, NULL) < 0);
    ASSERT_TRUE(report_write_inventory(f, REPORT_ENHANCED_JSON, &fx.inv, NULL) < 0);
    fclose(f);
    fixture_release(&fx);
}

TEST(report_empty_scan)
{
    struct fixture fx;
    set_deterministic();
    fixture_init(&fx);
    struct finding_list none = { VEC_INIT };
    struct scan_result r = fixture_result(&fx);
    r.findings = &none;
    struct out o = render_scan(&r, REPORT_TABLE, false, 100);
    golden("empty.table.txt", &o);
    ASSERT_TRUE(strstr(o.data, "No known vulnerabilities found.\n") != NULL);
    free(o.data);

    o = render_scan(&r, REPORT_JSON, false, 0);
    json_t *j = parse(&o);
    ASSERT_EQ(json_array_size(at(j, "imageScanFindings.findings")), 0);
    ASSERT_EQ(json_object_size(at(j, "imageScanFindings.findingSeverityCounts")), 0);
    json_decref(j);
    free(o.data);

    r.findings = NULL; /* NULL means none as well */
    o = render_scan(&r, REPORT_SARIF, false, 0);
    j = parse(&o);
    ASSERT_EQ(json_array_size(at(json_array_get(at(j, "runs"), 0), "results")), 0);
    json_decref(j);
    free(o.data);
    fixture_release(&fx);
}

static const char *const sev_names[] = { "CRITICAL", "HIGH",          "MEDIUM",
                                         "LOW",      "INFORMATIONAL", "UNDEFINED" };

static int sev_rank(const char *s)
{
    for (int i = 0; i < 6; i++)
        if (strcmp(s, sev_names[i]) == 0)
            return 6 - i;
    test_fail(__FILE__, __LINE__, "unknown severity %s", s);
}

TEST(report_ecr_structure)
{
    struct fixture fx;
    set_deterministic();
    fixture_init(&fx);
    struct scan_result r = fixture_result(&fx);
    struct out o = render_scan(&r, REPORT_JSON, false, 0);
    json_t *j = parse(&o);

    ASSERT_STREQ(str_at(j, "registryId"), "000000000000");
    ASSERT_STREQ(str_at(j, "repositoryName"), "debian-vuln");
    ASSERT_STREQ(str_at(j, "imageId.imageDigest"), DIGEST_MANIFEST);
    ASSERT_STREQ(str_at(j, "imageId.imageTag"), "bookworm-oldpkgs");
    ASSERT_STREQ(str_at(j, "imageScanStatus.status"), "COMPLETE");
    ASSERT_STREQ(str_at(j, "imageScanStatus.description"), "The scan was completed successfully.");
    ASSERT_TRUE(json_is_integer(at(j, "imageScanFindings.imageScanCompletedAt")));
    ASSERT_EQ(json_integer_value(at(j, "imageScanFindings.imageScanCompletedAt")), 1700000000);
    ASSERT_EQ(json_integer_value(at(j, "imageScanFindings.vulnerabilitySourceUpdatedAt")),
              1699990000);

    json_t *findings = at(j, "imageScanFindings.findings");
    ASSERT_EQ(json_array_size(findings), fx.fl.items.n);
    int prev = 99, counted[7] = { 0 };
    size_t i;
    json_t *f;
    json_array_foreach(findings, i, f)
    {
        int rank = sev_rank(str_at(f, "severity"));
        ASSERT_TRUE(rank <= prev); /* CRITICAL first, UNDEFINED last */
        prev = rank;
        counted[rank]++;
        ASSERT_TRUE(strlen(str_at(f, "name")) > 0);
        json_t *attrs = at(f, "attributes"), *a;
        size_t k;
        bool has_name = false;
        json_array_foreach(attrs, k, a)
        {
            size_t vlen = strlen(str_at(a, "value"));
            ASSERT_TRUE(vlen >= 1 && vlen <= 256);
            has_name = has_name || strcmp(str_at(a, "key"), "package_name") == 0;
        }
        ASSERT_TRUE(has_name);
    }
    /* counts: only non-zero severities, and they add up */
    json_t *counts = at(j, "imageScanFindings.findingSeverityCounts");
    for (int s = 0; s < 6; s++) {
        json_t *c = json_object_get(counts, sev_names[s]);
        int rank = 6 - s;
        if (counted[rank] == 0)
            ASSERT_TRUE(c == NULL);
        else
            ASSERT_EQ(json_integer_value(c), counted[rank]);
    }
    /* the curl finding carries both CVSS pairs, scores as one-decimal strings */
    json_t *first = json_array_get(findings, 0);
    ASSERT_STREQ(str_at(first, "name"), "CVE-2023-38545");
    char *dump = json_dumps(at(first, "attributes"), JSON_COMPACT);
    ASSERT_STREQ(dump, "[{\"key\":\"package_version\",\"value\":\"7.88.1-10\"},"
                       "{\"key\":\"package_name\",\"value\":\"libcurl4\"},"
                       "{\"key\":\"CVSS2_VECTOR\",\"value\":\"AV:N/AC:L/Au:N/C:P/I:P/A:P\"},"
                       "{\"key\":\"CVSS2_SCORE\",\"value\":\"7.5\"},"
                       "{\"key\":\"CVSS3_VECTOR\",\"value\":"
                       "\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"},"
                       "{\"key\":\"CVSS3_SCORE\",\"value\":\"9.8\"}]");
    free(dump);
    json_decref(j);
    free(o.data);

    /* explicit repository/tag/account/region win over the image name */
    r.repository = "team/app";
    r.tag = "v1";
    r.account_id = "123456789012";
    r.region = "eu-west-1";
    o = render_scan(&r, REPORT_ENHANCED_JSON, false, 0);
    j = parse(&o);
    ASSERT_STREQ(str_at(j, "repositoryName"), "team/app");
    ASSERT_STREQ(str_at(j, "imageId.imageTag"), "v1");
    json_t *e0 = json_array_get(at(j, "imageScanFindings.enhancedFindings"), 0);
    ASSERT_TRUE(strncmp(str_at(e0, "findingArn"),
                        "arn:aws:inspector2:eu-west-1:123456789012:finding/", 50) == 0);
    json_t *res = json_array_get(at(e0, "resources"), 0);
    ASSERT_STREQ(str_at(res, "id"),
                 "arn:aws:ecr:eu-west-1:123456789012:repository/team/app/" DIGEST_MANIFEST);
    json_decref(j);
    free(o.data);
    fixture_release(&fx);
}

TEST(report_enhanced_structure)
{
    struct fixture fx;
    set_deterministic();
    fixture_init(&fx);
    struct scan_result r = fixture_result(&fx);
    struct out o = render_scan(&r, REPORT_ENHANCED_JSON, false, 0);
    json_t *j = parse(&o);
    json_t *list = at(j, "imageScanFindings.enhancedFindings"), *e;
    ASSERT_TRUE(at(j, "imageScanFindings.findings") == NULL);
    /* 7 findings, CVE-2023-4911 on two packages: 6 enhanced findings */
    ASSERT_EQ(json_array_size(list), 6);
    size_t i;
    int prev = 99;
    bool saw_glibc = false;
    json_array_foreach(list, i, e)
    {
        const char *sev = str_at(e, "severity");
        int rank = strcmp(sev, "UNTRIAGED") == 0 ? 1 : sev_rank(sev);
        ASSERT_TRUE(rank <= prev);
        prev = rank;
        ASSERT_STREQ(str_at(e, "status"), "ACTIVE");
        ASSERT_STREQ(str_at(e, "type"), "PACKAGE_VULNERABILITY");
        ASSERT_STREQ(str_at(e, "awsAccountId"), "000000000000");
        ASSERT_TRUE(strncmp(str_at(e, "findingArn"),
                            "arn:aws:inspector2:us-east-1:000000000000:finding/", 50) == 0);
        ASSERT_EQ(strlen(str_at(e, "findingArn")), 50 + 32);
        ASSERT_TRUE(json_is_integer(at(e, "firstObservedAt")));
        json_t *pk = at(e, "packageVulnerabilityDetails.vulnerablePackages"), *p;
        size_t k;
        ASSERT_TRUE(json_array_size(pk) >= 1);
        json_array_foreach(pk, k, p)
        {
            ASSERT_STREQ(str_at(p, "packageManager"), "OS");
            ASSERT_TRUE(json_is_integer(at(p, "epoch")));
            ASSERT_TRUE(strlen(str_at(p, "fixedInVersion")) > 0);
            ASSERT_STREQ(str_at(p, "arch"), "AMD64");
        }
        json_t *img = at(json_array_get(at(e, "resources"), 0), "details.awsEcrContainerImage");
        ASSERT_STREQ(str_at(img, "platform"), "DEBIAN_12");
        ASSERT_STREQ(str_at(img, "architecture"), "amd64");
        ASSERT_STREQ(str_at(img, "repositoryName"), "debian-vuln");
        if (strcmp(str_at(e, "packageVulnerabilityDetails.vulnerabilityId"), "CVE-2023-4911") ==
            0) {
            saw_glibc = true;
            ASSERT_EQ(json_array_size(pk), 2);
            ASSERT_STREQ(str_at(e, "title"), "CVE-2023-4911 - libc-bin, libc6");
            ASSERT_STREQ(str_at(e, "fixAvailable"), "YES");
            ASSERT_STREQ(str_at(e, "packageVulnerabilityDetails.source"), "DEBIAN_CVE");
            ASSERT_STREQ(str_at(e, "packageVulnerabilityDetails.vendorSeverity"), "high");
            /* 2024-01-20T09:00:00.123+01:00 */
            ASSERT_EQ(json_integer_value(at(e, "packageVulnerabilityDetails.vendorUpdatedAt")),
                      1705737600);
            ASSERT_STREQ(str_at(json_array_get(pk, 1), "version"), "2.36");
            ASSERT_STREQ(str_at(json_array_get(pk, 1), "release"), "9+deb12u1");
            ASSERT_STREQ(str_at(json_array_get(pk, 1), "sourceLayerHash"), DIGEST_L0);
            ASSERT_TRUE(json_real_value(at(e, "score")) == 7.8);
            ASSERT_STREQ(str_at(e, "scoreDetails.cvss.version"), "3.1");
        }
        if (strcmp(str_at(e, "packageVulnerabilityDetails.vulnerabilityId"), "CVE-2024-0727") ==
            0) {
            ASSERT_STREQ(str_at(e, "fixAvailable"), "NO");
            ASSERT_STREQ(str_at(json_array_get(pk, 0), "fixedInVersion"), "NotAvailable");
            ASSERT_STREQ(str_at(e, "remediation.recommendation.text"), "None Provided");
        }
    }
    ASSERT_TRUE(saw_glibc);
    /* counts are per enhanced finding: HIGH 1 although two packages carry it */
    ASSERT_EQ(json_integer_value(at(j, "imageScanFindings.findingSeverityCounts.HIGH")), 1);
    json_decref(j);
    free(o.data);
    fixture_release(&fx);
}

/* SARIF 2.1.0 schema requirements checked by hand (sarif-schema-2.1.0: sarifLog requires
 * version and runs; run requires tool; tool requires driver; toolComponent requires name;
 * reportingDescriptor requires id; result requires message; message needs text or id; level
 * is one of none/note/warning/error; property-bag tags are unique strings), plus what GitHub
 * code scanning requires (help.text, artifactLocation.uri, region.startLine). */
TEST(report_sarif_structure)
{
    struct fixture fx;
    set_deterministic();
    fixture_init(&fx);
    struct scan_result r = fixture_result(&fx);
    struct out o = render_scan(&r, REPORT_SARIF, false, 0);
    json_t *j = parse(&o);

    ASSERT_STREQ(str_at(j, "version"), "2.1.0");
    ASSERT_TRUE(strstr(str_at(j, "$schema"), "sarif-2.1.0") != NULL);
    json_t *runs = at(j, "runs");
    ASSERT_TRUE(json_is_array(runs));
    ASSERT_EQ(json_array_size(runs), 1);
    json_t *run = json_array_get(runs, 0);
    ASSERT_STREQ(str_at(run, "tool.driver.name"), "vigil");
    ASSERT_TRUE(strlen(str_at(run, "tool.driver.version")) > 0);
    ASSERT_TRUE(strncmp(str_at(run, "tool.driver.informationUri"), "https://", 8) == 0);

    json_t *rules = at(run, "tool.driver.rules"), *rule;
    ASSERT_TRUE(json_is_array(rules));
    ASSERT_EQ(json_array_size(rules), 6);
    size_t i, k;
    json_array_foreach(rules, i, rule)
    {
        const char *id = str_at(rule, "id");
        for (k = 0; k < i; k++)
            ASSERT_TRUE(strcmp(str_at(json_array_get(rules, k), "id"), id) != 0);
        ASSERT_TRUE(strlen(str_at(rule, "shortDescription.text")) > 0);
        ASSERT_TRUE(strlen(str_at(rule, "fullDescription.text")) > 0);
        ASSERT_TRUE(strlen(str_at(rule, "help.text")) > 0);
        const char *ss = str_at(rule, "properties.security-severity");
        char *end;
        double score = strtod(ss, &end);
        ASSERT_TRUE(*end == '\0' && score >= 0.0 && score <= 10.0);
        json_t *tags = at(rule, "properties.tags"), *t;
        ASSERT_TRUE(json_is_array(tags));
        json_array_foreach(tags, k, t)
        {
            ASSERT_TRUE(json_is_string(t));
            for (size_t m = 0; m < k; m++)
                ASSERT_TRUE(!json_equal(t, json_array_get(tags, m)));
        }
        if (json_object_get(rule, "helpUri"))
            ASSERT_TRUE(strncmp(str_at(rule, "helpUri"), "https://", 8) == 0);
    }
    ASSERT_STREQ(str_at(json_array_get(rules, 0), "properties.security-severity"), "9.8");
    /* no CVSS: the middle of the severity band stands in */
    ASSERT_STREQ(str_at(json_array_get(rules, 3), "id"), "CVE-2024-0727");
    ASSERT_STREQ(str_at(json_array_get(rules, 3), "properties.security-severity"), "2.0");

    json_t *results = at(run, "results"), *res;
    ASSERT_EQ(json_array_size(results), fx.fl.items.n);
    json_array_foreach(results, i, res)
    {
        const char *level = str_at(res, "level");
        ASSERT_TRUE(strcmp(level, "error") == 0 || strcmp(level, "warning") == 0 ||
                    strcmp(level, "note") == 0 || strcmp(level, "none") == 0);
        ASSERT_TRUE(strlen(str_at(res, "message.text")) > 0);
        json_t *ri = at(res, "ruleIndex");
        ASSERT_TRUE(json_is_integer(ri));
        ASSERT_TRUE((size_t)json_integer_value(ri) < json_array_size(rules));
        ASSERT_STREQ(str_at(json_array_get(rules, (size_t)json_integer_value(ri)), "id"),
                     str_at(res, "ruleId"));
        json_t *loc = json_array_get(at(res, "locations"), 0);
        ASSERT_TRUE(loc != NULL);
        ASSERT_STREQ(str_at(loc, "physicalLocation.artifactLocation.uri"), "var/lib/dpkg/status");
        ASSERT_STREQ(str_at(loc, "physicalLocation.artifactLocation.uriBaseId"), "IMAGE_ROOT");
        ASSERT_TRUE(json_integer_value(at(loc, "physicalLocation.region.startLine")) >= 1);
        json_t *ll = json_array_get(at(loc, "logicalLocations"), 0);
        ASSERT_TRUE(strstr(str_at(ll, "fullyQualifiedName"), DIGEST_MANIFEST) != NULL);
    }
    ASSERT_TRUE(json_is_object(at(run, "originalUriBaseIds.IMAGE_ROOT")));
    json_t *r0 = json_array_get(results, 0);
    ASSERT_STREQ(str_at(r0, "level"), "error");
    ASSERT_STREQ(str_at(r0, "message.text"), "Package libcurl4 7.88.1-10 is affected by "
                                             "CVE-2023-38545 (CRITICAL); fixed in "
                                             "7.88.1-10+deb12u4.");
    json_decref(j);
    free(o.data);
    fixture_release(&fx);
}

static bool has_str(const char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

static bool is_serial(const char *s, char version)
{
    static const char tmpl[] = "urn:uuid:xxxxxxxx-xxxx-Vxxx-xxxx-xxxxxxxxxxxx";
    if (strlen(s) != strlen(tmpl))
        return false;
    for (size_t i = 0; tmpl[i]; i++) {
        if (tmpl[i] == 'x') {
            if (!strchr("0123456789abcdef", s[i]))
                return false;
        } else if (tmpl[i] == 'V') {
            if (s[i] != version)
                return false;
        } else if (s[i] != tmpl[i]) {
            return false;
        }
    }
    return true;
}

/* CycloneDX 1.5 requirements checked by hand (bom-1.5.schema.json: bomFormat and specVersion
 * required, serialNumber pattern, component requires type and name with type from the enum,
 * bom-refs unique, rating severity and method enums, affects[].ref required). The full schema
 * is checked by tests/e2e/test_report_schema.py when tools/report-schema is installed. */
TEST(report_cyclonedx_structure)
{
    static const char *const types[] = { "application", "framework", "library",
                                         "container",   "platform",  "operating-system",
                                         "device",      "firmware",  "file" };
    static const char *const sevs[] = { "critical", "high", "medium", "low",
                                        "info",     "none", "unknown" };
    static const char *const methods[] = { "CVSSv2", "CVSSv3", "CVSSv31", "CVSSv4",
                                           "OWASP",  "SSVC",   "other" };
    struct fixture fx;
    set_deterministic();
    fixture_init(&fx);
    struct scan_result r = fixture_result(&fx);
    struct out o = render_scan(&r, REPORT_CYCLONEDX, false, 0);
    json_t *j = parse(&o);

    ASSERT_STREQ(str_at(j, "bomFormat"), "CycloneDX");
    ASSERT_STREQ(str_at(j, "specVersion"), "1.5");
    ASSERT_EQ(json_integer_value(at(j, "version")), 1);
    ASSERT_TRUE(is_serial(str_at(j, "serialNumber"), '8')); /* derived, not random */
    ASSERT_STREQ(str_at(j, "metadata.timestamp"), "2023-11-14T22:13:20Z");
    ASSERT_STREQ(str_at(j, "metadata.component.type"), "container");
    ASSERT_STREQ(str_at(j, "metadata.component.version"), DIGEST_MANIFEST);
    ASSERT_STREQ(str_at(json_array_get(at(j, "metadata.tools.components"), 0), "name"), "vigil");

    json_t *comps = at(j, "components"), *c;
    const char *refs[64];
    size_t nrefs = 0, i, k;
    refs[nrefs++] = str_at(j, "metadata.component.bom-ref");
    ASSERT_EQ(json_array_size(comps), NPKG + 1); /* the OS and each package */
    json_array_foreach(comps, i, c)
    {
        ASSERT_TRUE(has_str(types, ARRAY_SIZE(types), str_at(c, "type")));
        ASSERT_TRUE(strlen(str_at(c, "name")) > 0);
        const char *ref = str_at(c, "bom-ref");
        ASSERT_FALSE(has_str(refs, nrefs, ref));
        refs[nrefs++] = ref;
        if (strcmp(str_at(c, "type"), "library") == 0)
            ASSERT_TRUE(strncmp(str_at(c, "purl"), "pkg:deb/debian/", 15) == 0);
    }
    ASSERT_STREQ(str_at(json_array_get(comps, 0), "type"), "operating-system");

    json_t *vulns = at(j, "vulnerabilities"), *v;
    ASSERT_EQ(json_array_size(vulns), 6);
    json_array_foreach(vulns, i, v)
    {
        json_t *ratings = at(v, "ratings"), *rt;
        ASSERT_TRUE(json_array_size(ratings) >= 1);
        json_array_foreach(ratings, k, rt)
        {
            ASSERT_TRUE(has_str(sevs, ARRAY_SIZE(sevs), str_at(rt, "severity")));
            ASSERT_TRUE(has_str(methods, ARRAY_SIZE(methods), str_at(rt, "method")));
            if (json_object_get(rt, "score"))
                ASSERT_TRUE(json_is_number(at(rt, "score")));
        }
        json_t *aff = at(v, "affects"), *a;
        ASSERT_TRUE(json_array_size(aff) >= 1);
        json_array_foreach(aff, k, a)
        {
            ASSERT_TRUE(has_str(refs, nrefs, str_at(a, "ref")));
        }
        ASSERT_FALSE(has_str(refs, nrefs, str_at(v, "bom-ref")));
    }
    json_t *v0 = json_array_get(vulns, 0);
    ASSERT_STREQ(str_at(v0, "id"), "CVE-2023-38545");
    json_t *r0 = json_array_get(at(v0, "ratings"), 0), *r1 = json_array_get(at(v0, "ratings"), 1);
    ASSERT_STREQ(str_at(r0, "method"), "CVSSv2");
    ASSERT_STREQ(str_at(r0, "severity"), "high"); /* 7.5 in NVD's v2 bands */
    ASSERT_STREQ(str_at(r1, "method"), "CVSSv31");
    ASSERT_STREQ(str_at(r1, "severity"), "critical");
    /* the glibc vulnerability affects both binary packages; "see the advisory" is not a URL */
    json_t *v1 = json_array_get(vulns, 1);
    ASSERT_STREQ(str_at(v1, "id"), "CVE-2023-4911");
    ASSERT_EQ(json_array_size(at(v1, "affects")), 2);
    ASSERT_EQ(json_array_size(at(v1, "advisories")), 2);
    ASSERT_STREQ(str_at(v1, "updated"), "2024-01-20T08:00:00Z");
    json_decref(j);
    free(o.data);

    /* without VIGIL_DETERMINISTIC the serial number is a random v4 UUID */
    unsetenv("VIGIL_DETERMINISTIC");
    struct out a = render_inv(&fx.inv, REPORT_CYCLONEDX), b = render_inv(&fx.inv, REPORT_CYCLONEDX);
    json_t *ja = parse(&a), *jb = parse(&b);
    ASSERT_TRUE(is_serial(str_at(ja, "serialNumber"), '4'));
    ASSERT_TRUE(is_serial(str_at(jb, "serialNumber"), '4'));
    ASSERT_TRUE(strcmp(str_at(ja, "serialNumber"), str_at(jb, "serialNumber")) != 0);
    json_decref(ja);
    json_decref(jb);
    free(a.data);
    free(b.data);
    fixture_release(&fx);
}

TEST(report_inventory_json_structure)
{
    struct fixture fx;
    set_deterministic();
    fixture_init(&fx);
    struct out o = render_inv(&fx.inv, REPORT_JSON);
    json_t *j = parse(&o);
    ASSERT_STREQ(str_at(j, "image.manifestDigest"), DIGEST_MANIFEST);
    ASSERT_STREQ(str_at(j, "os.versionId"), "12");
    ASSERT_EQ(json_array_size(at(j, "layers")), 2);
    ASSERT_EQ(json_integer_value(at(json_array_get(at(j, "layers"), 0), "size")), 29000000);
    json_t *pkgs = at(j, "packages"), *p;
    ASSERT_EQ(json_array_size(pkgs), NPKG);
    size_t i;
    static const char *const keys[] = { "type",       "name",          "version", "arch",
                                        "sourceName", "sourceVersion", "release", "license",
                                        "dbPath",     "layerDigest",   "purl" };
    json_array_foreach(pkgs, i, p)
    {
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
            ASSERT_TRUE(json_is_string(json_object_get(p, keys[k])));
        ASSERT_TRUE(json_is_integer(json_object_get(p, "epoch")));
        ASSERT_TRUE(json_is_integer(json_object_get(p, "layer")));
    }
    /* database order is kept */
    ASSERT_STREQ(str_at(json_array_get(pkgs, P_ATTR), "name"), "attr");
    ASSERT_EQ(json_integer_value(at(json_array_get(pkgs, P_ATTR), "epoch")), 1);
    ASSERT_STREQ(str_at(json_array_get(pkgs, P_OPENSSL), "layerDigest"), DIGEST_L1);
    ASSERT_EQ(json_array_size(at(j, "warnings")), 1);
    json_decref(j);
    free(o.data);
    fixture_release(&fx);
}

/* Valid UTF-8 whose every line is at most `width` columns; returns the widest line. */
static int check_lines(const char *data, size_t len, int width, bool rows_only)
{
    int widest = 0;
    size_t i = 0, line = 0;
    bool in_rows = !rows_only;
    while (i < len) {
        size_t start = i;
        int w = 0;
        while (i < len && data[i] != '\n') {
            uint32_t cp;
            size_t n = rpt_utf8_next(data + i, len - i, &cp);
            if (n == 0)
                test_fail(__FILE__, __LINE__, "invalid UTF-8 at byte %zu (line %zu)", i, line);
            ASSERT_TRUE(cp >= 0x20 && cp != 0x7F); /* no control characters, no ESC */
            w += rpt_cp_width(cp);
            i += n;
        }
        if (in_rows) {
            if (w > width)
                test_fail(__FILE__, __LINE__, "line %zu is %d columns (> %d): %.*s", line, w, width,
                          (int)(i - start), data + start);
            widest = w > widest ? w : widest;
        }
        if (strncmp(data + start, "SEVERITY", 8) == 0)
            in_rows = true;
        i++;
        line++;
    }
    return widest;
}

TEST(report_utf8_survives)
{
    struct fixture fx;
    set_deterministic();
    fixture_init(&fx);
    struct scan_result r = fixture_result(&fx);
    static const enum report_format fmts[] = { REPORT_JSON, REPORT_ENHANCED_JSON, REPORT_SARIF,
                                               REPORT_CYCLONEDX };
    for (size_t f = 0; f < ARRAY_SIZE(fmts); f++) {
        struct out o = render_scan(&r, fmts[f], false, 0);
        /* written as UTF-8, not \u escapes, and read back intact */
        ASSERT_TRUE(strstr(o.data, JA_DESC) != NULL);
        json_t *j = parse(&o);
        json_decref(j);
        free(o.data);
    }
    struct out o = render_scan(&r, REPORT_JSON, false, 0);
    json_t *j = parse(&o);
    json_t *last = json_array_get(at(j, "imageScanFindings.findings"), fx.fl.items.n - 1);
    ASSERT_STREQ(str_at(last, "name"), "CVE-2022-3715");
    ASSERT_STREQ(str_at(last, "description"), JA_DESC);
    ASSERT_STREQ(str_at(last, "severity"), "UNDEFINED");
    json_decref(j);
    free(o.data);

    /* the Latin-1 maintainer becomes U+FFFD instead of breaking the document */
    o = render_inv(&fx.inv, REPORT_CYCLONEDX);
    j = parse(&o);
    ASSERT_TRUE(strstr(o.data, "Ren\xEF\xBF\xBD M\xEF\xBF\xBDller") != NULL);
    json_decref(j);
    free(o.data);
    fixture_release(&fx);
}

TEST(report_table_truncation)
{
    struct fixture fx;
    set_deterministic();
    fixture_init(&fx);
    struct scan_result r = fixture_result(&fx);
    /* Widths from narrow to wide: each cut lands on a character boundary (rows stay valid
     * UTF-8), rows fit the width, and the Japanese title is shortened with an ellipsis. */
    for (int width = 110; width <= 200; width++) {
        struct out o = render_scan(&r, REPORT_TABLE, false, width);
        int widest = check_lines(o.data, o.len, width, true);
        ASSERT_TRUE(widest <= width);
        ASSERT_TRUE(strstr(o.data, "\x1b") == NULL);
        char *row = strstr(o.data, "CVE-2022-3715");
        ASSERT_TRUE(row != NULL);
        size_t row_len = strcspn(row, "\n");
        bool cut = memmem(row, row_len, ELLIPSIS, 3) != NULL;
        bool whole = memmem(row, row_len, JA_TITLE, strlen(JA_TITLE)) != NULL;
        ASSERT_TRUE(cut != whole);
        free(o.data);
    }
    /* very narrow: the title column keeps its minimum, still never splitting a character */
    struct out o = render_scan(&r, REPORT_TABLE, false, 20);
    check_lines(o.data, o.len, 1000, false);
    free(o.data);
    /* the escape sequence in a title is neutralised, the line break does not split the row */
    o = render_scan(&r, REPORT_TABLE, false, 200);
    ASSERT_TRUE(strstr(o.data, "attr:  [2Jcleared second line") != NULL);
    free(o.data);
    /* colours only when asked, around the severity text */
    o = render_scan(&r, REPORT_TABLE, true, 140);
    ASSERT_TRUE(strstr(o.data, "\x1b[1;31mCRITICAL\x1b[0m") != NULL);
    free(o.data);
    fixture_release(&fx);
}

TEST(report_helpers)
{
    uint32_t cp;
    ASSERT_EQ(rpt_utf8_next("\xC3\xA9", 2, &cp), 2);
    ASSERT_EQ(cp, 0xE9);
    ASSERT_EQ(rpt_utf8_next("\xE6\x97\xA5", 3, &cp), 3);
    ASSERT_EQ(rpt_cp_width(cp), 2);
    ASSERT_EQ(rpt_utf8_next("\xE6\x97", 2, &cp), 0);         /* truncated */
    ASSERT_EQ(rpt_utf8_next("\xC0\xAF", 2, &cp), 0);         /* overlong '/' */
    ASSERT_EQ(rpt_utf8_next("\xED\xA0\x80", 3, &cp), 0);     /* surrogate */
    ASSERT_EQ(rpt_utf8_next("\xF4\x90\x80\x80", 4, &cp), 0); /* > U+10FFFF */
    ASSERT_EQ(rpt_utf8_next("\xCC\x81", 2, &cp), 2);
    ASSERT_EQ(rpt_cp_width(cp), 0); /* combining acute */

    time_t t;
    ASSERT_TRUE(rpt_parse_rfc3339("2023-11-14T22:13:20Z", &t));
    ASSERT_EQ(t, 1700000000);
    ASSERT_TRUE(rpt_parse_rfc3339("2023-11-14T23:13:20.5+01:00", &t));
    ASSERT_EQ(t, 1700000000);
    ASSERT_TRUE(rpt_parse_rfc3339("2023-11-14", &t));
    ASSERT_EQ(t, 1699920000);
    ASSERT_FALSE(rpt_parse_rfc3339("2023-11-14T22:13Z", &t));
    ASSERT_FALSE(rpt_parse_rfc3339("2023-13-14T22:13:20Z", &t));
    ASSERT_FALSE(rpt_parse_rfc3339("yesterday", &t));
    ASSERT_FALSE(rpt_parse_rfc3339("", &t));
    char buf[32];
    rpt_rfc3339(1700000000, buf);
    ASSERT_STREQ(buf, "2023-11-14T22:13:20Z");

    char s[8];
    rpt_score_str(9.8000000000000007, s);
    ASSERT_STREQ(s, "9.8");
    rpt_score_str(10.0, s);
    ASSERT_STREQ(s, "10.0");
    rpt_score_str(-1.0, s);
    ASSERT_STREQ(s, "0.0");
    ASSERT_EQ(rpt_cvss_band("3.1", 9.0), SEV_CRITICAL);
    ASSERT_EQ(rpt_cvss_band("3.1", 8.9), SEV_HIGH);
    ASSERT_EQ(rpt_cvss_band("3.1", 0.0), SEV_INFORMATIONAL);
    ASSERT_EQ(rpt_cvss_band("2.0", 10.0), SEV_HIGH);
    ASSERT_EQ(rpt_cvss_band("4.0", 3.9), SEV_LOW);
    ASSERT_STREQ(rpt_sev_name((enum severity)42), "UNDEFINED");

    struct inventory inv = { 0 };
    struct scan_result r = { .inv = &inv, .repository = "", .tag = "" };
    char *repo, *tag;
    inv.image_name = "registry.example:5000/team/app:1.0";
    rpt_repo_tag(&r, &repo, &tag);
    ASSERT_STREQ(repo, "team/app");
    ASSERT_STREQ(tag, "1.0");
    free(repo);
    free(tag);
    inv.image_name = "library/debian@sha256:abcd";
    rpt_repo_tag(&r, &repo, &tag);
    ASSERT_STREQ(repo, "library/debian");
    ASSERT_STREQ(tag, "");
    free(repo);
    free(tag);
    char *arch = rpt_arch("linux/arm64/v8");
    ASSERT_STREQ(arch, "arm64");
    free(arch);
}

TEST(report_write_error)
{
    struct fixture fx;
    set_deterministic();
    fixture_init(&fx);
    struct scan_result r = fixture_result(&fx);
    static const enum report_format fmts[] = { REPORT_TABLE, REPORT_JSON, REPORT_ENHANCED_JSON,
                                               REPORT_SARIF, REPORT_CYCLONEDX };
    for (size_t i = 0; i < ARRAY_SIZE(fmts); i++) {
        FILE *f = fopen("/dev/full", "w");
        ASSERT_TRUE(f != NULL);
        ASSERT_TRUE(report_write_scan(f, fmts[i], &r, NULL) < 0);
        fclose(f);
    }
    FILE *f = fopen("/dev/full", "w");
    ASSERT_TRUE(f != NULL);
    ASSERT_TRUE(report_write_inventory(f, REPORT_JSON, &fx.inv, NULL) < 0);
    ASSERT_TRUE(report_write_scan(f, REPORT_JSON, NULL, NULL) < 0);
    fclose(f);
    fixture_release(&fx);
}

TEST(report_finding_without_package)
{
    /* The matcher always sets pkg, but a writer must not crash when it does not. */
    struct fixture fx;
    set_deterministic();
    fixture_init(&fx);
    fx.fl.items.v[0].pkg = NULL;
    /* and one whose package is not in the inventory's array */
    fx.fl.items.v[3].pkg =
        &(struct pkg){ .type = PKG_DEB, .name = "ghost", .version = "1", .layer = 7 };
    struct scan_result r = fixture_result(&fx);
    static const enum report_format fmts[] = { REPORT_TABLE, REPORT_JSON, REPORT_ENHANCED_JSON,
                                               REPORT_SARIF, REPORT_CYCLONEDX };
    for (size_t i = 0; i < ARRAY_SIZE(fmts); i++) {
        struct out o = render_scan(&r, fmts[i], false, 120);
        ASSERT_TRUE(o.len > 0);
        if (fmts[i] != REPORT_TABLE) {
            json_t *j = parse(&o);
            json_decref(j);
        }
        free(o.data);
    }
    /* CycloneDX: a package outside the inventory is not referenced from affects */
    struct out o = render_scan(&r, REPORT_CYCLONEDX, false, 0);
    json_t *j = parse(&o), *v;
    size_t i;
    bool seen = false;
    json_array_foreach(at(j, "vulnerabilities"), i, v)
    {
        if (strcmp(str_at(v, "id"), "CVE-2023-5678") == 0) {
            seen = true;
            ASSERT_EQ(json_array_size(at(v, "affects")), 0);
        }
    }
    ASSERT_TRUE(seen);
    json_decref(j);
    free(o.data);
    fixture_release(&fx);
}

TEST(report_enhanced_title_many_packages)
{
    struct fixture fx;
    set_deterministic();
    fixture_init(&fx);
    clear_findings(&fx);
    VEC_GROW(&fx.fl.items, 8);
    /* one vulnerability on five findings: four distinct packages, openssl on two fix lines */
    static const int pkgs[] = { P_OPENSSL, P_BASH, P_LIBC6, P_OPENSSL, P_ATTR };
    for (size_t i = 0; i < ARRAY_SIZE(pkgs); i++) {
        struct finding *f = add_finding(&fx, "CVE-2099-0001", pkgs[i], SEV_MEDIUM);
        f->fixed_version = i == 1 ? "9.9" : "";
    }
    struct scan_result r = fixture_result(&fx);
    struct out o = render_scan(&r, REPORT_ENHANCED_JSON, false, 0);
    json_t *j = parse(&o);
    json_t *e = json_array_get(at(j, "imageScanFindings.enhancedFindings"), 0);
    ASSERT_EQ(json_array_size(at(j, "imageScanFindings.enhancedFindings")), 1);
    ASSERT_STREQ(str_at(e, "title"), "CVE-2099-0001 - attr, bash and 2 more");
    ASSERT_STREQ(str_at(e, "fixAvailable"), "PARTIAL");
    ASSERT_EQ(json_array_size(at(e, "packageVulnerabilityDetails.vulnerablePackages")), 5);
    ASSERT_STREQ(str_at(e, "remediation.recommendation.text"), "Upgrade bash to 9.9.");
    json_decref(j);
    free(o.data);
    fixture_release(&fx);
}
