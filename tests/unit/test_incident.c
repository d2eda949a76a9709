/*
 * test_incident.c - unit tests of the incident capability on the virtual clock: the severity
 * grid by value, grouping of alerts by slice overlap, upward re-classification, the resolve
 * rule (29 minutes do not resolve, 30 do), forced resolve, the append-only timeline, roles,
 * the Standard Webhooks vectors, the outbox retry schedule against a local receiver, the
 * status page shape and the post-incident review.
 */
#include "t.h"
#include "t_store.h"
#include "catalog/catalog.h"
#include "incident/incident.h"
#include "incident/incident_int.h"
#include "core/bus.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#define T0 1764099780 /* 2025-11-25T19:43:00Z */

/* The fake measurement: what the grid sees for every slice. */
static struct incident_impact fake;

static int fake_measure(void *arg, const json_t *slice, int64_t now_s, struct incident_impact *out)
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

static void fx_open(struct fx *f)
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

static void fx_close(struct fx *f)
{
    incident_mgr_destroy(f->m);
    oc_bus_destroy(f->bus);
    store_close(f->store);
    t_rmtree(f->dir);
}

/* Publishes alert.fired for rule/key over slice (a JSON object text). */
static void fire(struct fx *f, const char *id, const char *slice, const char *level, double v)
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

static void clear(struct fx *f, const char *id)
{
    json_t *p =
        json_pack("{s:s, s:I}", "alert_id", id, "at", (json_int_t)oc_clock_now_s(&f->clock));
    (oc_bus_publish(f->bus, "alert.resolved", p), oc_bus_drain(f->bus));
    json_decref(p);
}

static void advance_s(struct fx *f, int64_t s)
{
    oc_clock_advance_ms(&f->clock, s * 1000);
}

/* The incident id as JSON (caller frees). */
static json_t *get(struct fx *f, int64_t id)
{
    json_t *o = NULL;
    T_EQ_INT(incident_get_json(f->m, id, &o), 0);
    return o;
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "(null)";
}

/* --- severity grid by value --- */

static void test_grid_table(void)
{
    static const struct {
        struct incident_impact imp;
        int sev;
    } cases[] = {
        {{.cannot_start_share = 0.26, .viewer_visible = 1}, 1},
        {{.cannot_start_share = 0.25, .affected_share = 0.25, .viewer_visible = 1}, 2},
        {{.global_rebuffer = 0.16, .global_rebuffer_s = 180, .viewer_visible = 1}, 1},
        {{.global_rebuffer = 0.16, .global_rebuffer_s = 120, .viewer_visible = 1}, 3},
        {{.global_rebuffer = 0.15, .global_rebuffer_s = 600, .viewer_visible = 1}, 3},
        {{.core_down = 1}, 1},
        {{.affected_share = 0.051, .viewer_visible = 1}, 2},
        {{.affected_share = 0.05, .viewer_visible = 1}, 3},
        {{.affected_share = 0.01, .scope_broken = 1, .viewer_visible = 1}, 2},
        {{.affected_share = 0.04, .viewer_visible = 1}, 3},
        {{.affected_share = 0.04, .viewer_visible = 0}, 4},
        {{.affected_share = 0.0}, 4},
    };
    struct incident_grid g;
    incident_grid_default(&g);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        T_EQ_INT(incident_classify(&g, &cases[i].imp, NULL, 0), cases[i].sev);
    g.sev2_affected = 0.10; /* configurable */
    struct incident_impact seven = {.affected_share = 0.07, .viewer_visible = 1};
    T_EQ_INT(incident_classify(&g, &seven, NULL, 0), 3);
}

/* --- grouping --- */

static void test_open_join_separate(void)
{
    struct fx f;
    fx_open(&f);
    fake.affected_share = 0.30;
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08);
    advance_s(&f, 60);
    fire(&f, "vsf/EMEA-primary", "{\"region\": \"EMEA\", \"cdn\": \"primary\"}", "page", 0.09);
    advance_s(&f, 60);
    fire(&f, "reb/NA-secondary", "{\"region\": \"NA\", \"cdn\": \"secondary\"}", "notify", 0.04);
    /* backlog-level alerts neither join (same region as INC-1) nor open an incident */
    fire(&f, "reb-backlog/EMEA", "{\"region\": \"EMEA\"}", "backlog", 0.02);
    fire(&f, "reb-backlog/APAC", "{\"region\": \"APAC\"}", "backlog", 0.02);
    json_t *l = incident_list_json(f.m, NULL);
    T_EQ_INT(json_array_size(l), 2);
    json_decref(l);
    json_t *a = get(&f, 1), *b = get(&f, 2);
    T_EQ_INT(json_array_size(json_object_get(a, "alerts")), 2);
    T_EQ_STR(str(a, "severity"), "SEV2");
    T_EQ_STR(str(a, "state"), "triggered");
    T_EQ_INT(json_array_size(json_object_get(b, "alerts")), 1);
    T_EQ_STR(str(json_object_get(b, "slice"), "region"), "NA");
    json_decref(a);
    json_decref(b);
    /* past the grouping window an overlapping alert opens a new incident */
    advance_s(&f, 1800);
    fire(&f, "reb/EMEA-mobile", "{\"region\": \"EMEA\", \"device\": \"mobile\"}", "page", 0.07);
    l = incident_list_json(f.m, "open");
    T_EQ_INT(json_array_size(l), 3);
    json_decref(l);
    fx_close(&f);
}

/* An incident whose slice and root cause route to no service pages the catalog's default owner:
 * at once when the localization routes nowhere, else once it has waited a minute for one. */
static void test_default_owner(void)
{
    struct fx f;
    void *cat = NULL;
    fx_open(&f);
    fake.affected_share = 0.30;
    T_EQ_INT(catalog_module.init(&f.app, &cat), 0); /* the example catalog */
    fire(&f, "vsf/NA", "{\"region\": \"NA\"}", "page", 0.08);
    json_t *a = get(&f, 1);
    T_EQ_STR(str(a, "team"), ""); /* nothing serves region=NA: not yet */
    json_decref(a);
    advance_s(&f, 59);
    incident_tick(f.m);
    a = get(&f, 1);
    T_EQ_STR(str(a, "team"), "");
    json_decref(a);
    advance_s(&f, 1);
    incident_tick(f.m);
    oc_bus_drain(f.bus);
    a = get(&f, 1);
    T_EQ_STR(str(a, "team"), "playback-services");
    T_EQ_STR(str(a, "service"), "manifest-service");
    json_decref(a);
    /* a localization that routes nowhere pages the default owner at once */
    fire(&f, "vsf/APAC", "{\"region\": \"APAC\"}", "page", 0.08);
    json_t *p = json_pack("{s:s, s:[{s:{s:s}}]}", "incident_id", "INC-2", "causes", "element",
                          "region", "APAC");
    (oc_bus_publish(f.bus, "rca.localized", p), oc_bus_drain(f.bus));
    json_decref(p);
    a = get(&f, 2);
    T_EQ_STR(str(a, "team"), "playback-services");
    json_decref(a);
    catalog_module.stop(&f.app, cat);
    fx_close(&f);
}

static int count_kind(const json_t *tl, const char *kind, const char *needle)
{
    size_t i;
    json_t *e;
    int n = 0;
    json_array_foreach(tl, i, e)
    {
        if (!strcmp(str(e, "kind"), kind) && (!needle || strstr(str(e, "text"), needle)))
            n++;
    }
    return n;
}

/* An Alertmanager alert's labels.service joins the slice: alerts on one service group. */
static void test_alertmanager_service_label(void)
{
    struct fx f;
    fx_open(&f);
    const char *am = "{\"alert_id\": \"am/1\", \"metric\": \"OriginErrors\", \"slice\": {}, "
                     "\"labels\": {\"service\": \"origin\"}, \"level\": \"page\", "
                     "\"source\": \"alertmanager\"}";
    json_t *p = json_loads(am, 0, NULL);
    (oc_bus_publish(f.bus, "alert.fired", p), oc_bus_drain(f.bus));
    json_decref(p);
    fire(&f, "reb/NA", "{\"region\": \"NA\", \"service\": \"packager\"}", "page", 0.08);
    fire(&f, "vsf/origin", "{\"region\": \"EMEA\", \"service\": \"origin\"}", "page", 0.08);
    json_t *o = get(&f, 1);
    T_EQ_STR(str(json_object_get(o, "slice"), "service"), "origin");
    T_EQ_INT(json_array_size(json_object_get(o, "alerts")), 2);
    json_decref(o);
    o = get(&f, 2);
    T_EQ_INT(json_array_size(json_object_get(o, "alerts")), 1);
    json_decref(o);
    fx_close(&f);
}

