/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the scan service (src/scan/service.h) over a real metadata database, blob
 * store and registry in a scratch directory: configuration parsing and ECR's filter rules, the
 * stored codecs, scan on push (queued per configuration, run, counts equal to `vigil scan` of
 * the same image computed through the library), restart of claimed jobs, the manual-scan
 * limit, unsupported and failed images, indexes, deletes, and continuous rescans against a
 * vulnerability database built in the test from OSV records and then changed (new advisory,
 * fix added, advisory withdrawn). Real images come from the VIGIL_TEST_IMAGES layout
 * (scripts/test-images.sh); without it those checks print a note and do not run. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "image/manifest.h"
#include "registry/registry.h"
#include "scan/inventory.h"
#include "scan/lang_scan.h"
#include "scan/report.h"
#include "scan/service.h"
#include "scan/svc_codec.h"
#include "store/blob_store.h"
#include "store/meta.h"
#include "test.h"
#include "vulndb/import.h"
#include "vulndb/match.h"

#define DEBIAN_REF "debian-vuln:bookworm-oldpkgs"
#define ALPINE_REF "alpine-synthetic:3.19.0"
#define MULTI_REF  "multiarch-synthetic:latest"
#define T0         1700000000

/* ---- vulnerability data written by the tests ---- */

/* Debian:12 and Alpine:v3.19 records that hit packages of the two real images. */
static const char *const osv_base[] = {
    /* openssl (libssl3 + openssl): fixed, rated high by Debian */
    "{\"id\":\"CVE-2099-0001\",\"modified\":\"2025-01-01T00:00:00Z\",\"published\":"
    "\"2024-12-01T00:00:00Z\",\"summary\":\"openssl test issue\",\"details\":\"A test "
    "issue in openssl.\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":"
    "\"openssl\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
    "{\"fixed\":\"3.0.17-1~deb12u3\"}]}],\"ecosystem_specific\":{\"urgency\":\"high\"}}]}",
    /* curl (curl + libcurl4): no fix yet, CVSS 9.8 */
    "{\"id\":\"CVE-2099-0002\",\"modified\":\"2025-01-01T00:00:00Z\",\"published\":"
    "\"2024-12-01T00:00:00Z\",\"summary\":\"curl test issue\",\"details\":\"A test issue in "
    "curl.\",\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/"
    "C:H/I:H/A:H\"}],\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":"
    "\"curl\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}]}]}]}",
    /* libxml2: fixed, no rating */
    "{\"id\":\"CVE-2099-0003\",\"modified\":\"2025-01-01T00:00:00Z\",\"published\":"
    "\"2024-12-01T00:00:00Z\",\"summary\":\"libxml2 test issue\",\"details\":\"A test issue "
    "in libxml2.\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":"
    "\"libxml2\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
    "{\"fixed\":\"2.9.14+dfsg-1.3~deb12u5\"}]}]}]}",
    /* Alpine openssl (libcrypto3 + libssl3) */
    "{\"id\":\"CVE-2099-1001\",\"modified\":\"2025-01-01T00:00:00Z\",\"published\":"
    "\"2024-12-01T00:00:00Z\",\"details\":\"Alpine openssl test issue.\",\"severity\":[{"
    "\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N\"}],"
    "\"affected\":[{\"package\":{\"ecosystem\":\"Alpine:v3.19\",\"name\":\"openssl\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":"
    "\"3.1.4-r5\"}]}]}]}",
};

/* The update: a new advisory (zlib), curl gets a fix, libxml2's advisory is withdrawn, and a
 * new Alpine advisory (musl). */
static const char *const osv_update[] = {
    "{\"id\":\"CVE-2099-0004\",\"modified\":\"2025-02-01T00:00:00Z\",\"published\":"
    "\"2025-02-01T00:00:00Z\",\"summary\":\"zlib test issue\",\"details\":\"A test issue in "
    "zlib.\",\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"zlib\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":"
    "\"1:1.2.13.dfsg-2\"}]}],\"ecosystem_specific\":{\"urgency\":\"medium\"}}]}",
    "{\"id\":\"CVE-2099-0002\",\"modified\":\"2025-02-01T00:00:00Z\",\"published\":"
    "\"2024-12-01T00:00:00Z\",\"summary\":\"curl test issue\",\"details\":\"A test issue in "
    "curl.\",\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/"
    "C:H/I:H/A:H\"}],\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":"
    "\"curl\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
    "{\"fixed\":\"7.88.1-10+deb12u6\"}]}]}]}",
    "{\"id\":\"CVE-2099-0003\",\"modified\":\"2025-02-01T00:00:00Z\",\"withdrawn\":"
    "\"2025-02-01T00:00:00Z\",\"published\":\"2024-12-01T00:00:00Z\",\"details\":\"Withdrawn.\","
    "\"affected\":[{\"package\":{\"ecosystem\":\"Debian:12\",\"name\":\"libxml2\"},\"ranges\":"
    "[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":"
    "\"2.9.14+dfsg-1.3~deb12u5\"}]}]}]}",
    "{\"id\":\"CVE-2099-1002\",\"modified\":\"2025-02-01T00:00:00Z\",\"published\":"
    "\"2025-02-01T00:00:00Z\",\"details\":\"Alpine musl test issue.\",\"affected\":[{"
    "\"package\":{\"ecosystem\":\"Alpine:v3.19\",\"name\":\"musl\"},\"ranges\":[{\"type\":"
    "\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"1.2.4_git20230717-r5\"}]}]"
    "}]}",
};

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ASSERT_TRUE(f != NULL);
    ASSERT_EQ(fwrite(p, 1, n, f), n);
    ASSERT_EQ(fclose(f), 0);
}

static void import_records(const char *db, const char *name, const char *const *recs, size_t n)
{
    char *path = xasprintf("%s/%s.jsonl", test_tmpdir(), name);
    struct buf b;
    buf_init(&b, 1 << 20);
    for (size_t i = 0; i < n; i++) {
        buf_append_cstr(&b, recs[i]);
        buf_putc(&b, '\n');
    }
    write_file(path, b.data, b.len);
    buf_release(&b);
    char *paths[] = { path };
    struct import_opts o = { .max_warnings = 1 };
    struct import_stats st;
    struct diag d = { 0 };
    enum log_level saved = log_threshold;
    log_set_level(LOG_ERROR);
    int rc = vulndb_import(db, paths, 1, &o, &st, &d);
    log_set_level(saved);
    if (rc)
        test_fail(__FILE__, __LINE__, "import: %s", d.msg);
    ASSERT_EQ(st.skipped, 0);
    free(path);
}

/* ---- an environment: database, blob store, registry, scan service ---- */

struct evrec {
    enum scan_event_kind kind;
    enum scan_status status;
    unsigned counts[SEV_COUNT];
    bool initial, rescan;
    char repo[64];
    char vuln[64];
    char fstatus[16];
    char fix[16];
    int64_t first, last, updated;
};

struct env {
    char *dir;
    char *vdb;
    struct meta_db *db;
    struct blob_store *bs;
    struct registry *reg;
    struct scan_service *svc;
    struct scan_service_config scfg;
    char *cache;
    int64_t now;
    VEC(struct evrec) events;
};

static int64_t env_clock(void *ctx)
{
    return ((struct env *)ctx)->now;
}

static int env_on_scan_event(void *ctx, struct meta_conn *c, const struct scan_event *ev)
{
    struct env *e = ctx;
    (void)c;
    struct evrec r = { 0 };
    r.kind = ev->kind;
    r.status = ev->status;
    memcpy(r.counts, ev->counts, sizeof(r.counts));
    r.initial = ev->initial;
    r.rescan = ev->rescan;
    snprintf(r.repo, sizeof(r.repo), "%s", ev->repo);
    if (ev->finding) {
        snprintf(r.vuln, sizeof(r.vuln), "%s", ev->vulnerability_id);
        snprintf(r.fstatus, sizeof(r.fstatus), "%s",
                 json_string_value(json_object_get(ev->finding, "status")));
        snprintf(r.fix, sizeof(r.fix), "%s",
                 json_string_value(json_object_get(ev->finding, "fixAvailable")));
        r.first = json_integer_value(json_object_get(ev->finding, "firstObservedAt"));
        r.last = json_integer_value(json_object_get(ev->finding, "lastObservedAt"));
        r.updated = json_integer_value(json_object_get(ev->finding, "updatedAt"));
        /* the ARN is Inspector's shape */
        ASSERT_TRUE(strncmp(ev->finding_arn, "arn:aws:inspector2:us-east-1:000000000000:finding/",
                            50) == 0);
    }
    VEC_PUSH(&e->events, r);
    return 0;
}

/* The server's glue: registry events -> scan service (what cmd_serve.c does). */
static int env_on_reg_event(void *ctx, struct meta_conn *c, const struct reg_event *ev)
{
    struct env *e = ctx;
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
    return scan_service_on_push(e->svc, c, &se);
}

static void env_svc_open(struct env *e)
{
    ASSERT_EQ(scan_service_new(&e->scfg, &e->svc, NULL), 0);
    ASSERT_EQ(scan_service_start(e->svc), 0);
}

