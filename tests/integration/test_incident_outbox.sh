#!/usr/bin/env bash
# The incident API and the durable outbox with the real binary: declare incidents over HTTP,
# act on them with `oncue incident`, read the public status page; then queue notifications
# while the receiver is down, kill -9 the server, start the receiver, restart the server: the
# pending messages keep their due times and attempts (nothing sent before it is due); once
# due, every queued notification arrives exactly once with a valid Standard Webhooks
# signature. The receiver is a small python3 script on 127.0.0.1.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
ADMIN=$(new_token "$D" admin it-admin)
RESP=$(new_token "$D" responder it-resp)
VIEW=$(new_token "$D" viewer it-view)

cat > "$T_TMP/recv.py" <<'PY'
import base64, hashlib, hmac, http.server, socket, sys
port, secret, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
key = base64.b64decode(secret[len("whsec_"):])
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        mid, ts = self.headers.get("webhook-id", ""), self.headers.get("webhook-timestamp", "")
        want = "v1," + base64.b64encode(hmac.new(key, f"{mid}.{ts}.".encode() + body,
                                                 hashlib.sha256).digest()).decode()
        ok = want in self.headers.get("webhook-signature", "").split(" ")
        with open(log, "a") as f:
            f.write(f"{mid} {'valid' if ok else 'INVALID'}\n")
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
class S(http.server.HTTPServer):
    allow_reuse_address = True
s = S(("127.0.0.1", port), H)
if port == 0:
    print(s.server_address[1], flush=True); sys.exit(0)
s.serve_forever()
PY
RPORT=$(python3 "$T_TMP/recv.py" 0 "$SECRET" /dev/null)
cat > "$T_TMP/hooks.yaml" <<EOF2
- name: it-webhook
  kind: webhook
  url: http://127.0.0.1:$RPORT/hook
  secret: $SECRET
EOF2
start_server "$D" --set incident.outbound_allow=127.0.0.1 --set incident.webhooks_file="$T_TMP/hooks.yaml" || exit 1

declare_inc() {
    status POST /v1/incidents -H "Authorization: Bearer $RESP" \
        -d "{\"alert_id\": \"$1\", \"metric\": \"rebuffering_share\", \"slice\": {\"region\": \"$2\"}, \"value\": 0.08, \"threshold\": 0.05, \"op\": \">\", \"level\": \"page\", \"summary\": \"rebuffering in $2\"}"
}
t_check "declare needs responder" 403 "$(status POST /v1/incidents -H "Authorization: Bearer $VIEW" -d '{}')"
t_check "declare INC-1" 201 "$(declare_inc reb/EMEA EMEA)"
t_contains "INC-1 id" '"incident_id": "INC-1"' "$(body | sed 's/":"/": "/g')"
t_check "declare INC-2" 201 "$(declare_inc reb/APAC APAC)"
t_check "same region joins INC-1" 201 "$(declare_inc vsf/EMEA EMEA)"
t_contains "joined" '"incident_id": "INC-1"' "$(body | sed 's/":"/": "/g')"

