#!/usr/bin/env bash
# ingest_overload.sh - POST /v1/events at 256 connections against the release server: what is
# accepted, how much is refused with 503 (backpressure: the ingest log holds
# ingest.wal_max_bytes of events not yet stored, or closed minutes wait for the store), and
# the p50/p99 latency of the 200 and of the 503 answers apart. Two settings per round: the
# defaults, and a small ingest.wal_max_bytes (WAL_MAX) so that the log fills within the run and
# the 503 path is measured too. With OLD=BIN also the same against another build (the previous
# commit), in the same rounds; the load comes from BIN's `oncue bench ingest` in every run
# (one client for both servers). The client does not wait out Retry-After (the worst case).
# Prints the load average before each round: the machine this runs on should be quiet.
# usage: bench/ingest_overload.sh [ONCUE_BIN]
#        (DURATION=S, CONNECTIONS=C, BATCH=N, ROUNDS=R, WAL_MAX=BYTES, WORKERS=W, OLD=BIN)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
BIN=${1:-build/rel/oncue}
OLD=${OLD:-}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-256}
BATCH=${BATCH:-100}
ROUNDS=${ROUNDS:-2}
WAL_MAX=${WAL_MAX:-8388608}
WORKERS=${WORKERS:-2}
TMP=$(mktemp -d /tmp/oncue-bench-overload.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
# 256 client connections and the server's own descriptors
ulimit -n 4096 2>/dev/null || true

# run NAME SERVER_BIN SETTINGS...: a fresh server with the settings, one load run, one line.
run() {
    local name=$1 bin=$2 d="$TMP/x" tok port t0 t1
    shift 2
    rm -rf "$d"
    tok=$("$bin" token create --data "$d" --role ingest --name bench 2>/dev/null | tail -1)
    "$bin" serve --data "$d" --listen 127.0.0.1:0 --modules builtin,auth,qoe,ingest \
        --set http.workers="$WORKERS" "$@" 2>"$TMP/server.log" &
    PID=$!
    port=$(listen_port "$TMP/server.log" "$PID")
    [ -n "$port" ] || { echo "server did not start"; cat "$TMP/server.log"; exit 1; }
    t0=$(awk '{print $14 + $15}' "/proc/$PID/stat")
    "$BIN" bench ingest --target "http://127.0.0.1:$port" --token "$tok" \
        --duration "$DURATION" --connections "$CONNECTIONS" --batch "$BATCH" >"$TMP/out" 2>&1
    t1=$(awk '{print $14 + $15}' "/proc/$PID/stat")
    kill "$PID"
    wait "$PID" 2>/dev/null || true
    PID=""
    awk -v name="$name" -v c=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '
        /^accepted_events\/s/ {acc = $2}
        /^answers_200/ {ok = $2; busy = $4; other = $6; share = $8}
        /^latency_200_p50_ms/ {p50 = $2; p99 = $4}
        /^latency_503_p50_ms/ {b50 = $2; b99 = $4}
        /^events_sent/ {accepted = $4}
        END {
            if (ok == "") { print name "  (no figures: the client printed nothing usable)"; exit }
            printf "%-30s %12.0f %7.1f%% %8d %9.2f %9.2f %9.2f %9.2f %8.3f\n", name, acc,
                   share * 100, other, p50, p99, b50, b99,
                   accepted ? (c / hz) * 1e6 / accepted : 0
        }' "$TMP/out"
}

echo "POST /v1/events: ${DURATION}s, $CONNECTIONS connections, $BATCH events per POST," \
    "$WORKERS HTTP workers, $(nproc) cores; client: $BIN"
printf "%-30s %12s %8s %8s %9s %9s %9s %9s %8s\n" "server, settings" "accepted/s" "503" \
    "other" "200 p50" "200 p99" "503 p50" "503 p99" "cpu_us/ev"
for r in $(seq 1 "$ROUNDS"); do
    echo "round $r, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    if [ -n "$OLD" ]; then
        run "old: defaults" "$OLD"
        run "old: wal_max_bytes=$WAL_MAX" "$OLD" --set ingest.wal_max_bytes="$WAL_MAX"
    fi
    run "new: defaults" "$BIN"
    run "new: wal_max_bytes=$WAL_MAX" "$BIN" --set ingest.wal_max_bytes="$WAL_MAX"
done
echo "latencies in ms; 503 and other: share and count of the answers; cpu_us/ev: the server's"
echo "CPU time per accepted event (steadier than events/s on a shared machine)"
