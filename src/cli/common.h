/* SPDX-License-Identifier: Apache-2.0 */
/* Options shared by the commands that read images (scan, sbom): platform, credentials, TLS,
 * layer cache, output file. */
#ifndef VIGIL_CLI_COMMON_H
#define VIGIL_CLI_COMMON_H

#include <stdbool.h>
#include <stdio.h>

#include "scan/inventory.h"

struct image_cli {
    struct inventory_opts inv;
    char *cache_dir_owned;
    char *creds_owned;
    const char *output; /* -o FILE; NULL = stdout */
    const char *format; /* --format value; NULL = default */
    bool no_cache;
};

void image_cli_init(struct image_cli *c);
void image_cli_release(struct image_cli *c);
/* Try to consume argv[*i] (and its value) as a shared option. 1 = consumed, 0 = not one of
 * ours, -1 = bad usage (message printed). */
int image_cli_option(struct image_cli *c, const char *cmd, int argc, char **argv, int *i);
/* Finish: apply defaults (cache directory). */
void image_cli_finish(struct image_cli *c);
/* Help text for the shared options. */
extern const char image_cli_help[];
/* Default cache directory: $VIGIL_CACHE_DIR, else $XDG_CACHE_HOME/vigil, else ~/.cache/vigil.
 * Owned by the caller. */
char *default_cache_dir(void);
/* Open the output (stdout when path is NULL or "-"). */
FILE *open_output(const char *cmd, const char *path);
/* Terminal width of stdout, 0 when not a terminal. */
int stdout_width(void);

#endif
