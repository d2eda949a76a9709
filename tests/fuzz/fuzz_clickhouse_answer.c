/*
 * fuzz_clickhouse_answer.c - fuzzes the reader of ClickHouse's answers to GET /v1/qoe's
 * SELECT (qoe/clickhouse.c, qoe_ch_answer_cube): RowBinary rows of a minute, the values of
 * the dimensions the query keeps, the column sums and the merged startup sketch.
 *
 * The first byte picks the query (its group-by and filter, hence the columns expected); the
 * rest is the answer. Besides not crashing or leaking: an answer it takes runs through the
 * query engine for every metric, and its minutes lie in the range asked.
 */
#include "core/err.h"
#include "qoe/qoe.h"
#include "qoe/qoe_int.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qoe_query q;
    struct qoe_cube_opts o;
    char err[256];
    if (size < 1)
        return 0;
    memset(&q, 0, sizeof q);
    qoe_cube_opts_default(&o);
    q.from = 1772479800;
    q.to = q.from + 3600;
    q.step = 60;
    q.top = 5;
    if (data[0] & 1)
        q.group_by[q.ngroup++] = BEACON_REGION;
    if (data[0] & 2)
        q.group_by[q.ngroup++] = BEACON_CDN;
    if (data[0] & 4)
        q.filters[q.nfilters++] = (struct qoe_filter){BEACON_DEVICE, "tv"};
    struct qoe_cube *c =
        qoe_ch_answer_cube((const char *)data + 1, size - 1, &q, &o, err, sizeof err);
    if (!c)
        return 0;
    for (int m = 0; m < QOE_NMETRICS; m++) {
        struct qoe_result *r = NULL;
        q.metric = (enum qoe_metric)m;
        if (qoe_query_run(c, &q, &r, err, sizeof err) == 0) {
            if (r->npoints != 60)
                abort();
            qoe_result_destroy(r);
        }
    }
    qoe_cube_destroy(c);
    return 0;
}
