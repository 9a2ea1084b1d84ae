/* SPDX-License-Identifier: Apache-2.0 */
/* SNS topics, subscriptions and Publish on a real SQLite database: SNS's idempotency rules
 * and messages, the confirmation flow, filter policies through the pattern engine, fan-out in
 * the caller's transaction (and rollback), and the deliveries table's states. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "deliver/sns.h"
#include "store/meta.h"
#include "test.h"

#define REGION  "us-east-1"
#define ACCOUNT "123456789012"

struct env {
    struct meta_db *db;
    struct meta_conn *c;
    struct sns *sns;
};

static void env_open(struct env *e, const char *name)
{
    char *path = xasprintf("%s/%s", test_tmpdir(), name);
    struct diag d = { 0 };
    ASSERT_EQ(meta_open(path, NULL, &e->db, &d), 0);
    free(path);
    ASSERT_EQ(sns_migrate(e->db, &d), 0);
    ASSERT_EQ(meta_conn_get(e->db, &e->c), 0);
    struct sns_config cfg = { REGION, ACCOUNT };
    ASSERT_EQ(sns_new(&cfg, &e->sns, &d), 0);
}

static void env_close(struct env *e)
{
    sns_free(e->sns);
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

static char *topic(struct env *e, const char *name)
{
    char *arn = NULL;
    struct sns_error err = { 0 };
    int rc = sns_topic_create(e->sns, e->c, name, NULL, 0, NULL, 0, &arn, &err);
    if (rc != 0)
        test_fail(__FILE__, __LINE__, "create topic: %s", err.message);
    return arn;
}

/* The stored token of a subscription (owned). */
static char *token_of(struct env *e, const char *sub_arn)
{
    sqlite3_stmt *st;
    ASSERT_EQ(meta_stmt(e->c, "SELECT token FROM sns_subscriptions WHERE arn = ?1", &st), 0);
    meta_bind_text(st, 1, sub_arn);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    char *t = xstrdup((const char *)sqlite3_column_text(st, 0));
    meta_done(st);
    return t;
}

/* Subscribe and confirm; returns the subscription ARN (owned). */
static char *subscribe_confirmed(struct env *e, const char *topic_arn, const char *proto,
                                 const char *endpoint, const struct sns_kv *attrs, size_t n)
{
    struct sns_subscribe_req req = { topic_arn, proto, endpoint, attrs, n };
    char *arn = NULL;
    bool pending;
    struct sns_error err = { 0 };
    int rc = sns_subscribe(e->sns, e->c, &req, &arn, &pending, &err);
    if (rc != 0)
        test_fail(__FILE__, __LINE__, "subscribe: %s", err.message);
    ASSERT_TRUE(pending);
    char *tok = token_of(e, arn);
    char *confirmed = NULL;
    ASSERT_EQ(sns_confirm_subscription(e->sns, e->c, topic_arn, tok, false, &confirmed, &err), 0);
    ASSERT_STREQ(confirmed, arn);
    free(confirmed);
    free(tok);
    return arn;
}

