/* SPDX-License-Identifier: Apache-2.0 */
/* Retry schedules: SNS delivery-policy phases and backoff curves, the DeliveryPolicy JSON
 * parser with SNS's error texts, and EventBridge's exponential backoff with jitter. */
#include "deliver/retry.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "deliver/internal.h"

/* ---- randomness ---- */

double retry_rand01(const struct retry_rand *r)
{
    uint64_t v;
    if (r && r->fn)
        v = r->fn(r->ctx);
    else
        dlv_random(&v, sizeof(v));
    return (double)(v >> 11) * (1.0 / 9007199254740992.0); /* 53 bits -> [0, 1) */
}

/* ---- SNS schedules ---- */

const struct sns_retry_policy sns_retry_http_default = {
    .min_delay_s = 20,
    .max_delay_s = 20,
    .num_retries = 3,
    .backoff = SNS_BACKOFF_LINEAR,
};

const struct sns_retry_policy sns_retry_email = {
    .min_delay_s = 10,
    .max_delay_s = 600,
    .num_retries = 50,
    .num_no_delay = 0,
    .num_min_delay = 2,
    .num_max_delay = 38,
    .backoff = SNS_BACKOFF_EXPONENTIAL,
};

static const char *const backoff_names[] = { "linear", "arithmetic", "geometric", "exponential" };

const char *sns_backoff_name(enum sns_backoff b)
{
    return (unsigned)b < 4 ? backoff_names[b] : "linear";
}

int64_t sns_retry_delay_ms(const struct sns_retry_policy *p, int n)
{
    if (n < 1 || n > p->num_retries)
        return -1;
    double lo = p->min_delay_s * 1000.0, hi = p->max_delay_s * 1000.0;
    if (n <= p->num_no_delay)
        return 0;
    n -= p->num_no_delay;
    if (n <= p->num_min_delay)
        return (int64_t)lo;
    n -= p->num_min_delay;
    int k = p->num_retries - p->num_no_delay - p->num_min_delay - p->num_max_delay;
    if (n > k)
        return (int64_t)hi; /* post-backoff */
    if (k <= 1)
        return (int64_t)lo;
    double t = (double)(n - 1) / (double)(k - 1), v;
    switch (p->backoff) {
    case SNS_BACKOFF_ARITHMETIC:
        v = lo + (hi - lo) * t * t;
        break;
    case SNS_BACKOFF_GEOMETRIC:
        v = lo > 0 ? lo * pow(hi / lo, t) : hi * t;
        break;
    case SNS_BACKOFF_EXPONENTIAL:
        /* k is at most 100: 2^(k-1) is exact enough in a double */
        v = lo + (hi - lo) * (pow(2.0, n - 1) - 1.0) / (pow(2.0, k - 1) - 1.0);
        break;
    case SNS_BACKOFF_LINEAR:
    default:
        v = lo + (hi - lo) * t;
        break;
    }
    return (int64_t)llround(v);
}

bool sns_retry_next(const struct sns_retry_policy *p, int n, int64_t elapsed_ms, int64_t budget_ms,
                    const struct retry_rand *r, int64_t *delay_ms)
{
    int64_t d = sns_retry_delay_ms(p, n);
    if (d < 0)
        return false;
    if (d > 0) {
        double j = (retry_rand01(r) * 2.0 - 1.0) * SNS_RETRY_JITTER_PERCENT / 100.0;
        d = (int64_t)llround((double)d * (1.0 + j));
    }
    if (budget_ms > 0 && elapsed_ms + d > budget_ms)
        return false;
    *delay_ms = d;
    return true;
}

/* ---- DeliveryPolicy JSON ---- */

struct pctx {
    struct diag *d;
    const char *prefix; /* "http.defaultHealthyRetryPolicy" / "healthyRetryPolicy" */
};

static int unexpected(struct diag *d, const char *key)
{
    return diag_set(d, -ERR_INVALID, 0, "DeliveryPolicy: Unexpected JSON member: %.80s", key);
}

