/* SPDX-License-Identifier: Apache-2.0 */
/* The matcher: looks up each installed package's affected rows, evaluates their version
 * ranges with the ecosystem's comparator, merges the advisories that describe one issue and
 * builds the findings (severity, fixed version, links). Also the compact row codec. */
#include "vulndb/match.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zstd.h>

#include "base/xalloc.h"
#include "version/version.h"
#include "vulndb/cvss.h"
#include "vulndb/db.h"

/* ---- ecosystems ------------------------------------------------------------------------ */

enum eco_family eco_family_of(const char *ecosystem)
{
    if (strncmp(ecosystem, "Debian:", 7) == 0 || strcmp(ecosystem, "Debian") == 0)
        return ECO_DEBIAN;
    if (strncmp(ecosystem, "Alpine:", 7) == 0 || strcmp(ecosystem, "Alpine") == 0)
        return ECO_ALPINE;
    if (strncmp(ecosystem, "Red Hat", 7) == 0)
        return ECO_REDHAT;
    static const struct {
        const char *name;
        enum eco_family f;
    } lang[] = { { "npm", ECO_NPM },
                 { "PyPI", ECO_PYPI },
                 { "Maven", ECO_MAVEN },
                 { "Go", ECO_GO },
                 { "RubyGems", ECO_RUBYGEMS },
                 { "crates.io", ECO_CRATES },
                 { "Packagist", ECO_PACKAGIST },
                 { "NuGet", ECO_NUGET } };
    for (size_t i = 0; i < ARRAY_SIZE(lang); i++)
        if (strcmp(ecosystem, lang[i].name) == 0)
            return lang[i].f;
    return ECO_OTHER;
}

const char *eco_package_name(enum eco_family f, const char *name, char *buf, size_t n)
{
    if (f != ECO_PYPI && f != ECO_NUGET && f != ECO_PACKAGIST)
        return name;
    size_t w = 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (w + 1 >= n)
            return name; /* too long to normalise: as is */
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (f == ECO_PYPI && (c == '-' || c == '_' || c == '.')) {
            /* a run of separators becomes one '-' */
            if (w && buf[w - 1] == '-')
                continue;
            c = '-';
        }
        buf[w++] = c;
    }
    buf[w] = '\0';
    return buf;
}

vercmp_fn eco_vercmp(enum eco_family f, enum osv_range_type type)
{
    if (type == OSV_RANGE_SEMVER)
        return f == ECO_GO ? gomod_vercmp : f == ECO_NPM ? npm_vercmp : semver_cmp;
    if (type != OSV_RANGE_ECOSYSTEM)
        return NULL;
    switch (f) {
    case ECO_DEBIAN:
        return deb_vercmp;
    case ECO_ALPINE:
        return apk_vercmp;
    case ECO_REDHAT:
        return rpm_vercmp;
    case ECO_NPM:
        return npm_vercmp;
    case ECO_PYPI:
        return pep440_vercmp;
    case ECO_MAVEN:
        return maven_vercmp;
    case ECO_GO:
        return gomod_vercmp;
    case ECO_RUBYGEMS:
        return gem_vercmp;
    case ECO_CRATES:
        return cargo_vercmp;
    case ECO_PACKAGIST:
        return composer_vercmp;
    case ECO_NUGET:
        return nuget_vercmp;
    case ECO_OTHER:
        break;
    }
    return NULL;
}

/* Compare two runs of digits by value (any length). */
static int digits_cmp(const char *a, size_t na, const char *b, size_t nb)
{
    while (na > 1 && *a == '0')
        a++, na--;
    while (nb > 1 && *b == '0')
        b++, nb--;
    if (na != nb)
        return na < nb ? -1 : 1;
    int c = memcmp(a, b, na);
    return (c > 0) - (c < 0);
}

static size_t span_digits(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++;
    return i;
}

/* One dot-separated identifier: numeric ones sort below alphanumeric ones. */
static int semver_ident_cmp(const char *a, size_t na, const char *b, size_t nb)
{
    bool da = na && span_digits(a, na) == na, db = nb && span_digits(b, nb) == nb;
    if (da && db)
        return digits_cmp(a, na, b, nb);
    if (da != db)
        return da ? -1 : 1;
    size_t m = na < nb ? na : nb;
    int c = memcmp(a, b, m);
    if (c)
        return c < 0 ? -1 : 1;
    return (na > nb) - (na < nb);
}

int semver_cmp(struct str a, struct str b)
{
    const char *pa = a.ptr ? a.ptr : "", *pb = b.ptr ? b.ptr : "";
    size_t na = a.ptr ? a.len : 0, nb = b.ptr ? b.len : 0;
    if (na && (*pa == 'v' || *pa == 'V' || *pa == '='))
        pa++, na--;
    if (nb && (*pb == 'v' || *pb == 'V' || *pb == '='))
        pb++, nb--;
    /* build metadata does not take part in precedence */
    const char *plus = memchr(pa, '+', na);
    if (plus)
        na = (size_t)(plus - pa);
    plus = memchr(pb, '+', nb);
    if (plus)
        nb = (size_t)(plus - pb);
    const char *ha = memchr(pa, '-', na), *hb = memchr(pb, '-', nb);
    size_t ca = ha ? (size_t)(ha - pa) : na, cb = hb ? (size_t)(hb - pb) : nb;
    /* core: up to three dot-separated parts (missing ones are 0), then any extra parts */
    size_t ia = 0, ib = 0;
    while (ia < ca || ib < cb) {
        size_t ea = ia, eb = ib;
        while (ea < ca && pa[ea] != '.')
            ea++;
        while (eb < cb && pb[eb] != '.')
            eb++;
        const char *sa = ia < ca ? pa + ia : "0", *sb = ib < cb ? pb + ib : "0";
        size_t la = ia < ca ? ea - ia : 1, lb = ib < cb ? eb - ib : 1;
        int c = semver_ident_cmp(sa, la, sb, lb);
        if (c)
            return c;
        ia = ea < ca ? ea + 1 : ca;
        ib = eb < cb ? eb + 1 : cb;
    }
    /* a pre-release sorts before the release */
    if (!ha || !hb)
        return ha ? -1 : (hb ? 1 : 0);
    ia = ca + 1;
    ib = cb + 1;
    for (;;) {
        bool enda = ia > na, endb = ib > nb;
        if (enda || endb)
            return enda && endb ? 0 : (enda ? -1 : 1);
        size_t ea = ia, eb = ib;
        while (ea < na && pa[ea] != '.')
            ea++;
        while (eb < nb && pb[eb] != '.')
            eb++;
        int c = semver_ident_cmp(pa + ia, ea - ia, pb + ib, eb - ib);
        if (c)
            return c;
        ia = ea + 1;
        ib = eb + 1;
    }
}

/* ---- the compact row ------------------------------------------------------------------- */

static int put_item(struct buf *b, char tag, const char *s)
{
    int rc = buf_putc(b, tag);
    if (rc == 0)
        rc = buf_append_cstr(b, s);
    if (rc == 0)
        rc = buf_putc(b, '\0');
    return rc;
}

