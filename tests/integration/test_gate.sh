#!/usr/bin/env bash
# Release gates over the real server and `oncue sim`: the canary-bad-build scenario (ExoPlayer
# 2.19.0 on 5% of viewers fails starts and stalls from t+2m) posted on a replay clock. Four
# minutes into the fault, POST /v1/gates/player-mobile with the build as canary against
# 2.19.1 answers no-go naming the metric and its significance; its on_fail rollback and flag
# run because gate.auto_mitigate allows them (once, not again on the next ask); a healthy
# build (2.18.7) gets a go; the decisions are recorded as changes that change correlation
# ranks. Once the players read the flag the same canary gets a go. A spent error budget, a
# freeze (until deleted) and an open incident upstream answer no-go. Bad input: problem+json naming the field, with did-you-mean. `oncue gate`
# prints the decision and exits 0 on go, 3 on no-go.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest it-sim | tail -1)
RSP=$(new_token "$D" responder it-rsp | tail -1)
VIEW=$(new_token "$D" viewer it-view | tail -1)
T0=1772479800 # 2026-03-02 19:30 UTC, the scenario's begin
cat > "$T_TMP/policy.json" <<'JSON'
{"ttl": 10, "pathways": ["primary", "secondary"]}
JSON
# One SLO, of player-web (which player-mobile does not depend on), over the bad build's slice.
cat > "$T_TMP/slos.yaml" <<'YAML'
apiVersion: openslo/v1
kind: SLO
metadata:
  name: exo-2190-stalls
spec:
  service: player-web
  description: the bad build's viewers rarely stall
  indicator:
    metadata:
      name: exo-2190-stalls
    spec:
      thresholdMetric:
        metricSource:
          type: oncue
          spec:
            metric: rebuffering_share
            filter: {player_version: 2.19.0}
  timeWindow:
    - duration: 1d
      isRolling: true
  budgetingMethod: Timeslices
  objectives:
    - displayName: few stalls
      op: lt
      value: 0.05
      target: 0.99
YAML
start_server "$D" --clock replay \
    --modules builtin,auth,catalog,steer,ingest,qoe,slo,incident,rca,gate \
    --set steer.policy_file="$T_TMP/policy.json" --set slo.file="$T_TMP/slos.yaml" \
    --set gate.auto_mitigate=rollback,flag || exit 1

sim() { # START DURATION LOG
    "$ONCUE_BIN" sim --target "$BASE" --token "$ING" --speed 0 --steer --viewers 5000 \
        --start "$1" --scenario canary-bad-build --duration "$2" --seed 3 2> "$3"
}
gate() { # SERVICE BODY: the answer into $T_TMP/body, prints the status
    status POST "/v1/gates/$1" -H "Authorization: Bearer $RSP" -d "$2"
}
BAD='"canary": "player_version=2.19.0", "baseline": "player_version=2.19.1", "window_s": 180'
FLAG='{"kind": "flag", "name": "new-playback-features", "on": false, "player_version": "2.19.0"}'

# 1. Six minutes: the fault runs from t+2m; the last complete minute ends at t+5m (the
#    replay watermark is the last event, t+6m, and a minute completes 15 s after its end).
sim $T0 6m "$T_TMP/sim1.log"
t_check "sim exits 0" 0 $?
t_contains "the fault started at t+2m" "started at 2026-03-02T19:32:00Z" "$(cat "$T_TMP/sim1.log")"

t_check "healthy canary: 200" 200 "$(gate player-mobile \
    '{"canary": "player_version=2.18.7", "baseline": "player_version=2.19.1", "window_s": 180}')"
t_check "healthy canary: go" go "$(body | jq -r .decision)"
t_check "healthy canary: compared over the fault's first three minutes" "$((T0 + 120)) $((T0 + 300))" \
    "$(body | jq -r '.checks[] | select(.name == "canary") | "\(.canary.from) \(.canary.to)"')"
t_check "healthy canary: rebuffering share tested and passes" pass \
    "$(body | jq -r '.checks[] | select(.name == "canary") | .canary.metrics[] |
        select(.metric == "rebuffering_share") | .verdict')"
t_check "healthy canary: every other check passes" "error_budget incidents freeze canary" \
    "$(body | jq -r '[.checks[] | select(.ok) | .name] | join(" ")')"

t_check "bad canary: 200" 200 "$(gate player-mobile "{$BAD, \"on_fail\": {\"kind\": \"rollback\"}}")"
t_check "bad canary: no-go" no-go "$(body | jq -r .decision)"
t_contains "bad canary: the reason names the metric and its significance" \
    "canary: rebuffering_share" "$(body | jq -r '.reasons[0]')"
t_contains "... with z and p against alpha over three metrics" "< 0.0033)" \
    "$(body | jq -r '.reasons[0]')"
