/*
 * opt.h - command-line options of a subcommand as a table, and the one parser for them.
 *
 * A subcommand declares its options as a static const table of struct oc_opt ending in {0}
 * (flag, whether it takes a value, where the value goes: offsetof into the subcommand's own
 * options struct, or a callback) and one struct oc_cli (name, synopsis, options). oc_cli_parse
 * reads argv into the struct; `oncue X --help` and the section of docs/cli.md are generated
 * from the same table (oc_cli_help, oc_cli_doc). Errors read
 * "oncue X: unknown option --y (see oncue X --help)".
 */
#ifndef OC_CORE_OPT_H
#define OC_CORE_OPT_H

#include <stddef.h>

struct oc_buf;

enum oc_opt_kind {
    OC_OPT_FLAG = 1, /* no value: sets an int to 1 */
    OC_OPT_STR,      /* a value: stored as const char * (borrowed from argv) */
    OC_OPT_LONG,     /* a decimal integer within [min, max]: stored as long */
    OC_OPT_DOUBLE,   /* a number within [min, max]: stored as double */
    OC_OPT_FN,       /* a value handed to fn */
};

struct oc_opt {
    const char *flag;      /* "--data" */
    enum oc_opt_kind kind; /* what it takes and how it is stored */
    size_t offset;         /* offsetof(options struct, field); unused for OC_OPT_FN */
    const char *metavar;   /* placeholder of the value in help ("DIR"); NULL for flags */
    const char *help;      /* one line */
    long min, max;         /* bounds for OC_OPT_LONG and OC_OPT_DOUBLE (both 0: none) */
    /* For OC_OPT_FN: applies value to opts; 0, or -1 with a message (without the flag) in
     * why. */
    int (*fn)(void *opts, const char *value, char *why, size_t whylen);
};

struct oc_cli {
    const char *name;          /* after "oncue ": "alerts", "token create" */
    const char *usage;         /* synopsis after "usage: oncue NAME " (may hold "\n       ") */
    const char *about;         /* what it does: a paragraph, lines ending in \n, or NULL */
    const struct oc_opt *opts; /* table ending in {0} */
    int max_args;              /* positional arguments allowed (0: none; -1: any number) */
};

/* Parses argv[0..argc) (the arguments after the subcommand's name) into opts (the options
 * struct, already filled with defaults): "--flag VALUE", "--flag=VALUE" and flags; other
 * words (a single dash is not an option: "-5" is a word) and every word after "--" are
 * positional, stored in args (borrowed from argv; room for c->max_args, or argc when it is
 * -1) and counted in *nargs. Returns 0; 1 after printing help to stdout (--help or -h); or -1 after
 * printing one line to stderr ("oncue X: unknown option --y (see oncue X --help)"). */
int oc_cli_parse(const struct oc_cli *c, int argc, char **argv, void *opts,
                 const char **args /* OUT */, int *nargs /* OUT */);
/* oc_cli_parse without printing, for commands parsed inside the program (the drill's
 * runbook commands): --help returns 1 and prints nothing; an error returns -1 with the line
 * oc_cli_parse would print (no newline) in err. */
int oc_cli_parse_quiet(const struct oc_cli *c, int argc, char **argv, void *opts,
                       const char **args /* OUT */, int *nargs /* OUT */, char *err, size_t errlen);
/* Writes `oncue NAME --help`: usage, about, and one line per option, into b. */
void oc_cli_help(const struct oc_cli *c, struct oc_buf *b);
/* Writes c as a Markdown section of docs/cli.md into b. */
void oc_cli_doc(const struct oc_cli *c, struct oc_buf *b);

#endif