/* Stable insertion sort of a range's events by version ("introduced 0" is the lowest). */
static void sort_events(struct osv_event *ev, size_t n, vercmp_fn cmp)
{
    for (size_t i = 1; i < n; i++) {
        struct osv_event x = ev[i];
        bool xz = x.kind == OSV_EV_INTRODUCED && strcmp(x.version, "0") == 0;
        size_t j = i;
        while (j > 0) {
            const struct osv_event *y = &ev[j - 1];
            bool yz = y->kind == OSV_EV_INTRODUCED && strcmp(y->version, "0") == 0;
            int c;
            if (xz || yz)
                c = xz && yz ? 0 : (xz ? -1 : 1);
            else
                c = cmp(str_from(x.version), str_from(y->version));
            if (c >= 0)
                break;
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = x;
    }
}

int arow_encode(const struct osv_affected *a, enum eco_family f, const char *const *keys,
                size_t n_keys, struct buf *out)
{
    buf_reset(out);
    int rc = buf_putc(out, AROW_FORMAT);
    for (size_t r = 0; rc == 0 && r < a->n_ranges; r++) {
        struct osv_range *rg = &a->ranges[r];
        if (rg->type == OSV_RANGE_GIT)
            continue;
        vercmp_fn cmp = eco_vercmp(f, rg->type);
        if (cmp)
            sort_events(rg->events, rg->n_events, cmp);
        rc = put_item(out, (char)rg->type, "");
        for (size_t e = 0; rc == 0 && e < rg->n_events; e++)
            rc = put_item(out, (char)rg->events[e].kind, rg->events[e].version);
    }
    if (rc == 0 && a->urgency != URG_NONE) {
        char u[2] = { (char)('0' + a->urgency), 0 };
        rc = put_item(out, 'u', u);
    }
    for (size_t k = 0; rc == 0 && k < n_keys; k++)
        rc = put_item(out, 'k', keys[k]);
    if (rc < 0)
        return rc;
    /* explicit versions: keep only those the ranges do not already cover */
    size_t ranges_len = out->len;
    for (size_t v = 0; rc == 0 && v < a->n_versions; v++) {
        struct arow_result res;
        if (arow_check(out->data, ranges_len, f, str_from(a->versions[v]), &res) == 0 &&
            res.affected && !res.by_version_list)
            continue;
        rc = put_item(out, 'v', a->versions[v]);
    }
    if (rc == 0 && out->len > AROW_MAX)
        rc = -ERR_TOO_BIG;
    return rc;
}

struct range_eval {
    vercmp_fn cmp;
    bool active;    /* inside a range */
    bool trivial;   /* only "introduced 0" so far (evaluable without a comparator) */
    bool affected;  /* state of the interval walk */
    bool stopped;   /* passed the installed version */
    bool searching; /* stopped while affected: looking for the next fix */
    bool have_limit, below_limit;
    const char *fixed;
    size_t n_events;
};

/* Close the current range and merge its verdict into res. */
static void range_finish(struct range_eval *re, struct arow_result *res, bool *any_unfixed,
                         enum eco_family f)
{
    if (!re->active)
        return;
    bool aff;
    if (!re->cmp)
        aff = re->trivial && re->n_events > 0;
    else
        aff = re->affected && (!re->have_limit || re->below_limit);
    if (aff) {
        const char *fx = re->cmp ? re->fixed : NULL;
        if (!fx)
            *any_unfixed = true;
        else if (!res->fixed || !*res->fixed)
            res->fixed = fx;
        else {
            vercmp_fn cmp = re->cmp ? re->cmp : eco_vercmp(f, OSV_RANGE_ECOSYSTEM);
            if (cmp && cmp(str_from(fx), str_from(res->fixed)) > 0)
                res->fixed = fx;
        }
        res->affected = true;
    }
    memset(re, 0, sizeof(*re));
}

static void range_event(struct range_eval *re, char kind, const char *ver, size_t len, struct str v)
{
    bool zero = kind == OSV_EV_INTRODUCED && len == 1 && ver[0] == '0';
    re->n_events++;
    if (!zero)
        re->trivial = false;
    if (!re->cmp)
        return;
    if (kind == OSV_EV_LIMIT) {
        re->have_limit = true;
        if (re->stopped || (len == 1 && ver[0] == '*') || re->cmp(v, str_make(ver, len)) < 0)
            re->below_limit = true;
        return;
    }
    if (re->stopped) {
        if (re->searching && kind == OSV_EV_FIXED) {
            re->fixed = ver;
            re->searching = false;
        } else if (re->searching && kind == OSV_EV_LAST_AFFECTED) {
            re->searching = false;
        }
        return;
    }
    int c = zero ? 1 : re->cmp(v, str_make(ver, len));
    if (c < 0) {
        /* events are sorted: nothing from here on changes the verdict */
        re->stopped = true;
        re->searching = re->affected;
        range_event(re, kind, ver, len, v);
        re->n_events--;
        return;
    }
    switch (kind) {
    case OSV_EV_INTRODUCED:
        re->affected = true;
        break;
    case OSV_EV_FIXED:
        re->affected = false;
        break;
    case OSV_EV_LAST_AFFECTED:
        if (c > 0)
            re->affected = false;
        break;
    default:
        break;
    }
}

int arow_check(const void *row, size_t n, enum eco_family f, struct str version,
               struct arow_result *res)
{
    const char *p = row;
    memset(res, 0, sizeof(*res));
    if (n < 1 || (unsigned char)p[0] != AROW_FORMAT)
        return -ERR_CORRUPT;
    struct range_eval re = { 0 };
    bool any_unfixed = false, listed = false;
    const char *only_fix = NULL;
    size_t n_fix = 0;
    size_t i = 1;
    while (i < n) {
        char tag = p[i++];
        const char *s = p + i;
        const char *nul = memchr(s, '\0', n - i);
        if (!nul)
            return -ERR_CORRUPT;
        size_t len = (size_t)(nul - s);
        i += len + 1;
        switch (tag) {
        case 'E':
        case 'S':
            range_finish(&re, res, &any_unfixed, f);
            re.active = true;
            re.trivial = true;
            re.cmp = eco_vercmp(f, tag == 'E' ? OSV_RANGE_ECOSYSTEM : OSV_RANGE_SEMVER);
            break;
        case 'i':
        case 'f':
        case 'l':
        case 'L':
            if (!re.active)
                return -ERR_CORRUPT;
            if (tag == 'f') {
                n_fix++;
                only_fix = s;
            }
            range_event(&re, tag, s, len, version);
            break;
        case 'v':
            range_finish(&re, res, &any_unfixed, f);
            if (!listed && len == version.len && memcmp(s, version.ptr, len) == 0)
                listed = true;
            break;
        case 'k':
            range_finish(&re, res, &any_unfixed, f);
            if (res->n_keys < ARRAY_SIZE(res->keys))
                res->keys[res->n_keys++] = s;
            break;
        case 'u':
            range_finish(&re, res, &any_unfixed, f);
            if (len == 1 && s[0] >= '0' && s[0] <= '0' + URG_HIGH)
                res->urgency = (enum osv_urgency)(s[0] - '0');
            break;
        default:
            return -ERR_CORRUPT;
        }
    }
    range_finish(&re, res, &any_unfixed, f);
    if (res->affected) {
        if (any_unfixed || !res->fixed)
            res->fixed = "";
    } else if (listed) {
        /* listed but outside every range we can evaluate: the fix is known only when the
         * entry names exactly one */
        res->affected = true;
        res->by_version_list = true;
        res->fixed = n_fix == 1 ? only_fix : "";
    } else {
        res->fixed = "";
    }
    return 0;
}

int entry_next(struct entry_iter *it, int64_t *adv, const void **row, size_t *len)
{
    if (it->off >= it->n)
        return 0;
    uint64_t v[2] = { 0, 0 };
    for (int k = 0; k < 2; k++) {
        int shift = 0;
        for (;;) {
            if (it->off >= it->n || shift > 56)
                return -ERR_CORRUPT;
            unsigned char c = it->p[it->off++];
            v[k] |= (uint64_t)(c & 0x7f) << shift;
            shift += 7;
            if (!(c & 0x80))
                break;
        }
    }
    if (v[0] == 0 || v[0] > INT64_MAX || v[1] == 0 || v[1] > it->n - it->off)
        return -ERR_CORRUPT;
    *adv = (int64_t)v[0];
    *row = it->p + it->off;
    *len = (size_t)v[1];
    it->off += (size_t)v[1];
    return 1;
}

/* ---- ecosystem for an OS --------------------------------------------------------------- */

const char *vulndb_ecosystem_for_os(const char *os_id, const char *version_id, struct arena *a)
{
    if (!os_id || !version_id)
        return NULL;
    char buf[96];
    size_t major_len = strspn(version_id, "0123456789");
    if (strcmp(os_id, "debian") == 0) {
        static const struct {
            const char *codename;
            int version;
        } names[] = { { "stretch", 9 },   { "buster", 10 }, { "bullseye", 11 },
                      { "bookworm", 12 }, { "trixie", 13 }, { "forky", 14 } };
        if (major_len == 0 || major_len > 3) {
            for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                if (strcmp(version_id, names[i].codename) == 0) {
                    snprintf(buf, sizeof(buf), "Debian:%d", names[i].version);
                    return arena_strdup(a, buf);
                }
            return NULL;
        }
        snprintf(buf, sizeof(buf), "Debian:%.*s", (int)major_len, version_id);
        return arena_strdup(a, buf);
    }
    if (strcmp(os_id, "alpine") == 0) {
        if (major_len == 0 || major_len > 3 || version_id[major_len] != '.')
            return NULL;
        const char *minor = version_id + major_len + 1;
        size_t minor_len = strspn(minor, "0123456789");
        if (minor_len == 0 || minor_len > 3)
            return NULL;
        if (strchr(version_id, '_'))
            return arena_strdup(a, "Alpine:edge");
        snprintf(buf, sizeof(buf), "Alpine:v%.*s.%.*s", (int)major_len, version_id, (int)minor_len,
                 minor);
        return arena_strdup(a, buf);
    }
    static const char *const rhel_like[] = { "rhel", "rocky", "almalinux", "centos" };
    for (size_t i = 0; i < ARRAY_SIZE(rhel_like); i++) {
        if (strcmp(os_id, rhel_like[i]) != 0)
            continue;
        if (major_len == 0 || major_len > 3)
            return NULL;
        snprintf(buf, sizeof(buf), "Red Hat:enterprise_linux:%.*s", (int)major_len, version_id);
        return arena_strdup(a, buf);
    }
    return NULL;
}

/* ---- hash maps (open addressing, arena-backed keys) ------------------------------------- */

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

struct smap_slot {
    const char *key;
    uint64_t hash;
    size_t val;
};

/* String -> index map; the strings are borrowed. */
struct smap {
    struct smap_slot *slots;
    size_t cap, n;
};

static void smap_release(struct smap *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

static void smap_grow(struct smap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    struct smap_slot *ns = xcalloc(ncap, sizeof(*ns));
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key)
            continue;
        size_t j = m->slots[i].hash & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
}

/* Find key; when absent and insert is true, add it with value *val. Returns the slot value
 * pointer or NULL. */
static size_t *smap_get(struct smap *m, const char *key, bool insert, size_t val)
{
    if (!m->cap) {
        if (!insert)
            return NULL;
        smap_grow(m);
    }
    uint64_t h = hash_bytes(key, strlen(key));
    size_t j = h & (m->cap - 1);
    while (m->slots[j].key) {
        if (m->slots[j].hash == h && strcmp(m->slots[j].key, key) == 0)
            return &m->slots[j].val;
        j = (j + 1) & (m->cap - 1);
    }
    if (!insert)
        return NULL;
    if ((m->n + 1) * 4 > m->cap * 3) {
        smap_grow(m);
        return smap_get(m, key, true, val);
    }
    m->slots[j].key = key;
    m->slots[j].hash = h;
    m->slots[j].val = val;
    m->n++;
    return &m->slots[j].val;
}

/* ---- the database handle --------------------------------------------------------------- */

struct adv_info {
    int64_t id;
    int kind;
    const char *name;
    const char **keys;
    size_t n_keys;
    const char *summary, *vendor_severity, *cvss, *source, *published, *modified;
};

struct eco_entry {
    int64_t id;
    const char *name;
};

struct vulndb {
    char *path;
    dev_t dev; /* the file opened: a rebuild renames a new one into place */
    ino_t ino;
    int data_version; /* PRAGMA data_version: moves when another connection commits */
    sqlite3 *db;
    sqlite3_stmt *st_pkg, *st_adv, *st_text, *st_byname, *st_cve, *st_dict;
    ZSTD_DCtx *dctx;
    struct {
        int64_t id;
        ZSTD_DDict *ddict;
    } ddicts[64];
    size_t n_ddicts;
    struct arena cache_arena;    /* advisory cache and ecosystem names */
    struct adv_info **adv_slots; /* open addressing by advisory id */
    size_t adv_cap, adv_n;
    struct eco_entry *ecos;
    size_t n_ecos;
    char *last_eco;     /* the ecosystem the selection below is for */
    bool *eco_selected; /* indexed like ecos */
    struct vulndb_stats stats;
};

#define ADV_CACHE_MAX_BYTES (64u << 20)

static void adv_cache_clear(struct vulndb *db)
{
    free(db->adv_slots);
    db->adv_slots = NULL;
    db->adv_cap = db->adv_n = 0;
    /* ecosystem names live in the same arena: re-read them */
}

static int load_ecosystems(struct vulndb *db, struct diag *d)
{
    sqlite3_stmt *st;
    int rc =
        sqlite3_prepare_v2(db->db, "SELECT id, name FROM ecosystems ORDER BY id", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return vdb_error(db->db, rc, "reading ecosystems", d);
    VEC(struct eco_entry) v = VEC_INIT;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct eco_entry e = { sqlite3_column_int64(st, 0),
                               arena_strdup(&db->cache_arena,
                                            (const char *)sqlite3_column_text(st, 1)) };
        VEC_PUSH(&v, e);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        VEC_FREE(&v);
        return vdb_error(db->db, rc, "reading ecosystems", d);
    }
    free(db->ecos);
    free(db->eco_selected);
    db->ecos = v.v;
    db->n_ecos = v.n;
    db->eco_selected = xcalloc(v.n ? v.n : 1, sizeof(bool));
    free(db->last_eco);
    db->last_eco = NULL;
    return 0;
}

static int data_version(sqlite3 *db)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

/* Release the connection, its statements and every cache (the handle itself stays). */
static void vdb_detach(struct vulndb *db)
{
    sqlite3_stmt **stmts[] = { &db->st_pkg,    &db->st_adv, &db->st_text,
                               &db->st_byname, &db->st_cve, &db->st_dict };
    for (size_t i = 0; i < ARRAY_SIZE(stmts); i++) {
        sqlite3_finalize(*stmts[i]);
        *stmts[i] = NULL;
    }
    sqlite3_close(db->db);
    db->db = NULL;
    for (size_t i = 0; i < db->n_ddicts; i++)
        ZSTD_freeDDict(db->ddicts[i].ddict);
    db->n_ddicts = 0;
    adv_cache_clear(db);
    arena_release(&db->cache_arena);
    free(db->ecos);
    free(db->eco_selected);
    free(db->last_eco);
    db->ecos = NULL;
    db->eco_selected = NULL;
    db->last_eco = NULL;
    db->n_ecos = 0;
}

/* Open the database file and prepare what matching needs. */
static int vdb_attach(struct vulndb *db, struct diag *d)
{
    struct stat st;
    if (stat(db->path, &st) == 0) {
        db->dev = st.st_dev;
        db->ino = st.st_ino;
    }
    int rc = vdb_open(db->path, false, &db->db, d);
    if (rc < 0)
        return rc;
    static const struct {
        size_t off;
        const char *sql;
    } stmts[] = {
        { offsetof(struct vulndb, st_pkg),
          "SELECT eco, entries FROM packages WHERE name = ?1 AND entries IS NOT NULL" },
        { offsetof(struct vulndb, st_adv),
          "SELECT name, kind, keys, summary, vendor_severity, cvss, source, published, modified"
          " FROM advisories WHERE id = ?1" },
        { offsetof(struct vulndb, st_text), "SELECT text FROM advisories WHERE id = ?1" },
        { offsetof(struct vulndb, st_byname),
          "SELECT id FROM advisories WHERE name = ?1 AND withdrawn IS NULL" },
        { offsetof(struct vulndb, st_cve),
          "SELECT source, cvss, description FROM cve_info WHERE cve = ?1 ORDER BY source DESC" },
        { offsetof(struct vulndb, st_dict), "SELECT dict FROM dicts WHERE id = ?1" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(stmts); i++) {
        sqlite3_stmt **slot = (sqlite3_stmt **)((char *)db + stmts[i].off);
        rc = sqlite3_prepare_v3(db->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
        if (rc != SQLITE_OK)
            return vdb_error(db->db, rc, db->path, d);
    }
    db->data_version = data_version(db->db);
    return load_ecosystems(db, d);
}

int vulndb_open(const char *path, struct vulndb **out, struct diag *d)
{
    *out = NULL;
    struct vulndb *db = xcalloc(1, sizeof(*db));
    db->path = xstrdup(path);
    arena_init(&db->cache_arena);
    int rc = vdb_attach(db, d);
    if (rc < 0) {
        vulndb_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

void vulndb_close(struct vulndb *db)
{
    if (!db)
        return;
    vdb_detach(db);
    ZSTD_freeDCtx(db->dctx);
    free(db->path);
    free(db);
}

/* An import may have changed the database since the last call: a rebuild replaced the file
 * (reopen it), an update committed in place (drop the caches). */
static int vulndb_refresh(struct vulndb *db, struct diag *d)
{
    struct stat st;
    if (stat(db->path, &st) == 0 && (st.st_dev != db->dev || st.st_ino != db->ino)) {
        vdb_detach(db);
        return vdb_attach(db, d);
    }
    int v = data_version(db->db);
    if (v != db->data_version) {
        db->data_version = v;
        adv_cache_clear(db);
        arena_release(&db->cache_arena);
        return load_ecosystems(db, d);
    }
    return 0;
}

int vulndb_last_import(struct vulndb *db, int64_t *id, bool *was_build, struct diag *d)
{
    *id = 0;
    *was_build = false;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db->db, "SELECT id, mode FROM imports ORDER BY id DESC LIMIT 1", -1,
                                &st, NULL);
    if (rc != SQLITE_OK)
        return vdb_error(db->db, rc, "reading imports", d);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        const char *mode = (const char *)sqlite3_column_text(st, 1);
        *was_build = mode && strcmp(mode, "build") == 0;
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : vdb_error(db->db, rc, "reading imports", d);
}

int vulndb_changes(struct vulndb *db, int64_t since_import,
                   int (*fn)(void *ctx, const struct vulndb_change *c), void *ctx, struct diag *d)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db->db,
                                "SELECT c.import_id, c.advisory, c.kind, c.reason, e.name, p.name"
                                " FROM changes c JOIN change_pkgs cp ON cp.change = c.id"
                                " JOIN packages p ON p.id = cp.pkg"
                                " JOIN ecosystems e ON e.id = p.eco"
                                " WHERE c.import_id > ?1 ORDER BY c.id, e.name, p.name",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return vdb_error(db->db, rc, "reading changes", d);
    sqlite3_bind_int64(st, 1, since_import);
    int ret = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct vulndb_change c = {
            .import_id = sqlite3_column_int64(st, 0),
            .advisory = (const char *)sqlite3_column_text(st, 1),
            .kind = (const char *)sqlite3_column_text(st, 2),
            .reason = (const char *)sqlite3_column_text(st, 3),
            .ecosystem = (const char *)sqlite3_column_text(st, 4),
            .package = (const char *)sqlite3_column_text(st, 5),
        };
        if (!c.advisory || !c.kind || !c.reason || !c.ecosystem || !c.package)
            continue;
        ret = fn(ctx, &c);
        if (ret)
            break;
    }
    sqlite3_finalize(st);
    if (!ret && rc != SQLITE_DONE)
        return vdb_error(db->db, rc, "reading changes", d);
    return ret;
}

void vulndb_get_stats(const struct vulndb *db, struct vulndb_stats *st)
{
    *st = db->stats;
}

/* Select the ecosystems a request names: the exact name, or "<name>::<stream>". */
static size_t select_ecosystems(struct vulndb *db, const char *ecosystem)
{
    size_t n = 0, len = strlen(ecosystem);
    if (db->last_eco && strcmp(db->last_eco, ecosystem) == 0) {
        for (size_t i = 0; i < db->n_ecos; i++)
            n += db->eco_selected[i];
        return n;
    }
    for (size_t i = 0; i < db->n_ecos; i++) {
        const char *name = db->ecos[i].name;
        bool sel = strcmp(name, ecosystem) == 0 ||
                   (strncmp(name, ecosystem, len) == 0 && name[len] == ':' && name[len + 1] == ':');
        db->eco_selected[i] = sel;
        n += sel;
    }
    free(db->last_eco);
    db->last_eco = xstrdup(ecosystem);
    return n;
}

static const struct eco_entry *eco_by_id(const struct vulndb *db, int64_t id, size_t *index)
{
    /* ids are dense and ordered: try the direct position first */
    if (id >= 1 && (size_t)id <= db->n_ecos && db->ecos[id - 1].id == id) {
        *index = (size_t)id - 1;
        return &db->ecos[id - 1];
    }
    for (size_t i = 0; i < db->n_ecos; i++)
        if (db->ecos[i].id == id) {
            *index = i;
            return &db->ecos[i];
        }
    return NULL;
}

static const char *col_dup(struct arena *a, sqlite3_stmt *st, int i)
{
    const char *s = (const char *)sqlite3_column_text(st, i);
    return arena_strdup(a, s ? s : "");
}

/* Space-separated list -> array (in arena). */
static size_t split_words(struct arena *a, const char *s, const char ***out)
{
    size_t n = 0;
    for (const char *p = s; *p;) {
        p += strspn(p, " ");
        if (!*p)
            break;
        n++;
        p += strcspn(p, " ");
    }
    const char **v = arena_alloc(a, (n ? n : 1) * sizeof(*v));
    size_t k = 0;
    for (const char *p = s; *p && k < n;) {
        p += strspn(p, " ");
        size_t w = strcspn(p, " ");
        if (w)
            v[k++] = arena_strndup(a, p, w);
        p += w;
    }
    *out = v;
    return k;
}

static const struct adv_info *adv_get(struct vulndb *db, int64_t id, struct diag *d, int *err)
{
    if (db->adv_cap) {
        size_t j = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ULL >> 20) & (db->adv_cap - 1);
        while (db->adv_slots[j]) {
            if (db->adv_slots[j]->id == id)
                return db->adv_slots[j];
            j = (j + 1) & (db->adv_cap - 1);
        }
    }
    sqlite3_stmt *st = db->st_adv;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        *err = rc == SQLITE_DONE
                   ? diag_set(d, -ERR_CORRUPT, 0,
                              "vulnerability database: advisory %lld is missing", (long long)id)
                   : vdb_error(db->db, rc, "reading an advisory", d);
        return NULL;
    }
    struct arena *a = &db->cache_arena;
    struct adv_info *ai = arena_zalloc(a, sizeof(*ai));
    ai->id = id;
    ai->name = col_dup(a, st, 0);
    ai->kind = sqlite3_column_int(st, 1);
    const char *keys = (const char *)sqlite3_column_text(st, 2);
    ai->n_keys = split_words(a, keys ? keys : "", &ai->keys);
    ai->summary = col_dup(a, st, 3);
    ai->vendor_severity = col_dup(a, st, 4);
    ai->cvss = col_dup(a, st, 5);
    ai->source = col_dup(a, st, 6);
    ai->published = col_dup(a, st, 7);
    ai->modified = col_dup(a, st, 8);
    sqlite3_reset(st);
    if ((db->adv_n + 1) * 2 > db->adv_cap) {
        size_t ncap = db->adv_cap ? db->adv_cap * 2 : 1024;
        struct adv_info **ns = xcalloc(ncap, sizeof(*ns));
        for (size_t i = 0; i < db->adv_cap; i++) {
            struct adv_info *x = db->adv_slots[i];
            if (!x)
                continue;
            size_t j = (size_t)((uint64_t)x->id * 0x9E3779B97F4A7C15ULL >> 20) & (ncap - 1);
            while (ns[j])
                j = (j + 1) & (ncap - 1);
            ns[j] = x;
        }
        free(db->adv_slots);
        db->adv_slots = ns;
        db->adv_cap = ncap;
    }
    size_t j = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ULL >> 20) & (db->adv_cap - 1);
    while (db->adv_slots[j])
        j = (j + 1) & (db->adv_cap - 1);
    db->adv_slots[j] = ai;
    db->adv_n++;
    return ai;
}

