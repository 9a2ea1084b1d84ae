/* SPDX-License-Identifier: Apache-2.0 */
/* struct buf: a growable byte buffer, always NUL-terminated, with a required size cap
 * (`max`) checked before every growth, so input from outside can never grow it unbounded. */
#ifndef VIGIL_BASE_BUF_H
#define VIGIL_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "str.h"

struct buf {
    char *data; /* NULL until the first append; buf_cstr() never returns NULL */
    size_t len;
    size_t cap;
    size_t max; /* appends that would make len exceed max fail with -ERR_TOO_BIG */
};

/* No allocation. */
void buf_init(struct buf *b, size_t max);
/* Free the storage; the buf can be reused after buf_init(). */
void buf_release(struct buf *b);
/* Give the storage to the caller (NUL-terminated, owned; never NULL) and reset the buf. */
char *buf_detach(struct buf *b, size_t *len);
void buf_reset(struct buf *b);
/* 0 or -ERR_TOO_BIG (nothing appended). */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, struct str s);
int buf_append_cstr(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Make room for n more bytes; 0 or -ERR_TOO_BIG. */
int buf_reserve(struct buf *b, size_t n);
const char *buf_cstr(const struct buf *b);
static inline struct str buf_str(const struct buf *b)
{
    return (struct str){ b->data ? b->data : "", b->len };
}

#endif
