/* SPDX-License-Identifier: Apache-2.0 */
/* vigil layer: debug the layer walk. `ls` streams one blob (any compression) and lists its
 * entries or counts them; `merge` applies blobs bottom to top and lists or looks up what is
 * visible in the merged filesystem. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/vec.h"
#include "cli/cli.h"
#include "image/decomp.h"
#include "image/layer.h"
#include "image/rootfs.h"

struct layer_opts {
    bool count;
    VEC(const char *) interest;
    VEC(const char *) lookup;
    VEC(const char *) blobs;
    const char *prefix;
    struct decomp_limits dlim;
    struct layer_limits llim;
};

static void layer_usage(FILE *f)
{
    fprintf(f, "usage: vigil layer ls [--count] [--interest GLOB]... [LIMITS] BLOB\n"
               "       vigil layer merge [--interest GLOB]... [--lookup PATH]... "
               "[--prefix P] [LIMITS] BLOB...\n"
               "\n"
               "ls lists a layer blob's entries (tab-separated: kind, size, path, link, kept\n"
               "and, for kept content, its SHA-256); --count prints totals only. merge\n"
               "applies the blobs bottom first and lists the visible regular files (path,\n"
               "layer, size, kept) under --prefix, or resolves each --lookup PATH.\n"
               "--interest keeps the content of files whose path matches GLOB (fnmatch).\n"
               "LIMITS: --max-output BYTES (decompressed), --max-file BYTES (kept file).\n");
}

static bool interest_glob(const char *path, uint64_t size, void *ctx)
{
    const struct layer_opts *o = ctx;
    (void)size;
    for (size_t i = 0; i < o->interest.n; i++)
        if (fnmatch(o->interest.v[i], path, 0) == 0)
            return true;
    return false;
}

static bool parse_bytes(const char *s, uint64_t *out)
{
    unsigned long long v;
    if (!str_to_u64(str_from(s), &v) || v == 0)
        return false;
    *out = v;
    return true;
}

/* 0, 1 (error printed) or 2 (usage). */
static int parse_opts(int argc, char **argv, bool merge, struct layer_opts *o)
{
    for (int i = 2; i < argc && argv[i]; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--count") == 0 && !merge) {
            o->count = true;
        } else if (strcmp(a, "--interest") == 0 && val) {
            VEC_PUSH(&o->interest, val);
            i++;
        } else if (strcmp(a, "--lookup") == 0 && val && merge) {
            VEC_PUSH(&o->lookup, val);
            i++;
        } else if (strcmp(a, "--prefix") == 0 && val && merge) {
            o->prefix = val;
            i++;
        } else if (strcmp(a, "--max-output") == 0 && val) {
            if (!parse_bytes(val, &o->dlim.max_output))
                goto bad;
            i++;
        } else if (strcmp(a, "--max-file") == 0 && val) {
            if (!parse_bytes(val, &o->llim.max_file))
                goto bad;
            i++;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            layer_usage(stdout);
            exit(0);
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "vigil layer: unknown option '%s'\n", a);
            return 2;
        } else {
            VEC_PUSH(&o->blobs, a);
        }
        continue;
    bad:
        fprintf(stderr, "vigil layer: bad value '%s' for %s\n", val, a);
        return 2;
    }
    if (o->blobs.n == 0 || (!merge && o->blobs.n != 1)) {
        layer_usage(stderr);
        return 2;
    }
    return 0;
}

/* Stream one blob into lc; prints the error line itself. */
static int collect_blob(const char *blob, struct layer_opts *o, struct layer_contents *lc,
                        enum compression *kind)
{
    struct diag d = { 0 };
    struct reader *file, *z;
    int rc = reader_file_open(blob, &file, &d);
    if (rc == 0)
        rc = decomp_open(file, &o->dlim, &z, kind, &d);
    if (rc == 0) {
        rc = layer_collect(z, o->interest.n ? interest_glob : NULL, o, &o->llim, lc, &d);
        reader_close(z);
    }
    if (rc) {
        fprintf(stderr, "vigil layer: %s: %s\n", blob, d.msg[0] ? d.msg : err_str(rc));
        return 1;
    }
    return 0;
}

static const char *kind_name(enum lf_kind k)
{
    switch (k) {
    case LF_FILE:
        return "file";
    case LF_DIR:
        return "dir";
    case LF_SYMLINK:
        return "symlink";
    case LF_HARDLINK:
        return "hardlink";
    case LF_WHITEOUT:
        return "whiteout";
    case LF_OPAQUE:
        return "opaque";
    }
    return "?";
}

