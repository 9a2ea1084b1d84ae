/* SPDX-License-Identifier: Apache-2.0 */
/* Findings of the scan service: matching an inventory as `vigil scan` does (all packages or a
 * subset, for rescans), grouping findings into stored rows, writing them against what is
 * stored (created / updated / closed, first and last observed, events), their JSON through the
 * ECR report writer, the shared vulnerability records and the package index. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/hash.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "scan/lang_scan.h"
#include "scan/report.h"
#include "scan/svc_internal.h"
#include "vulndb/db.h"

char *svc_join(struct arena *a, const char *x, size_t xn, const char *y)
{
    size_t yn = strlen(y);
    char *k = arena_alloc(a, xn + yn + 2);
    memcpy(k, x, xn);
    k[xn] = '\x1f';
    memcpy(k + xn + 1, y, yn + 1);
    return k;
}

/* ---- matching ---- */

void svc_matched_release(struct svc_matched *m)
{
    VEC_FREE(&m->fl.items);
    VEC_FREE(&m->idx);
}

const char *svc_os_ecosystem(const struct inventory *inv, struct arena *a)
{
    const char *ver =
        inv->os.version_id && inv->os.version_id[0] ? inv->os.version_id : inv->os.codename;
    /* Debian testing/sid has no VERSION_ID: the codename names the release then */
    return vulndb_ecosystem_for_os(inv->os.id, ver, a);
}

/* ---- the match cache: one rescan looks each distinct package up once ---- */

struct cache_entry {
    const char *key;
    struct finding *f; /* pkg NULL: copied per image */
    size_t n;
};

struct svc_match_cache {
    struct arena a; /* keys, findings and their strings */
    struct cache_entry *slots;
    size_t cap, used;
    size_t hits, misses;
};

struct svc_match_cache *svc_match_cache_new(void)
{
    struct svc_match_cache *c = xcalloc(1, sizeof(*c));
    arena_init(&c->a);
    c->cap = 1024;
    c->slots = xcalloc(c->cap, sizeof(*c->slots));
    return c;
}

void svc_match_cache_free(struct svc_match_cache *c)
{
    if (!c)
        return;
    log_debug("scan", "match cache: %zu hits, %zu misses", c->hits, c->misses);
    free(c->slots);
    arena_release(&c->a);
    free(c);
}

static uint64_t key_hash(const char *k)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ULL;
    return h;
}

static struct cache_entry *cache_slot(struct svc_match_cache *c, const char *key)
{
    size_t i = (size_t)key_hash(key) & (c->cap - 1);
    while (c->slots[i].key && strcmp(c->slots[i].key, key) != 0)
        i = (i + 1) & (c->cap - 1);
    return &c->slots[i];
}

static void cache_put(struct svc_match_cache *c, const char *key, struct finding *f, size_t n)
{
    if ((c->used + 1) * 2 > c->cap) {
        struct cache_entry *old = c->slots;
        size_t oldcap = c->cap;
        c->cap *= 2;
        c->slots = xcalloc(c->cap, sizeof(*c->slots));
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].key)
                *cache_slot(c, old[i].key) = old[i];
        free(old);
    }
    struct cache_entry *e = cache_slot(c, key);
    if (!e->key)
        c->used++;
    e->key = key;
    e->f = f;
    e->n = n;
}

/* What the matcher's result depends on besides the ecosystem: every name and version field
 * its per-family rules read. */
static char *match_key(struct arena *a, const char *eco, const struct pkg *p)
{
    const char *parts[] = { eco, p->name, p->version, p->src_name ? p->src_name : "",
                            p->src_version ? p->src_version : "" };
    size_t len = 0;
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
        len += strlen(parts[i]) + 1;
    char *k = arena_alloc(a, len), *w = k;
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
        size_t n = strlen(parts[i]);
        memcpy(w, parts[i], n);
        w[n] = '\x1f';
        w += n + 1;
    }
    w[-1] = '\0';
    return k;
}

static void push_found(struct svc_matched *out, const struct finding *f, const struct pkg *p,
                       uint32_t idx)
{
    struct finding c = *f;
    c.pkg = p;
    VEC_PUSH(&out->fl.items, c);
    VEC_PUSH(&out->idx, idx);
}

/* Match pkgs[map[0..n)] of inv against eco: copies into one array (what vulndb_match takes),
 * then the findings are pointed back at the inventory's packages. With a cache, packages
 * already looked up (same ecosystem, names and versions) take the stored findings, in the
 * same order vulndb_match gives them (by package, then severity and id). */
