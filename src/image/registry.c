/* SPDX-License-Identifier: Apache-2.0 */
/* docker://HOST/REPO[:TAG|@DIGEST] — a registry client over libcurl's multi interface: one
 * multi handle per source keeps the connection pool, so requests reuse one connection. Blob
 * bodies are pulled by the reader through a bounded window (the transfer is paused when the
 * window is full), so a layer is never held in memory whole. Auth: anonymous, Basic, and the
 * Bearer token flow; redirects are followed by hand so credentials never leave the registry's
 * own origin. */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/hash.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "image/internal.h"
#include "image/manifest.h"

#define CONNECT_TIMEOUT_MS 10000L
#define REQUEST_TIMEOUT_MS 120000L /* whole request, for everything but blob streams */
#define LOW_SPEED_BYTES    1024L   /* abort a transfer slower than this ... */
#define LOW_SPEED_SECONDS  30L     /* ... for this long (paused transfers are exempt) */
#define STREAM_WINDOW      (1u << 20)
#define ERROR_BODY_MAX     (64u << 10)
#define TOKEN_BODY_MAX     (1u << 20)
#define HEADER_VALUE_MAX   8192
#define MAX_REDIRECTS      5
#define POLL_MS            1000

static const char ACCEPT_MANIFESTS[] =
    "Accept: " MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST;

/* State shared by a source and the blob readers it opened (refcounted: a reader may be
 * closed after its source). Not thread-safe: one thread at a time uses a source and its
 * readers. */
struct reg_conn {
    int refs;
    CURLM *multi;
    char *host; /* host[:port] to connect to */
    char *base; /* "https://host" or "http://host", set by the probe */
    char *repo;
    char *auth; /* "Authorization: ..." header line or NULL */
    bool auth_is_basic;
    char *username;
    char *password;
    bool tls_verify;
    bool insecure_http; /* plain HTTP allowed for any host */
    bool probed;
};

struct xfer {
    struct reg_conn *c;
    CURL *easy;
    struct curl_slist *hdrs;
    char *url;
    long status;
    bool headers_done;
    bool done;
    bool stream;
    bool paused;
    bool too_big;
    CURLcode result;
    char *content_type;
    char *docker_digest;
    char *www_auth;
    struct buf body;
    size_t body_off; /* stream mode: bytes of body already handed out */
    char errbuf[CURL_ERROR_SIZE];
};

struct reg_source {
    struct image_source base;
    struct reg_conn *c;
};

/* ---- small helpers ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void base64_encode(const unsigned char *p, size_t n, struct buf *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = { tbl[(v >> 18) & 63], tbl[(v >> 12) & 63],
                      (char)(i + 1 < n ? tbl[(v >> 6) & 63] : '='),
                      (char)(i + 2 < n ? tbl[v & 63] : '=') };
        (void)buf_append(out, q, 4);
    }
}

static char *basic_header(const char *user, const char *pass)
{
    struct buf cred, b64;
    buf_init(&cred, 1 << 16);
    buf_init(&b64, 1 << 17);
    (void)buf_printf(&cred, "%s:%s", user, pass ? pass : "");
    (void)buf_append_cstr(&b64, "Authorization: Basic ");
    base64_encode((const unsigned char *)buf_cstr(&cred), cred.len, &b64);
    explicit_bzero(cred.data, cred.len);
    buf_release(&cred);
    return buf_detach(&b64, NULL);
}

static void url_escape(struct buf *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            (void)buf_putc(out, (char)c);
        else
            (void)buf_printf(out, "%%%02X", c);
    }
}

static bool is_local_host(const char *host)
{
    if (!host)
        return false;
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
        strcmp(host, "[::1]") == 0)
        return true;
    /* 127.0.0.0/8 written as a dotted quad */
    if (strncmp(host, "127.", 4) != 0)
        return false;
    int dots = 0;
    for (const char *p = host; *p; p++) {
        if (*p == '.')
            dots++;
        else if (*p < '0' || *p > '9')
            return false;
    }
    return dots == 3;
}

