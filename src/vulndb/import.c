/* SPDX-License-Identifier: Apache-2.0 */
/* `vigil db import`: input discovery (files, directories, zip), document readers, and the
 * record -> rows digestion into vulndb.sqlite, incremental by record id and `modified`. */
#include "vulndb/import.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zdict.h>
#include <zlib.h>
#include <zstd.h>

#include "base/buf.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/vec.h"
#include "base/xalloc.h"
#include "base/zip.h"
#include "vulndb/cvss.h"
#include "vulndb/db.h"
#include "vulndb/match.h"
#include "vulndb/osv.h"

#define MAX_DIR_DEPTH  32
#define MAX_ZIP_MEMBER (64u << 20)
#define MAX_ZIP_FILE   (4ull << 30)
#define KEEP_IMPORTS   20 /* change records of this many imports are kept */
#define MAX_REFS       16 /* references kept per record (the rest are in the source) */
#define DICT_SIZE      (32u << 10)
#define DICT_SAMPLES   1000000     /* texts of a source held back for its dictionary */
#define DICT_SAMPLE_MB (64u << 20) /* ... and bytes: a source's whole file, usually */
#define DICT_TRAIN_MB  (4u << 20)  /* training uses an evenly spread subset this large */
#define DICT_MIN       64          /* fewer texts than this: no dictionary */
#define ZSTD_LEVEL     3

/* ---- small string map (id -> value) ---------------------------------------------------- */

struct kv_slot {
    const char *key;
    uint64_t hash;
    int64_t val;
    int64_t aux;
};

struct kv_map {
    struct kv_slot *slots;
    size_t cap, n;
};

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}
#define FNV_INIT 1469598103934665603ULL

static void kv_release(struct kv_map *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

static void kv_grow(struct kv_map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 1024;
    struct kv_slot *ns = xcalloc(ncap, sizeof(*ns));
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

/* The slot for key (n bytes), or NULL. With `create`, a new slot is added whose key is copied
 * into arena a and whose val is -1. */
static struct kv_slot *kv_find(struct kv_map *m, const char *key, size_t n, bool create,
                               struct arena *a)
{
    if ((m->n + 1) * 4 > m->cap * 3) {
        if (!create && !m->cap)
            return NULL;
        kv_grow(m);
    }
    uint64_t h = fnv(key, n, FNV_INIT);
    size_t j = h & (m->cap - 1);
    while (m->slots[j].key) {
        if (m->slots[j].hash == h && strncmp(m->slots[j].key, key, n) == 0 &&
            m->slots[j].key[n] == '\0')
            return &m->slots[j];
        j = (j + 1) & (m->cap - 1);
    }
    if (!create)
        return NULL;
    m->slots[j].key = arena_strndup(a, key, n);
    m->slots[j].hash = h;
    m->slots[j].val = -1;
    m->slots[j].aux = 0;
    m->n++;
    return &m->slots[j];
}

struct i64_vec {
    int64_t *v;
    size_t n, cap;
};

/* ---- the importer ---------------------------------------------------------------------- */

enum input_kind { IN_LINES, IN_DOC, IN_ZIP };

struct input {
    char *path;
    char *label;
    enum input_kind kind;
    enum vin_kind content; /* kind of its first document */
    bool needs_phase2;     /* holds NVD/CISA documents, read after all advisories */
    unsigned long long docs, skipped;
};

/* NVD/CISA severity is kept only for CVEs some advisory names, so it is read in a second
 * phase, after every advisory of the run. */
#define STOP_FILE 1 /* a reader callback's "stop reading this file" (not an error) */

enum {
    S_SEL_ADV,
    S_INS_ADV,
    S_UPD_ADV,
    S_INS_ALIAS,
    S_DEL_ALIAS,
    S_SEL_ENTRIES,
    S_SET_ENTRIES,
    S_INS_PKG,
    S_INS_ECO,
    S_INS_CHANGE,
    S_INS_CHANGE_PKG,
    S_ALIAS_EXISTS,
    S_OSV_NAMED,
    S_SEL_CVE,
    S_UPS_CVE,
    S_CVE_PKGS,
    S_SET_TEXT,
    S_INS_DICT,
    S_SET_SOURCE,
    S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_SEL_ADV] = "SELECT id, modified, withdrawn, keys, vendor_severity, cvss, pkgs, aliases,"
                  " source FROM advisories WHERE name = ?1",
    [S_INS_ADV] = "INSERT INTO advisories(name, kind, modified, published, withdrawn, source,"
                  " keys, summary, vendor_severity, cvss, text, aliases, pkgs)"
                  " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
    [S_UPD_ADV] = "UPDATE advisories SET kind=?2, modified=?3, published=?4, withdrawn=?5,"
                  " source=?6, keys=?7, summary=?8, vendor_severity=?9, cvss=?10, text=?11,"
                  " aliases=?12, pkgs=?13 WHERE id=?1",
    [S_INS_ALIAS] = "INSERT OR IGNORE INTO aliases(alias, adv) VALUES(?1, ?2)",
    [S_DEL_ALIAS] = "DELETE FROM aliases WHERE alias = ?1 AND adv = ?2",
    [S_SEL_ENTRIES] = "SELECT entries FROM packages WHERE id = ?1",
    [S_SET_ENTRIES] = "UPDATE packages SET entries = ?2 WHERE id = ?1",
    [S_INS_PKG] = "INSERT INTO packages(id, eco, name, entries) VALUES(?1, ?2, ?3, ?4)",
    [S_INS_ECO] = "INSERT INTO ecosystems(name) VALUES(?1)",
    [S_INS_CHANGE] = "INSERT INTO changes(import_id, advisory, kind, reason) VALUES(?1,?2,?3,?4)",
    [S_INS_CHANGE_PKG] = "INSERT OR IGNORE INTO change_pkgs(change, pkg) VALUES(?1, ?2)",
    [S_ALIAS_EXISTS] = "SELECT 1 FROM aliases WHERE alias = ?1 LIMIT 1",
    [S_OSV_NAMED] = "SELECT 1 FROM advisories WHERE name = ?1 AND kind = 1 AND withdrawn IS NULL",
    [S_SEL_CVE] = "SELECT modified, cvss FROM cve_info WHERE cve = ?1 AND source = ?2",
    [S_UPS_CVE] = "INSERT OR REPLACE INTO cve_info(cve, source, modified, published, cvss,"
                  " description) VALUES(?1,?2,?3,?4,?5,?6)",
    [S_CVE_PKGS] = "SELECT v.pkgs FROM aliases al JOIN advisories v ON v.id = al.adv"
                   " WHERE al.alias = ?1",
    [S_SET_TEXT] = "UPDATE advisories SET text = ?2 WHERE id = ?1",
    [S_INS_DICT] = "INSERT INTO dicts(label, dict) VALUES(?1, ?2)",
    [S_SET_SOURCE] = "UPDATE advisories SET source = ?2 WHERE id = ?1",
};

/* A source's text dictionary: texts are held back (their advisory rows written without text)
 * until enough samples exist to train it; then those rows get their text and later texts are
 * compressed at once. */
struct tdict {
    char *label;
    int64_t id; /* dicts.id; 0 = no dictionary */
    ZSTD_CDict *cdict;
    bool settled; /* trained, loaded, or given up: compress immediately */
    struct buf samples;
    VEC(size_t) sizes;
    VEC(int64_t) rows; /* advisory rowid per sample; 0 when a newer copy superseded it */
};

/* An entry added to a package in this run: advisory, and where its row bytes are in
 * importer.added. */
struct add_ent {
    int64_t adv;
    size_t off, len;
};

/* What this run does to one package's entry list (see db.h: packages.entries). */
struct pkg_edit {
    bool touched;
    bool orig_loaded;
    unsigned char *orig; /* entries as stored before this run (malloc'd; NULL = none) */
    size_t orig_len;
    struct i64_vec drop; /* advisories whose stored entries go */
    VEC(struct add_ent) adds;
};

struct new_pkg {
    int64_t id, eco;
    const char *name; /* in importer.arena */
};

struct new_pkg_vec {
    struct new_pkg *v;
    size_t n, cap;
};

/* One affected row being written: package id, hash of its bytes, where its bytes are. */
struct new_row {
    int64_t pkg;
    size_t off, len;
};

struct importer {
    sqlite3 *db;
    bool fresh;
    bool record_changes;
    int64_t import_id;
    const struct import_opts *o;
    struct import_stats *st;
    sqlite3_stmt *s[S_COUNT];
    struct arena arena; /* map keys */
    struct kv_map ecos; /* ecosystem name -> id */
    struct kv_map pkgs; /* "<eco id>\x1f<name>" -> package id */
    struct kv_map seen; /* record id -> change id of this run (aux: 1 when seen) */
    struct buf row, rows, text, cvss, keys, tmp, aliases, pkglist;
    VEC(struct tdict) dicts;
    ZSTD_CCtx *cctx;
    VEC(struct new_row) new_rows;
    struct i64_vec pairs;
    /* packages: edits of their entry lists, applied once at the end of the run */
    struct pkg_edit *edits; /* indexed by package id */
    size_t edits_cap;
    int64_t next_pkg; /* ids of packages created in this run start here */
    struct new_pkg_vec new_pkgs;
    struct buf added; /* bytes of the entries added in this run */
    struct buf raw;   /* a record's text before compression */
    /* current input, for warnings */
    const char *file;
    const char *label;
    size_t line;
    unsigned file_warnings;
    struct input *in;
    int phase;
};

__attribute__((format(printf, 3, 4))) static void imp_warn(struct importer *im, const char *id,
                                                           const char *fmt, ...)
{
    im->st->warnings++;
    unsigned cap = im->o->max_warnings ? im->o->max_warnings : 20;
    if (++im->file_warnings > cap) {
        if (im->file_warnings == cap + 1)
            log_warn("vulndb", "%s: more warnings for this file are not shown", im->file);
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (im->line && id)
        log_warn("vulndb", "%s:%zu: %s: %s", im->file, im->line, id, msg);
    else if (im->line)
        log_warn("vulndb", "%s:%zu: %s", im->file, im->line, msg);
    else
        log_warn("vulndb", "%s: %s", im->file, msg);
}

static int db_fail(struct importer *im, int rc, const char *what, struct diag *d)
{
    return vdb_error(im->db, rc, what, d);
}

/* step a statement that returns no rows, then reset it */
static int step_done(struct importer *im, sqlite3_stmt *st, const char *what, struct diag *d)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_fail(im, rc, what, d);
    return 0;
}

static int64_t eco_id(struct importer *im, const char *name, struct diag *d, int *err)
{
    struct kv_slot *s = kv_find(&im->ecos, name, strlen(name), true, &im->arena);
    if (s->val >= 0)
        return s->val;
    sqlite3_stmt *st = im->s[S_INS_ECO];
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if ((*err = step_done(im, st, "adding an ecosystem", d)) < 0)
        return -1;
    s->val = sqlite3_last_insert_rowid(im->db);
    return s->val;
}

/* The id of (ecosystem, name); new packages get the next id and are written at the end. */
static int64_t pkg_id(struct importer *im, int64_t eco, const char *name)
{
    buf_reset(&im->tmp);
    buf_printf(&im->tmp, "%lld\x1f%s", (long long)eco, name);
    struct kv_slot *s = kv_find(&im->pkgs, im->tmp.data, im->tmp.len, true, &im->arena);
    if (s->val >= 0)
        return s->val;
    s->val = im->next_pkg++;
    struct new_pkg np = { s->val, eco, arena_strdup(&im->arena, name) };
    VEC_PUSH(&im->new_pkgs, np);
    return s->val;
}

static int load_maps(struct importer *im, struct diag *d)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(im->db, "SELECT id, name FROM ecosystems", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(im, rc, "reading ecosystems", d);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        kv_find(&im->ecos, name, strlen(name), true, &im->arena)->val = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(im, rc, "reading ecosystems", d);
    rc = sqlite3_prepare_v2(im->db, "SELECT id, eco, name FROM packages", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(im, rc, "reading packages", d);
    im->next_pkg = 1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (sqlite3_column_int64(st, 0) >= im->next_pkg)
            im->next_pkg = sqlite3_column_int64(st, 0) + 1;
        buf_reset(&im->tmp);
        buf_printf(&im->tmp, "%lld\x1f%s", (long long)sqlite3_column_int64(st, 1),
                   (const char *)sqlite3_column_text(st, 2));
        kv_find(&im->pkgs, im->tmp.data, im->tmp.len, true, &im->arena)->val =
            sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(im, rc, "reading packages", d);
    return 0;
}

/* ---- per-record digestion -------------------------------------------------------------- */

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static void keys_add(const char ***v, size_t *n, size_t cap, const char *k)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*v)[i], k) == 0)
            return;
    if (*n < cap)
        (*v)[(*n)++] = k;
}

