/* SPDX-License-Identifier: Apache-2.0 */
/* Image inventory: what is installed in an image (OS and packages, each with the layer that
 * brought it in), built from the layers through the per-layer cache so a layer once read is
 * never read again. */
#ifndef VIGIL_SCAN_INVENTORY_H
#define VIGIL_SCAN_INVENTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "image/source.h"
#include "pkgdb/pkg.h"

struct inventory_os {
    const char *id;          /* "debian", "alpine", "rocky", ...; "" when unknown */
    const char *version_id;  /* "12", "3.19.0", "9.3" */
    const char *codename;    /* "bookworm"; "" when none */
    const char *pretty_name; /* "" when none */
    const char *source;      /* file it was read from, e.g. "etc/os-release" */
};

struct inventory_layer {
    const char *digest;  /* blob digest */
    const char *diff_id; /* may be "" */
    uint64_t size;
    bool from_cache; /* read from the layer cache instead of the blob */
};

struct inventory {
    struct arena arena; /* owns every string below and the package strings */
    const char *image_ref;
    const char *image_name;
    const char *manifest_digest;
    const char *config_digest;
    const char *platform; /* "linux/amd64" */
    struct inventory_os os;
    VEC(struct inventory_layer) layers;
    struct pkg_list pkgs;       /* OS packages in database order, then language packages in
                                 * path order; each with the layer that brought it in */
    VEC(const char *) warnings; /* non-fatal problems (skipped records), one line each */
};

struct inventory_opts {
    const char *cache_dir;   /* layer cache directory; NULL = no cache */
    struct image_opts image; /* platform, credentials, TLS */
    uint64_t max_file;       /* cap per file of interest (0 = default) */
    uint64_t max_total;      /* cap on kept bytes per layer (0 = default) */
    bool no_lang;            /* OS packages only: skip the language-package analyzers */
};

void inventory_init(struct inventory *inv);
void inventory_release(struct inventory *inv);
/* Read the image named by ref. On failure, returns <0 with a one-line message in d that names
 * the image, the layer and the file at fault. */
int inventory_build(const char *ref, const struct inventory_opts *o, struct inventory *inv,
                    struct diag *d);
/* The same from a source the caller opened (image_source_open_provider() for images in
 * vigil's own store) and keeps: it is resolved here and not closed. ref names the image in
 * messages and in inv->image_ref; o->image is not used (the source has its options). */
int inventory_build_source(struct image_source *src, const char *ref,
                           const struct inventory_opts *o, struct inventory *inv, struct diag *d);

#endif
