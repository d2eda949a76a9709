/*
 * test_steer.c - unit tests of the steer capability: the query parser, policy evaluation by
 * value, weighted stickiness, manifest generation per the content-steering spec, the 429 and
 * 410 answers, feature flags and mitigations (apply, dry run, revert).
 */
#include "t.h"
#include "t_store.h"
#include "steer/steer.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/bus.h"
#include "core/err.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define Q(s)     steer_query_parse((s), strlen(s), &q)
#define PRIO_MAX (STEER_MAX_PATHWAYS * (STEER_ID_MAX + 1))

static void test_query_hls_unquoted(void)
{
    struct steer_query q;
    T_EQ_INT(Q("_HLS_pathway=cdn-a&_HLS_throughput=985600"), 0);
    T_EQ_INT(q.npathway, 1);
    T_EQ_STR(q.pathway[0], "cdn-a");
    T_EQ_INT(q.nthroughput, 1);
    T_EQ_DBL(q.throughput[0], 985600, 0);
    T_EQ_INT(q.dash, 0);
    T_EQ_STR(q.region, "");
}

static void test_query_dash_quoted_list(void)
{
    struct steer_query q;
    T_EQ_INT(Q("_DASH_pathway=%22cdn-a%2Ccdn-b%22&_DASH_throughput=211242250%2C164944000"), 0);
    T_EQ_INT(q.dash, 1);
    T_EQ_INT(q.npathway, 2);
    T_EQ_STR(q.pathway[0], "cdn-a");
    T_EQ_STR(q.pathway[1], "cdn-b");
    T_EQ_INT(q.nthroughput, 2);
    T_EQ_DBL(q.throughput[1], 164944000, 0);
    /* dash.js's first poll: quoted pathway, empty throughput */
    T_EQ_INT(Q("_DASH_pathway=%22cdn-a%22&_DASH_throughput="), 0);
    T_EQ_INT(q.npathway, 1);
    T_EQ_STR(q.pathway[0], "cdn-a");
    T_EQ_INT(q.nthroughput, 0);
    /* dash.js after a switch (seen in the browser test): no measurement for the second
     * pathway, so the list ends in an empty item; it stays parallel to the pathways */
    T_EQ_INT(Q("_DASH_pathway=%22cdn-a%2Ccdn-b%22&_DASH_throughput=124141000%2C"), 0);
    T_EQ_INT(q.npathway, 2);
    T_EQ_INT(q.nthroughput, 2);
    T_EQ_DBL(q.throughput[0], 124141000, 0);
    T_TRUE(isnan(q.throughput[1]));
    /* quotes sent raw rather than encoded */
    T_EQ_INT(Q("_DASH_pathway=\"cdn-b\""), 0);
    T_EQ_STR(q.pathway[0], "cdn-b");
}

static void test_query_attributes(void)
{
    struct steer_query q;
    T_EQ_INT(Q("region=EMEA&country=DE&isp=dtag&asn=3320&device=tv&session=s1&x=%zz"), 0);
    T_EQ_STR(q.region, "EMEA");
    T_EQ_STR(q.country, "DE");
    T_EQ_STR(q.isp, "dtag");
    T_EQ_STR(q.asn, "3320");
    T_EQ_STR(q.device, "tv");
    T_EQ_STR(q.session, "s1");
    T_EQ_INT(Q("region=EU&region=NA"), 0);
    T_EQ_STR(q.region, "EU"); /* first occurrence wins */
}

static void test_query_rejects(void)
{
    struct steer_query q;
    T_EQ_INT(Q("_HLS_pathway=cdn%zz"), OC_EINVAL);
    T_EQ_INT(Q("_HLS_pathway=%"), OC_EINVAL);
    T_EQ_INT(Q("_HLS_pathway=a%00b"), OC_EINVAL);
    T_EQ_INT(Q("region=EM%20EA"), OC_EINVAL);
    T_EQ_INT(Q("_HLS_throughput=-5"), OC_EINVAL);
    T_EQ_INT(Q("_HLS_throughput=1e400"), OC_EINVAL);
    T_EQ_INT(Q("_DASH_pathway=a,,b"), OC_EINVAL);
    T_EQ_INT(Q("_DASH_pathway=a,b,c,d,e,f,g,h,i"), OC_ETOOBIG);
    char big[STEER_QUERY_MAX + 2];
    memset(big, 'a', sizeof(big));
    T_EQ_INT(steer_query_parse(big, sizeof(big), &q), OC_ETOOBIG);
    char id[STEER_ID_MAX + 20] = "session=";
    memset(id + 8, 'x', STEER_ID_MAX + 1);
    id[8 + STEER_ID_MAX + 1] = '\0';
    T_EQ_INT(Q(id), OC_ETOOBIG);
}

static void test_bucket_stable_and_spread(void)
{
    T_EQ_INT(steer_bucket("session-1"), steer_bucket("session-1"));
    int below = 0;
    char s[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(s, sizeof(s), "s%d", i);
        below += steer_bucket(s) < 2000;
    }
    T_TRUE(below > 1800 && below < 2200);
}

/* ---- policy, manifest, answers ---- */

static const char *policy_text =
    "{\"ttl\": 5, \"pathways\": [\"cdn-a\", \"cdn-b\"],"
    " \"clones\": [{\"id\": \"cdn-c\", \"base\": \"cdn-a\", \"host\": \"c.example.net:8443\","
    "   \"params\": {\"token\": \"x y\\\"z\"}}],"
    " \"rules\": [{\"name\": \"tv-dtag\", \"isp\": \"dtag\", \"device\": \"tv\","
    "   \"priority\": [\"cdn-c\"]},"
    "  {\"name\": \"emea-20\", \"region\": \"EMEA\", \"priority\": [\"cdn-b\"], \"percent\": 20}],"
    " \"retired\": [\"old\", \"older\"],"
    " \"flags\": [{\"name\": \"abr2\", \"on\": false, \"player\": \"hls.js\","
    "   \"player_version\": \"1.7.4\"}, {\"name\": \"abr2\", \"on\": true}]}";

static struct oc_clock clk;
static int bus_seen;

