/* SPDX-License-Identifier: Apache-2.0 */
/* SNS-compatible topics and subscriptions in the metadata database (SNS's semantics and
 * validation messages), subscription filter policies (evaluated with the event-pattern
 * engine), Publish fan-out into per-subscription delivery rows written in the caller's
 * transaction, and the deliveries table the worker drains (with its dead letters). */
#ifndef VIGIL_DELIVER_SNS_H
#define VIGIL_DELIVER_SNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "deliver/retry.h"
#include "deliver/sns_msg.h"
#include "store/meta.h"

#define SNS_TOPIC_NAME_MAX    256 /* [A-Za-z0-9_-] */
#define SNS_LIST_PAGE         100 /* ListTopics / ListSubscriptions page size */
#define SNS_TOKEN_BYTES       128 /* confirmation token: 256 hex characters */
#define SNS_TOKEN_TTL_MS      ((int64_t)3 * 24 * 3600 * 1000)
#define SNS_ATTR_VALUE_MAX    ((size_t)256 << 10) /* one topic / subscription attribute value */
#define SNS_FILTER_POLICY_MAX ((size_t)256 << 10) /* FilterPolicy JSON bytes */
#define SNS_FILTER_KEYS_MAX   5   /* MessageAttributes scope: attribute names in a policy */
#define SNS_FILTER_COMBOS_MAX 150 /* values multiplied across keys */
#define SNS_SUBJECT_MAX       99  /* Subject: fewer than 100 characters */
#define SNS_ATTR_NAME_MAX     256 /* message attribute name */

struct sns;

struct sns_config {
    const char *region;  /* copied */
    const char *account; /* 12 digits; copied; the Owner of everything */
};

/* Create or update the SNS tables (topics, subscriptions, deliveries) in db through
 * meta_migrate (module "sns"). Call once at start-up before using the tables. Errors as
 * meta_migrate. */
int sns_migrate(struct meta_db *db, struct diag *d);

/* 0 or -ERR_INVALID (empty region, account not 12 digits). */
int sns_new(const struct sns_config *cfg, struct sns **out, struct diag *d);
void sns_free(struct sns *s);

/* The worker registers its wake-up here (see bus_set_notify); sns_kick() calls it. Set once
 * at start-up. Call sns_kick() after committing a transaction in which sns_publish(),
 * sns_subscribe() or sns_unsubscribe() added deliveries. */
typedef void (*sns_notify_fn)(void *ctx);
void sns_set_notify(struct sns *s, sns_notify_fn fn, void *ctx);
void sns_kick(struct sns *s);

/* "arn:aws:sns:<region>:<account>:<name>" (owned). */
char *sns_topic_arn(const struct sns *s, const char *name);

/* ---- errors ------------------------------------------------------------------------------- */

/* An SNS error: code ("InvalidParameter", "NotFound", "AuthorizationError",
 * "InternalError"; static) and the message as SNS words it. */
struct sns_error {
    const char *code;
    char message[1024];
};

/* Return values of the functions below that take a struct sns_error *:
 *   0               success
 *   -ERR_INVALID    InvalidParameter (HTTP 400)
 *   -ERR_NOT_FOUND  NotFound (404): "Topic does not exist" / "Subscription does not exist"
 *   -ERR_DENIED     AuthorizationError (403)
 *   -EBUSY, -ERR_DB, -ENOSPC, -EIO   database failure: InternalError (500)
 * Writes join the caller's transaction when one is open on c, else run in their own (as in
 * src/events/bus.h). */

/* A key/value pair (attributes, tags). Borrowed. */
struct sns_kv {
    const char *key;
    const char *value;
};

/* Owned key/value pairs in a fixed order (AWS's for Get*Attributes). */
struct sns_attrs {
    struct sns_kv_owned {
        char *key;
        char *value;
    } * v;
    size_t n;
};
void sns_attrs_release(struct sns_attrs *a);
/* The value of key in a (NULL when absent). */
const char *sns_attrs_get(const struct sns_attrs *a, const char *key);

/* ---- topics ------------------------------------------------------------------------------- */

