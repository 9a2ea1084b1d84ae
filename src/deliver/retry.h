/* SPDX-License-Identifier: Apache-2.0 */
/* When to try a delivery again: SNS delivery policies (four phases, four backoff functions,
 * the one-hour cap for HTTP/S, the fixed e-mail policy), SNS DeliveryPolicy JSON parsing with
 * SNS's messages, and EventBridge target RetryPolicy (exponential backoff with jitter).
 * Pure functions; randomness comes from an injectable source. */
#ifndef VIGIL_DELIVER_RETRY_H
#define VIGIL_DELIVER_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/str.h"

/* ---- randomness ---- */

/* A source of 64 random bits. fn == NULL means the kernel's random source. */
struct retry_rand {
    uint64_t (*fn)(void *ctx);
    void *ctx;
};

/* A uniform value in [0, 1) from r (r may be NULL: the kernel's source). */
double retry_rand01(const struct retry_rand *r);

/* ---- SNS ---- */

enum sns_backoff {
    SNS_BACKOFF_LINEAR = 0,
    SNS_BACKOFF_ARITHMETIC,
    SNS_BACKOFF_GEOMETRIC,
    SNS_BACKOFF_EXPONENTIAL,
};

/* "linear", "arithmetic", "geometric", "exponential". */
const char *sns_backoff_name(enum sns_backoff b);

/* A retry policy. Retry n (n = 1 after the first failed attempt) falls in one of four phases:
 * immediate (num_no_delay retries, no delay), pre-backoff (num_min_delay retries, min delay),
 * backoff (num_retries minus the other three, delays rising from min to max by the backoff
 * function), post-backoff (num_max_delay retries, max delay). */
struct sns_retry_policy {
    int min_delay_s;   /* minDelayTarget: 1 .. max_delay_s */
    int max_delay_s;   /* maxDelayTarget: .. 3600 */
    int num_retries;   /* numRetries: all phases together, 0 .. 100 */
    int num_no_delay;  /* numNoDelayRetries */
    int num_min_delay; /* numMinDelayRetries */
    int num_max_delay; /* numMaxDelayRetries */
    enum sns_backoff backoff;
};

/* HTTP/S default: 3 retries 20 s apart. */
extern const struct sns_retry_policy sns_retry_http_default;
/* E-mail (fixed by SNS): 0 immediate, 2 x 10 s, 10 exponential 10 -> 600 s, 38 x 600 s. */
extern const struct sns_retry_policy sns_retry_email;

#define SNS_RETRY_MAX_RETRIES    100
#define SNS_RETRY_MAX_DELAY_S    3600
#define SNS_HTTP_RETRY_BUDGET_MS ((int64_t)3600 * 1000) /* HTTP/S: total retry time cap */
#define SNS_RETRY_JITTER_PERCENT 10                     /* +- this much on a non-zero delay */

/* The nominal delay (no jitter) in ms before retry n (1-based); -1 when the policy has no
 * retry n. The backoff curve between min and max over the k backoff retries, at position
 * t = (i-1)/(k-1) of retry i: linear min+(max-min)t; arithmetic min+(max-min)t^2 (steps grow
 * evenly); geometric min*(max/min)^t (constant ratio); exponential
 * min+(max-min)(2^(i-1)-1)/(2^(k-1)-1) (the step doubles each retry). One backoff retry gets
 * min. AWS publishes the curves only as a chart; these follow its shape. */
int64_t sns_retry_delay_ms(const struct sns_retry_policy *p, int n);

/* Should retry n happen, and after how long? False when the policy has no retry n, or when
 * budget_ms > 0 and elapsed_ms (since the first attempt started) plus the delay would pass
 * it (HTTP/S: SNS_HTTP_RETRY_BUDGET_MS; e-mail: 0). Otherwise true with *delay_ms = the
 * nominal delay with +-SNS_RETRY_JITTER_PERCENT jitter from r. */
