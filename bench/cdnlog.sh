#!/usr/bin/env bash
# cdnlog.sh - CDN log intake on one core: `oncue bench cdnlog` parses generated Fastly NDJSON,
# Akamai DataStream 2 JSON and CloudFront real-time lines (each with CMCD) pinned to one CPU,
# and prints lines/s per format beside the anchor, the beacon parser on NDJSON beacons that
# carry the same facts. The target is 500,000 lines/s on one core.
# usage: bench/cdnlog.sh [ONCUE_BIN]   (LINES=N, ROUNDS=R, CPU=C)
set -eu
BIN=${1:-build/rel/oncue}
LINES=${LINES:-20000}
ROUNDS=${ROUNDS:-50}
CPU=${CPU:-0}
if command -v taskset >/dev/null; then
    exec taskset -c "$CPU" "$BIN" bench cdnlog --lines "$LINES" --rounds "$ROUNDS"
fi
exec "$BIN" bench cdnlog --lines "$LINES" --rounds "$ROUNDS"
