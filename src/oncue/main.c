/*
 * main.c - the `oncue` binary: dispatches to the subcommand named by argv[1].
 */
#include "core/buf.h"
#include "core/suggest.h"
#include "oncue/commands.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: oncue COMMAND [OPTIONS]\n\n"
               "oncue is a reliability control plane for video-streaming platforms.\n\n"
               "commands:\n");
    for (const struct oc_command *c = oc_commands; c->name; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f, "\nRun `oncue COMMAND --help` for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return oc_version_main(argc - 1, argv + 1);
    for (const struct oc_command *c = oc_commands; c->name; c++)
        if (strcmp(argv[1], c->name) == 0)
            return c->fn(argc - 1, argv + 1);
    char hint[160];
    fprintf(stderr, "oncue: unknown command '%s'%s\n\n", argv[1],
            oc_suggest_names(argv[1], oc_commands, sizeof oc_commands[0], hint, sizeof hint));
    usage(stderr);
    return 2;
}
