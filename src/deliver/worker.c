/* SPDX-License-Identifier: Apache-2.0 */
/* The delivery thread: forwards due outbox rows to their SNS topic, sends due SNS deliveries
 * (HTTP through one curl multi handle, each SMTP session on a short-lived thread of its own)
 * and records each outcome: done, retry at a policy's next time, or dead letter. */
#include "deliver/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/vec.h"
#include "base/xalloc.h"
#include "deliver/mime.h"

#define OUTBOX_BATCH   100
#define ERROR_TEXT_MAX 512

/* One transfer in flight. HTTP transfers run in the worker's curl multi handle. An SMTP
 * transfer runs curl_easy_perform() on a thread of its own: libcurl's SMTP handler waits for
 * the reply to the end of DATA in a blocking loop even under the multi interface (smtp_done ->
 * smtp_block_statemach), so one relay that is slow to answer would stall every other
 * delivery for up to the SMTP timeout. */
struct xfer {
    int64_t id; /* sns_deliveries row */
    CURL *easy;
    bool is_smtp;
    struct worker *w;
    pthread_t thread;            /* SMTP: the thread running the transfer */
    struct smtp_result smtp_res; /* SMTP: its result, valid once it is on w->smtp_done */
    struct smtp_xfer smtp;
    struct webhook_xfer web;
    struct buf body; /* the bytes sent (borrowed by curl until the transfer ends) */
    char *rcpt;      /* e-mail recipient (smtp) */
    char *url;       /* http endpoint */
    char **headers;  /* owned "Name: value" lines (http) */
    size_t n_headers;
    struct sns_delivery d; /* the row as loaded */
};

struct worker {
    struct meta_db *db;
    struct bus *bus;
    struct sns *sns;
    const struct smtp_config *smtp;
    char *mail_from;
    char *mail_domain;
    char *public_url;
    const struct sns_signer *signer;
    const void *secret;
    size_t secret_len;
    const struct webhook_opts *http;
    double scale;
    size_t parallel;
    const struct retry_rand *rand;
    struct sns_site site;

    CURLM *multi;
    pthread_t thread;
    bool started;
    atomic_bool stop;
    atomic_bool kicked;
    /* when the last kick came (ms): publishers kick from inside their transaction, so the
     * rows may become visible a moment after the wake-up; the loop looks again soon */
    _Atomic int64_t kick_ms;
    VEC(struct xfer *) inflight;
    pthread_mutex_t done_lock;    /* guards smtp_done */
    VEC(struct xfer *) smtp_done; /* SMTP transfers whose thread has finished */
    pthread_mutex_t stats_lock;
    struct worker_stats stats;
};

#define KICK_FOLLOW_MS 200

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void stat_add(struct worker *w, uint64_t *field)
{
    pthread_mutex_lock(&w->stats_lock);
    (*field)++;
    pthread_mutex_unlock(&w->stats_lock);
}

void worker_get_stats(struct worker *w, struct worker_stats *out)
{
    pthread_mutex_lock(&w->stats_lock);
    *out = w->stats;
    pthread_mutex_unlock(&w->stats_lock);
}

void worker_kick(struct worker *w)
{
    if (!w)
        return;
    atomic_store(&w->kick_ms, now_ms());
    atomic_store(&w->kicked, true);
    curl_multi_wakeup(w->multi);
}

static void kick_hook(void *ctx)
{
    worker_kick(ctx);
}

/* A delay from a policy, stretched or shrunk by the configured scale (at least 1 ms when the
 * policy asked for any delay, so a scaled retry is never an immediate busy loop). */
static int64_t scaled(const struct worker *w, int64_t delay_ms)
{
    if (delay_ms <= 0)
        return 0;
    double v = (double)delay_ms * w->scale;
    return v < 1 ? 1 : (int64_t)v;
}

