#!/usr/bin/env bash
# `oncue mitigate rollback --service S` with the real binary: the rollback is sent through the
# durable outbox to the deploy webhook the catalog names for S, signed per Standard Webhooks
# with incident.deploy_secret (or, without it, with the secret the server made at its first
# start and an admin reads); its revert sends rollback.reverted; the open incident's
# timeline says where it went; a service the catalog does not know is refused with 422, and
# one without a deploy_webhook is recorded with a "roll back by hand" note. A steering policy
# change goes on the open incident's timeline too. The receiver is a
# small python3 script on 127.0.0.1 that checks each signature.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
RESP=$(new_token "$D" responder it-resp)
VIEW=$(new_token "$D" viewer it-view)
ADMIN=$(new_token "$D" admin it-admin)

cat > "$T_TMP/recv.py" <<'PY'
import base64, hashlib, hmac, http.server, json, sys
secret, log, portfile = sys.argv[1], sys.argv[2], sys.argv[3]
key = base64.b64decode(secret[len("whsec_"):])
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        mid, ts = self.headers.get("webhook-id", ""), self.headers.get("webhook-timestamp", "")
        want = "v1," + base64.b64encode(hmac.new(key, f"{mid}.{ts}.".encode() + body,
                                                 hashlib.sha256).digest()).decode()
        ok = want in self.headers.get("webhook-signature", "").split(" ")
        doc = json.loads(body)
        with open(log, "a") as f:
            f.write(f"{self.path} {'valid' if ok else 'INVALID'} {doc['type']} "
                    f"{doc['data']['service']} {doc['data']['mitigation_id']} "
                    f"{doc['data']['actor']}\n")
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(portfile, "w") as f:
    f.write(str(s.server_address[1]))
for _ in range(20):  # bounded: this test sends four requests at most
    s.handle_request()
PY
: > "$T_TMP/calls.log"
python3 "$T_TMP/recv.py" "$SECRET" "$T_TMP/calls.log" "$T_TMP/rport" &
RECV_PID=$!
for _ in $(seq 1 100); do [ -s "$T_TMP/rport" ] && break; sleep 0.05; done
RPORT=$(cat "$T_TMP/rport")
sed "s|https://deploy.example.com/hooks/|http://127.0.0.1:$RPORT/hooks/|" \
    "$ONCUE_SRC/examples/catalog.yaml" > "$T_TMP/catalog.yaml"

# A secret that is not whsec_ + base64 stops the start with a message naming the setting.
timeout 10 "$ONCUE_BIN" serve --data "$T_TMP/bad" --listen 127.0.0.1:0 --set incident.deploy_secret=nope \
    2>"$T_TMP/bad.log" & BAD=$!
wait $BAD
t_check "bad deploy secret refused" 1 "$?"
t_contains "names the setting" "incident.deploy_secret: not a Standard Webhooks secret" \
    "$(cat "$T_TMP/bad.log")"

start_server "$D" --set catalog.file="$T_TMP/catalog.yaml" \
    --set incident.deploy_secret="$SECRET" --set incident.outbound_allow=127.0.0.1/32 || exit 1
export ONCUE_SERVER=$BASE ONCUE_TOKEN=$RESP

# waits (at most 10 s) until the receiver logged N calls
wait_calls() {
    for _ in $(seq 1 200); do
        [ "$(wc -l < "$T_TMP/calls.log")" -ge "$1" ] && return 0
        sleep 0.05
    done
    return 1
}

t_check "declare an incident" 201 "$(status POST /v1/incidents -H "Authorization: Bearer $RESP" \
    -d '{"alert_id": "vsf/packager", "metric": "vsf_rate", "slice": {"region": "NA"}, "value": 0.09, "threshold": 0.02, "op": ">", "level": "page", "summary": "VSF after the packager deploy"}')"

out=$("$ONCUE_BIN" mitigate rollback --service packager --reason "2026.11.25 build breaks fMP4" 2>&1)
t_contains "cli says where it goes (a responder sees the URL cut after the host)" \
    "rollback queued for the deploy webhook http://127.0.0.1:$RPORT/…" "$out"
