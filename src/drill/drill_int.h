/*
 * drill_int.h - what the files of the drill capability share: the state of one running drill
 * (the in-process pipeline, the scripted responder, the event meter) and the scenario pass
 * rules. Only src/drill/ includes this; others use drill.h.
 */
#ifndef OC_DRILL_DRILL_INT_H
#define OC_DRILL_DRILL_INT_H

#include "drill/drill.h"

#include "config/config.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/module.h"
#include "core/netguard.h"
#include "qoe/qoe.h"

#include <pthread.h>
#include <yaml.h>

#define DRILL_DEFAULT_VIEWERS 20000
#define DRILL_DEFAULT_OUT     "./oncue-drills"
#define PATH_MAX_DRILL        1024 /* bytes of a path under the drills' output directory */
#define DRILL_TTL_S           60   /* steering TTL of the drill's policy */
#define DRILL_ACK_S           30   /* the responder acknowledges this long after the page */
#define DRILL_ACT_S           60   /* ... and runs the runbook's mitigation this long after */
#define DRILL_CAUSE_WAIT_S                                                                         \
    600                               /* ... or, when no command fits the cause yet, up to this    \
                                         much later, as soon as one does */
#define DRILL_EVAL_MS           1000  /* the scripted responder looks every simulated second */
#define DRILL_BUCKET_MS         10000 /* the meter's resolution */
#define DRILL_EXTRA_MIN         60    /* minutes run past the scenario waiting for a resolve */
#define DRILL_WORKED_EXAMPLE    840   /* the worked example's 14 minutes from page to relief */
#define DRILL_ACTOR             "drill-responder"
#define DRILL_UPDATE_S          900  /* the responder posts a status update this often */
#define DRILL_TICKETS_PRECISION 0.9  /* --tickets: least pairwise precision of the clusters */
#define DRILL_TICKETS_LINKED    0.8  /* ... least share of the fault's tickets linked */
#define DRILL_TICKETS_LINK_S    60   /* ... most seconds from declaration to the first link */
#define DRILL_FINDINGS_TEXT     2048 /* bytes of the findings kept for the timeline note */

/* A runbook's placeholder values for incident inc (its JSON): drill_runbook_vars of it, its
 * causes and the steering policy's pathways (h->policy), and {dashboard}, the board of its
 * owning service's catalog kind. New reference. Takes the catalog's read lock (exec.c). */
json_t *drill_incident_vars(struct oc_app *app, const struct drill_host *h, const json_t *inc);

/* YAML nodes as runbook.c and schedule.c read them: the scalar text of n (NULL when it is not
 * a scalar); the value node of key in mapping m (NULL); the 1-based line n starts on. */
const char *drill_yaml_scalar(yaml_document_t *d, yaml_node_t *n);
yaml_node_t *drill_yaml_get(yaml_document_t *d, yaml_node_t *m, const char *key);
int drill_yaml_line(const yaml_node_t *n);

/* The option tables of `oncue drill history` and `oncue drill schedule` (drill_cli). */
extern const struct oc_opt drill_history_options[];
extern const struct oc_opt drill_schedule_options[];

struct sim_truth;
struct slo_set;
struct alert_rules;
struct alert_engine;
struct incident_mgr;
struct steer;
struct store;
struct oc_bus;

/* A scenario's pass rule (one row of drill_rules in score.c). */
struct drill_rule {
    const char *scenario;   /* NULL ends the table; the last row is the default */
    int max_incidents;      /* incidents allowed (0: none may open) */
    const char *severity;   /* expected severity of the first incident, NULL: not checked */
    const char *cause_must; /* "attr=value" some asserted element must name, or NULL */
    const char *cause_any;  /* comma list of "attr=value", one must be named, or NULL */
    int meter_dim;          /* enum beacon_dim the metric is measured on, -1: everyone */
    const char *meter_val;  /* its value */
    double relief_below;    /* rebuffer ratio to fall under after mitigation; 0: unchecked */
    const char *mitigation; /* prefix the command run must have, or NULL */
    const char *team;       /* team the first page must reach, or NULL: anyone */
    int meter_vsf;          /* 1: the meter is the start-failure rate (relief_below too) */
};