/* Run fn in a transaction of its own on c (meta_begin waits out other writers). */
static int in_tx(struct meta_conn *c, int (*fn)(struct meta_conn *, void *), void *ctx)
{
    int rc = meta_begin(c);
    if (rc < 0)
        return rc;
    rc = fn(c, ctx);
    if (rc < 0) {
        meta_rollback(c);
        return rc;
    }
    rc = meta_commit(c);
    if (rc < 0)
        meta_rollback(c);
    return rc;
}

/* ---- outbox -> SNS ------------------------------------------------------------------------ */

struct forward {
    struct worker *w;
    const struct bus_outbox_row *row;
    int64_t now;
    size_t deliveries;
    int publish_rc;
    struct sns_error err;
};

static int forward_tx(struct meta_conn *c, void *ctx)
{
    struct forward *f = ctx;
    struct sns_publish_req req = {
        .topic_arn = f->row->target_arn,
        .message = f->row->message,
        .message_len = strlen(f->row->message),
        .event_id = f->row->event_id,
    };
    char mid[SNS_UUID_LEN + 1];
    f->publish_rc = sns_publish(f->w->sns, c, &req, mid, &f->deliveries, &f->err);
    if (f->publish_rc == -ERR_NOT_FOUND || f->publish_rc == -ERR_INVALID ||
        f->publish_rc == -ERR_DENIED) {
        /* not deliverable, and retrying will not change that: EventBridge sends such
         * events (missing resource, refused input) to the dead-letter queue at once */
        char *why =
            xasprintf("%s: %s", f->publish_rc == -ERR_NOT_FOUND ? "NO_RESOURCE" : "INVALID_INPUT",
                      f->err.message);
        int rc = bus_outbox_mark_dead(c, f->row->id, why, f->now);
        free(why);
        return rc;
    }
    if (f->publish_rc < 0)
        return f->publish_rc;
    return bus_outbox_mark_done(c, f->row->id, f->now);
}

struct outbox_fail {
    const struct bus_outbox_row *row;
    int64_t next;
    bool dead;
    const char *error;
    int64_t now;
};

static int outbox_fail_tx(struct meta_conn *c, void *ctx)
{
    struct outbox_fail *f = ctx;
    return f->dead ? bus_outbox_mark_dead(c, f->row->id, f->error, f->now)
                   : bus_outbox_mark_retry(c, f->row->id, f->next, f->error, f->now);
}

/* EventBridge's retry of a target that failed (here: the topic could not be written). */
static bool outbox_retry(struct worker *w, struct meta_conn *c, const struct bus_outbox_row *r,
                         const char *error, int64_t now)
{
    struct eb_retry_policy p = { r->max_retry_attempts, r->max_event_age_s };
    int64_t delay;
    int64_t age = (int64_t)((double)(now - r->age_from_ms) / w->scale);
    struct outbox_fail f = { .row = r, .error = error, .now = now };
    if (eb_retry_next(&p, r->attempts + 1, age, w->rand, &delay)) {
        f.next = now + scaled(w, delay);
    } else {
        f.dead = true;
        f.error = r->attempts + 1 > r->max_retry_attempts ? "MaximumRetryAttempts exhausted"
                                                          : "MaximumEventAgeInSeconds exhausted";
    }
    char *both = xasprintf("%s (%s)", f.error, error);
    f.error = f.dead ? both : error;
    bool ok = in_tx(c, outbox_fail_tx, &f) == 0;
    if (!ok)
        log_warn("deliver", "outbox row %lld: cannot record the failed attempt", (long long)r->id);
    else if (f.dead)
        stat_add(w, &w->stats.outbox_dead);
    free(both);
    return ok;
}

