/* SPDX-License-Identifier: Apache-2.0 */
/* The regular expressions of the AWS service models (a java.util.regex subset), compiled to a
 * Thompson NFA and run as a Pike VM: whole-string matching in time linear in the input, with
 * lookahead evaluated as a memoised sub-match. Also the UTF-8 helpers of the wire layer. */
#include <stdlib.h>
#include <string.h>

#include "awsproto_internal.h"
#include "base/vec.h"
#include "base/xalloc.h"

/* ---- UTF-8 ------------------------------------------------------------------------------ */

int aws_utf8_decode(const char *s, size_t len, unsigned *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    unsigned c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    int n;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        min = 0x80;
        c &= 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        min = 0x800;
        c &= 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        return 0;
    }
    if (len < (size_t)n)
        return 0;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

bool aws_utf8_valid(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        unsigned cp;
        int k = aws_utf8_decode(s + i, len - i, &cp);
        if (k == 0)
            return false;
        i += (size_t)k;
    }
    return true;
}

/* ---- Character classes ------------------------------------------------------------------ */

/* Unicode general categories used by the models (\p{...}). ASCII and Latin-1 are exact; above
 * U+00FF the classification is an approximation (see is_letter). */
enum {
    PROP_L = 1 << 0,  /* letter */
    PROP_LU = 1 << 1, /* upper-case letter */
    PROP_LL = 1 << 2, /* lower-case letter */
    PROP_N = 1 << 3,  /* number */
    PROP_ND = 1 << 4, /* decimal digit */
    PROP_Z = 1 << 5,  /* separator */
};

struct range {
    unsigned lo, hi;
};

struct cls {
    VEC(struct range) ranges;
    unsigned props;     /* code points in any of these categories are members */
    unsigned neg_props; /* ... and those in none of these (\P{...}) */
    bool neg;           /* [^...] */
};

static bool is_space_sep(unsigned c)
{
    return c == 0x20 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

static bool is_decimal_digit(unsigned c)
{
    static const unsigned zeros[] = { 0x30,  0x660, 0x6F0,  0x7C0,  0x966,  0x9E6,  0xA66,
                                      0xAE6, 0xB66, 0xBE6,  0xC66,  0xCE6,  0xD66,  0xE50,
                                      0xED0, 0xF20, 0x1040, 0x17E0, 0x1810, 0xFF10, 0x104A0 };
    for (size_t i = 0; i < ARRAY_SIZE(zeros); i++)
        if (c >= zeros[i] && c <= zeros[i] + 9)
            return true;
    return false;
}

static bool is_number(unsigned c)
{
    return is_decimal_digit(c) || c == 0xB2 || c == 0xB3 || c == 0xB9 || (c >= 0xBC && c <= 0xBE) ||
           c == 0x2070 || (c >= 0x2074 && c <= 0x2079) || (c >= 0x2080 && c <= 0x2089) ||
           (c >= 0x2150 && c <= 0x2189) || (c >= 0x2460 && c <= 0x249B) ||
           (c >= 0x24EA && c <= 0x24FF) || (c >= 0x2776 && c <= 0x2793) || c == 0x3007 ||
           (c >= 0x3021 && c <= 0x3029);
}

static bool is_upper(unsigned c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7);
}

static bool is_lower(unsigned c)
{
    return (c >= 'a' && c <= 'z') || c == 0xB5 || (c >= 0xDF && c <= 0xFF && c != 0xF7);
}

/* Letters: exact up to U+00FF. Above, every code point counts as a letter unless it is a
 * number or separator (above), a combining mark, punctuation or symbol block, a surrogate,
 * private use, a non-character, or an emoji/symbol plane range. Scripts' own punctuation (a
 * handful of code points per script) is thus taken for letters: the price of carrying no
 * Unicode tables. */
