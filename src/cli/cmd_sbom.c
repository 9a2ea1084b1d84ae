/* SPDX-License-Identifier: Apache-2.0 */
/* vigil sbom (placeholder until the module behind it lands). */
#include <stdio.h>

#include "cli/cli.h"

int cmd_sbom(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vigil sbom: not implemented yet\n");
    return 1;
}