/* Forward every due outbox row; returns the number of rows whose state changed. */
static size_t forward_outbox(struct worker *w, struct meta_conn *c, int64_t now)
{
    struct bus_outbox_rows rows;
    if (bus_outbox_due(c, now, 0, OUTBOX_BATCH, &rows) < 0)
        return 0;
    size_t handled = 0;
    for (size_t i = 0; i < rows.n; i++) {
        struct forward f = { .w = w, .row = &rows.v[i], .now = now };
        int rc = in_tx(c, forward_tx, &f);
        if (rc < 0) {
            log_warn("deliver", "event %s to %s: %s", rows.v[i].event_id, rows.v[i].target_arn,
                     err_str(rc));
            handled += outbox_retry(w, c, &rows.v[i], err_str(rc), now);
            continue;
        }
        handled++;
        if (f.publish_rc < 0) {
            log_warn("deliver", "event %s rule %s target %s: dead letter: %s", rows.v[i].event_id,
                     rows.v[i].rule_name, rows.v[i].target_id, f.err.message);
            stat_add(w, &w->stats.outbox_dead);
            continue;
        }
        stat_add(w, &w->stats.outbox_forwarded);
    }
    bus_outbox_rows_release(&rows);
    return handled;
}

/* ---- deliveries --------------------------------------------------------------------------- */

static void xfer_free(struct xfer *x)
{
    if (!x)
        return;
    if (x->easy)
        curl_easy_cleanup(x->easy);
    if (x->is_smtp)
        smtp_xfer_release(&x->smtp);
    else
        webhook_xfer_release(&x->web);
    buf_release(&x->body);
    free(x->rcpt);
    free(x->url);
    for (size_t i = 0; i < x->n_headers; i++)
        free(x->headers[i]);
    free(x->headers);
    sns_delivery_release(&x->d);
    free(x);
}

struct outcome {
    int64_t id;
    enum { OUT_DONE, OUT_RETRY, OUT_DEAD } what;
    int64_t next;
    const char *error;
    int64_t now;
};

static int outcome_tx(struct meta_conn *c, void *ctx)
{
    struct outcome *o = ctx;
    switch (o->what) {
    case OUT_DONE:
        return sns_delivery_mark_done(c, o->id, o->now);
    case OUT_RETRY:
        return sns_delivery_mark_retry(c, o->id, o->next, o->error, o->now);
    case OUT_DEAD:
        return sns_delivery_mark_dead(c, o->id, o->error, o->now);
    }
    return -ERR_INTERNAL;
}

static bool record(struct worker *w, struct meta_conn *c, struct outcome *o)
{
    int rc = in_tx(c, outcome_tx, o);
    if (rc == -ERR_NOT_FOUND)
        return true; /* redriven or removed meanwhile: leave it */
    if (rc < 0) {
        /* the row stays pending and due: it is sent again (at least once) */
        log_warn("deliver", "delivery %lld: cannot record its outcome: %s", (long long)o->id,
                 err_str(rc));
        return false;
    }
    switch (o->what) {
    case OUT_DONE:
        stat_add(w, &w->stats.sent);
        break;
    case OUT_RETRY:
        stat_add(w, &w->stats.retried);
        break;
    case OUT_DEAD:
        stat_add(w, &w->stats.dead);
        break;
    }
    return true;
}

/* A failed attempt of d: the next retry by its policy, or the dead-letter state. */
static bool failed(struct worker *w, struct meta_conn *c, const struct sns_delivery *d,
                   enum deliver_outcome outcome, const char *error, int64_t now)
{
    struct outcome o = { .id = d->id, .error = error, .now = now };
    char *dead_why = NULL;
    if (outcome != DELIVER_RETRY) {
        o.what = OUT_DEAD;
    } else {
        bool http = d->protocol == SNS_PROTO_HTTP || d->protocol == SNS_PROTO_HTTPS;
        int64_t first = d->first_attempt_ms ? d->first_attempt_ms : now;
        int64_t elapsed = (int64_t)((double)(now - first) / w->scale);
        int64_t delay;
        if (sns_retry_next(&d->retry, d->attempts + 1, elapsed, http ? SNS_HTTP_RETRY_BUDGET_MS : 0,
                           w->rand, &delay)) {
            o.what = OUT_RETRY;
            o.next = now + scaled(w, delay);
        } else {
            o.what = OUT_DEAD;
            dead_why = xasprintf("retries exhausted after %d attempts: %s", d->attempts + 1, error);
            o.error = dead_why;
        }
    }
    if (o.what == OUT_DEAD)
        log_warn("deliver", "%s to %s (%s): dead letter: %s",
                 d->type == SNS_NOTIFICATION ? "message" : "confirmation", d->endpoint,
                 d->message_id, o.error);
    else
        log_info("deliver", "%s to %s failed, retry %d in %lld ms: %s", d->message_id, d->endpoint,
                 d->attempts + 1, (long long)(o.next - now), error);
    bool ok = record(w, c, &o);
    free(dead_why);
    return ok;
}

