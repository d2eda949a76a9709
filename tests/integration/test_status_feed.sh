#!/usr/bin/env bash
# The status page's Atom feed and webhook subscriptions on the real server with the example
# catalog. The feed (/status/feed.atom, and /history.atom as on Statuspage) is parsed by
# feedparser (Debian's python3-feedparser, installed with apt-get when root; SKIP otherwise)
# and checked against RFC 4287's required elements; it holds published incidents with their
# updates and maintenances, never a draft or an internal name. A subscription (admin only)
# hears, signed per Standard Webhooks through the durable outbox, exactly: published,
# updated, resolved, maintenance scheduled, started, completed and deleted; nothing about a
# draft.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
if ! $PY -c 'import feedparser' 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-feedparser >/dev/null 2>&1
    fi
    $PY -c 'import feedparser' 2>/dev/null ||
        { echo "SKIP: python3-feedparser is not installed and cannot be (not root or no apt-get)"; exit 77; }
fi
D=$T_TMP/data
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
ADMIN=$(new_token "$D" admin it-admin)
RESP=$(new_token "$D" responder it-resp)
VIEW=$(new_token "$D" viewer it-view)

# the receiver: one line per delivery, "valid|INVALID <body>"
cat > "$T_TMP/recv.py" <<'PY'
import base64, hashlib, hmac, http.server, sys
secret, log = sys.argv[1], sys.argv[2]
key = base64.b64decode(secret[len("whsec_"):])
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        mid, ts = self.headers.get("webhook-id", ""), self.headers.get("webhook-timestamp", "")
        want = "v1," + base64.b64encode(hmac.new(key, f"{mid}.{ts}.".encode() + body,
                                                 hashlib.sha256).digest()).decode()
        ok = want in self.headers.get("webhook-signature", "").split(" ")
        with open(log, "a") as f:
            f.write(("valid " if ok else "INVALID ") + body.decode() + "\n")
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
: > "$T_TMP/got.log"
$PY "$T_TMP/recv.py" "$SECRET" "$T_TMP/got.log" > "$T_TMP/rport" &
RECV_PID=$!
for _ in $(seq 1 100); do [ -s "$T_TMP/rport" ] && break; sleep 0.05; done
RPORT=$(cat "$T_TMP/rport")
start_server "$D" --set incident.outbound_allow=127.0.0.1 --set incident.publish_sev2_after_s=-1 ||
    { kill "$RECV_PID"; exit 1; }
get() { curl -s "$BASE/api/v2/$1"; }
sub() { status POST /v1/status/subscriptions -H "Authorization: Bearer $1" -d "$2"; }
SUB="{\"name\": \"aggregator\", \"url\": \"http://127.0.0.1:$RPORT/hook\", \"secret\": \"$SECRET\"}"

t_check "subscribing needs admin" 403 "$(sub "$RESP" "$SUB")"
t_check "a bad secret" 422 "$(sub "$ADMIN" "{\"name\": \"x\", \"url\": \"http://127.0.0.1:$RPORT/\", \"secret\": \"nope\"}")"
t_contains "naming secret" "secret: a Standard Webhooks secret" "$(body)"
t_check "a name with /" 422 "$(sub "$ADMIN" "{\"name\": \"a/b\", \"url\": \"http://127.0.0.1:$RPORT/\", \"secret\": \"$SECRET\"}")"
t_contains "naming name" "name: 1 to 64 bytes" "$(body)"
t_check "subscribe" 201 "$(sub "$ADMIN" "$SUB")"
t_check "listed" "status/aggregator" "$(curl -s -H "Authorization: Bearer $ADMIN" "$BASE/v1/status/subscriptions" | jq -r '[.subscriptions[].name] | join(",")')"

