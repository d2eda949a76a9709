#!/usr/bin/env bash
# Probed URLs are often signed (docs/internals/probe.md "Signed URLs"): a token in the query
# string (?token=, Akamai's hdnts=, CloudFront's Policy= and Signature=) or in the path. A
# viewer sees every probed URL cut after its host (oc_url_cut) on each route that shows one:
# GET /v1/probes (the spec, the pathways and the findings' details), the stored findings, and
# whatever the findings become on the bus (alerts, incidents, the status page, the console's
# event stream); an admin sees the stream's URLs whole and the findings with the query and
# path token taken out; the log and the stored findings never hold the token.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ADMIN=$(new_token "$D" admin admin)
VIEW=$(new_token "$D" viewer view)
OPER=$(new_token "$D" responder oper) # there is no "operator" role: a responder
# 127.0.0.1 is refused to the prober (no probe.outbound_allow): both pathways are unreachable
A='http://127.0.0.1:9/chan9/master.m3u8?token=SECRET1&Policy=SECRET2&Signature=SECRET3'
B='https://user:SECRET4@127.0.0.1:9/hdnts=exp=1~hmac=SECRET5/master.m3u8'
start_server "$D" || exit 1
t_check "an admin adds a signed stream" 201 "$(status POST /v1/probes -H "Authorization: Bearer $ADMIN" \
    -d "{\"name\":\"live\",\"kind\":\"hls\",\"service\":\"packager\",\"poll_s\":1,\"urls\":{\"cdn-a\":\"$A\",\"cdn-b\":\"$B\"}}")"
t_check "... and is answered the URLs whole" "$A" "$(body | jq -r '.urls["cdn-a"]')"

# get TOKEN PATH: the answer's body
get() { curl -s -H "Authorization: Bearer $1" "$BASE$2"; }
for _ in $(seq 1 100); do
    [ "$(get "$ADMIN" /v1/probes | jq '.probes[0].findings | length')" = 1 ] && break
    sleep 0.1
done
t_check "the stream is unreachable" unreachable "$(get "$ADMIN" /v1/probes | jq -r '.probes[0].findings[0].kind')"
sleep 1.2 # a second poll, so both pathways have been seen

# GET /v1/probes
t_check "viewer: the urls cut after the host" "http://127.0.0.1:9/\u2026 https://127.0.0.1:9/\u2026" \
    "$(get "$VIEW" /v1/probes | jq -r '[.probes[0].urls[]] | join(" ")' | sed 's/\xe2\x80\xa6/\\u2026/g')"
t_check "viewer: the pathways' urls cut" "http://127.0.0.1:9/\u2026" \
    "$(get "$VIEW" /v1/probes | jq -r '.probes[0].pathways[0].url' | sed 's/\xe2\x80\xa6/\\u2026/g')"
# one finding a kind: the detail is the last pathway's (cdn-b's URL has its token in the path)
t_contains "viewer: the finding names the host only" "://127.0.0.1:9/\u2026: refused" \
    "$(get "$VIEW" /v1/probes | jq -r '.probes[0].last_findings[0].detail' | sed 's/\xe2\x80\xa6/\\u2026/g')"
t_check "responder: cut as well" "0 1" "$(get "$OPER" /v1/probes | grep -c 'SECRET\|chan9') $(get "$OPER" /v1/probes | jq '.probes | length')"
t_check "admin: the urls whole" "$A $B" "$(get "$ADMIN" /v1/probes | jq -r '[.probes[0].urls[]] | join(" ")')"
t_contains "admin: the finding keeps the path up to the token" "127.0.0.1:9/\u2026: refused" \
    "$(get "$ADMIN" /v1/probes | jq -r '.probes[0].last_findings[0].detail' | sed 's/\xe2\x80\xa6/\\u2026/g')"
t_check "admin: no token in a finding" 0 "$(get "$ADMIN" /v1/probes | jq -r '.probes[0].last_findings[].detail' | grep -c SECRET)"

# the stored findings
t_check "viewer: stored findings without a path" 0 "$(get "$VIEW" /v1/probes/live/findings | grep -c 'SECRET\|chan9')"
t_contains "admin: stored findings with the path, without the query" "cdn-a: http://127.0.0.1:9/chan9/master.m3u8?\u2026: refused" \
    "$(get "$ADMIN" /v1/probes/live/findings | jq -r '.findings[].detail' | sed 's/\xe2\x80\xa6/\\u2026/g')"
t_check "admin: stored findings without a token" 0 "$(get "$ADMIN" /v1/probes/live/findings | grep -c SECRET)"

# where the finding goes on the bus: alerts, incidents, the status page and its feeds
for r in /v1/alerts /v1/incidents /status.json /api/v2/incidents.json /status/feed.atom; do
    t_check "viewer: $r holds no path or token" 0 "$(get "$VIEW" "$r" | grep -c 'SECRET\|chan9\|hdnts')"
    t_check "admin: $r holds no token" 0 "$(get "$ADMIN" "$r" | grep -c 'SECRET')"
done
t_contains "the alert names the host" "127.0.0.1:9/" "$(get "$VIEW" /v1/alerts)"
t_check "the console's event stream holds no path or token" 0 \
    "$(curl -s -m 3 -H "Authorization: Bearer $VIEW" "$BASE/v1/stream" | grep -c 'SECRET\|chan9\|hdnts')"
stop_server
t_check "the server stopped cleanly" 0 "$SERVER_RC"
t_check "the log holds no token" 0 "$(grep -c SECRET "$T_TMP/server.log")"
t_contains "the log names the finding" "probe: probe.failed live unreachable: cdn-" "$(cat "$T_TMP/server.log")"
t_check "the findings were stored" 1 "$(sqlite3 "$D/oncue.db" "SELECT count(*) > 0 FROM probe_findings")"
t_check "the stored findings hold no token" 0 \
    "$(sqlite3 "$D/oncue.db" 'SELECT detail FROM probe_findings' | grep -c SECRET)"
t_done
