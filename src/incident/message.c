/*
 * message.c - what each kind of notification endpoint receives for an incident event.
 *
 * The bus payload of an incident event says what changed (topic, incident id, a few fields);
 * a person reading a chat message or a page needs the incident around it: severity, title,
 * slice, owner, on-call, runbook and links. inc_msg_fill copies that context out of the
 * incident (under the manager's lock, when the event is published) and inc_msg_body shapes
 * one body per kind:
 *   slack         Block Kit blocks with the "text" fallback
 *   teams         a Teams Workflows message carrying one Adaptive Card (version 1.4)
 *   teams_legacy  the retired Office 365 connector MessageCard, for old connector URLs
 *   pagerduty     Events API v2 (routing key added at send time, never stored)
 *   webhook       {"type", "timestamp", "data", "incident"}, signed per Standard Webhooks
 * Links need incident.public_url (the base URL people reach the server at); without it the
 * messages carry no links rather than relative ones nobody can open from a chat.
 */
#include "incident/incident_int.h"
#include "catalog/catalog.h"
#include "core/topics.h"

#include <stdio.h>
#include <string.h>

#define HEADER_MAX 150 /* Slack header blocks take at most 150 characters */

/* The verb a topic reads as in a headline ("incident.page" -> "paged"). */
static const char *verb_of(const char *topic)
{
    static const char *const map[][2] = {
        {OC_TOPIC_INCIDENT_OPENED, "opened"},
        {OC_TOPIC_INCIDENT_ACKNOWLEDGED, "acknowledged"},
        {OC_TOPIC_INCIDENT_RESOLVED, "resolved"},
        {OC_TOPIC_INCIDENT_MITIGATED, "mitigated"},
        {OC_TOPIC_INCIDENT_MERGED, "merged"},
        {OC_TOPIC_INCIDENT_PAGE, "paged"},
        {OC_TOPIC_INCIDENT_COMMS_REMINDER, "status update due"},
        {OC_TOPIC_INCIDENT_SEVERITY_CHANGED, "severity changed"},
        {OC_TOPIC_INCIDENT_STATUS_UPDATE, "status update"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(topic, map[i][0]) == 0)
            return map[i][1];
    return strncmp(topic, "incident.", 9) == 0 ? topic + 9 : topic;
}

static const char *str_of(const json_t *p, const char *key)
{
    const char *s = json_string_value(json_object_get(p, key));
    return s ? s : "";
}

/* The sentence the event adds to the incident's context ("" when none). */
static void detail_of(const char *topic, const json_t *p, char *out, size_t n)
{
    out[0] = 0;
    if (strcmp(topic, OC_TOPIC_INCIDENT_PAGE) == 0)
        snprintf(out, n, "Paged %s%s%s.", str_of(p, "target"), *str_of(p, "team") ? " of " : "",
                 str_of(p, "team"));
    else if (strcmp(topic, OC_TOPIC_INCIDENT_ACKNOWLEDGED) == 0)
        snprintf(out, n, "Acknowledged by %s.", str_of(p, "by"));
    else if (strcmp(topic, OC_TOPIC_INCIDENT_MERGED) == 0)
        snprintf(out, n, "Merged into %s: same root cause %s.", str_of(p, "into"),
                 str_of(p, "cause"));
    else if (strcmp(topic, OC_TOPIC_INCIDENT_SEVERITY_CHANGED) == 0)
        snprintf(out, n, "Severity %s -> %s: %s", str_of(p, "from"), str_of(p, "severity"),
                 str_of(p, "reason"));
    else if (strcmp(topic, OC_TOPIC_INCIDENT_STATUS_UPDATE) == 0)
        snprintf(out, n, "Public status %s: %s", str_of(p, "status"), str_of(p, "body"));
    else if (strcmp(topic, OC_TOPIC_INCIDENT_COMMS_REMINDER) == 0)
        snprintf(out, n, "%s %s: the public status is due an update.", str_of(p, "role"),
                 str_of(p, "target"));
}

/* Cuts a UTF-8 sequence that snprintf truncation left incomplete at the end of s. */
static void utf8_trim(char *s)
{
    size_t n = strlen(s), i = n, cont = 0;
    while (i > 0 && (s[i - 1] & 0xC0) == 0x80 && cont < 3)
        i--, cont++;
    if (i == 0 || ((unsigned char)s[i - 1] & 0x80) == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
    if (cont < want)
        s[i - 1] = 0;
}

void inc_msg_fill(struct incident_mgr *m, const char *topic, const json_t *p, struct inc_msg *out)
{
    memset(out, 0, sizeof *out);
    out->topic = topic;
    out->payload = p;
    snprintf(out->id, sizeof out->id, "%s", str_of(p, "incident_id"));
    detail_of(topic, p, out->detail, sizeof out->detail);
    utf8_trim(out->detail);
    long long n = 0;
    struct incident *inc = sscanf(out->id, "INC-%lld", &n) == 1 ? inc_find(m, n) : NULL;
    if (!inc)
        return;
    out->found = 1;
    snprintf(out->severity, sizeof out->severity, "%s", inc_sev_name(inc->sev));
    snprintf(out->state, sizeof out->state, "%s", incident_state_name(inc->state));
    snprintf(out->title, sizeof out->title, "%s", inc->title);
    snprintf(out->service, sizeof out->service, "%s", inc->service);
    snprintf(out->team, sizeof out->team, "%s", inc->team);
    inc_slice_text(inc->slice, out->slice, sizeof out->slice);
    utf8_trim(out->slice);
    utf8_trim(out->title);
    for (int i = 0; i < inc->nalerts; i++)
        if (inc->alerts[i].opener) {
            snprintf(out->metric, sizeof out->metric, "%s", inc->alerts[i].metric);
            break;
        }
    struct catalog_route r;
    if (inc->service[0] && catalog_route_app(m->app, NULL, inc->service,
                                             oc_clock_now_s(m->app->clock) * 1000, &r) == 0) {
        snprintf(out->oncall, sizeof out->oncall, "%s", r.oncall);
        snprintf(out->runbook, sizeof out->runbook, "%s", r.runbook);
    }
    const char *base = m->o.public_url ? m->o.public_url : "";
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    if (bl > 0) {
        snprintf(out->url, sizeof out->url, "%.*s/#/incidents/%s", (int)bl, base, out->id);
        snprintf(out->status_url, sizeof out->status_url, "%.*s/status", (int)bl, base);
    }
}

/* The one-line text: the chat fallback and the page summary. */
void inc_msg_line(const struct inc_msg *msg, char *out, size_t n)
{
    const json_t *p = msg->payload;
    const char *sev = msg->severity[0] ? msg->severity : str_of(p, "severity");
    const char *title = msg->title[0] ? msg->title : str_of(p, "title");
    if (!title[0])
        title = str_of(p, "body");
    snprintf(out, n, "[oncue] %s %s%s%s%s%s%s%s", msg->id[0] ? msg->id : "?", verb_of(msg->topic),
             sev[0] ? " " : "", sev, title[0] ? ": " : "", title, msg->team[0] ? " team " : "",
             msg->team);
}

/* Copies s into out escaped for Slack mrkdwn (&, <, > are control characters there); a
 * character that does not fit is left out whole. */
static void slack_esc(const char *s, char *out, size_t n)
{
    size_t j = 0;
    for (; *s; s++) {
        if ((*s & 0xC0) != 0x80 && j + 6 + 4 >= n) /* room for the longest escape or character */
            break;
        const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
        if (e) {
            memcpy(out + j, e, strlen(e));
            j += strlen(e);
        } else {
            out[j++] = *s;
        }
    }
    out[j] = 0;
}

/* A Slack mrkdwn field "*Label*\nvalue" (escaped). */
static json_t *slack_field(const char *label, const char *value)
{
    char esc[512], text[600];
    slack_esc(value, esc, sizeof esc);
    snprintf(text, sizeof text, "*%s*\n%s", label, esc);
    return json_pack("{s:s, s:s}", "type", "mrkdwn", "text", text);
}

static json_t *slack_button(const char *label, const char *url)
{
    return json_pack("{s:s, s:{s:s, s:s}, s:s}", "type", "button", "text", "type", "plain_text",
                     "text", label, "url", url);
}

/* The links a message offers: the incident, its runbook, the public status page. */
struct link {
    const char *label, *url;
};

static int links_of(const struct inc_msg *msg, struct link *out /* [3] */)
{
    int n = 0;
    if (msg->url[0])
        out[n++] = (struct link){"Open incident", msg->url};
    if (strncmp(msg->runbook, "http://", 7) == 0 || strncmp(msg->runbook, "https://", 8) == 0)
        out[n++] = (struct link){"Runbook", msg->runbook};
    if (msg->status_url[0])
        out[n++] = (struct link){"Status page", msg->status_url};
    return n;
}

/* The facts a message lists, in order, skipping the empty ones. */
struct fact {
    const char *label, *value;
};

static int facts_of(const struct inc_msg *msg, struct fact *out /* [6] */)
{
    const struct fact all[] = {
        {"Severity", msg->severity}, {"State", msg->state},    {"Owner", msg->team},
        {"Service", msg->service},   {"On call", msg->oncall}, {"Slice", msg->slice},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i].value[0])
            out[n++] = all[i];
    return n;
}

/* Copies at most max characters of UTF-8 s into out (never splitting a character). */
static void utf8_prefix(const char *s, size_t max, char *out, size_t n)
{
    size_t i = 0, chars = 0;
    while (s[i] && chars < max) {
        size_t len = 1;
        while ((s[i + len] & 0xC0) == 0x80) /* continuation bytes belong to this character */
            len++;
        if (i + len >= n)
            break;
        i += len;
        chars++;
    }
    memcpy(out, s, i);
    out[i] = 0;
}

static json_t *slack_body(const struct inc_msg *msg, const char *line)
{
    char head[4 * HEADER_MAX + 1], text[1200], fallback[1600];
    struct link links[3];
    struct fact facts[6];
    utf8_prefix(line + strlen("[oncue] "), HEADER_MAX, head, sizeof head);
    slack_esc(line, fallback, sizeof fallback); /* the text fallback is mrkdwn too */
    json_t *blocks = json_array();
    json_array_append_new(blocks, json_pack("{s:s, s:{s:s, s:s}}", "type", "header", "text", "type",
                                            "plain_text", "text", head));
    if (msg->detail[0]) {
        slack_esc(msg->detail, text, sizeof text);
        json_array_append_new(blocks, json_pack("{s:s, s:{s:s, s:s}}", "type", "section", "text",
                                                "type", "mrkdwn", "text", text));
    }
    int nf = facts_of(msg, facts);
    if (nf > 0) {
        json_t *fields = json_array();
        for (int i = 0; i < nf; i++)
            json_array_append_new(fields, slack_field(facts[i].label, facts[i].value));
        json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "fields", fields));
    }
    int nl = links_of(msg, links);
    if (nl > 0) {
        json_t *el = json_array();
        for (int i = 0; i < nl; i++)
            json_array_append_new(el, slack_button(links[i].label, links[i].url));
        json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "actions", "elements", el));
    }
    return json_pack("{s:s, s:o}", "text", fallback, "blocks", blocks);
}

