/* SPDX-License-Identifier: Apache-2.0 */
/* The scan service: lifecycle and worker threads, the registry hook that queues scans on push,
 * StartImageScan with its per-image limit, and one job's run: claim it in a transaction, read
 * the image from vigil's own store (manifests from the database, layers from the blob store,
 * through the layer cache), match, and store the result with its events in one transaction. */
#include "scan/service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "image/manifest.h"
#include "image/source.h"
#include "scan/svc_internal.h"
#include "vulndb/db.h"

#define RESCAN_RETRIES 3   /* re-matches when an import lands while a scan matches */
#define REPO_NAME_BUF  256 /* repository names are at most 255 bytes */

/* ---- small helpers ---- */

int64_t svc_now(const struct scan_service *svc)
{
    return svc->cfg.now ? svc->cfg.now(svc->cfg.now_ctx) : (int64_t)time(NULL);
}

int svc_end_tx(struct meta_conn *c, int rc)
{
    if (rc) {
        meta_rollback(c);
        return rc;
    }
    return meta_commit(c);
}

int svc_repo_id(struct meta_conn *c, const char *name, int64_t *id)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c, "SELECT id FROM repositories WHERE name = ?1", &st);
    if (rc)
        return rc;
    meta_bind_text(st, 1, name);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else
        rc = step == SQLITE_DONE ? -ERR_NOT_FOUND : meta_err(c, step, "looking up a repository");
    meta_done(st);
    return rc;
}

int svc_image_tags(struct meta_conn *c, int64_t manifest_id, struct arena *a, const char ***tags,
                   size_t *n)
{
    sqlite3_stmt *st;
    *tags = NULL;
    *n = 0;
    int rc = meta_stmt(c,
                       "SELECT name FROM tags WHERE manifest_id = ?1"
                       " ORDER BY updated_at DESC, name LIMIT 100",
                       &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, manifest_id);
    const char **v = arena_alloc(a, 100 * sizeof(*v));
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW && *n < 100)
        v[(*n)++] = arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
    meta_done(st);
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        return meta_err(c, step, "reading tags");
    *tags = v;
    return 0;
}

void svc_kick(struct scan_service *svc)
{
    pthread_mutex_lock(&svc->lock);
    svc->kicks++;
    pthread_cond_broadcast(&svc->wake);
    pthread_mutex_unlock(&svc->lock);
}

static bool is_index_type(const char *mt)
{
    return mt && manifest_kind_is_index(manifest_kind_of(mt));
}

bool svc_is_scannable(const struct scan_service *svc, const char *media_type, const char *subject,
                      const char *artifact_type)
{
    if (subject && *subject)
        return false;
    if (is_index_type(media_type))
        return svc->cfg.scan_indexes && (!artifact_type || !*artifact_type);
    if (artifact_type && *artifact_type && strcmp(artifact_type, MT_OCI_CONFIG) != 0 &&
        strcmp(artifact_type, MT_DOCKER_CONFIG) != 0)
        return false;
    return true;
}

/* ---- lifecycle ---- */

void scan_service_config_init(struct scan_service_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
}

static char *dup_or(const char *s, const char *def)
{
    return xstrdup(s && *s ? s : def);
}

int scan_service_new(const struct scan_service_config *cfg, struct scan_service **out,
                     struct diag *d)
{
    *out = NULL;
    if (!cfg->db || !cfg->blobs)
        return diag_set(d, -ERR_INVALID, 0, "scan service: %s is required",
                        !cfg->db ? "the metadata database" : "the blob store");
    if (!cfg->vulndb_path || !*cfg->vulndb_path)
        return diag_set(d, -ERR_INVALID, 0,
                        "scan service: the vulnerability database path is "
                        "required");
    struct scan_service *svc = xcalloc(1, sizeof(*svc));
    svc->cfg = *cfg;
    svc->vulndb_path = xstrdup(cfg->vulndb_path);
    svc->cache_dir = cfg->cache_dir && *cfg->cache_dir ? xstrdup(cfg->cache_dir) : NULL;
    svc->platform = dup_or(cfg->platform, "linux/amd64");
    svc->account = dup_or(cfg->account_id, "000000000000");
    svc->region = dup_or(cfg->region, "us-east-1");
    svc->cfg.vulndb_path = svc->vulndb_path;
    svc->cfg.cache_dir = svc->cache_dir;
    svc->cfg.platform = svc->platform;
    svc->cfg.account_id = svc->account;
    svc->cfg.region = svc->region;
    if (svc->cfg.workers == 0)
        svc->cfg.workers = 2;
    if (svc->cfg.manual_interval_s == 0)
        svc->cfg.manual_interval_s = 86400;
    if (svc->cfg.rescan_poll_s == 0)
        svc->cfg.rescan_poll_s = 60;
    if (svc->cfg.max_attempts == 0)
        svc->cfg.max_attempts = 3;
    if (svc->cfg.poll_ms <= 0)
        svc->cfg.poll_ms = 2000;
    pthread_mutex_init(&svc->lock, NULL);
    pthread_cond_init(&svc->wake, NULL);
    pthread_mutex_init(&svc->rescan_lock, NULL);
    *out = svc;
    return 0;
}

static void *worker_main(void *arg);

