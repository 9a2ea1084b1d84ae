/* SPDX-License-Identifier: Apache-2.0 */
/* The libmicrohttpd adapter: turns MHD's access-handler calls into begin/body/end/abort on a
 * struct http_handler, and guards connections against slow header senders with a deadline
 * that a small watchdog thread enforces (MHD's own timeout only sees inactivity). */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "target.h"

struct route {
    unsigned methods;
    char *path;
    size_t path_len;
    bool prefix;
    char *name;
    struct http_handler h;
    struct http_route_stats *stats;
};

/* One client connection (MHD's socket context). Lives from accept to close. */
struct conn {
    struct conn *prev, *next; /* srv->conns, under conns_lock */
    int fd;
    bool shut; /* the watchdog shut it down (under conns_lock) */
    /* Monotonic ms by which the request headers must be complete; 0 while a request is being
     * served. Written by the connection's thread, read by the watchdog. */
    _Atomic int64_t header_deadline_ms;
    char remote[INET6_ADDRSTRLEN + 10];
};

struct http_server {
    struct http_server_config cfg;
    char *addr;
    VEC(struct route) routes;
    struct http_metrics *metrics;
    struct http_route_stats *unmatched;
    struct MHD_Daemon *mhd;
    int port;
    bool started;

    pthread_mutex_t conns_lock;
    pthread_cond_t watchdog_cv;
    struct conn *conns;
    pthread_t watchdog;
    bool stopping; /* under conns_lock */
};

enum rq_phase {
    RQ_HEADERS,  /* before begin() */
    RQ_BODY,     /* reading the body for the handler */
    RQ_DRAIN,    /* answer ready (in pending); discarding the rest of the body */
    RQ_ANSWERED, /* response queued, or answer ready for a request without body */
};

