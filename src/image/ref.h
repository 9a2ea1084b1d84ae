/* SPDX-License-Identifier: Apache-2.0 */
/* Image references in skopeo's transport syntax (oci:, docker-archive:, docker://) and Docker
 * names (`[HOST[:PORT]/]REPO[:TAG][@DIGEST]`) with Docker Hub's short-name rules. Pure parsing:
 * nothing here touches the disk or the network. */
#ifndef VIGIL_IMAGE_REF_H
#define VIGIL_IMAGE_REF_H

#include <stdbool.h>

#include "base/err.h"
#include "base/str.h"

#define IMAGE_REF_MAX     4096 /* longest reference accepted, in bytes */
#define DOCKER_NAME_MAX   255  /* longest domain + "/" + repository (distribution's limit) */
#define DOCKER_TAG_MAX    128
#define DOCKER_HUB_DOMAIN "docker.io"
#define DOCKER_HUB_HOST   "registry-1.docker.io"

enum image_transport {
    TRANSPORT_OCI = 1,            /* oci:DIR[:REF] */
    TRANSPORT_DOCKER_ARCHIVE = 2, /* docker-archive:FILE[:REF] */
    TRANSPORT_DOCKER = 3,         /* docker://NAME */
};

/* A parsed Docker name. All strings are owned. */
struct docker_name {
    char *domain; /* canonical: "docker.io" for Docker Hub, else "host[:port]" as written */
    char *repo;   /* path below the domain; Docker Hub single names get "library/" */
    char *tag;    /* NULL when absent (see docker_name_parse's default_tag) */
    char *digest; /* "algo:hex" or NULL */
};

/* A parsed transport reference. All strings are owned. */
struct image_ref {
    enum image_transport transport;
    char *path; /* oci: and docker-archive: the directory / file; NULL for docker:// */
    char *sub;  /* oci: the ref.name to match; docker-archive: a name:tag to match against
                 * RepoTags; NULL when absent (or when `index` is used) */
    long index; /* oci: / docker-archive: "@N" selects the N-th image; -1 when absent */
    struct docker_name name; /* docker:// only */
};

/* Parse a Docker name. With default_tag, a name without tag and digest gets tag "latest".
 * 0 or -ERR_INVALID with a message in d naming the offending part. */
int docker_name_parse(struct str s, bool default_tag, struct docker_name *out, struct diag *d);
void docker_name_release(struct docker_name *n);
/* "domain/repo[:tag][@digest]" (owned). */
char *docker_name_format(const struct docker_name *n);
/* The host[:port] to connect to: Docker Hub's "docker.io" maps to registry-1.docker.io. */
const char *docker_name_host(const struct docker_name *n);
/* Same domain, repository and tag (digests are ignored). */
bool docker_name_same_tagged(const struct docker_name *a, const struct docker_name *b);

/* Parse "oci:DIR[:REF]", "docker-archive:FILE[:REF]" or "docker://NAME". The path of the first
 * two ends at the first ':' (as in skopeo). 0 or -ERR_INVALID (-ERR_UNSUPPORTED for an unknown
 * transport) with a one-line message in d. */
int image_ref_parse(const char *s, struct image_ref *out, struct diag *d);
void image_ref_release(struct image_ref *r);

#endif
