/*
 * commands.h - the subcommand table of the `oncue` binary.
 */
#ifndef OC_ONCUE_COMMANDS_H
#define OC_ONCUE_COMMANDS_H

#include "core/module.h"
#include "core/opt.h"

struct oc_buf;

struct oc_command {
    const char *name;                 /* `oncue NAME` */
    int (*fn)(int argc, char **argv); /* argv[0] is NAME; returns the exit status */
    const char *summary;              /* one line for `oncue --help` */
    const struct oc_cli *cli;         /* NULL, or its option tables (core/opt.h) ending in {0} */
};

/* The subcommands, ending in {0}. */
extern const struct oc_command oc_commands[];
/* The modules `oncue serve` can run, ending in NULL. */
extern const struct oc_module *const oc_modules[];

/* `oncue serve`, `oncue token`, `oncue version`, `oncue docs`. */
int oc_serve_main(int argc, char **argv);
int oc_token_main(int argc, char **argv);
int oc_key_main(int argc, char **argv);
int oc_version_main(int argc, char **argv);
int oc_docs_main(int argc, char **argv);
int oc_bench_main(int argc, char **argv);
/* Writes the options of each `oncue bench NAME` as Markdown sections of docs/cli.md into b. */
void oc_bench_doc(struct oc_buf *b);
/* The synopsis of `oncue docs`, ending in {0}. */
extern const struct oc_cli oc_docs_cli[];
/* The options of `oncue token create|list|revoke`, ending in {0}. */
extern const struct oc_cli oc_token_cli[];
/* The options of `oncue key create|list|revoke`, ending in {0}. */
extern const struct oc_cli oc_key_cli[];
/* Writes the subcommand list, then the options of each subcommand that has a table, as
 * Markdown (docs/cli.md) into b. */
void oc_commands_doc(struct oc_buf *b);
/* Writes the manual page oncue(1) in roff (man -l): the commands, the server's flags and
 * every option table. */
void oc_commands_man(struct oc_buf *b);
/* Writes a completion script for shell ("bash" or "zsh"): subcommands, then their flags. */
void oc_commands_completion(struct oc_buf *b, const char *shell);

struct drill_host;
/* The drill's bindings (src/oncue/drill_host.c): the module table and steering. */
extern const struct drill_host oncue_drill_host;
/* `oncue drill ...` with those bindings. */
int oc_drill_main(int argc, char **argv);
/* `oncue runbook ...` with those bindings (check reads mitigations with them). */
int oc_runbook_main(int argc, char **argv);

#endif
