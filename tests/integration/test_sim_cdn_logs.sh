#!/usr/bin/env bash
# The simulator speaking as the CDN (`oncue sim --cdn-logs`): emea-cdn's players arrive only as
# Fastly log lines with CMCD on POST /v1/cdn-logs, every line is accepted, and both the
# player-side metric (rebuffer ratio, from CMCD d and bsd) and the edge series (cache miss
# rate) single out the faulty POPs (FRA, AMS, PAR of the primary CDN in EMEA) once the fault
# runs, from the log lines alone. Then `oncue sim --edge-logs` (what `make demo` runs): the
# beacons and, beside them, the same events as lines posted with player_events=0. The plays
# equal those of the beacons alone to the unit (nothing counted twice), and the edge series
# still single out the faulty POPs.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest it-ing)
VIEW=$(new_token "$D" viewer it-view)
start_server "$D" --clock replay || exit 1
"$ONCUE_BIN" sim --target "$BASE" --token "$ING" --scenario emea-cdn --cdn-logs --speed 0 \
    --viewers 2000 --duration 28m --seed 7 --start 1772479800 2>"$T_TMP/sim.log"
t_check "sim --cdn-logs exits 0" 0 $?
F=1772480580 # 19:43, the fault's start; 19:50-19:57 is well into it
top3() {
    curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/qoe?metric=$1&from=$((F + 420))&to=$((F + 840))&filter=region:EMEA,cdn:primary&group_by=pop" |
        jq -r '[.series[] | {pop: .group.pop, v: .points[0][1]}] | sort_by(-.v) | .[0:3] | map(.pop) | sort | join(",")'
}
for _ in $(seq 1 50); do
    [ "$(top3 rebuffer_ratio)" = "AMS,FRA,PAR" ] && break
    sleep 0.2
done
curl -s -H "Authorization: Bearer $VIEW" "$BASE/metrics" >"$T_TMP/m.txt"
t_check "no line rejected" 0 \
    "$(grep '^oncue_ingest_lines_rejected_total{route="/v1/cdn-logs"' "$T_TMP/m.txt" | awk '{s += $2} END {print s + 0}')"
t_check "lines accepted" 1 \
    "$(awk '/^oncue_ingest_lines_accepted_total\{route="\/v1\/cdn-logs"\}/ {print ($2 > 100000)}' "$T_TMP/m.txt")"
t_check "rebuffer ratio from CMCD: the faulty POPs lead" "AMS,FRA,PAR" "$(top3 rebuffer_ratio)"
t_check "edge cache miss rate: the same POPs lead" "AMS,FRA,PAR" "$(top3 edge_cache_miss_rate)"
t_check "startup from msd" true \
    "$(curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/qoe?metric=startup_p50_ms&from=$((F - 600))&to=$F" | jq '.series[0].points[0][1] > 100')"
stop_server
t_check "server stops cleanly" 0 "$SERVER_RC"

T0=1772479800
# plays in the first 24 minutes: closed minutes only (the last ones are still open when the
# simulator stops, and what an open minute shows depends on timing)
plays() {
    curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/qoe?metric=plays&from=$T0&to=$((T0 + 1440))" |
        jq '.series[0].points[0][1] // 0'
}
# run_sim DATA ARGS...: a fresh server fed emea-cdn with ARGS; leaves it running.
run_sim() {
    local d=$1; shift
    ING=$(new_token "$d" ingest it-ing)
    VIEW=$(new_token "$d" viewer it-view)
    start_server "$d" --clock replay || return 1
    "$ONCUE_BIN" sim --target "$BASE" --token "$ING" --scenario emea-cdn --speed 0 \
        --viewers 1000 --duration 28m --seed 7 --start $T0 "$@" 2>"$T_TMP/sim2.log"
    t_check "sim $* exits 0" 0 $?
}
run_sim "$T_TMP/beacons" || exit 1
for _ in $(seq 1 50); do [ "$(plays)" != 0 ] && break; sleep 0.2; done
P_BEACONS=$(plays)
stop_server
run_sim "$T_TMP/edge" --edge-logs || exit 1
for _ in $(seq 1 50); do
    [ "$(plays)" = "$P_BEACONS" ] && [ "$(top3 edge_cache_miss_rate)" = "AMS,FRA,PAR" ] && break
    sleep 0.2
done
t_check "beacons alone counted some plays" 1 "$(echo "$P_BEACONS" | awk '{print ($1 > 100)}')"
t_check "--edge-logs: the same plays as beacons alone" "$P_BEACONS" "$(plays)"
t_check "--edge-logs: edge cache miss rate singles out the faulty POPs" "AMS,FRA,PAR" \
    "$(top3 edge_cache_miss_rate)"
curl -s -H "Authorization: Bearer $VIEW" "$BASE/metrics" >"$T_TMP/m2.txt"
ev=$(sed -n 's/^oncue sim: done, \([0-9]*\) events posted$/\1/p' "$T_TMP/sim2.log")
lines=$(awk '/^oncue_ingest_lines_accepted_total\{route="\/v1\/cdn-logs"\}/ {print $2}' "$T_TMP/m2.txt")
t_check "--edge-logs: one log line per beacon event" "$ev" "$lines"
code=$(curl -s -o "$T_TMP/bad.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $ING" \
    --data-binary '{"timestamp":"1772479800","status":200}' "$BASE/v1/cdn-logs?format=fastly&player_events=2")
t_check "player_events=2 is a 422" 422 "$code"
t_check "... naming the parameter" 1 "$(jq -r .detail "$T_TMP/bad.json" | grep -c '^player_events: 0 or 1')"
stop_server
t_done
