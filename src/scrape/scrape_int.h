/*
 * scrape_int.h - the scrape module's insides: targets and their rules as scrape.file gives
 * them, the series kept per target, and the scrape thread. Only src/scrape/ includes it.
 */
#ifndef OC_SCRAPE_SCRAPE_INT_H
#define OC_SCRAPE_SCRAPE_INT_H

#include "scrape/scrape.h"
#include "core/buf.h"
#include "core/netguard.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <regex.h>
#include <stdint.h>

#define SCRAPE_ID_MAX      64         /* bytes of a target, service or rule name */
#define SCRAPE_URL_MAX     2048       /* bytes of a URL */
#define SCRAPE_MAX_RULES   32         /* rules of one target */
#define SCRAPE_MAX_MATCH   8          /* label matchers of one rule */
#define SCRAPE_FILE_MAX    (1u << 20) /* bytes of scrape.file */
#define SCRAPE_MINUTES     60         /* minute history kept per series */
#define SCRAPE_GC_SCRAPES  10         /* a series absent this many scrapes is dropped */
#define SCRAPE_SERIES_PAGE 500        /* series GET /v1/scrape/series returns at most */

enum scrape_agg { AGG_SUM = 0, AGG_MAX, AGG_MIN, AGG_AVG };
enum scrape_op { OP_GT = 0, OP_GE, OP_LT, OP_LE };

/* One label matcher: equal to value, or (value starting with '~') matching the rest as an
 * anchored POSIX extended regular expression. */
struct scrape_match {
    char label[SCRAPE_NAME_MAX];
    char value[SCRAPE_LABEL_VALUE_MAX];
    int is_re;
    regex_t re;
};

/* A condition on the target's series that becomes scrape.failed once it holds for for_s. */
struct scrape_rule {
    char name[SCRAPE_ID_MAX];
    char metric[SCRAPE_NAME_MAX]; /* the series' name */
    int nmatch;
    struct scrape_match match[SCRAPE_MAX_MATCH];
    int rate;                  /* per-second increase between two scrapes (counters) */
    enum scrape_agg agg;       /* over the matching series */
    char per[SCRAPE_NAME_MAX]; /* "": none; else divided by this metric's (rated) sum */
    int per_nmatch;            /* ... over the series these match (all when none) */
    struct scrape_match per_match[SCRAPE_MAX_MATCH];
    enum scrape_op op;
    double threshold;
    int64_t for_ms, clear_for_ms;
    int page;          /* level page, else notify */
    char summary[200]; /* "" for the generated one */
};

/* What a target is, as scrape.file gives it. */
struct scrape_spec {
    char name[SCRAPE_ID_MAX];
    char service[SCRAPE_ID_MAX]; /* the catalog service it measures, "" when none */
    char url[SCRAPE_URL_MAX];
    int64_t interval_ms; /* 0: scrape.interval_s */
    int down_after;      /* 0: scrape.down_after */
    int down_page;       /* the target down pages (default), else notifies */
    int push;            /* push: otlp: no url; OTLP/HTTP posts for its service feed it */
    int nrules;
    struct scrape_rule *rules; /* nrules, allocated */
    char *doc;                 /* the item as compact JSON (to compare on reload) */
};

/* Reads a target from a JSON object; 0, or OC_EINVAL with "NAME: why" in err. */
int scrape_spec_from_json(const json_t *o, struct scrape_spec *out /* OUT */, char *err,
                          size_t errlen);
/* Frees what a spec holds (the compiled expressions, doc). */
void scrape_spec_free(struct scrape_spec *s);
/* The spec as JSON (new reference). */
json_t *scrape_spec_json(const struct scrape_spec *s);
/* 1 when a series' labels (name, value, ...) pass every matcher of m[0..n). */
int scrape_matches(const struct scrape_match *m, int n, int nl, char *const *labels);
/* "sum", ">", ... */
const char *scrape_op_name(enum scrape_op op);
const char *scrape_agg_name(enum scrape_agg a);

