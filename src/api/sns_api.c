/* SPDX-License-Identifier: Apache-2.0 */
/* The SNS operations (request members in, src/deliver/sns.h calls, SNS's XML results and
 * errors out) and the link pages subscribers open: e-mail confirmation, unsubscribe and the
 * signing certificate. */
#include "api/sns_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/xalloc.h"

struct sns_api {
    struct meta_db *db;
    struct sns *sns;
    const struct sns_signer *signer;
    struct api_router *router; /* set by sns_api_register, for GET /?Action= */
    char *cert_path;           /* "/SimpleNotificationService-<hash>.pem", NULL without signer */
};

int sns_api_new(const struct sns_api_config *cfg, struct sns_api **out, struct diag *d)
{
    *out = NULL;
    if (!cfg->db || !cfg->sns)
        return diag_set(d, -ERR_INVALID, 0, "the SNS API needs the %s",
                        cfg->db ? "SNS service" : "metadata database");
    int rc = sns_migrate(cfg->db, d);
    if (rc < 0)
        return rc;
    struct sns_api *a = xcalloc(1, sizeof(*a));
    a->db = cfg->db;
    a->sns = cfg->sns;
    a->signer = cfg->signer;
    if (a->signer && a->signer->cert_name[0])
        a->cert_path = xasprintf("/%s", a->signer->cert_name);
    *out = a;
    return 0;
}

void sns_api_free(struct sns_api *a)
{
    if (!a)
        return;
    free(a->cert_path);
    free(a);
}

const char *sns_api_cert_path(const struct sns_api *a)
{
    return a->cert_path;
}

/* ---- shared helpers ---------------------------------------------------------------------- */

static const char *in_str(const struct api_call *call, const char *name)
{
    return json_string_value(json_object_get(call->input, name));
}

static int fail_internal(struct api_call *call, int rc, const char *what)
{
    log_error("sns", "%s: %s", what, err_str(rc));
    return api_fail(call, "InternalError", "An internal error occurred");
}

/* The answer to an SNS call that failed: its code and message (the model gives the status:
 * InvalidParameter 400, NotFound 404, AuthorizationError 403), InternalError for database
 * failures. */
static int fail_sns(struct api_call *call, int rc, const struct sns_error *err)
{
    if (err->code && strcmp(err->code, "InternalError") != 0 && err->message[0])
        return api_fail(call, err->code, "%s", err->message);
    return fail_internal(call, rc, call->operation);
}

static int get_conn(struct sns_api *a, struct api_call *call, struct meta_conn **c)
{
    int rc = meta_conn_get(a->db, c);
    return rc < 0 ? fail_internal(call, rc, "database connection") : 0;
}

/* A Query map (decoded as a JSON object of strings) as key/value pairs. *out is owned (the
 * strings stay in obj); NULL and 0 for an absent map. */
static size_t kv_from_map(json_t *obj, struct sns_kv **out)
{
    *out = NULL;
    size_t n = json_object_size(obj);
    if (n == 0)
        return 0;
    struct sns_kv *v = xcalloc(n, sizeof(*v));
    size_t i = 0;
    const char *k;
    json_t *val;
    json_object_foreach(obj, k, val)
    {
        const char *s = json_string_value(val);
        v[i].key = k;
        v[i].value = s ? s : "";
        i++;
    }
    *out = v;
    return i;
}

/* A NextToken: 0 with *state (owned; NULL when absent), or the invalid-token error. */
static int token_in(struct api_call *call, const char *scope, json_t **state)
{
    *state = NULL;
    const char *tok = in_str(call, "NextToken");
    if (!tok)
        return 0;
    if (aws_page_token_decode(scope, tok, state) != 0)
        return api_fail_next_token(call);
    return 0;
}

static void token_out(struct api_call *call, const char *scope, json_t *state)
{
    char *tok = aws_page_token_encode(scope, state);
    json_decref(state);
    if (tok)
        xml_text(call->xml, "NextToken", tok);
    free(tok);
}

