/*
 * test_ingest.c - the beacon parser (validation reasons, escapes, NDJSON, a differential test
 * against jansson) and the cube (minutes, lateness, watermark, caps, folding into "other").
 */
#include "t.h"
#include "t_store.h"

#include "core/clock.h"
#include "core/err.h"
#include "ingest/ingest.h"

#include "qoe/minute.h"
#include "qoe/persist.h"
#include "store/store.h"

#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

#define TS0 1700000040000LL /* a minute boundary (unix ms) */

static struct ingest_batch batch;

static int parse_n(const char *body, size_t n)
{
    char err[200];
    ingest_batch_free(&batch);
    ingest_batch_init(&batch, 1000);
    return ingest_parse(&batch, body, n, err, sizeof err);
}

static int parse(const char *body)
{
    return parse_n(body, strlen(body));
}

static int str_is(struct beacon_str s, const char *w)
{
    return s.p && s.n == strlen(w) && memcmp(s.p, w, s.n) == 0;
}

static void test_parse_array(void)
{
    T_EQ_INT(parse("[{\"ts\":1700000000000,\"type\":\"start\",\"session\":\"s1\",\"outcome\":"
                   "\"success\",\"startup_ms\":850,\"region\":\"EMEA\",\"cdn\":\"cdn-a\","
                   "\"live\":true,\"asn\":3320,\"extra\":{\"a\":[1,{\"b\":null}]}},"
                   "{\"ts\":1700000001000,\"type\":\"heartbeat\",\"session\":\"s1\","
                   "\"playing_ms\":9000,\"rebuffer_ms\":120,\"bitrate_kbps\":4500.5}]"),
             0);
    T_EQ_INT(batch.nitems, 2);
    T_EQ_INT(batch.nev, 2);
    struct beacon_event *e = &batch.ev[0];
    T_EQ_INT(e->ts_ms, 1700000000000LL);
    T_EQ_INT(e->type, BEACON_START);
    T_EQ_INT(e->outcome, BEACON_SUCCESS);
    T_EQ_INT(e->startup_ms, 850);
    T_TRUE(str_is(e->session, "s1"));
    T_TRUE(str_is(e->dims[BEACON_REGION], "EMEA"));
    T_TRUE(str_is(e->dims[BEACON_CDN], "cdn-a"));
    T_TRUE(str_is(e->dims[BEACON_LIVE], "true"));
    T_TRUE(str_is(e->dims[BEACON_ASN], "3320"));
    T_TRUE(e->dims[BEACON_POP].p == NULL);
    e = &batch.ev[1];
    T_EQ_INT(e->type, BEACON_HEARTBEAT);
    T_EQ_INT(e->playing_ms, 9000);
    T_EQ_INT(e->rebuffer_ms, 120);
    T_EQ_DBL(e->bitrate_kbps, 4500.5, 0);
}

static void test_parse_escapes(void)
{
    T_EQ_INT(
        parse("[{\"ts\":1,\"type\":\"end\",\"session\":\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\","
              "\"title\":\"plain\"}]"),
        0);
    T_EQ_INT(batch.nev, 1);
    T_TRUE(str_is(batch.ev[0].session, "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80"));
    T_TRUE(str_is(batch.ev[0].dims[BEACON_TITLE], "plain"));
    /* a lone surrogate, a bad escape, NUL and invalid UTF-8 are syntax errors */
    T_EQ_INT(parse("[{\"ts\":1,\"type\":\"end\",\"session\":\"\\ud800\"}]"), OC_EINVAL);
    T_EQ_INT(parse("[{\"ts\":1,\"type\":\"end\",\"session\":\"\\x\"}]"), OC_EINVAL);
    T_EQ_INT(parse("[{\"ts\":1,\"type\":\"end\",\"session\":\"\\u0000\"}]"), OC_EINVAL);
    T_EQ_INT(parse("[{\"ts\":1,\"type\":\"end\",\"session\":\"\xc3\x28\"}]"), OC_EINVAL);
}

struct reason_case {
    const char *event;
    enum ingest_reason want;
};

static const struct reason_case reason_cases[] = {
    {"{\"type\":\"end\",\"session\":\"s\"}", INGEST_MISSING_TS},
    {"{\"ts\":-5,\"type\":\"end\",\"session\":\"s\"}", INGEST_BAD_TS},
    {"{\"ts\":1.5,\"type\":\"end\",\"session\":\"s\"}", INGEST_BAD_TS},
    {"{\"ts\":1772480400,\"type\":\"end\",\"session\":\"s\"}", INGEST_TS_IN_SECONDS},
    {"{\"ts\":\"1\",\"type\":\"end\",\"session\":\"s\"}", INGEST_BAD_TS},
    {"{\"ts\":1,\"session\":\"s\"}", INGEST_MISSING_TYPE},
    {"{\"ts\":1,\"type\":\"play\",\"session\":\"s\"}", INGEST_BAD_TYPE},
    {"{\"ts\":1,\"type\":\"end\"}", INGEST_MISSING_SESSION},
    {"{\"ts\":1,\"type\":\"end\",\"session\":\"\"}", INGEST_MISSING_SESSION},
    {"{\"ts\":1,\"type\":\"end\",\"session\":7}", INGEST_BAD_SESSION},
    {"{\"ts\":1,\"type\":\"start\",\"session\":\"s\"}", INGEST_BAD_OUTCOME},
    {"{\"ts\":1,\"type\":\"start\",\"session\":\"s\",\"outcome\":\"ok\"}", INGEST_BAD_OUTCOME},
    {"{\"ts\":1,\"type\":\"start\",\"session\":\"s\",\"outcome\":\"success\"}",
     INGEST_MISSING_STARTUP_MS},
    {"{\"ts\":1,\"type\":\"heartbeat\",\"session\":\"s\",\"rebuffer_ms\":-1}",
     INGEST_NEGATIVE_VALUE},
    {"{\"ts\":1,\"type\":\"heartbeat\",\"session\":\"s\",\"bitrate_kbps\":-0.5}",
     INGEST_NEGATIVE_VALUE},
    {"{\"ts\":1,\"type\":\"heartbeat\",\"session\":\"s\",\"playing_ms\":\"9\"}", INGEST_BAD_VALUE},
    {"{\"ts\":1,\"type\":\"end\",\"session\":\"s\",\"cdn\":[1]}", INGEST_BAD_DIMENSION},
    {"{\"ts\":1,\"type\":\"start\",\"session\":\"s\",\"outcome\":\"failure\",\"foo\":1}",
     INGEST_OK},
    {"[1]", INGEST_MALFORMED},
    {"\"str\"", INGEST_MALFORMED},
    {NULL, 0},
};

