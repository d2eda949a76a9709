/*
 * drill.h - chaos drills: `oncue drill SCENARIO` replays a shipped simulator scenario through
 * the real pipeline in-process on a virtual clock (simulator -> ingest cube -> alert rules ->
 * incident -> rca -> catalog paging -> a scripted responder running the runbook's mitigation
 * through steer -> recovery -> resolve -> review) and scores the run against the scenario's
 * ground truth and pass rule. Runbooks (examples/runbooks/NAME.yaml, embedded) are the seven-step
 * triage per alert kind; their mitigate step is an `oncue mitigate` command template.
 * See docs/internals/drill.md.
 */
#ifndef OC_DRILL_DRILL_H
#define OC_DRILL_DRILL_H

#include "sim/sim.h"
#include "core/opt.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct oc_buf;

#define DRILL_MAX_TEXT    512 /* bytes of a command, team, severity or reason line */
#define DRILL_MAX_REASONS 8   /* reasons kept for a failed pass */
#define DRILL_MAX_STEPS   24  /* steps in one runbook */
#define DRILL_MAX_CMDS    16  /* mitigation templates in one runbook */

/* The drill of healthy traffic: the shipped topology's population, no fault, from midnight
 * of the simulator's default day; it passes when no alert of any level fires. */
#define DRILL_HEALTHY    "healthy"
#define DRILL_HEALTHY_MS (24 * 3600000LL)
/* The drill of billing webhooks: a storm posted to a live server (drill_host webhook_storm). */
#define DRILL_WEBHOOK_STORM "webhook-storm"

/* How to run a drill. */
struct oc_app;
struct oc_module;

/* What the drill runs and how its players and responder reach steering: bound above the
 * capabilities (src/oncue/drill_host.c), since the drill includes neither steer/ nor the
 * module table. arg and app are the drill's struct oc_app. */
struct drill_host {
    const struct oc_module *const *modules; /* the table `serve` runs (ends in NULL) */
    /* `oncue drill webhook-storm ...` (argv[0] is "webhook-storm"): the billing webhook storm
     * against a live server with its scorecard; its exit status. */
    int (*webhook_storm)(int argc, char **argv);
    /* A player's steering request and flag read, as GET /v1/steering and /v1/flags answer. */
    int (*steer)(void *app, const struct sim_steer_req *req, char pw[][SIM_NAME_MAX], int *n,
                 int *ttl);
    int (*flag)(void *app, const struct sim_flag_req *req);
    /* An operator's mitigation, as POST /v1/mitigations: 0, or an oc_err with err set; *rec is
     * the applied record (new reference). */
    int (*mitigate)(struct oc_app *app, const json_t *req, const char *actor, json_t **rec,
                    char *err, size_t errlen);
    /* The steering policy, as GET /v1/steering/policy: a new reference, or NULL. */
    json_t *(*policy)(struct oc_app *app);
    /* `oncue mitigate KIND [options]` (argv[0] is KIND) as the request body it sends: 0 and a
     * new reference in *req, or an oc_err with the command's error line in err. */
    int (*request)(int argc, char **argv, json_t **req, char *err, size_t errlen);
    /* Checks such a request as POST /v1/mitigations would, applying nothing: 0, or an
     * oc_err with the field in err (`oncue runbook check`). */
    int (*check)(const json_t *req, char *err, size_t errlen);
    /* A body of Fastly log lines with CMCD folded into the cube, as POST
     * /v1/cdn-logs?format=fastly folds it (drill_opts cdn_logs). Returns the lines refused. */
    size_t (*cdn_logs)(struct qoe_cube *c, const char *body, size_t len);
};

struct drill_opts {
    const struct drill_host *host; /* required */
    const char *scenario;          /* shipped scenario name ("emea-cdn", "blip", ...), or
                                      DRILL_HEALTHY: the population without a fault */
    int64_t duration_ms;           /* simulated time; 0: the scenario's (healthy: 24 h) */
    int healthy_from_s;            /* healthy: second of the day it starts at (0: midnight) */
    int viewers;                   /* concurrent viewers; 0: 20000 */
    uint64_t seed;                 /* simulator seed */
    int auto_mitigate;             /* 1: automatic steering acts instead of the responder */
    int cdn_logs;        /* 1: the players arrive as Fastly log lines with CMCD, through the parser
                            and fold of POST /v1/cdn-logs, instead of beacons */
    long tickets;        /* support tickets of the storm sent from the fault's start; 0: none */
    const char *out_dir; /* where the review is written; NULL: "./oncue-drills" */
    int verbose;         /* 1: log progress lines on stderr */
    int findings_as_notes; /* 0 (as a live server does): the simulated prober's and scraper's
                              findings are published as probe.* and scrape.* events, so they
                              raise alerts and open or join incidents; 1: they are scored and
                              noted on the incident's timeline only (the beacons alone open
                              the incident) */
    int source_alerts;     /* --source-alerts, the default since findings open incidents:
                              accepted and ignored */
};

