/* SPDX-License-Identifier: Apache-2.0 */
/* Alpine (apk-tools) version ordering: number{.number}...{letter}{_suffix{number}}...{~hash}
 * {-r#}. Versions are read as a stream of typed tokens that are compared pairwise; the first
 * token that breaks the format ends a version with an "invalid" token holding the rest of
 * the string. No allocation. */
#include "version/internal.h"
#include "version/version.h"

/* Token types in grammar order. When two versions agree up to a point where the token types
 * differ, the one with the higher type is the lower version (a version that ends is older
 * than one that goes on; an invalid tail is older still), except that a pre-release suffix
 * is older than anything. */
enum apk_tok_type {
    APK_TOK_FIRST_DIGIT,
    APK_TOK_DIGIT,
    APK_TOK_LETTER,
    APK_TOK_SUFFIX,
    APK_TOK_SUFFIX_NO,
    APK_TOK_HASH,
    APK_TOK_REVISION,
    APK_TOK_END,
    APK_TOK_INVALID,
};

/* Suffix ranks in documented order; the ones below APK_SUF_NONE are pre-releases. */
enum apk_suffix {
    APK_SUF_ALPHA,
    APK_SUF_BETA,
    APK_SUF_PRE,
    APK_SUF_RC,
    APK_SUF_NONE,
    APK_SUF_CVS,
    APK_SUF_SVN,
    APK_SUF_GIT,
    APK_SUF_HG,
    APK_SUF_P,
    APK_SUF_UNKNOWN,
};

struct apk_tok {
    enum apk_tok_type type;
    enum apk_suffix suffix;     /* APK_TOK_SUFFIX */
    const unsigned char *value; /* digits, letter, suffix name or hash */
    size_t len;
};

struct apk_cursor {
    const unsigned char *p, *end;
};

static enum apk_suffix apk_suffix_of(const unsigned char *s, size_t n)
{
    static const struct {
        const char *name;
        size_t len;
        enum apk_suffix rank;
    } names[] = {
        { "alpha", 5, APK_SUF_ALPHA }, { "beta", 4, APK_SUF_BETA }, { "pre", 3, APK_SUF_PRE },
        { "rc", 2, APK_SUF_RC },       { "cvs", 3, APK_SUF_CVS },   { "svn", 3, APK_SUF_SVN },
        { "git", 3, APK_SUF_GIT },     { "hg", 2, APK_SUF_HG },     { "p", 1, APK_SUF_P },
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].len == n && memcmp(names[i].name, s, n) == 0)
            return names[i].rank;
    return APK_SUF_UNKNOWN;
}

/* Take a non-empty digit run as token `type`, else mark the token invalid. */
static void apk_take_digits(struct apk_cursor *c, struct apk_tok *t, enum apk_tok_type type)
{
    size_t n = ver_digit_span(c->p, (size_t)(c->end - c->p));
    t->value = c->p;
    t->len = n;
    t->type = n ? type : APK_TOK_INVALID;
    c->p += n;
}

/* An invalid token keeps the rest of the string from where it starts, for apk_tail_cmp(). */
static void apk_mark_tail(const struct apk_cursor *c, struct apk_tok *t, const unsigned char *start)
{
    if (t->type == APK_TOK_INVALID) {
        t->value = start;
        t->len = (size_t)(c->end - start);
    }
}

static void apk_first(struct apk_cursor *c, struct apk_tok *t)
{
    const unsigned char *start = c->p;
    apk_take_digits(c, t, APK_TOK_FIRST_DIGIT);
    apk_mark_tail(c, t, start);
}

/* Read the token after t (whose type says which tokens may follow) into t. */
static void apk_next_raw(struct apk_cursor *c, struct apk_tok *t)
{
    if (c->p == c->end) {
        t->type = APK_TOK_END;
        return;
    }
    enum apk_tok_type prev = t->type;
    unsigned char ch = *c->p;

    if (ver_is_lower(ch)) {
        if (prev > APK_TOK_DIGIT)
            goto invalid;
        t->type = APK_TOK_LETTER;
        t->value = c->p++;
        t->len = 1;
    } else if (ch == '.') {
        if (prev > APK_TOK_DIGIT)
            goto invalid;
        c->p++;
        apk_take_digits(c, t, APK_TOK_DIGIT);
    } else if (ver_is_digit(ch)) {
        /* digit runs are read whole, so a digit here can only follow a suffix name */
        if (prev != APK_TOK_SUFFIX)
            goto invalid;
        apk_take_digits(c, t, APK_TOK_SUFFIX_NO);
    } else if (ch == '_') {
        if (prev > APK_TOK_SUFFIX_NO)
            goto invalid;
        const unsigned char *s = ++c->p;
        while (c->p < c->end && ver_is_lower(*c->p))
            c->p++;
        t->value = s;
        t->len = (size_t)(c->p - s);
        t->suffix = apk_suffix_of(s, t->len);
        if (t->suffix == APK_SUF_UNKNOWN)
            goto invalid;
        t->type = APK_TOK_SUFFIX;
    } else if (ch == '~') {
        if (prev >= APK_TOK_HASH)
            goto invalid;
        const unsigned char *s = ++c->p;
        while (c->p < c->end && (ver_is_digit(*c->p) || (*c->p >= 'a' && *c->p <= 'f')))
            c->p++;
        t->value = s;
        t->len = (size_t)(c->p - s);
        if (t->len == 0)
            goto invalid;
        t->type = APK_TOK_HASH;
    } else if (ch == '-') {
        if (prev >= APK_TOK_REVISION || c->end - c->p < 2 || c->p[1] != 'r')
            goto invalid;
        c->p += 2;
        apk_take_digits(c, t, APK_TOK_REVISION);
    } else {
        goto invalid;
    }
    return;
invalid:
    t->type = APK_TOK_INVALID;
}

