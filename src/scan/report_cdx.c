/* SPDX-License-Identifier: Apache-2.0 */
/* CycloneDX 1.5 JSON: the image as the BOM's subject (a container), its OS and packages as
 * components with purls, and for scans one vulnerability per id with CVSS ratings and the
 * packages it affects. */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/xalloc.h"
#include "scan/report_internal.h"

#define CDX_SCHEMA "http://cyclonedx.org/schema/bom-1.5.schema.json"
#define REF_IMAGE  "vigil:image"
#define REF_OS     "vigil:os"
#define REF_VULN   "vigil:vuln:"

/* ---- serial number and timestamp ------------------------------------------------------- */

static void uuid_format(unsigned char u[16], int version, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    u[6] = (unsigned char)((u[6] & 0x0F) | (version << 4));
    u[8] = (unsigned char)((u[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[u[i] >> 4];
        out[o++] = hex[u[i] & 15];
    }
    out[o] = '\0';
}

static bool random_bytes(unsigned char *p, size_t n)
{
    if (getrandom(p, n, 0) == (ssize_t)n)
        return true;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = read(fd, p, n) == (ssize_t)n;
    close(fd);
    return ok;
}

/* urn:uuid: a random v4 UUID, or with VIGIL_DETERMINISTIC=1 one derived from the manifest
 * digest (SHA-256, marked as version 8, RFC 9562's custom layout, since it is not random). */
static char *serial_number(const struct inventory *inv, bool scan)
{
    unsigned char h[SHA256_LEN];
    char uuid[37];
    bool det = rpt_deterministic();
    if (!det && random_bytes(h, 16)) {
        uuid_format(h, 4, uuid);
    } else {
        char *seed = xasprintf("vigil-cyclonedx\n%s\n%s", rpt_s(inv->manifest_digest),
                               scan ? "scan" : "inventory");
        sha256_buf(seed, strlen(seed), h);
        free(seed);
        uuid_format(h, 8, uuid);
    }
    return xasprintf("urn:uuid:%s", uuid);
}

/* Inventories have no scan time: SOURCE_DATE_EPOCH when set (the reproducible-builds
 * convention), else the epoch in deterministic mode, else now. */
static time_t inventory_time(void)
{
    const char *sde = getenv("SOURCE_DATE_EPOCH");
    unsigned long long v;
    if (sde && str_to_u64(str_from(sde), &v) && v < (1ULL << 40))
        return (time_t)v;
    return rpt_deterministic() ? 0 : time(NULL);
}

/* ---- components ------------------------------------------------------------------------ */

static void prop(json_t *props, const char *name, const char *value)
{
    if (rpt_empty(value))
        return;
    json_t *o = rpt_jobj();
    rpt_jset_str(o, "name", name);
    rpt_jset_str(o, "value", value);
    rpt_jpush(props, o);
}

static const char *pkg_type_name(enum pkg_type t)
{
    return rpt_pkg_type_name(t);
}

/* bom-refs: the purl, unless two packages share it (the same package recorded twice), in which
 * case the later ones get "vigil:pkg:<index>". Owned array of owned strings. */
struct ref_sort {
    const char *ref;
    size_t idx;
};

static int cmp_ref(const void *a, const void *b)
{
    const struct ref_sort *x = a, *y = b;
    int c = strcmp(x->ref, y->ref);
    return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

static char **package_refs(const struct inventory *inv, char **purls)
{
    size_t n = inv->pkgs.items.n;
    char **refs = xcalloc(n ? n : 1, sizeof(*refs));
    struct ref_sort *s = xcalloc(n ? n : 1, sizeof(*s));
    for (size_t i = 0; i < n; i++) {
        refs[i] = purls[i] ? xstrdup(purls[i]) : xasprintf("vigil:pkg:%zu", i);
        s[i] = (struct ref_sort){ refs[i], i };
    }
    qsort(s, n, sizeof(*s), cmp_ref);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(s[i].ref, s[i - 1].ref) != 0)
            continue;
        size_t k = s[i].idx;
        char *dup = xasprintf("vigil:pkg:%zu", k);
        s[i].ref = s[i - 1].ref; /* keep the run's key for the next comparison */
        free(refs[k]);
        refs[k] = dup;
    }
    free(s);
    return refs;
}

static json_t *package_component(const struct inventory *inv, const struct pkg *p, const char *ref,
                                 const char *purl)
{
    json_t *o = rpt_jobj(), *props = rpt_jarr();
    rpt_jset_str(o, "bom-ref", ref);
    rpt_jset_str(o, "type", "library");
    rpt_jset_str(o, "name", p->name);
    rpt_jset_str_opt(o, "version", p->version);
    if (!rpt_empty(p->license)) {
        /* Package databases hold free-form license text ("GPLv2+", "MIT AND BSD"): "name"
         * takes any string, where "id" would have to be an SPDX identifier. */
        json_t *lics = rpt_jarr(), *l = rpt_jobj(), *lic = rpt_jobj();
        rpt_jset_str(lic, "name", p->license);
        rpt_jset(l, "license", lic);
        rpt_jpush(lics, l);
        rpt_jset(o, "licenses", lics);
    }
    rpt_jset_str_opt(o, "purl", purl);

    char layer[24];
    bool has_layer = p->layer >= 0 && (size_t)p->layer < inv->layers.n;
    snprintf(layer, sizeof(layer), "%d", p->layer);
    prop(props, "vigil:package-type", pkg_type_name(p->type));
    if (has_layer) {
        prop(props, "vigil:layer", layer);
        prop(props, "vigil:layer-digest", inv->layers.v[p->layer].digest);
    }
    prop(props, "vigil:source-package", p->src_name);
    prop(props, "vigil:source-version", p->src_version);
    prop(props, "vigil:package-db", p->db_path);
    prop(props, "vigil:maintainer", p->maintainer);
    rpt_jset(o, "properties", props);
    return o;
}

static json_t *image_component(const struct inventory *inv)
{
    json_t *o = rpt_jobj(), *props = rpt_jarr();
    const char *name = !rpt_empty(inv->image_name) ? inv->image_name : rpt_s(inv->image_ref);
    rpt_jset_str(o, "bom-ref", REF_IMAGE);
    rpt_jset_str(o, "type", "container");
    rpt_jset_str(o, "name", *name ? name : "image");
    rpt_jset_str_opt(o, "version", inv->manifest_digest);
    prop(props, "vigil:image:ref", inv->image_ref);
    prop(props, "vigil:image:config-digest", inv->config_digest);
    prop(props, "vigil:image:platform", inv->platform);
    for (size_t i = 0; i < inv->layers.n; i++) {
        char key[48];
        snprintf(key, sizeof(key), "vigil:image:layer:%zu", i);
        prop(props, key, inv->layers.v[i].digest);
    }
    rpt_jset(o, "properties", props);
    return o;
}

static json_t *os_component(const struct inventory *inv)
{
    json_t *o = rpt_jobj(), *props = rpt_jarr();
    rpt_jset_str(o, "bom-ref", REF_OS);
    rpt_jset_str(o, "type", "operating-system");
    rpt_jset_str(o, "name", inv->os.id);
    rpt_jset_str_opt(o, "version", inv->os.version_id);
    rpt_jset_str_opt(o, "description", inv->os.pretty_name);
    prop(props, "vigil:os:codename", inv->os.codename);
    prop(props, "vigil:os:source", inv->os.source);
    rpt_jset(o, "properties", props);
    return o;
}

/* ---- vulnerabilities ------------------------------------------------------------------- */

static const char *cdx_severity(enum severity s)
{
    switch (rpt_sev(s)) {
    case SEV_CRITICAL:
        return "critical";
    case SEV_HIGH:
        return "high";
    case SEV_MEDIUM:
        return "medium";
    case SEV_LOW:
        return "low";
    case SEV_INFORMATIONAL:
        return "info";
    case SEV_UNDEFINED:
        return "unknown";
    }
    return "unknown";
}

static const char *cdx_method(const char *version)
{
    const char *v = rpt_s(version);
    if (strcmp(v, "2.0") == 0)
        return "CVSSv2";
    if (strcmp(v, "3.0") == 0)
        return "CVSSv3";
    if (strcmp(v, "3.1") == 0)
        return "CVSSv31";
    if (strcmp(v, "4.0") == 0)
        return "CVSSv4";
    return "other";
}

/* The vendor behind an ecosystem name ("Debian:12" -> "Debian"), owned. */
static char *vendor_name(const struct finding *f)
{
    const char *eco = rpt_s(f->ecosystem);
    if (!*eco)
        return xstrdup(!rpt_empty(f->source) ? f->source : "vigil");
    return xstrndup(eco, strcspn(eco, ":"));
}

static json_t *source_obj(const char *name, const char *url)
{
    json_t *o = rpt_jobj();
    rpt_jset_str_opt(o, "name", name);
    rpt_jset_str_opt(o, "url", url);
    return o;
}

/* The schema declares advisory URLs as iri-reference: text with spaces or control characters
 * (some feeds put prose in reference lists) is left out rather than producing an invalid BOM. */
static bool is_url_like(const char *s)
{
    if (rpt_empty(s))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7F || *p == '"' || *p == '<' || *p == '>' || *p == '\\' ||
            *p == '^' || *p == '`' || *p == '{' || *p == '|' || *p == '}')
            return false;
    return true;
}

