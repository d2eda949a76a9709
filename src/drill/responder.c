/*
 * responder.c - what happens on the drill's bus, and the scripted responder. The drill
 * listens like any subscriber (alert.fired, incident.*, mitigation.applied), plays the rca
 * module's hook (localize on incident.opened, publish rca.localized), counts what reaches the
 * in-process notification sink, and acts as the paged engineer: acknowledge, take command,
 * announce, then run the runbook's mitigation for the named cause through steer.
 */
#include "drill/drill_int.h"
#include "core/topics.h"

#include "core/bus.h"
#include "core/err.h"
#include "core/log.h"
#include "incident/incident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Topics delivered to the in-process notification sink. */
static const char *const sink_topics[] = {OC_TOPIC_INCIDENT_PAGE, OC_TOPIC_INCIDENT_ACKNOWLEDGED,
                                          OC_TOPIC_INCIDENT_STATUS_UPDATE,
                                          OC_TOPIC_INCIDENT_RESOLVED, NULL};

/* With --verbose: "[+SECONDS] what a" on stderr, seconds from the fault's start. */
static void log_progress(struct drill *d, const char *what, const char *a)
{
    if (d->o->verbose)
        fprintf(stderr, "[%+6llds] %s%s\n",
                (long long)(oc_clock_now_s(&d->clk) - d->sc->fault_start), what, a);
}