static bool is_letter(unsigned c)
{
    if (c < 0x80)
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (c <= 0xFF)
        return c == 0xAA || c == 0xB5 || c == 0xBA || (c >= 0xC0 && c != 0xD7 && c != 0xF7);
    static const struct range not_letters[] = {
        { 0x0300, 0x036F },   /* combining diacritics */
        { 0x2000, 0x2BFF },   /* punctuation, symbols, arrows, maths, box drawing, ... */
        { 0x2E00, 0x2E7F },   /* supplemental punctuation */
        { 0x3000, 0x303F },   /* CJK symbols and punctuation */
        { 0xD800, 0xF8FF },   /* surrogates, private use */
        { 0xFE00, 0xFE0F },   /* variation selectors */
        { 0xFE10, 0xFE6F },   /* vertical forms, CJK compatibility forms, small forms */
        { 0xFF00, 0xFF20 },   /* full-width punctuation and digits */
        { 0xFFF0, 0xFFFF },   /* specials */
        { 0x1F000, 0x1FBFF }, /* emoji, symbols, pictographs */
        { 0xE0000, 0x10FFFF } /* tags, variation selectors, private use planes */
    };
    if (is_space_sep(c) || is_number(c))
        return false;
    for (size_t i = 0; i < ARRAY_SIZE(not_letters); i++)
        if (c >= not_letters[i].lo && c <= not_letters[i].hi)
            return false;
    return true;
}

static bool has_prop(unsigned props, unsigned c)
{
    if ((props & PROP_L) && is_letter(c))
        return true;
    if ((props & PROP_LU) && is_upper(c))
        return true;
    if ((props & PROP_LL) && is_lower(c))
        return true;
    if ((props & PROP_N) && is_number(c))
        return true;
    if ((props & PROP_ND) && is_decimal_digit(c))
        return true;
    if ((props & PROP_Z) && is_space_sep(c))
        return true;
    return false;
}

static bool cls_match(const struct cls *k, unsigned c)
{
    bool in = false;
    for (size_t i = 0; i < k->ranges.n && !in; i++)
        in = c >= k->ranges.v[i].lo && c <= k->ranges.v[i].hi;
    if (!in && k->props)
        in = has_prop(k->props, c);
    if (!in && k->neg_props)
        in = !has_prop(k->neg_props, c);
    return in != k->neg;
}

static void cls_add(struct cls *k, unsigned lo, unsigned hi)
{
    struct range r = { lo, hi };
    VEC_PUSH(&k->ranges, r);
}

/* ---- Parser: pattern text -> syntax tree ------------------------------------------------ */

enum node_kind {
    N_EMPTY,
    N_CHAR,
    N_CLASS,
    N_ANY,
    N_BOL,
    N_EOL,
    N_CAT,
    N_ALT,
    N_REPEAT,
    N_LOOK,
};

#define REPEAT_INF (-1)
#define REPEAT_MAX 1000 /* largest count in {n,m} */
#define NEST_MAX   64   /* nested groups */

struct node {
    enum node_kind kind;
    int a, b;     /* children (CAT, ALT: both; REPEAT, LOOK: a) */
    unsigned cp;  /* CHAR */
    int cls;      /* CLASS */
    int min, max; /* REPEAT */
    bool neg;     /* LOOK: negative lookahead */
};

struct parser {
    const char *s;
    size_t len, pos;
    int depth;
    VEC(struct node) nodes;
    VEC(struct cls) classes;
    struct diag *d;
};

static int node_new(struct parser *p, enum node_kind kind)
{
    struct node n = { .kind = kind, .a = -1, .b = -1 };
    VEC_PUSH(&p->nodes, n);
    return (int)p->nodes.n - 1;
}

static int fail(struct parser *p, const char *what)
{
    diag_set(p->d, -ERR_INVALID, p->pos, "%s at offset %zu of the pattern", what, p->pos);
    return -ERR_INVALID;
}

static bool at_end(const struct parser *p)
{
    return p->pos >= p->len;
}

