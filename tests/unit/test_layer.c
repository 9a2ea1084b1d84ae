/* SPDX-License-Identifier: Apache-2.0 */
/* Layer reading: decompression (gzip, zstd, none; limits; error pass-through), the tar walker,
 * layer_collect() and the merged rootfs. Fixtures come from tools/gen-layer-fixtures.py. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/reader.h"
#include "base/xalloc.h"
#include "image/decomp.h"
#include "image/layer.h"
#include "image/rootfs.h"
#include "image/tar.h"
#include "test.h"

/* ---- helpers --------------------------------------------------------------------------- */

static char *fixture_path(const char *name)
{
    return xasprintf("%s/layer/%s", test_data_dir(), name);
}

static struct buf slurp(const char *name)
{
    char *path = fixture_path(name);
    struct reader *r;
    struct diag d = { 0 };
    struct buf b;
    buf_init(&b, 64 << 20);
    if (reader_file_open(path, &r, &d) != 0)
        test_fail(__FILE__, __LINE__, "cannot open fixture %s: %s", path, d.msg);
    free(path);
    ASSERT_EQ(reader_read_all(r, &b), 0);
    reader_close(r);
    return b;
}

/* A reader over memory that hands out at most `step` bytes per read (exercises every
 * state a decompressor can be left in between two reads), and optionally fails at the end
 * with `end_err` instead of returning 0, the way a verifying blob reader reports a digest
 * mismatch. */
struct trickle {
    struct reader base;
    const unsigned char *p;
    size_t n, step;
    int end_err;
    bool closed;
};

static ssize_t trickle_read(struct reader *r, void *p, size_t n)
{
    struct trickle *t = (struct trickle *)r;
    if (!t->n) {
        if (t->end_err)
            diag_set(&r->diag, t->end_err, 0, "blob digest mismatch (test)");
        return t->end_err;
    }
    size_t k = n < t->step ? n : t->step;
    if (k > t->n)
        k = t->n;
    memcpy(p, t->p, k);
    t->p += k;
    t->n -= k;
    return (ssize_t)k;
}

static void trickle_close(struct reader *r)
{
    free(r);
}

static const struct reader_ops trickle_ops = { trickle_read, trickle_close };

static struct reader *trickle_new(const void *p, size_t n, size_t step, int end_err)
{
    struct trickle *t = xcalloc(1, sizeof(*t));
    t->base.ops = &trickle_ops;
    t->p = p;
    t->n = n;
    t->step = step;
    t->end_err = end_err;
    return &t->base;
}

/* Decompress all of `in` reading `out_step` bytes at a time; returns the final rc. */
static int inflate_all(const struct buf *in, size_t in_step, size_t out_step,
                       const struct decomp_limits *lim, struct buf *out, enum compression *kind,
                       struct diag *d)
{
    struct reader *z;
    int rc = decomp_open(trickle_new(in->data, in->len, in_step, 0), lim, &z, kind, d);
    if (rc)
        return rc;
    char *tmp = xmalloc(out_step);
    for (;;) {
        ssize_t got = reader_read(z, tmp, out_step);
        if (got < 0) {
            rc = (int)got;
            if (d)
                *d = z->diag;
            /* errors are sticky */
            if (reader_read(z, tmp, out_step) != got)
                rc = -9999;
            break;
        }
        if (got == 0)
            break;
        if (buf_append(out, tmp, (size_t)got)) {
            rc = -ERR_TOO_BIG;
            break;
        }
    }
    free(tmp);
    reader_close(z);
    return rc;
}

/* Open a fixture through decomp_open(). */
static struct reader *open_fixture(const char *name, const struct decomp_limits *lim,
                                   enum compression *kind)
{
    char *path = fixture_path(name);
    struct reader *f, *z;
    struct diag d = { 0 };
    if (reader_file_open(path, &f, &d) != 0 || decomp_open(f, lim, &z, kind, &d) != 0)
        test_fail(__FILE__, __LINE__, "cannot open %s: %s", path, d.msg);
    free(path);
    return z;
}

static bool keep_all(const char *path, uint64_t size, void *ctx)
{
    (void)path;
    (void)size;
    (void)ctx;
    return true;
}

/* Collect a fixture (any compression) keeping every file. */
static int collect(const char *name, struct layer_contents *lc, const struct layer_limits *lim,
                   struct diag *d)
{
    char *path = fixture_path(name);
    struct reader *f, *z;
    int rc = reader_file_open(path, &f, d);
    free(path);
    if (rc)
        return rc;
    rc = decomp_open(f, NULL, &z, NULL, d);
    if (rc)
        return rc;
    layer_contents_init(lc);
    rc = layer_collect(z, keep_all, NULL, lim, lc, d);
    reader_close(z);
    return rc;
}

static const struct layer_file *lc_find(const struct layer_contents *lc, const char *path,
                                        enum lf_kind kind)
{
    for (size_t i = 0; i < lc->files.n; i++)
        if (lc->files.v[i].kind == kind && strcmp(lc->files.v[i].path, path) == 0)
            return &lc->files.v[i];
    return NULL;
}

/* The generator's pattern(): a repeating 997-byte LCG block. */
static void pattern(unsigned char *out, size_t n, unsigned seed)
{
    unsigned char block[997];
    uint32_t x = seed;
    for (size_t i = 0; i < sizeof(block); i++) {
        x = (x * 1103515245u + 12345u) & 0x7fffffffu;
        block[i] = (unsigned char)((x >> 16) & 0xff);
    }
    for (size_t i = 0; i < n; i++)
        out[i] = block[i % sizeof(block)];
}

