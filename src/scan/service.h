/* SPDX-License-Identifier: Apache-2.0 */
/* The scanning engine of `vigil serve`: which pushed images are scanned (ECR's registry
 * scanning configuration and the per-repository scanOnPush flag), a job queue in the metadata
 * database served by worker threads that read images straight from vigil's own store, the
 * stored results and findings behind ECR's DescribeImages / DescribeImageScanFindings, manual
 * scans with ECR's once-a-day limit, and the continuous re-evaluation of enhanced results when
 * the vulnerability database changes (from the stored inventories: no layer is read again).
 * State changes and the events they cause are written in one transaction. docs/SCANNING-
 * SERVER.md explains the behaviour; this header is the contract. */
#ifndef VIGIL_SCAN_SERVICE_H
#define VIGIL_SCAN_SERVICE_H

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/blob_store.h"
#include "store/meta.h"
#include "vulndb/finding.h"

struct scan_service;

/* ---- enums (ECR's names) ------------------------------------------------------------------ */

enum scan_type {
    SCAN_TYPE_BASIC = 0,    /* OS packages (ECR basic scanning) */
    SCAN_TYPE_ENHANCED = 1, /* OS and language packages (Amazon Inspector through ECR) */
};

enum scan_frequency {
    SCAN_FREQ_MANUAL = 0,       /* scanned only by StartImageScan */
    SCAN_FREQ_SCAN_ON_PUSH = 1, /* scanned when pushed */
    SCAN_FREQ_CONTINUOUS = 2,   /* ENHANCED: scanned when pushed, re-evaluated on new data */
    SCAN_FREQ_NONE = 3,         /* ENHANCED and no filter matches: scanning is off */
};

enum scan_status {
    SCAN_STATUS_IN_PROGRESS = 1,
    SCAN_STATUS_COMPLETE = 2,
    SCAN_STATUS_FAILED = 3,
    SCAN_STATUS_UNSUPPORTED_IMAGE = 4,
    SCAN_STATUS_ACTIVE = 5,
    SCAN_STATUS_PENDING = 6,
    SCAN_STATUS_SCAN_ELIGIBILITY_EXPIRED = 7,
    SCAN_STATUS_FINDINGS_UNAVAILABLE = 8,
};

/* "BASIC"/"ENHANCED", "SCAN_ON_PUSH"/"CONTINUOUS_SCAN"/"MANUAL" (NONE reads "MANUAL", the
 * value ECR's enum has for "not scanned"), "IN_PROGRESS"/"COMPLETE"/...; never NULL. */
const char *scan_type_name(enum scan_type t);
const char *scan_frequency_name(enum scan_frequency f);
const char *scan_status_name(enum scan_status s);

/* StartImageScan refused by the per-image limit: the ECR API answers LimitExceededException
 * ("The scan quota per image has been exceeded. Wait and try again."). err.def has no code of
 * its own for it yet, so an errno value no other path of the service returns stands in. */
#define SCAN_ERR_LIMIT (-EDQUOT)

/* ---- registry scanning configuration (PutRegistryScanningConfiguration) ------------------ */

#define SCAN_RULES_MAX      2
#define SCAN_FILTERS_MAX    100
#define SCAN_FILTER_LEN_MAX 255

struct scan_rule {
    enum scan_frequency frequency; /* SCAN_ON_PUSH, CONTINUOUS or MANUAL */
    size_t nfilters;
    char **filters; /* owned; filterType is always WILDCARD */
};

struct scan_config {
    enum scan_type type;
    size_t nrules;
    struct scan_rule rules[SCAN_RULES_MAX];
};

/* The default ECR has before any PutRegistryScanningConfiguration: BASIC, no rules. */
void scan_config_init(struct scan_config *c);
void scan_config_release(struct scan_config *c);
/* Parse and validate a PutRegistryScanningConfiguration body ({scanType?, rules?}) as the ECR
 * model constrains it: scanType BASIC|ENHANCED (default BASIC), at most 2 rules, each with a
 * scanFrequency the scan type supports (BASIC: SCAN_ON_PUSH, MANUAL; ENHANCED: SCAN_ON_PUSH,
 * CONTINUOUS_SCAN) and 0-100 repositoryFilters {filter (1-255 chars, ^[a-z0-9*](?:[._\-/a-z0-9*]?
 * [a-z0-9*]+)*$), filterType WILDCARD}. Errors: -ERR_INVALID with ECR-style text in d (the API
 * answers ValidationException for enum/shape errors, InvalidParameterException otherwise; the
 * message is the same). *out is initialised in every case. */
int scan_config_from_json(const json_t *body, struct scan_config *out, struct diag *d);
/* {scanType, rules: [{scanFrequency, repositoryFilters: [{filter, filterType}]}]}: the shape of
 * registryScanningConfiguration / scanningConfiguration. New reference. */