static void on_bus(const char *topic, const json_t *payload, void *arg)
{
    (void)payload;
    (void)arg;
    bus_seen += strcmp(topic, "mitigation.applied") == 0 ? 1 : 100;
}

/* A steering state with the test policy (or none), max_rps, an optional bus. */
static struct steer *mk(int with_policy, int64_t max_rps, struct oc_bus *bus)
{
    struct steer_opts o = {.clock = &clk, .bus = bus, .ttl_s = 30, .max_rps = max_rps};
    struct steer *st = NULL;
    char err[256] = "";
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, 1700000000000LL);
    T_EQ_INT(steer_new(&o, &st), 0);
    if (with_policy) {
        json_t *doc = json_loads(policy_text, 0, NULL);
        T_TRUE(doc != NULL);
        T_EQ_INT(steer_policy_set(st, doc, "test", err, sizeof(err)), 0);
        T_EQ_STR(err, "");
        json_decref(doc);
    }
    return st;
}

/* Answers one request; returns the status, body in b (caller frees). */
static int ask(struct steer *st, enum steer_proto p, const char *asset, const char *qs,
               struct oc_buf *b, struct steer_answer *ans)
{
    oc_buf_init(b, 1 << 16);
    T_EQ_INT(steer_answer(st, p, asset, qs, strlen(qs), NULL, b, ans), 0);
    return ans->status;
}

static void test_manifest_fields_per_spec(void)
{
    struct steer *st = mk(1, 0, NULL);
    struct oc_buf b;
    struct steer_answer ans;
    T_EQ_INT(ask(st, STEER_HLS, "movie", "region=NA&session=s1&_HLS_pathway=cdn-a", &b, &ans), 200);
    json_t *m = json_loads(b.data, 0, NULL);
    T_TRUE(json_is_object(m));
    T_EQ_INT(json_object_size(m), 5);
    T_EQ_INT(json_integer_value(json_object_get(m, "VERSION")), 1);
    T_EQ_INT(json_integer_value(json_object_get(m, "TTL")), 5);
    T_EQ_STR(json_string_value(json_object_get(m, "RELOAD-URI")), "movie?region=NA&session=s1");
    json_t *prio = json_object_get(m, "PATHWAY-PRIORITY");
    T_EQ_INT(json_array_size(prio), 2);
    T_EQ_STR(json_string_value(json_array_get(prio, 0)), "cdn-a");
    T_EQ_STR(json_string_value(json_array_get(prio, 1)), "cdn-b");
    json_t *c = json_array_get(json_object_get(m, "PATHWAY-CLONES"), 0);
    T_EQ_STR(json_string_value(json_object_get(c, "BASE-ID")), "cdn-a");
    T_EQ_STR(json_string_value(json_object_get(c, "ID")), "cdn-c");
    json_t *u = json_object_get(c, "URI-REPLACEMENT");
    T_EQ_STR(json_string_value(json_object_get(u, "HOST")), "c.example.net:8443");
    T_EQ_STR(json_string_value(json_object_get(json_object_get(u, "PARAMS"), "token")), "x y\"z");
    json_decref(m);
    oc_buf_free(&b);
    steer_destroy(st);
}

static void test_manifest_exact_bytes_and_relative_reload(void)
{
    struct steer_opts o = {.clock = &clk, .ttl_s = 7};
    struct steer *st = NULL;
    struct oc_buf b;
    struct steer_answer ans;
    char err[128];
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, 0);
    T_EQ_INT(steer_new(&o, &st), 0);
    json_t *doc = json_pack("{s:[s,s]}", "pathways", "p1", "p2");
    T_EQ_INT(steer_policy_set(st, doc, "t", err, sizeof(err)), 0);
    T_EQ_INT(ask(st, STEER_DASH, "a.b", "_DASH_pathway=%22p1%22&session=k&device=tv", &b, &ans),
             200);
    T_EQ_STR(b.data, "{\"VERSION\":1,\"TTL\":7,\"RELOAD-URI\":\"a.b?device=tv&session=k\","
                     "\"PATHWAY-PRIORITY\":[\"p1\",\"p2\"]}");
    oc_buf_free(&b);
    /* no session given: one is minted (16 hex) and carried in the relative RELOAD-URI */
    T_EQ_INT(ask(st, STEER_HLS, "x", "", &b, &ans), 200);
    json_t *m = json_loads(b.data, 0, NULL);
    const char *ru = json_string_value(json_object_get(m, "RELOAD-URI"));
    T_TRUE(ru && strncmp(ru, "x?session=", 10) == 0 && strlen(ru) == 26);
    T_TRUE(ru && ru[0] != '/' && !strstr(ru, "://"));
    json_decref(m);
    json_decref(doc);
    oc_buf_free(&b);
    steer_destroy(st);
}

struct eval_case {
    const char *query;    /* request attributes */
    const char *priority; /* expected PATHWAY-PRIORITY */
    const char *rule;     /* expected deciding rule */
};

static void test_policy_eval_by_value(void)
{
    static const struct eval_case cases_[] = {
        {"isp=dtag&device=tv&session=a", "cdn-c,cdn-a,cdn-b", "tv-dtag"},
        {"isp=dtag&device=mobile&session=a", "cdn-a,cdn-b", ""},
        {"region=NA&isp=dtag&device=tv", "cdn-c,cdn-a,cdn-b", "tv-dtag"},
        {"region=NA&session=a", "cdn-a,cdn-b", ""},
        {"", "cdn-a,cdn-b", ""},
        {0},
    };
    struct steer *st = mk(1, 0, NULL);
    struct steer_query q;
    struct steer_decision d;
    for (const struct eval_case *c = cases_; c->query; c++) {
        T_EQ_INT(steer_query_parse(c->query, strlen(c->query), &q), 0);
        T_EQ_INT(steer_decide(st, &q, &d), 0);
        T_EQ_STR(d.priority, c->priority);
        T_EQ_STR(d.rule, c->rule);
        T_EQ_INT(d.ttl_s, 5);
    }
    /* EMEA: the 20% rule decides exactly for sessions whose bucket is below 2000 */
    char qs[64];
    for (int i = 0; i < 50; i++) {
        snprintf(qs, sizeof(qs), "region=EMEA&session=u%d", i);
        T_EQ_INT(steer_query_parse(qs, strlen(qs), &q), 0);
        T_EQ_INT(steer_decide(st, &q, &d), 0);
        int in = steer_bucket(q.session) < 2000;
        T_EQ_STR(d.priority, in ? "cdn-b,cdn-a" : "cdn-a,cdn-b");
        T_EQ_STR(d.rule, in ? "emea-20" : "");
    }
    steer_destroy(st);
}

