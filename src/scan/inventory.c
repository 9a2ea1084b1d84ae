/* SPDX-License-Identifier: Apache-2.0 */
/* Build an image's inventory: resolve the image, collect each layer (from the layer cache or
 * by streaming its blob once), merge the layers, detect the OS and parse the OS package
 * databases, and attribute every package to the layer that brought it in. */
#include "scan/inventory.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xalloc.h"
#include "image/decomp.h"
#include "image/rootfs.h"
#include "pkgdb/apk.h"
#include "pkgdb/codec.h"
#include "pkgdb/dpkg.h"
#include "pkgdb/osrelease.h"
#include "pkgdb/rpm.h"
#include "scan/lang_scan.h"
#include "scan/layer_cache.h"

/* Bump when the set of paths of interest or what is kept of them changes, so cached layers
 * are read again. The cache key is INTEREST_VERSION * 2 + (language analyzers on). */
#define INTEREST_VERSION 2

enum db_kind { DB_DPKG, DB_DPKG_DIR, DB_APK, DB_RPM_SQLITE, DB_RPM_NDB, DB_RPM_BDB };

struct os_db {
    const char *path;
    enum db_kind kind;
};

/* Package databases, in the order they are tried within one family (rpm: first found wins). */
static const struct os_db os_dbs[] = {
    { "var/lib/dpkg/status", DB_DPKG },
    { "var/lib/dpkg/status.d", DB_DPKG_DIR },
    { "lib/apk/db/installed", DB_APK },
    { "var/lib/rpm/rpmdb.sqlite", DB_RPM_SQLITE },
    { "usr/lib/sysimage/rpm/rpmdb.sqlite", DB_RPM_SQLITE },
    { "var/lib/rpm/Packages.db", DB_RPM_NDB },
    { "usr/lib/sysimage/rpm/Packages.db", DB_RPM_NDB },
    { "var/lib/rpm/Packages", DB_RPM_BDB },
    { "usr/lib/sysimage/rpm/Packages", DB_RPM_BDB },
};

/* OS identification files, most authoritative first. */
static const char *const os_release_files[] = { "etc/os-release", "usr/lib/os-release" };
static const char *const os_markers[] = {
    "etc/alpine-release", "etc/rocky-release",  "etc/almalinux-release",
    "etc/centos-release", "etc/fedora-release", "etc/redhat-release",
    "etc/system-release", "etc/debian_version", "etc/lsb-release",
};

#define DPKG_DIR_PREFIX "var/lib/dpkg/status.d/"

static bool is_interesting(const char *path)
{
    for (size_t i = 0; i < ARRAY_SIZE(os_dbs); i++) {
        size_t n = strlen(os_dbs[i].path);
        if (strncmp(path, os_dbs[i].path, n) != 0)
            continue;
        if (path[n] == '\0')
            return os_dbs[i].kind != DB_DPKG_DIR;
        if (os_dbs[i].kind == DB_RPM_SQLITE && strcmp(path + n, "-wal") == 0)
            return true;
    }
    if (strncmp(path, DPKG_DIR_PREFIX, strlen(DPKG_DIR_PREFIX)) == 0)
        return !strchr(path + strlen(DPKG_DIR_PREFIX), '/') &&
               !str_has_suffix(str_from(path), ".md5sums");
    for (size_t i = 0; i < ARRAY_SIZE(os_release_files); i++)
        if (strcmp(path, os_release_files[i]) == 0)
            return true;
    for (size_t i = 0; i < ARRAY_SIZE(os_markers); i++)
        if (strcmp(path, os_markers[i]) == 0)
            return true;
    return false;
}

struct action_ctx {
    bool lang;
};

static enum layer_action layer_action_for(const char *path, uint64_t size, uint32_t mode, void *ctx)
{
    const struct action_ctx *c = ctx;
    if (is_interesting(path))
        return LAYER_KEEP;
    return c->lang ? lang_action(path, size, mode) : LAYER_SKIP;
}

void inventory_init(struct inventory *inv)
{
    memset(inv, 0, sizeof(*inv));
    arena_init(&inv->arena);
}

void inventory_release(struct inventory *inv)
{
    VEC_FREE(&inv->layers);
    VEC_FREE(&inv->pkgs.items);
    VEC_FREE(&inv->warnings);
    arena_release(&inv->arena);
}

