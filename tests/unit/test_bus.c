/* SPDX-License-Identifier: Apache-2.0 */
/* The durable event bus on a real SQLite database: rules and targets with EventBridge's
 * messages, publish into the outbox inside the caller's transaction (rendered messages,
 * recorded render failures, rollback), the rule generation seen by a second bus, and the
 * outbox's retry, dead-letter and redrive states. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "events/bus.h"
#include "store/meta.h"
#include "test.h"

#define REGION  "us-east-1"
#define ACCOUNT "123456789012"
#define TOPIC   "arn:aws:sns:" REGION ":" ACCOUNT ":scan-alerts"

struct env {
    struct meta_db *db;
    struct meta_conn *c;
    struct bus *bus;
};

static void env_open(struct env *e, const char *name)
{
    char *path = xasprintf("%s/%s", test_tmpdir(), name);
    struct diag d = { 0 };
    ASSERT_EQ(meta_open(path, NULL, &e->db, &d), 0);
    free(path);
    ASSERT_EQ(bus_migrate(e->db, &d), 0);
    /* migrating twice is a no-op */
    ASSERT_EQ(bus_migrate(e->db, &d), 0);
    ASSERT_EQ(meta_conn_get(e->db, &e->c), 0);
    struct bus_config cfg = { REGION, ACCOUNT };
    ASSERT_EQ(bus_new(&cfg, &e->bus, &d), 0);
}

static void env_close(struct env *e)
{
    bus_free(e->bus);
    meta_close(e->db);
}

static int count(struct meta_conn *c, const char *sql)
{
    sqlite3_stmt *st;
    ASSERT_EQ(meta_stmt(c, sql, &st), 0);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    meta_done(st);
    return n;
}

static const char scan_event[] =
    "{\"version\":\"0\",\"id\":\"85fc3613-e913-7fc4-a80c-a3753e4aa9ae\","
    "\"detail-type\":\"ECR Image Scan\",\"source\":\"aws.ecr\",\"account\":\"123456789012\","
    "\"time\":\"2019-10-29T02:36:48Z\",\"region\":\"us-east-1\","
    "\"resources\":[\"arn:aws:ecr:us-east-1:123456789012:repository/my-repo\"],"
    "\"detail\":{\"scan-status\":\"COMPLETE\",\"repository-name\":\"my-repo\","
    "\"finding-severity-counts\":{\"CRITICAL\":10,\"MEDIUM\":9},"
    "\"image-digest\":\"sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234\","
    "\"image-tags\":[\"latest\"],\"payload\":{\"a\":1}}}";

static const char critical_pattern[] =
    "{\"source\":[\"aws.ecr\"],\"detail-type\":[\"ECR Image Scan\"],"
    "\"detail\":{\"finding-severity-counts\":{\"CRITICAL\":[{\"numeric\":[\">\",0]}]}}}";

static void put_rule(struct env *e, const char *name, const char *pattern, bool disabled)
{
    struct bus_rule_spec spec = { .name = name, .event_pattern = pattern, .disabled = disabled };
    struct bus_error err = { 0 };
    char *arn = NULL;
    int rc = bus_rule_put(e->bus, e->c, &spec, &arn, &err);
    if (rc != 0)
        test_fail(__FILE__, __LINE__, "put rule %s: %d %s", name, rc, err.message);
    free(arn);
}

static void put_target(struct env *e, const char *rule, const struct bus_target_spec *t)
{
    struct bus_failed_entries f;
    struct bus_error err = { 0 };
    int rc = bus_targets_put(e->bus, e->c, rule, t, 1, &f, &err);
    if (rc != 0)
        test_fail(__FILE__, __LINE__, "put target: %d %s", rc, err.message);
    ASSERT_EQ(f.n, 0);
    bus_failed_entries_release(&f);
}

/* Publish inside a transaction and commit: the number of outbox rows written. */
static int publish(struct env *e, const char *event)
{
    ASSERT_EQ(meta_begin(e->c), 0);
    int n = bus_publish(e->bus, e->c, event, strlen(event), NULL);
    if (n < 0) {
        meta_rollback(e->c);
        return n;
    }
    ASSERT_EQ(meta_commit(e->c), 0);
    return n;
}

