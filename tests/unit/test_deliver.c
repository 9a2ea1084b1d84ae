/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for src/deliver: MIME building (RFC 2047 subjects, folding, header injection,
 * addresses, bodies), SMTP/webhook configuration and classification, SNS formats and
 * signatures (verified with OpenSSL against the certificate file), retry schedules. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/str.h"
#include "base/xalloc.h"
#include "deliver/mime.h"
#include "deliver/retry.h"
#include "deliver/smtp.h"
#include "deliver/sns_msg.h"
#include "deliver/webhook.h"
#include "test.h"

/* ---- helpers ---- */

static const char jp_subject[] =
    "【重要】脆弱性スキャン結果: リポジトリ my-app に CRITICAL 3 件、HIGH 12 件の脆弱性が"
    "見つかりました。詳細はコンソールで確認してください 🚨";

/* Every line of a CRLF text: at most max columns, CRLF-terminated. */
static void assert_lines(struct str text, size_t max)
{
    size_t start = 0;
    for (size_t i = 0; i < text.len; i++) {
        if (text.ptr[i] == '\n') {
            ASSERT_TRUE(i > start && text.ptr[i - 1] == '\r');
            size_t cols = i - 1 - start;
            if (cols > max)
                test_fail(__FILE__, __LINE__, "line of %zu columns: %.*s", cols, (int)cols,
                          text.ptr + start);
            start = i + 1;
        } else {
            ASSERT_TRUE(text.ptr[i] != '\r' || (i + 1 < text.len && text.ptr[i + 1] == '\n'));
        }
    }
    ASSERT_EQ(start, text.len); /* ends with CRLF */
}

/* The value part of "Name: ...\r\n( ...\r\n)*" without the final CRLF. */
static struct str header_value(struct str h, const char *name)
{
    size_t n = strlen(name);
    ASSERT_TRUE(h.len > n + 3 && memcmp(h.ptr, name, n) == 0 && h.ptr[n] == ':');
    ASSERT_TRUE(str_has_suffix(h, "\r\n"));
    return str_make(h.ptr + n + 1, h.len - n - 3);
}

static bool utf8_ok(const char *p, size_t n)
{
    struct buf b;
    buf_init(&b, n + 8);
    buf_append(&b, p, n);
    /* mime_header_value_check checks UTF-8 (and refuses controls, absent here) */
    bool ok = mime_header_value_check("X", buf_str(&b), NULL) == 0;
    buf_release(&b);
    return ok;
}

/* ---- MIME: headers ---- */

TEST(mime_japanese_subject_encoded_words)
{
    struct buf out;
    buf_init(&out, 1 << 16);
    struct diag d = { 0 };
    ASSERT_EQ(mime_put_unstructured(&out, "Subject", str_from(jp_subject), &d), 0);
    assert_lines(buf_str(&out), MIME_LINE_MAX);
    struct str v = header_value(buf_str(&out), "Subject");
    /* every encoded word is complete, at most 75 columns, and holds whole characters */
    size_t words = 0;
    struct str cur = v, line;
    while (str_next_line(&cur, &line)) {
        struct str w = str_trim(line);
        while (w.len) {
            long sp = str_chr(w, ' ');
            struct str word = str_make(w.ptr, sp < 0 ? w.len : (size_t)sp);
            ASSERT_TRUE(word.len <= 75);
            ASSERT_TRUE(str_has_prefix(word, "=?UTF-8?B?") && str_has_suffix(word, "?="));
            struct buf dec;
            buf_init(&dec, 256);
            ASSERT_EQ(b64_decode(str_make(word.ptr + 10, word.len - 12), B64_STD, &dec), 0);
            ASSERT_TRUE(dec.len > 0 && utf8_ok(dec.data, dec.len));
            buf_release(&dec);
            words++;
            w = sp < 0 ? STR_NULL : str_trim(str_make(w.ptr + sp, w.len - (size_t)sp));
        }
    }
    ASSERT_TRUE(words >= 4);
    struct buf back;
    buf_init(&back, 1 << 16);
    ASSERT_EQ(mime_header_decode(v, &back), 0);
    ASSERT_STREQ(buf_cstr(&back), jp_subject);
    buf_release(&back);
    buf_release(&out);
}

TEST(mime_ascii_subject_folds_at_spaces)
{
    const char *subj = "ECR Image Scan: repository production/payments-service tag v1.42.7 has "
                       "3 CRITICAL and 12 HIGH findings   (three spaces kept)";
    struct buf out;
    buf_init(&out, 4096);
    ASSERT_EQ(mime_put_unstructured(&out, "Subject", str_from(subj), NULL), 0);
    assert_lines(buf_str(&out), MIME_LINE_MAX);
    ASSERT_TRUE(strstr(buf_cstr(&out), "=?") == NULL);
    ASSERT_TRUE(strstr(buf_cstr(&out), "\r\n ") != NULL); /* it was folded */
    struct buf back;
    buf_init(&back, 4096);
    ASSERT_EQ(mime_header_decode(header_value(buf_str(&out), "Subject"), &back), 0);
    ASSERT_STREQ(buf_cstr(&back), subj);
    buf_release(&back);
    buf_release(&out);

    /* the SNS default stays readable for mail filters */
    buf_init(&out, 4096);
    ASSERT_EQ(mime_put_unstructured(&out, "Subject", STR_LIT("AWS Notification Message"), NULL), 0);
    ASSERT_STREQ(buf_cstr(&out), "Subject: AWS Notification Message\r\n");
    buf_release(&out);
}

TEST(mime_subject_that_cannot_stay_raw_is_encoded)
{
    const char *cases[] = {
        "=?UTF-8?B?SGk=?= looks like an encoded word",
        " leading space",
        "trailing space ",
        "a-very-long-token-without-any-space-that-cannot-be-folded-anywhere-at-all-1234567890",
        "Ünïcödé",
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf out, back;
        buf_init(&out, 4096);
        buf_init(&back, 4096);
        ASSERT_EQ(mime_put_unstructured(&out, "Subject", str_from(cases[i]), NULL), 0);
        assert_lines(buf_str(&out), MIME_LINE_MAX);
        ASSERT_TRUE(strstr(buf_cstr(&out), "=?UTF-8?B?") != NULL);
        ASSERT_EQ(mime_header_decode(header_value(buf_str(&out), "Subject"), &back), 0);
        ASSERT_STREQ(buf_cstr(&back), cases[i]);
        buf_release(&out);
        buf_release(&back);
    }
}

TEST(mime_header_injection_refused)
{
    struct buf out;
    buf_init(&out, 4096);
    struct diag d = { 0 };
    ASSERT_EQ(
        mime_put_unstructured(&out, "Subject", STR_LIT("Hello\r\nBcc: victim@example.com"), &d),
        -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "'Subject'") && strstr(d.msg, "CR"));
    ASSERT_EQ(d.offset, 5);
    ASSERT_EQ(out.len, 0);
    ASSERT_EQ(mime_header_value_check("Subject", STR_LIT("a\nb"), &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "LF") != NULL);
    ASSERT_EQ(mime_header_value_check("Subject", STR_LIT("tab\there"), &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "0x09") != NULL);
    ASSERT_EQ(mime_header_value_check("Subject", STR_LIT("bad \xff utf8"), &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "UTF-8") != NULL);
    ASSERT_EQ(mime_header_value_check("Subject", STR_LIT("ok – fine"), &d), 0);

    /* the whole message: every injectable field, nothing appended */
    const char *to[] = { "ops@example.com" };
    struct mime_header xh[] = { { "X-Vigil-Topic", "t\r\nBcc: x@example.com" } };
    struct mime_message base = { .from_addr = "vigil@example.com",
                                 .to = to,
                                 .n_to = 1,
                                 .subject = "ok",
                                 .body = STR_LIT("body"),
                                 .message_id_domain = "example.com" };
    struct mime_message m = base;
    m.subject = "x\r\nBcc: x@example.com";
    ASSERT_EQ(mime_build(&m, &out, NULL, &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "'Subject'") != NULL);
    m = base;
    m.from_name = "Evil\nBcc: x@example.com";
    ASSERT_EQ(mime_build(&m, &out, NULL, &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "'From'") != NULL);
    m = base;
    m.headers = xh;
    m.n_headers = 1;
    ASSERT_EQ(mime_build(&m, &out, NULL, &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "'X-Vigil-Topic'") != NULL);
    m = base;
    m.list_unsubscribe = "http://x/\r\nBcc: x@example.com";
    ASSERT_EQ(mime_build(&m, &out, NULL, &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "List-Unsubscribe") != NULL);
    m = base;
    const char *bad_to[] = { "ops@example.com\r\nBcc: x@example.com" };
    m.to = bad_to;
    ASSERT_EQ(mime_build(&m, &out, NULL, &d), -ERR_INVALID);
    struct mime_header reserved[] = { { "bcc", "x@example.com" } };
    m = base;
    m.headers = reserved;
    m.n_headers = 1;
    ASSERT_EQ(mime_build(&m, &out, NULL, &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "set by vigil") != NULL);
    struct mime_header colon[] = { { "X-A:B", "v" } };
    m.headers = colon;
    ASSERT_EQ(mime_build(&m, &out, NULL, &d), -ERR_INVALID);
    ASSERT_EQ(out.len, 0);
    buf_release(&out);
}

