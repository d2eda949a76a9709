/*
 * status.c - the public status page: GET /status.json shaped like Atlassian Statuspage's
 * summary (page, components, incidents with incident_updates, scheduled_maintenances, status
 * indicator) and GET /status, the same as one self-contained HTML page (no external assets).
 *
 * Only unresolved incidents that viewers can notice (SEV1-SEV3) are shown; their updates are
 * the public status updates comms posted (timeline rows marked public).
 */
#include "incident/incident_int.h"
#include "core/lock.h"
#include "core/buf.h"

#include <stdio.h>
#include <string.h>

#define HTML_MAX (4 << 20) /* bytes of the HTML page */

static const char *const impacts[] = {"none", "critical", "major", "minor", "none"};
static const char *const comp_status[] = {"operational", "major_outage", "partial_outage",
                                          "degraded_performance", "operational"};
/* What the HTML page shows for each comp_status value. */
static const char *const comp_words[] = {"Operational", "Major outage", "Partial outage",
                                         "Degraded performance", "Operational"};

/* The words of a component status ("major_outage" -> "Major outage"). */
static const char *comp_word(const char *status)
{
    for (size_t i = 0; status && i < sizeof(comp_status) / sizeof(comp_status[0]); i++)
        if (strcmp(status, comp_status[i]) == 0)
            return comp_words[i];
    return status;
}

static const char *const descriptions[] = {"All Systems Operational", "Major Service Outage",
                                           "Partial System Outage", "Minor Service Outage",
                                           "All Systems Operational"};

static json_t *component(const char *name, int pos, int worst, const char *ts)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:n, s:b, s:b, s:n, s:s, s:b}", "id", name,
                     "name", name, "status", comp_status[worst], "created_at", ts, "updated_at", ts,
                     "position", pos, "description", "showcase", 1, "group", 0, "group_id",
                     "page_id", "oncue", "only_show_if_degraded", 0);
}

/* Components: "Video playback" (worst of every shown incident) then one per service named by
 * an open incident, each with the worst severity touching it. */
static json_t *components(struct incident_mgr *m, const char *ts)
{
    json_t *arr = json_array();
    int worst = 0;
    for (int i = 0; i < m->n; i++) {
        const struct incident *inc = m->incs[i];
        if (inc_is_open(inc) && inc->sev <= 3 && (!worst || inc->sev < worst))
            worst = inc->sev;
    }
    json_array_append_new(arr, component("Video playback", 1, worst, ts));
    for (int i = 0; i < m->n; i++) {
        const struct incident *inc = m->incs[i];
        int w = 0, seen = 0;
        if (!inc_is_open(inc) || !inc->service[0] || inc->sev > 3)
            continue;
        for (int j = 0; j < m->n; j++) {
            const struct incident *o = m->incs[j];
            if (inc_is_open(o) && o->sev <= 3 && !strcmp(o->service, inc->service)) {
                seen |= j < i;
                if (!w || o->sev < w)
                    w = o->sev;
            }
        }
        if (!seen)
            json_array_append_new(arr,
                                  component(inc->service, (int)json_array_size(arr) + 1, w, ts));
    }
    return arr;
}

static json_t *updates(struct incident_mgr *m, const struct incident *inc, const char *id)
{
    json_t *pub = inc_tl_public(m, inc->id), *arr = json_array(), *u;
    size_t i;
    char ts[32], uid[64];
    json_array_foreach(pub, i, u)
    {
        inc_iso_time(json_integer_value(json_object_get(u, "at")), ts, sizeof(ts));
        snprintf(uid, sizeof(uid), "%s-u%lld", id,
                 (long long)json_integer_value(json_object_get(u, "seq")));
        json_array_append_new(arr, json_pack("{s:s, s:O, s:O, s:s, s:s, s:s, s:s, s:n}", "id", uid,
                                             "status", json_object_get(u, "status"), "body",
                                             json_object_get(u, "body"), "incident_id", id,
                                             "created_at", ts, "updated_at", ts, "display_at", ts,
                                             "affected_components"));
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

/* The incident's public name: the viewer-facing phrase of its metric and the regions its
 * slice and alerts ("rule/region=EMEA,cdn=x") name ("Buffering during playback in NA, EMEA"),
 * never the internal title. */
static void public_name(const struct incident *inc, char *out, size_t n)
{
    const char *phrase = "Degraded playback";
    const char *own = json_string_value(json_object_get(inc->slice, "region"));
    char regs[NAME_REGIONS][64];
    int nreg = own ? add_region(regs, 0, own, strlen(own)) : 0;
    size_t k = strcspn(inc->title, " "), len;
    for (size_t i = 0; i < sizeof(public_phrases) / sizeof(public_phrases[0]); i++)
        if (strlen(public_phrases[i].metric) == k &&
            strncmp(inc->title, public_phrases[i].metric, k) == 0)
            phrase = public_phrases[i].phrase;
    for (int i = 0; i < inc->nalerts; i++) {
        const char *key = strchr(inc->alerts[i].id, '/'), *r = key ? strstr(key, "region=") : NULL;
        if (r && (r[-1] == '/' || r[-1] == ','))
            nreg = add_region(regs, nreg, r + 7, strcspn(r + 7, ","));
    }
    len = (size_t)snprintf(out, n, "%s", phrase);
    for (int i = 0; i < nreg && len < n; i++)
        len += (size_t)snprintf(out + len, n - len, "%s%s", i ? ", " : " in ", regs[i]);
}

static json_t *incident_json(struct incident_mgr *m, const struct incident *inc, const char *base)
{
    char id[32], created[32], updated[32], link[512], name[320];
    json_t *ups;
    public_name(inc, name, sizeof(name));
    inc_format_id(inc->id, id, sizeof(id));
    inc_iso_time(inc->opened_s, created, sizeof(created));
    ups = updates(m, inc, id);
    inc_iso_time(json_array_size(ups) ? inc->last_public_s : inc->opened_s, updated,
                 sizeof(updated));
    snprintf(link, sizeof(link), "%s/status#%s", base, id);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:n, s:n, s:s, s:s, s:s, s:s, s:o, s:[]}", "id", id,
                     "name", name, "status", inc->public_status, "created_at", created,
                     "updated_at", updated, "monitoring_at", "resolved_at", "impact",
                     impacts[inc->sev], "shortlink", link, "started_at", created, "page_id",
                     "oncue", "incident_updates", ups, "components");
}

