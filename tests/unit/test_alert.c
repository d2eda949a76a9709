/*
 * test_alert.c - alert rules and their evaluation on a cube built minute by minute on a
 * virtual clock: sustained windows, hysteresis, min volume, one alert per breaching group,
 * burn-rate math by value, YAML errors with line numbers, Alertmanager translation, the
 * firing history and the audit.
 */
#define _DEFAULT_SOURCE
#include "ingest/ingest.h"
#include "t.h"
#include "t_store.h"

#include "alert/alert.h"
#include "core/topics.h"
#include "core/bus.h"
#include "core/clock.h"
#include "config/config.h"
#include "core/err.h"
#include "core/module.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#define T0 1772472000LL /* 2026-03-02T17:20:00Z, a minute boundary */

/* One group of one minute: viewers sessions, rebuf of them rebuffering. */
struct grp {
    const char *region, *cdn;
    int viewers, rebuf;
};

struct fx {
    struct oc_clock clk;
    struct qoe_cube *cube;
    struct ingest_batch batch;
    struct oc_bus *bus;
    json_t *events; /* [{"topic", "payload"}] as published */
    struct slo_set *slos;
    struct alert_rules *rules;
    struct alert_engine *eng;
    int64_t t; /* next minute to add */
};

static void capture(const char *topic, const json_t *payload, void *arg)
{
    json_array_append_new(arg, json_pack("{s:s, s:O}", "topic", topic, "payload", payload));
}

static void fx_open(struct fx *f, const char *rules_yaml, struct store *st)
{
    struct qoe_cube_opts o;
    char err[512] = "";
    memset(f, 0, sizeof(*f));
    oc_clock_init(&f->clk, OC_CLOCK_VIRTUAL, T0 * 1000);
    qoe_cube_opts_default(&o);
    o.allowed_lateness_s = 0;
    f->cube = qoe_cube_new(&o, &f->clk);
    ingest_batch_init(&f->batch, 100000);
    f->bus = oc_bus_new();
    f->events = json_array();
    oc_bus_subscribe(f->bus, "alert.fired", capture, f->events);
    oc_bus_subscribe(f->bus, "alert.resolved", capture, f->events);
    T_EQ_INT(slo_set_load(NULL, &f->slos, err, sizeof(err)), 0);
    T_EQ_INT(alert_rules_parse("t.yaml", rules_yaml, strlen(rules_yaml), f->slos, &f->rules, err,
                               sizeof(err)),
             0);
    T_EQ_STR(err, "");
    f->eng = alert_engine_new(f->rules, f->slos, f->bus, st);
    alert_engine_start_at(f->eng, T0);
    f->t = T0;
}

static void fx_close(struct fx *f)
{
    alert_engine_destroy(f->eng);
    alert_rules_destroy(f->rules);
    slo_set_destroy(f->slos);
    oc_bus_destroy(f->bus);
    json_decref(f->events);
    ingest_batch_free(&f->batch);
    qoe_cube_destroy(f->cube);
}

/* Folds off bytes of NDJSON events into the minute f->t, closes it and evaluates; returns
 * the events published by that evaluation. */
static int fx_fold_minute(struct fx *f, const char *body, size_t off)
{
    char err[200] = "";
    oc_clock_set_ms(&f->clk, f->t * 1000 + 30000);
    if (off) {
        T_EQ_INT(ingest_parse(&f->batch, body, off, err, sizeof(err)), 0);
        T_EQ_STR(err, "");
        T_EQ_INT(ingest_fold(f->cube, &f->batch, NULL), f->batch.nitems);
    }
    f->t += 60;
    oc_clock_set_ms(&f->clk, f->t * 1000 + 1);
    qoe_cube_tick(f->cube);
    int n = alert_eval_tick(f->eng, f->cube, oc_clock_now_s(&f->clk));
    oc_bus_drain(f->bus);
    return n;
}

/* Adds one minute of heartbeats (10 s playing each; rebuffering ones 500 ms of rebuffer),
 * closes it and evaluates; returns the events published by that evaluation. */
static int fx_minute(struct fx *f, const struct grp *g, int ng)
{
    static char body[1 << 22];
    size_t off = 0;
    for (int i = 0; i < ng; i++)
        for (int s = 0; s < g[i].viewers; s++)
            off += (size_t)snprintf(body + off, sizeof(body) - off,
                                    "{\"ts\":%lld,\"type\":\"heartbeat\",\"session\":\"%s-%s-%d\","
                                    "\"region\":\"%s\",\"cdn\":\"%s\",\"playing_ms\":10000,"
                                    "\"rebuffer_ms\":%d,\"bitrate_kbps\":3000}\n",
                                    (long long)(f->t * 1000 + 1000 + s % 50000), g[i].region,
                                    g[i].cdn, s, g[i].region, g[i].cdn, s < g[i].rebuf ? 500 : 0);
    return fx_fold_minute(f, body, off);
}

/* Shorthand: one minute of one group, EMEA/primary, 1000 viewers, share given in 0.1 %. */
static int share_minute(struct fx *f, int permille)
{
    struct grp g = {"EMEA", "primary", 1000, permille};
    return fx_minute(f, &g, 1);
}

static const char *ev_str(struct fx *f, size_t i, const char *key)
{
    json_t *e = json_array_get(f->events, i);
    if (strcmp(key, "topic") == 0)
        return json_string_value(json_object_get(e, "topic"));
    return json_string_value(json_object_get(json_object_get(e, "payload"), key));
}

static json_int_t ev_int(struct fx *f, size_t i, const char *key)
{
    return json_integer_value(
        json_object_get(json_object_get(json_array_get(f->events, i), "payload"), key));
}

static const char *const rule_page = "rules:\n"
                                     "  - name: reb-page\n"
                                     "    metric: rebuffering_share\n"
                                     "    group_by: [region]\n"
                                     "    op: \">\"\n"
                                     "    threshold: 0.05\n"
                                     "    for: 3m\n"
                                     "    level: page\n";

/* Two breaching minutes do not fire; three fire once, at the end of the third minute, and a
 * held condition does not fire again. */
static void test_sustained(void)
{
    struct fx f;
    fx_open(&f, rule_page, NULL);
    T_EQ_INT(share_minute(&f, 80), 0);
    T_EQ_INT(share_minute(&f, 80), 0);
    T_EQ_INT(share_minute(&f, 10), 0); /* window - 1 minutes, then a good one: nothing */
    T_EQ_INT(share_minute(&f, 60), 0);
    T_EQ_INT(share_minute(&f, 70), 0);
    T_EQ_INT(share_minute(&f, 90), 1); /* the third breaching minute */
    for (int i = 0; i < 5; i++)
        T_EQ_INT(share_minute(&f, 90), 0);
    T_EQ_INT(json_array_size(f.events), 1);
    T_EQ_STR(ev_str(&f, 0, "topic"), "alert.fired");
    T_EQ_STR(ev_str(&f, 0, "alert_id"), "reb-page/region=EMEA");
    T_EQ_STR(ev_str(&f, 0, "rule"), "reb-page");
    T_EQ_STR(ev_str(&f, 0, "metric"), "rebuffering_share");
    T_EQ_STR(ev_str(&f, 0, "level"), "page");
    T_EQ_STR(ev_str(&f, 0, "op"), ">");
    T_EQ_STR(ev_str(&f, 0, "source"), "oncue");
    T_EQ_INT(ev_int(&f, 0, "since"), T0 + 3 * 60);
    T_EQ_INT(ev_int(&f, 0, "at"), T0 + 6 * 60);
    T_EQ_INT(ev_int(&f, 0, "window_s"), 180);
    json_t *p = json_object_get(json_array_get(f.events, 0), "payload");
    T_EQ_DBL(json_real_value(json_object_get(p, "value")), 0.09, 1e-12);
    T_EQ_DBL(json_real_value(json_object_get(p, "threshold")), 0.05, 1e-12);
    T_EQ_STR(json_string_value(json_object_get(json_object_get(p, "slice"), "region")), "EMEA");
    T_EQ_INT(json_object_size(json_object_get(p, "slice")), 1);
    json_t *active = alert_engine_active(f.eng);
    T_EQ_INT(json_array_size(active), 1);
    json_decref(active);
    fx_close(&f);
}