static int match_run(struct vulndb *vdb, const struct inventory *inv, const char *eco,
                     const uint32_t *map, size_t n, struct svc_match_cache *cache, struct arena *a,
                     struct svc_matched *out, struct diag *d)
{
    if (!n)
        return 0;
    const struct pkg *all = inv->pkgs.items.v;
    struct match_opts mo = { .ignore_unfixed = false,
                             .min_severity = SEV_UNDEFINED,
                             .include_unimportant = false };
    struct pkg *tmp = xmalloc(n * sizeof(*tmp));
    size_t nt = 0;
    int rc = 0;
    if (!cache) {
        for (size_t i = 0; i < n; i++)
            tmp[i] = all[map[i]];
        size_t before = out->fl.items.n;
        rc = vulndb_match(vdb, eco, tmp, n, &mo, a, &out->fl, d);
        for (size_t i = before; rc == 0 && i < out->fl.items.n; i++) {
            struct finding *f = &out->fl.items.v[i];
            size_t j = (size_t)(f->pkg - tmp);
            BUG_ON(j >= n);
            f->pkg = &all[map[j]];
            VEC_PUSH(&out->idx, map[j]);
        }
        free(tmp);
        return rc;
    }
    const char **keys = xmalloc(n * sizeof(*keys));
    for (size_t i = 0; i < n; i++) {
        keys[i] = match_key(&cache->a, eco, &all[map[i]]);
        if (!cache_slot(cache, keys[i])->key)
            tmp[nt++] = all[map[i]];
    }
    if (nt) {
        struct finding_list fl = { VEC_INIT };
        cache->misses += nt;
        rc = vulndb_match(vdb, eco, tmp, nt, &mo, &cache->a, &fl, d);
        /* one cache entry per package, its findings in the matcher's order */
        size_t *cnt = xcalloc(nt + 1, sizeof(*cnt));
        for (size_t k = 0; rc == 0 && k < fl.items.n; k++) {
            size_t j = (size_t)(fl.items.v[k].pkg - tmp);
            BUG_ON(j >= nt);
            cnt[j]++;
        }
        for (size_t j = 0; rc == 0 && j < nt; j++) {
            struct finding *copy = cnt[j] ? arena_alloc(&cache->a, cnt[j] * sizeof(*copy)) : NULL;
            size_t w = 0;
            for (size_t k = 0; k < fl.items.n && w < cnt[j]; k++)
                if (fl.items.v[k].pkg == &tmp[j]) {
                    copy[w] = fl.items.v[k];
                    copy[w++].pkg = NULL;
                }
            cache_put(cache, match_key(&cache->a, eco, &tmp[j]), copy, cnt[j]);
        }
        free(cnt);
        VEC_FREE(&fl.items);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct cache_entry *e = cache_slot(cache, keys[i]);
        BUG_ON(!e->key);
        for (size_t m = 0; m < e->n; m++)
            push_found(out, &e->f[m], &all[map[i]], map[i]);
    }
    cache->hits += n - nt;
    free(keys);
    free(tmp);
    return rc;
}

/* By type, name, version, then path: of equal (type, name, version) the lowest path is kept,
 * as `vigil scan` keeps it. */
struct sort_ctx {
    const struct inventory *inv;
    const struct svc_matched *mt;
};

static int cmp_lang_idx(const void *x, const void *y, void *ctx)
{
    const struct inventory *inv = ((const struct sort_ctx *)ctx)->inv;
    const struct pkg *a = &inv->pkgs.items.v[*(const uint32_t *)x];
    const struct pkg *b = &inv->pkgs.items.v[*(const uint32_t *)y];
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    int c = strcmp(a->name, b->name);
    if (c)
        return c;
    c = strcmp(a->version, b->version);
    return c ? c : strcmp(a->db_path, b->db_path);
}

int svc_match(struct vulndb *vdb, const struct inventory *inv, enum scan_type type,
              const unsigned char *subset, struct svc_match_cache *cache, struct arena *a,
              struct svc_matched *out, struct diag *d)
{
    memset(out, 0, sizeof(*out));
    const struct pkg *all = inv->pkgs.items.v;
    size_t n = inv->pkgs.items.n, n_os = 0;
    /* OS packages come first in an inventory, then language packages */
    while (n_os < n && !pkg_type_is_lang(all[n_os].type))
        n_os++;
    uint32_t *map = xmalloc((n ? n : 1) * sizeof(*map));
    size_t m = 0;
    int rc = 0;
    const char *eco = svc_os_ecosystem(inv, a);
    if (eco) {
        for (size_t i = 0; i < n_os; i++)
            if (!subset || subset[i])
                map[m++] = (uint32_t)i;
        rc = match_run(vdb, inv, eco, map, m, cache, a, out, d);
    }
    if (rc || type != SCAN_TYPE_ENHANCED)
        goto out;
    m = 0;
    for (size_t i = n_os; i < n; i++)
        if (!subset || subset[i])
            map[m++] = (uint32_t)i;
    struct sort_ctx sc = { inv, NULL };
    qsort_r(map, m, sizeof(*map), cmp_lang_idx, &sc);
    size_t w = 0;
    for (size_t i = 0; i < m; i++) {
        const struct pkg *p = &all[map[i]];
        if (w) {
            const struct pkg *q = &all[map[w - 1]];
            if (p->type == q->type && strcmp(p->name, q->name) == 0 &&
                strcmp(p->version, q->version) == 0)
                continue;
        }
        map[w++] = map[i];
    }
    for (size_t i = 0; i < w && !rc;) {
        size_t j = i;
        while (j < w && all[map[j]].type == all[map[i]].type)
            j++;
        const char *leco = lang_ecosystem(all[map[i]].type);
        if (leco)
            rc = match_run(vdb, inv, leco, map + i, j - i, cache, a, out, d);
        i = j;
    }
out:
    free(map);
    if (rc)
        svc_matched_release(out);
    return rc;
}

