/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for src/vulndb: record readers, the compact range rows, import (incremental,
 * bad input, zip) and the matcher, on real records cut from ../shared/vulndb
 * (tests/data/vulndb, see make-fixtures.py there). */
#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "test.h"
#include "vulndb/db.h"
#include "vulndb/finding.h"
#include "vulndb/import.h"
#include "vulndb/match.h"
#include "vulndb/osv.h"

/* ---- helpers --------------------------------------------------------------------------- */

static char *fixture(const char *rel)
{
    return xasprintf("%s/vulndb/%s", test_data_dir(), rel);
}

/* Line n (1-based) of a fixture file, owned by the caller. */
static char *fixture_line(const char *rel, int n)
{
    char *path = fixture(rel);
    FILE *f = fopen(path, "r");
    free(path);
    if (!f)
        return NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len = -1;
    for (int i = 0; i < n; i++)
        len = getline(&line, &cap, f);
    fclose(f);
    if (len < 0) {
        free(line);
        return NULL;
    }
    return line;
}

static int import_paths(const char *db, const char *const *rel, size_t n, struct import_stats *st)
{
    char **paths = xcalloc(n, sizeof(*paths));
    for (size_t i = 0; i < n; i++)
        paths[i] = fixture(rel[i]);
    struct diag d = { 0 };
    struct import_opts o = { .max_warnings = 1 };
    /* the bad inputs warn by design: keep the test output readable */
    enum log_level saved = log_threshold;
    log_set_level(LOG_ERROR);
    int rc = vulndb_import(db, paths, n, &o, st, &d);
    log_set_level(saved);
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return rc;
}

static const char *const all_inputs[] = { "osv", "nvd.jsonl", "cisa.jsonl", "secdb.jsonl",
                                          "all.zip" };

static char *fresh_db(void)
{
    char *db = xasprintf("%s/vulndb.sqlite", test_tmpdir());
    struct import_stats st;
    if (import_paths(db, all_inputs, ARRAY_SIZE(all_inputs), &st) < 0) {
        free(db);
        return NULL;
    }
    return db;
}

static struct pkg mkpkg(enum pkg_type t, const char *name, const char *version,
                        const char *src_name, const char *src_version)
{
    struct pkg p = { 0 };
    p.type = t;
    p.name = name;
    p.version = version;
    p.src_name = src_name ? src_name : name;
    p.src_version = src_version ? src_version : version;
    p.arch = p.upstream = p.release = p.license = p.maintainer = p.db_path = "";
    p.layer = -1;
    return p;
}

struct matched {
    struct arena arena;
    struct finding_list fl;
};

static int match1(const char *db_path, const char *eco, const struct pkg *p,
                  const struct match_opts *o, struct matched *m)
{
    arena_init(&m->arena);
    memset(&m->fl, 0, sizeof(m->fl));
    struct vulndb *db;
    struct diag d = { 0 };
    int rc = vulndb_open(db_path, &db, &d);
    if (rc < 0)
        return rc;
    rc = vulndb_match(db, eco, p, 1, o, &m->arena, &m->fl, &d);
    vulndb_close(db);
    return rc;
}

static void matched_release(struct matched *m)
{
    VEC_FREE(&m->fl.items);
    arena_release(&m->arena);
}

static const struct finding *find_id(const struct matched *m, const char *id)
{
    for (size_t i = 0; i < m->fl.items.n; i++)
        if (strcmp(m->fl.items.v[i].id, id) == 0)
            return &m->fl.items.v[i];
    return NULL;
}

static bool has_related(const struct finding *f, const char *id)
{
    for (size_t i = 0; i < f->related.n; i++)
        if (strcmp(f->related.v[i], id) == 0)
            return true;
    return false;
}

/* ---- severity, semver ------------------------------------------------------------------ */

TEST(vulndb_severity_names)
{
    for (int s = 0; s < SEV_COUNT; s++)
        ASSERT_EQ(severity_parse(severity_name((enum severity)s)), s);
    ASSERT_EQ(severity_parse("critical"), SEV_CRITICAL);
    ASSERT_EQ(severity_parse("Informational"), SEV_INFORMATIONAL);
    ASSERT_EQ(severity_parse("severe"), -1);
    ASSERT_EQ(severity_parse(NULL), -1);
    ASSERT_STREQ(severity_name((enum severity)42), "UNDEFINED");
    /* vendors' words */
    ASSERT_EQ(severity_from_vendor("unimportant"), SEV_INFORMATIONAL);
    ASSERT_EQ(severity_from_vendor("low"), SEV_LOW);
    ASSERT_EQ(severity_from_vendor("medium"), SEV_MEDIUM);
    ASSERT_EQ(severity_from_vendor("high"), SEV_HIGH);
    ASSERT_EQ(severity_from_vendor("Moderate"), SEV_MEDIUM);
    ASSERT_EQ(severity_from_vendor("MODERATE"), SEV_MEDIUM);
    ASSERT_EQ(severity_from_vendor("Important"), SEV_HIGH);
    ASSERT_EQ(severity_from_vendor("CRITICAL"), SEV_CRITICAL);
    ASSERT_EQ(severity_from_vendor("not yet assigned"), SEV_UNDEFINED);
    ASSERT_EQ(severity_from_vendor("end-of-life"), SEV_UNDEFINED);
    ASSERT_EQ(severity_from_vendor(""), SEV_UNDEFINED);
}

TEST(vulndb_semver_order)
{
    static const char *const ascending[] = {
        "0.0.1",      "1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta",
        "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",
        "1.0.0",      "1.2.3",        "1.10.0",        "2.6.1",
        "2.6.10",     "10.0.0",
    };
    for (size_t i = 0; i < ARRAY_SIZE(ascending); i++)
        for (size_t j = 0; j < ARRAY_SIZE(ascending); j++) {
            int c = semver_cmp(str_from(ascending[i]), str_from(ascending[j]));
            int want = (i > j) - (i < j);
            if ((c > 0) - (c < 0) != want)
                test_fail(__FILE__, __LINE__, "semver_cmp(%s, %s) = %d", ascending[i], ascending[j],
                          c);
        }
    ASSERT_EQ(semver_cmp(STR_LIT("v2.0.0"), STR_LIT("2.0.0")), 0);
    ASSERT_EQ(semver_cmp(STR_LIT("1.0.0+build.7"), STR_LIT("1.0.0")), 0);
    ASSERT_EQ(semver_cmp(STR_LIT("1.0"), STR_LIT("1.0.0")), 0);
    ASSERT_TRUE(semver_cmp(STR_LIT("1.0.0"), STR_LIT("1.0.1-0")) < 0);
}