/*
 * CreateTopic. Idempotent: an existing topic of that name returns its ARN when the given
 * attributes equal the stored ones (only the attributes given are compared, as SNS does) and
 * the tags equal the stored tags (when tags are given); otherwise InvalidParameter
 * "Invalid parameter: Attributes Reason: Topic already exists with different attributes" /
 * "Invalid parameter: Tags Reason: Topic already exists with different tags".
 * Name: 1-256 of [A-Za-z0-9_-] ("Invalid parameter: Topic Name"); FIFO topics (".fifo",
 * FifoTopic=true) are refused ("Invalid parameter: Attributes Reason: FifoTopic: FIFO topics
 * are not supported"). Attributes as for sns_topic_set_attribute() (messages prefixed with
 * "Invalid parameter: Attributes Reason: "). *topic_arn is owned by the caller.
 */
int sns_topic_create(struct sns *s, struct meta_conn *c, const char *name,
                     const struct sns_kv *attrs, size_t n_attrs, const struct sns_kv *tags,
                     size_t n_tags, char **topic_arn, struct sns_error *err);

/* DeleteTopic: the topic, its subscriptions and their pending deliveries. A missing topic is
 * not an error (SNS's DeleteTopic is idempotent); a malformed ARN is InvalidParameter. */
int sns_topic_delete(struct sns *s, struct meta_conn *c, const char *topic_arn,
                     struct sns_error *err);

/* ListTopics: topic ARNs in ARN order after `after` (exclusive, NULL = from the start), at
 * most SNS_LIST_PAGE; next = the ARN to continue after, NULL on the last page. */
struct sns_names {
    char **v;
    size_t n;
    char *next;
};
void sns_names_release(struct sns_names *l);
int sns_topic_list(struct sns *s, struct meta_conn *c, const char *after, struct sns_names *out,
                   struct sns_error *err);

/* True when the topic exists. Errors as usual (a malformed ARN is InvalidParameter). */
int sns_topic_exists(struct sns *s, struct meta_conn *c, const char *topic_arn, bool *exists,
                     struct sns_error *err);

/* GetTopicAttributes: Policy, Owner, SubscriptionsPending, TopicArn, EffectiveDeliveryPolicy,
 * SubscriptionsConfirmed, DisplayName, SubscriptionsDeleted, then every other attribute set
 * (DeliveryPolicy, SignatureVersion, ...). A default Policy is made up when none was set (the
 * account may do everything), as SNS shows one. */
int sns_topic_get_attributes(struct sns *s, struct meta_conn *c, const char *topic_arn,
                             struct sns_attrs *out, struct sns_error *err);

/*
 * SetTopicAttributes. Settable: DisplayName (<= 100 characters, the e-mail From name),
 * Policy (a JSON object), DeliveryPolicy (sns_delivery_policy_parse, topic form),
 * SignatureVersion ("1" or "2"), TracingConfig ("PassThrough" or "Active"),
 * KmsMasterKeyId, ArchivePolicy, DataProtectionPolicy (stored, not used). An empty value
 * removes the attribute. Others: "Invalid parameter: AttributeName". Bad values:
 * "Invalid parameter: <Name>..." (DeliveryPolicy: SNS's texts from retry.h).
 */
int sns_topic_set_attribute(struct sns *s, struct meta_conn *c, const char *topic_arn,
                            const char *name, const char *value, struct sns_error *err);

/* ---- subscriptions ------------------------------------------------------------------------ */

/* Protocols vigil delivers to. */
enum sns_protocol {
    SNS_PROTO_EMAIL = 0,
    SNS_PROTO_EMAIL_JSON,
    SNS_PROTO_HTTP,
    SNS_PROTO_HTTPS,
};
/* "email", "email-json", "http", "https". */
const char *sns_protocol_name(enum sns_protocol p);
/* 0 and *out, or -ERR_INVALID for anything else (including SNS protocols vigil cannot
 * deliver to: sqs, lambda, sms, application, firehose). */
int sns_protocol_parse(const char *name, enum sns_protocol *out);

