/* SPDX-License-Identifier: Apache-2.0 */
/* SMTP delivery through libcurl: relay configuration (one URL with options), easy-handle
 * setup that a multi handle can reuse, reply capture and the retry/reject classification. */
#include "deliver/smtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "deliver/internal.h"
#include "deliver/mime.h"

void smtp_config_init(struct smtp_config *c)
{
    memset(c, 0, sizeof(*c));
    c->tls_verify = true;
    c->connect_timeout_ms = SMTP_CONNECT_TIMEOUT_MS;
    c->timeout_ms = SMTP_TIMEOUT_MS;
}

void smtp_config_release(struct smtp_config *c)
{
    free(c->url);
    free(c->user);
    if (c->password) {
        explicit_bzero(c->password, strlen(c->password));
        free(c->password);
    }
    free(c->ca_file);
    smtp_config_init(c);
}

static bool parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on")) {
        *out = true;
        return true;
    }
    if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "off")) {
        *out = false;
        return true;
    }
    return false;
}

static bool parse_starttls(const char *v, enum smtp_tls *out)
{
    if (!strcmp(v, "required"))
        *out = SMTP_TLS_STARTTLS;
    else if (!strcmp(v, "try"))
        *out = SMTP_TLS_TRY;
    else if (!strcmp(v, "no"))
        *out = SMTP_TLS_NONE;
    else
        return false;
    return true;
}

static bool parse_seconds(const char *v, long *ms)
{
    unsigned long long s;
    if (!str_to_u64(str_from(v), &s) || s == 0 || s > 3600)
        return false;
    *ms = (long)s * 1000;
    return true;
}

/* key=value pairs of the query; values percent-decoded. */
static int parse_options(struct smtp_config *c, const char *query, bool implicit, struct diag *d)
{
    struct str cur = str_from(query), item;
    while (cur.len) {
        str_cut(&cur, '&', &item);
        if (item.len == 0)
            continue;
        struct str key;
        if (!str_cut(&item, '=', &key))
            return diag_set(d, -ERR_INVALID, 0, "SMTP URL option '%.*s' has no value",
                            (int)(key.len > 40 ? 40 : key.len), key.ptr);
        struct buf vb;
        buf_init(&vb, 4096);
        if (dlv_pct_decode(&vb, item) != 0) {
            buf_release(&vb);
            return diag_set(d, -ERR_INVALID, 0, "SMTP URL option '%.*s' has a bad %%-escape",
                            (int)(key.len > 40 ? 40 : key.len), key.ptr);
        }
        const char *v = buf_cstr(&vb);
        bool ok = true;
        if (str_eq_cstr(key, "starttls")) {
            /* smtps:// is TLS from the first byte: STARTTLS does not apply */
            ok = !implicit && parse_starttls(v, &c->tls);
        } else if (str_eq_cstr(key, "verify")) {
            ok = parse_bool(v, &c->tls_verify);
        } else if (str_eq_cstr(key, "cafile")) {
            ok = *v != '\0';
            if (ok) {
                free(c->ca_file);
                c->ca_file = xstrdup(v);
            }
        } else if (str_eq_cstr(key, "auth")) {
            if (!strcmp(v, "any"))
                c->auth = SMTP_AUTH_ANY;
            else if (!strcmp(v, "plain"))
                c->auth = SMTP_AUTH_PLAIN;
            else if (!strcmp(v, "login"))
                c->auth = SMTP_AUTH_LOGIN;
            else
                ok = false;
        } else if (str_eq_cstr(key, "connect_timeout")) {
            ok = parse_seconds(v, &c->connect_timeout_ms);
        } else if (str_eq_cstr(key, "timeout")) {
            ok = parse_seconds(v, &c->timeout_ms);
        } else {
            buf_release(&vb);
            return diag_set(d, -ERR_INVALID, 0,
                            "unknown SMTP URL option '%.*s' (known: starttls, verify, cafile, "
                            "auth, connect_timeout, timeout)",
                            (int)(key.len > 40 ? 40 : key.len), key.ptr);
        }
        if (!ok) {
            int err = diag_set(d, -ERR_INVALID, 0, "SMTP URL option '%.*s': bad value '%.40s'%s",
                               (int)key.len, key.ptr, v,
                               implicit && str_eq_cstr(key, "starttls")
                                   ? " (smtps:// is TLS from the start)"
                                   : "");
            buf_release(&vb);
            return err;
        }
        buf_release(&vb);
    }
    return 0;
}

