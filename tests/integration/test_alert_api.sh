#!/usr/bin/env bash
# SLOs, alert rules and Alertmanager intake over real HTTP: GET /v1/slos and /v1/rules serve
# the shipped defaults; POST /v1/alerts/alertmanager needs responder, translates the v4
# webhook, does not publish a repeated firing twice, and its resolve closes the alert;
# the audit answers through the API, `oncue alerts audit --server` and `--data`.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
RESP=$(new_token "$D" responder it-resp)
VIEW=$(new_token "$D" viewer it-view)
R=(-H "Authorization: Bearer $RESP")
V=(-H "Authorization: Bearer $VIEW")
start_server "$D" || exit 1

t_check "slos need a token" 401 "$(status GET /v1/slos)"
t_check "viewer reads slos" 200 "$(status GET /v1/slos "${V[@]}")"
t_contains "shipped SLO" '{"name":"rebuffering-share","service":"playback",' "$(body)"
t_check "five SLOs" 5 "$(body | grep -o '"budget_remaining"' | wc -l)"
t_check "viewer reads rules" 200 "$(status GET /v1/rules "${V[@]}")"
t_contains "the page band" '{"name":"rebuffering-region-page","type":"threshold","metric":"concurrent_rebuffering_share","filter":{},"group_by":["region"],"op":">","threshold":0.05' "$(body)"
t_check "eighteen rules" 18 "$(body | grep -o '"clear_for_s"' | wc -l)"

AM='{"version":"4","status":"firing","receiver":"oncue","alerts":[{"status":"firing","labels":{"alertname":"EdgeSlow","severity":"info","region":"EMEA","pop":"FRA","job":"edge"},"annotations":{"summary":"FRA edge slow","value":"0.3"},"startsAt":"2026-03-02T19:43:10Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"it01"}]}'
t_check "viewer may not post alerts" 403 "$(status POST /v1/alerts/alertmanager "${V[@]}" --data "$AM")"
t_check "responder posts a webhook" 200 "$(status POST /v1/alerts/alertmanager "${R[@]}" --data "$AM")"
t_check "published once" '{"received":1,"published":1}' "$(body)"
t_check "repeat notification" 200 "$(status POST /v1/alerts/alertmanager "${R[@]}" --data "$AM")"
t_check "not published again" '{"received":1,"published":0}' "$(body)"
t_check "alerts list" 200 "$(status GET /v1/alerts "${V[@]}")"
t_contains "active, its labels out of the QoE slice" '"active":[{"alert_id":"am/it01","rule":"EdgeSlow","metric":"EdgeSlow","slice":{},"value":0.3,"threshold":null,"op":">","level":"backlog","window_s":0,"since":1772480590,' "$(body)"
t_check "bad webhook" 422 "$(status POST /v1/alerts/alertmanager "${R[@]}" --data '{"alerts":[{"status":"firing","labels":{}}]}')"
t_contains "names the field" 'alerts[].fingerprint' "$(body)"
RES=${AM//\"firing\"/\"resolved\"}
RES=${RES//0001-01-01T00:00:00Z/2026-03-02T20:13:00Z}
t_check "resolve" 200 "$(status POST /v1/alerts/alertmanager "${R[@]}" --data "$RES")"
t_check "resolve published" '{"received":1,"published":1}' "$(body)"
status GET /v1/alerts "${V[@]}" >/dev/null
t_contains "no longer active" '"active":[],' "$(body)"
t_contains "resolved at endsAt" '"resolved_at":1772482380' "$(body)"

status GET /metrics "${V[@]}" >/dev/null
t_contains "metrics: Alertmanager events" 'oncue_alertmanager_events_total 2' "$(body)"
t_contains "metrics: nothing of oncue's firing" 'oncue_alerts_firing{level="page"} 0' "$(body)"

t_check "audit bad days" 422 "$(status GET '/v1/alerts/audit?days=0' "${V[@]}")"
t_check "audit" 200 "$(status GET '/v1/alerts/audit?days=90' "${V[@]}")"
t_contains "EdgeSlow fired without action" '{"rule":"EdgeSlow","level":"backlog","source":"alertmanager","fired":1,"acknowledged":0,"led_to_incident":0,"flag":"no_action"}' "$(body)"
t_contains "a rule that never fired" '{"rule":"vsf-region-page","level":"page","source":"oncue","fired":0,"acknowledged":0,"led_to_incident":0,"flag":"never_fired"}' "$(body)"
OUT=$("$ONCUE_BIN" alerts audit --server "$BASE" --token "$VIEW")
t_contains "cli audit over HTTP" 'EdgeSlow                             backlog       1      0         0  no_action' "$OUT"
stop_server
OUT=$("$ONCUE_BIN" alerts audit --data "$D" --days 3650 --json)
t_contains "cli audit from the data directory" '"rule": "EdgeSlow"' "$OUT"
t_contains "cli audit flags" '"flag": "never_fired"' "$OUT"
OUT=$("$ONCUE_BIN" alerts check)
t_check "check the shipped files" "ok: 5 SLOs, 18 rules" "$OUT"
printf 'rules:\n  - name: a\n    metric: vsf_rate\n    colour: red\n' > "$T_TMP/bad.yaml"
OUT=$("$ONCUE_BIN" alerts check --rules "$T_TMP/bad.yaml" 2>&1)
t_check "check exits 1 on a bad file" 1 $?
t_check "check names the line and field" "oncue: $T_TMP/bad.yaml:4: rule: unknown field 'colour'" "$OUT"

# OpenSLO out and back in: the SLOs and burn-rate rules written as v1 documents, served as
# slo.file with a rules file holding only a threshold rule, give the same burn-rate rules.
"$ONCUE_BIN" alerts openslo >"$T_TMP/openslo.yaml"
t_check "openslo exits 0" 0 $?
t_check "openslo writes 4 AlertPolicies" 4 "$(grep -c '^kind: AlertPolicy' "$T_TMP/openslo.yaml")"
t_check "openslo writes 5 SLOs" 5 "$(grep -c '^kind: SLO' "$T_TMP/openslo.yaml")"
printf 'rules:\n  - name: vsf-page\n    metric: vsf_rate\n    op: ">"\n    threshold: 0.2\n    for: 3m\n    level: page\n' >"$T_TMP/one.yaml"
t_check "check reads it back" "ok: 5 SLOs, 5 rules" \
    "$("$ONCUE_BIN" alerts check --slos "$T_TMP/openslo.yaml" --rules "$T_TMP/one.yaml")"
start_server "$T_TMP/data2" --set slo.file="$T_TMP/openslo.yaml" --set alert.rules_file="$T_TMP/one.yaml" || exit 1
VIEW2=$(new_token "$T_TMP/data2" viewer v2)
status GET /v1/rules -H "Authorization: Bearer $VIEW2" >/dev/null
t_check "served rules: the threshold rule and the four policies" \
    '["vsf-page","vsf-rate-burn-fast","vsf-rate-burn-slow","rebuffer-ratio-burn-fast","rebuffer-ratio-burn-slow"]' \
    "$(body | jq -c '[.rules[].name]')"
t_check "a policy's windows" '[{"long_s":3600,"short_s":300,"factor":14.4},{"long_s":21600,"short_s":1800,"factor":6}]' \
    "$(body | jq -c '.rules[] | select(.name == "vsf-rate-burn-fast") | .windows')"
stop_server
t_done
