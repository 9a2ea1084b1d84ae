/* SPDX-License-Identifier: Apache-2.0 */
/* JSONPath subset for EventBridge target input ($, .name, ['name'], [N], .*, [*]) over jansson
 * trees, and the compact JSON writer used for everything the transformer prints. */
#include "jsonpath.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "base/xalloc.h"

enum step_kind {
    STEP_NAME,
    STEP_INDEX,
    STEP_WILDCARD,
};

struct step {
    enum step_kind kind;
    char *name; /* STEP_NAME: owned, NUL-terminated (names never hold NUL) */
    long long index;
};

struct jsonpath {
    VEC(struct step) steps;
    bool definite;
};

void jsonpath_free(struct jsonpath *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->steps.n; i++)
        free(p->steps.v[i].name);
    VEC_FREE(&p->steps);
    free(p);
}

bool jsonpath_is_definite(const struct jsonpath *p)
{
    return p->definite;
}

/* Bytes allowed in a dot-notation name. Non-ASCII bytes pass, so UTF-8 names work. */
static bool is_name_byte(unsigned char c)
{
    if (c <= 0x20 || c == 0x7f)
        return false;
    return !strchr(".[]*'\"", c);
}

static int bad(struct diag *d, size_t off, const char *what)
{
    return diag_set(d, -ERR_INVALID, off, "invalid JSON path at offset %zu: %s", off, what);
}

static void push_step(struct jsonpath *p, enum step_kind kind, char *name, long long index)
{
    struct step s = { kind, name, index };
    VEC_PUSH(&p->steps, s);
    if (kind == STEP_WILDCARD)
        p->definite = false;
}

/* [ ... ] starting at s[*i] == '['; advances *i past ']'. */
static int parse_bracket(struct jsonpath *p, const char *s, size_t n, size_t *i, struct diag *d)
{
    size_t at = *i;
    size_t j = at + 1;
    if (j >= n)
        return bad(d, at, "unterminated '['");
    if (s[j] == '*') {
        if (j + 1 >= n || s[j + 1] != ']')
            return bad(d, j, "expected ']' after '*'");
        push_step(p, STEP_WILDCARD, NULL, 0);
        *i = j + 2;
        return 0;
    }
    if (s[j] == '\'' || s[j] == '"') {
        char q = s[j++];
        struct buf name;
        buf_init(&name, JSONPATH_TEXT_MAX);
        for (;;) {
            if (j >= n) {
                buf_release(&name);
                return bad(d, at, "unterminated quoted name");
            }
            if (s[j] == q)
                break;
            if (s[j] == '\\' && j + 1 < n)
                j++;
            if (s[j] == '\0') {
                buf_release(&name);
                return bad(d, j, "NUL byte in name");
            }
            buf_putc(&name, s[j]); /* cannot exceed the cap: the text is shorter */
            j++;
        }
        j++;
        if (j >= n || s[j] != ']') {
            buf_release(&name);
            return bad(d, j, "expected ']' after quoted name");
        }
        push_step(p, STEP_NAME, buf_detach(&name, NULL), 0);
        *i = j + 1;
        return 0;
    }
    bool neg = false;
    if (s[j] == '-') {
        neg = true;
        j++;
    }
    size_t start = j;
    long long v = 0;
    while (j < n && s[j] >= '0' && s[j] <= '9') {
        if (v > (0x7fffffffLL - (s[j] - '0')) / 10)
            return bad(d, start, "array index too large");
        v = v * 10 + (s[j] - '0');
        j++;
    }
    if (j == start)
        return bad(d, at, "only ['name'], [N] and [*] are supported in brackets");
    if (j >= n || s[j] != ']')
        return bad(d, j, "only ['name'], [N] and [*] are supported in brackets");
    push_step(p, STEP_INDEX, NULL, neg ? -v : v);
    *i = j + 1;
    return 0;
}

