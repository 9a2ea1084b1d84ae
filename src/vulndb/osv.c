/* SPDX-License-Identifier: Apache-2.0 */
/* Readers for OSV records, NVD 1.1 items, CVE JSON 5 (CISA vulnrichment) records and Alpine
 * secdb documents: jansson value in, plain C struct out, malformed parts dropped with a
 * warning so one bad range never costs the rest of the record. */
#include "vulndb/osv.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "version/version.h"

/* ---- small helpers ------------------------------------------------------------------- */

static const char *jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *jstr_or_empty(const json_t *o, const char *key)
{
    const char *s = jstr(o, key);
    return s ? s : "";
}

__attribute__((format(printf, 4, 5))) static void
warn_add(struct arena *a, struct osv_warning **head, size_t *count, const char *fmt, ...)
{
    /* keep the first few messages; count them all */
    (*count)++;
    if (*count > 16)
        return;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct osv_warning *w = arena_zalloc(a, sizeof(*w));
    w->msg = arena_strdup(a, msg);
    struct osv_warning **tail = head;
    while (*tail)
        tail = &(*tail)->next;
    *tail = w;
}

#define REC_WARN(r, ...) warn_add(&(r)->arena, &(r)->warnings, &(r)->n_warnings, __VA_ARGS__)

/* Copy the string elements of a JSON array into an arena array; non-strings are dropped with
 * a warning naming the field. */
static void string_array(struct osv_record *r, const json_t *arr, const char *field,
                         const char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!arr)
        return;
    if (!json_is_array(arr)) {
        REC_WARN(r, "field '%s' is not an array, ignored", field);
        return;
    }
    size_t len = json_array_size(arr);
    if (len > OSV_MAX_STRINGS) {
        REC_WARN(r, "field '%s' has %zu entries (cap %u), ignored", field, len, OSV_MAX_STRINGS);
        return;
    }
    if (len == 0)
        return;
    const char **v = arena_alloc(&r->arena, len * sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        const json_t *e = json_array_get(arr, i);
        if (!json_is_string(e) || json_string_length(e) == 0) {
            REC_WARN(r, "%s[%zu] is not a non-empty string, ignored", field, i);
            continue;
        }
        v[k++] = json_string_value(e);
    }
    *out = v;
    *n = k;
}

/* An advisory id: 1..128 printable ASCII characters without blanks or quotes. */
static bool id_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
            return false;
    }
    return true;
}

/* ---- document kind -------------------------------------------------------------------- */

enum vin_kind vin_kind_of(const void *root)
{
    const json_t *o = root;
    if (!json_is_object(o))
        return VIN_UNKNOWN;
    const json_t *cve = json_object_get(o, "cve");
    if (json_is_object(cve) && json_object_get(cve, "CVE_data_meta"))
        return VIN_NVD;
    if (json_is_object(json_object_get(o, "cveMetadata")))
        return VIN_CISA;
    if (json_object_get(o, "distroversion") && json_object_get(o, "packages"))
        return VIN_SECDB;
    /* an "id" makes it an OSV record; a missing "modified" is reported as such later */
    if (json_is_string(json_object_get(o, "id")))
        return VIN_OSV;
    return VIN_UNKNOWN;
}

int vin_parse(const char *p, size_t n, void **root, enum vin_kind *kind, struct diag *d)
{
    *root = NULL;
    *kind = VIN_UNKNOWN;
    if (n > OSV_MAX_LINE)
        return diag_set(d, -ERR_TOO_BIG, 0, "JSON document of %zu bytes (cap %u)", n, OSV_MAX_LINE);
    json_error_t je;
    json_t *j = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return diag_set(d, -ERR_CORRUPT, (size_t)(je.position > 0 ? je.position : 0),
                        "not JSON: %s at column %d", je.text, je.column);
    *root = j;
    *kind = vin_kind_of(j);
    return 0;
}

/* ---- OSV ------------------------------------------------------------------------------- */