static void test_weighted_stickiness(void)
{
    struct steer *st = mk(1, 0, NULL);
    struct steer_query q;
    struct steer_decision d, first;
    char qs[64];
    int shifted = 0, n = 20000;
    T_EQ_INT(Q("region=EMEA&session=viewer-42"), 0);
    T_EQ_INT(steer_decide(st, &q, &first), 0);
    for (int i = 0; i < 100; i++) {
        T_EQ_INT(steer_decide(st, &q, &d), 0);
        T_EQ_STR(d.priority, first.priority);
    }
    for (int i = 0; i < n; i++) {
        snprintf(qs, sizeof(qs), "region=EMEA&session=%08x", (unsigned)i * 2654435761u);
        T_EQ_INT(steer_query_parse(qs, strlen(qs), &q), 0);
        T_EQ_INT(steer_decide(st, &q, &d), 0);
        shifted += strcmp(d.priority, "cdn-b,cdn-a") == 0;
    }
    T_EQ_DBL((double)shifted / n, 0.20, 0.015);
    steer_destroy(st);
}

struct bad_case {
    const char *doc;  /* policy document */
    const char *want; /* expected substring of the error */
};

static void test_policy_rejects(void)
{
    static const struct bad_case bad[] = {
        {"[]", "JSON object"},
        {"{\"pathways\": [\"a\"], \"extra\": 1}", "unknown member \"extra\""},
        {"{\"pathways\": [\"a\", \"a\"]}", "pathways[1]"},
        {"{\"pathways\": [\"a b\"]}", "pathways[0]"},
        {"{\"pathways\": [\"a\"], \"ttl\": 0}", "ttl"},
        {"{\"pathways\": [\"a\"], \"rules\": [{\"name\": \"r\", \"priority\": [\"z\"]}]}",
         "rules[0].priority[0]"},
        {"{\"pathways\": [\"a\"], \"rules\": [{\"name\": \"r\", \"percent\": 150}]}",
         "rules[0].percent"},
        {"{\"pathways\": [\"a\"], \"rules\": [{\"priority\": [\"a\"]}]}", "rules[0].name"},
        {"{\"pathways\": [\"a\"], \"clones\": [{\"id\": \"c\", \"base\": \"z\"}]}",
         "clones[0].base"},
        {"{\"pathways\": [\"a\"], \"clones\": [{\"id\": \"a\", \"base\": \"a\"}]}", "clones[0].id"},
        {"{\"pathways\": [\"a\"], \"clones\": [{\"id\": \"c\", \"base\": \"a\", \"host\": "
         "\"x/y\"}]}",
         "clones[0].host"},
        {"{\"pathways\": [\"a\"], \"flags\": [{\"name\": \"f\"}]}", "flags[0].on"},
        {"{\"pathways\": [\"a\"], \"retired\": [\"../x\"]}", "retired[0]"},
        {"{\"pathways\": [\"a\"], \"auto\": {\"enabled\": 1}}", "auto.enabled"},
        {"{\"pathways\": [\"a\"], \"auto\": {\"hold_s\": -1}}", "auto.hold_s"},
        {"{\"pathways\": [\"a\"], \"auto\": {\"regions\": [\"\"]}}", "auto.regions[0]"},
        {0},
    };
    struct steer *st = mk(1, 0, NULL);
    char err[256];
    for (const struct bad_case *c = bad; c->doc; c++) {
        json_t *doc = json_loads(c->doc, JSON_DECODE_ANY, NULL);
        err[0] = '\0';
        T_TRUE(steer_policy_set(st, doc, "t", err, sizeof(err)) < 0);
        T_CONTAINS(err, c->want);
        json_decref(doc);
    }
    /* the previous policy still answers */
    struct steer_decision d;
    struct steer_query q;
    T_EQ_INT(steer_query_parse("", 0, &q), 0);
    T_EQ_INT(steer_decide(st, &q, &d), 0);
    T_EQ_STR(d.priority, "cdn-a,cdn-b");
    steer_destroy(st);
}

static void test_answer_429_410_400_503(void)
{
    struct steer *st = mk(1, 2, NULL);
    struct oc_buf b;
    struct steer_answer ans;
    T_EQ_INT(ask(st, STEER_HLS, "movie", "", &b, &ans), 200);
    oc_buf_free(&b);
    T_EQ_INT(ask(st, STEER_HLS, "old", "", &b, &ans), 410);
    T_EQ_INT(ans.retry_after_s, 0);
    oc_buf_free(&b);
    T_EQ_INT(ask(st, STEER_HLS, "movie", "", &b, &ans), 429);
    T_EQ_INT(ans.retry_after_s, 1);
    oc_buf_free(&b);
    oc_clock_advance_ms(&clk, 499); /* 0.998 tokens: still over */
    T_EQ_INT(ask(st, STEER_HLS, "movie", "", &b, &ans), 429);
    oc_buf_free(&b);
    oc_clock_advance_ms(&clk, 1);
    T_EQ_INT(ask(st, STEER_DASH, "older", "", &b, &ans), 410);
    oc_buf_free(&b);
    oc_clock_advance_ms(&clk, 2000);
    T_EQ_INT(ask(st, STEER_HLS, "..", "", &b, &ans), 400);
    oc_buf_free(&b);
    T_EQ_INT(ask(st, STEER_HLS, "movie", "_HLS_pathway=%zz", &b, &ans), 400);
    oc_buf_free(&b);
    steer_destroy(st);
    st = mk(0, 0, NULL);
    T_EQ_INT(ask(st, STEER_HLS, "movie", "", &b, &ans), 503);
    T_EQ_INT(ans.retry_after_s, 5);
    oc_buf_free(&b);
    steer_destroy(st);
}