int scan_service_start(struct scan_service *svc)
{
    struct meta_conn *c;
    int rc = meta_conn_get(svc->cfg.db, &c);
    if (rc)
        return rc;
    /* jobs a previous process claimed and never finished: queue them again (their attempt
     * counts stay, so a job that kills the process is eventually given up) */
    rc = meta_begin(c);
    if (rc)
        return rc;
    sqlite3_stmt *st;
    rc = meta_stmt(c, "UPDATE scan_jobs SET state = 0, claimed_at = NULL WHERE state = 1", &st);
    if (!rc)
        rc = meta_step_done(c, st);
    int requeued = rc ? 0 : meta_changes(c);
    size_t gone = 0;
    if (!rc)
        rc = svc_gc_records(c, &gone);
    rc = svc_end_tx(c, rc);
    if (rc)
        return rc;
    if (requeued)
        log_info("scan", "%d interrupted scan jobs queued again", requeued);
    if (gone)
        log_debug("scan", "%zu unused vulnerability records removed", gone);
    pthread_mutex_lock(&svc->lock);
    svc->started = true;
    svc->stopping = false;
    pthread_mutex_unlock(&svc->lock);
    if (svc->cfg.workers < 0)
        return 0;
    svc->threads = xcalloc((size_t)svc->cfg.workers, sizeof(*svc->threads));
    for (int i = 0; i < svc->cfg.workers; i++) {
        int e = pthread_create(&svc->threads[i], NULL, worker_main, svc);
        if (e) {
            log_error("scan", "cannot start scan worker: %s", strerror(e));
            scan_service_stop(svc);
            return -e;
        }
        svc->nthreads++;
    }
    return 0;
}

void scan_service_stop(struct scan_service *svc)
{
    if (!svc)
        return;
    pthread_mutex_lock(&svc->lock);
    svc->stopping = true;
    pthread_cond_broadcast(&svc->wake);
    pthread_mutex_unlock(&svc->lock);
    for (size_t i = 0; i < svc->nthreads; i++)
        pthread_join(svc->threads[i], NULL);
    free(svc->threads);
    svc->threads = NULL;
    svc->nthreads = 0;
}

void scan_service_free(struct scan_service *svc)
{
    if (!svc)
        return;
    scan_service_stop(svc);
    pthread_mutex_destroy(&svc->lock);
    pthread_cond_destroy(&svc->wake);
    pthread_mutex_destroy(&svc->rescan_lock);
    free(svc->vulndb_path);
    free(svc->cache_dir);
    free(svc->platform);
    free(svc->account);
    free(svc->region);
    free(svc);
}

/* ---- queueing ---- */