/* A reload (alert_engine_set_rules): a rule kept by name keeps its firing state (no second
 * alert.fired), a rule that is gone resolves its firing alert at once. */
static void test_set_rules(void)
{
    static const char *const two = "rules:\n"
                                   "  - name: other\n    metric: vsf_rate\n    op: \">\"\n"
                                   "    threshold: 0.5\n    for: 1m\n    level: notify\n"
                                   "  - name: reb-page\n    metric: rebuffering_share\n"
                                   "    group_by: [region]\n    op: \">\"\n    threshold: 0.05\n"
                                   "    for: 3m\n    level: page\n";
    struct fx f;
    struct alert_rules *moved = NULL, *none = NULL;
    char err[512] = "";
    fx_open(&f, rule_page, NULL);
    for (int i = 0; i < 3; i++)
        share_minute(&f, 90);
    T_EQ_INT(json_array_size(f.events), 1); /* fired */
    T_EQ_INT(alert_rules_parse("t.yaml", two, strlen(two), f.slos, &moved, err, sizeof(err)), 0);
    T_EQ_INT(alert_engine_set_rules(f.eng, moved), 0); /* reb-page is now rule 1: kept */
    T_EQ_INT(share_minute(&f, 90), 0);
    T_EQ_INT(json_array_size(f.events), 1); /* still firing, not fired again */
    json_t *active = alert_engine_active(f.eng);
    T_EQ_STR(json_string_value(json_object_get(json_array_get(active, 0), "rule")), "reb-page");
    json_decref(active);
    T_EQ_INT(alert_rules_parse("t.yaml", "rules: []\n", 10, f.slos, &none, err, sizeof(err)), 0);
    T_EQ_INT(alert_engine_set_rules(f.eng, none), 1);
    oc_bus_drain(f.bus);
    T_EQ_INT(json_array_size(f.events), 2);
    T_EQ_STR(ev_str(&f, 1, "topic"), "alert.resolved");
    T_EQ_STR(ev_str(&f, 1, "alert_id"), "reb-page/region=EMEA");
    T_EQ_INT(ev_int(&f, 1, "at"), T0 + 4 * 60);
    active = alert_engine_active(f.eng);
    T_EQ_INT(json_array_size(active), 0);
    json_decref(active);
    fx_close(&f); /* the engine's rules are none now; f.rules is freed by fx_close */
    alert_rules_destroy(moved);
    alert_rules_destroy(none);
}

/* Posts n heartbeats of minute t (tag makes the sessions distinct), rb of them rebuffering,
 * at the clock's current time (late when that is past the minute). */
static void post_minute(struct fx *f, int64_t t, const char *tag, int n, int rb)
{
    static char body[1 << 20];
    size_t off = 0;
    char err[200];
    for (int s = 0; s < n; s++)
        off += (size_t)snprintf(body + off, sizeof(body) - off,
                                "{\"ts\":%lld,\"type\":\"heartbeat\",\"session\":\"%s-%d\","
                                "\"region\":\"EMEA\",\"cdn\":\"primary\",\"playing_ms\":10000,"
                                "\"rebuffer_ms\":%d,\"bitrate_kbps\":3000}\n",
                                (long long)(t * 1000 + 1000 + s), tag, s, s < rb ? 500 : 0);
    T_EQ_INT(ingest_parse(&f->batch, body, off, err, sizeof(err)), 0);
    T_EQ_INT(ingest_fold(f->cube, &f->batch, NULL), f->batch.nitems);
}

/* Sets the clock, ticks the cube, evaluates; the events of that evaluation. */
static int eval_at(struct fx *f, int64_t now_s)
{
    oc_clock_set_ms(&f->clk, now_s * 1000);
    qoe_cube_tick(f->cube);
    int n = alert_eval_tick(f->eng, f->cube, now_s);
    oc_bus_drain(f->bus);
    return n;
}

/* A minute revised by late events counts as revised in the windows still open over it: minute
 * 0 reads 1% when it is complete (15 s after its end), late events make it 10% before it
 * closes (120 s), and with minutes 1 and 2 at 8% the rule's 3-minute window holds at minute 2
 * (since minute 0), not a minute later. */
static void test_revised_minute_counts(void)
{
    struct fx f;
    struct qoe_cube_opts o;
    fx_open(&f, rule_page, NULL);
    qoe_cube_destroy(f.cube); /* the defaults: complete at 15 s, closed at 120 s */
    qoe_cube_opts_default(&o);
    f.cube = qoe_cube_new(&o, &f.clk);
    oc_clock_set_ms(&f.clk, T0 * 1000 + 30000);
    post_minute(&f, T0, "a", 1000, 10);
    oc_clock_set_ms(&f.clk, T0 * 1000 + 90000);
    post_minute(&f, T0 + 60, "b", 1000, 80);
    T_EQ_INT(eval_at(&f, T0 + 90), 0);     /* minute 0 complete at 1%: no breach */
    post_minute(&f, T0, "late", 100, 100); /* 110 of 1100 rebuffering: 10% */
    oc_clock_set_ms(&f.clk, T0 * 1000 + 150000);
    post_minute(&f, T0 + 120, "c", 1000, 80);
    T_EQ_INT(eval_at(&f, T0 + 150), 0); /* minute 1 complete: two breaching of three */
    oc_clock_set_ms(&f.clk, T0 * 1000 + 200000);
    post_minute(&f, T0 + 180, "d", 10, 0); /* the watermark passes minute 2's end + 15 s */
    struct qoe_cube_stats st;
    T_EQ_INT(eval_at(&f, T0 + 200), 1);
    qoe_cube_stats(f.cube, &st);
    T_EQ_INT(st.minutes_revised, 1);
    T_EQ_STR(ev_str(&f, 0, "topic"), "alert.fired");
    T_EQ_INT(ev_int(&f, 0, "since"), T0);
    T_EQ_INT(ev_int(&f, 0, "at"), T0 + 180);
    fx_close(&f);
}

/* Hovering at the line after firing does not flap; three minutes under 0.8 x resolve once. */
static void test_hysteresis(void)
{
    struct fx f;
    static const int hover[] = {45, 55, 49, 51, 41, 60, 39, 39, 45, 39, 39};
    fx_open(&f, rule_page, NULL);
    for (int i = 0; i < 3; i++)
        share_minute(&f, 60);
    T_EQ_INT(json_array_size(f.events), 1);
    for (size_t i = 0; i < sizeof(hover) / sizeof(hover[0]); i++)
        T_EQ_INT(share_minute(&f, hover[i]), 0);
    T_EQ_INT(json_array_size(f.events), 1);
    T_EQ_INT(share_minute(&f, 39), 1); /* 39, 39, 39: clear for 3 minutes */
    T_EQ_INT(json_array_size(f.events), 2);
    T_EQ_STR(ev_str(&f, 1, "topic"), "alert.resolved");
    T_EQ_STR(ev_str(&f, 1, "alert_id"), "reb-page/region=EMEA");
    T_EQ_INT(ev_int(&f, 1, "since"), T0);
    T_EQ_INT(ev_int(&f, 1, "at"), T0 + 15 * 60);
    /* Back above the line: it needs the whole window again. */
    T_EQ_INT(share_minute(&f, 60), 0);
    T_EQ_INT(share_minute(&f, 60), 0);
    T_EQ_INT(share_minute(&f, 60), 1);
    T_EQ_INT(ev_int(&f, 2, "since"), T0 + 15 * 60);
    fx_close(&f);
}

/* A group that loses its traffic while firing resolves after the clear window, saying "no
 * data" (its value is null), not "nan". */
static void test_lost_traffic_resolves(void)
{
    struct fx f;
    fx_open(&f, rule_page, NULL);
    for (int i = 0; i < 3; i++)
        share_minute(&f, 60);
    T_EQ_INT(json_array_size(f.events), 1);
    T_EQ_INT(fx_minute(&f, NULL, 0), 0);
    T_EQ_INT(fx_minute(&f, NULL, 0), 0);
    T_EQ_INT(fx_minute(&f, NULL, 0), 1); /* no data for 3 minutes: clear */
    T_EQ_INT(json_array_size(f.events), 2);
    T_EQ_STR(ev_str(&f, 1, "topic"), "alert.resolved");
    json_t *p = json_object_get(json_array_get(f.events, 1), "payload");
    T_TRUE(json_is_null(json_object_get(p, "value")));
    T_EQ_STR(json_string_value(json_object_get(p, "summary")),
             "rebuffering_share > 0.05 for 3m in region=EMEA (no data)");
    fx_close(&f);
}