json_t *scan_config_to_json(const struct scan_config *c);
/* ECR's filter rule: a filter without '*' matches any repository name containing it; with '*'
 * it must match the whole name, each '*' standing for zero or more characters. */
bool scan_filter_matches(const char *filter, const char *repo);

/* How a repository is scanned under c (ECR's precedence, docs/SCANNING-SERVER.md):
 *   BASIC:    a matching SCAN_ON_PUSH rule, or the repository's own scanOnPush, gives
 *             SCAN_ON_PUSH; otherwise MANUAL.
 *   ENHANCED: a matching CONTINUOUS_SCAN rule wins over a matching SCAN_ON_PUSH rule; no match
 *             is NONE (the repository's scanOnPush flag is not consulted).
 * applied (may be NULL) receives the filters of the deciding rule that match (borrowed from c,
 * at most SCAN_FILTERS_MAX): BatchGetRepositoryScanningConfiguration's appliedScanFilters. */
enum scan_frequency scan_config_frequency(const struct scan_config *c, const char *repo,
                                          bool repo_scan_on_push, const char **applied,
                                          size_t *napplied);

/* The stored configuration (the default when never set). Any thread's connection; inside or
 * outside a transaction. 0 or -ERR_DB (-ERR_CORRUPT for a row that does not parse). */
int scan_config_load(struct meta_conn *c, struct scan_config *out);
/* Store the configuration (own transaction on the calling thread's connection). Images of
 * repositories that it makes CONTINUOUS_SCAN and that have no enhanced result yet are queued
 * for an enhanced scan, as ECR starts Inspector coverage of existing images. 0 or -ERR_DB. */
int scan_service_put_config(struct scan_service *svc, const struct scan_config *cfg);

/* The repository-level flag (CreateRepository / PutImageScanningConfiguration); false when it
 * was never set. Use the caller's connection so it can join a transaction. 0 or -ERR_DB. */
int scan_repo_scan_on_push_get(struct meta_conn *c, int64_t repo_id, bool *out);
int scan_repo_scan_on_push_set(struct meta_conn *c, int64_t repo_id, bool scan_on_push);

/* ---- events ------------------------------------------------------------------------------ */

enum scan_event_kind {
    /* a scan finished: BASIC -> "ECR Image Scan", ENHANCED -> "Inspector2 Scan" (when initial) */
    SCAN_EVENT_SCAN = 1,
    /* ENHANCED findings: "Inspector2 Finding" */
    SCAN_EVENT_FINDING_CREATED = 2,
    SCAN_EVENT_FINDING_UPDATED = 3,
    SCAN_EVENT_FINDING_CLOSED = 4,
};

/* What happened; every pointer is valid only during the callback. */
struct scan_event {
    enum scan_event_kind kind;
    enum scan_type scan_type;
    const char *repo;
    int64_t repo_id;
    const char *digest;      /* the image manifest's */
    const char *const *tags; /* the image's tags, most recently set first */
    size_t ntags;
    int64_t at; /* unix seconds */
    /* SCAN_EVENT_SCAN */
    enum scan_status status;    /* COMPLETE, ACTIVE, FAILED or UNSUPPORTED_IMAGE */
    const char *description;    /* imageScanStatus.description */
    unsigned counts[SEV_COUNT]; /* findingSeverityCounts (active findings), by enum severity */
    bool initial;               /* the image's first completed scan (INITIAL_SCAN_COMPLETE) */
    /* SCAN_EVENT_FINDING_* */
    bool rescan;             /* caused by a vulnerability data update, not by a scan */
    const char *finding_arn; /* "arn:aws:inspector2:<region>:<account>:finding/<id>" */
    const char *vulnerability_id;
    enum severity severity;
    const json_t *finding; /* the enhanced finding (Inspector's Finding shape, as in
                            * enhancedFindings, with status ACTIVE or CLOSED); borrowed */
};

/* Called inside the transaction that stores the change, on connection c, so rows it writes
 * (the event bus's outbox) commit or roll back with it. Return 0, or <0 to roll back: a scan
 * is then retried (up to max_attempts) and a rescan stops with that error. */
typedef int (*scan_event_fn)(void *ctx, struct meta_conn *c, const struct scan_event *ev);

/* ---- the service ------------------------------------------------------------------------- */

typedef int64_t (*scan_now_fn)(void *ctx);

