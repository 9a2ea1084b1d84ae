/* SPDX-License-Identifier: Apache-2.0 */
/* vigil scan IMAGE: inventory an image, match it against the vulnerability database, filter
 * (severity, unfixed, ignore file) and report; optionally fail the build (--exit-code). */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "scan/ignore.h"
#include "scan/lang_scan.h"
#include "scan/report.h"
#include "vulndb/db.h"
#include "vulndb/import.h"
#include "vulndb/match.h"

static void scan_usage(FILE *f)
{
    fprintf(
        f,
        "usage: vigil scan [options] IMAGE\n"
        "\n"
        "Report the known vulnerabilities of the OS and language packages installed in IMAGE.\n"
        "\n"
        "options:\n"
        "  -f, --format FORMAT      table (default), json (ECR DescribeImageScanFindings),\n"
        "                           enhanced-json (ECR enhancedFindings), sarif, cyclonedx\n"
        "  --db PATH                vulnerability database (default $VIGIL_DATA_DIR/vulndb.sqlite,\n"
        "                           else the cache directory's vulndb.sqlite); when it does\n"
        "                           not exist it is built from the bundled data first\n"
        "  --severity LIST          report only these severities (comma-separated:\n"
        "                           UNDEFINED,INFORMATIONAL,LOW,MEDIUM,HIGH,CRITICAL)\n"
        "  --exit-code N            exit with status N when any finding is reported\n"
        "                           (after --severity, --ignore-unfixed and ignores)\n"
        "  --ignore-unfixed         leave out vulnerabilities with no fixed version yet\n"
        "  --ignorefile FILE        ids to ignore (default .vigilignore when present):\n"
        "                           'ID [exp:YYYY-MM-DD] [package=NAME] [# reason]'\n"
        "  --include-unimportant    keep Debian issues rated 'unimportant' (INFORMATIONAL)\n"
        "  --scanners LIST          os (OS packages: basic scanning), lang (language packages)\n"
        "                           or os,lang (the default: enhanced scanning)\n"
        "  --repository NAME        repository name in the ECR-shaped reports\n"
        "  --tag TAG                image tag in the ECR-shaped reports\n"
        "  --account-id ID          account id for ARNs (default 000000000000)\n"
        "  --region REGION          region for ARNs (default us-east-1)\n"
        "  -q, --quiet              do not print warnings\n"
        "  -v, --verbose            log progress to stderr\n"
        "\n"
        "exit status: 0 done (or findings without --exit-code), N findings with\n"
        "--exit-code N, 1 error, 2 usage error\n"
        "\n%s",
        image_cli_help);
}

/* The vulnerability data shipped beside vigil: $VIGIL_BUNDLED_DATA, else the shared data next
 * to a source checkout (build/<variant>/vigil -> ../shared/vulndb), else an installed
 * PREFIX/share/vigil/vulndb. Owned by the caller; NULL when none exists. */
static char *bundled_data_dir(void)
{
    const char *e = getenv("VIGIL_BUNDLED_DATA");
    if (e && *e)
        return xstrdup(e);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    static const char *const rel[] = { "../../../shared/vulndb", "../share/vigil/vulndb" };
    for (size_t i = 0; i < ARRAY_SIZE(rel); i++) {
        char *p = xasprintf("%s/%s", exe, rel[i]);
        char *real = realpath(p, NULL);
        free(p);
        if (real)
            return real;
    }
    return NULL;
}

int cli_import_bundled(const char *db_path, const char *who, struct diag *d)
{
    char *dir = bundled_data_dir();
    if (!dir)
        return diag_set(d, -ERR_NOT_FOUND, 0,
                        "no vulnerability database at '%s' and no bundled data found; run "
                        "'vigil db import --db %s PATH' or set VIGIL_BUNDLED_DATA",
                        db_path, db_path);
    fprintf(stderr, "%s: building the vulnerability database '%s' from '%s' (once)...\n", who,
            db_path, dir);
    char *slash = strrchr(db_path, '/');
    if (slash && slash != db_path) {
        char *parent = xstrndup(db_path, (size_t)(slash - db_path));
        fs_mkdir_p(parent, 0755); /* a failure shows up as the import's own error */
        free(parent);
    }
    struct import_opts io = { 0 };
    struct import_stats st;
    memset(&st, 0, sizeof(st));
    char *paths[1] = { dir };
    /* per-record warnings belong to 'vigil db import'; here only their count is shown */
    enum log_level saved = log_threshold;
    log_set_level(LOG_ERROR);
    int rc = vulndb_import(db_path, paths, 1, &io, &st, d);
    log_set_level(saved);
    if (!rc)
        fprintf(stderr,
                "%s: imported %llu advisories in %.1f s (%llu warnings; 'vigil db import' "
                "shows them)\n",
                who, st.added, st.seconds, st.warnings);
    free(dir);
    return rc;
}

