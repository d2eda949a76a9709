#!/usr/bin/env bash
# ingest.sh - what the ingest write-ahead log costs: `oncue bench ingest` against the same
# binary with the log on (store.synchronous full: fdatasync, group commit), on without the
# sync (store.synchronous normal: a process crash loses nothing, a power loss may) and off,
# in one run, alternating. Prints each run's events/s and latency.
# usage: bench/ingest.sh [ONCUE_BIN]   (DURATION=S, CONNECTIONS=C, BATCH=N, ROUNDS=R)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
BIN=${1:-build/rel/oncue}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-4}
BATCH=${BATCH:-500}
ROUNDS=${ROUNDS:-2}
TMP=$(mktemp -d /tmp/oncue-bench-ingest.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"' EXIT

# run NAME SETTINGS...: a fresh server with the settings, one bench run, its line printed.
run() {
    local name=$1; shift
    local d="$TMP/$name" tok port
    rm -rf "$d"
    tok=$("$BIN" token create --data "$d" --role ingest --name bench 2>/dev/null | tail -1)
    "$BIN" serve --data "$d" --listen 127.0.0.1:0 --modules builtin,auth,qoe,ingest "$@" \
        2> "$TMP/server.log" &
    PID=$!
    port=$(listen_port "$TMP/server.log" "$PID")
    [ -n "$port" ] || { echo "server did not start"; cat "$TMP/server.log"; exit 1; }
    printf '%-22s ' "$name"
    "$BIN" bench ingest --target "http://127.0.0.1:$port" --token "$tok" \
        --duration "$DURATION" --connections "$CONNECTIONS" --batch "$BATCH" 2>&1 |
        awk '/^events\/s|^latency|^events_sent/ {printf "%s %s  ", $1, $2} END {print ""}'
    kill "$PID"
    wait "$PID" 2>/dev/null || true
    PID=""
}

echo "oncue bench ingest: ${DURATION}s, $CONNECTIONS connections, $BATCH events per POST, $(nproc) cores"
for r in $(seq 1 "$ROUNDS"); do
    run "log, fdatasync" --set store.synchronous=full
    run "log, no sync" --set store.synchronous=normal
    run "no log" --set ingest.wal=false
done
