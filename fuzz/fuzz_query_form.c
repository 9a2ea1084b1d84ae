/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: AWS Query requests. The first byte picks an SNS operation, the rest is the
 * x-www-form-urlencoded body. Checks that decoded names and values are UTF-8 without NUL, that
 * re-encoding the pairs gives a body that decodes to the same pairs, and that unflattening
 * either yields an object or a well-formed error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/awsproto.h"
#include "api/awsproto_internal.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void encode(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            buf_putc(b, (char)c);
        } else {
            buf_putc(b, '%');
            buf_putc(b, hex[c >> 4]);
            buf_putc(b, hex[c & 15]);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > AWS_BODY_MAX + 1)
        return 0;
    const struct aws_operation *sns[32];
    size_t nsns = 0;
    for (size_t i = 0; i < aws_operation_count() && nsns < 32; i++)
        if (aws_operation_at(i)->service == AWS_SVC_SNS)
            sns[nsns++] = aws_operation_at(i);
    BUG_ON(nsns == 0);
    const struct aws_operation *op = sns[data[0] % nsns];
    struct str text = str_make((const char *)data + 1, size - 1);

    struct aws_form form;
    struct aws_error err = { 0 };
    if (aws_form_parse(text, &form, &err) != 0) {
        BUG_ON(strcmp(err.code, "MalformedQueryString") != 0);
        BUG_ON(form.n != 0);
        return 0;
    }
    BUG_ON(form.n > AWS_FORM_PARAMS_MAX);
    struct buf again;
    buf_init(&again, 4 * (size + 16));
    for (size_t i = 0; i < form.n; i++) {
        const struct aws_param *p = &form.v[i];
        BUG_ON(strlen(p->value) != p->value_len);
        BUG_ON(!aws_utf8_valid(p->name, strlen(p->name)));
        BUG_ON(!aws_utf8_valid(p->value, p->value_len));
        if (i)
            buf_putc(&again, '&');
        encode(&again, p->name);
        buf_putc(&again, '=');
        encode(&again, p->value);
    }
    struct aws_form form2;
    BUG_ON(aws_form_parse(buf_str(&again), &form2, &err) != 0);
    BUG_ON(form2.n != form.n);
    for (size_t i = 0; i < form.n; i++) {
        BUG_ON(strcmp(form.v[i].name, form2.v[i].name) != 0);
        BUG_ON(strcmp(form.v[i].value, form2.v[i].value) != 0);
    }
    aws_form_release(&form2);
    buf_release(&again);

    json_t *in = NULL;
    if (aws_query_decode_input(op, &form, &in, &err) == 0) {
        BUG_ON(!json_is_object(in));
        json_decref(in);
    } else {
        BUG_ON(in != NULL);
        BUG_ON(err.code[0] == '\0' || err.status < 400);
        struct buf xml;
        buf_init(&xml, 1 << 20);
        BUG_ON(aws_xml_error(&xml, aws_service_def(AWS_SVC_SNS)->xml_namespace, &err, "id") != 0);
        buf_release(&xml);
    }
    aws_form_release(&form);
    return 0;
}
