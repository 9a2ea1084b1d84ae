/* SPDX-License-Identifier: Apache-2.0 */
/* Report writers: format names and dispatch, the helpers every writer shares (finding order,
 * UTF-8, RFC 3339, jansson wrappers), package URLs, and vigil's own inventory JSON. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/xalloc.h"
#include "scan/report_internal.h"

int report_format_parse(const char *s)
{
    static const struct {
        const char *name;
        enum report_format fmt;
    } names[] = {
        { "table", REPORT_TABLE },
        { "json", REPORT_JSON },
        { "enhanced-json", REPORT_ENHANCED_JSON },
        { "sarif", REPORT_SARIF },
        { "cyclonedx", REPORT_CYCLONEDX },
    };
    if (!s)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (strcmp(s, names[i].name) == 0)
            return (int)names[i].fmt;
    return -1;
}

int report_write_scan(FILE *out, enum report_format fmt, const struct scan_result *r,
                      const struct report_opts *o)
{
    static const struct report_opts defaults = { .color = false, .width = 0 };
    if (!out || !r || !r->inv)
        return -EINVAL;
    if (!o)
        o = &defaults;
    switch (fmt) {
    case REPORT_TABLE:
        return rpt_write_scan_table(out, r, o);
    case REPORT_JSON:
        return rpt_write_ecr(out, r, false);
    case REPORT_ENHANCED_JSON:
        return rpt_write_ecr(out, r, true);
    case REPORT_SARIF:
        return rpt_write_sarif(out, r);
    case REPORT_CYCLONEDX:
        return rpt_write_cdx(out, r->inv, r);
    }
    return -EINVAL;
}

int report_write_inventory(FILE *out, enum report_format fmt, const struct inventory *inv,
                           const struct report_opts *o)
{
    static const struct report_opts defaults = { .color = false, .width = 0 };
    if (!out || !inv)
        return -EINVAL;
    if (!o)
        o = &defaults;
    switch (fmt) {
    case REPORT_TABLE:
        return rpt_write_inv_table(out, inv, o);
    case REPORT_JSON:
        return rpt_write_inv_json(out, inv);
    case REPORT_CYCLONEDX:
        return rpt_write_cdx(out, inv, NULL);
    case REPORT_ENHANCED_JSON:
    case REPORT_SARIF:
        return -EINVAL; /* scan-only formats: an inventory has no findings to report */
    }
    return -EINVAL;
}

/* ---- severities and finding order ---------------------------------------------------- */

const char *rpt_sev_name(enum severity s)
{
    static const char *const names[SEV_COUNT] = {
        [SEV_UNDEFINED] = "UNDEFINED",
        [SEV_INFORMATIONAL] = "INFORMATIONAL",
        [SEV_LOW] = "LOW",
        [SEV_MEDIUM] = "MEDIUM",
        [SEV_HIGH] = "HIGH",
        [SEV_CRITICAL] = "CRITICAL",
    };
    return names[rpt_sev(s)];
}

enum severity rpt_sev(enum severity s)
{
    /* The enum comes from the matcher; a value outside it is reported as UNDEFINED rather
     * than indexing past a table. */
    if ((int)s < 0 || (int)s >= SEV_COUNT)
        return SEV_UNDEFINED;
    return s;
}

static int cmp_str(const char *a, const char *b)
{
    return strcmp(rpt_s(a), rpt_s(b));
}

static int cmp_pkg(const struct finding *x, const struct finding *y)
{
    const char *xn = x->pkg ? x->pkg->name : "", *yn = y->pkg ? y->pkg->name : "";
    const char *xv = x->pkg ? x->pkg->version : "", *yv = y->pkg ? y->pkg->version : "";
    int c = cmp_str(xn, yn);
    if (c)
        return c;
    c = cmp_str(xv, yv);
    if (c)
        return c;
    c = cmp_str(x->ecosystem, y->ecosystem);
    if (c)
        return c;
    return cmp_str(x->fixed_version, y->fixed_version);
}