static void apk_next(struct apk_cursor *c, struct apk_tok *t)
{
    const unsigned char *start = c->p;
    apk_next_raw(c, t);
    apk_mark_tail(c, t, start);
}

/* Order of two invalid tails (where apk-tools would call the versions equal): digit runs
 * compare as numbers and sort before any other byte, other bytes compare by value, and a
 * tail that runs out first is the lower. So "1.9.5p1-r0" < "1.9.5p2-r0", as their authors
 * meant, while every result apk-tools gives is kept. */
static int apk_tail_cmp(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
    size_t i = 0, j = 0;
    while (i < an && j < bn) {
        bool da = ver_is_digit(a[i]), db = ver_is_digit(b[j]);
        if (da && db) {
            size_t ra = ver_digit_span(a + i, an - i), rb = ver_digit_span(b + j, bn - j);
            int r = ver_num_cmp(a + i, ra, b + j, rb);
            if (r)
                return r;
            i += ra;
            j += rb;
        } else if (da || db) {
            return da ? -1 : 1;
        } else if (a[i] != b[j]) {
            return a[i] < b[j] ? -1 : 1;
        } else {
            i++;
            j++;
        }
    }
    return i < an ? 1 : (j < bn ? -1 : 0);
}

/* Compare the values of two tokens of the same type. */
static int apk_tok_cmp(const struct apk_tok *a, const struct apk_tok *b)
{
    switch (a->type) {
    case APK_TOK_DIGIT:
        /* a component with a leading zero compares as a string (1.05 < 1.1 < 1.10) */
        if (a->value[0] == '0' || b->value[0] == '0')
            return ver_bytes_cmp(a->value, a->len, b->value, b->len);
        return ver_num_cmp(a->value, a->len, b->value, b->len);
    case APK_TOK_FIRST_DIGIT:
    case APK_TOK_SUFFIX_NO:
    case APK_TOK_REVISION:
        return ver_num_cmp(a->value, a->len, b->value, b->len);
    case APK_TOK_LETTER:
        return ver_sign((int)a->value[0] - (int)b->value[0]);
    case APK_TOK_SUFFIX:
        return ver_sign((int)a->suffix - (int)b->suffix);
    case APK_TOK_HASH:
        return ver_bytes_cmp(a->value, a->len, b->value, b->len);
    case APK_TOK_END:
    case APK_TOK_INVALID:
        break;
    }
    return 0;
}

static struct apk_cursor apk_cursor_of(struct str v)
{
    const unsigned char *p = (const unsigned char *)v.ptr;
    size_t n = v.ptr ? v.len : 0;
    return (struct apk_cursor){ p, p + n };
}

int apk_vercmp(struct str a, struct str b)
{
    if (str_eq(a, b))
        return 0;

    struct apk_cursor ca = apk_cursor_of(a), cb = apk_cursor_of(b);
    struct apk_tok ta = { 0 }, tb = { 0 };
    apk_first(&ca, &ta);
    apk_first(&cb, &tb);
    while (ta.type == tb.type && ta.type < APK_TOK_END) {
        int r = apk_tok_cmp(&ta, &tb);
        if (r)
            return r;
        apk_next(&ca, &ta);
        apk_next(&cb, &tb);
    }
    if (ta.type == APK_TOK_END && tb.type == APK_TOK_END)
        return 0;
    if (ta.type == APK_TOK_INVALID && tb.type == APK_TOK_INVALID)
        return apk_tail_cmp(ta.value, ta.len, tb.value, tb.len);
    if (ta.type == APK_TOK_SUFFIX && ta.suffix < APK_SUF_NONE)
        return -1;
    if (tb.type == APK_TOK_SUFFIX && tb.suffix < APK_SUF_NONE)
        return 1;
    return ta.type > tb.type ? -1 : 1;
}

int apk_version_check(struct str v, struct diag *d)
{
    struct apk_cursor c = apk_cursor_of(v);
    struct apk_tok t = { 0 };
    const unsigned char *base = c.p;
    const unsigned char *at = c.p;

    if (c.p == c.end)
        return diag_set(d, -ERR_VERSION, 0, "empty version");
    apk_first(&c, &t);
    while (t.type < APK_TOK_END) {
        at = c.p;
        apk_next(&c, &t);
    }
    if (t.type == APK_TOK_END)
        return 0;
    if (at == base)
        return diag_set(d, -ERR_VERSION, 0, "version does not start with a digit");
    return diag_set(d, -ERR_VERSION, (size_t)(at - base),
                    "unexpected '%c' in version (expected number{.number}{letter}"
                    "{_suffix{number}}{~hash}{-rN})",
                    *at >= 0x20 && *at < 0x7f ? *at : '?');
}
