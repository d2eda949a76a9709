#!/usr/bin/env bash
# The Prometheus-compatible query API (docs/internals/promql.md) against the real server fed
# by `oncue sim` over HTTP: query_range grouped by region answers the same numbers as GET
# /v1/qoe over the same minutes (each point stamped with the end of its step), POST forms as
# Grafana sends them, instant queries, labels, values, series, buildinfo, the error envelope
# (400 bad_data; 422 execution with how to narrow, qoe.query_max_cells lowered to 2000), and
# `promtool query` reading it.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest it-sim | tail -1)
VIEW=$(new_token "$D" viewer it-view | tail -1)
ADM=$(new_token "$D" admin it-admin | tail -1)
T0=1772479800 # 2026-03-02 19:30 UTC
start_server "$D" --clock replay --modules builtin,auth,ingest,qoe --set qoe.query_max_cells=2000 || exit 1
"$ONCUE_BIN" sim --target "$BASE" --token "$ING" --speed 0 --batch 4000 \
    --scenario emea-cdn --viewers 600 --start $T0 --duration 22m --seed 3 2> "$T_TMP/sim.log"
t_check "sim exits 0" 0 $?
to=$((T0 + 18 * 60))
H=(-H "Authorization: Bearer $VIEW")
# jq prints JSON numbers and tonumber's at different precisions: compare 12 digits
g12() { awk '{printf "%s %s %.12g\n", $1, $2, $3}' | sort; }
pq() { curl -s "${H[@]}" "$BASE/api/v1/$1" "${@:2}"; }

# the same minutes both ways: /v1/qoe point at t covers [t, t+60); the Prometheus point at t
# covers the step that ends at t
for m in rebuffer_ratio vsf_rate rebuffering_share startup_p95_ms; do
    curl -s "${H[@]}" "$BASE/v1/qoe?metric=$m&from=$T0&to=$to&step=60&group_by=region" |
        jq -r '.series[] | .group.region as $r | .points[] | select(.[1] != null) |
               "\($r) \(.[0] + 60) \(.[1])"' | g12 > "$T_TMP/v1.txt"
    pq query_range -G --data-urlencode "query=sum by (region) (oncue_qoe_$m)" \
        --data-urlencode "start=$((T0 + 60))" --data-urlencode "end=$to" \
        --data-urlencode step=60 > "$T_TMP/prom.json"
    t_check "$m: success" success "$(jq -r .status "$T_TMP/prom.json")"
    jq -r '.data.result[] | .metric.region as $r | .values[] | "\($r) \(.[0]) \(.[1] | tonumber)"' \
        "$T_TMP/prom.json" | g12 > "$T_TMP/prom.txt"
    t_check "$m: points compared" yes "$([ "$(wc -l < "$T_TMP/v1.txt")" -ge 18 ] && echo yes)"
    t_check "$m by region: same numbers as /v1/qoe" "" "$(diff "$T_TMP/v1.txt" "$T_TMP/prom.txt")"
done

# a 5-minute step as Grafana sends it: POST form, RFC 3339 times, step "5m"
curl -s "${H[@]}" "$BASE/v1/qoe?metric=vsf_rate&from=$T0&to=$((T0 + 900))&step=300&filter=region:EMEA&group_by=cdn" |
    jq -r '.series[] | .group.cdn as $c | .points[] | "\($c) \(.[0] + 300) \(.[1])"' | g12 > "$T_TMP/v1.txt"
pq query_range -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-urlencode 'query=sum by (cdn) (oncue_qoe_vsf_rate{region="EMEA"})' \
    --data-urlencode "start=2026-03-02T19:35:00Z" --data-urlencode "end=2026-03-02T19:45:00Z" \
    --data-urlencode step=5m > "$T_TMP/prom.json"
jq -r '.data.result[] | .metric.cdn as $c | .values[] | "\($c) \(.[0]) \(.[1] | tonumber)"' \
    "$T_TMP/prom.json" | g12 > "$T_TMP/prom.txt"
t_check "POST form, 5m step, filter: same numbers" "$(cat "$T_TMP/v1.txt")" "$(cat "$T_TMP/prom.txt")"
t_check "sum drops __name__, keeps the group" '["cdn"]' \
    "$(jq -c '.data.result[0].metric | keys' "$T_TMP/prom.json")"

# regex and negative matchers select the same population as the filter they stand for
a=$(pq query_range -G --data-urlencode 'query=oncue_qoe_plays{region=~"EM.*|nowhere", cdn!="secondary"}' \
    --data-urlencode start=$to --data-urlencode end=$to --data-urlencode step=60 | jq -r '.data.result[0].values[0][1]')
b=$(curl -s "${H[@]}" "$BASE/v1/qoe?metric=plays&from=$((to - 60))&to=$to&filter=region:EMEA,cdn:primary" |
    jq -r '.series[0].points[0][1]')
