/* SPDX-License-Identifier: Apache-2.0 */
/* SNS message formats: AWS's pretty-printed JSON bodies in AWS's key order, the canonical
 * string-to-sign, delivery headers, the e-mail texts and the URLs that lead back to vigil. */
#include "deliver/sns_msg.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/hash.h"
#include "base/xalloc.h"
#include "deliver/internal.h"

const char *sns_msg_type_name(enum sns_msg_type t)
{
    switch (t) {
    case SNS_NOTIFICATION:
        return "Notification";
    case SNS_SUBSCRIPTION_CONFIRMATION:
        return "SubscriptionConfirmation";
    case SNS_UNSUBSCRIBE_CONFIRMATION:
        return "UnsubscribeConfirmation";
    }
    return "Notification";
}

void sns_site_init(struct sns_site *s, const char *base_url)
{
    s->base_url = base_url;
    s->from_name = "AWS Notifications";
    s->default_subject = "AWS Notification Message";
    s->confirm_subject = "AWS Notification - Subscription Confirmation";
    s->support_url = "https://aws.amazon.com/support";
    s->user_agent = "Amazon Simple Notification Service Agent";
}

/* ---- small formats ---- */

int64_t sns_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sns_timestamp(int64_t ms, char out[SNS_TIMESTAMP_LEN + 1])
{
    if (ms < 0)
        ms = 0;
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    /* the moduli only bound the values for the compiler */
    snprintf(out, SNS_TIMESTAMP_LEN + 1, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
             (unsigned)(tm.tm_year + 1900) % 10000, (unsigned)(tm.tm_mon + 1) % 13,
             (unsigned)tm.tm_mday % 32, (unsigned)tm.tm_hour % 24, (unsigned)tm.tm_min % 60,
             (unsigned)tm.tm_sec % 61, (unsigned)(ms % 1000));
}

void sns_uuid4(char out[SNS_UUID_LEN + 1])
{
    unsigned char r[16];
    dlv_random(r, sizeof(r));
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char x[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = x[r[i] >> 4];
        out[o++] = x[r[i] & 15];
    }
    out[o] = '\0';
}

void sns_hmac_signature(const void *secret, size_t secret_len, struct str body,
                        char out[SNS_HMAC_HEADER_LEN + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    unsigned char *r = HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)body.ptr,
                            body.len, mac, &n);
    BUG_ON(!r || n != SHA256_LEN);
    memcpy(out, "sha256=", 7);
    hex_encode(mac, n, out + 7);
    out[SNS_HMAC_HEADER_LEN] = '\0';
}

/* ---- URLs ---- */

static const char *base_of(const struct sns_site *s, size_t *len)
{
    const char *b = s->base_url ? s->base_url : "";
    size_t n = strlen(b);
    while (n > 0 && b[n - 1] == '/')
        n--;
    *len = n;
    return b;
}

/* base + path + "?" + k1=v1&k2=v2... (values percent-encoded); NULL-terminated pairs. */
static char *make_url(const struct sns_site *s, const char *path, const char *const *kv)
{
    struct buf b;
    buf_init(&b, (size_t)64 * 1024);
    size_t bl;
    const char *base = base_of(s, &bl);
    int err = buf_append(&b, base, bl);
    err = err ? err : buf_append_cstr(&b, path);
    for (size_t i = 0; kv[i] && !err; i += 2) {
        err = buf_putc(&b, i == 0 ? '?' : '&');
        err = err ? err : buf_append_cstr(&b, kv[i]);
        err = err ? err : buf_putc(&b, '=');
        err = err ? err : dlv_pct_encode(&b, str_from(kv[i + 1] ? kv[i + 1] : ""));
    }
    BUG_ON(err); /* inputs are capped by the callers at SNS_FIELD_MAX */
    return buf_detach(&b, NULL);
}

char *sns_subscribe_url(const struct sns_site *s, const char *topic_arn, const char *token)
{
    const char *kv[] = { "Action", "ConfirmSubscription", "TopicArn", topic_arn, "Token", token,
                         NULL };
    return make_url(s, "/", kv);
}

