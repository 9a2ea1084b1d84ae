/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the EventBridge control API (src/api/events_api.c): every operation driven
 * through the AWS router with synthesized JSON 1.1 requests over a real bus and metadata
 * database in a temporary directory. Checks output shapes, EventBridge's error codes and
 * messages, pagination tokens, per-entry results of PutTargets / RemoveTargets / PutEvents,
 * and that accepted PutEvents entries reach the outbox as EventBridge events. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/awsproto.h"
#include "api/events_api.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/http_msg.h"
#include "base/xalloc.h"
#include "events/bus.h"
#include "store/meta.h"
#include "test.h"

#define ACCT   "123456789012"
#define REGION "eu-west-3"
#define TOPIC  "arn:aws:sns:" REGION ":" ACCT ":alerts"
#define NOW    1700000000 /* 2023-11-14T22:13:20Z */

struct env {
    char *dir;
    struct meta_db *db;
    struct bus *bus;
    struct events_api *api;
    struct api_router *router;
    int kicks;
};

static int64_t fake_now(void *ctx)
{
    (void)ctx;
    return NOW;
}

static void count_kick(void *ctx)
{
    ((struct env *)ctx)->kicks++;
}

static enum api_auth_status accept_all(void *ctx, struct http_req *req,
                                       const struct api_auth_info *info, char *msg, size_t n)
{
    (void)ctx;
    (void)msg;
    (void)n;
    ASSERT_STREQ(info->signing_name, "events");
    req->principal = "AKIDTEST";
    return API_AUTH_OK;
}

static void env_open(struct env *e)
{
    memset(e, 0, sizeof(*e));
    e->dir = xstrdup(test_tmpdir());
    char *dbpath = xasprintf("%s/vigil.db", e->dir);
    ASSERT_EQ(meta_open(dbpath, NULL, &e->db, NULL), 0);
    free(dbpath);
    struct bus_config bc = { .region = REGION, .account = ACCT };
    ASSERT_EQ(bus_new(&bc, &e->bus, NULL), 0);
    bus_set_notify(e->bus, count_kick, e);
    struct events_api_config ec = {
        .db = e->db, .bus = e->bus, .account_id = ACCT, .region = REGION, .now = fake_now
    };
    struct diag d = { 0 };
    if (events_api_new(&ec, &e->api, &d) != 0)
        test_fail(__FILE__, __LINE__, "events_api_new: %s", d.msg);
    e->router = api_router_new();
    ASSERT_EQ(events_api_register(e->api, e->router), 0);
    api_router_set_auth(e->router, accept_all, e);
}

static void env_free(struct env *e)
{
    api_router_free(e->router);
    events_api_free(e->api);
    bus_free(e->bus);
    meta_close(e->db);
    free(e->dir);
}

/* ---- calls ---- */

struct answer {
    int status;
    json_t *body;
    char *text;
};

static void answer_release(struct answer *a)
{
    json_decref(a->body);
    free(a->text);
    memset(a, 0, sizeof(*a));
}

static void call(struct env *e, const char *op, const char *body, struct answer *out)
{
    struct arena ar;
    arena_init(&ar);
    struct http_req req;
    memset(&req, 0, sizeof(req));
    req.arena = &ar;
    req.method = HTTP_POST;
    req.method_str = "POST";
    req.path = "/";
    req.raw_query = "";
    buf_init(&req.body, AWS_BODY_MAX);
    buf_append_cstr(&req.body, body);
    char target[128];
    snprintf(target, sizeof(target), "AWSEvents.%s", op);
    struct http_kv h1 = { "Content-Type", "application/x-amz-json-1.1" };
    struct http_kv h2 = { "X-Amz-Target", target };
    VEC_PUSH(&req.headers, h1);
    VEC_PUSH(&req.headers, h2);
    struct http_resp resp;
    memset(&resp, 0, sizeof(resp));
    resp.fd = -1;
    buf_init(&resp.body, AWS_RESPONSE_MAX);
    api_dispatch(e->router, &req, &resp);
    out->status = resp.status;
    out->text = xstrdup(buf_cstr(&resp.body));
    out->body = json_loads(out->text, 0, NULL);
    if (!out->body)
        test_fail(__FILE__, __LINE__, "response is not JSON: %s", out->text);
    buf_release(&resp.body);
    buf_release(&req.body);
    VEC_FREE(&req.headers);
    VEC_FREE(&resp.headers);
    arena_release(&ar);
}

static json_t *ok_at(int line, struct env *e, const char *op, const char *body, struct answer *a)
{
    call(e, op, body, a);
    if (a->status != 200)
        test_fail(__FILE__, line, "%s %s -> %d %s", op, body, a->status, a->text);
    return a->body;
}
#define ok(e, op, body, a) ok_at(__LINE__, e, op, body, a)

