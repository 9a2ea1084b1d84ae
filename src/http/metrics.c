/* SPDX-License-Identifier: Apache-2.0 */
/* Metrics storage and Prometheus text rendering. Per-route counters are fixed arrays of atomics
 * indexed by status code, so recording a request takes no lock. */
#include "metrics.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/xalloc.h"

#define CODE_MIN 100
#define CODE_MAX 599

/* Latency buckets in seconds: from a cached manifest to a multi-GB blob upload. */
static const double duration_buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                           1,     2.5,  5,     10,   30,  60,   300 };
#define NBUCKETS ARRAY_SIZE(duration_buckets)

struct http_route_stats {
    struct http_route_stats *next;
    char *name;
    _Atomic uint64_t codes[CODE_MAX - CODE_MIN + 1];
    _Atomic uint64_t aborted;
    /* non-cumulative, summed when rendered; the last one is above the largest bound */
    _Atomic uint64_t buckets[NBUCKETS + 1];
    _Atomic uint64_t sum_us;
};

struct metric_fn {
    struct metric_fn *next;
    enum http_metric_type type;
    char *name;
    char *help;
    http_metric_fn fn;
    void *ctx;
};

struct http_metrics {
    pthread_mutex_t lock; /* guards the two lists (not the counters) */
    struct http_route_stats *routes, *routes_tail;
    struct metric_fn *fns, *fns_tail;
    _Atomic uint64_t bytes_in, bytes_out;
    _Atomic int64_t in_flight, connections;
    _Atomic uint64_t header_timeouts;
};

