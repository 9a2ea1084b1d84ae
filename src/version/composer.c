/* SPDX-License-Identifier: Apache-2.0 */
/* Packagist version ordering: Composer normalises both versions (composer/semver
 * VersionParser::normalize) and compares the results with PHP's version_compare(). Both steps
 * are reimplemented here, without allocation. */
#include <stdint.h>

#include "internal.h"
#include "version.h"

/*
 * Normalisation (VersionParser::normalize, composer/semver 3.x), in order:
 *   trim; "X as Y" keeps X; a trailing "@stable|@RC|@beta|@alpha|@dev" flag goes; master,
 *   trunk and default become dev-*; "dev-*" is a branch, kept; "+build" metadata goes;
 *   "v?N(.N)?(.N)?(.N)?" plus a modifier is padded to four numbers ("v1.2" -> "1.2.0.0");
 *   else "v?YYYY(.MM)..." is a date version (separators become '.'); the modifier
 *   "[._-]?(stable|beta|b|RC|alpha|a|patch|pl|p)(digits)?([.-]?dev)?" becomes "-beta1",
 *   "-RC2", "-patch3", "-dev" (a plain "stable" drops the rest); "N.x-dev" style branches
 *   become "N.9999999.9999999.9999999-dev". Anything else is not a Composer version.
 * A version Composer cannot normalise is compared as written (this is what OSV's Packagist
 * data needs for the rare odd entry); so is one longer than NORM_MAX bytes (none is real).
 *
 * Comparison (PHP's version_compare): the string is canonicalised ('-', '_', '+' become
 * '.', a '.' goes between digits and non-digits, other punctuation becomes '.', runs of
 * '.' collapse; the first byte is kept as it is) and split at '.' into parts. Parts compare
 * left to right: numbers by value (saturating at 2^63-1 like strtol), words by their
 * leading special form: other < dev < alpha = a < beta = b < RC = rc < number < pl = p.
 * When one side runs out, the other side's next part decides as a number would against a
 * word ("1.0" > "1", "1.0-beta" < "1.0", "1.0-pl1" > "1.0"). version_compare itself is not
 * an order on odd strings; where it contradicts itself we pick one answer and keep a total
 * preorder: the empty string is below everything (as in PHP); an empty last part (a
 * trailing '.') is below any other part and the end ("1." < "1", PHP also says "1." < "1.");
 * a word starting with '#' counts as below any number (PHP: equal to every number).
 */

#define NORM_MAX 200 /* input bytes normalised; the output is at most ~64 bytes longer */
#define NORM_BUF 320

/* ---- bounded output buffer ------------------------------------------------------------ */

struct nbuf {
    char b[NORM_BUF];
    size_t n;
    bool overflow;
};

