#!/usr/bin/env bash
# ingest.sh - what the ingest write-ahead log costs: `oncue bench ingest` against the same
# binary with the log on (store.synchronous full: fdatasync, group commit), on without the
# sync (store.synchronous normal: a process crash loses nothing, a power loss may) and off,
# in one run, alternating; with OLD=BIN also against another build (its defaults), in the
# same rounds. Prints each run's events/s, latency and the server's CPU per event (steadier
# than events/s on a shared machine) and the load average before each round.
# usage: bench/ingest.sh [ONCUE_BIN]   (DURATION=S, CONNECTIONS=C, BATCH=N, ROUNDS=R, OLD=BIN)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
BIN=${1:-build/rel/oncue}
OLD=${OLD:-}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-4}
BATCH=${BATCH:-500}
ROUNDS=${ROUNDS:-2}
TMP=$(mktemp -d /tmp/oncue-bench-ingest.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT

# run NAME BIN SETTINGS...: a fresh server of BIN with the settings, one bench run, its line.
run() {
    local name=$1 bin=$2 d="$TMP/x" tok port t0 t1
    shift 2
    rm -rf "$d"
    tok=$("$bin" token create --data "$d" --role ingest --name bench 2>/dev/null | tail -1)
    "$bin" serve --data "$d" --listen 127.0.0.1:0 --modules builtin,auth,qoe,ingest "$@" \
        2> "$TMP/server.log" &
    PID=$!
    port=$(listen_port "$TMP/server.log" "$PID")
    [ -n "$port" ] || { echo "server did not start"; cat "$TMP/server.log"; exit 1; }
    printf '%-26s ' "$name"
    t0=$(awk '{print $14 + $15}' "/proc/$PID/stat")
    "$bin" bench ingest --target "http://127.0.0.1:$port" --token "$tok" \
        --duration "$DURATION" --connections "$CONNECTIONS" --batch "$BATCH" > "$TMP/out" 2>&1
    t1=$(awk '{print $14 + $15}' "/proc/$PID/stat")
    awk -v c=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" '
        /^events\/s|^latency/ {printf "%s %s  ", $1, $2}
        /^events_sent/ {sent = $2}
        END {if (sent) printf "server_cpu_us_per_event %.3f", (c / hz) * 1e6 / sent; print ""}' \
        "$TMP/out"
    kill "$PID"
    wait "$PID" 2>/dev/null || true
    PID=""
}

echo "oncue bench ingest: ${DURATION}s, $CONNECTIONS connections, $BATCH events per POST, $(nproc) cores"
for r in $(seq 1 "$ROUNDS"); do
    echo "round $r, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    [ -n "$OLD" ] && run "old: $(basename "$OLD")" "$OLD"
    run "log, fdatasync" "$BIN" --set store.synchronous=full
    run "log, no sync" "$BIN" --set store.synchronous=normal
    run "no log" "$BIN" --set ingest.wal=false
done