char *sns_unsubscribe_url(const struct sns_site *s, const char *subscription_arn)
{
    const char *kv[] = { "Action", "Unsubscribe", "SubscriptionArn", subscription_arn, NULL };
    return make_url(s, "/", kv);
}

char *sns_email_confirm_url(const struct sns_site *s, const char *topic_arn, const char *token,
                            const char *endpoint)
{
    const char *kv[] = { "TopicArn", topic_arn, "Token", token, "Endpoint", endpoint, NULL };
    return make_url(s, "/confirmation.html", kv);
}

char *sns_email_unsubscribe_url(const struct sns_site *s, const char *subscription_arn,
                                const char *endpoint)
{
    const char *kv[] = { "SubscriptionArn", subscription_arn, "Endpoint", endpoint, NULL };
    return make_url(s, "/unsubscribe.html", kv);
}

char *sns_signing_cert_url(const struct sns_site *s, const struct sns_signer *k)
{
    size_t bl;
    const char *base = base_of(s, &bl);
    return xasprintf("%.*s/%s", (int)bl, base, k->cert_name);
}

/* ---- validation ---- */

static int check_field(const char *name, const char *v, size_t max, bool required, struct diag *d)
{
    if (!v)
        return required ? diag_set(d, -ERR_INVALID, 0, "SNS message has no %s", name) : 0;
    struct str s = str_from(v);
    if (s.len > max)
        return diag_set(d, -ERR_TOO_BIG, 0, "SNS %s is longer than %zu bytes", name, max);
    size_t ok = dlv_utf8_valid_prefix(s);
    if (ok != s.len)
        return diag_set(d, -ERR_INVALID, ok, "SNS %s is not valid UTF-8 at byte %zu", name, ok);
    return 0;
}

static const char *std_message(const struct sns_msg *m, char **owned)
{
    *owned = NULL;
    if (m->message)
        return m->message;
    if (m->type == SNS_SUBSCRIPTION_CONFIRMATION)
        *owned = xasprintf("You have chosen to subscribe to the topic %s.\nTo confirm the "
                           "subscription, visit the SubscribeURL included in this message.",
                           m->topic_arn);
    else if (m->type == SNS_UNSUBSCRIBE_CONFIRMATION)
        *owned = xasprintf("You have chosen to deactivate subscription %s.\nTo cancel this "
                           "operation and restore the subscription, visit the SubscribeURL "
                           "included in this message.",
                           m->subscription_arn);
    return *owned;
}

static int check_msg(const struct sns_msg *m, struct diag *d)
{
    int err;
    bool note = m->type == SNS_NOTIFICATION;
    if (m->type != SNS_NOTIFICATION && m->type != SNS_SUBSCRIPTION_CONFIRMATION &&
        m->type != SNS_UNSUBSCRIBE_CONFIRMATION)
        return diag_set(d, -ERR_INVALID, 0, "unknown SNS message type");
    if ((err = check_field("MessageId", m->message_id, SNS_FIELD_MAX, true, d)) ||
        (err = check_field("TopicArn", m->topic_arn, SNS_FIELD_MAX, true, d)) ||
        (err = check_field("SubscriptionArn", m->subscription_arn, SNS_FIELD_MAX,
                           m->type != SNS_SUBSCRIPTION_CONFIRMATION, d)) ||
        (err = check_field("Subject", m->subject, SNS_FIELD_MAX, false, d)) ||
        (err = check_field("Message", m->message, SNS_MESSAGE_MAX, note, d)) ||
        (err = check_field("Token", m->token, SNS_FIELD_MAX, !note, d)))
        return err;
    if (m->signature_version != 0 && m->signature_version != 1 && m->signature_version != 2)
        return diag_set(d, -ERR_INVALID, 0, "SignatureVersion must be 1 or 2");
    if (m->n_attrs > SNS_ATTRS_MAX || (m->n_attrs && !m->attrs))
        return diag_set(d, -ERR_TOO_BIG, 0, "more than %d message attributes", SNS_ATTRS_MAX);
    for (size_t i = 0; i < m->n_attrs; i++)
        if ((err = check_field("attribute name", m->attrs[i].name, 256, true, d)) ||
            (err = check_field("attribute type", m->attrs[i].type, 256, true, d)) ||
            (err = check_field("attribute value", m->attrs[i].value, SNS_MESSAGE_MAX, true, d)))
            return err;
    return 0;
}

