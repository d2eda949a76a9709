#!/usr/bin/env bash
# Tickets over real HTTP: Zendesk webhooks signed here (python3's hmac over timestamp + body,
# base64) are stored once (a redelivery or an older update answers "duplicate"; a newer one
# "updated"), refusals are 401 problem+json naming the header (tampered body, stale
# timestamp, missing signature); Freshdesk and Salesforce payloads come in through their
# mappings; tickets of one fault cluster and, when an incident is declared over
# POST /v1/incidents with an overlapping slice, the cluster is linked at once (well within
# 60 s), the incident's timeline says how many tickets, a later ticket of the cluster answers
# with the incident, the relations (the link, then the incident's status update) go to
# tickets.sync_url (a python3 receiver on 127.0.0.1), and clusters and links survive a
# restart.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
VIEW=$(new_token "$D" viewer tk-viewer)
ING=$(new_token "$D" ingest tk-ingest)
RESP=$(new_token "$D" responder tk-responder)
SECRET=zendesk-signing-secret
SYNC_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$SYNC_PORT" "$T_TMP/relations" <<'PY' &
import http.server, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with open(out, "ab") as f:
            f.write(self.path.encode() + b" " + self.headers.get("Authorization", "").encode() + b" " + body + b"\n")
        self.send_response(204)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
SYNC_PID=$!
trap 'kill $SYNC_PID 2>/dev/null; t_cleanup' EXIT
ARGS=(--modules catalog,incident,tickets --set "tickets.zendesk_secret=$SECRET"
      --set "tickets.sync_url=http://127.0.0.1:$SYNC_PORT/api" --set "tickets.sync_token=sync-tok"
      --set "tickets.outbound_allow=127.0.0.1/32")
start_server "$D" "${ARGS[@]}" || exit 1

# zd TS BODY [SECRET]: posts a signed Zendesk webhook, prints the status
zd() {
    local sig
    sig=$(python3 -c 'import base64,hashlib,hmac,sys; print(base64.b64encode(hmac.new(sys.argv[1].encode(), (sys.argv[2] + sys.argv[3]).encode(), hashlib.sha256).digest()).decode())' "${3:-$SECRET}" "$1" "$2")
    status POST /v1/tickets/zendesk -H "X-Zendesk-Webhook-Signature: $sig" \
        -H "X-Zendesk-Webhook-Signature-Timestamp: $1" -H 'Content-Type: application/json' -d "$2"
}
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
NOW=$(date +%s)
TS=$(iso "$NOW")
zticket() { echo "{\"ticket\":{\"id\":$1,\"subject\":\"$2\",\"description\":\"$3\",\"updated_at\":\"$4\",\"region\":\"EU\",\"requester\":{\"tier\":\"premium\"}}}"; }

