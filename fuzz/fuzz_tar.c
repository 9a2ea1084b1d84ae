/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the tar walker, layer_collect() and the rootfs merge: the input is up to three
 * uncompressed layers separated by "VIGILSPLIT", applied bottom first, then every recorded
 * path and link target is looked up and the whole tree listed. */
#include <stdint.h>
#include <string.h>

#include "base/reader.h"
#include "image/layer.h"
#include "image/rootfs.h"
#include "image/tar.h"

#define SEP    "VIGILSPLIT"
#define LAYERS 3

static bool keep_some(const char *path, uint64_t size, void *ctx)
{
    (void)ctx;
    return size < 4096 || path[0] == 'k';
}

static int count_file(const char *path, const struct layer_file *f, int layer, void *ctx)
{
    size_t *n = ctx;
    (void)layer;
    *n += strlen(path) + (f->data.ptr ? f->data.len : 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct layer_contents lc[LAYERS];
    size_t nl = 0;
    struct rootfs *fs = rootfs_new();
    const uint8_t *p = data, *end = data + size;
    struct layer_limits lim = { .max_file = 1 << 16, .max_total = 1 << 20 };

    while (nl < LAYERS) {
        const uint8_t *cut = memmem(p, (size_t)(end - p), SEP, strlen(SEP));
        size_t n = cut ? (size_t)(cut - p) : (size_t)(end - p);
        struct reader *r = reader_mem_new(p, n);
        struct diag d = { 0 };
        layer_contents_init(&lc[nl]);
        if (layer_collect(r, keep_some, NULL, &lim, &lc[nl], &d) == 0)
            rootfs_apply(fs, &lc[nl], (int)nl);
        reader_close(r);
        nl++;
        if (!cut)
            break;
        p = cut + strlen(SEP);
    }

    /* the raw walker too, with partial content reads */
    struct reader *r = reader_mem_new(data, size);
    struct tar *t = tar_new(r);
    struct tar_entry e;
    struct diag d = { 0 };
    int i = 0;
    while (tar_next(t, &e, &d) > 0) {
        char tmp[300];
        if (i % 3 == 1)
            reader_read(tar_content_reader(t), tmp, sizeof(tmp));
        if (i % 3 == 2) {
            struct buf b;
            buf_init(&b, 1000);
            tar_read_content(t, &b, &d);
            buf_release(&b);
        }
        i++;
    }
    tar_free(t);
    reader_close(r);

    for (size_t k = 0; k < nl; k++) {
        for (size_t j = 0; j < lc[k].files.n && j < 64; j++) {
            struct rootfs_hit hit;
            rootfs_lookup(fs, lc[k].files.v[j].path, &hit);
            rootfs_lookup(fs, lc[k].files.v[j].link, &hit);
        }
    }
    size_t total = 0;
    rootfs_foreach(fs, "", count_file, &total);
    rootfs_foreach(fs, "a/", count_file, &total);
    rootfs_free(fs);
    for (size_t k = 0; k < nl; k++)
        layer_contents_release(&lc[k]);
    return 0;
}