bool sns_retry_next(const struct sns_retry_policy *p, int n, int64_t elapsed_ms, int64_t budget_ms,
                    const struct retry_rand *r, int64_t *delay_ms);

/* A DeliveryPolicy attribute (topic or subscription), parsed. */
enum sns_policy_level {
    SNS_POLICY_TOPIC = 0,    /* {"http":{"defaultHealthyRetryPolicy":{..},...}} */
    SNS_POLICY_SUBSCRIPTION, /* {"healthyRetryPolicy":{..},"throttlePolicy":{..},...} */
};

struct sns_delivery_policy {
    bool has_retry;
    struct sns_retry_policy retry;
    int max_receives_per_second;         /* 0 = not set */
    char header_content_type[64];        /* "" = not set */
    bool disable_subscription_overrides; /* topic level */
};

#define SNS_DELIVERY_POLICY_MAX 65536 /* bytes of JSON */

/* Parse and validate. Unset retry fields take the HTTP defaults (20, 20, 3, 0, 0, 0,
 * linear). On error the diag holds SNS's message text after "Invalid parameter: ", e.g.
 * "DeliveryPolicy: http.defaultHealthyRetryPolicy.numRetries must be less than or equal to
 * 100" or "DeliveryPolicy: Unexpected JSON member: throttlePolicy". 0 or -ERR_INVALID. */
int sns_delivery_policy_parse(struct str json, enum sns_policy_level level,
                              struct sns_delivery_policy *out, struct diag *d);

/* The policy that applies to a subscription: the HTTP defaults, then what the topic sets,
 * then (unless the topic disables overrides) what the subscription sets. Either may be NULL. */
void sns_delivery_policy_effective(const struct sns_delivery_policy *topic,
                                   const struct sns_delivery_policy *sub,
                                   struct sns_delivery_policy *out);

/* Append p as EffectiveDeliveryPolicy JSON (compact, AWS's key order) for a topic
 * ({"http":{"defaultHealthyRetryPolicy":{...},"disableSubscriptionOverrides":false,...}})
 * or a subscription ({"healthyRetryPolicy":{...},"sicklyRetryPolicy":null,
 * "throttlePolicy":null,"guaranteed":false}). 0 or -ERR_TOO_BIG. */
int sns_delivery_policy_json(const struct sns_delivery_policy *p, enum sns_policy_level level,
                             struct buf *out);

/* ---- EventBridge ---- */

/* A target's RetryPolicy. */
struct eb_retry_policy {
    int max_retry_attempts; /* MaximumRetryAttempts 0 .. 185 */
    int max_event_age_s;    /* MaximumEventAgeInSeconds 60 .. 86400 */
};

#define EB_RETRY_ATTEMPTS_MAX 185
#define EB_EVENT_AGE_MIN_S    60
#define EB_EVENT_AGE_MAX_S    86400
#define EB_RETRY_BASE_MS      1000   /* first retry around 0.5-1 s */
#define EB_RETRY_CAP_MS       600000 /* delays stop growing at 10 minutes */

/* 185 attempts, 86400 s. */
extern const struct eb_retry_policy eb_retry_default;

/* Check the ranges. On error the diag says, as AWS's validation does,
 * "Value '200' at 'retryPolicy.maximumRetryAttempts' failed to satisfy constraint: Member
 * must have value less than or equal to 185". 0 or -ERR_INVALID. */
int eb_retry_policy_check(const struct eb_retry_policy *p, struct diag *d);

/* The un-jittered delay before retry n: min(EB_RETRY_CAP_MS, EB_RETRY_BASE_MS * 2^(n-1)). */
int64_t eb_retry_base_ms(int n);

/* Should retry n (1-based) of an event that is event_age_ms old now happen? False when n
 * exceeds max_retry_attempts or the event would be older than max_event_age_s at the retry.
 * Otherwise true with *delay_ms in [base/2, base) ("equal jitter", from r). */
bool eb_retry_next(const struct eb_retry_policy *p, int n, int64_t event_age_ms,
                   const struct retry_rand *r, int64_t *delay_ms);

#endif
