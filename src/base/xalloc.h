/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation that never returns NULL: out of memory aborts the process with a message
 * (as redis, git and h2o do). BUG_ON() checks invariants in every build. */
#ifndef VIGIL_BASE_XALLOC_H
#define VIGIL_BASE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow an array of nmemb elements of size `size`, aborting on multiplication overflow. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into freshly allocated memory (owned by the caller). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

_Noreturn void bug_fail(const char *file, int line, const char *expr);
#define BUG_ON(cond)                             \
    do {                                         \
        if (__builtin_expect(!!(cond), 0))       \
            bug_fail(__FILE__, __LINE__, #cond); \
    } while (0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
