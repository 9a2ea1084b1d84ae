/* SPDX-License-Identifier: Apache-2.0 */
/* ECR image operations over the registry's tables: ListImages, DescribeImages (sizes as ECR
 * counts them), BatchGetImage (the manifest exactly as pushed) and BatchDeleteImage (per-image
 * failures, last-tag removal deletes the image). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ecr_internal.h"
#include "base/log.h"
#include "base/vec.h"
#include "base/xalloc.h"
#include "image/manifest.h"

#define TOKEN_SCOPE_LIST     "ecr:ListImages"
#define TOKEN_SCOPE_DESCRIBE "ecr:DescribeImages"
#define SIZE_DEPTH_MAX       4           /* index -> index -> manifest nesting we follow */
#define BATCH_BYTES_MAX      (16u << 20) /* manifest text in one BatchGetImage answer */

#define DIGEST_REGEX_REASON                                              \
    "Invalid request parameters: image digest should satisfy the regex " \
    "'[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'"

enum tag_status {
    TAG_ANY = 0,
    TAG_TAGGED = 1,
    TAG_UNTAGGED = 2,
};

static enum tag_status tag_status(const struct api_call *call)
{
    const char *s =
        json_string_value(json_object_get(json_object_get(call->input, "filter"), "tagStatus"));
    if (s && strcmp(s, "TAGGED") == 0)
        return TAG_TAGGED;
    if (s && strcmp(s, "UNTAGGED") == 0)
        return TAG_UNTAGGED;
    return TAG_ANY;
}

static int server_error(struct api_call *call, const char *what, int rc)
{
    log_error("ecr", "%s: %s", what, err_str(rc));
    return api_fail(call, "ServerException", "%s failed: %s", what, err_str(rc));
}

/* Decode a page token of this operation, which must have been issued for the same
 * repository and filter. Returns 0 and the position, or fails the call. */
static int page_start(struct api_call *call, const char *scope, const char *repo,
                      enum tag_status status, int64_t *after_id, char **after_tag)
{
    *after_id = 0;
    if (after_tag)
        *after_tag = NULL;
    const char *token = json_string_value(json_object_get(call->input, "nextToken"));
    if (!token)
        return 0;
    json_t *state;
    if (aws_page_token_decode(scope, token, &state) < 0)
        return api_fail_next_token(call);
    const char *r = json_string_value(json_object_get(state, "repo"));
    json_t *st = json_object_get(state, "status");
    json_t *m = json_object_get(state, "m");
    const char *t = json_string_value(json_object_get(state, "t"));
    bool ok = r && strcmp(r, repo) == 0 && json_is_integer(st) &&
              json_integer_value(st) == (json_int_t)status && json_is_integer(m) &&
              json_integer_value(m) >= 0 && (!after_tag || t);
    if (ok) {
        *after_id = (int64_t)json_integer_value(m);
        if (after_tag)
            *after_tag = xstrdup(t);
    }
    json_decref(state);
    return ok ? 0 : api_fail_next_token(call);
}

static void page_finish(struct api_call *call, const char *scope, const char *repo,
                        enum tag_status status, int64_t last_id, const char *last_tag)
{
    json_t *state =
        json_pack("{s:s,s:i,s:I}", "repo", repo, "status", (int)status, "m", (json_int_t)last_id);
    if (last_tag)
        json_object_set_new(state, "t", json_string(last_tag));
    char *next = aws_page_token_encode(scope, state);
    json_decref(state);
    if (next)
        json_object_set_new(call->output, "nextToken", json_string(next));
    free(next);
}

/* ---- ListImages ------------------------------------------------------------------------- */

