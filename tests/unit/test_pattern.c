/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for event patterns: the case table tests/data/patterns/cases.jsonl (matches and
 * refusals with EventBridge's messages, each group citing its source), the same table as one
 * rule set, and the set API. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "events/jscan.h"
#include "events/pattern.h"
#include "test.h"

/* The raw text of a top-level member of a one-line JSON object (so numbers keep their
 * spelling); false when absent. */
static bool raw_member(const char *line, size_t len, const char *key, const char **v, size_t *vlen)
{
    const char *end = line + len, *p = jscan_ws(line, end);
    if (p >= end || *p != '{')
        return false;
    p = jscan_ws(p + 1, end);
    size_t kl = strlen(key);
    while (p < end && *p == '"') {
        bool esc;
        const char *ke = jscan_string_end(p + 1, end, &esc);
        if (!ke)
            return false;
        bool hit = (size_t)(ke - p - 1) == kl && memcmp(p + 1, key, kl) == 0;
        p = jscan_ws(ke + 1, end);
        if (p >= end || *p != ':')
            return false;
        p = jscan_ws(p + 1, end);
        const char *ve = jscan_skip(p, end, 0);
        if (!ve)
            return false;
        if (hit) {
            *v = p;
            *vlen = (size_t)(ve - p);
            return true;
        }
        p = jscan_ws(ve, end);
        if (p < end && *p == ',')
            p = jscan_ws(p + 1, end);
    }
    return false;
}

struct tcase {
    char *line;
    size_t len;
    json_t *j;
    const char *pat; /* pattern text */
    size_t plen;
    const char *ev; /* event text */
    size_t elen;
    int expect; /* 1, 0, or -1 for an error case */
};

static size_t load_cases(struct tcase **out)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/patterns/cases.jsonl", test_data_dir());
    FILE *f = fopen(path, "r");
    if (!f)
        test_fail(__FILE__, __LINE__, "cannot open %s", path);
    struct tcase *v = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    while ((got = getline(&line, &lcap, f)) > 0) {
        if (got <= 1)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            v = xreallocarray(v, cap, sizeof(*v));
        }
        struct tcase *c = &v[n++];
        memset(c, 0, sizeof(*c));
        c->line = xstrndup(line, (size_t)got);
        c->len = (size_t)got;
        json_error_t je;
        c->j = json_loadb(c->line, c->len, 0, &je);
        if (!c->j)
            test_fail(__FILE__, __LINE__, "case %zu: %s", n, je.text);
        json_t *pt = json_object_get(c->j, "pattern_text");
        if (pt) {
            c->pat = json_string_value(pt);
            c->plen = json_string_length(pt);
        } else if (!raw_member(c->line, c->len, "pattern", &c->pat, &c->plen)) {
            test_fail(__FILE__, __LINE__, "case %zu: no pattern", n);
        }
        json_t *ex = json_object_get(c->j, "expect");
        c->expect = ex ? json_is_true(ex) : -1;
        if (c->expect >= 0 && !raw_member(c->line, c->len, "event", &c->ev, &c->elen))
            test_fail(__FILE__, __LINE__, "case %zu: no event", n);
        if (!json_is_string(json_object_get(c->j, "source")) ||
            !json_is_string(json_object_get(c->j, "group")))
            test_fail(__FILE__, __LINE__, "case %zu: every case names its group and source", n);
    }
    free(line);
    fclose(f);
    *out = v;
    return n;
}

static void free_cases(struct tcase *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_decref(v[i].j);
        free(v[i].line);
    }
    free(v);
}

static const char *cname(const struct tcase *c)
{
    const char *g = json_string_value(json_object_get(c->j, "group"));
    const char *nm = json_string_value(json_object_get(c->j, "name"));
    static char buf[512];
    snprintf(buf, sizeof(buf), "%s/%s", g ? g : "?", nm && *nm ? nm : "-");
    return buf;
}

