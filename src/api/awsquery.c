/* SPDX-License-Identifier: Apache-2.0 */
/* The AWS Query protocol's requests: application/x-www-form-urlencoded decoding (bodies and GET
 * query strings) and the unflattening of "A.member.N" lists, "A.entry.N.key/value" maps and
 * "A.B" structures into the JSON input the validator and the handlers work on. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "awsproto_internal.h"
#include "base/xalloc.h"

/* ---- Form decoding ---------------------------------------------------------------------- */

static int malformed(struct aws_error *err, const char *what)
{
    /* AWS's common Query errors list MalformedQueryString with HTTP 404 */
    return aws_error_set(err, 404, true, "MalformedQueryString", "%s", what);
}

static int hexdigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode s[0..n) ('+' is a space, %XX a byte) into a new string. Returns NULL for a bad escape. */
static char *form_decode(const char *s, size_t n, size_t *out_len)
{
    char *o = xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            o[k++] = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? hexdigit(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexdigit(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(o);
                return NULL;
            }
            o[k++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            o[k++] = c;
        }
    }
    o[k] = '\0';
    *out_len = k;
    return o;
}

void aws_form_release(struct aws_form *form)
{
    for (size_t i = 0; i < form->n; i++) {
        free(form->v[i].name);
        free(form->v[i].value);
    }
    free(form->v);
    form->v = NULL;
    form->n = 0;
}

const char *aws_form_get(const struct aws_form *form, const char *name)
{
    for (size_t i = 0; i < form->n; i++)
        if (strcmp(form->v[i].name, name) == 0)
            return form->v[i].value;
    return NULL;
}

int aws_form_parse(struct str text, struct aws_form *form, struct aws_error *err)
{
    form->v = NULL;
    form->n = 0;
    size_t cap = 0;
    const char *p = text.ptr ? text.ptr : "";
    const char *end = p + text.len;
    int rc = 0;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *seg_end = amp ? amp : end;
        if (seg_end > p) {
            if (form->n >= AWS_FORM_PARAMS_MAX) {
                rc = malformed(err, "Too many parameters in the request");
                goto fail;
            }
            const char *eq = memchr(p, '=', (size_t)(seg_end - p));
            const char *name_end = eq ? eq : seg_end;
            size_t nlen, vlen = 0;
            char *name = form_decode(p, (size_t)(name_end - p), &nlen);
            char *value = eq ? form_decode(eq + 1, (size_t)(seg_end - eq - 1), &vlen) : xstrdup("");
            const char *bad = NULL;
            if (!name || !value)
                bad = "Invalid percent-encoding in the query string";
            else if (nlen == 0)
                bad = "Empty parameter name in the query string";
            else if (nlen > AWS_FORM_NAME_MAX)
                bad = "Parameter name too long";
            else if (memchr(name, '\0', nlen) || !aws_utf8_valid(name, nlen) ||
                     memchr(value, '\0', vlen) || !aws_utf8_valid(value, vlen))
                bad = "Parameter names and values must be UTF-8 text without NUL";
            else if (aws_form_get(form, name))
                bad = "A parameter is given more than once";
            if (bad) {
                free(name);
                free(value);
                rc = malformed(err, bad);
                goto fail;
            }
            if (form->n == cap) {
                cap = cap ? cap * 2 : 16;
                form->v = xreallocarray(form->v, cap, sizeof(*form->v));
            }
            form->v[form->n++] = (struct aws_param){ name, value, vlen };
        }
        p = amp ? amp + 1 : end;
    }
    return 0;
fail:
    aws_form_release(form);
    return rc;
}

/* ---- Unflattening ----------------------------------------------------------------------- */

#define PREFIX_MAX (AWS_FORM_NAME_MAX + 64)

struct qctx {
    const struct aws_form *form;
    struct aws_error *err;
    char prefix[PREFIX_MAX];
    size_t plen;
};

static const struct aws_param *exact(const struct qctx *q)
{
    for (size_t i = 0; i < q->form->n; i++)
        if (strcmp(q->form->v[i].name, q->prefix) == 0)
            return &q->form->v[i];
    return NULL;
}

/* Whether a parameter name starts with "<prefix>.". */
static bool is_child(const struct qctx *q, const char *name)
{
    return strncmp(name, q->prefix, q->plen) == 0 && name[q->plen] == '.';
}

static bool has_children(const struct qctx *q)
{
    for (size_t i = 0; i < q->form->n; i++)
        if (is_child(q, q->form->v[i].name))
            return true;
    return false;
}

/* Append ".seg" (or "seg" at the top) to the prefix; false when it would not fit (no name of
 * the form can be that long then, so the member is simply absent). */
