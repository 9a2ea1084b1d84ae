/* SPDX-License-Identifier: Apache-2.0 */
/* Unit-test runner: runs every registered test (or those matching --filter SUBSTR), each
 * in a forked child with --fork so a crash fails one test, and ends with "N passed, N failed". */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

struct test_case {
    const char *name;
    const char *file;
    test_fn fn;
};

static struct test_case tests[2048];
static size_t ntests;
static jmp_buf test_jmp;
static char fail_msg[2048];
static char tmpdir[256];
static const char *data_dir = "tests/data";

void test_register(const char *name, const char *file, test_fn fn)
{
    if (ntests < sizeof(tests) / sizeof(tests[0]))
        tests[ntests++] = (struct test_case){ name, file, fn };
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    int n = snprintf(fail_msg, sizeof(fail_msg), "%s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fail_msg + n, sizeof(fail_msg) - (size_t)n, fmt, ap);
    va_end(ap);
    longjmp(test_jmp, 1);
}

const char *test_data_dir(void)
{
    return data_dir;
}

const char *test_tmpdir(void)
{
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/vigil-unit-XXXXXX");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            abort();
        }
    }
    return tmpdir;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup_tmpdir(void)
{
    if (tmpdir[0]) {
        nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        tmpdir[0] = '\0';
    }
}

/* 0 = passed */
static int run_inline(const struct test_case *t)
{
    fail_msg[0] = '\0';
    volatile int failed = 0;
    if (setjmp(test_jmp) == 0)
        t->fn();
    else
        failed = 1;
    cleanup_tmpdir();
    if (failed)
        fprintf(stderr, "FAIL %s: %s\n", t->name, fail_msg);
    return failed;
}

static int run_forked(const struct test_case *t)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0)
        _exit(run_inline(t));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "FAIL %s: killed by signal %d\n", t->name, WTERMSIG(status));
        return 1;
    }
    return WEXITSTATUS(status) != 0;
}

int main(int argc, char **argv)
{
    const char *filter = NULL;
    int use_fork = 0, verbose = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fork") == 0)
            use_fork = 1;
        else if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc)
            filter = argv[++i];
        else if (strcmp(argv[i], "--list") == 0) {
            for (size_t k = 0; k < ntests; k++)
                printf("%s\n", tests[k].name);
            return 0;
        } else {
            fprintf(stderr, "usage: %s [--fork] [-v] [--filter SUBSTR] [--list]\n", argv[0]);
            return 2;
        }
    }
    const char *env = getenv("VIGIL_TEST_DATA");
    if (env && *env)
        data_dir = env;
    unsigned passed = 0, failed = 0;
    for (size_t i = 0; i < ntests; i++) {
        const struct test_case *t = &tests[i];
        if (filter && !strstr(t->name, filter))
            continue;
        int rc = use_fork ? run_forked(t) : run_inline(t);
        if (rc)
            failed++;
        else
            passed++;
        if (verbose && !rc)
            fprintf(stderr, "ok   %s\n", t->name);
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