queued() { # the topics queued for the subscription, oldest first
    curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/notifications?limit=500" |
        jq -r '[.messages[] | select(.endpoint == "status/aggregator") | .topic] | reverse | join(",")'
}
declare_inc() {
    status POST /v1/incidents -H "Authorization: Bearer $RESP" -d "{\"alert_id\": \"$1\",
        \"metric\": \"rebuffering_share\", \"slice\": {\"region\": \"$2\", \"cdn\": \"primary\"},
        \"value\": 0.08, \"threshold\": 0.05, \"op\": \">\", \"level\": \"page\", \"summary\": \"rebuffering\"}"
}
t_check "declare INC-1" 201 "$(declare_inc reb/EMEA EMEA)"
t_check "a draft: nothing for subscribers" "" "$(queued)"
t_check "publish" 200 "$(status POST /v1/incidents/INC-1/publish -H "Authorization: Bearer $RESP")"
t_check "a public update" 200 "$(status POST /v1/incidents/INC-1/status -H "Authorization: Bearer $RESP" \
    -d '{"status": "identified", "body": "Traffic is moving to another CDN & back."}')"
t_check "a note is internal" 200 "$(status POST /v1/incidents/INC-1/note -H "Authorization: Bearer $RESP" -d '{"text": "cdn-primary FRA"}')"
t_check "resolve" 200 "$(status POST /v1/incidents/INC-1/resolve -H "Authorization: Bearer $RESP" \
    -d '{"force": true, "reason": "synthetic check"}')"
NOW=$(date +%s)
t_check "a maintenance" 201 "$(status POST /v1/maintenances -H "Authorization: Bearer $RESP" -d "{\"name\": \"Sign-in upgrade\",
    \"components\": [\"Sign-in\"], \"scheduled_for\": $((NOW + 3600)), \"scheduled_until\": $((NOW + 7200)), \"body\": \"Brief sign-in delays.\"}")"
t_check "declare INC-2, left a draft" 201 "$(declare_inc reb/APAC APAC)"
t_check "what subscribers were sent" "incident.published,incident.updated,incident.resolved,maintenance.scheduled" "$(queued)"

for _ in $(seq 1 100); do
    [ "$(grep -c . "$T_TMP/got.log")" -ge 4 ] && break
    sleep 0.1
done
t_check "four delivered" 4 "$(grep -c . "$T_TMP/got.log")"
t_check "every signature valid" 0 "$(grep -c INVALID "$T_TMP/got.log")"
GOT=$(cut -d' ' -f2- "$T_TMP/got.log")
t_check "types in order" "incident.published,incident.updated,incident.resolved,maintenance.scheduled" \
    "$(jq -rs '[.[].type] | join(",")' <<<"$GOT")"
t_check "the incident as incidents.json shows it" "INC-1 Buffering during playback in EMEA investigating" \
    "$(jq -rs '.[0].data.incident | "\(.id) \(.name) \(.status)"' <<<"$GOT")"
t_check "the update" "identified Traffic is moving to another CDN & back." \
    "$(jq -rs '.[1].data.incident.incident_updates[0] | "\(.status) \(.body)"' <<<"$GOT")"
t_check "the page's indicator with it" "major resolved none" \
    "$(jq -rs '"\(.[0].data.page.status_indicator) \(.[2].data.incident.status) \(.[2].data.page.status_indicator)"' <<<"$GOT")"
t_check "the maintenance" "MNT-1 scheduled Sign-in" \
    "$(jq -rs '.[3].data.scheduled_maintenance | "\(.id) \(.status) \(.components[0].name)"' <<<"$GOT")"
t_check "no internal name or note sent" 0 "$(grep -c -E 'rebuffering_share|cdn=primary|cdn-primary|FRA|it-resp|cdn-ops' <<<"$GOT")"

# the feed
FEED=$(curl -s -D "$T_TMP/h" "$BASE/status/feed.atom")
t_contains "served as Atom" "Content-Type: application/atom+xml" "$(cat "$T_TMP/h")"
t_check "the same at /history.atom" "$FEED" "$(curl -s "$BASE/history.atom")"
printf '%s' "$FEED" > "$T_TMP/feed.xml"
t_check "feedparser: well-formed Atom 1.0" "0 atom10" \
    "$($PY -c 'import feedparser,sys; f=feedparser.parse(sys.argv[1]); print(int(f.bozo), f.version)' "$T_TMP/feed.xml")"