/* The scorecard of one drill. Times are unix seconds of the virtual clock (0: never). */
struct drill_score {
    char scenario[64];
    uint64_t seed;
    int viewers;
    int64_t ran_at_ms; /* wall-clock unix milliseconds the drill started (the history's time) */
    char service[64];  /* the first incident's service, "" when none opened */
    int64_t fault_start, detected_at, declared_at, paged_at, acked_at, mitigated_at, relief_at,
        resolved_at;
    int64_t finding_at;              /* first probe or scrape finding at or after fault_start */
    char finding[DRILL_MAX_TEXT];    /* ... "probe stale on stream live: DETAIL", "" when none */
    int64_t beacon_alert_at;         /* first non-backlog alert from the beacons (not a probe
                                        or scrape finding) at or after fault_start */
    char severity[8];                /* final severity of the first incident, "" when none */
    char cross_check[16];            /* its last cross-check with the CDN logs: agrees,
                                        disagrees, no_data; "" when none was made */
    json_t *cause;                   /* array of asserted elements {attr: value} (owned) */
    int cause_correct;               /* 1 when the causes match the ground truth */
    char paged[DRILL_MAX_TEXT];      /* team paged first, "" when none */
    char mitigation[DRILL_MAX_TEXT]; /* the command run, "" when none */
    char metric[64];                 /* what metric_* measure ("rebuffer_ratio region=EMEA") */
    double metric_peak;              /* worst minute of the metric during the run */
    double metric_after_mitigation;  /* over the minute ending one TTL + 1 min after it */
    int64_t simulated_s;             /* simulated time the drill ran */
    int alerts_page, alerts_notify, alerts_backlog; /* alert.fired events by level */
    int incidents_opened;
    int incidents_merged;    /* of those, merged into another with the same root cause */
    int notifications;       /* messages delivered to the in-process notification sink */
    uint64_t bus_deliveries; /* subscriber calls the bus made during the drill */
    uint64_t bus_violations; /* ... of which with a module lock held (must be 0) */
    /* --tickets: the ticket storm against its ground truth (storm.c) */
    int tickets_sent, tickets_noise;             /* stored; of them noise */
    int tickets_redelivered, tickets_duplicates; /* sent twice; answered duplicate, same cluster */
    int ticket_clusters;                         /* clusters the sent tickets fell in */
    double tickets_precision, tickets_recall;    /* pairwise, noise each its own class */
    double tickets_linked_share; /* of the fault's tickets, linked to the first incident */
    int tickets_false_links;     /* noise tickets whose cluster was linked to an incident */
    int64_t tickets_linked_at;   /* first link to the first incident (0: none) */
    /* ... the business reports over the drill's window (tickets_report) against the drill's
     * own bookkeeping: the first incident's times and the storm's tiers and accounts */
    int64_t report_from, report_to;     /* the window, unix seconds [from, to) */
    double report_mtta_s, truth_mtta_s; /* the incident's service's MTTA; -1: none */
    double report_mttr_s, truth_mttr_s; /* ... MTTR; -1: none */
    char report_breached[32];           /* tiers the SLA report has breached, "premium,free" */
    char truth_breached[32];            /* ... the fault's tiers whose availability fell short */
    int report_compensate, truth_compensate; /* accounts to compensate, summed over the tiers */
    char review_path[DRILL_MAX_TEXT];
    double wall_s; /* wall-clock seconds the drill took */
    int pass;
    int n_reasons;
    char reasons[DRILL_MAX_REASONS][DRILL_MAX_TEXT]; /* why pass is 0 */
};

/* The name the builtin module provides the host under (oc_app_provide), so the runbook module
 * reaches steering as the drill does. */
#define DRILL_PROVIDES_HOST "drill.host"
/* The runbook module of `oncue serve` (exec_http.c): runbooks run against incidents. */
extern const struct oc_module drill_runbook_module;

/* Runs one drill. 0 with *out filled (free with drill_score_free), or OC_ENOTFOUND (unknown
 * scenario), OC_EINVAL / OC_EDB / OC_EIO with a reason in err. A failed pass is not an error. */
int drill_run(const struct drill_opts *o, struct drill_score *out /* OUT */, char *err,
              size_t errlen);
/* Frees what a score owns (the cause array). */
void drill_score_free(struct drill_score *s);
/* Which signal came first at or after the fault's start: "probe", "scrape", "beacon" (an
 * alert on the players' beacons) or "none"; a finding in the same second as a beacon alert
 * counts first. */
