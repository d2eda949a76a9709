/*
 * tick.c - the timed rules of incident_tick (the resolve rule, re-classification, escalation
 * pages, comms reminders, the status page's publish rule) and resolving an incident. An incident
 * resolves once every alert on the metrics that opened it has been clear for the recovery window.
 */
#include "incident/incident_int.h"
#include "core/lock.h"
#include "core/topics.h"
#include "qoe/qoe.h"

#include <stdio.h>

/* The time since which every alert on the metrics that opened inc has been clear, or 0
 * while one of them fires. Alerts on other metrics that joined later (a slow burn-rate
 * window, say) are context: they do not hold the incident open. */
int64_t inc_clear_since(const struct incident *inc)
{
    int64_t since = 0;
    for (int i = 0; i < inc->nalerts; i++) {
        if (!inc->alerts[i].opener)
            continue;
        if (inc->alerts[i].firing)
            return 0;
        if (inc->alerts[i].cleared_s > since)
            since = inc->alerts[i].cleared_s;
    }
    return since;
}

/* 1 when the resolve rule holds at now: every alert clear for the recovery window. */
static int recovered(const struct incident_mgr *m, const struct incident *inc, int64_t now)
{
    int64_t since = inc_clear_since(inc);
    return since && now - since >= m->o.recovery_window_s;
}

/* Runs the timed rules at the clock's now (see incident.h); returns the changes made. */
int incident_tick(struct incident_mgr *m)
{
    int64_t now = oc_clock_now_s(m->app->clock);
    int changes = 0;
    struct qoe_cube *cube = qoe_cube_of(m->app);
    struct qoe_cube_stats st = {0};
    if (cube)
        qoe_cube_stats(cube, &st);
    inc_lock_write(m); /* with replicas: sees writes made through the others first */
    /* the minutes before upto are complete: alerts are re-checked once per new minute */
    int64_t upto = st.complete_upto_s > 0 ? st.complete_upto_s - st.complete_upto_s % 60 : 0;
    if (upto > now - now % 60)
        upto = now - now % 60;
    if (upto > 0)
        changes += inc_regroup(m, upto, now);
    changes += inc_regroup_next(m, now);
    changes += inc_maint_tick(m, now);
    for (int i = 0; i < m->n; i++) {
        struct incident *inc = m->incs[i];
        if (!inc_is_open(inc))
            continue;
        if (inc->held && now - inc->opened_s >= INC_HOLD_S) { /* rca did not answer in time */
            inc_announce(m, inc, now);
            changes++;
        }
        if (recovered(m, inc, now)) {
            inc_resolve_locked(m, inc, "oncue",
                               "metrics back inside their band for the recovery window", now);
            changes++;
            continue;
        }
        if (now - inc->last_measure_s >= m->o.reclassify_s && inc_clear_since(inc) == 0) {
            int before = inc->sev;
            inc_reclassify(m, inc, now);
            changes += inc->sev != before;
        }
        /* no localization came (rca not running, or nothing found): the default owner */
        if (!inc->team[0] && now - inc->opened_s >= INC_DEFAULT_OWNER_WAIT_S)
            inc_page_default(m, inc, now);
        changes += inc_publish_by_rule(m, inc, now);
        int c = inc_escalate(m, inc, now) + inc_remind_comms(m, inc, now);
        c += inc_crosscheck(m, inc, upto, now);
        if (c)
            inc_save(m, inc);
        changes += c;
    }
    inc_unlock(m);
    return changes;
}

/* Resolves inc at now with a snapshot at resolution. Caller holds m->mu. */
int inc_resolve_locked(struct incident_mgr *m, struct incident *inc, const char *actor,
                       const char *why, int64_t now)
{
    struct incident_impact imp;
    char id[32];
    inc_measure(m, inc, now, &imp);
    inc->state = INCIDENT_RESOLVED;
    inc->resolved_s = now;
    snprintf(inc->public_status, sizeof(inc->public_status), "resolved");
    char pk[32];
    inc_iso_time(inc->peak_s, pk, sizeof(pk));
    inc_tl_add(m, inc->id, now, "snapshot", "oncue", json_incref(inc->snap_peak), 0,
               "peak: %.1f%% of viewers affected (%.0f concurrent) at %s", inc->peak_share * 100,
               json_number_value(json_object_get(inc->snap_peak, "viewers")), pk);
    inc_tl_add(m, inc->id, now, "resolved", actor, inc_snapshot(inc, &imp, now), 0,
               "incident resolved: %s (now %.1f%% of viewers in the slice)", why,
               imp.affected_share * 100);
    int rc = inc_save(m, inc);
    inc_format_id(inc->id, id, sizeof(id));
    struct oc_ev_incident ev = {.incident_id = id, .at = now};
    if (inc->held) /* never announced (merged while held): nobody hears of it */
        return rc;
    inc_publish(m, OC_TOPIC_INCIDENT_RESOLVED, oc_ev_incident_build(&ev));
    inc_status_notify(m, "incident.resolved", inc, NULL);
    return rc;
}

/* 1 when inc may be resolved now without force (used by incident_resolve). */
int inc_recovered(const struct incident_mgr *m, const struct incident *inc, int64_t now)
{
    return recovered(m, inc, now);
}
