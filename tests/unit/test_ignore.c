/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for ignore files. */
#include "scan/ignore.h"
#include "test.h"

TEST(ignore_parse_and_match)
{
    struct ignore_list l = { VEC_INIT };
    struct diag d = { 0 };
    struct str text = STR_LIT("# header\n"
                              "CVE-2024-6387 exp:2026-12-31 package=openssh-server # later\n"
                              "\n"
                              "GHSA-aaaa-bbbb-cccc expires=2020-01-01\n"
                              "DSA-5724-1\n");
    ASSERT_EQ(ignore_parse(text, "x", &l, &d), 0);
    ASSERT_EQ(l.rules.n, 3);
    ASSERT_STREQ(l.rules.v[0].package, "openssh-server");
    ASSERT_STREQ(l.rules.v[0].reason, "later");

    struct pkg p = { .name = "openssh-server" };
    struct pkg q = { .name = "openssh-client" };
    struct finding f = { .id = "CVE-2024-6387", .pkg = &p };
    time_t before = 1790000000; /* 2026-09 */
    time_t after = 1830000000;  /* 2027-12 */
    ASSERT_TRUE(ignore_match(&l, &f, before) != NULL);
    ASSERT_TRUE(ignore_match(&l, &f, after) == NULL);
    f.pkg = &q;
    ASSERT_TRUE(ignore_match(&l, &f, before) == NULL);

    /* related ids match; an expired rule does not */
    struct finding g = { .id = "CVE-2024-1111", .pkg = &q };
    VEC_PUSH(&g.related, "DSA-5724-1");
    ASSERT_TRUE(ignore_match(&l, &g, before) != NULL);
    VEC_FREE(&g.related);
    struct finding h = { .id = "GHSA-aaaa-bbbb-cccc", .pkg = &q };
    ASSERT_TRUE(ignore_match(&l, &h, before) == NULL);
    ignore_list_release(&l);
}

TEST(ignore_bad_lines)
{
    struct ignore_list l = { VEC_INIT };
    struct diag d = { 0 };
    ASSERT_EQ(ignore_parse(STR_LIT("CVE-1 exp:2026-02-30\n"), "f", &l, &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "f:1: bad expiry date") != NULL);
    ASSERT_EQ(ignore_parse(STR_LIT("ok\nCVE<x>\n"), "f", &l, &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "f:2:") != NULL);
    ASSERT_EQ(ignore_parse(STR_LIT("CVE-1 bogus\n"), "f", &l, &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "unknown field 'bogus'") != NULL);
    ignore_list_release(&l);
}