static void test_parse_reasons(void)
{
    for (const struct reason_case *c = reason_cases; c->event; c++) {
        char body[512];
        snprintf(body, sizeof body, "[%s, {\"ts\":1,\"type\":\"end\",\"session\":\"ok\"}]",
                 c->event);
        T_EQ_INT(parse(body), 0);
        T_EQ_INT(batch.nitems, 2);
        if (batch.reason[0] != c->want)
            fprintf(stderr, "  case %s\n", c->event);
        T_EQ_STR(ingest_reason_names[batch.reason[0]], ingest_reason_names[c->want]);
        T_EQ_INT(batch.reason[1], INGEST_OK); /* a bad event never costs the good ones */
        T_EQ_INT(batch.nev, c->want == INGEST_OK ? 2 : 1);
    }
}

static void test_parse_ndjson(void)
{
    T_EQ_INT(parse("{\"ts\":1,\"type\":\"end\",\"session\":\"a\"}\n"
                   "not json\n"
                   "{\"ts\":2,\"type\":\"end\"\n"
                   "{\"ts\":3,\"type\":\"end\",\"session\":\"b\"} junk\n"
                   "\r\n{\"ts\":4,\"type\":\"end\",\"session\":\"c\"}"),
             0);
    T_EQ_INT(batch.nitems, 5);
    T_EQ_INT(batch.nev, 2);
    T_EQ_INT(batch.reason[0], INGEST_OK);
    T_EQ_INT(batch.reason[1], INGEST_MALFORMED);
    T_EQ_INT(batch.reason[2], INGEST_MALFORMED);
    T_EQ_INT(batch.reason[3], INGEST_MALFORMED);
    T_EQ_INT(batch.reason[4], INGEST_OK);
    T_EQ_INT(batch.index[1], 4);
    T_TRUE(str_is(batch.ev[1].session, "c"));
}

static void test_parse_not_json(void)
{
    T_EQ_INT(parse("hello"), OC_EINVAL);
    T_EQ_INT(parse(""), OC_EINVAL);
    T_EQ_INT(parse("  \n"), OC_EINVAL);
    T_EQ_INT(parse("[{\"ts\":1,\"type\":\"end\",\"session\":\"a\"}"), OC_EINVAL);
    T_EQ_INT(parse("[{\"ts\":1,\"type\":\"end\",\"session\":\"a\"}] x"), OC_EINVAL);
    T_EQ_INT(parse("{nope}\n{\"a\"\n"), OC_EINVAL);
    T_EQ_INT(parse("[]"), 0);
    T_EQ_INT(batch.nitems, 0);
    T_EQ_INT(parse("[01]"), OC_EINVAL);
    T_EQ_INT(parse("[1.]"), OC_EINVAL);
    T_EQ_INT(parse("[tru]"), OC_EINVAL);
}

static void test_parse_cap(void)
{
    char err[100];
    const char *body = "[{},{},{},{}]";
    ingest_batch_free(&batch);
    ingest_batch_init(&batch, 3);
    T_EQ_INT(ingest_parse(&batch, body, strlen(body), err, sizeof err), OC_ETOOBIG);
}

/* ---- differential test against jansson on generated valid bodies ---- */

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Appends a random JSON string (with escapes and raw UTF-8) to out. */
static void gen_string(char **o)
{
    static const char *const pieces[] = {"a",
                                         "Z",
                                         "0",
                                         "-",
                                         " ",
                                         "\\n",
                                         "\\\"",
                                         "\\\\",
                                         "\\/",
                                         "\\t",
                                         "\\u00e9",
                                         "\\u4e2d",
                                         "\\ud83d\\ude00",
                                         "\xc3\xa9",
                                         "\xe4\xb8\xad",
                                         "\\u0041",
                                         "\\b"};
    int n = (int)(rnd() % 12) + 1;
    *(*o)++ = '"';
    for (int i = 0; i < n; i++) {
        const char *p = pieces[rnd() % (sizeof pieces / sizeof *pieces)];
        size_t l = strlen(p);
        memcpy(*o, p, l);
        *o += l;
    }
    *(*o)++ = '"';
}

static void gen_unknown(char **o, int depth)
{
    switch (rnd() % (depth > 3 ? 3 : 5)) {
    case 0:
        *o += snprintf(*o, 64, "%lld", (long long)(rnd() % 100000) - 500);
        break;
    case 1:
        gen_string(o);
        break;
    case 2:
        *o += snprintf(*o, 64, "%s", rnd() % 2 ? "true" : "null");
        break;
    case 3:
        *(*o)++ = '[';
        for (int i = 0, n = (int)(rnd() % 3); i < n; i++) {
            if (i)
                *(*o)++ = ',';
            gen_unknown(o, depth + 1);
        }
        *(*o)++ = ']';
        break;
    default:
        *o += snprintf(*o, 64, "{\"k\": ");
        gen_unknown(o, depth + 1);
        *(*o)++ = '}';
    }
}

