#!/usr/bin/env bash
# SIGHUP with the real server: the catalog, the notification endpoints, the steering policy,
# the SLOs and the alert rules are re-read from their files while it serves, one log line says
# what was done, and a broken file keeps what was in force (its FILE:LINE in the line).
. "$(dirname "$0")/lib.sh"
SRC=${ONCUE_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
D=$T_TMP/data
ADMIN=$(new_token "$D" admin it-admin)
A=(-H "Authorization: Bearer $ADMIN")
cp "$SRC/examples/catalog.yaml" "$T_TMP/catalog.yaml"
cat >"$T_TMP/hooks.yaml" <<YML
- name: chat
  kind: slack
  url: http://127.0.0.1:9/chat
YML
echo '{"ttl": 10, "pathways": ["primary", "secondary"]}' >"$T_TMP/policy.json"
cp "$SRC/examples/slos.yaml" "$T_TMP/slos.yaml"
cp "$SRC/examples/rules.yaml" "$T_TMP/rules.yaml"
start_server "$D" --set catalog.file="$T_TMP/catalog.yaml" \
    --set incident.webhooks_file="$T_TMP/hooks.yaml" --set steer.policy_file="$T_TMP/policy.json" \
    --set slo.file="$T_TMP/slos.yaml" --set alert.rules_file="$T_TMP/rules.yaml" || exit 1
t_check "SLOs at start" 5 "$(curl -s "${A[@]}" "$BASE/v1/slos" | jq '.slos | length')"
t_check "rules at start" 18 "$(curl -s "${A[@]}" "$BASE/v1/rules" | jq '.rules | length')"
N0=$(curl -s "${A[@]}" "$BASE/v1/services" | jq '.services | length')
t_check "endpoints at start" '["chat"]' "$(curl -s "${A[@]}" "$BASE/v1/notifications" | jq -c '[.endpoints[].name]')"
t_check "policy at start" 10 "$(curl -s "${A[@]}" "$BASE/v1/steering/policies" | jq .ttl)"

cat >>"$T_TMP/catalog.yaml" <<YML
  - name: recommendations
    kind: metadata
    team: cdn-ops
    runbook: https://runbooks.example.com/recommendations
    rollback_doc: https://runbooks.example.com/recommendations/rollback
YML
cat >>"$T_TMP/hooks.yaml" <<YML
- name: war-room
  kind: teams
  url: http://127.0.0.1:9/teams
YML
echo '{"ttl": 30, "pathways": ["secondary", "primary"]}' >"$T_TMP/policy.json"
# a sixth SLO with an OpenSLO alert policy (a burn-rate rule), and one threshold rule less
cat >>"$T_TMP/slos.yaml" <<YML
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: emea-starts
spec:
  service: playback
  indicator:
    metadata:
      name: emea-starts
    spec:
      ratioMetric:
        rawType: failure
        raw:
          metricSource:
            type: oncue
            spec: {metric: vsf_rate, filter: {region: EMEA}}
  timeWindow:
    - duration: 7d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.995
  alertPolicies:
    - kind: AlertPolicy
      metadata:
        name: emea-starts-burn
      spec:
        conditions:
          - kind: AlertCondition
            metadata:
              name: emea-fast
            spec:
              severity: page
              condition: {kind: burnrate, op: gt, threshold: 14.4, lookbackWindow: 1h}
YML
python3 - "$T_TMP/rules.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
i = s.index("  - name: ebvs-region-notify")
j = s.index("  - name:", i + 10)
open(p, "w").write(s[:i] + s[j:])
PY
kill -HUP "$SERVER_PID"
for _ in $(seq 1 50); do grep -q 'SIGHUP' "$T_TMP/server.log" && break; sleep 0.1; done
LINE=$(grep 'SIGHUP' "$T_TMP/server.log" | tail -1)
t_contains "one line says what was re-read" "catalog: $((N0 + 1)) services from $T_TMP/catalog.yaml" "$LINE"
t_contains "... the endpoints" "incident: notification endpoints re-read from $T_TMP/hooks.yaml" "$LINE"
t_contains "... the policy" "steer: policy re-read from $T_TMP/policy.json" "$LINE"
t_contains "... the SLOs" "slo: 6 SLOs (were 5)" "$LINE"
t_contains "... the rules" "alert: 18 rules (1 new, 1 gone; 0 alert states dropped)" "$LINE"
t_check "the new SLO is served" '"emea-starts"' "$(curl -s "${A[@]}" "$BASE/v1/slos" | jq -c '.slos[5].name')"
RULES=$(curl -s "${A[@]}" "$BASE/v1/rules" | jq -c '[.rules[].name]')
t_contains "its alert policy is a rule" '"emea-starts-burn"' "$RULES"
case "$RULES" in *ebvs-region-notify*) gone=no ;; *) gone=yes ;; esac
t_check "the removed rule is gone" yes "$gone"
t_check "the new service is served" "recommendations" \
    "$(curl -s "${A[@]}" "$BASE/v1/services/recommendations" | jq -r .name)"