/* A group under min_viewers never breaches, however bad; one above it fires. */
static void test_min_volume(void)
{
    struct fx f;
    static const char *const y = "rules:\n"
                                 "  - name: vol\n"
                                 "    metric: rebuffering_share\n"
                                 "    group_by: [region]\n"
                                 "    op: \">\"\n"
                                 "    threshold: 0.05\n"
                                 "    for: 2m\n"
                                 "    min_viewers: 100\n"
                                 "    level: notify\n";
    struct grp g[] = {{"APAC", "primary", 99, 99}, {"NA", "primary", 100, 10}};
    fx_open(&f, y, NULL);
    T_EQ_INT(fx_minute(&f, g, 2), 0);
    T_EQ_INT(fx_minute(&f, g, 2), 1);
    T_EQ_INT(fx_minute(&f, g, 2), 0);
    T_EQ_INT(json_array_size(f.events), 1);
    T_EQ_STR(ev_str(&f, 0, "alert_id"), "vol/region=NA");
    fx_close(&f);
}

/* noise_z 2 on a 3% band: a group of 270 viewers must show more than 5.07% (3% + 2 x
 * sqrt(0.03 x 0.97 / 270)); 13 of 270 (4.8%) is noise there, while 4.8% of 10,000 viewers
 * (threshold 3.34%) breaches; 14 of 270 (5.2%) breaches too. */
static void test_noise_z(void)
{
    struct fx f;
    static const char *const y = "rules:\n"
                                 "  - name: nz\n"
                                 "    metric: rebuffering_share\n"
                                 "    group_by: [region]\n"
                                 "    op: \">\"\n"
                                 "    threshold: 0.03\n"
                                 "    for: 1m\n"
                                 "    min_viewers: 100\n"
                                 "    noise_z: 2\n"
                                 "    level: notify\n";
    struct grp g[] = {{"APAC", "primary", 270, 13}, {"NA", "primary", 10000, 480}};
    fx_open(&f, y, NULL);
    T_EQ_INT(fx_minute(&f, g, 2), 1);
    T_EQ_STR(ev_str(&f, 0, "alert_id"), "nz/region=NA");
    g[0].rebuf = 14;
    T_EQ_INT(fx_minute(&f, g, 2), 1);
    T_EQ_STR(ev_str(&f, 1, "alert_id"), "nz/region=APAC");
    T_EQ_INT(json_array_size(f.events), 2);
    fx_close(&f);
}

/* One minute of starts per player version: starts of them, fails failed. */
struct sgrp {
    const char *version;
    int starts, fails;
};

/* Adds one minute of start events, closes it and evaluates; returns the events published. */
static int fx_start_minute(struct fx *f, const struct sgrp *g, int ng)
{
    static char body[1 << 20];
    size_t off = 0;
    for (int i = 0; i < ng; i++)
        for (int s = 0; s < g[i].starts; s++)
            off += (size_t)snprintf(
                body + off, sizeof(body) - off,
                "{\"ts\":%lld,\"type\":\"start\",\"session\":\"%s-%lld-%d\",\"player\":\"shaka\","
                "\"player_version\":\"%s\",\"outcome\":\"%s\"%s}\n",
                (long long)(f->t * 1000 + 1000 + s), g[i].version, (long long)f->t, s, g[i].version,
                s < g[i].fails ? "failure" : "success",
                s < g[i].fails ? ",\"error_code\":\"E1\"" : ",\"startup_ms\":800");
    return fx_fold_minute(f, body, off);
}

/* noise_z 2 on a start share (10% band, for 3m): each minute must cross 10%, and the starts
 * of the breaching minutes pooled must cross 10% + 2 x sqrt(0.09 / starts). One failure in
 * five starts a minute (20%; 3 of 15 against 25.5%) never pages however long it lasts; three
 * in ten (30%; 9 of 30 against 21.0%) and two in five (40%; 6 of 15) page at the third. */
static void test_noise_z_starts(void)
{
    struct fx f;
    static const char *const y = "rules:\n"
                                 "  - name: nzs\n"
                                 "    metric: vsf_rate\n"
                                 "    group_by: [player_version]\n"
                                 "    op: \">\"\n"
                                 "    threshold: 0.10\n"
                                 "    for: 3m\n"
                                 "    noise_z: 2\n"
                                 "    level: page\n";
    struct sgrp g[] = {{"1.0", 5, 1}, {"2.0", 10, 3}, {"3.0", 5, 2}};
    fx_open(&f, y, NULL);
    T_EQ_INT(fx_start_minute(&f, g, 3), 0);
    T_EQ_INT(fx_start_minute(&f, g, 3), 0);
    T_EQ_INT(fx_start_minute(&f, g, 3), 2);
    for (int i = 0; i < 5; i++)
        T_EQ_INT(fx_start_minute(&f, g, 3), 0);
    T_EQ_INT(json_array_size(f.events), 2);
    int a = strcmp(ev_str(&f, 0, "alert_id"), "nzs/player_version=2.0") == 0 ? 0 : 1;
    T_EQ_STR(ev_str(&f, (size_t)a, "alert_id"), "nzs/player_version=2.0");
    T_EQ_STR(ev_str(&f, (size_t)!a, "alert_id"), "nzs/player_version=3.0");
    fx_close(&f);
    /* without noise_z the one-in-five version pages too */
    static const char *const plain = "rules:\n"
                                     "  - name: nzs\n"
                                     "    metric: vsf_rate\n"
                                     "    group_by: [player_version]\n"
                                     "    op: \">\"\n"
                                     "    threshold: 0.10\n"
                                     "    for: 3m\n"
                                     "    level: page\n";
    fx_open(&f, plain, NULL);
    for (int i = 0; i < 3; i++)
        fx_start_minute(&f, g, 1);
    T_EQ_INT(json_array_size(f.events), 1);
    T_EQ_STR(ev_str(&f, 0, "alert_id"), "nzs/player_version=1.0");
    fx_close(&f);
}

/* group_by region x cdn: one alert per breaching group, each with its slice and the filter. */
static void test_group_by(void)
{
    struct fx f;
    static const char *const y = "rules:\n"
                                 "  - name: rc\n"
                                 "    metric: rebuffering_share\n"
                                 "    filter: {live: \"false\"}\n"
                                 "    group_by: [region, cdn]\n"
                                 "    op: \">\"\n"
                                 "    threshold: 0.03\n"
                                 "    for: 1m\n"
                                 "    level: notify\n";
    struct grp g[] = {{"EMEA", "primary", 200, 20},
                      {"EMEA", "secondary", 200, 1},
                      {"NA", "primary", 200, 2},
                      {"APAC", "secondary", 200, 40}};
    fx_open(&f, y, NULL);
    T_EQ_INT(fx_minute(&f, g, 4), 0); /* no event carries live: the filter matches nothing */
    fx_close(&f);
    static const char *const y2 = "rules:\n"
                                  "  - name: rc\n"
                                  "    metric: rebuffering_share\n"
                                  "    group_by: [region, cdn]\n"
                                  "    op: \">\"\n"
                                  "    threshold: 0.03\n"
                                  "    for: 1m\n"
                                  "    level: notify\n";
    fx_open(&f, y2, NULL);
    T_EQ_INT(fx_minute(&f, g, 4), 2);
    T_EQ_INT(json_array_size(f.events), 2);
    int emea = strcmp(ev_str(&f, 0, "alert_id"), "rc/region=EMEA,cdn=primary") == 0 ? 0 : 1;
    T_EQ_STR(ev_str(&f, (size_t)emea, "alert_id"), "rc/region=EMEA,cdn=primary");
    T_EQ_STR(ev_str(&f, (size_t)!emea, "alert_id"), "rc/region=APAC,cdn=secondary");
    json_t *s = json_object_get(json_object_get(json_array_get(f.events, (size_t)emea), "payload"),
                                "slice");
    T_EQ_STR(json_string_value(json_object_get(s, "region")), "EMEA");
    T_EQ_STR(json_string_value(json_object_get(s, "cdn")), "primary");
    T_EQ_INT(json_object_size(s), 2);
    fx_close(&f);
}