/* Writes one valid event object with members in random order. */
static void gen_event(char **o)
{
    static const char *const types[] = {"start", "heartbeat", "error", "end"};
    static const char *const outcomes[] = {"success", "failure", "exit"};
    int type = (int)(rnd() % 4);
    int nm = 0;
    *(*o)++ = '{';
    int order[24];
    for (int k = 0; k < 24; k++)
        order[k] = k;
    for (int k = 23; k > 0; k--) {
        int r = (int)(rnd() % (uint64_t)(k + 1)), t = order[k];
        order[k] = order[r], order[r] = t;
    }
    for (int k = 0; k < 24; k++) {
        int m = order[k];
        if (m >= 3 && m < 16 && rnd() % 3 == 0)
            continue;
        if (nm++)
            *o += snprintf(*o, 8, " ,\n ");
        if (m == 0)
            *o += snprintf(*o, 64, "\"ts\": %lld", TS0 + (long long)(rnd() % 1000000));
        else if (m == 1)
            *o += snprintf(*o, 64, "\"type\":\"%s\"", types[type]);
        else if (m == 2)
            *o += snprintf(*o, 64, "\"session\":"), gen_string(o);
        else if (m < 15)
            *o += snprintf(*o, 64, "\"%s\":", beacon_dim_names[m - 3]), gen_string(o);
        else if (m == 15 && rnd() % 2)
            *o += snprintf(*o, 64, "\"asn\": %d", (int)(rnd() % 65000));
        else if (m == 15)
            *o += snprintf(*o, 64, "\"live\": %s", rnd() % 2 ? "true" : "false");
        else if (m == 16)
            *o += snprintf(*o, 64, "\"outcome\":\"%s\"", type ? "success" : outcomes[rnd() % 3]);
        else if (m == 17)
            *o += snprintf(*o, 64, "\"startup_ms\": %d", (int)(rnd() % 30000));
        else if (m == 18)
            *o += snprintf(*o, 64, "\"playing_ms\": %d", (int)(rnd() % 60000));
        else if (m == 19)
            *o += snprintf(*o, 64, "\"rebuffer_ms\": %de0", (int)(rnd() % 6000));
        else if (m == 20)
            *o += snprintf(*o, 64, "\"bitrate_kbps\": %.*g", (int)(rnd() % 17) + 1,
                           (double)(rnd() % 100000000) / 997.0);
        else if (m == 21)
            *o += snprintf(*o, 64, "\"error_code\":"), gen_string(o);
        else
            gen_string(o), *(*o)++ = ':', gen_unknown(o, 0);
    }
    *(*o)++ = '}';
}

static int jstr_is(struct beacon_str s, json_t *v)
{
    char num[32];
    if (json_is_string(v))
        return s.p && s.n == json_string_length(v) && memcmp(s.p, json_string_value(v), s.n) == 0;
    if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        return str_is(s, num);
    }
    if (json_is_boolean(v))
        return str_is(s, json_is_true(v) ? "true" : "false");
    return s.p == NULL;
}

static int64_t jint(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return v ? (int64_t)json_number_value(v) : 0;
}

/* Compares event e with object o as jansson decoded it; 1 when equal. */
static int same_event(const struct beacon_event *e, json_t *o)
{
    static const char *const types[] = {"", "start", "heartbeat", "error", "end"};
    static const char *const outcomes[] = {"", "success", "failure", "exit"};
    json_t *b = json_object_get(o, "bitrate_kbps"), *oc = json_object_get(o, "outcome");
    int ok = e->ts_ms == jint(o, "ts") && e->startup_ms == jint(o, "startup_ms") &&
             e->playing_ms == jint(o, "playing_ms") && e->rebuffer_ms == jint(o, "rebuffer_ms") &&
             e->bitrate_kbps == (b ? json_number_value(b) : 0) &&
             strcmp(types[e->type], json_string_value(json_object_get(o, "type"))) == 0 &&
             (oc ? strcmp(outcomes[e->outcome], json_string_value(oc)) == 0 : !e->outcome) &&
             jstr_is(e->session, json_object_get(o, "session")) &&
             jstr_is(e->error_code, json_object_get(o, "error_code"));
    for (int d = 0; d < BEACON_NDIMS; d++)
        ok = ok && jstr_is(e->dims[d], json_object_get(o, beacon_dim_names[d]));
    return ok;
}

static void test_parse_differential(void)
{
    size_t cap = 1 << 20;
    char *body = malloc(cap);
    for (int round = 0; round < 200; round++) {
        char *o = body;
        int n = (int)(rnd() % 20) + 1;
        *o++ = '[';
        for (int i = 0; i < n; i++) {
            if (i)
                *o++ = ',';
            gen_event(&o);
        }
        *o++ = ']';
        json_error_t jerr;
        json_t *arr = json_loadb(body, (size_t)(o - body), 0, &jerr);
        T_TRUE(arr != NULL);
        T_EQ_INT(parse_n(body, (size_t)(o - body)), 0);
        T_EQ_INT(batch.nitems, (size_t)n);
        size_t nev = 0;
        for (size_t i = 0; arr && i < json_array_size(arr); i++) {
            json_t *ev = json_array_get(arr, i);
            json_t *t = json_object_get(ev, "type");
            int start = strcmp(json_string_value(t), "start") == 0;
            json_t *oc = json_object_get(ev, "outcome");
            int want_ok = json_string_length(json_object_get(ev, "session")) > 0 &&
                          (!start || (oc && (strcmp(json_string_value(oc), "success") != 0 ||
                                             json_object_get(ev, "startup_ms"))));
            T_EQ_INT(batch.reason[i] == INGEST_OK, want_ok);
            if (want_ok && nev < batch.nev) {
                if (!same_event(&batch.ev[nev], ev))
                    T_FAIL_AT("event %zu of round %d differs from jansson", i, round);
                nev++;
            }
        }
        T_EQ_INT(nev, batch.nev);
        json_decref(arr);
    }
    free(body);
}

/* ---- the cube: minutes, watermark, lateness, rejections, caps ---- */

static struct oc_clock clk;

static struct qoe_cube *cube_new(uint32_t max_leaves_per_minute)
{
    struct qoe_cube_opts o;
    qoe_cube_opts_default(&o);
    if (max_leaves_per_minute)
        o.max_leaves_per_minute = max_leaves_per_minute;
    o.complete_after_s = o.allowed_lateness_s; /* these tests are about closing */
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, TS0);
    return qoe_cube_new(&o, &clk);
}

static struct ingest_stats istats; /* what ingest_fold counted */

/* Parses body and adds it; returns the number accepted. */
static size_t add(struct qoe_cube *c, const char *body)
{
    T_EQ_INT(parse(body), 0);
    return ingest_fold(c, &batch, &istats);
}

static char line[512];

static const char *hb(int64_t ts, const char *sess, const char *cdn, int rebuf)
{
    snprintf(line, sizeof line,
             "{\"ts\":%lld,\"type\":\"heartbeat\",\"session\":\"%s\",\"cdn\":\"%s\","
             "\"playing_ms\":1000,\"rebuffer_ms\":%d,\"bitrate_kbps\":2000}",
             (long long)ts, sess, cdn, rebuf);
    return line;
}

static struct qoe_row found_row;

