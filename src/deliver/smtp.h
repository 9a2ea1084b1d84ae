/* SPDX-License-Identifier: Apache-2.0 */
/* Send one message through an SMTP relay with libcurl: smtp:// (optionally STARTTLS) or
 * smtps://, AUTH PLAIN/LOGIN, TLS verification, timeouts, and a classification of failures
 * into "retry later" and "rejected for good" with the server's reply for the logs. */
#ifndef VIGIL_DELIVER_SMTP_H
#define VIGIL_DELIVER_SMTP_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/str.h"
#include "deliver/deliver.h"
#include "deliver/mime.h"

#define SMTP_CONNECT_TIMEOUT_MS 10000
#define SMTP_TIMEOUT_MS         60000
#define SMTP_RCPT_MAX           100
#define SMTP_MESSAGE_MAX        ((size_t)16 << 20)

enum smtp_tls {
    SMTP_TLS_NONE = 0, /* smtp:// in clear */
    SMTP_TLS_STARTTLS, /* smtp:// + STARTTLS required (CURLUSESSL_ALL) */
    SMTP_TLS_TRY,      /* smtp:// + STARTTLS when offered (CURLUSESSL_TRY) */
    SMTP_TLS_IMPLICIT, /* smtps:// (TLS from the first byte, usually port 465) */
};

enum smtp_auth {
    SMTP_AUTH_ANY = 0, /* the best mechanism the server offers */
    SMTP_AUTH_PLAIN,
    SMTP_AUTH_LOGIN,
};

/* A relay. Strings are owned (smtp_config_release frees them); set them with xstrdup.
 *
 * The one-string form accepted by smtp_config_parse():
 *   smtp://[USER[:PASSWORD]@]HOST[:PORT][?OPTION=VALUE&...]
 *   smtps://[USER[:PASSWORD]@]HOST[:PORT][?OPTION=VALUE&...]
 * USER and PASSWORD are percent-decoded. Options (values percent-decoded):
 *   starttls=required|try|no   (smtp:// only; default no)
 *   verify=yes|no              TLS certificate and host name check (default yes)
 *   cafile=PATH                CA bundle to verify the relay with
 *   auth=any|plain|login       SASL mechanism (default any; used only with a USER)
 *   connect_timeout=SECONDS    default 10
 *   timeout=SECONDS            whole transaction, default 60
 * Credentials sent over smtp:// without STARTTLS travel in clear; use starttls=required or
 * smtps:// with a relay that is not on the same host. */
struct smtp_config {
    char *url;      /* "smtp://host:port" / "smtps://host:port": no user, no query */
    char *user;     /* NULL = no AUTH */
    char *password; /* never logged */
    char *ca_file;  /* NULL = the system CA store */
    enum smtp_tls tls;
    enum smtp_auth auth;
    bool tls_verify;
    long connect_timeout_ms;
    long timeout_ms;
};

/* Defaults: no URL, SMTP_TLS_NONE, verify on, the timeouts above. No allocation. */
void smtp_config_init(struct smtp_config *c);
void smtp_config_release(struct smtp_config *c);
/* Fill *c (after smtp_config_init) from the one-string form above; fields it names replace
 * what *c held. 0 or -ERR_INVALID with a message (which never contains the password). */
int smtp_config_parse(struct smtp_config *c, const char *spec, struct diag *d);

/* The result of one attempt. */
struct smtp_result {
    enum deliver_outcome outcome;
    int code;       /* SMTP reply code that decided it (e.g. 550), 0 if none was received */
    char text[256]; /* that reply ("550 5.1.1 <x@y>: Recipient address rejected") or the
                       transport error ("Couldn't connect to server: ..."), one line */
};

/* Per-transfer state for an easy handle (also for use with a curl multi handle). Owned by
 * the caller, valid until smtp_xfer_release(); the message bytes are borrowed. */
struct smtp_xfer {
    struct curl_slist *rcpt;
    const char *msg;
    size_t msg_len, msg_off;
    char from[MIME_ADDR_MAX + 3]; /* "<addr>" */
    char last[256];               /* the last reply line */
    char failed[256];             /* the last reply line with a 4xx/5xx code */
    int failed_code;
    char errbuf[CURL_ERROR_SIZE];
};

/* Prepare easy handle e to send `message` (a complete RFC 5322 message with CRLF line ends;
 * libcurl does the dot-stuffing) from envelope sender `mail_from` to the n_rcpt recipients.
 * All recipients must be accepted or nothing is sent. Addresses are checked with
 * mime_addr_check(). 0, -ERR_INVALID or -ERR_TOO_BIG (x is then released). */
int smtp_easy_setup(CURL *e, const struct smtp_config *c, const char *mail_from,
                    const char *const *rcpt, size_t n_rcpt, struct str message, struct smtp_xfer *x,
                    struct diag *d);
/* After the transfer on e finished with rc: fill *r. */
void smtp_xfer_result(struct smtp_xfer *x, CURL *e, CURLcode rc, struct smtp_result *r);
void smtp_xfer_release(struct smtp_xfer *x);

/* Blocking send of one message (smtp_easy_setup + curl_easy_perform + smtp_xfer_result).
 * Returns 0 when the relay accepted the message; -ERR_NETWORK when it did not (r says
 * whether to retry); -ERR_INVALID / -ERR_TOO_BIG for bad input, in which case nothing was
 * sent and r->outcome is DELIVER_REJECTED with the reason in r->text. */
int smtp_send(const struct smtp_config *c, const char *mail_from, const char *const *rcpt,
              size_t n_rcpt, struct str message, struct smtp_result *r);

/* The classification used above (pure): CURLE_OK is delivered; an SMTP 5xx reply is final
 * (rejected recipient, sender or content) except the authentication replies 530/534/535/538,
 * which are the relay's configuration, not the message's fault, and are retried like every
 * 4xx reply, connection error, TLS error and timeout. */
enum deliver_outcome smtp_classify(CURLcode rc, int reply_code);

#endif