/* ---- string to sign and JSON ---- */

static int sts_pair(struct buf *b, const char *k, const char *v)
{
    int err = buf_append_cstr(b, k);
    err = err ? err : buf_putc(b, '\n');
    err = err ? err : buf_append_cstr(b, v);
    return err ? err : buf_putc(b, '\n');
}

/* Fields shared by the string-to-sign and the body, resolved once per message. */
struct resolved {
    const char *message;
    char *message_owned;
    char *subscribe_url;
    char *unsubscribe_url;
    char ts[SNS_TIMESTAMP_LEN + 1];
};

static void resolve(const struct sns_msg *m, const struct sns_site *s, struct resolved *r)
{
    memset(r, 0, sizeof(*r));
    r->message = std_message(m, &r->message_owned);
    if (m->type == SNS_NOTIFICATION)
        r->unsubscribe_url = sns_unsubscribe_url(s, m->subscription_arn);
    else
        r->subscribe_url = sns_subscribe_url(s, m->topic_arn, m->token);
    sns_timestamp(m->timestamp_ms ? m->timestamp_ms : sns_now_ms(), r->ts);
}

static void resolved_release(struct resolved *r)
{
    free(r->message_owned);
    free(r->subscribe_url);
    free(r->unsubscribe_url);
}

/* Names in byte order, as AWS builds the canonical string. */
static int build_sts(const struct sns_msg *m, const struct resolved *r, struct buf *out)
{
    const char *type = sns_msg_type_name(m->type);
    int err = sts_pair(out, "Message", r->message);
    err = err ? err : sts_pair(out, "MessageId", m->message_id);
    if (m->type == SNS_NOTIFICATION) {
        if (m->subject)
            err = err ? err : sts_pair(out, "Subject", m->subject);
    } else {
        err = err ? err : sts_pair(out, "SubscribeURL", r->subscribe_url);
    }
    err = err ? err : sts_pair(out, "Timestamp", r->ts);
    if (m->type != SNS_NOTIFICATION)
        err = err ? err : sts_pair(out, "Token", m->token);
    err = err ? err : sts_pair(out, "TopicArn", m->topic_arn);
    return err ? err : sts_pair(out, "Type", type);
}

int sns_string_to_sign(const struct sns_msg *m, const struct sns_site *s, struct buf *out,
                       struct diag *d)
{
    int err = check_msg(m, d);
    if (err)
        return err;
    struct resolved r;
    resolve(m, s, &r);
    err = build_sts(m, &r, out);
    resolved_release(&r);
    return err ? diag_set(d, err, 0, "SNS message is too big") : 0;
}

/* A JSON string the way AWS's serializer writes it: '"' and '\' escaped, control characters
 * as \b \f \n \r \t or \u00XX, everything else (including '/' and non-ASCII) as is. */
static int json_str(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int err = buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p && !err; p++) {
        unsigned char c = *p;
        const char *e = NULL;
        switch (c) {
        case '"':
            e = "\\\"";
            break;
        case '\\':
            e = "\\\\";
            break;
        case '\b':
            e = "\\b";
            break;
        case '\f':
            e = "\\f";
            break;
        case '\n':
            e = "\\n";
            break;
        case '\r':
            e = "\\r";
            break;
        case '\t':
            e = "\\t";
            break;
        default:
            break;
        }
        if (e) {
            err = buf_append_cstr(b, e);
        } else if (c < 0x20) {
            char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            err = buf_append(b, u, 6);
        } else {
            err = buf_putc(b, (char)c);
        }
    }
    return err ? err : buf_putc(b, '"');
}

