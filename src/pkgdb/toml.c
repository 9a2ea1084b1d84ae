/* SPDX-License-Identifier: Apache-2.0 */
/* Strict TOML 1.0 reader for lockfiles: checks the whole grammar (strings with escapes,
 * numbers, dates, arrays, inline tables, comments, UTF-8) and reports headers and top-level
 * key/value pairs of each table through a callback. Recursion is bounded by TOML_MAX_DEPTH. */
#include "toml.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"

struct toml_keyref {
    size_t off, len; /* in the key buffer: slices are made once the buffer stops moving */
};

struct toml {
    const unsigned char *p;
    size_t n, i;
    size_t line;
    struct diag *d;
    toml_event_fn fn;
    void *ctx;
    struct buf hbuf; /* decoded header keys */
    struct str hkeys[TOML_MAX_KEYS];
    size_t nh;
    bool harray;
    struct buf kbuf; /* decoded keys of the current pair */
    struct str keys[TOML_MAX_KEYS];
    size_t nk;
    struct buf vbuf; /* decoded string value of the current pair */
};

/* Put "line N: " before the message diag_set() just wrote; returns err.
 * TOML_FAIL(t, err, fmt, ...) does both at the cursor (no va_list: clang-tidy). */
static int toml_locate(const struct toml *t, int err)
{
    if (!t->d)
        return err;
    char pre[32], msg[sizeof(t->d->msg)];
    snprintf(pre, sizeof(pre), "line %zu: ", t->line);
    memcpy(msg, t->d->msg, sizeof(msg));
    size_t pl = strnlen(pre, sizeof(pre)), ml = strnlen(msg, sizeof(msg) - 1);
    if (ml > sizeof(t->d->msg) - 1 - pl)
        ml = sizeof(t->d->msg) - 1 - pl;
    memcpy(t->d->msg, pre, pl);
    memcpy(t->d->msg + pl, msg, ml);
    t->d->msg[pl + ml] = '\0';
    return err;
}

#define TOML_FAIL(t, err, ...) toml_locate((t), diag_set((t)->d, (err), (t)->i, __VA_ARGS__))

/* Printable form of the byte at the cursor for messages. */
static int toml_cur(const struct toml *t)
{
    if (t->i >= t->n)
        return '?';
    unsigned char c = t->p[t->i];
    return c >= 0x20 && c < 0x7f ? c : '?';
}

static int toml_unexpected(struct toml *t, const char *what)
{
    if (t->i >= t->n)
        return TOML_FAIL(t, -ERR_CORRUPT, "unexpected end of document, expected %s", what);
    if (t->p[t->i] == '\n' || t->p[t->i] == '\r')
        return TOML_FAIL(t, -ERR_CORRUPT, "unexpected end of line, expected %s", what);
    return TOML_FAIL(t, -ERR_CORRUPT, "unexpected '%c', expected %s", toml_cur(t), what);
}

/* Length of the UTF-8 sequence at p (RFC 3629: no overlongs, surrogates or values past
 * U+10FFFF), 0 when invalid. */