int smtp_config_parse(struct smtp_config *c, const char *spec, struct diag *d)
{
    deliver_curl_init();
    int err = 0;
    char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL, *pass = NULL;
    char *path = NULL, *query = NULL, *frag = NULL;
    CURLU *u = curl_url();
    BUG_ON(!u);
    if (!spec || strlen(spec) > 4096 ||
        curl_url_set(u, CURLUPART_URL, spec, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
        err = diag_set(d, -ERR_INVALID, 0, "SMTP relay is not a URL (smtp://host:port)");
        goto out;
    }
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (!scheme || (strcasecmp(scheme, "smtp") != 0 && strcasecmp(scheme, "smtps") != 0)) {
        err = diag_set(d, -ERR_INVALID, 0, "SMTP relay URL must start with smtp:// or smtps://");
        goto out;
    }
    bool implicit = strcasecmp(scheme, "smtps") == 0;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host) {
        err = diag_set(d, -ERR_INVALID, 0, "SMTP relay URL has no host");
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    curl_url_get(u, CURLUPART_USER, &user, CURLU_URLDECODE);
    curl_url_get(u, CURLUPART_PASSWORD, &pass, CURLU_URLDECODE);
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    curl_url_get(u, CURLUPART_FRAGMENT, &frag, 0);
    if ((path && strcmp(path, "/") != 0 && *path) || frag) {
        err = diag_set(d, -ERR_INVALID, 0, "SMTP relay URL may not have a path or fragment");
        goto out;
    }
    if ((user && (strchr(user, '\r') || strchr(user, '\n'))) ||
        (pass && (strchr(pass, '\r') || strchr(pass, '\n')))) {
        err = diag_set(d, -ERR_INVALID, 0, "SMTP user or password contains CR/LF");
        goto out;
    }
    c->tls = implicit ? SMTP_TLS_IMPLICIT : SMTP_TLS_NONE;
    if (query && (err = parse_options(c, query, implicit, d)))
        goto out;
    free(c->url);
    c->url = port ? xasprintf("%s://%s:%s", implicit ? "smtps" : "smtp", host, port)
                  : xasprintf("%s://%s", implicit ? "smtps" : "smtp", host);
    if (user && *user) {
        free(c->user);
        c->user = xstrdup(user);
        if (c->password) {
            explicit_bzero(c->password, strlen(c->password));
            free(c->password);
        }
        c->password = xstrdup(pass ? pass : "");
    }
out:
    if (pass)
        explicit_bzero(pass, strlen(pass));
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(user);
    curl_free(pass);
    curl_free(path);
    curl_free(query);
    curl_free(frag);
    curl_url_cleanup(u);
    return err;
}

/* ---- one transfer ---- */

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *ud)
{
    struct smtp_xfer *x = ud;
    size_t room = size * nmemb, left = x->msg_len - x->msg_off;
    size_t n = left < room ? left : room;
    memcpy(dst, x->msg + x->msg_off, n);
    x->msg_off += n;
    return n;
}

/* libcurl hands every SMTP reply line to the header callback. */
static size_t reply_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    struct smtp_xfer *x = ud;
    size_t n = size * nmemb;
    struct str line = str_make(p, n);
    dlv_summary(x->last, sizeof(x->last), line);
    if (n >= 3 && (p[0] == '4' || p[0] == '5') && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
        p[2] <= '9') {
        memcpy(x->failed, x->last, sizeof(x->failed));
        x->failed_code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    }
    return n;
}

void smtp_xfer_release(struct smtp_xfer *x)
{
    curl_slist_free_all(x->rcpt);
    memset(x, 0, sizeof(*x));
}