TEST(pattern_case_table)
{
    struct tcase *cs;
    size_t n = load_cases(&cs);
    ASSERT_TRUE(n >= 300);
    size_t bad = 0, matches = 0, refusals = 0, raw_checked = 0;
    for (size_t i = 0; i < n; i++) {
        struct tcase *c = &cs[i];
        struct pattern *p = NULL;
        struct diag d = { 0 };
        int rc = pattern_compile(c->pat, c->plen, &p, &d);
        if (c->expect < 0) {
            refusals++;
            const char *want = json_string_value(json_object_get(c->j, "error"));
            /* d.msg holds as much of the message as fits */
            if (rc != -ERR_INVALID || strncmp(d.msg, want, sizeof(d.msg) - 1) != 0) {
                fprintf(stderr, "case %zu %s: want error '%s', got rc %d '%s'\n", i + 1, cname(c),
                        want, rc, rc ? d.msg : "");
                bad++;
            }
            const char *want_raw = json_string_value(json_object_get(c->j, "error_raw"));
            if (want_raw) {
                char *msg = NULL;
                raw_checked++;
                if (pattern_validate(c->pat, c->plen, &msg) != -ERR_INVALID || !msg ||
                    strcmp(msg, want_raw) != 0) {
                    fprintf(stderr, "case %zu %s: want raw '%s', got '%s'\n", i + 1, cname(c),
                            want_raw, msg ? msg : "(none)");
                    bad++;
                }
                free(msg);
            }
            pattern_free(p);
            continue;
        }
        matches++;
        if (rc != 0) {
            fprintf(stderr, "case %zu %s: pattern refused: %s\n", i + 1, cname(c), d.msg);
            bad++;
            continue;
        }
        bool m = false;
        rc = pattern_match(p, c->ev, c->elen, &m);
        if (rc != 0 || m != (c->expect == 1)) {
            fprintf(stderr, "case %zu %s: want %s, got %s (rc %d)\n", i + 1, cname(c),
                    c->expect ? "true" : "false", m ? "true" : "false", rc);
            bad++;
        }
        pattern_free(p);
    }
    fprintf(stderr, "pattern cases: %zu (%zu match, %zu refusal, %zu with location), %zu bad\n", n,
            matches, refusals, raw_checked, bad);
    ASSERT_EQ(bad, 0);
    ASSERT_TRUE(matches >= 200 && refusals >= 80);
    free_cases(cs, n);
}

struct hits {
    bool *hit;
    size_t n;
};

static int record_hit(void *ctx, size_t rule)
{
    struct hits *h = ctx;
    BUG_ON(rule >= h->n);
    h->hit[rule] = true;
    return 0;
}

/* Every valid pattern of the table in one set: each event must match its own rule exactly as
 * the single-pattern test says, whatever the other rules are. */
TEST(pattern_case_table_as_one_set)
{
    struct tcase *cs;
    size_t n = load_cases(&cs);
    struct pattern_set *s = pattern_set_new();
    size_t *rule_of = xcalloc(n, sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        if (cs[i].expect < 0)
            continue;
        char id[32];
        snprintf(id, sizeof(id), "case-%zu", i);
        ASSERT_EQ(pattern_set_add(s, id, cs[i].pat, cs[i].plen, NULL), 0);
        rule_of[i] = pattern_set_count(s) - 1;
    }
    ASSERT_EQ(pattern_set_build(s), 0);
    struct pattern_scratch *m = pattern_scratch_new();
    struct hits h = { xcalloc(pattern_set_count(s), sizeof(bool)), pattern_set_count(s) };
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (cs[i].expect < 0)
            continue;
        memset(h.hit, 0, h.n * sizeof(bool));
        int rc = pattern_set_match(s, m, cs[i].ev, cs[i].elen, record_hit, &h);
        ASSERT_TRUE(rc >= 0);
        size_t count = 0;
        for (size_t r = 0; r < h.n; r++)
            count += h.hit[r];
        ASSERT_EQ(count, rc);
        if (h.hit[rule_of[i]] != (cs[i].expect == 1)) {
            fprintf(stderr, "set: case %zu %s: want %d\n", i + 1, cname(&cs[i]), cs[i].expect);
            bad++;
        }
    }
    ASSERT_EQ(bad, 0);
    free(h.hit);
    free(rule_of);
    pattern_scratch_free(m);
    pattern_set_free(s);
    free_cases(cs, n);
}