static void test_throughput_measures_and_metrics(void)
{
    struct steer *st = mk(1, 0, NULL);
    struct oc_buf b;
    struct steer_answer ans;
    struct steer_measure m[4];
    T_EQ_INT(ask(st, STEER_DASH, "movie",
                 "_DASH_pathway=%22cdn-a%2Ccdn-b%22&_DASH_throughput=2000%2C1000", &b, &ans),
             200);
    oc_buf_free(&b);
    T_EQ_INT(ask(st, STEER_HLS, "movie", "_HLS_pathway=cdn-a&_HLS_throughput=4000", &b, &ans), 200);
    oc_buf_free(&b);
    T_EQ_INT(steer_measures(st, m, 4), 2);
    T_EQ_STR(m[0].pathway, "cdn-a");
    T_EQ_INT(m[0].reports, 2);
    T_EQ_DBL(m[0].sum_bps, 6000, 0);
    T_EQ_DBL(m[0].last_bps, 4000, 0);
    T_EQ_STR(m[1].pathway, "cdn-b");
    T_EQ_DBL(m[1].sum_bps, 1000, 0);
    oc_buf_init(&b, 1 << 16);
    steer_metrics_write(&b, st);
    T_CONTAINS(b.data, "oncue_steer_throughput_bytes_per_second_count{pathway=\"cdn-a\"} 2");
    T_CONTAINS(b.data, "oncue_steer_requests_total{protocol=\"dash\"} 1");
    oc_buf_free(&b);
    steer_destroy(st);
}

static void test_measures_capped(void)
{
    struct steer *st = mk(1, 0, NULL);
    struct oc_buf b;
    struct steer_answer ans;
    struct steer_measure m[40];
    char qs[80];
    for (int i = 0; i < 40; i++) {
        snprintf(qs, sizeof(qs), "_HLS_pathway=p%d&_HLS_throughput=%d", i, 1000 + i);
        T_EQ_INT(ask(st, STEER_HLS, "movie", qs, &b, &ans), 200);
        oc_buf_free(&b);
    }
    T_EQ_INT(steer_measures(st, m, 40), 33); /* 32 pathways, then "_other" */
    T_EQ_STR(m[31].pathway, "p31");
    T_EQ_STR(m[32].pathway, "_other");
    T_EQ_INT(m[32].reports, 8);
    T_EQ_DBL(m[32].last_bps, 1039, 0);
    steer_destroy(st);
}

static void test_flags(void)
{
    struct steer *st = mk(1, 0, NULL);
    json_t *f = steer_flags_eval(st, "hls.js", "1.7.4", "tv", "EMEA");
    T_TRUE(json_is_false(json_object_get(f, "abr2")));
    json_decref(f);
    f = steer_flags_eval(st, "hls.js", "1.8.0", NULL, NULL);
    T_TRUE(json_is_true(json_object_get(f, "abr2")));
    json_decref(f);
    json_t *req = json_pack("{s:s, s:s, s:b, s:s}", "kind", "flag", "name", "abr2", "on", 0,
                            "player_version", "1.8.0"),
           *rec = NULL;
    char err[128];
    T_EQ_INT(steer_mitigate(st, req, "ops", 0, &rec, err, sizeof(err)), 0);
    f = steer_flags_eval(st, "hls.js", "1.8.0", NULL, NULL);
    T_TRUE(json_is_false(json_object_get(f, "abr2")));
    json_decref(f);
    f = steer_flags_eval(st, "dash.js", "1.9", NULL, NULL);
    T_TRUE(json_is_true(json_object_get(f, "abr2")));
    json_decref(f);
    T_EQ_INT(steer_revert(st, json_integer_value(json_object_get(rec, "id")), "ops", NULL), 0);
    f = steer_flags_eval(st, "hls.js", "1.8.0", NULL, NULL);
    T_TRUE(json_is_true(json_object_get(f, "abr2")));
    json_decref(f);
    json_decref(rec);
    json_decref(req);
    steer_destroy(st);
}

/* Decision for a query string. */
static void decide(struct steer *st, const char *qs, char *prio, size_t n)
{
    struct steer_query q;
    struct steer_decision d;
    T_EQ_INT(steer_query_parse(qs, strlen(qs), &q), 0);
    T_EQ_INT(steer_decide(st, &q, &d), 0);
    snprintf(prio, n, "%s", d.priority);
}

static void test_mitigation_shift_and_revert(void)
{
    struct oc_bus *bus = oc_bus_new();
    T_EQ_INT(oc_bus_subscribe(bus, "*", on_bus, NULL), 0);
    bus_seen = 0;
    struct steer *st = mk(1, 0, bus);
    oc_bus_drain(bus);
    bus_seen = 0; /* the policy change published once */
    char err[256] = "", prio[PRIO_MAX];
    json_t *req = json_pack("{s:s, s:s, s:s, s:s}", "kind", "shift-cdn", "region", "NA", "from",
                            "cdn-a", "to", "cdn-c"),
           *rec = NULL;
    T_EQ_INT(steer_mitigate(st, req, "alice", 0, &rec, err, sizeof(err)), 0);
    oc_bus_drain(bus);
    T_EQ_STR(err, "");
    T_EQ_INT(bus_seen, 1);
    T_EQ_INT(json_integer_value(json_object_get(rec, "id")), 1);
    T_EQ_STR(json_string_value(json_object_get(rec, "state")), "active");
    T_EQ_STR(json_string_value(json_object_get(rec, "actor")), "alice");
    json_t *fu = json_object_get(rec, "followup");
    T_EQ_INT(json_integer_value(json_object_get(fu, "due_ms")),
             1700000000000LL + 72LL * 3600 * 1000);
    T_CONTAINS(json_string_value(json_object_get(fu, "title")), "mitigation #1");
    decide(st, "region=NA&session=z", prio, sizeof(prio));
    T_EQ_STR(prio, "cdn-c,cdn-b,cdn-a");
    decide(st, "region=SA&session=z", prio, sizeof(prio));
    T_EQ_STR(prio, "cdn-a,cdn-b");
    json_t *list = steer_mitigations(st);
    T_EQ_INT(json_array_size(list), 1);
    json_decref(list);
    T_EQ_INT(steer_revert(st, 1, "bob", NULL), 0);
    oc_bus_drain(bus);
    T_EQ_INT(bus_seen, 101); /* mitigation.reverted */
    decide(st, "region=NA&session=z", prio, sizeof(prio));
    T_EQ_STR(prio, "cdn-a,cdn-b");
    T_EQ_INT(steer_revert(st, 1, "bob", NULL), OC_ECONFLICT);
    oc_bus_drain(bus);
    T_EQ_INT(steer_revert(st, 99, "bob", NULL), OC_ENOTFOUND);
    oc_bus_drain(bus);
    json_decref(rec);
    json_decref(req);
    steer_destroy(st);
    oc_bus_destroy(bus);
}

