/*
 * ring.c - the last WEB_RING_SIZE console events, numbered, formatted once as the data line
 * of a server-sent event, and read by every open stream from its own cursor.
 *
 * Written by the bus subscriber (whatever thread drains the bus), read by the HTTP workers'
 * stream timers; one mutex guards it and is a leaf lock: nothing else is taken while it is
 * held. Sequence numbers only grow; a cursor older than the oldest kept event (or newer than
 * the newest) cannot be caught up and gets a reset frame.
 */
#include "web/web.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/topics.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ring_event {
    uint64_t seq;                  /* its number; 0: slot unused */
    char topic[48];                /* the bus topic, the SSE event name */
    char data[WEB_EVENT_DATA_MAX]; /* one line of JSON */
};

struct web_ring {
    pthread_mutex_t mu;                  /* guards what follows; a leaf lock */
    struct ring_event ev[WEB_RING_SIZE]; /* slot seq % WEB_RING_SIZE */
    uint64_t first_seq;                  /* the number of the first event ever */
    uint64_t next_seq;                   /* the number the next event gets */
};

/* What is relayed: exact topics, and every incident.* topic. */
static const char *const relayed[] = {
    OC_TOPIC_RCA_LOCALIZED,
    OC_TOPIC_MITIGATION_APPLIED,
    OC_TOPIC_MITIGATION_REVERTED,
    OC_TOPIC_ALERT_FIRED,
    OC_TOPIC_ALERT_RESOLVED,
    OC_TOPIC_STEER_POLICY_CHANGED,
    NULL,
};

int web_topic_relayed(const char *topic)
{
    if (strncmp(topic, "incident.", 9) == 0 && topic[9])
        return 1;
    for (int i = 0; relayed[i]; i++)
        if (strcmp(topic, relayed[i]) == 0)
            return 1;
    return 0;
}

struct web_ring *web_ring_new(uint64_t first_seq)
{
    struct web_ring *r = oc_calloc(1, sizeof(*r));
    pthread_mutex_init(&r->mu, NULL);
    r->first_seq = first_seq ? first_seq : 1;
    r->next_seq = r->first_seq;
    return r;
}

void web_ring_destroy(struct web_ring *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* A JSON string of s cut to WEB_ID_MAX bytes at a character boundary; null for "" or NULL. */
static json_t *id_json(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0)
        return json_null();
    if (n > WEB_ID_MAX) {
        n = WEB_ID_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--; /* do not split a UTF-8 sequence */
    }
    json_t *v = json_stringn(s, n);
    return v ? v : json_null();
}

/* Adds the ids the payload of topic names: "incident" (null when none), then "alert" or
 * "mitigation" for their topics. */
static void add_ids(json_t *o, const char *topic, const json_t *p)
{
    const char *incident = NULL, *alert = NULL;
    int64_t mitigation = 0;
    if (strcmp(topic, OC_TOPIC_INCIDENT_OPENED) == 0) {
        struct oc_ev_incident_opened e;
        if (oc_ev_incident_opened_read(p, &e) == 0)
            incident = e.incident_id;
    } else if (strncmp(topic, "incident.", 9) == 0) {
        struct oc_ev_incident e;
        if (oc_ev_incident_read(p, &e) == 0)
            incident = e.incident_id;
    } else if (strcmp(topic, OC_TOPIC_RCA_LOCALIZED) == 0) {
        struct oc_ev_rca e;
        if (oc_ev_rca_read(p, &e) == 0)
            incident = e.incident_id;
    } else if (strncmp(topic, "alert.", 6) == 0) {
        struct oc_ev_alert e;
        if (oc_ev_alert_read(p, &e) == 0)
            alert = e.alert_id;
    } else if (strncmp(topic, "mitigation.", 11) == 0) {
        struct oc_ev_mitigation e;
        if (oc_ev_mitigation_read(p, &e) == 0)
            mitigation = e.id;
    }
    json_object_set_new(o, "incident", id_json(incident));
    if (alert)
        json_object_set_new(o, "alert", id_json(alert));
    if (mitigation)
        json_object_set_new(o, "mitigation", json_integer(mitigation));
}

