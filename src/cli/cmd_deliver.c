/* SPDX-License-Identifier: Apache-2.0 */
/* vigil deliver: send one e-mail, one webhook POST or one SNS-formatted message by hand, with
 * the same code the delivery worker uses; prints the outcome (delivered / retry / rejected). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/str.h"
#include "base/vec.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "deliver/mime.h"
#include "deliver/smtp.h"
#include "deliver/sns_msg.h"
#include "deliver/webhook.h"

#ifndef VIGIL_CLI_HAS_CMD_DELIVER
#endif

#define FILE_MAX ((size_t)4 << 20)

static void deliver_usage(FILE *f)
{
    fprintf(f,
            "usage: vigil deliver mail --smtp URL --from ADDR --to ADDR... --subject S\n"
            "                          --body-file F [MAIL OPTIONS] [SMTP OPTIONS]\n"
            "       vigil deliver webhook URL --body-file F [--header 'Name: value']...\n"
            "                          [--secret-file F] [--timeout S] [--insecure] [--cafile F]\n"
            "       vigil deliver sns --kind notification|subscription|unsubscribe\n"
            "                          --data-dir D --base-url URL --topic-arn ARN\n"
            "                          [--subscription-arn ARN] [--message-file F] [--subject S]\n"
            "                          [--token T] [--signature-version 1|2] [--message-id ID]\n"
            "                          [--timestamp-ms N]\n"
            "                          [--webhook URL [--secret-file F] | --email ADDR |\n"
            "                           --email-json ADDR] [SMTP OPTIONS] [--print]\n"
            "       vigil deliver sns-cert --data-dir D\n"
            "\n"
            "mail sends one text/plain UTF-8 message; webhook POSTs a file; sns builds an SNS\n"
            "message (signed with the key in D, made on first use) and POSTs it, mails it, or\n"
            "with --print (the default without a destination) prints it. sns-cert prints the\n"
            "signing certificate and the name it is published under.\n"
            "\n"
            "MAIL OPTIONS: --from-name NAME  --header 'Name: value' (repeatable)\n"
            "  --list-unsubscribe URL  --msgid-domain D (default: the From domain)  --qp\n"
            "  --envelope-from ADDR  --print (print the message instead of sending it)\n"
            "SMTP OPTIONS: --smtp smtp[s]://[USER[:PASS]@]HOST[:PORT][?starttls=required&...]\n"
            "  --starttls  --user U  --password-file F  --insecure  --cafile F  --timeout S\n"
            "\n"
            "Prints 'outcome=delivered|retry|rejected code=N detail=\"...\"'; exits 0 when\n"
            "delivered, 1 otherwise, 2 on bad usage.\n");
}

/* Read a whole file (at most FILE_MAX bytes). Owned; NULL with a message on failure. */
static char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "vigil deliver: cannot open '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    struct buf b;
    buf_init(&b, FILE_MAX);
    for (;;) {
        char tmp[65536];
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (n > 0 && buf_append(&b, tmp, (size_t)n) != 0)) {
            fprintf(stderr, "vigil deliver: cannot read '%s': %s\n", path,
                    n < 0 ? strerror(errno) : "larger than 4 MiB");
            close(fd);
            buf_release(&b);
            return NULL;
        }
        if (n == 0)
            break;
    }
    close(fd);
    return buf_detach(&b, len);
}

struct opts {
    const char *smtp, *from, *from_name, *subject, *body_file, *user, *password_file;
    const char *cafile, *list_unsub, *msgid_domain, *envelope_from, *secret_file, *timeout;
    const char *kind, *data_dir, *base_url, *topic_arn, *sub_arn, *message_file, *token;
    const char *sigver, *message_id, *timestamp_ms, *webhook, *email, *email_json;
    const char *url; /* positional (webhook) */
    VEC(const char *) to;
    VEC(const char *) headers;
    bool starttls, insecure, qp, print;
};

