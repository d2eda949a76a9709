/*
 * status.c - the public status page: the documents of Atlassian Statuspage's public API v2
 * (/api/v2/summary.json, status.json, components.json, incidents.json,
 * incidents/unresolved.json, scheduled-maintenances*.json; /status.json is the summary) and
 * GET /status, the same as one self-contained HTML page (no external assets).
 *
 * Only published incidents (publish.c) viewers can notice (SEV1-SEV3) are shown; their updates are
 * the public status updates comms posted (timeline rows marked public). Components are public names
 * (a service's catalog public_name, else a name from its kind), never internal service names, with
 * ids stable across requests and restarts (a hash of the name) and times taken from the incidents
 * that touched them.
 */
#include "incident/incident_int.h"
#include "catalog/catalog.h"
#include "core/alloc.h"
#include "core/lock.h"
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTML_MAX  (4 << 20) /* bytes of the HTML page */
#define PAST_DAYS 14        /* days of resolved incidents the HTML page lists */

static const char *const impacts[] = {"none", "critical", "major", "minor", "none"};
static const char *const comp_status[] = {"operational", "major_outage", "partial_outage",
                                          "degraded_performance", "operational"};
/* What the HTML page shows for each comp_status value. */
static const char *const comp_words[] = {"Operational", "Major outage", "Partial outage",
                                         "Degraded performance", "Operational"};
#define MAINT_WORDS "Under maintenance" /* what the HTML page shows for under_maintenance */

/* The words of a component status ("major_outage" -> "Major outage"). */
static const char *comp_word(const char *status)
{
    for (size_t i = 0; status && i < sizeof(comp_status) / sizeof(comp_status[0]); i++)
        if (strcmp(status, comp_status[i]) == 0)
            return comp_words[i];
    return status && strcmp(status, "under_maintenance") == 0 ? MAINT_WORDS : status;
}

static const char *const descriptions[] = {"All Systems Operational", "Major Service Outage",
                                           "Partial System Outage", "Minor Service Outage",
                                           "All Systems Operational"};

/* What viewers call a service of a kind when the catalog gives it no public_name: never the
 * service's own (internal) name. */
static const struct {
    const char *kind, *name;
} kind_names[] = {
    {"cdn", "Video streaming"},
    {"origin", "Video streaming"},
    {"packager", "Video streaming"},
    {"encoder", "Video streaming"},
    {"manifest", "Video streaming"},
    {"storage", "Video streaming"},
    {"playback", "Video streaming"},
    {"drm", "Protected playback"},
    {"player", "Video players"},
    {"api", "Apps and website"},
    {"auth", "Sign-in"},
    {"profile", "Profiles"},
    {"entitlements", "Subscriptions"},
    {"billing", "Subscriptions"},
    {"search", "Browse and search"},
    {"metadata", "Browse and search"},
    {"resume", "Continue watching"},
    {"ads", "Ads"},
};

#define PLAYBACK "Video playback" /* the first component: every incident touches it */

/* The public component name of service (into out), from the catalog; "" when unknown. */
void inc_public_component(const struct catalog *cat, const char *service, char *out, size_t n)
{
    const struct catalog_service *s = cat && service[0] ? catalog_service_find(cat, service) : NULL;
    out[0] = 0;
    if (s && s->public_name && s->public_name[0]) {
        snprintf(out, n, "%s", s->public_name);
        return;
    }
    for (size_t i = 0; s && i < sizeof kind_names / sizeof kind_names[0]; i++)
        if (strcmp(s->kind, kind_names[i].kind) == 0) {
            snprintf(out, n, "%s", kind_names[i].name);
            return;
        }
    if (s)
        snprintf(out, n, "Other services");
}

