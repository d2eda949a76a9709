#!/usr/bin/env bash
# billing.sh - the console's billing support view in a real browser (CTest label browser).
#
# Starts `oncue serve` with every module on 127.0.0.1 port 0 on a replay clock with a Standard
# Webhooks secret, creates admin, viewer and ingest tokens, and runs billing.mjs in Debian's
# headless chromium through playwright-core. Exits 77 (CTest SKIP) after saying why when
# chromium, node or the npm packages cannot be installed.
#
# Environment: ONCUE_BIN (the binary), ONCUE_BROWSER_WORK (work dir; default a temp dir).
set -uo pipefail
: "${ONCUE_BIN:?ONCUE_BIN must point at the oncue binary}"
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${ONCUE_BROWSER_WORK:-$(mktemp -d /tmp/oncue-billing-ui.XXXXXX)}
SERVER_PID=""
mkdir -p "$WORK"
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null' EXIT

. "$HERE/lib.sh"
browser_setup

DATA=$WORK/data
rm -rf "$DATA"
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
tok() { "$ONCUE_BIN" token create --data "$DATA" --role "$1" --name "billing-ui-$1" 2>/dev/null; }
ADMIN_TOKEN=$(tok admin) && VIEWER_TOKEN=$(tok viewer) && INGEST_TOKEN=$(tok ingest) ||
    { echo "FAIL: oncue token create"; exit 1; }
start_oncue "$WORK/server.log" --data "$DATA" --clock replay \
    --set billing.standard_secrets="$SECRET" || exit 1

export ONCUE_SERVER ADMIN_TOKEN VIEWER_TOKEN INGEST_TOKEN SECRET
cp "$HERE/billing.mjs" "$NODE_DIR/"
node "$NODE_DIR/billing.mjs"
