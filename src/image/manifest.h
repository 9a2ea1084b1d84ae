/* SPDX-License-Identifier: Apache-2.0 */
/* Image manifests, indexes, configs and docker-archive manifest.json: pure parsers over bytes
 * (jansson, duplicate keys rejected) and platform selection from an index. Nothing here does
 * I/O or verifies digests; the image source does that before calling these. */
#ifndef VIGIL_IMAGE_MANIFEST_H
#define VIGIL_IMAGE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define MT_OCI_MANIFEST     "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX        "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST  "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST      "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_V1        "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_V1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define MT_OCI_CONFIG       "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_CONFIG    "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER     "application/vnd.docker.image.rootfs.diff.tar"
#define MT_DOCKER_LAYER_GZ  "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_LAYER_ZST "application/vnd.docker.image.rootfs.diff.tar.zstd"

#define MANIFEST_MAX_BYTES  (4u << 20) /* manifests and indexes */
#define CONFIG_MAX_BYTES    (4u << 20)
#define MANIFEST_MAX_LAYERS 1000
#define INDEX_MAX_ENTRIES   4096 /* also bounds an OCI layout's index.json */
#define ARCHIVE_MAX_IMAGES  1000 /* images in one docker-archive manifest.json */

#define ANNOT_REF_NAME       "org.opencontainers.image.ref.name"
#define ANNOT_DOCKER_REFTYPE "vnd.docker.reference.type"

enum manifest_kind {
    MANIFEST_UNKNOWN = 0,
    MANIFEST_OCI = 1,         /* OCI image manifest */
    MANIFEST_OCI_INDEX = 2,   /* OCI image index */
    MANIFEST_DOCKER = 3,      /* Docker schema 2 manifest */
    MANIFEST_DOCKER_LIST = 4, /* Docker schema 2 manifest list */
    MANIFEST_DOCKER_V1 = 5,   /* Docker schema 1: recognised only to be rejected */
};

/* A content descriptor. Strings are owned. The platform fields and ref_name/is_attestation
 * are only filled for index entries. */
struct descriptor {
    char *media_type;
    char *digest; /* well-formed (sha256 or sha512), checked by the parser */
    uint64_t size;
    char *os;            /* platform.os, NULL when absent */
    char *architecture;  /* platform.architecture */
    char *variant;       /* platform.variant */
    char *ref_name;      /* annotation org.opencontainers.image.ref.name */
    bool is_attestation; /* has a vnd.docker.reference.type annotation (buildkit attestation) */
};

struct manifest {
    enum manifest_kind kind;
    const char *media_type; /* static MT_* string for kind */
    /* image manifests */
    struct descriptor config;
    size_t nlayers;
    struct descriptor *layers;
    /* indexes / manifest lists */
    size_t nentries;
    struct descriptor *entries;
};

/* The kind a media type names; MANIFEST_UNKNOWN for anything else (including NULL). */
enum manifest_kind manifest_kind_of(const char *media_type);
static inline bool manifest_kind_is_index(enum manifest_kind k)
{
    return k == MANIFEST_OCI_INDEX || k == MANIFEST_DOCKER_LIST;
}

/* Parse a manifest or index of at most MANIFEST_MAX_BYTES. media_type_hint is what the
 * container said (index entry, Content-Type; may be NULL); the document's own mediaType wins,
 * and a known hint that contradicts it is an error. Errors: -ERR_TOO_BIG, -ERR_MANIFEST_INVALID
 * (bad JSON, missing/ill-typed fields, over MANIFEST_MAX_LAYERS / INDEX_MAX_ENTRIES),
 * -ERR_UNSUPPORTED (schema 1, unknown media types); message in d (offset: JSON position). */
int manifest_parse(const void *p, size_t n, const char *media_type_hint, struct manifest *out,
                   struct diag *d);
void manifest_release(struct manifest *m);

/* A platform to select, parsed from "os/arch[/variant]". Strings are owned. */
struct platform {
    char *os;
    char *architecture;
    char *variant; /* NULL when not given */
};

/* Parse "os/arch[/variant]" (lower-cased ASCII letters, digits, '_', '.', '-'; each part at
 * most 32 bytes); NULL or "" means linux/amd64. Architecture aliases x86_64 and aarch64 are
 * normalised. 0 or -ERR_INVALID. */
int platform_parse(const char *s, struct platform *out, struct diag *d);
void platform_release(struct platform *p);
/* "os/arch[/variant]" into out (truncated to n). */
void platform_format(const char *os, const char *arch, const char *variant, char *out, size_t n);

/* Choose the entry of an index for want: os and architecture must match; a requested variant
 * must match (arm64 entries without variant count as v8, and a request for plain arm64 takes
 * v8); with no variant requested, an entry without variant is preferred. Entries that are
 * attestations, lack a platform or say "unknown" are never chosen. Returns the entry's index,
 * or -ERR_PLATFORM with the available platforms listed in d. */
int index_select(const struct manifest *idx, const struct platform *want, struct diag *d);

/* The parts of an image config vigil uses. Strings are owned. */
struct image_config {
    char *os;
    char *architecture;
    char *variant;
    size_t ndiff_ids;
    char **diff_ids; /* rootfs.diff_ids, each a well-formed digest */
};

/* Parse an image config of at most CONFIG_MAX_BYTES. rootfs.type must be "layers" and every
 * diff_id a digest; at most MANIFEST_MAX_LAYERS of them. -ERR_TOO_BIG or -ERR_MANIFEST_INVALID. */
int image_config_parse(const void *p, size_t n, struct image_config *out, struct diag *d);
void image_config_release(struct image_config *c);

/* One image in a docker-archive's manifest.json. Strings are owned. */
struct archive_image {
    char *config; /* member path of the config */
    size_t ntags;
    char **repo_tags;
    size_t nlayers;
    char **layers; /* member paths, bottom first */
};

struct archive_manifest {
    size_t nimages;
    struct archive_image *images;
};

/* Parse `docker save`'s manifest.json (an array of {Config, RepoTags, Layers}); at most
 * MANIFEST_MAX_BYTES, ARCHIVE_MAX_IMAGES images and MANIFEST_MAX_LAYERS layers each.
 * -ERR_TOO_BIG or -ERR_MANIFEST_INVALID. */
int archive_manifest_parse(const void *p, size_t n, struct archive_manifest *out, struct diag *d);
void archive_manifest_release(struct archive_manifest *m);

#endif