TEST(mime_addresses)
{
    const char *good[] = { "ops@example.com", "first.last+tag@sub.example.co.jp",
                           "o'brien@example.org", "user@localhost",
                           "a!#$%&'*+-/=?^_`{|}~@x-y.example" };
    for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
        struct diag d = { 0 };
        if (mime_addr_check(str_from(good[i]), &d) != 0)
            test_fail(__FILE__, __LINE__, "%s refused: %s", good[i], d.msg);
    }
    struct {
        const char *addr, *why;
    } bad[] = {
        { "", "empty" },
        { "no-at.example.com", "exactly one '@'" },
        { "a@b@example.com", "exactly one '@'" },
        { "@example.com", "empty local part" },
        { "user@", "empty domain" },
        { "us er@example.com", "space" },
        { "user@exa mple.com", "space" },
        { "user\r\n@example.com", "control" },
        { ".user@example.com", "dot" },
        { "user.@example.com", "dot" },
        { "us..er@example.com", "dot" },
        { "\"quoted\"@example.com", "quoted local parts" },
        { "user@-example.com", "hyphen" },
        { "user@example-.com", "hyphen" },
        { "user@example..com", "empty label" },
        { "user@example.com.", "empty label" },
        { "user@[127.0.0.1]", "address literals" },
        { "user@exa_mple.com", "letters, digits" },
        { "ユーザー@example.com", "non-ASCII" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct diag d = { 0 };
        ASSERT_EQ(mime_addr_check(str_from(bad[i].addr), &d), -ERR_INVALID);
        if (!strstr(d.msg, bad[i].why))
            test_fail(__FILE__, __LINE__, "'%s': message '%s' lacks '%s'", bad[i].addr, d.msg,
                      bad[i].why);
    }
    /* length limits: local part 64, label 63, whole address 254 */
    char a[300];
    memset(a, 'a', 64);
    memcpy(a + 64, "@example.com", 13);
    ASSERT_EQ(mime_addr_check(str_from(a), NULL), 0);
    memset(a, 'a', 65);
    memcpy(a + 65, "@example.com", 13);
    struct diag d = { 0 };
    ASSERT_EQ(mime_addr_check(str_from(a), &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "64") != NULL);
    memcpy(a, "u@", 2);
    memset(a + 2, 'b', 64);
    memcpy(a + 66, ".com", 5);
    ASSERT_EQ(mime_addr_check(str_from(a), &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "63") != NULL);
    /* 1 + 1 + 4 labels of 61 + dots + ".com" = 255 bytes */
    size_t n = 0;
    a[n++] = 'u';
    a[n++] = '@';
    for (int l = 0; l < 4; l++) {
        memset(a + n, 'c', 61);
        n += 61;
        a[n++] = '.';
    }
    memcpy(a + n, "abcde", 6);
    ASSERT_EQ(strlen(a), 255);
    ASSERT_EQ(mime_addr_check(str_from(a), &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "254") != NULL);
}

TEST(mime_header_decode_forms)
{
    struct {
        const char *in, *out;
        int err;
    } cases[] = {
        { " =?utf-8?q?caf=C3=A9_au_lait?=", "café au lait", 0 },
        { " =?UTF-8?B?5pel?=\r\n =?UTF-8?B?5pys?=", "日本", 0 },
        { " a =?UTF-8?B?5pel?= b", "a 日 b", 0 },
        { " =?UTF-8*ja?B?5pel?=", "日", 0 },
        { " x=?UTF-8?B?5pel?=", "x=?UTF-8?B?5pel?=", 0 }, /* glued: not a word */
        { " =?ISO-8859-1?Q?caf=E9?=", NULL, -ERR_UNSUPPORTED },
        { " =?UTF-8?Q?bad=G1?=", NULL, -ERR_CORRUPT },
        { " =?UTF-8?B?!!!!?=", NULL, -ERR_CORRUPT },
        { " a\r\nb", NULL, -ERR_CORRUPT }, /* a line break that is not a fold */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf out;
        buf_init(&out, 1024);
        int err = mime_header_decode(str_from(cases[i].in), &out);
        if (err != cases[i].err || (cases[i].out && strcmp(buf_cstr(&out), cases[i].out) != 0))
            test_fail(__FILE__, __LINE__, "'%s': %d '%s'", cases[i].in, err, buf_cstr(&out));
        buf_release(&out);
    }
}

/* ---- MIME: bodies and the whole message ---- */

static const char jp_body[] =
    "リポジトリ my-app のスキャンが完了しました。\n"
    "CRITICAL: 3\nHIGH: 12\n\n"
    "詳細: https://console.example.com/ecr/repositories/my-app?tab=scan&x=1\n"
    "末尾の空白   \n"
    "=イコール= and a long line that goes on and on past seventy-six "
    "columns so that it must be soft-broken by the encoder 😀😀😀\n";

static void canonical(const char *text, struct buf *out)
{
    for (const char *p = text; *p; p++) {
        if (*p == '\n')
            buf_append(out, "\r\n", 2);
        else
            buf_putc(out, *p);
    }
}

TEST(mime_body_base64_lines)
{
    struct buf out, back, want;
    buf_init(&out, 1 << 16);
    buf_init(&back, 1 << 16);
    buf_init(&want, 1 << 16);
    ASSERT_EQ(mime_body_base64(&out, str_from(jp_body)), 0);
    assert_lines(buf_str(&out), MIME_BODY_LINE_MAX);
    struct str cur = buf_str(&out), line;
    while (str_next_line(&cur, &line))
        ASSERT_EQ(b64_decode(line, B64_STD, &back), 0);
    canonical(jp_body, &want);
    ASSERT_EQ(back.len, want.len);
    ASSERT_TRUE(memcmp(back.data, want.data, want.len) == 0);
    buf_release(&out);
    buf_release(&back);
    buf_release(&want);
}

