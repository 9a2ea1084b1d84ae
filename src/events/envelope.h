/* SPDX-License-Identifier: Apache-2.0 */
/* The events vigil publishes, in EventBridge's envelope: ECR Image Action / Image Scan / Scan
 * Resource Change, Inspector2 Scan / Finding, and PutEvents entries turned into events (with
 * EventBridge's per-entry validation). Keys come out in the order AWS emits them. */
#ifndef VIGIL_EVENTS_ENVELOPE_H
#define VIGIL_EVENTS_ENVELOPE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/buf.h"

/* "2019-10-29T02:36:48Z" plus NUL */
#define EVENT_TIME_LEN 21
/* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" plus NUL */
#define EVENT_ID_LEN 37
/* PutEvents limits */
#define PUT_EVENTS_MAX_ENTRIES 10
#define PUT_EVENTS_MAX_BYTES   ((size_t)256 * 1024)

/* Fields every event carries besides its type and detail (borrowed strings). Tests inject
 * id and time; production code fills them from event_new_id() and event_format_time(). */
struct event_meta {
    const char *id;      /* UUID v4 */
    const char *account; /* 12 digits */
    const char *region;
    const char *time; /* ISO 8601 UTC, second precision, "Z" */
};

/* A fresh random UUID v4 in out. 0, or -errno when no randomness could be read. */
int event_new_id(char out[EVENT_ID_LEN]);
/* t as "2019-10-29T02:36:48Z". 0, or -ERR_INVALID when t cannot be represented. */
int event_format_time(time_t t, char out[EVENT_TIME_LEN]);
/* t as Inspector's finding timestamps read in its events: "Dec 3, 2021, 6:02:30 PM" (UTC).
 * out must hold 32 bytes. 0 or -ERR_INVALID. */
int inspector_format_time(time_t t, char out[32]);
/* "arn:aws:ecr:<region>:<account>:repository/<name>" (owned). */
char *ecr_repository_arn(const char *region, const char *account, const char *name);

/*
 * The envelope {version "0", id, detail-type, source, account, time, region, resources,
 * detail}. resources (an array) and detail (an object) are stolen; a NULL resources gives [].
 * Returns a new object.
 */
json_t *event_envelope(const struct event_meta *m, const char *detail_type, const char *source,
                       json_t *resources, json_t *detail);

/* The event as compact JSON text (see jsonpath_dump). 0 or -ERR_TOO_BIG. */
int event_to_text(const json_t *event, struct buf *out);

/* Severity counts of one image's findings. */
struct severity_counts {
    unsigned long long critical, high, medium, low, informational, undefined;
};

/* "ECR Image Action", source aws.ecr, resources []. */
struct ecr_image_action {
    const char *action_type; /* "PUSH" or "DELETE" */
    const char *result;      /* "SUCCESS" or "FAILURE" */
    const char *repository_name;
    const char *image_digest;
    const char *image_tag;           /* omitted when NULL (push by digest) */
    const char *manifest_media_type; /* omitted when NULL */
    const char *artifact_media_type; /* omitted when NULL */
};
/* detail {result, repository-name, image-digest, action-type, image-tag, manifest-media-type,
 * artifact-media-type}. New object. */
json_t *ecr_image_action_event(const struct event_meta *m, const struct ecr_image_action *a);

/* "ECR Image Scan" (basic scan finished), source aws.ecr, resources [repository ARN]. */
struct ecr_image_scan {
    const char *scan_status; /* "COMPLETE" (or "FAILED") */
    const char *repository_name;
    struct severity_counts counts;
    const char *image_digest;
    const char *const *image_tags;
    size_t n_image_tags;
};
/* detail {scan-status, repository-name, finding-severity-counts (only the non-zero counts,
 * CRITICAL HIGH MEDIUM LOW INFORMATIONAL UNDEFINED; {} when none), image-digest, image-tags}. */
json_t *ecr_image_scan_event(const struct event_meta *m, const struct ecr_image_scan *s);

/* "ECR Scan Resource Change" (enhanced scanning), source aws.ecr, resources []. */
struct ecr_scan_repository {
    const char *repository_name;
    const char *scan_frequency;          /* SCAN_ON_PUSH, CONTINUOUS_SCAN, MANUAL */
    const char *previous_scan_frequency; /* omitted when NULL */
};
struct ecr_scan_resource_change {
    const char *action_type;   /* NULL: "SCAN_FREQUENCY_CHANGE" */
    const char *resource_type; /* NULL: "REPOSITORY" */
    const char *scan_type;     /* NULL: "ENHANCED" */
    const struct ecr_scan_repository *repositories;
    size_t n_repositories;
};
/* detail {action-type, repositories[{repository-name, repository-arn, scan-frequency,
 * previous-scan-frequency}], resource-type, scan-type}. */
json_t *ecr_scan_resource_change_event(const struct event_meta *m,
                                       const struct ecr_scan_resource_change *c);

/* "Inspector2 Scan" (initial enhanced scan done), source aws.inspector2, resources [repo ARN].
 * detail {scan-status, repository-name (the repository ARN, as Inspector sends it),
 * finding-severity-counts {CRITICAL, HIGH, MEDIUM when non-zero, TOTAL always (all
 * severities)}, image-digest, image-tags}. */