static bool push(struct qctx *q, const char *seg, size_t *saved)
{
    size_t n = strlen(seg);
    *saved = q->plen;
    if (q->plen + 1 + n >= sizeof(q->prefix))
        return false;
    if (q->plen)
        q->prefix[q->plen++] = '.';
    memcpy(q->prefix + q->plen, seg, n + 1);
    q->plen += n;
    return true;
}

static void pop(struct qctx *q, size_t saved)
{
    q->plen = saved;
    q->prefix[saved] = '\0';
}

static int cmp_ulong(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return x < y ? -1 : x > y;
}

/* The distinct indexes N of the names "<prefix>.N" or "<prefix>.N.*", sorted. The prefix
 * already ends in ".member" / ".entry". */
static int indexes(struct qctx *q, unsigned long **out, size_t *count)
{
    unsigned long *v = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < q->form->n; i++) {
        const char *name = q->form->v[i].name;
        if (!is_child(q, name))
            continue;
        const char *s = name + q->plen + 1;
        unsigned long idx = 0;
        size_t digits = 0;
        while (s[digits] >= '0' && s[digits] <= '9' && digits < 8)
            idx = idx * 10 + (unsigned long)(s[digits++] - '0');
        if (digits == 0 || (s[digits] != '\0' && s[digits] != '.') || s[0] == '0') {
            free(v);
            return malformed(q->err, "Bad list or map index in a parameter name");
        }
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = v[j] == idx;
        if (seen)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            v = xreallocarray(v, cap, sizeof(*v));
        }
        v[n++] = idx;
    }
    if (n)
        qsort(v, n, sizeof(*v), cmp_ulong);
    *out = v;
    *count = n;
    return 0;
}