static void set_date_opt(json_t *o, const char *key, const char *rfc3339)
{
    time_t t;
    char buf[32];
    if (!rpt_empty(rfc3339) && rpt_parse_rfc3339(rfc3339, &t)) {
        rpt_rfc3339(t, buf);
        rpt_jset_str(o, key, buf);
    }
}

static const char *pkg_ref(const struct inventory *inv, char **refs, const struct pkg *p)
{
    const struct pkg *base = inv->pkgs.items.v;
    if (p && base && p >= base && p < base + inv->pkgs.items.n)
        return refs[p - base];
    return NULL;
}

static json_t *vulnerability(const struct inventory *inv, char **refs, const struct rpt_group *g)
{
    const struct finding *f = g->rep;
    json_t *o = rpt_jobj(), *ratings = rpt_jarr(), *advisories = rpt_jarr(), *affects = rpt_jarr();
    char *vendor = vendor_name(f);

    char *ref = xasprintf(REF_VULN "%s", rpt_s(f->id));
    rpt_jset_str(o, "bom-ref", ref);
    free(ref);
    rpt_jset_str(o, "id", f->id);
    rpt_jset(o, "source", source_obj(vendor, is_url_like(f->uri) ? f->uri : NULL));
    if (f->related.n) {
        json_t *refs_arr = rpt_jarr();
        for (size_t i = 0; i < f->related.n; i++) {
            if (rpt_empty(f->related.v[i]))
                continue;
            json_t *r = rpt_jobj();
            rpt_jset_str(r, "id", f->related.v[i]);
            rpt_jset(r, "source", source_obj(vendor, NULL));
            rpt_jpush(refs_arr, r);
        }
        rpt_jset(o, "references", refs_arr);
    }

    for (size_t i = 0; i < f->cvss.n; i++) {
        const struct finding_cvss *c = &f->cvss.v[i];
        json_t *r = rpt_jobj();
        rpt_jset(r, "source", source_obj(!rpt_empty(c->source) ? c->source : "NVD", NULL));
        rpt_jset(r, "score", rpt_jreal(rpt_score(c->score)));
        rpt_jset_str(r, "severity", cdx_severity(rpt_cvss_band(c->version, c->score)));
        rpt_jset_str(r, "method", cdx_method(c->version));
        rpt_jset_str_opt(r, "vector", c->vector);
        rpt_jpush(ratings, r);
    }
    if (strcmp(rpt_s(f->severity_source), "vendor") == 0 || f->cvss.n == 0) {
        /* The rating vigil reports when it comes from the vendor (Debian urgency, Red Hat
         * impact, GHSA) or when there is no CVSS at all. */
        json_t *r = rpt_jobj();
        rpt_jset(r, "source", source_obj(vendor, NULL));
        rpt_jset_str(r, "severity", cdx_severity(f->severity));
        rpt_jset_str(r, "method", "other");
        if (!rpt_empty(f->vendor_severity)) {
            char *j = xasprintf("vendor rating: %s", f->vendor_severity);
            rpt_jset_str(r, "justification", j);
            free(j);
        }
        rpt_jpush(ratings, r);
    }
    rpt_jset(o, "ratings", ratings);
    rpt_jset_str_opt(o, "description",
                     !rpt_empty(f->description) ? f->description : rpt_s(f->title));

    struct buf rec;
    buf_init(&rec, 1 << 20);
    for (size_t i = 0; i < g->n; i++) {
        const struct finding *m = g->members[i];
        if (rpt_empty(m->fixed_version) || !m->pkg)
            continue;
        buf_append_cstr(&rec, rec.len ? ", " : "Upgrade ");
        buf_printf(&rec, "%s to %s", rpt_s(m->pkg->name), m->fixed_version);
    }
    if (rec.len) {
        buf_putc(&rec, '.');
        rpt_jset_str(o, "recommendation", buf_cstr(&rec));
    }
    buf_release(&rec);

    /* Advisories: the primary link, then the references, each once. */
    size_t nadv = 0;
    const char **seen = xcalloc(f->references.n + 1, sizeof(*seen));
    for (size_t i = 0; i <= f->references.n; i++) {
        const char *u = i == 0 ? f->uri : f->references.v[i - 1];
        if (!is_url_like(u))
            continue;
        bool dup = false;
        for (size_t k = 0; k < nadv && !dup; k++)
            dup = strcmp(seen[k], u) == 0;
        if (dup)
            continue;
        seen[nadv++] = u;
        json_t *a = rpt_jobj();
        rpt_jset_str(a, "url", u);
        rpt_jpush(advisories, a);
    }
    free(seen);
    if (nadv)
        rpt_jset(o, "advisories", advisories);
    else
        json_decref(advisories);
    set_date_opt(o, "published", f->published);
    set_date_opt(o, "updated", f->modified);

    /* affects: each package once (uniqueItems), with its installed version. */
    for (size_t i = 0; i < g->n; i++) {
        const struct finding *m = g->members[i];
        const char *pref = pkg_ref(inv, refs, m->pkg);
        if (!pref)
            continue;
        bool dup = false;
        for (size_t k = 0; k < i && !dup; k++)
            dup = pkg_ref(inv, refs, g->members[k]->pkg) == pref;
        if (dup)
            continue;
        json_t *a = rpt_jobj(), *versions = rpt_jarr(), *v = rpt_jobj();
        rpt_jset_str(a, "ref", pref);
        rpt_jset_str(v, "version", m->pkg->version);
        rpt_jset_str(v, "status", "affected");
        rpt_jpush(versions, v);
        rpt_jset(a, "versions", versions);
        rpt_jpush(affects, a);
    }
    if (json_array_size(affects))
        rpt_jset(o, "affects", affects);
    else
        json_decref(affects); /* only packages outside the inventory: nothing to point at */
    free(vendor);
    return o;
}

