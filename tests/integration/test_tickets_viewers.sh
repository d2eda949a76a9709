#!/usr/bin/env bash
# Beacons carrying a keyed-hashed account (account_hmac) joined to tickets and churn over real
# HTTP. The key is tickets.account_key; the players' values are made here with python3's
# hmac. During an EU incident: acc1 (wrote a linked ticket) and acc3 fail to start in EU,
# acc2 plays in EU without trouble, acc4 fails in the US (outside the slice); billing cancels
# acc1 after the declaration and acc3 two days before. The churn report's viewers say: seen
# 3, hurt 2, hurt with a ticket 1, canceled after 1, before 1. A malformed account_hmac
# (upper case, the plain id) is refused as bad_account_hmac; beacons without one are
# accepted as before.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
VIEW=$(new_token "$D" viewer vw-viewer)
ING=$(new_token "$D" ingest vw-ingest)
RESP=$(new_token "$D" responder vw-responder)
SW=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
KEY=account-key-of-the-operator
ARGS=(--modules catalog,qoe,ingest,incident,tickets,billing --set "billing.standard_secrets=$SW"
      --set "tickets.account_key=$KEY")
start_server "$D" "${ARGS[@]}" || exit 1
NOW=$(date +%s)
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
hm() { python3 -c 'import hashlib,hmac,sys; print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())' "$KEY" "$1"; }

std() {
    local ts b sig
    ts=$(date +%s)
    b="{\"type\":\"$2\",\"timestamp\":\"$3\",\"data\":{\"subscription\":\"$4\",\"account\":\"$5\",\"period_end\":\"2099-01-01T00:00:00Z\",\"regions\":[\"US\",\"EU\"]}}"
    sig=$(python3 -c 'import base64,hashlib,hmac,sys; k=base64.b64decode(sys.argv[1][6:]); print("v1,"+base64.b64encode(hmac.new(k, f"{sys.argv[2]}.{sys.argv[3]}.{sys.argv[4]}".encode(), hashlib.sha256).digest()).decode())' "$SW" "$1" "$ts" "$b")
    status POST /v1/billing/webhooks/standard -H "webhook-id: $1" -H "webhook-timestamp: $ts" \
        -H "webhook-signature: $sig" -d "$b"
}
for a in 1 2 3 4; do
    t_check "subscription of acc$a" 200 "$(std "act$a" subscription.activated 2026-10-01T00:00:00Z "s$a" "acc$a")"
done
t_check "acc3 cancels two days before" 200 "$(std can3 subscription.canceled "$(iso $((NOW - 2 * 86400)))" s3 acc3)"

tk() {
    status POST '/v1/tickets?format=generic' -H "Authorization: Bearer $ING" -d "{\"id\":\"$1\",\"account\":\"$2\",\"updated_at\":\"$(iso $((NOW - 60)))\",\"region\":\"EU\",\"subject\":\"Video keeps buffering\",\"body\":\"The video keeps buffering and freezing every few seconds\"}"
}
for t in 1 7 8; do t_check "ticket of acc$t" 201 "$(tk "t$t" "acc$t")"; done

t_check "declare" 201 "$(status POST /v1/incidents -H "Authorization: Bearer $RESP" -H 'Content-Type: application/json' \
    -d '{"alert_id":"manual/eu","rule":"manual","metric":"rebuffer_ratio","summary":"EU buffering","slice":{"region":"EU","symptom":"buffering"}}')"
INC=$(jq -r .id <<<"$(body)")
INC=${INC#INC-}
t_check "SEV1" 200 "$(status POST "/v1/incidents/$INC/severity" -H "Authorization: Bearer $RESP" -d '{"severity":"SEV1","reason":"test"}')"
sleep 1
TS=$(($(date +%s) * 1000))
ev() { # SESSION REGION ACCOUNT_HMAC OUTCOME
    if [ "$4" = failure ]; then
        echo "{\"ts\":$TS,\"type\":\"start\",\"session\":\"$1\",\"region\":\"$2\",\"device\":\"web\",\"outcome\":\"failure\",\"error_code\":\"DRM\",\"account_hmac\":\"$3\"}"
    else
        echo "{\"ts\":$TS,\"type\":\"start\",\"session\":\"$1\",\"region\":\"$2\",\"device\":\"web\",\"outcome\":\"success\",\"startup_ms\":900,\"account_hmac\":\"$3\"}"
    fi
}
BODY="[$(ev s1 EU "$(hm acc1)" failure),$(ev s2 EU "$(hm acc2)" success),$(ev s3 EU "$(hm acc3)" failure),$(ev s4 US "$(hm acc4)" failure),{\"ts\":$TS,\"type\":\"start\",\"session\":\"s5\",\"region\":\"EU\",\"outcome\":\"success\",\"startup_ms\":700},$(ev s6 EU "$(hm acc1 | tr a-f A-F)" failure),$(ev s7 EU acc1 failure)]"
t_check "beacons" 200 "$(status POST /v1/events -H "Authorization: Bearer $ING" -d "$BODY")"
t_check "five accepted (one without an account), two refused" "5 2" "$(jq -r '"\(.accepted) \(.rejected)"' <<<"$(body)")"
t_check "upper case and a plain id are refused by name" "5:bad_account_hmac 6:bad_account_hmac" "$(jq -r '[.errors[] | "\(.index):\(.reason)"] | join(" ")' <<<"$(body)")"
t_contains "the detail says what to send" "HMAC-SHA256(key, account id)" "$(jq -r '.errors[0].detail' <<<"$(body)")"
t_contains "the accounts remembered" "oncue_ingest_accounts 4" "$(curl -s "$BASE/metrics" -H "Authorization: Bearer $VIEW")"
t_check "acc1 cancels after" 200 "$(std can1 subscription.canceled "$(iso $(($(date +%s) + 1)))" s1 acc1)"
t_check "acc4 (US) cancels after" 200 "$(std can4 subscription.canceled "$(iso $(($(date +%s) + 1)))" s4 acc4)"
sleep 1
t_check "resolved" 200 "$(status POST "/v1/incidents/$INC/resolve" -H "Authorization: Bearer $RESP" -d '{"force":true,"reason":"fixed"}')"

status GET /v1/tickets/reports/churn -H "Authorization: Bearer $VIEW" >/dev/null
t_check "the viewers the incident touched" "3 2 1 1 1 0.5 0.5" \
    "$(jq -r '.incidents[0].viewers | "\(.seen) \(.hurt) \(.hurt_with_ticket) \(.canceled_after) \(.canceled_baseline) \(.churn_after) \(.churn_baseline)"' <<<"$(body)")"
stop_server
# without the key, no join (and nothing hashed is shown)
start_server "$D" --modules catalog,qoe,ingest,incident,tickets,billing --set "billing.standard_secrets=$SW" || exit 1
status GET /v1/tickets/reports/churn -H "Authorization: Bearer $VIEW" >/dev/null
t_check "no key: viewers null" null "$(jq -r '.incidents[0].viewers' <<<"$(body)")"
t_check "the key is not in the settings shown" 0 "$(grep -c "$KEY" "$T_TMP/server.log")"
stop_server
t_done