struct sns_subscribe_req {
    const char *topic_arn;
    const char *protocol;
    const char *endpoint;
    const struct sns_kv *attrs; /* DeliveryPolicy, FilterPolicy, FilterPolicyScope,
                                   RawMessageDelivery, RedrivePolicy, SubscriptionRoleArn */
    size_t n_attrs;
};

/*
 * Subscribe. A new subscription is pending: a confirmation token (SNS_TOKEN_BYTES random
 * bytes in hex, valid 3 days) is made and a confirmation delivery (a mail for email and
 * email-json, a SubscriptionConfirmation POST for http and https) is queued in the same
 * transaction. Subscribing the same (protocol, endpoint) to the topic again returns the
 * existing subscription: still pending, a fresh token is made and the confirmation sent again;
 * its attributes must equal the given ones ("Invalid parameter: Attributes Reason:
 * Subscription already exists with different attributes").
 * *subscription_arn (owned) is "<topicArn>:<uuid>"; *pending says whether confirmation is
 * outstanding (the API answers "pending confirmation" then, unless ReturnSubscriptionArn).
 * Errors: NotFound "Topic does not exist"; InvalidParameter
 * "Invalid parameter: Amazon SNS does not support this protocol string: <p>",
 * "Invalid parameter: Endpoint must match the specified protocol" (http/https URL of the
 * protocol's scheme; email and email-json: an address mime_addr_check() accepts),
 * "Invalid parameter: Endpoint" (missing), attribute messages as for
 * sns_subscription_set_attribute() after "Invalid parameter: Attributes Reason: ".
 */
int sns_subscribe(struct sns *s, struct meta_conn *c, const struct sns_subscribe_req *req,
                  char **subscription_arn, bool *pending, struct sns_error *err);

/*
 * ConfirmSubscription: the subscription of topic_arn whose token this is becomes confirmed
 * (a token stays valid for its 3 days, so confirming twice returns the same ARN).
 * authenticated: the AuthenticateOnUnsubscribe flag ("true": only an authenticated
 * Unsubscribe may remove it). Errors: NotFound "Topic does not exist"; InvalidParameter
 * "Invalid token" (unknown or expired token).
 */
int sns_confirm_subscription(struct sns *s, struct meta_conn *c, const char *topic_arn,
                             const char *token, bool authenticate_on_unsubscribe,
                             char **subscription_arn, struct sns_error *err);

/* Unsubscribe: remove the subscription and its pending deliveries (dead ones stay for the
 * record). authenticated = the caller was authenticated (SigV4); an unauthenticated call
 * (the UnsubscribeURL link) on a subscription confirmed with AuthenticateOnUnsubscribe is
 * AuthorizationError. NotFound "Subscription does not exist". */
int sns_unsubscribe(struct sns *s, struct meta_conn *c, const char *subscription_arn,
                    bool authenticated, struct sns_error *err);

/* One subscription as ListSubscriptions shows it (strings owned). */
struct sns_subscription {
    char *arn; /* the real ARN, also for pending ones */
    char *topic_arn;
    char *protocol;
    char *endpoint;
    char *owner;
    bool pending; /* the API shows SubscriptionArn "PendingConfirmation" then */
};
struct sns_subscription_list {
    struct sns_subscription *v;
    size_t n;
    char *next; /* the ARN to continue after, NULL on the last page */
};
void sns_subscription_list_release(struct sns_subscription_list *l);

/* ListSubscriptions (topic_arn NULL) / ListSubscriptionsByTopic (NotFound when the topic is
 * missing): in ARN order after `after`, at most SNS_LIST_PAGE. */
int sns_subscription_list(struct sns *s, struct meta_conn *c, const char *topic_arn,
                          const char *after, struct sns_subscription_list *out,
                          struct sns_error *err);

/* GetSubscriptionAttributes: SubscriptionArn, TopicArn, Owner, Protocol, Endpoint,
 * PendingConfirmation, ConfirmationWasAuthenticated, RawMessageDelivery,
 * EffectiveDeliveryPolicy (http/https), then the attributes set (DeliveryPolicy,
 * FilterPolicy, FilterPolicyScope, RedrivePolicy, SubscriptionRoleArn). */