json_t *drill_command_request(const struct drill_host *h, const char *cmd, char *err, size_t errlen)
{
    char buf[DRILL_MAX_TEXT], *argv[32], *save = NULL;
    int argc = 0;
    json_t *req = NULL;
    snprintf(buf, sizeof(buf), "%s", cmd);
    for (char *t = strtok_r(buf, " ", &save); t && argc < 32; t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    if (argc < 3 || strcmp(argv[0], "oncue") != 0 || strcmp(argv[1], "mitigate") != 0) {
        snprintf(err, errlen, "not an `oncue mitigate KIND ...` command: %s", cmd);
        return NULL;
    }
    /* the command's own option table reads it, as `oncue mitigate` would */
    return h->request(argc - 2, argv + 2, &req, err, errlen) == 0 ? req : NULL;
}

/* Writes the filled runbook onto the incident's timeline as one note. */
static void runbook_note(struct drill *d, const struct drill_runbook *rb, const json_t *vars)
{
    struct oc_buf b;
    oc_buf_init(&b, INCIDENT_MAX_TEXT - 1);
    drill_runbook_render(rb, vars, &b);
    if (b.data)
        incident_note(d->m, d->inc_id, DRILL_ACTOR, b.data);
    oc_buf_free(&b);
}

/* Runs the command through steer; on success announces it. */
static void run_command(struct drill *d, const char *cmd, const json_t *vars)
{
    char err[256] = "", body[INCIDENT_MAX_TEXT];
    json_t *rec = NULL, *req = drill_command_request(d->o->host, cmd, err, sizeof(err));
    if (req)
        json_object_set_new(req, "reason", json_string(d->inc_name));
    if (!req || d->o->host->mitigate(&d->app, req, DRILL_ACTOR, &rec, err, sizeof(err)) != 0) {
        snprintf(body, sizeof(body), "mitigation failed: %s: %s", cmd, err);
        incident_note(d->m, d->inc_id, DRILL_ACTOR, body);
        log_progress(d, "", body);
    } else {
        snprintf(d->sc->mitigation, sizeof(d->sc->mitigation), "%s", cmd);
        snprintf(body, sizeof(body),
                 "Identified: %s. Mitigation in place (%s); players follow within one steering "
                 "TTL (%d s). We are monitoring.",
                 json_string_value(json_object_get(vars, "cause")), cmd, DRILL_TTL_S);
        incident_status_update(d->m, d->inc_id, DRILL_ACTOR, "identified", body, err, sizeof(err));
        d->last_update = oc_clock_now_s(&d->clk);
        log_progress(d, "responder ran: ", cmd);
    }
    json_decref(req);
    json_decref(rec);
}

/* The runbook's mitigate step for the first incident, with the causes it has now. 1 when
 * done (a command ran, automatic steering acts, or no runbook covers it), 0 when no command
 * fits the cause known so far and last is 0: the responder tries again each second (an
 * incident opened by a probe takes the beacons' cause minutes later). */
static int mitigate(struct drill *d, int last)
{
    struct drill_runbook rb;
    struct oc_buf cmd;
    json_t *inc = NULL, *vars;
    char note[INCIDENT_MAX_TEXT];
    int done = 1;
    if (incident_get_json(d->m, d->inc_id, &inc) != 0)
        return 1;
    vars = drill_incident_vars(&d->app, d->o->host, inc);
    oc_buf_init(&cmd, DRILL_MAX_TEXT - 1);
    if (drill_runbook_for_metric(d->metric_name, &rb) != 0) {
        snprintf(note, sizeof(note), "no runbook covers %s", d->metric_name);
        incident_note(d->m, d->inc_id, DRILL_ACTOR, note);
    } else {
        /* with --auto-mitigate, automatic steering acts; the responder follows the runbook */
        int fits = !d->o->auto_mitigate && drill_runbook_command(&rb, vars, &cmd) == 0;
        done = fits || d->o->auto_mitigate || last;
        if (done)
            runbook_note(d, &rb, vars);
        if (fits)
            run_command(d, cmd.data, vars);
        else if (done && !d->o->auto_mitigate) {
            snprintf(note, sizeof(note), "runbook %s: no mitigation command fits the cause %s",
                     rb.kind, json_string_value(json_object_get(vars, "cause")));
            incident_note(d->m, d->inc_id, DRILL_ACTOR, note);
        }
        drill_runbook_free(&rb);
    }
    oc_buf_free(&cmd);
    json_decref(vars);
    json_decref(inc);
    return done;
}

/* Acknowledges the page, takes command and posts the first status update. */
static void acknowledge(struct drill *d, int64_t now_s)
{
    char err[200], body[INCIDENT_MAX_TEXT];
    d->sc->acked_at = d->last_update = now_s;
    incident_ack(d->m, d->inc_id, DRILL_ACTOR);
    incident_role(d->m, d->inc_id, DRILL_ACTOR, "commander", DRILL_ACTOR, err, sizeof(err));
    snprintf(body, sizeof(body),
             "We are investigating degraded playback (%s) for some viewers. Next update within "
             "15 minutes.",
             d->metric_name);
    incident_status_update(d->m, d->inc_id, DRILL_ACTOR, "investigating", body, err, sizeof(err));
    log_progress(d, "responder acknowledged ", d->inc_name);
}

/* The update the responder promised every 15 minutes while the incident is open. */
static void periodic_update(struct drill *d, int64_t now_s)
{
    char err[200], body[INCIDENT_MAX_TEXT];
    double v = drill_meter_ratio(d, now_s - 60);
    d->last_update = now_s;
    if (d->sc->mitigated_at)
        snprintf(body, sizeof(body),
                 "Mitigation in place; %s over the last minute: %.2f%%. Monitoring until the "
                 "metrics hold inside their bands for the recovery window.",
                 d->sc->metric, v * 100);
    else
        snprintf(body, sizeof(body), "Still investigating; %s over the last minute: %.2f%%.",
                 d->sc->metric, v * 100);
    incident_status_update(d->m, d->inc_id, DRILL_ACTOR,
                           d->sc->mitigated_at ? "monitoring" : "investigating", body, err,
                           sizeof(err));
}

void drill_responder_tick(struct drill *d, int64_t now_s)
{
    drill_sources_note(d);
    if (!d->inc_id || !d->sc->paged_at)
        return;
    if (!d->sc->acked_at && now_s >= d->sc->paged_at + DRILL_ACK_S)
        acknowledge(d, now_s);
    if (d->sc->acked_at && !d->tried && now_s >= d->sc->acked_at + DRILL_ACT_S)
        d->tried = mitigate(d, now_s >= d->sc->acked_at + DRILL_ACT_S + DRILL_CAUSE_WAIT_S);
    if (d->sc->acked_at && !d->inc_resolved && now_s >= d->last_update + DRILL_UPDATE_S)
        periodic_update(d, now_s);
}

/* incident.opened: the first incident is the drill's. */
static void on_opened(struct drill *d, const json_t *p)
{
    struct oc_ev_incident_opened ev;
    if (oc_ev_incident_opened_read(p, &ev) != 0)
        return;
    d->sc->incidents_opened++;
    d->open_incidents++;
    log_progress(d, "incident opened: ", ev.title);
    if (!d->inc_id && incident_id_parse(ev.incident_id, &d->inc_id) == 0) { /* the drill's */
        snprintf(d->inc_name, sizeof(d->inc_name), "%s", ev.incident_id);
        snprintf(d->metric_name, sizeof(d->metric_name), "%s", ev.metric);
        d->sc->declared_at = ev.at;
    }
}

/* rca.localized for the drill's incident (the rca module localizes every incident). */
static void on_localized(struct drill *d, const json_t *p)
{
    struct oc_ev_rca ev;
    const json_t *v;
    size_t i;
    if (d->rca || !d->inc_id || oc_ev_rca_read(p, &ev) != 0 ||
        strcmp(ev.incident_id, d->inc_name) != 0)
        return;
    json_array_foreach(ev.causes, i, v)
        json_array_append(d->sc->cause, json_object_get(v, "element"));
    d->rca = json_deep_copy(p);
}

/* mitigation.applied: when the first one took effect, and what it was. */
static void on_mitigation(struct drill *d, const json_t *p)
{
    struct oc_ev_mitigation mi;
    if (d->sc->mitigated_at)
        return;
    d->sc->mitigated_at = oc_clock_now_s(&d->clk);
    oc_ev_mitigation_read(p, &mi);
    if (!d->sc->mitigation[0])
        snprintf(d->sc->mitigation, sizeof(d->sc->mitigation),
                 "oncue mitigate %s --region %s --from %s --to %s (by %s)", mi.kind,
                 json_string_value(json_object_get(mi.spec, "region")),
                 json_string_value(json_object_get(mi.spec, "from")),
                 json_string_value(json_object_get(mi.spec, "to")), mi.actor);
}

/* alert.fired: detection is the first viewer-visible alert (not a backlog-level one, which
 * only feeds dashboards) at or after the fault's start. */
static void on_alert(struct drill *d, const json_t *p)
{
    int64_t now = oc_clock_now_s(&d->clk);
    struct oc_ev_alert ev;
    oc_ev_alert_read(p, &ev);
    log_progress(d, "alert fired: ", ev.alert_id);
    if (strcmp(ev.level, "backlog") == 0)
        d->sc->alerts_backlog++;
    else if (strcmp(ev.level, "notify") == 0)
        d->sc->alerts_notify++;
    else
        d->sc->alerts_page++;
    if (!d->truth || !d->truth->expect_incident) /* healthy traffic or noise: false alarms */
        drill_reason(d->sc, "alert %s fired at %s level (%.4g against %.4g)", ev.alert_id,
                     ev.level[0] ? ev.level : "page", ev.value, ev.threshold);
    int finding = ev.source && (!strcmp(ev.source, "probe") || !strcmp(ev.source, "scrape"));
    if (!d->sc->detected_at && now >= d->sc->fault_start && ev.level[0] &&
        strcmp(ev.level, "backlog") != 0)
        d->sc->detected_at = now;
    if (!finding && !d->sc->beacon_alert_at && now >= d->sc->fault_start && ev.level[0] &&
        strcmp(ev.level, "backlog") != 0)
        d->sc->beacon_alert_at = now;
}

/* 1 when an incident event is about the drill's incident (or comes before any opened). */
static int is_ours(const struct drill *d, const struct oc_ev_incident *ev)
{
    return ev->incident_id[0] && (!d->inc_id || strcmp(ev->incident_id, d->inc_name) == 0);
}

/* The incident.* topics other than opened. */
static void on_incident(struct drill *d, const char *topic, const json_t *p)
{
    struct oc_ev_incident ev;
    oc_ev_incident_read(p, &ev);
    if (strcmp(topic, OC_TOPIC_INCIDENT_RESOLVED) == 0) {
        d->open_incidents--;
        d->inc_resolved |= is_ours(d, &ev);
    } else if (strcmp(topic, OC_TOPIC_INCIDENT_MERGED) == 0) {
        d->sc->incidents_merged++;
        log_progress(d, "incident merged: ", ev.incident_id);
    } else if (strcmp(topic, OC_TOPIC_INCIDENT_PAGE) == 0 && !d->sc->paged_at && is_ours(d, &ev)) {
        d->sc->paged_at = ev.at;
        snprintf(d->sc->paged, sizeof(d->sc->paged), "%s", ev.team);
        log_progress(d, "paged team ", d->sc->paged);
    }
}

static void on_event(const char *topic, const json_t *p, void *arg)
{
    struct drill *d = arg;
    for (const char *const *t = sink_topics; *t; t++)
        if (strcmp(*t, topic) == 0)
            d->sc->notifications++;
    if (strcmp(topic, OC_TOPIC_ALERT_FIRED) == 0)
        on_alert(d, p);
    else if (strcmp(topic, OC_TOPIC_INCIDENT_OPENED) == 0)
        on_opened(d, p);
    else if (strcmp(topic, OC_TOPIC_RCA_LOCALIZED) == 0)
        on_localized(d, p);
    else if (strcmp(topic, OC_TOPIC_MITIGATION_APPLIED) == 0)
        on_mitigation(d, p);
    else if (strncmp(topic, "incident.", 9) == 0)
        on_incident(d, topic, p);
}

/* Topics the drill listens to. */
static const char *const drill_topics[] = {OC_TOPIC_ALERT_FIRED,
                                           OC_TOPIC_INCIDENT_OPENED,
                                           OC_TOPIC_INCIDENT_PAGE,
                                           OC_TOPIC_INCIDENT_ACKNOWLEDGED,
                                           OC_TOPIC_INCIDENT_STATUS_UPDATE,
                                           OC_TOPIC_INCIDENT_RESOLVED,
                                           OC_TOPIC_INCIDENT_MERGED,
                                           OC_TOPIC_MITIGATION_APPLIED,
                                           OC_TOPIC_RCA_LOCALIZED,
                                           NULL};

void drill_subscribe(struct drill *d)
{
    for (const char *const *t = drill_topics; *t; t++)
        oc_bus_subscribe(d->bus, *t, on_event, d);
}

void drill_unsubscribe(struct drill *d)
{
    oc_bus_unsubscribe(d->bus, on_event, d);
}