/* The component named name in cs, added when new (NULL when the list is full). */
static struct inc_comp *comp_get(struct inc_comps *cs, const char *name)
{
    for (int i = 0; i < cs->n; i++)
        if (strcmp(cs->c[i].name, name) == 0)
            return &cs->c[i];
    if (cs->n == INC_COMPONENTS_MAX || !name[0])
        return NULL;
    struct inc_comp *c = &cs->c[cs->n++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    return c;
}

/* When inc last changed as viewers see it (resolved, last public update, published: its
 * first update, or opened). */
static int64_t inc_changed(const struct incident *inc)
{
    int64_t t = inc->opened_s;
    if (inc->published_s > t)
        t = inc->published_s;
    if (inc->last_public_s > t)
        t = inc->last_public_s;
    if (!inc_is_open(inc) && inc->resolved_s > t)
        t = inc->resolved_s;
    return t;
}

/* Whether the status page shows inc: published (publish.c) and SEV1-SEV3 (a SEV4 is
 * invisible to viewers). */
int inc_status_shown(const struct incident *inc)
{
    return inc->published_s && inc->sev <= 3;
}

/* The components: "Video playback" first, then every public component of the catalog's
 * services (cat, NULL without a catalog) in catalog order, then any an incident names beyond
 * those; statuses from the open incidents. Caller holds m->mu. */
void inc_comps_build(struct incident_mgr *m, const struct catalog *cat, struct inc_comps *cs)
{
    char name[128];
    cs->n = 0;
    comp_get(cs, PLAYBACK);
    for (int i = 0; cat && i < cat->nservices; i++) {
        inc_public_component(cat, cat->services[i]->name, name, sizeof name);
        comp_get(cs, name);
    }
    for (int i = 0; i < m->n; i++) {
        const struct incident *inc = m->incs[i];
        if (!inc_status_shown(inc))
            continue;
        inc_public_component(cat, inc->service, name, sizeof name);
        struct inc_comp *on[2] = {&cs->c[0], name[0] ? comp_get(cs, name) : NULL};
        for (int k = 0; k < 2; k++) {
            if (!on[k])
                continue;
            if (inc_is_open(inc) && (!on[k]->worst || inc->sev < on[k]->worst))
                on[k]->worst = inc->sev;
            if (inc_changed(inc) > on[k]->changed)
                on[k]->changed = inc_changed(inc);
        }
    }
}

/* A stable id for a component name: 12 hex digits of its 64-bit FNV-1a hash. */
void inc_comp_id(const char *name, char *out, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    snprintf(out, n, "%012llx", (unsigned long long)(h >> 16));
}

json_t *inc_comp_json(const struct inc_comp *c, int pos, int64_t since)
{
    char id[16], ts[32], created[32];
    inc_comp_id(c->name, id, sizeof id);
    inc_iso_time(c->changed ? c->changed : since, ts, sizeof ts);
    inc_iso_time(c->changed && c->changed < since ? c->changed : since, created, sizeof created);
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:i, s:n, s:b, s:b, s:n, s:s, s:b}", "id", id, "name", c->name,
        "status", !c->worst && c->maintenance ? "under_maintenance" : comp_status[c->worst],
        "created_at", created, "updated_at", ts, "position", pos, "description", "showcase", 1,
        "group", 0, "group_id", "page_id", "oncue", "only_show_if_degraded", 0);
}

/* The components as JSON. since: the time shown for a component no incident touched. */
static json_t *components(const struct inc_comps *cs, int64_t since)
{
    json_t *arr = json_array();
    for (int i = 0; i < cs->n; i++)
        json_array_append_new(arr, inc_comp_json(&cs->c[i], i + 1, since));
    return arr;
}

/* One incident update as Statuspage shows it. */
static json_t *update_json(const char *id, const char *uid, const char *status, const char *body,
                           int64_t at)
{
    char ts[32];
    inc_iso_time(at, ts, sizeof(ts));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:n}", "id", uid, "status", status,
                     "body", body, "incident_id", id, "created_at", ts, "updated_at", ts,
                     "display_at", ts, "affected_components");
}

/* The incident's updates, newest first: the public status updates people posted, with, as
 * Statuspage always has them, a first one when it was published (when nobody wrote one) and
 * a last one when it resolved (when nobody wrote "resolved"). */
