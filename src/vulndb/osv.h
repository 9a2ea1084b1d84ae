/* SPDX-License-Identifier: Apache-2.0 */
/* Readers for the vulnerability data formats `vigil db import` understands, one JSON document
 * at a time: OSV records (schema 1.x), NVD 1.1 CVE items, CVE JSON 5 records with CISA ADP
 * enrichment, and Alpine secdb documents. Each reader turns a parsed jansson value into a plain
 * C struct; strings are borrowed from the jansson value, which the struct keeps alive until
 * its *_release(). Problems inside a record that do not make the whole record unusable
 * (a malformed range, an unknown ecosystem, a bad version) are reported as warnings on the
 * record and the offending part is dropped. */
#ifndef VIGIL_VULNDB_OSV_H
#define VIGIL_VULNDB_OSV_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"

/* Caps checked before anything is allocated from input sizes. */
#define OSV_MAX_LINE     (64u << 20) /* one JSON document */
#define OSV_MAX_AFFECTED 200000
#define OSV_MAX_EVENTS   10000   /* per range */
#define OSV_MAX_VERSIONS 2000000 /* per affected entry */
#define OSV_MAX_STRINGS  100000  /* aliases, related, references, severity entries */

/* What a JSON document is, decided from its shape (never from the file name). */
enum vin_kind {
    VIN_UNKNOWN = 0,
    VIN_OSV = 1,   /* OSV record: a string "id" (and none of the shapes below) */
    VIN_NVD = 2,   /* NVD 1.1 CVE item: "cve".CVE_data_meta + "impact" */
    VIN_CISA = 3,  /* CVE JSON 5: "cveMetadata" + "containers" */
    VIN_SECDB = 4, /* Alpine secdb: "distroversion" + "packages" */
};

/* A one-line warning attached to a record (arena-allocated list, oldest first). */
struct osv_warning {
    struct osv_warning *next;
    const char *msg;
};

enum osv_event_kind {
    OSV_EV_INTRODUCED = 'i',
    OSV_EV_FIXED = 'f',
    OSV_EV_LAST_AFFECTED = 'l',
    OSV_EV_LIMIT = 'L',
};

struct osv_event {
    enum osv_event_kind kind;
    const char *version; /* "0" for introduced means "from the beginning" */
};

enum osv_range_type {
    OSV_RANGE_ECOSYSTEM = 'E',
    OSV_RANGE_SEMVER = 'S',
    OSV_RANGE_GIT = 'G', /* commit hashes: never matched against package versions */
};

struct osv_range {
    enum osv_range_type type;
    struct osv_event *events;
    size_t n_events;
};

/* Debian urgency (affected[].ecosystem_specific.urgency), in the order a merge prefers. */
enum osv_urgency {
    URG_NONE = 0, /* absent */
    URG_NOT_YET_ASSIGNED = 1,
    URG_END_OF_LIFE = 2,
    URG_UNIMPORTANT = 3,
    URG_LOW = 4,
    URG_MEDIUM = 5,
    URG_HIGH = 6,
};

struct osv_affected {
    const char *ecosystem; /* "Debian:12"; never NULL for entries kept */
    const char *name;      /* package name as the ecosystem spells it */
    struct osv_range *ranges;
    size_t n_ranges;
    const char **versions; /* explicit affected versions */
    size_t n_versions;
    enum osv_urgency urgency;
    const char *urgency_text; /* as written, or NULL */
};

struct osv_severity {
    const char *type;  /* "CVSS_V3", "CVSS_V4", "CVSS_V2", "Ubuntu", ... */
    const char *score; /* the vector */
};