const char *drill_first_signal(const struct drill_score *s);
/* The scorecard as one JSON object (new reference). */
json_t *drill_score_json(const struct drill_score *s);
/* Appends the readable report to b. */
void drill_score_text(const struct drill_score *s, struct oc_buf *b);

/* What a step does when a runbook runs against an incident (src/drill/exec.c). */
enum drill_step_type {
    DRILL_STEP_NOTE = 0, /* no `type:`: a manual note, recorded, done by a person */
    DRILL_STEP_CHECK,    /* a query compared with an expected value */
    DRILL_STEP_ACTION,   /* a mitigation (`oncue mitigate ...`) or a signed webhook call */
    DRILL_STEP_DECISION, /* waits for a person to approve or skip the step after it */
};

/* One step of a runbook; strings owned by the runbook (NULL when absent). */
struct drill_step {
    char *name;                /* "confirm", "scope", ... */
    char *text;                /* what to do, with {placeholders} */
    enum drill_step_type type; /* from `type:`; DRILL_STEP_NOTE without one */
    int line;                  /* 1-based line of the step in its file */
    char *query;               /* check: "incident.FIELD" or "qoe.METRIC", {placeholders} */
    char *op;                  /* check: "==", "!=", "<", "<=", ">", ">=" */
    char *expect;              /* check: the value compared with */
    int window_s;              /* check on qoe: seconds up to now the value covers */
    int continue_on_fail;      /* check or action: `on_fail: continue` (default stop) */
    char *run;                 /* action: one `oncue mitigate ...` template */
    char *webhook;             /* action: a URL the step POSTs a signed message to */
    int cmd_first, ncmds;      /* action: its `commands:` (chosen by the cause) in cmds[] */
};
/* A mitigation template: chosen when the cause names attribute `when`. */
struct drill_cmd {
    char *when; /* attribute the cause must name ("cdn", "player_version", ...) */
    char *run;  /* "oncue mitigate shift-cdn --region {region} --from {cdn} --to {alternate}" */
};
/* A runbook: the seven-step triage for one alert kind. */
struct drill_runbook {
    char *kind;        /* "rebuffering" */
    char *metrics;     /* comma list of metric names it covers */
    char *version;     /* its `version:` field, or NULL */
    char reviewed[11]; /* its `reviewed:` date, YYYY-MM-DD, or "" */
    int reviewed_line; /* ... and the line it is on */
    char hash[20];     /* "sha256:" and the first 12 hex digits of the file's SHA-256 */
    int nsteps;
    struct drill_step steps[DRILL_MAX_STEPS];
    int ncmds;
    struct drill_cmd cmds[DRILL_MAX_CMDS];
};

/* The name of a step type ("note", "check", "action", "decision"). */
const char *drill_step_type_name(enum drill_step_type t);
/* The incident fields a check may query as "incident.FIELD", ending in NULL. */
extern const char *const drill_check_fields[];

/* Parses a runbook from n bytes of YAML into rb (free with drill_runbook_free): 0 or
 * OC_EINVAL with a reason in err. */
int drill_runbook_parse(const char *yaml, size_t n, struct drill_runbook *rb /* OUT */, char *err,
                        size_t errlen);
/* `oncue runbook check`: parses n bytes of the runbook named file and checks its typed steps
 * (step types, query fields, QoE metrics, the mitigations of its commands read with h's
 * option table; h NULL skips those). Appends one "FILE:LINE: message" line per problem to
 * out; returns how many. */
int drill_runbook_lint(const char *file, const char *yaml, size_t n, const struct drill_host *h,
                       struct oc_buf *out);
/* Frees what rb owns; a zeroed rb is fine. */
void drill_runbook_free(struct drill_runbook *rb);
/* 1 when rb's metrics list metric (NULL: 0). */
int drill_runbook_covers(const struct drill_runbook *rb, const char *metric);
/* Loads the shipped runbook covering metric (e.g. "rebuffering_share"): 0 or OC_ENOTFOUND. */
int drill_runbook_for_metric(const char *metric, struct drill_runbook *rb /* OUT */);
/* The embedded copy of examples/runbooks/NAME.yaml (static storage), or NULL; *len its size. */
const char *drill_runbook_embedded(const char *name, size_t *len /* OUT */);
/* The shipped runbook names, ending in NULL. */
extern const char *const drill_runbook_names[];
/* Fills {name} placeholders of tmpl from vars (an object of strings) into b. 0, or
 * OC_ENOTFOUND when a placeholder has no value (its name is written into missing). */
