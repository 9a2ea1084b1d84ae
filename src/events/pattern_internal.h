/* SPDX-License-Identifier: Apache-2.0 */
/* Private types of the event-pattern engine: the compiled form of one pattern (sub-rules of
 * fields of value matchers), value helpers (numbers, IP addresses, wildcards, case folding)
 * shared by the compiler (pattern_compile.c) and the matcher (pattern_set.c). */
#ifndef VIGIL_EVENTS_PATTERN_INTERNAL_H
#define VIGIL_EVENTS_PATTERN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/str.h"

/* Limits on what a pattern may hold; beyond them the pattern is refused. */
#define PATTERN_MAX_LEN      (1u << 20) /* bytes of JSON text */
#define PATTERN_MAX_DEPTH    64         /* nesting of objects and arrays */
#define PATTERN_MAX_SUBRULES 1024       /* $or expansions of one pattern */

/* Numbers are compared as event-ruler's ComparableNumber does: exact decimals scaled by 10^6,
 * at most 6 decimals, within -5e9..5e9. */
#define PNUM_SCALE 1000000LL
#define PNUM_MAX   (5000000000LL * PNUM_SCALE)

/* A wildcard value as its literal segments: seg[0] * seg[1] * ... * seg[nseg-1] (escapes
 * resolved), so nseg - 1 stars. */
struct wc {
    struct str *seg;
    size_t nseg;
    size_t minlen; /* sum of the segment lengths */
};
/* Parse a wildcard value (escapes \* and \\). 0, or -1 with a message ("Consecutive wildcard
 * characters at pos N" / "Invalid escape character at pos N"; positions count the opening
 * quote, as event-ruler's do) in msg. */
int wc_compile(struct arena *a, struct str v, struct wc *out, char *msg, size_t msgsz);
bool wc_match(const struct wc *w, const char *s, size_t n);
/* Worst-case number of wildcard positions one value can keep alive at once (the measure behind
 * "Rule is too complex"), capped at cap. */
int wc_complexity(const struct wc *w, int cap);

/* One element of a field's value list (the list is an OR). */
enum pm_kind {
    PM_EXACT_STR,  /* "abc" */
    PM_EXACT_NUM,  /* 300: numerically when both sides are comparable, else by text */
    PM_EXACT_LIT,  /* true false null: lit holds the JSON type */
    PM_PREFIX,     /* {"prefix":"a"} */
    PM_SUFFIX,     /* {"suffix":"a"} */
    PM_EIC,        /* {"equals-ignore-case":"a"}: s is folded */
    PM_PREFIX_EIC, /* {"prefix":{"equals-ignore-case":"a"}}: s is folded */
    PM_SUFFIX_EIC, /* {"suffix":{"equals-ignore-case":"a"}}: s is folded */
    PM_WILDCARD,   /* {"wildcard":"a*b"}: s is the parsed program (see wc_match) */
    PM_NUM_RANGE,  /* {"numeric":[...]} */
    PM_IP_RANGE,   /* {"cidr":"..."} or an exact string that is an IP address */
    PM_EXISTS,     /* {"exists":true} */
    PM_ABSENT,     /* {"exists":false} */
    PM_AB_STR,     /* {"anything-but": "a" | ["a","b"]} */
    PM_AB_NUM,     /* {"anything-but": 1 | [1,2]} */
    PM_AB_PREFIX,  /* {"anything-but":{"prefix": ...}} */
    PM_AB_SUFFIX,  /* {"anything-but":{"suffix": ...}} */
    PM_AB_EIC,     /* {"anything-but":{"equals-ignore-case": ...}}: folded */
    PM_AB_WILDCARD /* {"anything-but":{"wildcard": ...}}: parsed programs */
};

/* JSON types of event leaf values. */
enum jtype { JT_STRING, JT_NUMBER, JT_TRUE, JT_FALSE, JT_NULL };

struct pm {
    enum pm_kind kind;
    enum jtype lit;    /* PM_EXACT_LIT */
    struct str s;      /* string operand (arena); number text for PM_EXACT_NUM */
    int64_t num;       /* PM_EXACT_NUM comparable value when num_ok */
    bool num_ok;       /* PM_EXACT_NUM: the number is comparable */
    bool lo_open;      /* PM_NUM_RANGE: > rather than >= */
    bool hi_open;      /* PM_NUM_RANGE: < rather than <= */
    int64_t lo, hi;    /* PM_NUM_RANGE bounds (scaled) */
    uint8_t ip_len;    /* PM_IP_RANGE: 4 or 16 */
    uint8_t ip_lo[16]; /* PM_IP_RANGE inclusive bounds */
    uint8_t ip_hi[16];
    struct wc *wc;   /* PM_WILDCARD: one program; PM_AB_WILDCARD: nset programs */
    struct str *set; /* anything-but string sets (arena) */
    int64_t *nums;   /* PM_AB_NUM values */
    size_t nset;
};

/* A field of a sub-rule: a dotted path and its value list, shared between the sub-rules an
 * $or expanded it into. */
struct pvals {
    struct pm *v;
    size_t n;
    bool has_absent; /* some element is PM_ABSENT */
};

struct pfield {
    struct str path; /* joined with '.', as event-ruler does */
    const struct pvals *vals;
};

/* One conjunction; fields sorted by path (byte order), the order event-ruler walks them in,
 * which decides what exists:false is checked against. */
struct psub {
    struct pfield *f;
    size_t nf;
};

struct pattern {
    struct arena arena; /* everything below lives here */
    struct psub *subs;
    size_t nsubs;
};

/* Parse a JSON number token into the comparable form. False when the number has more than six
 * decimals or lies outside -5e9..5e9 (it is then matched by its text only). */
bool pnum_parse(const char *s, size_t n, int64_t *out);

/* Parse an IP address as event-ruler does (IPv4 dotted quad, IPv6 hex groups with "::"; an
 * IPv4-mapped IPv6 address becomes IPv4). Returns 4, 16, or 0 when s is not an address. */
int ip_parse(const char *s, size_t n, uint8_t out[16]);
/* True when s looks like an address to event-ruler (its IPv4/IPv6 regular expressions). */
bool ip_looks_like(const char *s, size_t n);

/* Case folding for equals-ignore-case: lower-case each character (ASCII fast path, other
 * characters through the C.UTF-8 locale). Writes at most 4*n bytes into out; returns length. */
size_t fold_case(const char *s, size_t n, char *out);
/* True when folding s changes nothing (so s can be compared without a copy). */
bool fold_is_identity(const char *s, size_t n);

/* 64-bit hash of a byte string. */
uint64_t phash(const void *p, size_t n);

#endif