static int bad_value(struct qctx *q, const char *value, const char *what)
{
    return aws_error_set(q->err, 400, true, "ValidationError",
                         "1 validation error detected: Value '%s' at '%s' failed to satisfy "
                         "constraint: Member must be %s",
                         value, q->prefix, what);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static bool digits_at(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* "YYYY-MM-DDTHH:MM:SS[.fff]Z" (what botocore sends for Query timestamps) to epoch ms. */
static bool parse_iso8601(const char *s, long long *ms)
{
    int y, mo, d, h, mi, se;
    if (strlen(s) < 20 || !digits_at(s, 4, &y) || s[4] != '-' || !digits_at(s + 5, 2, &mo) ||
        s[7] != '-' || !digits_at(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
        !digits_at(s + 11, 2, &h) || s[13] != ':' || !digits_at(s + 14, 2, &mi) || s[16] != ':' ||
        !digits_at(s + 17, 2, &se))
        return false;
    const char *p = s + 19;
    int frac = 0, scale = 1000;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9') {
            if (scale > 1) {
                scale /= 10;
                frac += (*p - '0') * scale;
            }
            p++;
        }
    }
    if ((*p != 'Z' && *p != 'z') || p[1] != '\0')
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    *ms = (days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + (long long)h * 3600 +
           (long long)mi * 60 + se) *
              1000 +
          frac;
    return true;
}

static int convert(struct qctx *q, int shape_index, json_t **out);

static int convert_structure(struct qctx *q, const struct aws_shape *s, json_t **out)
{
    json_t *obj = json_object();
    for (unsigned i = 0; i < s->count; i++) {
        const struct aws_field *f = aws_field_at(s->first + i);
        size_t saved;
        if (!push(q, f->query_name ? f->query_name : f->name, &saved)) {
            pop(q, saved);
            continue;
        }
        json_t *m = NULL;
        int rc = convert(q, f->shape, &m);
        pop(q, saved);
        if (rc) {
            json_decref(obj);
            return rc;
        }
        if (m)
            json_object_set_new(obj, f->name, m);
    }
    if (json_object_size(obj) == 0 && q->plen > 0) {
        json_decref(obj);
        obj = NULL;
    }
    *out = obj;
    return 0;
}

static int convert_list(struct qctx *q, const struct aws_shape *s, json_t **out)
{
    size_t saved;
    if (!push(q, s->member_name, &saved)) {
        pop(q, saved);
        return 0;
    }
    unsigned long *idx = NULL;
    size_t n = 0;
    int rc = indexes(q, &idx, &n);
    if (rc) {
        pop(q, saved);
        return rc;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n && rc == 0; i++) {
        char seg[24];
        snprintf(seg, sizeof(seg), "%lu", idx[i]);
        size_t s2;
        if (!push(q, seg, &s2)) {
            pop(q, s2);
            continue;
        }
        json_t *e = NULL;
        rc = convert(q, s->member, &e);
        pop(q, s2);
        if (rc == 0 && e)
            json_array_append_new(arr, e);
    }
    free(idx);
    pop(q, saved);
    if (rc) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}

static int convert_map(struct qctx *q, const struct aws_shape *s, json_t **out)
{
    size_t saved;
    if (!push(q, "entry", &saved)) {
        pop(q, saved);
        return 0;
    }
    unsigned long *idx = NULL;
    size_t n = 0;
    int rc = indexes(q, &idx, &n);
    if (rc) {
        pop(q, saved);
        return rc;
    }
    json_t *obj = json_object();
    for (size_t i = 0; i < n && rc == 0; i++) {
        char seg[24];
        snprintf(seg, sizeof(seg), "%lu", idx[i]);
        size_t s2, s3;
        if (!push(q, seg, &s2)) {
            pop(q, s2);
            continue;
        }
        const struct aws_param *key = NULL;
        if (push(q, s->member_name, &s3))
            key = exact(q);
        pop(q, s3);
        json_t *val = NULL;
        if (push(q, s->value_name, &s3))
            rc = convert(q, s->value, &val);
        pop(q, s3);
        pop(q, s2);
        if (rc)
            break;
        if (!key || !val) {
            json_decref(val);
            rc = malformed(q->err, "A map entry needs both its key and its value");
        } else if (json_object_get(obj, key->value)) {
            json_decref(val);
            rc = malformed(q->err, "A map key is given more than once");
        } else {
            json_object_set_new(obj, key->value, val);
        }
    }
    free(idx);
    pop(q, saved);
    if (rc) {
        json_decref(obj);
        return rc;
    }
    *out = obj;
    return 0;
}

/* *out = the value at q->prefix, or NULL when the request does not mention it. */
static int convert(struct qctx *q, int shape_index, json_t **out)
{
    const struct aws_shape *s = aws_shape_at(shape_index);
    *out = NULL;
    const struct aws_param *p = exact(q);
    switch ((enum aws_type)s->type) {
    case AWS_T_STRUCTURE:
    case AWS_T_LIST:
    case AWS_T_MAP: {
        bool children = has_children(q);
        if (p && p->value_len > 0)
            return malformed(q->err, "A list, map or structure parameter has a value");
        if (!children) {
            /* "Tags=" is how an empty list is sent */
            if (p && s->type == AWS_T_LIST)
                *out = json_array();
            if (p && s->type == AWS_T_MAP)
                *out = json_object();
            return 0;
        }
        if (s->type == AWS_T_STRUCTURE)
            return convert_structure(q, s, out);
        if (s->type == AWS_T_LIST)
            return convert_list(q, s, out);
        return convert_map(q, s, out);
    }
    case AWS_T_STRING:
        if (p)
            *out = json_stringn(p->value, p->value_len);
        return 0;
    case AWS_T_BOOLEAN:
        if (!p)
            return 0;
        if (strcasecmp(p->value, "true") == 0)
            *out = json_true();
        else if (strcasecmp(p->value, "false") == 0)
            *out = json_false();
        else
            return bad_value(q, p->value, "a boolean (true or false)");
        return 0;
    case AWS_T_INTEGER:
    case AWS_T_LONG: {
        if (!p)
            return 0;
        char *end;
        errno = 0;
        long long v = strtoll(p->value, &end, 10);
        bool ok = p->value_len > 0 && *end == '\0' && errno == 0 && p->value[0] != ' ' &&
                  p->value[0] != '+' &&
                  (s->type == AWS_T_LONG || (v >= -2147483648LL && v <= 2147483647LL));
        if (!ok)
            return bad_value(q, p->value, "an integer");
        *out = json_integer(v);
        return 0;
    }
    case AWS_T_DOUBLE:
    case AWS_T_FLOAT: {
        if (!p)
            return 0;
        char *end;
        double v = strtod(p->value, &end);
        if (p->value_len == 0 || *end != '\0' || !isfinite(v) || p->value[0] == ' ')
            return bad_value(q, p->value, "a number");
        *out = json_real(v);
        return 0;
    }
    case AWS_T_TIMESTAMP: {
        if (!p)
            return 0;
        long long ms;
        if (!parse_iso8601(p->value, &ms))
            return bad_value(q, p->value, "an ISO 8601 timestamp");
        *out = aws_json_time(ms);
        return 0;
    }
    case AWS_T_BLOB:
        if (!p)
            return 0;
        if (!aws_base64_valid(p->value, p->value_len))
            return bad_value(q, p->value, "base64-encoded");
        *out = json_stringn(p->value, p->value_len);
        return 0;
    }
    return 0;
}

int aws_query_decode_input(const struct aws_operation *op, const struct aws_form *form,
                           json_t **out, struct aws_error *err)
{
    *out = NULL;
    json_t *input = NULL;
    if (op->input >= 0) {
        struct qctx q = { .form = form, .err = err };
        int rc = convert_structure(&q, aws_shape_at(op->input), &input);
        if (rc)
            return rc;
    } else {
        input = json_object();
    }
    int rc = aws_validate_input(op, input, err);
    if (rc) {
        json_decref(input);
        return rc;
    }
    *out = input;
    return 0;
}