t_check "=~ and != select EMEA/primary ($a)" "$b" "$a"

# instant query: a vector at the given time (the minute that ends there)
v=$(pq query -G --data-urlencode 'query=topk(1, sum by (region, cdn) (oncue_qoe_rebuffer_ratio))' \
    --data-urlencode time=$to)
t_check "instant: vector" vector "$(jq -r .data.resultType <<< "$v")"
t_check "topk(1): the worst slice is EMEA/primary" "EMEA/primary 1" \
    "$(jq -r '"\(.data.result[0].metric.region)/\(.data.result[0].metric.cdn) \(.data.result | length)"' <<< "$v")"
t_check "instant: stamped with time" "$to" "$(jq -r '.data.result[0].value[0]' <<< "$v")"
t_check "1+1 is a scalar (Grafana's health check)" '["scalar","2"]' \
    "$(pq query -G --data-urlencode 'query=1+1' --data-urlencode time=$to | jq -c '[.data.resultType, .data.result[1]]')"

# labels, values, series, metadata, buildinfo
t_contains "labels" '"__name__","asn","cdn","country"' "$(pq labels)"
t_check "region values" '["EMEA","NA","unknown"]' \
    "$(pq label/region/values | jq -c '.data - ["other"]')"
t_contains "metric names" '"oncue_qoe_rebuffering_share"' "$(pq label/__name__/values)"
t_check "series" '[{"__name__":"oncue_qoe_plays","region":"EMEA"}]' \
    "$(pq series -G --data-urlencode 'match[]=oncue_qoe_plays{region="EMEA"}' | jq -c .data)"
t_check "buildinfo" success "$(pq status/buildinfo | jq -r .status)"
t_check "metadata" gauge "$(pq metadata | jq -r '.data.oncue_qoe_vsf_rate[0].type')"

# errors: 400 bad_data naming the construct, 422 execution saying how to narrow, 401
code=$(curl -s -o "$T_TMP/e.json" -w '%{http_code}' "${H[@]}" -G "$BASE/api/v1/query" \
    --data-urlencode 'query=rate(oncue_qoe_plays[5m])')
t_check "rate(): 400" 400 "$code"
t_check "rate(): bad_data envelope" '{"status":"error","errorType":"bad_data","error":"unsupported: rate()"}' \
    "$(jq -c . "$T_TMP/e.json")"
code=$(curl -s -o "$T_TMP/e.json" -w '%{http_code}' "${H[@]}" -G "$BASE/api/v1/query_range" \
    --data-urlencode 'query=sum without () (oncue_qoe_plays)' --data-urlencode start=$((T0 + 60)) \
    --data-urlencode end=$to --data-urlencode step=60)
t_check "too many cells: 422" 422 "$code"
t_contains "422 says how to narrow" '"errorType":"execution","error":"the answer would hold' "$(cat "$T_TMP/e.json")"
t_contains "422 names the step" 'use step=' "$(cat "$T_TMP/e.json")"
# a refused POST is audited (before any handler runs): the one /api/v1 entry
curl -s -o /dev/null -X POST "$BASE/api/v1/query" -d 'query=1'
t_check "POST queries are reads, not audited actions (only the refused one is)" '["POST /api/v1/query 401"]' \
    "$(curl -s -H "Authorization: Bearer $ADM" "$BASE/v1/audit?limit=100" |
        jq -c '[.entries[] | select(.action | contains("/api/v1/")) | "\(.action) \(.status)"]')"
t_check "no token: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/api/v1/labels")"

# the real tool: promtool query range (a bearer token through --header)
if command -v promtool >/dev/null; then
    out=$(promtool query range --header "Authorization=Bearer $VIEW" --start $((to - 120)) \
        --end $to --step 1m "$BASE" 'sum by (region) (oncue_qoe_plays)' 2>&1)
    t_check "promtool query range: exit 0 ($out)" 0 $?
    want=$(curl -s "${H[@]}" "$BASE/v1/qoe?metric=plays&from=$((to - 60))&to=$to&filter=region:EMEA" |
        jq -r '.series[0].points[0][1]')
    t_contains "promtool prints EMEA's plays" "$want @[$to]" "$out"
    out=$(promtool query range --header "Authorization=Bearer $VIEW" --start $((to - 60)) --end $to \
        --step 1m "$BASE" 'oncue_qoe_rebuffering_share' 2>&1)
    t_contains "promtool: a plain selector keeps its name" "oncue_qoe_rebuffering_share =>" "$out"
else
    echo "$T_PASS passed, $T_FAIL failed; promtool is missing (scripts/deps.sh check installs prometheus): skipped"
    [ "$T_FAIL" -eq 0 ] || exit 1
    exit 77
fi
t_done
