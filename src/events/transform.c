/* SPDX-License-Identifier: Apache-2.0 */
/* EventBridge target input: PutTargets-time validation of Input / InputPath / InputTransformer
 * and per-event rendering with EventBridge's quoting rules for string and JSON templates. */
#include "transform.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/vec.h"
#include "base/xalloc.h"
#include "jsonpath.h"

enum xform_kind {
    XFORM_EVENT,       /* nothing set: the whole event */
    XFORM_CONSTANT,    /* Input */
    XFORM_PATH,        /* InputPath */
    XFORM_TRANSFORMER, /* InputTransformer */
};

/* Where a template variable's value comes from. */
enum var_kind {
    VAR_PATH,
    VAR_RULE_ARN,
    VAR_RULE_NAME,
    VAR_INGESTION_TIME,
    VAR_EVENT,
    VAR_EVENT_JSON,
};

static const struct {
    const char *name;
    enum var_kind kind;
} predefined[] = {
    { "aws.events.rule-arn", VAR_RULE_ARN },
    { "aws.events.rule-name", VAR_RULE_NAME },
    { "aws.events.event.ingestion-time", VAR_INGESTION_TIME },
    { "aws.events.event", VAR_EVENT },
    { "aws.events.event.json", VAR_EVENT_JSON },
};

struct var {
    char *name; /* owned */
    enum var_kind kind;
    struct jsonpath *path; /* VAR_PATH only */
};

/* A template piece: literal text, or a placeholder naming vars[var]. */
struct seg {
    size_t off, len; /* in the template */
    int var;         /* -1 for literal text */
    bool in_string;  /* JSON template: the placeholder sits inside a JSON string */
};

struct xform {
    enum xform_kind kind;
    char *text; /* Input or InputTemplate (owned) */
    size_t text_len;
    struct jsonpath *path; /* InputPath */
    bool is_json;          /* template whose first non-blank byte is '{' */
    VEC(struct var) vars;
    VEC(struct seg) segs;
};

void xform_free(struct xform *x)
{
    if (!x)
        return;
    free(x->text);
    jsonpath_free(x->path);
    for (size_t i = 0; i < x->vars.n; i++) {
        free(x->vars.v[i].name);
        jsonpath_free(x->vars.v[i].path);
    }
    VEC_FREE(&x->vars);
    VEC_FREE(&x->segs);
    free(x);
}

bool xform_is_json_template(const struct xform *x)
{
    return x->kind == XFORM_TRANSFORMER && x->is_json;
}

/* ---- validation messages ---- */

/* Length as the service counts it: UTF-16 code units (a 4-byte UTF-8 sequence counts 2). */
static size_t utf16_len(const char *s, size_t n)
{
    size_t units = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xc0) != 0x80)
            units += (c >= 0xf0) ? 2 : 1;
    }
    return units;
}

/* Model-validation failures, collected so that several are reported in one message. */
struct violations {
    VEC(char *) v;
};

__attribute__((format(printf, 2, 3))) static void violation(struct violations *vs, const char *fmt,
                                                            ...)
{
    struct buf b;
    buf_init(&b, (size_t)1 << 24);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    VEC_PUSH(&vs->v, buf_detach(&b, NULL));
}

static void violations_release(struct violations *vs)
{
    for (size_t i = 0; i < vs->v.n; i++)
        free(vs->v.v[i]);
    VEC_FREE(&vs->v);
}

/* Put a finished message in *msg and *d; returns err. */
static int refuse(struct buf *msg, struct diag *d, int err, size_t off, const char *text)
{
    if (msg) {
        buf_reset(msg);
        size_t n = strlen(text);
        buf_append(msg, text, n < msg->max ? n : msg->max); /* cut at the caller's cap */
    }
    return diag_set(d, err, off, "%s", text);
}

__attribute__((format(printf, 5, 6))) static int refusef(struct buf *msg, struct diag *d, int err,
                                                         size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct buf b;
    buf_init(&b, (size_t)1 << 20);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    int rc = refuse(msg, d, err, off, buf_cstr(&b));
    buf_release(&b);
    return rc;
}