static void attrs_out(struct api_call *call, const struct sns_attrs *attrs)
{
    xml_open(call->xml, "Attributes");
    for (size_t i = 0; i < attrs->n; i++)
        xml_map_entry(call->xml, attrs->v[i].key, attrs->v[i].value);
    xml_close(call->xml);
}

/* ---- topics ------------------------------------------------------------------------------ */

static int op_create_topic(void *ctx, struct api_call *call)
{
    struct sns_api *a = ctx;
    struct meta_conn *c;
    if (get_conn(a, call, &c) < 0)
        return -ERR_INVALID;
    struct sns_kv *attrs;
    size_t n_attrs = kv_from_map(json_object_get(call->input, "Attributes"), &attrs);
    /* DataProtectionPolicy is a member of its own in the request and an attribute after */
    const char *dpp = in_str(call, "DataProtectionPolicy");
    if (dpp) {
        attrs = xrealloc(attrs, (n_attrs + 1) * sizeof(*attrs));
        attrs[n_attrs].key = "DataProtectionPolicy";
        attrs[n_attrs].value = dpp;
        n_attrs++;
    }
    json_t *tags = json_object_get(call->input, "Tags");
    size_t n_tags = json_array_size(tags);
    struct sns_kv *tv = n_tags ? xcalloc(n_tags, sizeof(*tv)) : NULL;
    for (size_t i = 0; i < n_tags; i++) {
        json_t *t = json_array_get(tags, i);
        tv[i].key = json_string_value(json_object_get(t, "Key"));
        tv[i].value = json_string_value(json_object_get(t, "Value"));
    }
    char *arn = NULL;
    struct sns_error err = { 0 };
    int rc =
        sns_topic_create(a->sns, c, in_str(call, "Name"), attrs, n_attrs, tv, n_tags, &arn, &err);
    free(attrs);
    free(tv);
    if (rc < 0)
        return fail_sns(call, rc, &err);
    xml_text(call->xml, "TopicArn", arn);
    free(arn);
    return 0;
}

static int op_delete_topic(void *ctx, struct api_call *call)
{
    struct sns_api *a = ctx;
    struct meta_conn *c;
    if (get_conn(a, call, &c) < 0)
        return -ERR_INVALID;
    struct sns_error err = { 0 };
    int rc = sns_topic_delete(a->sns, c, in_str(call, "TopicArn"), &err);
    return rc < 0 ? fail_sns(call, rc, &err) : 0;
}

static int op_list_topics(void *ctx, struct api_call *call)
{
    struct sns_api *a = ctx;
    struct meta_conn *c;
    json_t *st;
    if (get_conn(a, call, &c) < 0 || token_in(call, "sns:ListTopics", &st) < 0)
        return -ERR_INVALID;
    const char *after = NULL;
    if (st && !(after = json_string_value(json_object_get(st, "after")))) {
        json_decref(st);
        return api_fail_next_token(call);
    }
    struct sns_names l = { 0 };
    struct sns_error err = { 0 };
    int rc = sns_topic_list(a->sns, c, after, &l, &err);
    json_decref(st);
    if (rc < 0)
        return fail_sns(call, rc, &err);
    xml_open(call->xml, "Topics");
    for (size_t i = 0; i < l.n; i++) {
        xml_open(call->xml, "member");
        xml_text(call->xml, "TopicArn", l.v[i]);
        xml_close(call->xml);
    }
    xml_close(call->xml);
    if (l.next)
        token_out(call, "sns:ListTopics", json_pack("{s:s}", "after", l.next));
    sns_names_release(&l);
    return 0;
}

static int op_get_topic_attributes(void *ctx, struct api_call *call)
{
    struct sns_api *a = ctx;
    struct meta_conn *c;
    if (get_conn(a, call, &c) < 0)
        return -ERR_INVALID;
    struct sns_attrs attrs = { 0 };
    struct sns_error err = { 0 };
    int rc = sns_topic_get_attributes(a->sns, c, in_str(call, "TopicArn"), &attrs, &err);
    if (rc < 0)
        return fail_sns(call, rc, &err);
    attrs_out(call, &attrs);
    sns_attrs_release(&attrs);
    return 0;
}

