/*
 * promql.h - the PromQL subset of the Prometheus-compatible query API (prom.c): a selector
 * oncue_qoe_METRIC{dim="v", dim=~"a|b", dim!="x", dim!~"c.*"}, `sum by|without (dims) (...)`,
 * `topk(N, ...)` and constant arithmetic (Grafana's "1+1" health check). Parsed by hand into a
 * fixed-size struct: no allocation, input capped at PROMQL_MAX_LEN. Anything else is refused
 * with "unsupported: CONSTRUCT". See docs/internals/promql.md for the semantics over ratios.
 */
#ifndef OC_QOE_PROMQL_H
#define OC_QOE_PROMQL_H

#include <stddef.h>
#include <stdint.h>

#define PROMQL_MAX_LEN      4096         /* bytes of a query */
#define PROMQL_MAX_MATCHERS 32           /* label matchers of a selector */
#define PROMQL_MAX_TOPK     1000         /* largest N of topk (QOE_MAX_TOP) */
#define PROMQL_PREFIX       "oncue_qoe_" /* metric names: the prefix and a qoe_metrics name */

enum promql_op {
    PROMQL_EQ = 0, /* = */
    PROMQL_NE,     /* != */
    PROMQL_RE,     /* =~ (literals, '|', '.*', '.+', one outer group) */
    PROMQL_NRE,    /* !~ */
};

struct promql_matcher {
    int dim;           /* enum beacon_dim */
    enum promql_op op; /* how value applies */
    const char *value; /* unescaped, in the expression's pool */
};

enum promql_kind {
    PROMQL_SCALAR = 1, /* a constant expression: value */
    PROMQL_SELECTOR,   /* the metric over the matching population (one series) */
    PROMQL_SUM,        /* the metric computed over each group of group_mask */
};

/* A parsed query; strings live in pool. Fill with promql_parse, nothing to free. */
struct promql_expr {
    enum promql_kind kind;
    double value;  /* PROMQL_SCALAR */
    int metric;    /* enum qoe_metric */
    int nmatchers; /* of m */
    struct promql_matcher m[PROMQL_MAX_MATCHERS];
    unsigned group_mask; /* PROMQL_SUM: bit d set = grouped by dimension d */
    int topk;            /* 0: none, else N of topk(N, ...) */
    size_t used;         /* bytes of pool taken */
    char pool[PROMQL_MAX_LEN + 64];
};

/* Parses s into e. 0, or OC_EMALFORMED (a syntax error, or "unsupported: X" for PromQL this
 * subset does not take) / OC_EINVAL (an unknown metric or label, with the valid names) with a
 * sentence in err. e owns no memory. */
int promql_parse(const char *s, struct promql_expr *e /* OUT */, char *err, size_t errlen);

/* Whether value matches matcher m (a regex matches the whole value, as in Prometheus). */
int promql_match(const struct promql_matcher *m, const char *value);

/* Writes the Prometheus name of metric (enum qoe_metric) into out, n bytes. */
void promql_metric_name(int metric, char *out, size_t n);

/* `oncue promql check EXPR...`: parses each expression and says ok or why not; exit 0 when
 * all parse, 1 otherwise, 2 on usage. */
int promql_cli_main(int argc, char **argv);

#endif
