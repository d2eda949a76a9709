#!/usr/bin/env bash
# test_probe_hls.sh - the prober against real live HLS: Debian's ffmpeg packages a live test
# source (2 s segments, a window of 6) into a folder that Debian's nginx serves on two
# 127.0.0.1 ports (the pathways cdn-a and cdn-b). Faults are injected one at a time and each
# must be reported with its kind and stream, then recover once undone:
#   the packager stops (SIGSTOP: stale), the origin answers 503 (http_status), the playlist is
#   truncated mid-line (parse_error with its line), segments are deleted (segment_missing,
#   404), and cdn-b serves a playlist 4 s behind (origins_disagree).
# nginx and ffmpeg are installed with apt when missing and running as root; else SKIP (77)
# (tests/integration/probe_lib.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/probe_lib.sh"

start_ffmpeg() {
    ffmpeg -hide_banner -loglevel error -nostdin -re -f lavfi -i testsrc=size=320x180:rate=25 \
        -c:v libx264 -preset ultrafast -tune zerolatency -g 50 -keyint_min 50 -sc_threshold 0 \
        -b:v 200k -f hls -hls_time 2 -hls_list_size 6 \
        -hls_flags delete_segments+program_date_time \
        -hls_segment_filename "$W/live/seg_%05d.ts" -master_pl_name master.m3u8 \
        "$W/live/media.m3u8" 2>"$T_TMP/ffmpeg.log" &
    FF_PID=$!
}
start_ffmpeg
# the first three segments (6 s of media) before the probe starts
for i in $(seq 1 100); do
    n=$(grep -c '^seg_' "$W/live/media.m3u8" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 3 ] && break
    sleep 0.2
done
t_check "ffmpeg wrote a live playlist of 3 segments" 3 "$n"
t_check "nginx serves it" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PB/live/media.m3u8")"

cat >"$T_TMP/probes.yaml" <<YML
- name: live
  kind: hls
  service: packager
  poll_s: 1
  urls:
    cdn-a: http://127.0.0.1:$PA/live/master.m3u8
    cdn-b: http://127.0.0.1:$PB/live/master.m3u8
YML
start_oncue || exit 1

# healthy: both pathways up, no findings, after 3 polls
ok=$(wait_for 15 healthy_state)
t_check "healthy: state and findings after 3 polls" "ok 0" "$ok"
t_check "one media playlist, target 2 s" "1 2" "$(probes | python3 -c '
import json,sys
a=json.load(sys.stdin)["probes"][0]["pathways"][0]
print(a["media_playlists"], a["target_duration_s"])')"
lat=$(probes | python3 -c 'import json,sys; l=json.load(sys.stdin)["probes"][0]["pathways"][0]["live_latency_s"]; print("yes" if l is not None and -1 < l < 10 else l)')
t_check "live latency from program date time" yes "$lat"
t_contains "metrics: up" 'oncue_probe_up{stream="live",pathway="cdn-a"} 1' "$(curl -s -H "Authorization: Bearer $VIEW" "$BASE/metrics")"

