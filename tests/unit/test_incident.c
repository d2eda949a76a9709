/*
 * test_incident.c - unit tests of the incident lifecycle on the virtual clock: the severity
 * grid by value, grouping of alerts by slice overlap, the default owner, upward
 * re-classification, the resolve rule (29 minutes do not resolve, 30 do), forced resolve,
 * roles and the append-only timeline, restart, comms reminders, mitigation follow-ups,
 * merging duplicates by root cause and the residual rule. What goes out (webhooks, the
 * outbox) is in test_incident_outbox.c; the status page and the review in test_incident_status.c.
 */
#include "t_incident.h"
#include "catalog/catalog.h"
#include "incident/incident_int.h"
#include "core/err.h"

#include <math.h>

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

/* A beacons' incident opened while a service's own incident is open is held (nobody paged)
 * until rca names its cause; when that cause is the service's, it merges at once, never
 * routed: it then names the owner of the incident it joined, not nobody. */
static void test_held_merge_names_owner(void)
{
    struct fx f;
    void *cat = NULL;
    fx_open(&f);
    fake.affected_share = 0.30;
    T_EQ_INT(catalog_module.init(&f.app, &cat), 0); /* the example catalog */
    fire_metric(&f, "scrape/drm", "playready_errors", "{\"service\": \"drm-license\"}");
    json_t *a = get(&f, 1);
    T_EQ_STR(str(a, "team"), "drm");
    json_decref(a);
    advance_s(&f, 30);
    fire_metric(&f, "vsf/region=NA", "vsf_rate", "{\"device\": \"smart_tv\"}");
    json_t *b = get(&f, 2);
    T_EQ_STR(str(b, "team"), ""); /* held: not routed, nobody paged */
    T_EQ_INT(count_kind(json_object_get(b, "timeline"), "page", "page held until"), 1);
    T_EQ_INT(count_kind(json_object_get(b, "timeline"), "page", "paged team"), 0);
    json_decref(b);
    localized(&f, "INC-2", "{\"device\": \"smart_tv\", \"drm\": \"playready\"}");
    b = get(&f, 2);
    T_EQ_STR(str(b, "state"), "resolved");
    T_EQ_STR(str(b, "merged_into"), "INC-1");
    T_EQ_STR(str(b, "team"), "drm");
    T_EQ_STR(str(b, "service"), "drm-license");
    T_EQ_INT(count_kind(json_object_get(b, "timeline"), "page", "paged team"), 0); /* nobody */
    json_decref(b);
    /* one fault, one public incident: the merged one is not published, nor updated publicly */
    char err[128];
    T_EQ_INT(incident_publish(f.m, 2, "erin", err, sizeof err), OC_ECONFLICT);
    T_EQ_STR(err, "merged into INC-1: publish that incident");
    T_EQ_INT(incident_status_update(f.m, 2, "erin", "investigating", "Looking.", err, sizeof err),
             OC_ECONFLICT);
    T_EQ_STR(err, "merged into INC-1: post public updates there");
    /* on the status page the service's incident is named by what its viewers saw */
    T_EQ_INT(incident_publish(f.m, 1, "erin", err, sizeof err), 0);
    json_t *s = incident_status_doc(f.m, STATUS_SUMMARY);
    T_EQ_STR(str(json_array_get(json_object_get(s, "incidents"), 0), "name"),
             "Videos failing to start in NA");
    json_decref(s);
    catalog_module.stop(&f.app, cat);
    fx_close(&f);
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

/* An incident whose alerts are all about starting counts the viewers failing to start in its
 * slice, not those rebuffering there (the DRM incident of a demo took the live stall's 37.9%
 * as its peak); one about rebuffering counts those rebuffering; the measured mix is kept
 * when the alerts are of both kinds or of neither. */
static void test_impact_by_kind(void)
{
    struct fx f;
    fx_open(&f);
    fake = (struct incident_impact){.affected_share = 0.4,
                                    .viewers = 4000,
                                    .viewer_visible = 1,
                                    .slice_share = 0.5,
                                    .slice_viewers = 10000,
                                    .rebuffering = 0.8,
                                    .failing = 0.1};
    fire_metric(&f, "vsf/NA", "vsf_rate", "{\"region\": \"NA\"}");
    json_t *o = get(&f, 1);
    T_EQ_DBL(json_number_value(json_object_get(o, "peak_share")), 0.05, 1e-12); /* 0.5 x 0.1 */
    json_decref(o);
    advance_s(&f, 60);
    fire_metric(&f, "reb/EU", "rebuffering_share", "{\"region\": \"EU\"}");
    o = get(&f, 2);
    T_EQ_DBL(json_number_value(json_object_get(o, "peak_share")), 0.4, 1e-12); /* 0.5 x 0.8 */
    json_decref(o);
    advance_s(&f, 60);
    fire_metric(&f, "probe/x", "probe_stale", "{\"region\": \"AP\"}");
    o = get(&f, 3);
    T_EQ_DBL(json_number_value(json_object_get(o, "peak_share")), 0.4, 1e-12); /* as measured */
    json_decref(o);
    fx_close(&f);
}

static const struct t_case cases[] = {
    T_CASE(test_impact_by_kind),
    T_CASE(test_residual_verdict),
    T_CASE(test_grid_table),
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
    T_CASE(test_merge_by_cause),
    T_CASE(test_held_merge_names_owner),
    T_CASE(test_cause_names_service),
    {0},
};

T_MAIN(cases)