static int id_rank(const char *id)
{
    return has_prefix(id, "MAL-") ? 0 : has_prefix(id, "GHSA-") ? 1 : 2;
}

/* The issue ids a record is about (see match.h): itself for CVE records; the CVEs among its
 * aliases/upstream; for distro fix advisories (DSA, DLA, RHSA, ...), the CVEs they list as
 * related; otherwise one canonical id of its alias set (MAL preferred, then GHSA, else the
 * smallest). */
static size_t record_keys(const struct osv_record *r, const char **keys, size_t cap)
{
    size_t n = 0;
    if (has_prefix(r->id, "CVE-")) {
        keys[n++] = r->id;
        return n;
    }
    for (size_t i = 0; i < r->n_aliases; i++)
        if (has_prefix(r->aliases[i], "CVE-"))
            keys_add(&keys, &n, cap, r->aliases[i]);
    for (size_t i = 0; i < r->n_upstream; i++)
        if (has_prefix(r->upstream[i], "CVE-"))
            keys_add(&keys, &n, cap, r->upstream[i]);
    static const char *const fix_advisories[] = { "DSA-",  "DLA-",  "DTSA-", "RHSA-",
                                                  "RHBA-", "RHEA-", "ALSA-", "RLSA-" };
    bool fix_adv = false;
    for (size_t i = 0; i < ARRAY_SIZE(fix_advisories); i++)
        fix_adv |= has_prefix(r->id, fix_advisories[i]);
    if (n == 0 && fix_adv)
        for (size_t i = 0; i < r->n_related; i++)
            if (has_prefix(r->related[i], "CVE-"))
                keys_add(&keys, &n, cap, r->related[i]);
    if (n)
        return n;
    /* a malicious-package report keeps its MAL id (the finding is of its own kind), else
     * the GitHub advisory names the issue, else the smallest id */
    const char *best = r->id;
    for (size_t i = 0; i < r->n_aliases; i++) {
        const char *a = r->aliases[i];
        int ar = id_rank(a), br = id_rank(best);
        if (ar < br || (ar == br && strcmp(a, best) < 0))
            best = a;
    }
    keys[n++] = best;
    return n;
}

static const char *cvss_version_name(enum cvss_version v)
{
    switch (v) {
    case CVSS_V2:
        return "2.0";
    case CVSS_V30:
        return "3.0";
    case CVSS_V31:
        return "3.1";
    case CVSS_V40:
        return "4.0";
    }
    return "?";
}

/* Append "version TAB vector TAB score TAB source\n" with the score computed from the vector;
 * false (and a warning) when the vector does not parse. */
static bool cvss_line(struct importer *im, const char *id, const char *vector, const char *source)
{
    if (strpbrk(vector, "\t\n") || strlen(vector) > 512) {
        imp_warn(im, id, "CVSS vector with control characters or too long, ignored");
        return false;
    }
    struct cvss_result res;
    struct diag cd = { 0 };
    if (cvss_parse(str_from(vector), &res, &cd) < 0) {
        imp_warn(im, id, "CVSS vector '%.80s' ignored: %s", vector, cd.msg);
        return false;
    }
    buf_printf(&im->cvss, "%s\t%s\t%.1f\t%s\n", cvss_version_name(res.version), vector,
               res.base_score, source);
    return true;
}

static const char *vector_source_for(const char *id)
{
    if (has_prefix(id, "GHSA-"))
        return "GHSA";
    if (has_prefix(id, "RHSA-") || has_prefix(id, "RHBA-") || has_prefix(id, "RHEA-"))
        return "Red Hat";
    if (has_prefix(id, "CVE-"))
        return "NVD"; /* osv.dev's Debian/Alpine CVE records carry NVD's vectors */
    return "OSV";
}

/* The raw text of a record, "details NUL references" ('\n'-joined, at most MAX_REFS), into
 * im->raw. */
static int make_text(struct importer *im, const struct osv_record *r)
{
    buf_reset(&im->raw);
    int rc = buf_append_cstr(&im->raw, r->details);
    rc |= buf_putc(&im->raw, '\0');
    for (size_t i = 0; i < r->n_references && i < MAX_REFS; i++) {
        if (i)
            rc |= buf_putc(&im->raw, '\n');
        rc |= buf_append_cstr(&im->raw, r->references[i]);
    }
    if (rc != 0 || im->raw.len > TEXT_MAX) {
        buf_reset(&im->raw);
        return -ERR_TOO_BIG;
    }
    return 0;
}

/* Compress (p, n) with t's dictionary (or none) into im->text: dict id, then a zstd frame. */
static int compress_text(struct importer *im, const struct tdict *t, const void *p, size_t n)
{
    buf_reset(&im->text);
    size_t bound = ZSTD_compressBound(n);
    if (buf_reserve(&im->text, bound + 4) < 0)
        return -ERR_TOO_BIG;
    unsigned char *out = (unsigned char *)im->text.data;
    uint32_t id = t && t->cdict ? (uint32_t)t->id : 0;
    out[0] = id & 0xff;
    out[1] = (id >> 8) & 0xff;
    out[2] = (id >> 16) & 0xff;
    out[3] = (id >> 24) & 0xff;
    size_t z = id ? ZSTD_compress_usingCDict(im->cctx, out + 4, bound, p, n, t->cdict)
                  : ZSTD_compressCCtx(im->cctx, out + 4, bound, p, n, ZSTD_LEVEL);
    if (ZSTD_isError(z))
        return -ERR_INTERNAL;
    im->text.len = z + 4;
    return 0;
}

static struct tdict *tdict_for(struct importer *im, const char *label)
{
    for (size_t i = 0; i < im->dicts.n; i++)
        if (strcmp(im->dicts.v[i].label, label) == 0)
            return &im->dicts.v[i];
    struct tdict t = { .label = xstrdup(label) };
    buf_init(&t.samples, DICT_SAMPLE_MB + TEXT_MAX);
    VEC_PUSH(&im->dicts, t);
    return &im->dicts.v[im->dicts.n - 1];
}

static void tdict_release(struct tdict *t)
{
    free(t->label);
    ZSTD_freeCDict(t->cdict);
    buf_release(&t->samples);
    VEC_FREE(&t->sizes);
    VEC_FREE(&t->rows);
}

/* Train t on its samples (when there are enough), then give the held-back rows their text. */
static int tdict_settle(struct importer *im, struct tdict *t, struct diag *d)
{
    if (t->settled)
        return 0;
    t->settled = true;
    if (t->sizes.n >= DICT_MIN) {
        /* train on every k-th text so that the whole file (oldest to newest record) is
         * represented, within DICT_TRAIN_MB */
        size_t stride = t->samples.len / DICT_TRAIN_MB + 1, off = 0, n_train = 0;
        struct buf train;
        buf_init(&train, DICT_TRAIN_MB + TEXT_MAX);
        size_t *sizes = xcalloc(t->sizes.n / stride + 1, sizeof(*sizes));
        for (size_t i = 0; i < t->sizes.n; i++) {
            if (i % stride == 0 && buf_append(&train, t->samples.data + off, t->sizes.v[i]) == 0)
                sizes[n_train++] = t->sizes.v[i];
            off += t->sizes.v[i];
        }
        void *dict = xmalloc(DICT_SIZE);
        size_t dn = n_train >= DICT_MIN ? ZDICT_trainFromBuffer(dict, DICT_SIZE, train.data, sizes,
                                                                (unsigned)n_train)
                                        : (size_t)-1;
        buf_release(&train);
        free(sizes);
        if (!ZDICT_isError(dn)) {
            sqlite3_stmt *st = im->s[S_INS_DICT];
            sqlite3_bind_text(st, 1, t->label, -1, SQLITE_STATIC);
            sqlite3_bind_blob(st, 2, dict, (int)dn, SQLITE_STATIC);
            int rc = step_done(im, st, "storing a text dictionary", d);
            if (rc < 0) {
                free(dict);
                return rc;
            }
            t->id = sqlite3_last_insert_rowid(im->db);
            t->cdict = ZSTD_createCDict(dict, dn, ZSTD_LEVEL);
        }
        free(dict);
    }
    size_t off = 0;
    for (size_t i = 0; i < t->sizes.n; i++) {
        size_t n = t->sizes.v[i];
        if (t->rows.v[i]) {
            int rc = compress_text(im, t, t->samples.data + off, n);
            if (rc < 0)
                return diag_set(d, rc, 0, "cannot compress advisory text");
            sqlite3_stmt *st = im->s[S_SET_TEXT];
            sqlite3_bind_int64(st, 1, t->rows.v[i]);
            sqlite3_bind_blob(st, 2, im->text.data, (int)im->text.len, SQLITE_STATIC);
            rc = step_done(im, st, "writing advisory text", d);
            if (rc < 0)
                return rc;
        }
        off += n;
    }
    buf_release(&t->samples);
    VEC_FREE(&t->sizes);
    VEC_FREE(&t->rows);
    return 0;
}