struct scan_service_config {
    struct meta_db *db;            /* required, borrowed: the registry's metadata database */
    struct blob_store *blobs;      /* required, borrowed: where the layers are */
    const char *vulndb_path;       /* required: the vulnerability database (vulndb.sqlite) */
    const char *cache_dir;         /* layer cache directory shared by all scans; NULL = none */
    int workers;                   /* scan threads; 0 = 2; < 0 = none (scan_service_run_pending) */
    int64_t manual_interval_s;     /* StartImageScan once per image per this; 0 = 86400 (ECR);
                                    * < 0 = no limit */
    int64_t continuous_duration_s; /* CONTINUOUS_SCAN keeps re-evaluating an image this long
                                    * after its push, then SCAN_ELIGIBILITY_EXPIRED; 0 = for
                                    * ever (Inspector's "lifetime") */
    int64_t rescan_poll_s;         /* workers look for a new vulnerability data import this
                                    * often; 0 = 60; < 0 = only scan_service_rescan() calls */
    unsigned max_attempts;         /* a job interrupted or failed this often is FAILED; 0 = 3 */
    int poll_ms;                   /* idle workers look for jobs queued by other processes this
                                    * often; 0 = 2000 (jobs queued here wake them at once) */
    bool scan_indexes;             /* also scan image indexes (the platform below) under the
                                    * index digest; default false, as ECR (which scans each
                                    * pushed image manifest and refuses indexes) */
    const char *platform;          /* "os/arch[/variant]" chosen from indexes; NULL =
                                    * linux/amd64 */
    const char *account_id;        /* ARNs; NULL = "000000000000" */
    const char *region;            /* ARNs; NULL = "us-east-1" */
    uint64_t max_file, max_total;  /* inventory caps (inventory_opts); 0 = defaults */
    scan_event_fn on_event;        /* may be NULL */
    void *event_ctx;
    scan_now_fn now; /* NULL = time(NULL) (a seam for tests) */
    void *now_ctx;
};

/* Defaults (zeros: see each field). */
void scan_service_config_init(struct scan_service_config *cfg);

/* Check and copy cfg (strings copied, pointers borrowed). Nothing runs yet. Errors:
 * -ERR_INVALID (db, blobs or vulndb_path missing; d says which). */
int scan_service_new(const struct scan_service_config *cfg, struct scan_service **out,
                     struct diag *d);
/* Requeue the jobs a previous run left claimed (interrupted scans), finish an interrupted
 * rescan's bookkeeping, then start the worker threads. Call once. 0, -ERR_DB or -errno (thread
 * creation). */
int scan_service_start(struct scan_service *svc);
/* Stop the workers: each finishes the job it is running (a scan takes seconds), then exits. A
 * process that dies instead leaves its jobs claimed: the next start requeues them.
 * Idempotent. */
void scan_service_stop(struct scan_service *svc);
/* Stop and free. NULL is a no-op. */
void scan_service_free(struct scan_service *svc);

/* ---- registry hook ------------------------------------------------------------------------ */

enum scan_image_action {
    SCAN_IMAGE_PUSHED = 1,  /* a manifest was stored (registry REG_EVENT_PUSH) */
    SCAN_IMAGE_DELETED = 2, /* a manifest was deleted (REG_EVENT_DELETE) */
};

/* The part of the registry's event the service needs (src/registry is above src/scan, so the
 * server's on_event callback copies these fields from its struct reg_event). */
struct scan_image_event {
    enum scan_image_action action;
    const char *repo;
    int64_t repo_id;
    int64_t manifest_id;
    const char *digest;
    const char *media_type;    /* the manifest's */
    const char *subject;       /* a referrer's subject digest, or NULL */
    const char *artifact_type; /* or NULL */
    bool is_new;               /* PUSHED: the manifest was not in the repository before */
    int64_t at;
};

/* Call from the registry's event callback, inside its transaction, on its connection c.
 * PUSHED: a new image manifest (an index too with scan_indexes; never a referrer: signatures,
 * SBOMs and other artifacts with a subject are not images) whose repository is SCAN_ON_PUSH
 * or CONTINUOUS (scan_config_frequency) gets a queued job and the status IN_PROGRESS (BASIC)
 * or PENDING (ENHANCED); the workers are woken (they see the job once the push commits).
 * DELETED: the image's result, findings and job are removed. Other actions: nothing.
 * 0 or -ERR_DB (the push is then refused: the caller rolls back). */
int scan_service_on_push(struct scan_service *svc, struct meta_conn *c,
                         const struct scan_image_event *ev);

/* ---- StartImageScan ----------------------------------------------------------------------- */

struct scan_status_info {
    enum scan_status status;
    char description[512];
};

/* Queue a scan of repo@digest with the registry's current scan type and report the new
 * status (IN_PROGRESS for BASIC, PENDING for ENHANCED). Errors, with d set:
 *   -ERR_NOT_FOUND         no such repository (RepositoryNotFoundException)
 *   -ERR_MANIFEST_UNKNOWN  no such image in it (ImageNotFoundException)
 *   -ERR_UNSUPPORTED       an index or a non-image artifact (UnsupportedImageTypeException,
 *                          "An artifact with media type '...' cannot be scanned.")
 *   SCAN_ERR_LIMIT         a scan of this image was requested (pushed or manual) less than
 *                          manual_interval_s ago, or one is queued (LimitExceededException)
 *   -ERR_DB */
