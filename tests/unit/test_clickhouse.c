/*
 * test_clickhouse.c - the reader of ClickHouse's answers (qoe/clickhouse.c,
 * qoe_ch_answer_cube): hand-made RowBinary answers become closed minutes the query engine
 * answers from, with the values the formulas give; answers that are not what was asked are
 * refused. The shipping and the SELECT against a real server are tested in
 * tests/integration/test_clickhouse_collectors.sh.
 */
#include "t.h"
#include "core/buf.h"
#include "core/err.h"
#include "qoe/qoe.h"
#include "qoe/qoe_int.h"

#define T0 1772479800

static void put(struct oc_buf *b, uint64_t v, int bytes)
{
    oc_buf_append(b, &v, (size_t)bytes);
}

static void put_str(struct oc_buf *b, const char *s)
{
    put(b, strlen(s), 1); /* a varint below 128 */
    oc_buf_append(b, s, strlen(s));
}

/* One answered row: minute t, the region (NULL: not kept), the sums, one sketch bucket; the
 * error events are as many as the rebuffering sessions. */
static void row(struct oc_buf *b, int64_t t, const char *region, uint64_t starts, uint64_t fails,
                uint64_t hb, uint64_t rb, int edge, int bucket, uint64_t count)
{
    double bitrate = 3000.0 * 60000;
    put(b, (uint64_t)t, 4);
    if (region)
        put_str(b, region);
    put(b, starts, 8), put(b, fails, 8), put(b, 0, 8), put(b, hb, 8), put(b, rb, 8);
    put(b, 60000, 8), put(b, 1000, 8);
    oc_buf_append(b, &bitrate, 8);
    put(b, (uint64_t)edge, 1);
    put(b, edge ? 10 : 0, 8), put(b, edge ? 1 : 0, 8), put(b, 0, 8), put(b, 0, 8);
    put(b, edge ? 10 : 0, 8), put(b, edge ? 500 : 0, 8);
    put(b, rb, 8);
    put(b, count ? 1 : 0, 1);
    if (count)
        put(b, (uint64_t)bucket, 2);
    put(b, count ? 1 : 0, 1);
    if (count)
        put(b, count, 8);
}

static double run(struct qoe_cube *c, struct qoe_query *q, enum qoe_metric m, int series, int k)
{
    struct qoe_result *r = NULL;
    char err[256];
    q->metric = m;
    if (qoe_query_run(c, q, &r, err, sizeof err) != 0)
        return -1;
    double v = series < r->nseries ? qoe_point(r, series, k) : -2;
    qoe_result_destroy(r);
    return v;
}

static void test_answer_to_minutes(void)
{
    struct oc_buf b;
    struct qoe_cube_opts o;
    struct qoe_query q = {.from = T0, .to = T0 + 180, .step = 60, .top = 10};
    char err[256];
    qoe_cube_opts_default(&o);
    oc_buf_init(&b, 1 << 20);
    q.group_by[q.ngroup++] = BEACON_REGION;
    /* minute 0: EMEA 10 starts (2 failed), NA 5; minute 2: EMEA only, with edge requests */
    row(&b, T0, "EMEA", 10, 2, 4, 1, 0, qoe_sketch_bucket(800), 8);
    row(&b, T0, "NA", 5, 0, 2, 0, 0, qoe_sketch_bucket(400), 5);
    row(&b, T0 + 120, "EMEA", 3000000, 0, 6, 3, 1, qoe_sketch_bucket(800), 3000000);
    struct qoe_cube *c = qoe_ch_answer_cube(b.data, b.len, &q, &o, err, sizeof err);
    T_TRUE(c != NULL);
    if (!c)
        return;
    /* series by volume (starts over the range): EMEA first, NA 5 */
    T_EQ_DBL(run(c, &q, QOE_PLAYS, 0, 0), 10, 0);
    T_EQ_DBL(run(c, &q, QOE_PLAYS, 0, 2), 3000000, 0);
    T_EQ_DBL(run(c, &q, QOE_PLAYS, 1, 0), 5, 0);
    T_TRUE(isnan(run(c, &q, QOE_PLAYS, 0, 1))); /* no row in minute 1 */
    T_EQ_DBL(run(c, &q, QOE_VSF_RATE, 0, 0), 0.2, 1e-12);
    T_EQ_DBL(run(c, &q, QOE_VSF_RATE, 0, 2), 0, 0);
    T_EQ_DBL(run(c, &q, QOE_REBUFFERING_SHARE, 0, 2), 0.5, 1e-12);
    T_EQ_DBL(run(c, &q, QOE_CONCURRENT, 0, 2), 6, 0);
    T_EQ_DBL(run(c, &q, QOE_VPF_RATE, 0, 0), 0.25, 1e-12); /* 1 error over 4 viewers */
    T_EQ_DBL(run(c, &q, QOE_VPF_RATE, 1, 0), 0, 0);
    T_EQ_DBL(run(c, &q, QOE_AVG_BITRATE, 1, 0), 3000, 1e-9);
    T_EQ_DBL(run(c, &q, QOE_STARTUP_P50, 1, 0), qoe_sketch_value(qoe_sketch_bucket(400)), 1e-9);
    /* 3,000,000 starts in one bucket: past a packed entry's count, split, still all there */
    T_EQ_DBL(run(c, &q, QOE_STARTUP_P95, 0, 2), qoe_sketch_value(qoe_sketch_bucket(800)), 1e-9);
    T_EQ_DBL(run(c, &q, QOE_EDGE_5XX_RATE, 0, 2), 0.1, 1e-12);
    T_TRUE(isnan(run(c, &q, QOE_EDGE_5XX_RATE, 1, 0))); /* a minute without edge columns */
    qoe_cube_destroy(c);

    /* the whole range as one step, no group: the sums of every row */
    struct qoe_query all = {.from = T0, .to = T0 + 180, .step = 180, .top = 10};
    oc_buf_free(&b);
    oc_buf_init(&b, 1 << 20);
    row(&b, T0, NULL, 10, 2, 4, 1, 0, qoe_sketch_bucket(800), 8);
    row(&b, T0 + 60, NULL, 5, 0, 2, 0, 0, 0, 0);
    c = qoe_ch_answer_cube(b.data, b.len, &all, &o, err, sizeof err);
    T_TRUE(c != NULL);
    if (c) {
        T_EQ_DBL(run(c, &all, QOE_PLAYS, 0, 0), 15, 0);
        T_EQ_DBL(run(c, &all, QOE_CONCURRENT, 0, 0), 3, 1e-12);
        qoe_cube_destroy(c);
    }
    oc_buf_free(&b);
}