/* Java's Map.toString of the paths map, as the service quotes it: {k=v, k2=v2}. */
static void map_to_string(const json_t *map, struct buf *b)
{
    const char *k;
    json_t *v;
    bool first = true;
    buf_putc(b, '{');
    json_object_foreach((json_t *)(uintptr_t)map, k, v)
    {
        buf_printf(b, "%s%s=%s", first ? "" : ", ", k, json_string_value(v));
        first = false;
    }
    buf_putc(b, '}');
}

static bool key_matches_pattern(const char *k)
{
    if (!*k)
        return false;
    for (const char *p = k; *p; p++) {
        char c = *p;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static void check_paths_map(const json_t *map, unsigned member, struct violations *vs)
{
    struct buf shown;
    buf_init(&shown, (size_t)1 << 22);
    map_to_string(map, &shown);
    const char *at = "inputTransformer.inputPathsMap";

    if (json_object_size(map) > XFORM_MAX_PATHS)
        violation(vs,
                  "Value '%s' at 'targets.%u.member.%s' failed to satisfy constraint: Member "
                  "must have length less than or equal to %d",
                  buf_cstr(&shown), member, at, XFORM_MAX_PATHS);

    bool too_long = false, too_short = false, pattern = false, value_long = false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)map, k, v)
    {
        size_t klen = utf16_len(k, strlen(k));
        too_long |= klen > XFORM_KEY_MAX;
        too_short |= klen < 1;
        pattern |= !key_matches_pattern(k);
        value_long |= utf16_len(json_string_value(v), json_string_length(v)) > XFORM_PATH_MAX;
    }
    if (too_long || too_short || pattern) {
        struct buf c;
        buf_init(&c, 1024);
        if (too_long)
            buf_printf(&c, "Member must have length less than or equal to %d", XFORM_KEY_MAX);
        if (too_short)
            buf_printf(&c, "%sMember must have length greater than or equal to 1",
                       c.len ? ", " : "");
        if (pattern)
            buf_printf(&c, "%sMember must satisfy regular expression pattern: [A-Za-z0-9\\_\\-]+",
                       c.len ? ", " : "");
        violation(vs,
                  "Value '%s' at 'targets.%u.member.%s' failed to satisfy constraint: Map keys "
                  "must satisfy constraint: [%s]",
                  buf_cstr(&shown), member, at, buf_cstr(&c));
        buf_release(&c);
    }
    if (value_long)
        violation(vs,
                  "Value '%s' at 'targets.%u.member.%s' failed to satisfy constraint: Map value "
                  "must satisfy constraint: [Member must have length less than or equal to %d]",
                  buf_cstr(&shown), member, at, XFORM_PATH_MAX);
    buf_release(&shown);
}

static void check_model(const struct xform_spec *s, const json_t *map, struct violations *vs)
{
    unsigned m = s->member ? s->member : 1;
    if (s->input && utf16_len(s->input, s->input_len) > XFORM_INPUT_MAX)
        violation(vs,
                  "Value '%.*s' at 'targets.%u.member.input' failed to satisfy constraint: Member "
                  "must have length less than or equal to %d",
                  (int)s->input_len, s->input, m, XFORM_INPUT_MAX);
    if (s->input_path && utf16_len(s->input_path, s->input_path_len) > XFORM_PATH_MAX)
        violation(vs,
                  "Value '%.*s' at 'targets.%u.member.inputPath' failed to satisfy constraint: "
                  "Member must have length less than or equal to %d",
                  (int)s->input_path_len, s->input_path, m, XFORM_PATH_MAX);
    if (!s->has_transformer)
        return;
    if (map)
        check_paths_map(map, m, vs);
    const char *at = "inputTransformer.inputTemplate";
    if (!s->input_template) {
        violation(vs,
                  "Value null at 'targets.%u.member.%s' failed to satisfy constraint: Member must "
                  "not be null",
                  m, at);
        return;
    }
    size_t tl = utf16_len(s->input_template, s->input_template_len);
    if (tl < 1)
        violation(vs,
                  "Value '' at 'targets.%u.member.%s' failed to satisfy constraint: Member must "
                  "have length greater than or equal to 1",
                  m, at);
    if (tl > XFORM_TEMPLATE_MAX)
        violation(vs,
                  "Value '%.*s' at 'targets.%u.member.%s' failed to satisfy constraint: Member "
                  "must have length less than or equal to %d",
                  (int)s->input_template_len, s->input_template, m, at, XFORM_TEMPLATE_MAX);
}