/* Require an error with that code and (when not NULL) message. */
static void err_at(int line, struct env *e, const char *op, const char *body, int status,
                   const char *code, const char *msg)
{
    struct answer a;
    call(e, op, body, &a);
    const char *t = json_string_value(json_object_get(a.body, "__type"));
    const char *m = json_string_value(json_object_get(a.body, "message"));
    /* a message ending in '*' is a prefix */
    size_t ml = msg ? strlen(msg) : 0;
    bool prefix = ml > 0 && msg[ml - 1] == '*';
    bool msg_ok = !msg || (m && (prefix ? strncmp(m, msg, ml - 1) == 0 : strcmp(m, msg) == 0));
    if (a.status != status || !t || strcmp(t, code) != 0 || !msg_ok)
        test_fail(__FILE__, line, "%s %s: want %d %s '%s', got %d %s", op, body, status, code,
                  msg ? msg : "*", a.status, a.text);
    answer_release(&a);
}
#define aws_err(e, op, body, code, msg) err_at(__LINE__, e, op, body, 400, code, msg)

static const char *jstr(json_t *o, const char *path)
{
    /* "a.b.c" through objects */
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    json_t *cur = o;
    for (char *p = buf, *dot; cur && p; p = dot ? dot + 1 : NULL) {
        dot = strchr(p, '.');
        if (dot)
            *dot = '\0';
        cur = json_object_get(cur, p);
    }
    return json_string_value(cur);
}

static void put_rule(struct env *e, const char *name, const char *pattern)
{
    struct answer a;
    json_t *req = json_pack("{s:s,s:s}", "Name", name, "EventPattern", pattern);
    char *body = json_dumps(req, JSON_COMPACT);
    ok(e, "PutRule", body, &a);
    free(body);
    json_decref(req);
    answer_release(&a);
}

static void add_target(struct env *e, const char *rule, const char *id)
{
    struct answer a;
    char *body = xasprintf("{\"Rule\":\"%s\",\"Targets\":[{\"Id\":\"%s\",\"Arn\":\"" TOPIC "\"}]}",
                           rule, id);
    ok(e, "PutTargets", body, &a);
    ASSERT_EQ(json_integer_value(json_object_get(a.body, "FailedEntryCount")), 0);
    free(body);
    answer_release(&a);
}

static size_t outbox_pending(struct env *e, struct bus_outbox_rows *rows)
{
    struct meta_conn *c;
    ASSERT_EQ(meta_conn_get(e->db, &c), 0);
    ASSERT_EQ(bus_outbox_list(c, BUS_OUTBOX_PENDING, 0, 0, rows), 0);
    return rows->n;
}

/* ---- rules ---- */

TEST(events_api_put_describe_rule)
{
    struct env e;
    env_open(&e);
    struct answer a;
    const char *pat = "{\"source\": [\"aws.ecr\"], \"detail-type\": [\"ECR Image Scan\"]}";
    json_t *req =
        json_pack("{s:s,s:s,s:s,s:s}", "Name", "scan-done", "EventPattern", pat, "Description",
                  "scans \xe2\x9c\x93", "RoleArn", "arn:aws:iam::" ACCT ":role/r");
    char *body = json_dumps(req, JSON_COMPACT);
    ok(&e, "PutRule", body, &a);
    ASSERT_STREQ(jstr(a.body, "RuleArn"), "arn:aws:events:" REGION ":" ACCT ":rule/scan-done");
    answer_release(&a);
    /* PutRule again is an upsert returning the same ARN */
    ok(&e, "PutRule", body, &a);
    ASSERT_STREQ(jstr(a.body, "RuleArn"), "arn:aws:events:" REGION ":" ACCT ":rule/scan-done");
    answer_release(&a);
    free(body);
    json_decref(req);

    ok(&e, "DescribeRule", "{\"Name\":\"scan-done\"}", &a);
    ASSERT_STREQ(jstr(a.body, "Name"), "scan-done");
    ASSERT_STREQ(jstr(a.body, "Arn"), "arn:aws:events:" REGION ":" ACCT ":rule/scan-done");
    ASSERT_STREQ(jstr(a.body, "EventPattern"), pat); /* kept byte for byte */
    ASSERT_STREQ(jstr(a.body, "State"), "ENABLED");
    ASSERT_STREQ(jstr(a.body, "Description"), "scans \xe2\x9c\x93");
    ASSERT_STREQ(jstr(a.body, "RoleArn"), "arn:aws:iam::" ACCT ":role/r");
    ASSERT_STREQ(jstr(a.body, "EventBusName"), "default");
    ASSERT_STREQ(jstr(a.body, "CreatedBy"), ACCT);
    ASSERT_TRUE(json_object_get(a.body, "ScheduleExpression") == NULL);
    answer_release(&a);

    /* the default bus by name and by ARN */
    ok(&e, "DescribeRule", "{\"Name\":\"scan-done\",\"EventBusName\":\"default\"}", &a);
    answer_release(&a);
    ok(&e, "DescribeRule",
       "{\"Name\":\"scan-done\",\"EventBusName\":\"arn:aws:events:" REGION ":" ACCT
       ":event-bus/default\"}",
       &a);
    answer_release(&a);
    env_free(&e);
}