static json_t *updates(struct incident_mgr *m, const struct incident *inc, const char *id)
{
    json_t *pub = inc_tl_public(m, inc->id), *arr = json_array(), *u;
    size_t i;
    char uid[64];
    int said_resolved = 0;
    json_array_foreach(pub, i, u)
    {
        said_resolved |= strcmp(json_string_value(json_object_get(u, "status")), "resolved") == 0;
    }
    if (!inc_is_open(inc) && !said_resolved) {
        snprintf(uid, sizeof(uid), "%s-resolved", id);
        json_array_append_new(
            arr,
            update_json(id, uid, "resolved", "This incident has been resolved.", inc->resolved_s));
    }
    json_array_foreach(pub, i, u)
    {
        snprintf(uid, sizeof(uid), "%s-u%lld", id,
                 (long long)json_integer_value(json_object_get(u, "seq")));
        json_array_append_new(arr,
                              update_json(id, uid, json_string_value(json_object_get(u, "status")),
                                          json_string_value(json_object_get(u, "body")),
                                          json_integer_value(json_object_get(u, "at"))));
    }
    if (json_array_size(pub) == 0) {
        snprintf(uid, sizeof(uid), "%s-published", id);
        json_array_append_new(arr,
                              update_json(id, uid, "investigating",
                                          "We are investigating this issue.", inc->published_s));
    }
    json_decref(pub);
    return arr;
}

/* What viewers see of a metric (the first word of an incident's title). */
static const struct {
    const char *metric, *phrase;
} public_phrases[] = {
    {"concurrent_rebuffering_share", "Buffering during playback"},
    {"rebuffering_share", "Buffering during playback"},
    {"rebuffer_ratio", "Buffering during playback"},
    {"vsf_rate", "Videos failing to start"},
    {"ebvs_rate", "Videos slow to start"},
    {"vpf_rate", "Videos stopping during playback"},
    {"avg_bitrate_kbps", "Lower video quality"},
    {"startup_p50_ms", "Videos slow to start"},
    {"startup_p95_ms", "Videos slow to start"},
};

#define NAME_REGIONS 8 /* regions a public name lists */

/* Adds region to regs (nreg used) unless it is empty, there already or regs is full. */
static int add_region(char regs[][64], int nreg, const char *region, size_t len)
{
    if (len == 0 || len >= 64 || nreg == NAME_REGIONS)
        return nreg;
    for (int i = 0; i < nreg; i++)
        if (strlen(regs[i]) == len && strncmp(regs[i], region, len) == 0)
            return nreg;
    snprintf(regs[nreg], 64, "%.*s", (int)len, region);
    return nreg + 1;
}

/* The viewer-facing phrase of metric (its first k bytes), or NULL for a metric viewers do not
 * see as such (a service's own, scraped or from Alertmanager). */
static const char *public_phrase(const char *metric, size_t k)
{
    for (size_t i = 0; i < sizeof(public_phrases) / sizeof(public_phrases[0]); i++)
        if (strlen(public_phrases[i].metric) == k &&
            strncmp(metric, public_phrases[i].metric, k) == 0)
            return public_phrases[i].phrase;
    return NULL;
}

/* The incident's public name: the viewer-facing phrase of its metric (for an incident opened
 * by a service's own signal, of the first viewers' alert that joined it) and the regions its
 * slice and alerts ("rule/region=EMEA,cdn=x") name ("Buffering during playback in NA, EMEA"),
 * never the internal title. */