t_contains "cli shows the record" "#1 active   rollback" "$out"
wait_calls 1
t_check "deploy webhook called once, signed" \
    "/hooks/packager valid rollback.requested packager 1 it-resp" "$(sed -n 1p "$T_TMP/calls.log")"

t_check "dry run names the webhook" 200 "$(status POST '/v1/mitigations?dry_run=1' \
    -H "Authorization: Bearer $RESP" -d '{"kind": "rollback", "service": "encoder"}')"
t_contains "dry run answer, cut for a responder" "\"deploy_webhook\":\"http://127.0.0.1:$RPORT/…\"" "$(body)"
t_check "an admin's dry run" 200 "$(status POST '/v1/mitigations?dry_run=1' \
    -H "Authorization: Bearer $ADMIN" -d '{"kind": "rollback", "service": "encoder"}')"
t_contains "names the whole URL" "\"deploy_webhook\":\"http://127.0.0.1:$RPORT/hooks/encoder\"" "$(body)"
t_check "a viewer's catalog: cut" "http://127.0.0.1:$RPORT/…" \
    "$(curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/services/packager" | jq -r .deploy_webhook)"
t_check "an admin's catalog: whole" "http://127.0.0.1:$RPORT/hooks/packager" \
    "$(curl -s -H "Authorization: Bearer $ADMIN" "$BASE/v1/services/packager" | jq -r .deploy_webhook)"

t_check "unknown service refused" 422 "$(status POST /v1/mitigations \
    -H "Authorization: Bearer $RESP" -d '{"kind": "rollback", "service": "nosuch"}')"
t_contains "names the field" 'service: nosuch is not in the catalog' "$(body)"

out=$("$ONCUE_BIN" mitigate rollback --service media-storage 2>&1)
t_contains "no webhook: by hand" "the service has no deploy_webhook in the catalog" "$out"

t_check "revert the rollback" 0 "$("$ONCUE_BIN" mitigate revert 1 >/dev/null; echo $?)"
wait_calls 2
t_check "revert sent as rollback.reverted" \
    "/hooks/packager valid rollback.reverted packager 1 it-resp" "$(sed -n 2p "$T_TMP/calls.log")"
t_check "nothing else was sent" 2 "$(wc -l < "$T_TMP/calls.log")"

t_check "policy change" 200 "$(status PUT /v1/steering/policies -H "Authorization: Bearer $ADMIN" \
    -d '{"pathways": ["cdn-a", "cdn-b"], "rules": [{"name": "emea", "region": "EMEA", "priority": ["cdn-b"]}]}')"
t_check "timeline" 200 "$(status GET /v1/incidents/INC-1 -H "Authorization: Bearer $VIEW")"
t_contains "timeline names the webhook" \
    "mitigation #1 (rollback) applied; sent to packager's deploy webhook http://127.0.0.1:$RPORT/hooks/packager" \
    "$(body)"
t_contains "timeline: no webhook" \
    "media-storage has no deploy_webhook in the catalog: roll back by hand per https://runbooks.example.com/media-storage/rollback" \
    "$(body)"

t_contains "timeline: the policy change" \
    '"kind":"steering","actor":"it-admin","text":"steering policy replaced: default order cdn-a,cdn-b, 1 rule(s), 0 flag(s)"' \
    "$(body)"
t_check "outbox" 200 "$(status GET /v1/notifications -H "Authorization: Bearer $VIEW")"
t_check "two deploy calls delivered" "2 deploy/packager" "$(body | python3 -c '
import json, sys
d = json.load(sys.stdin)
ds = [m for m in d["messages"] if m["topic"].startswith("rollback.") and m["state"] == "delivered"]
print(len(ds), ",".join(sorted({m["endpoint"] for m in ds})))')"
t_check "deploy/ names are reserved" 422 "$(status POST /v1/notifications/endpoints \
    -H "Authorization: Bearer $ADMIN" \
    -d '{"name": "deploy/x", "kind": "slack", "url": "http://127.0.0.1:9/x"}')"
t_contains "the detail says so" "name (not starting with deploy/)" "$(body)"

kill "$RECV_PID" 2>/dev/null
stop_server

