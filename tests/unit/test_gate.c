/*
 * test_gate.c - the release gate's pure parts: the one-sided two-proportion z-test, slices,
 * the request body and its errors (each naming the field, with did-you-mean), and the canary
 * comparison over a cube built from beacons: a failing build named with its significance, a
 * healthy one passing, too few starts answered as insufficient.
 */
#include "t.h"

#include "core/clock.h"
#include "core/err.h"
#include "gate/gate_int.h"
#include "ingest/ingest.h"
#include "qoe/cube.h"

#include <jansson.h>

#define T0 1772479800LL /* 2026-03-02 19:30 UTC */

static void test_ztest(void)
{
    struct gate_test t;
    gate_ztest(30, 100, 10, 100, &t);
    T_EQ_DBL(t.p1, 0.3, 1e-12);
    T_EQ_DBL(t.p2, 0.1, 1e-12);
    T_EQ_DBL(t.lift, 2.0, 1e-12);
    T_EQ_DBL(t.z, 3.5355339059327373, 1e-9);
    T_EQ_DBL(t.p_value, 0.00020347600872247995, 1e-12);
    gate_ztest(10, 100, 30, 100, &t); /* better, not worse: one-sided */
    T_EQ_DBL(t.z, -3.5355339059327373, 1e-9);
    T_EQ_DBL(t.p_value, 1 - 0.00020347600872247995, 1e-12);
    gate_ztest(5, 100, 5, 100, &t); /* the same share */
    T_EQ_DBL(t.z, 0, 1e-12);
    T_EQ_DBL(t.p_value, 0.5, 1e-12);
    gate_ztest(0, 100, 0, 100, &t); /* nothing bad on either side: no test */
    T_EQ_DBL(t.p_value, 1, 0);
    T_EQ_DBL(t.lift, 0, 0);
    gate_ztest(3, 100, 0, 100, &t); /* worse than a perfect baseline */
    T_TRUE(isinf(t.lift));
    gate_ztest(0, 0, 5, 100, &t); /* no canary trials */
    T_TRUE(isnan(t.p1));
    T_TRUE(isnan(t.lift));
    T_EQ_DBL(t.p_value, 1, 0);
}

