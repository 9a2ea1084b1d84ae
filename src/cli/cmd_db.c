/* SPDX-License-Identifier: Apache-2.0 */
/* vigil db import|status|match: build and inspect the vulnerability database; `match` looks up
 * one package (for debugging and for the reference matcher); `bench` (hidden) measures the
 * matcher. */
#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/arena.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "vulndb/db.h"
#include "vulndb/import.h"
#include "vulndb/match.h"

static void usage(FILE *f)
{
    char *def = vulndb_default_path();
    fprintf(f,
            "usage: vigil db import [--db PATH] [--rebuild] [--max-warnings N] PATH...\n"
            "       vigil db status [--db PATH] [--format text|json]\n"
            "       vigil db match [--db PATH] --ecosystem ECO --package NAME --version V\n"
            "                      [--source-name S] [--source-version SV]\n"
            "                      [--include-unimportant] [--ignore-unfixed]\n"
            "                      [--min-severity SEV]\n"
            "\n"
            "import   read OSV data (*.jsonl[.gz], *.json, directories, osv.dev all.zip),\n"
            "         Alpine secdb, NVD 1.1 and CVE JSON 5 (CISA vulnrichment) records;\n"
            "         records are keyed by id and 'modified', so re-importing is cheap\n"
            "status   what the database holds and what the last import changed\n"
            "match    the findings for one package (JSON), as a scan would report them\n"
            "\n"
            "--db PATH   the database (default: %s;\n"
            "            $VIGIL_DATA_DIR/vulndb.sqlite when VIGIL_DATA_DIR is set, else\n"
            "            vulndb.sqlite in $VIGIL_CACHE_DIR, $XDG_CACHE_HOME/vigil or\n"
            "            ~/.cache/vigil)\n"
            "--rebuild   build a new database from the given inputs and replace the old one\n",
            def);
    free(def);
}

static bool is_opt(const char *a, const char *name)
{
    return strcmp(a, name) == 0;
}

/* Value of an option that takes one; prints usage and returns NULL when missing. */
static const char *opt_value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "vigil db: option '%s' needs a value\n", argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

/* ---- import ---------------------------------------------------------------------------- */

static int db_import(int argc, char **argv)
{
    const char *db = NULL;
    struct import_opts o = { 0 };
    VEC(char *) paths = VEC_INIT;
    int status = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (is_opt(a, "--db")) {
            if (!(db = opt_value(argc, argv, &i)))
                goto out;
        } else if (is_opt(a, "--rebuild")) {
            o.rebuild = true;
        } else if (is_opt(a, "--keep-build-changes")) {
            o.keep_build_changes = true;
        } else if (is_opt(a, "--max-warnings")) {
            const char *v = opt_value(argc, argv, &i);
            unsigned long long n;
            if (!v || !str_to_u64(str_from(v), &n) || n > 1000000) {
                fprintf(stderr, "vigil db import: --max-warnings needs a number\n");
                goto out;
            }
            o.max_warnings = (unsigned)n;
        } else if (is_opt(a, "--help") || is_opt(a, "-h")) {
            usage(stdout);
            status = 0;
            goto out;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "vigil db import: unknown option '%s'\n", a);
            goto out;
        } else {
            VEC_PUSH(&paths, argv[i]);
        }
    }
    if (paths.n == 0) {
        fprintf(stderr, "vigil db import: nothing to import (see 'vigil db --help')\n");
        goto out;
    }
    char *def = db ? NULL : vulndb_default_path();
    const char *path = db ? db : def;
    struct import_stats st;
    struct diag d = { 0 };
    int rc = vulndb_import(path, paths.v, paths.n, &o, &st, &d);
    if (rc < 0) {
        fprintf(stderr, "vigil db import: %s\n", d.msg[0] ? d.msg : err_str(rc));
        status = 1;
    } else {
        printf("%s %s: %llu files, %llu records (%llu added, %llu changed, %llu removed, "
               "%llu unchanged, %llu duplicates), %llu secdb documents, %llu CVE severity "
               "records (%llu not referenced), %llu skipped, %llu warnings, %.1f s\n",
               st.built ? "built" : "updated", path, st.files, st.records, st.added, st.changed,
               st.removed, st.unchanged, st.duplicates, st.secdb_docs, st.cve_info,
               st.cve_unreferenced, st.skipped, st.warnings, st.seconds);
        status = 0;
    }
    free(def);
out:
    VEC_FREE(&paths);
    return status;
}

