/* SPDX-License-Identifier: Apache-2.0 */
/* Maven version ordering as org.apache.maven.artifact.versioning.ComparableVersion (Maven
 * 3.8) defines it, computed by walking both strings once, without building item trees. */
#include <stdint.h>

#include "internal.h"
#include "version.h"

/*
 * How ComparableVersion sees a version (lower-cased first):
 *   - tokens are runs of digits (numbers) or of other bytes (qualifiers), split at '.', at
 *     '-' and where digits meet non-digits; an empty token before a separator is the number 0;
 *   - tokens sit in nested lists: a '-' or a digit/non-digit transition opens a new list,
 *     which holds everything after it, so a version is a chain L0 > L1 > ... > Lk; so does
 *     a '.' before a qualifier that ends at a digit or at the end of the string;
 *   - each list drops its trailing "null" tokens (0, and the release qualifiers "", "ga",
 *     "final", "release"), also those just before its sublist; an empty list is null too.
 * Lists compare element by element (the sublist being a list's last element), a missing
 * element being compared as null. Because a sublist is always last, comparing two versions
 * is one walk down both chains: that is what the cursor below does. A list's kept tokens
 * end at its last non-null token; it has a sublist element when any non-null token follows
 * the list, which needs the position of the string's last non-null token.
 *
 * Qualifier order: alpha < beta < milestone < rc (= cr) < snapshot < "" (= ga, final,
 * release) < sp < any other qualifier (those among themselves by their bytes). A single
 * 'a', 'b' or 'm' directly followed by a digit means alpha, beta, milestone. Numbers of any
 * length compare by value. Differences from Java: only ASCII digits are digits and only
 * ASCII letters are lower-cased; Java's Character.isDigit also takes other Unicode digits.
 */

enum tok_kind { TOK_NUM, TOK_QUAL };

enum qual { Q_ALPHA, Q_BETA, Q_MILESTONE, Q_RC, Q_SNAPSHOT, Q_RELEASE, Q_SP, Q_OTHER };

struct tok {
    enum tok_kind kind;
    const unsigned char *p; /* the token's bytes (a number's digits without leading zeros) */
    size_t len;
    enum qual q;     /* qualifiers */
    size_t start;    /* offset of the token (or of the separator of an empty token) */
    size_t next;     /* where the following token starts */
    bool opens_list; /* a new list starts after this token */
};

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

static bool word_is(const unsigned char *p, size_t n, const char *w)
{
    size_t wl = strlen(w);
    if (n != wl)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(p[i]) != (unsigned char)w[i])
            return false;
    return true;
}

static enum qual classify(const unsigned char *p, size_t n, bool followed_by_digit)
{
    if (followed_by_digit && n == 1) {
        switch (lower(p[0])) {
        case 'a':
            return Q_ALPHA;
        case 'b':
            return Q_BETA;
        case 'm':
            return Q_MILESTONE;
        default:
            break;
        }
    }
    static const struct {
        const char *w;
        enum qual q;
    } words[] = { { "alpha", Q_ALPHA }, { "beta", Q_BETA },     { "milestone", Q_MILESTONE },
                  { "rc", Q_RC },       { "cr", Q_RC },         { "snapshot", Q_SNAPSHOT },
                  { "ga", Q_RELEASE },  { "final", Q_RELEASE }, { "release", Q_RELEASE },
                  { "sp", Q_SP } };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (word_is(p, n, words[i].w))
            return words[i].q;
    return Q_OTHER;
}

static bool is_sep(unsigned char c)
{
    return c == '.' || c == '-';
}

/* After a '.' at p-1: does a qualifier start at p that ends at a digit or at the end? Maven
 * puts such a qualifier into a new list when the current one already holds something, so
 * "1.0.alpha1" is 1.0-alpha1 while "1.0.alpha.1" keeps alpha in the list of 1 and 0. */
static bool qualifier_opens_list(const unsigned char *s, size_t n, size_t p)
{
    if (p >= n || is_sep(s[p]) || ver_is_digit(s[p]))
        return false;
    while (p < n && !is_sep(s[p]) && !ver_is_digit(s[p]))
        p++;
    return p == n || ver_is_digit(s[p]);
}

/* The token at *pos (pos < n). */
static void next_tok(const unsigned char *s, size_t n, size_t pos, struct tok *t)
{
    t->start = pos;
    t->q = Q_OTHER;
    if (is_sep(s[pos])) { /* empty token: the number 0 */
        t->kind = TOK_NUM;
        t->p = s + pos;
        t->len = 0;
        t->next = pos + 1;
        t->opens_list = s[pos] == '-' || qualifier_opens_list(s, n, t->next);
        return;
    }
    bool digit = ver_is_digit(s[pos]);
    size_t e = pos;
    while (e < n && !is_sep(s[e]) && ver_is_digit(s[e]) == digit)
        e++;
    t->kind = digit ? TOK_NUM : TOK_QUAL;
    t->p = s + pos;
    t->len = e - pos;
    if (e == n) {
        t->opens_list = false;
        t->next = e;
    } else if (is_sep(s[e])) {
        t->next = e + 1;
        t->opens_list = s[e] == '-' || qualifier_opens_list(s, n, t->next);
    } else { /* digit/non-digit transition */
        t->opens_list = true;
        t->next = e;
    }
    if (digit) {
        while (t->len && *t->p == '0') {
            t->p++;
            t->len--;
        }
    } else {
        t->q = classify(t->p, t->len, e < n && ver_is_digit(s[e]));
    }
}