/* Ecosystem names OSV defines (the part before ':'), as of schema 1.6/1.7. */
static const char *const known_ecosystems[] = {
    "AlmaLinux",
    "Alpaquita",
    "Alpine",
    "Android",
    "Azure Linux",
    "BellSoft Hardened Containers",
    "Bioconductor",
    "Bitnami",
    "Chainguard",
    "CleanStart",
    "ConanCenter",
    "CRAN",
    "crates.io",
    "Debian",
    "Docker Hardened Images",
    "Echo",
    "FreeBSD",
    "GHC",
    "GIT",
    "GitHub Actions",
    "Go",
    "GSD",
    "Hackage",
    "Hex",
    "Julia",
    "Linux",
    "Mageia",
    "Maven",
    "MinimOS",
    "npm",
    "NuGet",
    "opam",
    "openEuler",
    "openSUSE",
    "OSS-Fuzz",
    "Packagist",
    "Photon OS",
    "Pub",
    "PyPI",
    "Red Hat",
    "Rocky Linux",
    "Root",
    "RubyGems",
    "SUSE",
    "SwiftURL",
    "Ubuntu",
    "UVI",
    "VSCode",
    "Wolfi",
};

bool osv_ecosystem_known(const char *ecosystem)
{
    size_t n = strcspn(ecosystem, ":");
    for (size_t i = 0; i < ARRAY_SIZE(known_ecosystems); i++)
        if (strlen(known_ecosystems[i]) == n && memcmp(known_ecosystems[i], ecosystem, n) == 0)
            return true;
    return false;
}

int osv_time_cmp(const char *a, const char *b)
{
    /* "YYYY-MM-DDTHH:MM:SS" compares as text; then the fraction as a decimal fraction */
    size_t la = strcspn(a, ".Z+"), lb = strcspn(b, ".Z+");
    size_t l = la < lb ? la : lb;
    int c = memcmp(a, b, l);
    if (c)
        return c < 0 ? -1 : 1;
    if (la != lb)
        return la < lb ? -1 : 1;
    const char *fa = a[la] == '.' ? a + la + 1 : "";
    const char *fb = b[lb] == '.' ? b + lb + 1 : "";
    for (;;) {
        int da = (*fa >= '0' && *fa <= '9') ? *fa++ - '0' : 0;
        int db = (*fb >= '0' && *fb <= '9') ? *fb++ - '0' : 0;
        if (da != db)
            return da < db ? -1 : 1;
        bool ea = !(*fa >= '0' && *fa <= '9'), eb = !(*fb >= '0' && *fb <= '9');
        if (ea && eb)
            return 0;
    }
}

static enum osv_urgency urgency_parse(const char *s)
{
    if (!s)
        return URG_NONE;
    static const struct {
        const char *name;
        enum osv_urgency u;
    } map[] = {
        { "not yet assigned", URG_NOT_YET_ASSIGNED },
        { "end-of-life", URG_END_OF_LIFE },
        { "unimportant", URG_UNIMPORTANT },
        { "low", URG_LOW },
        { "medium", URG_MEDIUM },
        { "high", URG_HIGH },
    };
    /* the tracker sometimes appends '*' or '**' (uncertain rating): ignore them */
    size_t n = strcspn(s, "*");
    for (size_t i = 0; i < ARRAY_SIZE(map); i++)
        if (strlen(map[i].name) == n && strncmp(map[i].name, s, n) == 0)
            return map[i].u;
    return URG_NOT_YET_ASSIGNED;
}

typedef int (*vcheck_fn)(struct str v, struct diag *d);

/* Alpine's data has versions apk-tools' grammar does not accept ("1.9.5p2-r0",
 * "0.8.21.r2"); apk_vercmp still orders them sensibly (the rest after the last valid token
 * compares by digit runs), and dropping them would drop real fixes, so only a version that
 * does not start with a digit is refused. */
static int apk_version_check_lenient(struct str v, struct diag *d)
{
    if (v.len == 0 || v.ptr[0] < '0' || v.ptr[0] > '9')
        return apk_version_check(v, d);
    return 0;
}

/* The syntax check for an ecosystem's versions, NULL when we have none. */
static vcheck_fn version_check_for(const char *ecosystem)
{
    if (strncmp(ecosystem, "Debian:", 7) == 0)
        return deb_version_check;
    if (strncmp(ecosystem, "Alpine:", 7) == 0)
        return apk_version_check_lenient;
    if (strncmp(ecosystem, "Red Hat:", 8) == 0)
        return rpm_version_check;
    return NULL;
}