int jsonpath_compile(struct str text, struct jsonpath **out, struct diag *d)
{
    *out = NULL;
    if (text.len > JSONPATH_TEXT_MAX)
        return diag_set(d, -ERR_TOO_BIG, 0, "JSON path longer than %d bytes", JSONPATH_TEXT_MAX);
    struct str t = str_trim(text);
    size_t lead = (size_t)(t.ptr - text.ptr);
    const char *s = t.ptr;
    size_t n = t.len;
    if (n == 0 || s[0] != '$')
        return bad(d, lead, "a JSON path starts with '$'");

    struct jsonpath *p = xcalloc(1, sizeof(*p));
    p->definite = true;
    int rc = 0;
    size_t i = 1;
    while (i < n) {
        if (s[i] == '[') {
            rc = parse_bracket(p, s, n, &i, d);
            if (rc < 0)
                goto out;
            continue;
        }
        if (s[i] != '.') {
            rc = bad(d, lead + i, "expected '.' or '['");
            goto out;
        }
        i++;
        if (i >= n) {
            rc = bad(d, lead + i, "a path does not end with '.'");
            goto out;
        }
        if (s[i] == '.') {
            rc = bad(d, lead + i, "deep scan (..) is not supported");
            goto out;
        }
        if (s[i] == '*') {
            push_step(p, STEP_WILDCARD, NULL, 0);
            i++;
            continue;
        }
        size_t start = i;
        while (i < n && is_name_byte((unsigned char)s[i]))
            i++;
        if (i == start) {
            rc = bad(d, lead + i, "expected a member name after '.'");
            goto out;
        }
        push_step(p, STEP_NAME, xstrndup(s + start, i - start), 0);
    }
out:
    if (rc < 0) {
        jsonpath_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* Member values of an object or elements of an array, in order; nothing for scalars. */
static void each_child(json_t *v, void (*fn)(json_t *child, void *arg), void *arg)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *c;
        json_array_foreach(v, i, c) fn(c, arg);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *c;
        json_object_foreach(v, k, c) fn(c, arg);
    }
}

static json_t *step_one(const struct step *s, json_t *v)
{
    switch (s->kind) {
    case STEP_NAME:
        return json_is_object(v) ? json_object_get(v, s->name) : NULL;
    case STEP_INDEX: {
        if (!json_is_array(v))
            return NULL;
        long long n = (long long)json_array_size(v);
        long long i = s->index < 0 ? n + s->index : s->index;
        return i >= 0 && i < n ? json_array_get(v, (size_t)i) : NULL;
    }
    case STEP_WILDCARD:
        break;
    }
    return NULL;
}

struct walk {
    const struct jsonpath *p;
    size_t at;     /* index of the next step */
    json_t *found; /* array of matches */
};

static void walk(json_t *v, struct walk *w);

static void walk_child(json_t *child, void *arg)
{
    struct walk *w = arg;
    struct walk next = { w->p, w->at + 1, w->found };
    walk(child, &next);
}

static void walk(json_t *v, struct walk *w)
{
    while (v && w->at < w->p->steps.n) {
        const struct step *s = &w->p->steps.v[w->at];
        if (s->kind == STEP_WILDCARD) {
            each_child(v, walk_child, w);
            return;
        }
        v = step_one(s, v);
        w->at++;
    }
    if (v)
        json_array_append(w->found, v);
}

json_t *jsonpath_eval(const struct jsonpath *p, json_t *root)
{
    if (!root)
        return NULL;
    if (p->definite) {
        json_t *v = root;
        for (size_t i = 0; v && i < p->steps.n; i++)
            v = step_one(&p->steps.v[i], v);
        return v ? json_incref(v) : NULL;
    }
    struct walk w = { p, 0, json_array() };
    walk(root, &w);
    if (json_array_size(w.found) == 0) {
        json_decref(w.found);
        return NULL;
    }
    return w.found;
}

/* ---- compact writer ---- */