static int count_calls(void *ctx, size_t rule)
{
    (void)rule;
    (*(int *)ctx)++;
    return 0;
}

static int stop_first(void *ctx, size_t rule)
{
    (void)rule;
    (*(int *)ctx)++;
    return 1;
}

TEST(pattern_set_api)
{
    struct pattern_set *s = pattern_set_new();
    struct diag d = { 0 };
    const char *p1 = "{\"source\":[\"a\"]}";
    const char *p2 = "{\"source\":[{\"prefix\":\"a\"}],\"$or\":[{\"x\":[1]},{\"y\":[2]}]}";
    ASSERT_EQ(pattern_set_add(s, "r1", p1, strlen(p1), &d), 0);
    ASSERT_EQ(pattern_set_add(s, "r2", p2, strlen(p2), &d), 0);
    ASSERT_EQ(pattern_set_add(s, "bad", "{\"a\":[]}", 8, &d), -ERR_INVALID);
    ASSERT_STREQ(d.msg, "Event pattern is not valid. Reason: Empty arrays are not allowed");
    ASSERT_EQ(pattern_set_count(s), 2);
    ASSERT_EQ(pattern_set_build(s), 0);
    struct pattern_scratch *m = pattern_scratch_new();
    const char *ev = "{\"source\":\"a\",\"x\":1,\"y\":2}";
    int calls = 0;
    /* r2 matches through both $or branches but is reported once */
    ASSERT_EQ(pattern_set_match(s, m, ev, strlen(ev), count_calls, &calls), 2);
    ASSERT_EQ(calls, 2);
    calls = 0;
    ASSERT_EQ(pattern_set_match(s, m, ev, strlen(ev), stop_first, &calls), 1);
    ASSERT_EQ(calls, 1);
    /* replace r1, remove r2 */
    const char *p3 = "{\"source\":[\"b\"]}";
    ASSERT_EQ(pattern_set_add(s, "r1", p3, strlen(p3), NULL), 0);
    ASSERT_EQ(pattern_set_remove(s, "r2"), 0);
    ASSERT_EQ(pattern_set_remove(s, "r2"), -ERR_NOT_FOUND);
    ASSERT_EQ(pattern_set_build(s), 0);
    ASSERT_EQ(pattern_set_match(s, m, ev, strlen(ev), NULL, NULL), 0);
    ASSERT_STREQ(pattern_set_rule_id(s, 0), "r1");
    ASSERT_TRUE(pattern_set_rule_id(s, 1) == NULL);
    /* malformed events */
    const char *bad[] = { "",
                          "[]",
                          "{",
                          "{\"source\":}",
                          "{\"source\":\"b\"",
                          "{\"a\":[1,]}",
                          "{\"source\":\"b\" \"x\":1}",
                          "{\"a\":tru}",
                          "\"x\"",
                          "{\"a\":-}" };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        ASSERT_EQ(pattern_set_match(s, m, bad[i], strlen(bad[i]), NULL, NULL), -ERR_INVALID);
    /* nesting deeper than the limit */
    size_t depth = 300;
    char *deep = xmalloc(depth * 6 + 16);
    size_t k = 0;
    deep[k++] = '{';
    memcpy(deep + k, "\"s\":", 4);
    k += 4;
    for (size_t i = 0; i < depth; i++)
        deep[k++] = '[';
    for (size_t i = 0; i < depth; i++)
        deep[k++] = ']';
    deep[k++] = '}';
    ASSERT_TRUE(pattern_set_match(s, m, deep, k, NULL, NULL) < 0);
    free(deep);
    const char *ok = "{\"source\":\"b\",\"other\":{\"deep\":[[[{\"x\":\"\\u00e9\\\"\"}]]]}}";
    ASSERT_EQ(pattern_set_match(s, m, ok, strlen(ok), NULL, NULL), 1);
    pattern_scratch_free(m);
    pattern_set_free(s);
}

