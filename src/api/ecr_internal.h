/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the ECR control API: the shared state, the registryId / repository lookups with
 * AWS's errors, the Repository shape, ECR's image-id texts and the per-repository settings
 * table. Used by ecr.c (repositories, login), ecr_images.c and ecr_scan.c. */
#ifndef VIGIL_API_ECR_INTERNAL_H
#define VIGIL_API_ECR_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/ecr.h"

struct ecr_api {
    struct meta_db *db;
    struct registry *reg;
    struct reg_auth *auth;
    struct scan_service *scan;
    char account[13];
    char region[64];
    char *public_url;  /* owned, without a trailing '/'; NULL = from the Host header */
    char *public_host; /* owned: host[:port] of public_url */
    size_t max_repos;
    ecr_now_fn now;
    void *now_ctx;
};

int64_t ecr_now(const struct ecr_api *e);

/* The registryId a request names, or the account's own when absent. */
const char *ecr_registry_id(const struct ecr_api *e, const struct api_call *call);
bool ecr_is_own_registry(const struct ecr_api *e, const char *registry_id);

/* Look up the repository `name` (the request's repositoryName) in the registry the request
 * names. Returns 0 with *out filled, or fails the call with RepositoryNotFoundException
 * ("The repository with name 'x' does not exist in the registry with id 'y'") for a missing
 * repository or a foreign registry id, ServerException otherwise. */
int ecr_repo_lookup(struct ecr_api *e, struct api_call *call, const char *name,
                    struct reg_repo *out);
int ecr_fail_repo_not_found(struct api_call *call, const char *name, const char *registry_id);

/* The repository's host[:port] for repositoryUri (public_url's, else the request's Host
 * header when it is a plain host[:port], else "localhost"), in the request arena. */
const char *ecr_public_host(const struct ecr_api *e, const struct api_call *call);

/* ECR settings of a repository that the registry does not keep. */
struct ecr_repo_settings {
    bool scan_on_push; /* the repository-level flag, kept by the scan service */
};
/* Read the settings of repository id (defaults when it has none). 0 or -ERR_DB. */
int ecr_settings_get(struct ecr_api *e, int64_t repo_id, struct ecr_repo_settings *out);
/* Write the repository's scanOnPush flag. 0 or -ERR_DB. */
int ecr_settings_set_scan_on_push(struct ecr_api *e, int64_t repo_id, bool scan_on_push);

/* The Repository shape (repositoryArn, registryId, repositoryName, repositoryUri, createdAt,
 * imageTagMutability, imageScanningConfiguration, encryptionConfiguration). New reference. */
json_t *ecr_repository_json(const struct ecr_api *e, const struct api_call *call,
                            const struct reg_repo *repo, const struct ecr_repo_settings *s);

/* ECR's spelling of an image id in messages: {imageDigest:'<d|null>', imageTag:'<t|null>'}.
 * Appended to *out. */
void ecr_image_id_text(struct buf *out, const char *digest, const char *tag);
/* ImageNotFoundException "The image with imageId {...} does not exist within the repository
 * with name 'r' in the registry with id 'a'". Returns -ERR_INVALID. */
int ecr_fail_image_not_found(struct api_call *call, const char *digest, const char *tag,
                             const char *repo, const char *registry_id);

/* An image id from the request: imageDigest and imageTag members (each may be NULL). */
void ecr_image_id_get(json_t *image_id, const char **digest, const char **tag);
/* A new ImageIdentifier object with the members that are not NULL. */
json_t *ecr_image_id_json(const char *digest, const char *tag);
/* ECR's syntax for image digests: [a-zA-Z0-9-_+.]+:[a-fA-F0-9]+ */
bool ecr_digest_syntax_ok(const char *digest);

/* A manifest of a repository found by tag and/or digest. */
enum ecr_resolve {
    ECR_FOUND = 0,
    ECR_NOT_FOUND,    /* no such tag or digest (or neither matches) */
    ECR_TAG_MISMATCH, /* the tag exists but names another digest */
};
struct ecr_image_ref {
    int64_t id;
    char digest[DIGEST_STR_LEN + 1];
};
/* Resolve (digest, tag) in repo_id. Returns 0 with *result set (and *out when FOUND), or
 * -ERR_DB. */
int ecr_image_resolve(struct meta_conn *c, int64_t repo_id, const char *digest, const char *tag,
                      enum ecr_resolve *result, struct ecr_image_ref *out);

/* maxResults of the request, or ECR_PAGE_DEFAULT. */
size_t ecr_max_results(const struct api_call *call);

/* ecr_scan.c: add imageScanStatus and imageScanFindingsSummary of the image `digest` to an
 * ImageDetail object (nothing when it was never scanned). 0 or a negative code. */
int ecr_scan_image_detail(struct ecr_api *e, const struct reg_repo *repo, const char *digest,
                          json_t *detail);

/* Register the scanning operations (ecr_scan.c); those that need the scan service only when
 * e->scan is set. 0 or the router's error. */
int ecr_scan_register(struct ecr_api *e, struct api_router *r);

/* Handlers of ecr_images.c. */
int ecr_list_images(void *ctx, struct api_call *call);
int ecr_describe_images(void *ctx, struct api_call *call);
int ecr_batch_get_image(void *ctx, struct api_call *call);
int ecr_batch_delete_image(void *ctx, struct api_call *call);

#endif