/* Burn rates by value: timeslices (bad minutes / minutes / (1 - target)) and occurrences
 * (ratio / objective), and a burn-rate rule firing when both windows exceed the factor. */
static void test_burn_math(void)
{
    struct fx f;
    struct slo_count k;
    struct slo_status st;
    char err[200] = "";
    static const char *const y = "rules:\n"
                                 "  - name: share-burn\n"
                                 "    type: burn_rate\n"
                                 "    slo: rebuffering-share\n"
                                 "    windows:\n"
                                 "      - {long: 1h, short: 5m, factor: 14.4}\n"
                                 "    level: page\n";
    fx_open(&f, y, NULL);
    const struct slo *share = slo_find(f.slos, "rebuffering-share"); /* < 0.03, 99.5% */
    const struct slo *ratio = slo_find(f.slos, "rebuffer-ratio");    /* < 0.01, occurrences */
    T_TRUE(share && ratio);
    for (int m = 0; m < 60; m++) /* minutes 57, 58, 59 bad (5% rebuffering) */
        T_EQ_INT(share_minute(&f, m >= 57 ? 50 : 10), 0);
    T_EQ_INT(slo_count(share, f.cube, T0, T0 + 3600, &k, err, sizeof(err)), 0);
    T_EQ_INT(k.minutes, 60);
    T_EQ_INT(k.bad, 3);
    T_EQ_DBL(slo_burn(share, &k), (3.0 / 60.0) / 0.005, 1e-9); /* 10x */
    T_EQ_INT(slo_count(share, f.cube, T0 + 55 * 60, T0 + 3600, &k, err, sizeof(err)), 0);
    T_EQ_DBL(slo_burn(share, &k), (3.0 / 5.0) / 0.005, 1e-9); /* 120x */
    /* 1h burn 10x < 14.4: the rule holds off until the long window burns too. */
    T_EQ_INT(json_array_size(f.events), 0);
    T_EQ_INT(slo_status_at(share, f.cube, T0 + 3600, &st, err, sizeof(err)), 0);
    T_EQ_INT(st.at, T0 + 3600);
    T_EQ_DBL(st.burn_1h, 10.0, 1e-9);
    T_EQ_DBL(st.good_fraction, 57.0 / 60.0, 1e-12);
    T_EQ_DBL(st.budget_remaining, 1.0 - 10.0, 1e-9);
    /* Rebuffer ratio: 500 ms of 10500 per rebuffering session; 5% of sessions at minute 59. */
    T_EQ_INT(slo_count(ratio, f.cube, T0 + 59 * 60, T0 + 3600, &k, err, sizeof(err)), 0);
    T_EQ_DBL(k.value, (50 * 500.0) / (1000 * 10000.0 + 50 * 500.0), 1e-12);
    T_EQ_DBL(slo_burn(ratio, &k), k.value / 0.01, 1e-12);
    /* Two more bad minutes: 1h burn = 5/60/0.005 = 16.7 > 14.4, 5m = 5/5/0.005 = 200. */
    share_minute(&f, 50);
    T_EQ_INT(share_minute(&f, 50), 1);
    T_EQ_STR(ev_str(&f, 0, "alert_id"), "share-burn/all");
    json_t *p = json_object_get(json_array_get(f.events, 0), "payload");
    T_EQ_DBL(json_real_value(json_object_get(p, "value")), (5.0 / 60.0) / 0.005, 1e-9);
    T_EQ_DBL(json_real_value(json_object_get(p, "threshold")), 14.4, 1e-12);
    fx_close(&f);
}

/* Adds one minute of 100 successful starts of startup_ms each (sessions tag-M-S), closes it
 * and evaluates; returns the events published by that evaluation. */
static int starts_minute(struct fx *f, const char *tag, int m, int startup_ms)
{
    static char body[1 << 16];
    size_t off = 0;
    for (int s = 0; s < 100; s++)
        off += (size_t)snprintf(body + off, sizeof body - off,
                                "{\"ts\":%lld,\"type\":\"start\",\"session\":\"%s-%d-%d\","
                                "\"outcome\":\"success\",\"startup_ms\":%d}\n",
                                (long long)(f->t * 1000 + 1000 + s), tag, m, s, startup_ms);
    return fx_fold_minute(f, body, off);
}

/* A percentile SLO over its 28-day window: its minutes are queried in parts within the
 * percentile cells' cap (QOE_MAX_HIST), not the points' (startup-p95 had no status at all:
 * the console said "no data yet" and the deploy gate skipped it). */
static void test_percentile_slo_status(void)
{
    struct fx f;
    struct slo_status st;
    char err[200] = "";
    fx_open(&f, rule_page, NULL);
    const struct slo *p95 = slo_find(f.slos, "startup-p95"); /* p95 < 4000 ms, 99% */
    T_TRUE(p95 != NULL);
    for (int m = 0; m < 3; m++) /* minute 1's starts take 6 s */
        starts_minute(&f, "p", m, m == 1 ? 6000 : 900);
    T_EQ_INT(slo_status_at(p95, f.cube, f.t, &st, err, sizeof err), 0);
    T_EQ_STR(err, "");
    T_EQ_INT(st.window.minutes, 3);
    T_EQ_INT(st.window.bad, 1);
    T_EQ_DBL(st.good_fraction, 2.0 / 3.0, 1e-12);
    fx_close(&f);
}

/* A burn-rate rule on a percentile SLO whose long window (7 days) passes the 8,192 minutes a
 * percentile query holds: its minutes are read in parts, so it fires (it read no data). */
static void test_percentile_burn_long_window(void)
{
    struct fx f;
    static const char *const y = "rules:\n"
                                 "  - name: p95-burn\n"
                                 "    type: burn_rate\n"
                                 "    slo: startup-p95\n"
                                 "    windows:\n"
                                 "      - {long: 7d, short: 5m, factor: 10}\n"
                                 "    level: notify\n";
    fx_open(&f, y, NULL);
    int fired = 0;
    for (int m = 0; m < 6; m++) /* the last minute's starts take 6 s (the pair speaks once the
                                 * data spans its short window) */
        fired += starts_minute(&f, "b", m, m == 5 ? 6000 : 900);
    T_EQ_INT(fired, 1);
    T_EQ_STR(ev_str(&f, 0, "alert_id"), "p95-burn/all");
    /* the long window's burn: (1 bad / 6 minutes) / (1 - 0.99); the short one's is 20 */
    json_t *p = json_object_get(json_array_get(f.events, 0), "payload");
    T_EQ_DBL(json_real_value(json_object_get(p, "value")), (1.0 / 6.0) / 0.01, 1e-9);
    fx_close(&f);
}

