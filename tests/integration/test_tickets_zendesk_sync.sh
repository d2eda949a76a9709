#!/usr/bin/env bash
# The relation back as Zendesk's own, against a fake Zendesk (python3 on 127.0.0.1) that
# records every request: when a cluster of three Zendesk tickets and one Freshdesk ticket
# links to a declared incident, oncue creates one problem ticket (POST /api/v2/tickets.json,
# type problem, with an Idempotency-Key: the first attempt is answered 503 and the retry
# carries the same key), makes each Zendesk ticket an incident of it (PUT
# /api/v2/tickets/{id}.json {type: incident, problem_id}; the Freshdesk ticket is not
# Zendesk's), and posts the incident's status update and its resolution as private comments
# on the problem. Credentials are an API token (HTTP Basic EMAIL/token:TOKEN) given sealed
# with `oncue tickets seal`; neither the sealed nor the clear value is in the server's log.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
VIEW=$(new_token "$D" viewer zd-viewer)
ING=$(new_token "$D" ingest zd-ingest)
RESP=$(new_token "$D" responder zd-responder)
SECRET=zendesk-signing-secret
CRED=agent@example.com/token:zd-api-token-123
SEALED=$(echo "$CRED" | "$ONCUE_BIN" tickets seal --data "$D")
t_contains "the credentials seal" "sealed1:" "$SEALED"
ZD_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$ZD_PORT" "$T_TMP/zd" <<'PY' &
import http.server, json, sys
port, out = int(sys.argv[1]), sys.argv[2]
posts = [0]
class H(http.server.BaseHTTPRequestHandler):
    def record(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode()
        with open(out, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "auth": self.headers.get("Authorization", ""),
                                "idem": self.headers.get("Idempotency-Key", ""),
                                "accept": self.headers.get("Accept", ""),
                                "body": json.loads(body) if body else None}) + "\n")
    def answer(self, code, doc):
        b = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def do_POST(self):
        self.record()
        posts[0] += 1
        if posts[0] == 1:  # the first creation fails: the retry must carry the same key
            self.answer(503, {"error": "unavailable"})
        else:
            self.answer(201, {"ticket": {"id": 9001, "type": "problem"}})
    def do_PUT(self):
        self.record()
        self.answer(200, {"ticket": {"id": int(self.path.split("/")[-1].split(".")[0])}})
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
ZD_PID=$!
trap 'kill $ZD_PID 2>/dev/null; t_cleanup' EXIT
start_server "$D" --modules catalog,incident,tickets --set "tickets.zendesk_secret=$SECRET" \
    --set "tickets.zendesk_url=http://127.0.0.1:$ZD_PORT/" --set "tickets.zendesk_credentials=$SEALED" \
    --set "tickets.outbound_allow=127.0.0.1/32" || exit 1

zd() {
    local sig
    sig=$(python3 -c 'import base64,hashlib,hmac,sys; print(base64.b64encode(hmac.new(sys.argv[1].encode(), (sys.argv[2] + sys.argv[3]).encode(), hashlib.sha256).digest()).decode())' "$SECRET" "$1" "$2")
    status POST /v1/tickets/zendesk -H "X-Zendesk-Webhook-Signature: $sig" \
        -H "X-Zendesk-Webhook-Signature-Timestamp: $1" -H 'Content-Type: application/json' -d "$2"
}
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
NOW=$(date +%s)
TS=$(iso "$NOW")
for i in 1 2 3; do
    t_check "zendesk ticket $i" 201 "$(zd "$TS" "{\"ticket\":{\"id\":$((500 + i)),\"subject\":\"Video keeps buffering\",\"description\":\"The video keeps buffering and freezing every few seconds, ticket $i\",\"updated_at\":\"$(iso $((NOW - 60 + i)))\",\"region\":\"EU\"}}")"
done
FD="{\"id\":77,\"subject\":\"Video keeps buffering\",\"description_text\":\"The video keeps buffering and freezing every few seconds\",\"updated_at\":\"$(iso $((NOW - 30)))\",\"custom_fields\":{\"cf_region\":\"EU\"}}"
t_check "freshdesk ticket" 201 "$(status POST '/v1/tickets?format=freshdesk' -H "Authorization: Bearer $ING" -d "$FD")"
status GET "/v1/tickets/clusters?min=2" -H "Authorization: Bearer $VIEW" >/dev/null
t_check "one cluster of four" "4 buffering" "$(jq -r '.clusters[0] | "\(.tickets) \(.tags.symptom)"' <<<"$(body)")"

t_check "declare" 201 "$(status POST /v1/incidents -H "Authorization: Bearer $RESP" -H 'Content-Type: application/json' \
    -d '{"alert_id":"manual/eu-buffering","rule":"manual","metric":"rebuffer_ratio","summary":"EU buffering","slice":{"region":"EU","symptom":"buffering"}}')"
