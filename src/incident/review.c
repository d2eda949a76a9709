/*
 * review.c - the blameless post-incident review (Markdown) and the MTTA / MTTM / MTTR report.
 *
 * The review is written from what was recorded: the incident, its snapshots, the timeline as
 * it happened, the causes rca localized, mitigations with their reversal and follow-ups. The
 * action-item template asks what in process, tooling and tests would have prevented or
 * shortened the incident; it never asks who.
 */
#include "incident/incident_int.h"
#include "core/lock.h"
#include "core/buf.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REVIEW_MAX (8 << 20) /* bytes of one review */

static void put_dur(struct oc_buf *b, const char *label, int64_t from, int64_t to)
{
    if (!from || !to)
        oc_buf_printf(b, "- %s: n/a\n", label);
    else
        oc_buf_printf(b, "- %s: %lld min %lld s\n", label, (long long)((to - from) / 60),
                      (long long)((to - from) % 60));
}

static void put_summary(struct oc_buf *b, const struct incident *inc)
{
    char id[32], t0[32], t1[32];
    inc_format_id(inc->id, id, sizeof(id));
    inc_iso_time(inc->opened_s, t0, sizeof(t0));
    inc_iso_time(inc->resolved_s, t1, sizeof(t1));
    oc_buf_printf(b, "# Post-incident review: %s\n\n## Summary\n\n", id);
    oc_buf_printf(b, "%s: %s, declared %s at %s, %s%s%s. Owner: service %s, team %s.\n\n", id,
                  inc->title, inc_sev_name(inc->sev), t0, incident_state_name(inc->state),
                  inc->resolved_s ? " at " : "", inc->resolved_s ? t1 : "",
                  inc->service[0] ? inc->service : "unrouted", inc->team[0] ? inc->team : "none");
}

static void put_impact(struct oc_buf *b, const struct incident *inc)
{
    char pk[32];
    double open_share = json_number_value(json_object_get(inc->snap_open, "affected_share"));
    inc_iso_time(inc->peak_s, pk, sizeof(pk));
    oc_buf_puts(b, "## Impact\n\n");
    double open_n = json_number_value(json_object_get(inc->snap_open, "viewers"));
    double peak_n = json_number_value(json_object_get(inc->snap_peak, "viewers"));
    oc_buf_printf(b, "- Viewers affected at declaration: %.0f concurrent, %.1f%% of all viewers\n",
                  open_n, open_share * 100);
    oc_buf_printf(b, "- Viewers affected at peak: %.0f concurrent, %.1f%% of all viewers (at %s)\n",
                  peak_n, inc->peak_share * 100, pk);
    put_dur(b, "Duration (declared to resolved)", inc->opened_s, inc->resolved_s);
    put_dur(b, "Time to acknowledge", inc->opened_s, inc->acked_s);
    put_dur(b, "Time to mitigate", inc->opened_s, inc->mitigated_s);
    oc_buf_puts(b, "\nPeak metrics:\n\n| alert | metric | band | peak |\n|---|---|---|---|\n");
    for (int i = 0; i < inc->nalerts; i++) {
        const struct inc_alert *a = &inc->alerts[i];
        oc_buf_printf(b, "| %s | %s | %s %.4g | %.4g |\n", a->id, a->metric, a->op, a->threshold,
                      a->peak);
    }
    oc_buf_puts(b, "\n");
}

static void put_timeline(struct oc_buf *b, const json_t *tl)
{
    size_t i;
    json_t *e;
    char ts[32];
    oc_buf_puts(b, "## Timeline\n\n");
    json_array_foreach(tl, i, e)
    {
        inc_iso_time(json_integer_value(json_object_get(e, "at")), ts, sizeof(ts));
        oc_buf_printf(b, "- %s [%s] %s (%s)\n", ts, json_string_value(json_object_get(e, "kind")),
                      json_string_value(json_object_get(e, "text")),
                      json_string_value(json_object_get(e, "actor")));
    }
    oc_buf_puts(b, "\n");
}

