/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming layer decompression: gzip through ISA-L's igzip inflate, zstd through libzstd,
 * or a pass-through for plain tar. The output goes straight into the caller's buffer, so a
 * consumer reading in large chunks (the tar walker) gets zero-copy decompression. */
#include "decomp.h"

#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "base/xalloc.h"

/* Compressed input is read in chunks of up to this size; large reads keep syscalls and
 * ISA-L's per-call set-up out of the profile. The buffer starts small and doubles while the
 * reads fill it, so small blobs (and fuzzing) do not pay for a megabyte. */
#define DECOMP_IN_CHUNK (1u << 20)
#define DECOMP_IN_FIRST (64u << 10)
/* The ratio guard only starts once this much output has been produced. */
#define DECOMP_RATIO_FLOOR        (64ull << 20)
#define DECOMP_DEFAULT_MAX_OUTPUT (16ull << 30)
#define DECOMP_DEFAULT_RATIO      1000u

struct decomp {
    struct reader base;
    struct reader *inner;
    enum compression kind;
    unsigned char *in;
    size_t in_cap, in_pos, in_len;
    unsigned long long in_off; /* compressed offset of in[0] */
    bool inner_eof;
    unsigned long long total_out;
    unsigned long long max_output;
    unsigned long long max_ratio;
    int err;   /* sticky: returned again by every later read */
    bool done; /* end of stream reached */
    /* gzip */
    struct inflate_state *gz;
    bool gz_in_member;
    /* zstd */
    ZSTD_DStream *zs;
    size_t zs_hint; /* last ZSTD_decompressStream() result: 0 = at a frame boundary */
};

const char *compression_name(enum compression c)
{
    switch (c) {
    case COMP_NONE:
        return "none";
    case COMP_GZIP:
        return "gzip";
    case COMP_ZSTD:
        return "zstd";
    }
    return "unknown";
}

static unsigned long long consumed(const struct decomp *z)
{
    return z->in_off + z->in_pos;
}

/* Record a sticky failure; the message lives in the reader's diag. */
static ssize_t fail(struct decomp *z, int err)
{
    z->err = err;
    z->base.diag.err = err;
    return err;
}

/* An error from the wrapped reader (an I/O error, a digest mismatch) passes through with its
 * own code and message. */
static ssize_t fail_inner(struct decomp *z, int err)
{
    z->base.diag = z->inner->diag;
    return fail(z, err);
}

/* Refill the input buffer when it is empty. 1 = bytes available, 0 = end of input, <0 =
 * error (already recorded). */
static int refill(struct decomp *z)
{
    if (z->in_pos < z->in_len)
        return 1;
    if (z->inner_eof)
        return 0;
    z->in_off += z->in_len;
    if (z->in_len == z->in_cap && z->in_cap < DECOMP_IN_CHUNK) {
        /* the last read filled the buffer: the stream is big, read more at a time */
        z->in_cap *= 2;
        free(z->in);
        z->in = xmalloc(z->in_cap);
    }
    z->in_pos = z->in_len = 0;
    ssize_t got = reader_read(z->inner, z->in, z->in_cap);
    if (got < 0)
        return (int)fail_inner(z, (int)got);
    if (got == 0) {
        z->inner_eof = true;
        return 0;
    }
    z->in_len = (size_t)got;
    return 1;
}

/* Bomb guard, applied to every chunk of output: returns how much of it to hand out. Output
 * stops exactly at max_output; the error (sticky) comes with the next read, so the consumer
 * sees the data up to the limit first and can say which tar member crossed it. */
