/* SPDX-License-Identifier: Apache-2.0 */
/* Driver of bench/rescan_bench.py: the scan service in-process over a data directory.
 *   rescan_bench seed DATA VULNDB LAYOUT REF REPO  push REF of the OCI layout into REPO through
 *                                                  the registry (ENHANCED continuous scanning of
 *                                                  "bench/*") and scan it
 *   rescan_bench rescan DATA VULNDB                time scan_service_rescan(); events are written
 *                                                  to a bench_outbox table, as the bus would
 *   rescan_bench push DATA VULNDB LAYOUT REF REPO  two scan workers; time from the manifest
 *                                                  PUT's return to the result's COMPLETE
 * Each prints one JSON line. Build: see bench/rescan_bench.py (links build/<variant>/libvigil.a).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "image/manifest.h"
#include "registry/registry.h"
#include "scan/service.h"
#include "store/blob_store.h"
#include "store/meta.h"

struct bench {
    struct meta_db *db;
    struct blob_store *bs;
    struct registry *reg;
    struct scan_service *svc;
    unsigned long events;
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "rescan_bench: %s: %s\n", what, msg);
    exit(1);
}

static int on_scan_event(void *ctx, struct meta_conn *c, const struct scan_event *ev)
{
    struct bench *b = ctx;
    sqlite3_stmt *st;
    char *body = ev->finding ? json_dumps(ev->finding, JSON_COMPACT) : NULL;
    int rc = meta_stmt(c, "INSERT INTO bench_outbox (kind, body) VALUES (?1, ?2)", &st);
    if (!rc) {
        meta_bind_int(st, 1, ev->kind);
        meta_bind_text(st, 2, body ? body : "");
        rc = meta_step_done(c, st);
    }
    free(body);
    b->events++;
    return rc;
}

static int on_reg_event(void *ctx, struct meta_conn *c, const struct reg_event *ev)
{
    struct bench *b = ctx;
    if (ev->action != REG_EVENT_PUSH && ev->action != REG_EVENT_DELETE)
        return 0;
    struct scan_image_event se = {
        .action = ev->action == REG_EVENT_PUSH ? SCAN_IMAGE_PUSHED : SCAN_IMAGE_DELETED,
        .repo = ev->repo,
        .repo_id = ev->repo_id,
        .manifest_id = ev->manifest_id,
        .digest = ev->digest,
        .media_type = ev->media_type,
        .subject = ev->subject,
        .artifact_type = ev->artifact_type,
        .is_new = ev->is_new,
        .at = ev->at,
    };
    return scan_service_on_push(b->svc, c, &se);
}

static void open_all(struct bench *b, const char *data, const char *vulndb, int workers)
{
    struct diag d = { 0 };
    char *path = xasprintf("%s/%s", data, META_DB_FILE);
    if (meta_open(path, NULL, &b->db, &d))
        die(path, d.msg);
    free(path);
    if (blob_store_open(data, &b->bs, &d))
        die(data, d.msg);
    struct meta_conn *c;
    if (meta_conn_get(b->db, &c) ||
        meta_exec(c, "CREATE TABLE IF NOT EXISTS bench_outbox (id INTEGER PRIMARY KEY,"
                     " kind INTEGER, body TEXT)"))
        die("outbox", "cannot create");
    struct scan_service_config sc;
    scan_service_config_init(&sc);
    sc.db = b->db;
    sc.blobs = b->bs;
    sc.vulndb_path = vulndb;
    char *cache = xasprintf("%s/layer-cache", data);
    sc.cache_dir = cache;
    sc.workers = workers;
    sc.rescan_poll_s = -1;
    sc.poll_ms = 200;
    sc.on_event = on_scan_event;
    sc.event_ctx = b;
    if (scan_service_new(&sc, &b->svc, &d))
        die("scan service", d.msg);
    free(cache);
    if (scan_service_start(b->svc))
        die("scan service", "cannot start");
    struct registry_config rc;
    registry_config_init(&rc);
    rc.db = b->db;
    rc.blobs = b->bs;
    rc.on_event = on_reg_event;
    rc.event_ctx = b;
    if (registry_new(&rc, &b->reg, &d))
        die("registry", d.msg);
}

static void close_all(struct bench *b)
{
    registry_free(b->reg);
    scan_service_free(b->svc);
    blob_store_close(b->bs);
    meta_close(b->db);
}

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path, strerror(errno));
    struct buf b;
    buf_init(&b, 1u << 31);
    char tmp[1 << 16];
    size_t got;
    while ((got = fread(tmp, 1, sizeof(tmp), f)) > 0)
        if (buf_append(&b, tmp, got))
            die(path, "too big");
    fclose(f);
    return buf_detach(&b, n);
}

/* Store a blob of the layout and link it to the repository (what a blob push does). */
static void push_blob(struct bench *b, const char *layout, const char *digest, int64_t repo_id)
{
    char *path = xasprintf("%s/blobs/sha256/%s", layout, digest + 7);
    size_t n;
    char *data = read_file(path, &n);
    free(path);
    if (blob_store_put(b->bs, data, n, digest, NULL))
        die(digest, "cannot store");
    free(data);
    struct meta_conn *c;
    sqlite3_stmt *st;
    meta_conn_get(b->db, &c);
    meta_stmt(c,
              "INSERT OR IGNORE INTO blobs (digest, size, created_at, linked_at)"
              " VALUES (?1, ?2, strftime('%s','now'), strftime('%s','now'))",
              &st);
    meta_bind_text(st, 1, digest);
    meta_bind_int(st, 2, (int64_t)n);
    meta_step_done(c, st);
    meta_stmt(c,
              "INSERT OR IGNORE INTO repo_blobs (repo_id, digest, created_at)"
              " VALUES (?1, ?2, strftime('%s','now'))",
              &st);
    meta_bind_int(st, 1, repo_id);
    meta_bind_text(st, 2, digest);
    meta_step_done(c, st);
}

