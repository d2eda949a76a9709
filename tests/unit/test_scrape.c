/*
 * test_scrape.c - the exposition reader (src/scrape/expo.c): samples, labels, family types,
 * OpenMetrics, errors named by line, caps; the targets of scrape.file (spec.c); series kept
 * with a cap, rates, rules and the down rule (poll.c) without the network.
 */
#include "t.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/topics.h"
#include "scrape/scrape.h"
#include "scrape/scrape_int.h"

/* Collects each sample as "name{l=v,...} value type" lines. */
static int collect(void *arg, const struct scrape_sample *s)
{
    struct oc_buf *b = arg;
    oc_buf_printf(b, "%s{", s->name);
    for (int i = 0; i < s->nlabels; i++)
        oc_buf_printf(b, "%s%s=%s", i ? "," : "", s->label_name[i], s->label_value[i]);
    oc_buf_printf(b, "} %g %s", s->value, scrape_type_name(s->type));
    if (s->has_ts)
        oc_buf_printf(b, " @%lld", (long long)s->ts_ms);
    oc_buf_puts(b, "\n");
    return 0;
}

static int parse(const char *text, int om, struct oc_buf *out, char *err)
{
    oc_buf_reset(out);
    return scrape_expo_parse(text, strlen(text), om, collect, out, err, 200);
}

static void test_prometheus_text(void)
{
    struct oc_buf b;
    char err[200];
    oc_buf_init(&b, 1 << 20);
    const char *text = "# HELP http_requests_total The total number of HTTP requests.\n"
                       "# TYPE http_requests_total counter\n"
                       "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
                       "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
                       "\n"
                       "# Escaping in label values:\n"
                       "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\","
                       "error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"
                       "metric_without_timestamp_and_labels 12.47\n"
                       "something_weird{problem=\"division by zero\"} +Inf -3982045\n"
                       "# TYPE rpc_duration_seconds summary\n"
                       "rpc_duration_seconds{quantile=\"0.5\"} 4773\n"
                       "rpc_duration_seconds_sum 1.7560473e+07\n"
                       "rpc_duration_seconds_count 2693\n"
                       "up {job=\"x\",} NaN\r\n"
                       "# TYPE g gauge\n"
                       "g_other 1";
    T_EQ_INT(parse(text, 0, &b, err), 0);
    T_EQ_STR(b.data, "http_requests_total{method=post,code=200} 1027 counter @1395066363000\n"
                     "http_requests_total{method=post,code=400} 3 counter @1395066363000\n"
                     "msdos_file_access_time_seconds{path=C:\\DIR\\FILE.TXT,error=Cannot find "
                     "file:\n\"FILE.TXT\"} 1.45826e+09 untyped\n"
                     "metric_without_timestamp_and_labels{} 12.47 untyped\n"
                     "something_weird{problem=division by zero} inf untyped @-3982045\n"
                     "rpc_duration_seconds{quantile=0.5} 4773 summary\n"
                     "rpc_duration_seconds_sum{} 1.75605e+07 summary\n"
                     "rpc_duration_seconds_count{} 2693 summary\n"
                     "up{job=x} nan untyped\n"
                     "g_other{} 1 untyped\n");
    oc_buf_free(&b);
}

static void test_openmetrics(void)
{
    struct oc_buf b;
    char err[200];
    oc_buf_init(&b, 1 << 20);
    const char *text = "# TYPE license_requests counter\n"
                       "# UNIT license_requests requests\n"
                       "license_requests_total{drm=\"widevine\"} 17 1520879607.789 # "
                       "{trace_id=\"KOO5S4vxi0o\"} 0.67\n"
                       "license_requests_created{drm=\"widevine\"} 1520430000.123\n"
                       "# TYPE build info\n"
                       "build_info{version=\"1.2\"} 1\n"
                       "# EOF\n";
    T_EQ_INT(parse(text, 1, &b, err), 0);
    T_EQ_STR(b.data, "license_requests_total{drm=widevine} 17 counter @1520879607789\n"
                     "license_requests_created{drm=widevine} 1.52043e+09 counter\n"
                     "build_info{version=1.2} 1 other\n");
    T_EQ_INT(parse("a 1\n", 1, &b, err), OC_EINVAL);
    T_EQ_STR(err, "line 2: OpenMetrics text must end with # EOF");
    T_EQ_INT(parse("a 1\n# EOF\nb 2\n", 1, &b, err), OC_EINVAL);
    T_EQ_STR(err, "line 3: text after # EOF");
    oc_buf_free(&b);
}