static void public_name(const struct incident *inc, char *out, size_t n)
{
    const char *own = json_string_value(json_object_get(inc->slice, "region"));
    char regs[NAME_REGIONS][64];
    int nreg = own ? add_region(regs, 0, own, strlen(own)) : 0;
    size_t len;
    const char *phrase = public_phrase(inc->title, strcspn(inc->title, " "));
    for (int i = 0; i < inc->nalerts && !phrase; i++)
        phrase = public_phrase(inc->alerts[i].metric, strlen(inc->alerts[i].metric));
    if (!phrase)
        phrase = "Degraded playback";
    for (int i = 0; i < inc->nalerts; i++) {
        const char *key = strchr(inc->alerts[i].id, '/'), *r = key ? strstr(key, "region=") : NULL;
        if (r && (r[-1] == '/' || r[-1] == ','))
            nreg = add_region(regs, nreg, r + 7, strcspn(r + 7, ","));
    }
    len = (size_t)snprintf(out, n, "%s", phrase);
    for (int i = 0; i < nreg && len < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%s", i ? ", " : " in ", regs[i]);
}

static json_t *opt_time(int64_t t)
{
    char ts[32];
    if (!t)
        return json_null();
    inc_iso_time(t, ts, sizeof ts);
    return json_string(ts);
}

/* One incident as Statuspage shows it, with the components it touches (cs). Caller holds
 * m->mu. */
static json_t *incident_json(struct incident_mgr *m, const struct incident *inc, const char *base,
                             const struct inc_comps *cs, const struct catalog *cat)
{
    char id[32], created[32], link[512], name[320], comp[128];
    json_t *ups, *touched = json_array();
    public_name(inc, name, sizeof(name));
    inc_format_id(inc->id, id, sizeof(id));
    inc_iso_time(inc->opened_s, created, sizeof(created));
    ups = updates(m, inc, id);
    inc_public_component(cat, inc->service, comp, sizeof comp);
    for (int i = 0; i < cs->n; i++)
        if (i == 0 || (comp[0] && strcmp(cs->c[i].name, comp) == 0))
            json_array_append_new(touched, inc_comp_json(&cs->c[i], i + 1, inc->opened_s));
    int open = inc_is_open(inc);
    snprintf(link, sizeof(link), "%s/status#%s", base, id);
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:n, s:o, s:s, s:s, s:s, s:s, s:o, s:o}", "id", id,
                     "name", name, "status", open ? inc->public_status : "resolved", "created_at",
                     created, "updated_at", opt_time(inc_changed(inc)), "monitoring_at",
                     "resolved_at", opt_time(open ? 0 : inc->resolved_s), "impact",
                     impacts[inc->sev], "shortlink", link, "started_at", created, "page_id",
                     "oncue", "incident_updates", ups, "components", touched);
}

/* The page object; updated_at is the last change anything on it saw (the installation's first
 * start when none). */
static json_t *page_json(const char *base, int64_t updated)
{
    char ts[32];
    inc_iso_time(updated, ts, sizeof ts);
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", "oncue", "name", "Streaming status", "url",
                     base, "time_zone", "Etc/UTC", "updated_at", ts);
}

#define HISTORY_MAX 50 /* incidents in incidents.json, newest first */

/* The page's indicator and its words from the components (maintenance flags set). */
static void page_status(const struct inc_comps *cs, const char **indicator,
                        const char **description)
{
    int worst = cs->c[0].worst, under = 0;
    for (int i = 0; i < cs->n; i++)
        under |= cs->c[i].maintenance;
    *indicator = !worst && under ? "maintenance" : impacts[worst];
    *description = !worst && under ? "Service Under Maintenance" : descriptions[worst];
}

json_t *inc_status_payload(struct incident_mgr *m, const struct incident *inc)
{
    const char *base = m->o.public_url ? m->o.public_url : "", *indicator, *description;
    struct inc_comps *cs = oc_malloc(sizeof *cs);
    struct catalog_ref ref;
    const struct catalog *cat = catalog_get(m->app, &ref) == 0 ? ref.cat : NULL;
    inc_comps_build(m, cat, cs);
    json_decref(inc_maint_json(m, cs, base, oc_clock_now_s(m->app->clock), MAINT_ACTIVE));
    page_status(cs, &indicator, &description);
    json_t *out = json_pack("{s:{s:s, s:s, s:s}}", "page", "id", "oncue", "status_indicator",
                            indicator, "status_description", description);
    if (inc)
        json_object_set_new(out, "incident", incident_json(m, inc, base, cs, cat));
    if (cat)
        catalog_put(&ref);
    free(cs);
    return out;
}

