/* SPDX-License-Identifier: Apache-2.0 */
/* RubyGems version comparison: Gem::Version#<=> (rubygems 3.3). A version is the sequence of
 * its digit runs (numbers) and letter runs (strings), '-' counting as ".pre."; trailing zeros
 * of the leading numeric part are dropped, a string sorts before any number, and the shorter
 * sequence is padded with 0. Works on slices, allocates nothing. */
#include <stdint.h>

#include "version/internal.h"
#include "version/version.h"

enum gem_kind { GEM_END, GEM_NUM, GEM_STR };

struct gem_seg {
    enum gem_kind kind;
    const unsigned char *p;
    size_t n;
};

struct gem_iter {
    const unsigned char *p;
    size_t n, i;
    bool in_strings;   /* a string segment has been seen: no more zeros are dropped */
    size_t keep_until; /* zeros before this offset are followed by a non-zero: keep them */
};

static const unsigned char gem_pre[] = "pre";

/* Ruby's String#strip set, and what `\s` matches in Gem::Version's pattern. */
static bool gem_is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The raw segment at offset *i (digits, letters, or "pre" for '-'), skipping everything
 * else; GEM_END at the end. */
static struct gem_seg gem_raw(const unsigned char *p, size_t n, size_t *i)
{
    while (*i < n) {
        size_t s = *i;
        unsigned char c = p[s];
        if (c == '-') {
            (*i)++;
            return (struct gem_seg){ GEM_STR, gem_pre, 3 };
        }
        if (ver_is_digit(c)) {
            size_t d = ver_digit_span(p + s, n - s);
            *i = s + d;
            return (struct gem_seg){ GEM_NUM, p + s, d };
        }
        if (ver_is_alpha(c)) {
            size_t e = s + 1;
            while (e < n && ver_is_alpha(p[e]))
                e++;
            *i = e;
            return (struct gem_seg){ GEM_STR, p + s, e - s };
        }
        (*i)++;
    }
    return (struct gem_seg){ GEM_END, NULL, 0 };
}

static bool gem_is_zero(const struct gem_seg *s)
{
    if (s->kind != GEM_NUM)
        return false;
    for (size_t k = 0; k < s->n; k++)
        if (s->p[k] != '0')
            return false;
    return true;
}

/* Next segment of the canonical form. A zero in the numeric part is dropped with every zero
 * after it when only zeros follow until the first string or the end (at the end, dropping
 * and the comparison's zero padding are the same thing). */
static struct gem_seg gem_next(struct gem_iter *it)
{
    for (;;) {
        size_t at = it->i;
        struct gem_seg s = gem_raw(it->p, it->n, &it->i);
        if (s.kind != GEM_NUM) {
            if (s.kind == GEM_STR)
                it->in_strings = true;
            return s;
        }
        if (it->in_strings || at < it->keep_until || !gem_is_zero(&s))
            return s;
        /* a zero: look for a non-zero number before the next string */
        size_t j = it->i, before;
        for (;;) {
            before = j;
            struct gem_seg t = gem_raw(it->p, it->n, &j);
            if (t.kind != GEM_NUM || !gem_is_zero(&t)) {
                if (t.kind == GEM_NUM) {
                    it->keep_until = j; /* keep the zeros, the non-zero too */
                    return s;
                }
                it->i = before; /* drop the run of zeros */
                break;
            }
        }
    }
}

static int gem_seg_cmp(const struct gem_seg *x, const struct gem_seg *y)
{
    if (x->kind == GEM_STR && y->kind == GEM_STR)
        return ver_bytes_cmp(x->p, x->n, y->p, y->n);
    if (x->kind != y->kind)
        return x->kind == GEM_STR ? -1 : 1;
    return ver_num_cmp(x->p, x->n, y->p, y->n);
}

int gem_vercmp(struct str a, struct str b)
{
    struct gem_iter ia = { .p = (const unsigned char *)(a.ptr ? a.ptr : ""),
                           .n = a.ptr ? a.len : 0 };
    struct gem_iter ib = { .p = (const unsigned char *)(b.ptr ? b.ptr : ""),
                           .n = b.ptr ? b.len : 0 };
    static const struct gem_seg zero = { GEM_NUM, (const unsigned char *)"0", 1 };
    for (;;) {
        struct gem_seg x = gem_next(&ia), y = gem_next(&ib);
        if (x.kind == GEM_END && y.kind == GEM_END)
            return 0;
        int r = gem_seg_cmp(x.kind == GEM_END ? &zero : &x, y.kind == GEM_END ? &zero : &y);
        if (r)
            return r;
    }
}

/* \A\s*([0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?\s*\z */
int gem_version_check(struct str v, struct diag *d)
{
    const unsigned char *p = (const unsigned char *)(v.ptr ? v.ptr : "");
    size_t n = v.ptr ? v.len : 0, i = 0;
    while (i < n && gem_is_space(p[i]))
        i++;
    if (i < n && ver_is_digit(p[i])) {
        i += ver_digit_span(p + i, n - i);
        while (i + 1 < n && p[i] == '.' && (ver_is_digit(p[i + 1]) || ver_is_alpha(p[i + 1]))) {
            i++;
            while (i < n && (ver_is_digit(p[i]) || ver_is_alpha(p[i])))
                i++;
        }
        if (i + 1 < n && p[i] == '-') {
            size_t j = i + 1;
            for (;;) {
                size_t k = j;
                while (k < n && (ver_is_digit(p[k]) || ver_is_alpha(p[k]) || p[k] == '-'))
                    k++;
                if (k == j)
                    break;
                i = k;
                if (k + 1 < n && p[k] == '.')
                    j = k + 1;
                else
                    break;
            }
        }
    }
    while (i < n && gem_is_space(p[i]))
        i++;
    if (i == n)
        return 0;
    return diag_set(d, -ERR_VERSION, i,
                    "unexpected '%c' at offset %zu in version (RubyGems: "
                    "N(.X)*(-X(.X)*)? of digits and letters)",
                    p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?', i);
}