/* Host name of a "host[:port]" or "[v6]:port" authority. */
static char *authority_host(const char *auth)
{
    if (auth[0] == '[') {
        const char *end = strchr(auth, ']');
        return end ? xstrndup(auth, (size_t)(end - auth + 1)) : xstrdup(auth);
    }
    const char *colon = strchr(auth, ':');
    return colon ? xstrndup(auth, (size_t)(colon - auth)) : xstrdup(auth);
}

struct origin {
    char *scheme;
    char *host;
    char *port;
};

static void origin_release(struct origin *o)
{
    curl_free(o->scheme);
    curl_free(o->host);
    curl_free(o->port);
    memset(o, 0, sizeof(*o));
}

static bool origin_parse(const char *url, struct origin *o)
{
    memset(o, 0, sizeof(*o));
    CURLU *u = curl_url();
    bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &o->scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &o->host, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_PORT, &o->port, CURLU_DEFAULT_PORT) == CURLUE_OK;
    curl_url_cleanup(u);
    if (!ok)
        origin_release(o);
    return ok;
}

static bool same_origin(const char *a, const char *b)
{
    struct origin x, y;
    if (!origin_parse(a, &x))
        return false;
    if (!origin_parse(b, &y)) {
        origin_release(&x);
        return false;
    }
    bool same = strcasecmp(x.scheme, y.scheme) == 0 && strcasecmp(x.host, y.host) == 0 &&
                strcmp(x.port, y.port) == 0;
    origin_release(&x);
    origin_release(&y);
    return same;
}

/* https always; http only for loopback hosts or with insecure_http. */
static bool url_scheme_allowed(const struct reg_conn *c, const char *url)
{
    struct origin o;
    if (!origin_parse(url, &o))
        return false;
    bool ok = strcasecmp(o.scheme, "https") == 0 ||
              (strcasecmp(o.scheme, "http") == 0 && (c->insecure_http || is_local_host(o.host)));
    origin_release(&o);
    return ok;
}

/* The path part of a URL for messages (never the query: it may carry a scope, never a
 * secret, but keep messages short). */
static const char *url_path(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    return p ? p : url;
}

/* ---- auth challenge / error body parsing (pure) ---- */

void auth_challenge_release(struct auth_challenge *c)
{
    free(c->scheme);
    free(c->realm);
    free(c->service);
    free(c->scope);
    memset(c, 0, sizeof(*c));
}

static bool is_token_char(char ch)
{
    return ch > 0x20 && ch < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", ch);
}

int auth_challenge_parse(const char *hdr, struct auth_challenge *out)
{
    struct auth_challenge cur = { 0 };
    const char *p = hdr;
    memset(out, 0, sizeof(*out));
    if (!hdr)
        return -ERR_INVALID;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        /* a scheme token, or a param "key=value" of the current challenge */
        const char *t = p;
        while (is_token_char(*p))
            p++;
        if (p == t) {
            auth_challenge_release(&cur);
            auth_challenge_release(out);
            return -ERR_INVALID;
        }
        size_t tlen = (size_t)(p - t);
        const char *q = p;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == '=' && cur.scheme) {
            /* auth-param */
            q++;
            while (*q == ' ' || *q == '\t')
                q++;
            struct buf val;
            buf_init(&val, HEADER_VALUE_MAX);
            if (*q == '"') {
                q++;
                while (*q && *q != '"') {
                    if (*q == '\\' && q[1])
                        q++;
                    if (buf_putc(&val, *q) != 0)
                        break;
                    q++;
                }
                if (*q != '"') {
                    buf_release(&val);
                    auth_challenge_release(&cur);
                    auth_challenge_release(out);
                    return -ERR_INVALID;
                }
                q++;
            } else {
                while (*q && *q != ',' && *q != ' ' && *q != '\t') {
                    (void)buf_putc(&val, *q);
                    q++;
                }
            }
            char **dst = NULL;
            if (tlen == 5 && strncasecmp(t, "realm", 5) == 0)
                dst = &cur.realm;
            else if (tlen == 7 && strncasecmp(t, "service", 7) == 0)
                dst = &cur.service;
            else if (tlen == 5 && strncasecmp(t, "scope", 5) == 0)
                dst = &cur.scope;
            if (dst) {
                free(*dst);
                *dst = buf_detach(&val, NULL);
            }
            buf_release(&val);
            p = q;
            continue;
        }
        /* a new challenge: keep the previous one if it is the best so far */
        if (cur.scheme && (!out->scheme || (strcmp(cur.scheme, "bearer") == 0 &&
                                            strcmp(out->scheme, "bearer") != 0))) {
            auth_challenge_release(out);
            *out = cur;
        } else {
            auth_challenge_release(&cur);
        }
        memset(&cur, 0, sizeof(cur));
        cur.scheme = xstrndup(t, tlen);
        for (char *s = cur.scheme; *s; s++)
            if (*s >= 'A' && *s <= 'Z')
                *s = (char)(*s - 'A' + 'a');
    }
    if (cur.scheme && (!out->scheme ||
                       (strcmp(cur.scheme, "bearer") == 0 && strcmp(out->scheme, "bearer") != 0))) {
        auth_challenge_release(out);
        *out = cur;
    } else {
        auth_challenge_release(&cur);
    }
    return out->scheme ? 0 : -ERR_INVALID;
}

