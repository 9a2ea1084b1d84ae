/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for src/http (the libmicrohttpd adapter, request-target parsing, metrics) and the
 * HTTP helpers in src/base/http_msg.c. Servers run on 127.0.0.1 with an ephemeral port and are
 * driven by libcurl and by raw sockets; every wait is bounded. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/hash.h"
#include "base/http_msg.h"
#include "base/http_range.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "http/metrics.h"
#include "http/server.h"
#include "http/target.h"
#include "test.h"

/* ---- helpers without a server ---- */

TEST(http_msg_helpers)
{
    struct arena a;
    arena_init(&a);
    struct http_req req = { .arena = &a };
    struct http_kv h1 = { "Content-Type", "text/plain" }, h2 = { "X-Dup", "one" },
                   h3 = { "x-dup", "two" };
    VEC_PUSH(&req.headers, h1);
    VEC_PUSH(&req.headers, h2);
    VEC_PUSH(&req.headers, h3);
    ASSERT_STREQ(http_req_header(&req, "content-type"), "text/plain");
    ASSERT_STREQ(http_req_header(&req, "X-DUP"), "one");
    ASSERT_TRUE(http_req_header(&req, "Accept") == NULL);
    struct http_kv q1 = { "n", "10" }, q2 = { "N", "20" };
    VEC_PUSH(&req.query, q1);
    VEC_PUSH(&req.query, q2);
    ASSERT_STREQ(http_req_query(&req, "n"), "10");
    ASSERT_STREQ(http_req_query(&req, "N"), "20");
    ASSERT_TRUE(http_req_query(&req, "last") == NULL);

    struct http_resp resp = { .fd = -1 };
    buf_init(&resp.body, 16);
    http_resp_header(&req, &resp, "Location", "/v2/%s/blobs/%d", "repo", 42);
    http_resp_set(&req, &resp, 201, "application/json", "{}", 2);
    ASSERT_EQ(resp.status, 201);
    ASSERT_EQ(resp.headers.n, 2);
    ASSERT_STREQ(resp.headers.v[0].value, "/v2/repo/blobs/42");
    ASSERT_STREQ(resp.headers.v[1].name, "Content-Type");
    ASSERT_STREQ(buf_cstr(&resp.body), "{}");
    /* a second call replaces the Content-Type and the body */
    http_resp_set(&req, &resp, 200, "text/plain", "ok", 2);
    ASSERT_EQ(resp.headers.n, 2);
    ASSERT_STREQ(resp.headers.v[1].value, "text/plain");
    ASSERT_STREQ(buf_cstr(&resp.body), "ok");
    /* NULL content type leaves the header alone; a body over the cap becomes a 500 */
    http_resp_set(&req, &resp, 200, NULL, "0123456789abcdefXYZ", 19);
    ASSERT_EQ(resp.status, 500);
    ASSERT_EQ(resp.body.len, 0);
    ASSERT_STREQ(resp.headers.v[1].value, "text/plain");

    ASSERT_STREQ(http_method_name(HTTP_PATCH), "PATCH");
    ASSERT_STREQ(http_method_name(HTTP_OPTIONS), "OPTIONS");
    ASSERT_STREQ(http_method_name(HTTP_OTHER), "OTHER");
    VEC_FREE(&req.headers);
    VEC_FREE(&req.query);
    VEC_FREE(&resp.headers);
    buf_release(&resp.body);
    arena_release(&a);
}