/* YAML errors name the file, the line and the field. */
static void test_yaml_errors(void)
{
    static const struct {
        const char *yaml, *err;
    } cases[] = {
        {"rules:\n  - name: a\n    metric: vsf_rate\n    op: \">\"\n    treshold: 1\n",
         "t.yaml:5: rule: unknown field 'treshold'"},
        {"rules:\n  - name: a\n    metric: vsf\n",
         "t.yaml:3: metric: unknown 'vsf'; did you mean vsf_rate? valid: vsf_rate, ebvs_rate, "
         "rebuffer_ratio, rebuffering_share, avg_bitrate_kbps, startup_p50_ms, startup_p95_ms, "
         "plays, concurrent_viewers, concurrent_rebuffering_share, edge_requests, edge_5xx_rate, "
         "edge_cache_miss_rate, edge_origin_pulls, edge_ttfb_ms, vpf_rate"},
        {"rules:\n  - name: a\n    metric: vsf_rate\n    op: \">\"\n    threshold: x\n",
         "t.yaml:5: threshold: expected a number, got 'x'"},
        {"rules:\n  - name: a\n    metric: vsf_rate\n    op: \">\"\n    threshold: 1\n"
         "    for: 3 minutes\n",
         "t.yaml:6: for: expected a duration like 15s, 3m, 1h or 28d, got '3 minutes'"},
        {"rules:\n  - name: a\n    metric: vsf_rate\n    op: \">\"\n    threshold: 1\n"
         "    for: 3m\n    level: urgent\n",
         "t.yaml:7: level: expected page, notify or backlog, got 'urgent'"},
        {"rules:\n  - name: b\n    type: burn_rate\n    slo: nope\n",
         "t.yaml:4: slo: no SLO named 'nope'"},
        {"rules:\n  - name: a\n    metric: vsf_rate\n    group_by: [region, planet]\n",
         "t.yaml:4: group_by: unknown dimension 'planet'"},
        {"rulez: []\n", "t.yaml:1: rules file: unknown field 'rulez'"},
        {"rules:\n  - name: a\n    metric: startup_p95_ms\n    op: \">\"\n    threshold: 0.1\n"
         "    for: 1m\n    noise_z: 2\n",
         "t.yaml:7: noise_z: only for shares of viewers: rebuffering_share, "
         "concurrent_rebuffering_share and vpf_rate (of concurrent viewers), vsf_rate and "
         "ebvs_rate (of starts)"},
        {"rules:\n  - name: a\n    metric: rebuffering_share\n    op: \">\"\n    threshold: 0.1\n"
         "    for: 1m\n    noise_z: 11\n",
         "t.yaml:7: noise_z: from 0 to 10"},
        {"rules: [\n", "t.yaml:2: did not find expected node content"},
    };
    struct slo_set *slos = NULL;
    char err[512];
    T_EQ_INT(slo_set_load(NULL, &slos, err, sizeof(err)), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct alert_rules *r = NULL;
        err[0] = 0;
        T_EQ_INT(alert_rules_parse("t.yaml", cases[i].yaml, strlen(cases[i].yaml), slos, &r, err,
                                   sizeof(err)),
                 OC_EINVAL);
        T_EQ_STR(err, cases[i].err);
        T_TRUE(r == NULL);
    }
    slo_set_destroy(slos);
}

static char *slurp(const char *rel, size_t *len)
{
    const char *src = getenv("ONCUE_SRC");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", src ? src : ".", rel);
    FILE *fp = fopen(path, "rb");
    char *buf = calloc(1, SLO_MAX_FILE + 1);
    *len = fp ? fread(buf, 1, SLO_MAX_FILE, fp) : 0;
    if (fp)
        fclose(fp);
    return buf;
}

/* The shipped rules parse, equal examples/rules.yaml, and carry the rebuffering bands. */
static void test_defaults(void)
{
    struct slo_set *slos = NULL;
    struct alert_rules *r = NULL;
    char err[512] = "";
    size_t n = 0, fn = 0;
    char *emb = alert_default_yaml(&n), *file = slurp("examples/rules.yaml", &fn);
    T_EQ_INT(n, fn);
    T_TRUE(n == fn && memcmp(emb, file, n) == 0);
    T_EQ_INT(slo_set_load(NULL, &slos, err, sizeof(err)), 0);
    T_EQ_INT(alert_rules_load("", slos, &r, err, sizeof(err)), 0);
    T_EQ_STR(err, "");
    T_EQ_INT(r->n, 18);
    static const struct {
        const char *name;
        double thr;
        int level;
    } bands[] = {{"rebuffering-region-backlog", 0.01, ALERT_BACKLOG},
                 {"rebuffering-region-notify", 0.03, ALERT_NOTIFY},
                 {"rebuffering-region-page", 0.05, ALERT_PAGE}};
    for (int i = 0; i < 3; i++) {
        T_EQ_STR(r->rules[i].name, bands[i].name);
        T_EQ_DBL(r->rules[i].threshold, bands[i].thr, 1e-15);
        T_EQ_DBL(r->rules[i].clear_threshold, bands[i].thr * 0.8, 1e-15);
        T_EQ_INT(r->rules[i].level, bands[i].level);
        T_EQ_INT(r->rules[i].for_s, 180);
        T_EQ_INT(r->rules[i].ngroup, 1);
    }
    T_EQ_INT(r->rules[5].ngroup, 2);
    for (int i = 0; i < 7; i++) /* the seed's bands are on the time-averaged share */
        T_EQ_INT(r->rules[i].metric, QOE_CONCURRENT_REBUFFERING);
    T_EQ_STR(r->rules[7].name, "stalled-viewers-region-cdn-page");
    T_EQ_INT(r->rules[7].metric, QOE_REBUFFERING_SHARE);
    T_EQ_DBL(r->rules[7].threshold, 0.04, 1e-15);
    /* start failures of one build and of one DRM on one device class */
    T_EQ_STR(r->rules[10].name, "vsf-player-version-page");
    T_EQ_INT(r->rules[10].ngroup, 2);
    T_EQ_DBL(r->rules[10].threshold, 0.10, 1e-15);
    /* plays of one build dying mid-stream: a share of its viewers */
    T_EQ_STR(r->rules[11].name, "vpf-player-version-page");
    T_EQ_INT(r->rules[11].metric, QOE_VPF_RATE);
    T_EQ_DBL(r->rules[11].threshold, 0.03, 1e-15);
    T_EQ_INT(r->rules[11].for_s, 120);
    T_EQ_INT(r->rules[11].level, ALERT_PAGE);
    T_EQ_STR(r->rules[12].name, "vsf-device-drm-page");
    T_EQ_DBL(r->rules[12].threshold, 0.20, 1e-15);
    T_EQ_INT(r->rules[12].level, ALERT_PAGE);
    T_EQ_INT(r->rules[14].kind, ALERT_BURN_RATE);
    T_EQ_INT(r->rules[14].npairs, 2);
    T_EQ_DBL(r->rules[14].pairs[0].factor, 14.4, 1e-12);
    T_EQ_INT(r->rules[14].pairs[1].long_s, 6 * 3600);
    json_t *j = alert_rule_json(&r->rules[2]);
    T_EQ_STR(json_string_value(json_object_get(j, "level")), "page");
    json_decref(j);
    free(emb);
    free(file);
    alert_rules_destroy(r);
    slo_set_destroy(slos);
}

/* Writes the SLOs and rules as OpenSLO into a string (caller frees). */
static char *openslo_text(const struct slo_set *slos, const struct alert_rules *rules, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    alert_openslo_write(f, slos, rules);
    fclose(f);
    return text;
}

/* The shipped SLOs and burn-rate rules written as OpenSLO read back to the same SLOs, and
 * their AlertPolicies make the same burn-rate rules. */