/* One 10-second bucket of the meter: heartbeats (or starts) of the metered slice. */
struct drill_bucket {
    int64_t rebuffer_ms;
    int64_t playing_ms;
    int64_t starts;   /* start events */
    int64_t failures; /* of which outcome failure */
};

/* The state of one running drill. */
struct drill {
    const struct drill_opts *o;
    const struct drill_rule *rule;
    struct drill_score *sc;
    struct oc_clock clk;
    struct oc_bus *bus;
    struct store *store;
    struct oc_config cfg;
    struct oc_app app;      /* the modules `serve` runs, started by oc_app_start */
    int started;            /* oc_app_start was called */
    struct qoe_cube *cube;  /* the qoe module's */
    struct incident_mgr *m; /* the incident module's */
    char dir[64];           /* temporary data directory (the store, the policy) */
    int64_t t0_ms;
    /* the meter */
    struct drill_bucket *buckets;
    int nbuckets;
    /* the first incident and the responder */
    int64_t inc_id;       /* 0 until one opens */
    char inc_name[32];    /* "INC-1" */
    char metric_name[64]; /* its metric (from the title) */
    json_t *rca;          /* rca.localized payload for it (owned) */
    int tried;            /* the responder has tried the runbook's mitigation */
    int64_t last_update;  /* time of the responder's last public status update */
    int inc_resolved;     /* the first incident has resolved */
    int open_incidents;   /* opened minus resolved */
    const struct sim_truth *truth;
    struct oc_buf logs; /* --cdn-logs: the second's log lines, folded before its timers run */
    struct drill_storm *storm;     /* --tickets: the ticket storm (storm.c), NULL until it starts */
    const struct sim *sim;         /* the running simulator (for sources.c) */
    struct drill_sources *sources; /* the simulated prober and scraper (sources.c) */
    char findings[DRILL_FINDINGS_TEXT]; /* findings since the fault's start, one a line */
    int findings_noted;                 /* written on the incident's timeline (a count) */
    int nfindings;
};

/* sources.c: the prober and scraper of the simulated services. Called every simulated
 * second: publishes the probe.* and scrape.* events the findings of second now_ms raise. */
void drill_sources_tick(struct drill *d, const struct sim *s, int64_t now_ms);
void drill_sources_free(struct drill *d);
/* Writes the findings not yet noted on the drill's incident's timeline (one note). */
void drill_sources_note(struct drill *d);

/* storm.c: the ticket storm. Sends the tickets due at now_ms (from the fault's start). */
void drill_storm_tick(struct drill *d, int64_t now_ms);
/* Fills the scorecard's tickets_* against the ground truth (after the run). */
void drill_storm_score(struct drill *d);
void drill_storm_free(struct drill *d);

/* responder.c: bus subscriptions and the scripted responder. */
void drill_subscribe(struct drill *d);
void drill_unsubscribe(struct drill *d);
/* Runs the responder's due actions at now_s. */
void drill_responder_tick(struct drill *d, int64_t now_s);

/* exec.c: runbooks run against incidents inside `oncue serve` (the runbook module). */
#define DRILL_MAX_RUNS  256 /* runs kept; past it the oldest finished one is dropped */
#define DRILL_MAX_FILES 64  /* runbooks read from runbook.dir */

/* A runbook file read from runbook.dir at start. */
struct drill_file {
    char name[128]; /* file name without .yaml */
    char *text;     /* the file (owned) */
    size_t len;
};
/* The runbooks of runbook.dir. */
struct drill_files {
    int n;
    struct drill_file f[DRILL_MAX_FILES];
};

/* The runbook module's options (settings runbook.*). */
struct drill_exec_opts {
    const char *dir;               /* directory of the operators' runbooks (*.yaml), or "" */
    const char *webhook_keys_file; /* file of the keys that sign webhook actions, or "" */
    const char *outbound_allow;    /* private ranges webhook actions may reach */
    int timeout_s;                 /* one webhook call */
};