TEST(http_range_parse)
{
    static const struct {
        const char *value;
        uint64_t size;
        enum http_range_result want;
        uint64_t off, len;
    } cases[] = {
        { NULL, 100, HTTP_RANGE_FULL, 0, 0 },
        { "bytes=0-9", 100, HTTP_RANGE_PARTIAL, 0, 10 },
        { "bytes=10-", 100, HTTP_RANGE_PARTIAL, 10, 90 },
        { "bytes=-10", 100, HTTP_RANGE_PARTIAL, 90, 10 },
        { "bytes=-1000", 100, HTTP_RANGE_PARTIAL, 0, 100 },
        { "bytes=50-1000", 100, HTTP_RANGE_PARTIAL, 50, 50 },
        { "bytes=99-99", 100, HTTP_RANGE_PARTIAL, 99, 1 },
        { "BYTES=1-2", 100, HTTP_RANGE_PARTIAL, 1, 2 },
        { " bytes= 5-6 ", 100, HTTP_RANGE_PARTIAL, 5, 2 },
        { "bytes=,5-6,", 100, HTTP_RANGE_PARTIAL, 5, 2 },
        { "bytes=0-18446744073709551615", 100, HTTP_RANGE_PARTIAL, 0, 100 },
        { "bytes=0-99999999999999999999999", 100, HTTP_RANGE_PARTIAL, 0, 100 },
        { "bytes=-99999999999999999999999", 100, HTTP_RANGE_PARTIAL, 0, 100 },
        { "bytes=100-", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=100-200", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=99999999999999999999999-", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=-0", 100, HTTP_RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=0-0", 0, HTTP_RANGE_UNSATISFIABLE, 0, 0 },
        { "bytes=-5", 0, HTTP_RANGE_FULL, 0, 0 },
        { "bytes=5-4", 100, HTTP_RANGE_FULL, 0, 0 },
        { "bytes=0-1,3-4", 100, HTTP_RANGE_FULL, 0, 0 },
        { "bytes=", 100, HTTP_RANGE_FULL, 0, 0 },
        { "bytes=-", 100, HTTP_RANGE_FULL, 0, 0 },
        { "bytes=a-b", 100, HTTP_RANGE_FULL, 0, 0 },
        { "bytes=1-2x", 100, HTTP_RANGE_FULL, 0, 0 },
        { "bytes=1", 100, HTTP_RANGE_FULL, 0, 0 },
        { "bytes=+1-2", 100, HTTP_RANGE_FULL, 0, 0 },
        { "items=0-1", 100, HTTP_RANGE_FULL, 0, 0 },
        { "bytes 0-1", 100, HTTP_RANGE_FULL, 0, 0 },
        { "", 100, HTTP_RANGE_FULL, 0, 0 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t off = 12345, len = 12345;
        enum http_range_result r = http_parse_range(cases[i].value, cases[i].size, &off, &len);
        if (r != cases[i].want)
            test_fail(__FILE__, __LINE__, "'%s' size %llu: result %d, want %d",
                      cases[i].value ? cases[i].value : "(null)", (unsigned long long)cases[i].size,
                      (int)r, (int)cases[i].want);
        if (r == HTTP_RANGE_PARTIAL) {
            ASSERT_EQ(off, cases[i].off);
            ASSERT_EQ(len, cases[i].len);
        } else {
            ASSERT_EQ(off, 12345);
        }
    }
    /* an overlong value is ignored, even when it starts well */
    char *big = xmalloc(HTTP_RANGE_VALUE_MAX + 16);
    memset(big, ' ', HTTP_RANGE_VALUE_MAX + 15);
    memcpy(big, "bytes=0-1", 9);
    big[HTTP_RANGE_VALUE_MAX + 15] = '\0';
    uint64_t off, len;
    ASSERT_EQ(http_parse_range(big, 100, &off, &len), HTTP_RANGE_FULL);
    big[HTTP_RANGE_VALUE_MAX - 1] = '\0';
    ASSERT_EQ(http_parse_range(big, 100, &off, &len), HTTP_RANGE_PARTIAL);
    free(big);
}

TEST(http_target_parse_cases)
{
    struct arena a;
    arena_init(&a);
    struct http_req req = { .arena = &a };
    const char *t = "/v2/lib%2Fx/tags/list?n=10&last=a%2Fb&q=x+y%20z&flag&=v&&bad=%zz&nul=%00";
    ASSERT_EQ(http_target_parse(&a, t, strlen(t), &req), 0);
    ASSERT_STREQ(req.path, "/v2/lib/x/tags/list");
    ASSERT_STREQ(req.raw_query, "n=10&last=a%2Fb&q=x+y%20z&flag&=v&&bad=%zz&nul=%00");
    ASSERT_EQ(req.query.n, 7);
    ASSERT_STREQ(req.query.v[0].name, "n");
    ASSERT_STREQ(req.query.v[0].value, "10");
    ASSERT_STREQ(req.query.v[1].value, "a/b");
    ASSERT_STREQ(req.query.v[2].value, "x y z");
    ASSERT_STREQ(req.query.v[3].name, "flag");
    ASSERT_STREQ(req.query.v[3].value, "");
    ASSERT_STREQ(req.query.v[4].name, "");
    ASSERT_STREQ(req.query.v[4].value, "v");
    ASSERT_STREQ(req.query.v[5].value, "%zz");
    ASSERT_STREQ(req.query.v[6].value, "%00");
    VEC_FREE(&req.query);

    static const struct {
        const char *target;
        int want;
    } bad[] = {
        { "", -ERR_INVALID },       { "v2/", -ERR_INVALID },        { "*", -ERR_INVALID },
        { "/a%00b", -ERR_INVALID }, { "/a%zz", -ERR_INVALID },      { "/a%2", -ERR_INVALID },
        { "/a b", -ERR_INVALID },   { "/a\tb", -ERR_INVALID },      { "/a\x7f", -ERR_INVALID },
        { "?x=1", -ERR_INVALID },   { "http://h/x", -ERR_INVALID },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct http_req r = { .arena = &a };
        if (http_target_parse(&a, bad[i].target, strlen(bad[i].target), &r) != bad[i].want)
            test_fail(__FILE__, __LINE__, "'%s' was not rejected", bad[i].target);
        ASSERT_TRUE(r.path != NULL && r.raw_query != NULL);
        VEC_FREE(&r.query);
    }
    /* plain path, UTF-8 bytes pass through, '+' stays in a path */
    struct http_req r2 = { .arena = &a };
    ASSERT_EQ(http_target_parse(&a, "/a+b/\xc3\xa9", 7, &r2), 0);
    ASSERT_STREQ(r2.path, "/a+b/\xc3\xa9");
    ASSERT_STREQ(r2.raw_query, "");
    ASSERT_EQ(r2.query.n, 0);

    /* the argument cap */
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_append_cstr(&b, "/x?");
    for (int i = 0; i <= HTTP_QUERY_ARGS_MAX; i++)
        buf_printf(&b, "a%d=1&", i);
    struct http_req r3 = { .arena = &a };
    ASSERT_EQ(http_target_parse(&a, b.data, b.len, &r3), -ERR_TOO_BIG);
    VEC_FREE(&r3.query);
    buf_release(&b);
    arena_release(&a);
}

TEST(http_log_escape_cases)
{
    char out[16];
    ASSERT_STREQ(http_log_escape("/v2/x", 5, out, sizeof(out)), "/v2/x");
    ASSERT_STREQ(http_log_escape("a b\"c\n", 6, out, sizeof(out)), "a%20b%22c%0A");
    ASSERT_STREQ(http_log_escape("0123456789abcdefghij", 20, out, sizeof(out)), "0123456789ab...");
    ASSERT_STREQ(http_log_escape("0123456789a\n", 12, out, sizeof(out)), "0123456789a...");
    char tiny[3];
    ASSERT_STREQ(http_log_escape("abc", 3, tiny, sizeof(tiny)), "");
}

static double gauge_42(void *ctx)
{
    (void)ctx;
    return 42.5;
}

TEST(http_metrics_render_text)
{
    struct http_metrics *m = http_metrics_new();
    struct http_route_stats *rs = http_metrics_route(m, "we\"ird");
    ASSERT_TRUE(http_metrics_route(m, "we\"ird") == rs);
    http_metrics_request_done(m, rs, 200, 10, 20, 0.001);
    http_metrics_request_done(m, rs, 200, 1, 2, 0.2);
    http_metrics_request_done(m, rs, 404, 0, 0, 100);
    http_metrics_request_done(m, rs, 0, 5, 0, 1000);
    http_metrics_in_flight_add(m, 3);
    http_metrics_in_flight_add(m, -1);
    ASSERT_EQ(
        http_metrics_add_fn(m, HTTP_METRIC_GAUGE, "vigil_test_value", "A\nvalue", gauge_42, NULL),
        0);
    ASSERT_EQ(
        http_metrics_add_fn(m, HTTP_METRIC_GAUGE, "vigil_test_value", "again", gauge_42, NULL),
        -EEXIST);
    ASSERT_EQ(http_metrics_add_fn(m, HTTP_METRIC_GAUGE, "1bad", "", gauge_42, NULL), -ERR_INVALID);
    ASSERT_EQ(http_metrics_add_fn(m, HTTP_METRIC_GAUGE, "bad-name", "", gauge_42, NULL),
              -ERR_INVALID);
    ASSERT_EQ(http_metrics_add_fn(m, HTTP_METRIC_GAUGE, "ok_name", "", NULL, NULL), -ERR_INVALID);
    struct buf b;
    buf_init(&b, 1 << 20);
    ASSERT_EQ(http_metrics_render(m, &b), 0);
    const char *t = buf_cstr(&b);
    ASSERT_TRUE(strstr(t, "vigil_http_requests_total{route=\"we\\\"ird\",code=\"200\"} 2\n"));
    ASSERT_TRUE(strstr(t, "vigil_http_requests_total{route=\"we\\\"ird\",code=\"404\"} 1\n"));
    ASSERT_TRUE(strstr(t, "vigil_http_requests_aborted_total{route=\"we\\\"ird\"} 1\n"));
    ASSERT_TRUE(strstr(t, "vigil_http_request_bytes_total 16\n"));
    ASSERT_TRUE(strstr(t, "vigil_http_response_bytes_total 22\n"));
    ASSERT_TRUE(strstr(t, "vigil_http_requests_in_flight 2\n"));
    ASSERT_TRUE(strstr(t, "# TYPE vigil_http_requests_total counter\n"));
    ASSERT_TRUE(strstr(t, "# HELP vigil_test_value A\\nvalue\n# TYPE vigil_test_value gauge\n"
                          "vigil_test_value 42.5\n"));
    /* histogram: cumulative buckets, +Inf equals the count */
    ASSERT_TRUE(strstr(t, "vigil_http_request_duration_seconds_bucket{route=\"we\\\"ird\","
                          "le=\"0.005\"} 1\n"));
    ASSERT_TRUE(strstr(t, "vigil_http_request_duration_seconds_bucket{route=\"we\\\"ird\","
                          "le=\"0.25\"} 2\n"));
    ASSERT_TRUE(strstr(t, "vigil_http_request_duration_seconds_bucket{route=\"we\\\"ird\","
                          "le=\"300\"} 3\n"));
    ASSERT_TRUE(strstr(t, "vigil_http_request_duration_seconds_bucket{route=\"we\\\"ird\","
                          "le=\"+Inf\"} 4\n"));
    ASSERT_TRUE(strstr(t, "vigil_http_request_duration_seconds_count{route=\"we\\\"ird\"} 4\n"));
    /* a full buffer is reported, not overrun */
    struct buf small;
    buf_init(&small, 100);
    ASSERT_EQ(http_metrics_render(m, &small), -ERR_TOO_BIG);
    ASSERT_TRUE(small.len <= 100);
    buf_release(&small);
    buf_release(&b);
    http_metrics_free(m);
}

/* ---- a test application ---- */

struct app {
    atomic_int begins, ends, aborts, stream_ends;
    atomic_int last_body_err;
    atomic_ullong last_body_bytes;
    char file_path[512];
};

static struct app app;

struct stream_state {
    struct sha256 h;
    uint64_t n;
    uint64_t fail_at; /* 0 = never */
};

static void echo_begin(void *p, struct http_req *req, struct http_resp *resp)
{
    struct app *a = p;
    (void)resp;
    atomic_fetch_add(&a->begins, 1);
    const char *max = http_req_query(req, "body_max");
    unsigned long long v;
    if (max && str_to_u64(str_from(max), &v))
        req->body_max = v;
}

static void echo_end(void *p, struct http_req *req, struct http_resp *resp)
{
    struct app *a = p;
    atomic_fetch_add(&a->ends, 1);
    atomic_store(&a->last_body_err, req->body_err);
    atomic_store(&a->last_body_bytes, req->body_bytes);
    if (req->body_err) {
        http_resp_set(req, resp, err_http_status(req->body_err), "text/plain", "too big\n", 8);
        return;
    }
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_printf(&b, "method=%s\npath=%s\nraw_query=%s\nroute=%s\n", req->method_str, req->path,
               req->raw_query, req->route);
    for (size_t i = 0; i < req->query.n; i++)
        buf_printf(&b, "q=%s=%s\n", req->query.v[i].name, req->query.v[i].value);
    for (size_t i = 0; i < req->headers.n; i++)
        buf_printf(&b, "h=%s: %s\n", req->headers.v[i].name, req->headers.v[i].value);
    buf_printf(&b, "remote=%s\ncl=%llu/%d\nchunked=%d\nbody_len=%zu\nbody=%s\n", req->remote,
               (unsigned long long)req->content_length, req->has_content_length, req->chunked,
               req->body.len, buf_cstr(&req->body));
    http_resp_header(req, resp, "X-Test", "yes");
    http_resp_set(req, resp, 200, "text/plain", b.data, b.len);
    buf_release(&b);
    req->principal = "tester";
}

static void stream_begin(void *p, struct http_req *req, struct http_resp *resp)
{
    struct app *a = p;
    (void)resp;
    atomic_fetch_add(&a->begins, 1);
    struct stream_state *st = arena_zalloc(req->arena, sizeof(*st));
    sha256_init(&st->h);
    const char *f = http_req_query(req, "fail_at");
    unsigned long long v;
    if (f && str_to_u64(str_from(f), &v))
        st->fail_at = v;
    req->state = st;
    req->stream = true;
}

static int stream_body(void *p, struct http_req *req, const char *data, size_t len)
{
    (void)p;
    struct stream_state *st = req->state;
    sha256_update(&st->h, data, len);
    st->n += len;
    if (st->fail_at && st->n >= st->fail_at)
        return -ERR_INVALID;
    return 0;
}

static void stream_end(void *p, struct http_req *req, struct http_resp *resp)
{
    struct app *a = p;
    struct stream_state *st = req->state;
    unsigned char d[SHA256_LEN];
    char hex[2 * SHA256_LEN + 1];
    sha256_final(&st->h, d);
    hex_encode(d, SHA256_LEN, hex);
    req->state = NULL;
    atomic_store(&a->last_body_err, req->body_err);
    atomic_store(&a->last_body_bytes, req->body_bytes);
    atomic_fetch_add(&a->stream_ends, 1);
    if (req->body_err) {
        http_resp_set(req, resp, err_http_status(req->body_err), "text/plain", "failed\n", 7);
        return;
    }
    char out[200];
    int n = snprintf(out, sizeof(out), "bytes=%llu sha256=%s body_len=%zu",
                     (unsigned long long)st->n, hex, req->body.len);
    http_resp_set(req, resp, 200, "text/plain", out, (size_t)n);
}

static void stream_abort(void *p, struct http_req *req)
{
    struct app *a = p;
    struct stream_state *st = req->state;
    if (st)
        sha256_release(&st->h);
    req->state = NULL;
    atomic_fetch_add(&a->aborts, 1);
}

static void file_begin(void *p, struct http_req *req, struct http_resp *resp)
{
    struct app *a = p;
    unsigned long long off = 0, len = 0;
    const char *o = http_req_query(req, "off"), *l = http_req_query(req, "len");
    if (o)
        str_to_u64(str_from(o), &off);
    if (l)
        str_to_u64(str_from(l), &len);
    resp->fd = open(a->file_path, O_RDONLY | O_CLOEXEC);
    resp->fd_off = off;
    resp->fd_len = len;
    resp->status = resp->fd >= 0 ? 200 : 500;
    http_resp_header(req, resp, "Content-Type", "application/octet-stream");
}

static void deny_begin(void *p, struct http_req *req, struct http_resp *resp)
{
    struct app *a = p;
    atomic_fetch_add(&a->begins, 1);
    http_resp_header(req, resp, "WWW-Authenticate", "Basic realm=\"vigil\"");
    http_resp_set(req, resp, 401, "text/plain", "denied\n", 7);
}

static void bad_status_begin(void *p, struct http_req *req, struct http_resp *resp)
{
    (void)p;
    (void)req;
    (void)resp; /* leaves the status 0: begin() then end() must set it; end() does not */
}

static void bad_status_end(void *p, struct http_req *req, struct http_resp *resp)
{
    (void)p;
    (void)req;
    buf_append_cstr(&resp->body, "ignored");
}

static void must_not_run(void *p, struct http_req *req, struct http_resp *resp)
{
    (void)p;
    (void)req;
    resp->status = 500;
}

static double gauge_7(void *ctx)
{
    (void)ctx;
    return 7;
}

static struct http_server *start_server(struct http_server_config cfg)
{
    memset(&app, 0, sizeof(app));
    snprintf(app.file_path, sizeof(app.file_path), "%s/blob", test_tmpdir());
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!cfg.threads)
        cfg.threads = 4;
    if (!cfg.addr)
        cfg.addr = "127.0.0.1";
    if (getenv("VIGIL_TEST_HTTP_LOG")) { /* debugging aid: VIGIL_TEST_HTTP_LOG=1 */
        log_set_level(LOG_DEBUG);
        cfg.access_log = true;
    }
    struct http_server *srv;
    struct diag d = { 0 };
    ASSERT_EQ(http_server_new(&cfg, &srv, &d), 0);
    struct http_handler echo = { &app, echo_begin, NULL, echo_end, NULL };
    struct http_handler stream = { &app, stream_begin, stream_body, stream_end, stream_abort };
    struct http_handler file = { &app, file_begin, NULL, must_not_run, NULL };
    struct http_handler deny = { &app, deny_begin, NULL, must_not_run, NULL };
    struct http_handler bad = { &app, bad_status_begin, NULL, bad_status_end, NULL };
    unsigned all = HTTP_GET | HTTP_POST | HTTP_PUT | HTTP_PATCH | HTTP_DELETE | HTTP_OTHER;
    ASSERT_EQ(http_server_route(srv, all, "/echo", false, "echo", &echo), 0);
    ASSERT_EQ(http_server_route(srv, HTTP_PUT | HTTP_PATCH | HTTP_POST, "/stream", false, "stream",
                                &stream),
              0);
    ASSERT_EQ(http_server_route(srv, HTTP_GET, "/file", false, "file", &file), 0);
    ASSERT_EQ(http_server_route(srv, all, "/deny", false, "deny", &deny), 0);
    ASSERT_EQ(http_server_route(srv, HTTP_GET, "/prefix/", true, "prefix", &echo), 0);
    ASSERT_EQ(http_server_route(srv, HTTP_GET, "/bad", false, "bad", &bad), 0);
    ASSERT_EQ(http_server_route(srv, HTTP_DELETE, "/only", false, "only-delete", &echo), 0);
    ASSERT_EQ(http_server_route(srv, HTTP_PUT, "/only", false, "only-put", &echo), 0);
    ASSERT_EQ(http_server_route(srv, HTTP_GET, "nope", false, "x", &echo), -ERR_INVALID);
    ASSERT_EQ(http_server_enable_metrics(srv, "/metrics"), 0);
    ASSERT_EQ(http_server_add_gauge(srv, "vigil_test_gauge", "A test gauge.", gauge_7, NULL), 0);
    ASSERT_EQ(http_server_start(srv, &d), 0);
    ASSERT_TRUE(http_server_port(srv) > 0);
    ASSERT_EQ(http_server_route(srv, HTTP_GET, "/late", false, "late", &echo), -EBUSY);
    return srv;
}