static int refuse_violations(struct violations *vs, struct buf *msg, struct diag *d)
{
    struct buf b;
    buf_init(&b, (size_t)1 << 24);
    buf_printf(&b, "%zu validation error%s detected: ", vs->v.n, vs->v.n == 1 ? "" : "s");
    for (size_t i = 0; i < vs->v.n; i++)
        buf_printf(&b, "%s%s", i ? "; " : "", vs->v.v[i]);
    int rc = refuse(msg, d, -ERR_INVALID, 0, buf_cstr(&b));
    buf_release(&b);
    return rc;
}

/* ---- template compilation ---- */

static int find_var(const struct xform *x, const char *name, size_t len)
{
    for (size_t i = 0; i < x->vars.n; i++) {
        const char *v = x->vars.v[i].name;
        if (strlen(v) == len && memcmp(v, name, len) == 0)
            return (int)i;
    }
    return -1;
}

static void add_var(struct xform *x, const char *name, enum var_kind kind, struct jsonpath *path)
{
    struct var v = { xstrdup(name), kind, path };
    VEC_PUSH(&x->vars, v);
}

static void add_seg(struct xform *x, size_t off, size_t len, int var, bool in_string)
{
    if (len == 0 && var < 0)
        return;
    struct seg s = { off, len, var, in_string };
    VEC_PUSH(&x->segs, s);
}

/*
 * Split the template into literal runs and placeholders. A placeholder is '<', a name of bytes
 * other than '<', '>' and newline, then '>'; "<" and ">" cannot be escaped, so any such pair
 * names a variable and must be defined. In a JSON template, track whether we are inside a
 * JSON string (a backslash escapes the next byte there).
 */
static int scan_template(struct xform *x, const char *id, struct buf *msg, struct diag *d)
{
    const char *t = x->text;
    size_t n = x->text_len;
    size_t i = 0;
    while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
        i++;
    x->is_json = i < n && t[i] == '{';

    bool in_str = false;
    size_t lit = 0; /* start of the pending literal run */
    i = 0;
    while (i < n) {
        char c = t[i];
        if (x->is_json && in_str && c == '\\') {
            i += 2;
            continue;
        }
        if (x->is_json && c == '"') {
            in_str = !in_str;
            i++;
            continue;
        }
        if (c != '<') {
            i++;
            continue;
        }
        size_t k = i + 1;
        while (k < n && t[k] != '>' && t[k] != '<' && t[k] != '\n')
            k++;
        if (k >= n || t[k] != '>') {
            i = k; /* no placeholder starts at i; rescan from the byte that stopped us */
            continue;
        }
        const char *name = t + i + 1;
        size_t len = k - i - 1;
        int var = find_var(x, name, len);
        if (var < 0) {
            for (size_t p = 0; p < ARRAY_SIZE(predefined); p++) {
                if (strlen(predefined[p].name) == len &&
                    memcmp(predefined[p].name, name, len) == 0) {
                    add_var(x, predefined[p].name, predefined[p].kind, NULL);
                    var = (int)x->vars.n - 1;
                    break;
                }
            }
        }
        if (var < 0)
            return refusef(msg, d, -ERR_INVALID, i,
                           "InputTemplate for target %s contains invalid placeholder %.*s.", id,
                           (int)len, name);
        add_seg(x, lit, i - lit, -1, false);
        add_seg(x, i, k + 1 - i, var, in_str);
        i = k + 1;
        lit = i;
    }
    add_seg(x, lit, n - lit, -1, false);
    return 0;
}

/* Parse the paths map text: a JSON object of strings. */
static int load_paths_map(const struct xform_spec *s, json_t **out, struct buf *msg, struct diag *d)
{
    *out = NULL;
    if (!s->paths_map)
        return 0;
    if (s->paths_map_len > XFORM_PATHS_MAP_TEXT_MAX)
        return refuse(msg, d, -ERR_TOO_BIG, 0, "InputPathsMap is too large.");
    json_error_t je;
    json_t *map = json_loadb(s->paths_map, s->paths_map_len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(map)) {
        json_decref(map);
        return refuse(msg, d, -ERR_INVALID, 0, "InputPathsMap must be a JSON object.");
    }
    const char *k;
    json_t *v;
    json_object_foreach(map, k, v)
    {
        if (!json_is_string(v)) {
            /* k lives in map: format the message before letting go of it */
            int rc = refusef(msg, d, -ERR_INVALID, 0,
                             "InputPathsMap value for key %s must be a string.", k);
            json_decref(map);
            return rc;
        }
    }
    *out = map;
    return 0;
}

