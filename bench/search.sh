#!/usr/bin/env bash
# search.sh - catalog search against SQLite FTS5, side by side in one run, on two corpora:
# a generated 1M-title catalog with Zipf word frequencies (deterministic from SEED) and the
# real vega-datasets movies (npm package vega-datasets, installed here into build/; skipped
# with a note when npm cannot reach its registry). For each: exact, prefix and one-typo
# queries whose intended title is known; p50/p95/p99 latency on one thread, top-1 and top-10
# recall, index size, build time, and the snapshot's write and read (restart) times. Prints
# figures, never pass/fail.
#
# The server part loads the same generated titles into `oncue serve --modules search` over HTTP
# (NDJSON, 10,000 titles a request) and prints the load time, the resident memory, and, after a
# clean stop, how long a restart takes to answer its first search and its resident memory then.
#
#   bench/search.sh [ONCUE_BIN]   (default build/rel/oncue; needs jq and curl, and npm for the
#                                  movies)
#   env: TITLES (generated titles, default 1000000), QUERIES (per kind, default 1000),
#        FTS_QUERIES (per kind on each FTS5 index, default 200), SEED (default 21),
#        VOCABULARY (distinct generated words, default 100000), WORK (default build/bench-search),
#        PARTS (default "gen movies server"), LISTEN (the server's address, default
#        127.0.0.1:0: a free port)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${ONCUE_BIN:-build/rel/oncue}}
TITLES=${TITLES:-1000000}
QUERIES=${QUERIES:-1000}
FTS_QUERIES=${FTS_QUERIES:-200}
SEED=${SEED:-21}
VOCABULARY=${VOCABULARY:-100000}
WORK=${WORK:-build/bench-search}
PARTS=${PARTS:-gen movies server}
LISTEN=${LISTEN:-127.0.0.1:0}
[ -x "$BIN" ] || { echo "bench/search.sh: no oncue binary at $BIN (make build)" >&2; exit 1; }
command -v jq >/dev/null || { echo "bench/search.sh: needs jq" >&2; exit 1; }
mkdir -p "$WORK"
W=$(mktemp -d "$WORK/run.XXXXXX")
SERVER_PID=""
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$W"' EXIT
. bench/lib.sh
has() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

if has gen; then
    echo "== generated corpus: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "\$ $BIN bench search --titles $TITLES --seed $SEED --vocabulary $VOCABULARY --queries $QUERIES --fts-queries $FTS_QUERIES"
    mkdir -p "$W/gen"
    "$BIN" bench search --titles "$TITLES" --seed "$SEED" --vocabulary "$VOCABULARY" \
        --queries "$QUERIES" --fts-queries "$FTS_QUERIES" --dir "$W/gen"
    rm -rf "$W/gen"
fi

# --- the server: the generated titles over HTTP, memory, restart ---
rss_mb() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
now_s() { date +%s.%N; }
serve() { # serve LOG: starts the server on the data in $W/data; sets SERVER_PID and U
    "$BIN" serve --data "$W/data" --listen "$LISTEN" --modules search 2>"$1" &
    SERVER_PID=$!
    local port
    port=$(listen_port "$1" "$SERVER_PID")
    [ -n "$port" ] || { echo "oncue did not start:"; cat "$1"; exit 1; }
    U=http://127.0.0.1:$port
}
if has server; then
    echo
    echo "== the server: $TITLES generated titles over HTTP (seed $SEED)"
    "$BIN" bench search --titles "$TITLES" --seed "$SEED" --vocabulary "$VOCABULARY" \
        --emit "$W/titles.ndjson"
    split -l 10000 "$W/titles.ndjson" "$W/chunk."
    rm -f "$W/titles.ndjson"
    ADM=$("$BIN" token create --data "$W/data" --role admin --name bench 2>/dev/null)
    serve "$W/serve1.log"
    t0=$(now_s)
    codes=$(for f in "$W"/chunk.*; do
        curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $ADM" \
            --data-binary @"$f" "$U/v1/titles"
    done | sort | uniq -c | tr -s ' ' | tr '\n' ' ')
    t1=$(now_s)
    echo "load: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, answers: $codes"
    echo "resident after the load: $(rss_mb "$SERVER_PID") MB"
    t0=$(now_s)
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
    t1=$(now_s)
    echo "stop (writes search.idx, $(du -m "$W/data/search.idx" | cut -f1) MB): $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
    t0=$(now_s)
    serve "$W/serve2.log"
    curl -s -o /dev/null -H "Authorization: Bearer $ADM" "$U/v1/search?q=the"
    t1=$(now_s)
    echo "restart to the first answer: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s ($(grep -o 'search: [^"]*' "$W/serve2.log"))"
    echo "resident after the restart: $(rss_mb "$SERVER_PID") MB"
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
    SERVER_PID=""
    rm -rf "$W/data" "$W"/chunk.*
fi
has movies || exit 0

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