static void nb_put(struct nbuf *o, const char *p, size_t n)
{
    if (n > sizeof(o->b) - o->n) {
        o->overflow = true;
        return;
    }
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void nb_puts(struct nbuf *o, const char *s)
{
    nb_put(o, s, strlen(s));
}

/* ---- small matching helpers ------------------------------------------------------------- */

static unsigned char lc(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

/* PCRE \s (PCRE2: space, \t, \n, \v, \f, \r) */
static bool is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Case-insensitive: does s[i..n) start with word w? */
static bool ci_at(const unsigned char *s, size_t n, size_t i, const char *w)
{
    size_t k = strlen(w);
    if (i > n || k > n - i)
        return false;
    for (size_t j = 0; j < k; j++)
        if (lc(s[i + j]) != (unsigned char)w[j])
            return false;
    return true;
}

/* PHP trim(): " \t\n\r\0\x0B" at both ends */
static bool is_trim(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0' || c == 0x0b;
}

static void php_trim(const unsigned char **s, size_t *n)
{
    while (*n && is_trim((*s)[*n - 1]))
        (*n)--;
    while (*n && is_trim(**s)) {
        (*s)++;
        (*n)--;
    }
}

/* PCRE '$' without D: the end, or just before a final "\n". */
static bool at_end(const unsigned char *s, size_t n, size_t i)
{
    return i == n || (i + 1 == n && s[i] == '\n');
}

static size_t digits_at(const unsigned char *s, size_t n, size_t i)
{
    size_t e = i;
    while (e < n && ver_is_digit(s[e]))
        e++;
    return e - i;
}

/* ---- the modifier: [._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?
 *                     ([.-]?dev)?$  (case-insensitive) ------------------------------------- */

struct mod {
    size_t stab, stab_len; /* the stability word as written (stab_len 0: none) */
    size_t num, num_len;   /* the digits part as written */
    bool dev;
};

/* ([.-]?dev)?$ at i */
static bool match_dev_end(const unsigned char *s, size_t n, size_t i, bool *dev)
{
    if (i < n && (s[i] == '.' || s[i] == '-') && ci_at(s, n, i + 1, "dev") && at_end(s, n, i + 4)) {
        *dev = true;
        return true;
    }
    if (ci_at(s, n, i, "dev") && at_end(s, n, i + 3)) {
        *dev = true;
        return true;
    }
    *dev = false;
    return at_end(s, n, i);
}

static bool match_modifier(const unsigned char *s, size_t n, size_t i, struct mod *m)
{
    static const char *const words[] = { "stable", "beta",  "b",  "rc", "alpha",
                                         "a",      "patch", "pl", "p" };
    bool has_sep = i < n && (s[i] == '.' || s[i] == '_' || s[i] == '-');
    for (int take = has_sep ? 1 : 0; take >= 0; take--) {
        size_t j = i + (size_t)take;
        for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
            if (!ci_at(s, n, j, words[w]))
                continue;
            size_t k = j + strlen(words[w]), k2 = k;
            /* (?:[.-]?\d+)*+ : possessive, as many as there are */
            for (;;) {
                size_t p = k2;
                if (p < n && (s[p] == '.' || s[p] == '-'))
                    p++;
                size_t d = digits_at(s, n, p);
                if (!d)
                    break;
                k2 = p + d;
            }
            if (match_dev_end(s, n, k2, &m->dev)) {
                m->stab = j;
                m->stab_len = strlen(words[w]);
                m->num = k;
                m->num_len = k2 - k;
                return true;
            }
        }
        if (match_dev_end(s, n, j, &m->dev)) {
            m->stab_len = m->num_len = 0;
            return true;
        }
    }
    return false;
}

/* The normalised tail of a version: "-<stability><digits>" and "-dev". False for a bare
 * "stable" (case-sensitive, as Composer compares it), which ends the version there. */
static void put_modifier(struct nbuf *o, const unsigned char *s, const struct mod *m)
{
    if (m->stab_len) {
        const unsigned char *w = s + m->stab;
        if (m->stab_len == 6 && memcmp(w, "stable", 6) == 0)
            return;
        char low[8];
        for (size_t i = 0; i < m->stab_len; i++)
            low[i] = (char)lc(w[i]);
        low[m->stab_len] = '\0';
        const char *ex = low;
        if (!strcmp(low, "a"))
            ex = "alpha";
        else if (!strcmp(low, "b"))
            ex = "beta";
        else if (!strcmp(low, "p") || !strcmp(low, "pl"))
            ex = "patch";
        else if (!strcmp(low, "rc"))
            ex = "RC";
        nb_puts(o, "-");
        nb_puts(o, ex);
        size_t a = m->num, e = m->num + m->num_len;
        while (a < e && (s[a] == '.' || s[a] == '-')) /* ltrim '.-' */
            a++;
        nb_put(o, (const char *)s + a, e - a);
    }
    if (m->dev)
        nb_puts(o, "-dev");
}

/* ---- date versions: ^v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?)MOD$ ---------------- */

static bool is_date_sep(unsigned char c)
{
    return c == '.' || c == ':' || c == '-';
}

/* Group 1 from position p after `reps` repetitions; on success *end is where it ends. */
static bool date_rest(const unsigned char *s, size_t n, size_t p, int reps, size_t *end,
                      struct mod *m)
{
    if (reps < 6) {
        size_t q = p + (p < n && is_date_sep(s[p]));
        if (digits_at(s, n, q) >= 2 && date_rest(s, n, q + 2, reps + 1, end, m))
            return true;
    }
    if (reps < 1)
        return false;
    size_t q = p + (p < n && is_date_sep(s[p]));
    size_t d = digits_at(s, n, q);
    for (size_t k = d < 3 ? d : 3; k >= 1; k--)
        if (match_modifier(s, n, q + k, m)) {
            *end = q + k;
            return true;
        }
    if (match_modifier(s, n, p, m)) {
        *end = p;
        return true;
    }
    return false;
}

/* ---- VersionParser::normalizeBranch ------------------------------------------------------ */

static bool normalize_branch(const unsigned char *s, size_t n, struct nbuf *o)
{
    php_trim(&s, &n);
    size_t i = (n && lc(s[0]) == 'v') ? 1 : 0;
    size_t d = digits_at(s, n, i);
    if (!d)
        return false;
    struct str parts[4] = { str_make((const char *)s + i, d) };
    int np = 1;
    i += d;
    while (np < 4 && i < n && s[i] == '.') {
        size_t k = digits_at(s, n, i + 1);
        if (!k && i + 1 < n && (s[i + 1] == 'x' || s[i + 1] == 'X' || s[i + 1] == '*'))
            k = 1;
        if (!k)
            break;
        parts[np++] = str_make((const char *)s + i, k + 1);
        i += k + 1;
    }
    if (!at_end(s, n, i))
        return false;
    for (int p = 0; p < 4; p++) {
        struct str part = p < np ? parts[p] : STR_LIT(".x");
        for (size_t k = 0; k < part.len; k++) {
            char c = part.ptr[k];
            if (c == 'x' || c == 'X' || c == '*')
                nb_puts(o, "9999999");
            else
                nb_put(o, &c, 1);
        }
    }
    nb_puts(o, "-dev");
    return true;
}

/* ---- VersionParser::normalize ------------------------------------------------------------ */

/* Normalise v into o; false when Composer would reject it. */
static bool normalize(struct str v, struct nbuf *o)
{
    const unsigned char *s = (const unsigned char *)v.ptr;
    size_t n = v.len;
    o->n = 0;
    o->overflow = false;
    php_trim(&s, &n);
    if (n > NORM_MAX)
        return false;

    /* "X as Y": ^([^,\s]++) ++as ++([^,\s]++)$ */
    {
        size_t a = 0;
        while (a < n && s[a] != ',' && !is_space(s[a]))
            a++;
        size_t p = a, sp = 0;
        while (p < n && s[p] == ' ')
            p++, sp++;
        if (a > 0 && sp && p + 2 <= n && s[p] == 'a' && s[p + 1] == 's') {
            size_t q = p + 2, sp2 = 0;
            while (q < n && s[q] == ' ')
                q++, sp2++;
            size_t r = q;
            while (r < n && s[r] != ',' && !is_space(s[r]))
                r++;
            if (sp2 && r > q && at_end(s, n, r))
                n = a;
        }
    }
    /* stability flag: @(?:stable|RC|beta|alpha|dev)$ (case-insensitive; the trimmed string
     * cannot end with the newline PCRE's '$' would also allow) */
    {
        static const char *const flags[] = { "stable", "rc", "beta", "alpha", "dev" };
        for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
            size_t k = strlen(flags[f]) + 1;
            if (n >= k && s[n - k] == '@' && ci_at(s, n, n - k + 1, flags[f])) {
                n -= k;
                break;
            }
        }
    }
    struct str sv = str_make((const char *)s, n);
    if (str_eq_cstr(sv, "master") || str_eq_cstr(sv, "trunk") || str_eq_cstr(sv, "default")) {
        nb_puts(o, "dev-");
        nb_put(o, (const char *)s, n);
        return !o->overflow;
    }
    if (ci_at(s, n, 0, "dev-")) {
        nb_puts(o, "dev-");
        nb_put(o, (const char *)s + 4, n - 4);
        return !o->overflow;
    }
    /* build metadata: ^([^,\s+]++)\+[^\s]++$ */
    {
        size_t a = 0;
        while (a < n && s[a] != ',' && s[a] != '+' && !is_space(s[a]))
            a++;
        if (a > 0 && a < n && s[a] == '+') {
            size_t r = a + 1;
            while (r < n && !is_space(s[r]))
                r++;
            if (r > a + 1 && at_end(s, n, r))
                n = a;
        }
    }
    struct mod m;
    size_t i = (n && lc(s[0]) == 'v') ? 1 : 0;
    /* classical: v?(\d{1,5})(\.\d++)?(\.\d++)?(\.\d++)? MOD $ */
    size_t d = digits_at(s, n, i);
    if (d >= 1 && d <= 5) {
        struct str parts[4] = { str_make((const char *)s + i, d) };
        int np = 1;
        size_t p = i + d;
        while (np < 4 && p < n && s[p] == '.') {
            size_t k = digits_at(s, n, p + 1);
            if (!k)
                break;
            parts[np++] = str_make((const char *)s + p, k + 1);
            p += k + 1;
        }
        if (match_modifier(s, n, p, &m)) {
            for (int q = 0; q < 4; q++)
                if (q < np)
                    nb_put(o, parts[q].ptr, parts[q].len);
                else
                    nb_puts(o, ".0");
            put_modifier(o, s, &m);
            return !o->overflow;
        }
    }
    /* date: v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3})?) MOD $ */
    size_t end;
    if (digits_at(s, n, i) >= 4 && date_rest(s, n, i + 4, 0, &end, &m)) {
        for (size_t q = i; q < end; q++) {
            char c = ver_is_digit(s[q]) ? (char)s[q] : '.';
            nb_put(o, &c, 1);
        }
        put_modifier(o, s, &m);
        return !o->overflow;
    }
    /* numeric branches: (.*?)[.-]?dev$ then normalizeBranch, which must give a version */
    size_t e = n && s[n - 1] == '\n' ? n - 1 : n;
    if (e >= 3 && ci_at(s, e, e - 3, "dev")) {
        size_t k = e - 3;
        if (k >= 1 && (s[k - 1] == '.' || s[k - 1] == '-'))
            k--;
        if (!memchr(s, '\n', k) && normalize_branch(s, k, o))
            return !o->overflow;
        o->n = 0;
    }
    return false;
}

