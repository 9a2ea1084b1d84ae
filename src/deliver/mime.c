/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 5322 / MIME message builder: validation first (addresses, header values, UTF-8), then
 * the headers (folded, RFC 2047 encoded where needed) and a base64 or quoted-printable body. */
#include "deliver/mime.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/b64.h"
#include "base/xalloc.h"
#include "deliver/internal.h"

/* ---- validation ---- */

/* A short printable rendering of untrusted text for error messages. */
static void quote_for_diag(char *dst, size_t cap, struct str s)
{
    dlv_summary(dst, cap, s);
    for (char *p = dst; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
}

static bool is_atext(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool is_ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

int mime_domain_check(struct str dom, struct diag *d)
{
    if (dom.len == 0)
        return diag_set(d, -ERR_INVALID, 0, "empty domain");
    if (dom.len > MIME_DOMAIN_MAX)
        return diag_set(d, -ERR_INVALID, 0, "domain is longer than %d bytes", MIME_DOMAIN_MAX);
    if (dom.ptr[0] == '[')
        return diag_set(d, -ERR_INVALID, 0, "address literals ([...]) are not supported");
    size_t start = 0;
    for (size_t i = 0; i <= dom.len; i++) {
        if (i < dom.len && dom.ptr[i] != '.') {
            unsigned char c = (unsigned char)dom.ptr[i];
            if (!is_ldh(c))
                return diag_set(d, -ERR_INVALID, i,
                                c >= 0x80 ? "non-ASCII domains are not supported (use punycode)"
                                          : "domain contains a character other than letters, "
                                            "digits, hyphens and dots at byte %zu",
                                i);
            continue;
        }
        size_t n = i - start;
        if (n == 0)
            return diag_set(d, -ERR_INVALID, i, "domain has an empty label at byte %zu", i);
        if (n > MIME_LABEL_MAX)
            return diag_set(d, -ERR_INVALID, start, "domain label is longer than %d bytes",
                            MIME_LABEL_MAX);
        if (dom.ptr[start] == '-' || dom.ptr[i - 1] == '-')
            return diag_set(d, -ERR_INVALID, start,
                            "domain label starts or ends with a hyphen at byte %zu", start);
        start = i + 1;
    }
    return 0;
}

int mime_addr_check(struct str a, struct diag *d)
{
    char q[72];
    quote_for_diag(q, sizeof(q), a);
    if (a.len == 0)
        return diag_set(d, -ERR_INVALID, 0, "empty e-mail address");
    if (a.len > MIME_ADDR_MAX)
        return diag_set(d, -ERR_INVALID, 0, "e-mail address '%s' is longer than %d bytes", q,
                        MIME_ADDR_MAX);
    size_t at = a.len, n_at = 0;
    for (size_t i = 0; i < a.len; i++) {
        unsigned char c = (unsigned char)a.ptr[i];
        if (c <= 0x20 || c == 0x7f)
            return diag_set(d, -ERR_INVALID, i,
                            "e-mail address '%s' contains a space or control character at "
                            "byte %zu",
                            q, i);
        if (c >= 0x80)
            return diag_set(d, -ERR_INVALID, i,
                            "e-mail address '%s': non-ASCII addresses are not supported", q);
        if (c == '@') {
            at = i;
            n_at++;
        }
    }
    if (n_at != 1)
        return diag_set(d, -ERR_INVALID, 0,
                        "e-mail address '%s' must have exactly one '@' (local@domain)", q);
    struct str local = str_make(a.ptr, at), dom = str_make(a.ptr + at + 1, a.len - at - 1);
    if (local.len == 0)
        return diag_set(d, -ERR_INVALID, 0, "e-mail address '%s' has an empty local part", q);
    if (local.len > MIME_LOCAL_MAX)
        return diag_set(d, -ERR_INVALID, 0,
                        "e-mail address '%s': local part is longer than %d bytes", q,
                        MIME_LOCAL_MAX);
    for (size_t i = 0; i < local.len; i++) {
        unsigned char c = (unsigned char)local.ptr[i];
        if (c == '.') {
            if (i == 0 || i + 1 == local.len || local.ptr[i + 1] == '.')
                return diag_set(d, -ERR_INVALID, i,
                                "e-mail address '%s': a dot in the local part may not be "
                                "first, last or doubled",
                                q);
        } else if (!is_atext(c)) {
            return diag_set(d, -ERR_INVALID, i,
                            "e-mail address '%s': character '%c' is not allowed in the local "
                            "part (quoted local parts are not supported)",
                            q, c);
        }
    }
    struct diag dd = { 0 };
    if (mime_domain_check(dom, &dd) != 0)
        return diag_set(d, -ERR_INVALID, at + 1 + dd.offset, "e-mail address '%s': %s", q, dd.msg);
    return 0;
}

int mime_header_value_check(const char *name, struct str v, struct diag *d)
{
    if (v.len > MIME_HEADER_VALUE_MAX)
        return diag_set(d, -ERR_TOO_BIG, 0, "header '%s' is longer than %d bytes", name,
                        MIME_HEADER_VALUE_MAX);
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.ptr[i];
        if (c >= 0x20 && c != 0x7f)
            continue;
        if (c == '\r' || c == '\n')
            return diag_set(d, -ERR_INVALID, i,
                            "header '%s' contains %s at byte %zu (header injection refused)", name,
                            c == '\r' ? "CR" : "LF", i);
        return diag_set(d, -ERR_INVALID, i,
                        "header '%s' contains control character 0x%02x at byte %zu", name, c, i);
    }
    size_t ok = dlv_utf8_valid_prefix(v);
    if (ok != v.len)
        return diag_set(d, -ERR_INVALID, ok, "header '%s' is not valid UTF-8 at byte %zu", name,
                        ok);
    return 0;
}

/* Header names an extra header may not use: vigil writes them itself, or they belong to the
 * envelope / the receiving servers. */
static const char *const reserved_headers[] = {
    "From",         "To",
    "Cc",           "Bcc",
    "Subject",      "Date",
    "Message-ID",   "MIME-Version",
    "Content-Type", "Content-Transfer-Encoding",
    "Return-Path",  "Received",
    "Sender",       "List-Unsubscribe",
};

static int header_name_check(const char *name, struct diag *d)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > MIME_HEADER_NAME_MAX)
        return diag_set(d, -ERR_INVALID, 0, "header name must be 1 to %d characters",
                        MIME_HEADER_NAME_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 33 || c > 126 || c == ':')
            return diag_set(d, -ERR_INVALID, i,
                            "header name contains a character other than printable ASCII "
                            "without ':' at byte %zu",
                            i);
    }
    bool reserved = strncasecmp(name, "Content-", 8) == 0;
    for (size_t i = 0; i < ARRAY_SIZE(reserved_headers) && !reserved; i++)
        reserved = strcasecmp(name, reserved_headers[i]) == 0;
    if (reserved)
        return diag_set(d, -ERR_INVALID, 0, "header '%s' is set by vigil itself", name);
    return 0;
}