int ecr_list_images(void *ctx, struct api_call *call)
{
    struct ecr_api *e = ctx;
    const char *name = json_string_value(json_object_get(call->input, "repositoryName"));
    struct reg_repo repo;
    int rc = ecr_repo_lookup(e, call, name, &repo);
    if (rc < 0)
        return rc;
    enum tag_status status = tag_status(call);
    int64_t after_id;
    char *after_tag;
    rc = page_start(call, TOKEN_SCOPE_LIST, name, status, &after_id, &after_tag);
    if (rc < 0)
        return rc;
    size_t want = ecr_max_results(call);
    struct meta_conn *c;
    sqlite3_stmt *st;
    rc = meta_conn_get(e->db, &c);
    /* one row per (manifest, tag); an untagged manifest is one row with a NULL tag. Ordered
     * by (manifest id, tag) so that a page ends at a position the next one resumes from. */
    if (rc == 0)
        rc = meta_stmt(c,
                       "SELECT m.id, m.digest, t.name FROM manifests m "
                       "LEFT JOIN tags t ON t.manifest_id = m.id "
                       "WHERE m.repo_id = ?1 AND m.id >= ?2 "
                       "AND (m.id > ?2 OR coalesce(t.name, '') > ?3) "
                       "AND (?4 = 0 OR (?4 = 1 AND t.name IS NOT NULL) "
                       "OR (?4 = 2 AND t.name IS NULL)) "
                       "ORDER BY m.id, coalesce(t.name, '') LIMIT ?5",
                       &st);
    if (rc) {
        free(after_tag);
        return server_error(call, "ListImages", rc);
    }
    meta_bind_int(st, 1, repo.id);
    meta_bind_int(st, 2, after_id);
    meta_bind_text(st, 3, after_tag ? after_tag : "");
    meta_bind_int(st, 4, status);
    meta_bind_int(st, 5, (int64_t)want + 1);
    free(after_tag);
    json_t *ids = json_array();
    call->output = json_pack("{s:o}", "imageIds", ids);
    int64_t last_id = 0;
    char last_tag[REG_NAME_MAX + 1] = "";
    bool more = false;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (json_array_size(ids) == want) {
            more = true;
            break;
        }
        const char *digest = (const char *)sqlite3_column_text(st, 1);
        const char *tag = (const char *)sqlite3_column_text(st, 2);
        json_array_append_new(ids, ecr_image_id_json(digest, tag));
        last_id = sqlite3_column_int64(st, 0);
        snprintf(last_tag, sizeof(last_tag), "%s", tag ? tag : "");
    }
    if (s != SQLITE_ROW && s != SQLITE_DONE)
        rc = meta_err(c, s, "list images");
    meta_done(st);
    if (rc)
        return server_error(call, "ListImages", rc);
    if (more)
        page_finish(call, TOKEN_SCOPE_LIST, name, status, last_id, last_tag);
    return 0;
}

/* ---- DescribeImages --------------------------------------------------------------------- */

/* A manifest row, copied out of SQLite. */
struct mrow {
    int64_t id;
    char *digest, *media_type, *artifact_type; /* artifact_type may be NULL */
    char *content;
    size_t size;
    int64_t created_at;
};

static void mrow_release(struct mrow *m)
{
    free(m->digest);
    free(m->media_type);
    free(m->artifact_type);
    free(m->content);
    memset(m, 0, sizeof(*m));
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL
               ? NULL
               : xstrdup((const char *)sqlite3_column_text(st, i));
}

#define MROW_COLUMNS "id, digest, media_type, created_at, artifact_type, content"

static void mrow_fill(sqlite3_stmt *st, struct mrow *m)
{
    m->id = sqlite3_column_int64(st, 0);
    m->digest = col_dup(st, 1);
    m->media_type = col_dup(st, 2);
    m->created_at = sqlite3_column_int64(st, 3);
    m->artifact_type = col_dup(st, 4);
    m->size = (size_t)sqlite3_column_bytes(st, 5);
    m->content = xmalloc(m->size + 1);
    if (m->size)
        memcpy(m->content, sqlite3_column_blob(st, 5), m->size);
    m->content[m->size] = '\0';
}