/* A fresh environment; the vulnerability database gets osv_base. */
static void env_open(struct env *e, const char *tag)
{
    memset(e, 0, sizeof(*e));
    e->dir = xasprintf("%s/%s", test_tmpdir(), tag);
    ASSERT_EQ(mkdir(e->dir, 0755), 0);
    e->vdb = xasprintf("%s/vulndb.sqlite", e->dir);
    import_records(e->vdb, "base", osv_base, ARRAY_SIZE(osv_base));
    char *dbpath = xasprintf("%s/vigil.db", e->dir);
    ASSERT_EQ(meta_open(dbpath, NULL, &e->db, NULL), 0);
    free(dbpath);
    ASSERT_EQ(blob_store_open(e->dir, &e->bs, NULL), 0);
    e->now = T0;
    scan_service_config_init(&e->scfg);
    e->scfg.db = e->db;
    e->scfg.blobs = e->bs;
    e->scfg.vulndb_path = e->vdb;
    e->cache = xasprintf("%s/cache", e->dir);
    e->scfg.cache_dir = e->cache;
    e->scfg.workers = -1;
    e->scfg.rescan_poll_s = -1;
    e->scfg.on_event = env_on_scan_event;
    e->scfg.event_ctx = e;
    e->scfg.now = env_clock;
    e->scfg.now_ctx = e;
    env_svc_open(e);
    struct registry_config rc;
    registry_config_init(&rc);
    rc.db = e->db;
    rc.blobs = e->bs;
    rc.on_event = env_on_reg_event;
    rc.event_ctx = e;
    ASSERT_EQ(registry_new(&rc, &e->reg, NULL), 0);
}

static void env_close(struct env *e)
{
    registry_free(e->reg);
    scan_service_free(e->svc);
    blob_store_close(e->bs);
    meta_close(e->db);
    free(e->cache);
    free(e->vdb);
    free(e->dir);
    VEC_FREE(&e->events);
}

static struct meta_conn *env_conn(struct env *e)
{
    struct meta_conn *c;
    ASSERT_EQ(meta_conn_get(e->db, &c), 0);
    return c;
}

static long long sql_int(struct env *e, const char *sql)
{
    sqlite3_stmt *st;
    struct meta_conn *c = env_conn(e);
    ASSERT_EQ(sqlite3_prepare_v2(meta_conn_sqlite(c), sql, -1, &st, NULL), SQLITE_OK);
    long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

static void sql_exec(struct env *e, const char *sql)
{
    ASSERT_EQ(meta_exec(env_conn(e), sql), 0);
}

static void set_config(struct env *e, const char *json)
{
    json_error_t je;
    json_t *j = json_loads(json, 0, &je);
    ASSERT_TRUE(j != NULL);
    struct scan_config cfg;
    struct diag d = { 0 };
    int rc = scan_config_from_json(j, &cfg, &d);
    if (rc)
        test_fail(__FILE__, __LINE__, "config: %s", d.msg);
    ASSERT_EQ(scan_service_put_config(e->svc, &cfg), 0);
    scan_config_release(&cfg);
    json_decref(j);
}

static size_t count_events(const struct env *e, enum scan_event_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < e->events.n; i++)
        n += e->events.v[i].kind == k;
    return n;
}

static const struct evrec *find_event(const struct env *e, enum scan_event_kind k, const char *vuln)
{
    for (size_t i = e->events.n; i-- > 0;)
        if (e->events.v[i].kind == k && (!vuln || strcmp(e->events.v[i].vuln, vuln) == 0))
            return &e->events.v[i];
    return NULL;
}

/* ---- images ---- */

static const char *images_dir(void)
{
    const char *dir = getenv("VIGIL_TEST_IMAGES");
    return dir && *dir ? dir : "build/test-images"; /* scripts/test-images.sh */
}

static char *read_whole(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b;
    buf_init(&b, 1u << 30);
    char tmp[1 << 16];
    size_t got;
    while ((got = fread(tmp, 1, sizeof(tmp), f)) > 0)
        ASSERT_EQ(buf_append(&b, tmp, got), 0);
    fclose(f);
    return buf_detach(&b, n);
}

static char *blob_path(const char *layout, const char *digest)
{
    return xasprintf("%s/blobs/sha256/%s", layout, digest + 7);
}

/* Digest and media type of ref in the layout's index; false when absent. */
static bool layout_find(const char *layout, const char *ref, char *digest, char *mt)
{
    char *path = xasprintf("%s/index.json", layout);
    json_error_t je;
    json_t *idx = json_load_file(path, 0, &je);
    free(path);
    bool found = false;
    json_t *m;
    size_t i;
    json_array_foreach(json_object_get(idx, "manifests"), i, m)
    {
        const char *name = json_string_value(json_object_get(json_object_get(m, "annotations"),
                                                             "org.opencontainers.image.ref.name"));
        if (name && strcmp(name, ref) == 0) {
            snprintf(digest, DIGEST_STR_LEN + 1, "%s",
                     json_string_value(json_object_get(m, "digest")));
            snprintf(mt, 128, "%s", json_string_value(json_object_get(m, "mediaType")));
            found = true;
        }
    }
    json_decref(idx);
    return found;
}

static bool have_image(const char *ref)
{
    char dg[DIGEST_STR_LEN + 1], mt[128];
    if (layout_find(images_dir(), ref, dg, mt))
        return true;
    fprintf(stderr,
            "note: %s has no %s; that part of the test did not run (see "
            "scripts/test-images.sh)\n",
            images_dir(), ref);
    return false;
}

/* Put bytes into the blob store and link them to the repository (as a blob push does). */
static void store_blob(struct env *e, const char *repo, const void *p, size_t n, const char *expect,
                       char *digest_out)
{
    char dg[DIGEST_STR_LEN + 1];
    ASSERT_EQ(blob_store_put(e->bs, p, n, expect, dg), 0);
    if (digest_out)
        memcpy(digest_out, dg, sizeof(dg));
    struct reg_repo rr;
    int rc = registry_repo_create(e->reg, repo, false, &rr);
    if (rc == -EEXIST)
        ASSERT_EQ(registry_repo_get(e->reg, repo, &rr), 0);
    else
        ASSERT_EQ(rc, 0);
    struct meta_conn *c = env_conn(e);
    sqlite3_stmt *st;
    ASSERT_EQ(meta_stmt(c,
                        "INSERT OR IGNORE INTO blobs (digest, size, created_at, linked_at)"
                        " VALUES (?1, ?2, ?3, ?3)",
                        &st),
              0);
    meta_bind_text(st, 1, dg);
    meta_bind_int(st, 2, (int64_t)n);
    meta_bind_int(st, 3, e->now);
    ASSERT_EQ(meta_step_done(c, st), 0);
    ASSERT_EQ(meta_stmt(c,
                        "INSERT OR IGNORE INTO repo_blobs (repo_id, digest, created_at)"
                        " VALUES (?1, ?2, ?3)",
                        &st),
              0);
    meta_bind_int(st, 1, rr.id);
    meta_bind_text(st, 2, dg);
    meta_bind_int(st, 3, e->now);
    ASSERT_EQ(meta_step_done(c, st), 0);
}

static void put_manifest(struct env *e, const char *repo, const char *ref, const char *mt,
                         const void *p, size_t n, char *digest_out)
{
    struct reg_put_result res;
    struct reg_error err;
    int rc = registry_manifest_put(e->reg, repo, ref, mt, p, n, &res, &err);
    if (rc)
        test_fail(__FILE__, __LINE__, "manifest put %s:%s: %s %s", repo, ref,
                  err.code ? err.code : "?", err.message);
    if (digest_out)
        memcpy(digest_out, res.digest, DIGEST_STR_LEN + 1);
}

/* Push an image manifest of the layout (its config and layers first). */
static void push_manifest_digest(struct env *e, const char *layout, const char *digest,
                                 const char *mt, const char *repo, const char *tag)
{
    size_t n;
    char *path = blob_path(layout, digest);
    char *man = read_whole(path, &n);
    free(path);
    ASSERT_TRUE(man != NULL);
    json_error_t je;
    json_t *j = json_loadb(man, n, 0, &je);
    ASSERT_TRUE(j != NULL);
    if (manifest_kind_is_index(manifest_kind_of(mt))) {
        json_t *m;
        size_t i;
        json_array_foreach(json_object_get(j, "manifests"), i, m)
        {
            push_manifest_digest(e, layout, json_string_value(json_object_get(m, "digest")),
                                 json_string_value(json_object_get(m, "mediaType")), repo,
                                 json_string_value(json_object_get(m, "digest")));
        }
    } else {
        json_t *blobs = json_array();
        json_array_append(blobs, json_object_get(j, "config"));
        json_t *l;
        size_t i;
        json_array_foreach(json_object_get(j, "layers"), i, l) json_array_append(blobs, l);
        json_array_foreach(blobs, i, l)
        {
            const char *dg = json_string_value(json_object_get(l, "digest"));
            char *bp = blob_path(layout, dg);
            size_t bn;
            char *data = read_whole(bp, &bn);
            ASSERT_TRUE(data != NULL);
            store_blob(e, repo, data, bn, dg, NULL);
            free(data);
            free(bp);
        }
        json_decref(blobs);
    }
    json_decref(j);
    put_manifest(e, repo, tag, mt, man, n, NULL);
    free(man);
}

static void push_image(struct env *e, const char *ref, const char *repo, const char *tag,
                       char *digest_out)
{
    char dg[DIGEST_STR_LEN + 1], mt[128];
    ASSERT_TRUE(layout_find(images_dir(), ref, dg, mt));
    push_manifest_digest(e, images_dir(), dg, mt, repo, tag);
    if (digest_out)
        memcpy(digest_out, dg, sizeof(dg));
}

/* ---- a small hand-made image ---- */