int smtp_easy_setup(CURL *e, const struct smtp_config *c, const char *mail_from,
                    const char *const *rcpt, size_t n_rcpt, struct str message, struct smtp_xfer *x,
                    struct diag *d)
{
    memset(x, 0, sizeof(*x));
    int err;
    if (!c->url)
        return diag_set(d, -ERR_INVALID, 0, "no SMTP relay configured");
    if (!mail_from || (err = mime_addr_check(str_from(mail_from), d)))
        return mail_from ? diag_prefix(d, err, "envelope sender: ")
                         : diag_set(d, -ERR_INVALID, 0, "no envelope sender");
    if (n_rcpt == 0)
        return diag_set(d, -ERR_INVALID, 0, "no recipients");
    if (n_rcpt > SMTP_RCPT_MAX)
        return diag_set(d, -ERR_TOO_BIG, 0, "more than %d recipients", SMTP_RCPT_MAX);
    if (message.len > SMTP_MESSAGE_MAX)
        return diag_set(d, -ERR_TOO_BIG, 0, "message is larger than %zu bytes", SMTP_MESSAGE_MAX);
    for (size_t i = 0; i < n_rcpt; i++) {
        if ((err = mime_addr_check(str_from(rcpt[i]), d))) {
            smtp_xfer_release(x);
            return diag_prefix(d, err, "recipient: ");
        }
        char *a = xasprintf("<%s>", rcpt[i]);
        struct curl_slist *l = curl_slist_append(x->rcpt, a);
        free(a);
        BUG_ON(!l);
        x->rcpt = l;
    }
    snprintf(x->from, sizeof(x->from), "<%s>", mail_from);
    x->msg = message.ptr;
    x->msg_len = message.len;

    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, x->from);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, x->rcpt);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)message.len);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(e, CURLOPT_READDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, reply_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    long use_ssl = CURLUSESSL_NONE;
    if (c->tls == SMTP_TLS_STARTTLS || c->tls == SMTP_TLS_IMPLICIT)
        use_ssl = CURLUSESSL_ALL;
    else if (c->tls == SMTP_TLS_TRY)
        use_ssl = CURLUSESSL_TRY;
    curl_easy_setopt(e, CURLOPT_USE_SSL, use_ssl);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
    if (c->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
    if (c->user) {
        curl_easy_setopt(e, CURLOPT_USERNAME, c->user);
        curl_easy_setopt(e, CURLOPT_PASSWORD, c->password ? c->password : "");
        const char *mech = c->auth == SMTP_AUTH_PLAIN   ? "AUTH=PLAIN"
                           : c->auth == SMTP_AUTH_LOGIN ? "AUTH=LOGIN"
                                                        : "AUTH=*";
        curl_easy_setopt(e, CURLOPT_LOGIN_OPTIONS, mech);
    }
    return 0;
}

enum deliver_outcome smtp_classify(CURLcode rc, int code)
{
    if (rc == CURLE_OK)
        return DELIVER_OK;
    if (rc == CURLE_LOGIN_DENIED)
        return DELIVER_RETRY;
    if (code >= 500 && code <= 599) {
        if (code == 530 || code == 534 || code == 535 || code == 538)
            return DELIVER_RETRY;
        return DELIVER_REJECTED;
    }
    return DELIVER_RETRY;
}

void smtp_xfer_result(struct smtp_xfer *x, CURL *e, CURLcode rc, struct smtp_result *r)
{
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    memset(r, 0, sizeof(*r));
    if (rc != CURLE_OK && x->failed_code) {
        /* the reply that failed the transaction, not the QUIT that may follow it */
        r->code = x->failed_code;
        snprintf(r->text, sizeof(r->text), "%s", x->failed);
    } else if (rc != CURLE_OK) {
        /* no failing reply (connection, TLS, timeout): the last code says nothing */
        r->code = 0;
        const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
        char line[200];
        dlv_summary(line, sizeof(line), str_from(why));
        snprintf(r->text, sizeof(r->text), "%s", line);
    } else {
        r->code = (int)code;
        snprintf(r->text, sizeof(r->text), "%s", x->last);
    }
    r->outcome = smtp_classify(rc, r->code);
}

int smtp_send(const struct smtp_config *c, const char *mail_from, const char *const *rcpt,
              size_t n_rcpt, struct str message, struct smtp_result *r)
{
    deliver_curl_init();
    memset(r, 0, sizeof(*r));
    struct smtp_xfer x;
    struct diag d = { 0 };
    CURL *e = curl_easy_init();
    BUG_ON(!e);
    int err = smtp_easy_setup(e, c, mail_from, rcpt, n_rcpt, message, &x, &d);
    if (err) {
        r->outcome = DELIVER_REJECTED;
        snprintf(r->text, sizeof(r->text), "%s", d.msg);
        curl_easy_cleanup(e);
        return err;
    }
    CURLcode rc = curl_easy_perform(e);
    smtp_xfer_result(&x, e, rc, r);
    smtp_xfer_release(&x);
    curl_easy_cleanup(e);
    return r->outcome == DELIVER_OK ? 0 : -ERR_NETWORK;
}
