/*
 * fuzz_promql.c - fuzzes the PromQL-subset parser (qoe/promql.c) with raw query bytes, and
 * the matcher of what it accepts with fixed values.
 *
 * Besides not crashing: an accepted query has a known kind; a vector query names a metric of
 * the table, at most PROMQL_MAX_MATCHERS matchers on known dimensions whose values lie in
 * the expression's pool, a group mask within the dimensions, and topk 0 or 1 to
 * PROMQL_MAX_TOPK; a refused one says why.
 */
#include "core/err.h"
#include "qoe/promql.h"
#include "qoe/qoe.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct promql_expr e;

static const char *const values[] = {"", "EMEA", "a|b", "cdn-a", "x.y", "aaaaaaaaab", NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1400];
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    err[0] = 0;
    int rc = promql_parse(s, &e, err, sizeof err);
    if (rc != 0) {
        if ((rc != OC_EMALFORMED && rc != OC_EINVAL) || !err[0])
            abort();
        free(s);
        return 0;
    }
    if (e.kind != PROMQL_SCALAR && e.kind != PROMQL_SELECTOR && e.kind != PROMQL_SUM)
        abort();
    if (e.kind != PROMQL_SCALAR && (e.metric < 0 || e.metric >= QOE_NMETRICS))
        abort();
    if (e.nmatchers < 0 || e.nmatchers > PROMQL_MAX_MATCHERS || e.topk < 0 ||
        e.topk > PROMQL_MAX_TOPK || e.group_mask >> BEACON_NDIMS || e.used > sizeof e.pool)
        abort();
    for (int i = 0; i < e.nmatchers; i++) {
        const struct promql_matcher *m = &e.m[i];
        if (m->dim < 0 || m->dim >= BEACON_NDIMS || m->value < e.pool ||
            m->value >= e.pool + e.used || (int)m->op < 0 || m->op > PROMQL_NRE)
            abort();
        for (int v = 0; values[v]; v++)
            (void)promql_match(m, values[v]);
    }
    free(s);
    return 0;
}