json_t *incident_status_doc(struct incident_mgr *m, enum incident_status_doc doc)
{
    const char *base = m->o.public_url ? m->o.public_url : "";
    int64_t now = oc_clock_now_s(m->app->clock), updated = 0;
    struct inc_comps *cs = oc_malloc(sizeof *cs);
    struct catalog_ref ref;
    json_t *incs = json_array(), *out;
    int listed = 0;
    inc_lock(m);
    const struct catalog *cat = catalog_get(m->app, &ref) == 0 ? ref.cat : NULL;
    inc_comps_build(m, cat, cs);
    for (int i = 0; i < cs->n; i++)
        if (cs->c[i].changed > updated)
            updated = cs->c[i].changed;
    for (int i = m->n - 1; i >= 0; i--) {
        const struct incident *inc = m->incs[i];
        int want = doc == STATUS_INCIDENTS ? listed < HISTORY_MAX
                                           : doc == STATUS_SUMMARY || doc == STATUS_UNRESOLVED;
        if (!inc_status_shown(inc) || !want || (doc != STATUS_INCIDENTS && !inc_is_open(inc)))
            continue;
        json_array_append_new(incs, incident_json(m, inc, base, cs, cat));
        listed++;
    }
    enum inc_maint_which which = doc == STATUS_MAINTENANCES     ? MAINT_ALL
                                 : doc == STATUS_MAINT_UPCOMING ? MAINT_UPCOMING
                                 : doc == STATUS_MAINT_ACTIVE   ? MAINT_ACTIVE
                                                                : MAINT_CURRENT;
    json_t *maint = inc_maint_json(m, cs, base, now, which), *status;
    const char *indicator, *description;
    page_status(cs, &indicator, &description);
    /* nothing changed yet: the page and its components date from the installation's first
     * start, not from this request */
    int64_t since = m->since_s > 0 && m->since_s <= now ? m->since_s : now;
    json_t *page = page_json(base, updated ? updated : since);
    status = json_pack("{s:s, s:s}", "indicator", indicator, "description", description);
    switch (doc) {
    case STATUS_SUMMARY:
        out = json_pack("{s:o, s:o, s:O, s:O, s:O}", "page", page, "components",
                        components(cs, since), "incidents", incs, "scheduled_maintenances", maint,
                        "status", status);
        break;
    case STATUS_STATUS:
        out = json_pack("{s:o, s:O}", "page", page, "status", status);
        break;
    case STATUS_COMPONENTS:
        out = json_pack("{s:o, s:o}", "page", page, "components", components(cs, since));
        break;
    case STATUS_UPTIME: {
        char from[32];
        inc_iso_time(inc_uptime_from(m, now), from, sizeof from);
        out = json_pack("{s:o, s:i, s:s, s:o}", "page", page, "days", INC_UPTIME_DAYS,
                        "observed_from", from, "components", inc_uptime_json(m, cs, cat, now));
        break;
    }
    case STATUS_INCIDENTS:
    case STATUS_UNRESOLVED:
        out = json_pack("{s:o, s:O}", "page", page, "incidents", incs);
        break;
    default: /* scheduled maintenances */
        out = json_pack("{s:o, s:O}", "page", page, "scheduled_maintenances", maint);
    }
    if (cat)
        catalog_put(&ref);
    inc_unlock(m);
    json_decref(incs);
    json_decref(maint);
    json_decref(status);
    free(cs);
    return out;
}

json_t *incident_status_json(struct incident_mgr *m)
{
    return incident_status_doc(m, STATUS_SUMMARY);
}

void inc_esc(struct oc_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            oc_buf_puts(b, "&lt;");
            break;
        case '>':
            oc_buf_puts(b, "&gt;");
            break;
        case '&':
            oc_buf_puts(b, "&amp;");
            break;
        case '"':
            oc_buf_puts(b, "&quot;");
            break;
        default:
            oc_buf_append(b, s, 1);
        }
    }
}

