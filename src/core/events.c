/*
 * events.c - every event type oncue emits, where it goes and the fields of its data: the table
 * from which `oncue docs events` writes docs/events.md and which event subscriptions check
 * their topics against (see topics.h for the constants and the shared payload builders).
 */
#include "core/topics.h"
#include "core/buf.h"

#include <string.h>

const struct oc_event_doc oc_event_docs[] = {
    {OC_TOPIC_ALERT_FIRED, "alert", OC_EV_BUS,
     "A rule's condition held for its whole window (the alert engine on complete minutes; "
     "an Alertmanager alert through `POST /v1/alerts/alertmanager`; a probe or scrape finding "
     "the alert module turns into an alert).",
     "`alert_id` (`RULE/GROUP`, or `am/FINGERPRINT`), `rule`, `metric` (a QoE metric, or the "
     "Alertmanager alert's name), `slice` (`{dimension: value}`; `{}` for every viewer), "
     "`value` and `threshold` (numbers, `null` when none; burn rates when `kind` is "
     "`burn_rate`), `op` (`>` or `<`), `level` (`page`, `notify`, `backlog`), `window_s` "
     "(seconds the condition held), `since` (firing since), `at`, `source` (`oncue` or "
     "`alertmanager`), `summary` (one line); `kind` (`threshold`, `burn_rate`, "
     "`alertmanager`) when known; `labels` (Alertmanager's) for its alerts"},
    {OC_TOPIC_ALERT_RESOLVED, "alert", OC_EV_BUS,
     "The alert's group is back inside its band (or Alertmanager resolved it).",
     "the fields of `alert.fired`; `at` is when it cleared"},
    {OC_TOPIC_INCIDENT_OPENED, "incident", OC_EV_BUS | OC_EV_NOTIFY,
     "An incident was declared (or a held one announced).",
     "`incident_id` (`INC-n`), `alert_ids` (array), `severity` (`SEV1`..`SEV4`), `slice`, "
     "`title`, `metric` (the opening alert's; `\"\"` when unknown), `at`; `held_s` (seconds "
     "it was held) when it was"},
    {OC_TOPIC_INCIDENT_HELD, "incident", OC_EV_BUS,
     "Declared but not announced: opened by a service's own signal and not localized, an "
     "older open incident may take it once rca names its cause; rca localizes it, nobody is "
     "paged or told (unless it is announced by `incident.opened`).",
     "the fields of `incident.opened`"},
    {OC_TOPIC_INCIDENT_ACKNOWLEDGED, "incident", OC_EV_BUS | OC_EV_NOTIFY,
     "Someone acknowledged the page.", "`incident_id`, `alert_ids`, `by`, `at`"},
    {OC_TOPIC_INCIDENT_MITIGATED, "incident", OC_EV_BUS | OC_EV_NOTIFY,
     "A mitigation matching its slice was applied: the incident is mitigated.",
     "`incident_id`, `at`"},
    {OC_TOPIC_INCIDENT_RESOLVED, "incident", OC_EV_BUS | OC_EV_NOTIFY,
     "The incident resolved: its alerts cleared and stayed clear for the recovery window, or "
     "a person resolved it.",
     "`incident_id`, `at`"},
    {OC_TOPIC_INCIDENT_MERGED, "incident", OC_EV_BUS | OC_EV_NOTIFY,
     "The incident joined another one with the same cause.",
     "`incident_id` (the one that went), `into` (the one that stays), `cause`, `at`"},
    {OC_TOPIC_INCIDENT_PAGE, "incident", OC_EV_BUS | OC_EV_NOTIFY,
     "Someone was paged: at declaration, and each escalation step that fell due.",
     "`incident_id`, `team`, `target` (who was paged), `service` (when routed to one), `at`"},
    {OC_TOPIC_INCIDENT_COMMS_REMINDER, "incident", OC_EV_BUS | OC_EV_NOTIFY,
     "A SEV1 or SEV2 has had no public status update for too long (15 minutes after "
     "declaration, then every 30).",
     "`incident_id`, `role` (the comms role), `target` (who holds it), `at`"},
    {OC_TOPIC_INCIDENT_SEVERITY_CHANGED, "incident", OC_EV_BUS | OC_EV_NOTIFY,
     "The severity was reclassified (by the grid or by a person).",
     "`incident_id`, `from`, `severity` (the new one), `reason`, `at`"},
    {OC_TOPIC_INCIDENT_STATUS_UPDATE, "incident", OC_EV_BUS | OC_EV_NOTIFY,
     "A status update was posted.",
     "`incident_id`, `status` (`investigating`, `identified`, `monitoring`, `resolved`), "
     "`body`, `at`"},
    {OC_TOPIC_INCIDENT_TIMELINE, "incident", OC_EV_BUS,
     "An entry was added to the timeline (notes, roles and follow-ups included), so that a "
     "console showing it can fetch it again.",
     "`incident_id`, `kind` (the entry's kind), `at`"},
    {OC_TOPIC_RCA_LOCALIZED, "rca", OC_EV_BUS,
     "The incident's anomaly was localized over every dimension of the QoE cube.",
     "`incident_id`, `metric` (what was localized), `causes` (array, best first: "
     "`{element: {dimension: value}, score, ...}`), `candidates`, `at`, `runtime_ms`, "
     "`onset` (when the aggregate started to move), `changes` (recorded changes ranked "
     "against the onset for the affected service: the slice's or the catalog's), `note` "
     "(when there is one)"},
    {OC_TOPIC_MITIGATION_APPLIED, "steer", OC_EV_BUS,
     "A mitigation was applied (`oncue mitigate`, `POST /v1/mitigations`, a runbook, a "
     "failed canary).",
     "`id`, `kind` (`shift-cdn`, `backup-origin`, `flag`, `rollback`, ...), `spec` (the "
     "request: `region`, `from`, `to`, `service`, ...), `actor`, `created_ms`, `state` "
     "(`active`), `reverted_ms`, `followup` (`{id, title, due_ms}`); a rollback adds "
     "`deploy_webhook` (the service's URL, or `null`) and `rollback_doc`, or "
     "`deploy_unresolved` (why there is none)"},
    {OC_TOPIC_MITIGATION_REVERTED, "steer", OC_EV_BUS, "A mitigation was reverted.",
     "the fields of `mitigation.applied`, `state` `reverted`"},
    {OC_TOPIC_STEER_POLICY_CHANGED, "steer", OC_EV_BUS, "The steering policy was replaced.",
     "`actor`, `policy` (the new policy document)"},
    {OC_TOPIC_PROBE_FAILED, "probe", OC_EV_BUS,
     "A fault kind was first seen on a probed stream (docs/internals/probe.md).",
     "`stream`, `service`, `kind` (`stale`, `went_back`, `changed_same_sequence`, `shrank`, "
     "`parse_error`, `http_status`, `unreachable`, `segment_too_long`, `segment_missing`, "
     "`origins_disagree`, `discontinuity_mismatch`, `publish_time_stale`), `pathway`, "
     "`detail`, `at`, `at_ms`"},
    {OC_TOPIC_PROBE_RECOVERED, "probe", OC_EV_BUS,
     "The fault kind was not seen for `probe.recovery_polls` whole polls.",
     "`stream`, `service`, `kind`, `detail`, `since`, `at`, `at_ms`"},
    {OC_TOPIC_SCRAPE_FAILED, "scrape", OC_EV_BUS,
     "A rule on a scraped target's series held for its `for_s`, or (rule `down`, metric "
     "`up`) `scrape.down_after` scrapes in a row failed (docs/internals/scrape.md).",
     "`target`, `service`, `rule`, `metric`, `level` (`page`, `notify`), `op`, `value`, "
     "`threshold` (numbers, `null` when none), `detail`, `at`, `at_ms`"},
    {OC_TOPIC_SCRAPE_RECOVERED, "scrape", OC_EV_BUS,
     "The rule no longer holds for its `clear_for_s` (`down`: the first scrape that reads).",
     "`target`, `service`, `rule`, `metric`, `detail`, `since`, `at`, `at_ms`"},
    {OC_TOPIC_CHANGE_RECORDED, "rca, gate", OC_EV_BUS,
     "A change (a deploy, a flag flip, a config push; a gate's decision) was recorded.",
     "`id`, `time`, `service`, `kind`; a gate's adds `decision` (`go`, `no-go`)"},
    {OC_TOPIC_TICKETS_LINKED, "tickets", OC_EV_BUS,
     "A cluster of near-duplicate support tickets was linked to an open incident.",
     "`incident_id`, `cluster_id`, `tickets` (how many), `service`, `symptom`, `region`, `at`"},
    {"rollback.requested", "incident", OC_EV_DEPLOY,
     "A rollback was applied for a catalog service that has a `deploy_webhook`.",
     "`mitigation_id`, `service`, `actor`, `reason` (`null` when none)"},
    {"rollback.reverted", "incident", OC_EV_DEPLOY, "That rollback was reverted.",
     "the fields of `rollback.requested`"},
    {"incident.published", "incident", OC_EV_STATUS,
     "An incident left draft and is on the public status page.",
     "`page` (`{id, status_indicator, status_description}`), `incident` (as "
     "`/api/v2/incidents.json` shows it)"},
    {"incident.updated", "incident", OC_EV_STATUS, "A public status update was posted.",
     "`page`, `incident`"},
    {"incident.resolved", "incident", OC_EV_STATUS, "A published incident resolved.",
     "`page`, `incident`"},
    {"maintenance.scheduled", "incident", OC_EV_STATUS, "A maintenance was scheduled.",
     "`page`, `scheduled_maintenance` (as `/api/v2/scheduled-maintenances.json` shows it)"},
    {"maintenance.updated", "incident", OC_EV_STATUS, "A maintenance started or completed.",
     "`page`, `scheduled_maintenance`"},
    {"maintenance.deleted", "incident", OC_EV_STATUS, "A maintenance was deleted.",
     "`page`, `scheduled_maintenance`"},
    {0},
};