/* ---- document -------------------------------------------------------------------------- */

int rpt_write_cdx(FILE *out, const struct inventory *inv, const struct scan_result *r)
{
    size_t npkg = inv->pkgs.items.n;
    char **purls = xcalloc(npkg ? npkg : 1, sizeof(*purls));
    for (size_t i = 0; i < npkg; i++)
        purls[i] = report_purl(inv, &inv->pkgs.items.v[i]);
    char **refs = package_refs(inv, purls);
    json_t *root = rpt_jobj(), *meta = rpt_jobj(), *tools = rpt_jobj(), *tool_list = rpt_jarr(),
           *tool = rpt_jobj();
    json_t *comps = rpt_jarr(), *deps = rpt_jarr(), *dep = rpt_jobj(), *depends = rpt_jarr();
    bool has_os = !rpt_empty(inv->os.id);

    rpt_jset_str(root, "$schema", CDX_SCHEMA);
    rpt_jset_str(root, "bomFormat", "CycloneDX");
    rpt_jset_str(root, "specVersion", "1.5");
    char *serial = serial_number(inv, r != NULL);
    rpt_jset_str(root, "serialNumber", serial);
    free(serial);
    rpt_jset(root, "version", rpt_jint(1));

    char when[32];
    rpt_rfc3339(r ? r->completed_at : inventory_time(), when);
    rpt_jset_str(meta, "timestamp", when);
    rpt_jset_str(tool, "type", "application");
    rpt_jset_str(tool, "name", "vigil");
    rpt_jset_str(tool, "version", VIGIL_VERSION_STRING);
    rpt_jpush(tool_list, tool);
    rpt_jset(tools, "components", tool_list);
    rpt_jset(meta, "tools", tools);
    rpt_jset(meta, "component", image_component(inv));
    rpt_jset(root, "metadata", meta);

    if (has_os) {
        rpt_jpush(comps, os_component(inv));
        rpt_jpush_str(depends, REF_OS);
    }
    for (size_t i = 0; i < npkg; i++) {
        rpt_jpush(comps, package_component(inv, &inv->pkgs.items.v[i], refs[i], purls[i]));
        rpt_jpush_str(depends, refs[i]);
    }
    rpt_jset(root, "components", comps);
    rpt_jset_str(dep, "ref", REF_IMAGE);
    rpt_jset(dep, "dependsOn", depends);
    rpt_jpush(deps, dep);
    rpt_jset(root, "dependencies", deps);

    if (r) {
        size_t n = 0, ngroups = 0;
        const struct finding **sorted = rpt_sorted(r->findings, &n);
        struct rpt_group *groups = rpt_group_by_id(sorted, n, &ngroups);
        json_t *vulns = rpt_jarr();
        for (size_t i = 0; i < ngroups; i++)
            rpt_jpush(vulns, vulnerability(inv, refs, &groups[i]));
        rpt_jset(root, "vulnerabilities", vulns);
        free(groups);
        free(sorted);
    }

    for (size_t i = 0; i < npkg; i++) {
        free(purls[i]);
        free(refs[i]);
    }
    free(purls);
    free(refs);
    return rpt_dump(out, root);
}
