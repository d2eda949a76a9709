#!/usr/bin/env bash
# Billing and PII: webhooks whose payloads carry a customer's email, name, phone and postal
# address (Stripe's invoice customer_* fields and a charge's billing_details, a Standard
# Webhooks event's own data, a refused delivery and a signed but unusable one) are applied,
# and none of those strings reaches the server's log (at log.level debug), the audit rows a
# viewer reads (the account views, the refusal tally's), a replay's answer, /metrics or
# `oncue billing show`. The raw payload stays in billing_events for replays only.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
VIEW=$(new_token "$D" viewer pii-viewer)
ADMIN=$(new_token "$D" admin pii-admin)
SW=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
STRIPE=whsec_test_secret
start_server "$D" --modules billing --log-level debug --set "billing.standard_secrets=$SW" \
    --set "billing.stripe_secrets=$STRIPE" || exit 1
NOW=$(date +%s)
PII=("jane.roe@example.com" "Jane Roe" "42 Rue Oberkampf" "75011" "+33 6 12 34 56 78"
     "john.doe@example.org" "John Doe" "1 Infinite Loop")

sign() {
    python3 - "$@" <<'PY'
import base64, hashlib, hmac, sys
if sys.argv[1] == "standard":
    sec, mid, ts, body = sys.argv[2:6]
    mac = hmac.new(base64.b64decode(sec[6:]), f"{mid}.{ts}.{body}".encode(), hashlib.sha256).digest()
    print("v1," + base64.b64encode(mac).decode())
else:
    sec, ts, body = sys.argv[2:5]
    print(f"t={ts},v1=" + hmac.new(sec.encode(), f"{ts}.{body}".encode(), hashlib.sha256).hexdigest())
PY
}
# stp ID TYPE CREATED OBJECT [SECRET]
stp() {
    local b="{\"id\":\"$1\",\"object\":\"event\",\"type\":\"$2\",\"created\":$3,\"data\":{\"object\":$4}}"
    status POST /v1/billing/webhooks/stripe -H "Stripe-Signature: $(sign stripe "${5:-$STRIPE}" "$NOW" "$b")" -d "$b"
}
std() {
    status POST /v1/billing/webhooks/standard -H "webhook-id: $1" -H "webhook-timestamp: $NOW" \
        -H "webhook-signature: $(sign standard "$SW" "$1" "$NOW" "$2")" -d "$2"
}
ADDR='{"line1":"42 Rue Oberkampf","city":"Paris","postal_code":"75011","country":"FR"}'
SUB="{\"id\":\"sub_p\",\"object\":\"subscription\",\"customer\":\"cus_p\",\"status\":\"active\",\"current_period_end\":4070908800,\"metadata\":{\"plan\":\"premium\",\"email\":\"jane.roe@example.com\"}}"
INV="{\"object\":\"invoice\",\"subscription\":\"sub_p\",\"customer\":\"cus_p\",\"customer_email\":\"jane.roe@example.com\",\"customer_name\":\"Jane Roe\",\"customer_phone\":\"+33 6 12 34 56 78\",\"customer_address\":$ADDR,\"customer_shipping\":{\"name\":\"Jane Roe\",\"address\":$ADDR}}"
CHG="{\"object\":\"charge\",\"customer\":\"cus_p\",\"billing_details\":{\"email\":\"jane.roe@example.com\",\"name\":\"Jane Roe\",\"phone\":\"+33 6 12 34 56 78\",\"address\":$ADDR},\"receipt_email\":\"jane.roe@example.com\"}"
t_check "stripe: created" 200 "$(stp evt_p1 customer.subscription.created 1764000000 "$SUB")"
t_check "stripe: invoice with the customer's details" 200 "$(stp evt_p2 invoice.paid 1764000100 "$INV")"
t_check "applied" applied "$(jq -r .decision <<<"$(body)")"
t_check "stripe: redelivered" true "$(stp evt_p2 invoice.paid 1764000100 "$INV" >/dev/null; jq -r .duplicate <<<"$(body)")"
t_check "stripe: refund with billing details" 200 "$(stp evt_p3 charge.refunded 1764000200 "$CHG")"
t_check "stripe: forged, with the details" 401 "$(stp evt_p4 invoice.paid 1764000300 "$INV" whsec_forger)"
S='{"type":"subscription.activated","timestamp":"2026-12-01T10:00:00Z","data":{"subscription":"s-p","account":"acct-p","email":"john.doe@example.org","name":"John Doe","address":{"line1":"1 Infinite Loop","city":"Cupertino"}}}'
t_check "standard: with the subscriber's details" 200 "$(std m-p1 "$S")"
U='{"type":"subscription.renewed","timestamp":"2026-12-01T11:00:00Z","data":{"subscription":"s-p","email":"john.doe@example.org","name":"John Doe"}}'
t_check "standard: signed, unusable" 422 "$(std m-p2 "$U")"
t_check "replay of the invoice" 200 "$(status POST /v1/billing/events/stripe/evt_p2/replay -H "Authorization: Bearer $ADMIN" -H "Idempotency-Key: pii-1" -d '{"reason":"ticket 7"}')"
cp "$T_TMP/body" "$T_TMP/seen.replay"
for a in cus_p acct-p; do
    t_check "account view $a" 200 "$(status GET "/v1/billing/accounts/$a" -H "Authorization: Bearer $VIEW")"
    cp "$T_TMP/body" "$T_TMP/seen.$a"
