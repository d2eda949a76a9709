/*
 * test_promql.c - the PromQL subset (qoe/promql.h) and the Prometheus-compatible API
 * (qoe/prom.c): what each construct parses into, each error class with its message, the
 * restricted regexes, and the exact JSON envelopes of an in-process server fed known events
 * (matrix, vector, scalar, labels, errors 400 and 422).
 */
#include "ingest/ingest.h"
#include "t.h"

#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/metrics.h"
#include "http/http.h"
#include "qoe/promql.h"
#include "qoe/qoe.h"
#include "qoe/qoe_int.h"

#include <curl/curl.h>
#include <stdlib.h>

#define T0 1700000040LL /* a minute boundary, unix seconds */

static struct promql_expr e;
static char err[1400];

static int parse(const char *s)
{
    err[0] = 0;
    return promql_parse(s, &e, err, sizeof err);
}

static void test_selectors(void)
{
    T_EQ_INT(parse("oncue_qoe_rebuffering_share"), 0);
    T_EQ_INT(e.kind, PROMQL_SELECTOR);
    T_EQ_INT(e.metric, QOE_REBUFFERING_SHARE);
    T_EQ_INT(e.nmatchers, 0);
    T_EQ_INT(parse(" oncue_qoe_vsf_rate{region=\"EMEA\", cdn=~'a|b', isp!=\"x\",pop!~\"F.*\",} "),
             0);
    T_EQ_INT(e.nmatchers, 4);
    T_EQ_INT(e.m[0].dim, BEACON_REGION);
    T_EQ_INT(e.m[0].op, PROMQL_EQ);
    T_EQ_STR(e.m[0].value, "EMEA");
    T_EQ_INT(e.m[1].op, PROMQL_RE);
    T_EQ_STR(e.m[1].value, "a|b");
    T_EQ_INT(e.m[2].op, PROMQL_NE);
    T_EQ_INT(e.m[3].op, PROMQL_NRE);
    T_EQ_INT(e.m[3].dim, BEACON_POP);
    T_EQ_INT(parse("{__name__=\"oncue_qoe_plays\", title=\"a \\\"b\\\" \\\\ c\"}"), 0);
    T_EQ_INT(e.metric, QOE_PLAYS);
    T_EQ_STR(e.m[0].value, "a \"b\" \\ c");
}

static void test_aggregations(void)
{
    T_EQ_INT(parse("sum by (region, cdn) (oncue_qoe_vsf_rate)"), 0);
    T_EQ_INT(e.kind, PROMQL_SUM);
    T_EQ_INT((int)e.group_mask, (1 << BEACON_REGION) | (1 << BEACON_CDN));
    T_EQ_INT(parse("sum(oncue_qoe_vsf_rate{live=\"true\"}) by (isp)"), 0);
    T_EQ_INT((int)e.group_mask, 1 << BEACON_ISP);
    T_EQ_INT(parse("sum(oncue_qoe_plays)"), 0);
    T_EQ_INT(e.kind, PROMQL_SUM);
    T_EQ_INT((int)e.group_mask, 0);
    T_EQ_INT(parse("sum without (title, asn) (oncue_qoe_plays)"), 0);
    T_EQ_INT((int)e.group_mask,
             ((1 << BEACON_NDIMS) - 1) & ~((1 << BEACON_TITLE) | (1 << BEACON_ASN)));
    T_EQ_INT(parse("topk(5, sum by (isp) (oncue_qoe_rebuffer_ratio))"), 0);
    T_EQ_INT(e.topk, 5);
    T_EQ_INT(e.kind, PROMQL_SUM);
    T_EQ_INT(parse("topk(3, oncue_qoe_plays)"), 0);
    T_EQ_INT(e.kind, PROMQL_SELECTOR);
    T_EQ_INT(parse("1+1"), 0);
    T_EQ_INT(e.kind, PROMQL_SCALAR);
    T_EQ_DBL(e.value, 2, 0);
    T_EQ_INT(parse("2 * (3 - 1) / 4 + -1"), 0);
    T_EQ_DBL(e.value, 0, 1e-12);
    T_EQ_INT(parse("1 + 2 * 3"), 0);
    T_EQ_DBL(e.value, 7, 0);
    T_EQ_INT(parse("- - -2 + + 1"), 0);
    T_EQ_DBL(e.value, -1, 0);
}