static int op_set_topic_attributes(void *ctx, struct api_call *call)
{
    struct sns_api *a = ctx;
    struct meta_conn *c;
    if (get_conn(a, call, &c) < 0)
        return -ERR_INVALID;
    const char *value = in_str(call, "AttributeValue");
    struct sns_error err = { 0 };
    int rc = sns_topic_set_attribute(a->sns, c, in_str(call, "TopicArn"),
                                     in_str(call, "AttributeName"), value ? value : "", &err);
    return rc < 0 ? fail_sns(call, rc, &err) : 0;
}

/* ---- subscriptions ----------------------------------------------------------------------- */

static int op_subscribe(void *ctx, struct api_call *call)
{
    struct sns_api *a = ctx;
    struct meta_conn *c;
    if (get_conn(a, call, &c) < 0)
        return -ERR_INVALID;
    struct sns_kv *attrs;
    size_t n_attrs = kv_from_map(json_object_get(call->input, "Attributes"), &attrs);
    struct sns_subscribe_req req = {
        .topic_arn = in_str(call, "TopicArn"),
        .protocol = in_str(call, "Protocol"),
        .endpoint = in_str(call, "Endpoint"),
        .attrs = attrs,
        .n_attrs = n_attrs,
    };
    char *arn = NULL;
    bool pending = false;
    struct sns_error err = { 0 };
    int rc = sns_subscribe(a->sns, c, &req, &arn, &pending, &err);
    free(attrs);
    if (rc < 0)
        return fail_sns(call, rc, &err);
    sns_kick(a->sns); /* the confirmation message was queued */
    bool want_arn = json_is_true(json_object_get(call->input, "ReturnSubscriptionArn"));
    xml_text(call->xml, "SubscriptionArn", pending && !want_arn ? "pending confirmation" : arn);
    free(arn);
    return 0;
}

static int op_confirm_subscription(void *ctx, struct api_call *call)
{
    struct sns_api *a = ctx;
    struct meta_conn *c;
    if (get_conn(a, call, &c) < 0)
        return -ERR_INVALID;
    const char *auth = in_str(call, "AuthenticateOnUnsubscribe");
    bool authenticate = false;
    if (auth) {
        if (strcasecmp(auth, "true") == 0)
            authenticate = true;
        else if (strcasecmp(auth, "false") != 0)
            return api_fail(call, "InvalidParameter",
                            "Invalid parameter: AuthenticateOnUnsubscribe");
    }
    /* the flag counts only on a signed request (SNS's rule): an anonymous link follower
     * cannot lock the subscription against the UnsubscribeURL */
    authenticate = authenticate && call->req->principal != NULL;
    char *arn = NULL;
    struct sns_error err = { 0 };
    int rc = sns_confirm_subscription(a->sns, c, in_str(call, "TopicArn"), in_str(call, "Token"),
                                      authenticate, &arn, &err);
    if (rc < 0)
        return fail_sns(call, rc, &err);
    xml_text(call->xml, "SubscriptionArn", arn);
    free(arn);
    return 0;
}

static int op_unsubscribe(void *ctx, struct api_call *call)
{
    struct sns_api *a = ctx;
    struct meta_conn *c;
    if (get_conn(a, call, &c) < 0)
        return -ERR_INVALID;
    struct sns_error err = { 0 };
    /* the authentication hook records a principal only for a verified signature */
    int rc = sns_unsubscribe(a->sns, c, in_str(call, "SubscriptionArn"),
                             call->req->principal != NULL, &err);
    if (rc < 0)
        return fail_sns(call, rc, &err);
    sns_kick(a->sns);
    return 0;
}