static struct http_server *start_default(void)
{
    struct http_server_config cfg = { .idle_timeout_s = 10 };
    return start_server(cfg);
}

/* ---- a libcurl client ---- */

struct cres {
    long status;
    CURLcode rc;
    struct buf body;
    struct buf headers;
    curl_off_t content_length;
    long connects;
};

struct upload {
    const unsigned char *data; /* NULL: generated bytes */
    uint64_t len, pos;
    struct sha256 h;
    size_t max_chunk;
};

/* Deterministic pseudo-random payload byte i. */
static unsigned char gen_byte(uint64_t i)
{
    uint64_t x = i * 0x9E3779B97F4A7C15ULL;
    return (unsigned char)(x >> 56);
}

static size_t read_cb(char *dst, size_t size, size_t nitems, void *p)
{
    struct upload *u = p;
    size_t want = size * nitems;
    if (u->max_chunk && want > u->max_chunk)
        want = u->max_chunk;
    if (want > u->len - u->pos)
        want = (size_t)(u->len - u->pos);
    if (u->data) {
        memcpy(dst, u->data + u->pos, want);
    } else {
        for (size_t i = 0; i < want; i++) {
            unsigned char b = gen_byte(u->pos + i);
            memcpy(dst + i, &b, 1);
        }
    }
    sha256_update(&u->h, dst, want);
    u->pos += want;
    /* vary the chunk sizes a little */
    if (u->max_chunk)
        u->max_chunk = u->max_chunk % 50000 + 7919;
    return want;
}

