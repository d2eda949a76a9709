#!/usr/bin/env bash
# A real Prometheus Alertmanager (Debian's prometheus-alertmanager, started here on
# 127.0.0.1 with a webhook receiver pointing at oncue with a responder token) is fed one alert
# through its API: its firing notification becomes an active alertmanager alert in oncue
# (alert_id am/<fingerprint>, level from severity, slice from the beacon-dimension labels),
# and its resolved notification closes it.
. "$(dirname "$0")/lib.sh"
AM_BIN=$(command -v prometheus-alertmanager || command -v alertmanager || true)
if [ -z "$AM_BIN" ]; then
    echo "prometheus-alertmanager is not installed (scripts/deps.sh check installs it)"
    exit 1
fi
AM_PID=""
am_cleanup() {
    [ -n "$AM_PID" ] && kill -9 "$AM_PID" 2>/dev/null
    t_cleanup
}
trap am_cleanup EXIT

D=$T_TMP/data
RESP=$(new_token "$D" responder it-am)
VIEW=$(new_token "$D" viewer it-view)
V=(-H "Authorization: Bearer $VIEW")
start_server "$D" || exit 1

# A free port for Alertmanager (it does not report the port it bound).
AM_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T_TMP/am.yml" <<YML
route:
  receiver: oncue
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: oncue
    webhook_configs:
      - url: $BASE/v1/alerts/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: $RESP
YML
"$AM_BIN" --config.file="$T_TMP/am.yml" --storage.path="$T_TMP/am" \
    --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= \
    >"$T_TMP/am.log" 2>&1 &
AM_PID=$!
AM=http://127.0.0.1:$AM_PORT
for i in $(seq 1 100); do
    curl -sf "$AM/-/ready" >/dev/null && break
    sleep 0.1
done
t_check "alertmanager ready" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$AM/-/ready")"

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
t_contains "firing delivered and active" '"rule":"EdgeSlowIT","metric":"EdgeSlowIT","slice":{"region":"EMEA","cdn":"primary"},"value":null,"threshold":null,"op":">","level":"notify","window_s":0,' "$(body)"
t_contains "source alertmanager" '"source":"alertmanager","summary":"EMEA primary edge slow"' "$(body)"

RESOLVED='[{"labels":{"alertname":"EdgeSlowIT","severity":"warning","region":"EMEA","cdn":"primary","job":"edge"},"annotations":{"summary":"EMEA primary edge slow"},"startsAt":"'$NOW'","endsAt":"'$(date -u +%Y-%m-%dT%H:%M:%SZ)'"}]'
curl -s -o /dev/null -X POST -H 'Content-Type: application/json' "$AM/api/v2/alerts" --data "$RESOLVED"
wait_for '"active":[],'
t_contains "resolved delivered" '"active":[],' "$(body)"
t_check "one firing recorded, resolved" 1 "$(body | grep -o '"resolved_at":[0-9]' | wc -l)"
t_done