/* ---- compact rows ---------------------------------------------------------------------- */

struct range_case {
    const char *version;
    bool affected;
    const char *fixed;
};

static void check_row(const struct osv_affected *a, enum eco_family f,
                      const struct range_case *cases, size_t n, int line)
{
    struct buf b;
    buf_init(&b, AROW_MAX);
    if (arow_encode(a, f, NULL, 0, &b) < 0)
        test_fail(__FILE__, line, "arow_encode failed");
    for (size_t i = 0; i < n; i++) {
        struct arow_result r;
        if (arow_check(b.data, b.len, f, str_from(cases[i].version), &r) < 0)
            test_fail(__FILE__, line, "arow_check failed for %s", cases[i].version);
        if (r.affected != cases[i].affected || strcmp(r.fixed, cases[i].fixed) != 0)
            test_fail(__FILE__, line, "%s: affected=%d fixed='%s', want %d '%s'", cases[i].version,
                      r.affected, r.fixed, cases[i].affected, cases[i].fixed);
    }
    buf_release(&b);
}

#define EV(k, v)      \
    {                 \
        OSV_EV_##k, v \
    }

TEST(vulndb_row_introduced_fixed_deb)
{
    struct osv_event ev[] = { EV(INTRODUCED, "0"), EV(FIXED, "1:9.2p1-2+deb12u3") };
    struct osv_range rg = { OSV_RANGE_ECOSYSTEM, ev, 2 };
    struct osv_affected a = {
        .ecosystem = "Debian:12", .name = "openssh", .ranges = &rg, .n_ranges = 1
    };
    static const struct range_case cases[] = {
        { "1:9.2p1-2+deb12u2", true, "1:9.2p1-2+deb12u3" },
        { "1:9.2p1-2", true, "1:9.2p1-2+deb12u3" },
        { "9.9p1-1", true, "1:9.2p1-2+deb12u3" }, /* epoch 0 < 1 */
        { "1:9.2p1-2+deb12u3", false, "" },
        { "1:9.2p1-2+deb12u3~bpo1", true, "1:9.2p1-2+deb12u3" }, /* '~' sorts first */
        { "1:9.3p1-1", false, "" },
    };
    check_row(&a, ECO_DEBIAN, cases, ARRAY_SIZE(cases), __LINE__);
}

TEST(vulndb_row_events_sorted_and_intervals)
{
    /* events given out of order, two intervals */
    struct osv_event ev[] = { EV(FIXED, "3.0.0"), EV(INTRODUCED, "2.0.0"), EV(FIXED, "1.0.0"),
                              EV(INTRODUCED, "0") };
    struct osv_range rg = { OSV_RANGE_SEMVER, ev, 4 };
    struct osv_affected a = { .ecosystem = "npm", .name = "x", .ranges = &rg, .n_ranges = 1 };
    static const struct range_case cases[] = {
        { "0.5.0", true, "1.0.0" },  { "1.0.0", false, "" },          { "1.5.0", false, "" },
        { "2.0.0", true, "3.0.0" },  { "2.9.9", true, "3.0.0" },      { "3.0.0", false, "" },
        { "2.0.0-rc.1", false, "" }, { "1.0.0-rc.1", true, "1.0.0" },
    };
    check_row(&a, ECO_OTHER, cases, ARRAY_SIZE(cases), __LINE__);
}

TEST(vulndb_row_last_affected_and_limit)
{
    struct osv_event ev[] = { EV(INTRODUCED, "0"), EV(LAST_AFFECTED, "2.6.1") };
    struct osv_range rg = { OSV_RANGE_SEMVER, ev, 2 };
    struct osv_affected a = {
        .ecosystem = "npm", .name = "lite-server", .ranges = &rg, .n_ranges = 1
    };
    static const struct range_case cases[] = {
        { "1.0.0", true, "" },
        { "2.6.1", true, "" },
        { "2.6.2", false, "" },
    };
    check_row(&a, ECO_OTHER, cases, ARRAY_SIZE(cases), __LINE__);

    /* limit: affected only below it (rpm ordering) */
    struct osv_event ev2[] = { EV(INTRODUCED, "1.0-1"), EV(LIMIT, "2.0-1") };
    struct osv_range rg2 = { OSV_RANGE_ECOSYSTEM, ev2, 2 };
    struct osv_affected a2 = {
        .ecosystem = "Red Hat:x", .name = "y", .ranges = &rg2, .n_ranges = 1
    };
    static const struct range_case cases2[] = {
        { "0.9-1", false, "" },
        { "1.5-1", true, "" },
        { "2.0-1", false, "" },
        { "3.0-1", false, "" },
    };
    check_row(&a2, ECO_REDHAT, cases2, ARRAY_SIZE(cases2), __LINE__);
}

TEST(vulndb_row_fixed_zero_is_empty)
{
    /* Alpine's "never affected in this branch" */
    struct osv_event ev[] = { EV(INTRODUCED, "0"), EV(FIXED, "0") };
    struct osv_range rg = { OSV_RANGE_ECOSYSTEM, ev, 2 };
    struct osv_affected a = {
        .ecosystem = "Alpine:v3.19", .name = "openssh", .ranges = &rg, .n_ranges = 1
    };
    static const struct range_case cases[] = { { "9.6_p1-r0", false, "" },
                                               { "0.1-r0", false, "" } };
    check_row(&a, ECO_ALPINE, cases, ARRAY_SIZE(cases), __LINE__);
}