static void test_mitigation_percent_is_sticky(void)
{
    struct steer *st = mk(1, 0, NULL);
    char err[128], prio[PRIO_MAX], qs[64];
    json_t *req = json_pack("{s:s, s:s, s:s, s:i}", "kind", "shift-cdn", "region", "APAC", "to",
                            "cdn-b", "percent", 30),
           *rec = NULL;
    T_EQ_INT(steer_mitigate(st, req, "a", 0, &rec, err, sizeof(err)), 0);
    int moved = 0;
    for (int i = 0; i < 2000; i++) {
        snprintf(qs, sizeof(qs), "region=APAC&session=v%d", i);
        decide(st, qs, prio, sizeof(prio));
        int in = steer_bucket(qs + 20) < 3000;
        T_EQ_STR(prio, in ? "cdn-b,cdn-a" : "cdn-a,cdn-b");
        moved += in;
    }
    T_TRUE(moved > 500 && moved < 700);
    json_decref(rec);
    json_decref(req);
    steer_destroy(st);
}

static void test_mitigation_dry_run_changes_nothing(void)
{
    struct steer *st = mk(1, 0, NULL);
    char err[128], prio[PRIO_MAX];
    json_t *req =
               json_pack("{s:s, s:s, s:s}", "kind", "shift-cdn", "region", "EMEA", "to", "cdn-b"),
           *out = NULL;
    T_EQ_INT(steer_mitigate(st, req, "a", 1, &out, err, sizeof(err)), 0);
    T_TRUE(json_is_true(json_object_get(out, "dry_run")));
    json_t *before = json_object_get(json_object_get(out, "before"), "PATHWAY-PRIORITY");
    json_t *after = json_object_get(json_object_get(out, "after"), "PATHWAY-PRIORITY");
    T_EQ_STR(json_string_value(json_array_get(after, 0)), "cdn-b");
    T_EQ_INT(json_array_size(before), 2);
    json_t *list = steer_mitigations(st);
    T_EQ_INT(json_array_size(list), 0);
    json_decref(list);
    decide(st, "region=EMEA&session=x", prio, sizeof(prio));
    T_TRUE(strcmp(prio, "cdn-a,cdn-b") == 0 || steer_bucket("x") < 2000);
    json_decref(out);
    json_decref(req);
    steer_destroy(st);
}

static void test_mitigation_backup_origin(void)
{
    struct steer *st = mk(1, 0, NULL);
    struct oc_buf b;
    struct steer_answer ans;
    char err[128] = "";
    json_t *req = json_pack("{s:s, s:s}", "kind", "backup-origin", "service", "packager"),
           *rec = NULL;
    T_EQ_INT(steer_mitigate(st, req, "a", 0, &rec, err, sizeof(err)), OC_EINVAL);
    T_CONTAINS(err, "host");
    json_object_set_new(req, "host", json_string("backup.example.org"));
    T_EQ_INT(steer_mitigate(st, req, "a", 0, &rec, err, sizeof(err)), 0);
    T_EQ_INT(ask(st, STEER_HLS, "movie", "session=q", &b, &ans), 200);
    json_t *m = json_loads(b.data, 0, NULL);
    T_EQ_STR(json_string_value(json_array_get(json_object_get(m, "PATHWAY-PRIORITY"), 0)),
             "backup-packager");
    json_t *c = json_array_get(json_object_get(m, "PATHWAY-CLONES"), 0);
    T_EQ_STR(json_string_value(json_object_get(c, "ID")), "backup-packager");
    T_EQ_STR(json_string_value(json_object_get(c, "BASE-ID")), "cdn-a");
    T_EQ_STR(json_string_value(json_object_get(json_object_get(c, "URI-REPLACEMENT"), "HOST")),
             "backup.example.org");
    json_decref(m);
    oc_buf_free(&b);
    json_decref(rec);
    json_decref(req);
    steer_destroy(st);
}

struct mit_bad {
    const char *req;  /* mitigation request */
    const char *want; /* expected substring of the error */
};

static void test_mitigation_rejects(void)
{
    static const struct mit_bad bad[] = {
        {"{\"kind\": \"nuke\"}", "kind"},
        {"{\"kind\": \"shift-cdn\", \"to\": \"cdn-b\"}", "region: required"},
        {"{\"kind\": \"shift-cdn\", \"region\": \"EU\", \"to\": \"cdn-z\"}", "cdn-z"},
        {"{\"kind\": \"shift-cdn\", \"region\": \"EU\", \"to\": \"cdn-b\", \"percent\": 0}",
         "percent"},
        {"{\"kind\": \"shift-cdn\", \"region\": \"EU\", \"to\": \"cdn-b\", \"x\": 1}", "x: not"},
        {"{\"kind\": \"flag\", \"name\": \"f\"}", "on: required"},
        {"{\"kind\": \"rollback\", \"service\": \"a b\"}", "service"},
        {0},
    };
    struct steer *st = mk(1, 0, NULL);
    char err[256];
    json_t *out = NULL;
    for (const struct mit_bad *c = bad; c->req; c++) {
        json_t *req = json_loads(c->req, 0, NULL);
        err[0] = '\0';
        T_EQ_INT(steer_mitigate(st, req, "a", 0, &out, err, sizeof(err)), OC_EINVAL);
        T_CONTAINS(err, c->want);
        T_TRUE(out == NULL);
        json_decref(req);
    }
    json_t *list = steer_mitigations(st);
    T_EQ_INT(json_array_size(list), 0);
    json_decref(list);
    steer_destroy(st);
}

