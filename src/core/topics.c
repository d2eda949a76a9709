/*
 * topics.c - the builders and readers of shared bus payloads (see topics.h).
 */
#include "core/topics.h"

#include <math.h>
#include <stddef.h>
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
    if (p && ev->kind && ev->kind[0])
        json_object_set_new(p, "kind", json_string(ev->kind));
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
    out->kind = str(p, "kind");
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

/* The optional string fields of struct oc_ev_incident, in payload order. */
static const struct {
    const char *key;
    size_t off;
} incident_fields[] = {
    {"by", offsetof(struct oc_ev_incident, by)},
    {"team", offsetof(struct oc_ev_incident, team)},
    {"role", offsetof(struct oc_ev_incident, role)},
    {"target", offsetof(struct oc_ev_incident, target)},
    {"service", offsetof(struct oc_ev_incident, service)},
    {"into", offsetof(struct oc_ev_incident, into)},
    {"cause", offsetof(struct oc_ev_incident, cause)},
    {"from", offsetof(struct oc_ev_incident, from)},
    {"severity", offsetof(struct oc_ev_incident, severity)},
    {"reason", offsetof(struct oc_ev_incident, reason)},
    {"status", offsetof(struct oc_ev_incident, status)},
    {"body", offsetof(struct oc_ev_incident, body)},
    {"kind", offsetof(struct oc_ev_incident, kind)},
    {NULL, 0},
};

/* The string field of ev at off. */
static const char **field_at(const struct oc_ev_incident *ev, size_t off)
{
    return (const char **)((const char *)ev + off);
}

json_t *oc_ev_incident_build(const struct oc_ev_incident *ev)
{
    json_t *p = json_pack("{s:s}", "incident_id", ev->incident_id);
    if (ev->alert_ids)
        json_object_set(p, "alert_ids", (json_t *)ev->alert_ids);
    for (int i = 0; incident_fields[i].key; i++) {
        const char *v = *field_at(ev, incident_fields[i].off);
        if (v)
            json_object_set_new(p, incident_fields[i].key, json_string(v));
    }
    json_object_set_new(p, "at", json_integer((json_int_t)ev->at));
    return p;
}

int oc_ev_incident_read(const json_t *p, struct oc_ev_incident *out)
{
    memset(out, 0, sizeof(*out));
    out->incident_id = str(p, "incident_id");
    out->alert_ids = json_object_get(p, "alert_ids");
    for (int i = 0; incident_fields[i].key; i++)
        *(const char **)((char *)out + incident_fields[i].off) = str(p, incident_fields[i].key);
    out->at = (int64_t)json_integer_value(json_object_get(p, "at"));
    return out->incident_id[0] ? 0 : -1;
}

int oc_ev_rca_read(const json_t *p, struct oc_ev_rca *out)
{
    memset(out, 0, sizeof(*out));
    out->incident_id = str(p, "incident_id");
    out->metric = str(p, "metric");
    out->causes = json_object_get(p, "causes");
    out->note = str(p, "note");
    out->onset = (int64_t)json_integer_value(json_object_get(p, "onset"));
    return out->incident_id[0] ? 0 : -1;
}

int oc_ev_mitigation_read(const json_t *p, struct oc_ev_mitigation *out)
{
    memset(out, 0, sizeof(*out));
    out->id = (int64_t)json_integer_value(json_object_get(p, "id"));
    out->kind = str(p, "kind");
    out->actor = str(p, "actor");
    out->state = str(p, "state");
    out->spec = json_object_get(p, "spec");
    out->followup = json_object_get(p, "followup");
    return json_is_integer(json_object_get(p, "id")) ? 0 : -1;
}

int oc_ev_policy_read(const json_t *p, struct oc_ev_policy *out)
{
    out->actor = str(p, "actor");
    out->policy = json_object_get(p, "policy");
    return json_is_object(out->policy) ? 0 : -1;
}
