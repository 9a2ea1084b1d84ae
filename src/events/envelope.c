/* SPDX-License-Identifier: Apache-2.0 */
/* Builders for the ECR / Inspector2 events vigil publishes and for events made from PutEvents
 * entries. Insertion order is emission order, so golden tests compare text. */
#include "envelope.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/err.h"
#include "base/xalloc.h"
#include "jsonpath.h"

int event_new_id(char out[EVENT_ID_LEN])
{
    unsigned char r[16];
    size_t got = 0;
    while (got < sizeof(r)) {
        ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < sizeof(r); i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[r[i] >> 4];
        out[o++] = hex[r[i] & 0xf];
    }
    out[o] = '\0';
    return 0;
}

int event_format_time(time_t t, char out[EVENT_TIME_LEN])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        out[0] = '\0';
        return -ERR_INVALID;
    }
    strftime(out, EVENT_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return 0;
}

int inspector_format_time(time_t t, char out[32])
{
    static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        out[0] = '\0';
        return -ERR_INVALID;
    }
    int h12 = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
    char tmp[96]; /* the fields are in range; the size only quiets -Wformat-truncation */
    int n = snprintf(tmp, sizeof(tmp), "%s %d, %d, %d:%02d:%02d %s", mon[tm.tm_mon], tm.tm_mday,
                     tm.tm_year + 1900, h12, tm.tm_min, tm.tm_sec, tm.tm_hour < 12 ? "AM" : "PM");
    if (n < 0 || n > 31) {
        out[0] = '\0';
        return -ERR_INVALID;
    }
    memcpy(out, tmp, (size_t)n + 1);
    return 0;
}

char *ecr_repository_arn(const char *region, const char *account, const char *name)
{
    return xasprintf("arn:aws:ecr:%s:%s:repository/%s", region ? region : "",
                     account ? account : "", name ? name : "");
}

/* A JSON string for s; "" for NULL or text jansson refuses (invalid UTF-8). */
static json_t *str_or_empty(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_string("");
}

static void set_str(json_t *o, const char *key, const char *s)
{
    json_object_set_new(o, key, str_or_empty(s));
}

/* Only when s is set. */
static void set_opt(json_t *o, const char *key, const char *s)
{
    if (s)
        set_str(o, key, s);
}

static json_t *str_array(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, str_or_empty(v[i]));
    return a;
}

json_t *event_envelope(const struct event_meta *m, const char *detail_type, const char *source,
                       json_t *resources, json_t *detail)
{
    json_t *e = json_object();
    set_str(e, "version", "0");
    set_str(e, "id", m->id);
    set_str(e, "detail-type", detail_type);
    set_str(e, "source", source);
    set_str(e, "account", m->account);
    set_str(e, "time", m->time);
    set_str(e, "region", m->region);
    json_object_set_new(e, "resources", resources ? resources : json_array());
    json_object_set_new(e, "detail", detail ? detail : json_object());
    return e;
}

int event_to_text(const json_t *event, struct buf *out)
{
    return jsonpath_dump(event, out);
}

static json_t *one_resource(char *owned)
{
    json_t *a = json_array();
    json_array_append_new(a, str_or_empty(owned));
    free(owned);
    return a;
}

json_t *ecr_image_action_event(const struct event_meta *m, const struct ecr_image_action *a)
{
    json_t *d = json_object();
    set_str(d, "result", a->result);
    set_str(d, "repository-name", a->repository_name);
    set_str(d, "image-digest", a->image_digest);
    set_str(d, "action-type", a->action_type);
    set_opt(d, "image-tag", a->image_tag);
    set_opt(d, "manifest-media-type", a->manifest_media_type);
    set_opt(d, "artifact-media-type", a->artifact_media_type);
    return event_envelope(m, "ECR Image Action", "aws.ecr", NULL, d);
}

static void set_count(json_t *o, const char *key, unsigned long long n)
{
    if (n)
        json_object_set_new(o, key, json_integer((json_int_t)n));
}

