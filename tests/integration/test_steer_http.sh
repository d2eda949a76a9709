#!/usr/bin/env bash
# Content steering end to end over real HTTP: public steering routes (headers, 410, 429 with
# Retry-After, 400), the policy API (roles, 422, audit), `oncue mitigate` shift-cdn / dry run /
# list / revert / flag against the running server, /v1/flags, and the metrics it exposes.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ADMIN=$(new_token "$D" admin it-admin)
RESP=$(new_token "$D" responder it-resp)
VIEW=$(new_token "$D" viewer it-view)
cat >"$T_TMP/policy.json" <<'JSON'
{"ttl": 5, "pathways": ["cdn-a", "cdn-b"], "retired": ["gone"],
 "rules": [{"name": "emea-tv", "region": "EMEA", "device": "tv", "priority": ["cdn-b"]}],
 "flags": [{"name": "abr2", "on": true}]}
JSON
start_server "$D" --set steer.max_rps=1000 --set steer.region_header=X-Edge-Region \
    --set steer.policy_file="$T_TMP/policy.json" || exit 1

# --- steering (public) ---
t_check "hls 200" 200 "$(status GET '/v1/steering/hls/movie?_HLS_pathway=cdn-a&_HLS_throughput=985600&session=s1')"
t_check "hls manifest" '{"VERSION":1,"TTL":5,"RELOAD-URI":"movie?session=s1","PATHWAY-PRIORITY":["cdn-a","cdn-b"]}' "$(body)"
h=$(curl -s -D - -o /dev/null "$BASE/v1/steering/dash/movie?_DASH_pathway=%22cdn-a%22&_DASH_throughput=")
t_contains "no-store" "Cache-Control: no-store" "$h"
t_contains "CORS" "Access-Control-Allow-Origin: *" "$h"
t_contains "json type" "Content-Type: application/json" "$h"
status GET '/v1/steering/dash/movie?device=tv&session=s2' -H 'X-Edge-Region: EMEA' >/dev/null
t_contains "trusted region header decides" '"PATHWAY-PRIORITY":["cdn-b","cdn-a"]' "$(body)"
t_contains "header region carried in RELOAD-URI" '"movie?region=EMEA&device=tv&session=s2"' "$(body)"
status GET '/v1/steering/hls/movie?region=NA&device=tv&session=s2' -H 'X-Edge-Region: EMEA' >/dev/null
t_contains "query region wins over the header" '"PATHWAY-PRIORITY":["cdn-a","cdn-b"]' "$(body)"
t_check "retired asset 410" 410 "$(status GET /v1/steering/hls/gone)"
t_contains "410 is problem+json" '"status":410' "$(body)"
t_check "bad query 400" 400 "$(status GET '/v1/steering/hls/movie?_HLS_pathway=%zz')"

# --- policy API ---
t_check "policy needs a token" 401 "$(status GET /v1/steering/policies)"
t_check "viewer reads the policy" 200 "$(status GET /v1/steering/policies -H "Authorization: Bearer $VIEW")"
t_contains "policy as set" '"emea-tv"' "$(body)"
t_check "viewer cannot PUT" 403 "$(status PUT /v1/steering/policies -H "Authorization: Bearer $VIEW" -d '{}')"
t_check "bad policy 422" 422 "$(status PUT /v1/steering/policies -H "Authorization: Bearer $ADMIN" -d '{"pathways":["a"],"rules":[{"name":"r","priority":["zz"]}]}')"
t_contains "422 names the field" 'rules[0].priority[0]' "$(body)"

