/* SPDX-License-Identifier: Apache-2.0 */
/* Dispatch of AWS control-API requests: protocol detection, operation lookup, the
 * authentication hook, input decoding, the handler call and the response or error encoding
 * for AWS JSON 1.1 and the Query protocol. Also errors, timestamps, request ids and the
 * pagination tokens the operations share. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "awsproto_internal.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/xalloc.h"

/* ---- Errors ----------------------------------------------------------------------------- */

int aws_error_set(struct aws_error *e, int status, bool sender, const char *code, const char *fmt,
                  ...)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->code, sizeof(e->code), "%s", code);
    e->status = status;
    e->sender = sender;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    size_t len = strlen(e->message);
    if (n >= 0 && (size_t)n >= sizeof(e->message)) {
        /* cut at a character boundary and say so */
        len = sizeof(e->message) - 4;
        while (len > 0 && ((unsigned char)e->message[len] & 0xC0) == 0x80)
            len--;
        memcpy(e->message + len, "...", 4);
        len += 3;
    }
    /* messages quote request text: keep them UTF-8 whatever was sent */
    for (size_t i = 0; i < len;) {
        unsigned cp;
        int k =
            (unsigned char)e->message[i] < 0x80 ? 1 : aws_utf8_decode(e->message + i, len - i, &cp);
        if (k == 0) {
            e->message[i] = '?';
            k = 1;
        }
        i += (size_t)k;
    }
    return -ERR_INVALID;
}

/* ---- Timestamps and request ids --------------------------------------------------------- */

json_t *aws_json_time(int64_t epoch_ms)
{
    if (epoch_ms % 1000 == 0)
        return json_integer(epoch_ms / 1000);
    return json_real((double)epoch_ms / 1000.0);
}

int aws_json_set_time(json_t *obj, const char *key, int64_t epoch_ms)
{
    if (!json_is_object(obj))
        return -ERR_INVALID;
    return json_object_set_new(obj, key, aws_json_time(epoch_ms)) == 0 ? 0 : -ERR_INVALID;
}

#define TIME_LIMIT_S 253402300799LL /* 9999-12-31T23:59:59Z */

int aws_json_get_time(const json_t *v, int64_t *epoch_ms)
{
    if (json_is_integer(v)) {
        json_int_t s = json_integer_value(v);
        if (s < -TIME_LIMIT_S || s > TIME_LIMIT_S)
            return -ERR_INVALID;
        *epoch_ms = (int64_t)s * 1000;
        return 0;
    }
    if (json_is_real(v)) {
        double s = json_real_value(v);
        if (!isfinite(s) || s < (double)-TIME_LIMIT_S || s > (double)TIME_LIMIT_S)
            return -ERR_INVALID;
        *epoch_ms = (int64_t)llround(s * 1000.0);
        return 0;
    }
    return -ERR_INVALID;
}

void aws_iso8601(int64_t epoch_ms, char out[25])
{
    int64_t secs = epoch_ms / 1000, ms = epoch_ms % 1000;
    if (ms < 0) {
        ms += 1000;
        secs--;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, 25, "1970-01-01T00:00:00.000Z");
        return;
    }
    int year = tm.tm_year + 1900;
    char tmp[96];
    /* the fields are in range, but the compiler cannot know: give it room */
    snprintf(tmp, sizeof(tmp), "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
             (unsigned)(year < 0      ? 0
                        : year > 9999 ? 9999
                                      : year),
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
             (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u,
             (unsigned)ms % 1000u);
    memcpy(out, tmp, 24);
    out[24] = '\0';
}

void aws_request_id(char out[AWS_REQUEST_ID_LEN + 1])
{
    unsigned char b[16];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        /* no entropy (should not happen): still unique enough for log correlation */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        static unsigned counter;
        unsigned c = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
        memcpy(b, &ts.tv_sec, 8);
        memcpy(b + 8, &ts.tv_nsec, 4);
        memcpy(b + 12, &c, 4);
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    char hex[33];
    hex_encode(b, sizeof(b), hex);
    snprintf(out, AWS_REQUEST_ID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
             hex + 16, hex + 20);
}

/* ---- Pagination tokens ------------------------------------------------------------------ */