/* ---- finding assembly ------------------------------------------------------------------ */

/* Move a VEC's storage into an arena (cap = n afterwards; never VEC_FREE it again). */
#define VEC_TO_ARENA(vec, arena)                                             \
    do {                                                                     \
        if ((vec)->n) {                                                      \
            void *vta_ = arena_alloc((arena), (vec)->n * sizeof(*(vec)->v)); \
            memcpy(vta_, (vec)->v, (vec)->n * sizeof(*(vec)->v));            \
            free((vec)->v);                                                  \
            (vec)->v = vta_;                                                 \
            (vec)->cap = (vec)->n;                                           \
        } else {                                                             \
            VEC_FREE(vec);                                                   \
        }                                                                    \
    } while (0)

/* One affected row of the package being matched. */
struct mrow {
    int64_t adv;
    size_t eco_index;
    bool matched;
    const char *fixed; /* in the match arena */
    enum osv_urgency urgency;
    const char **keys; /* override ('k' items) or the advisory's keys */
    size_t n_keys;
    bool keys_override;
    const struct adv_info *ai;
};

struct group {
    const char *key;
    int min_rank;
    VEC(size_t) hits; /* indexes of matched rows at min_rank */
    VEC(size_t) all_matched;
};

/* How specifically a row speaks about issue key: 0 = the record is that issue, 1 = a
 * single-issue advisory (or secdb line), 2 = an advisory covering several issues. */