static void put_causes(struct oc_buf *b, const json_t *causes)
{
    size_t i;
    json_t *c;
    oc_buf_puts(b, "## Root cause\n\n");
    if (!json_array_size(causes))
        oc_buf_puts(b, "Not localized automatically; describe the cause found by the "
                       "responders.\n");
    json_array_foreach(causes, i, c)
    {
        const char *k;
        json_t *v;
        int first = 1;
        oc_buf_puts(b, "- `");
        json_object_foreach(json_object_get(c, "element"), k, v)
        {
            oc_buf_printf(b, "%s%s=%s", first ? "" : " & ", k,
                          json_is_string(v) ? json_string_value(v) : "?");
            first = 0;
        }
        oc_buf_printf(b, "` (score %.2f)\n", json_number_value(json_object_get(c, "score")));
    }
    oc_buf_puts(b, "\n");
}

static void put_mitigations(struct oc_buf *b, const json_t *tl, const json_t *fus)
{
    size_t i;
    json_t *e;
    char ts[32];
    int n = 0;
    oc_buf_puts(b, "## Mitigations and their reversal\n\n");
    json_array_foreach(tl, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "kind")), "mitigation") != 0)
            continue;
        inc_iso_time(json_integer_value(json_object_get(e, "at")), ts, sizeof(ts));
        oc_buf_printf(b, "- %s %s\n", ts, json_string_value(json_object_get(e, "text")));
        n++;
    }
    if (!n)
        oc_buf_puts(b, "- none recorded\n");
    oc_buf_puts(b, "\nFollow-up items:\n\n");
    json_array_foreach(fus, i, e)
    {
        inc_iso_time(json_integer_value(json_object_get(e, "due_at")), ts, sizeof(ts));
        oc_buf_printf(b, "- [%c] %s (due %s)\n",
                      json_is_null(json_object_get(e, "done_at")) ? ' ' : 'x',
                      json_string_value(json_object_get(e, "title")), ts);
    }
    if (!json_array_size(fus))
        oc_buf_puts(b, "- none\n");
    oc_buf_puts(b, "\n");
}

static const char action_items[] =
    "## Action items\n\n"
    "Blameless: each item changes a process, a tool or a test, not a person.\n\n"
    "### Process\n- [ ] What in the runbook or escalation path would have shortened detection "
    "or response?\n\n"
    "### Tooling\n- [ ] Which alert, dashboard or automation would have caught this earlier "
    "or mitigated it faster?\n\n"
    "### Tests\n- [ ] Which drill, simulator scenario or pre-release test reproduces this "
    "failure so it cannot return unnoticed?\n";

int incident_review_md(struct incident_mgr *m, int64_t id, char **out)
{
    struct oc_buf b;
    struct incident *inc;
    *out = NULL;
    inc_lock(m);
    if (!(inc = inc_find(m, id))) {
        inc_unlock(m);
        return OC_ENOTFOUND;
    }
    json_t *tl = inc_tl_json(m, id), *fus = inc_fu_json(m, id);
    oc_buf_init(&b, REVIEW_MAX);
    put_summary(&b, inc);
    put_impact(&b, inc);
    put_timeline(&b, tl);
    put_causes(&b, inc->causes);
    put_mitigations(&b, tl, fus);
    oc_buf_puts(&b, action_items);
    inc_unlock(m);
    json_decref(tl);
    json_decref(fus);
    *out = oc_buf_steal(&b);
    return *out ? 0 : OC_ETOOBIG;
}

/* Response targets by severity (SLA defaults): acknowledge and resolve within. */
static const struct {
    int sev;
    int64_t ack_s, resolve_s;
} sla[] = {
    {1, 5 * 60, 4 * 3600},
    {2, 15 * 60, 8 * 3600},
    {3, 3600, 3 * 86400},
    {4, 86400, 14 * 86400},
    {0},
};

