/* SPDX-License-Identifier: Apache-2.0 */
/* The delivery thread: drains the EventBridge outbox into SNS topics and sends SNS deliveries
 * (e-mail through the SMTP relay, email-json, http/https POSTs, subscription confirmations),
 * HTTP through libcurl's multi interface and each SMTP session on a short-lived thread of its
 * own, retrying per policy and dead-lettering what is exhausted. */
#ifndef VIGIL_DELIVER_WORKER_H
#define VIGIL_DELIVER_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "deliver/retry.h"
#include "deliver/smtp.h"
#include "deliver/sns.h"
#include "deliver/sns_msg.h"
#include "deliver/webhook.h"
#include "events/bus.h"
#include "store/meta.h"

#define WORKER_POLL_MS      250 /* the worker looks for due rows at least this often */
#define WORKER_PARALLEL_MAX 64  /* transfers in flight at once (SMTP threads included) */

struct worker_config {
    struct meta_db *db; /* required; the worker opens its own connection (thread) */
    struct bus *bus;    /* required; the worker registers bus_set_notify(worker_kick) */
    struct sns *sns;    /* required; likewise sns_set_notify */
    /* e-mail: the relay (borrowed for the worker's life; NULL = e-mail deliveries wait and
     * are retried, with "no SMTP relay configured" as their error) and the envelope and
     * From address ("<DisplayName or AWS Notifications> <mail_from>"). */
    const struct smtp_config *smtp;
    const char *mail_from;
    /* public base URL of vigil (confirmation and unsubscribe links, SigningCertURL) */
    const char *public_url;
    /* signs http/https/email-json bodies (borrowed; required) */
    const struct sns_signer *signer;
    /* optional shared secret: adds X-Vigil-Signature: sha256=<HMAC> to http/https POSTs */
    const void *webhook_secret;
    size_t webhook_secret_len;
    /* TLS and timeouts for http/https (NULL = webhook defaults) */
    const struct webhook_opts *http;
    /* every retry delay is multiplied by this (0 = 1.0); tests use 0.01 */
    double retry_scale;
    /* transfers in flight at once (0 = 8, at most WORKER_PARALLEL_MAX) */
    int parallel;
    /* randomness for jitter (NULL = the kernel's) */
    const struct retry_rand *rand;
};

struct worker;

/* Copy the settings (strings are copied; smtp, signer, http, rand and the secret are
 * borrowed), register the wake-up hooks with bus and sns and start the thread. Pending rows
 * from a previous run (including attempts that were in flight when the process died) are
 * picked up at once: a row is only marked done after its send succeeded. 0, -ERR_INVALID
 * (a required setting missing: d says which) or -errno (thread creation). */
int worker_new(const struct worker_config *cfg, struct worker **out, struct diag *d);

/* Wake the thread: new rows were committed. Cheap, thread-safe, callable from any thread
 * (also through bus_kick() / sns_kick()). NULL is ignored. */
void worker_kick(struct worker *w);

/* Stop the thread (transfers in flight are abandoned and stay pending, so they are sent
 * again after the next start; an SMTP session waiting for its relay is aborted within about a
 * second), unregister the hooks and free. Call it after everything that may publish (HTTP
 * server, scan service) has stopped: a bus_kick() racing with it is not allowed. NULL is
 * ignored. */
void worker_free(struct worker *w);

/* Counters since the start (for logs, metrics and tests). */
struct worker_stats {
    uint64_t outbox_forwarded; /* outbox rows published to their topic */
    uint64_t outbox_dead;
    uint64_t sent;    /* deliveries that succeeded */
    uint64_t retried; /* failed attempts that were rescheduled */
    uint64_t dead;    /* deliveries dead-lettered */
    uint64_t loops;
};
void worker_get_stats(struct worker *w, struct worker_stats *out);

#endif
