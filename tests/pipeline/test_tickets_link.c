/*
 * test_tickets_link.c - support tickets meet the live incident, in-process on the virtual
 * clock through the module table `oncue serve` runs: a storm of tickets of one fault
 * clusters, an incident declared with an overlapping slice links the cluster in the bus
 * delivery of its declaration (the 60 s target, with no time passing), the incident's
 * timeline counts the tickets (and counts again when the cluster doubles), a later ticket
 * carries the incident, a cluster of another
 * symptom stays unlinked, a cluster that reaches tickets.link_min_tickets while an incident is
 * open links then, and after the incident resolves a new cluster does not link to it.
 */
#include "t.h"
#include "config/config.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/module.h"
#include "core/topics.h"
#include "incident/incident.h"
#include "oncue/commands.h"
#include "store/store.h"
#include "tickets/tickets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0_MS 1796558400000LL /* 2026-12-06T12:00:00Z */

struct run {
    char dir[64];
    struct oc_config cfg;
    struct oc_clock clk;
    struct oc_bus *bus;
    struct store *store;
    struct oc_app app;
};

static void run_open(struct run *r)
{
    char err[256];
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "/tmp/oncue-tkp.XXXXXX");
    T_TRUE(mkdtemp(r->dir) != NULL);
    T_EQ_INT(store_open(r->dir, STORE_SYNC_NORMAL, &r->store, err, sizeof err), 0);
    oc_clock_init(&r->clk, OC_CLOCK_VIRTUAL, T0_MS);
    r->bus = oc_bus_new();
    config_init(&r->cfg, oc_modules);
    r->app = (struct oc_app){.cfg = &r->cfg, .clock = &r->clk, .bus = r->bus, .store = r->store};
    T_EQ_INT(oc_app_start(&r->app, oc_modules, "catalog,incident,tickets"), 0);
}

static void run_close(struct run *r)
{
    char cmd[128];
    oc_app_stop(&r->app);
    store_close(r->store);
    oc_bus_destroy(r->bus);
    config_free(&r->cfg);
    snprintf(cmd, sizeof cmd, "rm -rf %s", r->dir);
    T_EQ_INT(system(cmd), 0);
}

/* Submits a generic ticket updated now: 0 with out filled, or the error. */
static int submit(struct run *r, const char *id, const char *subject, const char *region,
                  struct tickets_result *out)
{
    struct tickets_map m;
    static struct tickets_ticket t;
    char body[512], err[200];
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"subject\":\"%s\",\"region\":\"%s\","
             "\"updated_at\":%lld}",
             id, subject, region, (long long)(oc_clock_now_ms(&r->clk) / 1000));
    tickets_map_builtin(TICKETS_GENERIC, &m);
    T_EQ_INT(tickets_parse(&m, TICKETS_GENERIC, body, strlen(body), &t, err, sizeof err), 0);
    int rc = tickets_submit(&r->app, &t, out);
    oc_bus_drain(r->bus);
    return rc;
}

/* Declares an incident as POST /v1/incidents does: its id. */
static int64_t declare(struct run *r, const char *alert_id, const char *slice)
{
    char body[512];
    int64_t id = 0;
    snprintf(body, sizeof body,
             "{\"alert_id\":\"%s\",\"rule\":\"manual\",\"metric\":\"rebuffer_ratio\","
             "\"summary\":\"declared\",\"source\":\"manual\",\"slice\":%s}",
             alert_id, slice);
    json_t *p = json_loads(body, 0, NULL);
    incident_on_event(incident_mgr_of(&r->app), OC_TOPIC_ALERT_FIRED, p);
    json_decref(p);
    oc_bus_drain(r->bus);
    T_EQ_INT(incident_find_alert(incident_mgr_of(&r->app), alert_id, &id), 0);
    return id;
}

/* The text of the incident's timeline entry of kind "tickets", or "" (a static copy). */
static const char *tickets_entry(struct run *r, int64_t id, int64_t *at)
{
    static char text[256];
    json_t *j = NULL, *e;
    size_t i;
    text[0] = '\0';
    T_EQ_INT(incident_get_json(incident_mgr_of(&r->app), id, &j), 0);
    json_array_foreach(json_object_get(j, "timeline"), i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "kind")), "tickets") == 0) {
            snprintf(text, sizeof text, "%s", json_string_value(json_object_get(e, "text")));
            *at = json_integer_value(json_object_get(e, "at"));
        }
    }
    json_decref(j);
    return text;
}

/* The incident API's view of incident inc, whose linked cluster holds 10 tickets: the count
 * and the rate per 1,000 affected viewers of its peak snapshot (a measured copy here: a
 * declared incident has no cube to measure). */