TEST(events_api_rule_errors)
{
    struct env e;
    env_open(&e);
    aws_err(&e, "DescribeRule", "{\"Name\":\"nope\"}", "ResourceNotFoundException",
            "Rule nope does not exist on EventBus default.");
    aws_err(&e, "DescribeRule", "{\"Name\":\"x\",\"EventBusName\":\"other\"}",
            "ResourceNotFoundException", "Event bus other does not exist.");
    aws_err(&e, "PutRule", "{\"Name\":\"r\",\"EventPattern\":\"{}\",\"EventBusName\":\"custom\"}",
            "ResourceNotFoundException", "Event bus custom does not exist.");
    aws_err(&e, "PutRule", "{\"Name\":\"r\"}", "ValidationException",
            "Parameter(s) ScheduleExpression or EventPattern must be specified.");
    aws_err(&e, "PutRule", "{\"Name\":\"r\",\"ScheduleExpression\":\"rate(5 minutes)\"}",
            "ValidationException", "Parameter ScheduleExpression is not supported.");
    aws_err(&e, "PutRule", "{\"Name\":\"r\",\"EventPattern\":\"{\\\"source\\\":[]}\"}",
            "InvalidEventPatternException",
            "Event pattern is not valid. Reason: Empty arrays are not allowed\n at [Source: "
            "(String)\"{\"source\":[]}\"; line: 1, column: 13]");
    aws_err(&e, "PutRule", "{\"Name\":\"r\",\"EventPattern\":\"{\\\"a\\\":1}\"}",
            "InvalidEventPatternException",
            "Event pattern is not valid. Reason: \"a\" must be an object or an array*");
    /* the model's constraints (Coral's wording) before the bus sees the request */
    aws_err(&e, "PutRule", "{\"Name\":\"bad name\",\"EventPattern\":\"{}\"}", "ValidationException",
            NULL);
    aws_err(&e, "PutRule", "{\"Name\":\"r\",\"EventPattern\":\"{}\",\"State\":\"ON\"}",
            "ValidationException", NULL);
    aws_err(&e, "EnableRule", "{\"Name\":\"nope\"}", "ResourceNotFoundException",
            "Rule nope does not exist on EventBus default.");
    aws_err(&e, "DisableRule", "{\"Name\":\"nope\"}", "ResourceNotFoundException",
            "Rule nope does not exist on EventBus default.");
    /* nothing was stored by the failed calls */
    struct answer a;
    ok(&e, "ListRules", "{}", &a);
    ASSERT_EQ(json_array_size(json_object_get(a.body, "Rules")), 0);
    ASSERT_TRUE(json_object_get(a.body, "NextToken") == NULL);
    answer_release(&a);
    env_free(&e);
}

TEST(events_api_enable_disable)
{
    struct env e;
    env_open(&e);
    struct answer a;
    ok(&e, "PutRule",
       "{\"Name\":\"r1\",\"EventPattern\":\"{\\\"source\\\":[\\\"x\\\"]}\",\"State\":\"DISABLED\"}",
       &a);
    answer_release(&a);
    ok(&e, "DescribeRule", "{\"Name\":\"r1\"}", &a);
    ASSERT_STREQ(jstr(a.body, "State"), "DISABLED");
    answer_release(&a);
    ok(&e, "EnableRule", "{\"Name\":\"r1\"}", &a);
    ASSERT_STREQ(a.text, "{}");
    answer_release(&a);
    ok(&e, "DescribeRule", "{\"Name\":\"r1\"}", &a);
    ASSERT_STREQ(jstr(a.body, "State"), "ENABLED");
    answer_release(&a);
    ok(&e, "DisableRule", "{\"Name\":\"r1\"}", &a);
    answer_release(&a);
    ok(&e, "ListRules", "{}", &a);
    ASSERT_STREQ(jstr(json_array_get(json_object_get(a.body, "Rules"), 0), "State"), "DISABLED");
    answer_release(&a);
    env_free(&e);
}

