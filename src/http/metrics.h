/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP server metrics: requests by route and status code, body bytes in and out, in-flight
 * requests, open connections, a latency histogram, and values other modules expose through
 * callbacks, rendered in the Prometheus text exposition format 0.0.4. Counters are atomics, so
 * every call here is safe from any thread. */
#ifndef VIGIL_HTTP_METRICS_H
#define VIGIL_HTTP_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"

struct http_metrics;
struct http_route_stats;

enum http_metric_type { HTTP_METRIC_GAUGE, HTTP_METRIC_COUNTER };

/* Reads a value at render time; called with the metrics lock held, from the thread serving
 * GET /metrics. */
typedef double (*http_metric_fn)(void *ctx);

/* Route label of requests that matched no route (404, 405, 400 on a bad target). */
#define HTTP_METRICS_UNMATCHED "unmatched"

struct http_metrics *http_metrics_new(void);
void http_metrics_free(struct http_metrics *m);

/* The counters of one route name, created on first use (several routes may share a name
 * and then share counters). Owned by m, valid until http_metrics_free(). */
struct http_route_stats *http_metrics_route(struct http_metrics *m, const char *name);

/* Record a finished request: status 100..599 for an answered one (anything else counts as
 * 500), 0 for one that ended without a response (counted as aborted). bytes_in and
 * bytes_out are body bytes; seconds is the time from the request line to the end. */
void http_metrics_request_done(struct http_metrics *m, struct http_route_stats *rs, int status,
                               uint64_t bytes_in, uint64_t bytes_out, double seconds);
void http_metrics_in_flight_add(struct http_metrics *m, int delta);
void http_metrics_connections_add(struct http_metrics *m, int delta);
void http_metrics_header_timeout(struct http_metrics *m);

/* Expose `name` (Prometheus metric name syntax [a-zA-Z_:][a-zA-Z0-9_:]*) whose value fn(ctx)
 * returns at render time; help is one line of text. Returns 0, -ERR_INVALID (bad name, NULL
 * fn) or -EEXIST (name already exposed). */
int http_metrics_add_fn(struct http_metrics *m, enum http_metric_type type, const char *name,
                        const char *help, http_metric_fn fn, void *ctx);

/* Append the exposition text to out. Returns 0 or -ERR_TOO_BIG (out->max reached). */
int http_metrics_render(struct http_metrics *m, struct buf *out);

bool http_metric_name_is_valid(const char *name);

#endif