/* Parse one range; false when it is malformed (warning already added). */
static bool range_parse(struct osv_record *r, const json_t *jr, size_t ai, size_t ri,
                        vcheck_fn check, struct osv_range *out)
{
    if (!json_is_object(jr)) {
        REC_WARN(r, "affected[%zu].ranges[%zu] is not an object, range skipped", ai, ri);
        return false;
    }
    const char *type = jstr(jr, "type");
    if (!type) {
        REC_WARN(r, "affected[%zu].ranges[%zu] has no type, range skipped", ai, ri);
        return false;
    }
    if (strcmp(type, "ECOSYSTEM") == 0)
        out->type = OSV_RANGE_ECOSYSTEM;
    else if (strcmp(type, "SEMVER") == 0)
        out->type = OSV_RANGE_SEMVER;
    else if (strcmp(type, "GIT") == 0)
        out->type = OSV_RANGE_GIT;
    else {
        REC_WARN(r, "affected[%zu].ranges[%zu] has unknown type '%.40s', range skipped", ai, ri,
                 type);
        return false;
    }
    const json_t *ev = json_object_get(jr, "events");
    size_t n = json_is_array(ev) ? json_array_size(ev) : 0;
    if (n == 0 || n > OSV_MAX_EVENTS) {
        REC_WARN(r, "affected[%zu].ranges[%zu] has %s events, range skipped", ai, ri,
                 n ? "too many" : "no");
        return false;
    }
    out->events = arena_alloc(&r->arena, n * sizeof(*out->events));
    out->n_events = n;
    bool has_introduced = false;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(ev, i);
        const char *key;
        json_t *val;
        if (!json_is_object(e) || json_object_size(e) != 1) {
            REC_WARN(r,
                     "affected[%zu].ranges[%zu].events[%zu] is not a one-key object, range "
                     "skipped",
                     ai, ri, i);
            return false;
        }
        json_object_foreach(e, key, val)
        {
            if (!json_is_string(val) || json_string_length(val) == 0 ||
                json_string_length(val) > 512) {
                REC_WARN(r,
                         "affected[%zu].ranges[%zu].events[%zu].%.20s is not a version "
                         "string, range skipped",
                         ai, ri, i, key);
                return false;
            }
            if (strcmp(key, "introduced") == 0)
                out->events[i].kind = OSV_EV_INTRODUCED;
            else if (strcmp(key, "fixed") == 0)
                out->events[i].kind = OSV_EV_FIXED;
            else if (strcmp(key, "last_affected") == 0)
                out->events[i].kind = OSV_EV_LAST_AFFECTED;
            else if (strcmp(key, "limit") == 0)
                out->events[i].kind = OSV_EV_LIMIT;
            else {
                REC_WARN(r,
                         "affected[%zu].ranges[%zu].events[%zu] has unknown event '%.20s', "
                         "range skipped",
                         ai, ri, i, key);
                return false;
            }
            out->events[i].version = json_string_value(val);
        }
        const struct osv_event *e2 = &out->events[i];
        if (e2->kind == OSV_EV_INTRODUCED)
            has_introduced = true;
        bool zero = strcmp(e2->version, "0") == 0;
        if (check && out->type == OSV_RANGE_ECOSYSTEM && !zero) {
            struct diag vd = { 0 };
            if (check(str_from(e2->version), &vd) < 0) {
                REC_WARN(r,
                         "affected[%zu].ranges[%zu].events[%zu]: unparseable version "
                         "'%.60s' (%s), range skipped",
                         ai, ri, i, e2->version, vd.msg);
                return false;
            }
        }
        /* "fixed: 0" (Alpine's "never affected in this branch") is an empty range and
         * evaluates as one; nothing to reject */
    }
    if (!has_introduced) {
        REC_WARN(r, "affected[%zu].ranges[%zu] has no 'introduced' event, range skipped", ai, ri);
        return false;
    }
    return true;
}

