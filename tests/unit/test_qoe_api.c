/*
 * test_qoe_api.c - the QoE query as clients meet it: parameter parsing names the parameter,
 * the metric table, the one validator, the result's JSON, and POST /v1/events with
 * GET /v1/qoe through the real server and modules (on the generated events of t_qoe.h).
 */
#include "t_qoe.h"

#include "core/err.h"
#include "core/metrics.h"
#include "qoe/persist.h"

struct params {
    const char *kv[16];
};

static const char *pget(void *arg, const char *name)
{
    const struct params *p = arg;
    for (int i = 0; p->kv[i]; i += 2)
        if (strcmp(p->kv[i], name) == 0)
            return p->kv[i + 1];
    return NULL;
}

struct parse_case {
    struct params p;
    int status;
    const char *detail; /* starts with the parameter */
};

static const struct parse_case parse_cases[] = {
    {{{"from", "0", "to", "60", NULL}}, 400, "metric:"},
    {{{"metric", "nope", "from", "0", "to", "60", NULL}}, 422, "metric:"},
    {{{"metric", "plays", "to", "60", NULL}}, 400, "from:"},
    {{{"metric", "plays", "from", "x", "to", "60", NULL}}, 400, "from:"},
    {{{"metric", "plays", "from", "60", "to", "60", NULL}}, 422, "to:"},
    {{{"metric", "plays", "from", "0", "to", "600", "step", "90", NULL}}, 422, "step:"},
    {{{"metric", "plays", "from", "0", "to", "600", "step", "6o", NULL}}, 400, "step:"},
    {{{"metric", "plays", "from", "0", "to", "600", "filter", "cdn", NULL}}, 400, "filter:"},
    {{{"metric", "plays", "from", "0", "to", "600", "filter", "colour:red", NULL}}, 422, "filter:"},
    {{{"metric", "plays", "from", "0", "to", "600", "group_by", "cdn,cdn", NULL}},
     422,
     "group_by:"},
    {{{"metric", "plays", "from", "0", "to", "600", "top", "0", NULL}}, 422, "top:"},
    {{{"metric", "plays", "from", "-5", "to", "600", NULL}}, 422, "from:"},
    {{{"metric", "plays", "from", "0", "to", "9223372036854775807", NULL}}, 422, "to:"},
    {{{"metric", "plays", "from", "0", "to", "6000000", "step", "60", NULL}}, 422, "step:"},
    {{{"metric", "plays", "from", "0", "to", "1772480400000", NULL}},
     422,
     "to: '1772480400000' looks like milliseconds"},
    {{{"metric", "plays", "from", "now-1x", "to", "now", NULL}}, 400, "from: 'now-1x': after now"},
    {{{"metric", "plays", "from", "yesterday", "to", "now", NULL}},
     400,
     "from: 'yesterday': give unix seconds"},
    {{{"metric", "rebufer_ratio", "from", "0", "to", "600", NULL}},
     422,
     "metric: unknown 'rebufer_ratio'; did you mean rebuffer_ratio? valid: "},
    {{{"metric", "rebuffer_ratio", "from", "0", "to", "600", "step", "120", "filter",
       "cdn:a,cdn:b,region:EU", "group_by", "pop,live", "top", "5", NULL}},
     0,
     NULL},
    {{{NULL}}, -1, NULL},
};

