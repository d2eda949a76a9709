#!/usr/bin/env bash
# Replaying a stored event (support tooling): a subscription is activated, refunded, then a
# delayed renewal arrives (stale). POST /v1/billing/events/standard/ID/replay decides the stored
# event again: without force it is stale again and changes nothing; with force it applies as
# of now (the renewal reactivates); both are audited actions naming the actor, the reason and
# the event's first decision. The same Idempotency-Key and body replays the first answer
# (Idempotent-Replayed, no second audit row), another body is 422; unknown events and
# providers are 404, a missing key 400, a missing reason 422, a viewer 403. `oncue billing
# replay` does the same from the command line, idempotent when run twice; the chain verifies
# and `oncue billing show` lists the replays.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
VIEW=$(new_token "$D" viewer replay-viewer)
ADMIN=$(new_token "$D" admin replay-admin)
SW=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
start_server "$D" --modules billing --set "billing.standard_secrets=$SW" || exit 1
NOW=$(date +%s)
sign() {
    python3 - "$@" <<'PY'
import base64, hashlib, hmac, sys
sec, mid, ts, body = sys.argv[1:5]
mac = hmac.new(base64.b64decode(sec[6:]), f"{mid}.{ts}.{body}".encode(), hashlib.sha256).digest()
print("v1," + base64.b64encode(mac).decode())
PY
}
std() { # ID TYPE EVENT_TIME
    local b="{\"type\":\"$2\",\"timestamp\":\"$3\",\"data\":{\"subscription\":\"s1\",\"account\":\"a1\",\"period_end\":\"2099-01-01T00:00:00Z\"}}"
    status POST /v1/billing/webhooks/standard -H "webhook-id: $1" -H "webhook-timestamp: $NOW" \
        -H "webhook-signature: $(sign "$SW" "$1" "$NOW" "$b")" -d "$b"
}
state() { curl -s "$BASE/v1/entitlements/a1" -H "Authorization: Bearer $VIEW" | jq -r .state; }
rows() { curl -s "$BASE/v1/billing/accounts/a1" -H "Authorization: Bearer $VIEW" | jq '[.audit[] | select(.detail.action == "replay")] | length'; }
replay() { # PROVIDER ID KEY BODY
    status POST "/v1/billing/events/$1/$2/replay" -H "Authorization: Bearer $ADMIN" -H "Idempotency-Key: $3" -d "$4"
}

t_check "activated" 200 "$(std e1 subscription.activated 2026-12-01T10:00:00Z)"
t_check "refunded" 200 "$(std e2 subscription.refunded 2026-12-01T12:00:00Z)"
t_check "a delayed renewal" 200 "$(std e3 subscription.renewed 2026-12-01T11:00:00Z)"
t_check "is stale" stale "$(body | jq -r .decision)"
t_check "revoked" revoked "$(state)"

t_check "replay the renewal" 200 "$(replay standard e3 k1 '{"reason":"ticket 42: check the renewal"}')"
t_check "stale again, nothing changed" "stale stale false 0" \
    "$(body | jq -j '"\(.first_decision) \(.decision) \(.force) \(.changes | length)"')"
t_check "still revoked" revoked "$(state)"
t_check "forced" 200 "$(replay standard e3 k2 '{"reason":"ticket 42: the refund was reversed","force":true}')"
F=$(body)
t_check "applied as of now" "stale applied true revoked active" \
    "$(jq -j '"\(.first_decision) \(.decision) \(.force) \(.changes[0].from) \(.changes[0].to)"' <<<"$F")"
t_check "active again" active "$(state)"
t_check "two replays audited" 2 "$(rows)"
hdr=$(curl -s -D "$T_TMP/h" -o "$T_TMP/body" -X POST "$BASE/v1/billing/events/standard/e3/replay" -H "Authorization: Bearer $ADMIN" \
    -H "Idempotency-Key: k2" -d '{"reason":"ticket 42: the refund was reversed","force":true}'; tr -d '\r' <"$T_TMP/h")
t_contains "same key and body: replayed" "Idempotent-Replayed: true" "$hdr"
t_check "the first answer" "$F" "$(body)"
t_check "no third audit row" 2 "$(rows)"
t_check "same key, other body: 422" 422 "$(replay standard e3 k2 '{"reason":"other"}')"
t_check "unknown event: 404" 404 "$(replay standard nope k3 '{"reason":"x"}')"
t_contains "says why" "no stored standard event nope" "$(body | jq -r .detail)"
t_check "unknown provider: 404" 404 "$(replay paypal e3 k4 '{"reason":"x"}')"
t_check "no key: 400" 400 "$(status POST /v1/billing/events/standard/e3/replay -H "Authorization: Bearer $ADMIN" -d '{"reason":"x"}')"
t_check "no reason: 422" 422 "$(replay standard e3 k5 '{}')"
t_contains "names it" "reason:" "$(body | jq -r .detail)"
t_check "bad force: 422" 422 "$(replay standard e3 k6 '{"reason":"x","force":"yes"}')"
t_check "a viewer may not" 403 "$(status POST /v1/billing/events/standard/e3/replay -H "Authorization: Bearer $VIEW" -H "Idempotency-Key: k7" -d '{"reason":"x"}')"

# the CLI: the refund forced as of now revokes again; running it twice applies it once
cli() { "$ONCUE_BIN" billing replay standard e2 --reason "ticket 43: refund stands" --force --target "$BASE" --token "$ADMIN"; }
out=$(cli)
t_check "CLI replay" 0 $?
t_check "CLI: applied" "applied revoked" "$(jq -j '"\(.decision) \(.changes[0].to)"' <<<"$out")"
out2=$(cli)
t_check "CLI again: the same answer" "$out" "$out2"
t_check "revoked" revoked "$(state)"
t_check "three replays audited" 3 "$(rows)"
"$ONCUE_BIN" billing replay standard e2 --target "$BASE" --token "$ADMIN" >/dev/null 2>&1
t_check "CLI without --reason: 2" 2 $?
stop_server TERM
t_check "server exits cleanly" 0 "$SERVER_RC"
t_check "audit verify" 0 "$("$ONCUE_BIN" billing audit verify --data "$D" >/dev/null; echo $?)"
t_contains "show lists the replay" '"action":"replay"' "$("$ONCUE_BIN" billing show a1 --data "$D")"
t_done
