#!/usr/bin/env bash
# The business reports over real HTTP, against numbers worked out by hand: tickets of three
# accounts (two consumer premium, one smb standard) cluster and link to an incident declared
# over POST /v1/incidents (made SEV1, acknowledged, resolved); their status changes are the
# first responses (one in time, one late, one never: overdue); billing's signed webhooks
# cancel one affected account after the declaration, one account with no ticket after it and
# one enterprise account before it. Then GET /v1/tickets/reports/{mttr,sla,incidents,churn}
# (JSON and CSV) and `oncue tickets report` say: MTTR by service, segment and tier equal to
# the incident's own resolved_at - opened_at; first-response adherence by priority; premium
# availability breached in a 1000 s window (the accounts to compensate), standard met; three
# tickets on the incident; churn per segment after the incident against the window before.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
VIEW=$(new_token "$D" viewer rp-viewer)
ING=$(new_token "$D" ingest rp-ingest)
RESP=$(new_token "$D" responder rp-responder)
SW=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
ARGS=(--modules catalog,incident,tickets,billing --set "billing.standard_secrets=$SW"
      --set "tickets.sla_targets=premium=99.95, standard=99")
start_server "$D" "${ARGS[@]}" || exit 1
# before any ticket or incident: every report answers, empty (no qsort of NULL)
for r in mttr sla incidents churn; do
    t_check "empty $r report" 200 "$(status GET "/v1/tickets/reports/$r" -H "Authorization: Bearer $VIEW")"
done
NOW=$(date +%s)
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# std ID TYPE EVENT_TIME SUB ACCOUNT: a signed Standard Webhooks event
std() {
    local ts b sig
    ts=$(date +%s)
    b="{\"type\":\"$2\",\"timestamp\":\"$3\",\"data\":{\"subscription\":\"$4\",\"account\":\"$5\",\"period_end\":\"2099-01-01T00:00:00Z\",\"regions\":[\"US\",\"EU\"]}}"
    sig=$(python3 -c 'import base64,hashlib,hmac,sys; k=base64.b64decode(sys.argv[1][6:]); print("v1,"+base64.b64encode(hmac.new(k, f"{sys.argv[2]}.{sys.argv[3]}.{sys.argv[4]}".encode(), hashlib.sha256).digest()).decode())' "$SW" "$1" "$ts" "$b")
    status POST /v1/billing/webhooks/standard -H "webhook-id: $1" -H "webhook-timestamp: $ts" \
        -H "webhook-signature: $sig" -d "$b"
}
for a in 1 2 3 5 6; do
    t_check "subscription of acc$a" 200 "$(std "act$a" subscription.activated 2026-10-01T00:00:00Z "s$a" "acc$a")"
done
t_check "acc5 cancels two days before" 200 "$(std can5 subscription.canceled "$(iso $((NOW - 2 * 86400)))" s5 acc5)"
t_check "it is a change to canceled" canceled "$(jq -r '.changes[0].to' <<<"$(body)")"

# tk ID ACCOUNT SEGMENT TIER CREATED UPDATED STATUS [SUBJECT BODY]
tk() {
    status POST '/v1/tickets?format=generic' -H "Authorization: Bearer $ING" -d "{\"id\":\"$1\",\"account\":\"$2\",\"segment\":\"$3\",\"tier\":\"$4\",\"created_at\":\"$(iso "$5")\",\"updated_at\":\"$(iso "$6")\",\"status\":\"$7\",\"region\":\"EU\",\"subject\":\"${8:-Video keeps buffering}\",\"body\":\"${9:-The video keeps buffering and freezing every few seconds}\"}"
}
t_check "t1" 201 "$(tk t1 acc1 consumer premium $((NOW - 1800)) $((NOW - 300)) new)"
t_check "the account is kept" acc1 "$(jq -r '.id' <<<"$(body)" | xargs -I{} curl -s "$BASE/v1/tickets/{}" -H "Authorization: Bearer $VIEW" | jq -r .fields.account)"
t_check "t2" 201 "$(tk t2 acc2 consumer premium $((NOW - 10800)) $((NOW - 300)) new)"
t_check "t3" 201 "$(tk t3 acc3 smb standard $((NOW - 86400)) $((NOW - 300)) new)"
t_check "t4, another matter" 201 "$(tk t4 acc5 enterprise premium "$NOW" "$NOW" new 'Charged twice' 'I was double charged, refund please')"
# first responses: t1 within its hour, t2 two hours and more after it came
t_check "t1 answered" 200 "$(tk t1 acc1 consumer premium $((NOW - 1800)) $((NOW - 120)) open)"
t_check "t2 answered late" 200 "$(tk t2 acc2 consumer premium $((NOW - 10800)) $((NOW - 60)) pending)"
t_check "a redelivery of the same status changes nothing" 200 "$(tk t3 acc3 smb standard $((NOW - 86400)) $((NOW - 200)) new)"

