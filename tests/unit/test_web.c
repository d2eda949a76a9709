/*
 * test_web.c - the web module without sockets: the embedded bundle (index.html and the
 * assets with their types and ETags), Accept-Encoding and If-None-Match, and the event ring
 * (which topics are relayed, the ids read from payloads, sequence numbers, catching up from a
 * cursor, the reset when a cursor left the ring or is unknown, Last-Event-ID parsing).
 */
#include "core/buf.h"
#include "core/module.h"
#include "core/topics.h"
#include "web/web.h"
#include "t.h"

#include <jansson.h>

#define BASE 1000000ULL /* the first sequence number of the test rings */

static void test_assets(void)
{
    const struct web_asset *a = web_asset_find("/index.html");
    T_TRUE(a != NULL);
    if (!a)
        return;
    T_EQ_STR(a->type, "text/html; charset=utf-8");
    T_CONTAINS((const char *)a->data, "<div id=\"app\">");
    T_EQ_INT(a->data[a->len], 0);
    T_EQ_INT(a->etag[0], '"');
    T_EQ_INT(strlen(a->etag), 18);
    const struct web_asset *js = web_asset_find("/assets/app.js");
    T_TRUE(js && strcmp(js->type, "text/javascript; charset=utf-8") == 0);
    const struct web_asset *css = web_asset_find("/assets/app.css");
    T_TRUE(css && strncmp(css->type, "text/css", 8) == 0);
    T_TRUE(web_asset_find("/assets/../index.html") == NULL);
    T_TRUE(web_asset_find("/") == NULL);
    if (a->gz) { /* built with zlib: a real gzip member, smaller, with its own ETag */
        T_EQ_INT(a->gz[0], 0x1f);
        T_EQ_INT(a->gz[1], 0x8b);
        T_TRUE(a->gz_len < a->len);
        T_TRUE(strcmp(a->etag, a->gz_etag) != 0);
    }
    int n = 0;
    for (const struct web_asset *x = web_assets; x->path; x++)
        n++;
    T_TRUE(n >= 3);
}