static bool tok_is_null(const struct tok *t)
{
    return t->kind == TOK_NUM ? t->len == 0 : t->q == Q_RELEASE;
}

/* A token compared with a missing element (Java's compareTo(null)). */
static int tok_cmp_null(const struct tok *t)
{
    if (t->kind == TOK_NUM)
        return t->len != 0;
    return t->q < Q_RELEASE ? -1 : t->q > Q_RELEASE;
}

static int tok_cmp(const struct tok *a, const struct tok *b)
{
    if (a->kind != b->kind)
        return a->kind == TOK_NUM ? 1 : -1; /* a number is above any qualifier */
    if (a->kind == TOK_NUM)
        return ver_num_cmp(a->p, a->len, b->p, b->len);
    if (a->q != b->q)
        return a->q < b->q ? -1 : 1;
    if (a->q != Q_OTHER)
        return 0;
    /* two unknown qualifiers: by their lower-cased bytes */
    size_t n = a->len < b->len ? a->len : b->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = lower(a->p[i]), y = lower(b->p[i]);
        if (x != y)
            return x < y ? -1 : 1;
    }
    return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
}

enum elem { EL_END, EL_TOK, EL_SUB };

/* Cursor over the normalised element sequence of the current list. */
struct cur {
    const unsigned char *s;
    size_t n;
    size_t pos;       /* next token */
    size_t kept_end;  /* tokens starting before this are the list's kept elements */
    size_t list_next; /* where the sublist starts; SIZE_MAX when the list opens none */
    size_t tail;      /* 1 + start of the string's last non-null token; 0 when none */
    struct tok t;     /* the token an EL_TOK refers to */
};

static void cur_enter(struct cur *c, size_t at)
{
    c->pos = at;
    c->kept_end = at;
    c->list_next = SIZE_MAX;
    size_t p = at;
    struct tok t;
    while (p < c->n) {
        next_tok(c->s, c->n, p, &t);
        if (!tok_is_null(&t))
            c->kept_end = t.start + 1;
        p = t.next;
        if (t.opens_list) {
            c->list_next = p;
            break;
        }
    }
}

static void cur_init(struct cur *c, struct str v)
{
    c->s = (const unsigned char *)(v.len ? v.ptr : "");
    c->n = v.len;
    c->tail = 0;
    size_t p = 0;
    struct tok t;
    while (p < c->n) {
        next_tok(c->s, c->n, p, &t);
        if (!tok_is_null(&t))
            c->tail = t.start + 1;
        p = t.next;
    }
    cur_enter(c, 0);
}

static enum elem cur_next(struct cur *c)
{
    if (c->pos < c->kept_end) {
        next_tok(c->s, c->n, c->pos, &c->t);
        c->pos = c->t.next;
        return EL_TOK;
    }
    if (c->list_next != SIZE_MAX && c->tail > c->list_next) {
        size_t at = c->list_next;
        c->list_next = SIZE_MAX;
        c->kept_end = c->pos; /* the list is done */
        c->pos = at;
        return EL_SUB;
    }
    return EL_END;
}

/* The rest of c (from its current element on) compared with nothing: the first element that
 * is not null decides. */
static int rest_cmp_null(struct cur *c, enum elem e)
{
    for (;;) {
        switch (e) {
        case EL_END:
            return 0;
        case EL_SUB:
            cur_enter(c, c->pos);
            break;
        case EL_TOK: {
            int r = tok_cmp_null(&c->t);
            if (r)
                return r;
            break;
        }
        }
        e = cur_next(c);
    }
}

int maven_vercmp(struct str a, struct str b)
{
    struct cur x, y;
    cur_init(&x, a);
    cur_init(&y, b);
    for (;;) {
        enum elem ea = cur_next(&x), eb = cur_next(&y);
        if (ea == EL_END && eb == EL_END)
            return 0;
        if (ea == EL_END)
            return -rest_cmp_null(&y, eb);
        if (eb == EL_END)
            return rest_cmp_null(&x, ea);
        if (ea == EL_SUB && eb == EL_SUB) {
            cur_enter(&x, x.pos);
            cur_enter(&y, y.pos);
            continue;
        }
        if (ea == EL_SUB) /* a list is below a number, above a qualifier */
            return y.t.kind == TOK_NUM ? -1 : 1;
        if (eb == EL_SUB)
            return x.t.kind == TOK_NUM ? 1 : -1;
        int r = tok_cmp(&x.t, &y.t);
        if (r)
            return r;
    }
}

int maven_version_check(struct str v, struct diag *d)
{
    if (v.len == 0)
        return diag_set(d, -ERR_VERSION, 0, "empty Maven version");
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.ptr[i];
        if (c <= 0x20 || c >= 0x7f)
            return diag_set(d, -ERR_VERSION, i,
                            "Maven version has byte 0x%02x at offset %zu (space, control or "
                            "non-ASCII)",
                            c, i);
    }
    return 0;
}
