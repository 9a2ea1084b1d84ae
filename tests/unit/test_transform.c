/* SPDX-License-Identifier: Apache-2.0 */
/* Input transformation: the case table in tests/data/transform/cases.json (AWS-recorded cases
 * from the LocalStack snapshot and the EventBridge guide, plus vigil's own), model limits, the
 * JSONPath subset and the compact JSON writer. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "events/jsonpath.h"
#include "events/transform.h"
#include "test.h"

static json_t *load_cases(void)
{
    char *path = xasprintf("%s/transform/cases.json", test_data_dir());
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        test_fail(__FILE__, __LINE__, "cannot load '%s': %s line %d", path, je.text, je.line);
    free(path);
    return j;
}

static char *dump(const json_t *v)
{
    struct buf b;
    buf_init(&b, (size_t)1 << 24);
    ASSERT_EQ(jsonpath_dump(v, &b), 0);
    return buf_detach(&b, NULL);
}

static const char *str_or(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : dflt;
}

/* Fill spec from a case; the strings it points to live in *keep (freed by the caller). */
static void case_spec(const json_t *c, const json_t *defaults, struct xform_spec *s, char **keep)
{
    memset(s, 0, sizeof(*s));
    *keep = NULL;
    s->target_id = str_or(c, "target_id", str_or(defaults, "target_id", ""));
    s->member = json_is_integer(json_object_get(c, "member"))
                    ? (unsigned)json_integer_value(json_object_get(c, "member"))
                    : 1;
    const json_t *v = json_object_get(c, "input");
    if (v) {
        s->input = json_string_value(v);
        s->input_len = json_string_length(v);
    }
    v = json_object_get(c, "input_path");
    if (v) {
        s->input_path = json_string_value(v);
        s->input_path_len = json_string_length(v);
    }
    const json_t *t = json_object_get(c, "transformer");
    if (t) {
        s->has_transformer = true;
        const json_t *paths = json_object_get(t, "paths");
        if (json_is_object(paths)) {
            *keep = dump(paths);
            s->paths_map = *keep;
            s->paths_map_len = strlen(*keep);
        }
        const json_t *tm = json_object_get(t, "template");
        if (tm) {
            s->input_template = json_string_value(tm);
            s->input_template_len = json_string_length(tm);
        }
    }
}

static char *case_event(const json_t *all, const json_t *c)
{
    const char *name = json_string_value(json_object_get(c, "event"));
    ASSERT_TRUE(name != NULL);
    if (name[0] == '@')
        return xstrdup(
            json_string_value(json_object_get(json_object_get(all, "event_texts"), name + 1)));
    const json_t *ev = json_object_get(json_object_get(all, "events"), name);
    ASSERT_TRUE(ev != NULL);
    return dump(ev);
}

TEST(transform_cases_render)
{
    json_t *all = load_cases();
    const json_t *defaults = json_object_get(all, "defaults");
    const json_t *cases = json_object_get(all, "render");
    ASSERT_TRUE(json_array_size(cases) >= 50);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c)
    {
        const char *name = str_or(c, "name", "?");
        struct xform_spec spec;
        char *keep;
        case_spec(c, defaults, &spec, &keep);
        struct xform *x = NULL;
        struct buf msg;
        buf_init(&msg, 1 << 16);
        struct diag d = { 0 };
        if (xform_compile(&spec, &x, &msg, &d) != 0)
            test_fail(__FILE__, __LINE__, "case %s: compile failed: %s", name, buf_cstr(&msg));
        char *event = case_event(all, c);
        struct xform_ctx ctx = {
            str_or(c, "rule_arn", str_or(defaults, "rule_arn", NULL)),
            str_or(c, "rule_name", str_or(defaults, "rule_name", NULL)),
            str_or(c, "ingestion_time", str_or(defaults, "ingestion_time", NULL)),
        };
        struct buf out;
        buf_init(&out, 1 << 20);
        int rc = xform_render(x, event, strlen(event), &ctx, &out, &d);
        const char *want_err = str_or(c, "expect_render_error", NULL);
        if (want_err) {
            int want = strcmp(want_err, "invalid") == 0     ? -ERR_INVALID
                       : strcmp(want_err, "not_found") == 0 ? -ERR_NOT_FOUND
                                                            : 0;
            if (rc != want)
                test_fail(__FILE__, __LINE__, "case %s: rc %d, want %d (%s); output \"%s\"", name,
                          rc, want, want_err, buf_cstr(&out));
            ASSERT_TRUE(d.msg[0] != '\0');
        } else {
            if (rc != 0)
                test_fail(__FILE__, __LINE__, "case %s: render failed %d: %s", name, rc, d.msg);
            const char *want = str_or(c, "expect", NULL);
            ASSERT_TRUE(want != NULL);
            if (out.len != strlen(want) || memcmp(buf_cstr(&out), want, out.len) != 0)
                test_fail(__FILE__, __LINE__, "case %s:\n got  \"%s\"\n want \"%s\"", name,
                          buf_cstr(&out), want);
        }
        buf_release(&out);
        buf_release(&msg);
        free(event);
        free(keep);
        xform_free(x);
    }
    json_decref(all);
}