/* An integer field (JSON integer, or a real with an integral value) in [lo, hi]. */
static int get_int(const struct pctx *c, json_t *v, const char *name, long long lo, long long hi,
                   int *out)
{
    long long x;
    if (json_is_integer(v)) {
        x = json_integer_value(v);
    } else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
               fabs(json_real_value(v)) < 1e15) {
        x = (long long)json_real_value(v);
    } else {
        return diag_set(c->d, -ERR_INVALID, 0, "DeliveryPolicy: %s.%s must be a number", c->prefix,
                        name);
    }
    if (x < lo)
        return diag_set(c->d, -ERR_INVALID, 0,
                        "DeliveryPolicy: %s.%s must be greater than or equal to %lld", c->prefix,
                        name, lo);
    if (x > hi)
        return diag_set(c->d, -ERR_INVALID, 0,
                        "DeliveryPolicy: %s.%s must be less than or equal to %lld", c->prefix, name,
                        hi);
    *out = (int)x;
    return 0;
}

static int parse_retry(json_t *o, const char *prefix, struct sns_retry_policy *r, struct diag *d)
{
    struct pctx c = { d, prefix };
    *r = sns_retry_http_default;
    if (!json_is_object(o))
        return diag_set(d, -ERR_INVALID, 0, "DeliveryPolicy: %s must be a JSON object", prefix);
    const char *k;
    json_t *v;
    int err = 0;
    json_object_foreach(o, k, v)
    {
        if (!strcmp(k, "minDelayTarget"))
            err = get_int(&c, v, k, 1, SNS_RETRY_MAX_DELAY_S, &r->min_delay_s);
        else if (!strcmp(k, "maxDelayTarget"))
            err = get_int(&c, v, k, 1, SNS_RETRY_MAX_DELAY_S, &r->max_delay_s);
        else if (!strcmp(k, "numRetries"))
            err = get_int(&c, v, k, 0, SNS_RETRY_MAX_RETRIES, &r->num_retries);
        else if (!strcmp(k, "numNoDelayRetries"))
            err = get_int(&c, v, k, 0, SNS_RETRY_MAX_RETRIES, &r->num_no_delay);
        else if (!strcmp(k, "numMinDelayRetries"))
            err = get_int(&c, v, k, 0, SNS_RETRY_MAX_RETRIES, &r->num_min_delay);
        else if (!strcmp(k, "numMaxDelayRetries"))
            err = get_int(&c, v, k, 0, SNS_RETRY_MAX_RETRIES, &r->num_max_delay);
        else if (!strcmp(k, "backoffFunction")) {
            const char *s = json_string_value(v);
            int found = -1;
            for (int i = 0; s && i < 4; i++)
                if (strcasecmp(s, backoff_names[i]) == 0)
                    found = i;
            if (found < 0)
                err = diag_set(d, -ERR_INVALID, 0,
                               "DeliveryPolicy: %s.backoffFunction must be one of: linear, "
                               "arithmetic, geometric, exponential",
                               prefix);
            else
                r->backoff = (enum sns_backoff)found;
        } else
            err = unexpected(d, k);
        if (err)
            return err;
    }
    if (r->min_delay_s > r->max_delay_s)
        return diag_set(d, -ERR_INVALID, 0,
                        "DeliveryPolicy: %s.minDelayTarget must be less than or equal to "
                        "maxDelayTarget",
                        prefix);
    if (r->num_no_delay + r->num_min_delay + r->num_max_delay > r->num_retries)
        return diag_set(d, -ERR_INVALID, 0,
                        "DeliveryPolicy: %s.numRetries must be greater than or equal to "
                        "numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries",
                        prefix);
    return 0;
}

static int parse_throttle(json_t *o, const char *prefix, int *out, struct diag *d)
{
    struct pctx c = { d, prefix };
    *out = 0;
    if (json_is_null(o))
        return 0;
    if (!json_is_object(o))
        return diag_set(d, -ERR_INVALID, 0, "DeliveryPolicy: %s must be a JSON object", prefix);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (strcmp(k, "maxReceivesPerSecond") != 0)
            return unexpected(d, k);
        int err = get_int(&c, v, k, 1, 1000000, out);
        if (err)
            return err;
    }
    return 0;
}

