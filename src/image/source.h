/* SPDX-License-Identifier: Apache-2.0 */
/* Image sources: resolve a reference in skopeo's syntax to a manifest, a config and a list of
 * layers, and open blobs as digest-verified streams.
 *   oci:DIR[:REF]            OCI image layout (REF matches org.opencontainers.image.ref.name;
 *                            optional when the index holds exactly one manifest)
 *   docker-archive:FILE[:REF] `docker save` tarball (REF = a RepoTags entry; optional when one)
 *   docker://HOST[:PORT]/REPO[:TAG|@DIGEST]  registry over HTTP(S) (libcurl)
 * and, without a reference, any store that can hand out manifests by digest and blobs as
 * streams (struct image_provider: the server reads its own registry this way, without HTTP).
 * Image indexes / manifest lists are resolved to one platform ("os/arch[/variant]",
 * default linux/amd64). */
#ifndef VIGIL_IMAGE_SOURCE_H
#define VIGIL_IMAGE_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/reader.h"

struct image_opts {
    const char *platform; /* "linux/amd64" when NULL */
    const char *username; /* docker://: basic credentials, also used for the token flow */
    const char *password;
    bool tls_verify;    /* docker://: verify TLS certificates (default true) */
    bool insecure_http; /* docker://: allow plain HTTP (always allowed for localhost/127.*) */
};

struct image_layer {
    char *digest; /* blob digest "sha256:..." */
    char *media_type;
    uint64_t size; /* compressed size, as the manifest says */
    char *diff_id; /* uncompressed digest from the config's rootfs.diff_ids; NULL if absent */
};

struct image_info {
    char *ref;             /* the reference as given */
    char *name;            /* repository/tag part for display, e.g. "debian:bookworm-minbase" */
    char *manifest_digest; /* digest of the image manifest chosen */
    char *manifest_media_type;
    char *index_digest; /* digest of the index it was chosen from, or NULL */
    char *config_digest;
    char *os;
    char *architecture;
    char *variant; /* NULL when none */
    size_t nlayers;
    struct image_layer *layers;
    struct buf manifest; /* raw manifest bytes, exactly as stored */
    struct buf config;   /* raw config bytes */
};

struct image_source;

/* Parse ref and open the source (for docker://, nothing is fetched yet). 0 or -ERR_* with a
 * one-line message in d naming the reference. */
int image_source_open(const char *ref, const struct image_opts *opts, struct image_source **out,
                      struct diag *d);
/* Fetch and verify manifest (choosing the platform from an index), config and layer list. */
int image_source_resolve(struct image_source *s, struct image_info *out, struct diag *d);
/* Open a layer blob as a stream of its stored (compressed) bytes. The stream verifies the
 * digest and size: the read that reaches the end returns -ERR_DIGEST (or -ERR_TRUNCATED)
 * instead of 0 when the content does not match. The caller closes the reader. */
int image_source_open_blob(struct image_source *s, const struct image_layer *layer,
                           struct reader **out, struct diag *d);
void image_source_close(struct image_source *s);

/* A store the image is read from directly (image_source_open_provider). Both functions run on
 * the thread that uses the source; ctx is the pointer given at open. Messages in d name the
 * manifest or blob (the source prefixes them with the image name). */
struct image_provider {
    /* The manifest (or index) with this digest, appended to out (whose max caps it: fail with
     * -ERR_TOO_BIG past it). *media_type (owned, may stay NULL) is what the store recorded.
     * The bytes need not be verified: the source checks them against the digest.
     * -ERR_MANIFEST_UNKNOWN when the store does not have it. */
    int (*get_manifest)(void *ctx, const char *digest, struct buf *out, char **media_type,
                        struct diag *d);
    /* A blob's stored bytes as a stream (for example reader_fd_new() over an open file); size
     * is what the manifest says. The source verifies size and digest as it reads.
     * -ERR_BLOB_UNKNOWN when the store does not have it. */
    int (*open_blob)(void *ctx, const char *digest, uint64_t size, struct reader **out,
                     struct diag *d);
};

/* Open an image held by a provider: manifest_digest names its manifest or index (an index is
 * resolved to opts->platform, default linux/amd64, as for the other sources). name is for
 * display and messages ("repo@sha256:..." reads well); p and ctx are borrowed and must outlive
 * the source. Nothing is read until image_source_resolve(). Errors: -ERR_INVALID (digest not
 * "sha256:<64 hex>", a NULL function), with d set. */
int image_source_open_provider(const struct image_provider *p, void *ctx, const char *name,
                               const char *manifest_digest, const struct image_opts *opts,
                               struct image_source **out, struct diag *d);
void image_info_release(struct image_info *info);

#endif
