#!/usr/bin/env bash
# Reconciliation against a local fake of Stripe's API (python3, two subscriptions a page): the
# server holds three Stripe subscriptions from signed webhooks; the fake provider holds one of
# them in the same state, one in another state, one oncue never heard of, and not the third.
# POST /v1/billing/reconcile finds each planted discrepancy (missing, extra, mismatch); with
# repair the missing and mismatched ones take the provider's state (audited: the chain still
# verifies, `oncue billing show` lists the repair; before it, the account view and `oncue
# billing show --target` list each account's discrepancy), and a second run finds only the extra one,
# as does the scheduled run (billing.reconcile_interval_s), whose report GET shows.
. "$(dirname "$0")/lib.sh"
KEY=rk_test_oncue_reconcile
STRIPE=whsec_test_secret
FAKE_PID=""
trap '[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null; t_cleanup' EXIT
END=4070908800
cat >"$T_TMP/subs.json" <<JSON
[{"id": "sub_ok", "object": "subscription", "customer": "cus_ok", "status": "active", "current_period_end": $END},
 {"id": "sub_mis", "object": "subscription", "customer": "cus_mis", "status": "past_due", "current_period_end": $END},
 {"id": "sub_new", "object": "subscription", "customer": "cus_new", "status": "trialing", "current_period_end": $END}]
JSON
cat >"$T_TMP/fake.py" <<'PY'
import json, sys, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
subs = json.load(open(sys.argv[1]))
key = sys.argv[2]
class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        if self.headers.get("Authorization") != "Bearer " + key:
            code, body = 401, {"error": {"message": "bad key"}}
        elif u.path != "/v1/subscriptions" or q.get("status") != ["all"]:
            code, body = 404, {"error": {"message": "no such route"}}
        else:
            after = q.get("starting_after", [None])[0]
            i = 0 if after is None else [s["id"] for s in subs].index(after) + 1
            code, body = 200, {"object": "list", "data": subs[i:i + 2], "has_more": i + 2 < len(subs)}
        b = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
s = HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[3], "w").write(str(s.server_address[1]))
s.serve_forever()
PY
python3 "$T_TMP/fake.py" "$T_TMP/subs.json" "$KEY" "$T_TMP/fake.port" &
FAKE_PID=$!
for _ in $(seq 1 100); do [ -s "$T_TMP/fake.port" ] && break; sleep 0.05; done
FAKE=http://127.0.0.1:$(cat "$T_TMP/fake.port")

D=$T_TMP/data
ADMIN=$(new_token "$D" admin reconcile-admin)
VIEW=$(new_token "$D" viewer reconcile-viewer)
start_server "$D" --modules billing --set "billing.stripe_secrets=$STRIPE" \
    --set "billing.stripe_api_url=$FAKE" --set "billing.stripe_api_key=$KEY" || exit 1
NOW=$(date +%s)
stp() { # ID SUB CUSTOMER STATUS: a signed customer.subscription.updated
    local b="{\"id\":\"$1\",\"object\":\"event\",\"type\":\"customer.subscription.updated\",\"created\":$((NOW - 60)),\"data\":{\"object\":{\"id\":\"$2\",\"object\":\"subscription\",\"customer\":\"$3\",\"status\":\"$4\",\"current_period_end\":$END}}}"
    local sig
    sig=$(python3 -c 'import hmac,hashlib,sys; print("t=%s,v1=%s" % (sys.argv[2], hmac.new(sys.argv[1].encode(), (sys.argv[2] + "." + sys.argv[3]).encode(), hashlib.sha256).hexdigest()))' "$STRIPE" "$NOW" "$b")
    status POST /v1/billing/webhooks/stripe -H "Stripe-Signature: $sig" -d "$b"
}
t_check "sub_ok" 200 "$(stp evt_1 sub_ok cus_ok active)"
t_check "sub_mis" 200 "$(stp evt_2 sub_mis cus_mis active)"
t_check "sub_extra" 200 "$(stp evt_3 sub_extra cus_extra active)"
rec() { status POST /v1/billing/reconcile -H "Authorization: Bearer $ADMIN" -d "$1"; }

