#!/usr/bin/env bash
# Cross-device resume over real HTTP: PUT and GET of one point, roles (ingest writes, viewer
# reads), 422/400/409 refusals naming the field, the batched POST, the continue-watching row
# and its thresholds and limit, the /metrics counters, a restart that keeps every point, and
# `oncue bench resume` against it.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest resume-ingest)
VIEW=$(new_token "$D" viewer resume-viewer)
start_server "$D" || exit 1
NOW=$(( $(date +%s) * 1000 ))

report() { resume_report "$@"; }
put() { status PUT "/v1/resume/$1/$2" -H "Authorization: Bearer $ING" -d "$3"; }
get() { status GET "$1" -H "Authorization: Bearer $VIEW"; }

# --- one point, roles ---
t_check "PUT as ingest" 200 "$(put p1 t1 "$(report phone 1 600000 playing "$NOW")")"
t_check "PUT outcome" applied "$(jq -r .outcome <<<"$(body)")"
t_check "PUT answers the winner" 600000 "$(jq .point.position_ms <<<"$(body)")"
t_check "PUT as viewer is refused" 403 "$(status PUT /v1/resume/p1/t1 -H "Authorization: Bearer $VIEW" -d "$(report phone 2 1 playing "$NOW")")"
t_check "PUT without a token" 401 "$(status PUT /v1/resume/p1/t1 -d "$(report phone 2 1 playing "$NOW")")"
t_check "GET as viewer" 200 "$(get /v1/resume/p1/t1)"
t_check "GET answers the point" "phone 600000 playing" "$(jq -r '"\(.device) \(.position_ms) \(.state)"' <<<"$(body)")"
t_check "GET as ingest is refused" 403 "$(status GET /v1/resume/p1/t1 -H "Authorization: Bearer $ING")"
t_check "GET of an unknown point" 404 "$(get /v1/resume/p1/nope)"

# --- refusals ---
t_check "duplicate is stale" 409 "$(put p1 t1 "$(report phone 1 600000 playing "$NOW")")"
t_contains "stale names seq" "seq: stale" "$(body)"
t_check "lower seq is stale" 409 "$(put p1 t1 "$(report phone 0 900000 playing "$NOW")")"
t_check "same position is coalesced" coalesced "$(put p1 t1 "$(report phone 2 600000 playing "$NOW")" >/dev/null; jq -r .outcome <<<"$(body)")"
t_check "negative position" 422 "$(put p1 t1 "$(report phone 3 -5 playing "$NOW")")"
t_contains "names position_ms" "position_ms" "$(jq -r .detail <<<"$(body)")"
t_check "position past duration" 422 "$(put p1 t1 "$(report phone 3 5000 playing "$NOW" 4000)")"
t_check "unknown state" 422 "$(put p1 t1 "$(report phone 3 5 stopped "$NOW")")"
t_contains "names state" "state" "$(jq -r .detail <<<"$(body)")"
t_check "ts before 2000" 422 "$(put p1 t1 "$(report phone 3 5 paused 1000)")"
t_check "seq past 2^53" 422 "$(put p1 t1 "$(report phone 9007199254740992 5 paused "$NOW")")"
t_check "NUL in device" 422 "$(put p1 t1 '{"position_ms":1,"duration_ms":2,"device":"a\u0000b","session":"s","seq":1,"state":"paused","ts":'"$NOW"'}')"
t_contains "names device" "device" "$(jq -r .detail <<<"$(body)")"
t_check "unknown field" 422 "$(put p1 t1 '{"position_ms":1,"extra":true}')"
t_check "not JSON" 400 "$(put p1 t1 '{"position_ms":')"
t_check "bad title charset" 422 "$(put p1 'a%20b' "$(report phone 3 5 paused "$NOW")")"
long=$(printf 'x%.0s' $(seq 1 129))
t_check "title too long" 422 "$(put p1 "$long" "$(report phone 3 5 paused "$NOW")")"
t_check "body over the PUT cap" 413 "$(put p1 t1 "{\"session\":\"$(printf 'x%.0s' $(seq 1 5000))\"}")"

# --- batch and the continue-watching row ---
batch="["
for i in 1 2 3 4 5 6; do
    batch="$batch{\"profile\":\"p2\",\"title\":\"m$i\",\"position_ms\":$((i * 600000)),\"duration_ms\":7200000,\"device\":\"tv\",\"session\":\"s\",\"seq\":$i,\"state\":\"paused\",\"ts\":$((NOW - 100000 + i * 1000))},"
