/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the scan service (service.c, svc_*.c): the service struct, matching an inventory
 * into stored finding groups, writing them with their lifecycle (created / updated / closed
 * and the events), the finding JSON through the report writers, and small database helpers.
 * Every function taking a meta_conn runs on the calling thread's connection. */
#ifndef VIGIL_SCAN_SVC_INTERNAL_H
#define VIGIL_SCAN_SVC_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/vec.h"
#include "scan/inventory.h"
#include "scan/service.h"
#include "scan/svc_codec.h"
#include "vulndb/match.h"

#define SVC_DESC_COMPLETE   "The scan was completed successfully."
#define SVC_DESC_CONTINUOUS "Continuous scan is selected for image."
#define SVC_DESC_PENDING    "Pending start of the image scan."
#define SVC_DESC_UNSUPPORTED \
    "UnsupportedImageError: The operating system and/or package manager are not supported."
#define SVC_DESC_EXPIRED \
    "Continuous scanning of this image has ended: it was pushed longer ago than the scan duration."

/* scan_jobs.kind */
enum svc_job_kind { SVC_JOB_PUSH = 1, SVC_JOB_MANUAL = 2, SVC_JOB_COVERAGE = 3 };
/* scan_findings.status */
enum svc_finding_status { SVC_ACTIVE = 0, SVC_CLOSED = 1 };

struct scan_service {
    struct scan_service_config cfg; /* its strings point at the copies below */
    char *vulndb_path, *cache_dir, *platform, *account, *region;
    pthread_mutex_t lock; /* guards the fields below */
    pthread_cond_t wake;
    bool started, stopping, rescan_wanted, rescan_running;
    unsigned kicks; /* jobs queued here since the workers last looked */
    pthread_t *threads;
    size_t nthreads;
    pthread_mutex_t rescan_lock; /* one rescan at a time */
};

int64_t svc_now(const struct scan_service *svc);
/* The repository's id: 0, -ERR_NOT_FOUND or -ERR_DB. */
int svc_repo_id(struct meta_conn *c, const char *name, int64_t *id);
/* The tags on a manifest, most recently set first (strings and array in a). 0 or -ERR_DB. */
int svc_image_tags(struct meta_conn *c, int64_t manifest_id, struct arena *a, const char ***tags,
                   size_t *n);
/* Transaction helper: rollback when rc != 0, commit otherwise; returns the final code. */
int svc_end_tx(struct meta_conn *c, int rc);
/* Queue a job for an image (inside the caller's transaction): upsert its result with the new
 * status, drop findings of another scan type, insert the job. 0, -EEXIST (a job for it is
 * already queued or running: left alone) or -ERR_DB. */
int svc_queue_job(struct scan_service *svc, struct meta_conn *c, int64_t repo_id,
                  int64_t manifest_id, const char *digest, enum scan_type type,
                  enum scan_frequency freq, enum svc_job_kind kind, int64_t now);
/* A manifest the scanner reads as an image: an image manifest whose config is an image config
 * (a referrer or another artifact is not), or an index when indexes are scanned. */
bool svc_is_scannable(const struct scan_service *svc, const char *media_type, const char *subject,
                      const char *artifact_type);
/* x[0..xn) "\x1f" y in a: the keys of package pairs. */
char *svc_join(struct arena *a, const char *x, size_t xn, const char *y);
/* Wake the workers (a job was queued). */
void svc_kick(struct scan_service *svc);

/* ---- matching ---- */

/* Findings of an inventory: fl's pkg pointers point into inv->pkgs, idx[i] is the package
 * index of fl.items.v[i]. */
struct svc_matched {
    struct finding_list fl;
    VEC(uint32_t) idx;
};
void svc_matched_release(struct svc_matched *m);

/* The OSV ecosystem of the inventory's OS (allocated in a), or NULL. */
const char *svc_os_ecosystem(const struct inventory *inv, struct arena *a);
struct svc_match_cache;
/* Match like `vigil scan` (OS packages against the OS's ecosystem; with ENHANCED also every
 * distinct language package against its ecosystem), only the packages with subset[i] != 0
 * when subset is not NULL. Default match options (no filters). 0 or <0 with d set. */
int svc_match(struct vulndb *vdb, const struct inventory *inv, enum scan_type type,
              const unsigned char *subset, struct svc_match_cache *cache, struct arena *a,
              struct svc_matched *out, struct diag *d);
/* Findings per distinct package (ecosystem, names, versions) for the images of one rescan:
 * most images share most packages. The findings' strings live in the cache, which must
 * outlive every svc_matched filled through it. */
