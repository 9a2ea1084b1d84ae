/* SPDX-License-Identifier: Apache-2.0 */
/* Continuous re-evaluation: after vulnerability data imports, the (ecosystem, package) pairs
 * they changed select through the package index the enhanced results of CONTINUOUS_SCAN
 * repositories holding one; each is re-matched from its stored inventory (the affected
 * packages only) and its findings created, updated or closed, in batched transactions.
 * scan_state keeps "rescan_done" (imports covered) and "rescan_target" (imports being
 * covered: a scan that matched older data than the target matches again before storing). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "scan/svc_internal.h"

#define BATCH        256 /* images per transaction */
#define CHANGES_KEPT 19  /* the database keeps the changes of its last 20 imports */
#define PAIR_KEY_MAX 600

struct pairs {
    struct arena a;
    VEC(const char *) v; /* "eco \x1f name", sorted, unique */
};

static int cmp_cstr(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The ecosystem as the inventory side names it: Red Hat data comes per product stream
 * ("Red Hat:enterprise_linux:9::appstream") and is matched by the product prefix. */
static size_t eco_len(const char *eco)
{
    size_t n = strlen(eco);
    if (strncmp(eco, "Red Hat:", 8) != 0)
        return n;
    int colons = 0;
    for (size_t i = 0; i < n; i++)
        if (eco[i] == ':' && ++colons == 3)
            return i;
    return n;
}

static int collect_pair(void *ctx, const struct vulndb_change *ch)
{
    struct pairs *p = ctx;
    if (!ch->ecosystem || !ch->package)
        return 0;
    VEC_PUSH(&p->v, svc_join(&p->a, ch->ecosystem, eco_len(ch->ecosystem), ch->package));
    return 0;
}

static void pairs_sort(struct pairs *p)
{
    if (p->v.n)
        qsort(p->v.v, p->v.n, sizeof(*p->v.v), cmp_cstr);
    size_t w = 0;
    for (size_t i = 0; i < p->v.n; i++)
        if (!w || strcmp(p->v.v[i], p->v.v[w - 1]) != 0)
            p->v.v[w++] = p->v.v[i];
    p->v.n = w;
}

static bool pairs_has(const struct pairs *p, const char *eco, const char *name)
{
    char key[PAIR_KEY_MAX];
    int n = snprintf(key, sizeof(key), "%s\x1f%s", eco, name);
    if (n < 0 || (size_t)n >= sizeof(key))
        return false;
    const char *k = key;
    return p->v.n && bsearch(&k, p->v.v, p->v.n, sizeof(*p->v.v), cmp_cstr) != NULL;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

/* Result ids to look at: those the index lists for a changed pair, or every enhanced one. */
typedef VEC(int64_t) i64_vec;

static int candidates(struct meta_conn *c, const struct pairs *p, bool full, i64_vec *out)
{
    sqlite3_stmt *st;
    int rc, step;
    if (full) {
        rc = meta_stmt(c,
                       "SELECT id FROM scan_results WHERE scan_type = 1 AND inventory IS NOT NULL"
                       " AND completed_at IS NOT NULL ORDER BY id",
                       &st);
        if (rc)
            return rc;
        while ((step = sqlite3_step(st)) == SQLITE_ROW)
            VEC_PUSH(out, sqlite3_column_int64(st, 0));
        meta_done(st);
        return step == SQLITE_DONE ? 0 : meta_err(c, step, "listing enhanced results");
    }
    for (size_t i = 0; i < p->v.n; i++) {
        const char *sep = strchr(p->v.v[i], '\x1f');
        rc = meta_stmt(c, "SELECT result_id FROM scan_pkg_index WHERE eco = ?1 AND name = ?2", &st);
        if (rc)
            return rc;
        sqlite3_bind_text(st, 1, p->v.v[i], (int)(sep - p->v.v[i]), SQLITE_TRANSIENT);
        meta_bind_text(st, 2, sep + 1);
        while ((step = sqlite3_step(st)) == SQLITE_ROW)
            VEC_PUSH(out, sqlite3_column_int64(st, 0));
        meta_done(st);
        if (step != SQLITE_DONE)
            return meta_err(c, step, "reading the package index");
    }
    if (out->n)
        qsort(out->v, out->n, sizeof(*out->v), cmp_i64);
    size_t w = 0;
    for (size_t i = 0; i < out->n; i++)
        if (!w || out->v[i] != out->v[w - 1])
            out->v[w++] = out->v[i];
    out->n = w;
    return 0;
}

/* Repositories' frequencies, computed once per rescan. */
struct repo_freq {
    int64_t id;
    enum scan_frequency f;
};

struct rescan {
    struct scan_service *svc;
    struct meta_conn *c;
    struct vulndb *vdb;
    struct scan_config cfg;
    VEC(struct repo_freq) repos;
    const struct pairs *pairs; /* NULL: every package */
    struct svc_match_cache *cache;
    int64_t import_id, now;
    struct scan_rescan_stats *st;
};

static int freq_of(struct rescan *x, int64_t repo_id, const char *name, enum scan_frequency *f)
{
    for (size_t i = 0; i < x->repos.n; i++)
        if (x->repos.v[i].id == repo_id) {
            *f = x->repos.v[i].f;
            return 0;
        }
    bool flag = false;
    int rc = scan_repo_scan_on_push_get(x->c, repo_id, &flag);
    if (rc)
        return rc;
    struct repo_freq rf = { repo_id, scan_config_frequency(&x->cfg, name, flag, NULL, NULL) };
    VEC_PUSH(&x->repos, rf);
    *f = rf.f;
    return 0;
}

static int set_status(struct meta_conn *c, int64_t id, enum scan_status s, const char *desc)
{
    sqlite3_stmt *st;
    int rc =
        meta_stmt(c, "UPDATE scan_results SET status = ?2, description = ?3 WHERE id = ?1", &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, id);
    meta_bind_int(st, 2, s);
    meta_bind_text(st, 3, desc);
    return meta_step_done(c, st);
}

/* Re-evaluate one result (inside the batch's transaction). */
static int one(struct rescan *x, int64_t id, struct diag *d)
{
    struct meta_conn *c = x->c;
    sqlite3_stmt *st;
    int rc = meta_stmt(c,
                       "SELECT r.repo_id, r.manifest_id, r.digest, r.status, r.inventory, p.name,"
                       " m.created_at FROM scan_results r"
                       " JOIN repositories p ON p.id = r.repo_id"
                       " JOIN manifests m ON m.id = r.manifest_id"
                       " WHERE r.id = ?1 AND r.scan_type = 1 AND r.inventory IS NOT NULL"
                       " AND r.completed_at IS NOT NULL",
                       &st);
    if (rc)
        return rc;
    meta_bind_int(st, 1, id);
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        meta_done(st);
        return step == SQLITE_DONE ? 0 : meta_err(c, step, "reading a result");
    }
    struct arena a;
    arena_init(&a);
    struct inventory inv;
    inventory_init(&inv);
    int64_t repo_id = sqlite3_column_int64(st, 0);
    int64_t manifest_id = sqlite3_column_int64(st, 1);
    const char *digest = arena_strdup(&a, (const char *)sqlite3_column_text(st, 2));
    int status = sqlite3_column_int(st, 3);
    struct str blob = str_make(sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4));
    const char *repo = arena_strdup(&a, (const char *)sqlite3_column_text(st, 5));
    int64_t pushed = sqlite3_column_int64(st, 6);
    rc = svc_inv_decode(blob, &inv, d);
    meta_done(st);
    unsigned char *subset = NULL;
    struct svc_matched mt = { 0 };
    svc_groups groups = VEC_INIT;
    if (rc) {
        log_warn("scan", "rescan: %s@%s: %s (skipped)", repo, digest, d->msg);
        d->msg[0] = '\0';
        rc = 0;
        goto out;
    }
    enum scan_frequency f;
    rc = freq_of(x, repo_id, repo, &f);
    if (rc || f != SCAN_FREQ_CONTINUOUS || status == SCAN_STATUS_SCAN_ELIGIBILITY_EXPIRED)
        goto out;
    x->st->images++;
    int64_t dur = x->svc->cfg.continuous_duration_s;
    if (dur > 0 && pushed + dur < x->now) {
        rc = set_status(c, id, SCAN_STATUS_SCAN_ELIGIBILITY_EXPIRED, SVC_DESC_EXPIRED);
        x->st->expired += rc == 0;
        goto out;
    }
    if (x->pairs) {
        const char *os_eco = svc_os_ecosystem(&inv, &a);
        size_t n = inv.pkgs.items.n, hits = 0;
        subset = xcalloc(n ? n : 1, 1);
        for (size_t i = 0; i < n; i++) {
            char buf[512];
            const char *eco = NULL;
            const char *name = svc_pkg_pair(&inv.pkgs.items.v[i], os_eco, SCAN_TYPE_ENHANCED, buf,
                                            sizeof(buf), &eco);
            if (name && pairs_has(x->pairs, eco, name)) {
                subset[i] = 1;
                hits++;
            }
        }
        if (!hits)
            goto out;
    }
    rc = svc_match(x->vdb, &inv, SCAN_TYPE_ENHANCED, subset, x->cache, &a, &mt, d);
    if (rc)
        goto out;
    svc_groups_build(&mt, SCAN_TYPE_ENHANCED, &a, &groups);
    const char **tags = NULL;
    size_t ntags = 0;
    rc = svc_image_tags(c, manifest_id, &a, &tags, &ntags);
    if (rc)
        goto out;
    struct svc_image img = { id,   repo_id, manifest_id, repo, digest, SCAN_TYPE_ENHANCED,
                             &inv, tags,    ntags };
    struct svc_apply_stats as = { 0 };
    rc = svc_apply(x->svc, c, &img, &groups, subset, true, x->now, &a, &as, d);
    if (rc)
        goto out;
    x->st->evaluated++;
    x->st->created += as.created;
    x->st->updated += as.updated;
    x->st->closed += as.closed;
    rc = meta_stmt(c,
                   "UPDATE scan_results SET evaluated_at = ?2, vuln_import = ?3,"
                   " status = ?4, description = ?5 WHERE id = ?1",
                   &st);
    if (!rc) {
        meta_bind_int(st, 1, id);
        meta_bind_int(st, 2, x->now);
        meta_bind_int(st, 3, x->import_id);
        /* a result scanned before its repository became continuous says so now */
        meta_bind_int(st, 4, SCAN_STATUS_ACTIVE);
        meta_bind_text(st, 5, SVC_DESC_CONTINUOUS);
        rc = meta_step_done(c, st);
    }
out:
    VEC_FREE(&groups);
    svc_matched_release(&mt);
    free(subset);
    inventory_release(&inv);
    arena_release(&a);
    return rc;
}