done
batch="$batch{\"profile\":\"p2\",\"title\":\"short\",\"position_ms\":60000,\"duration_ms\":200000,\"device\":\"tv\",\"session\":\"s\",\"seq\":10,\"state\":\"paused\",\"ts\":$NOW},"
batch="$batch{\"profile\":\"p2\",\"title\":\"begun\",\"position_ms\":1000,\"duration_ms\":7200000,\"device\":\"tv\",\"session\":\"s\",\"seq\":11,\"state\":\"paused\",\"ts\":$NOW},"
batch="$batch{\"profile\":\"p2\",\"title\":\"done\",\"position_ms\":7000000,\"duration_ms\":7200000,\"device\":\"tv\",\"session\":\"s\",\"seq\":12,\"state\":\"paused\",\"ts\":$NOW},"
batch="$batch{\"profile\":\"p2\",\"title\":\"m1\",\"position_ms\":600000,\"duration_ms\":7200000,\"device\":\"tv\",\"session\":\"s\",\"seq\":1,\"state\":\"paused\",\"ts\":$((NOW - 99000))}]"
t_check "POST batch" 200 "$(status POST /v1/resume -H "Authorization: Bearer $ING" -d "$batch")"
t_check "batch counts" "9 0 1" "$(jq -r '"\(.applied) \(.coalesced) \(.stale)"' <<<"$(body)")"
t_check "row" 200 "$(get /v1/resume/p2)"
t_check "row: unwatched, most recent first" "m6 m5 m4 m3 m2 m1" "$(jq -r '[.items[].title] | join(" ")' <<<"$(body)")"
t_check "row limit" 200 "$(get '/v1/resume/p2?limit=2')"
t_check "row limit applies" "m6 m5" "$(jq -r '[.items[].title] | join(" ")' <<<"$(body)")"
t_check "row limit out of range" 422 "$(get '/v1/resume/p2?limit=0')"
t_check "row of an unknown profile" '{"items":[]}' "$(get /v1/resume/nobody >/dev/null; body)"
t_check "batch with a bad item" 422 "$(status POST /v1/resume -H "Authorization: Bearer $ING" -d '[{"profile":"p","title":"t","position_ms":1,"duration_ms":2,"device":"d","session":"s","seq":1,"state":"paused","ts":'"$NOW"'},{"profile":"p"}]')"
t_contains "names the item and field" "[1].title" "$(jq -r .detail <<<"$(body)")"
t_check "batch not an array" 400 "$(status POST /v1/resume -H "Authorization: Bearer $ING" -d '{}')"
# A watched mark (state ended) takes the title out of the row.
t_check "mark watched" 200 "$(put p2 m6 "$(report phone 1 0 ended "$NOW")")"
t_check "ended wins" ended "$(jq -r .point.state <<<"$(body)")"
t_check "row without the watched title" "m5 m4 m3 m2 m1" "$(get /v1/resume/p2 >/dev/null; jq -r '[.items[].title] | join(" ")' <<<"$(body)")"

# --- metrics ---
m=$(curl -s "$BASE/metrics" | grep oncue_resume_)
t_contains "applied counter" 'oncue_resume_writes_total{outcome="applied"} 11' "$m"
t_contains "stale counter" 'oncue_resume_writes_total{outcome="stale"} 3' "$m"
t_contains "coalesced counter" 'oncue_resume_writes_total{outcome="coalesced"} 1' "$m"
t_contains "invalid counter" 'oncue_resume_write_errors_total{reason="invalid"} 12' "$m"
t_contains "conflicts counter" 'oncue_resume_conflicts_resolved_total 1' "$m"
t_contains "stale share" 'oncue_resume_stale_writes_ratio 0.2' "$m"

# --- restart: every point is back ---
stop_server TERM
start_server "$D" || exit 1
t_check "point after restart" "phone 600000" "$(get /v1/resume/p1/t1 >/dev/null; jq -r '"\(.device) \(.position_ms)"' <<<"$(body)")"
t_check "row after restart" "m5 m4 m3 m2 m1" "$(get /v1/resume/p2 >/dev/null; jq -r '[.items[].title] | join(" ")' <<<"$(body)")"
t_check "stale after restart" 409 "$(put p1 t1 "$(report phone 0 1 playing "$NOW")")"

# --- oncue bench resume: 4 connections on 2 event-loop threads, every request answered ---
bench() { "$ONCUE_BIN" bench resume --target "$BASE" --duration 1 --connections 4 --threads 2 "$@"; }
b=$(bench --token "$ING" --mode put --points 3)
t_contains "bench put: none failed" "failed 0" "$b"
t_check "bench put: connection 3's point 2" bench3 "$(get /v1/resume/bp3-2/t2 >/dev/null; jq -r .device <<<"$(body)")"
b=$(bench --token "$ING" --mode batch --batch 5 --points 10)
t_contains "bench batch: none failed" "failed 0" "$b"
t_check "bench batch: connection 1's item 9" bench1 "$(get /v1/resume/bb1-9/t2 >/dev/null; jq -r .device <<<"$(body)")"
b=$(bench --token "$VIEW" --mode get --points 3)
t_contains "bench get: none failed" "failed 0" "$b"
t_check "bench get: positive rate" 1 "$(awk '/^requests\/s/ {print ($2 > 0)}' <<<"$b")"
stop_server TERM
t_done
