/* SPDX-License-Identifier: Apache-2.0 */
/* vigil command-line entry point. */
#include <stdio.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "vigil: not yet\n");
    return 1;
}