TEST(sns_topics_idempotent_attributes_and_pages)
{
    struct env e;
    env_open(&e, "topics.db");
    struct sns_error err = { 0 };
    struct sns_kv attrs[] = { { "DisplayName", "Scanner" } };
    struct sns_kv tags[] = { { "team", "sec" } };
    char *arn = NULL;
    ASSERT_EQ(sns_topic_create(e.sns, e.c, "scan-alerts", attrs, 1, tags, 1, &arn, &err), 0);
    ASSERT_STREQ(arn, "arn:aws:sns:us-east-1:123456789012:scan-alerts");
    free(arn);
    /* same name and attributes: the same ARN; no attributes given: also fine */
    ASSERT_EQ(sns_topic_create(e.sns, e.c, "scan-alerts", attrs, 1, tags, 1, &arn, &err), 0);
    ASSERT_STREQ(arn, "arn:aws:sns:us-east-1:123456789012:scan-alerts");
    free(arn);
    ASSERT_EQ(sns_topic_create(e.sns, e.c, "scan-alerts", NULL, 0, NULL, 0, &arn, &err), 0);
    free(arn);
    struct sns_kv other[] = { { "DisplayName", "Other" } };
    ASSERT_EQ(sns_topic_create(e.sns, e.c, "scan-alerts", other, 1, NULL, 0, &arn, &err),
              -ERR_INVALID);
    ASSERT_STREQ(err.code, "InvalidParameter");
    ASSERT_STREQ(err.message,
                 "Invalid parameter: Attributes Reason: Topic already exists with different "
                 "attributes");
    struct sns_kv other_tags[] = { { "team", "ops" } };
    ASSERT_EQ(sns_topic_create(e.sns, e.c, "scan-alerts", NULL, 0, other_tags, 1, &arn, &err),
              -ERR_INVALID);
    ASSERT_STREQ(err.message,
                 "Invalid parameter: Tags Reason: Topic already exists with different tags");
    ASSERT_EQ(sns_topic_create(e.sns, e.c, "bad name", NULL, 0, NULL, 0, &arn, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message, "Invalid parameter: Topic Name");
    ASSERT_EQ(sns_topic_create(e.sns, e.c, "q.fifo", NULL, 0, NULL, 0, &arn, &err), -ERR_INVALID);
    struct sns_kv bad_policy[] = { { "DeliveryPolicy",
                                     "{\"http\":{\"defaultHealthyRetryPolicy\":{\"numRetries\":"
                                     "101}}}" } };
    ASSERT_EQ(sns_topic_create(e.sns, e.c, "t2", bad_policy, 1, NULL, 0, &arn, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message, "Invalid parameter: Attributes Reason: DeliveryPolicy: "
                              "http.defaultHealthyRetryPolicy.numRetries must be less than or "
                              "equal to 100");

    /* attributes */
    const char *t = "arn:aws:sns:us-east-1:123456789012:scan-alerts";
    struct sns_attrs a;
    ASSERT_EQ(sns_topic_get_attributes(e.sns, e.c, t, &a, &err), 0);
    ASSERT_STREQ(a.v[0].key, "Policy");
    ASSERT_STREQ(sns_attrs_get(&a, "Owner"), ACCOUNT);
    ASSERT_STREQ(sns_attrs_get(&a, "TopicArn"), t);
    ASSERT_STREQ(sns_attrs_get(&a, "DisplayName"), "Scanner");
    ASSERT_STREQ(sns_attrs_get(&a, "SubscriptionsConfirmed"), "0");
    ASSERT_TRUE(strstr(sns_attrs_get(&a, "EffectiveDeliveryPolicy"), "\"numRetries\":3") != NULL);
    sns_attrs_release(&a);
    ASSERT_EQ(sns_topic_set_attribute(e.sns, e.c, t, "DeliveryPolicy",
                                      "{\"http\":{\"defaultHealthyRetryPolicy\":{\"numRetries\":"
                                      "7,\"minDelayTarget\":1,\"maxDelayTarget\":5}}}",
                                      &err),
              0);
    ASSERT_EQ(sns_topic_set_attribute(e.sns, e.c, t, "Colour", "red", &err), -ERR_INVALID);
    ASSERT_STREQ(err.message, "Invalid parameter: AttributeName");
    ASSERT_EQ(sns_topic_set_attribute(e.sns, e.c, t, "SignatureVersion", "3", &err), -ERR_INVALID);
    ASSERT_EQ(sns_topic_set_attribute(e.sns, e.c, t, "SignatureVersion", "2", &err), 0);
    ASSERT_EQ(sns_topic_get_attributes(e.sns, e.c, t, &a, &err), 0);
    ASSERT_TRUE(strstr(sns_attrs_get(&a, "EffectiveDeliveryPolicy"), "\"numRetries\":7") != NULL);
    ASSERT_STREQ(sns_attrs_get(&a, "SignatureVersion"), "2");
    sns_attrs_release(&a);
    /* missing and malformed ARNs */
    ASSERT_EQ(
        sns_topic_get_attributes(e.sns, e.c, "arn:aws:sns:us-east-1:123456789012:none", &a, &err),
        -ERR_NOT_FOUND);
    ASSERT_STREQ(err.code, "NotFound");
    ASSERT_STREQ(err.message, "Topic does not exist");
    ASSERT_EQ(sns_topic_get_attributes(e.sns, e.c, "arn:aws:sns:x", &a, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message,
                 "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 4");

    /* 105 topics in two pages */
    char name[32];
    for (int i = 0; i < 104; i++) {
        snprintf(name, sizeof(name), "t%03d", i);
        free(topic(&e, name));
    }
    struct sns_names l;
    ASSERT_EQ(sns_topic_list(e.sns, e.c, NULL, &l, &err), 0);
    ASSERT_EQ(l.n, SNS_LIST_PAGE);
    ASSERT_TRUE(l.next != NULL);
    char *next = xstrdup(l.next);
    sns_names_release(&l);
    ASSERT_EQ(sns_topic_list(e.sns, e.c, next, &l, &err), 0);
    ASSERT_EQ(l.n, 5);
    ASSERT_TRUE(l.next == NULL);
    sns_names_release(&l);
    free(next);

    /* DeleteTopic is idempotent */
    ASSERT_EQ(sns_topic_delete(e.sns, e.c, t, &err), 0);
    ASSERT_EQ(sns_topic_delete(e.sns, e.c, t, &err), 0);
    bool exists = true;
    ASSERT_EQ(sns_topic_exists(e.sns, e.c, t, &exists, &err), 0);
    ASSERT_FALSE(exists);
    env_close(&e);
}

TEST(sns_subscribe_confirm_unsubscribe)
{
    struct env e;
    env_open(&e, "subs.db");
    char *t = topic(&e, "alerts");
    struct sns_error err = { 0 };
    struct sns_subscribe_req req = { t, "email", "ops@example.com", NULL, 0 };
    char *arn = NULL;
    bool pending = false;
    ASSERT_EQ(sns_subscribe(e.sns, e.c, &req, &arn, &pending, &err), 0);
    ASSERT_TRUE(pending);
    ASSERT_TRUE(strncmp(arn, t, strlen(t)) == 0 && arn[strlen(t)] == ':');
    ASSERT_EQ(strlen(arn), strlen(t) + 1 + 36);
    /* a confirmation mail is queued in the same transaction */
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM sns_deliveries WHERE type = 1 AND state = 0"), 1);
    char *tok = token_of(&e, arn);
    ASSERT_EQ(strlen(tok), 2 * SNS_TOKEN_BYTES);

    /* again while pending: same ARN, same token, the confirmation sent again */
    char *arn2 = NULL;
    ASSERT_EQ(sns_subscribe(e.sns, e.c, &req, &arn2, &pending, &err), 0);
    ASSERT_STREQ(arn2, arn);
    ASSERT_TRUE(pending);
    free(arn2);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM sns_deliveries WHERE type = 1"), 2);
    char *tok2 = token_of(&e, arn);
    ASSERT_STREQ(tok2, tok);
    free(tok2);

    /* pending subscriptions are listed as such */
    struct sns_subscription_list sl;
    ASSERT_EQ(sns_subscription_list(e.sns, e.c, t, NULL, &sl, &err), 0);
    ASSERT_EQ(sl.n, 1);
    ASSERT_TRUE(sl.v[0].pending);
    ASSERT_STREQ(sl.v[0].endpoint, "ops@example.com");
    ASSERT_STREQ(sl.v[0].protocol, "email");
    ASSERT_STREQ(sl.v[0].owner, ACCOUNT);
    sns_subscription_list_release(&sl);

    /* a wrong token */
    char *c_arn = NULL;
    ASSERT_EQ(sns_confirm_subscription(e.sns, e.c, t, "abcd", false, &c_arn, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message, "Invalid token");
    ASSERT_EQ(sns_confirm_subscription(e.sns, e.c, "arn:aws:sns:us-east-1:123456789012:nope", tok,
                                       false, &c_arn, &err),
              -ERR_NOT_FOUND);
    /* confirming works, twice */
    ASSERT_EQ(sns_confirm_subscription(e.sns, e.c, t, tok, true, &c_arn, &err), 0);
    ASSERT_STREQ(c_arn, arn);
    free(c_arn);
    ASSERT_EQ(sns_confirm_subscription(e.sns, e.c, t, tok, false, &c_arn, &err), 0);
    free(c_arn);
    /* an expired token is refused */
    ASSERT_EQ(meta_exec(e.c, "UPDATE sns_subscriptions SET token_expires = 1"), 0);
    ASSERT_EQ(sns_confirm_subscription(e.sns, e.c, t, tok, false, &c_arn, &err), -ERR_INVALID);
    free(tok);

    /* confirmed: Subscribe returns the ARN, not pending, and sends nothing */
    ASSERT_EQ(sns_subscribe(e.sns, e.c, &req, &arn2, &pending, &err), 0);
    ASSERT_FALSE(pending);
    ASSERT_STREQ(arn2, arn);
    free(arn2);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM sns_deliveries WHERE type = 1"), 2);
    struct sns_attrs a;
    ASSERT_EQ(sns_subscription_get_attributes(e.sns, e.c, arn, &a, &err), 0);
    ASSERT_STREQ(a.v[0].key, "SubscriptionArn");
    ASSERT_STREQ(sns_attrs_get(&a, "PendingConfirmation"), "false");
    ASSERT_STREQ(sns_attrs_get(&a, "ConfirmationWasAuthenticated"), "true");
    ASSERT_STREQ(sns_attrs_get(&a, "RawMessageDelivery"), "false");
    ASSERT_STREQ(sns_attrs_get(&a, "Protocol"), "email");
    ASSERT_TRUE(sns_attrs_get(&a, "EffectiveDeliveryPolicy") == NULL);
    sns_attrs_release(&a);

    /* different attributes on the same endpoint */
    struct sns_kv raw[] = { { "FilterPolicy", "{\"a\":[\"b\"]}" } };
    struct sns_subscribe_req req2 = { t, "email", "ops@example.com", raw, 1 };
    ASSERT_EQ(sns_subscribe(e.sns, e.c, &req2, &arn2, &pending, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message, "Invalid parameter: Attributes Reason: Subscription already exists "
                              "with different attributes");

    /* validation texts */
    struct sns_subscribe_req bad = { t, "sqs", "arn:aws:sqs:us-east-1:1:q", NULL, 0 };
    ASSERT_EQ(sns_subscribe(e.sns, e.c, &bad, &arn2, &pending, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message,
                 "Invalid parameter: Amazon SNS does not support this protocol string: sqs");
    struct sns_subscribe_req badurl = { t, "https", "http://example.com/hook", NULL, 0 };
    ASSERT_EQ(sns_subscribe(e.sns, e.c, &badurl, &arn2, &pending, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message, "Invalid parameter: Endpoint must match the specified protocol");
    struct sns_subscribe_req badmail = { t, "email", "not-an-address", NULL, 0 };
    ASSERT_EQ(sns_subscribe(e.sns, e.c, &badmail, &arn2, &pending, &err), -ERR_INVALID);
    struct sns_kv rawbad[] = { { "RawMessageDelivery", "yes" } };
    struct sns_subscribe_req req3 = { t, "https", "https://example.com/hook", rawbad, 1 };
    ASSERT_EQ(sns_subscribe(e.sns, e.c, &req3, &arn2, &pending, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message, "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid "
                              "value [yes]. Must be true or false.");
    ASSERT_EQ(sns_subscription_set_attribute(e.sns, e.c, arn, "RawMessageDelivery", "true", &err),
              -ERR_INVALID); /* not for email */
    ASSERT_EQ(sns_subscription_set_attribute(e.sns, e.c, arn, "Nope", "1", &err), -ERR_INVALID);
    ASSERT_STREQ(err.message, "Invalid parameter: AttributeName");
    ASSERT_EQ(sns_subscription_set_attribute(e.sns, e.c, arn, "FilterPolicy",
                                             "{\"severity\":[\"HIGH\"]}", &err),
              0);
    ASSERT_EQ(sns_subscription_get_attributes(e.sns, e.c, arn, &a, &err), 0);
    ASSERT_STREQ(sns_attrs_get(&a, "FilterPolicy"), "{\"severity\":[\"HIGH\"]}");
    sns_attrs_release(&a);

    /* unsubscribing: authentication required after AuthenticateOnUnsubscribe */
    ASSERT_EQ(sns_unsubscribe(e.sns, e.c, arn, false, &err), -ERR_DENIED);
    ASSERT_STREQ(err.code, "AuthorizationError");
    ASSERT_EQ(sns_unsubscribe(e.sns, e.c, arn, true, &err), 0);
    ASSERT_EQ(sns_unsubscribe(e.sns, e.c, arn, true, &err), -ERR_NOT_FOUND);
    ASSERT_STREQ(err.message, "Subscription does not exist");
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM sns_deliveries WHERE state = 0"), 0);
    ASSERT_EQ(sns_subscription_list(e.sns, e.c, NULL, NULL, &sl, &err), 0);
    ASSERT_EQ(sl.n, 0);
    sns_subscription_list_release(&sl);
    free(arn);
    free(t);
    env_close(&e);
}

static bool passes(const char *policy, enum sns_filter_scope scope,
                   const struct sns_msg_attr *attrs, size_t n, const char *message)
{
    bool pass = false;
    ASSERT_EQ(sns_filter_policy_check(str_from(policy), scope, NULL), 0);
    ASSERT_EQ(sns_filter_match(str_from(policy), scope, attrs, n, str_from(message), &pass), 0);
    return pass;
}

TEST(sns_filter_policies)
{
    struct sns_msg_attr attrs[] = {
        { "severity", "String", "HIGH", NULL },
        { "count", "Number", "12", NULL },
        { "tags", "String.Array", "[\"prod\",\"eu\"]", NULL },
        { "blob", "Binary", NULL, "AAEC" },
    };
    enum sns_filter_scope A = SNS_SCOPE_ATTRIBUTES, B = SNS_SCOPE_BODY;
    ASSERT_TRUE(passes("{\"severity\":[\"HIGH\",\"CRITICAL\"]}", A, attrs, 4, ""));
    ASSERT_FALSE(passes("{\"severity\":[\"LOW\"]}", A, attrs, 4, ""));
    ASSERT_TRUE(passes("{\"count\":[{\"numeric\":[\">\",10]}]}", A, attrs, 4, ""));
    ASSERT_FALSE(passes("{\"count\":[{\"numeric\":[\">\",20]}]}", A, attrs, 4, ""));
    /* a Number attribute is a number: the string "12" does not match it */
    ASSERT_FALSE(passes("{\"count\":[\"12\"]}", A, attrs, 4, ""));
    ASSERT_TRUE(passes("{\"count\":[12]}", A, attrs, 4, ""));
    /* String.Array: any element */
    ASSERT_TRUE(passes("{\"tags\":[\"eu\"]}", A, attrs, 4, ""));
    ASSERT_FALSE(passes("{\"tags\":[\"us\"]}", A, attrs, 4, ""));
    ASSERT_TRUE(passes("{\"severity\":[{\"anything-but\":\"LOW\"}]}", A, attrs, 4, ""));
    ASSERT_TRUE(passes("{\"missing\":[{\"exists\":false}]}", A, attrs, 4, ""));
    /* Binary attributes are not matched */
    ASSERT_FALSE(passes("{\"blob\":[{\"exists\":true}]}", A, attrs, 4, ""));
    ASSERT_TRUE(
        passes("{\"severity\":[{\"prefix\":\"HI\"}],\"tags\":[\"prod\"]}", A, attrs, 4, ""));
    /* empty policy: everything passes */
    ASSERT_TRUE(passes("{}", A, NULL, 0, ""));
    ASSERT_TRUE(passes("", A, NULL, 0, ""));
    /* message body scope, nested keys */
    const char *body = "{\"detail\":{\"severity\":\"CRITICAL\",\"repo\":\"web\"}}";
    ASSERT_TRUE(passes("{\"detail\":{\"severity\":[\"CRITICAL\"]}}", B, NULL, 0, body));
    ASSERT_FALSE(passes("{\"detail\":{\"severity\":[\"LOW\"]}}", B, NULL, 0, body));
    ASSERT_FALSE(passes("{\"detail\":{\"severity\":[\"CRITICAL\"]}}", B, NULL, 0, "plain text"));

    /* refusals */
    struct diag d = { 0 };
    ASSERT_EQ(sns_filter_policy_check(str_from("{\"detail\":{\"severity\":[\"LOW\"]}}"), A, &d),
              -ERR_INVALID);
    ASSERT_STREQ(d.msg, "Invalid parameter: FilterPolicy: Filter policy scope MessageAttributes "
                        "does not support nested filter policy");
    ASSERT_EQ(sns_filter_policy_check(str_from("{\"a\":[1],\"b\":[1],\"c\":[1],\"d\":[1],"
                                               "\"e\":[1],\"f\":[1]}"),
                                      A, &d),
              -ERR_INVALID);
    ASSERT_STREQ(d.msg, "Invalid parameter: FilterPolicy: Filter policy can not have more than 5 "
                        "keys");
    ASSERT_EQ(sns_filter_policy_check(str_from("{\"a\":[1,2,3,4,5,6,7,8,9,10,11,12,13],"
                                               "\"b\":[1,2,3,4,5,6,7,8,9,10,11,12]}"),
                                      A, &d),
              -ERR_INVALID);
    ASSERT_STREQ(d.msg, "Invalid parameter: FilterPolicy: Filter policy is too complex");
    ASSERT_EQ(sns_filter_policy_check(str_from("{\"a\":[]}"), A, &d), -ERR_INVALID);
    ASSERT_STREQ(d.msg, "Invalid parameter: FilterPolicy: Empty arrays are not allowed");
    ASSERT_EQ(sns_filter_policy_check(str_from("[1]"), A, &d), -ERR_INVALID);
    ASSERT_EQ(sns_filter_policy_check(str_from("{nope"), A, &d), -ERR_INVALID);
    ASSERT_TRUE(strncmp(d.msg, "Invalid parameter: FilterPolicy: ", 33) == 0);
}

/* The deliveries of one message, by subscription endpoint. */
static int deliveries_for(struct env *e, const char *message_id)
{
    sqlite3_stmt *st;
    ASSERT_EQ(meta_stmt(e->c, "SELECT count(*) FROM sns_deliveries WHERE message_id = ?1", &st), 0);
    meta_bind_text(st, 1, message_id);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    meta_done(st);
    return n;
}

TEST(sns_publish_fans_out_in_the_callers_transaction)
{
    struct env e;
    env_open(&e, "publish.db");
    char *t = topic(&e, "alerts");
    struct sns_error err = { 0 };
    ASSERT_EQ(sns_topic_set_attribute(e.sns, e.c, t, "DisplayName", "Vigil Scanner", &err), 0);
    char *mail = subscribe_confirmed(&e, t, "email", "ops@example.com", NULL, 0);
    struct sns_kv hattrs[] = {
        { "FilterPolicy", "{\"severity\":[\"CRITICAL\"]}" },
        { "RawMessageDelivery", "true" },
        { "DeliveryPolicy", "{\"healthyRetryPolicy\":{\"numRetries\":2,\"minDelayTarget\":1,"
                            "\"maxDelayTarget\":1}}" },
    };
    char *hook = subscribe_confirmed(&e, t, "https", "https://hooks.example.com/in", hattrs, 3);
    /* a pending subscription gets nothing */
    struct sns_subscribe_req req = { t, "email-json", "json@example.com", NULL, 0 };
    char *pend = NULL;
    bool pending;
    ASSERT_EQ(sns_subscribe(e.sns, e.c, &req, &pend, &pending, &err), 0);
    ASSERT_EQ(meta_exec(e.c, "UPDATE sns_deliveries SET state = 1"), 0); /* confirmations */

    char mid[SNS_UUID_LEN + 1];
    size_t n = 0;
    struct sns_publish_req p = { .topic_arn = t, .message = "hello", .message_len = 5 };
    ASSERT_EQ(sns_publish(e.sns, e.c, &p, mid, &n, &err), 0);
    ASSERT_EQ(n, 1); /* the filter keeps the webhook out */
    ASSERT_EQ(strlen(mid), 36);
    ASSERT_EQ(deliveries_for(&e, mid), 1);

    struct sns_msg_attr crit[] = { { "severity", "String", "CRITICAL", NULL } };
    p.attrs = crit;
    p.n_attrs = 1;
    p.subject = "Scan done";
    p.event_id = "ev-9";
    ASSERT_EQ(sns_publish(e.sns, e.c, &p, mid, &n, &err), 0);
    ASSERT_EQ(n, 2);

    /* loaded for sending: per-protocol settings from the topic and subscription */
    struct sns_deliveries due;
    ASSERT_EQ(sns_delivery_due(e.sns, e.c, (int64_t)1 << 50, 0, 0, &due), 0);
    ASSERT_EQ(due.n, 3);
    size_t hooks = 0;
    for (size_t i = 0; i < due.n; i++) {
        struct sns_delivery *d = &due.v[i];
        ASSERT_TRUE(d->subscription_exists);
        ASSERT_STREQ(d->display_name, "Vigil Scanner");
        ASSERT_EQ(d->type, SNS_NOTIFICATION);
        ASSERT_EQ(d->signature_version, 1);
        if (d->protocol == SNS_PROTO_HTTPS) {
            hooks++;
            ASSERT_STREQ(d->subscription_arn, hook);
            ASSERT_TRUE(d->raw);
            ASSERT_EQ(d->retry.num_retries, 2);
            ASSERT_EQ(d->retry.min_delay_s, 1);
            ASSERT_STREQ(d->subject, "Scan done");
            ASSERT_STREQ(d->event_id, "ev-9");
            ASSERT_EQ(d->n_attrs, 1);
            ASSERT_STREQ(d->attrs[0].name, "severity");
            ASSERT_STREQ(d->attrs[0].value, "CRITICAL");
        } else {
            ASSERT_STREQ(d->subscription_arn, mail);
            ASSERT_FALSE(d->raw);
            ASSERT_EQ(d->retry.num_retries, sns_retry_email.num_retries);
        }
        ASSERT_STREQ(d->message, "hello");
    }
    ASSERT_EQ(hooks, 1);
    sns_deliveries_release(&due);

    /* MessageStructure=json picks the text per protocol */
    const char *js = "{\"default\":\"plain\",\"email\":\"for mail\",\"https\":\"for hooks\"}";
    struct sns_publish_req pj = { .topic_arn = t,
                                  .message = js,
                                  .message_len = strlen(js),
                                  .message_structure = "json",
                                  .attrs = crit,
                                  .n_attrs = 1 };
    ASSERT_EQ(sns_publish(e.sns, e.c, &pj, mid, &n, &err), 0);
    ASSERT_EQ(n, 2);
    sqlite3_stmt *st;
    ASSERT_EQ(meta_stmt(e.c,
                        "SELECT protocol, message FROM sns_deliveries WHERE message_id = ?1"
                        " ORDER BY protocol",
                        &st),
              0);
    meta_bind_text(st, 1, mid);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    ASSERT_STREQ((const char *)sqlite3_column_text(st, 1), "for mail");
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    ASSERT_STREQ((const char *)sqlite3_column_text(st, 1), "for hooks");
    meta_done(st);

    /* rollback of the caller's transaction leaves no delivery */
    int before = count(e.c, "SELECT count(*) FROM sns_deliveries");
    ASSERT_EQ(meta_begin(e.c), 0);
    ASSERT_EQ(sns_publish(e.sns, e.c, &p, mid, &n, &err), 0);
    ASSERT_EQ(n, 2);
    meta_rollback(e.c);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM sns_deliveries"), before);

    /* SNS's validation */
    struct sns_publish_req bad = { .topic_arn = t, .message = "", .message_len = 0 };
    ASSERT_EQ(sns_publish(e.sns, e.c, &bad, mid, &n, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message, "Invalid parameter: Empty message");
    bad.message = "x";
    bad.message_len = SNS_MESSAGE_MAX + 1;
    ASSERT_EQ(sns_publish(e.sns, e.c, &bad, mid, &n, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message, "Invalid parameter: Message too long");
    bad.message_len = 1;
    bad.subject = "line\nbreak";
    ASSERT_EQ(sns_publish(e.sns, e.c, &bad, mid, &n, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message, "Invalid parameter: Subject");
    bad.subject = "Sch\xc3\xb6n";
    ASSERT_EQ(sns_publish(e.sns, e.c, &bad, mid, &n, &err), -ERR_INVALID);
    bad.subject = NULL;
    bad.message_structure = "json";
    bad.message = "{\"email\":\"x\"}";
    bad.message_len = strlen(bad.message);
    ASSERT_EQ(sns_publish(e.sns, e.c, &bad, mid, &n, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message,
                 "Invalid parameter: Message Structure - No default entry in JSON message body");
    bad.message = "not json";
    bad.message_len = strlen(bad.message);
    ASSERT_EQ(sns_publish(e.sns, e.c, &bad, mid, &n, &err), -ERR_INVALID);
    ASSERT_STREQ(err.message,
                 "Invalid parameter: Message Structure - JSON message body failed to parse");
    struct sns_msg_attr badattr[] = { { "n", "Number", "twelve", NULL } };
    struct sns_publish_req pa = {
        .topic_arn = t, .message = "m", .message_len = 1, .attrs = badattr, .n_attrs = 1
    };
    ASSERT_EQ(sns_publish(e.sns, e.c, &pa, mid, &n, &err), -ERR_INVALID);
    badattr[0].data_type = "Float";
    ASSERT_EQ(sns_publish(e.sns, e.c, &pa, mid, &n, &err), -ERR_INVALID);
    ASSERT_TRUE(strstr(err.message, "supported type prefixes is Binary, Number, and String") !=
                NULL);
    struct sns_publish_req nt = { .topic_arn = "arn:aws:sns:us-east-1:123456789012:nope",
                                  .message = "m",
                                  .message_len = 1 };
    ASSERT_EQ(sns_publish(e.sns, e.c, &nt, mid, &n, &err), -ERR_NOT_FOUND);
    ASSERT_STREQ(err.message, "Topic does not exist");

    /* unsubscribing drops its pending deliveries; DeleteTopic the rest */
    ASSERT_EQ(sns_unsubscribe(e.sns, e.c, hook, true, &err), 0);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM sns_deliveries WHERE state = 0 AND protocol = "
                         "'https'"),
              0);
    ASSERT_EQ(sns_topic_delete(e.sns, e.c, t, &err), 0);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM sns_deliveries WHERE state = 0"), 0);
    ASSERT_EQ(count(e.c, "SELECT count(*) FROM sns_subscriptions"), 0);
    free(pend);
    free(mail);
    free(hook);
    free(t);
    env_close(&e);
}

TEST(sns_delivery_states_and_redrive)
{
    struct env e;
    env_open(&e, "dstates.db");
    char *t = topic(&e, "alerts");
    char *mail = subscribe_confirmed(&e, t, "email", "ops@example.com", NULL, 0);
    struct sns_error err = { 0 };
    char mid[SNS_UUID_LEN + 1];
    struct sns_publish_req p = { .topic_arn = t, .message = "m", .message_len = 1 };
    ASSERT_EQ(sns_publish(e.sns, e.c, &p, mid, NULL, &err), 0);
    struct sns_deliveries due;
    int64_t far = (int64_t)1 << 50;
    ASSERT_EQ(sns_delivery_due(e.sns, e.c, far, 0, 0, &due), 0);
    ASSERT_EQ(due.n, 2); /* the confirmation mail and the message */
    int64_t conf = due.v[0].type == SNS_SUBSCRIPTION_CONFIRMATION ? due.v[0].id : due.v[1].id;
    int64_t note = due.v[0].type == SNS_NOTIFICATION ? due.v[0].id : due.v[1].id;
    int64_t ts = due.v[0].type == SNS_NOTIFICATION ? due.v[0].timestamp_ms : due.v[1].timestamp_ms;
    sns_deliveries_release(&due);
    ASSERT_EQ(sns_delivery_mark_done(e.c, conf, ts + 1), 0);
    ASSERT_EQ(sns_delivery_mark_retry(e.c, note, ts + 100, "421 try later", ts + 2), 0);
    int64_t next;
    ASSERT_EQ(sns_delivery_next_due(e.c, &next), 0);
    ASSERT_EQ(next, ts + 100);
    ASSERT_EQ(sns_delivery_due(e.sns, e.c, ts + 50, 0, 0, &due), 0);
    ASSERT_EQ(due.n, 0);
    sns_deliveries_release(&due);
    ASSERT_EQ(sns_delivery_mark_dead(e.c, note, "550 no such user", ts + 101), 0);
    ASSERT_EQ(sns_delivery_mark_retry(e.c, note, ts, "x", ts), -ERR_NOT_FOUND);
    struct sns_deliveries dead;
    ASSERT_EQ(sns_delivery_list(e.sns, e.c, SNS_DELIVERY_DEAD, 0, 0, &dead), 0);
    ASSERT_EQ(dead.n, 1);
    ASSERT_EQ(dead.v[0].attempts, 2);
    ASSERT_EQ(dead.v[0].first_attempt_ms, ts + 2);
    ASSERT_STREQ(dead.v[0].last_error, "550 no such user");
    ASSERT_STREQ(dead.v[0].message_id, mid);
    sns_deliveries_release(&dead);
    size_t n;
    ASSERT_EQ(sns_delivery_redrive(e.c, conf, ts + 200, &n), -ERR_NOT_FOUND);
    ASSERT_EQ(sns_delivery_redrive(e.c, note, ts + 200, &n), 0);
    ASSERT_EQ(n, 1);
    ASSERT_EQ(sns_delivery_due(e.sns, e.c, ts + 200, 0, 0, &due), 0);
    ASSERT_EQ(due.n, 1);
    ASSERT_EQ(due.v[0].attempts, 0);
    ASSERT_EQ(due.v[0].first_attempt_ms, 0);
    ASSERT_STREQ(due.v[0].message_id, mid); /* the idempotency key survives the redrive */
    ASSERT_EQ(due.v[0].timestamp_ms, ts);
    sns_deliveries_release(&due);
    free(mail);
    free(t);
    env_close(&e);
}
