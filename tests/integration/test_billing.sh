#!/usr/bin/env bash
# Billing over real HTTP: Stripe and Standard Webhooks deliveries signed here (python3's hmac)
# are applied once (a redelivery answers "duplicate": true and changes nothing), refusals are
# problem+json naming the reason (missing or malformed header, stale timestamp, no matching
# signature, unknown provider), a stale event changes nothing, a refund wins a tie, the
# entitlement check answers allowed/state/reason per region, support actions replay by
# Idempotency-Key (422 with another body, 409 while in flight), every state survives a
# restart, refused and duplicate deliveries (a flood of 150 forged ones among them) are
# counted into one audit row per provider, reason and minute naming the ids they stated and
# nothing else, `oncue billing audit verify` passes and then finds a tampered row, and a webhook
# storm (shuffled, duplicated, delayed) ends on its ground truth, also with kill -9 and
# restarts in the middle of it.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
VIEW=$(new_token "$D" viewer billing-viewer)
ADMIN=$(new_token "$D" admin billing-admin)
SW=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
SW_OLD=whsec_b25jdWUgYmlsbGluZzogdGhlIG9sZCBrZXk=
STRIPE=whsec_test_secret
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ARGS=(--modules billing --set "billing.standard_secrets=$SW_OLD $SW"
      --set "billing.stripe_secrets=$STRIPE")
start_server "$D" "${ARGS[@]}" || exit 1
NOW=$(date +%s)

# sign standard SECRET ID TS BODY | sign stripe SECRET TS BODY
sign() {
    python3 - "$@" <<'PY'
import base64, hashlib, hmac, sys
if sys.argv[1] == "standard":
    sec, mid, ts, body = sys.argv[2:6]
    key = base64.b64decode(sec[6:] if sec.startswith("whsec_") else sec)
    mac = hmac.new(key, f"{mid}.{ts}.{body}".encode(), hashlib.sha256).digest()
    print("v1," + base64.b64encode(mac).decode())
else:
    sec, ts, body = sys.argv[2:5]
    print(f"t={ts},v1=" + hmac.new(sec.encode(), f"{ts}.{body}".encode(), hashlib.sha256).hexdigest())
PY
}
# std ID TYPE EVENT_TIME [SUB] [ACCOUNT] [TS]: posts a signed Standard Webhooks event
std() {
    local ts=${6:-$NOW}
    local b="{\"type\":\"$2\",\"timestamp\":\"$3\",\"data\":{\"subscription\":\"${4:-s1}\",\"account\":\"${5:-a1}\",\"period_end\":\"2099-01-01T00:00:00Z\",\"regions\":[\"US\",\"CA\"]}}"
    status POST /v1/billing/webhooks/standard -H "webhook-id: $1" -H "webhook-timestamp: $ts" \
        -H "webhook-signature: $(sign standard "$SW" "$1" "$ts" "$b")" -d "$b"
}
ent() { status GET "/v1/entitlements/$1$2" -H "Authorization: Bearer $VIEW" >/dev/null; body; }
detail() { jq -r .detail <<<"$(body)"; }

# --- Standard Webhooks: applied once ---
t_check "activated" 200 "$(std m1 subscription.activated 2026-12-01T10:00:00Z)"
t_check "applied" "false applied active" "$(jq -r '"\(.duplicate) \(.decision) \(.changes[0].to)"' <<<"$(body)")"
t_check "redelivery" 200 "$(std m1 subscription.activated 2026-12-01T10:00:00Z)"
t_check "redelivery is a duplicate" "true applied" "$(jq -r '"\(.duplicate) \(.decision)"' <<<"$(body)")"
t_check "entitled in US" "true active" "$(ent a1 '?title=t1&region=US' | jq -r '"\(.allowed) \(.state)"')"
t_check "not in FR" "false region FR is not in the plan of s1 (US,CA)" "$(ent a1 '?title=t1&region=FR' | jq -r '"\(.allowed) \(.reason)"')"
t_check "unknown account" "false none no subscription" "$(ent nobody '' | jq -r '"\(.allowed) \(.state) \(.reason)"')"
t_check "check needs a token" 401 "$(status GET /v1/entitlements/a1)"
# the old key of a rotation still verifies
b='{"type":"subscription.payment_failed","timestamp":"2026-12-01T11:00:00Z","data":{"subscription":"s1","account":"a1"}}'
t_check "signed with the old key" 200 "$(status POST /v1/billing/webhooks/standard -H "webhook-id: m2" \
    -H "webhook-timestamp: $NOW" -H "webhook-signature: $(sign standard "$SW_OLD" m2 "$NOW" "$b")" -d "$b")"