static int mrow_by_id(struct meta_conn *c, int64_t id, struct mrow *out, bool *found)
{
    sqlite3_stmt *st;
    *found = false;
    int rc = meta_stmt(c, "SELECT " MROW_COLUMNS " FROM manifests WHERE id = ?1", &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, id);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        mrow_fill(st, out);
        *found = true;
    } else if (s != SQLITE_DONE) {
        rc = meta_err(c, s, "manifest");
    }
    meta_done(st);
    return rc;
}

/* Content of the manifest `digest` of repository repo_id (owned), or NULL. */
static char *child_content(struct meta_conn *c, int64_t repo_id, const char *digest, size_t *len)
{
    sqlite3_stmt *st;
    if (meta_stmt(c, "SELECT content FROM manifests WHERE repo_id = ?1 AND digest = ?2", &st))
        return NULL;
    meta_bind_int(st, 1, repo_id);
    meta_bind_text(st, 2, digest);
    char *out = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *len = (size_t)sqlite3_column_bytes(st, 0);
        out = xmalloc(*len + 1);
        if (*len)
            memcpy(out, sqlite3_column_blob(st, 0), *len);
        out[*len] = '\0';
    }
    meta_done(st);
    return out;
}

static uint64_t descriptor_size(json_t *d)
{
    json_t *v = json_object_get(d, "size");
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

/* imageSizeInBytes as ECR reports it: for an image manifest, the config blob plus every layer
 * (the sizes the manifest declares, i.e. compressed); for an index or manifest list, the
 * largest of its manifests that the repository holds (the model's documentation). The CLI
 * examples show it: cluster-autoscaler v1.13.6 has layers of 17743696 + 2565026 + 28005981 +
 * 775 bytes and a 2777-byte config, and DescribeImages reports 48318255. */
static uint64_t manifest_size(struct meta_conn *c, int64_t repo_id, const char *content, size_t len,
                              int depth)
{
    json_t *doc = json_loadb(content, len, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return 0;
    }
    uint64_t total = 0;
    json_t *children = json_object_get(doc, "manifests");
    if (json_is_array(children) && !json_object_get(doc, "layers")) {
        for (size_t i = 0; i < json_array_size(children) && depth < SIZE_DEPTH_MAX; i++) {
            const char *d =
                json_string_value(json_object_get(json_array_get(children, i), "digest"));
            size_t clen = 0;
            char *cc = d ? child_content(c, repo_id, d, &clen) : NULL;
            if (!cc)
                continue;
            uint64_t s = manifest_size(c, repo_id, cc, clen, depth + 1);
            free(cc);
            if (s > total)
                total = s;
        }
    } else {
        total = descriptor_size(json_object_get(doc, "config"));
        json_t *layers = json_object_get(doc, "layers");
        if (!json_is_array(layers))
            layers = json_object_get(doc, "blobs"); /* OCI artifact manifests */
        for (size_t i = 0; i < json_array_size(layers); i++)
            total += descriptor_size(json_array_get(layers, i));
    }
    json_decref(doc);
    return total;
}

static int tags_of(struct meta_conn *c, int64_t manifest_id, json_t *out)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c, "SELECT name FROM tags WHERE manifest_id = ?1 ORDER BY name", &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, manifest_id);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW)
        json_array_append_new(out, json_string((const char *)sqlite3_column_text(st, 0)));
    if (s != SQLITE_DONE)
        rc = meta_err(c, s, "tags of manifest");
    meta_done(st);
    return rc;
}