TEST(events_api_list_rules_pages)
{
    struct env e;
    env_open(&e);
    const char *names[] = { "app-a", "app-b", "app-c", "app-d", "app-e", "other" };
    for (size_t i = 0; i < 6; i++)
        put_rule(&e, names[i], "{\"source\":[\"s\"]}");
    struct answer a;
    /* all at once, in name order, with the Rule shape's members */
    ok(&e, "ListRules", "{}", &a);
    json_t *rules = json_object_get(a.body, "Rules");
    ASSERT_EQ(json_array_size(rules), 6);
    ASSERT_STREQ(jstr(json_array_get(rules, 0), "Name"), "app-a");
    ASSERT_STREQ(jstr(json_array_get(rules, 5), "Name"), "other");
    ASSERT_STREQ(jstr(json_array_get(rules, 0), "EventPattern"), "{\"source\":[\"s\"]}");
    ASSERT_STREQ(jstr(json_array_get(rules, 0), "EventBusName"), "default");
    ASSERT_STREQ(jstr(json_array_get(rules, 0), "Arn"),
                 "arn:aws:events:" REGION ":" ACCT ":rule/app-a");
    answer_release(&a);

    /* NamePrefix with pages of 2: app-a app-b | app-c app-d | app-e */
    const char *want[] = { "app-a", "app-b", "app-c", "app-d", "app-e" };
    size_t seen = 0, pages = 0;
    char *token = NULL;
    do {
        json_t *req = json_pack("{s:s,s:i}", "NamePrefix", "app-", "Limit", 2);
        if (token)
            json_object_set_new(req, "NextToken", json_string(token));
        char *body = json_dumps(req, JSON_COMPACT);
        json_decref(req);
        ok(&e, "ListRules", body, &a);
        free(body);
        free(token);
        token = NULL;
        rules = json_object_get(a.body, "Rules");
        ASSERT_TRUE(json_array_size(rules) <= 2);
        for (size_t i = 0; i < json_array_size(rules); i++) {
            ASSERT_TRUE(seen < 5);
            ASSERT_STREQ(jstr(json_array_get(rules, i), "Name"), want[seen]);
            seen++;
        }
        if (jstr(a.body, "NextToken"))
            token = xstrdup(jstr(a.body, "NextToken"));
        answer_release(&a);
        pages++;
    } while (token && pages < 10);
    ASSERT_EQ(seen, 5);
    ASSERT_EQ(pages, 3);

    /* a token is bound to its prefix and operation; a made-up one is refused */
    ok(&e, "ListRules", "{\"NamePrefix\":\"app-\",\"Limit\":1}", &a);
    char *tok = xstrdup(jstr(a.body, "NextToken"));
    answer_release(&a);
    char *body = xasprintf("{\"NamePrefix\":\"ot\",\"NextToken\":\"%s\"}", tok);
    aws_err(&e, "ListRules", body, "ValidationException", "Invalid NextToken");
    free(body);
    body = xasprintf("{\"Rule\":\"app-a\",\"NextToken\":\"%s\"}", tok);
    aws_err(&e, "ListTargetsByRule", body, "ValidationException", "Invalid NextToken");
    free(body);
    free(tok);
    aws_err(&e, "ListRules", "{\"NextToken\":\"garbage\"}", "ValidationException",
            "Invalid NextToken");
    aws_err(&e, "ListRules", "{\"Limit\":0}", "ValidationException", NULL);
    aws_err(&e, "ListRules", "{\"Limit\":101}", "ValidationException", NULL);
    env_free(&e);
}

/* ---- targets ---- */

