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
    json_t *o = rpt_jobj();
    rpt_jset_str(o, key, text);
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
    json_t *o = rpt_jobj(), *props = rpt_jobj(), *tags = rpt_jarr(), *help = rpt_jobj();
    char sev[8];
    struct buf text, md;

    rpt_jset_str(o, "id", f->id);
    rpt_jset(o, "shortDescription", text_obj("text", title));
    rpt_jset(o, "fullDescription", text_obj("text", desc));
    rpt_jset(o, "defaultConfiguration", text_obj("level", level(f->severity)));
    rpt_jset_str_opt(o, "helpUri", f->uri);

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
    rpt_jset_str(help, "text", buf_cstr(&text));
    rpt_jset_str(help, "markdown", buf_cstr(&md));
    buf_release(&text);
    buf_release(&md);
    rpt_jset(o, "help", help);

    security_severity(f, sev);
    rpt_jpush_str(tags, "vulnerability");
    rpt_jpush_str(tags, "security");
    rpt_jpush_str(tags, rpt_sev_name(f->severity));
    rpt_jset(props, "precision", rpt_jstr("very-high"));
    rpt_jset_str(props, "security-severity", sev);
    rpt_jset(props, "tags", tags);
    rpt_jset(o, "properties", props);
    return o;
}

static json_t *result(const struct inventory *inv, const struct finding *f, size_t rule_index)
{
    const char *name = pkg_field(f, 0), *ver = pkg_field(f, 1);
    const char *db = !rpt_empty(pkg_field(f, 2)) ? pkg_field(f, 2) : "/";
    const char *image = !rpt_empty(inv->image_name) ? inv->image_name : rpt_s(inv->image_ref);
    json_t *o = rpt_jobj(), *locs = rpt_jarr(), *loc = rpt_jobj(), *phys = rpt_jobj(),
           *art = rpt_jobj();
    json_t *region = rpt_jobj(), *logical = rpt_jarr(), *ll = rpt_jobj(), *props = rpt_jobj();
    char *msg;

    rpt_jset_str(o, "ruleId", f->id);
    rpt_jset(o, "ruleIndex", rpt_jint((long long)rule_index));
    rpt_jset_str(o, "level", level(f->severity));
    if (!rpt_empty(f->fixed_version))
        msg = xasprintf("Package %s %s is affected by %s (%s); fixed in %s.", name, ver,
                        rpt_s(f->id), rpt_sev_name(f->severity), f->fixed_version);
    else
        msg = xasprintf("Package %s %s is affected by %s (%s); no fixed version is available.",
                        name, ver, rpt_s(f->id), rpt_sev_name(f->severity));
    rpt_jset(o, "message", text_obj("text", msg));
    free(msg);

    /* The physical location is the package database inside the image's root filesystem (a
     * relative path under IMAGE_ROOT). The line of the record is not tracked, and GitHub
     * requires a region, so the region is the file's first line. */
    rpt_jset_str(art, "uri", db[0] == '/' ? db + 1 : db);
    rpt_jset_str(art, "uriBaseId", URI_BASE_ROOT);
    rpt_jset(phys, "artifactLocation", art);
    rpt_jset(region, "startLine", rpt_jint(1));
    rpt_jset(phys, "region", region);
    rpt_jset(loc, "physicalLocation", phys);
    char *fqn = xasprintf("%s@%s/%s/%s", image, rpt_s(inv->manifest_digest), db, name);
    rpt_jset_str(ll, "name", name);
    rpt_jset_str(ll, "fullyQualifiedName", fqn);
    rpt_jset_str(ll, "kind", "package");
    free(fqn);
    rpt_jpush(logical, ll);
    rpt_jset(loc, "logicalLocations", logical);
    char *where = xasprintf("%s (%s) %s", image, rpt_s(inv->manifest_digest), db);
    rpt_jset(loc, "message", text_obj("text", where));
    free(where);
    rpt_jpush(locs, loc);
    rpt_jset(o, "locations", locs);

    rpt_jset_str(props, "packageName", name);
    rpt_jset_str(props, "installedVersion", ver);
    rpt_jset_str(props, "fixedVersion", f->fixed_version);
    rpt_jset_str(props, "severity", rpt_sev_name(f->severity));
    if (f->pkg) {
        char *purl = report_purl(inv, f->pkg);
        rpt_jset_str_opt(props, "purl", purl);
        free(purl);
        if (f->pkg->layer >= 0 && (size_t)f->pkg->layer < inv->layers.n)
            rpt_jset_str(props, "layerDigest", inv->layers.v[f->pkg->layer].digest);
    }
    rpt_jset(o, "properties", props);
    return o;
}

int rpt_write_sarif(FILE *out, const struct scan_result *r)
{
    const struct inventory *inv = r->inv;
    size_t n = 0, ngroups = 0;
    const struct finding **sorted = rpt_sorted(r->findings, &n);
    struct rpt_group *groups = rpt_group_by_id(sorted, n, &ngroups);
    json_t *root = rpt_jobj(), *runs = rpt_jarr(), *run = rpt_jobj(), *tool = rpt_jobj(),
           *driver = rpt_jobj();
    json_t *rules = rpt_jarr(), *results = rpt_jarr(), *bases = rpt_jobj(), *root_base = rpt_jobj();
    json_t *props = rpt_jobj();
    const char *image = !rpt_empty(inv->image_name) ? inv->image_name : rpt_s(inv->image_ref);

    rpt_jset_str(root, "$schema", SARIF_SCHEMA);
    rpt_jset_str(root, "version", "2.1.0");

    rpt_jset_str(driver, "name", "vigil");
    rpt_jset_str(driver, "informationUri", VIGIL_INFORMATION_URI);
    rpt_jset_str(driver, "version", VIGIL_VERSION_STRING);
    /* Results follow their rule: rules in report order (severity, then id), each rule's
     * packages by name. A result's level is its own finding's severity. */
    for (size_t i = 0; i < ngroups; i++) {
        rpt_jpush(rules, rule(&groups[i]));
        for (size_t k = 0; k < groups[i].n; k++)
            rpt_jpush(results, result(inv, groups[i].members[k], i));
    }
    rpt_jset(driver, "rules", rules);
    rpt_jset(tool, "driver", driver);
    rpt_jset(run, "tool", tool);

    char *desc = xasprintf("Root filesystem of image %s (%s)", image, rpt_s(inv->manifest_digest));
    rpt_jset(root_base, "description", text_obj("text", desc));
    free(desc);
    rpt_jset(bases, URI_BASE_ROOT, root_base);
    rpt_jset(run, "originalUriBaseIds", bases);
    rpt_jset(run, "results", results);

    rpt_jset_str(props, "imageRef", inv->image_ref);
    rpt_jset_str(props, "imageName", inv->image_name);
    rpt_jset_str(props, "manifestDigest", inv->manifest_digest);
    rpt_jset_str(props, "platform", inv->platform);
    rpt_jset_str(props, "os", !rpt_empty(inv->os.pretty_name) ? inv->os.pretty_name : inv->os.id);
    char when[32];
    rpt_rfc3339(r->completed_at, when);
    rpt_jset_str(props, "scanCompletedAt", when);
    rpt_jset(run, "properties", props);

    rpt_jpush(runs, run);
    rpt_jset(root, "runs", runs);
    free(groups);
    free(sorted);
    return rpt_dump(out, root);
}