static int image_detail(struct ecr_api *e, struct meta_conn *c, const struct reg_repo *repo,
                        const struct mrow *m, json_t **out)
{
    json_t *tags = json_array();
    int rc = tags_of(c, m->id, tags);
    if (rc) {
        json_decref(tags);
        return rc;
    }
    json_t *d = json_object();
    json_object_set_new(d, "registryId", json_string(e->account));
    json_object_set_new(d, "repositoryName", json_string(repo->name));
    json_object_set_new(d, "imageDigest", json_string(m->digest));
    if (json_array_size(tags))
        json_object_set_new(d, "imageTags", tags);
    else
        json_decref(tags);
    json_object_set_new(
        d, "imageSizeInBytes",
        json_integer((json_int_t)manifest_size(c, repo->id, m->content, m->size, 0)));
    aws_json_set_time(d, "imagePushedAt", m->created_at * 1000);
    if (e->scan) {
        rc = ecr_scan_image_detail(e, repo, m->digest, d);
        if (rc < 0) {
            json_decref(d);
            return rc;
        }
    }
    json_object_set_new(d, "imageManifestMediaType", json_string(m->media_type));
    if (m->artifact_type)
        json_object_set_new(d, "artifactMediaType", json_string(m->artifact_type));
    *out = d;
    return 0;
}

static int describe_by_ids(struct ecr_api *e, struct api_call *call, struct meta_conn *c,
                           const struct reg_repo *repo, json_t *ids, json_t *details)
{
    VEC(int64_t) seen = VEC_INIT;
    const char *reg_id = ecr_registry_id(e, call);
    int rc = 0;
    for (size_t i = 0; i < json_array_size(ids) && rc == 0; i++) {
        const char *digest, *tag;
        ecr_image_id_get(json_array_get(ids, i), &digest, &tag);
        if (!digest && !tag) {
            rc = api_fail(call, "InvalidParameterException",
                          "Invalid parameter at 'imageIds' failed to satisfy constraint: 'Invalid "
                          "request parameters: both tag and digest cannot be null'");
            break;
        }
        if (digest && !ecr_digest_syntax_ok(digest)) {
            rc = api_fail(call, "InvalidParameterException", "%s", DIGEST_REGEX_REASON);
            break;
        }
        enum ecr_resolve res;
        struct ecr_image_ref ref;
        rc = ecr_image_resolve(c, repo->id, digest, tag, &res, &ref);
        if (rc) {
            rc = server_error(call, "DescribeImages", rc);
            break;
        }
        if (res != ECR_FOUND) {
            rc = ecr_fail_image_not_found(call, digest, tag, repo->name, reg_id);
            break;
        }
        bool dup = false;
        for (size_t j = 0; j < seen.n && !dup; j++)
            dup = seen.v[j] == ref.id;
        if (dup)
            continue;
        VEC_PUSH(&seen, ref.id);
        struct mrow m = { 0 };
        bool found;
        rc = mrow_by_id(c, ref.id, &m, &found);
        if (rc == 0 && !found) {
            rc = ecr_fail_image_not_found(call, digest, tag, repo->name, reg_id);
            break;
        }
        json_t *d = NULL;
        if (rc == 0)
            rc = image_detail(e, c, repo, &m, &d);
        mrow_release(&m);
        if (rc) {
            rc = call->failed ? rc : server_error(call, "DescribeImages", rc);
            break;
        }
        json_array_append_new(details, d);
    }
    VEC_FREE(&seen);
    return rc;
}

