#!/usr/bin/env bash
# Notifications as the receiving vendors' own client libraries see them. The real server sends
# an incident's events to four endpoints served by receiver.mjs: the Teams card must parse
# and validate with Microsoft's `adaptivecards`; a webhook signed during a key rotation
# ("secret: NEW OLD") must verify with `standardwebhooks` under each secret alone; Slack gets
# Block Kit with its text fallback and links; PagerDuty gets source, class, links and
# client_url. Node and the npm packages of the committed lock file are installed into the
# build tree (npm ci); exits 77 (skipped, reason printed) where they cannot be.
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
cat >"$T_TMP/hooks.yaml" <<YML
- name: chat
  kind: slack
  url: $R/slack
- name: war-room
  kind: teams
  url: $R/teams
- name: automation
  kind: webhook
  url: $R/hook
  secret: $NEW $OLD
- name: pager
  kind: pagerduty
  url: $R/pd
  secret: R0UTINGKEY0123456789abcdef012345
YML
D=$T_TMP/data
RESP=$(new_token "$D" responder peers-resp)
start_server "$D" --set incident.outbound_allow=127.0.0.1 --set incident.webhooks_file="$T_TMP/hooks.yaml" \
    --set incident.public_url=https://oncue.example/ || exit 1
t_check "declare an incident" 201 "$(status POST /v1/incidents -H "Authorization: Bearer $RESP" \
    -d '{"alert_id": "reb/EMEA", "metric": "rebuffering_share", "slice": {"region": "EMEA"},
         "value": 0.08, "threshold": 0.05, "op": ">", "level": "page",
         "summary": "rebuffering in EMEA"}')"
t_check "acknowledge it" 200 "$(status POST /v1/incidents/INC-1/ack -H "Authorization: Bearer $RESP")"
for _ in $(seq 1 100); do # the outbox sends within a second or two
    [ "$(jq -s '[.[] | select(.body.event_action == "acknowledge")] | length' "$LOG")" -ge 1 ] &&
        [ "$(jq -s '[.[] | select(.path == "/teams")] | length' "$LOG")" -ge 2 ] && break
    sleep 0.1
done
first() { jq -c -s "[.[] | select(.path == \"$1\")][0]" "$LOG"; }

# Teams: a Workflows message whose Adaptive Card Microsoft's library accepts
T=$(first /teams)
t_check "teams: a message with an Adaptive Card attachment" \
    "message application/vnd.microsoft.card.adaptive" \
    "$(jq -r '"\(.check.type) \(.check.contentType)"' <<<"$T")"
t_check "teams: adaptivecards parses it without a complaint" '[]' "$(jq -c .check.parse_events <<<"$T")"
t_check "teams: and validates it" '[]' "$(jq -c .check.validation <<<"$T")"
t_check "teams: version 1.4, headline + facts, links" "1.4 2 2" \
    "$(jq -r '"\(.check.version) \(.check.items) \(.check.actions)"' <<<"$T")"
t_check "teams: headline" "INC-1 opened SEV2: rebuffering_share in region=EMEA" \
    "$(jq -r '.body.attachments[0].content.body[0].text' <<<"$T")"
t_check "teams: link to the incident" "https://oncue.example/#/incidents/INC-1" \
    "$(jq -r '.body.attachments[0].content.actions[0].url' <<<"$T")"

# Standard Webhooks during a key rotation: one signature per secret, each verifies alone
H=$(first /hook)
t_check "webhook: two signatures" 2 "$(jq -r .check.signatures <<<"$H")"
t_check "webhook: verifies with the new secret" valid "$(jq -r .check.new_secret <<<"$H")"
t_check "webhook: verifies with the old secret" valid "$(jq -r .check.old_secret <<<"$H")"
t_check "webhook: the incident around the event" "incident.opened INC-1 SEV2 region=EMEA" \
    "$(jq -r '"\(.body.type) \(.body.incident.id) \(.body.incident.severity) \(.body.incident.slice)"' <<<"$H")"
t_check "every webhook delivery verified" 0 \
    "$(jq -s '[.[] | select(.path == "/hook") | .check | select(.new_secret != "valid" or .old_secret != "valid")] | length' "$LOG")"

# Slack: Block Kit, with the plain text fallback
S=$(first /slack)
t_check "slack: text fallback" "[oncue] INC-1 opened SEV2: rebuffering_share in region=EMEA" \
    "$(jq -r .body.text <<<"$S")"
t_check "slack: header, fields, buttons" "header section actions" \
    "$(jq -r '[.body.blocks[].type] | join(" ")' <<<"$S")"
t_check "slack: header within 150 characters" true "$(jq '.body.blocks[0].text.text | length <= 150' <<<"$S")"
t_check "slack: buttons" "Open incident=https://oncue.example/#/incidents/INC-1 Status page=https://oncue.example/status" \
    "$(jq -r '[.body.blocks[2].elements[] | "\(.text.text)=\(.url)"] | join(" ")' <<<"$S")"

# PagerDuty Events API v2
P=$(jq -c -s '[.[] | select(.path == "/pd" and .body.event_action == "trigger")][0]' "$LOG")
t_check "pagerduty: trigger with the routing key" "R0UTINGKEY0123456789abcdef012345 oncue/INC-1" \
    "$(jq -r '"\(.body.routing_key) \(.body.dedup_key)"' <<<"$P")"
t_check "pagerduty: source, class, severity" "region=EMEA rebuffering_share error" \
    "$(jq -r '"\(.body.payload.source) \(.body.payload.class) \(.body.payload.severity)"' <<<"$P")"
t_check "pagerduty: client_url and links" "https://oncue.example/#/incidents/INC-1 2" \
    "$(jq -r '"\(.body.client_url) \(.body.links | length)"' <<<"$P")"
t_check "pagerduty: acknowledge on the same key" "oncue/INC-1" \
    "$(jq -r -s '[.[] | select(.body.event_action == "acknowledge")][0].body.dedup_key' "$LOG")"
t_done