const char *svc_pkg_pair(const struct pkg *p, const char *os_eco, enum scan_type type, char *buf,
                         size_t n, const char **eco)
{
    const char *name = p->name;
    enum eco_family fam;
    if (pkg_type_is_lang(p->type)) {
        if (type != SCAN_TYPE_ENHANCED)
            return NULL;
        *eco = lang_ecosystem(p->type);
        if (!*eco)
            return NULL;
        fam = eco_family_of(*eco);
    } else {
        if (!os_eco)
            return NULL;
        *eco = os_eco;
        fam = eco_family_of(os_eco);
        if ((fam == ECO_DEBIAN || fam == ECO_ALPINE) && p->src_name && *p->src_name)
            name = p->src_name;
    }
    if (!name || !*name)
        return NULL;
    return eco_package_name(fam, name, buf, n);
}

/* ---- groups ---- */

static int cmp_member(const void *x, const void *y)
{
    const struct svc_member *a = x, *b = y;
    if (a->pkg != b->pkg)
        return a->pkg < b->pkg ? -1 : 1;
    int c = strcmp(a->fixed, b->fixed);
    return c ? c : memcmp(a->vhash, b->vhash, SVC_HASH_LEN);
}

void svc_group_finish(struct svc_group *g, struct arena *a)
{
    (void)a;
    qsort(g->m, g->n, sizeof(*g->m), cmp_member);
    size_t fixed = 0;
    g->severity = SEV_UNDEFINED;
    for (size_t i = 0; i < g->n; i++) {
        if (g->m[i].severity > g->severity)
            g->severity = g->m[i].severity;
        fixed += g->m[i].fixed[0] != '\0';
    }
    g->fix = fixed == g->n ? "YES" : fixed == 0 ? "NO" : "PARTIAL";
    /* what an "updated" finding means: anything a consumer sees changed */
    struct sha256 h;
    unsigned char raw[SHA256_LEN];
    sha256_init(&h);
    sha256_update(&h, g->key, strlen(g->key) + 1);
    unsigned char sev = (unsigned char)g->severity;
    sha256_update(&h, &sev, 1);
    for (size_t i = 0; i < g->n; i++) {
        unsigned char pk[5] = { (unsigned char)g->m[i].pkg, (unsigned char)(g->m[i].pkg >> 8),
                                (unsigned char)(g->m[i].pkg >> 16),
                                (unsigned char)(g->m[i].pkg >> 24),
                                (unsigned char)g->m[i].severity };
        sha256_update(&h, pk, sizeof(pk));
        sha256_update(&h, g->m[i].vhash, SVC_HASH_LEN);
        sha256_update(&h, g->m[i].fixed, strlen(g->m[i].fixed) + 1);
    }
    sha256_final(&h, raw);
    memcpy(g->chash, raw, SVC_HASH_LEN);
}

static int cmp_by_id(const void *x, const void *y, void *ctx)
{
    const struct svc_matched *mt = ((const struct sort_ctx *)ctx)->mt;
    const struct finding *a = &mt->fl.items.v[*(const size_t *)x];
    const struct finding *b = &mt->fl.items.v[*(const size_t *)y];
    int c = strcmp(a->id, b->id);
    if (c)
        return c;
    return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

void svc_groups_build(const struct svc_matched *mt, enum scan_type type, struct arena *a,
                      svc_groups *out)
{
    size_t n = mt->fl.items.n;
    struct svc_member *mem = arena_zalloc(a, (n ? n : 1) * sizeof(*mem));
    struct buf b;
    buf_init(&b, 64u << 20);
    for (size_t i = 0; i < n; i++) {
        const struct finding *f = &mt->fl.items.v[i];
        buf_reset(&b);
        if (svc_vuln_encode(f, &b) != 0)
            log_warn("scan", "finding %s: record too large", f->id);
        char *rec = arena_alloc(a, b.len ? b.len : 1);
        memcpy(rec, b.data ? b.data : "", b.len);
        svc_vuln_hash(&b, mem[i].vhash);
        mem[i].pkg = mt->idx.v[i];
        mem[i].severity = f->severity;
        mem[i].fixed = f->fixed_version ? f->fixed_version : "";
        mem[i].f = f;
        mem[i].rec = rec;
        mem[i].rec_len = b.len;
    }
    buf_release(&b);
    if (type == SCAN_TYPE_BASIC) {
        for (size_t i = 0; i < n; i++) {
            const struct finding *f = &mt->fl.items.v[i];
            char num[16];
            snprintf(num, sizeof(num), "%u", mem[i].pkg);
            size_t len =
                strlen(f->id) + strlen(f->pkg->name) + strlen(f->pkg->version) + strlen(num) + 4;
            char *key = arena_alloc(a, len);
            snprintf(key, len, "%s\x1f%s\x1f%s\x1f%s", f->id, f->pkg->name, f->pkg->version, num);
            struct svc_group g = { key, f->id, SEV_UNDEFINED, "NO", { 0 }, &mem[i], 1 };
            svc_group_finish(&g, a);
            VEC_PUSH(out, g);
        }
        return;
    }
    /* enhanced: one group per vulnerability id */
    size_t *order = xmalloc((n ? n : 1) * sizeof(*order));
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    struct sort_ctx sc = { NULL, mt };
    qsort_r(order, n, sizeof(*order), cmp_by_id, &sc);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        const char *id = mt->fl.items.v[order[i]].id;
        while (j < n && strcmp(mt->fl.items.v[order[j]].id, id) == 0)
            j++;
        struct svc_group g = { id, id, SEV_UNDEFINED, "NO", { 0 }, NULL, j - i };
        g.m = arena_alloc(a, g.n * sizeof(*g.m));
        for (size_t k = i; k < j; k++)
            g.m[k - i] = mem[order[k]];
        svc_group_finish(&g, a);
        VEC_PUSH(out, g);
        i = j;
    }
    free(order);
}