/* ---- version_compare --------------------------------------------------------------------- */

/* Canonical bytes of PHP's version_compare, produced one at a time. */
struct canon {
    const unsigned char *s;
    size_t n, i;
    unsigned char lp, lq; /* last input byte, last output byte */
    unsigned char q[2];   /* pending output */
    int nq, qi;
    bool verbatim; /* a version starting with '#' is not canonicalised */
};

static bool php_isdig(unsigned char c)
{
    return ver_is_digit(c);
}

static bool php_isndig(unsigned char c)
{
    return !ver_is_digit(c) && c != '.';
}

static bool php_isalnum(unsigned char c)
{
    return ver_is_digit(c) || ver_is_alpha(c);
}

static void canon_init(struct canon *c, struct str v)
{
    memset(c, 0, sizeof(*c));
    c->s = (const unsigned char *)(v.len ? v.ptr : "");
    const unsigned char *z = v.len ? memchr(c->s, '\0', v.len) : NULL;
    c->n = z ? (size_t)(z - c->s) : v.len; /* PHP works on the C string */
    c->verbatim = c->n && c->s[0] == '#';
}

/* Next canonical byte, or -1 at the end. */
static int canon_get(struct canon *c)
{
    while (c->qi == c->nq) {
        if (c->i >= c->n)
            return -1;
        unsigned char x = c->s[c->i];
        c->qi = c->nq = 0;
        if (c->i == 0 || c->verbatim) {
            c->q[c->nq++] = x;
        } else if (x == '-' || x == '_' || x == '+') {
            if (c->lq != '.')
                c->q[c->nq++] = '.';
        } else if ((php_isndig(c->lp) && php_isdig(x)) || (php_isdig(c->lp) && php_isndig(x))) {
            if (c->lq != '.')
                c->q[c->nq++] = '.';
            c->q[c->nq++] = x;
        } else if (!php_isalnum(x)) {
            if (c->lq != '.')
                c->q[c->nq++] = '.';
        } else {
            c->q[c->nq++] = x;
        }
        if (c->nq)
            c->lq = c->q[c->nq - 1];
        c->lp = x;
        c->i++;
    }
    return c->q[c->qi++];
}