static void check_view(struct run *r, int64_t inc)
{
    struct incident_mgr *im = incident_mgr_of(&r->app);
    json_t *l = incident_list_json(im, NULL);
    incident_view_apply(im, l);
    T_EQ_INT(json_array_size(l), 1);
    T_EQ_INT(json_integer_value(json_object_get(json_array_get(l, 0), "tickets")), 10);
    T_TRUE(json_is_null(json_object_get(json_array_get(l, 0), "tickets_per_1000_affected")));
    json_decref(l);
    l = json_pack("[{s:I, s:{s:{s:f, s:f}, s:{s:f, s:f}}}, {s:I}]", "id", (json_int_t)inc,
                  "snapshots", "declaration", "viewers", 1000.0, "affected_share", 0.1, "peak",
                  "viewers", 4000.0, "affected_share", 0.5, "id", (json_int_t)(inc + 1));
    incident_view_apply(im, l);
    T_EQ_DBL(json_real_value(json_object_get(json_array_get(l, 0), "tickets_per_1000_affected")),
             5.0, 1e-9); /* 10 tickets, 2,000 viewers affected at the peak */
    T_EQ_INT(json_integer_value(json_object_get(json_array_get(l, 1), "tickets")), 0);
    json_decref(l);
}

static void test_link_on_declaration(void)
{
    struct run r;
    struct tickets_result o;
    int64_t cluster = 0, pay = 0, at = 0;
    run_open(&r);
    const char *lines[] = {"Video keeps buffering on my TV", "The video keeps buffering",
                           "buffering every few seconds, video freezes",
                           "Constant buffering tonight", "Video keeps buffering and freezing"};
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "b%d", i);
        oc_clock_advance_ms(&r.clk, 10000);
        T_EQ_INT(submit(&r, id, lines[i], "EU", &o), 0);
        T_EQ_STR(o.outcome, "created");
        T_EQ_INT(o.incident_id, 0);
        if (!cluster)
            cluster = o.cluster_id;
        T_EQ_INT(o.cluster_id, cluster);
    }
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "p%d", i);
        T_EQ_INT(submit(&r, id, "I was charged twice, refund please", "EU", &o), 0);
        pay = o.cluster_id;
    }
    T_TRUE(pay != cluster);
    oc_clock_advance_ms(&r.clk, 5000);
    int64_t declared_s = oc_clock_now_s(&r.clk);
    int64_t inc =
        declare(&r, "manual/eu-buffering", "{\"region\":\"EU\",\"symptom\":\"buffering\"}");
    /* linked in the declaration's own delivery: no time has passed */
    T_EQ_STR(tickets_entry(&r, inc, &at), "5 support tickets linked (cluster 1: buffering)");
    T_EQ_INT(at, declared_s);
    oc_clock_advance_ms(&r.clk, 1000);
    T_EQ_INT(submit(&r, "b5", "still buffering, the video keeps buffering", "EU", &o), 0);
    T_EQ_INT(o.cluster_id, cluster);
    T_EQ_INT(o.incident_id, inc);
    T_EQ_INT(submit(&r, "p3", "I was charged twice, refund please", "EU", &o), 0);
    T_EQ_INT(o.cluster_id, pay);
    T_EQ_INT(o.incident_id, 0); /* payment contradicts the slice's symptom */
    /* the incident hears the cluster again once it doubles (5 linked -> 10) */
    for (int i = 6; i < 10; i++) {
        char id[16];
        snprintf(id, sizeof id, "b%d", i);
        T_EQ_INT(submit(&r, id, "the video keeps buffering", "EU", &o), 0);
        T_EQ_INT(o.incident_id, inc);
        T_EQ_STR(tickets_entry(&r, inc, &at),
                 i < 9 ? "5 support tickets linked (cluster 1: buffering)"
                       : "10 support tickets linked (cluster 1: buffering)");
    }
    /* a duplicate answers the stored ticket and links nothing again */
    T_EQ_INT(submit(&r, "b5", "still buffering, the video keeps buffering", "EU", &o), 0);
    T_EQ_STR(o.outcome, "duplicate");
    check_view(&r, inc);
    run_close(&r);
}

static void test_cluster_grows_into_open_incident(void)
{
    struct run r;
    struct tickets_result o;
    int64_t at = 0;
    run_open(&r);
    int64_t inc = declare(&r, "manual/us", "{\"region\":\"US\"}");
    T_EQ_STR(tickets_entry(&r, inc, &at), "");
    oc_clock_advance_ms(&r.clk, 20000);
    T_EQ_INT(submit(&r, "l1", "Cannot log in, password rejected", "US", &o), 0);
    T_EQ_INT(submit(&r, "l2", "cannot log in, my password is rejected", "US", &o), 0);
    T_EQ_INT(o.incident_id, 0); /* tickets.link_min_tickets is 3 */
    T_EQ_INT(submit(&r, "l3", "Can't log in: password rejected", "US", &o), 0);
    T_EQ_INT(o.incident_id, inc);
    T_EQ_STR(tickets_entry(&r, inc, &at), "3 support tickets linked (cluster 1: login)");
    /* once resolved, the incident takes no new cluster (open, it would: region US) */
    char err[200];
    T_EQ_INT(
        incident_resolve(incident_mgr_of(&r.app), inc, "test", 1, "test over", err, sizeof err), 0);
    oc_bus_drain(r.bus);
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "x%d", i);
        T_EQ_INT(submit(&r, id, "Search gives no results", "US", &o), 0);
        T_EQ_INT(o.incident_id, 0);
    }
    run_close(&r);
}

static const struct t_case cases[] = {
    T_CASE(test_link_on_declaration),
    T_CASE(test_cluster_grows_into_open_incident),
    {0},
};

T_MAIN(cases)
