/* SPDX-License-Identifier: Apache-2.0 */
/* ECR image scanning operations on top of the scan service (scan/service.h):
 * PutImageScanningConfiguration, Put/GetRegistryScanningConfiguration, StartImageScan,
 * DescribeImageScanFindings (basic findings or enhancedFindings, paged), and the scan status
 * and summary that DescribeImages reports. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ecr_internal.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "scan/service.h"

#define TOKEN_SCOPE_FINDINGS "ecr:DescribeImageScanFindings"
#define FINDINGS_OFFSET_MAX  10000000 /* a token never points further */

static int scan_server_error(struct api_call *call, const char *what, int rc, const char *msg)
{
    log_error("ecr", "%s: %s%s%s", what, err_str(rc), msg && *msg ? ": " : "", msg ? msg : "");
    return api_fail(call, "ServerException", "%s failed: %s", what, err_str(rc));
}

/* The image a request's imageId names in repository `repo` (already looked up). Fails the
 * call with ECR's errors when it names none. */
static int image_of(struct ecr_api *e, struct api_call *call, const struct reg_repo *repo,
                    const char *digest, const char *tag, struct ecr_image_ref *out)
{
    const char *reg_id = ecr_registry_id(e, call);
    if (!digest && !tag)
        return api_fail(call, "InvalidParameterException",
                        "Invalid parameter at 'imageId' failed to satisfy constraint: 'Invalid "
                        "request parameters: both tag and digest cannot be null'");
    if (digest && !ecr_digest_syntax_ok(digest))
        return api_fail(call, "InvalidParameterException",
                        "Invalid parameter at 'imageDigest' failed to satisfy constraint: 'Invalid "
                        "request parameters: image digest should satisfy the regex "
                        "'[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+''");
    struct meta_conn *c;
    enum ecr_resolve res;
    int rc = meta_conn_get(e->db, &c);
    if (rc == 0)
        rc = ecr_image_resolve(c, repo->id, digest, tag, &res, out);
    if (rc)
        return scan_server_error(call, "image lookup", rc, NULL);
    if (res != ECR_FOUND)
        return ecr_fail_image_not_found(call, digest, tag, repo->name, reg_id);
    return 0;
}

static json_t *status_json(enum scan_status status, const char *description)
{
    json_t *o = json_pack("{s:s}", "status", scan_status_name(status));
    if (description && *description)
        json_object_set_new(o, "description", json_string(description));
    return o;
}

/* ---- DescribeImages' scan fields --------------------------------------------------------- */

int ecr_scan_image_detail(struct ecr_api *e, const struct reg_repo *repo, const char *digest,
                          json_t *detail)
{
    if (!e->scan)
        return 0;
    struct scan_summary sum;
    int rc = scan_service_summary(e->scan, repo->name, digest, &sum);
    if (rc == -ENOENT || rc == -ERR_NOT_FOUND)
        return 0; /* never scanned (or the repository went meanwhile) */
    if (rc < 0)
        return rc;
    json_object_set_new(detail, "imageScanStatus", status_json(sum.status, sum.description));
    if (sum.has_findings) {
        json_t *s = json_object();
        aws_json_set_time(s, "imageScanCompletedAt", sum.completed_at * 1000);
        if (sum.vuln_source_updated_at)
            aws_json_set_time(s, "vulnerabilitySourceUpdatedAt", sum.vuln_source_updated_at * 1000);
        json_object_set_new(s, "findingSeverityCounts", scan_severity_counts_json(sum.counts));
        json_object_set_new(detail, "imageScanFindingsSummary", s);
    }
    return 0;
}

/* ---- PutImageScanningConfiguration ------------------------------------------------------- */

static int put_image_scanning_configuration(void *ctx, struct api_call *call)
{
    struct ecr_api *e = ctx;
    const char *name = json_string_value(json_object_get(call->input, "repositoryName"));
    bool on = json_is_true(
        json_object_get(json_object_get(call->input, "imageScanningConfiguration"), "scanOnPush"));
    struct reg_repo repo;
    int rc = ecr_repo_lookup(e, call, name, &repo);
    if (rc < 0)
        return rc;
    rc = ecr_settings_set_scan_on_push(e, repo.id, on);
    if (rc < 0)
        return scan_server_error(call, "PutImageScanningConfiguration", rc, NULL);
    call->output = json_pack("{s:s,s:s,s:{s:b}}", "registryId", e->account, "repositoryName",
                             repo.name, "imageScanningConfiguration", "scanOnPush", on);
    return 0;
}