static void subscriptions_out(struct api_call *call, const struct sns_subscription_list *l)
{
    xml_open(call->xml, "Subscriptions");
    for (size_t i = 0; i < l->n; i++) {
        const struct sns_subscription *s = &l->v[i];
        xml_open(call->xml, "member");
        xml_text(call->xml, "SubscriptionArn", s->pending ? "PendingConfirmation" : s->arn);
        xml_text(call->xml, "Owner", s->owner);
        xml_text(call->xml, "Protocol", s->protocol);
        xml_text(call->xml, "Endpoint", s->endpoint);
        xml_text(call->xml, "TopicArn", s->topic_arn);
        xml_close(call->xml);
    }
    xml_close(call->xml);
}

/* ListSubscriptions (topic NULL) and ListSubscriptionsByTopic. A token names the topic it
 * was issued for. */
static int list_subscriptions(struct sns_api *a, struct api_call *call, const char *topic)
{
    const char *scope = topic ? "sns:ListSubscriptionsByTopic" : "sns:ListSubscriptions";
    struct meta_conn *c;
    json_t *st;
    if (get_conn(a, call, &c) < 0 || token_in(call, scope, &st) < 0)
        return -ERR_INVALID;
    const char *after = NULL;
    if (st) {
        after = json_string_value(json_object_get(st, "after"));
        const char *t = json_string_value(json_object_get(st, "topic"));
        if (!after || (topic && (!t || strcmp(t, topic) != 0))) {
            json_decref(st);
            return api_fail_next_token(call);
        }
    }
    struct sns_subscription_list l = { 0 };
    struct sns_error err = { 0 };
    int rc = sns_subscription_list(a->sns, c, topic, after, &l, &err);
    json_decref(st);
    if (rc < 0)
        return fail_sns(call, rc, &err);
    subscriptions_out(call, &l);
    if (l.next)
        token_out(call, scope,
                  topic ? json_pack("{s:s,s:s}", "after", l.next, "topic", topic)
                        : json_pack("{s:s}", "after", l.next));
    sns_subscription_list_release(&l);
    return 0;
}

static int op_list_subscriptions(void *ctx, struct api_call *call)
{
    return list_subscriptions(ctx, call, NULL);
}

static int op_list_subscriptions_by_topic(void *ctx, struct api_call *call)
{
    return list_subscriptions(ctx, call, in_str(call, "TopicArn"));
}

static int op_get_subscription_attributes(void *ctx, struct api_call *call)
{
    struct sns_api *a = ctx;
    struct meta_conn *c;
    if (get_conn(a, call, &c) < 0)
        return -ERR_INVALID;
    struct sns_attrs attrs = { 0 };
    struct sns_error err = { 0 };
    int rc =
        sns_subscription_get_attributes(a->sns, c, in_str(call, "SubscriptionArn"), &attrs, &err);
    if (rc < 0)
        return fail_sns(call, rc, &err);
    attrs_out(call, &attrs);
    sns_attrs_release(&attrs);
    return 0;
}

static int op_set_subscription_attributes(void *ctx, struct api_call *call)
{
    struct sns_api *a = ctx;
    struct meta_conn *c;
    if (get_conn(a, call, &c) < 0)
        return -ERR_INVALID;
    const char *value = in_str(call, "AttributeValue");
    struct sns_error err = { 0 };
    int rc =
        sns_subscription_set_attribute(a->sns, c, in_str(call, "SubscriptionArn"),
                                       in_str(call, "AttributeName"), value ? value : "", &err);
    return rc < 0 ? fail_sns(call, rc, &err) : 0;
}

/* ---- Publish ----------------------------------------------------------------------------- */

/* The topic a Publish names: TopicArn or TargetArn (vigil has no platform endpoints, so a
 * TargetArn must be a topic too); SMS (PhoneNumber) is not offered. */
static int publish_target(struct api_call *call, const char **topic)
{
    const char *t = in_str(call, "TopicArn");
    const char *target = in_str(call, "TargetArn");
    const char *phone = in_str(call, "PhoneNumber");
    if ((t != NULL) + (target != NULL) + (phone != NULL) > 1)
        return api_fail(call, "InvalidParameter",
                        "Invalid parameter: Only one of TopicArn, TargetArn or PhoneNumber may "
                        "be given");
    if (phone)
        return api_fail(call, "InvalidParameter",
                        "Invalid parameter: PhoneNumber Reason: SMS is not supported by this "
                        "server");
    *topic = t ? t : target;
    if (!*topic)
        return api_fail(call, "InvalidParameter",
                        "Invalid parameter: TopicArn or TargetArn Reason: no value for required "
                        "parameter");
    return 0;
}