t_check "reconcile" 200 "$(rec '{}')"
R=$(body)
t_check "checked every page" 3 "$(jq .checked <<<"$R")"
t_check "missing" "sub_new cus_new trialing" "$(jq -r '.missing[] | "\(.subscription) \(.account) \(.provider_state)"' <<<"$R")"
t_check "extra" "sub_extra active" "$(jq -r '.extra[] | "\(.subscription) \(.oncue_state)"' <<<"$R")"
t_check "mismatch" "sub_mis active past_due" "$(jq -r '.mismatch[] | "\(.subscription) \(.oncue_state) \(.provider_state)"' <<<"$R")"
t_check "nothing repaired" 0 "$(jq .repaired <<<"$R")"
t_check "still active" active "$(curl -s "$BASE/v1/entitlements/cus_mis" -H "Authorization: Bearer $VIEW" | jq -r .state)"

t_check "account view" 200 "$(status GET /v1/billing/accounts/cus_mis -H "Authorization: Bearer $VIEW")"
t_check "the account view lists its discrepancy" "mismatch sub_mis active past_due" \
    "$(jq -r '.discrepancies[] | "\(.discrepancy) \(.subscription) \(.oncue_state) \(.provider_state)"' <<<"$(body)")"
t_check "an account without one lists none" 0 "$(curl -s "$BASE/v1/billing/accounts/cus_ok" -H "Authorization: Bearer $VIEW" | jq '.discrepancies | length')"
t_contains "show --target prints it" "discrepancy mismatch: subscription sub_mis, oncue active, provider past_due" \
    "$("$ONCUE_BIN" billing show cus_mis --target "$BASE" --token "$VIEW")"
t_contains "show --target: a missing one" "discrepancy missing: subscription sub_new, oncue -, provider trialing" \
    "$("$ONCUE_BIN" billing show cus_new --target "$BASE" --token "$VIEW")"
t_check "repair" 200 "$(rec '{"repair": true}')"
t_check "two repaired" 2 "$(jq .repaired <<<"$(body)")"
t_check "mismatch repaired" "past_due" "$(curl -s "$BASE/v1/entitlements/cus_mis" -H "Authorization: Bearer $VIEW" | jq -r .state)"
t_check "missing repaired" "true trialing" "$(curl -s "$BASE/v1/entitlements/cus_new" -H "Authorization: Bearer $VIEW" | jq -r '"\(.allowed) \(.state)"')"
t_check "reconcile again" 200 "$(rec '{}')"
t_check "only the extra one is left" "0 1 0" "$(jq -r '"\(.missing | length) \(.extra | length) \(.mismatch | length)"' <<<"$(body)")"
t_check "viewer may not" 403 "$(status POST /v1/billing/reconcile -H "Authorization: Bearer $VIEW" -d '{}')"
t_check "bad repair flag" 422 "$(rec '{"repair": "yes"}')"
stop_server TERM
t_check "server exits cleanly (no leak under ASan)" 0 "$SERVER_RC"
t_check "audit verify" 0 "$("$ONCUE_BIN" billing audit verify --data "$D" >/dev/null; echo $?)"
t_contains "show lists the repair" '"action":"repair"' "$("$ONCUE_BIN" billing show cus_mis --data "$D")"

# a wrong key is a failed reconciliation, not an empty report
start_server "$D" --modules billing --set "billing.stripe_api_url=$FAKE" \
    --set "billing.stripe_api_key=rk_wrong" || exit 1
t_check "wrong key" 502 "$(rec '{}')"
t_contains "names it" "status 401" "$(jq -r .detail <<<"$(body)")"
t_contains "the failure is kept" "status 401" "$(curl -s "$BASE/v1/billing/reconcile" -H "Authorization: Bearer $VIEW" | jq -r .error)"
stop_server TERM

# on a schedule: the first run starts within a second of the start
start_server "$D" --modules billing --set "billing.stripe_api_url=$FAKE" \
    --set "billing.stripe_api_key=$KEY" --set billing.reconcile_interval_s=3600 || exit 1
for _ in $(seq 1 100); do
    last=$(curl -s "$BASE/v1/billing/reconcile" -H "Authorization: Bearer $VIEW")
    [ "$(jq -r '.report != null' <<<"$last")" = true ] && break
    sleep 0.05
done
t_check "scheduled report" "3 0 1 0" "$(jq -r '.report | "\(.checked) \(.missing | length) \(.extra | length) \(.mismatch | length)"' <<<"$last")"
stop_server TERM
t_check "server exits cleanly after a scheduled run" 0 "$SERVER_RC"
t_done