/* When the vulnerability data was last updated: the newest record's modification time. */
static time_t source_updated_at(const char *db_path)
{
    /* recorded by every import; databases from before that are asked the slow way */
    static const char *const queries[] = {
        "SELECT value FROM meta WHERE key = 'newest_modified'",
        "SELECT MAX(modified) FROM advisories WHERE kind = 1",
    };
    sqlite3 *db = NULL;
    struct diag d = { 0 };
    time_t t = 0;
    if (vdb_open(db_path, false, &db, &d) != 0)
        return 0;
    for (size_t q = 0; q < ARRAY_SIZE(queries) && !t; q++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, queries[q], -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
            const char *s = (const char *)sqlite3_column_text(st, 0);
            struct tm tm = { 0 };
            if (strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
                t = timegm(&tm);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return t;
}

static int parse_severities(const char *list, bool keep[SEV_COUNT])
{
    char *copy = xstrdup(list);
    int rc = 0;
    memset(keep, 0, sizeof(bool) * SEV_COUNT);
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int s = severity_parse(tok);
        if (s < 0) {
            fprintf(stderr,
                    "vigil scan: unknown severity '%s' (UNDEFINED, INFORMATIONAL, LOW, "
                    "MEDIUM, HIGH, CRITICAL)\n",
                    tok);
            rc = -1;
            break;
        }
        keep[s] = true;
    }
    free(copy);
    return rc;
}

static bool file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static int cmp_lang_pkg(const void *pa, const void *pb)
{
    const struct pkg *a = pa, *b = pb;
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    int c = strcmp(a->name, b->name);
    if (c)
        return c;
    c = strcmp(a->version, b->version);
    return c ? c : strcmp(a->db_path, b->db_path);
}

/* Match the language packages (inventory entries from n_os on): one lookup per distinct
 * (type, name, version) - the same package recorded by a lockfile and by its installed
 * manifest, or installed twice, is one finding - against the ecosystem of its type. uniq
 * receives the packages the findings point into. */
static int match_lang(struct vulndb *vdb, const struct inventory *inv, size_t n_os,
                      const struct match_opts *mo, struct arena *a, struct pkg_list *uniq,
                      struct finding_list *out, struct diag *d)
{
    const struct pkg *all = inv->pkgs.items.v;
    size_t n = inv->pkgs.items.n;
    for (size_t i = n_os; i < n; i++)
        VEC_PUSH(&uniq->items, all[i]);
    if (uniq->items.n == 0)
        return 0;
    /* sorted by type, name, version, then path: of equals, the lowest path is kept */
    qsort(uniq->items.v, uniq->items.n, sizeof(struct pkg), cmp_lang_pkg);
    size_t w = 0;
    for (size_t i = 0; i < uniq->items.n; i++) {
        const struct pkg *p = &uniq->items.v[i];
        if (w && p->type == uniq->items.v[w - 1].type &&
            strcmp(p->name, uniq->items.v[w - 1].name) == 0 &&
            strcmp(p->version, uniq->items.v[w - 1].version) == 0)
            continue;
        uniq->items.v[w++] = *p;
    }
    uniq->items.n = w;
    for (size_t i = 0; i < w;) {
        size_t j = i;
        while (j < w && uniq->items.v[j].type == uniq->items.v[i].type)
            j++;
        const char *eco = lang_ecosystem(uniq->items.v[i].type);
        if (eco) {
            int rc = vulndb_match(vdb, eco, uniq->items.v + i, j - i, mo, a, out, d);
            if (rc)
                return rc;
        }
        i = j;
    }
    return 0;
}

int cmd_scan(int argc, char **argv)
{
    struct image_cli c;
    const char *ref = NULL, *db_path_arg = NULL, *ignorefile = NULL, *severity = NULL;
    const char *repository = "", *tag = "", *account = "000000000000", *region = "us-east-1";
    bool ignore_unfixed = false, include_unimportant = false, quiet = false, lang_only = false;
    long exit_code = 0;
    int status = 2;
    char *db_path = NULL;
    bool keep[SEV_COUNT];
    struct ignore_list ignores = { VEC_INIT };
    struct vulndb *vdb = NULL;
    struct inventory inv;
    struct arena fa;
    struct finding_list all = { VEC_INIT }, shown = { VEC_INIT };
    struct pkg_list lang_pkgs = { VEC_INIT }; /* one per language (type, name, version) */

    inventory_init(&inv);
    arena_init(&fa);
    image_cli_init(&c);
    for (int i = 0; i < SEV_COUNT; i++)
        keep[i] = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = image_cli_option(&c, "scan", argc, argv, &i);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
#define NEED_VALUE()                                                       \
    do {                                                                   \
        if (i + 1 >= argc) {                                               \
            fprintf(stderr, "vigil scan: option '%s' needs a value\n", a); \
            goto out;                                                      \
        }                                                                  \
    } while (0)
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            scan_usage(stdout);
            status = 0;
            goto out;
        } else if (strcmp(a, "--db") == 0) {
            NEED_VALUE();
            db_path_arg = argv[++i];
        } else if (strcmp(a, "--severity") == 0 || strcmp(a, "-s") == 0) {
            NEED_VALUE();
            severity = argv[++i];
        } else if (strcmp(a, "--exit-code") == 0) {
            NEED_VALUE();
            char *end;
            errno = 0;
            exit_code = strtol(argv[++i], &end, 10);
            if (errno || *end || exit_code < 0 || exit_code > 255) {
                fprintf(stderr, "vigil scan: --exit-code wants 0..255, not '%s'\n", argv[i]);
                goto out;
            }
        } else if (strcmp(a, "--ignore-unfixed") == 0) {
            ignore_unfixed = true;
        } else if (strcmp(a, "--include-unimportant") == 0) {
            include_unimportant = true;
        } else if (strcmp(a, "--ignorefile") == 0) {
            NEED_VALUE();
            ignorefile = argv[++i];
        } else if (strcmp(a, "--scanners") == 0) {
            NEED_VALUE();
            const char *v = argv[++i];
            if (strcmp(v, "os") == 0) {
                c.inv.no_lang = true;
            } else if (strcmp(v, "os,lang") == 0 || strcmp(v, "lang,os") == 0) {
                c.inv.no_lang = false;
            } else if (strcmp(v, "lang") == 0) {
                c.inv.no_lang = false;
                lang_only = true;
            } else {
                fprintf(stderr,
                        "vigil scan: --scanners '%s': want os, lang or os,lang (the default)\n", v);
                goto out;
            }
        } else if (strcmp(a, "--repository") == 0) {
            NEED_VALUE();
            repository = argv[++i];
        } else if (strcmp(a, "--tag") == 0) {
            NEED_VALUE();
            tag = argv[++i];
        } else if (strcmp(a, "--account-id") == 0) {
            NEED_VALUE();
            account = argv[++i];
        } else if (strcmp(a, "--region") == 0) {
            NEED_VALUE();
            region = argv[++i];
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            log_set_level(LOG_INFO);
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "vigil scan: unknown option '%s' (see 'vigil scan --help')\n", a);
            goto out;
        } else if (ref) {
            fprintf(stderr, "vigil scan: only one IMAGE may be given ('%s' and '%s')\n", ref, a);
            goto out;
        } else {
            ref = a;
        }