/* Every class of refusal says what is wrong. */
static void test_errors(void)
{
    static const struct {
        const char *q;
        int rc;
        const char *msg;
    } cases[] = {
        {"rate(oncue_qoe_plays[5m])", OC_EMALFORMED, "unsupported: rate()"},
        {"avg by (region) (oncue_qoe_plays)", OC_EMALFORMED, "unsupported: avg() (QoE metrics"},
        {"oncue_qoe_plays[5m]", OC_EMALFORMED, "unsupported: range selector"},
        {"oncue_qoe_plays offset 5m", OC_EMALFORMED, "unsupported: offset"},
        {"oncue_qoe_plays @ 100", OC_EMALFORMED, "unsupported: @ modifier"},
        {"oncue_qoe_plays / oncue_qoe_vsf_rate", OC_EMALFORMED, "unsupported: binary operator '/'"},
        {"oncue_qoe_plays and oncue_qoe_plays", OC_EMALFORMED,
         "unsupported: binary operator 'and'"},
        {"1 + oncue_qoe_plays", OC_EMALFORMED, "unsupported: binary operators between"},
        {"sum(sum(oncue_qoe_plays))", OC_EMALFORMED, "unsupported: nested aggregation"},
        {"oncue_qoe_plays{region=~\"[A-Z]+\"}", OC_EMALFORMED, "unsupported in a regex: '['"},
        {"oncue_qoe_plays{__name__!=\"x\"}", OC_EMALFORMED, "unsupported: __name__ with"},
        {"oncue_qoe_plays{region=`x`}", OC_EMALFORMED, "unsupported: raw strings"},
        {"oncue_qoe_nope", OC_EINVAL, "metric unknown 'nope'"},
        {"up", OC_EINVAL, "names are oncue_qoe_ followed by one of them"},
        {"oncue_qoe_plays{colour=\"x\"}", OC_EINVAL, "unknown label 'colour'; labels: region"},
        {"sum by (colour) (oncue_qoe_plays)", OC_EINVAL, "unknown label 'colour'"},
        {"topk(0, oncue_qoe_plays)", OC_EINVAL, "topk: N must be a whole number from 1 to 1000"},
        {"topk(x, oncue_qoe_plays)", OC_EMALFORMED, "topk: the first argument must be a number"},
        {"oncue_qoe_plays{region=\"a\"", OC_EMALFORMED, "unexpected end of query: expected '}'"},
        {"oncue_qoe_plays{region=\"a}", OC_EMALFORMED, "unterminated string"},
        {"oncue_qoe_plays{region~\"a\"}", OC_EMALFORMED, "expected =, !=, =~ or !~ after 'region'"},
        {"oncue_qoe_plays)", OC_EMALFORMED, "at byte 15: unexpected ')'"},
        {"", OC_EMALFORMED, "query: empty"},
        {"{region=\"a\"}", OC_EMALFORMED, "a selector must name a metric"},
        {"oncue_qoe_plays{__name__=\"oncue_qoe_plays\"}", OC_EMALFORMED, "named twice"},
        {"((((((((((((((((((1))))))))))))))))))", OC_EMALFORMED, "nested deeper than 16"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        T_EQ_INT(parse(cases[i].q), cases[i].rc);
        T_CONTAINS(err, cases[i].msg);
    }
    char *big = malloc(PROMQL_MAX_LEN + 2);
    memset(big, 'a', PROMQL_MAX_LEN + 1);
    big[PROMQL_MAX_LEN + 1] = 0;
    T_EQ_INT(parse(big), OC_EMALFORMED);
    T_CONTAINS(err, "longer than 4096 bytes");
    free(big);
}

static int m(const char *re, const char *v)
{
    struct promql_matcher x = {BEACON_REGION, PROMQL_RE, re};
    return promql_match(&x, v);
}

static void test_regex(void)
{
    T_EQ_INT(m("a|b", "a"), 1);
    T_EQ_INT(m("a|b", "ab"), 0); /* anchored, as in Prometheus */
    T_EQ_INT(m("(EM.*|NA)", "EMEA"), 1);
    T_EQ_INT(m("(EM.*|NA)", "NAX"), 0);
    T_EQ_INT(m(".*", ""), 1);
    T_EQ_INT(m(".+", ""), 0);
    T_EQ_INT(m(".+", "x"), 1);
    T_EQ_INT(m("cdn\\-a|x\\.y", "cdn-a"), 1);
    T_EQ_INT(m("x\\.y", "xzy"), 0);
    T_EQ_INT(m("a.*b.*c", "aXXbYYc"), 1);
    T_EQ_INT(m("a.*b.*c", "aXXcYYb"), 0);
    T_EQ_INT(m("(?:a|b)", "b"), 1);
    struct promql_matcher nre = {BEACON_REGION, PROMQL_NRE, "a.*"};
    T_EQ_INT(promql_match(&nre, "abc"), 0);
    T_EQ_INT(promql_match(&nre, "bc"), 1);
    struct promql_matcher ne = {BEACON_REGION, PROMQL_NE, "a"};
    T_EQ_INT(promql_match(&ne, "a"), 0);
    T_EQ_INT(promql_match(&ne, "b"), 1);
}

static char base[128];

static int any_token(void *arg, const char *token, struct oc_arena *arena, enum http_role *role,
                     const char **name)
{
    (void)arg;
    *role = strcmp(token, "viewer") == 0 ? HTTP_VIEWER : HTTP_INGEST;
    *name = oc_arena_strdup(arena, token);
    return 0;
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    oc_buf_append(arg, p, size * n);
    return size * n;
}

/* One request (a form POST when form); the status, the body in out. */
static long call(const char *method, const char *path, const char *token, const char *body,
                 int form, struct oc_buf *out)
{
    CURL *c = curl_easy_init();
    char url[1024], auth[128];
    struct curl_slist *h = NULL;
    snprintf(url, sizeof url, "%s%s", base, path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, form ? "Content-Type: application/x-www-form-urlencoded"
                                  : "Content-Type: text/plain");
    oc_buf_reset(out);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    oc_buf_puts(out, ""); /* NUL-terminated */
    return status;
}

#define OK_MATRIX "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["

static void check_envelopes(struct oc_buf *b)
{
    T_EQ_INT(call("GET",
                  "/api/v1/query_range?query=sum%20by%20(cdn)%20(oncue_qoe_vsf_rate)"
                  "&start=1700000100&end=1700000100.5&step=60",
                  "viewer", NULL, 0, b),
             200);
    T_EQ_STR(b->data,
             OK_MATRIX "{\"metric\":{\"cdn\":\"x\"},\"values\":[[1700000100,\"0.5\"]]},"
                       "{\"metric\":{\"cdn\":\"y\"},\"values\":[[1700000100,\"0\"]]}]}}\n");
    T_EQ_INT(call("POST", "/api/v1/query", "viewer",
                  "query=oncue_qoe_plays%7Bcdn%3D%22x%22%7D&time=2023-11-14T22:15:00Z", 1, b),
             200);
    T_EQ_STR(b->data, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                      "{\"metric\":{\"__name__\":\"oncue_qoe_plays\",\"cdn\":\"x\"},"
                      "\"value\":[1700000100,\"2\"]}]}}\n");
    T_EQ_INT(call("POST", "/api/v1/query_range", "viewer",
                  "query=topk(1,+sum+by+(cdn)+(oncue_qoe_plays%7Bcdn!%3D%22y%22%7D))"
                  "&start=1700000100&end=1700000100&step=1m",
                  1, b),
             200);
    T_EQ_STR(b->data,
             OK_MATRIX "{\"metric\":{\"cdn\":\"x\"},\"values\":[[1700000100,\"2\"]]}]}}\n");
    /* topk per point: x is the worst in the first minute, y in the second */
    T_EQ_INT(call("GET",
                  "/api/v1/query_range?query=topk(1,sum%20by(cdn)(oncue_qoe_vsf_rate))"
                  "&start=1700000100&end=1700000160&step=60",
                  "viewer", NULL, 0, b),
             200);
    T_EQ_STR(b->data,
             OK_MATRIX "{\"metric\":{\"cdn\":\"x\"},\"values\":[[1700000100,\"0.5\"]]},"
                       "{\"metric\":{\"cdn\":\"y\"},\"values\":[[1700000160,\"1\"]]}]}}\n");
    /* one two-minute step ending at 1700000160: the ratio over both minutes (x 1/3, y 1/2),
     * written as the shortest decimal that reads back, as Prometheus writes it */
    T_EQ_INT(call("GET",
                  "/api/v1/query_range?query=sum%20by(cdn)(oncue_qoe_vsf_rate)"
                  "&start=1700000160&end=1700000160&step=2m",
                  "viewer", NULL, 0, b),
             200);
    T_EQ_STR(b->data, OK_MATRIX "{\"metric\":{\"cdn\":\"x\"},\"values\":[[1700000160,"
                                "\"0.3333333333333333\"]]},{\"metric\":{\"cdn\":\"y\"},"
                                "\"values\":[[1700000160,\"0.5\"]]}]}}\n");
    T_EQ_INT(call("GET", "/api/v1/query?query=1%2B1&time=1700000100", "viewer", NULL, 0, b), 200);
    T_EQ_STR(b->data, "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":"
                      "[1700000100,\"2\"]}}\n");
    T_EQ_INT(call("GET", "/api/v1/query?query=oncue_qoe_plays%7Bcdn%3D%22none%22%7D", "viewer",
                  NULL, 0, b),
             200);
    T_EQ_STR(b->data,
             "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}\n");
    T_EQ_INT(call("GET", "/api/v1/label/cdn/values", "viewer", NULL, 0, b), 200);
    T_EQ_STR(b->data, "{\"status\":\"success\",\"data\":[\"other\",\"unknown\",\"x\",\"y\"]}\n");
    T_EQ_INT(call("GET", "/api/v1/label/colour/values", "viewer", NULL, 0, b), 200);
    T_EQ_STR(b->data, "{\"status\":\"success\",\"data\":[]}\n");
}

static void check_errors(struct oc_buf *b)
{
    T_EQ_INT(call("GET", "/api/v1/query?query=rate(oncue_qoe_plays%5B5m%5D)", "viewer", NULL, 0, b),
             400);
    T_EQ_STR(
        b->data,
        "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"unsupported: rate()\"}\n");
    T_EQ_INT(call("GET", "/api/v1/query_range?query=oncue_qoe_plays&start=1&end=2", "viewer", NULL,
                  0, b),
             400);
    T_CONTAINS(b->data, "\"error\":\"step: required\"");
    T_EQ_INT(
        call("GET",
             "/api/v1/query_range?query=oncue_qoe_plays&start=1700000200&end=1700000100&step=60",
             "viewer", NULL, 0, b),
        400);
    T_CONTAINS(b->data, "end: must not be before start");
    T_EQ_INT(call("GET", "/api/v1/query_range?query=oncue_qoe_plays&start=60&end=1000000&step=1",
                  "viewer", NULL, 0, b),
             400);
    T_CONTAINS(b->data, "exceeded maximum resolution of 10080 points");
    T_EQ_INT(call("GET", "/api/v1/query_range?query=oncue_qoe_plays&start=30&end=600&step=60",
                  "viewer", NULL, 0, b),
             400);
    T_CONTAINS(b->data, "start: must be at least one step after 1970-01-01");
    T_EQ_INT(
        call("GET", "/api/v1/query?query=oncue_qoe_plays&time=yesterday", "viewer", NULL, 0, b),
        400);
    T_CONTAINS(b->data, "time: cannot parse yesterday");
    T_EQ_INT(call("GET",
                  "/api/v1/query_range?query=sum%20without()(oncue_qoe_plays)&start=1700000100"
                  "&end=1700600000&step=60",
                  "viewer", NULL, 0, b),
             422);
    T_CONTAINS(b->data, "{\"status\":\"error\",\"errorType\":\"execution\",\"error\":\"the answer "
                        "would hold 2 groups x 9999 points = 19998 values");
    T_CONTAINS(b->data, "use step=1200 or more");
    T_EQ_INT(call("GET", "/api/v1/series", "viewer", NULL, 0, b), 400);
    T_CONTAINS(b->data, "no match[] parameter provided");
}

static void test_http_envelopes(void)
{
    struct oc_clock clk;
    struct oc_app app = {.metrics = oc_metrics_new(), .clock = &clk};
    struct oc_buf b;
    void *ist = NULL, *qst = NULL;
    char e2[256] = "";
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, T0 * 1000 + 1000);
    struct http_server_opts o = {
        .listen = "127.0.0.1:0", .workers = 2, .max_body = 1 << 24, .arena_max = 1 << 26};
    struct http_server *srv = http_server_new(&o, &app);
    T_EQ_INT(qoe_module.init(&app, &qst), 0);
    T_EQ_INT(ingest_module.init(&app, &ist), 0);
    T_EQ_INT(http_server_add_routes(srv, ingest_module.routes, ist), 0);
    T_EQ_INT(http_server_add_routes(srv, qoe_module.routes, qst), 0);
    struct http_hooks hooks = {.authenticate = any_token};
    http_server_set_hooks(srv, &hooks);
    T_EQ_INT(http_server_start(srv, e2, sizeof e2), 0);
    snprintf(base, sizeof base, "http://%s", http_server_addr(srv));
    oc_buf_init(&b, 1 << 20);
    T_EQ_INT(call("POST", "/v1/events", "ing",
                  "{\"ts\":1700000041000,\"type\":\"start\",\"session\":\"a\",\"outcome\":"
                  "\"failure\",\"cdn\":\"x\"}\n"
                  "{\"ts\":1700000042000,\"type\":\"start\",\"session\":\"b\",\"outcome\":"
                  "\"success\",\"startup_ms\":900,\"cdn\":\"x\"}\n"
                  "{\"ts\":1700000043000,\"type\":\"start\",\"session\":\"c\",\"outcome\":"
                  "\"success\",\"startup_ms\":900,\"cdn\":\"y\"}\n"
                  /* the next minute: y fails, x does not */
                  "{\"ts\":1700000101000,\"type\":\"start\",\"session\":\"d\",\"outcome\":"
                  "\"failure\",\"cdn\":\"y\"}\n"
                  "{\"ts\":1700000102000,\"type\":\"start\",\"session\":\"e\",\"outcome\":"
                  "\"success\",\"startup_ms\":900,\"cdn\":\"x\"}\n",
                  0, &b),
             200);
    qoe_cube_flush(qoe_cube_of(&app));
    check_envelopes(&b);
    ((struct qoe_module_state *)qst)->max_cells = 1000; /* qoe.query_max_cells at its least */
    check_errors(&b);
    http_server_stop(srv, 1000);
    http_server_destroy(srv);
    ingest_module.stop(&app, ist);
    qoe_module.stop(&app, qst);
    oc_metrics_destroy(app.metrics);
    oc_buf_free(&b);
}

static const struct t_case cases[] = {
    T_CASE(test_selectors), T_CASE(test_aggregations),   T_CASE(test_errors),
    T_CASE(test_regex),     T_CASE(test_http_envelopes), {0},
};

T_MAIN(cases)
