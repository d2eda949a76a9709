#!/usr/bin/env bash
# compare.sh - two oncue builds side by side in one run, interleaved round by round: beacon
# ingest over HTTP (events/s and server CPU per event) and the in-process cube and query
# bench. For "within 10% of the previous commit" checks. Prints figures, never pass/fail.
#
#   bench/compare.sh OLD_BIN NEW_BIN
#   env: DURATION (ingest seconds per round, default 15), ROUNDS (default 2),
#        LEAVES, MINUTES, QUERIES (oncue bench qoe; defaults 20000, 120, 100)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
[ $# -eq 2 ] || { echo "usage: bench/compare.sh OLD_BIN NEW_BIN" >&2; exit 2; }
DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-2}
LEAVES=${LEAVES:-20000}
MINUTES=${MINUTES:-120}
QUERIES=${QUERIES:-100}
W=$(mktemp -d /tmp/oncue-bench-compare.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT

# ingest BIN LABEL: one ingest round against a fresh server of BIN.
ingest() {
    local bin=$1 label=$2 d="$W/$2-$RANDOM" port="" tok
    mkdir -p "$d"
    tok=$("$bin" token create --data "$d" --role ingest --name bench 2>/dev/null)
    "$bin" serve --data "$d" --listen 127.0.0.1:0 --modules builtin,auth,qoe,ingest \
        --log-level info --set http.workers=2 2>"$d/log" &
    PID=$!
    port=$(listen_port "$d/log" "$PID")
    local t0 t1
    t0=$(awk '{print $14 + $15}' /proc/$PID/stat)
    "$bin" bench ingest --target "http://127.0.0.1:$port" --token "$tok" \
        --duration "$DURATION" --connections 4 >"$d/out"
    t1=$(awk '{print $14 + $15}' /proc/$PID/stat)
    kill "$PID"
    wait "$PID" 2>/dev/null || true
    PID=""
    local evs sent
    evs=$(awk '/^events\/s/ {print $2}' "$d/out")
    sent=$(awk '/^events_sent/ {print $2}' "$d/out")
    awk -v l="$label" -v e="$evs" -v s="$sent" -v c=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
        'BEGIN {printf "%-4s ingest: %.0f events/s, %.3f us server CPU per event\n",
                l, e, (c / hz) * 1e6 / s}'
}

# qoe BIN LABEL: the in-process cube fill and query bench.
qoe() {
    echo "$2 qoe: $("$1" bench qoe --leaves "$LEAVES" --minutes "$MINUTES" --queries "$QUERIES" |
        grep -E 'events/s|query' | tr '\n' ' ')"
}

for r in $(seq 1 "$ROUNDS"); do
    echo "round $r"
    ingest "$1" old
    ingest "$2" new
    qoe "$1" old
    qoe "$2" new
done