# 1. the packager stops: stale within 1.5 x 2 s + one 1 s poll (+ a fetch)
kill -STOP "$FF_PID"
t0=$(date +%s%3N)
d=$(wait_for 12 active stale)
ms=$(( $(since_ms stale) - t0 ))
t_contains "stale reported" "has not advanced for" "$d"
echo "     stale flagged ${ms} ms after the packager stopped (the newest segment may be up to 2 s old then)"
# the limit (3 s) counts from the poll that saw the last new segment, itself up to one poll
# (1 s) after it; then one more poll to see it, and its fetch: 5.25 s at most, timed by the
# finding's own since_ms
t_contains "the stale limit adapts to the stream: 1.5 x the 2 s target" "(limit 3.0 s)" "$d"
# the bound keeps 1.25 s for a loaded machine (the suite runs two ASan tests at once on 2 cores;
# CI once measured 5.74 s); a fixed 6 s limit such as hls-monitor's could not pass it
t_check "stale within 1.5 x target + two polls of the stop" yes "$([ "$ms" -le 6500 ] && echo yes || echo "no ($ms ms)")"
kill -CONT "$FF_PID"
t_check "stale recovers once the packager runs" yes "$(wait_recovered stale 15)"
# the finding was an alert (probe/live/stale, paging) that opened an incident for the stream's
# service, and its recovery resolved the alert
INC=$(curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/incidents")
t_check "stale opened one incident for the packager" 'probe/live/stale packager page' \
    "$(printf '%s' "$INC" | jq -r '[.incidents[] | select(.slice.service == "packager")] | .[0] | "\(.alerts[0].alert_id) \(.service // .slice.service) \(.alerts[0].level)"')"
t_check "its alert resolved with the finding" false \
    "$(printf '%s' "$INC" | jq -r '[.incidents[] | select(.slice.service == "packager")] | .[0].alerts[0].firing')"

# 2. the origin answers 5xx (cdn-a's playlists)
nginx_fault a 'location ~ \.m3u8$ { return 503; }'
d=$(wait_for 8 active http_status)
t_contains "http_status names the pathway and the code" "cdn-a: 503 from http://127.0.0.1:$PA/live/" "$d"
nginx_fault a ''
t_check "http_status recovers" yes "$(wait_recovered http_status 10)"

# 3. a playlist truncated mid-line (cdn-a's media playlist)
f="$W/live/media.m3u8"
head -c $(( $(wc -c <"$f") - 4 )) "$f" >"$T_TMP/trunc.m3u8"
lines=$(( $(wc -l <"$T_TMP/trunc.m3u8") + 1 ))
nginx_fault a "location = /live/media.m3u8 { alias $T_TMP/trunc.m3u8; }"
d=$(wait_for 8 active parse_error)
t_contains "parse_error names the line" "media.m3u8: line $lines: the playlist ends mid-line (no final line feed)" "$d"
nginx_fault a ''
t_check "parse_error recovers" yes "$(wait_recovered parse_error 10)"

# 4. segments deleted: the newest listed segment is removed as soon as it appears (6 s)
(
    end=$(( $(date +%s) + 6 ))
    while [ "$(date +%s)" -lt "$end" ]; do
        s=$(grep '^seg_' "$f" | tail -1)
        [ -n "$s" ] && rm -f "$W/live/$s"
        sleep 0.05
    done
) &
DEL_PID=$!
d=$(wait_for 10 active segment_missing)
t_contains "segment_missing with the 404" "answered 404" "$d"
wait "$DEL_PID"
DEL_PID=""
t_check "segment_missing recovers" yes "$(wait_recovered segment_missing 15)"

# 5. cdn-b lags: its media playlist is the one cdn-a served 4 s earlier
lag_copy "$f" 4 m3u8
sleep 4.5
nginx_fault b "location = /live/media.m3u8 { alias $T_TMP/lag.m3u8; }"
d=$(wait_for 10 active origins_disagree)
t_contains "origins_disagree names the lagging pathway" "cdn-b: cdn-b is " "$d"
t_contains "origins_disagree says by how much" "segments behind cdn-a" "$d"
nginx_fault b ''
kill "$LAG_PID"
LAG_PID=""
t_check "origins_disagree recovers" yes "$(wait_recovered origins_disagree 10)"

# the stored history holds each fault and its recovery
for k in stale http_status parse_error segment_missing origins_disagree; do
    t_check "history: $k failed" yes "$([ "$(history "$k" failed)" -ge 1 ] && echo yes)"
done
t_check "no parse errors besides the injected one" 1 "$(history parse_error failed)"

# the API: add, list, refuse a duplicate, delete
t_check "POST /v1/probes" 201 "$(status POST /v1/probes -H "Authorization: Bearer $ADMIN" \
    -d "{\"name\":\"api\",\"url\":\"http://127.0.0.1:$PA/live/media.m3u8\",\"poll_s\":1}")"
t_check "POST a duplicate" 409 "$(status POST /v1/probes -H "Authorization: Bearer $ADMIN" \
    -d "{\"name\":\"api\",\"url\":\"http://127.0.0.1:$PA/live/media.m3u8\"}")"
t_check "POST an unknown kind" 422 "$(status POST /v1/probes -H "Authorization: Bearer $ADMIN" \
    -d "{\"name\":\"d\",\"kind\":\"smooth\",\"url\":\"http://127.0.0.1:$PA/x.ism\"}")"
t_check "viewer cannot POST" 403 "$(status POST /v1/probes -H "Authorization: Bearer $VIEW" -d '{}')"
t_check "two streams listed" 2 "$(probes | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["probes"]))')"
t_check "DELETE /v1/probes/api" 204 "$(status DELETE /v1/probes/api -H "Authorization: Bearer $ADMIN")"
t_check "DELETE it again" 404 "$(status DELETE /v1/probes/api -H "Authorization: Bearer $ADMIN")"
# each fault went out on the bus (the probe thread logs each event as it publishes it)
for k in stale http_status parse_error segment_missing origins_disagree; do
    t_check "bus: probe.failed and probe.recovered live $k" "1 1" \
        "$([ "$(grep -c "probe: probe.failed live $k: " "$T_TMP/server.log")" -ge 1 ] && echo 1) $([ "$(grep -c "probe: probe.recovered live $k: " "$T_TMP/server.log")" -ge 1 ] && echo 1)"
done
stop_server
t_check "server stopped cleanly" 0 "$SERVER_RC"
t_done
