#!/usr/bin/env bash
# test_sim_live_probe.sh - the prober watches the simulator's live stream: `oncue sim
# --exporters` serves a live HLS playlist (examples/probes.yaml's stream, its port changed)
# whose media sequence advances every 2 s until a fault on live streams stalls it; the real
# `oncue serve` probes it, flags it `stale` within 1.5 x its target plus a poll, opens one
# paging incident for the live packager (owned by live-ops), whose runbook's dashboard step
# names the Packager board, and recovers and resolves the alert once the fault ends.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

XPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed "s/127.0.0.1:9464/127.0.0.1:$XPORT/" "$ROOT/examples/probes.yaml" >"$T_TMP/probes.yaml"
cat >"$T_TMP/stall.yaml" <<'YML'
name: live-stall
description: the live manifest stalls 12 s in, for 15 s
begin: "19:30"
duration: 60s
expect_incident: true
faults:
  - name: live-manifest-stale
    slice: {live: "true"}
    start: "19:30:12"
    ramp: 30s
    duration: 15s
    effect: {rebuffer_max: 0.85, exit_before_start: 0.35, startup_factor: 4}
YML

D="$T_TMP/data"
mkdir -p "$D"
VIEW=$(new_token "$D" viewer it-view)
RESP=$(new_token "$D" responder it-resp)
"$ONCUE_BIN" sim --stdout --scenario "$T_TMP/stall.yaml" --viewers 200 --speed 1 \
    --exporters "127.0.0.1:$XPORT" >/dev/null 2>"$T_TMP/sim.log" &
SIM_PID=$!
trap 'kill $SIM_PID 2>/dev/null; t_cleanup' EXIT
T0=$(date +%s%3N)
for _ in $(seq 1 50); do # the stream is served before the prober starts
    curl -sf "http://127.0.0.1:$XPORT/live/media.m3u8" >/dev/null && break
    sleep 0.1
done
start_server "$D" --modules catalog,alert,incident,probe,runbook --set probe.file="$T_TMP/probes.yaml" \
    --set probe.outbound_allow=127.0.0.1 || t_done

api() { curl -s -H "Authorization: Bearer $VIEW" "$BASE$1"; }
stream() { api /v1/probes | jq -r ".probes[] | select(.name == \"sim-live\") | $1"; }
wait_for_text() { # SECONDS EXPECTED COMMAND...: until COMMAND prints EXPECTED; prints the last
    local until=$(( $(date +%s) + $1 )) want=$2 out=""; shift 2
    while [ "$(date +%s)" -le "$until" ]; do
        out=$("$@")
        [ "$out" = "$want" ] && break
        sleep 0.25
    done
    echo "$out"
}
# inc_of SERVICE: "alert_id team level firing" of the incidents of SERVICE
inc_of() {
    api /v1/incidents | jq -r --arg s "$1" '[.incidents[] | select(.service == $s)] | map("\(.alerts[0].alert_id) \(.team) \(.alerts[0].level) \(.alerts[0].firing)") | join(";")'
}
healthy() { stream '"\(.state) \(.polls > 2) \(.pathways[0].target_duration_s) \(.pathways[0].segments)"'; }
active() { stream "[.findings[].kind] | join(\",\")"; }

t_contains "the simulator names its live stream" "the live stream on http://127.0.0.1:$XPORT/live/media.m3u8" \
    "$(cat "$T_TMP/sim.log")"
t_check "the live stream is healthy: 6 segments of 2 s" "ok true 2 6" "$(wait_for_text 10 'ok true 2 6' healthy)"
# the prober's view moves at its own polls, which a loaded machine delays: wait up to 10 s for
# the sequence to move, then it must have moved by no more than a segment per 2 s waited, +2 (the
# first read may be a poll old)
seq1=$(stream '.pathways[0].media_sequence')
t0=$(date +%s%N)
seq2=$seq1
for _ in $(seq 1 40); do
    sleep 0.25
    seq2=$(stream '.pathways[0].media_sequence')
    [ "$seq2" -gt "$seq1" ] && break
done
waited_ms=$((($(date +%s%N) - t0) / 1000000))
t_check "its media sequence advances (a 2 s segment at a time)" yes \
    "$([ "$seq2" -gt "$seq1" ] && [ "$seq2" -le $((seq1 + 2 + waited_ms / 2000)) ] && echo yes || echo "no ($seq1 -> $seq2 in $waited_ms ms)")"
t_check "a listed segment is served, one not published yet is not" "200 404" \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$XPORT/live/seg_$((seq2 + 5)).ts") $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$XPORT/live/seg_$((seq2 + 9)).ts")"

# 1. the fault stalls the live stream at t+12 s: stale within 1.5 x 2 s + a 1 s poll (+ up to
# a 2 s segment's age at the stall and slack for a loaded machine)
t_check "the stall is flagged stale" stale "$(wait_for_text 25 stale active)"
since=$(stream '.findings[] | select(.kind == "stale") | .since_ms')
echo "     stale flagged at t+$((since - T0)) ms (the stall starts at t+12 s)"
t_check "flagged after the stall, within 8 s of it" yes \
    "$([ $((since - T0)) -le 20000 ] && [ $((since - T0)) -ge 11000 ] && echo yes || echo "no (t+$((since - T0)) ms)")"
t_contains "the detail names the adaptive limit" "(limit 3.0 s)" \
    "$(stream '.findings[] | select(.kind == "stale") | .detail')"
t_check "one paging incident for the live packager, owned by live-ops" \
    "probe/sim-live/stale live-ops page true" \
    "$(wait_for_text 10 'probe/sim-live/stale live-ops page true' inc_of live-packager)"
t_check "no other finding" stale "$(active)"
INC=$(api /v1/incidents | jq -r '[.incidents[] | select(.service == "live-packager")][0].incident_id')
t_check "a runbook's dry run on the probe's incident: the live-manifest runbook" "200 live-manifest" \
    "$(status POST "/v1/incidents/$INC/runbook" -H "Authorization: Bearer $RESP" -d '{"dry_run": true}') $(body | jq -r .runbook)"
t_contains "its dashboard step names the owning service's board (live-packager is a packager)" \
    "The owning service's board: the Packager board (console #/dashboards?d=packager)." \
    "$(body | jq -r '.steps[] | select(.name == "check dashboards") | .detail')"

# 2. the fault ends at t+27 s: the stream advances again, the finding recovers, the alert resolves
t_check "stale recovers once the stream advances" "" "$(wait_for_text 25 '' active)"
t_check "the incident's alert resolved" "probe/sim-live/stale live-ops page false" \
    "$(wait_for_text 10 'probe/sim-live/stale live-ops page false' inc_of live-packager)"
t_check "the stored findings: failed, then recovered" "stale:recovered stale:failed" \
    "$(api /v1/probes/sim-live/findings | jq -r '[.findings[] | "\(.kind):\(.state)"] | join(" ")')"
kill $SIM_PID 2>/dev/null
wait $SIM_PID 2>/dev/null
stop_server
t_check "the server stopped cleanly" 0 "$SERVER_RC"
t_done
