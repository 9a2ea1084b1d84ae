/* SPDX-License-Identifier: Apache-2.0 */
/* PyPI version comparison: PEP 440 as python3-packaging's Version orders it (epoch, release
 * without trailing zeros, a/b/rc pre-releases, post, dev, local segments, every spelling the
 * spec normalises). Strings PEP 440 rejects sort below every valid version, among themselves
 * as packaging 21.3's LegacyVersion (setuptools' old parse_version) did. Works on slices,
 * allocates nothing. */
#include <stdint.h>

#include "version/internal.h"
#include "version/version.h"

/* ---- PEP 440 parse ------------------------------------------------------------------------
 * A hand-written matcher equivalent to packaging's VERSION_PATTERN (case-insensitive, blanks
 * around the version allowed). The regex's alternations never need real backtracking: every
 * label that matches a prefix of a longer label ("a"/"alpha", "pre"/"preview", "r"/"rev")
 * leaves a rest that nothing can match, so trying the longest label first finds the same
 * parse, and a separator after a label may always be taken by that label. */

enum pep_pre { PRE_NONE = 0, PRE_A = 1, PRE_B = 2, PRE_RC = 3 };

struct pep_slice {
    const unsigned char *p;
    size_t n;
};

struct pep440 {
    struct pep_slice epoch;   /* digits; empty = 0 */
    struct pep_slice release; /* digits and dots */
    enum pep_pre pre;
    struct pep_slice pre_n; /* digits; empty = 0 */
    bool has_post;
    struct pep_slice post_n;
    bool has_dev;
    struct pep_slice dev_n;
    bool has_local;
    struct pep_slice local; /* after '+' */
};

/* Python's str.isspace() on ASCII, which is what `\s` in packaging's regex matches there
 * (0x1c-0x1f are separators to Python). Non-ASCII spaces (U+00A0, ...) are not matched. */
static bool pep_is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static bool pep_is_sep(unsigned char c)
{
    return c == '-' || c == '_' || c == '.';
}

static unsigned char pep_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c | 0x20) : c;
}

static bool pep_is_alnum(unsigned char c)
{
    return ver_is_digit(c) || ver_is_alpha(c);
}

/* Length of `word` (lower case) when p[i..n) starts with it, ignoring case; else 0. */
static size_t pep_word(const unsigned char *p, size_t n, size_t i, const char *word)
{
    size_t k = 0;
    for (; word[k]; k++)
        if (i + k >= n || pep_lower(p[i + k]) != (unsigned char)word[k])
            return 0;
    return k;
}

/* An optional separator and an optional number after a label; returns the new position. */
static size_t pep_label_number(const unsigned char *p, size_t n, size_t i, struct pep_slice *num)
{
    if (i < n && pep_is_sep(p[i]))
        i++;
    size_t d = ver_digit_span(p + i, n - i);
    num->p = p + i;
    num->n = d;
    return i + d;
}

/* Parse p[0..n) into v. Returns true when the whole string is a PEP 440 version; otherwise
 * *fail_at is the offset of the first byte the grammar could not take. */
