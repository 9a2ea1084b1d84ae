/* SPDX-License-Identifier: Apache-2.0 */
/* SARIF 2.1.0 report: one run whose driver has one rule per vulnerability id and one result
 * per vulnerable package, located at the package database file inside the image. Written to
 * the OASIS schema and to the subset GitHub code scanning reads (help.text, region.startLine,
 * properties.security-severity). */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "scan/report_internal.h"

#define SARIF_SCHEMA  "https://json.schemastore.org/sarif-2.1.0.json"
#define URI_BASE_ROOT "IMAGE_ROOT"

static const char *level(enum severity s)
{
    switch (rpt_sev(s)) {
    case SEV_CRITICAL:
    case SEV_HIGH:
        return "error";
    case SEV_MEDIUM:
        return "warning";
    case SEV_LOW:
    case SEV_INFORMATIONAL:
    case SEV_UNDEFINED:
        return "note";
    }
    return "note";
}

/* security-severity is a score string GitHub buckets as critical (9.0+), high (7.0+),
 * medium (4.0+) and low. The finding's CVSS score (v3.x, else v4, else v2) is reported;
 * without any CVSS the middle of vigil's own severity band stands in. */
static void security_severity(const struct finding *f, char out[8])
{
    static const double band[SEV_COUNT] = {
        [SEV_UNDEFINED] = 0.0, [SEV_INFORMATIONAL] = 0.0, [SEV_LOW] = 2.0,
        [SEV_MEDIUM] = 5.5,    [SEV_HIGH] = 8.0,          [SEV_CRITICAL] = 9.5,
    };
    const struct finding_cvss *c = rpt_best_cvss(f);
    double score = c ? rpt_score(c->score) : band[rpt_sev(f->severity)];
    rpt_score_str(score, out);
}

static json_t *text_obj(const char *key, const char *text)
{
    json_t *o = jobj();
    jset_str(o, key, text);
    return o;
}

static const char *pkg_field(const struct finding *f, int which)
{
    if (!f->pkg)
        return "";
    return rpt_s(which == 0 ? f->pkg->name : which == 1 ? f->pkg->version : f->pkg->db_path);
}

static json_t *rule(const struct rpt_group *g)
{
    const struct finding *f = g->rep;
    const char *title = !rpt_empty(f->title) ? f->title : f->id;
    const char *desc = !rpt_empty(f->description) ? f->description : title;
    json_t *o = jobj(), *props = jobj(), *tags = jarr(), *help = jobj();
    char sev[8];
    struct buf text, md;

    jset_str(o, "id", f->id);
    jset(o, "shortDescription", text_obj("text", title));
    jset(o, "fullDescription", text_obj("text", desc));
    jset(o, "defaultConfiguration", text_obj("level", level(f->severity)));
    jset_str_opt(o, "helpUri", f->uri);

    buf_init(&text, 1 << 24);
    buf_init(&md, 1 << 24);
    buf_printf(&text, "Vulnerability %s\nSeverity: %s\n", rpt_s(f->id), rpt_sev_name(f->severity));
    buf_printf(&md,
               "**Vulnerability %s**\n\n| Severity | Package | Installed | Fixed in |\n"
               "| --- | --- | --- | --- |\n",
               rpt_s(f->id));
    for (size_t i = 0; i < g->n; i++) {
        const struct finding *m = g->members[i];
        const char *fix = !rpt_empty(m->fixed_version) ? m->fixed_version : "(no fix)";
        buf_printf(&text, "Package: %s %s, fixed in: %s\n", pkg_field(m, 0), pkg_field(m, 1), fix);
        buf_printf(&md, "| %s | %s | %s | %s |\n", rpt_sev_name(m->severity), pkg_field(m, 0),
                   pkg_field(m, 1), fix);
    }
    if (!rpt_empty(f->uri)) {
        buf_printf(&text, "Link: %s\n", f->uri);
        buf_printf(&md, "\n[%s](%s)\n", rpt_s(f->id), f->uri);
    }
    jset_str(help, "text", buf_cstr(&text));
    jset_str(help, "markdown", buf_cstr(&md));
    buf_release(&text);
    buf_release(&md);
    jset(o, "help", help);

    security_severity(f, sev);
    jpush_str(tags, "vulnerability");
    jpush_str(tags, "security");
    jpush_str(tags, rpt_sev_name(f->severity));
    jset(props, "precision", jstr("very-high"));
    jset_str(props, "security-severity", sev);
    jset(props, "tags", tags);
    jset(o, "properties", props);
    return o;
}

