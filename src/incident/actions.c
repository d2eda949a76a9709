/*
 * actions.c - the incident manager's life (new, destroy, bus subscriptions) and what
 * responders do: acknowledge, note, assign and release roles, post public status updates,
 * resolve (by the rule or forced with a reason), override the severity, close; and reads.
 *
 * Every action is written to the timeline with its actor and time before it returns.
 */
#include "incident/incident_int.h"
#include "incident/sql.h"
#include "core/lock.h"
#include "core/topics.h"
#include "config/config.h"
#include "core/alloc.h"
#include "core/bus.h"
#include "core/err.h"
#include "core/log.h"
#include "store/store.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[] = {"commander", "comms", "ops", "scribe", NULL};
static const char *const public_statuses[] = {"investigating", "identified", "monitoring",
                                              "resolved", NULL};

#define F(field) offsetof(struct incident_opts, field)

/* The incident module's settings over struct incident_opts (the grid's percentages are
 * stored as shares). */
const struct oc_setting incident_settings[] = {
    {"incident.group_window_s", OC_SETTING_INT, "1800", 0, 604800, NULL, F(group_window_s), NULL,
     "a firing alert joins an open incident with an overlapping slice opened this recently"},
    {"incident.recovery_window_s", OC_SETTING_INT, "1800", 0, 604800, NULL, F(recovery_window_s),
     NULL,
     "seconds the metrics that opened an incident must stay inside their band before it resolves"},
    {"incident.followup_hours", OC_SETTING_INT, "72", 1, 8760, NULL, F(followup_hours), NULL,
     "deadline of follow-up items for temporary mitigations that name none"},
    {"incident.sev1_cannot_start_pct", OC_SETTING_PCT, "25", 1, 100, NULL,
     F(grid.sev1_cannot_start), NULL,
     "severity grid: SEV1 when more than this % of viewers cannot start"},
    {"incident.sev1_rebuffer_pct", OC_SETTING_PCT, "15", 1, 100, NULL, F(grid.sev1_rebuffer), NULL,
     "severity grid: SEV1 when the global rebuffer ratio is above this %..."},
    {"incident.sev1_rebuffer_for_s", OC_SETTING_INT, "120", 0, 86400, NULL, F(grid.sev1_rebuffer_s),
     NULL, "...for longer than this many seconds"},
    {"incident.sev2_affected_pct", OC_SETTING_PCT, "5", 1, 100, NULL, F(grid.sev2_affected), NULL,
     "severity grid: SEV2 when more than this % of viewers are affected"},
    {"incident.webhooks_file", OC_SETTING_STR, "", 0, 0, NULL, F(webhooks_file), NULL,
     "YAML list of notification endpoints (name, kind slack|teams|teams_legacy|pagerduty|webhook,"
     " url, secret)"},
    {"incident.public_url", OC_SETTING_STR, "", 0, 0, NULL, F(public_url), NULL,
     "base URL of this server as viewers reach it, for status page links; empty: relative"},
    {"incident.outbound_allow", OC_SETTING_STR, "", 0, 0, NULL, F(outbound_allow), NULL,
     "addresses or ranges (\"127.0.0.1/32 10.0.0.0/8\") notifications and deploy webhooks may"
     " reach although loopback, private or link-local; empty: public addresses only"},
    {"incident.deploy_secret", OC_SETTING_STR, "", 0, 0, NULL, F(deploy_secret), NULL,
     "Standard Webhooks secret (whsec_...) signing rollback calls to catalog deploy_webhook URLs;"
     " empty: one made at the first start, kept sealed in the store (an admin reads it with"
     " `oncue incident deploy-secret`)"},
    {"incident.publish_sev1_after_s", OC_SETTING_INT, "600", -1, 86400, NULL, F(publish_after_s[1]),
     NULL,
     "status page: a SEV1 still a draft this many seconds after it opened is published by rule"
     " (-1: only a person publishes)"},
    {"incident.publish_sev2_after_s", OC_SETTING_INT, "600", -1, 86400, NULL, F(publish_after_s[2]),
     NULL, "status page: the same for a SEV2"},
    {"incident.publish_sev3_after_s", OC_SETTING_INT, "-1", -1, 86400, NULL, F(publish_after_s[3]),
     NULL, "status page: the same for a SEV3 (-1: only a person publishes)"},
    {0},
};