TEST(events_api_targets_roundtrip)
{
    struct env e;
    env_open(&e);
    put_rule(&e, "r1", "{\"source\":[\"aws.ecr\"]}");
    struct answer a;
    ok(&e, "PutTargets",
       "{\"Rule\":\"r1\",\"Targets\":[{\"Id\":\"t1\",\"Arn\":\"" TOPIC "\","
       "\"InputTransformer\":{\"InputPathsMap\":{\"repo\":\"$.detail.repository-name\","
       "\"t\":\"$.time\"},\"InputTemplate\":\"\\\"Repo <repo> at <t>\\\"\"},"
       "\"RetryPolicy\":{\"MaximumRetryAttempts\":3,\"MaximumEventAgeInSeconds\":600},"
       "\"DeadLetterConfig\":{\"Arn\":\"arn:aws:sqs:" REGION ":" ACCT ":dlq\"}},"
       "{\"Id\":\"t2\",\"Arn\":\"" TOPIC "\",\"InputPath\":\"$.detail\"},"
       "{\"Id\":\"t3\",\"Arn\":\"" TOPIC "\",\"Input\":\"{\\\"k\\\":1}\"}]}",
       &a);
    ASSERT_EQ(json_integer_value(json_object_get(a.body, "FailedEntryCount")), 0);
    ASSERT_EQ(json_array_size(json_object_get(a.body, "FailedEntries")), 0);
    answer_release(&a);

    ok(&e, "ListTargetsByRule", "{\"Rule\":\"r1\"}", &a);
    json_t *ts = json_object_get(a.body, "Targets");
    ASSERT_EQ(json_array_size(ts), 3);
    json_t *t1 = json_array_get(ts, 0);
    ASSERT_STREQ(jstr(t1, "Id"), "t1");
    ASSERT_STREQ(jstr(t1, "Arn"), TOPIC);
    ASSERT_STREQ(jstr(t1, "InputTransformer.InputTemplate"), "\"Repo <repo> at <t>\"");
    ASSERT_STREQ(jstr(t1, "InputTransformer.InputPathsMap.repo"), "$.detail.repository-name");
    ASSERT_STREQ(jstr(t1, "InputTransformer.InputPathsMap.t"), "$.time");
    ASSERT_EQ(json_integer_value(
                  json_object_get(json_object_get(t1, "RetryPolicy"), "MaximumRetryAttempts")),
              3);
    ASSERT_EQ(json_integer_value(
                  json_object_get(json_object_get(t1, "RetryPolicy"), "MaximumEventAgeInSeconds")),
              600);
    ASSERT_STREQ(jstr(t1, "DeadLetterConfig.Arn"), "arn:aws:sqs:" REGION ":" ACCT ":dlq");
    json_t *t2 = json_array_get(ts, 1);
    ASSERT_STREQ(jstr(t2, "InputPath"), "$.detail");
    ASSERT_TRUE(json_object_get(t2, "InputTransformer") == NULL);
    ASSERT_TRUE(json_object_get(t2, "RetryPolicy") == NULL);
    ASSERT_STREQ(jstr(json_array_get(ts, 2), "Input"), "{\"k\":1}");
    answer_release(&a);

    /* pages of one */
    ok(&e, "ListTargetsByRule", "{\"Rule\":\"r1\",\"Limit\":2}", &a);
    ASSERT_EQ(json_array_size(json_object_get(a.body, "Targets")), 2);
    char *body =
        xasprintf("{\"Rule\":\"r1\",\"Limit\":2,\"NextToken\":\"%s\"}", jstr(a.body, "NextToken"));
    answer_release(&a);
    ok(&e, "ListTargetsByRule", body, &a);
    free(body);
    ASSERT_EQ(json_array_size(json_object_get(a.body, "Targets")), 1);
    ASSERT_STREQ(jstr(json_array_get(json_object_get(a.body, "Targets"), 0), "Id"), "t3");
    ASSERT_TRUE(json_object_get(a.body, "NextToken") == NULL);
    answer_release(&a);

    /* RemoveTargets: one known, one unknown (a per-entry failure) */
    ok(&e, "RemoveTargets", "{\"Rule\":\"r1\",\"Ids\":[\"t2\",\"zz\"]}", &a);
    ASSERT_EQ(json_integer_value(json_object_get(a.body, "FailedEntryCount")), 1);
    json_t *f = json_array_get(json_object_get(a.body, "FailedEntries"), 0);
    ASSERT_STREQ(jstr(f, "TargetId"), "zz");
    ASSERT_STREQ(jstr(f, "ErrorCode"), "ResourceNotFoundException");
    ASSERT_TRUE(jstr(f, "ErrorMessage") != NULL);
    answer_release(&a);
    ok(&e, "ListTargetsByRule", "{\"Rule\":\"r1\"}", &a);
    ASSERT_EQ(json_array_size(json_object_get(a.body, "Targets")), 2);
    answer_release(&a);
    env_free(&e);
}

