/*
 * commands.c - the subcommand table: `oncue --help` and docs/cli.md are generated from it.
 *
 * To add a subcommand, add one row; its function lives in its capability and is declared in
 * that capability's public header.
 */
#include "oncue/commands.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/opt.h"
#include "rca/rca.h"
#include "catalog/catalog.h"
#include "steer/steer.h"
#include "sim/sim.h"
#include "incident/incident.h"
#include "automation/automation.h"
#include "gate/gate.h"
#include "alert/alert.h"
#include "drill/drill.h"
#include "billing/billing.h"
#include "tickets/tickets.h"
#include "qoe/promql.h"

#include <string.h>

/* Every subcommand; the function lives in its capability (or here in oncue/). */
const struct oc_command oc_commands[] = {
    {"serve", oc_serve_main, "run the server (all modules, or --modules a,b)", NULL},
    {"token", oc_token_main, "create, list and revoke API tokens in a data directory",
     oc_token_cli},
    {"key", oc_key_main,
     "create, list and revoke public ingest keys (for web players) in a data directory",
     oc_key_cli},
    {"docs", oc_docs_main,
     "print generated reference docs (config, api, cli), the man page, completions", oc_docs_cli},
    {"sim", sim_cli_main, "simulate viewers with fault injection against a server", sim_cli},
    {"bench", oc_bench_main, "run a benchmark that prints figures (oncue bench --help)", NULL},
    {"rca", rca_cli_main, "localize an anomaly to the slices that explain it (rca gen, rca eval)",
     rca_cli},
    {"mitigate", steer_mitigate_cli_main,
     "apply, dry-run, list or revert a mitigation (shift-cdn, backup-origin, flag, rollback)",
     steer_mitigate_cli},
    {"steer", steer_cli_main, "show or set the steering policy; fetch a steering manifest",
     steer_cli},
    {"catalog", catalog_cli_main,
     "service catalog: check ownership, show, blast-radius, route a slice, who is on call",
     catalog_cli},
    {"alerts", alert_cli_main, "alert audit (fired, acknowledged, led to incident), list, rules",
     alert_cli},
    {"incident", incident_cli_main,
     "list, show, acknowledge, note, assign roles, post status, resolve and review incidents",
     incident_cli},
    {"drill", oc_drill_main, "run a chaos drill in-process and print its scorecard", drill_cli},
    {"runbook", oc_runbook_main,
     "list, check and show runbooks; run one against an incident, approve or skip its decisions",
     drill_runbook_cli},
    {"report", drill_report_cli_main,
     "reports: automation (runbook steps done without a person, cycle times)", drill_report_cli},
    {"billing", billing_cli_main,
     "billing audit verify (the hash chain), show ACCOUNT, storm (webhook storm vs ground truth),"
     " royalties (export, seal, verify), replay a stored event",
     billing_cli},
    {"subscription", automation_cli_main,
     "event subscriptions: add, list, show, log, replay, rotate, enable, disable, rm",
     automation_cli},
    {"gate", gate_cli_main,
     "ask a release gate: go or no-go with reasons, a canary's QoE against its baseline", gate_cli},
    {"tickets", tickets_cli_main,
     "support tickets over the API: list, show, clusters, route (what-if), routing", tickets_cli},
    {"promql", promql_cli_main,
     "check PromQL-subset expressions of the Prometheus-compatible API (promql check EXPR...)",
     NULL},
    {"version", oc_version_main, "print the version", NULL},
    {0},
};

void oc_commands_doc(struct oc_buf *b)
{
    oc_buf_puts(b, "# oncue command line\n\n"
                   "Generated from the subcommand table (`src/oncue/commands.c`) by "
                   "`oncue docs cli`; do not edit.\n\n"
                   "Each subcommand prints its own options with `--help`; those declared as "
                   "option tables (`struct oc_cli`, `src/core/opt.h`) are listed below too.\n\n"
                   "| command | what it does |\n|---|---|\n");
    for (const struct oc_command *c = oc_commands; c->name; c++)
        oc_buf_printf(b, "| `oncue %s` | %s |\n", c->name, c->summary);
    for (const struct oc_command *c = oc_commands; c->name; c++)
        for (const struct oc_cli *o = c->cli; o && o->name; o++)
            oc_cli_doc(o, b);
    oc_bench_doc(b);
}

/* Appends s as roff text: a backslash as \e, a leading '.' or '\'' guarded, '-' as \- (so
 * flags copy and paste as ASCII). */
static void roff(struct oc_buf *b, const char *s)
{
    if (*s == '.' || *s == '\'')
        oc_buf_puts(b, "\\&");
    for (; *s; s++) {
        if (*s == '\\')
            oc_buf_puts(b, "\\e");
        else if (*s == '-')
            oc_buf_puts(b, "\\-");
        else if (*s == '\n') {
            oc_buf_puts(b, "\n");
            if (s[1] == '.' || s[1] == '\'')
                oc_buf_puts(b, "\\&");
        } else
            oc_buf_append(b, s, 1);
    }
}

/* A .TP entry: the tag in bold, then the text. */
static void roff_tp(struct oc_buf *b, const char *tag, const char *arg, const char *text)
{
    oc_buf_puts(b, ".TP\n\\fB");
    roff(b, tag);
    oc_buf_puts(b, "\\fR");
    if (arg) {
        oc_buf_puts(b, " \\fI");
        roff(b, arg);
        oc_buf_puts(b, "\\fR");
    }
    oc_buf_puts(b, "\n");
    roff(b, text);
    oc_buf_puts(b, "\n");
}