static int hexv(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

TEST(mime_body_quoted_printable)
{
    struct buf out, back, want;
    buf_init(&out, 1 << 16);
    buf_init(&back, 1 << 16);
    buf_init(&want, 1 << 16);
    ASSERT_EQ(mime_body_qp(&out, str_from(jp_body)), 0);
    assert_lines(buf_str(&out), MIME_BODY_LINE_MAX);
    /* decode independently: soft breaks, =XX, and no trailing white space on any line */
    struct str cur = buf_str(&out), line;
    while (str_next_line(&cur, &line)) {
        ASSERT_TRUE(line.len == 0 ||
                    (line.ptr[line.len - 1] != ' ' && line.ptr[line.len - 1] != '\t'));
        bool soft = line.len && line.ptr[line.len - 1] == '=';
        for (size_t i = 0; i < line.len - (soft ? 1 : 0); i++) {
            unsigned char c = (unsigned char)line.ptr[i];
            ASSERT_TRUE(c >= 32 && c <= 126);
            if (c == '=') {
                int h = hexv(line.ptr[i + 1]), l = hexv(line.ptr[i + 2]);
                ASSERT_TRUE(h >= 0 && l >= 0);
                buf_putc(&back, (char)(h << 4 | l));
                i += 2;
            } else {
                buf_putc(&back, (char)c);
            }
        }
        if (!soft)
            buf_append(&back, "\r\n", 2);
    }
    canonical(jp_body, &want);
    ASSERT_STREQ(buf_cstr(&back), buf_cstr(&want));
    ASSERT_TRUE(strstr(buf_cstr(&out), "=3D") != NULL);
    ASSERT_TRUE(strstr(buf_cstr(&out), "=20\r\n") != NULL); /* trailing spaces protected */
    buf_release(&out);
    buf_release(&back);
    buf_release(&want);
}

TEST(mime_build_message)
{
    const char *to[] = { "ops@example.com", "security-team@example.org" };
    struct mime_header xh[] = { { "X-Vigil-Topic", "arn:aws:sns:us-east-1:123456789012:scan" },
                                { "X-Vigil-Note", "日本語の値" } };
    struct mime_message m = {
        .from_name = "脆弱性通知 (vigil)",
        .from_addr = "no-reply@vigil.example.com",
        .to = to,
        .n_to = 2,
        .subject = jp_subject,
        .body = str_from(jp_body),
        .date = 1335920046,
        .message_id_domain = "vigil.example.com",
        .list_unsubscribe = "http://127.0.0.1:8080/unsubscribe.html?SubscriptionArn=a&Endpoint=b",
        .headers = xh,
        .n_headers = 2,
    };
    struct buf out;
    buf_init(&out, 1 << 20);
    char id[MIME_MSGID_MAX];
    struct diag d = { 0 };
    ASSERT_EQ(mime_build(&m, &out, id, &d), 0);
    const char *msg = buf_cstr(&out);
    const char *sep = strstr(msg, "\r\n\r\n");
    ASSERT_TRUE(sep != NULL);
    /* header lines fold to 78 columns; only the List-Unsubscribe URL cannot be folded (it
     * must stay within RFC 5322's 998) */
    const char *lu = strstr(msg, "\r\nList-Unsubscribe: ") + 2;
    const char *lu_end = strstr(lu, "\r\n") + 2;
    ASSERT_TRUE(lu_end - lu <= 1000);
    assert_lines(str_make(msg, (size_t)(lu - msg)), MIME_LINE_MAX);
    assert_lines(str_make(lu_end, (size_t)(sep + 2 - lu_end)), MIME_LINE_MAX);
    assert_lines(str_from(sep + 4), MIME_BODY_LINE_MAX);
    /* order and content */
    const char *order[] = { "From: ",
                            "\r\nTo: ops@example.com, security-team@example.org\r\n",
                            "\r\nSubject: =?UTF-8?B?",
                            "\r\nDate: Wed, 02 May 2012 00:54:06 +0000\r\n",
                            "\r\nMessage-ID: <",
                            "\r\nMIME-Version: 1.0\r\n",
                            "\r\nContent-Type: text/plain; charset=UTF-8\r\n",
                            "\r\nContent-Transfer-Encoding: base64\r\n",
                            "\r\nList-Unsubscribe: <http://127.0.0.1:8080/unsubscribe.html?"
                            "SubscriptionArn=a&Endpoint=b>\r\n",
                            "\r\nX-Vigil-Topic: arn:aws:sns:us-east-1:123456789012:scan\r\n",
                            "\r\nX-Vigil-Note: =?UTF-8?B?" };
    const char *at = msg;
    for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
        const char *f = strstr(at, order[i]);
        if (!f || f > sep)
            test_fail(__FILE__, __LINE__, "missing or out of order: %s", order[i]);
        at = f;
    }
    ASSERT_TRUE(strstr(msg, "<no-reply@vigil.example.com>\r\n") != NULL);
    ASSERT_TRUE(str_has_suffix(str_from(id), "@vigil.example.com>"));
    ASSERT_TRUE(strstr(msg, id) != NULL);
    /* the From display name decodes back */
    const char *from_end = strstr(msg, " <no-reply@");
    if (from_end[-1] == '\n') /* the address was folded onto its own line */
        from_end -= 2;
    struct buf name;
    buf_init(&name, 1024);
    ASSERT_EQ(mime_header_decode(str_make(msg + 5, (size_t)(from_end - msg - 5)), &name), 0);
    ASSERT_STREQ(buf_cstr(&name), "脆弱性通知 (vigil)");
    buf_release(&name);

    /* a reused Message-ID, quoted-printable, ASCII display name with specials */
    buf_reset(&out);
    m.message_id = id;
    m.encoding = MIME_QP;
    m.from_name = "Vigil \"scanner\", prod";
    m.headers = NULL;
    m.n_headers = 0;
    ASSERT_EQ(mime_build(&m, &out, NULL, &d), 0);
    ASSERT_TRUE(strstr(buf_cstr(&out), id) != NULL);
    ASSERT_TRUE(strstr(buf_cstr(&out), "Content-Transfer-Encoding: quoted-printable\r\n"));
    ASSERT_TRUE(strstr(buf_cstr(&out),
                       "From: \"Vigil \\\"scanner\\\", prod\" <no-reply@vigil.example.com>\r\n"));
    buf_release(&out);
}

TEST(mime_ids_and_dates)
{
    char a[MIME_MSGID_MAX], b[MIME_MSGID_MAX], date[MIME_DATE_LEN];
    ASSERT_EQ(mime_message_id("example.com", a, sizeof(a), NULL), 0);
    ASSERT_EQ(mime_message_id("example.com", b, sizeof(b), NULL), 0);
    ASSERT_TRUE(strcmp(a, b) != 0);
    ASSERT_TRUE(a[0] == '<' && str_has_suffix(str_from(a), "@example.com>"));
    ASSERT_EQ(mime_message_id("bad domain", a, sizeof(a), NULL), -ERR_INVALID);
    mime_date(0, date);
    ASSERT_STREQ(date, "Thu, 01 Jan 1970 00:00:00 +0000");
    mime_date(1709251199, date);
    ASSERT_STREQ(date, "Thu, 29 Feb 2024 23:59:59 +0000");
}

TEST(mime_limits)
{
    struct buf out;
    buf_init(&out, 1 << 16);
    const char *to[] = { "a@example.com" };
    struct mime_message m = { .from_addr = "b@example.com",
                              .to = to,
                              .n_to = 1,
                              .body = STR_LIT("x"),
                              .message_id_domain = "example.com" };
    /* an output cap too small: error, nothing left behind */
    struct buf tiny;
    buf_init(&tiny, 64);
    ASSERT_EQ(mime_build(&m, &tiny, NULL, NULL), -ERR_TOO_BIG);
    ASSERT_EQ(tiny.len, 0);
    buf_release(&tiny);
    m.body = STR_LIT("nul\0byte");
    ASSERT_EQ(mime_build(&m, &out, NULL, NULL), -ERR_INVALID);
    m.body = STR_LIT("bad \xc3\x28 utf8");
    ASSERT_EQ(mime_build(&m, &out, NULL, NULL), -ERR_INVALID);
    m.body = STR_LIT("x");
    m.n_to = 0;
    ASSERT_EQ(mime_build(&m, &out, NULL, NULL), -ERR_INVALID);
    ASSERT_EQ(out.len, 0);
    /* empty subject: an empty header */
    m.n_to = 1;
    ASSERT_EQ(mime_build(&m, &out, NULL, NULL), 0);
    ASSERT_TRUE(strstr(buf_cstr(&out), "\r\nSubject:\r\n") != NULL);
    buf_release(&out);
}

/* ---- SMTP and webhook configuration / classification ---- */