static bool has(const char *s, const char *sub)
{
    return strstr(s, sub) != NULL;
}

/* ---- decompression ----------------------------------------------------------------------- */

TEST(decomp_gzip_zstd_match_plain_tar_any_chunking)
{
    struct buf plain = slurp("basic.tar");
    const char *names[] = { "basic.tar.gz",  "basic.tar.zst",      "multi.tar.gz",
                            "multi.tar.zst", "zeros-after.tar.gz", "basic.tar" };
    const enum compression kinds[] = { COMP_GZIP, COMP_ZSTD, COMP_GZIP,
                                       COMP_ZSTD, COMP_GZIP, COMP_NONE };
    const size_t steps[][2] = {
        { 1 << 20, 1 << 20 }, { 1, 1 << 20 }, { 7, 3 }, { 512, 100 }, { 3, 1 }
    };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        struct buf in = slurp(names[i]);
        for (size_t s = 0; s < ARRAY_SIZE(steps); s++) {
            struct buf out;
            buf_init(&out, 1 << 20);
            enum compression kind = 99;
            struct diag d = { 0 };
            int rc = inflate_all(&in, steps[s][0], steps[s][1], NULL, &out, &kind, &d);
            if (rc != 0)
                test_fail(__FILE__, __LINE__, "%s step %zu: rc %d: %s", names[i], s, rc, d.msg);
            ASSERT_EQ(kind, kinds[i]);
            ASSERT_EQ(out.len, plain.len);
            ASSERT_TRUE(memcmp(out.data, plain.data, plain.len) == 0);
            buf_release(&out);
        }
        buf_release(&in);
    }
    buf_release(&plain);
    ASSERT_STREQ(compression_name(COMP_GZIP), "gzip");
    ASSERT_STREQ(compression_name(COMP_ZSTD), "zstd");
    ASSERT_STREQ(compression_name(COMP_NONE), "none");
}

TEST(decomp_errors)
{
    static const struct {
        const char *name;
        int err;
        const char *msg;
    } cases[] = {
        { "truncated.tar.gz", -ERR_TRUNCATED, "gzip stream truncated" },
        { "truncated-trailer.tar.gz", -ERR_TRUNCATED, "gzip stream truncated" },
        { "corrupt.tar.gz", -ERR_CORRUPT, "gzip data corrupt at compressed offset" },
        { "bad-crc.tar.gz", -ERR_CORRUPT, "CRC-32" },
        { "garbage-after.tar.gz", -ERR_CORRUPT, "trailing garbage" },
        { "truncated.tar.zst", -ERR_TRUNCATED, "zstd stream truncated" },
        { "corrupt.tar.zst", -ERR_CORRUPT, "zstd data corrupt" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf in = slurp(cases[i].name);
        for (size_t step = 1; step <= (1 << 20); step *= 64) {
            struct buf out;
            buf_init(&out, 1 << 20);
            struct diag d = { 0 };
            int rc = inflate_all(&in, step, 4096, NULL, &out, NULL, &d);
            if (rc != cases[i].err || !has(d.msg, cases[i].msg))
                test_fail(__FILE__, __LINE__, "%s (step %zu): rc %d, msg '%s'", cases[i].name, step,
                          rc, d.msg);
            buf_release(&out);
        }
        buf_release(&in);
    }
}

TEST(decomp_detects_non_archives)
{
    struct buf in = slurp("garbage.bin");
    struct reader *z = NULL;
    struct diag d = { 0 };
    int rc = decomp_open(reader_mem_new(in.data, in.len), NULL, &z, NULL, &d);
    ASSERT_EQ(rc, -ERR_UNSUPPORTED);
    ASSERT_TRUE(has(d.msg, "not a tar, gzip or zstd stream"));
    ASSERT_TRUE(z == NULL);
    /* short junk too */
    rc = decomp_open(reader_mem_new("\x1f", 1), NULL, &z, NULL, &d);
    ASSERT_EQ(rc, -ERR_UNSUPPORTED);
    /* an empty stream is an empty (uncompressed) archive */
    enum compression kind = 99;
    rc = decomp_open(reader_mem_new("", 0), NULL, &z, &kind, &d);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(kind, COMP_NONE);
    char c;
    ASSERT_EQ(reader_read(z, &c, 1), 0);
    reader_close(z);
    buf_release(&in);
}

TEST(decomp_bomb_guards)
{
    /* 10 MiB of zeros in ~10 kB of gzip: the output cap trips */
    struct buf in = slurp("bomb.tar.gz");
    struct decomp_limits lim = { .max_output = 1 << 20 };
    struct buf out;
    buf_init(&out, 4 << 20);
    struct diag d = { 0 };
    int rc = inflate_all(&in, 1 << 20, 1 << 16, &lim, &out, NULL, &d);
    ASSERT_EQ(rc, -ERR_TOO_BIG);
    ASSERT_TRUE(has(d.msg, "limit of 1048576 bytes"));
    ASSERT_EQ(out.len, 1 << 20); /* output stops exactly at the limit */
    buf_release(&out);
    /* the same stream passes with the default limits */
    buf_init(&out, 16 << 20);
    rc = inflate_all(&in, 1 << 20, 1 << 16, NULL, &out, NULL, &d);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(out.len, 10 * 1024 * 1024 + 1536);
    buf_release(&out);
    buf_release(&in);

    /* 1 GiB of zeros in ~33 kB of zstd: the ratio guard trips past 64 MiB with defaults */
    struct reader *z = open_fixture("bomb.tar.zst", NULL, NULL);
    char *tmp = xmalloc(1 << 20);
    unsigned long long total = 0;
    ssize_t got;
    while ((got = reader_read(z, tmp, 1 << 20)) > 0)
        total += (unsigned long long)got;
    ASSERT_EQ(got, -ERR_TOO_BIG);
    ASSERT_TRUE(has(z->diag.msg, "more than 1000 times"));
    ASSERT_TRUE(total >= (64ull << 20) && total < (80ull << 20));
    reader_close(z);
    free(tmp);
}

TEST(decomp_passes_inner_errors_through)
{
    const char *names[] = { "basic.tar.gz", "basic.tar.zst", "basic.tar" };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        struct buf in = slurp(names[i]);
        struct reader *z;
        struct diag d = { 0 };
        ASSERT_EQ(decomp_open(trickle_new(in.data, in.len, 333, -ERR_DIGEST), NULL, &z, NULL, &d),
                  0);
        struct layer_contents lc;
        layer_contents_init(&lc);
        int rc = layer_collect(z, NULL, NULL, NULL, &lc, &d);
        ASSERT_EQ(rc, -ERR_DIGEST);
        ASSERT_TRUE(has(d.msg, "blob digest mismatch (test)"));
        /* the tar itself was complete: every entry got recorded before the failure */
        ASSERT_EQ(lc.entries, 12);
        layer_contents_release(&lc);
        reader_close(z);
        buf_release(&in);
    }
}