/* Upload config and layers of REF, then return its manifest (not yet PUT). */
static char *prepare(struct bench *b, const char *layout, const char *ref, const char *repo,
                     size_t *mlen, char *mt)
{
    char *ip = xasprintf("%s/index.json", layout);
    json_error_t je;
    json_t *idx = json_load_file(ip, 0, &je);
    free(ip);
    const char *digest = NULL;
    json_t *m;
    size_t i;
    json_array_foreach(json_object_get(idx, "manifests"), i, m)
    {
        const char *name = json_string_value(json_object_get(json_object_get(m, "annotations"),
                                                             "org.opencontainers.image.ref.name"));
        if (name && strcmp(name, ref) == 0) {
            digest = json_string_value(json_object_get(m, "digest"));
            snprintf(mt, 128, "%s", json_string_value(json_object_get(m, "mediaType")));
        }
    }
    if (!digest)
        die(ref, "not in the layout");
    char *mp = xasprintf("%s/blobs/sha256/%s", layout, digest + 7);
    char *man = read_file(mp, mlen);
    free(mp);
    json_decref(idx);
    struct reg_repo rr;
    int rc = registry_repo_create(b->reg, repo, false, &rr);
    if (rc == -EEXIST)
        rc = registry_repo_get(b->reg, repo, &rr);
    if (rc)
        die(repo, err_str(rc));
    json_t *j = json_loadb(man, *mlen, 0, &je);
    push_blob(b, layout, json_string_value(json_object_get(json_object_get(j, "config"), "digest")),
              rr.id);
    json_array_foreach(json_object_get(j, "layers"), i, m)
        push_blob(b, layout, json_string_value(json_object_get(m, "digest")), rr.id);
    json_decref(j);
    return man;
}

static void put(struct bench *b, const char *repo, const char *mt, const char *man, size_t n,
                char *digest)
{
    struct reg_put_result res;
    struct reg_error e;
    if (registry_manifest_put(b->reg, repo, "latest", mt, man, n, &res, &e))
        die(repo, e.message);
    memcpy(digest, res.digest, DIGEST_STR_LEN + 1);
}