/* The row of cdn in minute t (copied into found_row), or NULL. */
static const struct qoe_row *row_of(struct qoe_cube *c, int64_t t, const char *cdn)
{
    uint32_t id;
    const struct qoe_minute *m = qoe_cube_minute(c, t);
    if (!m || qoe_cube_value_id(c, BEACON_CDN, cdn, strlen(cdn), &id) != 0)
        return NULL;
    for (uint32_t i = 0; i < m->nrows; i++)
        if (qoe_cube_leaf_dims(c, m->leaf[i])[BEACON_CDN] == id) {
            qoe_minute_row(m, i, &found_row);
            return &found_row;
        }
    return NULL;
}

/* With ingest.complete_after_s below the lateness, a minute is readable (complete) 15 s
 * after its end while it still takes late events, and closing it revises it. */
static void test_cube_complete_then_revised(void)
{
    struct qoe_cube_opts o;
    struct qoe_cube_stats st;
    int64_t t = TS0 / 1000;
    qoe_cube_opts_default(&o);
    T_EQ_INT(o.complete_after_s, 15); /* the default */
    oc_clock_init(&clk, OC_CLOCK_VIRTUAL, TS0);
    struct qoe_cube *c = qoe_cube_new(&o, &clk);
    T_EQ_INT(add(c, hb(TS0 + 5000, "s1", "a", 0)), 1);
    oc_clock_set_ms(&clk, TS0 + 74000);
    T_EQ_INT(add(c, hb(TS0 + 74000, "s2", "a", 0)), 1); /* watermark end + 14 s */
    T_TRUE(qoe_cube_minute(c, t) == NULL);
    oc_clock_set_ms(&clk, TS0 + 75000);
    T_EQ_INT(add(c, hb(TS0 + 75000, "s2", "a", 0)), 1); /* end + 15 s: complete */
    const struct qoe_row *r = row_of(c, t, "a");
    T_TRUE(r != NULL);
    if (r)
        T_EQ_INT(r->hb_sessions, 1);
    qoe_cube_stats(c, &st);
    T_EQ_INT(st.complete_upto_s, t + 60);
    T_TRUE(st.closed_upto_s < t + 60); /* not closed: late events still land */
    T_EQ_INT(add(c, hb(TS0 + 30000, "s3", "a", 5)), 1);
    r = row_of(c, t, "a");
    T_TRUE(r != NULL);
    if (r)
        T_EQ_INT(r->hb_sessions, 1); /* the snapshot until the minute closes */
    oc_clock_set_ms(&clk, TS0 + 185000);
    T_EQ_INT(add(c, hb(TS0 + 185000, "s4", "a", 0)), 1); /* end + 125 s > lateness: closes */
    r = row_of(c, t, "a");
    T_TRUE(r != NULL);
    if (r) {
        T_EQ_INT(r->hb_sessions, 2); /* revised: s1 and the late s3 */
        T_EQ_INT(r->rb_sessions, 1);
        T_EQ_INT(r->rebuffer_ms, 5);
    }
    qoe_cube_stats(c, &st);
    T_EQ_INT(st.closed_upto_s, t + 60);
    T_EQ_INT(st.minutes_revised, 1);
    qoe_cube_destroy(c);
}

static void test_cube_late_events_and_watermark(void)
{
    struct qoe_cube *c = cube_new(0);
    struct qoe_cube_stats st;
    int64_t t = TS0 / 1000;
    T_EQ_INT(add(c, hb(TS0 + 5000, "s1", "a", 0)), 1);
    oc_clock_set_ms(&clk, TS0 + 170000);
    T_EQ_INT(add(c, hb(TS0 + 170000, "s2", "a", 0)), 1); /* watermark: +50 s, nothing closes */
    T_TRUE(qoe_cube_minute(c, t) == NULL);
    T_EQ_INT(add(c, hb(TS0 + 30000, "s3", "a", 5)), 1); /* late but within lateness */
    /* a player whose clock runs 4 minutes ahead is accepted but does not move the watermark */
    T_EQ_INT(add(c, hb(TS0 + 170000 + 240000, "s7", "a", 0)), 1);
    T_TRUE(qoe_cube_minute(c, t) == NULL);
    oc_clock_set_ms(&clk, TS0 + 185000);
    T_EQ_INT(add(c, hb(TS0 + 185000, "s4", "b", 0)), 1); /* watermark +65 s: minute 0 closes */
    const struct qoe_row *r = row_of(c, t, "a");
    T_TRUE(r != NULL);
    if (r) {
        T_EQ_INT(r->hb_sessions, 2);
        T_EQ_INT(r->rb_sessions, 1);
        T_EQ_INT(r->playing_ms, 2000);
        T_EQ_INT(r->rebuffer_ms, 5);
    }
    oc_clock_set_ms(&clk, TS0 + 200000);
    T_EQ_INT(add(c, hb(TS0 + 59000, "s5", "a", 0)), 0); /* its minute closed */
    T_EQ_INT(batch.reason[0], INGEST_TOO_OLD);
    T_EQ_INT(add(c, hb(TS0 + 200000 + 301000, "s6", "a", 0)), 0);
    T_EQ_INT(batch.reason[0], INGEST_TOO_FAR_FUTURE);
    qoe_cube_stats(c, &st);
    T_EQ_INT(st.accepted, 5);
    T_EQ_INT(st.too_old, 1);
    T_EQ_INT(st.too_far_future, 1);
    T_EQ_INT(istats.rejected[INGEST_TOO_OLD], 1);
    T_EQ_INT(istats.rejected[INGEST_TOO_FAR_FUTURE], 1);
    T_EQ_INT(st.closed_upto_s, t + 60);
    qoe_cube_flush(c); /* the future minute was kept in its own slot */
    T_TRUE(row_of(c, t + 360, "a") != NULL);
    qoe_cube_destroy(c);
}

static void test_cube_wall_clock_closes(void)
{
    struct qoe_cube *c = cube_new(0);
    int64_t t = TS0 / 1000;
    T_EQ_INT(add(c, hb(TS0 + 1000, "s1", "a", 0)), 1);
    oc_clock_set_ms(&clk, TS0 + 179999);
    qoe_cube_tick(c);
    T_TRUE(qoe_cube_minute(c, t) == NULL); /* due at end + lateness = +180 s */
    oc_clock_set_ms(&clk, TS0 + 180000);
    qoe_cube_tick(c);
    T_TRUE(qoe_cube_minute(c, t) != NULL);
    qoe_cube_destroy(c);
}

