#!/usr/bin/env bash
# test_probe_pathways.sh - a probed stream whose URL names {pathway} follows the steering
# policy: the real `oncue serve` (steer and probe modules) probes the stream once per pathway
# of examples-like policy (primary, secondary), each at its own URL on a local HTTP server
# (Python's http.server: a VOD HLS playlist under /primary/ and /secondary/); an admin
# replaces the policy (PUT /v1/steering/policies) with a third pathway the server does not
# serve: the prober follows within a poll or two, reports http_status on that pathway alone,
# keeps the other two up, and the finding recovers once the pathway leaves the policy again.
. "$(dirname "$0")/lib.sh"

W="$T_TMP/www"
for p in primary secondary; do
    mkdir -p "$W/$p"
    printf '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:2.0,\nseg0.ts\n#EXTINF:2.0,\nseg1.ts\n#EXT-X-ENDLIST\n' >"$W/$p/master.m3u8"
    head -c 4000 /dev/zero >"$W/$p/seg0.ts"
    head -c 4000 /dev/zero >"$W/$p/seg1.ts"
done
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$W" && exec python3 -m http.server "$PORT" --bind 127.0.0.1 >/dev/null 2>&1) &
WEB_PID=$!
trap 'kill $WEB_PID 2>/dev/null; t_cleanup' EXIT
for _ in $(seq 1 50); do
    curl -sf "http://127.0.0.1:$PORT/primary/master.m3u8" >/dev/null && break
    sleep 0.1
done

echo '{"ttl": 10, "pathways": ["primary", "secondary"]}' >"$T_TMP/policy.json"
cat >"$T_TMP/probes.yaml" <<YML
- name: vod
  kind: hls
  poll_s: 1
  url: http://127.0.0.1:$PORT/{pathway}/master.m3u8
YML
D="$T_TMP/data"
mkdir -p "$D"
VIEW=$(new_token "$D" viewer it-view)
ADMIN=$(new_token "$D" admin it-admin)
start_server "$D" --modules steer,probe --set steer.policy_file="$T_TMP/policy.json" \
    --set probe.file="$T_TMP/probes.yaml" --set probe.outbound_allow=127.0.0.1 \
    --set probe.timeout_ms=1500 || t_done

# pathways: "name up url" of each, in order; kinds: the active findings' "kind pathway-detail"
# (as an admin: a viewer sees the URLs cut after the host, test_probe_url_redact.sh)
pathways() {
    curl -s -H "Authorization: Bearer $ADMIN" "$BASE/v1/probes" |
        jq -r '.probes[0].pathways | map("\(.pathway) \(.up) \(.url)") | join("; ")'
}
findings() {
    curl -s -H "Authorization: Bearer $ADMIN" "$BASE/v1/probes" |
        jq -r '.probes[0].findings | map("\(.kind): \(.detail)") | join("; ")'
}
wait_for_text() { # SECONDS EXPECTED COMMAND...: until COMMAND prints EXPECTED; prints the last
    local until=$(( $(date +%s) + $1 )) want=$2 out=""; shift 2
    while [ "$(date +%s)" -le "$until" ]; do
        out=$("$@")
        [ "$out" = "$want" ] && break
        sleep 0.3
    done
    echo "$out"
}
U="http://127.0.0.1:$PORT"
t_check "GET /v1/probes keeps the template as written" "$U/{pathway}/master.m3u8" \
    "$(curl -s -H "Authorization: Bearer $ADMIN" "$BASE/v1/probes" | jq -r '.probes[0].url')"
t_check "one pathway per pathway of the policy, each up" \
    "primary true $U/primary/master.m3u8; secondary true $U/secondary/master.m3u8" \
    "$(wait_for_text 10 "primary true $U/primary/master.m3u8; secondary true $U/secondary/master.m3u8" pathways)"

# 2. the policy gains a pathway nobody serves
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' -d '{"ttl": 10, "pathways": ["primary", "secondary", "tertiary"]}' \
    "$BASE/v1/steering/policies")
t_check "the policy is replaced" 200 "$code"
t_check "the prober follows: three pathways, the new one down" \
    "primary true $U/primary/master.m3u8; secondary true $U/secondary/master.m3u8; tertiary false $U/tertiary/master.m3u8" \
    "$(wait_for_text 10 "primary true $U/primary/master.m3u8; secondary true $U/secondary/master.m3u8; tertiary false $U/tertiary/master.m3u8" pathways)"
t_check "http_status on the new pathway alone" "http_status: tertiary: 404 from $U/tertiary/master.m3u8" \
    "$(wait_for_text 10 "http_status: tertiary: 404 from $U/tertiary/master.m3u8" findings)"

# 3. it leaves the policy: the finding recovers (two polls without it), the others stay up
curl -s -o /dev/null -X PUT -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    -d '{"ttl": 10, "pathways": ["secondary", "primary"]}' "$BASE/v1/steering/policies"
t_check "back to two pathways, in the policy's order" \
    "secondary true $U/secondary/master.m3u8; primary true $U/primary/master.m3u8" \
    "$(wait_for_text 10 "secondary true $U/secondary/master.m3u8; primary true $U/primary/master.m3u8" pathways)"
t_check "the finding recovered" "" "$(wait_for_text 10 "" findings)"
t_contains "the log says the streams followed" "follow the steering policy's new pathways" \
    "$(cat "$T_TMP/server.log")"

# a template is refused where a pathway name could not be put in a URL
code=$(curl -s -o "$T_TMP/bad.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" \
    -H 'Content-Type: application/json' -d '{"name": "x", "url": "ftp://{pathway}/a.m3u8"}' "$BASE/v1/probes")
t_check "a bad template is 422" 422 "$code"
t_contains "... naming the URL" "must be http:// or https://" "$(cat "$T_TMP/bad.json")"
# SIGHUP re-reads the file: a stream it already probes takes what the file now says of it
sed -i 's/poll_s: 1/poll_s: 2.5/' "$T_TMP/probes.yaml"
kill -HUP "$SERVER_PID"
for _ in $(seq 1 50); do grep -q 'SIGHUP' "$T_TMP/server.log" && break; sleep 0.1; done
t_contains "the reload says one stream changed" "probe: 1 streams in $T_TMP/probes.yaml (0 new, 1 changed)" \
    "$(grep 'SIGHUP' "$T_TMP/server.log" | tail -1)"
t_check "the new poll_s is in force" 2.5 \
    "$(wait_for_text 10 2.5 sh -c "curl -s -H 'Authorization: Bearer $VIEW' '$BASE/v1/probes' | jq -r '.probes[0].poll_s'")"
t_check "... its pathways up, in the order of the policy file the SIGHUP re-read too" \
    "primary true $U/primary/master.m3u8; secondary true $U/secondary/master.m3u8" \
    "$(wait_for_text 10 "primary true $U/primary/master.m3u8; secondary true $U/secondary/master.m3u8" pathways)"
kill -HUP "$SERVER_PID"
for _ in $(seq 1 50); do [ "$(grep -c 'SIGHUP' "$T_TMP/server.log")" -ge 2 ] && break; sleep 0.1; done
t_contains "the same file again changes nothing" "(0 new, 0 changed)" \
    "$(grep 'SIGHUP' "$T_TMP/server.log" | tail -1)"
stop_server
t_check "the server stops cleanly" 0 "$SERVER_RC"
t_done