static int tdicts_settle_all(struct importer *im, struct diag *d)
{
    for (size_t i = 0; i < im->dicts.n; i++) {
        int rc = tdict_settle(im, &im->dicts.v[i], d);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* A record rewritten in this run: its held-back text (if any) is stale. */
static void tdict_supersede(struct importer *im, int64_t rowid)
{
    for (size_t i = 0; i < im->dicts.n; i++)
        for (size_t k = 0; k < im->dicts.v[i].rows.n; k++)
            if (im->dicts.v[i].rows.v[k] == rowid)
                im->dicts.v[i].rows.v[k] = 0;
}

static int load_dicts(struct importer *im, struct diag *d)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(im->db, "SELECT id, label, dict FROM dicts", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(im, rc, "reading text dictionaries", d);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct tdict *t = tdict_for(im, (const char *)sqlite3_column_text(st, 1));
        t->id = sqlite3_column_int64(st, 0);
        t->cdict = ZSTD_createCDict(sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2),
                                    ZSTD_LEVEL);
        t->settled = true;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(im, rc, "reading text dictionaries", d);
    return 0;
}

static int64_t cmp_i64(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

static int new_row_cmp(const void *x, const void *y)
{
    const struct new_row *a = x, *b = y;
    int c = (int)cmp_i64(a->pkg, b->pkg);
    if (c)
        return c;
    return (int)cmp_i64((int64_t)a->off, (int64_t)b->off); /* stable: keep input order */
}

static int i64_cmp(const void *x, const void *y)
{
    return (int)cmp_i64(*(const int64_t *)x, *(const int64_t *)y);
}

/* Existing rows of an advisory as (pkg, hash) per package, for change detection. */
struct pkg_hash {
    int64_t pkg;
    uint64_t hash;
};

struct pkg_hash_vec {
    struct pkg_hash *v;
    size_t n, cap;
};

/* The rows in im->new_rows (sorted) as (pkg, hash), same scheme as old_rows(). */
static void new_hashes(struct importer *im, struct pkg_hash_vec *out)
{
    for (size_t i = 0; i < im->new_rows.n; i++) {
        const struct new_row *r = &im->new_rows.v[i];
        const void *b = im->rows.data + r->off;
        if (out->n && out->v[out->n - 1].pkg == r->pkg) {
            out->v[out->n - 1].hash = fnv(b, r->len, out->v[out->n - 1].hash ^ 0xff);
        } else {
            struct pkg_hash ph = { r->pkg, fnv(b, r->len, FNV_INIT) };
            VEC_PUSH(out, ph);
        }
    }
}

/* Pairs whose rows differ between old and new (or all of both when `all`). */
static void diff_pairs(struct importer *im, const struct pkg_hash *a, size_t na,
                       const struct pkg_hash *b, size_t nb, bool all)
{
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        if (j >= nb || (i < na && a[i].pkg < b[j].pkg)) {
            VEC_PUSH(&im->pairs, a[i].pkg);
            i++;
        } else if (i >= na || b[j].pkg < a[i].pkg) {
            VEC_PUSH(&im->pairs, b[j].pkg);
            j++;
        } else {
            if (all || a[i].hash != b[j].hash)
                VEC_PUSH(&im->pairs, a[i].pkg);
            i++;
            j++;
        }
    }
}

/* Record a change with the pairs in im->pairs. A record already changed in this run (another
 * copy in an overlapping file) extends its change instead of adding one. */
static int record_change(struct importer *im, struct kv_slot *seen, const char *id,
                         const char *kind, const char *reason, struct diag *d)
{
    if (!im->record_changes)
        return 0;
    int64_t change = seen ? seen->val : -1;
    if (change < 0) {
        sqlite3_stmt *st = im->s[S_INS_CHANGE];
        sqlite3_bind_int64(st, 1, im->import_id);
        sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
        int rc = step_done(im, st, "recording a change", d);
        if (rc < 0)
            return rc;
        change = sqlite3_last_insert_rowid(im->db);
        if (seen)
            seen->val = change;
    }
    if (im->pairs.n > 1)
        qsort(im->pairs.v, im->pairs.n, sizeof(int64_t), i64_cmp);
    for (size_t i = 0; i < im->pairs.n; i++) {
        if (i && im->pairs.v[i] == im->pairs.v[i - 1])
            continue;
        sqlite3_stmt *st = im->s[S_INS_CHANGE_PKG];
        sqlite3_bind_int64(st, 1, change);
        sqlite3_bind_int64(st, 2, im->pairs.v[i]);
        int rc = step_done(im, st, "recording a change", d);
        if (rc < 0)
            return rc;
    }
    return 0;
}

struct existing {
    int64_t id;
    char modified[128];
    bool withdrawn;
    uint64_t sig;        /* hash of keys, vendor severity and cvss: what findings depend on */
    struct i64_vec pkgs; /* packages of its affected rows */
    char *aliases;       /* '\n'-separated alias rows */
    char source[128];    /* labels of the files it came from, comma-separated */
};

static void existing_release(struct existing *ex)
{
    VEC_FREE(&ex->pkgs);
    free(ex->aliases);
    ex->aliases = NULL;
}

/* Package ids as LEB128 deltas of the sorted list. */
static void pkgs_encode(struct buf *b, const int64_t *ids, size_t n)
{
    buf_reset(b);
    int64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && ids[i] == ids[i - 1])
            continue;
        uint64_t v = (uint64_t)(ids[i] - prev);
        prev = ids[i];
        do {
            unsigned char c = v & 0x7f;
            v >>= 7;
            buf_putc(b, (char)(v ? c | 0x80 : c));
        } while (v);
    }
}

static void pkgs_decode(const unsigned char *p, size_t n, struct i64_vec *out)
{
    int64_t prev = 0;
    size_t i = 0;
    while (i < n) {
        uint64_t v = 0;
        int shift = 0;
        while (i < n && shift < 63) {
            unsigned char c = p[i++];
            v |= (uint64_t)(c & 0x7f) << shift;
            shift += 7;
            if (!(c & 0x80))
                break;
        }
        prev += (int64_t)v;
        VEC_PUSH(out, prev);
    }
}

static int lookup_existing(struct importer *im, const char *name, struct existing *ex, bool *found,
                           struct diag *d)
{
    *found = false;
    memset(ex, 0, sizeof(*ex));
    sqlite3_stmt *st = im->s[S_SEL_ADV];
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *found = true;
        ex->id = sqlite3_column_int64(st, 0);
        const char *m = (const char *)sqlite3_column_text(st, 1);
        snprintf(ex->modified, sizeof(ex->modified), "%s", m ? m : "");
        ex->withdrawn = sqlite3_column_type(st, 2) != SQLITE_NULL;
        uint64_t h = FNV_INIT;
        for (int c = 3; c <= 5; c++) {
            const char *t = (const char *)sqlite3_column_text(st, c);
            h = fnv(t ? t : "", t ? strlen(t) + 1 : 1, h);
        }
        ex->sig = h;
        pkgs_decode(sqlite3_column_blob(st, 6), (size_t)sqlite3_column_bytes(st, 6), &ex->pkgs);
        const char *al = (const char *)sqlite3_column_text(st, 7);
        ex->aliases = xstrdup(al ? al : "");
        const char *src = (const char *)sqlite3_column_text(st, 8);
        snprintf(ex->source, sizeof(ex->source), "%s", src ? src : "");
        rc = SQLITE_DONE;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_fail(im, rc, "looking up a record", d);
    return 0;
}

static int write_advisory(struct importer *im, int64_t update_id, const char *name, int kind,
                          const char *modified, const char *published, const char *withdrawn,
                          const char *keys, const char *summary, const char *vendor,
                          int64_t *id_out, struct diag *d)
{
    sqlite3_stmt *st = im->s[update_id ? S_UPD_ADV : S_INS_ADV];
    if (update_id)
        sqlite3_bind_int64(st, 1, update_id);
    else
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, kind);
    sqlite3_bind_text(st, 3, modified, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, published, -1, SQLITE_STATIC);
    if (withdrawn)
        sqlite3_bind_text(st, 5, withdrawn, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_text(st, 6, im->label, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, keys, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, summary, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, vendor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, buf_cstr(&im->cvss), (int)im->cvss.len, SQLITE_STATIC);
    if (im->text.len)
        sqlite3_bind_blob(st, 11, im->text.data, (int)im->text.len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 11);
    sqlite3_bind_text(st, 12, buf_cstr(&im->aliases), (int)im->aliases.len, SQLITE_STATIC);
    if (im->pkglist.len)
        sqlite3_bind_blob(st, 13, im->pkglist.data, (int)im->pkglist.len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 13);
    int rc = step_done(im, st, "writing a record", d);
    if (rc < 0)
        return rc;
    *id_out = update_id ? update_id : sqlite3_last_insert_rowid(im->db);
    return 0;
}

static struct pkg_edit *edit_of(struct importer *im, int64_t pkg)
{
    BUG_ON(pkg <= 0);
    if ((size_t)pkg >= im->edits_cap) {
        size_t ncap = im->edits_cap ? im->edits_cap : 4096;
        while (ncap <= (size_t)pkg)
            ncap *= 2;
        im->edits = xreallocarray(im->edits, ncap, sizeof(*im->edits));
        memset(im->edits + im->edits_cap, 0, (ncap - im->edits_cap) * sizeof(*im->edits));
        im->edits_cap = ncap;
    }
    struct pkg_edit *e = &im->edits[pkg];
    e->touched = true;
    return e;
}

static uint64_t varint_get(const unsigned char *p, size_t n, size_t *i, bool *ok)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*i >= n) {
            *ok = false;
            return 0;
        }
        unsigned char c = p[(*i)++];
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    *ok = false;
    return 0;
}

static int varint_put(struct buf *b, uint64_t v)
{
    int rc = 0;
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        rc |= buf_putc(b, (char)(v ? c | 0x80 : c));
    } while (v);
    return rc;
}

/* The entry list of a package as stored before this run (loaded once). */
static int edit_load(struct importer *im, int64_t pkg, struct pkg_edit *e, struct diag *d)
{
    if (e->orig_loaded)
        return 0;
    e->orig_loaded = true;
    if (pkg >= im->next_pkg - (int64_t)im->new_pkgs.n)
        return 0; /* created in this run */
    sqlite3_stmt *st = im->s[S_SEL_ENTRIES];
    sqlite3_bind_int64(st, 1, pkg);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) > 0) {
        e->orig_len = (size_t)sqlite3_column_bytes(st, 0);
        e->orig = xmalloc(e->orig_len);
        memcpy(e->orig, sqlite3_column_blob(st, 0), e->orig_len);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(im, rc, "reading a package's entries", d);
    return 0;
}

static bool i64_in(const struct i64_vec *v, int64_t x)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->v[i] == x)
            return true;
    return false;
}

/* Walk the current entries of (pkg, adv): the stored ones unless dropped, then the ones added
 * in this run. fn gets each row. */
static int edit_current(struct importer *im, int64_t pkg, int64_t adv,
                        void (*fn)(void *ctx, const void *row, size_t n), void *ctx, struct diag *d)
{
    struct pkg_edit *e = edit_of(im, pkg);
    int rc = edit_load(im, pkg, e, d);
    if (rc < 0)
        return rc;
    if (!i64_in(&e->drop, adv)) {
        size_t i = 0;
        bool ok = true;
        while (ok && i < e->orig_len) {
            int64_t a = (int64_t)varint_get(e->orig, e->orig_len, &i, &ok);
            size_t len = (size_t)varint_get(e->orig, e->orig_len, &i, &ok);
            if (!ok || len > e->orig_len - i)
                break;
            if (a == adv)
                fn(ctx, e->orig + i, len);
            i += len;
        }
    }
    for (size_t k = 0; k < e->adds.n; k++)
        if (e->adds.v[k].adv == adv)
            fn(ctx, im->added.data + e->adds.v[k].off, e->adds.v[k].len);
    return 0;
}

/* Remove an advisory's entries from a package: stored ones at the end of the run, ones added
 * earlier in this run (an older copy of the same record) now. */
static void edit_drop(struct importer *im, int64_t pkg, int64_t adv)
{
    struct pkg_edit *e = edit_of(im, pkg);
    if (!i64_in(&e->drop, adv))
        VEC_PUSH(&e->drop, adv);
    size_t k = 0;
    for (size_t i = 0; i < e->adds.n; i++)
        if (e->adds.v[i].adv != adv)
            e->adds.v[k++] = e->adds.v[i];
    e->adds.n = k;
}

