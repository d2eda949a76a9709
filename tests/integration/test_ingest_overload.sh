#!/usr/bin/env bash
# Ingest that falls behind says so: once the ingest log holds ingest.wal_max_bytes of events
# whose minutes are not stored yet, POST /v1/events answers 503 with Retry-After and a detail
# naming the setting, counts nothing of the refused body, and /metrics shows the log's size
# and the refusals; what was answered 200 is all there once the minutes close (a stop writes
# the open minutes). On the wall clock: a replay's minutes close only on its own events, so
# there the log's size refuses nothing.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest over-ingest | tail -1)
VIEW=$(new_token "$D" viewer over-view | tail -1)
T0=$(($(date +%s) * 1000))
start_server "$D" --set ingest.wal_max_bytes=262144 || exit 1

# body I: 40 starts within a second of now (nothing closes for minutes, so the log only grows)
body() {
    local i=$1 j
    for j in $(seq 1 40); do
        printf '{"ts":%d,"type":"start","session":"o-%d-%d","outcome":"success","startup_ms":700,"region":"EMEA","device":"a-rather-long-device-name-to-fill-the-log-quickly"}\n' \
            $((T0 + j)) "$i" "$j"
    done
}
acked=0 code=200 i=0
while [ "$code" = 200 ] && [ $i -lt 2000 ]; do
    body $i > "$T_TMP/b"
    code=$(curl -s -D "$T_TMP/h" -o "$T_TMP/ans" -w '%{http_code}' -X POST "$BASE/v1/events" \
        -H "Authorization: Bearer $ING" --data-binary @"$T_TMP/b")
    [ "$code" = 200 ] && acked=$((acked + $(jq .accepted "$T_TMP/ans")))
    i=$((i + 1))
done
echo "plays acknowledged before the first 503: $acked ($i posts)"
t_check "503 once the log is full" 503 "$code"
t_check "Retry-After" "Retry-After: 10" "$(grep -i '^retry-after' "$T_TMP/h" | tr -d '\r')"
t_contains "the detail names the setting" "ingest.wal_max_bytes 262144" "$(jq -r .detail "$T_TMP/ans")"
t_check "the log filled past 256 KiB after some hundred posts (compact records)" 1 "$((acked > 2000))"
M=$(curl -s "$BASE/metrics")
t_contains "refusals counted" "oncue_ingest_overloaded_total 1" "$M"
t_check "the log's size is a gauge" 1 "$(echo "$M" | awk '/^oncue_ingest_log_bytes / {print ($2 >= 262144)}')"
stop_server TERM # writes the open minutes
start_server "$D" --set ingest.wal_max_bytes=1073741824 || exit 1
t_check "accepted with room in the log" 200 "$(status POST /v1/events -H "Authorization: Bearer $ING" \
    --data-binary "{\"ts\":$T0,\"type\":\"heartbeat\",\"session\":\"x\",\"playing_ms\":1000,\"rebuffer_ms\":0}")"
stop_server TERM
start_server "$D" --set ingest.wal_max_bytes=1073741824 || exit 1
stored=$(curl -s -H "Authorization: Bearer $VIEW" \
    "$BASE/v1/qoe?metric=plays&from=$((T0 / 1000 - 120))&to=$((T0 / 1000 + 120))&step=1d" |
    jq '[.series[].points[][1]] | add')
t_check "every acknowledged play stored, none of the refused" "$acked" "$stored"
stop_server TERM
t_done
