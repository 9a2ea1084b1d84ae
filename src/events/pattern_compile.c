/* SPDX-License-Identifier: Apache-2.0 */
/* Event-pattern compiler and validator. It reads the pattern token by token the way
 * event-ruler's JsonRuleCompiler drives Jackson, so that every refusal carries EventBridge's
 * reason and Jackson's location (the character after the last token read), and it expands
 * $or into sub-rules exactly as that compiler does (later duplicate paths override). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/xalloc.h"
#include "events/jscan.h"
#include "events/pattern.h"
#include "events/pattern_internal.h"

#define REASON_PREFIX "Event pattern is not valid. Reason: "
/* Wildcard values whose worst case keeps more than this alive are "too complex". EventBridge
 * does not publish its limit: 12 refuses the refusal AWS recorded (five stars each followed by
 * ':', measured 13) and accepts the repeating case AWS accepted ("/Users/" star, then
 * "/dir" five times, measured 8). */
#define WC_MAX_COMPLEXITY 12

enum tk {
    TK_NONE, /* end of input */
    TK_START_OBJECT,
    TK_END_OBJECT,
    TK_START_ARRAY,
    TK_END_ARRAY,
    TK_FIELD_NAME,
    TK_STRING,
    TK_INT,
    TK_FLOAT,
    TK_TRUE,
    TK_FALSE,
    TK_NULL
};

/* How a refusal is located, mirroring where the Java code raised it. */
enum loc_mode {
    LOC_NONE, /* IllegalArgumentException escaping the compiler: no location */
    LOC_ONE,  /* JsonParseException: one "at [Source...]" */
    LOC_TWO   /* a JsonParseException caught and raised again: the location twice */
};

struct fld {
    struct str path;
    const struct pvals *vals;
};

struct bsub {
    struct fld *f;
    size_t n, cap;
};

struct rules {
    struct bsub *v;
    size_t n, cap;
};

struct comp {
    const char *s;
    size_t n;
    size_t pos; /* Jackson's current location: just past what has been read */
    struct arena *a;
    jmp_buf jb;
    /* token state */
    enum tk cur;
    bool incomplete; /* cur is TK_STRING and only its opening quote has been read */
    struct str text; /* field name, finished string or number text */
    enum tk pending; /* the value token read ahead after a field name */
    bool pending_incomplete;
    struct str pending_text;
    int depth;
    char ctx[PATTERN_MAX_DEPTH + 2]; /* 'o' or 'a' */
    size_t ctx_start[PATTERN_MAX_DEPTH + 2];
    bool need_comma[PATTERN_MAX_DEPTH + 2];
    bool root_done;
    /* path being compiled, joined with '.' */
    char *path;
    size_t path_len, path_cap;
    /* error */
    char reason[1024];
    size_t err_pos;
    enum loc_mode err_loc;
    size_t nsubs_total;
};

/* ---- errors ------------------------------------------------------------------------------- */

static _Noreturn void fail_at(struct comp *c, enum loc_mode loc, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static _Noreturn void fail_at(struct comp *c, enum loc_mode loc, size_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
    va_end(ap);
    c->err_loc = loc;
    c->err_pos = pos;
    longjmp(c->jb, 1);
}

/* barf(parser, msg): a JsonParseException at the current location */
#define barf(c, ...)  fail_at((c), LOC_ONE, (c)->pos, __VA_ARGS__)
#define barf2(c, ...) fail_at((c), LOC_TWO, (c)->pos, __VA_ARGS__)
#define iae(c, ...)   fail_at((c), LOC_NONE, (c)->pos, __VA_ARGS__)

/* Jackson's description of an unexpected character: 'x' (code 120), or (CTRL-CHAR, code 1). */
static void char_desc(const struct comp *c, size_t at, char *out, size_t outsz)
{
    unsigned char b = (unsigned char)c->s[at];
    uint32_t cp = b;
    if (b >= 0x80) {
        /* decode one UTF-8 sequence for the message */
        size_t len = (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 : (b & 0xf8) == 0xf0 ? 4 : 1;
        cp = len == 2 ? b & 0x1f : len == 3 ? b & 0x0f : b & 0x07;
        for (size_t i = 1; i < len && at + i < c->n; i++)
            cp = (cp << 6) | ((unsigned char)c->s[at + i] & 0x3f);
        if (len == 1)
            cp = b;
        size_t l = len <= c->n - at ? len : 1;
        if (cp > 255)
            snprintf(out, outsz, "'%.*s' (code %u / 0x%x)", (int)l, c->s + at, cp, cp);
        else
            snprintf(out, outsz, "'%.*s' (code %u)", (int)l, c->s + at, cp);
        return;
    }
    if (b < 0x20 || b == 0x7f)
        snprintf(out, outsz, "(CTRL-CHAR, code %u)", cp);
    else
        snprintf(out, outsz, "'%c' (code %u)", b, cp);
}

static _Noreturn void unexpected(struct comp *c, size_t at, const char *what)
{
    char d[64];
    char_desc(c, at, d, sizeof(d));
    fail_at(c, LOC_ONE, at, "Unexpected character (%s): %s", d, what);
}

/* Append Jackson's " at [Source: (String)\"...\"; line: L, column: C]" for byte offset pos. */
static void append_location(struct buf *b, const char *s, size_t n, size_t pos)
{
    /* the source, cut after 500 characters (UTF-16 units, as Java counts) */
    size_t units = 0, cut = n;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch & 0xc0) == 0x80)
            continue;
        if (units == 500 && cut == n)
            cut = i;
        units += ch >= 0xf0 ? 2 : 1;
    }
    buf_append_cstr(b, "\n at [Source: (String)\"");
    buf_append(b, s, cut);
    buf_putc(b, '"');
    if (cut < n)
        buf_printf(b, "[truncated %zu chars]", units - 500);
    /* line and column of pos */
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n' || (ch == '\r' && !(i + 1 < n && s[i + 1] == '\n'))) {
            line++;
            col = 1;
        } else if ((ch & 0xc0) != 0x80) {
            col += ch >= 0xf0 ? 2 : 1;
        }
    }
    buf_printf(b, "; line: %zu, column: %zu]", line, col);
}

/* ---- tokens (Jackson's ReaderBasedJsonParser as seen from JsonRuleCompiler) --------------- */

static void skip_ws(struct comp *c)
{
    while (c->pos < c->n) {
        char ch = c->s[c->pos];
        if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
            break;
        c->pos++;
    }
}