static json_t *result(const struct inventory *inv, const struct finding *f, size_t rule_index)
{
    const char *name = pkg_field(f, 0), *ver = pkg_field(f, 1);
    const char *db = !rpt_empty(pkg_field(f, 2)) ? pkg_field(f, 2) : "/";
    const char *image = !rpt_empty(inv->image_name) ? inv->image_name : rpt_s(inv->image_ref);
    json_t *o = jobj(), *locs = jarr(), *loc = jobj(), *phys = jobj(), *art = jobj();
    json_t *region = jobj(), *logical = jarr(), *ll = jobj(), *props = jobj();
    char *msg;

    jset_str(o, "ruleId", f->id);
    jset(o, "ruleIndex", jint((long long)rule_index));
    jset_str(o, "level", level(f->severity));
    if (!rpt_empty(f->fixed_version))
        msg = xasprintf("Package %s %s is affected by %s (%s); fixed in %s.", name, ver,
                        rpt_s(f->id), rpt_sev_name(f->severity), f->fixed_version);
    else
        msg = xasprintf("Package %s %s is affected by %s (%s); no fixed version is available.",
                        name, ver, rpt_s(f->id), rpt_sev_name(f->severity));
    jset(o, "message", text_obj("text", msg));
    free(msg);

    /* The physical location is the package database inside the image's root filesystem (a
     * relative path under IMAGE_ROOT). The line of the record is not tracked, and GitHub
     * requires a region, so the region is the file's first line. */
    jset_str(art, "uri", db[0] == '/' ? db + 1 : db);
    jset_str(art, "uriBaseId", URI_BASE_ROOT);
    jset(phys, "artifactLocation", art);
    jset(region, "startLine", jint(1));
    jset(phys, "region", region);
    jset(loc, "physicalLocation", phys);
    char *fqn = xasprintf("%s@%s/%s/%s", image, rpt_s(inv->manifest_digest), db, name);
    jset_str(ll, "name", name);
    jset_str(ll, "fullyQualifiedName", fqn);
    jset_str(ll, "kind", "package");
    free(fqn);
    jpush(logical, ll);
    jset(loc, "logicalLocations", logical);
    char *where = xasprintf("%s (%s) %s", image, rpt_s(inv->manifest_digest), db);
    jset(loc, "message", text_obj("text", where));
    free(where);
    jpush(locs, loc);
    jset(o, "locations", locs);

    jset_str(props, "packageName", name);
    jset_str(props, "installedVersion", ver);
    jset_str(props, "fixedVersion", f->fixed_version);
    jset_str(props, "severity", rpt_sev_name(f->severity));
    if (f->pkg) {
        char *purl = report_purl(inv, f->pkg);
        jset_str_opt(props, "purl", purl);
        free(purl);
        if (f->pkg->layer >= 0 && (size_t)f->pkg->layer < inv->layers.n)
            jset_str(props, "layerDigest", inv->layers.v[f->pkg->layer].digest);
    }
    jset(o, "properties", props);
    return o;
}

int rpt_write_sarif(FILE *out, const struct scan_result *r)
{
    const struct inventory *inv = r->inv;
    size_t n = 0, ngroups = 0;
    const struct finding **sorted = rpt_sorted(r->findings, &n);
    struct rpt_group *groups = rpt_group_by_id(sorted, n, &ngroups);
    json_t *root = jobj(), *runs = jarr(), *run = jobj(), *tool = jobj(), *driver = jobj();
    json_t *rules = jarr(), *results = jarr(), *bases = jobj(), *root_base = jobj();
    json_t *props = jobj();
    const char *image = !rpt_empty(inv->image_name) ? inv->image_name : rpt_s(inv->image_ref);

    jset_str(root, "$schema", SARIF_SCHEMA);
    jset_str(root, "version", "2.1.0");

    jset_str(driver, "name", "vigil");
    jset_str(driver, "informationUri", VIGIL_INFORMATION_URI);
    jset_str(driver, "version", VIGIL_VERSION_STRING);
    /* Results follow their rule: rules in report order (severity, then id), each rule's
     * packages by name. A result's level is its own finding's severity. */
    for (size_t i = 0; i < ngroups; i++) {
        jpush(rules, rule(&groups[i]));
        for (size_t k = 0; k < groups[i].n; k++)
            jpush(results, result(inv, groups[i].members[k], i));
    }
    jset(driver, "rules", rules);
    jset(tool, "driver", driver);
    jset(run, "tool", tool);

    char *desc = xasprintf("Root filesystem of image %s (%s)", image, rpt_s(inv->manifest_digest));
    jset(root_base, "description", text_obj("text", desc));
    free(desc);
    jset(bases, URI_BASE_ROOT, root_base);
    jset(run, "originalUriBaseIds", bases);
    jset(run, "results", results);

    jset_str(props, "imageRef", inv->image_ref);
    jset_str(props, "imageName", inv->image_name);
    jset_str(props, "manifestDigest", inv->manifest_digest);
    jset_str(props, "platform", inv->platform);
    jset_str(props, "os", !rpt_empty(inv->os.pretty_name) ? inv->os.pretty_name : inv->os.id);
    char when[32];
    rpt_rfc3339(r->completed_at, when);
    jset_str(props, "scanCompletedAt", when);
    jset(run, "properties", props);

    jpush(runs, run);
    jset(root, "runs", runs);
    free(groups);
    free(sorted);
    return rpt_dump(out, root);
}
