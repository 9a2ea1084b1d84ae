/* SPDX-License-Identifier: Apache-2.0 */
/* vigil's OCI distribution registry (distribution-spec v1.1): the /v2/ HTTP API as a
 * struct http_handler, plus the repository and manifest operations the control API (ECR) and
 * the CLI call directly. Metadata lives in the SQLite database (store/meta.h), blob bytes in
 * the blob store (store/blob_store.h); manifests are stored in the database byte-exact. */
#ifndef VIGIL_REGISTRY_REGISTRY_H
#define VIGIL_REGISTRY_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/hash.h"
#include "base/http_msg.h"
#include "store/blob_store.h"
#include "store/meta.h"

struct reg_auth;
struct registry;

/* ---- events ---- */

enum reg_event_action {
    REG_EVENT_PUSH = 1,   /* a manifest was stored (and/or a tag set) */
    REG_EVENT_DELETE = 2, /* a manifest was deleted (with the tags that pointed at it) */
    REG_EVENT_UNTAG = 3,  /* a tag was deleted; its manifest stays */
};

/* What happened, valid only during the callback. */
struct reg_event {
    enum reg_event_action action;
    const char *repo;
    int64_t repo_id;
    int64_t manifest_id;
    const char *digest;      /* the manifest's */
    const char *media_type;  /* the manifest's */
    uint64_t size;           /* manifest bytes */
    const char *tag;         /* PUSH: the tag pushed (NULL when pushed by digest); UNTAG: it */
    const char *const *tags; /* DELETE: tags that pointed at the manifest */
    size_t ntags;
    const char *subject;       /* the manifest's subject digest, or NULL */
    const char *artifact_type; /* as the referrers API reports it, or NULL */
    bool is_new;               /* PUSH: the manifest was not in the repository before */
    bool tag_moved;            /* PUSH: the tag now points somewhere else than before */
    int64_t at;                /* unix seconds */
};

/* Called inside the SQLite transaction that makes the change, on the connection `c`, so rows
 * the callback writes (scan jobs, event outbox) commit or roll back with it. Return 0, or a
 * negative code to refuse the change: the transaction is rolled back and the client gets an
 * error (500, or the status err_http_status() gives for the code). */
typedef int (*reg_event_fn)(void *ctx, struct meta_conn *c, const struct reg_event *ev);

/* ---- configuration ---- */

struct registry_config {
    struct meta_db *db;       /* required, borrowed */
    struct blob_store *blobs; /* required, borrowed */
    struct reg_auth *auth;    /* borrowed; NULL = no authentication (everyone may do anything) */
    bool create_on_push;      /* a push to an unknown repository creates it (default true);
                               * otherwise NAME_UNKNOWN until the control API creates it */
    size_t manifest_max;      /* manifest PUT body cap; 0 = 4 MiB */
    uint64_t blob_max;        /* one blob's cap; 0 = 1 TiB */
    int64_t upload_expiry_s;  /* idle upload sessions are removed by gc after this; 0 = 24 h */
    bool delete_disabled;     /* refuse DELETE of manifests, tags and blobs (405 UNSUPPORTED) */
    reg_event_fn on_event;    /* may be NULL */
    void *event_ctx;
};

/* Defaults: create_on_push = true, everything else 0/NULL. */
void registry_config_init(struct registry_config *cfg);

/* Build a registry over cfg (copied; the pointers in it are borrowed). Errors: -ERR_INVALID
 * (db or blobs missing; d says which). */
int registry_new(const struct registry_config *cfg, struct registry **out, struct diag *d);
/* Free. In-flight requests must be over (stop the HTTP server first). NULL is a no-op. */
void registry_free(struct registry *r);

/* The HTTP handler for every path under /v2/ (route it with prefix "/v2/" and all methods:
 * GET, HEAD, POST, PUT, PATCH, DELETE). Streams blob uploads (req->stream) and buffers manifest
 * bodies up to manifest_max. h->app is r. */
void registry_handler(struct registry *r, struct http_handler *h);

/* ---- errors of the operations below ---- */

/* An OCI error as the distribution API reports it. `code` is one of the spec's codes (plus
 * TAG_INVALID, used as ECR does for immutable tags); `detail` is JSON text or "" (none). */
#define REG_ERR_MAX_DIGESTS 16
struct reg_error {
    int status;       /* HTTP status */
    const char *code; /* static string */
    char message[400];
    /* MANIFEST_BLOB_UNKNOWN: the missing digests (up to REG_ERR_MAX_DIGESTS of nmissing) */
    size_t nmissing;
    char missing[REG_ERR_MAX_DIGESTS][DIGEST_STR_LEN + 1];
};

/* ---- repositories (control API) ----
 * These functions and the manifest functions below use the calling thread's connection and
 * run their own transaction: never call them while that connection is inside one. */

struct reg_repo {
    int64_t id;
    char name[256];
    int64_t created_at;
    bool immutable; /* tags cannot be moved once set */
};