static _Noreturn void eof_in_context(struct comp *c)
{
    /* "expected close marker for Object (start marker at [Source...; line: 1, column: 1])" */
    struct buf b;
    buf_init(&b, 1 << 16);
    int d = c->depth - 1;
    buf_printf(&b, "Unexpected end-of-input: expected close marker for %s (start marker at",
               c->ctx[d] == 'o' ? "Object" : "Array");
    append_location(&b, c->s, c->n, c->ctx_start[d]);
    /* Jackson writes the start marker as " [Source...])", without the line break */
    const char *t = buf_cstr(&b);
    const char *at = strstr(t, "\n at ");
    struct buf o;
    buf_init(&o, 1 << 16);
    if (at) {
        buf_append(&o, t, (size_t)(at - t));
        buf_putc(&o, ' ');
        buf_append_cstr(&o, at + 5);
    } else {
        buf_append_cstr(&o, t);
    }
    buf_putc(&o, ')');
    buf_release(&b);
    char out[sizeof(c->reason)];
    snprintf(out, sizeof(out), "%s", buf_cstr(&o));
    buf_release(&o);
    fail_at(c, LOC_ONE, c->n, "%s", out);
}

static void push_ctx(struct comp *c, char kind, size_t start)
{
    if (c->depth >= PATTERN_MAX_DEPTH)
        fail_at(c, LOC_ONE, c->pos, "Document nesting depth (%d) exceeds the maximum allowed (%d)",
                c->depth + 1, PATTERN_MAX_DEPTH);
    c->ctx[c->depth] = kind;
    c->ctx_start[c->depth] = start;
    c->need_comma[c->depth] = false;
    c->depth++;
}

/* Read a JSON string whose opening quote is at c->pos - 1; leaves pos after the closing quote.
 * The unescaped text goes to the arena. */
static struct str read_string(struct comp *c, bool field_name)
{
    size_t start = c->pos;
    /* fast path: no escapes */
    size_t i = start;
    while (i < c->n && c->s[i] != '"' && c->s[i] != '\\' && (unsigned char)c->s[i] >= 0x20)
        i++;
    if (i < c->n && c->s[i] == '"') {
        c->pos = i + 1;
        return str_make(arena_strndup(c->a, c->s + start, i - start), i - start);
    }
    char *out = arena_alloc(c->a, (c->n - start) * 2 + 4);
    size_t k = 0;
    i = start;
    for (;;) {
        if (i >= c->n) {
            c->pos = c->n;
            if (field_name)
                fail_at(c, LOC_ONE, c->n, "Unexpected end-of-input in field name");
            fail_at(c, LOC_ONE, c->n,
                    "Unexpected end-of-input: was expecting closing quote for a string value");
        }
        unsigned char ch = (unsigned char)c->s[i];
        if (ch == '"') {
            i++;
            break;
        }
        if (ch < 0x20) {
            c->pos = i + 1;
            fail_at(c, LOC_ONE, i + 1,
                    "Illegal unquoted character ((CTRL-CHAR, code %u)): has to be escaped using "
                    "backslash to be included in %s",
                    ch, field_name ? "name" : "string value");
        }
        if (ch != '\\') {
            out[k++] = (char)ch;
            i++;
            continue;
        }
        i++;
        if (i >= c->n)
            continue; /* reported as end-of-input above */
        char e = c->s[i++];
        int plain = jscan_escape_char(e);
        if (plain >= 0) {
            out[k++] = (char)plain;
            continue;
        }
        if (e != 'u') {
            c->pos = i;
            char d[64];
            char_desc(c, i - 1, d, sizeof(d));
            /* "Unrecognized character escape 'x' (code 120)" */
            fail_at(c, LOC_ONE, i, "Unrecognized character escape %s", d);
        }
        uint32_t v = 0;
        for (int j = 0; j < 4; j++) {
            if (i >= c->n)
                fail_at(c, LOC_ONE, c->n, "Unexpected end-of-input in character escape sequence");
            int h = jscan_hexv(c->s[i]);
            if (h < 0) {
                c->pos = i + 1;
                unexpected(c, i, "expected a hex-digit for character escape sequence");
            }
            v = v * 16 + (uint32_t)h;
            i++;
        }
        /* a surrogate pair written as two escapes becomes one character */
        i += jscan_surrogate_pair(c->s + i, c->n - i, &v);
        k += jscan_put_utf8(v, out + k);
    }
    c->pos = i;
    out[k] = '\0';
    return str_make(out, k);
}

static bool ident_part(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '$' || (unsigned char)ch >= 0x80;
}

static _Noreturn void bad_token(struct comp *c, size_t start)
{
    size_t i = start;
    while (i < c->n && ident_part(c->s[i]) && i - start < 256)
        i++;
    if (i == start)
        i++;
    c->pos = i;
    fail_at(c, LOC_ONE, i,
            "Unrecognized token '%.*s': was expecting (JSON String, Number, Array, Object or "
            "token 'null', 'true' or 'false')",
            (int)(i - start), c->s + start);
}

static enum tk read_number(struct comp *c)
{
    size_t st = c->pos, i = st;
    bool flt = false;
    if (c->s[i] == '-') {
        i++;
        if (i >= c->n || c->s[i] < '0' || c->s[i] > '9') {
            if (i >= c->n)
                fail_at(c, LOC_ONE, c->n, "Unexpected end-of-input in a Number value");
            c->pos = i + 1;
            unexpected(c, i, "expected digit (0-9) to follow minus sign, for valid numeric value");
        }
    }
    if (c->s[i] == '0' && i + 1 < c->n && c->s[i + 1] >= '0' && c->s[i + 1] <= '9') {
        c->pos = i + 2;
        fail_at(c, LOC_ONE, i + 2, "Invalid numeric value: Leading zeroes not allowed");
    }
    while (i < c->n && c->s[i] >= '0' && c->s[i] <= '9')
        i++;
    if (i < c->n && c->s[i] == '.') {
        flt = true;
        i++;
        size_t d = i;
        while (i < c->n && c->s[i] >= '0' && c->s[i] <= '9')
            i++;
        if (i == d) {
            if (i >= c->n)
                fail_at(c, LOC_ONE, c->n, "Unexpected end-of-input in a Number value");
            c->pos = i + 1;
            char dsc[64];
            char_desc(c, i, dsc, sizeof(dsc));
            fail_at(c, LOC_ONE, i + 1,
                    "Unexpected character (%s) in numeric value: Decimal point not followed by "
                    "a digit",
                    dsc);
        }
    }
    if (i < c->n && (c->s[i] == 'e' || c->s[i] == 'E')) {
        flt = true;
        i++;
        if (i < c->n && (c->s[i] == '+' || c->s[i] == '-'))
            i++;
        size_t d = i;
        while (i < c->n && c->s[i] >= '0' && c->s[i] <= '9')
            i++;
        if (i == d) {
            if (i >= c->n)
                fail_at(c, LOC_ONE, c->n, "Unexpected end-of-input in a Number value");
            c->pos = i + 1;
            char dsc[64];
            char_desc(c, i, dsc, sizeof(dsc));
            fail_at(c, LOC_ONE, i + 1,
                    "Unexpected character (%s) in numeric value: Exponent indicator not followed "
                    "by a digit",
                    dsc);
        }
    }
    c->pos = i;
    c->text = str_make(c->s + st, i - st);
    return flt ? TK_FLOAT : TK_INT;
}

