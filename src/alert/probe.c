/*
 * probe.c - the prober's findings as alerts: probe.failed and probe.recovered (src/probe/) become
 * alert.fired and alert.resolved like any other alert, so a stalled manifest opens (or joins)
 * an incident, routed by the stream's catalog service, before the viewers' beacons move.
 *
 * alert_id "probe/STREAM/KIND", rule and metric "probe_KIND", source "probe", an empty QoE
 * slice and the finding in labels (service, stream, kind, pathway), as an Alertmanager alert
 * carries its labels: incident adds labels.service to the slice and groups by service. Kinds
 * that leave viewers without video page; the others (two origins disagreeing, a segment
 * longer than the target duration, ...) notify.
 */
#include "alert/alert.h"
#include "core/topics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Findings that stop playback for the viewers of the stream. */
static const char *const paging[] = {"stale",           "unreachable", "http_status",
                                     "segment_missing", "parse_error", "publish_time_stale",
                                     "went_back",       NULL};

static const char *str(const json_t *p, const char *k)
{
    const char *s = json_string_value(json_object_get(p, k));
    return s ? s : "";
}

json_t *alert_probe_translate(const char *topic, const json_t *p, const char **out_topic)
{
    char id[256], rule[64], summary[SLO_TEXT_MAX];
    const char *stream = str(p, "stream"), *kind = str(p, "kind"), *level = "notify";
    int failed = strcmp(topic, OC_TOPIC_PROBE_FAILED) == 0;
    if (!json_is_object(p) || !stream[0] || !kind[0] ||
        (!failed && strcmp(topic, OC_TOPIC_PROBE_RECOVERED) != 0))
        return NULL;
    for (int i = 0; paging[i]; i++)
        if (strcmp(kind, paging[i]) == 0)
            level = "page";
    snprintf(id, sizeof id, "probe/%.120s/%.60s", stream, kind);
    snprintf(rule, sizeof rule, "probe_%.50s", kind);
    snprintf(summary, sizeof summary, "%.60s: %.40s: %s", stream, kind, str(p, "detail"));
    json_t *labels =
        json_pack("{s:s, s:s, s:s}", "alertname", rule, "stream", stream, "kind", kind);
    if (str(p, "service")[0])
        json_object_set_new(labels, "service", json_string(str(p, "service")));
    if (str(p, "pathway")[0])
        json_object_set_new(labels, "pathway", json_string(str(p, "pathway")));
    json_t *slice = json_object();
    int64_t at = json_integer_value(json_object_get(p, "at")); /* unix seconds */
    int64_t since = failed ? at : json_integer_value(json_object_get(p, "since"));
    struct oc_ev_alert ev = {.alert_id = id,
                             .rule = rule,
                             .metric = rule,
                             .level = level,
                             .source = "probe",
                             .kind = "probe",
                             .op = ">",
                             .summary = summary,
                             .slice = slice,
                             .labels = labels,
                             .value = NAN,
                             .threshold = NAN,
                             .since = since,
                             .at = at};
    json_t *out = oc_ev_alert_build(&ev);
    json_decref(slice);
    json_decref(labels);
    *out_topic = failed ? OC_TOPIC_ALERT_FIRED : OC_TOPIC_ALERT_RESOLVED;
    return out;
}
