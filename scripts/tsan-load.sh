#!/usr/bin/env bash
# tsan-load.sh - the server built with ThreadSanitizer under concurrent load: the simulator's
# demo schedule at 30x (faults, alerts, incidents, steering), `oncue bench ingest` on three
# connections, a second audience as CDN log lines, a probed stream that is not there, resume
# writes and reads, and a reader hitting the query, incident, status,
# metrics, search and entitlement routes, and a SIGHUP every 5 s (the SLOs, rules, catalog and
# policy re-read under the readers), all at once for about a minute. Fails on any
# ThreadSanitizer report or when the server does not stop cleanly.
# usage: scripts/tsan-load.sh BUILD/oncue   (make check builds build/tsan and runs it)
set -u
BIN=${1:?usage: scripts/tsan-load.sh ONCUE_BIN}
HERE=$(cd "$(dirname "$0")/.." && pwd)
. "$HERE/bench/lib.sh"
TMP=$(mktemp -d /tmp/oncue-tsan.XXXXXX)
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
D=$TMP/data
ADMIN=$("$BIN" token create --data "$D" --role admin --name tsan-admin 2>/dev/null | tail -1)
ING=$("$BIN" token create --data "$D" --role ingest --name tsan-ingest 2>/dev/null | tail -1)
export TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 history_size=4"
"$BIN" serve --data "$D" --listen 127.0.0.1:0 --set probe.outbound_allow=127.0.0.1 \
    --set probe.poll_s=1 2> "$TMP/server.log" &
SERVER=$!
PIDS="$SERVER"
PORT=$(listen_port "$TMP/server.log" "$SERVER")
[ -n "$PORT" ] || { echo "tsan-load: the server did not start"; cat "$TMP/server.log"; exit 1; }
BASE=http://127.0.0.1:$PORT
echo "tsan-load: server pid $SERVER on $BASE"

"$BIN" sim --target "$BASE" --token "$ING" --viewers 3000 --demo --speed 30 --duration 30m \
    > "$TMP/sim.log" 2>&1 &
PIDS="$PIDS $!"
# CDN log lines with CMCD from a second, smaller audience (the cdn-logs route, its log records)
"$BIN" sim --target "$BASE" --token "$ING" --viewers 500 --demo --speed 30 --duration 30m \
    --cdn-logs > "$TMP/sim-logs.log" 2>&1 &
PIDS="$PIDS $!"
# the probe thread on a stream that is not there: findings, their alerts and an incident
curl -s -o /dev/null -X POST -H "Authorization: Bearer $ADMIN" "$BASE/v1/probes" \
    -d "{\"name\": \"tsan\", \"kind\": \"hls\", \"service\": \"packager\", \"poll_s\": 1, \"urls\": {\"a\": \"$BASE/missing/master.m3u8\"}}"
"$BIN" bench ingest --target "$BASE" --token "$ING" --duration 30 --connections 3 --batch 200 \
    > "$TMP/bench.log" 2>&1 &
PIDS="$PIDS $!"
reader() {
    local end=$((SECONDS + 60)) p
    while [ $SECONDS -lt $end ]; do
        for p in "/v1/qoe?metric=rebuffering_share&from=now-30m&to=now&step=1m&group_by=region" \
            /v1/incidents /v1/alerts /v1/slos /metrics /status.json /v1/qoe/dimensions \
            "/v1/search?q=rocky" /v1/entitlements/acct-1 /v1/resume/p1 /v1/stream?once=1 \
            /v1/probes /v1/tickets/clusters; do
            curl -s -m 5 -o /dev/null -H "Authorization: Bearer $ADMIN" "$BASE$p"
        done
    done
}
writer() {
    local end=$((SECONDS + 60)) i=0
    while [ $SECONDS -lt $end ]; do
        i=$((i + 1))
        curl -s -m 5 -o /dev/null -X PUT -H "Authorization: Bearer $ADMIN" "$BASE/v1/resume/p1/t$((i % 7))" \
            --data "{\"position_ms\":$((i * 1000)),\"duration_ms\":7200000,\"device\":\"d$((i % 3))\",\"session\":\"s\",\"seq\":$i,\"state\":\"playing\",\"ts\":$(($(date +%s) * 1000))}"
    done
}
hupper() {
    local end=$((SECONDS + 60))
    while [ $SECONDS -lt $end ]; do
        sleep 5
        kill -HUP "$SERVER" 2>/dev/null
    done
}
reader & R1=$!
reader & R2=$!
writer & W=$!
hupper & H=$!
wait $R1 $R2 $W $H
# what ran besides the readers: the probe's findings and the CDN log lines
findings=$(curl -s -H "Authorization: Bearer $ADMIN" "$BASE/v1/probes/tsan/findings" | grep -o '"kind"' | wc -l)
lines=$(curl -s -H "Authorization: Bearer $ADMIN" "$BASE/metrics" |
    awk -F' ' '/^oncue_ingest_lines_accepted_total[{]route="[/]v1[/]cdn-logs"/ {print $2}')
kill -TERM "$SERVER"
wait "$SERVER"
rc=$?
PIDS=""
reports=$(grep -c "WARNING: ThreadSanitizer" "$TMP/server.log")
echo "tsan-load: $(grep -o 'events/s [0-9]*' "$TMP/bench.log") from the bench; $(tail -1 "$TMP/sim.log")"
echo "tsan-load: $(grep -c 'SIGHUP: reloaded' "$TMP/server.log") reloads, $findings probe findings, ${lines:-0} CDN log lines; server exit $rc, $reports ThreadSanitizer report(s)"
if [ "$findings" -lt 1 ]; then
    echo "tsan-load: the probe made no finding: its thread did not run under the load"
    exit 1
fi
if [ "$reports" -ne 0 ] || [ "$rc" -ne 0 ]; then
    grep -A30 "WARNING: ThreadSanitizer" "$TMP/server.log" | head -200
    exit 1
fi