TEST(smtp_config_url)
{
    struct smtp_config c;
    struct diag d = { 0 };
    smtp_config_init(&c);
    ASSERT_EQ(smtp_config_parse(&c,
                                "smtp://mailer:p%40ss%3Aw0rd@relay.example.com:587?starttls="
                                "required&auth=login&timeout=30&connect_timeout=5&verify=no&"
                                "cafile=%2Fetc%2Fca.pem",
                                &d),
              0);
    ASSERT_STREQ(c.url, "smtp://relay.example.com:587");
    ASSERT_STREQ(c.user, "mailer");
    ASSERT_STREQ(c.password, "p@ss:w0rd");
    ASSERT_EQ(c.tls, SMTP_TLS_STARTTLS);
    ASSERT_EQ(c.auth, SMTP_AUTH_LOGIN);
    ASSERT_EQ(c.timeout_ms, 30000);
    ASSERT_EQ(c.connect_timeout_ms, 5000);
    ASSERT_FALSE(c.tls_verify);
    ASSERT_STREQ(c.ca_file, "/etc/ca.pem");
    smtp_config_release(&c);

    smtp_config_init(&c);
    ASSERT_EQ(smtp_config_parse(&c, "smtps://mail.example.com", &d), 0);
    ASSERT_EQ(c.tls, SMTP_TLS_IMPLICIT);
    ASSERT_TRUE(c.tls_verify);
    ASSERT_TRUE(c.user == NULL);
    ASSERT_EQ(c.timeout_ms, SMTP_TIMEOUT_MS);
    ASSERT_EQ(c.connect_timeout_ms, SMTP_CONNECT_TIMEOUT_MS);
    smtp_config_release(&c);

    const char *bad[][2] = {
        { "smtps://u:secret@h?starttls=required", "smtps://" },
        { "smtp://u:secret@h?starttls=maybe", "starttls" },
        { "smtp://u:secret@h?colour=blue", "unknown SMTP URL option" },
        { "smtp://u:secret@h/path", "path" },
        { "http://u:secret@h", "smtp://" },
        { "smtp://u:secret@h?timeout=0", "timeout" },
        { "not a url", "not a URL" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        smtp_config_init(&c);
        memset(&d, 0, sizeof(d));
        ASSERT_EQ(smtp_config_parse(&c, bad[i][0], &d), -ERR_INVALID);
        if (!strstr(d.msg, bad[i][1]))
            test_fail(__FILE__, __LINE__, "%s: '%s' lacks '%s'", bad[i][0], d.msg, bad[i][1]);
        ASSERT_TRUE(strstr(d.msg, "secret") == NULL); /* never the password */
        smtp_config_release(&c);
    }
}

TEST(smtp_classification)
{
    ASSERT_EQ(smtp_classify(CURLE_OK, 250), DELIVER_OK);
    ASSERT_EQ(smtp_classify(CURLE_SEND_ERROR, 550), DELIVER_REJECTED);
    ASSERT_EQ(smtp_classify(CURLE_SEND_ERROR, 552), DELIVER_REJECTED);
    ASSERT_EQ(smtp_classify(CURLE_RECV_ERROR, 554), DELIVER_REJECTED);
    ASSERT_EQ(smtp_classify(CURLE_SEND_ERROR, 450), DELIVER_RETRY);
    ASSERT_EQ(smtp_classify(CURLE_SEND_ERROR, 421), DELIVER_RETRY);
    ASSERT_EQ(smtp_classify(CURLE_LOGIN_DENIED, 535), DELIVER_RETRY);
    ASSERT_EQ(smtp_classify(CURLE_SEND_ERROR, 530), DELIVER_RETRY);
    ASSERT_EQ(smtp_classify(CURLE_COULDNT_CONNECT, 0), DELIVER_RETRY);
    ASSERT_EQ(smtp_classify(CURLE_OPERATION_TIMEDOUT, 0), DELIVER_RETRY);
    ASSERT_EQ(smtp_classify(CURLE_PEER_FAILED_VERIFICATION, 0), DELIVER_RETRY);
    ASSERT_TRUE(deliver_outcome_is_final(DELIVER_REJECTED));
    ASSERT_FALSE(deliver_outcome_is_final(DELIVER_RETRY));
    ASSERT_STREQ(deliver_outcome_name(DELIVER_OK), "delivered");
}

/* A port nobody listens on (bound, then closed). */
static int closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ASSERT_EQ(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t l = sizeof(a);
    ASSERT_EQ(getsockname(s, (struct sockaddr *)&a, &l), 0);
    close(s);
    return ntohs(a.sin_port);
}

TEST(smtp_send_refusals)
{
    struct smtp_config c;
    smtp_config_init(&c);
    char url[64];
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", closed_port());
    ASSERT_EQ(smtp_config_parse(&c, url, NULL), 0);
    struct smtp_result r;
    const char *rcpt[] = { "ops@example.com" };
    const char *bad[] = { "ops@example.com>\r\nRCPT TO:<x@example.com" };
    /* bad input: refused before connecting, final */
    ASSERT_EQ(smtp_send(&c, "a@example.com", bad, 1, STR_LIT("x\r\n"), &r), -ERR_INVALID);
    ASSERT_EQ(r.outcome, DELIVER_REJECTED);
    ASSERT_TRUE(strstr(r.text, "recipient") != NULL);
    ASSERT_EQ(smtp_send(&c, "a b@example.com", rcpt, 1, STR_LIT("x\r\n"), &r), -ERR_INVALID);
    ASSERT_EQ(smtp_send(&c, "a@example.com", rcpt, 0, STR_LIT("x\r\n"), &r), -ERR_INVALID);
    /* nobody listening: temporary */
    ASSERT_EQ(smtp_send(&c, "a@example.com", rcpt, 1, STR_LIT("x\r\n"), &r), -ERR_NETWORK);
    ASSERT_EQ(r.outcome, DELIVER_RETRY);
    ASSERT_EQ(r.code, 0);
    ASSERT_TRUE(r.text[0] != '\0');
    smtp_config_release(&c);
}

TEST(webhook_classification_and_refusals)
{
    ASSERT_EQ(webhook_classify(CURLE_OK, 200), DELIVER_OK);
    ASSERT_EQ(webhook_classify(CURLE_OK, 204), DELIVER_OK);
    ASSERT_EQ(webhook_classify(CURLE_OK, 302), DELIVER_OK);
    ASSERT_EQ(webhook_classify(CURLE_OK, 400), DELIVER_REJECTED);
    ASSERT_EQ(webhook_classify(CURLE_OK, 429), DELIVER_REJECTED);
    ASSERT_EQ(webhook_classify(CURLE_OK, 499), DELIVER_REJECTED);
    ASSERT_EQ(webhook_classify(CURLE_OK, 500), DELIVER_RETRY);
    ASSERT_EQ(webhook_classify(CURLE_OK, 503), DELIVER_RETRY);
    ASSERT_EQ(webhook_classify(CURLE_OK, 101), DELIVER_RETRY);
    ASSERT_EQ(webhook_classify(CURLE_OPERATION_TIMEDOUT, 0), DELIVER_RETRY);
    ASSERT_EQ(webhook_classify(CURLE_COULDNT_CONNECT, 0), DELIVER_RETRY);

    struct webhook_result r;
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", closed_port());
    const char *inj[] = { "X-A: b\r\nX-Injected: c" };
    ASSERT_EQ(webhook_post(url, STR_LIT("{}"), inj, 1, NULL, &r), -ERR_INVALID);
    ASSERT_EQ(r.outcome, DELIVER_REJECTED);
    ASSERT_TRUE(strstr(r.error, "injection") != NULL);
    const char *noname[] = { "no colon here" };
    ASSERT_EQ(webhook_post(url, STR_LIT("{}"), noname, 1, NULL, &r), -ERR_INVALID);
    ASSERT_EQ(webhook_post("ftp://127.0.0.1/x", STR_LIT("{}"), NULL, 0, NULL, &r), -ERR_INVALID);
    ASSERT_EQ(webhook_post(url, STR_LIT("{}"), NULL, 0, NULL, &r), -ERR_NETWORK);
    ASSERT_EQ(r.outcome, DELIVER_RETRY);
    ASSERT_EQ(r.status, 0);
    ASSERT_TRUE(r.error[0] != '\0');
}

/* ---- SNS ---- */

static const char topic[] = "arn:aws:sns:us-east-1:123456789012:scan-results";
static const char sub[] = "arn:aws:sns:us-east-1:123456789012:scan-results:"
                          "c9135db0-26c4-47ec-8998-413945fb5a96";

TEST(sns_urls)
{
    struct sns_site s;
    sns_site_init(&s, "http://127.0.0.1:8080/");
    char *u = sns_subscribe_url(&s, topic, "2336412f37fb687f5d51e6e2425c464de12884");
    ASSERT_STREQ(u, "http://127.0.0.1:8080/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:"
                    "us-east-1:123456789012:scan-results&Token=2336412f37fb687f5d51e6e2425c464de1"
                    "2884");
    free(u);
    u = sns_unsubscribe_url(&s, sub);
    ASSERT_STREQ(u, "http://127.0.0.1:8080/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:"
                    "us-east-1:123456789012:scan-results:c9135db0-26c4-47ec-8998-413945fb5a96");
    free(u);
    u = sns_email_confirm_url(&s, topic, "t&k=n", "ops+alerts@example.com");
    ASSERT_STREQ(u, "http://127.0.0.1:8080/confirmation.html?TopicArn=arn:aws:sns:us-east-1:"
                    "123456789012:scan-results&Token=t%26k%3Dn&Endpoint=ops%2Balerts@example.com");
    free(u);
    u = sns_email_unsubscribe_url(&s, "a b/é", "x@y.z");
    ASSERT_STREQ(u, "http://127.0.0.1:8080/unsubscribe.html?SubscriptionArn=a%20b%2F%C3%A9&"
                    "Endpoint=x@y.z");
    free(u);
}

TEST(sns_string_to_sign_exact)
{
    struct sns_site s;
    sns_site_init(&s, "http://127.0.0.1:8080");
    struct sns_msg m = { .type = SNS_NOTIFICATION,
                         .message_id = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
                         .topic_arn = topic,
                         .subscription_arn = sub,
                         .subject = "My First Message",
                         .message = "Hello world!",
                         .timestamp_ms = 1335920046655 };
    struct buf b;
    buf_init(&b, 1 << 16);
    ASSERT_EQ(sns_string_to_sign(&m, &s, &b, NULL), 0);
    ASSERT_STREQ(buf_cstr(&b), "Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-"
                               "bdfb0c7bf324\nSubject\nMy First Message\nTimestamp\n2012-05-02T"
                               "00:54:06.655Z\nTopicArn\narn:aws:sns:us-east-1:123456789012:"
                               "scan-results\nType\nNotification\n");
    buf_reset(&b);
    m.subject = NULL;
    ASSERT_EQ(sns_string_to_sign(&m, &s, &b, NULL), 0);
    ASSERT_TRUE(strstr(buf_cstr(&b), "Subject") == NULL);
    buf_reset(&b);
    struct sns_msg c = { .type = SNS_SUBSCRIPTION_CONFIRMATION,
                         .message_id = "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
                         .topic_arn = topic,
                         .token = "2336412f37",
                         .timestamp_ms = 1335920046655 };
    ASSERT_EQ(sns_string_to_sign(&c, &s, &b, NULL), 0);
    ASSERT_STREQ(buf_cstr(&b),
                 "Message\nYou have chosen to subscribe to the topic arn:aws:sns:us-east-1:"
                 "123456789012:scan-results.\nTo confirm the subscription, visit the "
                 "SubscribeURL included in this message.\nMessageId\n165545c9-2a5c-472c-8df2-"
                 "7ff2be2b3b1b\nSubscribeURL\nhttp://127.0.0.1:8080/?Action=ConfirmSubscription&"
                 "TopicArn=arn:aws:sns:us-east-1:123456789012:scan-results&Token=2336412f37\n"
                 "Timestamp\n2012-05-02T00:54:06.655Z\nToken\n2336412f37\nTopicArn\narn:aws:sns:"
                 "us-east-1:123456789012:scan-results\nType\nSubscriptionConfirmation\n");
    /* missing fields */
    c.token = NULL;
    struct diag d = { 0 };
    ASSERT_EQ(sns_string_to_sign(&c, &s, &b, &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "Token") != NULL);
    m.message = "bad \xff";
    ASSERT_EQ(sns_string_to_sign(&m, &s, &b, &d), -ERR_INVALID);
    buf_release(&b);
}

/* Verify a base64 signature over data with the certificate in the PEM file, through OpenSSL
 * directly (not through the signer). */
static bool verify_with_cert(const char *cert_path, int version, struct str data,
                             const char *sig_b64)
{
    FILE *f = fopen(cert_path, "r");
    ASSERT_TRUE(f != NULL);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    ASSERT_TRUE(x != NULL);
    struct buf sig;
    buf_init(&sig, 4096);
    ASSERT_EQ(b64_decode(str_from(sig_b64), B64_STD, &sig), 0);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY *pub = X509_get0_pubkey(x);
    ASSERT_EQ(EVP_DigestVerifyInit(ctx, NULL, version == 1 ? EVP_sha1() : EVP_sha256(), NULL, pub),
              1);
    int ok = EVP_DigestVerify(ctx, (const unsigned char *)sig.data, sig.len,
                              (const unsigned char *)data.ptr, data.len);
    EVP_MD_CTX_free(ctx);
    X509_free(x);
    buf_release(&sig);
    return ok == 1;
}

/* The value of a "  \"Key\" : \"value\"" line (no escapes in the values used here). */
static char *body_field(const char *body, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\n  \"%s\" : \"", key);
    const char *p = strstr(body, pat);
    ASSERT_TRUE(p != NULL);
    p += strlen(pat);
    const char *e = strchr(p, '"');
    return strndup(p, (size_t)(e - p));
}