/* ---- records ---- */

void svc_records_release(struct svc_records *r)
{
    VEC_FREE(&r->v);
}

int svc_records_resolve(struct svc_records *r, struct meta_conn *c, struct svc_member *m, size_t n,
                        struct diag *d)
{
    for (size_t i = 0; i < n; i++) {
        if (m[i].f)
            continue;
        for (size_t k = 0; k < r->v.n; k++)
            if (memcmp(r->v.v[k].h, m[i].vhash, SVC_HASH_LEN) == 0) {
                m[i].f = r->v.v[k].f;
                break;
            }
        if (m[i].f)
            continue;
        sqlite3_stmt *st;
        int rc = meta_stmt(c, "SELECT data FROM scan_vulns WHERE hash = ?1", &st);
        if (rc)
            return diag_set(d, rc, 0, "cannot read vulnerability records");
        meta_bind_blob(st, 1, m[i].vhash, SVC_HASH_LEN);
        int step = sqlite3_step(st);
        if (step != SQLITE_ROW) {
            rc = step == SQLITE_DONE ? -ERR_CORRUPT : meta_err(c, step, "reading a record");
            meta_done(st);
            return diag_set(d, rc, 0, "a finding refers to a missing vulnerability record");
        }
        struct finding *f = arena_zalloc(r->a, sizeof(*f));
        struct str data = str_make(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        rc = svc_vuln_decode(data, r->a, f, d);
        meta_done(st);
        if (rc)
            return rc;
        struct svc_rec_slot slot;
        memcpy(slot.h, m[i].vhash, SVC_HASH_LEN);
        slot.f = f;
        VEC_PUSH(&r->v, slot);
        m[i].f = f;
    }
    return 0;
}

/* ---- JSON through the report writer ---- */

json_t *svc_finding_json(const struct scan_service *svc, const struct svc_image *img,
                         const struct svc_member *m, size_t n, int status, int64_t first,
                         int64_t last, int64_t updated)
{
    const struct inventory *inv = img->inv;
    bool enhanced = img->type == SCAN_TYPE_ENHANCED;
    struct finding_list fl = { VEC_INIT };
    for (size_t i = 0; i < n; i++) {
        if (!m[i].f || m[i].pkg >= inv->pkgs.items.n) {
            VEC_FREE(&fl.items);
            log_error("scan", "%s@%s: a finding names package %u of %zu", img->repo, img->digest,
                      m[i].pkg, inv->pkgs.items.n);
            return NULL;
        }
        struct finding f = *m[i].f;
        f.pkg = &inv->pkgs.items.v[m[i].pkg];
        f.fixed_version = m[i].fixed;
        VEC_PUSH(&fl.items, f);
    }
    struct scan_result r = {
        .inv = inv,
        .findings = &fl,
        .completed_at = (time_t)updated,
        .account_id = svc->account,
        .region = svc->region,
        .repository = img->repo,
        .tag = img->ntags ? img->tags[0] : "",
    };
    char *mem = NULL;
    size_t len = 0;
    json_t *el = NULL;
    FILE *f = open_memstream(&mem, &len);
    if (!f) {
        VEC_FREE(&fl.items);
        return NULL;
    }
    int rc = report_write_scan(f, enhanced ? REPORT_ENHANCED_JSON : REPORT_JSON, &r, NULL);
    if (fclose(f) != 0)
        rc = -EIO;
    VEC_FREE(&fl.items);
    if (rc == 0) {
        json_error_t je;
        json_t *root = json_loadb(mem, len, 0, &je);
        json_t *arr = json_object_get(json_object_get(root, "imageScanFindings"),
                                      enhanced ? "enhancedFindings" : "findings");
        el = json_array_get(arr, 0);
        json_incref(el);
        json_decref(root);
    }
    free(mem);
    if (!el) {
        log_error("scan", "%s@%s: cannot render a finding", img->repo, img->digest);
        return NULL;
    }
    if (enhanced) {
        json_object_set_new(el, "firstObservedAt", json_integer(first));
        json_object_set_new(el, "lastObservedAt", json_integer(last));
        json_object_set_new(el, "updatedAt", json_integer(updated));
        json_object_set_new(el, "status", json_string(status == SVC_CLOSED ? "CLOSED" : "ACTIVE"));
    }
    return el;
}

/* ---- writing findings ---- */

struct stored {
    const char *key;
    int status;
    int64_t first, last, updated;
    unsigned char chash[SVC_HASH_LEN];
    struct svc_member *m;
    size_t n;
    bool in_scope, seen;
};

static int cmp_stored(const void *x, const void *y)
{
    return strcmp(((const struct stored *)x)->key, ((const struct stored *)y)->key);
}

static struct stored *find_stored(struct stored *v, size_t n, const char *key)
{
    struct stored probe = { .key = key };
    return n ? bsearch(&probe, v, n, sizeof(*v), cmp_stored) : NULL;
}

typedef VEC(struct stored) stored_vec;

static int load_stored(struct meta_conn *c, int64_t result_id, struct arena *a, stored_vec *out,
                       struct diag *d)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c,
                       "SELECT fkey, status, first_at, last_at, updated_at, chash, members"
                       " FROM scan_findings WHERE result_id = ?1",
                       &st);
    if (rc)
        return diag_set(d, rc, 0, "cannot read findings");
    meta_bind_int(st, 1, result_id);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct stored s = { 0 };
        s.key = arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
        s.status = sqlite3_column_int(st, 1);
        s.first = sqlite3_column_int64(st, 2);
        s.last = sqlite3_column_int64(st, 3);
        s.updated = sqlite3_column_int64(st, 4);
        if (sqlite3_column_bytes(st, 5) == SVC_HASH_LEN)
            memcpy(s.chash, sqlite3_column_blob(st, 5), SVC_HASH_LEN);
        struct str mb = str_make(sqlite3_column_blob(st, 6), (size_t)sqlite3_column_bytes(st, 6));
        rc = svc_members_decode(mb, a, &s.m, &s.n, d);
        if (rc)
            break;
        VEC_PUSH(out, s);
    }
    meta_done(st);
    if (!rc && step != SQLITE_DONE)
        rc = diag_set(d, meta_err(c, step, "reading findings"), 0, "cannot read findings");
    if (!rc && out->n)
        qsort(out->v, out->n, sizeof(*out->v), cmp_stored);
    return rc;
}