#define TOKEN_CHECK_LEN 8

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64url_value(char c)
{
    const char *p = c ? strchr(b64url, c) : NULL;
    return p ? (int)(p - b64url) : -1;
}

static void token_check(const char *scope, const unsigned char *payload, size_t len,
                        unsigned char out[SHA256_LEN])
{
    struct sha256 h;
    sha256_init(&h);
    sha256_update(&h, "vigil-page-token", sizeof("vigil-page-token"));
    sha256_update(&h, scope, strlen(scope) + 1);
    sha256_update(&h, payload, len);
    sha256_final(&h, out);
}

static int dump_to_buf(const char *s, size_t n, void *data)
{
    return buf_append((struct buf *)data, s, n) == 0 ? 0 : -1;
}

char *aws_page_token_encode(const char *scope, const json_t *state)
{
    if (!json_is_object(state))
        return NULL;
    struct buf raw;
    buf_init(&raw, AWS_TOKEN_MAX);
    if (json_dump_callback(state, dump_to_buf, &raw, JSON_COMPACT) != 0) {
        buf_release(&raw);
        return NULL;
    }
    unsigned char check[SHA256_LEN];
    token_check(scope, (const unsigned char *)raw.data, raw.len, check);
    if (buf_append(&raw, check, TOKEN_CHECK_LEN) != 0) {
        buf_release(&raw);
        return NULL;
    }
    size_t n = raw.len;
    size_t out_len = (n / 3) * 4 + (n % 3 ? n % 3 + 1 : 0);
    if (out_len > AWS_TOKEN_MAX) {
        buf_release(&raw);
        return NULL;
    }
    char *out = xmalloc(out_len + 1);
    const unsigned char *p = (const unsigned char *)raw.data;
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[k++] = b64url[(v >> 18) & 63];
        out[k++] = b64url[(v >> 12) & 63];
        if (i + 1 < n)
            out[k++] = b64url[(v >> 6) & 63];
        if (i + 2 < n)
            out[k++] = b64url[v & 63];
    }
    out[k] = '\0';
    buf_release(&raw);
    return out;
}

int aws_page_token_decode(const char *scope, const char *token, json_t **state)
{
    *state = NULL;
    size_t len = token ? strlen(token) : 0;
    if (len == 0 || len > AWS_TOKEN_MAX || len % 4 == 1)
        return -ERR_INVALID;
    unsigned char *raw = xmalloc(len);
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value(token[i]);
        if (v < 0) {
            free(raw);
            return -ERR_INVALID;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* leftover bits must be zero: one spelling per token */
    if (acc != 0 || n <= TOKEN_CHECK_LEN) {
        free(raw);
        return -ERR_INVALID;
    }
    unsigned char check[SHA256_LEN];
    size_t plen = n - TOKEN_CHECK_LEN;
    token_check(scope, raw, plen, check);
    unsigned diff = 0;
    for (size_t i = 0; i < TOKEN_CHECK_LEN; i++)
        diff |= check[i] ^ raw[plen + i];
    json_t *v = NULL;
    if (diff == 0)
        v = json_loadb((const char *)raw, plen, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    if (!json_is_object(v)) {
        json_decref(v);
        return -ERR_INVALID;
    }
    *state = v;
    return 0;
}

/* ---- Router ----------------------------------------------------------------------------- */

struct route {
    const struct aws_operation *op;
    api_handler_fn fn;
    void *ctx;
    bool anonymous;
};

struct api_router {
    struct route *routes;
    size_t n, cap;
    api_auth_fn auth;
    void *auth_ctx;
};

struct api_router *api_router_new(void)
{
    return xcalloc(1, sizeof(struct api_router));
}

void api_router_free(struct api_router *r)
{
    if (!r)
        return;
    free(r->routes);
    free(r);
}

static struct route *route_find(const struct api_router *r, const struct aws_operation *op)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->routes[i].op == op)
            return &r->routes[i];
    return NULL;
}

