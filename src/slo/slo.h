/*
 * slo.h - published service-level objectives (OpenSLO-shaped YAML) and error-budget
 * accounting over the QoE cube, plus the small YAML helpers that slo and alert share.
 *
 * An SLO says "metric over slice, op value, is good" (for example rebuffer_ratio < 0.01 over
 * live EMEA traffic) and how much of a rolling window must be good. Budgets are counted on
 * closed minutes only, so replay and real time agree. See docs/internals/alert.md.
 */
#ifndef OC_SLO_SLO_H
#define OC_SLO_SLO_H

#include "core/module.h"
#include "qoe/qoe.h"

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#define SLO_MAX          64             /* SLOs in one file */
#define SLO_MAX_FILE     (1 << 20)      /* bytes of an SLO or rules file */
#define SLO_MAX_FILTERS  8              /* dim: value terms of a slice */
#define SLO_NAME_MAX     64             /* bytes of a name, with the NUL */
#define SLO_TEXT_MAX     160            /* bytes of a description or summary, with the NUL */
#define SLO_MAX_WINDOW_S (90LL * 86400) /* longest time window */

enum slo_op {
    SLO_OP_LT = 0, /* good (or breaching, for a rule) when value < threshold */
    SLO_OP_GT,     /* ... when value > threshold */
};

enum slo_budgeting {
    SLO_TIMESLICES = 0, /* good minutes / minutes with data, against target */
    SLO_OCCURRENCES,    /* the ratio metric itself is the bad fraction; budget = value */
};

/* One term of a slice: dimension = value. */
struct slo_filter {
    int dim;                           /* enum beacon_dim */
    char value[QOE_MAX_DIM_VALUE + 1]; /* NUL-terminated */
};

#define SLO_MAX_ALERTS 4 /* OpenSLO alert policies of one SLO */
#define SLO_MAX_CONDS  4 /* conditions of one alert policy */

/* One OpenSLO AlertCondition (kind burnrate) as oncue reads it: the burn rate over lookback_s
 * (and, as in every oncue burn-rate rule, over the shorter short_s) above threshold. */
struct slo_alert_cond {
    char name[SLO_NAME_MAX]; /* the AlertCondition's metadata.name */
    double threshold;        /* condition.threshold: the burn-rate factor */
    int64_t lookback_s;      /* condition.lookbackWindow: the long window */
    int64_t short_s;         /* annotation oncue.dev/short-window, else lookback / 12 */
    int64_t alert_after_s;   /* condition.alertAfter (60 when absent) */
};

/* One OpenSLO AlertPolicy of an SLO: a burn-rate rule of the alert module, firing when any
 * of its conditions holds. */
struct slo_alert {
    char name[SLO_NAME_MAX]; /* the AlertPolicy's metadata.name */
    int level;               /* 0 page, 1 notify, 2 backlog (its conditions' severity) */
    int nconds;
    struct slo_alert_cond conds[SLO_MAX_CONDS];
};

struct slo {
    char name[SLO_NAME_MAX];        /* metadata.name */
    char service[SLO_NAME_MAX];     /* spec.service */
    char description[SLO_TEXT_MAX]; /* spec.description, may be "" */
    int metric;                     /* enum qoe_metric of spec.indicator.metric */
    int nfilters;                   /* spec.indicator.filter terms */
    struct slo_filter filters[SLO_MAX_FILTERS];
    enum slo_op op;         /* spec.objective.op: the good side */
    int inclusive;          /* the value itself is good (OpenSLO lte, gte) */
    double value;           /* spec.objective.value */
    double target;          /* spec.objective.target: good fraction (timeslices) */
    int64_t window_s;       /* spec.timeWindow.duration (rolling) */
    enum slo_budgeting how; /* spec.budgetingMethod */
    int line;               /* line of its document in the file */
    int nalerts;            /* spec.alertPolicies */
    struct slo_alert alerts[SLO_MAX_ALERTS];
};

struct slo_set {
    int n;
    struct slo slos[SLO_MAX];
    /* A running server re-reads slo.file on SIGHUP into the same set (slo_set_replace), so
     * the modules that borrow it keep their pointer; whoever reads it while the server runs
     * holds the read lock, and generation counts the replacements (caches keyed by SLO
     * position start over when it moves). */
    pthread_rwlock_t lock;
    uint64_t generation;
};

/* Parses a YAML stream of SLO documents (n bytes, named name in messages) into a new set
 * (free with slo_set_destroy). On failure returns OC_EINVAL or OC_ETOOBIG and writes
 * "NAME:LINE: message naming the field" into err. Unknown fields are rejected. */
int slo_set_parse(const char *name, const char *text, size_t n, struct slo_set **out /* OUT */,
                  char *err, size_t errlen);
/* Reads and parses a file; "" or NULL path: the embedded defaults (examples/slos.yaml). */
int slo_set_load(const char *path, struct slo_set **out /* OUT */, char *err, size_t errlen);
void slo_set_destroy(struct slo_set *s);
/* Read lock and unlock of a set another thread may replace (the lock is not const). */
void slo_set_rdlock(const struct slo_set *s);
void slo_set_unlock(const struct slo_set *s);
/* Replaces the SLOs of dst by those of src (copied) under dst's write lock and moves its
 * generation on. */
void slo_set_replace(struct slo_set *dst, const struct slo_set *src);
/* The SLO named name, or NULL. */
const struct slo *slo_find(const struct slo_set *s, const char *name);
/* The embedded copy of examples/slos.yaml, joined; the caller frees it. */
char *slo_default_yaml(size_t *len /* OUT */);

