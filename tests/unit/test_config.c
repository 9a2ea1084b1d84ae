/* SPDX-License-Identifier: Apache-2.0 */
/* Settings: file, environment and flag precedence, typed values, errors that name the place. */
#include <stdlib.h>

#include "cli/config.h"
#include "test.h"

static const struct conf_def defs[] = {
    { "listen", CONF_STRING, "127.0.0.1:5000", 0, 0, "address", false },
    { "threads", CONF_INT, "8", 1, 256, "threads", false },
    { "anonymous", CONF_BOOL, "false", 0, 0, "anonymous", false },
    { "idle-timeout", CONF_DURATION, "30s", 1000, 3600000, "timeout", false },
    { "max-manifest", CONF_SIZE, "4MiB", 1, 1 << 30, "cap", false },
    { "smtp-password", CONF_STRING, NULL, 0, 0, "secret", true },
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

TEST(config_defaults_and_types)
{
    struct conf c;
    conf_init(&c, defs, NDEFS);
    ASSERT_STREQ(conf_str(&c, "listen"), "127.0.0.1:5000");
    ASSERT_EQ(conf_int(&c, "threads"), 8);
    ASSERT_FALSE(conf_bool(&c, "anonymous"));
    ASSERT_EQ(conf_duration_ms(&c, "idle-timeout"), 30000);
    ASSERT_EQ(conf_size(&c, "max-manifest"), 4 << 20);
    ASSERT_TRUE(conf_str(&c, "smtp-password") == NULL);
    conf_release(&c);
}

TEST(config_file_env_flag_precedence)
{
    struct conf c;
    struct diag d = { 0 };
    conf_init(&c, defs, NDEFS);
    const char *text = "# comment\n\nlisten = 0.0.0.0:6000  # trailing comment\n"
                       "threads=4\nsmtp-password = \"a \\\"quoted\\\" # value\"\n";
    ASSERT_EQ(conf_load_text(&c, "t.conf", text, strlen(text), &d), 0);
    ASSERT_STREQ(conf_str(&c, "listen"), "0.0.0.0:6000");
    ASSERT_STREQ(conf_str(&c, "smtp-password"), "a \"quoted\" # value");
    ASSERT_EQ(conf_int(&c, "threads"), 4);

    setenv("VIGIL_THREADS", "6", 1);
    setenv("VIGIL_IDLE_TIMEOUT", "2m", 1);
    ASSERT_EQ(conf_load_env(&c, &d), 0);
    unsetenv("VIGIL_THREADS");
    unsetenv("VIGIL_IDLE_TIMEOUT");
    ASSERT_EQ(conf_int(&c, "threads"), 6);
    ASSERT_EQ(conf_duration_ms(&c, "idle-timeout"), 120000);

    char a0[] = "serve", a1[] = "--threads", a2[] = "3", a3[] = "--anonymous",
         a4[] = "--listen=[::1]:7000", a5[] = "--no-anonymous", a6[] = "--other";
    char *argv[] = { a0, a1, a2, a3, a4, a5, a6 };
    int argc = 7;
    int i = 1;
    ASSERT_EQ(conf_flag(&c, argc, argv, &i, &d), 1);
    ASSERT_EQ(i, 2);
    i = 3;
    ASSERT_EQ(conf_flag(&c, argc, argv, &i, &d), 1);
    ASSERT_TRUE(conf_bool(&c, "anonymous"));
    i = 4;
    ASSERT_EQ(conf_flag(&c, argc, argv, &i, &d), 1);
    i = 5;
    ASSERT_EQ(conf_flag(&c, argc, argv, &i, &d), 1);
    ASSERT_FALSE(conf_bool(&c, "anonymous"));
    i = 6;
    ASSERT_EQ(conf_flag(&c, argc, argv, &i, &d), 0);
    ASSERT_EQ(conf_int(&c, "threads"), 3);
    ASSERT_STREQ(conf_str(&c, "listen"), "[::1]:7000");
    conf_release(&c);
}

TEST(config_errors_name_the_place)
{
    struct conf c;
    struct diag d = { 0 };
    conf_init(&c, defs, NDEFS);
    const char *t1 = "listen = x\nthreads = many\n";
    ASSERT_TRUE(conf_load_text(&c, "a.conf", t1, strlen(t1), &d) < 0);
    ASSERT_TRUE(strstr(d.msg, "a.conf:2") != NULL);
    ASSERT_TRUE(strstr(d.msg, "threads") != NULL);
    const char *t2 = "nosuch = 1\n";
    ASSERT_TRUE(conf_load_text(&c, "b.conf", t2, strlen(t2), &d) < 0);
    ASSERT_TRUE(strstr(d.msg, "unknown setting 'nosuch'") != NULL);
    const char *t3 = "threads = 1000\n";
    ASSERT_TRUE(conf_load_text(&c, "c.conf", t3, strlen(t3), &d) < 0);
    ASSERT_TRUE(strstr(d.msg, "out of range") != NULL);
    const char *t4 = "listen = \"open\n";
    ASSERT_TRUE(conf_load_text(&c, "d.conf", t4, strlen(t4), &d) < 0);
    const char *t5 = "just words\n";
    ASSERT_TRUE(conf_load_text(&c, "e.conf", t5, strlen(t5), &d) < 0);
    ASSERT_TRUE(strstr(d.msg, "e.conf:1") != NULL);
    ASSERT_TRUE(conf_load_file(&c, "/nonexistent/vigil.conf", &d) < 0);
    ASSERT_TRUE(strstr(d.msg, "/nonexistent/vigil.conf") != NULL);
    char b0[] = "serve", b1[] = "--threads";
    char *argv[] = { b0, b1 };
    int i = 1;
    ASSERT_TRUE(conf_flag(&c, 2, argv, &i, &d) < 0);
    ASSERT_TRUE(strstr(d.msg, "needs a value") != NULL);
    conf_release(&c);
}

TEST(config_parsers)
{
    int64_t ms;
    uint64_t sz;
    bool b;
    ASSERT_EQ(conf_parse_duration_ms("250ms", &ms), 0);
    ASSERT_EQ(ms, 250);
    ASSERT_EQ(conf_parse_duration_ms("7d", &ms), 0);
    ASSERT_EQ(ms, 7LL * 86400000);
    ASSERT_EQ(conf_parse_duration_ms("12", &ms), 0);
    ASSERT_EQ(ms, 12000);
    ASSERT_TRUE(conf_parse_duration_ms("-1s", &ms) < 0);
    ASSERT_TRUE(conf_parse_duration_ms("1 fortnight", &ms) < 0);
    ASSERT_TRUE(conf_parse_duration_ms("99999999999999999999s", &ms) < 0);
    ASSERT_EQ(conf_parse_size("64KiB", &sz), 0);
    ASSERT_EQ(sz, 65536);
    ASSERT_EQ(conf_parse_size("2GB", &sz), 0);
    ASSERT_EQ(sz, 2000000000ULL);
    ASSERT_TRUE(conf_parse_size("1XB", &sz) < 0);
    ASSERT_EQ(conf_parse_bool("On", &b), 0);
    ASSERT_TRUE(b);
    ASSERT_TRUE(conf_parse_bool("maybe", &b) < 0);
}