static size_t write_cb(char *p, size_t size, size_t n, void *ud)
{
    struct buf *b = ud;
    if (buf_append(b, p, size * n) != 0)
        return 0;
    return size * n;
}

static char url_buf[256];

static const char *url(struct http_server *srv, const char *path)
{
    snprintf(url_buf, sizeof(url_buf), "http://127.0.0.1:%d%s", http_server_port(srv), path);
    return url_buf;
}

static void cres_release(struct cres *r)
{
    buf_release(&r->body);
    buf_release(&r->headers);
}

/* One request on handle h (NULL: a fresh one). */
static void do_curl(CURL *h, const char *method, const char *u, const char *const *headers,
                    struct upload *up, bool chunked, struct cres *r)
{
    bool own = h == NULL;
    if (own)
        h = curl_easy_init();
    memset(r, 0, sizeof(*r));
    buf_init(&r->body, 64 << 20);
    buf_init(&r->headers, 1 << 20);
    struct curl_slist *hl = NULL;
    for (const char *const *p = headers; p && *p; p++)
        hl = curl_slist_append(hl, *p);
    if (chunked)
        hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
    curl_easy_setopt(h, CURLOPT_URL, u);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, write_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r->headers);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 0L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (up) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(h, CURLOPT_READDATA, up);
        if (!chunked)
            curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up->len);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    r->rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &r->content_length);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &r->connects);
    curl_slist_free_all(hl);
    if (own)
        curl_easy_cleanup(h);
}

static void upload_init(struct upload *u, const void *data, uint64_t len)
{
    memset(u, 0, sizeof(*u));
    u->data = data;
    u->len = len;
    sha256_init(&u->h);
}

static void upload_hex(struct upload *u, char hex[2 * SHA256_LEN + 1])
{
    unsigned char d[SHA256_LEN];
    sha256_final(&u->h, d);
    hex_encode(d, SHA256_LEN, hex);
}

static bool wait_int(atomic_int *v, int want, int timeout_ms)
{
    for (int t = 0; t < timeout_ms; t += 10) {
        if (atomic_load(v) >= want)
            return true;
        usleep(10000);
    }
    return atomic_load(v) >= want;
}

/* Request metrics are recorded when the library reports a request complete, which may be a
 * moment after the client has its answer: render them in-process (so that looking does not
 * add requests) until they show needle, within a bound. */
static bool metrics_has(struct http_server *srv, const char *needle)
{
    for (int i = 0; i < 500; i++) {
        struct buf b;
        buf_init(&b, 1 << 20);
        bool found = http_metrics_render(http_server_metrics(srv), &b) == 0 &&
                     strstr(buf_cstr(&b), needle) != NULL;
        buf_release(&b);
        if (found)
            return true;
        usleep(10000);
    }
    return false;
}

/* ---- raw sockets ---- */

static int raw_connect(struct http_server *srv)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_TRUE(fd >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)http_server_port(srv)),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void raw_send(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return; /* the server may have closed: the caller looks at the answer */
        c += w;
        n -= (size_t)w;
    }
}

/* Read into b until the peer closes (returns true) or timeout_ms pass without it, or (when
 * stop is set) until b contains stop. */
static bool raw_read(int fd, struct buf *b, int timeout_ms, const char *stop)
{
    for (int waited = 0; waited < timeout_ms;) {
        if (stop && strstr(buf_cstr(b), stop))
            return false;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int rc = poll(&pfd, 1, 50);
        if (rc == 0) {
            waited += 50;
            continue;
        }
        char tmp[16384];
        ssize_t r = recv(fd, tmp, sizeof(tmp), 0);
        if (r <= 0)
            return true;
        buf_append(b, tmp, (size_t)r);
    }
    return false;
}

/* ---- server tests ---- */

