#!/usr/bin/env bash
# Ticket routing over real HTTP: a routing file (tickets.routing_file) sends tickets by
# service x segment x tier to queues; the most specific rule wins, the first in the file among
# equals; a rule without a team takes the catalog's owner of the service (the example
# catalog), with its escalation policy and on-call; VIPs are urgent and premium high, each
# with its first-response time; the route is on the intake's answer, on the stored ticket
# (also after a restart) and changes with a newer update; a queue lists urgent first;
# GET /v1/tickets/route answers what-if; a bad routing file stops the start with FILE:LINE.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
VIEW=$(new_token "$D" viewer tr-viewer)
ING=$(new_token "$D" ingest tr-ingest)
cat >"$T_TMP/routes.yaml" <<'EOF'
# service/segment/tier: queue [team=] [respond_min=]
*/*/vip: vip-desk respond_min=10
player-tv/*/premium: tv-premium team=player
*/enterprise/*: enterprise-desk team=commerce
billing/*/*: billing-desk
*/*/free: self-service
EOF
ARGS=(--modules catalog,tickets --set "tickets.routing_file=$T_TMP/routes.yaml")
start_server "$D" "${ARGS[@]}" || exit 1

# post ID SERVICE TIER SEGMENT [UPDATED]: a generic ticket; prints the status
post() {
    status POST '/v1/tickets?format=generic' -H "Authorization: Bearer $ING" -d "{\"id\":\"$1\",\"subject\":\"Playback problem $1\",\"body\":\"The video will not play\",\"service\":\"$2\",\"tier\":\"$3\",\"segment\":\"$4\",\"created_at\":\"2026-12-06T10:00:00Z\",\"updated_at\":\"${5:-2026-12-06T10:00:00Z}\"}"
}
R='.route | "\(.queue) \(.team) \(.policy) \(.priority) \(.rank) \(.respond_min) \(.rule)"'

t_check "premium TV ticket" 201 "$(post r1 player-tv premium consumer)"
t_check "to the TV premium queue, the rule's team" "tv-premium player player-standard high 2 60 player-tv/*/premium" "$(jq -r "$R" <<<"$(body)")"
t_check "respond by created + 60 min" "2026-12-06T11:00:00Z" "$(jq -r .route.respond_by <<<"$(body)")"
ONCALL=$(curl -s "$BASE/v1/oncall?team=player" -H "Authorization: Bearer $VIEW" | jq -r '.. | .person? // empty' | head -1)
t_check "the team's on-call is known" yes "$([ -n "$ONCALL" ] && echo yes)"
t_check "the team's on-call" "$ONCALL" "$(jq -r .route.oncall <<<"$(body)")"
t_check "a premium VIP on TV" 201 "$(post r2 player-tv 'Premium VIP' consumer)"
t_check "the more specific rule wins, urgent at the VIP time" "tv-premium player player-standard urgent 1 15 player-tv/*/premium" "$(jq -r "$R" <<<"$(body)")"
t_check "a VIP on auth" 201 "$(post r3 auth standard,vip consumer)"
t_check "the VIP desk, the catalog's owner of auth" "vip-desk identity identity-standard urgent 1 10 */*/vip" "$(jq -r "$R" <<<"$(body)")"
t_check "an enterprise ticket" 201 "$(post r4 search standard Enterprise)"
t_check "by segment (enterprise also reads as premium)" "enterprise-desk commerce commerce-standard high 2 60 */enterprise/*" "$(jq -r "$R" <<<"$(body)")"
t_check "free billing" 201 "$(post r5 billing free consumer)"
t_check "two rules of one part: the first in the file" "billing-desk commerce commerce-standard low 4 1440 billing/*/*" "$(jq -r "$R" <<<"$(body)")"
t_check "no rule matches" 201 "$(post r6 '' standard consumer)"
t_check "the default queue, the catalog's default owner" "support playback-services playback-critical normal 3 240 null" "$(jq -r "$R" <<<"$(body)")"
t_check "another premium TV ticket" 201 "$(post r7 player-tv premium consumer)"

# the queue: urgent first, then by respond_by, then arrival
status GET '/v1/tickets?queue=tv-premium&order=priority' -H "Authorization: Bearer $VIEW" >/dev/null
t_check "tv-premium queue in priority order" "r2 r1 r7" "$(jq -r '[.tickets[].external_id] | join(" ")' <<<"$(body)")"
status GET '/v1/tickets?queue=tv-premium' -H "Authorization: Bearer $VIEW" >/dev/null
t_check "newest first by default" "r7 r2 r1" "$(jq -r '[.tickets[].external_id] | join(" ")' <<<"$(body)")"
t_check "bad order" 422 "$(status GET '/v1/tickets?order=oldest' -H "Authorization: Bearer $VIEW")"
t_contains "names the parameter" "order: newest" "$(jq -r .detail <<<"$(body)")"

# a newer update re-routes
t_check "r1 downgraded to free" 200 "$(post r1 player-tv free consumer 2026-12-06T10:05:00Z)"
t_check "routed again" "updated self-service low" "$(jq -r '"\(.outcome) \(.route.queue) \(.route.priority)"' <<<"$(body)")"
ID1=$(jq -r .id <<<"$(body)")