TEST(sns_http_body_signed)
{
    const char *dir = test_tmpdir();
    struct sns_signer k;
    struct diag d = { 0 };
    ASSERT_EQ(sns_signer_load_or_create(&k, dir, &d), 0);
    struct sns_site s;
    sns_site_init(&s, "http://127.0.0.1:8080");
    struct sns_attr attrs[] = { { "severity", "String", "CRITICAL" }, { "count", "Number", "3" } };
    struct sns_msg m = { .type = SNS_NOTIFICATION,
                         .message_id = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
                         .topic_arn = topic,
                         .subscription_arn = sub,
                         .subject = "Scan",
                         .message = "Repository: \"my-app\"\nCRITICAL: 3\t/ 日本語",
                         .timestamp_ms = 1335920046655,
                         .attrs = attrs,
                         .n_attrs = 2 };
    char cert_path[4096];
    snprintf(cert_path, sizeof(cert_path), "%s/%s", dir, SNS_CERT_FILE);
    for (int ver = 1; ver <= 2; ver++) {
        m.signature_version = ver;
        struct buf body, sts;
        buf_init(&body, 1 << 20);
        buf_init(&sts, 1 << 20);
        ASSERT_EQ(sns_http_body(&m, &s, &k, &body, &d), 0);
        char *sig = body_field(buf_cstr(&body), "Signature");
        char want[4096];
        snprintf(want, sizeof(want),
                 "{\n"
                 "  \"Type\" : \"Notification\",\n"
                 "  \"MessageId\" : \"22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\",\n"
                 "  \"TopicArn\" : \"%s\",\n"
                 "  \"Subject\" : \"Scan\",\n"
                 "  \"Message\" : \"Repository: \\\"my-app\\\"\\nCRITICAL: 3\\t/ 日本語\",\n"
                 "  \"Timestamp\" : \"2012-05-02T00:54:06.655Z\",\n"
                 "  \"SignatureVersion\" : \"%d\",\n"
                 "  \"Signature\" : \"%s\",\n"
                 "  \"SigningCertURL\" : \"http://127.0.0.1:8080/%s\",\n"
                 "  \"UnsubscribeURL\" : \"http://127.0.0.1:8080/?Action=Unsubscribe&"
                 "SubscriptionArn=%s\",\n"
                 "  \"MessageAttributes\" : {\n"
                 "    \"severity\" : {\"Type\":\"String\",\"Value\":\"CRITICAL\"},\n"
                 "    \"count\" : {\"Type\":\"Number\",\"Value\":\"3\"}\n"
                 "  }\n"
                 "}",
                 topic, ver, sig, k.cert_name, sub);
        ASSERT_STREQ(buf_cstr(&body), want);
        /* the signature covers the canonical string, checked with the certificate file */
        ASSERT_EQ(sns_string_to_sign(&m, &s, &sts, NULL), 0);
        ASSERT_TRUE(verify_with_cert(cert_path, ver, buf_str(&sts), sig));
        ASSERT_FALSE(verify_with_cert(cert_path, ver == 1 ? 2 : 1, buf_str(&sts), sig));
        sts.data[0] = 'm'; /* tampered */
        ASSERT_FALSE(verify_with_cert(cert_path, ver, buf_str(&sts), sig));
        free(sig);
        buf_release(&body);
        buf_release(&sts);
    }

    /* confirmations: key order and signature */
    struct sns_msg u = { .type = SNS_UNSUBSCRIBE_CONFIRMATION,
                         .message_id = "47138184-6831-46b8-8f7c-afc488602d7d",
                         .topic_arn = topic,
                         .subscription_arn = sub,
                         .token = "2336412f37",
                         .timestamp_ms = 1335920046655 };
    struct buf body, sts;
    buf_init(&body, 1 << 20);
    buf_init(&sts, 1 << 20);
    ASSERT_EQ(sns_http_body(&u, &s, &k, &body, &d), 0);
    const char *keys[] = { "Type",      "MessageId",     "Token",     "TopicArn",
                           "Message",   "SubscribeURL",  "Timestamp", "SignatureVersion",
                           "Signature", "SigningCertURL" };
    const char *at = buf_cstr(&body);
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        char pat[64];
        snprintf(pat, sizeof(pat), "\n  \"%s\" : ", keys[i]);
        const char *f = strstr(at, pat);
        if (!f)
            test_fail(__FILE__, __LINE__, "key %s missing or out of order", keys[i]);
        at = f;
    }
    ASSERT_TRUE(strstr(buf_cstr(&body), "UnsubscribeURL") == NULL);
    ASSERT_TRUE(strstr(buf_cstr(&body), "You have chosen to deactivate subscription ") != NULL);
    ASSERT_EQ(sns_string_to_sign(&u, &s, &sts, NULL), 0);
    char *sig = body_field(buf_cstr(&body), "Signature");
    ASSERT_TRUE(verify_with_cert(cert_path, 1, buf_str(&sts), sig));
    free(sig);
    buf_release(&body);
    buf_release(&sts);
    sns_signer_release(&k);
}