/* One request: created when MHD has the request line, freed when MHD reports it complete. */
struct rq {
    struct http_server *srv;
    struct conn *conn;
    const struct route *route;
    struct http_route_stats *stats;
    struct arena arena;
    struct http_req req;
    struct http_resp resp;
    const char *target; /* the request-target as sent */
    enum rq_phase phase;
    bool handler_open; /* begin() ran; neither an immediate answer nor end() closed it yet */
    bool queued;       /* MHD accepted our response */
    struct MHD_Response *pending;
    int status;
    uint64_t out_len; /* body bytes of the response */
    uint64_t drained;
    int64_t start_ns;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t now_ms(void)
{
    return now_ns() / 1000000;
}

static void conn_arm_header_deadline(struct http_server *srv, struct conn *c)
{
    if (c)
        atomic_store_explicit(&c->header_deadline_ms,
                              now_ms() + (int64_t)srv->cfg.header_timeout_s * 1000,
                              memory_order_relaxed);
}

/* ---- configuration and routes ---- */

int http_server_new(const struct http_server_config *cfg, struct http_server **out, struct diag *d)
{
    struct http_server_config c = *cfg;
    *out = NULL;
    if (!c.addr || !*c.addr)
        c.addr = "127.0.0.1";
    if (c.port < 0 || c.port > 65535)
        return diag_set(d, -ERR_INVALID, 0, "invalid port %d", c.port);
    if (!c.threads)
        c.threads = 8;
    if (c.threads > 1024)
        return diag_set(d, -ERR_INVALID, 0, "too many threads (%u)", c.threads);
    if (!c.max_conns)
        c.max_conns = 512;
    if (!c.idle_timeout_s)
        c.idle_timeout_s = 30;
    if (!c.header_timeout_s)
        c.header_timeout_s = c.idle_timeout_s;
    if (!c.conn_memory)
        c.conn_memory = (size_t)256 << 10;
    if (c.conn_memory < ((size_t)8 << 10) || c.conn_memory > ((size_t)64 << 20))
        return diag_set(d, -ERR_INVALID, 0, "connection memory %zu outside 8 KiB .. 64 MiB",
                        c.conn_memory);
    if (!c.body_max)
        c.body_max = (size_t)1 << 20;

    struct http_server *srv = xcalloc(1, sizeof(*srv));
    srv->addr = xstrdup(c.addr);
    c.addr = srv->addr;
    srv->cfg = c;
    srv->port = c.port;
    srv->metrics = http_metrics_new();
    srv->unmatched = http_metrics_route(srv->metrics, HTTP_METRICS_UNMATCHED);
    pthread_mutex_init(&srv->conns_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->watchdog_cv, &ca);
    pthread_condattr_destroy(&ca);
    *out = srv;
    return 0;
}

int http_server_route(struct http_server *srv, unsigned method_mask, const char *path, bool prefix,
                      const char *name, const struct http_handler *h)
{
    if (srv->started)
        return -EBUSY;
    if (!path || path[0] != '/' || !name || !*name || !h || !h->begin || !h->end || !method_mask)
        return -ERR_INVALID;
    struct route r = {
        .methods = method_mask,
        .path = xstrdup(path),
        .path_len = strlen(path),
        .prefix = prefix,
        .name = xstrdup(name),
        .h = *h,
        .stats = http_metrics_route(srv->metrics, name),
    };
    VEC_PUSH(&srv->routes, r);
    return 0;
}

static void metrics_begin(void *app, struct http_req *req, struct http_resp *resp)
{
    struct http_server *srv = app;
    resp->status = 200;
    http_resp_header(req, resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    if (http_metrics_render(srv->metrics, &resp->body) != 0) {
        buf_reset(&resp->body);
        resp->status = 500;
    }
}

static void metrics_end(void *app, struct http_req *req, struct http_resp *resp)
{
    (void)app;
    (void)req;
    resp->status = 500; /* not reached: begin() always answers */
}

int http_server_enable_metrics(struct http_server *srv, const char *path)
{
    struct http_handler h = { .app = srv, .begin = metrics_begin, .end = metrics_end };
    return http_server_route(srv, HTTP_GET, path, false, "metrics", &h);
}

int http_server_add_gauge(struct http_server *srv, const char *name, const char *help,
                          double (*fn)(void *), void *ctx)
{
    return http_metrics_add_fn(srv->metrics, HTTP_METRIC_GAUGE, name, help, fn, ctx);
}

int http_server_add_counter(struct http_server *srv, const char *name, const char *help,
                            double (*fn)(void *), void *ctx)
{
    return http_metrics_add_fn(srv->metrics, HTTP_METRIC_COUNTER, name, help, fn, ctx);
}

struct http_metrics *http_server_metrics(struct http_server *srv)
{
    return srv->metrics;
}

int http_server_port(const struct http_server *srv)
{
    return srv->port;
}

static const struct route *route_find(const struct http_server *srv, const char *path,
                                      enum http_method m, unsigned *allow)
{
    *allow = 0;
    for (size_t i = 0; i < srv->routes.n; i++) {
        const struct route *r = &srv->routes.v[i];
        bool match =
            r->prefix ? strncmp(path, r->path, r->path_len) == 0 : strcmp(path, r->path) == 0;
        if (!match)
            continue;
        unsigned methods = r->methods;
        if (methods & HTTP_GET)
            methods |= HTTP_HEAD;
        if (methods & (unsigned)m)
            return r;
        *allow |= methods;
    }
    return NULL;
}

/* ---- responses ---- */

static bool header_ok(const char *name, const char *value)
{
    if (!*name || !*value)
        return false; /* MHD refuses empty values */
    for (const char *p = name; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == ':' || *p == 0x7f)
            return false;
    for (const char *p = value; *p; p++)
        if (*p == '\r' || *p == '\n')
            return false;
    return true;
}

/* Turn rq->resp into an MHD response (the body buffer or the fd moves into it). Sets
 * rq->status and rq->out_len. NULL only when the library fails to allocate. */
static struct MHD_Response *build_response(struct rq *rq)
{
    struct http_resp *r = &rq->resp;
    struct MHD_Response *mr = NULL;
    if (r->status < 100 || r->status > 599) {
        log_warn("http", "route %s answered %s %s with status %d; sending 500",
                 rq->route ? rq->route->name : HTTP_METRICS_UNMATCHED, rq->req.method_str,
                 rq->req.path, r->status);
        r->status = 500;
        buf_reset(&r->body);
        if (r->fd >= 0) {
            close(r->fd);
            r->fd = -1;
        }
    }
    rq->status = r->status;
    if (r->fd >= 0) {
        mr = MHD_create_response_from_fd_at_offset64(r->fd_len, r->fd, r->fd_off);
        if (mr) {
            rq->out_len = r->fd_len;
        } else {
            log_error("http", "cannot send %llu bytes at offset %llu from a file",
                      (unsigned long long)r->fd_len, (unsigned long long)r->fd_off);
            close(r->fd);
            rq->status = 500;
            buf_reset(&r->body);
        }
        r->fd = -1; /* MHD closes it with the response */
    }
    if (!mr) {
        size_t len;
        char *data = buf_detach(&r->body, &len);
        mr = MHD_create_response_from_buffer_with_free_callback(len, data, free);
        if (!mr) {
            free(data);
            return NULL;
        }
        rq->out_len = len;
    }
    if (rq->req.method == HTTP_HEAD || rq->status < 200 || rq->status == 204 || rq->status == 304)
        rq->out_len = 0;

    bool close_conn = r->close;
    for (size_t i = 0; i < r->headers.n; i++) {
        const char *name = r->headers.v[i].name, *value = r->headers.v[i].value;
        if (strcasecmp(name, "Content-Length") == 0 || strcasecmp(name, "Transfer-Encoding") == 0)
            continue; /* the library frames the body itself */
        if (strcasecmp(name, "Connection") == 0) {
            if (strcasestr(value, "close"))
                close_conn = true;
            continue;
        }
        if (!header_ok(name, value) || MHD_add_response_header(mr, name, value) != MHD_YES)
            log_warn("http", "dropped an invalid response header from route %s",
                     rq->route ? rq->route->name : HTTP_METRICS_UNMATCHED);
    }
    if (close_conn)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
    return mr;
}

/* Queue rq->pending; MHD holds its own reference from here. */
static enum MHD_Result queue_pending(struct rq *rq, struct MHD_Connection *c)
{
    struct MHD_Response *mr = rq->pending;
    rq->pending = NULL;
    rq->phase = RQ_ANSWERED;
    if (!mr)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)rq->status, mr);
    MHD_destroy_response(mr);
    rq->queued = ret == MHD_YES;
    return ret;
}