static json_t *teams_body(const struct inc_msg *msg, const char *line)
{
    struct link links[3];
    struct fact facts[6];
    json_t *body = json_array(), *actions = json_array(), *fs = json_array();
    int sev1or2 = !strcmp(msg->severity, "SEV1") || !strcmp(msg->severity, "SEV2");
    json_array_append_new(body,
                          json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "type", "TextBlock", "text",
                                    line + strlen("[oncue] "), "weight", "Bolder", "size", "Medium",
                                    "wrap", 1, "color", sev1or2 ? "Attention" : "Default"));
    if (msg->detail[0])
        json_array_append_new(body, json_pack("{s:s, s:s, s:b}", "type", "TextBlock", "text",
                                              msg->detail, "wrap", 1));
    int nf = facts_of(msg, facts);
    for (int i = 0; i < nf; i++)
        json_array_append_new(
            fs, json_pack("{s:s, s:s}", "title", facts[i].label, "value", facts[i].value));
    if (nf > 0)
        json_array_append_new(body, json_pack("{s:s, s:o}", "type", "FactSet", "facts", fs));
    else
        json_decref(fs);
    int nl = links_of(msg, links);
    for (int i = 0; i < nl; i++)
        json_array_append_new(actions, json_pack("{s:s, s:s, s:s}", "type", "Action.OpenUrl",
                                                 "title", links[i].label, "url", links[i].url));
    json_t *card = json_pack("{s:s, s:s, s:s, s:o}", "$schema",
                             "http://adaptivecards.io/schemas/adaptive-card.json", "type",
                             "AdaptiveCard", "version", "1.4", "body", body);
    if (nl > 0)
        json_object_set_new(card, "actions", actions);
    else
        json_decref(actions);
    return json_pack("{s:s, s:s, s:[{s:s, s:n, s:o}]}", "type", "message", "summary", line,
                     "attachments", "contentType", "application/vnd.microsoft.card.adaptive",
                     "contentUrl", "content", card);
}