/* Copy s into out, making it one line of printable text. */
static void printable_copy(char *out, size_t outn, const char *s, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n && j + 1 < outn; i++) {
        unsigned char c = (unsigned char)s[i];
        out[j++] = (char)((c < 0x20 || c == 0x7f) ? ' ' : c);
    }
    out[j] = '\0';
}

bool registry_error_message(const char *body, size_t n, char *out, size_t outn)
{
    json_error_t je;
    json_t *root = json_loadb(body, n, 0, &je);
    json_t *errs = root ? json_object_get(root, "errors") : NULL;
    json_t *first = json_is_array(errs) ? json_array_get(errs, 0) : NULL;
    json_t *code = first ? json_object_get(first, "code") : NULL;
    json_t *msg = first ? json_object_get(first, "message") : NULL;
    bool ok = json_is_string(code) || json_is_string(msg);
    if (ok) {
        char tmp[512];
        snprintf(tmp, sizeof(tmp), "%s%s%s", json_is_string(code) ? json_string_value(code) : "",
                 json_is_string(code) && json_is_string(msg) ? ": " : "",
                 json_is_string(msg) ? json_string_value(msg) : "");
        printable_copy(out, outn, tmp, strlen(tmp));
    }
    json_decref(root);
    return ok;
}

/* ---- transfers ---- */

static void set_header(char **dst, const char *v, size_t n)
{
    free(*dst);
    *dst = xstrndup(v, n > HEADER_VALUE_MAX ? HEADER_VALUE_MAX : n);
}

