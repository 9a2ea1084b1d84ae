/* SPDX-License-Identifier: Apache-2.0 */
/* Value helpers of the event-pattern engine: comparable numbers, IP addresses, wildcard
 * programs and their complexity, case folding, hashing. Semantics follow event-ruler
 * (ComparableNumber, CIDR, WildcardParser, MachineComplexityEvaluator). */
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "base/xalloc.h"
#include "events/jscan.h"
#include "events/pattern_internal.h"

/* ---- numbers ------------------------------------------------------------------------------ */

bool pnum_parse(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && s[i] == '-') {
        neg = true;
        i++;
    }
    /* significant digits into d (at most 19), decimal exponent into e */
    uint64_t d = 0;
    int ndig = 0;
    long e = 0;
    bool any = false;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        any = true;
        if (d == 0 && s[i] == '0')
            continue;
        if (ndig < 19) {
            d = d * 10 + (uint64_t)(s[i] - '0');
            ndig++;
        } else {
            e++; /* digits beyond 19 only scale; the value is then out of range anyway */
        }
    }
    if (i < n && s[i] == '.') {
        i++;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            any = true;
            if (d == 0 && s[i] == '0') {
                e--;
                continue;
            }
            if (ndig < 19) {
                d = d * 10 + (uint64_t)(s[i] - '0');
                ndig++;
                e--;
            } else if (s[i] != '0') {
                return false; /* more precision than we can hold: more than 6 decimals */
            }
        }
    }
    if (!any)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        long x = 0;
        bool xd = false;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            xd = true;
            if (x < 100000)
                x = x * 10 + (s[i] - '0');
        }
        if (!xd)
            return false;
        e += eneg ? -x : x;
    }
    if (i != n)
        return false;
    if (d == 0) {
        *out = 0;
        return true;
    }
    while (d % 10 == 0) {
        d /= 10;
        e++;
    }
    long shift = e + 6; /* scaled = d * 10^shift */
    if (shift < 0)
        return false; /* more than six decimals */
    if (shift > 18)
        return false;
    uint64_t v = d;
    for (long k = 0; k < shift; k++) {
        if (v > (uint64_t)PNUM_MAX / 10 + 1)
            return false;
        v *= 10;
    }
    if (v > (uint64_t)PNUM_MAX)
        return false;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

/* ---- IP addresses ------------------------------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* event-ruler's IPv4_REGEX "[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+" */
static bool looks_v4(const char *s, size_t n)
{
    int parts = 0;
    size_t i = 0;
    while (parts < 4) {
        size_t st = i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == st)
            return false;
        parts++;
        if (parts < 4) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
    }
    return i == n;
}

/* event-ruler's IPv6_REGEX "[0-9a-fA-F:]*:[0-9a-fA-F:]*" */
static bool looks_v6(const char *s, size_t n)
{
    bool colon = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ':')
            colon = true;
        else if (jscan_hexv(s[i]) < 0)
            return false;
    }
    return colon;
}

bool ip_looks_like(const char *s, size_t n)
{
    return looks_v4(s, n) || looks_v6(s, n);
}

static int parse_v4(const char *s, size_t n, uint8_t out[16])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        size_t st = i;
        unsigned v = 0;
        while (i < n && is_digit(s[i])) {
            if (v < 1000)
                v = v * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        /* an octet with a leading zero is ambiguous (octal?) and refused, as current Java
         * runtimes refuse it */
        if (i == st || v > 255 || (i - st > 1 && s[st] == '0'))
            return 0;
        out[part] = (uint8_t)v;
        if (part < 3) {
            if (i >= n || s[i] != '.')
                return 0;
            i++;
        }
    }
    return i == n ? 4 : 0;
}

static int parse_v6(const char *s, size_t n, uint8_t out[16])
{
    uint16_t g[8];
    int ng = 0, gap = -1;
    size_t i = 0;
    if (n >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
        if (i == n)
            goto done;
    } else if (n >= 1 && s[0] == ':') {
        return 0;
    }
    for (;;) {
        size_t st = i;
        unsigned v = 0;
        while (i < n && jscan_hexv(s[i]) >= 0 && i - st < 5) {
            v = v * 16 + (unsigned)jscan_hexv(s[i]);
            i++;
        }
        if (i == st || i - st > 4 || ng == 8)
            return 0;
        g[ng++] = (uint16_t)v;
        if (i == n)
            break;
        if (s[i] != ':')
            return 0;
        i++;
        if (i < n && s[i] == ':') {
            if (gap >= 0)
                return 0;
            gap = ng;
            i++;
            if (i == n)
                break;
        } else if (i == n) {
            return 0; /* a single trailing ':' */
        }
    }
done:
    if (gap < 0 && ng != 8)
        return 0;
    if (gap >= 0 && ng > 7)
        return 0;
    memset(out, 0, 16);
    int tail = gap < 0 ? 0 : ng - gap;
    int head = gap < 0 ? ng : gap;
    for (int k = 0; k < head; k++) {
        out[2 * k] = (uint8_t)(g[k] >> 8);
        out[2 * k + 1] = (uint8_t)g[k];
    }
    for (int k = 0; k < tail; k++) {
        int pos = 8 - tail + k;
        out[2 * pos] = (uint8_t)(g[head + k] >> 8);
        out[2 * pos + 1] = (uint8_t)g[head + k];
    }
    /* ::ffff:a.b.c.d is handed back as IPv4, as java.net.InetAddress does */
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp(out, mapped, 12) == 0) {
        memmove(out, out + 12, 4);
        return 4;
    }
    return 16;
}

