/*
 * scrape.c - findings on scraped service metrics as alerts: scrape.failed and
 * scrape.recovered (src/scrape/) become alert.fired and alert.resolved, so a DRM license
 * server whose error share crosses its rule, or an origin that stops answering its scrape,
 * opens (or joins) an incident routed by the target's catalog service.
 *
 * alert_id "scrape/TARGET/RULE", rule "scrape_RULE", metric the scraped series' name,
 * source and kind "scrape", an empty QoE slice and the target in labels (alertname, target,
 * rule, service), as the prober's findings (probe.c). The level is the rule's (a target
 * down pages unless its down_level says notify).
 */
#include "alert/alert.h"
#include "core/topics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *str(const json_t *p, const char *k)
{
    const char *s = json_string_value(json_object_get(p, k));
    return s ? s : "";
}

static double num(const json_t *p, const char *k)
{
    const json_t *v = json_object_get(p, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

json_t *alert_scrape_translate(const char *topic, const json_t *p, const char **out_topic)
{
    char id[256], rule[96], summary[SLO_TEXT_MAX];
    const char *target = str(p, "target"), *name = str(p, "rule"), *level = str(p, "level");
    int failed = strcmp(topic, OC_TOPIC_SCRAPE_FAILED) == 0;
    if (!json_is_object(p) || !target[0] || !name[0] ||
        (!failed && strcmp(topic, OC_TOPIC_SCRAPE_RECOVERED) != 0))
        return NULL;
    if (strcmp(level, "notify") != 0)
        level = "page";
    snprintf(id, sizeof id, "scrape/%.120s/%.60s", target, name);
    snprintf(rule, sizeof rule, "scrape_%.80s", name);
    snprintf(summary, sizeof summary, "%.60s: %s", target, str(p, "detail"));
    json_t *labels =
        json_pack("{s:s, s:s, s:s}", "alertname", rule, "target", target, "rule", name);
    if (str(p, "service")[0])
        json_object_set_new(labels, "service", json_string(str(p, "service")));
    json_t *slice = json_object();
    int64_t at = json_integer_value(json_object_get(p, "at"));
    int64_t since = failed ? at : json_integer_value(json_object_get(p, "since"));
    const char *op = str(p, "op");
    struct oc_ev_alert ev = {.alert_id = id,
                             .rule = rule,
                             .metric = str(p, "metric")[0] ? str(p, "metric") : rule,
                             .level = level,
                             .source = "scrape",
                             .kind = "scrape",
                             .op = op[0] ? op : ">",
                             .summary = summary,
                             .slice = slice,
                             .labels = labels,
                             .value = num(p, "value"),
                             .threshold = num(p, "threshold"),
                             .since = since,
                             .at = at};
    json_t *out = oc_ev_alert_build(&ev);
    json_decref(slice);
    json_decref(labels);
    *out_topic = failed ? OC_TOPIC_ALERT_FIRED : OC_TOPIC_ALERT_RESOLVED;
    return out;
}