int drill_fill(const char *tmpl, const json_t *vars, struct oc_buf *b, char *missing, size_t mlen);
/* Picks the first template whose `when` attribute the causes name and fills it from vars:
 * 0 with the command in b, or OC_ENOTFOUND when no template fits. */
int drill_runbook_command(const struct drill_runbook *rb, const json_t *vars, struct oc_buf *b);

/* The placeholder values for an incident: inc is the incident JSON (incident_id, title whose
 * first word is the metric, slice, severity), causes the asserted elements
 * [{"element": {attr: value}}] and pathways the steering policy's pathway list (both may be
 * NULL). {slice} is "k=v,k=v"; for an incident without a slice (opened by a service's own
 * scrape rule or probe) "service NAME", or "all traffic" when it has no service either. New
 * reference. */
json_t *drill_runbook_vars(const json_t *inc, const json_t *causes, const json_t *pathways);
/* Sets vars' "dashboard" to the console board for a service of catalog kind kind (origin,
 * packager, cdn, manifest, drm, player, network, ...), or to every board when kind is NULL or
 * has none. */
void drill_runbook_board(json_t *vars, const char *kind);
/* Appends "runbook KIND: 1. confirm: ... 7. resolve: ..." filled from vars to b (a step with
 * a placeholder that has no value says so). */
void drill_runbook_render(const struct drill_runbook *rb, const json_t *vars, struct oc_buf *b);

/* The request body of a runbook's "oncue mitigate KIND [options]" command line, read by
 * h->request with `oncue mitigate`'s own option table: a new reference, or NULL with why in
 * err (not such a command, or the command's error line). */
json_t *drill_command_request(const struct drill_host *h, const char *cmd, char *err,
                              size_t errlen);

/* `oncue drill SCENARIO [--viewers N] [--seed S] [--auto-mitigate] [--json] [--out DIR]`. */
int drill_cli_main(int argc, char **argv, const struct drill_host *host);
/* Its options (--help and docs/cli.md), ending in {0}: the drill, then `drill schedule` and
 * `drill history` at these indexes. */
extern const struct oc_cli drill_cli[];
enum { DRILL_CLI_RUN, DRILL_CLI_SCHEDULE, DRILL_CLI_HISTORY };

/* --- history.c: scorecards kept as OUT/scorecards/TIME-SCENARIO-seedN.json --- */

#define DRILL_HISTORY_DIR   "scorecards" /* under the drills' output directory */
#define DRILL_HISTORY_MAX   10000        /* newest scorecards read back */
#define DRILL_HISTORY_BYTES (1u << 20)   /* bytes of one scorecard file read back */

/* The scorecards directory of out_dir (NULL: ./oncue-drills) into dir (n bytes). */
void drill_history_dir(const char *out_dir, char *dir, size_t n);
/* Keeps card (drill_score_json's object, with what the caller added; its "ran_at",
 * "scenario" and "seed" name the file) as a new file under out_dir's scorecards, creating
 * the directories. 0 with its path in path, or OC_EIO with err set. */
int drill_history_save(const char *out_dir, const json_t *card, char *path, size_t pathlen,
                       char *err, size_t errlen);
/* The kept scorecards of out_dir, oldest first (*cards, new reference; empty when there is no
 * history yet); files that do not parse are counted in *skipped. 0 or OC_EIO with err. */
int drill_history_load(const char *out_dir, json_t **cards /* OUT */, int *skipped /* OUT */,
                       char *err, size_t errlen);
/* The newest card of cards whose string member key is value (borrowed), or NULL. */
json_t *drill_history_last(const json_t *cards, const char *key, const char *value);
/* `oncue drill history [--out DIR] [--scenario NAME] [--limit N] [--json]`. */
int drill_history_cli_main(int argc, char **argv);
/* Checks len bytes of a drill calendar as `oncue drill schedule` reads it (the fuzz
 * target's entry): the number of drills, or -1 with "schedule:LINE: message" in err. */
int drill_schedule_parse(const char *text, size_t len, char *err, size_t errlen);
/* `oncue drill schedule FILE [--run] [--all] [--at TIME] [--out DIR] [--json]`. */
int drill_schedule_cli_main(int argc, char **argv, const struct drill_host *host);

/* `oncue runbook list|show|check|run|approve|skip|status ...`; h reads the mitigation
 * commands `oncue runbook check` lints. */
int drill_runbook_cli_main(int argc, char **argv, const struct drill_host *h);
/* `oncue report automation [--days N] [--server URL] [--token T] [--json]`. */
int drill_report_cli_main(int argc, char **argv);
/* Its options, ending in {0}. */
extern const struct oc_cli drill_report_cli[];
/* The options of the `oncue runbook` actions, ending in {0}. */
extern const struct oc_cli drill_runbook_cli[];

#endif