TEST(transform_cases_compile_errors)
{
    json_t *all = load_cases();
    const json_t *defaults = json_object_get(all, "defaults");
    const json_t *cases = json_object_get(all, "compile_errors");
    ASSERT_TRUE(json_array_size(cases) >= 15);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c)
    {
        const char *name = str_or(c, "name", "?");
        struct xform_spec spec;
        char *keep;
        case_spec(c, defaults, &spec, &keep);
        static char not_null;
        struct xform *x = (struct xform *)(void *)&not_null; /* must be reset to NULL */
        struct buf msg;
        buf_init(&msg, 1 << 16);
        struct diag d = { 0 };
        int rc = xform_compile(&spec, &x, &msg, &d);
        if (rc != -ERR_INVALID)
            test_fail(__FILE__, __LINE__, "case %s: rc %d, want -ERR_INVALID", name, rc);
        ASSERT_TRUE(x == NULL);
        const char *want = str_or(c, "expect_compile_error", "");
        if (strcmp(buf_cstr(&msg), want) != 0)
            test_fail(__FILE__, __LINE__, "case %s:\n got  \"%s\"\n want \"%s\"", name,
                      buf_cstr(&msg), want);
        ASSERT_EQ(d.err, -ERR_INVALID);
        buf_release(&msg);
        free(keep);
    }
    json_decref(all);
}

/* A map of n entries k0..k{n-1} -> "$.detail.x", and its Java toString. */
static char *big_map(size_t n, struct buf *shown)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_putc(&b, '{');
    buf_putc(shown, '{');
    for (size_t i = 0; i < n; i++) {
        buf_printf(&b, "%s\"k%zu\":\"$.detail.x\"", i ? "," : "", i);
        buf_printf(shown, "%sk%zu=$.detail.x", i ? ", " : "", i);
    }
    buf_putc(&b, '}');
    buf_putc(shown, '}');
    return buf_detach(&b, NULL);
}

static int compile_map_template(const char *map, const char *tmpl, size_t tlen, struct buf *msg,
                                struct xform **x)
{
    struct xform_spec s = { .target_id = "t", .member = 1, .has_transformer = true };
    s.paths_map = map;
    s.paths_map_len = map ? strlen(map) : 0;
    s.input_template = tmpl;
    s.input_template_len = tlen;
    return xform_compile(&s, x, msg, NULL);
}

TEST(transform_paths_map_limit)
{
    struct buf shown, msg;
    buf_init(&shown, 1 << 20);
    buf_init(&msg, 1 << 20);
    struct xform *x = NULL;
    char *map = big_map(100, &shown);
    ASSERT_EQ(compile_map_template(map, "\"<k99> <k0>\"", 12, &msg, &x), 0);
    struct buf out;
    buf_init(&out, 1024);
    const char *ev = "{\"detail\":{\"x\":\"v\"}}";
    ASSERT_EQ(xform_render(x, ev, strlen(ev), NULL, &out, NULL), 0);
    ASSERT_STREQ(buf_cstr(&out), "\"v v\"");
    buf_release(&out);
    xform_free(x);
    free(map);

    buf_reset(&shown);
    map = big_map(101, &shown);
    ASSERT_EQ(compile_map_template(map, "\"x\"", 3, &msg, &x), -ERR_INVALID);
    ASSERT_TRUE(x == NULL);
    char *want = xasprintf("1 validation error detected: Value '%s' at "
                           "'targets.1.member.inputTransformer.inputPathsMap' failed to satisfy "
                           "constraint: Member must have length less than or equal to 100",
                           buf_cstr(&shown));
    ASSERT_STREQ(buf_cstr(&msg), want);
    free(want);
    free(map);
    buf_release(&shown);
    buf_release(&msg);
}