/* Delete an advisory's entries and alias rows. */
static int drop_rows(struct importer *im, const struct existing *ex, struct diag *d)
{
    int rc = 0;
    for (size_t i = 0; i < ex->pkgs.n; i++)
        edit_drop(im, ex->pkgs.v[i], ex->id);
    for (const char *p = ex->aliases; *p && rc == 0;) {
        size_t n = strcspn(p, "\n");
        sqlite3_stmt *st = im->s[S_DEL_ALIAS];
        sqlite3_bind_text(st, 1, p, (int)n, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, ex->id);
        rc = step_done(im, st, "deleting aliases", d);
        p += n;
        if (*p)
            p++;
    }
    return rc;
}

struct hash_ctx {
    uint64_t hash;
    bool any;
};

static void hash_row(void *ctx, const void *row, size_t n)
{
    struct hash_ctx *h = ctx;
    h->hash = h->any ? fnv(row, n, h->hash ^ 0xff) : fnv(row, n, FNV_INIT);
    h->any = true;
}

/* The current rows of an advisory as (pkg, hash), for change detection. */
static int old_rows(struct importer *im, const struct existing *ex, struct pkg_hash_vec *out,
                    struct diag *d)
{
    for (size_t i = 0; i < ex->pkgs.n; i++) {
        struct hash_ctx h = { FNV_INIT, false };
        int rc = edit_current(im, ex->pkgs.v[i], ex->id, hash_row, &h, d);
        if (rc < 0)
            return rc;
        struct pkg_hash ph = { ex->pkgs.v[i], h.hash };
        VEC_PUSH(out, ph);
    }
    return 0;
}

/* Queue im->new_rows of adv (sorted by package) as additions to their packages. */
static int write_rows(struct importer *im, int64_t adv, struct diag *d)
{
    for (size_t i = 0; i < im->new_rows.n; i++) {
        const struct new_row *r = &im->new_rows.v[i];
        struct add_ent ae = { adv, im->added.len, r->len };
        if (buf_append(&im->added, im->rows.data + r->off, r->len) < 0)
            return diag_set(d, -ERR_TOO_BIG, 0, "affected entries exceed %zu bytes", im->added.max);
        VEC_PUSH(&edit_of(im, r->pkg)->adds, ae);
    }
    return 0;
}

static int add_ent_cmp(const void *x, const void *y)
{
    const struct add_ent *a = x, *b = y;
    if (a->adv != b->adv)
        return a->adv < b->adv ? -1 : 1;
    return a->off < b->off ? -1 : (a->off > b->off);
}

/* Build a package's new entry list (stored entries minus dropped advisories, plus additions;
 * ordered by advisory) into out. */
static int edit_build(struct importer *im, struct pkg_edit *e, struct buf *out)
{
    buf_reset(out);
    int rc = 0;
    size_t i = 0;
    bool ok = true;
    while (ok && i < e->orig_len && rc == 0) {
        size_t start = i;
        int64_t a = (int64_t)varint_get(e->orig, e->orig_len, &i, &ok);
        size_t len = (size_t)varint_get(e->orig, e->orig_len, &i, &ok);
        if (!ok || len > e->orig_len - i)
            break;
        i += len;
        if (!i64_in(&e->drop, a))
            rc = buf_append(out, e->orig + start, i - start);
    }
    if (e->adds.n > 1)
        qsort(e->adds.v, e->adds.n, sizeof(*e->adds.v), add_ent_cmp);
    for (size_t k = 0; k < e->adds.n && rc == 0; k++) {
        rc |= varint_put(out, (uint64_t)e->adds.v[k].adv);
        rc |= varint_put(out, (uint64_t)e->adds.v[k].len);
        rc |= buf_append(out, im->added.data + e->adds.v[k].off, e->adds.v[k].len);
    }
    return rc;
}

/* Write every package this run touched or created. */
static int write_packages(struct importer *im, struct diag *d)
{
    struct buf blob;
    buf_init(&blob, 1u << 30);
    int rc = 0;
    int64_t first_new = im->next_pkg - (int64_t)im->new_pkgs.n;
    for (size_t i = 0; i < im->new_pkgs.n && rc == 0; i++) {
        const struct new_pkg *np = &im->new_pkgs.v[i];
        struct pkg_edit *e = (size_t)np->id < im->edits_cap ? &im->edits[np->id] : NULL;
        if (e && edit_build(im, e, &blob) < 0) {
            rc = diag_set(d, -ERR_TOO_BIG, 0, "package '%s' has too many entries", np->name);
            break;
        }
        sqlite3_stmt *st = im->s[S_INS_PKG];
        sqlite3_bind_int64(st, 1, np->id);
        sqlite3_bind_int64(st, 2, np->eco);
        sqlite3_bind_text(st, 3, np->name, -1, SQLITE_STATIC);
        if (e && blob.len)
            sqlite3_bind_blob(st, 4, blob.data, (int)blob.len, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 4);
        rc = step_done(im, st, "writing a package", d);
    }
    for (int64_t id = 1; id < first_new && (size_t)id < im->edits_cap && rc == 0; id++) {
        struct pkg_edit *e = &im->edits[id];
        if (!e->touched)
            continue;
        if ((rc = edit_load(im, id, e, d)) < 0)
            break;
        if (edit_build(im, e, &blob) < 0) {
            rc = diag_set(d, -ERR_TOO_BIG, 0, "package %lld has too many entries", (long long)id);
            break;
        }
        sqlite3_stmt *st = im->s[S_SET_ENTRIES];
        sqlite3_bind_int64(st, 1, id);
        if (blob.len)
            sqlite3_bind_blob(st, 2, blob.data, (int)blob.len, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 2);
        rc = step_done(im, st, "writing a package", d);
    }
    buf_release(&blob);
    return rc;
}

static void edits_release(struct importer *im)
{
    for (size_t i = 0; i < im->edits_cap; i++) {
        free(im->edits[i].orig);
        VEC_FREE(&im->edits[i].drop);
        VEC_FREE(&im->edits[i].adds);
    }
    free(im->edits);
    im->edits = NULL;
    im->edits_cap = 0;
}

static int add_alias(struct importer *im, const char *alias, int64_t adv, struct diag *d)
{
    sqlite3_stmt *st = im->s[S_INS_ALIAS];
    sqlite3_bind_text(st, 1, alias, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, adv);
    return step_done(im, st, "writing an alias", d);
}

/* Queue one encoded row (in im->row) for package pkg; identical duplicates are dropped. */
static int queue_row(struct importer *im, int64_t pkg)
{
    for (size_t i = im->new_rows.n; i-- > 0 && im->new_rows.n - i <= 4;) {
        const struct new_row *r = &im->new_rows.v[i];
        if (r->pkg == pkg && r->len == im->row.len &&
            memcmp(im->rows.data + r->off, im->row.data, r->len) == 0)
            return 0;
    }
    struct new_row nr = { pkg, im->rows.len, im->row.len };
    if (buf_append(&im->rows, im->row.data, im->row.len) < 0)
        return -ERR_TOO_BIG;
    VEC_PUSH(&im->new_rows, nr);
    return 0;
}

/* Replace (or insert) a record's rows and report the change. `sig` describes the
 * record-level data findings depend on; `keys` etc. are written to the advisory row. */
struct record_write {
    const char *name;
    int kind;
    const char *modified, *published, *withdrawn;
    const char *keys, *summary, *vendor;
    bool with_text; /* im->raw holds the text */
    const char **aliases;
    size_t n_aliases;
};

static int str_ptr_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* In-run state of a record id (kv_slot.aux). */
enum seen_state {
    SEEN_NONE = 0,
    SEEN_NOOP = 1,
    SEEN_ADDED = 2,
    SEEN_CHANGED = 3,
    SEEN_REMOVED = 4
};

static int apply_record(struct importer *im, const struct record_write *w, bool found,
                        const struct existing *ex, struct kv_slot *seen, struct diag *d)
{
    int rc = 0;
    struct pkg_hash_vec oldh = VEC_INIT;
    struct pkg_hash_vec newh = VEC_INIT;
    im->pairs.n = 0;
    bool was_live = found && !ex->withdrawn;
    int64_t state = seen->aux;
    if (found) {
        if (was_live && im->record_changes)
            rc = old_rows(im, ex, &oldh, d);
        if (rc == 0)
            rc = drop_rows(im, ex, d);
        if (rc < 0)
            goto out;
        tdict_supersede(im, ex->id);
    }
    if (im->new_rows.n > 1)
        qsort(im->new_rows.v, im->new_rows.n, sizeof(struct new_row), new_row_cmp);

    /* the lists that let a later import delete these rows by primary key */
    buf_reset(&im->aliases);
    buf_reset(&im->pkglist);
    size_t n_al = 0;
    if (!w->withdrawn) {
        if (w->n_aliases > 1)
            qsort(w->aliases, w->n_aliases, sizeof(*w->aliases), str_ptr_cmp);
        for (size_t i = 0; i < w->n_aliases; i++) {
            if (i && strcmp(w->aliases[i], w->aliases[i - 1]) == 0)
                continue;
            buf_printf(&im->aliases, "%s%s", n_al ? "\n" : "", w->aliases[i]);
            w->aliases[n_al++] = w->aliases[i];
        }
        struct i64_vec ids = VEC_INIT;
        for (size_t i = 0; i < im->new_rows.n; i++)
            VEC_PUSH(&ids, im->new_rows.v[i].pkg);
        pkgs_encode(&im->pkglist, ids.v, ids.n);
        VEC_FREE(&ids);
    }
    /* the text: compressed now when its source's dictionary is settled, else held back */
    buf_reset(&im->text);
    struct tdict *t = w->with_text && !w->withdrawn ? tdict_for(im, im->label) : NULL;
    if (t && t->settled && (rc = compress_text(im, t, im->raw.data, im->raw.len)) < 0) {
        rc = diag_set(d, rc, 0, "cannot compress the text of %s", w->name);
        goto out;
    }
    int64_t adv;
    rc = write_advisory(im, found ? ex->id : 0, w->name, w->kind, w->modified, w->published,
                        w->withdrawn, w->keys, w->summary, w->vendor, &adv, d);
    if (rc < 0)
        goto out;
    if (t && !t->settled) {
        if (buf_append(&t->samples, im->raw.data, im->raw.len) == 0) {
            VEC_PUSH(&t->sizes, im->raw.len);
            VEC_PUSH(&t->rows, adv);
        } else if ((rc = tdict_settle(im, t, d)) < 0 ||
                   (rc = compress_text(im, t, im->raw.data, im->raw.len)) < 0) {
            goto out;
        } else {
            sqlite3_stmt *st = im->s[S_SET_TEXT];
            sqlite3_bind_int64(st, 1, adv);
            sqlite3_bind_blob(st, 2, im->text.data, (int)im->text.len, SQLITE_STATIC);
            if ((rc = step_done(im, st, "writing advisory text", d)) < 0)
                goto out;
        }
        if (!t->settled && (t->sizes.n >= DICT_SAMPLES || t->samples.len >= DICT_SAMPLE_MB) &&
            (rc = tdict_settle(im, t, d)) < 0)
            goto out;
    }
    if (!w->withdrawn) {
        for (size_t i = 0; i < n_al && rc == 0; i++)
            rc = add_alias(im, w->aliases[i], adv, d);
        if (rc == 0)
            rc = write_rows(im, adv, d);
        if (rc < 0)
            goto out;
    }
    if (w->withdrawn) {
        if (!was_live)
            goto out; /* nothing was there: a withdrawn record changes nothing */
        if (state == SEEN_ADDED && im->st->added)
            im->st->added--; /* added and withdrawn within one run: nothing happened */
        else
            im->st->removed++;
        seen->aux = SEEN_REMOVED;
        diff_pairs(im, oldh.v, oldh.n, NULL, 0, true);
        rc = record_change(im, seen, w->name, "removed", "withdrawn", d);
        goto out;
    }
    if (!was_live || state == SEEN_ADDED) {
        /* new in this database (or brought back after a withdrawal), possibly replaced by a
         * newer copy of the same record from another file of this run */
        if (state != SEEN_ADDED)
            im->st->added++;
        seen->aux = SEEN_ADDED;
        for (size_t i = 0; i < im->new_rows.n; i++)
            VEC_PUSH(&im->pairs, im->new_rows.v[i].pkg);
        if (was_live) /* the earlier copy's pairs still belong to the addition */
            for (size_t i = 0; i < oldh.n; i++)
                VEC_PUSH(&im->pairs, oldh.v[i].pkg);
        rc = record_change(im, seen, w->name, "added", "", d);
        goto out;
    }
    if (im->record_changes) {
        new_hashes(im, &newh);
        uint64_t sig = FNV_INIT;
        const char *fields[3] = { w->keys, w->vendor, buf_cstr(&im->cvss) };
        for (int i = 0; i < 3; i++)
            sig = fnv(fields[i], strlen(fields[i]) + 1, sig);
        diff_pairs(im, oldh.v, oldh.n, newh.v, newh.n, sig != ex->sig);
    }
    if (state != SEEN_CHANGED)
        im->st->changed++;
    seen->aux = SEEN_CHANGED;
    rc = record_change(im, seen, w->name, "changed", "modified", d);
out:
    VEC_FREE(&oldh);
    VEC_FREE(&newh);
    return rc;
}