/* ---- tar ------------------------------------------------------------------------------- */

TEST(tar_basic_entries)
{
    const char *names[] = { "basic.tar", "basic.tar.gz", "basic.tar.zst" };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        struct reader *z = open_fixture(names[i], NULL, NULL);
        struct tar *t = tar_new(z);
        struct tar_entry e;
        struct diag d = { 0 };
        static const struct {
            const char *path;
            const char *link;
            uint64_t size;
            enum tar_type type;
            uint32_t mode;
        } want[] = {
            { "etc", "", 0, TAR_DIR, 0755 },
            { "etc/os-release", "", 21, TAR_FILE, 0644 },
            { "etc/passwd", "", 30, TAR_FILE, 0644 },
            { "usr/share/doc", "", 0, TAR_DIR, 0755 },
            { "usr/share/doc/readme", "", 1000, TAR_FILE, 0644 },
            { "bin", "usr/bin", 0, TAR_SYMLINK, 0777 },
            { "usr/bin", "", 0, TAR_DIR, 0755 },
            { "usr/bin/tool", "", 20, TAR_FILE, 0644 },
            { "usr/bin/tool-link", "usr/bin/tool", 0, TAR_HARDLINK, 0644 },
            { "dev/null", "", 0, TAR_OTHER, 0644 },
            { "run/fifo", "", 0, TAR_OTHER, 0644 },
            { "empty", "", 0, TAR_FILE, 0644 },
        };
        for (size_t k = 0; k < ARRAY_SIZE(want); k++) {
            ASSERT_EQ(tar_next(t, &e, &d), 1);
            ASSERT_STREQ(e.path, want[k].path);
            ASSERT_EQ(e.type, want[k].type);
            ASSERT_EQ(e.size, want[k].size);
            ASSERT_STREQ(e.link, want[k].link);
            ASSERT_EQ(e.mode, want[k].mode);
            if (k == 1) {
                struct buf c;
                buf_init(&c, 100);
                ASSERT_EQ(tar_read_content(t, &c, &d), 0);
                ASSERT_STREQ(buf_cstr(&c), "ID=test\nVERSION_ID=1\n");
                buf_release(&c);
            }
            if (k == 4) {
                /* over the cap: refused without consuming; the walk goes on correctly */
                struct buf c;
                buf_init(&c, 999);
                ASSERT_EQ(tar_read_content(t, &c, &d), -ERR_TOO_BIG);
                ASSERT_TRUE(has(d.msg, "usr/share/doc/readme"));
                ASSERT_EQ(c.len, 0);
                buf_release(&c);
            }
            if (k == 7) {
                /* partial read through the content reader, the rest skipped */
                char tmp[8];
                struct reader *cr = tar_content_reader(t);
                ASSERT_EQ(reader_read_full(cr, tmp, 8), 0);
                ASSERT_TRUE(memcmp(tmp, "#!/bin/s", 8) == 0);
            }
        }
        ASSERT_EQ(tar_next(t, &e, &d), 0);
        ASSERT_EQ(tar_next(t, &e, &d), 0);
        tar_free(t);
        reader_close(z);
    }
}

