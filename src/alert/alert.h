/*
 * alert.h - alert rules and their evaluation on the injected clock, Alertmanager webhook
 * intake, the firing history and the alert audit.
 *
 * Rules (YAML, examples/rules.yaml) are thresholds on a QoE metric over a slice, per group,
 * sustained for a window with hysteresis, or multi-window SLO burn-rate pairs. The engine
 * evaluates each CLOSED minute of the cube once, in order, so replay, drills and real time
 * give the same alerts. Changes are published on the bus as "alert.fired" / "alert.resolved"
 * (payload in docs/internals/alert.md), after being recorded in the store.
 */
#ifndef OC_ALERT_ALERT_H
#define OC_ALERT_ALERT_H

#include "core/module.h"
#include "core/opt.h"
#include "qoe/qoe.h"
#include "slo/slo.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define ALERT_MAX_RULES   256       /* rules in one file */
#define ALERT_MAX_PAIRS   4         /* window pairs of a burn-rate rule */
#define ALERT_MAX_STATES  4096      /* (rule, group) states tracked at once */
#define ALERT_MAX_CATCHUP 1440      /* closed minutes evaluated by one tick */
#define ALERT_MAX_AM      1000      /* alerts in one Alertmanager webhook */
#define ALERT_AM_BODY     (1 << 20) /* bytes of an Alertmanager webhook body */

enum alert_level {
    ALERT_PAGE = 0, /* wake someone up */
    ALERT_NOTIFY,   /* investigate now, no page */
    ALERT_BACKLOG,  /* a work item */
};

enum alert_kind {
    ALERT_THRESHOLD = 0, /* metric op threshold per group, sustained */
    ALERT_BURN_RATE,     /* SLO burn rate over a long AND a short window */
};

/* "page", "notify", "backlog", indexed by enum alert_level. */
extern const char *const alert_level_names[3];

/* One window pair: burn over long_s AND over short_s both above factor. */
struct alert_pair {
    int64_t long_s, short_s;
    double factor;
};

struct alert_rule {
    char name[SLO_NAME_MAX];
    enum alert_kind kind;
    int metric; /* enum qoe_metric (burn-rate: the SLO's) */
    int nfilters;
    struct slo_filter filters[SLO_MAX_FILTERS]; /* the slice (burn-rate: the SLO's) */
    int ngroup;
    int group_by[BEACON_NDIMS]; /* enum beacon_dim, distinct */
    enum slo_op op;             /* breaching side */
    double threshold;           /* breach when value op threshold */
    double clear_threshold;     /* clears when strictly on the other side of this */
    int64_t for_s;              /* the condition holds every minute of this window */
    int64_t clear_for_s;        /* ... and clears for every minute of this one */
    enum alert_level level;
    double min_viewers;     /* groups with fewer concurrent viewers never breach */
    double noise_z;         /* rebuffering_share: breach only past threshold + z sampling SDs */
    char slo[SLO_NAME_MAX]; /* burn-rate: the SLO's name */
    int npairs;             /* burn-rate: window pairs (any one breaching) */
    struct alert_pair pairs[ALERT_MAX_PAIRS];
    char summary[SLO_TEXT_MAX]; /* one line; "" for the generated one */
    int line;                   /* where it starts in the file */
};

struct alert_rules {
    int n;
    struct alert_rule rules[ALERT_MAX_RULES];
};

/* Parses a rules file (n bytes, named name in messages). Burn-rate rules name SLOs of slos
 * (borrowed for the call; copied into the rule). 0 and *out (alert_rules_destroy), or
 * OC_EINVAL / OC_ETOOBIG with "NAME:LINE: message naming the field" in err. */
int alert_rules_parse(const char *name, const char *text, size_t n, const struct slo_set *slos,
                      struct alert_rules **out /* OUT */, char *err, size_t errlen);
/* Reads and parses a file; "" or NULL: the embedded defaults (examples/rules.yaml). */
int alert_rules_load(const char *path, const struct slo_set *slos,
                     struct alert_rules **out /* OUT */, char *err, size_t errlen);
/* Writes slos and the burn-rate rules of rules as OpenSLO v1 YAML documents (Service, SLO,
 * AlertPolicy with inline AlertConditions) to f; slo.file reads them back (openslo.c). */
void alert_openslo_write(FILE *f, const struct slo_set *slos, const struct alert_rules *rules);
void alert_rules_destroy(struct alert_rules *r);
/* The embedded copy of examples/rules.yaml, joined; the caller frees it. */
char *alert_default_yaml(size_t *len /* OUT */);
/* One entry of GET /v1/rules (new reference). */
json_t *alert_rule_json(const struct alert_rule *r);

struct oc_bus;
struct store;
struct alert_engine;