static int url_check(const char *url, struct diag *d)
{
    size_t n = strlen(url);
    if (n == 0 || n > MIME_URL_MAX)
        return diag_set(d, -ERR_INVALID, 0, "header 'List-Unsubscribe': URL must be 1 to %d bytes",
                        MIME_URL_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>')
            return diag_set(d, -ERR_INVALID, i,
                            "header 'List-Unsubscribe': URL contains %s at byte %zu",
                            c == '\r' || c == '\n' ? "CR/LF (header injection refused)"
                                                   : "a character not allowed in a URL",
                            i);
    }
    return 0;
}

static int message_id_check(const char *id, struct diag *d)
{
    size_t n = strlen(id);
    if (n < 5 || n >= MIME_MSGID_MAX || id[0] != '<' || id[n - 1] != '>' || !memchr(id, '@', n))
        return diag_set(d, -ERR_INVALID, 0, "header 'Message-ID' must look like <id@domain>");
    for (size_t i = 1; i + 1 < n; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>')
            return diag_set(d, -ERR_INVALID, i,
                            "header 'Message-ID' contains a space, control or non-ASCII "
                            "character at byte %zu",
                            i);
    }
    return 0;
}

/* ---- header writing ---- */

struct hdr {
    struct buf *b;
    size_t col;
    int err;
};

