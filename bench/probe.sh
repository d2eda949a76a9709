#!/usr/bin/env bash
# probe.sh - the live manifest prober against generated local HLS playlists: `oncue bench
# probe` serves STREAMS live playlists on 127.0.0.1 (2 s segments, each stream on its own
# phase) and probes them every POLL seconds for SECONDS, once with playlists only and once with
# the newest segment fetched too; prints streams per core and CPU per stream (a figure, never
# pass/fail), and how fast STALL stalled streams were flagged stale.
#
#   bench/probe.sh [ONCUE_BIN]   (default build/rel/oncue)
#   env: STREAMS (default 1000), POLL (s, default 2), RUN_S (seconds, default 20), STALL (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${ONCUE_BIN:-build/rel/oncue}}
[ -x "$BIN" ] || { echo "bench/probe.sh: no oncue binary at $BIN (make build)" >&2; exit 1; }
for seg in 0 1; do
    echo "== --segments $seg"
    "$BIN" bench probe --streams "${STREAMS:-1000}" --poll "${POLL:-2}" \
        --seconds "${RUN_S:-20}" --segments "$seg" --stall "${STALL:-10}" 2>/dev/null
done