enum part_kind { P_END, P_EMPTY_END, P_WORD, P_NUM };

struct part {
    enum part_kind kind;
    int order;             /* P_WORD: special form order */
    unsigned char num[20]; /* P_NUM: digits without leading zeros, at most LONG_MAX (strtol
                            * saturates) */
    size_t num_len;
};

struct parts {
    struct canon c;
    bool done;
    bool after_dot; /* the previous part ended with '.' */
};

static int special_order(const unsigned char *w, size_t n)
{
    static const struct {
        const char *name;
        int order;
    } forms[] = { { "dev", 0 }, { "alpha", 1 }, { "a", 1 }, { "beta", 2 }, { "b", 2 },
                  { "RC", 3 },  { "rc", 3 },    { "#", 4 }, { "pl", 5 },   { "p", 5 } };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        size_t k = strlen(forms[i].name);
        if (k <= n && memcmp(w, forms[i].name, k) == 0)
            return forms[i].order;
    }
    return -1;
}

static void part_next(struct parts *ps, struct part *p)
{
    memset(p, 0, sizeof(*p));
    if (ps->done) {
        p->kind = P_END;
        return;
    }
    unsigned char head[5];
    size_t len = 0;
    bool digit = false, num_done = false;
    int ch;
    for (;;) {
        ch = canon_get(&ps->c);
        if (ch < 0 || ch == '.')
            break;
        unsigned char x = (unsigned char)ch;
        if (len == 0)
            digit = php_isdig(x);
        if (len < sizeof(head))
            head[len] = x;
        if (digit && !num_done) { /* strtol: the leading digits */
            if (!ver_is_digit(x)) {
                num_done = true;
            } else if (p->num_len || x != '0') {
                if (p->num_len < 19)
                    p->num[p->num_len] = x;
                p->num_len++;
            }
        }
        len++;
    }
    if (ch < 0)
        ps->done = true;
    if (len == 0 && ch < 0) {
        /* nothing left: the end, or an empty last part after a '.' */
        p->kind = ps->after_dot ? P_EMPTY_END : P_END;
        ps->after_dot = false;
        return;
    }
    ps->after_dot = ch == '.';
    if (digit) {
        p->kind = P_NUM;
        static const char max[] = "9223372036854775807"; /* LONG_MAX */
        if (p->num_len > 19 || (p->num_len == 19 && memcmp(p->num, max, 19) > 0)) {
            memcpy(p->num, max, 19);
            p->num_len = 19;
        }
    } else {
        p->kind = P_WORD;
        p->order = special_order(head, len < sizeof(head) ? len : sizeof(head));
    }
}