TEST(bus_rule_crud_and_messages)
{
    struct env e;
    env_open(&e, "rules.db");
    struct bus_error err = { 0 };
    char *arn = NULL;
    struct bus_rule_spec spec = { .name = "scan-critical",
                                  .event_pattern = critical_pattern,
                                  .description = "critical findings" };
    ASSERT_EQ(bus_rule_put(e.bus, e.c, &spec, &arn, &err), 0);
    ASSERT_STREQ(arn, "arn:aws:events:us-east-1:123456789012:rule/scan-critical");
    free(arn);

    struct bus_rule r;
    ASSERT_EQ(bus_rule_get(e.bus, e.c, "scan-critical", &r, &err), 0);
    ASSERT_STREQ(r.event_pattern, critical_pattern);
    ASSERT_STREQ(r.description, "critical findings");
    ASSERT_TRUE(r.enabled);
    ASSERT_EQ(r.n_targets, 0);
    ASSERT_TRUE(r.created_at > 1600000000);
    bus_rule_release(&r);

    /* PutRule replaces every field: the description goes, the state changes */
    spec.description = NULL;
    spec.disabled = true;
    ASSERT_EQ(bus_rule_put(e.bus, e.c, &spec, NULL, &err), 0);
    ASSERT_EQ(bus_rule_get(e.bus, e.c, "scan-critical", &r, &err), 0);
    ASSERT_TRUE(r.description == NULL);
    ASSERT_FALSE(r.enabled);
    bus_rule_release(&r);
    ASSERT_EQ(bus_rule_set_enabled(e.bus, e.c, "scan-critical", true, &err), 0);
    ASSERT_EQ(bus_rule_get(e.bus, e.c, "scan-critical", &r, &err), 0);
    ASSERT_TRUE(r.enabled);
    bus_rule_release(&r);

    /* EventBridge's messages */
    ASSERT_EQ(bus_rule_get(e.bus, e.c, "nope", &r, &err), -ERR_NOT_FOUND);
    ASSERT_STREQ(err.code, "ResourceNotFoundException");
    ASSERT_STREQ(err.message, "Rule nope does not exist on EventBus default.");
    ASSERT_EQ(bus_rule_set_enabled(e.bus, e.c, "nope", false, &err), -ERR_NOT_FOUND);
    ASSERT_STREQ(err.message, "Rule nope does not exist on EventBus default.");

    struct bus_rule_spec bad = { .name = "bad", .event_pattern = "{\"source\":[]}" };
    ASSERT_EQ(bus_rule_put(e.bus, e.c, &bad, NULL, &err), -ERR_INVALID);
    ASSERT_STREQ(err.code, "InvalidEventPatternException");
    ASSERT_TRUE(strncmp(err.message,
                        "Event pattern is not valid. Reason: Empty arrays are not allowed",
                        64) == 0);
    bad.event_pattern = NULL;
    ASSERT_EQ(bus_rule_put(e.bus, e.c, &bad, NULL, &err), -ERR_INVALID);
    ASSERT_STREQ(err.code, "ValidationException");
    ASSERT_STREQ(err.message, "Parameter(s) ScheduleExpression or EventPattern must be specified.");
    bad.schedule_expression = "rate(5 minutes)";
    ASSERT_EQ(bus_rule_put(e.bus, e.c, &bad, NULL, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message, "Parameter ScheduleExpression is not supported.");
    struct bus_rule_spec badname = { .name = "has space", .event_pattern = critical_pattern };
    ASSERT_EQ(bus_rule_put(e.bus, e.c, &badname, NULL, &err), -ERR_INVALID);
    ASSERT_TRUE(strstr(err.message, "at 'name' failed to satisfy constraint: Member must satisfy "
                                    "regular expression pattern") != NULL);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM events_rules"), 1);

    ASSERT_EQ(bus_check_event_bus(e.bus, NULL, &err), 0);
    ASSERT_EQ(bus_check_event_bus(e.bus, "default", &err), 0);
    ASSERT_EQ(
        bus_check_event_bus(e.bus, "arn:aws:events:us-east-1:123456789012:event-bus/default", &err),
        0);
    ASSERT_EQ(bus_check_event_bus(e.bus, "custom", &err), -ERR_NOT_FOUND);
    ASSERT_STREQ(err.message, "Event bus custom does not exist.");

    /* deleting: idempotent, refused while targets remain unless forced */
    struct bus_target_spec t = { .id = "1", .arn = TOPIC };
    put_target(&e, "scan-critical", &t);
    ASSERT_EQ(bus_rule_delete(e.bus, e.c, "scan-critical", false, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message, "Rule can't be deleted since it has targets.");
    ASSERT_EQ(bus_rule_delete(e.bus, e.c, "scan-critical", true, &err), 0);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM events_targets"), 0);
    ASSERT_EQ(bus_rule_delete(e.bus, e.c, "scan-critical", false, &err), 0);
    env_close(&e);
}

TEST(bus_rule_list_prefix_and_pages)
{
    struct env e;
    env_open(&e, "list.db");
    char name[32];
    for (int i = 0; i < 7; i++) {
        snprintf(name, sizeof(name), "r%d", i);
        put_rule(&e, name, critical_pattern, false);
    }
    put_rule(&e, "other", critical_pattern, false);
    put_rule(&e, "r_x", critical_pattern, false); /* '_' is literal in NamePrefix */
    struct bus_rule_list l;
    struct bus_error err = { 0 };
    size_t seen = 0;
    char *after = NULL;
    int pages = 0;
    do {
        ASSERT_EQ(bus_rule_list(e.bus, e.c, "r", after, 3, &l, &err), 0);
        for (size_t i = 0; i < l.n; i++)
            ASSERT_EQ(l.v[i].name[0], 'r');
        seen += l.n;
        free(after);
        after = l.next ? xstrdup(l.next) : NULL;
        bus_rule_list_release(&l);
        pages++;
    } while (after);
    ASSERT_EQ(seen, 8);
    ASSERT_EQ(pages, 3);
    ASSERT_EQ(bus_rule_list(e.bus, e.c, "r_", NULL, 0, &l, &err), 0);
    ASSERT_EQ(l.n, 1);
    ASSERT_STREQ(l.v[0].name, "r_x");
    bus_rule_list_release(&l);
    ASSERT_EQ(bus_rule_list(e.bus, e.c, NULL, NULL, 0, &l, &err), 0);
    ASSERT_EQ(l.n, 9);
    ASSERT_TRUE(l.next == NULL);
    ASSERT_STREQ(l.v[0].name, "other");
    bus_rule_list_release(&l);

    struct bus_target_spec t = { .id = "t", .arn = TOPIC };
    put_target(&e, "r3", &t);
    put_target(&e, "r5", &t);
    struct bus_names names;
    ASSERT_EQ(bus_rule_names_by_target(e.bus, e.c, TOPIC, NULL, 1, &names, &err), 0);
    ASSERT_EQ(names.n, 1);
    ASSERT_STREQ(names.v[0], "r3");
    ASSERT_STREQ(names.next, "r3");
    bus_names_release(&names);
    ASSERT_EQ(bus_rule_names_by_target(e.bus, e.c, TOPIC, "r3", 1, &names, &err), 0);
    ASSERT_EQ(names.n, 1);
    ASSERT_STREQ(names.v[0], "r5");
    ASSERT_TRUE(names.next == NULL);
    bus_names_release(&names);
    env_close(&e);
}

TEST(bus_targets_validation_limits_and_failures)
{
    struct env e;
    env_open(&e, "targets.db");
    put_rule(&e, "r", critical_pattern, false);
    struct bus_error err = { 0 };
    struct bus_failed_entries f;

    /* a rule that does not exist */
    struct bus_target_spec one = { .id = "a", .arn = TOPIC };
    ASSERT_EQ(bus_targets_put(e.bus, e.c, "missing", &one, 1, &f, &err), -ERR_NOT_FOUND);
    ASSERT_STREQ(err.message, "Rule missing does not exist on EventBus default.");

    /* mutually exclusive inputs: the transform module's message, nothing stored */
    struct bus_target_spec two[2] = {
        { .id = "ok", .arn = TOPIC },
        { .id = "both", .arn = TOPIC, .input = "{}", .input_path = "$.detail" },
    };
    ASSERT_EQ(bus_targets_put(e.bus, e.c, "r", two, 2, &f, &err), -ERR_INVALID);
    ASSERT_STREQ(err.code, "ValidationException");
    ASSERT_TRUE(strstr(err.message, "Only one of Input, InputPath, or InputTransformer") != NULL);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM events_targets"), 0);

    /* an undefined placeholder */
    struct bus_target_spec tpl = { .id = "tpl",
                                   .arn = TOPIC,
                                   .has_transformer = true,
                                   .paths_map = "{\"repo\":\"$.detail.repository-name\"}",
                                   .input_template = "\"<repo> <nope>\"" };
    ASSERT_EQ(bus_targets_put(e.bus, e.c, "r", &tpl, 1, &f, &err), -ERR_INVALID);
    ASSERT_TRUE(strstr(err.message, "invalid placeholder") != NULL);

    /* RetryPolicy ranges */
    struct bus_target_spec rp = { .id = "rp",
                                  .arn = TOPIC,
                                  .has_retry_policy = true,
                                  .has_max_retry_attempts = true,
                                  .max_retry_attempts = 200 };
    ASSERT_EQ(bus_targets_put(e.bus, e.c, "r", &rp, 1, &f, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message, "1 validation error detected: Value '200' at "
                              "'targets.1.member.retryPolicy.maximumRetryAttempts' failed to "
                              "satisfy constraint: Member must have value less than or equal "
                              "to 185");
    rp.max_retry_attempts = 3;
    rp.max_event_age_s = 10;
    ASSERT_EQ(bus_targets_put(e.bus, e.c, "r", &rp, 1, &f, &err), -ERR_INVALID);
    ASSERT_TRUE(strstr(err.message, "maximumEventAgeInSeconds") != NULL);

    /* bad Id */
    struct bus_target_spec bad_id = { .id = "a b", .arn = TOPIC };
    ASSERT_EQ(bus_targets_put(e.bus, e.c, "r", &bad_id, 1, &f, &err), -ERR_INVALID);
    ASSERT_TRUE(strstr(err.message, "'targets.1.member.id'") != NULL);

    /* a target vigil cannot deliver to is a per-entry failure; the others are stored */
    struct bus_target_spec mixed[2] = {
        { .id = "lambda", .arn = "arn:aws:lambda:us-east-1:123456789012:function:f" },
        { .id = "sns", .arn = TOPIC },
    };
    ASSERT_EQ(bus_targets_put(e.bus, e.c, "r", mixed, 2, &f, &err), 0);
    ASSERT_EQ(f.n, 1);
    ASSERT_STREQ(f.v[0].target_id, "lambda");
    ASSERT_STREQ(f.v[0].error_code, "ValidationException");
    ASSERT_TRUE(strstr(f.v[0].error_message, "arn:aws:lambda") != NULL);
    bus_failed_entries_release(&f);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM events_targets"), 1);

    /* at most five targets per rule; replacing by Id does not count twice */
    struct bus_target_spec four[4] = {
        { .id = "t2", .arn = TOPIC },
        { .id = "t3", .arn = TOPIC },
        { .id = "t4", .arn = TOPIC },
        { .id = "sns", .arn = TOPIC, .input = "\"constant\"" },
    };
    ASSERT_EQ(bus_targets_put(e.bus, e.c, "r", four, 4, &f, &err), 0);
    bus_failed_entries_release(&f);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM events_targets"), 4);
    struct bus_target_spec more[2] = { { .id = "t5", .arn = TOPIC }, { .id = "t6", .arn = TOPIC } };
    ASSERT_EQ(bus_targets_put(e.bus, e.c, "r", more, 2, &f, &err), -ERR_TOO_BIG);
    ASSERT_STREQ(err.code, "LimitExceededException");
    ASSERT_STREQ(err.message, "The requested resource exceeds the maximum number allowed.");
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM events_targets"), 4);
    ASSERT_EQ(bus_targets_put(e.bus, e.c, "r", more, 1, &f, &err), 0);
    bus_failed_entries_release(&f);

    /* listing: Id order, paging, stored fields */
    struct bus_target_list tl;
    ASSERT_EQ(bus_targets_list(e.bus, e.c, "r", NULL, 2, &tl, &err), 0);
    ASSERT_EQ(tl.n, 2);
    ASSERT_STREQ(tl.v[0].id, "sns");
    ASSERT_STREQ(tl.v[0].input, "\"constant\"");
    ASSERT_STREQ(tl.next, "t2");
    bus_target_list_release(&tl);
    ASSERT_EQ(bus_targets_list(e.bus, e.c, "r", "t2", 0, &tl, &err), 0);
    ASSERT_EQ(tl.n, 3);
    ASSERT_TRUE(tl.next == NULL);
    bus_target_list_release(&tl);
    ASSERT_EQ(bus_targets_list(e.bus, e.c, "missing", NULL, 0, &tl, &err), -ERR_NOT_FOUND);

    /* RemoveTargets: unknown ids are per-entry failures */
    const char *ids[2] = { "t2", "ghost" };
    ASSERT_EQ(bus_targets_remove(e.bus, e.c, "r", ids, 2, false, &f, &err), 0);
    ASSERT_EQ(f.n, 1);
    ASSERT_STREQ(f.v[0].target_id, "ghost");
    ASSERT_STREQ(f.v[0].error_code, "ResourceNotFoundException");
    bus_failed_entries_release(&f);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM events_targets"), 4);
    env_close(&e);
}

TEST(bus_publish_renders_into_outbox)
{
    struct env e;
    env_open(&e, "publish.db");
    put_rule(&e, "critical", critical_pattern, false);
    put_rule(&e, "pushes", "{\"detail-type\":[\"ECR Image Action\"]}", false);
    put_rule(&e, "off", "{\"source\":[\"aws.ecr\"]}", true);
    struct bus_target_spec whole = { .id = "whole", .arn = TOPIC };
    struct bus_target_spec text = {
        .id = "text",
        .arn = TOPIC,
        .has_transformer = true,
        .paths_map = "{\"CRITICAL\":\"$.detail.finding-severity-counts.CRITICAL\","
                     "\"repository\":\"$.detail.repository-name\"}",
        .input_template = "\"Repository: <repository>\"\n\"CRITICAL: <CRITICAL>\"\n"
                          "\"Rule: <aws.events.rule-name>\"",
    };
    struct bus_target_spec path = { .id = "path",
                                    .arn = TOPIC,
                                    .input_path = "$.detail.image-tags",
                                    .has_retry_policy = true,
                                    .has_max_retry_attempts = true,
                                    .max_retry_attempts = 2,
                                    .max_event_age_s = 120,
                                    .dead_letter_arn = "arn:aws:sqs:us-east-1:123456789012:dlq" };
    put_target(&e, "critical", &whole);
    put_target(&e, "critical", &text);
    put_target(&e, "critical", &path);
    put_target(&e, "off", &whole);

    ASSERT_EQ(publish(&e, scan_event), 3);
    struct bus_outbox_rows rows;
    ASSERT_EQ(bus_outbox_list(e.c, BUS_OUTBOX_PENDING, 0, 0, &rows), 0);
    ASSERT_EQ(rows.n, 3);
    int found = 0;
    for (size_t i = 0; i < rows.n; i++) {
        struct bus_outbox_row *r = &rows.v[i];
        ASSERT_STREQ(r->event_id, "85fc3613-e913-7fc4-a80c-a3753e4aa9ae");
        ASSERT_STREQ(r->rule_arn, "arn:aws:events:us-east-1:123456789012:rule/critical");
        ASSERT_STREQ(r->target_arn, TOPIC);
        ASSERT_EQ(r->attempts, 0);
        ASSERT_TRUE(r->next_ms > 0 && r->next_ms == r->created_ms);
        if (strcmp(r->target_id, "whole") == 0) {
            ASSERT_STREQ(r->message, scan_event);
            ASSERT_EQ(r->max_retry_attempts, 185);
            ASSERT_EQ(r->max_event_age_s, 86400);
            found++;
        } else if (strcmp(r->target_id, "text") == 0) {
            ASSERT_STREQ(r->message, "\"Repository: my-repo\"\n\"CRITICAL: 10\"\n"
                                     "\"Rule: critical\"");
            found++;
        } else if (strcmp(r->target_id, "path") == 0) {
            ASSERT_STREQ(r->message, "[\"latest\"]");
            ASSERT_EQ(r->max_retry_attempts, 2);
            ASSERT_EQ(r->max_event_age_s, 120);
            ASSERT_STREQ(r->dead_letter_arn, "arn:aws:sqs:us-east-1:123456789012:dlq");
            found++;
        }
    }
    ASSERT_EQ(found, 3);
    bus_outbox_rows_release(&rows);

    /* the same event again: (event, rule, target) is unique, nothing new */
    ASSERT_EQ(publish(&e, scan_event), 0);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM events_outbox"), 3);

    /* an event no enabled rule matches */
    const char *other = "{\"id\":\"e2\",\"source\":\"custom\",\"detail-type\":\"x\",\"detail\":{}}";
    ASSERT_EQ(publish(&e, other), 0);

    /* not in a transaction, too big, not an object, no id */
    ASSERT_EQ(bus_publish(e.bus, e.c, scan_event, strlen(scan_event), NULL), -EINVAL);
    ASSERT_EQ(meta_begin(e.c), 0);
    size_t big_len = BUS_EVENT_MAX + 10;
    char *big = xmalloc(big_len + 1);
    memset(big, ' ', big_len);
    big[big_len] = '\0';
    ASSERT_EQ(bus_publish(e.bus, e.c, big, big_len, "x"), -ERR_TOO_BIG);
    free(big);
    ASSERT_EQ(bus_publish(e.bus, e.c, "[1,2]", 5, "x"), -ERR_INVALID);
    ASSERT_EQ(bus_publish(e.bus, e.c, "{\"source\":\"a\"}", 14, NULL), -ERR_INVALID);
    meta_rollback(e.c);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM events_outbox"), 3);
    env_close(&e);
}

TEST(bus_publish_rolls_back_with_the_caller)
{
    struct env e;
    env_open(&e, "rollback.db");
    put_rule(&e, "critical", critical_pattern, false);
    struct bus_target_spec t = { .id = "t", .arn = TOPIC };
    put_target(&e, "critical", &t);
    /* the caller's own state change and the event share the transaction */
    ASSERT_EQ(meta_exec(e.c, "CREATE TABLE app_state (v INTEGER)"), 0);
    ASSERT_EQ(meta_begin(e.c), 0);
    ASSERT_EQ(meta_exec(e.c, "INSERT INTO app_state VALUES (1)"), 0);
    ASSERT_EQ(bus_publish(e.bus, e.c, scan_event, strlen(scan_event), "ev-1"), 1);
    meta_rollback(e.c);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM app_state"), 0);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM events_outbox"), 0);
    /* and commit keeps both */
    ASSERT_EQ(meta_begin(e.c), 0);
    ASSERT_EQ(meta_exec(e.c, "INSERT INTO app_state VALUES (1)"), 0);
    ASSERT_EQ(bus_publish(e.bus, e.c, scan_event, strlen(scan_event), "ev-1"), 1);
    ASSERT_EQ(meta_commit(e.c), 0);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM app_state"), 1);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM events_outbox WHERE event_id = 'ev-1'"), 1);
    env_close(&e);
}