static void affected_parse(struct osv_record *r, const json_t *ja, size_t ai)
{
    const json_t *pkg = json_object_get(ja, "package");
    if (!json_is_object(ja)) {
        REC_WARN(r, "affected[%zu] is not an object, skipped", ai);
        r->n_affected_dropped++;
        return;
    }
    /* upstream-only entries (GIT ranges, no package) are normal in Debian's records */
    if (!pkg || (json_is_object(pkg) && json_object_size(pkg) == 0)) {
        r->n_affected_dropped++;
        return;
    }
    const char *eco = json_is_object(pkg) ? jstr(pkg, "ecosystem") : NULL;
    const char *name = json_is_object(pkg) ? jstr(pkg, "name") : NULL;
    if (!eco || !name || !*eco || !*name) {
        REC_WARN(r, "affected[%zu] has no package ecosystem/name, skipped", ai);
        r->n_affected_dropped++;
        return;
    }
    if (!osv_ecosystem_known(eco)) {
        REC_WARN(r, "affected[%zu]: unknown ecosystem '%.60s', skipped", ai, eco);
        r->n_affected_dropped++;
        return;
    }
    if (strlen(eco) > 200 || strlen(name) > 512) {
        REC_WARN(r, "affected[%zu]: ecosystem or package name too long, skipped", ai);
        r->n_affected_dropped++;
        return;
    }
    struct osv_affected *a = &r->affected[r->n_affected];
    memset(a, 0, sizeof(*a));
    a->ecosystem = eco;
    a->name = name;
    vcheck_fn check = version_check_for(eco);

    const json_t *jr = json_object_get(ja, "ranges");
    if (jr && !json_is_array(jr))
        REC_WARN(r, "affected[%zu].ranges is not an array, ignored", ai);
    size_t nr = json_is_array(jr) ? json_array_size(jr) : 0;
    if (nr > OSV_MAX_EVENTS) {
        REC_WARN(r, "affected[%zu] has too many ranges, ranges ignored", ai);
        nr = 0;
    }
    if (nr) {
        a->ranges = arena_alloc(&r->arena, nr * sizeof(*a->ranges));
        for (size_t i = 0; i < nr; i++)
            if (range_parse(r, json_array_get(jr, i), ai, i, check, &a->ranges[a->n_ranges]))
                a->n_ranges++;
    }

    const json_t *jv = json_object_get(ja, "versions");
    if (jv && !json_is_array(jv))
        REC_WARN(r, "affected[%zu].versions is not an array, ignored", ai);
    size_t nv = json_is_array(jv) ? json_array_size(jv) : 0;
    if (nv > OSV_MAX_VERSIONS) {
        REC_WARN(r, "affected[%zu] has %zu versions (cap %u), versions ignored", ai, nv,
                 OSV_MAX_VERSIONS);
        nv = 0;
    }
    if (nv) {
        a->versions = arena_alloc(&r->arena, nv * sizeof(*a->versions));
        for (size_t i = 0; i < nv; i++) {
            const json_t *e = json_array_get(jv, i);
            if (!json_is_string(e) || json_string_length(e) == 0 || json_string_length(e) > 512) {
                REC_WARN(r, "affected[%zu].versions[%zu] is not a version string, ignored", ai, i);
                continue;
            }
            a->versions[a->n_versions++] = json_string_value(e);
        }
    }

    const json_t *es = json_object_get(ja, "ecosystem_specific");
    if (json_is_object(es)) {
        a->urgency_text = jstr(es, "urgency");
        a->urgency = urgency_parse(a->urgency_text);
    }
    r->n_affected++;
}

/* Red Hat writes its rating only as a link to its classification page. */
static const char *redhat_rating(const char *url)
{
    const char *p = strstr(url, "/security/updates/classification/#");
    if (!p)
        return NULL;
    p += strlen("/security/updates/classification/#");
    static const char *const names[] = { "Low", "Moderate", "Important", "Critical" };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (strncasecmp(p, names[i], strlen(names[i])) == 0)
            return names[i];
    return NULL;
}

