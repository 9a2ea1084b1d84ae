/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for src/version (deb, apk, rpm): the oracle tables in tests/data/versions/
 * (every pair in both directions, plus a sort of all their versions to catch intransitive
 * orders), and hand-written edge cases. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/err.h"
#include "base/str.h"
#include "base/xalloc.h"
#include "test.h"
#include "version/version.h"
#include "vtable.h"

static int sgn(int v)
{
    return (v > 0) - (v < 0);
}

/* ---- oracle tables (tests/unit/vtable.c) ---------------------------------------------- */

TEST(version_deb_table)
{
    vtable_check("deb", deb_vercmp, 10000, 100);
}

TEST(version_apk_table)
{
    vtable_check("apk", apk_vercmp, 10000, 100);
}

TEST(version_rpm_table)
{
    vtable_check("rpm", rpm_vercmp, 10000, 100);
}

TEST(version_deb_table_sorts)
{
    vtable_sort_check("deb", deb_vercmp, false);
}

TEST(version_apk_table_sorts)
{
    vtable_sort_check("apk", apk_vercmp, false);
}

TEST(version_rpm_table_sorts)
{
    vtable_sort_check("rpm", rpm_vercmp, false);
}

/* ---- hand-written cases ----------------------------------------------------------------- */

/* cmp(a, b) has sign `want` and cmp(b, a) the opposite sign. */
#define CMP(fn, a, b, want)                                    \
    do {                                                       \
        ASSERT_EQ(sgn(fn(str_from(a), str_from(b))), (want));  \
        ASSERT_EQ(sgn(fn(str_from(b), str_from(a))), -(want)); \
    } while (0)

#define VALID(fn, s)   ASSERT_EQ(fn(str_from(s), NULL), 0)
#define INVALID(fn, s) ASSERT_EQ(fn(str_from(s), NULL), -ERR_VERSION)

TEST(version_deb_edges)
{
    /* tilde sorts before everything, the end of the string included */
    CMP(deb_vercmp, "1.0~rc1", "1.0", -1);
    CMP(deb_vercmp, "1.0~~", "1.0~", -1);
    CMP(deb_vercmp, "1.0~~a", "1.0~~", 1);
    CMP(deb_vercmp, "1.0~rc1-1", "1.0-1", -1);
    CMP(deb_vercmp, "1.0-1~bpo1", "1.0-1", -1);
    /* letters before non-letters, the end before both */
    CMP(deb_vercmp, "1.0a", "1.0+", -1);
    CMP(deb_vercmp, "1.0", "1.0a", -1);
    CMP(deb_vercmp, "1.0A", "1.0a", -1);
    CMP(deb_vercmp, "1.0+dfsg", "1.0.1", -1);
    /* epochs: numeric, missing is 0 */
    CMP(deb_vercmp, "1:0.1", "9.9", 1);
    CMP(deb_vercmp, "0:1.0", "1.0", 0);
    CMP(deb_vercmp, "00:1.0", "0:1.0", 0);
    CMP(deb_vercmp, "10:0.1", "9:0.1", 1);
    /* the revision follows the last '-'; a missing one equals "0" */
    CMP(deb_vercmp, "1.0-1-1", "1.0-1-2", -1);
    CMP(deb_vercmp, "1.0", "1.0-0", 0);
    CMP(deb_vercmp, "1.0-1", "1.0", 1);
    /* numbers: leading zeros do not count, any length works */
    CMP(deb_vercmp, "1.00", "1.0", 0);
    CMP(deb_vercmp, "1.002", "1.2", 0);
    CMP(deb_vercmp, "1.99999999999999999999999999999999999",
        "1.100000000000000000000000000000000000", -1);
    CMP(deb_vercmp, "184467440737095516160", "184467440737095516161", -1);
    CMP(deb_vercmp, "99999999999999999999999999999999999999:1", "1:1", 1);
    /* bytes >= 0x80 sort after letters, before ASCII punctuation (dpkg's signed char) */
    CMP(deb_vercmp, "1.0\xe9", "1.0z", 1);
    CMP(deb_vercmp, "1.0\xe9", "1.0.", -1);
    /* blanks around the version are ignored as by dpkg; empty strings */
    CMP(deb_vercmp, " 1.0\t", "1.0", 0);
    /* dpkg --compare-versions takes an empty argument as "no version", below everything */
    CMP(deb_vercmp, "", "", 0);
    CMP(deb_vercmp, "", "0", -1);
    CMP(deb_vercmp, "", "~", -1);
    CMP(deb_vercmp, "", "0:0-0", -1);
    CMP(deb_vercmp, "", " ", 0);
    /* NUL bytes are ordinary punctuation here; garbage still compares */
    ASSERT_EQ(sgn(deb_vercmp(str_make("1.0\0a", 5), str_from("1.0"))), 1);
    ASSERT_EQ(sgn(deb_vercmp(str_make("1.0\0a", 5), str_from("1.0.a"))), -1);
    ASSERT_EQ(deb_vercmp(STR_NULL, STR_NULL), 0);
    CMP(deb_vercmp, "x:1", "1", 1);
}