/* Sort key of a part against another: (class, order, number). */
static int part_cmp(const struct part *a, const struct part *b)
{
    if (a->kind == P_EMPTY_END || b->kind == P_EMPTY_END)
        return (a->kind != P_EMPTY_END) - (b->kind != P_EMPTY_END);
    /* numbers and the end rank like the special form "#" (4) against words */
    int oa = a->kind == P_WORD ? a->order : 4, ob = b->kind == P_WORD ? b->order : 4;
    if (oa != ob)
        return oa < ob ? -1 : 1;
    /* same rank: word "#..." == end < any number */
    int ra = a->kind == P_NUM, rb = b->kind == P_NUM;
    if (ra != rb)
        return ra - rb;
    if (!ra)
        return 0;
    return ver_num_cmp(a->num, a->num_len, b->num, b->num_len);
}

static int php_version_compare(struct str a, struct str b)
{
    struct parts x = { .after_dot = false }, y = { .after_dot = false };
    canon_init(&x.c, a);
    canon_init(&y.c, b);
    if (x.c.n == 0 || y.c.n == 0)
        return (x.c.n != 0) - (y.c.n != 0);
    for (;;) {
        struct part pa, pb;
        part_next(&x, &pa);
        part_next(&y, &pb);
        if (pa.kind == P_END && pb.kind == P_END)
            return 0;
        int r = part_cmp(&pa, &pb);
        if (r)
            return r;
        if (pa.kind == P_EMPTY_END && pb.kind == P_EMPTY_END)
            return 0;
    }
}

/* ---- public ------------------------------------------------------------------------------ */

int composer_vercmp(struct str a, struct str b)
{
    struct nbuf na, nb;
    struct str sa = a, sb = b;
    if (normalize(a, &na))
        sa = str_make(na.b, na.n);
    if (normalize(b, &nb))
        sb = str_make(nb.b, nb.n);
    return php_version_compare(sa, sb);
}

int composer_version_check(struct str v, struct diag *d)
{
    struct nbuf o;
    if (!normalize(v, &o))
        return diag_set(d, -ERR_VERSION, 0, "'%.*s' is not a Composer version",
                        (int)(v.len > 100 ? 100 : v.len), v.len ? v.ptr : "");
    return 0;
}
