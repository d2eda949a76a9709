/*
 * test_incident_status.c - the public face of incidents on the virtual clock: the status page
 * JSON's shape, the publish gate (drafts, a person, the severity's rule), a SEV3 published by
 * a status update, 90 days of uptime per component, the public name's regions, and the
 * post-incident review with the report by severity.
 */
#include "t_incident.h"
#include "core/err.h"

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
    /* appearing on the page is a change viewers see: the page's and the incident's
     * updated_at are the publication's time (its one update), not the opening's */
    json_t *sj = incident_status_doc(f.m, STATUS_SUMMARY);
    T_EQ_STR(str(json_object_get(sj, "page"), "updated_at"), "2025-11-25T19:53:00Z");
    json_t *pi = json_array_get(json_object_get(sj, "incidents"), 0);
    T_EQ_STR(str(pi, "created_at"), "2025-11-25T19:43:00Z");
    T_EQ_STR(str(pi, "updated_at"), "2025-11-25T19:53:00Z");
    T_EQ_STR(str(json_array_get(json_object_get(pi, "incident_updates"), 0), "created_at"),
             "2025-11-25T19:53:00Z");
    json_decref(sj);
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

static const struct t_case cases[] = {
    T_CASE(test_publish_gate),
    T_CASE(test_publish_sev3_by_update),
    T_CASE(test_uptime),
    T_CASE(test_status_json_shape),
    T_CASE(test_review_markdown),
    T_CASE(test_public_name_regions),
    {0},
};

T_MAIN(cases)