static int router_add(struct api_router *r, const char *service, enum aws_protocol proto,
                      const char *operation, api_handler_fn fn, void *ctx)
{
    enum aws_service svc;
    if (!aws_service_by_name(service, &svc))
        return -ENOENT;
    if (aws_service_def(svc)->protocol != proto)
        return -EINVAL;
    const struct aws_operation *op = aws_operation_find(svc, operation);
    if (!op)
        return -ENOENT;
    if (route_find(r, op))
        return -EEXIST;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->routes = xreallocarray(r->routes, r->cap, sizeof(*r->routes));
    }
    r->routes[r->n++] = (struct route){ op, fn, ctx, false };
    return 0;
}

int api_router_add_json(struct api_router *r, const char *target_prefix, const char *operation,
                        api_handler_fn fn, void *ctx)
{
    return router_add(r, target_prefix, AWS_PROTO_JSON, operation, fn, ctx);
}

int api_router_add_query(struct api_router *r, const char *service, const char *operation,
                         api_handler_fn fn, void *ctx)
{
    return router_add(r, service, AWS_PROTO_QUERY, operation, fn, ctx);
}

int api_router_allow_anonymous(struct api_router *r, const char *service, const char *operation)
{
    enum aws_service svc;
    if (!aws_service_by_name(service, &svc))
        return -ENOENT;
    const struct aws_operation *op = aws_operation_find(svc, operation);
    struct route *rt = op ? route_find(r, op) : NULL;
    if (!rt)
        return -ENOENT;
    rt->anonymous = true;
    return 0;
}

void api_router_set_auth(struct api_router *r, api_auth_fn fn, void *ctx)
{
    r->auth = fn;
    r->auth_ctx = ctx;
}

/* ---- Handler helpers -------------------------------------------------------------------- */

static const char *internal_code(enum aws_service svc)
{
    switch (svc) {
    case AWS_SVC_ECR:
        return "ServerException";
    case AWS_SVC_EVENTS:
        return "InternalException";
    case AWS_SVC_SNS:
        return "InternalError";
    }
    return "InternalFailure";
}

static int call_fail(struct api_call *call, int status, const char *code, const char *fmt,
                     va_list ap)
{
    const struct aws_error_def *def = aws_error_find(call->service, code);
    const char *wire = def ? def->code : code;
    bool sender;
    if (status == 0) {
        status = def                                               ? def->http_status
                 : strcmp(code, internal_code(call->service)) == 0 ? 500
                                                                   : 400;
    }
    sender = def && status == def->http_status ? def->sender : status < 500;
    char msg[AWS_ERROR_MSG_MAX + 1];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    aws_error_set(&call->err, status, sender, wire, "%s", msg);
    call->failed = true;
    return -ERR_INVALID;
}

int api_fail(struct api_call *call, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = call_fail(call, 0, code, fmt, ap);
    va_end(ap);
    return rc;
}

int api_fail_status(struct api_call *call, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = call_fail(call, status, code, fmt, ap);
    va_end(ap);
    return rc;
}

int api_fail_next_token(struct api_call *call)
{
    switch (call->service) {
    case AWS_SVC_ECR:
        return api_fail(call, "InvalidParameterException", "Invalid NextToken");
    case AWS_SVC_EVENTS:
        return api_fail(call, "ValidationException", "Invalid NextToken");
    case AWS_SVC_SNS:
        return api_fail(call, "InvalidParameter", "Invalid parameter: NextToken");
    }
    return api_fail(call, "InvalidParameterException", "Invalid NextToken");
}

/* ---- Dispatch --------------------------------------------------------------------------- */

#define JSON_CONTENT_TYPE  "application/x-amz-json-1.1"
#define QUERY_CONTENT_TYPE "text/xml"
#define FORM_CONTENT_TYPE  "application/x-www-form-urlencoded"

static bool has_form_type(const struct http_req *req)
{
    const char *ct = http_req_header(req, "Content-Type");
    return ct && strncasecmp(ct, FORM_CONTENT_TYPE, sizeof(FORM_CONTENT_TYPE) - 1) == 0 &&
           (ct[sizeof(FORM_CONTENT_TYPE) - 1] == '\0' || ct[sizeof(FORM_CONTENT_TYPE) - 1] == ';' ||
            ct[sizeof(FORM_CONTENT_TYPE) - 1] == ' ');
}