TEST(tar_long_names_pax_base256)
{
    struct layer_contents lc;
    struct diag d = { 0 };
    const char *long_file = "very/long-directory-name-long-directory-name-long-directory-name-"
                            "long-directory-name-long-directory-name-long-directory-name-/"
                            "file-with-a-long-name.txt";
    ASSERT_EQ(collect("gnu-long.tar", &lc, NULL, &d), 0);
    ASSERT_EQ(lc.files.n, 3);
    ASSERT_STREQ(lc.files.v[0].path, long_file);
    ASSERT_STR_EQ(lc.files.v[0].data, "long\n");
    ASSERT_EQ(lc.files.v[1].kind, LF_SYMLINK);
    ASSERT_EQ(strlen(lc.files.v[1].link), strlen(long_file) + 1);
    ASSERT_EQ(lc.files.v[1].link[0], '/');
    ASSERT_EQ(lc.files.v[2].kind, LF_HARDLINK);
    ASSERT_STREQ(lc.files.v[2].link, long_file);
    /* the hard link shares the data kept for its target */
    ASSERT_TRUE(lc.files.v[2].data.ptr == lc.files.v[0].data.ptr);
    layer_contents_release(&lc);

    ASSERT_EQ(collect("pax.tar", &lc, NULL, &d), 0);
    ASSERT_EQ(lc.files.n, 3);
    ASSERT_EQ(strlen(lc.files.v[0].path), 4 + 15 * 12 + 8);
    ASSERT_TRUE(has(lc.files.v[0].path, "deep-directory/file.txt"));
    ASSERT_STR_EQ(lc.files.v[0].data, "pax\n");
    ASSERT_STREQ(lc.files.v[1].path, "pax/caf\xc3\xa9.txt");
    ASSERT_EQ(strlen(lc.files.v[2].link), 153);
    layer_contents_release(&lc);

    ASSERT_EQ(collect("pax-size.tar", &lc, NULL, &d), 0);
    ASSERT_EQ(lc.files.n, 2);
    ASSERT_STR_EQ(lc.files.v[0].data, "hello world");
    ASSERT_STR_EQ(lc.files.v[1].data, "after\n");
    layer_contents_release(&lc);

    ASSERT_EQ(collect("base256.tar", &lc, NULL, &d), 0);
    ASSERT_EQ(lc.files.n, 2);
    ASSERT_STR_EQ(lc.files.v[0].data, "b256!\n");
    ASSERT_STREQ(lc.files.v[1].path, "usr/share/prefixed/name.txt");
    ASSERT_STR_EQ(lc.files.v[1].data, "prefixed\n");
    layer_contents_release(&lc);

    /* no end-of-archive blocks: accepted at a block boundary */
    ASSERT_EQ(collect("no-end.tar", &lc, NULL, &d), 0);
    ASSERT_EQ(lc.files.n, 2);
    layer_contents_release(&lc);
    ASSERT_EQ(collect("empty.tar", &lc, NULL, &d), 0);
    ASSERT_EQ(lc.files.n, 0);
    layer_contents_release(&lc);
}

TEST(tar_errors_name_the_member)
{
    static const struct {
        const char *name;
        int err;
        const char *msg;
    } cases[] = {
        { "absolute.tar", -ERR_OUTSIDE, "'/etc/shadow'" },
        { "dotdot.tar", -ERR_OUTSIDE, "'a/../../etc/x'" },
        { "hardlink-escape.tar", -ERR_OUTSIDE, "'link': hard link target '../../etc/shadow'" },
        { "bad-checksum.tar", -ERR_CORRUPT, "checksum at offset 1024 (after member 'ok.txt')" },
        { "bad-number.tar", -ERR_CORRUPT, "bad number" },
        { "long-cap.tar", -ERR_TOO_BIG, "GNU long name of 5000 bytes" },
        { "pax-cap.tar", -ERR_TOO_BIG, "pax header of 2097152 bytes" },
        { "pax-bad.tar", -ERR_CORRUPT, "malformed pax record" },
        { "lone-zero.tar", -ERR_CORRUPT, "lone zero block" },
        { "truncated-content.tar", -ERR_TRUNCATED, "tar member 'b.txt' truncated" },
        { "truncated-header.tar", -ERR_TRUNCATED,
          "inside a header at offset 1024 (after "
          "member 'a.txt')" },
        { "truncated.tar.gz", -ERR_TRUNCATED,
          "in tar member 'usr/share/doc/readme': gzip "
          "stream truncated" },
        { "corrupt.tar.gz", -ERR_CORRUPT, "gzip data corrupt" },
        { "garbage-after.tar.gz", -ERR_CORRUPT, "after the end of the tar archive: trailing" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct layer_contents lc;
        struct diag d = { 0 };
        int rc = collect(cases[i].name, &lc, NULL, &d);
        if (rc != cases[i].err || !has(d.msg, cases[i].msg))
            test_fail(__FILE__, __LINE__, "%s: rc %d, msg '%s'", cases[i].name, rc, d.msg);
        layer_contents_release(&lc);
    }
}

TEST(tar_big_content_across_buffers)
{
    const char *names[] = { "big.tar.gz", "big.tar.zst" };
    const size_t big = 3 * 1024 * 1024 + 123;
    unsigned char *want = xmalloc(big);
    pattern(want, big, 11);
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        struct reader *z = open_fixture(names[i], NULL, NULL);
        struct tar *t = tar_new(z);
        struct tar_entry e;
        struct diag d = { 0 };
        ASSERT_EQ(tar_next(t, &e, &d), 1);
        ASSERT_STREQ(e.path, "data/big.bin");
        ASSERT_EQ(e.size, big);
        struct buf c;
        buf_init(&c, 8 << 20);
        ASSERT_EQ(tar_read_content(t, &c, &d), 0);
        ASSERT_EQ(c.len, big);
        ASSERT_TRUE(memcmp(c.data, want, big) == 0);
        buf_release(&c);
        for (unsigned k = 0; k < 200; k++) {
            ASSERT_EQ(tar_next(t, &e, &d), 1);
            size_t n = k * 37 % 2000;
            ASSERT_EQ(e.size, n);
            if (k % 3 == 0) {
                /* odd-sized reads through the content reader */
                char tmp[2000];
                size_t got = 0;
                ssize_t r;
                while ((r = reader_read(tar_content_reader(t), tmp + got,
                                        n - got < 77 ? n - got : 77)) > 0)
                    got += (size_t)r;
                ASSERT_EQ(r, 0);
                ASSERT_EQ(got, n);
                ASSERT_TRUE(memcmp(tmp, want, n) == 0);
            }
        }
        ASSERT_EQ(tar_next(t, &e, &d), 0);
        tar_free(t);
        reader_close(z);
    }
    free(want);
}