static void test_reclassify_upward(void)
{
    struct fx f;
    fx_open(&f);
    fake.affected_share = 0.03;
    fake.viewer_visible = 1;
    fire(&f, "reb/isp", "{\"isp\": \"fibre-one\"}", "notify", 0.04);
    json_t *o = get(&f, 1);
    T_EQ_STR(str(o, "severity"), "SEV3");
    json_decref(o);
    fake.affected_share = 0.06;
    advance_s(&f, 30);
    T_EQ_INT(incident_tick(f.m), 0); /* re-measured once a minute */
    advance_s(&f, 30);
    T_EQ_INT(incident_tick(f.m), 1);
    o = get(&f, 1);
    T_EQ_STR(str(o, "severity"), "SEV2");
    json_t *tl = json_object_get(o, "timeline");
    T_EQ_INT(count_kind(tl, "severity", "re-classified SEV3 -> SEV2"), 1);
    json_t *last = json_array_get(tl, json_array_size(tl) - 1);
    T_EQ_INT(json_integer_value(json_object_get(last, "at")), T0 + 60);
    json_decref(o);
    /* never silently downward */
    fake.affected_share = 0.01;
    advance_s(&f, 60);
    incident_tick(f.m);
    o = get(&f, 1);
    T_EQ_STR(str(o, "severity"), "SEV2");
    json_decref(o);
    /* a responder may lower it with a reason */
    char err[256];
    T_EQ_INT(incident_set_severity(f.m, 1, "alice", 3, "", err, sizeof(err)), OC_EINVAL);
    T_EQ_INT(incident_set_severity(f.m, 1, "alice", 3, "only one ISP", err, sizeof(err)), 0);
    o = get(&f, 1);
    T_EQ_STR(str(o, "severity"), "SEV3");
    json_decref(o);
    fx_close(&f);
}

/* --- the resolve rule --- */

static void test_recovery_window(void)
{
    struct fx f;
    char err[256];
    fx_open(&f);
    fake.affected_share = 0.10;
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08);
    advance_s(&f, 600);
    clear(&f, "reb/EMEA");
    advance_s(&f, 29 * 60);
    incident_tick(f.m);
    json_t *o = get(&f, 1);
    T_EQ_STR(str(o, "state"), "triggered");
    json_decref(o);
    T_EQ_INT(incident_resolve(f.m, 1, "bob", 0, NULL, err, sizeof(err)), OC_ECONFLICT);
    advance_s(&f, 60);
    T_EQ_INT(incident_tick(f.m), 1);
    o = get(&f, 1);
    T_EQ_STR(str(o, "state"), "resolved");
    T_EQ_INT(json_integer_value(json_object_get(o, "resolved_at")), T0 + 600 + 1800);
    T_EQ_INT(count_kind(json_object_get(o, "timeline"), "snapshot", "peak"), 1);
    json_decref(o);
    fx_close(&f);
}

static void test_refire_resets_recovery(void)
{
    struct fx f;
    fx_open(&f);
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08);
    clear(&f, "reb/EMEA");
    advance_s(&f, 20 * 60);
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.09);
    clear(&f, "reb/EMEA");
    advance_s(&f, 20 * 60);
    incident_tick(f.m);
    json_t *o = get(&f, 1);
    T_EQ_STR(str(o, "state"), "triggered");
    T_EQ_DBL(
        json_number_value(json_object_get(json_array_get(json_object_get(o, "alerts"), 0), "peak")),
        0.09, 1e-9);
    json_decref(o);
    fx_close(&f);
}

static void test_forced_resolve_needs_reason(void)
{
    struct fx f;
    char err[256];
    fx_open(&f);
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08);
    T_EQ_INT(incident_resolve(f.m, 1, "bob", 1, "", err, sizeof(err)), OC_EINVAL);
    T_EQ_INT(incident_resolve(f.m, 1, "bob", 1, NULL, err, sizeof(err)), OC_EINVAL);
    T_EQ_INT(incident_resolve(f.m, 1, "bob", 1, "false alarm: synthetic probe", err, sizeof(err)),
             0);
    json_t *o = get(&f, 1);
    T_EQ_STR(str(o, "state"), "resolved");
    T_EQ_INT(count_kind(json_object_get(o, "timeline"), "resolved", "forced by bob: false alarm"),
             1);
    json_decref(o);
    T_EQ_INT(incident_resolve(f.m, 1, "bob", 1, "again", err, sizeof(err)), OC_ECONFLICT);
    T_EQ_INT(incident_resolve(f.m, 9, "bob", 1, "x", err, sizeof(err)), OC_ENOTFOUND);
    fx_close(&f);
}

/* --- lifecycle, roles and the timeline --- */

static void test_ack_roles_timeline_append_only(void)
{
    struct fx f;
    char err[256];
    fx_open(&f);
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08);
    advance_s(&f, 90);
    T_EQ_INT(incident_ack(f.m, 1, "carol"), 0);
    T_EQ_INT(incident_ack(f.m, 1, "carol"), OC_ECONFLICT);
    T_EQ_INT(incident_role(f.m, 1, "carol", "commander", "carol", err, sizeof(err)), 0);
    T_EQ_INT(incident_role(f.m, 1, "carol", "sme", "dave", err, sizeof(err)), 0);
    T_EQ_INT(incident_role(f.m, 1, "carol", "boss", "eve", err, sizeof(err)), OC_EINVAL);
    T_EQ_INT(incident_role(f.m, 1, "carol", "commander", NULL, err, sizeof(err)), 0);
    T_EQ_INT(incident_note(f.m, 1, "carol", "FRA cache hit ratio at 12%"), 0);
    json_t *o = get(&f, 1);
    T_EQ_STR(str(o, "state"), "acknowledged");
    T_EQ_INT(json_integer_value(json_object_get(o, "acknowledged_at")), T0 + 90);
    T_TRUE(json_is_null(json_object_get(json_object_get(o, "roles"), "commander")));
    T_EQ_STR(
        json_string_value(json_array_get(json_object_get(json_object_get(o, "roles"), "sme"), 0)),
        "dave");
    json_t *tl = json_object_get(o, "timeline");
    T_EQ_INT(count_kind(tl, "ack", "acknowledged by carol"), 1);
    T_EQ_INT(count_kind(tl, "role", NULL), 3);
    T_EQ_INT(count_kind(tl, "note", "FRA cache"), 1);
    json_decref(o);
    T_EQ_INT(store_exec(f.store, "UPDATE incident_timeline SET text = 'rewritten'"), OC_EDB);
    T_EQ_INT(store_exec(f.store, "DELETE FROM incident_timeline"), OC_EDB);
    fx_close(&f);
}

static void test_restart_keeps_incidents(void)
{
    struct fx f;
    char err[256];
    struct incident_opts o;
    fx_open(&f);
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08);
    incident_ack(f.m, 1, "carol");
    incident_mgr_destroy(f.m);
    incident_opts_default(&o);
    o.outbound_allow = fx_allow; /* the local receivers */
    o.measure = fake_measure;
    T_EQ_INT(incident_mgr_new(&f.app, &o, &f.m, err, sizeof(err)), 0);
    T_EQ_INT(incident_mgr_subscribe(f.m), 0);
    json_t *j = get(&f, 1);
    T_EQ_STR(str(j, "state"), "acknowledged");
    T_EQ_STR(str(json_array_get(json_object_get(j, "alerts"), 0), "alert_id"), "reb/EMEA");
    json_decref(j);
    fire(&f, "reb/EMEA2", "{\"region\": \"EMEA\"}", "page", 0.08); /* joins after restart */
    j = incident_list_json(f.m, NULL);
    T_EQ_INT(json_array_size(j), 1);
    json_decref(j);
    fire(&f, "reb/NA", "{\"region\": \"NA\"}", "page", 0.08); /* a new one: the next id */
    j = get(&f, 2);
    T_EQ_STR(str(j, "incident_id"), "INC-2");
    json_decref(j);
    fx_close(&f);
}

static void test_comms_reminders(void)
{
    struct fx f;
    char err[256];
    fx_open(&f);
    fake.affected_share = 0.2;
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08);
    incident_role(f.m, 1, "x", "comms", "erin", err, sizeof(err));
    advance_s(&f, 14 * 60);
    incident_tick(f.m);
    advance_s(&f, 60);
    incident_tick(f.m); /* 15 min: first reminder */
    advance_s(&f, 29 * 60);
    incident_tick(f.m);
    advance_s(&f, 60);
    incident_tick(f.m); /* 45 min: second */
    json_t *o = get(&f, 1);
    T_EQ_INT(count_kind(json_object_get(o, "timeline"), "reminder", "comms (erin)"), 2);
    json_decref(o);
    T_EQ_INT(incident_status_update(f.m, 1, "erin", "identified",
                                    "Some viewers in Europe see buffering.", err, sizeof(err)),
             0);
    advance_s(&f, 29 * 60);
    incident_tick(f.m);
    o = get(&f, 1);
    T_EQ_INT(count_kind(json_object_get(o, "timeline"), "reminder", NULL), 2);
    json_decref(o);
    fx_close(&f);
}

