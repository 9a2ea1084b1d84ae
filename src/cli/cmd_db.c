/* SPDX-License-Identifier: Apache-2.0 */
/* vigil db (placeholder until the module behind it lands). */
#include <stdio.h>

#include "cli/cli.h"

int cmd_db(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vigil db: not implemented yet\n");
    return 1;
}
