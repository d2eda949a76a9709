/*
 * rca.h - root-cause localization: which slice (attr=value combinations) explains an anomaly.
 *
 * The engine works on a struct rca_data: leaves (full combinations of attribute values) with
 * rows of (ts, value[, total]). rca_run() forecasts every leaf from the rows before `at`,
 * compares with the row at `at` and returns the root-cause set and a ranked candidate list.
 * The CSV reader (rca_csv_*) only fills a struct rca_data, so the server can fill one from the
 * QoE cube and call the same engine in-process. Algorithm: docs/internals/rca.md.
 */
#ifndef OC_RCA_RCA_H
#define OC_RCA_RCA_H

#include "core/opt.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct oc_buf;

#define RCA_MAX_COLS     16      /* CSV columns, ts and measure included */
#define RCA_MAX_ATTRS    14      /* attributes per leaf */
#define RCA_MAX_ROWS     2000000 /* rows per data set */
#define RCA_MAX_LEAVES   100000  /* distinct leaves per data set */
#define RCA_MAX_LINE     4096    /* bytes per CSV line, newline included */
#define RCA_MAX_DEPTH    5       /* attributes per element */
#define RCA_MAX_CAUSES   8       /* elements in an asserted root-cause set */
#define RCA_MAX_CANDS    100     /* candidates kept */
#define RCA_DEFAULT_TOPK 10      /* candidates printed by default */

/* Leaves, their attribute values and their rows; opaque. */
struct rca_data;

/* One element: up to RCA_MAX_DEPTH attr=value pairs, sorted by attribute index. */
struct rca_elem {
    int n;                       /* pairs used, 1..RCA_MAX_DEPTH */
    int attr[RCA_MAX_DEPTH];     /* attribute index */
    uint32_t val[RCA_MAX_DEPTH]; /* value id within the attribute (rca_data_value) */
    double score;                /* share of the total change (excess) its leaves carry, 0..1 */
    double real;                 /* measure now, summed over the element's leaves */
    double expected;             /* forecast of the same */
};

/* Tuning knobs; rca_opts_default() fills the defaults. */
struct rca_opts {
    int window;          /* history bins used by the forecast (most recent) */
    int max_causes;      /* cap on asserted elements, <= RCA_MAX_CAUSES */
    int top_k;           /* candidates returned, <= RCA_MAX_CANDS */
    double penalty;      /* evidence an element must add, per attribute it names */
    double min_share;    /* share of the total excess an asserted element must carry */
    double split_mass;   /* share of a parent's forecast the normal part must hold to drill down */
    double min_score;    /* an asserted element's score (share of the change) is at least this */
    int live_share;      /* 1: a further element's min_share counts against what the causes so far
                            leave unexplained, not the whole change (finds RiskLoc S's lone leaves
                            beside a big slice); always so for amounts; for counts with a small
                            audience it also asserts noise beside the cause, so off by default */
    int support_penalty; /* 1: in the set-level decision an element is charged for the layer a
                            typical element of its forecast mass would have (never more than
                            its own layer); off by default (docs/internals/rca.md, fourth pass) */
    int seed_values;     /* 1: the search also combines the values of the leaves that deviate
                            beyond noise, not only the values with the most contrast (finds a
                            cause of 3 attributes whose values a drift hides); off by
                            default: for counts it lets thin elements win and costs runtime;
                            amounts always seed 6 values, combined among themselves
                            (docs/internals/rca.md, fifth and seventh passes) */
    int drill_first;     /* 1: when nothing is asserted, the deviating children of the first
                            candidates are tried as the set, at the price of a refinement (a
                            parent deviating mildly because one child deviates strongly); on by
                            default (docs/internals/rca.md, sixth pass) */
    int rename;          /* 1: counts only: an asserted element is replaced by another name of
                            its largest leaf among the 30 best first-round candidates when the
                            counts' likelihood favours it by 2 nats and the objective does not
                            fall; on by default (docs/internals/rca.md, eighth pass) */
    int leaf_disjoint;   /* 1: two asserted elements clash only when the data hold a leaf of
                            both, not whenever their names may overlap (device=d2&isp=i0 beside
                            cdn=c0&os=o1); one so admitted carries 10% of the change; off by
                            default (docs/internals/rca.md, ninth pass) */
    int entry_ll;        /* 1: counts only: after the additions by the weighted gain, further
                            additions from the pool judged by the counts' likelihood (that of
                            rename) at the same penalties; on by default
                            (docs/internals/rca.md, tenth pass) */
    int rel_values;      /* 1: counts only (without seed_values): the search also combines, among
                            themselves, up to 6 values that deviate against the rest of the
                            leaves but not against their own forecast (a parent moving with a
                            drift, less so because one child moves the other way); on by
                            default (docs/internals/rca.md, eleventh pass) */
    int rename_merge;    /* 1: with rename: a name that may not stand beside another asserted
                            element replaces it too, when the likelihood favours it by 2 nats
                            or the objective in its units rises by more than the penalty; on
                            by default (docs/internals/rca.md, eleventh pass) */
    int split_kids;      /* 1: counts only: an asserted element is replaced by its deviating
                            children along one attribute when the counts' likelihood objective
                            rises and its other children are normal by that likelihood; on by
                            default (docs/internals/rca.md, twelfth pass) */
    int dir_pool;        /* 1: counts only: the first-round candidates of the direction not
                            chosen (step 5) are a pool for the set too, each element with its
                            own sign, added when the counts' likelihood pays for it
                            (docs/internals/rca.md, thirteenth pass) */
    int pool_rel;        /* 1: with dir_pool: that pool is formed without the rule that an
                            element deviates from its own forecast (a slice moving only against
                            the rest), and one added beside a non-empty set carries 10% of the
                            change in its direction and deviates from its own forecast as step 2
                            asks; every element of it expects 5 counts, and one taken is
                            replaced by its deviating children when the likelihood pays for
                            them at the price of a refinement; on by default
                            (docs/internals/rca.md, thirteenth to fifteenth passes) */
};