static int state_pair(struct meta_conn *c, int64_t done, int64_t target)
{
    int rc = meta_begin(c);
    if (rc)
        return rc;
    rc = svc_state_set(c, "rescan_done", done);
    if (!rc)
        rc = svc_state_set(c, "rescan_target", target);
    return svc_end_tx(c, rc);
}

static double since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

int scan_service_rescan(struct scan_service *svc, struct scan_rescan_stats *st, struct diag *d)
{
    struct scan_rescan_stats dummy;
    struct diag dd = { 0 };
    if (!st)
        st = &dummy;
    if (!d)
        d = &dd;
    memset(st, 0, sizeof(*st));
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_mutex_lock(&svc->rescan_lock);
    pthread_mutex_lock(&svc->lock);
    svc->rescan_running = true;
    pthread_mutex_unlock(&svc->lock);

    struct rescan x = { .svc = svc, .st = st };
    struct pairs pairs = { 0 };
    arena_init(&pairs.a);
    i64_vec cands = VEC_INIT;
    scan_config_init(&x.cfg);
    int rc = meta_conn_get(svc->cfg.db, &x.c);
    if (rc) {
        diag_set(d, rc, 0, "cannot open the metadata database");
        goto out;
    }
    rc = vulndb_open(svc->vulndb_path, &x.vdb, d);
    if (rc)
        goto out;
    int64_t last = 0, done = 0, target = 0;
    bool build = false, have_done, have_target;
    rc = svc_vulndb_import(x.vdb, &last, &build, d);
    if (!rc)
        rc = svc_state_get(x.c, "rescan_done", &done, &have_done);
    if (!rc)
        rc = svc_state_get(x.c, "rescan_target", &target, &have_target);
    if (rc)
        goto out;
    if (!have_done) {
        /* first rescan: start from the oldest data any enhanced result was matched with */
        sqlite3_stmt *q;
        rc = meta_stmt(x.c, "SELECT MIN(vuln_import) FROM scan_results WHERE scan_type = 1", &q);
        if (rc)
            goto out;
        bool any = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL;
        done = any ? sqlite3_column_int64(q, 0) : last;
        meta_done(q);
    }
    /* an interrupted rescan (target past done) is finished now */
    bool pending = have_target && target > done;
    if (last == done && !pending) {
        if (!have_done)
            rc = state_pair(x.c, done, done);
        goto out;
    }
    st->from_import = done;
    st->to_import = last;
    /* a rebuilt database (import ids start again, or a build records no pairs) and changes
     * older than the database keeps mean: everything */
    st->full = last < done || (build && last != done) || last - done > CHANGES_KEPT;
    rc = state_pair(x.c, done, last);
    if (rc)
        goto out;
    if (!st->full) {
        rc = vulndb_changes(x.vdb, done, collect_pair, &pairs, d);
        if (rc)
            goto out;
        pairs_sort(&pairs);
        st->pairs = pairs.v.n;
        x.pairs = &pairs;
    }
    rc = scan_config_load(x.c, &x.cfg);
    if (!rc)
        rc = candidates(x.c, &pairs, st->full, &cands);
    if (rc)
        goto out;
    x.import_id = last;
    x.now = svc_now(svc);
    x.cache = svc_match_cache_new();
    for (size_t i = 0; i < cands.n && !rc;) {
        rc = meta_begin(x.c);
        if (rc)
            break;
        size_t end = i + BATCH < cands.n ? i + BATCH : cands.n;
        for (; i < end && !rc; i++)
            rc = one(&x, cands.v[i], d);
        rc = svc_end_tx(x.c, rc);
    }
    if (rc)
        goto out;
    rc = meta_begin(x.c);
    size_t gone = 0;
    if (!rc)
        rc = svc_state_set(x.c, "rescan_done", last);
    if (!rc)
        rc = svc_gc_records(x.c, &gone);
    rc = svc_end_tx(x.c, rc);
    st->seconds = since(&t0);
    if (!rc)
        log_info("scan",
                 "rescan of imports %lld..%lld%s: %zu pairs, %zu images, %zu re-evaluated, "
                 "%zu created, %zu updated, %zu closed, %zu expired in %.2f s",
                 (long long)done, (long long)last, st->full ? " (full)" : "", st->pairs, st->images,
                 st->evaluated, st->created, st->updated, st->closed, st->expired, st->seconds);
out:
    if (rc && !d->msg[0])
        diag_set(d, rc, 0, "rescan failed: %s", err_str(rc));
    st->seconds = since(&t0);
    VEC_FREE(&cands);
    VEC_FREE(&pairs.v);
    VEC_FREE(&x.repos);
    svc_match_cache_free(x.cache);
    arena_release(&pairs.a);
    scan_config_release(&x.cfg);
    vulndb_close(x.vdb);
    pthread_mutex_lock(&svc->lock);
    svc->rescan_running = false;
    pthread_mutex_unlock(&svc->lock);
    pthread_mutex_unlock(&svc->rescan_lock);
    return rc;
}
