/* SPDX-License-Identifier: Apache-2.0 */
/* Subcommands of the vigil binary. Each returns the process exit status (0 ok, 1 failure or
 * findings gate, 2 usage error) and prints its own errors as one line on stderr. */
#ifndef VIGIL_CLI_CLI_H
#define VIGIL_CLI_CLI_H

#include "base/err.h"

int cmd_scan(int argc, char **argv);       /* vigil scan IMAGE */
int cmd_sbom(int argc, char **argv);       /* vigil sbom IMAGE (alias: inventory) */
int cmd_db(int argc, char **argv);         /* vigil db import|status */
int cmd_image(int argc, char **argv);      /* vigil image inspect|fetch IMAGE (debugging sources) */
int cmd_layer(int argc, char **argv);      /* vigil layer ls BLOB (debugging the tar walk) */
int cmd_serve(int argc, char **argv);      /* vigil serve: registry and APIs */
int cmd_passwd(int argc, char **argv);     /* vigil passwd: hash a password for the users file */
int cmd_gc(int argc, char **argv);         /* vigil gc: unreferenced blobs, expired uploads */
int cmd_events(int argc, char **argv);     /* vigil events test-pattern|bench */
int cmd_events_dlq(int argc, char **argv); /* vigil events dlq list|redrive */
#define VIGIL_CLI_HAS_CMD_DELIVER
int cmd_deliver(int argc, char **argv); /* vigil deliver mail|webhook|sns (delivery checks) */

/* Data directory of the server when none is configured: $VIGIL_DATA_DIR, else
 * $XDG_DATA_HOME/vigil, else ~/.local/share/vigil. Owned by the caller. */
char *cli_default_data_dir(void);
/* Build the vulnerability database at db_path from the bundled data ($VIGIL_BUNDLED_DATA, or
 * ../shared/vulndb beside a source checkout). `who` prefixes the progress lines on stderr.
 * 0 or <0 with d set. */
int cli_import_bundled(const char *db_path, const char *who, struct diag *d);

#endif
