/* SPDX-License-Identifier: Apache-2.0 */
/* Which repositories are scanned and how: ECR's registry scanning configuration (scan type and
 * up to two rules of WILDCARD repository filters), its validation and JSON shape, the filter
 * rule, the precedence of rules and the repository's own scanOnPush flag, and their rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "scan/svc_internal.h"

const char *scan_type_name(enum scan_type t)
{
    return t == SCAN_TYPE_ENHANCED ? "ENHANCED" : "BASIC";
}

const char *scan_frequency_name(enum scan_frequency f)
{
    switch (f) {
    case SCAN_FREQ_SCAN_ON_PUSH:
        return "SCAN_ON_PUSH";
    case SCAN_FREQ_CONTINUOUS:
        return "CONTINUOUS_SCAN";
    case SCAN_FREQ_MANUAL:
    case SCAN_FREQ_NONE:
        break;
    }
    return "MANUAL";
}

const char *scan_status_name(enum scan_status s)
{
    switch (s) {
    case SCAN_STATUS_IN_PROGRESS:
        return "IN_PROGRESS";
    case SCAN_STATUS_COMPLETE:
        return "COMPLETE";
    case SCAN_STATUS_FAILED:
        return "FAILED";
    case SCAN_STATUS_UNSUPPORTED_IMAGE:
        return "UNSUPPORTED_IMAGE";
    case SCAN_STATUS_ACTIVE:
        return "ACTIVE";
    case SCAN_STATUS_PENDING:
        return "PENDING";
    case SCAN_STATUS_SCAN_ELIGIBILITY_EXPIRED:
        return "SCAN_ELIGIBILITY_EXPIRED";
    case SCAN_STATUS_FINDINGS_UNAVAILABLE:
        return "FINDINGS_UNAVAILABLE";
    }
    return "FAILED";
}

void scan_config_init(struct scan_config *c)
{
    memset(c, 0, sizeof(*c));
    c->type = SCAN_TYPE_BASIC;
}

void scan_config_release(struct scan_config *c)
{
    for (size_t i = 0; i < c->nrules; i++) {
        for (size_t k = 0; k < c->rules[i].nfilters; k++)
            free(c->rules[i].filters[k]);
        free(c->rules[i].filters);
    }
    scan_config_init(c);
}

/* ^[a-z0-9*](?:[._\-/a-z0-9*]?[a-z0-9*]+)*$ : name characters and '*', separators single and
 * never first or last. */
static bool filter_syntax_ok(const char *f, size_t n)
{
    if (n < 1 || n > SCAN_FILTER_LEN_MAX)
        return false;
    bool prev_sep = true; /* a separator may not come first */
    for (size_t i = 0; i < n; i++) {
        char ch = f[i];
        bool word = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '*';
        bool sep = ch == '.' || ch == '_' || ch == '-' || ch == '/';
        if (!word && !sep)
            return false;
        if (sep && prev_sep)
            return false;
        prev_sep = sep;
    }
    return !prev_sep;
}

static int parse_frequency(const char *s, enum scan_frequency *out)
{
    if (strcmp(s, "SCAN_ON_PUSH") == 0)
        *out = SCAN_FREQ_SCAN_ON_PUSH;
    else if (strcmp(s, "CONTINUOUS_SCAN") == 0)
        *out = SCAN_FREQ_CONTINUOUS;
    else if (strcmp(s, "MANUAL") == 0)
        *out = SCAN_FREQ_MANUAL;
    else
        return -1;
    return 0;
}