static void set_continuous(struct bench *b)
{
    json_t *j = json_loads("{\"scanType\":\"ENHANCED\",\"rules\":[{\"scanFrequency\":"
                           "\"CONTINUOUS_SCAN\",\"repositoryFilters\":[{\"filter\":\"bench/*\","
                           "\"filterType\":\"WILDCARD\"}]}]}",
                           0, NULL);
    struct scan_config cfg;
    struct diag d = { 0 };
    if (scan_config_from_json(j, &cfg, &d) || scan_service_put_config(b->svc, &cfg))
        die("config", d.msg);
    scan_config_release(&cfg);
    json_decref(j);
}

int main(int argc, char **argv)
{
    struct bench b = { 0 };
    log_set_level(LOG_ERROR);
    if (argc >= 7 && strcmp(argv[1], "seed") == 0) {
        open_all(&b, argv[2], argv[3], -1);
        set_continuous(&b);
        char mt[128], dg[DIGEST_STR_LEN + 1];
        size_t n;
        char *man = prepare(&b, argv[4], argv[5], argv[6], &n, mt);
        put(&b, argv[6], mt, man, n, dg);
        free(man);
        size_t ran;
        double t0 = now_s();
        if (scan_service_run_pending(b.svc, 0, &ran))
            die("scan", "failed");
        struct scan_summary sum;
        if (scan_service_summary(b.svc, argv[6], dg, &sum))
            die("summary", "no result");
        printf("{\"digest\":\"%s\",\"status\":\"%s\",\"findings\":%zu,\"seconds\":%.3f}\n", dg,
               scan_status_name(sum.status), sum.nfindings, now_s() - t0);
    } else if (argc >= 4 && strcmp(argv[1], "rescan") == 0) {
        open_all(&b, argv[2], argv[3], -1);
        struct scan_rescan_stats st;
        struct diag d = { 0 };
        double t0 = now_s();
        if (scan_service_rescan(b.svc, &st, &d))
            die("rescan", d.msg);
        double cpu = (double)clock() / CLOCKS_PER_SEC;
        printf("{\"seconds\":%.3f,\"cpu_seconds\":%.3f,\"full\":%s,\"pairs\":%zu,\"images\":%zu,"
               "\"evaluated\":%zu,\"created\":%zu,\"updated\":%zu,\"closed\":%zu,"
               "\"events\":%lu}\n",
               now_s() - t0, cpu, st.full ? "true" : "false", st.pairs, st.images, st.evaluated,
               st.created, st.updated, st.closed, b.events);
    } else if (argc >= 7 && strcmp(argv[1], "push") == 0) {
        open_all(&b, argv[2], argv[3], 2);
        set_continuous(&b);
        char mt[128], dg[DIGEST_STR_LEN + 1];
        size_t n;
        char *man = prepare(&b, argv[4], argv[5], argv[6], &n, mt);
        double t0 = now_s();
        put(&b, argv[6], mt, man, n, dg);
        double acked = now_s();
        free(man);
        struct scan_summary sum = { 0 };
        for (int i = 0; i < 120000; i++) { /* bounded: 2 minutes */
            if (scan_service_summary(b.svc, argv[6], dg, &sum) == 0 &&
                (sum.status == SCAN_STATUS_ACTIVE || sum.status == SCAN_STATUS_COMPLETE ||
                 sum.status == SCAN_STATUS_FAILED))
                break;
            usleep(1000);
        }
        printf("{\"put_seconds\":%.3f,\"ack_to_complete_seconds\":%.3f,\"status\":\"%s\","
               "\"findings\":%zu}\n",
               acked - t0, now_s() - acked, scan_status_name(sum.status), sum.nfindings);
    } else {
        fprintf(stderr, "usage: rescan_bench seed|rescan|push ... (see the file comment)\n");
        return 2;
    }
    close_all(&b);
    return 0;
}