TEST(bus_render_failures_are_recorded)
{
    struct env e;
    env_open(&e, "renderfail.db");
    put_rule(&e, "critical", critical_pattern, false);
    /* an object placed inside quotes renders invalid JSON: EventBridge drops it */
    struct bus_target_spec bad = { .id = "bad",
                                   .arn = TOPIC,
                                   .has_transformer = true,
                                   .paths_map = "{\"payload\":\"$.detail.payload\"}",
                                   .input_template = "{\"payload\": \"<payload>\"}" };
    struct bus_target_spec nopath = { .id = "nopath",
                                      .arn = TOPIC,
                                      .input_path = "$.detail.missing" };
    struct bus_target_spec good = { .id = "good", .arn = TOPIC, .input = "{\"fixed\":true}" };
    put_target(&e, "critical", &bad);
    put_target(&e, "critical", &nopath);
    put_target(&e, "critical", &good);
    ASSERT_EQ(publish(&e, scan_event), 1);
    struct bus_render_failures f;
    ASSERT_EQ(bus_render_failures_list(e.c, 0, 0, &f), 0);
    ASSERT_EQ(f.n, 2);
    bool saw_json = false, saw_path = false;
    for (size_t i = 0; i < f.n; i++) {
        ASSERT_STREQ(f.v[i].event_id, "85fc3613-e913-7fc4-a80c-a3753e4aa9ae");
        ASSERT_STREQ(f.v[i].event, scan_event);
        if (strcmp(f.v[i].target_id, "bad") == 0) {
            ASSERT_TRUE(strstr(f.v[i].error, "invalid JSON") != NULL);
            saw_json = true;
        }
        if (strcmp(f.v[i].target_id, "nopath") == 0) {
            ASSERT_TRUE(strstr(f.v[i].error, "InputPath") != NULL);
            saw_path = true;
        }
    }
    ASSERT_TRUE(saw_json && saw_path);
    bus_render_failures_release(&f);
    struct bus_outbox_rows rows;
    ASSERT_EQ(bus_outbox_list(e.c, BUS_OUTBOX_PENDING, 0, 0, &rows), 0);
    ASSERT_EQ(rows.n, 1);
    ASSERT_STREQ(rows.v[0].message, "{\"fixed\":true}");
    bus_outbox_rows_release(&rows);
    env_close(&e);
}