int ip_parse(const char *s, size_t n, uint8_t out[16])
{
    if (n == 0 || n > 64)
        return 0;
    if (looks_v4(s, n))
        return parse_v4(s, n, out);
    if (looks_v6(s, n))
        return parse_v6(s, n, out);
    return 0;
}

/* ---- wildcards ---------------------------------------------------------------------------- */

int wc_compile(struct arena *a, struct str v, struct wc *out, char *msg, size_t msgsz)
{
    size_t nstar = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] == '*') {
            if (i + 1 < v.len && v.ptr[i + 1] == '*') {
                /* event-ruler parses the value with its opening quote: positions are + 1 */
                snprintf(msg, msgsz, "Consecutive wildcard characters at pos %zu", i + 1);
                return -1;
            }
            nstar++;
        } else if (v.ptr[i] == '\\') {
            if (i + 1 < v.len && (v.ptr[i + 1] == '*' || v.ptr[i + 1] == '\\')) {
                i++;
                continue;
            }
            snprintf(msg, msgsz, "Invalid escape character at pos %zu", i + 1);
            return -1;
        }
    }
    out->nseg = nstar + 1;
    out->seg = arena_alloc(a, out->nseg * sizeof(*out->seg));
    char *buf = arena_alloc(a, v.len + 1);
    size_t k = 0, start = 0, seg = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] == '*') {
            out->seg[seg++] = str_make(buf + start, k - start);
            start = k;
        } else if (v.ptr[i] == '\\') {
            buf[k++] = v.ptr[++i];
        } else {
            buf[k++] = v.ptr[i];
        }
    }
    out->seg[seg++] = str_make(buf + start, k - start);
    buf[k] = '\0';
    out->minlen = k;
    return 0;
}

bool wc_match(const struct wc *w, const char *s, size_t n)
{
    if (n < w->minlen)
        return false;
    const struct str *first = &w->seg[0];
    if (w->nseg == 1)
        return n == first->len && memcmp(s, first->ptr, n) == 0;
    const struct str *last = &w->seg[w->nseg - 1];
    if (memcmp(s, first->ptr, first->len) != 0 ||
        memcmp(s + n - last->len, last->ptr, last->len) != 0)
        return false;
    /* middle segments: leftmost occurrence in order is enough for '*' globs */
    size_t pos = first->len, end = n - last->len;
    for (size_t i = 1; i + 1 < w->nseg; i++) {
        const struct str *g = &w->seg[i];
        if (g->len == 0)
            continue;
        if (end - pos < g->len)
            return false;
        const char *hit = memmem(s + pos, end - pos, g->ptr, g->len);
        if (!hit)
            return false;
        pos = (size_t)(hit - s) + g->len;
    }
    return true;
}

/* Simulates the glob automaton over the value as event-ruler sees it (with its quotes) on
 * worst-case inputs: the largest set of live positions any input reaches. The search runs over
 * sets of positions (bitsets) with the alphabet reduced to the pattern's own bytes plus one
 * byte that occurs nowhere in it. */
#define WC_MAXPOS 256
struct wc_set {
    uint64_t b[WC_MAXPOS / 64];
};