static struct sns_msg msg_of(const struct sns_delivery *d)
{
    struct sns_msg m = {
        .type = d->type,
        .message_id = d->message_id,
        .topic_arn = d->topic_arn,
        .subscription_arn = d->subscription_arn,
        .subject = d->type == SNS_NOTIFICATION ? d->subject : NULL,
        .message = d->message,
        .token = d->token,
        .timestamp_ms = d->timestamp_ms,
        .signature_version = d->signature_version,
        .attrs = d->attrs,
        .n_attrs = d->n_attrs,
    };
    return m;
}

/* Build the mail for d into x->body. 0 or an error with d_out set. */
static int build_mail(struct worker *w, struct xfer *x, struct diag *dg)
{
    const struct sns_delivery *d = &x->d;
    struct sns_msg m = msg_of(d);
    struct buf text;
    buf_init(&text, MIME_BODY_MAX);
    const char *subject;
    int rc;
    char *unsub = NULL;
    if (d->protocol == SNS_PROTO_EMAIL_JSON) {
        subject =
            d->type == SNS_NOTIFICATION ? sns_email_subject(&m, &w->site) : w->site.confirm_subject;
        if (d->raw && d->type == SNS_NOTIFICATION)
            rc = buf_append_cstr(&text, d->message ? d->message : "");
        else
            rc = sns_http_body(&m, &w->site, w->signer, &text, dg);
    } else if (d->type == SNS_NOTIFICATION) {
        subject = sns_email_subject(&m, &w->site);
        rc = sns_email_body(&m, &w->site, d->endpoint, &text, dg);
        unsub = sns_email_unsubscribe_url(&w->site, d->subscription_arn, d->endpoint);
    } else {
        subject = w->site.confirm_subject;
        rc = sns_email_confirmation_body(&w->site, d->topic_arn, d->token, d->endpoint, &text, dg);
    }
    if (rc < 0) {
        buf_release(&text);
        free(unsub);
        return rc;
    }
    /* the same Message-ID on every retry, so receivers can drop duplicates */
    char msgid[MIME_MSGID_MAX];
    snprintf(msgid, sizeof(msgid), "<%s.%lld@%s>", d->message_id, (long long)d->id, w->mail_domain);
    struct mime_header xh[2];
    size_t nxh = 0;
    if (d->event_id)
        xh[nxh++] = (struct mime_header){ "X-Vigil-Event-Id", d->event_id };
    xh[nxh++] = (struct mime_header){ "X-Vigil-Message-Id", d->message_id };
    const char *to[1] = { d->endpoint };
    struct mime_message mm = {
        .from_name = d->display_name ? d->display_name : w->site.from_name,
        .from_addr = w->mail_from,
        .to = to,
        .n_to = 1,
        .subject = subject,
        .body = buf_str(&text),
        .date = d->timestamp_ms / 1000,
        .message_id = msgid,
        .message_id_domain = w->mail_domain,
        .list_unsubscribe = unsub,
        .headers = xh,
        .n_headers = nxh,
        .encoding = MIME_BASE64,
    };
    buf_init(&x->body, SMTP_MESSAGE_MAX);
    rc = mime_build(&mm, &x->body, NULL, dg);
    buf_release(&text);
    free(unsub);
    return rc;
}