int xform_compile(const struct xform_spec *s, struct xform **out, struct buf *msg, struct diag *d)
{
    *out = NULL;
    const char *id = s->target_id ? s->target_id : "";
    json_t *map = NULL;
    struct xform *x = NULL;
    struct violations vs = { VEC_INIT };
    int rc = 0;
    if (s->has_transformer) {
        rc = load_paths_map(s, &map, msg, d);
        if (rc < 0)
            goto out;
    }

    check_model(s, map, &vs);
    if (vs.v.n) {
        rc = refuse_violations(&vs, msg, d);
        goto out;
    }
    int given = (s->input != NULL) + (s->input_path != NULL) + s->has_transformer;
    if (given > 1) {
        rc = refusef(msg, d, -ERR_INVALID, 0,
                     "Only one of Input, InputPath, or InputTransformer must be provided for "
                     "target %s.",
                     id);
        goto out;
    }

    x = xcalloc(1, sizeof(*x));
    if (s->input) {
        json_error_t je;
        json_t *v = json_loadb(s->input, s->input_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        if (!v) {
            rc = refusef(msg, d, -ERR_INVALID, je.position,
                         "Input for target %s is not a valid JSON text.", id);
            goto out;
        }
        json_decref(v);
        x->kind = XFORM_CONSTANT;
        x->text = xstrndup(s->input, s->input_len);
        x->text_len = s->input_len;
    } else if (s->input_path) {
        struct diag pd = { 0 };
        if (jsonpath_compile(str_make(s->input_path, s->input_path_len), &x->path, &pd) < 0) {
            rc = refusef(msg, d, -ERR_INVALID, pd.offset,
                         "InputPath for target %s is not a valid JSON path.", id);
            goto out;
        }
        x->kind = XFORM_PATH;
    } else if (s->has_transformer) {
        x->kind = XFORM_TRANSFORMER;
        const char *k;
        json_t *v;
        json_object_foreach(map, k, v)
        {
            struct jsonpath *p = NULL;
            struct diag pd = { 0 };
            if (jsonpath_compile(str_make(json_string_value(v), json_string_length(v)), &p, &pd) <
                0) {
                rc = refusef(msg, d, -ERR_INVALID, pd.offset,
                             "InputPathsMap for target %s contains an invalid JSON path for key "
                             "%s.",
                             id, k);
                goto out;
            }
            add_var(x, k, VAR_PATH, p);
        }
        x->text = xstrndup(s->input_template, s->input_template_len);
        x->text_len = s->input_template_len;
        rc = scan_template(x, id, msg, d);
        if (rc < 0)
            goto out;
    } else {
        x->kind = XFORM_EVENT;
    }
out:
    violations_release(&vs);
    json_decref(map);
    if (rc < 0) {
        xform_free(x);
        return rc;
    }
    *out = x;
    return 0;
}

/* ---- rendering ---- */

/* How a value is printed at a placeholder. */
enum mode {
    MODE_TEXT,    /* string template */
    MODE_JSON,    /* JSON template, outside a string */
    MODE_IN_JSON, /* JSON template, inside a string */
};

/* Raw text: strings as their bytes, containers as {k:v} / [a,b] with strings unquoted. */
static int put_raw(const json_t *v, struct buf *out)
{
    int rc = 0;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return buf_append(out, json_string_value(v), json_string_length(v));
    case JSON_OBJECT: {
        const char *k;
        json_t *c;
        bool first = true;
        rc = buf_putc(out, '{');
        json_object_foreach((json_t *)(uintptr_t)v, k, c)
        {
            if (rc == 0 && !first)
                rc = buf_putc(out, ',');
            first = false;
            if (rc == 0)
                rc = buf_append_cstr(out, k);
            if (rc == 0)
                rc = buf_putc(out, ':');
            if (rc == 0)
                rc = put_raw(c, out);
            if (rc < 0)
                return rc;
        }
        return rc == 0 ? buf_putc(out, '}') : rc;
    }
    case JSON_ARRAY:
        rc = buf_putc(out, '[');
        for (size_t i = 0; rc == 0 && i < json_array_size(v); i++) {
            if (i)
                rc = buf_putc(out, ',');
            if (rc == 0)
                rc = put_raw(json_array_get(v, i), out);
        }
        return rc == 0 ? buf_putc(out, ']') : rc;
    case JSON_INTEGER:
    case JSON_REAL:
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_NULL:
        break;
    }
    return jsonpath_dump(v, out);
}