TEST(transform_template_length_utf16)
{
    struct buf msg, t;
    buf_init(&msg, 1 << 20);
    buf_init(&t, 1 << 20);
    struct xform *x = NULL;
    /* 8192 characters of three-byte UTF-8 (24576 bytes) is within the limit */
    for (int i = 0; i < 8192; i++)
        buf_append_cstr(&t, "脆");
    ASSERT_EQ(compile_map_template(NULL, t.data, t.len, &msg, &x), 0);
    xform_free(x);
    buf_append_cstr(&t, "x");
    ASSERT_EQ(compile_map_template(NULL, t.data, t.len, &msg, &x), -ERR_INVALID);
    ASSERT_TRUE(strstr(buf_cstr(&msg), "1 validation error detected: Value '脆脆") ==
                buf_cstr(&msg));
    ASSERT_TRUE(strstr(buf_cstr(&msg), "x' at 'targets.1.member.inputTransformer.inputTemplate' "
                                       "failed to satisfy constraint: Member must have length "
                                       "less than or equal to 8192") != NULL);
    /* a four-byte character counts as two */
    buf_reset(&t);
    for (int i = 0; i < 4096; i++)
        buf_append_cstr(&t, "\xf0\x9f\x90\xb3");
    ASSERT_EQ(compile_map_template(NULL, t.data, t.len, &msg, &x), 0);
    xform_free(x);
    buf_append_cstr(&t, "x");
    ASSERT_EQ(compile_map_template(NULL, t.data, t.len, &msg, &x), -ERR_INVALID);
    buf_release(&t);
    buf_release(&msg);
}

TEST(transform_several_violations)
{
    struct buf shown, msg, t;
    buf_init(&shown, 1 << 20);
    buf_init(&msg, 1 << 20);
    buf_init(&t, 1 << 20);
    for (int i = 0; i < 8193; i++)
        buf_putc(&t, 'a');
    char *map = big_map(101, &shown);
    struct xform *x = NULL;
    ASSERT_EQ(compile_map_template(map, t.data, t.len, &msg, &x), -ERR_INVALID);
    ASSERT_TRUE(strncmp(buf_cstr(&msg), "2 validation errors detected: Value '{k0=", 41) == 0);
    ASSERT_TRUE(strstr(buf_cstr(&msg), "less than or equal to 100; Value 'aaa") != NULL);
    free(map);

    /* a path value over 256 characters */
    buf_reset(&t);
    buf_append_cstr(&t, "{\"k\":\"$.");
    for (int i = 0; i < 255; i++)
        buf_putc(&t, 'a');
    buf_append_cstr(&t, "\"}");
    ASSERT_EQ(compile_map_template(t.data, "\"<k>\"", 5, &msg, &x), -ERR_INVALID);
    ASSERT_TRUE(strstr(buf_cstr(&msg), "failed to satisfy constraint: Map value must satisfy "
                                       "constraint: [Member must have length less than or "
                                       "equal to 256]") != NULL);
    /* key too long and badly formed at once */
    buf_reset(&t);
    buf_append_cstr(&t, "{\"");
    for (int i = 0; i < 257; i++)
        buf_putc(&t, '.');
    buf_append_cstr(&t, "\":\"$\"}");
    ASSERT_EQ(compile_map_template(t.data, "\"x\"", 3, &msg, &x), -ERR_INVALID);
    ASSERT_TRUE(strstr(buf_cstr(&msg), "Map keys must satisfy constraint: [Member must have length "
                                       "less than or equal to 256, Member must satisfy regular "
                                       "expression pattern: [A-Za-z0-9\\_\\-]+]") != NULL);
    /* not a JSON object of strings */
    ASSERT_EQ(compile_map_template("[1]", "\"x\"", 3, &msg, &x), -ERR_INVALID);
    ASSERT_EQ(compile_map_template("{\"a\":1}", "\"x\"", 3, &msg, &x), -ERR_INVALID);
    ASSERT_EQ(compile_map_template("{\"a\":\"$\",\"a\":\"$\"}", "\"x\"", 3, &msg, &x),
              -ERR_INVALID);
    buf_release(&t);
    buf_release(&shown);
    buf_release(&msg);
}