t_check "bad canary: rebuffering_share fails with p < 1e-6, z > 10" "fail true true" \
    "$(body | jq -r '.checks[] | select(.name == "canary") | .canary.metrics[] |
        select(.metric == "rebuffering_share") | "\(.verdict) \(.p_value < 1e-6) \(.z > 10)"')"
t_check "bad canary: too few starts in 3 minutes to test start failures" insufficient \
    "$(body | jq -r '.checks[] | select(.name == "canary") | .canary.metrics[] |
        select(.metric == "vsf_rate") | .verdict')"
t_check "the policy allows the rollback: it ran as actor gate" "rollback true gate player-mobile" \
    "$(body | jq -r '.mitigation | "\(.kind) \(.applied) \(.record.actor) \(.record.spec.service)"')"
t_check "the rollback carries the catalog's deploy webhook (cut after the host for a responder)" \
    "https://deploy.example.com/…" "$(body | jq -r .mitigation.record.deploy_webhook)"
change=$(body | jq -r .change_id)

gate player-mobile "{$BAD, \"on_fail\": {\"kind\": \"rollback\"}}" > /dev/null
t_check "asked again: the same rollback is not applied twice" "false 1" \
    "$(body | jq -r .mitigation.applied) $(curl -s -H "Authorization: Bearer $VIEW" \
        "$BASE/v1/mitigations" | jq '[.mitigations[] | select(.kind == "rollback")] | length')"
ONCUE_TOKEN=$RSP "$ONCUE_BIN" gate player-mobile --server "$BASE" --dry-run \
    --canary player_version=2.19.0 --baseline player_version=2.19.1 --window 180 > "$T_TMP/cli.out"
t_check "oncue gate: no-go exits 3" 3 $?
t_contains "oncue gate prints the decision" "player-mobile: no-go" "$(cat "$T_TMP/cli.out")"
t_contains "... and each metric with its verdict" "rebuffering_share" \
    "$(grep 'fail$' "$T_TMP/cli.out")"
gate player-mobile "{$BAD, \"on_fail\": $FLAG}" > /dev/null
t_check "the flag mitigation runs too" "flag true gate" \
    "$(body | jq -r '.mitigation | "\(.kind) \(.applied) \(.record.actor)"')"
t_check "the server now serves the flag off to 2.19.0" false \
    "$(curl -s -H "Authorization: Bearer $VIEW" \
        "$BASE/v1/flags?player=exoplayer&player_version=2.19.0" | jq '.flags["new-playback-features"]')"

ch=$(curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/changes?service=player-mobile&since=$T0")
t_check "decisions are changes of kind gate" "4 gate" \
    "$(echo "$ch" | jq -r '"\(.changes | length) \(.changes | map(.kind) | unique | join(","))"')"
t_contains "the no-go change says why" "release gate no-go: canary: rebuffering_share" \
    "$(echo "$ch" | jq -r --argjson id "$change" '.changes[] | select(.id == $id) | .description')"
t_check "the change's version is the canary" "player_version=2.19.0" \
    "$(echo "$ch" | jq -r --argjson id "$change" '.changes[] | select(.id == $id) | .version')"
rank=$(curl -s -H "Authorization: Bearer $VIEW" \
    "$BASE/v1/changes/rank?onset=$((T0 + 420))&service=player-mobile")
t_check "change correlation ranks the gate decisions" "gate" \
    "$(echo "$rank" | jq -r '.changes[0].kind')"

# 2. Six more minutes (the scenario again, its fault from t+8m) with the flag off for 2.19.0:
#    its players are spared; the canary compared over the fault's three minutes gets a go.
sim $((T0 + 360)) 6m "$T_TMP/sim2.log"
t_check "second sim exits 0" 0 $?
gate player-mobile "{$BAD}" > /dev/null
t_check "after the flag: the canary gets a go" "go $((T0 + 480)) $((T0 + 660))" \
    "$(body | jq -r '"\(.decision) \(.checks[] | select(.name == "canary") | "\(.canary.from) \(.canary.to)")"')"

# An SLO of the service with its budget spent: no-go naming it.
gate player-web '{}' > /dev/null
t_check "spent error budget: no-go" no-go "$(body | jq -r .decision)"
t_contains "... naming the SLO" "error_budget: SLO exo-2190-stalls (player-web) has -" \
    "$(body | jq -r '.reasons[0]')"

# 3. A freeze on every service: no-go until it is deleted.
t_check "freeze: 201" 201 "$(status POST /v1/freezes -H "Authorization: Bearer $RSP" \
    -d '{"service": "*", "to": "now+2h", "reason": "holiday freeze"}')"
fid=$(body | jq -r .id)
t_check "freeze listed" "holiday freeze" "$(curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/freezes" |
    jq -r '.freezes[0].reason')"