static bool pep_parse(const unsigned char *p, size_t n, struct pep440 *v, size_t *fail_at)
{
    size_t i = 0;
    memset(v, 0, sizeof(*v));
    while (i < n && pep_is_space(p[i]))
        i++;
    if (i < n && pep_lower(p[i]) == 'v')
        i++;

    size_t d = ver_digit_span(p + i, n - i);
    if (d == 0) {
        *fail_at = i;
        return false;
    }
    if (i + d < n && p[i + d] == '!') {
        v->epoch = (struct pep_slice){ p + i, d };
        i += d + 1;
        d = ver_digit_span(p + i, n - i);
        if (d == 0) {
            *fail_at = i;
            return false;
        }
    }
    size_t rel = i;
    i += d;
    while (i + 1 < n && p[i] == '.' && ver_is_digit(p[i + 1]))
        i += 1 + ver_digit_span(p + i + 1, n - i - 1);
    v->release = (struct pep_slice){ p + rel, i - rel };

    /* pre-release: [-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?N? */
    {
        size_t j = i < n && pep_is_sep(p[i]) ? i + 1 : i;
        static const struct {
            const char *w;
            enum pep_pre kind;
        } pre[] = { { "alpha", PRE_A },    { "a", PRE_A },    { "beta", PRE_B }, { "b", PRE_B },
                    { "preview", PRE_RC }, { "pre", PRE_RC }, { "rc", PRE_RC },  { "c", PRE_RC } };
        for (size_t k = 0; k < sizeof(pre) / sizeof(pre[0]); k++) {
            size_t w = pep_word(p, n, j, pre[k].w);
            if (w) {
                v->pre = pre[k].kind;
                i = pep_label_number(p, n, j + w, &v->pre_n);
                break;
            }
        }
    }

    /* post-release: -N | [-_.]?(post|rev|r)[-_.]?N? */
    if (i + 1 < n && p[i] == '-' && ver_is_digit(p[i + 1])) {
        v->has_post = true;
        d = ver_digit_span(p + i + 1, n - i - 1);
        v->post_n = (struct pep_slice){ p + i + 1, d };
        i += 1 + d;
    } else {
        size_t j = i < n && pep_is_sep(p[i]) ? i + 1 : i;
        static const char *const post[] = { "post", "rev", "r" };
        for (size_t k = 0; k < 3; k++) {
            size_t w = pep_word(p, n, j, post[k]);
            if (w) {
                v->has_post = true;
                i = pep_label_number(p, n, j + w, &v->post_n);
                break;
            }
        }
    }

    /* development release: [-_.]?dev[-_.]?N? */
    {
        size_t j = i < n && pep_is_sep(p[i]) ? i + 1 : i;
        size_t w = pep_word(p, n, j, "dev");
        if (w) {
            v->has_dev = true;
            i = pep_label_number(p, n, j + w, &v->dev_n);
        }
    }

    /* local version: +[a-z0-9]+([-_.][a-z0-9]+)* */
    if (i < n && p[i] == '+') {
        size_t start = ++i;
        for (;;) {
            size_t k = i;
            while (k < n && pep_is_alnum(p[k]))
                k++;
            if (k == i) {
                *fail_at = i;
                return false;
            }
            i = k;
            if (i + 1 < n && pep_is_sep(p[i]) && pep_is_alnum(p[i + 1]))
                i++;
            else
                break;
        }
        v->has_local = true;
        v->local = (struct pep_slice){ p + start, i - start };
    }

    while (i < n && pep_is_space(p[i]))
        i++;
    if (i != n) {
        *fail_at = i;
        return false;
    }
    return true;
}

/* ---- PEP 440 order ------------------------------------------------------------------------ */

/* Next dot-separated number of a release segment: advances *i, empty slice past the end. */
static struct pep_slice pep_next_component(struct pep_slice s, size_t *i)
{
    if (*i >= s.n)
        return (struct pep_slice){ s.p, 0 };
    size_t d = ver_digit_span(s.p + *i, s.n - *i);
    struct pep_slice c = { s.p + *i, d };
    *i += d + 1; /* the '.' */
    return c;
}

/* Release segments compared with trailing zeros ignored: missing components count as 0. */
static int pep_release_cmp(struct pep_slice a, struct pep_slice b)
{
    size_t ia = 0, ib = 0;
    while (ia < a.n || ib < b.n) {
        struct pep_slice ca = pep_next_component(a, &ia);
        struct pep_slice cb = pep_next_component(b, &ib);
        int r = ver_num_cmp(ca.p, ca.n, cb.p, cb.n);
        if (r)
            return r;
    }
    return 0;
}

/* Rank of the pre-release part in packaging's key: a dev release with neither pre nor post
 * sorts before every pre-release (1.0.dev0 < 1.0a0), no pre-release after all of them. */
static int pep_pre_rank(const struct pep440 *v)
{
    if (v->pre == PRE_NONE)
        return !v->has_post && v->has_dev ? 0 : 4;
    return (int)v->pre;
}