struct inspector2_scan {
    const char *scan_status; /* NULL: "INITIAL_SCAN_COMPLETE" */
    const char *repository_name;
    struct severity_counts counts;
    const char *image_digest;
    const char *const *image_tags;
    size_t n_image_tags;
};
json_t *inspector2_scan_event(const struct event_meta *m, const struct inspector2_scan *s);

/* One CVSS rating in packageVulnerabilityDetails.cvss. */
struct inspector2_cvss {
    double base_score;
    const char *scoring_vector;
    const char *source;  /* "NVD", "DEBIAN_CVE", ... */
    const char *version; /* "3.1", "2.0", ... */
};

/* One entry of vulnerablePackages; NULL strings are omitted. */
struct inspector2_package {
    const char *arch;
    long long epoch;
    const char *file_path;
    const char *fixed_in_version;
    const char *name;
    const char *package_manager; /* "OS", "NPM", "PYTHONPKG", ... */
    const char *release;
    const char *remediation;
    const char *source_layer_hash;
    const char *version;
};

/* "Inspector2 Finding" (created, updated or closed), source aws.inspector2, resources
 * ["arn:aws:ecr:<r>:<a>:repository/<name>/<digest>"]. Detail keys are alphabetical as in
 * Inspector's events; NULL strings and unset optional numbers are omitted. */
struct inspector2_finding {
    const char *finding_id; /* findingArn = arn:aws:inspector2:<r>:<a>:finding/<id> */
    const char *title;      /* "CVE-2019-17498 - libssh2" */
    const char *description;
    const char *severity; /* INFORMATIONAL LOW MEDIUM HIGH CRITICAL UNTRIAGED */
    const char *status;   /* ACTIVE SUPPRESSED CLOSED */
    const char *type;     /* NULL: "PACKAGE_VULNERABILITY" */
    const char *first_observed_at, *last_observed_at, *updated_at; /* inspector_format_time */
    bool has_inspector_score;
    double inspector_score;
    /* inspectorScoreDetails.adjustedCvss, present when adjusted_source is set */
    const char *adjusted_source; /* cvssSource and scoreSource */
    const char *adjusted_vector;
    const char *adjusted_version;
    double adjusted_score;
    /* packageVulnerabilityDetails */
    const struct inspector2_cvss *cvss;
    size_t n_cvss;
    const char *const *reference_urls;
    size_t n_reference_urls;
    const char *vuln_source; /* "NVD", "DEBIAN_CVE", "GITHUB", ... */
    const char *source_url;
    const char *vendor_created_at;
    const char *vendor_severity;
    const char *vulnerability_id;
    const struct inspector2_package *packages;
    size_t n_packages;
    /* remediation.recommendation */
    const char *remediation_text;
    const char *remediation_url;
    /* resources[0].details.awsEcrContainerImage */
    const char *repository_name;
    const char *image_digest;
    const char *architecture;
    const char *platform;
    const char *pushed_at;
    const char *const *image_tags;
    size_t n_image_tags;
    /* current Inspector fields */
    const char *fix_available;     /* YES NO PARTIAL */
    const char *exploit_available; /* YES NO */
    const char *last_known_exploit_at;
    bool has_epss;
    double epss_score;
};
json_t *inspector2_finding_event(const struct event_meta *m, const struct inspector2_finding *f);

/* One PutEvents entry as received (borrowed, NUL-terminated; NULL = absent). */
struct put_events_entry {
    const char *source;
    const char *detail_type;
    const char *detail; /* JSON object text */
    const char *const *resources;
    size_t n_resources;
    bool has_time;
    double time; /* epoch seconds, as the JSON protocol carries timestamps */
    const char *event_bus_name;
};

/* A refused entry's result: ErrorCode and ErrorMessage (static strings). */
struct put_events_error {
    const char *code;
    const char *message;
};

/* The entry's size as EventBridge counts it toward PUT_EVENTS_MAX_BYTES: 14 for Time, plus the
 * UTF-8 bytes of Source, DetailType, Detail and each resource. */
size_t put_events_entry_size(const struct put_events_entry *e);

/* Whole-request check: NULL when the entries fit, else the ValidationException message
 * ("Total size of the entries in the request is over the limit."). */
const char *put_events_check_total(const struct put_events_entry *e, size_t n);

/*
 * Check one entry. 0 when it is accepted; otherwise -ERR_INVALID and *err is
 *   InvalidArgument "Parameter Source is not valid. Reason: Source is a required argument."
 *   (likewise DetailType, Detail; a missing or empty value counts as absent), or
 *   MalformedDetail "Detail is malformed." (not JSON, or JSON that is not an object).
 */
int put_events_entry_check(const struct put_events_entry *e, struct put_events_error *err);

/*
 * The event an accepted entry becomes: envelope with m->id, m->account, m->region, the
 * entry's Time (whole seconds, UTC) or m->time, its Resources or [], and the parsed Detail.
 * NULL when the entry does not pass put_events_entry_check().
 */
json_t *put_events_entry_event(const struct event_meta *m, const struct put_events_entry *e);

#endif