static void test_answer_refused(void)
{
    struct oc_buf b;
    struct qoe_cube_opts o;
    struct qoe_query q = {.from = T0, .to = T0 + 180, .step = 60, .top = 10};
    char err[256];
    qoe_cube_opts_default(&o);
    struct {
        const char *why;
        int64_t t1, t2;
        size_t cut;
    } cases[] = {
        {"a minute outside the range", T0, T0 + 180, 0},
        {"a minute not on a minute", T0, T0 + 61, 0},
        {"a minute and group twice", T0, T0, 0},
        {"cut short", T0, T0 + 60, 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        oc_buf_init(&b, 1 << 20);
        row(&b, cases[i].t1, NULL, 1, 0, 1, 0, 0, 0, 0);
        row(&b, cases[i].t2, NULL, 1, 0, 1, 0, 0, 0, 0);
        err[0] = 0;
        struct qoe_cube *c =
            qoe_ch_answer_cube(b.data, b.len - cases[i].cut, &q, &o, err, sizeof err);
        if (c)
            fprintf(stderr, "taken: %s\n", cases[i].why);
        T_TRUE(c == NULL);
        T_CONTAINS(err, "not the minutes asked for");
        qoe_cube_destroy(c);
        oc_buf_free(&b);
    }
    /* more startup times than starts, or a sum past 32 bits: not an answer to trust */
    oc_buf_init(&b, 1 << 20);
    row(&b, T0, NULL, 4, 0, 1, 0, 0, 10, 5);
    T_TRUE(qoe_ch_answer_cube(b.data, b.len, &q, &o, err, sizeof err) == NULL);
    oc_buf_free(&b);
    oc_buf_init(&b, 1 << 20);
    row(&b, T0, NULL, (uint64_t)1 << 32, 0, 1, 0, 0, 10, 5);
    T_TRUE(qoe_ch_answer_cube(b.data, b.len, &q, &o, err, sizeof err) == NULL);
    oc_buf_free(&b);
    /* no start in any row: no sketch entries at all */
    oc_buf_init(&b, 1 << 20);
    row(&b, T0, NULL, 0, 0, 3, 1, 0, 0, 0);
    struct qoe_cube *nosk = qoe_ch_answer_cube(b.data, b.len, &q, &o, err, sizeof err);
    T_TRUE(nosk != NULL);
    if (nosk) {
        T_TRUE(isnan(run(nosk, &q, QOE_STARTUP_P50, 0, 0)));
        T_EQ_DBL(run(nosk, &q, QOE_REBUFFERING_SHARE, 0, 0), 1.0 / 3, 1e-12);
        qoe_cube_destroy(nosk);
    }
    oc_buf_free(&b);
    /* nothing answered: an empty cube, whose answer is the empty group with nulls */
    struct qoe_cube *c = qoe_ch_answer_cube("", 0, &q, &o, err, sizeof err);
    T_TRUE(c != NULL);
    if (c) {
        T_TRUE(isnan(run(c, &q, QOE_VSF_RATE, 0, 0)));
        qoe_cube_destroy(c);
    }
}

/* The settings' check names the setting and never echoes more of a URL than its scheme: the
 * rest may carry a user and password, and the message goes to the log. */
static void test_valid_hides_url(void)
{
    char err[256];
    T_EQ_INT(qoe_ch_valid("http://ch:8123", "qoe_minutes", "", err, sizeof err), 0);
    T_EQ_INT(qoe_ch_valid("clickhouse://admin:s3cret@ch:9000", "qoe_minutes", "", err, sizeof err),
             OC_EINVAL);
    T_EQ_STR(err, "qoe.clickhouse_url: an http:// or https:// URL, got scheme 'clickhouse'");
    T_EQ_INT(qoe_ch_valid("admin:s3cret@ch:8123", "qoe_minutes", "", err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "qoe.clickhouse_url: an http:// or https:// URL, got no scheme");
    T_EQ_INT(qoe_ch_valid("http://ch:8123", "qoe minutes", "", err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "qoe.clickhouse_table: letters, digits, '_' and '.', got 'qoe minutes'");
}

static const struct t_case cases[] = {
    T_CASE(test_valid_hides_url),
    T_CASE(test_answer_to_minutes),
    T_CASE(test_answer_refused),
    {0},
};

T_MAIN(cases)