const char *inc_jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void html_incident(struct oc_buf *b, const json_t *inc)
{
    size_t i;
    json_t *u;
    oc_buf_puts(b, "<section class=\"inc\" id=\"");
    inc_esc(b, inc_jstr(inc, "id"));
    oc_buf_puts(b, "\"><h2>");
    inc_esc(b, inc_jstr(inc, "name"));
    oc_buf_puts(b, "</h2><p class=\"meta\">");
    inc_esc(b, inc_jstr(inc, "status"));
    oc_buf_puts(b, " &middot; impact ");
    inc_esc(b, inc_jstr(inc, "impact"));
    oc_buf_puts(b, " &middot; since ");
    inc_esc(b, inc_jstr(inc, "started_at"));
    if (inc_jstr(inc, "scheduled_until")[0]) {
        oc_buf_puts(b, " &middot; until ");
        inc_esc(b, inc_jstr(inc, "scheduled_until"));
    }
    if (inc_jstr(inc, "resolved_at")[0]) {
        oc_buf_puts(b, " &middot; resolved ");
        inc_esc(b, inc_jstr(inc, "resolved_at"));
    }
    oc_buf_puts(b, "</p>");
    json_array_foreach(json_object_get(inc, "incident_updates"), i, u)
    {
        oc_buf_puts(b, "<div class=\"upd\"><b>");
        inc_esc(b, inc_jstr(u, "status"));
        oc_buf_puts(b, "</b> &mdash; ");
        inc_esc(b, inc_jstr(u, "body"));
        oc_buf_puts(b, " <time>");
        inc_esc(b, inc_jstr(u, "created_at"));
        oc_buf_puts(b, "</time></div>");
    }
    oc_buf_puts(b, "</section>");
}

/* One day's bar: its colour from its worst status, its title the date and the minutes. */
static void html_bar(struct oc_buf *b, const json_t *day)
{
    static const char *const keys[] = {"major_outage_minutes", "partial_outage_minutes",
                                       "degraded_performance_minutes"};
    static const char *const words[] = {"major outage", "partial outage", "degraded performance"};
    int said = 0;
    oc_buf_printf(b, "<span class=\"d %s\" title=\"%s: ", inc_jstr(day, "status"),
                  inc_jstr(day, "date"));
    for (int k = 0; k < 3; k++) {
        json_int_t n = json_integer_value(json_object_get(day, keys[k]));
        if (n)
            oc_buf_printf(b, "%s%s %lld min", said++ ? ", " : "", words[k], (long long)n);
    }
    oc_buf_printf(b, "%s\"></span>",
                  said                                              ? ""
                  : strcmp(inc_jstr(day, "status"), "no_data") == 0 ? "no data (not watched yet)"
                                                                    : "no downtime recorded");
}

/* The uptime bars of the component named name from the uptime document up. */
static void html_bars(struct oc_buf *b, const json_t *up, const char *name)
{
    size_t i, k;
    json_t *c, *day;
    json_array_foreach(json_object_get(up, "components"), i, c)
    {
        if (strcmp(inc_jstr(c, "name"), name) != 0)
            continue;
        json_t *days = json_object_get(c, "days");
        const char *from = inc_jstr(up, "observed_from");
        /* a page younger than the window says since when its figure counts */
        int young = strncmp(from, inc_jstr(json_array_get(days, 0), "date"), 10) > 0;
        oc_buf_puts(b, "<div class=\"bars\">");
        json_array_foreach(days, k, day) html_bar(b, day);
        oc_buf_printf(b,
                      "</div><div class=\"meta row\"><span>%d days ago</span><span>%.2f %% "
                      "uptime%s%.10s</span><span>Today</span></div>",
                      INC_UPTIME_DAYS, json_number_value(json_object_get(c, "uptime_percentage")),
                      young ? " since " : "", young ? from : "");
        return;
    }
}

/* "Past incidents": the last PAST_DAYS UTC days, newest first, each with the resolved
 * incidents that opened that day and their updates, or "No incidents reported.". */
