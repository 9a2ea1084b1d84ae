/* SPDX-License-Identifier: Apache-2.0 */
/* One HTTP(S) POST of a body with headers through libcurl, as SNS delivers to http/https
 * subscriptions: 15 s per attempt, redirects not followed, TLS verified, and the answer
 * classified (2xx/3xx delivered, 4xx rejected for good, 5xx / timeout / connection error
 * retried). */
#ifndef VIGIL_DELIVER_WEBHOOK_H
#define VIGIL_DELIVER_WEBHOOK_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/str.h"
#include "deliver/deliver.h"

#define WEBHOOK_TIMEOUT_MS         15000 /* SNS: a response must come within 15 s */
#define WEBHOOK_CONNECT_TIMEOUT_MS 10000
#define WEBHOOK_URL_MAX            2048
#define WEBHOOK_HEADERS_MAX        32
#define WEBHOOK_BODY_MAX           ((size_t)4 << 20)
#define WEBHOOK_RESPONSE_MAX       ((size_t)64 << 10) /* read and dropped beyond this */

struct webhook_opts {
    long timeout_ms;         /* 0 = WEBHOOK_TIMEOUT_MS */
    long connect_timeout_ms; /* 0 = WEBHOOK_CONNECT_TIMEOUT_MS (never above timeout_ms) */
    bool insecure;           /* skip TLS certificate and host name verification */
    const char *ca_file;     /* CA bundle; NULL = the system store */
};

struct webhook_result {
    enum deliver_outcome outcome;
    long status;     /* HTTP status, 0 when no response arrived */
    char error[256]; /* "HTTP 503: <start of the body>" / the transport error; "" when 2xx */
};

/* Per-transfer state (also for a curl multi handle). The body is borrowed. */
struct webhook_xfer {
    struct curl_slist *headers;
    size_t got;        /* response bytes seen */
    char snippet[160]; /* start of the response body, for error messages */
    size_t snippet_len;
    char errbuf[CURL_ERROR_SIZE];
};

/* Prepare easy handle e for POST `body` to `url` (http:// or https:// only) with the given
 * "Name: value" headers. A Content-Type of "text/plain; charset=UTF-8" is added unless one is
 * given; curl's "Expect: 100-continue" is turned off. Header lines with CR, LF or other
 * controls, or without "Name:", are refused (-ERR_INVALID); limits above -> -ERR_TOO_BIG.
 * o may be NULL (defaults). */
int webhook_easy_setup(CURL *e, const char *url, struct str body, const char *const *headers,
                       size_t n_headers, const struct webhook_opts *o, struct webhook_xfer *x,
                       struct diag *d);
void webhook_xfer_result(struct webhook_xfer *x, CURL *e, CURLcode rc, struct webhook_result *r);
void webhook_xfer_release(struct webhook_xfer *x);

/* Blocking POST. 0 when delivered; -ERR_NETWORK when not (r says retry or rejected);
 * -ERR_INVALID / -ERR_TOO_BIG for bad input (nothing sent; r->outcome DELIVER_REJECTED). */
int webhook_post(const char *url, struct str body, const char *const *headers, size_t n_headers,
                 const struct webhook_opts *o, struct webhook_result *r);

/* Pure classification: a transport error (rc != CURLE_OK with no complete status) is retried;
 * 200-399 delivered; 400-499 rejected (SNS: a client error is a permanent failure, not
 * retried); 100-199 and 500-599 retried. */
enum deliver_outcome webhook_classify(CURLcode rc, long status);

#endif
