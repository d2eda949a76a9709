/*
 * t_incident.h - what the incident unit tests share: a fixture (a store on the test run's
 * backend, a bus, the virtual clock at T0 and an incident manager whose measurement is the
 * fake impact set by the test), alerts fired and cleared through the bus, and readers of an
 * incident's JSON (test_incident.c, test_incident_outbox.c, test_incident_status.c).
 * Header-only, like tests/t.h.
 */
#ifndef OC_TESTS_UNIT_T_INCIDENT_H
#define OC_TESTS_UNIT_T_INCIDENT_H

#include "t.h"
#include "t_store.h"
#include "incident/incident.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/log.h"
#include "store/store.h"

#define T0 1764099780 /* 2025-11-25T19:43:00Z */

/* The fake measurement: what the grid sees for every slice. */
static struct incident_impact fake;

static inline int fake_measure(void *arg, const json_t *slice, int64_t now_s,
                               struct incident_impact *out)
{
    (void)arg;
    (void)slice;
    (void)now_s;
    *out = fake;
    return 0;
}

struct fx {
    char dir[64];
    struct store *store;
    struct oc_clock clock;
    struct oc_bus *bus;
    struct oc_app app;
    struct incident_mgr *m;
};

static const char *fx_public_url = "";     /* incident.public_url of the next fx_open */
static const char *fx_allow = "127.0.0.1"; /* incident.outbound_allow of the next fx_open */

static inline void fx_open(struct fx *f)
{
    char err[256];
    struct incident_opts o;
    memset(f, 0, sizeof(*f));
    memset(&fake, 0, sizeof(fake));
    oc_log_set_level(OC_LOG_ERROR); /* failed deliveries are expected here */
    snprintf(f->dir, sizeof(f->dir), "/tmp/oncue-inc.XXXXXX");
    T_TRUE(mkdtemp(f->dir) != NULL);
    T_EQ_INT(t_store_open(f->dir, STORE_SYNC_NORMAL, &f->store, err, sizeof(err)), 0);
    oc_clock_init(&f->clock, OC_CLOCK_VIRTUAL, (int64_t)T0 * 1000);
    f->bus = oc_bus_new();
    f->app.clock = &f->clock;
    f->app.bus = f->bus;
    f->app.store = f->store;
    incident_opts_default(&o);
    o.outbound_allow = fx_allow; /* the local receivers */
    o.measure = fake_measure;
    o.public_url = fx_public_url;
    T_EQ_INT(incident_mgr_new(&f->app, &o, &f->m, err, sizeof(err)), 0);
    T_EQ_INT(incident_mgr_subscribe(f->m), 0);
}

static inline void fx_close(struct fx *f)
{
    incident_mgr_destroy(f->m);
    oc_bus_destroy(f->bus);
    store_close(f->store);
    t_rmtree(f->dir);
}

/* Publishes alert.fired for rule/key over slice (a JSON object text). */
static inline void fire(struct fx *f, const char *id, const char *slice, const char *level,
                        double v)
{
    json_t *p =
        json_pack("{s:s, s:s, s:s, s:o, s:f, s:f, s:s, s:s, s:i, s:I, s:I, s:s}", "alert_id", id,
                  "rule", "rebuffering", "metric", "rebuffering_share", "slice",
                  json_loads(slice, 0, NULL), "value", v, "threshold", 0.05, "op", ">", "level",
                  level, "window_s", 120, "since", (json_int_t)oc_clock_now_s(&f->clock) - 120,
                  "at", (json_int_t)oc_clock_now_s(&f->clock), "source", "oncue");
    (oc_bus_publish(f->bus, "alert.fired", p), oc_bus_drain(f->bus));
    json_decref(p);
}

static inline void clear(struct fx *f, const char *id)
{
    json_t *p =
        json_pack("{s:s, s:I}", "alert_id", id, "at", (json_int_t)oc_clock_now_s(&f->clock));
    (oc_bus_publish(f->bus, "alert.resolved", p), oc_bus_drain(f->bus));
    json_decref(p);
}

static inline void advance_s(struct fx *f, int64_t s)
{
    oc_clock_advance_ms(&f->clock, s * 1000);
}

/* The incident id as JSON (caller frees). */
static inline json_t *get(struct fx *f, int64_t id)
{
    json_t *o = NULL;
    T_EQ_INT(incident_get_json(f->m, id, &o), 0);
    return o;
}

static inline const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "(null)";
}

#endif