t_check "past_due still plays" "true past_due" "$(ent a1 '' | jq -r '"\(.allowed) \(.state)"')"
# a stale event (older than what was applied) is recorded and changes nothing
t_check "stale renewal" 200 "$(std m3 subscription.renewed 2026-12-01T10:30:00Z)"
t_check "stale decision" "stale 0" "$(jq -r '"\(.decision) \(.changes | length)"' <<<"$(body)")"
t_check "still past_due" past_due "$(ent a1 '' | jq -r .state)"
# a refund at the same second as a renewal wins, whichever comes first
t_check "renewal at 12:00" 200 "$(std m4 subscription.renewed 2026-12-01T12:00:00Z)"
t_check "refund at 12:00" 200 "$(std m5 subscription.refunded 2026-12-01T12:00:00Z)"
t_check "refund applied" applied "$(jq -r .decision <<<"$(body)")"
t_check "renewal again at 12:00, new id" 200 "$(std m6 subscription.renewed 2026-12-01T12:00:00Z)"
t_check "it loses the tie" stale "$(jq -r .decision <<<"$(body)")"
t_check "revoked" "false revoked" "$(ent a1 '' | jq -r '"\(.allowed) \(.state)"')"
t_check "unknown type is recorded" 200 "$(std m7 subscription.upgraded 2026-12-01T13:00:00Z)"
t_check "recorded" recorded "$(jq -r .decision <<<"$(body)")"