/* Content types SNS accepts for requestPolicy.headerContentType. */
static const char *const content_types[] = {
    "text/plain",
    "application/json",
    "text/css",
    "text/csv",
    "text/html",
    "text/xml",
    "application/atom+xml",
    "application/octet-stream",
    "application/soap+xml",
    "application/x-www-form-urlencoded",
    "application/xhtml+xml",
    "application/xml",
};

static int parse_request(json_t *o, const char *prefix, char *out, size_t cap, struct diag *d)
{
    out[0] = '\0';
    if (json_is_null(o))
        return 0;
    if (!json_is_object(o))
        return diag_set(d, -ERR_INVALID, 0, "DeliveryPolicy: %s must be a JSON object", prefix);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (strcmp(k, "headerContentType") != 0)
            return unexpected(d, k);
        const char *s = json_string_value(v);
        bool ok = false;
        /* a "; charset=UTF-8" suffix is allowed on each type */
        for (size_t i = 0; s && i < sizeof(content_types) / sizeof(content_types[0]); i++) {
            size_t n = strlen(content_types[i]);
            if (strncasecmp(s, content_types[i], n) == 0 &&
                (s[n] == '\0' || strcasecmp(s + n, "; charset=UTF-8") == 0))
                ok = true;
        }
        if (!ok || strlen(s) >= cap)
            return diag_set(d, -ERR_INVALID, 0,
                            "DeliveryPolicy: %s.headerContentType is not a supported content "
                            "type",
                            prefix);
        memcpy(out, s, strlen(s) + 1);
    }
    return 0;
}

static int parse_subscription(json_t *root, struct sns_delivery_policy *p, struct diag *d)
{
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v)
    {
        int err = 0;
        if (!strcmp(k, "healthyRetryPolicy")) {
            if (json_is_null(v))
                continue;
            err = parse_retry(v, k, &p->retry, d);
            p->has_retry = true;
        } else if (!strcmp(k, "throttlePolicy")) {
            err = parse_throttle(v, k, &p->max_receives_per_second, d);
        } else if (!strcmp(k, "requestPolicy")) {
            err = parse_request(v, k, p->header_content_type, sizeof(p->header_content_type), d);
        } else if (!strcmp(k, "sicklyRetryPolicy")) {
            /* legacy: accepted as EffectiveDeliveryPolicy shows it, and ignored */
            if (!json_is_null(v) && !json_is_object(v))
                err = diag_set(d, -ERR_INVALID, 0,
                               "DeliveryPolicy: sicklyRetryPolicy must be a JSON object");
        } else if (!strcmp(k, "guaranteed")) {
            if (!json_is_boolean(v))
                err = diag_set(d, -ERR_INVALID, 0,
                               "DeliveryPolicy: guaranteed must be true or false");
        } else {
            err = unexpected(d, k);
        }
        if (err)
            return err;
    }
    return 0;
}

static int parse_topic(json_t *root, struct sns_delivery_policy *p, struct diag *d)
{
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v)
    {
        if (strcmp(k, "http") != 0)
            return unexpected(d, k);
        if (!json_is_object(v))
            return diag_set(d, -ERR_INVALID, 0, "DeliveryPolicy: http must be a JSON object");
        const char *hk;
        json_t *hv;
        json_object_foreach(v, hk, hv)
        {
            int err = 0;
            if (!strcmp(hk, "defaultHealthyRetryPolicy")) {
                if (json_is_null(hv))
                    continue;
                err = parse_retry(hv, "http.defaultHealthyRetryPolicy", &p->retry, d);
                p->has_retry = true;
            } else if (!strcmp(hk, "defaultThrottlePolicy")) {
                err = parse_throttle(hv, "http.defaultThrottlePolicy", &p->max_receives_per_second,
                                     d);
            } else if (!strcmp(hk, "defaultRequestPolicy")) {
                err = parse_request(hv, "http.defaultRequestPolicy", p->header_content_type,
                                    sizeof(p->header_content_type), d);
            } else if (!strcmp(hk, "disableSubscriptionOverrides")) {
                if (!json_is_boolean(hv))
                    err = diag_set(d, -ERR_INVALID, 0,
                                   "DeliveryPolicy: http.disableSubscriptionOverrides must be "
                                   "true or false");
                else
                    p->disable_subscription_overrides = json_is_true(hv);
            } else if (!strcmp(hk, "defaultSicklyRetryPolicy")) {
                if (!json_is_null(hv) && !json_is_object(hv))
                    err = diag_set(d, -ERR_INVALID, 0,
                                   "DeliveryPolicy: http.defaultSicklyRetryPolicy must be a "
                                   "JSON object");
            } else {
                err = unexpected(d, hk);
            }
            if (err)
                return err;
        }
    }
    return 0;
}