static bool label_listed(const char *list, const char *label)
{
    size_t n = strlen(label);
    for (const char *p = list; *p;) {
        size_t w = strcspn(p, ",");
        if (w == n && strncmp(p, label, n) == 0)
            return true;
        p += w;
        if (*p)
            p++;
    }
    return false;
}

static int add_label(struct importer *im, const struct existing *ex, struct diag *d)
{
    buf_reset(&im->tmp);
    buf_printf(&im->tmp, "%s%s%s", ex->source, *ex->source ? "," : "", im->label);
    if (im->tmp.len >= sizeof(ex->source))
        return 0; /* the list is long enough */
    sqlite3_stmt *st = im->s[S_SET_SOURCE];
    sqlite3_bind_int64(st, 1, ex->id);
    sqlite3_bind_text(st, 2, im->tmp.data, (int)im->tmp.len, SQLITE_STATIC);
    return step_done(im, st, "recording a record's source", d);
}

/* Ids that can be alias rows: short, printable, no blanks (the lists are '\n'-joined). */
static bool alias_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static int process_osv(struct importer *im, void *root, struct diag *d)
{
    struct osv_record r;
    struct diag rd = { 0 };
    int rc = osv_record_from_json(root, &r, &rd);
    im->st->records++;
    if (rc < 0) {
        imp_warn(im, r.id, "record skipped: %s", rd.msg);
        im->st->skipped++;
        im->in->skipped++;
        osv_record_release(&r);
        return 0;
    }
    for (struct osv_warning *w = r.warnings; w; w = w->next)
        imp_warn(im, r.id, "%s", w->msg);
    if (r.n_warnings > 16)
        imp_warn(im, r.id, "%zu more warnings for this record", r.n_warnings - 16);

    /* the same id in two files (overlapping exports) is one record: newest modified wins */
    struct kv_slot *seen = kv_find(&im->seen, r.id, strlen(r.id), true, &im->arena);
    bool seen_before = seen->aux != SEEN_NONE;
    if (!seen_before)
        seen->aux = SEEN_NOOP;
    struct existing ex;
    bool found = false;
    if (!im->fresh || seen_before) {
        rc = lookup_existing(im, r.id, &ex, &found, d);
        if (rc < 0)
            goto out;
    }
    if (found && osv_time_cmp(r.modified, ex.modified) <= 0) {
        if (seen_before)
            im->st->duplicates++;
        else
            im->st->unchanged++;
        /* the same record in another file (osv.dev exports a record per ecosystem it
         * touches): remember that file's label too */
        if (osv_time_cmp(r.modified, ex.modified) == 0 && !label_listed(ex.source, im->label))
            rc = add_label(im, &ex, d);
        goto out;
    }

    /* record-level data */
    /* an RHSA can fix a hundred CVEs: room for every id the record names */
    size_t keys_cap = 1 + r.n_aliases + r.n_upstream + r.n_related;
    const char **keys = arena_alloc(&r.arena, keys_cap * sizeof(*keys));
    size_t n_keys = record_keys(&r, keys, keys_cap);
    buf_reset(&im->keys);
    for (size_t i = 0; i < n_keys; i++)
        buf_printf(&im->keys, "%s%s", i ? " " : "", keys[i]);
    buf_reset(&im->cvss);
    const char *vsrc = vector_source_for(r.id);
    for (size_t i = 0; i < r.n_severity; i++) {
        const char *t = r.severity[i].type;
        if (strcmp(t, "CVSS_V2") == 0 || strcmp(t, "CVSS_V3") == 0 || strcmp(t, "CVSS_V4") == 0)
            cvss_line(im, r.id, r.severity[i].score, vsrc);
    }
    if (!r.withdrawn && make_text(im, &r) < 0)
        imp_warn(im, r.id, "details and references too large, dropped");

    /* rows */
    im->new_rows.n = 0;
    buf_reset(&im->rows);
    for (size_t i = 0; i < r.n_affected && !r.withdrawn; i++) {
        const struct osv_affected *a = &r.affected[i];
        int64_t eco = eco_id(im, a->ecosystem, d, &rc);
        if (rc < 0)
            goto out;
        enum eco_family fam = eco_family_of(a->ecosystem);
        char norm[512];
        int64_t pkg = pkg_id(im, eco, eco_package_name(fam, a->name, norm, sizeof(norm)));
        if (arow_encode(a, fam, NULL, 0, &im->row) < 0) {
            imp_warn(im, r.id, "affected[%zu] (%s %s) too large, skipped", i, a->ecosystem,
                     a->name);
            continue;
        }
        if (queue_row(im, pkg) < 0) {
            imp_warn(im, r.id, "record's affected entries exceed the size cap, truncated");
            break;
        }
    }

    /* aliases: the id, its aliases and upstream ids, and the issue keys */
    VEC(const char *) al = VEC_INIT;
    VEC_PUSH(&al, r.id);
    for (size_t i = 0; i < r.n_aliases; i++)
        if (alias_ok(r.aliases[i]))
            VEC_PUSH(&al, r.aliases[i]);
    for (size_t i = 0; i < r.n_upstream; i++)
        if (alias_ok(r.upstream[i]))
            VEC_PUSH(&al, r.upstream[i]);
    for (size_t i = 0; i < n_keys; i++)
        if (alias_ok(keys[i]))
            VEC_PUSH(&al, keys[i]);
    struct record_write w = {
        .name = r.id,
        .kind = ADV_OSV,
        .modified = r.modified,
        .published = r.published,
        .withdrawn = r.withdrawn,
        .keys = r.withdrawn ? "" : buf_cstr(&im->keys),
        .summary = r.summary,
        .vendor = r.vendor_severity && !r.withdrawn ? r.vendor_severity : "",
        .with_text = !r.withdrawn && im->raw.len > 0,
        .aliases = al.v,
        .n_aliases = al.n,
    };
    if (r.withdrawn)
        buf_reset(&im->cvss);
    rc = apply_record(im, &w, found, &ex, seen, d);
    VEC_FREE(&al);
out:
    if (found)
        existing_release(&ex);
    osv_record_release(&r);
    return rc;
}

static int process_secdb(struct importer *im, void *root, const char *raw, size_t raw_len,
                         struct diag *d)
{
    struct secdb_doc doc;
    struct diag sd = { 0 };
    int rc = secdb_doc_from_json(root, &doc, &sd);
    if (rc < 0) {
        imp_warn(im, NULL, "secdb document skipped: %s", sd.msg);
        im->st->skipped++;
        im->in->skipped++;
        secdb_doc_release(&doc);
        return 0;
    }
    char name[128];
    snprintf(name, sizeof(name), "alpine-secdb:%s/%s", doc.branch, doc.repo);
    for (struct osv_warning *w = doc.warnings; w; w = w->next)
        imp_warn(im, name, "%s", w->msg);
    im->st->secdb_docs++;

    unsigned char dg[SHA256_LEN];
    char digest[DIGEST_STR_LEN + 1];
    sha256_buf(raw, raw_len, dg);
    digest_format(dg, digest);

    struct kv_slot *seen = kv_find(&im->seen, name, strlen(name), true, &im->arena);
    struct existing ex;
    bool found = false;
    rc = lookup_existing(im, name, &ex, &found, d);
    if (rc < 0)
        goto out;
    if (found && strcmp(ex.modified, digest) == 0) {
        if (seen->aux != SEEN_NONE)
            im->st->duplicates++;
        else
            im->st->unchanged++;
        seen->aux = seen->aux ? seen->aux : SEEN_NOOP;
        goto out;
    }

    im->new_rows.n = 0;
    buf_reset(&im->rows);
    buf_reset(&im->cvss);
    buf_reset(&im->text);
    VEC(const char *) al = VEC_INIT;
    struct kv_map ids = { 0 };
    int64_t eco = eco_id(im, doc.ecosystem, d, &rc);
    for (size_t i = 0; i < doc.n_fixes && rc == 0; i++) {
        const struct secdb_fix *f = &doc.fixes[i];
        if (strcmp(f->version, "0") == 0)
            continue; /* never affected in this branch */
        int64_t pkg = pkg_id(im, eco, f->name);
        struct osv_event ev[2] = { { OSV_EV_INTRODUCED, "0" }, { OSV_EV_FIXED, f->version } };
        struct osv_range rg = { OSV_RANGE_ECOSYSTEM, ev, 2 };
        struct osv_affected a = {
            .ecosystem = doc.ecosystem, .name = f->name, .ranges = &rg, .n_ranges = 1
        };
        /* a row names at most AROW_MAX_KEYS ids: longer lines become several rows */
        size_t nk = f->n_ids;
        bool ok = true;
        for (size_t k0 = 0; k0 < nk && ok; k0 += AROW_MAX_KEYS) {
            size_t take = nk - k0 < AROW_MAX_KEYS ? nk - k0 : AROW_MAX_KEYS;
            ok = arow_encode(&a, ECO_ALPINE, f->ids + k0, take, &im->row) == 0 &&
                 queue_row(im, pkg) == 0;
        }
        if (!ok) {
            imp_warn(im, name, "%s %s: entry too large, skipped", f->name, f->version);
            continue;
        }
        for (size_t k = 0; k < nk; k++) {
            struct kv_slot *s = kv_find(&ids, f->ids[k], strlen(f->ids[k]), true, &im->arena);
            if (s->aux == 0) {
                s->aux = 1;
                VEC_PUSH(&al, f->ids[k]);
            }
        }
    }
    if (rc == 0) {
        char summary[160];
        snprintf(summary, sizeof(summary), "Alpine secdb %s/%s", doc.branch, doc.repo);
        struct record_write w = {
            .name = name,
            .kind = ADV_SECDB,
            .modified = digest,
            .published = "",
            .keys = "",
            .summary = summary,
            .vendor = "",
            .aliases = al.v,
            .n_aliases = al.n,
        };
        rc = apply_record(im, &w, found, &ex, seen, d);
    }
    kv_release(&ids);
    VEC_FREE(&al);
out:
    if (found)
        existing_release(&ex);
    secdb_doc_release(&doc);
    return rc;
}