TEST(version_deb_check)
{
    VALID(deb_version_check, "1.0");
    VALID(deb_version_check, "1:9.2p1-2+deb12u3");
    VALID(deb_version_check, "2.36-9+deb12u4");
    VALID(deb_version_check, "1.0~rc1+dfsg-1~bpo11+1");
    VALID(deb_version_check, "1:2:3");
    VALID(deb_version_check, "1.0-1-1");
    VALID(deb_version_check, " 1.0 ");
    VALID(deb_version_check, "+1:1.0");       /* strtol() accepts a sign */
    VALID(deb_version_check, "2147483647:1"); /* INT_MAX */
    INVALID(deb_version_check, "");
    INVALID(deb_version_check, "  ");
    INVALID(deb_version_check, "1.0 x");
    INVALID(deb_version_check, ":1.0");
    INVALID(deb_version_check, "a:1.0");
    INVALID(deb_version_check, "1.0-1:1");
    INVALID(deb_version_check, "-1:1.0");
    INVALID(deb_version_check, "2147483648:1");
    INVALID(deb_version_check, "1:");
    INVALID(deb_version_check, "1.0-");
    INVALID(deb_version_check, "1:-1");
    INVALID(deb_version_check, "a1.0");    /* dpkg warns */
    INVALID(deb_version_check, "1.0_1");   /* dpkg warns */
    INVALID(deb_version_check, "1.0-a:b"); /* ':' only in the upstream part */
    INVALID(deb_version_check, "1.0\xe9");
    ASSERT_EQ(deb_version_check(str_make("1.0\0", 4), NULL), -ERR_VERSION);

    struct diag d = { 0 };
    ASSERT_EQ(deb_version_check(str_from("1:1.0_x-1"), &d), -ERR_VERSION);
    ASSERT_EQ(d.offset, 5);
    ASSERT_TRUE(strstr(d.msg, "invalid character in version number") != NULL);
    ASSERT_EQ(deb_version_check(str_from("1.0-1:1"), &d), -ERR_VERSION);
    ASSERT_TRUE(strstr(d.msg, "epoch in version is not number") != NULL);
}