done
t_check "events in the view" "event,event,event,action" "$(jq -r '[.audit[].kind] | reverse | join(",")' "$T_TMP/seen.cus_p")"
curl -s "$BASE/metrics" >"$T_TMP/seen.metrics"
stop_server TERM
t_check "server exits cleanly (no leak under ASan)" 0 "$SERVER_RC"
cp "$T_TMP/server.log" "$T_TMP/seen.log1"
# the minutes' refusals and duplicates are written at stop: read them as a viewer after a restart
start_server "$D" --modules billing --log-level debug --set "billing.standard_secrets=$SW" \
    --set "billing.stripe_secrets=$STRIPE" || exit 1
for a in webhooks:stripe webhooks:standard; do
    t_check "tally view $a" 200 "$(status GET "/v1/billing/accounts/$a" -H "Authorization: Bearer $VIEW")"
    cp "$T_TMP/body" "$T_TMP/seen.$a"
done
t_check "tally rows" "duplicate nomatch" "$(jq -r '[.audit[].detail.reason] | sort | join(" ")' "$T_TMP/seen.webhooks:stripe")"
stop_server TERM
cp "$T_TMP/server.log" "$T_TMP/seen.log2"
"$ONCUE_BIN" billing show cus_p --data "$D" >"$T_TMP/seen.show"
"$ONCUE_BIN" billing show acct-p --data "$D" >>"$T_TMP/seen.show"
t_contains "show lists the events" "invoice.paid" "$(cat "$T_TMP/seen.show")"
t_check "the log was written" 1 "$(( $(wc -l <"$T_TMP/seen.log1") > 0 && $(wc -l <"$T_TMP/seen.log2") > 0 ))"
for s in "${PII[@]}"; do
    t_check "not in the log: $s" 0 "$(cat "$T_TMP/seen.log1" "$T_TMP/seen.log2" | grep -c -F -- "$s")"
    t_check "not shown: $s" "" "$(grep -l -F -- "$s" "$T_TMP"/seen.* | xargs -r -n1 basename)"
done
# kept raw for replays: the stored payload of the invoice still holds them
t_check "raw payload kept for replay" 1 "$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT count(*) FROM billing_events WHERE id = 'evt_p2' AND payload LIKE '%jane.roe@example.com%'\").fetchone()[0])" "$D/oncue.db")"
t_done