# --- Zendesk: signature and idempotency ---
B1=$(zticket 101 "Video keeps buffering" "The player keeps buffering every few seconds on my Roku" "$(iso $((NOW - 60)))")
t_check "signed ticket" 201 "$(zd "$TS" "$B1")"
t_check "created" "created zendesk 101 buffering EU premium roku" "$(jq -r '"\(.outcome) \(.source) \(.external_id) \(.tags.symptom) \(.tags.region) \(.tags.tier) \(.tags.device)"' <<<"$(body)")"
ID1=$(jq -r .id <<<"$(body)")
C1=$(jq -r .cluster_id <<<"$(body)")
t_check "redelivery" 200 "$(zd "$TS" "$B1")"
t_check "redelivery is a duplicate" "duplicate $ID1" "$(jq -r '"\(.outcome) \(.id)"' <<<"$(body)")"
OLD=$(zticket 101 "Old subject" "older text" "$(iso $((NOW - 120)))")
t_check "older update" 200 "$(zd "$TS" "$OLD")"
t_check "older update changes nothing" "duplicate" "$(jq -r .outcome <<<"$(body)")"
NEW=$(zticket 101 "Video keeps buffering (updated)" "The player keeps buffering every few seconds on my Roku" "$(iso $((NOW - 30)))")
t_check "newer update" 200 "$(zd "$TS" "$NEW")"
t_check "updated in place" "updated $ID1 $C1" "$(jq -r '"\(.outcome) \(.id) \(.cluster_id)"' <<<"$(body)")"
status GET "/v1/tickets/$ID1" -H "Authorization: Bearer $VIEW" >/dev/null
t_check "stored subject is the newer" "Video keeps buffering (updated)" "$(jq -r .subject <<<"$(body)")"
t_check "tampered" 401 "$(status POST /v1/tickets/zendesk -H "X-Zendesk-Webhook-Signature: $(python3 -c 'import base64,hashlib,hmac,sys; print(base64.b64encode(hmac.new(b"zendesk-signing-secret", (sys.argv[1]+sys.argv[2]).encode(), hashlib.sha256).digest()).decode())' "$TS" "$B1")" -H "X-Zendesk-Webhook-Signature-Timestamp: $TS" -d "${B1/Roku/Xbox}")"
t_contains "tampered names the header" "X-Zendesk-Webhook-Signature is not the body" "$(jq -r .detail <<<"$(body)")"
t_check "problem+json" "application/problem+json" "$(curl -s -o /dev/null -w '%{content_type}' -X POST "$BASE/v1/tickets/zendesk" -d '{}')"
STALE=$(iso $((NOW - 900)))
t_check "stale" 401 "$(zd "$STALE" "$B1")"
t_contains "stale names the header" "stale timestamp: X-Zendesk-Webhook-Signature-Timestamp is" "$(jq -r .detail <<<"$(body)")"
t_check "unsigned" 401 "$(status POST /v1/tickets/zendesk -d "$B1")"
t_contains "missing names the header" "missing header: X-Zendesk-Webhook-Signature" "$(jq -r .detail <<<"$(body)")"
t_check "wrong secret" 401 "$(zd "$TS" "$B1" other-secret)"
t_check "signed but no id" 422 "$(zd "$TS" '{"ticket":{"subject":"x"}}')"
t_contains "the field is named" "id (ticket.id|detail.id|id)" "$(jq -r .detail <<<"$(body)")"

# --- the mapped intake ---
FD='{"id":201,"subject":"Charged twice","description_text":"I was double charged, refund please","updated_at":"2026-12-06T10:00:00Z","custom_fields":{"cf_device":"iPhone","cf_region":"US"}}'
t_check "freshdesk" 201 "$(status POST '/v1/tickets?format=freshdesk' -H "Authorization: Bearer $ING" -d "$FD")"
t_check "freshdesk tags" "freshdesk payment ios US" "$(jq -r '"\(.source) \(.tags.symptom) \(.tags.device) \(.tags.region)"' <<<"$(body)")"
SF='{"Id":"5003000000D8cuI","Subject":"Cannot sign in","Description":"Login fails, password rejected","LastModifiedDate":"2026-12-06T10:00:00.000+0000","Region__c":"US"}'
t_check "salesforce" 201 "$(status POST '/v1/tickets?format=salesforce' -H "Authorization: Bearer $ING" -d "$SF")"
t_check "salesforce tags" "salesforce 5003000000D8cuI login" "$(jq -r '"\(.source) \(.external_id) \(.tags.symptom)"' <<<"$(body)")"
t_check "intake needs a token" 401 "$(status POST '/v1/tickets?format=generic' -d "$FD")"
t_check "unknown format" 422 "$(status POST '/v1/tickets?format=jira' -H "Authorization: Bearer $ING" -d "$FD")"
t_check "not JSON" 400 "$(status POST '/v1/tickets' -H "Authorization: Bearer $ING" -d 'nope')"

# --- a storm of one fault, then the incident ---
for i in 2 3 4 5; do
    b=$(zticket $((100 + i)) "Buffering on my TV" "The video keeps buffering and freezing every few seconds, ticket $i" "$(iso $((NOW - 50 + i)))")
    zd "$TS" "$b" >/dev/null
done
status GET "/v1/tickets/clusters?min=2" -H "Authorization: Bearer $VIEW" >/dev/null
t_check "one buffering cluster of 5" "5 buffering EU null" "$(jq -r '.clusters[0] | "\(.tickets) \(.tags.symptom) \(.tags.region) \(.incident_id)"' <<<"$(body)")"
CL=$(jq -r '.clusters[0].id' <<<"$(body)")
T0=$(date +%s%N)
t_check "declare" 201 "$(status POST /v1/incidents -H "Authorization: Bearer $RESP" -H 'Content-Type: application/json' \
    -d '{"alert_id":"manual/eu-buffering","rule":"manual","metric":"rebuffer_ratio","summary":"EU buffering","slice":{"region":"EU","symptom":"buffering"}}')"