int osv_record_from_json(void *root, struct osv_record *r, struct diag *d)
{
    memset(r, 0, sizeof(*r));
    arena_init(&r->arena);
    r->json = root;
    json_t *o = root;
    if (!json_is_object(o))
        return diag_set(d, -ERR_INVALID, 0, "OSV record is not a JSON object");
    r->id = jstr(o, "id");
    if (!r->id || !id_ok(r->id))
        return diag_set(d, -ERR_INVALID, 0, "OSV record without a valid 'id'");
    r->modified = jstr(o, "modified");
    if (!r->modified || strlen(r->modified) < 10)
        return diag_set(d, -ERR_INVALID, 0, "OSV record %s without a valid 'modified'", r->id);
    r->published = jstr_or_empty(o, "published");
    r->withdrawn = jstr(o, "withdrawn");
    r->summary = jstr_or_empty(o, "summary");
    r->details = jstr_or_empty(o, "details");

    string_array(r, json_object_get(o, "aliases"), "aliases", &r->aliases, &r->n_aliases);
    string_array(r, json_object_get(o, "related"), "related", &r->related, &r->n_related);
    string_array(r, json_object_get(o, "upstream"), "upstream", &r->upstream, &r->n_upstream);

    const json_t *refs = json_object_get(o, "references");
    size_t nref = json_is_array(refs) ? json_array_size(refs) : 0;
    if (nref > OSV_MAX_STRINGS)
        nref = OSV_MAX_STRINGS;
    if (nref)
        r->references = arena_alloc(&r->arena, nref * sizeof(*r->references));
    for (size_t i = 0; i < nref; i++) {
        const char *url = jstr(json_array_get(refs, i), "url");
        if (!url || !*url)
            continue;
        r->references[r->n_references++] = url;
        if (!r->vendor_severity)
            r->vendor_severity = redhat_rating(url);
    }

    const json_t *sev = json_object_get(o, "severity");
    size_t ns = json_is_array(sev) ? json_array_size(sev) : 0;
    if (ns > 64)
        ns = 64;
    if (ns)
        r->severity = arena_alloc(&r->arena, ns * sizeof(*r->severity));
    for (size_t i = 0; i < ns; i++) {
        const json_t *s = json_array_get(sev, i);
        const char *type = jstr(s, "type"), *score = jstr(s, "score");
        if (!type || !score) {
            REC_WARN(r, "severity[%zu] lacks type or score, ignored", i);
            continue;
        }
        r->severity[r->n_severity].type = type;
        r->severity[r->n_severity].score = score;
        r->n_severity++;
    }
    const json_t *dbs = json_object_get(o, "database_specific");
    if (json_is_object(dbs)) {
        const char *s = jstr(dbs, "severity");
        if (s && *s)
            r->vendor_severity = s;
    }

    const json_t *aff = json_object_get(o, "affected");
    if (aff && !json_is_array(aff))
        REC_WARN(r, "field 'affected' is not an array, ignored");
    size_t na = json_is_array(aff) ? json_array_size(aff) : 0;
    if (na > OSV_MAX_AFFECTED) {
        REC_WARN(r, "%zu affected entries (cap %u), ignored", na, OSV_MAX_AFFECTED);
        na = 0;
    }
    if (na)
        r->affected = arena_alloc(&r->arena, na * sizeof(*r->affected));
    for (size_t i = 0; i < na; i++)
        affected_parse(r, json_array_get(aff, i), i);
    return 0;
}

void osv_record_release(struct osv_record *r)
{
    if (!r)
        return;
    json_decref(r->json);
    arena_release(&r->arena);
    memset(r, 0, sizeof(*r));
}

/* ---- NVD / CVE JSON 5 ------------------------------------------------------------------ */

static void cve_add_vector(struct cve_info *ci, const char *version, const char *vector,
                           const char *source)
{
    if (!vector || !*vector || ci->n_vec >= ARRAY_SIZE(ci->vec))
        return;
    ci->vec[ci->n_vec].version = version;
    ci->vec[ci->n_vec].vector = vector;
    ci->vec[ci->n_vec].source = source;
    ci->n_vec++;
}

/* "3.0" or "3.1" from a v3 vector's prefix (NVD's feed has both under baseMetricV3). */
static const char *v3_version_of(const char *vector)
{
    if (strncmp(vector, "CVSS:3.0/", 9) == 0)
        return "3.0";
    return "3.1";
}