/* ---- status ---------------------------------------------------------------------------- */

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

static long long jint(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

static void print_status_text(json_t *s)
{
    printf("database      %s (%.1f MB)\n", jstr(s, "path"), (double)jint(s, "size_bytes") / 1e6);
    printf("records       %lld OSV records (%lld withdrawn), %lld secdb documents\n",
           jint(s, "records"), jint(s, "withdrawn"), jint(s, "secdb_documents"));
    printf("newest        modified %s, published %s\n", jstr(s, "newest_modified"),
           jstr(s, "newest_published"));
    json_t *ci = json_object_get(s, "cve_info");
    printf("severity      %lld NVD, %lld CISA records\n", jint(ci, "NVD"), jint(ci, "CISA"));
    json_t *li = json_object_get(s, "last_import");
    if (json_is_object(li))
        printf("last import   #%lld %s (%s): %lld added, %lld changed, %lld removed, "
               "%lld unchanged, %lld skipped, %lld warnings\n",
               jint(li, "id"), jstr(li, "finished_at"), jstr(li, "mode"), jint(li, "added"),
               jint(li, "changed"), jint(li, "removed"), jint(li, "unchanged"), jint(li, "skipped"),
               jint(li, "warnings"));
    printf("\nsources:\n");
    size_t i;
    json_t *src;
    json_array_foreach(json_object_get(s, "sources"), i, src)
    {
        printf("  %-60s %-12s %8lld records  %s\n", jstr(src, "path"), jstr(src, "kind"),
               jint(src, "records"), jstr(src, "imported_at"));
    }
    /* Red Hat has hundreds of product streams: fold them into product:version */
    printf("\nrecords per ecosystem:\n");
    const char *eco;
    json_t *cnt;
    char last_rh[160] = "";
    long long rh_max = 0;
    int rh_streams = 0;
    json_object_foreach(json_object_get(s, "ecosystems"), eco, cnt)
    {
        if (strncmp(eco, "Red Hat:", 8) == 0) {
            const char *sep = strstr(eco, "::");
            size_t n = sep ? (size_t)(sep - eco) : strlen(eco);
            if (strlen(last_rh) != n || strncmp(last_rh, eco, n) != 0) {
                if (*last_rh)
                    printf("  %-44s %8lld  (largest of %d streams)\n", last_rh, rh_max, rh_streams);
                if (n >= sizeof(last_rh))
                    n = sizeof(last_rh) - 1;
                memcpy(last_rh, eco, n);
                last_rh[n] = '\0';
                rh_max = 0;
                rh_streams = 0;
            }
            rh_streams++;
            if (json_integer_value(cnt) > rh_max)
                rh_max = json_integer_value(cnt);
            continue;
        }
        printf("  %-44s %8lld\n", eco, (long long)json_integer_value(cnt));
    }
    if (*last_rh)
        printf("  %-44s %8lld  (largest of %d streams)\n", last_rh, rh_max, rh_streams);
}

static int db_status(int argc, char **argv)
{
    const char *db = NULL, *format = "text";
    for (int i = 1; i < argc; i++) {
        if (is_opt(argv[i], "--db")) {
            if (!(db = opt_value(argc, argv, &i)))
                return 2;
        } else if (is_opt(argv[i], "--format")) {
            if (!(format = opt_value(argc, argv, &i)))
                return 2;
        } else if (is_opt(argv[i], "--json")) {
            format = "json";
        } else if (is_opt(argv[i], "--help") || is_opt(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "vigil db status: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (strcmp(format, "json") != 0 && strcmp(format, "text") != 0) {
        fprintf(stderr, "vigil db status: --format is text or json\n");
        return 2;
    }
    char *def = db ? NULL : vulndb_default_path();
    json_t *s = NULL;
    struct diag d = { 0 };
    int rc = vulndb_status_json(db ? db : def, &s, &d);
    free(def);
    if (rc < 0) {
        fprintf(stderr, "vigil db status: %s\n", d.msg[0] ? d.msg : err_str(rc));
        return 1;
    }
    if (strcmp(format, "json") == 0) {
        json_dumpf(s, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
    } else {
        print_status_text(s);
    }
    json_decref(s);
    return 0;
}

/* ---- match ----------------------------------------------------------------------------- */

static json_t *finding_json(const struct finding *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(f->id));
    json_t *rel = json_array();
    for (size_t i = 0; i < f->related.n; i++)
        json_array_append_new(rel, json_string(f->related.v[i]));
    json_object_set_new(o, "related", rel);
    json_object_set_new(o, "package", json_string(f->pkg->name));
    json_object_set_new(o, "version", json_string(f->pkg->version));
    json_object_set_new(o, "ecosystem", json_string(f->ecosystem));
    json_object_set_new(o, "fixed", json_string(f->fixed_version));
    json_object_set_new(o, "severity", json_string(severity_name(f->severity)));
    json_object_set_new(o, "severity_source", json_string(f->severity_source));
    json_object_set_new(o, "vendor_severity", json_string(f->vendor_severity));
    json_t *cv = json_array();
    for (size_t i = 0; i < f->cvss.n; i++) {
        const struct finding_cvss *c = &f->cvss.v[i];
        json_t *x = json_object();
        json_object_set_new(x, "version", json_string(c->version));
        json_object_set_new(x, "vector", json_string(c->vector));
        json_object_set_new(x, "score", json_real(c->score));
        json_object_set_new(x, "source", json_string(c->source));
        json_array_append_new(cv, x);
    }
    json_object_set_new(o, "cvss", cv);
    json_object_set_new(o, "title", json_string(f->title));
    json_object_set_new(o, "uri", json_string(f->uri));
    json_object_set_new(o, "published", json_string(f->published));
    json_object_set_new(o, "modified", json_string(f->modified));
    json_object_set_new(o, "source", json_string(f->source));
    json_object_set_new(o, "malicious", json_boolean(f->malicious));
    return o;
}

static int db_match(int argc, char **argv)
{
    const char *db = NULL, *eco = NULL, *name = NULL, *ver = NULL, *sname = NULL, *sver = NULL;
    struct match_opts mo = { 0 };
    bool with_text = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = is_opt(a, "--db")               ? &db
                            : is_opt(a, "--ecosystem")      ? &eco
                            : is_opt(a, "--package")        ? &name
                            : is_opt(a, "--version")        ? &ver
                            : is_opt(a, "--source-name")    ? &sname
                            : is_opt(a, "--source-version") ? &sver
                                                            : NULL;
        if (slot) {
            if (!(*slot = opt_value(argc, argv, &i)))
                return 2;
        } else if (is_opt(a, "--include-unimportant")) {
            mo.include_unimportant = true;
        } else if (is_opt(a, "--ignore-unfixed")) {
            mo.ignore_unfixed = true;
        } else if (is_opt(a, "--with-text")) {
            with_text = true;
        } else if (is_opt(a, "--min-severity")) {
            const char *v = opt_value(argc, argv, &i);
            int s = v ? severity_parse(v) : -1;
            if (s < 0) {
                fprintf(stderr, "vigil db match: unknown severity '%s'\n", v ? v : "");
                return 2;
            }
            mo.min_severity = (enum severity)s;
        } else if (is_opt(a, "--help") || is_opt(a, "-h")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "vigil db match: unknown argument '%s'\n", a);
            return 2;
        }
    }
    if (!eco || !name || !ver) {
        fprintf(stderr, "vigil db match: --ecosystem, --package and --version are required\n");
        return 2;
    }
    char *def = db ? NULL : vulndb_default_path();
    struct vulndb *vdb;
    struct diag d = { 0 };
    int rc = vulndb_open(db ? db : def, &vdb, &d);
    free(def);
    if (rc < 0) {
        fprintf(stderr, "vigil db match: %s\n", d.msg[0] ? d.msg : err_str(rc));
        return 1;
    }
    struct pkg p = { 0 };
    p.type = eco_family_of(eco) == ECO_ALPINE   ? PKG_APK
             : eco_family_of(eco) == ECO_REDHAT ? PKG_RPM
                                                : PKG_DEB;
    p.name = name;
    p.version = ver;
    p.src_name = sname ? sname : name;
    p.src_version = sver ? sver : ver;
    p.arch = p.upstream = p.release = p.license = p.maintainer = p.db_path = "";
    p.layer = -1;
    struct arena a;
    arena_init(&a);
    struct finding_list fl = { VEC_INIT };
    rc = vulndb_match(vdb, eco, &p, 1, &mo, &a, &fl, &d);
    int status = 0;
    if (rc < 0) {
        fprintf(stderr, "vigil db match: %s\n", d.msg[0] ? d.msg : err_str(rc));
        status = 1;
    } else {
        json_t *arr = json_array();
        for (size_t i = 0; i < fl.items.n; i++) {
            json_t *fj = finding_json(&fl.items.v[i]);
            if (with_text) {
                json_object_set_new(fj, "description", json_string(fl.items.v[i].description));
                json_t *refs = json_array();
                for (size_t r = 0; r < fl.items.v[i].references.n; r++)
                    json_array_append_new(refs, json_string(fl.items.v[i].references.v[r]));
                json_object_set_new(fj, "references", refs);
            }
            json_array_append_new(arr, fj);
        }
        json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4));
        putchar('\n');
        json_decref(arr);
    }
    VEC_FREE(&fl.items);
    arena_release(&a);
    vulndb_close(vdb);
    return status;
}