t_check "entries: the published incident and the maintenance, not the draft" \
    "Buffering during playback in EMEA|Sign-in upgrade" \
    "$($PY -c 'import feedparser,sys; print("|".join(e.title for e in feedparser.parse(sys.argv[1]).entries))' "$T_TMP/feed.xml")"
t_check "RFC 4287 required elements" "ok" "$($PY - "$T_TMP/feed.xml" <<'PY'
import sys, re, xml.etree.ElementTree as ET
A = "{http://www.w3.org/2005/Atom}"
root = ET.parse(sys.argv[1]).getroot()
ts = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
bad = []
if root.tag != A + "feed": bad.append("root")
for k in ("id", "title", "updated", "author"):
    if root.find(A + k) is None: bad.append("feed " + k)
if not ts.match(root.findtext(A + "updated") or ""): bad.append("feed updated")
ids = set()
for e in root.findall(A + "entry"):
    for k in ("id", "title", "updated", "content"):
        if e.find(A + k) is None: bad.append("entry " + k)
    if not ts.match(e.findtext(A + "updated") or ""): bad.append("entry updated")
    i = e.findtext(A + "id")
    if not re.match(r"^[a-z][a-z0-9+.-]*:", i or "") or i in ids: bad.append("entry id " + str(i))
    ids.add(i)
print(" ".join(bad) or "ok")
PY
)"
t_check "the entry's updates as HTML" "resolved,identified" "$($PY -c '
import feedparser, re, sys
e = feedparser.parse(sys.argv[1]).entries[0]
print(",".join(re.findall(r"<strong>(\w+)</strong>", e.content[0].value)))' "$T_TMP/feed.xml")"
t_contains "escaped once for HTML, once for XML" "Traffic is moving to another CDN &amp;amp; back." "$FEED"
t_check "no internal name in the feed" 0 "$(grep -c -E 'rebuffering_share|cdn=primary|cdn-primary|FRA|cdn-ops' <<<"$FEED")"

# a short maintenance: subscribers hear when it starts and when it completes, once each
NOW=$(date +%s)
t_check "a maintenance starting in 2 s" 201 "$(status POST /v1/maintenances -H "Authorization: Bearer $RESP" -d "{\"name\": \"Cache warm-up\",
    \"components\": [\"Video streaming\"], \"scheduled_for\": $((NOW + 2)), \"scheduled_until\": $((NOW + 3)), \"body\": \"Short.\"}")"
for _ in $(seq 1 100); do
    [ "$(grep -c . "$T_TMP/got.log")" -ge 7 ] && break
    sleep 0.1
done
t_check "scheduled, in progress, completed" "MNT-2:scheduled MNT-2:in_progress MNT-2:completed" \
    "$(cut -d' ' -f2- "$T_TMP/got.log" | jq -rs '[.[4:][] | .data.scheduled_maintenance | "\(.id):\(.status)"] | join(" ")')"
t_check "as maintenance.updated" "maintenance.scheduled maintenance.updated maintenance.updated" \
    "$(cut -d' ' -f2- "$T_TMP/got.log" | jq -rs '[.[4:][] | .type] | join(" ")')"
t_check "every signature still valid" 0 "$(grep -c INVALID "$T_TMP/got.log")"
t_check "delete the maintenance" 204 "$(status DELETE /v1/maintenances/MNT-1 -H "Authorization: Bearer $RESP")"
t_check "unsubscribe" 204 "$(status DELETE /v1/status/subscriptions/aggregator -H "Authorization: Bearer $ADMIN")"
t_check "unsubscribe again" 404 "$(status DELETE /v1/status/subscriptions/nobody -H "Authorization: Bearer $ADMIN")"
t_check "publish INC-2" 200 "$(status POST /v1/incidents/INC-2/publish -H "Authorization: Bearer $RESP")"
t_check "nothing queued after unsubscribing" \
    "incident.published,incident.updated,incident.resolved,maintenance.scheduled,maintenance.scheduled,maintenance.updated,maintenance.updated,maintenance.deleted" "$(queued)"
kill "$RECV_PID" 2>/dev/null
t_done
