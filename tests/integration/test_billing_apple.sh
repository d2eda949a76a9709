#!/usr/bin/env bash
# App Store Server Notifications V2 over real HTTP: the test makes a certificate chain with
# the openssl command (root, intermediate, leaf on P-256) and configures its root in
# billing.apple_root_pem; notifications signed as Apple signs them (a compact ES256 JWS whose
# x5c header holds leaf, intermediate and root, around a signedTransactionInfo JWS) are
# applied once and by subtype (a failed renewal in the grace period is grace); a notification
# signed by a second chain the server does not trust is refused as an untrusted certificate
# chain, a tampered payload as no matching signature, and an unconfigured server answers 503.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "openssl is not installed"; exit 1; }
C=$T_TMP/certs
mkdir -p "$C"

# chain NAME: NAME-root, NAME-int and NAME-leaf keys and certificates, each signed by the one
# above it.
chain() {
    local n=$1
    openssl ecparam -name prime256v1 -genkey -noout -out "$C/$n-root.key" 2>/dev/null
    openssl req -x509 -new -key "$C/$n-root.key" -subj "/CN=$n root" -days 3650 \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
        -out "$C/$n-root.pem" 2>/dev/null
    local up=root
    for level in int leaf; do
        local ca="CA:TRUE" ku="keyCertSign"
        [ $level = leaf ] && ca="CA:FALSE" && ku="digitalSignature"
        openssl ecparam -name prime256v1 -genkey -noout -out "$C/$n-$level.key" 2>/dev/null
        openssl req -new -key "$C/$n-$level.key" -subj "/CN=$n $level" -out "$C/$n-$level.csr" 2>/dev/null
        printf 'basicConstraints=critical,%s\nkeyUsage=critical,%s\n' "$ca" "$ku" >"$C/$n-$level.ext"
        openssl x509 -req -in "$C/$n-$level.csr" -CA "$C/$n-$up.pem" -CAkey "$C/$n-$up.key" \
            -CAcreateserial -days 3650 -extfile "$C/$n-$level.ext" -out "$C/$n-$level.pem" 2>/dev/null
        up=$level
    done
}
chain good
chain rogue
t_check "openssl made the chain" "$C/good-leaf.pem: OK" \
    "$(openssl verify -CAfile "$C/good-root.pem" -untrusted "$C/good-int.pem" "$C/good-leaf.pem")"