static bool query_has_action(const char *q)
{
    if (!q)
        return false;
    for (const char *p = q; p; p = strchr(p, '&')) {
        if (*p == '&')
            p++;
        if (strncmp(p, "Action=", 7) == 0)
            return true;
    }
    return false;
}

bool api_request_is_aws(const struct http_req *req)
{
    if (http_req_header(req, "X-Amz-Target"))
        return true;
    if (req->method == HTTP_POST && has_form_type(req))
        return true;
    return (req->method == HTTP_GET || req->method == HTTP_POST) &&
           query_has_action(req->raw_query);
}

static void auth_error(enum api_auth_status st, bool query, const char *msg, struct aws_error *err)
{
    const char *json_code = "InvalidSignatureException", *query_code = "SignatureDoesNotMatch";
    const char *text = "The request signature we calculated does not match the signature you "
                       "provided. Check your AWS Secret Access Key and signing method. Consult "
                       "the service documentation for details.";
    switch (st) {
    case API_AUTH_MISSING:
        json_code = "MissingAuthenticationTokenException";
        query_code = "MissingAuthenticationToken";
        text = "Missing Authentication Token";
        break;
    case API_AUTH_INCOMPLETE:
        json_code = "IncompleteSignatureException";
        query_code = "IncompleteSignature";
        text = "The request signature does not conform to AWS standards.";
        break;
    case API_AUTH_UNKNOWN_KEY:
        json_code = "UnrecognizedClientException";
        query_code = "InvalidClientTokenId";
        text = "The security token included in the request is invalid.";
        break;
    case API_AUTH_EXPIRED:
        text = "Signature expired.";
        break;
    case API_AUTH_DENIED:
        json_code = "AccessDeniedException";
        query_code = "AuthorizationError";
        text = "User is not authorized to perform this action.";
        break;
    case API_AUTH_OK:
    case API_AUTH_MISMATCH:
    case API_AUTH_REPLAYED:
        break;
    }
    aws_error_set(err, query ? 403 : 400, true, query ? query_code : json_code, "%s",
                  msg && *msg ? msg : text);
}

static bool authenticate(struct api_router *r, struct http_req *req, const struct route *rt,
                         bool query, struct aws_error *err)
{
    if (!r->auth)
        return true;
    struct api_auth_info info = {
        .service = rt->op->service,
        .signing_name = aws_service_def(rt->op->service)->signing_name,
        .operation = rt->op->name,
        .anonymous_ok = rt->anonymous,
    };
    char msg[1024] = "";
    enum api_auth_status st = r->auth(r->auth_ctx, req, &info, msg, sizeof(msg));
    if (st == API_AUTH_OK)
        return true;
    msg[sizeof(msg) - 1] = '\0';
    auth_error(st, query, msg, err);
    return false;
}

static void common_headers(struct http_req *req, struct http_resp *resp, const char *rid)
{
    http_resp_header(req, resp, "x-amzn-RequestId", "%s", rid);
}

static void json_error_response(struct http_req *req, struct http_resp *resp, const char *rid,
                                const struct aws_error *err)
{
    char *body = aws_json_error_body(err);
    common_headers(req, resp, rid);
    http_resp_header(req, resp, "x-amzn-ErrorType", "%s", err->code);
    http_resp_set(req, resp, err->status, JSON_CONTENT_TYPE, body, strlen(body));
    free(body);
}

static void query_error_response(struct http_req *req, struct http_resp *resp, const char *rid,
                                 const char *xmlns, const struct aws_error *err)
{
    struct buf b;
    buf_init(&b, AWS_RESPONSE_MAX);
    aws_xml_error(&b, xmlns, err, rid);
    common_headers(req, resp, rid);
    http_resp_set(req, resp, err->status, QUERY_CONTENT_TYPE, buf_cstr(&b), b.len);
    buf_release(&b);
}

static bool body_readable(const struct http_req *req, struct aws_error *err)
{
    if (req->body_err == -ERR_TOO_BIG || req->body.len > AWS_BODY_MAX) {
        aws_error_set(err, 413, true, "RequestEntityTooLarge",
                      "Request body exceeds the limit of %u bytes", AWS_BODY_MAX);
        return false;
    }
    if (req->body_err) {
        aws_error_set(err, 400, true, "IncompleteBody", "The request body could not be read");
        return false;
    }
    return true;
}