/* ---- Put/GetRegistryScanningConfiguration ------------------------------------------------ */

static int put_registry_scanning_configuration(void *ctx, struct api_call *call)
{
    struct ecr_api *e = ctx;
    struct scan_config cfg;
    struct diag d = { 0 };
    int rc = scan_config_from_json(call->input, &cfg, &d);
    if (rc < 0) {
        /* the model's own constraints were checked by the dispatcher; what is left is the
         * service's rules (a frequency the scan type does not support, a frequency twice) */
        const char *code = strncmp(d.msg, "1 validation error", 18) == 0
                               ? "ValidationException"
                               : "InvalidParameterException";
        scan_config_release(&cfg);
        return api_fail(call, code, "%s", d.msg);
    }
    rc = scan_service_put_config(e->scan, &cfg);
    if (rc < 0) {
        scan_config_release(&cfg);
        return scan_server_error(call, "PutRegistryScanningConfiguration", rc, NULL);
    }
    call->output = json_pack("{s:o}", "registryScanningConfiguration", scan_config_to_json(&cfg));
    scan_config_release(&cfg);
    return 0;
}

static int get_registry_scanning_configuration(void *ctx, struct api_call *call)
{
    struct ecr_api *e = ctx;
    struct meta_conn *c;
    struct scan_config cfg;
    scan_config_init(&cfg);
    int rc = meta_conn_get(e->db, &c);
    if (rc == 0)
        rc = scan_config_load(c, &cfg);
    if (rc < 0) {
        scan_config_release(&cfg);
        return scan_server_error(call, "GetRegistryScanningConfiguration", rc, NULL);
    }
    call->output = json_pack("{s:s,s:o}", "registryId", e->account, "scanningConfiguration",
                             scan_config_to_json(&cfg));
    scan_config_release(&cfg);
    return 0;
}

/* ---- StartImageScan ---------------------------------------------------------------------- */

static int start_image_scan(void *ctx, struct api_call *call)
{
    struct ecr_api *e = ctx;
    const char *name = json_string_value(json_object_get(call->input, "repositoryName"));
    const char *digest, *tag;
    ecr_image_id_get(json_object_get(call->input, "imageId"), &digest, &tag);
    struct reg_repo repo;
    int rc = ecr_repo_lookup(e, call, name, &repo);
    if (rc < 0)
        return rc;
    struct ecr_image_ref img;
    rc = image_of(e, call, &repo, digest, tag, &img);
    if (rc < 0)
        return rc;
    struct scan_status_info info;
    struct diag d = { 0 };
    rc = scan_service_start_scan(e->scan, repo.name, img.digest, &info, &d);
    switch (rc) {
    case 0:
        break;
    case -ERR_NOT_FOUND:
        return ecr_fail_repo_not_found(call, name, e->account);
    case -ERR_MANIFEST_UNKNOWN:
        return ecr_fail_image_not_found(call, digest, tag, repo.name, e->account);
    case -ERR_UNSUPPORTED:
        return api_fail(call, "UnsupportedImageTypeException", "%s", d.msg);
    case SCAN_ERR_LIMIT:
        return api_fail(call, "LimitExceededException",
                        "The scan quota per image has been exceeded. Wait and try again.");
    default:
        return scan_server_error(call, "StartImageScan", rc, d.msg);
    }
    call->output = json_pack("{s:s,s:s,s:o,s:o}", "registryId", e->account, "repositoryName",
                             repo.name, "imageId", ecr_image_id_json(img.digest, tag),
                             "imageScanStatus", status_json(info.status, info.description));
    return 0;
}

/* ---- DescribeImageScanFindings ----------------------------------------------------------- */

static int fail_scan_not_found(struct api_call *call, const char *digest, const char *tag,
                               const char *repo, const char *registry_id)
{
    struct buf id;
    buf_init(&id, 1024);
    ecr_image_id_text(&id, digest, tag);
    int rc = api_fail(call, "ScanNotFoundException",
                      "Image scan does not exist for the image with '%s' in the repository with "
                      "name '%s' in the registry with id '%s'",
                      buf_cstr(&id), repo, registry_id);
    buf_release(&id);
    return rc;
}