INC=$(jq -r .id <<<"$(body)")
INC=${INC#INC-}
TITLE=$(jq -r .title <<<"$(body)")
SEV=$(jq -r .severity <<<"$(body)")

# wait for: two POSTs (503, then 201) and three PUTs (bounded: 15 s)
n=0
for i in $(seq 1 150); do
    [ -f "$T_TMP/zd" ] && n=$(wc -l <"$T_TMP/zd")
    [ "$n" -ge 5 ] && break
    sleep 0.1
done
t_check "five requests: the problem twice, three tickets" 5 "$n"
R=$(cat "$T_TMP/zd")
t_check "the problem ticket, then its retry, then the incidents" \
    "POST /api/v2/tickets.json|POST /api/v2/tickets.json|PUT /api/v2/tickets/501.json|PUT /api/v2/tickets/502.json|PUT /api/v2/tickets/503.json" \
    "$(jq -rs 'map("\(.method) \(.path)") | join("|")' <<<"$R")"
BASIC="Basic $(printf '%s' "$CRED" | base64 -w0)"
t_check "every request is authenticated with the API token" "$BASIC" "$(jq -rs 'map(.auth) | unique | join(",")' <<<"$R")"
t_check "and asks for JSON" "application/json" "$(jq -rs 'map(.accept) | unique | join(",")' <<<"$R")"
IDEM=$(jq -rs '.[0].idem' <<<"$R")
t_contains "an idempotency key names the incident" "oncue-INC-$INC-" "$IDEM"
t_check "the retry carries the same key" "$IDEM" "$(jq -rs '.[1].idem' <<<"$R")"
t_check "the PUTs carry none" "" "$(jq -rs '.[2:] | map(.idem) | unique | join(",")' <<<"$R")"
PRI=$(case "$SEV" in SEV1) echo urgent ;; SEV2) echo high ;; SEV3) echo normal ;; *) echo low ;; esac)
t_check "the problem ticket's body" \
    "{\"ticket\":{\"comment\":{\"body\":\"oncue incident INC-$INC ($SEV): $TITLE. The support tickets of this fault are linked here as incidents; the incident's status updates follow as comments.\",\"public\":false},\"external_id\":\"INC-$INC\",\"priority\":\"$PRI\",\"subject\":\"INC-$INC: $TITLE\",\"tags\":[\"oncue\",\"oncue_inc_$INC\"],\"type\":\"problem\"}}" \
    "$(jq -rs '.[1].body' <<<"$R" | jq -cS .)"
t_check "each Zendesk ticket becomes an incident of problem 9001" \
    '{"ticket":{"problem_id":9001,"type":"incident"}}' "$(jq -rs '.[2:] | map(.body | tojson) | unique | join(",")' <<<"$R" | jq -cS .)"

# the status update, then the resolution: private comments on the problem ticket
t_check "status update" 200 "$(status POST "/v1/incidents/$INC/status" -H "Authorization: Bearer $RESP" \
    -H 'Content-Type: application/json' -d '{"status":"identified","body":"A CDN node in Frankfurt drops segments."}')"
t_check "resolve" 200 "$(status POST "/v1/incidents/$INC/resolve" -H "Authorization: Bearer $RESP" \
    -H 'Content-Type: application/json' -d '{"force":true,"reason":"test over"}')"
for i in $(seq 1 100); do # bounded: 10 s
    n=$(wc -l <"$T_TMP/zd")
    [ "$n" -ge 7 ] && break
    sleep 0.1
done
t_check "two more requests" 7 "$n"
R=$(cat "$T_TMP/zd")
t_check "both to the problem ticket" "PUT /api/v2/tickets/9001.json|PUT /api/v2/tickets/9001.json" \
    "$(jq -rs '.[5:] | map("\(.method) \(.path)") | join("|")' <<<"$R")"
t_check "the status update's comment" \
    "{\"ticket\":{\"comment\":{\"body\":\"INC-$INC status: identified. A CDN node in Frankfurt drops segments.\",\"public\":false}}}" \
    "$(jq -rs '.[5].body' <<<"$R" | jq -cS .)"
t_check "the resolution's comment" \
    "{\"ticket\":{\"comment\":{\"body\":\"INC-$INC status: resolved.\",\"public\":false}}}" \
    "$(jq -rs '.[6].body' <<<"$R" | jq -cS .)"
status GET "/v1/tickets/clusters" -H "Authorization: Bearer $VIEW" >/dev/null
t_check "the outbox counts the Zendesk calls apart" '{"delivered":6,"pending":0,"queued":6}' "$(jq -cS .outbox.zendesk <<<"$(body)")"
t_check "no neutral relation without tickets.sync_url" 0 "$(jq -r .outbox.queued <<<"$(body)")"

stop_server
t_check "the credentials are not in the log" "0 0" \
    "$(grep -cF -- 'zd-api-token-123' "$T_TMP/server.log") $(grep -cF -- "${SEALED#sealed1:}" "$T_TMP/server.log")"

# a restart makes nothing again: the problem is known, every row delivered
start_server "$D" --modules catalog,incident,tickets --set "tickets.zendesk_secret=$SECRET" \
    --set "tickets.zendesk_url=http://127.0.0.1:$ZD_PORT/" --set "tickets.zendesk_credentials=$SEALED" \
    --set "tickets.outbound_allow=127.0.0.1/32" || exit 1
sleep 1.5
t_check "nothing sent again after a restart" 7 "$(wc -l <"$T_TMP/zd")"
stop_server
# a value sealed with another directory's key stops the start, saying which setting
OTHER=$(echo "$CRED" | "$ONCUE_BIN" tickets seal --data "$T_TMP/other")
start_server "$D" --modules catalog,incident,tickets --set "tickets.zendesk_url=http://127.0.0.1:$ZD_PORT/" \
    --set "tickets.zendesk_credentials=$OTHER" >/dev/null 2>&1
t_contains "another key's seal is refused" "tickets.zendesk_credentials does not open" "$(cat "$T_TMP/server.log")"
t_done
