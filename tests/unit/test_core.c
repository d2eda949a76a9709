/*
 * test_core.c - core/: errors, buffers, arena, clocks, logging and PII helpers, JSON helpers,
 * the event bus, the metrics writers and the module runner's leased timers.
 */
#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/bus.h"
#include "core/lock.h"
#include "core/clock.h"
#include "core/decode.h"
#include "core/err.h"
#include "core/json.h"
#include "core/log.h"
#include "core/memo.h"
#include "core/metrics.h"
#include "core/module.h"
#include "core/netguard.h"
#include "core/suggest.h"
#include "core/timefmt.h"
#include "t.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

static void test_strerror(void)
{
    T_EQ_STR(oc_strerror(0), "ok");
    T_EQ_STR(oc_strerror(OC_ETOOBIG), "limit exceeded");
    T_EQ_STR(oc_strerror(OC_ENOTFOUND), "not found");
    T_EQ_STR(oc_strerror(-999), "unknown error");
}

static void test_buf_cap(void)
{
    struct oc_buf b;
    oc_buf_init(&b, 10);
    T_EQ_INT(oc_buf_puts(&b, "hello"), 0);
    T_EQ_INT(oc_buf_printf(&b, "%d", 12345), 0);
    T_EQ_STR(b.data, "hello12345");
    T_EQ_INT(oc_buf_puts(&b, "!"), OC_ETOOBIG);
    T_EQ_STR(b.data, "hello12345");
    T_EQ_INT(b.len, 10);
    oc_buf_reset(&b);
    T_EQ_INT(oc_buf_printf(&b, "%s", "0123456789a"), OC_ETOOBIG);
    T_EQ_INT(b.len, 0);
    char *s = oc_buf_steal(&b);
    T_EQ_STR(s, "");
    free(s);
    oc_buf_free(&b);
}

static void test_buf_growth(void)
{
    struct oc_buf b;
    oc_buf_init(&b, 1 << 20);
    for (int i = 0; i < 10000; i++)
        T_EQ_INT(oc_buf_append(&b, "ab", 2), 0);
    T_EQ_INT(b.len, 20000);
    T_EQ_INT(b.data[19999], 'b');
    T_EQ_INT(b.data[20000], '\0');
    oc_buf_free(&b);
}

static void test_arena(void)
{
    struct oc_arena a;
    oc_arena_init(&a, 16384);
    char *s = oc_arena_strdup(&a, "viewer");
    T_EQ_STR(s, "viewer");
    long *p = oc_arena_calloc(&a, 100 * sizeof(long));
    T_TRUE(p != NULL);
    T_EQ_INT((uintptr_t)p % _Alignof(max_align_t), 0);
    T_EQ_INT(p[99], 0);
    T_TRUE(oc_arena_alloc(&a, 1 << 20) == NULL); /* past the cap */
    T_TRUE(oc_arena_alloc(&a, 64) != NULL);      /* still usable */
    oc_arena_free(&a);
    T_EQ_INT(a.used, 0);
}

/* Reset keeps the oldest block when it has the standard size (4096 bytes): the next request
 * reuses it; a larger first block and every later one are freed. */
static void test_arena_reset(void)
{
    struct oc_arena a;
    oc_arena_init(&a, 16384);
    char *first = oc_arena_strdup(&a, "viewer");
    size_t one = a.used;
    T_TRUE(one > 4096 && one < 4096 + 64);
    T_TRUE(oc_arena_alloc(&a, 8000) != NULL); /* a second, larger block */
    T_TRUE(a.used > one + 8000);
    oc_arena_reset(&a);
#if defined(__SANITIZE_ADDRESS__)
    T_EQ_INT(a.used, 0); /* everything freed, so a use after the reset is reported */
    (void)first;
#else
    T_EQ_INT(a.used, one);
    T_TRUE(oc_arena_strdup(&a, "admin") == first); /* the kept block, from its start */
    T_EQ_STR(first, "admin");
    T_TRUE(oc_arena_alloc(&a, 12000) != NULL); /* the cap counts the kept block */
    T_TRUE(oc_arena_alloc(&a, 4096) == NULL);
#endif
    oc_arena_reset(&a);
    oc_arena_free(&a);
    T_EQ_INT(a.used, 0);
    oc_arena_init(&a, 16384);
    T_TRUE(oc_arena_alloc(&a, 5000) != NULL); /* an oversized first block is not kept */
    oc_arena_reset(&a);
    T_EQ_INT(a.used, 0);
    oc_arena_free(&a);
}

static void test_clock_virtual(void)
{
    struct oc_clock c;
    oc_clock_init(&c, OC_CLOCK_VIRTUAL, 1000);
    T_EQ_INT(oc_clock_now_ms(&c), 1000);
    oc_clock_advance_ms(&c, 59500);
    T_EQ_INT(oc_clock_now_ms(&c), 60500);
    T_EQ_INT(oc_clock_now_s(&c), 60);
    oc_clock_set_ms(&c, 5000); /* never backwards */
    T_EQ_INT(oc_clock_now_ms(&c), 60500);
    oc_clock_observe_ms(&c, 99999999); /* only replay follows events */
    T_EQ_INT(oc_clock_now_ms(&c), 60500);
}