int scan_config_from_json(const json_t *body, struct scan_config *out, struct diag *d)
{
    scan_config_init(out);
    if (!json_is_object(body))
        return diag_set(d, -ERR_INVALID, 0, "the request body is not an object");
    const json_t *jt = json_object_get(body, "scanType");
    if (jt && !json_is_null(jt)) {
        const char *t = json_string_value(jt);
        if (t && strcmp(t, "ENHANCED") == 0)
            out->type = SCAN_TYPE_ENHANCED;
        else if (!t || strcmp(t, "BASIC") != 0)
            return diag_set(d, -ERR_INVALID, 0,
                            "1 validation error detected: Value '%s' at 'scanType' failed to "
                            "satisfy constraint: Member must satisfy enum value set: [BASIC, "
                            "ENHANCED]",
                            t ? t : "(not a string)");
    }
    const json_t *rules = json_object_get(body, "rules");
    if (!rules || json_is_null(rules))
        return 0;
    if (!json_is_array(rules))
        return diag_set(d, -ERR_INVALID, 0, "rules must be a list");
    if (json_array_size(rules) > SCAN_RULES_MAX)
        return diag_set(d, -ERR_INVALID, 0,
                        "1 validation error detected: Value at 'rules' failed to satisfy "
                        "constraint: Member must have length less than or equal to %d",
                        SCAN_RULES_MAX);
    int rc = 0;
    for (size_t i = 0; i < json_array_size(rules) && !rc; i++) {
        const json_t *jr = json_array_get(rules, i);
        const char *fq = json_string_value(json_object_get(jr, "scanFrequency"));
        const json_t *filters = json_object_get(jr, "repositoryFilters");
        struct scan_rule *r = &out->rules[out->nrules];
        if (!json_is_object(jr) || !fq) {
            rc = diag_set(d, -ERR_INVALID, 0, "rules.%zu: scanFrequency is required", i + 1);
            break;
        }
        if (parse_frequency(fq, &r->frequency) != 0) {
            rc = diag_set(d, -ERR_INVALID, 0,
                          "1 validation error detected: Value '%s' at 'rules.member.scanFrequency' "
                          "failed to satisfy constraint: Member must satisfy enum value set: "
                          "[SCAN_ON_PUSH, CONTINUOUS_SCAN, MANUAL]",
                          fq);
            break;
        }
        bool ok = out->type == SCAN_TYPE_ENHANCED ? r->frequency != SCAN_FREQ_MANUAL
                                                  : r->frequency != SCAN_FREQ_CONTINUOUS;
        if (!ok) {
            rc = diag_set(d, -ERR_INVALID, 0,
                          "Invalid parameter: scan frequency %s is not supported with scan type "
                          "%s",
                          fq, scan_type_name(out->type));
            break;
        }
        for (size_t k = 0; k < out->nrules; k++)
            if (out->rules[k].frequency == r->frequency)
                ok = false;
        if (!ok) {
            rc = diag_set(d, -ERR_INVALID, 0,
                          "Invalid parameter: more than one rule with scan frequency %s", fq);
            break;
        }
        if (!json_is_array(filters)) {
            rc = diag_set(d, -ERR_INVALID, 0, "rules.%zu: repositoryFilters is required", i + 1);
            break;
        }
        if (json_array_size(filters) > SCAN_FILTERS_MAX) {
            rc = diag_set(d, -ERR_INVALID, 0,
                          "1 validation error detected: Value at 'rules.%zu.member."
                          "repositoryFilters' failed to satisfy constraint: Member must have "
                          "length less than or equal to %d",
                          i + 1, SCAN_FILTERS_MAX);
            break;
        }
        out->nrules++;
        r->filters = json_array_size(filters)
                         ? xcalloc(json_array_size(filters), sizeof(*r->filters))
                         : NULL;
        for (size_t k = 0; k < json_array_size(filters); k++) {
            const json_t *jf = json_array_get(filters, k);
            const json_t *fv = json_object_get(jf, "filter");
            const char *ft = json_string_value(json_object_get(jf, "filterType"));
            const char *f = json_string_value(fv);
            if (!f || !ft) {
                rc = diag_set(d, -ERR_INVALID, 0,
                              "rules.%zu.repositoryFilters.%zu: filter and filterType are "
                              "required",
                              i + 1, k + 1);
                break;
            }
            if (strcmp(ft, "WILDCARD") != 0) {
                rc = diag_set(d, -ERR_INVALID, 0,
                              "1 validation error detected: Value '%s' at 'filterType' failed "
                              "to satisfy constraint: Member must satisfy enum value set: "
                              "[WILDCARD]",
                              ft);
                break;
            }
            if (!filter_syntax_ok(f, json_string_length(fv))) {
                rc = diag_set(d, -ERR_INVALID, 0,
                              "1 validation error detected: Value '%.255s' at 'filter' failed to "
                              "satisfy constraint: Member must satisfy regular expression pattern: "
                              "^[a-z0-9*](?:[._\\-/a-z0-9*]?[a-z0-9*]+)*$",
                              f);
                break;
            }
            r->filters[r->nfilters++] = xstrdup(f);
        }
    }
    if (rc)
        scan_config_release(out);
    return rc;
}

