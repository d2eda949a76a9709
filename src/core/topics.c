/*
 * topics.c - the builders and readers of shared bus payloads (see topics.h).
 */
#include "core/topics.h"

#include <math.h>
#include <string.h>

static const char *str(const json_t *p, const char *key)
{
    const char *s = json_string_value(json_object_get(p, key));
    return s ? s : "";
}

/* A number, or null for NAN. */
static json_t *real_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

/* The number at key, or NAN when it is absent or not a number. */
static double num(const json_t *p, const char *key)
{
    const json_t *v = json_object_get(p, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

json_t *oc_ev_alert_build(const struct oc_ev_alert *ev)
{
    json_t *p = json_pack("{s:s, s:s, s:s, s:O, s:o, s:o, s:s, s:s, s:I, s:I, s:I, s:s, s:s}",
                          "alert_id", ev->alert_id, "rule", ev->rule, "metric", ev->metric, "slice",
                          ev->slice, "value", real_or_null(ev->value), "threshold",
                          real_or_null(ev->threshold), "op", ev->op, "level", ev->level, "window_s",
                          (json_int_t)ev->window_s, "since", (json_int_t)ev->since, "at",
                          (json_int_t)ev->at, "source", ev->source, "summary", ev->summary);
    if (p && ev->labels)
        json_object_set(p, "labels", (json_t *)ev->labels);
    return p;
}

int oc_ev_alert_read(const json_t *p, struct oc_ev_alert *out)
{
    memset(out, 0, sizeof(*out));
    out->alert_id = str(p, "alert_id");
    out->rule = str(p, "rule");
    out->metric = str(p, "metric");
    out->level = str(p, "level");
    out->source = str(p, "source");
    out->op = str(p, "op");
    out->summary = str(p, "summary");
    out->slice = json_object_get(p, "slice");
    out->labels = json_object_get(p, "labels");
    out->value = num(p, "value");
    out->threshold = num(p, "threshold");
    out->window_s = (int64_t)json_integer_value(json_object_get(p, "window_s"));
    out->since = (int64_t)json_integer_value(json_object_get(p, "since"));
    out->at = (int64_t)json_integer_value(json_object_get(p, "at"));
    return out->alert_id[0] ? 0 : -1;
}

json_t *oc_ev_incident_opened_build(const struct oc_ev_incident_opened *ev)
{
    return json_pack("{s:s, s:O, s:s, s:O, s:s, s:s, s:I}", "incident_id", ev->incident_id,
                     "alert_ids", ev->alert_ids, "severity", ev->severity, "slice", ev->slice,
                     "title", ev->title, "metric", ev->metric ? ev->metric : "", "at",
                     (json_int_t)ev->at);
}

int oc_ev_incident_opened_read(const json_t *p, struct oc_ev_incident_opened *out)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_string(json_object_get(p, "incident_id")))
        return -1;
    out->incident_id = str(p, "incident_id");
    out->severity = str(p, "severity");
    out->title = str(p, "title");
    out->metric = str(p, "metric");
    out->slice = json_object_get(p, "slice");
    out->alert_ids = json_object_get(p, "alert_ids");
    out->at = (int64_t)json_integer_value(json_object_get(p, "at"));
    return 0;
}