static int json_member(struct buf *b, bool *first, const char *k, const char *v)
{
    int err = buf_append_cstr(b, *first ? "\n  " : ",\n  ");
    *first = false;
    err = err ? err : json_str(b, k);
    err = err ? err : buf_append_cstr(b, " : ");
    return err ? err : json_str(b, v);
}

int sns_http_body(const struct sns_msg *m, const struct sns_site *s, const struct sns_signer *k,
                  struct buf *out, struct diag *d)
{
    int err = check_msg(m, d);
    if (err)
        return err;
    struct resolved r;
    resolve(m, s, &r);
    struct buf sts, sig;
    buf_init(&sts, 2 * SNS_MESSAGE_MAX + 16 * SNS_FIELD_MAX);
    buf_init(&sig, 4096);
    int ver = m->signature_version ? m->signature_version : 1;
    char *cert_url = sns_signing_cert_url(s, k);
    char verstr[2] = { (char)('0' + ver), '\0' };
    size_t mark = out->len;

    err = build_sts(m, &r, &sts);
    err = err ? err : sns_sign(k, ver, buf_str(&sts), &sig);
    bool first = true;
    err = err ? err : buf_putc(out, '{');
    err = err ? err : json_member(out, &first, "Type", sns_msg_type_name(m->type));
    err = err ? err : json_member(out, &first, "MessageId", m->message_id);
    if (m->type == SNS_NOTIFICATION) {
        err = err ? err : json_member(out, &first, "TopicArn", m->topic_arn);
        if (m->subject)
            err = err ? err : json_member(out, &first, "Subject", m->subject);
        err = err ? err : json_member(out, &first, "Message", r.message);
    } else {
        err = err ? err : json_member(out, &first, "Token", m->token);
        err = err ? err : json_member(out, &first, "TopicArn", m->topic_arn);
        err = err ? err : json_member(out, &first, "Message", r.message);
        err = err ? err : json_member(out, &first, "SubscribeURL", r.subscribe_url);
    }
    err = err ? err : json_member(out, &first, "Timestamp", r.ts);
    err = err ? err : json_member(out, &first, "SignatureVersion", verstr);
    err = err ? err : json_member(out, &first, "Signature", buf_cstr(&sig));
    err = err ? err : json_member(out, &first, "SigningCertURL", cert_url);
    if (m->type == SNS_NOTIFICATION) {
        err = err ? err : json_member(out, &first, "UnsubscribeURL", r.unsubscribe_url);
        if (m->n_attrs) {
            /* AWS writes each attribute compactly on its own line */
            err = err ? err : buf_append_cstr(out, ",\n  \"MessageAttributes\" : {");
            for (size_t i = 0; i < m->n_attrs && !err; i++) {
                err = buf_append_cstr(out, i ? ",\n    " : "\n    ");
                err = err ? err : json_str(out, m->attrs[i].name);
                err = err ? err : buf_append_cstr(out, " : {\"Type\":");
                err = err ? err : json_str(out, m->attrs[i].type);
                err = err ? err : buf_append_cstr(out, ",\"Value\":");
                err = err ? err : json_str(out, m->attrs[i].value);
                err = err ? err : buf_putc(out, '}');
            }
            err = err ? err : buf_append_cstr(out, "\n  }");
        }
    }
    err = err ? err : buf_append_cstr(out, "\n}");

    free(cert_url);
    buf_release(&sts);
    buf_release(&sig);
    resolved_release(&r);
    if (err) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
        return diag_set(d, err, 0, "SNS message body is too big");
    }
    return 0;
}