/* Aborts a transfer (CURLE_ABORTED_BY_CALLBACK) once the worker is stopping; libcurl calls it
 * at least once a second, also while it waits for an SMTP reply. */
static int xfer_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                         curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const struct worker *w = p;
    return atomic_load(&w->stop) ? 1 : 0;
}

/* The whole SMTP session on its own thread, cleanup included: closing the connection sends
 * QUIT and waits for its reply (blocking again), so the handle is freed here, after its
 * socket was shut down when the session failed or the worker stops (a relay that did not
 * answer DATA will not answer QUIT either). */
static void *smtp_thread(void *arg)
{
    struct xfer *x = arg;
    CURLcode res = curl_easy_perform(x->easy);
    smtp_xfer_result(&x->smtp, x->easy, res, &x->smtp_res);
    if (x->smtp_res.outcome != DELIVER_OK || atomic_load(&x->w->stop)) {
        curl_socket_t sock = CURL_SOCKET_BAD;
        if (curl_easy_getinfo(x->easy, CURLINFO_ACTIVESOCKET, &sock) == CURLE_OK &&
            sock != CURL_SOCKET_BAD)
            shutdown(sock, SHUT_RDWR);
    }
    curl_easy_cleanup(x->easy);
    x->easy = NULL;
    pthread_mutex_lock(&x->w->done_lock);
    VEC_PUSH(&x->w->smtp_done, x);
    pthread_mutex_unlock(&x->w->done_lock);
    curl_multi_wakeup(x->w->multi);
    return NULL;
}

static int setup_mail(struct worker *w, struct xfer *x, struct diag *dg)
{
    int rc = build_mail(w, x, dg);
    if (rc < 0)
        return rc;
    x->rcpt = xstrdup(x->d.endpoint);
    const char *rcpt[1] = { x->rcpt };
    x->easy = curl_easy_init();
    if (!x->easy)
        return diag_set(dg, -ENOMEM, 0, "cannot make a curl handle");
    x->is_smtp = true;
    rc = smtp_easy_setup(x->easy, w->smtp, w->mail_from, rcpt, 1, buf_str(&x->body), &x->smtp, dg);
    if (rc < 0) {
        curl_easy_cleanup(x->easy);
        x->easy = NULL;
    }
    return rc;
}

static int setup_http(struct worker *w, struct xfer *x, struct diag *dg)
{
    const struct sns_delivery *d = &x->d;
    struct sns_msg m = msg_of(d);
    buf_init(&x->body, WEBHOOK_BODY_MAX);
    int rc;
    if (d->raw && d->type == SNS_NOTIFICATION)
        rc = buf_append_cstr(&x->body, d->message ? d->message : "");
    else
        rc = sns_http_body(&m, &w->site, w->signer, &x->body, dg);
    if (rc < 0)
        return rc;
    struct sns_headers h = { 0 };
    rc = sns_http_headers(&m, &w->site, d->content_type[0] ? d->content_type : NULL, &h, dg);
    if (rc < 0)
        return rc;
    x->headers = xcalloc(h.n + 2, sizeof(char *));
    for (size_t i = 0; i < h.n; i++) {
        x->headers[x->n_headers++] = h.v[i];
        h.v[i] = NULL;
    }
    sns_headers_release(&h);
    if (w->secret) {
        char sig[SNS_HMAC_HEADER_LEN + 1];
        sns_hmac_signature(w->secret, w->secret_len, buf_str(&x->body), sig);
        x->headers[x->n_headers++] = xasprintf("X-Vigil-Signature: %s", sig);
    }
    if (d->event_id)
        x->headers[x->n_headers++] = xasprintf("X-Vigil-Event-Id: %s", d->event_id);
    x->url = xstrdup(d->endpoint);
    x->easy = curl_easy_init();
    if (!x->easy)
        return diag_set(dg, -ENOMEM, 0, "cannot make a curl handle");
    x->is_smtp = false;
    rc = webhook_easy_setup(x->easy, x->url, buf_str(&x->body), (const char *const *)x->headers,
                            x->n_headers, w->http, &x->web, dg);
    if (rc < 0) {
        curl_easy_cleanup(x->easy);
        x->easy = NULL;
    }
    return rc;
}