int ecr_describe_images(void *ctx, struct api_call *call)
{
    struct ecr_api *e = ctx;
    json_t *in = call->input;
    const char *name = json_string_value(json_object_get(in, "repositoryName"));
    json_t *ids = json_object_get(in, "imageIds");
    struct reg_repo repo;
    int rc = ecr_repo_lookup(e, call, name, &repo);
    if (rc < 0)
        return rc;
    if (ids && (json_object_get(in, "nextToken") || json_object_get(in, "maxResults")))
        return api_fail(call, "InvalidParameterException",
                        "Invalid parameter: nextToken and maxResults cannot be used with "
                        "imageIds");
    struct meta_conn *c;
    rc = meta_conn_get(e->db, &c);
    if (rc)
        return server_error(call, "DescribeImages", rc);
    json_t *details = json_array();
    call->output = json_pack("{s:o}", "imageDetails", details);
    if (ids)
        return describe_by_ids(e, call, c, &repo, ids, details);

    enum tag_status status = tag_status(call);
    int64_t after_id;
    rc = page_start(call, TOKEN_SCOPE_DESCRIBE, name, status, &after_id, NULL);
    if (rc < 0)
        return rc;
    size_t want = ecr_max_results(call);
    sqlite3_stmt *st;
    rc = meta_stmt(c,
                   "SELECT " MROW_COLUMNS " FROM manifests m WHERE repo_id = ?1 AND id > ?2 "
                   "AND (?3 = 0 "
                   "OR (?3 = 1 AND EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = m.id)) "
                   "OR (?3 = 2 AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = m.id))) "
                   "ORDER BY id LIMIT ?4",
                   &st);
    if (rc)
        return server_error(call, "DescribeImages", rc);
    meta_bind_int(st, 1, repo.id);
    meta_bind_int(st, 2, after_id);
    meta_bind_int(st, 3, status);
    meta_bind_int(st, 4, (int64_t)want + 1);
    /* copy the page out first: the details run their own statements */
    VEC(struct mrow) rows = VEC_INIT;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        struct mrow m = { 0 };
        mrow_fill(st, &m);
        VEC_PUSH(&rows, m);
    }
    if (s != SQLITE_DONE)
        rc = meta_err(c, s, "describe images");
    meta_done(st);
    bool more = rows.n > want;
    for (size_t i = 0; i < rows.n && i < want && rc == 0; i++) {
        json_t *d = NULL;
        rc = image_detail(e, c, &repo, &rows.v[i], &d);
        if (rc == 0)
            json_array_append_new(details, d);
    }
    int64_t last_id = rows.n ? rows.v[rows.n > want ? want - 1 : rows.n - 1].id : 0;
    for (size_t i = 0; i < rows.n; i++)
        mrow_release(&rows.v[i]);
    VEC_FREE(&rows);
    if (rc)
        return call->failed ? rc : server_error(call, "DescribeImages", rc);
    if (more)
        page_finish(call, TOKEN_SCOPE_DESCRIBE, name, status, last_id, NULL);
    return 0;
}

/* ---- BatchGetImage ---------------------------------------------------------------------- */

static json_t *failure(json_t *image_id, const char *code, const char *reason)
{
    return json_pack("{s:O,s:s,s:s}", "imageId", image_id, "failureCode", code, "failureReason",
                     reason);
}

static bool media_type_accepted(json_t *accepted, const char *mt)
{
    if (!accepted)
        return true;
    for (size_t i = 0; i < json_array_size(accepted); i++) {
        const char *a = json_string_value(json_array_get(accepted, i));
        if (a && strcmp(a, mt) == 0)
            return true;
    }
    return false;
}