t_check "the new endpoint is there" '["chat","war-room"]' \
    "$(curl -s "${A[@]}" "$BASE/v1/notifications" | jq -c '[.endpoints[].name] | sort')"
t_check "the new policy is in force" "30 secondary" \
    "$(curl -s "${A[@]}" "$BASE/v1/steering/policies" | jq -r '"\(.ttl) \(.pathways[0])"')"

cp "$T_TMP/policy.json" "$T_TMP/policy.good"
printf 'services:\n  - name: [broken\n' >"$T_TMP/catalog.yaml"
echo '{"ttl": ' >"$T_TMP/policy.json"
printf 'apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\nspec:\n  colour: red\n' >"$T_TMP/slos.yaml"
kill -HUP "$SERVER_PID"
for _ in $(seq 1 50); do [ "$(grep -c 'SIGHUP' "$T_TMP/server.log")" -ge 2 ] && break; sleep 0.1; done
LINE=$(grep 'SIGHUP' "$T_TMP/server.log" | tail -1)
t_contains "a broken catalog is named with its line" "catalog: kept the old one: $T_TMP/catalog.yaml:" "$LINE"
t_contains "a broken policy keeps the one in force" "steer: kept the policy in force: $T_TMP/policy.json" "$LINE"
t_check "the old catalog still serves" "recommendations" \
    "$(curl -s "${A[@]}" "$BASE/v1/services/recommendations" | jq -r .name)"
t_check "the old policy still serves" 30 "$(curl -s "${A[@]}" "$BASE/v1/steering/policies" | jq .ttl)"
t_contains "a broken SLO file keeps the SLOs in force" "slo: kept the 6 SLOs in force: $T_TMP/slos.yaml:5: spec: unknown field 'colour'" "$LINE"
t_check "the six SLOs still serve" 6 "$(curl -s "${A[@]}" "$BASE/v1/slos" | jq '.slos | length')"

# The policy in force again, as it is: re-read, but nothing replaced, so an open incident's
# timeline gets no "steering policy replaced" line.
cp "$T_TMP/policy.good" "$T_TMP/policy.json"
t_check "an incident is declared" 201 "$(status POST /v1/incidents "${A[@]}" \
    -d '{"alert_id": "reb/EMEA", "metric": "rebuffering_share", "slice": {"region": "EMEA"}, "value": 0.08, "threshold": 0.05, "op": ">", "level": "page", "summary": "rebuffering in EMEA"}')"
INC=$(curl -s "${A[@]}" "$BASE/v1/incidents" | jq -r '.incidents[0].incident_id')
replaced() {
    curl -s "${A[@]}" "$BASE/v1/incidents/$INC" |
        jq '[.timeline[] | select(.text | startswith("steering policy replaced"))] | length'
}
kill -HUP "$SERVER_PID"
for _ in $(seq 1 50); do [ "$(grep -c 'SIGHUP' "$T_TMP/server.log")" -ge 3 ] && break; sleep 0.1; done
LINE=$(grep 'SIGHUP' "$T_TMP/server.log" | tail -1)
t_contains "the same policy is re-read and left alone" "steer: policy re-read from $T_TMP/policy.json (unchanged)" "$LINE"
t_check "... and the incident's timeline says nothing of it" 0 "$(replaced)"
jq '.ttl = 31' "$T_TMP/policy.good" >"$T_TMP/policy.json"
kill -HUP "$SERVER_PID"
for _ in $(seq 1 50); do [ "$(grep -c 'SIGHUP' "$T_TMP/server.log")" -ge 4 ] && break; sleep 0.1; done
LINE=$(grep 'SIGHUP' "$T_TMP/server.log" | tail -1)
case "$LINE" in *"policy.json (unchanged)"*) unchanged=yes ;; *) unchanged=no ;; esac
t_check "a changed policy is re-read, not called unchanged" no "$unchanged"
for _ in $(seq 1 50); do [ "$(replaced)" = 1 ] && break; sleep 0.1; done
t_check "... and goes on the open incident's timeline once" 1 "$(replaced)"
t_check "still up" 200 "$(status GET /healthz)"
t_done
