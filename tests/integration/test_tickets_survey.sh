#!/usr/bin/env bash
# The post-incident survey and MTTR by release over real HTTP. Tickets of three accounts (acc1
# twice) and one without an account link to an incident declared over POST /v1/incidents;
# a deploy of playback-api 4.2.1 was recorded (POST /v1/changes) ten minutes before. When the
# SEV2 incident resolves, one survey request per affected account (acc1, acc2, acc3: three,
# not four) is POSTed to tickets.survey_url (a python3 receiver) with the survey token, in the
# {customer_id, delay, send, survey, survey_id, properties} shape; a second incident over the
# accounts asks only the one not asked yet (tickets.survey_cooldown_days), a SEV3 asks nobody
# (tickets.survey_severities). The MTTR report groups both SEV incidents under the release
# they follow: playback-api@4.2.1, with the change's id, in JSON and CSV.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
VIEW=$(new_token "$D" viewer sv-viewer)
ING=$(new_token "$D" ingest sv-ingest)
RESP=$(new_token "$D" responder sv-responder)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$PORT" "$T_TMP/surveys" <<'PY' &
import http.server, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with open(out, "ab") as f:
            f.write(self.path.encode() + b" " + self.headers.get("Authorization", "").encode() + b" " + body + b"\n")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
RCV_PID=$!
trap 'kill $RCV_PID 2>/dev/null; t_cleanup' EXIT
ARGS=(--modules catalog,incident,tickets,rca --set "tickets.survey_url=http://127.0.0.1:$PORT/v1/people.json"
      --set "tickets.survey_token=survey-tok" --set "tickets.survey_kind=nps"
      --set "tickets.survey_delay_s=600" --set "tickets.outbound_allow=127.0.0.1/32")
start_server "$D" "${ARGS[@]}" || exit 1
NOW=$(date +%s)
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

t_check "a deploy" 201 "$(status POST /v1/changes -H "Authorization: Bearer $RESP" \
    -d "{\"service\":\"playback-api\",\"kind\":\"deploy\",\"description\":\"player API 4.2.1\",\"version\":\"4.2.1\",\"time\":$((NOW - 600))}")"
CHG=$(jq -r .id <<<"$(body)")
t_check "an older config change elsewhere" 201 "$(status POST /v1/changes -H "Authorization: Bearer $RESP" \
    -d "{\"service\":\"billing\",\"kind\":\"config\",\"description\":\"retry policy\",\"time\":$((NOW - 5000))}")"

# tk ID ACCOUNT SEGMENT TIER
tk() {
    status POST '/v1/tickets?format=generic' -H "Authorization: Bearer $ING" -d "{\"id\":\"$1\",\"account\":\"$2\",\"segment\":\"$3\",\"tier\":\"$4\",\"updated_at\":\"$(iso $((NOW - 60)))\",\"region\":\"EU\",\"subject\":\"Video keeps buffering\",\"body\":\"The video keeps buffering and freezing every few seconds\"}"
}
t_check "t1" 201 "$(tk t1 acc1 consumer premium)"
t_check "t2" 201 "$(tk t2 acc2 consumer standard)"
t_check "t3" 201 "$(tk t3 acc3 smb free)"
t_check "t4, acc1 again" 201 "$(tk t4 acc1 consumer premium)"
t_check "t5, no account" 201 "$(tk t5 '' consumer standard)"