int ecr_batch_get_image(void *ctx, struct api_call *call)
{
    struct ecr_api *e = ctx;
    json_t *in = call->input;
    const char *name = json_string_value(json_object_get(in, "repositoryName"));
    json_t *ids = json_object_get(in, "imageIds");
    json_t *accepted = json_object_get(in, "acceptedMediaTypes");
    struct reg_repo repo;
    int rc = ecr_repo_lookup(e, call, name, &repo);
    if (rc < 0)
        return rc;
    struct meta_conn *c;
    rc = meta_conn_get(e->db, &c);
    if (rc)
        return server_error(call, "BatchGetImage", rc);
    json_t *images = json_array(), *failures = json_array();
    call->output = json_pack("{s:o,s:o}", "images", images, "failures", failures);
    size_t bytes = 0;
    for (size_t i = 0; i < json_array_size(ids); i++) {
        json_t *id = json_array_get(ids, i);
        const char *digest, *tag;
        ecr_image_id_get(id, &digest, &tag);
        if (!digest && !tag) {
            json_array_append_new(failures,
                                  failure(id, "MissingDigestAndTag",
                                          "Invalid request parameters: both tag and digest "
                                          "cannot be null"));
            continue;
        }
        if (digest && !ecr_digest_syntax_ok(digest)) {
            json_array_append_new(failures, failure(id, "InvalidImageDigest", DIGEST_REGEX_REASON));
            continue;
        }
        enum ecr_resolve res;
        struct ecr_image_ref ref;
        rc = ecr_image_resolve(c, repo.id, digest, tag, &res, &ref);
        if (rc)
            return server_error(call, "BatchGetImage", rc);
        if (res == ECR_TAG_MISMATCH) {
            json_array_append_new(failures,
                                  failure(id, "ImageTagDoesNotMatchDigest",
                                          "Invalid request parameters: given tag does not map to "
                                          "the given digest"));
            continue;
        }
        struct mrow m = { 0 };
        bool found = false;
        if (res == ECR_FOUND && (rc = mrow_by_id(c, ref.id, &m, &found)) != 0)
            return server_error(call, "BatchGetImage", rc);
        if (!found) {
            json_array_append_new(failures,
                                  failure(id, "ImageNotFound", "Requested image not found"));
            continue;
        }
        if (!media_type_accepted(accepted, m.media_type)) {
            json_array_append_new(failures,
                                  failure(id, "ImageNotFound",
                                          "Requested image not found in any of the accepted "
                                          "media types"));
            mrow_release(&m);
            continue;
        }
        bytes += m.size;
        if (bytes > BATCH_BYTES_MAX) {
            mrow_release(&m);
            return api_fail(call, "InvalidParameterException",
                            "Invalid parameter at 'imageIds' failed to satisfy constraint: 'The "
                            "manifests asked for exceed %u bytes; ask for fewer images'",
                            BATCH_BYTES_MAX);
        }
        /* manifests were parsed as JSON when pushed, so the text is UTF-8 */
        json_t *text = json_stringn(m.content, m.size);
        if (!text) {
            mrow_release(&m);
            return server_error(call, "BatchGetImage", -ERR_CORRUPT);
        }
        json_t *img = json_object();
        json_object_set_new(img, "registryId", json_string(e->account));
        json_object_set_new(img, "repositoryName", json_string(repo.name));
        json_object_set_new(img, "imageId", ecr_image_id_json(m.digest, tag));
        json_object_set_new(img, "imageManifest", text);
        json_object_set_new(img, "imageManifestMediaType", json_string(m.media_type));
        json_array_append_new(images, img);
        mrow_release(&m);
    }
    return 0;
}

/* ---- BatchDeleteImage ------------------------------------------------------------------- */

enum del_kind {
    DEL_FAIL,
    DEL_MANIFEST, /* by digest: the image and every tag */
    DEL_TAG,      /* by tag (and matching digest): the tag; the image too when it was the last */
};

struct del_action {
    enum del_kind kind;
    json_t *image_id; /* borrowed from the input */
    struct ecr_image_ref ref;
    const char *tag;
};

/* Digests of manifests of the repository that list `digest` in their manifests[] and are not
 * about to be deleted themselves. Appended to *out as "[d1, d2]"; true when there is one. */
static int referencing_indexes(struct meta_conn *c, int64_t repo_id, const char *digest,
                               const struct del_action *acts, size_t nacts, struct buf *out,
                               bool *any)
{
    sqlite3_stmt *st;
    *any = false;
    int rc = meta_stmt(c,
                       "SELECT p.id, p.digest FROM manifest_refs r "
                       "JOIN manifests p ON p.id = r.manifest_id "
                       "WHERE p.repo_id = ?1 AND r.digest = ?2 AND r.is_manifest = 1 "
                       "ORDER BY p.id",
                       &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, repo_id);
    meta_bind_text(st, 2, digest);
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t pid = sqlite3_column_int64(st, 0);
        bool going = false;
        for (size_t i = 0; i < nacts && !going; i++)
            going = acts[i].kind == DEL_MANIFEST && acts[i].ref.id == pid;
        if (going)
            continue;
        buf_printf(out, "%s%s", *any ? ", " : "[", (const char *)sqlite3_column_text(st, 1));
        *any = true;
    }
    if (s != SQLITE_DONE)
        rc = meta_err(c, s, "manifest references");
    meta_done(st);
    if (*any)
        buf_putc(out, ']');
    return rc;
}