static int op_publish(void *ctx, struct api_call *call)
{
    struct sns_api *a = ctx;
    const char *topic;
    if (publish_target(call, &topic) < 0)
        return -ERR_INVALID;
    /* vigil's topics are standard topics, which take neither FIFO member */
    if (in_str(call, "MessageDeduplicationId"))
        return api_fail(call, "InvalidParameter",
                        "Invalid parameter: MessageDeduplicationId Reason: The request includes "
                        "MessageDeduplicationId parameter that is not valid for this topic type");
    if (in_str(call, "MessageGroupId"))
        return api_fail(call, "InvalidParameter",
                        "Invalid parameter: MessageGroupId Reason: The request includes "
                        "MessageGroupId parameter that is not valid for this topic type");
    struct meta_conn *c;
    if (get_conn(a, call, &c) < 0)
        return -ERR_INVALID;
    json_t *ma = json_object_get(call->input, "MessageAttributes");
    size_t n = json_object_size(ma);
    struct sns_msg_attr *attrs = xcalloc(n ? n : 1, sizeof(*attrs));
    size_t i = 0;
    const char *name;
    json_t *v;
    json_object_foreach(ma, name, v)
    {
        attrs[i].name = name;
        attrs[i].data_type = json_string_value(json_object_get(v, "DataType"));
        attrs[i].string_value = json_string_value(json_object_get(v, "StringValue"));
        attrs[i].binary_value = json_string_value(json_object_get(v, "BinaryValue"));
        i++;
    }
    const char *message = in_str(call, "Message");
    struct sns_publish_req req = {
        .topic_arn = topic,
        .subject = in_str(call, "Subject"),
        .message = message,
        .message_len = message ? strlen(message) : 0,
        .message_structure = in_str(call, "MessageStructure"),
        .attrs = attrs,
        .n_attrs = i,
    };
    char id[SNS_UUID_LEN + 1];
    size_t n_deliveries = 0;
    struct sns_error err = { 0 };
    int rc = sns_publish(a->sns, c, &req, id, &n_deliveries, &err);
    free(attrs);
    if (rc < 0)
        return fail_sns(call, rc, &err);
    if (n_deliveries > 0)
        sns_kick(a->sns);
    xml_text(call->xml, "MessageId", id);
    return 0;
}

/* ---- registration ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    api_handler_fn fn;
} ops[] = {
    { "CreateTopic", op_create_topic },
    { "DeleteTopic", op_delete_topic },
    { "ListTopics", op_list_topics },
    { "GetTopicAttributes", op_get_topic_attributes },
    { "SetTopicAttributes", op_set_topic_attributes },
    { "Subscribe", op_subscribe },
    { "ConfirmSubscription", op_confirm_subscription },
    { "Unsubscribe", op_unsubscribe },
    { "ListSubscriptions", op_list_subscriptions },
    { "ListSubscriptionsByTopic", op_list_subscriptions_by_topic },
    { "GetSubscriptionAttributes", op_get_subscription_attributes },
    { "SetSubscriptionAttributes", op_set_subscription_attributes },
    { "Publish", op_publish },
};

int sns_api_register(struct sns_api *a, struct api_router *r)
{
    for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
        int rc = api_router_add_query(r, SNS_API_SERVICE, ops[i].name, ops[i].fn, a);
        if (rc < 0)
            return rc;
    }
    int rc = api_router_allow_anonymous(r, SNS_API_SERVICE, "ConfirmSubscription");
    if (rc == 0)
        rc = api_router_allow_anonymous(r, SNS_API_SERVICE, "Unsubscribe");
    if (rc == 0)
        a->router = r;
    return rc;
}

/* ---- link pages -------------------------------------------------------------------------- */

#define PAGE_MAX ((size_t)64 << 10)

