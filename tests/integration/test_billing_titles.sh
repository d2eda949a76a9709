#!/usr/bin/env bash
# Title-level rights in the entitlement check: catalog titles (POST /v1/titles, the search
# module) carry the regions they may be played in and the plans (entitlements) that may play
# them; subscriptions carry their plan from their events. GET /v1/entitlements/A?title=T&region=R
# refuses a title the catalog does not hold, a title outside its regions, and a title whose
# plans the account's subscriptions are not on, naming why; allows it otherwise. A catalog
# change applies to the next check (from memory); the plan survives a restart; without the
# search module titles are not checked (title_checked false).
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
VIEW=$(new_token "$D" viewer titles-viewer)
ADMIN=$(new_token "$D" admin titles-admin)
SW=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
ARGS=(--set "billing.standard_secrets=$SW")
start_server "$D" --modules billing,search "${ARGS[@]}" || exit 1
NOW=$(date +%s)
sign() {
    python3 - "$@" <<'PY'
import base64, hashlib, hmac, sys
sec, mid, ts, body = sys.argv[1:5]
mac = hmac.new(base64.b64decode(sec[6:]), f"{mid}.{ts}.{body}".encode(), hashlib.sha256).digest()
print("v1," + base64.b64encode(mac).decode())
PY
}
std() { # ID SUB ACCOUNT PLAN REGIONS-JSON
    local b="{\"type\":\"subscription.activated\",\"timestamp\":\"2026-12-01T10:00:00Z\",\"data\":{\"subscription\":\"$2\",\"account\":\"$3\",\"plan\":\"$4\",\"regions\":$5,\"period_end\":\"2099-01-01T00:00:00Z\"}}"
    status POST /v1/billing/webhooks/standard -H "webhook-id: $1" -H "webhook-timestamp: $NOW" \
        -H "webhook-signature: $(sign "$SW" "$1" "$NOW" "$b")" -d "$b"
}
titles() { status POST /v1/titles -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' -d "$1"; }
chk() { curl -s "$BASE/v1/entitlements/$1?title=$2&region=$3" -H "Authorization: Bearer $VIEW"; }
v() { chk "$@" | jq -j '"\(.allowed) \(.state) \(.reason)"'; }

t_check "titles" 200 "$(titles '[{"id":"t-any","title":"Anywhere"},
  {"id":"t-us","title":"Only US","regions":["US"]},
  {"id":"t-prem","title":"Premium","entitlements":["premium"]},
  {"id":"t-odd","title":"Odd","regions":["U\"S\\x"]}]')"
t_check "a1 on basic in US, CA" 200 "$(std e1 s1 a1 basic '["US","CA"]')"
t_check "a2 on premium everywhere" 200 "$(std e2 s2 a2 premium '[]')"
t_check "a title anywhere" "true active subscription s1 is active" "$(v a1 t-any US)"
t_check "checked against the catalog" true "$(chk a1 t-any US | jq .title_checked)"
t_check "a title outside its regions" "false active title t-us is not available in region FR (its regions: US)" "$(v a2 t-us FR)"
t_check "a title in its region" "true active subscription s1 is active" "$(v a1 t-us US)"
t_check "a plan the title does not list" "false active title t-prem needs plan premium; s1 is on basic" "$(v a1 t-prem US)"
t_check "the plan it lists" "true active subscription s2 is active; title t-prem is in plan premium" "$(v a2 t-prem FR)"
t_check "a title the catalog does not hold" "false active title nosuch is not in the catalog" "$(v a1 nosuch US)"
t_check "the account's region still applies" "false active region FR is not in the plan of s1 (US,CA)" "$(v a1 t-any FR)"
t_check "an unknown account" "false none no subscription" "$(v nobody t-any US)"
t_check "odd catalog text is escaped JSON" 'false title t-odd is not available in region FR (its regions: U"S\x)' \
    "$(chk a1 t-odd FR | jq -j '"\(.allowed) \(.reason)"')"
t_check "no title: the account alone" "true active" "$(curl -s "$BASE/v1/entitlements/a1?region=US" -H "Authorization: Bearer $VIEW" | jq -j '"\(.allowed) \(.state)"')"

# a catalog change applies to the next check
t_check "t-prem opens to basic" 200 "$(titles '[{"id":"t-prem","title":"Premium","entitlements":["basic","premium"]}]')"
t_check "now allowed" "true active subscription s1 is active; title t-prem is in plan basic" "$(v a1 t-prem US)"
t_check "delete t-us" 200 "$(status DELETE /v1/titles/t-us -H "Authorization: Bearer $ADMIN")"
t_check "a deleted title" "false active title t-us is not in the catalog" "$(v a1 t-us US)"
t_check "the plan is shown" basic "$(curl -s "$BASE/v1/billing/accounts/a1" -H "Authorization: Bearer $VIEW" | jq -r '.subscriptions[0].plan')"
stop_server TERM

start_server "$D" --modules billing,search "${ARGS[@]}" || exit 1
t_check "after a restart: the plan is kept" "false active title t-prem needs plan premium; s1 is on basic" \
    "$(titles '[{"id":"t-prem","title":"Premium","entitlements":["premium"]}]' >/dev/null; v a1 t-prem US)"
stop_server TERM
start_server "$D" --modules billing "${ARGS[@]}" || exit 1
t_check "without the search module: not checked" "true false" "$(chk a1 nosuch US | jq -j '"\(.allowed) \(.title_checked)"')"
stop_server TERM
t_check "server exits cleanly" 0 "$SERVER_RC"
t_done