/* Creates an engine over rules and slos (both borrowed; they outlive it) that records
 * changes in st (may be NULL) and then publishes them on bus (may be NULL). Destroy with
 * alert_engine_destroy (NULL is a no-op). */
struct alert_engine *alert_engine_new(const struct alert_rules *rules, const struct slo_set *slos,
                                      struct oc_bus *bus, struct store *st);
void alert_engine_destroy(struct alert_engine *e);
/* Sets the first minute to evaluate (unix seconds, floored to a minute). Without it the
 * first tick starts at the newest closed minute. */
void alert_engine_start_at(struct alert_engine *e, int64_t minute);
/* Evaluates, in order, every minute of cube c closed by now_s and not yet evaluated (at most
 * ALERT_MAX_CATCHUP). Returns the number of events published, or a negative oc_err.
 * Deterministic: the same closed minutes give the same events whatever the tick times. */
int alert_eval_tick(struct alert_engine *e, struct qoe_cube *c, int64_t now_s);
/* Restores firing states from alert.fired payloads (borrowed; alert_store_open_firings), so
 * that alerts open before a restart resolve normally. Unknown rules are skipped. Returns the
 * number restored. */
/* Makes rules (borrowed; must outlive the engine or the next call) the engine's rules: the
 * states of rules kept by name carry over, those of rules that are gone are dropped (a firing
 * one publishing alert.resolved). Returns how many were dropped. Thread-safe. */
int alert_engine_set_rules(struct alert_engine *e, const struct alert_rules *rules);
int alert_engine_restore(struct alert_engine *e, const json_t *payloads);
/* The engine's firing alerts as a JSON array of their alert.fired payloads (new reference). */
json_t *alert_engine_active(struct alert_engine *e);

/* Translates an Alertmanager v4 webhook body into events: *out gets an array of
 * {"topic": "alert.fired"|"alert.resolved", "payload": {...}} (new reference). now_s is the
 * "at" of firing alerts. 0, or OC_EINVAL / OC_ETOOBIG with a reason in err. */
int alert_am_translate(const json_t *body, int64_t now_s, json_t **out /* OUT */, char *err,
                       size_t errlen);

/* Firing history (the store; every call takes the store lock). */
/* Records an alert.fired (insert) or alert.resolved (closes the open firing). 0 or OC_EDB. */
int alert_store_record(struct store *st, const char *topic, const json_t *payload);
/* The payloads of the engine's firings still open (source oncue), oldest first (new ref). */
json_t *alert_store_open_firings(struct store *st);
/* 1 when alert_id has an open (unresolved) firing, 0 when not, or OC_EDB. */
int alert_store_is_open(struct store *st, const char *alert_id);
/* Marks the latest firing of alert_id acknowledged at ts / as having led to incident. */
int alert_store_ack(struct store *st, const char *alert_id, int64_t ts);
int alert_store_incident(struct store *st, const char *alert_id, const char *incident_id);
/* The latest firings, newest first (new reference: a JSON array of objects). */
json_t *alert_store_recent(struct store *st, int limit);
/* The audit over the days before now_s: {"days", "from", "to", "rules": [{"rule", "level",
 * "source", "fired", "acknowledged", "led_to_incident", "flag"}]}, one row per rule of rules
 * (may be NULL) and per other rule seen in the history. flag: "never_fired", "no_action" or
 * "ok". New reference, or NULL on a store error. */
json_t *alert_audit(struct store *st, const struct alert_rules *rules, int64_t now_s, int days);

/* Publishes one alert event: records it in st (may be NULL), then publishes it on bus. */
/* probe.c: the alert.fired (probe.failed) or alert.resolved (probe.recovered) payload of a
 * prober finding p, its topic in *out_topic; NULL for another topic or a payload without
 * stream and kind. New reference. */
json_t *alert_probe_translate(const char *topic, const json_t *p, const char **out_topic);
/* scrape.c: the same for a finding on scraped metrics (scrape.failed / scrape.recovered). */
json_t *alert_scrape_translate(const char *topic, const json_t *p, const char **out_topic);
void alert_emit(struct oc_bus *bus, struct store *st, const char *topic, const json_t *payload);

/* `oncue alerts audit ...` (argv[0] is "alerts"). */
int alert_cli_main(int argc, char **argv);
/* The options of `oncue alerts` (its --help and docs/cli.md section), ending in {0}. */
extern const struct oc_cli alert_cli[];

/* The `alert` module: the evaluation timer, GET /v1/alerts, GET /v1/rules,
 * POST /v1/alerts/alertmanager, GET /v1/alerts/audit. Start slo, ingest and qoe with it. */
extern const struct oc_module alert_module;

/* The alert module's options (its settings rows are in alert/module.c). */
struct alert_opts {
    char *rules_file; /* alert.rules_file; "" = the embedded defaults */
};

#endif
