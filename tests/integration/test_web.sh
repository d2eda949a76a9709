#!/usr/bin/env bash
# The web console end to end on a real server: the embedded bundle (/ and /assets/, content
# types, security headers, ETag and 304, gzip), browser sessions (sign in with a token, the
# cookie's attributes, who am I, roles, the cross-site guard, sign out, expiry by token
# revocation, ingest tokens refused, admin listing) and the live stream /v1/stream
# (an incident declared by hand arrives as `event: incident.opened`; Last-Event-ID resumes).
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ADMIN=$(new_token "$D" admin web-admin)
RESP=$(new_token "$D" responder web-resp)
VIEW=$(new_token "$D" viewer web-view)
INGEST=$(new_token "$D" ingest web-ingest)
start_server "$D" --set web.max_streams=2 || exit 1
H=$T_TMP/headers

# --- the console bundle ---
t_check "GET / is 200" 200 "$(status GET / -D "$H")"
t_contains "GET / is html" "content-type: text/html; charset=utf-8" "$(tr -d '\r' <"$H" | tr A-Z a-z)"
t_contains "GET / has the CSP" "content-security-policy: default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'" "$(tr -d '\r' <"$H" | tr A-Z a-z)"
t_contains "GET / nosniff" "x-content-type-options: nosniff" "$(tr -d '\r' <"$H" | tr A-Z a-z)"
t_contains "GET / referrer policy" "referrer-policy: same-origin" "$(tr -d '\r' <"$H" | tr A-Z a-z)"
t_contains "GET / no framing" "x-frame-options: deny" "$(tr -d '\r' <"$H" | tr A-Z a-z)"
t_contains "GET / revalidates" "cache-control: no-cache" "$(tr -d '\r' <"$H" | tr A-Z a-z)"
t_contains "GET / is the console" '<div id="app">' "$(body)"
ETAG=$(tr -d '\r' <"$H" | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
t_check "ETag is strong and quoted" 0 "$([[ $ETAG =~ ^\"[0-9a-f]{16}\"$ ]]; echo $?)"
t_check "If-None-Match gives 304" 304 "$(status GET / -H "If-None-Match: $ETAG")"
t_check "a 304 has no body" 0 "$(curl -s -o /dev/null -w '%{size_download}' -H "If-None-Match: $ETAG" "$BASE/")"
t_check "another ETag gives 200" 200 "$(status GET / -H 'If-None-Match: "0000000000000000"')"
t_check "HEAD / is 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' -I "$BASE/")"
t_check "GET /assets/app.js" 200 "$(status GET /assets/app.js -D "$H")"
t_contains "app.js is javascript" "content-type: text/javascript" "$(tr -d '\r' <"$H" | tr A-Z a-z)"
t_check "GET /assets/app.css" 200 "$(status GET /assets/app.css -D "$H")"
t_contains "app.css is css" "content-type: text/css" "$(tr -d '\r' <"$H" | tr A-Z a-z)"
t_check "unknown asset 404" 404 "$(status GET /assets/nope.js -D "$H")"
t_contains "404 is problem+json" "content-type: application/problem+json" "$(tr -d '\r' <"$H" | tr A-Z a-z)"
t_check "no traversal" 404 "$(status GET /assets/..%2f..%2fetc%2fpasswd)"
t_check "index.html is only at /" 404 "$(status GET /index.html)"
status GET / -H 'Accept-Encoding: gzip' -D "$H" >/dev/null
if grep -qi '^content-encoding: gzip' "$H"; then
    t_contains "gzip varies" "vary: accept-encoding" "$(tr -d '\r' <"$H" | tr A-Z a-z)"
    t_contains "gzip decodes to the console" '<div id="app">' "$(curl -s --compressed "$BASE/")"
fi
t_check "gzip;q=0 is plain" "" "$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip;q=0' "$BASE/" | grep -i '^content-encoding')"

# --- sessions ---
J=(-H 'Content-Type: application/json')
login() { # login TOKEN [curl args...]: status of POST /v1/session, headers in $H
    local tok=$1; shift
    status POST /v1/session "${J[@]}" -D "$H" -d "{\"token\":\"$tok\"}" "$@"
}
cookie_of() { tr -d '\r' <"$H" | sed -n 's/^[Ss]et-[Cc]ookie: \(oncue_session=[0-9a-f]*\);.*/\1/p'; }
t_check "login with a responder token" 201 "$(login "$RESP")"
SETC=$(tr -d '\r' <"$H" | grep -i '^set-cookie:')
t_contains "cookie is HttpOnly" "; HttpOnly" "$SETC"
t_contains "cookie is SameSite=Strict" "; SameSite=Strict" "$SETC"
t_contains "cookie has Path=/" "; Path=/;" "$SETC"
t_contains "cookie lasts 12 h" "; Max-Age=43200" "$SETC"
t_check "no Secure over plain http" "" "$(printf '%s' "$SETC" | grep -o Secure)"
t_check "login answers name and role" "web-resp responder" "$(body | jq -r '"\(.name) \(.role)"')"
t_check "expires_ms is a number" number "$(body | jq -r '.expires_ms | type')"
case "$(body)" in *"$RESP"*) leaked=yes ;; *) leaked=no ;; esac
t_check "login does not echo the token" no "$leaked"
C=$(cookie_of)
t_check "cookie value is 64 hex" 78 "${#C}"
CK=(-H "Cookie: theme=dark; $C")
t_check "GET /v1/session by cookie" 200 "$(status GET /v1/session "${CK[@]}")"
t_check "session has the role" "responder cookie" "$(body | jq -r '"\(.role) \(.via)"')"
t_check "GET /v1/session by token" 200 "$(status GET /v1/session -H "Authorization: Bearer $VIEW")"
t_check "it tells the server's clock" 1 "$(body | jq '(.now_ms - (now * 1000) | fabs) < 60000' |
    grep -c true)"