TEST(transform_message_cut_at_cap)
{
    struct buf msg;
    buf_init(&msg, 20);
    struct xform *x = NULL;
    struct diag d = { 0 };
    struct xform_spec s = { .target_id = "t", .input = "nope", .input_len = 4 };
    ASSERT_EQ(xform_compile(&s, &x, &msg, &d), -ERR_INVALID);
    ASSERT_STREQ(buf_cstr(&msg), "Input for target t i");
    ASSERT_STREQ(d.msg, "Input for target t is not a valid JSON text.");
    buf_release(&msg);
}

TEST(transform_render_errors_and_caps)
{
    struct xform *x = NULL;
    struct buf msg, out;
    buf_init(&msg, 4096);
    buf_init(&out, 16);
    ASSERT_EQ(compile_map_template("{\"d\":\"$.detail\"}", "\"<d>\"", 5, &msg, &x), 0);
    ASSERT_FALSE(xform_is_json_template(x));
    struct diag d = { 0 };
    const char *ev = "{\"detail\":\"0123456789abcdefghij\"}";
    ASSERT_EQ(xform_render(x, ev, strlen(ev), NULL, &out, &d), -ERR_TOO_BIG);
    buf_reset(&out);
    ASSERT_EQ(xform_render(x, "[1]", 3, NULL, &out, &d), -ERR_CORRUPT);
    ASSERT_EQ(xform_render(x, "{", 1, NULL, &out, &d), -ERR_CORRUPT);
    ASSERT_EQ(xform_render(x, "{\"a\":1} x", 9, NULL, &out, &d), -ERR_CORRUPT);
    char *huge = xmalloc(XFORM_EVENT_MAX + 2);
    memset(huge, ' ', XFORM_EVENT_MAX + 1);
    huge[0] = '{';
    huge[XFORM_EVENT_MAX] = '}';
    ASSERT_EQ(xform_render(x, huge, XFORM_EVENT_MAX + 1, NULL, &out, &d), -ERR_TOO_BIG);
    free(huge);
    xform_free(x);

    /* a JSON template that is not JSON whatever the event holds */
    ASSERT_EQ(compile_map_template("{\"d\":\"$.detail\"}", "{\"a\": <d>", 9, &msg, &x), 0);
    ASSERT_TRUE(xform_is_json_template(x));
    buf_reset(&out);
    out.max = 1024;
    ASSERT_EQ(xform_render(x, ev, strlen(ev), NULL, &out, &d), -ERR_INVALID);
    ASSERT_EQ(d.err, -ERR_INVALID);
    xform_free(x);
    buf_release(&out);
    buf_release(&msg);
}

TEST(transform_input_path_apply)
{
    struct buf out;
    buf_init(&out, 1 << 16);
    const char *ev = "{\"detail\":{\"a\":[10,20,{\"b\":\"c\"}]}}";
    ASSERT_EQ(input_path_apply("$.detail.a[2]", ev, strlen(ev), &out, NULL), 0);
    ASSERT_STREQ(buf_cstr(&out), "{\"b\":\"c\"}");
    buf_reset(&out);
    ASSERT_EQ(input_path_apply("$.detail.a[-3]", ev, strlen(ev), &out, NULL), 0);
    ASSERT_STREQ(buf_cstr(&out), "10");
    buf_reset(&out);
    ASSERT_EQ(input_path_apply("$.detail.a[-4]", ev, strlen(ev), &out, NULL), -ERR_NOT_FOUND);
    ASSERT_EQ(input_path_apply("$.detail.a[3]", ev, strlen(ev), &out, NULL), -ERR_NOT_FOUND);
    ASSERT_EQ(input_path_apply("$.detail.a.b", ev, strlen(ev), &out, NULL), -ERR_NOT_FOUND);
    ASSERT_EQ(input_path_apply("$.detail[0]", ev, strlen(ev), &out, NULL), -ERR_NOT_FOUND);
    ASSERT_EQ(input_path_apply("$.detail.a[*].b", ev, strlen(ev), &out, NULL), 0);
    ASSERT_STREQ(buf_cstr(&out), "[\"c\"]");
    buf_reset(&out);
    ASSERT_EQ(input_path_apply("$..a", ev, strlen(ev), &out, NULL), -ERR_INVALID);
    buf_release(&out);
}