json_t *scan_config_to_json(const struct scan_config *c)
{
    json_t *rules = json_array();
    for (size_t i = 0; i < c->nrules; i++) {
        json_t *filters = json_array();
        for (size_t k = 0; k < c->rules[i].nfilters; k++)
            json_array_append_new(filters, json_pack("{s:s, s:s}", "filter", c->rules[i].filters[k],
                                                     "filterType", "WILDCARD"));
        json_array_append_new(rules, json_pack("{s:s, s:o}", "scanFrequency",
                                               scan_frequency_name(c->rules[i].frequency),
                                               "repositoryFilters", filters));
    }
    return json_pack("{s:s, s:o}", "scanType", scan_type_name(c->type), "rules", rules);
}

/* '*' matches zero or more characters; everything else itself; the whole name must match.
 * Greedy with one backtrack point (the last '*'), linear in practice. */
static bool glob_match(const char *pat, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (*pat == *s) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

bool scan_filter_matches(const char *filter, const char *repo)
{
    if (!filter || !repo)
        return false;
    if (!strchr(filter, '*'))
        return strstr(repo, filter) != NULL;
    return glob_match(filter, repo);
}

/* The filters of rule r matching repo into applied (when given). Returns the count. */
static size_t rule_matches(const struct scan_rule *r, const char *repo, const char **applied)
{
    size_t n = 0;
    for (size_t k = 0; k < r->nfilters; k++)
        if (scan_filter_matches(r->filters[k], repo)) {
            if (applied)
                applied[n] = r->filters[k];
            n++;
        }
    return n;
}

static const struct scan_rule *find_rule(const struct scan_config *c, enum scan_frequency f)
{
    for (size_t i = 0; i < c->nrules; i++)
        if (c->rules[i].frequency == f)
            return &c->rules[i];
    return NULL;
}

enum scan_frequency scan_config_frequency(const struct scan_config *c, const char *repo,
                                          bool repo_scan_on_push, const char **applied,
                                          size_t *napplied)
{
    size_t dummy;
    if (!napplied)
        napplied = &dummy;
    *napplied = 0;
    const struct scan_rule *cont = find_rule(c, SCAN_FREQ_CONTINUOUS);
    const struct scan_rule *push = find_rule(c, SCAN_FREQ_SCAN_ON_PUSH);
    const struct scan_rule *manual = find_rule(c, SCAN_FREQ_MANUAL);
    if (c->type == SCAN_TYPE_ENHANCED) {
        if (cont && (*napplied = rule_matches(cont, repo, applied)) > 0)
            return SCAN_FREQ_CONTINUOUS;
        if (push && (*napplied = rule_matches(push, repo, applied)) > 0)
            return SCAN_FREQ_SCAN_ON_PUSH;
        return SCAN_FREQ_NONE;
    }
    if (push && (*napplied = rule_matches(push, repo, applied)) > 0)
        return SCAN_FREQ_SCAN_ON_PUSH;
    if (repo_scan_on_push)
        return SCAN_FREQ_SCAN_ON_PUSH;
    if (manual)
        *napplied = rule_matches(manual, repo, applied);
    return SCAN_FREQ_MANUAL;
}

/* ---- rows ---- */

int scan_config_load(struct meta_conn *c, struct scan_config *out)
{
    scan_config_init(out);
    sqlite3_stmt *st;
    int rc = meta_stmt(c, "SELECT scan_type, rules FROM scan_registry_config WHERE id = 1", &st);
    if (rc)
        return rc;
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        meta_done(st);
        return 0;
    }
    if (step != SQLITE_ROW) {
        rc = meta_err(c, step, "reading the scanning configuration");
        meta_done(st);
        return rc;
    }
    int type = sqlite3_column_int(st, 0);
    json_error_t je;
    const char *text = (const char *)sqlite3_column_text(st, 1);
    json_t *rules = text ? json_loads(text, 0, &je) : NULL;
    meta_done(st);
    json_t *body = json_pack("{s:s, s:o*}", "scanType",
                             type == SCAN_TYPE_ENHANCED ? "ENHANCED" : "BASIC", "rules", rules);
    struct diag d = { 0 };
    rc = scan_config_from_json(body, out, &d);
    json_decref(body);
    if (rc) {
        log_error("scan", "stored scanning configuration does not parse: %s", d.msg);
        return -ERR_CORRUPT;
    }
    return 0;
}

/* Queue enhanced scans of the images of repositories that cfg makes continuous and that have
 * no enhanced result yet (ECR starts Inspector coverage of the images already there). */
