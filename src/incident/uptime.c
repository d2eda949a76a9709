/*
 * uptime.c - 90 days of uptime per status page component, computed on demand from the kept
 * incidents (exact to the minute, and no second record to keep in step with them): for each
 * UTC day the worst status and the minutes at each level, and an uptime percentage that
 * weighs them as Statuspage does (a major outage counts whole, a partial outage 30%,
 * degraded performance not at all). Only published SEV1-SEV3 incidents count. Days before the
 * installation's first (m->since_s) are "no_data" and count for nothing: a page that did not
 * watch them does not claim they were up.
 */
#include "incident/incident_int.h"
#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MINUTES    1440
#define PARTIAL_WEIGHT 0.3 /* share of a partial outage's minutes counted as downtime */

static const char *const levels[] = {"operational", "major_outage", "partial_outage",
                                     "degraded_performance", "no_data"};
#define LEVEL_NO_DATA 4

/* Marks minutes [from, to) of mins (n of them) with sev where no worse severity is. */
static void mark(unsigned char *mins, int64_t from, int64_t to, int sev, int64_t n)
{
    if (from < 0)
        from = 0;
    if (to > n)
        to = n;
    for (int64_t i = from; i < to; i++)
        if (!mins[i] || sev < mins[i])
            mins[i] = (unsigned char)sev;
}

/* The days of one component from its marked minutes (oldest first), and its uptime in %
 * over the observed minutes. New reference. */
static json_t *days_json(const unsigned char *mins, int64_t start, int64_t since, int64_t observed,
                         double *uptime /* OUT */)
{
    json_t *days = json_array();
    double down = 0;
    char date[32];
    for (int d = 0; d < INC_UPTIME_DAYS; d++) {
        int count[4] = {0}, worst = 0;
        for (int i = 0; mins && i < DAY_MINUTES; i++) {
            int s = mins[d * DAY_MINUTES + i];
            count[s]++;
            if (s && (!worst || s < worst))
                worst = s;
        }
        if (start + (int64_t)(d + 1) * 86400 <= since && !worst)
            worst = LEVEL_NO_DATA; /* before the page watched */
        down += count[1] + PARTIAL_WEIGHT * count[2];
        inc_iso_time(start + (int64_t)d * 86400, date, sizeof date);
        date[10] = 0;
        json_array_append_new(days, json_pack("{s:s, s:s, s:i, s:i, s:i}", "date", date, "status",
                                              levels[worst], "major_outage_minutes", count[1],
                                              "partial_outage_minutes", count[2],
                                              "degraded_performance_minutes", count[3]));
    }
    *uptime = observed > 0 ? 100.0 * (1.0 - down / (double)observed) : 100.0;
    *uptime = *uptime < 0 ? 0 : (double)(int64_t)(*uptime * 100.0 + 0.5) / 100.0; /* 2 decimals */
    return days;
}

/* The component index of each of m's incidents that counts (-1 for the others): its public
 * component, or 0 ("Video playback") when it has none. Caller frees. */
static int *incident_comps(struct incident_mgr *m, const struct inc_comps *cs,
                           const struct catalog *cat, int64_t start)
{
    int *at = oc_malloc(sizeof(int) * (size_t)(m->n ? m->n : 1));
    char name[128];
    for (int i = 0; i < m->n; i++) {
        const struct incident *inc = m->incs[i];
        at[i] = -1;
        if (!inc_status_shown(inc) || (!inc_is_open(inc) && inc->resolved_s < start))
            continue;
        at[i] = 0;
        inc_public_component(cat, inc->service, name, sizeof name);
        for (int k = 1; name[0] && k < cs->n; k++)
            if (strcmp(cs->c[k].name, name) == 0)
                at[i] = k;
    }
    return at;
}

int64_t inc_uptime_from(const struct incident_mgr *m, int64_t now)
{
    int64_t today = now - now % 86400, start = today - (INC_UPTIME_DAYS - 1) * 86400;
    return m->since_s > start ? m->since_s : start;
}

json_t *inc_uptime_json(struct incident_mgr *m, const struct inc_comps *cs,
                        const struct catalog *cat, int64_t now)
{
    int64_t today = now - now % 86400, start = today - (INC_UPTIME_DAYS - 1) * 86400;
    int64_t since = inc_uptime_from(m, now);
    int64_t n = (int64_t)INC_UPTIME_DAYS * DAY_MINUTES, observed = (now - since + 59) / 60;
    unsigned char *mins = oc_malloc((size_t)n);
    int *at = incident_comps(m, cs, cat, start);
    json_t *arr = json_array();
    char id[16];
    for (int k = 0; k < cs->n; k++) {
        int any = 0;
        memset(mins, 0, (size_t)n);
        for (int i = 0; i < m->n; i++) {
            const struct incident *inc = m->incs[i];
            if (at[i] < 0 || (k > 0 && at[i] != k))
                continue;
            int64_t to = inc_is_open(inc) ? now : inc->resolved_s;
            mark(mins, (inc->opened_s - start) / 60, (to - start + 59) / 60, inc->sev, n);
            any = 1;
        }
        double uptime;
        json_t *days = days_json(any ? mins : NULL, start, m->since_s, observed, &uptime);
        inc_comp_id(cs->c[k].name, id, sizeof id);
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:f, s:o}", "id", id, "name", cs->c[k].name,
                                        "uptime_percentage", uptime, "days", days));
    }
    free(at);
    free(mins);
    return arr;
}
