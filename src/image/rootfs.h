/* SPDX-License-Identifier: Apache-2.0 */
/* The merged image filesystem: layers applied bottom to top with OCI whiteout and opaque
 * directory semantics, and path lookup that follows symlinks the way a chroot would (never
 * above the image root). Only what layer_collect() kept is visible. */
#ifndef VIGIL_IMAGE_ROOTFS_H
#define VIGIL_IMAGE_ROOTFS_H

#include "image/layer.h"

struct rootfs;

struct rootfs *rootfs_new(void);
void rootfs_free(struct rootfs *fs);
/* Apply a layer on top. lc is borrowed and must outlive fs. layer_index is reported back by
 * lookups as the layer an entry comes from.
 * The layer's whiteouts and opaque markers go first (they hide lower layers only, wherever
 * they sit in the archive), then its entries in archive order. An entry's parent directory
 * is resolved through symlinks in the merged tree (as containerd's applier does: "lib/x"
 * over "lib -> usr/lib" lands in usr/lib/x); missing parents are created, and a regular file
 * in the way becomes a directory. A hard link binds to the file its target names at that
 * moment (this layer's earlier entries or a lower layer), so it keeps that file even if a
 * later layer removes or replaces the target path. Entries that cannot be placed (symlink
 * loop in the parent, resulting path over 4095 bytes) are skipped. */
void rootfs_apply(struct rootfs *fs, const struct layer_contents *lc, int layer_index);

struct rootfs_hit {
    const struct layer_file *file; /* the regular file found (kind LF_FILE) */
    int layer;                     /* index of the layer it comes from */
    char path[4096];               /* resolved path (symlinks followed) */
};

/* Look path up, following symlinks in every component and hard links to their target.
 * Returns 1 with *hit filled, 0 when absent (or not a regular file), -ERR_LOOP after 40
 * symlink hops. A leading "/" is optional. A regular file that was not of interest is found
 * with file->data NULL (check data.ptr / too_big). For a hard link, file and layer are the
 * linked file's, path is the link's own (resolved) path. 0 too when the path grows over
 * 16 KiB while symlinks are expanded. */
int rootfs_lookup(const struct rootfs *fs, const char *path, struct rootfs_hit *hit);

typedef int (*rootfs_file_fn)(const char *path, const struct layer_file *f, int layer, void *ctx);
/* Call fn for every visible regular file whose path starts with `prefix` ("" = all), in
 * path order; stops and returns fn's value when it is non-zero. The prefix is matched on
 * the merged tree's own paths (symlinks in it are not followed, so every path reported
 * starts with it). Hard links are reported with their target's file and layer. Path order
 * is byte order of the full paths ("a.b" < "a/b"). */
int rootfs_foreach(const struct rootfs *fs, const char *prefix, rootfs_file_fn fn, void *ctx);

#endif