TEST(events_api_target_errors)
{
    struct env e;
    env_open(&e);
    put_rule(&e, "r1", "{\"source\":[\"aws.ecr\"]}");
    aws_err(&e, "PutTargets",
            "{\"Rule\":\"nope\",\"Targets\":[{\"Id\":\"t\",\"Arn\":\"" TOPIC "\"}]}",
            "ResourceNotFoundException", "Rule nope does not exist on EventBus default.");
    aws_err(&e, "ListTargetsByRule", "{\"Rule\":\"nope\"}", "ResourceNotFoundException",
            "Rule nope does not exist on EventBus default.");
    aws_err(&e, "RemoveTargets", "{\"Rule\":\"nope\",\"Ids\":[\"t\"]}", "ResourceNotFoundException",
            "Rule nope does not exist on EventBus default.");
    aws_err(&e, "PutTargets",
            "{\"Rule\":\"r1\",\"Targets\":[{\"Id\":\"t\",\"Arn\":\"" TOPIC "\","
            "\"Input\":\"{}\",\"InputPath\":\"$.detail\"}]}",
            "ValidationException",
            "Only one of Input, InputPath, or InputTransformer must be provided for target t.");
    aws_err(&e, "PutTargets",
            "{\"Rule\":\"r1\",\"Targets\":[{\"Id\":\"t\",\"Arn\":\"" TOPIC "\","
            "\"InputTransformer\":{\"InputPathsMap\":{\"a\":\"$.detail\"},"
            "\"InputTemplate\":\"\\\"<b>\\\"\"}}]}",
            "ValidationException", "InputTemplate for target t contains invalid placeholder b.");
    /* the model: at least one target, an Id of the allowed characters */
    aws_err(&e, "PutTargets", "{\"Rule\":\"r1\",\"Targets\":[]}", "ValidationException", NULL);
    aws_err(&e, "PutTargets",
            "{\"Rule\":\"r1\",\"Targets\":[{\"Id\":\"a b\",\"Arn\":\"" TOPIC "\"}]}",
            "ValidationException", NULL);
    aws_err(&e, "PutTargets",
            "{\"Rule\":\"r1\",\"Targets\":[{\"Id\":\"t\",\"Arn\":\"" TOPIC "\","
            "\"RetryPolicy\":{\"MaximumRetryAttempts\":186}}]}",
            "ValidationException", NULL);

    /* an ARN vigil cannot deliver to is a per-entry failure; the other entry is stored */
    struct answer a;
    ok(&e, "PutTargets",
       "{\"Rule\":\"r1\",\"Targets\":[{\"Id\":\"q\",\"Arn\":\"arn:aws:sqs:" REGION ":" ACCT
       ":queue\"},{\"Id\":\"s\",\"Arn\":\"" TOPIC "\"}]}",
       &a);
    ASSERT_EQ(json_integer_value(json_object_get(a.body, "FailedEntryCount")), 1);
    json_t *f = json_array_get(json_object_get(a.body, "FailedEntries"), 0);
    ASSERT_STREQ(jstr(f, "TargetId"), "q");
    ASSERT_STREQ(jstr(f, "ErrorCode"), "ValidationException");
    ASSERT_TRUE(strstr(jstr(f, "ErrorMessage"), "arn:aws:sqs:") != NULL);
    answer_release(&a);
    ok(&e, "ListTargetsByRule", "{\"Rule\":\"r1\"}", &a);
    ASSERT_EQ(json_array_size(json_object_get(a.body, "Targets")), 1);
    ASSERT_STREQ(jstr(json_array_get(json_object_get(a.body, "Targets"), 0), "Id"), "s");
    answer_release(&a);

    /* five targets per rule: the sixth is refused */
    for (int i = 0; i < 4; i++) {
        char id[16];
        snprintf(id, sizeof(id), "x%d", i);
        add_target(&e, "r1", id);
    }
    aws_err(&e, "PutTargets",
            "{\"Rule\":\"r1\",\"Targets\":[{\"Id\":\"x9\",\"Arn\":\"" TOPIC "\"}]}",
            "LimitExceededException", "The requested resource exceeds the maximum number allowed.");
    /* replacing an existing Id is not a new target */
    add_target(&e, "r1", "x0");
    env_free(&e);
}

TEST(events_api_delete_rule)
{
    struct env e;
    env_open(&e);
    put_rule(&e, "r1", "{\"source\":[\"a\"]}");
    add_target(&e, "r1", "t1");
    aws_err(&e, "DeleteRule", "{\"Name\":\"r1\"}", "ValidationException",
            "Rule can't be deleted since it has targets.");
    struct answer a;
    ok(&e, "RemoveTargets", "{\"Rule\":\"r1\",\"Ids\":[\"t1\"]}", &a);
    ASSERT_EQ(json_integer_value(json_object_get(a.body, "FailedEntryCount")), 0);
    answer_release(&a);
    ok(&e, "DeleteRule", "{\"Name\":\"r1\"}", &a);
    ASSERT_STREQ(a.text, "{}");
    answer_release(&a);
    aws_err(&e, "DescribeRule", "{\"Name\":\"r1\"}", "ResourceNotFoundException",
            "Rule r1 does not exist on EventBus default.");
    /* deleting again is not an error; Force removes the targets too */
    ok(&e, "DeleteRule", "{\"Name\":\"r1\"}", &a);
    answer_release(&a);
    put_rule(&e, "r2", "{\"source\":[\"a\"]}");
    add_target(&e, "r2", "t1");
    ok(&e, "DeleteRule", "{\"Name\":\"r2\",\"Force\":true}", &a);
    answer_release(&a);
    aws_err(&e, "ListTargetsByRule", "{\"Rule\":\"r2\"}", "ResourceNotFoundException", NULL);
    env_free(&e);
}

/* ---- TestEventPattern ---- */

#define EVENT                                                                                    \
    "{\"id\":\"1\",\"account\":\"" ACCT "\",\"source\":\"aws.ecr\",\"time\":\"2024-01-02T03:04:" \
    "05Z\",\"region\":\"" REGION "\",\"detail-type\":\"ECR Image Scan\",\"resources\":[],"       \
    "\"detail\":{\"finding-severity-counts\":{\"HIGH\":2}}}"

static void test_pattern(struct env *e, const char *pattern, const char *event, bool want)
{
    json_t *req = json_pack("{s:s,s:s}", "EventPattern", pattern, "Event", event);
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    struct answer a;
    ok(e, "TestEventPattern", body, &a);
    free(body);
    json_t *r = json_object_get(a.body, "Result");
    ASSERT_TRUE(json_is_boolean(r));
    ASSERT_EQ(json_is_true(r), want);
    answer_release(&a);
}

static void test_pattern_err(struct env *e, const char *pattern, const char *event,
                             const char *code, const char *msg)
{
    json_t *req = json_pack("{s:s,s:s}", "EventPattern", pattern, "Event", event);
    char *body = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    aws_err(e, "TestEventPattern", body, code, msg);
    free(body);
}