static void test_mitigation_followup(void)
{
    struct fx f;
    fx_open(&f);
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08);
    advance_s(&f, 300);
    json_t *p =
        json_pack("{s:I, s:s, s:{s:s, s:s, s:s, s:s}, s:s, s:I, s:s, s:{s:I, s:s, s:I}}", "id",
                  (json_int_t)4, "kind", "shift-cdn", "spec", "kind", "shift-cdn", "region", "EMEA",
                  "from", "primary", "to", "secondary", "actor", "ops", "created_ms",
                  (json_int_t)(T0 + 300) * 1000, "state", "active", "followup", "id", (json_int_t)4,
                  "title", "Remove or make permanent mitigation #4 (shift-cdn)", "due_ms",
                  (json_int_t)(T0 + 300 + 72 * 3600) * 1000);
    (oc_bus_publish(f.bus, "mitigation.applied", p), oc_bus_drain(f.bus));
    json_decref(p);
    json_t *o = get(&f, 1);
    T_EQ_STR(str(o, "state"), "mitigated");
    T_EQ_INT(json_integer_value(json_object_get(o, "mitigated_at")), T0 + 300);
    json_t *fu = json_array_get(json_object_get(o, "followups"), 0);
    T_EQ_STR(str(fu, "title"), "Remove or make permanent mitigation #4 (shift-cdn)");
    T_EQ_INT(json_integer_value(json_object_get(fu, "due_at")), T0 + 300 + 72 * 3600);
    T_EQ_INT(count_kind(json_object_get(o, "timeline"), "mitigation", "#4 (shift-cdn) applied"), 1);
    json_decref(o);
    char err[128];
    T_EQ_INT(incident_followup_add(f.m, 1, "ops", "Add a cache-miss alert per POP", T0, err,
                                   sizeof(err)),
             OC_EINVAL); /* deadline in the past */
    T_EQ_INT(incident_followup_add(f.m, 1, "ops", "Add a cache-miss alert per POP",
                                   T0 + 300 + 7 * 86400, err, sizeof(err)),
             0);
    p = json_pack("{s:I, s:s, s:{s:s}, s:s}", "id", (json_int_t)4, "kind", "shift-cdn", "spec",
                  "region", "EMEA", "actor", "ops");
    (oc_bus_publish(f.bus, "mitigation.reverted", p), oc_bus_drain(f.bus));
    json_decref(p);
    o = get(&f, 1);
    json_t *fus = json_object_get(o, "followups");
    T_EQ_INT(json_array_size(fus), 2);
    T_EQ_INT(json_integer_value(json_object_get(json_array_get(fus, 0), "done_at")), T0 + 300);
    T_TRUE(json_is_null(json_object_get(json_array_get(fus, 1), "done_at")));
    T_EQ_INT(count_kind(json_object_get(o, "timeline"), "mitigation", "#4 (shift-cdn) reverted"),
             1);
    json_decref(o);
    fx_close(&f);
}

/* --- Standard Webhooks vectors (docs/contracts.md "Outbound webhook signatures") --- */

/* A key rotation: two secrets sign one message; each signature is the one the secret alone
 * gives (the published vector), and a receiver holding either secret verifies. */
static void test_webhook_rotation(void)
{
    char sig[256];
    const char *b1 = "{\"test\": 2432232314}", *id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const char *old = "whsec_b25jdWUgcGVlcnM6IHRoZSBrZXkgYmVmb3JlIHJvdGF0aW9u";
    char both[128], old_alone[128];
    snprintf(both, sizeof both, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw  %s ", old);
    T_EQ_INT(
        incident_webhook_sign(old, id, 1614265330, b1, strlen(b1), old_alone, sizeof(old_alone)),
        0);
    T_EQ_INT(incident_webhook_sign(both, id, 1614265330, b1, strlen(b1), sig, sizeof(sig)), 0);
    char want[256];
    snprintf(want, sizeof want, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= %s", old_alone);
    T_EQ_STR(sig, want);
    T_EQ_INT(incident_webhook_verify(old, id, "1614265330", b1, strlen(b1), sig, 1614265330), 0);
    T_EQ_INT(incident_webhook_verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id, "1614265330", b1,
                                     strlen(b1), sig, 1614265330),
             0);
    /* refused: one undecodable secret, five secrets, no room for both */
    T_EQ_INT(incident_webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_***", id, 1, b1,
                                   strlen(b1), sig, sizeof(sig)),
             OC_EINVAL);
    T_EQ_INT(
        incident_webhook_sign("MTIz MTIz MTIz MTIz MTIz", id, 1, b1, strlen(b1), sig, sizeof(sig)),
        OC_EINVAL);
    T_EQ_INT(incident_webhook_sign(both, id, 1, b1, strlen(b1), sig, 64), OC_EINVAL);
    T_EQ_INT(incident_webhook_sign("   ", id, 1, b1, strlen(b1), sig, sizeof(sig)), OC_EINVAL);
}

static void test_webhook_vectors(void)
{
    char sig[128];
    const char *b1 = "{\"test\": 2432232314}";
    const char *b2 = "{\"type\": \"example.created\", \"timestamp\":\"2023-09-28T19:20:22+00:00\", "
                     "\"data\":{\"str\":\"string\",\"bool\":true,\"int\":42}}";
    const char *id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    T_EQ_INT(incident_webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id, 1614265330, b1,
                                   strlen(b1), sig, sizeof(sig)),
             0);
    T_EQ_STR(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    T_EQ_INT(incident_webhook_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id, 1696200454, b2,
                                   strlen(b2), sig, sizeof(sig)),
             0);
    T_EQ_STR(sig, "v1,GgjvufBlIj71MBIVQotYGb+xEC3LNXCsIZp0HsDC8qs=");
    const char *sec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const char *good = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    T_EQ_INT(incident_webhook_verify(sec, id, "1614265330", b1, strlen(b1), good, 1614265330), 0);
    T_EQ_INT(incident_webhook_verify(
                 sec, id, "1614265330", b1, strlen(b1),
                 "v1a,xx v1,bad= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", 1614265330),
             0);
    T_EQ_INT(incident_webhook_verify(sec, id, "1614265330", b1, strlen(b1),
                                     "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLawdd", 1614265330),
             OC_EAUTH);
    T_EQ_INT(incident_webhook_verify(sec, id, "1614265330", b1, strlen(b1), "v1,", 1614265330),
             OC_EAUTH);
    T_EQ_INT(incident_webhook_verify(sec, id, "1614265330", b1, strlen(b1), NULL, 1614265330),
             OC_EAUTH);
    T_EQ_INT(incident_webhook_verify(sec, id, "1614265330", b1, strlen(b1), good, 1614265330 + 301),
             OC_EAUTH);
    T_EQ_INT(incident_webhook_verify(sec, id, "1614265330", b1, strlen(b1), good, 1614265330 - 301),
             OC_EAUTH);
    T_EQ_INT(incident_webhook_verify(sec, id, "1614265330", b1, strlen(b1), good, 1614265330 + 300),
             0);
    T_EQ_INT(incident_webhook_verify("", id, "1614265330", b1, strlen(b1), good, 1614265330),
             OC_EAUTH);
    T_EQ_INT(incident_webhook_verify(sec, id, "1614265330.5", b1, strlen(b1), good, 1614265330),
             OC_EAUTH);
}

/* --- the outbox against a local receiver --- */

struct receiver {
    int fd, port;
    int fail_first;         /* answer fail_code this many times */
    int fail_code;          /* 0: 500 */
    int retry_after;        /* sent with failures when > 0 */
    char bodies[8][8192];   /* the first requests' paths and bodies */
    int requests, verified; /* counted */
    char secret[64];
    pthread_t th;
};

static const char *header_of(const char *req, const char *name, char *out, size_t n)
{
    const char *p = strcasestr(req, name);
    out[0] = 0;
    if (!p)
        return NULL;
    p += strlen(name);
    while (*p == ' ')
        p++;
    size_t len = strcspn(p, "\r\n");
    snprintf(out, n, "%.*s", (int)(len < n - 1 ? len : n - 1), p);
    return out;
}

