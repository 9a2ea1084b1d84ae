/* SPDX-License-Identifier: Apache-2.0 */
/* The XML side of the AWS Query protocol: a small streaming writer with escaping, the
 * <ErrorResponse> document, and (beside it, as the other error encoding) the JSON 1.1 error
 * body. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "awsproto_internal.h"
#include "base/xalloc.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

/* Text escapes & < > and CR; attributes also both quotes. */
static int escape(struct buf *out, const char *s, size_t len, bool attr)
{
    size_t i = 0;
    int rc = 0;
    while (i < len && rc == 0) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            switch (c) {
            case '&':
                rc = buf_append_cstr(out, "&amp;");
                break;
            case '<':
                rc = buf_append_cstr(out, "&lt;");
                break;
            case '>':
                rc = buf_append_cstr(out, "&gt;");
                break;
            case '"':
                rc = attr ? buf_append_cstr(out, "&quot;") : buf_putc(out, '"');
                break;
            case '\'':
                rc = attr ? buf_append_cstr(out, "&apos;") : buf_putc(out, '\'');
                break;
            case '\r':
                /* a literal CR would be normalised away by the reader */
                rc = buf_append_cstr(out, "&#xD;");
                break;
            case '\t':
            case '\n':
                rc = buf_putc(out, (char)c);
                break;
            default:
                /* XML 1.0 has no way to carry the other C0 controls, not even as &#x1; */
                rc = c < 0x20 ? buf_append_cstr(out, REPLACEMENT) : buf_putc(out, (char)c);
                break;
            }
            i++;
            continue;
        }
        unsigned cp;
        int k = aws_utf8_decode(s + i, len - i, &cp);
        if (k == 0) {
            rc = buf_append_cstr(out, REPLACEMENT);
            i++;
        } else if (cp == 0xFFFE || cp == 0xFFFF) {
            rc = buf_append_cstr(out, REPLACEMENT);
            i += (size_t)k;
        } else {
            rc = buf_append(out, s + i, (size_t)k);
            i += (size_t)k;
        }
    }
    return rc;
}

int xml_escape(struct buf *out, const char *s, size_t len)
{
    return escape(out, s, len, false);
}

void xml_writer_init(struct xml_writer *w, struct buf *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
}

static void put(struct xml_writer *w, const char *s)
{
    if (w->err == 0)
        w->err = buf_append_cstr(w->out, s);
}

/* Element names come from the code (or from the keys of JSON it builds): refuse anything that
 * is not a plain XML name rather than write markup from data. */
static bool is_name(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.')
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == ':'))
            return false;
    }
    return true;
}

void xml_open_ns(struct xml_writer *w, const char *name, const char *xmlns)
{
    if (w->err)
        return;
    if (w->depth >= XML_DEPTH_MAX || !is_name(name)) {
        w->err = -ERR_INVALID;
        return;
    }
    w->stack[w->depth++] = name;
    put(w, "<");
    put(w, name);
    if (xmlns) {
        put(w, " xmlns=\"");
        if (w->err == 0)
            w->err = escape(w->out, xmlns, strlen(xmlns), true);
        put(w, "\"");
    }
    put(w, ">");
}

void xml_open(struct xml_writer *w, const char *name)
{
    xml_open_ns(w, name, NULL);
}

void xml_close(struct xml_writer *w)
{
    if (w->err)
        return;
    if (w->depth == 0) {
        w->err = -ERR_INVALID;
        return;
    }
    const char *name = w->stack[--w->depth];
    put(w, "</");
    put(w, name);
    put(w, ">");
}

void xml_chars(struct xml_writer *w, const char *text, size_t len)
{
    if (w->err == 0)
        w->err = xml_escape(w->out, text, len);
}

void xml_textn(struct xml_writer *w, const char *name, const char *text, size_t len)
{
    if (!text)
        return;
    xml_open(w, name);
    xml_chars(w, text, len);
    xml_close(w);
}

void xml_text(struct xml_writer *w, const char *name, const char *text)
{
    if (text)
        xml_textn(w, name, text, strlen(text));
}

void xml_textf(struct xml_writer *w, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct buf b;
    buf_init(&b, AWS_RESPONSE_MAX);
    int rc = buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (rc && w->err == 0)
        w->err = rc;
    else
        xml_textn(w, name, buf_cstr(&b), b.len);
    buf_release(&b);
}

void xml_bool(struct xml_writer *w, const char *name, bool v)
{
    xml_text(w, name, v ? "true" : "false");
}

void xml_map_entry(struct xml_writer *w, const char *key, const char *value)
{
    xml_open(w, "entry");
    xml_text(w, "key", key);
    xml_text(w, "value", value ? value : "");
    xml_close(w);
}

/* A scalar as text: strings as they are, numbers and booleans as JSON writes them. */
static void scalar_text(struct xml_writer *w, const char *name, const json_t *v)
{
    if (json_is_string(v)) {
        xml_textn(w, name, json_string_value(v), json_string_length(v));
        return;
    }
    char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (!s) {
        if (w->err == 0)
            w->err = -ENOMEM;
        return;
    }
    xml_text(w, name, s);
    free(s);
}

void xml_string_map(struct xml_writer *w, const char *name, json_t *obj)
{
    if (!json_is_object(obj))
        return;
    xml_open(w, name);
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (json_is_null(v))
            continue;
        xml_open(w, "entry");
        xml_text(w, "key", k);
        scalar_text(w, "value", v);
        xml_close(w);
    }
    xml_close(w);
}

static void json_value(struct xml_writer *w, const char *name, json_t *v);

void xml_json_members(struct xml_writer *w, json_t *obj)
{
    if (!json_is_object(obj))
        return;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) json_value(w, k, v);
}

static void json_value(struct xml_writer *w, const char *name, json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        return;
    case JSON_OBJECT:
        xml_open(w, name);
        xml_json_members(w, v);
        xml_close(w);
        return;
    case JSON_ARRAY: {
        xml_open(w, name);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) json_value(w, "member", e);
        xml_close(w);
        return;
    }
    case JSON_STRING:
    case JSON_INTEGER:
    case JSON_REAL:
    case JSON_TRUE:
    case JSON_FALSE:
        scalar_text(w, name, v);
        return;
    }
}

int xml_writer_finish(struct xml_writer *w)
{
    if (w->err)
        return w->err;
    return w->depth ? -ERR_INVALID : 0;
}

int aws_xml_error(struct buf *out, const char *xmlns, const struct aws_error *e,
                  const char *request_id)
{
    struct xml_writer w;
    xml_writer_init(&w, out);
    xml_open_ns(&w, "ErrorResponse", xmlns);
    xml_open(&w, "Error");
    xml_text(&w, "Type", e->sender ? "Sender" : "Receiver");
    xml_text(&w, "Code", e->code);
    if (!e->no_message)
        xml_text(&w, "Message", e->message);
    xml_close(&w);
    xml_text(&w, "RequestId", request_id);
    xml_close(&w);
    return xml_writer_finish(&w);
}

char *aws_json_error_body(const struct aws_error *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "__type", json_string(e->code));
    if (!e->no_message) {
        /* messages are cut at a character boundary, so they are always UTF-8 */
        json_t *m = json_string(e->message);
        json_object_set_new(o, e->cap_message ? "Message" : "message",
                            m ? m : json_string("(message not UTF-8)"));
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        s = xstrdup("{}");
    return s;
}