TEST(bus_generation_reload_across_buses)
{
    /* two buses on one database stand for two threads or processes: a rule written through
     * one is matched by the other on its next publish */
    struct env e;
    env_open(&e, "gen.db");
    struct bus *other;
    struct bus_config cfg = { REGION, ACCOUNT };
    ASSERT_EQ(bus_new(&cfg, &other, NULL), 0);
    ASSERT_EQ(meta_begin(e.c), 0);
    ASSERT_EQ(bus_publish(other, e.c, scan_event, strlen(scan_event), "g1"), 0);
    ASSERT_EQ(meta_commit(e.c), 0);

    put_rule(&e, "critical", critical_pattern, false);
    struct bus_target_spec t = { .id = "t", .arn = TOPIC };
    put_target(&e, "critical", &t);
    ASSERT_EQ(meta_begin(e.c), 0);
    ASSERT_EQ(bus_publish(other, e.c, scan_event, strlen(scan_event), "g2"), 1);
    ASSERT_EQ(meta_commit(e.c), 0);

    /* disabled through the first bus: the second stops matching */
    struct bus_error err;
    ASSERT_EQ(bus_rule_set_enabled(e.bus, e.c, "critical", false, &err), 0);
    ASSERT_EQ(meta_begin(e.c), 0);
    ASSERT_EQ(bus_publish(other, e.c, scan_event, strlen(scan_event), "g3"), 0);
    ASSERT_EQ(meta_commit(e.c), 0);
    /* a new pattern that no longer matches */
    put_rule(&e, "critical", "{\"source\":[\"aws.inspector2\"]}", false);
    ASSERT_EQ(meta_begin(e.c), 0);
    ASSERT_EQ(bus_publish(other, e.c, scan_event, strlen(scan_event), "g4"), 0);
    ASSERT_EQ(meta_commit(e.c), 0);
    /* a rule changed inside a caller's transaction is seen by that transaction's publish */
    ASSERT_EQ(meta_begin(e.c), 0);
    struct bus_rule_spec spec = { .name = "critical", .event_pattern = critical_pattern };
    ASSERT_EQ(bus_rule_put(e.bus, e.c, &spec, NULL, &err), 0);
    ASSERT_EQ(bus_publish(other, e.c, scan_event, strlen(scan_event), "g5"), 1);
    meta_rollback(e.c);
    ASSERT_EQ(meta_begin(e.c), 0);
    ASSERT_EQ(bus_publish(other, e.c, scan_event, strlen(scan_event), "g6"), 0);
    ASSERT_EQ(meta_commit(e.c), 0);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM events_outbox"), 1);
    bus_free(other);
    env_close(&e);
}