static size_t header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    struct str line = str_trim(str_make(p, n));
    if (str_has_prefix(line, "HTTP/")) {
        /* a new response (after 1xx or a retry): forget the previous headers */
        long st = 0;
        long sp = str_chr(line, ' ');
        for (size_t i = sp >= 0 ? (size_t)sp + 1 : line.len; i < line.len; i++) {
            if (line.ptr[i] < '0' || line.ptr[i] > '9')
                break;
            st = st * 10 + (line.ptr[i] - '0');
            if (st > 999)
                break;
        }
        x->status = st;
        x->headers_done = false;
        free(x->content_type);
        free(x->docker_digest);
        free(x->www_auth);
        x->content_type = x->docker_digest = x->www_auth = NULL;
        return n;
    }
    if (line.len == 0) {
        if (x->status >= 200)
            x->headers_done = true;
        return n;
    }
    long colon = str_chr(line, ':');
    if (colon <= 0)
        return n;
    struct str name = str_make(line.ptr, (size_t)colon);
    struct str val = str_trim(str_make(line.ptr + colon + 1, line.len - (size_t)colon - 1));
    if (name.len == 12 && strncasecmp(name.ptr, "content-type", 12) == 0) {
        long semi = str_chr(val, ';');
        if (semi >= 0)
            val = str_trim(str_make(val.ptr, (size_t)semi));
        set_header(&x->content_type, val.ptr, val.len);
    } else if (name.len == 21 && strncasecmp(name.ptr, "docker-content-digest", 21) == 0) {
        set_header(&x->docker_digest, val.ptr, val.len);
    } else if (name.len == 16 && strncasecmp(name.ptr, "www-authenticate", 16) == 0) {
        /* several challenges may come in several headers: prefer Bearer */
        if (!x->www_auth || (strncasecmp(x->www_auth, "bearer", 6) != 0 && val.len >= 6 &&
                             strncasecmp(val.ptr, "bearer", 6) == 0))
            set_header(&x->www_auth, val.ptr, val.len);
    }
    return n;
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if (x->status < 200 || x->status >= 300) {
        /* an error or redirect body: keep the start for the message, drop the rest */
        size_t room = ERROR_BODY_MAX > x->body.len ? ERROR_BODY_MAX - x->body.len : 0;
        (void)buf_append(&x->body, p, n < room ? n : room);
        return n;
    }
    if (x->stream) {
        if (x->body_off == x->body.len) {
            x->body.len = 0;
            x->body_off = 0;
        }
        size_t unread = x->body.len - x->body_off;
        if (unread < STREAM_WINDOW && buf_append(&x->body, p, n) == 0)
            return n;
        if (unread == 0) { /* a chunk that can never fit: pausing would wait forever */
            x->too_big = true;
            return 0;
        }
        x->paused = true; /* the reader drains the window, then un-pauses */
        return CURL_WRITEFUNC_PAUSE;
    }
    if (buf_append(&x->body, p, n) != 0) {
        x->too_big = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

static void xfer_free(struct xfer *x)
{
    if (!x)
        return;
    if (x->easy) {
        curl_multi_remove_handle(x->c->multi, x->easy);
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->hdrs);
    free(x->url);
    free(x->content_type);
    free(x->docker_digest);
    free(x->www_auth);
    buf_release(&x->body);
    free(x);
}

/* Start a GET. auth: the header line to send (or NULL). */
static struct xfer *xfer_start(struct reg_conn *c, const char *url, const char *accept,
                               const char *auth, bool stream, size_t max)
{
    struct xfer *x = xcalloc(1, sizeof(*x));
    x->c = c;
    x->url = xstrdup(url);
    x->stream = stream;
    buf_init(&x->body,
             stream ? STREAM_WINDOW + (2u << 20) : (max < ERROR_BODY_MAX ? ERROR_BODY_MAX : max));
    x->easy = curl_easy_init();
    BUG_ON(!x->easy);
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_SECONDS);
    if (!stream)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* by hand: see reg_get() */
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil/0.1");
    if (accept)
        x->hdrs = curl_slist_append(x->hdrs, accept);
    if (auth)
        x->hdrs = curl_slist_append(x->hdrs, auth);
    if (x->hdrs)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
    curl_multi_add_handle(c->multi, e);
    return x;
}

/* Run the multi handle once (no waiting) and mark finished transfers. */
static int conn_perform(struct reg_conn *c)
{
    int running = 0, left;
    CURLMcode mc = curl_multi_perform(c->multi, &running);
    if (mc != CURLM_OK)
        return -ERR_NETWORK;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x) {
            x->done = true;
            x->result = msg->data.result;
        }
    }
    return 0;
}

/* Wait for socket activity or curl's next timeout (bounded by POLL_MS). Only call this when
 * the last perform made no progress for the caller: a paused transfer has no socket to watch. */
static int conn_wait(struct reg_conn *c)
{
    return curl_multi_poll(c->multi, NULL, 0, POLL_MS, NULL) == CURLM_OK ? 0 : -ERR_NETWORK;
}

static int xfer_wait_headers(struct xfer *x)
{
    for (;;) {
        int rc = conn_perform(x->c);
        if (rc || x->headers_done || x->done)
            return rc;
        rc = conn_wait(x->c);
        if (rc)
            return rc;
    }
}

static int xfer_wait_done(struct xfer *x)
{
    for (;;) {
        if (x->paused) {
            x->paused = false;
            x->body.len = x->body_off = 0; /* nobody reads this body: drop it */
            curl_easy_pause(x->easy, CURLPAUSE_CONT);
        }
        int rc = conn_perform(x->c);
        if (rc || x->done)
            return rc;
        if (!x->paused) {
            rc = conn_wait(x->c);
            if (rc)
                return rc;
        }
    }
}