static int store_records(struct meta_conn *c, const struct svc_group *g)
{
    for (size_t i = 0; i < g->n; i++) {
        if (!g->m[i].rec)
            continue;
        sqlite3_stmt *st;
        int rc = meta_stmt(c,
                           "INSERT OR IGNORE INTO scan_vulns (hash, vuln_id, data)"
                           " VALUES (?1, ?2, ?3)",
                           &st);
        if (rc)
            return rc;
        meta_bind_blob(st, 1, g->m[i].vhash, SVC_HASH_LEN);
        meta_bind_text(st, 2, g->vuln_id);
        meta_bind_blob(st, 3, g->m[i].rec, g->m[i].rec_len);
        rc = meta_step_done(c, st);
        if (rc)
            return rc;
    }
    return 0;
}

static int upsert_row(struct meta_conn *c, int64_t result_id, const struct svc_group *g,
                      int64_t first, int64_t last, int64_t updated)
{
    struct buf mb;
    buf_init(&mb, 64u << 20);
    int rc = svc_members_encode(g->m, g->n, &mb);
    sqlite3_stmt *st;
    if (!rc)
        rc = meta_stmt(c,
                       "INSERT INTO scan_findings (result_id, fkey, vuln_id, severity, status,"
                       " fix, first_at, last_at, updated_at, chash, members)"
                       " VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7, ?8, ?9, ?10)"
                       " ON CONFLICT (result_id, fkey) DO UPDATE SET vuln_id = excluded.vuln_id,"
                       " severity = excluded.severity, status = 0, fix = excluded.fix,"
                       " first_at = excluded.first_at, last_at = excluded.last_at,"
                       " updated_at = excluded.updated_at, chash = excluded.chash,"
                       " members = excluded.members",
                       &st);
    if (!rc) {
        meta_bind_int(st, 1, result_id);
        meta_bind_text(st, 2, g->key);
        meta_bind_text(st, 3, g->vuln_id);
        meta_bind_int(st, 4, g->severity);
        meta_bind_text(st, 5, g->fix);
        meta_bind_int(st, 6, first);
        meta_bind_int(st, 7, last);
        meta_bind_int(st, 8, updated);
        meta_bind_blob(st, 9, g->chash, SVC_HASH_LEN);
        meta_bind_blob(st, 10, mb.data, mb.len);
        rc = meta_step_done(c, st);
    }
    buf_release(&mb);
    return rc;
}