int sns_subscription_get_attributes(struct sns *s, struct meta_conn *c,
                                    const char *subscription_arn, struct sns_attrs *out,
                                    struct sns_error *err);

/*
 * SetSubscriptionAttributes. Names: DeliveryPolicy (http/https only, subscription form),
 * FilterPolicy (see below; "" removes it), FilterPolicyScope (MessageAttributes |
 * MessageBody), RawMessageDelivery ("true"/"false": "Invalid parameter: Attributes Reason:
 * RawMessageDelivery: Invalid value [x]. Must be true or false."; not for email), RedrivePolicy
 * (JSON object with deadLetterTargetArn; recorded, the dead letters stay in vigil),
 * SubscriptionRoleArn. Others: "Invalid parameter: AttributeName".
 */
int sns_subscription_set_attribute(struct sns *s, struct meta_conn *c, const char *subscription_arn,
                                   const char *name, const char *value, struct sns_error *err);

/* ---- filter policies ---------------------------------------------------------------------- */

/*
 * SNS subscription filter policies are evaluated by the EventBridge pattern engine
 * (src/events/pattern.h). What differs from an event pattern, and how it is handled:
 *  - MessageAttributes scope (the default): the policy is matched against an object built
 *    from the message attributes: String -> JSON string, Number -> JSON number (a value that
 *    is not a number stays a string), String.Array -> the parsed JSON array (so any element
 *    matches; an unparsable array stays a string), Binary -> left out. Nested objects in
 *    such a policy are refused.
 *  - MessageBody scope: matched against the message, which must be a JSON object (any other
 *    message matches nothing).
 *  - "{}" or "" means no policy (every message passes); pattern_compile would refuse "{}".
 *  - Limits of SNS: at most 5 keys (leaf paths) and 150 value combinations.
 *  - Errors read "Invalid parameter: FilterPolicy: <reason>", reason = the pattern engine's
 *    reason without "Event pattern is not valid. Reason: ".
 */
enum sns_filter_scope {
    SNS_SCOPE_ATTRIBUTES = 0,
    SNS_SCOPE_BODY,
};

/* Validate a FilterPolicy for scope. 0, or -ERR_INVALID with the message in *d (full text,
 * starting "Invalid parameter: FilterPolicy: ", cut to the diag's size). */
int sns_filter_policy_check(struct str policy, enum sns_filter_scope scope, struct diag *d);

/* A Publish message attribute (borrowed). */
struct sns_msg_attr {
    const char *name;
    const char *data_type;    /* "String", "String.Array", "Number", "Binary" (+ ".custom") */
    const char *string_value; /* String*, Number */
    const char *binary_value; /* Binary: base64 text as the Query protocol carries it */
};

/* Does a message pass the policy? *pass is set; 0, or -ERR_INVALID for a policy that does not
 * compile. attrs is used for the MessageAttributes scope, message for MessageBody. */
int sns_filter_match(struct str policy, enum sns_filter_scope scope,
                     const struct sns_msg_attr *attrs, size_t n_attrs, struct str message,
                     bool *pass);

/* ---- publish ------------------------------------------------------------------------------ */

struct sns_publish_req {
    const char *topic_arn;
    const char *subject; /* NULL = none (mail gets the default subject) */
    const char *message;
    size_t message_len;
    const char *message_structure; /* NULL or "json" */
    const struct sns_msg_attr *attrs;
    size_t n_attrs;
    const char *event_id; /* the EventBridge event behind this message (X-Vigil-Event-Id),
                             NULL when published directly */
};

/*
 * Publish: a new MessageId (UUID) and one pending delivery row per CONFIRMED subscription of
 * the topic whose filter policy passes, all in the caller's transaction (or its own). The
 * message for each row is chosen by protocol when message_structure is "json".
 * Validation (SNS's texts, InvalidParameter): "Invalid parameter: Empty message",
 * "Invalid parameter: Message too long" (> 262144 bytes), "Invalid parameter: Subject"
 * (non-ASCII, control characters, empty or >= 100 characters),
 * "Invalid parameter: Message Structure - No default entry in JSON message body",
 * "Invalid parameter: Message Structure - JSON message body failed to parse",
 * "Invalid parameter: MessageAttributes..." (too many, bad name or DataType, missing value),
 * and NotFound "Topic does not exist". *n_deliveries (optional) = rows written.
 * message_id receives the MessageId.
 */