static void test_clock_replay_and_real(void)
{
    struct oc_clock c;
    oc_clock_init(&c, OC_CLOCK_REPLAY, 0);
    oc_clock_observe_ms(&c, 1700000000000);
    oc_clock_observe_ms(&c, 1699999999000); /* late event: watermark stays */
    T_EQ_INT(oc_clock_now_ms(&c), 1700000000000);
    oc_clock_advance_ms(&c, 1000); /* no effect on replay */
    T_EQ_INT(oc_clock_now_ms(&c), 1700000000000);
    struct oc_clock r;
    oc_clock_init(&r, OC_CLOCK_REAL, 0);
    int64_t wall = oc_wall_ms();
    T_TRUE(llabs(oc_clock_now_ms(&r) - wall) < 5000);
    enum oc_clock_kind k;
    T_EQ_INT(oc_clock_kind_parse("replay", &k), 0);
    T_EQ_INT(k, OC_CLOCK_REPLAY);
    T_EQ_INT(oc_clock_kind_parse("wall", &k), OC_EINVAL);
}

static void test_log_json_lines(void)
{
    FILE *f = tmpfile();
    oc_log_set_stream(f);
    oc_log_set_level(OC_LOG_INFO);
    oc_log(OC_LOG_DEBUG, "hidden");
    oc_log(OC_LOG_WARN, "quote \" and\nnewline %d", 7);
    oc_log_kv(OC_LOG_INFO, "kv", "viewer", "abc", NULL);
    oc_log_set_stream(NULL);
    rewind(f);
    char line[512];
    T_TRUE(fgets(line, sizeof(line), f) != NULL);
    json_t *v = NULL;
    T_EQ_INT(oc_json_parse(line, strlen(line), &v, NULL, 0), 0);
    T_EQ_STR(json_string_value(json_object_get(v, "level")), "warn");
    T_EQ_STR(json_string_value(json_object_get(v, "msg")), "quote \" and\nnewline 7");
    json_decref(v);
    T_TRUE(fgets(line, sizeof(line), f) != NULL);
    T_EQ_INT(oc_json_parse(line, strlen(line), &v, NULL, 0), 0);
    T_EQ_STR(json_string_value(json_object_get(v, "viewer")), "abc");
    json_decref(v);
    T_TRUE(fgets(line, sizeof(line), f) == NULL);
    fclose(f);
}

/* log.format text: one line each, the level, the message on one line, key=value (quoted
 * when it must be). */
static void test_log_text_lines(void)
{
    FILE *f = tmpfile();
    char line[512];
    oc_log_set_stream(f);
    oc_log_set_text(1);
    oc_log(OC_LOG_WARN, "two\nlines %d", 7);
    oc_log_kv(OC_LOG_INFO, "oncue serving", "version", "1.0", "data", "/var/lib/my data", "e", "",
              NULL);
    oc_log_set_text(0);
    oc_log_set_stream(NULL);
    rewind(f);
    T_TRUE(fgets(line, sizeof(line), f) != NULL);
    T_EQ_STR(line + 24, " warn  two\\nlines 7\n"); /* after "2026-12-06T19:43:00.123Z" */
    T_EQ_INT(line[23], 'Z');
    T_TRUE(fgets(line, sizeof(line), f) != NULL);
    T_EQ_STR(line + 24, " info  oncue serving version=1.0 data=\"/var/lib/my data\" e=\"\"\n");
    T_TRUE(fgets(line, sizeof(line), f) == NULL);
    fclose(f);
}

static void test_pii(void)
{
    unsigned char key[OC_PII_KEY_LEN] = {1, 2, 3};
    oc_pii_set_key(key);
    char h1[OC_PII_HASH_HEX + 1], h2[OC_PII_HASH_HEX + 1];
    oc_pii_hash_id("viewer-42", h1);
    oc_pii_hash_id("viewer-42", h2);
    T_EQ_STR(h1, h2);
    T_EQ_INT(strlen(h1), 16);
    T_TRUE(strstr(h1, "viewer") == NULL);
    key[0] = 9;
    oc_pii_set_key(key);
    oc_pii_hash_id("viewer-42", h2);
    T_TRUE(strcmp(h1, h2) != 0); /* keyed */
    char ip[64];
    T_EQ_INT(oc_pii_ip_truncate("203.0.113.77", ip, sizeof(ip)), 0);
    T_EQ_STR(ip, "203.0.113.0");
    T_EQ_INT(oc_pii_ip_truncate("2001:db8:1234:5678::1", ip, sizeof(ip)), 0);
    T_EQ_STR(ip, "2001:db8:1234::");
    T_EQ_INT(oc_pii_ip_truncate("not-an-ip", ip, sizeof(ip)), OC_EINVAL);
}