static int transport_error(struct reg_conn *c, const struct xfer *x, struct diag *d)
{
    const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result);
    int rc = x->result == CURLE_PARTIAL_FILE ? -ERR_TRUNCATED : -ERR_NETWORK;
    (void)c;
    return diag_set(d, rc, 0, "%s (GET %.120s)", why, url_path(x->url));
}

/* An HTTP error status as a vigil error with the registry's own message. */
static int http_error(struct reg_conn *c, const struct xfer *x, int not_found, bool token,
                      struct diag *d)
{
    char msg[200] = "";
    int rc;
    if (!registry_error_message(buf_cstr(&x->body), x->body.len, msg, sizeof(msg)) && x->body.len &&
        x->body.len < 200 && x->content_type && strncmp(x->content_type, "text/", 5) == 0)
        printable_copy(msg, sizeof(msg), buf_cstr(&x->body), x->body.len);
    switch (x->status) {
    case 401:
        rc = -ERR_UNAUTHORIZED;
        break;
    case 403:
        rc = -ERR_DENIED;
        break;
    case 404:
        rc = strstr(msg, "NAME_UNKNOWN") ? -ERR_NOT_FOUND : not_found;
        break;
    default:
        rc = -ERR_NETWORK;
        break;
    }
    (void)c;
    return diag_set(d, rc, 0, "%sHTTP %ld%s%s (GET %.120s)", token ? "token server: " : "",
                    x->status, msg[0] ? " " : "", msg, url_path(x->url));
}

/* ---- authentication ---- */

static int fetch_token(struct reg_conn *c, const struct auth_challenge *ch,
                       const char *default_scope, struct diag *d)
{
    int rc = 0;
    struct buf url;
    char *basic = NULL;
    struct xfer *x = NULL;
    json_t *root = NULL;
    if (!ch->realm || !*ch->realm)
        return diag_set(d, -ERR_UNAUTHORIZED, 0, "token flow: Bearer challenge without a realm");
    buf_init(&url, 16384);
    (void)buf_append_cstr(&url, ch->realm);
    char sep = strchr(ch->realm, '?') ? '&' : '?';
    if (ch->service) {
        (void)buf_printf(&url, "%cservice=", sep);
        url_escape(&url, ch->service);
        sep = '&';
    }
    const char *scope = ch->scope && *ch->scope ? ch->scope : default_scope;
    if (scope) {
        (void)buf_printf(&url, "%cscope=", sep);
        url_escape(&url, scope);
    }
    if (!url_scheme_allowed(c, buf_cstr(&url))) {
        rc = diag_set(d, -ERR_UNAUTHORIZED, 0,
                      "token realm '%.100s' is not an allowed https:// URL", ch->realm);
        goto out;
    }
    if (c->username)
        basic = basic_header(c->username, c->password);
    x = xfer_start(c, buf_cstr(&url), "Accept: application/json", basic, false, TOKEN_BODY_MAX);
    rc = xfer_wait_done(x);
    if (rc == 0 && x->result != CURLE_OK)
        rc = x->too_big ? diag_set(d, -ERR_TOO_BIG, 0, "token server: response too big")
                        : transport_error(c, x, d);
    else if (rc == 0 && x->status != 200)
        rc = http_error(c, x, -ERR_UNAUTHORIZED, true, d);
    if (rc)
        goto out;
    json_error_t je;
    root = json_loadb(buf_cstr(&x->body), x->body.len, 0, &je);
    json_t *tok = root ? json_object_get(root, "token") : NULL;
    if (!json_is_string(tok) || json_string_length(tok) == 0)
        tok = root ? json_object_get(root, "access_token") : NULL;
    if (!json_is_string(tok) || json_string_length(tok) == 0) {
        rc = diag_set(d, -ERR_UNAUTHORIZED, 0, "token server: answered without a token");
        goto out;
    }
    const char *t = json_string_value(tok);
    for (const char *q = t; *q; q++)
        if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f) {
            rc = diag_set(d, -ERR_UNAUTHORIZED, 0, "token server: token has invalid characters");
            goto out;
        }
    free(c->auth);
    c->auth = xasprintf("Authorization: Bearer %s", t);
    c->auth_is_basic = false;