static void test_slices(void)
{
    struct gate_slice s;
    char err[200] = "", text[GATE_SLICE_TEXT];
    T_EQ_INT(gate_slice_parse("player=exoplayer&player_version:2.19.0", &s, err, sizeof err), 0);
    T_EQ_INT(s.n, 2);
    T_EQ_INT(s.t[0].dim, BEACON_PLAYER);
    T_EQ_STR(s.t[1].value, "2.19.0");
    gate_slice_format(&s, text, sizeof text);
    T_EQ_STR(text, "player=exoplayer,player_version=2.19.0");
    static const struct {
        const char *in, *err;
    } bad[] = {
        {"", "an empty slice (dim=value,dim=value)"},
        {"plyer=x", "unknown dimension 'plyer'; did you mean player?"},
        {"device", "'device' is not dim=value"},
        {"device=", "device: a value of 1 to 128 bytes"},
        {"=tv", "unknown dimension ''"},
        {"device=tv,,cdn=x", "'' is not dim=value"},
        {"a=1,a=2,a=3,a=4,a=5,a=6,a=7,a=8", "unknown dimension 'a'"},
        {"cdn=1,cdn=2,cdn=3,cdn=4,cdn=5,cdn=6,cdn=7,cdn=8,cdn=9", "at most 8 terms"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        T_EQ_INT(gate_slice_parse(bad[i].in, &s, err, sizeof err), OC_EINVAL);
        T_EQ_STR(err, bad[i].err);
    }
}

/* gate_request_parse of text: its code; the detail in err. */
static int req(const char *text, struct gate_request *r, char *err, size_t n)
{
    json_t *b = json_loads(text, JSON_ALLOW_NUL, NULL);
    T_TRUE(b != NULL);
    err[0] = 0;
    int rc = gate_request_parse(b, r, err, n);
    json_decref(b);
    return rc;
}

static void test_request(void)
{
    struct gate_request r;
    char err[400];
    T_EQ_INT(req("{\"canary\": \"player_version=2.19.0\", \"baseline\": \"player_version=2.19.1\","
                 " \"window_s\": 180, \"alpha\": 0.001, \"min_sample\": 50, \"min_lift\": 0,"
                 " \"metrics\": [\"vsf_rate\"], \"version\": \"2.19.0\", \"dry_run\": true,"
                 " \"on_fail\": {\"kind\": \"rollback\"}}",
                 &r, err, sizeof err),
             0);
    T_EQ_INT(r.has_canary, 1);
    T_EQ_STR(r.baseline.t[0].value, "2.19.1");
    T_EQ_INT(r.window_s, 180);
    T_EQ_DBL(r.alpha, 0.001, 0);
    T_EQ_INT(r.min_sample, 50);
    T_EQ_DBL(r.min_lift, 0, 0);
    T_EQ_INT(r.metrics, 1u << QOE_VSF_RATE);
    T_EQ_STR(r.version, "2.19.0");
    T_EQ_INT(r.dry_run, 1);
    T_EQ_STR(json_string_value(json_object_get(r.on_fail, "kind")), "rollback");
    gate_request_free(&r);
    T_EQ_INT(req("{}", &r, err, sizeof err), 0); /* every default */
    T_EQ_INT(r.has_canary, 0);
    T_EQ_INT(r.window_s, 0);
    T_EQ_DBL(r.min_lift, -1, 0);
    T_TRUE(r.on_fail == NULL);
    static const struct {
        const char *in, *err;
    } bad[] = {
        {"[]", "body: a JSON object"},
        {"{\"canery\": 1}", "canery: unknown field; did you mean canary?"},
        {"{\"canary\": \"device=tv\"}", "baseline: required with canary"},
        {"{\"baseline\": \"device=tv\"}", "canary: required with baseline"},
        {"{\"canary\": 3, \"baseline\": \"device=tv\"}",
         "canary: a slice string such as \"player_version=7.2.0\""},
        {"{\"canary\": \"device=tv\", \"baseline\": \"devise=tv\"}",
         "baseline: unknown dimension 'devise'; did you mean device?"},
        {"{\"window_s\": 30}", "window_s: an integer from 60 to 86400"},
        {"{\"alpha\": 0.5}", "alpha: a number above 0 and below 0.5"},
        {"{\"min_sample\": 0}", "min_sample: an integer from 1 to 100000000"},
        {"{\"metrics\": []}", "metrics: an array of 1 to 8 metric names"},
        {"{\"metrics\": [\"vsf_rat\"]}",
         "metrics[0]: 'vsf_rat' is not a canary metric; did you mean vsf_rate? (vsf_rate, "
         "ebvs_rate, rebuffering_share)"},
        {"{\"metrics\": [\"plays\"]}",
         "metrics[0]: 'plays' is not a canary metric (vsf_rate, ebvs_rate, rebuffering_share)"},
        {"{\"on_fail\": {\"kind\": \"shift-cdn\"}}",
         "on_fail.kind: 'shift-cdn' is not rollback or flag"},
        {"{\"on_fail\": \"rollback\"}", "on_fail: a mitigation object {kind: rollback|flag, ...}"},
        {"{\"dry_run\": 1}", "dry_run: true or false"},
        {"{\"version\": \"a\\u0000b\"}", "version: a string with a NUL character"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        T_EQ_INT(req(bad[i].in, &r, err, sizeof err), OC_EINVAL);
        T_EQ_STR(err, bad[i].err);
    }
}

/* Posts, in the minute starting at t, n starts of player_version v of which fails failed. */
static void starts(struct qoe_cube *c, struct ingest_batch *b, int64_t t, const char *v, int n,
                   int fails)
{
    static char body[1 << 20];
    char err[200];
    size_t off = 0;
    for (int s = 0; s < n; s++)
        off += (size_t)snprintf(body + off, sizeof body - off,
                                "{\"ts\":%lld,\"type\":\"start\",\"session\":\"%s-%lld-%d\","
                                "\"player_version\":\"%s\",\"outcome\":\"%s\"%s}\n",
                                (long long)(t * 1000 + 1000 + s), v, (long long)t, s, v,
                                s < fails ? "failure" : "success",
                                s < fails ? ",\"error_code\":\"X\"" : ",\"startup_ms\":900");
    T_EQ_INT(ingest_parse(b, body, off, err, sizeof err), 0);
    T_EQ_INT(ingest_fold(c, b, NULL), b->nitems);
}

static void test_canary_cube(void)
{
    struct oc_clock clk;
    struct qoe_cube_opts o;
    struct ingest_batch b;
    struct gate_slice canary, good, base;
    char err[200], why[600];
    json_t *out = NULL;
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, T0 * 1000);
    qoe_cube_opts_default(&o);
    o.allowed_lateness_s = 0;
    struct qoe_cube *c = qoe_cube_new(&o, &clk);
    ingest_batch_init(&b, 100000);
    for (int m = 0; m < 3; m++) { /* 3 minutes: 120 starts a minute of each build */
        oc_clock_set_ms(&clk, (T0 + 60 * m) * 1000 + 30000);
        starts(c, &b, T0 + 60 * m, "2.19.0", 120, 12); /* 10% fail */
        starts(c, &b, T0 + 60 * m, "2.18.7", 120, 1);
        starts(c, &b, T0 + 60 * m, "2.19.1", 400, 4); /* 1% fail */
    }
    oc_clock_set_ms(&clk, (T0 + 180) * 1000 + 1);
    qoe_cube_tick(c);
    T_EQ_INT(gate_slice_parse("player_version=2.19.0", &canary, err, sizeof err), 0);
    T_EQ_INT(gate_slice_parse("player_version=2.18.7", &good, err, sizeof err), 0);
    T_EQ_INT(gate_slice_parse("player_version=2.19.1", &base, err, sizeof err), 0);
    struct gate_canary_in in = {&canary, &base, T0, T0 + 180, 1u << QOE_VSF_RATE, 0.01, 200, 0.2};

    T_EQ_INT(gate_canary_run(c, &in, &out, why, sizeof why, err, sizeof err), 1);
    T_EQ_STR(why,
             "vsf_rate 10.00% on the canary vs 1.00% on the baseline (z=8.67, p<1e-12 < 0.01)");
    const json_t *m = json_array_get(json_object_get(out, "metrics"), 0);
    T_EQ_STR(json_string_value(json_object_get(out, "verdict")), "fail");
    T_EQ_STR(json_string_value(json_object_get(out, "canary")), "player_version=2.19.0");
    T_EQ_DBL(json_number_value(json_object_get(json_object_get(m, "canary"), "trials")), 360, 0);
    T_EQ_DBL(json_number_value(json_object_get(json_object_get(m, "canary"), "bad")), 36, 0);
    T_EQ_DBL(json_number_value(json_object_get(json_object_get(m, "baseline"), "trials")), 1200, 0);
    json_decref(out);

    in.canary = &good; /* 3 of 360 against 12 of 1200: not worse */
    T_EQ_INT(gate_canary_run(c, &in, &out, why, sizeof why, err, sizeof err), 0);
    T_EQ_STR(why, "");
    T_EQ_STR(json_string_value(json_object_get(out, "verdict")), "pass");
    json_decref(out);

    in.canary = &canary;
    in.min_sample = 1000; /* 360 starts of the canary are too few */
    T_EQ_INT(gate_canary_run(c, &in, &out, why, sizeof why, err, sizeof err), 2);
    T_EQ_STR(why, "not enough data: fewer than 1000 trials per slice on every metric");
    m = json_array_get(json_object_get(out, "metrics"), 0);
    T_EQ_STR(json_string_value(json_object_get(m, "verdict")), "insufficient");
    json_decref(out);

    in.min_sample = 200;
    in.metrics = GATE_METRICS_ALL; /* alpha split three ways; no heartbeats: one insufficient */
    T_EQ_INT(gate_canary_run(c, &in, &out, why, sizeof why, err, sizeof err), 1);
    T_EQ_DBL(json_number_value(json_object_get(out, "alpha_per_metric")), 0.01 / 3, 1e-15);
    m = json_array_get(json_object_get(out, "metrics"), 2);
    T_EQ_STR(json_string_value(json_object_get(m, "metric")), "rebuffering_share");
    T_EQ_STR(json_string_value(json_object_get(m, "verdict")), "insufficient");
    json_decref(out);
    ingest_batch_free(&b);
    qoe_cube_destroy(c);
}

static const struct t_case cases[] = {
    T_CASE(test_ztest), T_CASE(test_slices), T_CASE(test_request), T_CASE(test_canary_cube), {0},
};

T_MAIN(cases)