static int dump_string(const char *s, size_t n, struct buf *out)
{
    int rc = buf_putc(out, '"');
    size_t run = 0; /* bytes copied verbatim in one go */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[8];
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        default:
            if (c < 0x20) {
                snprintf(u, sizeof(u), "\\u%04x", c);
                esc = u;
            }
            break;
        }
        if (!esc) {
            run++;
            continue;
        }
        rc = buf_append(out, s + i - run, run);
        run = 0;
        if (rc == 0)
            rc = buf_append_cstr(out, esc);
    }
    if (rc == 0)
        rc = buf_append(out, s + n - run, run);
    if (rc == 0)
        rc = buf_putc(out, '"');
    return rc;
}

int jsonpath_dump_real(double x, struct buf *out)
{
    /* Precisions below are clamped where the compiler can see it: %e then needs under 32
     * bytes and %f under 340 (a double's integer part has at most 309 digits). */
    char tmp[400];
    if (!isfinite(x)) /* jansson never holds these; print something valid anyway */
        return buf_append_cstr(out, "null");
    /* fewest significant digits (1..17) that read back to x */
    unsigned digits = 0; /* after the point in %e */
    for (; digits < 16; digits++) {
        snprintf(tmp, sizeof(tmp), "%.*e", (int)digits, x);
        if (strtod(tmp, NULL) == x)
            break;
    }
    snprintf(tmp, sizeof(tmp), "%.*e", (int)digits, x);
    int exp10 = (int)strtol(strchr(tmp, 'e') + 1, NULL, 10);
    /* plain notation for ordinary magnitudes (100.0, not 1e+02), exponent otherwise */
    if (exp10 >= -5 && exp10 < 17) {
        int dec = (int)digits - exp10; /* 0..21 here */
        unsigned places = dec > 0 ? (unsigned)dec : 0;
        if (places > 21)
            places = 21;
        snprintf(tmp, sizeof(tmp), "%.*f", (int)places, x);
    } else {
        snprintf(tmp, sizeof(tmp), "%.*g", (int)digits + 1, x);
    }
    int rc = buf_append_cstr(out, tmp);
    if (rc == 0 && !strpbrk(tmp, ".eE"))
        rc = buf_append_cstr(out, ".0");
    return rc;
}

int jsonpath_dump(const json_t *v, struct buf *out)
{
    int rc = 0;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *c;
        bool first = true;
        rc = buf_putc(out, '{');
        /* json_object_foreach wants a non-const object; iteration does not modify it */
        json_t *o = (json_t *)(uintptr_t)v;
        json_object_foreach(o, k, c)
        {
            if (rc == 0 && !first)
                rc = buf_putc(out, ',');
            first = false;
            if (rc == 0)
                rc = dump_string(k, strlen(k), out);
            if (rc == 0)
                rc = buf_putc(out, ':');
            if (rc == 0)
                rc = jsonpath_dump(c, out);
            if (rc < 0)
                return rc;
        }
        return rc == 0 ? buf_putc(out, '}') : rc;
    }
    case JSON_ARRAY: {
        rc = buf_putc(out, '[');
        for (size_t i = 0; rc == 0 && i < json_array_size(v); i++) {
            if (i)
                rc = buf_putc(out, ',');
            if (rc == 0)
                rc = jsonpath_dump(json_array_get(v, i), out);
        }
        return rc == 0 ? buf_putc(out, ']') : rc;
    }
    case JSON_STRING:
        return dump_string(json_string_value(v), json_string_length(v), out);
    case JSON_INTEGER:
        return buf_printf(out, "%lld", (long long)json_integer_value(v));
    case JSON_REAL:
        return jsonpath_dump_real(json_real_value(v), out);
    case JSON_TRUE:
        return buf_append_cstr(out, "true");
    case JSON_FALSE:
        return buf_append_cstr(out, "false");
    case JSON_NULL:
        return buf_append_cstr(out, "null");
    }
    return rc;
}