struct svc_match_cache *svc_match_cache_new(void);
void svc_match_cache_free(struct svc_match_cache *c);
/* The (ecosystem, package name) under which the matcher looks a package up, as the
 * vulnerability database's change records name it: name into buf (n bytes); NULL when the
 * package is not matched (language package under BASIC, OS without data). */
const char *svc_pkg_pair(const struct pkg *p, const char *os_eco, enum scan_type type, char *buf,
                         size_t n, const char **eco);

/* ---- stored findings ---- */

/* One stored finding: a basic finding (one package) or an enhanced one (a vulnerability id
 * with every package it affects). */
struct svc_group {
    const char *key; /* scan_findings.fkey */
    const char *vuln_id;
    enum severity severity; /* the most severe member's */
    const char *fix;        /* "YES", "NO", "PARTIAL" */
    unsigned char chash[SVC_HASH_LEN];
    struct svc_member *m;
    size_t n;
};
typedef VEC(struct svc_group) svc_groups;

/* Group matched findings as the type stores them, computing each member's record and hash;
 * the records are kept in a for svc_apply() to store. */
void svc_groups_build(const struct svc_matched *mt, enum scan_type type, struct arena *a,
                      svc_groups *out);
/* Sort a group's members by package and compute severity, fix and content hash. */
void svc_group_finish(struct svc_group *g, struct arena *a);

/* The image a result is about, for writing findings and building their JSON. */
struct svc_image {
    int64_t result_id, repo_id, manifest_id;
    const char *repo, *digest;
    enum scan_type type;
    const struct inventory *inv;
    const char *const *tags;
    size_t ntags;
};

/* Finding records by hash, looked up once per call chain. */
struct svc_rec_slot {
    unsigned char h[SVC_HASH_LEN];
    const struct finding *f;
};
struct svc_records {
    struct arena *a; /* where decoded records live */
    VEC(struct svc_rec_slot) v;
};
void svc_records_release(struct svc_records *r);
/* Fill m[i].f from the records (scan_vulns) where still NULL. 0, -ERR_CORRUPT (missing or
 * damaged record), -ERR_DB. */
int svc_records_resolve(struct svc_records *r, struct meta_conn *c, struct svc_member *m, size_t n,
                        struct diag *d);

/* The finding JSON (basic ImageScanFinding or enhanced EnhancedImageScanFinding) of members
 * whose records are resolved, through the ECR report writer, with the stored status and times
 * on enhanced findings. NULL only when the writer fails (logged). New reference. */
json_t *svc_finding_json(const struct scan_service *svc, const struct svc_image *img,
                         const struct svc_member *m, size_t n, int status, int64_t first,
                         int64_t last, int64_t updated);

struct svc_apply_stats {
    size_t created, updated, closed;
};
/* Write new findings of img (inside the caller's transaction), against what is stored:
 *   subset NULL: the new set replaces the stored one;
 *   subset set:  only stored findings with a member package in the subset, and new ones, are
 *                considered; stored members outside the subset are kept in their groups.
 * Enhanced findings keep first/last observed and status and send finding events (rescan says
 * what caused them); basic findings are replaced. Counts on the result row are recomputed.
 * 0 or <0 (-ERR_DB, -ERR_CORRUPT, the event callback's code) with d set. */
int svc_apply(struct scan_service *svc, struct meta_conn *c, const struct svc_image *img,
              svc_groups *groups, const unsigned char *subset, bool rescan, int64_t now,
              struct arena *a, struct svc_apply_stats *st, struct diag *d);
/* Replace the result's package index rows (ENHANCED results only: what rescans look up). */
int svc_index_write(struct meta_conn *c, int64_t result_id, const struct inventory *inv,
                    enum scan_type type);
/* Remove vulnerability records no finding refers to. 0 or -ERR_DB. */
int svc_gc_records(struct meta_conn *c, size_t *removed);

/* The last vulnerability data import and whether it was a full build. 0 or <0 with d. */
int svc_vulndb_import(struct vulndb *vdb, int64_t *id, bool *build, struct diag *d);
/* vulnerabilitySourceUpdatedAt of the database at path (0 when unknown). */
int64_t svc_vuln_source_time(const char *path);

/* scan_state rows. */
int svc_state_get(struct meta_conn *c, const char *key, int64_t *value, bool *found);
int svc_state_set(struct meta_conn *c, const char *key, int64_t value);

#endif
