/* SPDX-License-Identifier: Apache-2.0 */
/* vigil gc: remove unreferenced blobs, expired upload sessions and leftovers from the data
 * directory. Safe while `vigil serve` runs on the same directory (registry_gc coordinates
 * through the database's write lock). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "registry/registry.h"
#include "store/blob_store.h"
#include "store/meta.h"

static const struct conf_def gc_defs[] = {
    { "data-dir", CONF_STRING, NULL, 0, 0,
      "data directory of the server (default as for 'vigil serve')", false },
    { "grace", CONF_DURATION, "1h", 0, 3650LL * 86400000,
      "keep unreferenced blobs pushed or mounted more recently than this (a push in progress "
      "has uploaded its blobs but not yet its manifest)",
      false },
    { "upload-expiry", CONF_DURATION, "24h", 60000, 2592000000LL,
      "remove upload sessions idle for longer than this", false },
    { "dry-run", CONF_BOOL, "false", 0, 0, "only report what would be removed", false },
    { "log-level", CONF_STRING, "warn", 0, 0, "error, warn, info or debug", false },
};
#define GC_NDEFS (sizeof(gc_defs) / sizeof(gc_defs[0]))

static void gc_usage(FILE *f)
{
    fprintf(f, "usage: vigil gc [--data-dir DIR] [--grace DURATION] [--dry-run]\n"
               "\n"
               "Remove blobs that no manifest references (once older than the grace period),\n"
               "expired upload sessions, blob files the database does not know and database\n"
               "rows whose file is gone. Safe while 'vigil serve' is running.\n"
               "\n");
    conf_help(f, gc_defs, GC_NDEFS);
}

/* "12.3 MB" style sizes for the summary. */
static void human_size(uint64_t n, char *out, size_t len)
{
    static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
    double v = (double)n;
    size_t u = 0;
    while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1000;
        u++;
    }
    if (u == 0)
        snprintf(out, len, "%llu B", (unsigned long long)n);
    else
        snprintf(out, len, "%.1f %s", v, units[u]);
}

int cmd_gc(int argc, char **argv)
{
    struct conf c;
    struct diag d = { 0 };
    int status = 1;
    char *data_dir = NULL;
    struct meta_db *db = NULL;
    struct blob_store *bs = NULL;
    struct registry *reg = NULL;
    conf_init(&c, gc_defs, GC_NDEFS);

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            gc_usage(stdout);
            status = 0;
            goto out;
        }
    }
    if (conf_load_env(&c, &d) < 0) {
        fprintf(stderr, "vigil gc: %s\n", d.msg);
        status = 2;
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        int rc = conf_flag(&c, argc, argv, &i, &d);
        if (rc == 1)
            continue;
        if (rc < 0)
            fprintf(stderr, "vigil gc: %s\n", d.msg);
        else
            fprintf(stderr, "vigil gc: unknown option '%s' (see 'vigil gc --help')\n", argv[i]);
        status = 2;
        goto out;
    }
    int lvl = log_level_parse(conf_str(&c, "log-level"));
    if (lvl < 0) {
        fprintf(stderr, "vigil gc: log-level '%s' is not one of error, warn, info, debug\n",
                conf_str(&c, "log-level"));
        status = 2;
        goto out;
    }
    log_set_level((enum log_level)lvl);

    data_dir =
        conf_str(&c, "data-dir") ? xstrdup(conf_str(&c, "data-dir")) : cli_default_data_dir();
    /* never create a database where there was none: a mistyped directory is an error */
    char *dbpath = xasprintf("%s/%s", data_dir, META_DB_FILE);
    struct stat st;
    if (stat(dbpath, &st) != 0) {
        fprintf(stderr, "vigil gc: no vigil data in '%s' (%s: %s)\n", data_dir, dbpath,
                strerror(errno));
        free(dbpath);
        goto out;
    }
    int rc = meta_open(dbpath, NULL, &db, &d);
    free(dbpath);
    if (rc < 0) {
        fprintf(stderr, "vigil gc: %s\n", d.msg);
        goto out;
    }
    if (blob_store_open(data_dir, &bs, &d) < 0) {
        fprintf(stderr, "vigil gc: %s\n", d.msg);
        goto out;
    }
    struct registry_config rcfg;
    registry_config_init(&rcfg);
    rcfg.db = db;
    rcfg.blobs = bs;
    rcfg.upload_expiry_s = conf_duration_ms(&c, "upload-expiry") / 1000;
    if (registry_new(&rcfg, &reg, &d) < 0) {
        fprintf(stderr, "vigil gc: %s\n", d.msg);
        goto out;
    }

    struct reg_gc_options o = { 0 };
    int64_t grace_ms = conf_duration_ms(&c, "grace");
    o.grace_s = grace_ms == 0 ? -1 : grace_ms / 1000;
    o.dry_run = conf_bool(&c, "dry-run");
    o.upload_expiry_s = rcfg.upload_expiry_s;
    struct reg_gc_report rep;
    rc = registry_gc(reg, &o, &rep);
    char blob_bytes[32], upload_bytes[32];
    human_size(rep.bytes_removed, blob_bytes, sizeof(blob_bytes));
    human_size(rep.upload_bytes_removed, upload_bytes, sizeof(upload_bytes));
    printf("%s %llu blob(s) and %llu orphan file(s) (%s), %llu upload(s) (%s), "
           "%llu dangling row(s); %llu blob(s) kept\n",
           o.dry_run ? "would remove" : "removed", (unsigned long long)rep.blobs_removed,
           (unsigned long long)rep.orphan_files_removed, blob_bytes,
           (unsigned long long)rep.uploads_removed, upload_bytes,
           (unsigned long long)rep.dangling_rows_removed, (unsigned long long)rep.blobs_kept);
    if (rc < 0) {
        fprintf(stderr, "vigil gc: stopped early: %s\n", err_str(rc));
        goto out;
    }
    status = 0;
out:
    registry_free(reg);
    blob_store_close(bs);
    meta_close(db);
    free(data_dir);
    conf_release(&c);
    return status;
}