/* Start of a value at c->pos (whitespace skipped). Strings are left incomplete. */
static enum tk read_value(struct comp *c, bool *incomplete)
{
    *incomplete = false;
    if (c->pos >= c->n) {
        if (c->depth > 0)
            eof_in_context(c);
        return TK_NONE;
    }
    if (c->depth > 0)
        c->need_comma[c->depth - 1] = true;
    size_t st = c->pos;
    char ch = c->s[st];
    switch (ch) {
    case '"':
        c->pos++;
        *incomplete = true;
        return TK_STRING;
    case '[':
        c->pos++;
        push_ctx(c, 'a', st);
        return TK_START_ARRAY;
    case '{':
        c->pos++;
        push_ctx(c, 'o', st);
        return TK_START_OBJECT;
    case 't':
    case 'f':
    case 'n': {
        const char *word = ch == 't' ? "true" : ch == 'f' ? "false" : "null";
        size_t wl = strlen(word);
        if (c->n - st >= wl && memcmp(c->s + st, word, wl) == 0 &&
            !(st + wl < c->n && ident_part(c->s[st + wl]))) {
            c->pos = st + wl;
            c->text = str_make(word, wl);
            return ch == 't' ? TK_TRUE : ch == 'f' ? TK_FALSE : TK_NULL;
        }
        bad_token(c, st);
    }
    case ']':
    case '}':
        c->pos = st + 1;
        unexpected(c, st, "expected a value");
    default:
        if (ch == '-' || (ch >= '0' && ch <= '9'))
            return read_number(c);
        if (ident_part(ch))
            bad_token(c, st);
        c->pos = st + 1;
        unexpected(c, st,
                   "expected a valid value (JSON String, Number, Array, Object or token 'null', "
                   "'true' or 'false')");
    }
}

/* parser.nextToken() */
static enum tk next(struct comp *c)
{
    if (c->cur == TK_STRING && c->incomplete) {
        (void)read_string(c, false); /* skipping the rest still validates it */
        c->incomplete = false;
    }
    if (c->pending != TK_NONE) {
        c->cur = c->pending;
        c->incomplete = c->pending_incomplete;
        c->text = c->pending_text;
        c->pending = TK_NONE;
        return c->cur;
    }
    if (c->depth == 0) {
        if (c->root_done)
            return c->cur = TK_NONE;
        skip_ws(c);
        c->root_done = true;
        c->cur = read_value(c, &c->incomplete);
        return c->cur;
    }
    int d = c->depth - 1;
    skip_ws(c);
    if (c->pos >= c->n)
        eof_in_context(c);
    char ch = c->s[c->pos];
    bool in_obj = c->ctx[d] == 'o';
    if (c->need_comma[d]) {
        if (ch == (in_obj ? '}' : ']')) {
            c->pos++;
            c->depth--;
            return c->cur = in_obj ? TK_END_OBJECT : TK_END_ARRAY;
        }
        if (ch != ',') {
            c->pos++;
            unexpected(c, c->pos - 1,
                       in_obj ? "was expecting comma to separate Object entries"
                              : "was expecting comma to separate Array entries");
        }
        c->pos++;
        skip_ws(c);
        if (c->pos >= c->n)
            eof_in_context(c);
        ch = c->s[c->pos];
    } else if (ch == (in_obj ? '}' : ']')) {
        c->pos++;
        c->depth--;
        return c->cur = in_obj ? TK_END_OBJECT : TK_END_ARRAY;
    }
    if (!in_obj) {
        c->cur = read_value(c, &c->incomplete);
        return c->cur;
    }
    /* a field name, its colon, and a look at its value */
    if (ch != '"') {
        c->pos++;
        unexpected(c, c->pos - 1, "was expecting double-quote to start field name");
    }
    c->pos++;
    struct str name = read_string(c, true);
    skip_ws(c);
    if (c->pos >= c->n)
        eof_in_context(c);
    if (c->s[c->pos] != ':') {
        c->pos++;
        unexpected(c, c->pos - 1, "was expecting a colon to separate field name and value");
    }
    c->pos++;
    skip_ws(c);
    c->need_comma[d] = true;
    c->pending = read_value(c, &c->pending_incomplete);
    c->pending_text = c->text;
    c->text = name;
    c->incomplete = false;
    return c->cur = TK_FIELD_NAME;
}

/* parser.getText() */
static struct str text(struct comp *c)
{
    switch (c->cur) {
    case TK_STRING:
        if (c->incomplete) {
            c->text = read_string(c, false);
            c->incomplete = false;
        }
        return c->text;
    case TK_FIELD_NAME:
    case TK_INT:
    case TK_FLOAT:
    case TK_TRUE:
    case TK_FALSE:
    case TK_NULL:
        return c->text;
    case TK_START_OBJECT:
        return STR_LIT("{");
    case TK_END_OBJECT:
        return STR_LIT("}");
    case TK_START_ARRAY:
        return STR_LIT("[");
    case TK_END_ARRAY:
        return STR_LIT("]");
    case TK_NONE:
        break;
    }
    return STR_LIT("null");
}

static bool is_numeric(enum tk t)
{
    return t == TK_INT || t == TK_FLOAT;
}

static bool str_is(struct str s, const char *lit)
{
    return str_eq_cstr(s, lit);
}

/* ---- values ------------------------------------------------------------------------------- */

struct pmvec {
    struct pm *v;
    size_t n, cap;
};

static struct pm *pm_push(struct comp *c, struct pmvec *pv)
{
    if (pv->n == pv->cap) {
        size_t cap = pv->cap ? pv->cap * 2 : 4;
        struct pm *nv = arena_alloc(c->a, cap * sizeof(*nv));
        if (pv->n)
            memcpy(nv, pv->v, pv->n * sizeof(*nv));
        pv->v = nv;
        pv->cap = cap;
    }
    struct pm *m = &pv->v[pv->n++];
    memset(m, 0, sizeof(*m));
    return m;
}

