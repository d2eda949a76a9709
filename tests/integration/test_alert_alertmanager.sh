#!/usr/bin/env bash
# A real Prometheus Alertmanager (Debian's prometheus-alertmanager, started here on
# 127.0.0.1 with a webhook receiver pointing at oncue with a responder token) is fed one alert
# through its API: its firing notification becomes an active alertmanager alert in oncue
# (alert_id am/<fingerprint>, level from severity, slice from the beacon-dimension labels),
# and its resolved notification closes it.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
RESP=$(new_token "$D" responder it-am)
VIEW=$(new_token "$D" viewer it-view)
V=(-H "Authorization: Bearer $VIEW")
start_server "$D" || exit 1

start_alertmanager "$RESP" || exit 1

NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ALERT='[{"labels":{"alertname":"EdgeSlowIT","severity":"warning","region":"EMEA","cdn":"primary","job":"edge"},"annotations":{"summary":"EMEA primary edge slow"},"startsAt":"'$NOW'"}]'
t_check "alert posted to alertmanager" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' "$AM/api/v2/alerts" --data "$ALERT")"

# wait_for NEEDLE: polls GET /v1/alerts (up to 20 s) until its body contains NEEDLE.
wait_for() {
    for i in $(seq 1 200); do
        status GET /v1/alerts "${V[@]}" >/dev/null
        case "$(body)" in *"$1"*) return 0 ;; esac
        sleep 0.1
    done
    return 1
}
wait_for '"active":[{"alert_id":"am/'
t_contains "firing delivered and active" '"rule":"EdgeSlowIT","metric":"EdgeSlowIT","slice":{},"value":null,"threshold":null,"op":">","level":"notify","window_s":0,' "$(body)"
t_contains "source alertmanager" '"source":"alertmanager","summary":"EMEA primary edge slow"' "$(body)"

RESOLVED='[{"labels":{"alertname":"EdgeSlowIT","severity":"warning","region":"EMEA","cdn":"primary","job":"edge"},"annotations":{"summary":"EMEA primary edge slow"},"startsAt":"'$NOW'","endsAt":"'$(date -u +%Y-%m-%dT%H:%M:%SZ)'"}]'
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' "$AM/api/v2/alerts" --data "$RESOLVED"
wait_for '"active":[],'
t_contains "resolved delivered" '"active":[],' "$(body)"
t_check "one firing recorded, resolved" 1 "$(body | grep -o '"resolved_at":[0-9]' | wc -l)"
t_done
