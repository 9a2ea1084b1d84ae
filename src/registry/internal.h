/* SPDX-License-Identifier: Apache-2.0 */
/* Registry internals shared by its .c files: the registry struct, /v2/ path parsing, manifest
 * validation, OCI errors and the small database helpers. */
#ifndef VIGIL_REGISTRY_INTERNAL_H
#define VIGIL_REGISTRY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/str.h"
#include "image/manifest.h"
#include "registry/registry.h"

struct registry {
    struct registry_config cfg;
};

/* Defaults applied by registry_new. */
#define REG_MANIFEST_MAX_DEFAULT (4u << 20)
#define REG_BLOB_MAX_DEFAULT     (1ull << 40)
#define REG_UPLOAD_EXPIRY_S      ((int64_t)24 * 3600)
#define REG_GC_GRACE_S           3600
#define REG_PAGE_DEFAULT         1000
#define REG_PAGE_MAX             10000
#define REG_REFERRERS_MAX        10000

/* ---- /v2/ paths ---- */

enum reg_route_kind {
    REG_ROUTE_BASE = 1,  /* /v2/ */
    REG_ROUTE_CATALOG,   /* /v2/_catalog */
    REG_ROUTE_TAGS,      /* /v2/<name>/tags/list */
    REG_ROUTE_MANIFEST,  /* /v2/<name>/manifests/<reference> */
    REG_ROUTE_BLOB,      /* /v2/<name>/blobs/<digest> */
    REG_ROUTE_UPLOADS,   /* /v2/<name>/blobs/uploads/ (start an upload) */
    REG_ROUTE_UPLOAD,    /* /v2/<name>/blobs/uploads/<id> */
    REG_ROUTE_REFERRERS, /* /v2/<name>/referrers/<digest> */
};

struct reg_route {
    enum reg_route_kind kind;
    struct str name; /* repository (empty for BASE and CATALOG) */
    struct str arg;  /* reference, digest or upload id; may be empty */
};

/* Split a decoded request path. Returns 0, -ERR_NOT_FOUND (not an API path) or -ERR_INVALID
 * (an API path whose repository name is invalid: out->kind and out->name are still set). The
 * argument is not validated here. */
int reg_route_parse(struct str path, struct reg_route *out);

/* ---- manifest validation (pure; fuzzed) ---- */

struct reg_ref {
    char *digest;     /* owned */
    bool is_manifest; /* an index entry that names a manifest or index */
    bool any;         /* an index entry of another media type: a manifest or a blob will do */
    bool optional;    /* a foreign / non-distributable layer: need not be in the registry */
};

struct reg_manifest_meta {
    enum manifest_kind kind;
    const char *media_type; /* static MT_* */
    size_t nrefs;
    struct reg_ref *refs;
    char *subject;       /* subject.digest or NULL; owned */
    char *artifact_type; /* as the referrers API reports it: artifactType, else (image
                          * manifests) config.mediaType; NULL for an index without one */
    char *annotations;   /* compact JSON object text, or NULL; owned */
};

/* Validate a manifest PUT body against its Content-Type (parameters ignored; NULL or "" =
 * use the body's mediaType). Accepted: OCI image manifest and index, Docker schema 2 manifest
 * and manifest list. Returns 0, -ERR_TOO_BIG (over max), -ERR_MANIFEST_INVALID (bad JSON,
 * shape, media type) or -ERR_UNSUPPORTED (schema 1, unknown media type); message in d. */
int reg_manifest_validate(const void *p, size_t n, size_t max, const char *content_type,
                          struct reg_manifest_meta *out, struct diag *d);
void reg_manifest_meta_release(struct reg_manifest_meta *m);

/* ---- errors ---- */

/* Fill *e (NULL is allowed) and return rc. */
int reg_fail(struct reg_error *e, int rc, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* An internal failure (-errno, -ERR_DB): 500, or 503 for -EBUSY. Returns rc. */
int reg_fail_internal(struct reg_error *e, int rc, const char *what);
/* Write e as the response: status, the OCI JSON body, and for 401 the challenge. */
void reg_send_error(struct http_req *req, struct http_resp *resp, const struct reg_error *e);

/* ---- database helpers (a connection of the calling thread) ---- */

/* Repository id by name: 0 and *id, or -ENOENT. With `create` an absent repository is
 * created (inside the caller's transaction). *immutable may be NULL. */
int reg_repo_id(struct meta_conn *c, const char *name, bool create, int64_t *id, bool *immutable);
/* Delete manifest `id` of `repo` with its tags and references and send the DELETE event;
 * inside the caller's transaction. 0 or a code with e filled. */
int reg_delete_manifest_tx(struct registry *r, struct meta_conn *c, const char *repo,
                           int64_t repo_id, int64_t id, struct reg_error *e);
/* Current time in unix seconds. */
int64_t reg_now(void);

/* ---- handlers (blobs.c, manifests.c) ---- */

/* Per-request state, in the request arena. */
enum reg_op {
    REG_OP_NONE = 0,
    REG_OP_MANIFEST_PUT,
    REG_OP_UPLOAD_PATCH,
    REG_OP_UPLOAD_PUT,
    REG_OP_UPLOAD_POST, /* monolithic POST ?digest= */
};

struct reg_req {
    enum reg_op op;
    struct reg_route route;
    char *name; /* NUL-terminated copies in the arena */
    char *arg;
    const char *digest; /* ?digest= */
    struct blob_writer *w;
    int64_t repo_id;
    bool has_range;
    uint64_t range_first, range_last; /* Content-Range of a PATCH/PUT chunk */
};

void reg_blob_get(struct registry *r, struct http_req *req, struct http_resp *resp,
                  struct reg_req *st);
void reg_blob_delete(struct registry *r, struct http_req *req, struct http_resp *resp,
                     struct reg_req *st);
void reg_upload_begin(struct registry *r, struct http_req *req, struct http_resp *resp,
                      struct reg_req *st);
int reg_upload_body(struct registry *r, struct http_req *req, struct reg_req *st, const char *data,
                    size_t len);
void reg_upload_end(struct registry *r, struct http_req *req, struct http_resp *resp,
                    struct reg_req *st);
void reg_upload_abort(struct registry *r, struct reg_req *st);

void reg_manifest_get_http(struct registry *r, struct http_req *req, struct http_resp *resp,
                           struct reg_req *st);
void reg_manifest_put_http(struct registry *r, struct http_req *req, struct http_resp *resp,
                           struct reg_req *st);
void reg_manifest_delete_http(struct registry *r, struct http_req *req, struct http_resp *resp,
                              struct reg_req *st);
void reg_tags_list(struct registry *r, struct http_req *req, struct http_resp *resp,
                   struct reg_req *st);
void reg_catalog(struct registry *r, struct http_req *req, struct http_resp *resp);
void reg_referrers(struct registry *r, struct http_req *req, struct http_resp *resp,
                   struct reg_req *st);

/* Parse the n/last pagination arguments: *n in 0..REG_PAGE_MAX (default REG_PAGE_DEFAULT),
 * *last NULL when absent. */
void reg_page_args(const struct http_req *req, size_t *n, const char **last);

#endif