static void test_openslo_roundtrip(void)
{
    struct slo_set *slos = NULL, *back = NULL;
    struct alert_rules *rules = NULL, *made = NULL;
    char err[512] = "";
    size_t len = 0;
    T_EQ_INT(slo_set_load(NULL, &slos, err, sizeof(err)), 0);
    T_EQ_INT(alert_rules_load("", slos, &rules, err, sizeof(err)), 0);
    char *text = openslo_text(slos, rules, &len);
    T_CONTAINS(text, "kind: AlertPolicy");
    T_CONTAINS(text, "oncue.dev/short-window: 5m");
    T_EQ_INT(slo_set_parse("x.yaml", text, len, &back, err, sizeof(err)), 0);
    T_EQ_STR(err, "");
    T_EQ_INT(back->n, slos->n);
    for (int i = 0; i < slos->n && i < back->n; i++) {
        const struct slo *a = &slos->slos[i], *b = &back->slos[i];
        T_EQ_STR(b->name, a->name);
        T_EQ_STR(b->service, a->service);
        T_EQ_STR(b->description, a->description);
        T_EQ_INT(b->metric, a->metric);
        T_EQ_INT(b->nfilters, a->nfilters);
        T_EQ_INT(b->op, a->op);
        T_EQ_INT(b->inclusive, a->inclusive);
        T_EQ_DBL(b->value, a->value, 0);
        T_TRUE((isnan(a->target) && isnan(b->target)) || a->target == b->target);
        T_EQ_INT(b->window_s, a->window_s);
        T_EQ_INT(b->how, a->how);
    }
    /* with no rules file, the policies alone give the four shipped burn-rate rules */
    T_EQ_INT(alert_rules_parse("none.yaml", "rules: []\n", 10, back, &made, err, sizeof(err)), 0);
    T_EQ_INT(made->n, 4);
    int matched = 0;
    for (int i = 0; i < rules->n; i++) {
        const struct alert_rule *a = &rules->rules[i];
        for (int k = 0; a->kind == ALERT_BURN_RATE && k < made->n; k++) {
            const struct alert_rule *b = &made->rules[k];
            if (strcmp(a->name, b->name) != 0)
                continue;
            matched++;
            T_EQ_STR(b->slo, a->slo);
            T_EQ_INT(b->kind, ALERT_BURN_RATE);
            T_EQ_INT(b->metric, a->metric);
            T_EQ_INT(b->level, a->level);
            T_EQ_INT(b->npairs, a->npairs);
            for (int p = 0; p < a->npairs; p++) {
                T_EQ_INT(b->pairs[p].long_s, a->pairs[p].long_s);
                T_EQ_INT(b->pairs[p].short_s, a->pairs[p].short_s);
                T_EQ_DBL(b->pairs[p].factor, a->pairs[p].factor, 0);
            }
            T_EQ_INT(b->for_s, a->for_s);
            T_EQ_INT(b->clear_for_s, a->clear_for_s);
            T_EQ_DBL(b->threshold, a->threshold, 0);
        }
    }
    T_EQ_INT(matched, 4);
    alert_rules_destroy(made);
    /* with the shipped rules file too, nothing is doubled */
    T_EQ_INT(alert_rules_load("", back, &made, err, sizeof(err)), 0);
    T_EQ_INT(made->n, rules->n);
    alert_rules_destroy(made);
    free(text);
    slo_set_destroy(back);
    alert_rules_destroy(rules);
    slo_set_destroy(slos);
}

/* An OpenSLO file in the specification's style: a DataSource, an SLI, AlertConditions and an
 * AlertPolicy referenced by name, and a policy written inline. */
static const char *const openslo_doc =
    "apiVersion: openslo/v1\nkind: AlertCondition\nmetadata:\n  name: fast\n"
    "spec:\n  description: two per cent of a month in an hour\n  severity: critical\n"
    "  condition:\n    kind: burnrate\n    op: gte\n    threshold: 14.4\n"
    "    lookbackWindow: 1h\n    alertAfter: 2m\n"
    "---\napiVersion: openslo/v1\nkind: AlertPolicy\nmetadata:\n  name: page-fast\n"
    "spec:\n  alertWhenBreaching: true\n  alertWhenResolved: false\n"
    "  conditions:\n    - conditionRef: fast\n"
    "---\napiVersion: openslo/v1\nkind: DataSource\nmetadata:\n  name: qoe\n"
    "spec:\n  type: oncue\n"
    "---\napiVersion: openslo/v1\nkind: SLI\nmetadata:\n  name: vsf\nspec:\n"
    "  ratioMetric:\n    rawType: failure\n    raw:\n      metricSource:\n"
    "        metricSourceRef: qoe\n        spec: {metric: vsf_rate, filter: {region: EMEA}}\n"
    "---\napiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: emea-starts\nspec:\n"
    "  service: playback\n  indicatorRef: vsf\n  timeWindow:\n    - duration: 7d\n"
    "      isRolling: true\n  budgetingMethod: Occurrences\n  objectives:\n"
    "    - target: 0.995\n  alertPolicies:\n    - alertPolicyRef: page-fast\n"
    "    - kind: AlertPolicy\n      metadata:\n        name: slow\n      spec:\n"
    "        conditions:\n          - kind: AlertCondition\n            metadata:\n"
    "              name: slow-burn\n            spec:\n              severity: low\n"
    "              condition: {kind: burnrate, op: gt, threshold: 1, lookbackWindow: 3d}\n"
    "---\napiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: emea-starts-2\nspec:\n"
    "  service: playback\n  indicatorRef: vsf\n  timeWindow:\n    - duration: 7d\n"
    "      isRolling: true\n  budgetingMethod: Occurrences\n  objectives:\n"
    "    - target: 0.99\n  alertPolicies:\n    - page-fast\n";

static void test_openslo_policies(void)
{
    struct slo_set *slos = NULL;
    struct alert_rules *r = NULL;
    char err[512] = "";
    T_EQ_INT(slo_set_parse("o.yaml", openslo_doc, strlen(openslo_doc), &slos, err, sizeof(err)), 0);
    T_EQ_STR(err, "");
    T_EQ_INT(slos->n, 2);
    const struct slo *s = &slos->slos[0];
    T_EQ_INT(s->nalerts, 2);
    T_EQ_STR(s->alerts[0].name, "page-fast");
    T_EQ_INT(s->alerts[0].level, ALERT_PAGE); /* severity critical */
    T_EQ_INT(s->alerts[0].conds[0].lookback_s, 3600);
    T_EQ_INT(s->alerts[0].conds[0].short_s, 300); /* a twelfth of the hour */
    T_EQ_INT(s->alerts[0].conds[0].alert_after_s, 120);
    T_EQ_STR(s->alerts[1].name, "slow");
    T_EQ_INT(s->alerts[1].level, ALERT_BACKLOG); /* severity low */
    T_EQ_INT(s->alerts[1].conds[0].short_s, 6 * 3600);
    T_EQ_INT(s->alerts[1].conds[0].alert_after_s, 60);
    T_EQ_INT(alert_rules_parse("none.yaml", "rules: []\n", 10, slos, &r, err, sizeof(err)), 0);
    T_EQ_INT(r->n, 3);
    T_EQ_STR(r->rules[0].name, "page-fast");
    T_EQ_STR(r->rules[0].slo, "emea-starts");
    T_EQ_INT(r->rules[0].nfilters, 1);
    T_EQ_STR(r->rules[0].filters[0].value, "EMEA");
    T_EQ_DBL(r->rules[0].pairs[0].factor, 14.4, 0);
    T_EQ_INT(r->rules[0].for_s, 120);
    T_EQ_STR(r->rules[1].name, "slow");
    T_EQ_INT(r->rules[1].level, ALERT_BACKLOG);
    /* the second SLO's use of the same policy is named after both */
    T_EQ_STR(r->rules[2].name, "page-fast-emea-starts-2");
    T_EQ_STR(r->rules[2].slo, "emea-starts-2");
    alert_rules_destroy(r);
    slo_set_destroy(slos);
}