int sns_delivery_policy_parse(struct str text, enum sns_policy_level level,
                              struct sns_delivery_policy *p, struct diag *d)
{
    memset(p, 0, sizeof(*p));
    p->retry = sns_retry_http_default;
    if (text.len > SNS_DELIVERY_POLICY_MAX)
        return diag_set(d, -ERR_INVALID, 0, "DeliveryPolicy: longer than %d bytes",
                        SNS_DELIVERY_POLICY_MAX);
    json_error_t je;
    json_t *root = json_loadb(text.ptr ? text.ptr : "", text.len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return diag_set(d, -ERR_INVALID, (size_t)(je.position > 0 ? je.position : 0),
                        "DeliveryPolicy: failed to parse JSON: %.120s (line %d, column %d)",
                        je.text, je.line, je.column);
    int err;
    if (!json_is_object(root))
        err = diag_set(d, -ERR_INVALID, 0, "DeliveryPolicy: must be a JSON object");
    else if (level == SNS_POLICY_TOPIC)
        err = parse_topic(root, p, d);
    else
        err = parse_subscription(root, p, d);
    json_decref(root);
    if (err) {
        memset(p, 0, sizeof(*p));
        p->retry = sns_retry_http_default;
    }
    return err;
}

static void overlay(struct sns_delivery_policy *out, const struct sns_delivery_policy *p)
{
    if (p->has_retry) {
        out->retry = p->retry;
        out->has_retry = true;
    }
    if (p->max_receives_per_second)
        out->max_receives_per_second = p->max_receives_per_second;
    if (p->header_content_type[0])
        memcpy(out->header_content_type, p->header_content_type, sizeof(out->header_content_type));
}

void sns_delivery_policy_effective(const struct sns_delivery_policy *topic,
                                   const struct sns_delivery_policy *sub,
                                   struct sns_delivery_policy *out)
{
    memset(out, 0, sizeof(*out));
    out->retry = sns_retry_http_default;
    out->has_retry = true;
    if (topic) {
        overlay(out, topic);
        out->disable_subscription_overrides = topic->disable_subscription_overrides;
    }
    if (sub && !(topic && topic->disable_subscription_overrides))
        overlay(out, sub);
}

static int retry_json(struct buf *b, const struct sns_retry_policy *r)
{
    return buf_printf(b,
                      "{\"minDelayTarget\":%d,\"maxDelayTarget\":%d,\"numRetries\":%d,"
                      "\"numMaxDelayRetries\":%d,\"numNoDelayRetries\":%d,"
                      "\"numMinDelayRetries\":%d,\"backoffFunction\":\"%s\"}",
                      r->min_delay_s, r->max_delay_s, r->num_retries, r->num_max_delay,
                      r->num_no_delay, r->num_min_delay, sns_backoff_name(r->backoff));
}

int sns_delivery_policy_json(const struct sns_delivery_policy *p, enum sns_policy_level level,
                             struct buf *b)
{
    const struct sns_retry_policy *r = p->has_retry ? &p->retry : &sns_retry_http_default;
    int err;
    if (level == SNS_POLICY_TOPIC) {
        err = buf_append_cstr(b, "{\"http\":{\"defaultHealthyRetryPolicy\":");
        err = err ? err : retry_json(b, r);
        err = err ? err
                  : buf_printf(b, ",\"disableSubscriptionOverrides\":%s",
                               p->disable_subscription_overrides ? "true" : "false");
        if (p->max_receives_per_second)
            err = err ? err
                      : buf_printf(b, ",\"defaultThrottlePolicy\":{\"maxReceivesPerSecond\":%d}",
                                   p->max_receives_per_second);
        if (p->header_content_type[0])
            err = err ? err
                      : buf_printf(b, ",\"defaultRequestPolicy\":{\"headerContentType\":\"%s\"}",
                                   p->header_content_type);
        return err ? err : buf_append_cstr(b, "}}");
    }
    err = buf_append_cstr(b, "{\"healthyRetryPolicy\":");
    err = err ? err : retry_json(b, r);
    err = err ? err : buf_append_cstr(b, ",\"sicklyRetryPolicy\":null,\"throttlePolicy\":");
    if (p->max_receives_per_second)
        err =
            err ? err : buf_printf(b, "{\"maxReceivesPerSecond\":%d}", p->max_receives_per_second);
    else
        err = err ? err : buf_append_cstr(b, "null");
    if (p->header_content_type[0])
        err = err ? err
                  : buf_printf(b, ",\"requestPolicy\":{\"headerContentType\":\"%s\"}",
                               p->header_content_type);
    return err ? err : buf_append_cstr(b, ",\"guaranteed\":false}");
}

/* ---- EventBridge ---- */

const struct eb_retry_policy eb_retry_default = {
    .max_retry_attempts = EB_RETRY_ATTEMPTS_MAX,
    .max_event_age_s = EB_EVENT_AGE_MAX_S,
};

int eb_retry_policy_check(const struct eb_retry_policy *p, struct diag *d)
{
    static const char fmt[] = "Value '%d' at 'retryPolicy.%s' failed to satisfy constraint: "
                              "Member must have value %s than or equal to %d";
    if (p->max_retry_attempts < 0)
        return diag_set(d, -ERR_INVALID, 0, fmt, p->max_retry_attempts, "maximumRetryAttempts",
                        "greater", 0);
    if (p->max_retry_attempts > EB_RETRY_ATTEMPTS_MAX)
        return diag_set(d, -ERR_INVALID, 0, fmt, p->max_retry_attempts, "maximumRetryAttempts",
                        "less", EB_RETRY_ATTEMPTS_MAX);
    if (p->max_event_age_s < EB_EVENT_AGE_MIN_S)
        return diag_set(d, -ERR_INVALID, 0, fmt, p->max_event_age_s, "maximumEventAgeInSeconds",
                        "greater", EB_EVENT_AGE_MIN_S);
    if (p->max_event_age_s > EB_EVENT_AGE_MAX_S)
        return diag_set(d, -ERR_INVALID, 0, fmt, p->max_event_age_s, "maximumEventAgeInSeconds",
                        "less", EB_EVENT_AGE_MAX_S);
    return 0;
}

int64_t eb_retry_base_ms(int n)
{
    if (n < 1)
        n = 1;
    int64_t b = EB_RETRY_BASE_MS;
    for (int i = 1; i < n && b < EB_RETRY_CAP_MS; i++)
        b *= 2;
    return b < EB_RETRY_CAP_MS ? b : EB_RETRY_CAP_MS;
}

bool eb_retry_next(const struct eb_retry_policy *p, int n, int64_t event_age_ms,
                   const struct retry_rand *r, int64_t *delay_ms)
{
    if (n < 1 || n > p->max_retry_attempts)
        return false;
    int64_t base = eb_retry_base_ms(n);
    int64_t half = base / 2, span = base - half;
    int64_t d = half + (int64_t)(retry_rand01(r) * (double)span);
    if (d >= base)
        d = base - 1;
    if (event_age_ms + d > (int64_t)p->max_event_age_s * 1000)
        return false;
    *delay_ms = d;
    return true;
}