TEST(version_apk_edges)
{
    CMP(apk_vercmp, "1.0", "1.0-r0", -1);
    CMP(apk_vercmp, "1.0-r1", "1.0-r10", -1);
    CMP(apk_vercmp, "1.0_alpha", "1.0_alpha1", -1);
    CMP(apk_vercmp, "1.0_alpha2", "1.0_beta", -1);
    CMP(apk_vercmp, "1.0_beta", "1.0_pre", -1);
    CMP(apk_vercmp, "1.0_pre", "1.0_rc", -1);
    CMP(apk_vercmp, "1.0_rc9", "1.0", -1);
    CMP(apk_vercmp, "1.0", "1.0_cvs", -1);
    CMP(apk_vercmp, "1.0_cvs", "1.0_svn", -1);
    CMP(apk_vercmp, "1.0_svn", "1.0_git", -1);
    CMP(apk_vercmp, "1.0_git", "1.0_hg", -1);
    CMP(apk_vercmp, "1.0_hg", "1.0_p", -1);
    CMP(apk_vercmp, "1.0_p1", "1.0.1", -1);
    CMP(apk_vercmp, "1.0_alpha_pre2", "1.0_alpha", -1); /* a further pre-release suffix */
    CMP(apk_vercmp, "9.7_p1-r4", "9.7_p1-r3", 1);
    CMP(apk_vercmp, "1.0a", "1.0b", -1);
    CMP(apk_vercmp, "1.0z", "1.0.1", -1);
    CMP(apk_vercmp, "1.0", "1.0a", -1);
    /* leading zeros: numeric in the first component, string-wise after a '.' */
    CMP(apk_vercmp, "01.0", "1.0", 0);
    CMP(apk_vercmp, "1.05", "1.1", -1);
    CMP(apk_vercmp, "1.05", "1.050", -1);
    CMP(apk_vercmp, "1.2.07.8", "1.2.12.04", -1);
    CMP(apk_vercmp, "1.0_p01", "1.0_p1", 0);
    /* ~hash compares as a string, before the revision */
    CMP(apk_vercmp, "1.0~abc", "1.0~abd", -1);
    CMP(apk_vercmp, "1.0~abc-r1", "1.0~abc", 1);
    CMP(apk_vercmp, "1.0", "1.0~abc", -1);
    /* numbers longer than 64 bits compare exactly */
    CMP(apk_vercmp, "1.0_pre20191002222144999999999", "1.0_pre20191002222145000000000", -1);
    CMP(apk_vercmp, "184467440737095516160", "184467440737095516161", -1);
    /* a tail that breaks the format sorts before the end and before valid tokens */
    CMP(apk_vercmp, "1.0bc", "1.0", 1); /* letter 'b' beats the end, then 'c' is invalid */
    CMP(apk_vercmp, "1.0_foo", "1.0", -1);
    CMP(apk_vercmp, "1.0_foo", "1.0-r0", -1);
    CMP(apk_vercmp, "", "1", -1);
    /* two invalid tails at the same point (apk-tools: equal) are ordered naturally */
    CMP(apk_vercmp, "1.9.5p1-r0", "1.9.5p2-r0", -1);
    CMP(apk_vercmp, "1.9.5p10-r0", "1.9.5p9-r0", 1);
    CMP(apk_vercmp, "0.8.21.r2", "0.8.21.r1", 1);
    CMP(apk_vercmp, "1.0_foo", "1.0_bar", 1);
    CMP(apk_vercmp, "1.0-x", "1.0_foo", -1);
    CMP(apk_vercmp, "1.0_9", "1.0_a", -1); /* digit runs before other bytes */
    CMP(apk_vercmp, "1.0_01", "1.0_1", 0);
    CMP(apk_vercmp, "1.0_foo", "1.0_foox", -1);
    CMP(apk_vercmp, "", "", 0);
    CMP(apk_vercmp, "a", "", 1);
    CMP(apk_vercmp, "a", "b", -1);
    CMP(apk_vercmp, "23_foo", "4_beta", 1);
    ASSERT_EQ(sgn(apk_vercmp(str_make("1.0\0", 4), str_from("1.0"))), -1);
    ASSERT_EQ(apk_vercmp(STR_NULL, STR_NULL), 0);
}

TEST(version_apk_check)
{
    VALID(apk_version_check, "1");
    VALID(apk_version_check, "9.7_p1-r4");
    VALID(apk_version_check, "1.2.4_git20230717-r4");
    VALID(apk_version_check, "1.0a_alpha1_pre2_p3~0123abcdef-r10");
    VALID(apk_version_check, "0.1.0_alpha_pre2");
    INVALID(apk_version_check, "");
    INVALID(apk_version_check, "a1");
    INVALID(apk_version_check, "1.0bc");
    INVALID(apk_version_check, "1.0a1");
    INVALID(apk_version_check, "1.0_foo");
    INVALID(apk_version_check, "1.0_");
    INVALID(apk_version_check, "1.0-r");
    INVALID(apk_version_check, "1.0-1");
    INVALID(apk_version_check, "1.0.");
    INVALID(apk_version_check, "1..0");
    INVALID(apk_version_check, "1.0A");
    INVALID(apk_version_check, "1.0~");
    INVALID(apk_version_check, "1.0~ABC");
    INVALID(apk_version_check, "1.0-r1_p1");
    INVALID(apk_version_check, "1.0-r1-r2");
    INVALID(apk_version_check, "1.0~ab~cd");

    struct diag d = { 0 };
    ASSERT_EQ(apk_version_check(str_from("1.2_beta3-x"), &d), -ERR_VERSION);
    ASSERT_EQ(d.offset, 9);
}