static int put_value(const json_t *v, enum mode m, struct buf *out)
{
    if (!v) /* missing path */
        return m == MODE_JSON ? buf_append_cstr(out, "\"\"") : 0;
    switch (m) {
    case MODE_TEXT:
        return put_raw(v, out);
    case MODE_JSON:
        return jsonpath_dump(v, out);
    case MODE_IN_JSON:
        if (json_is_object(v) || json_is_array(v))
            return jsonpath_dump(v, out);
        return put_raw(v, out);
    }
    return 0;
}

/* Whitespace outside strings removed; the text is known to be valid JSON. */
static int minify(const char *s, size_t n, struct buf *out)
{
    bool in_str = false;
    size_t run = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char c = s[i];
        if (in_str) {
            run++;
            if (c == '\\' && i + 1 < n) {
                i++;
                run++;
            } else if (c == '"') {
                in_str = false;
            }
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            rc = buf_append(out, s + i - run, run);
            run = 0;
            continue;
        }
        if (c == '"')
            in_str = true;
        run++;
    }
    if (rc == 0)
        rc = buf_append(out, s + n - run, run);
    return rc;
}

/* <aws.events.event>: the envelope without detail, "detail-type" renamed "detailType", in the
 * key order EventBridge was recorded using; "time" is the ingestion time when known. */
static json_t *event_sans_detail(json_t *ev, const struct xform_ctx *ctx)
{
    static const char *const order[] = { "id",     "account", "detail-type", "time",
                                         "source", "region",  "resources",   "version" };
    json_t *o = json_object();
    for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
        json_t *v = json_object_get(ev, order[i]);
        const char *key = strcmp(order[i], "detail-type") == 0 ? "detailType" : order[i];
        if (strcmp(order[i], "time") == 0 && ctx && ctx->ingestion_time)
            json_object_set_new(o, key, json_string(ctx->ingestion_time));
        else if (v)
            json_object_set(o, key, v);
    }
    const char *k;
    json_t *v;
    json_object_foreach(ev, k, v)
    {
        if (strcmp(k, "detail") == 0 || strcmp(k, "detail-type") == 0 || json_object_get(o, k))
            continue;
        json_object_set(o, k, v);
    }
    return o;
}

static const char *ctx_str(const struct xform_ctx *ctx, enum var_kind k)
{
    const char *s = NULL;
    if (ctx && k == VAR_RULE_ARN)
        s = ctx->rule_arn;
    else if (ctx && k == VAR_RULE_NAME)
        s = ctx->rule_name;
    else if (ctx && k == VAR_INGESTION_TIME)
        s = ctx->ingestion_time;
    return s ? s : "";
}

struct render {
    const struct xform *x;
    const struct xform_ctx *ctx;
    json_t *event;
    const char *event_text;
    size_t event_len;
    json_t **cache; /* one slot per variable, filled on first use */
    bool *done;
};

static int put_var(struct render *r, const struct seg *sg, enum mode m, struct buf *out)
{
    const struct var *v = &r->x->vars.v[sg->var];
    if (v->kind == VAR_EVENT_JSON) /* the event as received, minified */
        return minify(r->event_text, r->event_len, out);
    if (!r->done[sg->var]) {
        r->done[sg->var] = true;
        switch (v->kind) {
        case VAR_PATH:
            r->cache[sg->var] = jsonpath_eval(v->path, r->event);
            break;
        case VAR_EVENT:
            r->cache[sg->var] = event_sans_detail(r->event, r->ctx);
            break;
        case VAR_RULE_ARN:
        case VAR_RULE_NAME:
        case VAR_INGESTION_TIME:
            r->cache[sg->var] = json_string(ctx_str(r->ctx, v->kind));
            break;
        case VAR_EVENT_JSON:
            break;
        }
    }
    json_t *val = r->cache[sg->var];
    if (v->kind == VAR_EVENT)
        return jsonpath_dump(val, out); /* JSON text wherever it stands */
    return put_value(val, m, out);
}