static void html_past(struct oc_buf *b, struct incident_mgr *m)
{
    int64_t now = oc_clock_now_s(m->app->clock), today = now - now % 86400;
    json_t *past = incident_status_doc(m, STATUS_INCIDENTS), *v;
    size_t i;
    char date[32];
    oc_buf_puts(b, "<h2 class=\"past\">Past incidents</h2>");
    for (int d = 0; d < PAST_DAYS; d++) {
        int any = 0;
        inc_iso_time(today - (int64_t)d * 86400, date, sizeof date);
        oc_buf_printf(b, "<h3 class=\"day\">%.10s</h3>", date);
        json_array_foreach(json_object_get(past, "incidents"), i, v)
        {
            if (strcmp(inc_jstr(v, "status"), "resolved") != 0 ||
                strncmp(inc_jstr(v, "created_at"), date, 10) != 0)
                continue;
            html_incident(b, v);
            any = 1;
        }
        if (!any)
            oc_buf_puts(b, "<p class=\"meta\">No incidents reported.</p>");
    }
    json_decref(past);
}

char *incident_status_html(struct incident_mgr *m)
{
    struct oc_buf b;
    json_t *s = incident_status_json(m), *v;
    size_t i;
    oc_buf_init(&b, HTML_MAX);
    oc_buf_puts(&b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    "<title>Streaming status</title><style>"
                    "body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;"
                    "padding:0 1rem;color:#1b1b1b}h1{font-size:1.6rem}.banner{padding:1rem;"
                    "border-radius:6px;color:#fff;font-weight:600}.none{background:#2e7d32}"
                    ".minor{background:#b26a00}.major{background:#c2410c}.critical{background:"
                    "#b91c1c}ul{padding:0;list-style:none}li{border-bottom:1px solid #ddd;padding:"
                    ".5rem 0}.row{display:flex;justify-content:space-between}.bars{display:flex;"
                    "gap:1px;height:2rem;margin:.4rem 0 .2rem}.bars .d{flex:1;border-radius:1px}"
                    ".d.operational{background:#3ba55c}.d.degraded_performance{background:#e3b341}"
                    ".d.partial_outage{background:#e8590c}.d.major_outage{background:#c92a2a}"
                    ".d.no_data{background:#d0d4d9}"
                    ".inc{margin:1.5rem 0;padding:1rem;border:1px solid "
                    "#ddd;border-radius:6px}.meta,time{color:"
                    "#555;font-size:.9rem}.upd{margin-top:.5rem}</style></head><body>"
                    "<h1>Streaming status</h1>");
    json_t *st = json_object_get(s, "status");
    oc_buf_printf(&b, "<div class=\"banner %s\">", inc_jstr(st, "indicator"));
    inc_esc(&b, inc_jstr(st, "description"));
    oc_buf_puts(&b, "</div><ul>");
    json_t *up = incident_status_doc(m, STATUS_UPTIME);
    json_array_foreach(json_object_get(s, "components"), i, v)
    {
        oc_buf_puts(&b, "<li><div class=\"row\"><span>");
        inc_esc(&b, inc_jstr(v, "name"));
        oc_buf_puts(&b, "</span><span>");
        inc_esc(&b, comp_word(inc_jstr(v, "status")));
        oc_buf_puts(&b, "</span></div>");
        html_bars(&b, up, inc_jstr(v, "name"));
        oc_buf_puts(&b, "</li>");
    }
    json_decref(up);
    oc_buf_puts(&b, "</ul>");
    json_array_foreach(json_object_get(s, "incidents"), i, v) html_incident(&b, v);
    json_array_foreach(json_object_get(s, "scheduled_maintenances"), i, v)
    {
        if (i == 0)
            oc_buf_puts(&b, "<h2 class=\"maint\">Scheduled maintenance</h2>");
        html_incident(&b, v);
    }
    html_past(&b, m);
    oc_buf_puts(&b, "<p class=\"meta\">Updated ");
    inc_esc(&b, inc_jstr(json_object_get(s, "page"), "updated_at"));
    oc_buf_puts(&b, "</p></body></html>\n");
    json_decref(s);
    return oc_buf_steal(&b);
}
