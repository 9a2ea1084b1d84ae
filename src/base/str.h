/* SPDX-License-Identifier: Apache-2.0 */
/* struct str: a borrowed, non-owning byte slice. Parsers advance a `struct str *` cursor. */
#ifndef VIGIL_BASE_STR_H
#define VIGIL_BASE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct str {
    const char *ptr;
    size_t len;
};

#define STR_LIT(s) ((struct str){ (s), sizeof(s) - 1 })
#define STR_NULL   ((struct str){ NULL, 0 })
/* printf helper: printf("%.*s", STR_FMT(s)) */
#define STR_FMT(s) (int)(s).len, (s).ptr

static inline struct str str_from(const char *s)
{
    return (struct str){ s, s ? strlen(s) : 0 };
}

static inline struct str str_make(const char *p, size_t n)
{
    return (struct str){ p, n };
}

bool str_eq(struct str a, struct str b);
bool str_eq_cstr(struct str a, const char *b);
bool str_has_prefix(struct str s, const char *prefix);
bool str_has_suffix(struct str s, const char *suffix);
/* Trim ASCII whitespace at both ends. */
struct str str_trim(struct str s);
/* Index of the first c in s, or -1. */
long str_chr(struct str s, char c);
/* Split at the first `sep`: *head gets the part before, the cursor moves past sep.
 * Returns false (and takes the whole rest as *head) when sep does not occur. */
bool str_cut(struct str *cursor, char sep, struct str *head);
/* Next line (without "\n", and without a trailing "\r"); false at end of input. */
bool str_next_line(struct str *cursor, struct str *line);
/* Parse an unsigned decimal integer covering all of s; false on junk or overflow. */
bool str_to_u64(struct str s, unsigned long long *out);
/* Owned NUL-terminated copy. */
char *str_dup(struct str s);

#endif