/* One series of a target. */
struct scrape_series {
    struct scrape_series *next; /* hash chain */
    uint32_t hash;
    char *key; /* name{label="value",...}, labels sorted by name */
    char *name;
    int nl;
    char **labels; /* name, value, ... (sorted by name) */
    enum scrape_type type;
    double v, prev_v;
    int64_t at_ms, prev_ms;
    uint64_t seen, prev_seen;       /* the target's scrape numbers that read it */
    int32_t minute[SCRAPE_MINUTES]; /* ring by minute % SCRAPE_MINUTES; 0: empty */
    double mv[SCRAPE_MINUTES];      /* the last value read in that minute */
};

/* A rule's state on its target. */
struct scrape_rstate {
    int active;
    int64_t since_ms; /* active since */
    int64_t hold_ms;  /* the condition has held since (0: not holding) */
    int64_t clear_ms; /* it has not held since (0: holding) */
    double value;     /* the last value (NaN: no series) */
    char detail[512];
};

/* One scraped target. Guarded by the module's mutex. */
struct scrape_target {
    struct scrape_spec spec;
    int deleted;       /* gone from scrape.file: freed once its scrape ends */
    int inflight;      /* a scrape is running */
    int64_t next_ms;   /* when the next scrape starts */
    uint64_t scrapes;  /* started */
    uint64_t ok;       /* successful scrapes (the series' seen numbers) */
    int up;            /* the last scrape succeeded */
    int have;          /* a scrape has ended */
    int fails;         /* failed scrapes in a row */
    int64_t last_ms;   /* when the last scrape ended */
    double duration_s; /* of the last scrape */
    size_t bytes;      /* of the last body */
    int samples;       /* read by the last scrape */
    int openmetrics;   /* the last body was OpenMetrics */
    uint64_t dropped;  /* samples refused past scrape.max_series */
    char error[600];   /* why the last scrape failed; "" */
    struct scrape_rstate down;
    struct scrape_rstate *rs; /* one per rule, allocated */
    struct scrape_series **buckets;
    uint32_t nbuckets; /* power of two */
    int nseries;
};

struct scrape_job;

/* The module's state. */
struct scrape_state {
    struct oc_app *app;
    struct scrape_opts o;
    struct oc_netguard guard;
    pthread_mutex_t mu; /* leaf: targets, their series, rule states */
    struct scrape_target **targets;
    int ntargets;
    size_t cap;
    struct scrape_job *jobs; /* scrapes in flight (poll.c), scrape thread only */
    CURLM *multi;
    pthread_t thread;
    int thread_started;
    volatile int stop;
    uint64_t requests, failures; /* under mu */
};

/* Starts and stops the scrape thread (poll.c). */
int scrape_engine_start(struct scrape_state *ss);
void scrape_engine_stop(struct scrape_state *ss);

/* Reads body (n bytes) into t's series at now_ms; 0 or an oc_err with "line N: why" in err.
 * Call under mu. */
int scrape_ingest(struct scrape_state *ss, struct scrape_target *t, const char *body, size_t n,
                  int openmetrics, int64_t now_ms, char *err, size_t errlen);
/* Evaluates t's rules after a scrape at now_ms; appends {topic, payload} events to out.
 * Call under mu. */
void scrape_eval(struct scrape_state *ss, struct scrape_target *t, int64_t now_ms, json_t *out);
/* A scrape failed: the down rule; appends events to out. Call under mu. */
void scrape_failed(struct scrape_state *ss, struct scrape_target *t, int64_t now_ms, json_t *out);
/* The target's service of an OTLP resourceMetrics item (its service.name), in out. */
const char *scrape_otlp_service(const json_t *rm, char *out, size_t n);
/* Appends the item's metrics to out as exposition text; *rejected counts the data points
 * left out, the last reason in why. Returns the data points read. */
int scrape_otlp_text(const json_t *rm, struct oc_buf *out, int *rejected, char *why, size_t n);
/* Publishes the transitions gathered in out (holding no lock), then drains the bus when
 * drain is set, and empties out. */
void scrape_publish(struct scrape_state *ss, json_t *out, int drain);
/* Frees t's series. */
void scrape_series_clear(struct scrape_target *t);
/* The target's state as JSON (new reference); call under mu. */
json_t *scrape_target_json(const struct scrape_target *t, int64_t now_ms);

#endif
