/* SPDX-License-Identifier: Apache-2.0 */
/* ECR DescribeImageScanFindings response bodies: basic findings (one per vulnerability and
 * package, as ECR basic scanning lists them) and enhanced findings (one per vulnerability,
 * listing every vulnerable package, as Amazon Inspector reports them through ECR). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/hash.h"
#include "base/xalloc.h"
#include "scan/report_internal.h"

/* AttributeValue is 1-256 characters in the ECR model: empty values are left out and long
 * ones cut at a UTF-8 boundary. */
#define ATTR_VALUE_MAX 256

static void attr(json_t *attrs, const char *key, const char *value)
{
    if (rpt_empty(value))
        return;
    size_t len = strlen(value), keep = 0;
    uint32_t cp;
    while (keep < len) {
        size_t n = rpt_utf8_next(value + keep, len - keep, &cp);
        if (n == 0)
            n = 1; /* rpt_jstr() replaces the bad byte; length here is only a bound */
        if (keep + n > ATTR_VALUE_MAX)
            break;
        keep += n;
    }
    char *v = xstrndup(value, keep);
    json_t *o = rpt_jobj();
    rpt_jset_str(o, "key", key);
    rpt_jset_str(o, "value", v);
    rpt_jpush(attrs, o);
    free(v);
}

static void cvss_attrs(json_t *attrs, const struct finding *f, int major, const char *vkey,
                       const char *skey)
{
    const struct finding_cvss *c = rpt_pick_cvss(f, major);
    if (!c)
        return;
    char score[8];
    rpt_score_str(c->score, score);
    attr(attrs, vkey, c->vector);
    attr(attrs, skey, score);
}

static const char *pkg_name(const struct finding *f)
{
    return f->pkg ? rpt_s(f->pkg->name) : "";
}

static const char *description(const struct finding *f)
{
    return !rpt_empty(f->description) ? f->description : rpt_s(f->title);
}

/* Basic finding, shaped like the CLI's documented example: name, description, uri, severity,
 * attributes [package_version, package_name, CVSS2_VECTOR, CVSS2_SCORE] plus the CVSS3 pair
 * that current ECR basic scanning also emits (CVSS3_VECTOR keeps its "CVSS:3.x/" prefix). */
static json_t *basic_finding(const struct finding *f)
{
    json_t *o = rpt_jobj(), *attrs = rpt_jarr();
    rpt_jset_str(o, "name", f->id);
    rpt_jset_str(o, "description", description(f));
    rpt_jset_str_opt(o, "uri", f->uri);
    rpt_jset_str(o, "severity", rpt_sev_name(f->severity));
    attr(attrs, "package_version", f->pkg ? f->pkg->version : "");
    attr(attrs, "package_name", pkg_name(f));
    cvss_attrs(attrs, f, 2, "CVSS2_VECTOR", "CVSS2_SCORE");
    cvss_attrs(attrs, f, 3, "CVSS3_VECTOR", "CVSS3_SCORE");
    rpt_jset(o, "attributes", attrs);
    return o;
}

/* ---- enhanced findings ---------------------------------------------------------------- */

struct ecr_ctx {
    const struct scan_result *r;
    const char *account;
    const char *region;
    char *repo;
    char *tag;
    char *arch;
    char *platform;
};

/* Inspector's platform names for an image's OS. DEBIAN_12, CENTOS_8 and AMAZON_LINUX_2 appear
 * in AWS's own samples; the others follow the same pattern (vendor name, then the version
 * with "_" for "."), which is our choice where AWS documents no list. */