TEST(events_api_test_event_pattern)
{
    struct env e;
    env_open(&e);
    test_pattern(&e, "{\"source\":[\"aws.ecr\"]}", EVENT, true);
    test_pattern(&e, "{\"source\":[\"aws.inspector2\"]}", EVENT, false);
    test_pattern(
        &e, "{\"detail\":{\"finding-severity-counts\":{\"CRITICAL\":[{\"numeric\":[\">\",0]}]}}}",
        EVENT, false);
    test_pattern(&e,
                 "{\"detail\":{\"finding-severity-counts\":{\"$or\":[{\"CRITICAL\":[{\"exists\":"
                 "true}]},{\"HIGH\":[{\"numeric\":[\">=\",1]}]}]}}}",
                 EVENT, true);
    test_pattern_err(&e, "{\"source\":[]}", EVENT, "InvalidEventPatternException",
                     "Event pattern is not valid. Reason: Empty arrays are not allowed*");
    test_pattern_err(&e, "{\"source\":[{\"NUMERIC\":[\">\",0]}]}", EVENT,
                     "InvalidEventPatternException",
                     "Event pattern is not valid. Reason: Unrecognized match type NUMERIC*");
    /* the event must be a JSON object with EventBridge's required members */
    test_pattern_err(&e, "{\"source\":[\"a\"]}", "not json", "ValidationException",
                     "Parameter Event is not valid.");
    test_pattern_err(&e, "{\"source\":[\"a\"]}", "[1,2]", "ValidationException",
                     "Parameter Event is not valid.");
    test_pattern_err(&e, "{\"source\":[\"a\"]}",
                     "{\"id\":\"1\",\"account\":\"" ACCT "\",\"source\":\"a\",\"time\":\"t\","
                     "\"region\":\"r\"}",
                     "ValidationException", "Parameter Event is not valid.");
    /* a pattern beyond the model's 4096 characters */
    char *big = xcalloc(1, 5000);
    memcpy(big, "{\"source\":[\"", 12);
    memset(big + 12, 'a', 4100);
    memcpy(big + 4112, "\"]}", 4);
    test_pattern_err(&e, big, EVENT, "ValidationException", NULL);
    free(big);
    env_free(&e);
}

/* ---- PutEvents ---- */