int sns_publish(struct sns *s, struct meta_conn *c, const struct sns_publish_req *req,
                char message_id[SNS_UUID_LEN + 1], size_t *n_deliveries, struct sns_error *err);

/* ---- deliveries (for the worker and `vigil events dlq`) --------------------------------- */

enum sns_delivery_state {
    SNS_DELIVERY_PENDING = 0,
    SNS_DELIVERY_DONE = 1,
    SNS_DELIVERY_DEAD = 2,
};
const char *sns_delivery_state_name(enum sns_delivery_state s);

/* One delivery with everything the worker needs to send it (strings owned). Times in ms. */
struct sns_delivery {
    int64_t id;
    enum sns_msg_type type; /* notification or subscription confirmation */
    enum sns_delivery_state state;
    char *message_id;
    char *topic_arn;
    char *subscription_arn;
    enum sns_protocol protocol;
    char *endpoint;
    char *subject;          /* NULL = none */
    char *message;          /* notifications: the text for this protocol; confirmations: NULL */
    char *token;            /* confirmations */
    char *event_id;         /* NULL unless it came from an EventBridge event */
    struct sns_attr *attrs; /* message attributes (strings owned) */
    size_t n_attrs;
    int64_t timestamp_ms; /* the message's Timestamp, the same on every retry */
    int attempts;
    int64_t first_attempt_ms; /* 0 before the first attempt */
    int64_t next_ms;
    int64_t created_ms;
    int64_t updated_ms;
    char *last_error;
    /* from the subscription and topic at load time */
    bool subscription_exists;      /* false: the subscription was removed since */
    bool raw;                      /* RawMessageDelivery */
    char *display_name;            /* topic DisplayName, NULL when unset */
    int signature_version;         /* 1 or 2 */
    struct sns_retry_policy retry; /* email: sns_retry_email; http/https: the effective policy */
    char content_type[64];         /* DeliveryPolicy headerContentType, "" = default */
};
void sns_delivery_release(struct sns_delivery *d);

struct sns_deliveries {
    struct sns_delivery *v;
    size_t n;
};
void sns_deliveries_release(struct sns_deliveries *l);

/* The functions below read and write only the deliveries table (and, to load a delivery, its
 * subscription and topic); the struct sns * they take is unused and may be NULL (for `vigil
 * events dlq`, which has no sns handle). */

/* Pending deliveries due at now_ms with id > after_id, ordered by due time then id, at most
 * limit (0 = 1000). */
int sns_delivery_due(struct sns *s, struct meta_conn *c, int64_t now_ms, int64_t after_id,
                     size_t limit, struct sns_deliveries *out);
/* Earliest next_at of a pending delivery, INT64_MAX when none. */
int sns_delivery_next_due(struct meta_conn *c, int64_t *next_ms);

/* Attempt outcomes (the row must be pending, else -ERR_NOT_FOUND). mark_retry counts the
 * attempt, records the error and sets first_attempt_at when unset. */
int sns_delivery_mark_done(struct meta_conn *c, int64_t id, int64_t now_ms);
int sns_delivery_mark_retry(struct meta_conn *c, int64_t id, int64_t next_ms, const char *error,
                            int64_t now_ms);
int sns_delivery_mark_dead(struct meta_conn *c, int64_t id, const char *error, int64_t now_ms);

/* Deliveries in `state`, id > after_id, ascending, at most limit (0 = 1000). */
int sns_delivery_list(struct sns *s, struct meta_conn *c, enum sns_delivery_state state,
                      int64_t after_id, size_t limit, struct sns_deliveries *out);

/* Redrive dead deliveries (id > 0: that one, -ERR_NOT_FOUND when it is not dead; 0: all):
 * pending, attempts 0, first attempt unset, due now; MessageId and Timestamp unchanged. */
int sns_delivery_redrive(struct meta_conn *c, int64_t id, int64_t now_ms, size_t *n);

#endif