/* What rca_run found. Plain values; nothing to free. */
struct rca_result {
    int64_t at;                             /* the anomalous time bin */
    int n_causes;                           /* 0 when no element explains the change */
    struct rca_elem causes[RCA_MAX_CAUSES]; /* the asserted root-cause set */
    int n_cands;                            /* candidates, best first */
    struct rca_elem cands[RCA_MAX_CANDS];   /* ranked candidate list */
    double real;                            /* total measure now (ratio: value/total) */
    double expected;                        /* its forecast */
    const char *note;                       /* static text: why causes is empty, or NULL */
};

/* Creates an empty data set with n_attrs attributes named names[] (copied) and an additive
 * (ratio == 0) or ratio (value/total) measure. Returns NULL if n_attrs is out of range.
 * Free with rca_data_destroy. */
struct rca_data *rca_data_new(int n_attrs, const char *const *names, int ratio);
/* Frees d; NULL is a no-op. */
void rca_data_destroy(struct rca_data *d);
/* Adds one row: the leaf named by vals[n_attrs] (strings copied) has value (and total, for a
 * ratio measure; ignored otherwise) in time bin ts. Rows of the same leaf and bin add up.
 * Returns 0, or OC_ETOOBIG past RCA_MAX_ROWS rows or RCA_MAX_LEAVES leaves. */
int rca_data_add(struct rca_data *d, int64_t ts, const char *const *vals, double value,
                 double total);
/* Accessors; the strings belong to d. */
int rca_data_attrs(const struct rca_data *d);
int rca_data_is_ratio(const struct rca_data *d);
size_t rca_data_leaves(const struct rca_data *d);
size_t rca_data_rows(const struct rca_data *d);
const char *rca_data_attr_name(const struct rca_data *d, int attr);
const char *rca_data_value(const struct rca_data *d, int attr, uint32_t val);
/* The latest ts in d, or 0 when empty. */
int64_t rca_data_last_ts(const struct rca_data *d);

/* Fills o with the defaults. */
void rca_opts_default(struct rca_opts *o);
/* Localizes the change at time bin `at` against a forecast from the earlier bins. o may be
 * NULL (defaults). Returns 0, or OC_EINVAL when d has no row at `at` or no history. */
int rca_run(const struct rca_data *d, int64_t at, const struct rca_opts *o,
            struct rca_result *out /* OUT */);
/* Appends e as "attr=v&attr2=w" (pairs sorted by attribute name then value) to b. */
void rca_elem_format(const struct rca_data *d, const struct rca_elem *e, struct oc_buf *b);
/* Appends the contract JSON {"at","causes","candidates","runtime_ms"} to b. */
void rca_result_json(const struct rca_data *d, const struct rca_result *r, double runtime_ms,
                     struct oc_buf *b);
/* The same object as a new JSON value the caller owns. */
json_t *rca_result_to_json(const struct rca_data *d, const struct rca_result *r, double runtime_ms);
/* Appends a human-readable report to b. */
void rca_result_text(const struct rca_data *d, const struct rca_result *r, double runtime_ms,
                     struct oc_buf *b);

/* Reads a CSV in the "Root-cause input" format (docs/contracts.md) from path (name is used in
 * messages). On error returns OC_EINVAL/OC_ETOOBIG/OC_EIO and writes "FILE:LINE: message"
 * into err. On success *out is a new data set the caller destroys. */
int rca_csv_read(const char *path, struct rca_data **out /* OUT */, char *err, size_t errlen);
/* The same on a memory buffer (the fuzz target's entry point); name appears in messages. */
int rca_csv_parse(const char *name, const char *buf, size_t len, struct rca_data **out /* OUT */,
                  char *err, size_t errlen);