static void html_escape(struct buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            buf_append_cstr(b, "&amp;");
            break;
        case '<':
            buf_append_cstr(b, "&lt;");
            break;
        case '>':
            buf_append_cstr(b, "&gt;");
            break;
        case '"':
            buf_append_cstr(b, "&quot;");
            break;
        case '\'':
            buf_append_cstr(b, "&#39;");
            break;
        default:
            buf_putc(b, *s);
        }
    }
}

/* Percent-encode a query value (everything but RFC 3986's unreserved characters). */
static void url_encode(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            buf_putc(b, (char)*p);
        } else {
            buf_putc(b, '%');
            buf_putc(b, hex[*p >> 4]);
            buf_putc(b, hex[*p & 15]);
        }
    }
}

static void page_open(struct buf *b, const char *title)
{
    buf_append_cstr(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<title>");
    html_escape(b, title);
    buf_append_cstr(b, "</title>\n</head>\n<body>\n<h1>");
    html_escape(b, title);
    buf_append_cstr(b, "</h1>\n");
}

static void page_send(struct http_req *req, struct http_resp *resp, int status, struct buf *b)
{
    buf_append_cstr(b, "</body>\n</html>\n");
    http_resp_header(req, resp, "Cache-Control", "no-store");
    http_resp_set(req, resp, status, "text/html; charset=UTF-8", b->data, b->len);
}

/* A page that only says what went wrong. */
static void error_page(struct http_req *req, struct http_resp *resp, int status, const char *title,
                       const char *text)
{
    struct buf b;
    buf_init(&b, PAGE_MAX);
    page_open(&b, title);
    buf_append_cstr(&b, "<p>");
    html_escape(&b, text);
    buf_append_cstr(&b, "</p>\n");
    page_send(req, resp, status, &b);
    buf_release(&b);
}

/* The page for a failed SNS call. */
static void sns_error_page(struct http_req *req, struct http_resp *resp, int rc,
                           const struct sns_error *err, const char *what)
{
    int status = 500;
    const char *title = "Something went wrong";
    const char *text = "An internal error occurred. Please try again later.";
    if (rc == -ERR_INVALID) {
        status = 400;
        title = "Invalid request";
    } else if (rc == -ERR_NOT_FOUND) {
        status = 404;
        title = "Not found";
    } else if (rc == -ERR_DENIED) {
        status = 403;
        title = "Not allowed";
    } else {
        log_error("sns", "%s: %s", what, err_str(rc));
    }
    if (status != 500 && err->message[0])
        text = err->message;
    error_page(req, resp, status, title, text);
}

static void confirm_page(struct sns_api *a, struct http_req *req, struct http_resp *resp)
{
    const char *topic = http_req_query(req, "TopicArn");
    const char *token = http_req_query(req, "Token");
    const char *endpoint = http_req_query(req, "Endpoint");
    if (!topic || !*topic || !token || !*token) {
        error_page(req, resp, 400, "Invalid request",
                   !topic || !*topic ? "The link has no TopicArn." : "The link has no Token.");
        return;
    }
    struct meta_conn *c;
    struct sns_error err = { 0 };
    char *arn = NULL;
    int rc = meta_conn_get(a->db, &c);
    if (rc == 0)
        rc = sns_confirm_subscription(a->sns, c, topic, token, false, &arn, &err);
    if (rc < 0) {
        sns_error_page(req, resp, rc, &err, "confirm subscription");
        return;
    }
    struct buf b;
    buf_init(&b, PAGE_MAX);
    page_open(&b, "Subscription confirmed!");
    buf_append_cstr(&b, "<p>You have subscribed");
    if (endpoint && *endpoint) {
        buf_append_cstr(&b, " <strong>");
        html_escape(&b, endpoint);
        buf_append_cstr(&b, "</strong>");
    }
    buf_append_cstr(&b, " to the topic <code>");
    html_escape(&b, topic);
    buf_append_cstr(&b, "</code>.</p>\n<p>Subscription id: <code>");
    html_escape(&b, arn);
    buf_append_cstr(&b, "</code></p>\n<p>If you did not mean to subscribe, "
                        "<a href=\"unsubscribe.html?SubscriptionArn=");
    url_encode(&b, arn);
    if (endpoint && *endpoint) {
        buf_append_cstr(&b, "&amp;Endpoint=");
        url_encode(&b, endpoint);
    }
    buf_append_cstr(&b, "\">unsubscribe here</a>.</p>\n");
    page_send(req, resp, 200, &b);
    buf_release(&b);
    free(arn);
}

static void unsubscribe_page(struct sns_api *a, struct http_req *req, struct http_resp *resp)
{
    const char *arn = http_req_query(req, "SubscriptionArn");
    const char *endpoint = http_req_query(req, "Endpoint");
    if (!arn || !*arn) {
        error_page(req, resp, 400, "Invalid request", "The link has no SubscriptionArn.");
        return;
    }
    struct meta_conn *c;
    struct sns_error err = { 0 };
    int rc = meta_conn_get(a->db, &c);
    if (rc == 0)
        rc = sns_unsubscribe(a->sns, c, arn, false, &err);
    if (rc < 0) {
        sns_error_page(req, resp, rc, &err, "unsubscribe");
        return;
    }
    sns_kick(a->sns);
    /* the topic is the subscription ARN without its last ":<id>" */
    const char *colon = strrchr(arn, ':');
    struct buf b;
    buf_init(&b, PAGE_MAX);
    page_open(&b, "Subscription removed!");
    buf_append_cstr(&b, "<p>");
    if (endpoint && *endpoint) {
        buf_append_cstr(&b, "<strong>");
        html_escape(&b, endpoint);
        buf_append_cstr(&b, "</strong> will");
    } else {
        buf_append_cstr(&b, "You will");
    }
    buf_append_cstr(&b, " no longer receive messages from the topic <code>");
    char *topic = xstrndup(arn, colon ? (size_t)(colon - arn) : strlen(arn));
    html_escape(&b, topic);
    free(topic);
    buf_append_cstr(&b, "</code>.</p>\n");
    page_send(req, resp, 200, &b);
    buf_release(&b);
}

static void link_serve(void *app, struct http_req *req, struct http_resp *resp)
{
    struct sns_api *a = app;
    bool cert = a->cert_path && strcmp(req->path, a->cert_path) == 0;
    bool is_get = req->method == HTTP_GET;
    if (!(is_get || (req->method == HTTP_HEAD && cert))) {
        /* HEAD is refused on the pages that change state: a link checker must not confirm
         * or remove a subscription */
        http_resp_header(req, resp, "Allow", "%s", cert ? "GET, HEAD" : "GET");
        error_page(req, resp, 405, "Method not allowed", "Open this link with GET.");
        return;
    }
    if (cert) {
        http_resp_set(req, resp, 200, "application/x-pem-file", a->signer->cert_pem,
                      strlen(a->signer->cert_pem));
        return;
    }
    if (strcmp(req->path, SNS_CONFIRM_PATH) == 0) {
        confirm_page(a, req, resp);
        return;
    }
    if (strcmp(req->path, SNS_UNSUBSCRIBE_PATH) == 0) {
        unsubscribe_page(a, req, resp);
        return;
    }
    if (strcmp(req->path, "/") == 0 && a->router && api_request_is_aws(req)) {
        api_dispatch(a->router, req, resp);
        return;
    }
    error_page(req, resp, 404, "Not found", "There is nothing at this address.");
}

static void link_begin(void *app, struct http_req *req, struct http_resp *resp)
{
    /* every page is answered from the request line alone; a body is never read */
    link_serve(app, req, resp);
}

static void link_end(void *app, struct http_req *req, struct http_resp *resp)
{
    if (resp->status == 0)
        link_serve(app, req, resp);
}

void sns_api_link_handler(struct sns_api *a, struct http_handler *h)
{
    memset(h, 0, sizeof(*h));
    h->app = a;
    h->begin = link_begin;
    h->end = link_end;
}
