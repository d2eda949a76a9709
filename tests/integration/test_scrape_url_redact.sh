#!/usr/bin/env bash
# A scrape URL may carry a credential: a token in its query string (?token=) or in its path
# (hdnts=...); user information is refused when the file is read (src/scrape/spec.c). As for
# probed URLs (test_probe_url_redact.sh): a viewer or responder sees each target's URL cut
# after its host on GET /v1/scrape/targets (the url, the last error, the "down" finding); an
# admin sees the URL whole and the error and finding with the query and path token taken out;
# what a failing target becomes on the bus (alerts, incidents, the console's event stream) names
# the host only; the log never holds the token.
. "$(dirname "$0")/lib.sh"
W="$T_TMP/www"
mkdir -p "$W"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$W" >"$T_TMP/http.log" 2>&1 &
HTTP_PID=$!
trap 'kill $HTTP_PID 2>/dev/null; t_cleanup' EXIT
for _ in $(seq 1 100); do
    PORT=$(grep -o 'port [0-9]*' "$T_TMP/http.log" | head -1 | cut -d' ' -f2)
    [ -n "$PORT" ] && break
    sleep 0.1
done
# a: answers 404 (no such file), its token in the query; b: refused (port 9), token in the path
A="http://127.0.0.1:$PORT/metrics?token=SECRET1&region=eu"
B="http://127.0.0.1:9/hdnts=exp=1~hmac=SECRET2/metrics"
cat >"$T_TMP/scrape.yaml" <<YML
- name: a
  service: origin
  url: "$A"
  interval_s: 0.5
- name: b
  service: packager
  url: "$B"
  interval_s: 0.5
YML
D="$T_TMP/data"
mkdir -p "$D"
ADMIN=$(new_token "$D" admin it-admin)
VIEW=$(new_token "$D" viewer it-view)
RESP=$(new_token "$D" responder it-resp)
t_check "three tokens" 3 "$(printf '%s\n' "$ADMIN" "$VIEW" "$RESP" | grep -c .)"
start_server "$D" --modules catalog,alert,incident,web,scrape --set scrape.file="$T_TMP/scrape.yaml" \
    --set scrape.outbound_allow=127.0.0.1 --set scrape.timeout_ms=1000 || t_done

get() { curl -s -H "Authorization: Bearer $1" "$BASE$2"; }
# tgt TOKEN NAME JQ: the jq expression over target NAME as TOKEN sees it
tgt() { get "$1" /v1/scrape/targets | jq -r --arg n "$2" ".targets[] | select(.name == \$n) | $3"; }
both_down() { [ "$(get "$ADMIN" /v1/scrape/targets | jq '[.targets[] | select(.state == "down")] | length')" = 2 ]; }
for _ in $(seq 1 100); do both_down && break; sleep 0.1; done
t_check "both targets are down" 1 "$(both_down && echo 1 || echo 0)"
E=$'\u2026'

for who in VIEW RESP; do
    tok=${!who}
    t_check "$who: a's url cut after the host" "http://127.0.0.1:$PORT/$E" "$(tgt "$tok" a .url)"
    t_check "$who: b's url cut after the host" "http://127.0.0.1:9/$E" "$(tgt "$tok" b .url)"
    t_check "$who: a's error names the host" "http://127.0.0.1:$PORT/$E answered 404" "$(tgt "$tok" a .error)"
    t_contains "$who: b's error names the host" "http://127.0.0.1:9/$E: " "$(tgt "$tok" b .error)"
    t_contains "$who: a's down finding" "scrapes failed: http://127.0.0.1:$PORT/$E answered 404" \
        "$(tgt "$tok" a '.findings[] | select(.rule == "down") | .detail')"
    t_check "$who: no path or token anywhere" 0 "$(get "$tok" /v1/scrape/targets | grep -c 'SECRET\|metrics\|hdnts')"
done
t_check "admin: the urls whole" "$A $B" "$(tgt "$ADMIN" a .url) $(tgt "$ADMIN" b .url)"
t_check "admin: a's error keeps the path, not the query" "http://127.0.0.1:$PORT/metrics?$E answered 404" \
    "$(tgt "$ADMIN" a .error)"
t_contains "admin: b's error keeps the path up to the token" "http://127.0.0.1:9/$E: " "$(tgt "$ADMIN" b .error)"
t_check "admin: no token in an error or finding" 0 \
    "$(get "$ADMIN" /v1/scrape/targets | jq -r '.targets[] | .error, .findings[].detail' | grep -c SECRET)"

# where the findings go on the bus: alerts, incidents, the console's event stream
for r in /v1/alerts /v1/incidents; do
    t_check "viewer: $r holds no path or token" 0 "$(get "$VIEW" "$r" | grep -c 'SECRET\|/metrics\|hdnts')"
    t_check "admin: $r holds no token" 0 "$(get "$ADMIN" "$r" | grep -c SECRET)"
done
t_contains "the alert names the host" "127.0.0.1:$PORT/$E answered 404" "$(get "$VIEW" /v1/alerts)"
t_check "the console's event stream holds no path or token" 0 \
    "$(curl -s -m 2 -H "Authorization: Bearer $VIEW" "$BASE/v1/stream?since=0" | grep -c 'SECRET\|/metrics\|hdnts')"
stop_server
t_check "the server stopped cleanly" 0 "$SERVER_RC"
t_check "the log holds no token" 0 "$(grep -c SECRET "$T_TMP/server.log")"
t_contains "the log names the finding" "scrape: scrape.failed a down: " "$(cat "$T_TMP/server.log")"
t_done