static int row_rank(const struct mrow *r, const char *key)
{
    if (!r->keys_override && strcmp(r->ai->name, key) == 0)
        return 0;
    return r->n_keys == 1 ? 1 : 2;
}

static bool row_has_key(const struct mrow *r, const char *key)
{
    for (size_t k = 0; k < r->n_keys; k++)
        if (strcmp(r->keys[k], key) == 0)
            return true;
    return false;
}

static const char *link_for(enum eco_family f, const char *id, struct arena *a)
{
    char buf[256];
    bool cve = strncmp(id, "CVE-", 4) == 0;
    if (strncmp(id, "GHSA-", 5) == 0)
        snprintf(buf, sizeof(buf), "https://github.com/advisories/%s", id);
    else if (f == ECO_DEBIAN)
        snprintf(buf, sizeof(buf), "https://security-tracker.debian.org/tracker/%s", id);
    else if (f == ECO_ALPINE && cve)
        snprintf(buf, sizeof(buf), "https://security.alpinelinux.org/vuln/%s", id);
    else if (f == ECO_REDHAT && cve)
        snprintf(buf, sizeof(buf), "https://access.redhat.com/security/cve/%s", id);
    else if (f == ECO_REDHAT && (strncmp(id, "RHSA-", 5) == 0 || strncmp(id, "RHBA-", 5) == 0 ||
                                 strncmp(id, "RHEA-", 5) == 0))
        snprintf(buf, sizeof(buf), "https://access.redhat.com/errata/%s", id);
    else if (cve)
        snprintf(buf, sizeof(buf), "https://nvd.nist.gov/vuln/detail/%s", id);
    else
        snprintf(buf, sizeof(buf), "https://osv.dev/vulnerability/%s", id);
    return arena_strdup(a, buf);
}

