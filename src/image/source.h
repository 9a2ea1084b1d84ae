/* SPDX-License-Identifier: Apache-2.0 */
/* Image sources: resolve a reference in skopeo's syntax to a manifest, a config and a list of
 * layers, and open blobs as digest-verified streams.
 *   oci:DIR[:REF]            OCI image layout (REF matches org.opencontainers.image.ref.name;
 *                            optional when the index holds exactly one manifest)
 *   docker-archive:FILE[:REF] `docker save` tarball (REF = a RepoTags entry; optional when one)
 *   docker://HOST[:PORT]/REPO[:TAG|@DIGEST]  registry over HTTP(S) (libcurl)
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
void image_info_release(struct image_info *info);

#endif