void oc_commands_man(struct oc_buf *b)
{
    oc_buf_printf(b, ".TH ONCUE 1 \"\" \"oncue %s\" \"User Commands\"\n", ONCUE_VERSION);
    oc_buf_puts(b, ".SH NAME\noncue \\- reliability control plane for video\\-streaming "
                   "platforms\n.SH SYNOPSIS\n\\fBoncue\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR]"
                   "\n.SH DESCRIPTION\n"
                   "oncue watches what viewers experience (player beacons aggregated into a QoE "
                   "cube), opens one incident per fault with the right severity and owner, "
                   "runs the mitigation, keeps the timeline and the status page, and writes the "
                   "review. \\fBoncue serve\\fR runs the server; the other commands are its "
                   "clients and tools. Every command prints its options with \\fB\\-\\-help\\fR."
                   "\n.SH COMMANDS\n");
    for (const struct oc_command *c = oc_commands; c->name; c++)
        roff_tp(b, c->name, NULL, c->summary);
    oc_buf_puts(b, ".SH SERVER OPTIONS\nEach sets one setting; every setting can also be given "
                   "as \\fB\\-\\-set\\fR \\fINAME=VALUE\\fR or in the YAML file of "
                   "\\fB\\-\\-config\\fR \\fIFILE\\fR (see \\fBoncue serve \\-\\-help\\fR).\n");
    struct oc_config cfg;
    struct config_walk w = {0};
    config_init(&cfg, oc_modules);
    for (const struct oc_setting *st; (st = config_walk(&cfg, &w)) != NULL;)
        if (st->flag)
            roff_tp(b, st->flag, st->name, st->desc);
    config_free(&cfg);
    for (const struct oc_command *c = oc_commands; c->name; c++)
        for (const struct oc_cli *o = c->cli; o && o->name; o++) {
            if (!o->opts || !o->opts->flag)
                continue;
            oc_buf_puts(b, ".SS \"oncue ");
            roff(b, o->name);
            oc_buf_puts(b, "\"\n");
            for (const struct oc_opt *x = o->opts; x->flag; x++)
                roff_tp(b, x->flag, x->metavar, x->help);
        }
    oc_buf_puts(b, ".SH SIGNALS\n\\fBoncue serve\\fR stops gracefully on SIGTERM and SIGINT "
                   "(requests in flight get \\fBhttp.shutdown_grace_ms\\fR). SIGHUP re-reads "
                   "\\fBcatalog.file\\fR, \\fBincident.webhooks_file\\fR and "
                   "\\fBsteer.policy_file\\fR while serving and logs one line saying what it "
                   "did; a file that does not load keeps what was in force. Alert rules, SLOs "
                   "and settings are read at start only.\n"
                   ".SH FILES\n.TP\n\\fI/etc/oncue/oncue.yaml\\fR\nthe settings the packaged "
                   "service starts with\n.TP\n\\fI/var/lib/oncue\\fR\nits data directory "
                   "(SQLite store, key for hashing viewer ids)\n"
                   ".SH EXIT STATUS\n0 on success, 1 when the command failed, 2 on a usage "
                   "error.\n.SH SEE ALSO\nThe reference pages in the source tree: "
                   "docs/cli.md, docs/config.md, docs/api.md, docs/contracts.md.\n");
}

/* The flags a completion offers after `oncue CMD`: its option tables (every `oncue CMD ...`
 * entry), or for serve the settings' flags. */
static void flags_of(struct oc_buf *b, const struct oc_command *c)
{
    if (strcmp(c->name, "serve") == 0) {
        struct oc_config cfg;
        struct config_walk w = {0};
        config_init(&cfg, oc_modules);
        oc_buf_puts(b, "--config --set --help");
        for (const struct oc_setting *st; (st = config_walk(&cfg, &w)) != NULL;)
            if (st->flag)
                oc_buf_printf(b, " %s", st->flag);
        config_free(&cfg);
        return;
    }
    oc_buf_puts(b, "--help");
    for (const struct oc_cli *o = c->cli; o && o->name; o++)
        for (const struct oc_opt *x = o->opts; x && x->flag; x++)
            oc_buf_printf(b, " %s", x->flag);
}

void oc_commands_completion(struct oc_buf *b, const char *shell)
{
    int zsh = strcmp(shell, "zsh") == 0;
    if (zsh)
        oc_buf_puts(b, "#compdef oncue\n# zsh completion for oncue (generated by `oncue docs "
                       "zsh`): the bash function below through bashcompinit.\n"
                       "autoload -U +X bashcompinit && bashcompinit\n");
    else
        oc_buf_puts(b, "# bash completion for oncue (generated by `oncue docs bash`)\n");
    oc_buf_puts(b, "_oncue() {\n    local cur=${COMP_WORDS[COMP_CWORD]}\n"
                   "    if [ \"$COMP_CWORD\" -eq 1 ]; then\n        COMPREPLY=($(compgen -W \"");
    for (const struct oc_command *c = oc_commands; c->name; c++)
        oc_buf_printf(b, "%s%s", c == oc_commands ? "" : " ", c->name);
    oc_buf_puts(b, " --help --version\" -- \"$cur\"))\n        return\n    fi\n"
                   "    local flags\n    case ${COMP_WORDS[1]} in\n");
    for (const struct oc_command *c = oc_commands; c->name; c++) {
        oc_buf_printf(b, "    %s) flags=\"", c->name);
        flags_of(b, c);
        oc_buf_puts(b, "\" ;;\n");
    }
    oc_buf_puts(b, "    esac\n    case $cur in\n"
                   "    -*) COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\")) ;;\n"
                   "    *) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n    esac\n}\n"
                   "complete -F _oncue oncue\n");
}