/* Last resort: position in the finding array, so equal keys still sort the same way on every
 * run (qsort is not stable). All findings live in one array, so the comparison is defined. */
static int cmp_addr(const struct finding *x, const struct finding *y)
{
    return x < y ? -1 : x > y ? 1 : 0;
}

static int cmp_report_order(const void *a, const void *b)
{
    const struct finding *x = *(const struct finding *const *)a;
    const struct finding *y = *(const struct finding *const *)b;
    int sx = (int)rpt_sev(x->severity), sy = (int)rpt_sev(y->severity);
    if (sx != sy)
        return sy - sx;
    int c = cmp_str(x->id, y->id);
    if (c)
        return c;
    c = cmp_pkg(x, y);
    return c ? c : cmp_addr(x, y);
}

const struct finding **rpt_sorted(const struct finding_list *fl, size_t *n)
{
    *n = fl ? fl->items.n : 0;
    if (*n == 0)
        return NULL;
    const struct finding **v = xreallocarray(NULL, *n, sizeof(const struct finding *));
    for (size_t i = 0; i < *n; i++)
        v[i] = &fl->items.v[i];
    qsort(v, *n, sizeof(const struct finding *), cmp_report_order);
    return v;
}

static int cmp_id_then_pkg(const void *a, const void *b)
{
    const struct finding *x = *(const struct finding *const *)a;
    const struct finding *y = *(const struct finding *const *)b;
    int c = cmp_str(x->id, y->id);
    if (c)
        return c;
    c = cmp_pkg(x, y);
    return c ? c : cmp_addr(x, y);
}

static int cmp_group(const void *a, const void *b)
{
    const struct rpt_group *x = a, *y = b;
    int sx = (int)rpt_sev(x->rep->severity), sy = (int)rpt_sev(y->rep->severity);
    if (sx != sy)
        return sy - sx;
    return cmp_str(x->rep->id, y->rep->id);
}

struct rpt_group *rpt_group_by_id(const struct finding **sorted, size_t n, size_t *ngroups)
{
    *ngroups = 0;
    if (n == 0)
        return NULL;
    qsort(sorted, n, sizeof(const struct finding *), cmp_id_then_pkg);
    struct rpt_group *g = xreallocarray(NULL, n, sizeof(*g));
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && cmp_str(sorted[j]->id, sorted[i]->id) == 0)
            j++;
        /* the most severe member; among equals, the one the matcher listed first */
        const struct finding *rep = sorted[i];
        for (size_t k = i + 1; k < j; k++) {
            enum severity sk = rpt_sev(sorted[k]->severity), sr = rpt_sev(rep->severity);
            if (sk > sr || (sk == sr && sorted[k] < rep))
                rep = sorted[k];
        }
        g[*ngroups] = (struct rpt_group){ .rep = rep, .members = &sorted[i], .n = j - i };
        (*ngroups)++;
        i = j;
    }
    qsort(g, *ngroups, sizeof(*g), cmp_group);
    return g;
}

/* ---- CVSS ---------------------------------------------------------------------------- */

const struct finding_cvss *rpt_pick_cvss(const struct finding *f, int major)
{
    const struct finding_cvss *best = NULL;
    for (size_t i = 0; i < f->cvss.n; i++) {
        const struct finding_cvss *c = &f->cvss.v[i];
        const char *v = rpt_s(c->version);
        if (v[0] != (char)('0' + major))
            continue;
        if (!best) {
            best = c;
            continue;
        }
        bool c_nvd = strcmp(rpt_s(c->source), "NVD") == 0;
        bool b_nvd = strcmp(rpt_s(best->source), "NVD") == 0;
        if (c_nvd != b_nvd) {
            if (c_nvd)
                best = c;
            continue;
        }
        if (strcmp(v, rpt_s(best->version)) > 0)
            best = c;
    }
    return best;
}

