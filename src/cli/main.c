/* SPDX-License-Identifier: Apache-2.0 */
/* vigil command-line entry point: dispatches to the subcommands in cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    { "serve", cmd_serve, "run the registry server" },
    { "passwd", cmd_passwd, "hash a password for the registry users file" },
    { "gc", cmd_gc, "remove unreferenced blobs and expired uploads" },
    { "events", cmd_events, "test event patterns, benchmark the matcher" },
    { "deliver", cmd_deliver, "send a test notification (mail, webhook, SNS message)" },
    { "scan", cmd_scan, "scan an image for known vulnerabilities" },
    { "sbom", cmd_sbom, "list the packages installed in an image" },
    { "inventory", cmd_sbom, "same as sbom" },
    { "db", cmd_db, "import and inspect the vulnerability database" },
    { "image", cmd_image, "inspect an image reference (manifest, config, layers)" },
    { "layer", cmd_layer, "list what a layer blob contains" },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: vigil <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'vigil <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("vigil 0.1.0\n");
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "vigil: '%s' is not a vigil command (see 'vigil --help')\n", argv[1]);
    return 2;
}