/* ---- layer_collect ----------------------------------------------------------------------- */

static bool only_small_even(const char *path, uint64_t size, void *ctx)
{
    int *calls = ctx;
    (*calls)++;
    (void)size;
    size_t n = strlen(path);
    return strncmp(path, "data/small-", 11) == 0 && (path[n - 1] - '0') % 2 == 0;
}

TEST(layer_interest_and_caps)
{
    struct reader *z = open_fixture("big.tar.gz", NULL, NULL);
    struct layer_contents lc;
    layer_contents_init(&lc);
    struct diag d = { 0 };
    int calls = 0;
    ASSERT_EQ(layer_collect(z, only_small_even, &calls, NULL, &lc, &d), 0);
    reader_close(z);
    ASSERT_EQ(calls, 201);
    ASSERT_EQ(lc.entries, 201);
    ASSERT_EQ(lc.files.n, 201);
    ASSERT_EQ(lc.tar_bytes, 3502080);
    unsigned char want[2000];
    pattern(want, sizeof(want), 11);
    uint64_t kept = 0;
    for (size_t i = 0; i < lc.files.n; i++) {
        const struct layer_file *f = &lc.files.v[i];
        ASSERT_EQ(f->kind, LF_FILE);
        bool even = i > 0 && (f->path[strlen(f->path) - 1] - '0') % 2 == 0;
        ASSERT_EQ(f->data.ptr != NULL, even);
        if (even) {
            ASSERT_EQ(f->data.len, f->size);
            ASSERT_TRUE(memcmp(f->data.ptr, want, f->size) == 0);
            kept += f->size;
        }
    }
    ASSERT_EQ(lc.kept_bytes, kept);
    layer_contents_release(&lc);

    /* per-file and total caps: too_big set, nothing kept, the walk completes */
    struct layer_limits lim = { .max_file = 1000, .max_total = 5000 };
    ASSERT_EQ(collect("big.tar.zst", &lc, &lim, &d), 0);
    ASSERT_TRUE(lc.files.v[0].too_big);
    ASSERT_TRUE(lc.files.v[0].data.ptr == NULL);
    ASSERT_TRUE(lc.kept_bytes <= 5000);
    size_t too_big = 0, with_data = 0;
    for (size_t i = 0; i < lc.files.n; i++) {
        too_big += lc.files.v[i].too_big;
        with_data += lc.files.v[i].data.ptr != NULL;
        ASSERT_FALSE(lc.files.v[i].too_big && lc.files.v[i].data.ptr);
    }
    ASSERT_TRUE(too_big > 100);
    ASSERT_TRUE(with_data > 5);
    layer_contents_release(&lc);
}

TEST(layer_whiteouts_and_links)
{
    struct layer_contents lc;
    struct diag d = { 0 };
    ASSERT_EQ(collect("merge1.tar", &lc, NULL, &d), 0);
    ASSERT_TRUE(lc_find(&lc, "usr/share/java/a.jar", LF_WHITEOUT) != NULL);
    ASSERT_TRUE(lc_find(&lc, "usr/share/maven", LF_OPAQUE) != NULL);
    ASSERT_TRUE(lc_find(&lc, "usr/share/maven", LF_DIR) != NULL);
    const struct layer_file *hl = lc_find(&lc, "opt/hl", LF_HARDLINK);
    ASSERT_TRUE(hl != NULL);
    ASSERT_STREQ(hl->link, "opt/keep/k.txt");
    ASSERT_TRUE(hl->data.ptr == NULL); /* its target is in a lower layer */
    for (size_t i = 0; i < lc.files.n; i++)
        ASSERT_TRUE(strstr(lc.files.v[i].path, ".wh.") == NULL);
    layer_contents_release(&lc);

    ASSERT_EQ(collect("merge-root-opaque.tar", &lc, NULL, &d), 0);
    ASSERT_TRUE(lc_find(&lc, "", LF_OPAQUE) != NULL);
    layer_contents_release(&lc);

    ASSERT_EQ(collect("basic.tar", &lc, NULL, &d), 0);
    const struct layer_file *tool = lc_find(&lc, "usr/bin/tool", LF_FILE);
    const struct layer_file *link = lc_find(&lc, "usr/bin/tool-link", LF_HARDLINK);
    ASSERT_TRUE(tool && link);
    ASSERT_TRUE(tool->data.ptr && link->data.ptr == tool->data.ptr);
    ASSERT_EQ(link->size, 20);
    /* devices and fifos are not recorded; the root entry "./" is not either */
    ASSERT_EQ(lc.entries, 12);
    ASSERT_EQ(lc.files.n, 10);
    layer_contents_release(&lc);
}