static void test_json_helpers(void)
{
    const char *doc = "{\"s\":\"x\",\"i\":42,\"r\":3.0,\"f\":1.5,\"b\":true,\"n\":null}";
    json_t *v = NULL;
    char err[128];
    T_EQ_INT(oc_json_parse(doc, strlen(doc), &v, err, sizeof(err)), 0);
    const char *s;
    int64_t i;
    double d;
    int b;
    T_EQ_INT(oc_json_get_str(v, "s", &s), 0);
    T_EQ_STR(s, "x");
    T_EQ_INT(oc_json_get_str(v, "i", &s), OC_EINVAL);
    T_EQ_INT(oc_json_get_int(v, "i", &i), 0);
    T_EQ_INT(i, 42);
    T_EQ_INT(oc_json_get_int(v, "r", &i), 0);
    T_EQ_INT(i, 3);
    T_EQ_INT(oc_json_get_int(v, "f", &i), OC_EINVAL);
    T_EQ_INT(oc_json_get_num(v, "f", &d), 0);
    T_EQ_DBL(d, 1.5, 0);
    T_EQ_INT(oc_json_get_bool(v, "b", &b), 0);
    T_EQ_INT(b, 1);
    T_EQ_INT(oc_json_get_str(v, "n", &s), OC_ENOTFOUND);
    T_EQ_INT(oc_json_get_str(v, "absent", &s), OC_ENOTFOUND);
    static const char *const allowed[] = {"s", "i", "r", "f", "b", NULL};
    T_EQ_STR(oc_json_unknown_key(v, allowed), "n");
    struct oc_buf out;
    oc_buf_init(&out, 8);
    T_EQ_INT(oc_json_dump(v, &out), OC_ETOOBIG);
    T_EQ_INT(out.len, 0);
    oc_buf_free(&out);
    json_decref(v);
    /* API answers print doubles with 15 significant digits: 0.05, not 0.050000000000000003 */
    v = json_pack("{s:f, s:f, s:f}", "a", 0.05, "b", 0.1 + 0.2, "c", 1.0 / 3.0);
    oc_buf_init(&out, 1024);
    T_EQ_INT(oc_json_dump(v, &out), 0);
    T_EQ_STR(out.data, "{\"a\":0.05,\"b\":0.3,\"c\":0.333333333333333}");
    oc_buf_free(&out);
    json_decref(v);
    T_EQ_INT(oc_json_parse("{\"a\":", 5, &v, err, sizeof(err)), OC_EINVAL);
    T_CONTAINS(err, "line 1");
}

/* Bounded integers name the field; 4294967297 is refused, not truncated to 1; 2^63-1 does
 * not reach arithmetic (issue 26, finding 5). */
