/*
 * topics.c - the builders and readers of shared bus payloads (see topics.h).
 */
#include "core/topics.h"

#include <string.h>

static const char *str(const json_t *p, const char *key)
{
    const char *s = json_string_value(json_object_get(p, key));
    return s ? s : "";
}

int oc_ev_alert_read(const json_t *p, struct oc_ev_alert *out)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_string(json_object_get(p, "alert_id")))
        return -1;
    out->alert_id = str(p, "alert_id");
    out->rule = str(p, "rule");
    out->metric = str(p, "metric");
    out->level = str(p, "level");
    out->source = str(p, "source");
    out->slice = json_object_get(p, "slice");
    out->at = (int64_t)json_integer_value(json_object_get(p, "at"));
    return 0;
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
