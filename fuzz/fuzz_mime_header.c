/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: e-mail header safety. The first byte picks a mode: a Subject is encoded and must
 * fold to 78 columns and decode back exactly (or be refused with a message); an address is
 * validated and, when accepted, must build a message; a display name must never break the
 * From line; arbitrary header text must decode without crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "deliver/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every line ends with CRLF, is at most max columns, and no bare CR or LF occurs. */
static void check_lines(struct str s, size_t max)
{
    size_t start = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] == '\r') {
            BUG_ON(i + 1 >= s.len || s.ptr[i + 1] != '\n');
            BUG_ON(i - start > max);
            start = i + 2;
            i++;
        } else {
            BUG_ON(s.ptr[i] == '\n');
        }
    }
    BUG_ON(start != s.len);
}

static void subject_round_trip(struct str in)
{
    struct buf out, back;
    buf_init(&out, 1 << 20);
    buf_init(&back, 1 << 20);
    struct diag d = { 0 };
    int err = mime_put_unstructured(&out, "Subject", in, &d);
    if (err) {
        BUG_ON(err != -ERR_INVALID && err != -ERR_TOO_BIG);
        BUG_ON(d.msg[0] == '\0' || out.len != 0);
        /* a refused value must be one with a control character, bad UTF-8 or too long */
        bool has_ctl = false;
        for (size_t i = 0; i < in.len; i++)
            has_ctl |= (unsigned char)in.ptr[i] < 0x20 || in.ptr[i] == 0x7f;
        BUG_ON(!has_ctl && err == -ERR_INVALID && !strstr(d.msg, "UTF-8"));
    } else {
        check_lines(buf_str(&out), MIME_LINE_MAX);
        BUG_ON(!str_has_prefix(buf_str(&out), "Subject:"));
        struct str v = str_make(out.data + 8, out.len - 10);
        BUG_ON(mime_header_decode(v, &back) != 0);
        BUG_ON(back.len != in.len || memcmp(back.data ? back.data : "", in.ptr, in.len) != 0);
    }
    buf_release(&out);
    buf_release(&back);
}

static void address(struct str in)
{
    struct diag d = { 0 };
    if (mime_addr_check(in, &d) != 0) {
        BUG_ON(d.msg[0] == '\0');
        return;
    }
    BUG_ON(in.len == 0 || in.len > MIME_ADDR_MAX);
    size_t ats = 0;
    for (size_t i = 0; i < in.len; i++) {
        unsigned char c = (unsigned char)in.ptr[i];
        BUG_ON(c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == '"');
        ats += c == '@';
    }
    BUG_ON(ats != 1);
    char *a = str_dup(in);
    const char *to[] = { a };
    struct mime_message m = { .from_addr = a,
                              .to = to,
                              .n_to = 1,
                              .subject = "s",
                              .body = STR_LIT("b"),
                              .message_id_domain = "example.com" };
    struct buf out;
    buf_init(&out, 1 << 20);
    BUG_ON(mime_build(&m, &out, NULL, &d) != 0);
    free(a);
    buf_release(&out);
}

static void display_name(struct str in)
{
    if (memchr(in.ptr, '\0', in.len))
        return;
    char *name = str_dup(in);
    const char *to[] = { "ops@example.com" };
    struct mime_message m = { .from_name = name,
                              .from_addr = "vigil@example.com",
                              .to = to,
                              .n_to = 1,
                              .body = STR_LIT("b"),
                              .message_id_domain = "example.com" };
    struct buf out;
    buf_init(&out, 1 << 20);
    struct diag d = { 0 };
    if (mime_build(&m, &out, NULL, &d) == 0) {
        const char *sep = strstr(buf_cstr(&out), "\r\n\r\n");
        BUG_ON(!sep);
        check_lines(str_make(out.data, (size_t)(sep - out.data) + 2), MIME_LINE_MAX);
        /* the address always ends the From field: nothing in the name can add a field */
        BUG_ON(!strstr(buf_cstr(&out), in.len
                                           ? "<vigil@example.com>\r\nTo: ops@example.com\r\n"
                                           : "From: vigil@example.com\r\nTo: ops@example.com\r\n"));
    } else {
        BUG_ON(d.msg[0] == '\0' || out.len != 0);
    }
    free(name);
    buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    struct str in = str_make((const char *)data + 1, size - 1);
    switch (data[0] % 4) {
    case 0:
        subject_round_trip(in);
        break;
    case 1:
        address(in);
        break;
    case 2:
        display_name(in);
        break;
    default: {
        struct buf out;
        buf_init(&out, 1 << 20);
        (void)mime_header_decode(in, &out);
        buf_release(&out);
        break;
    }
    }
    return 0;
}