# what-if and the table
status GET '/v1/tickets/route?service=player-tv&tier=premium&vip=1' -H "Authorization: Bearer $VIEW" >/dev/null
t_check "what-if: a VIP premium TV viewer" "tv-premium player player-standard urgent 1 15 player-tv/*/premium" "$(jq -r "${R#.route | }" <<<"$(body)")"
status GET '/v1/tickets/route?segment=Enterprise' -H "Authorization: Bearer $VIEW" >/dev/null
t_check "what-if: a segment as the tagger keeps it" "enterprise-desk" "$(jq -r .queue <<<"$(body)")"
t_check "what-if: a bad tier" 422 "$(status GET '/v1/tickets/route?tier=gold' -H "Authorization: Bearer $VIEW")"
t_contains "names the tier" "tier: premium, standard or free" "$(jq -r .detail <<<"$(body)")"
t_check "what-if needs a token" 401 "$(status GET '/v1/tickets/route?tier=free')"
status GET /v1/tickets/routing -H "Authorization: Bearer $VIEW" >/dev/null
t_check "the routing table" "5 */*/vip:2 vip-desk 10 support 15 60 240 1440" "$(jq -r '"\(.rules | length) \(.rules[0].service)/\(.rules[0].segment)/\(.rules[0].tier):\(.rules[0].line) \(.rules[0].queue) \(.rules[0].respond_min) \(.default_queue) \(.respond_min.urgent) \(.respond_min.high) \(.respond_min.normal) \(.respond_min.low)"' <<<"$(body)")"

# the command line over the API
CLI=("$ONCUE_BIN" tickets --server "$BASE" --token "$VIEW")
t_check "cli list: the queue in priority order" "r2 r7" "$("${CLI[@]}" list --queue tv-premium --order priority | awk 'NR > 1 {print $3}' | xargs)"
t_check "cli list header" "ID SOURCE EXTERNAL QUEUE PRIO SERVICE SYMPTOM CLUSTER INCIDENT SUBJECT" "$("${CLI[@]}" list --limit 1 | head -1 | xargs)"
t_check "cli list --json" "r7 r6" "$("${CLI[@]}" list --limit 2 --json | jq -r '[.tickets[].external_id] | join(" ")')"
t_contains "cli show: the route line" "route        self-service (team player, policy player-standard" "$("${CLI[@]}" show "$ID1")"
t_check "cli route" "queue vip-desk|priority urgent (rank 1)|respond in 10 min" "$("${CLI[@]}" route --service auth --tier standard --vip | grep -E '^(queue|priority|respond)' | sed 's/  */ /g; s/ (by.*//' | paste -sd'|')"
t_check "cli route: a segment with a space" "enterprise-desk" "$("${CLI[@]}" route --segment 'Enter prise' --json | jq -r .queue)"
t_check "cli routing" "2 */*/vip vip-desk" "$("${CLI[@]}" routing | awk 'NR == 4 {print $1, $2, $3}')"
t_check "cli clusters" "ID TICKETS SERVICE SYMPTOM REGION INCIDENT PER_1000 LAST" "$("${CLI[@]}" clusters | sed -n 2p | xargs)"
"${CLI[@]}" show 999999 >/dev/null 2>"$T_TMP/err"
t_check "cli show of no ticket: exit 1" 1 "$?"
t_contains "cli says the status" "HTTP 404" "$(cat "$T_TMP/err")"
"$ONCUE_BIN" tickets list --server "$BASE" >/dev/null 2>&1
t_check "cli without a token: exit 1" 1 "$?"
"${CLI[@]}" frobnicate >/dev/null 2>&1
t_check "cli unknown command: exit 2" 2 "$?"

# the route survives a restart
stop_server
start_server "$D" "${ARGS[@]}" || exit 1
status GET "/v1/tickets/$ID1" -H "Authorization: Bearer $VIEW" >/dev/null
t_check "stored route after a restart" "r1 self-service player low" "$(jq -r '"\(.external_id) \(.route.queue) \(.route.team) \(.route.priority)"' <<<"$(body)")"
stop_server

# a bad routing file: the server does not start, and says where
printf '*/*/vip: vip-desk\nplayer-tv/*: tv\n' >"$T_TMP/bad.yaml"
"$ONCUE_BIN" serve --data "$D" --listen 127.0.0.1:0 --modules catalog,tickets \
    --set "tickets.routing_file=$T_TMP/bad.yaml" 2>"$T_TMP/bad.log" &
BAD=$!
for i in $(seq 1 100); do kill -0 $BAD 2>/dev/null || break; sleep 0.05; done
kill $BAD 2>/dev/null
wait $BAD
t_check "bad routing file refused" "no" "$(kill -0 $BAD 2>/dev/null && echo yes || echo no)"
t_contains "FILE:LINE: why" "bad.yaml:2: player-tv/*: expected SERVICE/SEGMENT/TIER" "$(cat "$T_TMP/bad.log")"
t_done