static void hput(struct hdr *h, const char *p, size_t n)
{
    if (h->err)
        return;
    h->err = buf_append(h->b, p, n);
    h->col += n;
}

static void hputs(struct hdr *h, const char *s)
{
    hput(h, s, strlen(s));
}

static void hfold(struct hdr *h)
{
    hput(h, "\r\n", 2);
    h->col = 0;
}

/* Raw (unencoded) form is used when the value is printable ASCII without "=?", has no white
 * space at either end, and folds at its spaces into lines of at most MIME_LINE_MAX columns
 * when it starts at column `col`. */
static bool raw_fits(size_t col, struct str v)
{
    if (v.len == 0)
        return true;
    if (v.ptr[0] == ' ' || v.ptr[v.len - 1] == ' ')
        return false;
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.ptr[i];
        if (c < 0x20 || c > 0x7e)
            return false;
        if (c == '=' && i + 1 < v.len && v.ptr[i + 1] == '?')
            return false;
    }
    /* chunks: the first word, then each run of spaces with the word after it */
    size_t i = 0;
    bool first = true;
    while (i < v.len) {
        size_t s = i;
        while (i < v.len && v.ptr[i] == ' ')
            i++;
        while (i < v.len && v.ptr[i] != ' ')
            i++;
        size_t n = i - s;
        if (first ? col + n > MIME_LINE_MAX : n > MIME_LINE_MAX)
            return false;
        first = false;
    }
    return true;
}

static void put_raw(struct hdr *h, struct str v)
{
    size_t i = 0;
    bool first = true;
    while (i < v.len) {
        size_t s = i;
        while (i < v.len && v.ptr[i] == ' ')
            i++;
        while (i < v.len && v.ptr[i] != ' ')
            i++;
        /* fold before the spaces: unfolding (removing CRLF) restores the value exactly */
        if (!first && h->col + (i - s) > MIME_LINE_MAX)
            hfold(h);
        hput(h, v.ptr + s, i - s);
        first = false;
    }
}

#define EW_PREFIX     "=?UTF-8?B?"
#define EW_OVERHEAD   12 /* "=?UTF-8?B?" + "?=" */
#define EW_MAX        75 /* RFC 2047: an encoded-word is at most 75 characters */
#define EW_MIN_COLUMN 20 /* room for the longest UTF-8 character (8 base64 characters) */

/* Write v as a sequence of encoded-words, each preceded by one space (or a fold and a
 * space), each ending between UTF-8 characters. */
static void put_encoded(struct hdr *h, struct str v)
{
    size_t i = 0;
    while (i < v.len && !h->err) {
        size_t avail = MIME_LINE_MAX - h->col - 1; /* after the separating space */
        if (h->col + 1 + EW_MIN_COLUMN > MIME_LINE_MAX) {
            hfold(h);
            continue;
        }
        if (avail > EW_MAX)
            avail = EW_MAX;
        size_t max_bytes = (avail - EW_OVERHEAD) / 4 * 3;
        size_t take = 0;
        while (i + take < v.len) {
            size_t n = dlv_utf8_seq_len((unsigned char)v.ptr[i + take]);
            if (i + take + n > v.len)
                n = v.len - i - take;
            if (take + n > max_bytes)
                break;
            take += n;
        }
        if (take == 0) { /* cannot happen with EW_MIN_COLUMN; be safe */
            hfold(h);
            continue;
        }
        struct buf enc;
        buf_init(&enc, (size_t)4 * EW_MAX);
        int err = b64_encode(v.ptr + i, take, B64_STD, &enc);
        BUG_ON(err != 0);
        hput(h, " " EW_PREFIX, 1 + strlen(EW_PREFIX));
        hput(h, enc.data, enc.len);
        hput(h, "?=", 2);
        buf_release(&enc);
        i += take;
        /* the next word goes on a new line unless a useful one still fits here */
        if (i < v.len && h->col + 1 + EW_MIN_COLUMN > MIME_LINE_MAX)
            hfold(h);
    }
}

static void put_unstructured_value(struct hdr *h, struct str v)
{
    if (v.len == 0)
        return;
    if (raw_fits(h->col + 1, v)) {
        hput(h, " ", 1);
        put_raw(h, v);
    } else {
        put_encoded(h, v);
    }
}

