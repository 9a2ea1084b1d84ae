/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the SNS control API (src/api/sns_api.c): every operation driven through the
 * AWS router with synthesized Query (form-encoded) requests over a real metadata database,
 * checking the XML results, SNS's error codes, statuses and messages, pagination, the
 * deliveries Subscribe and Publish queue, anonymous ConfirmSubscription / Unsubscribe, and the
 * link pages (confirmation.html, unsubscribe.html, the signing certificate). */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/awsproto.h"
#include "api/sns_api.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/http_msg.h"
#include "base/xalloc.h"
#include "deliver/sns.h"
#include "store/meta.h"
#include "test.h"

#define ACCT   "123456789012"
#define REGION "eu-west-3"
#define ARN(t) "arn:aws:sns:" REGION ":" ACCT ":" t

struct env {
    char *dir;
    struct meta_db *db;
    struct sns *sns;
    struct sns_signer signer;
    struct sns_api *api;
    struct api_router *router;
    struct http_handler links;
    int kicks;
};

static void count_kick(void *ctx)
{
    ((struct env *)ctx)->kicks++;
}

/* What the SigV4 gateway does: a request with an Authorization header is "verified" (any
 * value here) and gets a principal; one without is refused unless the operation allows
 * anonymous callers. */
static enum api_auth_status fake_sigv4(void *ctx, struct http_req *req,
                                       const struct api_auth_info *info, char *msg, size_t n)
{
    (void)ctx;
    (void)msg;
    (void)n;
    ASSERT_STREQ(info->signing_name, "sns");
    if (http_req_header(req, "Authorization")) {
        req->principal = "AKIDTEST";
        return API_AUTH_OK;
    }
    return info->anonymous_ok ? API_AUTH_OK : API_AUTH_MISSING;
}

static void env_open(struct env *e)
{
    memset(e, 0, sizeof(*e));
    e->dir = xstrdup(test_tmpdir());
    char *dbpath = xasprintf("%s/vigil.db", e->dir);
    ASSERT_EQ(meta_open(dbpath, NULL, &e->db, NULL), 0);
    free(dbpath);
    struct sns_config sc = { .region = REGION, .account = ACCT };
    struct diag d = { 0 };
    if (sns_new(&sc, &e->sns, &d) != 0)
        test_fail(__FILE__, __LINE__, "sns_new: %s", d.msg);
    sns_set_notify(e->sns, count_kick, e);
    if (sns_signer_load_or_create(&e->signer, e->dir, &d) != 0)
        test_fail(__FILE__, __LINE__, "signer: %s", d.msg);
    struct sns_api_config ac = { .db = e->db, .sns = e->sns, .signer = &e->signer };
    if (sns_api_new(&ac, &e->api, &d) != 0)
        test_fail(__FILE__, __LINE__, "sns_api_new: %s", d.msg);
    e->router = api_router_new();
    ASSERT_EQ(sns_api_register(e->api, e->router), 0);
    api_router_set_auth(e->router, fake_sigv4, e);
    sns_api_link_handler(e->api, &e->links);
}

static void env_free(struct env *e)
{
    api_router_free(e->router);
    sns_api_free(e->api);
    sns_signer_release(&e->signer);
    sns_free(e->sns);
    meta_close(e->db);
    free(e->dir);
}

/* ---- forms and XML ---- */

static void form_add(struct buf *b, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    if (b->len)
        buf_putc(b, '&');
    buf_append_cstr(b, name);
    buf_putc(b, '=');
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            buf_putc(b, (char)*p);
        } else if (*p == ' ') {
            buf_putc(b, '+');
        } else {
            buf_putc(b, '%');
            buf_putc(b, hex[*p >> 4]);
            buf_putc(b, hex[*p & 15]);
        }
    }
}

/* A form from name, value pairs ending with NULL (owned). */
static char *form(const char *first, ...)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    va_list ap;
    va_start(ap, first);
    for (const char *n = first; n; n = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        form_add(&b, n, v);
    }
    va_end(ap);
    return buf_detach(&b, NULL);
}

/* The text of the first <name> element at or after *from (owned, entities decoded), or NULL.
 * *from moves past it. */
static char *xml_get_from(const char *xml, const char *name, const char **from)
{
    char open[128], close[128];
    snprintf(open, sizeof(open), "<%s>", name);
    snprintf(close, sizeof(close), "</%s>", name);
    const char *p = strstr(from && *from ? *from : xml, open);
    if (!p)
        return NULL;
    p += strlen(open);
    const char *q = strstr(p, close);
    if (!q)
        return NULL;
    if (from)
        *from = q + strlen(close);
    struct buf b;
    buf_init(&b, 1 << 20);
    for (const char *s = p; s < q; s++) {
        if (*s == '&') {
            const char *ents[][2] = { { "&amp;", "&" },   { "&lt;", "<" },   { "&gt;", ">" },
                                      { "&quot;", "\"" }, { "&apos;", "'" }, { "&#xD;", "\r" } };
            bool done = false;
            for (size_t i = 0; i < 6 && !done; i++) {
                size_t l = strlen(ents[i][0]);
                if (strncmp(s, ents[i][0], l) == 0) {
                    buf_append_cstr(&b, ents[i][1]);
                    s += l - 1;
                    done = true;
                }
            }
            if (done)
                continue;
        }
        buf_putc(&b, *s);
    }
    return buf_detach(&b, NULL);
}