export ONCUE_SERVER=$BASE ONCUE_TOKEN=$RESP
t_check "cli list" 2 "$("$ONCUE_BIN" incident list | grep -c INC-)"
t_check "cli ack" 0 "$("$ONCUE_BIN" incident ack INC-1 >/dev/null; echo $?)"
t_check "cli ack twice conflicts" 1 "$("$ONCUE_BIN" incident ack INC-1 2>/dev/null >/dev/null; echo $?)"
"$ONCUE_BIN" incident role INC-1 comms erin >/dev/null
"$ONCUE_BIN" incident note INC-1 FRA cache hit ratio is 12% >/dev/null
t_check "cli status" 0 "$("$ONCUE_BIN" incident status INC-1 identified Viewers in Europe see buffering. >/dev/null; echo $?)"
t_check "severity override" 200 "$(status POST /v1/incidents/INC-1/severity -H "Authorization: Bearer $RESP" -d '{"severity": "SEV1", "reason": "the whole of Europe"}')"
t_contains "now SEV1" '"severity":"SEV1"' "$(body)"
t_check "bad severity 422" 422 "$(status POST /v1/incidents/INC-1/severity -H "Authorization: Bearer $RESP" -d '{"severity": "SEV9", "reason": "x"}')"
t_check "follow-up item" 200 "$(status POST /v1/incidents/INC-1/followups -H "Authorization: Bearer $RESP" -d '{"title": "Cache-fill alarm for FRA", "due_hours": 48}')"
t_contains "follow-up listed" '"title":"Cache-fill alarm for FRA"' "$(body)"
t_check "resolve refused before recovery" 1 "$("$ONCUE_BIN" incident resolve INC-2 2>/dev/null >/dev/null; echo $?)"
t_check "forced resolve without reason" 1 "$("$ONCUE_BIN" incident resolve INC-2 --force 2>/dev/null >/dev/null; echo $?)"
t_check "forced resolve with reason" 0 "$("$ONCUE_BIN" incident resolve INC-2 --force --reason "synthetic probe" >/dev/null; echo $?)"
show=$("$ONCUE_BIN" incident show INC-1)
t_contains "show has the note" "FRA cache hit ratio is 12%" "$show"
t_contains "show has the ack" "acknowledged by it-resp" "$show"
t_check "public status.json without a token" 200 "$(status GET /status.json)"
t_contains "status.json update" "Viewers in Europe see buffering." "$(body)"
t_check "public status page" 200 "$(status GET /status)"
t_contains "status page html" "<!doctype html>" "$(body)"
"$ONCUE_BIN" incident review INC-2 --output "$T_TMP/review.md"
t_contains "review written" "# Post-incident review: INC-2" "$(cat "$T_TMP/review.md")"
t_check "reports" 200 "$(status GET /v1/reports/incidents -H "Authorization: Bearer $VIEW")"

# A webhook URL is a credential: a viewer sees it cut after its host, an admin in full
status GET /v1/notifications -H "Authorization: Bearer $ADMIN" >/dev/null
t_check "admin sees the endpoint's URL" "http://127.0.0.1:$RPORT/hook" "$(body | jq -r '.endpoints[0].url')"
status GET /v1/notifications -H "Authorization: Bearer $VIEW" >/dev/null
t_check "a viewer sees it cut after the host" "http://127.0.0.1:$RPORT/…" "$(body | jq -r '.endpoints[0].url')"

# The receiver is down: everything queued so far stays pending. kill -9, then restart.
status GET /v1/notifications -H "Authorization: Bearer $VIEW" >/dev/null
queued=$(body | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["messages"]))')
delivered=$(body | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["delivered"])')
echo "queued before kill -9: $queued"
t_check "some notifications queued" 1 "$([ "$queued" -ge 5 ] && echo 1 || echo 0)"
t_check "none delivered while the receiver is down" 0 "$delivered"
stop_server KILL
db() { python3 -c "import sqlite3,sys; c=sqlite3.connect('$D/oncue.db'); r=c.execute(sys.argv[1]).fetchall(); c.commit(); print('\n'.join(' '.join(map(str,x)) for x in r))" "$1"; }
python3 "$T_TMP/recv.py" "$RPORT" "$SECRET" "$T_TMP/got.log" &
RECV_PID=$!
for i in $(seq 1 100); do # the receiver must listen before the server retries
    curl -s -o /dev/null -X POST "http://127.0.0.1:$RPORT/probe" -d '' && break
    sleep 0.05