static void test_cube_sessions_exact(void)
{
    struct qoe_cube *c = cube_new(0);
    char body[4096];
    size_t n = 0;
    /* s1 three times in cdn a (one rebuffering), s2 in a, s1 again in b (a CDN switch) */
    n += (size_t)snprintf(body + n, sizeof body - n, "%s\n", hb(TS0 + 1000, "s1", "a", 0));
    n += (size_t)snprintf(body + n, sizeof body - n, "%s\n", hb(TS0 + 2000, "s1", "a", 7));
    n += (size_t)snprintf(body + n, sizeof body - n, "%s\n", hb(TS0 + 3000, "s1", "a", 0));
    n += (size_t)snprintf(body + n, sizeof body - n, "%s\n", hb(TS0 + 4000, "s2", "a", 0));
    n += (size_t)snprintf(body + n, sizeof body - n, "%s\n", hb(TS0 + 5000, "s1", "b", 0));
    T_EQ_INT(add(c, body), 5);
    qoe_cube_flush(c);
    struct qoe_row ra, rb;
    const struct qoe_row *a = row_of(c, TS0 / 1000, "a");
    if (a)
        ra = *a, a = &ra;
    const struct qoe_row *b = row_of(c, TS0 / 1000, "b");
    if (b)
        rb = *b, b = &rb;
    T_TRUE(a && b);
    if (a && b) {
        T_EQ_INT(a->hb_sessions, 2);
        T_EQ_INT(a->rb_sessions, 1);
        T_EQ_INT(b->hb_sessions, 1);
        T_EQ_INT(b->rb_sessions, 0);
        T_EQ_DBL(a->bitrate_ms, 2000.0 * 4000, 0);
    }
    qoe_cube_destroy(c);
}

static void test_cube_leaf_cap(void)
{
    struct qoe_cube *c = cube_new(2); /* two leaves a minute, then the all-other leaf */
    struct qoe_cube_stats st;
    const char *cdns[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++)
        T_EQ_INT(add(c, hb(TS0 + 1000 * i, "s", cdns[i], 0)), 1);
    qoe_cube_flush(c);
    const struct qoe_minute *m = qoe_cube_minute(c, TS0 / 1000);
    T_TRUE(m != NULL);
    if (m) {
        T_EQ_INT(m->nrows, 3);
        T_EQ_INT(m->leaf[0], 0); /* sorted: the all-other leaf first */
        T_EQ_INT(m->playing_ms[0], 2000);
        T_EQ_STR(qoe_cube_value(c, BEACON_CDN, qoe_cube_leaf_dims(c, 0)[BEACON_CDN]), "other");
    }
    qoe_cube_stats(c, &st);
    T_EQ_INT(st.leaves_folded, 2);
    qoe_cube_destroy(c);
}

static void test_sketch_error_bound(void)
{
    for (int64_t v = 1; v < 2000000; v = v * 3 / 2 + 1) {
        int b = qoe_sketch_bucket(v);
        double got = qoe_sketch_value(b);
        T_TRUE(fabs(got - (double)v) <= 0.01 * (double)v);
    }
    T_EQ_INT(qoe_sketch_bucket(0), 0);
    T_EQ_INT(qoe_sketch_bucket(1), 1);
    uint64_t h[QOE_SKETCH_NB] = {0};
    h[qoe_sketch_bucket(100)] = 3;
    h[qoe_sketch_bucket(1000)] = 1;
    T_EQ_DBL(qoe_sketch_quantile(h, 4, 0.5), qoe_sketch_value(qoe_sketch_bucket(100)), 0);
    T_EQ_DBL(qoe_sketch_quantile(h, 4, 0.95), qoe_sketch_value(qoe_sketch_bucket(1000)), 0);
}

/* ---- persistence: closed minutes survive a crash, open ones are lost, rollups merge ---- */

static struct store *open_store(char *dir)
{
    struct store *st = NULL;
    char err[256];
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(t_store_open(dir, STORE_SYNC_NORMAL, &st, err, sizeof err), 0);
    return st;
}

static int64_t count_rows(struct store *st, int res)
{
    struct store_stmt *q;
    int64_t n = -1;
    store_lock(st);
    if (store_prepare(st, "SELECT count(*) FROM qoe_minutes WHERE res = ?", &q) == 0) {
        store_bind_int(q, 1, res);
        if (store_step(q) == STORE_ROW)
            n = store_col_int(q, 0);
        store_reset(q);
    }
    store_unlock(st);
    return n;
}

static void test_persist_restart(void)
{
    char dir[] = "/tmp/oc-ingest-XXXXXX", err[256];
    struct store *st = open_store(dir);
    struct qoe_cube *a = cube_new(0);
    int64_t t = TS0 / 1000;
    T_EQ_INT(qoe_cube_load(a, st, err, sizeof err), 0);
    T_EQ_INT(add(a, hb(TS0 + 1000, "s1", "a", 3)), 1);
    T_EQ_INT(add(a, hb(TS0 + 61000, "s2", "b", 0)), 1);
    oc_clock_set_ms(&clk, TS0 + 250000);
    T_EQ_INT(add(a, hb(TS0 + 250000, "s3", "c", 0)), 1); /* closes minutes 0 and 1 */
    T_EQ_INT(qoe_cube_persist(a, st), 2);
    qoe_cube_destroy(a); /* as kill -9: the open minute (+240 s) is lost */
    struct qoe_cube *b = cube_new(0);
    T_EQ_INT(qoe_cube_load(b, st, err, sizeof err), 0);
    const struct qoe_row *r = row_of(b, t, "a");
    T_TRUE(r != NULL);
    if (r) {
        T_EQ_INT(r->hb_sessions, 1);
        T_EQ_INT(r->rb_sessions, 1);
        T_EQ_INT(r->rebuffer_ms, 3);
    }
    T_TRUE(row_of(b, t + 60, "b") != NULL);
    T_TRUE(qoe_cube_minute(b, t + 240) == NULL);
    uint32_t id;
    T_EQ_INT(qoe_cube_value_id(b, BEACON_CDN, "c", 1, &id), 0); /* values are kept */
    oc_clock_set_ms(&clk, TS0 + 200000);
    T_EQ_INT(add(b, hb(TS0 + 70000, "s9", "a", 0)), 0); /* a stored minute stays closed */
    T_EQ_INT(batch.reason[0], INGEST_TOO_OLD);
    T_EQ_INT(add(b, hb(TS0 + 125000, "s4", "new", 0)), 1);
    qoe_cube_flush(b);
    T_EQ_INT(qoe_cube_persist(b, st), 1);
    qoe_cube_destroy(b);
    /* minutes t, t+60 and t+120 are older than 6 hours: they roll into the 5-minute rows
     * [t-240, t+60) and [t+60, t+360) (t is 240 s past a 5-minute boundary) */
    struct qoe_cube *c = cube_new(0);
    T_EQ_INT(qoe_cube_load(c, st, err, sizeof err), 0);
    T_EQ_INT(count_rows(st, 60), 3);
    T_EQ_INT(qoe_cube_compact(c, st, t + 7 * 3600), 0);
    T_EQ_INT(count_rows(st, 60), 0);
    T_EQ_INT(count_rows(st, 300), 2);
    qoe_cube_destroy(c);
    store_close(st);
    t_rmtree(dir);
}

