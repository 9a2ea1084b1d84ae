/* SPDX-License-Identifier: Apache-2.0 */
/* vigil sbom IMAGE: list what is installed in an image (table, JSON or CycloneDX). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "scan/report.h"

static void sbom_usage(FILE *f)
{
    fprintf(f,
            "usage: vigil sbom [options] IMAGE\n"
            "\n"
            "List the OS and the packages installed in IMAGE, with the layer that brought\n"
            "each one in.\n"
            "\n"
            "options:\n"
            "  -f, --format FORMAT   table (default on a terminal), json, cyclonedx\n"
            "  --scanners LIST       os (OS packages only) or os,lang (the default: also\n"
            "                        language packages)\n"
            "  -q, --quiet           do not print warnings\n"
            "  -v, --verbose         log progress to stderr\n"
            "\n%s",
            image_cli_help);
}

int cmd_sbom(int argc, char **argv)
{
    struct image_cli c;
    const char *ref = NULL;
    int status = 2;
    bool quiet = false;
    image_cli_init(&c);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = image_cli_option(&c, "sbom", argc, argv, &i);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            sbom_usage(stdout);
            status = 0;
            goto out;
        } else if (strcmp(a, "--scanners") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "vigil sbom: option '--scanners' needs a value\n");
                goto out;
            }
            const char *v = argv[++i];
            if (strcmp(v, "os") == 0) {
                c.inv.no_lang = true;
            } else if (strcmp(v, "os,lang") == 0 || strcmp(v, "lang,os") == 0) {
                c.inv.no_lang = false;
            } else {
                fprintf(stderr, "vigil sbom: --scanners '%s': want os or os,lang (the default)\n",
                        v);
                goto out;
            }
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            log_set_level(LOG_INFO);
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "vigil sbom: unknown option '%s' (see 'vigil sbom --help')\n", a);
            goto out;
        } else if (ref) {
            fprintf(stderr, "vigil sbom: only one IMAGE may be given ('%s' and '%s')\n", ref, a);
            goto out;
        } else {
            ref = a;
        }
    }
    if (!ref) {
        sbom_usage(stderr);
        goto out;
    }
    image_cli_finish(&c);
    int fmt = c.format ? report_format_parse(c.format) : REPORT_TABLE;
    if (fmt != REPORT_TABLE && fmt != REPORT_JSON && fmt != REPORT_CYCLONEDX) {
        fprintf(stderr, "vigil sbom: unknown format '%s' (table, json, cyclonedx)\n", c.format);
        goto out;
    }
    if (quiet)
        log_set_level(LOG_ERROR);
    struct inventory inv;
    struct diag d = { 0 };
    inventory_init(&inv);
    int rc = inventory_build(ref, &c.inv, &inv, &d);
    if (rc) {
        fprintf(stderr, "vigil sbom: %s\n", d.msg[0] ? d.msg : err_str(rc));
        status = 1;
    } else {
        FILE *out = open_output("sbom", c.output);
        status = 1;
        if (out) {
            struct report_opts ro = { .color = false, .width = stdout_width() };
            rc = report_write_inventory(out, (enum report_format)fmt, &inv, &ro);
            if (out != stdout && fclose(out) != 0)
                rc = -1;
            else if (out == stdout && fflush(stdout) != 0)
                rc = -1;
            if (rc)
                fprintf(stderr, "vigil sbom: cannot write the report\n");
            else
                status = 0;
        }
    }
    inventory_release(&inv);
out:
    image_cli_release(&c);
    return status;
}