static int run_handler(const struct route *rt, struct api_call *call)
{
    int rc = rt->fn(rt->ctx, call);
    if (rc < 0 && !call->failed) {
        log_warn("api", "%s.%s failed without an error: %d",
                 aws_service_def(call->service)->signing_name, call->operation, rc);
        aws_error_set(&call->err, 500, false, internal_code(call->service),
                      "An internal error occurred");
        call->failed = true;
    }
    if (rc >= 0 && call->failed)
        rc = -ERR_INVALID; /* an error was set: it wins */
    return rc;
}

static void dispatch_json(struct api_router *r, struct http_req *req, struct http_resp *resp,
                          const char *rid, const char *target)
{
    struct aws_error err = { 0 };
    if (!body_readable(req, &err)) {
        json_error_response(req, resp, rid, &err);
        resp->close = true;
        return;
    }
    /* "<prefix>.<Operation>"; Coral answers an unknown target with a bare 400 */
    const struct route *rt = NULL;
    const char *dot = strrchr(target, '.');
    if (dot && req->method == HTTP_POST && (size_t)(dot - target) < 128) {
        char prefix[128];
        memcpy(prefix, target, (size_t)(dot - target));
        prefix[dot - target] = '\0';
        enum aws_service svc;
        if (aws_service_by_name(prefix, &svc) && aws_service_def(svc)->protocol == AWS_PROTO_JSON &&
            strcmp(aws_service_def(svc)->target_prefix, prefix) == 0) {
            const struct aws_operation *op = aws_operation_find(svc, dot + 1);
            rt = op ? route_find(r, op) : NULL;
        }
    }
    if (!rt) {
        aws_error_set(&err, 400, true, "UnknownOperationException", "%s", "");
        err.no_message = true;
        json_error_response(req, resp, rid, &err);
        return;
    }
    if (!authenticate(r, req, rt, false, &err)) {
        json_error_response(req, resp, rid, &err);
        return;
    }
    json_t *input = NULL;
    if (aws_json_decode_input(rt->op, req->body.data, req->body.len, &input, &err) != 0) {
        json_error_response(req, resp, rid, &err);
        return;
    }
    struct api_call call = {
        .req = req,
        .service = rt->op->service,
        .operation = rt->op->name,
        .request_id = rid,
        .input = input,
    };
    int rc = run_handler(rt, &call);
    json_decref(input);
    if (rc < 0) {
        json_decref(call.output);
        json_error_response(req, resp, rid, &call.err);
        return;
    }
    struct buf b;
    buf_init(&b, AWS_RESPONSE_MAX);
    json_t *out = call.output ? call.output : json_object();
    int drc = json_is_object(out)
                  ? json_dump_callback(out, dump_to_buf, &b, JSON_COMPACT | JSON_REAL_PRECISION(15))
                  : -1;
    json_decref(out);
    if (drc != 0) {
        log_error("api", "%s: cannot encode the response (%zu bytes so far)", rt->op->name, b.len);
        buf_release(&b);
        aws_error_set(&err, 500, false, internal_code(rt->op->service),
                      "An internal error occurred");
        json_error_response(req, resp, rid, &err);
        return;
    }
    common_headers(req, resp, rid);
    http_resp_set(req, resp, 200, JSON_CONTENT_TYPE, buf_cstr(&b), b.len);
    buf_release(&b);
}

/* The Query route for Action (and Version, when given). */
static const struct route *query_route(const struct api_router *r, const char *action,
                                       const char *version, bool *version_bad)
{
    const struct route *any = NULL;
    *version_bad = false;
    for (size_t i = 0; i < r->n; i++) {
        const struct route *rt = &r->routes[i];
        const struct aws_service_def *sd = aws_service_def(rt->op->service);
        if (sd->protocol != AWS_PROTO_QUERY || strcmp(rt->op->name, action) != 0)
            continue;
        if (!version || strcmp(version, sd->api_version) == 0)
            return rt;
        any = rt;
    }
    *version_bad = any != NULL;
    return NULL;
}