TEST(vulndb_row_versions_list)
{
    /* no comparator for PyPI: the explicit list decides, the single fix is reported */
    struct osv_event ev[] = { EV(INTRODUCED, "0.17.0"), EV(FIXED, "0.17.1") };
    struct osv_range rg = { OSV_RANGE_ECOSYSTEM, ev, 2 };
    const char *versions[] = { "0.17.0" };
    struct osv_affected a = { .ecosystem = "PyPI",
                              .name = "salt",
                              .ranges = &rg,
                              .n_ranges = 1,
                              .versions = versions,
                              .n_versions = 1 };
    static const struct range_case cases[] = { { "0.17.0", true, "0.17.1" },
                                               { "0.17.1", false, "" },
                                               { "0.16.0", false, "" } };
    check_row(&a, ECO_OTHER, cases, ARRAY_SIZE(cases), __LINE__);

    /* with a comparator, listed versions the range covers are not stored; others are */
    struct osv_event ev2[] = { EV(INTRODUCED, "0"), EV(FIXED, "1:2.0-1") };
    struct osv_range rg2 = { OSV_RANGE_ECOSYSTEM, ev2, 2 };
    const char *versions2[] = { "1:1.0-1", "1:1.5-1", "2:0.1-1" };
    struct osv_affected a2 = { .ecosystem = "Debian:12",
                               .name = "p",
                               .ranges = &rg2,
                               .n_ranges = 1,
                               .versions = versions2,
                               .n_versions = 3 };
    struct buf b;
    buf_init(&b, AROW_MAX);
    ASSERT_EQ(arow_encode(&a2, ECO_DEBIAN, NULL, 0, &b), 0);
    ASSERT_TRUE(memmem(b.data, b.len, "v1:1.0-1", 9) == NULL);
    ASSERT_TRUE(memmem(b.data, b.len, "v2:0.1-1", 9) != NULL);
    struct arow_result r;
    ASSERT_EQ(arow_check(b.data, b.len, ECO_DEBIAN, STR_LIT("2:0.1-1"), &r), 0);
    ASSERT_TRUE(r.affected);
    ASSERT_TRUE(r.by_version_list);
    ASSERT_EQ(arow_check(b.data, b.len, ECO_DEBIAN, STR_LIT("2:0.2-1"), &r), 0);
    ASSERT_FALSE(r.affected);
    buf_release(&b);

    /* "introduced 0" alone needs no comparator: every version (malicious packages) */
    struct osv_event ev3[] = { EV(INTRODUCED, "0") };
    struct osv_range rg3 = { OSV_RANGE_ECOSYSTEM, ev3, 1 };
    struct osv_affected a3 = { .ecosystem = "PyPI", .name = "evil", .ranges = &rg3, .n_ranges = 1 };
    static const struct range_case cases3[] = { { "1.0", true, "" }, { "0", true, "" } };
    check_row(&a3, ECO_OTHER, cases3, ARRAY_SIZE(cases3), __LINE__);
}

TEST(vulndb_row_urgency_keys_and_corruption)
{
    struct osv_event ev[] = { EV(INTRODUCED, "0"), EV(FIXED, "1.2-r0") };
    struct osv_range rg = { OSV_RANGE_ECOSYSTEM, ev, 2 };
    struct osv_affected a = {
        .ecosystem = "Alpine:v3.19", .name = "p", .ranges = &rg, .n_ranges = 1, .urgency = URG_LOW
    };
    const char *keys[] = { "CVE-1", "CVE-2" };
    struct buf b;
    buf_init(&b, AROW_MAX);
    ASSERT_EQ(arow_encode(&a, ECO_ALPINE, keys, 2, &b), 0);
    struct arow_result r;
    ASSERT_EQ(arow_check(b.data, b.len, ECO_ALPINE, STR_LIT("1.1-r0"), &r), 0);
    ASSERT_TRUE(r.affected);
    ASSERT_EQ(r.urgency, URG_LOW);
    ASSERT_EQ(r.n_keys, 2);
    ASSERT_STREQ(r.keys[1], "CVE-2");
    /* more 'k' items than a result holds: the row is fine, the extra ids are not reported */
    const char *many[AROW_MAX_KEYS + 3];
    for (size_t i = 0; i < ARRAY_SIZE(many); i++)
        many[i] = "CVE-X";
    ASSERT_EQ(arow_encode(&a, ECO_ALPINE, many, ARRAY_SIZE(many), &b), 0);
    ASSERT_EQ(arow_check(b.data, b.len, ECO_ALPINE, STR_LIT("1.1-r0"), &r), 0);
    ASSERT_EQ(r.n_keys, AROW_MAX_KEYS);
    ASSERT_EQ(arow_encode(&a, ECO_ALPINE, keys, 2, &b), 0);
    /* every truncation of a valid row is either valid or rejected, never read past */
    for (size_t n = 0; n < b.len; n++) {
        char *cut = xmalloc(n ? n : 1);
        memcpy(cut, b.data, n);
        int rc = arow_check(cut, n, ECO_ALPINE, STR_LIT("1.1-r0"), &r);
        ASSERT_TRUE(rc == 0 || rc == -ERR_CORRUPT);
        free(cut);
    }
    ASSERT_EQ(arow_check("\x02", 1, ECO_ALPINE, STR_LIT("1"), &r), -ERR_CORRUPT);
    ASSERT_EQ(arow_check("\x01i0", 4, ECO_ALPINE, STR_LIT("1"), &r), -ERR_CORRUPT);
    ASSERT_EQ(arow_check("\x01Q1", 4, ECO_ALPINE, STR_LIT("1"), &r), -ERR_CORRUPT);
    buf_release(&b);

    /* package entry lists */
    static const unsigned char list[] = { 0x05, 0x03, 0x01, 'E', 0x00, 0x81 };
    struct entry_iter it = { list, sizeof(list), 0 };
    int64_t adv;
    const void *row;
    size_t len;
    ASSERT_EQ(entry_next(&it, &adv, &row, &len), 1);
    ASSERT_EQ(adv, 5);
    ASSERT_EQ(len, 3);
    ASSERT_EQ(entry_next(&it, &adv, &row, &len), -ERR_CORRUPT); /* varint runs off the end */
}

/* ---- record readers -------------------------------------------------------------------- */

static int parse_osv_line(const char *rel, int n, struct osv_record *r)
{
    char *line = fixture_line(rel, n);
    if (!line)
        return -ENOENT;
    void *root;
    enum vin_kind kind;
    struct diag d = { 0 };
    int rc = vin_parse(line, strlen(line), &root, &kind, &d);
    free(line);
    if (rc < 0)
        return rc;
    if (kind != VIN_OSV) {
        json_decref(root);
        return -ERR_INVALID;
    }
    return osv_record_from_json(root, r, &d);
}