int scan_service_start_scan(struct scan_service *svc, const char *repo, const char *digest,
                            struct scan_status_info *out, struct diag *d);

/* ---- queries (DescribeImages, DescribeImageScanFindings) ---------------------------------- */

struct scan_summary {
    enum scan_type scan_type;
    enum scan_frequency frequency; /* what selected the scan */
    enum scan_status status;
    char description[512];
    bool has_findings;              /* a scan completed: the fields below are meaningful */
    int64_t completed_at;           /* imageScanCompletedAt (unix seconds) */
    int64_t vuln_source_updated_at; /* vulnerabilitySourceUpdatedAt; 0 = unknown */
    int64_t evaluated_at;           /* last scan or re-evaluation */
    unsigned counts[SEV_COUNT];     /* findingSeverityCounts, by enum severity */
    size_t nfindings;               /* active findings (basic: per package; enhanced: per id) */
};

/* The scan state of repo@digest (any thread; uses the thread's connection). -ENOENT when the
 * image has never been scanned nor queued (ScanNotFoundException), -ERR_NOT_FOUND for an
 * unknown repository, -ERR_DB. */
int scan_service_summary(struct scan_service *svc, const char *repo, const char *digest,
                         struct scan_summary *out);

/* findingSeverityCounts: only the severities that occur, most severe first (ECR). New ref. */
json_t *scan_severity_counts_json(const unsigned counts[SEV_COUNT]);

/* One page of DescribeImageScanFindings for repo@digest (outside any transaction of the
 * calling thread: the page is read in a read transaction of its own): *out receives the
 * imageScanFindings object {imageScanCompletedAt, vulnerabilitySourceUpdatedAt,
 * findingSeverityCounts (whole scan), findings | enhancedFindings (the page: findings offset..
 * offset+limit-1 in report order, most severe first)}, or NULL while no scan has completed; *more
 * tells whether findings follow the page (the API makes a nextToken of offset + limit). Enhanced
 * findings carry the stored firstObservedAt / lastObservedAt / updatedAt / status. sum (may be
 * NULL) receives the summary. limit 0 = 100; capped at 1000. Errors as scan_service_summary, and
 * -ERR_CORRUPT for a stored row that does not decode. */
int scan_service_findings(struct scan_service *svc, const char *repo, const char *digest,
                          size_t offset, size_t limit, struct scan_summary *sum, json_t **out,
                          bool *more, struct diag *d);

/* ---- continuous re-evaluation --------------------------------------------------------------- */

struct scan_rescan_stats {
    int64_t from_import, to_import; /* vulnerability data imports covered: (from, to] */
    bool full;                      /* everything re-evaluated (rebuilt database, pruned changes) */
    size_t pairs;                   /* (ecosystem, package) pairs the imports changed */
    size_t images;                  /* ENHANCED CONTINUOUS_SCAN images looked at */
    size_t evaluated;               /* re-matched from their stored inventory */
    size_t created, updated, closed; /* finding events */
    size_t expired;                  /* marked SCAN_ELIGIBILITY_EXPIRED */
    double seconds;
};

/* Bring every ENHANCED result of a CONTINUOUS_SCAN repository up to date with the
 * vulnerability database: the imports since the last rescan name the (ecosystem, package)
 * pairs they changed, the package index finds the images holding one, and those are
 * re-matched from their stored inventory (only the affected packages; every package when the
 * database was rebuilt or older changes were pruned). Findings are created, updated (severity,
 * fix, texts) or closed with first/last observed times, and their events sent, in batches of
 * transactions. Runs on the calling thread (not an HTTP one); one rescan at a time per service
 * (a second caller waits). The first call on a fresh database records the current import and
 * re-evaluates nothing. st may be NULL. 0, or <0 with d set (-ERR_DB, -ERR_CORRUPT, the
 * event callback's code); -ERR_NOT_FOUND when the vulnerability database does not exist. */
int scan_service_rescan(struct scan_service *svc, struct scan_rescan_stats *st, struct diag *d);
/* Ask a worker to run scan_service_rescan() soon (no-op without worker threads). */
void scan_service_request_rescan(struct scan_service *svc);

/* ---- without worker threads (tests, tools) ----------------------------------------------------
 */

/* Run queued jobs on the calling thread until the queue is empty or max jobs ran (0 = no
 * limit). *ran (may be NULL) counts them. 0 or the first storage error (a scan that fails is
 * not an error: its result says FAILED). */
int scan_service_run_pending(struct scan_service *svc, size_t max, size_t *ran);

#endif