TEST(sns_signer_files)
{
    const char *dir = test_tmpdir();
    struct sns_signer a, b;
    struct diag d = { 0 };
    ASSERT_EQ(sns_signer_load_or_create(&a, dir, &d), 0);
    char key[4096], cert[4096];
    snprintf(key, sizeof(key), "%s/%s", dir, SNS_KEY_FILE);
    snprintf(cert, sizeof(cert), "%s/%s", dir, SNS_CERT_FILE);
    struct stat st;
    ASSERT_EQ(stat(key, &st), 0);
    ASSERT_EQ(st.st_mode & 0777, 0600);
    ASSERT_TRUE(str_has_prefix(str_from(a.cert_pem), "-----BEGIN CERTIFICATE-----\n"));
    ASSERT_TRUE(str_has_prefix(str_from(a.cert_name), "SimpleNotificationService-"));
    ASSERT_EQ(strlen(a.cert_name), strlen("SimpleNotificationService-.pem") + 32);
    /* loading again: the same identity */
    ASSERT_EQ(sns_signer_load_or_create(&b, dir, &d), 0);
    ASSERT_STREQ(a.cert_name, b.cert_name);
    ASSERT_STREQ(a.cert_pem, b.cert_pem);
    sns_signer_release(&b);
    /* a key without its certificate gets a new certificate for the same key */
    ASSERT_EQ(unlink(cert), 0);
    ASSERT_EQ(sns_signer_load_or_create(&b, dir, &d), 0);
    ASSERT_TRUE(strcmp(a.cert_pem, b.cert_pem) != 0);
    struct buf sig;
    buf_init(&sig, 4096);
    ASSERT_EQ(sns_sign(&b, 2, STR_LIT("data"), &sig), 0);
    ASSERT_TRUE(verify_with_cert(cert, 2, STR_LIT("data"), buf_cstr(&sig)));
    ASSERT_EQ(sns_sign(&b, 3, STR_LIT("data"), &sig), -ERR_INVALID);
    buf_release(&sig);
    sns_signer_release(&b);
    /* a certificate without its key is an error, and nothing is overwritten */
    ASSERT_EQ(unlink(key), 0);
    ASSERT_EQ(sns_signer_load_or_create(&b, dir, &d), -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, SNS_KEY_FILE) != NULL);
    ASSERT_EQ(stat(key, &st), -1);
    /* a key that does not match the certificate */
    char dir2[4096];
    snprintf(dir2, sizeof(dir2), "%s/other", dir);
    ASSERT_EQ(mkdir(dir2, 0700), 0);
    struct sns_signer c;
    ASSERT_EQ(sns_signer_load_or_create(&c, dir2, &d), 0);
    sns_signer_release(&c);
    char key2[4200];
    snprintf(key2, sizeof(key2), "%s/%s", dir2, SNS_KEY_FILE);
    ASSERT_EQ(link(key2, key), 0);
    ASSERT_EQ(sns_signer_load_or_create(&b, dir, &d), -ERR_CORRUPT);
    ASSERT_TRUE(strstr(d.msg, "does not belong") != NULL);
    /* garbage */
    ASSERT_EQ(unlink(key), 0);
    int fd = open(key, O_WRONLY | O_CREAT, 0600);
    ASSERT_TRUE(write(fd, "not a key\n", 10) == 10);
    close(fd);
    ASSERT_EQ(sns_signer_load_or_create(&b, dir, &d), -ERR_CORRUPT);
    sns_signer_release(&a);
}

