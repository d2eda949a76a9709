/*
 * docs.c - `oncue docs config|api|cli|man|bash|zsh` and `oncue version`: reference docs
 * generated from the settings, route and subcommand tables (docs/config.md, docs/api.md,
 * docs/cli.md), the billing event table (docs/billing.md), the bus and webhook events
 * (docs/events.md, from core/events.c), the manual page and shell
 * completions.
 */
#include "config/config.h"
#include "core/buf.h"
#include "core/suggest.h"
#include "core/topics.h"
#include "http/http.h"
#include "oncue/commands.h"
#include "billing/billing.h"

#include <stdio.h>
#include <string.h>

static void api_doc(struct oc_buf *b)
{
    oc_buf_puts(b, "# oncue HTTP API\n\n"
                   "Generated from the modules' route tables by `oncue docs api`; do not edit.\n\n"
                   "Errors are `application/problem+json` (RFC 9457). Routes whose role is not "
                   "`public` or `signed` need `Authorization: Bearer <token>` (a `signed` route, "
                   "a provider's webhook, is authenticated by its body's signature instead): a "
                   "missing or unknown token is "
                   "401, a token without the role 403. `admin` may use every route; "
                   "`responder` includes `viewer`; `ingest` may only post telemetry. A body over "
                   "the route's cap is 413. A browser may instead send the session cookie "
                   "`oncue_session` from `POST /v1/session` (same roles); a cookie-authenticated "
                   "request other than GET, HEAD or OPTIONS must come from this server's own "
                   "origin, else 403 (docs/contracts.md \"Sessions\").\n");
    for (const struct oc_module *const *m = oc_modules; *m; m++)
        if ((*m)->routes)
            http_routes_doc(b, (*m)->name, (*m)->routes);
}

const struct oc_cli oc_docs_cli[] = {
    {"docs", "config|api|cli|billing|events|man|bash|zsh",
     "Prints a reference page generated from its table as Markdown: `config` the settings\n"
     "(docs/config.md), `api` the HTTP routes of every module (docs/api.md), `cli` the\n"
     "subcommands and their options (docs/cli.md), `billing` the entitlement state machine's\n"
     "event table (docs/billing.md), `events` every bus and webhook event type and the fields\n"
     "of its data (docs/events.md); `man` the manual page oncue(1) in roff;\n"
     "`bash` and `zsh` shell completion scripts. `make` builds the last three into the build\n"
     "tree and `cmake --install` installs them.\n",
     NULL, 1},
    {0},
};

int oc_docs_main(int argc, char **argv)
{
    const char *page = NULL;
    int nargs = 0, p = oc_cli_parse(oc_docs_cli, argc - 1, argv + 1, NULL, &page, &nargs);
    if (p != 0)
        return p > 0 ? 0 : 2;
    if (!page) {
        fprintf(stderr,
                "oncue docs: name a page: config, api, cli, billing, events, man, bash or zsh "
                "(see "
                "oncue docs --help)\n");
        return 2;
    }
    struct oc_buf b;
    oc_buf_init(&b, 4 << 20);
    if (strcmp(page, "config") == 0) {
        struct oc_config cfg;
        config_init(&cfg, oc_modules);
        config_doc_markdown(&cfg, &b);
        config_free(&cfg);
    } else if (strcmp(page, "api") == 0)
        api_doc(&b);
    else if (strcmp(page, "cli") == 0)
        oc_commands_doc(&b);
    else if (strcmp(page, "billing") == 0) {
        oc_buf_puts(&b, "# oncue billing events\n\n"
                        "Generated from the rule table (`src/billing/rule.c`) by `oncue docs "
                        "billing`; do not edit. What each provider event type does to its "
                        "subscription's entitlement state; the ordering rule and the states are "
                        "in [internals/billing.md](internals/billing.md).\n\n");
        billing_rules_doc(&b);
    } else if (strcmp(page, "events") == 0)
        oc_events_doc(&b);
    else if (strcmp(page, "man") == 0)
        oc_commands_man(&b);
    else if (strcmp(page, "bash") == 0 || strcmp(page, "zsh") == 0)
        oc_commands_completion(&b, page);
    else {
        static const char *const pages[] = {"config", "api",  "cli", "billing", "events",
                                            "man",    "bash", "zsh", NULL};
        char hint[160];
        fprintf(stderr,
                "oncue docs: unknown page '%s'%s (config, api, cli, billing, events, man, bash or "
                "zsh)\n",
                page, OC_SUGGEST_TABLE(page, pages, hint));
        oc_buf_free(&b);
        return 2;
    }
    fwrite(b.data ? b.data : "", 1, b.len, stdout);
    oc_buf_free(&b);
    return 0;
}

int oc_version_main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0) {
        fprintf(stderr, "oncue version: unexpected argument '%s' (it takes none)\n", argv[1]);
        return 2;
    }
    printf("oncue %s\n", ONCUE_VERSION);
    return 0;
}