static void test_merge_sums(void)
{
    struct qoe_cube *c = cube_new(0);
    T_EQ_INT(add(c, "[{\"ts\":1700000041000,\"type\":\"start\",\"session\":\"x\",\"outcome\":"
                    "\"success\",\"startup_ms\":500,\"cdn\":\"a\"},"
                    "{\"ts\":1700000101000,\"type\":\"start\",\"session\":\"y\",\"outcome\":"
                    "\"success\",\"startup_ms\":500,\"cdn\":\"a\"},"
                    "{\"ts\":1700000102000,\"type\":\"heartbeat\",\"session\":\"y\",\"cdn\":\"a\","
                    "\"playing_ms\":10,\"rebuffer_ms\":1}]"),
             3);
    qoe_cube_flush(c);
    struct qoe_minute *ms[2] = {(struct qoe_minute *)qoe_cube_minute(c, TS0 / 1000),
                                (struct qoe_minute *)qoe_cube_minute(c, TS0 / 1000 + 60)};
    T_TRUE(ms[0] && ms[1]);
    if (!ms[0] || !ms[1])
        return;
    struct qoe_minute *m = minute_merge(TS0 / 1000, 300, ms, 2);
    size_t len;
    void *blob = minute_encode(m, &len);
    struct qoe_minute *d = minute_decode(m->t, blob, len, qoe_cube_nleaves(c));
    T_TRUE(d != NULL);
    if (d) {
        T_EQ_INT(d->nrows, 1);
        T_EQ_INT(d->starts[0], 2);
        T_EQ_INT(d->hb_sessions[0], 1);
        T_EQ_INT(d->nsk, 1);
        T_EQ_INT(QOE_SK_COUNT(d->sk[0]), 2);
        /* per-minute detail: y heartbeated (rebuffering) in the second minute only */
        T_EQ_INT(d->res, 300);
        T_EQ_INT(d->ndet, 1);
        T_TRUE(d->det_n != NULL);
        if (d->det_n && d->ndet == 1) {
            T_EQ_INT(d->det_n[0], 1);
            T_EQ_INT(d->det[0].min, 1);
            T_EQ_INT(d->det[0].hb, 1);
            T_EQ_INT(d->det[0].rb, 1);
        }
        /* an hourly row of this 5-minute row and the minute after it: minutes shift */
        struct qoe_minute *parts[2] = {d, ms[1]};
        struct qoe_minute *h = minute_merge(TS0 / 1000, 3600, parts, 2);
        T_EQ_INT(h->res, 3600);
        T_EQ_INT(h->ndet, 1); /* the same minute twice adds up */
        if (h->ndet == 1) {
            T_EQ_INT(h->det[0].min, 1);
            T_EQ_INT(h->det[0].hb, 2);
        }
        T_EQ_INT(h->hb_sessions[0], 2);
        qoe_minute_destroy(h);
        /* a detail entry past the row's minutes is damage */
        struct qoe_minute *bad = minute_merge(TS0 / 1000, 300, ms, 2);
        bad->det[0].min = 5;
        size_t blen;
        void *bblob = minute_encode(bad, &blen);
        T_TRUE(minute_decode(bad->t, bblob, blen, qoe_cube_nleaves(c)) == NULL);
        free(bblob);
        qoe_minute_destroy(bad);
    }
    T_TRUE(minute_decode(m->t, blob, len - 1, qoe_cube_nleaves(c)) == NULL);
    T_TRUE(minute_decode(m->t, blob, len, 0) == NULL); /* names a leaf that does not exist */
    free(blob);
    qoe_minute_destroy(d);
    qoe_minute_destroy(m);
    qoe_cube_destroy(c);
}

/* What the log hands back when it is reopened. */
struct wal_seen {
    int records;
    size_t bytes;
    uint32_t nev;
    uint8_t bits0;
    int64_t max_ts;
};

static void wal_seen_fn(void *arg, const char *body, size_t len, const uint8_t *bits, uint32_t nev,
                        int64_t max_ts_ms)
{
    struct wal_seen *w = arg;
    (void)body;
    w->records++;
    w->bytes += len;
    w->nev = nev;
    w->bits0 = nev ? bits[0] : 0;
    w->max_ts = max_ts_ms;
}

/* Records written, reopened (replayed in order), a torn tail ignored, a corrupt record and
 * everything after it ignored, trimmed once stored, and a batch kept to its accepted bits. */