static const char *english(const json_t *arr, const char *lang_key, const char *val_key)
{
    const char *first = NULL;
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e)
    {
        const char *v = jstr(e, val_key), *lang = jstr(e, lang_key);
        if (!v)
            continue;
        if (lang && strncmp(lang, "en", 2) == 0)
            return v;
        if (!first)
            first = v;
    }
    return first ? first : "";
}

static void cisa_metrics(struct cve_info *ci, const json_t *metrics, const char *source)
{
    size_t i;
    const json_t *m;
    json_array_foreach(metrics, i, m)
    {
        static const struct {
            const char *key, *version;
        } kinds[] = { { "cvssV3_1", "3.1" },
                      { "cvssV3_0", "3.0" },
                      { "cvssV4_0", "4.0" },
                      { "cvssV2_0", "2.0" } };
        for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
            const json_t *c = json_object_get(m, kinds[k].key);
            if (json_is_object(c))
                cve_add_vector(ci, kinds[k].version, jstr(c, "vectorString"), source);
        }
    }
}

int cve_info_from_json(void *root, enum vin_kind kind, struct cve_info *ci, struct diag *d)
{
    memset(ci, 0, sizeof(*ci));
    ci->json = root;
    const json_t *o = root;
    ci->modified = ci->published = ci->description = "";
    if (kind == VIN_NVD) {
        const json_t *cve = json_object_get(o, "cve");
        ci->id = jstr(json_object_get(cve, "CVE_data_meta"), "ID");
        ci->modified = jstr_or_empty(o, "lastModifiedDate");
        ci->published = jstr_or_empty(o, "publishedDate");
        ci->description =
            english(json_object_get(json_object_get(cve, "description"), "description_data"),
                    "lang", "value");
        const json_t *impact = json_object_get(o, "impact");
        const json_t *v3 = json_object_get(json_object_get(impact, "baseMetricV3"), "cvssV3");
        const char *vec3 = jstr(v3, "vectorString");
        if (vec3)
            cve_add_vector(ci, v3_version_of(vec3), vec3, "NVD");
        const json_t *v2 = json_object_get(json_object_get(impact, "baseMetricV2"), "cvssV2");
        cve_add_vector(ci, "2.0", jstr(v2, "vectorString"), "NVD");
    } else if (kind == VIN_CISA) {
        const json_t *meta = json_object_get(o, "cveMetadata");
        ci->id = jstr(meta, "cveId");
        ci->modified = jstr_or_empty(meta, "dateUpdated");
        ci->published = jstr_or_empty(meta, "datePublished");
        const json_t *cont = json_object_get(o, "containers");
        const json_t *cna = json_object_get(cont, "cna");
        const char *cna_name = jstr(meta, "assignerShortName");
        ci->description = english(json_object_get(cna, "descriptions"), "lang", "value");
        cisa_metrics(ci, json_object_get(cna, "metrics"), cna_name ? cna_name : "CNA");
        size_t i;
        const json_t *adp;
        json_array_foreach(json_object_get(cont, "adp"), i, adp)
        {
            const char *who = jstr(json_object_get(adp, "providerMetadata"), "shortName");
            cisa_metrics(ci, json_object_get(adp, "metrics"), who ? who : "ADP");
        }
    } else {
        return diag_set(d, -ERR_INVALID, 0, "not an NVD or CVE JSON 5 record");
    }
    if (!ci->id || !id_ok(ci->id) || strncmp(ci->id, "CVE-", 4) != 0)
        return diag_set(d, -ERR_INVALID, 0, "record without a valid CVE id");
    return 0;
}

void cve_info_release(struct cve_info *ci)
{
    if (!ci)
        return;
    json_decref(ci->json);
    memset(ci, 0, sizeof(*ci));
}

/* ---- Alpine secdb ---------------------------------------------------------------------- */

/* An id worth keeping from a secfixes line: "CVE-2024-6387", "XSA-123", "GHSA-xxxx-...". */
static bool secdb_id_ok(const char *p, size_t n)
{
    if (n < 3 || n > 64 || !(p[0] >= 'A' && p[0] <= 'Z'))
        return false;
    bool dash = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '-')
            dash = true;
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '.' || c == ':'))
            return false;
    }
    return dash;
}