#undef NEED_VALUE
    }
    if (!ref) {
        scan_usage(stderr);
        goto out;
    }
    image_cli_finish(&c);
    int fmt = c.format ? report_format_parse(c.format) : REPORT_TABLE;
    if (fmt < 0) {
        fprintf(stderr,
                "vigil scan: unknown format '%s' (table, json, enhanced-json, sarif, "
                "cyclonedx)\n",
                c.format);
        goto out;
    }
    if (severity && parse_severities(severity, keep) != 0)
        goto out;
    if (quiet)
        log_set_level(LOG_ERROR);
    struct diag d = { 0 };
    if (!ignorefile && file_exists(".vigilignore"))
        ignorefile = ".vigilignore";
    if (ignorefile && ignore_load(ignorefile, &ignores, &d) != 0) {
        fprintf(stderr, "vigil scan: %s\n", d.msg);
        goto out;
    }
    status = 1;
    db_path = db_path_arg ? xstrdup(db_path_arg) : vulndb_default_path();
    if (!file_exists(db_path)) {
        int rc = cli_import_bundled(db_path, "vigil scan", &d);
        if (rc) {
            fprintf(stderr, "vigil scan: %s\n", d.msg[0] ? d.msg : err_str(rc));
            goto out;
        }
    }
    int rc = vulndb_open(db_path, &vdb, &d);
    if (rc) {
        fprintf(stderr, "vigil scan: %s\n", d.msg[0] ? d.msg : err_str(rc));
        goto out;
    }
    rc = inventory_build(ref, &c.inv, &inv, &d);
    if (rc) {
        fprintf(stderr, "vigil scan: %s\n", d.msg[0] ? d.msg : err_str(rc));
        goto out;
    }
    struct match_opts mo = { .ignore_unfixed = ignore_unfixed,
                             .min_severity = SEV_UNDEFINED,
                             .include_unimportant = include_unimportant };
    /* OS packages come first in the inventory, then language packages */
    size_t n_os = 0;
    while (n_os < inv.pkgs.items.n && !pkg_type_is_lang(inv.pkgs.items.v[n_os].type))
        n_os++;
    /* Debian testing/sid has no VERSION_ID: the codename names the release then */
    const char *eco = vulndb_ecosystem_for_os(
        inv.os.id, inv.os.version_id[0] ? inv.os.version_id : inv.os.codename, &inv.arena);
    if (lang_only) {
        /* language packages only */
    } else if (!eco) {
        if (n_os)
            log_warn("scan",
                     "image '%s': no vulnerability data for OS '%s %s'; %zu packages "
                     "not checked",
                     ref, inv.os.id[0] ? inv.os.id : "unknown", inv.os.version_id, n_os);
    } else {
        rc = vulndb_match(vdb, eco, inv.pkgs.items.v, n_os, &mo, &fa, &all, &d);
        if (rc) {
            fprintf(stderr, "vigil scan: image '%s': %s\n", ref, d.msg[0] ? d.msg : err_str(rc));
            goto out;
        }
    }
    rc = match_lang(vdb, &inv, n_os, &mo, &fa, &lang_pkgs, &all, &d);
    if (rc) {
        fprintf(stderr, "vigil scan: image '%s': %s\n", ref, d.msg[0] ? d.msg : err_str(rc));
        goto out;
    }
    time_t now = time(NULL);
    size_t ignored = 0;
    for (size_t i = 0; i < all.items.n; i++) {
        const struct finding *f = &all.items.v[i];
        if (!keep[f->severity])
            continue;
        if (ignore_unfixed && !f->fixed_version[0])
            continue;
        if (ignore_match(&ignores, f, now)) {
            ignored++;
            continue;
        }
        VEC_PUSH(&shown.items, *f);
    }
    if (ignored)
        log_info("scan", "%zu findings silenced by %s", ignored, ignorefile);
    struct scan_result res = {
        .inv = &inv,
        .findings = &shown,
        .completed_at = now,
        .vuln_source_updated_at = source_updated_at(db_path),
        .account_id = account,
        .region = region,
        .repository = repository,
        .tag = tag,
    };
    FILE *outf = open_output("scan", c.output);
    if (!outf)
        goto out;
    struct report_opts ro = { .color = c.output == NULL && isatty(STDOUT_FILENO),
                              .width = stdout_width() };
    rc = report_write_scan(outf, (enum report_format)fmt, &res, &ro);
    if (outf != stdout ? fclose(outf) != 0 : fflush(stdout) != 0)
        rc = -EIO;
    if (rc) {
        fprintf(stderr, "vigil scan: cannot write the report: %s\n", err_str(rc));
        goto out;
    }
    status = shown.items.n && exit_code ? (int)exit_code : 0;
out:
    VEC_FREE(&all.items);
    VEC_FREE(&shown.items);
    VEC_FREE(&lang_pkgs.items);
    vulndb_close(vdb);
    ignore_list_release(&ignores);
    inventory_release(&inv);
    arena_release(&fa);
    image_cli_release(&c);
    free(db_path);
    return status;
}