done
: > "$T_TMP/got.log"
# A restart keeps each pending message's due time and attempts: messages waiting out their
# retry schedule (here: ten minutes, as after a Retry-After) are not sent at start
db "UPDATE incident_outbox SET next_s = CAST(strftime('%s', 'now') AS INTEGER) + 600 WHERE state = 'pending'" >/dev/null
kept=$(db "SELECT id, attempts, next_s FROM incident_outbox WHERE state = 'pending' ORDER BY id")
start_server "$D" --set incident.outbound_allow=127.0.0.1 --set incident.webhooks_file="$T_TMP/hooks.yaml" || { kill $RECV_PID; exit 1; }
sleep 2 # two rounds of the delivery thread
t_check "nothing sent at restart while the messages wait" 0 "$(grep -c . "$T_TMP/got.log")"
t_check "... their due times and attempts kept" "$kept" "$(db "SELECT id, attempts, next_s FROM incident_outbox WHERE state = 'pending' ORDER BY id")"
# their waits pass while the server is down: each is sent once after the restart
stop_server
db "UPDATE incident_outbox SET next_s = 0 WHERE state = 'pending'" >/dev/null
start_server "$D" --set incident.outbound_allow=127.0.0.1 --set incident.webhooks_file="$T_TMP/hooks.yaml" || { kill $RECV_PID; exit 1; }
for i in $(seq 1 100); do
    n=$(grep -c . "$T_TMP/got.log" 2>/dev/null || echo 0)
    [ "$n" -ge "$queued" ] && break
    sleep 0.1
done
sleep 0.3
kill "$RECV_PID" 2>/dev/null
t_check "every queued notification delivered after kill -9" "$queued" "$(grep -c . "$T_TMP/got.log")"
t_check "each delivered once" "$queued" "$(cut -d' ' -f1 "$T_TMP/got.log" | sort -u | grep -c .)"
t_check "every signature valid" 0 "$(grep -c INVALID "$T_TMP/got.log")"
status GET /v1/notifications -H "Authorization: Bearer $VIEW" >/dev/null
t_check "outbox drained" "0 $queued" "$(body | python3 -c 'import json,sys; c=json.load(sys.stdin)["counts"]; print(c["pending"], c["delivered"])')"
# The receivers' answers are for admins: a viewer sees each message's state and number of
# attempts, not the status codes or errors of the attempts
t_check "a viewer sees no status codes or attempt log" "delivered true null null" \
    "$(body | jq -r '.messages[0] | "\(.state) \(.attempts >= 1) \(.last_status) \(.attempt_log)"')"
t_check "a viewer's answer has no status anywhere" 0 "$(body | grep -c -e '"status"' -e '"last_status"' -e '"error"')"
status GET /v1/notifications -H "Authorization: Bearer $ADMIN" >/dev/null
t_check "an admin sees the last status and every attempt" "delivered 200 true 200" \
    "$(body | jq -r '.messages[0] | "\(.state) \(.last_status) \((.attempt_log | length) == .attempts) \(.attempt_log[-1].status)"')"
stop_server
# secrets at rest: the endpoint's URL and signing secret are sealed with DATA/oncue.key
t_check "the key file is 32 bytes, mode 600" "32 600" "$(stat -c '%s %a' "$D/oncue.key")"
leak=$(cat "$D"/oncue.db* | grep -a -c -e "${SECRET#whsec_}" -e "127.0.0.1:$RPORT/hook")
t_check "neither the URL nor the secret is in the database files" 0 "$leak"
t_check "the stored values are sealed" 2 \
    "$(sqlite3 "$D/oncue.db" "SELECT (url LIKE 'sealed1:%') + (secret LIKE 'sealed1:%') FROM incident_endpoints WHERE name = 'it-webhook'" 2>/dev/null || python3 -c "
import sqlite3; r = sqlite3.connect('$D/oncue.db').execute(\"SELECT (url LIKE 'sealed1:%') + (secret LIKE 'sealed1:%') FROM incident_endpoints WHERE name = 'it-webhook'\").fetchone(); print(r[0])")"
# a replaced key file: the server refuses to start on a malformed one, and with another key
# the sealed endpoint is not sent anywhere (its attempt says why)
head -c 10 /dev/urandom >"$D/oncue.key"
"$ONCUE_BIN" serve --data "$D" --listen 127.0.0.1:0 2>"$T_TMP/badkey.log" &
BK=$!
for _ in $(seq 1 50); do kill -0 $BK 2>/dev/null || break; sleep 0.1; done
kill -0 $BK 2>/dev/null && { kill $BK; wait $BK; }
t_contains "a malformed key file is named" "oncue.key: expected 32 bytes, found 10" "$(cat "$T_TMP/badkey.log")"
t_done