/* The answer in rq->resp is final: queue it now when the request has a body to refuse (MHD
 * then skips 100 Continue, discards the body and closes), or at the next call otherwise, which
 * keeps the connection alive. */
static enum MHD_Result answer(struct rq *rq, struct MHD_Connection *c)
{
    rq->pending = build_response(rq);
    if (!rq->pending)
        return MHD_NO;
    bool has_body = rq->req.chunked || (rq->req.has_content_length && rq->req.content_length);
    if (has_body)
        return queue_pending(rq, c);
    rq->phase = RQ_ANSWERED;
    return MHD_YES;
}

static void answer_plain(struct rq *rq, int status, const char *text)
{
    http_resp_set(&rq->req, &rq->resp, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* end() and prepare the answer; after a body error the connection is not reused. */
static void call_end(struct rq *rq)
{
    rq->route->h.end(rq->route->h.app, &rq->req, &rq->resp);
    rq->handler_open = false;
    if (rq->req.body_err)
        rq->resp.close = true;
    rq->pending = build_response(rq);
}

/* ---- the MHD callbacks ---- */

static enum http_method method_parse(const char *m)
{
    static const struct {
        const char *name;
        enum http_method bit;
    } methods[] = { { "GET", HTTP_GET },        { "HEAD", HTTP_HEAD },   { "POST", HTTP_POST },
                    { "PUT", HTTP_PUT },        { "PATCH", HTTP_PATCH }, { "DELETE", HTTP_DELETE },
                    { "OPTIONS", HTTP_OPTIONS } };
    for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
        if (strcmp(m, methods[i].name) == 0)
            return methods[i].bit;
    return HTTP_OTHER;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct rq *rq = cls;
    (void)kind;
    struct http_kv kv = { arena_strdup(&rq->arena, key),
                          arena_strdup(&rq->arena, value ? value : "") };
    VEC_PUSH(&rq->req.headers, kv);
    return MHD_YES;
}

static struct rq *rq_new(struct http_server *srv, struct MHD_Connection *c, const char *uri)
{
    struct rq *rq = xcalloc(1, sizeof(*rq));
    rq->srv = srv;
    rq->start_ns = now_ns();
    arena_init(&rq->arena);
    rq->req.arena = &rq->arena;
    rq->req.method_str = "";
    rq->req.path = "/";
    rq->req.raw_query = "";
    rq->req.route = HTTP_METRICS_UNMATCHED;
    rq->req.body_max = srv->cfg.body_max;
    buf_init(&rq->req.body, srv->cfg.body_max);
    buf_init(&rq->resp.body, HTTP_RESP_BODY_MAX);
    rq->resp.fd = -1;
    rq->stats = srv->unmatched;
    rq->target = arena_strdup(&rq->arena, uri ? uri : "");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    rq->conn = ci ? ci->socket_context : NULL;
    rq->req.remote = arena_strdup(&rq->arena, rq->conn ? rq->conn->remote : "unknown");
    http_metrics_in_flight_add(srv->metrics, 1);
    return rq;
}

/* MHD_OPTION_URI_LOG_CALLBACK: the request line is in; `uri` is the target as sent. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    return rq_new(cls, c, uri);
}

static enum MHD_Result on_headers(struct rq *rq, struct MHD_Connection *c, const char *method)
{
    struct http_server *srv = rq->srv;
    struct http_req *req = &rq->req;
    if (rq->conn)
        atomic_store_explicit(&rq->conn->header_deadline_ms, 0, memory_order_relaxed);
    req->method_str = arena_strdup(&rq->arena, method);
    req->method = method_parse(method);
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, rq);
    const char *te = http_req_header(req, "Transfer-Encoding");
    req->chunked = te && strcasestr(te, "chunked");
    const char *cl = http_req_header(req, "Content-Length");
    unsigned long long n;
    if (!req->chunked && cl && str_to_u64(str_from(cl), &n)) {
        req->has_content_length = true;
        req->content_length = n;
    }

    int rc = http_target_parse(&rq->arena, rq->target, strlen(rq->target), req);
    if (rc) {
        if (rc == -ERR_TOO_BIG)
            answer_plain(rq, 414, "414 request target too long\n");
        else
            answer_plain(rq, 400, "400 bad request target\n");
        return answer(rq, c);
    }
    unsigned allow;
    const struct route *r = route_find(srv, req->path, req->method, &allow);
    if (!r && !allow) {
        answer_plain(rq, 404, "404 page not found\n");
        return answer(rq, c);
    }
    if (!r) {
        struct buf b;
        buf_init(&b, 256);
        for (unsigned bit = HTTP_GET; bit < HTTP_OTHER; bit <<= 1)
            if (allow & bit)
                buf_printf(&b, "%s%s", b.len ? ", " : "", http_method_name(bit));
        http_resp_header(req, &rq->resp, "Allow", "%s", buf_cstr(&b));
        buf_release(&b);
        answer_plain(rq, 405, "405 method not allowed\n");
        return answer(rq, c);
    }
    rq->route = r;
    rq->stats = r->stats;
    req->route = r->name;
    rq->handler_open = true;
    r->h.begin(r->h.app, req, &rq->resp);
    if (rq->resp.status) {
        rq->handler_open = false; /* answered at once: no end(), no abort() */
        return answer(rq, c);
    }
    if (req->stream && !r->h.body) {
        log_error("http", "route %s streams a body without a body() callback", r->name);
        req->body_err = -ERR_INTERNAL;
    }
    req->body.max = req->stream ? 0 : req->body_max;
    if (!req->stream && req->has_content_length && req->content_length > req->body_max)
        req->body_err = -ERR_TOO_BIG; /* refused before reading any of it */
    if (req->body_err) {
        call_end(rq);
        if (!rq->pending)
            return MHD_NO;
        return queue_pending(rq, c);
    }
    rq->phase = RQ_BODY;
    return MHD_YES;
}

