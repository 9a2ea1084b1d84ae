/* SPDX-License-Identifier: Apache-2.0 */
/* What the ECR API reads: an image's scan status and severity counts (DescribeImages,
 * DescribeImageScanFindings' header) and a page of its findings, rendered by the report writer
 * from the stored inventory and the shared vulnerability records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "scan/svc_internal.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX     1000

struct result_row {
    int64_t id, repo_id, manifest_id;
    struct scan_summary sum;
};

static enum scan_status status_of(int v)
{
    return v >= SCAN_STATUS_IN_PROGRESS && v <= SCAN_STATUS_FINDINGS_UNAVAILABLE
               ? (enum scan_status)v
               : SCAN_STATUS_FAILED;
}

static int load_result(struct meta_conn *c, const char *repo, const char *digest,
                       struct result_row *r)
{
    memset(r, 0, sizeof(*r));
    int rc = svc_repo_id(c, repo, &r->repo_id);
    if (rc)
        return rc;
    sqlite3_stmt *st;
    rc = meta_stmt(c,
                   "SELECT id, manifest_id, scan_type, frequency, status, description,"
                   " completed_at, vuln_updated_at, evaluated_at, n_critical, n_high, n_medium,"
                   " n_low, n_informational, n_undefined FROM scan_results"
                   " WHERE repo_id = ?1 AND digest = ?2",
                   &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, r->repo_id);
    meta_bind_text(st, 2, digest);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        struct scan_summary *s = &r->sum;
        r->id = sqlite3_column_int64(st, 0);
        r->manifest_id = sqlite3_column_int64(st, 1);
        s->scan_type =
            sqlite3_column_int(st, 2) == SCAN_TYPE_ENHANCED ? SCAN_TYPE_ENHANCED : SCAN_TYPE_BASIC;
        int f = sqlite3_column_int(st, 3);
        s->frequency = f >= SCAN_FREQ_MANUAL && f <= SCAN_FREQ_NONE ? (enum scan_frequency)f
                                                                    : SCAN_FREQ_MANUAL;
        s->status = status_of(sqlite3_column_int(st, 4));
        const char *desc = (const char *)sqlite3_column_text(st, 5);
        snprintf(s->description, sizeof(s->description), "%s", desc ? desc : "");
        s->has_findings = sqlite3_column_type(st, 6) != SQLITE_NULL;
        s->completed_at = sqlite3_column_int64(st, 6);
        s->vuln_source_updated_at = sqlite3_column_int64(st, 7);
        s->evaluated_at = sqlite3_column_int64(st, 8);
        static const enum severity order[] = { SEV_CRITICAL, SEV_HIGH,          SEV_MEDIUM,
                                               SEV_LOW,      SEV_INFORMATIONAL, SEV_UNDEFINED };
        for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
            s->counts[order[i]] = (unsigned)sqlite3_column_int64(st, 9 + (int)i);
            s->nfindings += s->counts[order[i]];
        }
    }
    meta_done(st);
    if (step == SQLITE_DONE)
        return -ENOENT;
    return step == SQLITE_ROW ? 0 : meta_err(c, step, "reading a scan result");
}

int scan_service_summary(struct scan_service *svc, const char *repo, const char *digest,
                         struct scan_summary *out)
{
    struct meta_conn *c;
    int rc = meta_conn_get(svc->cfg.db, &c);
    if (rc)
        return rc;
    struct result_row r;
    rc = load_result(c, repo, digest, &r);
    if (!rc)
        *out = r.sum;
    return rc;
}

json_t *scan_severity_counts_json(const unsigned counts[SEV_COUNT])
{
    json_t *o = json_object();
    for (int s = SEV_CRITICAL; s >= SEV_UNDEFINED; s--)
        if (counts[s])
            json_object_set_new(o, severity_name((enum severity)s), json_integer(counts[s]));
    return o;
}

static int load_inventory(struct meta_conn *c, int64_t result_id, struct inventory *inv,
                          struct diag *d)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c, "SELECT inventory FROM scan_results WHERE id = ?1", &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, result_id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        struct str b = str_make(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        rc = svc_inv_decode(b, inv, d);
    } else if (step == SQLITE_ROW || step == SQLITE_DONE) {
        rc = diag_set(d, -ERR_CORRUPT, 0, "the scan result has no stored inventory");
    } else {
        rc = meta_err(c, step, "reading an inventory");
    }
    meta_done(st);
    return rc;
}

int scan_service_findings(struct scan_service *svc, const char *repo, const char *digest,
                          size_t offset, size_t limit, struct scan_summary *sum, json_t **out,
                          bool *more, struct diag *d)
{
    struct diag dd = { 0 };
    if (!d)
        d = &dd;
    *out = NULL;
    *more = false;
    if (limit == 0)
        limit = PAGE_DEFAULT;
    if (limit > PAGE_MAX)
        limit = PAGE_MAX;
    struct meta_conn *c;
    int rc = meta_conn_get(svc->cfg.db, &c);
    if (rc)
        return diag_set(d, rc, 0, "cannot open the metadata database");
    struct result_row r;
    rc = load_result(c, repo, digest, &r);
    if (rc)
        return diag_set(d, rc, 0, "no scan of %s@%s", repo, digest);
    if (sum)
        *sum = r.sum;
    if (!r.sum.has_findings)
        return 0;
    bool enhanced = r.sum.scan_type == SCAN_TYPE_ENHANCED;
    struct inventory inv;
    struct arena a;
    inventory_init(&inv);
    arena_init(&a);
    struct svc_records recs = { &a, VEC_INIT };
    json_t *list = json_array();
    const char **tags = NULL;
    size_t ntags = 0;
    /* reads one snapshot: a rescan committing meanwhile cannot tear the page */
    rc = meta_exec(c, "BEGIN");
    if (rc)
        goto out;
    rc = load_inventory(c, r.id, &inv, d);
    if (!rc)
        rc = svc_image_tags(c, r.manifest_id, &a, &tags, &ntags);
    sqlite3_stmt *st = NULL;
    if (!rc)
        rc = meta_stmt(c,
                       "SELECT vuln_id, status, first_at, last_at, updated_at, members"
                       " FROM scan_findings WHERE result_id = ?1 AND status = 0"
                       " ORDER BY severity DESC, vuln_id, fkey LIMIT ?2 OFFSET ?3",
                       &st);
    if (rc)
        goto done;
    meta_bind_int(st, 1, r.id);
    meta_bind_int(st, 2, (int64_t)limit + 1);
    meta_bind_int(st, 3, (int64_t)offset);
    struct svc_image img = { r.id, r.repo_id, r.manifest_id, repo, digest, r.sum.scan_type,
                             &inv, tags,      ntags };
    size_t n = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == limit) {
            *more = true;
            break;
        }
        struct svc_member *m;
        size_t nm;
        struct str mb = str_make(sqlite3_column_blob(st, 5), (size_t)sqlite3_column_bytes(st, 5));
        rc = svc_members_decode(mb, &a, &m, &nm, d);
        if (!rc)
            rc = svc_records_resolve(&recs, c, m, nm, d);
        if (rc)
            break;
        json_t *j = svc_finding_json(svc, &img, m, nm, sqlite3_column_int(st, 1),
                                     sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
                                     sqlite3_column_int64(st, 4));
        if (!j) {
            rc = diag_set(d, -ERR_CORRUPT, 0, "cannot render finding %s",
                          (const char *)sqlite3_column_text(st, 0));
            break;
        }
        json_array_append_new(list, j);
        n++;
    }
    if (!rc && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = meta_err(c, step, "reading findings");
    meta_done(st);
done:
    meta_exec(c, "COMMIT");
    if (rc)
        goto out;
    json_t *isf = json_object();
    json_object_set(isf, enhanced ? "enhancedFindings" : "findings", list);
    json_object_set_new(isf, "imageScanCompletedAt", json_integer(r.sum.completed_at));
    if (r.sum.vuln_source_updated_at)
        json_object_set_new(isf, "vulnerabilitySourceUpdatedAt",
                            json_integer(r.sum.vuln_source_updated_at));
    json_object_set_new(isf, "findingSeverityCounts", scan_severity_counts_json(r.sum.counts));
    *out = isf;
out:
    json_decref(list);
    svc_records_release(&recs);
    inventory_release(&inv);
    arena_release(&a);
    if (rc && !d->msg[0])
        diag_set(d, rc, 0, "cannot read the findings of %s@%s: %s", repo, digest, err_str(rc));
    return rc;
}