TEST(vulndb_osv_record_openssh)
{
    struct osv_record r;
    ASSERT_EQ(parse_osv_line("osv/debian.jsonl", 4, &r), 0);
    ASSERT_STREQ(r.id, "CVE-2024-6387");
    ASSERT_STREQ(r.modified, "2024-12-05T14:55:52.257973Z");
    ASSERT_EQ(r.n_warnings, 0);
    bool deb12 = false;
    for (size_t i = 0; i < r.n_affected; i++) {
        const struct osv_affected *a = &r.affected[i];
        if (strcmp(a->ecosystem, "Debian:12") != 0)
            continue;
        deb12 = true;
        ASSERT_STREQ(a->name, "openssh");
        ASSERT_EQ(a->n_ranges, 1);
        ASSERT_EQ(a->ranges[0].n_events, 2);
        ASSERT_STREQ(a->ranges[0].events[1].version, "1:9.2p1-2+deb12u3");
        ASSERT_EQ(a->urgency, URG_NOT_YET_ASSIGNED);
        ASSERT_EQ(a->n_versions, 3);
    }
    ASSERT_TRUE(deb12);
    ASSERT_EQ(r.n_severity, 1);
    ASSERT_STREQ(r.severity[0].type, "CVSS_V3");
    bool dsa = false;
    for (size_t i = 0; i < r.n_related; i++)
        dsa |= strcmp(r.related[i], "DSA-5724-1") == 0;
    ASSERT_TRUE(dsa);
    osv_record_release(&r);

    /* Red Hat writes its rating as a classification link */
    ASSERT_EQ(parse_osv_line("osv/redhat.jsonl", 1, &r), 0);
    ASSERT_STREQ(r.vendor_severity, "Important");
    ASSERT_EQ(r.n_affected, 28);
    osv_record_release(&r);
}

TEST(vulndb_osv_record_malformed_parts)
{
    struct osv_record r;
    ASSERT_EQ(parse_osv_line("bad/mixed.jsonl", 3, &r), 0);
    ASSERT_STREQ(r.id, "PYSEC-TEST-BROKEN");
    /* salt kept; "Nonexistent" dropped; y, z, w kept without their malformed ranges */
    ASSERT_EQ(r.n_affected, 4);
    ASSERT_EQ(r.n_affected_dropped, 1);
    ASSERT_EQ(r.n_warnings, 4);
    for (size_t i = 1; i < r.n_affected; i++)
        ASSERT_EQ(r.affected[i].n_ranges, 0);
    int n = 0;
    for (struct osv_warning *w = r.warnings; w; w = w->next)
        n++;
    ASSERT_EQ(n, 4);
    ASSERT_TRUE(strstr(r.warnings->msg, "Nonexistent") != NULL);
    osv_record_release(&r);
    /* no "modified": the record is rejected */
    ASSERT_EQ(parse_osv_line("bad/mixed.jsonl", 4, &r), -ERR_INVALID);
    osv_record_release(&r);
    /* not JSON */
    void *root;
    enum vin_kind kind;
    struct diag d = { 0 };
    ASSERT_EQ(vin_parse("{\"id\": ", 7, &root, &kind, &d), -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "not JSON") != NULL);
}

TEST(vulndb_cve_and_secdb_readers)
{
    char *line = fixture_line("nvd.jsonl", 1);
    ASSERT_TRUE(line != NULL);
    void *root;
    enum vin_kind kind;
    ASSERT_EQ(vin_parse(line, strlen(line), &root, &kind, NULL), 0);
    free(line);
    ASSERT_EQ(kind, VIN_NVD);
    struct cve_info ci;
    ASSERT_EQ(cve_info_from_json(root, kind, &ci, NULL), 0);
    ASSERT_STREQ(ci.id, "CVE-2008-3234");
    ASSERT_EQ(ci.n_vec, 1);
    ASSERT_STREQ(ci.vec[0].version, "2.0");
    ASSERT_STREQ(ci.vec[0].vector, "AV:N/AC:L/Au:S/C:P/I:P/A:P");
    ASSERT_TRUE(strlen(ci.description) > 20);
    cve_info_release(&ci);

    line = fixture_line("cisa.jsonl", 1);
    ASSERT_EQ(vin_parse(line, strlen(line), &root, &kind, NULL), 0);
    free(line);
    ASSERT_EQ(kind, VIN_CISA);
    ASSERT_EQ(cve_info_from_json(root, kind, &ci, NULL), 0);
    ASSERT_STREQ(ci.id, "CVE-2023-38408");
    bool adp = false;
    for (size_t i = 0; i < ci.n_vec; i++)
        adp |= strcmp(ci.vec[i].source, "CISA-ADP") == 0 &&
               strncmp(ci.vec[i].vector, "CVSS:3.1/", 9) == 0;
    ASSERT_TRUE(adp);
    cve_info_release(&ci);

    line = fixture_line("secdb.jsonl", 1);
    ASSERT_EQ(vin_parse(line, strlen(line), &root, &kind, NULL), 0);
    free(line);
    ASSERT_EQ(kind, VIN_SECDB);
    struct secdb_doc doc;
    ASSERT_EQ(secdb_doc_from_json(root, &doc, NULL), 0);
    ASSERT_STREQ(doc.ecosystem, "Alpine:v3.19");
    bool found = false;
    for (size_t i = 0; i < doc.n_fixes; i++)
        if (strcmp(doc.fixes[i].name, "openssh") == 0 &&
            strcmp(doc.fixes[i].version, "9.6_p1-r1") == 0) {
            found = true;
            ASSERT_EQ(doc.fixes[i].n_ids, 1);
            ASSERT_STREQ(doc.fixes[i].ids[0], "CVE-2024-6387");
        }
    ASSERT_TRUE(found);
    secdb_doc_release(&doc);
}

TEST(vulndb_time_and_ecosystems)
{
    ASSERT_TRUE(osv_time_cmp("2024-07-01T13:15:06Z", "2024-12-05T14:55:52.257973Z") < 0);
    ASSERT_TRUE(osv_time_cmp("2024-12-05T14:55:52.3Z", "2024-12-05T14:55:52.257973Z") > 0);
    ASSERT_EQ(osv_time_cmp("2024-12-05T14:55:52Z", "2024-12-05T14:55:52.000Z"), 0);
    ASSERT_TRUE(osv_ecosystem_known("Debian:12"));
    ASSERT_TRUE(osv_ecosystem_known("Red Hat:enterprise_linux:9::appstream"));
    ASSERT_TRUE(osv_ecosystem_known("crates.io"));
    ASSERT_FALSE(osv_ecosystem_known("Debianish:12"));
    ASSERT_FALSE(osv_ecosystem_known(""));

    struct arena a;
    arena_init(&a);
    ASSERT_STREQ(vulndb_ecosystem_for_os("debian", "12", &a), "Debian:12");
    ASSERT_STREQ(vulndb_ecosystem_for_os("debian", "bookworm", &a), "Debian:12");
    ASSERT_STREQ(vulndb_ecosystem_for_os("alpine", "3.19.0", &a), "Alpine:v3.19");
    ASSERT_STREQ(vulndb_ecosystem_for_os("alpine", "3.21_alpha20240807", &a), "Alpine:edge");
    ASSERT_STREQ(vulndb_ecosystem_for_os("rocky", "9.3", &a), "Red Hat:enterprise_linux:9");
    ASSERT_STREQ(vulndb_ecosystem_for_os("almalinux", "8.10", &a), "Red Hat:enterprise_linux:8");
    ASSERT_STREQ(vulndb_ecosystem_for_os("rhel", "9.4", &a), "Red Hat:enterprise_linux:9");
    ASSERT_TRUE(vulndb_ecosystem_for_os("ubuntu", "22.04", &a) == NULL);
    ASSERT_TRUE(vulndb_ecosystem_for_os("alpine", "edge", &a) == NULL);
    ASSERT_TRUE(vulndb_ecosystem_for_os("debian", "", &a) == NULL);
    arena_release(&a);
}