struct osv_record {
    void *json; /* owned jansson root (json_t *) */
    struct arena arena;
    const char *id, *modified, *published; /* published/modified "" when absent */
    const char *withdrawn;                 /* NULL when not withdrawn */
    const char *summary, *details;         /* "" when absent */
    const char **aliases, **related, **upstream, **references;
    size_t n_aliases, n_related, n_upstream, n_references;
    struct osv_severity *severity;
    size_t n_severity;
    /* database_specific.severity (GHSA: LOW/MODERATE/HIGH/CRITICAL), or the Red Hat rating
     * taken from the record's ".../security/updates/classification/#important" reference;
     * NULL when neither */
    const char *vendor_severity;
    struct osv_affected *affected; /* only entries that carry a package and a known ecosystem */
    size_t n_affected;
    size_t n_affected_dropped; /* entries dropped (with a warning, except package-less ones) */
    struct osv_warning *warnings;
    size_t n_warnings;
};

/* Parse one JSON document (p, n) into a jansson value (*root, owned by the caller:
 * json_decref) and say what it is. -ERR_CORRUPT with line/column in d when it is not JSON,
 * -ERR_TOO_BIG over OSV_MAX_LINE. */
int vin_parse(const char *p, size_t n, void **root, enum vin_kind *kind, struct diag *d);
/* The kind of an already parsed document. */
enum vin_kind vin_kind_of(const void *root);

/* Fill r from an OSV document; r takes the reference to root in every case (success or
 * not). -ERR_INVALID when required fields are missing or mistyped (id, modified); warnings
 * for dropped parts. Always call osv_record_release(). */
int osv_record_from_json(void *root, struct osv_record *r, struct diag *d);
void osv_record_release(struct osv_record *r);
/* Compare two RFC 3339 timestamps as osv.dev writes them ("2024-07-01T13:15:06Z",
 * "2024-12-05T14:55:52.257973Z"); <0, 0, >0. Fractions and their absence compare sensibly. */
int osv_time_cmp(const char *a, const char *b);
/* True when the ecosystem's name (the part before the first ':') is one OSV defines. */
bool osv_ecosystem_known(const char *ecosystem);

/* One CVSS vector found in a severity supplement. */
struct cve_vector {
    const char *version; /* "2.0", "3.0", "3.1", "4.0" */
    const char *vector;  /* v3/v4 with prefix; v2 bare as NVD writes it */
    const char *source;  /* "NVD", "CISA-ADP", or the CNA short name */
};

/* A CVE's severity data from NVD or CISA vulnrichment. */
struct cve_info {
    void *json;              /* owned */
    const char *id;          /* "CVE-2024-6387" */
    const char *modified;    /* last modified ("" when absent) */
    const char *published;   /* "" when absent */
    const char *description; /* English description, "" when none */
    struct cve_vector vec[8];
    size_t n_vec;
};

/* Fill ci from an NVD 1.1 item or a CVE JSON 5 record (kind VIN_NVD / VIN_CISA); takes the
 * reference to root. -ERR_INVALID when there is no CVE id. Call cve_info_release(). */
int cve_info_from_json(void *root, enum vin_kind kind, struct cve_info *ci, struct diag *d);
void cve_info_release(struct cve_info *ci);

/* One secdb fix: package (origin) `name` fixed in `version` for the ids listed. */
struct secdb_fix {
    const char *name;
    const char *version; /* "0" = never affected in this branch */
    const char **ids;    /* "CVE-2024-6387", "XSA-123", ... (split on whitespace) */
    size_t n_ids;
};

struct secdb_doc {
    void *json; /* owned */
    struct arena arena;
    const char *branch;    /* distroversion: "v3.20", "edge" */
    const char *repo;      /* reponame: "main", "community" */
    const char *ecosystem; /* "Alpine:v3.20" */
    struct secdb_fix *fixes;
    size_t n_fixes;
    struct osv_warning *warnings;
    size_t n_warnings;
};

/* Fill doc from an Alpine secdb document; takes the reference to root. -ERR_INVALID when
 * distroversion/packages are missing. Call secdb_doc_release(). */
int secdb_doc_from_json(void *root, struct secdb_doc *doc, struct diag *d);
void secdb_doc_release(struct secdb_doc *doc);

#endif