static void test_json_int_range(void)
{
    const char *doc = "{\"sev\":4294967297,\"h\":9223372036854775807,\"ok\":3,\"lo\":-1,"
                      "\"big\":1e300,\"s\":\"3\"}";
    json_t *v = NULL;
    char err[128] = "";
    int64_t i = 77;
    T_EQ_INT(oc_json_parse(doc, strlen(doc), &v, NULL, 0), 0);
    T_EQ_INT(oc_json_get_int_range(v, NULL, "sev", 1, 4, &i, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "sev: an integer from 1 to 4");
    T_EQ_INT(i, 77);
    T_EQ_INT(oc_json_get_int_range(v, "auto", "h", 0, 8760, &i, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "auto.h: an integer from 0 to 8760");
    T_EQ_INT(oc_json_get_int_range(v, NULL, "lo", 0, 10, &i, err, sizeof(err)), OC_EINVAL);
    T_EQ_INT(oc_json_get_int_range(v, NULL, "big", 0, 10, &i, err, sizeof(err)), OC_EINVAL);
    T_EQ_INT(oc_json_get_int_range(v, NULL, "s", 0, 10, &i, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "s: an integer from 0 to 10");
    err[0] = '\0';
    T_EQ_INT(oc_json_get_int_range(v, NULL, "absent", 0, 10, &i, err, sizeof(err)), OC_ENOTFOUND);
    T_EQ_STR(err, "");
    T_EQ_INT(oc_json_get_int_range(v, NULL, "ok", 1, 4, &i, err, sizeof(err)), 0);
    T_EQ_INT(i, 3);
    json_decref(v);
}

/* "\u0000" inside a string is found with the field's path, at any depth. */
static void test_json_find_nul(void)
{
    const char *doc = "{\"a\":\"fine\",\"l\":[1,{\"t\":\"x\\u0000y\"}]}";
    json_t *v = NULL;
    char path[64];
    T_EQ_INT(oc_json_parse(doc, strlen(doc), &v, NULL, 0), 0);
    T_EQ_INT(oc_json_find_nul(v, path, sizeof(path)), OC_EINVAL);
    T_EQ_STR(path, "l[1].t");
    json_decref(v);
    doc = "{\"title\":\"\\u0000\"}";
    T_EQ_INT(oc_json_parse(doc, strlen(doc), &v, NULL, 0), 0);
    T_EQ_INT(oc_json_find_nul(v, path, sizeof(path)), OC_EINVAL);
    T_EQ_STR(path, "title");
    T_EQ_INT(oc_json_find_nul(v, path, 4), OC_EINVAL); /* a cut path still names it */
    T_EQ_STR(path, "tit");
    json_decref(v);
    doc = "{\"a\":\"\\u00e9\",\"b\":[[\"x\"]],\"c\":{}}";
    T_EQ_INT(oc_json_parse(doc, strlen(doc), &v, NULL, 0), 0);
    T_EQ_INT(oc_json_find_nul(v, path, sizeof(path)), 0);
    T_EQ_STR(path, "");
    json_decref(v);
}

static int bus_hits;
static char bus_last[64];

static void on_event(const char *topic, const json_t *payload, void *arg)
{
    bus_hits += *(int *)arg;
    snprintf(bus_last, sizeof(bus_last), "%s:%s", topic,
             json_string_value(json_object_get(payload, "id")));
}

static int chain_order[8], chain_n;

/* Publishes a child event from inside delivery (as the incident manager does on alert.fired). */
static void on_chain(const char *topic, const json_t *payload, void *arg)
{
    struct oc_bus *bus = arg;
    (void)payload;
    chain_order[chain_n++ % 8] = topic[0];
    if (strcmp(topic, "a") == 0) {
        T_EQ_INT(oc_bus_publish(bus, "c", NULL), 0);
        T_EQ_INT(oc_bus_drain(bus), 0); /* a drain from inside delivery returns at once */
    }
}

static pthread_mutex_t test_mu = PTHREAD_MUTEX_INITIALIZER;

static void test_bus(void)
{
    struct oc_bus *bus = oc_bus_new();
    struct oc_bus_stats st;
    int one = 1, hundred = 100;
    T_EQ_INT(oc_bus_subscribe(bus, "incident.opened", on_event, &one), 0);
    T_EQ_INT(oc_bus_subscribe(bus, "*", on_event, &hundred), 0);
    json_t *p = json_pack("{s:s}", "id", "INC-1");
    T_EQ_INT(oc_bus_publish(bus, "incident.opened", p), 0); /* queued, nobody called yet */
    T_EQ_INT(bus_hits, 0);
    T_EQ_INT(oc_bus_drain(bus), 2);
    T_EQ_INT(bus_hits, 101);
    T_EQ_INT(oc_bus_publish(bus, "alert.fired", p), 0);
    json_object_set_new(p, "id", json_string("changed")); /* the bus delivers its own copy */
    T_EQ_INT(oc_bus_drain(bus), 1);
    T_EQ_INT(bus_hits, 201);
    T_EQ_STR(bus_last, "alert.fired:INC-1");
    oc_bus_unsubscribe(bus, on_event, &hundred);
    T_EQ_INT(oc_bus_publish(bus, "alert.fired", p), 0);
    T_EQ_INT(oc_bus_drain(bus), 0);
    oc_bus_unsubscribe(bus, on_event, &one);
    /* depth first: what a subscriber publishes comes before older events */
    T_EQ_INT(oc_bus_subscribe(bus, "*", on_chain, bus), 0);
    oc_bus_publish(bus, "a", NULL);
    oc_bus_publish(bus, "b", NULL);
    T_EQ_INT(oc_bus_drain(bus), 3);
    T_EQ_INT(chain_n, 3);
    T_EQ_INT(chain_order[0], 'a');
    T_EQ_INT(chain_order[1], 'c');
    T_EQ_INT(chain_order[2], 'b');
    /* a delivery made while the draining thread holds a module lock is counted */
    oc_bus_stats(bus, &st);
    T_EQ_INT(st.violations, 0);
    oc_bus_publish(bus, "b", NULL);
    oc_lock(&test_mu);
    T_EQ_INT(oc_locks_held(), 1);
    oc_bus_drain(bus);
    oc_unlock(&test_mu);
    T_EQ_INT(oc_locks_held(), 0);
    oc_bus_stats(bus, &st);
    T_EQ_INT(st.violations, 1);
    T_EQ_INT(st.published, 7);
    json_decref(p);
    oc_bus_destroy(bus);
    oc_bus_destroy(NULL);
}

static void render(struct oc_buf *b, void *arg)
{
    (void)arg;
    oc_metrics_family(b, "x_total", "counter", "An example\\counter.");
    const char *labels[] = {"region", "E\"U\\1", NULL};
    oc_metrics_sample(b, "x_total", labels, 3);
    oc_metrics_sample(b, "x_total", NULL, NAN);
}

static void test_metrics(void)
{
    struct oc_metrics *m = oc_metrics_new();
    oc_metrics_register(m, render, NULL);
    struct oc_buf b;
    oc_buf_init(&b, 4096);
    T_EQ_INT(oc_metrics_render(m, &b), 0);
    T_EQ_STR(b.data, "# HELP x_total An example\\\\counter.\n# TYPE x_total counter\n"
                     "x_total{region=\"E\\\"U\\\\1\"} 3\nx_total NaN\n");
    oc_buf_free(&b);
    oc_metrics_destroy(m);
}

static void test_time_format(void)
{
    char s[OC_TIME_LEN];
    oc_time_format(0, s, sizeof s);
    T_EQ_STR(s, "1970-01-01T00:00:00Z");
    oc_time_format(1795635780999LL, s, sizeof s);
    T_EQ_STR(s, "2026-11-25T19:43:00Z");
    oc_time_format(-1, s, sizeof s); /* floors: the last second of 1969 */
    T_EQ_STR(s, "1969-12-31T23:59:59Z");
    oc_time_format(951782400000LL, s, sizeof s); /* a leap day */
    T_EQ_STR(s, "2000-02-29T00:00:00Z");
    T_EQ_INT(oc_days_from_civil(2000, 3, 1), 11017);
}

static void test_time_parse(void)
{
    int64_t ms = 7;
    T_EQ_INT(oc_time_parse("1970-01-01", 0, &ms), 0);
    T_EQ_INT(ms, 0);
    T_EQ_INT(oc_time_parse("2026-11-25T19:43Z", 0, &ms), 0);
    T_EQ_INT(ms, 1795635780000LL);
    T_EQ_INT(oc_time_parse("2026-11-25 19:43:05", 0, &ms), 0);
    T_EQ_INT(ms, 1795635785000LL);
    T_EQ_INT(oc_time_parse("2026-11-25T19:43:00.25Z", 0, &ms), 0);
    T_EQ_INT(ms, 1795635780250LL);
    T_EQ_INT(oc_time_parse("2026-11-25T20:43:00+01:00", 0, &ms), 0);
    T_EQ_INT(ms, 1795635780000LL);
    T_EQ_INT(oc_time_parse("2026-11-25T18:13:00-01:30", OC_TIME_STRICT, &ms), 0);
    T_EQ_INT(ms, 1795635780000LL);
    T_EQ_INT(oc_time_parse("2026-11-25T19:43:00.5z", OC_TIME_STRICT, &ms), 0);
    T_EQ_INT(ms, 1795635780500LL);
    ms = 7;
    T_EQ_INT(oc_time_parse("2026-11-25T20:43:00+01:00", OC_TIME_UTC, &ms), OC_EINVAL);
    T_EQ_INT(oc_time_parse("2026-11-25", OC_TIME_STRICT, &ms), OC_EINVAL);
    T_EQ_INT(oc_time_parse("2026-11-25T19:43Z", OC_TIME_STRICT, &ms), OC_EINVAL);
    T_EQ_INT(oc_time_parse("2026-11-25T19:43:00", OC_TIME_STRICT, &ms), OC_EINVAL);
    T_EQ_INT(oc_time_parse("2026-13-01", 0, &ms), OC_EINVAL);
    T_EQ_INT(oc_time_parse("2026-11-25T24:00", 0, &ms), OC_EINVAL);
    T_EQ_INT(oc_time_parse("2026-11-25T19:43:00.Z", 0, &ms), OC_EINVAL);
    T_EQ_INT(oc_time_parse("2026-1-25", 0, &ms), OC_EINVAL);
    T_EQ_INT(oc_time_parse("2026-11-25x", 0, &ms), OC_EINVAL);
    T_EQ_INT(oc_time_parse(NULL, 0, &ms), OC_EINVAL);
    T_EQ_INT(ms, 7);
}

/* Times as the API and the CLIs take them: unix seconds, ISO 8601, now and now +- duration;
 * refused with a sentence: milliseconds, before 1970, nonsense. */
static void test_time_param(void)
{
    int64_t s = 0, d = 0;
    char why[160];
    const int64_t now = 1772480400; /* 2026-03-02T19:40:00Z */
    T_EQ_INT(oc_time_param("1772480400", now, &s, why, sizeof why), 0);
    T_EQ_INT(s, 1772480400);
    T_EQ_INT(oc_time_param("2026-03-02T18:40:00Z", now, &s, why, sizeof why), 0);
    T_EQ_INT(s, now - 3600);
    T_EQ_INT(oc_time_param("now", now, &s, why, sizeof why), 0);
    T_EQ_INT(s, now);
    T_EQ_INT(oc_time_param("now-1h", now, &s, why, sizeof why), 0);
    T_EQ_INT(s, now - 3600);
    T_EQ_INT(oc_time_param("now+5m", now, &s, why, sizeof why), 0);
    T_EQ_INT(s, now + 300);
    T_EQ_INT(oc_time_param("now-2w", now, &s, why, sizeof why), 0);
    T_EQ_INT(s, now - 14 * 86400);
    T_EQ_INT(oc_time_param("0", now, &s, why, sizeof why), 0);
    T_EQ_INT(s, 0);
    T_EQ_INT(oc_time_param("1772480400000", now, &s, why, sizeof why), OC_EINVAL);
    T_EQ_STR(why, "'1772480400000' looks like milliseconds; this takes unix seconds");
    T_EQ_INT(oc_time_param("-5", now, &s, why, sizeof why), OC_EINVAL);
    T_EQ_STR(why, "'-5' is before 1970");
    T_EQ_INT(oc_time_param("now-99999999999w", now, &s, why, sizeof why), OC_EMALFORMED);
    T_EQ_INT(oc_time_param("now-1y", now, &s, why, sizeof why), OC_EMALFORMED);
    T_CONTAINS(why, "a duration such as 90s, 15m, 1h, 7d or 2w");
    T_EQ_INT(oc_time_param("nowish", now, &s, why, sizeof why), OC_EMALFORMED);
    T_EQ_INT(oc_time_param("yesterday", now, &s, why, sizeof why), OC_EMALFORMED);
    T_EQ_STR(why,
             "'yesterday': give unix seconds, an ISO 8601 time (2026-03-02T19:40:00Z) or now-1h");
    T_EQ_INT(oc_time_param("", now, &s, why, sizeof why), OC_EMALFORMED);
    T_EQ_INT(oc_time_param("now-2h", 3600, &s, why, sizeof why), OC_EINVAL); /* before 1970 */
    T_EQ_INT(oc_duration_parse("90", &d), 0);
    T_EQ_INT(d, 90);
    T_EQ_INT(oc_duration_parse("5m", &d), 0);
    T_EQ_INT(d, 300);
    T_EQ_INT(oc_duration_parse("7d", &d), 0);
    T_EQ_INT(d, 604800);
    T_EQ_INT(oc_duration_parse("5mm", &d), OC_EINVAL);
    T_EQ_INT(oc_duration_parse("m", &d), OC_EINVAL);
    T_EQ_INT(oc_duration_parse("-5m", &d), OC_EINVAL);
    T_EQ_INT(oc_duration_parse("99999999999999999999", &d), OC_EINVAL);
}

/* "did you mean": the closest candidate within reach, typos and transpositions, a prefix
 * either way, nothing for a word far from all. */
static void test_suggest(void)
{
    static const char *const cmds[] = {"serve", "sim", "drill", "token", "incident", "alerts"};
    struct oc_suggest sg;
    char hint[64];
    const struct {
        const char *typed, *want;
    } cases[] = {
        {"serv", "serve"},     {"srevr", "serve"}, {"drlil", "drill"}, {"Token", "token"},
        {"incid", "incident"}, {"xyzzy", NULL},    {"s", NULL},        {"alert", "alerts"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        oc_suggest_init(&sg, cases[i].typed, strlen(cases[i].typed));
        for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++)
            oc_suggest_add(&sg, cmds[k]);
        T_EQ_STR(oc_suggest_best(&sg) ? oc_suggest_best(&sg) : "(none)",
                 cases[i].want ? cases[i].want : "(none)");
    }
    oc_suggest_init(&sg, "--viewer", 8);
    oc_suggest_add(&sg, "--seed");
    oc_suggest_add(&sg, "--viewers");
    T_EQ_STR(oc_suggest_hint(&sg, hint, sizeof hint), "; did you mean --viewers?");
    oc_suggest_init(&sg, "acknowledge", 11); /* the typed word starts with a candidate */
    oc_suggest_add(&sg, "list");
    oc_suggest_add(&sg, "ack");
    T_EQ_STR(oc_suggest_hint(&sg, hint, sizeof hint), "; did you mean ack?");
    oc_suggest_init(&sg, "acknowledge", 11); /* but not a candidate under 3 characters */
    oc_suggest_add(&sg, "ac");
    T_EQ_STR(oc_suggest_hint(&sg, hint, sizeof hint), "");
    oc_suggest_init(&sg, "--zzz", 5);
    oc_suggest_add(&sg, "--viewers");
    T_EQ_STR(oc_suggest_hint(&sg, hint, sizeof hint), "");
    T_EQ_INT(oc_suggest_distance("ab", 2, "ba", 2), 1);
    T_EQ_INT(oc_suggest_distance("kitten", 6, "sitting", 7), 3);
}

static void test_hex(void)
{
    unsigned v = 7;
    T_EQ_INT(oc_hex_digit('0'), 0);
    T_EQ_INT(oc_hex_digit('a'), 10);
    T_EQ_INT(oc_hex_digit('F'), 15);
    T_EQ_INT(oc_hex_digit('g'), -1);
    T_EQ_INT(oc_hex_digit('\0'), -1);
    T_EQ_INT(oc_hex_parse("00e9", 4, &v), 0);
    T_EQ_INT(v, 0xe9);
    T_EQ_INT(oc_hex_parse("D83Dxx", 4, &v), 0);
    T_EQ_INT(v, 0xd83d);
    v = 7;
    T_EQ_INT(oc_hex_parse("12", 4, &v), OC_EINVAL); /* stops at the NUL */
    T_EQ_INT(oc_hex_parse("12g4", 4, &v), OC_EINVAL);
    T_EQ_INT(v, 7);
}

static void test_percent_decode(void)
{
    char out[8];
    size_t n = 99;
    T_EQ_INT(oc_percent_decode("a%2Fb+c", 7, 0, out, sizeof out, &n), 0);
    T_EQ_STR(out, "a/b+c");
    T_EQ_INT(n, 5);
    T_EQ_INT(oc_percent_decode("a%2fb+c", 7, OC_PCT_PLUS, out, sizeof out, &n), 0);
    T_EQ_STR(out, "a/b c");
    T_EQ_INT(oc_percent_decode("%41%42xyz", 3, 0, out, sizeof out, NULL), 0); /* only n bytes */
    T_EQ_STR(out, "A");
    T_EQ_INT(oc_percent_decode("", 0, 0, out, sizeof out, &n), 0);
    T_EQ_INT(n, 0);
    T_EQ_INT(oc_percent_decode("%4", 2, 0, out, sizeof out, &n), OC_EINVAL);
    T_EQ_INT(oc_percent_decode("%41", 2, 0, out, sizeof out, &n), OC_EINVAL);
    T_EQ_INT(oc_percent_decode("%zz", 3, 0, out, sizeof out, &n), OC_EINVAL);
    T_EQ_INT(oc_percent_decode("a%00", 4, 0, out, sizeof out, &n), OC_EINVAL);
    T_EQ_INT(oc_percent_decode("12345678", 8, 0, out, sizeof out, &n), OC_ETOOBIG);
    T_EQ_INT(oc_percent_decode("1234567", 7, 0, out, sizeof out, &n), 0);
    T_EQ_STR(out, "1234567");
}

static void test_grow(void)
{
    int *v = NULL;
    size_t cap = 0;
    v = oc_grow(v, &cap, 0, sizeof *v); /* nothing needed: no allocation */
    T_EQ_INT(v == NULL, 1);
    T_EQ_INT(cap, 0);
    v = oc_grow(v, &cap, 1, sizeof *v);
    T_EQ_INT(cap, OC_GROW_MIN);
    for (int i = 0; i < 100; i++) {
        v = oc_grow(v, &cap, (size_t)i + 1, sizeof *v);
        v[i] = i * 3;
    }
    T_EQ_INT(cap, 128);
    T_EQ_INT(v[99], 297);
    T_EQ_INT(v[0], 0);
    int *same = oc_grow(v, &cap, 128, sizeof *v); /* fits: unchanged */
    T_EQ_INT(same == v, 1);
    T_EQ_INT(cap, 128);
    v = oc_grow(v, &cap, 1000, sizeof *v); /* a jump doubles until it fits */
    T_EQ_INT(cap, 1024);
    T_EQ_INT(v[50], 150);
    free(v);
}

/* One computation per key: the first caller computes, the others copy or wait it out on the
 * previous text; a failed computation hands the turn back. */
static void test_memo(void)
{
    struct oc_memo m;
    int mine;
    oc_memo_init(&m);
    T_EQ_INT(oc_memo_get(&m, 60, &mine) == NULL, 1);
    T_EQ_INT(mine, 1);                               /* first: compute */
    T_EQ_INT(oc_memo_get(&m, 60, &mine) == NULL, 1); /* meanwhile, nothing to copy */
    T_EQ_INT(mine, 0);                               /* ... and not its turn */
    oc_memo_put(&m, 60, "[1]");
    char *t = oc_memo_get(&m, 60, &mine);
    T_EQ_STR(t, "[1]");
    T_EQ_INT(mine, 0);
    free(t);
    T_EQ_INT(oc_memo_get(&m, 120, &mine) == NULL, 1); /* the minute moved: compute again */
    T_EQ_INT(mine, 1);
    t = oc_memo_get(&m, 120, &mine); /* meanwhile the previous text */
    T_EQ_STR(t, "[1]");
    T_EQ_INT(mine, 0);
    free(t);
    oc_memo_put(&m, 120, NULL); /* failed: the old text stays, the turn is free */
    T_EQ_INT(oc_memo_get(&m, 120, &mine) == NULL, 1);
    T_EQ_INT(mine, 1);
    oc_memo_put(&m, 120, "[2]");
    t = oc_memo_get(&m, 120, &mine);
    T_EQ_STR(t, "[2]");
    free(t);
    oc_memo_free(&m);
}

/* Why g refuses the address text (IPv4 or IPv6), or "ok". */
static const char *guard_says(const struct oc_netguard *g, const char *text)
{
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    const char *why;
    if (inet_pton(AF_INET, text, &a4.sin_addr) == 1)
        why = oc_netguard_refuses(g, (const struct sockaddr *)&a4);
    else if (inet_pton(AF_INET6, text, &a6.sin6_addr) == 1)
        why = oc_netguard_refuses(g, (const struct sockaddr *)&a6);
    else
        return "unparsable";
    return why ? why : "ok";
}

/* Outbound addresses: the refused classes, IPv4-mapped IPv6 judged as IPv4, allow lists with
 * and without prefixes, and the errors of a bad list. */
static void test_netguard(void)
{
    struct oc_netguard none = {.n = 0}, g;
    char err[128];
    T_EQ_STR(guard_says(&none, "93.184.216.34"), "ok");
    T_EQ_STR(guard_says(&none, "127.0.0.1"), "loopback");
    T_EQ_STR(guard_says(&none, "10.1.2.3"), "private");
    T_EQ_STR(guard_says(&none, "172.31.255.255"), "private");
    T_EQ_STR(guard_says(&none, "172.32.0.1"), "ok");
    T_EQ_STR(guard_says(&none, "192.168.0.10"), "private");
    T_EQ_STR(guard_says(&none, "169.254.169.254"), "link-local (cloud metadata lives here)");
    T_EQ_STR(guard_says(&none, "100.100.100.200"), "carrier-grade NAT");
    T_EQ_STR(guard_says(&none, "0.0.0.0"), "unspecified");
    T_EQ_STR(guard_says(&none, "224.0.0.1"), "multicast");
    T_EQ_STR(guard_says(&none, "::1"), "loopback");
    T_EQ_STR(guard_says(&none, "::"), "unspecified");
    T_EQ_STR(guard_says(&none, "fe80::1"), "link-local (cloud metadata lives here)");
    T_EQ_STR(guard_says(&none, "fd00:ec2::254"), "unique local");
    T_EQ_STR(guard_says(&none, "::ffff:127.0.0.1"), "loopback");
    T_EQ_STR(guard_says(&none, "::ffff:8.8.8.8"), "ok");
    T_EQ_STR(guard_says(&none, "2001:db8::1"), "ok");
    T_EQ_INT(oc_netguard_parse(&g, "127.0.0.1, 10.0.0.0/8 fd00::/8", err, sizeof(err)), 0);
    T_EQ_INT(g.n, 3);
    T_EQ_STR(guard_says(&g, "127.0.0.1"), "ok");
    T_EQ_STR(guard_says(&g, "127.0.0.2"), "loopback");
    T_EQ_STR(guard_says(&g, "10.200.0.1"), "ok");
    T_EQ_STR(guard_says(&g, "::ffff:10.0.0.1"), "ok");
    T_EQ_STR(guard_says(&g, "fd12::1"), "ok");
    T_EQ_STR(guard_says(&g, "fc00::1"), "unique local");
    T_EQ_STR(guard_says(&g, "169.254.169.254"), "link-local (cloud metadata lives here)");
    T_EQ_INT(oc_netguard_parse(&g, "", err, sizeof(err)), 0);
    T_EQ_INT(g.n, 0);
    T_EQ_INT(oc_netguard_parse(&g, "10.0.0.0/8 nope", err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "\"nope\" is not an address or a range (10.0.0.0/8, ::1)");
    T_EQ_INT(oc_netguard_parse(&g, "::1/129", err, sizeof(err)), OC_EINVAL);
    T_EQ_INT(oc_netguard_parse(&g, "10.0.0.0/", err, sizeof(err)), OC_EINVAL);
}

/* What a non-admin sees of an outbound URL: scheme and host, never the path, query, fragment
 * or user information. */
static void test_url_cut(void)
{
    char out[OC_URL_SHOWN_MAX];
    oc_url_cut("https://hooks.slack.com/services/T0/B0/x", out, sizeof(out));
    T_EQ_STR(out, "https://hooks.slack.com/\u2026");
    oc_url_cut("http://deploy.example.com:8443?token=s3cret#f", out, sizeof(out));
    T_EQ_STR(out, "http://deploy.example.com:8443/\u2026");
    oc_url_cut("https://user:pa@ss@example.com/p", out, sizeof(out));
    T_EQ_STR(out, "https://example.com/\u2026");
    oc_url_cut("https://example.com", out, sizeof(out));
    T_EQ_STR(out, "https://example.com/\u2026");
    oc_url_cut("not a url/secret", out, sizeof(out));
    T_EQ_STR(out, "\u2026");
    oc_url_cut(NULL, out, sizeof(out));
    T_EQ_STR(out, "");
}

/* oc_text_cut_urls: query strings, user information and path tokens out of every word; with
 * hosts_only, URLs cut after the host. */
static void test_text_cut_urls(void)
{
    char out[512], tiny[12];
    const char *t = "segment 7 (https://u:pw@cdn.example/live/seg7.ts?hdnts=exp=1~hmac=ab): 404 "
                    "from http://o.example/a/master.m3u8?Policy=P&Signature=S&Key-Pair-Id=K";
    oc_text_cut_urls(t, 0, out, sizeof out);
    T_EQ_STR(out, "segment 7 (https://cdn.example/live/seg7.ts?\u2026): 404 from "
                  "http://o.example/a/master.m3u8?\u2026");
    oc_text_cut_urls(t, 1, out, sizeof out);
    T_EQ_STR(out, "segment 7 (https://cdn.example/\u2026): 404 from http://o.example/\u2026");
    oc_text_cut_urls("segment 3 is a/hdnts=exp=1~hmac=2/s3.ts on primary, s3.ts?token=x on b", 1,
                     out, sizeof out);
    T_EQ_STR(out, "segment 3 is a/\u2026 on primary, s3.ts?\u2026 on b");
    oc_text_cut_urls("no url here: 12 segments behind", 1, out, sizeof out);
    T_EQ_STR(out, "no url here: 12 segments behind");
    oc_text_cut_urls("https://h.example#frag https://h.example", 0, out, sizeof out);
    T_EQ_STR(out, "https://h.example?\u2026 https://h.example");
    oc_text_cut_urls("https://cdn.example/a?token=secret", 0, tiny, sizeof tiny);
    T_EQ_STR(tiny, "https://cdn");
    oc_text_cut_urls(NULL, 1, out, sizeof out);
    T_EQ_STR(out, "");
}

/* Leased timers (oc_app_tick): a module with .timers_leased runs its timers only while the
 * app's leased() says so; other modules' timers always run; a skipped run is not made up. */
static int runs_leased, runs_free, lease_now;

static void leased_fn(struct oc_app *app, void *state)
{
    (void)app, (void)state;
    runs_leased++;
}

static void free_fn(struct oc_app *app, void *state)
{
    (void)app, (void)state;
    runs_free++;
}

static int leased_cb(void *arg)
{
    return *(int *)arg;
}

static int leased_init(struct oc_app *app, void **state)
{
    (void)app;
    *state = NULL;
    return 0;
}

static void test_leased_timers(void)
{
    static const struct oc_module_timer lt[] = {{"once", 1000, leased_fn}, {0}};
    static const struct oc_module_timer ft[] = {{"everywhere", 1000, free_fn}, {0}};
    static const struct oc_module ml = {
        .name = "l", .init = leased_init, .timers = lt, .timers_leased = 1};
    static const struct oc_module mf = {.name = "f", .init = leased_init, .timers = ft};
    static const struct oc_module *const table[] = {&ml, &mf, NULL};
    struct oc_app app = {.bus = oc_bus_new()};
    T_EQ_INT(oc_app_start(&app, table, "all"), 0);
    oc_app_tick(&app, 1000); /* no leased(): every timer runs (one replica) */
    T_EQ_INT(runs_leased, 1);
    T_EQ_INT(runs_free, 1);
    app.leased = leased_cb;
    app.leased_arg = &lease_now;
    lease_now = 0;
    oc_app_tick(&app, 2000);
    oc_app_tick(&app, 3000);
    T_EQ_INT(runs_leased, 1); /* not held: skipped */
    T_EQ_INT(runs_free, 3);
    lease_now = 1;
    oc_app_tick(&app, 3500); /* not due: the skipped runs are not made up */
    T_EQ_INT(runs_leased, 1);
    oc_app_tick(&app, 4000);
    T_EQ_INT(runs_leased, 2);
    T_EQ_INT(runs_free, 4);
    oc_app_stop(&app);
    oc_bus_destroy(app.bus);
}

static const struct t_case cases[] = {
    T_CASE(test_strerror),
    T_CASE(test_buf_cap),
    T_CASE(test_buf_growth),
    T_CASE(test_arena),
    T_CASE(test_arena_reset),
    T_CASE(test_clock_virtual),
    T_CASE(test_clock_replay_and_real),
    T_CASE(test_log_json_lines),
    T_CASE(test_log_text_lines),
    T_CASE(test_pii),
    T_CASE(test_json_helpers),
    T_CASE(test_bus),
    T_CASE(test_metrics),
    T_CASE(test_time_format),
    T_CASE(test_time_parse),
    T_CASE(test_hex),
    T_CASE(test_percent_decode),
    T_CASE(test_grow),
    T_CASE(test_memo),
    T_CASE(test_time_param),
    T_CASE(test_suggest),
    T_CASE(test_json_int_range),
    T_CASE(test_json_find_nul),
    T_CASE(test_netguard),
    T_CASE(test_url_cut),
    T_CASE(test_text_cut_urls),
    T_CASE(test_leased_timers),
    {0},
};

T_MAIN(cases)
