/*
 * commands.c - the subcommand table: `oncue --help` and docs/cli.md are generated from it.
 *
 * To add a subcommand, add one row; its function lives in its capability and is declared in
 * that capability's public header.
 */
#include "oncue/commands.h"
#include "core/buf.h"
#include "core/opt.h"
#include "rca/rca.h"
#include "catalog/catalog.h"
#include "steer/steer.h"
#include "sim/sim.h"
#include "incident/incident.h"
#include "alert/alert.h"
#include "drill/drill.h"

/* Every subcommand; the function lives in its capability (or here in oncue/). */
const struct oc_command oc_commands[] = {
    {"serve", oc_serve_main, "run the server (all modules, or --modules a,b)", NULL},
    {"token", oc_token_main, "create, list and revoke API tokens in a data directory",
     oc_token_cli},
    {"docs", oc_docs_main, "print generated reference docs (config, api, cli) as Markdown",
     oc_docs_cli},
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
    {"runbook", drill_runbook_cli_main,
     "list the runbooks; show an incident's runbook filled from its root cause", drill_runbook_cli},
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