/* ---- rootfs -------------------------------------------------------------------------------- */

struct listing {
    char names[64][128];
    int layers[64];
    int n;
    int stop_after;
};

static int list_cb(const char *path, const struct layer_file *f, int layer, void *ctx)
{
    struct listing *l = ctx;
    ASSERT_EQ(f->kind, LF_FILE);
    if (l->n < 64) {
        snprintf(l->names[l->n], sizeof(l->names[0]), "%s", path);
        l->layers[l->n] = layer;
    }
    l->n++;
    return l->stop_after && l->n >= l->stop_after ? 42 : 0;
}

static void expect_list(const struct rootfs *fs, const char *prefix, const char *const *want, int n)
{
    struct listing l = { 0 };
    ASSERT_EQ(rootfs_foreach(fs, prefix, list_cb, &l), 0);
    if (l.n != n)
        test_fail(__FILE__, __LINE__, "prefix '%s': %d files, want %d (first '%s')", prefix, l.n, n,
                  l.n ? l.names[0] : "");
    for (int i = 0; i < n; i++)
        ASSERT_STREQ(l.names[i], want[i]);
}

/* lookup and compare content (NULL = must be absent) */
static void expect_file(const struct rootfs *fs, const char *path, const char *content,
                        const char *resolved, int layer)
{
    struct rootfs_hit hit;
    int rc = rootfs_lookup(fs, path, &hit);
    if (!content) {
        if (rc != 0)
            test_fail(__FILE__, __LINE__, "'%s' should be absent, got rc %d (%s)", path, rc,
                      rc == 1 ? hit.path : "");
        return;
    }
    if (rc != 1)
        test_fail(__FILE__, __LINE__, "'%s' not found (rc %d)", path, rc);
    ASSERT_STR_EQ(hit.file->data, content);
    ASSERT_STREQ(hit.path, resolved);
    ASSERT_EQ(hit.layer, layer);
}

TEST(rootfs_merge_semantics)
{
    struct layer_contents lc[3];
    struct diag d = { 0 };
    ASSERT_EQ(collect("merge0.tar", &lc[0], NULL, &d), 0);
    ASSERT_EQ(collect("merge1.tar", &lc[1], NULL, &d), 0);
    ASSERT_EQ(collect("merge2.tar", &lc[2], NULL, &d), 0);
    struct rootfs *fs = rootfs_new();
    rootfs_apply(fs, &lc[0], 0);

    /* symlinks with chroot semantics */
    expect_file(fs, "etc/os-release", "ID=base\n", "etc/os-release", 0);
    expect_file(fs, "/etc/os-release", "ID=base\n", "etc/os-release", 0);
    expect_file(fs, "lib/os-release", "ID=usrlib\n", "usr/lib/os-release", 0);
    expect_file(fs, "etc/alt/os-release", "ID=usrlib\n", "usr/lib/os-release", 0);
    expect_file(fs, "up/os-release", "ID=base\n", "etc/os-release", 0);
    expect_file(fs, "../../etc/./os-release", "ID=base\n", "etc/os-release", 0);
    expect_file(fs, "abs", "ID=base\n", "etc/os-release", 0);
    expect_file(fs, "dotdot", "ID=usrlib\n", "usr/lib/os-release", 0);
    expect_file(fs, "dirlink/lib/dep.jar", "dep", "opt/app/lib/dep.jar", 0);
    expect_file(fs, "etc", NULL, NULL, 0);              /* a directory */
    expect_file(fs, "etc/os-release/x", NULL, NULL, 0); /* a file is not a directory */
    expect_file(fs, "nope", NULL, NULL, 0);
    struct rootfs_hit hit;
    ASSERT_EQ(rootfs_lookup(fs, "loop1", &hit), -ERR_LOOP);
    ASSERT_EQ(rootfs_lookup(fs, "loop1/x", &hit), -ERR_LOOP);
    /* chain/s1 .. s40 are 40 links: allowed; from s0 it is 41 */
    expect_file(fs, "chain/s1", "end of chain", "chain/s41", 0);
    ASSERT_EQ(rootfs_lookup(fs, "chain/s0", &hit), -ERR_LOOP);

    /* path order is byte order: "status" < "status.d-old" < "status.d/..." */
    const char *dpkg[] = { "var/lib/dpkg/status", "var/lib/dpkg/status.d-old",
                           "var/lib/dpkg/status.d/bash", "var/lib/dpkg/status.d/zlib" };
    expect_list(fs, "var/lib/dpkg/status", dpkg, 4);
    expect_list(fs, "var/lib/dpkg/status.d/", dpkg + 2, 2);
    expect_list(fs, "nothing/here/", dpkg, 0);
    struct listing l = { .stop_after = 2 };
    ASSERT_EQ(rootfs_foreach(fs, "", list_cb, &l), 42);
    ASSERT_EQ(l.n, 2);

    rootfs_apply(fs, &lc[1], 1);
    expect_file(fs, "usr/share/java/a.jar", NULL, NULL, 0); /* whiteout */
    expect_file(fs, "usr/share/java/b.jar", "jar-b", "usr/share/java/b.jar", 0);
    expect_file(fs, "usr/share/maven/x/1.pom", NULL, NULL, 0); /* opaque dir */
    expect_file(fs, "usr/share/maven/y/2.pom", "pom-2", "usr/share/maven/y/2.pom", 1);
    expect_file(fs, "opt/app", "now a file", "opt/app", 1); /* file hides the subtree */
    expect_file(fs, "opt/app/lib/dep.jar", NULL, NULL, 0);
    expect_file(fs, "dirlink/lib/dep.jar", NULL, NULL, 0);
    expect_file(fs, "usr/lib/newfile", "through the lib symlink", "usr/lib/newfile", 1);
    expect_file(fs, "lib/os-release", "ID=usrlib\n", "usr/lib/os-release", 0);
    expect_file(fs, "opt/hl", "keep-me", "opt/hl", 0);   /* hard link into a lower layer */
    expect_file(fs, "opt/hl2", "keep-me", "opt/hl2", 0); /* link to a link */
    const char *dpkg1[] = { "var/lib/dpkg/status.d/bash", "var/lib/dpkg/status.d/curl",
                            "var/lib/dpkg/status.d/zlib" };
    expect_list(fs, "var/lib/dpkg/status.d/", dpkg1, 3);

    rootfs_apply(fs, &lc[2], 2);
    expect_file(fs, "opt/keep/k.txt", NULL, NULL, 0);
    expect_file(fs, "opt/hl", "keep-me", "opt/hl", 0); /* the link keeps the data */
    expect_file(fs, "etc/os-release", "ID=usrlib\n", "usr/lib/os-release", 0);
    expect_file(fs, "usr/share/java/b.jar", "jar-b-v2", "usr/share/java/b.jar", 2);
    const char *dpkg2[] = { "var/lib/dpkg/status.d/bash", "var/lib/dpkg/status.d/curl" };
    expect_list(fs, "var/lib/dpkg/status.d/", dpkg2, 2);
    const char *opt[] = { "opt/app", "opt/hl", "opt/hl2" };
    expect_list(fs, "opt/", opt, 3);
    rootfs_free(fs);

    /* an opaque marker at the root hides every lower layer */
    struct layer_contents top;
    ASSERT_EQ(collect("merge-root-opaque.tar", &top, NULL, &d), 0);
    fs = rootfs_new();
    rootfs_apply(fs, &lc[0], 0);
    rootfs_apply(fs, &top, 1);
    const char *fresh[] = { "fresh.txt" };
    expect_list(fs, "", fresh, 1);
    expect_file(fs, "etc/os-release", NULL, NULL, 0);
    rootfs_free(fs);
    layer_contents_release(&top);
    for (int i = 0; i < 3; i++)
        layer_contents_release(&lc[i]);
}