# jws NAME PAYLOAD_JSON: a compact ES256 JWS signed by NAME-leaf with x5c [leaf, int, root].
jws() {
    local x5c="" c
    for c in leaf int root; do
        x5c="$x5c${x5c:+,}\"$(openssl x509 -in "$C/$1-$c.pem" -outform DER | base64 -w0)\""
    done
    local input
    input=$(python3 -c 'import base64,sys
b = lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")
print(b(sys.argv[1]) + "." + b(sys.argv[2]))' "{\"alg\":\"ES256\",\"x5c\":[$x5c]}" "$2")
    printf '%s' "$input" | openssl dgst -sha256 -sign "$C/$1-leaf.key" >"$T_TMP/sig.der"
    python3 - "$input" "$T_TMP/sig.der" <<'PY'
import base64, sys
d = open(sys.argv[2], "rb").read()
def integer(d, i):  # an ASN.1 INTEGER at d[i]: its value as 32 bytes, and the next index
    assert d[i] == 2
    n = d[i + 1]
    v = d[i + 2:i + 2 + n].lstrip(b"\0")
    return v.rjust(32, b"\0"), i + 2 + n
assert d[0] == 0x30
i = 3 if d[1] & 0x80 else 2
r, i = integer(d, i)
s, i = integer(d, i)
print(sys.argv[1] + "." + base64.urlsafe_b64encode(r + s).decode().rstrip("="))
PY
}
# notification CHAIN UUID TYPE SUBTYPE SIGNED_MS OTID ACCOUNT EXPIRES_MS: a request body
notification() {
    local tx note sub=""
    tx=$(jws "$1" "{\"originalTransactionId\":\"$6\",\"transactionId\":\"t-$2\",\"appAccountToken\":\"$7\",\"expiresDate\":$8,\"bundleId\":\"com.example.tv\"}")
    [ -n "$4" ] && sub=",\"subtype\":\"$4\""
    note=$(jws "$1" "{\"notificationType\":\"$3\"$sub,\"notificationUUID\":\"$2\",\"version\":\"2.0\",\"signedDate\":$5,\"data\":{\"bundleId\":\"com.example.tv\",\"environment\":\"Sandbox\",\"signedTransactionInfo\":\"$tx\"}}")
    printf '{"signedPayload":"%s"}' "$note"
}

D=$T_TMP/data
VIEW=$(new_token "$D" viewer apple-viewer)
start_server "$D" --modules billing --set "billing.apple_root_pem=$C/good-root.pem" || exit 1
NOW_MS=$(( $(date +%s) * 1000 ))
EXP=$(( NOW_MS + 30 * 86400000 ))
post() { status POST /v1/billing/webhooks/apple --data-binary "$1"; }
ent() { curl -s "$BASE/v1/entitlements/$1" -H "Authorization: Bearer $VIEW" | jq -r '"\(.allowed) \(.state)"'; }

B1=$(notification good u-1 SUBSCRIBED "" $((NOW_MS - 5000)) 1000001 acct-apple $EXP)
t_check "subscribed" 200 "$(post "$B1")"
t_check "applied" "applied active" "$(jq -r '"\(.decision) \(.changes[0].to)"' <<<"$(body)")"
t_check "entitled" "true active" "$(ent acct-apple)"
t_check "redelivery" true "$(post "$B1" >/dev/null; jq -r .duplicate <<<"$(body)")"
t_check "failed renewal in grace" 200 "$(post "$(notification good u-2 DID_FAIL_TO_RENEW GRACE_PERIOD $((NOW_MS - 4000)) 1000001 acct-apple $EXP)")"
t_check "grace by subtype" "true grace" "$(ent acct-apple)"
t_check "a renewal delayed past a refund" 200 "$(post "$(notification good u-3 REFUND "" $((NOW_MS - 2000)) 1000001 acct-apple $EXP)")"
t_check "late DID_RENEW" 200 "$(post "$(notification good u-4 DID_RENEW "" $((NOW_MS - 3000)) 1000001 acct-apple $EXP)")"
t_check "is stale" stale "$(jq -r .decision <<<"$(body)")"
t_check "refund holds" "false revoked" "$(ent acct-apple)"

t_check "rogue chain" 401 "$(post "$(notification rogue u-5 DID_RENEW "" "$NOW_MS" 1000001 acct-apple $EXP)")"
t_check "names it" "untrusted certificate chain: the x5c chain does not lead to a configured root" "$(jq -r .detail <<<"$(body)")"
good=$(notification good u-6 DID_RENEW "" "$NOW_MS" 1000001 acct-apple $EXP)
head=${good%%.*}
rest=${good#*.}
payload=${rest%%.*}
tampered="$head.$(printf '%s' "$payload" | tr 'A-M' 'N-Z' | head -c ${#payload}).${rest#*.}"
t_check "tampered payload" 401 "$(post "$tampered")"
t_contains "names it" "no matching signature" "$(jq -r .detail <<<"$(body)")"
t_check "not a JWS" 401 "$(post '{"signedPayload":"abc"}')"
t_contains "names it" "malformed header" "$(jq -r .detail <<<"$(body)")"
t_check "not the V2 body" 400 "$(post '{"unsigned":1}')"
t_check "still revoked" "false revoked" "$(ent acct-apple)"
stop_server TERM
t_check "server exits cleanly (no leak under ASan)" 0 "$SERVER_RC"
# refused and duplicate deliveries in the audit chain: reason, count and the notificationUUID
# read from the JWS payload when it decodes (rows per minute; summed in case the test spans two)
tally() {
    python3 - "$1/oncue.db" <<'PY'
import json, sqlite3, sys
sums = {}
for kind, acct, d in sqlite3.connect(sys.argv[1]).execute("SELECT kind, account, detail FROM billing_audit WHERE kind IN ('refused', 'duplicate') ORDER BY id"):
    d = json.loads(d)
    n, ids = sums.get(d["reason"], (0, []))
    sums[d["reason"]] = (n + d["count"], ids + d["ids"])
    assert acct == "webhooks:apple" and d["provider"] == "apple"
print("; ".join(f"{r} {n} [{' '.join(i)}]" for r, (n, i) in sorted(sums.items())))
PY
}
t_check "apple tally" "chain 1 [u-5]; duplicate 1 [u-1]; malformed 1 []; nomatch 1 []; payload 1 []" "$(tally "$D")"

start_server "$T_TMP/data2" --modules billing || exit 1
t_check "no roots configured" 503 "$(post "$B1")"
t_contains "names it" "billing.apple_root_pem is not set" "$(jq -r .detail <<<"$(body)")"
stop_server TERM
t_check "server exits cleanly (no leak under ASan)" 0 "$SERVER_RC"
t_check "no key: tallied with its id" "nokey 1 [u-1]" "$(tally "$T_TMP/data2")"
t_done