/* Next local segment (split at [-_.]); false at the end. */
static bool pep_next_local(struct pep_slice s, size_t *i, struct pep_slice *seg)
{
    if (*i >= s.n)
        return false;
    size_t k = *i;
    while (k < s.n && !pep_is_sep(s.p[k]))
        k++;
    *seg = (struct pep_slice){ s.p + *i, k - *i };
    *i = k + 1;
    return true;
}

static bool pep_all_digits(struct pep_slice s)
{
    return ver_digit_span(s.p, s.n) == s.n;
}

/* Local versions: absent < present; segment by segment, a number beats a string, numbers
 * compare as integers, strings case-insensitively; a proper prefix sorts first. */
static int pep_local_cmp(const struct pep440 *a, const struct pep440 *b)
{
    if (a->has_local != b->has_local)
        return a->has_local ? 1 : -1;
    size_t ia = 0, ib = 0;
    for (;;) {
        struct pep_slice sa, sb;
        bool ha = pep_next_local(a->local, &ia, &sa);
        bool hb = pep_next_local(b->local, &ib, &sb);
        if (!ha || !hb)
            return ha == hb ? 0 : (ha ? 1 : -1);
        bool na = pep_all_digits(sa), nb = pep_all_digits(sb);
        if (na != nb)
            return na ? 1 : -1;
        int r;
        if (na) {
            r = ver_num_cmp(sa.p, sa.n, sb.p, sb.n);
        } else {
            r = 0;
            size_t m = sa.n < sb.n ? sa.n : sb.n;
            for (size_t k = 0; k < m && !r; k++) {
                unsigned char x = pep_lower(sa.p[k]), y = pep_lower(sb.p[k]);
                r = x < y ? -1 : x > y;
            }
            if (!r && sa.n != sb.n)
                r = sa.n < sb.n ? -1 : 1;
        }
        if (r)
            return r;
    }
}