int svc_queue_job(struct scan_service *svc, struct meta_conn *c, int64_t repo_id,
                  int64_t manifest_id, const char *digest, enum scan_type type,
                  enum scan_frequency freq, enum svc_job_kind kind, int64_t now)
{
    (void)svc;
    sqlite3_stmt *st;
    int64_t rid = 0;
    int old_type = -1;
    int rc = meta_stmt(c,
                       "SELECT r.id, r.scan_type, (SELECT COUNT(*) FROM scan_jobs j"
                       " WHERE j.result_id = r.id) FROM scan_results r"
                       " WHERE r.repo_id = ?1 AND r.digest = ?2",
                       &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, repo_id);
    meta_bind_text(st, 2, digest);
    int step = sqlite3_step(st);
    bool has_job = false;
    if (step == SQLITE_ROW) {
        rid = sqlite3_column_int64(st, 0);
        old_type = sqlite3_column_int(st, 1);
        has_job = sqlite3_column_int64(st, 2) > 0;
    }
    meta_done(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return meta_err(c, step, "looking up a scan result");
    if (has_job)
        return -EEXIST;
    enum scan_status status =
        type == SCAN_TYPE_ENHANCED ? SCAN_STATUS_PENDING : SCAN_STATUS_IN_PROGRESS;
    const char *desc = type == SCAN_TYPE_ENHANCED ? SVC_DESC_PENDING : "";
    if (rid && old_type != (int)type) {
        /* another scan type: the old findings do not answer the new question */
        static const char *const drop[] = {
            "DELETE FROM scan_findings WHERE result_id = ?1",
            "DELETE FROM scan_pkg_index WHERE result_id = ?1",
            "UPDATE scan_results SET inventory = NULL, completed_at = NULL, evaluated_at = NULL,"
            " n_critical = 0, n_high = 0, n_medium = 0, n_low = 0, n_informational = 0,"
            " n_undefined = 0 WHERE id = ?1",
        };
        for (size_t i = 0; i < ARRAY_SIZE(drop) && !rc; i++) {
            rc = meta_stmt(c, drop[i], &st);
            if (!rc) {
                meta_bind_int(st, 1, rid);
                rc = meta_step_done(c, st);
            }
        }
        if (rc)
            return rc;
    }
    if (rid) {
        rc = meta_stmt(c,
                       "UPDATE scan_results SET manifest_id = ?2, scan_type = ?3, frequency = ?4,"
                       " status = ?5, description = ?6, requested_at = ?7 WHERE id = ?1",
                       &st);
        if (rc)
            return rc;
        meta_bind_int(st, 1, rid);
    } else {
        rc = meta_stmt(c,
                       "INSERT INTO scan_results (repo_id, manifest_id, scan_type, frequency,"
                       " status, description, requested_at, digest)"
                       " VALUES (?8, ?2, ?3, ?4, ?5, ?6, ?7, ?9)",
                       &st);
        if (rc)
            return rc;
        meta_bind_int(st, 8, repo_id);
        meta_bind_text(st, 9, digest);
    }
    meta_bind_int(st, 2, manifest_id);
    meta_bind_int(st, 3, type);
    meta_bind_int(st, 4, freq);
    meta_bind_int(st, 5, status);
    meta_bind_text(st, 6, desc);
    meta_bind_int(st, 7, now);
    rc = meta_step_done(c, st);
    if (rc)
        return rc;
    if (!rid)
        rid = meta_last_rowid(c);
    rc = meta_stmt(c,
                   "INSERT INTO scan_jobs (result_id, kind, state, attempts, created_at)"
                   " VALUES (?1, ?2, 0, 0, ?3)",
                   &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, rid);
    meta_bind_int(st, 2, kind);
    meta_bind_int(st, 3, now);
    return meta_step_done(c, st);
}

/* The repository's scanning frequency under the stored configuration. */
static int repo_frequency(struct meta_conn *c, const char *repo, int64_t repo_id,
                          enum scan_type *type, enum scan_frequency *freq)
{
    struct scan_config cfg;
    bool flag = false;
    int rc = scan_config_load(c, &cfg);
    if (!rc)
        rc = scan_repo_scan_on_push_get(c, repo_id, &flag);
    if (!rc) {
        *type = cfg.type;
        *freq = scan_config_frequency(&cfg, repo, flag, NULL, NULL);
    }
    scan_config_release(&cfg);
    return rc;
}

int scan_service_on_push(struct scan_service *svc, struct meta_conn *c,
                         const struct scan_image_event *ev)
{
    sqlite3_stmt *st;
    if (ev->action == SCAN_IMAGE_DELETED) {
        int rc = meta_stmt(c, "DELETE FROM scan_results WHERE repo_id = ?1 AND digest = ?2", &st);
        if (rc)
            return rc;
        meta_bind_int(st, 1, ev->repo_id);
        meta_bind_text(st, 2, ev->digest);
        return meta_step_done(c, st);
    }
    if (ev->action != SCAN_IMAGE_PUSHED || !ev->is_new || !ev->digest ||
        strlen(ev->digest) != DIGEST_STR_LEN)
        return 0;
    if (!svc_is_scannable(svc, ev->media_type, ev->subject, ev->artifact_type))
        return 0;
    enum scan_type type = SCAN_TYPE_BASIC;
    enum scan_frequency freq = SCAN_FREQ_MANUAL;
    int rc = repo_frequency(c, ev->repo, ev->repo_id, &type, &freq);
    if (rc)
        return rc;
    if (freq != SCAN_FREQ_SCAN_ON_PUSH && freq != SCAN_FREQ_CONTINUOUS)
        return 0;
    /* the service's clock, not the event's: the manual-scan limit compares the two */
    rc = svc_queue_job(svc, c, ev->repo_id, ev->manifest_id, ev->digest, type, freq, SVC_JOB_PUSH,
                       svc_now(svc));
    if (rc == -EEXIST)
        return 0;
    if (rc == 0)
        svc_kick(svc); /* the worker's BEGIN IMMEDIATE waits for this transaction to commit */
    return rc;
}

/* ---- StartImageScan ---- */

int scan_service_start_scan(struct scan_service *svc, const char *repo, const char *digest,
                            struct scan_status_info *out, struct diag *d)
{
    struct meta_conn *c;
    memset(out, 0, sizeof(*out));
    int rc = meta_conn_get(svc->cfg.db, &c);
    if (rc)
        return diag_set(d, rc, 0, "cannot open the metadata database");
    int64_t repo_id = 0;
    rc = svc_repo_id(c, repo, &repo_id);
    if (rc == -ERR_NOT_FOUND)
        return diag_set(d, rc, 0, "The repository with name '%s' does not exist", repo);
    if (rc)
        return diag_set(d, rc, 0, "cannot look up repository '%s'", repo);
    int64_t now = svc_now(svc);
    rc = meta_begin(c);
    if (rc)
        return diag_set(d, rc, 0, "cannot lock the metadata database");
    sqlite3_stmt *st;
    int64_t manifest_id = 0;
    char mt[256] = "", at[256] = "";
    bool has_subject = false;
    rc = meta_stmt(c,
                   "SELECT id, media_type, subject, artifact_type FROM manifests"
                   " WHERE repo_id = ?1 AND digest = ?2",
                   &st);
    if (rc)
        goto out;
    meta_bind_int(st, 1, repo_id);
    meta_bind_text(st, 2, digest);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        manifest_id = sqlite3_column_int64(st, 0);
        snprintf(mt, sizeof(mt), "%s", (const char *)sqlite3_column_text(st, 1));
        has_subject = sqlite3_column_type(st, 2) != SQLITE_NULL;
        if (sqlite3_column_type(st, 3) != SQLITE_NULL)
            snprintf(at, sizeof(at), "%s", (const char *)sqlite3_column_text(st, 3));
    }
    meta_done(st);
    if (step == SQLITE_DONE) {
        rc = diag_set(d, -ERR_MANIFEST_UNKNOWN, 0,
                      "The image with imageId {imageDigest:'%s'} "
                      "does not exist within the repository with name '%s'",
                      digest, repo);
        goto out;
    }
    if (step != SQLITE_ROW) {
        rc = diag_set(d, meta_err(c, step, "looking up an image"), 0, "cannot look up the image");
        goto out;
    }
    if (!svc_is_scannable(svc, mt, has_subject ? "yes" : NULL, at)) {
        const char *what = is_index_type(mt) || !*at ? mt : at;
        rc = diag_set(d, -ERR_UNSUPPORTED, 0,
                      "An artifact with media type '%s' cannot be scanned. For more "
                      "information, see the Amazon ECR documentation.",
                      what);
        goto out;
    }
    int64_t requested = 0;
    bool queued = false;
    rc = meta_stmt(c,
                   "SELECT r.requested_at, EXISTS (SELECT 1 FROM scan_jobs j"
                   " WHERE j.result_id = r.id) FROM scan_results r"
                   " WHERE r.repo_id = ?1 AND r.digest = ?2",
                   &st);
    if (rc)
        goto out;
    meta_bind_int(st, 1, repo_id);
    meta_bind_text(st, 2, digest);
    step = sqlite3_step(st);
    bool exists = step == SQLITE_ROW;
    if (exists) {
        requested = sqlite3_column_int64(st, 0);
        queued = sqlite3_column_int(st, 1) != 0;
    }
    meta_done(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = meta_err(c, step, "looking up a scan result");
        goto out;
    }
    if (queued || (exists && svc->cfg.manual_interval_s > 0 &&
                   now - requested < svc->cfg.manual_interval_s)) {
        rc = diag_set(d, SCAN_ERR_LIMIT, 0,
                      "The scan quota per image has been exceeded. Wait and try again.");
        goto out;
    }
    enum scan_type type = SCAN_TYPE_BASIC;
    enum scan_frequency freq = SCAN_FREQ_MANUAL;
    rc = repo_frequency(c, repo, repo_id, &type, &freq);
    if (!rc)
        rc = svc_queue_job(svc, c, repo_id, manifest_id, digest, type, freq, SVC_JOB_MANUAL, now);
    if (rc == -EEXIST)
        rc = diag_set(d, SCAN_ERR_LIMIT, 0,
                      "The scan quota per image has been exceeded. Wait and try again.");
    else if (rc)
        diag_set(d, rc, 0, "cannot queue the scan: %s", err_str(rc));
    if (!rc) {
        out->status = type == SCAN_TYPE_ENHANCED ? SCAN_STATUS_PENDING : SCAN_STATUS_IN_PROGRESS;
        snprintf(out->description, sizeof(out->description), "%s",
                 type == SCAN_TYPE_ENHANCED ? SVC_DESC_PENDING : "");
    }
out:
    rc = svc_end_tx(c, rc);
    if (!rc)
        svc_kick(svc);
    return rc;
}

