#!/usr/bin/env bash
# Viewer feedback over real HTTP: NPS and CSAT replies (one, or a batch with ids: a redelivery
# stores nothing) from an ingest token; a reply whose region matches the open incident's slice
# is attributed to it, another names its incident; bad replies are 422 naming the field with
# its index. Trends per service and per incident by day, and the priorities: the incident
# ranked by unhappy replies with its open follow-up, services by unhappy replies plus NPS
# decline (player-tv fell from 75 to -50: 3 + 125/100 * 4 = 8; auth has 2 unhappy CSAT
# replies), all against numbers worked out by hand; `oncue tickets feedback` prints them.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
VIEW=$(new_token "$D" viewer fb-viewer)
ING=$(new_token "$D" ingest fb-ingest)
RESP=$(new_token "$D" responder fb-responder)
start_server "$D" --modules catalog,incident,tickets || exit 1
# before any reply: empty answers, not a crash (the sanitizer build aborts on qsort(NULL, 0))
t_check "priorities with no feedback" 200 "$(status GET /v1/feedback/priorities -H "Authorization: Bearer $VIEW")"
t_check "... lists no incident" 0 "$(body | jq '.incidents | length')"
NOW=$(date +%s)
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
fb() { status POST /v1/feedback -H "Authorization: Bearer $ING" -H 'Content-Type: application/json' -d "$1"; }

t_check "declare" 201 "$(status POST /v1/incidents -H "Authorization: Bearer $RESP" -H 'Content-Type: application/json' \
    -d '{"alert_id":"manual/eu-buffering","rule":"manual","metric":"rebuffer_ratio","summary":"EU buffering","slice":{"region":"EU","symptom":"buffering"}}')"