/* 0 ok, 2 usage (message printed). */
static int parse(int argc, char **argv, struct opts *o)
{
    struct {
        const char *name;
        const char **dst;
    } vals[] = {
        { "--smtp", &o->smtp },
        { "--from", &o->from },
        { "--from-name", &o->from_name },
        { "--subject", &o->subject },
        { "--body-file", &o->body_file },
        { "--user", &o->user },
        { "--password-file", &o->password_file },
        { "--cafile", &o->cafile },
        { "--list-unsubscribe", &o->list_unsub },
        { "--msgid-domain", &o->msgid_domain },
        { "--envelope-from", &o->envelope_from },
        { "--secret-file", &o->secret_file },
        { "--timeout", &o->timeout },
        { "--kind", &o->kind },
        { "--data-dir", &o->data_dir },
        { "--base-url", &o->base_url },
        { "--topic-arn", &o->topic_arn },
        { "--subscription-arn", &o->sub_arn },
        { "--message-file", &o->message_file },
        { "--token", &o->token },
        { "--signature-version", &o->sigver },
        { "--message-id", &o->message_id },
        { "--timestamp-ms", &o->timestamp_ms },
        { "--webhook", &o->webhook },
        { "--email", &o->email },
        { "--email-json", &o->email_json },
    };
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool done = false;
        for (size_t k = 0; k < ARRAY_SIZE(vals) && !done; k++) {
            if (strcmp(a, vals[k].name) != 0)
                continue;
            if (!v) {
                fprintf(stderr, "vigil deliver: %s needs a value\n", a);
                return 2;
            }
            *vals[k].dst = v;
            i++;
            done = true;
        }
        if (done)
            continue;
        if (!strcmp(a, "--to") && v) {
            VEC_PUSH(&o->to, v);
            i++;
        } else if (!strcmp(a, "--header") && v) {
            VEC_PUSH(&o->headers, v);
            i++;
        } else if (!strcmp(a, "--starttls")) {
            o->starttls = true;
        } else if (!strcmp(a, "--insecure")) {
            o->insecure = true;
        } else if (!strcmp(a, "--qp")) {
            o->qp = true;
        } else if (!strcmp(a, "--print")) {
            o->print = true;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            deliver_usage(stdout);
            exit(0);
        } else if (a[0] != '-' && !o->url) {
            o->url = a;
        } else {
            fprintf(stderr, "vigil deliver: unknown option '%s' (see 'vigil deliver --help')\n", a);
            return 2;
        }
    }
    return 0;
}