static struct str dup_str(struct comp *c, struct str s)
{
    return arena_str(c->a, s);
}

static struct str fold_str(struct comp *c, struct str s)
{
    char *out = arena_alloc(c->a, s.len * 4 + 1);
    size_t n = fold_case(s.ptr, s.len, out);
    out[n] = '\0';
    return str_make(out, n);
}

/* ComparableNumber.generate(text) for a pattern operand: refusals as event-ruler words them. */
/* A JSON number as Java's BigDecimal sees it after stripTrailingZeros(): significant digits
 * (no leading zeros; "0" for zero), sign and scale (digits right of the point; negative for
 * trailing powers of ten). */
struct bigdec {
    char digits[64];
    size_t n;
    bool neg;
    long scale;
};

static bool bigdec_parse(struct str t, struct bigdec *b)
{
    memset(b, 0, sizeof(*b));
    size_t i = 0;
    long frac = 0, exp = 0;
    if (i < t.len && t.ptr[i] == '-') {
        b->neg = true;
        i++;
    }
    for (; i < t.len && ((t.ptr[i] >= '0' && t.ptr[i] <= '9') || t.ptr[i] == '.'); i++) {
        if (t.ptr[i] == '.') {
            frac = -1; /* counting starts after the point */
            continue;
        }
        if (frac < 0 || frac > 0)
            frac = frac < 0 ? 1 : frac + 1;
        if (b->n == 0 && t.ptr[i] == '0')
            continue;
        if (b->n >= sizeof(b->digits) - 1)
            return false;
        b->digits[b->n++] = t.ptr[i];
    }
    if (frac < 0)
        frac = 0;
    if (i < t.len && (t.ptr[i] == 'e' || t.ptr[i] == 'E')) {
        i++;
        bool en = false;
        if (i < t.len && (t.ptr[i] == '+' || t.ptr[i] == '-'))
            en = t.ptr[i++] == '-';
        for (; i < t.len && t.ptr[i] >= '0' && t.ptr[i] <= '9'; i++)
            if (exp < 100000)
                exp = exp * 10 + (t.ptr[i] - '0');
        if (en)
            exp = -exp;
    }
    b->scale = frac - exp;
    if (b->n == 0) {
        b->digits[b->n++] = '0';
        b->scale = 0;
        b->neg = false;
        return true;
    }
    while (b->n > 1 && b->digits[b->n - 1] == '0') {
        b->n--;
        b->scale--;
    }
    return true;
}

/* BigDecimal.toString() */
static void bigdec_string(const struct bigdec *b, struct buf *out)
{
    long adjusted = -b->scale + (long)b->n - 1;
    if (b->neg)
        buf_putc(out, '-');
    if (b->scale >= 0 && adjusted >= -6) {
        if (b->scale == 0) {
            buf_append(out, b->digits, b->n);
        } else if ((long)b->n > b->scale) {
            buf_append(out, b->digits, b->n - (size_t)b->scale);
            buf_putc(out, '.');
            buf_append(out, b->digits + b->n - (size_t)b->scale, (size_t)b->scale);
        } else {
            buf_append_cstr(out, "0.");
            for (long k = 0; k < b->scale - (long)b->n; k++)
                buf_putc(out, '0');
            buf_append(out, b->digits, b->n);
        }
        return;
    }
    buf_putc(out, b->digits[0]);
    if (b->n > 1) {
        buf_putc(out, '.');
        buf_append(out, b->digits + 1, b->n - 1);
    }
    buf_printf(out, "E%s%ld", adjusted >= 0 ? "+" : "", adjusted);
}

/* Double.toHexString() */
static void java_hex_double(double d, struct buf *out)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    if (bits >> 63)
        buf_putc(out, '-');
    uint64_t frac = bits & ((1ull << 52) - 1);
    int e = (int)((bits >> 52) & 0x7ff);
    if (e == 0 && frac == 0) {
        buf_append_cstr(out, "0x0.0p0");
        return;
    }
    char hex[16];
    snprintf(hex, sizeof(hex), "%013llx", (unsigned long long)frac);
    size_t hl = 13;
    while (hl > 1 && hex[hl - 1] == '0')
        hl--;
    buf_printf(out, "0x%c.%.*sp%d", e == 0 ? '0' : '1', (int)hl, hex, e == 0 ? -1022 : e - 1023);
}

/* ComparableNumber.generate(text) for a pattern operand: refusals as event-ruler words them. */
static int64_t pattern_number(struct comp *c, struct str t, enum loc_mode loc)
{
    int64_t v;
    if (pnum_parse(t.ptr, t.len, &v))
        return v;
    struct bigdec b;
    if (bigdec_parse(t, &b) && b.scale > 6) {
        /* "...supported" + number + " " + text + " " + the number rounded half up to six
         * decimals, as a hexadecimal double */
        struct bigdec r = b;
        long drop = b.scale - 6;
        char rounded[80];
        size_t keep = (long)b.n > drop ? b.n - (size_t)drop : 0;
        bool up = (long)b.n >= drop && b.digits[b.n - (size_t)drop] >= '5';
        memcpy(rounded, b.digits, keep);
        size_t rl = keep;
        if (rl == 0)
            rounded[rl++] = '0';
        if (up) {
            size_t k = rl;
            while (k > 0 && rounded[k - 1] == '9')
                rounded[--k] = '0';
            if (k == 0) {
                memmove(rounded + 1, rounded, rl++);
                rounded[0] = '1';
            } else {
                rounded[k - 1]++;
            }
        }
        rounded[rl] = '\0';
        /* BigDecimal has no negative zero */
        bool zero = strspn(rounded, "0") == rl;
        char num[128];
        snprintf(num, sizeof(num), "%s%sE-6", b.neg && !zero ? "-" : "", rounded);
        struct buf m;
        buf_init(&m, 4096);
        bigdec_string(&r, &m);
        buf_putc(&m, ' ');
        buf_append(&m, t.ptr, t.len);
        buf_putc(&m, ' ');
        java_hex_double(strtod(num, NULL), &m);
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", buf_cstr(&m));
        buf_release(&m);
        fail_at(c, loc, c->pos, "Only values upto 6 decimals are supported%s", msg);
    }
    fail_at(c, loc, c->pos, "Value must be between -5.0E9 and 5.0E9, inclusive");
}