# Without incident.deploy_secret a rollback call is signed all the same: with a secret the
# server made at its first start (whsec_ + base64 of 32 bytes), kept sealed in the store, the
# same after a restart, which an admin reads with `oncue incident deploy-secret`.
D2=$T_TMP/data2
ADMIN2=$(new_token "$D2" admin it-admin2)
RESP2=$(new_token "$D2" responder it-resp2)
start_server "$D2" || exit 1
made=$(ONCUE_SERVER=$BASE ONCUE_TOKEN=$ADMIN2 "$ONCUE_BIN" incident deploy-secret)
t_check "a secret was made at the first start" "whsec_ 32" \
    "$(python3 -c 'import base64, sys; s = sys.argv[1]; print(s[:6], len(base64.b64decode(s[6:])))' "$made")"
t_check "a responder may not read it" 403 "$(status GET /v1/notifications/deploy-secret -H "Authorization: Bearer $RESP2")"
t_check "an admin's answer is not cached" 200 "$(curl -s -o /dev/null -w '%{http_code}' -D "$T_TMP/h" \
    -H "Authorization: Bearer $ADMIN2" "$BASE/v1/notifications/deploy-secret")"
t_contains "no-store" "Cache-Control: no-store" "$(cat "$T_TMP/h")"
stop_server
t_check "it is sealed in the database" 0 "$(cat "$D2"/oncue.db* | grep -a -c -F -e "${made#whsec_}")"
: > "$T_TMP/calls2.log"
python3 "$T_TMP/recv.py" "$made" "$T_TMP/calls2.log" "$T_TMP/rport2" &
RECV_PID=$!
for _ in $(seq 1 100); do [ -s "$T_TMP/rport2" ] && break; sleep 0.05; done
sed "s|https://deploy.example.com/hooks/|http://127.0.0.1:$(cat "$T_TMP/rport2")/hooks/|" \
    "$ONCUE_SRC/examples/catalog.yaml" > "$T_TMP/catalog2.yaml"
start_server "$D2" --set catalog.file="$T_TMP/catalog2.yaml" --set incident.outbound_allow=127.0.0.1/32 || exit 1
t_check "the same secret after a restart" "$made" \
    "$(ONCUE_SERVER=$BASE ONCUE_TOKEN=$ADMIN2 "$ONCUE_BIN" incident deploy-secret)"
ONCUE_SERVER=$BASE ONCUE_TOKEN=$RESP2 "$ONCUE_BIN" mitigate rollback --service packager >/dev/null 2>&1
for _ in $(seq 1 200); do [ -s "$T_TMP/calls2.log" ] && break; sleep 0.05; done
t_check "the rollback call is signed with it (the receiver verified it)" \
    "/hooks/packager valid rollback.requested packager 1 it-resp2" "$(cat "$T_TMP/calls2.log")"
kill "$RECV_PID" 2>/dev/null
stop_server

# A configured secret is not repeated by the API; another key file makes a new secret (the
# old one no longer opens) and the log says so.
start_server "$D2" --set incident.deploy_secret="$SECRET" || exit 1
t_check "a configured secret is not repeated" "incident.deploy_secret null" \
    "$(curl -s -H "Authorization: Bearer $ADMIN2" "$BASE/v1/notifications/deploy-secret" | jq -r '"\(.source) \(.secret)"')"
t_check "the CLI says where it is" "rollback calls are signed with incident.deploy_secret, set in the server's configuration" \
    "$(ONCUE_SERVER=$BASE ONCUE_TOKEN=$ADMIN2 "$ONCUE_BIN" incident deploy-secret)"
stop_server
head -c 32 /dev/urandom > "$D2/oncue.key"
start_server "$D2" || exit 1
again=$(ONCUE_SERVER=$BASE ONCUE_TOKEN=$ADMIN2 "$ONCUE_BIN" incident deploy-secret)
t_check "another key file: a new secret" "whsec_ 1" "$(echo "${again:0:6} $([ "$again" != "$made" ] && echo 1)")"
t_contains "the log says so" "a new one was made (GET /v1/notifications/deploy-secret)" "$(cat "$T_TMP/server.log")"
t_done