/* ---- import + match -------------------------------------------------------------------- */

TEST(vulndb_import_counts_and_status)
{
    char *db = xasprintf("%s/vulndb.sqlite", test_tmpdir());
    struct import_stats st;
    static const char *const inputs[] = { "osv",         "nvd.jsonl", "cisa.jsonl",
                                          "secdb.jsonl", "all.zip",   "bad" };
    ASSERT_EQ(import_paths(db, inputs, ARRAY_SIZE(inputs), &st), 0);
    ASSERT_TRUE(st.built);
    /* 10 distinct OSV ids in osv/ + PYSEC-TEST-BROKEN, and the secdb document */
    ASSERT_EQ(st.added, 12);
    ASSERT_EQ(st.secdb_docs, 1);
    /* all.zip repeats 2 records, bad/ repeats 2, the Alpine copy of CVE-2024-6387 */
    ASSERT_EQ(st.duplicates, 5);
    /* CVE-2017-0208 is named by no advisory */
    ASSERT_EQ(st.cve_unreferenced, 1);
    /* bad/: a non-JSON line, a record without "modified", a bare array, the truncated
     * line and the two gzip errors */
    ASSERT_EQ(st.skipped, 6);
    ASSERT_TRUE(st.warnings >= 10);

    json_t *s;
    struct diag d = { 0 };
    ASSERT_EQ(vulndb_status_json(db, &s, &d), 0);
    ASSERT_EQ(json_integer_value(json_object_get(s, "records")), 11);
    json_t *ecos = json_object_get(s, "ecosystems");
    /* ids with a Debian:12 entry: 4 CVEs, the DSA, and PYSEC-TEST-BROKEN's y/z/w */
    ASSERT_EQ(json_integer_value(json_object_get(ecos, "Debian:12")), 6);
    ASSERT_EQ(json_integer_value(json_object_get(ecos, "PyPI")), 3);
    ASSERT_EQ(json_integer_value(json_object_get(ecos, "npm")), 2);
    ASSERT_EQ(json_integer_value(json_object_get(ecos, "Maven")), 1);
    ASSERT_EQ(json_integer_value(json_object_get(ecos, "Red Hat:enterprise_linux:9::baseos")), 1);
    ASSERT_STREQ(json_string_value(json_object_get(s, "newest_modified")),
                 "2025-01-15T05:06:16.044669Z");
    json_t *li = json_object_get(s, "last_import");
    ASSERT_EQ(json_integer_value(json_object_get(li, "added")), 12);
    ASSERT_STREQ(json_string_value(json_object_get(li, "mode")), "build");
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(s, "cve_info"), "NVD")), 2);
    ASSERT_EQ(json_array_size(json_object_get(s, "sources")), 12);
    json_decref(s);
    free(db);
}