static const char *pd_action(const char *topic)
{
    if (strcmp(topic, OC_TOPIC_INCIDENT_OPENED) == 0)
        return "trigger";
    if (strcmp(topic, OC_TOPIC_INCIDENT_ACKNOWLEDGED) == 0)
        return "acknowledge";
    if (strcmp(topic, OC_TOPIC_INCIDENT_RESOLVED) == 0)
        return "resolve";
    return NULL;
}

static const char *pd_severity(const char *sev)
{
    if (!strcmp(sev, "SEV1"))
        return "critical";
    if (!strcmp(sev, "SEV2"))
        return "error";
    if (!strcmp(sev, "SEV3"))
        return "warning";
    return "info";
}

static json_t *pd_body(const struct inc_msg *msg, const char *line, const char *ts)
{
    char dedup[64];
    struct link links[3];
    const char *action = pd_action(msg->topic);
    if (!action)
        return NULL;
    snprintf(dedup, sizeof dedup, "oncue/%s", msg->id[0] ? msg->id : "?");
    json_t *b =
        json_pack("{s:s, s:s, s:s}", "routing_key", "", "event_action", action, "dedup_key", dedup);
    if (strcmp(action, "trigger") != 0)
        return b;
    const char *sev = msg->severity[0] ? msg->severity : str_of(msg->payload, "severity");
    /* source: where the problem is (the service, else the slice); component and group place it
     * in the service map; class is the kind of problem (the opening metric) */
    const char *source = msg->service[0] ? msg->service : msg->slice[0] ? msg->slice : "oncue";
    json_t *pl =
        json_pack("{s:s, s:s, s:s, s:s, s:O}", "summary", line, "source", source, "severity",
                  pd_severity(sev), "timestamp", ts, "custom_details", msg->payload);
    if (msg->service[0])
        json_object_set_new(pl, "component", json_string(msg->service));
    if (msg->team[0])
        json_object_set_new(pl, "group", json_string(msg->team));
    const char *metric = msg->metric[0] ? msg->metric : str_of(msg->payload, "metric");
    if (metric[0])
        json_object_set_new(pl, "class", json_string(metric));
    json_object_set_new(b, "payload", pl);
    json_object_set_new(b, "client", json_string("oncue"));
    if (msg->url[0])
        json_object_set_new(b, "client_url", json_string(msg->url));
    int nl = links_of(msg, links);
    if (nl > 0) {
        json_t *a = json_array();
        for (int i = 0; i < nl; i++)
            json_array_append_new(
                a, json_pack("{s:s, s:s}", "href", links[i].url, "text", links[i].label));
        json_object_set_new(b, "links", a);
    }
    return b;
}