static enum MHD_Result on_body(struct rq *rq, const char *data, size_t n)
{
    struct http_req *req = &rq->req;
    if (rq->phase != RQ_BODY) {
        /* answered already: throw the rest away, up to a bound */
        rq->drained += n;
        return rq->drained > HTTP_DRAIN_MAX ? MHD_NO : MHD_YES;
    }
    req->body_bytes += n;
    int rc = req->stream ? rq->route->h.body(rq->route->h.app, req, data, n)
                         : buf_append(&req->body, data, n);
    if (rc == 0)
        return MHD_YES;
    req->body_err = rc;
    call_end(rq);
    if (!rq->pending)
        return MHD_NO;
    rq->phase = RQ_DRAIN;
    if (req->has_content_length && req->content_length - req->body_bytes > HTTP_DRAIN_MAX)
        return MHD_NO; /* too much left to read: close without an answer */
    return MHD_YES;
}

/* The MHD access handler: called once when the headers are in, once per body chunk, and once
 * more with no data when the body is complete. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct rq *rq = *con_cls;
    if (!rq) {
        /* not expected (the URI callback runs first); keep going with the decoded URL */
        rq = rq_new(cls, c, url);
        *con_cls = rq;
    }
    if (rq->phase == RQ_HEADERS)
        return on_headers(rq, c, method);
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        return on_body(rq, upload_data, n);
    }
    if (rq->phase == RQ_BODY)
        call_end(rq);
    if (rq->queued)
        return MHD_YES;
    return queue_pending(rq, c);
}