TEST(events_api_put_events)
{
    struct env e;
    env_open(&e);
    put_rule(&e, "custom", "{\"source\":[\"my.app\"]}");
    add_target(&e, "custom", "t1");
    struct answer a;
    ok(&e, "PutEvents",
       "{\"Entries\":[{\"Source\":\"my.app\",\"DetailType\":\"Thing Happened\","
       "\"Detail\":\"{\\\"n\\\": 1, \\\"s\\\": \\\"\xe6\x97\xa5\\\"}\","
       "\"Resources\":[\"arn:x\"]},"
       "{\"DetailType\":\"d\",\"Detail\":\"{}\"},"
       "{\"Source\":\"my.app\",\"DetailType\":\"d\",\"Detail\":\"[1]\"},"
       "{\"Source\":\"my.app\",\"DetailType\":\"d\",\"Detail\":\"{}\",\"Time\":1704164645},"
       "{\"Source\":\"my.app\",\"DetailType\":\"d\",\"Detail\":\"{}\","
       "\"EventBusName\":\"nosuchbus\"},"
       "{\"Source\":\"other\",\"DetailType\":\"d\",\"Detail\":\"{}\"}]}",
       &a);
    ASSERT_EQ(json_integer_value(json_object_get(a.body, "FailedEntryCount")), 2);
    json_t *r = json_object_get(a.body, "Entries");
    ASSERT_EQ(json_array_size(r), 6);
    const char *id0 = jstr(json_array_get(r, 0), "EventId");
    ASSERT_TRUE(id0 && strlen(id0) == 36);
    ASSERT_STREQ(jstr(json_array_get(r, 1), "ErrorCode"), "InvalidArgument");
    ASSERT_STREQ(jstr(json_array_get(r, 1), "ErrorMessage"),
                 "Parameter Source is not valid. Reason: Source is a required argument.");
    ASSERT_TRUE(json_object_get(json_array_get(r, 1), "EventId") == NULL);
    ASSERT_STREQ(jstr(json_array_get(r, 2), "ErrorCode"), "MalformedDetail");
    ASSERT_STREQ(jstr(json_array_get(r, 2), "ErrorMessage"), "Detail is malformed.");
    const char *id3 = jstr(json_array_get(r, 3), "EventId");
    ASSERT_TRUE(id3 != NULL);
    ASSERT_TRUE(strcmp(id0, id3) != 0);
    /* accepted for a bus that does not exist, and dropped */
    ASSERT_TRUE(jstr(json_array_get(r, 4), "EventId") != NULL);
    ASSERT_TRUE(jstr(json_array_get(r, 5), "EventId") != NULL);
    ASSERT_TRUE(e.kicks >= 1);

    /* entries 0 and 3 matched the rule: one outbox row each, holding the whole event */
    struct bus_outbox_rows rows = { 0 };
    ASSERT_EQ(outbox_pending(&e, &rows), 2);
    ASSERT_STREQ(rows.v[0].event_id, id0);
    ASSERT_STREQ(rows.v[0].target_arn, TOPIC);
    ASSERT_STREQ(rows.v[0].rule_name, "custom");
    json_t *ev = json_loads(rows.v[0].message, 0, NULL);
    ASSERT_TRUE(ev != NULL);
    ASSERT_STREQ(jstr(ev, "version"), "0");
    ASSERT_STREQ(jstr(ev, "id"), id0);
    ASSERT_STREQ(jstr(ev, "detail-type"), "Thing Happened");
    ASSERT_STREQ(jstr(ev, "source"), "my.app");
    ASSERT_STREQ(jstr(ev, "account"), ACCT);
    ASSERT_STREQ(jstr(ev, "time"), "2023-11-14T22:13:20Z");
    ASSERT_STREQ(jstr(ev, "region"), REGION);
    ASSERT_STREQ(json_string_value(json_array_get(json_object_get(ev, "resources"), 0)), "arn:x");
    ASSERT_EQ(json_integer_value(json_object_get(json_object_get(ev, "detail"), "n")), 1);
    ASSERT_STREQ(jstr(ev, "detail.s"), "\xe6\x97\xa5");
    json_decref(ev);
    ev = json_loads(rows.v[1].message, 0, NULL);
    ASSERT_STREQ(jstr(ev, "id"), id3);
    ASSERT_STREQ(jstr(ev, "time"), "2024-01-02T03:04:05Z"); /* the entry's Time */
    ASSERT_EQ(json_array_size(json_object_get(ev, "resources")), 0);
    json_decref(ev);
    bus_outbox_rows_release(&rows);
    answer_release(&a);

    /* a disabled rule publishes nothing */
    ok(&e, "DisableRule", "{\"Name\":\"custom\"}", &a);
    answer_release(&a);
    ok(&e, "PutEvents",
       "{\"Entries\":[{\"Source\":\"my.app\",\"DetailType\":\"d\",\"Detail\":\"{}\"}]}", &a);
    ASSERT_EQ(json_integer_value(json_object_get(a.body, "FailedEntryCount")), 0);
    answer_release(&a);
    ASSERT_EQ(outbox_pending(&e, &rows), 2);
    bus_outbox_rows_release(&rows);
    env_free(&e);
}

TEST(events_api_put_events_limits)
{
    struct env e;
    env_open(&e);
    /* more than 10 entries: the model's limit */
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_append_cstr(&b, "{\"Entries\":[");
    for (int i = 0; i < 11; i++)
        buf_printf(&b, "%s{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"{}\"}", i ? "," : "");
    buf_append_cstr(&b, "]}");
    aws_err(&e, "PutEvents", buf_cstr(&b), "ValidationException", NULL);
    aws_err(&e, "PutEvents", "{\"Entries\":[]}", "ValidationException", NULL);
    /* over 256 KB in total */
    buf_reset(&b);
    buf_append_cstr(&b, "{\"Entries\":[");
    for (int i = 0; i < 3; i++) {
        buf_printf(&b, "%s{\"Source\":\"s\",\"DetailType\":\"d\",\"Detail\":\"{\\\"a\\\":\\\"",
                   i ? "," : "");
        for (int j = 0; j < 90000; j++)
            buf_putc(&b, 'x');
        buf_append_cstr(&b, "\\\"}\"}");
    }
    buf_append_cstr(&b, "]}");
    aws_err(&e, "PutEvents", buf_cstr(&b), "ValidationException",
            "Total size of the entries in the request is over the limit.");
    buf_release(&b);
    struct bus_outbox_rows rows = { 0 };
    ASSERT_EQ(outbox_pending(&e, &rows), 0);
    bus_outbox_rows_release(&rows);
    env_free(&e);
}

TEST(events_api_config)
{
    struct events_api *api = NULL;
    struct diag d = { 0 };
    struct events_api_config c = { 0 };
    ASSERT_EQ(events_api_new(&c, &api, &d), -ERR_INVALID);
    ASSERT_TRUE(api == NULL);
    struct env e;
    env_open(&e);
    c.db = e.db;
    c.bus = e.bus;
    c.account_id = "12345";
    ASSERT_EQ(events_api_new(&c, &api, &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "12 digits") != NULL);
    c.account_id = NULL;
    c.region = "Bad Region";
    ASSERT_EQ(events_api_new(&c, &api, &d), -ERR_INVALID);
    /* registering twice is refused */
    ASSERT_EQ(events_api_register(e.api, e.router), -EEXIST);
    env_free(&e);
}