static const char *kept_flag(const struct layer_file *f)
{
    return f->too_big ? "too-big" : f->data.ptr ? "kept" : "";
}

static int layer_ls(struct layer_opts *o)
{
    struct layer_contents lc;
    layer_contents_init(&lc);
    enum compression kind = COMP_NONE;
    int rc = collect_blob(o->blobs.v[0], o, &lc, &kind);
    if (rc)
        goto out;
    if (o->count) {
        unsigned long long by_kind[LF_OPAQUE + 1] = { 0 }, file_bytes = 0;
        for (size_t i = 0; i < lc.files.n; i++) {
            by_kind[lc.files.v[i].kind]++;
            if (lc.files.v[i].kind == LF_FILE)
                file_bytes += lc.files.v[i].size;
        }
        printf("compression %s\nentries %llu\nfiles %llu\ndirs %llu\nsymlinks %llu\n"
               "hardlinks %llu\nwhiteouts %llu\nopaque %llu\nfile_bytes %llu\ntar_bytes %llu\n"
               "kept_bytes %llu\n",
               compression_name(kind), (unsigned long long)lc.entries, by_kind[LF_FILE],
               by_kind[LF_DIR], by_kind[LF_SYMLINK], by_kind[LF_HARDLINK], by_kind[LF_WHITEOUT],
               by_kind[LF_OPAQUE], file_bytes, (unsigned long long)lc.tar_bytes,
               (unsigned long long)lc.kept_bytes);
    } else {
        for (size_t i = 0; i < lc.files.n; i++) {
            const struct layer_file *f = &lc.files.v[i];
            char hex[2 * SHA256_LEN + 1] = "";
            if (f->data.ptr) {
                unsigned char md[SHA256_LEN];
                sha256_buf(f->data.ptr, f->data.len, md);
                hex_encode(md, SHA256_LEN, hex);
            }
            printf("%s\t%llu\t%s\t%s\t%s%s%s\n", kind_name(f->kind), (unsigned long long)f->size,
                   f->path, f->link, kept_flag(f), hex[0] ? "\t" : "", hex);
        }
    }
out:
    layer_contents_release(&lc);
    return rc;
}

static int print_file(const char *path, const struct layer_file *f, int layer, void *ctx)
{
    (void)ctx;
    printf("%s\t%d\t%llu\t%s\n", path, layer, (unsigned long long)f->size, kept_flag(f));
    return 0;
}

static int layer_merge(struct layer_opts *o)
{
    size_t n = o->blobs.n;
    struct layer_contents *lcs = xcalloc(n, sizeof(*lcs));
    struct rootfs *fs = rootfs_new();
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        layer_contents_init(&lcs[i]);
        rc = collect_blob(o->blobs.v[i], o, &lcs[i], NULL);
        if (rc)
            goto out;
        rootfs_apply(fs, &lcs[i], (int)i);
    }
    if (o->lookup.n) {
        for (size_t i = 0; i < o->lookup.n; i++) {
            struct rootfs_hit hit;
            int lr = rootfs_lookup(fs, o->lookup.v[i], &hit);
            if (lr < 0)
                printf("%s\terror\t%s\n", o->lookup.v[i], err_str(lr));
            else if (lr == 0)
                printf("%s\tabsent\n", o->lookup.v[i]);
            else
                printf("%s\t%s\t%d\t%llu\t%s\n", o->lookup.v[i], hit.path, hit.layer,
                       (unsigned long long)hit.file->size, kept_flag(hit.file));
        }
    } else {
        rootfs_foreach(fs, o->prefix ? o->prefix : "", print_file, NULL);
    }
out:
    rootfs_free(fs);
    for (size_t i = 0; i < n; i++)
        layer_contents_release(&lcs[i]);
    free(lcs);
    return rc;
}

int cmd_layer(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        layer_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    bool merge = strcmp(argv[1], "merge") == 0;
    if (!merge && strcmp(argv[1], "ls") != 0) {
        fprintf(stderr, "vigil layer: unknown subcommand '%s'\n", argv[1]);
        return 2;
    }
    struct layer_opts o = { 0 };
    int rc = parse_opts(argc, argv, merge, &o);
    if (rc == 0)
        rc = merge ? layer_merge(&o) : layer_ls(&o);
    VEC_FREE(&o.interest);
    VEC_FREE(&o.lookup);
    VEC_FREE(&o.blobs);
    return rc;
}
