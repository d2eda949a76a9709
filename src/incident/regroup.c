/*
 * regroup.c - an alert that stays firing belongs to an incident only while the incident's
 * cause explains it. The alert engine says "fired" once, on the transition; an alert that
 * joined one incident can keep firing into the next fault (the Vodafone viewers' rebuffering,
 * explained by the live manifest's stall, is still over its band when their ISP's peering link
 * fails two minutes after the stall ends). So once per closed minute each firing alert that
 * joined an open incident is re-checked with the rule it joined by (explain.c); one that has
 * gone unexplained for INC_LEAVE_MINUTES minutes in a row leaves, and is grouped again as if
 * it fired now: it joins the incident that explains it, or opens its own. Alerts that leave
 * in the same minute are grouped again one per tick (a second apart), so each meets the
 * incidents the ones before it opened already localized: two alerts of one new fault that
 * leave together open one incident, not two.
 */
#include "incident/incident_int.h"
#include "core/log.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The alert.fired payload a leaving alert is grouped again with: its last one, at upto, with
 * the value measured now and a summary saying where it came from. New reference. */
static json_t *again_payload(const struct incident *from, const struct inc_alert *a, int64_t upto,
                             double value)
{
    char summary[512], where[200], id[32];
    json_t *p = json_deep_copy(a->event);
    inc_slice_text(json_object_get(p, "slice"), where, sizeof(where));
    inc_format_id(from->id, id, sizeof(id));
    snprintf(summary, sizeof(summary),
             "%s %s %.4g in %s (now %.4g), still firing after %s's cause stopped explaining it",
             a->metric, a->op, a->threshold, where, value, id);
    json_object_set_new(p, "summary", json_string(summary));
    json_object_set_new(p, "value", isnan(value) ? json_null() : json_real(value));
    json_object_set_new(p, "at", json_integer(upto));
    return p;
}

/* Takes alert i out of inc (the array closes up) with a timeline entry; returns the payload
 * to group it again with (new reference). */
static json_t *leave(struct incident_mgr *m, struct incident *inc, int i, int64_t upto,
                     double value, int64_t now)
{
    struct inc_alert *a = &inc->alerts[i];
    char cause[200];
    json_t *p = again_payload(inc, a, upto, value);
    inc_slice_text(json_object_get(json_array_get(inc->causes, 0), "element"), cause,
                   sizeof(cause));
    json_t *data = json_pack("{s:s, s:f}", "alert_id", a->id, "value", value);
    inc_tl_add(m, inc->id, now, "alert", "oncue", data, 0,
               "alert %s left the incident: with the viewers of its cause (%s) taken out it "
               "still reads %.4g %s %.4g (%d minutes in a row)",
               a->id, cause, value, a->op, a->threshold, INC_LEAVE_MINUTES);
    json_decref(a->event);
    memmove(a, a + 1, (size_t)(inc->nalerts - i - 1) * sizeof(*a));
    inc->nalerts--;
    return p;
}

/* Re-checks inc's joined alerts at upto; each that leaves is appended to out. */
static void recheck(struct incident_mgr *m, struct incident *inc, int64_t upto, int64_t now,
                    json_t *out)
{
    int left = 0;
    /* alerts[0] opened the incident: the incident is about it, it never leaves */
    for (int i = 1; i < inc->nalerts; i++) {
        struct inc_alert *a = &inc->alerts[i];
        double value;
        if (!a->firing)
            continue;
        int r = inc_still_explains(m, inc, a, upto, &value);
        if (r != 0) {
            a->unexplained = 0;
            continue;
        }
        if (++a->unexplained < INC_LEAVE_MINUTES)
            continue;
        json_array_append_new(out, leave(m, inc, i--, upto, value, now));
        left++;
    }
    if (!left)
        return;
    inc_reclassify(m, inc, now);
    inc_save(m, inc);
}

int inc_regroup(struct incident_mgr *m, int64_t upto, int64_t now)
{
    size_t before;
    if (upto <= m->rechecked_upto)
        return 0;
    m->rechecked_upto = upto;
    if (!m->regroup)
        m->regroup = json_array();
    before = json_array_size(m->regroup);
    for (int k = 0; k < m->n; k++)
        if (inc_is_open(m->incs[k]))
            recheck(m, m->incs[k], upto, now, m->regroup);
    return (int)(json_array_size(m->regroup) - before);
}

int inc_regroup_next(struct incident_mgr *m, int64_t now)
{
    json_t *p = json_array_get(m->regroup, 0);
    if (!p)
        return 0;
    json_incref(p);
    json_array_remove(m->regroup, 0);
    oc_log(OC_LOG_INFO, "incident: alert %s regrouped",
           json_string_value(json_object_get(p, "alert_id")));
    /* the rule that made it leave keeps it from rejoining the same incident: both read the
     * same minutes */
    inc_group_alert(m, p, now);
    json_decref(p);
    return 1;
}

void inc_regroup_drop(struct incident_mgr *m, const char *alert_id)
{
    for (size_t i = 0; i < json_array_size(m->regroup); i++) {
        const char *id =
            json_string_value(json_object_get(json_array_get(m->regroup, i), "alert_id"));
        if (id && strcmp(id, alert_id) == 0)
            json_array_remove(m->regroup, i--);
    }
}