static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:
        return "ok";
    case MHD_REQUEST_TERMINATED_WITH_ERROR:
        return "error";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return "shutdown";
    case MHD_REQUEST_TERMINATED_READ_ERROR:
        return "read_error";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
        return "client_abort";
    }
    return "unknown";
}

static void access_log(const struct rq *rq, int status, uint64_t out, double secs,
                       enum MHD_RequestTerminationCode toe)
{
    char method[24], path[512], principal[128];
    const char *t = rq->target;
    const char *q = strchr(t, '?');
    http_log_escape(rq->req.method_str, strlen(rq->req.method_str), method, sizeof(method));
    http_log_escape(t, q ? (size_t)(q - t) : strlen(t), path, sizeof(path));
    if (rq->req.principal)
        http_log_escape(rq->req.principal, strlen(rq->req.principal), principal, sizeof(principal));
    else
        memcpy(principal, "-", 2);
    log_info("http",
             "method=%s path=%s route=%s status=%d in=%llu out=%llu ms=%.1f remote=%s "
             "principal=%s%s%s",
             method[0] ? method : "-", path[0] ? path : "-", rq->req.route, status,
             (unsigned long long)(rq->req.body_bytes + rq->drained), (unsigned long long)out,
             secs * 1000, rq->req.remote, principal,
             toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " end=",
             toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : termination_name(toe));
}

/* MHD_OPTION_NOTIFY_COMPLETED: the request is over, answered or not. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *srv = cls;
    struct rq *rq = *con_cls;
    *con_cls = NULL;
    if (!rq)
        return;
    conn_arm_header_deadline(srv, rq->conn); /* for the next request on this connection */
    if (rq->handler_open && rq->route->h.abort)
        rq->route->h.abort(rq->route->h.app, &rq->req);
    if (rq->pending)
        MHD_destroy_response(rq->pending);
    if (rq->resp.fd >= 0)
        close(rq->resp.fd);

    double secs = (double)(now_ns() - rq->start_ns) / 1e9;
    int status = rq->queued ? rq->status : 0;
    if (!status) {
        /* an error answer of the library's own (400, 413, 431, 505) */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
        if (ci)
            status = (int)ci->http_status;
    }
    uint64_t out = rq->queued && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? rq->out_len : 0;
    http_metrics_request_done(srv->metrics, rq->stats, status, rq->req.body_bytes + rq->drained,
                              out, secs);
    if (srv->cfg.access_log)
        access_log(rq, status, out, secs, toe);

    VEC_FREE(&rq->req.headers);
    VEC_FREE(&rq->req.query);
    VEC_FREE(&rq->resp.headers);
    buf_release(&rq->req.body);
    buf_release(&rq->resp.body);
    arena_release(&rq->arena);
    free(rq);
    http_metrics_in_flight_add(srv->metrics, -1);
}