t_check "declare" 201 "$(status POST /v1/incidents -H "Authorization: Bearer $RESP" -H 'Content-Type: application/json' \
    -d '{"alert_id":"manual/eu-buffering","rule":"manual","metric":"rebuffer_ratio","summary":"EU buffering","slice":{"region":"EU","symptom":"buffering"}}')"
INC=$(jq -r .id <<<"$(body)")
INC=${INC#INC-}
t_check "SEV1" 200 "$(status POST "/v1/incidents/$INC/severity" -H "Authorization: Bearer $RESP" -d '{"severity":"SEV1","reason":"premium viewers"}')"
t_check "acknowledged" 200 "$(status POST "/v1/incidents/$INC/ack" -H "Authorization: Bearer $RESP" -d '{}')"
status GET "/v1/incidents/$INC" -H "Authorization: Bearer $VIEW" >/dev/null
OPENED=$(jq -r .opened_at <<<"$(body)")
t_check "acc1 (affected) cancels after" 200 "$(std can1 subscription.canceled "$(iso $((OPENED + 1)))" s1 acc1)"
t_check "acc6 (no ticket) cancels after" 200 "$(std can6 subscription.canceled "$(iso $((OPENED + 2)))" s6 acc6)"
sleep 1 # at least a second of downtime
t_check "resolved" 200 "$(status POST "/v1/incidents/$INC/resolve" -H "Authorization: Bearer $RESP" -d '{"force":true,"reason":"CDN node drained"}')"
status GET "/v1/incidents/$INC" -H "Authorization: Bearer $VIEW" >/dev/null
MTTR=$(jq -r '.resolved_at - .opened_at' <<<"$(body)")
MTTA=$(jq -r '.acknowledged_at - .opened_at' <<<"$(body)")
SVC=$(jq -r 'if .service == "" then "(unrouted)" else .service end' <<<"$(body)")
t_check "the three buffering tickets are linked" 3 "$(curl -s "$BASE/v1/tickets?incident=$INC" -H "Authorization: Bearer $VIEW" | jq '.tickets | length')"

rep() { status GET "/v1/tickets/reports/$1" -H "Authorization: Bearer $VIEW" >/dev/null; body; }

# --- MTTR ---
R=$(rep mttr)
t_check "mttr by service" "$SVC 1 1 $MTTA $MTTR" "$(jq -r '.by_service[0] | "\(.key) \(.incidents) \(.resolved) \(.mtta_s) \(.mttr_s)"' <<<"$R")"
t_check "mttr by segment" "consumer:1:$MTTR smb:1:$MTTR" "$(jq -r '[.by_segment[] | "\(.key):\(.incidents):\(.mttr_s)"] | join(" ")' <<<"$R")"
t_check "mttr by tier, premium first" "premium:1 standard:1 free:0 (no tickets):0" "$(jq -r '[.by_tier[] | "\(.key):\(.incidents)"] | join(" ")' <<<"$R")"
t_check "free has no mttr" null "$(jq -r '.by_tier[2].mttr_s' <<<"$R")"

# --- SLA ---
R=$(rep sla)
t_check "first responses by priority" "urgent:0:0:0:0:0:null high:3:1:1:0:1:0.5 normal:1:0:0:1:0:0 low:0:0:0:0:0:null" \
    "$(jq -r '[.response[] | "\(.priority):\(.tickets):\(.met):\(.late):\(.overdue):\(.pending):\(.adherence)"] | join(" ")' <<<"$R")"
t_check "over 90 days availability is met" "premium:true standard:true free:true" "$(jq -r '[.availability[] | "\(.tier):\(.met)"] | join(" ")' <<<"$R")"
status GET "/v1/tickets/reports/sla?from=$((OPENED - 500))&to=$((OPENED + 500))" -H "Authorization: Bearer $VIEW" >/dev/null
t_check "in 1000 s, premium breached, standard met" "premium:false:99.95:$MTTR:0:acc1,acc2 standard:true:99:$MTTR:10: free:true:99.5:0:5:" \
    "$(jq -r '[.availability[] | "\(.tier):\(.met):\(.target_pct):\(.downtime_s):\(.allowed_downtime_s):\(.compensate | join(","))"] | join(" ")' <<<"$(body)")"
t_check "premium availability is 100 * (1 - downtime / 1000)" yes "$(python3 -c "import sys; print('yes' if abs(float(sys.argv[1]) - 100 * (1 - $MTTR / 1000)) < 1e-9 else sys.argv[1])" "$(jq -r '.availability[0].availability_pct' <<<"$(body)")")"
t_check "the incident that spent it" "$INC" "$(jq -r '.availability[0].incidents | join(",")' <<<"$(body)")"

# --- tickets per incident ---
R=$(rep incidents)
t_check "tickets per incident" "$INC SEV1 3 0 2 1 null" "$(jq -r '.incidents[0] | "\(.incident_id) \(.severity) \(.tickets) \(.vip) \(.segments.consumer) \(.segments.smb) \(.per_1000_affected)"' <<<"$R")"

# --- churn ---
R=$(rep churn)
t_check "churn window" 30 "$(jq -r .window_days <<<"$R")"
t_check "churn per segment: affected, affected canceled after/before, canceled after/before, change" \
    "consumer:2:1:0:1:0:1 smb:1:0:0:0:0:0 enterprise:0:0:0:0:1:-1 (unknown):0:0:0:1:0:1" \
    "$(jq -r '[.incidents[0].segments[] | "\(.segment):\(.affected_accounts):\(.affected_canceled_after):\(.affected_canceled_baseline):\(.canceled_after):\(.canceled_baseline):\(.change)"] | join(" ")' <<<"$R")"
t_check "affected churn of consumers" 0.5 "$(jq -r '.incidents[0].segments[0].affected_churn_after' <<<"$R")"
t_check "the total" "consumer:1:0" "$(jq -r '.total[0] | "\(.segment):\(.canceled_after):\(.canceled_baseline)"' <<<"$R")"

# --- CSV, errors, the command line ---
t_check "csv" 200 "$(status GET "/v1/tickets/reports/churn?format=csv" -H "Authorization: Bearer $VIEW")"
t_check "csv header" "incident_id,segment,affected_accounts,affected_canceled_after,affected_canceled_baseline,canceled_after,canceled_baseline,change" "$(head -1 "$T_TMP/body" | tr -d '\r')"
t_check "csv row" "$INC,consumer,2,1,0,1,0,1" "$(sed -n 2p "$T_TMP/body" | tr -d '\r')"
t_check "csv content type" "text/csv; charset=utf-8" "$(curl -s -o /dev/null -w '%{content_type}' "$BASE/v1/tickets/reports/mttr?format=csv" -H "Authorization: Bearer $VIEW")"
t_check "no such report" 404 "$(status GET /v1/tickets/reports/nps -H "Authorization: Bearer $VIEW")"
t_check "bad from" 422 "$(status GET '/v1/tickets/reports/mttr?from=yesterday' -H "Authorization: Bearer $VIEW")"
t_contains "names the parameter" "from:" "$(jq -r .detail <<<"$(body)")"
t_check "from after to" 422 "$(status GET '/v1/tickets/reports/mttr?from=now&to=now-1h' -H "Authorization: Bearer $VIEW")"
t_check "bad format" 422 "$(status GET '/v1/tickets/reports/mttr?format=xml' -H "Authorization: Bearer $VIEW")"
t_check "needs a token" 401 "$(status GET /v1/tickets/reports/mttr)"
CLI=("$ONCUE_BIN" tickets --server "$BASE" --token "$VIEW")
t_check "cli report: CSV" "tier,premium,1,1,1,$MTTA,$MTTR" "$("${CLI[@]}" report mttr | tr -d '\r' | grep '^tier,premium')"
t_check "cli report --json" "3" "$("${CLI[@]}" report incidents --json | jq -r '.incidents[0].tickets')"
t_check "cli report --from" "0" "$("${CLI[@]}" report incidents --from now --to now+1h --json | jq -r '.incidents | length')"
"${CLI[@]}" report nps >/dev/null 2>&1
t_check "cli unknown report: exit 2" 2 "$?"
stop_server
t_done