static char *xml_get(const char *xml, const char *name)
{
    return xml_get_from(xml, name, NULL);
}

static size_t xml_count(const char *xml, const char *name)
{
    char open[128];
    snprintf(open, sizeof(open), "<%s>", name);
    size_t n = 0;
    for (const char *p = strstr(xml, open); p; p = strstr(p + 1, open))
        n++;
    return n;
}

/* ---- calls ---- */

struct answer {
    int status;
    char *text;
};

static void answer_release(struct answer *a)
{
    free(a->text);
    memset(a, 0, sizeof(*a));
}

static void call_ex(struct env *e, const char *body, bool sign, struct answer *out)
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
    struct http_kv h1 = { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" };
    struct http_kv h2 = { "Authorization", "AWS4-HMAC-SHA256 test" };
    VEC_PUSH(&req.headers, h1);
    if (sign)
        VEC_PUSH(&req.headers, h2);
    struct http_resp resp;
    memset(&resp, 0, sizeof(resp));
    resp.fd = -1;
    buf_init(&resp.body, AWS_RESPONSE_MAX);
    api_dispatch(e->router, &req, &resp);
    out->status = resp.status;
    out->text = xstrdup(buf_cstr(&resp.body));
    buf_release(&resp.body);
    buf_release(&req.body);
    VEC_FREE(&req.headers);
    VEC_FREE(&resp.headers);
    arena_release(&ar);
}

/* Call with a form made of Action=op, Version and the pairs; the form is freed. */
static void sns_call(struct env *e, char *pairs, bool sign, struct answer *out)
{
    char *body = xasprintf("Version=2010-03-31&%s", pairs);
    call_ex(e, body, sign, out);
    free(body);
    free(pairs);
}

static char *ok_at(int line, struct env *e, char *pairs, struct answer *a)
{
    char *copy = xstrdup(pairs);
    sns_call(e, pairs, true, a);
    if (a->status != 200)
        test_fail(__FILE__, line, "%s -> %d %s", copy, a->status, a->text);
    free(copy);
    return a->text;
}
#define ok(e, pairs, a) ok_at(__LINE__, e, pairs, a)