const struct finding_cvss *rpt_best_cvss(const struct finding *f)
{
    const struct finding_cvss *c = rpt_pick_cvss(f, 3);
    if (!c)
        c = rpt_pick_cvss(f, 4);
    if (!c)
        c = rpt_pick_cvss(f, 2);
    return c;
}

double rpt_score(double score)
{
    if (!(score >= 0.0)) /* also catches NaN */
        return 0.0;
    if (score > 10.0)
        return 10.0;
    return (double)(long)(score * 10.0 + 0.5) / 10.0;
}

void rpt_score_str(double score, char out[8])
{
    /* integer arithmetic: the score is in [0, 10], so tenths fit in 0..100 */
    int tenths = (int)(rpt_score(score) * 10.0 + 0.5);
    snprintf(out, 8, "%d.%d", tenths / 10 % 100, tenths % 10);
}

enum severity rpt_cvss_band(const char *version, double score)
{
    score = rpt_score(score);
    if (rpt_s(version)[0] == '2') {
        /* NVD's v2 bands: there is no CRITICAL and no NONE. */
        return score < 4.0 ? SEV_LOW : score < 7.0 ? SEV_MEDIUM : SEV_HIGH;
    }
    if (score == 0.0)
        return SEV_INFORMATIONAL;
    return score < 4.0 ? SEV_LOW : score < 7.0 ? SEV_MEDIUM : score < 9.0 ? SEV_HIGH : SEV_CRITICAL;
}

/* ---- UTF-8 --------------------------------------------------------------------------- */

size_t rpt_utf8_next(const char *s, size_t len, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n;
    uint32_t c, min;

    if (len == 0)
        return 0;
    if (u[0] < 0x80) {
        *cp = u[0];
        return 1;
    }
    if ((u[0] & 0xE0) == 0xC0) {
        n = 2, c = u[0] & 0x1Fu, min = 0x80;
    } else if ((u[0] & 0xF0) == 0xE0) {
        n = 3, c = u[0] & 0x0Fu, min = 0x800;
    } else if ((u[0] & 0xF8) == 0xF0) {
        n = 4, c = u[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (u[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

struct cp_range {
    uint32_t lo, hi;
};

static bool in_ranges(uint32_t cp, const struct cp_range *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (cp >= r[i].lo && cp <= r[i].hi)
            return true;
    return false;
}

int rpt_cp_width(uint32_t cp)
{
    /* Combining marks, zero-width spaces and joiners, variation selectors. */
    static const struct cp_range zero[] = {
        { 0x0300, 0x036F }, { 0x0483, 0x0489 }, { 0x0591, 0x05BD },   { 0x0610, 0x061A },
        { 0x064B, 0x065F }, { 0x1AB0, 0x1AFF }, { 0x1DC0, 0x1DFF },   { 0x200B, 0x200F },
        { 0x20D0, 0x20FF }, { 0x302A, 0x302D }, { 0x3099, 0x309A },   { 0xFE00, 0xFE0F },
        { 0xFE20, 0xFE2F }, { 0xFEFF, 0xFEFF }, { 0xE0100, 0xE01EF },
    };
    /* East Asian Wide (W) and Fullwidth (F) blocks, plus the common emoji blocks. */
    static const struct cp_range wide[] = {
        { 0x1100, 0x115F },   { 0x231A, 0x231B },   { 0x2329, 0x232A },   { 0x23E9, 0x23EC },
        { 0x25FD, 0x25FE },   { 0x2614, 0x2615 },   { 0x2E80, 0x303E },   { 0x3041, 0x33FF },
        { 0x3400, 0x4DBF },   { 0x4E00, 0x9FFF },   { 0xA000, 0xA4CF },   { 0xA960, 0xA97F },
        { 0xAC00, 0xD7A3 },   { 0xF900, 0xFAFF },   { 0xFE10, 0xFE19 },   { 0xFE30, 0xFE6F },
        { 0xFF00, 0xFF60 },   { 0xFFE0, 0xFFE6 },   { 0x1F300, 0x1F64F }, { 0x1F680, 0x1F6FF },
        { 0x1F900, 0x1F9FF }, { 0x20000, 0x2FFFD }, { 0x30000, 0x3FFFD },
    };
    if (in_ranges(cp, zero, ARRAY_SIZE(zero)))
        return 0;
    if (in_ranges(cp, wide, ARRAY_SIZE(wide)))
        return 2;
    return 1;
}

/* ---- time ---------------------------------------------------------------------------- */

void rpt_rfc3339(time_t t, char out[32])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        memcpy(out, "1970-01-01T00:00:00Z", 21);
    }
}

/* n decimal digits at *p into *v; advances *p. */
static bool take_digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return true;
}

static bool take_char(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

bool rpt_parse_rfc3339(const char *s, time_t *out)
{
    const char *p = s;
    int Y, M, D, h = 0, m = 0, sec = 0, oh = 0, om = 0, sign = 0;

    if (!p || !take_digits(&p, 4, &Y) || !take_char(&p, '-') || !take_digits(&p, 2, &M) ||
        !take_char(&p, '-') || !take_digits(&p, 2, &D))
        return false;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!take_digits(&p, 2, &h) || !take_char(&p, ':') || !take_digits(&p, 2, &m) ||
            !take_char(&p, ':') || !take_digits(&p, 2, &sec))
            return false;
        if (*p == '.') {
            p++;
            if (!isdigit((unsigned char)*p))
                return false;
            while (isdigit((unsigned char)*p))
                p++;
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            sign = *p == '-' ? -1 : 1;
            p++;
            if (!take_digits(&p, 2, &oh) || !take_char(&p, ':') || !take_digits(&p, 2, &om))
                return false;
        } else {
            return false;
        }
    }
    if (*p != '\0')
        return false;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60 || oh > 23 || om > 59)
        return false;
    struct tm tm = {
        .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = sec
    };
    time_t t = timegm(&tm);
    if (t == (time_t)-1 && !(Y == 1969 && M == 12 && D == 31))
        return false;
    *out = t - (time_t)sign * (oh * 3600 + om * 60);
    return true;
}