static int finding_event(struct scan_service *svc, struct meta_conn *c, const struct svc_image *img,
                         struct svc_records *recs, enum scan_event_kind kind, const char *vuln_id,
                         enum severity sev, struct svc_member *m, size_t n, int status,
                         int64_t first, int64_t last, int64_t updated, bool rescan, struct diag *d)
{
    if (!svc->cfg.on_event || img->type != SCAN_TYPE_ENHANCED)
        return 0;
    int rc = svc_records_resolve(recs, c, m, n, d);
    if (rc)
        return rc;
    json_t *j = svc_finding_json(svc, img, m, n, status, first, last, updated);
    if (!j)
        return diag_set(d, -ERR_INTERNAL, 0, "cannot render finding %s", vuln_id);
    struct scan_event ev = {
        .kind = kind,
        .scan_type = img->type,
        .repo = img->repo,
        .repo_id = img->repo_id,
        .digest = img->digest,
        .tags = img->tags,
        .ntags = img->ntags,
        .at = updated,
        .rescan = rescan,
        .finding_arn = json_string_value(json_object_get(j, "findingArn")),
        .vulnerability_id = vuln_id,
        .severity = sev,
        .finding = j,
    };
    rc = svc->cfg.on_event(svc->cfg.event_ctx, c, &ev);
    json_decref(j);
    if (rc)
        return diag_set(d, rc, 0, "the event callback refused a finding event (%s)", err_str(rc));
    return 0;
}

static int update_counts(struct meta_conn *c, int64_t result_id)
{
    unsigned counts[SEV_COUNT] = { 0 };
    sqlite3_stmt *st;
    int rc = meta_stmt(c,
                       "SELECT severity, COUNT(*) FROM scan_findings"
                       " WHERE result_id = ?1 AND status = 0 GROUP BY severity",
                       &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, result_id);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int s = sqlite3_column_int(st, 0);
        if (s >= 0 && s < SEV_COUNT)
            counts[s] = (unsigned)sqlite3_column_int64(st, 1);
    }
    meta_done(st);
    if (step != SQLITE_DONE)
        return meta_err(c, step, "counting findings");
    rc = meta_stmt(c,
                   "UPDATE scan_results SET n_critical = ?2, n_high = ?3, n_medium = ?4,"
                   " n_low = ?5, n_informational = ?6, n_undefined = ?7 WHERE id = ?1",
                   &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, result_id);
    meta_bind_int(st, 2, counts[SEV_CRITICAL]);
    meta_bind_int(st, 3, counts[SEV_HIGH]);
    meta_bind_int(st, 4, counts[SEV_MEDIUM]);
    meta_bind_int(st, 5, counts[SEV_LOW]);
    meta_bind_int(st, 6, counts[SEV_INFORMATIONAL]);
    meta_bind_int(st, 7, counts[SEV_UNDEFINED]);
    return meta_step_done(c, st);
}

static bool touches(const struct svc_member *m, size_t n, const unsigned char *subset, size_t npkgs)
{
    for (size_t i = 0; i < n; i++)
        if (m[i].pkg < npkgs && subset[m[i].pkg])
            return true;
    return false;
}

static struct svc_group *find_group(svc_groups *g, const char *key)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->v[i].key, key) == 0)
            return &g->v[i];
    return NULL;
}

/* Rescans of a subset: stored members whose package was not re-matched stay in their group. */
static void merge_untouched(svc_groups *groups, struct stored *sv, size_t ns,
                            const unsigned char *subset, size_t npkgs, struct arena *a)
{
    for (size_t i = 0; i < ns; i++) {
        struct stored *s = &sv[i];
        if (!s->in_scope || s->status != SVC_ACTIVE)
            continue;
        size_t keep = 0;
        for (size_t k = 0; k < s->n; k++)
            keep += !(s->m[k].pkg < npkgs && subset[s->m[k].pkg]);
        if (!keep)
            continue;
        struct svc_group *g = find_group(groups, s->key);
        if (!g) {
            struct svc_group ng = { s->key, s->key, SEV_UNDEFINED, "NO", { 0 }, NULL, 0 };
            VEC_PUSH(groups, ng);
            g = &groups->v[groups->n - 1];
        }
        struct svc_member *m = arena_alloc(a, (g->n + keep) * sizeof(*m));
        memcpy(m, g->m, g->n * sizeof(*m));
        size_t w = g->n;
        for (size_t k = 0; k < s->n; k++)
            if (!(s->m[k].pkg < npkgs && subset[s->m[k].pkg]))
                m[w++] = s->m[k];
        g->m = m;
        g->n = w;
        svc_group_finish(g, a);
    }
}