/* One-file uncompressed tar. */
static void make_tar(const char *name, const char *content, struct buf *out)
{
    char h[512] = { 0 };
    size_t n = strlen(content);
    snprintf(h, 100, "%s", name);
    memcpy(h + 100, "0000644", 8);
    memcpy(h + 108, "0000000", 8);
    memcpy(h + 116, "0000000", 8);
    snprintf(h + 124, 12, "%011o", (unsigned)n);
    memcpy(h + 136, "14000000000", 12);
    memset(h + 148, ' ', 8);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    unsigned sum = 0;
    for (size_t i = 0; i < 512; i++)
        sum += (unsigned char)h[i];
    snprintf(h + 148, 8, "%06o", sum & 0777777u);
    buf_append(out, h, 512);
    buf_append(out, content, n);
    char zero[1024] = { 0 };
    buf_append(out, zero, (512 - n % 512) % 512);
    buf_append(out, zero, 1024);
}

/* Push a one-layer image whose layer holds one file; returns its manifest digest. */
static void push_tiny(struct env *e, const char *repo, const char *tag, const char *file,
                      const char *content, bool store_layer, char *digest_out)
{
    struct buf tar;
    buf_init(&tar, 1 << 20);
    make_tar(file, content, &tar);
    char layer[DIGEST_STR_LEN + 1], cfgd[DIGEST_STR_LEN + 1];
    unsigned char raw[SHA256_LEN];
    sha256_buf(tar.data, tar.len, raw);
    digest_format(raw, layer);
    if (store_layer) {
        store_blob(e, repo, tar.data, tar.len, layer, NULL);
    } else {
        /* linked in the database, missing on disk: the scan must fail, not crash */
        store_blob(e, repo, tar.data, tar.len, layer, NULL);
        ASSERT_EQ(blob_store_remove(e->bs, layer), 0);
    }
    char *cfg = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                          "\"layers\",\"diff_ids\":[\"%s\"]}}",
                          layer);
    store_blob(e, repo, cfg, strlen(cfg), NULL, cfgd);
    char *man = xasprintf(
        "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"digest\":"
        "\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1."
        "tar\",\"digest\":\"%s\",\"size\":%zu}]}",
        MT_OCI_MANIFEST, MT_OCI_CONFIG, cfgd, strlen(cfg), layer, tar.len);
    put_manifest(e, repo, tag, MT_OCI_MANIFEST, man, strlen(man), digest_out);
    free(man);
    free(cfg);
    buf_release(&tar);
}

/* ---- `vigil scan` of a layout image, through the library ---- */

struct expect {
    unsigned counts[SEV_COUNT];
    size_t nfindings;
    json_t *doc; /* the report */
};

/* Inventory, match (OS packages, then distinct language packages as cmd_scan does) and the
 * ECR report of the image in the layout. */
static void vigil_scan(const char *vdb_path, const char *ref, bool enhanced, struct expect *x)
{
    char *full = xasprintf("oci:%s:%s", images_dir(), ref);
    struct inventory inv;
    inventory_init(&inv);
    struct inventory_opts o = { .no_lang = !enhanced };
    struct diag d = { 0 };
    int rc = inventory_build(full, &o, &inv, &d);
    if (rc)
        test_fail(__FILE__, __LINE__, "%s", d.msg);
    struct vulndb *vdb;
    ASSERT_EQ(vulndb_open(vdb_path, &vdb, &d), 0);
    struct arena a;
    arena_init(&a);
    struct finding_list fl = { VEC_INIT };
    struct match_opts mo = { 0 };
    size_t n_os = 0;
    while (n_os < inv.pkgs.items.n && !pkg_type_is_lang(inv.pkgs.items.v[n_os].type))
        n_os++;
    const char *eco = vulndb_ecosystem_for_os(
        inv.os.id, inv.os.version_id[0] ? inv.os.version_id : inv.os.codename, &a);
    if (eco)
        ASSERT_EQ(vulndb_match(vdb, eco, inv.pkgs.items.v, n_os, &mo, &a, &fl, &d), 0);
    for (size_t i = n_os; enhanced && i < inv.pkgs.items.n; i++) {
        const struct pkg *p = &inv.pkgs.items.v[i];
        bool dup = false;
        for (size_t k = n_os; k < i; k++)
            dup |= inv.pkgs.items.v[k].type == p->type &&
                   strcmp(inv.pkgs.items.v[k].name, p->name) == 0 &&
                   strcmp(inv.pkgs.items.v[k].version, p->version) == 0;
        if (!dup && lang_ecosystem(p->type))
            ASSERT_EQ(vulndb_match(vdb, lang_ecosystem(p->type), p, 1, &mo, &a, &fl, &d), 0);
    }
    struct scan_result r = { .inv = &inv, .findings = &fl, .completed_at = T0 };
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    ASSERT_EQ(report_write_scan(f, enhanced ? REPORT_ENHANCED_JSON : REPORT_JSON, &r, NULL), 0);
    fclose(f);
    json_error_t je;
    x->doc = json_loadb(mem, len, 0, &je);
    ASSERT_TRUE(x->doc != NULL);
    free(mem);
    json_t *isf = json_object_get(x->doc, "imageScanFindings");
    x->nfindings =
        json_array_size(json_object_get(isf, enhanced ? "enhancedFindings" : "findings"));
    memset(x->counts, 0, sizeof(x->counts));
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(isf, "findingSeverityCounts"), k, v)
        x->counts[severity_parse(k)] = (unsigned)json_integer_value(v);
    VEC_FREE(&fl.items);
    arena_release(&a);
    vulndb_close(vdb);
    inventory_release(&inv);
    free(full);
}

/* Every finding of the service's result, all pages of `page` findings. */
static json_t *all_findings(struct env *e, const char *repo, const char *digest, size_t page,
                            bool enhanced, struct scan_summary *sum, size_t *npages)
{
    json_t *all = json_array();
    size_t off = 0;
    *npages = 0;
    for (;;) {
        json_t *isf = NULL;
        bool more = false;
        struct diag d = { 0 };
        int rc = scan_service_findings(e->svc, repo, digest, off, page, sum, &isf, &more, &d);
        if (rc)
            test_fail(__FILE__, __LINE__, "findings: %s", d.msg);
        ASSERT_TRUE(isf != NULL);
        json_t *list = json_object_get(isf, enhanced ? "enhancedFindings" : "findings");
        ASSERT_TRUE(json_array_size(list) <= page);
        json_array_extend(all, list);
        json_decref(isf);
        (*npages)++;
        off += page;
        if (!more)
            break;
    }
    return all;
}

static void assert_counts(const unsigned a[SEV_COUNT], const unsigned b[SEV_COUNT])
{
    for (int s = 0; s < SEV_COUNT; s++)
        if (a[s] != b[s])
            test_fail(__FILE__, __LINE__, "%s: %u != %u", severity_name((enum severity)s), a[s],
                      b[s]);
}

/* ---- configuration ---- */

static int parse_cfg(const char *json, struct scan_config *cfg)
{
    json_error_t je;
    json_t *j = json_loads(json, 0, &je);
    if (!j)
        test_fail(__FILE__, __LINE__, "bad test JSON: %s", json);
    struct diag d = { 0 };
    int rc = scan_config_from_json(j, cfg, &d);
    json_decref(j);
    return rc;
}

TEST(scansvc_filter_truth_table)
{
    /* ECR user guide, "Filter wildcards": filters down, repository names across */
    static const char *const repos[] = { "prod", "repo-prod", "prod-repo", "repo-prod-repo",
                                         "prodrepo" };
    static const struct {
        const char *filter;
        const char *yes; /* one char per repository */
    } rows[] = {
        { "prod", "YYYYY" },   { "*prod", "YYNNN" },     { "prod*", "YNYNY" },
        { "*prod*", "YYYYY" }, { "prod*repo", "NNYNY" },
    };
    for (size_t r = 0; r < ARRAY_SIZE(rows); r++)
        for (size_t c = 0; c < ARRAY_SIZE(repos); c++)
            if (scan_filter_matches(rows[r].filter, repos[c]) != (rows[r].yes[c] == 'Y'))
                test_fail(__FILE__, __LINE__, "filter %s on %s", rows[r].filter, repos[c]);
    ASSERT_TRUE(scan_filter_matches("*", "anything/at/all"));
    ASSERT_TRUE(scan_filter_matches("team/*", "team/app"));
    ASSERT_FALSE(scan_filter_matches("team/*", "other/team/app"));
    ASSERT_TRUE(scan_filter_matches("a*b*c", "aXXbYYc"));
    ASSERT_FALSE(scan_filter_matches("a*b*c", "aXXbYY"));
}

