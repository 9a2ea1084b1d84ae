/* SPDX-License-Identifier: Apache-2.0 */
/* The Amazon ECR control API (AWS JSON 1.1, target prefix AmazonEC2ContainerRegistry_V20150921)
 * over vigil's own registry: repositories, images, tag mutability, registry login tokens and
 * image scanning, with AWS's shapes, error codes and messages, so that `aws ecr ...
 * --endpoint-url` drives vigil. Operations, deviations from ECR and examples: docs/API.md
 * ("ECR operations") and docs/internals/ecr.md. */
#ifndef VIGIL_API_ECR_H
#define VIGIL_API_ECR_H

#include <stddef.h>
#include <stdint.h>

#include "api/awsproto.h"
#include "base/err.h"
#include "registry/auth.h"
#include "registry/registry.h"
#include "store/meta.h"

#define ECR_TARGET_PREFIX     "AmazonEC2ContainerRegistry_V20150921"
#define ECR_DEFAULT_ACCOUNT   "000000000000"
#define ECR_DEFAULT_REGION    "us-east-1"
#define ECR_REPOS_MAX_DEFAULT 10000 /* repositories per registry (LimitExceededException) */
#define ECR_PAGE_DEFAULT      100   /* results per page when maxResults is absent */
#define ECR_PUBLIC_URL_MAX    512

struct scan_service;

/* Current time in unix seconds (a seam for tests). */
typedef int64_t (*ecr_now_fn)(void *ctx);

struct ecr_api_config {
    struct meta_db *db;        /* required, borrowed: the registry's metadata database */
    struct registry *registry; /* required, borrowed */
    /* Borrowed; mints GetAuthorizationToken passwords. NULL: that operation answers
     * ServerException ("registry authentication is not configured"). */
    struct reg_auth *auth;
    /* Borrowed; the scan engine behind the scanning operations. NULL: StartImageScan,
     * DescribeImageScanFindings and PutRegistryScanningConfiguration are not registered (the
     * dispatcher answers UnknownOperationException) and DescribeImages reports no scan
     * status; the scanning configuration can still be read and scanOnPush set. */
    struct scan_service *scan;
    const char *account_id; /* 12 digits (registryId, ARNs); NULL = ECR_DEFAULT_ACCOUNT */
    const char *region;     /* ARNs; NULL = ECR_DEFAULT_REGION */
    /* The registry's public base URL ("http://127.0.0.1:5000", "https://reg.example:443"):
     * proxyEndpoint of GetAuthorizationToken, and its host[:port] starts every repositoryUri
     * so that the URI is what docker/podman/skopeo push to. NULL: taken from each request's
     * Host header with "http://" (the API and the registry share one listener). */
    const char *public_url;
    size_t max_repositories; /* 0 = ECR_REPOS_MAX_DEFAULT */
    ecr_now_fn now;          /* NULL = the real clock */
    void *now_ctx;
};

/* The operation handlers' shared state. Read-only after creation: handlers run on any number
 * of HTTP threads at once (each uses its own database connection). */
struct ecr_api;

/* Check cfg (copied; strings are copied, pointers borrowed) and bring the "ecr" module's
 * tables up to date (meta_migrate: the repository settings, i.e. encryption and resource
 * tags). Errors: -ERR_INVALID (db or registry missing, account id not 12 digits, bad region or
 * public URL; d says which), and meta_migrate()'s (-ERR_DB, -ERR_VERSION, -EBUSY). */
int ecr_api_new(const struct ecr_api_config *cfg, struct ecr_api **out, struct diag *d);
/* Free. The router that holds its handlers must not dispatch any more. NULL is a no-op. */
void ecr_api_free(struct ecr_api *e);

/* Register every implemented operation on r: CreateRepository, DescribeRepositories,
 * DeleteRepository, PutImageTagMutability, ListImages, DescribeImages, BatchGetImage,
 * BatchDeleteImage, GetAuthorizationToken, PutImageScanningConfiguration,
 * GetRegistryScanningConfiguration, and with a scan service PutRegistryScanningConfiguration,
 * StartImageScan and DescribeImageScanFindings. Returns 0 or the first api_router_add_json()
 * error (-EEXIST when one is already registered). */
int ecr_api_register(struct ecr_api *e, struct api_router *r);

#endif