/* Repository names: the spec's regex (lower-case components separated by '/', '.', '_',
 * '__' or '-' runs inside a component), at most 255 characters. */
#define REG_NAME_MAX 255
bool reg_name_is_valid(const char *name, size_t len);
/* Tags: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}. */
bool reg_tag_is_valid(const char *tag, size_t len);

/* Create a repository. Errors: -ERR_INVALID (name), -EEXIST, -ERR_DB. *out may be NULL. */
int registry_repo_create(struct registry *r, const char *name, bool immutable,
                         struct reg_repo *out);
/* Look one up. -ENOENT when absent, -ERR_INVALID for a bad name. */
int registry_repo_get(struct registry *r, const char *name, struct reg_repo *out);
/* Repositories in name order after `after` (NULL = from the start), at most `limit` (0 = all);
 * fn returns non-zero to stop early (that value is returned). */
typedef int (*reg_repo_fn)(void *ctx, const struct reg_repo *repo);
int registry_repo_list(struct registry *r, const char *after, size_t limit, reg_repo_fn fn,
                       void *ctx);
/* Set tag immutability. -ENOENT when absent. */
int registry_repo_set_immutable(struct registry *r, const char *name, bool immutable);
/* Delete a repository with its tags, manifests, blob links and upload sessions (blob files go
 * at the next gc). Without force a repository that holds manifests is refused with
 * -ENOTEMPTY. One DELETE event per manifest is sent to on_event. -ENOENT when absent. */
int registry_repo_delete(struct registry *r, const char *name, bool force);

/* ---- manifests (shared by the HTTP API and the control API) ---- */

struct reg_put_result {
    char digest[DIGEST_STR_LEN + 1];
    char subject[DIGEST_STR_LEN + 1]; /* "" when the manifest has none */
    bool is_new;
};

/* Store a manifest under `reference` (a tag or the manifest's digest) in `repo`: validate the
 * bytes against content_type (which may carry parameters; NULL = take the document's
 * mediaType), check that every blob and child manifest it references is in the repository,
 * apply tag immutability, store byte-exact, set the tag, call on_event — all in one
 * transaction. Returns 0, or a negative code with *e filled (MANIFEST_INVALID,
 * MANIFEST_BLOB_UNKNOWN, DIGEST_INVALID, NAME_INVALID, NAME_UNKNOWN, TAG_INVALID, ...). */
int registry_manifest_put(struct registry *r, const char *repo, const char *reference,
                          const char *content_type, const void *body, size_t len,
                          struct reg_put_result *res, struct reg_error *e);

struct reg_manifest {
    char digest[DIGEST_STR_LEN + 1];
    char *media_type; /* owned */
    void *content;    /* owned, exactly as pushed */
    size_t size;
    int64_t created_at;
};

/* Fetch a manifest by tag or digest. Errors (with *e): NAME_INVALID, NAME_UNKNOWN,
 * MANIFEST_UNKNOWN. Release with reg_manifest_release(). */
int registry_manifest_get(struct registry *r, const char *repo, const char *reference,
                          struct reg_manifest *out, struct reg_error *e);
void reg_manifest_release(struct reg_manifest *m);

/* Delete by digest (the manifest and every tag on it) or by tag (only the tag). Errors (with
 * *e): NAME_INVALID, NAME_UNKNOWN, MANIFEST_UNKNOWN. */
int registry_manifest_delete(struct registry *r, const char *repo, const char *reference,
                             struct reg_error *e);

/* ---- garbage collection ---- */

struct reg_gc_options {
    int64_t grace_s;         /* unreferenced blobs younger than this stay; 0 = 1 hour; < 0 = none */
    int64_t now;             /* unix seconds; 0 = time(NULL) */
    bool dry_run;            /* count what would go, change nothing */
    int64_t upload_expiry_s; /* 0 = 24 h */
};

struct reg_gc_report {
    uint64_t blobs_removed, bytes_removed;
    uint64_t uploads_removed, upload_bytes_removed; /* expired sessions and orphan files */
    uint64_t orphan_files_removed;                  /* blob files with no database row */
    uint64_t dangling_rows_removed;                 /* blob rows whose file is gone */
    uint64_t blobs_kept;
};

/* Remove what nothing needs: expired upload sessions (and upload files with no session),
 * blobs that no manifest references and that were not pushed or mounted within the grace
 * period (with their repository links), blob files the database does not know, and blob rows
 * whose file is gone. Safe while the server runs, in this process or another: candidates are
 * marked in one read, and each is checked again and removed inside a short write transaction
 * (the same lock a manifest push takes). r may be a registry made only for gc (no HTTP).
 * Errors: -ERR_DB, -errno; the report counts what was done before the error. */
int registry_gc(struct registry *r, const struct reg_gc_options *opts, struct reg_gc_report *rep);

#endif
