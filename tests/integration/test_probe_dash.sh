#!/usr/bin/env bash
# test_probe_dash.sh - the prober against real live DASH: Debian's ffmpeg packages a live test
# source (2 s segments, SegmentTimeline, a window of 6, -streaming 1) into a folder that
# Debian's nginx serves on two 127.0.0.1 ports (cdn-a, cdn-b). Faults one at a time, each
# reported with its kind and stream, then recovered once undone: the packager stops (stale and
# publish_time_stale), the origin answers 502 (http_status), the MPD is truncated mid-element
# (parse_error with its line), segments are deleted (segment_missing, 404), cdn-b serves an
# MPD 6 s behind (origins_disagree).
# nginx and ffmpeg are installed with apt when missing and running as root; else SKIP (77)
# (tests/integration/probe_lib.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/probe_lib.sh"

start_ffmpeg() {
    (cd "$W/live" && exec ffmpeg -hide_banner -loglevel error -nostdin -re \
        -f lavfi -i testsrc=size=320x180:rate=25 \
        -c:v libx264 -preset ultrafast -tune zerolatency -g 50 -keyint_min 50 -sc_threshold 0 \
        -b:v 200k -f dash -streaming 1 -window_size 6 -use_timeline 1 -use_template 1 \
        -seg_duration 2 live.mpd 2>"$T_TMP/ffmpeg.log") &
    FF_PID=$!
}
start_ffmpeg
f="$W/live/live.mpd"
for i in $(seq 1 100); do
    n=$(ls "$W/live" | grep -c '^chunk-.*\.m4s$')
    [ "$n" -ge 3 ] && [ -s "$f" ] && break
    sleep 0.2
done
t_check "ffmpeg wrote a live MPD and 3 segments" yes "$([ "$n" -ge 3 ] && grep -q 'type="dynamic"' "$f" && echo yes)"

cat >"$T_TMP/probes.yaml" <<YML
- name: live
  kind: dash
  service: packager
  poll_s: 1
  urls:
    cdn-a: http://127.0.0.1:$PA/live/live.mpd
    cdn-b: http://127.0.0.1:$PB/live/live.mpd
YML
start_oncue || exit 1

ok=$(wait_for 15 healthy_state)
t_check "healthy: state and findings after 3 polls" "ok 0" "$ok"
got=$(probes | python3 -c '
import json,sys
a=json.load(sys.stdin)["probes"][0]["pathways"][0]
print(a["timelines"], a["segment_ttfb_s"] > 0, a["live_latency_s"] is not None and -2 < a["live_latency_s"] < 10)')
t_check "one timeline, a segment fetched, latency from the availability times" "1 True True" "$got"

# 1. the packager stops: the timeline and publishTime stop
kill -STOP "$FF_PID"
t0=$(date +%s%3N)
d=$(wait_for 12 active stale)
ms=$(( $(since_ms stale) - t0 ))
t_contains "stale reported" "no timeline has grown for" "$d"
echo "     stale flagged ${ms} ms after the packager stopped"
# the limit (3 s) counts from the poll that saw the last new segment, itself up to one poll
# (1 s) after it; then one more poll to see it, and its fetch: 5.25 s at most, timed by the
# finding's own since_ms
t_contains "the stale limit adapts to the stream: 1.5 x the 2 s target" "(limit 3.0 s)" "$d"
# the bound keeps 1.25 s for a loaded machine (the suite runs two ASan tests at once on 2 cores;
# CI once measured 5.74 s); a fixed 6 s limit such as hls-monitor's could not pass it
t_check "stale within 1.5 x target + two polls of the stop" yes "$([ "$ms" -le 6500 ] && echo yes || echo "no ($ms ms)")"
t_contains "publish_time_stale reported" "publishTime has not advanced for" "$(wait_for 4 active publish_time_stale)"
kill -CONT "$FF_PID"
t_check "stale recovers once the packager runs" yes "$(wait_recovered stale 15)"
t_check "publish_time_stale recovers" yes "$(wait_recovered publish_time_stale 10)"

# 2. the origin answers 502
nginx_fault a 'location ~ \.mpd$ { return 502; }'
d=$(wait_for 8 active http_status)
t_contains "http_status names the pathway and the code" "cdn-a: 502 from http://127.0.0.1:$PA/live/live.mpd" "$d"
nginx_fault a ''
t_check "http_status recovers" yes "$(wait_recovered http_status 10)"

# 3. the MPD truncated inside an element (after the line of <SegmentTimeline>)
cut=$(grep -n '<SegmentTimeline>' "$f" | cut -d: -f1)
head -n "$cut" "$f" >"$T_TMP/trunc.mpd"
printf '\t\t\t\t\t\t<S t="0" d=' >>"$T_TMP/trunc.mpd"
nginx_fault a "location = /live/live.mpd { alias $T_TMP/trunc.mpd; }"
d=$(wait_for 8 active parse_error)
t_contains "parse_error names the line" "live.mpd: line $((cut + 1)): " "$d"
nginx_fault a ''
t_check "parse_error recovers" yes "$(wait_recovered parse_error 10)"

# 4. segments deleted as soon as they are complete (6 s)
(
    end=$(( $(date +%s) + 6 ))
    while [ "$(date +%s)" -lt "$end" ]; do
        find "$W/live" -name 'chunk-*.m4s' -newer "$T_TMP/probes.yaml" -delete
        touch "$T_TMP/probes.yaml"
        sleep 0.05
    done
) &
DEL_PID=$!
d=$(wait_for 10 active segment_missing)
t_contains "segment_missing with the 404" "answered 404" "$d"
wait "$DEL_PID"
DEL_PID=""
t_check "segment_missing recovers" yes "$(wait_recovered segment_missing 15)"

# 5. cdn-b lags: its MPD is the one cdn-a served 6 s earlier
lag_copy "$f" 6 mpd
sleep 6.5
nginx_fault b "location = /live/live.mpd { alias $T_TMP/lag.mpd; }"
d=$(wait_for 10 active origins_disagree)
t_contains "origins_disagree names the lagging pathway" "cdn-b: cdn-b is " "$d"
t_contains "origins_disagree says by how much" "s behind cdn-a (representation 0 ends at" "$d"
nginx_fault b ''
kill "$LAG_PID"
LAG_PID=""
t_check "origins_disagree recovers" yes "$(wait_recovered origins_disagree 10)"

for k in stale publish_time_stale http_status parse_error segment_missing origins_disagree; do
    t_check "history: $k failed" yes "$([ "$(history "$k" failed)" -ge 1 ] && echo yes)"
done
t_check "no parse errors besides the injected one" 1 "$(history parse_error failed)"
t_check "no timeline gaps" 0 "$(history timeline_gap failed)"
t_check "no availability skew" 0 "$(history availability_skew failed)"
# each fault went out on the bus (the probe thread logs each event as it publishes it)
for k in stale publish_time_stale http_status parse_error segment_missing origins_disagree; do
    t_check "bus: probe.failed and probe.recovered live $k" "1 1" \
        "$([ "$(grep -c "probe: probe.failed live $k: " "$T_TMP/server.log")" -ge 1 ] && echo 1) $([ "$(grep -c "probe: probe.recovered live $k: " "$T_TMP/server.log")" -ge 1 ] && echo 1)"
done
stop_server
t_check "server stopped cleanly" 0 "$SERVER_RC"
t_done