out:
    json_decref(root);
    xfer_free(x);
    if (basic) {
        explicit_bzero(basic, strlen(basic));
        free(basic);
    }
    buf_release(&url);
    return rc;
}

/* React to a 401: set c->auth from the challenge. Fails when the same credentials were
 * already refused. */
static int conn_authenticate(struct reg_conn *c, const char *www_auth, struct diag *d)
{
    struct auth_challenge ch;
    char scope[512];
    int rc;
    snprintf(scope, sizeof(scope), "repository:%s:pull", c->repo);
    if (auth_challenge_parse(www_auth, &ch) != 0)
        return diag_set(d, -ERR_UNAUTHORIZED, 0,
                        "authentication required but no usable WWW-Authenticate");
    if (strcmp(ch.scheme, "bearer") == 0) {
        rc = fetch_token(c, &ch, scope, d);
    } else if (strcmp(ch.scheme, "basic") == 0) {
        if (!c->username)
            rc = diag_set(d, -ERR_UNAUTHORIZED, 0, "credentials required (use --creds USER:PASS)");
        else if (c->auth && c->auth_is_basic)
            rc = diag_set(d, -ERR_UNAUTHORIZED, 0, "HTTP 401: credentials rejected");
        else {
            free(c->auth);
            c->auth = basic_header(c->username, c->password);
            c->auth_is_basic = true;
            rc = 0;
        }
    } else {
        rc = diag_set(d, -ERR_UNAUTHORIZED, 0, "unsupported auth scheme '%.32s'", ch.scheme);
    }
    auth_challenge_release(&ch);
    return rc;
}

/* GET /v2/ once: choose https or (where allowed) http, and authenticate up front. */
static int conn_probe(struct reg_conn *c, struct diag *d)
{
    if (c->probed)
        return 0;
    char *host = authority_host(c->host);
    bool http_ok = c->insecure_http || is_local_host(host);
    free(host);
    const char *schemes[2] = { "https", http_ok ? "http" : NULL };
    char first_err[sizeof(((struct diag *)0)->msg)] = "";
    int rc = 0;
    for (int i = 0; i < 2 && schemes[i]; i++) {
        char *url = xasprintf("%s://%s/v2/", schemes[i], c->host);
        struct xfer *x = xfer_start(c, url, NULL, NULL, false, ERROR_BODY_MAX);
        free(url);
        rc = xfer_wait_done(x);
        if (rc == 0 && x->result != CURLE_OK && !x->headers_done) {
            /* transport failure: remember why and try plain HTTP when allowed */
            struct diag td = { 0 };
            transport_error(c, x, &td);
            if (!first_err[0])
                memcpy(first_err, td.msg, sizeof(first_err));
            xfer_free(x);
            rc = diag_set(d, -ERR_NETWORK, 0, "%s", first_err);
            continue;
        }
        if (rc == 0) {
            free(c->base);
            c->base = xasprintf("%s://%s", schemes[i], c->host);
            if (x->status == 401)
                rc = conn_authenticate(c, x->www_auth, d);
            else if (x->status != 200 && first_err[0])
                rc = diag_set(d, -ERR_NETWORK, 0, "%s (and over plain HTTP: HTTP %ld)", first_err,
                              x->status);
            else if (x->status != 200)
                rc = diag_set(d, x->status == 404 ? -ERR_NOT_FOUND : -ERR_NETWORK, 0,
                              "GET /v2/ answered HTTP %ld (not a registry?)", x->status);
            if (rc == 0) {
                c->probed = true;
                log_debug("image", "registry %s reached over %s", c->host, schemes[i]);
            }
        }
        xfer_free(x);
        break;
    }
    return rc;
}

/* GET base+path (or a redirect target): 401 -> authenticate and retry once; 3xx -> follow by
 * hand (credentials only to the registry's own origin); non-2xx -> error. On success *out is a
 * transfer whose headers are in (stream) or whose body is complete (not stream). */