TEST(bus_outbox_states_and_redrive)
{
    struct env e;
    env_open(&e, "states.db");
    put_rule(&e, "critical", critical_pattern, false);
    struct bus_target_spec a = { .id = "a", .arn = TOPIC };
    struct bus_target_spec b = { .id = "b", .arn = TOPIC };
    put_target(&e, "critical", &a);
    put_target(&e, "critical", &b);
    ASSERT_EQ(publish(&e, scan_event), 2);
    struct bus_outbox_rows due;
    int64_t far = (int64_t)1 << 50;
    ASSERT_EQ(bus_outbox_due(e.c, far, 0, 10, &due), 0);
    ASSERT_EQ(due.n, 2);
    int64_t id1 = due.v[0].id, id2 = due.v[1].id;
    int64_t created = due.v[0].created_ms;
    bus_outbox_rows_release(&due);
    int64_t next;
    ASSERT_EQ(bus_outbox_next_due(e.c, &next), 0);
    ASSERT_EQ(next, created);

    ASSERT_EQ(bus_outbox_mark_retry(e.c, id1, created + 5000, "busy", created + 1), 0);
    ASSERT_EQ(bus_outbox_due(e.c, created + 10, 0, 10, &due), 0);
    ASSERT_EQ(due.n, 1);
    ASSERT_EQ(due.v[0].id, id2);
    bus_outbox_rows_release(&due);
    ASSERT_EQ(bus_outbox_mark_done(e.c, id2, created + 2), 0);
    /* a row that is not pending any more is left alone */
    ASSERT_EQ(bus_outbox_mark_dead(e.c, id2, "late", created + 3), -ERR_NOT_FOUND);
    ASSERT_EQ(bus_outbox_mark_dead(e.c, id1, "NO_RESOURCE: Topic does not exist", created + 4), 0);
    ASSERT_EQ(bus_outbox_next_due(e.c, &next), 0);
    ASSERT_EQ(next, INT64_MAX);

    struct bus_outbox_rows dead;
    ASSERT_EQ(bus_outbox_list(e.c, BUS_OUTBOX_DEAD, 0, 0, &dead), 0);
    ASSERT_EQ(dead.n, 1);
    ASSERT_EQ(dead.v[0].id, id1);
    ASSERT_EQ(dead.v[0].attempts, 2);
    ASSERT_STREQ(dead.v[0].last_error, "NO_RESOURCE: Topic does not exist");
    ASSERT_STREQ(bus_outbox_state_name(dead.v[0].state), "dead");
    bus_outbox_rows_release(&dead);

    size_t n;
    ASSERT_EQ(bus_outbox_redrive(e.c, id2, created + 10, &n), -ERR_NOT_FOUND); /* done, not dead */
    ASSERT_EQ(bus_outbox_redrive(e.c, 0, created + 10, &n), 0);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(bus_outbox_due(e.c, created + 10, 0, 10, &due), 0);
    ASSERT_EQ(due.n, 1);
    ASSERT_EQ(due.v[0].attempts, 0);
    ASSERT_EQ(due.v[0].age_from_ms, created + 10);
    ASSERT_EQ(due.v[0].created_ms, created);
    bus_outbox_rows_release(&due);
    env_close(&e);
}