/* ---- reading images from the store ---- */

struct prov_ctx {
    struct scan_service *svc;
    struct meta_conn *c;
    int64_t repo_id;
};

static int prov_manifest(void *ctx, const char *digest, struct buf *out, char **media_type,
                         struct diag *d)
{
    struct prov_ctx *p = ctx;
    sqlite3_stmt *st;
    int rc = meta_stmt(p->c,
                       "SELECT content, media_type FROM manifests WHERE repo_id = ?1 AND"
                       " digest = ?2",
                       &st);
    if (rc)
        return diag_set(d, rc, 0, "manifest %s: database error", digest);
    meta_bind_int(st, 1, p->repo_id);
    meta_bind_text(st, 2, digest);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        const void *data = sqlite3_column_blob(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (n > out->max - out->len)
            rc = diag_set(d, -ERR_TOO_BIG, 0, "manifest %s is %zu bytes, more than allowed", digest,
                          n);
        else
            rc = buf_append(out, data ? data : "", n);
        const char *mt = (const char *)sqlite3_column_text(st, 1);
        if (!rc && mt)
            *media_type = xstrdup(mt);
    } else if (step == SQLITE_DONE) {
        rc = diag_set(d, -ERR_MANIFEST_UNKNOWN, 0, "manifest %s is not in the repository", digest);
    } else {
        rc = diag_set(d, meta_err(p->c, step, "reading a manifest"), 0,
                      "manifest %s: database error", digest);
    }
    meta_done(st);
    return rc;
}

static int prov_blob(void *ctx, const char *digest, uint64_t size, struct reader **out,
                     struct diag *d)
{
    struct prov_ctx *p = ctx;
    int fd;
    uint64_t have;
    (void)size; /* the verifying stream checks it */
    int rc = blob_store_open_read(p->svc->cfg.blobs, digest, &fd, &have);
    if (rc == -ENOENT)
        return diag_set(d, -ERR_BLOB_UNKNOWN, 0, "blob %s is not in the store", digest);
    if (rc)
        return diag_set(d, rc, 0, "blob %s: %s", digest, err_str(rc));
    *out = reader_fd_new(fd);
    return 0;
}

