/*
 * scrape.h - scraped service metrics: a bounded reader of the Prometheus text exposition
 * format (0.0.4) and OpenMetrics 1.0 text, and the `scrape` module that fetches exporters
 * (origin, packager, DRM license server, anything) on an interval over one libcurl multi
 * handle, keeps the series it reads with bounded cardinality and a minute history, says
 * whether each target is up, and evaluates rules on the series: scrape.failed /
 * scrape.recovered, which the alert module turns into alerts for the target's catalog
 * service. See docs/internals/scrape.md.
 */
#ifndef OC_SCRAPE_SCRAPE_H
#define OC_SCRAPE_SCRAPE_H

#include "core/module.h"

#include <stddef.h>
#include <stdint.h>

#define SCRAPE_MAX_LABELS      32    /* labels of one sample */
#define SCRAPE_NAME_MAX        128   /* bytes of a metric or label name */
#define SCRAPE_LABEL_VALUE_MAX 512   /* bytes of a label value */
#define SCRAPE_LINE_MAX        65536 /* bytes of one line */

enum scrape_type {
    SCRAPE_UNTYPED = 0,
    SCRAPE_COUNTER,
    SCRAPE_GAUGE,
    SCRAPE_HISTOGRAM,
    SCRAPE_SUMMARY,
    SCRAPE_OTHER, /* OpenMetrics: gaugehistogram, stateset, info */
};

/* One sample as the reader hands it over; every pointer is valid only during the call. */
struct scrape_sample {
    const char *name;
    int nlabels;
    const char *label_name[SCRAPE_MAX_LABELS];  /* in the order written */
    const char *label_value[SCRAPE_MAX_LABELS]; /* unescaped */
    double value;
    int has_ts;
    int64_t ts_ms;
    enum scrape_type type; /* of its family, from # TYPE (untyped without one) */
    int line;
};

/* Called for each sample; a non-zero return stops the reading with that value. */
typedef int scrape_sample_fn(void *arg, const struct scrape_sample *s);

/* Reads n bytes of exposition text (Prometheus 0.0.4, or OpenMetrics when openmetrics is
 * set: "# EOF" ends it and must be there; timestamps are seconds). Exemplars are skipped.
 * 0, the callback's non-zero return, or OC_EINVAL / OC_ETOOBIG with "line N: why" in err. */
int scrape_expo_parse(const char *text, size_t n, int openmetrics, scrape_sample_fn *fn, void *arg,
                      char *err, size_t errlen);
/* "counter", "gauge", ... */
const char *scrape_type_name(enum scrape_type t);

/* The module (src/oncue/modules.c). */
extern const struct oc_module scrape_module;

/* Options of the scrape module (scrape.* settings). */
struct scrape_opts {
    const char *file;           /* YAML list of targets; "" for none */
    const char *outbound_allow; /* private ranges scrapes may reach */
    int64_t interval_s;         /* default scrape interval */
    int64_t timeout_ms;         /* per scrape */
    int64_t max_bytes;          /* of one exposition body */
    int64_t max_series;         /* series kept per target */
    int64_t max_targets;        /* targets at most */
    int64_t down_after;         /* failed scrapes in a row before a target is down */
};

#endif