/* The page a token asks for: it must come from this operation for the same image. */
static int findings_offset(struct api_call *call, const char *repo, const char *digest,
                           size_t *offset)
{
    *offset = 0;
    const char *token = json_string_value(json_object_get(call->input, "nextToken"));
    if (!token)
        return 0;
    json_t *state;
    if (aws_page_token_decode(TOKEN_SCOPE_FINDINGS, token, &state) < 0)
        return api_fail_next_token(call);
    const char *r = json_string_value(json_object_get(state, "repo"));
    const char *d = json_string_value(json_object_get(state, "digest"));
    json_t *o = json_object_get(state, "offset");
    bool ok = r && d && strcmp(r, repo) == 0 && strcmp(d, digest) == 0 && json_is_integer(o) &&
              json_integer_value(o) > 0 && json_integer_value(o) <= FINDINGS_OFFSET_MAX;
    if (ok)
        *offset = (size_t)json_integer_value(o);
    json_decref(state);
    return ok ? 0 : api_fail_next_token(call);
}

static int describe_image_scan_findings(void *ctx, struct api_call *call)
{
    struct ecr_api *e = ctx;
    const char *name = json_string_value(json_object_get(call->input, "repositoryName"));
    const char *digest, *tag;
    ecr_image_id_get(json_object_get(call->input, "imageId"), &digest, &tag);
    struct reg_repo repo;
    int rc = ecr_repo_lookup(e, call, name, &repo);
    if (rc < 0)
        return rc;
    struct ecr_image_ref img;
    rc = image_of(e, call, &repo, digest, tag, &img);
    if (rc < 0)
        return rc;
    size_t offset;
    rc = findings_offset(call, repo.name, img.digest, &offset);
    if (rc < 0)
        return rc;
    size_t limit = ecr_max_results(call);
    struct scan_summary sum;
    json_t *findings = NULL;
    bool more = false;
    struct diag d = { 0 };
    rc = scan_service_findings(e->scan, repo.name, img.digest, offset, limit, &sum, &findings,
                               &more, &d);
    if (rc == -ENOENT)
        return fail_scan_not_found(call, digest, tag, repo.name, e->account);
    if (rc == -ERR_NOT_FOUND)
        return ecr_fail_repo_not_found(call, name, e->account);
    if (rc < 0)
        return scan_server_error(call, "DescribeImageScanFindings", rc, d.msg);
    json_t *out = json_object();
    json_object_set_new(out, "registryId", json_string(e->account));
    json_object_set_new(out, "repositoryName", json_string(repo.name));
    json_object_set_new(out, "imageId", ecr_image_id_json(img.digest, tag));
    json_object_set_new(out, "imageScanStatus", status_json(sum.status, sum.description));
    if (findings)
        json_object_set_new(out, "imageScanFindings", findings);
    if (findings && more) {
        json_t *state = json_pack("{s:s,s:s,s:I}", "repo", repo.name, "digest", img.digest,
                                  "offset", (json_int_t)(offset + limit));
        char *next = aws_page_token_encode(TOKEN_SCOPE_FINDINGS, state);
        json_decref(state);
        if (next)
            json_object_set_new(out, "nextToken", json_string(next));
        free(next);
    }
    call->output = out;
    return 0;
}

/* ---- Registration ------------------------------------------------------------------------ */

/* The configuration tables are the metadata database's, so reading them and the repository
 * flag need no running service; storing the registry configuration does (it queues scans). */
static const struct {
    const char *name;
    api_handler_fn fn;
    bool needs_service;
} scan_ops[] = {
    { "PutImageScanningConfiguration", put_image_scanning_configuration, false },
    { "GetRegistryScanningConfiguration", get_registry_scanning_configuration, false },
    { "PutRegistryScanningConfiguration", put_registry_scanning_configuration, true },
    { "StartImageScan", start_image_scan, true },
    { "DescribeImageScanFindings", describe_image_scan_findings, true },
};

int ecr_scan_register(struct ecr_api *e, struct api_router *r)
{
    for (size_t i = 0; i < ARRAY_SIZE(scan_ops); i++) {
        if (scan_ops[i].needs_service && !e->scan)
            continue;
        int rc = api_router_add_json(r, ECR_TARGET_PREFIX, scan_ops[i].name, scan_ops[i].fn, e);
        if (rc < 0) {
            log_error("ecr", "cannot register %s: %s", scan_ops[i].name, err_str(rc));
            return rc;
        }
    }
    return 0;
}
