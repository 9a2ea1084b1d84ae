/* SPDX-License-Identifier: Apache-2.0 */
/* Byte-slice helpers. */
#include "str.h"

#include "xalloc.h"

bool str_eq(struct str a, struct str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool str_eq_cstr(struct str a, const char *b)
{
    return str_eq(a, str_from(b));
}

bool str_has_prefix(struct str s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.len >= n && memcmp(s.ptr, prefix, n) == 0;
}

bool str_has_suffix(struct str s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s.len >= n && memcmp(s.ptr + s.len - n, suffix, n) == 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

struct str str_trim(struct str s)
{
    while (s.len && is_space(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len && is_space(s.ptr[s.len - 1]))
        s.len--;
    return s;
}

long str_chr(struct str s, char c)
{
    const char *p = s.len ? memchr(s.ptr, c, s.len) : NULL;
    return p ? (long)(p - s.ptr) : -1;
}

bool str_cut(struct str *cursor, char sep, struct str *head)
{
    long i = str_chr(*cursor, sep);
    if (i < 0) {
        *head = *cursor;
        cursor->ptr += cursor->len;
        cursor->len = 0;
        return false;
    }
    *head = str_make(cursor->ptr, (size_t)i);
    cursor->ptr += i + 1;
    cursor->len -= (size_t)i + 1;
    return true;
}

bool str_next_line(struct str *cursor, struct str *line)
{
    if (cursor->len == 0)
        return false;
    str_cut(cursor, '\n', line);
    if (line->len && line->ptr[line->len - 1] == '\r')
        line->len--;
    return true;
}

bool str_to_u64(struct str s, unsigned long long *out)
{
    unsigned long long v = 0;
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (c < '0' || c > '9')
            return false;
        if (__builtin_mul_overflow(v, 10ULL, &v) ||
            __builtin_add_overflow(v, (unsigned)(c - '0'), &v))
            return false;
    }
    *out = v;
    return true;
}

char *str_dup(struct str s)
{
    char *p = xmalloc(s.len + 1);
    if (s.len)
        memcpy(p, s.ptr, s.len);
    p[s.len] = '\0';
    return p;
}