int secdb_doc_from_json(void *root, struct secdb_doc *doc, struct diag *d)
{
    memset(doc, 0, sizeof(*doc));
    arena_init(&doc->arena);
    doc->json = root;
    const json_t *o = root;
    doc->branch = jstr(o, "distroversion");
    doc->repo = jstr_or_empty(o, "reponame");
    const json_t *pkgs = json_object_get(o, "packages");
    if (!doc->branch || !*doc->branch || strlen(doc->branch) > 32 || !json_is_array(pkgs))
        return diag_set(d, -ERR_INVALID, 0, "secdb document without distroversion/packages");
    struct buf eb;
    buf_init(&eb, 64);
    buf_printf(&eb, "Alpine:%s", doc->branch);
    doc->ecosystem = arena_strdup(&doc->arena, buf_cstr(&eb));
    buf_release(&eb);

    /* count first so the array is allocated once */
    size_t total = 0, i;
    const json_t *p;
    json_array_foreach(pkgs, i, p)
    {
        const json_t *sf = json_object_get(json_object_get(p, "pkg"), "secfixes");
        if (json_is_object(sf))
            total += json_object_size(sf);
    }
    if (total > OSV_MAX_AFFECTED * 4)
        return diag_set(d, -ERR_TOO_BIG, 0, "secdb document with %zu fixes", total);
    if (total)
        doc->fixes = arena_alloc(&doc->arena, total * sizeof(*doc->fixes));
    json_array_foreach(pkgs, i, p)
    {
        const json_t *pkg = json_object_get(p, "pkg");
        const char *name = jstr(pkg, "name");
        json_t *sf = json_object_get(pkg, "secfixes");
        if (!name || !*name) {
            warn_add(&doc->arena, &doc->warnings, &doc->n_warnings,
                     "packages[%zu] has no pkg.name, skipped", i);
            continue;
        }
        if (!json_is_object(sf))
            continue;
        const char *ver;
        json_t *ids;
        json_object_foreach(sf, ver, ids)
        {
            if (!json_is_array(ids) || !*ver || strlen(ver) > 128) {
                warn_add(&doc->arena, &doc->warnings, &doc->n_warnings,
                         "%s secfixes '%.40s' is malformed, skipped", name, ver);
                continue;
            }
            if (strcmp(ver, "0") != 0 && apk_version_check_lenient(str_from(ver), NULL) < 0) {
                warn_add(&doc->arena, &doc->warnings, &doc->n_warnings,
                         "%s: unparseable version '%.40s', skipped", name, ver);
                continue;
            }
            struct secdb_fix *f = &doc->fixes[doc->n_fixes];
            memset(f, 0, sizeof(*f));
            f->name = name;
            f->version = ver;
            /* each entry may hold several ids and free text; keep the id-looking words */
            size_t cap = 0, k;
            const json_t *e;
            json_array_foreach(ids, k, e)
            {
                if (json_is_string(e))
                    cap += json_string_length(e) / 2 + 1;
            }
            if (cap > 4096)
                cap = 4096;
            f->ids = arena_alloc(&doc->arena, (cap ? cap : 1) * sizeof(*f->ids));
            json_array_foreach(ids, k, e)
            {
                if (!json_is_string(e))
                    continue;
                const char *s = json_string_value(e);
                while (*s && f->n_ids < cap) {
                    size_t sp = strspn(s, " \t\r\n,;()");
                    s += sp;
                    size_t w = strcspn(s, " \t\r\n,;()");
                    if (w && secdb_id_ok(s, w))
                        f->ids[f->n_ids++] = arena_strndup(&doc->arena, s, w);
                    s += w;
                }
            }
            if (f->n_ids)
                doc->n_fixes++;
        }
    }
    return 0;
}

void secdb_doc_release(struct secdb_doc *doc)
{
    if (!doc)
        return;
    json_decref(doc->json);
    arena_release(&doc->arena);
    memset(doc, 0, sizeof(*doc));
}