static void test_query_parse(void)
{
    struct qoe_query q;
    char scratch[256], err[1024];
    for (const struct parse_case *c = parse_cases; c->status >= 0; c++) {
        struct params p = c->p;
        int rc = qoe_query_parse(&q, pget, &p, 0, scratch, sizeof scratch, err, sizeof err);
        T_EQ_INT(rc ? http_status_for(rc) : 0, c->status); /* the one oc_err -> status map */
        if (c->detail)
            T_EQ_STR(strncmp(err, c->detail, strlen(c->detail)) == 0 ? c->detail : err, c->detail);
    }
    struct params ok = parse_cases[18].p;
    T_EQ_INT(qoe_query_parse(&q, pget, &ok, 0, scratch, sizeof scratch, err, sizeof err), 0);
    T_EQ_INT(q.metric, QOE_REBUFFER_RATIO);
    T_EQ_INT(q.step, 120);
    T_EQ_INT(q.nfilters, 3);
    T_EQ_STR(q.filters[1].value, "b");
    T_EQ_INT(q.filters[2].dim, BEACON_REGION);
    T_EQ_INT(q.ngroup, 2);
    T_EQ_INT(q.group_by[1], BEACON_LIVE);
    T_EQ_INT(q.top, 5);
    /* times as people write them: ISO 8601 and relative to the clock; steps as durations */
    struct params rel = {{"metric", "plays", "from", "now-2h", "to", "now", "step", "15m", NULL}};
    T_EQ_INT(qoe_query_parse(&q, pget, &rel, 1772480400, scratch, sizeof scratch, err, sizeof err),
             0);
    T_EQ_INT(q.from, 1772480400 - 7200);
    T_EQ_INT(q.to, 1772480400);
    T_EQ_INT(q.step, 900);
    struct params iso = {{"metric", "plays", "from", "2026-03-02T19:40:00Z", "to",
                          "2026-03-02T21:40:00.999+01:00", NULL}};
    T_EQ_INT(qoe_query_parse(&q, pget, &iso, 0, scratch, sizeof scratch, err, sizeof err), 0);
    T_EQ_INT(q.from, 1772480400);
    T_EQ_INT(q.to, 1772484000); /* the offset applied, the fraction dropped */
}

/* The metric table: indexed by its enum, names unique and found by name, ending in {0}; a
 * row's counts come from the right columns (rebuffer in seconds). */
static void test_metric_table(void)
{
    for (int m = 0; m < QOE_NMETRICS; m++) {
        T_EQ_INT(qoe_metrics[m].id, m);
        T_TRUE(qoe_metric_find(qoe_metrics[m].name) == &qoe_metrics[m]);
        T_EQ_INT(qoe_metric_parse(qoe_metrics[m].name), m);
        T_TRUE(qoe_metrics[m].cls != 0 && qoe_metrics[m].unit_per_count > 0);
    }
    T_TRUE(qoe_metrics[QOE_NMETRICS].name == NULL);
    T_TRUE(qoe_metric_find("vsf") == NULL && qoe_metric_find(NULL) == NULL);
    T_EQ_INT(qoe_metric_parse("rebuffering_share"), QOE_REBUFFERING_SHARE);
    struct qoe_minute *w = qoe_minute_new(T0, 1, 0);
    struct qoe_row row = {.leaf = 0,
                          .starts = 10,
                          .fails = 2,
                          .exits = 3,
                          .hb_sessions = 8,
                          .rb_sessions = 1,
                          .playing_ms = 9000,
                          .rebuffer_ms = 1000};
    qoe_minute_set(w, 0, &row);
    double num, den;
    qoe_metric_counts(&qoe_metrics[QOE_VSF_RATE], w, 0, &num, &den);
    T_EQ_DBL(num, 2, 0);
    T_EQ_DBL(den, 10, 0);
    qoe_metric_counts(&qoe_metrics[QOE_REBUFFER_RATIO], w, 0, &num, &den);
    T_EQ_DBL(num, 1, 0);
    T_EQ_DBL(den, 10, 0);
    qoe_metric_counts(&qoe_metrics[QOE_REBUFFERING_SHARE], w, 0, &num, &den);
    T_EQ_DBL(num, 1, 0);
    T_EQ_DBL(den, 8, 0);
    T_EQ_DBL(qoe_col_value(QOE_COL_OK, w, 0), 5, 0);
    qoe_minute_destroy(w);
}