/* Formats the data line of event seq into out (WEB_EVENT_DATA_MAX bytes). */
static void format_data(char *out, uint64_t seq, const char *topic, const json_t *payload,
                        int64_t at_ms)
{
    json_t *o = json_object();
    struct oc_buf b;
    json_object_set_new(o, "seq", json_integer((json_int_t)seq));
    json_object_set_new(o, "topic", json_string(topic));
    add_ids(o, topic, payload);
    json_object_set_new(o, "at_ms", json_integer(at_ms));
    oc_buf_init(&b, WEB_EVENT_DATA_MAX - 1);
    if (oc_json_dump(o, &b) == 0 && b.data)
        snprintf(out, WEB_EVENT_DATA_MAX, "%s", b.data);
    else /* cannot happen with ids clipped to WEB_ID_MAX; keep the event anyway */
        snprintf(out, WEB_EVENT_DATA_MAX, "{\"seq\":%llu,\"topic\":\"%s\",\"incident\":null}",
                 (unsigned long long)seq, topic);
    oc_buf_free(&b);
    json_decref(o);
}

uint64_t web_ring_publish(struct web_ring *r, const char *topic, const json_t *payload,
                          int64_t at_ms)
{
    char data[WEB_EVENT_DATA_MAX];
    if (!web_topic_relayed(topic) || strlen(topic) >= sizeof(r->ev[0].topic))
        return 0;
    pthread_mutex_lock(&r->mu);
    uint64_t seq = r->next_seq++;
    pthread_mutex_unlock(&r->mu);
    /* formatted outside the lock; the slot is filled in below, in sequence order because
     * publishers are serialized by the bus drain */
    format_data(data, seq, topic, payload, at_ms);
    pthread_mutex_lock(&r->mu);
    struct ring_event *e = &r->ev[seq % WEB_RING_SIZE];
    e->seq = seq;
    snprintf(e->topic, sizeof(e->topic), "%s", topic);
    memcpy(e->data, data, sizeof(e->data));
    pthread_mutex_unlock(&r->mu);
    return seq;
}

uint64_t web_ring_newest(struct web_ring *r)
{
    pthread_mutex_lock(&r->mu);
    uint64_t n = r->next_seq - 1;
    pthread_mutex_unlock(&r->mu);
    return n;
}

int web_ring_read(struct web_ring *r, uint64_t *cursor, struct oc_buf *b)
{
    int frames = 0;
    pthread_mutex_lock(&r->mu);
    uint64_t newest = r->next_seq - 1;
    uint64_t oldest =
        r->next_seq - r->first_seq > WEB_RING_SIZE ? r->next_seq - WEB_RING_SIZE : r->first_seq;
    if (*cursor + 1 < oldest || *cursor > newest) {
        oc_buf_printf(b, "id: %llu\nevent: reset\ndata: {\"seq\":%llu,\"topic\":\"reset\"}\n\n",
                      (unsigned long long)newest, (unsigned long long)newest);
        *cursor = newest;
        frames = 1;
    }
    for (uint64_t s = *cursor + 1; s <= newest; s++) {
        const struct ring_event *e = &r->ev[s % WEB_RING_SIZE];
        if (e->seq != s)
            break; /* numbered but not filled in yet: the next read sends it */
        oc_buf_printf(b, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)s, e->topic,
                      e->data);
        *cursor = s;
        frames++;
    }
    pthread_mutex_unlock(&r->mu);
    return frames;
}

uint64_t web_ring_cursor(struct web_ring *r, const char *last_event_id)
{
    if (!last_event_id)
        return web_ring_newest(r);
    char *end;
    if (last_event_id[0] < '0' || last_event_id[0] > '9')
        return 0;
    errno = 0;
    unsigned long long v = strtoull(last_event_id, &end, 10);
    return errno || *end ? 0 : (uint64_t)v;
}
