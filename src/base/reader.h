/* SPDX-License-Identifier: Apache-2.0 */
/* struct reader: a pull stream of bytes (file, HTTP body, tar member, decompressor). Readers
 * stack: a decompressor reads from a blob reader, the tar walker from the decompressor. */
#ifndef VIGIL_BASE_READER_H
#define VIGIL_BASE_READER_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

struct reader;

struct reader_ops {
    /* Read up to n bytes into p. Returns the count (>0), 0 at end of stream, or <0 (-errno or
     * -ERR_*) with a message in r->diag. Reading after 0 or an error returns the same again. */
    ssize_t (*read)(struct reader *r, void *p, size_t n);
    /* Release everything the reader owns, including the reader itself (may be NULL). */
    void (*close)(struct reader *r);
};

struct reader {
    const struct reader_ops *ops;
    struct diag diag; /* filled when read() fails */
};

static inline ssize_t reader_read(struct reader *r, void *p, size_t n)
{
    return r->ops->read(r, p, n);
}

static inline void reader_close(struct reader *r)
{
    if (r && r->ops->close)
        r->ops->close(r);
}

/* Read exactly n bytes: 0, -ERR_TRUNCATED if the stream ends first, or the read error. */
int reader_read_full(struct reader *r, void *p, size_t n);
/* Read and discard n bytes: 0, -ERR_TRUNCATED, or the read error. */
int reader_skip(struct reader *r, unsigned long long n);
/* Append the whole rest of the stream to out (capped by out->max: -ERR_TOO_BIG). */
int reader_read_all(struct reader *r, struct buf *out);

/* A reader over an open file descriptor; owns fd (closes it). Never fails. */
struct reader *reader_fd_new(int fd);
/* A reader over a file; 0 or -errno (with d set). */
int reader_file_open(const char *path, struct reader **out, struct diag *d);
/* A reader over memory borrowed from the caller (must outlive the reader). */
struct reader *reader_mem_new(const void *p, size_t n);
/* Exactly `limit` bytes from inner (which stays owned by the caller): ends early with
 * -ERR_TRUNCATED. Used for tar members and docker-archive entries. */
struct reader *reader_limit_new(struct reader *inner, unsigned long long limit);

#endif
