/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: AWS JSON 1.1 input decoding and validation. The first byte picks the operation
 * (index into the model tables), the rest is the request body. Checks that every outcome is
 * either a normalised object that validates again unchanged, or an error whose wire forms (JSON
 * body, XML document) are well-formed and carry the code. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/awsproto.h"
#include "api/awsproto_internal.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > AWS_BODY_MAX + 1)
        return 0;
    const struct aws_operation *op = aws_operation_at(data[0] % aws_operation_count());
    const char *body = (const char *)data + 1;
    size_t len = size - 1;

    json_t *in = NULL;
    struct aws_error err = { 0 };
    int rc = aws_json_decode_input(op, body, len, &in, &err);
    if (rc == 0) {
        BUG_ON(!json_is_object(in));
        BUG_ON(err.code[0] != '\0');
        /* normalisation is idempotent: the accepted input is accepted as it stands */
        json_t *copy = json_deep_copy(in);
        BUG_ON(aws_validate_input(op, copy, &err) != 0);
        BUG_ON(!json_equal(copy, in));
        json_decref(copy);
        json_decref(in);
        return 0;
    }
    BUG_ON(in != NULL);
    BUG_ON(err.code[0] == '\0' || err.status < 400 || err.status > 599);
    BUG_ON(!aws_utf8_valid(err.message, strlen(err.message)));
    char *s = aws_json_error_body(&err);
    json_t *back = json_loads(s, 0, NULL);
    BUG_ON(!back);
    BUG_ON(strcmp(json_string_value(json_object_get(back, "__type")), err.code) != 0);
    json_decref(back);
    free(s);
    struct buf xml;
    buf_init(&xml, 1 << 20);
    BUG_ON(aws_xml_error(&xml, "urn:x", &err, "id") != 0);
    BUG_ON(strchr(buf_cstr(&xml) + 1, '<') == NULL);
    buf_release(&xml);
    return 0;
}
