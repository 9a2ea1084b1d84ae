/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP(S) POST delivery with libcurl: header validation, no redirects, bounded response
 * reading, and the SNS classification of the answer. */
#include "deliver/webhook.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/xalloc.h"
#include "deliver/internal.h"

static size_t sink_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    struct webhook_xfer *x = ud;
    size_t n = size * nmemb;
    if (x->snippet_len < sizeof(x->snippet)) {
        size_t k = sizeof(x->snippet) - x->snippet_len;
        k = k < n ? k : n;
        memcpy(x->snippet + x->snippet_len, p, k);
        x->snippet_len += k;
    }
    x->got += n;
    /* a receiver that streams an endless answer is cut off; the status is already known */
    return x->got > WEBHOOK_RESPONSE_MAX ? 0 : n;
}

void webhook_xfer_release(struct webhook_xfer *x)
{
    curl_slist_free_all(x->headers);
    memset(x, 0, sizeof(*x));
}

static int check_header(const char *h, struct diag *d)
{
    const char *colon = strchr(h, ':');
    if (!colon || colon == h)
        return diag_set(d, -ERR_INVALID, 0, "header '%.60s' is not 'Name: value'", h);
    for (const char *p = h; p < colon; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f)
            return diag_set(d, -ERR_INVALID, (size_t)(p - h),
                            "header name contains a space, control or non-ASCII character");
    }
    for (const char *p = colon + 1; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return diag_set(d, -ERR_INVALID, (size_t)(p - h),
                            "header '%.*s' contains %s (header injection refused)",
                            (int)(colon - h > 60 ? 60 : colon - h), h,
                            c == '\r'   ? "CR"
                            : c == '\n' ? "LF"
                                        : "a control character");
    }
    return 0;
}

int webhook_easy_setup(CURL *e, const char *url, struct str body, const char *const *headers,
                       size_t n_headers, const struct webhook_opts *o, struct webhook_xfer *x,
                       struct diag *d)
{
    static const struct webhook_opts defaults = { 0 };
    if (!o)
        o = &defaults;
    memset(x, 0, sizeof(*x));
    size_t ul = url ? strlen(url) : 0;
    if (ul == 0 || ul > WEBHOOK_URL_MAX)
        return diag_set(d, -ERR_INVALID, 0, "webhook URL must be 1 to %d bytes", WEBHOOK_URL_MAX);
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return diag_set(d, -ERR_INVALID, 0, "webhook URL must start with http:// or https://");
    for (size_t i = 0; i < ul; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] == 0x7f)
            return diag_set(d, -ERR_INVALID, i,
                            "webhook URL contains a space or control character");
    if (body.len > WEBHOOK_BODY_MAX)
        return diag_set(d, -ERR_TOO_BIG, 0, "body is larger than %zu bytes", WEBHOOK_BODY_MAX);
    if (n_headers > WEBHOOK_HEADERS_MAX)
        return diag_set(d, -ERR_TOO_BIG, 0, "more than %d headers", WEBHOOK_HEADERS_MAX);
    bool has_ct = false;
    for (size_t i = 0; i < n_headers; i++) {
        int err = check_header(headers[i], d);
        if (err) {
            webhook_xfer_release(x);
            return err;
        }
        has_ct |= strncasecmp(headers[i], "Content-Type:", 13) == 0;
        x->headers = curl_slist_append(x->headers, headers[i]);
        BUG_ON(!x->headers);
    }
    if (!has_ct)
        x->headers = curl_slist_append(x->headers, "Content-Type: text/plain; charset=UTF-8");
    x->headers = curl_slist_append(x->headers, "Expect:");
    BUG_ON(!x->headers);

    long timeout = o->timeout_ms > 0 ? o->timeout_ms : WEBHOOK_TIMEOUT_MS;
    long connect = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : WEBHOOK_CONNECT_TIMEOUT_MS;
    if (connect > timeout)
        connect = timeout;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.len ? body.ptr : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
    if (o->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
    return 0;
}

enum deliver_outcome webhook_classify(CURLcode rc, long status)
{
    (void)rc; /* a status decides when there is one: a cut-off body does not matter */
    if (status >= 200 && status <= 399)
        return DELIVER_OK;
    if (status >= 400 && status <= 499)
        return DELIVER_REJECTED;
    return DELIVER_RETRY;
}

void webhook_xfer_result(struct webhook_xfer *x, CURL *e, CURLcode rc, struct webhook_result *r)
{
    memset(r, 0, sizeof(*r));
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    /* without a finished transfer, a status only counts if the whole header arrived and the
     * transfer stopped because we cut the body off */
    if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR)
        status = 0;
    r->status = status;
    r->outcome = webhook_classify(rc, status);
    if (status == 0) {
        const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
        dlv_summary(r->error, sizeof(r->error), str_from(why));
    } else if (r->outcome != DELIVER_OK) {
        char snip[sizeof(x->snippet) + 1];
        dlv_summary(snip, sizeof(snip), str_make(x->snippet, x->snippet_len));
        snprintf(r->error, sizeof(r->error), "HTTP %ld%s%s", status, snip[0] ? ": " : "", snip);
    }
}

int webhook_post(const char *url, struct str body, const char *const *headers, size_t n_headers,
                 const struct webhook_opts *o, struct webhook_result *r)
{
    deliver_curl_init();
    memset(r, 0, sizeof(*r));
    struct webhook_xfer x;
    struct diag d = { 0 };
    CURL *e = curl_easy_init();
    BUG_ON(!e);
    int err = webhook_easy_setup(e, url, body, headers, n_headers, o, &x, &d);
    if (err) {
        r->outcome = DELIVER_REJECTED;
        snprintf(r->error, sizeof(r->error), "%s", d.msg);
        curl_easy_cleanup(e);
        return err;
    }
    CURLcode rc = curl_easy_perform(e);
    webhook_xfer_result(&x, e, rc, r);
    webhook_xfer_release(&x);
    curl_easy_cleanup(e);
    return r->outcome == DELIVER_OK ? 0 : -ERR_NETWORK;
}