/* One run of a runbook against an incident. */
struct drill_run {
    int64_t inc;             /* the incident */
    struct drill_runbook rb; /* the runbook as it was when the run started */
    json_t *vars;            /* its placeholders, from the incident at the start */
    json_t *steps;           /* the results so far, in order (array of objects) */
    char by[64];             /* who started it */
    char state[16];          /* running, waiting, done, failed (dry_run for a dry run) */
    int next;                /* index of the step to run (the waiting decision) */
    int skip_next;           /* 1: the decision before steps[next] was skipped */
    int64_t started_at;      /* unix seconds */
};

/* The runbook module's state. */
struct drill_exec {
    struct oc_app *app;
    const struct drill_host *host; /* provided by the builtin module; may be NULL */
    struct drill_exec_opts o;
    char *keys;                /* the webhook keys (wiped and freed at stop), or NULL */
    struct oc_netguard *guard; /* from runbook.outbound_allow */
    pthread_mutex_t mu;        /* guards runs; held while a run advances */
    struct drill_run *runs[DRILL_MAX_RUNS];
    int nruns;
    struct drill_files *files; /* from runbook.dir, before the shipped ones; NULL without it;
                                  read and swapped (SIGHUP) under mu */
};

/* Frees every run (at stop). */
void drill_exec_free_runs(struct drill_exec *x);
/* The run of incident inc, or NULL; with x->mu held. */
struct drill_run *drill_exec_find(struct drill_exec *x, int64_t inc);
/* Runs r's steps from r->next as actor until a decision waits, a step fails or the end;
 * every step is noted on the timeline. With x->mu held. */
void drill_exec_advance(struct drill_exec *x, struct drill_run *r, const char *actor);
/* Starts the runbook named name (NULL: the one covering the incident's metric) on incident
 * inc as actor, or with dry answers what each step would do and records nothing. 0 with the
 * run's JSON in *out (new reference), or OC_ENOTFOUND / OC_ECONFLICT (a run waits) /
 * OC_ETOOBIG with why in err. */
int drill_exec_start(struct drill_exec *x, int64_t inc, const char *name, int dry,
                     const char *actor, json_t **out /* OUT */, char *err, size_t errlen);
/* Approves (approve 1) or skips the decision incident inc's run waits at (step: its 1-based
 * number, or 0 for whichever), then runs on. 0 with the run's JSON in *out, or OC_ENOTFOUND /
 * OC_ECONFLICT with why in err. */
int drill_exec_decide(struct drill_exec *x, int64_t inc, int approve, int step, const char *actor,
                      json_t **out /* OUT */, char *err, size_t errlen);
/* The run of incident inc as JSON in *out: 0 or OC_ENOTFOUND. */
int drill_exec_get(struct drill_exec *x, int64_t inc, json_t **out /* OUT */);
/* The JSON of run r (new reference). */
json_t *drill_run_json(const struct drill_run *r);
/* A webhook action (exec_http.c): POSTs {"type": "runbook.action", ...} signed with the
 * module's keys to st->webhook and fills res's status and detail (dry: what it would send). */
void drill_exec_webhook(struct drill_exec *x, const struct drill_run *r,
                        const struct drill_step *st, int dry, json_t *res);

/* report.c: the automation report over the incidents opened in the days days before now_s,
 * read from m (new reference; see docs/internals/drill.md). */
struct incident_mgr;
json_t *drill_automation_report(struct incident_mgr *m, int64_t now_s, int days);

/* score.c: the meter, the rules and the verdict. */
const struct drill_rule *drill_rule_for(const char *scenario);
void drill_meter_add(struct drill *d, const struct beacon_event *ev);
/* Names the metered metric in d->sc->metric ("rebuffer_ratio region=EMEA"). */
void drill_meter_name(struct drill *d);
/* The metered rebuffer ratio of the heartbeats sent in [from_s, from_s + 60), or NAN. */
double drill_meter_ratio(const struct drill *d, int64_t from_s);
/* Adds a reason for failing the pass (the first DRILL_MAX_REASONS are kept). */
void drill_reason(struct drill_score *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Fills the metric fields, cause_correct, pass and reasons of d->sc at the end of the run. */
void drill_judge(struct drill *d);

#endif
