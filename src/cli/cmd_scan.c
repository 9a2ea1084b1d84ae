/* SPDX-License-Identifier: Apache-2.0 */
/* vigil scan (placeholder until the module behind it lands). */
#include <stdio.h>

#include "cli/cli.h"

int cmd_scan(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vigil scan: not implemented yet\n");
    return 1;
}