t_check "token has no expiry" "viewer token null" "$(body | jq -r '"\(.role) \(.via) \(.expires_ms)"')"
t_check "behind TLS the cookie is Secure" 201 "$(login "$RESP" -H 'X-Forwarded-Proto: https')"
t_contains "Secure set" "; Secure" "$(tr -d '\r' <"$H" | grep -i '^set-cookie:')"

INC='{"alert_id": "reb/EMEA", "metric": "rebuffering_share", "slice": {"region": "EMEA"}, "value": 0.08, "threshold": 0.05, "op": ">", "level": "page", "summary": "rebuffering in EMEA"}'
t_check "cookie POST from another origin 403" 403 \
    "$(status POST /v1/incidents "${CK[@]}" -H 'Origin: http://evil.example' -d "$INC")"
t_contains "403 says cross-site" "cross-site request refused" "$(body)"
t_check "cookie POST without Origin or Referer 403" 403 "$(status POST /v1/incidents "${CK[@]}" -d "$INC")"
t_check "cookie POST same-site fetch 403" 403 \
    "$(status POST /v1/incidents "${CK[@]}" -H "Origin: $BASE" -H 'Sec-Fetch-Site: same-site' -d "$INC")"

# the stream is opened before the incident is declared; it must carry it
(timeout 6 curl -sN "${CK[@]}" "$BASE/v1/stream" >"$T_TMP/stream1" 2>/dev/null) &
SPID=$!
sleep 0.5
t_check "cookie POST from its own origin passes" 201 \
    "$(status POST /v1/incidents "${CK[@]}" -H "Origin: $BASE" -d "$INC")"