INC=$(jq -r .id <<<"$(body)")
INC=${INC#INC-}
linked=""
for i in $(seq 1 600); do # bounded: 60 s at most
    status GET "/v1/tickets/clusters?incident=$INC" -H "Authorization: Bearer $VIEW" >/dev/null
    linked=$(jq -r '.clusters[0].id // empty' <<<"$(body)")
    [ -n "$linked" ] && break
    sleep 0.1
done
MS=$((($(date +%s%N) - T0) / 1000000))
t_check "linked to the incident" "$CL" "$linked"
t_check "linked within 60 s" "yes" "$([ "$MS" -lt 60000 ] && echo yes || echo "no: $MS ms")"
echo "linked $MS ms after the declaration" >&2
status GET "/v1/incidents/$INC" -H "Authorization: Bearer $VIEW" >/dev/null
t_contains "timeline counts the tickets" "5 support tickets linked (cluster $CL: buffering)" "$(body)"
t_check "the incident counts its tickets (no measured viewers: no rate)" "5 null" "$(jq -r '"\(.tickets) \(.tickets_per_1000_affected)"' <<<"$(body)")"
status GET "/v1/tickets?incident=$INC" -H "Authorization: Bearer $VIEW" >/dev/null
t_check "five tickets carry the incident" 5 "$(jq '.tickets | length' <<<"$(body)")"
b=$(zticket 106 "Still buffering" "The video keeps buffering and freezing every few seconds, ticket 6" "$(iso "$NOW")")
zd "$TS" "$b" >/dev/null
t_check "a later ticket joins the linked cluster" "$CL $INC" "$(jq -r '"\(.cluster_id) \(.incident_id)"' <<<"$(body)")"
status GET "/v1/incidents" -H "Authorization: Bearer $VIEW" >/dev/null
t_check "the list counts the later ticket too" "INC-$INC 6" "$(jq -r --argjson id "$INC" '.incidents[] | select(.id == $id) | "\(.incident_id) \(.tickets)"' <<<"$(body)")"
t_check "the payment cluster is not linked" 0 "$(curl -s "$BASE/v1/tickets?incident=$INC&symptom=payment" -H "Authorization: Bearer $VIEW" | jq '.tickets | length')"

# --- the relation back ---
n=0
for i in $(seq 1 100); do # bounded: 10 s
    [ -f "$T_TMP/relations" ] && n=$(wc -l <"$T_TMP/relations")
    [ "$n" -ge 6 ] && break
    sleep 0.1
done
t_check "six relations sent (the five linked, then the one that joined)" 6 "$n"
t_contains "the later ticket is related too" '"external_id":"106"' "$(cat "$T_TMP/relations")"
t_contains "relation path, token and body" "/api/relations Bearer sync-tok {" "$(head -1 "$T_TMP/relations")"
t_check "relation fields" "zendesk incident $INC linked" "$(head -1 "$T_TMP/relations" | cut -d' ' -f4- | jq -r '"\(.source) \(.relation) \(.incident_id) \(.kind)"')"

# a status update of the incident goes back for each of the cluster's six tickets
t_check "status update" 200 "$(status POST "/v1/incidents/$INC/status" -H "Authorization: Bearer $RESP" \
    -H 'Content-Type: application/json' -d '{"status":"identified","body":"A CDN node in Frankfurt drops segments."}')"
for i in $(seq 1 150); do # bounded: 15 s (10 relations per 2 s tick)
    n=$(grep -c '"kind":"status_update"' "$T_TMP/relations")
    [ "$n" -ge 6 ] && break
    sleep 0.1
done
t_check "six status relations" 6 "$n"
t_check "with the status" identified "$(grep '"kind":"status_update"' "$T_TMP/relations" | head -1 | cut -d' ' -f4- | jq -r .status)"

# --- restart: clusters and links survive ---
stop_server
start_server "$D" "${ARGS[@]}" || exit 1
status GET "/v1/tickets/clusters?incident=$INC" -H "Authorization: Bearer $VIEW" >/dev/null
t_check "after a restart" "$CL 6" "$(jq -r '.clusters[0] | "\(.id) \(.tickets)"' <<<"$(body)")"
status GET "/v1/incidents/$INC" -H "Authorization: Bearer $VIEW" >/dev/null
t_check "the incident's count after a restart" 6 "$(jq -r .tickets <<<"$(body)")"
t_check "redelivery after a restart" 200 "$(zd "$TS" "$NEW")"
t_check "still a duplicate" duplicate "$(jq -r .outcome <<<"$(body)")"
stop_server
t_done
