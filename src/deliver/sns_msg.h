/* SPDX-License-Identifier: Apache-2.0 */
/* SNS message formats as AWS sends them: the HTTP/HTTPS JSON bodies (Notification,
 * SubscriptionConfirmation, UnsubscribeConfirmation) with their headers and RSA signature,
 * the e-mail texts, the URLs that point back at vigil, and the signing key and certificate
 * vigil makes at first start. */
#ifndef VIGIL_DELIVER_SNS_MSG_H
#define VIGIL_DELIVER_SNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/str.h"

#define SNS_MESSAGE_MAX     262144 /* Publish: at most 256 KiB of UTF-8 */
#define SNS_FIELD_MAX       2048   /* ARNs, tokens, ids, subjects, URLs */
#define SNS_ATTRS_MAX       10     /* message attributes per message (SNS limit) */
#define SNS_KEY_FILE        "sns-signing.key"
#define SNS_CERT_FILE       "sns-signing.pem"
#define SNS_UUID_LEN        36
#define SNS_TIMESTAMP_LEN   24 /* "2012-05-02T00:54:06.655Z" */
#define SNS_HMAC_HEADER_LEN (7 + 64)

enum sns_msg_type {
    SNS_NOTIFICATION = 0,
    SNS_SUBSCRIPTION_CONFIRMATION,
    SNS_UNSUBSCRIBE_CONFIRMATION,
};

/* "Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation". */
const char *sns_msg_type_name(enum sns_msg_type t);

/* A message attribute as delivered: {"Type": type, "Value": value}. Borrowed. */
struct sns_attr {
    const char *name;
    const char *type; /* "String", "String.Array", "Number", "Binary" */
    const char *value;
};

/* One message to one subscription. All strings borrowed, UTF-8. */
struct sns_msg {
    enum sns_msg_type type;
    const char *message_id;       /* required; retries resend the same id */
    const char *topic_arn;        /* required */
    const char *subscription_arn; /* notifications and unsubscribe confirmations */
    const char *subject;          /* notifications only; NULL = absent */
    const char *message;          /* notifications: required; confirmations: NULL = standard */
    const char *token;            /* confirmations: required */
    int64_t timestamp_ms;         /* ms since the epoch; 0 = now (fixed at first use: set it) */
    int signature_version;        /* 1 (RSA-SHA1) or 2 (RSA-SHA256); 0 = 1 */
    const struct sns_attr *attrs; /* notifications; n_attrs <= SNS_ATTRS_MAX */
    size_t n_attrs;
};

/* Where vigil is reached and what its mails say. Defaults keep SNS's texts, so that mail
 * filters written for SNS keep working. Strings borrowed. */
struct sns_site {
    const char *base_url;        /* public base URL of vigil, e.g. "http://127.0.0.1:8080" */
    const char *from_name;       /* e-mail display name: "AWS Notifications" */
    const char *default_subject; /* "AWS Notification Message" */
    const char *confirm_subject; /* "AWS Notification - Subscription Confirmation" */
    const char *support_url;     /* "https://aws.amazon.com/support" (do-not-reply line) */
    const char *user_agent;      /* "Amazon Simple Notification Service Agent" */
};

/* Fill *s with the defaults above and base_url (borrowed). */
void sns_site_init(struct sns_site *s, const char *base_url);

/* ---- signing key and certificate ---- */

/* RSA 2048 key and self-signed certificate. */
struct sns_signer {
    void *key;          /* EVP_PKEY */
    void *cert;         /* X509 */
    char *cert_pem;     /* the certificate in PEM, as served at SigningCertURL */
    char cert_name[64]; /* "SimpleNotificationService-<32 hex>.pem" */
};

/* Load DIR/sns-signing.key and DIR/sns-signing.pem, or create them (key mode 0600, written
 * to a temporary file and linked into place, so concurrent starts agree on one key). A key
 * without its certificate gets a new certificate; a certificate without its key, a key that
 * does not match its certificate, or a non-RSA key is an error (never overwritten).
 * 0, -errno (file system) or -ERR_CORRUPT / -ERR_UNSUPPORTED (unusable files). */
int sns_signer_load_or_create(struct sns_signer *s, const char *dir, struct diag *d);
void sns_signer_release(struct sns_signer *s);

/* Sign data with RSA PKCS#1 v1.5 over SHA1 (version 1) or SHA256 (version 2) and append the
 * signature in base64. 0, -ERR_INVALID (version) or -ERR_TOO_BIG. */