/* Appends the list of where an event goes (its reach) to b. */
static void reach(struct oc_buf *b, unsigned r)
{
    static const struct {
        unsigned bit;
        const char *text;
    } names[] = {
        {OC_EV_BUS, "bus, event subscriptions"},
        {OC_EV_NOTIFY, "notification endpoints"},
        {OC_EV_DEPLOY, "deploy webhooks"},
        {OC_EV_STATUS, "status page subscribers"},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (r & names[i].bit)
            oc_buf_printf(b, "%s%s", n++ ? ", " : "", names[i].text);
}

void oc_events_doc(struct oc_buf *b)
{
    oc_buf_puts(
        b, "# oncue events\n\n"
           "Generated from the event table (`src/core/events.c`) by `oncue docs events`; do not "
           "edit.\n\n"
           "Every event oncue emits, who emits it, where it goes and the fields of its `data`. "
           "Times are unix seconds (`*_ms`: milliseconds). Where an event goes:\n\n"
           "- **bus**: the in-process event bus (`src/core/bus.h`); the modules that listen "
           "are in docs/ARCHITECTURE.md, and the console's stream (`GET /v1/stream`) carries "
           "the incident, alert and mitigation ones.\n"
           "- **event subscriptions** (`oncue subscription`, `/v1/event-subscriptions`, "
           "docs/internals/automation.md): every bus event, as a Standard Webhooks message "
           "whose body is `{\"type\": EVENT, \"timestamp\": ISO 8601, \"data\": DATA}`; a "
           "subscription names the types it wants (`incident.opened`, `incident.*`, `*`).\n"
           "- **notification endpoints** (`incident.webhooks_file`, "
           "`/v1/notifications/endpoints`, docs/internals/incident.md \"Notifications\"): kind "
           "`webhook` receives `{\"type\", \"timestamp\", \"data\", \"incident\": {id, severity, "
           "state, title, service, team, oncall, slice, runbook, url}}`; Slack, Teams and "
           "PagerDuty receive the same events shaped as their messages.\n"
           "- **deploy webhooks**: the catalog service's `deploy_webhook`, "
           "`{\"type\", \"timestamp\", \"data\"}`, signed when `incident.deploy_secret` is "
           "set.\n"
           "- **status page subscribers** (`/v1/status/subscriptions`): "
           "`{\"type\", \"timestamp\", \"data\"}` for published incidents and maintenances "
           "only.\n\n"
           "| event | from | goes to | when | data |\n|---|---|---|---|---|\n");
    for (const struct oc_event_doc *e = oc_event_docs; e->type; e++) {
        oc_buf_printf(b, "| `%s` | %s | ", e->type, e->from);
        reach(b, e->reach);
        oc_buf_printf(b, " | %s | %s |\n", e->what, e->data);
    }
}