static void format_remote(const struct sockaddr *sa, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN];
    if (sa && sa->sa_family == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof(in));
        inet_ntop(AF_INET, &in.sin_addr, host, sizeof(host));
        snprintf(out, cap, "%s:%u", host, (unsigned)ntohs(in.sin_port));
    } else if (sa && sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof(in6));
        inet_ntop(AF_INET6, &in6.sin6_addr, host, sizeof(host));
        snprintf(out, cap, "[%s]:%u", host, (unsigned)ntohs(in6.sin6_port));
    } else {
        snprintf(out, cap, "unknown");
    }
}

/* MHD_OPTION_NOTIFY_CONNECTION: track open connections for the header watchdog. MHD reports
 * the close before it closes the socket, so a listed connection's fd is always still ours. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn *cn = xcalloc(1, sizeof(*cn));
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        cn->fd = ci ? ci->connect_fd : -1;
        ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        format_remote(ci ? ci->client_addr : NULL, cn->remote, sizeof(cn->remote));
        conn_arm_header_deadline(srv, cn);
        pthread_mutex_lock(&srv->conns_lock);
        cn->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = cn;
        srv->conns = cn;
        pthread_mutex_unlock(&srv->conns_lock);
        *socket_context = cn;
        http_metrics_connections_add(srv->metrics, 1);
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct conn *cn = *socket_context;
        if (!cn)
            return;
        *socket_context = NULL;
        pthread_mutex_lock(&srv->conns_lock);
        if (cn->prev)
            cn->prev->next = cn->next;
        else
            srv->conns = cn->next;
        if (cn->next)
            cn->next->prev = cn->prev;
        pthread_mutex_unlock(&srv->conns_lock);
        free(cn);
        http_metrics_connections_add(srv->metrics, -1);
    }
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (LOG_INFO > log_threshold)
        return;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_info("http", "libmicrohttpd: %s", msg);
}

/* ---- header watchdog ---- */

/* MHD's timeout restarts with every byte, so a client that sends its headers one byte at a
 * time would hold a connection for ever. This thread shuts down connections whose headers are
 * not complete by their deadline; MHD then sees the socket end and closes it. */
static void *watchdog_main(void *arg)
{
    struct http_server *srv = arg;
    int64_t period_ms = (int64_t)srv->cfg.header_timeout_s * 1000 / 4;
    if (period_ms < 50)
        period_ms = 50;
    if (period_ms > 1000)
        period_ms = 1000;
    pthread_mutex_lock(&srv->conns_lock);
    while (!srv->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)(period_ms % 1000) * 1000000;
        ts.tv_sec += period_ms / 1000 + ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&srv->watchdog_cv, &srv->conns_lock, &ts);
        if (srv->stopping)
            break;
        int64_t now = now_ms();
        for (struct conn *cn = srv->conns; cn; cn = cn->next) {
            int64_t dl = atomic_load_explicit(&cn->header_deadline_ms, memory_order_relaxed);
            if (cn->shut || !dl || now < dl || cn->fd < 0)
                continue;
            cn->shut = true;
            shutdown(cn->fd, SHUT_RDWR);
            http_metrics_header_timeout(srv->metrics);
            log_info("http", "closed connection from %s: request headers not complete in %us",
                     cn->remote, srv->cfg.header_timeout_s);
        }
    }
    pthread_mutex_unlock(&srv->conns_lock);
    return NULL;
}

/* ---- start and stop ---- */