static void test_store_persistence(void)
{
    char dir[] = "/tmp/oncue-test-steer-XXXXXX", err[256] = "", prio[PRIO_MAX];
    struct store *s = NULL;
    struct steer *st = NULL;
    json_t *rec = NULL;
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &s, err, sizeof(err)), 0);
    struct steer_opts o = {.clock = &clk, .store = s};
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, 5000);
    T_EQ_INT(steer_new(&o, &st), 0);
    json_t *doc = json_loads(policy_text, 0, NULL);
    T_EQ_INT(steer_policy_set(st, doc, "t", err, sizeof(err)), 0);
    json_t *req = json_pack("{s:s, s:s, s:s}", "kind", "shift-cdn", "region", "NA", "to", "cdn-b");
    T_EQ_INT(steer_mitigate(st, req, "a", 0, &rec, err, sizeof(err)), 0);
    json_decref(rec);
    T_EQ_INT(steer_mitigate(st, req, "a", 0, &rec, err, sizeof(err)), 0);
    T_EQ_INT(steer_revert(st, json_integer_value(json_object_get(rec, "id")), "b", NULL), 0);
    json_decref(rec);
    steer_destroy(st);
    store_close(s);
    /* reopen: the policy, the active shift and the reverted one come back */
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &s, err, sizeof(err)), 0);
    o.store = s;
    T_EQ_INT(steer_new(&o, &st), 0);
    decide(st, "region=NA&session=z", prio, sizeof(prio));
    T_EQ_STR(prio, "cdn-b,cdn-a");
    json_t *list = steer_mitigations(st);
    T_EQ_INT(json_array_size(list), 2);
    T_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "state")), "reverted");
    T_EQ_STR(json_string_value(json_object_get(json_array_get(list, 1), "state")), "active");
    json_decref(list);
    T_EQ_INT(steer_mitigate(st, req, "a", 0, &rec, err, sizeof(err)), 0);
    T_EQ_INT(json_integer_value(json_object_get(rec, "id")), 3);
    json_decref(rec);
    json_decref(req);
    json_decref(doc);
    steer_destroy(st);
    store_close(s);
    t_rmtree(dir);
}

struct reader_arg {
    struct steer *st;
    int bad; /* answers that were not a 200 manifest */
};

static void *reader(void *arg)
{
    struct reader_arg *a = arg;
    struct steer_answer ans;
    struct oc_buf b;
    for (int i = 0; i < 20000; i++) {
        oc_buf_init(&b, 1 << 16);
        const char *qs = i % 2 ? "region=EMEA&session=x1" : "region=NA&session=x2";
        if (steer_answer(a->st, STEER_HLS, "m", qs, strlen(qs), NULL, &b, &ans) != 0 ||
            ans.status != 200 || strncmp(b.data, "{\"VERSION\":1,", 12) != 0)
            a->bad++;
        oc_buf_free(&b);
    }
    return NULL;
}