# --- refusals name the reason ---
b='{"type":"subscription.renewed","timestamp":"2026-12-01T14:00:00Z","data":{"subscription":"s1","account":"a1"}}'
sig=$(sign standard "$SW" m8 "$NOW" "$b")
t_check "missing signature" 401 "$(status POST /v1/billing/webhooks/standard -H "webhook-id: m8" -H "webhook-timestamp: $NOW" -d "$b")"
t_check "names it" "missing header: webhook-signature" "$(detail)"
t_check "problem+json" "application/problem+json" "$(curl -s -o /dev/null -w '%{content_type}' -X POST "$BASE/v1/billing/webhooks/standard" -d "$b")"
t_check "malformed timestamp" 401 "$(status POST /v1/billing/webhooks/standard -H "webhook-id: m8" -H "webhook-timestamp: soon" -H "webhook-signature: $sig" -d "$b")"
t_contains "names it" "malformed header" "$(detail)"
old=$((NOW - 400))
t_check "stale timestamp" 401 "$(status POST /v1/billing/webhooks/standard -H "webhook-id: m8" -H "webhook-timestamp: $old" -H "webhook-signature: $(sign standard "$SW" m8 "$old" "$b")" -d "$b")"
t_contains "names it" "stale timestamp: webhook-timestamp $old is more than 300 s from now" "$(detail)"
t_check "tampered body" 401 "$(status POST /v1/billing/webhooks/standard -H "webhook-id: m8" -H "webhook-timestamp: $NOW" -H "webhook-signature: $sig" -d "${b/14:00/15:00}")"
t_contains "names it" "no matching signature" "$(detail)"
t_check "wrong key" 401 "$(status POST /v1/billing/webhooks/standard -H "webhook-id: m8" -H "webhook-timestamp: $NOW" -H "webhook-signature: $(sign standard whsec_AAAAAAAAAAAAAAAAAAAAAAAA m8 "$NOW" "$b")" -d "$b")"
t_check "unknown provider" 404 "$(status POST /v1/billing/webhooks/paypal -d "$b")"
t_contains "names it" "unknown provider: paypal" "$(detail)"
t_check "body over the cap" 413 "$(head -c 300000 /dev/zero | tr '\0' x | status POST /v1/billing/webhooks/standard --data-binary @-)"
t_check "signed, not JSON" 400 "$(status POST /v1/billing/webhooks/standard -H "webhook-id: m9" -H "webhook-timestamp: $NOW" -H "webhook-signature: $(sign standard "$SW" m9 "$NOW" '{"type":')" -d '{"type":')"
t_check "signed, no account" 422 "$(status POST /v1/billing/webhooks/standard -H "webhook-id: m9" -H "webhook-timestamp: $NOW" -H "webhook-signature: $(sign standard "$SW" m9 "$NOW" '{"type":"x","timestamp":"2026-12-01T00:00:00Z","data":{"subscription":"s"}}')" -d '{"type":"x","timestamp":"2026-12-01T00:00:00Z","data":{"subscription":"s"}}')"
t_contains "names it" "data.account" "$(detail)"
t_check "secrets never in the log" 0 "$(grep -c -e "${SW#whsec_}" -e "$STRIPE" "$T_TMP/server.log")"

# --- Stripe ---
# stp ID TYPE CREATED OBJECT [TS]
stp() {
    local ts=${5:-$NOW} b="{\"id\":\"$1\",\"object\":\"event\",\"type\":\"$2\",\"created\":$3,\"data\":{\"object\":$4}}"
    status POST /v1/billing/webhooks/stripe -H "Stripe-Signature: $(sign stripe "$STRIPE" "$ts" "$b")" -d "$b"
}
SUB='{"id":"sub_1","object":"subscription","customer":"cus_1","status":"active","current_period_end":4070908800}'
t_check "stripe: updated before created" 200 "$(stp evt_2 customer.subscription.updated 1764000100 "${SUB/active/past_due}")"
t_check "stripe: created arrives late" 200 "$(stp evt_1 customer.subscription.created 1764000000 "${SUB/active/incomplete}")"
t_check "stripe: created is stale" stale "$(jq -r .decision <<<"$(body)")"
t_check "stripe: past_due, not stuck incomplete" past_due "$(ent cus_1 '' | jq -r .state)"
t_check "stripe: invoice.paid" 200 "$(stp evt_3 invoice.paid 1764000200 '{"object":"invoice","subscription":"sub_1","customer":"cus_1"}')"
t_check "stripe: active" "true active" "$(ent cus_1 '' | jq -r '"\(.allowed) \(.state)"')"
t_check "stripe: cancel at period end" 200 "$(stp evt_4 customer.subscription.updated 1764000300 "${SUB/\"status\"/\"cancel_at_period_end\":true,\"status\"}")"
t_check "stripe: canceled, plays until its end" "true canceled" "$(ent cus_1 '' | jq -r '"\(.allowed) \(.state)"')"
t_check "stripe: refund by customer" 200 "$(stp evt_5 charge.refunded 1764000400 '{"object":"charge","customer":"cus_1"}')"
t_check "stripe: revoked" "false revoked" "$(ent cus_1 '' | jq -r '"\(.allowed) \(.state)"')"
t_check "stripe: duplicate" true "$(stp evt_5 charge.refunded 1764000400 '{"object":"charge","customer":"cus_1"}' >/dev/null; jq -r .duplicate <<<"$(body)")"
b='{"id":"evt_6","object":"event","type":"invoice.paid","created":1764000500,"data":{"object":{}}}'
t_check "stripe: missing header" 401 "$(status POST /v1/billing/webhooks/stripe -d "$b")"
t_check "names it" "missing header: Stripe-Signature" "$(detail)"
t_check "stripe: malformed header" 401 "$(status POST /v1/billing/webhooks/stripe -H "Stripe-Signature: v1=abc" -d "$b")"
t_contains "names it" "malformed header" "$(detail)"
old=$(($(date +%s) - 400))
t_check "stripe: stale" 401 "$(stp evt_7 invoice.paid 1 '{}' "$old")"
t_contains "names it" "stale timestamp: t=$old is 40" "$(detail)"
t_check "stripe: wrong secret" 401 "$(status POST /v1/billing/webhooks/stripe -H "Stripe-Signature: $(sign stripe whsec_other "$NOW" "$b")" -d "$b")"
t_contains "names it" "no matching signature" "$(detail)"
# a flood of forged deliveries: counted, not one audit row each
FORGED=$(sign stripe whsec_forger "$NOW" x)
for i in $(seq 1 150); do
    [ "$i" = 1 ] || echo next
    printf 'url = "%s"\nrequest = "POST"\nheader = "Stripe-Signature: %s"\ndata = "{\\"id\\":\\"evt_f%d\\"}"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
        "$BASE/v1/billing/webhooks/stripe" "$FORGED" "$i"
done >"$T_TMP/flood.cfg"
t_check "flood: 150 refused" "150" "$(curl -s -K "$T_TMP/flood.cfg" | grep -c '^401$')"

# --- support actions and Idempotency-Key ---
act() { status POST /v1/billing/accounts/a1/actions -H "Authorization: Bearer $ADMIN" -H "Idempotency-Key: $1" -d "$2"; }
G='{"action":"grant","reason":"ticket 42: refunded by mistake","until":"2099-01-01T00:00:00Z"}'
t_check "grant" 200 "$(act k1 "$G")"
t_check "grant answer" "true active manual-a1" "$(jq -r '"\(.allowed) \(.state) \(.changes[0].subscription)"' <<<"$(body)")"
first=$(body)
t_check "same key, same body" 200 "$(act k1 "$G")"
t_check "replays the answer" "$first" "$(body)"
t_check "marked replayed" "true" "$(curl -s -D - -o /dev/null -X POST "$BASE/v1/billing/accounts/a1/actions" -H "Authorization: Bearer $ADMIN" -H "Idempotency-Key: k1" -d "$G" | tr -d '\r' | grep -i '^Idempotent-Replayed:' | cut -d' ' -f2)"
t_check "same key, other body" 422 "$(act k1 '{"action":"revoke","reason":"x"}')"
t_check "no key" 400 "$(status POST /v1/billing/accounts/a1/actions -H "Authorization: Bearer $ADMIN" -d "$G")"
t_check "viewer may not" 403 "$(status POST /v1/billing/accounts/a1/actions -H "Authorization: Bearer $VIEW" -H "Idempotency-Key: k9" -d "$G")"
t_check "bad action" 422 "$(act k2 '{"action":"fix","reason":"x"}')"
t_check "extend needs until" 422 "$(act k3 '{"action":"extend","reason":"x"}')"
t_check "revoke of an unknown account" 404 "$(status POST /v1/billing/accounts/ghost/actions -H "Authorization: Bearer $ADMIN" -H "Idempotency-Key: k4" -d '{"action":"revoke","reason":"x"}')"
# concurrent use of one key: exactly one runs, the others answer 409 or replay its answer
CPIDS=()
for i in 1 2 3 4 5 6; do
    curl -s -o /dev/null -w '%{http_code}\n' -X POST "$BASE/v1/billing/accounts/a1/actions" \
        -H "Authorization: Bearer $ADMIN" -H "Idempotency-Key: k5" \
        -d '{"action":"revoke","reason":"chargeback"}' >"$T_TMP/conc.$i" &
    CPIDS+=($!)
done
wait "${CPIDS[@]}"
codes=$(cat "$T_TMP"/conc.* | sort | uniq -c | awk '{print $2}' | tr '\n' ' ')
t_contains "concurrent: only 200 and 409" "200" "$codes"
t_check "concurrent: nothing else" "" "$(cat "$T_TMP"/conc.* | grep -vE '^(200|409)$')"
t_check "grant and one revoke applied" 2 "$(curl -s "$BASE/metrics" | grep '^oncue_billing_actions_total ' | cut -d' ' -f2)"
t_check "revoked by support" "false revoked" "$(ent a1 '' | jq -r '"\(.allowed) \(.state)"')"
t_check "account view" 200 "$(status GET /v1/billing/accounts/a1 -H "Authorization: Bearer $VIEW")"
t_check "account view: subscriptions" "manual-a1 s1" "$(jq -r '[.subscriptions[].id] | join(" ")' <<<"$(body)")"

# --- metrics ---
m=$(curl -s "$BASE/metrics" | grep oncue_billing_)
t_contains "applied counter" 'oncue_billing_events_total{provider="standard",decision="applied"} 4' "$m"
t_contains "stale counter" 'oncue_billing_events_total{provider="standard",decision="stale"} 2' "$m"
t_contains "duplicates" 'oncue_billing_duplicates_total 2' "$m"

# --- restart: states, duplicates and the audit chain survive ---
stop_server TERM
t_check "server exits cleanly (no leak under ASan)" 0 "$SERVER_RC"
t_check "audit verify" 0 "$("$ONCUE_BIN" billing audit verify --data "$D" >"$T_TMP/verify" ; echo $?)"
# refusals and duplicates: one row per provider, reason and minute (the test may span two
# minutes, so counts are summed per provider and reason), written at the latest at stop
tally() {
    python3 - "$D/oncue.db" <<'PY'
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
sums = {}
for kind, acct, d in c.execute("SELECT kind, account, detail FROM billing_audit WHERE kind IN ('refused', 'duplicate') ORDER BY id"):
    d = json.loads(d)
    k = (d["provider"], d["reason"])
    n, ids, more, rows = sums.get(k, (0, set(), 0, 0))
    assert acct == "webhooks:" + d["provider"] and (kind == "duplicate") == (d["reason"] == "duplicate")
    assert d["first_ms"] <= d["last_ms"] and d["minute"].endswith(":00Z") and len(d["ids"]) <= 8
    sums[k] = (n + d["count"], ids | set(d["ids"]), more + d["ids_more"], rows + 1)
for (p, r), (n, ids, more, rows) in sorted(sums.items()):
    print(p, r, n, " ".join(sorted(ids)) if len(ids) < 5 else f"{len(ids) + more} ids", "rows" if rows > 1 else "row")
PY
}
tally >"$T_TMP/tally"
t_check "refused and duplicate rows" "standard duplicate 1 m1 row
standard malformed 1 m8 row
standard missing 2 m8 row
standard nomatch 2 m8 row
standard payload 2 m9 row
standard stale 1 m8 row
stripe duplicate 1 evt_5 row
stripe malformed 1 evt_6 row
stripe missing 1 evt_6 row
stripe nomatch 151 151 ids row
stripe stale 1 evt_7 row" "$(sed 's/ rows$/ row/' "$T_TMP/tally")"
nt=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT count(*) FROM billing_audit WHERE kind IN ('refused','duplicate')\").fetchone()[0])" "$D/oncue.db")
t_check "at most one row per provider, reason and minute" 1 "$(( nt >= 11 && nt <= 22 ))"
t_check "audit rows" "ok: $((14 + nt)) rows, the chain is intact" "$(cat "$T_TMP/verify")"
t_check "no signature nor body in the tally" 0 "$(python3 -c "import sqlite3,sys; print(sum(1 for (d,) in sqlite3.connect(sys.argv[1]).execute(\"SELECT detail FROM billing_audit WHERE kind IN ('refused','duplicate')\") if 'v1' in d or 'whsec' in d or 'timestamp' in d or 'data' in d or 'object' in d))" "$D/oncue.db")"
t_contains "show" "account a1: not allowed (revoked)" "$("$ONCUE_BIN" billing show a1 --data "$D")"
start_server "$D" "${ARGS[@]}" || exit 1
t_check "state after restart" "false revoked" "$(ent a1 '' | jq -r '"\(.allowed) \(.state)"')"
t_check "refusals in the account view" 200 "$(status GET /v1/billing/accounts/webhooks:stripe -H "Authorization: Bearer $VIEW")"
t_check "named by reason" "duplicate malformed missing nomatch stale" "$(jq -r '[.audit[].detail.reason] | unique | join(" ")' <<<"$(body)")"
t_check "duplicate after restart" 200 "$(std m1 subscription.activated 2026-12-01T10:00:00Z)"
t_check "still a duplicate" true "$(jq -r .duplicate <<<"$(body)")"
t_check "key replays after restart" 200 "$(act k1 "$G")"
t_check "the first answer" "$first" "$(body)"

# --- the storm, then with kill -9 ---
STORM=(--secret "$SW" --token "$VIEW" --connections 8)
"$ONCUE_BIN" billing storm --target "$BASE" "${STORM[@]}" --subscriptions 1500 --seed 3 >"$T_TMP/storm"
t_check "storm exits 0" 0 $?
t_contains "storm: no regression" "regressions 0" "$(cat "$T_TMP/storm")"
t_contains "storm: none applied twice" "applied_twice 0" "$(cat "$T_TMP/storm")"
t_contains "storm: none lost" "lost 0" "$(cat "$T_TMP/storm")"
stop_server KILL
start_server "$D" "${ARGS[@]}" --listen "127.0.0.1:$PORT" || exit 1
"$ONCUE_BIN" billing storm --target "$BASE" "${STORM[@]}" --subscriptions 3000 --seed 4 --prefix k9- \
    --retry-s 60 >"$T_TMP/storm2" 2>&1 &
SPID=$!
for k in 1 2 3; do
    sleep "0.$((RANDOM % 9 + 1))"
    stop_server KILL
    start_server "$D" "${ARGS[@]}" --listen "127.0.0.1:$PORT" || exit 1
done
wait $SPID
t_check "storm with 3 kill -9 exits 0" 0 $?
cat "$T_TMP/storm2"
t_contains "killed storm: no regression" "regressions 0" "$(cat "$T_TMP/storm2")"
t_contains "killed storm: none applied twice" "applied_twice 0" "$(cat "$T_TMP/storm2")"
t_contains "killed storm: none lost" "lost 0" "$(cat "$T_TMP/storm2")"
stop_server TERM
t_check "server exits cleanly (no leak under ASan)" 0 "$SERVER_RC"
t_check "audit verify after the storms" 0 "$("$ONCUE_BIN" billing audit verify --data "$D" >/dev/null; echo $?)"
sqlite3 "$D/oncue.db" "DROP TRIGGER billing_audit_no_update; UPDATE billing_audit SET detail = replace(detail, 'applied', 'stale') WHERE id = 5;" 2>/dev/null ||
    python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(\"DROP TRIGGER billing_audit_no_update; UPDATE billing_audit SET detail = replace(detail, 'applied', 'stale') WHERE id = 5;\"); c.commit()" "$D/oncue.db"
t_check "tampered: exit 1" 1 "$("$ONCUE_BIN" billing audit verify --data "$D" >"$T_TMP/verify"; echo $?)"
t_check "tampered: names the row" "broken at row 5: row 5: its hash does not match its content" "$(cat "$T_TMP/verify")"
t_done