/* Serves one request on c: reads it whole, checks its signature, answers. */
static void serve_one(struct receiver *r, int c)
{
    char req[16384], id[128], ts[64], sig[256], cl[32];
    size_t got = 0;
    ssize_t k;
    const char *body = NULL;
    while (got < sizeof(req) - 1 && (k = read(c, req + got, sizeof(req) - 1 - got)) > 0) {
        got += (size_t)k;
        req[got] = 0;
        body = strstr(req, "\r\n\r\n");
        if (body && header_of(req, "Content-Length:", cl, sizeof(cl)) &&
            strlen(body + 4) >= (size_t)strtol(cl, NULL, 10))
            break;
    }
    r->requests++;
    if (body && header_of(req, "webhook-id:", id, sizeof(id)) &&
        header_of(req, "webhook-timestamp:", ts, sizeof(ts)) &&
        header_of(req, "webhook-signature:", sig, sizeof(sig)) &&
        incident_webhook_verify(r->secret, id, ts, body + 4, strlen(body + 4), sig,
                                oc_wall_ms() / 1000) == 0)
        r->verified++;
    if (r->requests <= 8)
        snprintf(r->bodies[r->requests - 1], sizeof(r->bodies[0]), "%.*s %s",
                 (int)strcspn(req + 6, " "), req + 6, body ? body + 4 : "");
    char ans[256];
    if (r->requests <= r->fail_first)
        snprintf(ans, sizeof(ans),
                 "HTTP/1.1 %d Failed\r\nContent-Length: 0\r\n%s%.0d%sConnection: close\r\n\r\n",
                 r->fail_code ? r->fail_code : 500, r->retry_after > 0 ? "Retry-After: " : "",
                 r->retry_after, r->retry_after > 0 ? "\r\n" : "");
    else
        snprintf(ans, sizeof(ans),
                 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    T_TRUE(write(c, ans, strlen(ans)) > 0);
    close(c);
}

static void *receiver_main(void *arg)
{
    struct receiver *r = arg;
    int c;
    while ((c = accept(r->fd, NULL, NULL)) >= 0)
        serve_one(r, c);
    return NULL;
}

static void receiver_start(struct receiver *r)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    T_EQ_INT(bind(r->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    T_EQ_INT(listen(r->fd, 16), 0);
    getsockname(r->fd, (struct sockaddr *)&a, &len);
    r->port = ntohs(a.sin_port);
    pthread_create(&r->th, NULL, receiver_main, r);
}

static void receiver_stop(struct receiver *r)
{
    shutdown(r->fd, SHUT_RDWR);
    close(r->fd);
    pthread_join(r->th, NULL);
}

static void test_outbox_retry_schedule(void)
{
    struct fx f;
    struct receiver r;
    char url[64];
    int pending, delivered, failed;
    fx_open(&f);
    memset(&r, 0, sizeof(r));
    r.fail_first = 3;
    snprintf(r.secret, sizeof(r.secret), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    receiver_start(&r);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", r.port);
    struct incident_outbox *ob = incident_outbox(f.m);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "generic", "webhook", url, r.secret, NULL), 0);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "bad", "webhook", url, NULL, NULL), OC_EINVAL);
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08); /* incident.opened */
    static const int64_t waits[] = {0, 5, 300, 1800};
    for (int i = 0; i < 4; i++) {
        advance_s(&f, waits[i] - 1);
        if (waits[i] > 0) /* not yet due */
            T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 0);
        advance_s(&f, 1);
        T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 1);
    }
    advance_s(&f, 86400);
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 0);
    incident_outbox_counts(ob, &pending, &delivered, &failed);
    T_EQ_INT(delivered, 1);
    T_EQ_INT(pending, 0);
    T_EQ_INT(r.requests, 4);
    T_EQ_INT(r.verified, 4);
    json_t *log = incident_outbox_json(ob, 10, 0);
    json_t *msg = json_array_get(log, 0);
    T_EQ_STR(str(msg, "topic"), "incident.opened");
    T_EQ_INT(json_integer_value(json_object_get(msg, "attempts")), 4);
    T_EQ_INT(json_array_size(json_object_get(msg, "attempt_log")), 4);
    T_EQ_INT(json_integer_value(
                 json_object_get(json_array_get(json_object_get(msg, "attempt_log"), 0), "status")),
             500);
    json_decref(log);
    log = incident_outbox_json(ob, 10, 1); /* another role: no answers or errors */
    msg = json_array_get(log, 0);
    T_EQ_INT(json_integer_value(json_object_get(msg, "attempts")), 4);
    T_EQ_STR(str(msg, "state"), "delivered");
    T_TRUE(json_object_get(msg, "attempt_log") == NULL);
    T_TRUE(json_object_get(msg, "last_status") == NULL);
    json_decref(log);
    receiver_stop(&r);
    fx_close(&f);
}

/* Without incident.outbound_allow a delivery to the server's own host is refused at connect
 * time (the receiver hears nothing) and the attempt log says why and how to allow it; a bad
 * allow list stops the manager from starting, naming the setting. */
static void test_outbox_refuses_loopback(void)
{
    struct fx f;
    struct receiver r;
    char url[64], err[256];
    fx_allow = "";
    fx_open(&f);
    fx_allow = "127.0.0.1";
    memset(&r, 0, sizeof(r));
    snprintf(r.secret, sizeof(r.secret), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    receiver_start(&r);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", r.port);
    struct incident_outbox *ob = incident_outbox(f.m);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "local", "webhook", url, r.secret, NULL), 0);
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08);
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 1);
    T_EQ_INT(r.requests, 0);
    json_t *log = incident_outbox_json(ob, 10, 0);
    const char *e = json_string_value(json_object_get(
        json_array_get(json_object_get(json_array_get(log, 0), "attempt_log"), 0), "error"));
    T_EQ_STR(e ? e : "(none)", "refused to connect to 127.0.0.1: a loopback address (list it in "
                               "incident.outbound_allow to allow it)");
    json_decref(log);
    receiver_stop(&r);

    struct incident_opts o;
    struct incident_mgr *m = NULL;
    incident_opts_default(&o);
    o.outbound_allow = "10.0.0.0/33";
    T_EQ_INT(incident_mgr_new(&f.app, &o, &m, err, sizeof(err)), OC_EINVAL);
    T_EQ_STR(err, "incident.outbound_allow: \"10.0.0.0/33\" is not an address or a range "
                  "(10.0.0.0/8, ::1)");
    fx_close(&f);
}

/* The JSON body of a receiver's record "path {...}" (new reference). */
static json_t *body_json(const char *rec)
{
    const char *b = strchr(rec, ' ');
    json_t *j = b ? json_loads(b + 1, 0, NULL) : NULL;
    T_TRUE(j != NULL);
    return j;
}

/* The value at a jansson path of dot-separated keys and array indexes ("a.0.b"), or NULL. */
static const json_t *at(const json_t *j, const char *path)
{
    char key[64];
    while (j && *path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, path);
        j = json_is_array(j) ? json_array_get(j, strtoul(key, NULL, 10)) : json_object_get(j, key);
        path += n + (path[n] == '.');
    }
    return j;
}

static const char *at_str(const json_t *j, const char *path)
{
    const char *s = json_string_value(at(j, path));
    return s ? s : "(none)";
}