static const struct image_provider store_provider = { prov_manifest, prov_blob };

/* ---- running a job ---- */

struct job {
    int64_t id, result_id, repo_id, manifest_id;
    int kind;
    int attempts;
    enum scan_type type;
    char repo[REPO_NAME_BUF];
    char digest[DIGEST_STR_LEN + 1];
};

/* 1 and *j when a job was claimed, 0 when none is queued, <0 on error. */
static int job_claim(struct scan_service *svc, struct meta_conn *c, bool look_first, struct job *j)
{
    sqlite3_stmt *st;
    int rc;
    if (look_first) {
        /* idle polling must not take the write lock for nothing */
        rc = meta_stmt(c, "SELECT 1 FROM scan_jobs WHERE state = 0 LIMIT 1", &st);
        if (rc)
            return rc;
        int step = sqlite3_step(st);
        meta_done(st);
        if (step == SQLITE_DONE)
            return 0;
        if (step != SQLITE_ROW)
            return meta_err(c, step, "looking for scan jobs");
    }
    rc = meta_begin(c);
    if (rc)
        return rc;
    rc = meta_stmt(c,
                   "SELECT j.id, j.result_id, j.kind, j.attempts, r.repo_id, r.manifest_id,"
                   " r.digest, r.scan_type, p.name FROM scan_jobs j"
                   " JOIN scan_results r ON r.id = j.result_id"
                   " JOIN repositories p ON p.id = r.repo_id"
                   " WHERE j.state = 0 ORDER BY j.id LIMIT 1",
                   &st);
    if (rc)
        return svc_end_tx(c, rc);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        memset(j, 0, sizeof(*j));
        j->id = sqlite3_column_int64(st, 0);
        j->result_id = sqlite3_column_int64(st, 1);
        j->kind = sqlite3_column_int(st, 2);
        j->attempts = sqlite3_column_int(st, 3) + 1;
        j->repo_id = sqlite3_column_int64(st, 4);
        j->manifest_id = sqlite3_column_int64(st, 5);
        snprintf(j->digest, sizeof(j->digest), "%s", (const char *)sqlite3_column_text(st, 6));
        j->type =
            sqlite3_column_int(st, 7) == SCAN_TYPE_ENHANCED ? SCAN_TYPE_ENHANCED : SCAN_TYPE_BASIC;
        snprintf(j->repo, sizeof(j->repo), "%s", (const char *)sqlite3_column_text(st, 8));
    }
    meta_done(st);
    if (step == SQLITE_DONE) {
        meta_rollback(c);
        return 0;
    }
    if (step != SQLITE_ROW)
        return svc_end_tx(c, meta_err(c, step, "claiming a scan job"));
    int64_t now = svc_now(svc);
    rc = meta_stmt(c,
                   "UPDATE scan_jobs SET state = 1, attempts = attempts + 1, claimed_at = ?2"
                   " WHERE id = ?1",
                   &st);
    if (!rc) {
        meta_bind_int(st, 1, j->id);
        meta_bind_int(st, 2, now);
        rc = meta_step_done(c, st);
    }
    if (!rc)
        rc = meta_stmt(c,
                       "UPDATE scan_results SET status = ?2, description = '', started_at = ?3"
                       " WHERE id = ?1",
                       &st);
    if (!rc) {
        meta_bind_int(st, 1, j->result_id);
        meta_bind_int(st, 2, SCAN_STATUS_IN_PROGRESS);
        meta_bind_int(st, 3, now);
        rc = meta_step_done(c, st);
    }
    rc = svc_end_tx(c, rc);
    return rc ? rc : 1;
}

/* Inside a transaction: is the job still ours (the image may have been deleted meanwhile)? */
static int job_alive(struct meta_conn *c, const struct job *j, bool *alive)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c, "SELECT 1 FROM scan_jobs WHERE id = ?1 AND state = 1", &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, j->id);
    int step = sqlite3_step(st);
    meta_done(st);
    *alive = step == SQLITE_ROW;
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : meta_err(c, step, "checking a job");
}

static int job_delete(struct meta_conn *c, const struct job *j)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c, "DELETE FROM scan_jobs WHERE id = ?1", &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, j->id);
    return meta_step_done(c, st);
}

static int scan_event_send(struct scan_service *svc, struct meta_conn *c, const struct job *j,
                           const char *const *tags, size_t ntags, enum scan_status status,
                           const char *desc, bool initial, int64_t now)
{
    if (!svc->cfg.on_event)
        return 0;
    struct scan_event ev = {
        .kind = SCAN_EVENT_SCAN,
        .scan_type = j->type,
        .repo = j->repo,
        .repo_id = j->repo_id,
        .digest = j->digest,
        .tags = tags,
        .ntags = ntags,
        .at = now,
        .status = status,
        .description = desc,
        .initial = initial,
    };
    sqlite3_stmt *st;
    int rc = meta_stmt(c,
                       "SELECT n_critical, n_high, n_medium, n_low, n_informational, n_undefined"
                       " FROM scan_results WHERE id = ?1",
                       &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, j->result_id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        static const enum severity order[] = { SEV_CRITICAL, SEV_HIGH,          SEV_MEDIUM,
                                               SEV_LOW,      SEV_INFORMATIONAL, SEV_UNDEFINED };
        for (size_t i = 0; i < ARRAY_SIZE(order); i++)
            ev.counts[order[i]] = (unsigned)sqlite3_column_int64(st, (int)i);
    }
    meta_done(st);
    return svc->cfg.on_event(svc->cfg.event_ctx, c, &ev);
}