#define REPORT_GROUPS 256 /* services reported; the rest are summed as "(other)" */

/* The running sums of one group. */
struct acc {
    char key[INC_NAME_MAX];
    int n, acks, mits, res, ack_met, res_met;
    double ack_sum, mit_sum, res_sum;
};

static struct acc *group_of(struct acc *g, int *n, const char *key)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(g[i].key, key) == 0)
            return &g[i];
    if (*n == REPORT_GROUPS - 1)
        key = "(other)";
    for (int i = 0; i < *n; i++)
        if (strcmp(g[i].key, key) == 0)
            return &g[i];
    snprintf(g[*n].key, sizeof(g[*n].key), "%s", key);
    return &g[(*n)++];
}

static void add(struct acc *a, const struct incident *inc)
{
    int64_t ack_t = 0, res_t = 0;
    for (int i = 0; sla[i].sev; i++)
        if (sla[i].sev == inc->sev) {
            ack_t = sla[i].ack_s;
            res_t = sla[i].resolve_s;
        }
    a->n++;
    if (inc->acked_s) {
        a->acks++;
        a->ack_sum += (double)(inc->acked_s - inc->opened_s);
        a->ack_met += inc->acked_s - inc->opened_s <= ack_t;
    }
    if (inc->mitigated_s) {
        a->mits++;
        a->mit_sum += (double)(inc->mitigated_s - inc->opened_s);
    }
    if (inc->resolved_s) {
        a->res++;
        a->res_sum += (double)(inc->resolved_s - inc->opened_s);
        a->res_met += inc->resolved_s - inc->opened_s <= res_t;
    }
}

static json_t *mean(double sum, int n)
{
    return n ? json_real(sum / n) : json_null();
}

static json_t *groups_json(const struct acc *g, int n)
{
    json_t *o = json_object();
    for (int i = 0; i < n; i++)
        json_object_set_new(o, g[i].key,
                            json_pack("{s:i, s:o, s:o, s:o, s:f, s:f}", "incidents", g[i].n,
                                      "mtta_s", mean(g[i].ack_sum, g[i].acks), "mttm_s",
                                      mean(g[i].mit_sum, g[i].mits), "mttr_s",
                                      mean(g[i].res_sum, g[i].res), "ack_sla_met",
                                      (double)g[i].ack_met / g[i].n, "resolve_sla_met",
                                      (double)g[i].res_met / g[i].n));
    return o;
}

json_t *incident_report_json(struct incident_mgr *m)
{
    struct acc *svc = calloc(REPORT_GROUPS, sizeof(*svc)), sev[4];
    int nsvc = 0;
    memset(sev, 0, sizeof(sev));
    for (int i = 0; i < 4; i++)
        snprintf(sev[i].key, sizeof(sev[i].key), "%s", inc_sev_name(i + 1));
    inc_lock(m);
    for (int i = 0; svc && i < m->n; i++) {
        const struct incident *inc = m->incs[i];
        if (inc_is_open(inc))
            continue;
        add(group_of(svc, &nsvc, inc->service[0] ? inc->service : "(unrouted)"), inc);
        add(&sev[inc->sev - 1], inc);
    }
    inc_unlock(m);
    json_t *by_sev = json_object(), *targets = json_array();
    for (int i = 0; i < 4; i++) {
        json_t *one = groups_json(&sev[i], sev[i].n ? 1 : 0);
        json_object_update(by_sev, one);
        json_decref(one);
        json_array_append_new(targets,
                              json_pack("{s:s, s:I, s:I}", "severity", inc_sev_name(sla[i].sev),
                                        "ack_s", (json_int_t)sla[i].ack_s, "resolve_s",
                                        (json_int_t)sla[i].resolve_s));
    }
    json_t *out = json_pack("{s:o, s:o, s:o}", "by_service", groups_json(svc, nsvc), "by_severity",
                            by_sev, "sla_targets", targets);
    free(svc);
    return out;
}