static int reg_get(struct reg_conn *c, const char *path, const char *accept, bool stream,
                   size_t max, int not_found, struct xfer **out, struct diag *d)
{
    char *url = xasprintf("%s%s", c->base, path);
    bool retried = false;
    int redirects = 0, rc;
    struct xfer *x = NULL;
    *out = NULL;
    for (;;) {
        bool own = same_origin(url, c->base);
        x = xfer_start(c, url, accept, own ? c->auth : NULL, stream, max);
        rc = stream ? xfer_wait_headers(x) : xfer_wait_done(x);
        if (rc) {
            rc = diag_set(d, rc, 0, "GET %.200s: transfer failed", url_path(url));
            break;
        }
        if (!x->headers_done) { /* failed before a response */
            rc = transport_error(c, x, d);
            break;
        }
        if (x->status == 401 && own && !retried) {
            retried = true;
            rc = conn_authenticate(c, x->www_auth, d);
            if (rc)
                break;
            xfer_free(x);
            x = NULL;
            continue;
        }
        if (x->status == 301 || x->status == 302 || x->status == 303 || x->status == 307 ||
            x->status == 308) {
            char *loc = NULL;
            curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &loc);
            if (!loc || ++redirects > MAX_REDIRECTS) {
                rc = diag_set(d, -ERR_NETWORK, 0, "GET %.160s: %s", url_path(url),
                              loc ? "too many redirects" : "redirect without Location");
                break;
            }
            if (!url_scheme_allowed(c, loc)) {
                rc = diag_set(d, -ERR_NETWORK, 0,
                              "GET %.120s: refusing redirect to plain-HTTP '%.60s'", url_path(url),
                              loc);
                break;
            }
            free(url);
            url = xstrdup(loc);
            xfer_free(x);
            x = NULL;
            continue;
        }
        if (x->status < 200 || x->status >= 300) {
            if (stream)
                (void)xfer_wait_done(x); /* collect the (small) error body */
            rc = http_error(c, x, not_found, false, d);
            break;
        }
        if (!stream && x->result != CURLE_OK) {
            rc = x->too_big ? diag_set(d, -ERR_TOO_BIG, 0, "GET %.160s: response over %zu bytes",
                                       url_path(url), max)
                            : transport_error(c, x, d);
            break;
        }
        *out = x;
        x = NULL;
        break;
    }
    xfer_free(x);
    free(url);
    return rc;
}

/* ---- the source ---- */

static void conn_unref(struct reg_conn *c)
{
    if (!c || --c->refs > 0)
        return;
    curl_multi_cleanup(c->multi);
    free(c->host);
    free(c->base);
    free(c->repo);
    if (c->auth) {
        explicit_bzero(c->auth, strlen(c->auth));
        free(c->auth);
    }
    free(c->username);
    if (c->password) {
        explicit_bzero(c->password, strlen(c->password));
        free(c->password);
    }
    free(c);
}

static int get_manifest_ref(struct reg_source *r, const char *reference, struct buf *out,
                            char **media_type, char **header_digest, struct diag *d)
{
    struct reg_conn *c = r->c;
    struct xfer *x = NULL;
    int rc = conn_probe(c, d);
    if (rc)
        return rc;
    char *path = xasprintf("/v2/%s/manifests/%s", c->repo, reference);
    rc = reg_get(c, path, ACCEPT_MANIFESTS, false, out->max, -ERR_MANIFEST_UNKNOWN, &x, d);
    free(path);
    if (rc)
        return rc;
    BUG_ON(!x);
    if (buf_append(out, x->body.data ? x->body.data : "", x->body.len) != 0)
        rc =
            diag_set(d, -ERR_TOO_BIG, 0, "manifest %s is more than %zu bytes", reference, out->max);
    if (rc == 0 && media_type && x->content_type)
        *media_type = xstrdup(x->content_type);
    if (rc == 0 && header_digest && x->docker_digest &&
        digest_is_sha256(str_from(x->docker_digest)))
        *header_digest = xstrdup(x->docker_digest);
    xfer_free(x);
    return rc;
}

static int reg_get_root(struct image_source *s, struct buf *out, char **media_type, char **digest,
                        struct diag *d)
{
    struct reg_source *r = (struct reg_source *)s;
    const struct docker_name *n = &s->parsed.name;
    char *hdr_digest = NULL;
    int rc = get_manifest_ref(r, n->digest ? n->digest : n->tag, out, media_type, &hdr_digest, d);
    if (rc)
        return rc;
    /* a digest reference is the claim; otherwise the registry's Docker-Content-Digest */
    if (n->digest) {
        *digest = xstrdup(n->digest);
        free(hdr_digest);
    } else {
        *digest = hdr_digest;
    }
    return 0;
}

