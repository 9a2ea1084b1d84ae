/* SPDX-License-Identifier: Apache-2.0 */
/* vigil layer (placeholder until the module behind it lands). */
#include <stdio.h>

#include "cli/cli.h"

int cmd_layer(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vigil layer: not implemented yet\n");
    return 1;
}