/* ---- jansson wrappers ---------------------------------------------------------------- */

static json_t *chk(json_t *v)
{
    if (!v) {
        /* jansson only fails here on allocation failure: abort like xmalloc does. */
        fputs("vigil: out of memory (json)\n", stderr);
        abort();
    }
    return v;
}

json_t *rpt_jstr(const char *s)
{
    s = rpt_s(s);
    size_t len = strlen(s), i = 0;
    uint32_t cp;
    while (i < len) {
        size_t n = rpt_utf8_next(s + i, len - i, &cp);
        if (n == 0)
            break;
        i += n;
    }
    if (i == len)
        return chk(json_stringn(s, len));

    /* Invalid UTF-8 (a Latin-1 maintainer name, say): keep the valid parts and mark each
     * bad byte with U+FFFD so the document stays valid JSON. */
    struct buf b;
    buf_init(&b, len * 3 + 1);
    for (i = 0; i < len;) {
        size_t n = rpt_utf8_next(s + i, len - i, &cp);
        if (n == 0) {
            buf_append(&b, "\xEF\xBF\xBD", 3);
            i++;
        } else {
            buf_append(&b, s + i, n);
            i += n;
        }
    }
    json_t *v = chk(json_stringn(buf_cstr(&b), b.len));
    buf_release(&b);
    return v;
}

json_t *rpt_jobj(void)
{
    return chk(json_object());
}

json_t *rpt_jarr(void)
{
    return chk(json_array());
}

json_t *rpt_jint(long long v)
{
    return chk(json_integer((json_int_t)v));
}

json_t *rpt_jreal(double v)
{
    return chk(json_real(v));
}

void rpt_jset(json_t *obj, const char *key, json_t *v)
{
    if (json_object_set_new(obj, key, v) != 0)
        chk(NULL);
}

