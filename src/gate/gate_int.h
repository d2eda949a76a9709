/*
 * gate_int.h - what the files of the gate capability share: its options, the module state,
 * the canary comparison's input, the freeze windows in the store and the decision.
 */
#ifndef OC_GATE_GATE_INT_H
#define OC_GATE_GATE_INT_H

#include "gate/gate.h"

struct oc_app;
struct store;

/* The gate module's settings (rows in module.c). */
struct gate_opts {
    int64_t canary_window_s; /* gate.canary_window_s */
    double alpha;            /* gate.alpha_pct as a share */
    int64_t min_sample;      /* gate.min_sample */
    double min_lift;         /* gate.min_lift_pct as a share */
    double min_budget;       /* gate.min_budget_pct as a share */
    char *auto_mitigate;     /* gate.auto_mitigate: kinds a failed canary applies by itself */
};

/* The module's state. */
struct gate_mod {
    struct oc_app *app;    /* borrowed */
    struct gate_opts opts; /* copied from the config (strings borrowed from it) */
};

/* The input of one canary comparison (everything borrowed). */
struct gate_canary_in {
    const struct gate_slice *canary, *baseline;
    int64_t from, to;   /* closed minutes compared, unix seconds */
    unsigned metrics;   /* GATE_METRICS_ALL bits */
    double alpha;       /* for the whole comparison */
    int64_t min_sample; /* trials per slice and metric */
    double min_lift;    /* relative worsening that counts */
};

/* Compares the canary with its baseline on cube c. *out (caller owns) is {canary, baseline,
 * from, to, alpha, alpha_per_metric, min_sample, min_lift, verdict, metrics: [...]}; why gets
 * the sentence naming each failed metric and its significance (or why there is not enough
 * data). Returns 0 (pass), 1 (fail), 2 (insufficient data) or a negative oc_err with err. */
int gate_canary_run(struct qoe_cube *c, const struct gate_canary_in *in, json_t **out /* OUT */,
                    char *why, size_t whyn, char *err, size_t errlen);

/* --- freeze.c: freeze windows in the store --- */

#define GATE_FREEZE_ALL "*" /* a freeze on every service */

/* Adds a freeze {service ("*" or a catalog service), from, to, reason} by actor; *out (caller
 * owns) is the stored row. 0, OC_EINVAL (err names the field) or OC_EDB. */
int gate_freeze_add(struct store *s, const json_t *body, const char *actor, int64_t now_s,
                    json_t **out /* OUT */, char *err, size_t errlen);
/* Every freeze ending after since, soonest first (new reference), or NULL (OC_EDB). */
json_t *gate_freezes(struct store *s, int64_t since);
/* Deletes freeze id: 0, OC_ENOTFOUND or OC_EDB. */
int gate_freeze_delete(struct store *s, int64_t id);
/* The freezes on service (or on every service) active at now_s (new reference), or NULL. */
json_t *gate_freezes_active(struct store *s, const char *service, int64_t now_s);

/* --- decide.c --- */

/* Decides the gate of service for request r at the app's clock: *out (caller owns) is the
 * answer of POST /v1/gates/{service}. Records the decision as a change (unless dry run) and
 * applies r->on_fail when the canary fails and gate.auto_mitigate allows its kind. 0, or
 * OC_ENOTFOUND (no catalog service of that name; err says so with a suggestion), or another
 * oc_err with err. actor is the caller's principal. */
int gate_decide(struct gate_mod *g, const char *service, const struct gate_request *r,
                const char *actor, json_t **out /* OUT */, char *err, size_t errlen);

#endif