/* Parse stored CVSS lines ("version TAB vector TAB score TAB source") into the finding,
 * skipping vectors it already has. */
static void add_cvss_lines(struct finding *fd, const char *text, const char *source_override,
                           struct arena *a)
{
    const char *p = text;
    while (p && *p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[1024];
        if (len < sizeof(line)) {
            memcpy(line, p, len);
            line[len] = '\0';
            char *f[4] = { line, NULL, NULL, NULL };
            for (int i = 1; i < 4; i++) {
                char *tab = f[i - 1] ? strchr(f[i - 1], '\t') : NULL;
                if (tab) {
                    *tab = '\0';
                    f[i] = tab + 1;
                }
            }
            if (f[1] && f[2] && f[3]) {
                bool dup = false;
                for (size_t i = 0; i < fd->cvss.n; i++)
                    if (strcmp(fd->cvss.v[i].vector, f[1]) == 0)
                        dup = true;
                char *end = NULL;
                double score = strtod(f[2], &end);
                if (!dup && end != f[2] && score >= 0 && score <= 10) {
                    struct finding_cvss c = {
                        .version = arena_strdup(a, f[0]),
                        .vector = arena_strdup(a, f[1]),
                        .score = score,
                        .source = arena_strdup(a, source_override ? source_override : f[3]),
                    };
                    VEC_PUSH(&fd->cvss, c);
                }
            }
        }
        p = eol ? eol + 1 : NULL;
    }
}