static int process_cve(struct importer *im, void *root, enum vin_kind kind, struct diag *d)
{
    struct cve_info ci;
    struct diag cd = { 0 };
    int rc = cve_info_from_json(root, kind, &ci, &cd);
    if (rc < 0) {
        imp_warn(im, NULL, "record skipped: %s", cd.msg);
        im->st->skipped++;
        im->in->skipped++;
        cve_info_release(&ci);
        return 0;
    }
    const char *source = kind == VIN_NVD ? "NVD" : "CISA";
    sqlite3_stmt *st = im->s[S_ALIAS_EXISTS];
    sqlite3_bind_text(st, 1, ci.id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        rc = db_fail(im, rc, "looking up a CVE", d);
        goto out;
    }
    if (rc == SQLITE_DONE) {
        im->st->cve_unreferenced++;
        rc = 0;
        goto out;
    }
    buf_reset(&im->cvss);
    for (size_t i = 0; i < ci.n_vec; i++)
        cvss_line(im, ci.id, ci.vec[i].vector, ci.vec[i].source);

    /* the description only when no OSV record of that id carries one already */
    st = im->s[S_OSV_NAMED];
    sqlite3_bind_text(st, 1, ci.id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    bool named = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        rc = db_fail(im, rc, "looking up a CVE", d);
        goto out;
    }
    st = im->s[S_SEL_CVE];
    sqlite3_bind_text(st, 1, ci.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    bool exists = rc == SQLITE_ROW;
    bool newer = true, cvss_changed = true;
    if (exists) {
        const char *m = (const char *)sqlite3_column_text(st, 0);
        const char *c = (const char *)sqlite3_column_text(st, 1);
        newer = osv_time_cmp(ci.modified, m ? m : "") > 0;
        cvss_changed = strcmp(c ? c : "", buf_cstr(&im->cvss)) != 0;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        rc = db_fail(im, rc, "looking up CVE severity", d);
        goto out;
    }
    rc = 0;
    if (exists && !newer)
        goto out;
    if (!exists && im->cvss.len == 0 && (named || !*ci.description))
        goto out; /* nothing a finding would use */
    st = im->s[S_UPS_CVE];
    sqlite3_bind_text(st, 1, ci.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, ci.modified, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, ci.published, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, buf_cstr(&im->cvss), (int)im->cvss.len, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, named ? "" : ci.description, -1, SQLITE_STATIC);
    rc = step_done(im, st, "writing CVE severity", d);
    if (rc < 0)
        goto out;
    im->st->cve_info++;
    /* a severity change re-rates existing findings: the continuous rescans need to know */
    if (cvss_changed && !im->fresh && im->record_changes) {
        struct kv_slot *seen = kv_find(&im->seen, ci.id, strlen(ci.id), false, NULL);
        if (seen && seen->val >= 0)
            goto out; /* the record itself changed in this run: already recorded */
        im->pairs.n = 0;
        st = im->s[S_CVE_PKGS];
        sqlite3_bind_text(st, 1, ci.id, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            pkgs_decode(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
                        &im->pairs);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) {
            rc = db_fail(im, rc, "looking up a CVE's packages", d);
            goto out;
        }
        rc = 0;
        if (im->pairs.n) {
            im->st->cve_updated++;
            rc = record_change(im, NULL, ci.id, "changed",
                               kind == VIN_NVD ? "severity:NVD" : "severity:CISA", d);
        }
    }
out:
    cve_info_release(&ci);
    return rc;
}

/* Copy a JSON string value that starts at p[*i] (after its opening quote) into out; only
 * plain values (no escapes) that fit. */
static bool peek_string(const char *p, size_t n, size_t *i, char *out, size_t cap)
{
    size_t s0 = *i;
    while (*i < n && p[*i] != '"' && p[*i] != '\\')
        (*i)++;
    size_t len = *i - s0;
    if (*i >= n || p[*i] != '"' || len == 0 || len >= cap)
        return false;
    memcpy(out, p + s0, len);
    out[len] = '\0';
    (*i)++;
    return true;
}

static bool peek_literal(const char *p, size_t n, size_t *i, const char *lit)
{
    size_t l = strlen(lit);
    if (n - *i < l || memcmp(p + *i, lit, l) != 0)
        return false;
    *i += l;
    return true;
}

/* The id and modified of an OSV record from the start of its text, without parsing it: only
 * for the plain shape osv.dev writes ({"schema_version":"…","id":"…","modified":"…",…
 * with no escapes in them). false sends the record down the full path. */
static bool peek_osv(const char *p, size_t n, char *id, size_t idn, char *mod, size_t modn)
{
    size_t i = 0;
    char skip[32];
    /* a cut-off record must still be reported: it has to end like one */
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\r' || p[n - 1] == '\n'))
        n--;
    if (n < 2 || p[n - 1] != '}')
        return false;
    return peek_literal(p, n, &i, "{\"schema_version\":\"") &&
           peek_string(p, n, &i, skip, sizeof(skip)) && peek_literal(p, n, &i, ",\"id\":\"") &&
           peek_string(p, n, &i, id, idn) && peek_literal(p, n, &i, ",\"modified\":\"") &&
           peek_string(p, n, &i, mod, modn);
}

/* A record already stored with this or a newer `modified` needs no parsing: 1 when handled
 * so, 0 to take the full path, <0 on database errors. */
static int quick_unchanged(struct importer *im, const char *raw, size_t len, struct diag *d)
{
    char id[160], mod[64];
    if (!peek_osv(raw, len, id, sizeof(id), mod, sizeof(mod)))
        return 0;
    struct kv_slot *seen = kv_find(&im->seen, id, strlen(id), false, NULL);
    bool seen_before = seen && seen->aux != SEEN_NONE;
    if (im->fresh && !seen_before)
        return 0; /* nothing stored yet */
    struct existing ex;
    bool found;
    int rc = lookup_existing(im, id, &ex, &found, d);
    if (rc < 0 || !found)
        return rc;
    if (osv_time_cmp(mod, ex.modified) > 0) {
        existing_release(&ex);
        return 0;
    }
    if (im->in->docs == 0 && im->in->content == VIN_UNKNOWN)
        im->in->content = VIN_OSV;
    im->st->documents++;
    im->in->docs++;
    im->st->records++;
    if (seen_before) {
        im->st->duplicates++;
    } else {
        im->st->unchanged++;
        kv_find(&im->seen, id, strlen(id), true, &im->arena)->aux = SEEN_NOOP;
    }
    if (osv_time_cmp(mod, ex.modified) == 0 && !label_listed(ex.source, im->label))
        rc = add_label(im, &ex, d);
    existing_release(&ex);
    return rc < 0 ? rc : 1;
}

/* One JSON document from any input. raw/len is its text (for secdb's digest). */
static int process_doc(struct importer *im, const char *raw, size_t len, struct diag *d)
{
    void *root;
    enum vin_kind kind;
    struct diag pd = { 0 };
    if (im->phase == 1) {
        int q = quick_unchanged(im, raw, len, d);
        if (q != 0)
            return q < 0 ? q : 0;
    }
    if (vin_parse(raw, len, &root, &kind, &pd) < 0) {
        if (im->phase == 2)
            return 0; /* reported in phase 1 */
        im->st->documents++;
        im->in->docs++;
        imp_warn(im, NULL, "skipped: %s", pd.msg);
        im->st->skipped++;
        im->in->skipped++;
        return 0;
    }
    bool cve = kind == VIN_NVD || kind == VIN_CISA;
    if (im->phase == 1 && cve) {
        bool first = im->in->docs == 0;
        im->in->needs_phase2 = true;
        if (first)
            im->in->content = kind;
        json_decref(root);
        return first ? STOP_FILE : 0; /* a file that starts with them holds only them */
    }
    if (im->phase == 2 && !cve) {
        json_decref(root);
        return 0;
    }
    if (im->in->docs == 0 && im->in->content == VIN_UNKNOWN)
        im->in->content = kind;
    im->st->documents++;
    im->in->docs++;
    if (json_is_array((json_t *)root)) {
        /* a JSON array of records (some exports bundle them) */
        size_t i;
        json_t *e;
        int rc = 0;
        json_array_foreach((json_t *)root, i, e)
        {
            char *txt = json_dumps(e, JSON_COMPACT);
            if (!txt)
                continue;
            rc = process_doc(im, txt, strlen(txt), d);
            free(txt);
            if (rc != 0)
                break;
        }
        json_decref(root);
        return rc;
    }
    switch (kind) {
    case VIN_OSV:
        return process_osv(im, root, d);
    case VIN_SECDB:
        return process_secdb(im, root, raw, len, d);
    case VIN_NVD:
    case VIN_CISA:
        return process_cve(im, root, kind, d);
    case VIN_UNKNOWN:
        break;
    }
    json_decref(root);
    imp_warn(im, NULL, "skipped: not an OSV, NVD, CVE JSON 5 or secdb document");
    im->st->skipped++;
    im->in->skipped++;
    return 0;
}

/* ---- inputs ---------------------------------------------------------------------------- */

static bool name_ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool wanted_in_dir(const char *name)
{
    return name_ends(name, ".json") || name_ends(name, ".jsonl") || name_ends(name, ".json.gz") ||
           name_ends(name, ".jsonl.gz") || name_ends(name, ".zip");
}

static int path_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct path_vec {
    char **v;
    size_t n, cap;
};

static int walk_dir(const char *dir, int depth, struct path_vec *out, struct diag *d)
{
    if (depth > MAX_DIR_DEPTH)
        return diag_set(d, -ERR_LOOP, 0, "'%s': directories nested too deeply", dir);
    DIR *dh = opendir(dir);
    if (!dh)
        return diag_set(d, -errno, 0, "cannot read directory '%s': %s", dir, strerror(errno));
    struct path_vec local = VEC_INIT;
    struct dirent *e;
    while ((e = readdir(dh))) {
        if (e->d_name[0] == '.')
            continue;
        VEC_PUSH(&local, xasprintf("%s/%s", dir, e->d_name));
    }
    closedir(dh);
    if (local.n > 1)
        qsort(local.v, local.n, sizeof(char *), path_cmp);
    int rc = 0;
    for (size_t i = 0; i < local.n; i++) {
        struct stat st;
        if (rc == 0 && lstat(local.v[i], &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                rc = walk_dir(local.v[i], depth + 1, out, d);
            } else if ((S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) && wanted_in_dir(local.v[i])) {
                VEC_PUSH(out, local.v[i]);
                local.v[i] = NULL;
            }
        }
        free(local.v[i]);
    }
    VEC_FREE(&local);
    return rc;
}

/* A label for the records of a file: its name without extensions ("debian-cve"); for
 * osv.dev's "<Ecosystem>/all.zip", "<Ecosystem>-all". */
static char *label_for(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strcspn(base, ".");
    if (n == 0)
        n = strlen(base);
    if (n == 3 && strncmp(base, "all", 3) == 0 && base != path) {
        const char *end = base - 1, *start = end;
        while (start > path && start[-1] != '/')
            start--;
        if (end > start)
            return xasprintf("%.*s-all", (int)(end - start), start);
    }
    return xstrndup(base, n);
}

/* Zip, a single JSON document, or JSON lines (by magic and name; gzip is transparent). */
static void sniff(struct input *in)
{
    in->kind = name_ends(in->path, ".json") || name_ends(in->path, ".json.gz") ? IN_DOC : IN_LINES;
    int fd = open(in->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    unsigned char magic[4] = { 0 };
    if (read(fd, magic, sizeof(magic)) == 4 && magic[0] == 'P' && magic[1] == 'K' &&
        magic[2] == 3 && magic[3] == 4)
        in->kind = IN_ZIP;
    close(fd);
}

/* ---- readers --------------------------------------------------------------------------- */

static int read_lines(struct importer *im, gzFile g, struct diag *d)
{
    size_t cap = 1 << 20, len = 0;
    char *buf = xmalloc(cap);
    bool overlong = false;
    int rc = 0;
    im->line = 0;
    for (;;) {
        if (!gzgets(g, buf + len, (int)(cap - len))) {
            if (len == 0)
                break;
        } else {
            len += strlen(buf + len);
            if (len == 0 || buf[len - 1] != '\n') {
                if (!gzeof(g)) {
                    if (len + 1 >= cap) {
                        if (cap >= OSV_MAX_LINE) {
                            overlong = true; /* drop what we have, keep reading the line */
                            len = 0;
                        } else {
                            cap *= 2;
                            buf = xrealloc(buf, cap);
                        }
                    }
                    continue;
                }
            }
        }
        im->line++;
        size_t n = len;
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            n--;
        if (overlong) {
            imp_warn(im, NULL, "line longer than %u bytes, skipped", OSV_MAX_LINE);
            im->st->skipped++;
            im->in->skipped++;
            overlong = false;
        } else if (n > 0) {
            rc = process_doc(im, buf, n, d);
            if (rc != 0)
                break;
        }
        len = 0;
        if (gzeof(g))
            break;
    }
    free(buf);
    if (rc == STOP_FILE)
        return 0;
    if (rc == 0 && im->phase == 1) {
        int zerr;
        const char *msg = gzerror(g, &zerr);
        if (zerr != Z_OK && zerr != Z_STREAM_END) {
            im->line = 0;
            imp_warn(im, NULL, "read error after %zu documents: %s (rest of file skipped)",
                     (size_t)im->in->docs, zerr == Z_ERRNO ? strerror(errno) : msg);
            im->st->skipped++;
            im->in->skipped++;
        }
    }
    return rc;
}

static int read_doc(struct importer *im, gzFile g, struct diag *d)
{
    struct buf b;
    buf_init(&b, OSV_MAX_LINE);
    char chunk[65536];
    int n, rc = 0;
    bool too_big = false;
    while ((n = gzread(g, chunk, sizeof(chunk))) > 0)
        if (buf_append(&b, chunk, (size_t)n) < 0) {
            too_big = true;
            break;
        }
    int zerr;
    const char *msg = gzerror(g, &zerr);
    im->line = 1;
    if (too_big) {
        if (im->phase == 2)
            goto out;
        imp_warn(im, NULL, "document larger than %u bytes, skipped", OSV_MAX_LINE);
        im->st->skipped++;
        im->in->skipped++;
    } else if (zerr != Z_OK && zerr != Z_STREAM_END) {
        if (im->phase == 2)
            goto out;
        imp_warn(im, NULL, "read error: %s, file skipped", zerr == Z_ERRNO ? strerror(errno) : msg);
        im->st->skipped++;
        im->in->skipped++;
    } else {
        /* a ".json" file holding JSON lines is read as lines */
        struct str s = buf_str(&b), line;
        json_error_t je;
        json_t *probe = json_loadb(b.data ? b.data : "", b.len, JSON_DISABLE_EOF_CHECK, &je);
        bool single =
            probe && (size_t)je.position >= str_trim(s).len + (size_t)(str_trim(s).ptr - s.ptr);
        json_decref(probe);
        if (single || !probe) {
            rc = process_doc(im, b.data ? b.data : "", b.len, d);
        } else {
            im->line = 0;
            while (rc == 0 && str_next_line(&s, &line)) {
                im->line++;
                if (str_trim(line).len)
                    rc = process_doc(im, line.ptr, line.len, d);
            }
        }
    }
out:
    buf_release(&b);
    return rc == STOP_FILE ? 0 : rc;
}

/* zip: osv.dev's all.zip, read with base/zip; only the ".json" members are documents */

int zip_walk(const void *zip, size_t n, zip_member_fn fn, zip_warn_fn warn_fn, void *ctx,
             struct diag *d)
{
    /* an ecosystem's all.zip holds one member per record (10^5 and more) and may inflate to
     * several GB in all: only the per-member cap applies; members are read one at a time */
    const struct zip_limits lim = { .max_members = UINT64_MAX,
                                    .max_member_size = MAX_ZIP_MEMBER,
                                    .max_total = UINT64_MAX,
                                    .max_ratio = UINT32_MAX };
    struct zip z;
    int rc = zip_open(&z, zip, n, &lim, d);
    if (rc < 0)
        return rc;
    struct zip_entry e;
    char name[1024];
    while ((rc = zip_next(&z, &e, d)) > 0) {
        size_t cn = e.name.len < sizeof(name) - 1 ? e.name.len : sizeof(name) - 1;
        memcpy(name, e.name.ptr, cn);
        name[cn] = '\0';
        if (memchr(name, '\0', cn) || !name_ends(name, ".json"))
            continue;
        struct zip_data zd;
        struct diag md = { 0 };
        if (zip_extract(&z, &e, &zd, &md) < 0) {
            /* encrypted, unknown method, over the cap, damaged data or CRC, bad local
             * header: this member only; the directory still lists the others */
            if (warn_fn)
                warn_fn(ctx, name, md.msg);
            continue;
        }
        rc = fn(ctx, name, zd.ptr, zd.len);
        zip_data_release(&zd);
        if (rc)
            return rc;
    }
    return rc;
}

struct zip_ctx {
    struct importer *im;
    struct diag *d;
};

static int zip_member(void *ctx, const char *name, const void *data, size_t n)
{
    struct zip_ctx *zc = ctx;
    (void)name;
    zc->im->line = (size_t)zc->im->in->docs + 1;
    return process_doc(zc->im, data, n, zc->d);
}

static void zip_warn(void *ctx, const char *name, const char *msg)
{
    struct zip_ctx *zc = ctx;
    if (zc->im->phase == 2)
        return;
    zc->im->line = 0;
    imp_warn(zc->im, NULL, "%s: %s", name, msg);
    zc->im->st->skipped++;
    zc->im->in->skipped++;
}

static int read_zip(struct importer *im, const char *path, struct diag *d)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        imp_warn(im, NULL, "cannot open: %s", strerror(errno));
        return 0;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0 || (uint64_t)st.st_size > MAX_ZIP_FILE) {
        close(fd);
        imp_warn(im, NULL, "not a readable zip of a supported size, skipped");
        im->st->skipped++;
        return 0;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        imp_warn(im, NULL, "cannot map: %s", strerror(errno));
        return 0;
    }
    struct zip_ctx zc = { im, d };
    struct diag zd = { 0 };
    int rc = zip_walk(m, (size_t)st.st_size, zip_member, zip_warn, &zc, &zd);
    munmap(m, (size_t)st.st_size);
    if (rc == STOP_FILE)
        return 0;
    if (rc == -ERR_CORRUPT && zd.err == -ERR_CORRUPT) {
        if (im->phase == 2)
            return 0;
        im->line = 0;
        imp_warn(im, NULL, "%s (rest of archive skipped)", zd.msg);
        im->st->skipped++;
        return 0;
    }
    return rc;
}

