#!/usr/bin/env bash
# Bounded QoE queries (issue 26, finding 1): a GET /v1/qoe whose answer would hold more than
# qoe.query_max_cells values (or more JSON than qoe.query_max_answer_bytes, or more memory
# than http.request_memory_bytes) is refused with 422 before it runs, and the detail says
# which step fits; that step then answers. Data: the simulator's emea-cdn scenario.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest it-sim | tail -1)
VIEW=$(new_token "$D" viewer it-view | tail -1)
T0=1772479800
start_server "$D" --clock replay --modules builtin,auth,ingest,qoe || exit 1
"$ONCUE_BIN" sim --target "$BASE" --token "$ING" --speed 0 --batch 4000 --scenario emea-cdn \
    --viewers 600 --start $T0 --duration 22m --seed 3 2> "$T_TMP/sim.log"
t_check "sim posted" 0 $?
q() { status GET "/v1/qoe?$1" -H "Authorization: Bearer $VIEW"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }

to=$((T0 + 18 * 60))
week="metric=rebuffer_ratio&from=$((to - 7 * 86400))&to=$to&step=60&group_by=region,cdn,pop&top=1000"
rss0=$(rss)
t_check "a week by the minute, 3 dimensions, top 1000: 422" 422 "$(q "$week")"
t_contains "says how many values" "1000 groups x 10080 points = 10080000 values" "$(body)"
t_contains "says which step fits" "use step=2460 or more, a shorter range, or a smaller top" "$(body)"
echo "server RSS ${rss0} kB before, $(rss) kB after the refused query"
t_check "the refused query allocated nothing much (< 20 MB more RSS)" 1 "$([ $(($(rss) - rss0)) -lt 20000 ] && echo 1 || echo 0)"
t_check "the step it names answers" 200 "$(q "${week/step=60/step=2460}")"
t_check "a smaller top answers" 200 "$(q "${week/top=1000/top=20}")"
t_check "an hour by the minute answers" 200 "$(q "metric=rebuffer_ratio&from=$((to - 3600))&to=$to&step=60&group_by=region,cdn&top=1000")"
t_contains "with the simulator's groups" '"region":"EMEA"' "$(body)"
stop_server

# The request memory cap applies too: 1 MiB per request fits about 6,900 values.
start_server "$D" --clock replay --modules builtin,auth,ingest,qoe \
    --set http.request_memory_bytes=1048576 || exit 1
t_check "request memory cap: 422" 422 "$(q "metric=rebuffer_ratio&from=$((to - 86400))&to=$to&step=60&group_by=region,cdn&top=10")"
t_contains "names the setting" "http.request_memory_bytes 1048576" "$(body)"
stop_server
t_done