static int tag_count(struct meta_conn *c, int64_t manifest_id, int64_t *n)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c, "SELECT count(*) FROM tags WHERE manifest_id = ?1", &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, manifest_id);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW)
        *n = sqlite3_column_int64(st, 0);
    else
        rc = meta_err(c, s, "tag count");
    meta_done(st);
    return rc;
}

struct del_state {
    struct ecr_api *e;
    struct api_call *call;
    struct meta_conn *c;
    const struct reg_repo *repo;
    struct del_action *acts;
    size_t nacts;
    VEC(int64_t) deleted; /* manifest ids gone in this batch */
    json_t *ids, *failures;
};

static bool was_deleted(const struct del_state *d, int64_t id)
{
    for (size_t i = 0; i < d->deleted.n; i++)
        if (d->deleted.v[i] == id)
            return true;
    return false;
}

/* Delete manifest ref (all its tags), reporting one imageId per tag (or the bare digest). On a
 * manifest an index of the repository still lists, report ImageReferencedByManifestList. */
static int delete_manifest(struct del_state *d, const struct del_action *a)
{
    struct buf refs;
    buf_init(&refs, 64 * 1024);
    bool referenced;
    int rc = referencing_indexes(d->c, d->repo->id, a->ref.digest, d->acts, d->nacts, &refs,
                                 &referenced);
    if (rc == 0 && referenced) {
        struct buf reason;
        buf_init(&reason, 72 * 1024);
        buf_printf(&reason, "Requested image referenced by manifest list: %s", buf_cstr(&refs));
        json_array_append_new(
            d->failures, failure(a->image_id, "ImageReferencedByManifestList", buf_cstr(&reason)));
        buf_release(&reason);
        buf_release(&refs);
        return 0;
    }
    buf_release(&refs);
    json_t *tags = json_array();
    if (rc == 0)
        rc = tags_of(d->c, a->ref.id, tags);
    if (rc) {
        json_decref(tags);
        return rc;
    }
    struct reg_error err = { 0 };
    rc = registry_manifest_delete(d->e->reg, d->repo->name, a->ref.digest, &err);
    if (rc == 0) {
        VEC_PUSH(&d->deleted, a->ref.id);
        for (size_t i = 0; i < json_array_size(tags); i++)
            json_array_append_new(
                d->ids,
                ecr_image_id_json(a->ref.digest, json_string_value(json_array_get(tags, i))));
        if (json_array_size(tags) == 0)
            json_array_append_new(d->ids, ecr_image_id_json(a->ref.digest, NULL));
    } else if (err.code && strcmp(err.code, "MANIFEST_UNKNOWN") == 0) {
        /* deleted by someone else meanwhile */
        json_array_append_new(d->failures,
                              failure(a->image_id, "ImageNotFound", "Requested image not found"));
        rc = 0;
    }
    json_decref(tags);
    return rc;
}

/* Remove a tag; when it was the image's last one, the image goes too (ECR's rule), unless an
 * index of the repository still lists it. */
