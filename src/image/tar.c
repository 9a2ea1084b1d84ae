/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming tar reader: ustar, GNU 'L'/'K' long names, pax 'x' records (path, linkpath, size),
 * octal and base-256 numbers. It parses headers in place in a large buffer filled straight by
 * the underlying reader, and skips unread content by moving an index, so walking a layer costs
 * little more than decompressing it. */
#include "tar.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

#define TAR_BLOCK 512u
/* The stream is read in chunks of up to this size: the decompressor inflates straight into
 * it. The buffer starts small and doubles while reads fill it (small layers stay small). */
#define TAR_BUF       (1u << 20)
#define TAR_BUF_FIRST (64u << 10)
/* Content reads at least this big bypass the buffer and go straight to the caller. */
#define TAR_DIRECT_MIN (64u << 10)
#define TAR_NAME_MAX   4096u
#define TAR_PAX_MAX    (1u << 20)

struct tar {
    struct reader *r;
    unsigned char *buf;
    size_t cap, pos, len;
    bool grow;                  /* the last read filled the buffer */
    unsigned long long buf_off; /* stream offset of buf[0] */
    bool eof;                   /* r returned 0 */
    bool io_failed;             /* r returned an error (which then passes through) */
    bool ended;                 /* end of archive seen */
    bool have_entry;            /* path names the last entry returned */
    int err;                    /* sticky error, its message in errd */
    struct diag errd;
    unsigned long long left; /* content bytes of the current entry not consumed yet */
    unsigned long long pad;  /* padding after the content */
    /* extended header values waiting for the next real header */
    bool has_long_name, has_long_link, has_pax_path, has_pax_link, has_pax_size;
    unsigned long long pax_size;
    char long_name[TAR_NAME_MAX + 2]; /* the name and its NUL, + 1 for our terminator */
    char long_link[TAR_NAME_MAX + 2];
    char pax_path[TAR_NAME_MAX + 1];
    char pax_link[TAR_NAME_MAX + 1];
    struct buf ext; /* pax record scratch */
    char path[TAR_NAME_MAX + 1];
    char link[TAR_NAME_MAX + 1];
    char raw[TAR_NAME_MAX + 160]; /* name before normalisation (prefix + name) */
    struct reader content;
};

static const struct reader_ops content_ops;

static unsigned long long stream_off(const struct tar *t)
{
    return t->buf_off + t->pos;
}

/* "after member 'x'" or "at the start of the archive", for messages about headers. */
static const char *prev_name(const struct tar *t)
{
    return t->have_entry ? t->path : "";
}

static int sticky(struct tar *t, struct diag *d)
{
    if (d)
        *d = t->errd;
    return t->err;
}

/* Make the error just put in errd sticky and hand it to the caller. */
static int stick(struct tar *t, struct diag *d)
{
    t->err = t->errd.err;
    return sticky(t, d);
}

/* Record a sticky error with a formatted message; evaluates to the error code. */
#define tfail(t_, d_, e_, ...) \
    (diag_set(&(t_)->errd, (e_), (size_t)stream_off(t_), __VA_ARGS__), stick((t_), (d_)))

/* An error from the stream below: keep its code, prefix its message with where we were
 * (inside a member's content, or reading the headers after one). */
static int tfail_io(struct tar *t, struct diag *d, int err, bool in_member)
{
    const char *inner = t->r->diag.msg[0] ? t->r->diag.msg : err_str(err);
    if (!t->have_entry)
        return tfail(t, d, err, "%s", inner);
    return tfail(t, d, err, "%s tar member '%.120s': %s", in_member ? "in" : "after", t->path,
                 inner);
}

struct tar *tar_new(struct reader *r)
{
    struct tar *t = xcalloc(1, sizeof(*t));
    t->r = r;
    t->cap = TAR_BUF_FIRST;
    t->buf = xmalloc(t->cap);
    buf_init(&t->ext, TAR_PAX_MAX);
    t->content.ops = &content_ops;
    return t;
}

void tar_free(struct tar *t)
{
    if (!t)
        return;
    buf_release(&t->ext);
    free(t->buf);
    free(t);
}

/* Read more of the stream behind what is buffered, compacting first when needed. 1 = got
 * bytes, 0 = end of stream, <0 = error from the stream. */