/* End a job without findings: FAILED or UNSUPPORTED_IMAGE (or queue it again for a retry when
 * retry is set and attempts remain). */
static int job_finish_status(struct scan_service *svc, struct meta_conn *c, const struct job *j,
                             enum scan_status status, const char *desc, bool retry)
{
    int64_t now = svc_now(svc);
    struct arena a;
    arena_init(&a);
    int rc = meta_begin(c);
    if (rc) {
        arena_release(&a);
        return rc;
    }
    bool alive;
    rc = job_alive(c, j, &alive);
    if (rc || !alive)
        goto out;
    sqlite3_stmt *st;
    if (retry && (unsigned)j->attempts < svc->cfg.max_attempts) {
        rc = meta_stmt(c, "UPDATE scan_jobs SET state = 0, claimed_at = NULL WHERE id = ?1", &st);
        if (!rc) {
            meta_bind_int(st, 1, j->id);
            rc = meta_step_done(c, st);
        }
        goto out;
    }
    rc = meta_stmt(c,
                   "UPDATE scan_results SET status = ?2, description = ?3, evaluated_at = ?4"
                   " WHERE id = ?1",
                   &st);
    if (!rc) {
        meta_bind_int(st, 1, j->result_id);
        meta_bind_int(st, 2, status);
        meta_bind_text(st, 3, desc);
        meta_bind_int(st, 4, now);
        rc = meta_step_done(c, st);
    }
    if (!rc)
        rc = job_delete(c, j);
    const char **tags = NULL;
    size_t ntags = 0;
    if (!rc)
        rc = svc_image_tags(c, j->manifest_id, &a, &tags, &ntags);
    if (!rc)
        rc = scan_event_send(svc, c, j, tags, ntags, status, desc, false, now);
out:
    rc = svc_end_tx(c, rc);
    arena_release(&a);
    return rc;
}

/* An inventory already taken of this image for this scan type (by this result or the same
 * digest in another repository): 1 and decoded, 0 when none. */
static int inventory_reuse(struct meta_conn *c, const struct job *j, struct inventory *inv)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c,
                       "SELECT inventory FROM scan_results WHERE digest = ?1 AND scan_type = ?2"
                       " AND inventory IS NOT NULL ORDER BY id = ?3 DESC LIMIT 1",
                       &st);
    if (rc)
        return rc;
    meta_bind_text(st, 1, j->digest);
    meta_bind_int(st, 2, j->type);
    meta_bind_int(st, 3, j->result_id);
    int found = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        struct str b = str_make(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        struct diag d = { 0 };
        if (svc_inv_decode(b, inv, &d) == 0)
            found = 1;
        else
            log_warn("scan", "%s@%s: stored inventory unusable (%s); reading the image", j->repo,
                     j->digest, d.msg);
    }
    meta_done(st);
    if (!found) {
        inventory_release(inv);
        inventory_init(inv);
    }
    return found;
}

static int job_inventory(struct scan_service *svc, struct meta_conn *c, const struct job *j,
                         struct inventory *inv, struct diag *d)
{
    if (inventory_reuse(c, j, inv) == 1)
        return 0;
    /* messages become the FAILED description: the repository alone keeps them short (the
     * layer at fault is named with its digest anyway) */
    const char *name = j->repo;
    struct prov_ctx pc = { svc, c, j->repo_id };
    struct image_opts io = { .platform = svc->platform, .tls_verify = true };
    struct image_source *src = NULL;
    int rc = image_source_open_provider(&store_provider, &pc, name, j->digest, &io, &src, d);
    if (rc)
        return rc;
    struct inventory_opts o = {
        .cache_dir = svc->cache_dir,
        .image = io,
        .max_file = svc->cfg.max_file,
        .max_total = svc->cfg.max_total,
        .no_lang = j->type == SCAN_TYPE_BASIC,
    };
    rc = inventory_build_source(src, name, &o, inv, d);
    image_source_close(src);
    return rc;
}

/* Store a completed scan. 0, -EAGAIN (a rescan started after this job matched: match again),
 * or <0 with d set. */
