#!/usr/bin/env bash
# CMCD and CDN logs over real HTTP (docs/contracts.md "CMCD and CDN logs"): Fastly NDJSON,
# Akamai DataStream 2 JSON and CloudFront lines with CMCD, and CMCD v2 event reports, land in
# the QoE cube under the beacon formulas (sessions joined on sid); bad lines are named per
# line and counted by reason in /metrics, never fatal to the batch.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest it-ing)
VIEW=$(new_token "$D" viewer it-view)
start_server "$D" --clock replay || exit 1
M=1767268800 # the minute under test (2026-01-01T12:00:00Z)
A=(-H "Authorization: Bearer $ING")
q() { curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/qoe?from=$M&to=$((M + 60))&$1"; }

# Fastly: two sessions at FRA (s1 stalls once), one with a bad status, one not JSON
cat >"$T_TMP/fastly.ndjson" <<EOF
{"timestamp":"$M.100","pop":"FRA","status":200,"cache_status":"HIT","ttfb_ms":12,"url":"/v/seg1.m4s?CMCD=br%3D3000%2Cd%3D4000%2Cot%3Dv%2Csid%3D%22s1%22"}
{"timestamp":"$((M + 4)).100","pop":"FRA","status":200,"cache_status":"MISS","ttfb_ms":80,"url":"/v/seg2.m4s?CMCD=br%3D1000%2Cd%3D4000%2Cbs%2Cot%3Dv%2Csid%3D%22s1%22"}
{"timestamp":"$((M + 4)).200","pop":"FRA","status":200,"url":"/v/seg1.m4s?CMCD=br%3D3000%2Cd%3D4000%2Csid%3D%22s2%22"}
{"timestamp":"$((M + 6))","pop":"FRA","status":503,"cache_status":"PASS","ttfb_ms":400}
{"timestamp":"$((M + 5))","pop":"FRA","status":999}
this is not json
EOF
st=$(status POST "/v1/cdn-logs?format=fastly&region=emea" "${A[@]}" --data-binary @"$T_TMP/fastly.ndjson")
t_check "fastly: 200" 200 "$st"
t_check "fastly: counts" "4 2 3 4" \
    "$(body | jq -r '"\(.accepted) \(.rejected) \(.player_events) \(.edge_requests)"')"
t_check "fastly: errors name line, reason and field" \
    "5 bad_field status: '999' is not an HTTP status (100-599)|6 malformed not a JSON object" \
    "$(body | jq -r '[.errors[] | "\(.line) \(.reason) \(.detail)"] | join("|")')"

# Akamai: a third session at AMS; CloudFront: a fourth at LHR (custom columns)
printf '{"reqTimeSec":"%s.5","statusCode":"206","cacheStatus":"1","cacheable":"1","pop":"AMS","timeToFirstByte":"20","queryStr":"CMCD=br%%3D2000%%2Cd%%3D4000%%2Csid%%3D%%22s3%%22"}\n' \
    "$((M + 10))" >"$T_TMP/akamai.json"
st=$(status POST "/v1/cdn-logs?format=akamai&region=emea" "${A[@]}" --data-binary @"$T_TMP/akamai.json")
t_check "akamai: 200, one player event" "200 1" "$st $(body | jq .player_events)"
printf '%s.551\tLHR56-P1\t200\tHit\t0.002\ts4\t4000\t2000\tfalse\n' "$((M + 20))" >"$T_TMP/cf.tsv"
F="timestamp,x-edge-location,sc-status,x-edge-result-type,time-to-first-byte,cmcd-session-id,cmcd-object-duration,cmcd-encoded-bitrate,cmcd-buffer-starvation"
st=$(status POST "/v1/cdn-logs?format=cloudfront&region=emea&fields=$F" "${A[@]}" --data-binary @"$T_TMP/cf.tsv")
t_check "cloudfront: 200, one player event" "200 1" "$st $(body | jq .player_events)"

# CMCD v2 event mode: s1's start (msd) joins its log lines; one report without ts
printf 'e=ps,sta=s,sid="s1",ts=%s000,msd=1200\ne=t,sid="s9"\n' "$((M + 1))" >"$T_TMP/events.cmcd"
st=$(status POST "/v1/cmcd?region=emea&cdn=fastly&pop=FRA" "${A[@]}" --data-binary @"$T_TMP/events.cmcd")
t_check "cmcd: 200" 200 "$st"
t_check "cmcd: answer" '1 1 2 missing_ts' \
    "$(body | jq -r '"\(.accepted) \(.rejected) \(.errors[0].line) \(.errors[0].reason)"')"

# refusals of the whole body
t_check "no format: 422" 422 "$(status POST /v1/cdn-logs "${A[@]}" --data-binary @"$T_TMP/cf.tsv")"
t_contains "no format: detail names it" "format: required" "$(body)"
t_check "unknown format: 422" 422 \
    "$(status POST '/v1/cdn-logs?format=nginx' "${A[@]}" --data-binary @"$T_TMP/cf.tsv")"
t_check "fields with a JSON format: 422" 422 \
    "$(status POST '/v1/cdn-logs?format=fastly&fields=a' "${A[@]}" --data-binary @"$T_TMP/cf.tsv")"
t_check "no token: 401" 401 "$(status POST '/v1/cdn-logs?format=fastly' --data-binary x)"
t_check "viewer token: 403" 403 "$(status POST '/v1/cmcd' -H "Authorization: Bearer $VIEW" --data-binary x)"
t_check "empty body: 400" 400 "$(status POST '/v1/cmcd' "${A[@]}" --data-binary '')"

# close the minute: a line five minutes later raises the replay watermark
printf '{"timestamp":"%s","pop":"FRA","url":"/?CMCD=d%%3D4000%%2Csid%%3D%%22s1%%22"}\n' "$((M + 300))" |
    curl -s -o /dev/null "${A[@]}" --data-binary @- "$BASE/v1/cdn-logs?format=fastly&region=emea"
for _ in $(seq 1 50); do
    v=$(q "metric=concurrent_viewers&group_by=pop" | jq -c '[.series[] | {(.group.pop): .points[0][1]}] | add')
    [ "$v" != "null" ] && [ -n "$v" ] && break
    sleep 0.2
done
t_check "concurrent viewers by POP (sid joins)" '{"AMS":1,"FRA":2,"LHR56-P1":1}' \
    "$(q "metric=concurrent_viewers&group_by=pop" | jq -cS '[.series[] | {(.group.pop): .points[0][1]}] | add')"
t_check "rebuffering share at FRA: s1 of s1, s2" 0.5 \
    "$(q "metric=rebuffering_share&filter=pop:FRA" | jq '.series[0].points[0][1]')"
t_check "bitrate at FRA: (3000+1000+3000)/3 x 4 s" 2333.333 \
    "$(q "metric=avg_bitrate_kbps&filter=pop:FRA" | jq '.series[0].points[0][1] * 1000 | round / 1000')"
t_check "plays: the one msd report" 1 "$(q "metric=plays" | jq '.series[0].points[0][1]')"
t_check "startup p50 from msd (sketch within 1%)" true \
    "$(q "metric=startup_p50_ms" | jq '.series[0].points[0][1] | (. > 1188 and . < 1212)')"
t_check "cdn dimension from the route" '["akamai","cloudfront","fastly"]' \
    "$(q "metric=concurrent_viewers&group_by=cdn" | jq -c '[.series[].group.cdn] | sort')"
# the edge series, per CDN and POP, from the log lines (with or without CMCD)
pops() { q "metric=$1&group_by=pop" | jq -cS '[.series[] | {(.group.pop): .points[0][1]}] | add'; }
t_check "edge requests by POP" '{"AMS":1,"FRA":4,"LHR56-P1":1}' "$(pops edge_requests)"
t_check "edge 5xx rate at FRA: 1 of 4" 0.25 \
    "$(q "metric=edge_5xx_rate&filter=pop:FRA" | jq '.series[0].points[0][1]')"
t_check "edge cache miss rate by POP" '{"AMS":0,"FRA":0.25,"LHR56-P1":0}' "$(pops edge_cache_miss_rate)"
t_check "origin pulls at FRA: a miss and a pass" 2 \
    "$(q "metric=edge_origin_pulls&filter=pop:FRA" | jq '.series[0].points[0][1]')"
t_check "edge TTFB at FRA: (12+80+400)/3 ms" 164 \
    "$(q "metric=edge_ttfb_ms&filter=pop:FRA" | jq '.series[0].points[0][1]')"
t_check "edge requests by CDN" '{"akamai":1,"cloudfront":1,"fastly":4}' \
    "$(q "metric=edge_requests&group_by=cdn" | jq -cS '[.series[] | {(.group.cdn): .points[0][1]}] | add')"
t_check "PromQL reads them too" 0.25 \
    "$(curl -s -H "Authorization: Bearer $VIEW" --data-urlencode 'query=oncue_qoe_edge_5xx_rate{pop="FRA"}' \
        --data-urlencode "time=$((M + 60))" "$BASE/api/v1/query" | jq -r '.data.result[0].value[1]')"

curl -s -H "Authorization: Bearer $VIEW" "$BASE/metrics" >"$T_TMP/m.txt"
t_check "metrics: rejected lines by route and reason" 1 \
    "$(grep -c '^oncue_ingest_lines_rejected_total{route="/v1/cdn-logs",reason="bad_field"} 1$' "$T_TMP/m.txt")"
t_check "metrics: missing_ts on /v1/cmcd" 1 \
    "$(grep -c '^oncue_ingest_lines_rejected_total{route="/v1/cmcd",reason="missing_ts"} 1$' "$T_TMP/m.txt")"
t_check "metrics: lines accepted on /v1/cdn-logs" 1 \
    "$(grep -c '^oncue_ingest_lines_accepted_total{route="/v1/cdn-logs"} 7$' "$T_TMP/m.txt")"
stop_server
t_check "server stops cleanly" 0 "$SERVER_RC"

# the ingest log covers these bodies: a line of an open minute survives kill -9, and a minute
# already stored is not counted twice
start_server "$D" --clock replay || exit 1
printf '{"timestamp":"%s","pop":"LHR","status":503,"url":"/?CMCD=d%%3D4000%%2Csid%%3D%%22s7%%22"}\n' "$((M + 420))" |
    curl -s -o /dev/null "${A[@]}" --data-binary @- "$BASE/v1/cdn-logs?format=fastly&region=emea"
printf 'sid="s8",ts=%s000,msd=900\n' "$((M + 421))" |
    curl -s -o /dev/null "${A[@]}" --data-binary @- "$BASE/v1/cmcd?region=emea&pop=LHR"
stop_server KILL
start_server "$D" --clock replay || exit 1
t_contains "replayed at start" "replayed" "$(grep 'replayed' "$T_TMP/server.log")"
printf '{"timestamp":"%s","pop":"FRA"}\n' "$((M + 900))" |
    curl -s -o /dev/null "${A[@]}" --data-binary @- "$BASE/v1/cdn-logs?format=fastly&region=emea"
r() { curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/qoe?from=$((M + 420))&to=$((M + 480))&$1" | jq -c '.series[0].points[0][1]'; }
for _ in $(seq 1 50); do
    [ "$(r metric=edge_requests)" != "null" ] && break
    sleep 0.2
done
t_check "after kill -9: the open minute's log line is back" 1 "$(r metric=edge_requests)"
t_check "after kill -9: its 5xx too" 1 "$(r metric=edge_5xx_rate)"
t_check "after kill -9: the CMCD report's start" 1 "$(r metric=plays)"
t_check "after kill -9: the stored minute counted once" '{"AMS":1,"FRA":2,"LHR56-P1":1}' \
    "$(q "metric=concurrent_viewers&group_by=pop" | jq -cS '[.series[] | {(.group.pop): .points[0][1]}] | add')"
t_check "after kill -9: edge requests counted once" '{"AMS":1,"FRA":4,"LHR56-P1":1}' "$(pops edge_requests)"
stop_server
t_done