/* A recorded change: a deploy, config change or feature-flag flip. Strings are borrowed. */
struct rca_change {
    int64_t time;            /* when it took effect (unix seconds) */
    const char *service;     /* the service it changed */
    const char *kind;        /* "deploy", "rollback", "config", "flag", ... */
    const char *description; /* free text */
    const char *version;     /* version or flag value, may be NULL */
};

#define RCA_CHANGE_WINDOW_S (6 * 3600) /* changes this long before the onset are considered */

/* One ranked change. */
struct rca_change_score {
    size_t index;   /* into the caller's array */
    double score;   /* 0..1: time proximity x service match x kind */
    int64_t lead_s; /* seconds from the change to the onset (negative: stamped just after) */
};

/* A metric's series for rca_first_onset: n bins, ts ascending. Arrays are borrowed. */
struct rca_series {
    const char *name;  /* metric name, for the caller */
    const int64_t *ts; /* time bins */
    const double *v;   /* values */
    size_t n;          /* bins */
};

/* Ranks ch[0..n) against a move that began at onset on service (NULL or "": unknown): changes
 * of the RCA_CHANGE_WINDOW_S before the onset (or stamped up to a minute after it) are scored
 * and written to out (room for n), best first. Returns how many were written. */
size_t rca_changes_rank(const struct rca_change *ch, size_t n, int64_t onset, const char *service,
                        struct rca_change_score *out /* OUT */);
/* When did the series (ts ascending) start to move, given that bin `at` is anomalous: the first
 * bin of the run of bins ending at `at` that deviate the same way by more than 3 robust
 * standard deviations from the bins before the run. 0 with *onset set, or OC_ENOTFOUND when
 * `at` is not in the series, there is too little history or `at` has not moved. */
int rca_onset(const int64_t *ts, const double *v, size_t n, int64_t at, int64_t *onset /* OUT */);
/* The earliest onset over s[0..n) (the metric that moved first): 0 with *which and *onset
 * set, or OC_ENOTFOUND when no series moved at `at`. */
int rca_first_onset(const struct rca_series *s, size_t n, int64_t at, size_t *which /* OUT */,
                    int64_t *onset /* OUT */);

struct store;
struct oc_app;
struct oc_module;

#define RCA_MAX_CHANGES 1000 /* changes returned by one list or ranking */

/* Records change c (time, service and kind required) by actor; *id gets its id (may be NULL).
 * 0 or OC_EDB. */
int rca_change_add(struct store *s, const struct rca_change *c, const char *actor, int64_t now_ms,
                   int64_t *id /* OUT */);
/* The changes with since <= time <= until, of service (NULL: all), newest first, at most limit:
 * a JSON array of {id, time, service, kind, description, version, actor} the caller owns, or
 * NULL on a store error. */
json_t *rca_changes_list(struct store *s, int64_t since, int64_t until, const char *service,
                         int limit);
/* The changes of the 6 hours before onset ranked by rca_changes_rank against service: the list
 * objects plus "score" and "lead_s", best first; the caller owns it. NULL on a store error. */
json_t *rca_changes_ranked(struct store *s, int64_t onset, const char *service);

struct qoe_cube;

/* Localizes an incident on the QoE cube c: p is the "incident.opened" payload (incident_id, at,
 * title starting with the metric name). Reads the closed minutes up to `at`, runs rca_run on
 * the metric's value/total per leaf and ranks the changes of app's store against the onset of
 * the aggregate for the affected service (rca_affected_service). app may be NULL (no changes,
 * no catalog). Returns the "rca.localized" payload {incident_id, at, metric, causes,
 * candidates, runtime_ms, note, onset, changes} (caller owns it), or NULL when c is NULL or has
 * no closed minute near `at`. */
json_t *rca_localize_cube(struct qoe_cube *c, const struct oc_app *app, const json_t *p);
/* The service an incident affects, for the change ranking: the "service" of the incident's
 * slice (opened: the "incident.opened" payload) when it names one, else the catalog service
 * (app's running catalog module) serving the first of causes' elements that one serves, else
 * the one serving the incident's slice. Copied into buf (n bytes); NULL when none (every
 * change then gets the "unknown service" factor). */
const char *rca_affected_service(const struct oc_app *app, const json_t *opened,
                                 const json_t *causes, int64_t at, char *buf, size_t n);

/* The `rca` module of `oncue serve`: POST/GET /v1/changes, GET /v1/changes/rank. */
extern const struct oc_module rca_module;

/* `oncue rca`, `oncue rca gen`, `oncue rca eval`; argv[0] is "rca". Returns the exit status. */
int rca_cli_main(int argc, char **argv);
/* `oncue rca gen` and `oncue rca eval` (argv[0] is "gen"/"eval"); exit status. */
int rca_gen_main(int argc, char **argv);
int rca_eval_main(int argc, char **argv);
/* The options of `oncue rca`, `rca gen` and `rca eval` (indices RCA_CLI_GEN, RCA_CLI_EVAL),
 * ending in {0}. */
extern const struct oc_cli rca_cli[];
#define RCA_CLI_GEN  1
#define RCA_CLI_EVAL 2

#endif