/* ---- driver ---------------------------------------------------------------------------- */

static void now_rfc3339(char *out, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int record_source(struct importer *im, const struct input *in, struct diag *d)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(im->db,
                                "INSERT OR REPLACE INTO sources(path, kind, size, mtime, records,"
                                " skipped, import_id, imported_at) VALUES(?1,?2,?3,?4,?5,?6,?7,"
                                "strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(im, rc, "recording a source", d);
    struct stat sb;
    bool ok = stat(in->path, &sb) == 0;
    char *abs = realpath(in->path, NULL);
    static const char *const kinds[] = { "jsonl", "json", "zip" };
    static const char *const contents[] = { "", ":osv", ":nvd", ":cve5", ":secdb" };
    char k[32];
    snprintf(k, sizeof(k), "%s%s", kinds[in->kind], contents[in->content]);
    sqlite3_bind_text(st, 1, abs ? abs : in->path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, k, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, ok ? (sqlite3_int64)sb.st_size : 0);
    sqlite3_bind_int64(st, 4, ok ? (sqlite3_int64)sb.st_mtime : 0);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)in->docs);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)in->skipped);
    sqlite3_bind_int64(st, 7, im->import_id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    free(abs);
    if (rc != SQLITE_DONE)
        return db_fail(im, rc, "recording a source", d);
    return 0;
}

static int import_one(struct importer *im, struct input *in, int phase, struct diag *d)
{
    im->file = in->path;
    im->label = in->label;
    im->in = in;
    im->phase = phase;
    im->line = 0;
    if (phase == 1) {
        im->file_warnings = 0;
        im->st->files++;
    }
    int rc = 0;
    if (in->kind == IN_ZIP) {
        rc = read_zip(im, in->path, d);
    } else {
        gzFile g = gzopen(in->path, "rb");
        if (!g) {
            if (phase == 1) {
                imp_warn(im, NULL, "cannot open: %s", strerror(errno));
                im->st->skipped++;
            }
            return 0;
        }
        gzbuffer(g, 1 << 18);
        rc = in->kind == IN_DOC ? read_doc(im, g, d) : read_lines(im, g, d);
        gzclose(g);
    }
    if (rc == 0 && phase == 1)
        rc = tdict_settle(im, tdict_for(im, in->label), d);
    if (rc == 0 && (phase == 2 || !in->needs_phase2))
        rc = record_source(im, in, d);
    return rc;
}

static int ensure_parent_dir(const char *path, struct diag *d)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1; *p && rc == 0; p++) {
            if (*p != '/')
                continue;
            *p = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST)
                rc = diag_set(d, -errno, 0, "cannot create '%s': %s", dir, strerror(errno));
            *p = '/';
        }
        if (rc == 0 && mkdir(dir, 0755) != 0 && errno != EEXIST)
            rc = diag_set(d, -errno, 0, "cannot create '%s': %s", dir, strerror(errno));
    }
    free(dir);
    return rc;
}

static int prepare_all(struct importer *im, struct diag *d)
{
    for (int i = 0; i < S_COUNT; i++) {
        int rc =
            sqlite3_prepare_v3(im->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &im->s[i], NULL);
        if (rc != SQLITE_OK)
            return db_fail(im, rc, "preparing statements", d);
    }
    return 0;
}