static char *platform_name(const struct inventory_os *os)
{
    static const struct {
        const char *id, *name;
        int parts; /* how many version components the name keeps */
    } map[] = {
        { "debian", "DEBIAN", 1 },        { "ubuntu", "UBUNTU", 2 },
        { "alpine", "ALPINE_LINUX", 2 },  { "rhel", "RHEL", 1 },
        { "centos", "CENTOS", 1 },        { "rocky", "ROCKY_LINUX", 1 },
        { "almalinux", "ALMA_LINUX", 1 }, { "amzn", "AMAZON_LINUX", 1 },
        { "ol", "ORACLE_LINUX", 1 },      { "fedora", "FEDORA", 1 },
    };
    const char *id = rpt_s(os->id), *ver = rpt_s(os->version_id);
    if (!*id)
        return xstrdup("UNKNOWN");
    struct buf b;
    buf_init(&b, 4096);
    int parts = 2;
    size_t i;
    for (i = 0; i < ARRAY_SIZE(map); i++)
        if (strcmp(id, map[i].id) == 0)
            break;
    if (i < ARRAY_SIZE(map)) {
        buf_append_cstr(&b, map[i].name);
        parts = map[i].parts;
    } else {
        for (const char *p = id; *p; p++)
            buf_putc(&b, isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_');
    }
    if (*ver) {
        buf_putc(&b, '_');
        int seen = 1;
        for (const char *p = ver; *p; p++) {
            if (*p == '.') {
                if (++seen > parts)
                    break;
                buf_putc(&b, '_');
            } else {
                buf_putc(&b, isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_');
            }
        }
    }
    return buf_detach(&b, NULL);
}

/* Inspector's "source" names the advisory feed. DEBIAN_CVE, UBUNTU_CVE, REDHAT_CVE and NVD are
 * the values AWS's samples show; for other ecosystems we say NVD for CVE ids and otherwise
 * pass vigil's own data-source id through. */
static const char *inspector_source(const struct finding *f)
{
    const char *eco = rpt_s(f->ecosystem);
    if (strncmp(eco, "Debian", 6) == 0)
        return "DEBIAN_CVE";
    if (strncmp(eco, "Ubuntu", 6) == 0)
        return "UBUNTU_CVE";
    if (strncmp(eco, "Red Hat", 7) == 0 || strncmp(eco, "Rocky", 5) == 0 ||
        strncmp(eco, "AlmaLinux", 9) == 0)
        return "REDHAT_CVE";
    if (strncmp(rpt_s(f->id), "CVE-", 4) == 0)
        return "NVD";
    return !rpt_empty(f->source) ? f->source : "vigil";
}

static char *upper(const char *s)
{
    char *u = xstrdup(rpt_s(s));
    for (char *p = u; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return u;
}

static void set_time_opt(json_t *o, const char *key, const char *rfc3339)
{
    time_t t;
    if (!rpt_empty(rfc3339) && rpt_parse_rfc3339(rfc3339, &t))
        rpt_jset(o, key, rpt_jint((long long)t));
}

/* Shaped like the vulnerablePackages entries of AWS's Debian sample: upper-case arch, numeric
 * epoch, upstream version and Debian revision as release, "NotAvailable" when no fix. OS
 * packages carry no filePath there, so none is sent. */
static json_t *vulnerable_package(const struct ecr_ctx *c, const struct finding *f)
{
    const struct pkg *p = f->pkg;
    const struct inventory *inv = c->r->inv;
    json_t *o = rpt_jobj();
    if (!p) {
        rpt_jset_str(o, "name", "");
        return o;
    }
    char *arch = upper(p->arch);
    rpt_jset_str_opt(o, "arch", arch);
    free(arch);
    rpt_jset(o, "epoch", rpt_jint(p->epoch));
    rpt_jset_str(o, "name", p->name);
    rpt_jset_str(o, "packageManager", rpt_package_manager(p));
    /* the file the package was found in (Inspector's filePath), for language packages */
    if (pkg_type_is_lang(p->type))
        rpt_jset_str_opt(o, "filePath", p->db_path);
    rpt_jset_str_opt(o, "release", p->release);
    if (p->layer >= 0 && (size_t)p->layer < inv->layers.n)
        rpt_jset_str_opt(o, "sourceLayerHash", inv->layers.v[p->layer].digest);
    rpt_jset_str(o, "version", !rpt_empty(p->upstream) ? p->upstream : p->version);
    rpt_jset_str(o, "fixedInVersion",
                 !rpt_empty(f->fixed_version) ? f->fixed_version : "NotAvailable");
    return o;
}

/* "CVE-2021-33910 - systemd-pam, systemd and 2 more", as Inspector titles its findings.
 * Members are sorted by package name, so a package listed twice (two fix lines) is adjacent
 * to itself and named once. Inspector's wording for exactly two packages is not documented;
 * we write "a, b". */
static char *enhanced_title(const struct rpt_group *g)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    buf_printf(&b, "%s - ", rpt_s(g->rep->id));
    size_t distinct = 0;
    for (size_t i = 0; i < g->n; i++) {
        const char *name = pkg_name(g->members[i]);
        if (i > 0 && strcmp(pkg_name(g->members[i - 1]), name) == 0)
            continue;
        if (distinct < 2) {
            if (distinct)
                buf_append_cstr(&b, ", ");
            buf_append_cstr(&b, name);
        }
        distinct++;
    }
    if (distinct > 2)
        buf_printf(&b, " and %zu more", distinct - 2);
    return buf_detach(&b, NULL);
}

static char *remediation_text(const struct rpt_group *g)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    for (size_t i = 0; i < g->n; i++) {
        const struct finding *f = g->members[i];
        if (rpt_empty(f->fixed_version))
            continue;
        buf_append_cstr(&b, b.len ? ", " : "Upgrade ");
        buf_printf(&b, "%s to %s", pkg_name(f), f->fixed_version);
    }
    if (b.len == 0)
        buf_append_cstr(&b, "None Provided"); /* what Inspector says when it has no advice */
    else
        buf_putc(&b, '.');
    return buf_detach(&b, NULL);
}

static char *finding_arn(const struct ecr_ctx *c, const char *id)
{
    /* Stable across rescans of the same image, so an event consumer can follow a finding:
     * the id is derived from the image digest and the vulnerability id. */
    struct buf b;
    unsigned char h[SHA256_LEN];
    char hex[2 * SHA256_LEN + 1];
    buf_init(&b, 1 << 16);
    buf_printf(&b, "%s\n%s", rpt_s(c->r->inv->manifest_digest), rpt_s(id));
    sha256_buf(b.data ? b.data : "", b.len, h);
    buf_release(&b);
    hex_encode(h, 16, hex);
    hex[32] = '\0';
    return xasprintf("arn:aws:inspector2:%s:%s:finding/%s", c->region, c->account, hex);
}

static json_t *resource(const struct ecr_ctx *c)
{
    const struct inventory *inv = c->r->inv;
    json_t *res = rpt_jobj(), *details = rpt_jobj(), *img = rpt_jobj(), *tags = rpt_jarr();
    rpt_jset_str_opt(img, "architecture", c->arch);
    rpt_jset_str(img, "imageHash", inv->manifest_digest);
    if (!rpt_empty(c->tag))
        rpt_jpush_str(tags, c->tag);
    rpt_jset(img, "imageTags", tags);
    rpt_jset_str(img, "platform", c->platform);
    rpt_jset_str(img, "registry", c->account);
    rpt_jset_str(img, "repositoryName", c->repo);
    rpt_jset(details, "awsEcrContainerImage", img);
    rpt_jset(res, "details", details);
    char *id = xasprintf("arn:aws:ecr:%s:%s:repository/%s/%s", c->region, c->account, c->repo,
                         rpt_s(inv->manifest_digest));
    rpt_jset_str(res, "id", id);
    free(id);
    rpt_jset(res, "tags", rpt_jobj());
    rpt_jset_str(res, "type", "AWS_ECR_CONTAINER_IMAGE");
    return res;
}

static json_t *enhanced_finding(const struct ecr_ctx *c, const struct rpt_group *g)
{
    const struct finding *f = g->rep;
    long long now = (long long)c->r->completed_at;
    json_t *o = rpt_jobj(), *pvd = rpt_jobj(), *cv = rpt_jarr(), *refs = rpt_jarr(),
           *rel = rpt_jarr();
    json_t *pkgs = rpt_jarr();

    rpt_jset_str(o, "awsAccountId", c->account);
    rpt_jset_str(o, "description", description(f));
    char *arn = finding_arn(c, f->id);
    rpt_jset_str(o, "findingArn", arn);
    free(arn);
    /* vigil keeps no first-seen date in a one-shot report: the scan time stands in. */
    rpt_jset(o, "firstObservedAt", rpt_jint(now));
    rpt_jset(o, "lastObservedAt", rpt_jint(now));

    for (size_t i = 0; i < f->cvss.n; i++) {
        const struct finding_cvss *s = &f->cvss.v[i];
        json_t *e = rpt_jobj();
        rpt_jset(e, "baseScore", rpt_jreal(rpt_score(s->score)));
        rpt_jset_str(e, "scoringVector", s->vector);
        rpt_jset_str(e, "source", !rpt_empty(s->source) ? s->source : "NVD");
        rpt_jset_str(e, "version", s->version);
        rpt_jpush(cv, e);
    }
    rpt_jset(pvd, "cvss", cv);
    for (size_t i = 0; i < f->references.n; i++)
        rpt_jpush_str(refs, f->references.v[i]);
    rpt_jset(pvd, "referenceUrls", refs);
    for (size_t i = 0; i < f->related.n; i++)
        rpt_jpush_str(rel, f->related.v[i]);
    rpt_jset(pvd, "relatedVulnerabilities", rel);
    rpt_jset_str(pvd, "source", inspector_source(f));
    rpt_jset_str_opt(pvd, "sourceUrl", f->uri);
    set_time_opt(pvd, "vendorCreatedAt", f->published);
    rpt_jset_str_opt(pvd, "vendorSeverity", f->vendor_severity);
    set_time_opt(pvd, "vendorUpdatedAt", f->modified);
    rpt_jset_str(pvd, "vulnerabilityId", f->id);
    size_t nfixed = 0;
    for (size_t i = 0; i < g->n; i++) {
        rpt_jpush(pkgs, vulnerable_package(c, g->members[i]));
        nfixed += !rpt_empty(g->members[i]->fixed_version);
    }
    rpt_jset(pvd, "vulnerablePackages", pkgs);
    rpt_jset(o, "packageVulnerabilityDetails", pvd);

    json_t *rem = rpt_jobj(), *rec = rpt_jobj();
    char *text = remediation_text(g);
    rpt_jset_str(rec, "text", text);
    free(text);
    rpt_jset(rem, "recommendation", rec);
    rpt_jset(o, "remediation", rem);

    json_t *resources = rpt_jarr();
    rpt_jpush(resources, resource(c));
    rpt_jset(o, "resources", resources);

    const struct finding_cvss *best = rpt_best_cvss(f);
    if (best) {
        json_t *sd = rpt_jobj(), *cvss = rpt_jobj();
        rpt_jset(o, "score", rpt_jreal(rpt_score(best->score)));
        rpt_jset(cvss, "adjustments", rpt_jarr());
        rpt_jset(cvss, "score", rpt_jreal(rpt_score(best->score)));
        rpt_jset_str(cvss, "scoreSource", !rpt_empty(best->source) ? best->source : "NVD");
        rpt_jset_str(cvss, "scoringVector", best->vector);
        rpt_jset_str(cvss, "version", best->version);
        rpt_jset(sd, "cvss", cvss);
        rpt_jset(o, "scoreDetails", sd);
    }
    /* Inspector's severity enum says UNTRIAGED where ECR's FindingSeverity says UNDEFINED. */
    enum severity sev = rpt_sev(f->severity);
    rpt_jset_str(o, "severity", sev == SEV_UNDEFINED ? "UNTRIAGED" : rpt_sev_name(sev));
    rpt_jset_str(o, "status", "ACTIVE");
    char *title = enhanced_title(g);
    rpt_jset_str(o, "title", title);
    free(title);
    rpt_jset_str(o, "type", "PACKAGE_VULNERABILITY");
    rpt_jset(o, "updatedAt", rpt_jint(now));
    rpt_jset_str(o, "fixAvailable", nfixed == g->n ? "YES" : nfixed == 0 ? "NO" : "PARTIAL");
    return o;
}

/* findingSeverityCounts lists only the severities that occur, most severe first. */
static json_t *severity_counts(const size_t counts[SEV_COUNT])
{
    json_t *o = rpt_jobj();
    for (int s = SEV_CRITICAL; s >= SEV_UNDEFINED; s--)
        if (counts[s])
            rpt_jset(o, rpt_sev_name((enum severity)s), rpt_jint((long long)counts[s]));
    return o;
}

int rpt_write_ecr(FILE *out, const struct scan_result *r, bool enhanced)
{
    struct ecr_ctx c = {
        .r = r,
        .account = !rpt_empty(r->account_id) ? r->account_id : "000000000000",
        .region = !rpt_empty(r->region) ? r->region : "us-east-1",
        .arch = rpt_arch(r->inv->platform),
        .platform = platform_name(&r->inv->os),
    };
    size_t n = 0, ngroups = 0, counts[SEV_COUNT] = { 0 };
    const struct finding **sorted = rpt_sorted(r->findings, &n);
    struct rpt_group *groups = NULL;
    json_t *root = rpt_jobj(), *isf = rpt_jobj(), *list = rpt_jarr();

    rpt_repo_tag(r, &c.repo, &c.tag);
    if (enhanced) {
        groups = rpt_group_by_id(sorted, n, &ngroups);
        for (size_t i = 0; i < ngroups; i++) {
            rpt_jpush(list, enhanced_finding(&c, &groups[i]));
            counts[rpt_sev(groups[i].rep->severity)]++;
        }
        rpt_jset(isf, "enhancedFindings", list);
    } else {
        for (size_t i = 0; i < n; i++) {
            rpt_jpush(list, basic_finding(sorted[i]));
            counts[rpt_sev(sorted[i]->severity)]++;
        }
        rpt_jset(isf, "findings", list);
    }
    rpt_jset(isf, "imageScanCompletedAt", rpt_jint((long long)r->completed_at));
    /* 0 means the caller does not know the data's age: leave it out rather than say 1970 */
    if (r->vuln_source_updated_at)
        rpt_jset(isf, "vulnerabilitySourceUpdatedAt",
                 rpt_jint((long long)r->vuln_source_updated_at));
    rpt_jset(isf, "findingSeverityCounts", severity_counts(counts));
    rpt_jset(root, "imageScanFindings", isf);

    rpt_jset_str(root, "registryId", c.account);
    rpt_jset_str(root, "repositoryName", c.repo);
    json_t *image_id = rpt_jobj();
    rpt_jset_str(image_id, "imageDigest", r->inv->manifest_digest);
    rpt_jset_str_opt(image_id, "imageTag", c.tag);
    rpt_jset(root, "imageId", image_id);
    /* Real ECR reports enhanced scans as ACTIVE ("Continuous scan is selected for image.");
     * a vigil report describes one finished scan, and `aws ecr wait image-scan-complete`
     * only accepts COMPLETE, so both shapes say COMPLETE. */
    json_t *status = rpt_jobj();
    rpt_jset_str(status, "status", "COMPLETE");
    rpt_jset_str(status, "description", "The scan was completed successfully.");
    rpt_jset(root, "imageScanStatus", status);

    free(groups);
    free(sorted);
    free(c.repo);
    free(c.tag);
    free(c.arch);
    free(c.platform);
    return rpt_dump(out, root);
}
