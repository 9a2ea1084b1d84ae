/* SPDX-License-Identifier: Apache-2.0 */
/* vigil image (placeholder until the module behind it lands). */
#include <stdio.h>

#include "cli/cli.h"

int cmd_image(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vigil image: not implemented yet\n");
    return 1;
}