TEST(sns_headers_and_hmac)
{
    struct sns_site s;
    sns_site_init(&s, "http://h");
    struct sns_msg m = { .type = SNS_NOTIFICATION,
                         .message_id = "id-1",
                         .topic_arn = topic,
                         .subscription_arn = sub,
                         .message = "x" };
    struct sns_headers h;
    ASSERT_EQ(sns_http_headers(&m, &s, NULL, &h, NULL), 0);
    ASSERT_EQ(h.n, 6);
    ASSERT_STREQ(h.v[0], "x-amz-sns-message-type: Notification");
    ASSERT_STREQ(h.v[1], "x-amz-sns-message-id: id-1");
    ASSERT_TRUE(str_has_prefix(str_from(h.v[2]), "x-amz-sns-topic-arn: arn:aws:sns:"));
    ASSERT_TRUE(str_has_prefix(str_from(h.v[3]), "x-amz-sns-subscription-arn: arn:aws:sns:"));
    ASSERT_STREQ(h.v[4], "Content-Type: text/plain; charset=UTF-8");
    ASSERT_STREQ(h.v[5], "User-Agent: Amazon Simple Notification Service Agent");
    sns_headers_release(&h);
    m.type = SNS_SUBSCRIPTION_CONFIRMATION;
    m.token = "t";
    ASSERT_EQ(sns_http_headers(&m, &s, "application/json", &h, NULL), 0);
    ASSERT_EQ(h.n, 5);
    ASSERT_STREQ(h.v[0], "x-amz-sns-message-type: SubscriptionConfirmation");
    ASSERT_STREQ(h.v[3], "Content-Type: application/json");
    sns_headers_release(&h);
    m.message_id = "id\r\nX-Evil: 1";
    ASSERT_EQ(sns_http_headers(&m, &s, NULL, &h, NULL), -ERR_INVALID);

    /* RFC 4231 test case 2 */
    char sig[SNS_HMAC_HEADER_LEN + 1];
    sns_hmac_signature("Jefe", 4, STR_LIT("what do ya want for nothing?"), sig);
    ASSERT_STREQ(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    char ts[SNS_TIMESTAMP_LEN + 1], id[SNS_UUID_LEN + 1], id2[SNS_UUID_LEN + 1];
    sns_timestamp(1335920046005, ts);
    ASSERT_STREQ(ts, "2012-05-02T00:54:06.005Z");
    sns_uuid4(id);
    sns_uuid4(id2);
    ASSERT_EQ(strlen(id), 36);
    ASSERT_TRUE(id[8] == '-' && id[13] == '-' && id[14] == '4' && id[18] == '-' &&
                strchr("89ab", id[19]) && id[23] == '-');
    ASSERT_TRUE(strcmp(id, id2) != 0);
}

TEST(sns_email_texts)
{
    struct sns_site s;
    sns_site_init(&s, "http://127.0.0.1:8080");
    struct sns_msg m = { .type = SNS_NOTIFICATION,
                         .message_id = "i",
                         .topic_arn = topic,
                         .subscription_arn = sub,
                         .message = "\"Repository: my-app\"" };
    ASSERT_STREQ(sns_email_subject(&m, &s), "AWS Notification Message");
    m.subject = "Custom";
    ASSERT_STREQ(sns_email_subject(&m, &s), "Custom");
    struct buf b;
    buf_init(&b, 1 << 16);
    ASSERT_EQ(sns_email_body(&m, &s, "ops@example.com", &b, NULL), 0);
    char want[2048];
    snprintf(want, sizeof(want),
             "\"Repository: my-app\"\n\n--\nIf you wish to stop receiving notifications from "
             "this topic, please click or visit the link below to unsubscribe:\n"
             "http://127.0.0.1:8080/unsubscribe.html?SubscriptionArn=%s&Endpoint=ops@example."
             "com\n\nPlease do not reply directly to this email. If you have any questions or "
             "comments regarding this email, please contact us at "
             "https://aws.amazon.com/support\n",
             sub);
    ASSERT_STREQ(buf_cstr(&b), want);
    buf_reset(&b);
    s.support_url = "https://vigil.example.com/help";
    ASSERT_EQ(sns_email_confirmation_body(&s, topic, "tok", "ops@example.com", &b, NULL), 0);
    ASSERT_TRUE(strstr(buf_cstr(&b), topic) != NULL);
    ASSERT_TRUE(strstr(buf_cstr(&b), "http://127.0.0.1:8080/confirmation.html?TopicArn=") != NULL);
    ASSERT_TRUE(strstr(buf_cstr(&b), "&Token=tok&Endpoint=ops@example.com\n") != NULL);
    ASSERT_TRUE(str_has_suffix(buf_str(&b), "contact us at https://vigil.example.com/help\n"));
    ASSERT_STREQ(s.confirm_subject, "AWS Notification - Subscription Confirmation");
    buf_release(&b);
}

/* ---- retry ---- */

static uint64_t fixed_rand(void *ctx)
{
    return *(uint64_t *)ctx;
}

TEST(retry_sns_phases)
{
    const struct sns_retry_policy *p = &sns_retry_http_default;
    ASSERT_EQ(sns_retry_delay_ms(p, 1), 20000);
    ASSERT_EQ(sns_retry_delay_ms(p, 3), 20000);
    ASSERT_EQ(sns_retry_delay_ms(p, 4), -1);
    ASSERT_EQ(sns_retry_delay_ms(p, 0), -1);
    /* the AWS example: max 40, linear: 20, 30, 40 */
    struct sns_retry_policy q = sns_retry_http_default;
    q.max_delay_s = 40;
    ASSERT_EQ(sns_retry_delay_ms(&q, 1), 20000);
    ASSERT_EQ(sns_retry_delay_ms(&q, 2), 30000);
    ASSERT_EQ(sns_retry_delay_ms(&q, 3), 40000);
    /* the documented four-phase example: 3 immediate, 2 x 1 s, 10 backoff 1..60, 35 x 60 */
    struct sns_retry_policy r = { 1, 60, 50, 3, 2, 35, SNS_BACKOFF_EXPONENTIAL };
    for (int n = 1; n <= 3; n++)
        ASSERT_EQ(sns_retry_delay_ms(&r, n), 0);
    ASSERT_EQ(sns_retry_delay_ms(&r, 4), 1000);
    ASSERT_EQ(sns_retry_delay_ms(&r, 5), 1000);
    ASSERT_EQ(sns_retry_delay_ms(&r, 6), 1000);   /* first backoff retry: min */
    ASSERT_EQ(sns_retry_delay_ms(&r, 15), 60000); /* last backoff retry: max */
    for (int n = 16; n <= 50; n++)
        ASSERT_EQ(sns_retry_delay_ms(&r, n), 60000);
    ASSERT_EQ(sns_retry_delay_ms(&r, 51), -1);
}

TEST(retry_sns_backoff_functions)
{
    /* the AWS chart's setting: 10 retries from 5 s to 260 s */
    static const int64_t want[4][10] = {
        { 5000, 33333, 61667, 90000, 118333, 146667, 175000, 203333, 231667, 260000 },
        { 5000, 8148, 17593, 33333, 55370, 83704, 118333, 159259, 206481, 260000 },
        { 5000, 7756, 12031, 18663, 28949, 44906, 69658, 108054, 167612, 260000 },
        { 5000, 5499, 6497, 8493, 12485, 20470, 36438, 68376, 132250, 260000 },
    };
    for (int f = 0; f < 4; f++) {
        struct sns_retry_policy p = { 5, 260, 10, 0, 0, 0, (enum sns_backoff)f };
        for (int n = 1; n <= 10; n++)
            if (sns_retry_delay_ms(&p, n) != want[f][n - 1])
                test_fail(__FILE__, __LINE__, "%s retry %d: %lld != %lld",
                          sns_backoff_name(p.backoff), n, (long long)sns_retry_delay_ms(&p, n),
                          (long long)want[f][n - 1]);
    }
}

TEST(retry_sns_email_and_jitter)
{
    const struct sns_retry_policy *e = &sns_retry_email;
    int64_t total = 0;
    int n = 0;
    for (n = 1; sns_retry_delay_ms(e, n) >= 0; n++)
        total += sns_retry_delay_ms(e, n);
    ASSERT_EQ(n - 1, 50);
    ASSERT_EQ(sns_retry_delay_ms(e, 1), 10000);
    ASSERT_EQ(sns_retry_delay_ms(e, 2), 10000);
    ASSERT_EQ(sns_retry_delay_ms(e, 12), 600000);
    ASSERT_EQ(sns_retry_delay_ms(e, 50), 600000);
    ASSERT_TRUE(total > 6 * 3600 * 1000LL && total < 7 * 3600 * 1000LL);

    uint64_t lo = 0, mid = 1ULL << 63, hi = ~0ULL;
    struct retry_rand rl = { fixed_rand, &lo }, rm = { fixed_rand, &mid }, rh = { fixed_rand, &hi };
    int64_t d;
    ASSERT_TRUE(sns_retry_next(e, 1, 0, 0, &rm, &d));
    ASSERT_EQ(d, 10000);
    ASSERT_TRUE(sns_retry_next(e, 1, 0, 0, &rl, &d));
    ASSERT_EQ(d, 9000);
    ASSERT_TRUE(sns_retry_next(e, 1, 0, 0, &rh, &d));
    ASSERT_TRUE(d > 10990 && d <= 11000);
    ASSERT_FALSE(sns_retry_next(e, 51, 0, 0, &rm, &d));
    struct sns_retry_policy z = { 5, 5, 2, 2, 0, 0, SNS_BACKOFF_LINEAR };
    ASSERT_TRUE(sns_retry_next(&z, 1, 0, 0, &rh, &d));
    ASSERT_EQ(d, 0); /* no jitter on the immediate phase */
    /* the HTTP/S one-hour budget */
    struct sns_retry_policy h = { 3600, 3600, 3, 0, 0, 0, SNS_BACKOFF_LINEAR };
    ASSERT_TRUE(sns_retry_next(&h, 1, 0, SNS_HTTP_RETRY_BUDGET_MS, &rm, &d));
    ASSERT_EQ(d, 3600000);
    ASSERT_FALSE(sns_retry_next(&h, 2, 3600000, SNS_HTTP_RETRY_BUDGET_MS, &rm, &d));
    ASSERT_TRUE(sns_retry_next(&h, 2, 3600000, 0, &rm, &d));
    /* the kernel source stays inside the jitter band */
    for (int i = 0; i < 100; i++) {
        ASSERT_TRUE(sns_retry_next(e, 50, 0, 0, NULL, &d));
        ASSERT_TRUE(d >= 540000 && d <= 660000);
    }
}

static void assert_policy_error(const char *json, enum sns_policy_level lvl, const char *msg)
{
    struct sns_delivery_policy p;
    struct diag d = { 0 };
    ASSERT_EQ(sns_delivery_policy_parse(str_from(json), lvl, &p, &d), -ERR_INVALID);
    if (strcmp(d.msg, msg) != 0 && !(msg[0] == '~' && strstr(d.msg, msg + 1)))
        test_fail(__FILE__, __LINE__, "%s: got '%s', want '%s'", json, d.msg, msg);
}

TEST(retry_delivery_policy_parse)
{
    struct sns_delivery_policy p;
    struct diag d = { 0 };
    const char *topic_policy =
        "{\"http\":{\"defaultHealthyRetryPolicy\":{\"minDelayTarget\":20,\"maxDelayTarget\":20,"
        "\"numRetries\":3,\"numMaxDelayRetries\":0,\"numNoDelayRetries\":0,"
        "\"numMinDelayRetries\":0,\"backoffFunction\":\"linear\"},"
        "\"disableSubscriptionOverrides\":false}}";
    ASSERT_EQ(sns_delivery_policy_parse(str_from(topic_policy), SNS_POLICY_TOPIC, &p, &d), 0);
    ASSERT_TRUE(p.has_retry);
    ASSERT_EQ(p.retry.num_retries, 3);
    struct buf b;
    buf_init(&b, 4096);
    ASSERT_EQ(sns_delivery_policy_json(&p, SNS_POLICY_TOPIC, &b), 0);
    ASSERT_STREQ(buf_cstr(&b), topic_policy); /* the CLI's EffectiveDeliveryPolicy example */
    buf_release(&b);

    const char *sub_policy = "{\"healthyRetryPolicy\":{\"minDelayTarget\":1,\"maxDelayTarget\":60,"
                             "\"numRetries\":50,\"numNoDelayRetries\":3,\"numMinDelayRetries\":2,"
                             "\"numMaxDelayRetries\":35,\"backoffFunction\":\"EXPONENTIAL\"},"
                             "\"throttlePolicy\":{\"maxReceivesPerSecond\":10},"
                             "\"requestPolicy\":{\"headerContentType\":\"application/json\"}}";
    ASSERT_EQ(sns_delivery_policy_parse(str_from(sub_policy), SNS_POLICY_SUBSCRIPTION, &p, &d), 0);
    ASSERT_EQ(p.retry.min_delay_s, 1);
    ASSERT_EQ(p.retry.max_delay_s, 60);
    ASSERT_EQ(p.retry.num_no_delay, 3);
    ASSERT_EQ(p.retry.num_max_delay, 35);
    ASSERT_EQ(p.retry.backoff, SNS_BACKOFF_EXPONENTIAL);
    ASSERT_EQ(p.max_receives_per_second, 10);
    ASSERT_STREQ(p.header_content_type, "application/json");
    /* round trip through the effective JSON */
    struct sns_delivery_policy q;
    buf_init(&b, 4096);
    ASSERT_EQ(sns_delivery_policy_json(&p, SNS_POLICY_SUBSCRIPTION, &b), 0);
    ASSERT_EQ(sns_delivery_policy_parse(buf_str(&b), SNS_POLICY_SUBSCRIPTION, &q, &d), 0);
    ASSERT_TRUE(memcmp(&p.retry, &q.retry, sizeof(p.retry)) == 0);
    ASSERT_EQ(q.max_receives_per_second, 10);
    buf_release(&b);
    /* partial: defaults for the rest */
    ASSERT_EQ(sns_delivery_policy_parse(STR_LIT("{\"healthyRetryPolicy\":{\"numRetries\":5}}"),
                                        SNS_POLICY_SUBSCRIPTION, &p, &d),
              0);
    ASSERT_EQ(p.retry.num_retries, 5);
    ASSERT_EQ(p.retry.min_delay_s, 20);

    /* SNS's messages */
    assert_policy_error("{\"http\":{\"defaultHealthyRetryPolicy\":{\"numRetries\":101}}}",
                        SNS_POLICY_TOPIC,
                        "DeliveryPolicy: http.defaultHealthyRetryPolicy.numRetries must be less "
                        "than or equal to 100");
    assert_policy_error("{\"throttlePolicy\":{\"maxReceivesPerSecond\":1}}", SNS_POLICY_TOPIC,
                        "DeliveryPolicy: Unexpected JSON member: throttlePolicy");
    assert_policy_error("{\"http\":{}}", SNS_POLICY_SUBSCRIPTION,
                        "DeliveryPolicy: Unexpected JSON member: http");
    assert_policy_error("{\"healthyRetryPolicy\":{\"minDelayTarget\":0}}", SNS_POLICY_SUBSCRIPTION,
                        "DeliveryPolicy: healthyRetryPolicy.minDelayTarget must be greater than "
                        "or equal to 1");
    assert_policy_error("{\"healthyRetryPolicy\":{\"maxDelayTarget\":3601}}",
                        SNS_POLICY_SUBSCRIPTION,
                        "DeliveryPolicy: healthyRetryPolicy.maxDelayTarget must be less than or "
                        "equal to 3600");
    assert_policy_error("{\"healthyRetryPolicy\":{\"minDelayTarget\":30,\"maxDelayTarget\":20}}",
                        SNS_POLICY_SUBSCRIPTION, "~minDelayTarget must be less than or equal");
    assert_policy_error("{\"healthyRetryPolicy\":{\"numRetries\":3,\"numNoDelayRetries\":2,"
                        "\"numMaxDelayRetries\":2}}",
                        SNS_POLICY_SUBSCRIPTION, "~numRetries must be greater than or equal");
    assert_policy_error("{\"healthyRetryPolicy\":{\"backoffFunction\":\"cubic\"}}",
                        SNS_POLICY_SUBSCRIPTION, "~backoffFunction must be one of");
    assert_policy_error("{\"healthyRetryPolicy\":{\"numRetries\":\"3\"}}", SNS_POLICY_SUBSCRIPTION,
                        "~must be a number");
    assert_policy_error("{\"healthyRetryPolicy\":{\"numRetries\":2.5}}", SNS_POLICY_SUBSCRIPTION,
                        "~must be a number");
    assert_policy_error("{\"healthyRetryPolicy\":{\"numRetries\":-1}}", SNS_POLICY_SUBSCRIPTION,
                        "~must be greater than or equal to 0");
    assert_policy_error("{\"throttlePolicy\":{\"maxReceivesPerSecond\":0}}",
                        SNS_POLICY_SUBSCRIPTION, "~maxReceivesPerSecond must be greater");
    assert_policy_error("{\"requestPolicy\":{\"headerContentType\":\"image/png\"}}",
                        SNS_POLICY_SUBSCRIPTION, "~headerContentType");
    assert_policy_error("{\"healthyRetryPolicy\":{\"numRetries\":1,\"numRetries\":2}}",
                        SNS_POLICY_SUBSCRIPTION, "~failed to parse JSON");
    assert_policy_error("[1]", SNS_POLICY_SUBSCRIPTION, "DeliveryPolicy: must be a JSON object");
    assert_policy_error("{", SNS_POLICY_TOPIC, "~failed to parse JSON");
    ASSERT_EQ(sns_delivery_policy_parse(
                  STR_LIT("{\"requestPolicy\":{\"headerContentType\":\"text/plain; charset=UTF-8\""
                          "}}"),
                  SNS_POLICY_SUBSCRIPTION, &p, &d),
              0);
}

TEST(retry_delivery_policy_effective)
{
    struct sns_delivery_policy t, s, e;
    ASSERT_EQ(sns_delivery_policy_parse(
                  STR_LIT("{\"http\":{\"defaultHealthyRetryPolicy\":{\"numRetries\":7},"
                          "\"defaultThrottlePolicy\":{\"maxReceivesPerSecond\":5}}}"),
                  SNS_POLICY_TOPIC, &t, NULL),
              0);
    ASSERT_EQ(sns_delivery_policy_parse(STR_LIT("{\"healthyRetryPolicy\":{\"numRetries\":9}}"),
                                        SNS_POLICY_SUBSCRIPTION, &s, NULL),
              0);
    sns_delivery_policy_effective(NULL, NULL, &e);
    ASSERT_EQ(e.retry.num_retries, 3);
    sns_delivery_policy_effective(&t, NULL, &e);
    ASSERT_EQ(e.retry.num_retries, 7);
    ASSERT_EQ(e.max_receives_per_second, 5);
    sns_delivery_policy_effective(&t, &s, &e);
    ASSERT_EQ(e.retry.num_retries, 9);
    ASSERT_EQ(e.max_receives_per_second, 5);
    t.disable_subscription_overrides = true;
    sns_delivery_policy_effective(&t, &s, &e);
    ASSERT_EQ(e.retry.num_retries, 7);
    struct buf b;
    buf_init(&b, 4096);
    sns_delivery_policy_effective(NULL, NULL, &e);
    ASSERT_EQ(sns_delivery_policy_json(&e, SNS_POLICY_SUBSCRIPTION, &b), 0);
    ASSERT_STREQ(buf_cstr(&b),
                 "{\"healthyRetryPolicy\":{\"minDelayTarget\":20,\"maxDelayTarget\":20,"
                 "\"numRetries\":3,\"numMaxDelayRetries\":0,\"numNoDelayRetries\":0,"
                 "\"numMinDelayRetries\":0,\"backoffFunction\":\"linear\"},"
                 "\"sicklyRetryPolicy\":null,\"throttlePolicy\":null,\"guaranteed\":false}");
    buf_release(&b);
}

TEST(retry_eventbridge)
{
    struct diag d = { 0 };
    ASSERT_EQ(eb_retry_policy_check(&eb_retry_default, &d), 0);
    struct eb_retry_policy p = { 186, 86400 };
    ASSERT_EQ(eb_retry_policy_check(&p, &d), -ERR_INVALID);
    ASSERT_STREQ(d.msg, "Value '186' at 'retryPolicy.maximumRetryAttempts' failed to satisfy "
                        "constraint: Member must have value less than or equal to 185");
    p = (struct eb_retry_policy){ 0, 59 };
    ASSERT_EQ(eb_retry_policy_check(&p, &d), -ERR_INVALID);
    ASSERT_STREQ(d.msg, "Value '59' at 'retryPolicy.maximumEventAgeInSeconds' failed to satisfy "
                        "constraint: Member must have value greater than or equal to 60");
    p = (struct eb_retry_policy){ -1, 60 };
    ASSERT_EQ(eb_retry_policy_check(&p, &d), -ERR_INVALID);
    p = (struct eb_retry_policy){ 0, 86401 };
    ASSERT_EQ(eb_retry_policy_check(&p, &d), -ERR_INVALID);

    ASSERT_EQ(eb_retry_base_ms(1), 1000);
    ASSERT_EQ(eb_retry_base_ms(2), 2000);
    ASSERT_EQ(eb_retry_base_ms(10), 512000);
    ASSERT_EQ(eb_retry_base_ms(11), 600000);
    ASSERT_EQ(eb_retry_base_ms(185), 600000);

    uint64_t lo = 0, hi = ~0ULL;
    struct retry_rand rl = { fixed_rand, &lo }, rh = { fixed_rand, &hi };
    int64_t dl, dh;
    ASSERT_TRUE(eb_retry_next(&eb_retry_default, 3, 0, &rl, &dl));
    ASSERT_TRUE(eb_retry_next(&eb_retry_default, 3, 0, &rh, &dh));
    ASSERT_EQ(dl, 2000);
    ASSERT_TRUE(dh > 3990 && dh < 4000);
    ASSERT_FALSE(eb_retry_next(&eb_retry_default, 186, 0, &rl, &dl));
    /* the event would be too old at the retry */
    ASSERT_FALSE(eb_retry_next(&eb_retry_default, 20, 86400 * 1000LL - 1000, &rl, &dl));
    struct eb_retry_policy none = { 0, 86400 };
    ASSERT_FALSE(eb_retry_next(&none, 1, 0, &rl, &dl));
    /* the whole default schedule, jitter at its mean, stays within the 24 h age */
    int64_t t = 0;
    int n;
    for (n = 1; n <= 185; n++) {
        uint64_t half = 1ULL << 63;
        struct retry_rand rm = { fixed_rand, &half };
        if (!eb_retry_next(&eb_retry_default, n, t, &rm, &dl))
            break;
        t += dl;
    }
    ASSERT_EQ(n, 186);
    ASSERT_TRUE(t > 20 * 3600 * 1000LL && t < 24 * 3600 * 1000LL);
}