int sns_sign(const struct sns_signer *s, int version, struct str data, struct buf *b64_out);

/* ---- URLs (owned strings; every parameter percent-encoded) ---- */

/* <base>/?Action=ConfirmSubscription&TopicArn=..&Token=.. */
char *sns_subscribe_url(const struct sns_site *s, const char *topic_arn, const char *token);
/* <base>/?Action=Unsubscribe&SubscriptionArn=.. */
char *sns_unsubscribe_url(const struct sns_site *s, const char *subscription_arn);
/* <base>/confirmation.html?TopicArn=..&Token=..&Endpoint=.. (e-mail confirmation link) */
char *sns_email_confirm_url(const struct sns_site *s, const char *topic_arn, const char *token,
                            const char *endpoint);
/* <base>/unsubscribe.html?SubscriptionArn=..&Endpoint=.. (e-mail footer link) */
char *sns_email_unsubscribe_url(const struct sns_site *s, const char *subscription_arn,
                                const char *endpoint);
/* <base>/SimpleNotificationService-<hash>.pem */
char *sns_signing_cert_url(const struct sns_site *s, const struct sns_signer *k);

/* ---- HTTP/HTTPS (and email-json) ---- */

/* The string that is signed (AWS's canonical form): "Name\nvalue\n" for Message, MessageId,
 * Subject (when present), Timestamp, TopicArn, Type (notifications) or Message, MessageId,
 * SubscribeURL, Timestamp, Token, TopicArn, Type (confirmations). Appended to *out.
 * 0, -ERR_INVALID (missing field, invalid UTF-8) or -ERR_TOO_BIG. */
int sns_string_to_sign(const struct sns_msg *m, const struct sns_site *s, struct buf *out,
                       struct diag *d);

/* The JSON body, pretty-printed as AWS does ("{\n  \"Type\" : \"Notification\",\n ...}") in
 * AWS's key order, signed with k. Appended to *out. Errors as sns_string_to_sign. */
int sns_http_body(const struct sns_msg *m, const struct sns_site *s, const struct sns_signer *k,
                  struct buf *out, struct diag *d);

/* The request headers ("Name: value", owned) for the POST of a body: x-amz-sns-message-type,
 * x-amz-sns-message-id, x-amz-sns-topic-arn, x-amz-sns-subscription-arn (not on a
 * SubscriptionConfirmation), Content-Type (content_type, NULL = "text/plain; charset=UTF-8",
 * the DeliveryPolicy's headerContentType otherwise), User-Agent. */
struct sns_headers {
    char *v[8];
    size_t n;
};
int sns_http_headers(const struct sns_msg *m, const struct sns_site *s, const char *content_type,
                     struct sns_headers *h, struct diag *d);
void sns_headers_release(struct sns_headers *h);

/* "sha256=" + lower-case hex HMAC-SHA256(secret, body) into out (the X-Vigil-Signature header
 * value for receivers that share a secret with vigil). */
void sns_hmac_signature(const void *secret, size_t secret_len, struct str body,
                        char out[SNS_HMAC_HEADER_LEN + 1]);

/* ---- e-mail ---- */

/* The subject of a notification mail: m->subject, else s->default_subject. */
const char *sns_email_subject(const struct sns_msg *m, const struct sns_site *s);

/* Notification mail body: the Message, a blank line, "--", the unsubscribe sentence with the
 * unsubscribe.html link for (subscription_arn, endpoint), a blank line and the do-not-reply
 * line. 0, -ERR_INVALID or -ERR_TOO_BIG. */
int sns_email_body(const struct sns_msg *m, const struct sns_site *s, const char *endpoint,
                   struct buf *out, struct diag *d);

/* Confirmation mail body for endpoint subscribing to topic_arn with token: says what was
 * asked, gives the confirmation.html link, ends with the do-not-reply line. */
int sns_email_confirmation_body(const struct sns_site *s, const char *topic_arn, const char *token,
                                const char *endpoint, struct buf *out, struct diag *d);

/* ---- small formats ---- */

/* ISO 8601 UTC with milliseconds: "2012-05-02T00:54:06.655Z". */
void sns_timestamp(int64_t ms, char out[SNS_TIMESTAMP_LEN + 1]);
/* Wall-clock ms since the epoch. */
int64_t sns_now_ms(void);
/* A random (version 4) UUID in lower case, as SNS message ids are. */
void sns_uuid4(char out[SNS_UUID_LEN + 1]);

#endif