TEST(pattern_match_escaped_keys_and_values)
{
    struct pattern *p;
    const char *pt = "{\"de\\u0074ail\":{\"a.b\":[\"x\\\"y\"]}}";
    ASSERT_EQ(pattern_compile(pt, strlen(pt), &p, NULL), 0);
    bool m = false;
    const char *e1 = "{\"detail\":{\"a\":{\"b\":\"x\\\"y\"}}}";
    ASSERT_EQ(pattern_match(p, e1, strlen(e1), &m), 0);
    ASSERT_TRUE(m);
    const char *e2 = "{\"d\\u0065tail\":{\"a.b\":\"x\\u0022y\"}}";
    ASSERT_EQ(pattern_match(p, e2, strlen(e2), &m), 0);
    ASSERT_TRUE(m);
    const char *e3 = "{\"detail\":{\"a\":{\"b\":\"x\\\\y\"}}}";
    ASSERT_EQ(pattern_match(p, e3, strlen(e3), &m), 0);
    ASSERT_FALSE(m);
    pattern_free(p);
}

TEST(pattern_error_location_long_source)
{
    /* Jackson cuts the quoted source after 500 characters */
    char pat[700];
    size_t k = 0;
    k += (size_t)snprintf(pat + k, sizeof(pat) - k, "{\"a\": [\"");
    while (k < 600)
        pat[k++] = 'x';
    k += (size_t)snprintf(pat + k, sizeof(pat) - k, "\"], \"b\": []}");
    char *msg = NULL;
    ASSERT_EQ(pattern_validate(pat, k, &msg), -ERR_INVALID);
    ASSERT_TRUE(
        strstr(msg, "Reason: Empty arrays are not allowed\n at [Source: (String)\"{\"a\"") ==
        msg + strlen("Event pattern is not valid. "));
    char tail[128];
    snprintf(tail, sizeof(tail), "\"[truncated %zu chars]; line: 1, column: %zu]", k - 500, k);
    ASSERT_TRUE(strstr(msg, tail) != NULL);
    free(msg);
    /* lines count from 1 and columns restart after a newline */
    const char *ml = "{\n  \"a\": 1\n}";
    ASSERT_EQ(pattern_validate(ml, strlen(ml), &msg), -ERR_INVALID);
    ASSERT_TRUE(strstr(msg, "; line: 2, column: 9]") != NULL);
    free(msg);
    ASSERT_EQ(pattern_validate("{\"a\":[1]}", 9, &msg), 0);
    ASSERT_TRUE(msg == NULL);
}

struct conc {
    const struct pattern_set *s;
    struct tcase *cs;
    size_t n;
    int *want; /* per case: number of matching rules */
    int bad;
};

static void *conc_worker(void *arg)
{
    struct conc *c = arg;
    struct pattern_scratch *m = pattern_scratch_new();
    for (int round = 0; round < 20; round++)
        for (size_t i = 0; i < c->n; i++)
            if (c->cs[i].expect >= 0 &&
                pattern_set_match(c->s, m, c->cs[i].ev, c->cs[i].elen, NULL, NULL) != c->want[i])
                __atomic_add_fetch(&c->bad, 1, __ATOMIC_RELAXED);
    pattern_scratch_free(m);
    return NULL;
}

/* A built set is read-only: threads matching at once, each with its scratch, agree with one. */
TEST(pattern_set_concurrent_readers)
{
    struct tcase *cs;
    size_t n = load_cases(&cs);
    struct pattern_set *s = pattern_set_new();
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof(id), "case-%zu", i);
        if (cs[i].expect >= 0)
            ASSERT_EQ(pattern_set_add(s, id, cs[i].pat, cs[i].plen, NULL), 0);
    }
    ASSERT_EQ(pattern_set_build(s), 0);
    struct conc c = { s, cs, n, xcalloc(n, sizeof(int)), 0 };
    struct pattern_scratch *m = pattern_scratch_new();
    long total = 0;
    for (size_t i = 0; i < n; i++)
        if (cs[i].expect >= 0) {
            c.want[i] = pattern_set_match(s, m, cs[i].ev, cs[i].elen, NULL, NULL);
            total += c.want[i];
        }
    pattern_scratch_free(m);
    ASSERT_TRUE(total > 200);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        ASSERT_EQ(pthread_create(&th[i], NULL, conc_worker, &c), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    ASSERT_EQ(c.bad, 0);
    free(c.want);
    pattern_set_free(s);
    free_cases(cs, n);
}