static void test_outbox_kinds(void)
{
    struct fx f;
    struct receiver r;
    char url[96];
    fx_public_url = "https://oncue.example/";
    fx_open(&f);
    fx_public_url = "";
    memset(&r, 0, sizeof(r));
    receiver_start(&r);
    struct incident_outbox *ob = incident_outbox(f.m);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/slack", r.port);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "s", "slack", url, NULL, NULL), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/teams", r.port);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "t", "teams", url, NULL, NULL), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/pd", r.port);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "p", "pagerduty", url, "R0UTINGKEY", NULL), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/legacy", r.port);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "l", "teams_legacy", url, NULL, NULL), 0);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "x", "email", url, NULL, NULL), OC_EINVAL);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "w", "webhook", url, "whsec_not*base64", NULL),
             OC_EINVAL);
    fake.affected_share = 0.2;
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08);
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 4);
    T_EQ_INT(incident_ack(f.m, 1, "carol"), 0);
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 4);
    T_EQ_INT(r.requests, 8);

    /* Slack: Block Kit with the text fallback, the facts and the links */
    T_TRUE(strncmp(r.bodies[0], "slack ", 6) == 0);
    json_t *j = body_json(r.bodies[0]);
    T_EQ_STR(at_str(j, "text"), "[oncue] INC-1 opened SEV2: rebuffering_share in region=EMEA");
    T_EQ_STR(at_str(j, "blocks.0.type"), "header");
    T_EQ_STR(at_str(j, "blocks.0.text.text"),
             "INC-1 opened SEV2: rebuffering_share in region=EMEA");
    T_EQ_STR(at_str(j, "blocks.1.type"), "section");
    T_EQ_STR(at_str(j, "blocks.1.fields.0.text"), "*Severity*\nSEV2");
    T_EQ_STR(at_str(j, "blocks.1.fields.1.text"), "*State*\ntriggered");
    T_EQ_STR(at_str(j, "blocks.1.fields.2.text"), "*Slice*\nregion=EMEA");
    T_EQ_STR(at_str(j, "blocks.2.type"), "actions");
    T_EQ_STR(at_str(j, "blocks.2.elements.0.url"), "https://oncue.example/#/incidents/INC-1");
    T_EQ_STR(at_str(j, "blocks.2.elements.1.text.text"), "Status page");
    T_EQ_STR(at_str(j, "blocks.2.elements.1.url"), "https://oncue.example/status");
    json_decref(j);

    /* Teams: a Workflows message with one Adaptive Card */
    j = body_json(r.bodies[1]);
    T_EQ_STR(at_str(j, "type"), "message");
    T_EQ_STR(at_str(j, "attachments.0.contentType"), "application/vnd.microsoft.card.adaptive");
    T_TRUE(json_is_null(at(j, "attachments.0.contentUrl")));
    T_EQ_STR(at_str(j, "attachments.0.content.type"), "AdaptiveCard");
    T_EQ_STR(at_str(j, "attachments.0.content.version"), "1.4");
    T_EQ_STR(at_str(j, "attachments.0.content.body.0.text"),
             "INC-1 opened SEV2: rebuffering_share in region=EMEA");
    T_EQ_STR(at_str(j, "attachments.0.content.body.0.color"), "Attention");
    T_EQ_STR(at_str(j, "attachments.0.content.body.1.type"), "FactSet");
    T_EQ_STR(at_str(j, "attachments.0.content.body.1.facts.2.title"), "Slice");
    T_EQ_STR(at_str(j, "attachments.0.content.body.1.facts.2.value"), "region=EMEA");
    T_EQ_STR(at_str(j, "attachments.0.content.actions.0.type"), "Action.OpenUrl");
    T_EQ_STR(at_str(j, "attachments.0.content.actions.0.url"),
             "https://oncue.example/#/incidents/INC-1");
    json_decref(j);

    /* PagerDuty: routing key at send time; source, class, links and client_url */
    j = body_json(r.bodies[2]);
    T_EQ_STR(at_str(j, "routing_key"), "R0UTINGKEY");
    T_EQ_STR(at_str(j, "event_action"), "trigger");
    T_EQ_STR(at_str(j, "dedup_key"), "oncue/INC-1");
    T_EQ_STR(at_str(j, "payload.severity"), "error");
    T_EQ_STR(at_str(j, "payload.source"), "region=EMEA"); /* no service routed here */
    T_EQ_STR(at_str(j, "payload.class"), "rebuffering_share");
    T_TRUE(at(j, "payload.component") == NULL);
    T_EQ_STR(at_str(j, "client"), "oncue");
    T_EQ_STR(at_str(j, "client_url"), "https://oncue.example/#/incidents/INC-1");
    T_EQ_STR(at_str(j, "links.0.href"), "https://oncue.example/#/incidents/INC-1");
    T_EQ_STR(at_str(j, "links.1.text"), "Status page");
    json_decref(j);

    T_CONTAINS(r.bodies[3], "legacy {\"@type\":\"MessageCard\"");

    /* the acknowledgement: Slack says who, PagerDuty acknowledges the same dedup key */
    j = body_json(r.bodies[4]);
    T_EQ_STR(at_str(j, "text"), "[oncue] INC-1 acknowledged SEV2: rebuffering_share in "
                                "region=EMEA");
    T_EQ_STR(at_str(j, "blocks.1.text.text"), "Acknowledged by carol.");
    T_EQ_STR(at_str(j, "blocks.2.fields.1.text"), "*State*\nacknowledged");
    json_decref(j);
    T_EQ_STR(r.bodies[6], "pd {\"routing_key\":\"R0UTINGKEY\",\"event_action\":\"acknowledge\","
                          "\"dedup_key\":\"oncue/INC-1\"}");
    receiver_stop(&r);
    fx_close(&f);
}

/* An incident routed to a catalog service: Slack shows its owner and on-call and offers the
 * service's runbook; PagerDuty places it with source, component and group. */
static void test_outbox_service_routed(void)
{
    struct fx f;
    struct receiver r;
    char url[96];
    void *cat = NULL;
    fx_public_url = "https://oncue.example/";
    fx_open(&f);
    fx_public_url = "";
    memset(&r, 0, sizeof(r));
    receiver_start(&r);
    T_EQ_INT(catalog_module.init(&f.app, &cat), 0); /* the example catalog */
    struct incident_outbox *ob = incident_outbox(f.m);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/slack", r.port);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "s", "slack", url, NULL, NULL), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/pd", r.port);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "p", "pagerduty", url, "R0UTINGKEY", NULL), 0);
    fake.affected_share = 0.2;
    fire(&f, "reb/primary", "{\"cdn\": \"primary\"}", "page", 0.08);
    json_t *a = get(&f, 1);
    T_EQ_STR(str(a, "service"), "cdn-primary");
    T_EQ_STR(str(a, "team"), "cdn-ops");
    json_decref(a);
    /* Slack hears the page and the opening; PagerDuty the trigger */
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 3);
    T_EQ_INT(r.requests, 3);
    T_EQ_INT(strncmp(r.bodies[0], "slack ", 6), 0);
    json_t *j = body_json(r.bodies[0]);
    /* the week of 2025-11-24 is six before the rotation's start: amara, bjorn, chen, dara */
    T_EQ_STR(at_str(j, "blocks.1.text.text"), "Paged chen of cdn-ops.");
    json_decref(j);
    T_EQ_INT(strncmp(r.bodies[1], "slack ", 6), 0);
    j = body_json(r.bodies[1]);
    T_EQ_STR(at_str(j, "text"),
             "[oncue] INC-1 opened SEV2: rebuffering_share in cdn=primary team cdn-ops");
    T_EQ_STR(at_str(j, "blocks.1.fields.0.text"), "*Severity*\nSEV2");
    T_EQ_STR(at_str(j, "blocks.1.fields.1.text"), "*State*\ntriggered");
    T_EQ_STR(at_str(j, "blocks.1.fields.2.text"), "*Owner*\ncdn-ops");
    T_EQ_STR(at_str(j, "blocks.1.fields.3.text"), "*Service*\ncdn-primary");
    T_EQ_STR(at_str(j, "blocks.1.fields.4.text"), "*On call*\nchen");
    T_EQ_STR(at_str(j, "blocks.1.fields.5.text"), "*Slice*\ncdn=primary");
    T_EQ_STR(at_str(j, "blocks.2.elements.0.url"), "https://oncue.example/#/incidents/INC-1");
    T_EQ_STR(at_str(j, "blocks.2.elements.1.text.text"), "Runbook");
    T_EQ_STR(at_str(j, "blocks.2.elements.1.url"), "https://runbooks.example.com/cdn-primary");
    T_EQ_STR(at_str(j, "blocks.2.elements.2.text.text"), "Status page");
    json_decref(j);

    T_EQ_INT(strncmp(r.bodies[2], "pd ", 3), 0);
    j = body_json(r.bodies[2]);
    T_EQ_STR(at_str(j, "payload.source"), "cdn-primary");
    T_EQ_STR(at_str(j, "payload.component"), "cdn-primary");
    T_EQ_STR(at_str(j, "payload.group"), "cdn-ops");
    T_EQ_STR(at_str(j, "payload.class"), "rebuffering_share");
    T_EQ_STR(at_str(j, "links.1.text"), "Runbook");
    T_EQ_STR(at_str(j, "links.1.href"), "https://runbooks.example.com/cdn-primary");
    json_decref(j);
    receiver_stop(&r);
    catalog_module.stop(&f.app, cat);
    fx_close(&f);
}

static void test_outbox_410_and_retry_after(void)
{
    struct fx f;
    struct receiver r;
    char url[96], err[64];
    int pending, delivered, failed;
    fx_open(&f);
    memset(&r, 0, sizeof(r));
    r.fail_first = 1;
    r.fail_code = 429;
    r.retry_after = 120;
    receiver_start(&r);
    struct incident_outbox *ob = incident_outbox(f.m);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", r.port);
    T_EQ_INT(incident_outbox_add_endpoint(ob, "g", "webhook", url, "whsec_c2VjcmV0", NULL), 0);
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08);
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 1); /* 429, Retry-After 120 */
    advance_s(&f, 119);
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 0); /* not the 5 s step */
    advance_s(&f, 1);
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 1);
    incident_outbox_counts(ob, &pending, &delivered, &failed);
    T_EQ_INT(delivered, 1);
    /* 410 Gone disables the endpoint and drops what it still had queued */
    r.fail_first = 100;
    r.fail_code = 410;
    r.retry_after = 0;
    T_EQ_INT(incident_ack(f.m, 1, "carol"), 0);
    T_EQ_INT(incident_status_update(f.m, 1, "c", "identified", "y", err, sizeof(err)), 0);
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock)), 1);
    json_t *eps = incident_outbox_endpoints_json(ob, 0);
    T_TRUE(json_is_integer(json_object_get(json_array_get(eps, 0), "disabled_at")));
    json_decref(eps);
    incident_outbox_counts(ob, &pending, &delivered, &failed);
    T_EQ_INT(pending, 0);
    T_EQ_INT(failed, 2);
    T_EQ_INT(r.requests, 3);
    fire(&f, "reb/NA", "{\"region\": \"NA\"}", "page", 0.08); /* nothing queued any more */
    T_EQ_INT(incident_outbox_deliver(ob, oc_clock_now_s(&f.clock) + 86400), 0);
    receiver_stop(&r);
    fx_close(&f);
}

/* --- status page and review --- */