json_t *ecr_image_scan_event(const struct event_meta *m, const struct ecr_image_scan *s)
{
    json_t *counts = json_object();
    set_count(counts, "CRITICAL", s->counts.critical);
    set_count(counts, "HIGH", s->counts.high);
    set_count(counts, "MEDIUM", s->counts.medium);
    set_count(counts, "LOW", s->counts.low);
    set_count(counts, "INFORMATIONAL", s->counts.informational);
    set_count(counts, "UNDEFINED", s->counts.undefined);

    json_t *d = json_object();
    set_str(d, "scan-status", s->scan_status ? s->scan_status : "COMPLETE");
    set_str(d, "repository-name", s->repository_name);
    json_object_set_new(d, "finding-severity-counts", counts);
    set_str(d, "image-digest", s->image_digest);
    json_object_set_new(d, "image-tags", str_array(s->image_tags, s->n_image_tags));
    json_t *res = one_resource(ecr_repository_arn(m->region, m->account, s->repository_name));
    return event_envelope(m, "ECR Image Scan", "aws.ecr", res, d);
}

json_t *ecr_scan_resource_change_event(const struct event_meta *m,
                                       const struct ecr_scan_resource_change *c)
{
    json_t *repos = json_array();
    for (size_t i = 0; i < c->n_repositories; i++) {
        const struct ecr_scan_repository *r = &c->repositories[i];
        json_t *o = json_object();
        set_str(o, "repository-name", r->repository_name);
        char *arn = ecr_repository_arn(m->region, m->account, r->repository_name);
        set_str(o, "repository-arn", arn);
        free(arn);
        set_str(o, "scan-frequency", r->scan_frequency);
        set_opt(o, "previous-scan-frequency", r->previous_scan_frequency);
        json_array_append_new(repos, o);
    }
    json_t *d = json_object();
    set_str(d, "action-type", c->action_type ? c->action_type : "SCAN_FREQUENCY_CHANGE");
    json_object_set_new(d, "repositories", repos);
    set_str(d, "resource-type", c->resource_type ? c->resource_type : "REPOSITORY");
    set_str(d, "scan-type", c->scan_type ? c->scan_type : "ENHANCED");
    return event_envelope(m, "ECR Scan Resource Change", "aws.ecr", NULL, d);
}

json_t *inspector2_scan_event(const struct event_meta *m, const struct inspector2_scan *s)
{
    const struct severity_counts *n = &s->counts;
    json_t *counts = json_object();
    set_count(counts, "CRITICAL", n->critical);
    set_count(counts, "HIGH", n->high);
    set_count(counts, "MEDIUM", n->medium);
    unsigned long long total =
        n->critical + n->high + n->medium + n->low + n->informational + n->undefined;
    json_object_set_new(counts, "TOTAL", json_integer((json_int_t)total));

    char *arn = ecr_repository_arn(m->region, m->account, s->repository_name);
    json_t *d = json_object();
    set_str(d, "scan-status", s->scan_status ? s->scan_status : "INITIAL_SCAN_COMPLETE");
    set_str(d, "repository-name", arn);
    json_object_set_new(d, "finding-severity-counts", counts);
    set_str(d, "image-digest", s->image_digest);
    json_object_set_new(d, "image-tags", str_array(s->image_tags, s->n_image_tags));
    return event_envelope(m, "Inspector2 Scan", "aws.inspector2", one_resource(arn), d);
}