struct http_metrics *http_metrics_new(void)
{
    struct http_metrics *m = xcalloc(1, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void http_metrics_free(struct http_metrics *m)
{
    if (!m)
        return;
    for (struct http_route_stats *r = m->routes, *next; r; r = next) {
        next = r->next;
        free(r->name);
        free(r);
    }
    for (struct metric_fn *f = m->fns, *next; f; f = next) {
        next = f->next;
        free(f->name);
        free(f->help);
        free(f);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

struct http_route_stats *http_metrics_route(struct http_metrics *m, const char *name)
{
    pthread_mutex_lock(&m->lock);
    struct http_route_stats *r = m->routes;
    while (r && strcmp(r->name, name) != 0)
        r = r->next;
    if (!r) {
        r = xcalloc(1, sizeof(*r));
        r->name = xstrdup(name);
        if (m->routes_tail)
            m->routes_tail->next = r;
        else
            m->routes = r;
        m->routes_tail = r;
    }
    pthread_mutex_unlock(&m->lock);
    return r;
}

void http_metrics_request_done(struct http_metrics *m, struct http_route_stats *rs, int status,
                               uint64_t bytes_in, uint64_t bytes_out, double seconds)
{
    atomic_fetch_add_explicit(&m->bytes_in, bytes_in, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->bytes_out, bytes_out, memory_order_relaxed);
    if (!rs)
        return;
    if (status == 0) {
        atomic_fetch_add_explicit(&rs->aborted, 1, memory_order_relaxed);
    } else {
        if (status < CODE_MIN || status > CODE_MAX)
            status = 500;
        atomic_fetch_add_explicit(&rs->codes[status - CODE_MIN], 1, memory_order_relaxed);
    }
    size_t b = 0;
    while (b < NBUCKETS && seconds > duration_buckets[b])
        b++;
    atomic_fetch_add_explicit(&rs->buckets[b], 1, memory_order_relaxed);
    double us = seconds > 0 ? seconds * 1e6 : 0;
    atomic_fetch_add_explicit(&rs->sum_us, us < 1.8e19 ? (uint64_t)us : 0, memory_order_relaxed);
}

void http_metrics_in_flight_add(struct http_metrics *m, int delta)
{
    atomic_fetch_add_explicit(&m->in_flight, delta, memory_order_relaxed);
}

void http_metrics_connections_add(struct http_metrics *m, int delta)
{
    atomic_fetch_add_explicit(&m->connections, delta, memory_order_relaxed);
}

void http_metrics_header_timeout(struct http_metrics *m)
{
    atomic_fetch_add_explicit(&m->header_timeouts, 1, memory_order_relaxed);
}

bool http_metric_name_is_valid(const char *name)
{
    if (!name || !*name)
        return false;
    for (const char *p = name; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                  (p != name && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

int http_metrics_add_fn(struct http_metrics *m, enum http_metric_type type, const char *name,
                        const char *help, http_metric_fn fn, void *ctx)
{
    if (!http_metric_name_is_valid(name) || !fn)
        return -ERR_INVALID;
    int rc = 0;
    pthread_mutex_lock(&m->lock);
    for (struct metric_fn *f = m->fns; f; f = f->next) {
        if (strcmp(f->name, name) == 0) {
            rc = -EEXIST;
            goto out;
        }
    }
    struct metric_fn *f = xcalloc(1, sizeof(*f));
    f->type = type;
    f->name = xstrdup(name);
    f->help = xstrdup(help ? help : "");
    f->fn = fn;
    f->ctx = ctx;
    if (m->fns_tail)
        m->fns_tail->next = f;
    else
        m->fns = f;
    m->fns_tail = f;
out:
    pthread_mutex_unlock(&m->lock);
    return rc;
}

/* HELP text: backslash and newline escaped. */
static int put_help(struct buf *out, const char *name, const char *help, const char *type)
{
    int rc = buf_printf(out, "# HELP %s ", name);
    for (const char *p = help; *p && !rc; p++) {
        if (*p == '\\')
            rc = buf_append_cstr(out, "\\\\");
        else if (*p == '\n')
            rc = buf_append_cstr(out, "\\n");
        else
            rc = buf_putc(out, *p);
    }
    return rc ? rc : buf_printf(out, "\n# TYPE %s %s\n", name, type);
}

/* Label value: backslash, quote and newline escaped. */
static int put_label(struct buf *out, const char *v)
{
    int rc = 0;
    for (const char *p = v; *p && !rc; p++) {
        if (*p == '\\' || *p == '"')
            rc = buf_printf(out, "\\%c", *p);
        else if (*p == '\n')
            rc = buf_append_cstr(out, "\\n");
        else
            rc = buf_putc(out, *p);
    }
    return rc;
}

static int put_value(struct buf *out, double v)
{
    if (isnan(v))
        return buf_append_cstr(out, "NaN\n");
    if (isinf(v))
        return buf_append_cstr(out, v > 0 ? "+Inf\n" : "-Inf\n");
    return buf_printf(out, "%.17g\n", v);
}

static uint64_t load(_Atomic uint64_t *p)
{
    return atomic_load_explicit(p, memory_order_relaxed);
}

int http_metrics_render(struct http_metrics *m, struct buf *out)
{
    int rc;
    pthread_mutex_lock(&m->lock);
    rc = put_help(out, "vigil_http_requests_total", "HTTP requests answered, by route and status.",
                  "counter");
    for (struct http_route_stats *r = m->routes; r && !rc; r = r->next) {
        for (int c = CODE_MIN; c <= CODE_MAX && !rc; c++) {
            uint64_t n = load(&r->codes[c - CODE_MIN]);
            if (!n)
                continue;
            rc = buf_append_cstr(out, "vigil_http_requests_total{route=\"");
            rc = rc ? rc : put_label(out, r->name);
            rc = rc ? rc : buf_printf(out, "\",code=\"%d\"} %llu\n", c, (unsigned long long)n);
        }
    }
    rc = rc ? rc
            : put_help(out, "vigil_http_requests_aborted_total",
                       "HTTP requests that ended without a response (client gone, timeout, "
                       "shutdown).",
                       "counter");
    for (struct http_route_stats *r = m->routes; r && !rc; r = r->next) {
        rc = buf_append_cstr(out, "vigil_http_requests_aborted_total{route=\"");
        rc = rc ? rc : put_label(out, r->name);
        rc = rc ? rc : buf_printf(out, "\"} %llu\n", (unsigned long long)load(&r->aborted));
    }
    rc = rc ? rc
            : put_help(out, "vigil_http_request_duration_seconds",
                       "Time from the request line to the end of the response.", "histogram");
    for (struct http_route_stats *r = m->routes; r && !rc; r = r->next) {
        uint64_t cum = 0;
        for (size_t b = 0; b <= NBUCKETS && !rc; b++) {
            cum += load(&r->buckets[b]);
            rc = buf_append_cstr(out, "vigil_http_request_duration_seconds_bucket{route=\"");
            rc = rc ? rc : put_label(out, r->name);
            if (!rc && b < NBUCKETS)
                rc = buf_printf(out, "\",le=\"%g\"} %llu\n", duration_buckets[b],
                                (unsigned long long)cum);
            else if (!rc)
                rc = buf_printf(out, "\",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
        }
        rc = rc ? rc : buf_append_cstr(out, "vigil_http_request_duration_seconds_sum{route=\"");
        rc = rc ? rc : put_label(out, r->name);
        rc = rc ? rc : buf_printf(out, "\"} %.6f\n", (double)load(&r->sum_us) / 1e6);
        rc = rc ? rc : buf_append_cstr(out, "vigil_http_request_duration_seconds_count{route=\"");
        rc = rc ? rc : put_label(out, r->name);
        rc = rc ? rc : buf_printf(out, "\"} %llu\n", (unsigned long long)cum);
    }
    rc = rc ? rc
            : put_help(out, "vigil_http_request_bytes_total", "Request body bytes received.",
                       "counter");
    rc = rc ? rc
            : buf_printf(out, "vigil_http_request_bytes_total %llu\n",
                         (unsigned long long)load(&m->bytes_in));
    rc = rc ? rc
            : put_help(out, "vigil_http_response_bytes_total",
                       "Response body bytes of responses sent completely.", "counter");
    rc = rc ? rc
            : buf_printf(out, "vigil_http_response_bytes_total %llu\n",
                         (unsigned long long)load(&m->bytes_out));
    rc =
        rc ? rc
           : put_help(out, "vigil_http_requests_in_flight", "HTTP requests being served.", "gauge");
    rc = rc ? rc
            : buf_printf(out, "vigil_http_requests_in_flight %lld\n",
                         (long long)atomic_load_explicit(&m->in_flight, memory_order_relaxed));
    rc =
        rc ? rc : put_help(out, "vigil_http_connections", "Open HTTP client connections.", "gauge");
    rc = rc ? rc
            : buf_printf(out, "vigil_http_connections %lld\n",
                         (long long)atomic_load_explicit(&m->connections, memory_order_relaxed));
    rc = rc ? rc
            : put_help(out, "vigil_http_header_timeouts_total",
                       "Connections closed because the request headers took too long.", "counter");
    rc = rc ? rc
            : buf_printf(out, "vigil_http_header_timeouts_total %llu\n",
                         (unsigned long long)load(&m->header_timeouts));
    for (struct metric_fn *f = m->fns; f && !rc; f = f->next) {
        rc = put_help(out, f->name, f->help, f->type == HTTP_METRIC_COUNTER ? "counter" : "gauge");
        rc = rc ? rc : buf_printf(out, "%s ", f->name);
        rc = rc ? rc : put_value(out, f->fn(f->ctx));
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}