static int report(const char *outcome, long code, const char *detail)
{
    printf("outcome=%s code=%ld detail=\"", outcome, code);
    for (const char *p = detail; *p; p++)
        printf(*p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
    printf("\"\n");
    fflush(stdout);
    return strcmp(outcome, "delivered") == 0 ? 0 : 1;
}

/* Strip one trailing newline (password and secret files). */
static void chomp(char *s, size_t *len)
{
    while (*len && (s[*len - 1] == '\n' || s[*len - 1] == '\r'))
        s[--*len] = '\0';
}

/* Relay configuration from --smtp and the SMTP options. 0, 1 (error printed) or 2. */
static int smtp_from_opts(const struct opts *o, struct smtp_config *c)
{
    struct diag d = { 0 };
    if (!o->smtp) {
        fprintf(stderr, "vigil deliver: --smtp URL is required\n");
        return 2;
    }
    if (smtp_config_parse(c, o->smtp, &d) != 0) {
        fprintf(stderr, "vigil deliver: %s\n", d.msg);
        return 2;
    }
    if (o->starttls) {
        if (c->tls == SMTP_TLS_IMPLICIT) {
            fprintf(stderr, "vigil deliver: --starttls does not apply to smtps://\n");
            return 2;
        }
        c->tls = SMTP_TLS_STARTTLS;
    }
    if (o->insecure)
        c->tls_verify = false;
    if (o->cafile) {
        free(c->ca_file);
        c->ca_file = xstrdup(o->cafile);
    }
    if (o->timeout) {
        unsigned long long s;
        if (!str_to_u64(str_from(o->timeout), &s) || s == 0 || s > 3600) {
            fprintf(stderr, "vigil deliver: --timeout takes 1 to 3600 seconds\n");
            return 2;
        }
        c->timeout_ms = (long)s * 1000;
    }
    if (o->user) {
        free(c->user);
        c->user = xstrdup(o->user);
        if (!o->password_file && !c->password) {
            fprintf(stderr, "vigil deliver: --user needs --password-file\n");
            return 2;
        }
    }
    if (o->password_file) {
        size_t n;
        char *p = read_file(o->password_file, &n);
        if (!p)
            return 1;
        chomp(p, &n);
        free(c->password);
        c->password = p;
    }
    return 0;
}

/* Build and send (or print) one message. */
static int send_mail(const struct opts *o, const char *from_name, const char *subject,
                     struct str body, const char *list_unsub)
{
    int rc = 0;
    struct smtp_config c;
    smtp_config_init(&c);
    if (!o->from || o->to.n == 0) {
        fprintf(stderr, "vigil deliver: %s is required\n", !o->from ? "--from ADDR" : "--to ADDR");
        return 2;
    }
    if (!o->print && (rc = smtp_from_opts(o, &c)) != 0) {
        smtp_config_release(&c);
        return rc;
    }
    struct mime_header *xh = xcalloc(o->headers.n + 1, sizeof(*xh));
    char **owned = xcalloc(o->headers.n + 1, sizeof(*owned));
    for (size_t i = 0; i < o->headers.n; i++) {
        owned[i] = xstrdup(o->headers.v[i]);
        char *colon = strchr(owned[i], ':');
        if (!colon) {
            fprintf(stderr, "vigil deliver: --header '%s' is not 'Name: value'\n", owned[i]);
            rc = 2;
            goto out;
        }
        *colon = '\0';
        xh[i].name = owned[i];
        xh[i].value = colon[1] == ' ' ? colon + 2 : colon + 1;
    }
    const char *at = strrchr(o->from, '@');
    struct mime_message m = {
        .from_name = from_name,
        .from_addr = o->from,
        .to = o->to.v,
        .n_to = o->to.n,
        .subject = subject,
        .body = body,
        .message_id_domain = o->msgid_domain ? o->msgid_domain
                             : at            ? at + 1
                                             : "localhost",
        .list_unsubscribe = list_unsub,
        .headers = xh,
        .n_headers = o->headers.n,
        .encoding = o->qp ? MIME_QP : MIME_BASE64,
    };
    struct buf msg;
    buf_init(&msg, 2 * FILE_MAX + 65536);
    struct diag d = { 0 };
    char msgid[MIME_MSGID_MAX];
    if (mime_build(&m, &msg, msgid, &d) != 0) {
        /* refused before anything was sent: the message itself is bad */
        rc = report("rejected", 0, d.msg);
        buf_release(&msg);
        goto out;
    }
    if (o->print) {
        fwrite(msg.data, 1, msg.len, stdout);
        buf_release(&msg);
        goto out;
    }
    struct smtp_result r;
    smtp_send(&c, o->envelope_from ? o->envelope_from : o->from, o->to.v, o->to.n, buf_str(&msg),
              &r);
    fprintf(stderr, "vigil deliver: message %s\n", msgid);
    rc = report(deliver_outcome_name(r.outcome), r.code, r.text);
    buf_release(&msg);
out:
    for (size_t i = 0; i < o->headers.n; i++)
        free(owned[i]);
    free(owned);
    free(xh);
    smtp_config_release(&c);
    return rc;
}

static int cmd_mail(const struct opts *o)
{
    if (!o->subject || !o->body_file) {
        fprintf(stderr, "vigil deliver mail: --subject and --body-file are required\n");
        return 2;
    }
    size_t n;
    char *body = read_file(o->body_file, &n);
    if (!body)
        return 1;
    int rc = send_mail(o, o->from_name, o->subject, str_make(body, n), o->list_unsub);
    free(body);
    return rc;
}

/* POST body to url with the given extra headers plus --header and the HMAC of --secret-file. */
static int post(const struct opts *o, const char *url, struct str body, char *const *extra,
                size_t n_extra)
{
    VEC(const char *) hs = VEC_INIT;
    for (size_t i = 0; i < n_extra; i++)
        VEC_PUSH(&hs, extra[i]);
    for (size_t i = 0; i < o->headers.n; i++)
        VEC_PUSH(&hs, o->headers.v[i]);
    char *sig_header = NULL;
    if (o->secret_file) {
        size_t n;
        char *secret = read_file(o->secret_file, &n);
        if (!secret) {
            free(hs.v);
            return 1;
        }
        chomp(secret, &n);
        char sig[SNS_HMAC_HEADER_LEN + 1];
        sns_hmac_signature(secret, n, body, sig);
        explicit_bzero(secret, n);
        free(secret);
        sig_header = xasprintf("X-Vigil-Signature: %s", sig);
        VEC_PUSH(&hs, sig_header);
    }
    struct webhook_opts wo = { .insecure = o->insecure, .ca_file = o->cafile };
    if (o->timeout) {
        unsigned long long s;
        if (!str_to_u64(str_from(o->timeout), &s) || s == 0 || s > 3600) {
            fprintf(stderr, "vigil deliver: --timeout takes 1 to 3600 seconds\n");
            free(hs.v);
            free(sig_header);
            return 2;
        }
        wo.timeout_ms = (long)s * 1000;
    }
    struct webhook_result r;
    webhook_post(url, body, hs.v, hs.n, &wo, &r);
    free(hs.v);
    free(sig_header);
    return report(deliver_outcome_name(r.outcome), r.status, r.error);
}

static int cmd_webhook(const struct opts *o)
{
    if (!o->url || !o->body_file) {
        fprintf(stderr, "vigil deliver webhook: URL and --body-file are required\n");
        return 2;
    }
    size_t n;
    char *body = read_file(o->body_file, &n);
    if (!body)
        return 1;
    int rc = post(o, o->url, str_make(body, n), NULL, 0);
    free(body);
    return rc;
}

static int cmd_sns_cert(const struct opts *o)
{
    if (!o->data_dir) {
        fprintf(stderr, "vigil deliver sns-cert: --data-dir is required\n");
        return 2;
    }
    struct sns_signer k;
    struct diag d = { 0 };
    if (sns_signer_load_or_create(&k, o->data_dir, &d) != 0) {
        fprintf(stderr, "vigil deliver: %s\n", d.msg);
        return 1;
    }
    printf("name=%s\n%s", k.cert_name, k.cert_pem);
    sns_signer_release(&k);
    return 0;
}

static int cmd_sns(const struct opts *o)
{
    struct sns_msg m = { 0 };
    if (!o->kind || !o->data_dir || !o->base_url || !o->topic_arn) {
        fprintf(stderr,
                "vigil deliver sns: --kind, --data-dir, --base-url and --topic-arn are required\n");
        return 2;
    }
    if (!strcmp(o->kind, "notification")) {
        m.type = SNS_NOTIFICATION;
    } else if (!strcmp(o->kind, "subscription")) {
        m.type = SNS_SUBSCRIPTION_CONFIRMATION;
    } else if (!strcmp(o->kind, "unsubscribe")) {
        m.type = SNS_UNSUBSCRIBE_CONFIRMATION;
    } else {
        fprintf(stderr, "vigil deliver sns: --kind is notification, subscription or unsubscribe\n");
        return 2;
    }
    unsigned long long v;
    if (o->sigver && (!str_to_u64(str_from(o->sigver), &v) || (v != 1 && v != 2))) {
        fprintf(stderr, "vigil deliver sns: --signature-version is 1 or 2\n");
        return 2;
    }
    m.signature_version = o->sigver ? (int)v : 1;
    if (o->timestamp_ms && !str_to_u64(str_from(o->timestamp_ms), &v)) {
        fprintf(stderr, "vigil deliver sns: --timestamp-ms takes milliseconds since 1970\n");
        return 2;
    }
    m.timestamp_ms = o->timestamp_ms ? (int64_t)v : sns_now_ms();
    char uuid[SNS_UUID_LEN + 1];
    sns_uuid4(uuid);
    m.message_id = o->message_id ? o->message_id : uuid;
    m.topic_arn = o->topic_arn;
    m.subscription_arn = o->sub_arn;
    m.subject = o->subject;
    m.token = o->token;
    size_t n = 0;
    char *message = NULL;
    if (o->message_file && !(message = read_file(o->message_file, &n)))
        return 1;
    m.message = message;

    int rc = 1;
    struct sns_site site;
    sns_site_init(&site, o->base_url);
    struct sns_signer k = { 0 };
    struct diag d = { 0 };
    struct buf body;
    buf_init(&body, 2 * FILE_MAX);
    struct sns_headers h = { 0 };
    if (sns_signer_load_or_create(&k, o->data_dir, &d) != 0) {
        fprintf(stderr, "vigil deliver: %s\n", d.msg);
        goto out;
    }
    if (o->email) {
        /* the e-mail protocol: SNS's texts */
        struct opts mo = *o;
        const char *one[1] = { o->email };
        mo.to.v = one;
        mo.to.n = 1;
        if (m.type == SNS_NOTIFICATION) {
            char *unsub = m.subscription_arn
                              ? sns_email_unsubscribe_url(&site, m.subscription_arn, o->email)
                              : NULL;
            if (sns_email_body(&m, &site, o->email, &body, &d) == 0)
                rc = send_mail(&mo, o->from_name ? o->from_name : site.from_name,
                               sns_email_subject(&m, &site), buf_str(&body), unsub);
            else
                rc = report("rejected", 0, d.msg);
            free(unsub);
        } else if (sns_email_confirmation_body(&site, m.topic_arn, m.token, o->email, &body, &d) ==
                   0) {
            rc = send_mail(&mo, o->from_name ? o->from_name : site.from_name, site.confirm_subject,
                           buf_str(&body), NULL);
        } else {
            rc = report("rejected", 0, d.msg);
        }
        goto out;
    }
    if (sns_http_body(&m, &site, &k, &body, &d) != 0) {
        rc = report("rejected", 0, d.msg);
        goto out;
    }
    if (o->email_json) {
        struct opts mo = *o;
        const char *one[1] = { o->email_json };
        mo.to.v = one;
        mo.to.n = 1;
        rc = send_mail(&mo, o->from_name ? o->from_name : site.from_name,
                       m.type == SNS_NOTIFICATION ? sns_email_subject(&m, &site)
                                                  : site.confirm_subject,
                       buf_str(&body), NULL);
        goto out;
    }
    if (!o->webhook) {
        fwrite(body.data, 1, body.len, stdout);
        putchar('\n');
        rc = 0;
        goto out;
    }
    if (sns_http_headers(&m, &site, NULL, &h, &d) != 0) {
        rc = report("rejected", 0, d.msg);
        goto out;
    }
    rc = post(o, o->webhook, buf_str(&body), h.v, h.n);
out:
    sns_headers_release(&h);
    buf_release(&body);
    sns_signer_release(&k);
    free(message);
    return rc;
}

int cmd_deliver(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        deliver_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    struct opts o = { 0 };
    int rc = parse(argc, argv, &o);
    if (rc == 0) {
        const char *sub = argv[1];
        if (!strcmp(sub, "mail"))
            rc = cmd_mail(&o);
        else if (!strcmp(sub, "webhook"))
            rc = cmd_webhook(&o);
        else if (!strcmp(sub, "sns"))
            rc = cmd_sns(&o);
        else if (!strcmp(sub, "sns-cert"))
            rc = cmd_sns_cert(&o);
        else {
            fprintf(stderr,
                    "vigil deliver: unknown subcommand '%s' (mail, webhook, sns, "
                    "sns-cert)\n",
                    sub);
            rc = 2;
        }
    }
    free(o.to.v);
    free(o.headers.v);
    return rc;
}
