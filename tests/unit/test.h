/* SPDX-License-Identifier: Apache-2.0 */
/* In-tree unit-test framework: TEST(name) registers itself through a constructor; ASSERT_*
 * print both sides and fail the current test. The runner prints "N passed, N failed". */
#ifndef VIGIL_TEST_H
#define VIGIL_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);

void test_register(const char *name, const char *file, test_fn fn);
/* Called by the ASSERT macros: records the failure and longjmps out of the test. */
_Noreturn void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Directory holding tests/data (the runner sets it from VIGIL_TEST_DATA or its default). */
const char *test_data_dir(void);
/* A fresh temporary directory for this test (removed by the runner afterwards). */
const char *test_tmpdir(void);

#define TEST(name)                                                 \
    static void test_##name(void);                                 \
    __attribute__((constructor)) static void test_reg_##name(void) \
    {                                                              \
        test_register(#name, __FILE__, test_##name);               \
    }                                                              \
    static void test_##name(void)

#define ASSERT_TRUE(c)                                              \
    do {                                                            \
        if (!(c))                                                   \
            test_fail(__FILE__, __LINE__, "expected true: %s", #c); \
    } while (0)
#define ASSERT_FALSE(c) ASSERT_TRUE(!(c))

#define ASSERT_EQ(a, b)                                                              \
    do {                                                                             \
        long long a_ = (long long)(a), b_ = (long long)(b);                          \
        if (a_ != b_)                                                                \
            test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_); \
    } while (0)

#define ASSERT_NE(a, b)                                                       \
    do {                                                                      \
        long long a_ = (long long)(a), b_ = (long long)(b);                   \
        if (a_ == b_)                                                         \
            test_fail(__FILE__, __LINE__, "%s != %s: both %lld", #a, #b, a_); \
    } while (0)

#define ASSERT_STREQ(a, b)                                                      \
    do {                                                                        \
        const char *a_ = (a), *b_ = (b);                                        \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                  \
            test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, \
                      a_ ? a_ : "(null)", b_ ? b_ : "(null)");                  \
    } while (0)

/* Compare a struct str with a C string. */
#define ASSERT_STR_EQ(s, cs)                                                                    \
    do {                                                                                        \
        struct str s_ = (s);                                                                    \
        const char *cs_ = (cs);                                                                 \
        if (!str_eq_cstr(s_, cs_))                                                              \
            test_fail(__FILE__, __LINE__, "%s == %s: \"%.*s\" != \"%s\"", #s, #cs, (int)s_.len, \
                      s_.ptr ? s_.ptr : "", cs_);                                               \
    } while (0)

#endif