static void test_status_json_shape(void)
{
    struct fx f;
    char err[256];
    fx_open(&f);
    fake.affected_share = 0.2;
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08);
    advance_s(&f, 120);
    T_EQ_INT(incident_status_update(f.m, 1, "erin", "investigating", "Buffering in Europe.", err,
                                    sizeof(err)),
             0);
    json_t *s = incident_status_json(f.m);
    T_TRUE(json_is_object(json_object_get(s, "page")));
    T_TRUE(json_is_array(json_object_get(s, "components")));
    T_EQ_STR(str(json_object_get(s, "status"), "indicator"), "major");
    json_t *inc = json_array_get(json_object_get(s, "incidents"), 0);
    T_EQ_STR(str(inc, "id"), "INC-1");
    T_EQ_STR(str(inc, "name"), "Buffering during playback in EMEA"); /* not the internal title */
    T_EQ_STR(str(inc, "status"), "investigating");
    T_EQ_STR(str(inc, "impact"), "major");
    json_t *u = json_array_get(json_object_get(inc, "incident_updates"), 0);
    T_EQ_STR(str(u, "body"), "Buffering in Europe.");
    T_EQ_STR(str(u, "created_at"), "2025-11-25T19:45:00Z");
    json_decref(s);
    char *html = incident_status_html(f.m);
    T_CONTAINS(html, "Buffering in Europe.");
    T_CONTAINS(html, "<h2>Buffering during playback in EMEA</h2>");
    T_CONTAINS(html, "<span>Video playback</span><span>Partial outage</span>");
    T_CONTAINS(html, "<h3 class=\"day\">2025-11-25</h3><p class=\"meta\">No incidents reported.</p>"
                     "<h3 class=\"day\">2025-11-24</h3>");
    T_TRUE(strstr(html, "<script src") == NULL);
    free(html);
    /* resolved, it leaves the summary and stays in the history with its updates */
    T_EQ_INT(incident_resolve(f.m, 1, "erin", 1, "synthetic check", err, sizeof(err)), 0);
    s = incident_status_doc(f.m, STATUS_UNRESOLVED);
    T_EQ_INT(json_array_size(json_object_get(s, "incidents")), 0);
    json_decref(s);
    s = incident_status_doc(f.m, STATUS_INCIDENTS);
    inc = json_array_get(json_object_get(s, "incidents"), 0);
    T_EQ_STR(str(inc, "id"), "INC-1");
    T_EQ_STR(str(inc, "status"), "resolved");
    T_EQ_STR(str(inc, "resolved_at"), "2025-11-25T19:45:00Z");
    T_EQ_STR(str(json_array_get(json_object_get(inc, "components"), 0), "name"), "Video playback");
    u = json_object_get(inc, "incident_updates"); /* newest first, a resolved one added */
    T_EQ_INT(json_array_size(u), 2);
    T_EQ_STR(str(json_array_get(u, 0), "id"), "INC-1-resolved");
    T_EQ_STR(str(json_array_get(u, 0), "status"), "resolved");
    T_EQ_STR(str(json_array_get(u, 1), "body"), "Buffering in Europe.");
    T_EQ_STR(str(json_array_get(u, 1), "incident_id"), "INC-1");
    json_decref(s);
    s = incident_status_doc(f.m, STATUS_STATUS);
    T_EQ_STR(str(json_object_get(s, "status"), "indicator"), "none");
    T_EQ_STR(str(json_object_get(s, "page"), "updated_at"), "2025-11-25T19:45:00Z");
    json_decref(s);
    html = incident_status_html(f.m);
    T_CONTAINS(html, "<h2 class=\"past\">Past incidents</h2>");
    T_CONTAINS(html, "resolved 2025-11-25T19:45:00Z");
    T_CONTAINS(html, "<h3 class=\"day\">2025-11-25</h3><section class=\"inc\" id=\"INC-1\">");
    T_CONTAINS(html, "<b>resolved</b> &mdash; This incident has been resolved.");
    T_CONTAINS(html, "<b>investigating</b> &mdash; Buffering in Europe.");
    T_CONTAINS(html,
               "<h3 class=\"day\">2025-11-12</h3><p class=\"meta\">No incidents reported.</p>");
    T_TRUE(strstr(html, "<h3 class=\"day\">2025-11-11") == NULL); /* 14 days */
    free(html);
    fx_close(&f);
}

static void o_sev_check(struct fx *f, const char *sev)
{
    json_t *o = get(f, 1);
    T_EQ_STR(str(o, "severity"), sev);
    json_decref(o);
}

/* The number of incidents summary.json shows. */
static int shown_count(struct fx *f)
{
    json_t *s = incident_status_json(f->m);
    int n = (int)json_array_size(json_object_get(s, "incidents"));
    json_decref(s);
    return n;
}

/* The text of incident id's last timeline entry of kind (static buffer; "" when none). */
static const char *tl_text(struct fx *f, int64_t id, const char *kind)
{
    static char out[512];
    json_t *o = get(f, id), *e;
    size_t i;
    out[0] = 0;
    json_array_foreach(json_object_get(o, "timeline"), i, e)
    {
        if (strcmp(str(e, "kind"), kind) == 0)
            snprintf(out, sizeof out, "%s", str(e, "text"));
    }
    json_decref(o);
    return out;
}

/* A new incident is a draft: a person publishes it, or its severity's rule once it has been
 * open incident.publish_sev2_after_s; never the rule for one a test alert opened. */
static void test_publish_gate(void)
{
    struct fx f;
    char err[256] = "";
    fx_open(&f);
    fake.affected_share = 0.2; /* SEV2 */
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08);
    T_EQ_INT(shown_count(&f), 0);
    json_t *o = get(&f, 1);
    T_EQ_STR(str(o, "severity"), "SEV2");
    T_TRUE(json_is_null(json_object_get(o, "published_at")));
    json_decref(o);
    advance_s(&f, 599);
    incident_tick(f.m);
    T_EQ_INT(shown_count(&f), 0);
    advance_s(&f, 1);
    incident_tick(f.m);
    T_EQ_INT(shown_count(&f), 1);
    T_EQ_STR(tl_text(&f, 1, "published"),
             "published on the status page by rule (SEV2 still open 600 s after it opened)");
    T_EQ_INT(incident_publish(f.m, 1, "erin", err, sizeof err), OC_ECONFLICT);
    T_EQ_STR(err, "already published by rule at 2025-11-25T19:53:00Z");
    /* a test alert's incident stays a draft until a person publishes it */
    json_t *p = json_pack("{s:s, s:s, s:s, s:{s:s}, s:f, s:f, s:s, s:s, s:b, s:s}", "alert_id",
                          "reb/NA", "rule", "rebuffering", "metric", "rebuffering_share", "slice",
                          "region", "NA", "value", 0.08, "threshold", 0.05, "op", ">", "level",
                          "page", "test", 1, "source", "manual");
    incident_on_event(f.m, "alert.fired", p);
    json_decref(p);
    advance_s(&f, 3600);
    incident_tick(f.m);
    o = get(&f, 2);
    T_TRUE(json_is_true(json_object_get(o, "test")));
    T_TRUE(json_is_null(json_object_get(o, "published_at")));
    json_decref(o);
    T_EQ_INT(incident_publish(f.m, 2, "erin", err, sizeof err), 0);
    T_EQ_STR(tl_text(&f, 2, "published"), "published on the status page by erin");
    o = get(&f, 2);
    T_EQ_STR(str(o, "published_by"), "erin");
    json_decref(o);
    /* an Alertmanager alert labelled test="true" is a test alert too */
    p = json_pack("{s:s, s:s, s:s, s:{s:s}, s:{s:s}, s:s, s:s}", "alert_id", "am/f00d", "rule",
                  "DrmDown", "metric", "DrmDown", "slice", "region", "LATAM", "labels", "test",
                  "true", "level", "page", "source", "alertmanager");
    incident_on_event(f.m, "alert.fired", p);
    json_decref(p);
    o = get(&f, 3);
    T_TRUE(json_is_true(json_object_get(o, "test")));
    json_decref(o);
    T_EQ_INT(incident_publish(f.m, 9, "erin", err, sizeof err), OC_ENOTFOUND);
    fx_close(&f);
}

/* A SEV3 waits for a person by default; a public status update is a person publishing. */
static void test_publish_sev3_by_update(void)
{
    struct fx f;
    char err[256] = "";
    fx_open(&f);
    fake.affected_share = 0.03; /* SEV3 */
    fake.viewer_visible = 1;
    fire(&f, "reb/isp", "{\"isp\": \"fibre-one\"}", "notify", 0.04);
    o_sev_check(&f, "SEV3");
    advance_s(&f, 86400);
    incident_tick(f.m);
    T_EQ_INT(shown_count(&f), 0);
    T_EQ_INT(incident_status_update(f.m, 1, "carol", "identified", "A fix is rolling out.", err,
                                    sizeof err),
             0);
    T_EQ_INT(shown_count(&f), 1);
    T_EQ_STR(tl_text(&f, 1, "published"),
             "published on the status page by carol with a public status update");
    fx_close(&f);
}

/* The day of uptime.json's first component at index d (borrowed). */
static json_t *uptime_day(json_t *up, int d)
{
    json_t *c = json_array_get(json_object_get(up, "components"), 0);
    return json_array_get(json_object_get(c, "days"), (size_t)d);
}