TEST(scansvc_config_parse_and_precedence)
{
    struct scan_config c;
    ASSERT_EQ(parse_cfg("{}", &c), 0);
    ASSERT_EQ(c.type, SCAN_TYPE_BASIC);
    ASSERT_EQ(c.nrules, 0);
    ASSERT_EQ(scan_config_frequency(&c, "app", false, NULL, NULL), SCAN_FREQ_MANUAL);
    /* the repository's own flag makes it scan on push under BASIC */
    ASSERT_EQ(scan_config_frequency(&c, "app", true, NULL, NULL), SCAN_FREQ_SCAN_ON_PUSH);
    scan_config_release(&c);

    ASSERT_EQ(parse_cfg("{\"scanType\":\"BASIC\",\"rules\":[{\"scanFrequency\":\"SCAN_ON_PUSH\","
                        "\"repositoryFilters\":[{\"filter\":\"prod\",\"filterType\":\"WILDCARD\"}"
                        "]}]}",
                        &c),
              0);
    const char *applied[SCAN_FILTERS_MAX];
    size_t na;
    ASSERT_EQ(scan_config_frequency(&c, "team/prod-api", false, applied, &na),
              SCAN_FREQ_SCAN_ON_PUSH);
    ASSERT_EQ(na, 1);
    ASSERT_STREQ(applied[0], "prod");
    ASSERT_EQ(scan_config_frequency(&c, "dev", false, applied, &na), SCAN_FREQ_MANUAL);
    ASSERT_EQ(na, 0);
    json_t *j = scan_config_to_json(&c);
    char *s = json_dumps(j, JSON_COMPACT);
    ASSERT_STREQ(s, "{\"scanType\":\"BASIC\",\"rules\":[{\"scanFrequency\":\"SCAN_ON_PUSH\","
                    "\"repositoryFilters\":[{\"filter\":\"prod\",\"filterType\":\"WILDCARD\"}]}]}");
    free(s);
    json_decref(j);
    scan_config_release(&c);

    /* ENHANCED: continuous wins over scan on push; no match means no scanning, whatever the
     * repository's flag says */
    ASSERT_EQ(parse_cfg("{\"scanType\":\"ENHANCED\",\"rules\":[{\"scanFrequency\":"
                        "\"SCAN_ON_PUSH\",\"repositoryFilters\":[{\"filter\":\"*\","
                        "\"filterType\":\"WILDCARD\"}]},{\"scanFrequency\":\"CONTINUOUS_SCAN\","
                        "\"repositoryFilters\":[{\"filter\":\"prod*\",\"filterType\":"
                        "\"WILDCARD\"}]}]}",
                        &c),
              0);
    ASSERT_EQ(scan_config_frequency(&c, "prod-api", false, applied, &na), SCAN_FREQ_CONTINUOUS);
    ASSERT_STREQ(applied[0], "prod*");
    ASSERT_EQ(scan_config_frequency(&c, "dev", false, NULL, NULL), SCAN_FREQ_SCAN_ON_PUSH);
    scan_config_release(&c);
    ASSERT_EQ(parse_cfg("{\"scanType\":\"ENHANCED\",\"rules\":[{\"scanFrequency\":"
                        "\"CONTINUOUS_SCAN\",\"repositoryFilters\":[{\"filter\":\"prod\","
                        "\"filterType\":\"WILDCARD\"}]}]}",
                        &c),
              0);
    ASSERT_EQ(scan_config_frequency(&c, "dev", true, NULL, NULL), SCAN_FREQ_NONE);
    ASSERT_STREQ(scan_frequency_name(SCAN_FREQ_NONE), "MANUAL");
    scan_config_release(&c);

    /* refused: as the ECR model constrains the request */
    static const char *const bad[] = {
        "{\"scanType\":\"FULL\"}",
        "{\"rules\":[{\"scanFrequency\":\"CONTINUOUS_SCAN\",\"repositoryFilters\":[]}]}",
        "{\"scanType\":\"ENHANCED\",\"rules\":[{\"scanFrequency\":\"MANUAL\","
        "\"repositoryFilters\":[]}]}",
        "{\"rules\":[{\"scanFrequency\":\"SCAN_ON_PUSH\",\"repositoryFilters\":[{\"filter\":"
        "\"Prod\",\"filterType\":\"WILDCARD\"}]}]}",
        "{\"rules\":[{\"scanFrequency\":\"SCAN_ON_PUSH\",\"repositoryFilters\":[{\"filter\":"
        "\"a..b\",\"filterType\":\"WILDCARD\"}]}]}",
        "{\"rules\":[{\"scanFrequency\":\"SCAN_ON_PUSH\",\"repositoryFilters\":[{\"filter\":"
        "\"a-\",\"filterType\":\"WILDCARD\"}]}]}",
        "{\"rules\":[{\"scanFrequency\":\"SCAN_ON_PUSH\",\"repositoryFilters\":[{\"filter\":"
        "\"a\",\"filterType\":\"PREFIX\"}]}]}",
        "{\"rules\":[{\"scanFrequency\":\"SCAN_ON_PUSH\",\"repositoryFilters\":[]},"
        "{\"scanFrequency\":\"SCAN_ON_PUSH\",\"repositoryFilters\":[]}]}",
        "{\"rules\":[{\"scanFrequency\":\"SCAN_ON_PUSH\",\"repositoryFilters\":[]},"
        "{\"scanFrequency\":\"MANUAL\",\"repositoryFilters\":[]},{\"scanFrequency\":"
        "\"MANUAL\",\"repositoryFilters\":[]}]}",
        "{\"rules\":[{\"repositoryFilters\":[]}]}",
        "[]",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        if (parse_cfg(bad[i], &c) != -ERR_INVALID)
            test_fail(__FILE__, __LINE__, "accepted: %s", bad[i]);
        ASSERT_EQ(c.nrules, 0);
    }
    ASSERT_EQ(parse_cfg("{\"scanType\":\"FULL\"}", &c), -ERR_INVALID);
    struct diag d = { 0 };
    json_t *jb = json_loads("{\"scanType\":\"FULL\"}", 0, NULL);
    ASSERT_EQ(scan_config_from_json(jb, &c, &d), -ERR_INVALID);
    ASSERT_TRUE(strstr(d.msg, "Member must satisfy enum value set: [BASIC, ENHANCED]") != NULL);
    json_decref(jb);
}

/* ---- codecs ---- */

static void fill_inventory(struct inventory *inv)
{
    inv->manifest_digest =
        "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    inv->config_digest = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
    inv->platform = "linux/amd64";
    inv->image_name = "team/app@sha256:1111";
    inv->os = (struct inventory_os){ "debian", "12", "bookworm", "Debian 12", "etc/os-release" };
    struct inventory_layer l = { "sha256:33", "sha256:44", 1234, false };
    VEC_PUSH(&inv->layers, l);
    struct pkg p = { 0 };
    p.type = PKG_DEB;
    p.name = "libssl3";
    p.version = "3.0.17-1~deb12u2";
    p.arch = "amd64";
    p.src_name = "openssl";
    p.src_version = "3.0.17-1~deb12u2";
    p.upstream = "3.0.17";
    p.release = "1~deb12u2";
    p.license = p.maintainer = "";
    p.db_path = "var/lib/dpkg/status";
    p.layer = 0;
    VEC_PUSH(&inv->pkgs.items, p);
    p.type = PKG_NPM;
    p.name = "lodash";
    p.version = "4.17.15";
    p.src_name = "lodash";
    p.src_version = "4.17.15";
    p.epoch = 7;
    p.has_epoch = true;
    p.upstream = p.release = p.arch = "";
    p.db_path = "app/node_modules/lodash/package.json";
    p.layer = -1;
    VEC_PUSH(&inv->pkgs.items, p);
}

TEST(scansvc_inventory_codec)
{
    struct inventory a, b;
    inventory_init(&a);
    fill_inventory(&a);
    struct buf enc;
    buf_init(&enc, 1 << 20);
    ASSERT_EQ(svc_inv_encode(&a, &enc), 0);
    inventory_init(&b);
    struct diag d = { 0 };
    ASSERT_EQ(svc_inv_decode(buf_str(&enc), &b, &d), 0);
    ASSERT_STREQ(b.manifest_digest, a.manifest_digest);
    ASSERT_STREQ(b.platform, "linux/amd64");
    ASSERT_STREQ(b.os.codename, "bookworm");
    ASSERT_EQ(b.layers.n, 1);
    ASSERT_EQ(b.layers.v[0].size, 1234);
    ASSERT_EQ(b.pkgs.items.n, 2);
    ASSERT_EQ(b.pkgs.items.v[0].type, PKG_DEB);
    ASSERT_STREQ(b.pkgs.items.v[0].src_name, "openssl");
    ASSERT_STREQ(b.pkgs.items.v[0].release, "1~deb12u2");
    ASSERT_EQ(b.pkgs.items.v[0].layer, 0);
    ASSERT_EQ(b.pkgs.items.v[1].type, PKG_NPM);
    ASSERT_EQ(b.pkgs.items.v[1].epoch, 7);
    ASSERT_TRUE(b.pkgs.items.v[1].has_epoch);
    ASSERT_EQ(b.pkgs.items.v[1].layer, -1);
    ASSERT_STREQ(b.pkgs.items.v[1].db_path, "app/node_modules/lodash/package.json");
    inventory_release(&b);
    /* every truncation and every flipped byte either decodes or is refused, never crashes */
    for (size_t n = 0; n < enc.len; n++) {
        inventory_init(&b);
        ASSERT_NE(svc_inv_decode(str_make(enc.data, n), &b, NULL), 0);
        inventory_release(&b);
    }
    for (size_t i = 0; i < enc.len; i++) {
        char save = enc.data[i];
        enc.data[i] = (char)(save ^ 0x5a);
        inventory_init(&b);
        int rc = svc_inv_decode(buf_str(&enc), &b, NULL);
        ASSERT_TRUE(rc == 0 || rc == -ERR_CORRUPT);
        inventory_release(&b);
        enc.data[i] = save;
    }
    buf_release(&enc);
    inventory_release(&a);
}

