#!/usr/bin/env bash
# From a real Prometheus Alertmanager to an incident: Debian's prometheus-alertmanager runs on
# 127.0.0.1 with a webhook receiver pointing at oncue (responder token); one alert fed through
# its API opens an incident (the alert capability translates the webhook and publishes
# alert.fired; the incident capability opens INC-1), and its resolved notification is
# recorded on the incident's timeline (alert.resolved).
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
RESP=$(new_token "$D" responder it-am)
VIEW=$(new_token "$D" viewer it-view)
V=(-H "Authorization: Bearer $VIEW")
start_server "$D" || exit 1

start_alertmanager "$RESP" || exit 1

NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LABELS='"labels":{"alertname":"OriginErrorsIT","severity":"critical","region":"EMEA","cdn":"primary"},"annotations":{"summary":"EMEA primary origin errors"}'
t_check "alert posted to alertmanager" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        "$AM/api/v2/alerts" --data "[{$LABELS,\"startsAt\":\"$NOW\"}]")"

# wait_for PATH NEEDLE: polls GET PATH (up to 20 s) until its body contains NEEDLE.
wait_for() {
    for i in $(seq 1 200); do
        status GET "$1" "${V[@]}" >/dev/null
        case "$(body)" in *"$2"*) return 0 ;; esac
        sleep 0.1
    done
    return 1
}
wait_for /v1/incidents '"incident_id":"INC-1"'
t_contains "the alert opened INC-1" '"incident_id":"INC-1"' "$(body)"
t_contains "with the alertmanager alert" '"alert_id":"am/' "$(body)"
t_contains "its labels stay out of the QoE slice" '"slice":{}' "$(body)"
t_contains "routed by its labels to the CDN's owner" '"team":"cdn-ops"' "$(body)"
t_contains "a paging alert on a CDN in a region is SEV2" '"severity":"SEV2"' "$(body)"

curl -s -o /dev/null -X POST -H 'Content-Type: application/json' "$AM/api/v2/alerts" \
    --data "[{$LABELS,\"startsAt\":\"$NOW\",\"endsAt\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}]"
wait_for /v1/incidents/INC-1 'back inside its band'
t_contains "resolved notification on the timeline" 'resolved: OriginErrorsIT back inside its band' "$(body)"
t_contains "still open until the recovery window passes" '"state":"triggered"' "$(body)"
t_done