json_t *incident_status_json(struct incident_mgr *m)
{
    char now[32];
    const char *base = m->o.public_url ? m->o.public_url : "";
    json_t *incs = json_array();
    int worst = 0;
    inc_iso_time(oc_clock_now_s(m->app->clock), now, sizeof(now));
    oc_lock(&m->mu);
    for (int i = m->n - 1; i >= 0; i--) {
        const struct incident *inc = m->incs[i];
        if (!inc_is_open(inc) || inc->sev > 3)
            continue;
        if (!worst || inc->sev < worst)
            worst = inc->sev;
        json_array_append_new(incs, incident_json(m, inc, base));
    }
    json_t *out = json_pack("{s:{s:s, s:s, s:s, s:s, s:s}, s:o, s:o, s:[], s:{s:s, s:s}}", "page",
                            "id", "oncue", "name", "Streaming status", "url", base, "time_zone",
                            "Etc/UTC", "updated_at", now, "components", components(m, now),
                            "incidents", incs, "scheduled_maintenances", "status", "indicator",
                            impacts[worst], "description", descriptions[worst]);
    oc_unlock(&m->mu);
    return out;
}

static void esc(struct oc_buf *b, const char *s)
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

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void html_incident(struct oc_buf *b, const json_t *inc)
{
    size_t i;
    json_t *u;
    oc_buf_puts(b, "<section class=\"inc\" id=\"");
    esc(b, jstr(inc, "id"));
    oc_buf_puts(b, "\"><h2>");
    esc(b, jstr(inc, "name"));
    oc_buf_puts(b, "</h2><p class=\"meta\">");
    esc(b, jstr(inc, "status"));
    oc_buf_puts(b, " &middot; impact ");
    esc(b, jstr(inc, "impact"));
    oc_buf_puts(b, " &middot; since ");
    esc(b, jstr(inc, "started_at"));
    oc_buf_puts(b, "</p>");
    json_array_foreach(json_object_get(inc, "incident_updates"), i, u)
    {
        oc_buf_puts(b, "<div class=\"upd\"><b>");
        esc(b, jstr(u, "status"));
        oc_buf_puts(b, "</b> &mdash; ");
        esc(b, jstr(u, "body"));
        oc_buf_puts(b, " <time>");
        esc(b, jstr(u, "created_at"));
        oc_buf_puts(b, "</time></div>");
    }
    oc_buf_puts(b, "</section>");
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
                    "#b91c1c}ul{padding:0;list-style:none}li{display:flex;justify-content:"
                    "space-between;border-bottom:1px solid #ddd;padding:.5rem 0}.inc{margin:1.5rem"
                    " 0;padding:1rem;border:1px solid #ddd;border-radius:6px}.meta,time{color:"
                    "#555;font-size:.9rem}.upd{margin-top:.5rem}</style></head><body>"
                    "<h1>Streaming status</h1>");
    json_t *st = json_object_get(s, "status");
    oc_buf_printf(&b, "<div class=\"banner %s\">", jstr(st, "indicator"));
    esc(&b, jstr(st, "description"));
    oc_buf_puts(&b, "</div><ul>");
    json_array_foreach(json_object_get(s, "components"), i, v)
    {
        oc_buf_puts(&b, "<li><span>");
        esc(&b, jstr(v, "name"));
        oc_buf_puts(&b, "</span><span>");
        esc(&b, comp_word(jstr(v, "status")));
        oc_buf_puts(&b, "</span></li>");
    }
    oc_buf_puts(&b, "</ul>");
    json_array_foreach(json_object_get(s, "incidents"), i, v) html_incident(&b, v);
    oc_buf_puts(&b, "<p class=\"meta\">Updated ");
    esc(&b, jstr(json_object_get(s, "page"), "updated_at"));
    oc_buf_puts(&b, "</p></body></html>\n");
    json_decref(s);
    return oc_buf_steal(&b);
}