static int fill(struct tar *t)
{
    if (t->eof)
        return 0;
    if (t->pos == t->len) {
        t->buf_off += t->len;
        t->pos = t->len = 0;
    } else if (t->len == t->cap || t->pos > t->cap / 2) {
        size_t keep = t->len - t->pos;
        memmove(t->buf, t->buf + t->pos, keep);
        t->buf_off += t->pos;
        t->pos = 0;
        t->len = keep;
    }
    if (t->grow && t->cap < TAR_BUF) {
        t->cap *= 2;
        t->buf = xrealloc(t->buf, t->cap);
    }
    size_t want = t->cap - t->len;
    ssize_t got = reader_read(t->r, t->buf + t->len, want);
    if (got < 0) {
        t->io_failed = true;
        return (int)got;
    }
    if (got == 0) {
        t->eof = true;
        return 0;
    }
    t->grow = (size_t)got == want;
    t->len += (size_t)got;
    return 1;
}

/* Make `need` bytes available at buf + pos. 1 = ok, 0 = clean end of stream (no byte
 * buffered), -ERR_TRUNCATED = the stream ends inside, other <0 = stream error. */
static int ensure(struct tar *t, size_t need)
{
    while (t->len - t->pos < need) {
        int rc = fill(t);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return t->len == t->pos ? 0 : -ERR_TRUNCATED;
    }
    return 1;
}

/* Discard n bytes of the stream. 0, -ERR_TRUNCATED, or a stream error. */
static int skip(struct tar *t, unsigned long long n)
{
    while (n) {
        size_t avail = t->len - t->pos;
        if (avail == 0) {
            int rc = fill(t);
            if (rc < 0)
                return rc;
            if (rc == 0)
                return -ERR_TRUNCATED;
            continue;
        }
        size_t take = (unsigned long long)avail < n ? avail : (size_t)n;
        t->pos += take;
        n -= take;
    }
    return 0;
}

/* Copy n bytes of the stream to p, straight from the stream when nothing is buffered. */
static int copy_out(struct tar *t, unsigned char *p, size_t n)
{
    while (n) {
        size_t avail = t->len - t->pos;
        if (avail == 0 && n >= TAR_DIRECT_MIN && !t->eof) {
            t->buf_off += t->len;
            t->pos = t->len = 0;
            ssize_t got = reader_read(t->r, p, n);
            if (got < 0) {
                t->io_failed = true;
                return (int)got;
            }
            if (got == 0) {
                t->eof = true;
                return -ERR_TRUNCATED;
            }
            t->buf_off += (unsigned long long)got;
            p += got;
            n -= (size_t)got;
            continue;
        }
        if (avail == 0) {
            int rc = fill(t);
            if (rc < 0)
                return rc;
            if (rc == 0)
                return -ERR_TRUNCATED;
            continue;
        }
        size_t take = avail < n ? avail : n;
        memcpy(p, t->buf + t->pos, take);
        t->pos += take;
        p += take;
        n -= take;
    }
    return 0;
}

/* Tar numeric field: octal digits (leading spaces or NULs allowed, ended by a space or NUL)
 * or GNU base-256 (first byte 0x80; 0xff means negative, which no field here may be). */
static bool parse_number(const unsigned char *f, size_t n, unsigned long long *out)
{
    unsigned long long v = 0;
    if (f[0] & 0x80) {
        if (f[0] != 0x80)
            return false; /* negative */
        for (size_t i = 1; i < n; i++) {
            if (v >> 55)
                return false;
            v = (v << 8) | f[i];
        }
        *out = v;
        return true;
    }
    size_t i = 0;
    while (i < n && (f[i] == ' ' || f[i] == '\0'))
        i++;
    if (i == n) {
        *out = 0; /* an empty field is zero */
        return true;
    }
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v >> 60)
            return false;
        v = v * 8 + (unsigned)(f[i] - '0');
    }
    for (; i < n; i++)
        if (f[i] != ' ' && f[i] != '\0')
            return false;
    *out = v;
    return true;
}

static bool is_zero_block(const unsigned char *h)
{
    static const unsigned char zero[TAR_BLOCK];
    return memcmp(h, zero, TAR_BLOCK) == 0;
}