void rpt_jset_str(json_t *obj, const char *key, const char *s)
{
    rpt_jset(obj, key, rpt_jstr(s));
}

void rpt_jset_str_opt(json_t *obj, const char *key, const char *s)
{
    if (!rpt_empty(s))
        rpt_jset(obj, key, rpt_jstr(s));
}

void rpt_jpush(json_t *arr, json_t *v)
{
    if (json_array_append_new(arr, v) != 0)
        chk(NULL);
}

void rpt_jpush_str(json_t *arr, const char *s)
{
    rpt_jpush(arr, rpt_jstr(s));
}

int rpt_dump(FILE *out, json_t *root)
{
    /* Scores are rounded to one decimal before they get here; 6 significant digits print
     * them as "9.8" rather than jansson's default 17-digit "9.8000000000000007". */
    int rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    json_decref(root);
    if (rc != 0 || fputc('\n', out) == EOF || fflush(out) != 0 || ferror(out))
        return -EIO;
    return 0;
}

/* ---- image naming -------------------------------------------------------------------- */

void rpt_repo_tag(const struct scan_result *r, char **repo, char **tag)
{
    const struct inventory *inv = r->inv;
    const char *name = !rpt_empty(inv->image_name) ? inv->image_name : rpt_s(inv->image_ref);
    size_t len = strcspn(name, "@"); /* drop a "@sha256:..." suffix */
    const char *slash = NULL;
    for (size_t i = 0; i < len; i++)
        if (name[i] == '/')
            slash = name + i;
    const char *last = slash ? slash + 1 : name;
    const char *colon = memchr(last, ':', len - (size_t)(last - name));
    size_t repo_len = colon ? (size_t)(colon - name) : len;

    /* A first component that looks like a host ("registry:5000", "ghcr.io", "localhost") is
     * not part of an ECR repository name. */
    const char *start = name;
    const char *first_slash = memchr(name, '/', repo_len);
    if (first_slash) {
        size_t flen = (size_t)(first_slash - name);
        if (memchr(name, '.', flen) || memchr(name, ':', flen) ||
            (flen == 9 && memcmp(name, "localhost", 9) == 0))
            start = first_slash + 1;
    }
    if (!rpt_empty(r->repository))
        *repo = xstrdup(r->repository);
    else if (repo_len > (size_t)(start - name))
        *repo = xstrndup(start, repo_len - (size_t)(start - name));
    else
        *repo = xstrdup("unknown");
    if (!rpt_empty(r->tag))
        *tag = xstrdup(r->tag);
    else if (colon)
        *tag = xstrndup(colon + 1, len - (size_t)(colon + 1 - name));
    else
        *tag = xstrdup("");
}

char *rpt_arch(const char *platform)
{
    const char *p = rpt_s(platform);
    const char *slash = strchr(p, '/');
    if (slash)
        p = slash + 1;
    return xstrndup(p, strcspn(p, "/"));
}

bool rpt_deterministic(void)
{
    const char *e = getenv("VIGIL_DETERMINISTIC");
    return e && strcmp(e, "1") == 0;
}

/* ---- package URLs -------------------------------------------------------------------- */

/* Percent-encode per the purl spec (ECMA-427 "Character encoding"): alphanumerics, the
 * punctuation ".-_~" and the colon are never encoded; every other byte becomes %XX. So a
 * Debian epoch stays "1:2.4.47-2" while "+" becomes "%2B", as in the spec's deb examples. */
static void purl_enc(struct buf *b, const char *s, bool lower)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)rpt_s(s); *p; p++) {
        unsigned char c = *p;
        if (lower && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~' || c == ':') {
            buf_putc(b, (char)c);
        } else {
            buf_putc(b, '%');
            buf_putc(b, hex[c >> 4]);
            buf_putc(b, hex[c & 15]);
        }
    }
}

/* Qualifiers in the lexicographic key order the spec requires; empty values are dropped. */
struct purl_qual {
    const char *key;
    const char *value;
};

