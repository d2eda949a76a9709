#!/usr/bin/env bash
# console.sh - the web console in a real browser (CTest label browser).
#
# Starts `oncue serve` with every module on 127.0.0.1 port 0 on a replay clock, with the
# shipped two-CDN steering policy, creates responder, viewer and ingest tokens, and runs
# console.mjs in Debian's headless chromium through playwright-core. console.mjs starts the
# simulator itself (emea-cdn at 30x, players following steering) once the console is open, so
# the incident it opens must appear without a reload. Exits 77 (CTest SKIP) after saying why
# when chromium, node or the npm packages cannot be installed.
#
# Environment: ONCUE_BIN (the binary), ONCUE_BROWSER_WORK (work dir; default a temp dir).
set -uo pipefail
: "${ONCUE_BIN:?ONCUE_BIN must point at the oncue binary}"
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${ONCUE_BROWSER_WORK:-$(mktemp -d /tmp/oncue-console.XXXXXX)}
SERVER_PID=""
mkdir -p "$WORK"
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null' EXIT

. "$HERE/lib.sh"
browser_setup

DATA=$WORK/data
rm -rf "$DATA"
tok() { "$ONCUE_BIN" token create --data "$DATA" --role "$1" --name "console-$1" 2>/dev/null; }
RESPONDER_TOKEN=$(tok responder) && VIEWER_TOKEN=$(tok viewer) && INGEST_TOKEN=$(tok ingest) &&
    ADMIN_TOKEN=$(tok admin) || { echo "FAIL: oncue token create"; exit 1; }
start_oncue "$WORK/server.log" --data "$DATA" --clock replay \
    --set steer.policy_file="$ROOT/examples/steering-policy.json" || exit 1
# three catalog titles for the search view (typed with a typo, then narrowed by a facet)
curl -sf -o /dev/null -X POST -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Content-Type: application/json' "$ONCUE_SERVER/v1/titles" \
    -d '[{"id":"r1","title":"Rocky II","year":1979,"kind":"movie","genres":["drama","sport"]},
         {"id":"r2","title":"Rocky","year":1976,"kind":"movie","genres":["drama"]},
         {"id":"r3","title":"Rocketman","year":2019,"kind":"movie","genres":["music"]}]' ||
    { echo "FAIL: POST /v1/titles"; exit 1; }

export ONCUE_BIN ONCUE_SERVER RESPONDER_TOKEN VIEWER_TOKEN INGEST_TOKEN WORK
cp "$HERE/console.mjs" "$NODE_DIR/"
node "$NODE_DIR/console.mjs"