TEST(http_server_get_query_headers)
{
    struct http_server *srv = start_default();
    const char *hdrs[] = { "X-First: 1", "X-Second: two words", "x-first: again", NULL };
    struct cres r;
    do_curl(NULL, "GET", url(srv, "/echo?a=1&b=x%20y&c+d=e+f&flag&sig=A%2Fb%3D"), hdrs, NULL, false,
            &r);
    ASSERT_EQ(r.rc, CURLE_OK);
    ASSERT_EQ(r.status, 200);
    const char *t = buf_cstr(&r.body);
    ASSERT_TRUE(strstr(t, "method=GET\n"));
    ASSERT_TRUE(strstr(t, "path=/echo\n"));
    ASSERT_TRUE(strstr(t, "raw_query=a=1&b=x%20y&c+d=e+f&flag&sig=A%2Fb%3D\n"));
    ASSERT_TRUE(strstr(t, "route=echo\n"));
    ASSERT_TRUE(strstr(t, "q=a=1\nq=b=x y\nq=c d=e f\nq=flag=\nq=sig=A/b=\n"));
    const char *first = strstr(t, "h=X-First: 1\n");
    const char *second = strstr(t, "h=X-Second: two words\n");
    const char *again = strstr(t, "h=x-first: again\n");
    ASSERT_TRUE(first && second && again && first < second && second < again);
    ASSERT_TRUE(strstr(t, "remote=127.0.0.1:"));
    ASSERT_TRUE(strstr(t, "cl=0/0\nchunked=0\nbody_len=0\n"));
    ASSERT_TRUE(strstr(buf_cstr(&r.headers), "X-Test: yes\r\n"));
    ASSERT_TRUE(strstr(buf_cstr(&r.headers), "Content-Type: text/plain\r\n"));
    cres_release(&r);

    /* a percent-encoded path is decoded; a prefix route takes the rest */
    do_curl(NULL, "GET", url(srv, "/prefix/a%2Fb/c"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_TRUE(strstr(buf_cstr(&r.body), "path=/prefix/a/b/c\nraw_query=\nroute=prefix\n"));
    cres_release(&r);
    http_server_free(srv);
}

TEST(http_server_methods_and_bodies)
{
    struct http_server *srv = start_default();
    static const char *const methods[] = { "PUT", "PATCH", "POST", "DELETE", "BREW" };
    for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
        struct upload u;
        upload_init(&u, "hello body", 10);
        struct cres r;
        do_curl(NULL, methods[i], url(srv, "/echo"), NULL, &u, false, &r);
        sha256_release(&u.h);
        ASSERT_EQ(r.rc, CURLE_OK);
        ASSERT_EQ(r.status, 200);
        char want[64];
        snprintf(want, sizeof(want), "method=%s\n", methods[i]);
        ASSERT_TRUE(strstr(buf_cstr(&r.body), want));
        ASSERT_TRUE(
            strstr(buf_cstr(&r.body), "cl=10/1\nchunked=0\nbody_len=10\nbody=hello body\n"));
        cres_release(&r);
    }
    /* chunked request body, buffered */
    struct upload u;
    upload_init(&u, "chunky data", 11);
    struct cres r;
    do_curl(NULL, "POST", url(srv, "/echo"), NULL, &u, true, &r);
    sha256_release(&u.h);
    ASSERT_EQ(r.status, 200);
    ASSERT_TRUE(strstr(buf_cstr(&r.body), "chunked=1\nbody_len=11\nbody=chunky data\n"));
    cres_release(&r);
    ASSERT_EQ(atomic_load(&app.aborts), 0);
    http_server_free(srv);
}

TEST(http_server_head_content_length)
{
    struct http_server *srv = start_default();
    struct cres g, h;
    do_curl(NULL, "GET", url(srv, "/echo"), NULL, NULL, false, &g);
    ASSERT_EQ(g.status, 200);
    ASSERT_TRUE(g.body.len > 50);
    do_curl(NULL, "HEAD", url(srv, "/echo"), NULL, NULL, false, &h);
    ASSERT_EQ(h.rc, CURLE_OK);
    ASSERT_EQ(h.status, 200);
    ASSERT_EQ(h.body.len, 0);
    /* same length as the GET body ("method=HEAD" and "method=GET" differ by one byte) */
    ASSERT_EQ(h.content_length, (curl_off_t)g.body.len + 1);
    ASSERT_TRUE(strstr(buf_cstr(&h.headers), "X-Test: yes\r\n"));
    cres_release(&g);
    cres_release(&h);

    /* a file body: HEAD sends its length, not its bytes */
    FILE *f = fopen(app.file_path, "wb");
    ASSERT_TRUE(f != NULL);
    for (int i = 0; i < 5000; i++)
        fputc('a' + i % 26, f);
    fclose(f);
    do_curl(NULL, "HEAD", url(srv, "/file?off=100&len=3000"), NULL, NULL, false, &h);
    ASSERT_EQ(h.status, 200);
    ASSERT_EQ(h.content_length, 3000);
    ASSERT_EQ(h.body.len, 0);
    cres_release(&h);
    http_server_free(srv);
}

TEST(http_server_fd_body)
{
    struct http_server *srv = start_default();
    size_t n = 8u << 20;
    unsigned char *data = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = gen_byte(i);
    int fd = open(app.file_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_TRUE(fd >= 0);
    ASSERT_EQ(write(fd, data, n), (ssize_t)n);
    close(fd);

    struct cres r;
    do_curl(NULL, "GET", url(srv, "/file?off=1000&len=5000"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body.len, 5000);
    ASSERT_TRUE(memcmp(r.body.data, data + 1000, 5000) == 0);
    ASSERT_TRUE(strstr(buf_cstr(&r.headers), "Content-Type: application/octet-stream\r\n"));
    cres_release(&r);

    char path[64];
    snprintf(path, sizeof(path), "/file?off=7&len=%zu", n - 7);
    do_curl(NULL, "GET", url(srv, path), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body.len, n - 7);
    ASSERT_TRUE(memcmp(r.body.data, data + 7, n - 7) == 0);
    cres_release(&r);

    /* an empty slice */
    do_curl(NULL, "GET", url(srv, "/file?off=0&len=0"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body.len, 0);
    cres_release(&r);
    free(data);

    /* response bytes are counted */
    ASSERT_TRUE(metrics_has(srv, "vigil_http_requests_total{route=\"file\",code=\"200\"} 3\n"));
    char want[128];
    snprintf(want, sizeof(want), "vigil_http_response_bytes_total %zu\n", 5000 + n - 7);
    ASSERT_TRUE(metrics_has(srv, want));
    http_server_free(srv);
}

TEST(http_server_stream_30mb)
{
    struct http_server *srv = start_default();
    struct upload u;
    upload_init(&u, NULL, 30u << 20);
    u.max_chunk = 65536;
    struct cres r;
    do_curl(NULL, "PUT", url(srv, "/stream"), NULL, &u, false, &r);
    char hex[2 * SHA256_LEN + 1];
    upload_hex(&u, hex);
    ASSERT_EQ(r.rc, CURLE_OK);
    ASSERT_EQ(r.status, 200);
    char want[200];
    snprintf(want, sizeof(want), "bytes=%u sha256=%s body_len=0", 30u << 20, hex);
    ASSERT_STREQ(buf_cstr(&r.body), want);
    cres_release(&r);

    /* chunked, 5 MB */
    upload_init(&u, NULL, 5u << 20);
    u.max_chunk = 1000;
    do_curl(NULL, "PATCH", url(srv, "/stream"), NULL, &u, true, &r);
    upload_hex(&u, hex);
    ASSERT_EQ(r.status, 200);
    snprintf(want, sizeof(want), "bytes=%u sha256=%s body_len=0", 5u << 20, hex);
    ASSERT_STREQ(buf_cstr(&r.body), want);
    cres_release(&r);
    ASSERT_EQ(atomic_load(&app.aborts), 0);
    ASSERT_EQ(atomic_load(&app.stream_ends), 2);

    snprintf(want, sizeof(want), "vigil_http_request_bytes_total %u\n", (30u << 20) + (5u << 20));
    ASSERT_TRUE(metrics_has(srv, want));
    http_server_free(srv);
}

TEST(http_server_body_too_big)
{
    struct http_server *srv = start_default();
    char *data = xmalloc(4096);
    memset(data, 'x', 4096);
    /* Content-Length over body_max: refused before any of it is read */
    struct upload u;
    upload_init(&u, data, 4096);
    struct cres r;
    do_curl(NULL, "POST", url(srv, "/echo?body_max=1024"), NULL, &u, false, &r);
    sha256_release(&u.h);
    ASSERT_EQ(r.status, 413);
    ASSERT_EQ(atomic_load(&app.last_body_err), -ERR_TOO_BIG);
    ASSERT_EQ(atomic_load(&app.last_body_bytes), 0);
    cres_release(&r);

    /* chunked: found out while reading; the rest is drained and the answer still arrives */
    upload_init(&u, data, 4096);
    do_curl(NULL, "POST", url(srv, "/echo?body_max=1024"), NULL, &u, true, &r);
    sha256_release(&u.h);
    ASSERT_EQ(r.status, 413);
    ASSERT_EQ(atomic_load(&app.last_body_err), -ERR_TOO_BIG);
    ASSERT_TRUE(atomic_load(&app.last_body_bytes) > 1024);
    ASSERT_TRUE(strstr(buf_cstr(&r.headers), "Connection: close\r\n"));
    cres_release(&r);

    /* exactly body_max fits */
    upload_init(&u, data, 1024);
    do_curl(NULL, "POST", url(srv, "/echo?body_max=1024"), NULL, &u, false, &r);
    sha256_release(&u.h);
    ASSERT_EQ(r.status, 200);
    ASSERT_TRUE(strstr(buf_cstr(&r.body), "body_len=1024\n"));
    cres_release(&r);

    /* the default cap (1 MiB) applies to a handler that sets none */
    size_t big = (1u << 20) + 1;
    upload_init(&u, NULL, big);
    do_curl(NULL, "PUT", url(srv, "/echo"), NULL, &u, false, &r);
    sha256_release(&u.h);
    ASSERT_EQ(r.status, 413);
    cres_release(&r);
    ASSERT_EQ(atomic_load(&app.aborts), 0);
    free(data);
    http_server_free(srv);
}

TEST(http_server_stream_error)
{
    struct http_server *srv = start_default();
    /* body() fails early in a small body: the rest is drained and the answer sent */
    struct upload u;
    upload_init(&u, NULL, 200000);
    struct cres r;
    do_curl(NULL, "PUT", url(srv, "/stream?fail_at=1000"), NULL, &u, false, &r);
    sha256_release(&u.h);
    ASSERT_EQ(r.status, 400);
    ASSERT_STREQ(buf_cstr(&r.body), "failed\n");
    ASSERT_EQ(atomic_load(&app.last_body_err), -ERR_INVALID);
    cres_release(&r);

    /* ... early in a large body: the connection is closed instead of reading it all */
    upload_init(&u, NULL, 30u << 20);
    do_curl(NULL, "PUT", url(srv, "/stream?fail_at=1000"), NULL, &u, false, &r);
    sha256_release(&u.h);
    ASSERT_NE(r.rc, CURLE_OK);
    ASSERT_TRUE(u.pos < (30u << 20));
    cres_release(&r);
    ASSERT_TRUE(wait_int(&app.stream_ends, 2, 5000));
    /* end() ran, so abort() does not */
    ASSERT_EQ(atomic_load(&app.aborts), 0);

    /* the server still serves */
    do_curl(NULL, "GET", url(srv, "/echo"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 200);
    cres_release(&r);
    http_server_free(srv);
}

TEST(http_server_expect_continue)
{
    struct http_server *srv = start_default();
    int fd = raw_connect(srv);
    const char *hdr = "PUT /stream HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                      "Expect: 100-continue\r\nConnection: close\r\n\r\n";
    raw_send(fd, hdr, strlen(hdr));
    struct buf b;
    buf_init(&b, 1 << 20);
    raw_read(fd, &b, 5000, "\r\n\r\n");
    ASSERT_TRUE(strncmp(buf_cstr(&b), "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0);
    raw_send(fd, "hello", 5);
    ASSERT_TRUE(raw_read(fd, &b, 5000, NULL));
    ASSERT_TRUE(strstr(buf_cstr(&b), "HTTP/1.1 200 OK\r\n"));
    ASSERT_TRUE(strstr(buf_cstr(&b), "bytes=5 sha256=2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1f"
                                     "a7425e73043362938b9824"));
    close(fd);

    /* libcurl sends Expect: 100-continue for a large upload by itself */
    struct upload u;
    upload_init(&u, NULL, 2u << 20);
    struct cres r;
    do_curl(NULL, "PUT", url(srv, "/stream"), NULL, &u, false, &r);
    sha256_release(&u.h);
    ASSERT_EQ(r.status, 200);
    ASSERT_TRUE(strstr(buf_cstr(&r.headers), "HTTP/1.1 100 Continue\r\n"));
    cres_release(&r);

    /* answered at once by begin(): no 100 Continue, the body is not read, the connection
     * closes */
    buf_reset(&b);
    fd = raw_connect(srv);
    hdr = "PATCH /deny HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n"
          "Expect: 100-continue\r\n\r\n";
    raw_send(fd, hdr, strlen(hdr));
    ASSERT_TRUE(raw_read(fd, &b, 5000, NULL));
    ASSERT_TRUE(strncmp(buf_cstr(&b), "HTTP/1.1 401 ", 13) == 0);
    ASSERT_TRUE(strstr(buf_cstr(&b), "100 Continue") == NULL);
    ASSERT_TRUE(strstr(buf_cstr(&b), "WWW-Authenticate: Basic realm=\"vigil\"\r\n"));
    close(fd);

    /* unknown route with a body announced: 404 without 100 Continue, closed */
    buf_reset(&b);
    fd = raw_connect(srv);
    hdr = "PUT /nowhere HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n"
          "Expect: 100-continue\r\n\r\n";
    raw_send(fd, hdr, strlen(hdr));
    ASSERT_TRUE(raw_read(fd, &b, 5000, NULL));
    ASSERT_TRUE(strncmp(buf_cstr(&b), "HTTP/1.1 404 ", 13) == 0);
    ASSERT_TRUE(strstr(buf_cstr(&b), "100 Continue") == NULL);
    close(fd);
    buf_release(&b);
    http_server_free(srv);
}

TEST(http_server_keepalive_after_early_answer)
{
    struct http_server *srv = start_default();
    CURL *h = curl_easy_init();
    struct cres r;
    do_curl(h, "GET", url(srv, "/nowhere"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 404);
    ASSERT_STREQ(buf_cstr(&r.body), "404 page not found\n");
    ASSERT_EQ(r.connects, 1);
    cres_release(&r);
    /* the connection is reused after 404, 401 and 405 without a body */
    do_curl(h, "GET", url(srv, "/deny"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 401);
    ASSERT_EQ(r.connects, 0);
    cres_release(&r);
    do_curl(h, "POST", url(srv, "/file"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 405);
    ASSERT_EQ(r.connects, 0);
    ASSERT_TRUE(strstr(buf_cstr(&r.headers), "Allow: GET, HEAD\r\n"));
    cres_release(&r);
    do_curl(h, "GET", url(srv, "/echo"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.connects, 0);
    cres_release(&r);
    curl_easy_cleanup(h);
    ASSERT_EQ(atomic_load(&app.aborts), 0);
    http_server_free(srv);
}

TEST(http_server_404_405)
{
    struct http_server *srv = start_default();
    struct cres r;
    do_curl(NULL, "GET", url(srv, "/echo/sub"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 404); /* exact routes do not match longer paths */
    cres_release(&r);
    do_curl(NULL, "GET", url(srv, "/prefix"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 404);
    cres_release(&r);
    /* two routes on one path: each method goes to its own, others get both in Allow */
    do_curl(NULL, "DELETE", url(srv, "/only"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_TRUE(strstr(buf_cstr(&r.body), "route=only-delete\n"));
    cres_release(&r);
    do_curl(NULL, "GET", url(srv, "/only"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 405);
    ASSERT_TRUE(strstr(buf_cstr(&r.headers), "Allow: PUT, DELETE\r\n"));
    ASSERT_STREQ(buf_cstr(&r.body), "405 method not allowed\n");
    cres_release(&r);
    /* a handler that never sets a status gets a 500 */
    do_curl(NULL, "GET", url(srv, "/bad"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 500);
    ASSERT_EQ(r.body.len, 0);
    cres_release(&r);
    ASSERT_TRUE(
        metrics_has(srv, "vigil_http_requests_total{route=\"unmatched\",code=\"404\"} 2\n"));
    ASSERT_TRUE(
        metrics_has(srv, "vigil_http_requests_total{route=\"unmatched\",code=\"405\"} 1\n"));
    ASSERT_TRUE(metrics_has(srv, "vigil_http_requests_total{route=\"bad\",code=\"500\"} 1\n"));
    http_server_free(srv);
}

TEST(http_server_metrics_endpoint)
{
    struct http_server *srv = start_default();
    struct cres r;
    for (int i = 0; i < 3; i++) {
        do_curl(NULL, "GET", url(srv, "/echo"), NULL, NULL, false, &r);
        ASSERT_EQ(r.status, 200);
        cres_release(&r);
    }
    struct upload u;
    upload_init(&u, "12345", 5);
    do_curl(NULL, "PUT", url(srv, "/stream"), NULL, &u, false, &r);
    sha256_release(&u.h);
    cres_release(&r);
    /* once the earlier requests are all accounted for, only the metrics request is in flight */
    ASSERT_TRUE(metrics_has(srv, "vigil_http_requests_in_flight 0\n"));
    do_curl(NULL, "GET", url(srv, "/metrics"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_TRUE(strstr(buf_cstr(&r.headers), "Content-Type: text/plain; version=0.0.4"));
    const char *t = buf_cstr(&r.body);
    ASSERT_TRUE(strstr(t, "vigil_http_requests_total{route=\"echo\",code=\"200\"} 3\n"));
    ASSERT_TRUE(strstr(t, "vigil_http_requests_total{route=\"stream\",code=\"200\"} 1\n"));
    ASSERT_TRUE(strstr(t, "vigil_http_request_bytes_total 5\n"));
    /* this request is in flight while the text is rendered */
    ASSERT_TRUE(strstr(t, "vigil_http_requests_in_flight 1\n"));
    /* this one at least (closed ones may not have been noticed yet) */
    const char *conns = strstr(t, "\nvigil_http_connections ");
    ASSERT_TRUE(conns && strtol(conns + 24, NULL, 10) >= 1);
    ASSERT_TRUE(strstr(t, "# TYPE vigil_test_gauge gauge\nvigil_test_gauge 7\n"));
    ASSERT_TRUE(strstr(t, "vigil_http_request_duration_seconds_count{route=\"echo\"} 3\n"));
    cres_release(&r);
    ASSERT_EQ(http_server_add_gauge(srv, "vigil_test_gauge", "dup", gauge_7, NULL), -EEXIST);
    ASSERT_EQ(http_server_add_counter(srv, "vigil_test_counter", "late", gauge_7, NULL), 0);
    do_curl(NULL, "HEAD", url(srv, "/metrics"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 200);
    ASSERT_TRUE(r.content_length > 100);
    cres_release(&r);
    ASSERT_TRUE(metrics_has(srv, "# TYPE vigil_test_counter counter\nvigil_test_counter 7\n"));
    ASSERT_TRUE(metrics_has(srv, "vigil_http_requests_total{route=\"metrics\",code=\"200\"} "));
    http_server_free(srv);
}

TEST(http_server_client_disconnects_mid_upload)
{
    struct http_server *srv = start_default();
    int fd = raw_connect(srv);
    const char *hdr = "PUT /stream HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n";
    raw_send(fd, hdr, strlen(hdr));
    char chunk[10240];
    memset(chunk, 'z', sizeof(chunk));
    raw_send(fd, chunk, sizeof(chunk));
    ASSERT_TRUE(wait_int(&app.begins, 1, 5000));
    close(fd);
    ASSERT_TRUE(wait_int(&app.aborts, 1, 5000));
    ASSERT_EQ(atomic_load(&app.stream_ends), 0);

    /* the same with a buffered handler: no abort() callback, no leak, still serving */
    fd = raw_connect(srv);
    hdr = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n";
    raw_send(fd, hdr, strlen(hdr));
    raw_send(fd, chunk, sizeof(chunk));
    ASSERT_TRUE(wait_int(&app.begins, 2, 5000));
    close(fd);

    struct cres r;
    do_curl(NULL, "GET", url(srv, "/echo"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 200);
    cres_release(&r);
    ASSERT_TRUE(metrics_has(srv, "vigil_http_requests_aborted_total{route=\"stream\"} 1\n"));
    ASSERT_TRUE(metrics_has(srv, "vigil_http_requests_aborted_total{route=\"echo\"} 1\n"));
    ASSERT_TRUE(metrics_has(srv, "vigil_http_requests_in_flight 0\n"));
    ASSERT_EQ(atomic_load(&app.aborts), 1);
    http_server_free(srv);
}

struct slow_client {
    int port;
    atomic_bool closed;
    atomic_int sent;
    atomic_bool done;
};

static void *slow_main(void *p)
{
    struct slow_client *s = p;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t)s->port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        atomic_store(&s->done, true);
        return NULL;
    }
    const char *req =
        "GET /echo HTTP/1.1\r\nHost: slow\r\nX-Slow: "
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    /* one byte per 200 ms: about 25 s for the whole request, far beyond the 1 s timeout */
    for (size_t i = 0; req[i] && !atomic_load(&s->closed); i++) {
        if (send(fd, req + i, 1, MSG_NOSIGNAL) != 1) {
            atomic_store(&s->closed, true);
            break;
        }
        atomic_fetch_add(&s->sent, 1);
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (poll(&pfd, 1, 200) > 0) {
            char c;
            if (recv(fd, &c, 1, 0) <= 0)
                atomic_store(&s->closed, true);
        }
    }
    close(fd);
    atomic_store(&s->done, true);
    return NULL;
}

TEST(http_server_slowloris)
{
    struct http_server_config cfg = { .idle_timeout_s = 1 };
    struct http_server *srv = start_server(cfg);
    struct slow_client s = { .port = http_server_port(srv) };
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, slow_main, &s), 0);
    /* other clients are served meanwhile */
    for (int i = 0; i < 3; i++) {
        usleep(150000);
        struct cres r;
        do_curl(NULL, "GET", url(srv, "/echo"), NULL, NULL, false, &r);
        ASSERT_EQ(r.status, 200);
        cres_release(&r);
    }
    /* the slow client sends at most ~130 bytes in 26 s; wait for its thread, bounded by that */
    for (int i = 0; i < 3000 && !atomic_load(&s.done); i++)
        usleep(10000);
    ASSERT_TRUE(atomic_load(&s.done));
    pthread_join(t, NULL);
    ASSERT_TRUE(atomic_load(&s.closed));
    /* closed well before the headers were complete */
    ASSERT_TRUE(atomic_load(&s.sent) < 60);
    ASSERT_TRUE(metrics_has(srv, "vigil_http_header_timeouts_total 1\n"));
    http_server_free(srv);
}

TEST(http_server_bad_requests)
{
    struct http_server_config cfg = { .idle_timeout_s = 5, .conn_memory = (size_t)32 << 10 };
    struct http_server *srv = start_server(cfg);
    struct buf b;
    buf_init(&b, 1 << 20);

    /* headers larger than the connection memory */
    int fd = raw_connect(srv);
    const char *hdr = "GET /echo HTTP/1.1\r\nHost: t\r\nX-Big: ";
    raw_send(fd, hdr, strlen(hdr));
    char *big = xmalloc(100000);
    memset(big, 'b', 100000);
    raw_send(fd, big, 100000);
    raw_send(fd, "\r\n\r\n", 4);
    ASSERT_TRUE(raw_read(fd, &b, 5000, NULL));
    ASSERT_TRUE(strncmp(buf_cstr(&b), "HTTP/1.1 431 ", 13) == 0);
    close(fd);
    free(big);
    /* counted under the unmatched route with the library's status */
    ASSERT_TRUE(metrics_has(srv, "route=\"unmatched\",code=\"431\"} 1\n"));

    /* a request line larger than the connection memory */
    buf_reset(&b);
    fd = raw_connect(srv);
    big = xmalloc(100000);
    memset(big, 'u', 100000);
    big[0] = '/';
    raw_send(fd, "GET ", 4);
    raw_send(fd, big, 100000);
    hdr = " HTTP/1.1\r\nHost: t\r\n\r\n";
    raw_send(fd, hdr, strlen(hdr));
    ASSERT_TRUE(raw_read(fd, &b, 5000, NULL));
    ASSERT_TRUE(strncmp(buf_cstr(&b), "HTTP/1.1 414 ", 13) == 0);
    close(fd);
    free(big);

    /* garbage request lines */
    static const char *const garbage[] = {
        "\x01\x02\x03 garbage\r\n\r\n",
        "GET\r\n\r\n",
        "GET /echo HTTP/9.9\r\nHost: t\r\n\r\n",
        "GET /echo HTTP/1.1\r\nBroken header line\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET /a%00b HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET /%zz HTTP/1.1\r\nHost: t\r\n\r\n",
        "GET http://example.com/echo HTTP/1.1\r\nHost: t\r\n\r\n",
    };
    for (size_t i = 0; i < ARRAY_SIZE(garbage); i++) {
        buf_reset(&b);
        fd = raw_connect(srv);
        raw_send(fd, garbage[i], strlen(garbage[i]));
        ASSERT_TRUE(raw_read(fd, &b, 5000, "\r\n\r\n") || b.len > 0);
        /* either an error answer or a closed connection, never a 200 */
        if (b.len && strncmp(buf_cstr(&b), "HTTP/1.1 4", 10) != 0 &&
            strncmp(buf_cstr(&b), "HTTP/1.1 5", 10) != 0)
            test_fail(__FILE__, __LINE__, "request %zu answered: %.40s", i, buf_cstr(&b));
        close(fd);
    }
    /* the ones we decode ourselves get a 400 */
    buf_reset(&b);
    fd = raw_connect(srv);
    hdr = "GET /a%00b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    raw_send(fd, hdr, strlen(hdr));
    ASSERT_TRUE(raw_read(fd, &b, 5000, NULL));
    ASSERT_TRUE(strncmp(buf_cstr(&b), "HTTP/1.1 400 ", 13) == 0);
    close(fd);
    buf_release(&b);

    struct cres r;
    do_curl(NULL, "GET", url(srv, "/echo"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 200);
    cres_release(&r);
    http_server_free(srv);
}

TEST(http_server_stop_aborts_in_flight)
{
    struct http_server *srv = start_default();
    int fd = raw_connect(srv);
    const char *hdr = "PUT /stream HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n";
    raw_send(fd, hdr, strlen(hdr));
    raw_send(fd, "partial", 7);
    ASSERT_TRUE(wait_int(&app.begins, 1, 5000));
    http_server_stop(srv);
    ASSERT_EQ(atomic_load(&app.aborts), 1);
    struct buf b;
    buf_init(&b, 4096);
    ASSERT_TRUE(raw_read(fd, &b, 5000, NULL)); /* closed by the server */
    close(fd);
    buf_release(&b);
    /* restart on a new ephemeral port */
    struct diag d = { 0 };
    ASSERT_EQ(http_server_start(srv, &d), 0);
    struct cres r;
    do_curl(NULL, "GET", url(srv, "/echo"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 200);
    cres_release(&r);
    http_server_free(srv);
}

TEST(http_server_ipv6_and_bind_errors)
{
    struct http_server_config cfg = { .addr = "::1", .idle_timeout_s = 5 };
    struct http_server *srv = start_server(cfg);
    char u[128];
    snprintf(u, sizeof(u), "http://[::1]:%d/echo", http_server_port(srv));
    struct cres r;
    do_curl(NULL, "GET", u, NULL, NULL, false, &r);
    ASSERT_EQ(r.rc, CURLE_OK);
    ASSERT_EQ(r.status, 200);
    ASSERT_TRUE(strstr(buf_cstr(&r.body), "remote=[::1]:"));
    cres_release(&r);

    /* the same port again: the error names the address */
    struct http_server_config c2 = { .addr = "[::1]", .port = http_server_port(srv) };
    struct http_server *srv2;
    struct diag d = { 0 };
    ASSERT_EQ(http_server_new(&c2, &srv2, &d), 0);
    ASSERT_EQ(http_server_start(srv2, &d), -EADDRINUSE);
    char want[64];
    snprintf(want, sizeof(want), "[::1]:%d", http_server_port(srv));
    ASSERT_TRUE(strstr(d.msg, want));
    http_server_free(srv2);

    struct http_server_config c3 = { .addr = "not an address" };
    ASSERT_EQ(http_server_new(&c3, &srv2, &d), 0);
    ASSERT_EQ(http_server_start(srv2, &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "not an address"));
    http_server_free(srv2);

    struct http_server_config c4 = { .port = 70000 };
    ASSERT_EQ(http_server_new(&c4, &srv2, &d), -ERR_INVALID);
    http_server_free(srv);
}

TEST(http_server_dual_stack)
{
    struct http_server_config cfg = { .addr = "::", .idle_timeout_s = 5 };
    struct http_server *srv = start_server(cfg);
    struct cres r;
    do_curl(NULL, "GET", url(srv, "/echo"), NULL, NULL, false, &r); /* over IPv4 */
    ASSERT_EQ(r.status, 200);
    cres_release(&r);
    char u[128];
    snprintf(u, sizeof(u), "http://[::1]:%d/echo", http_server_port(srv));
    do_curl(NULL, "GET", u, NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 200);
    cres_release(&r);
    http_server_free(srv);
}

struct par {
    struct http_server *srv;
    atomic_int ok;
};

static void *par_main(void *p)
{
    struct par *pp = p;
    char u[128];
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/stream", http_server_port(pp->srv));
    for (int i = 0; i < 5; i++) {
        struct upload up;
        upload_init(&up, NULL, 1u << 20);
        up.max_chunk = 30000;
        struct cres r;
        do_curl(NULL, "PUT", u, NULL, &up, false, &r);
        char hex[2 * SHA256_LEN + 1], want[200];
        upload_hex(&up, hex);
        snprintf(want, sizeof(want), "bytes=%u sha256=%s body_len=0", 1u << 20, hex);
        if (r.status == 200 && strcmp(buf_cstr(&r.body), want) == 0)
            atomic_fetch_add(&pp->ok, 1);
        cres_release(&r);
    }
    return NULL;
}

TEST(http_server_parallel_uploads)
{
    struct http_server *srv = start_default();
    struct par p = { .srv = srv };
    pthread_t t[6];
    for (int i = 0; i < 6; i++)
        ASSERT_EQ(pthread_create(&t[i], NULL, par_main, &p), 0);
    for (int i = 0; i < 6; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ(atomic_load(&p.ok), 30);
    http_server_free(srv);
}

TEST(http_server_access_log)
{
    /* capture stderr, where log lines go */
    char path[600];
    snprintf(path, sizeof(path), "%s/log", test_tmpdir());
    fflush(stderr);
    int saved = dup(2);
    int lf = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_TRUE(saved >= 0 && lf >= 0);
    dup2(lf, 2);
    close(lf);
    enum log_level old = log_threshold;
    log_set_level(LOG_INFO);

    struct http_server_config cfg = { .idle_timeout_s = 5, .access_log = true };
    struct http_server *srv = start_server(cfg);
    const char *hdrs[] = { "Authorization: Basic c2VjcmV0dXNlcjpzZWNyZXRwdw==", NULL };
    struct cres r;
    do_curl(NULL, "GET", url(srv, "/echo?X-Amz-Signature=topsecret"), hdrs, NULL, false, &r);
    ASSERT_EQ(r.status, 200);
    cres_release(&r);
    do_curl(NULL, "GET", url(srv, "/we%22ird%0Apath"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 404);
    cres_release(&r);
    struct upload u;
    upload_init(&u, "abc", 3);
    do_curl(NULL, "PUT", url(srv, "/stream"), NULL, &u, false, &r);
    sha256_release(&u.h);
    cres_release(&r);
    http_server_free(srv); /* every request is logged by now */

    log_set_level(old);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fopen(path, "rb");
    ASSERT_TRUE(f != NULL);
    struct buf b;
    buf_init(&b, 1 << 20);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        buf_append(&b, tmp, n);
    fclose(f);
    const char *t = buf_cstr(&b);
    ASSERT_TRUE(strstr(t, "level=info sub=http msg=\"method=GET path=/echo route=echo status=200 "
                          "in=0 out="));
    ASSERT_TRUE(strstr(t, "remote=127.0.0.1:"));
    ASSERT_TRUE(strstr(t, "principal=tester\""));
    ASSERT_TRUE(strstr(t, "method=GET path=/we%22ird%0Apath route=unmatched status=404 "));
    ASSERT_TRUE(strstr(t, "method=PUT path=/stream route=stream status=200 in=3 out="));
    /* neither the query (signatures) nor the Authorization header are logged */
    ASSERT_TRUE(strstr(t, "topsecret") == NULL);
    ASSERT_TRUE(strstr(t, "c2VjcmV0") == NULL);
    ASSERT_TRUE(strstr(t, "X-Amz") == NULL);
    buf_release(&b);
}

static int count_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) != -1)
            n++;
    return n;
}

TEST(http_server_no_fd_leak)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int before = count_fds();
    struct http_server *srv = start_default();
    FILE *f = fopen(app.file_path, "wb");
    ASSERT_TRUE(f != NULL);
    fputs("0123456789", f);
    fclose(f);
    struct cres r;
    for (int i = 0; i < 5; i++) {
        do_curl(NULL, "GET", url(srv, "/file?off=2&len=5"), NULL, NULL, false, &r);
        ASSERT_STREQ(buf_cstr(&r.body), "23456");
        cres_release(&r);
        do_curl(NULL, "HEAD", url(srv, "/file?off=2&len=5"), NULL, NULL, false, &r);
        ASSERT_EQ(r.content_length, 5);
        cres_release(&r);
    }
    /* a file body whose range lies past the end fails while being sent */
    do_curl(NULL, "GET", url(srv, "/file?off=0&len=1000"), NULL, NULL, false, &r);
    ASSERT_NE(r.rc, CURLE_OK);
    cres_release(&r);
    /* clients that leave with a file body queued */
    for (int i = 0; i < 3; i++) {
        int fd = raw_connect(srv);
        const char *req = "GET /file?off=0&len=5 HTTP/1.1\r\nHost: t\r\n\r\n";
        raw_send(fd, req, strlen(req));
        close(fd);
    }
    do_curl(NULL, "GET", url(srv, "/echo"), NULL, NULL, false, &r);
    ASSERT_EQ(r.status, 200);
    cres_release(&r);
    http_server_free(srv);
    ASSERT_EQ(count_fds(), before);
}