# declare SEV: opens an EU buffering incident of severity SEV, prints its number
declare_inc() {
    status POST /v1/incidents -H "Authorization: Bearer $RESP" -H 'Content-Type: application/json' \
        -d "{\"alert_id\":\"manual/eu-buffering-$1\",\"rule\":\"manual\",\"metric\":\"rebuffer_ratio\",\"summary\":\"EU buffering $1\",\"slice\":{\"region\":\"EU\",\"symptom\":\"buffering\"}}" >/dev/null
    local id
    id=$(jq -r .id <<<"$(body)")
    id=${id#INC-}
    status POST "/v1/incidents/$id/severity" -H "Authorization: Bearer $RESP" -d "{\"severity\":\"$2\",\"reason\":\"test\"}" >/dev/null
    echo "$id"
}
resolve() { status POST "/v1/incidents/$1/resolve" -H "Authorization: Bearer $RESP" -d '{"force":true,"reason":"fixed"}'; }
# wait_lines N: waits (10 s at most) until the receiver has N requests
wait_lines() {
    for _ in $(seq 1 100); do
        [ "$(cat "$T_TMP/surveys" 2>/dev/null | wc -l)" -ge "$1" ] && break
        sleep 0.1
    done
    cat "$T_TMP/surveys" 2>/dev/null | wc -l
}

INC=$(declare_inc one SEV2)
t_check "the five tickets are linked" 5 "$(curl -s "$BASE/v1/tickets?incident=$INC" -H "Authorization: Bearer $VIEW" | jq '.tickets | length')"
t_check "no survey while it is open" 0 "$(cat "$T_TMP/surveys" 2>/dev/null | wc -l)"
t_check "resolved" 200 "$(resolve "$INC")"
t_check "one request per affected account" 3 "$(wait_lines 3)"
sleep 0.5
t_check "and no more" 3 "$(wc -l <"$T_TMP/surveys")"
t_check "to the survey URL with its token" "/v1/people.json Bearer survey-tok" "$(head -1 "$T_TMP/surveys" | cut -d' ' -f1-3)"
REQS=$(cut -d' ' -f4- "$T_TMP/surveys")
t_check "the accounts" "acc1 acc2 acc3" "$(jq -r .customer_id <<<"$REQS" | sort | xargs)"
A1=$(jq -c "select(.customer_id == \"acc1\")" <<<"$REQS")
t_check "the request's shape" "600 true nps INC-$INC:acc1" "$(jq -r '"\(.delay) \(.send) \(.survey) \(.survey_id)"' <<<"$A1")"
t_check "its properties" "acc1 INC-$INC SEV2 consumer premium" "$(jq -r '.properties | "\(.customer_id) \(.incident_id) \(.severity) \(.segment) \(.tier)"' <<<"$A1")"
t_contains "the resolution time" "Z" "$(jq -r .properties.resolved_at <<<"$A1")"
status GET "/v1/tickets/clusters" -H "Authorization: Bearer $VIEW" >/dev/null
t_check "the outbox counts them apart" "3 3 0" "$(jq -r '.outbox.surveys | "\(.queued) \(.delivered) \(.pending)"' <<<"$(body)")"
t_check "no relations without tickets.sync_url" 0 "$(jq -r '.outbox.queued' <<<"$(body)")"
t_contains "metrics" "oncue_tickets_surveys_queued_total 3" "$(curl -s "$BASE/metrics" -H "Authorization: Bearer $VIEW")"

# a second incident (US login failures) of acc1, acc2 and acc4: within the cooldown only acc4
# is asked; a SEV3 (APAC payments, acc5) asks nobody
# tg ID ACCOUNT REGION SUBJECT BODY
tg() {
    status POST '/v1/tickets?format=generic' -H "Authorization: Bearer $ING" -d "{\"id\":\"$1\",\"account\":\"$2\",\"segment\":\"consumer\",\"tier\":\"standard\",\"updated_at\":\"$(iso $((NOW - 30)))\",\"region\":\"$3\",\"subject\":\"$4\",\"body\":\"$5\"}"
}
for a in 1 2 4; do
    t_check "login ticket of acc$a" 201 "$(tg "l$a" "acc$a" US 'Cannot sign in' 'Login fails, my password is rejected every time')"
done
for i in 1 2 3; do
    t_check "payment ticket $i of acc5" 201 "$(tg "p$i" acc5 APAC 'Charged twice' 'I was double charged for my payment, refund please')"
done
declare_slice() { # NAME SEV REGION SYMPTOM
    status POST /v1/incidents -H "Authorization: Bearer $RESP" -H 'Content-Type: application/json' \
        -d "{\"alert_id\":\"manual/$1\",\"rule\":\"manual\",\"metric\":\"errors\",\"summary\":\"$1\",\"slice\":{\"region\":\"$3\",\"symptom\":\"$4\"}}" >/dev/null
    local id
    id=$(jq -r .id <<<"$(body)")
    id=${id#INC-}
    status POST "/v1/incidents/$id/severity" -H "Authorization: Bearer $RESP" -d "{\"severity\":\"$2\",\"reason\":\"test\"}" >/dev/null
    echo "$id"
}
INC2=$(declare_slice us-login SEV1 US login)
t_check "the login tickets are linked to it" 3 "$(curl -s "$BASE/v1/tickets?incident=$INC2" -H "Authorization: Bearer $VIEW" | jq '.tickets | length')"
t_check "resolved two" 200 "$(resolve "$INC2")"
t_check "only acc4 is asked" 4 "$(wait_lines 4)"
t_check "acc4, about the second incident" "acc4 INC-$INC2 SEV1" "$(tail -1 "$T_TMP/surveys" | cut -d' ' -f4- | jq -r '"\(.customer_id) \(.properties.incident_id) \(.properties.severity)"')"
t_contains "the cooldown is logged" "INC-$INC2 resolved: 1 survey requests queued, 2 accounts asked already" "$(cat "$T_TMP/server.log")"
INC3=$(declare_slice apac-payments SEV3 APAC payment)
t_check "the payment tickets are linked to the SEV3" 3 "$(curl -s "$BASE/v1/tickets?incident=$INC3" -H "Authorization: Bearer $VIEW" | jq '.tickets | length')"
t_check "resolved three (SEV3)" 200 "$(resolve "$INC3")"
sleep 1.5
t_check "no survey for a SEV3" 4 "$(wc -l <"$T_TMP/surveys")"

# --- MTTR by release ---
status GET /v1/tickets/reports/mttr -H "Authorization: Bearer $VIEW" >/dev/null
R=$(body)
MEAN=$(for i in "$INC" "$INC2" "$INC3"; do curl -s "$BASE/v1/incidents/$i" -H "Authorization: Bearer $VIEW" | jq '.resolved_at - .opened_at'; done | jq -s 'add / length')
t_check "all three follow the deploy" "playback-api@4.2.1 3 3 [$CHG]" "$(jq -c -r '.by_release[0] | "\(.key) \(.incidents) \(.resolved) \(.changes)"' <<<"$R")"
t_check "one release" 1 "$(jq -r '.by_release | length' <<<"$R")"
t_check "its mttr is the incidents' mean" true "$(jq -r "(.by_release[0].mttr_s - $MEAN) | fabs < 1e-9" <<<"$R")"
t_check "csv release row" "release,playback-api@4.2.1,3,0,3" "$(curl -s "$BASE/v1/tickets/reports/mttr?format=csv" -H "Authorization: Bearer $VIEW" | tr -d '\r' | grep '^release,' | cut -d, -f1-5)"
stop_server
t_done