static bool only_jars(const char *path, uint64_t size, void *ctx)
{
    (void)size;
    (void)ctx;
    size_t n = strlen(path);
    return n > 4 && strcmp(path + n - 4, ".jar") == 0;
}

/* Files nobody is interested in are still recorded: a non-interesting regular file in an upper
 * layer must hide an interesting file below the directory it replaces. */
TEST(rootfs_uninteresting_files_still_hide)
{
    struct layer_contents lc[2];
    struct diag d = { 0 };
    for (int i = 0; i < 2; i++) {
        char *path = fixture_path(i ? "merge1.tar" : "merge0.tar");
        struct reader *f;
        ASSERT_EQ(reader_file_open(path, &f, &d), 0);
        free(path);
        layer_contents_init(&lc[i]);
        ASSERT_EQ(layer_collect(f, only_jars, NULL, NULL, &lc[i], &d), 0);
        reader_close(f);
    }
    const struct layer_file *app = lc_find(&lc[1], "opt/app", LF_FILE);
    ASSERT_TRUE(app && !app->data.ptr && !app->too_big);
    struct rootfs *fs = rootfs_new();
    rootfs_apply(fs, &lc[0], 0);
    expect_file(fs, "opt/app/lib/dep.jar", "dep", "opt/app/lib/dep.jar", 0);
    rootfs_apply(fs, &lc[1], 1);
    expect_file(fs, "opt/app/lib/dep.jar", NULL, NULL, 0);
    struct rootfs_hit hit;
    ASSERT_EQ(rootfs_lookup(fs, "opt/app", &hit), 1); /* visible, content not kept */
    ASSERT_TRUE(hit.file->data.ptr == NULL);
    ASSERT_EQ(hit.file->size, 10);
    rootfs_free(fs);
    layer_contents_release(&lc[0]);
    layer_contents_release(&lc[1]);
}

TEST(rootfs_files_become_directories)
{
    struct layer_contents lc[2];
    struct diag d = { 0 };
    ASSERT_EQ(collect("replace0.tar", &lc[0], NULL, &d), 0);
    ASSERT_EQ(collect("replace1.tar", &lc[1], NULL, &d), 0);
    struct rootfs *fs = rootfs_new();
    rootfs_apply(fs, &lc[0], 0);
    expect_file(fs, "s", "plain file", "x", 0);
    rootfs_apply(fs, &lc[1], 1);
    expect_file(fs, "x", NULL, NULL, 0); /* now a directory */
    expect_file(fs, "x/y", "under x", "x/y", 1);
    expect_file(fs, "x/z", "through s", "x/z", 1);
    expect_file(fs, "s/y", "under x", "x/y", 1);
    expect_file(fs, "f/g/h", "deep", "f/g/h", 1);
    const char *all[] = { "f/g/h", "x/y", "x/z" };
    expect_list(fs, "", all, 3);
    rootfs_free(fs);
    layer_contents_release(&lc[0]);
    layer_contents_release(&lc[1]);
}