#undef F

/* Fills o with the rows' defaults; the fields that are not settings get theirs here. */
void incident_opts_default(struct incident_opts *o)
{
    memset(o, 0, sizeof(*o));
    config_settings_defaults(incident_settings, o);
    o->reclassify_s = 60;
    o->publish_after_s[4] = -1; /* a SEV4 is never on the status page */
}

static void on_bus(const char *topic, const json_t *payload, void *arg)
{
    incident_on_event(arg, topic, payload);
}

int incident_mgr_subscribe(struct incident_mgr *m)
{
    for (const struct oc_module_sub *r = incident_module.subs; m->app->bus && r->topic; r++)
        if (oc_bus_subscribe(m->app->bus, r->topic, on_bus, m) != 0)
            return OC_ETOOBIG;
    m->subscribed = m->app->bus != NULL;
    return 0;
}

int incident_reload_endpoints(struct incident_mgr *m, char *say, size_t n)
{
    if (!m->o.webhooks_file || !m->o.webhooks_file[0])
        return snprintf(say, n, "no incident.webhooks_file to re-read"), 0;
    int rc = inc_outbox_load_file(m->ob, m->o.webhooks_file, say, n);
    if (rc == 0)
        snprintf(say, n, "notification endpoints re-read from %s", m->o.webhooks_file);
    return rc;
}

/* The status page's first observed second (m->since_s): kept in store_meta from the first
 * start; an installation that had incidents before the table existed counts from its oldest
 * one. */
static void load_since(struct incident_mgr *m)
{
    struct store *s = m->app->store;
    struct store_stmt *st;
    int64_t now = oc_clock_now_s(m->app->clock), first = now;
    for (int i = 0; i < m->n; i++)
        if (m->incs[i]->opened_s < first)
            first = m->incs[i]->opened_s;
    m->since_s = first;
    store_lock(s);
    if (store_prepare(s, INC_SQL_SINCE_SET, &st) == 0) {
        store_bind_int(st, 1, first);
        store_step(st);
        store_reset(st);
    }
    if (store_prepare(s, INC_SQL_SINCE_GET, &st) == 0) {
        if (store_step(st) == STORE_ROW)
            m->since_s = store_col_int(st, 0);
        store_reset(st);
    }
    store_unlock(s);
}

int incident_mgr_new(struct oc_app *app, const struct incident_opts *o, struct incident_mgr **out,
                     char *err, size_t errlen)
{
    char sig[128];
    struct incident_mgr *m = oc_calloc(1, sizeof(*m));
    int rc = OC_EINVAL;
    *out = NULL;
    m->app = app;
    m->o = *o;
    pthread_mutex_init(&m->mu, NULL);
    if (!app->store) {
        snprintf(err, errlen, "incident: the store is not open");
        goto out;
    }
    m->shared = app->leased != NULL; /* replicas on one store: refresh before each use */
    if ((rc = inc_load_all(m)) != 0) {
        snprintf(err, errlen, "incident: cannot load incidents: %s", store_errmsg(app->store));
        goto out;
    }
    load_since(m);
    if ((rc = inc_outbox_new(app, o->outbound_allow, &m->ob, err, errlen)) != 0)
        goto out;
    if (o->deploy_secret && o->deploy_secret[0] &&
        (strncmp(o->deploy_secret, "whsec_", 6) != 0 || strlen(o->deploy_secret) < 38 ||
         incident_webhook_sign(o->deploy_secret, "msg_check", 0, "", 0, sig, sizeof(sig)) != 0)) {
        rc = OC_EINVAL;
        snprintf(err, errlen,
                 "incident.deploy_secret: not a Standard Webhooks secret (whsec_ "
                 "followed by the base64 of 24 to 64 bytes)");
        goto out;
    }
    if ((rc = inc_deploy_secret_load(m, err, errlen)) != 0)
        goto out;
    if (o->webhooks_file && o->webhooks_file[0] &&
        (rc = inc_outbox_load_file(m->ob, o->webhooks_file, err, errlen)) != 0)
        goto out;
    *out = m;
    m = NULL;
    rc = 0;
out:
    incident_mgr_destroy(m);
    return rc;
}

