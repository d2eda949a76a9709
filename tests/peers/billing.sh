#!/usr/bin/env bash
# Billing webhooks signed by the providers' own client libraries reach the real server: the
# npm `stripe` package's stripe.webhooks.generateTestHeaderString and the `standardwebhooks`
# package's Webhook.sign (under each key of a rotation) are accepted and applied; the same
# signatures over a tampered body, or aged past the tolerance, are refused naming the reason.
# Node and the packages of the committed lock file are installed into the build tree (npm ci);
# exits 77 (skipped, reason printed) where they cannot be.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../integration/lib.sh"
WORK=${ONCUE_PEERS_WORK:-$T_TMP/work}
mkdir -p "$WORK"
skip() {
    echo "SKIP: $*"
    exit 77
}
command -v npm >/dev/null && command -v node >/dev/null || skip "node and npm are not installed"
NODE_DIR=$WORK/node
mkdir -p "$NODE_DIR"
if ! cmp -s "$HERE/billing/package-lock.json" "$NODE_DIR/package-lock.json" ||
    [ ! -d "$NODE_DIR/node_modules/stripe" ]; then
    cp "$HERE/billing/package.json" "$HERE/billing/package-lock.json" "$NODE_DIR/"
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund --cache "$WORK/npm-cache") >"$WORK/npm.log" 2>&1 ||
        skip "npm ci (stripe, standardwebhooks) failed (see $WORK/npm.log)"
fi
cp "$HERE/billing/sign.mjs" "$NODE_DIR/"
sign() { node "$NODE_DIR/sign.mjs" "$@"; }

SW=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
SW_OLD=whsec_b25jdWUgYmlsbGluZzogdGhlIG9sZCBrZXk=
STRIPE=whsec_peer_tests_endpoint_secret
D=$T_TMP/data
VIEW=$(new_token "$D" viewer peers-viewer)
start_server "$D" --modules billing --set "billing.standard_secrets=$SW $SW_OLD" \
    --set "billing.stripe_secrets=$STRIPE" || exit 1
NOW=$(date +%s)
ent() { curl -s "$BASE/v1/entitlements/$1" -H "Authorization: Bearer $VIEW" | jq -r .state; }

# --- Stripe, signed by stripe-node ---
P=$T_TMP/stripe.json
printf '{"id":"evt_peer_1","object":"event","type":"customer.subscription.created","created":%s,"data":{"object":{"id":"sub_peer","object":"subscription","customer":"cus_peer","status":"trialing","current_period_end":4070908800}}}' "$NOW" >"$P"
H=$(sign stripe "$STRIPE" "$NOW" "$P")
t_contains "stripe-node made a header" "t=$NOW,v1=" "$H"
t_check "stripe-node: accepted" 200 "$(status POST /v1/billing/webhooks/stripe -H "Stripe-Signature: $H" --data-binary @"$P")"
t_check "stripe-node: applied" "applied trialing" "$(jq -r '"\(.decision) \(.changes[0].to)"' <<<"$(body)")"
t_check "stripe-node: trialing" trialing "$(ent cus_peer)"
sed 's/trialing/active/' "$P" >"$T_TMP/tampered.json"
t_check "stripe-node: tampered" 401 "$(status POST /v1/billing/webhooks/stripe -H "Stripe-Signature: $H" --data-binary @"$T_TMP/tampered.json")"
t_contains "names it" "no matching signature" "$(jq -r .detail <<<"$(body)")"
OLD=$((NOW - 600))
t_check "stripe-node: stale" 401 "$(status POST /v1/billing/webhooks/stripe -H "Stripe-Signature: $(sign stripe "$STRIPE" "$OLD" "$P")" --data-binary @"$P")"
t_contains "names it" "stale timestamp" "$(jq -r .detail <<<"$(body)")"

# --- Standard Webhooks, signed by standardwebhooks under each key of the rotation ---
Q=$T_TMP/standard.json
printf '{"type":"subscription.renewed","timestamp":"2026-12-01T10:00:00Z","data":{"subscription":"s_peer","account":"a_peer"}}' >"$Q"
for k in "$SW" "$SW_OLD"; do
    id=msg_peer_${k: -6:4}
    S=$(sign standard "$k" "$id" "$NOW" "$Q")
    t_contains "standardwebhooks made v1" "v1," "$S"
    t_check "standardwebhooks: accepted" 200 "$(status POST /v1/billing/webhooks/standard -H "webhook-id: $id" -H "webhook-timestamp: $NOW" -H "webhook-signature: $S" --data-binary @"$Q")"
done
t_check "standardwebhooks: active" active "$(ent a_peer)"
t_check "standardwebhooks: replay is a duplicate" true "$(status POST /v1/billing/webhooks/standard -H "webhook-id: $id" -H "webhook-timestamp: $NOW" -H "webhook-signature: $S" --data-binary @"$Q" >/dev/null; jq -r .duplicate <<<"$(body)")"
t_check "standardwebhooks: other id" 401 "$(status POST /v1/billing/webhooks/standard -H "webhook-id: msg_other" -H "webhook-timestamp: $NOW" -H "webhook-signature: $S" --data-binary @"$Q")"
stop_server TERM
t_done