# --- mitigations through the CLI ---
export ONCUE_SERVER=$BASE ONCUE_TOKEN=$RESP
out=$("$ONCUE_BIN" mitigate shift-cdn --region NA --from cdn-a --to cdn-b --dry-run)
t_check "dry run exits 0" 0 "$?"
t_contains "dry run shows after" '"cdn-b",' "$(echo "$out" | sed -n '/^after/,$p' | tr -d ' \n')"
t_check "dry run applied nothing" 0 "$("$ONCUE_BIN" mitigate list --json | grep -c '"id"')"
out=$("$ONCUE_BIN" mitigate shift-cdn --region NA --from cdn-a --to cdn-b)
t_check "shift-cdn exits 0" 0 "$?"
t_contains "shift-cdn prints the record" "#1 active" "$out"
t_contains "follow-up deadline" "follow-up due" "$out"
status GET '/v1/steering/hls/movie?region=NA&session=s3' >/dev/null
t_contains "NA moved to cdn-b" '"PATHWAY-PRIORITY":["cdn-b","cdn-a"]' "$(body)"
status GET '/v1/steering/hls/movie?region=SA&session=s3' >/dev/null
t_contains "SA unchanged" '"PATHWAY-PRIORITY":["cdn-a","cdn-b"]' "$(body)"
"$ONCUE_BIN" mitigate shift-cdn --region NA --to cdn-z >/dev/null 2>"$T_TMP/err"
t_check "unknown pathway exits 1" 1 "$?"
t_contains "unknown pathway explained" "cdn-z" "$(cat "$T_TMP/err")"
"$ONCUE_BIN" mitigate shift-cdn --region NA --to cdn-b --token "$VIEW" >/dev/null 2>"$T_TMP/err"
t_check "viewer cannot mitigate" 1 "$?"
"$ONCUE_BIN" mitigate flag --name abr2 --off --player-version 1.7.4 >/dev/null
t_check "flag exits 0" 0 "$?"
t_check "flags 200" 200 "$(status GET '/v1/flags?player=hls.js&player_version=1.7.4')"
t_check "flag off for 1.7.4" '{"flags":{"abr2":false}}' "$(body)"
status GET '/v1/flags?player_version=1.8.0' >/dev/null
t_check "flag on for others" '{"flags":{"abr2":true}}' "$(body)"
"$ONCUE_BIN" mitigate rollback --service packager --reason "bad build 4.2.1" >/dev/null
t_check "rollback exits 0" 0 "$?"
t_contains "reason recorded" '"reason": "bad build 4.2.1"' "$("$ONCUE_BIN" mitigate list --json)"
list=$("$ONCUE_BIN" mitigate list)
t_contains "list shows the shift" "#1 active   shift-cdn" "$list"
t_contains "list shows the rollback" "rollback" "$list"
"$ONCUE_BIN" mitigate backup-origin --service packager --host backup.example.net:8080 >/dev/null
t_check "backup-origin exits 0" 0 "$?"
status GET '/v1/steering/hls/movie?region=SA&session=s4' >/dev/null
t_contains "backup clone served first" '"PATHWAY-PRIORITY":["backup-packager",' "$(body)"
t_contains "backup clone HOST" '"HOST":"backup.example.net:8080"' "$(body)"
out=$("$ONCUE_BIN" steer manifest movie dash 'region=SA&session=s4' --token "$VIEW")
t_check "steer manifest exits 0" 0 "$?"
t_contains "steer manifest prints it" '"backup-packager"' "$out"
bid=$("$ONCUE_BIN" mitigate list --json | grep -B3 '"backup-origin"' | grep -o '"id": [0-9]*' | head -1 | grep -o '[0-9]*$')
"$ONCUE_BIN" mitigate revert "$bid" >/dev/null
t_check "revert backup-origin exits 0" 0 "$?"
echo '{"ttl": 5, "pathways": ["cdn-a", "cdn-b"], "retired": ["gone"], "flags": [{"name": "abr2", "on": true}]}' >"$T_TMP/p2.json"
"$ONCUE_BIN" steer policy set "$T_TMP/p2.json" --token "$ADMIN" >/dev/null
t_check "steer policy set exits 0" 0 "$?"
t_contains "steer policy show" '"retired"' "$("$ONCUE_BIN" steer policy show --token "$VIEW")"
t_contains "the shift survives a policy change" '"PATHWAY-PRIORITY":["cdn-b","cdn-a"]' \
    "$(curl -s "$BASE/v1/steering/hls/movie?region=NA&session=s3")"
"$ONCUE_BIN" mitigate revert 1 >/dev/null
t_check "revert exits 0" 0 "$?"
status GET '/v1/steering/hls/movie?region=NA&session=s3' >/dev/null
t_contains "NA back on cdn-a" '"PATHWAY-PRIORITY":["cdn-a","cdn-b"]' "$(body)"
"$ONCUE_BIN" mitigate revert 1 >/dev/null 2>"$T_TMP/err"
t_check "second revert exits 1" 1 "$?"
t_contains "second revert is 409" "409" "$(cat "$T_TMP/err")"
t_check "audit has the mitigation" 200 "$(status GET /v1/audit -H "Authorization: Bearer $ADMIN")"
t_contains "audited" '/v1/mitigations' "$(body)"

# --- metrics ---
m=$(curl -s "$BASE/metrics")
t_contains "throughput counted" 'oncue_steer_throughput_bytes_per_second_count{pathway="cdn-a"} 1' "$m"
t_contains "410 counted" 'oncue_steer_rejected_total{reason="retired"} 1' "$m"
t_check "promtool accepts the steering metrics" "" "$(promtool check metrics <<<"$m" 2>&1)"
stop_server

# --- overload: 429 with Retry-After ---
start_server "$D" --set steer.max_rps=1 || exit 1
codes=""
for i in 1 2 3; do codes="$codes $(status GET /v1/steering/hls/movie)"; done
t_contains "over the cap answers 429" "429" "$codes"
h=$(curl -s -D - -o /dev/null "$BASE/v1/steering/hls/movie")
t_contains "Retry-After" "Retry-After: 1" "$h"
t_contains "policy persisted across restart" '"retired"' "$(curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/steering/policies")"
stop_server
t_done