static ssize_t deliver(struct decomp *z, size_t produced)
{
    unsigned long long room = z->max_output - z->total_out;
    if (produced > room) {
        diag_set(&z->base.diag, -ERR_TOO_BIG, consumed(z),
                 "%s stream expands beyond the limit of %llu bytes (at compressed offset %llu)",
                 compression_name(z->kind), z->max_output, consumed(z));
        fail(z, -ERR_TOO_BIG);
        if (room == 0)
            return -ERR_TOO_BIG;
        produced = (size_t)room;
    }
    z->total_out += produced;
    if (!z->err && z->kind != COMP_NONE && z->total_out > DECOMP_RATIO_FLOOR &&
        z->total_out / z->max_ratio > consumed(z)) {
        diag_set(&z->base.diag, -ERR_TOO_BIG, consumed(z),
                 "%s stream expands more than %llu times (%llu bytes from %llu): "
                 "decompression bomb?",
                 compression_name(z->kind), z->max_ratio, z->total_out, consumed(z));
        fail(z, -ERR_TOO_BIG);
    }
    return (ssize_t)produced;
}

static const char *isal_error_name(int rc)
{
    switch (rc) {
    case ISAL_INVALID_BLOCK:
        return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
        return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
        return "invalid back-reference distance";
    case ISAL_INVALID_WRAPPER:
        return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
        return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM:
        return "CRC-32 or length mismatch in the member trailer";
    case ISAL_NEED_DICT:
        return "preset dictionary required";
    default:
        return "inflate error";
    }
}

/* Between gzip members: another member, trailing zero padding (ignored, as gzip(1) does), end
 * of input, or garbage (-ERR_CORRUPT). Returns 1 when a new member starts, 0 at the end. */
static int gzip_next_member(struct decomp *z)
{
    for (;;) {
        int rc = refill(z);
        if (rc <= 0)
            return rc;
        /* need both magic bytes, which may straddle two reads */
        if (z->in[z->in_pos] == 0x1f) {
            if (z->in_len - z->in_pos < 2) {
                /* keep the lone byte and read more behind it */
                if (z->inner_eof)
                    goto truncated;
                unsigned char b = z->in[z->in_pos];
                z->in_off += z->in_pos;
                z->in[0] = b;
                z->in_pos = 0;
                z->in_len = 1;
                ssize_t got = reader_read(z->inner, z->in + 1, z->in_cap - 1);
                if (got < 0)
                    return (int)fail_inner(z, (int)got);
                if (got == 0)
                    goto truncated;
                z->in_len += (size_t)got;
            }
            if (z->in[z->in_pos + 1] != 0x8b)
                goto garbage;
            isal_inflate_reset(z->gz);
            z->gz->crc_flag = ISAL_GZIP;
            z->gz_in_member = true;
            return 1;
        }
        if (z->in[z->in_pos] != 0)
            goto garbage;
        while (z->in_pos < z->in_len && z->in[z->in_pos] == 0)
            z->in_pos++;
        if (z->in_pos < z->in_len)
            goto garbage;
    }
truncated:
    diag_set(&z->base.diag, -ERR_TRUNCATED, consumed(z),
             "gzip stream truncated at compressed offset %llu (inside a member header)",
             consumed(z));
    return (int)fail(z, -ERR_TRUNCATED);
garbage:
    diag_set(&z->base.diag, -ERR_CORRUPT, consumed(z),
             "trailing garbage after the last gzip member at compressed offset %llu", consumed(z));
    return (int)fail(z, -ERR_CORRUPT);
}

