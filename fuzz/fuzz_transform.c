/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the input transformer: the input is "PATHS_MAP\0TEMPLATE\0EVENT" (missing parts are
 * empty). The map and template go through PutTargets validation; what compiles is rendered
 * over the event, and a JSON template's successful output must itself be valid JSON. The
 * template text is also tried as an InputPath and as a constant Input. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "events/transform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *next_part(const char **p, const char *end, size_t *len)
{
    const char *start = *p;
    const char *nul = memchr(start, '\0', (size_t)(end - start));
    const char *stop = nul ? nul : end;
    *len = (size_t)(stop - start);
    *p = nul ? nul + 1 : end;
    return start;
}

static void render_checked(const struct xform *x, const char *ev, size_t ev_len)
{
    static const struct xform_ctx ctx = { "arn:aws:events:us-east-1:123456789012:rule/r", "r",
                                          "2024-01-02T03:04:05Z" };
    struct buf out;
    buf_init(&out, 1 << 20);
    struct diag d = { 0 };
    int rc = xform_render(x, ev, ev_len, &ctx, &out, &d);
    if (rc != 0 && rc != -ERR_CORRUPT && rc != -ERR_INVALID && rc != -ERR_NOT_FOUND &&
        rc != -ERR_TOO_BIG)
        abort();
    if (rc != 0 && d.msg[0] == '\0')
        abort();
    if (rc == 0 && xform_is_json_template(x)) {
        json_t *j = json_loadb(out.data ? out.data : "", out.len, JSON_ALLOW_NUL, NULL);
        if (!j)
            abort();
        json_decref(j);
    }
    buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1 << 16))
        return 0;
    char *copy = xmalloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    const char *p = copy, *end = copy + size;
    size_t map_len, tmpl_len, ev_len;
    const char *map = next_part(&p, end, &map_len);
    const char *tmpl = next_part(&p, end, &tmpl_len);
    const char *ev = next_part(&p, end, &ev_len);

    struct xform_spec s = { .target_id = "t", .member = 1, .has_transformer = true };
    s.paths_map = map_len ? map : NULL;
    s.paths_map_len = map_len;
    s.input_template = tmpl;
    s.input_template_len = tmpl_len;
    struct xform *x = NULL;
    struct buf msg;
    buf_init(&msg, 1 << 20);
    struct diag d = { 0 };
    int rc = xform_compile(&s, &x, &msg, &d);
    if (rc == 0) {
        if (!x)
            abort();
        render_checked(x, ev, ev_len);
        xform_free(x);
    } else if (x || msg.len == 0) {
        abort();
    }

    /* the same text as an InputPath and as an Input */
    struct xform_spec ip = { .target_id = "t", .member = 1 };
    ip.input_path = tmpl;
    ip.input_path_len = tmpl_len;
    if (xform_compile(&ip, &x, &msg, NULL) == 0) {
        render_checked(x, ev, ev_len);
        xform_free(x);
    }
    struct xform_spec in = { .target_id = "t", .member = 1 };
    in.input = tmpl;
    in.input_len = tmpl_len;
    if (xform_compile(&in, &x, &msg, NULL) == 0) {
        render_checked(x, ev, ev_len);
        xform_free(x);
    }
    buf_release(&msg);
    free(copy);
    return 0;
}