/* The decompression dictionary with this id (loaded once per handle); NULL when missing. */
static ZSTD_DDict *ddict_get(struct vulndb *db, int64_t id)
{
    for (size_t i = 0; i < db->n_ddicts; i++)
        if (db->ddicts[i].id == id)
            return db->ddicts[i].ddict;
    if (db->n_ddicts == ARRAY_SIZE(db->ddicts))
        return NULL;
    sqlite3_stmt *st = db->st_dict;
    sqlite3_bind_int64(st, 1, id);
    ZSTD_DDict *dd = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        dd = ZSTD_createDDict(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
    sqlite3_reset(st);
    if (dd) {
        db->ddicts[db->n_ddicts].id = id;
        db->ddicts[db->n_ddicts].ddict = dd;
        db->n_ddicts++;
    }
    return dd;
}

/* Load details and references of an advisory (db.h: dict id + zstd frame of "details NUL
 * references"). A damaged blob yields no text rather than an error: the finding stands. */
static int load_text(struct vulndb *db, int64_t adv, struct arena *a, const char **details,
                     struct finding *fd, struct diag *d)
{
    sqlite3_stmt *st = db->st_text;
    sqlite3_bind_int64(st, 1, adv);
    int rc = sqlite3_step(st);
    *details = "";
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? 0 : vdb_error(db->db, rc, "reading advisory text", d);
    }
    const unsigned char *blob = sqlite3_column_blob(st, 0);
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    if (blob && n > 4) {
        int64_t id = (int64_t)((uint32_t)blob[0] | (uint32_t)blob[1] << 8 |
                               (uint32_t)blob[2] << 16 | (uint32_t)blob[3] << 24);
        unsigned long long size = ZSTD_getFrameContentSize(blob + 4, n - 4);
        ZSTD_DDict *dd = id ? ddict_get(db, id) : NULL;
        if (!db->dctx)
            db->dctx = ZSTD_createDCtx();
        if (size != ZSTD_CONTENTSIZE_UNKNOWN && size != ZSTD_CONTENTSIZE_ERROR &&
            size <= TEXT_MAX && (dd || !id) && db->dctx) {
            char *out = arena_alloc(a, (size_t)size + 1);
            size_t got =
                dd ? ZSTD_decompress_usingDDict(db->dctx, out, (size_t)size, blob + 4, n - 4, dd)
                   : ZSTD_decompressDCtx(db->dctx, out, (size_t)size, blob + 4, n - 4);
            if (!ZSTD_isError(got) && got == size) {
                out[size] = '\0';
                *details = out;
                size_t dl = strlen(out);
                const char *refs = dl < size ? out + dl + 1 : "";
                for (const char *p = refs; *p && fd->references.n < 64;) {
                    size_t w = strcspn(p, "\n");
                    if (w)
                        VEC_PUSH(&fd->references, arena_strndup(a, p, w));
                    p += w;
                    if (*p)
                        p++;
                }
            }
        }
    }
    sqlite3_reset(st);
    return 0;
}

static const char *first_line(const char *s, struct arena *a)
{
    s += strspn(s, " \t\r\n");
    size_t n = strcspn(s, "\r\n");
    if (n > 200)
        n = 200;
    return arena_strndup(a, s, n);
}

static int advisory_by_name(struct vulndb *db, const char *name, const struct adv_info **out,
                            struct diag *d)
{
    *out = NULL;
    sqlite3_stmt *st = db->st_byname;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return vdb_error(db->db, rc, "looking up an advisory", d);
    if (!id)
        return 0;
    int err = 0;
    *out = adv_get(db, id, d, &err);
    return err;
}