static ssize_t gzip_read(struct decomp *z, unsigned char *p, size_t n)
{
    struct inflate_state *s = z->gz;
    if (n > UINT32_MAX)
        n = UINT32_MAX;
    for (;;) {
        if (!z->gz_in_member) {
            int rc = gzip_next_member(z);
            if (rc < 0)
                return rc;
            if (rc == 0) {
                z->done = true;
                return 0;
            }
        }
        if (z->in_pos == z->in_len) {
            int rc = refill(z);
            if (rc < 0)
                return rc;
            if (rc == 0) {
                diag_set(&z->base.diag, -ERR_TRUNCATED, consumed(z),
                         "gzip stream truncated at compressed offset %llu (member not finished)",
                         consumed(z));
                return fail(z, -ERR_TRUNCATED);
            }
        }
        size_t before = z->in_pos;
        s->next_in = z->in + z->in_pos;
        s->avail_in = (uint32_t)(z->in_len - z->in_pos);
        s->next_out = p;
        s->avail_out = (uint32_t)n;
        int rc = isal_inflate(s);
        z->in_pos = (size_t)(s->next_in - z->in);
        size_t produced = n - s->avail_out;
        if (rc < 0) {
            diag_set(&z->base.diag, -ERR_CORRUPT, consumed(z),
                     "gzip data corrupt at compressed offset %llu: %s", consumed(z),
                     isal_error_name(rc));
            return fail(z, -ERR_CORRUPT);
        }
        if (s->block_state == ISAL_BLOCK_FINISH)
            z->gz_in_member = false; /* trailer checked; ISA-L hands back unused bytes */
        if (produced) {
            return deliver(z, produced);
        }
        /* nothing produced: ISA-L took all the input it had (headers, a block boundary) and
         * needs more; refill() on the next turn. Guard against a stall all the same. */
        if (z->gz_in_member && z->in_pos == before && z->in_pos < z->in_len) {
            diag_set(&z->base.diag, -ERR_CORRUPT, consumed(z),
                     "gzip inflate made no progress at compressed offset %llu", consumed(z));
            return fail(z, -ERR_CORRUPT);
        }
    }
}

static ssize_t zstd_read(struct decomp *z, unsigned char *p, size_t n)
{
    for (;;) {
        if (z->in_pos == z->in_len) {
            int rc = refill(z);
            if (rc < 0)
                return rc;
            if (rc == 0) {
                /* a frame that has been fully decoded can still have output to flush */
                if (z->zs_hint != 0) {
                    ZSTD_inBuffer zin = { z->in, 0, 0 };
                    ZSTD_outBuffer zout = { p, n, 0 };
                    size_t r = ZSTD_decompressStream(z->zs, &zout, &zin);
                    if (!ZSTD_isError(r) && zout.pos) {
                        z->zs_hint = r;
                        return deliver(z, zout.pos);
                    }
                    diag_set(&z->base.diag, -ERR_TRUNCATED, consumed(z),
                             "zstd stream truncated at compressed offset %llu (frame not finished)",
                             consumed(z));
                    return fail(z, -ERR_TRUNCATED);
                }
                z->done = true;
                return 0;
            }
        }
        ZSTD_inBuffer zin = { z->in + z->in_pos, z->in_len - z->in_pos, 0 };
        ZSTD_outBuffer zout = { p, n, 0 };
        size_t r = ZSTD_decompressStream(z->zs, &zout, &zin);
        z->in_pos += zin.pos;
        if (ZSTD_isError(r)) {
            ZSTD_ErrorCode code = ZSTD_getErrorCode(r);
            int err =
                code == ZSTD_error_frameParameter_windowTooLarge ? -ERR_TOO_BIG : -ERR_CORRUPT;
            /* libzstd does not say where in the chunk it failed: name the chunk */
            diag_set(&z->base.diag, err, consumed(z),
                     "zstd data %s in compressed bytes %llu-%llu: %s",
                     err == -ERR_TOO_BIG ? "needs too much memory" : "corrupt", consumed(z),
                     z->in_off + z->in_len, ZSTD_getErrorName(r));
            return fail(z, err);
        }
        z->zs_hint = r;
        if (zout.pos) {
            return deliver(z, zout.pos);
        }
    }
}

static ssize_t none_read(struct decomp *z, unsigned char *p, size_t n)
{
    ssize_t got;
    if (z->in_pos < z->in_len) {
        /* what was read to detect the format */
        got = (ssize_t)(z->in_len - z->in_pos < n ? z->in_len - z->in_pos : n);
        memcpy(p, z->in + z->in_pos, (size_t)got);
        z->in_pos += (size_t)got;
    } else {
        if (z->inner_eof) {
            z->done = true;
            return 0;
        }
        got = reader_read(z->inner, p, n);
        if (got < 0)
            return fail_inner(z, (int)got);
        if (got == 0) {
            z->inner_eof = true;
            z->done = true;
            return 0;
        }
        z->in_off += (unsigned long long)got;
    }
    return deliver(z, (size_t)got);
}