gate player-mobile '{}' > /dev/null
t_contains "freeze: no-go naming it" "freeze: freeze #$fid on * until" "$(body | jq -r '.reasons[0]')"
t_check "freeze deleted" 200 "$(status DELETE "/v1/freezes/$fid" -H "Authorization: Bearer $RSP")"
gate player-mobile '{"dry_run": true}' > /dev/null
t_check "no freeze, no canary: go (a dry run records nothing)" "go null" \
    "$(body | jq -r '"\(.decision) \(.change_id)"')"
t_check "freeze without to: 422 naming it" 422 "$(status POST /v1/freezes \
    -H "Authorization: Bearer $RSP" -d '{"service": "*", "reason": "x"}')"
t_contains "... the field" '"detail":"to: a time' "$(body)"

# 4. Bad input.
t_check "unknown service: 422" 422 "$(gate player-mobil '{}')"
t_contains "... with did-you-mean" "service: 'player-mobil' is not in the catalog; did you mean player-mobile?" "$(body)"
t_check "unknown dimension: 422" 422 "$(gate player-mobile \
    '{"canary": "plyer_version=1", "baseline": "device=tv"}')"
t_contains "... with did-you-mean" "canary: unknown dimension 'plyer_version'; did you mean player_version?" "$(body)"
t_check "canary without baseline: 422" 422 "$(gate player-mobile '{"canary": "device=tv"}')"
t_contains "... names baseline" "baseline: required with canary" "$(body)"
t_check "unknown field: 422" 422 "$(gate player-mobile '{"canery": "device=tv"}')"
t_contains "... with did-you-mean" "canery: unknown field; did you mean canary?" "$(body)"
t_check "not a canary metric: 422" 422 "$(gate player-mobile "{$BAD, \"metrics\": [\"vsf_rat\"]}")"
t_contains "... with did-you-mean" "did you mean vsf_rate?" "$(body)"
t_check "on_fail of another kind: 422" 422 "$(gate player-mobile "{$BAD, \"on_fail\": {\"kind\": \"shift-cdn\"}}")"
t_check "a viewer may not ask a gate: 403" 403 "$(status POST /v1/gates/player-mobile \
    -H "Authorization: Bearer $VIEW" -d '{}')"

# 5. The CLI.
out=$(ONCUE_TOKEN=$RSP "$ONCUE_BIN" gate player-mobile --server "$BASE" --canary player_version=2.18.7 \
    --baseline player_version=2.19.1 --window 180 --dry-run)
t_check "oncue gate: go exits 0" 0 $?
t_contains "oncue gate prints the decision" "player-mobile: go" "$out"
ONCUE_TOKEN=$RSP "$ONCUE_BIN" gate nope --server "$BASE" 2> "$T_TMP/cli.err"
t_check "oncue gate: unknown service exits 1" 1 $?
t_contains "... saying why" "HTTP 422: service: 'nope' is not in the catalog" "$(cat "$T_TMP/cli.err")"
t_check "oncue gate: --canary without --baseline exits 2" 2 \
    "$("$ONCUE_BIN" gate x --canary device=tv 2>/dev/null; echo $?)"

# 6. An open incident on what the service depends on (the secondary CDN): no-go naming it. A
#    server of its own without the cube, so no root cause moves the incident elsewhere.
stop_server
D2=$T_TMP/data2
RSP=$(new_token "$D2" responder it-rsp2 | tail -1)
start_server "$D2" --clock replay --modules builtin,auth,catalog,incident,gate || exit 1
t_check "incident declared" 201 "$(status POST /v1/incidents -H "Authorization: Bearer $RSP" \
    -d '{"alert_id": "manual/cdn-b", "rule": "manual", "metric": "rebuffer_ratio",
         "slice": {"cdn": "secondary"}, "summary": "secondary CDN stalls"}')"
inc=$(body | jq -r .incident_id)
t_check "... on cdn-secondary" "cdn-secondary SEV2" "$(body | jq -r '"\(.service) \(.severity)"')"
gate player-mobile '{}' > /dev/null
t_check "open incident upstream: no-go naming it" \
    "incidents: open incident $inc (SEV2) on cdn-secondary, which player-mobile depends on" \
    "$(body | jq -r '.reasons[0]')"
t_check "without the slo and qoe modules the budget is not checked" \
    "true not checked: the slo and qoe modules are not running" \
    "$(body | jq -r '.checks[0] | "\(.ok) \(.detail)"')"
t_check "without the rca module the decision is still a change" 1 "$(body | jq -r .change_id)"
gate packager '{"dry_run": true}' > /dev/null
t_check "a service that does not depend on it: go" go "$(body | jq -r .decision)"
gate player-mobile '{"canary": "device=tv", "baseline": "device=mobile"}' > /dev/null
t_check "without the qoe module a canary cannot pass" \
    "no-go canary: the qoe module is not running: no QoE to compare" \
    "$(body | jq -r '"\(.decision) \(.reasons[1])"')"
t_done