int svc_apply(struct scan_service *svc, struct meta_conn *c, const struct svc_image *img,
              svc_groups *groups, const unsigned char *subset, bool rescan, int64_t now,
              struct arena *a, struct svc_apply_stats *st, struct diag *d)
{
    stored_vec sv = VEC_INIT;
    struct svc_records recs = { a, VEC_INIT };
    size_t npkgs = img->inv->pkgs.items.n;
    bool enhanced = img->type == SCAN_TYPE_ENHANCED;
    int rc = load_stored(c, img->result_id, a, &sv, d);
    if (rc)
        goto out;
    for (size_t i = 0; i < sv.n; i++)
        sv.v[i].in_scope = !subset || touches(sv.v[i].m, sv.v[i].n, subset, npkgs);
    if (subset)
        merge_untouched(groups, sv.v, sv.n, subset, npkgs, a);
    for (size_t i = 0; i < groups->n && !rc; i++) {
        struct svc_group *g = &groups->v[i];
        struct stored *s = find_stored(sv.v, sv.n, g->key);
        enum scan_event_kind kind = 0;
        int64_t first = now;
        if (s) {
            s->seen = s->in_scope = true;
            if (s->status == SVC_ACTIVE && memcmp(s->chash, g->chash, SVC_HASH_LEN) == 0) {
                /* unchanged: observed again (a full evaluation dates them all at once below) */
                if (!subset)
                    continue;
                sqlite3_stmt *u;
                rc = meta_stmt(c,
                               "UPDATE scan_findings SET last_at = ?3"
                               " WHERE result_id = ?1 AND fkey = ?2",
                               &u);
                if (!rc) {
                    meta_bind_int(u, 1, img->result_id);
                    meta_bind_text(u, 2, g->key);
                    meta_bind_int(u, 3, now);
                    rc = meta_step_done(c, u);
                }
                continue;
            }
            if (s->status == SVC_ACTIVE) {
                kind = SCAN_EVENT_FINDING_UPDATED;
                first = s->first;
            } else {
                kind = SCAN_EVENT_FINDING_CREATED; /* it is back */
            }
        } else {
            kind = SCAN_EVENT_FINDING_CREATED;
        }
        rc = store_records(c, g);
        if (!rc)
            rc = upsert_row(c, img->result_id, g, first, now, now);
        if (!rc && enhanced)
            rc = finding_event(svc, c, img, &recs, kind, g->vuln_id, g->severity, g->m, g->n,
                               SVC_ACTIVE, first, now, now, rescan, d);
        else if (rc)
            diag_set(d, rc, 0, "cannot store finding %s", g->vuln_id);
        if (!rc && st) {
            if (kind == SCAN_EVENT_FINDING_UPDATED)
                st->updated++;
            else
                st->created++;
        }
    }
    for (size_t i = 0; i < sv.n && !rc; i++) {
        struct stored *s = &sv.v[i];
        if (!s->in_scope || s->seen || s->status != SVC_ACTIVE)
            continue;
        sqlite3_stmt *u;
        if (!enhanced) {
            rc = meta_stmt(c, "DELETE FROM scan_findings WHERE result_id = ?1 AND fkey = ?2", &u);
            if (!rc) {
                meta_bind_int(u, 1, img->result_id);
                meta_bind_text(u, 2, s->key);
                rc = meta_step_done(c, u);
            }
            continue;
        }
        rc = meta_stmt(c,
                       "UPDATE scan_findings SET status = 1, updated_at = ?3"
                       " WHERE result_id = ?1 AND fkey = ?2",
                       &u);
        if (!rc) {
            meta_bind_int(u, 1, img->result_id);
            meta_bind_text(u, 2, s->key);
            meta_bind_int(u, 3, now);
            rc = meta_step_done(c, u);
        }
        enum severity sev = SEV_UNDEFINED;
        for (size_t k = 0; k < s->n; k++)
            if (s->m[k].severity > sev)
                sev = s->m[k].severity;
        if (!rc)
            rc = finding_event(svc, c, img, &recs, SCAN_EVENT_FINDING_CLOSED, s->key, sev, s->m,
                               s->n, SVC_CLOSED, s->first, s->last, now, rescan, d);
        if (!rc && st)
            st->closed++;
    }
    if (!rc && !subset) {
        sqlite3_stmt *u;
        rc = meta_stmt(c,
                       "UPDATE scan_findings SET last_at = ?2 WHERE result_id = ?1 AND status = 0"
                       " AND last_at < ?2",
                       &u);
        if (!rc) {
            meta_bind_int(u, 1, img->result_id);
            meta_bind_int(u, 2, now);
            rc = meta_step_done(c, u);
        }
    }
    if (!rc)
        rc = update_counts(c, img->result_id);
    if (rc && !d->msg[0])
        diag_set(d, rc, 0, "cannot store findings: %s", err_str(rc));
out:
    VEC_FREE(&sv);
    svc_records_release(&recs);
    return rc;
}

/* ---- package index ---- */

static int cmp_cstr(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

int svc_index_write(struct meta_conn *c, int64_t result_id, const struct inventory *inv,
                    enum scan_type type)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c, "DELETE FROM scan_pkg_index WHERE result_id = ?1", &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, result_id);
    rc = meta_step_done(c, st);
    if (rc || type != SCAN_TYPE_ENHANCED)
        return rc;
    struct arena a;
    arena_init(&a);
    const char *os_eco = svc_os_ecosystem(inv, &a);
    size_t n = inv->pkgs.items.n, m = 0;
    const char **keys = xmalloc((n ? n : 1) * sizeof(*keys));
    for (size_t i = 0; i < n; i++) {
        char buf[512];
        const char *eco = NULL;
        const char *name =
            svc_pkg_pair(&inv->pkgs.items.v[i], os_eco, type, buf, sizeof(buf), &eco);
        if (!name)
            continue;
        /* "eco \x1f name": one sort removes the duplicates (binary packages of one source) */
        keys[m++] = svc_join(&a, eco, strlen(eco), name);
    }
    qsort(keys, m, sizeof(*keys), cmp_cstr);
    for (size_t i = 0; i < m && !rc; i++) {
        if (i && strcmp(keys[i], keys[i - 1]) == 0)
            continue;
        const char *sep = strchr(keys[i], '\x1f');
        rc = meta_stmt(c,
                       "INSERT OR IGNORE INTO scan_pkg_index (eco, name, result_id)"
                       " VALUES (?1, ?2, ?3)",
                       &st);
        if (rc)
            break;
        sqlite3_bind_text(st, 1, keys[i], (int)(sep - keys[i]), SQLITE_TRANSIENT);
        meta_bind_text(st, 2, sep + 1);
        meta_bind_int(st, 3, result_id);
        rc = meta_step_done(c, st);
    }
    free(keys);
    arena_release(&a);
    return rc;
}