TEST(jsonpath_syntax)
{
    static const char *const good[] = {
        "$",
        "$.detail",
        "  $.detail-type ",
        "$.detail.finding-severity-counts.CRITICAL",
        "$.resources[0]",
        "$.a[-1]",
        "$.a[*]",
        "$.a.*",
        "$.a.*.b[2].c",
        "$['detail']['a.b']",
        "$[\"detail\"][\"it's\"]",
        "$['a\\'b']",
        "$.a/b",
        "$.a_b.C9",
        "$.リポジトリ",
        "$.a:b",
    };
    static const char *const badp[] = {
        "",
        "detail",
        "$detail",
        "$.",
        "$..a",
        "$.a.",
        "$.a[",
        "$.a[]",
        "$.a[x]",
        "$.a[0",
        "$.a[0:1]",
        "$.a[0,1]",
        "$.a[?(@.b)]",
        "$.a['b'",
        "$.a['b']x",
        "$.a b",
        "$.a[*",
        "$.a[99999999999]",
        "@.a",
        "$.a\x01b",
        "$[-]",
    };
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        struct jsonpath *p = NULL;
        struct diag d = { 0 };
        if (jsonpath_compile(str_from(good[i]), &p, &d) != 0)
            test_fail(__FILE__, __LINE__, "'%s' refused: %s", good[i], d.msg);
        jsonpath_free(p);
    }
    for (size_t i = 0; i < ARRAY_SIZE(badp); i++) {
        struct jsonpath *p = NULL;
        struct diag d = { 0 };
        if (jsonpath_compile(str_from(badp[i]), &p, &d) != -ERR_INVALID)
            test_fail(__FILE__, __LINE__, "'%s' accepted", badp[i]);
        ASSERT_TRUE(p == NULL);
        ASSERT_TRUE(d.msg[0] != '\0');
    }
    struct jsonpath *p = NULL;
    ASSERT_EQ(jsonpath_compile(str_from("$.a[*].b"), &p, NULL), 0);
    ASSERT_FALSE(jsonpath_is_definite(p));
    jsonpath_free(p);
    ASSERT_EQ(jsonpath_compile(str_from("$.a[3].b"), &p, NULL), 0);
    ASSERT_TRUE(jsonpath_is_definite(p));
    jsonpath_free(p);
}

static char *eval_text(const char *path, const char *doc)
{
    struct jsonpath *p = NULL;
    ASSERT_EQ(jsonpath_compile(str_from(path), &p, NULL), 0);
    json_t *root = json_loads(doc, JSON_DECODE_ANY, NULL);
    ASSERT_TRUE(root != NULL);
    json_t *v = jsonpath_eval(p, root);
    char *s = v ? dump(v) : NULL;
    json_decref(v);
    json_decref(root);
    jsonpath_free(p);
    return s;
}