static bool checksum_ok(const unsigned char *h)
{
    unsigned long long stored;
    if (!parse_number(h + 148, 8, &stored))
        return false;
    unsigned long usum = 0;
    long ssum = 0;
    for (size_t i = 0; i < TAR_BLOCK; i++) {
        unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];
        usum += c;
        ssum += (signed char)c;
    }
    return stored == usum || (long long)stored == ssum;
}

/* Normalise a member name into out (TAR_NAME_MAX + 1 bytes): drop empty and "." components,
 * resolve "..", no leading or trailing "/". 0, -ERR_OUTSIDE (absolute, or ".." above the
 * root), -ERR_TOO_BIG. */
static int normalise(const char *in, size_t n, char *out, size_t *outlen)
{
    if (n && in[0] == '/')
        return -ERR_OUTSIDE;
    size_t o = 0, i = 0;
    while (i < n) {
        while (i < n && in[i] == '/')
            i++;
        size_t s = i;
        while (i < n && in[i] != '/')
            i++;
        size_t cl = i - s;
        if (cl == 0 || (cl == 1 && in[s] == '.'))
            continue;
        if (cl == 2 && in[s] == '.' && in[s + 1] == '.') {
            if (o == 0)
                return -ERR_OUTSIDE;
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            continue;
        }
        if (o + (o ? 1 : 0) + cl > TAR_NAME_MAX)
            return -ERR_TOO_BIG;
        if (o)
            out[o++] = '/';
        memcpy(out + o, in + s, cl);
        o += cl;
    }
    out[o] = '\0';
    if (outlen)
        *outlen = o;
    return 0;
}

/* Copy a NUL-padded field of at most n bytes into a C string. */
static size_t field_len(const unsigned char *f, size_t n)
{
    const void *z = memchr(f, 0, n);
    return z ? (size_t)((const unsigned char *)z - f) : n;
}