static int cmp_qual(const void *a, const void *b)
{
    return strcmp(((const struct purl_qual *)a)->key, ((const struct purl_qual *)b)->key);
}

static void purl_quals(struct buf *b, struct purl_qual *q, size_t n)
{
    qsort(q, n, sizeof(*q), cmp_qual);
    char sep = '?';
    for (size_t i = 0; i < n; i++) {
        if (rpt_empty(q[i].value))
            continue;
        buf_putc(b, sep);
        buf_append_cstr(b, q[i].key);
        buf_putc(b, '=');
        purl_enc(b, q[i].value, false);
        sep = '&';
    }
}

/* purls of language packages (purl spec types npm, pypi, maven, golang, gem, cargo,
 * composer, nuget): a "/"-separated namespace where the ecosystem has one (npm scope, Maven
 * groupId, Go module path prefix, Composer vendor). */
static char *lang_purl(const struct pkg *p)
{
    static const struct {
        enum pkg_type t;
        const char *type;
    } types[] = { { PKG_NPM, "npm" },           { PKG_PYPI, "pypi" },  { PKG_MAVEN, "maven" },
                  { PKG_GO, "golang" },         { PKG_GEM, "gem" },    { PKG_CARGO, "cargo" },
                  { PKG_COMPOSER, "composer" }, { PKG_NUGET, "nuget" } };
    const char *type = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(types); i++)
        if (types[i].t == p->type)
            type = types[i].type;
    if (!type || rpt_empty(p->name))
        return NULL;
    struct buf b;
    buf_init(&b, 1 << 16);
    buf_printf(&b, "pkg:%s/", type);
    const char *name = p->name;
    if (p->type == PKG_MAVEN) {
        /* "groupId:artifactId" -> namespace groupId, name artifactId */
        const char *colon = strchr(name, ':');
        if (colon) {
            char *g = xstrndup(name, (size_t)(colon - name));
            purl_enc(&b, g, false);
            free(g);
            buf_putc(&b, '/');
            name = colon + 1;
        }
        purl_enc(&b, name, false);
    } else {
        /* each "/"-separated segment encoded on its own (npm scopes, Go paths, vendors) */
        const char *seg = name;
        for (;;) {
            const char *slash = strchr(seg, '/');
            char *part = slash ? xstrndup(seg, (size_t)(slash - seg)) : xstrdup(seg);
            purl_enc(&b, part, p->type == PKG_PYPI);
            free(part);
            if (!slash)
                break;
            buf_putc(&b, '/');
            seg = slash + 1;
        }
    }
    if (!rpt_empty(p->version)) {
        buf_putc(&b, '@');
        purl_enc(&b, p->version, false);
    }
    return buf_detach(&b, NULL);
}

