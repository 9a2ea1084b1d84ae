/* SPDX-License-Identifier: Apache-2.0 */
/* Build one RFC 5322 / MIME text message (text/plain; charset=UTF-8) for SMTP delivery:
 * address and header validation (no header injection), RFC 2047 encoded-words for non-ASCII
 * header text, folding to 78 columns, base64 or quoted-printable bodies, Date, Message-ID. */
#ifndef VIGIL_DELIVER_MIME_H
#define VIGIL_DELIVER_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/str.h"

#define MIME_LINE_MAX         78   /* header lines are folded to at most this many columns */
#define MIME_BODY_LINE_MAX    76   /* encoded body lines (RFC 2045) */
#define MIME_ADDR_MAX         254  /* whole address, RFC 5321 path minus the angle brackets */
#define MIME_LOCAL_MAX        64   /* local part */
#define MIME_DOMAIN_MAX       255  /* domain */
#define MIME_LABEL_MAX        63   /* one domain label */
#define MIME_HEADER_NAME_MAX  76   /* extra header names */
#define MIME_HEADER_VALUE_MAX 4096 /* one header value, in bytes, before encoding */
#define MIME_URL_MAX          900  /* List-Unsubscribe URL (must fit one 998-byte line) */
#define MIME_RCPT_MAX         100  /* To: addresses in one message */
#define MIME_EXTRA_MAX        32   /* extra headers in one message */
#define MIME_BODY_MAX         ((size_t)4 << 20)
#define MIME_MSGID_MAX        320 /* "<" unique "@" domain ">" + NUL */
#define MIME_DATE_LEN         32

enum mime_encoding {
    MIME_BASE64 = 0, /* Content-Transfer-Encoding: base64 (default) */
    MIME_QP,         /* Content-Transfer-Encoding: quoted-printable */
};

/* An extra header: a name such as "X-Vigil-Topic" and an unstructured UTF-8 value. */
struct mime_header {
    const char *name;
    const char *value;
};

/* Everything a message is made from. All pointers are borrowed. */
struct mime_message {
    const char *from_name; /* display name (UTF-8) or NULL */
    const char *from_addr; /* required */
    const char *const *to; /* required: n_to >= 1 addresses */
    size_t n_to;
    const char *subject;           /* UTF-8; NULL = empty */
    struct str body;               /* UTF-8 text, LF or CRLF line ends (sent as CRLF) */
    int64_t date;                  /* seconds since the epoch; 0 = now */
    const char *message_id;        /* "<...>" to reuse on a retry; NULL = make a new one */
    const char *message_id_domain; /* right side of a new Message-ID (required without one) */
    const char *list_unsubscribe;  /* URL for List-Unsubscribe: <URL>, or NULL */
    const struct mime_header *headers;
    size_t n_headers;
    enum mime_encoding encoding;
};

/* Append the complete message (headers, blank line, encoded body; CRLF line ends) to *out.
 * Everything is validated before anything is appended, so on error *out is unchanged.
 * msgid_out (optional, MIME_MSGID_MAX bytes) receives the Message-ID used.
 * Errors: -ERR_INVALID (bad address, control character or CR/LF in a header value, invalid
 * UTF-8, a reserved or malformed extra header name; the diag names the header or address),
 * -ERR_TOO_BIG (a limit above, or *out's cap). */
int mime_build(const struct mime_message *m, struct buf *out, char *msgid_out, struct diag *d);

/* Validate an e-mail address: a practical subset of RFC 5321 "local@domain". The local part
 * is 1..64 bytes of atext and non-leading, non-trailing, non-repeated dots (no quoted local
 * parts); the domain follows mime_domain_check(); the whole is at most 254 bytes; no spaces,
 * controls or non-ASCII (SMTPUTF8 is not supported). 0 or -ERR_INVALID with a message. */
int mime_addr_check(struct str addr, struct diag *d);

/* Validate a host name: 1..255 bytes, dot-separated labels of 1..63 letters, digits and
 * hyphens, no label starting or ending with a hyphen, no trailing dot, no address literals.
 * 0 or -ERR_INVALID. */
int mime_domain_check(struct str domain, struct diag *d);

/* Refuse a header value that could change the message structure: CR, LF or any other control
 * character (header injection), invalid UTF-8, or more than MIME_HEADER_VALUE_MAX bytes.
 * `name` is used in the message ("header 'Subject' contains CR at byte 5").
 * 0, -ERR_INVALID or -ERR_TOO_BIG. */
int mime_header_value_check(const char *name, struct str value, struct diag *d);

/* Append "Name: value\r\n" for an unstructured header (Subject, X-...): printable ASCII that
 * folds at spaces within MIME_LINE_MAX is written as is, anything else as RFC 2047 UTF-8
 * B encoded-words, each at most 75 columns, split only between UTF-8 characters, one or more
 * per folded line. The value is checked with mime_header_value_check() first.
 * 0, -ERR_INVALID or -ERR_TOO_BIG. */
int mime_put_unstructured(struct buf *out, const char *name, struct str value, struct diag *d);

/* Decode an unstructured header value as written above (the text after "Name:", folds
 * included): unfold, drop the leading space, decode UTF-8/US-ASCII B and Q encoded-words and
 * drop the white space between adjacent encoded-words (RFC 2047 section 6.2). For tests and
 * fuzzing; not a general RFC 2047 decoder. 0, -ERR_CORRUPT or -ERR_UNSUPPORTED (charset). */
int mime_header_decode(struct str value, struct buf *out);

/* RFC 5322 date in UTC ("Tue, 02 May 2012 00:54:06 +0000") into out. */
void mime_date(int64_t t, char out[MIME_DATE_LEN]);

/* A new unique Message-ID "<time.random@domain>" into out (cap >= MIME_MSGID_MAX).
 * 0 or -ERR_INVALID (domain). */
int mime_message_id(const char *domain, char *out, size_t cap, struct diag *d);

/* Append text as a base64 / quoted-printable body: line ends become CRLF first (the
 * canonical form of text/plain), then encoded lines are at most 76 columns, CRLF-terminated.
 * 0 or -ERR_TOO_BIG. */
int mime_body_base64(struct buf *out, struct str text);
int mime_body_qp(struct buf *out, struct str text);

#endif
