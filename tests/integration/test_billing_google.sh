#!/usr/bin/env bash
# Google Play real-time developer notifications over real HTTP, as a Pub/Sub push delivers
# them: the test makes an RSA key with openssl and configures its public half in
# billing.google_keys_pem; a push whose Bearer JWT it signs (RS256, Google's issuer, the
# configured audience) is applied once per messageId and by notificationType; a token signed
# by another key, for another audience, expired, or missing is refused naming the reason.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "openssl is not installed"; exit 1; }
K=$T_TMP/keys
mkdir -p "$K"
for k in google other; do
    openssl genrsa -out "$K/$k.key" 2048 2>/dev/null
    openssl rsa -in "$K/$k.key" -pubout -out "$K/$k.pub" 2>/dev/null
done
AUD=https://billing.example.com/v1/billing/webhooks/google
b64url() { python3 -c 'import base64,sys; print(base64.urlsafe_b64encode(sys.stdin.buffer.read()).decode().rstrip("="))'; }
# jwt KEY AUD EXP: an RS256 token as Pub/Sub signs its pushes
jwt() {
    local now h c
    now=$(date +%s)
    h=$(printf '{"alg":"RS256","kid":"k1","typ":"JWT"}' | b64url)
    c=$(printf '{"iss":"https://accounts.google.com","aud":"%s","iat":%s,"exp":%s,"email":"pubsub@example.iam.gserviceaccount.com","email_verified":true}' "$2" "$now" "$3" | b64url)
    printf '%s.%s.%s' "$h" "$c" "$(printf '%s.%s' "$h" "$c" | openssl dgst -sha256 -sign "$K/$1.key" | b64url)"
}
# push MSG_ID TYPE_CODE EVENT_MS TOKEN: a Pub/Sub push body
push() {
    local data
    data=$(printf '{"version":"1.0","packageName":"com.example.tv","eventTimeMillis":"%s","subscriptionNotification":{"version":"1.0","notificationType":%s,"purchaseToken":"%s","subscriptionId":"monthly"}}' "$3" "$2" "$4" | base64 -w0)
    printf '{"message":{"data":"%s","messageId":"%s","publishTime":"2026-12-06T09:00:00Z"},"subscription":"projects/p/subscriptions/play"}' "$data" "$1"
}
TOKEN=opaque-purchase-token-$(printf 'x%.0s' $(seq 1 150))
SUB=gp-$(printf '%s' "$TOKEN" | sha256sum | cut -c1-32)

D=$T_TMP/data
VIEW=$(new_token "$D" viewer google-viewer)
start_server "$D" --modules billing --set "billing.google_keys_pem=$K/google.pub" \
    --set "billing.google_audience=$AUD" || exit 1
NOW=$(date +%s)
GOOD=$(jwt google "$AUD" $((NOW + 3600)))
post() { status POST /v1/billing/webhooks/google -H "Authorization: Bearer $1" --data-binary "$2"; }
ent() { curl -s "$BASE/v1/entitlements/$1" -H "Authorization: Bearer $VIEW" | jq -r '"\(.allowed) \(.state)"'; }

B1=$(push m-1 4 $((NOW * 1000 - 5000)) "$TOKEN")
t_check "purchased" 200 "$(post "$GOOD" "$B1")"
t_check "applied" "applied $SUB active" "$(jq -r '"\(.decision) \(.changes[0].subscription) \(.changes[0].to)"' <<<"$(body)")"
t_check "entitled" "true active" "$(ent "$SUB")"
t_check "redelivered messageId" true "$(post "$GOOD" "$B1" >/dev/null; jq -r .duplicate <<<"$(body)")"
t_check "in grace" 200 "$(post "$GOOD" "$(push m-2 6 $((NOW * 1000 - 4000)) "$TOKEN")")"
t_check "grace" "true grace" "$(ent "$SUB")"
t_check "on hold" 200 "$(post "$GOOD" "$(push m-3 5 $((NOW * 1000 - 3000)) "$TOKEN")")"
t_check "no access on hold" "false paused" "$(ent "$SUB")"
t_check "a late renewal" 200 "$(post "$GOOD" "$(push m-4 2 $((NOW * 1000 - 3500)) "$TOKEN")")"
t_check "is stale" stale "$(jq -r .decision <<<"$(body)")"
t_check "revoked" 200 "$(post "$GOOD" "$(push m-5 12 $((NOW * 1000 - 1000)) "$TOKEN")")"
t_check "revoked state" "false revoked" "$(ent "$SUB")"

B6=$(push m-6 2 $((NOW * 1000)) "$TOKEN")
t_check "no token" 401 "$(status POST /v1/billing/webhooks/google --data-binary "$B6")"
t_contains "names it" "missing header" "$(jq -r .detail <<<"$(body)")"
t_check "another key" 401 "$(post "$(jwt other "$AUD" $((NOW + 3600)))" "$B6")"
t_contains "names it" "no matching signature" "$(jq -r .detail <<<"$(body)")"
t_check "another audience" 401 "$(post "$(jwt google https://elsewhere.example.com/ $((NOW + 3600)))" "$B6")"
t_contains "names it" "no matching signature" "$(jq -r .detail <<<"$(body)")"
t_check "expired" 401 "$(post "$(jwt google "$AUD" $((NOW - 600)))" "$B6")"
t_contains "names it" "stale timestamp" "$(jq -r .detail <<<"$(body)")"
t_check "not a JWT" 401 "$(post "not-a-jwt" "$B6")"
t_contains "names it" "malformed header" "$(jq -r .detail <<<"$(body)")"
t_check "not a push body" 400 "$(post "$GOOD" '{"message":{}}')"
t_check "still revoked" "false revoked" "$(ent "$SUB")"
stop_server TERM
t_check "server exits cleanly (no leak under ASan)" 0 "$SERVER_RC"
# refused and duplicate deliveries in the audit chain, with the messageId they state (rows per
# minute: summed in case the test spans two)
t_check "google tally" "duplicate 1 [m-1]; malformed 1 [m-6]; missing 1 [m-6]; nomatch 2 [m-6]; payload 1 []; stale 1 [m-6]" "$(python3 - "$D/oncue.db" <<'PY'
import json, sqlite3, sys
sums = {}
for acct, d in sqlite3.connect(sys.argv[1]).execute("SELECT account, detail FROM billing_audit WHERE kind IN ('refused', 'duplicate') ORDER BY id"):
    d = json.loads(d)
    n, ids = sums.get(d["reason"], (0, []))
    sums[d["reason"]] = (n + d["count"], sorted(set(ids + d["ids"])))
    assert acct == "webhooks:google"
print("; ".join(f"{r} {n} [{' '.join(i)}]" for r, (n, i) in sorted(sums.items())))
PY
)"
t_done