static void test_wal_roundtrip(void)
{
    char dir[] = "/tmp/oncue-wal.XXXXXX", path[200];
    struct ingest_wal *w = NULL;
    struct wal_seen seen = {0};
    size_t records = 9;
    const uint8_t bits[1] = {0x05}; /* events 0 and 2 of 3 accepted */
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(ingest_wal_open(dir, 1, wal_seen_fn, &seen, &w, &records), 0);
    T_EQ_INT((int)records, 0);
    T_EQ_INT(ingest_wal_append(w, "abc", 3, bits, 3, 120000), 0);
    T_EQ_INT(ingest_wal_append(w, "defgh", 5, bits, 3, 180500), 0);
    T_EQ_INT(ingest_wal_append(w, "x", 1, bits, INGEST_WAL_MAX_EVENTS + 1, 0), OC_ETOOBIG);
    ingest_wal_close(w);
    /* a torn tail: half a header appended to the segment */
    snprintf(path, sizeof(path), "%s/ingest-wal/000000000001.log", dir);
    FILE *f = fopen(path, "ab");
    T_TRUE(f != NULL);
    fwrite("OCW1\x10\0", 1, 6, f);
    fclose(f);
    T_EQ_INT(ingest_wal_open(dir, 0, wal_seen_fn, &seen, &w, &records), 0);
    T_EQ_INT((int)records, 2);
    T_EQ_INT(seen.records, 2);
    T_EQ_INT((int)seen.bytes, 8);
    T_EQ_INT((int)seen.nev, 3);
    T_EQ_INT(seen.bits0, 0x05);
    T_EQ_INT((int)seen.max_ts, 180500);
    /* minutes before 180 stored: the first segment still holds an event of minute 180 */
    T_EQ_INT(ingest_wal_trim(w, 180), 0);
    T_EQ_INT(ingest_wal_trim(w, 240), 1);
    T_EQ_INT(access(path, F_OK), -1);
    ingest_wal_close(w);

    /* a flipped byte in a record's body: it and what follows are not replayed */
    uint8_t buf[256];
    size_t used = 0;
    T_EQ_INT(ingest_wal_open(dir, 0, NULL, NULL, &w, &records), 0);
    T_EQ_INT(ingest_wal_append(w, "hello", 5, bits, 3, 1000), 0);
    T_EQ_INT(ingest_wal_append(w, "world", 5, bits, 3, 2000), 0);
    ingest_wal_close(w);
    snprintf(path, sizeof(path), "%s/ingest-wal/000000000003.log", dir);
    f = fopen(path, "rb");
    T_TRUE(f != NULL);
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    T_EQ_INT((int)n, 2 * (32 + 1 + 5));
    T_EQ_INT(ingest_wal_scan(buf, n, NULL, NULL, &used), 2);
    T_EQ_INT((int)used, 76);
    buf[32 + 1 + 2] ^= 0x20; /* "hEllo" */
    T_EQ_INT(ingest_wal_scan(buf, n, NULL, NULL, &used), 0);
    T_EQ_INT((int)used, 0);

    /* a body of 512 bytes or more is stored compressed and replayed as received */
    char big[4000];
    struct wal_seen again = {0};
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = "{\"ts\":1772479800000,\"type\":\"heartbeat\"}\n"[i % 41];
    T_EQ_INT(ingest_wal_open(dir, 0, NULL, NULL, &w, &records), 0);
    T_EQ_INT(ingest_wal_append(w, big, sizeof(big), bits, 3, 5000), 0);
    T_TRUE(ingest_wal_bytes(w) < 1000); /* 4,000 repetitive bytes compress well */
    ingest_wal_close(w);
    T_EQ_INT(ingest_wal_open(dir, 0, wal_seen_fn, &again, &w, &records), 0);
    T_EQ_INT(again.records, 3);
    T_EQ_INT((int)again.bytes, 5 + 5 + (int)sizeof(big));
    T_EQ_INT((int)again.max_ts, 5000);
    ingest_wal_close(w);
    t_rmtree(dir);

    /* a replayed body keeps exactly the events the cube accepted */
    struct ingest_batch b;
    char err[160];
    const char *body = "{\"ts\":1772479800000,\"type\":\"start\",\"session\":\"a\","
                       "\"outcome\":\"exit\"}\n"
                       "{\"ts\":1772479801000,\"type\":\"start\",\"session\":\"b\","
                       "\"outcome\":\"exit\"}\n"
                       "{\"ts\":1772479802000,\"type\":\"start\",\"session\":\"c\","
                       "\"outcome\":\"exit\"}\n";
    ingest_batch_init(&b, 100);
    T_EQ_INT(ingest_parse(&b, body, strlen(body), err, sizeof(err)), 0);
    T_EQ_INT((int)b.nev, 3);
    T_EQ_INT(ingest_batch_keep(&b, bits, 2), OC_EINVAL);
    T_EQ_INT(ingest_batch_keep(&b, bits, 3), 0);
    T_EQ_INT((int)b.nev, 2);
    T_EQ_INT((int)(b.ev[1].ts_ms - 1772479800000LL), 2000);
    T_EQ_INT(b.reason[1], INGEST_TOO_OLD);
    ingest_batch_free(&b);
}

/* Two beacon_str equal: both absent, or the same bytes. */
static int same_str(struct beacon_str a, struct beacon_str b)
{
    return (!a.p && !b.p) || (a.p && b.p && a.n == b.n && memcmp(a.p, b.p, a.n) == 0);
}

/* The log's compact form of accepted events decodes to exactly the parsed events (strings
 * with escapes, numbers and booleans as dimensions, an empty one, absent ones, fractional and
 * integral bitrates, an account and an error code), leaves out the refused ones, and refuses
 * every truncation, a wrong count and a trailing byte; an "OCW2" record (a log written before
 * the compact form) still scans, an unknown magic does not. */