static char peek(const struct parser *p)
{
    return at_end(p) ? (char)0 : p->s[p->pos];
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int parse_hex(struct parser *p, int digits, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < digits; i++) {
        int h = at_end(p) ? -1 : hexval(p->s[p->pos]);
        if (h < 0)
            return fail(p, "bad hexadecimal escape");
        v = v * 16 + (unsigned)h;
        p->pos++;
    }
    *out = v;
    return 0;
}

/* An escape that denotes a set (\d \w \s \p{..}, \P{..}) is added to *k with *is_set true;
 * \D \W \S add their positive set and set *negated (the caller complements). A
 * single-character escape is returned in *cp with *is_set false. p->pos is just past the
 * backslash. */
static int parse_escape(struct parser *p, struct cls *k, unsigned *cp, bool *is_set, bool *negated)
{
    if (at_end(p))
        return fail(p, "trailing backslash");
    char c = p->s[p->pos++];
    *cp = 0;
    *is_set = true;
    *negated = c == 'D' || c == 'W' || c == 'S';
    switch (c) {
    case 'D':
    case 'd':
        cls_add(k, '0', '9');
        return 0;
    case 'W':
    case 'w':
        cls_add(k, 'a', 'z');
        cls_add(k, 'A', 'Z');
        cls_add(k, '0', '9');
        cls_add(k, '_', '_');
        return 0;
    case 'S':
    case 's':
        cls_add(k, '\t', '\r'); /* \t \n \x0B \f \r */
        cls_add(k, ' ', ' ');
        return 0;
    case 'p':
    case 'P': {
        char name[8];
        size_t n = 0;
        if (peek(p) == '{') {
            p->pos++;
            while (!at_end(p) && p->s[p->pos] != '}' && n < sizeof(name) - 1)
                name[n++] = p->s[p->pos++];
            if (peek(p) != '}')
                return fail(p, "unterminated \\p{...}");
            p->pos++;
        } else if (!at_end(p)) {
            name[n++] = p->s[p->pos++];
        }
        name[n] = '\0';
        unsigned prop;
        if (strcmp(name, "L") == 0 || strcmp(name, "IsL") == 0)
            prop = PROP_L;
        else if (strcmp(name, "Lu") == 0)
            prop = PROP_LU;
        else if (strcmp(name, "Ll") == 0)
            prop = PROP_LL;
        else if (strcmp(name, "N") == 0 || strcmp(name, "IsN") == 0)
            prop = PROP_N;
        else if (strcmp(name, "Nd") == 0)
            prop = PROP_ND;
        else if (strcmp(name, "Z") == 0 || strcmp(name, "IsZ") == 0)
            prop = PROP_Z;
        else
            return fail(p, "unsupported Unicode property");
        if (c == 'p')
            k->props |= prop;
        else
            k->neg_props |= prop;
        return 0;
    }
    default:
        break;
    }
    *is_set = false;
    switch (c) {
    case 't':
        *cp = '\t';
        return 0;
    case 'n':
        *cp = '\n';
        return 0;
    case 'r':
        *cp = '\r';
        return 0;
    case 'f':
        *cp = '\f';
        return 0;
    case 'a':
        *cp = 0x07;
        return 0;
    case 'e':
        *cp = 0x1B;
        return 0;
    case 'x':
        return parse_hex(p, 2, cp);
    case 'u':
        return parse_hex(p, 4, cp);
    default:
        break;
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return fail(p, "unsupported escape");
    if ((unsigned char)c >= 0x80)
        return fail(p, "escaped non-ASCII character");
    *cp = (unsigned char)c;
    return 0;
}

/* One literal character of the pattern (which is UTF-8) at p->pos. */
static int parse_literal(struct parser *p, unsigned *cp)
{
    int k = aws_utf8_decode(p->s + p->pos, p->len - p->pos, cp);
    if (k == 0)
        return fail(p, "pattern is not UTF-8");
    p->pos += (size_t)k;
    return 0;
}

static int parse_class(struct parser *p, int *out)
{
    struct cls k = { 0 };
    int rc = 0;
    if (peek(p) == '^') {
        k.neg = true;
        p->pos++;
    }
    bool have_prev = false; /* a single character that may start a range */
    unsigned prev = 0;
    bool first = true;
    for (;;) {
        if (at_end(p)) {
            rc = fail(p, "unterminated character class");
            goto out;
        }
        char c = p->s[p->pos];
        if (c == ']' && !first) {
            p->pos++;
            break;
        }
        first = false;
        if (c == '[' || (c == '&' && p->pos + 1 < p->len && p->s[p->pos + 1] == '&')) {
            rc = fail(p, "nested or intersected classes are not supported");
            goto out;
        }
        if (c == '-' && have_prev && p->pos + 1 < p->len && p->s[p->pos + 1] != ']') {
            /* a range prev-hi */
            p->pos++;
            unsigned hi = 0;
            if (p->s[p->pos] == '\\') {
                p->pos++;
                bool is_set, negated;
                rc = parse_escape(p, &k, &hi, &is_set, &negated);
                if (rc)
                    goto out;
                if (is_set) {
                    rc = fail(p, "a set cannot end a range");
                    goto out;
                }
            } else {
                rc = parse_literal(p, &hi);
                if (rc)
                    goto out;
            }
            if (hi < prev) {
                rc = fail(p, "range out of order");
                goto out;
            }
            /* prev was added as a single character; widen it */
            k.ranges.v[k.ranges.n - 1].hi = hi;
            have_prev = false;
            continue;
        }
        unsigned cp = 0;
        if (c == '\\') {
            p->pos++;
            bool is_set, negated;
            rc = parse_escape(p, &k, &cp, &is_set, &negated);
            if (rc)
                goto out;
            if (negated) {
                rc = fail(p, "\\D, \\W and \\S are not supported inside a class");
                goto out;
            }
            if (is_set) {
                have_prev = false;
                continue;
            }
        } else {
            rc = parse_literal(p, &cp);
            if (rc)
                goto out;
        }
        cls_add(&k, cp, cp);
        have_prev = true;
        prev = cp;
    }
    VEC_PUSH(&p->classes, k);
    *out = node_new(p, N_CLASS);
    p->nodes.v[*out].cls = (int)p->classes.n - 1;
    return 0;
out:
    VEC_FREE(&k.ranges);
    return rc;
}

static int parse_alt(struct parser *p, int *out);

static int parse_atom(struct parser *p, int *out)
{
    char c = p->s[p->pos];
    switch (c) {
    case '(': {
        p->pos++;
        if (++p->depth > NEST_MAX)
            return fail(p, "groups nested too deeply");
        int look = 0; /* 0: group, 1: (?=, 2: (?! */
        if (peek(p) == '?') {
            p->pos++;
            char k = peek(p);
            if (k == ':')
                look = 0;
            else if (k == '=')
                look = 1;
            else if (k == '!')
                look = 2;
            else
                return fail(p, "unsupported group construct");
            p->pos++;
        }
        int inner;
        int rc = parse_alt(p, &inner);
        if (rc)
            return rc;
        if (peek(p) != ')')
            return fail(p, "missing ')'");
        p->pos++;
        p->depth--;
        if (look) {
            *out = node_new(p, N_LOOK);
            p->nodes.v[*out].a = inner;
            p->nodes.v[*out].neg = look == 2;
        } else {
            *out = inner;
        }
        return 0;
    }
    case '[':
        p->pos++;
        return parse_class(p, out);
    case '.':
        p->pos++;
        *out = node_new(p, N_ANY);
        return 0;
    case '^':
        p->pos++;
        *out = node_new(p, N_BOL);
        return 0;
    case '$':
        p->pos++;
        *out = node_new(p, N_EOL);
        return 0;
    case '\\': {
        p->pos++;
        struct cls k = { 0 };
        unsigned cp;
        bool is_set, negated;
        int rc = parse_escape(p, &k, &cp, &is_set, &negated);
        if (rc) {
            VEC_FREE(&k.ranges);
            return rc;
        }
        if (!is_set) {
            VEC_FREE(&k.ranges);
            *out = node_new(p, N_CHAR);
            p->nodes.v[*out].cp = cp;
            return 0;
        }
        k.neg = negated;
        VEC_PUSH(&p->classes, k);
        *out = node_new(p, N_CLASS);
        p->nodes.v[*out].cls = (int)p->classes.n - 1;
        return 0;
    }
    case '*':
    case '+':
    case '?':
    case '{':
        return fail(p, "quantifier without operand");
    default: {
        unsigned cp;
        int rc = parse_literal(p, &cp);
        if (rc)
            return rc;
        *out = node_new(p, N_CHAR);
        p->nodes.v[*out].cp = cp;
        return 0;
    }
    }
}

static bool parse_count(struct parser *p, int *v)
{
    size_t start = p->pos;
    long n = 0;
    while (!at_end(p) && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        n = n * 10 + (p->s[p->pos] - '0');
        if (n > REPEAT_MAX)
            return false;
        p->pos++;
    }
    *v = (int)n;
    return p->pos > start;
}

static int parse_repeat(struct parser *p, int *out)
{
    int rc = parse_atom(p, out);
    if (rc)
        return rc;
    while (!at_end(p)) {
        char c = p->s[p->pos];
        int min, max;
        if (c == '*') {
            min = 0;
            max = REPEAT_INF;
            p->pos++;
        } else if (c == '+') {
            min = 1;
            max = REPEAT_INF;
            p->pos++;
        } else if (c == '?') {
            min = 0;
            max = 1;
            p->pos++;
        } else if (c == '{') {
            p->pos++;
            if (!parse_count(p, &min))
                return fail(p, "bad repetition count");
            max = min;
            if (peek(p) == ',') {
                p->pos++;
                if (peek(p) == '}')
                    max = REPEAT_INF;
                else if (!parse_count(p, &max) || max < min)
                    return fail(p, "bad repetition count");
            }
            if (peek(p) != '}')
                return fail(p, "missing '}'");
            p->pos++;
        } else {
            break;
        }
        enum node_kind k = p->nodes.v[*out].kind;
        if (k == N_BOL || k == N_EOL || k == N_LOOK)
            return fail(p, "quantified anchor or lookahead");
        if (peek(p) == '?')
            p->pos++; /* lazy: the same strings match */
        else if (peek(p) == '+')
            return fail(p, "possessive quantifiers are not supported");
        int r = node_new(p, N_REPEAT);
        p->nodes.v[r].a = *out;
        p->nodes.v[r].min = min;
        p->nodes.v[r].max = max;
        *out = r;
    }
    return 0;
}

static int parse_cat(struct parser *p, int *out)
{
    int cur = -1;
    while (!at_end(p) && p->s[p->pos] != '|' && p->s[p->pos] != ')') {
        int n = -1;
        int rc = parse_repeat(p, &n);
        if (rc)
            return rc;
        if (cur < 0) {
            cur = n;
        } else {
            int c = node_new(p, N_CAT);
            p->nodes.v[c].a = cur;
            p->nodes.v[c].b = n;
            cur = c;
        }
    }
    *out = cur >= 0 ? cur : node_new(p, N_EMPTY);
    return 0;
}

static int parse_alt(struct parser *p, int *out)
{
    int rc = parse_cat(p, out);
    if (rc)
        return rc;
    while (peek(p) == '|') {
        p->pos++;
        int rhs;
        rc = parse_cat(p, &rhs);
        if (rc)
            return rc;
        int a = node_new(p, N_ALT);
        p->nodes.v[a].a = *out;
        p->nodes.v[a].b = rhs;
        *out = a;
    }
    return 0;
}

/* ---- Compiler: syntax tree -> programs -------------------------------------------------- */

enum op {
    I_CHAR,
    I_CLASS,
    I_ANY,
    I_SPLIT,
    I_JMP,
    I_BOL,
    I_EOL,
    I_LOOK,
    I_MATCH,
};

struct inst {
    unsigned char op;
    bool neg;   /* I_LOOK */
    int x, y;   /* jump targets; I_CLASS: class; I_LOOK: program */
    unsigned c; /* I_CHAR */
};

struct prog {
    VEC(struct inst) code;
};

struct aws_regex {
    VEC(struct prog) progs; /* [0] is the pattern; the others are lookahead bodies */
    VEC(struct cls) classes;
};

struct compiler {
    const struct parser *p;
    struct aws_regex *re;
    size_t total; /* instructions over all programs */
    struct diag *d;
};

static int emit(struct compiler *c, int prog, struct inst in)
{
    if (++c->total > AWS_REGEX_PROGRAM_MAX)
        return diag_set(c->d, -ERR_TOO_BIG, 0, "pattern expands to more than %d instructions",
                        AWS_REGEX_PROGRAM_MAX);
    VEC_PUSH(&c->re->progs.v[prog].code, in);
    return (int)c->re->progs.v[prog].code.n - 1;
}

static struct inst *at(struct compiler *c, int prog, int pc)
{
    return &c->re->progs.v[prog].code.v[pc];
}

static int pc_next(struct compiler *c, int prog)
{
    return (int)c->re->progs.v[prog].code.n;
}

static int gen(struct compiler *c, int prog, int node);

static int new_prog(struct compiler *c, int node, int *index)
{
    struct prog pr = { 0 };
    VEC_PUSH(&c->re->progs, pr);
    *index = (int)c->re->progs.n - 1;
    int rc = gen(c, *index, node);
    if (rc < 0)
        return rc;
    rc = emit(c, *index, (struct inst){ .op = I_MATCH });
    return rc < 0 ? rc : 0;
}

/* x? and x*: SPLIT over the body, a JMP back for the star. */
static int gen_optional(struct compiler *c, int prog, int body, bool loop)
{
    int split = emit(c, prog, (struct inst){ .op = I_SPLIT });
    if (split < 0)
        return split;
    int rc = gen(c, prog, body);
    if (rc < 0)
        return rc;
    if (loop) {
        rc = emit(c, prog, (struct inst){ .op = I_JMP, .x = split });
        if (rc < 0)
            return rc;
    }
    at(c, prog, split)->x = split + 1;
    at(c, prog, split)->y = pc_next(c, prog);
    return 0;
}

static int gen(struct compiler *c, int prog, int node)
{
    const struct node *n = &c->p->nodes.v[node];
    int rc;
    switch (n->kind) {
    case N_EMPTY:
        return 0;
    case N_CHAR:
        rc = emit(c, prog, (struct inst){ .op = I_CHAR, .c = n->cp });
        return rc < 0 ? rc : 0;
    case N_CLASS:
        rc = emit(c, prog, (struct inst){ .op = I_CLASS, .x = n->cls });
        return rc < 0 ? rc : 0;
    case N_ANY:
        rc = emit(c, prog, (struct inst){ .op = I_ANY });
        return rc < 0 ? rc : 0;
    case N_BOL:
        rc = emit(c, prog, (struct inst){ .op = I_BOL });
        return rc < 0 ? rc : 0;
    case N_EOL:
        rc = emit(c, prog, (struct inst){ .op = I_EOL });
        return rc < 0 ? rc : 0;
    case N_CAT:
        rc = gen(c, prog, n->a);
        return rc < 0 ? rc : gen(c, prog, n->b);
    case N_ALT: {
        int split = emit(c, prog, (struct inst){ .op = I_SPLIT });
        if (split < 0)
            return split;
        rc = gen(c, prog, n->a);
        if (rc < 0)
            return rc;
        int jmp = emit(c, prog, (struct inst){ .op = I_JMP });
        if (jmp < 0)
            return jmp;
        at(c, prog, split)->x = split + 1;
        at(c, prog, split)->y = pc_next(c, prog);
        rc = gen(c, prog, n->b);
        if (rc < 0)
            return rc;
        at(c, prog, jmp)->x = pc_next(c, prog);
        return 0;
    }
    case N_REPEAT: {
        for (int i = 0; i < n->min; i++) {
            rc = gen(c, prog, n->a);
            if (rc < 0)
                return rc;
        }
        if (n->max == REPEAT_INF)
            return gen_optional(c, prog, n->a, true);
        for (int i = n->min; i < n->max; i++) {
            rc = gen_optional(c, prog, n->a, false);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    case N_LOOK: {
        int sub;
        rc = new_prog(c, n->a, &sub);
        if (rc < 0)
            return rc;
        rc = emit(c, prog, (struct inst){ .op = I_LOOK, .x = sub, .neg = n->neg });
        return rc < 0 ? rc : 0;
    }
    }
    return -ERR_INVALID;
}

void aws_regex_free(struct aws_regex *re)
{
    if (!re)
        return;
    for (size_t i = 0; i < re->progs.n; i++)
        VEC_FREE(&re->progs.v[i].code);
    VEC_FREE(&re->progs);
    for (size_t i = 0; i < re->classes.n; i++)
        VEC_FREE(&re->classes.v[i].ranges);
    VEC_FREE(&re->classes);
    free(re);
}

int aws_regex_compile(const char *pattern, struct aws_regex **out, struct diag *d)
{
    *out = NULL;
    struct parser p = { .s = pattern, .len = strlen(pattern), .d = d };
    if (p.len > AWS_REGEX_PATTERN_MAX)
        return diag_set(d, -ERR_TOO_BIG, 0, "pattern longer than %d bytes", AWS_REGEX_PATTERN_MAX);
    int root;
    int rc = parse_alt(&p, &root);
    if (rc == 0 && !at_end(&p))
        rc = fail(&p, "unbalanced ')'");
    struct aws_regex *re = xcalloc(1, sizeof(*re));
    /* the classes move to the program whatever happens, so one release path frees them */
    re->classes.v = p.classes.v;
    re->classes.n = p.classes.n;
    re->classes.cap = p.classes.cap;
    if (rc == 0) {
        struct compiler c = { .p = &p, .re = re, .d = d };
        int main_prog;
        rc = new_prog(&c, root, &main_prog);
    }
    VEC_FREE(&p.nodes);
    if (rc) {
        aws_regex_free(re);
        return rc;
    }
    *out = re;
    return 0;
}

/* ---- Matcher: Pike VM ------------------------------------------------------------------- */

struct run {
    const struct aws_regex *re;
    const char *s;
    size_t len;
    signed char **memo; /* per program: lookahead result at each position (0 unknown, 1, -1) */
};

struct threads {
    int *pc;
    size_t n;
};

static bool at_eol(const char *s, size_t len, size_t pos)
{
    size_t rest = len - pos;
    const char *r = s + pos;
    if (rest == 0)
        return true;
    /* Java's '$' also matches before a line terminator that ends the input */
    return (rest == 1 && (r[0] == '\n' || r[0] == '\r')) ||
           (rest == 2 && memcmp(r, "\r\n", 2) == 0) ||
           (rest == 2 && memcmp(r, "\xc2\x85", 2) == 0) ||
           (rest == 3 && (memcmp(r, "\xe2\x80\xa8", 3) == 0 || memcmp(r, "\xe2\x80\xa9", 3) == 0));
}

static bool run_prog(struct run *r, int prog, size_t start, bool whole);

static bool look(struct run *r, int prog, size_t pos)
{
    if (!r->memo) {
        r->memo = xcalloc(r->re->progs.n, sizeof(*r->memo));
    }
    if (!r->memo[prog])
        r->memo[prog] = xcalloc(r->len + 1, 1);
    signed char *m = &r->memo[prog][pos];
    if (*m == 0)
        *m = run_prog(r, prog, pos, false) ? 1 : -1;
    return *m > 0;
}

/* Follow the empty transitions from pc at pos, adding the consuming instructions reached to
 * t. Returns true when MATCH is reached. */
static bool add_thread(struct run *r, int prog, struct threads *t, unsigned *mark, unsigned gen,
                       int *stack, int pc0, size_t pos)
{
    const struct inst *code = r->re->progs.v[prog].code.v;
    bool matched = false;
    int sp = 0;
    stack[sp++] = pc0;
    while (sp > 0) {
        int pc = stack[--sp];
        if (mark[pc] == gen)
            continue;
        mark[pc] = gen;
        const struct inst *in = &code[pc];
        switch (in->op) {
        case I_JMP:
            stack[sp++] = in->x;
            break;
        case I_SPLIT:
            stack[sp++] = in->y;
            stack[sp++] = in->x;
            break;
        case I_BOL:
            if (pos == 0)
                stack[sp++] = pc + 1;
            break;
        case I_EOL:
            if (at_eol(r->s, r->len, pos))
                stack[sp++] = pc + 1;
            break;
        case I_LOOK:
            if (look(r, in->x, pos) != in->neg)
                stack[sp++] = pc + 1;
            break;
        case I_MATCH:
            matched = true;
            break;
        default:
            t->pc[t->n++] = pc;
            break;
        }
    }
    return matched;
}

static bool is_line_terminator(unsigned cp)
{
    return cp == '\n' || cp == '\r' || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

/* whole: the match must end at the end of the input (the pattern itself); otherwise any
 * match starting at `start` will do (a lookahead body). */
static bool run_prog(struct run *r, int prog, size_t start, bool whole)
{
    const struct inst *code = r->re->progs.v[prog].code.v;
    size_t ninst = r->re->progs.v[prog].code.n;
    int *buf = xmalloc(sizeof(int) * (4 * ninst + 2));
    unsigned *mark = xcalloc(ninst, sizeof(unsigned));
    struct threads cur = { buf, 0 }, next = { buf + ninst, 0 };
    int *stack = buf + 2 * ninst;
    unsigned gen = 1;
    bool result = false;
    size_t pos = start;

    bool matched = add_thread(r, prog, &cur, mark, gen, stack, 0, pos);
    for (;;) {
        if (matched && (!whole || pos == r->len)) {
            result = true;
            break;
        }
        if (pos >= r->len || cur.n == 0)
            break;
        unsigned cp;
        int k = aws_utf8_decode(r->s + pos, r->len - pos, &cp);
        if (k == 0)
            break; /* not UTF-8: nothing matches */
        gen++;
        next.n = 0;
        matched = false;
        for (size_t i = 0; i < cur.n; i++) {
            const struct inst *in = &code[cur.pc[i]];
            bool ok;
            switch (in->op) {
            case I_CHAR:
                ok = cp == in->c;
                break;
            case I_CLASS:
                ok = cls_match(&r->re->classes.v[in->x], cp);
                break;
            case I_ANY:
                ok = !is_line_terminator(cp);
                break;
            default:
                ok = false;
                break;
            }
            if (ok && add_thread(r, prog, &next, mark, gen, stack, cur.pc[i] + 1, pos + (size_t)k))
                matched = true;
        }
        struct threads tmp = cur;
        cur = next;
        next = tmp;
        pos += (size_t)k;
    }
    free(mark);
    free(buf);
    return result;
}

bool aws_regex_match(const struct aws_regex *re, const char *s, size_t len)
{
    struct run r = { .re = re, .s = s, .len = len };
    bool ok = run_prog(&r, 0, 0, true);
    if (r.memo) {
        for (size_t i = 0; i < re->progs.n; i++)
            free(r.memo[i]);
        free(r.memo);
    }
    return ok;
}