/* What oncue's OpenSLO reader refuses, with the line and the field. */
static void test_openslo_errors(void)
{
    static const char *const head =
        "apiVersion: openslo/v1\nkind: AlertCondition\nmetadata:\n  name: c\nspec:\n";
    static const struct {
        const char *spec, *err;
    } cases[] = {
        {"  severity: page\n  condition: {kind: threshold, op: gt, threshold: 1, "
         "lookbackWindow: 1h}\n",
         "o.yaml:7: condition.kind: unsupported: 'threshold' (oncue alerts on burn rates: "
         "burnrate)"},
        {"  severity: page\n  condition: {kind: burnrate, op: lt, threshold: 1, "
         "lookbackWindow: 1h}\n",
         "o.yaml:7: condition.op: unsupported: 'lt' (a burn rate alerts above its threshold: "
         "gt or gte)"},
        {"  severity: urgent\n  condition: {kind: burnrate, op: gt, threshold: 1, "
         "lookbackWindow: 1h}\n",
         "o.yaml:6: AlertCondition.spec.severity: expected page, notify or backlog (or critical, "
         "high, warning, medium, low, info), got 'urgent'"},
        {"  severity: page\n  condition: {kind: burnrate, op: gt, threshold: 1, "
         "lookbackWindow: 90s}\n",
         "o.yaml:7: condition.lookbackWindow: whole minutes, from 2m to 90d"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char doc[1024], err[512] = "";
        struct slo_set *slos = NULL;
        snprintf(doc, sizeof doc, "%s%s", head, cases[i].spec);
        T_EQ_INT(slo_set_parse("o.yaml", doc, strlen(doc), &slos, err, sizeof(err)), OC_EINVAL);
        T_EQ_STR(err, cases[i].err);
        T_TRUE(slos == NULL);
    }
    static const struct {
        const char *doc, *err;
    } policy[] = {
        {"apiVersion: openslo/v1\nkind: AlertPolicy\nmetadata: {name: p}\nspec:\n"
         "  conditions: [{conditionRef: nope}]\n",
         "o.yaml:5: conditionRef: no AlertCondition named 'nope' in this file"},
        {"apiVersion: openslo/v1\nkind: AlertPolicy\nmetadata: {name: p}\nspec:\n"
         "  alertWhenNoData: true\n  conditions: [{conditionRef: nope}]\n",
         "o.yaml:5: alertWhenNoData: unsupported: true (oncue alerts on what viewers report; "
         "silence is watched by the manifest prober and /healthz)"},
        {"apiVersion: openslo/v1\nkind: AlertPolicy\nmetadata: {name: p}\nspec:\n"
         "  conditions: [{conditionRef: c}]\n  notificationTargets:\n    - targetRef: pd\n",
         "o.yaml:7: notificationTargets: unsupported (oncue pages the on-call of the team that "
         "owns the slice, from the service catalog, and notifies the endpoints of "
         "incident.webhooks_file)"},
        {"apiVersion: openslo/v1\nkind: AlertNotificationTarget\nmetadata: {name: pd}\n"
         "spec: {target: pagerduty}\n",
         "o.yaml:2: kind: unsupported: AlertNotificationTarget (oncue reads SLO, SLI, DataSource, "
         "Service, AlertPolicy and AlertCondition)"},
        {"apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: s}\nspec:\n  service: x\n"
         "  alertPolicies: [{alertPolicyRef: nope}]\n  indicator:\n    metadata: {name: i}\n"
         "    spec: {thresholdMetric: {metricSource: {type: oncue, spec: {metric: plays}}}}\n",
         "o.yaml:6: alertPolicyRef: no AlertPolicy named 'nope' in this file"},
    };
    for (size_t i = 0; i < sizeof policy / sizeof policy[0]; i++) {
        char err[512] = "";
        struct slo_set *slos = NULL;
        T_EQ_INT(
            slo_set_parse("o.yaml", policy[i].doc, strlen(policy[i].doc), &slos, err, sizeof(err)),
            OC_EINVAL);
        T_EQ_STR(err, policy[i].err);
    }
}

/* A prober finding is an alert like any other: paging kinds page, the others notify, the
 * labels carry the service for incident's routing, a recovery resolves the same alert_id. */
static void test_probe_alerts(void)
{
    const char *topic = NULL;
    json_t *f =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "stream", "live-1", "service", "packager",
                  "kind", "stale", "pathway", "cdn-a", "detail",
                  "media sequence 41 has not advanced for 6.1 s", "at", (json_int_t)1772482000);
    json_t *p = alert_probe_translate(OC_TOPIC_PROBE_FAILED, f, &topic);
    T_EQ_STR(topic, OC_TOPIC_ALERT_FIRED);
    T_EQ_STR(json_string_value(json_object_get(p, "alert_id")), "probe/live-1/stale");
    T_EQ_STR(json_string_value(json_object_get(p, "level")), "page");
    T_EQ_STR(json_string_value(json_object_get(p, "source")), "probe");
    T_EQ_STR(json_string_value(json_object_get(json_object_get(p, "labels"), "service")),
             "packager");
    T_EQ_INT(json_integer_value(json_object_get(p, "at")), 1772482000);
    T_CONTAINS(json_string_value(json_object_get(p, "summary")), "live-1: stale: media sequence");
    json_decref(p);
    json_object_set_new(f, "kind", json_string("origins_disagree"));
    p = alert_probe_translate(OC_TOPIC_PROBE_FAILED, f, &topic);
    T_EQ_STR(json_string_value(json_object_get(p, "level")), "notify");
    json_decref(p);
    json_object_set_new(f, "since", json_integer(1772481900));
    p = alert_probe_translate(OC_TOPIC_PROBE_RECOVERED, f, &topic);
    T_EQ_STR(topic, OC_TOPIC_ALERT_RESOLVED);
    T_EQ_STR(json_string_value(json_object_get(p, "alert_id")), "probe/live-1/origins_disagree");
    T_EQ_INT(json_integer_value(json_object_get(p, "since")), 1772481900);
    json_decref(p);
    T_TRUE(alert_probe_translate(OC_TOPIC_ALERT_FIRED, f, &topic) == NULL);
    json_object_del(f, "stream");
    T_TRUE(alert_probe_translate(OC_TOPIC_PROBE_FAILED, f, &topic) == NULL);
    json_decref(f);
}

static const char *const am_body =
    "{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"oncue\",\"alerts\":["
    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"EdgeDown\",\"severity\":\"critical\","
    "\"region\":\"EMEA\",\"pop\":\"FRA\",\"service\":\"cdn\"},\"annotations\":{\"summary\":"
    "\"FRA edge down\",\"value\":\"0.42\"},\"startsAt\":\"2026-03-02T19:43:10.5+01:00\","
    "\"endsAt\":\"0001-01-01T00:00:00Z\",\"fingerprint\":\"a1b2c3\"},"
    "{\"status\":\"resolved\",\"labels\":{\"alertname\":\"DiskFull\",\"severity\":\"info\"},"
    "\"annotations\":{},\"startsAt\":\"2026-03-02T18:00:00Z\",\"endsAt\":"
    "\"2026-03-02T18:30:00Z\",\"fingerprint\":\"ffee\"}]}";

/* An Alertmanager webhook becomes the same payloads, source alertmanager. */
static void test_alertmanager(void)
{
    json_t *body = json_loads(am_body, 0, NULL), *out = NULL;
    char err[200] = "";
    T_TRUE(body != NULL);
    T_EQ_INT(alert_am_translate(body, T0, &out, err, sizeof(err)), 0);
    T_EQ_INT(json_array_size(out), 2);
    json_t *a = json_array_get(out, 0), *p = json_object_get(a, "payload");
    T_EQ_STR(json_string_value(json_object_get(a, "topic")), "alert.fired");
    T_EQ_STR(json_string_value(json_object_get(p, "alert_id")), "am/a1b2c3");
    T_EQ_STR(json_string_value(json_object_get(p, "rule")), "EdgeDown");
    T_EQ_STR(json_string_value(json_object_get(p, "level")), "page");
    T_EQ_STR(json_string_value(json_object_get(p, "source")), "alertmanager");
    T_EQ_STR(json_string_value(json_object_get(p, "summary")), "FRA edge down");
    T_EQ_INT(json_integer_value(json_object_get(p, "since")), 1772476990LL);
    T_EQ_INT(json_integer_value(json_object_get(p, "at")), T0);
    T_EQ_DBL(json_real_value(json_object_get(p, "value")), 0.42, 1e-12);
    json_t *s = json_object_get(p, "slice"), *l = json_object_get(p, "labels");
    T_EQ_INT(json_object_size(s), 0); /* the labels stay out of the QoE slice ... */
    T_EQ_STR(json_string_value(json_object_get(l, "region")), "EMEA"); /* ... in labels */
    T_EQ_STR(json_string_value(json_object_get(l, "pop")), "FRA");
    T_EQ_STR(json_string_value(json_object_get(p, "kind")), "alertmanager");
    a = json_array_get(out, 1);
    p = json_object_get(a, "payload");
    T_EQ_STR(json_string_value(json_object_get(a, "topic")), "alert.resolved");
    T_EQ_STR(json_string_value(json_object_get(p, "level")), "backlog");
    T_EQ_INT(json_integer_value(json_object_get(p, "at")), 1772474400LL + 1800);
    T_EQ_INT(json_integer_value(json_object_get(p, "since")), 1772474400LL);
    T_TRUE(json_is_null(json_object_get(p, "value")));
    json_decref(out);
    json_decref(body);
    body = json_loads("{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{}}]}", 0,
                      NULL);
    T_EQ_INT(alert_am_translate(body, T0, &out, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "alerts[].fingerprint: required, at most 128 bytes");
    json_decref(body);
}

/* The history records fired, resolved, acknowledged and led-to-incident; the audit counts
 * them per rule and flags rules that never fired or fired without action. */
static void test_audit(void)
{
    char dir[] = "/tmp/oncue-alert-XXXXXX", err[256] = "";
    struct store *st = NULL;
    struct fx f;
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &st, err, sizeof(err)), 0);
    fx_open(&f, rule_page, st);
    for (int i = 0; i < 3; i++)
        share_minute(&f, 60);
    T_EQ_INT(alert_store_is_open(st, "reb-page/region=EMEA"), 1);
    T_EQ_INT(alert_store_ack(st, "reb-page/region=EMEA", T0 + 400), 0);
    T_EQ_INT(alert_store_incident(st, "reb-page/region=EMEA", "42"), 0);
    for (int i = 0; i < 3; i++)
        share_minute(&f, 0);
    T_EQ_INT(alert_store_is_open(st, "reb-page/region=EMEA"), 0);
    for (int i = 0; i < 3; i++)
        share_minute(&f, 60); /* fires again; nobody acts */
    json_t *recent = alert_store_recent(st, 10);
    T_EQ_INT(json_array_size(recent), 2);
    json_t *old = json_array_get(recent, 1);
    T_EQ_INT(json_integer_value(json_object_get(old, "resolved_at")), T0 + 6 * 60);
    T_EQ_INT(json_integer_value(json_object_get(old, "acknowledged_at")), T0 + 400);
    T_EQ_STR(json_string_value(json_object_get(old, "incident_id")), "42");
    json_decref(recent);
    json_t *a = alert_audit(st, f.rules, T0 + 3600, 90);
    json_t *rows = json_object_get(a, "rules");
    T_EQ_INT(json_array_size(rows), 1);
    json_t *r = json_array_get(rows, 0);
    T_EQ_STR(json_string_value(json_object_get(r, "rule")), "reb-page");
    T_EQ_INT(json_integer_value(json_object_get(r, "fired")), 2);
    T_EQ_INT(json_integer_value(json_object_get(r, "acknowledged")), 1);
    T_EQ_INT(json_integer_value(json_object_get(r, "led_to_incident")), 1);
    T_EQ_STR(json_string_value(json_object_get(r, "flag")), "ok");
    json_decref(a);
    a = alert_audit(st, f.rules, T0 + 100 * 86400, 90); /* nothing in the last 90 days */
    r = json_array_get(json_object_get(a, "rules"), 0);
    T_EQ_INT(json_integer_value(json_object_get(r, "fired")), 0);
    T_EQ_STR(json_string_value(json_object_get(r, "flag")), "never_fired");
    json_decref(a);
    fx_close(&f);
    store_close(st);
    t_rmtree(dir);
}