int mime_put_unstructured(struct buf *out, const char *name, struct str v, struct diag *d)
{
    int err = mime_header_value_check(name, v, d);
    if (err)
        return err;
    size_t mark = out->len;
    struct hdr h = { out, 0, 0 };
    hputs(&h, name);
    hput(&h, ":", 1);
    put_unstructured_value(&h, v);
    hput(&h, "\r\n", 2);
    if (h.err) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
        return diag_set(d, h.err, 0, "message is too big");
    }
    return 0;
}

/* A display name as an atom sequence, a quoted-string, or encoded-words. */
static void put_phrase(struct hdr *h, struct str name)
{
    bool atoms = name.len > 0 && name.ptr[0] != ' ' && name.ptr[name.len - 1] != ' ';
    bool ascii = true;
    for (size_t i = 0; i < name.len; i++) {
        unsigned char c = (unsigned char)name.ptr[i];
        if (c >= 0x80)
            ascii = false;
        if (c != ' ' && !is_atext(c))
            atoms = false;
    }
    if (atoms && raw_fits(h->col + 1, name) && h->col + 1 + name.len <= MIME_LINE_MAX) {
        hput(h, " ", 1);
        hput(h, name.ptr, name.len);
        return;
    }
    /* quoted-string: escape '"' and '\' */
    size_t qlen = name.len + 2;
    for (size_t i = 0; i < name.len; i++)
        qlen += name.ptr[i] == '"' || name.ptr[i] == '\\';
    if (ascii && h->col + 1 + qlen <= MIME_LINE_MAX) {
        hput(h, " \"", 2);
        for (size_t i = 0; i < name.len; i++) {
            if (name.ptr[i] == '"' || name.ptr[i] == '\\')
                hput(h, "\\", 1);
            hput(h, name.ptr + i, 1);
        }
        hput(h, "\"", 1);
        return;
    }
    put_encoded(h, name);
}

/* " <addr>" or ", addr" style item, folded before it when it would pass the line limit. */
static void put_item(struct hdr *h, const char *sep, const char *item, bool angle)
{
    size_t n = strlen(sep) + strlen(item) + 1 + (angle ? 2 : 0);
    if (h->col + n > MIME_LINE_MAX && h->col > 0) {
        hputs(h, sep[0] == ',' ? "," : "");
        hfold(h);
        sep = "";
    }
    hputs(h, sep);
    hput(h, " ", 1);
    if (angle)
        hput(h, "<", 1);
    hputs(h, item);
    if (angle)
        hput(h, ">", 1);
}

/* ---- dates and ids ---- */

void mime_date(int64_t t, char out[MIME_DATE_LEN])
{
    static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        tt = 0;
        gmtime_r(&tt, &tm);
    }
    /* the moduli only bound the values for the compiler: gmtime_r() keeps them in range */
    snprintf(out, MIME_DATE_LEN, "%s, %02u %s %04u %02u:%02u:%02u +0000",
             days[(unsigned)tm.tm_wday % 7], (unsigned)tm.tm_mday % 32,
             months[(unsigned)tm.tm_mon % 12], (unsigned)(tm.tm_year + 1900) % 10000,
             (unsigned)tm.tm_hour % 24, (unsigned)tm.tm_min % 60, (unsigned)tm.tm_sec % 61);
}