static json_t *finding_cvss(const struct inspector2_finding *f)
{
    json_t *a = json_array();
    for (size_t i = 0; i < f->n_cvss; i++) {
        const struct inspector2_cvss *c = &f->cvss[i];
        json_t *o = json_object();
        json_object_set_new(o, "baseScore", json_real(c->base_score));
        set_str(o, "scoringVector", c->scoring_vector);
        set_str(o, "source", c->source);
        set_str(o, "version", c->version);
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *finding_packages(const struct inspector2_finding *f)
{
    json_t *a = json_array();
    for (size_t i = 0; i < f->n_packages; i++) {
        const struct inspector2_package *p = &f->packages[i];
        json_t *o = json_object();
        set_opt(o, "arch", p->arch);
        json_object_set_new(o, "epoch", json_integer(p->epoch));
        set_opt(o, "filePath", p->file_path);
        set_opt(o, "fixedInVersion", p->fixed_in_version);
        set_str(o, "name", p->name);
        set_str(o, "packageManager", p->package_manager);
        set_opt(o, "release", p->release);
        set_opt(o, "remediation", p->remediation);
        set_opt(o, "sourceLayerHash", p->source_layer_hash);
        set_str(o, "version", p->version);
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *finding_image(const struct event_meta *m, const struct inspector2_finding *f,
                             const char *resource_id)
{
    json_t *img = json_object();
    set_opt(img, "architecture", f->architecture);
    set_str(img, "imageHash", f->image_digest);
    json_object_set_new(img, "imageTags", str_array(f->image_tags, f->n_image_tags));
    set_opt(img, "platform", f->platform);
    set_opt(img, "pushedAt", f->pushed_at);
    set_str(img, "registry", m->account);
    set_str(img, "repositoryName", f->repository_name);
    json_t *details = json_object();
    json_object_set_new(details, "awsEcrContainerImage", img);
    json_t *r = json_object();
    json_object_set_new(r, "details", details);
    set_str(r, "id", resource_id);
    /* Inspector's sample event carries "N/A" for both. */
    set_str(r, "partition", "N/A");
    set_str(r, "region", "N/A");
    set_str(r, "type", "AWS_ECR_CONTAINER_IMAGE");
    json_t *a = json_array();
    json_array_append_new(a, r);
    return a;
}

json_t *inspector2_finding_event(const struct event_meta *m, const struct inspector2_finding *f)
{
    char *resource_id =
        xasprintf("arn:aws:ecr:%s:%s:repository/%s/%s", m->region ? m->region : "",
                  m->account ? m->account : "", f->repository_name ? f->repository_name : "",
                  f->image_digest ? f->image_digest : "");
    char *finding_arn = xasprintf("arn:aws:inspector2:%s:%s:finding/%s", m->region ? m->region : "",
                                  m->account ? m->account : "", f->finding_id ? f->finding_id : "");
    json_t *d = json_object();
    set_str(d, "awsAccountId", m->account);
    set_opt(d, "description", f->description);
    if (f->has_epss) {
        json_t *e = json_object();
        json_object_set_new(e, "score", json_real(f->epss_score));
        json_object_set_new(d, "epss", e);
    }
    set_opt(d, "exploitAvailable", f->exploit_available);
    if (f->last_known_exploit_at) {
        json_t *e = json_object();
        set_str(e, "lastKnownExploitAt", f->last_known_exploit_at);
        json_object_set_new(d, "exploitabilityDetails", e);
    }
    set_str(d, "findingArn", finding_arn);
    set_opt(d, "firstObservedAt", f->first_observed_at);
    set_opt(d, "fixAvailable", f->fix_available);
    if (f->has_inspector_score)
        json_object_set_new(d, "inspectorScore", json_real(f->inspector_score));
    if (f->adjusted_source) {
        json_t *adj = json_object();
        json_object_set_new(adj, "adjustments", json_array());
        set_str(adj, "cvssSource", f->adjusted_source);
        json_object_set_new(adj, "score", json_real(f->adjusted_score));
        set_str(adj, "scoreSource", f->adjusted_source);
        set_str(adj, "scoringVector", f->adjusted_vector);
        set_str(adj, "version", f->adjusted_version);
        json_t *det = json_object();
        json_object_set_new(det, "adjustedCvss", adj);
        json_object_set_new(d, "inspectorScoreDetails", det);
    }
    set_opt(d, "lastObservedAt", f->last_observed_at);

    json_t *pv = json_object();
    json_object_set_new(pv, "cvss", finding_cvss(f));
    json_object_set_new(pv, "referenceUrls", str_array(f->reference_urls, f->n_reference_urls));
    set_str(pv, "source", f->vuln_source);
    set_opt(pv, "sourceUrl", f->source_url);
    set_opt(pv, "vendorCreatedAt", f->vendor_created_at);
    set_opt(pv, "vendorSeverity", f->vendor_severity);
    set_str(pv, "vulnerabilityId", f->vulnerability_id);
    json_object_set_new(pv, "vulnerablePackages", finding_packages(f));
    json_object_set_new(d, "packageVulnerabilityDetails", pv);

    if (f->remediation_text || f->remediation_url) {
        json_t *rec = json_object();
        set_opt(rec, "text", f->remediation_text);
        set_opt(rec, "Url", f->remediation_url);
        json_t *rem = json_object();
        json_object_set_new(rem, "recommendation", rec);
        json_object_set_new(d, "remediation", rem);
    }
    json_object_set_new(d, "resources", finding_image(m, f, resource_id));
    set_str(d, "severity", f->severity);
    set_str(d, "status", f->status);
    set_str(d, "title", f->title);
    set_str(d, "type", f->type ? f->type : "PACKAGE_VULNERABILITY");
    set_opt(d, "updatedAt", f->updated_at);

    json_t *res = one_resource(resource_id);
    free(finding_arn);
    return event_envelope(m, "Inspector2 Finding", "aws.inspector2", res, d);
}

/* ---- PutEvents ---- */

size_t put_events_entry_size(const struct put_events_entry *e)
{
    size_t n = e->has_time ? 14 : 0;
    n += e->source ? strlen(e->source) : 0;
    n += e->detail_type ? strlen(e->detail_type) : 0;
    n += e->detail ? strlen(e->detail) : 0;
    for (size_t i = 0; i < e->n_resources; i++)
        n += e->resources[i] ? strlen(e->resources[i]) : 0;
    return n;
}

const char *put_events_check_total(const struct put_events_entry *e, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += put_events_entry_size(&e[i]);
        if (total > PUT_EVENTS_MAX_BYTES)
            return "Total size of the entries in the request is over the limit.";
    }
    return NULL;
}

static json_t *parse_detail(const char *detail)
{
    json_error_t je;
    json_t *v = json_loads(detail, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

static int entry_error(struct put_events_error *err, const char *code, const char *message)
{
    err->code = code;
    err->message = message;
    return -ERR_INVALID;
}

int put_events_entry_check(const struct put_events_entry *e, struct put_events_error *err)
{
    if (!e->source || !*e->source)
        return entry_error(err, "InvalidArgument",
                           "Parameter Source is not valid. Reason: Source is a required argument.");
    if (!e->detail_type || !*e->detail_type)
        return entry_error(
            err, "InvalidArgument",
            "Parameter DetailType is not valid. Reason: DetailType is a required argument.");
    if (!e->detail || !*e->detail)
        return entry_error(err, "InvalidArgument",
                           "Parameter Detail is not valid. Reason: Detail is a required argument.");
    if (strlen(e->detail) > PUT_EVENTS_MAX_BYTES)
        return entry_error(err, "MalformedDetail", "Detail is malformed.");
    json_t *d = parse_detail(e->detail);
    if (!d)
        return entry_error(err, "MalformedDetail", "Detail is malformed.");
    json_decref(d);
    err->code = err->message = NULL;
    return 0;
}

json_t *put_events_entry_event(const struct event_meta *m, const struct put_events_entry *e)
{
    struct put_events_error err;
    if (put_events_entry_check(e, &err) < 0)
        return NULL;
    json_t *detail = parse_detail(e->detail);
    if (!detail)
        return NULL;
    char when[EVENT_TIME_LEN];
    struct event_meta mm = *m;
    /* Whole seconds; a Time that cannot be printed falls back to the receive time. */
    if (e->has_time && isfinite(e->time) && e->time > -62135596800.0 && e->time < 253402300800.0 &&
        event_format_time((time_t)floor(e->time), when) == 0)
        mm.time = when;
    json_t *res = json_array();
    for (size_t i = 0; i < e->n_resources; i++)
        json_array_append_new(res, str_or_empty(e->resources[i]));
    return event_envelope(&mm, e->detail_type, e->source, res, detail);
}