char *report_purl(const struct inventory *inv, const struct pkg *p)
{
    const struct inventory_os *os = &inv->os;
    const char *os_id = rpt_s(os->id), *os_ver = rpt_s(os->version_id);
    struct buf b;
    char *distro = NULL, epoch[16] = "";
    struct purl_qual q[3];
    size_t nq = 0;

    buf_init(&b, 1 << 16);
    if (p->type == PKG_DEB) {
        /* The namespace is the vendor ("debian", "ubuntu"); distro is "<id>-<version>". */
        buf_append_cstr(&b, "pkg:deb/");
        purl_enc(&b, *os_id ? os_id : "debian", true);
        buf_putc(&b, '/');
        purl_enc(&b, p->name, true);
        if (*os_id && *os_ver)
            distro = xasprintf("%s-%s", os_id, os_ver);
    } else if (p->type == PKG_APK) {
        /* The apk type defines no distro qualifier; like other scanners we carry the
         * Alpine release ("3.19.0") in one so the purl names the branch. */
        buf_append_cstr(&b, "pkg:apk/");
        purl_enc(&b, *os_id ? os_id : "alpine", true);
        buf_putc(&b, '/');
        purl_enc(&b, p->name, true);
        if (*os_ver)
            distro = xstrdup(os_ver);
    } else if (p->type == PKG_RPM) {
        /* The vendor namespace: "rhel" is spelled "redhat" in purls; the name keeps its case
         * (rpm names are case sensitive). With no known vendor the namespace is left out, as
         * in the spec's "pkg:rpm/centerim@..." example. */
        buf_append_cstr(&b, "pkg:rpm/");
        if (*os_id) {
            purl_enc(&b, strcmp(os_id, "rhel") == 0 ? "redhat" : os_id, true);
            buf_putc(&b, '/');
        }
        purl_enc(&b, p->name, false);
        if (*os_id && *os_ver)
            distro = xasprintf("%s-%s", os_id, os_ver);
        if (p->has_epoch || p->epoch != 0)
            snprintf(epoch, sizeof(epoch), "%u", (unsigned)p->epoch);
    } else if (pkg_type_is_lang(p->type)) {
        buf_release(&b);
        return lang_purl(p);
    } else {
        buf_release(&b);
        return NULL;
    }

    const char *ver = rpt_s(p->version);
    if (p->type == PKG_RPM) {
        /* rpm purls carry version-release; the epoch goes in its own qualifier. */
        size_t d = strspn(ver, "0123456789");
        if (d > 0 && ver[d] == ':')
            ver += d + 1;
    }
    if (*ver) {
        buf_putc(&b, '@');
        purl_enc(&b, ver, false);
    }
    q[nq++] = (struct purl_qual){ "arch", p->arch };
    q[nq++] = (struct purl_qual){ "distro", distro };
    if (epoch[0])
        q[nq++] = (struct purl_qual){ "epoch", epoch };
    purl_quals(&b, q, nq);
    free(distro);
    return buf_detach(&b, NULL);
}

/* ---- vigil's inventory JSON ---------------------------------------------------------- */

static const char *pkg_type_name(enum pkg_type t)
{
    return rpt_pkg_type_name(t);
}

/*
 * vigil's own inventory document (`vigil sbom --format json`):
 *
 * {
 *   "image":  {"ref", "name", "manifestDigest", "configDigest", "platform"},   strings
 *   "os":     {"id", "versionId", "codename", "prettyName"},                   strings ("" unknown)
 *   "layers": [{"digest", "diffId", "size"}],                                 size: integer bytes
 *   "packages": [{"type" ("deb"|"apk"|"rpm"|"npm"|"pypi"|"maven"|"golang"|"gem"|"cargo"|
 *                 "composer"|"nuget"), "name", "version", "arch", "sourceName",
 *                 "sourceVersion", "epoch" (integer), "release", "license", "dbPath",
 *                 "layer" (integer index into layers, -1 unknown), "layerDigest", "purl"}],
 *   "warnings": [string]                                                       skipped records
 * }
 *
 * Packages keep database order; every key is always present so consumers need no defaults.
 */