static int render_template(const struct xform *x, struct render *r, struct buf *out, struct diag *d)
{
    struct buf tmp;
    struct buf *dst = out;
    if (x->is_json) {
        buf_init(&tmp, out->max);
        dst = &tmp;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < x->segs.n; i++) {
        const struct seg *sg = &x->segs.v[i];
        if (sg->var < 0) {
            rc = buf_append(dst, x->text + sg->off, sg->len);
            continue;
        }
        enum mode m = !x->is_json ? MODE_TEXT : sg->in_string ? MODE_IN_JSON : MODE_JSON;
        rc = put_var(r, sg, m, dst);
    }
    if (rc < 0) {
        rc = diag_set(d, rc, 0, "rendered input exceeds %zu bytes", out->max);
        goto out;
    }
    if (!x->is_json)
        return 0;
    json_error_t je;
    json_t *check = json_loadb(tmp.data ? tmp.data : "", tmp.len, JSON_ALLOW_NUL, &je);
    if (!check) {
        rc = diag_set(d, -ERR_INVALID, je.position,
                      "transformed input is not valid JSON: %s (at byte %d)", je.text, je.position);
        goto out;
    }
    json_decref(check);
    rc = minify(tmp.data, tmp.len, out);
    if (rc < 0)
        rc = diag_set(d, rc, 0, "rendered input exceeds %zu bytes", out->max);
out:
    if (x->is_json)
        buf_release(&tmp);
    return rc;
}

int xform_render(const struct xform *x, const char *event, size_t len, const struct xform_ctx *ctx,
                 struct buf *out, struct diag *d)
{
    if (len > XFORM_EVENT_MAX)
        return diag_set(d, -ERR_TOO_BIG, 0, "event larger than %u bytes", XFORM_EVENT_MAX);
    if (x->kind == XFORM_EVENT || x->kind == XFORM_CONSTANT) {
        const char *src = x->kind == XFORM_EVENT ? event : x->text;
        size_t n = x->kind == XFORM_EVENT ? len : x->text_len;
        int rc = buf_append(out, src, n);
        return rc < 0 ? diag_set(d, rc, 0, "input exceeds %zu bytes", out->max) : 0;
    }

    json_error_t je;
    json_t *ev = json_loadb(event, len, JSON_ALLOW_NUL, &je);
    if (!json_is_object(ev)) {
        json_decref(ev);
        return diag_set(d, -ERR_CORRUPT, ev ? 0 : (size_t)je.position,
                        "event is not a JSON object");
    }
    int rc = 0;
    if (x->kind == XFORM_PATH) {
        json_t *v = jsonpath_eval(x->path, ev);
        if (!v) {
            rc = diag_set(d, -ERR_NOT_FOUND, 0, "InputPath selects nothing in this event");
        } else {
            rc = jsonpath_dump(v, out);
            if (rc < 0)
                rc = diag_set(d, rc, 0, "input exceeds %zu bytes", out->max);
            json_decref(v);
        }
        json_decref(ev);
        return rc;
    }

    struct render r = { x, ctx, ev, event, len, NULL, NULL };
    r.cache = xcalloc(x->vars.n + 1, sizeof(json_t *));
    r.done = xcalloc(x->vars.n + 1, sizeof(*r.done));
    rc = render_template(x, &r, out, d);
    for (size_t i = 0; i < x->vars.n; i++)
        json_decref(r.cache[i]);
    free(r.cache);
    free(r.done);
    json_decref(ev);
    return rc;
}

int input_path_apply(const char *path, const char *event, size_t len, struct buf *out,
                     struct diag *d)
{
    struct xform x = { .kind = XFORM_PATH };
    int rc = jsonpath_compile(str_from(path), &x.path, d);
    if (rc < 0)
        return rc;
    rc = xform_render(&x, event, len, NULL, out, d);
    jsonpath_free(x.path);
    return rc;
}
