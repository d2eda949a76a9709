#!/usr/bin/env bash
# Reconciliation against the app stores' APIs, faked locally (python3 with the cryptography
# package, which checks every JWT oncue signs): the App Store Server API ("Get All Subscription
# Statuses", an ES256 bearer JWT from the in-app purchase key) and the Play Developer API
# (subscriptionsv2, an OAuth token obtained with the service account's RS256 assertion). oncue
# holds three Apple subscriptions from signed notifications and four Play subscriptions from
# pushes; the fakes hold one of each in the same state, one in another state, one unknown,
# and one Play purchase whose obfuscatedExternalAccountId names the platform's account.
# POST /v1/billing/reconcile {provider} finds every planted discrepancy (mismatch, extra,
# account); with repair the mismatched take the store's state and the Play subscription moves
# to the account Google names (audited, kept over a restart); a second run finds only the
# extras; a key the store refuses is a 502 naming the status.
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "openssl is not installed"; exit 1; }
python3 -c 'import cryptography' 2>/dev/null || { echo "python3-cryptography is not installed"; exit 1; }
C=$T_TMP/certs
mkdir -p "$C"
FAKE_PID=""
trap '[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null; t_cleanup' EXIT
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

chain good
# notification UUID TYPE SIGNED_MS OTID ACCOUNT EXPIRES_MS (signed by the good chain)
note() { notification good "$@"; }
notification() {
    local tx n
    tx=$(jws "$1" "{\"originalTransactionId\":\"$5\",\"transactionId\":\"t-$2\",\"appAccountToken\":\"$6\",\"expiresDate\":$7,\"bundleId\":\"com.example.tv\",\"productId\":\"tv.monthly\"}")
    n=$(jws "$1" "{\"notificationType\":\"$3\",\"notificationUUID\":\"$2\",\"version\":\"2.0\",\"signedDate\":$4,\"data\":{\"bundleId\":\"com.example.tv\",\"environment\":\"Sandbox\",\"signedTransactionInfo\":\"$tx\"}}")
    printf '{"signedPayload":"%s"}' "$n"
}

# the stores' keys: Apple's in-app purchase key (P-256, PKCS #8 as App Store Connect gives
# it), Google's service account (RSA) and its push signing key
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$C/apple-api.p8" 2>/dev/null
openssl pkey -in "$C/apple-api.p8" -pubout -out "$C/apple-api.pub" 2>/dev/null
openssl genrsa -out "$C/sa.key" 2048 2>/dev/null
openssl rsa -in "$C/sa.key" -pubout -out "$C/sa.pub" 2>/dev/null
openssl genrsa -out "$C/push.key" 2048 2>/dev/null
openssl rsa -in "$C/push.key" -pubout -out "$C/push.pub" 2>/dev/null

TOK_A=tok-a-$(printf 'a%.0s' $(seq 1 120))
TOK_B=tok-b-$(printf 'b%.0s' $(seq 1 120))
TOK_C=tok-c-$(printf 'c%.0s' $(seq 1 120))
TOK_D=tok-d-$(printf 'd%.0s' $(seq 1 120))
gp() { echo "gp-$(printf '%s' "$1" | sha256sum | cut -c1-32)"; }
NOW=$(date +%s)
EXP_MS=$(((NOW + 30 * 86400) * 1000))
EXP_RFC=$(date -u -d "@$((NOW + 30 * 86400))" +%Y-%m-%dT%H:%M:%SZ)
cat >"$T_TMP/state.json" <<JSON
{"apple": {"1000": 1, "1001": 5},
 "google": {"$TOK_A": {"subscriptionState": "SUBSCRIPTION_STATE_ACTIVE", "lineItems": [{"productId": "monthly", "expiryTime": "$EXP_RFC"}]},
            "$TOK_B": {"subscriptionState": "SUBSCRIPTION_STATE_EXPIRED", "lineItems": [{"productId": "monthly", "expiryTime": "$EXP_RFC"}]},
            "$TOK_C": {"subscriptionState": "SUBSCRIPTION_STATE_ACTIVE", "lineItems": [{"productId": "monthly", "expiryTime": "$EXP_RFC"}],
                       "externalAccountIdentifiers": {"obfuscatedExternalAccountId": "user-42"}}}}