static int job_store(struct scan_service *svc, struct meta_conn *c, const struct job *j,
                     const struct inventory *inv, const struct buf *blob, svc_groups *groups,
                     int64_t import_id, int64_t source_time, bool force, struct arena *a,
                     struct diag *d)
{
    int64_t now = svc_now(svc);
    int rc = meta_begin(c);
    if (rc)
        return diag_set(d, rc, 0, "cannot lock the metadata database");
    bool alive;
    rc = job_alive(c, j, &alive);
    if (rc || !alive) {
        meta_rollback(c);
        return rc;
    }
    int64_t target = 0;
    bool found;
    rc = svc_state_get(c, "rescan_target", &target, &found);
    if (!rc && found && target > import_id && !force) {
        meta_rollback(c);
        return -EAGAIN;
    }
    enum scan_type type = j->type;
    enum scan_frequency freq = SCAN_FREQ_SCAN_ON_PUSH;
    if (!rc)
        rc = repo_frequency(c, j->repo, j->repo_id, &type, &freq);
    bool continuous = j->type == SCAN_TYPE_ENHANCED && freq == SCAN_FREQ_CONTINUOUS;
    enum scan_status status = continuous ? SCAN_STATUS_ACTIVE : SCAN_STATUS_COMPLETE;
    const char *desc = continuous ? SVC_DESC_CONTINUOUS : SVC_DESC_COMPLETE;
    bool initial = false;
    sqlite3_stmt *st;
    if (!rc)
        rc = meta_stmt(c, "SELECT completed_at IS NULL FROM scan_results WHERE id = ?1", &st);
    if (!rc) {
        meta_bind_int(st, 1, j->result_id);
        initial = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
        meta_done(st);
        rc = meta_stmt(c,
                       "UPDATE scan_results SET status = ?2, description = ?3, completed_at = ?4,"
                       " evaluated_at = ?4, vuln_updated_at = ?5, vuln_import = ?6,"
                       " inventory = ?7, frequency = ?8 WHERE id = ?1",
                       &st);
    }
    if (!rc) {
        meta_bind_int(st, 1, j->result_id);
        meta_bind_int(st, 2, status);
        meta_bind_text(st, 3, desc);
        meta_bind_int(st, 4, now);
        if (source_time)
            meta_bind_int(st, 5, source_time);
        meta_bind_int(st, 6, import_id);
        meta_bind_blob(st, 7, blob->data, blob->len);
        meta_bind_int(st, 8, freq);
        rc = meta_step_done(c, st);
    }
    const char **tags = NULL;
    size_t ntags = 0;
    if (!rc)
        rc = svc_image_tags(c, j->manifest_id, a, &tags, &ntags);
    if (rc) {
        diag_set(d, rc, 0, "cannot store the scan result");
        meta_rollback(c);
        return rc;
    }
    struct svc_image img = { j->result_id, j->repo_id, j->manifest_id, j->repo, j->digest,
                             j->type,      inv,        tags,           ntags };
    rc = svc_apply(svc, c, &img, groups, NULL, false, now, a, NULL, d);
    if (!rc)
        rc = svc_index_write(c, j->result_id, inv, j->type);
    if (!rc)
        rc = job_delete(c, j);
    if (!rc) {
        rc = scan_event_send(svc, c, j, tags, ntags, status, desc, initial, now);
        if (rc)
            diag_set(d, rc, 0, "the event callback refused the scan event");
    }
    if (rc && !d->msg[0])
        diag_set(d, rc, 0, "cannot store the scan result: %s", err_str(rc));
    return svc_end_tx(c, rc);
}

static bool has_lang(const struct inventory *inv)
{
    for (size_t i = 0; i < inv->pkgs.items.n; i++)
        if (pkg_type_is_lang(inv->pkgs.items.v[i].type))
            return true;
    return false;
}

/* Open the worker's vulnerability database handle when it has none. */
static int vdb_ensure(struct scan_service *svc, struct vulndb **vdb, struct diag *d)
{
    if (*vdb)
        return 0;
    return vulndb_open(svc->vulndb_path, vdb, d);
}