static void cidr_range(struct comp *c, struct str t, struct pm *m)
{
    /* String.split("/") drops trailing empty strings */
    size_t nparts = 1;
    for (size_t i = 0; i < t.len; i++)
        if (t.ptr[i] == '/')
            nparts++;
    size_t tl = t.len;
    while (nparts > 1 && tl > 0 && t.ptr[tl - 1] == '/') {
        tl--;
        nparts--;
    }
    if (tl == 0)
        nparts = 1;
    if (nparts != 2)
        iae(c, "Malformed CIDR, one '/' required");
    size_t slash = (size_t)str_chr(t, '/');
    struct str ip = str_make(t.ptr, slash);
    struct str bits = str_make(t.ptr + slash + 1, tl - slash - 1);
    /* Integer.parseInt */
    long mask = 0;
    size_t i = 0;
    bool neg = false;
    if (bits.len > 0 && (bits.ptr[0] == '-' || bits.ptr[0] == '+')) {
        neg = bits.ptr[0] == '-';
        i = 1;
    }
    if (i >= bits.len)
        iae(c, "Malformed CIDR, mask bits must be an integer");
    for (; i < bits.len; i++) {
        if (bits.ptr[i] < '0' || bits.ptr[i] > '9')
            iae(c, "Malformed CIDR, mask bits must be an integer");
        if (mask < 100000000000L)
            mask = mask * 10 + (bits.ptr[i] - '0');
    }
    if (mask > 2147483647L + (neg ? 1 : 0))
        iae(c, "Malformed CIDR, mask bits must be an integer");
    if (neg && mask > 0)
        iae(c, "Malformed CIDR, mask bits must not be negative");
    uint8_t addr[16];
    int len = 0;
    if (ip_looks_like(ip.ptr, ip.len)) {
        len = ip_parse(ip.ptr, ip.len, addr);
        if (len == 0)
            iae(c, "Invalid IP address: %.*s", (int)ip.len, ip.ptr);
    } else {
        iae(c, "Nonstandard IP address: %.*s", (int)ip.len, ip.ptr);
    }
    if (len == 4 && mask > 31)
        iae(c, "IPv4 mask bits must be < 32");
    if (len == 16 && mask > 127)
        iae(c, "IPv6 mask bits must be < 128");
    /* event-ruler's range runs from the address as written to the address with the host bits
     * set: "10.0.0.5/24" covers 10.0.0.5 .. 10.0.0.255 */
    m->kind = PM_IP_RANGE;
    m->ip_len = (uint8_t)len;
    memcpy(m->ip_lo, addr, (size_t)len);
    long host = len * 8 - mask;
    for (int b = len - 1; b >= 0; b--) {
        if (host >= 8)
            m->ip_hi[b] = 0xff;
        else if (host <= 0)
            m->ip_hi[b] = addr[b];
        else
            m->ip_hi[b] = (uint8_t)(addr[b] | ((1u << host) - 1));
        host -= 8;
    }
}

static void wildcard_value(struct comp *c, struct str v, struct wc *out)
{
    char msg[128];
    if (wc_compile(c->a, v, out, msg, sizeof(msg)) != 0)
        barf(c, "%s", msg);
    if (wc_complexity(out, WC_MAX_COMPLEXITY + 1) > WC_MAX_COMPLEXITY)
        iae(c, "Rule is too complex - try using fewer wildcard characters or fewer repeating "
               "character sequences after a wildcard character");
}

static void prefix_eic(struct comp *c, struct pm *m, bool suffix)
{
    if (next(c) != TK_FIELD_NAME)
        barf(c, suffix ? "Suffix expression name not found" : "Prefix expression name not found");
    struct str op = text(c);
    if (!str_is(op, "equals-ignore-case"))
        barf(c, suffix ? "Unsupported suffix pattern: %.*s" : "Unsupported prefix pattern: %.*s",
             (int)op.len, op.ptr);
    if (next(c) != TK_STRING)
        barf(c, "equals-ignore-case match pattern must be a string");
    m->kind = suffix ? PM_SUFFIX_EIC : PM_PREFIX_EIC;
    m->s = fold_str(c, text(c));
    if (next(c) != TK_END_OBJECT)
        barf(c, "Only one key allowed in match expression");
    if (next(c) != TK_END_OBJECT)
        barf(c, "Only one key allowed in match expression");
}

static void complete_range(struct comp *c, enum tk t, struct str bottom, bool open_bottom,
                           struct pm *m)
{
    if (t != TK_STRING)
        barf(c, "Bad value in numeric range: %.*s", STR_FMT(text(c)));
    struct str op = text(c);
    bool open_top = false;
    if (str_is(op, "<"))
        open_top = true;
    else if (!str_is(op, "<="))
        barf(c, "Bad numeric range operator: %.*s", STR_FMT(op));
    op = dup_str(c, op);
    if (!is_numeric(next(c)))
        barf(c, "Value of %.*s must be numeric", STR_FMT(op));
    struct str top = text(c);
    if (next(c) != TK_END_ARRAY)
        barf(c, "Too many terms in numeric range expression");
    m->lo = pattern_number(c, bottom, LOC_ONE);
    m->hi = pattern_number(c, top, LOC_ONE);
    m->lo_open = open_bottom;
    m->hi_open = open_top;
    if (m->lo >= m->hi)
        barf(c, "Bottom must be less than top");
}

static void numeric_expr(struct comp *c, struct pm *m)
{
    m->kind = PM_NUM_RANGE;
    m->lo = -PNUM_MAX;
    m->hi = PNUM_MAX;
    enum tk t = next(c);
    if (t != TK_STRING)
        barf(c, "Invalid member in numeric match: %.*s", STR_FMT(text(c)));
    struct str op = dup_str(c, text(c));
    t = next(c);
    if (str_is(op, "=")) {
        if (!is_numeric(t))
            barf(c, "Value of equals must be numeric");
        struct str v = text(c);
        if (next(c) != TK_END_ARRAY)
            barf(c, "Too many elements in numeric expression");
        m->lo = m->hi = pattern_number(c, v, LOC_ONE);
        return;
    }
    if (str_is(op, ">=") || str_is(op, ">")) {
        bool open = op.len == 1;
        if (!is_numeric(t))
            barf(c, "Value of %s must be numeric", open ? ">" : ">=");
        struct str v = text(c);
        t = next(c);
        if (t == TK_END_ARRAY) {
            m->lo = pattern_number(c, v, LOC_ONE);
            m->lo_open = open;
            if (m->lo >= m->hi)
                barf(c, "Bottom must be less than top");
            return;
        }
        complete_range(c, t, v, open, m);
        return;
    }
    if (str_is(op, "<=") || str_is(op, "<")) {
        bool open = op.len == 1;
        if (!is_numeric(t))
            barf(c, "Value of %s must be numeric", open ? "<" : "<=");
        struct str v = text(c);
        if (next(c) != TK_END_ARRAY)
            barf(c, "Too many elements in numeric expression");
        m->hi = pattern_number(c, v, LOC_ONE);
        m->hi_open = open;
        if (m->lo >= m->hi)
            barf(c, "Bottom must be less than top");
        return;
    }
    barf(c, "Unrecognized numeric range operator: %.*s", STR_FMT(op));
}