static void test_wal_events_compact(void)
{
    struct ingest_batch b;
    char err[160];
    const char *body =
        "{\"ts\":1772479800000,\"type\":\"start\",\"session\":\"s\\u00e9\\\"1\","
        "\"outcome\":\"success\",\"startup_ms\":812,\"region\":\"EMEA\",\"asn\":3320,"
        "\"live\":true,\"cdn\":\"\",\"account_hmac\":"
        "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}\n"
        "{\"ts\":1772479799000,\"type\":\"heartbeat\",\"session\":\"s2\",\"playing_ms\":9000,"
        "\"rebuffer_ms\":250,\"bitrate_kbps\":1500.25,\"title\":\"t\\n1\"}\n"
        "{\"ts\":1772479801000,\"type\":\"start\",\"session\":\"s3\",\"outcome\":\"failure\","
        "\"error_code\":\"E42\",\"live\":false}\n"
        "{\"ts\":1772479802000,\"type\":\"heartbeat\",\"session\":\"s4\",\"playing_ms\":1,"
        "\"bitrate_kbps\":3000}\n"
        "{\"ts\":1772479803000,\"type\":\"end\",\"session\":\"s5\"}\n"
        "{\"ts\":1772479803500,\"type\":\"end\",\"session\":\"s5\",\"region\":\"EMEA\"}\n";
    ingest_batch_init(&b, 100);
    T_EQ_INT(ingest_parse(&b, body, strlen(body), err, sizeof(err)), 0);
    T_EQ_INT((int)b.nev, 6);
    memset(b.verdict, QOE_FOLD_OK, b.nev);
    b.verdict[3] = QOE_FOLD_TOO_OLD; /* refused: not logged */
    b.ev[4].stalled = 1;             /* as a CMCD report sets it */
    size_t len = 0;
    uint32_t n = 0;
    char *rec = ingest_events_encode(b.ev, b.verdict, b.nev, &len, &n);
    T_TRUE(rec != NULL);
    T_EQ_INT((int)n, 5);
    T_EQ_INT(rec[0], INGEST_EVENTS_MARK);
    T_TRUE(len < strlen(body) / 2);
    struct beacon_event ev[6]; /* room for the wrong count of 6 below */
    T_EQ_INT(ingest_events_decode(rec, len, 5, ev), 0);
    for (int i = 0, j = 0; i < 6; i++) {
        if (i == 3)
            continue;
        const struct beacon_event *a = &b.ev[i], *d = &ev[j++];
        T_EQ_INT((int)(a->ts_ms - d->ts_ms), 0);
        T_EQ_INT(a->type, d->type);
        T_EQ_INT(a->outcome, d->outcome);
        T_EQ_INT(a->stalled, d->stalled);
        T_EQ_INT((int)a->startup_ms, (int)d->startup_ms);
        T_EQ_INT((int)a->playing_ms, (int)d->playing_ms);
        T_EQ_INT((int)a->rebuffer_ms, (int)d->rebuffer_ms);
        T_TRUE(memcmp(&a->bitrate_kbps, &d->bitrate_kbps, sizeof(double)) == 0);
        T_TRUE(same_str(a->session, d->session));
        T_TRUE(same_str(a->error_code, d->error_code));
        T_TRUE(same_str(a->account, d->account));
        for (int k = 0; k < BEACON_NDIMS; k++)
            T_TRUE(same_str(a->dims[k], d->dims[k]));
    }
    T_EQ_INT((int)ev[0].session.n, 5); /* s, e-acute (2 bytes), quote, 1 */
    T_EQ_INT((int)ev[0].dims[BEACON_CDN].n, 0);
    T_TRUE(ev[0].dims[BEACON_CDN].p != NULL);
    T_TRUE(ev[0].dims[BEACON_POP].p == NULL);
    T_EQ_STR(ev[2].error_code.n == 3 ? "E42" : "", "E42");
    T_EQ_DBL(ev[1].bitrate_kbps, 1500.25, 0);
    T_EQ_DBL(ev[3].bitrate_kbps, 0, 0);
    T_TRUE(ev[4].session.p == ev[3].session.p); /* "s5" again: one byte in the record */
    T_EQ_INT((int)ev[4].dims[BEACON_REGION].n, 4);
    for (size_t cut = 0; cut < len; cut++)
        T_EQ_INT(ingest_events_decode(rec, cut, 5, ev), OC_EINVAL);
    T_EQ_INT(ingest_events_decode(rec, len, 4, ev), OC_EINVAL);
    T_EQ_INT(ingest_events_decode(rec, len, 6, ev), OC_EINVAL);
    char *longer = malloc(len + 1);
    memcpy(longer, rec, len);
    longer[len] = 0;
    T_EQ_INT(ingest_events_decode(longer, len + 1, 5, ev), OC_EINVAL);
    /* by hand: an end event at ts 2000 of session "s"; the first event cannot repeat a
     * previous one's string, nor may a session be absent */
    char hand[25] = {INGEST_EVENTS_MARK, 1, (char)0xa0, 0x1f, BEACON_END, 0, 0, 0, 3, 's'};
    T_EQ_INT(ingest_events_decode(hand, sizeof(hand), 1, ev), 0);
    T_EQ_INT((int)ev[0].ts_ms, 2000);
    T_EQ_INT((int)ev[0].session.n, 1);
    hand[8] = 1;
    T_EQ_INT(ingest_events_decode(hand, sizeof(hand) - 1, 1, ev), OC_EINVAL);
    hand[8] = 0;
    T_EQ_INT(ingest_events_decode(hand, sizeof(hand) - 1, 1, ev), OC_EINVAL);
    free(longer);

    /* the record's magic: OCW3 written, OCW2 read alike, anything else not */
    char dir[] = "/tmp/oncue-walc.XXXXXX", path[200];
    struct ingest_wal *w = NULL;
    size_t records = 0, used = 0;
    const uint8_t bits[1] = {0x1f};
    T_TRUE(mkdtemp(dir) != NULL);
    T_EQ_INT(ingest_wal_open(dir, 0, NULL, NULL, &w, &records), 0);
    T_EQ_INT(ingest_wal_append(w, rec, len, bits, 5, 1772479803500LL), 0);
    ingest_wal_close(w);
    snprintf(path, sizeof(path), "%s/ingest-wal/000000000001.log", dir);
    uint8_t seg[4096];
    FILE *f = fopen(path, "rb");
    T_TRUE(f != NULL);
    size_t got = fread(seg, 1, sizeof(seg), f);
    fclose(f);
    T_EQ_INT(memcmp(seg, "OCW3", 4), 0);
    T_EQ_INT(ingest_wal_scan(seg, got, NULL, NULL, &used), 1);
    memcpy(seg, "OCW2", 4);
    T_EQ_INT(ingest_wal_scan(seg, got, NULL, NULL, &used), 1);
    memcpy(seg, "OCW4", 4);
    T_EQ_INT(ingest_wal_scan(seg, got, NULL, NULL, &used), 0);
    t_rmtree(dir);
    free(rec);
    ingest_batch_free(&b);
}

static const struct t_case cases[] = {
    T_CASE(test_parse_array),
    T_CASE(test_parse_escapes),
    T_CASE(test_parse_reasons),
    T_CASE(test_parse_ndjson),
    T_CASE(test_parse_not_json),
    T_CASE(test_parse_cap),
    T_CASE(test_parse_differential),
    T_CASE(test_cube_late_events_and_watermark),
    T_CASE(test_cube_complete_then_revised),
    T_CASE(test_cube_wall_clock_closes),
    T_CASE(test_cube_sessions_exact),
    T_CASE(test_cube_leaf_cap),
    T_CASE(test_sketch_error_bound),
    T_CASE(test_persist_restart),
    T_CASE(test_merge_sums),
    T_CASE(test_wal_roundtrip),
    T_CASE(test_wal_events_compact),
    {0},
};

T_MAIN(cases)