static ssize_t decomp_read(struct reader *r, void *p, size_t n)
{
    struct decomp *z = (struct decomp *)r;
    if (z->err)
        return z->err;
    if (z->done || n == 0)
        return 0;
    switch (z->kind) {
    case COMP_GZIP:
        return gzip_read(z, p, n);
    case COMP_ZSTD:
        return zstd_read(z, p, n);
    case COMP_NONE:
        return none_read(z, p, n);
    }
    return 0;
}

static void decomp_close(struct reader *r)
{
    struct decomp *z = (struct decomp *)r;
    if (!z)
        return;
    reader_close(z->inner);
    free(z->in);
    free(z->gz);
    ZSTD_freeDStream(z->zs);
    free(z);
}

static const struct reader_ops decomp_ops = { decomp_read, decomp_close };

/* Octal tar checksum field check: enough to tell a tar header from random bytes. */
static bool looks_like_tar(const unsigned char *h)
{
    bool zero = true;
    for (int i = 0; i < 512 && zero; i++)
        zero = h[i] == 0;
    if (zero)
        return true; /* an empty archive is two zero blocks */
    unsigned long stored = 0;
    int i = 148;
    while (i < 156 && h[i] == ' ')
        i++;
    int digits = 0;
    for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++, digits++)
        stored = stored * 8 + (unsigned long)(h[i] - '0');
    if (digits == 0)
        return false;
    unsigned long usum = 0;
    long ssum = 0;
    for (int k = 0; k < 512; k++) {
        unsigned char c = (k >= 148 && k < 156) ? ' ' : h[k];
        usum += c;
        ssum += (signed char)c;
    }
    return stored == usum || (long)stored == ssum;
}

int decomp_open(struct reader *inner, const struct decomp_limits *lim, struct reader **out,
                enum compression *kind, struct diag *d)
{
    struct decomp *z = xcalloc(1, sizeof(*z));
    z->base.ops = &decomp_ops;
    z->inner = inner;
    z->in_cap = DECOMP_IN_FIRST;
    z->in = xmalloc(z->in_cap);
    z->max_output = lim && lim->max_output ? lim->max_output : DECOMP_DEFAULT_MAX_OUTPUT;
    z->max_ratio = lim && lim->max_ratio ? lim->max_ratio : DECOMP_DEFAULT_RATIO;
    int rc = 0;

    /* Read until the magic (and a whole tar header, for plain tar) can be checked. */
    while (z->in_len < 512 && !z->inner_eof) {
        ssize_t got = reader_read(inner, z->in + z->in_len, z->in_cap - z->in_len);
        if (got < 0) {
            rc = (int)got;
            if (d)
                *d = inner->diag;
            goto fail;
        }
        if (got == 0)
            z->inner_eof = true;
        z->in_len += (size_t)got;
    }

    if (z->in_len >= 2 && z->in[0] == 0x1f && z->in[1] == 0x8b) {
        z->kind = COMP_GZIP;
        z->gz = xmalloc(sizeof(*z->gz));
        isal_inflate_init(z->gz);
        z->gz->crc_flag = ISAL_GZIP;
        z->gz_in_member = true;
    } else if (z->in_len >= 4 && z->in[0] == 0x28 && z->in[1] == 0xb5 && z->in[2] == 0x2f &&
               z->in[3] == 0xfd) {
        z->kind = COMP_ZSTD;
        z->zs = ZSTD_createDStream();
        if (!z->zs) {
            rc = diag_set(d, -ENOMEM, 0, "cannot create a zstd decoder");
            goto fail;
        }
        ZSTD_initDStream(z->zs);
        z->zs_hint = 1;
    } else if (z->in_len == 0 || (z->in_len >= 512 && looks_like_tar(z->in))) {
        z->kind = COMP_NONE; /* an empty stream is an empty archive */
    } else {
        rc = diag_set(d, -ERR_UNSUPPORTED, 0, "not a tar, gzip or zstd stream");
        goto fail;
    }
    if (kind)
        *kind = z->kind;
    *out = &z->base;
    return 0;
fail:
    decomp_close(&z->base);
    return rc;
}