static int queue_coverage(struct scan_service *svc, struct meta_conn *c,
                          const struct scan_config *cfg, int64_t now, size_t *queued)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c,
                       "SELECT r.id, r.name, m.id, m.digest, m.media_type, m.created_at,"
                       " m.artifact_type FROM repositories r JOIN manifests m ON m.repo_id = r.id"
                       " WHERE m.subject IS NULL AND NOT EXISTS (SELECT 1 FROM scan_results s"
                       "  WHERE s.repo_id = r.id AND s.digest = m.digest AND s.scan_type = 1)"
                       " ORDER BY r.name, m.id",
                       &st);
    if (rc)
        return rc;
    struct todo {
        int64_t repo_id, manifest_id;
        char digest[DIGEST_STR_LEN + 1];
    };
    VEC(struct todo) todo = VEC_INIT;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *digest = (const char *)sqlite3_column_text(st, 3);
        const char *mt = (const char *)sqlite3_column_text(st, 4);
        int64_t pushed = sqlite3_column_int64(st, 5);
        if (!name || !digest || strlen(digest) != DIGEST_STR_LEN)
            continue;
        if (scan_config_frequency(cfg, name, false, NULL, NULL) != SCAN_FREQ_CONTINUOUS)
            continue;
        if (!svc_is_scannable(svc, mt, NULL, (const char *)sqlite3_column_text(st, 6)))
            continue;
        if (svc->cfg.continuous_duration_s > 0 && pushed + svc->cfg.continuous_duration_s < now)
            continue;
        struct todo t = { sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 2), "" };
        memcpy(t.digest, digest, DIGEST_STR_LEN + 1);
        VEC_PUSH(&todo, t);
    }
    meta_done(st);
    rc = step == SQLITE_DONE ? 0 : meta_err(c, step, "listing images for coverage");
    for (size_t i = 0; !rc && i < todo.n; i++) {
        rc = svc_queue_job(svc, c, todo.v[i].repo_id, todo.v[i].manifest_id, todo.v[i].digest,
                           SCAN_TYPE_ENHANCED, SCAN_FREQ_CONTINUOUS, SVC_JOB_COVERAGE, now);
        if (rc == -EEXIST)
            rc = 0;
        else if (!rc)
            (*queued)++;
    }
    VEC_FREE(&todo);
    return rc;
}

int scan_service_put_config(struct scan_service *svc, const struct scan_config *cfg)
{
    struct meta_conn *c;
    int rc = meta_conn_get(svc->cfg.db, &c);
    if (rc)
        return rc;
    json_t *j = scan_config_to_json(cfg);
    char *rules = json_dumps(json_object_get(j, "rules"), JSON_COMPACT);
    json_decref(j);
    int64_t now = svc_now(svc);
    size_t queued = 0;
    rc = meta_begin(c);
    if (rc) {
        free(rules);
        return rc;
    }
    sqlite3_stmt *st;
    rc = meta_stmt(c,
                   "INSERT INTO scan_registry_config (id, scan_type, rules, updated_at)"
                   " VALUES (1, ?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET"
                   " scan_type = excluded.scan_type, rules = excluded.rules,"
                   " updated_at = excluded.updated_at",
                   &st);
    if (!rc) {
        meta_bind_int(st, 1, cfg->type);
        meta_bind_text(st, 2, rules);
        meta_bind_int(st, 3, now);
        rc = meta_step_done(c, st);
    }
    if (!rc && cfg->type == SCAN_TYPE_ENHANCED)
        rc = queue_coverage(svc, c, cfg, now, &queued);
    free(rules);
    rc = svc_end_tx(c, rc);
    if (!rc && queued) {
        log_info("scan", "scanning configuration: %zu images queued for enhanced scanning", queued);
        svc_kick(svc);
    }
    return rc;
}

int scan_repo_scan_on_push_get(struct meta_conn *c, int64_t repo_id, bool *out)
{
    sqlite3_stmt *st;
    *out = false;
    int rc = meta_stmt(c, "SELECT scan_on_push FROM scan_repo_config WHERE repo_id = ?1", &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, repo_id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0) != 0;
    else if (step != SQLITE_DONE)
        rc = meta_err(c, step, "reading scanOnPush");
    meta_done(st);
    return rc;
}

int scan_repo_scan_on_push_set(struct meta_conn *c, int64_t repo_id, bool scan_on_push)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c,
                       "INSERT INTO scan_repo_config (repo_id, scan_on_push, updated_at)"
                       " VALUES (?1, ?2, strftime('%s','now')) ON CONFLICT (repo_id) DO UPDATE"
                       " SET scan_on_push = excluded.scan_on_push,"
                       " updated_at = excluded.updated_at",
                       &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, repo_id);
    meta_bind_int(st, 2, scan_on_push ? 1 : 0);
    return meta_step_done(c, st);
}