/* A restarted engine picks up the firings still open in the store and resolves them. */
static void test_restore(void)
{
    char dir[] = "/tmp/oncue-alert-XXXXXX", err[256] = "";
    struct store *st = NULL;
    struct fx f;
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &st, err, sizeof(err)), 0);
    fx_open(&f, rule_page, st);
    for (int i = 0; i < 3; i++)
        share_minute(&f, 60);
    json_t *open = alert_store_open_firings(st);
    T_EQ_INT(json_array_size(open), 1);
    alert_engine_destroy(f.eng); /* the restart */
    f.eng = alert_engine_new(f.rules, f.slos, f.bus, st);
    alert_engine_start_at(f.eng, f.t);
    T_EQ_INT(alert_engine_restore(f.eng, open), 1);
    json_decref(open);
    T_EQ_INT(share_minute(&f, 60), 0); /* still held: no second alert.fired */
    for (int i = 0; i < 2; i++)
        T_EQ_INT(share_minute(&f, 0), 0);
    T_EQ_INT(share_minute(&f, 0), 1);
    T_EQ_INT(json_array_size(f.events), 2);
    T_EQ_STR(ev_str(&f, 1, "topic"), "alert.resolved");
    T_EQ_INT(ev_int(&f, 1, "since"), T0);
    T_EQ_INT(alert_store_is_open(st, "reb-page/region=EMEA"), 0);
    open = alert_store_open_firings(st);
    T_EQ_INT(json_array_size(open), 0);
    json_decref(open);
    fx_close(&f);
    store_close(st);
    t_rmtree(dir);
}

/* The module's bus contract: incident.opened and incident.acknowledged (published by
 * incident/) mark the firings of their alert_ids for the audit. */
static void test_module_bus(void)
{
    char dir[] = "/tmp/oncue-alert-XXXXXX", err[256] = "";
    struct oc_config cfg;
    struct oc_clock clk;
    struct oc_app app = {0};
    T_TRUE(mkdtemp(dir) != NULL);
    config_defaults(&cfg);
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, T0 * 1000);
    app.cfg = &cfg;
    app.clock = &clk;
    app.bus = oc_bus_new();
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &app.store, err, sizeof(err)), 0);
    static const struct oc_module *const mods[] = {&alert_module, NULL};
    T_EQ_INT(oc_app_start(&app, mods, "alert"), 0); /* init, and its subs table */
    json_t *body = json_loads(am_body, 0, NULL), *events = NULL;
    T_EQ_INT(alert_am_translate(body, T0, &events, err, sizeof(err)), 0);
    alert_emit(app.bus, app.store, "alert.fired",
               json_object_get(json_array_get(events, 0), "payload"));
    json_t *ev = json_pack("{s:s, s:[s]}", "incident_id", "INC-7", "alert_ids", "am/a1b2c3");
    T_EQ_INT((oc_bus_publish(app.bus, "incident.opened", ev), oc_bus_drain(app.bus)), 1);
    json_decref(ev);
    oc_clock_set_ms(&clk, (T0 + 90) * 1000);
    ev = json_pack("{s:s, s:[s, s]}", "incident_id", "INC-7", "alert_ids", "am/a1b2c3", "am/zz");
    T_EQ_INT((oc_bus_publish(app.bus, "incident.acknowledged", ev), oc_bus_drain(app.bus)), 1);
    json_decref(ev);
    json_t *recent = alert_store_recent(app.store, 5), *r = json_array_get(recent, 0);
    T_EQ_INT(json_array_size(recent), 1);
    T_EQ_STR(json_string_value(json_object_get(r, "incident_id")), "INC-7");
    T_EQ_INT(json_integer_value(json_object_get(r, "acknowledged_at")), T0 + 90);
    json_decref(recent);
    json_t *a = alert_audit(app.store, NULL, T0 + 100, 90);
    r = json_array_get(json_object_get(a, "rules"), 0);
    T_EQ_STR(json_string_value(json_object_get(r, "rule")), "EdgeDown");
    T_EQ_STR(json_string_value(json_object_get(r, "source")), "alertmanager");
    T_EQ_INT(json_integer_value(json_object_get(r, "led_to_incident")), 1);
    T_EQ_INT(json_integer_value(json_object_get(r, "acknowledged")), 1);
    json_decref(a);
    json_decref(events);
    json_decref(body);
    oc_app_stop(&app);
    ev = json_object();
    T_EQ_INT((oc_bus_publish(app.bus, "incident.opened", ev), oc_bus_drain(app.bus)),
             0); /* unsubscribed */
    json_decref(ev);
    store_close(app.store);
    oc_bus_destroy(app.bus);
    config_free(&cfg);
    t_rmtree(dir);
}

static const struct t_case cases[] = {
    T_CASE(test_sustained),
    T_CASE(test_revised_minute_counts),
    T_CASE(test_hysteresis),
    T_CASE(test_lost_traffic_resolves),
    T_CASE(test_min_volume),
    T_CASE(test_group_by),
    T_CASE(test_burn_math),
    T_CASE(test_percentile_slo_status),
    T_CASE(test_percentile_burn_long_window),
    T_CASE(test_yaml_errors),
    T_CASE(test_defaults),
    T_CASE(test_alertmanager),
    T_CASE(test_audit),
    T_CASE(test_restore),
    T_CASE(test_module_bus),
    T_CASE(test_noise_z),
    T_CASE(test_noise_z_starts),
    T_CASE(test_set_rules),
    T_CASE(test_probe_alerts),
    T_CASE(test_openslo_roundtrip),
    T_CASE(test_openslo_policies),
    T_CASE(test_openslo_errors),
    {0},
};

T_MAIN(cases)