int rpt_write_inv_json(FILE *out, const struct inventory *inv)
{
    json_t *root = rpt_jobj(), *img = rpt_jobj(), *os = rpt_jobj(), *layers = rpt_jarr(),
           *pkgs = rpt_jarr();
    json_t *warn = rpt_jarr();

    rpt_jset_str(img, "ref", inv->image_ref);
    rpt_jset_str(img, "name", inv->image_name);
    rpt_jset_str(img, "manifestDigest", inv->manifest_digest);
    rpt_jset_str(img, "configDigest", inv->config_digest);
    rpt_jset_str(img, "platform", inv->platform);
    rpt_jset(root, "image", img);

    rpt_jset_str(os, "id", inv->os.id);
    rpt_jset_str(os, "versionId", inv->os.version_id);
    rpt_jset_str(os, "codename", inv->os.codename);
    rpt_jset_str(os, "prettyName", inv->os.pretty_name);
    rpt_jset(root, "os", os);

    for (size_t i = 0; i < inv->layers.n; i++) {
        const struct inventory_layer *l = &inv->layers.v[i];
        json_t *o = rpt_jobj();
        rpt_jset_str(o, "digest", l->digest);
        rpt_jset_str(o, "diffId", l->diff_id);
        rpt_jset(o, "size", rpt_jint((long long)l->size));
        rpt_jpush(layers, o);
    }
    rpt_jset(root, "layers", layers);

    for (size_t i = 0; i < inv->pkgs.items.n; i++) {
        const struct pkg *p = &inv->pkgs.items.v[i];
        json_t *o = rpt_jobj();
        char *purl = report_purl(inv, p);
        bool has_layer = p->layer >= 0 && (size_t)p->layer < inv->layers.n;
        rpt_jset_str(o, "type", pkg_type_name(p->type));
        rpt_jset_str(o, "name", p->name);
        rpt_jset_str(o, "version", p->version);
        rpt_jset_str(o, "arch", p->arch);
        rpt_jset_str(o, "sourceName", p->src_name);
        rpt_jset_str(o, "sourceVersion", p->src_version);
        rpt_jset(o, "epoch", rpt_jint(p->epoch));
        rpt_jset_str(o, "release", p->release);
        rpt_jset_str(o, "license", p->license);
        rpt_jset_str(o, "dbPath", p->db_path);
        rpt_jset(o, "layer", rpt_jint(has_layer ? p->layer : -1));
        rpt_jset_str(o, "layerDigest", has_layer ? inv->layers.v[p->layer].digest : "");
        rpt_jset_str(o, "purl", purl);
        free(purl);
        rpt_jpush(pkgs, o);
    }
    rpt_jset(root, "packages", pkgs);

    for (size_t i = 0; i < inv->warnings.n; i++)
        rpt_jpush_str(warn, inv->warnings.v[i]);
    rpt_jset(root, "warnings", warn);
    return rpt_dump(out, root);
}

const char *rpt_pkg_type_name(enum pkg_type t)
{
    switch (t) {
    case PKG_DEB:
        return "deb";
    case PKG_APK:
        return "apk";
    case PKG_RPM:
        return "rpm";
    case PKG_NPM:
        return "npm";
    case PKG_PYPI:
        return "pypi";
    case PKG_MAVEN:
        return "maven";
    case PKG_GO:
        return "golang";
    case PKG_GEM:
        return "gem";
    case PKG_CARGO:
        return "cargo";
    case PKG_COMPOSER:
        return "composer";
    case PKG_NUGET:
        return "nuget";
    }
    return "unknown";
}

/* Inspector's PackageManager enum for a package, from its type and the file it came from. */
const char *rpt_package_manager(const struct pkg *p)
{
    const char *path = rpt_s(p->db_path);
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    switch (p->type) {
    case PKG_DEB:
    case PKG_APK:
    case PKG_RPM:
        return "OS";
    case PKG_NPM:
        if (strcmp(b, "yarn.lock") == 0)
            return "YARN";
        if (strcmp(b, "package.json") == 0)
            return "NODEPKG";
        return "NPM";
    case PKG_PYPI:
        if (strcmp(b, "poetry.lock") == 0)
            return "POETRY";
        if (strcmp(b, "Pipfile.lock") == 0)
            return "PIPENV";
        if (strncmp(b, "requirements", 12) == 0)
            return "PIP";
        return "PYTHONPKG";
    case PKG_MAVEN:
        return "JAR";
    case PKG_GO:
        return strcmp(b, "go.mod") == 0 ? "GOMOD" : "GOBINARY";
    case PKG_GEM:
        return strcmp(b, "Gemfile.lock") == 0 ? "BUNDLER" : "GEMSPEC";
    case PKG_CARGO:
        return "CARGO";
    case PKG_COMPOSER:
        return "COMPOSER";
    case PKG_NUGET:
        return "NUGET";
    }
    return "OS";
}