/* Require an error: status, code and (when not NULL) message; Type Sender for 4xx. */
static void err_at(int line, struct env *e, char *pairs, bool sign, int status, const char *code,
                   const char *msg)
{
    char *copy = xstrdup(pairs);
    struct answer a;
    sns_call(e, pairs, sign, &a);
    char *c = xml_get(a.text, "Code");
    char *m = xml_get(a.text, "Message");
    char *t = xml_get(a.text, "Type");
    bool good =
        a.status == status && c && strcmp(c, code) == 0 && (!msg || (m && strcmp(m, msg) == 0)) &&
        t && strcmp(t, status < 500 ? "Sender" : "Receiver") == 0 &&
        strstr(a.text, "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">");
    if (!good)
        test_fail(__FILE__, line, "%s: want %d %s '%s', got %d %s", copy, status, code,
                  msg ? msg : "*", a.status, a.text);
    free(c);
    free(m);
    free(t);
    free(copy);
    answer_release(&a);
}
#define sns_err(e, pairs, status, code, msg) err_at(__LINE__, e, pairs, true, status, code, msg)

static char *create_topic(struct env *e, const char *name)
{
    struct answer a;
    ok(e, form("Action", "CreateTopic", "Name", name, NULL), &a);
    char *arn = xml_get(a.text, "TopicArn");
    answer_release(&a);
    return arn;
}

/* Pending deliveries (all of them). */
static void pending(struct env *e, struct sns_deliveries *out)
{
    struct meta_conn *c;
    ASSERT_EQ(meta_conn_get(e->db, &c), 0);
    ASSERT_EQ(sns_delivery_list(e->sns, c, SNS_DELIVERY_PENDING, 0, 0, out), 0);
}

/* The token of the newest pending confirmation for endpoint (owned). */
static char *token_for(struct env *e, const char *endpoint)
{
    struct sns_deliveries l = { 0 };
    pending(e, &l);
    char *tok = NULL;
    for (size_t i = 0; i < l.n; i++)
        if (l.v[i].type == SNS_SUBSCRIPTION_CONFIRMATION &&
            strcmp(l.v[i].endpoint, endpoint) == 0) {
            free(tok);
            tok = xstrdup(l.v[i].token);
        }
    sns_deliveries_release(&l);
    if (!tok)
        test_fail(__FILE__, __LINE__, "no confirmation queued for %s", endpoint);
    return tok;
}

/* Subscribe an e-mail address and confirm it; returns the subscription ARN (owned). */
static char *subscribe_confirmed(struct env *e, const char *topic, const char *addr)
{
    struct answer a;
    ok(e,
       form("Action", "Subscribe", "TopicArn", topic, "Protocol", "email", "Endpoint", addr, NULL),
       &a);
    answer_release(&a);
    char *tok = token_for(e, addr);
    ok(e, form("Action", "ConfirmSubscription", "TopicArn", topic, "Token", tok, NULL), &a);
    free(tok);
    char *arn = xml_get(a.text, "SubscriptionArn");
    answer_release(&a);
    return arn;
}

/* ---- link pages ---- */

struct page {
    int status;
    char *body;
    char *content_type;
};

static void page_release(struct page *p)
{
    free(p->body);
    free(p->content_type);
    memset(p, 0, sizeof(*p));
}

/* GET (or another method) of path?query through the link handler; args are decoded pairs
 * (name, value, ..., NULL) and raw_query the same encoded. */
static void link_get(struct env *e, enum http_method m, const char *path, struct page *out,
                     const char *first, ...)
{
    struct arena ar;
    arena_init(&ar);
    struct http_req req;
    memset(&req, 0, sizeof(req));
    req.arena = &ar;
    req.method = m;
    req.method_str = http_method_name(m);
    req.path = path;
    buf_init(&req.body, 1024);
    struct buf raw;
    buf_init(&raw, 1 << 20);
    va_list ap;
    va_start(ap, first);
    for (const char *n = first; n; n = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        struct http_kv kv = { n, v };
        VEC_PUSH(&req.query, kv);
        form_add(&raw, n, v);
    }
    va_end(ap);
    req.raw_query = buf_cstr(&raw);
    struct http_resp resp;
    memset(&resp, 0, sizeof(resp));
    resp.fd = -1;
    buf_init(&resp.body, 1 << 20);
    e->links.begin(e->links.app, &req, &resp);
    if (resp.status == 0)
        e->links.end(e->links.app, &req, &resp);
    out->status = resp.status;
    out->body = xstrdup(buf_cstr(&resp.body));
    out->content_type = NULL;
    for (size_t i = 0; i < resp.headers.n; i++)
        if (strcasecmp(resp.headers.v[i].name, "Content-Type") == 0)
            out->content_type = xstrdup(resp.headers.v[i].value);
    buf_release(&raw);
    buf_release(&resp.body);
    buf_release(&req.body);
    VEC_FREE(&req.query);
    VEC_FREE(&resp.headers);
    arena_release(&ar);
}

/* ---- topics ---- */

TEST(sns_api_topics)
{
    struct env e;
    env_open(&e);
    char *arn = create_topic(&e, "scan-alerts");
    ASSERT_STREQ(arn, ARN("scan-alerts"));
    /* the response's shape */
    struct answer a;
    ok(&e, form("Action", "CreateTopic", "Name", "scan-alerts", NULL), &a);
    ASSERT_TRUE(
        strstr(a.text,
               "<CreateTopicResponse "
               "xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">"
               "<CreateTopicResult><TopicArn>" ARN(
                   "scan-alerts") "</TopicArn></CreateTopicResult><ResponseMetadata><RequestId>") ==
        a.text);
    answer_release(&a);

    /* attributes: set, read back with the ones SNS always shows */
    ok(&e,
       form("Action", "SetTopicAttributes", "TopicArn", arn, "AttributeName", "DisplayName",
            "AttributeValue", "Vigil <ops> & co", NULL),
       &a);
    ASSERT_TRUE(strstr(a.text, "<SetTopicAttributesResponse") == a.text);
    ASSERT_TRUE(strstr(a.text, "Result>") == NULL); /* no result element */
    answer_release(&a);
    ok(&e, form("Action", "GetTopicAttributes", "TopicArn", arn, NULL), &a);
    ASSERT_TRUE(strstr(a.text, "<GetTopicAttributesResult><Attributes><entry><key>") != NULL);
    ASSERT_TRUE(strstr(a.text, "<entry><key>DisplayName</key><value>Vigil &lt;ops&gt; &amp; "
                               "co</value></entry>") != NULL);
    ASSERT_TRUE(strstr(a.text, "<entry><key>Owner</key><value>" ACCT "</value></entry>") != NULL);
    ASSERT_TRUE(strstr(a.text, "<entry><key>TopicArn</key><value>" ARN(
                                   "scan-alerts") "</value></entry>") != NULL);
    ASSERT_TRUE(strstr(a.text, "<key>SubscriptionsConfirmed</key><value>0</value>") != NULL);
    answer_release(&a);

    /* CreateTopic again with other attributes */
    sns_err(&e,
            form("Action", "CreateTopic", "Name", "scan-alerts", "Attributes.entry.1.key",
                 "DisplayName", "Attributes.entry.1.value", "other", NULL),
            400, "InvalidParameter",
            "Invalid parameter: Attributes Reason: Topic already exists with different "
            "attributes");
    sns_err(&e, form("Action", "CreateTopic", "Name", "bad name!", NULL), 400, "InvalidParameter",
            "Invalid parameter: Topic Name");
    sns_err(&e,
            form("Action", "SetTopicAttributes", "TopicArn", arn, "AttributeName", "Nope",
                 "AttributeValue", "x", NULL),
            400, "InvalidParameter", "Invalid parameter: AttributeName");
    sns_err(&e, form("Action", "GetTopicAttributes", "TopicArn", ARN("missing"), NULL), 404,
            "NotFound", "Topic does not exist");
    /* the model's required members */
    sns_err(&e, form("Action", "CreateTopic", NULL), 400, "ValidationError", NULL);

    /* with tags and attributes, then delete (twice: DeleteTopic is idempotent) */
    ok(&e,
       form("Action", "CreateTopic", "Name", "t2", "Attributes.entry.1.key", "DisplayName",
            "Attributes.entry.1.value", "Two", "Tags.member.1.Key", "team", "Tags.member.1.Value",
            "ops", NULL),
       &a);
    answer_release(&a);
    ok(&e, form("Action", "DeleteTopic", "TopicArn", ARN("t2"), NULL), &a);
    ASSERT_TRUE(strstr(a.text, "<DeleteTopicResponse") == a.text);
    answer_release(&a);
    ok(&e, form("Action", "DeleteTopic", "TopicArn", ARN("t2"), NULL), &a);
    answer_release(&a);
    sns_err(&e, form("Action", "GetTopicAttributes", "TopicArn", ARN("t2"), NULL), 404, "NotFound",
            "Topic does not exist");
    free(arn);
    env_free(&e);
}

TEST(sns_api_list_topics_pages)
{
    struct env e;
    env_open(&e);
    for (int i = 0; i < 130; i++) {
        char name[32];
        snprintf(name, sizeof(name), "topic-%03d", i);
        free(create_topic(&e, name));
    }
    struct answer a;
    ok(&e, form("Action", "ListTopics", NULL), &a);
    ASSERT_EQ(xml_count(a.text, "member"), SNS_LIST_PAGE);
    char *first = xml_get(a.text, "TopicArn");
    ASSERT_STREQ(first, ARN("topic-000"));
    free(first);
    char *tok = xml_get(a.text, "NextToken");
    ASSERT_TRUE(tok != NULL);
    answer_release(&a);
    ok(&e, form("Action", "ListTopics", "NextToken", tok, NULL), &a);
    ASSERT_EQ(xml_count(a.text, "member"), 30);
    first = xml_get(a.text, "TopicArn");
    ASSERT_STREQ(first, ARN("topic-100"));
    free(first);
    ASSERT_TRUE(strstr(a.text, "NextToken") == NULL);
    answer_release(&a);
    /* a token of another operation, or a made-up one */
    sns_err(&e, form("Action", "ListSubscriptions", "NextToken", tok, NULL), 400,
            "InvalidParameter", "Invalid parameter: NextToken");
    sns_err(&e, form("Action", "ListTopics", "NextToken", "abc", NULL), 400, "InvalidParameter",
            "Invalid parameter: NextToken");
    free(tok);
    env_free(&e);
}

/* ---- subscriptions ---- */

TEST(sns_api_subscribe_confirm)
{
    struct env e;
    env_open(&e);
    char *topic = create_topic(&e, "alerts");
    struct answer a;
    int kicks = e.kicks;
    ok(&e,
       form("Action", "Subscribe", "TopicArn", topic, "Protocol", "email", "Endpoint",
            "ops@example.com", NULL),
       &a);
    char *sa = xml_get(a.text, "SubscriptionArn");
    ASSERT_STREQ(sa, "pending confirmation");
    free(sa);
    answer_release(&a);
    ASSERT_TRUE(e.kicks > kicks); /* the confirmation mail is due */

    /* ReturnSubscriptionArn gives the real ARN of the same (still pending) subscription */
    ok(&e,
       form("Action", "Subscribe", "TopicArn", topic, "Protocol", "email", "Endpoint",
            "ops@example.com", "ReturnSubscriptionArn", "true", NULL),
       &a);
    char *sub_arn = xml_get(a.text, "SubscriptionArn");
    ASSERT_TRUE(strncmp(sub_arn, ARN("alerts:"), strlen(ARN("alerts:"))) == 0);
    answer_release(&a);

    ok(&e, form("Action", "ListSubscriptionsByTopic", "TopicArn", topic, NULL), &a);
    ASSERT_TRUE(strstr(a.text,
                       "<ListSubscriptionsByTopicResult><Subscriptions><member>"
                       "<SubscriptionArn>PendingConfirmation</SubscriptionArn><Owner>" ACCT
                       "</Owner><Protocol>email</Protocol><Endpoint>ops@example.com"
                       "</Endpoint><TopicArn>" ARN(
                           "alerts") "</TopicArn></member>"
                                     "</Subscriptions></ListSubscriptionsByTopicResult>") != NULL);
    answer_release(&a);

    /* a wrong token, then the right one */
    sns_err(&e, form("Action", "ConfirmSubscription", "TopicArn", topic, "Token", "00ff", NULL),
            400, "InvalidParameter", "Invalid token");
    sns_err(&e,
            form("Action", "ConfirmSubscription", "TopicArn", topic, "Token", "00ff",
                 "AuthenticateOnUnsubscribe", "maybe", NULL),
            400, "InvalidParameter", "Invalid parameter: AuthenticateOnUnsubscribe");
    char *tok = token_for(&e, "ops@example.com");
    ASSERT_EQ(strlen(tok), 2 * SNS_TOKEN_BYTES);
    sns_err(&e, form("Action", "ConfirmSubscription", "TopicArn", ARN("other"), "Token", tok, NULL),
            404, "NotFound", "Topic does not exist");
    /* anonymous: no Authorization header at all */
    sns_call(&e, form("Action", "ConfirmSubscription", "TopicArn", topic, "Token", tok, NULL),
             false, &a);
    ASSERT_EQ(a.status, 200);
    char *confirmed = xml_get(a.text, "SubscriptionArn");
    ASSERT_STREQ(confirmed, sub_arn);
    free(confirmed);
    answer_release(&a);
    free(tok);

    ok(&e, form("Action", "ListSubscriptions", NULL), &a);
    char *listed = xml_get(a.text, "SubscriptionArn");
    ASSERT_STREQ(listed, sub_arn);
    free(listed);
    answer_release(&a);
    ok(&e, form("Action", "GetSubscriptionAttributes", "SubscriptionArn", sub_arn, NULL), &a);
    ASSERT_TRUE(strstr(a.text, "<key>PendingConfirmation</key><value>false</value>") != NULL);
    ASSERT_TRUE(strstr(a.text, "<key>Protocol</key><value>email</value>") != NULL);
    ASSERT_TRUE(strstr(a.text, "<key>Endpoint</key><value>ops@example.com</value>") != NULL);
    answer_release(&a);

    /* attributes */
    ok(&e,
       form("Action", "SetSubscriptionAttributes", "SubscriptionArn", sub_arn, "AttributeName",
            "FilterPolicy", "AttributeValue", "{\"severity\":[\"CRITICAL\"]}", NULL),
       &a);
    answer_release(&a);
    ok(&e, form("Action", "GetSubscriptionAttributes", "SubscriptionArn", sub_arn, NULL), &a);
    ASSERT_TRUE(strstr(a.text, "<key>FilterPolicy</key><value>{&quot;severity&quot;:[&quot;"
                               "CRITICAL&quot;]}</value>") != NULL ||
                strstr(a.text, "<key>FilterPolicy</key><value>{\"severity\":[\"CRITICAL\"]}"
                               "</value>") != NULL);
    answer_release(&a);
    sns_err(&e,
            form("Action", "SetSubscriptionAttributes", "SubscriptionArn", sub_arn, "AttributeName",
                 "Bogus", "AttributeValue", "1", NULL),
            400, "InvalidParameter", "Invalid parameter: AttributeName");
    sns_err(
        &e,
        form("Action", "GetSubscriptionAttributes", "SubscriptionArn", ARN("alerts:nope"), NULL),
        404, "NotFound", "Subscription does not exist");

    /* Unsubscribe, then it is gone */
    ok(&e, form("Action", "Unsubscribe", "SubscriptionArn", sub_arn, NULL), &a);
    ASSERT_TRUE(strstr(a.text, "<UnsubscribeResponse") == a.text);
    answer_release(&a);
    sns_err(&e, form("Action", "Unsubscribe", "SubscriptionArn", sub_arn, NULL), 404, "NotFound",
            "Subscription does not exist");
    ok(&e, form("Action", "ListSubscriptions", NULL), &a);
    ASSERT_EQ(xml_count(a.text, "member"), 0);
    answer_release(&a);
    free(sub_arn);
    free(topic);
    env_free(&e);
}

TEST(sns_api_subscribe_errors)
{
    struct env e;
    env_open(&e);
    char *topic = create_topic(&e, "alerts");
    sns_err(&e,
            form("Action", "Subscribe", "TopicArn", topic, "Protocol", "carrier-pigeon", "Endpoint",
                 "x", NULL),
            400, "InvalidParameter",
            "Invalid parameter: Amazon SNS does not support this protocol string: "
            "carrier-pigeon");
    sns_err(&e,
            form("Action", "Subscribe", "TopicArn", topic, "Protocol", "https", "Endpoint",
                 "http://example.com/hook", NULL),
            400, "InvalidParameter",
            "Invalid parameter: Endpoint must match the specified protocol");
    sns_err(&e,
            form("Action", "Subscribe", "TopicArn", ARN("nope"), "Protocol", "email", "Endpoint",
                 "a@b.example", NULL),
            404, "NotFound", "Topic does not exist");
    sns_err(&e,
            form("Action", "Subscribe", "TopicArn", topic, "Protocol", "http", "Endpoint",
                 "http://127.0.0.1:9/x", "Attributes.entry.1.key", "RawMessageDelivery",
                 "Attributes.entry.1.value", "yes", NULL),
            400, "InvalidParameter",
            "Invalid parameter: Attributes Reason: RawMessageDelivery: Invalid value [yes]. Must "
            "be true or false.");
    sns_err(&e, form("Action", "Subscribe", "TopicArn", topic, NULL), 400, "ValidationError", NULL);
    sns_err(&e, form("Action", "ListSubscriptionsByTopic", "TopicArn", ARN("nope"), NULL), 404,
            "NotFound", "Topic does not exist");
    /* every other operation needs credentials */
    err_at(__LINE__, &e, form("Action", "ListTopics", NULL), false, 403,
           "MissingAuthenticationToken", NULL);
    free(topic);
    env_free(&e);
}

TEST(sns_api_unsubscribe_authentication)
{
    struct env e;
    env_open(&e);
    char *topic = create_topic(&e, "alerts");
    struct answer a;
    /* confirmed with AuthenticateOnUnsubscribe: only a signed Unsubscribe removes it */
    ok(&e,
       form("Action", "Subscribe", "TopicArn", topic, "Protocol", "email", "Endpoint",
            "a@example.com", NULL),
       &a);
    answer_release(&a);
    char *tok = token_for(&e, "a@example.com");
    ok(&e,
       form("Action", "ConfirmSubscription", "TopicArn", topic, "Token", tok,
            "AuthenticateOnUnsubscribe", "true", NULL),
       &a);
    char *sub = xml_get(a.text, "SubscriptionArn");
    answer_release(&a);
    free(tok);
    ok(&e, form("Action", "GetSubscriptionAttributes", "SubscriptionArn", sub, NULL), &a);
    ASSERT_TRUE(strstr(a.text, "<key>ConfirmationWasAuthenticated</key><value>true</value>") !=
                NULL);
    answer_release(&a);
    err_at(__LINE__, &e, form("Action", "Unsubscribe", "SubscriptionArn", sub, NULL), false, 403,
           "AuthorizationError", NULL);
    struct page p;
    link_get(&e, HTTP_GET, SNS_UNSUBSCRIBE_PATH, &p, "SubscriptionArn", sub, NULL);
    ASSERT_EQ(p.status, 403);
    page_release(&p);
    ok(&e, form("Action", "Unsubscribe", "SubscriptionArn", sub, NULL), &a);
    answer_release(&a);
    free(sub);

    /* without the flag the unsigned link is enough */
    sub = subscribe_confirmed(&e, topic, "b@example.com");
    sns_call(&e, form("Action", "Unsubscribe", "SubscriptionArn", sub, NULL), false, &a);
    ASSERT_EQ(a.status, 200);
    answer_release(&a);
    free(sub);

    /* the flag on an unsigned confirmation does not count (SNS: only with a signature) */
    ok(&e,
       form("Action", "Subscribe", "TopicArn", topic, "Protocol", "email", "Endpoint",
            "c@example.com", NULL),
       &a);
    answer_release(&a);
    tok = token_for(&e, "c@example.com");
    sns_call(&e,
             form("Action", "ConfirmSubscription", "TopicArn", topic, "Token", tok,
                  "AuthenticateOnUnsubscribe", "true", NULL),
             false, &a);
    ASSERT_EQ(a.status, 200);
    sub = xml_get(a.text, "SubscriptionArn");
    answer_release(&a);
    free(tok);
    ok(&e, form("Action", "GetSubscriptionAttributes", "SubscriptionArn", sub, NULL), &a);
    ASSERT_TRUE(strstr(a.text, "<key>ConfirmationWasAuthenticated</key><value>false</value>") !=
                NULL);
    answer_release(&a);
    sns_call(&e, form("Action", "Unsubscribe", "SubscriptionArn", sub, NULL), false, &a);
    ASSERT_EQ(a.status, 200);
    answer_release(&a);
    free(sub);
    free(topic);
    env_free(&e);
}

/* ---- Publish ---- */

TEST(sns_api_publish)
{
    struct env e;
    env_open(&e);
    char *topic = create_topic(&e, "alerts");
    char *sub = subscribe_confirmed(&e, topic, "ops@example.com");
    struct sns_deliveries l = { 0 };
    pending(&e, &l);
    size_t before = l.n;
    sns_deliveries_release(&l);

    struct answer a;
    int kicks = e.kicks;
    const char *msg = "脆弱性が見つかりました: CRITICAL 3";
    ok(&e,
       form("Action", "Publish", "TopicArn", topic, "Subject", "Scan done", "Message", msg,
            "MessageAttributes.entry.1.Name", "severity",
            "MessageAttributes.entry.1.Value.DataType", "String",
            "MessageAttributes.entry.1.Value.StringValue", "CRITICAL", NULL),
       &a);
    char *id = xml_get(a.text, "MessageId");
    ASSERT_TRUE(id && strlen(id) == 36);
    ASSERT_TRUE(strstr(a.text, "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/"
                               "\"><PublishResult><MessageId>") == a.text);
    answer_release(&a);
    ASSERT_TRUE(e.kicks > kicks);
    pending(&e, &l);
    ASSERT_EQ(l.n, before + 1);
    const struct sns_delivery *d = &l.v[l.n - 1];
    ASSERT_EQ(d->type, SNS_NOTIFICATION);
    ASSERT_STREQ(d->message_id, id);
    ASSERT_STREQ(d->message, msg);
    ASSERT_STREQ(d->subject, "Scan done");
    ASSERT_STREQ(d->subscription_arn, sub);
    ASSERT_STREQ(d->endpoint, "ops@example.com");
    ASSERT_EQ(d->n_attrs, 1);
    ASSERT_STREQ(d->attrs[0].name, "severity");
    ASSERT_STREQ(d->attrs[0].value, "CRITICAL");
    sns_deliveries_release(&l);
    free(id);

    /* MessageStructure json: the email entry wins over default; TargetArn names the topic */
    ok(&e,
       form("Action", "Publish", "TargetArn", topic, "MessageStructure", "json", "Message",
            "{\"default\":\"d\",\"email\":\"for mail\"}", NULL),
       &a);
    answer_release(&a);
    pending(&e, &l);
    ASSERT_STREQ(l.v[l.n - 1].message, "for mail");
    ASSERT_TRUE(l.v[l.n - 1].subject == NULL);
    sns_deliveries_release(&l);

    /* refusals */
    sns_err(&e, form("Action", "Publish", "Message", "x", NULL), 400, "InvalidParameter",
            "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter");
    sns_err(&e, form("Action", "Publish", "PhoneNumber", "+15555550100", "Message", "x", NULL), 400,
            "InvalidParameter", NULL);
    sns_err(&e,
            form("Action", "Publish", "TopicArn", topic, "TargetArn", topic, "Message", "x", NULL),
            400, "InvalidParameter", NULL);
    sns_err(
        &e,
        form("Action", "Publish", "TopicArn", topic, "Message", "x", "MessageGroupId", "g", NULL),
        400, "InvalidParameter",
        "Invalid parameter: MessageGroupId Reason: The request includes MessageGroupId "
        "parameter that is not valid for this topic type");
    sns_err(&e,
            form("Action", "Publish", "TopicArn", topic, "Message", "x", "MessageDeduplicationId",
                 "g", NULL),
            400, "InvalidParameter",
            "Invalid parameter: MessageDeduplicationId Reason: The request includes "
            "MessageDeduplicationId parameter that is not valid for this topic type");
    sns_err(&e, form("Action", "Publish", "TopicArn", topic, "Message", "", NULL), 400,
            "InvalidParameter", "Invalid parameter: Empty message");
    sns_err(&e,
            form("Action", "Publish", "TopicArn", topic, "Message", "x", "Subject", "日本", NULL),
            400, "InvalidParameter", "Invalid parameter: Subject");
    sns_err(&e,
            form("Action", "Publish", "TopicArn", topic, "Message", "{\"email\":\"x\"}",
                 "MessageStructure", "json", NULL),
            400, "InvalidParameter",
            "Invalid parameter: Message Structure - No default entry in JSON message body");
    sns_err(&e, form("Action", "Publish", "TopicArn", ARN("nope"), "Message", "x", NULL), 404,
            "NotFound", "Topic does not exist");
    char *big = xcalloc(1, SNS_MESSAGE_MAX + 2);
    memset(big, 'a', SNS_MESSAGE_MAX + 1);
    sns_err(&e, form("Action", "Publish", "TopicArn", topic, "Message", big, NULL), 400,
            "InvalidParameter", "Invalid parameter: Message too long");
    free(big);
    /* nothing was queued by the refused calls */
    pending(&e, &l);
    ASSERT_EQ(l.n, before + 2);
    sns_deliveries_release(&l);
    free(sub);
    free(topic);
    env_free(&e);
}

/* ---- link pages ---- */

TEST(sns_api_link_pages)
{
    struct env e;
    env_open(&e);
    char *topic = create_topic(&e, "alerts");
    struct answer a;
    ok(&e,
       form("Action", "Subscribe", "TopicArn", topic, "Protocol", "email", "Endpoint",
            "ops@example.com", NULL),
       &a);
    answer_release(&a);
    char *tok = token_for(&e, "ops@example.com");

    struct page p;
    link_get(&e, HTTP_GET, SNS_CONFIRM_PATH, &p, "TopicArn", topic, "Token", "abc", "Endpoint",
             "ops@example.com", NULL);
    ASSERT_EQ(p.status, 400);
    ASSERT_STREQ(p.content_type, "text/html; charset=UTF-8");
    ASSERT_TRUE(strstr(p.body, "Invalid token") != NULL);
    page_release(&p);
    link_get(&e, HTTP_GET, SNS_CONFIRM_PATH, &p, "TopicArn", topic, NULL);
    ASSERT_EQ(p.status, 400);
    page_release(&p);
    link_get(&e, HTTP_GET, SNS_CONFIRM_PATH, &p, "TopicArn", ARN("gone"), "Token", tok, NULL);
    ASSERT_EQ(p.status, 404);
    page_release(&p);
    /* HEAD (a link checker) changes nothing */
    link_get(&e, HTTP_HEAD, SNS_CONFIRM_PATH, &p, "TopicArn", topic, "Token", tok, NULL);
    ASSERT_EQ(p.status, 405);
    page_release(&p);
    ok(&e, form("Action", "ListSubscriptions", NULL), &a);
    ASSERT_TRUE(strstr(a.text, "PendingConfirmation") != NULL);
    answer_release(&a);

    link_get(&e, HTTP_GET, SNS_CONFIRM_PATH, &p, "TopicArn", topic, "Token", tok, "Endpoint",
             "ops@example.com", NULL);
    ASSERT_EQ(p.status, 200);
    ASSERT_STREQ(p.content_type, "text/html; charset=UTF-8");
    ASSERT_TRUE(strstr(p.body, "<meta charset=\"utf-8\">") != NULL);
    ASSERT_TRUE(strstr(p.body, "Subscription confirmed!") != NULL);
    ASSERT_TRUE(strstr(p.body, "ops@example.com") != NULL);
    ASSERT_TRUE(strstr(p.body, "unsubscribe.html?SubscriptionArn=arn%3Aaws%3Asns%3A") != NULL);
    page_release(&p);
    ok(&e, form("Action", "ListSubscriptions", NULL), &a);
    char *sub = xml_get(a.text, "SubscriptionArn");
    ASSERT_TRUE(strncmp(sub, ARN("alerts:"), strlen(ARN("alerts:"))) == 0);
    answer_release(&a);

    /* the SubscribeURL form, through the link handler: SNS's XML answer */
    link_get(&e, HTTP_GET, "/", &p, "Action", "ConfirmSubscription", "TopicArn", topic, "Token",
             tok, NULL);
    ASSERT_EQ(p.status, 200);
    char *again = xml_get(p.body, "SubscriptionArn");
    ASSERT_STREQ(again, sub);
    free(again);
    ASSERT_TRUE(strstr(p.body, "<ConfirmSubscriptionResponse") == p.body);
    page_release(&p);
    link_get(&e, HTTP_GET, "/", &p, "Action", "ConfirmSubscription", "TopicArn", topic, "Token",
             "bad", NULL);
    ASSERT_EQ(p.status, 400);
    ASSERT_TRUE(strstr(p.body, "<Code>InvalidParameter</Code>") != NULL);
    page_release(&p);
    free(tok);

    /* unsubscribe page, then again (gone), then without the parameter */
    link_get(&e, HTTP_GET, SNS_UNSUBSCRIBE_PATH, &p, "SubscriptionArn", sub, "Endpoint",
             "ops@example.com", NULL);
    ASSERT_EQ(p.status, 200);
    ASSERT_TRUE(strstr(p.body, "Subscription removed!") != NULL);
    ASSERT_TRUE(strstr(p.body, ARN("alerts")) != NULL);
    page_release(&p);
    link_get(&e, HTTP_GET, SNS_UNSUBSCRIBE_PATH, &p, "SubscriptionArn", sub, NULL);
    ASSERT_EQ(p.status, 404);
    ASSERT_TRUE(strstr(p.body, "Subscription does not exist") != NULL);
    page_release(&p);
    link_get(&e, HTTP_GET, SNS_UNSUBSCRIBE_PATH, &p, NULL);
    ASSERT_EQ(p.status, 400);
    page_release(&p);
    /* the UnsubscribeURL form */
    free(sub);
    sub = subscribe_confirmed(&e, topic, "b@example.com");
    link_get(&e, HTTP_GET, "/", &p, "Action", "Unsubscribe", "SubscriptionArn", sub, NULL);
    ASSERT_EQ(p.status, 200);
    ASSERT_TRUE(strstr(p.body, "<UnsubscribeResponse") == p.body);
    page_release(&p);
    free(sub);

    /* HTML in parameters is escaped */
    link_get(&e, HTTP_GET, SNS_UNSUBSCRIBE_PATH, &p, "SubscriptionArn", "<script>x</script>", NULL);
    ASSERT_TRUE(strstr(p.body, "<script>") == NULL);
    page_release(&p);

    /* the certificate, by its exact name only */
    const char *cert = sns_api_cert_path(e.api);
    ASSERT_TRUE(cert && strncmp(cert, "/SimpleNotificationService-", 27) == 0);
    link_get(&e, HTTP_GET, cert, &p, NULL);
    ASSERT_EQ(p.status, 200);
    ASSERT_STREQ(p.body, e.signer.cert_pem);
    ASSERT_TRUE(strncmp(p.body, "-----BEGIN CERTIFICATE-----", 27) == 0);
    page_release(&p);
    link_get(&e, HTTP_HEAD, cert, &p, NULL);
    ASSERT_EQ(p.status, 200);
    page_release(&p);
    link_get(&e, HTTP_GET, "/SimpleNotificationService-0000.pem", &p, NULL);
    ASSERT_EQ(p.status, 404);
    page_release(&p);
    link_get(&e, HTTP_POST, SNS_CONFIRM_PATH, &p, NULL);
    ASSERT_EQ(p.status, 405);
    page_release(&p);
    free(topic);
    env_free(&e);
}

TEST(sns_api_config)
{
    struct sns_api *api = NULL;
    struct diag d = { 0 };
    struct sns_api_config c = { 0 };
    ASSERT_EQ(sns_api_new(&c, &api, &d), -ERR_INVALID);
    ASSERT_TRUE(api == NULL);
    struct env e;
    env_open(&e);
    ASSERT_EQ(sns_api_register(e.api, e.router), -EEXIST);
    /* without a signer there is no certificate page */
    c.db = e.db;
    c.sns = e.sns;
    ASSERT_EQ(sns_api_new(&c, &api, &d), 0);
    ASSERT_TRUE(sns_api_cert_path(api) == NULL);
    sns_api_free(api);
    env_free(&e);
}
