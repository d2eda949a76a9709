#!/usr/bin/env bash
# console.sh - the web console's targets, measured on a running server: the bundle's size
# (gzip -9), first useful paint with tens of thousands of active leaves, a 24 h x 1-minute x
# 20-series chart drawn in chromium, and the console's API calls at p50/p99. Prints figures,
# never pass/fail (bench/README.md records them).
#
#   bench/console.sh [ONCUE_BIN]
#   env: DAY_VIEWERS (viewers over the simulated day, default 2000), PEAK_VIEWERS (viewers of
#        the last 10 simulated minutes, default 150000), ROUNDS (API calls per route, 200),
#        LOADS (page loads per browser figure, 5)
#
# Needs Debian chromium, node and npm (playwright-core comes from tests/browser's lock file,
# installed under build/bench-node). The server runs on a replay clock: the simulator posts a
# whole day as fast as the server takes it (about 2 minutes), then the peak.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BIN=${1:-build/rel/oncue}
DAY_VIEWERS=${DAY_VIEWERS:-2000}
PEAK_VIEWERS=${PEAK_VIEWERS:-150000}
ROUNDS=${ROUNDS:-200}
LOADS=${LOADS:-5}
W=$(mktemp -d /tmp/oncue-bench-console.XXXXXX)
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT

echo "== bundle (web/dist, as embedded in the binary)"
total_raw=0
total_gz=0
while IFS= read -r f; do
    raw=$(wc -c <"$f")
    gz=$(gzip -9c "$f" | wc -c)
    total_raw=$((total_raw + raw))
    total_gz=$((total_gz + gz))
    printf '  %-32s %8d bytes  %7d gzip\n' "${f#web/dist/}" "$raw" "$gz"
done < <(find web/dist -type f ! -name LICENSES.txt | sort)
printf '  %-32s %8d bytes  %7d gzip (target: at most 102400)\n' total "$total_raw" "$total_gz"

NODE_DIR=build/bench-node
mkdir -p "$NODE_DIR"
if ! cmp -s tests/browser/package-lock.json "$NODE_DIR/package-lock.json" ||
    [ ! -d "$NODE_DIR/node_modules/playwright-core" ]; then
    cp tests/browser/package.json tests/browser/package-lock.json "$NODE_DIR/"
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund >/dev/null)
fi

D=$W/data
ING=$("$BIN" token create --data "$D" --role ingest --name bench-sim 2>/dev/null)
TOK=$("$BIN" token create --data "$D" --role viewer --name bench-console 2>/dev/null)
"$BIN" serve --data "$D" --listen 127.0.0.1:0 --clock replay 2>"$W/server.log" &
PID=$!
port=$(listen_port "$W/server.log" "$PID")
[ -n "$port" ] || { echo "the server did not start"; cat "$W/server.log"; exit 1; }
BASE=http://127.0.0.1:$port
T0=1772409600 # 2026-03-02 00:00 UTC
echo "== data: a simulated day at $DAY_VIEWERS viewers, then 10 minutes at $PEAK_VIEWERS"
s=$(date +%s)
"$BIN" sim --target "$BASE" --token "$ING" --speed 0 --viewers "$DAY_VIEWERS" --seed 1 \
    --start "$T0" --duration 24h 2>"$W/sim-day.log"
"$BIN" sim --target "$BASE" --token "$ING" --speed 0 --viewers "$PEAK_VIEWERS" --seed 2 \
    --start $((T0 + 86400)) --duration 10m 2>"$W/sim-peak.log"
echo "  posted in $(($(date +%s) - s)) s"
sleep 3 # the qoe timer completes the last minutes on the next tick
leaves=$(curl -s "$BASE/metrics" | awk '$1 == "oncue_ingest_leaves" {print $2}')
echo "  distinct leaves in the cube: $leaves"

export BASE TOKEN=$TOK DAY_FROM=$T0 DAY_TO=$((T0 + 86400)) NOW_S=$((T0 + 86400 + 600))
export ROUNDS LOADS NODE_DIR
cp bench/console.mjs "$NODE_DIR/"
node "$NODE_DIR/console.mjs"