static int reg_get_manifest(struct image_source *s, const char *digest, struct buf *out,
                            char **media_type, struct diag *d)
{
    return get_manifest_ref((struct reg_source *)s, digest, out, media_type, NULL, d);
}

struct http_reader {
    struct reader base;
    struct xfer *x;
    struct reg_conn *c; /* a reference */
};

static ssize_t http_read(struct reader *r, void *p, size_t n)
{
    struct http_reader *h = (struct http_reader *)r;
    struct xfer *x = h->x;
    if (r->diag.err)
        return r->diag.err;
    for (;;) {
        size_t avail = x->body.len - x->body_off;
        if (avail && n) {
            size_t k = avail < n ? avail : n;
            memcpy(p, x->body.data + x->body_off, k);
            x->body_off += k;
            if (x->body_off == x->body.len)
                x->body.len = x->body_off = 0;
            return (ssize_t)k;
        }
        if (n == 0)
            return 0;
        if (x->done) {
            if (x->result == CURLE_OK)
                return 0;
            struct diag td = { 0 };
            int rc = transport_error(h->c, x, &td);
            r->diag = td;
            return rc;
        }
        if (x->paused) {
            x->paused = false;
            curl_easy_pause(x->easy, CURLPAUSE_CONT); /* may deliver data right away */
            continue;
        }
        int rc = conn_perform(h->c);
        if (rc == 0 && x->body.len == x->body_off && !x->done && !x->paused)
            rc = conn_wait(h->c);
        if (rc)
            return diag_set(&r->diag, rc, 0, "transfer failed");
    }
}

static void http_close(struct reader *r)
{
    struct http_reader *h = (struct http_reader *)r;
    struct reg_conn *c = h->c;
    xfer_free(h->x);
    free(h);
    conn_unref(c);
}

static const struct reader_ops http_ops = { http_read, http_close };

static int reg_open_blob(struct image_source *s, const char *digest, uint64_t size,
                         struct reader **out, struct diag *d)
{
    struct reg_source *r = (struct reg_source *)s;
    struct reg_conn *c = r->c;
    struct xfer *x = NULL;
    (void)size;
    int rc = conn_probe(c, d);
    if (rc)
        return rc;
    char *path = xasprintf("/v2/%s/blobs/%s", c->repo, digest);
    rc = reg_get(c, path, NULL, true, 0, -ERR_BLOB_UNKNOWN, &x, d);
    free(path);
    if (rc)
        return rc;
    struct http_reader *h = xcalloc(1, sizeof(*h));
    h->base.ops = &http_ops;
    h->x = x;
    h->c = c;
    c->refs++;
    *out = &h->base;
    return 0;
}

static void reg_destroy(struct image_source *s)
{
    struct reg_source *r = (struct reg_source *)s;
    conn_unref(r->c);
    free(r);
}

static const struct source_ops reg_ops = {
    .get_root = reg_get_root,
    .get_manifest = reg_get_manifest,
    .open_blob = reg_open_blob,
    .destroy = reg_destroy,
};

int registry_source_new(const struct image_ref *parsed, const struct image_opts *opts,
                        struct image_source **out, struct diag *d)
{
    (void)d;
    pthread_once(&curl_once, curl_init_once);
    struct reg_conn *c = xcalloc(1, sizeof(*c));
    c->refs = 1;
    c->multi = curl_multi_init();
    BUG_ON(!c->multi);
    c->host = xstrdup(docker_name_host(&parsed->name));
    c->repo = xstrdup(parsed->name.repo);
    c->tls_verify = opts->tls_verify;
    c->insecure_http = opts->insecure_http;
    if (opts->username) {
        c->username = xstrdup(opts->username);
        c->password = xstrdup(opts->password ? opts->password : "");
    }
    struct reg_source *r = xcalloc(1, sizeof(*r));
    r->base.ops = &reg_ops;
    r->base.name = docker_name_format(&parsed->name);
    r->c = c;
    *out = &r->base;
    return 0;
}