static int job_run(struct scan_service *svc, struct meta_conn *c, struct vulndb **vdb,
                   const struct job *j)
{
    struct inventory inv;
    struct arena a;
    struct diag d = { 0 };
    struct buf blob;
    inventory_init(&inv);
    arena_init(&a);
    buf_init(&blob, SVC_INV_RAW_MAX);
    int rc;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (j->attempts > (int)svc->cfg.max_attempts) {
        char desc[128];
        snprintf(desc, sizeof(desc), "The scan was interrupted %d times; it is not retried.",
                 j->attempts - 1);
        rc = job_finish_status(svc, c, j, SCAN_STATUS_FAILED, desc, false);
        goto out;
    }
    rc = job_inventory(svc, c, j, &inv, &d);
    if (rc == -ERR_UNSUPPORTED || rc == -ERR_PLATFORM) {
        char desc[400];
        snprintf(desc, sizeof(desc), "UnsupportedImageError: %s", d.msg);
        rc = job_finish_status(svc, c, j, SCAN_STATUS_UNSUPPORTED_IMAGE, desc, false);
        goto out;
    }
    if (rc) {
        log_warn("scan", "%s", d.msg);
        /* the store's own failures may pass; a broken image will not */
        bool transient = rc == -EBUSY || rc == -ERR_DB || rc == -EIO || rc == -ENOSPC;
        rc = job_finish_status(svc, c, j, SCAN_STATUS_FAILED, d.msg, transient);
        goto out;
    }
    const char *eco = svc_os_ecosystem(&inv, &a);
    if (!eco && (j->type == SCAN_TYPE_BASIC || !has_lang(&inv))) {
        rc = job_finish_status(svc, c, j, SCAN_STATUS_UNSUPPORTED_IMAGE, SVC_DESC_UNSUPPORTED,
                               false);
        goto out;
    }
    rc = svc_inv_encode(&inv, &blob);
    if (!rc)
        rc = vdb_ensure(svc, vdb, &d);
    if (rc) {
        if (!d.msg[0])
            diag_set(&d, rc, 0, "cannot store the inventory: %s", err_str(rc));
        log_error("scan", "%s@%s: %s", j->repo, j->digest, d.msg);
        rc = job_finish_status(svc, c, j, SCAN_STATUS_FAILED, d.msg, true);
        goto out;
    }
    int64_t source_time = svc_vuln_source_time(svc->vulndb_path);
    for (int attempt = 0;; attempt++) {
        int64_t import_id = 0;
        bool build;
        struct svc_matched mt;
        svc_groups groups = VEC_INIT;
        struct arena ma;
        arena_init(&ma);
        rc = svc_vulndb_import(*vdb, &import_id, &build, &d);
        if (!rc)
            rc = svc_match(*vdb, &inv, j->type, NULL, NULL, &ma, &mt, &d);
        if (!rc) {
            svc_groups_build(&mt, j->type, &ma, &groups);
            /* the last attempt stores what it has: a database replaced by an older build
             * (lower import ids) must not fail every scan until the next rescan */
            rc = job_store(svc, c, j, &inv, &blob, &groups, import_id, source_time,
                           attempt >= RESCAN_RETRIES, &ma, &d);
            svc_matched_release(&mt);
        }
        VEC_FREE(&groups);
        arena_release(&ma);
        if (rc != -EAGAIN || attempt >= RESCAN_RETRIES)
            break;
    }
    if (rc) {
        log_error("scan", "%s@%s: %s", j->repo, j->digest, d.msg[0] ? d.msg : err_str(rc));
        rc = job_finish_status(svc, c, j, SCAN_STATUS_FAILED, d.msg[0] ? d.msg : err_str(rc), true);
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    log_info("scan", "%s@%s: %s scan of %zu packages in %.2f s", j->repo, j->digest,
             scan_type_name(j->type), inv.pkgs.items.n,
             (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
out:
    buf_release(&blob);
    arena_release(&a);
    inventory_release(&inv);
    return rc;
}

/* 1 when a job ran, 0 when none was queued, <0 on a storage error. */
static int run_one(struct scan_service *svc, struct vulndb **vdb, bool look_first)
{
    struct meta_conn *c;
    int rc = meta_conn_get(svc->cfg.db, &c);
    if (rc)
        return rc;
    struct job j = { 0 };
    rc = job_claim(svc, c, look_first, &j);
    if (rc <= 0)
        return rc;
    rc = job_run(svc, c, vdb, &j);
    return rc ? rc : 1;
}

int scan_service_run_pending(struct scan_service *svc, size_t max, size_t *ran)
{
    struct vulndb *vdb = NULL;
    size_t n = 0;
    int rc = 0;
    while (!max || n < max) {
        rc = run_one(svc, &vdb, false);
        if (rc <= 0)
            break;
        n++;
        rc = 0;
    }
    vulndb_close(vdb);
    if (ran)
        *ran = n;
    return rc < 0 ? rc : 0;
}

void scan_service_request_rescan(struct scan_service *svc)
{
    pthread_mutex_lock(&svc->lock);
    svc->rescan_wanted = true;
    pthread_cond_broadcast(&svc->wake);
    pthread_mutex_unlock(&svc->lock);
}

static void *worker_main(void *arg)
{
    struct scan_service *svc = arg;
    struct vulndb *vdb = NULL;
    unsigned seen = 0;
    bool kicked = true; /* look at once after start */
    int64_t next_check = svc_now(svc);
    for (;;) {
        pthread_mutex_lock(&svc->lock);
        bool stop = svc->stopping;
        seen = svc->kicks;
        pthread_mutex_unlock(&svc->lock);
        if (stop)
            break;
        int rc = run_one(svc, &vdb, !kicked);
        if (rc > 0)
            continue;
        if (rc < 0)
            log_error("scan", "scan worker: %s", err_str(rc));
        /* vulnerability data updates: one worker re-evaluates, the others keep scanning */
        pthread_mutex_lock(&svc->lock);
        bool want = svc->rescan_wanted;
        pthread_mutex_unlock(&svc->lock);
        int64_t now = svc_now(svc);
        if (want || (svc->cfg.rescan_poll_s > 0 && now >= next_check)) {
            next_check = now + svc->cfg.rescan_poll_s;
            pthread_mutex_lock(&svc->lock);
            bool mine = want || !svc->rescan_running;
            svc->rescan_wanted = false;
            pthread_mutex_unlock(&svc->lock);
            if (mine) {
                struct diag d = { 0 };
                struct scan_rescan_stats st;
                int rrc = scan_service_rescan(svc, &st, &d);
                if (rrc && rrc != -ERR_NOT_FOUND)
                    log_error("scan", "rescan: %s", d.msg[0] ? d.msg : err_str(rrc));
            }
        }
        pthread_mutex_lock(&svc->lock);
        if (!svc->stopping && svc->kicks == seen && !svc->rescan_wanted) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += svc->cfg.poll_ms / 1000;
            ts.tv_nsec += (long)(svc->cfg.poll_ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&svc->wake, &svc->lock, &ts);
        }
        kicked = svc->kicks != seen;
        pthread_mutex_unlock(&svc->lock);
    }
    vulndb_close(vdb);
    meta_thread_done(svc->cfg.db);
    return NULL;
}
