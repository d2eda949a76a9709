/*
 * am.c - Prometheus Alertmanager webhook intake: translates a v4 webhook body (version,
 * status, alerts[] with status, labels, annotations, startsAt, endsAt, fingerprint) into the
 * same alert.fired / alert.resolved payloads the engine publishes, with source
 * "alertmanager", alert_id "am/<fingerprint>", an empty slice (the labels ride along in
 * labels, out of the QoE slice) and the level from label severity.
 */
#include "alert/alert.h"
#include "core/topics.h"
#include "core/err.h"
#include "core/timefmt.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AM_MAX_ID 128 /* bytes of a fingerprint */

/* Parses RFC 3339 ("2026-03-02T19:43:00.5Z", "...+01:00") into unix seconds; 0 or -1. */
static int parse_time(const char *s, int64_t *out)
{
    int64_t ms;
    if (oc_time_parse(s, OC_TIME_STRICT, &ms) != 0)
        return -1;
    *out = ms / 1000 - (ms % 1000 < 0);
    return 0;
}

static const char *level_of(const char *severity)
{
    if (severity && (strcmp(severity, "critical") == 0 || strcmp(severity, "page") == 0))
        return "page";
    if (severity && (strcmp(severity, "warning") == 0 || strcmp(severity, "notify") == 0))
        return "notify";
    return "backlog";
}

/* A numeric annotation as a JSON number, else null. */
static double number(const json_t *ann, const char *key)
{
    const char *s = json_string_value(json_object_get(ann, key));
    char *end;
    if (!s)
        return NAN;
    errno = 0;
    double v = strtod(s, &end);
    return errno || end == s || *end ? NAN : v;
}

static const char *first_str(const json_t *o, const char *a, const char *b, const char *def)
{
    const char *s = json_string_value(json_object_get(o, a));
    if (!s && b)
        s = json_string_value(json_object_get(o, b));
    return s ? s : def;
}

/* Translates alert a; 0 and appends {topic, payload} to out, or OC_EINVAL. */
static int one(const json_t *a, int64_t now_s, json_t *out, char *err, size_t errlen)
{
    char id[AM_MAX_ID + 4];
    int64_t since = now_s, at = now_s;
    const json_t *labels = json_object_get(a, "labels"), *ann = json_object_get(a, "annotations");
    const char *fp = json_string_value(json_object_get(a, "fingerprint"));
    const char *status = json_string_value(json_object_get(a, "status"));
    if (!json_is_object(a) || !json_is_object(labels) || !status)
        return snprintf(err, errlen, "alerts[]: an object with status and labels"), OC_EINVAL;
    if (!fp || !fp[0] || strlen(fp) > AM_MAX_ID)
        return snprintf(err, errlen, "alerts[].fingerprint: required, at most %d bytes", AM_MAX_ID),
               OC_EINVAL;
    int resolved = strcmp(status, "resolved") == 0;
    if (!resolved && strcmp(status, "firing") != 0)
        return snprintf(err, errlen, "alerts[].status: firing or resolved"), OC_EINVAL;
    parse_time(json_string_value(json_object_get(a, "startsAt")), &since);
    if (resolved && parse_time(json_string_value(json_object_get(a, "endsAt")), &at) != 0)
        at = now_s;
    snprintf(id, sizeof(id), "am/%s", fp);
    const char *name = first_str(labels, "alertname", NULL, "alertmanager");
    /* the labels stay in labels: a QoE slice is what viewers saw, and an Alertmanager
     * alert's region or cdn label says where a server is (incident adds labels.service) */
    json_t *slice = json_object();
    struct oc_ev_alert ev = {.alert_id = id,
                             .rule = name,
                             .metric = first_str(labels, "metric", NULL, name),
                             .level =
                                 level_of(json_string_value(json_object_get(labels, "severity"))),
                             .source = "alertmanager",
                             .kind = "alertmanager",
                             .op = ">",
                             .summary = first_str(ann, "summary", "description", name),
                             .slice = slice,
                             .labels = labels,
                             .value = number(ann, "value"),
                             .threshold = number(ann, "threshold"),
                             .since = since,
                             .at = at};
    json_t *p = oc_ev_alert_build(&ev);
    json_decref(slice);
    json_array_append_new(out, json_pack("{s:s, s:o}", "topic",
                                         resolved ? OC_TOPIC_ALERT_RESOLVED : OC_TOPIC_ALERT_FIRED,
                                         "payload", p));
    return 0;
}

int alert_am_translate(const json_t *body, int64_t now_s, json_t **out, char *err, size_t errlen)
{
    const json_t *alerts = json_object_get(body, "alerts");
    const char *version = json_string_value(json_object_get(body, "version"));
    int rc = 0;
    if (!json_is_object(body) || !json_is_array(alerts)) {
        snprintf(err, errlen, "alerts: required, an array (Alertmanager webhook v4)");
        return OC_EINVAL;
    }
    if (version && strcmp(version, "4") != 0) {
        snprintf(err, errlen, "version: expected \"4\", got \"%s\"", version);
        return OC_EINVAL;
    }
    if (json_array_size(alerts) > ALERT_MAX_AM) {
        snprintf(err, errlen, "alerts: more than %d", ALERT_MAX_AM);
        return OC_ETOOBIG;
    }
    json_t *events = json_array();
    for (size_t i = 0; rc == 0 && i < json_array_size(alerts); i++)
        rc = one(json_array_get(alerts, i), now_s, events, err, errlen);
    if (rc) {
        json_decref(events);
        return rc;
    }
    *out = events;
    return 0;
}