static int pep_cmp(const struct pep440 *a, const struct pep440 *b)
{
    int r = ver_num_cmp(a->epoch.p, a->epoch.n, b->epoch.p, b->epoch.n);
    if (r)
        return r;
    r = pep_release_cmp(a->release, b->release);
    if (r)
        return r;
    int ra = pep_pre_rank(a), rb = pep_pre_rank(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    if (a->pre != PRE_NONE) {
        r = ver_num_cmp(a->pre_n.p, a->pre_n.n, b->pre_n.p, b->pre_n.n);
        if (r)
            return r;
    }
    if (a->has_post != b->has_post)
        return a->has_post ? 1 : -1;
    if (a->has_post) {
        r = ver_num_cmp(a->post_n.p, a->post_n.n, b->post_n.p, b->post_n.n);
        if (r)
            return r;
    }
    if (a->has_dev != b->has_dev)
        return a->has_dev ? -1 : 1;
    if (a->has_dev) {
        r = ver_num_cmp(a->dev_n.p, a->dev_n.n, b->dev_n.p, b->dev_n.n);
        if (r)
            return r;
    }
    return pep_local_cmp(a, b);
}

/* ---- legacy order (invalid versions) -------------------------------------------------------
 * packaging 21.3's LegacyVersion key, produced lazily. The lower-cased string is split into
 * digit runs, letter runs, '.', '-' and runs of anything else; '.' is dropped; digit runs
 * become zero-padded 8-character strings; everything else "*" + text, with "pre", "preview"
 * and "rc" -> "*c", "dev" -> "*@", "-" -> "*final-"; "*final" closes the key. Before each "*"
 * part the key loses its trailing "00000000" parts and, for a part below "*final", trailing
 * "*final-" parts first. Parts compare as strings, keys as tuples.
 *
 * Only "00000000" and "*final-" are ever removed, and "*final-" is pushed after the zeros
 * below it are removed, so the removable tail of the key is always "*final-"^k "00000000"^m:
 * two counters replace the stack. */

enum leg_kind { LEG_END, LEG_NUM, LEG_STAR };

struct leg_part {
    enum leg_kind kind;
    const unsigned char *p; /* NUM: the digit run; STAR: the text after '*' */
    size_t n;
    bool lower; /* STAR text from the input: compare it lower-cased */
};

struct leg_iter {
    const unsigned char *p;
    size_t n, i;
    size_t pend_final, pend_zero; /* the removable tail */
    size_t out_final, out_zero;   /* committed tail parts still to hand out */
    struct leg_part held;         /* part to hand out after them */
    bool has_held, closed, done;
};

static const unsigned char leg_final_dash[] = "final-";
static const unsigned char leg_final[] = "final";
static const unsigned char leg_c[] = "c";
static const unsigned char leg_at[] = "@";
static const unsigned char leg_zero[] = "0";

static bool leg_is_letter(unsigned char c)
{
    return ver_is_alpha(c);
}

/* Would this byte start a token of the split regex (digit, letter, '.', '-')? */
static bool leg_is_token(unsigned char c)
{
    return ver_is_digit(c) || leg_is_letter(c) || c == '.' || c == '-';
}

static bool leg_text_eq(const unsigned char *p, size_t n, const char *w)
{
    size_t k = strlen(w);
    if (n != k)
        return false;
    for (size_t i = 0; i < n; i++)
        if (pep_lower(p[i]) != (unsigned char)w[i])
            return false;
    return true;
}

/* Next raw part of the split (before the stack rules); '.' parts are skipped. */
static struct leg_part leg_raw(struct leg_iter *it)
{
    const unsigned char *p = it->p;
    for (;;) {
        if (it->i >= it->n) {
            if (it->closed)
                return (struct leg_part){ LEG_END, NULL, 0, false };
            it->closed = true;
            return (struct leg_part){ LEG_STAR, leg_final, 5, false };
        }
        size_t s = it->i;
        unsigned char c = p[s];
        if (c == '.') {
            it->i++;
            continue;
        }
        if (c == '-') {
            it->i++;
            return (struct leg_part){ LEG_STAR, leg_final_dash, 6, false };
        }
        size_t e = s + 1;
        if (ver_is_digit(c)) {
            while (e < it->n && ver_is_digit(p[e]))
                e++;
            it->i = e;
            return (struct leg_part){ LEG_NUM, p + s, e - s, false };
        }
        if (leg_is_letter(c)) {
            while (e < it->n && leg_is_letter(p[e]))
                e++;
            it->i = e;
            size_t n = e - s;
            if (leg_text_eq(p + s, n, "pre") || leg_text_eq(p + s, n, "preview") ||
                leg_text_eq(p + s, n, "rc"))
                return (struct leg_part){ LEG_STAR, leg_c, 1, false };
            if (leg_text_eq(p + s, n, "dev"))
                return (struct leg_part){ LEG_STAR, leg_at, 1, false };
            return (struct leg_part){ LEG_STAR, p + s, n, true };
        }
        while (e < it->n && !leg_is_token(p[e]))
            e++;
        it->i = e;
        return (struct leg_part){ LEG_STAR, p + s, e - s, true };
    }
}

/* Byte k of a part's string form ("*" + text, or the digits padded to 8 with zeros). */
static size_t leg_len(const struct leg_part *x)
{
    if (x->kind == LEG_STAR)
        return x->n + 1;
    return x->n < 8 ? 8 : x->n;
}

static unsigned char leg_byte(const struct leg_part *x, size_t k)
{
    if (x->kind == LEG_STAR)
        return k == 0 ? '*' : (x->lower ? pep_lower(x->p[k - 1]) : x->p[k - 1]);
    size_t pad = x->n < 8 ? 8 - x->n : 0;
    return k < pad ? '0' : x->p[k - pad];
}

static int leg_part_cmp(const struct leg_part *x, const struct leg_part *y)
{
    size_t nx = leg_len(x), ny = leg_len(y), m = nx < ny ? nx : ny;
    for (size_t k = 0; k < m; k++) {
        unsigned char a = leg_byte(x, k), b = leg_byte(y, k);
        if (a != b)
            return a < b ? -1 : 1;
    }
    return nx == ny ? 0 : (nx < ny ? -1 : 1);
}

/* "00000000": a run of one to eight zeros. */
static bool leg_is_zero(const struct leg_part *x)
{
    if (x->kind != LEG_NUM || x->n > 8)
        return false;
    for (size_t k = 0; k < x->n; k++)
        if (x->p[k] != '0')
            return false;
    return true;
}

static bool leg_is_final_dash(const struct leg_part *x)
{
    return x->kind == LEG_STAR && !x->lower && x->p == leg_final_dash;
}

/* Next part of the key. */
static struct leg_part leg_next(struct leg_iter *it)
{
    static const struct leg_part fd = { LEG_STAR, leg_final_dash, 6, false };
    static const struct leg_part z = { LEG_NUM, leg_zero, 1, false };
    static const struct leg_part fin = { LEG_STAR, leg_final, 5, false };
    for (;;) {
        if (it->out_final) {
            it->out_final--;
            return fd;
        }
        if (it->out_zero) {
            it->out_zero--;
            return z;
        }
        if (it->has_held) {
            it->has_held = false;
            return it->held;
        }
        if (it->done)
            return (struct leg_part){ LEG_END, NULL, 0, false };
        struct leg_part x = leg_raw(it);
        if (x.kind == LEG_END) {
            it->done = true;
            continue;
        }
        if (x.kind == LEG_NUM) {
            if (leg_is_zero(&x)) {
                it->pend_zero++;
                continue;
            }
        } else if (leg_is_final_dash(&x)) {
            /* pops the zeros below it, then stays removable itself */
            it->pend_zero = 0;
            it->pend_final++;
            continue;
        } else if (leg_part_cmp(&x, &fin) < 0) {
            /* the "*final-" parts go first, but only when they are on top */
            if (it->pend_zero)
                it->pend_zero = 0;
            else
                it->pend_final = 0;
        } else {
            it->pend_zero = 0;
        }
        it->out_final = it->pend_final;
        it->out_zero = it->pend_zero;
        it->pend_final = it->pend_zero = 0;
        it->held = x;
        it->has_held = true;
    }
}

static int leg_cmp(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
    struct leg_iter ia = { .p = a, .n = an }, ib = { .p = b, .n = bn };
    for (;;) {
        struct leg_part x = leg_next(&ia), y = leg_next(&ib);
        if (x.kind == LEG_END || y.kind == LEG_END)
            return x.kind == y.kind ? 0 : (x.kind == LEG_END ? -1 : 1);
        int r = leg_part_cmp(&x, &y);
        if (r)
            return r;
    }
}

/* ---- public API --------------------------------------------------------------------------- */

int pep440_vercmp(struct str a, struct str b)
{
    /* a NULL slice is the empty string (no pointer arithmetic on NULL) */
    const unsigned char *pa = (const unsigned char *)(a.ptr ? a.ptr : "");
    const unsigned char *pb = (const unsigned char *)(b.ptr ? b.ptr : "");
    size_t na = a.ptr ? a.len : 0, nb = b.ptr ? b.len : 0;
    struct pep440 va, vb;
    size_t fail;
    bool oka = pep_parse(pa, na, &va, &fail);
    bool okb = pep_parse(pb, nb, &vb, &fail);
    if (oka && okb)
        return pep_cmp(&va, &vb);
    if (oka != okb)
        return oka ? 1 : -1; /* LegacyVersion's epoch -1 */
    return leg_cmp(pa, na, pb, nb);
}

int pep440_version_check(struct str v, struct diag *d)
{
    const unsigned char *p = (const unsigned char *)(v.ptr ? v.ptr : "");
    size_t n = v.ptr ? v.len : 0;
    struct pep440 pv;
    size_t at = 0;
    if (pep_parse(p, n, &pv, &at))
        return 0;
    if (at >= n)
        return diag_set(d, -ERR_VERSION, at,
                        "version ends early (PEP 440: [N!]N(.N)*[{a|b|rc}N]"
                        "[.postN][.devN][+local])");
    return diag_set(d, -ERR_VERSION, at,
                    "unexpected '%c' at offset %zu in version (PEP 440: "
                    "[N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local])",
                    p[at] >= 0x20 && p[at] < 0x7f ? p[at] : '?', at);
}
