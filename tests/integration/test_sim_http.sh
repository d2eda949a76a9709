#!/usr/bin/env bash
# `oncue sim` against the real server: NDJSON batches over one keep-alive connection into
# POST /v1/events (server on a replay clock), then the server's own /v1/qoe answers: every
# play the simulator generated is counted, and emea-cdn shows only in EMEA/primary. The
# --stdout stream of the same seed is byte-identical across runs; the log gives the fault plan
# and each fault's start; bad options are refused.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest it-sim | tail -1)
VIEW=$(new_token "$D" viewer it-view | tail -1)
T0=1772479800 # 2026-03-02 19:30 UTC, emea-cdn's begin
start_server "$D" --clock replay --modules builtin,auth,ingest,qoe || exit 1

args=(--scenario emea-cdn --viewers 600 --start $T0 --duration 22m --seed 3)
"$ONCUE_BIN" sim --stdout "${args[@]}" > "$T_TMP/a.ndjson"
"$ONCUE_BIN" sim --stdout "${args[@]}" > "$T_TMP/b.ndjson"
t_check "same seed, same bytes" "$(md5sum < "$T_TMP/a.ndjson")" "$(md5sum < "$T_TMP/b.ndjson")"
lines=$(wc -l < "$T_TMP/a.ndjson")
"$ONCUE_BIN" sim --target "$BASE" --token "$ING" --speed 0 --batch 4000 \
    --truth "$T_TMP/truth.json" "${args[@]}" 2> "$T_TMP/sim.log"
t_check "sim exits 0" 0 $?
t_contains "every event posted" "done, $lines events posted" "$(cat "$T_TMP/sim.log")"
t_contains "truth names the slice" '"pop":["FRA","AMS","PAR"]' "$(cat "$T_TMP/truth.json")"
t_contains "truth has the start" '"start":1772480580' "$(cat "$T_TMP/truth.json")"
t_contains "the log gives the plan" \
    "plan: fault emea-primary-cache-miss on region=EMEA, cdn=primary, pop=FRA|AMS|PAR at t+780s (2026-03-02T19:43:00Z) for 1800s" \
    "$(cat "$T_TMP/sim.log")"
t_contains "the log says when the fault starts" \
    "fault emea-primary-cache-miss started at 2026-03-02T19:43:00Z on region=EMEA" "$(cat "$T_TMP/sim.log")"

q() { curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/qoe?$1"; }
to=$((T0 + 18 * 60)) # the replay watermark has closed these minutes
want=$(awk -F'"ts":' -v to=$((to * 1000)) \
    '/"type":"start"/ {split($2, a, ","); if (a[1] < to) n++} END {print n}' "$T_TMP/a.ndjson")
got=$(q "metric=plays&from=$T0&to=$to" | jq '.series[0].points[0][1]')
t_check "server counts every play" "$want" "$got"

from=$((T0 + 16 * 60))
r=$(q "metric=rebuffer_ratio&from=$from&to=$to&group_by=region,cdn" |
    jq -r '.series[] | "\(.group.region)/\(.group.cdn) \(.points[0][1] > 0.02)"' | sort | tr '\n' ' ')
t_check "only EMEA/primary rebuffers" "EMEA/primary true EMEA/secondary false NA/primary false NA/secondary false " "$r"

t_check "unknown option is refused" 2 "$("$ONCUE_BIN" sim --bogus 2>/dev/null; echo $?)"
t_check "unknown scenario is refused" 1 \
    "$("$ONCUE_BIN" sim --stdout --scenario nope --duration 1m 2>/dev/null; echo $?)"
t_contains "help lists the scenarios" "emea-cdn drm-outage" "$("$ONCUE_BIN" sim --help)"
t_done