/* Counts of closed minutes over [from, to) of one SLO. */
struct slo_count {
    int64_t minutes; /* minutes with data */
    int64_t bad;     /* ... outside the objective */
    double value;    /* the metric over the whole range (NAN without data) */
};
/* Counts s over the closed minutes of c in [from, to) (unix seconds, multiples of 60).
 * 0, or an oc_err from the query with a reason in err. */
int slo_count(const struct slo *s, struct qoe_cube *c, int64_t from, int64_t to,
              struct slo_count *out /* OUT */, char *err, size_t errlen);
/* Whether value v meets the objective of s (a good minute). */
int slo_good(const struct slo *s, double v);
/* The burn rate of a count: how many times faster than allowed the budget is spent
 * (timeslices: bad/minutes / (1 - target); occurrences: value / objective value); NAN
 * without data. The one burn-rate formula: the slo status and the alert engine's burn-rate
 * rules both call it. */
double slo_burn(const struct slo *s, const struct slo_count *k);

struct slo_status {
    int64_t at;              /* end of the last closed minute counted */
    struct slo_count window; /* over the time window */
    double good_fraction;    /* timeslices: good minutes / minutes; NAN without data */
    double budget_remaining; /* 1 - burn over the window (may go negative) */
    double burn_1h, burn_6h; /* burn rates over the last hour and six hours */
};
/* The status of s at now_s (only minutes closed in c count). 0 or an oc_err. */
int slo_status_at(const struct slo *s, struct qoe_cube *c, int64_t now_s,
                  struct slo_status *out /* OUT */, char *err, size_t errlen);
/* One entry of GET /v1/slos (new reference); st may be NULL (no cube). */
json_t *slo_json(const struct slo *s, const struct slo_status *st);

/* The last minute boundary at or before now_s up to which c's minutes are complete (closed,
 * or published once the event time passed their end by ingest.complete_after_s); 0 when no
 * minute is complete yet. */
int64_t slo_closed_upto(struct qoe_cube *c, int64_t now_s);

/* The name the slo module provides its set under (struct oc_app). */
#define SLO_PROVIDES_SET "slo.set"
/* The SLO set of app's running slo module, or NULL when it does not run. */
const struct slo_set *slo_set_of(const struct oc_app *app);
/* The `slo` module: GET /v1/slos. */
extern const struct oc_module slo_module;

/* The slo module's options (its settings rows are in slo/module.c). */
struct slo_opts {
    char *file; /* slo.file; "" = the embedded defaults */
};

/* ---- YAML helpers shared with alert/ (libyaml documents with line numbers) ---- */

struct slo_yaml {
    yaml_parser_t parser;
    yaml_document_t doc;
    int parser_ok, loaded; /* what must be freed */
    yaml_node_t *seq;      /* a document that is a list of objects: its items come one by one */
    int seq_i;             /* the next item of seq */
    const char *name;      /* file name for messages */
    char *err;             /* message buffer (borrowed) */
    size_t errlen;
};
/* Starts reading a YAML stream (text borrowed until slo_yaml_free). 0 or OC_ETOOBIG. */
int slo_yaml_open(struct slo_yaml *y, const char *name, const char *text, size_t n, char *err,
                  size_t errlen);
/* Loads the next document: 1 with its root, 0 at the end, OC_EINVAL on a syntax error. A
 * document that is a list of objects with an apiVersion (as the OpenSLO SDK writes several
 * objects in one document) gives each item as a root of its own. */
int slo_yaml_next(struct slo_yaml *y, yaml_node_t **root /* OUT */);
void slo_yaml_free(struct slo_yaml *y);
/* Writes "NAME:LINE: message" for node (line 0 when NULL) and returns OC_EINVAL. */
int slo_yaml_fail(struct slo_yaml *y, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The value of key in a mapping, or NULL. */
yaml_node_t *slo_yaml_get(struct slo_yaml *y, yaml_node_t *map, const char *key);
/* Fails on the first key of map not in allowed (NULL-terminated); what names the mapping. */
int slo_yaml_keys(struct slo_yaml *y, yaml_node_t *map, const char *const *allowed,
                  const char *what);
/* Scalar text, or NULL. */
const char *slo_yaml_str(const yaml_node_t *n);
/* Items of a sequence (0 if not one), and item i. */
int slo_yaml_len(const yaml_node_t *seq);
yaml_node_t *slo_yaml_item(struct slo_yaml *y, yaml_node_t *seq, int i);
/* Typed required/optional fields of map: 0, or OC_EINVAL naming field (required: fails when
 * absent; optional: leaves *out unchanged when absent). */
int slo_yaml_text(struct slo_yaml *y, yaml_node_t *map, const char *field, int required, char *out,
                  size_t outlen);
int slo_yaml_num(struct slo_yaml *y, yaml_node_t *map, const char *field, int required,
                 double *out);
int slo_yaml_int(struct slo_yaml *y, yaml_node_t *map, const char *field, int required,
                 int64_t *out);
/* A duration "15s", "3m", "1h", "28d" (a number and a unit) into seconds. */
int slo_yaml_duration(struct slo_yaml *y, yaml_node_t *map, const char *field, int required,
                      int64_t *out);
/* An op "<" or ">". */
int slo_yaml_op(struct slo_yaml *y, yaml_node_t *map, const char *field, enum slo_op *out);
/* A metric name of the metric table (qoe_metric_find). */
int slo_yaml_metric(struct slo_yaml *y, yaml_node_t *map, const char *field, int *out);
/* A slice: a mapping dim: value (dimension names of beacon_dim_names). Optional. */
int slo_yaml_filter(struct slo_yaml *y, yaml_node_t *map, const char *field,
                    struct slo_filter *f /* OUT */, int *n /* OUT */);
/* Parses "15s"/"3m"/"1h"/"28d" into seconds: 0 or -1. */
int slo_parse_duration(const char *s, int64_t *out /* OUT */);

#endif