struct strvec {
    struct str *v;
    size_t n, cap;
};

static void sv_push(struct comp *c, struct strvec *sv, struct str s)
{
    /* a HashSet: duplicates collapse */
    for (size_t i = 0; i < sv->n; i++)
        if (str_eq(sv->v[i], s))
            return;
    if (sv->n == sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 4;
        struct str *nv = arena_alloc(c->a, cap * sizeof(*nv));
        if (sv->n)
            memcpy(nv, sv->v, sv->n * sizeof(*nv));
        sv->v = nv;
        sv->cap = cap;
    }
    sv->v[sv->n++] = s;
}

static const char *set_type_error(enum pm_kind k)
{
    if (k == PM_AB_EIC)
        return "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not "
               "supported.";
    if (k == PM_AB_WILDCARD)
        return "wildcard match pattern must be a string";
    return "prefix/suffix match pattern must be a string";
}

static struct str set_value(struct comp *c, enum pm_kind k, struct str t)
{
    if (k == PM_AB_EIC)
        return fold_str(c, t);
    return dup_str(c, t);
}

static void finish_set(struct comp *c, struct pm *m, struct strvec *sv)
{
    m->set = sv->v;
    m->nset = sv->n;
    if (m->kind == PM_AB_WILDCARD) {
        struct wc *w = arena_alloc(c->a, (sv->n ? sv->n : 1) * sizeof(*w));
        for (size_t i = 0; i < sv->n; i++)
            wildcard_value(c, sv->v[i], &w[i]);
        m->wc = w;
    }
}

static void num_push(struct comp *c, int64_t **v, size_t *n, size_t *cap, int64_t x)
{
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i] == x)
            return;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        int64_t *nv = arena_alloc(c->a, nc * sizeof(*nv));
        if (*n)
            memcpy(nv, *v, *n * sizeof(*nv));
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = x;
}

static void anything_but(struct comp *c, struct pm *m)
{
    enum pm_kind kind = PM_AB_STR;
    bool set_kind = false;
    enum tk t = next(c);
    if (t == TK_START_OBJECT) {
        if (next(c) != TK_FIELD_NAME)
            barf(c, "Anything-But expression name not found");
        struct str op = text(c);
        if (str_is(op, "equals-ignore-case"))
            kind = PM_AB_EIC;
        else if (str_is(op, "prefix"))
            kind = PM_AB_PREFIX;
        else if (str_is(op, "suffix"))
            kind = PM_AB_SUFFIX;
        else if (str_is(op, "wildcard"))
            kind = PM_AB_WILDCARD;
        else
            barf(c, "Unsupported anything-but pattern: %.*s", STR_FMT(op));
        set_kind = true;
        t = next(c);
    }
    if (t != TK_START_ARRAY && t != TK_STRING && !is_numeric(t))
        barf(c, "Value of anything-but must be an array or single string/number value.");
    struct strvec sv = { 0 };
    if (!set_kind) {
        /* strings or numbers, not both */
        bool has_num = false, has_str = false;
        struct {
            int64_t *v;
            size_t n, cap;
        } nums = { 0 }; /* in the arena: a refusal longjmps out of here */
        if (t == TK_START_ARRAY) {
            for (t = next(c); t != TK_END_ARRAY; t = next(c)) {
                if (t == TK_STRING) {
                    sv_push(c, &sv, dup_str(c, text(c)));
                    has_str = true;
                } else if (is_numeric(t)) {
                    int64_t v;
                    struct str nt = text(c);
                    if (!pnum_parse(nt.ptr, nt.len, &v)) {
                        (void)pattern_number(c, nt, LOC_ONE);
                    }
                    num_push(c, &nums.v, &nums.n, &nums.cap, v);
                    has_num = true;
                } else {
                    barf2(c, "Inside anything but list, start|null|boolean is not supported.");
                }
            }
            if (has_num == has_str) {
                barf(c, "Inside anything but list, either all values are number or string, mixed "
                        "type is not supported");
            }
        } else if (t == TK_STRING) {
            sv_push(c, &sv, dup_str(c, text(c)));
            has_str = true;
        } else {
            int64_t v;
            struct str nt = text(c);
            if (!pnum_parse(nt.ptr, nt.len, &v))
                (void)pattern_number(c, nt, LOC_NONE);
            num_push(c, &nums.v, &nums.n, &nums.cap, v);
            has_num = true;
        }
        if (has_num) {
            m->kind = PM_AB_NUM;
            m->nums = arena_alloc(c->a, (nums.n ? nums.n : 1) * sizeof(int64_t));
            if (nums.n)
                memcpy(m->nums, nums.v, nums.n * sizeof(int64_t));
            m->nset = nums.n;
        } else {
            m->kind = PM_AB_STR;
            m->set = sv.v;
            m->nset = sv.n;
        }
        if (next(c) != TK_END_OBJECT)
            barf(c, "Too many elements in numeric expression");
        return;
    }
    m->kind = kind;
    if (t == TK_START_ARRAY) {
        for (t = next(c); t != TK_END_ARRAY; t = next(c)) {
            if (t != TK_STRING)
                barf2(c, "%s", set_type_error(kind));
            struct str v = text(c);
            if ((kind == PM_AB_PREFIX || kind == PM_AB_SUFFIX) && v.len == 0)
                barf2(c, "Null prefix/suffix not allowed");
            sv_push(c, &sv, set_value(c, kind, v));
        }
    } else {
        if (t != TK_STRING)
            barf(c, "%s", set_type_error(kind));
        struct str v = text(c);
        if ((kind == PM_AB_PREFIX || kind == PM_AB_SUFFIX) && v.len == 0)
            barf(c, "Null prefix/suffix not allowed");
        sv_push(c, &sv, set_value(c, kind, v));
    }
    finish_set(c, m, &sv);
    if (next(c) != TK_END_OBJECT)
        barf(c, "Too many elements in numeric expression");
    if (next(c) != TK_END_OBJECT)
        barf(c, "Too many elements in numeric expression");
}

