#!/usr/bin/env bash
# Event subscriptions as a Standard Webhooks consumer sees them: the real server delivers bus
# events (an incident's, a recorded change) to a subscription whose key is being rotated
# (the new key first, the old one kept); every delivery must verify with `standardwebhooks`,
# the npm reference library, under each of the two secrets alone. Node and the packages of the
# committed lock file are installed into the build tree (npm ci); exits 77 (skipped, reason
# printed) where they cannot be.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../integration/lib.sh"
WORK=${ONCUE_PEERS_WORK:-$T_TMP/work}
mkdir -p "$WORK"
RECV_PID=""
trap '[ -n "$RECV_PID" ] && kill "$RECV_PID" 2>/dev/null; t_cleanup' EXIT

skip() {
    echo "SKIP: $*"
    exit 77
}
if ! command -v npm >/dev/null; then
    [ "$(id -u)" -eq 0 ] || skip "npm is not installed (apt-get install -y nodejs npm)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends nodejs npm; } >"$WORK/apt.log" 2>&1 ||
        skip "apt-get install nodejs npm failed (see $WORK/apt.log)"
fi
NODE_DIR=$WORK/node
mkdir -p "$NODE_DIR"
if ! cmp -s "$HERE/package-lock.json" "$NODE_DIR/package-lock.json" ||
    [ ! -d "$NODE_DIR/node_modules/adaptivecards" ]; then
    cp "$HERE/package.json" "$HERE/package-lock.json" "$NODE_DIR/"
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund) >"$WORK/npm.log" 2>&1 ||
        skip "npm ci (adaptivecards, standardwebhooks) failed (see $WORK/npm.log)"
fi
cp "$HERE/receiver.mjs" "$NODE_DIR/"

NEW=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
OLD=whsec_b25jdWUgcGVlcnM6IHRoZSBrZXkgYmVmb3JlIHJvdGF0aW9u
LOG=$T_TMP/received.jsonl
: >"$LOG"
node "$NODE_DIR/receiver.mjs" "$T_TMP/port" "$LOG" "$NEW" "$OLD" 2>"$T_TMP/recv.err" &
RECV_PID=$!
for _ in $(seq 1 100); do [ -s "$T_TMP/port" ] && break; sleep 0.05; done
RPORT=$(cat "$T_TMP/port" 2>/dev/null)
[ -n "$RPORT" ] || { cat "$T_TMP/recv.err"; t_check "receiver started" yes no; t_done; }
R=http://127.0.0.1:$RPORT
D=$T_TMP/data
ADMIN=$(new_token "$D" admin peers-admin)
RESP=$(new_token "$D" responder peers-resp)
start_server "$D" --set automation.outbound_allow=127.0.0.1/32 || exit 1
t_check "subscribe with the old secret" 201 "$(status POST /v1/event-subscriptions -H "Authorization: Bearer $ADMIN" \
    -d "{\"name\": \"peer\", \"url\": \"$R/hook\", \"topics\": [\"incident.opened\", \"change.recorded\"], \"secret\": \"$OLD\"}")"
t_check "rotate to the new one, keeping the old" 200 "$(status POST /v1/event-subscriptions/peer/rotate -H "Authorization: Bearer $ADMIN" \
    -d "{\"secret\": \"$NEW\", \"keep\": 1}")"
t_check "declare an incident" 201 "$(status POST /v1/incidents -H "Authorization: Bearer $RESP" \
    -d '{"alert_id": "reb/EMEA", "metric": "rebuffering_share", "slice": {"region": "EMEA"},
         "value": 0.08, "threshold": 0.05, "op": ">", "level": "page",
         "summary": "rebuffering in EMEA"}')"
t_check "record a change" 201 "$(status POST /v1/changes -H "Authorization: Bearer $RESP" \
    -d '{"service": "player", "kind": "deploy"}')"
for _ in $(seq 1 100); do
    [ "$(jq -s '[.[] | select(.path == "/hook")] | length' "$LOG")" -ge 2 ] && break
    sleep 0.1
done
t_check "both events delivered" "change.recorded incident.opened" \
    "$(jq -r -s '[.[] | select(.path == "/hook") | .body.type] | sort | join(" ")' "$LOG")"
H=$(jq -c -s '[.[] | select(.path == "/hook")][0]' "$LOG")
t_check "two signatures during the rotation" 2 "$(jq -r .check.signatures <<<"$H")"
t_check "verifies with the new secret alone" valid "$(jq -r .check.new_secret <<<"$H")"
t_check "verifies with the old secret alone" valid "$(jq -r .check.old_secret <<<"$H")"
t_check "every delivery verified" 0 \
    "$(jq -s '[.[] | select(.path == "/hook") | .check | select(.new_secret != "valid" or .old_secret != "valid")] | length' "$LOG")"
t_check "the payload's shape" "string string object" \
    "$(jq -r '"\(.body.type | type) \(.body.timestamp | type) \(.body.data | type)"' <<<"$H")"
t_done