static void test_accept_encoding(void)
{
    static const struct {
        const char *ae;
        int gzip;
    } cases[] = {
        {NULL, 0},
        {"", 0},
        {"gzip", 1},
        {"GZIP", 1},
        {"gzip, deflate, br", 1},
        {"br;q=1.0, gzip;q=0.8, *;q=0.1", 1},
        {"deflate, br", 0},
        {"gzip;q=0", 0},
        {"gzip ; q=0.000", 0},
        {"gzip;q=0.001", 1},
        {"x-gzip", 0},
        {"gzipx", 0},
        {"*", 1},
        {"*;q=0", 0},
        {"identity", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (web_accepts_gzip(cases[i].ae) != cases[i].gzip)
            T_FAIL_AT("Accept-Encoding \"%s\": expected %d", cases[i].ae ? cases[i].ae : "(none)",
                      cases[i].gzip);
    }
}

static void test_if_none_match(void)
{
    const char *e = "\"0123456789abcdef\"";
    T_EQ_INT(web_etag_matches(NULL, e), 0);
    T_EQ_INT(web_etag_matches(e, e), 1);
    T_EQ_INT(web_etag_matches("W/\"0123456789abcdef\"", e), 1);
    T_EQ_INT(web_etag_matches("\"x\", \"0123456789abcdef\"", e), 1);
    T_EQ_INT(web_etag_matches("*", e), 1);
    T_EQ_INT(web_etag_matches("\"0123456789abcdef-gz\"", e), 0);
    T_EQ_INT(web_etag_matches("\"0123456789abcde\"", e), 0);
    T_EQ_INT(web_etag_matches("", e), 0);
}

static void test_topics(void)
{
    T_EQ_INT(web_topic_relayed(OC_TOPIC_INCIDENT_OPENED), 1);
    T_EQ_INT(web_topic_relayed(OC_TOPIC_INCIDENT_COMMS_REMINDER), 1);
    T_EQ_INT(web_topic_relayed("incident.something_new"), 1);
    T_EQ_INT(web_topic_relayed(OC_TOPIC_RCA_LOCALIZED), 1);
    T_EQ_INT(web_topic_relayed(OC_TOPIC_MITIGATION_APPLIED), 1);
    T_EQ_INT(web_topic_relayed(OC_TOPIC_MITIGATION_REVERTED), 1);
    T_EQ_INT(web_topic_relayed(OC_TOPIC_ALERT_FIRED), 1);
    T_EQ_INT(web_topic_relayed(OC_TOPIC_ALERT_RESOLVED), 1);
    T_EQ_INT(web_topic_relayed(OC_TOPIC_STEER_POLICY_CHANGED), 1);
    T_EQ_INT(web_topic_relayed(OC_TOPIC_CHANGE_RECORDED), 0);
    T_EQ_INT(web_topic_relayed("incident."), 0);
    T_EQ_INT(web_topic_relayed("incidents.opened"), 0);
}

/* The frames appended by one read from *cursor. */
static char *read_frames(struct web_ring *r, uint64_t *cursor, int *frames)
{
    struct oc_buf b;
    oc_buf_init(&b, 1 << 20);
    *frames = web_ring_read(r, cursor, &b);
    return b.data ? oc_buf_steal(&b) : strdup("");
}

static void test_ring_events(void)
{
    struct web_ring *r = web_ring_new(BASE);
    json_t *inc = json_pack("{s:s, s:s, s:I}", "incident_id", "INC-3", "severity", "SEV2", "at",
                            (json_int_t)1);
    json_t *alert = json_pack("{s:s, s:s}", "alert_id", "reb/region=EMEA", "rule", "reb");
    json_t *mit = json_pack("{s:I, s:s}", "id", (json_int_t)7, "kind", "shift-cdn");
    json_t *ack = json_pack("{s:s, s:s}", "incident_id", "INC-3", "by", "erin");
    json_t *pol = json_pack("{s:s, s:{}}", "actor", "x", "policy");
    uint64_t cursor = web_ring_cursor(r, NULL);
    int frames;
    T_EQ_INT(cursor, BASE - 1);
    T_EQ_INT(web_ring_publish(r, OC_TOPIC_CHANGE_RECORDED, inc, 5), 0);
    T_EQ_INT(web_ring_publish(r, OC_TOPIC_INCIDENT_OPENED, inc, 1000), BASE);
    T_EQ_INT(web_ring_publish(r, OC_TOPIC_ALERT_FIRED, alert, 1001), BASE + 1);
    T_EQ_INT(web_ring_publish(r, OC_TOPIC_MITIGATION_APPLIED, mit, 1002), BASE + 2);
    T_EQ_INT(web_ring_publish(r, OC_TOPIC_INCIDENT_ACKNOWLEDGED, ack, 1003), BASE + 3);
    T_EQ_INT(web_ring_publish(r, OC_TOPIC_STEER_POLICY_CHANGED, pol, 1004), BASE + 4);
    char *s = read_frames(r, &cursor, &frames);
    T_EQ_INT(frames, 5);
    T_EQ_INT(cursor, BASE + 4);
    T_EQ_STR(s, "id: 1000000\nevent: incident.opened\n"
                "data: {\"seq\":1000000,\"topic\":\"incident.opened\",\"incident\":\"INC-3\","
                "\"at_ms\":1000}\n\n"
                "id: 1000001\nevent: alert.fired\n"
                "data: {\"seq\":1000001,\"topic\":\"alert.fired\",\"incident\":null,"
                "\"alert\":\"reb/region=EMEA\",\"at_ms\":1001}\n\n"
                "id: 1000002\nevent: mitigation.applied\n"
                "data: {\"seq\":1000002,\"topic\":\"mitigation.applied\",\"incident\":null,"
                "\"mitigation\":7,\"at_ms\":1002}\n\n"
                "id: 1000003\nevent: incident.acknowledged\n"
                "data: {\"seq\":1000003,\"topic\":\"incident.acknowledged\",\"incident\":"
                "\"INC-3\",\"at_ms\":1003}\n\n"
                "id: 1000004\nevent: steer.policy_changed\n"
                "data: {\"seq\":1000004,\"topic\":\"steer.policy_changed\",\"incident\":null,"
                "\"at_ms\":1004}\n\n");
    free(s);
    /* nothing new: nothing sent */
    s = read_frames(r, &cursor, &frames);
    T_EQ_INT(frames, 0);
    T_EQ_STR(s, "");
    free(s);
    /* resuming after an event sends only what follows */
    cursor = web_ring_cursor(r, "1000002");
    T_EQ_INT(cursor, BASE + 2);
    s = read_frames(r, &cursor, &frames);
    T_EQ_INT(frames, 2);
    T_TRUE(strncmp(s, "id: 1000003\n", 12) == 0);
    free(s);
    json_decref(inc);
    json_decref(alert);
    json_decref(mit);
    json_decref(ack);
    json_decref(pol);
    web_ring_destroy(r);
}

static void test_ring_reset(void)
{
    struct web_ring *r = web_ring_new(BASE);
    json_t *p = json_pack("{s:s}", "incident_id", "INC-1");
    uint64_t cursor = web_ring_cursor(r, NULL), late = cursor;
    int frames;
    for (int i = 0; i < WEB_RING_SIZE + 10; i++)
        web_ring_publish(r, OC_TOPIC_INCIDENT_RESOLVED, p, i);
    T_EQ_INT(web_ring_newest(r), BASE + WEB_RING_SIZE + 9);
    /* a cursor at the oldest kept event - 1 catches up exactly */
    cursor = BASE + 9;
    char *s = read_frames(r, &cursor, &frames);
    T_EQ_INT(frames, WEB_RING_SIZE);
    free(s);
    /* one more behind: its next event left the ring */
    s = read_frames(r, &late, &frames);
    T_EQ_INT(frames, 1);
    T_EQ_STR(s, "id: 1001033\nevent: reset\ndata: {\"seq\":1001033,\"topic\":\"reset\"}\n\n");
    T_EQ_INT(late, BASE + WEB_RING_SIZE + 9);
    free(s);
    /* ids this ring never gave: from an earlier run (smaller), from nowhere (larger), garbage */
    const char *ids[] = {"5", "99999999999", "abc", "12x", "-1"};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        cursor = web_ring_cursor(r, ids[i]);
        s = read_frames(r, &cursor, &frames);
        T_EQ_INT(frames, 1);
        T_CONTAINS(s, "event: reset\n");
        free(s);
    }
    /* ids are clipped: a huge alert id keeps the data line under its cap */
    char big[1000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    json_t *a = json_pack("{s:s}", "alert_id", big);
    cursor = web_ring_newest(r);
    web_ring_publish(r, OC_TOPIC_ALERT_RESOLVED, a, 1);
    s = read_frames(r, &cursor, &frames);
    T_EQ_INT(frames, 1);
    T_TRUE(strlen(s) < WEB_EVENT_DATA_MAX + 64);
    T_CONTAINS(s, "\"incident\":null");
    free(s);
    json_decref(a);
    json_decref(p);
    web_ring_destroy(r);
}

static void test_module_table(void)
{
    T_EQ_STR(web_module.name, "web");
    T_TRUE(web_module.routes != NULL);
    T_EQ_STR(web_module.subs[0].topic, "*");
    T_EQ_STR(web_module.settings[0].name, "web.max_streams");
    T_EQ_STR(web_module.settings[0].def, "64");
}

static const struct t_case cases[] = {
    T_CASE(test_assets),        T_CASE(test_accept_encoding),
    T_CASE(test_if_none_match), T_CASE(test_topics),
    T_CASE(test_ring_events),   T_CASE(test_ring_reset),
    T_CASE(test_module_table),  {0},
};

T_MAIN(cases)
