/* SPDX-License-Identifier: Apache-2.0 */
/* vigil's HTTP server: a libmicrohttpd daemon (a pool of poll() threads) that routes requests by
 * path and method to struct http_handler (base/http_msg.h), streams or buffers request bodies,
 * sends responses from memory or from a file (sendfile), guards against slow and oversized
 * clients, logs each request and serves its own metrics. */
#ifndef VIGIL_HTTP_SERVER_H
#define VIGIL_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/http_msg.h"
#include "metrics.h"

/* Cap of an in-memory response body (resp->body.max). Larger payloads go through resp->fd. */
#define HTTP_RESP_BODY_MAX (256u << 20)
/* After a body error (too big for body_max, or body() failed) the adapter reads and discards
 * at most this much more of the body so that the client can read the answer; a longer rest
 * makes it close the connection without an answer. */
#define HTTP_DRAIN_MAX (1u << 20)

struct http_server_config {
    /* Listen address: an IPv4 or IPv6 literal ("127.0.0.1", "0.0.0.0", "::1", "[::1]") or a
     * host name. "::" listens on IPv6 and IPv4 both. NULL = "127.0.0.1". */
    const char *addr;
    int port;                  /* 0 = an ephemeral port (see http_server_port) */
    unsigned threads;          /* request threads; 0 = 8 (at most 1024) */
    unsigned max_conns;        /* open connections; 0 = 512 */
    unsigned idle_timeout_s;   /* a connection that sends and receives nothing is closed; 0 = 30 */
    unsigned header_timeout_s; /* request headers must be complete this long after the
                                * connection opened or the previous response ended (slow header
                                * senders); 0 = idle_timeout_s */
    size_t conn_memory;        /* per-connection memory: request line and headers must fit, and
                                * it bounds the upload read size; 0 = 256 KiB (8 KiB .. 64 MiB) */
    size_t body_max;           /* req->body_max before begin(); 0 = 1 MiB */
    bool access_log;           /* one log_info("http", ...) line per request */
};

struct http_server;

/* Check cfg (copied) and make a server with no routes. Errors: -ERR_INVALID with d set. */
int http_server_new(const struct http_server_config *cfg, struct http_server **out, struct diag *d);

/* Route requests whose path equals `path` (or starts with it, when prefix) and whose method
 * is in method_mask (HTTP_* bits; a route with HTTP_GET also takes HEAD) to h, which is
 * copied (h->app is borrowed and must outlive the server). Routes are tried in the order
 * they were added; the first that matches path and method wins. A path that some route
 * matches but with another method gets 405 with Allow; no match at all gets 404. name labels
 * the route in metrics and the access log (routes may share a name). begin and end are
 * required; body is required if begin() may set req->stream. Only before
 * http_server_start(). Returns 0, -ERR_INVALID, or -EBUSY when started. */
int http_server_route(struct http_server *srv, unsigned method_mask, const char *path, bool prefix,
                      const char *name, const struct http_handler *h);

/* Serve the metrics (Prometheus text format 0.0.4) on GET `path`, route name "metrics".
 * Same rules as http_server_route. */
int http_server_enable_metrics(struct http_server *srv, const char *path);

/* Expose a value that fn(ctx) returns whenever the metrics are read (called with a lock held,
 * on an HTTP thread: keep it quick, never call back into the server). name must be a valid
 * Prometheus metric name and not used yet. May be called at any time before
 * http_server_free(). Returns 0, -ERR_INVALID or -EEXIST. */
int http_server_add_gauge(struct http_server *srv, const char *name, const char *help,
                          double (*fn)(void *), void *ctx);
/* Same for a monotonically increasing value (TYPE counter). */
int http_server_add_counter(struct http_server *srv, const char *name, const char *help,
                            double (*fn)(void *), void *ctx);

/* Bind, listen and start serving. Ignores SIGPIPE for the whole process (sendfile needs it).
 * Errors: -errno of bind()/listen() or -ERR_INVALID (address does not resolve), -EIO (the
 * library refused to start), -EBUSY (already started); d names the address. */
int http_server_start(struct http_server *srv, struct diag *d);

/* The port listened on after a successful start (the configured one otherwise). */
int http_server_port(const struct http_server *srv);

/* Stop listening and end all connections; requests in progress get abort(). Waits for the
 * request threads. No-op when not started. The server may be started again. */
void http_server_stop(struct http_server *srv);

/* Stop if needed and free. NULL is a no-op. */
void http_server_free(struct http_server *srv);

/* The metrics of this server (for tests and for modules that want the counters). */
struct http_metrics *http_server_metrics(struct http_server *srv);

#endif