static const char *default_xmlns(void)
{
    for (int s = 0; s < AWS_SVC_COUNT; s++)
        if (aws_service_def((enum aws_service)s)->protocol == AWS_PROTO_QUERY)
            return aws_service_def((enum aws_service)s)->xml_namespace;
    return NULL;
}

static void dispatch_query(struct api_router *r, struct http_req *req, struct http_resp *resp,
                           const char *rid)
{
    struct aws_error err = { 0 };
    const char *xmlns = default_xmlns();
    if (!body_readable(req, &err)) {
        query_error_response(req, resp, rid, xmlns, &err);
        resp->close = true;
        return;
    }
    struct str text;
    if (req->method == HTTP_POST && has_form_type(req))
        text = buf_str(&req->body);
    else
        text = str_from(req->raw_query);
    struct aws_form form;
    if (aws_form_parse(text, &form, &err) != 0) {
        query_error_response(req, resp, rid, xmlns, &err);
        return;
    }
    json_t *input = NULL;
    const char *action = aws_form_get(&form, "Action");
    const char *version = aws_form_get(&form, "Version");
    bool version_bad;
    const struct route *rt = action ? query_route(r, action, version, &version_bad) : NULL;
    if (!action) {
        aws_error_set(&err, 400, true, "MissingAction",
                      "The request must contain the parameter Action.");
        goto error;
    }
    if (!rt && version_bad) {
        aws_error_set(&err, 400, true, "InvalidParameterValue",
                      "Value (%s) for parameter Version is invalid.", version);
        goto error;
    }
    if (!rt) {
        aws_error_set(&err, 400, true, "InvalidAction",
                      "The action %s is not valid for this web service.", action);
        goto error;
    }
    const struct aws_service_def *sd = aws_service_def(rt->op->service);
    xmlns = sd->xml_namespace;
    if (!authenticate(r, req, rt, true, &err))
        goto error;
    if (aws_query_decode_input(rt->op, &form, &input, &err) != 0)
        goto error;
    aws_form_release(&form);

    struct buf b;
    buf_init(&b, AWS_RESPONSE_MAX);
    struct xml_writer w;
    xml_writer_init(&w, &b);
    char root[96];
    snprintf(root, sizeof(root), "%sResponse", rt->op->name);
    xml_open_ns(&w, root, xmlns);
    if (rt->op->has_output)
        xml_open(&w, rt->op->result_wrapper ? rt->op->result_wrapper : "Result");
    struct api_call call = {
        .req = req,
        .service = rt->op->service,
        .operation = rt->op->name,
        .request_id = rid,
        .input = input,
        .xml = rt->op->has_output ? &w : NULL,
    };
    int rc = run_handler(rt, &call);
    json_decref(input);
    json_decref(call.output);
    if (rc < 0) {
        buf_release(&b);
        query_error_response(req, resp, rid, xmlns, &call.err);
        return;
    }
    /* close what the handler left open, and the result wrapper */
    while (w.err == 0 && w.depth > 1)
        xml_close(&w);
    xml_open(&w, "ResponseMetadata");
    xml_text(&w, "RequestId", rid);
    xml_close(&w);
    xml_close(&w);
    if (xml_writer_finish(&w) != 0) {
        log_error("api", "%s: cannot encode the response (%zu bytes so far)", rt->op->name, b.len);
        buf_release(&b);
        aws_error_set(&err, 500, false, internal_code(rt->op->service),
                      "An internal error occurred");
        query_error_response(req, resp, rid, xmlns, &err);
        return;
    }
    common_headers(req, resp, rid);
    http_resp_set(req, resp, 200, QUERY_CONTENT_TYPE, buf_cstr(&b), b.len);
    buf_release(&b);
    return;

error:
    aws_form_release(&form);
    json_decref(input);
    query_error_response(req, resp, rid, xmlns, &err);
}

void api_dispatch(struct api_router *r, struct http_req *req, struct http_resp *resp)
{
    char rid[AWS_REQUEST_ID_LEN + 1];
    aws_request_id(rid);
    const char *target = http_req_header(req, "X-Amz-Target");
    if (target)
        dispatch_json(r, req, resp, rid, target);
    else
        dispatch_query(r, req, resp, rid);
}