int mime_message_id(const char *domain, char *out, size_t cap, struct diag *d)
{
    BUG_ON(cap < MIME_MSGID_MAX);
    int err = mime_domain_check(str_from(domain), d);
    if (err)
        return err;
    unsigned char rnd[16];
    char hex[33];
    dlv_random(rnd, sizeof(rnd));
    for (size_t i = 0; i < sizeof(rnd); i++) {
        static const char x[] = "0123456789abcdef";
        hex[2 * i] = x[rnd[i] >> 4];
        hex[2 * i + 1] = x[rnd[i] & 15];
    }
    hex[32] = '\0';
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(out, cap, "<%llx.%s@%s>",
             (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000,
             hex, domain);
    return 0;
}

/* ---- bodies ---- */

/* Text with every line end as CRLF (bare LF and bare CR become CRLF). */
static int canonical_text(struct buf *out, struct str t)
{
    for (size_t i = 0; i < t.len; i++) {
        char c = t.ptr[i];
        int err;
        if (c == '\n') {
            err = buf_append(out, "\r\n", 2);
        } else if (c == '\r') {
            err = buf_append(out, "\r\n", 2);
            if (i + 1 < t.len && t.ptr[i + 1] == '\n')
                i++;
        } else {
            err = buf_putc(out, c);
        }
        if (err)
            return err;
    }
    return 0;
}

int mime_body_base64(struct buf *out, struct str text)
{
    struct buf canon;
    buf_init(&canon, 2 * MIME_BODY_MAX + 2);
    int err = canonical_text(&canon, text);
    /* 57 input bytes are exactly one 76-column line */
    for (size_t i = 0; !err && i < canon.len; i += 57) {
        size_t n = canon.len - i < 57 ? canon.len - i : 57;
        err = b64_encode(canon.data + i, n, B64_STD, out);
        if (!err)
            err = buf_append(out, "\r\n", 2);
    }
    buf_release(&canon);
    return err;
}

int mime_body_qp(struct buf *out, struct str text)
{
    static const char hex[] = "0123456789ABCDEF";
    struct buf canon;
    buf_init(&canon, 2 * MIME_BODY_MAX + 2);
    int err = canonical_text(&canon, text);
    struct str rest = buf_str(&canon);
    while (!err && rest.len > 0) {
        const char *eol = memmem(rest.ptr, rest.len, "\r\n", 2);
        size_t n = eol ? (size_t)(eol - rest.ptr) : rest.len;
        size_t col = 0;
        for (size_t i = 0; i < n && !err; i++) {
            unsigned char c = (unsigned char)rest.ptr[i];
            bool last = i + 1 == n;
            char tok[3];
            size_t tl = 1;
            /* literal: printable ASCII except '=', and SP/TAB unless they end the line */
            if ((c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last)) {
                tok[0] = (char)c;
            } else {
                tok[0] = '=';
                tok[1] = hex[c >> 4];
                tok[2] = hex[c & 15];
                tl = 3;
            }
            /* a soft break "=" keeps every line within 76 columns */
            if (col + tl > MIME_BODY_LINE_MAX - 1 && !(last && col + tl <= MIME_BODY_LINE_MAX)) {
                err = buf_append(out, "=\r\n", 3);
                col = 0;
            }
            if (!err)
                err = buf_append(out, tok, tl);
            col += tl;
        }
        if (!err && eol)
            err = buf_append(out, "\r\n", 2);
        rest.ptr += n + (eol ? 2 : 0);
        rest.len -= n + (eol ? 2 : 0);
    }
    buf_release(&canon);
    return err;
}

/* ---- the whole message ---- */

static int validate(const struct mime_message *m, struct diag *d)
{
    int err;
    if (!m->from_addr)
        return diag_set(d, -ERR_INVALID, 0, "no From address");
    if ((err = mime_addr_check(str_from(m->from_addr), d)))
        return err;
    if (m->from_name && (err = mime_header_value_check("From", str_from(m->from_name), d)))
        return err;
    if (m->n_to == 0 || !m->to)
        return diag_set(d, -ERR_INVALID, 0, "no To address");
    if (m->n_to > MIME_RCPT_MAX)
        return diag_set(d, -ERR_TOO_BIG, 0, "more than %d To addresses", MIME_RCPT_MAX);
    for (size_t i = 0; i < m->n_to; i++)
        if ((err = mime_addr_check(str_from(m->to[i]), d)))
            return err;
    if (m->subject && (err = mime_header_value_check("Subject", str_from(m->subject), d)))
        return err;
    if (m->list_unsubscribe && (err = url_check(m->list_unsubscribe, d)))
        return err;
    if (m->message_id) {
        if ((err = message_id_check(m->message_id, d)))
            return err;
    } else {
        if (!m->message_id_domain)
            return diag_set(d, -ERR_INVALID, 0, "no Message-ID domain");
        if ((err = mime_domain_check(str_from(m->message_id_domain), d)))
            return diag_prefix(d, err, "Message-ID domain: ");
    }
    if (m->n_headers > MIME_EXTRA_MAX)
        return diag_set(d, -ERR_TOO_BIG, 0, "more than %d extra headers", MIME_EXTRA_MAX);
    for (size_t i = 0; i < m->n_headers; i++) {
        const struct mime_header *x = &m->headers[i];
        if ((err = header_name_check(x->name, d)))
            return err;
        if (!x->value)
            return diag_set(d, -ERR_INVALID, 0, "header '%s' has no value", x->name);
        if ((err = mime_header_value_check(x->name, str_from(x->value), d)))
            return err;
    }
    if (m->body.len > MIME_BODY_MAX)
        return diag_set(d, -ERR_TOO_BIG, 0, "body is larger than %zu bytes", MIME_BODY_MAX);
    if (m->body.len && memchr(m->body.ptr, '\0', m->body.len))
        return diag_set(d, -ERR_INVALID, 0, "body contains a NUL byte");
    size_t ok = dlv_utf8_valid_prefix(m->body);
    if (ok != m->body.len)
        return diag_set(d, -ERR_INVALID, ok, "body is not valid UTF-8 at byte %zu", ok);
    return 0;
}

int mime_build(const struct mime_message *m, struct buf *out, char *msgid_out, struct diag *d)
{
    int err = validate(m, d);
    if (err)
        return err;
    char msgid[MIME_MSGID_MAX];
    if (m->message_id) {
        snprintf(msgid, sizeof(msgid), "%s", m->message_id);
    } else if ((err = mime_message_id(m->message_id_domain, msgid, sizeof(msgid), d))) {
        return err;
    }
    char date[MIME_DATE_LEN];
    mime_date(m->date ? m->date : (int64_t)time(NULL), date);

    size_t mark = out->len;
    struct hdr h = { out, 0, 0 };
    hputs(&h, "From:");
    if (m->from_name && *m->from_name) {
        put_phrase(&h, str_from(m->from_name));
        put_item(&h, "", m->from_addr, true);
    } else {
        put_item(&h, "", m->from_addr, false);
    }
    hfold(&h);
    hputs(&h, "To:");
    for (size_t i = 0; i < m->n_to; i++)
        put_item(&h, i ? "," : "", m->to[i], false);
    hfold(&h);
    hputs(&h, "Subject:");
    if (m->subject)
        put_unstructured_value(&h, str_from(m->subject));
    hfold(&h);
    hputs(&h, "Date: ");
    hputs(&h, date);
    hfold(&h);
    hputs(&h, "Message-ID: ");
    hputs(&h, msgid);
    hfold(&h);
    hputs(&h, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n");
    hputs(&h, m->encoding == MIME_QP ? "Content-Transfer-Encoding: quoted-printable\r\n"
                                     : "Content-Transfer-Encoding: base64\r\n");
    if (m->list_unsubscribe) {
        hputs(&h, "List-Unsubscribe: <");
        hputs(&h, m->list_unsubscribe);
        hputs(&h, ">\r\n");
    }
    for (size_t i = 0; i < m->n_headers; i++) {
        h.col = 0;
        hputs(&h, m->headers[i].name);
        hput(&h, ":", 1);
        put_unstructured_value(&h, str_from(m->headers[i].value));
        hfold(&h);
    }
    hput(&h, "\r\n", 2);
    err = h.err;
    if (!err)
        err = m->encoding == MIME_QP ? mime_body_qp(out, m->body) : mime_body_base64(out, m->body);
    if (err) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
        return diag_set(d, err, 0, "message is larger than the output limit");
    }
    if (msgid_out)
        memcpy(msgid_out, msgid, strlen(msgid) + 1);
    return 0;
}

/* ---- decoding (tests, fuzzing) ---- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Parse one encoded-word at s (which starts with "=?"); on success *len is its length and
 * the decoded bytes are appended. Returns 1 (decoded), 0 (not an encoded-word) or <0. */
static int decode_word(struct str s, size_t *len, struct buf *out)
{
    /* =?charset?X?text?= with no white space inside */
    size_t i = 2;
    while (i < s.len && s.ptr[i] != '?' && s.ptr[i] != ' ' && s.ptr[i] != '\t')
        i++;
    if (i >= s.len || s.ptr[i] != '?' || i + 3 > s.len || s.ptr[i + 2] != '?')
        return 0;
    struct str cs = str_make(s.ptr + 2, i - 2);
    char enc = s.ptr[i + 1];
    size_t t0 = i + 3, t = t0;
    while (t + 1 < s.len && !(s.ptr[t] == '?' && s.ptr[t + 1] == '=')) {
        if (s.ptr[t] == ' ' || s.ptr[t] == '\t' || s.ptr[t] == '?')
            return 0;
        t++;
    }
    if (t + 1 >= s.len)
        return 0;
    long star = str_chr(cs, '*'); /* RFC 2231 language suffix */
    if (star >= 0)
        cs.len = (size_t)star;
    char csn[16];
    if (cs.len == 0 || cs.len >= sizeof(csn))
        return -ERR_UNSUPPORTED;
    memcpy(csn, cs.ptr, cs.len);
    csn[cs.len] = '\0';
    if (strcasecmp(csn, "UTF-8") != 0 && strcasecmp(csn, "US-ASCII") != 0)
        return -ERR_UNSUPPORTED;
    struct str text = str_make(s.ptr + t0, t - t0);
    int err = 0;
    if (enc == 'B' || enc == 'b') {
        err = b64_decode(text, B64_STD, out);
    } else if (enc == 'Q' || enc == 'q') {
        for (size_t k = 0; k < text.len && !err; k++) {
            char c = text.ptr[k];
            if (c == '_') {
                c = ' ';
            } else if (c == '=') {
                int h = k + 2 < text.len ? hex_digit(text.ptr[k + 1]) : -1;
                int l = k + 2 < text.len ? hex_digit(text.ptr[k + 2]) : -1;
                if (h < 0 || l < 0)
                    return -ERR_CORRUPT;
                c = (char)(unsigned char)(h << 4 | l);
                k += 2;
            }
            err = buf_putc(out, c);
        }
    } else {
        return 0;
    }
    if (err)
        return err == -ERR_TOO_BIG ? err : -ERR_CORRUPT;
    *len = t + 2;
    return 1;
}

int mime_header_decode(struct str v, struct buf *out)
{
    struct buf unf;
    buf_init(&unf, v.len + 1);
    int err = 0;
    for (size_t i = 0; i < v.len && !err; i++) {
        if (v.ptr[i] == '\r' && i + 2 < v.len && v.ptr[i + 1] == '\n' &&
            (v.ptr[i + 2] == ' ' || v.ptr[i + 2] == '\t')) {
            i++;
            continue;
        }
        if (v.ptr[i] == '\r' || v.ptr[i] == '\n')
            err = -ERR_CORRUPT;
        else
            err = buf_putc(&unf, v.ptr[i]);
    }
    struct str s = buf_str(&unf);
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
        s.ptr++;
        s.len--;
    }
    bool prev_word = false;
    size_t i = 0;
    while (!err && i < s.len) {
        size_t ws = i;
        while (i < s.len && (s.ptr[i] == ' ' || s.ptr[i] == '\t'))
            i++;
        size_t tok = i;
        while (i < s.len && s.ptr[i] != ' ' && s.ptr[i] != '\t')
            i++;
        struct str t = str_make(s.ptr + tok, i - tok);
        size_t wl = 0;
        int r = 0;
        if (t.len >= 2 && t.ptr[0] == '=' && t.ptr[1] == '?') {
            struct buf dec;
            buf_init(&dec, t.len + 1);
            r = decode_word(t, &wl, &dec);
            if (r == 1 && wl != t.len)
                r = 0; /* text glued to the word: not an encoded-word */
            if (r == 1) {
                if (!prev_word)
                    err = buf_append(out, s.ptr + ws, tok - ws);
                if (!err)
                    err = buf_append(out, dec.data, dec.len);
            }
            buf_release(&dec);
            if (r < 0)
                err = r;
        }
        if (!err && r != 1)
            err = buf_append(out, s.ptr + ws, i - ws);
        prev_word = r == 1;
    }
    buf_release(&unf);
    return err;
}