static int listen_socket(struct http_server *srv, int *out, struct diag *d)
{
    char host[256];
    const char *a = srv->addr;
    size_t alen = strlen(a);
    if (a[0] == '[' && alen >= 2 && a[alen - 1] == ']') {
        a++;
        alen -= 2;
    }
    if (alen >= sizeof(host))
        return diag_set(d, -ERR_INVALID, 0, "listen address '%s' is too long", srv->addr);
    memcpy(host, a, alen);
    host[alen] = '\0';
    char port[16];
    snprintf(port, sizeof(port), "%d", srv->cfg.port);
    bool v6 = strchr(host, ':') != NULL;
    char shown[300];
    snprintf(shown, sizeof(shown), v6 ? "[%s]:%s" : "%s:%s", host, port);

    struct addrinfo hints = { .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0)
        return diag_set(d, -ERR_INVALID, 0, "cannot resolve listen address %s: %s", shown,
                        gai_strerror(gai));
    int rc = -EADDRNOTAVAIL, fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
            rc = -errno;
            continue;
        }
        int one = 1, zero = 0;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6) {
            struct sockaddr_in6 sin6;
            memcpy(&sin6, ai->ai_addr, sizeof(sin6));
            /* "::" serves IPv4 too, whatever net.ipv6.bindv6only says */
            if (IN6_IS_ADDR_UNSPECIFIED(&sin6.sin6_addr))
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
            rc = -errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return diag_set(d, rc, 0, "cannot listen on %s: %s", shown, strerror(-rc));
    struct sockaddr_storage ss = { 0 };
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            srv->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            srv->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    *out = fd;
    return 0;
}

int http_server_start(struct http_server *srv, struct diag *d)
{
    if (srv->started)
        return diag_set(d, -EBUSY, 0, "the HTTP server is already running");
    /* a peer that goes away mid-response must not kill the process; telling MHD so also lets
     * it use sendfile() for file bodies */
    signal(SIGPIPE, SIG_IGN);
    int fd = -1;
    int rc = listen_socket(srv, &fd, d);
    if (rc)
        return rc;
    /* poll(), not epoll: libmicrohttpd 0.9.75 in edge-triggered epoll mode takes a short read
     * as "drained", so a client's FIN that arrives behind the last body bytes goes unseen and
     * the request is only aborted at the idle timeout. poll() over a pool thread's share of
     * the connections costs nothing measurable here (see bench/http_bench.c). */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
    const struct http_server_config *c = &srv->cfg;
    srv->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_THREAD_POOL_SIZE, c->threads > 1 ? c->threads : 0u,
        MHD_OPTION_CONNECTION_LIMIT, c->max_conns, MHD_OPTION_CONNECTION_TIMEOUT, c->idle_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, c->conn_memory, MHD_OPTION_CONNECTION_MEMORY_INCREMENT,
        (size_t)4096, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
        MHD_OPTION_SIGPIPE_HANDLED_BY_APP, 1, MHD_OPTION_END);
    if (!srv->mhd) {
        close(fd);
        return diag_set(d, -EIO, 0, "cannot start the HTTP server on %s port %d", srv->addr,
                        srv->port);
    }
    srv->stopping = false;
    rc = pthread_create(&srv->watchdog, NULL, watchdog_main, srv);
    if (rc) {
        MHD_stop_daemon(srv->mhd);
        srv->mhd = NULL;
        return diag_set(d, -rc, 0, "cannot start the header watchdog: %s", strerror(rc));
    }
    srv->started = true;
    log_info("http", "listening on %s port %d", srv->addr, srv->port);
    return 0;
}

void http_server_stop(struct http_server *srv)
{
    if (!srv->started)
        return;
    pthread_mutex_lock(&srv->conns_lock);
    srv->stopping = true;
    pthread_cond_signal(&srv->watchdog_cv);
    pthread_mutex_unlock(&srv->conns_lock);
    pthread_join(srv->watchdog, NULL);
    MHD_stop_daemon(srv->mhd); /* closes the listening socket too */
    srv->mhd = NULL;
    srv->started = false;
}

void http_server_free(struct http_server *srv)
{
    if (!srv)
        return;
    http_server_stop(srv);
    for (size_t i = 0; i < srv->routes.n; i++) {
        free(srv->routes.v[i].path);
        free(srv->routes.v[i].name);
    }
    VEC_FREE(&srv->routes);
    http_metrics_free(srv->metrics);
    pthread_cond_destroy(&srv->watchdog_cv);
    pthread_mutex_destroy(&srv->conns_lock);
    free(srv->addr);
    free(srv);
}