int sns_http_headers(const struct sns_msg *m, const struct sns_site *s, const char *content_type,
                     struct sns_headers *h, struct diag *d)
{
    memset(h, 0, sizeof(*h));
    int err = check_msg(m, d);
    if (err)
        return err;
    if (content_type)
        for (const char *p = content_type; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return diag_set(d, -ERR_INVALID, 0, "content type contains a control character");
    h->v[h->n++] = xasprintf("x-amz-sns-message-type: %s", sns_msg_type_name(m->type));
    h->v[h->n++] = xasprintf("x-amz-sns-message-id: %s", m->message_id);
    h->v[h->n++] = xasprintf("x-amz-sns-topic-arn: %s", m->topic_arn);
    if (m->type != SNS_SUBSCRIPTION_CONFIRMATION)
        h->v[h->n++] = xasprintf("x-amz-sns-subscription-arn: %s", m->subscription_arn);
    h->v[h->n++] =
        xasprintf("Content-Type: %s", content_type ? content_type : "text/plain; charset=UTF-8");
    h->v[h->n++] = xasprintf("User-Agent: %s", s->user_agent ? s->user_agent : "vigil");
    /* ids and ARNs come from vigil, but a control character must never reach a header */
    for (size_t i = 0; i < h->n; i++)
        for (const char *p = h->v[i]; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                sns_headers_release(h);
                return diag_set(d, -ERR_INVALID, 0,
                                "SNS header value contains a control character");
            }
    return 0;
}

void sns_headers_release(struct sns_headers *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->v[i]);
    memset(h, 0, sizeof(*h));
}

/* ---- e-mail ---- */

const char *sns_email_subject(const struct sns_msg *m, const struct sns_site *s)
{
    if (m->subject && *m->subject)
        return m->subject;
    return s->default_subject ? s->default_subject : "AWS Notification Message";
}

static const char *support_of(const struct sns_site *s)
{
    return s->support_url ? s->support_url : "https://aws.amazon.com/support";
}

int sns_email_body(const struct sns_msg *m, const struct sns_site *s, const char *endpoint,
                   struct buf *out, struct diag *d)
{
    int err = check_field("Message", m->message, SNS_MESSAGE_MAX, true, d);
    err = err ? err : check_field("SubscriptionArn", m->subscription_arn, SNS_FIELD_MAX, true, d);
    err = err ? err : check_field("Endpoint", endpoint, SNS_FIELD_MAX, true, d);
    if (err)
        return err;
    char *link = sns_email_unsubscribe_url(s, m->subscription_arn, endpoint);
    size_t mark = out->len;
    err = buf_printf(out,
                     "%s\n\n--\nIf you wish to stop receiving notifications from this topic, "
                     "please click or visit the link below to unsubscribe:\n%s\n\nPlease do not "
                     "reply directly to this email. If you have any questions or comments "
                     "regarding this email, please contact us at %s\n",
                     m->message, link, support_of(s));
    free(link);
    if (err) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
        return diag_set(d, err, 0, "e-mail body is too big");
    }
    return 0;
}

int sns_email_confirmation_body(const struct sns_site *s, const char *topic_arn, const char *token,
                                const char *endpoint, struct buf *out, struct diag *d)
{
    int err = check_field("TopicArn", topic_arn, SNS_FIELD_MAX, true, d);
    err = err ? err : check_field("Token", token, SNS_FIELD_MAX, true, d);
    err = err ? err : check_field("Endpoint", endpoint, SNS_FIELD_MAX, true, d);
    if (err)
        return err;
    char *link = sns_email_confirm_url(s, topic_arn, token, endpoint);
    size_t mark = out->len;
    err = buf_printf(out,
                     "You have chosen to subscribe to the topic:\n%s\n\nTo confirm this "
                     "subscription, click or visit the link below (If this was in error no "
                     "action is necessary):\n%s\n\nPlease do not reply directly to this email. "
                     "If you have any questions or comments regarding this email, please "
                     "contact us at %s\n",
                     topic_arn, link, support_of(s));
    free(link);
    if (err) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
        return diag_set(d, err, 0, "e-mail body is too big");
    }
    return 0;
}