/* ---- bench (hidden) -------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct bench_pkg {
    char *name;
    size_t first_row, n_rows; /* into rows */
    char *versions[4];
    size_t n_versions;
};

struct bench_row {
    void *data;
    size_t len;
};

/* Raw row evaluation speed (arow_check with the ecosystem's comparator, no SQLite) and the
 * end-to-end vulndb_match speed over every package of an ecosystem, with installed versions
 * taken from the data itself (each row's fixed versions: near the boundaries, so comparisons
 * are not decided by the first character). */
static int db_bench(int argc, char **argv)
{
    const char *db = NULL, *eco = "Debian:12";
    double min_s = 2.0;
    for (int i = 1; i < argc; i++) {
        if (is_opt(argv[i], "--db")) {
            if (!(db = opt_value(argc, argv, &i)))
                return 2;
        } else if (is_opt(argv[i], "--ecosystem")) {
            if (!(eco = opt_value(argc, argv, &i)))
                return 2;
        } else if (is_opt(argv[i], "--seconds")) {
            const char *v = opt_value(argc, argv, &i);
            unsigned long long n;
            if (!v || !str_to_u64(str_from(v), &n) || n == 0 || n > 600)
                return 2;
            min_s = (double)n;
        } else {
            fprintf(stderr, "vigil db bench: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    char *def = db ? NULL : vulndb_default_path();
    const char *path = db ? db : def;
    sqlite3 *sdb;
    struct diag d = { 0 };
    int rc = vdb_open(path, false, &sdb, &d);
    if (rc < 0) {
        fprintf(stderr, "vigil db bench: %s\n", d.msg);
        free(def);
        return 1;
    }
    sqlite3_stmt *st;
    sqlite3_prepare_v2(sdb,
                       "SELECT p.name, p.entries FROM packages p JOIN ecosystems e"
                       " ON e.id = p.eco WHERE (e.name = ?1 OR e.name LIKE ?2)"
                       " AND p.entries IS NOT NULL ORDER BY p.name",
                       -1, &st, NULL);
    char like[256];
    snprintf(like, sizeof(like), "%s::%%", eco);
    sqlite3_bind_text(st, 1, eco, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, like, -1, SQLITE_STATIC);
    VEC(struct bench_pkg) pkgs = VEC_INIT;
    VEC(struct bench_row) rows = VEC_INIT;
    enum eco_family fam = eco_family_of(eco);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (!pkgs.n || strcmp(pkgs.v[pkgs.n - 1].name, name) != 0) {
            struct bench_pkg bp = { .name = xstrdup(name), .first_row = rows.n };
            VEC_PUSH(&pkgs, bp);
        }
        struct bench_pkg *bp = &pkgs.v[pkgs.n - 1];
        struct entry_iter it = { sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                                 0 };
        int64_t adv;
        const void *rowp;
        size_t n;
        while (entry_next(&it, &adv, &rowp, &n) > 0) {
            struct bench_row r = { xmalloc(n), n };
            memcpy(r.data, rowp, n);
            VEC_PUSH(&rows, r);
            bp->n_rows++;
            /* installed versions: fixed versions seen in this package's rows */
            const char *p = r.data;
            for (size_t i = 1; i < n && bp->n_versions < 4;) {
                char tag = p[i++];
                size_t len = strnlen(p + i, n - i);
                if (tag == 'f' && len)
                    bp->versions[bp->n_versions++] = xstrndup(p + i, len);
                i += len + 1;
            }
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(sdb);
    size_t n_checks_per_pass = 0;
    for (size_t i = 0; i < pkgs.n; i++)
        n_checks_per_pass += pkgs.v[i].n_rows * pkgs.v[i].n_versions;
    if (n_checks_per_pass == 0) {
        fprintf(stderr, "vigil db bench: no rows with fixed versions for '%s'\n", eco);
        free(def);
        return 1;
    }

    /* raw checks */
    unsigned long long checks = 0, affected = 0;
    double t0 = now_s(), t1;
    do {
        for (size_t i = 0; i < pkgs.n; i++) {
            const struct bench_pkg *bp = &pkgs.v[i];
            for (size_t v = 0; v < bp->n_versions; v++) {
                struct str ver = str_from(bp->versions[v]);
                for (size_t r = 0; r < bp->n_rows; r++) {
                    struct arow_result res;
                    const struct bench_row *row = &rows.v[bp->first_row + r];
                    if (arow_check(row->data, row->len, fam, ver, &res) == 0 && res.affected)
                        affected++;
                    checks++;
                }
            }
        }
        t1 = now_s();
    } while (t1 - t0 < min_s);
    double raw_rate = (double)checks / (t1 - t0);

    /* end to end through vulndb_match */
    struct vulndb *vdb;
    rc = vulndb_open(path, &vdb, &d);
    free(def);
    if (rc < 0) {
        fprintf(stderr, "vigil db bench: %s\n", d.msg);
        return 1;
    }
    VEC(struct pkg) list = VEC_INIT;
    for (size_t i = 0; i < pkgs.n; i++)
        for (size_t v = 0; v < pkgs.v[i].n_versions; v++) {
            struct pkg p = { .type = PKG_DEB,
                             .name = pkgs.v[i].name,
                             .version = pkgs.v[i].versions[v],
                             .src_name = pkgs.v[i].name,
                             .src_version = pkgs.v[i].versions[v],
                             .layer = -1 };
            p.arch = p.upstream = p.release = p.license = p.maintainer = p.db_path = "";
            VEC_PUSH(&list, p);
        }
    struct match_opts mo = { .include_unimportant = true };
    unsigned long long findings = 0, passes = 0;
    double e0 = now_s(), e1;
    do {
        struct arena a;
        arena_init(&a);
        struct finding_list fl = { VEC_INIT };
        rc = vulndb_match(vdb, eco, list.v, list.n, &mo, &a, &fl, &d);
        findings += fl.items.n;
        VEC_FREE(&fl.items);
        arena_release(&a);
        passes++;
        e1 = now_s();
        if (rc < 0) {
            fprintf(stderr, "vigil db bench: %s\n", d.msg);
            break;
        }
    } while (e1 - e0 < min_s);
    struct vulndb_stats vs;
    vulndb_get_stats(vdb, &vs);
    vulndb_close(vdb);
    printf("{\"ecosystem\": \"%s\", \"packages\": %zu, \"rows\": %zu, \"versions\": %zu,\n"
           " \"raw_checks\": %llu, \"raw_seconds\": %.2f, \"raw_checks_per_second\": %.0f,"
           " \"raw_affected\": %llu,\n"
           " \"match_passes\": %llu, \"match_packages_per_second\": %.0f,"
           " \"match_rows_per_second\": %.0f, \"match_findings_per_pass\": %llu}\n",
           eco, pkgs.n, rows.n, list.n, checks, t1 - t0, raw_rate, affected, passes,
           (double)vs.packages / (e1 - e0), (double)vs.rows / (e1 - e0),
           passes ? findings / passes : 0);
    for (size_t i = 0; i < pkgs.n; i++) {
        free(pkgs.v[i].name);
        for (size_t v = 0; v < pkgs.v[i].n_versions; v++)
            free(pkgs.v[i].versions[v]);
    }
    for (size_t i = 0; i < rows.n; i++)
        free(rows.v[i].data);
    VEC_FREE(&pkgs);
    VEC_FREE(&rows);
    VEC_FREE(&list);
    return rc < 0 ? 1 : 0;
}

int cmd_db(int argc, char **argv)
{
    if (argc < 2 || is_opt(argv[1], "--help") || is_opt(argv[1], "-h") || is_opt(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "import") == 0)
        return db_import(argc - 1, argv + 1);
    if (strcmp(sub, "status") == 0)
        return db_status(argc - 1, argv + 1);
    if (strcmp(sub, "match") == 0)
        return db_match(argc - 1, argv + 1);
    if (strcmp(sub, "bench") == 0)
        return db_bench(argc - 1, argv + 1);
    fprintf(stderr, "vigil db: unknown subcommand '%s' (see 'vigil db --help')\n", sub);
    return 2;
}