/* The incident object a generic webhook carries next to the event ("incident": {...}). */
static json_t *webhook_incident(const struct inc_msg *msg)
{
    json_t *o = json_pack("{s:s}", "id", msg->id);
    const struct fact f[] = {
        {"severity", msg->severity}, {"state", msg->state},     {"title", msg->title},
        {"service", msg->service},   {"team", msg->team},       {"oncall", msg->oncall},
        {"slice", msg->slice},       {"runbook", msg->runbook}, {"url", msg->url},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].value[0])
            json_object_set_new(o, f[i].label, json_string(f[i].value));
    return o;
}

json_t *inc_msg_body(const char *kind, const struct inc_msg *msg, int64_t now)
{
    char line[512], ts[32];
    inc_msg_line(msg, line, sizeof line);
    inc_iso_time(now, ts, sizeof ts);
    if (strcmp(kind, "slack") == 0)
        return slack_body(msg, line);
    if (strcmp(kind, "teams") == 0)
        return teams_body(msg, line);
    if (strcmp(kind, "teams_legacy") == 0)
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "@type", "MessageCard", "@context",
                         "https://schema.org/extensions", "summary", line, "themeColor", "D93F0B",
                         "title", msg->id[0] ? msg->id : "oncue", "text", line);
    if (strcmp(kind, "pagerduty") == 0)
        return pd_body(msg, line, ts);
    json_t *b =
        json_pack("{s:s, s:s, s:O}", "type", msg->topic, "timestamp", ts, "data", msg->payload);
    if (msg->found)
        json_object_set_new(b, "incident", webhook_incident(msg));
    return b;
}