static int delete_tag(struct del_state *d, const struct del_action *a)
{
    struct reg_error err = { 0 };
    int rc = registry_manifest_delete(d->e->reg, d->repo->name, a->tag, &err);
    if (rc != 0) {
        if (err.code && strcmp(err.code, "MANIFEST_UNKNOWN") == 0) {
            json_array_append_new(
                d->failures, failure(a->image_id, "ImageNotFound", "Requested image not found"));
            return 0;
        }
        return rc;
    }
    json_array_append_new(d->ids, ecr_image_id_json(a->ref.digest, a->tag));
    int64_t left = 0;
    rc = tag_count(d->c, a->ref.id, &left);
    if (rc || left > 0)
        return rc;
    struct buf refs;
    buf_init(&refs, 64 * 1024);
    bool referenced;
    rc = referencing_indexes(d->c, d->repo->id, a->ref.digest, d->acts, d->nacts, &refs,
                             &referenced);
    buf_release(&refs);
    if (rc || referenced)
        return rc;
    rc = registry_manifest_delete(d->e->reg, d->repo->name, a->ref.digest, &err);
    if (rc == 0)
        VEC_PUSH(&d->deleted, a->ref.id);
    else if (err.code && strcmp(err.code, "MANIFEST_UNKNOWN") == 0)
        rc = 0;
    return rc;
}

int ecr_batch_delete_image(void *ctx, struct api_call *call)
{
    struct ecr_api *e = ctx;
    json_t *in = call->input;
    const char *name = json_string_value(json_object_get(in, "repositoryName"));
    json_t *ids = json_object_get(in, "imageIds");
    struct reg_repo repo;
    int rc = ecr_repo_lookup(e, call, name, &repo);
    if (rc < 0)
        return rc;
    struct del_state d = { .e = e, .call = call, .repo = &repo, .deleted = VEC_INIT };
    rc = meta_conn_get(e->db, &d.c);
    if (rc)
        return server_error(call, "BatchDeleteImage", rc);
    d.ids = json_array();
    d.failures = json_array();
    call->output = json_pack("{s:o,s:o}", "imageIds", d.ids, "failures", d.failures);

    /* resolve every id against the state before the batch, then act: an image named twice
     * (by digest and by one of its tags) is deleted and reported once */
    d.nacts = json_array_size(ids);
    d.acts = xcalloc(d.nacts ? d.nacts : 1, sizeof(*d.acts));
    for (size_t i = 0; i < d.nacts && rc == 0; i++) {
        struct del_action *a = &d.acts[i];
        const char *digest, *tag;
        a->image_id = json_array_get(ids, i);
        ecr_image_id_get(a->image_id, &digest, &tag);
        a->kind = DEL_FAIL;
        if (!digest && !tag) {
            json_array_append_new(d.failures,
                                  failure(a->image_id, "MissingDigestAndTag",
                                          "Invalid request parameters: both tag and digest "
                                          "cannot be null"));
            continue;
        }
        if (digest && !ecr_digest_syntax_ok(digest)) {
            json_array_append_new(d.failures,
                                  failure(a->image_id, "InvalidImageDigest", DIGEST_REGEX_REASON));
            continue;
        }
        enum ecr_resolve res;
        rc = ecr_image_resolve(d.c, repo.id, digest, tag, &res, &a->ref);
        if (rc)
            break;
        if (res == ECR_TAG_MISMATCH)
            json_array_append_new(d.failures,
                                  failure(a->image_id, "ImageTagDoesNotMatchDigest",
                                          "Invalid request parameters: given tag does not map to "
                                          "the given digest"));
        else if (res == ECR_NOT_FOUND)
            json_array_append_new(
                d.failures, failure(a->image_id, "ImageNotFound", "Requested image not found"));
        else
            a->kind = tag ? DEL_TAG : DEL_MANIFEST;
        a->tag = tag;
    }
    for (size_t i = 0; i < d.nacts && rc == 0; i++) {
        const struct del_action *a = &d.acts[i];
        if (a->kind == DEL_FAIL || was_deleted(&d, a->ref.id))
            continue;
        if (a->kind == DEL_MANIFEST) {
            rc = delete_manifest(&d, a);
            continue;
        }
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = d.acts[j].kind == DEL_TAG && strcmp(d.acts[j].tag, a->tag) == 0;
        if (!dup)
            rc = delete_tag(&d, a);
    }
    free(d.acts);
    VEC_FREE(&d.deleted);
    if (rc)
        return server_error(call, "BatchDeleteImage", rc);
    return 0;
}