/* NVD, then CISA: vectors and the description. */
static int add_cve_info(struct vulndb *db, const char *cve, struct finding *fd,
                        const char **description, struct arena *a, struct diag *d)
{
    sqlite3_stmt *st = db->st_cve;
    sqlite3_bind_text(st, 1, cve, -1, SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *cvss = (const char *)sqlite3_column_text(st, 1);
        const char *desc = (const char *)sqlite3_column_text(st, 2);
        add_cvss_lines(fd, cvss, NULL, a);
        if (desc && *desc && !**description)
            *description = arena_strdup(a, desc);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return vdb_error(db->db, rc, "reading CVE severity", d);
    return 0;
}

/* Pick the severity: vendor rating, else CVSS v3.x, v4.0, v2 in the order the vectors were
 * added (most specific record first), else UNDEFINED. */
static void choose_severity(struct finding *fd, enum severity vendor, const char *vendor_word)
{
    if (vendor != SEV_UNDEFINED) {
        fd->severity = vendor;
        fd->vendor_severity = vendor_word;
        fd->severity_source = "vendor";
        return;
    }
    static const struct {
        char major;
        const char *name;
    } order[] = { { '3', "cvss3" }, { '4', "cvss4" }, { '2', "cvss2" } };
    for (size_t o = 0; o < ARRAY_SIZE(order); o++) {
        for (size_t i = 0; i < fd->cvss.n; i++) {
            const struct finding_cvss *c = &fd->cvss.v[i];
            if (c->version[0] != order[o].major)
                continue;
            enum cvss_version v = order[o].major == '2'            ? CVSS_V2
                                  : order[o].major == '4'          ? CVSS_V40
                                  : strcmp(c->version, "3.0") == 0 ? CVSS_V30
                                                                   : CVSS_V31;
            int s = severity_parse(cvss_severity(v, c->score));
            fd->severity = s < 0 ? SEV_UNDEFINED : (enum severity)s;
            fd->severity_source = order[o].name;
            fd->vendor_severity = vendor_word ? vendor_word : "";
            return;
        }
    }
    fd->severity = SEV_UNDEFINED;
    fd->severity_source = "none";
    fd->vendor_severity = vendor_word ? vendor_word : "";
}

static const char *const urgency_words[] = {
    [URG_NONE] = "",
    [URG_NOT_YET_ASSIGNED] = "not yet assigned",
    [URG_END_OF_LIFE] = "end-of-life",
    [URG_UNIMPORTANT] = "unimportant",
    [URG_LOW] = "low",
    [URG_MEDIUM] = "medium",
    [URG_HIGH] = "high",
};

static int str_ptr_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "osv:<file label>" of the deciding record; a record found in several files (one per
 * ecosystem it touches) names the file of the ecosystem being matched when it can. */
static const char *source_label(enum eco_family fam, const struct adv_info *ai, struct arena *a)
{
    static const char *const fam_word[] = {
        [ECO_OTHER] = "",
        [ECO_DEBIAN] = "debian",
        [ECO_ALPINE] = "alpine",
        [ECO_REDHAT] = "redhat",
        [ECO_NPM] = "npm",
        [ECO_PYPI] = "pypi",
        [ECO_MAVEN] = "maven",
        [ECO_GO] = "go",
        [ECO_RUBYGEMS] = "rubygems",
        [ECO_CRATES] = "crates",
        [ECO_PACKAGIST] = "packagist",
        [ECO_NUGET] = "nuget",
    };
    if (ai->kind == ADV_SECDB)
        return "alpine-secdb";
    const char *list = ai->source, *pick = list;
    size_t pick_len = strcspn(list, ",");
    for (const char *p = list; *p && *fam_word[fam];) {
        size_t w = strcspn(p, ",");
        const char *hit = strstr(p, fam_word[fam]);
        if (hit && hit < p + w) {
            pick = p;
            pick_len = w;
            break;
        }
        p += w;
        if (*p)
            p++;
    }
    const char *prefix = ai->kind == ADV_OSV ? "osv:" : "";
    size_t pl = strlen(prefix);
    char *out = arena_alloc(a, pl + pick_len + 1);
    memcpy(out, prefix, pl);
    memcpy(out + pl, pick, pick_len);
    out[pl + pick_len] = '\0';
    return out;
}

static int build_finding(struct vulndb *db, enum eco_family fam, const struct pkg *pkg,
                         struct group *g, struct mrow *rows, struct arena *a, struct finding *fd,
                         bool *unimportant, struct diag *d)
{
    memset(fd, 0, sizeof(*fd));
    fd->id = g->key;
    fd->pkg = pkg;
    vercmp_fn cmp = eco_vercmp(fam, OSV_RANGE_ECOSYSTEM);
    const struct mrow *first = &rows[g->hits.v[0]];
    fd->ecosystem = db->ecos[first->eco_index].name;

    /* fixed: the highest fix among the deciding rows ("" only when none names one) */
    const char *fixed = "";
    enum osv_urgency urg = URG_NONE;
    enum severity vendor = SEV_UNDEFINED;
    const char *vendor_word = NULL;
    bool malicious = false;
    for (size_t h = 0; h < g->hits.n; h++) {
        const struct mrow *r = &rows[g->hits.v[h]];
        if (*r->fixed) {
            if (!*fixed)
                fixed = r->fixed;
            else if (cmp ? cmp(str_from(r->fixed), str_from(fixed)) > 0
                         : strcmp(r->fixed, fixed) > 0)
                fixed = r->fixed;
        }
        if (r->urgency > urg)
            urg = r->urgency;
        if (strncmp(r->ai->name, "MAL-", 4) == 0)
            malicious = true;
        /* the advisory's own rating; an RHSA fixing several CVEs rates the advisory (its
         * worst issue), and that is what Red Hat publishes in this data */
        enum severity s = severity_from_vendor(r->ai->vendor_severity);
        if (s > vendor) {
            vendor = s;
            vendor_word = r->ai->vendor_severity;
        }
    }
    fd->fixed_version = fixed;
    fd->malicious = malicious;
    if (fam == ECO_DEBIAN && urg >= URG_UNIMPORTANT) {
        /* Debian's own urgency is the vendor rating in Debian's ecosystem */
        vendor = severity_from_vendor(urgency_words[urg]);
        vendor_word = urgency_words[urg];
    }
    *unimportant = fam == ECO_DEBIAN && urg == URG_UNIMPORTANT;

    /* related: every other advisory that matched for this issue */
    VEC(const char *) rel = VEC_INIT;
    for (size_t m = 0; m < g->all_matched.n; m++) {
        const struct mrow *r = &rows[g->all_matched.v[m]];
        if (r->ai->kind != ADV_OSV || strcmp(r->ai->name, g->key) == 0)
            continue;
        VEC_PUSH(&rel, r->ai->name);
    }
    if (rel.n > 1)
        qsort(rel.v, rel.n, sizeof(*rel.v), str_ptr_cmp);
    for (size_t i = 0; i < rel.n; i++)
        if (i == 0 || strcmp(rel.v[i], rel.v[i - 1]) != 0)
            VEC_PUSH(&fd->related, rel.v[i]);
    VEC_FREE(&rel);

    /* the primary record: the one named by the issue id (possibly from another ecosystem's
     * data, e.g. Debian's CVE record for a Red Hat finding), else the first deciding one */
    const struct adv_info *primary = NULL;
    for (size_t h = 0; h < g->hits.n && !primary; h++)
        if (strcmp(rows[g->hits.v[h]].ai->name, g->key) == 0)
            primary = rows[g->hits.v[h]].ai;
    int rc = 0;
    if (!primary)
        rc = advisory_by_name(db, g->key, &primary, d);
    if (rc < 0)
        return rc;
    const struct adv_info *deciding = first->ai;
    const struct adv_info *text_src = primary ? primary : deciding;

    const char *details = "";
    if (text_src->kind == ADV_OSV) {
        rc = load_text(db, text_src->id, a, &details, fd, d);
        if (rc < 0)
            return rc;
    }
    /* CVSS: the primary record, then single-issue advisories that matched, then NVD/CISA */
    if (primary)
        add_cvss_lines(fd, primary->cvss, NULL, a);
    for (size_t h = 0; h < g->hits.n; h++) {
        const struct mrow *r = &rows[g->hits.v[h]];
        if (r->ai != primary && row_rank(r, g->key) <= 1)
            add_cvss_lines(fd, r->ai->cvss, NULL, a);
    }
    const char *nvd_desc = "";
    if (strncmp(g->key, "CVE-", 4) == 0) {
        rc = add_cve_info(db, g->key, fd, &nvd_desc, a, d);
        if (rc < 0)
            return rc;
    }
    choose_severity(fd, vendor, vendor_word);
    if (malicious) {
        /* the package itself is malware: whatever the record's vectors say, it is critical */
        fd->severity = SEV_CRITICAL;
        fd->severity_source = "malicious";
    }

    const char *summary = text_src->kind == ADV_OSV ? text_src->summary : "";
    if (!*summary && !*details && deciding != text_src && deciding->kind == ADV_OSV)
        summary = deciding->summary;
    fd->title = *summary    ? summary
                : *details  ? first_line(details, a)
                : *nvd_desc ? first_line(nvd_desc, a)
                            : g->key;
    fd->description = *details ? details : nvd_desc;
    /* language ecosystems: the GitHub advisory is the page to read when one matched */
    const char *link_id = g->key;
    bool lang = fam == ECO_OTHER || fam >= ECO_NPM;
    for (size_t h = 0; h < g->hits.n && lang && strncmp(link_id, "GHSA-", 5); h++)
        if (strncmp(rows[g->hits.v[h]].ai->name, "GHSA-", 5) == 0)
            link_id = rows[g->hits.v[h]].ai->name;
    fd->uri = link_for(fam, link_id, a);
    fd->published = text_src->kind == ADV_OSV ? text_src->published : deciding->published;
    fd->modified = text_src->kind == ADV_OSV ? text_src->modified : deciding->modified;
    fd->source = source_label(fam, deciding, a);
    return 0;
}

static int finding_cmp(const void *x, const void *y)
{
    const struct finding *a = x, *b = y;
    if (a->severity != b->severity)
        return a->severity > b->severity ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* Name and version to look up for a package in an ecosystem family. */
static void pkg_key(enum eco_family f, const struct pkg *p, const char **name, const char **version)
{
    *name = p->name;
    *version = p->version;
    if (f == ECO_DEBIAN) {
        if (p->src_name && *p->src_name)
            *name = p->src_name;
        if (p->src_version && *p->src_version)
            *version = p->src_version;
    } else if (f == ECO_ALPINE) {
        if (p->src_name && *p->src_name)
            *name = p->src_name;
    }
}

static int match_one(struct vulndb *db, enum eco_family fam, const struct pkg *pkg,
                     const struct match_opts *o, struct arena *a, struct arena *scratch,
                     struct finding_list *out, struct diag *d)
{
    const char *name, *version;
    pkg_key(fam, pkg, &name, &version);
    if (!name || !*name || !version || !*version)
        return 0;
    struct str v = str_from(version);
    db->stats.packages++;

    VEC(struct mrow) rows = VEC_INIT;
    size_t n_matched = 0;
    int rc;
    sqlite3_stmt *st = db->st_pkg;
    char norm[512];
    name = eco_package_name(fam, name, norm, sizeof(norm));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t ei;
        const struct eco_entry *e = eco_by_id(db, sqlite3_column_int64(st, 0), &ei);
        if (!e || !db->eco_selected[ei])
            continue;
        const unsigned char *blob = sqlite3_column_blob(st, 1);
        size_t bn = (size_t)sqlite3_column_bytes(st, 1);
        struct entry_iter it = { blob, bn, 0 };
        int64_t adv;
        const void *row;
        size_t row_len;
        int er;
        while ((er = entry_next(&it, &adv, &row, &row_len)) > 0) {
            struct arow_result res;
            db->stats.rows++;
            if (arow_check(row, row_len, fam, v, &res) < 0) {
                er = -1;
                break;
            }
            struct mrow r = { .adv = adv, .eco_index = ei };
            r.matched = res.affected;
            r.urgency = res.urgency;
            r.fixed = res.affected ? arena_strdup(scratch, res.fixed) : "";
            if (res.n_keys) {
                r.keys_override = true;
                r.n_keys = res.n_keys;
                r.keys = arena_alloc(scratch, res.n_keys * sizeof(*r.keys));
                for (size_t k = 0; k < res.n_keys; k++)
                    r.keys[k] = arena_strdup(scratch, res.keys[k]);
            }
            n_matched += r.matched;
            VEC_PUSH(&rows, r);
        }
        if (er < 0) {
            rc = diag_set(d, -ERR_CORRUPT, 0,
                          "vulnerability database: malformed entries for '%s' (%s)", name, e->name);
            sqlite3_reset(st);
            VEC_FREE(&rows);
            return rc;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        VEC_FREE(&rows);
        return vdb_error(db->db, rc, "looking up a package", d);
    }
    if (n_matched == 0) {
        VEC_FREE(&rows);
        return 0;
    }
    /* something matched: the advisories of every row are needed to see which is the most
     * specific record for each issue */
    rc = 0;
    for (size_t i = 0; i < rows.n && rc == 0; i++) {
        struct mrow *r = &rows.v[i];
        r->ai = adv_get(db, r->adv, d, &rc);
        if (r->ai && !r->keys_override) {
            r->keys = r->ai->keys;
            r->n_keys = r->ai->n_keys;
        }
    }
    if (rc < 0) {
        VEC_FREE(&rows);
        return rc;
    }
    struct smap gi = { 0 };
    VEC(struct group) groups = VEC_INIT;
    for (size_t i = 0; i < rows.n; i++) {
        if (!rows.v[i].matched)
            continue;
        for (size_t k = 0; k < rows.v[i].n_keys; k++) {
            const char *key = rows.v[i].keys[k];
            size_t *slot = smap_get(&gi, key, true, groups.n);
            if (*slot == groups.n) {
                struct group g = { .key = key, .min_rank = 3 };
                VEC_PUSH(&groups, g);
            }
            VEC_PUSH(&groups.v[*slot].all_matched, i);
        }
    }
    for (size_t i = 0; i < rows.n; i++) {
        for (size_t k = 0; k < rows.v[i].n_keys; k++) {
            size_t *slot = smap_get(&gi, rows.v[i].keys[k], false, 0);
            if (!slot)
                continue;
            int rk = row_rank(&rows.v[i], rows.v[i].keys[k]);
            if (rk < groups.v[*slot].min_rank)
                groups.v[*slot].min_rank = rk;
        }
    }
    size_t first_new = out->items.n;
    for (size_t gidx = 0; gidx < groups.n && rc == 0; gidx++) {
        struct group *g = &groups.v[gidx];
        for (size_t m = 0; m < g->all_matched.n; m++) {
            const struct mrow *r = &rows.v[g->all_matched.v[m]];
            if (row_rank(r, g->key) == g->min_rank && row_has_key(r, g->key))
                VEC_PUSH(&g->hits, g->all_matched.v[m]);
        }
        if (g->hits.n == 0)
            continue;
        struct finding fd;
        bool unimportant = false;
        rc = build_finding(db, fam, pkg, g, rows.v, a, &fd, &unimportant, d);
        if (rc < 0)
            break;
        bool keep = true;
        if (unimportant && !o->include_unimportant)
            keep = false;
        if (o->ignore_unfixed && !*fd.fixed_version)
            keep = false;
        if (o->min_severity != SEV_UNDEFINED && fd.severity < o->min_severity)
            keep = false;
        if (keep) {
            /* the finding's strings must live in the caller's arena */
            fd.id = arena_strdup(a, fd.id);
            fd.fixed_version = arena_strdup(a, fd.fixed_version);
            for (size_t i = 0; i < fd.related.n; i++)
                fd.related.v[i] = arena_strdup(a, fd.related.v[i]);
            fd.ecosystem = arena_strdup(a, fd.ecosystem);
            fd.title = arena_strdup(a, fd.title);
            fd.vendor_severity = arena_strdup(a, fd.vendor_severity);
            fd.published = arena_strdup(a, fd.published);
            fd.modified = arena_strdup(a, fd.modified);
            /* nested vectors live in the arena too (finding.h) */
            VEC_TO_ARENA(&fd.related, a);
            VEC_TO_ARENA(&fd.references, a);
            VEC_TO_ARENA(&fd.cvss, a);
            VEC_PUSH(&out->items, fd);
            db->stats.findings++;
        } else {
            VEC_FREE(&fd.related);
            VEC_FREE(&fd.references);
            VEC_FREE(&fd.cvss);
        }
    }
    if (out->items.n - first_new > 1)
        qsort(out->items.v + first_new, out->items.n - first_new, sizeof(struct finding),
              finding_cmp);
    for (size_t gidx = 0; gidx < groups.n; gidx++) {
        VEC_FREE(&groups.v[gidx].hits);
        VEC_FREE(&groups.v[gidx].all_matched);
    }
    VEC_FREE(&groups);
    smap_release(&gi);
    VEC_FREE(&rows);
    return rc;
}

int vulndb_match(struct vulndb *db, const char *ecosystem, const struct pkg *pkgs, size_t n,
                 const struct match_opts *o, struct arena *a, struct finding_list *out,
                 struct diag *d)
{
    static const struct match_opts defaults = { 0 };
    if (!o)
        o = &defaults;
    enum eco_family fam = eco_family_of(ecosystem);
    int rrc = vulndb_refresh(db, d);
    if (rrc < 0)
        return rrc;
    if (select_ecosystems(db, ecosystem) == 0)
        return 0; /* no data for it: nothing can match */
    struct arena scratch;
    arena_init(&scratch);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (db->cache_arena.used > ADV_CACHE_MAX_BYTES) {
            /* bound the memory of long-lived handles: start the cache over (between
             * packages, when nothing points into it) */
            adv_cache_clear(db);
            arena_release(&db->cache_arena);
            rc = load_ecosystems(db, d);
            if (rc < 0)
                break;
            select_ecosystems(db, ecosystem);
        }
        rc = match_one(db, fam, &pkgs[i], o, a, &scratch, out, d);
        if (scratch.used > (8u << 20)) {
            arena_release(&scratch);
            arena_init(&scratch);
        }
    }
    arena_release(&scratch);
    return rc;
}
