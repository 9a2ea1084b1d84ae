/* SPDX-License-Identifier: Apache-2.0 */
/* Basic readers: fd, file, memory, length-limited view, and helpers over any reader. */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

int reader_read_full(struct reader *r, void *p, size_t n)
{
    unsigned char *q = p;
    while (n) {
        ssize_t got = reader_read(r, q, n);
        if (got < 0)
            return (int)got;
        if (got == 0)
            return -ERR_TRUNCATED;
        q += got;
        n -= (size_t)got;
    }
    return 0;
}

int reader_skip(struct reader *r, unsigned long long n)
{
    unsigned char tmp[65536];
    while (n) {
        size_t want = n < sizeof(tmp) ? (size_t)n : sizeof(tmp);
        ssize_t got = reader_read(r, tmp, want);
        if (got < 0)
            return (int)got;
        if (got == 0)
            return -ERR_TRUNCATED;
        n -= (unsigned long long)got;
    }
    return 0;
}

int reader_read_all(struct reader *r, struct buf *out)
{
    char tmp[65536];
    for (;;) {
        ssize_t got = reader_read(r, tmp, sizeof(tmp));
        if (got < 0)
            return (int)got;
        if (got == 0)
            return 0;
        int rc = buf_append(out, tmp, (size_t)got);
        if (rc)
            return rc;
    }
}

struct fd_reader {
    struct reader base;
    int fd;
};

static ssize_t fd_read(struct reader *r, void *p, size_t n)
{
    struct fd_reader *f = (struct fd_reader *)r;
    for (;;) {
        ssize_t got = read(f->fd, p, n);
        if (got >= 0)
            return got;
        if (errno == EINTR)
            continue;
        int e = errno;
        diag_set(&r->diag, -e, 0, "read failed: %s", strerror(e));
        return -e;
    }
}

static void fd_close(struct reader *r)
{
    struct fd_reader *f = (struct fd_reader *)r;
    close(f->fd);
    free(f);
}

static const struct reader_ops fd_ops = { fd_read, fd_close };

struct reader *reader_fd_new(int fd)
{
    struct fd_reader *f = xcalloc(1, sizeof(*f));
    f->base.ops = &fd_ops;
    f->fd = fd;
    return &f->base;
}

int reader_file_open(const char *path, struct reader **out, struct diag *d)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return diag_set(d, -e, 0, "cannot open '%s': %s", path, strerror(e));
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    *out = reader_fd_new(fd);
    return 0;
}

struct mem_reader {
    struct reader base;
    const unsigned char *p;
    size_t n;
};

static ssize_t mem_read(struct reader *r, void *p, size_t n)
{
    struct mem_reader *m = (struct mem_reader *)r;
    if (n > m->n)
        n = m->n;
    if (n)
        memcpy(p, m->p, n);
    m->p += n;
    m->n -= n;
    return (ssize_t)n;
}

static void mem_close(struct reader *r)
{
    free(r);
}

static const struct reader_ops mem_ops = { mem_read, mem_close };

struct reader *reader_mem_new(const void *p, size_t n)
{
    struct mem_reader *m = xcalloc(1, sizeof(*m));
    m->base.ops = &mem_ops;
    m->p = p;
    m->n = n;
    return &m->base;
}

struct limit_reader {
    struct reader base;
    struct reader *inner;
    unsigned long long left;
};

static ssize_t limit_read(struct reader *r, void *p, size_t n)
{
    struct limit_reader *l = (struct limit_reader *)r;
    if (l->left == 0)
        return 0;
    if (n > l->left)
        n = (size_t)l->left;
    ssize_t got = reader_read(l->inner, p, n);
    if (got < 0) {
        r->diag = l->inner->diag;
        return got;
    }
    if (got == 0) {
        diag_set(&r->diag, -ERR_TRUNCATED, 0, "stream ends %llu bytes early", l->left);
        return -ERR_TRUNCATED;
    }
    l->left -= (unsigned long long)got;
    return got;
}

static const struct reader_ops limit_ops = { limit_read, mem_close };

struct reader *reader_limit_new(struct reader *inner, unsigned long long limit)
{
    struct limit_reader *l = xcalloc(1, sizeof(*l));
    l->base.ops = &limit_ops;
    l->inner = inner;
    l->left = limit;
    return &l->base;
}