/* OSV records per ecosystem (distinct advisories over its packages' entries). */
static int eco_stats(struct importer *im, struct diag *d)
{
    struct i64_vec secdb = VEC_INIT;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(im->db, "SELECT id FROM advisories WHERE kind <> 1", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(im, rc, "counting records", d);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        VEC_PUSH(&secdb, sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        VEC_FREE(&secdb);
        return db_fail(im, rc, "counting records", d);
    }
    /* (eco, adv) pairs in an open-addressing set */
    size_t cap = 1 << 21, n = 0;
    uint64_t *set = xcalloc(cap, sizeof(*set));
    struct i64_vec counts = VEC_INIT;
    rc = sqlite3_prepare_v2(im->db, "SELECT eco, entries FROM packages WHERE entries IS NOT NULL",
                            -1, &st, NULL);
    if (rc != SQLITE_OK) {
        rc = db_fail(im, rc, "counting records", d);
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t eco = sqlite3_column_int64(st, 0);
        const unsigned char *p = sqlite3_column_blob(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1), i = 0;
        bool ok = true;
        while (ok && i < len) {
            int64_t adv = (int64_t)varint_get(p, len, &i, &ok);
            size_t rl = (size_t)varint_get(p, len, &i, &ok);
            if (!ok || rl > len - i)
                break;
            i += rl;
            if (i64_in(&secdb, adv) || eco <= 0 || eco > (1 << 24))
                continue;
            uint64_t key = (uint64_t)eco << 40 | (uint64_t)adv;
            if ((n + 1) * 2 > cap) {
                size_t ncap = cap * 2;
                uint64_t *ns = xcalloc(ncap, sizeof(*ns));
                for (size_t k = 0; k < cap; k++) {
                    if (!set[k])
                        continue;
                    size_t j = (size_t)(set[k] * 0x9E3779B97F4A7C15ULL >> 17) & (ncap - 1);
                    while (ns[j])
                        j = (j + 1) & (ncap - 1);
                    ns[j] = set[k];
                }
                free(set);
                set = ns;
                cap = ncap;
            }
            size_t j = (size_t)(key * 0x9E3779B97F4A7C15ULL >> 17) & (cap - 1);
            while (set[j] && set[j] != key)
                j = (j + 1) & (cap - 1);
            if (set[j])
                continue;
            set[j] = key;
            n++;
            VEC_GROW(&counts, (size_t)eco + 1);
            while (counts.n <= (size_t)eco)
                counts.v[counts.n++] = 0;
            counts.v[eco]++;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        rc = db_fail(im, rc, "counting records", d);
        goto out;
    }
    rc = vdb_exec(im->db, "DELETE FROM eco_stats", d);
    if (rc < 0)
        goto out;
    rc = sqlite3_prepare_v2(im->db, "INSERT INTO eco_stats(eco, records) VALUES(?1, ?2)", -1, &st,
                            NULL);
    if (rc != SQLITE_OK) {
        rc = db_fail(im, rc, "counting records", d);
        goto out;
    }
    rc = 0;
    for (size_t e = 1; e < counts.n && rc == 0; e++) {
        if (!counts.v[e])
            continue;
        sqlite3_bind_int64(st, 1, (int64_t)e);
        sqlite3_bind_int64(st, 2, counts.v[e]);
        rc = step_done(im, st, "counting records", d);
    }
    sqlite3_finalize(st);
out:
    free(set);
    VEC_FREE(&secdb);
    VEC_FREE(&counts);
    return rc;
}

static int finish_import(struct importer *im, const char *paths_text, const char *started,
                         struct diag *d)
{
    int rc = write_packages(im, d);
    if (rc == 0)
        rc = eco_stats(im, d);
    if (rc < 0)
        return rc;
    if (!im->fresh) {
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "DELETE FROM change_pkgs WHERE change IN (SELECT id FROM changes WHERE"
                 " import_id <= %lld);"
                 "DELETE FROM changes WHERE import_id <= %lld;",
                 (long long)(im->import_id - KEEP_IMPORTS),
                 (long long)(im->import_id - KEEP_IMPORTS));
        rc = vdb_exec(im->db, sql, d);
        if (rc < 0)
            return rc;
    }
    sqlite3_stmt *st;
    rc = sqlite3_prepare_v2(im->db,
                            "UPDATE imports SET started_at=?2, finished_at=?3, mode=?4, paths=?5,"
                            " records=?6, added=?7, changed=?8, removed=?9, unchanged=?10,"
                            " skipped=?11, warnings=?12, cve_updated=?13 WHERE id=?1",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return db_fail(im, rc, "recording the import", d);
    char finished[32];
    now_rfc3339(finished, sizeof(finished));
    const struct import_stats *s = im->st;
    sqlite3_bind_int64(st, 1, im->import_id);
    sqlite3_bind_text(st, 2, started, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, finished, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, im->fresh ? "build" : "update", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, paths_text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)s->records);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)s->added);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)s->changed);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)s->removed);
    sqlite3_bind_int64(st, 10, (sqlite3_int64)(s->unchanged + s->duplicates));
    sqlite3_bind_int64(st, 11, (sqlite3_int64)s->skipped);
    sqlite3_bind_int64(st, 12, (sqlite3_int64)s->warnings);
    sqlite3_bind_int64(st, 13, (sqlite3_int64)s->cve_updated);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(im, rc, "recording the import", d);
    /* the newest OSV record's date, read by every scan (ECR's vulnerabilitySourceUpdatedAt):
     * kept in meta so a scan does not walk the advisories table for it */
    return vdb_exec(im->db,
                    "INSERT OR REPLACE INTO meta(key, value) SELECT 'newest_modified',"
                    " COALESCE(MAX(modified), '') FROM advisories WHERE kind = 1;",
                    d);
}

static void importer_release(struct importer *im)
{
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(im->s[i]);
    kv_release(&im->ecos);
    kv_release(&im->pkgs);
    kv_release(&im->seen);
    arena_release(&im->arena);
    buf_release(&im->row);
    buf_release(&im->rows);
    buf_release(&im->text);
    buf_release(&im->cvss);
    buf_release(&im->keys);
    buf_release(&im->tmp);
    buf_release(&im->raw);
    buf_release(&im->aliases);
    buf_release(&im->pkglist);
    VEC_FREE(&im->new_rows);
    VEC_FREE(&im->pairs);
    edits_release(im);
    VEC_FREE(&im->new_pkgs);
    buf_release(&im->added);
    for (size_t i = 0; i < im->dicts.n; i++)
        tdict_release(&im->dicts.v[i]);
    VEC_FREE(&im->dicts);
    ZSTD_freeCCtx(im->cctx);
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

int vulndb_import(const char *db_path, char *const *paths, size_t n, const struct import_opts *o,
                  struct import_stats *st, struct diag *d)
{
    static const struct import_opts defaults = { 0 };
    if (!o)
        o = &defaults;
    memset(st, 0, sizeof(*st));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char started[32];
    now_rfc3339(started, sizeof(started));

    /* inputs */
    struct path_vec files = VEC_INIT;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct stat sb;
        if (stat(paths[i], &sb) != 0)
            rc = diag_set(d, -errno, 0, "cannot read '%s': %s", paths[i], strerror(errno));
        else if (S_ISDIR(sb.st_mode))
            rc = walk_dir(paths[i], 0, &files, d);
        else
            VEC_PUSH(&files, xstrdup(paths[i]));
    }
    VEC(struct input) inputs = VEC_INIT;
    for (size_t i = 0; i < files.n; i++) {
        struct input in = { .path = files.v[i], .label = label_for(files.v[i]) };
        sniff(&in);
        VEC_PUSH(&inputs, in);
    }
    VEC_FREE(&files);
    struct buf paths_text;
    buf_init(&paths_text, 1 << 20);
    for (size_t i = 0; i < inputs.n; i++)
        buf_printf(&paths_text, "%s%s", i ? "\n" : "", inputs.v[i].path);

    struct importer im = { 0 };
    im.o = o;
    im.st = st;
    arena_init(&im.arena);
    buf_init(&im.row, AROW_MAX + 4096);
    buf_init(&im.rows, 256u << 20);
    buf_init(&im.text, 64u << 20);
    buf_init(&im.cvss, 1 << 20);
    buf_init(&im.keys, 1 << 20);
    buf_init(&im.tmp, 64u << 20);
    buf_init(&im.raw, TEXT_MAX + 1);
    buf_init(&im.aliases, 64u << 20);
    buf_init(&im.pkglist, 64u << 20);
    buf_init(&im.added, 1u << 30);
    im.cctx = ZSTD_createCCtx();
    char *tmp_path = NULL;
    if (rc < 0)
        goto out;

    struct stat dbst;
    bool exists = stat(db_path, &dbst) == 0;
    im.fresh = o->rebuild || !exists;
    im.record_changes = !im.fresh || o->keep_build_changes;
    if (im.fresh) {
        rc = ensure_parent_dir(db_path, d);
        if (rc < 0)
            goto out;
        tmp_path = xasprintf("%s.tmp-%ld", db_path, (long)getpid());
        unlink(tmp_path);
        rc = sqlite3_open_v2(tmp_path, &im.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
        if (rc != SQLITE_OK) {
            rc = diag_set(d, -ERR_DB, 0, "cannot create '%s': %s", tmp_path,
                          im.db ? sqlite3_errmsg(im.db) : sqlite3_errstr(rc));
            goto out;
        }
        rc = vdb_exec(im.db,
                      "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                      " PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-262144;"
                      " PRAGMA temp_store=MEMORY;",
                      d);
        if (rc == 0)
            rc = vdb_create_schema(im.db, d);
    } else {
        rc = vdb_open(db_path, true, &im.db, d);
        if (rc == 0)
            rc = vdb_exec(im.db,
                          "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                          " PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY;",
                          d);
    }
    if (rc < 0)
        goto out;
    rc = vdb_exec(im.db, "BEGIN IMMEDIATE", d);
    if (rc == 0)
        rc = prepare_all(&im, d);
    if (rc == 0)
        rc = load_maps(&im, d);
    if (rc == 0)
        rc = load_dicts(&im, d);
    if (rc == 0)
        rc = vdb_exec(im.db, "INSERT INTO imports(started_at) VALUES(NULL)", d);
    if (rc < 0)
        goto out;
    im.import_id = sqlite3_last_insert_rowid(im.db);
    st->import_id = im.import_id;

    for (size_t i = 0; i < inputs.n && rc == 0; i++)
        rc = import_one(&im, &inputs.v[i], 1, d);
    for (size_t i = 0; i < inputs.n && rc == 0; i++)
        if (inputs.v[i].needs_phase2)
            rc = import_one(&im, &inputs.v[i], 2, d);
    if (rc == 0)
        rc = tdicts_settle_all(&im, d);
    if (rc == 0)
        rc = finish_import(&im, buf_cstr(&paths_text), started, d);
    if (rc == 0)
        rc = vdb_exec(im.db, "COMMIT", d);
    if (rc < 0)
        goto out;
    if (im.fresh) {
        for (int i = 0; i < S_COUNT; i++) {
            sqlite3_finalize(im.s[i]);
            im.s[i] = NULL;
        }
        rc = vdb_exec(im.db, "PRAGMA locking_mode=NORMAL; PRAGMA journal_mode=WAL;", d);
        if (rc < 0)
            goto out;
        sqlite3_close(im.db);
        im.db = NULL;
        fsync_path(tmp_path);
        if (rename(tmp_path, db_path) != 0) {
            rc = diag_set(d, -errno, 0, "cannot rename '%s' to '%s': %s", tmp_path, db_path,
                          strerror(errno));
            goto out;
        }
        /* stale WAL/SHM files of a replaced database must not be applied to the new one */
        char *side = xasprintf("%s-wal", db_path);
        unlink(side);
        free(side);
        side = xasprintf("%s-shm", db_path);
        unlink(side);
        free(side);
        free(tmp_path);
        tmp_path = NULL;
        st->built = true;
    }
out:
    if (rc < 0 && im.db)
        sqlite3_exec(im.db, "ROLLBACK", NULL, NULL, NULL);
    importer_release(&im);
    if (im.db)
        sqlite3_close(im.db);
    if (tmp_path) {
        unlink(tmp_path);
        free(tmp_path);
    }
    for (size_t i = 0; i < inputs.n; i++) {
        free(inputs.v[i].path);
        free(inputs.v[i].label);
    }
    VEC_FREE(&inputs);
    buf_release(&paths_text);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    st->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return rc;
}
