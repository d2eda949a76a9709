#!/usr/bin/env bash
# search.sh - catalog search against SQLite FTS5, side by side in one run, on two corpora:
# a generated 1M-title catalog with Zipf word frequencies (deterministic from SEED) and the
# real vega-datasets movies (npm package vega-datasets, installed here into build/; skipped
# with a note when npm cannot reach its registry). For each: exact, prefix and one-typo
# queries whose intended title is known; p50/p95/p99 latency on one thread, top-1 and top-10
# recall, index size, build time, and the snapshot's write and read (restart) times. Prints
# figures, never pass/fail.
#
#   bench/search.sh [ONCUE_BIN]   (default build/rel/oncue; needs jq, and npm for the movies)
#   env: TITLES (generated titles, default 1000000), QUERIES (per kind, default 1000),
#        FTS_QUERIES (per kind on each FTS5 index, default 200), SEED (default 21),
#        VOCABULARY (distinct generated words, default 100000), WORK (default build/bench-search)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${ONCUE_BIN:-build/rel/oncue}}
TITLES=${TITLES:-1000000}
QUERIES=${QUERIES:-1000}
FTS_QUERIES=${FTS_QUERIES:-200}
SEED=${SEED:-21}
VOCABULARY=${VOCABULARY:-100000}
WORK=${WORK:-build/bench-search}
[ -x "$BIN" ] || { echo "bench/search.sh: no oncue binary at $BIN (make build)" >&2; exit 1; }
command -v jq >/dev/null || { echo "bench/search.sh: needs jq" >&2; exit 1; }
mkdir -p "$WORK"
W=$(mktemp -d "$WORK/run.XXXXXX")
trap 'rm -rf "$W"' EXIT

echo "== generated corpus: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "\$ $BIN bench search --titles $TITLES --seed $SEED --vocabulary $VOCABULARY --queries $QUERIES --fts-queries $FTS_QUERIES"
mkdir -p "$W/gen"
"$BIN" bench search --titles "$TITLES" --seed "$SEED" --vocabulary "$VOCABULARY" \
    --queries "$QUERIES" --fts-queries "$FTS_QUERIES" --dir "$W/gen"
rm -rf "$W/gen"

# --- the vega-datasets movies ---
NPM_DIR=$WORK/npm
MOVIES=$NPM_DIR/node_modules/vega-datasets/data/movies.json
if [ ! -f "$MOVIES" ]; then
    mkdir -p "$NPM_DIR"
    [ -f "$NPM_DIR/package.json" ] || echo '{"private": true}' >"$NPM_DIR/package.json"
    if ! command -v npm >/dev/null ||
        ! (cd "$NPM_DIR" && timeout 300 npm install --no-audit --no-fund vega-datasets@3 >/dev/null 2>&1); then
        echo
        echo "== vega-datasets movies: skipped (npm could not install vega-datasets)"
        exit 0
    fi
fi
# One title per film: id v<index>, title, year of the release date, the major genre, the
# director as a person, the MPAA rating, IMDB votes as popularity.
jq -c 'to_entries[] | .key as $i | .value as $m | select($m.Title != null)
    | {id: "v\($i)", title: ($m.Title | tostring)}
    + ((($m["Release Date"] // "") | tostring | capture("(?<y>[0-9]{4})$")? | .y | tonumber
        | select(. >= 1850 and . <= 2100) | {year: .}) // {})
    + (if $m["Major Genre"] then {genres: [$m["Major Genre"] | ascii_downcase]} else {} end)
    + (if $m.Director then {people: [$m.Director]} else {} end)
    + (if $m["MPAA Rating"] then {rating: $m["MPAA Rating"]} else {} end)
    + (if ($m["IMDB Votes"] | type) == "number" then {popularity: $m["IMDB Votes"]} else {} end)' \
    "$MOVIES" >"$W/movies.ndjson"
echo
echo "== vega-datasets movies ($(jq -r .version "$NPM_DIR/node_modules/vega-datasets/package.json"))"
echo "\$ $BIN bench search --corpus movies.ndjson --seed $SEED --queries $QUERIES --fts-queries $QUERIES"
mkdir -p "$W/movies"
"$BIN" bench search --corpus "$W/movies.ndjson" --seed "$SEED" --queries "$QUERIES" \
    --fts-queries "$QUERIES" --dir "$W/movies"
