/* SPDX-License-Identifier: Apache-2.0 */
/* Subcommands of the vigil binary. Each returns the process exit status (0 ok, 1 failure or
 * findings gate, 2 usage error) and prints its own errors as one line on stderr. */
#ifndef VIGIL_CLI_CLI_H
#define VIGIL_CLI_CLI_H

int cmd_scan(int argc, char **argv);  /* vigil scan IMAGE */
int cmd_sbom(int argc, char **argv);  /* vigil sbom IMAGE (alias: inventory) */
int cmd_db(int argc, char **argv);    /* vigil db import|status */
int cmd_image(int argc, char **argv); /* vigil image inspect|fetch IMAGE (debugging sources) */
int cmd_layer(int argc, char **argv); /* vigil layer ls BLOB (debugging the tar walk) */

#endif
