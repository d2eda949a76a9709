/*
 * test_qoe_answer.c - the GET /v1/qoe answer written a part at a time (src/qoe/answer.c): the
 * parts put together are byte for byte the answer built whole (qoe_result_json dumped), for
 * every size of part, every kind of value (counts, reals, nulls, infinities, odd strings) and the
 * edges (no series, no group, a series of one point); the buffer's cap is reported, not overrun.
 */
#include "t.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "qoe/qoe.h"
#include "qoe/qoe_int.h"

#include <math.h>
#include <stdint.h>

/* A result of nseries series of npoints points, the values a mix of reals, nulls and
 * integers-as-doubles (and infinities for a real metric), the group values of q's group_by (the
 * cube would own them: static). */
static struct qoe_result *make_result(const struct qoe_query *q, int nseries, int npoints)
{
    static const char *vals[] = {"cdn-a", "é \"quoted\" \\ \t", "", "x\u00ff\u4e2d"};
    int sum = qoe_metrics[q->metric].cls == QOE_CLASS_SUM; /* counts are never infinite */
    struct qoe_result *r = oc_calloc(1, sizeof *r);
    r->nseries = nseries;
    r->npoints = npoints;
    r->series = oc_calloc(nseries ? (size_t)nseries : 1, sizeof *r->series);
    for (int s = 0; s < nseries; s++) {
        for (int i = 0; i < q->ngroup; i++)
            r->series[s].values[i] = vals[(s + i) % 4];
        r->series[s].points = oc_calloc(npoints ? (size_t)npoints : 1, sizeof(double));
        for (int k = 0; k < npoints; k++)
            r->series[s].points[k] = k % 7 == 6 && !sum ? (k % 2 ? -INFINITY : INFINITY)
                                     : k % 5 == 3       ? NAN
                                     : k % 5 == 1       ? (double)(k * 1000 + s)
                                                        : 1.0 / (k + s + 3) * (k % 2 ? -1e-7 : 1e9);
        r->series[s].volume = nseries - s;
    }
    return r;
}

/* The answer built whole, as before (new line included); the caller frees it. */
static char *whole(const struct qoe_query *q, const struct qoe_result *r)
{
    struct oc_buf b;
    oc_buf_init(&b, (size_t)1 << 30);
    json_t *v = qoe_result_json(q, r);
    oc_json_dump(v, &b);
    oc_buf_puts(&b, "\n");
    json_decref(v);
    return oc_buf_steal(&b);
}

/* The answer in parts of at least upto bytes, put together; *parts counts them. */
static char *in_parts(const struct qoe_query *q, struct qoe_result *r, size_t upto, int *parts)
{
    struct oc_buf all, part;
    oc_buf_init(&all, (size_t)1 << 30);
    oc_buf_init(&part, (size_t)1 << 30);
    struct qoe_writer *w = qoe_writer_new(q, r);
    int done = 0;
    *parts = 0;
    while (!done) {
        oc_buf_reset(&part);
        done = qoe_writer_next(w, &part, upto);
        T_TRUE(done >= 0);
        if (done < 0)
            break;
        (*parts)++;
        oc_buf_append(&all, part.data ? part.data : "", part.len);
    }
    qoe_writer_destroy(w);
    oc_buf_free(&part);
    return oc_buf_steal(&all);
}

static struct qoe_query query(enum qoe_metric m, int ngroup)
{
    struct qoe_query q;
    memset(&q, 0, sizeof q);
    q.metric = m;
    q.from = 1772479800;
    q.step = 60;
    q.ngroup = ngroup;
    q.group_by[0] = BEACON_CDN;
    q.group_by[1] = BEACON_REGION;
    q.group_by[2] = BEACON_ISP;
    q.top = 10;
    return q;
}

/* The same bytes whatever the size of the parts, for a real metric and a count. */
static void test_parts_equal_whole(void)
{
    enum qoe_metric ms[] = {QOE_REBUFFER_RATIO, QOE_PLAYS};
    size_t uptos[] = {1, 7, 100, 4096, SIZE_MAX};
    for (size_t m = 0; m < 2; m++)
        for (size_t u = 0; u < sizeof uptos / sizeof uptos[0]; u++) {
            struct qoe_query q = query(ms[m], 3);
            q.to = q.from + 40 * 60;
            struct qoe_result *r = make_result(&q, 7, 40);
            char *want = whole(&q, r);
            int parts = 0;
            char *got = in_parts(&q, r, uptos[u], &parts);
            T_EQ_STR(got, want);
            T_TRUE(parts >= 1);
            if (uptos[u] == 1 && m == 1) /* a part a piece: the head, each series' head, each
                                            point (an infinite real is left out, as json_real
                                            leaves it out of the tree) */
                T_EQ_INT(parts, 1 + 7 * (1 + 40) + 1);
            if (uptos[u] == SIZE_MAX)
                T_EQ_INT(parts, 1);
            free(want);
            free(got);
        }
}

/* No series, no group_by, one point. */
static void test_edges(void)
{
    int shapes[][3] = {{0, 0, 5}, {0, 2, 0}, {1, 0, 1}, {3, 1, 1}, {2, 2, 0}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        struct qoe_query q = query(QOE_REBUFFER_RATIO, shapes[i][0]);
        q.to = q.from + 60 * (shapes[i][2] ? shapes[i][2] : 1);
        struct qoe_result *r = make_result(&q, shapes[i][1], shapes[i][2]);
        char *want = whole(&q, r);
        int parts = 0;
        char *got = in_parts(&q, r, 3, &parts);
        T_EQ_STR(got, want);
        free(want);
        free(got);
    }
    struct qoe_query q = query(QOE_PLAYS, 0);
    q.to = q.from + 60;
    struct qoe_result *r = make_result(&q, 0, 1);
    int parts = 0;
    char *got = in_parts(&q, r, SIZE_MAX, &parts);
    T_EQ_STR(got, "{\"metric\":\"plays\",\"from\":1772479800,\"to\":1772479860,\"step\":60,"
                  "\"series\":[]}\n");
    free(got);
}

/* A buffer capped below the answer: OC_ETOOBIG, never more than the cap. */
static void test_cap(void)
{
    struct qoe_query q = query(QOE_REBUFFER_RATIO, 1);
    q.to = q.from + 100 * 60;
    struct qoe_result *r = make_result(&q, 5, 100);
    struct qoe_writer *w = qoe_writer_new(&q, r);
    struct oc_buf b;
    oc_buf_init(&b, 1000);
    T_EQ_INT(qoe_writer_next(w, &b, SIZE_MAX), OC_ETOOBIG);
    T_TRUE(b.len <= 1000);
    oc_buf_free(&b);
    qoe_writer_destroy(w);
    qoe_writer_destroy(NULL);
}

/* clang-format off */
static const struct t_case cases[] = {
    T_CASE(test_parts_equal_whole),
    T_CASE(test_edges),
    T_CASE(test_cap),
    {0},
};
/* clang-format on */

T_MAIN(cases)