static bool is_inflight(const struct worker *w, int64_t id)
{
    for (size_t i = 0; i < w->inflight.n; i++)
        if (w->inflight.v[i]->id == id)
            return true;
    return false;
}

/* Start due deliveries up to the parallel limit; returns how many were started or settled. */
static size_t start_deliveries(struct worker *w, struct meta_conn *c, int64_t now)
{
    if (w->inflight.n >= w->parallel)
        return 0;
    struct sns_deliveries due;
    if (sns_delivery_due(w->sns, c, now, 0, w->parallel + w->inflight.n, &due) < 0)
        return 0;
    size_t progress = 0;
    for (size_t i = 0; i < due.n && w->inflight.n < w->parallel; i++) {
        struct sns_delivery *d = &due.v[i];
        if (is_inflight(w, d->id))
            continue;
        if (!d->subscription_exists) {
            struct outcome o = {
                .id = d->id, .what = OUT_DEAD, .now = now, .error = "Subscription does not exist"
            };
            progress += record(w, c, &o);
            continue;
        }
        bool mail = d->protocol == SNS_PROTO_EMAIL || d->protocol == SNS_PROTO_EMAIL_JSON;
        if (mail && !w->smtp) {
            progress += failed(w, c, d, DELIVER_RETRY, "no SMTP relay configured", now);
            continue;
        }
        struct xfer *x = xcalloc(1, sizeof(*x));
        x->id = d->id;
        x->d = *d;
        memset(d, 0, sizeof(*d)); /* moved into x */
        struct diag dg = { 0 };
        int rc = mail ? setup_mail(w, x, &dg) : setup_http(w, x, &dg);
        if (rc < 0) {
            /* refused before sending (bad address, message too big): final */
            progress +=
                failed(w, c, &x->d, DELIVER_REJECTED, dg.msg[0] ? dg.msg : err_str(rc), now);
            xfer_free(x);
            continue;
        }
        x->w = w;
        curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
        curl_easy_setopt(x->easy, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(x->easy, CURLOPT_XFERINFOFUNCTION, xfer_progress);
        curl_easy_setopt(x->easy, CURLOPT_XFERINFODATA, w);
        bool started = x->is_smtp ? pthread_create(&x->thread, NULL, smtp_thread, x) == 0
                                  : curl_multi_add_handle(w->multi, x->easy) == CURLM_OK;
        if (!started) {
            log_warn("deliver", "cannot start a transfer for delivery %lld", (long long)x->id);
            xfer_free(x);
            continue;
        }
        VEC_PUSH(&w->inflight, x);
        progress++;
    }
    sns_deliveries_release(&due);
    return progress;
}

static void remove_inflight(struct worker *w, struct xfer *x)
{
    for (size_t i = 0; i < w->inflight.n; i++) {
        if (w->inflight.v[i] == x) {
            w->inflight.v[i] = w->inflight.v[--w->inflight.n];
            return;
        }
    }
}

/* Record the outcome of a finished transfer and free it. */
static void finish_one(struct worker *w, struct meta_conn *c, struct xfer *x, CURLcode res)
{
    enum deliver_outcome outcome;
    char text[ERROR_TEXT_MAX];
    if (x->is_smtp) {
        outcome = x->smtp_res.outcome;
        snprintf(text, sizeof(text), "%s", x->smtp_res.text);
    } else {
        struct webhook_result r;
        webhook_xfer_result(&x->web, x->easy, res, &r);
        outcome = r.outcome;
        snprintf(text, sizeof(text), "%s", r.error);
    }
    int64_t now = now_ms();
    if (outcome == DELIVER_OK) {
        struct outcome o = { .id = x->id, .what = OUT_DONE, .now = now };
        log_debug("deliver", "%s delivered to %s", x->d.message_id, x->d.endpoint);
        record(w, c, &o);
    } else {
        failed(w, c, &x->d, outcome, text[0] ? text : deliver_outcome_name(outcome), now);
    }
    remove_inflight(w, x);
    xfer_free(x);
}

/* Read finished transfers (HTTP from the multi handle, SMTP from their threads) and record
 * their outcomes; returns how many finished. */
static size_t finish_transfers(struct worker *w, struct meta_conn *c)
{
    size_t n = 0;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(w->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode res = msg->data.result;
        curl_multi_remove_handle(w->multi, msg->easy_handle);
        if (x) {
            finish_one(w, c, x, res);
            n++;
        }
    }
    for (;;) {
        pthread_mutex_lock(&w->done_lock);
        struct xfer *x = w->smtp_done.n ? w->smtp_done.v[--w->smtp_done.n] : NULL;
        pthread_mutex_unlock(&w->done_lock);
        if (!x)
            break;
        pthread_join(x->thread, NULL);
        finish_one(w, c, x, CURLE_OK);
        n++;
    }
    return n;
}

/* ---- the thread --------------------------------------------------------------------------- */

static int64_t next_due(struct meta_conn *c)
{
    int64_t a = INT64_MAX, b = INT64_MAX;
    bus_outbox_next_due(c, &a);
    sns_delivery_next_due(c, &b);
    return a < b ? a : b;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct meta_conn *c = NULL;
    while (!atomic_load(&w->stop) && meta_conn_get(w->db, &c) < 0) {
        log_error("deliver", "worker: no database connection; retrying");
        curl_multi_poll(w->multi, NULL, 0, 1000, NULL);
    }
    while (!atomic_load(&w->stop)) {
        atomic_store(&w->kicked, false);
        int64_t now = now_ms();
        size_t progress = forward_outbox(w, c, now);
        progress += start_deliveries(w, c, now);
        int running = 0;
        curl_multi_perform(w->multi, &running);
        progress += finish_transfers(w, c);
        pthread_mutex_lock(&w->stats_lock);
        w->stats.loops++;
        pthread_mutex_unlock(&w->stats_lock);
        if (atomic_load(&w->kicked))
            continue;
        /* sleep until the next row is due, a transfer moves, or a kick; at most the poll
         * interval (other processes, such as `vigil events dlq redrive`, do not kick) */
        int64_t wait = WORKER_POLL_MS;
        int64_t due = next_due(c);
        now = now_ms();
        if (due != INT64_MAX) {
            int64_t until = due - now;
            /* a due row that is in flight, or that could not be moved on (the database
             * refusing writes), must not turn this into a busy loop */
            if (until <= 0 && w->inflight.n == 0 && progress > 0)
                wait = 0;
            else if (until > 0 && until < wait)
                wait = until;
        }
        /* just after a kick, look again every few ms for ~200 ms: a kick made inside a
         * transaction arrives before its commit */
        int64_t since = now - atomic_load(&w->kick_ms);
        if (since >= 0 && since < KICK_FOLLOW_MS && wait > (since < 20 ? 2 : 10))
            wait = since < 20 ? 2 : 10;
        if (wait > 0)
            curl_multi_poll(w->multi, NULL, 0, (int)wait, NULL);
    }
    /* transfers in flight stay pending in the database and are sent after the next start;
     * SMTP threads see the stop flag in their progress callback within a second */
    for (size_t i = 0; i < w->inflight.n; i++) {
        struct xfer *x = w->inflight.v[i];
        if (x->is_smtp)
            pthread_join(x->thread, NULL);
        else
            curl_multi_remove_handle(w->multi, x->easy);
        xfer_free(x);
    }
    w->inflight.n = 0;
    w->smtp_done.n = 0; /* all of them were in inflight too */
    meta_thread_done(w->db);
    return NULL;
}

int worker_new(const struct worker_config *cfg, struct worker **out, struct diag *d)
{
    if (!cfg->db || !cfg->bus || !cfg->sns)
        return diag_set(d, -ERR_INVALID, 0, "delivery worker: db, bus and sns are required");
    if (!cfg->signer)
        return diag_set(d, -ERR_INVALID, 0, "delivery worker: a signing key is required");
    if (!cfg->public_url || !*cfg->public_url)
        return diag_set(d, -ERR_INVALID, 0, "delivery worker: the public URL is required");
    if (cfg->smtp) {
        const char *at = cfg->mail_from ? strrchr(cfg->mail_from, '@') : NULL;
        if (!at || mime_addr_check(str_from(cfg->mail_from), NULL) < 0)
            return diag_set(d, -ERR_INVALID, 0,
                            "delivery worker: mail-from '%s' is not an e-mail address",
                            cfg->mail_from ? cfg->mail_from : "");
    }
    deliver_curl_init();
    struct worker *w = xcalloc(1, sizeof(*w));
    w->db = cfg->db;
    w->bus = cfg->bus;
    w->sns = cfg->sns;
    w->smtp = cfg->smtp;
    w->mail_from = cfg->mail_from ? xstrdup(cfg->mail_from) : NULL;
    const char *at = cfg->mail_from ? strrchr(cfg->mail_from, '@') : NULL;
    w->mail_domain = xstrdup(at ? at + 1 : "localhost");
    w->public_url = xstrdup(cfg->public_url);
    w->signer = cfg->signer;
    w->secret = cfg->webhook_secret_len ? cfg->webhook_secret : NULL;
    w->secret_len = cfg->webhook_secret_len;
    w->http = cfg->http;
    w->scale = cfg->retry_scale > 0 ? cfg->retry_scale : 1.0;
    w->parallel = cfg->parallel > 0 ? (size_t)cfg->parallel : 8;
    if (w->parallel > WORKER_PARALLEL_MAX)
        w->parallel = WORKER_PARALLEL_MAX;
    w->rand = cfg->rand;
    sns_site_init(&w->site, w->public_url);
    pthread_mutex_init(&w->stats_lock, NULL);
    pthread_mutex_init(&w->done_lock, NULL);
    w->multi = curl_multi_init();
    if (!w->multi) {
        worker_free(w);
        return diag_set(d, -ENOMEM, 0, "delivery worker: cannot make a curl multi handle");
    }
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    if (rc != 0) {
        curl_multi_cleanup(w->multi);
        w->multi = NULL;
        worker_free(w);
        return diag_set(d, -rc, 0, "delivery worker: cannot start the thread: %s", strerror(rc));
    }
    w->started = true;
    bus_set_notify(w->bus, kick_hook, w);
    sns_set_notify(w->sns, kick_hook, w);
    *out = w;
    return 0;
}

void worker_free(struct worker *w)
{
    if (!w)
        return;
    if (w->started) {
        bus_set_notify(w->bus, NULL, NULL);
        sns_set_notify(w->sns, NULL, NULL);
        atomic_store(&w->stop, true);
        curl_multi_wakeup(w->multi);
        pthread_join(w->thread, NULL);
    }
    if (w->multi)
        curl_multi_cleanup(w->multi);
    VEC_FREE(&w->inflight);
    VEC_FREE(&w->smtp_done);
    pthread_mutex_destroy(&w->stats_lock);
    pthread_mutex_destroy(&w->done_lock);
    free(w->mail_from);
    free(w->mail_domain);
    free(w->public_url);
    free(w);
}
