/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for src/base. */
#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/str.h"
#include "base/vec.h"
#include "test.h"

TEST(buf_cap_enforced)
{
    struct buf b;
    buf_init(&b, 8);
    ASSERT_EQ(buf_append_cstr(&b, "12345678"), 0);
    ASSERT_EQ(buf_putc(&b, 'x'), -ERR_TOO_BIG);
    ASSERT_STREQ(buf_cstr(&b), "12345678");
    buf_release(&b);
}

TEST(buf_printf_grows)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    for (int i = 0; i < 1000; i++)
        ASSERT_EQ(buf_printf(&b, "%d,", i), 0);
    ASSERT_TRUE(b.len > 3000);
    ASSERT_TRUE(str_has_suffix(buf_str(&b), "999,"));
    buf_release(&b);
}

TEST(str_cut_and_lines)
{
    struct str cur = STR_LIT("a:b\r\nc\n\nd");
    struct str line, head;
    ASSERT_TRUE(str_next_line(&cur, &line));
    ASSERT_STR_EQ(line, "a:b");
    ASSERT_TRUE(str_cut(&line, ':', &head));
    ASSERT_STR_EQ(head, "a");
    ASSERT_STR_EQ(line, "b");
    ASSERT_TRUE(str_next_line(&cur, &line));
    ASSERT_STR_EQ(line, "c");
    ASSERT_TRUE(str_next_line(&cur, &line));
    ASSERT_EQ(line.len, 0);
    ASSERT_TRUE(str_next_line(&cur, &line));
    ASSERT_STR_EQ(line, "d");
    ASSERT_FALSE(str_next_line(&cur, &line));
}

TEST(str_to_u64_overflow)
{
    unsigned long long v;
    ASSERT_TRUE(str_to_u64(STR_LIT("18446744073709551615"), &v));
    ASSERT_TRUE(v == 18446744073709551615ULL);
    ASSERT_FALSE(str_to_u64(STR_LIT("18446744073709551616"), &v));
    ASSERT_FALSE(str_to_u64(STR_LIT("12a"), &v));
    ASSERT_FALSE(str_to_u64(STR_LIT(""), &v));
}

TEST(sha256_known_vector)
{
    unsigned char raw[SHA256_LEN];
    char hex[DIGEST_STR_LEN + 1];
    sha256_buf("abc", 3, raw);
    digest_format(raw, hex);
    ASSERT_STREQ(hex, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ASSERT_TRUE(digest_is_sha256(str_from(hex)));
    ASSERT_FALSE(digest_is_sha256(STR_LIT("sha256:BA7816bf")));
}

TEST(arena_alignment_and_big)
{
    struct arena a;
    arena_init(&a);
    for (int i = 0; i < 1000; i++) {
        void *p = arena_alloc(&a, (size_t)(i % 37) + 1);
        ASSERT_EQ(((unsigned long)p) & 15, 0);
    }
    char *big = arena_alloc(&a, 1 << 20);
    big[(1 << 20) - 1] = 1;
    ASSERT_STREQ(arena_strdup(&a, "hello"), "hello");
    arena_release(&a);
}

TEST(vec_push)
{
    VEC(int) v = VEC_INIT;
    for (int i = 0; i < 100; i++)
        VEC_PUSH(&v, i);
    ASSERT_EQ(v.n, 100);
    ASSERT_EQ(v.v[99], 99);
    VEC_FREE(&v);
}

TEST(err_table)
{
    ASSERT_EQ(err_http_status(-ERR_BLOB_UNKNOWN), 404);
    ASSERT_STREQ(err_oci_code(-ERR_DIGEST), "DIGEST_INVALID");
    ASSERT_STREQ(err_str(-ERR_TOO_BIG), "input exceeds a size limit");
}

TEST(diag_prefix_keeps_message)
{
    struct diag d = { 0 };
    ASSERT_EQ(diag_prefix(&d, diag_set(&d, -ERR_CORRUPT, 3, "bad %s", "thing"),
                          "%s: line %d: ", "a/b", 7),
              -ERR_CORRUPT);
    ASSERT_STREQ(d.msg, "a/b: line 7: bad thing");
    ASSERT_EQ(d.offset, 3);
    ASSERT_EQ(diag_prefix(NULL, -1, "x"), -1);
}