static void test_concurrent_answers_and_changes(void)
{
    struct steer *st = mk(1, 0, NULL);
    struct reader_arg ra[2] = {{st, 0}, {st, 0}};
    pthread_t th[2];
    char err[128];
    json_t *req =
               json_pack("{s:s, s:s, s:s}", "kind", "shift-cdn", "region", "EMEA", "to", "cdn-b"),
           *doc = json_loads(policy_text, 0, NULL), *rec;
    for (int i = 0; i < 2; i++)
        T_EQ_INT(pthread_create(&th[i], NULL, reader, &ra[i]), 0);
    for (int i = 0; i < 200; i++) {
        T_EQ_INT(steer_mitigate(st, req, "w", 0, &rec, err, sizeof(err)), 0);
        T_EQ_INT(steer_revert(st, json_integer_value(json_object_get(rec, "id")), "w", NULL), 0);
        json_decref(rec);
        if (i % 20 == 0)
            T_EQ_INT(steer_policy_set(st, doc, "w", err, sizeof(err)), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    T_EQ_INT(ra[0].bad + ra[1].bad, 0);
    json_t *list = steer_mitigations(st);
    T_EQ_INT(json_array_size(list), 200);
    json_decref(list);
    json_decref(doc);
    json_decref(req);
    steer_destroy(st);
}

/* Publishes an alert event for (region, cdn). */
static void alert(struct oc_bus *bus, const char *topic, const char *region, const char *cdn)
{
    json_t *ev = json_pack("{s:s, s:{s:s, s:s}}", "rule", "rebuffer-band", "slice", "region",
                           region, "cdn", cdn);
    (oc_bus_publish(bus, topic, ev), oc_bus_drain(bus));
    json_decref(ev);
}

/* A state with three CDNs and automatic steering configured by auto_json, on a bus. */
static struct steer *mk_auto(struct oc_bus *bus, const char *auto_json)
{
    struct steer_opts o = {.clock = &clk, .bus = bus};
    struct steer *st = NULL;
    char err[256] = "";
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, 1000000);
    T_EQ_INT(steer_new(&o, &st), 0);
    json_t *doc = json_pack("{s:[s,s,s], s:o}", "pathways", "cdn-a", "cdn-b", "cdn-c", "auto",
                            json_loads(auto_json, 0, NULL));
    T_EQ_INT(steer_policy_set(st, doc, "t", err, sizeof(err)), 0);
    T_EQ_STR(err, "");
    json_decref(doc);
    T_EQ_INT(oc_bus_subscribe(bus, "alert.fired", steer_auto_on_alert, st), 0);
    T_EQ_INT(oc_bus_subscribe(bus, "alert.resolved", steer_auto_on_alert, st), 0);
    return st;
}

static void test_auto_shift_hold_and_cap(void)
{
    struct oc_bus *bus = oc_bus_new();
    struct steer *st = mk_auto(bus, "{\"enabled\": true, \"regions\": [\"EMEA\"], "
                                    "\"hold_s\": 600, \"min_interval_s\": 900}");
    char prio[PRIO_MAX];
    alert(bus, "alert.fired", "NA", "cdn-a"); /* not an automatic region */
    decide(st, "region=NA", prio, sizeof(prio));
    T_EQ_STR(prio, "cdn-a,cdn-b,cdn-c");
    alert(bus, "alert.fired", "EMEA", "cdn-a");
    alert(bus, "alert.fired", "EMEA", "cdn-a"); /* a second alert: no second move */
    decide(st, "region=EMEA", prio, sizeof(prio));
    T_EQ_STR(prio, "cdn-b,cdn-c,cdn-a");
    json_t *list = steer_mitigations(st), *rec = json_array_get(list, 0);
    T_EQ_INT(json_array_size(list), 1);
    T_EQ_STR(json_string_value(json_object_get(rec, "actor")), "auto");
    T_CONTAINS(json_string_value(json_object_get(json_object_get(rec, "spec"), "reason")),
               "alert rebuffer-band fired on cdn=cdn-a in region=EMEA");
    json_decref(list);
    oc_clock_advance_ms(&clk, 100000);
    alert(bus, "alert.resolved", "EMEA", "cdn-a");
    T_EQ_INT(steer_auto_tick(st), 0); /* one alert still firing */
    alert(bus, "alert.resolved", "EMEA", "cdn-a");
    oc_clock_advance_ms(&clk, 599000);
    T_EQ_INT(steer_auto_tick(st), 0); /* healthy for 599 s < hold */
    oc_clock_advance_ms(&clk, 1000);
    T_EQ_INT(steer_auto_tick(st), 0); /* held, but moved only 700 s ago < 900 */
    oc_clock_advance_ms(&clk, 200000);
    T_EQ_INT(steer_auto_tick(st), 1);
    oc_bus_drain(bus);
    decide(st, "region=EMEA", prio, sizeof(prio));
    T_EQ_STR(prio, "cdn-a,cdn-b,cdn-c");
    alert(bus, "alert.fired", "EMEA", "cdn-a"); /* flapping: the cap holds it */
    decide(st, "region=EMEA", prio, sizeof(prio));
    T_EQ_STR(prio, "cdn-a,cdn-b,cdn-c");
    oc_clock_advance_ms(&clk, 900000);
    alert(bus, "alert.fired", "EMEA", "cdn-a");
    decide(st, "region=EMEA", prio, sizeof(prio));
    T_EQ_STR(prio, "cdn-b,cdn-c,cdn-a");
    oc_bus_unsubscribe(bus, steer_auto_on_alert, st);
    steer_destroy(st);
    oc_bus_destroy(bus);
}

static void test_auto_picks_healthy_and_off_by_default(void)
{
    struct oc_bus *bus = oc_bus_new();
    struct steer *st = mk_auto(bus, "{\"enabled\": true, \"min_interval_s\": 0}");
    char prio[PRIO_MAX];
    alert(bus, "alert.fired", "APAC", "cdn-c"); /* moves APAC: cdn-c was not first, still */
    decide(st, "region=APAC", prio, sizeof(prio));
    T_EQ_STR(prio, "cdn-a,cdn-b,cdn-c");
    alert(bus, "alert.fired", "LATAM", "cdn-b");
    alert(bus, "alert.fired", "LATAM", "cdn-a"); /* LATAM already moved away from cdn-b */
    decide(st, "region=LATAM", prio, sizeof(prio));
    T_EQ_STR(prio, "cdn-a,cdn-c,cdn-b");
    alert(bus, "alert.fired", "SA", "cdn-b");
    alert(bus, "alert.resolved", "SA", "cdn-b");
    alert(bus, "alert.fired", "MEA", "cdn-b"); /* keeps cdn-b firing in MEA only */
    alert(bus, "alert.fired", "SA", "cdn-x");  /* not a pathway: ignored */
    json_t *list = steer_mitigations(st);
    T_EQ_INT(json_array_size(list), 4); /* APAC, LATAM, SA, MEA */
    json_decref(list);
    oc_bus_unsubscribe(bus, steer_auto_on_alert, st);
    steer_destroy(st);
    /* disabled: nothing moves, but alerts are counted; once enabled, the target skips the
     * pathway that has an alert firing in the region */
    struct oc_bus *bus2 = oc_bus_new();
    char err[128];
    st = mk_auto(bus2, "{\"enabled\": false}");
    alert(bus2, "alert.fired", "EMEA", "cdn-b");
    alert(bus2, "alert.fired", "EMEA", "cdn-a");
    decide(st, "region=EMEA", prio, sizeof(prio));
    T_EQ_STR(prio, "cdn-a,cdn-b,cdn-c");
    json_t *doc = json_loads("{\"pathways\": [\"cdn-a\", \"cdn-b\", \"cdn-c\"], "
                             "\"auto\": {\"enabled\": true}}",
                             0, NULL);
    T_EQ_INT(steer_policy_set(st, doc, "t", err, sizeof(err)), 0);
    oc_bus_drain(bus);
    oc_bus_drain(bus2);
    json_decref(doc);
    alert(bus2, "alert.fired", "EMEA", "cdn-a");
    decide(st, "region=EMEA", prio, sizeof(prio));
    T_EQ_STR(prio, "cdn-c,cdn-b,cdn-a");
    oc_bus_unsubscribe(bus2, steer_auto_on_alert, st);
    steer_destroy(st);
    oc_bus_destroy(bus);
    oc_bus_destroy(bus2);
}

static void test_geo_region_map(void)
{
    struct steer_geo *g = NULL;
    char err[512] = "";
    T_EQ_INT(steer_geo_open(NULL, NULL, &g, err, sizeof(err)), 0);
    T_EQ_INT(steer_geo_ndbs(g), 0);
    T_EQ_STR(steer_geo_region(g, "GB", "EU"), "EMEA");
    T_EQ_STR(steer_geo_region(g, "SA", "AS"), "EMEA"); /* Saudi Arabia, not South America */
    T_EQ_STR(steer_geo_region(g, "JP", "AS"), "APAC");
    T_EQ_STR(steer_geo_region(g, "MX", "NA"), "LATAM");
    T_EQ_STR(steer_geo_region(g, "US", "NA"), "NA");
    T_EQ_STR(steer_geo_region(g, "", "SA"), "LATAM");
    T_EQ_STR(steer_geo_region(g, "ZZ", "OC"), "APAC");
    T_TRUE(steer_geo_region(g, "ZZ", "") == NULL);
    T_TRUE(steer_geo_region(g, NULL, NULL) == NULL);
    steer_geo_close(g);
    /* a configured map replaces the built-in one; a country entry wins over its continent */
    T_EQ_INT(steer_geo_open("", "continent:EU=europe, country:GB=uk,,", &g, err, sizeof(err)), 0);
    T_EQ_STR(steer_geo_region(g, "GB", "EU"), "uk");
    T_EQ_STR(steer_geo_region(g, "FR", "EU"), "europe");
    T_TRUE(steer_geo_region(g, "US", "NA") == NULL);
    steer_geo_close(g);
}

static void test_geo_rejects(void)
{
    static const struct {
        const char *paths, *regions, *want;
    } c[] = {
        {NULL, "continent:eu=EMEA", "steer.geoip_regions: \"continent:eu=EMEA\": expected"},
        {NULL, "planet:EA=EMEA", "steer.geoip_regions: \"planet:EA=EMEA\""},
        {NULL, "country:GB=", "steer.geoip_regions: \"country:GB=\""},
        {NULL, "country:GBR=UK", "\"country:GBR=UK\""},
        {NULL, "country:GB=U K", "steer.geoip_regions: \"K\""}, /* a space separates */
        {"/nonexistent/GeoLite2-City.mmdb", NULL,
         "steer.geoip_db: /nonexistent/GeoLite2-City.mmdb: No such file or directory"},
        {"a,b,c,d,e", NULL, "steer.geoip_db: a: No such file or directory"},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct steer_geo *g = (struct steer_geo *)1;
        char err[512] = "";
        T_EQ_INT(steer_geo_open(c[i].paths, c[i].regions, &g, err, sizeof(err)), OC_EINVAL);
        T_TRUE(g == NULL);
        T_CONTAINS(err, c[i].want);
    }
    /* a file that is not a MaxMind database */
    char path[] = "/tmp/oncue-geo-XXXXXX", err[512] = "";
    int fd = mkstemp(path);
    T_TRUE(fd >= 0);
    T_EQ_INT((int)write(fd, "not a database\n", 15), 15);
    close(fd);
    struct steer_geo *g = NULL;
    T_EQ_INT(steer_geo_open(path, NULL, &g, err, sizeof(err)), OC_EINVAL);
    T_CONTAINS(err, path);
    T_CONTAINS(err, "MaxMind DB");
    unlink(path);
}

/* The address steer_client_addr_parse finds in s, as text, or "EINVAL". */
static const char *addr_of(const char *s, char *out, size_t n)
{
    struct sockaddr_storage ss;
    if (steer_client_addr_parse(s, strlen(s), &ss) != 0)
        return "EINVAL";
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)n);
    else
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, (socklen_t)n);
    return out;
}