int wc_complexity(const struct wc *w, int cap)
{
    /* tokens: '"' seg0 * seg1 * ... segN '"'; token < 0 marks a star */
    int tok[WC_MAXPOS];
    int nt = 0;
    tok[nt++] = '"';
    for (size_t i = 0; i < w->nseg; i++) {
        if (i > 0)
            tok[nt++] = -1;
        for (size_t j = 0; j < w->seg[i].len; j++) {
            if (nt >= WC_MAXPOS - 2)
                return cap;
            tok[nt++] = (unsigned char)w->seg[i].ptr[j];
        }
    }
    tok[nt++] = '"';
    /* alphabet */
    int alpha[WC_MAXPOS + 1], na = 0;
    bool seen[256] = { false };
    for (int i = 0; i < nt; i++)
        if (tok[i] >= 0 && !seen[tok[i]]) {
            seen[tok[i]] = true;
            alpha[na++] = tok[i];
        }
    for (int c = 1; c < 256; c++)
        if (!seen[c]) {
            alpha[na++] = c;
            break;
        }
        /* closure: a star position also stands at the next position */
#define SET_HAS(S, i) (((S).b[(i) / 64] >> ((i) % 64)) & 1)
#define SET_ADD(S, i) ((S).b[(i) / 64] |= 1ull << ((i) % 64))
    struct wc_set *sets = xmalloc(4096 * sizeof(*sets));
    size_t nsets = 0;
    struct wc_set start = { { 0 } };
    SET_ADD(start, 0);
    sets[nsets++] = start;
    int best = 1;
    for (size_t q = 0; q < nsets && nsets < 4096; q++) {
        for (int ai = 0; ai < na; ai++) {
            int c = alpha[ai];
            struct wc_set nx = { { 0 } };
            for (int i = 0; i < nt; i++) {
                if (!SET_HAS(sets[q], i))
                    continue;
                if (tok[i] < 0) {
                    SET_ADD(nx, i);
                    if (i + 1 < nt && tok[i + 1] == c)
                        SET_ADD(nx, i + 2);
                } else if (tok[i] == c) {
                    SET_ADD(nx, i + 1);
                }
            }
            /* epsilon through stars */
            for (int i = 0; i < nt; i++)
                if (SET_HAS(nx, i) && tok[i] < 0 && i + 1 < nt && tok[i + 1] < 0)
                    SET_ADD(nx, i + 1);
            /* a live star position holds two of event-ruler's transitions (its loop and the
             * way past it), a literal position one */
            int cnt = 0;
            bool any = false;
            for (int i = 0; i < nt; i++)
                if (SET_HAS(nx, i)) {
                    cnt += tok[i] < 0 ? 2 : 1;
                    any = true;
                }
            if (!any)
                continue;
            if (cnt > best)
                best = cnt;
            if (best >= cap)
                goto out;
            bool dup = false;
            for (size_t k = 0; k < nsets && !dup; k++)
                dup = memcmp(&sets[k], &nx, sizeof(nx)) == 0;
            if (!dup && nsets < 4096)
                sets[nsets++] = nx;
        }
    }
out:
    free(sets);
#undef SET_HAS
#undef SET_ADD
    return best < cap ? best : cap;
}

/* ---- case folding ------------------------------------------------------------------------- */

static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_init(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2;
        v = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        v = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4;
        v = c & 0x07;
    } else {
        *cp = 0xfffd;
        return 1;
    }
    if (len > n) {
        *cp = 0xfffd;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *cp = 0xfffd;
            return 1;
        }
        v = (v << 6) | (s[i] & 0x3f);
    }
    *cp = v;
    return len;
}

size_t fold_case(const char *s, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            out[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            i++;
            continue;
        }
        uint32_t cp;
        size_t len = utf8_decode((const unsigned char *)s + i, n - i, &cp);
        pthread_once(&utf8_once, utf8_init);
        uint32_t low = cp;
        if (utf8_locale && cp != 0xfffd)
            low = (uint32_t)towlower_l((wint_t)cp, utf8_locale);
        if (low == cp || low > 0x10ffff) {
            memcpy(out + k, s + i, len);
            k += len;
        } else {
            k += jscan_put_utf8(low, out + k);
        }
        i += len;
    }
    return k;
}

bool fold_is_identity(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || c >= 0x80)
            return false;
    }
    return true;
}

/* ---- hashing ------------------------------------------------------------------------------ */

/* 64x64 -> 128-bit multiply folded to 64 bits (wyhash's mixing step). */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t load32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

uint64_t phash(const void *p, size_t n)
{
    const unsigned char *s = p;
    const uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull,
                   k2 = 0x8ebc6af09c88c6e3ull;
    uint64_t a, b, seed = k0 ^ n;
    if (n <= 16) {
        /* overlapping loads: no loop, no tail copy */
        if (n >= 8) {
            a = load64(s);
            b = load64(s + n - 8);
        } else if (n >= 4) {
            a = load32(s);
            b = load32(s + n - 4);
        } else if (n > 0) {
            a = ((uint64_t)s[0] << 16) | ((uint64_t)s[n / 2] << 8) | s[n - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = n;
        while (i > 16) {
            seed = mum(load64(s) ^ k1, load64(s + 8) ^ seed);
            s += 16;
            i -= 16;
        }
        a = load64(s + i - 16);
        b = load64(s + i - 8);
    }
    return mum(k1 ^ n, mum(a ^ k1, b ^ seed) ^ k2);
}