/* 90 days per component from the published incidents, split at UTC midnight; a draft does
 * not count; the percentage weighs a partial outage at 30%. */
static void test_uptime(void)
{
    struct fx f;
    char err[256];
    fx_open(&f);
    fake.affected_share = 0.2; /* SEV2: partial_outage */
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\"}", "page", 0.08);
    T_EQ_INT(incident_publish(f.m, 1, "erin", err, sizeof err), 0);
    advance_s(&f, 1800);
    T_EQ_INT(incident_resolve(f.m, 1, "erin", 1, "synthetic check", err, sizeof err), 0);
    fire(&f, "reb/NA", "{\"region\": \"NA\"}", "page", 0.08); /* a draft: not counted */
    T_EQ_INT(incident_resolve(f.m, 2, "erin", 1, "synthetic check", err, sizeof err), 0);
    json_t *up = incident_status_doc(f.m, STATUS_UPTIME);
    T_EQ_INT((int)json_integer_value(json_object_get(up, "days")), 90);
    json_t *c = json_array_get(json_object_get(up, "components"), 0);
    T_EQ_STR(str(c, "name"), "Video playback");
    T_EQ_INT((int)json_array_size(json_object_get(c, "days")), 90);
    T_EQ_STR(str(uptime_day(up, 0), "date"), "2025-08-28");
    T_EQ_STR(str(up, "observed_from"), "2025-11-25T19:43:00Z");
    /* the page started watching with the fixture, at 19:43 that day: the days before are not
     * claimed as up */
    T_EQ_STR(str(uptime_day(up, 0), "status"), "no_data");
    T_EQ_STR(str(uptime_day(up, 88), "status"), "no_data");
    T_EQ_STR(str(uptime_day(up, 89), "date"), "2025-11-25");
    T_EQ_STR(str(uptime_day(up, 89), "status"), "partial_outage");
    T_EQ_INT((int)json_integer_value(json_object_get(uptime_day(up, 89), "partial_outage_minutes")),
             30);
    /* 1 - 0.3 x 30 / 30 observed minutes: watched for half an hour, all of it partial */
    T_EQ_DBL(json_number_value(json_object_get(c, "uptime_percentage")), 70.0, 1e-9);
    json_decref(up);
    /* one across midnight: 10 minutes on each day */
    advance_s(&f, 3 * 3600 + 37 * 60); /* 23:50 */
    fire(&f, "reb/APAC", "{\"region\": \"APAC\"}", "page", 0.08);
    T_EQ_INT(incident_publish(f.m, 3, "erin", err, sizeof err), 0);
    advance_s(&f, 1200);
    T_EQ_INT(incident_resolve(f.m, 3, "erin", 1, "synthetic check", err, sizeof err), 0);
    up = incident_status_doc(f.m, STATUS_UPTIME);
    T_EQ_STR(str(uptime_day(up, 88), "date"), "2025-11-25");
    T_EQ_INT((int)json_integer_value(json_object_get(uptime_day(up, 88), "partial_outage_minutes")),
             40);
    T_EQ_STR(str(uptime_day(up, 89), "date"), "2025-11-26");
    T_EQ_INT((int)json_integer_value(json_object_get(uptime_day(up, 89), "partial_outage_minutes")),
             10);
    json_decref(up);
    char *html = incident_status_html(f.m);
    T_CONTAINS(html, "<span class=\"d partial_outage\" title=\"2025-11-26: partial outage 10 min\">"
                     "</span></div>");
    T_CONTAINS(html, "<span class=\"d no_data\" title=\"2025-08-29: no data (not watched yet)\">");
    /* 1 - 0.3 x (30 + 20) / 267 minutes watched (19:43 to 00:10) */
    T_CONTAINS(html, "<span>94.38 % uptime since 2025-11-25</span>"); /* younger than 90 days */
    free(html);
    fx_close(&f);
}

static void test_review_markdown(void)
{
    struct fx f;
    char *md = NULL;
    fx_open(&f);
    fake.affected_share = 0.12;
    fire(&f, "reb/EMEA", "{\"region\": \"EMEA\", \"cdn\": \"primary\"}", "page", 0.08);
    advance_s(&f, 120);
    incident_ack(f.m, 1, "carol");
    json_t *p = json_pack("{s:s, s:[{s:{s:s, s:s}, s:f}]}", "incident_id", "INC-1", "causes",
                          "element", "cdn", "primary", "region", "EMEA", "score", 0.93);
    (oc_bus_publish(f.bus, "rca.localized", p), oc_bus_drain(f.bus));
    json_decref(p);
    clear(&f, "reb/EMEA");
    advance_s(&f, 1800);
    incident_tick(f.m);
    T_EQ_INT(incident_review_md(f.m, 1, &md), 0);
    T_CONTAINS(md, "# Post-incident review: INC-1");
    T_CONTAINS(md, "## Timeline");
    T_CONTAINS(md, "19:45:00Z");
    T_CONTAINS(md, "acknowledged by carol");
    T_CONTAINS(md, "cdn=primary");
    T_CONTAINS(md, "12.0%");
    T_CONTAINS(md, "Time to acknowledge: 2 min");
    T_TRUE(strstr(md, "Who ") == NULL);
    free(md);
    json_t *rep = incident_report_json(f.m);
    json_t *sev = json_object_get(json_object_get(rep, "by_severity"), "SEV2");
    T_EQ_INT(json_integer_value(json_object_get(sev, "incidents")), 1);
    T_EQ_DBL(json_number_value(json_object_get(sev, "mtta_s")), 120, 0);
    T_EQ_DBL(json_number_value(json_object_get(sev, "mttr_s")), 1920, 0);
    T_EQ_DBL(json_number_value(json_object_get(sev, "ack_sla_met")), 1.0, 0); /* 2 min <= 15 */
    T_TRUE(json_is_null(json_object_get(sev, "mttm_s")));
    json_t *svc = json_object_get(json_object_get(rep, "by_service"), "(unrouted)");
    T_EQ_INT(json_integer_value(json_object_get(svc, "incidents")), 1);
    json_decref(rep);
    fx_close(&f);
}

/* --- merging duplicates by root cause --- */

/* Publishes alert.fired on metric for slice (JSON text), page level. */
static void fire_metric(struct fx *f, const char *id, const char *metric, const char *slice)
{
    json_t *p =
        json_pack("{s:s, s:s, s:s, s:o, s:f, s:f, s:s, s:s, s:I}", "alert_id", id, "rule", metric,
                  "metric", metric, "slice", json_loads(slice, 0, NULL), "value", 0.2, "threshold",
                  0.05, "op", ">", "level", "page", "at", (json_int_t)oc_clock_now_s(&f->clock));
    (oc_bus_publish(f->bus, "alert.fired", p), oc_bus_drain(f->bus));
    json_decref(p);
}

/* Publishes rca.localized for incident id with one cause element (JSON text). */
static void localized(struct fx *f, const char *id, const char *element)
{
    json_t *p = json_pack("{s:s, s:[{s:o, s:f}]}", "incident_id", id, "causes", "element",
                          json_loads(element, 0, NULL), "score", 0.9);
    (oc_bus_publish(f->bus, "rca.localized", p), oc_bus_drain(f->bus));
    json_decref(p);
}

static int merged_events;

static void count_merged(const char *topic, const json_t *p, void *arg)
{
    (void)arg;
    if (!strcmp(topic, "incident.merged") && !strcmp(str(p, "incident_id"), "INC-2") &&
        !strcmp(str(p, "into"), "INC-1") && !strcmp(str(p, "cause"), "live=true"))
        merged_events++;
}

/* The cause's owner is the team paged already: nobody is paged again, but the incident names
 * the service that serves the cause (one ISP's viewers on every CDN: isp-interconnect, not the
 * CDN whose page fired first); an incident opened by a service's own signal keeps its service. */
static void test_cause_names_service(void)
{
    struct fx f;
    void *cat = NULL;
    fx_open(&f);
    fake.affected_share = 0.30;
    T_EQ_INT(catalog_module.init(&f.app, &cat), 0); /* the example catalog */
    fire(&f, "reb/EMEA/primary", "{\"region\": \"EMEA\", \"cdn\": \"primary\"}", "page", 0.08);
    json_t *a = get(&f, 1);
    T_EQ_STR(str(a, "service"), "cdn-primary");
    T_EQ_STR(str(a, "team"), "cdn-ops");
    int pages = count_kind(json_object_get(a, "timeline"), "page", NULL);
    json_decref(a);
    localized(&f, "INC-1", "{\"isp\": \"vodafone-de\"}");
    a = get(&f, 1);
    T_EQ_STR(str(a, "service"), "isp-interconnect");
    T_EQ_STR(str(a, "team"), "cdn-ops");
    T_EQ_INT(count_kind(json_object_get(a, "timeline"), "page", NULL), pages); /* not again */
    T_EQ_INT(count_kind(json_object_get(a, "timeline"), "route",
                        "service isp-interconnect owns it (team cdn-ops, paged already)"),
             1);
    json_decref(a);
    localized(&f, "INC-1", "{\"isp\": \"vodafone-de\"}"); /* the same again: no new line */
    a = get(&f, 1);
    T_EQ_INT(count_kind(json_object_get(a, "timeline"), "route", NULL), 1);
    json_decref(a);
    catalog_module.stop(&f.app, cat);
    fx_close(&f);
}