TEST(scansvc_record_codec)
{
    struct arena ar;
    arena_init(&ar);
    struct finding f = { 0 };
    f.id = "CVE-2099-0001";
    f.title = "title";
    f.description = "desc";
    f.uri = "https://security-tracker.debian.org/tracker/CVE-2099-0001";
    f.severity = SEV_HIGH;
    f.vendor_severity = "high";
    f.severity_source = "vendor";
    f.ecosystem = "Debian:12";
    f.published = "2024-12-01T00:00:00Z";
    f.modified = "2025-01-01T00:00:00Z";
    f.source = "osv";
    const char *rel[] = { "DSA-1", "GHSA-x" };
    f.related.v = rel;
    f.related.n = 2;
    struct finding_cvss cv = { "3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "NVD" };
    f.cvss.v = &cv;
    f.cvss.n = 1;
    struct buf b;
    buf_init(&b, 1 << 20);
    ASSERT_EQ(svc_vuln_encode(&f, &b), 0);
    struct finding g;
    ASSERT_EQ(svc_vuln_decode(buf_str(&b), &ar, &g, NULL), 0);
    ASSERT_STREQ(g.id, f.id);
    ASSERT_EQ(g.severity, SEV_HIGH);
    ASSERT_EQ(g.related.n, 2);
    ASSERT_STREQ(g.related.v[1], "GHSA-x");
    ASSERT_EQ(g.references.n, 0);
    ASSERT_EQ(g.cvss.n, 1);
    ASSERT_TRUE(g.cvss.v[0].score > 9.79 && g.cvss.v[0].score < 9.81);
    ASSERT_STREQ(g.fixed_version, "");
    unsigned char h1[SVC_HASH_LEN], h2[SVC_HASH_LEN];
    svc_vuln_hash(&b, h1);
    for (size_t n = 0; n < b.len; n++)
        ASSERT_NE(svc_vuln_decode(str_make(b.data, n), &ar, &g, NULL), 0);
    f.severity = SEV_MEDIUM; /* another rating is another record */
    buf_reset(&b);
    ASSERT_EQ(svc_vuln_encode(&f, &b), 0);
    svc_vuln_hash(&b, h2);
    ASSERT_TRUE(memcmp(h1, h2, SVC_HASH_LEN) != 0);

    struct svc_member m[2] = { { 3, { 1 }, SEV_HIGH, "1.2", NULL, NULL, 0 },
                               { 70000, { 2 }, SEV_LOW, "", NULL, NULL, 0 } };
    buf_reset(&b);
    ASSERT_EQ(svc_members_encode(m, 2, &b), 0);
    struct svc_member *out;
    size_t n;
    ASSERT_EQ(svc_members_decode(buf_str(&b), &ar, &out, &n, NULL), 0);
    ASSERT_EQ(n, 2);
    ASSERT_EQ(out[1].pkg, 70000);
    ASSERT_EQ(out[0].severity, SEV_HIGH);
    ASSERT_STREQ(out[0].fixed, "1.2");
    ASSERT_EQ(out[1].vhash[0], 2);
    for (size_t k = 0; k < b.len; k++)
        ASSERT_NE(svc_members_decode(str_make(b.data, k), &ar, &out, &n, NULL), 0);
    buf_release(&b);
    arena_release(&ar);
}

/* ---- scanning pushed images ---- */

TEST(scansvc_scan_on_push_basic_matches_vigil_scan)
{
    if (!have_image(DEBIAN_REF))
        return;
    struct env e;
    env_open(&e, "basic");
    char dg[DIGEST_STR_LEN + 1];
    /* default configuration (BASIC, no rules): MANUAL, nothing queued */
    push_image(&e, DEBIAN_REF, "manual/app", "v1", dg);
    ASSERT_EQ(sql_int(&e, "SELECT COUNT(*) FROM scan_jobs"), 0);
    struct scan_summary sum;
    ASSERT_EQ(scan_service_summary(e.svc, "manual/app", dg, &sum), -ENOENT);
    ASSERT_EQ(scan_service_summary(e.svc, "no/such", dg, &sum), -ERR_NOT_FOUND);

    /* the repository's scanOnPush */
    struct reg_repo rr;
    ASSERT_EQ(registry_repo_create(e.reg, "push/app", false, &rr), 0);
    ASSERT_EQ(scan_repo_scan_on_push_set(env_conn(&e), rr.id, true), 0);
    push_image(&e, DEBIAN_REF, "push/app", "v1", dg);
    ASSERT_EQ(sql_int(&e, "SELECT COUNT(*) FROM scan_jobs WHERE state = 0"), 1);
    ASSERT_EQ(scan_service_summary(e.svc, "push/app", dg, &sum), 0);
    ASSERT_EQ(sum.status, SCAN_STATUS_IN_PROGRESS);
    ASSERT_FALSE(sum.has_findings);
    /* no findings before the scan completes */
    json_t *isf = (json_t *)1;
    bool more;
    ASSERT_EQ(scan_service_findings(e.svc, "push/app", dg, 0, 10, NULL, &isf, &more, NULL), 0);
    ASSERT_TRUE(isf == NULL);
    /* pushing the same manifest again (another tag) does not scan again */
    push_image(&e, DEBIAN_REF, "push/app", "v1-again", NULL);
    ASSERT_EQ(sql_int(&e, "SELECT COUNT(*) FROM scan_jobs"), 1);

    size_t ran;
    e.now = T0 + 5;
    ASSERT_EQ(scan_service_run_pending(e.svc, 0, &ran), 0);
    ASSERT_EQ(ran, 1);
    ASSERT_EQ(sql_int(&e, "SELECT COUNT(*) FROM scan_jobs"), 0);
    ASSERT_EQ(scan_service_summary(e.svc, "push/app", dg, &sum), 0);
    ASSERT_EQ(sum.status, SCAN_STATUS_COMPLETE);
    ASSERT_STREQ(sum.description, "The scan was completed successfully.");
    ASSERT_EQ(sum.scan_type, SCAN_TYPE_BASIC);
    ASSERT_EQ(sum.completed_at, T0 + 5);
    ASSERT_TRUE(sum.vuln_source_updated_at > 0);

    struct expect x;
    vigil_scan(e.vdb, DEBIAN_REF, false, &x);
    ASSERT_TRUE(x.nfindings >= 5); /* openssl x2, curl x2, libxml2 */
    assert_counts(sum.counts, x.counts);
    ASSERT_EQ(sum.nfindings, x.nfindings);
    size_t pages;
    json_t *all = all_findings(&e, "push/app", dg, 2, false, NULL, &pages);
    ASSERT_EQ(json_array_size(all), x.nfindings);
    ASSERT_EQ(pages, (x.nfindings + 1) / 2);
    /* the same findings as the report, in the same order, with the same attributes */
    json_t *want = json_object_get(json_object_get(x.doc, "imageScanFindings"), "findings");
    for (size_t i = 0; i < x.nfindings; i++) {
        json_t *a = json_array_get(all, i), *b = json_array_get(want, i);
        if (!json_equal(a, b)) {
            char *sa = json_dumps(a, JSON_COMPACT), *sb = json_dumps(b, JSON_COMPACT);
            test_fail(__FILE__, __LINE__, "finding %zu:\n%s\n%s", i, sa, sb);
        }
    }
    json_decref(all);
    /* the whole-scan counts come with every page */
    ASSERT_EQ(scan_service_findings(e.svc, "push/app", dg, 1000, 10, &sum, &isf, &more, NULL), 0);
    ASSERT_EQ(json_array_size(json_object_get(isf, "findings")), 0);
    ASSERT_FALSE(more);
    json_t *c = json_object_get(isf, "findingSeverityCounts");
    ASSERT_EQ(json_integer_value(json_object_get(c, "HIGH")), x.counts[SEV_HIGH]);
    ASSERT_EQ(json_integer_value(json_object_get(c, "CRITICAL")), x.counts[SEV_CRITICAL]);
    ASSERT_EQ(json_integer_value(json_object_get(isf, "imageScanCompletedAt")), T0 + 5);
    json_decref(isf);
    /* one scan event, with the counts; basic scans send no finding events */
    ASSERT_EQ(count_events(&e, SCAN_EVENT_SCAN), 1);
    const struct evrec *ev = find_event(&e, SCAN_EVENT_SCAN, NULL);
    ASSERT_EQ(ev->status, SCAN_STATUS_COMPLETE);
    ASSERT_TRUE(ev->initial);
    assert_counts(ev->counts, x.counts);
    ASSERT_EQ(count_events(&e, SCAN_EVENT_FINDING_CREATED), 0);
    json_decref(x.doc);

    /* a registry SCAN_ON_PUSH rule works without the flag (and the scan takes the inventory
     * stored for the same digest instead of reading the layers); repositories it does not
     * match stay manual */
    set_config(&e,
               "{\"scanType\":\"BASIC\",\"rules\":[{\"scanFrequency\":\"SCAN_ON_PUSH\","
               "\"repositoryFilters\":[{\"filter\":\"rule/*\",\"filterType\":\"WILDCARD\"}]}]}");
    push_image(&e, DEBIAN_REF, "rule/app", "v1", NULL);
    push_image(&e, DEBIAN_REF, "other/app", "v1", NULL);
    ASSERT_EQ(sql_int(&e, "SELECT COUNT(*) FROM scan_jobs"), 1);
    ASSERT_EQ(scan_service_run_pending(e.svc, 0, &ran), 0);
    ASSERT_EQ(scan_service_summary(e.svc, "rule/app", dg, &sum), 0);
    ASSERT_EQ(sum.status, SCAN_STATUS_COMPLETE);
    ASSERT_EQ(scan_service_summary(e.svc, "other/app", dg, &sum), -ENOENT);

    /* deleting the image removes its result */
    struct reg_error err;
    ASSERT_EQ(registry_manifest_delete(e.reg, "rule/app", dg, &err), 0);
    ASSERT_EQ(scan_service_summary(e.svc, "rule/app", dg, &sum), -ENOENT);
    ASSERT_EQ(sql_int(&e, "SELECT COUNT(*) FROM scan_results r JOIN repositories p ON"
                          " p.id = r.repo_id WHERE p.name = 'rule/app'"),
              0);
    env_close(&e);
}

TEST(scansvc_enhanced_scan_on_push_and_continuous)
{
    if (!have_image(DEBIAN_REF))
        return;
    struct env e;
    env_open(&e, "enhanced");
    set_config(&e, "{\"scanType\":\"ENHANCED\",\"rules\":[{\"scanFrequency\":\"SCAN_ON_PUSH\","
                   "\"repositoryFilters\":[{\"filter\":\"push\",\"filterType\":\"WILDCARD\"}]},"
                   "{\"scanFrequency\":\"CONTINUOUS_SCAN\",\"repositoryFilters\":[{\"filter\":"
                   "\"cont\",\"filterType\":\"WILDCARD\"}]}]}");
    char dg[DIGEST_STR_LEN + 1];
    push_image(&e, DEBIAN_REF, "push/app", "v1", dg);
    push_image(&e, DEBIAN_REF, "cont/app", "v1", NULL);
    push_image(&e, DEBIAN_REF, "none/app", "v1", NULL); /* no filter: not scanned */
    ASSERT_EQ(sql_int(&e, "SELECT COUNT(*) FROM scan_jobs"), 2);
    struct scan_summary sum;
    ASSERT_EQ(scan_service_summary(e.svc, "push/app", dg, &sum), 0);
    ASSERT_EQ(sum.status, SCAN_STATUS_PENDING);
    ASSERT_STREQ(sum.description, "Pending start of the image scan.");
    size_t ran;
    ASSERT_EQ(scan_service_run_pending(e.svc, 0, &ran), 0);
    ASSERT_EQ(ran, 2);
    struct expect x;
    vigil_scan(e.vdb, DEBIAN_REF, true, &x);
    ASSERT_TRUE(x.nfindings >= 3);
    /* ECR: enhanced scan-on-push reads COMPLETE, continuous ACTIVE */
    ASSERT_EQ(scan_service_summary(e.svc, "push/app", dg, &sum), 0);
    ASSERT_EQ(sum.status, SCAN_STATUS_COMPLETE);
    ASSERT_EQ(sum.scan_type, SCAN_TYPE_ENHANCED);
    assert_counts(sum.counts, x.counts);
    ASSERT_EQ(scan_service_summary(e.svc, "cont/app", dg, &sum), 0);
    ASSERT_EQ(sum.status, SCAN_STATUS_ACTIVE);
    ASSERT_STREQ(sum.description, "Continuous scan is selected for image.");
    assert_counts(sum.counts, x.counts);
    ASSERT_EQ(scan_service_summary(e.svc, "none/app", dg, &sum), -ENOENT);
    size_t pages;
    json_t *all = all_findings(&e, "cont/app", dg, 100, true, NULL, &pages);
    ASSERT_EQ(pages, 1);
    json_t *want = json_object_get(json_object_get(x.doc, "imageScanFindings"), "enhancedFindings");
    ASSERT_EQ(json_array_size(all), json_array_size(want));
    for (size_t i = 0; i < json_array_size(all); i++) {
        json_t *a = json_array_get(all, i), *b = json_array_get(want, i);
        ASSERT_STREQ(json_string_value(json_object_get(a, "title")),
                     json_string_value(json_object_get(b, "title")));
        ASSERT_STREQ(json_string_value(json_object_get(a, "severity")),
                     json_string_value(json_object_get(b, "severity")));
        ASSERT_STREQ(json_string_value(json_object_get(a, "type")), "PACKAGE_VULNERABILITY");
        ASSERT_STREQ(json_string_value(json_object_get(a, "status")), "ACTIVE");
        ASSERT_EQ(json_integer_value(json_object_get(a, "firstObservedAt")), T0);
        json_t *pvd = json_object_get(a, "packageVulnerabilityDetails");
        ASSERT_TRUE(json_equal(json_object_get(pvd, "vulnerablePackages"),
                               json_object_get(json_object_get(b, "packageVulnerabilityDetails"),
                                               "vulnerablePackages")));
        json_t *res = json_array_get(json_object_get(a, "resources"), 0);
        json_t *img = json_object_get(json_object_get(res, "details"), "awsEcrContainerImage");
        ASSERT_STREQ(json_string_value(json_object_get(img, "repositoryName")), "cont/app");
        ASSERT_STREQ(json_string_value(json_array_get(json_object_get(img, "imageTags"), 0)), "v1");
        ASSERT_STREQ(json_string_value(json_object_get(img, "imageHash")), dg);
    }
    json_decref(all);
    json_decref(x.doc);
    /* finding events for both enhanced scans; an initial scan event each */
    ASSERT_EQ(count_events(&e, SCAN_EVENT_FINDING_CREATED), 2 * x.nfindings);
    ASSERT_EQ(count_events(&e, SCAN_EVENT_SCAN), 2);
    ASSERT_TRUE(find_event(&e, SCAN_EVENT_SCAN, NULL)->initial);
    /* the continuous repository is in the package index, with source package names */
    ASSERT_TRUE(sql_int(&e, "SELECT COUNT(*) FROM scan_pkg_index WHERE eco = 'Debian:12' AND"
                            " name = 'openssl'") == 2);
    env_close(&e);
}

TEST(scansvc_restart_resumes_claimed_job)
{
    if (!have_image(DEBIAN_REF))
        return;
    struct env e;
    env_open(&e, "restart");
    set_config(&e, "{\"rules\":[{\"scanFrequency\":\"SCAN_ON_PUSH\",\"repositoryFilters\":[{"
                   "\"filter\":\"*\",\"filterType\":\"WILDCARD\"}]}]}");
    char dg[DIGEST_STR_LEN + 1];
    push_image(&e, DEBIAN_REF, "a/app", "v1", dg);
    /* a worker of a process that died claimed it */
    sql_exec(&e, "UPDATE scan_jobs SET state = 1, attempts = 1");
    size_t ran;
    ASSERT_EQ(scan_service_run_pending(e.svc, 0, &ran), 0);
    ASSERT_EQ(ran, 0); /* claimed jobs are not taken by a running service */
    scan_service_free(e.svc);
    env_svc_open(&e); /* restart: the job is queued again */
    ASSERT_EQ(sql_int(&e, "SELECT state FROM scan_jobs"), 0);
    ASSERT_EQ(scan_service_run_pending(e.svc, 0, &ran), 0);
    ASSERT_EQ(ran, 1);
    struct scan_summary sum;
    ASSERT_EQ(scan_service_summary(e.svc, "a/app", dg, &sum), 0);
    ASSERT_EQ(sum.status, SCAN_STATUS_COMPLETE);
    ASSERT_TRUE(sum.nfindings > 0);

    /* a job that keeps killing the process is given up after max_attempts */
    push_image(&e, DEBIAN_REF, "b/app", "v1", NULL);
    sql_exec(&e, "UPDATE scan_jobs SET state = 1, attempts = 3");
    scan_service_free(e.svc);
    env_svc_open(&e);
    ASSERT_EQ(scan_service_run_pending(e.svc, 0, &ran), 0);
    ASSERT_EQ(ran, 1);
    ASSERT_EQ(scan_service_summary(e.svc, "b/app", dg, &sum), 0);
    ASSERT_EQ(sum.status, SCAN_STATUS_FAILED);
    ASSERT_TRUE(strstr(sum.description, "interrupted 3 times") != NULL);
    ASSERT_EQ(sql_int(&e, "SELECT COUNT(*) FROM scan_jobs"), 0);
    env_close(&e);
}

TEST(scansvc_manual_scan_limit)
{
    struct env e;
    env_open(&e, "manual");
    char dg[DIGEST_STR_LEN + 1];
    push_tiny(&e, "m/app", "v1", "etc/os-release",
              "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n", true, dg);
    struct scan_status_info si;
    struct diag d = { 0 };
    ASSERT_EQ(scan_service_start_scan(e.svc, "m/app", dg, &si, &d), 0);
    ASSERT_EQ(si.status, SCAN_STATUS_IN_PROGRESS);
    /* queued: a second request is over the quota */
    ASSERT_EQ(scan_service_start_scan(e.svc, "m/app", dg, &si, &d), SCAN_ERR_LIMIT);
    ASSERT_STREQ(d.msg, "The scan quota per image has been exceeded. Wait and try again.");
    size_t ran;
    ASSERT_EQ(scan_service_run_pending(e.svc, 0, &ran), 0);
    struct scan_summary sum;
    ASSERT_EQ(scan_service_summary(e.svc, "m/app", dg, &sum), 0);
    ASSERT_EQ(sum.status, SCAN_STATUS_COMPLETE); /* Debian 12 with no packages: nothing found */
    ASSERT_EQ(sum.nfindings, 0);
    e.now = T0 + 86399;
    ASSERT_EQ(scan_service_start_scan(e.svc, "m/app", dg, &si, &d), SCAN_ERR_LIMIT);
    e.now = T0 + 86400;
    ASSERT_EQ(scan_service_start_scan(e.svc, "m/app", dg, &si, &d), 0);
    ASSERT_EQ(scan_service_run_pending(e.svc, 0, &ran), 0);
    ASSERT_EQ(ran, 1);
    /* errors the API maps to its exceptions */
    ASSERT_EQ(scan_service_start_scan(e.svc, "nope/app", dg, &si, &d), -ERR_NOT_FOUND);
    ASSERT_EQ(scan_service_start_scan(
                  e.svc, "m/app",
                  "sha256:0000000000000000000000000000000000000000000000000000000000000000", &si,
                  &d),
              -ERR_MANIFEST_UNKNOWN);
    /* an index is not an image */
    char *idx = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{"
                          "\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld,\"platform\":{"
                          "\"architecture\":\"amd64\",\"os\":\"linux\"}}]}",
                          MT_OCI_INDEX, MT_OCI_MANIFEST, dg,
                          sql_int(&e, "SELECT size FROM manifests LIMIT 1"));
    char idg[DIGEST_STR_LEN + 1];
    put_manifest(&e, "m/app", "multi", MT_OCI_INDEX, idx, strlen(idx), idg);
    free(idx);
    ASSERT_EQ(scan_service_start_scan(e.svc, "m/app", idg, &si, &d), -ERR_UNSUPPORTED);
    ASSERT_TRUE(strstr(d.msg, "An artifact with media type 'application/vnd.oci.image.index.v1"
                              "+json' cannot be scanned") != NULL);
    scan_service_free(e.svc);
    /* the limit is a setting */
    e.scfg.manual_interval_s = -1;
    env_svc_open(&e);
    e.now = T0 + 86401;
    ASSERT_EQ(scan_service_run_pending(e.svc, 0, &ran), 0);
    ASSERT_EQ(scan_service_start_scan(e.svc, "m/app", dg, &si, &d), 0);
    ASSERT_EQ(scan_service_run_pending(e.svc, 0, &ran), 0);
    ASSERT_EQ(scan_service_start_scan(e.svc, "m/app", dg, &si, &d), 0);
    env_close(&e);
}

TEST(scansvc_unsupported_and_failed_images)
{
    struct env e;
    env_open(&e, "unsupported");
    set_config(&e, "{\"rules\":[{\"scanFrequency\":\"SCAN_ON_PUSH\",\"repositoryFilters\":[{"
                   "\"filter\":\"*\",\"filterType\":\"WILDCARD\"}]}]}");
    char none[DIGEST_STR_LEN + 1], bad[DIGEST_STR_LEN + 1], other[DIGEST_STR_LEN + 1];
    push_tiny(&e, "u/app", "scratch", "hello.txt", "no operating system here\n", true, none);
    push_tiny(&e, "u/app", "broken", "etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n", false,
              bad);
    push_tiny(&e, "u/app", "other-os", "etc/os-release", "ID=plan9\nVERSION_ID=\"4\"\n", true,
              other);
    size_t ran;
    ASSERT_EQ(scan_service_run_pending(e.svc, 0, &ran), 0);
    ASSERT_EQ(ran, 3);
    struct scan_summary sum;
    ASSERT_EQ(scan_service_summary(e.svc, "u/app", none, &sum), 0);
    ASSERT_EQ(sum.status, SCAN_STATUS_UNSUPPORTED_IMAGE);
    ASSERT_STREQ(sum.description, "UnsupportedImageError: The operating system and/or package "
                                  "manager are not supported.");
    ASSERT_EQ(scan_service_summary(e.svc, "u/app", other, &sum), 0);
    ASSERT_EQ(sum.status, SCAN_STATUS_UNSUPPORTED_IMAGE);
    ASSERT_EQ(scan_service_summary(e.svc, "u/app", bad, &sum), 0);
    ASSERT_EQ(sum.status, SCAN_STATUS_FAILED);
    ASSERT_TRUE(strstr(sum.description, "not in the store") != NULL);
    ASSERT_EQ(count_events(&e, SCAN_EVENT_SCAN), 3);
    env_close(&e);
}

TEST(scansvc_index_with_scan_indexes)
{
    if (!have_image(MULTI_REF))
        return;
    struct env e;
    env_open(&e, "index");
    scan_service_free(e.svc);
    e.scfg.scan_indexes = true;
    env_svc_open(&e);
    set_config(&e, "{\"rules\":[{\"scanFrequency\":\"SCAN_ON_PUSH\",\"repositoryFilters\":[{"
                   "\"filter\":\"*\",\"filterType\":\"WILDCARD\"}]}]}");
    char dg[DIGEST_STR_LEN + 1];
    push_image(&e, MULTI_REF, "multi/app", "latest", dg);
    /* the two platform images and the index */
    ASSERT_EQ(sql_int(&e, "SELECT COUNT(*) FROM scan_jobs"), 3);
    size_t ran;
    ASSERT_EQ(scan_service_run_pending(e.svc, 0, &ran), 0);
    ASSERT_EQ(ran, 3);
    struct scan_summary sum;
    ASSERT_EQ(scan_service_summary(e.svc, "multi/app", dg, &sum), 0);
    ASSERT_EQ(sum.status, SCAN_STATUS_COMPLETE);
    /* the linux/amd64 image (Alpine openssl) has the Alpine finding, counted twice in BASIC
     * (libcrypto3 and libssl3) */
    ASSERT_EQ(sum.counts[SEV_MEDIUM], 2);
    env_close(&e);
}

/* ---- continuous re-evaluation ---- */

TEST(scansvc_rescan_created_updated_closed)
{
    if (!have_image(DEBIAN_REF))
        return;
    bool alpine = have_image(ALPINE_REF);
    struct env e;
    env_open(&e, "rescan");
    set_config(&e, "{\"scanType\":\"ENHANCED\",\"rules\":[{\"scanFrequency\":\"CONTINUOUS_SCAN\","
                   "\"repositoryFilters\":[{\"filter\":\"cont\",\"filterType\":\"WILDCARD\"}]},"
                   "{\"scanFrequency\":\"SCAN_ON_PUSH\",\"repositoryFilters\":[{\"filter\":"
                   "\"push\",\"filterType\":\"WILDCARD\"}]}]}");
    char dg[DIGEST_STR_LEN + 1], adg[DIGEST_STR_LEN + 1];
    push_image(&e, DEBIAN_REF, "cont/debian", "v1", dg);
    push_image(&e, DEBIAN_REF, "push/debian", "v1", NULL);
    if (alpine)
        push_image(&e, ALPINE_REF, "cont/alpine", "v1", adg);
    size_t ran;
    ASSERT_EQ(scan_service_run_pending(e.svc, 0, &ran), 0);
    struct scan_rescan_stats st;
    struct diag d = { 0 };
    /* the data has not changed: nothing to do */
    ASSERT_EQ(scan_service_rescan(e.svc, &st, &d), 0);
    ASSERT_EQ(st.evaluated, 0);
    struct scan_summary before;
    ASSERT_EQ(scan_service_summary(e.svc, "cont/debian", dg, &before), 0);
    ASSERT_EQ(before.counts[SEV_HIGH], 1);      /* openssl */
    ASSERT_EQ(before.counts[SEV_CRITICAL], 1);  /* curl */
    ASSERT_EQ(before.counts[SEV_UNDEFINED], 1); /* libxml2 */
    size_t nev = e.events.n;

    /* a day later the data changes */
    e.now = T0 + 86400;
    import_records(e.vdb, "update", osv_update, ARRAY_SIZE(osv_update));
    ASSERT_EQ(scan_service_rescan(e.svc, &st, &d), 0);
    ASSERT_FALSE(st.full);
    ASSERT_EQ(st.to_import, st.from_import + 1);
    ASSERT_EQ(st.pairs, 4); /* zlib, curl, libxml2, musl (changed whether or not pushed) */
    /* the scan-on-push repository is not re-evaluated */
    ASSERT_EQ(st.evaluated, alpine ? 2 : 1);
    ASSERT_EQ(st.created, alpine ? 2 : 1);
    ASSERT_EQ(st.updated, 1);
    ASSERT_EQ(st.closed, 1);
    const struct evrec *cr = find_event(&e, SCAN_EVENT_FINDING_CREATED, "CVE-2099-0004");
    ASSERT_TRUE(cr != NULL);
    ASSERT_TRUE(cr->rescan);
    ASSERT_STREQ(cr->repo, "cont/debian");
    ASSERT_STREQ(cr->fstatus, "ACTIVE");
    ASSERT_EQ(cr->first, T0 + 86400);
    ASSERT_EQ(cr->last, T0 + 86400);
    const struct evrec *up = find_event(&e, SCAN_EVENT_FINDING_UPDATED, "CVE-2099-0002");
    ASSERT_TRUE(up != NULL);
    ASSERT_STREQ(up->fix, "YES"); /* was NO: the fix became available */
    ASSERT_EQ(up->first, T0);     /* first observed at the scan */
    ASSERT_EQ(up->last, T0 + 86400);
    ASSERT_EQ(up->updated, T0 + 86400);
    const struct evrec *cl = find_event(&e, SCAN_EVENT_FINDING_CLOSED, "CVE-2099-0003");
    ASSERT_TRUE(cl != NULL);
    ASSERT_STREQ(cl->fstatus, "CLOSED");
    ASSERT_EQ(cl->first, T0);
    ASSERT_EQ(cl->last, T0); /* last seen at the scan */
    ASSERT_EQ(cl->updated, T0 + 86400);
    if (alpine)
        ASSERT_TRUE(find_event(&e, SCAN_EVENT_FINDING_CREATED, "CVE-2099-1002") != NULL);
    /* no event for the untouched openssl finding, none for the scan-on-push repository */
    for (size_t i = nev; i < e.events.n; i++) {
        ASSERT_TRUE(strcmp(e.events.v[i].vuln, "CVE-2099-0001") != 0);
        ASSERT_TRUE(strcmp(e.events.v[i].repo, "push/debian") != 0);
    }
    ASSERT_EQ(e.events.n - nev, alpine ? 4 : 3);

    /* the stored state answers the API: counts and findings follow */
    struct scan_summary after;
    ASSERT_EQ(scan_service_summary(e.svc, "cont/debian", dg, &after), 0);
    ASSERT_EQ(after.counts[SEV_UNDEFINED], 0);
    ASSERT_EQ(after.counts[SEV_MEDIUM], 1); /* zlib */
    ASSERT_EQ(after.counts[SEV_CRITICAL], 1);
    ASSERT_EQ(after.evaluated_at, T0 + 86400);
    ASSERT_EQ(after.completed_at, T0);
    size_t pages;
    json_t *all = all_findings(&e, "cont/debian", dg, 100, true, NULL, &pages);
    ASSERT_EQ(json_array_size(all), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *f = json_array_get(all, i);
        const char *id = json_string_value(
            json_object_get(json_object_get(f, "packageVulnerabilityDetails"), "vulnerabilityId"));
        ASSERT_TRUE(strcmp(id, "CVE-2099-0003") != 0);
        if (strcmp(id, "CVE-2099-0001") == 0) { /* untouched: as scanned */
            ASSERT_EQ(json_integer_value(json_object_get(f, "lastObservedAt")), T0);
            ASSERT_EQ(json_integer_value(json_object_get(f, "updatedAt")), T0);
        }
        if (strcmp(id, "CVE-2099-0002") == 0)
            ASSERT_STREQ(json_string_value(json_object_get(f, "fixAvailable")), "YES");
    }
    json_decref(all);
    /* the re-evaluation equals a fresh scan with the new data */
    struct expect x;
    vigil_scan(e.vdb, DEBIAN_REF, true, &x);
    assert_counts(after.counts, x.counts);
    json_decref(x.doc);
    /* the scan-on-push copy keeps its old findings */
    char pdg[DIGEST_STR_LEN + 1];
    memcpy(pdg, dg, sizeof(pdg));
    struct scan_summary ps;
    ASSERT_EQ(scan_service_summary(e.svc, "push/debian", pdg, &ps), 0);
    assert_counts(ps.counts, before.counts);

    /* nothing new: nothing happens */
    size_t n2 = e.events.n;
    ASSERT_EQ(scan_service_rescan(e.svc, &st, &d), 0);
    ASSERT_EQ(st.evaluated, 0);
    ASSERT_EQ(e.events.n, n2);

    /* a later scan of the same image keeps first-observed times and closes nothing new */
    e.now = T0 + 2 * 86400;
    struct scan_status_info si;
    ASSERT_EQ(scan_service_start_scan(e.svc, "cont/debian", dg, &si, &d), 0);
    ASSERT_EQ(si.status, SCAN_STATUS_PENDING);
    ASSERT_EQ(scan_service_run_pending(e.svc, 0, &ran), 0);
    ASSERT_EQ(scan_service_summary(e.svc, "cont/debian", dg, &after), 0);
    ASSERT_EQ(after.status, SCAN_STATUS_ACTIVE);
    ASSERT_EQ(after.completed_at, T0 + 2 * 86400);
    all = all_findings(&e, "cont/debian", dg, 100, true, NULL, &pages);
    ASSERT_EQ(json_array_size(all), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *f = json_array_get(all, i);
        ASSERT_EQ(json_integer_value(json_object_get(f, "lastObservedAt")), T0 + 2 * 86400);
        ASSERT_TRUE(json_integer_value(json_object_get(f, "firstObservedAt")) <= T0 + 86400);
    }
    json_decref(all);
    ASSERT_EQ(count_events(&e, SCAN_EVENT_FINDING_CLOSED), 1);

    /* a rebuilt database (import ids start again) re-evaluates everything */
    char *paths[2] = { xasprintf("%s/base.jsonl", test_tmpdir()),
                       xasprintf("%s/update.jsonl", test_tmpdir()) };
    struct import_opts io = { .rebuild = true, .max_warnings = 1 };
    struct import_stats ist;
    enum log_level saved = log_threshold;
    log_set_level(LOG_ERROR);
    ASSERT_EQ(vulndb_import(e.vdb, paths, 2, &io, &ist, &d), 0);
    log_set_level(saved);
    free(paths[0]);
    free(paths[1]);
    e.now = T0 + 3 * 86400;
    n2 = e.events.n;
    ASSERT_EQ(scan_service_rescan(e.svc, &st, &d), 0);
    ASSERT_TRUE(st.full);
    ASSERT_EQ(st.evaluated, alpine ? 2 : 1);
    ASSERT_EQ(e.events.n, n2); /* same data: no finding changed */
    env_close(&e);
}

TEST(scansvc_continuous_eligibility_expires)
{
    if (!have_image(DEBIAN_REF))
        return;
    struct env e;
    env_open(&e, "expire");
    scan_service_free(e.svc);
    /* eligibility counts from the push, which the registry dates with the real clock */
    e.now = (int64_t)time(NULL);
    e.scfg.continuous_duration_s = 30 * 86400;
    env_svc_open(&e);
    set_config(&e, "{\"scanType\":\"ENHANCED\",\"rules\":[{\"scanFrequency\":\"CONTINUOUS_SCAN\","
                   "\"repositoryFilters\":[{\"filter\":\"*\",\"filterType\":\"WILDCARD\"}]}]}");
    char dg[DIGEST_STR_LEN + 1];
    push_image(&e, DEBIAN_REF, "old/app", "v1", dg);
    size_t ran;
    ASSERT_EQ(scan_service_run_pending(e.svc, 0, &ran), 0);
    e.now += 31 * 86400;
    import_records(e.vdb, "update", osv_update, ARRAY_SIZE(osv_update));
    struct scan_rescan_stats st;
    struct diag d = { 0 };
    size_t n = e.events.n;
    ASSERT_EQ(scan_service_rescan(e.svc, &st, &d), 0);
    ASSERT_EQ(st.expired, 1);
    ASSERT_EQ(st.evaluated, 0);
    ASSERT_EQ(e.events.n, n);
    struct scan_summary sum;
    ASSERT_EQ(scan_service_summary(e.svc, "old/app", dg, &sum), 0);
    ASSERT_EQ(sum.status, SCAN_STATUS_SCAN_ELIGIBILITY_EXPIRED);
    env_close(&e);
}

TEST(scansvc_config_change_queues_coverage)
{
    if (!have_image(DEBIAN_REF))
        return;
    struct env e;
    env_open(&e, "coverage");
    char dg[DIGEST_STR_LEN + 1];
    push_image(&e, DEBIAN_REF, "prod/app", "v1", dg);
    push_image(&e, DEBIAN_REF, "dev/app", "v1", NULL);
    ASSERT_EQ(sql_int(&e, "SELECT COUNT(*) FROM scan_jobs"), 0);
    /* switching to ENHANCED continuous scanning of prod* covers the image already there */
    set_config(&e, "{\"scanType\":\"ENHANCED\",\"rules\":[{\"scanFrequency\":\"CONTINUOUS_SCAN\","
                   "\"repositoryFilters\":[{\"filter\":\"prod*\",\"filterType\":\"WILDCARD\"}]}]}");
    ASSERT_EQ(sql_int(&e, "SELECT COUNT(*) FROM scan_jobs"), 1);
    size_t ran;
    ASSERT_EQ(scan_service_run_pending(e.svc, 0, &ran), 0);
    struct scan_summary sum;
    ASSERT_EQ(scan_service_summary(e.svc, "prod/app", dg, &sum), 0);
    ASSERT_EQ(sum.status, SCAN_STATUS_ACTIVE);
    ASSERT_EQ(scan_service_summary(e.svc, "dev/app", dg, &sum), -ENOENT);
    /* storing the same configuration again queues nothing */
    set_config(&e, "{\"scanType\":\"ENHANCED\",\"rules\":[{\"scanFrequency\":\"CONTINUOUS_SCAN\","
                   "\"repositoryFilters\":[{\"filter\":\"prod*\",\"filterType\":\"WILDCARD\"}]}]}");
    ASSERT_EQ(sql_int(&e, "SELECT COUNT(*) FROM scan_jobs"), 0);
    struct scan_config cfg;
    ASSERT_EQ(scan_config_load(env_conn(&e), &cfg), 0);
    ASSERT_EQ(cfg.type, SCAN_TYPE_ENHANCED);
    ASSERT_EQ(cfg.nrules, 1);
    ASSERT_STREQ(cfg.rules[0].filters[0], "prod*");
    scan_config_release(&cfg);
    env_close(&e);
}

/* Worker threads: a push wakes them and the scan completes without run_pending. */
TEST(scansvc_worker_threads)
{
    if (!have_image(DEBIAN_REF))
        return;
    struct env e;
    env_open(&e, "threads");
    scan_service_free(e.svc);
    e.scfg.workers = 2;
    e.scfg.now = NULL; /* the real clock: workers wait with it */
    env_svc_open(&e);
    set_config(&e, "{\"rules\":[{\"scanFrequency\":\"SCAN_ON_PUSH\",\"repositoryFilters\":[{"
                   "\"filter\":\"*\",\"filterType\":\"WILDCARD\"}]}]}");
    char dg[DIGEST_STR_LEN + 1];
    push_image(&e, DEBIAN_REF, "t/app", "v1", dg);
    push_tiny(&e, "t/app", "tiny", "etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n", true, NULL);
    struct scan_summary sum = { 0 };
    for (int i = 0; i < 600; i++) { /* bounded: 60 s */
        if (scan_service_summary(e.svc, "t/app", dg, &sum) == 0 &&
            sum.status == SCAN_STATUS_COMPLETE &&
            sql_int(&e, "SELECT COUNT(*) FROM scan_jobs") == 0)
            break;
        usleep(100 * 1000);
    }
    ASSERT_EQ(sum.status, SCAN_STATUS_COMPLETE);
    ASSERT_EQ(sql_int(&e, "SELECT COUNT(*) FROM scan_jobs"), 0);
    ASSERT_EQ(sql_int(&e, "SELECT COUNT(*) FROM scan_results WHERE status = 2"), 2);
    scan_service_stop(e.svc);
    env_close(&e);
}