/* ---- record garbage ---- */

static int cmp_hash(const void *x, const void *y)
{
    return memcmp(x, y, SVC_HASH_LEN);
}

int svc_gc_records(struct meta_conn *c, size_t *removed)
{
    struct arena a;
    arena_init(&a);
    struct buf used;
    buf_init(&used, (size_t)1 << 34);
    *removed = 0;
    sqlite3_stmt *st;
    int rc = meta_stmt(c, "SELECT members FROM scan_findings", &st);
    if (rc)
        goto out;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct svc_member *m;
        size_t n;
        struct str mb = str_make(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        if (svc_members_decode(mb, &a, &m, &n, NULL) != 0)
            continue;
        for (size_t i = 0; i < n; i++)
            buf_append(&used, m[i].vhash, SVC_HASH_LEN);
    }
    meta_done(st);
    if (step != SQLITE_DONE) {
        rc = meta_err(c, step, "listing finding members");
        goto out;
    }
    size_t nused = used.len / SVC_HASH_LEN;
    if (nused)
        qsort(used.data, nused, SVC_HASH_LEN, cmp_hash);
    VEC(unsigned char *) gone = VEC_INIT;
    rc = meta_stmt(c, "SELECT hash FROM scan_vulns", &st);
    if (rc)
        goto out;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_bytes(st, 0) != SVC_HASH_LEN)
            continue;
        const void *h = sqlite3_column_blob(st, 0);
        if (nused && bsearch(h, used.data, nused, SVC_HASH_LEN, cmp_hash))
            continue;
        unsigned char *copy = arena_alloc(&a, SVC_HASH_LEN);
        memcpy(copy, h, SVC_HASH_LEN);
        VEC_PUSH(&gone, copy);
    }
    meta_done(st);
    if (step != SQLITE_DONE)
        rc = meta_err(c, step, "listing vulnerability records");
    for (size_t i = 0; i < gone.n && !rc; i++) {
        rc = meta_stmt(c, "DELETE FROM scan_vulns WHERE hash = ?1", &st);
        if (!rc) {
            meta_bind_blob(st, 1, gone.v[i], SVC_HASH_LEN);
            rc = meta_step_done(c, st);
        }
        if (!rc)
            (*removed)++;
    }
    VEC_FREE(&gone);
out:
    buf_release(&used);
    arena_release(&a);
    return rc;
}

/* ---- vulnerability database facts ---- */

int svc_vulndb_import(struct vulndb *vdb, int64_t *id, bool *build, struct diag *d)
{
    return vulndb_last_import(vdb, id, build, d);
}

int64_t svc_vuln_source_time(const char *path)
{
    /* recorded by every import (meta newest_modified); older databases the slow way */
    static const char *const queries[] = {
        "SELECT value FROM meta WHERE key = 'newest_modified'",
        "SELECT MAX(modified) FROM advisories WHERE kind = 1",
    };
    sqlite3 *db = NULL;
    struct diag d = { 0 };
    int64_t t = 0;
    if (vdb_open(path, false, &db, &d) != 0)
        return 0;
    for (size_t q = 0; q < ARRAY_SIZE(queries) && !t; q++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, queries[q], -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
            const char *s = (const char *)sqlite3_column_text(st, 0);
            struct tm tm = { 0 };
            if (strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
                t = (int64_t)timegm(&tm);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return t;
}

/* ---- service state ---- */

int svc_state_get(struct meta_conn *c, const char *key, int64_t *value, bool *found)
{
    sqlite3_stmt *st;
    *value = 0;
    *found = false;
    int rc = meta_stmt(c, "SELECT value FROM scan_state WHERE key = ?1", &st);
    if (rc)
        return rc;
    meta_bind_text(st, 1, key);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *value = sqlite3_column_int64(st, 0);
        *found = true;
    } else if (step != SQLITE_DONE) {
        rc = meta_err(c, step, "reading scan state");
    }
    meta_done(st);
    return rc;
}

int svc_state_set(struct meta_conn *c, const char *key, int64_t value)
{
    sqlite3_stmt *st;
    int rc = meta_stmt(c,
                       "INSERT INTO scan_state (key, value) VALUES (?1, ?2)"
                       " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                       &st);
    if (rc)
        return rc;
    meta_bind_text(st, 1, key);
    meta_bind_int(st, 2, value);
    return meta_step_done(c, st);
}