JSON
cat >"$T_TMP/fake.py" <<'PY'
import base64, json, sys, time, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
state = json.load(open(sys.argv[1]))
apple_pub = serialization.load_pem_public_key(open(sys.argv[2], "rb").read())
sa_pub = serialization.load_pem_public_key(open(sys.argv[3], "rb").read())
seen = {"apple": 0, "google": 0, "token": 0}
def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
def jwt(t, key, alg):  # the claims of a JWT whose signature verifies under key, else None
    try:
        h, c, s = t.split(".")
        hdr, claims, sig = json.loads(b64d(h)), json.loads(b64d(c)), b64d(s)
        if hdr.get("alg") != alg:
            return None
        if alg == "ES256":
            key.verify(utils.encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")),
                       (h + "." + c).encode(), ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(sig, (h + "." + c).encode(), padding.PKCS1v15(), hashes.SHA256())
        if not claims.get("iat", 0) <= time.time() + 60 < claims.get("exp", 0) + 60:
            return None
        return hdr, claims
    except Exception:
        return None
class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def reply(self, code, body):
        b = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def bearer(self):
        a = self.headers.get("Authorization", "")
        return a[7:] if a.startswith("Bearer ") else ""
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path != "/token":
            return self.reply(404, {})
        ok = body.get("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer" and jwt(body.get("assertion", ""), sa_pub, "RS256")
        if not ok or ok[1].get("iss") != "reconcile@example.iam.gserviceaccount.com" or \
           ok[1].get("scope") != "https://www.googleapis.com/auth/androidpublisher" or not ok[1].get("aud", "").endswith("/token"):
            return self.reply(401, {"error": "invalid_grant"})
        seen["token"] += 1
        self.reply(200, {"access_token": "ya29.fake-access", "expires_in": 3599, "token_type": "Bearer"})
    def do_GET(self):
        p = urllib.parse.unquote(self.path)
        if p.startswith("/inApps/v1/subscriptions/"):
            ok = jwt(self.bearer(), apple_pub, "ES256")
            if not ok or ok[0].get("kid") != "KEY123" or ok[1].get("iss") != "issuer-uuid" or \
               ok[1].get("aud") != "appstoreconnect-v1" or ok[1].get("bid") != "com.example.tv":
                return self.reply(401, {"errorCode": 4010000})
            seen["apple"] += 1
            otid = p.rsplit("/", 1)[1]
            if otid not in state["apple"]:
                return self.reply(404, {"errorCode": 4040005, "errorMessage": "OriginalTransactionIdNotFoundError"})
            return self.reply(200, {"environment": "Sandbox", "bundleId": "com.example.tv", "data": [
                {"subscriptionGroupIdentifier": "g1", "lastTransactions": [
                    {"originalTransactionId": otid, "status": state["apple"][otid], "signedTransactionInfo": "x.y.z", "signedRenewalInfo": "x.y.z"}]}]})
        pre = "/androidpublisher/v3/applications/com.example.tv/purchases/subscriptionsv2/tokens/"
        if p.startswith(pre):
            if self.bearer() != "ya29.fake-access":
                return self.reply(401, {"error": {"code": 401}})
            seen["google"] += 1
            tok = p[len(pre):]
            if tok not in state["google"]:
                return self.reply(404, {"error": {"code": 404, "message": "The purchase token was not found."}})
            return self.reply(200, dict(kind="androidpublisher#subscriptionPurchaseV2", **state["google"][tok]))
        if p == "/seen":
            return self.reply(200, seen)
        self.reply(404, {})
s = HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[4], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
python3 "$T_TMP/fake.py" "$T_TMP/state.json" "$C/apple-api.pub" "$C/sa.pub" "$T_TMP/fake.port" &
FAKE_PID=$!
for _ in $(seq 1 100); do [ -s "$T_TMP/fake.port" ] && break; sleep 0.05; done
FAKE=http://127.0.0.1:$(cat "$T_TMP/fake.port")
python3 - "$C/sa.key" "$FAKE/token" >"$T_TMP/sa.json" <<'PY'
import json, sys
print(json.dumps({"type": "service_account", "client_email": "reconcile@example.iam.gserviceaccount.com",
                  "private_key": open(sys.argv[1]).read(), "token_uri": sys.argv[2]}))
PY

AUD=https://billing.example.com/v1/billing/webhooks/google
b64url() { python3 -c 'import base64,sys; print(base64.urlsafe_b64encode(sys.stdin.buffer.read()).decode().rstrip("="))'; }
pushjwt() {
    local h c
    h=$(printf '{"alg":"RS256","typ":"JWT"}' | b64url)
    c=$(printf '{"iss":"https://accounts.google.com","aud":"%s","iat":%s,"exp":%s}' "$AUD" "$NOW" "$((NOW + 3600))" | b64url)
    printf '%s.%s.%s' "$h" "$c" "$(printf '%s.%s' "$h" "$c" | openssl dgst -sha256 -sign "$C/push.key" | b64url)"
}
push() { # MSG_ID TOKEN
    local data
    data=$(printf '{"version":"1.0","packageName":"com.example.tv","eventTimeMillis":"%s","subscriptionNotification":{"version":"1.0","notificationType":4,"purchaseToken":"%s","subscriptionId":"monthly"}}' "$((NOW * 1000 - 5000))" "$2" | base64 -w0)
    status POST /v1/billing/webhooks/google -H "Authorization: Bearer $(pushjwt)" \
        --data-binary "{\"message\":{\"data\":\"$data\",\"messageId\":\"$1\"},\"subscription\":\"projects/p/subscriptions/play\"}"
}

D=$T_TMP/data
ADMIN=$(new_token "$D" admin stores-admin)
VIEW=$(new_token "$D" viewer stores-viewer)
ARGS=(--modules billing --set "billing.apple_root_pem=$C/good-root.pem"
      --set "billing.google_keys_pem=$C/push.pub" --set "billing.google_audience=$AUD"
      --set "billing.apple_api_url=$FAKE" --set "billing.apple_api_key_pem=$C/apple-api.p8"
      --set billing.apple_api_key_id=KEY123 --set billing.apple_api_issuer=issuer-uuid
      --set billing.apple_bundle_id=com.example.tv --set "billing.google_api_url=$FAKE"
      --set "billing.google_service_account=$T_TMP/sa.json" --set billing.google_package=com.example.tv)
start_server "$D" "${ARGS[@]}" || exit 1
apple() { status POST /v1/billing/webhooks/apple --data-binary "$(note "$@")"; }
t_check "apple 1000" 200 "$(apple u-1 SUBSCRIBED $((NOW * 1000 - 9000)) 1000 acc-a1 "$EXP_MS")"
t_check "apple 1001" 200 "$(apple u-2 SUBSCRIBED $((NOW * 1000 - 9000)) 1001 acc-a2 "$EXP_MS")"
t_check "apple 1002" 200 "$(apple u-3 SUBSCRIBED $((NOW * 1000 - 9000)) 1002 acc-a3 "$EXP_MS")"
t_check "the plan is the productId" tv.monthly "$(curl -s "$BASE/v1/billing/accounts/acc-a1" -H "Authorization: Bearer $VIEW" | jq -r '.subscriptions[0].plan')"
for x in A B C D; do
    tok=TOK_$x
    t_check "google $x" 200 "$(push "m-$x" "${!tok}")"
done
rec() { status POST /v1/billing/reconcile -H "Authorization: Bearer $ADMIN" -d "$1"; }

t_check "reconcile apple" 200 "$(rec '{"provider":"apple"}')"
R=$(body)
t_check "apple: checked" 3 "$(jq .checked <<<"$R")"
t_check "apple: mismatch" "1001 acc-a2 active revoked" "$(jq -r '.mismatch[] | "\(.subscription) \(.account) \(.oncue_state) \(.provider_state)"' <<<"$R")"
t_check "apple: extra" "1002 acc-a3" "$(jq -r '.extra[] | "\(.subscription) \(.account)"' <<<"$R")"
t_check "apple: nothing else" "0 0 0" "$(jq -r '"\(.missing | length) \(.account | length) \(.repaired)"' <<<"$R")"

t_check "reconcile google" 200 "$(rec '{"provider":"google"}')"
R=$(body)
t_check "google: checked every token" 4 "$(jq .checked <<<"$R")"
t_check "google: mismatch" "$(gp "$TOK_B") active expired" "$(jq -r '.mismatch[] | "\(.subscription) \(.oncue_state) \(.provider_state)"' <<<"$R")"
t_check "google: account" "$(gp "$TOK_C") $(gp "$TOK_C") user-42" "$(jq -r '.account[] | "\(.subscription) \(.account) \(.provider_account)"' <<<"$R")"
t_check "google: extra" "$(gp "$TOK_D")" "$(jq -r '.extra[] | .subscription' <<<"$R")"
t_check "the account view names it" "account google user-42" \
    "$(curl -s "$BASE/v1/billing/accounts/$(gp "$TOK_C")" -H "Authorization: Bearer $VIEW" | jq -r '.discrepancies[] | "\(.discrepancy) \(.provider) \(.provider_account)"')"
t_check "both reports kept" "apple google" "$(curl -s "$BASE/v1/billing/reconcile" -H "Authorization: Bearer $VIEW" | jq -r '"\(.reports.apple.provider) \(.reports.google.provider)"')"

t_check "repair google" 200 "$(rec '{"provider":"google","repair":true}')"
t_check "two repaired" 2 "$(body | jq .repaired)"
ent() { curl -s "$BASE/v1/entitlements/$1" -H "Authorization: Bearer $VIEW" | jq -j '"\(.allowed) \(.state)"'; }
t_check "B takes Google's state" "false expired" "$(ent "$(gp "$TOK_B")")"
t_check "C moved to user-42" "true active" "$(ent user-42)"
t_check "its token's hash holds nothing now" "false none" "$(ent "$(gp "$TOK_C")")"
t_check "repair apple" 200 "$(rec '{"provider":"apple","repair":true}')"
t_check "1001 revoked" "false revoked" "$(ent acc-a2)"
t_check "google again: the extra only" "0 1 0 0" "$(rec '{"provider":"google"}' >/dev/null; body | jq -j '"\(.mismatch | length) \(.extra | length) \(.account | length) \(.repaired)"')"
t_check "apple again: the extra only" "0 1" "$(rec '{"provider":"apple"}' >/dev/null; body | jq -j '"\(.mismatch | length) \(.extra | length)"')"
t_check "a later push for C stays with user-42" 200 "$(push m-C2 "$TOK_C")"
t_check "user-42 still holds it" "true active" "$(ent user-42)"
t_check "the fakes saw signed requests" 1 "$(curl -s "$FAKE/seen" | jq '(.apple >= 9 and .google >= 12 and .token >= 3) | if . then 1 else 0 end')"
t_check "unknown provider" 422 "$(rec '{"provider":"paypal"}')"
stop_server TERM
t_check "server exits cleanly" 0 "$SERVER_RC"
t_check "audit verify" 0 "$("$ONCUE_BIN" billing audit verify --data "$D" >/dev/null; echo $?)"
t_contains "show lists the move" "reconcile: google names account user-42 (active)" "$("$ONCUE_BIN" billing show user-42 --data "$D")"

# the move is kept over a restart; a key the store refuses is a failed run, not a report
start_server "$D" "${ARGS[@]}" --set billing.apple_api_key_id=WRONG || exit 1
t_check "after a restart: still user-42's" "true active" "$(ent user-42)"
t_check "a refused key: 502" 502 "$(rec '{"provider":"apple"}')"
t_contains "names the status" "status 401" "$(body | jq -r .detail)"
stop_server TERM
start_server "$D" --modules billing || exit 1
t_check "not configured: 503" 503 "$(rec '{"provider":"google"}')"
t_contains "names the settings" "billing.google_service_account" "$(body | jq -r .detail)"
stop_server TERM
t_done