t_check "INC-1 declared" INC-1 "$(body | jq -r .incident_id)"
sleep 1 # a viewer sees the event within 1 s of its publication (the stream is still open)
t_contains "incident.opened on the stream within 1 s" "event: incident.opened" "$(cat "$T_TMP/stream1")"
t_check "Referer of this origin passes" 201 \
    "$(status POST /v1/incidents "${CK[@]}" -H "Referer: $BASE/#/incidents" -d "${INC//EMEA/APAC}")"
t_check "bearer POST needs no Origin" 200 \
    "$(status POST /v1/incidents/INC-1/note -H "Authorization: Bearer $RESP" -d '{"text":"looking"}')"
wait $SPID
S1=$(cat "$T_TMP/stream1")
t_contains "stream starts with retry" "retry: 2000" "$S1"
t_contains "stream carries incident.opened" "event: incident.opened" "$S1"
DATA=$(printf '%s\n' "$S1" | grep -A1 '^event: incident.opened' | sed -n 's/^data: //p' | head -1)
t_check "event data names the incident" "incident.opened INC-1" "$(printf '%s' "$DATA" | jq -r '"\(.topic) \(.incident)"')"
NOTE=$(printf '%s\n' "$S1" | grep -A1 '^event: incident.timeline' | sed -n 's/^data: //p' |
    jq -r 'select(.incident == "INC-1") | .topic' | sort -u)
t_check "a note is announced as incident.timeline" "incident.timeline" "$NOTE"
t_check "event data has seq and at_ms" "number number" "$(printf '%s' "$DATA" | jq -r '"\(.seq|type) \(.at_ms|type)"')"
ID1=$(printf '%s' "$DATA" | jq -r .seq)
t_contains "the id line is the seq" "id: $ID1" "$S1"

# Last-Event-ID: everything after INC-1's opening is sent again; an unknown id gets a reset
timeout 2 curl -sN "${CK[@]}" -H "Last-Event-ID: $ID1" "$BASE/v1/stream" >"$T_TMP/stream2" 2>/dev/null
t_contains "resume sends INC-2's opening" '"incident":"INC-2"' "$(cat "$T_TMP/stream2")"
case "$(cat "$T_TMP/stream2")" in *"id: $ID1"$'\n'*) again=yes ;; *) again=no ;; esac
t_check "resume does not repeat the last event" no "$again"
timeout 2 curl -sN "${CK[@]}" -H "Last-Event-ID: 7" "$BASE/v1/stream" >"$T_TMP/stream3" 2>/dev/null
t_contains "an id out of the ring gets a reset" "event: reset" "$(cat "$T_TMP/stream3")"
t_check "stream is text/event-stream" 200 "$(curl -s -o /dev/null -D "$H" -w '%{http_code}' -I "${CK[@]}" "$BASE/v1/stream")"
t_contains "stream content type" "content-type: text/event-stream" "$(tr -d '\r' <"$H" | tr A-Z a-z)"
t_check "stream needs a viewer" 401 "$(status GET /v1/stream)"
t_check "stream refuses ingest" 403 "$(status GET /v1/stream -H "Authorization: Bearer $INGEST")"
# web.max_streams=2: a third stream is refused with 503 and Retry-After
(timeout 3 curl -sN "${CK[@]}" "$BASE/v1/stream" >/dev/null 2>&1) &
P1=$!
(timeout 3 curl -sN "${CK[@]}" "$BASE/v1/stream" >/dev/null 2>&1) &
P2=$!
sleep 0.5
t_check "third stream 503" 503 "$(curl -s -o /dev/null -D "$H" -w '%{http_code}' --max-time 2 "${CK[@]}" "$BASE/v1/stream")"
t_contains "503 says when to retry" "retry-after: 1" "$(tr -d '\r' <"$H" | tr A-Z a-z)"
wait $P1 $P2

# roles through a session
t_check "viewer login" 201 "$(login "$VIEW")"
VC=(-H "Cookie: $(cookie_of)")
t_check "viewer session may read" 200 "$(status GET /v1/incidents "${VC[@]}")"
t_check "viewer session cannot mitigate" 403 \
    "$(status POST /v1/mitigations "${VC[@]}" -H "Origin: $BASE" -d '{"kind":"flag","flag":"x","value":true}')"