void incident_mgr_destroy(struct incident_mgr *m)
{
    if (!m)
        return;
    if (m->subscribed)
        oc_bus_unsubscribe(m->app->bus, on_bus, m);
    for (int i = 0; i < m->n; i++)
        inc_free(m->incs[i]);
    free(m->incs);
    inc_outbox_destroy(m->ob);
    inc_deploy_secret_free(m);
    json_decref(m->regroup);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

struct incident_outbox *incident_outbox(struct incident_mgr *m)
{
    return m->ob;
}

/* Looks up id under inc_lock_write (write 1) or inc_lock; on success the caller holds the
 * lock and must inc_unlock. */
static int lock_find_as(struct incident_mgr *m, int64_t id, int write, struct incident **inc)
{
    if (write)
        inc_lock_write(m);
    else
        inc_lock(m);
    if ((*inc = inc_find(m, id)) != NULL)
        return 0;
    inc_unlock(m);
    return OC_ENOTFOUND;
}

/* lock_find_as for a change. */
static int lock_find(struct incident_mgr *m, int64_t id, struct incident **inc)
{
    return lock_find_as(m, id, 1, inc);
}

static json_t *alert_id_list(const struct incident *inc)
{
    json_t *a = json_array();
    for (int i = 0; i < inc->nalerts; i++)
        json_array_append_new(a, json_string(inc->alerts[i].id));
    return a;
}

int incident_ack(struct incident_mgr *m, int64_t id, const char *actor)
{
    struct incident *inc;
    int64_t now = oc_clock_now_s(m->app->clock);
    char ids[32];
    int rc = lock_find(m, id, &inc);
    if (rc)
        return rc;
    if (inc->state != INCIDENT_TRIGGERED) {
        rc = OC_ECONFLICT;
        goto out;
    }
    inc->state = INCIDENT_ACKNOWLEDGED;
    inc->acked_s = now;
    inc_tl_add(m, id, now, "ack", actor, NULL, 0, "acknowledged by %s", actor);
    rc = inc_save(m, inc);
    inc_format_id(id, ids, sizeof(ids));
    json_t *alerts = alert_id_list(inc);
    struct oc_ev_incident ev = {.incident_id = ids, .alert_ids = alerts, .by = actor, .at = now};
    inc_publish(m, OC_TOPIC_INCIDENT_ACKNOWLEDGED, oc_ev_incident_build(&ev));
    json_decref(alerts);
out:
    inc_unlock(m);
    return rc;
}

int incident_note(struct incident_mgr *m, int64_t id, const char *actor, const char *text)
{
    struct incident *inc;
    int rc;
    if (!text || !text[0] || strlen(text) > INCIDENT_MAX_TEXT)
        return OC_EINVAL;
    if ((rc = lock_find(m, id, &inc)) != 0)
        return rc;
    rc = inc_tl_add(m, id, oc_clock_now_s(m->app->clock), "note", actor, NULL, 0, "%s", text);
    inc_unlock(m);
    return rc;
}

/* Assigns (person non-empty) or releases an SME; 0 or OC_ETOOBIG. */
static int set_sme(struct incident *inc, const char *person)
{
    for (int i = 0; i < INCIDENT_MAX_SMES; i++) {
        if (!person || !person[0])
            inc->smes[i][0] = 0;
        else if (strcmp(inc->smes[i], person) == 0)
            return 0;
    }
    for (int i = 0; person && person[0] && i < INCIDENT_MAX_SMES; i++) {
        if (!inc->smes[i][0]) {
            snprintf(inc->smes[i], sizeof(inc->smes[i]), "%s", person);
            return 0;
        }
    }
    return person && person[0] ? OC_ETOOBIG : 0;
}

static int role_index(const char *role)
{
    for (int i = 0; role && role_names[i]; i++)
        if (strcmp(role, role_names[i]) == 0)
            return i;
    return role && strcmp(role, "sme") == 0 ? ROLE_NSINGLE : -1;
}

int incident_role(struct incident_mgr *m, int64_t id, const char *actor, const char *role,
                  const char *person, char *err, size_t errlen)
{
    struct incident *inc;
    int k = role_index(role), rc;
    int64_t now = oc_clock_now_s(m->app->clock);
    if (k < 0 || (person && strlen(person) >= INC_NAME_MAX)) {
        snprintf(err, errlen,
                 "role must be commander, comms, ops, sme or scribe, with a person "
                 "name shorter than %d bytes",
                 INC_NAME_MAX);
        return OC_EINVAL;
    }
    if ((rc = lock_find(m, id, &inc)) != 0)
        return rc;
    if (k == ROLE_NSINGLE)
        rc = set_sme(inc, person);
    else
        snprintf(inc->roles[k], sizeof(inc->roles[k]), "%s", person ? person : "");
    if (rc) {
        snprintf(err, errlen, "at most %d subject-matter experts", INCIDENT_MAX_SMES);
    } else {
        if (person && person[0])
            inc_tl_add(m, id, now, "role", actor,
                       json_pack("{s:s, s:s}", "role", role, "person", person), 0,
                       "%s assigned as %s", person, role);
        else
            inc_tl_add(m, id, now, "role", actor, json_pack("{s:s}", "role", role), 0,
                       "role %s released", role);
        rc = inc_save(m, inc);
    }
    inc_unlock(m);
    return rc;
}

static int in_list(const char *s, const char *const *list)
{
    for (int i = 0; s && list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

int incident_status_update(struct incident_mgr *m, int64_t id, const char *actor,
                           const char *status, const char *body, char *err, size_t errlen)
{
    struct incident *inc;
    int64_t now = oc_clock_now_s(m->app->clock);
    char ids[32];
    int rc;
    if (!in_list(status, public_statuses) || !body || !body[0] ||
        strlen(body) > INCIDENT_MAX_TEXT) {
        snprintf(err, errlen,
                 "status must be investigating, identified, monitoring or resolved "
                 "and body 1 to %d bytes",
                 INCIDENT_MAX_TEXT);
        return OC_EINVAL;
    }
    if ((rc = lock_find(m, id, &inc)) != 0)
        return rc;
    if (!inc->published_s && inc->merged_into[0]) { /* it would publish a duplicate */
        snprintf(err, errlen, "merged into %s: post public updates there", inc->merged_into);
        inc_unlock(m);
        return OC_ECONFLICT;
    }
    snprintf(inc->public_status, sizeof(inc->public_status), "%s", status);
    inc->last_public_s = now;
    inc_tl_add(m, id, now, "status_update", actor, json_pack("{s:s}", "status", status), 1, "%s",
               body);
    rc = inc_save(m, inc);
    if (!inc->published_s) /* a person writing to viewers publishes the draft */
        inc_publish_locked(m, inc, actor, "with a public status update", now);
    else
        inc_status_notify(m, "incident.updated", inc, NULL);
    inc_format_id(id, ids, sizeof(ids));
    struct oc_ev_incident ev = {.incident_id = ids, .status = status, .body = body, .at = now};
    inc_publish(m, OC_TOPIC_INCIDENT_STATUS_UPDATE, oc_ev_incident_build(&ev));
    inc_unlock(m);
    return rc;
}

int incident_resolve(struct incident_mgr *m, int64_t id, const char *actor, int force,
                     const char *reason, char *err, size_t errlen)
{
    struct incident *inc;
    int64_t now = oc_clock_now_s(m->app->clock);
    char why[INCIDENT_MAX_TEXT + 64];
    int rc;
    if (force && (!reason || !reason[0] || strlen(reason) > INCIDENT_MAX_TEXT)) {
        snprintf(err, errlen, "a forced resolve needs a reason");
        return OC_EINVAL;
    }
    if ((rc = lock_find(m, id, &inc)) != 0)
        return rc;
    if (!inc_is_open(inc)) {
        snprintf(err, errlen, "the incident is already %s", incident_state_name(inc->state));
        rc = OC_ECONFLICT;
    } else if (!force && !inc_recovered(m, inc, now)) {
        snprintf(err, errlen,
                 "the metrics that opened it have not been back inside their band for %lld s; "
                 "force with a reason",
                 (long long)m->o.recovery_window_s);
        rc = OC_ECONFLICT;
    } else {
        if (force)
            snprintf(why, sizeof(why), "forced by %s: %s", actor, reason);
        else
            snprintf(why, sizeof(why), "metrics back inside their band for the recovery window");
        rc = inc_resolve_locked(m, inc, actor, why, now);
    }
    inc_unlock(m);
    return rc;
}

int incident_set_severity(struct incident_mgr *m, int64_t id, const char *actor, int sev,
                          const char *reason, char *err, size_t errlen)
{
    struct incident *inc;
    struct incident_impact imp;
    int64_t now = oc_clock_now_s(m->app->clock);
    char ids[32];
    int rc;
    if (sev < 1 || sev > 4 || !reason || !reason[0] || strlen(reason) > INCIDENT_MAX_TEXT) {
        snprintf(err, errlen, "severity must be 1 to 4 (or SEV1..SEV4) with a reason");
        return OC_EINVAL;
    }
    if ((rc = lock_find(m, id, &inc)) != 0)
        return rc;
    int old = inc->sev;
    inc_measure(m, inc, now, &imp);
    inc->sev_override = incident_classify(&m->o.grid, &imp, NULL, 0);
    inc->sev = sev;
    inc_tl_add(m, id, now, "severity", actor,
               json_pack("{s:s, s:s}", "from", inc_sev_name(old), "to", inc_sev_name(sev)), 0,
               "severity set %s -> %s by %s: %s", inc_sev_name(old), inc_sev_name(sev), actor,
               reason);
    rc = inc_save(m, inc);
    inc_format_id(id, ids, sizeof(ids));
    inc_publish_severity(m, ids, old, sev, reason, now);
    inc_unlock(m);
    return rc;
}

int incident_followup_add(struct incident_mgr *m, int64_t id, const char *actor, const char *title,
                          int64_t due_s, char *err, size_t errlen)
{
    struct incident *inc;
    int64_t now = oc_clock_now_s(m->app->clock);
    char due[32];
    int rc;
    if (!title || !title[0] || strlen(title) > INCIDENT_MAX_TEXT || due_s <= now) {
        snprintf(err, errlen, "title (1 to %d bytes) and a deadline in the future are required",
                 INCIDENT_MAX_TEXT);
        return OC_EINVAL;
    }
    if ((rc = lock_find(m, id, &inc)) != 0)
        return rc;
    inc_iso_time(due_s, due, sizeof(due));
    rc = inc_fu_add(m, id, title, "action", NULL, due_s);
    if (!rc)
        rc = inc_tl_add(m, id, now, "followup", actor, NULL, 0, "follow-up added: %s (due %s)",
                        title, due);
    inc_unlock(m);
    return rc;
}

int incident_close(struct incident_mgr *m, int64_t id, const char *actor)
{
    struct incident *inc;
    int64_t now = oc_clock_now_s(m->app->clock);
    int rc = lock_find(m, id, &inc);
    if (rc)
        return rc;
    if (inc->state != INCIDENT_RESOLVED) {
        rc = OC_ECONFLICT;
    } else {
        inc->state = INCIDENT_CLOSED;
        inc->closed_s = now;
        inc_tl_add(m, id, now, "closed", actor, NULL, 0, "closed by %s", actor);
        rc = inc_save(m, inc);
    }
    inc_unlock(m);
    return rc;
}

/* Does inc match the list's state filter (NULL: any; "open": not resolved or closed; else a
 * state's name)? */
static int state_matches(const struct incident *inc, const char *state_filter)
{
    if (!state_filter)
        return 1;
    if (strcmp(state_filter, "open") == 0)
        return inc_is_open(inc);
    return strcmp(state_filter, incident_state_name(inc->state)) == 0;
}

/* The index in m->incs (sorted by id) of the newest incident with an id below before, or
 * -1 when there is none; before 0 is "from the newest". Caller holds m->mu. */
static int start_below(const struct incident_mgr *m, int64_t before)
{
    int lo = 0, hi = m->n;
    if (before <= 0)
        return m->n - 1;
    while (lo < hi) { /* the first index whose id is >= before */
        int mid = lo + (hi - lo) / 2;
        if (m->incs[mid]->id < before)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}

json_t *incident_page_json(struct incident_mgr *m, const char *state_filter, int64_t before,
                           int limit, int64_t *next)
{
    json_t *arr = json_array();
    int64_t last = 0; /* the id of the page's oldest incident */
    int i, taken = 0;
    *next = 0;
    inc_lock(m);
    for (i = start_below(m, before); i >= 0 && taken < limit; i--) {
        if (!state_matches(m->incs[i], state_filter))
            continue;
        json_array_append_new(arr, inc_to_json(m->incs[i], 0));
        last = m->incs[i]->id;
        taken++;
    }
    /* a next page only when one more incident matches (reading flags, building nothing): the
     * last page carries no link */
    for (; i >= 0 && taken == limit; i--) {
        if (state_matches(m->incs[i], state_filter)) {
            *next = last;
            break;
        }
    }
    inc_unlock(m);
    return arr;
}

/* ?state=open answers every open incident on one page unless the client asks for fewer: the
 * console's open list and scripts reading it once are never cut. */
_Static_assert(INCIDENT_PAGE_MAX >= INCIDENT_MAX_OPEN, "one page holds every open incident");

int incident_page_parse(const char *state, const char *limit, const char *before,
                        struct incident_page_req *out, char *err, size_t errlen)
{
    long x = 0;
    int open = state && strcmp(state, "open") == 0;
    int known = !state || open || strcmp(state, "all") == 0;
    out->limit = open ? INCIDENT_PAGE_MAX : INCIDENT_PAGE_DEFAULT;
    out->before = 0;
    for (int s = 0; !known && s <= INCIDENT_CLOSED; s++)
        known = strcmp(state, incident_state_name((enum incident_state)s)) == 0;
    if (!known) {
        snprintf(err, errlen,
                 "state: all, open, triggered, acknowledged, mitigated, resolved or closed");
        return OC_EINVAL;
    }
    if (limit) {
        for (const char *p = limit; *p && x <= INCIDENT_PAGE_MAX; p++)
            x = *p >= '0' && *p <= '9' ? x * 10 + (*p - '0') : INCIDENT_PAGE_MAX + 1;
        if (!limit[0] || x < 1 || x > INCIDENT_PAGE_MAX) {
            snprintf(err, errlen, "limit: an integer from 1 to %d (default %d; %d with state=open)",
                     INCIDENT_PAGE_MAX, INCIDENT_PAGE_DEFAULT, INCIDENT_PAGE_MAX);
            return OC_EINVAL;
        }
        out->limit = (int)x;
    }
    if (before && incident_id_parse(before, &out->before) != 0) {
        out->before = 0;
        snprintf(err, errlen, "before: an incident id (INC-7 or 7), as in the next link");
        return OC_EINVAL;
    }
    return 0;
}

json_t *incident_list_json(struct incident_mgr *m, const char *state_filter)
{
    int64_t next;
    return incident_page_json(m, state_filter, 0, INT_MAX, &next);
}

int incident_get_json(struct incident_mgr *m, int64_t id, json_t **out)
{
    struct incident *inc;
    int rc = lock_find_as(m, id, 0, &inc);
    *out = NULL;
    if (rc)
        return rc;
    *out = inc_to_json(inc, 0);
    json_object_set_new(*out, "timeline", inc_tl_json(m, id));
    json_object_set_new(*out, "followups", inc_fu_json(m, id));
    inc_unlock(m);
    return 0;
}
