/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the image sources: the backend interface (oci:, docker-archive:, docker://), the
 * common verification helpers in source.c, and pure helpers exposed for unit tests. */
#ifndef VIGIL_IMAGE_INTERNAL_H
#define VIGIL_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/reader.h"
#include "image/ref.h"
#include "image/source.h"

/* What a backend gives the common resolver. Messages in d need not name the image (source.c
 * prefixes them with the reference); they name the blob, file or URL at fault. */
struct source_ops {
    /* The top-level manifest the reference names, as bytes capped at MANIFEST_MAX_BYTES.
     * *media_type: what the container says it is (may stay NULL). *digest: the digest the
     * container claims for it (verified by the caller; may stay NULL when there is no claim). */
    int (*get_root)(struct image_source *s, struct buf *out, char **media_type, char **digest,
                    struct diag *d);
    /* A manifest by digest (an index entry): bytes capped by out->max, unverified.
     * *media_type may be set when the container says. */
    int (*get_manifest)(struct image_source *s, const char *digest, struct buf *out,
                        char **media_type, struct diag *d);
    /* A blob's stored bytes as a stream, unverified (source.c wraps it). size is what the
     * manifest says. -ERR_BLOB_UNKNOWN when the source does not have it. */
    int (*open_blob)(struct image_source *s, const char *digest, uint64_t size, struct reader **out,
                     struct diag *d);
    /* Free the backend (the struct embedding image_source included). */
    void (*destroy)(struct image_source *s);
};

/* Every backend's struct starts with this. */
struct image_source {
    const struct source_ops *ops;
    char *ref;  /* as given to image_source_open */
    char *name; /* display name chosen by the backend (may be NULL until resolve) */
    struct image_ref parsed;
    struct image_opts opts; /* its strings point at the owned copies below */
    char *own_platform;
    char *own_username;
    char *own_password;
};

/* Backend constructors: parsed and opts are borrowed (copied into the result by source.c).
 * On success *out is allocated with ops set. */
int oci_layout_new(const struct image_ref *parsed, const struct image_opts *opts,
                   struct image_source **out, struct diag *d);
int docker_archive_new(const struct image_ref *parsed, const struct image_opts *opts,
                       struct image_source **out, struct diag *d);
int registry_source_new(const struct image_ref *parsed, const struct image_opts *opts,
                        struct image_source **out, struct diag *d);

/* source.c helpers for backends. */
/* Verify bytes against a digest ("sha256:..."): 0, -ERR_DIGEST or -ERR_UNSUPPORTED (an
 * algorithm vigil does not verify). what names the blob in the message. */
int source_verify_bytes(const void *p, size_t n, const char *digest, const char *what,
                        struct diag *d);
/* "sha256:<hex>" of bytes into out[DIGEST_STR_LEN + 1]. */
void source_digest_of(const void *p, size_t n, char *out);

/* ---- docker-archive outer tar index (exposed for unit tests) ---- */

enum dar_type { DAR_FILE = 1, DAR_SYMLINK = 2, DAR_HARDLINK = 3, DAR_OTHER = 4 };

struct dar_member {
    char *name;      /* normalised: no leading "./" or "/", no empty or "." components */
    char *link;      /* symlink target as stored / hard link target (normalised); NULL otherwise */
    uint64_t offset; /* of the content in the file */
    uint64_t size;
    enum dar_type type;
};

struct dar_index {
    size_t n;
    struct dar_member *m;
};

#define DAR_MAX_MEMBERS 65536
#define DAR_MAX_NAME    4096

/* Index the members of an uncompressed tar by reading only the headers (pread) and seeking
 * over the content. file_size bounds every offset. -ERR_CORRUPT (bad checksum or number),
 * -ERR_TRUNCATED, -ERR_TOO_BIG (member count, name length), -errno. */
int dar_index_build(int fd, uint64_t file_size, struct dar_index *out, struct diag *d);
void dar_index_release(struct dar_index *ix);
/* Find a regular file by path, following symlinks (relative to the link's directory) and hard
 * links, at most 8 hops. NULL when absent, a loop, or not a regular file. */
const struct dar_member *dar_lookup(const struct dar_index *ix, const char *path);
/* Normalise an archive path ("./a//b/../c" -> "a/c"); NULL when it climbs above the root. */
char *dar_path_normalise(const char *path);

/* ---- registry helpers (exposed for unit tests) ---- */

struct auth_challenge {
    char *scheme; /* "bearer", "basic" (lower-cased); NULL when none */
    char *realm;
    char *service;
    char *scope;
};

/* Parse a WWW-Authenticate header value. Prefers a Bearer challenge when several are given.
 * 0 or -ERR_INVALID. */
int auth_challenge_parse(const char *hdr, struct auth_challenge *out);
void auth_challenge_release(struct auth_challenge *c);
/* The message of a registry's JSON error body ("CODE: message"), into out; false when the body
 * is not one. */
bool registry_error_message(const char *body, size_t n, char *out, size_t outn);

#endif