static size_t toml_utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[k] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static bool toml_is_ws(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static void toml_skip_ws(struct toml *t)
{
    while (t->i < t->n && toml_is_ws(t->p[t->i]))
        t->i++;
}

/* At a newline ("\n" or "\r\n")? */
static size_t toml_nl_len(const struct toml *t)
{
    if (t->i < t->n && t->p[t->i] == '\n')
        return 1;
    if (t->i + 1 < t->n && t->p[t->i] == '\r' && t->p[t->i + 1] == '\n')
        return 2;
    return 0;
}

static bool toml_take_nl(struct toml *t)
{
    size_t k = toml_nl_len(t);
    if (!k)
        return false;
    t->i += k;
    t->line++;
    return true;
}

/* Control characters other than TAB are not allowed in comments and strings. */
static bool toml_is_ctl(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* A comment from '#' to the end of the line (the newline is left). */
static int toml_comment(struct toml *t)
{
    t->i++;
    while (t->i < t->n && t->p[t->i] != '\n') {
        unsigned char c = t->p[t->i];
        if (c == '\r' && toml_nl_len(t))
            break;
        if (toml_is_ctl(c))
            return TOML_FAIL(t, -ERR_CORRUPT, "control character 0x%02x in a comment", c);
        size_t k = toml_utf8_len(t->p + t->i, t->n - t->i);
        if (!k)
            return TOML_FAIL(t, -ERR_CORRUPT, "invalid UTF-8 in a comment");
        t->i += k;
    }
    return 0;
}

/* Blanks, an optional comment, then a newline or the end of the document. */
static int toml_end_of_line(struct toml *t)
{
    toml_skip_ws(t);
    if (t->i < t->n && t->p[t->i] == '#') {
        int r = toml_comment(t);
        if (r < 0)
            return r;
    }
    if (t->i >= t->n || toml_take_nl(t))
        return 0;
    return toml_unexpected(t, "a newline");
}

/* Blanks, newlines and comments (inside arrays). */
static int toml_skip_ws_nl(struct toml *t)
{
    for (;;) {
        toml_skip_ws(t);
        if (t->i < t->n && t->p[t->i] == '#') {
            int r = toml_comment(t);
            if (r < 0)
                return r;
        }
        if (!toml_take_nl(t))
            return 0;
    }
}

/* ---- strings ------------------------------------------------------------------------------- */

static int toml_put(struct toml *t, struct buf *out, const void *p, size_t n)
{
    if (out && buf_append(out, p, n) < 0)
        return TOML_FAIL(t, -ERR_TOO_BIG, "string too long");
    return 0;
}

static int toml_hex(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* A backslash escape in a basic string (the cursor is on the backslash). */
static int toml_escape(struct toml *t, struct buf *out)
{
    if (t->i + 1 >= t->n)
        return TOML_FAIL(t, -ERR_CORRUPT, "unterminated string");
    unsigned char c = t->p[t->i + 1], o;
    switch (c) {
    case 'b':
        o = '\b';
        break;
    case 't':
        o = '\t';
        break;
    case 'n':
        o = '\n';
        break;
    case 'f':
        o = '\f';
        break;
    case 'r':
        o = '\r';
        break;
    case '"':
        o = '"';
        break;
    case '\\':
        o = '\\';
        break;
    case 'u':
    case 'U': {
        size_t nd = c == 'u' ? 4 : 8;
        uint32_t cp = 0;
        if (t->n - t->i - 2 < nd)
            return TOML_FAIL(t, -ERR_CORRUPT, "short \\%c escape", c);
        for (size_t k = 0; k < nd; k++) {
            int h = toml_hex(t->p[t->i + 2 + k]);
            if (h < 0)
                return TOML_FAIL(t, -ERR_CORRUPT, "bad \\%c escape", c);
            cp = cp << 4 | (uint32_t)h;
        }
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return TOML_FAIL(t, -ERR_CORRUPT, "\\%c escape is not a Unicode scalar value", c);
        unsigned char u[4];
        size_t un;
        if (cp < 0x80) {
            u[0] = (unsigned char)cp;
            un = 1;
        } else if (cp < 0x800) {
            u[0] = (unsigned char)(0xc0 | cp >> 6);
            u[1] = (unsigned char)(0x80 | (cp & 0x3f));
            un = 2;
        } else if (cp < 0x10000) {
            u[0] = (unsigned char)(0xe0 | cp >> 12);
            u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
            u[2] = (unsigned char)(0x80 | (cp & 0x3f));
            un = 3;
        } else {
            u[0] = (unsigned char)(0xf0 | cp >> 18);
            u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
            u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
            u[3] = (unsigned char)(0x80 | (cp & 0x3f));
            un = 4;
        }
        t->i += 2 + nd;
        return toml_put(t, out, u, un);
    }
    default:
        t->i++;
        return TOML_FAIL(t, -ERR_CORRUPT, "invalid escape '\\%c'", toml_cur(t));
    }
    t->i += 2;
    return toml_put(t, out, &o, 1);
}

/* One literal character of a string body: control characters refused, UTF-8 checked. */
static int toml_string_char(struct toml *t, struct buf *out)
{
    unsigned char c = t->p[t->i];
    if (toml_is_ctl(c))
        return TOML_FAIL(t, -ERR_CORRUPT, "control character 0x%02x in a string", c);
    size_t k = toml_utf8_len(t->p + t->i, t->n - t->i);
    if (!k)
        return TOML_FAIL(t, -ERR_CORRUPT, "invalid UTF-8 in a string");
    int r = toml_put(t, out, t->p + t->i, k);
    t->i += k;
    return r;
}

static bool toml_at3(const struct toml *t, unsigned char q)
{
    return t->n - t->i >= 3 && t->p[t->i] == q && t->p[t->i + 1] == q && t->p[t->i + 2] == q;
}

/* A string of any of the four kinds at the cursor; decoded into out (may be NULL).
 * multiline_ok is false for keys. */
static int toml_string(struct toml *t, struct buf *out, bool multiline_ok)
{
    unsigned char q = t->p[t->i];
    bool basic = q == '"';
    int r;
    if (multiline_ok && toml_at3(t, q)) {
        t->i += 3;
        toml_take_nl(t); /* a newline right after the opening quotes is trimmed */
        for (;;) {
            if (t->i >= t->n)
                return TOML_FAIL(t, -ERR_CORRUPT, "unterminated multi-line string");
            if (toml_at3(t, q)) {
                /* up to two quotes may precede the closing three */
                size_t run = 3;
                while (run < 5 && t->i + run < t->n && t->p[t->i + run] == q)
                    run++;
                if ((r = toml_put(t, out, t->p + t->i, run - 3)) < 0)
                    return r;
                t->i += run;
                return 0;
            }
            if (toml_nl_len(t)) {
                if ((r = toml_put(t, out, "\n", 1)) < 0)
                    return r;
                toml_take_nl(t);
                continue;
            }
            if (basic && t->p[t->i] == '\\') {
                /* line-ending backslash: drop it and all blanks and newlines after it */
                size_t j = t->i + 1;
                while (j < t->n && toml_is_ws(t->p[j]))
                    j++;
                size_t save = t->i;
                t->i = j;
                if (toml_nl_len(t)) {
                    for (;;) {
                        if (t->i < t->n && toml_is_ws(t->p[t->i]))
                            t->i++;
                        else if (!toml_take_nl(t))
                            break;
                    }
                    continue;
                }
                t->i = save;
                if ((r = toml_escape(t, out)) < 0)
                    return r;
                continue;
            }
            if ((r = toml_string_char(t, out)) < 0)
                return r;
        }
    }
    t->i++;
    for (;;) {
        if (t->i >= t->n || toml_nl_len(t) || t->p[t->i] == '\n')
            return TOML_FAIL(t, -ERR_CORRUPT, "unterminated string");
        unsigned char c = t->p[t->i];
        if (c == q) {
            t->i++;
            return 0;
        }
        if (basic && c == '\\')
            r = toml_escape(t, out);
        else
            r = toml_string_char(t, out);
        if (r < 0)
            return r;
    }
}

/* ---- keys ---------------------------------------------------------------------------------- */

static bool toml_is_bare(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* A dotted key decoded into buf; the parts go to keys[], their number to *nk. */
static int toml_key(struct toml *t, struct buf *b, struct str *keys, size_t *nk)
{
    struct toml_keyref ref[TOML_MAX_KEYS];
    size_t n = 0;
    buf_reset(b);
    for (;;) {
        if (n == TOML_MAX_KEYS)
            return TOML_FAIL(t, -ERR_TOO_BIG, "key has more than %d parts", TOML_MAX_KEYS);
        size_t off = b->len;
        if (t->i < t->n && (t->p[t->i] == '"' || t->p[t->i] == '\'')) {
            int r = toml_string(t, b, false);
            if (r < 0)
                return r;
        } else {
            size_t s = t->i;
            while (t->i < t->n && toml_is_bare(t->p[t->i]))
                t->i++;
            if (t->i == s)
                return toml_unexpected(t, "a key");
            int r = toml_put(t, b, t->p + s, t->i - s);
            if (r < 0)
                return r;
        }
        ref[n++] = (struct toml_keyref){ off, b->len - off };
        toml_skip_ws(t);
        if (t->i < t->n && t->p[t->i] == '.') {
            t->i++;
            toml_skip_ws(t);
            continue;
        }
        break;
    }
    const char *base = buf_cstr(b);
    for (size_t k = 0; k < n; k++)
        keys[k] = str_make(base + ref[k].off, ref[k].len);
    *nk = n;
    return 0;
}

bool toml_key_is(const struct str *keys, size_t n, const char *dotted)
{
    const char *p = dotted;
    for (size_t k = 0; k < n; k++) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (!str_eq(keys[k], str_make(p, len)))
            return false;
        if (!dot)
            return k + 1 == n;
        p = dot + 1;
    }
    return false;
}

/* ---- scalars -------------------------------------------------------------------------------- */

static bool toml_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* digit (_? digit)* in [s, e) for the given base; false on anything else. */
static bool toml_digits(const unsigned char *s, const unsigned char *e, int base)
{
    if (s >= e)
        return false;
    bool prev_digit = false;
    for (const unsigned char *p = s; p < e; p++) {
        if (*p == '_') {
            if (!prev_digit || p + 1 >= e)
                return false;
            prev_digit = false;
            continue;
        }
        int v = toml_hex(*p);
        if (v < 0 || v >= base || (base <= 10 && !toml_is_digit(*p)))
            return false;
        prev_digit = true;
    }
    return true;
}

/* Decimal integer part: 0 or [1-9](_?digit)*. */
static bool toml_dec_int(const unsigned char *s, const unsigned char *e)
{
    if (e - s == 1 && *s == '0')
        return true;
    return s < e && *s != '0' && toml_digits(s, e, 10);
}

static bool toml_n_digits(const unsigned char *p, const unsigned char *e, size_t n)
{
    if ((size_t)(e - p) < n)
        return false;
    for (size_t k = 0; k < n; k++)
        if (!toml_is_digit(p[k]))
            return false;
    return true;
}

static int toml_2(const unsigned char *p)
{
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* HH:MM:SS(.frac)? at p; returns the end or NULL. */
static const unsigned char *toml_time(const unsigned char *p, const unsigned char *e)
{
    if (!toml_n_digits(p, e, 2) || e - p < 8 || p[2] != ':' || !toml_n_digits(p + 3, e, 2) ||
        p[5] != ':' || !toml_n_digits(p + 6, e, 2))
        return NULL;
    if (toml_2(p) > 23 || toml_2(p + 3) > 59 || toml_2(p + 6) > 60)
        return NULL;
    p += 8;
    if (p < e && *p == '.') {
        const unsigned char *f = ++p;
        while (p < e && toml_is_digit(*p))
            p++;
        if (p == f)
            return NULL;
    }
    return p;
}

/* The date-time forms of TOML 1.0 over exactly [s, e). */
static bool toml_datetime(const unsigned char *s, const unsigned char *e)
{
    const unsigned char *p = s;
    if (e - s >= 3 && toml_n_digits(s, e, 2) && s[2] == ':')
        return toml_time(s, e) == e;
    if (!toml_n_digits(p, e, 4) || e - p < 10 || p[4] != '-' || !toml_n_digits(p + 5, e, 2) ||
        p[7] != '-' || !toml_n_digits(p + 8, e, 2))
        return false;
    int mon = toml_2(p + 5), day = toml_2(p + 8);
    if (mon < 1 || mon > 12 || day < 1 || day > 31)
        return false;
    p += 10;
    if (p == e)
        return true;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return false;
    p = toml_time(p + 1, e);
    if (!p)
        return false;
    if (p == e)
        return true;
    if ((*p == 'Z' || *p == 'z') && p + 1 == e)
        return true;
    if ((*p == '+' || *p == '-') && e - p == 6 && toml_n_digits(p + 1, e, 2) && p[3] == ':' &&
        toml_n_digits(p + 4, e, 2))
        return toml_2(p + 1) <= 23 && toml_2(p + 4) <= 59;
    return false;
}

static bool toml_float(const unsigned char *s, const unsigned char *e)
{
    const unsigned char *p = s;
    if (p < e && (*p == '+' || *p == '-'))
        p++;
    if (e - p == 3 && (memcmp(p, "inf", 3) == 0 || memcmp(p, "nan", 3) == 0))
        return true;
    const unsigned char *ie = p;
    while (ie < e && *ie != '.' && *ie != 'e' && *ie != 'E')
        ie++;
    if (!toml_dec_int(p, ie) || ie == e)
        return false;
    p = ie;
    if (*p == '.') {
        const unsigned char *f = ++p;
        while (p < e && *p != 'e' && *p != 'E')
            p++;
        if (!toml_digits(f, p, 10))
            return false;
    }
    if (p < e) {
        p++; /* 'e' or 'E' */
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (!toml_digits(p, e, 10))
            return false;
    }
    return true;
}

static bool toml_integer(const unsigned char *s, const unsigned char *e)
{
    if (e - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b'))
        return toml_digits(s + 2, e, s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2);
    if (s < e && (*s == '+' || *s == '-'))
        s++;
    return toml_dec_int(s, e);
}

static bool toml_is_token(unsigned char c)
{
    return toml_is_bare(c) || c == '+' || c == '.' || c == ':';
}

/* A number, date-time or boolean at the cursor. */
static int toml_scalar(struct toml *t, enum toml_type *type)
{
    size_t s = t->i;
    while (t->i < t->n && toml_is_token(t->p[t->i]))
        t->i++;
    /* "1979-05-27 07:32:00": a date, a blank and a time are one value */
    if (t->i - s == 10 && t->i + 3 < t->n && t->p[t->i] == ' ' && toml_is_digit(t->p[t->i + 1]) &&
        toml_is_digit(t->p[t->i + 2]) && t->p[t->i + 3] == ':') {
        t->i++;
        while (t->i < t->n && toml_is_token(t->p[t->i]))
            t->i++;
    }
    const unsigned char *b = t->p + s, *e = t->p + t->i;
    size_t len = t->i - s;
    if (len == 0) {
        return toml_unexpected(t, "a value");
    } else if ((len == 4 && memcmp(b, "true", 4) == 0) ||
               (len == 5 && memcmp(b, "false", 5) == 0)) {
        *type = TOML_BOOL;
    } else if (toml_integer(b, e)) {
        *type = TOML_INTEGER;
    } else if (toml_float(b, e)) {
        *type = TOML_FLOAT;
    } else if (toml_datetime(b, e)) {
        *type = TOML_DATETIME;
    } else {
        t->i = s;
        return TOML_FAIL(t, -ERR_CORRUPT, "invalid value '%.*s'", (int)(len > 40 ? 40 : len),
                         (const char *)b);
    }
    return 0;
}

/* ---- values --------------------------------------------------------------------------------- */

static int toml_value(struct toml *t, int depth, enum toml_type *type, struct buf *out);

static int toml_array(struct toml *t, int depth)
{
    t->i++;
    for (;;) {
        int r = toml_skip_ws_nl(t);
        if (r < 0)
            return r;
        if (t->i < t->n && t->p[t->i] == ']') {
            t->i++;
            return 0;
        }
        enum toml_type ty = TOML_STRING;
        if ((r = toml_value(t, depth + 1, &ty, NULL)) < 0)
            return r;
        if ((r = toml_skip_ws_nl(t)) < 0)
            return r;
        if (t->i < t->n && t->p[t->i] == ',') {
            t->i++;
            continue;
        }
        if (t->i < t->n && t->p[t->i] == ']') {
            t->i++;
            return 0;
        }
        return toml_unexpected(t, "',' or ']'");
    }
}

static int toml_inline_table(struct toml *t, int depth)
{
    struct buf kb;
    struct str keys[TOML_MAX_KEYS];
    size_t nk;
    int r = 0;
    buf_init(&kb, t->n + 1);
    t->i++;
    toml_skip_ws(t);
    if (t->i < t->n && t->p[t->i] == '}') {
        t->i++;
        goto out;
    }
    for (;;) {
        if ((r = toml_key(t, &kb, keys, &nk)) < 0)
            goto out;
        if (t->i >= t->n || t->p[t->i] != '=') {
            r = toml_unexpected(t, "'='");
            goto out;
        }
        t->i++;
        toml_skip_ws(t);
        enum toml_type ty = TOML_STRING;
        if ((r = toml_value(t, depth + 1, &ty, NULL)) < 0)
            goto out;
        toml_skip_ws(t);
        if (t->i < t->n && t->p[t->i] == ',') {
            t->i++;
            toml_skip_ws(t);
            continue;
        }
        if (t->i < t->n && t->p[t->i] == '}') {
            t->i++;
            goto out;
        }
        r = toml_unexpected(t, "',' or '}' (inline tables stay on one line)");
        goto out;
    }
out:
    buf_release(&kb);
    return r;
}

/* A value at the cursor; a string is decoded into out (may be NULL). */
static int toml_value(struct toml *t, int depth, enum toml_type *type, struct buf *out)
{
    if (depth > TOML_MAX_DEPTH)
        return TOML_FAIL(t, -ERR_TOO_BIG, "arrays and inline tables nested deeper than %d",
                         TOML_MAX_DEPTH);
    if (t->i >= t->n)
        return toml_unexpected(t, "a value");
    unsigned char c = t->p[t->i];
    if (c == '"' || c == '\'') {
        *type = TOML_STRING;
        return toml_string(t, out, true);
    }
    if (c == '[') {
        *type = TOML_ARRAY;
        return toml_array(t, depth);
    }
    if (c == '{') {
        *type = TOML_INLINE_TABLE;
        return toml_inline_table(t, depth);
    }
    return toml_scalar(t, type);
}

/* ---- document -------------------------------------------------------------------------------- */

static int toml_header(struct toml *t)
{
    size_t off = t->i, line = t->line;
    t->i++;
    bool arr = t->i < t->n && t->p[t->i] == '[';
    if (arr)
        t->i++;
    toml_skip_ws(t);
    int r = toml_key(t, &t->hbuf, t->hkeys, &t->nh);
    if (r < 0)
        return r;
    if (t->i >= t->n || t->p[t->i] != ']' || (arr && (t->i + 1 >= t->n || t->p[t->i + 1] != ']')))
        return toml_unexpected(t, arr ? "']]'" : "']'");
    t->i += arr ? 2 : 1;
    t->harray = arr;
    if ((r = toml_end_of_line(t)) < 0)
        return r;
    struct toml_event ev = { .kind = TOML_EV_TABLE,
                             .table = t->hkeys,
                             .ntable = t->nh,
                             .array_table = arr,
                             .line = line,
                             .offset = off };
    return t->fn(&ev, t->ctx, t->d);
}

static int toml_pair(struct toml *t)
{
    size_t off = t->i, line = t->line;
    int r = toml_key(t, &t->kbuf, t->keys, &t->nk);
    if (r < 0)
        return r;
    if (t->i >= t->n || t->p[t->i] != '=')
        return toml_unexpected(t, "'='");
    t->i++;
    toml_skip_ws(t);
    size_t vs = t->i;
    enum toml_type ty = TOML_STRING;
    buf_reset(&t->vbuf);
    if ((r = toml_value(t, 0, &ty, &t->vbuf)) < 0)
        return r;
    struct str raw = str_make((const char *)t->p + vs, t->i - vs);
    if ((r = toml_end_of_line(t)) < 0)
        return r;
    struct toml_event ev = { .kind = TOML_EV_VALUE,
                             .table = t->hkeys,
                             .ntable = t->nh,
                             .array_table = t->harray,
                             .key = t->keys,
                             .nkey = t->nk,
                             .type = ty,
                             .value = ty == TOML_STRING ? buf_str(&t->vbuf) : raw,
                             .line = line,
                             .offset = off };
    if (ty == TOML_STRING)
        ev.value.ptr = buf_cstr(&t->vbuf);
    return t->fn(&ev, t->ctx, t->d);
}

int toml_parse(struct str data, toml_event_fn fn, void *ctx, struct diag *d)
{
    if (data.len > TOML_MAX_DOC)
        return diag_set(d, -ERR_TOO_BIG, 0, "TOML document of %zu bytes is over the limit",
                        data.len);
    struct toml t = { .p = (const unsigned char *)(data.len ? data.ptr : ""),
                      .n = data.len,
                      .line = 1,
                      .d = d,
                      .fn = fn,
                      .ctx = ctx };
    buf_init(&t.hbuf, data.len + 1);
    buf_init(&t.kbuf, data.len + 1);
    buf_init(&t.vbuf, data.len + 1);
    int r = 0;
    /* a UTF-8 byte order mark is not TOML, but editors write it */
    if (t.n >= 3 && memcmp(t.p, "\xef\xbb\xbf", 3) == 0)
        t.i = 3;
    while (t.i < t.n) {
        toml_skip_ws(&t);
        if (t.i >= t.n)
            break;
        unsigned char c = t.p[t.i];
        if (c == '#' || toml_nl_len(&t))
            r = toml_end_of_line(&t);
        else if (c == '[')
            r = toml_header(&t);
        else
            r = toml_pair(&t);
        if (r < 0)
            break;
    }
    buf_release(&t.hbuf);
    buf_release(&t.kbuf);
    buf_release(&t.vbuf);
    return r;
}
