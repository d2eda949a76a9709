#!/usr/bin/env bash
# The whole server on a replay clock (event time): `oncue sim origin-stall` paced at 60x into
# `oncue serve --clock replay` with every module. The replayed day's incident is stamped,
# measured and routed in that day (the replay clock starts at the first event, not at the
# wall clock), classified SEV1 from the measured impact, localized to live=true, and the
# EMEA alerts join it: one incident, not one per region. GET /v1/alerts names the incident
# of every firing it holds, active ones included.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest it-sim | tail -1)
VIEW=$(new_token "$D" viewer it-view | tail -1)
T0=1772479800    # 2026-03-02 19:30 UTC, origin-stall's begin
FAULT=1772480400 # 19:40, the stall
start_server "$D" --clock replay || exit 1
"$ONCUE_BIN" sim --target "$BASE" --token "$ING" --speed 60 --scenario origin-stall \
    --viewers 3000 --start $T0 --duration 22m --seed 1 2> "$T_TMP/sim.log" &
SIM=$!
# while the stall lasts, GET /v1/alerts shows the firing alerts with the incident they are in
ACTIVE=none
FIRED=none
while kill -0 $SIM 2>/dev/null; do
    curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/alerts" >"$T_TMP/active.json"
    A=$(jq -c '[.active[] | select(.level == "page") | .incident_id] | unique' "$T_TMP/active.json")
    if [ "$A" != "[]" ] && [ "${A#\[null}" = "$A" ]; then # (null sorts first)
        ACTIVE=$A
        FIRED=$(jq -c '[.active[] | select(.level == "page") | .fired_at | type] | unique' \
            "$T_TMP/active.json")
        break
    fi
    sleep 0.2
done
wait $SIM
t_check "sim exits 0" 0 $?
t_check "firing page alerts name their incident" '["INC-1"]' "$ACTIVE"
t_check "... and when they fired" '["number"]' "$FIRED"
for _ in $(seq 1 50); do # the alert and incident timers tick every second
    curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/incidents/INC-1" > "$T_TMP/inc.json"
    jq -e '.timeline[] | select(.kind == "rca")' "$T_TMP/inc.json" >/dev/null 2>&1 && break
    sleep 0.2
done
t_check "SEV1" '"SEV1"' "$(jq -c .severity "$T_TMP/inc.json")"
opened=$(jq '[.timeline[] | select(.kind == "declared")][0].at' "$T_TMP/inc.json")
t_check "declared in the replayed day, after the stall began" 1 \
    "$((opened >= FAULT && opened <= FAULT + 600))"
t_contains "measured impact" "of viewers affected" \
    "$(jq -r '[.timeline[] | select(.kind == "declared")][0].text' "$T_TMP/inc.json")"
t_check "impact above zero" 1 "$(jq '[.timeline[] | select(.kind == "declared")][0].text |
    capture("\\((?<p>[0-9.]+)% of viewers").p | tonumber > 5' "$T_TMP/inc.json" | grep -c true)"
t_contains "localized to the live slice" '"live":"true"' "$(jq -c '.causes' "$T_TMP/inc.json")"
t_check "EMEA joined INC-1" 1 "$(jq '[.alerts[] | select(.alert_id | test("region=EMEA"))] |
    length > 0' "$T_TMP/inc.json" | grep -c true)"
# the alert history links each of INC-1's alerts, the opener and those that joined, to it
IDS=$(jq -c '[.alerts[].alert_id]' "$T_TMP/inc.json")
curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/alerts" > "$T_TMP/alerts.json"
t_check "the latest firing of each of INC-1's alerts names INC-1" "$(jq length <<<"$IDS") INC-1" \
    "$(jq -r --argjson ids "$IDS" '(reduce .recent[] as $r ({};
        if has($r.alert_id) then . else .[$r.alert_id] = $r.incident_id end)) as $last |
        [$ids[] | $last[.]] | "\(length) \(unique | join(","))"' "$T_TMP/alerts.json")"
t_check "one incident" 1 "$(curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/incidents" |
    jq '[.incidents[] | select(.state != "resolved")] | length')"
t_done