INC=$(jq -r .id <<<"$(body)")
INC=${INC#INC-}
t_check "a follow-up" 200 "$(status POST "/v1/incidents/$INC/followups" -H "Authorization: Bearer $RESP" -d '{"title":"Drain the Frankfurt edge automatically","due_hours":48}')"

t_check "one reply from a player" 201 "$(fb "{\"kind\":\"nps\",\"score\":3,\"text\":\"Kept buffering\",\"service\":\"player-tv\",\"region\":\"eu\",\"segment\":\"Consumer\",\"source\":\"player\"}")"
t_check "attributed to the open incident" "1 0 $INC" "$(jq -r '"\(.stored) \(.duplicates) \(.responses[0].incident_id)"' <<<"$(body)")"
B="{\"responses\":[
 {\"id\":\"p1\",\"kind\":\"nps\",\"score\":10,\"service\":\"player-tv\",\"at\":$((NOW - 9 * 86400))},
 {\"id\":\"p2\",\"kind\":\"nps\",\"score\":10,\"service\":\"player-tv\",\"at\":$((NOW - 9 * 86400))},
 {\"id\":\"p3\",\"kind\":\"nps\",\"score\":9,\"service\":\"player-tv\",\"at\":$((NOW - 9 * 86400))},
 {\"id\":\"p4\",\"kind\":\"nps\",\"score\":8,\"service\":\"player-tv\",\"at\":$((NOW - 9 * 86400))},
 {\"id\":\"r1\",\"kind\":\"nps\",\"score\":2,\"service\":\"player-tv\",\"at\":\"$(iso $((NOW - 86400)))\"},
 {\"id\":\"r2\",\"kind\":\"nps\",\"score\":5,\"service\":\"player-tv\",\"at\":\"$(iso $((NOW - 86400)))\"},
 {\"id\":\"r3\",\"kind\":\"nps\",\"score\":9,\"service\":\"player-tv\",\"at\":\"$(iso $((NOW - 86400)))\"},
 {\"id\":\"c1\",\"kind\":\"csat\",\"score\":1,\"service\":\"auth\",\"incident_id\":\"INC-$INC\",\"tier\":\"Premium\"},
 {\"id\":\"c2\",\"kind\":\"csat\",\"score\":2,\"service\":\"auth\"},
 {\"id\":\"c3\",\"kind\":\"csat\",\"score\":5,\"service\":\"auth\",\"source\":\"iOS\"}]}"
t_check "a batch" 201 "$(fb "$B")"
t_check "ten stored" "10 0" "$(jq -r '"\(.stored) \(.duplicates)"' <<<"$(body)")"
t_check "the named incident" "$INC" "$(jq -r '.responses[7].incident_id' <<<"$(body)")"
t_check "redelivered" 200 "$(fb "$B")"
t_check "nothing stored twice" "0 10 duplicate" "$(jq -r '"\(.stored) \(.duplicates) \(.responses[0].outcome)"' <<<"$(body)")"

# refusals
t_check "no kind" 422 "$(fb '{"score":3}')"
t_check "names kind" "kind: nps or csat" "$(jq -r .detail <<<"$(body)")"
t_check "score out of range, with its index" 422 "$(fb '{"responses":[{"kind":"csat","score":3},{"kind":"nps","score":11}]}')"
t_check "names it" "responses[1].score: an integer from 0 to 10 (nps)" "$(jq -r .detail <<<"$(body)")"
t_check "nothing of a refused batch is stored" 0 "$(curl -s "$BASE/v1/feedback/trends?by=source" -H "Authorization: Bearer $VIEW" | jq '[.groups[].total.csat_responses] | add - 3')"
t_check "bad tier" 422 "$(fb '{"kind":"csat","score":3,"tier":"gold"}')"
t_check "bad incident" 422 "$(fb '{"kind":"csat","score":3,"incident_id":"yesterday"}')"
t_check "bad time" 422 "$(fb '{"kind":"csat","score":3,"at":"soon"}')"
t_check "not JSON" 400 "$(fb 'nope')"
BIG=$(python3 -c 'import json; print(json.dumps({"responses": [{"kind": "nps", "score": 5}] * 101}))')
t_check "over 100 replies" 413 "$(fb "$BIG")"
t_check "needs a token" 401 "$(status POST /v1/feedback -d '{"kind":"nps","score":5}')"
t_check "a viewer token cannot post" 403 "$(status POST /v1/feedback -H "Authorization: Bearer $VIEW" -d '{"kind":"nps","score":5}')"

# trends
status GET '/v1/feedback/trends?by=service&bucket=day' -H "Authorization: Bearer $VIEW" >/dev/null
R=$(body)
t_check "groups by service" "auth player-tv" "$(jq -r '[.groups[].key] | join(" ")' <<<"$R")"
t_check "player-tv in all: 8 replies, 4 promoters, 3 detractors, NPS 12.5" "8 4 3 12.5" "$(jq -r '.groups[1].total | "\(.nps_responses) \(.promoters) \(.detractors) \(.nps)"' <<<"$R")"
t_check "player-tv by day: 75, then -33.3, then -100" "75 -33.3 -100" "$(jq -r '[.groups[1].points[].nps | . * 10 | round / 10] | join(" ")' <<<"$R")"
t_check "auth CSAT: 3 replies, 1 satisfied, 2 unhappy, mean 2.67" "3 1 2 33.3 2.67" "$(jq -r '.groups[0].total | "\(.csat_responses) \(.satisfied) \(.unhappy) \(.csat_pct * 10 | round / 10) \(.csat_mean * 100 | round / 100)"' <<<"$R")"
status GET '/v1/feedback/trends?by=incident&bucket=week' -H "Authorization: Bearer $VIEW" >/dev/null
t_check "by incident" "(none):9 $INC:2" "$(jq -r '[.groups[] | "\(.key):\(.total.nps_responses + .total.csat_responses)"] | join(" ")' <<<"$(body)")"
t_check "the incident's replies: one NPS 3, one CSAT 1" "$INC 1 1 2" "$(jq -r '.groups[] | select(.key == "'"$INC"'") | .total | "'"$INC"' \(.nps_responses) \(.csat_responses) \(.unhappy)"' <<<"$(body)")"
t_check "bad by" 422 "$(status GET '/v1/feedback/trends?by=colour' -H "Authorization: Bearer $VIEW")"
t_check "bad bucket" 422 "$(status GET '/v1/feedback/trends?bucket=hour' -H "Authorization: Bearer $VIEW")"

# priorities
status GET /v1/feedback/priorities -H "Authorization: Bearer $VIEW" >/dev/null
R=$(body)
t_check "the incident first, with its open follow-up" "1 $INC 2 Drain the Frankfurt edge automatically" "$(jq -r '.incidents[0] | "\(.rank) \(.incident_id) \(.score) \(.open_followups[0].title)"' <<<"$R")"
t_check "services: player-tv (3 + 125/100 * 4 = 8) before auth (2)" "player-tv:8:75:-125 auth:2:null:null" "$(jq -r '[.services[] | "\(.service):\(.score):\(.nps_previous):\(.nps_change)"] | join(" ")' <<<"$R")"

# the command line
CLI=("$ONCUE_BIN" tickets --server "$BASE" --token "$VIEW")
t_check "cli feedback priorities" "1 player-tv 8.0" "$("${CLI[@]}" feedback priorities | awk '/^SERVICES/ {f = 1; next} f && $1 ~ /^[0-9]/ {print $1, $2, $3; exit}')"
t_check "cli feedback trends --json" "auth player-tv" "$("${CLI[@]}" feedback trends --by service --json | jq -r '[.groups[].key] | join(" ")')"
t_check "cli feedback trends table" "player-tv" "$("${CLI[@]}" feedback trends --by service | awk '$1 == "player-tv" {print $1; exit}')"
stop_server
t_done
