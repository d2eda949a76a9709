/*
 * emit.c - the JSON form of services and teams, with the same field names as the catalog
 * file, so what GET /v1/services/{name} returns can be PUT back unchanged. Also the parser of
 * one service from an API body (parse.c does the work; here only the error wording).
 */
#include "catalog/catalog_int.h"
#include "core/err.h"
#include "core/timefmt.h"

#include <stdio.h>

static void set_str(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_string(v));
}

static json_t *strv_json(const struct catalog_strv *v)
{
    json_t *a = json_array();
    for (int i = 0; i < v->n; i++)
        json_array_append_new(a, json_string(v->v[i]));
    return a;
}

json_t *catalog_service_to_json(const struct catalog_service *s)
{
    json_t *o = json_object();
    set_str(o, "name", s->name);
    set_str(o, "kind", s->kind);
    set_str(o, "team", s->team);
    set_str(o, "escalation_lead", s->lead);
    set_str(o, "support", s->support);
    set_str(o, "runbook", s->runbook);
    set_str(o, "rollback_doc", s->rollback_doc);
    set_str(o, "deploy_webhook", s->deploy_webhook);
    set_str(o, "description", s->description);
    set_str(o, "public_name", s->public_name);
    if (s->tier)
        json_object_set_new(o, "tier", json_integer(s->tier));
    json_t *serves = json_array();
    for (int i = 0; i < s->nserves; i++) {
        char text[CATALOG_TEXT_MAX];
        catalog_slice_format(&s->serves[i], text, sizeof(text));
        json_array_append_new(serves, json_string(text));
    }
    json_object_set_new(o, "serves", serves);
    json_object_set_new(o, "depends_on", strv_json(&s->depends_on));
    json_t *raci = json_object();
    json_object_set_new(raci, "responsible", strv_json(&s->raci.responsible));
    json_object_set_new(raci, "accountable", strv_json(&s->raci.accountable));
    json_object_set_new(raci, "consulted", strv_json(&s->raci.consulted));
    json_object_set_new(raci, "informed", strv_json(&s->raci.informed));
    json_object_set_new(o, "raci", raci);
    return o;
}

static const char *const weekday_names[] = {"sunday",   "monday", "tuesday", "wednesday",
                                            "thursday", "friday", "saturday"};

json_t *catalog_team_to_json(const struct catalog_team *t)
{
    json_t *o = json_object();
    set_str(o, "name", t->name);
    set_str(o, "channel", t->channel);
    set_str(o, "escalation_policy", t->policy);
    if (t->oncall.people.n > 0) {
        char hand[32], first[32];
        const struct catalog_schedule *sch = &t->oncall;
        json_t *oc = json_object();
        json_object_set_new(oc, "people", strv_json(&sch->people));
        snprintf(hand, sizeof(hand), "%s %02d:%02d", weekday_names[sch->handoff_wday],
                 sch->handoff_min / 60, sch->handoff_min % 60);
        json_object_set_new(oc, "handoff", json_string(hand));
        oc_time_format(sch->first_ms, first, sizeof(first));
        json_object_set_new(oc, "start", json_string(first));
        json_object_set_new(oc, "timezone", json_string("UTC"));
        json_t *ovs = json_array();
        for (int i = 0; i < sch->noverrides; i++) {
            char from[32], to[32];
            oc_time_format(sch->overrides[i].from_ms, from, sizeof(from));
            oc_time_format(sch->overrides[i].to_ms, to, sizeof(to));
            json_array_append_new(ovs, json_pack("{s:s, s:s, s:s}", "from", from, "to", to,
                                                 "person", sch->overrides[i].person));
        }
        json_object_set_new(oc, "overrides", ovs);
        json_object_set_new(o, "oncall", oc);
    }
    return o;
}

int catalog_service_from_json(const json_t *obj, struct catalog_service **out, char *err,
                              size_t errlen)
{
    struct catalog_perr e = {0};
    int rc = catalog_parse_service(obj, out, &e);
    if (rc)
        snprintf(err, errlen, "%s", e.msg);
    return rc;
}