static void test_errors_name_the_line(void)
{
    struct oc_buf b;
    char err[200];
    oc_buf_init(&b, 1 << 20);
    static const struct {
        const char *text, *err;
    } bad[] = {
        {"ok 1\nbad{a=\"x\" 1\n", "line 2: ',' or '}' was expected after the label a"},
        {"ok 1\n\nbad{a=x} 1\n", "line 3: the value of label a must be quoted"},
        {"bad{a=\"x} 1\n", "line 1: the value of label a is not closed"},
        {"bad{a=\"\\t\"} 1\n", "line 1: label a: unknown escape \\t"},
        {"bad{a=\"1\",a=\"2\"} 1\n", "line 1: label a is given twice"},
        {"bad 0x10\n", "line 1: bad: \"0x10\" is not a number"},
        {"bad\n", "line 1: bad: a value was expected"},
        {"bad 1 2 3\n", "line 1: bad: unexpected text after the value"},
        {"bad 1 1.5\n", "line 1: bad: \"1.5\" is not a timestamp"},
        {"9bad 1\n", "line 1: a metric name was expected"},
        {"bad-name 1\n", "line 1: unexpected '-' after the metric name bad"},
        {"# TYPE x countr\n", "line 1: # TYPE x: unknown type \"countr\""},
        {" indented 1\n", "line 1: a line may not start with a blank"},
        {"bad{a=\"\xff\"} 1\n", "line 1: the value of label a is not UTF-8"},
        {"bad{1a=\"x\"} 1\n", "line 1: a label name was expected at column 5"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        T_EQ_INT(parse(bad[i].text, 0, &b, err), OC_EINVAL);
        T_EQ_STR(err, bad[i].err);
    }
    oc_buf_free(&b);
}

static void test_caps(void)
{
    struct oc_buf b, text;
    char err[200];
    oc_buf_init(&b, 1 << 20);
    oc_buf_init(&text, 1 << 20);
    oc_buf_puts(&text, "m{");
    for (int i = 0; i <= SCRAPE_MAX_LABELS; i++)
        oc_buf_printf(&text, "l%d=\"v\",", i);
    oc_buf_puts(&text, "} 1\n");
    T_EQ_INT(parse(text.data, 0, &b, err), OC_ETOOBIG);
    T_EQ_STR(err, "line 1: more than 32 labels");
    oc_buf_reset(&text);
    oc_buf_puts(&text, "ok 1\nm{l=\"");
    for (int i = 0; i < SCRAPE_LABEL_VALUE_MAX; i++)
        oc_buf_puts(&text, "x");
    oc_buf_puts(&text, "\"} 1\n");
    T_EQ_INT(parse(text.data, 0, &b, err), OC_ETOOBIG);
    T_EQ_STR(err, "line 2: the value of label l is longer than 511 bytes");
    oc_buf_reset(&text);
    for (int i = 0; i <= SCRAPE_LINE_MAX; i += 8)
        oc_buf_puts(&text, "#comment");
    T_EQ_INT(parse(text.data, 0, &b, err), OC_ETOOBIG);
    T_EQ_STR(err, "line 1: longer than 65536 bytes");
    oc_buf_free(&b);
    oc_buf_free(&text);
}

static struct scrape_target *target_of(const char *yaml_json, struct scrape_state *ss)
{
    char err[300];
    json_t *o = json_loads(yaml_json, 0, NULL);
    struct scrape_target *t = calloc(1, sizeof(*t));
    T_TRUE(o != NULL);
    T_EQ_INT(scrape_spec_from_json(o, &t->spec, err, sizeof err), 0);
    json_decref(o);
    t->rs = calloc((size_t)t->spec.nrules + 1, sizeof(*t->rs));
    memset(ss, 0, sizeof(*ss));
    ss->o.max_series = 4;
    ss->o.down_after = 2;
    return t;
}

static void target_free(struct scrape_target *t)
{
    scrape_series_clear(t);
    scrape_spec_free(&t->spec);
    free(t->rs);
    free(t);
}

static void test_spec_errors(void)
{
    static const struct {
        const char *json, *err;
    } bad[] = {
        {"{\"name\": \"a b\"}", "a target's name must be 1 to 63 of [A-Za-z0-9._-] (got \"a b\")"},
        {"{\"name\": \"o\", \"url\": \"ftp://x\"}",
         "o: url must be an http:// or https:// URL under 2048 bytes"},
        {"{\"name\": \"o\", \"url\": \"http://x\", \"nope\": 1}", "o: unknown field nope"},
        {"{\"name\": \"o\", \"url\": \"http://u:secret@x/metrics\"}",
         "o: url: credentials in the URL are refused (they would be shown to viewers)"},
        {"{\"name\": \"o\", \"push\": \"otlp\"}",
         "o: a push target needs service (its resources' service.name)"},
        {"{\"name\": \"o\", \"url\": \"http://x\", \"interval_s\": \"0.1\"}",
         "o: interval_s must be 0.5 to 3600 seconds"},
        {"{\"name\": \"o\", \"url\": \"http://x\", \"rules\": [{\"name\": \"r\", \"metric\": "
         "\"m\", \"op\": \"!=\", \"threshold\": 1}]}",
         "o: rule r: op must be >, >=, < or <="},
        {"{\"name\": \"o\", \"url\": \"http://x\", \"rules\": [{\"name\": \"r\", \"metric\": "
         "\"m\", \"op\": \">\", \"threshold\": \"x\"}]}",
         "o: rule r: threshold must be a number"},
        {"{\"name\": \"o\", \"url\": \"http://x\", \"rules\": [{\"name\": \"r\", \"metric\": "
         "\"m\", \"match\": {\"code\": \"~5((\"}, \"op\": \">\", \"threshold\": 1}]}",
         "o: rule r: match.code is not an extended regular expression"},
        {"{\"name\": \"o\", \"url\": \"http://x\", \"rules\": [{\"name\": \"down\", \"metric\": "
         "\"m\", \"op\": \">\", \"threshold\": 1}]}",
         "o: rules[0].name: \"down\" is the target's own rule"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct scrape_spec s;
        char err[300] = "";
        json_t *o = json_loads(bad[i].json, 0, NULL);
        T_TRUE(o != NULL);
        T_EQ_INT(scrape_spec_from_json(o, &s, err, sizeof err), OC_EINVAL);
        T_EQ_STR(err, bad[i].err);
        json_decref(o);
    }
}

static const char *lic = "{\"name\": \"drm\", \"service\": \"drm-license\", \"url\": "
                         "\"http://127.0.0.1:1/metrics\", \"rules\": [{\"name\": \"errors\", "
                         "\"metric\": \"req_total\", \"match\": {\"code\": \"~5..\"}, \"rate\": "
                         "\"true\", \"per\": \"req_total\", \"op\": \">\", \"threshold\": "
                         "\"0.2\", \"for_s\": \"2\"}]}";

static int ingest(struct scrape_state *ss, struct scrape_target *t, int ok, int bad, int64_t now)
{
    char body[300], err[200];
    snprintf(body, sizeof body,
             "# TYPE req counter\nreq_total{code=\"200\"} %d\nreq_total{code=\"503\"} %d\n", ok,
             bad);
    return scrape_ingest(ss, t, body, strlen(body), 0, now, err, sizeof err);
}

static void test_rate_rule_fires_and_recovers(void)
{
    struct scrape_state ss;
    struct scrape_target *t = target_of(lic, &ss);
    json_t *out = json_array();
    int64_t now = 1000000;
    T_EQ_INT(ingest(&ss, t, 100, 0, now), 0);
    scrape_eval(&ss, t, now, out);
    T_TRUE(isnan(t->rs[0].value)); /* one scrape: no rate yet */
    T_EQ_INT(t->nseries, 2);
    /* 10 ok and 10 failed per second: 0.5 of requests fail */
    for (int i = 1; i <= 3; i++) {
        now += 1000;
        T_EQ_INT(ingest(&ss, t, 100 + 10 * i, 10 * i, now), 0);
        scrape_eval(&ss, t, now, out);
    }
    T_EQ_DBL(t->rs[0].value, 0.5, 1e-9);
    /* held from the second scrape (1001 s) for 2 s: fired at the fourth */
    T_EQ_INT(json_array_size(out), 1);
    json_t *p = json_object_get(json_array_get(out, 0), "payload");
    T_EQ_STR(json_string_value(json_object_get(json_array_get(out, 0), "topic")),
             OC_TOPIC_SCRAPE_FAILED);
    T_EQ_STR(json_string_value(json_object_get(p, "service")), "drm-license");
    T_EQ_STR(json_string_value(json_object_get(p, "detail")), "errors is 0.5 > 0.2");
    T_EQ_INT(json_integer_value(json_object_get(p, "at")), 1003);
    /* a scrape before the counters moved: no value, no change */
    now += 1000;
    T_EQ_INT(ingest(&ss, t, 130, 30, now), 0);
    scrape_eval(&ss, t, now, out);
    T_TRUE(isnan(t->rs[0].value));
    T_EQ_INT(t->rs[0].active, 1);
    T_EQ_INT(json_array_size(out), 1);
    /* only ok requests now: recovers at once (clear_for_s 0) */
    now += 1000;
    T_EQ_INT(ingest(&ss, t, 200, 30, now), 0);
    scrape_eval(&ss, t, now, out);
    T_EQ_INT(json_array_size(out), 2);
    p = json_object_get(json_array_get(out, 1), "payload");
    T_EQ_STR(json_string_value(json_object_get(p, "detail")), "errors is 0 now");
    T_EQ_INT(json_integer_value(json_object_get(p, "since")), 1003);
    json_decref(out);
    target_free(t);
}

static void test_series_cap_and_bad_body(void)
{
    struct scrape_state ss;
    struct scrape_target *t = target_of(lic, &ss);
    char err[200];
    const char *many = "a 1\nb 2\nc 3\nd 4\ne 5\nf 6\n";
    T_EQ_INT(scrape_ingest(&ss, t, many, strlen(many), 0, 1000, err, sizeof err), 0);
    T_EQ_INT(t->nseries, 4);
    T_EQ_INT(t->dropped, 2);
    T_EQ_INT(t->samples, 6);
    /* a body that does not read whole changes nothing */
    const char *bad = "a 10\nb{ 2\n";
    T_EQ_INT(scrape_ingest(&ss, t, bad, strlen(bad), 0, 2000, err, sizeof err), OC_EINVAL);
    T_EQ_STR(err, "line 2: a label name was expected at column 4");
    T_EQ_INT(t->ok, 1);
    json_t *out = json_array();
    t->error[0] = 0;
    snprintf(t->error, sizeof t->error, "x answered 503");
    scrape_failed(&ss, t, 3000, out);
    T_EQ_INT(json_array_size(out), 0); /* down_after 2 */
    scrape_failed(&ss, t, 4000, out);
    T_EQ_INT(json_array_size(out), 1);
    json_t *p = json_object_get(json_array_get(out, 0), "payload");
    T_EQ_STR(json_string_value(json_object_get(p, "rule")), "down");
    T_EQ_STR(json_string_value(json_object_get(p, "detail")), "2 scrapes failed: x answered 503");
    T_EQ_STR(json_string_value(json_object_get(p, "level")), "page");
    T_EQ_INT(scrape_ingest(&ss, t, many, strlen(many), 0, 5000, err, sizeof err), 0);
    scrape_eval(&ss, t, 5000, out);
    T_EQ_INT(json_array_size(out), 2);
    T_EQ_STR(json_string_value(json_object_get(json_array_get(out, 1), "topic")),
             OC_TOPIC_SCRAPE_RECOVERED);
    json_decref(out);
    target_free(t);
}

static void test_otlp_json(void)
{
    const char *doc =
        "{\"resource\": {\"attributes\": [{\"key\": \"service.name\", \"value\": "
        "{\"stringValue\": \"packager\"}}]}, \"scopeMetrics\": [{\"metrics\": ["
        "{\"name\": \"segments.published\", \"sum\": {\"aggregationTemporality\": 2, "
        "\"isMonotonic\": true, \"dataPoints\": [{\"asInt\": \"42\", \"attributes\": "
        "[{\"key\": \"stream\", \"value\": {\"stringValue\": \"li\\\"ve\"}}, {\"key\": "
        "\"k8s.pod\", \"value\": {\"intValue\": \"3\"}}, {\"key\": \"x\", \"value\": "
        "{\"arrayValue\": {}}}]}]}},"
        "{\"name\": \"manifest_age\", \"gauge\": {\"dataPoints\": [{\"asDouble\": 1.5}]}},"
        "{\"name\": \"lat\", \"histogram\": {\"aggregationTemporality\": 2, \"dataPoints\": "
        "[{\"count\": \"3\", \"sum\": 0.7, \"bucketCounts\": [\"1\", \"2\"], "
        "\"explicitBounds\": [0.25]}]}},"
        "{\"name\": \"d\", \"sum\": {\"aggregationTemporality\": 1, \"dataPoints\": "
        "[{\"asInt\": 1}]}}]}]}";
    json_t *rm = json_loads(doc, 0, NULL);
    char svc[64], why[300] = "", err[200];
    struct oc_buf b;
    int rejected = -1;
    T_TRUE(rm != NULL);
    T_EQ_STR(scrape_otlp_service(rm, svc, sizeof svc), "packager");
    oc_buf_init(&b, 1 << 20);
    T_EQ_INT(scrape_otlp_text(rm, &b, &rejected, why, sizeof why), 3);
    T_EQ_INT(rejected, 1);
    T_EQ_STR(why, "metric d: delta temporality is not read (export cumulative)");
    T_EQ_STR(b.data, "# TYPE segments_published_total counter\n"
                     "segments_published_total{stream=\"li\\\"ve\",k8s_pod=\"3\"} 42\n"
                     "# TYPE manifest_age gauge\n"
                     "manifest_age{} 1.5\n"
                     "# TYPE lat histogram\n"
                     "lat_bucket{le=\"0.25\"} 1\n"
                     "lat_bucket{le=\"+Inf\"} 3\n"
                     "lat_count{} 3\n"
                     "lat_sum{} 0.69999999999999996\n");
    /* what it writes reads back */
    struct oc_buf got;
    oc_buf_init(&got, 1 << 20);
    T_EQ_INT(scrape_expo_parse(b.data, b.len, 0, collect, &got, err, sizeof err), 0);
    T_CONTAINS(got.data, "segments_published_total{stream=li\"ve,k8s_pod=3} 42 counter");
    T_CONTAINS(got.data, "lat_bucket{le=+Inf} 3 histogram");
    oc_buf_free(&got);
    oc_buf_free(&b);
    json_decref(rm);
}

static const struct t_case cases[] = {
    T_CASE(test_otlp_json),
    T_CASE(test_prometheus_text),
    T_CASE(test_openmetrics),
    T_CASE(test_errors_name_the_line),
    T_CASE(test_caps),
    T_CASE(test_spec_errors),
    T_CASE(test_rate_rule_fires_and_recovers),
    T_CASE(test_series_cap_and_bad_body),
    {0},
};

T_MAIN(cases)