/* processMatchExpression: the object inside a value list; '{' already read. */
static void match_expression(struct comp *c, struct pm *m)
{
    if (next(c) != TK_FIELD_NAME)
        barf(c, "Match expression name not found");
    struct str name = dup_str(c, text(c));
    enum tk t;
    if (str_is(name, "exactly")) {
        if (next(c) != TK_STRING)
            barf(c, "exact match pattern must be a string");
        m->kind = PM_EXACT_STR;
        m->s = dup_str(c, text(c));
    } else if (str_is(name, "prefix") || str_is(name, "suffix")) {
        bool suffix = name.ptr[0] == 's';
        t = next(c);
        if (t == TK_START_OBJECT) {
            prefix_eic(c, m, suffix);
            return;
        }
        if (t != TK_STRING)
            barf(c, suffix ? "suffix match pattern must be a string"
                           : "prefix match pattern must be a string");
        m->kind = suffix ? PM_SUFFIX : PM_PREFIX;
        m->s = dup_str(c, text(c));
    } else if (str_is(name, "numeric")) {
        if (next(c) != TK_START_ARRAY)
            barf(c, "Value of numeric must be an array.");
        numeric_expr(c, m);
        if (next(c) != TK_END_OBJECT)
            barf(c, "Too many elements in numeric expression");
        return;
    } else if (str_is(name, "anything-but")) {
        anything_but(c, m);
        return;
    } else if (str_is(name, "exists")) {
        t = next(c);
        if (t == TK_TRUE)
            m->kind = PM_EXISTS;
        else if (t == TK_FALSE)
            m->kind = PM_ABSENT;
        else
            barf(c, "exists match pattern must be either true or false.");
    } else if (str_is(name, "cidr")) {
        if (next(c) != TK_STRING)
            barf(c, "prefix match pattern must be a string");
        cidr_range(c, text(c), m);
    } else if (str_is(name, "equals-ignore-case")) {
        if (next(c) != TK_STRING)
            barf(c, "equals-ignore-case match pattern must be a string");
        m->kind = PM_EIC;
        m->s = fold_str(c, text(c));
    } else if (str_is(name, "wildcard")) {
        if (next(c) != TK_STRING)
            barf(c, "wildcard match pattern must be a string");
        m->kind = PM_WILDCARD;
        m->s = dup_str(c, text(c));
        m->wc = arena_alloc(c->a, sizeof(*m->wc));
        wildcard_value(c, m->s, m->wc);
    } else {
        barf(c, "Unrecognized match type %.*s", STR_FMT(name));
    }
    if (next(c) != TK_END_OBJECT)
        barf(c, "Only one key allowed in match expression");
}

/* ---- structure ---------------------------------------------------------------------------- */

static void path_push(struct comp *c, struct str step, size_t *saved)
{
    *saved = c->path_len;
    size_t need = c->path_len + step.len + 2;
    if (need > c->path_cap) {
        size_t cap = need * 2;
        char *np = arena_alloc(c->a, cap);
        if (c->path_len)
            memcpy(np, c->path, c->path_len);
        c->path = np;
        c->path_cap = cap;
    }
    if (c->path_len)
        c->path[c->path_len++] = '.';
    if (step.len)
        memcpy(c->path + c->path_len, step.ptr, step.len);
    c->path_len += step.len;
}

static struct bsub *rules_push(struct comp *c, struct rules *r)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4;
        struct bsub *nv = arena_alloc(c->a, cap * sizeof(*nv));
        if (r->n)
            memcpy(nv, r->v, r->n * sizeof(*nv));
        r->v = nv;
        r->cap = cap;
    }
    struct bsub *b = &r->v[r->n++];
    memset(b, 0, sizeof(*b));
    return b;
}

static void sub_put(struct comp *c, struct bsub *b, struct str path, const struct pvals *vals)
{
    for (size_t i = 0; i < b->n; i++)
        if (str_eq(b->f[i].path, path)) {
            b->f[i].vals = vals; /* a later duplicate overrides */
            return;
        }
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 8;
        struct fld *nv = arena_alloc(c->a, cap * sizeof(*nv));
        if (b->n)
            memcpy(nv, b->f, b->n * sizeof(*nv));
        b->f = nv;
        b->cap = cap;
    }
    b->f[b->n].path = path;
    b->f[b->n].vals = vals;
    b->n++;
}

static void copy_rules(struct comp *c, struct rules *dst, const struct rules *src)
{
    memset(dst, 0, sizeof(*dst));
    for (size_t i = 0; i < src->n; i++) {
        struct bsub *b = rules_push(c, dst);
        for (size_t j = 0; j < src->v[i].n; j++)
            sub_put(c, b, src->v[i].f[j].path, src->v[i].f[j].vals);
    }
}

/* writeRules: the value list of one path; '[' already read. */
static void write_rules(struct comp *c, struct rules *r, struct str step)
{
    struct pmvec pv = { 0 };
    enum tk t;
    while ((t = next(c)) != TK_END_ARRAY) {
        switch (t) {
        case TK_START_OBJECT:
            match_expression(c, pm_push(c, &pv));
            break;
        case TK_STRING: {
            struct str v = text(c);
            struct pm *m = pm_push(c, &pv);
            uint8_t addr[16];
            int len = ip_looks_like(v.ptr, v.len) ? ip_parse(v.ptr, v.len, addr) : 0;
            if (len) {
                /* an address is matched as a one-address range, as event-ruler does */
                m->kind = PM_IP_RANGE;
                m->ip_len = (uint8_t)len;
                memcpy(m->ip_lo, addr, (size_t)len);
                memcpy(m->ip_hi, addr, (size_t)len);
            } else {
                m->kind = PM_EXACT_STR;
            }
            m->s = dup_str(c, v);
            break;
        }
        case TK_INT:
        case TK_FLOAT: {
            struct pm *m = pm_push(c, &pv);
            m->kind = PM_EXACT_NUM;
            m->s = dup_str(c, text(c));
            m->num_ok = pnum_parse(m->s.ptr, m->s.len, &m->num);
            break;
        }
        case TK_TRUE:
        case TK_FALSE:
        case TK_NULL: {
            struct pm *m = pm_push(c, &pv);
            m->kind = PM_EXACT_LIT;
            m->lit = t == TK_TRUE ? JT_TRUE : t == TK_FALSE ? JT_FALSE : JT_NULL;
            m->s = text(c);
            break;
        }
        case TK_NONE:
        case TK_END_OBJECT:
        case TK_START_ARRAY:
        case TK_END_ARRAY:
        case TK_FIELD_NAME:
            barf(c, "Match value must be String, number, true, false, or null");
        }
    }
    if (pv.n == 0)
        barf(c, "Empty arrays are not allowed");
    struct pvals *vals = arena_alloc(c->a, sizeof(*vals));
    vals->v = pv.v;
    vals->n = pv.n;
    vals->has_absent = false;
    for (size_t i = 0; i < pv.n; i++)
        if (pv.v[i].kind == PM_ABSENT)
            vals->has_absent = true;
    size_t saved;
    path_push(c, step, &saved);
    struct str path = str_make(arena_strndup(c->a, c->path, c->path_len), c->path_len);
    c->path_len = saved;
    if (r->n == 0)
        rules_push(c, r);
    for (size_t i = 0; i < r->n; i++)
        sub_put(c, &r->v[i], path, vals);
}