/* An incident whose root cause is the one of an older open incident is a duplicate: its
 * alerts join the older one (whose slice widens), it is resolved as merged, and it says so.
 * An incident with another cause stays its own. */
static void test_merge_by_cause(void)
{
    struct fx f;
    fx_open(&f);
    merged_events = 0;
    oc_bus_subscribe(f.bus, "incident.merged", count_merged, NULL);
    fake.affected_share = 0.30;
    fire_metric(&f, "reb/NA", "rebuffering_share", "{\"region\": \"NA\"}");
    localized(&f, "INC-1", "{\"live\": \"true\"}");
    advance_s(&f, 180);
    fire_metric(&f, "ebvs/EMEA", "ebvs_rate", "{\"region\": \"EMEA\"}");
    fire_metric(&f, "vsf/APAC", "vsf_rate", "{\"region\": \"APAC\"}");
    json_t *b = get(&f, 2), *c = get(&f, 3);
    T_EQ_STR(str(b, "state"), "triggered"); /* other metrics, other regions: opened */
    T_EQ_STR(str(c, "state"), "triggered");
    json_decref(b);
    json_decref(c);
    localized(&f, "INC-3", "{\"drm\": \"playready\"}"); /* another cause: no merge */
    localized(&f, "INC-2", "{\"live\": \"true\"}");
    json_t *a = get(&f, 1);
    b = get(&f, 2);
    c = get(&f, 3);
    T_EQ_STR(str(b, "state"), "resolved");
    T_EQ_STR(str(a, "state"), "triggered");
    T_EQ_STR(str(c, "state"), "triggered");
    T_EQ_INT(json_array_size(json_object_get(a, "alerts")), 2);
    T_EQ_INT(json_object_size(json_object_get(a, "slice")), 0); /* NA and EMEA: widened */
    T_EQ_INT(count_kind(json_object_get(a, "timeline"), "merge",
                        "INC-2 (ebvs_rate in region=EMEA) merged into this incident: same root "
                        "cause live=true; 1 alert(s) joined"),
             1);
    T_EQ_INT(count_kind(json_object_get(b, "timeline"), "merge",
                        "merged into INC-1: same root cause live=true"),
             1);
    T_EQ_INT(merged_events, 1);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    /* the EMEA alert now lives in INC-1: it refreshes there */
    int64_t holder = 0;
    T_EQ_INT(incident_find_alert(f.m, "ebvs/EMEA", &holder), 0);
    T_EQ_INT((int)holder, 1);
    oc_bus_unsubscribe(f.bus, count_merged, NULL);
    fx_close(&f);
}

/* The public name lists the regions the alerts' group keys name, once each, in order. */
static void test_public_name_regions(void)
{
    struct fx f;
    fx_open(&f);
    fake.affected_share = 0.2;
    fire(&f, "reb-region/region=NA", "{}", "page", 0.08);
    fire(&f, "reb-cdn/region=EMEA,cdn=primary", "{}", "page", 0.09);
    fire(&f, "reb-cdn/region=NA,cdn=secondary", "{}", "page", 0.07);
    char err[128];
    T_EQ_INT(incident_publish(f.m, 1, "erin", err, sizeof err), 0);
    json_t *s = incident_status_json(f.m);
    json_t *inc = json_array_get(json_object_get(s, "incidents"), 0);
    T_EQ_INT(json_array_size(json_object_get(s, "incidents")), 1);
    T_EQ_STR(str(inc, "name"), "Buffering during playback in NA, EMEA");
    json_decref(s);
    fx_close(&f);
}

/* Slack reads the text fallback as mrkdwn, like the blocks: &, < and > are escaped there
 * too; the header is plain text and keeps them. */
static void test_slack_escapes_fallback(void)
{
    struct inc_msg msg;
    memset(&msg, 0, sizeof msg);
    msg.topic = "incident.opened";
    json_t *p = json_pack("{s:s}", "incident_id", "INC-7");
    msg.payload = p;
    msg.found = 1;
    snprintf(msg.id, sizeof msg.id, "INC-7");
    snprintf(msg.severity, sizeof msg.severity, "SEV2");
    snprintf(msg.title, sizeof msg.title, "vsf_rate > 5%% & <b>");
    json_t *b = inc_msg_body("slack", &msg, 1772480000);
    T_TRUE(b != NULL);
    const char *text = json_string_value(json_object_get(b, "text"));
    T_TRUE(text && strstr(text, "vsf_rate &gt; 5% &amp; &lt;b&gt;") != NULL);
    const char *head = json_string_value(json_object_get(
        json_object_get(json_array_get(json_object_get(b, "blocks"), 0), "text"), "text"));
    T_TRUE(head && strstr(head, "vsf_rate > 5% & <b>") != NULL);
    json_decref(b);
    json_decref(p);
}

/* The residual rule by value (explain.c): {slice num, slice den, rest num, rest den}. */
static void test_residual_verdict(void)
{
    /* a PlayReady outage on smart TVs and a TV player's build: the TVs take the excess with
     * them; a dozen starts left with 3 failures is not significant: explained */
    const double tv[4] = {90, 200, 3, 12};
    T_EQ_INT(inc_residual_verdict(tv, 0.10, 0, NAN, 1), 1);
    /* an ExoPlayer build's failures and the Vodafone-DE incident: the ISP's viewers hold 2 of
     * its 40 starts; the rest fails as much (z 1.73 < 2, but the cause took a fifth of the
     * excess): not explained (it was, and the build joined the ISP's incident) */
    const double build[4] = {8, 40, 7, 38};
    T_EQ_INT(inc_residual_verdict(build, 0.10, 0, NAN, 1), 0);
    /* the same residual, with the cause having taken most of the excess: explained */
    const double most[4] = {20, 60, 7, 38};
    T_EQ_INT(inc_residual_verdict(most, 0.10, 0, NAN, 1), 1);
    /* back on the good side without the cause: explained, whatever the share */
    const double back[4] = {8, 40, 3, 38};
    T_EQ_INT(inc_residual_verdict(back, 0.10, 0, NAN, 1), 1);
    /* a significant residual is not explained even when the cause took most of the excess */
    const double sig[4] = {400, 1000, 40, 200};
    T_EQ_INT(inc_residual_verdict(sig, 0.10, 0, NAN, 1), 0);
    /* all the slice's traffic is the cause's */
    const double all[4] = {8, 40, 0, 0};
    T_EQ_INT(inc_residual_verdict(all, 0.10, 0, NAN, 1), 1);
    /* a metric whose good side is above (op "<"): the mirror of build */
    const double low[4] = {32, 40, 31, 38};
    T_EQ_INT(inc_residual_verdict(low, 0.90, 1, NAN, 1), 0);
    /* not a ratio of counts: no benefit of the doubt */
    T_EQ_INT(inc_residual_verdict(tv, 0.10, 0, NAN, 0), 0);
    /* a burn rate scales with the metric: 14.4 x (3/12) / (90/200) = 8 > 6 */
    T_EQ_INT(inc_residual_verdict(tv, 6, 0, 14.4, 1), 0);
    T_EQ_INT(inc_residual_verdict(tv, 10, 0, 14.4, 1), 1);
}

static const struct t_case cases[] = {
    T_CASE(test_residual_verdict),
    T_CASE(test_grid_table),
    T_CASE(test_publish_gate),
    T_CASE(test_publish_sev3_by_update),
    T_CASE(test_uptime),
    T_CASE(test_open_join_separate),
    T_CASE(test_default_owner),
    T_CASE(test_alertmanager_service_label),
    T_CASE(test_reclassify_upward),
    T_CASE(test_recovery_window),
    T_CASE(test_refire_resets_recovery),
    T_CASE(test_forced_resolve_needs_reason),
    T_CASE(test_ack_roles_timeline_append_only),
    T_CASE(test_restart_keeps_incidents),
    T_CASE(test_comms_reminders),
    T_CASE(test_mitigation_followup),
    T_CASE(test_webhook_vectors),
    T_CASE(test_webhook_rotation),
    T_CASE(test_outbox_retry_schedule),
    T_CASE(test_outbox_refuses_loopback),
    T_CASE(test_outbox_kinds),
    T_CASE(test_outbox_service_routed),
    T_CASE(test_outbox_410_and_retry_after),
    T_CASE(test_status_json_shape),
    T_CASE(test_review_markdown),
    T_CASE(test_merge_by_cause),
    T_CASE(test_cause_names_service),
    T_CASE(test_public_name_regions),
    T_CASE(test_slack_escapes_fallback),
    {0},
};

T_MAIN(cases)