t_contains "403 names the role" "needs the responder role; the session has viewer" "$(body)"
t_check "admin login" 201 "$(login "$ADMIN")"
AC=(-H "Cookie: $(cookie_of)")
t_check "admin lists sessions" 200 "$(status GET /v1/sessions "${AC[@]}")"
t_check "sessions listed with short ids" 8 "$(body | jq -r '.sessions[0].id | length')"
t_check "sessions by name" "web-admin,web-resp,web-view" "$(body | jq -r '[.sessions[].name] | unique | join(",")')"
case "$(body)" in *"${C#oncue_session=}"*) leaked=yes ;; *) leaked=no ;; esac
t_check "listing never shows a cookie" no "$leaked"

# refused logins
t_check "ingest token cannot open a session" 403 "$(login "$INGEST")"
t_contains "403 names token" "token: an ingest token" "$(body)"
t_check "unknown token 401" 401 "$(login oct_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)"
t_contains "401 names token" "token: unknown or revoked" "$(body)"
t_check "missing token 401" 401 "$(status POST /v1/session "${J[@]}" -d '{}')"
t_contains "missing token named" "token: required" "$(body)"
t_check "token not a string 422" 422 "$(status POST /v1/session "${J[@]}" -d '{"token": 5}')"
t_check "unknown field 422" 422 "$(status POST /v1/session "${J[@]}" -d "{\"token\":\"$RESP\",\"ttl\":1}")"
t_contains "unknown field named" "ttl: unknown field" "$(body)"
t_check "not JSON 400" 400 "$(status POST /v1/session "${J[@]}" -d 'token')"
t_check "login from another origin 403" 403 "$(login "$RESP" -H 'Origin: http://evil.example')"
t_check "login from this origin" 201 "$(login "$RESP" -H "Origin: $BASE")"

# sign out
t_check "sign out 204" 204 "$(status DELETE /v1/session "${CK[@]}" -H "Origin: $BASE" -D "$H")"
t_contains "sign out clears the cookie" "set-cookie: oncue_session=; path=/; httponly; samesite=strict; max-age=0" "$(tr -d '\r' <"$H" | tr A-Z a-z)"
t_check "the ended session is refused" 401 "$(status GET /v1/session "${CK[@]}")"
t_contains "401 says sign in" "sign in again" "$(body)"
t_check "a bearer has no session to end" 409 "$(status DELETE /v1/session -H "Authorization: Bearer $RESP")"

# revoking the token ends its sessions at once
t_check "fresh responder session" 201 "$(login "$RESP")"
RC=(-H "Cookie: $(cookie_of)")
t_check "it works" 200 "$(status GET /v1/session "${RC[@]}")"
RID=$(curl -s -H "Authorization: Bearer $ADMIN" "$BASE/v1/tokens" | jq -r '.tokens[] | select(.name=="web-resp") | .id')
t_check "revoke the responder token" 204 "$(status DELETE "/v1/tokens/$RID" -H "Authorization: Bearer $ADMIN")"
t_check "its session is refused" 401 "$(status GET /v1/session "${RC[@]}")"
t_check "its token cannot sign in" 401 "$(login "$RESP")"

t_check "audit records the login by the token's name" 200 "$(status GET '/v1/audit?limit=1000' -H "Authorization: Bearer $ADMIN")"
t_contains "login audited" '"actor":"web-view","action":"POST /v1/session"' "$(body)"
case "$(body)" in *oncue_session* | *"${C#oncue_session=}"* | *"$RESP"*) leaked=yes ;; *) leaked=no ;; esac
t_check "audit holds no secret" no "$leaked"
stop_server TERM
t_check "server stops cleanly" 0 "$SERVER_RC"
t_done