/* Read a GNU 'L' / 'K' payload (a NUL-terminated name) into dst. */
static int read_long(struct tar *t, struct diag *d, unsigned long long size, char *dst,
                     const char *what)
{
    if (size > TAR_NAME_MAX + 1)
        return tfail(t, d, -ERR_TOO_BIG,
                     "GNU long %s of %llu bytes at offset %llu is over the cap of %u", what, size,
                     stream_off(t), TAR_NAME_MAX);
    int rc = copy_out(t, (unsigned char *)dst, (size_t)size);
    if (rc == 0)
        rc = skip(t, (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
    if (rc == -ERR_TRUNCATED && !t->io_failed)
        return tfail(t, d, rc, "tar stream truncated in a GNU long %s at offset %llu", what,
                     stream_off(t));
    if (rc < 0)
        return tfail_io(t, d, rc, false);
    dst[size] = '\0';
    return 0;
}

/* Store a pax value (path or linkpath) as a C string. */
static int pax_store(struct tar *t, struct diag *d, struct str v, char *dst, bool *has,
                     const char *key)
{
    if (memchr(v.ptr, 0, v.len))
        return tfail(t, d, -ERR_CORRUPT, "pax %s contains a NUL byte (offset %llu)", key,
                     stream_off(t));
    if (v.len > TAR_NAME_MAX)
        return tfail(t, d, -ERR_TOO_BIG, "pax %s of %zu bytes is over the cap of %u", key, v.len,
                     TAR_NAME_MAX);
    memcpy(dst, v.ptr, v.len);
    dst[v.len] = '\0';
    *has = v.len > 0; /* an empty value unsets the field */
    return 0;
}

/* Parse pax extended records "LEN KEY=VALUE\n" from t->ext. */
static int parse_pax(struct tar *t, struct diag *d, unsigned long long hdr_off)
{
    const char *p = t->ext.data ? t->ext.data : "";
    const char *end = p + t->ext.len;
    while (p < end) {
        if (*p == '\0')
            break; /* NUL padding after the last record */
        size_t len = 0;
        const char *q = p;
        while (q < end && *q >= '0' && *q <= '9' && len <= TAR_PAX_MAX) {
            len = len * 10 + (size_t)(*q - '0');
            q++;
        }
        if (q == p || q >= end || *q != ' ' || len > (size_t)(end - p) ||
            len < (size_t)(q - p) + 3 || p[len - 1] != '\n')
            return tfail(t, d, -ERR_CORRUPT, "malformed pax record at offset %llu + %zu", hdr_off,
                         (size_t)(p - t->ext.data));
        const char *kv = q + 1, *rec_end = p + len - 1;
        const char *eq = memchr(kv, '=', (size_t)(rec_end - kv));
        if (!eq)
            return tfail(t, d, -ERR_CORRUPT, "pax record without '=' at offset %llu + %zu", hdr_off,
                         (size_t)(p - t->ext.data));
        struct str key = { kv, (size_t)(eq - kv) };
        struct str val = { eq + 1, (size_t)(rec_end - eq - 1) };
        int rc = 0;
        if (str_eq_cstr(key, "path")) {
            rc = pax_store(t, d, val, t->pax_path, &t->has_pax_path, "path");
        } else if (str_eq_cstr(key, "linkpath")) {
            rc = pax_store(t, d, val, t->pax_link, &t->has_pax_link, "linkpath");
        } else if (str_eq_cstr(key, "size")) {
            unsigned long long v;
            if (!str_to_u64(val, &v))
                return tfail(t, d, -ERR_CORRUPT, "bad pax size '%.40s' at offset %llu",
                             val.len ? val.ptr : "", hdr_off);
            t->pax_size = v;
            t->has_pax_size = true;
        }
        if (rc)
            return rc;
        p += len;
    }
    return 0;
}

static void clear_pending(struct tar *t)
{
    t->has_long_name = t->has_long_link = false;
    t->has_pax_path = t->has_pax_link = t->has_pax_size = false;
}

static enum tar_type map_type(unsigned char flag, bool trailing_slash, bool *has_data)
{
    *has_data = false;
    switch (flag) {
    case '0':
    case '\0':
    case '7':
        if (trailing_slash)
            return TAR_DIR; /* pre-POSIX directories */
        *has_data = true;
        return TAR_FILE;
    case '1':
        return TAR_HARDLINK;
    case '2':
        return TAR_SYMLINK;
    case '5':
        return TAR_DIR;
    case 'D':
        *has_data = true; /* GNU dump directory: a listing follows */
        return TAR_DIR;
    case '3':
    case '4':
    case '6':
        return TAR_OTHER;
    default:
        *has_data = true; /* unknown (sparse, volume, ...): not a file we can read; skip */
        return TAR_OTHER;
    }
}

int tar_next(struct tar *t, struct tar_entry *e, struct diag *d)
{
    if (t->err)
        return sticky(t, d);
    if (t->ended)
        return 0;
    int rc = skip(t, t->left + t->pad);
    if (rc == -ERR_TRUNCATED && !t->io_failed)
        return tfail(t, d, rc, "tar member '%.120s' truncated: the stream ends at offset %llu",
                     t->path, stream_off(t));
    if (rc < 0)
        return tfail_io(t, d, rc, true);
    t->left = t->pad = 0;

    for (;;) {
        rc = ensure(t, TAR_BLOCK);
        if (rc == 0) {
            /* end of stream at a block boundary: accepted as the end (some writers omit the
             * two zero blocks) */
            t->ended = true;
            return 0;
        }
        if (rc == -ERR_TRUNCATED && !t->io_failed)
            return tfail(t, d, rc, "tar stream truncated inside a header at offset %llu%s%.120s%s",
                         stream_off(t), t->have_entry ? " (after member '" : "", prev_name(t),
                         t->have_entry ? "')" : "");
        if (rc < 0)
            return tfail_io(t, d, rc, false);
        const unsigned char *h = t->buf + t->pos;
        unsigned long long hdr_off = stream_off(t);

        if (is_zero_block(h)) {
            t->pos += TAR_BLOCK;
            rc = ensure(t, TAR_BLOCK);
            if (rc < 0 && (t->io_failed || rc != -ERR_TRUNCATED))
                return tfail_io(t, d, rc, false);
            if (rc == 1 && !is_zero_block(t->buf + t->pos))
                return tfail(t, d, -ERR_CORRUPT,
                             "a lone zero block at offset %llu is followed by more data", hdr_off);
            if (rc == 1)
                t->pos += TAR_BLOCK;
            t->ended = true;
            return 0;
        }
        if (!checksum_ok(h))
            return tfail(t, d, -ERR_CORRUPT, "bad tar header checksum at offset %llu%s%.120s%s",
                         hdr_off, t->have_entry ? " (after member '" : "", prev_name(t),
                         t->have_entry ? "')" : "");
        unsigned long long size, mode;
        if (!parse_number(h + 124, 12, &size) || !parse_number(h + 100, 8, &mode))
            return tfail(t, d, -ERR_CORRUPT, "bad number in the tar header at offset %llu",
                         hdr_off);
        unsigned char flag = h[156];
        t->pos += TAR_BLOCK;

        if (flag == 'L' || flag == 'K') {
            bool is_name = flag == 'L';
            rc = read_long(t, d, size, is_name ? t->long_name : t->long_link,
                           is_name ? "name" : "link name");
            if (rc)
                return rc;
            if (is_name)
                t->has_long_name = true;
            else
                t->has_long_link = true;
            continue;
        }
        if (flag == 'x' || flag == 'g') {
            if (flag == 'x' && size > TAR_PAX_MAX)
                return tfail(t, d, -ERR_TOO_BIG,
                             "pax header of %llu bytes at offset %llu is over the cap of %u", size,
                             hdr_off, TAR_PAX_MAX);
            unsigned long long pad = (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
            rc = 0;
            if (flag == 'x') {
                buf_reset(&t->ext);
                rc = buf_reserve(&t->ext, (size_t)size);
                if (rc == 0)
                    rc = copy_out(t, (unsigned char *)t->ext.data, (size_t)size);
                if (rc == 0) {
                    t->ext.len = (size_t)size;
                    t->ext.data[size] = '\0';
                }
            }
            if (rc == 0)
                rc = skip(t, flag == 'g' ? size + pad : pad);
            if (rc == -ERR_TRUNCATED && !t->io_failed)
                return tfail(t, d, rc, "tar stream truncated in a pax header at offset %llu",
                             hdr_off);
            if (rc < 0)
                return tfail_io(t, d, rc, false);
            if (flag == 'x') {
                rc = parse_pax(t, d, hdr_off);
                if (rc)
                    return rc;
            }
            continue; /* global headers ('g') are ignored */
        }

        /* A real member: pick its name (pax > GNU long name > ustar prefix/name). */
        size_t rawlen;
        if (t->has_pax_path) {
            rawlen = strlen(t->pax_path);
            memcpy(t->raw, t->pax_path, rawlen + 1);
        } else if (t->has_long_name) {
            rawlen = strlen(t->long_name);
            memcpy(t->raw, t->long_name, rawlen + 1);
        } else {
            size_t nl = field_len(h, 100);
            rawlen = 0;
            if (memcmp(h + 257, "ustar\0", 6) == 0 && h[345] != '\0') {
                size_t pl = field_len(h + 345, 155);
                memcpy(t->raw, h + 345, pl);
                t->raw[pl] = '/';
                rawlen = pl + 1;
            }
            memcpy(t->raw + rawlen, h, nl);
            rawlen += nl;
            t->raw[rawlen] = '\0';
        }
        bool has_data;
        enum tar_type type = map_type(flag, rawlen > 0 && t->raw[rawlen - 1] == '/', &has_data);
        if (t->has_pax_size)
            size = t->pax_size;
        unsigned long long data = has_data ? size : 0;

        size_t plen;
        rc = normalise(t->raw, rawlen, t->path, &plen);
        if (rc == -ERR_OUTSIDE)
            return tfail(t, d, rc, "tar member '%.120s' at offset %llu: %s", t->raw, hdr_off,
                         rawlen && t->raw[0] == '/' ? "absolute path"
                                                    : "\"..\" climbs above the root");
        if (rc < 0)
            return tfail(t, d, rc, "tar member name at offset %llu is too long", hdr_off);
        t->have_entry = true;
        if (plen == 0 && type != TAR_DIR)
            return tfail(t, d, -ERR_CORRUPT, "tar member at offset %llu has an empty name",
                         hdr_off);

        t->link[0] = '\0';
        if (type == TAR_SYMLINK || type == TAR_HARDLINK) {
            const char *lk;
            size_t ll;
            if (t->has_pax_link) {
                lk = t->pax_link;
                ll = strlen(lk);
            } else if (t->has_long_link) {
                lk = t->long_link;
                ll = strlen(lk);
            } else {
                lk = (const char *)h + 157;
                ll = field_len(h + 157, 100);
            }
            if (type == TAR_SYMLINK) {
                if (ll > TAR_NAME_MAX)
                    return tfail(t, d, -ERR_TOO_BIG,
                                 "tar member '%.120s': symlink target of %zu bytes is over the "
                                 "cap of %u",
                                 t->path, ll, TAR_NAME_MAX);
                memcpy(t->link, lk, ll);
                t->link[ll] = '\0';
            } else {
                size_t tl;
                rc = normalise(lk, ll, t->link, &tl);
                if (rc == 0 && tl == 0)
                    rc = -ERR_CORRUPT;
                if (rc < 0)
                    return tfail(t, d, rc, "tar member '%.120s': hard link target '%.*s' %s",
                                 t->path, (int)(ll > 100 ? 100 : ll), lk,
                                 rc == -ERR_OUTSIDE   ? "escapes the root"
                                 : rc == -ERR_CORRUPT ? "is empty"
                                                      : "is too long");
            }
        }
        clear_pending(t);
        t->left = data;
        t->pad = (TAR_BLOCK - data % TAR_BLOCK) % TAR_BLOCK;
        if (plen == 0) {
            /* the root directory itself ("./"): nothing to report */
            t->have_entry = false;
            rc = skip(t, t->left + t->pad);
            if (rc == -ERR_TRUNCATED && !t->io_failed)
                return tfail(t, d, rc, "tar stream truncated at offset %llu", stream_off(t));
            if (rc < 0)
                return tfail_io(t, d, rc, true);
            t->left = t->pad = 0;
            continue;
        }
        e->path = t->path;
        e->link = t->link;
        e->type = type;
        e->size = type == TAR_FILE ? size : 0;
        e->mode = (uint32_t)(mode & 07777);
        return 1;
    }
}

int tar_read_content(struct tar *t, struct buf *out, struct diag *d)
{
    if (t->err)
        return sticky(t, d);
    if (t->left > out->max - out->len) {
        /* not an error of the stream: the entry is still skipped by the next tar_next() */
        return diag_set(d, -ERR_TOO_BIG, (size_t)stream_off(t),
                        "tar member '%.120s' has %llu bytes, over the cap of %zu", t->path, t->left,
                        out->max);
    }
    int rc = buf_reserve(out, (size_t)t->left);
    if (rc)
        return diag_set(d, rc, (size_t)stream_off(t), "tar member '%.120s' is too big", t->path);
    rc = copy_out(t, (unsigned char *)out->data + out->len, (size_t)t->left);
    if (rc == -ERR_TRUNCATED && !t->io_failed)
        return tfail(t, d, rc, "tar member '%.120s' truncated: the stream ends at offset %llu",
                     t->path, stream_off(t));
    if (rc < 0)
        return tfail_io(t, d, rc, true);
    out->len += (size_t)t->left;
    out->data[out->len] = '\0';
    t->left = 0;
    return 0;
}

static ssize_t content_read(struct reader *r, void *p, size_t n)
{
    struct tar *t = (struct tar *)((char *)r - offsetof(struct tar, content));
    if (t->err) {
        r->diag = t->errd;
        return t->err;
    }
    if (t->left == 0 || n == 0)
        return 0;
    if (n > t->left)
        n = (size_t)t->left;
    size_t avail = t->len - t->pos;
    if (avail == 0 && n < TAR_DIRECT_MIN) {
        int rc = fill(t);
        if (rc < 0) {
            tfail_io(t, NULL, rc, true);
            r->diag = t->errd;
            return rc;
        }
        avail = t->len - t->pos;
    }
    if (avail && avail < n)
        n = avail;
    int rc = copy_out(t, p, n);
    if (rc < 0) {
        if (rc == -ERR_TRUNCATED && !t->io_failed)
            tfail(t, NULL, rc, "tar member '%.120s' truncated: the stream ends at offset %llu",
                  t->path, stream_off(t));
        else
            tfail_io(t, NULL, rc, true);
        r->diag = t->errd;
        return rc;
    }
    t->left -= n;
    return (ssize_t)n;
}

static void content_close(struct reader *r)
{
    (void)r; /* part of the tar: nothing to free */
}

static const struct reader_ops content_ops = { content_read, content_close };

struct reader *tar_content_reader(struct tar *t)
{
    return &t->content;
}