static const char *const reserved_in_or[] = {
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
};

static void parse_object(struct comp *c, struct rules *r, bool in_or);

static void parse_or(struct comp *c, struct rules *r)
{
    struct rules current;
    copy_rules(c, &current, r);
    r->n = 0;
    if (next(c) != TK_START_ARRAY)
        barf(c, "It must be an Array followed with $or.");
    int count = 0;
    enum tk t;
    while ((t = next(c)) != TK_END_ARRAY) {
        count++;
        if (t != TK_START_OBJECT)
            barf(c, "Only JSON object is allowed in array of $or relationship.");
        struct rules branch;
        copy_rules(c, &branch, &current);
        if (branch.n == 0)
            rules_push(c, &branch);
        parse_object(c, &branch, true);
        for (size_t i = 0; i < branch.n; i++) {
            struct bsub *b = rules_push(c, r);
            *b = branch.v[i];
        }
        if (r->n > PATTERN_MAX_SUBRULES)
            iae(c, "Rule is too complex - too many combinations of $or (more than %d)",
                PATTERN_MAX_SUBRULES);
    }
    if (count < 2)
        barf(c, "There must have at least 2 Objects in $or relationship.");
}

/* parseObject / parseObjectInsideOrRelationship; '{' already read. */
static void parse_object(struct comp *c, struct rules *r, bool in_or)
{
    bool fields = false;
    while (next(c) != TK_END_OBJECT) {
        fields = true;
        struct str step = text(c);
        if (str_is(step, "$or")) {
            parse_or(c, r);
            continue;
        }
        if (in_or)
            for (size_t i = 0; i < ARRAY_SIZE(reserved_in_or); i++)
                if (str_is(step, reserved_in_or[i]))
                    barf(c, "%.*s is Ruler reserved fieldName which cannot be used inside $or.",
                         STR_FMT(step));
        switch (next(c)) {
        case TK_START_OBJECT: {
            size_t saved;
            path_push(c, step, &saved);
            parse_object(c, r, in_or);
            c->path_len = saved;
            break;
        }
        case TK_START_ARRAY:
            write_rules(c, r, step);
            break;
        case TK_NONE:
        case TK_END_OBJECT:
        case TK_END_ARRAY:
        case TK_FIELD_NAME:
        case TK_STRING:
        case TK_INT:
        case TK_FLOAT:
        case TK_TRUE:
        case TK_FALSE:
        case TK_NULL:
            barf(c, "\"%.*s\" must be an object or an array", STR_FMT(step));
        }
    }
    if (!fields)
        barf(c, "Empty objects are not allowed");
}

static int cmp_fld(const void *a, const void *b)
{
    const struct pfield *x = a, *y = b;
    size_t n = x->path.len < y->path.len ? x->path.len : y->path.len;
    int r = memcmp(x->path.ptr, y->path.ptr, n);
    if (r)
        return r;
    return (x->path.len > y->path.len) - (x->path.len < y->path.len);
}

/* ---- public ------------------------------------------------------------------------------- */

static int compile(const char *json, size_t len, struct pattern **out, struct comp *c)
{
    struct pattern *p = xcalloc(1, sizeof(*p));
    arena_init(&p->arena);
    memset(c, 0, sizeof(*c));
    c->s = json;
    c->n = len;
    c->a = &p->arena;
    if (setjmp(c->jb) != 0) {
        arena_release(&p->arena);
        free(p);
        return -ERR_INVALID;
    }
    if (len > PATTERN_MAX_LEN)
        iae(c, "Event pattern is too long (more than %u bytes)", PATTERN_MAX_LEN);
    struct rules r = { 0 };
    if (next(c) != TK_START_OBJECT)
        barf(c, "Filter is not an object");
    parse_object(c, &r, false);
    p->nsubs = r.n;
    p->subs = arena_alloc(&p->arena, (r.n ? r.n : 1) * sizeof(*p->subs));
    for (size_t i = 0; i < r.n; i++) {
        struct psub *s = &p->subs[i];
        s->nf = r.v[i].n;
        s->f = arena_alloc(&p->arena, (s->nf ? s->nf : 1) * sizeof(*s->f));
        for (size_t j = 0; j < s->nf; j++) {
            s->f[j].path = r.v[i].f[j].path;
            s->f[j].vals = r.v[i].f[j].vals;
        }
        qsort(s->f, s->nf, sizeof(*s->f), cmp_fld);
    }
    *out = p;
    return 0;
}

static void format_message(const struct comp *c, struct buf *b, bool raw)
{
    buf_append_cstr(b, REASON_PREFIX);
    buf_append_cstr(b, c->reason);
    if (!raw)
        return;
    int times = c->err_loc == LOC_NONE ? 0 : c->err_loc == LOC_ONE ? 1 : 2;
    for (int i = 0; i < times; i++)
        append_location(b, c->s, c->n, c->err_pos);
}

int pattern_compile(const char *json, size_t len, struct pattern **out, struct diag *d)
{
    struct comp *c = xmalloc(sizeof(*c));
    int rc = compile(json, len, out, c);
    if (rc != 0 && d) {
        struct buf b;
        buf_init(&b, 1 << 20);
        format_message(c, &b, false);
        diag_set(d, rc, c->err_pos, "%s", buf_cstr(&b));
        buf_release(&b);
    }
    free(c);
    return rc;
}

int pattern_validate(const char *json, size_t len, char **msg)
{
    struct comp *c = xmalloc(sizeof(*c));
    struct pattern *p = NULL;
    int rc = compile(json, len, &p, c);
    if (rc == 0) {
        pattern_free(p);
        if (msg)
            *msg = NULL;
    } else if (msg) {
        struct buf b;
        buf_init(&b, 1 << 22);
        format_message(c, &b, true);
        size_t n;
        *msg = buf_detach(&b, &n);
    }
    free(c);
    return rc;
}

void pattern_free(struct pattern *p)
{
    if (!p)
        return;
    arena_release(&p->arena);
    free(p);
}