/* The one validator: codes, the parameter named first, and the percentile cap. */
static void test_query_check(void)
{
    char err[200];
    struct qoe_query q = base_query();
    q.from = 0, q.to = 600, q.step = 60, q.top = 10;
    T_EQ_INT(qoe_query_check(&q, err, sizeof err), 0);
    q.step = 90;
    T_EQ_INT(qoe_query_check(&q, err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "step: a positive multiple of 60 seconds");
    q.step = 600; /* the whole range */
    T_EQ_INT(qoe_query_check(&q, err, sizeof err), 0);
    q.metric = QOE_STARTUP_P95, q.from = 0, q.to = 60 * 1000, q.step = 60, q.top = 9;
    T_EQ_INT(qoe_query_check(&q, err, sizeof err), 0); /* no group_by: one group, 1000 points */
    q.ngroup = 1, q.group_by[0] = BEACON_CDN;
    T_EQ_INT(qoe_query_check(&q, err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "step: percentiles allow at most 8192 groups x points (lower top or use a "
                  "larger step)");
    q.metric = QOE_PLAYS;
    T_EQ_INT(qoe_query_check(&q, err, sizeof err), 0);
    q.top = 0;
    T_EQ_INT(qoe_query_check(&q, err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "top: must be 1 to 1000");
    q.metric = (enum qoe_metric)QOE_NMETRICS;
    T_EQ_INT(qoe_query_check(&q, err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "metric: unknown");
}

static void test_result_json(void)
{
    struct oc_clock clk;
    struct qoe_cube *c = make_cube(&clk, OC_CLOCK_VIRTUAL);
    struct qoe_result *r = NULL;
    char err[100];
    generate();
    feed(c, &clk);
    struct qoe_query q = base_query();
    q.metric = QOE_PLAYS;
    q.from = T0 + 540, q.to = T0 + 660, q.step = 60;
    q.ngroup = 1, q.group_by[0] = BEACON_CDN;
    q.top = 1;
    T_EQ_INT(qoe_query_run(c, &q, &r, err, sizeof err), 0);
    json_t *j = qoe_result_json(&q, r);
    char *s = json_dumps(j, JSON_COMPACT);
    T_CONTAINS(s, "\"metric\":\"plays\"");
    T_CONTAINS(s, "\"step\":60");
    T_CONTAINS(s, "\"group\":{\"cdn\":\"cdn-");
    T_CONTAINS(s, ",[1700000640,null]]"); /* the minute after the data */
    qoe_result_destroy(r);
    /* a range of centuries costs no more than the minutes in memory */
    struct qoe_query all = base_query();
    all.metric = QOE_PLAYS;
    all.from = 0, all.to = QOE_MAX_TIME, all.step = QOE_MAX_TIME;
    int64_t t0 = oc_mono_ns();
    T_EQ_INT(qoe_query_run(c, &all, &r, err, sizeof err), 0);
    T_TRUE(oc_mono_ns() - t0 < 1000000000LL);
    struct qoe_query whole = base_query();
    whole.metric = QOE_PLAYS;
    T_EQ_DBL(qoe_point(r, 0, 0), expected(&whole, NULL, whole.from, whole.to), 0);
    free(s);
    json_decref(j);
    qoe_result_destroy(r);
    qoe_cube_destroy(c);
}

static void test_http_events_and_query(void)
{
    struct oc_clock clk;
    struct oc_app app = {.metrics = oc_metrics_new(), .clock = &clk};
    struct oc_buf b, hd;
    void *ist = NULL, *qst = NULL;
    char err[256] = "", path[256];
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, T0 * 1000 + 1000);
    struct http_server_opts o = {
        .listen = "127.0.0.1:0", .workers = 2, .max_body = 1 << 24, .arena_max = 1 << 26};
    struct http_server *srv = http_server_new(&o, &app);
    T_EQ_INT(ingest_module.init(&app, &ist), OC_ENOTFOUND); /* the cube is qoe's */
    T_EQ_INT(qoe_module.init(&app, &qst), 0);
    T_EQ_INT(ingest_module.init(&app, &ist), 0);
    T_EQ_INT(http_server_add_routes(srv, ingest_module.routes, ist), 0);
    T_EQ_INT(http_server_add_routes(srv, qoe_module.routes, qst), 0);
    struct http_hooks hooks = {.authenticate = any_token};
    http_server_set_hooks(srv, &hooks);
    T_EQ_INT(http_server_start(srv, err, sizeof err), 0);
    snprintf(base, sizeof base, "http://%s", http_server_addr(srv));
    oc_buf_init(&b, 1 << 20);
    oc_buf_init(&hd, 1 << 16);
    T_EQ_INT(
        call("POST", "/v1/events", "ing",
             "{\"ts\":1700000041000,\"type\":\"start\",\"session\":\"a\",\"outcome\":\"failure\","
             "\"cdn\":\"x\"}\n{\"ts\":1700000042000,\"type\":\"start\",\"session\":\"b\"}\n"
             "{\"ts\":1700000043000,\"type\":\"start\",\"session\":\"c\",\"outcome\":\"exit\","
             "\"cdn\":\"x\"}\n",
             &b, &hd),
        200);
    T_EQ_STR(b.data,
             "{\"accepted\":2,\"rejected\":1,\"errors\":[{\"index\":1,\"reason\":"
             "\"bad_outcome\",\"detail\":\"a start needs outcome success, failure or exit\"}]}\n");
    T_CONTAINS(hd.data, "Access-Control-Allow-Origin: *");
    T_EQ_INT(call("POST", "/v1/events", "ing", "not json", &b, &hd), 400);
    T_CONTAINS(b.data, "not JSON");
    T_CONTAINS(hd.data, "application/problem+json");
    T_EQ_INT(call("OPTIONS", "/v1/events", "ing", NULL, &b, &hd), 204);
    T_CONTAINS(hd.data, "Access-Control-Allow-Origin: *");
    qoe_cube_flush(qoe_cube_of(&app));
    snprintf(path, sizeof path, "/v1/qoe?metric=vsf_rate&from=%lld&to=%lld&group_by=cdn",
             (long long)T0, (long long)T0 + 60);
    T_EQ_INT(call("GET", path, "viewer", NULL, &b, NULL), 200);
    T_EQ_STR(b.data, "{\"metric\":\"vsf_rate\",\"from\":1700000040,\"to\":1700000100,\"step\":60,"
                     "\"series\":[{\"group\":{\"cdn\":\"x\"},\"points\":[[1700000040,0.5]]}]}\n");
    T_EQ_INT(call("GET", "/v1/qoe?metric=plays&from=1&to=x", "viewer", NULL, &b, NULL), 400);
    T_CONTAINS(b.data, "to: 'x': give unix seconds");
    T_EQ_INT(call("GET", "/v1/qoe?metric=nope&from=1&to=2", "viewer", NULL, &b, NULL), 422);
    T_EQ_INT(call("GET", "/v1/qoe/dimensions", "viewer", NULL, &b, NULL), 200);
    T_CONTAINS(b.data, "{\"name\":\"cdn\",\"distinct\":3,\"top\":[{\"value\":\"x\"");
    http_server_stop(srv, 1000);
    http_server_destroy(srv);
    ingest_module.stop(&app, ist);
    qoe_module.stop(&app, qst);
    T_TRUE(qoe_cube_of(&app) == NULL);
    oc_metrics_destroy(app.metrics);
    oc_buf_free(&b);
    oc_buf_free(&hd);
}

/* clang-format off */
static const struct t_case cases[] = {
    T_CASE(test_query_parse),
    T_CASE(test_metric_table),
    T_CASE(test_query_check),
    T_CASE(test_result_json),
    T_CASE(test_http_events_and_query),
    {0},
};
/* clang-format on */

T_MAIN(cases)