static void test_client_addr_parse(void)
{
    static const struct {
        const char *in, *want;
    } c[] = {
        {"81.2.69.160", "81.2.69.160"},
        {" 81.2.69.160 , 10.0.0.1, 10.0.0.2", "81.2.69.160"},
        {"81.2.69.160:51234", "81.2.69.160"},
        {"2a02:1000::1", "2a02:1000::1"},
        {"[2a02:1000::1]:443, 10.0.0.1", "2a02:1000::1"},
        {"::ffff:81.2.69.160", "::ffff:81.2.69.160"},
        {"", "EINVAL"},
        {" , 10.0.0.1", "EINVAL"},
        {"unknown", "EINVAL"},
        {"[2a02:1000::1", "EINVAL"},
        {"1.2.3.4.5", "EINVAL"},
        {"1.2.3.256", "EINVAL"},
        {"81.2.69.160:80:80", "EINVAL"},
        {"2a02:1000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001", "EINVAL"},
    };
    char buf[INET6_ADDRSTRLEN];
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        T_EQ_STR(addr_of(c[i].in, buf, sizeof(buf)), c[i].want);
    struct sockaddr_storage ss;
    T_EQ_INT(steer_client_addr_parse("81.2.69.160", 5, &ss), OC_EINVAL); /* "81.2." only */
    T_EQ_INT(steer_client_addr_parse(NULL, 0, &ss), OC_EINVAL);
}

static const struct t_case cases[] = {
    T_CASE(test_query_hls_unquoted),
    T_CASE(test_query_dash_quoted_list),
    T_CASE(test_query_attributes),
    T_CASE(test_query_rejects),
    T_CASE(test_bucket_stable_and_spread),
    T_CASE(test_manifest_fields_per_spec),
    T_CASE(test_manifest_exact_bytes_and_relative_reload),
    T_CASE(test_policy_eval_by_value),
    T_CASE(test_weighted_stickiness),
    T_CASE(test_policy_rejects),
    T_CASE(test_answer_429_410_400_503),
    T_CASE(test_throughput_measures_and_metrics),
    T_CASE(test_measures_capped),
    T_CASE(test_flags),
    T_CASE(test_mitigation_shift_and_revert),
    T_CASE(test_mitigation_percent_is_sticky),
    T_CASE(test_mitigation_dry_run_changes_nothing),
    T_CASE(test_mitigation_backup_origin),
    T_CASE(test_mitigation_rejects),
    T_CASE(test_store_persistence),
    T_CASE(test_concurrent_answers_and_changes),
    T_CASE(test_auto_shift_hold_and_cap),
    T_CASE(test_auto_picks_healthy_and_off_by_default),
    T_CASE(test_geo_region_map),
    T_CASE(test_geo_rejects),
    T_CASE(test_client_addr_parse),
    {0},
};

T_MAIN(cases)