TEST(version_rpm_edges)
{
    /* rpmvercmp on segments */
    CMP(rpm_segment_cmp, "1.0", "1.0", 0);
    CMP(rpm_segment_cmp, "1.0", "1.0.1", -1);
    CMP(rpm_segment_cmp, "1.0a", "1.0", 1);
    CMP(rpm_segment_cmp, "1.0a", "1.0.1", -1); /* letters before digits */
    CMP(rpm_segment_cmp, "1.a", "1a", 0);      /* separators only delimit */
    CMP(rpm_segment_cmp, "1_0", "1.0", 0);
    CMP(rpm_segment_cmp, "1..0", "1.0", 0);
    CMP(rpm_segment_cmp, "1.0.", "1.0", 0);
    CMP(rpm_segment_cmp, "01.0", "1.0", 0);
    CMP(rpm_segment_cmp, "1.010", "1.9", 1);
    CMP(rpm_segment_cmp, "1.0~rc1", "1.0", -1);
    CMP(rpm_segment_cmp, "1.0~rc1", "1.0~rc2", -1);
    CMP(rpm_segment_cmp, "1.0~~", "1.0~", -1);
    CMP(rpm_segment_cmp, "1.0^", "1.0", 1);
    CMP(rpm_segment_cmp, "1.0^post1", "1.0", 1);
    CMP(rpm_segment_cmp, "1.0^post1", "1.0.1", -1);
    CMP(rpm_segment_cmp, "1.0^post1", "1.0a", -1);
    CMP(rpm_segment_cmp, "1.0^post1~rc", "1.0^post1", -1);
    CMP(rpm_segment_cmp, "1.0~rc1", "1.0^", -1);
    CMP(rpm_segment_cmp, "A", "a", -1);
    CMP(rpm_segment_cmp, "abc", "abcd", -1);
    CMP(rpm_segment_cmp, "99999999999999999999999999", "100000000000000000000000000", -1);
    CMP(rpm_segment_cmp, "", "", 0);
    CMP(rpm_segment_cmp, "", "0", -1);
    CMP(rpm_segment_cmp, "", "~", 1);
    CMP(rpm_segment_cmp, "", "^", -1);
    CMP(rpm_segment_cmp, "", ".", 0);
    ASSERT_EQ(sgn(rpm_segment_cmp(str_make("1\0"
                                           "2",
                                           3),
                                  str_from("1.2"))),
              0);

    /* labels */
    CMP(rpm_vercmp, "0:115.6.0-1.el9_3", "115.6.0-1.el9_3", 0);
    CMP(rpm_vercmp, "1:1.0-1", "2.0-1", 1);
    CMP(rpm_vercmp, "2:0.1", "10:0.1", -1);
    CMP(rpm_vercmp, ":1.0-1", "0:1.0-1", 0); /* an empty epoch is 0 */
    CMP(rpm_vercmp, "1.0-1.el9", "1.0-1.el9_3", -1);
    CMP(rpm_vercmp, "1.0-1.el10", "1.0-1.el9", 1);
    CMP(rpm_vercmp, "1.2-3-4", "1.2-3-5", -1); /* release after the last '-' */
    CMP(rpm_vercmp, "1.2-3-4", "1.2-4", 1);    /* version "1.2-3" vs "1.2" */
    /* a missing release sorts before any release, as labelCompare with None */
    CMP(rpm_vercmp, "1.0", "1.0-1", -1);
    CMP(rpm_vercmp, "1.0", "1.0-", -1);
    CMP(rpm_vercmp, "1.0", "1.0", 0);
    CMP(rpm_vercmp, "1.1", "1.0-1", 1);
    CMP(rpm_vercmp, "a:1.0", "1.0", -1); /* not an epoch: letters sort before digits */
    CMP(rpm_vercmp, "", "0", -1);
    ASSERT_EQ(rpm_vercmp(STR_NULL, STR_NULL), 0);
}

TEST(version_rpm_check)
{
    VALID(rpm_version_check, "1.0");
    VALID(rpm_version_check, "0:115.6.0-1.el9_3");
    VALID(rpm_version_check, "1:3.0.7-24.el9");
    VALID(rpm_version_check, "1.0~rc1^git123-1.fc40");
    VALID(rpm_version_check, "4294967295:1");
    INVALID(rpm_version_check, "");
    INVALID(rpm_version_check, ":1.0");
    INVALID(rpm_version_check, "4294967296:1");
    INVALID(rpm_version_check, "1:");
    INVALID(rpm_version_check, "1.0-");
    INVALID(rpm_version_check, "-1");
    INVALID(rpm_version_check, "1-2-3");
    INVALID(rpm_version_check, "1.0 -1");
    INVALID(rpm_version_check, "1.0-1%{?dist}");
    INVALID(rpm_version_check, "a:1.0");

    struct diag d = { 0 };
    ASSERT_EQ(rpm_version_check(str_from("1:2.0-1/2"), &d), -ERR_VERSION);
    ASSERT_EQ(d.offset, 7);
}