static void inv_warn(struct inventory *inv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void inv_warn(struct inventory *inv, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    VEC_PUSH(&inv->warnings, arena_strdup(&inv->arena, line));
    log_warn("inventory", "%s", line);
}

/* A parsed view of the package databases after some layer. */
struct snapshot {
    int layer;         /* first layer this view holds for */
    const char *error; /* a database did not parse: the view is taken as empty */
    struct pkg_list pkgs;
};

struct build {
    struct inventory *inv;
    const char *ref;
    struct image_info info;
    struct layer_contents *lcs;
    size_t nlcs;
    struct rootfs *fs;
    VEC(struct snapshot) snaps;
    uint64_t db_signature;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

static uint64_t hash_cstr(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

struct sig_ctx {
    uint64_t h;
};

static int sig_file(const char *path, const struct layer_file *f, int layer, void *ctx)
{
    struct sig_ctx *s = ctx;
    (void)f;
    if (str_has_suffix(str_from(path), ".md5sums"))
        return 0;
    s->h = mix(s->h, hash_cstr(path));
    s->h = mix(s->h, (uint64_t)layer + 1);
    return 0;
}

/* Which database files are visible and from which layers: it changes exactly when the
 * parsed view may change. */
static uint64_t db_signature(const struct rootfs *fs)
{
    struct sig_ctx s = { 7 };
    struct rootfs_hit hit;
    for (size_t i = 0; i < ARRAY_SIZE(os_dbs); i++) {
        if (os_dbs[i].kind == DB_DPKG_DIR) {
            rootfs_foreach(fs, DPKG_DIR_PREFIX, sig_file, &s);
            continue;
        }
        int rc = rootfs_lookup(fs, os_dbs[i].path, &hit);
        s.h = mix(s.h, (uint64_t)(rc + 5));
        if (rc == 1)
            s.h = mix(s.h, (uint64_t)hit.layer + 1);
    }
    return s.h;
}

static const char *layer_label(struct build *b, int layer, char *out, size_t n)
{
    if (layer >= 0 && (size_t)layer < b->info.nlayers)
        snprintf(out, n, "layer %s (%d/%zu)", b->info.layers[layer].digest, layer + 1,
                 b->info.nlayers);
    else
        snprintf(out, n, "layer ?");
    return out;
}

static int parse_db(struct build *b, const struct os_db *db, const struct rootfs_hit *hit,
                    struct pkg_list *out, struct diag *d)
{
    const struct layer_file *f = hit->file;
    struct arena *a = &b->inv->arena;
    char lbl[256];
    if (f->too_big)
        return diag_set(
            d, -ERR_TOO_BIG, 0, "image '%s': %s: %s: file of %llu bytes exceeds the cap", b->ref,
            layer_label(b, hit->layer, lbl, sizeof(lbl)), hit->path, (unsigned long long)f->size);
    struct diag pd = { 0 };
    int rc = 0;
    switch (db->kind) {
    case DB_DPKG:
    case DB_DPKG_DIR:
        rc = dpkg_parse_status(f->data, hit->path, a, out, &pd);
        break;
    case DB_APK:
        rc = apk_parse_installed(f->data, hit->path, a, out, &pd);
        break;
    case DB_RPM_SQLITE: {
        char walpath[4200];
        struct rootfs_hit wal;
        struct str wal_data = STR_NULL;
        snprintf(walpath, sizeof(walpath), "%s-wal", db->path);
        if (rootfs_lookup(b->fs, walpath, &wal) == 1 && wal.file->data.ptr)
            wal_data = wal.file->data;
        rc = rpm_parse_sqlite(f->data, wal_data, hit->path, a, out, &pd);
        break;
    }
    case DB_RPM_NDB:
        rc = rpm_parse_ndb(f->data, hit->path, a, out, &pd);
        break;
    case DB_RPM_BDB:
        rc = rpm_parse_bdb(f->data, hit->path, a, out, &pd);
        break;
    }
    if (rc)
        return diag_set(d, rc, pd.offset, "image '%s': %s: %s: %s", b->ref,
                        layer_label(b, hit->layer, lbl, sizeof(lbl)), hit->path,
                        pd.msg[0] ? pd.msg : err_str(rc));
    return 0;
}

struct dir_ctx {
    struct build *b;
    const struct os_db *db;
    struct pkg_list *out;
    struct diag *d;
    int rc;
};

static int parse_dir_file(const char *path, const struct layer_file *f, int layer, void *ctx)
{
    struct dir_ctx *c = ctx;
    if (str_has_suffix(str_from(path), ".md5sums") || strchr(path + strlen(DPKG_DIR_PREFIX), '/'))
        return 0;
    struct rootfs_hit hit = { .file = f, .layer = layer };
    snprintf(hit.path, sizeof(hit.path), "%s", path);
    c->rc = parse_db(c->b, c->db, &hit, c->out, c->d);
    return c->rc;
}

/* Parse every package database visible now into out. */
static int parse_all_dbs(struct build *b, struct pkg_list *out, struct diag *d)
{
    bool rpm_done = false;
    for (size_t i = 0; i < ARRAY_SIZE(os_dbs); i++) {
        const struct os_db *db = &os_dbs[i];
        bool is_rpm = db->kind == DB_RPM_SQLITE || db->kind == DB_RPM_NDB || db->kind == DB_RPM_BDB;
        if (is_rpm && rpm_done)
            continue;
        if (db->kind == DB_DPKG_DIR) {
            struct dir_ctx c = { b, db, out, d, 0 };
            rootfs_foreach(b->fs, DPKG_DIR_PREFIX, parse_dir_file, &c);
            if (c.rc)
                return c.rc;
            continue;
        }
        struct rootfs_hit hit;
        int rc = rootfs_lookup(b->fs, db->path, &hit);
        if (rc < 0)
            return diag_set(d, rc, 0, "image '%s': %s: %s", b->ref, db->path, err_str(rc));
        if (rc == 0)
            continue;
        rc = parse_db(b, db, &hit, out, d);
        if (rc)
            return rc;
        if (is_rpm)
            rpm_done = true;
    }
    return 0;
}

static int detect_os(struct build *b, struct diag *d)
{
    struct inventory_os *os = &b->inv->os;
    struct arena *a = &b->inv->arena;
    struct os_info info;
    struct rootfs_hit hit;
    os->id = os->version_id = os->codename = os->pretty_name = os->source = "";
    for (size_t i = 0; i < ARRAY_SIZE(os_release_files) + ARRAY_SIZE(os_markers); i++) {
        bool is_release = i < ARRAY_SIZE(os_release_files);
        const char *path =
            is_release ? os_release_files[i] : os_markers[i - ARRAY_SIZE(os_release_files)];
        int rc = rootfs_lookup(b->fs, path, &hit);
        if (rc == -ERR_LOOP)
            return diag_set(d, rc, 0, "image '%s': %s: too many levels of symbolic links", b->ref,
                            path);
        if (rc != 1 || !hit.file->data.ptr)
            continue;
        struct diag pd = { 0 };
        memset(&info, 0, sizeof(info));
        rc = is_release ? osrelease_parse(hit.file->data, a, &info, &pd)
                        : osrelease_from_marker(path, hit.file->data, a, &info, &pd);
        if (rc) {
            char lbl[256];
            inv_warn(b->inv, "image '%s': %s: %s: %s", b->ref,
                     layer_label(b, hit.layer, lbl, sizeof(lbl)), hit.path, pd.msg);
            continue;
        }
        if (!info.id || !*info.id)
            continue;
        os->id = info.id;
        os->version_id = info.version_id ? info.version_id : "";
        os->codename = info.version_codename ? info.version_codename : "";
        os->pretty_name = info.pretty_name ? info.pretty_name : "";
        os->source = arena_strdup(a, path);
        /* os-release may lack the version (Debian testing): fill it from the marker */
        if (is_release && !*os->version_id)
            continue;
        return 0;
    }
    return 0;
}

static const char *pkg_key(struct arena *a, const struct pkg *p)
{
    size_t n = strlen(p->name) + strlen(p->arch) + strlen(p->version) + 3;
    char *k = arena_alloc(a, n);
    snprintf(k, n, "%s\x1f%s\x1f%s", p->name, p->arch, p->version);
    return k;
}

static int cmp_cstr_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Attribute each final package to the earliest layer from which it stayed unchanged. */
static void attribute_layers(struct build *b)
{
    struct arena tmp;
    arena_init(&tmp);
    size_t ns = b->snaps.n;
    const char ***keys = xcalloc(ns, sizeof(*keys));
    for (size_t s = 0; s < ns; s++) {
        struct pkg_list *l = &b->snaps.v[s].pkgs;
        keys[s] = arena_alloc(&tmp, (l->items.n + 1) * sizeof(char *));
        for (size_t i = 0; i < l->items.n; i++)
            keys[s][i] = pkg_key(&tmp, &l->items.v[i]);
        qsort(keys[s], l->items.n, sizeof(char *), cmp_cstr_ptr);
    }
    struct pkg_list *final = &b->snaps.v[ns - 1].pkgs;
    for (size_t i = 0; i < final->items.n; i++) {
        const char *k = pkg_key(&tmp, &final->items.v[i]);
        int layer = b->snaps.v[ns - 1].layer;
        for (size_t s = ns - 1; s-- > 0;) {
            struct pkg_list *l = &b->snaps.v[s].pkgs;
            if (!bsearch(&k, keys[s], l->items.n, sizeof(char *), cmp_cstr_ptr))
                break;
            layer = b->snaps.v[s].layer;
        }
        final->items.v[i].layer = layer;
    }
    free(keys);
    arena_release(&tmp);
}

/* rootfs_foreach callback: the packages an analyzed language file recorded, attributed to
 * the layer the file comes from; a file whose analysis failed is a warning naming it. */
static int collect_lang_file(const char *path, const struct layer_file *f, int layer, void *ctx)
{
    struct build *b = ctx;
    char lbl[256];
    if (!f->analyzed || f->data.len == 0) /* not a language file, or one with no packages */
        return 0;
    if (f->failed) {
        inv_warn(b->inv, "image '%s': %s: %s: %.*s (skipped)", b->ref,
                 layer_label(b, layer, lbl, sizeof(lbl)), path, (int)f->data.len, f->data.ptr);
        return 0;
    }
    size_t start = b->inv->pkgs.items.n;
    struct diag d = { 0 };
    if (pkg_list_decode(f->data, &b->inv->arena, &b->inv->pkgs, &d) != 0) {
        inv_warn(b->inv, "image '%s': %s: %s: %s (skipped)", b->ref,
                 layer_label(b, layer, lbl, sizeof(lbl)), path, d.msg);
        return 0;
    }
    for (size_t i = start; i < b->inv->pkgs.items.n; i++)
        b->inv->pkgs.items.v[i].layer = layer;
    return 0;
}

static int collect_layer(struct build *b, struct image_source *src, size_t i,
                         const struct inventory_opts *o, struct layer_contents *lc, struct diag *d)
{
    const struct image_layer *l = &b->info.layers[i];
    char lbl[256];
    struct reader *blob = NULL, *tar = NULL;
    struct diag ld = { 0 };
    enum compression kind;
    int rc = image_source_open_blob(src, l, &blob, &ld);
    if (rc)
        goto fail;
    struct decomp_limits dl = { 0 };
    rc = decomp_open(blob, &dl, &tar, &kind, &ld);
    blob = NULL; /* owned by tar now */
    if (rc)
        goto fail;
    struct layer_limits lim = { o->max_file, o->max_total };
    struct action_ctx ac = { !o->no_lang };
    struct layer_hooks hooks = { layer_action_for, lang_analyze, &ac };
    rc = layer_collect_ex(tar, &hooks, &lim, lc, &ld);
    if (rc)
        goto fail;
    /* drain to the end so the digest of the whole blob is verified */
    rc = reader_skip(tar, ~0ULL);
    if (rc == -ERR_TRUNCATED)
        rc = 0;
    if (rc) {
        ld = tar->diag;
        goto fail;
    }
    reader_close(tar);
    return 0;
fail:
    reader_close(tar);
    reader_close(blob);
    return diag_set(d, rc, ld.offset, "image '%s': %s: %s", b->ref,
                    layer_label(b, (int)i, lbl, sizeof(lbl)), ld.msg[0] ? ld.msg : err_str(rc));
}

int inventory_build(const char *ref, const struct inventory_opts *o, struct inventory *inv,
                    struct diag *d)
{
    struct image_source *src = NULL;
    int rc = image_source_open(ref, &o->image, &src, d);
    if (rc)
        return rc;
    rc = inventory_build_source(src, ref, o, inv, d);
    image_source_close(src);
    return rc;
}

int inventory_build_source(struct image_source *src, const char *ref,
                           const struct inventory_opts *o, struct inventory *inv, struct diag *d)
{
    struct build b = { .inv = inv, .ref = ref };
    struct layer_cache *cache = NULL;
    struct arena *a = &inv->arena;
    int rc = image_source_resolve(src, &b.info, d);
    if (rc)
        goto out;
    inv->image_ref = arena_strdup(a, ref);
    inv->image_name = arena_strdup(a, b.info.name ? b.info.name : ref);
    inv->manifest_digest = arena_strdup(a, b.info.manifest_digest ? b.info.manifest_digest : "");
    inv->config_digest = arena_strdup(a, b.info.config_digest ? b.info.config_digest : "");
    {
        char plat[256];
        snprintf(plat, sizeof(plat), "%s/%s%s%s", b.info.os ? b.info.os : "linux",
                 b.info.architecture ? b.info.architecture : "unknown", b.info.variant ? "/" : "",
                 b.info.variant ? b.info.variant : "");
        inv->platform = arena_strdup(a, plat);
    }
    if (o->cache_dir) {
        struct diag cd = { 0 };
        if (layer_cache_open(o->cache_dir, &cache, &cd) != 0)
            log_warn("inventory", "layer cache disabled: %s", cd.msg);
    }
    unsigned interest = INTEREST_VERSION * 2 + (o->no_lang ? 0 : 1);
    b.nlcs = b.info.nlayers;
    b.lcs = xcalloc(b.nlcs ? b.nlcs : 1, sizeof(*b.lcs));
    b.fs = rootfs_new();
    for (size_t i = 0; i < b.info.nlayers; i++) {
        const struct image_layer *l = &b.info.layers[i];
        struct layer_contents *lc = &b.lcs[i];
        layer_contents_init(lc);
        struct inventory_layer il = { arena_strdup(a, l->digest),
                                      arena_strdup(a, l->diff_id ? l->diff_id : ""), l->size,
                                      false };
        if (cache && layer_cache_get(cache, l->digest, interest, lc) == 1) {
            il.from_cache = true;
        } else {
            rc = collect_layer(&b, src, i, o, lc, d);
            if (rc)
                goto out;
            if (cache)
                layer_cache_put(cache, l->digest, interest, lc);
        }
        VEC_PUSH(&inv->layers, il);
        rootfs_apply(b.fs, lc, (int)i);
        uint64_t sig = db_signature(b.fs);
        if (i == 0 || sig != b.db_signature) {
            struct snapshot s = { (int)i, NULL, { VEC_INIT } };
            struct diag pd = { 0 };
            if (parse_all_dbs(&b, &s.pkgs, &pd) != 0) {
                /* an intermediate state that does not parse only costs attribution accuracy
                 * (a warning once a later layer replaces it); the final state must parse */
                VEC_FREE(&s.pkgs.items);
                s.error = arena_strdup(&inv->arena, pd.msg);
            }
            VEC_PUSH(&b.snaps, s);
            b.db_signature = sig;
        }
    }
    if (b.snaps.n == 0) {
        struct snapshot s = { 0, NULL, { VEC_INIT } };
        VEC_PUSH(&b.snaps, s);
    }
    for (size_t i = 0; i + 1 < b.snaps.n; i++)
        if (b.snaps.v[i].error)
            inv_warn(inv, "%s (a later layer replaces it)", b.snaps.v[i].error);
    if (b.snaps.v[b.snaps.n - 1].error) {
        struct pkg_list tmp = { VEC_INIT };
        rc = parse_all_dbs(&b, &tmp, d);
        VEC_FREE(&tmp.items);
        if (!rc)
            rc = diag_set(d, -ERR_INTERNAL, 0, "image '%s': package database state changed", ref);
        goto out;
    }
    rc = detect_os(&b, d);
    if (rc)
        goto out;
    attribute_layers(&b);
    inv->pkgs = b.snaps.v[b.snaps.n - 1].pkgs;
    b.snaps.v[b.snaps.n - 1].pkgs = (struct pkg_list){ VEC_INIT };
    if (!o->no_lang)
        rootfs_foreach(b.fs, "", collect_lang_file, &b);
out:
    for (size_t s = 0; s < b.snaps.n; s++)
        VEC_FREE(&b.snaps.v[s].pkgs.items);
    VEC_FREE(&b.snaps);
    if (b.fs)
        rootfs_free(b.fs);
    for (size_t i = 0; b.lcs && i < b.nlcs; i++)
        layer_contents_release(&b.lcs[i]);
    free(b.lcs);
    layer_cache_close(cache);
    image_info_release(&b.info);
    return rc;
}