/* ---- the real debian-whiteout image (tools/make-test-images), when present --------------- */

static char *image_layers(const char *dir, const char *ref, size_t *n, char layers[][256])
{
    char *path = xasprintf("%s/index.json", dir);
    json_error_t je;
    json_t *idx = json_load_file(path, 0, &je);
    free(path);
    if (!idx)
        return NULL;
    char *manifest = NULL;
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(idx, "manifests"), i, m)
    {
        const char *name = json_string_value(json_object_get(json_object_get(m, "annotations"),
                                                             "org.opencontainers.image.ref.name"));
        if (name && strcmp(name, ref) == 0)
            manifest = xstrdup(json_string_value(json_object_get(m, "digest")));
    }
    json_decref(idx);
    if (!manifest)
        return NULL;
    path = xasprintf("%s/blobs/sha256/%s", dir, manifest + 7);
    json_t *man = json_load_file(path, 0, &je);
    free(path);
    *n = 0;
    json_array_foreach(json_object_get(man, "layers"), i, m)
    {
        const char *dg = json_string_value(json_object_get(m, "digest"));
        if (dg && *n < 8)
            snprintf(layers[(*n)++], 256, "%s/blobs/sha256/%s", dir, dg + 7);
    }
    json_decref(man);
    return manifest;
}

static bool interest_commons(const char *path, uint64_t size, void *ctx)
{
    (void)size;
    (void)ctx;
    return strstr(path, "commons-io") != NULL || strcmp(path, "var/lib/dpkg/status") == 0;
}

TEST(rootfs_real_whiteout_image)
{
    const char *dir = getenv("VIGIL_TEST_IMAGES");
    if (!dir)
        dir = "build/test-images"; /* scripts/test-images.sh */
    char layers[8][256];
    size_t n = 0;
    char *manifest = image_layers(dir, "debian-whiteout:bookworm", &n, layers);
    if (!manifest) {
        fprintf(stderr, "note: %s has no debian-whiteout:bookworm; real-image check not run\n",
                dir);
        return;
    }
    free(manifest);
    ASSERT_EQ(n, 3);
    struct layer_contents lc[3];
    struct rootfs *fs = rootfs_new();
    const char *jar = "usr/share/java/commons-io.jar";
    const char *mvn = "usr/share/maven-repo/commons-io/commons-io/2.11.0/commons-io-2.11.0.jar";
    for (size_t i = 0; i < n; i++) {
        struct reader *f, *z;
        struct diag d = { 0 };
        ASSERT_EQ(reader_file_open(layers[i], &f, &d), 0);
        ASSERT_EQ(decomp_open(f, NULL, &z, NULL, &d), 0);
        layer_contents_init(&lc[i]);
        int rc = layer_collect(z, interest_commons, NULL, NULL, &lc[i], &d);
        if (rc)
            test_fail(__FILE__, __LINE__, "%s: %s", layers[i], d.msg);
        reader_close(z);
        rootfs_apply(fs, &lc[i], (int)i);
        struct rootfs_hit hit;
        if (i == 1) {
            /* installed by layer 1: the jar (and the maven symlink to it) are visible */
            ASSERT_EQ(rootfs_lookup(fs, jar, &hit), 1);
            ASSERT_EQ(hit.layer, 1);
            ASSERT_TRUE(hit.file->data.len > 1000);
            ASSERT_EQ(rootfs_lookup(fs, mvn, &hit), 1);
            ASSERT_STREQ(hit.path, jar);
        }
    }
    struct rootfs_hit hit;
    ASSERT_EQ(rootfs_lookup(fs, jar, &hit), 0);
    ASSERT_EQ(rootfs_lookup(fs, mvn, &hit), 0);
    ASSERT_EQ(rootfs_lookup(fs, "usr/share/doc/libcommons-io-java/copyright", &hit), 0);
    struct listing l = { 0 };
    ASSERT_EQ(rootfs_foreach(fs, "usr/share/maven-repo/", list_cb, &l), 0);
    ASSERT_EQ(l.n, 1);
    ASSERT_STREQ(l.names[0], "usr/share/maven-repo/README");
    l.n = 0;
    ASSERT_EQ(rootfs_foreach(fs, "usr/share/java/", list_cb, &l), 0);
    ASSERT_EQ(l.n, 0);
    /* the dpkg status from the top layer wins and no longer lists the package */
    ASSERT_EQ(rootfs_lookup(fs, "var/lib/dpkg/status", &hit), 1);
    ASSERT_EQ(hit.layer, 2);
    ASSERT_TRUE(strstr(hit.file->data.ptr, "Package: libcommons-io-java") == NULL);
    ASSERT_TRUE(strstr(hit.file->data.ptr, "Package: dpkg") != NULL);
    rootfs_free(fs);
    for (size_t i = 0; i < n; i++)
        layer_contents_release(&lc[i]);
}
