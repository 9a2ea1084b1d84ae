/* SPDX-License-Identifier: Apache-2.0 */
/* The SNS control API (AWS Query protocol, XML responses) over vigil's topics and
 * subscriptions (src/deliver/sns.h), and the plain HTTP pages a subscriber's links open:
 * the e-mail confirmation and unsubscribe pages and the signing certificate. Operations,
 * pages and deviations: docs/API.md ("SNS operations"). */
#ifndef VIGIL_API_SNS_API_H
#define VIGIL_API_SNS_API_H

#include "api/awsproto.h"
#include "base/err.h"
#include "base/http_msg.h"
#include "deliver/sns.h"
#include "deliver/sns_msg.h"
#include "store/meta.h"

#define SNS_API_SERVICE "sns"

/* Paths of the link pages (GET and HEAD). */
#define SNS_CONFIRM_PATH     "/confirmation.html"
#define SNS_UNSUBSCRIBE_PATH "/unsubscribe.html"

struct sns_api_config {
    struct meta_db *db; /* required, borrowed: the metadata database holding the topics */
    struct sns *sns;    /* required, borrowed */
    /* Borrowed; its certificate is served at sns_api_cert_path(). NULL: no certificate page
     * (the link handler answers 404 for it). */
    const struct sns_signer *signer;
};

/* The handlers' shared state; read-only after creation (handlers run on any number of HTTP
 * threads, each with its own database connection). */
struct sns_api;

/* Check cfg (pointers borrowed) and bring the SNS tables up to date (sns_migrate). Errors:
 * -ERR_INVALID (db or sns missing; d says which) or sns_migrate's. */
int sns_api_new(const struct sns_api_config *cfg, struct sns_api **out, struct diag *d);
/* Free. The router and HTTP routes using it must not dispatch any more. NULL is a no-op. */
void sns_api_free(struct sns_api *a);

/* Register CreateTopic, DeleteTopic, ListTopics, GetTopicAttributes, SetTopicAttributes,
 * Subscribe, ConfirmSubscription, Unsubscribe, ListSubscriptions, ListSubscriptionsByTopic,
 * GetSubscriptionAttributes, SetSubscriptionAttributes and Publish on r, and allow
 * ConfirmSubscription and Unsubscribe without credentials (the SubscribeURL and
 * UnsubscribeURL links are followed unsigned; a request that is signed is still verified, and
 * a subscription confirmed with AuthenticateOnUnsubscribe=true can only be removed by a
 * signed Unsubscribe). r is remembered for the link handler's GET /?Action=... Returns 0 or
 * the first router error (-EEXIST when registered already). */
int sns_api_register(struct sns_api *a, struct api_router *r);

/*
 * The HTTP handler (h->app = a) for the links in SNS messages, all GET (and HEAD):
 *   /confirmation.html?TopicArn=..&Token=..[&Endpoint=..]   confirm; an HTML page (UTF-8)
 *   /unsubscribe.html?SubscriptionArn=..[&Endpoint=..]       unsubscribe (unauthenticated)
 *   sns_api_cert_path()                                      the signing certificate (PEM)
 *   /?Action=ConfirmSubscription|Unsubscribe&...             handed to the router as an
 *                                                            AWS request (SNS's XML answer)
 * Errors are pages too: 400 for a missing parameter or an invalid or expired token, 403 when
 * the subscription needs an authenticated unsubscribe, 404 for an unknown topic,
 * subscription or path, 405 for other methods, 500 for database failures.
 * Route SNS_CONFIRM_PATH, SNS_UNSUBSCRIBE_PATH and sns_api_cert_path() here; "/" may stay
 * with the control-API gateway, which answers the two Actions the same way.
 */
void sns_api_link_handler(struct sns_api *a, struct http_handler *h);

/* "/SimpleNotificationService-<hash>.pem" (the last part of SigningCertURL), or NULL without
 * a signer. Borrowed from a. */
const char *sns_api_cert_path(const struct sns_api *a);

#endif