TEST(vulndb_match_debian_openssh)
{
    char *db = fresh_db();
    ASSERT_TRUE(db != NULL);
    struct pkg p = mkpkg(PKG_DEB, "openssh-server", "1:9.2p1-2+deb12u2", "openssh", NULL);
    struct match_opts o = { 0 };
    struct matched m;
    ASSERT_EQ(match1(db, "Debian:12", &p, &o, &m), 0);
    /* CVE-2023-38408/51385 are fixed at u1/u2; CVE-2008-3234 is "unimportant" */
    ASSERT_EQ(m.fl.items.n, 1);
    const struct finding *f = &m.fl.items.v[0];
    ASSERT_STREQ(f->id, "CVE-2024-6387");
    ASSERT_EQ(f->related.n, 1);
    ASSERT_STREQ(f->related.v[0], "DSA-5724-1");
    ASSERT_STREQ(f->fixed_version, "1:9.2p1-2+deb12u3");
    ASSERT_EQ(f->severity, SEV_HIGH); /* urgency "not yet assigned": NVD CVSS 3.1 8.1 */
    ASSERT_STREQ(f->severity_source, "cvss3");
    ASSERT_TRUE(f->pkg == &p);
    ASSERT_STREQ(f->ecosystem, "Debian:12");
    ASSERT_STREQ(f->uri, "https://security-tracker.debian.org/tracker/CVE-2024-6387");
    ASSERT_STREQ(f->source, "osv:debian");
    ASSERT_TRUE(f->cvss.n >= 1);
    ASSERT_TRUE(f->cvss.v[0].score > 8.05 && f->cvss.v[0].score < 8.15);
    ASSERT_TRUE(strstr(f->description, "race condition") != NULL);
    ASSERT_TRUE(f->references.n > 0);
    ASSERT_STREQ(f->published, "2024-07-01T13:15:06Z");
    matched_release(&m);

    /* "unimportant" shows as INFORMATIONAL when asked for; it has no fix */
    o.include_unimportant = true;
    ASSERT_EQ(match1(db, "Debian:12", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 2);
    f = find_id(&m, "CVE-2008-3234");
    ASSERT_TRUE(f != NULL);
    ASSERT_EQ(f->severity, SEV_INFORMATIONAL);
    ASSERT_STREQ(f->vendor_severity, "unimportant");
    ASSERT_STREQ(f->fixed_version, "");
    /* ordered by severity */
    ASSERT_STREQ(m.fl.items.v[0].id, "CVE-2024-6387");
    matched_release(&m);

    o.ignore_unfixed = true;
    ASSERT_EQ(match1(db, "Debian:12", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 1);
    matched_release(&m);
    o = (struct match_opts){ .min_severity = SEV_CRITICAL };
    ASSERT_EQ(match1(db, "Debian:12", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 0);
    matched_release(&m);

    /* older: three issues; the source version decides, not the binary one */
    o = (struct match_opts){ 0 };
    p = mkpkg(PKG_DEB, "openssh-client", "99:1", "openssh", "1:9.2p1-2");
    ASSERT_EQ(match1(db, "Debian:12", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 3);
    ASSERT_STREQ(find_id(&m, "CVE-2023-38408")->fixed_version, "1:9.2p1-2+deb12u1");
    ASSERT_STREQ(find_id(&m, "CVE-2023-51385")->fixed_version, "1:9.2p1-2+deb12u2");
    ASSERT_EQ(find_id(&m, "CVE-2023-38408")->severity, SEV_CRITICAL); /* CISA-ADP 9.8 */
    ASSERT_STREQ(m.fl.items.v[0].id, "CVE-2023-38408");
    matched_release(&m);

    /* fixed: nothing; other release: its own entries */
    p = mkpkg(PKG_DEB, "openssh-server", "1:9.2p1-2+deb12u3", "openssh", NULL);
    ASSERT_EQ(match1(db, "Debian:12", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 0);
    matched_release(&m);
    ASSERT_EQ(match1(db, "Debian:13", &p, &o, &m), 0);
    ASSERT_TRUE(find_id(&m, "CVE-2024-6387") != NULL); /* trixie fixed in 1:9.7p1-7 */
    matched_release(&m);
    ASSERT_EQ(match1(db, "Debian:10", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 0);
    matched_release(&m);
    free(db);
}

TEST(vulndb_match_redhat_alpine)
{
    char *db = fresh_db();
    ASSERT_TRUE(db != NULL);
    struct arena a;
    arena_init(&a);
    const char *rh = vulndb_ecosystem_for_os("rocky", "9.3", &a);
    struct pkg p = mkpkg(PKG_RPM, "openssh", "8.7p1-38.el9_4", "openssh", NULL);
    struct match_opts o = { 0 };
    struct matched m;
    ASSERT_EQ(match1(db, rh, &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 1);
    const struct finding *f = &m.fl.items.v[0];
    ASSERT_STREQ(f->id, "CVE-2024-6387");
    ASSERT_TRUE(has_related(f, "RHSA-2024:4312"));
    ASSERT_STREQ(f->fixed_version, "0:8.7p1-38.el9_4.1");
    ASSERT_EQ(f->severity, SEV_HIGH);
    ASSERT_STREQ(f->severity_source, "vendor");
    ASSERT_STREQ(f->vendor_severity, "Important");
    ASSERT_STREQ(f->uri, "https://access.redhat.com/security/cve/CVE-2024-6387");
    ASSERT_TRUE(strncmp(f->ecosystem, "Red Hat:enterprise_linux:9::", 28) == 0);
    matched_release(&m);
    p = mkpkg(PKG_RPM, "openssh", "0:8.7p1-38.el9_4.1", "openssh", NULL);
    ASSERT_EQ(match1(db, rh, &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 0);
    matched_release(&m);
    /* RHEL 8 streams are not RHEL 9's */
    p = mkpkg(PKG_RPM, "openssh", "8.0p1-1.el8", "openssh", NULL);
    ASSERT_EQ(match1(db, "Red Hat:enterprise_linux:8", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 0);
    matched_release(&m);

    /* Alpine: by origin; OSV record and secdb agree on CVE-2024-6387 */
    p = mkpkg(PKG_APK, "openssh-client-default", "9.6_p1-r0", "openssh", NULL);
    ASSERT_EQ(match1(db, "Alpine:v3.19", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 1);
    f = &m.fl.items.v[0];
    ASSERT_STREQ(f->id, "CVE-2024-6387");
    ASSERT_STREQ(f->fixed_version, "9.6_p1-r1");
    ASSERT_STREQ(f->uri, "https://security.alpinelinux.org/vuln/CVE-2024-6387");
    ASSERT_STREQ(f->source, "osv:alpine");
    matched_release(&m);
    /* older: secdb alone knows CVE-2023-48795; its "0" (never affected) entry and the OSV
     * record's empty range keep CVE-2023-38408 out */
    p = mkpkg(PKG_APK, "openssh", "9.5_p1-r0", "openssh", NULL);
    ASSERT_EQ(match1(db, "Alpine:v3.19", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 2);
    ASSERT_STREQ(find_id(&m, "CVE-2023-48795")->fixed_version, "9.6_p1-r0");
    ASSERT_STREQ(find_id(&m, "CVE-2023-48795")->source, "alpine-secdb");
    ASSERT_TRUE(find_id(&m, "CVE-2023-38408") == NULL);
    matched_release(&m);
    /* a secdb line naming eleven CVEs (busybox 1.34.0-r0): every one of them */
    p = mkpkg(PKG_APK, "busybox-binsh", "1.33.1-r0", "busybox", NULL);
    ASSERT_EQ(match1(db, "Alpine:v3.19", &p, &o, &m), 0);
    ASSERT_TRUE(find_id(&m, "CVE-2021-42374") != NULL);
    ASSERT_TRUE(find_id(&m, "CVE-2021-42386") != NULL);
    ASSERT_STREQ(find_id(&m, "CVE-2021-42386")->fixed_version, "1.34.0-r0");
    ASSERT_TRUE(find_id(&m, "CVE-2021-28831") == NULL); /* fixed in 1.33.0-r5 */
    ASSERT_TRUE(find_id(&m, "CVE-2021-42373") == NULL); /* "0": never affected */
    matched_release(&m);
    arena_release(&a);
    free(db);
}

TEST(vulndb_match_language_ecosystems)
{
    char *db = fresh_db();
    ASSERT_TRUE(db != NULL);
    struct match_opts o = { 0 };
    struct matched m;
    /* GHSA and PYSEC describe one issue: one finding named by the CVE */
    struct pkg p = mkpkg(0, "salt", "0.17.0", NULL, NULL);
    ASSERT_EQ(match1(db, "PyPI", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 1);
    const struct finding *f = &m.fl.items.v[0];
    ASSERT_STREQ(f->id, "CVE-2013-4437");
    ASSERT_EQ(f->related.n, 2);
    ASSERT_STREQ(f->related.v[0], "GHSA-qr3x-v97p-42xw");
    ASSERT_STREQ(f->related.v[1], "PYSEC-2013-27");
    ASSERT_STREQ(f->fixed_version, "0.17.1");
    ASSERT_STREQ(f->uri, "https://github.com/advisories/GHSA-qr3x-v97p-42xw");
    ASSERT_EQ(f->severity, SEV_HIGH); /* GHSA's own rating */
    ASSERT_STREQ(f->vendor_severity, "HIGH");
    bool nvd_v2 = false;
    for (size_t i = 0; i < f->cvss.n; i++)
        nvd_v2 |=
            strcmp(f->cvss.v[i].source, "NVD") == 0 && strcmp(f->cvss.v[i].version, "2.0") == 0;
    ASSERT_TRUE(nvd_v2);
    matched_release(&m);
    p = mkpkg(0, "salt", "0.17.1", NULL, NULL);
    ASSERT_EQ(match1(db, "PyPI", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 0);
    matched_release(&m);

    /* npm: SEMVER last_affected; the same advisory's Maven entry by its versions list */
    p = mkpkg(0, "lite-server", "2.6.1", NULL, NULL);
    ASSERT_EQ(match1(db, "npm", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 1);
    ASSERT_STREQ(m.fl.items.v[0].id, "CVE-2022-25940");
    ASSERT_STREQ(m.fl.items.v[0].fixed_version, "");
    ASSERT_STREQ(m.fl.items.v[0].uri, "https://github.com/advisories/GHSA-89w7-5q45-r53w");
    matched_release(&m);
    p = mkpkg(0, "lite-server", "2.6.2", NULL, NULL);
    ASSERT_EQ(match1(db, "npm", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 0);
    matched_release(&m);
    p = mkpkg(0, "org.webjars.npm:lite-server", "2.1.0", NULL, NULL);
    ASSERT_EQ(match1(db, "Maven", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 1);
    matched_release(&m);

    /* malicious package: every version */
    p = mkpkg(0, "cxp-jquery", "3.1.4", NULL, NULL);
    ASSERT_EQ(match1(db, "npm", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 1);
    ASSERT_STREQ(m.fl.items.v[0].id, "MAL-2021-1");
    ASSERT_TRUE(m.fl.items.v[0].malicious);
    ASSERT_EQ(m.fl.items.v[0].severity, SEV_CRITICAL); /* malware is critical */
    ASSERT_STREQ(m.fl.items.v[0].uri, "https://osv.dev/vulnerability/MAL-2021-1");
    matched_release(&m);
    free(db);
}

struct change_log {
    int n;
    char text[2048];
};

static int log_change(void *ctx, const struct vulndb_change *c)
{
    struct change_log *l = ctx;
    size_t len = strlen(l->text);
    snprintf(l->text + len, sizeof(l->text) - len, "%s %s %s %s|", c->kind, c->advisory,
             c->ecosystem, c->package);
    l->n++;
    return 0;
}

static int changes_since(const char *db_path, int64_t since, struct change_log *l, int64_t *last)
{
    memset(l, 0, sizeof(*l));
    struct vulndb *db;
    struct diag d = { 0 };
    int rc = vulndb_open(db_path, &db, &d);
    if (rc < 0)
        return rc;
    bool build;
    rc = vulndb_last_import(db, last, &build, &d);
    if (rc == 0)
        rc = vulndb_changes(db, since, log_change, l, &d);
    vulndb_close(db);
    return rc;
}

TEST(vulndb_incremental_import)
{
    char *db = fresh_db();
    ASSERT_TRUE(db != NULL);
    struct import_stats st;
    /* the same inputs again: nothing changes */
    ASSERT_EQ(import_paths(db, all_inputs, ARRAY_SIZE(all_inputs), &st), 0);
    ASSERT_FALSE(st.built);
    ASSERT_EQ(st.added, 0);
    ASSERT_EQ(st.changed, 0);
    ASSERT_EQ(st.removed, 0);
    ASSERT_EQ(st.unchanged, 11); /* 10 OSV records and the secdb document */
    struct change_log l;
    int64_t last;
    ASSERT_EQ(changes_since(db, 1, &l, &last), 0);
    ASSERT_EQ(last, 2);
    ASSERT_EQ(l.n, 0);

    /* the DSA re-published with another fix: changed, for (Debian:12, openssh) only */
    static const char *const upd[] = { "updates/dsa-modified.jsonl" };
    ASSERT_EQ(import_paths(db, upd, 1, &st), 0);
    ASSERT_EQ(st.changed, 1);
    ASSERT_EQ(st.added, 0);
    ASSERT_EQ(changes_since(db, 2, &l, &last), 0);
    ASSERT_EQ(l.n, 1);
    ASSERT_STREQ(l.text, "changed DSA-5724-1 Debian:12 openssh|");
    /* the CVE record is more specific than the DSA: u3 stays fixed, the DSA stays related */
    struct match_opts o = { 0 };
    struct matched m;
    struct pkg p = mkpkg(PKG_DEB, "openssh-server", "1:9.2p1-2+deb12u3", "openssh", NULL);
    ASSERT_EQ(match1(db, "Debian:12", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 0);
    matched_release(&m);
    p = mkpkg(PKG_DEB, "openssh-server", "1:9.2p1-2+deb12u2", "openssh", NULL);
    ASSERT_EQ(match1(db, "Debian:12", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 1);
    ASSERT_STREQ(m.fl.items.v[0].fixed_version, "1:9.2p1-2+deb12u3");
    ASSERT_TRUE(has_related(&m.fl.items.v[0], "DSA-5724-1"));
    matched_release(&m);
    /* again: a no-op */
    ASSERT_EQ(import_paths(db, upd, 1, &st), 0);
    ASSERT_EQ(st.changed, 0);
    ASSERT_EQ(st.unchanged, 1);

    /* withdrawn: removed from both ecosystems it named */
    static const char *const wd[] = { "updates/ghsa-withdrawn.json" };
    ASSERT_EQ(import_paths(db, wd, 1, &st), 0);
    ASSERT_EQ(st.removed, 1);
    ASSERT_EQ(changes_since(db, 4, &l, &last), 0);
    ASSERT_EQ(l.n, 2);
    ASSERT_STREQ(l.text, "removed GHSA-89w7-5q45-r53w Maven org.webjars.npm:lite-server|"
                         "removed GHSA-89w7-5q45-r53w npm lite-server|");
    p = mkpkg(0, "lite-server", "2.6.1", NULL, NULL);
    ASSERT_EQ(match1(db, "npm", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 0);
    matched_release(&m);
    ASSERT_EQ(import_paths(db, wd, 1, &st), 0);
    ASSERT_EQ(st.removed, 0);
    /* the older copy does not bring it back */
    static const char *const npm[] = { "osv/npm.jsonl.gz" };
    ASSERT_EQ(import_paths(db, npm, 1, &st), 0);
    ASSERT_EQ(st.added, 0);
    ASSERT_EQ(st.unchanged, 2);
    ASSERT_EQ(match1(db, "npm", &p, &o, &m), 0);
    ASSERT_EQ(m.fl.items.n, 0);
    matched_release(&m);

    json_t *s;
    struct diag d = { 0 };
    ASSERT_EQ(vulndb_status_json(db, &s, &d), 0);
    /* 10 OSV records imported, one withdrawn */
    ASSERT_EQ(json_integer_value(json_object_get(s, "records")), 9);
    ASSERT_EQ(json_integer_value(json_object_get(s, "withdrawn")), 1);
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(s, "ecosystems"), "npm")), 1);
    ASSERT_TRUE(json_object_get(json_object_get(s, "ecosystems"), "Maven") == NULL);
    json_decref(s);
    free(db);
}

TEST(vulndb_rebuild_replaces)
{
    char *db = fresh_db();
    ASSERT_TRUE(db != NULL);
    char *path = fixture("osv/pypi.jsonl");
    char *paths[] = { path };
    struct import_opts o = { .rebuild = true, .max_warnings = 1 };
    struct import_stats st;
    struct diag d = { 0 };
    ASSERT_EQ(vulndb_import(db, paths, 1, &o, &st, &d), 0);
    ASSERT_TRUE(st.built);
    ASSERT_EQ(st.added, 2);
    json_t *s;
    ASSERT_EQ(vulndb_status_json(db, &s, &d), 0);
    ASSERT_EQ(json_integer_value(json_object_get(s, "records")), 2);
    json_decref(s);
    free(path);
    free(db);
}

TEST(vulndb_bad_database_files)
{
    char *garbage = xasprintf("%s/garbage.sqlite", test_tmpdir());
    FILE *f = fopen(garbage, "w");
    ASSERT_TRUE(f != NULL);
    for (int i = 0; i < 400; i++)
        fputs("this is not a database at all. ", f);
    fclose(f);
    struct vulndb *db;
    struct diag d = { 0 };
    ASSERT_EQ(vulndb_open(garbage, &db, &d), -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "not a vigil vulnerability database") != NULL);
    json_t *s;
    ASSERT_EQ(vulndb_status_json(garbage, &s, &d), -ERR_CORRUPT);
    struct import_stats st;
    static const char *const in[] = { "osv/pypi.jsonl" };
    ASSERT_EQ(import_paths(garbage, in, 1, &st), -ERR_CORRUPT);

    /* a SQLite database, but not ours */
    char *other = xasprintf("%s/other.sqlite", test_tmpdir());
    sqlite3 *sq;
    ASSERT_EQ(sqlite3_open(other, &sq), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(sq, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(sq);
    ASSERT_EQ(vulndb_open(other, &db, &d), -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "not a vigil vulnerability database") != NULL);

    char *missing = xasprintf("%s/none.sqlite", test_tmpdir());
    ASSERT_EQ(vulndb_open(missing, &db, &d), -ERR_NOT_FOUND);
    /* a missing input is an error before anything is written */
    static const char *const nothing[] = { "no/such/file.jsonl" };
    ASSERT_TRUE(import_paths(missing, nothing, 1, &st) < 0);
    ASSERT_EQ(vulndb_open(missing, &db, &d), -ERR_NOT_FOUND);
    free(garbage);
    free(other);
    free(missing);
}

static int count_member(void *ctx, const char *name, const void *data, size_t n)
{
    int *count = ctx;
    (void)name;
    if (n > 0 && ((const char *)data)[0] == '{')
        (*count)++;
    return 0;
}

static void count_warning(void *ctx, const char *name, const char *msg)
{
    (void)name;
    (void)msg;
    ((int *)ctx)[1]++;
}

TEST(vulndb_zip_reader)
{
    char *path = fixture("all.zip");
    FILE *f = fopen(path, "rb");
    free(path);
    ASSERT_TRUE(f != NULL);
    unsigned char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    ASSERT_TRUE(n > 100 && n < sizeof(buf));
    int counts[2] = { 0, 0 };
    struct diag d = { 0 };
    ASSERT_EQ(zip_walk(buf, n, count_member, count_warning, counts, &d), 0);
    ASSERT_EQ(counts[0], 2); /* README.txt is not a .json member */
    ASSERT_EQ(counts[1], 0);
    /* cut off the central directory: an error, not a crash */
    ASSERT_EQ(zip_walk(buf, n - 30, count_member, count_warning, counts, &d), -ERR_CORRUPT);
    /* damage the first member's data: its CRC fails, the other member is still read */
    unsigned char *copy = xmalloc(n);
    memcpy(copy, buf, n);
    copy[60] ^= 0xff;
    counts[0] = counts[1] = 0;
    ASSERT_EQ(zip_walk(copy, n, count_member, count_warning, counts, &d), 0);
    ASSERT_EQ(counts[0] + counts[1], 2);
    ASSERT_EQ(counts[1], 1);
    free(copy);
}

TEST(vulndb_handle_sees_imports)
{
    char *db_path = fresh_db();
    ASSERT_TRUE(db_path != NULL);
    struct vulndb *db;
    struct diag d = { 0 };
    ASSERT_EQ(vulndb_open(db_path, &db, &d), 0);
    struct pkg p = mkpkg(0, "lite-server", "2.6.1", NULL, NULL);
    struct match_opts o = { 0 };
    struct arena a;
    arena_init(&a);
    struct finding_list fl = { VEC_INIT };
    ASSERT_EQ(vulndb_match(db, "npm", &p, 1, &o, &a, &fl, &d), 0);
    ASSERT_EQ(fl.items.n, 1);
    /* withdrawn in place while the handle is open: the next match knows */
    static const char *const wd[] = { "updates/ghsa-withdrawn.json" };
    struct import_stats st;
    ASSERT_EQ(import_paths(db_path, wd, 1, &st), 0);
    fl.items.n = 0;
    ASSERT_EQ(vulndb_match(db, "npm", &p, 1, &o, &a, &fl, &d), 0);
    ASSERT_EQ(fl.items.n, 0);
    /* rebuilt (a new file renamed into place): the handle reopens it */
    char *path = fixture("osv/pypi.jsonl");
    char *paths[] = { path };
    struct import_opts io = { .rebuild = true, .max_warnings = 1 };
    ASSERT_EQ(vulndb_import(db_path, paths, 1, &io, &st, &d), 0);
    p = mkpkg(0, "salt", "0.17.0", NULL, NULL);
    ASSERT_EQ(vulndb_match(db, "PyPI", &p, 1, &o, &a, &fl, &d), 0);
    ASSERT_EQ(fl.items.n, 1);
    p = mkpkg(PKG_DEB, "openssh-server", "1:9.2p1-2", "openssh", NULL);
    fl.items.n = 0;
    ASSERT_EQ(vulndb_match(db, "Debian:12", &p, 1, &o, &a, &fl, &d), 0);
    ASSERT_EQ(fl.items.n, 0); /* not in the rebuilt database */
    VEC_FREE(&fl.items);
    arena_release(&a);
    vulndb_close(db);
    free(path);
    free(db_path);
}