TEST(jsonpath_eval_semantics)
{
    const char *doc = "{\"a\":{\"x\":1,\"y\":[2,3],\"z\":{\"w\":4}},\"b\":[{\"c\":5},{\"d\":6},"
                      "{\"c\":[7,8]}],\"n\":null,\"a.b\":9}";
    struct {
        const char *path, *want;
    } t[] = {
        { "$", "{\"a\":{\"x\":1,\"y\":[2,3],\"z\":{\"w\":4}},\"b\":[{\"c\":5},{\"d\":6},{\"c\":[7,"
               "8]}],\"n\":null,\"a.b\":9}" },
        { "$.a.x", "1" },
        { "$.a.*", "[1,[2,3],{\"w\":4}]" },
        { "$.a[*]", "[1,[2,3],{\"w\":4}]" },
        { "$.b[*].c", "[5,[7,8]]" },
        { "$.b.*.c[1]", "[8]" },
        { "$.*.*", "[1,[2,3],{\"w\":4},{\"c\":5},{\"d\":6},{\"c\":[7,8]}]" },
        { "$.n", "null" },
        { "$['a.b']", "9" },
        { "$.a.y[-1]", "3" },
        { "$.a.q", NULL },
        { "$.b[*].q", NULL },
        { "$.n.x", NULL },
        { "$.a.x.y", NULL },
        { "$.a.x[*]", NULL },
    };
    for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
        char *got = eval_text(t[i].path, doc);
        if (!t[i].want) {
            if (got)
                test_fail(__FILE__, __LINE__, "%s: got %s, want nothing", t[i].path, got);
        } else {
            if (!got || strcmp(got, t[i].want) != 0)
                test_fail(__FILE__, __LINE__, "%s: got %s, want %s", t[i].path,
                          got ? got : "(nothing)", t[i].want);
        }
        free(got);
    }
}

TEST(jsonpath_dump_format)
{
    struct {
        const char *in, *want;
    } t[] = {
        { "1.50", "1.5" },
        { "9.8", "9.8" },
        { "0.1", "0.1" },
        { "100.0", "100.0" },
        { "1E2", "100.0" },
        { "-0.0", "-0.0" },
        { "1e300", "1e+300" },
        { "5e-324", "5e-324" },
        { "0.30000000000000004", "0.30000000000000004" },
        { "9223372036854775807", "9223372036854775807" },
        { "-9223372036854775808", "-9223372036854775808" },
        { "\"a/b \\u00e9 \\u65e5\"", "\"a/b é 日\"" },
        { "\"\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\\"",
          "\"\\u0001\\u001f\\b\\f\\n\\r\\t\\\"\\\\\"" },
        { "\"\\u007f\"", "\"\x7f\"" },
        { "[ ]", "[]" },
        { "{ }", "{}" },
        { "{\"b\": [true, false, null], \"a\": {}}", "{\"b\":[true,false,null],\"a\":{}}" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
        json_t *v = json_loads(t[i].in, JSON_DECODE_ANY, NULL);
        ASSERT_TRUE(v != NULL);
        char *got = dump(v);
        if (strcmp(got, t[i].want) != 0)
            test_fail(__FILE__, __LINE__, "%s: got %s, want %s", t[i].in, got, t[i].want);
        free(got);
        json_decref(v);
    }
    /* an embedded NUL survives */
    json_t *s = json_stringn("a\0b", 3);
    char *got = dump(s);
    ASSERT_STREQ(got, "\"a\\u0000b\"");
    free(got);
    json_decref(s);
    /* the cap */
    struct buf b;
    buf_init(&b, 4);
    json_t *arr = json_loads("[1,2,3]", 0, NULL);
    ASSERT_EQ(jsonpath_dump(arr, &b), -ERR_TOO_BIG);
    json_decref(arr);
    buf_release(&b);
}

TEST(transform_whole_event_and_constant)
{
    struct xform_spec s = { .target_id = "t" };
    struct xform *x = NULL;
    ASSERT_EQ(xform_compile(&s, &x, NULL, NULL), 0);
    struct buf out;
    buf_init(&out, 1024);
    /* the whole event is passed as given, even when it is not parsed */
    ASSERT_EQ(xform_render(x, "{ \"a\" : 1 }", 11, NULL, &out, NULL), 0);
    ASSERT_STREQ(buf_cstr(&out), "{ \"a\" : 1 }");
    xform_free(x);
    s.input = "\"just text\"";
    s.input_len = strlen(s.input);
    ASSERT_EQ(xform_compile(&s, &x, NULL, NULL), 0);
    buf_reset(&out);
    ASSERT_EQ(xform_render(x, "{}", 2, NULL, &out, NULL), 0);
    ASSERT_STREQ(buf_cstr(&out), "\"just text\"");
    xform_free(x);
    buf_release(&out);
}
