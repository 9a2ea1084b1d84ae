/* SPDX-License-Identifier: Apache-2.0 */
/* The YAML subset reader behind the pnpm and yarn berry lockfile parsers: a recursive
 * descent over lines for block structure (indentation decides nesting), and over bytes for
 * flow collections and quoted scalars. Every node is allocated in the caller's arena. */
#include "npm_yaml.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct yp {
    const char *s;
    size_t n, pos; /* pos is at a line start, except while a line is being read */
    struct arena *a;
    struct diag *d;
    int depth;
    size_t nodes;
    /* The rest of a sequence item's line ("- key: v") read as a line of its own, indented
     * to the column where it starts. */
    bool virt;
    size_t virt_indent;
    /* line_of() cache: offsets mostly grow, so lines are counted from the last answer */
    size_t lc_off, lc_line;
};

/* Prefix the message diag_set() just wrote with "line L column C: " for byte offset off.
 * Returns err itself (not diag_set's result), so that callers visibly return < 0. */
static int yp_fail(const struct yp *y, int err, size_t off)
{
    if (!y->d)
        return err;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < off && i < y->n; i++) {
        if (y->s[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    char why[sizeof(y->d->msg)];
    snprintf(why, sizeof(why), "%s", y->d->msg);
    diag_set(y->d, err, off, "line %zu column %zu: %s", line, col, why);
    return err;
}

/* Error at byte offset off: FAIL(y, -ERR_CORRUPT, off, "fmt", ...) */
#define FAIL(y, err, off, ...) \
    (diag_set((y)->d, (err), (off), __VA_ARGS__), yp_fail((y), (err), (off)))

static size_t line_of(struct yp *y, size_t off)
{
    if (off > y->n)
        off = y->n;
    /* walk from the last answer, forwards or backwards: both stay near the cursor */
    for (size_t i = y->lc_off; i < off; i++)
        y->lc_line += y->s[i] == '\n';
    for (size_t i = off; i < y->lc_off; i++)
        y->lc_line -= y->s[i] == '\n';
    y->lc_off = off;
    return y->lc_line;
}

static bool at_eol(const struct yp *y, size_t p)
{
    return p >= y->n || y->s[p] == '\n' ||
           (y->s[p] == '\r' && (p + 1 == y->n || y->s[p + 1] == '\n'));
}

static size_t skip_blanks(const struct yp *y, size_t p)
{
    while (p < y->n && (y->s[p] == ' ' || y->s[p] == '\t'))
        p++;
    return p;
}

/* Nothing but blanks and maybe a comment from p to the end of the line. */
static bool rest_blank(const struct yp *y, size_t p)
{
    p = skip_blanks(y, p);
    return at_eol(y, p) || y->s[p] == '#';
}

/* Offset just past the end of the line holding p. */
static size_t after_line(const struct yp *y, size_t p)
{
    const char *nl = p < y->n ? memchr(y->s + p, '\n', y->n - p) : NULL;
    return nl ? (size_t)(nl - y->s) + 1 : y->n;
}

static bool is_doc_marker(const struct yp *y, size_t p, char c)
{
    return y->n - p >= 3 && y->s[p] == c && y->s[p + 1] == c && y->s[p + 2] == c &&
           (p + 3 == y->n || y->s[p + 3] == ' ' || y->s[p + 3] == '\t' || at_eol(y, p + 3));
}

/* The next line with content: its indentation and the offset of its first byte. Skips
 * blank and comment lines. 0 at the end of input, 1 for a line, 2 for a document marker
 * ("---" or "...") in column 1, <0 on a TAB in the indentation. */
static int peek(struct yp *y, size_t *indent, size_t *content)
{
    if (y->virt) {
        *indent = y->virt_indent;
        *content = y->pos;
        return 1;
    }
    for (;;) {
        if (y->pos >= y->n)
            return 0;
        size_t p = y->pos;
        while (p < y->n && y->s[p] == ' ')
            p++;
        if (at_eol(y, p) || y->s[p] == '#' || (y->s[p] == '\t' && rest_blank(y, p))) {
            y->pos = after_line(y, p);
            continue;
        }
        if (y->s[p] == '\t')
            return FAIL(y, -ERR_CORRUPT, p, "TAB in indentation");
        *indent = p - y->pos;
        *content = p;
        if (p == y->pos && (is_doc_marker(y, p, '-') || is_doc_marker(y, p, '.')))
            return 2;
        return 1;
    }
}

static struct yaml_node *new_node(struct yp *y, enum yaml_kind kind, size_t off)
{
    if (++y->nodes > YAML_MAX_NODES)
        return NULL;
    struct yaml_node *nd = arena_zalloc(y->a, sizeof(*nd));
    nd->kind = kind;
    nd->line = line_of(y, off);
    nd->str = str_make("", 0);
    nd->key = str_make("", 0);
    return nd;
}

#define NEW_NODE(y, var, kind, off)                                                                \
    do {                                                                                           \
        (var) = new_node((y), (kind), (off));                                                      \
        if (!(var))                                                                                \
            return FAIL((y), -ERR_TOO_BIG, (off), "more than %u nodes", (unsigned)YAML_MAX_NODES); \
    } while (0)

static int enter(struct yp *y, size_t off)
{
    if (++y->depth > YAML_MAX_DEPTH)
        return FAIL(y, -ERR_TOO_BIG, off, "nesting deeper than %d levels", YAML_MAX_DEPTH);
    return 0;
}

/* ---- scalars ----------------------------------------------------------------------------- */

static int hexdig(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

static size_t put_utf8(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* n hex digits at p as a number; false on a non-hex byte or the end of the line. */
static bool read_hex(const struct yp *y, size_t p, int n, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++) {
        if (p + (size_t)i >= y->n || hexdig(y->s[p + (size_t)i]) < 0)
            return false;
        v = v << 4 | (uint32_t)hexdig(y->s[p + (size_t)i]);
    }
    *out = v;
    return true;
}

/* A double-quoted scalar on one line, from the opening quote at y->pos; y->pos ends past
 * the closing quote. Escapes never make the text longer, so the copy fits its source. */
static int dquoted(struct yp *y, struct str *out)
{
    size_t start = y->pos, p = start + 1;
    const char *close = NULL;
    for (size_t i = p; i < y->n && y->s[i] != '\n'; i++) {
        if (y->s[i] == '\\') {
            i++;
            continue;
        }
        if (y->s[i] == '"') {
            close = y->s + i;
            break;
        }
    }
    if (!close)
        return FAIL(y, -ERR_CORRUPT, start, "double-quoted scalar not closed on its line");
    size_t end = (size_t)(close - y->s);
    char *buf = arena_alloc(y->a, end - p + 1), *o = buf;
    while (p < end) {
        char c = y->s[p];
        if (c != '\\') {
            *o++ = c;
            p++;
            continue;
        }
        char e = y->s[p + 1];
        uint32_t cp;
        size_t used = 2;
        switch (e) {
        case 'a':
            cp = 7;
            break;
        case 'b':
            cp = 8;
            break;
        case 't':
        case '\t':
            cp = 9;
            break;
        case 'n':
            cp = 10;
            break;
        case 'v':
            cp = 11;
            break;
        case 'f':
            cp = 12;
            break;
        case 'r':
            cp = 13;
            break;
        case 'e':
            cp = 27;
            break;
        case ' ':
            cp = ' ';
            break;
        case '"':
            cp = '"';
            break;
        case '/':
            cp = '/';
            break;
        case '\\':
            cp = '\\';
            break;
        case 'N':
            cp = 0x85;
            break;
        case '_':
            cp = 0xA0;
            break;
        case 'L':
            cp = 0x2028;
            break;
        case 'P':
            cp = 0x2029;
            break;
        case 'x':
        case 'u':
        case 'U': {
            int nd = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            if (!read_hex(y, p + 2, nd, &cp) || p + 2 + (size_t)nd > end)
                return FAIL(y, -ERR_CORRUPT, p, "bad \\%c escape", e);
            used = 2 + (size_t)nd;
            if (cp >= 0xD800 && cp <= 0xDBFF && e == 'u') {
                /* a UTF-16 pair, as JSON-style writers emit it */
                uint32_t lo;
                if (p + 12 <= end && y->s[p + 6] == '\\' && y->s[p + 7] == 'u' &&
                    read_hex(y, p + 8, 4, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    used = 12;
                }
            }
            if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
                return FAIL(y, -ERR_CORRUPT, p, "escape is not a Unicode scalar value");
            break;
        }
        default:
            return FAIL(y, -ERR_CORRUPT, p, "unknown escape '\\%c'", e ? e : '0');
        }
        if (cp == 0)
            return FAIL(y, -ERR_CORRUPT, p, "NUL in a quoted scalar");
        o += put_utf8(o, cp);
        p += used;
    }
    *o = '\0';
    *out = str_make(buf, (size_t)(o - buf));
    y->pos = end + 1;
    return 0;
}

/* A single-quoted scalar on one line ('' is a quote). */
static int squoted(struct yp *y, struct str *out)
{
    size_t start = y->pos, p = start + 1;
    char *buf = NULL, *o = NULL;
    size_t end = p;
    for (;;) {
        if (at_eol(y, end))
            return FAIL(y, -ERR_CORRUPT, start, "single-quoted scalar not closed on its line");
        if (y->s[end] == '\'') {
            if (end + 1 < y->n && y->s[end + 1] == '\'') {
                end += 2;
                continue;
            }
            break;
        }
        end++;
    }
    buf = arena_alloc(y->a, end - p + 1);
    o = buf;
    while (p < end) {
        *o++ = y->s[p];
        p += (y->s[p] == '\'') ? 2 : 1;
    }
    *o = '\0';
    *out = str_make(buf, (size_t)(o - buf));
    y->pos = end + 1;
    return 0;
}

static int quoted(struct yp *y, struct str *out)
{
    return y->s[y->pos] == '"' ? dquoted(y, out) : squoted(y, out);
}

static struct str copy_str(struct yp *y, size_t from, size_t to)
{
    return arena_str(y->a, str_make(y->s + from, to - from));
}

/* ---- flow collections -------------------------------------------------------------------- */

/* Skip white space, line breaks and comments inside a flow collection. */
static void flow_skip(struct yp *y)
{
    while (y->pos < y->n) {
        char c = y->s[y->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            y->pos++;
        } else if (c == '#' && (y->pos == 0 || strchr(" \t\n\r", y->s[y->pos - 1]))) {
            const char *nl = memchr(y->s + y->pos, '\n', y->n - y->pos);
            y->pos = nl ? (size_t)(nl - y->s) : y->n;
        } else {
            break;
        }
    }
}

static bool is_flow_ind(char c)
{
    return c == ',' || c == '[' || c == ']' || c == '{' || c == '}';
}

/* A plain scalar inside a flow collection: up to a flow indicator, ": ", " #" or the end
 * of the line. */
static int flow_plain(struct yp *y, struct str *out)
{
    size_t start = y->pos, p = start;
    while (!at_eol(y, p)) {
        char c = y->s[p];
        if (is_flow_ind(c))
            break;
        if (c == ':' && (p + 1 >= y->n || strchr(" \t\r\n,[]{}", y->s[p + 1])))
            break;
        if (c == '#' && p > start && (y->s[p - 1] == ' ' || y->s[p - 1] == '\t'))
            break;
        p++;
    }
    size_t end = p;
    while (end > start && (y->s[end - 1] == ' ' || y->s[end - 1] == '\t'))
        end--;
    if (end == start)
        return FAIL(y, -ERR_CORRUPT, start, "expected a value");
    *out = copy_str(y, start, end);
    y->pos = p;
    return 0;
}

static int flow_node(struct yp *y, struct yaml_node **out);

static int flow_scalar(struct yp *y, struct yaml_node **out)
{
    struct yaml_node *nd = NULL;
    NEW_NODE(y, nd, YAML_SCALAR, y->pos);
    char c = y->s[y->pos];
    int rc;
    if (c == '"' || c == '\'')
        rc = quoted(y, &nd->str);
    else if (c == '&' || c == '*' || c == '!')
        rc = FAIL(y, -ERR_CORRUPT, y->pos, "anchors, aliases and tags are not supported");
    else
        rc = flow_plain(y, &nd->str);
    *out = nd;
    return rc;
}

static int flow_collection(struct yp *y, struct yaml_node **out)
{
    size_t start = y->pos;
    bool is_map = y->s[start] == '{';
    char close = is_map ? '}' : ']';
    int rc = enter(y, start);
    if (rc < 0)
        return rc;
    struct yaml_node *nd = NULL;
    NEW_NODE(y, nd, is_map ? YAML_MAP : YAML_SEQ, start);
    struct yaml_node **tail = &nd->child;
    y->pos++;
    for (;;) {
        flow_skip(y);
        if (y->pos >= y->n)
            return FAIL(y, -ERR_CORRUPT, start, "'%c' not closed", y->s[start]);
        if (y->s[y->pos] == close) {
            y->pos++;
            break;
        }
        struct yaml_node *item = NULL;
        if (is_map) {
            struct yaml_node *key = NULL;
            size_t koff = y->pos;
            if (is_flow_ind(y->s[koff]))
                return FAIL(y, -ERR_CORRUPT, koff, "expected a key");
            rc = flow_scalar(y, &key);
            if (rc < 0)
                return rc;
            if (!key)
                return FAIL(y, -ERR_INTERNAL, koff, "no key node");
            flow_skip(y);
            if (y->pos < y->n && y->s[y->pos] == ':') {
                y->pos++;
                flow_skip(y);
                if (y->pos < y->n && (y->s[y->pos] == ',' || y->s[y->pos] == close)) {
                    NEW_NODE(y, item, YAML_SCALAR, y->pos);
                } else {
                    rc = flow_node(y, &item);
                    if (rc < 0)
                        return rc;
                }
            } else {
                NEW_NODE(y, item, YAML_SCALAR, y->pos); /* "{a, b}": keys without values */
            }
            if (!item)
                return FAIL(y, -ERR_INTERNAL, koff, "no value node");
            item->key = key->str;
            item->line = key->line;
        } else {
            rc = flow_node(y, &item);
            if (rc < 0)
                return rc;
        }
        if (!item)
            return FAIL(y, -ERR_INTERNAL, y->pos, "no item node");
        *tail = item;
        tail = &item->next;
        flow_skip(y);
        if (y->pos < y->n && y->s[y->pos] == ',') {
            y->pos++;
        } else if (y->pos < y->n && y->s[y->pos] == close) {
            y->pos++;
            break;
        } else {
            return FAIL(y, -ERR_CORRUPT, y->pos < y->n ? y->pos : start,
                        "expected ',' or '%c' in a flow collection", close);
        }
    }
    y->depth--;
    *out = nd;
    return 0;
}

static int flow_node(struct yp *y, struct yaml_node **out)
{
    flow_skip(y);
    if (y->pos >= y->n)
        return FAIL(y, -ERR_CORRUPT, y->n, "unexpected end of input in a flow collection");
    char c = y->s[y->pos];
    if (c == '{' || c == '[')
        return flow_collection(y, out);
    if (c == ',' || c == ']' || c == '}')
        return FAIL(y, -ERR_CORRUPT, y->pos, "expected a value before '%c'", c);
    return flow_scalar(y, out);
}

/* ---- block structure --------------------------------------------------------------------- */

static int block_node(struct yp *y, size_t indent, size_t content, struct yaml_node **out);

static bool is_seq_item(const struct yp *y, size_t p)
{
    return y->s[p] == '-' &&
           (p + 1 >= y->n || y->s[p + 1] == ' ' || y->s[p + 1] == '\t' || at_eol(y, p + 1));
}

/* End of a plain block key starting at p (the ':' that is followed by a blank or the end
 * of the line), or 0 when the line holds no such key. Quoted keys: the ':' after the
 * closing quote. */
static size_t find_key_colon(const struct yp *y, size_t p)
{
    char c = y->s[p];
    if (c == '"' || c == '\'') {
        size_t i = p + 1;
        for (; !at_eol(y, i); i++) {
            if (c == '"' && y->s[i] == '\\') {
                i++;
                if (at_eol(y, i))
                    return 0;
                continue;
            }
            if (y->s[i] == c) {
                if (c == '\'' && i + 1 < y->n && y->s[i + 1] == '\'') {
                    i++;
                    continue;
                }
                break;
            }
        }
        if (at_eol(y, i))
            return 0;
        i = skip_blanks(y, i + 1);
        return (i < y->n && y->s[i] == ':' &&
                (at_eol(y, i + 1) || y->s[i + 1] == ' ' || y->s[i + 1] == '\t'))
                   ? i
                   : 0;
    }
    for (size_t i = p; !at_eol(y, i); i++) {
        if (y->s[i] == '#' && i > p && (y->s[i - 1] == ' ' || y->s[i - 1] == '\t'))
            return 0;
        if (y->s[i] == ':' && (at_eol(y, i + 1) || y->s[i + 1] == ' ' || y->s[i + 1] == '\t'))
            return i;
    }
    return 0;
}

/* A block scalar ("|" or ">" with optional indicators) after "key: " at y->pos: its lines
 * are those indented deeper than `indent`. The text is kept literally (folding is not
 * applied: no lockfile field we read is written this way). */
static int block_scalar(struct yp *y, size_t indent, struct yaml_node *nd)
{
    size_t p = y->pos + 1;
    char chomp = 0;
    while (p < y->n && (y->s[p] == '-' || y->s[p] == '+' || (y->s[p] >= '1' && y->s[p] <= '9'))) {
        if (y->s[p] == '-' || y->s[p] == '+')
            chomp = y->s[p];
        p++;
    }
    if (!rest_blank(y, p))
        return FAIL(y, -ERR_CORRUPT, p, "unexpected text after a block scalar indicator");
    y->pos = after_line(y, p);
    size_t start = y->pos, bind = 0, text_len = 0;
    /* first pass: the extent and the block's indentation */
    size_t q = start, end = start;
    while (q < y->n) {
        size_t i = q;
        while (i < y->n && y->s[i] == ' ')
            i++;
        if (at_eol(y, i)) {
            q = after_line(y, i);
            continue;
        }
        if (i - q <= indent)
            break;
        if (!bind)
            bind = i - q;
        if (i - q < bind)
            break;
        q = after_line(y, i);
        end = q;
    }
    char *buf = arena_alloc(y->a, end - start + 1), *o = buf;
    for (q = start; q < end;) {
        size_t le = after_line(y, q), i = q, k = 0;
        while (i < le && y->s[i] == ' ' && k < bind) {
            i++;
            k++;
        }
        size_t n = le - i;
        memcpy(o, y->s + i, n);
        o += n;
        q = le;
    }
    text_len = (size_t)(o - buf);
    /* line ends: CRLF -> LF is not needed for what we read; chomping */
    if (chomp == '-') {
        while (text_len && (buf[text_len - 1] == '\n' || buf[text_len - 1] == '\r'))
            text_len--;
    } else if (chomp == 0) {
        while (text_len >= 2 && buf[text_len - 1] == '\n' && buf[text_len - 2] == '\n')
            text_len--;
    }
    buf[text_len] = '\0';
    nd->str = str_make(buf, text_len);
    y->pos = end;
    return 0;
}

/* The value that follows "key: " or "- " on the same line, at y->pos (not blank).
 * `indent` is the indentation of the line's key or item. */
static int inline_value(struct yp *y, size_t indent, struct yaml_node **out)
{
    size_t p = y->pos;
    char c = y->s[p];
    int rc;
    if (c == '{' || c == '[') {
        rc = flow_collection(y, out);
        if (rc < 0)
            return rc;
        if (!rest_blank(y, y->pos))
            return FAIL(y, -ERR_CORRUPT, y->pos, "unexpected text after a flow collection");
        y->pos = after_line(y, y->pos);
        return 0;
    }
    struct yaml_node *nd = NULL;
    NEW_NODE(y, nd, YAML_SCALAR, p);
    *out = nd;
    if (c == '"' || c == '\'') {
        rc = quoted(y, &nd->str);
        if (rc < 0)
            return rc;
        if (!rest_blank(y, y->pos))
            return FAIL(y, -ERR_CORRUPT, y->pos, "unexpected text after a quoted scalar");
        y->pos = after_line(y, y->pos);
        return 0;
    }
    if (c == '|' || c == '>')
        return block_scalar(y, indent, nd);
    if (c == '&' || c == '*' || c == '!')
        return FAIL(y, -ERR_CORRUPT, p, "anchors, aliases and tags are not supported");
    if (c == '?' || c == '-' || c == ':') {
        if (p + 1 >= y->n || y->s[p + 1] == ' ' || y->s[p + 1] == '\t' || at_eol(y, p + 1))
            return FAIL(y, -ERR_CORRUPT, p, "unexpected '%c' indicator", c);
    }
    size_t e = p;
    while (!at_eol(y, e)) {
        if (y->s[e] == '#' && e > p && (y->s[e - 1] == ' ' || y->s[e - 1] == '\t'))
            break;
        if (y->s[e] == ':' && (at_eol(y, e + 1) || y->s[e + 1] == ' ' || y->s[e + 1] == '\t'))
            return FAIL(y, -ERR_CORRUPT, e, "': ' inside a plain value");
        e++;
    }
    size_t end = e;
    while (end > p && (y->s[end - 1] == ' ' || y->s[end - 1] == '\t' || y->s[end - 1] == '\r'))
        end--;
    nd->str = copy_str(y, p, end);
    y->pos = after_line(y, e);
    return 0;
}

/* Key at y->pos (the line's content), which find_key_colon() located at `colon`. */
static int block_key(struct yp *y, size_t colon, struct str *key)
{
    size_t p = y->pos;
    char c = y->s[p];
    if (c == '"' || c == '\'') {
        int rc = quoted(y, key);
        if (rc < 0)
            return rc;
    } else {
        if (c == '&' || c == '*' || c == '!')
            return FAIL(y, -ERR_CORRUPT, p, "anchors, aliases and tags are not supported");
        if (c == '?' && (y->s[p + 1] == ' ' || at_eol(y, p + 1)))
            return FAIL(y, -ERR_CORRUPT, p, "complex keys ('? ') are not supported");
        size_t end = colon;
        while (end > p && (y->s[end - 1] == ' ' || y->s[end - 1] == '\t'))
            end--;
        *key = copy_str(y, p, end);
    }
    y->pos = colon + 1;
    return 0;
}

/* What follows "key:" or "-" when the rest of that line is blank: a deeper block, a
 * sequence at the same indentation (only for a mapping value), or an empty value. */
static int nested_value(struct yp *y, size_t indent, bool allow_same_seq, size_t off,
                        struct yaml_node **out)
{
    size_t ind = 0, content = 0;
    int k = peek(y, &ind, &content);
    if (k < 0)
        return k;
    if (k == 1 && ind > indent)
        return block_node(y, ind, content, out);
    if (k == 1 && ind == indent && allow_same_seq && is_seq_item(y, content))
        return block_node(y, ind, content, out);
    struct yaml_node *nd = NULL;
    NEW_NODE(y, nd, YAML_SCALAR, off);
    *out = nd;
    return 0;
}

static int block_map(struct yp *y, size_t indent, struct yaml_node **out)
{
    struct yaml_node *nd = NULL, **tail = NULL;
    for (;;) {
        size_t ind = 0, content = 0;
        int k = peek(y, &ind, &content);
        if (k < 0)
            return k;
        if (k != 1 || ind < indent)
            break;
        if (ind > indent)
            return FAIL(y, -ERR_CORRUPT, content, "unexpected indentation");
        if (is_seq_item(y, content))
            return FAIL(y, -ERR_CORRUPT, content, "sequence item where a key was expected");
        size_t colon = find_key_colon(y, content);
        if (!colon)
            return FAIL(y, -ERR_CORRUPT, content, "expected 'key:'");
        if (!nd) {
            NEW_NODE(y, nd, YAML_MAP, content);
            tail = &nd->child;
        }
        y->virt = false;
        y->pos = content;
        struct str key;
        int rc = block_key(y, colon, &key);
        if (rc < 0)
            return rc;
        struct yaml_node *val = NULL;
        size_t v = skip_blanks(y, y->pos);
        if (rest_blank(y, v)) {
            y->pos = after_line(y, v);
            rc = nested_value(y, indent, true, content, &val);
        } else {
            y->pos = v;
            rc = inline_value(y, indent, &val);
        }
        if (rc < 0)
            return rc;
        if (!val)
            return FAIL(y, -ERR_INTERNAL, content, "no value node");
        val->key = key;
        val->line = line_of(y, content);
        *tail = val;
        tail = &val->next;
    }
    *out = nd;
    return 0;
}

static int block_seq(struct yp *y, size_t indent, struct yaml_node **out)
{
    struct yaml_node *nd = NULL, **tail = NULL;
    for (;;) {
        size_t ind = 0, content = 0;
        int k = peek(y, &ind, &content);
        if (k < 0)
            return k;
        if (k != 1 || ind < indent || (ind == indent && !is_seq_item(y, content)))
            break;
        if (ind > indent)
            return FAIL(y, -ERR_CORRUPT, content, "unexpected indentation");
        if (!nd) {
            NEW_NODE(y, nd, YAML_SEQ, content);
            tail = &nd->child;
        }
        y->virt = false;
        size_t v = skip_blanks(y, content + 1);
        struct yaml_node *item = NULL;
        int rc;
        if (rest_blank(y, v)) {
            y->pos = after_line(y, v);
            rc = nested_value(y, indent, false, content, &item);
        } else if (is_seq_item(y, v) ||
                   (y->s[v] != '{' && y->s[v] != '[' && find_key_colon(y, v))) {
            /* "- key: value" or "- - x": the rest of the line opens a block of its own */
            size_t line_start = content - indent;
            y->pos = v;
            y->virt = true;
            y->virt_indent = v - line_start;
            rc = block_node(y, y->virt_indent, v, &item);
            y->virt = false;
        } else {
            y->pos = v;
            rc = inline_value(y, indent, &item);
        }
        if (rc < 0)
            return rc;
        if (!item)
            return FAIL(y, -ERR_INTERNAL, content, "no item node");
        *tail = item;
        tail = &item->next;
    }
    *out = nd;
    return 0;
}

/* A block node whose first line has content at `content`, indented by `indent`. */
static int block_node(struct yp *y, size_t indent, size_t content, struct yaml_node **out)
{
    int rc = enter(y, content);
    if (rc < 0)
        return rc;
    if (is_seq_item(y, content)) {
        rc = block_seq(y, indent, out);
    } else if (y->s[content] == '{' || y->s[content] == '[' || !find_key_colon(y, content)) {
        /* a value on a line of its own ("key:\n  value") */
        y->virt = false;
        y->pos = content;
        rc = inline_value(y, indent > 0 ? indent - 1 : 0, out);
    } else {
        rc = block_map(y, indent, out);
    }
    y->depth--;
    return rc;
}

int yaml_parse(struct str text, struct arena *a, struct yaml_node **docs, struct diag *d)
{
    struct yp y = { .s = text.ptr ? text.ptr : "", .n = text.len, .a = a, .d = d, .lc_line = 1 };
    *docs = NULL;
    struct yaml_node **tail = docs;
    const char *nul = y.n ? memchr(y.s, '\0', y.n) : NULL;
    if (nul)
        return FAIL(&y, -ERR_CORRUPT, (size_t)(nul - y.s), "NUL byte");
    if (y.n >= 3 && memcmp(y.s, "\xEF\xBB\xBF", 3) == 0)
        y.pos = 3;

    bool open = false; /* a "---" started a document that has no content yet */
    for (;;) {
        size_t ind = 0, content = 0;
        int k = peek(&y, &ind, &content);
        if (k < 0)
            return k;
        struct yaml_node *doc = NULL;
        if (k == 0) {
            if (!open)
                break;
            open = false; /* a final "---" with nothing after it: an empty document */
        } else if (k == 2) {
            bool start = y.s[content] == '-';
            if (!rest_blank(&y, content + 3))
                return FAIL(&y, -ERR_CORRUPT, content + 3,
                            "content after a document marker is not supported");
            y.pos = after_line(&y, content);
            bool was_open = open;
            open = start;
            if (!was_open)
                continue;
            /* "---" right after "---", or "..." closing an empty document */
        } else {
            int rc = block_node(&y, ind, content, &doc);
            if (rc < 0)
                return rc;
            k = peek(&y, &ind, &content);
            if (k < 0)
                return k;
            if (k == 1)
                return FAIL(&y, -ERR_CORRUPT, content, "bad indentation");
            open = false;
        }
        if (!doc) {
            doc = new_node(&y, YAML_SCALAR, y.pos);
            if (!doc)
                return FAIL(&y, -ERR_TOO_BIG, y.pos, "too many nodes");
        }
        *tail = doc;
        tail = &doc->next;
        if (k == 0)
            break;
    }
    return 0;
}

const struct yaml_node *yaml_get(const struct yaml_node *m, const char *key)
{
    if (!m || m->kind != YAML_MAP)
        return NULL;
    for (const struct yaml_node *c = m->child; c; c = c->next)
        if (str_eq_cstr(c->key, key))
            return c;
    return NULL;
}

const struct str *yaml_get_str(const struct yaml_node *m, const char *key)
{
    const struct yaml_node *v = yaml_get(m, key);
    return v && v->kind == YAML_SCALAR ? &v->str : NULL;
}
