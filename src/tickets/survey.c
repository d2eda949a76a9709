/*
 * survey.c - the post-incident survey: when an incident of a surveyed severity
 * (tickets.survey_severities) resolves, one micro-survey request per affected account (the
 * accounts of the tickets linked to it) is queued in tickets_outbox (kind "survey") and the
 * delivery thread (outbox.c) POSTs it to tickets.survey_url with Bearer tickets.survey_token,
 * in the shape Delighted- or Zigpoll-like tools take for "survey this person": {customer_id,
 * delay, send, survey, properties: {...}}. An account is asked at most once per incident and
 * once per tickets.survey_cooldown_days whatever the incident. Replies come back through
 * POST /v1/feedback carrying the incident_id the request named.
 *
 * Runs on the bus's draining thread after the module's mutex is let go: the incident is read
 * through incident.h, then the store under its lock.
 */
#include "tickets/tickets_int.h"
#include "tickets/sql.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "incident/incident.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SURVEY_ROWS 64 /* accounts read per store round */

int tickets_survey_severity_ok(const char *list, const char *sev)
{
    size_t n = sev ? strlen(sev) : 0;
    for (const char *p = list ? list : ""; n && *p;) {
        p += strspn(p, " ,");
        size_t len = strcspn(p, " ,");
        if (len == n && strncasecmp(p, sev, n) == 0)
            return 1;
        p += len;
    }
    return 0;
}

/* One account to survey. */
struct sacct {
    char account[TICKETS_ACCOUNT_MAX + 1];
    char segment[32], tier[16], service[TICKETS_FIELD_MAX];
};

/* The request's body (a new string the caller frees). */
static char *survey_body(const struct tickets_mod *m, const struct sacct *a, const char *inc_ref,
                         const json_t *inc)
{
    char resolved[OC_TIME_LEN] = "";
    const json_t *ra = json_object_get(inc, "resolved_at");
    if (json_is_integer(ra))
        oc_time_format((int64_t)json_integer_value(ra) * 1000, resolved, sizeof resolved);
    const char *sev = json_string_value(json_object_get(inc, "severity")),
               *title = json_string_value(json_object_get(inc, "title")),
               *isvc = json_string_value(json_object_get(inc, "service"));
    json_t *props =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "customer_id", a->account,
                  "incident_id", inc_ref, "severity", sev ? sev : "", "incident_title",
                  title ? title : "", "service", a->service[0] ? a->service : (isvc ? isvc : ""),
                  "segment", a->segment, "tier", a->tier, "resolved_at", resolved);
    json_t *b = json_pack("{s:s, s:I, s:b, s:s, s:s, s:o}", "customer_id", a->account, "delay",
                          (json_int_t)m->o.survey_delay_s, "send", 1, "survey", m->o.survey_kind,
                          "survey_id", "", "properties", props);
    char sid[TICKETS_ACCOUNT_MAX + 40];
    snprintf(sid, sizeof sid, "%s:%s", inc_ref, a->account);
    json_object_set_new(b, "survey_id", json_string(sid));
    char *s = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(b);
    return s;
}

int tickets_survey_queue(struct tickets_mod *m, int64_t incident, int64_t now_ms, int *skipped)
{
    struct store *s = m->app->store;
    struct incident_mgr *im = incident_mgr_of(m->app);
    json_t *inc = NULL;
    int queued = 0;
    *skipped = 0;
    if (!m->o.survey_url || !m->o.survey_url[0] || !im ||
        incident_get_json(im, incident, &inc) != 0)
        return 0;
    const char *sev = json_string_value(json_object_get(inc, "severity"));
    if (json_is_true(json_object_get(inc, "test")) ||
        !tickets_survey_severity_ok(m->o.survey_severities, sev)) {
        json_decref(inc);
        return 0;
    }
    char ref[32];
    snprintf(ref, sizeof ref, "INC-%lld", (long long)incident);
    int64_t since = now_ms - m->o.survey_cooldown_days * 86400000LL;
    struct sacct *v = oc_calloc(SURVEY_ROWS, sizeof *v);
    /* the accounts, SURVEY_ROWS at a time (keyset on the account), then their rows queued */
    char after[TICKETS_ACCOUNT_MAX + 1] = "";
    for (int64_t seen = 0; seen < m->o.survey_max;) {
        struct store_stmt *q = NULL, *ins = NULL;
        int n = 0;
        store_lock(s);
        if (store_prepare(s, TICKETS_SQL_SURVEY_ACCOUNTS, &q) == 0 &&
            STORE_BIND(q, STORE_INT(incident), STORE_TEXT(after), STORE_INT(SURVEY_ROWS)) == 0)
            while (n < SURVEY_ROWS && store_step(q) == STORE_ROW) {
                struct sacct *a = &v[n++];
                const char *c1 = store_col_text(q, 1), *c2 = store_col_text(q, 2),
                           *c3 = store_col_text(q, 3);
                snprintf(a->account, sizeof a->account, "%s", store_col_text(q, 0));
                snprintf(a->segment, sizeof a->segment, "%s", c1 ? c1 : "");
                snprintf(a->tier, sizeof a->tier, "%s", c2 ? c2 : "");
                snprintf(a->service, sizeof a->service, "%s", c3 ? c3 : "");
            }
        tickets_stmt_done(q);
        for (int i = 0; i < n && seen < m->o.survey_max; i++, seen++) {
            char *body = survey_body(m, &v[i], ref, inc);
            if (store_prepare(s, TICKETS_SQL_SURVEY_PUT, &ins) == 0 &&
                STORE_BIND(ins, STORE_TEXT(v[i].account), STORE_INT(incident), STORE_TEXT(body),
                           STORE_INT(now_ms), STORE_INT(since)) == 0 &&
                store_step(ins) == STORE_DONE) {
                if (store_changes(s) > 0)
                    queued++;
                else
                    (*skipped)++;
            } else {
                oc_log(OC_LOG_ERROR, "tickets: cannot queue a survey: %s", store_errmsg(s));
            }
            tickets_stmt_done(ins);
            free(body);
        }
        store_unlock(s);
        if (n < SURVEY_ROWS)
            break;
        snprintf(after, sizeof after, "%s", v[n - 1].account);
    }
    free(v);
    json_decref(inc);
    if (queued || *skipped)
        oc_log(OC_LOG_INFO,
               "tickets: %s resolved: %d survey requests queued, %d accounts asked"
               " already (this incident or within tickets.survey_cooldown_days)",
               ref, queued, *skipped);
    if (queued)
        tickets_outbox_wake(m);
    return queued;
}
