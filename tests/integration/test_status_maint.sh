#!/usr/bin/env bash
# Scheduled maintenances on the real server with the example catalog: POST /v1/maintenances
# (responder) with public component names or ids, never internal service names; the three
# /api/v2/scheduled-maintenances*.json paths split them by the server clock into upcoming and
# in progress; a component under one in progress reads under_maintenance, the indicator
# "maintenance"; the HTML page shows them; DELETE; they survive a restart.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
RESP=$(new_token "$D" responder it-resp)
VIEW=$(new_token "$D" viewer it-view)
start_server "$D" || exit 1
get() { curl -s "$BASE/api/v2/$1"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
NOW=$(date +%s)
post() { status POST /v1/maintenances -H "Authorization: Bearer $RESP" -d "$1"; }

ACTIVE="{\"name\": \"Sign-in upgrade\", \"components\": [\"Sign-in\"], \"scheduled_for\": \"$(iso $((NOW - 60)))\",
    \"scheduled_until\": \"$(iso $((NOW + 3600)))\", \"body\": \"Signing in may take longer.\"}"
t_check "without a token" 401 "$(status POST /v1/maintenances -d "$ACTIVE")"
t_check "a viewer may not" 403 "$(status POST /v1/maintenances -H "Authorization: Bearer $VIEW" -d "$ACTIVE")"
t_check "schedule one in progress" 201 "$(post "$ACTIVE")"
t_check "MNT-1 in progress on Sign-in" "MNT-1 in_progress Sign-in under_maintenance" \
    "$(body | jq -r '"\(.id) \(.status) \(.components[0].name) \(.components[0].status)"')"
t_check "its window" "$(iso $((NOW - 60))) $(iso $((NOW + 3600)))" "$(body | jq -r '"\(.scheduled_for) \(.scheduled_until)"')"
t_check "its updates, newest first" "in_progress scheduled:Signing in may take longer." \
    "$(body | jq -r '[.incident_updates[] | if .status == "scheduled" then "\(.status):\(.body)" else .status end] | join(" ")')"

SUBS=$(get components.json | jq -r '.components[] | select(.name == "Subscriptions") | .id')
UPCOMING="{\"name\": \"Billing database move\", \"components\": [\"$SUBS\"], \"scheduled_for\": $((NOW + 86400)),
    \"scheduled_until\": $((NOW + 86400 + 7200)), \"body\": \"Purchases pause for two hours.\"}"
t_check "schedule one tomorrow, the component by id" 201 "$(post "$UPCOMING")"
t_check "MNT-2 scheduled on Subscriptions" "MNT-2 scheduled Subscriptions" \
    "$(body | jq -r '"\(.id) \(.status) \(.components[0].name)"')"

t_check "an internal service name is refused" 422 "$(post '{"name": "x", "components": ["cdn-primary"],
    "scheduled_for": '$((NOW + 60))', "scheduled_until": '$((NOW + 120))'}')"
t_contains "naming the field" "components[0]: not a public component name or id" "$(body)"
t_check "no name" 422 "$(post '{"components": ["Sign-in"], "scheduled_for": '$((NOW + 60))', "scheduled_until": '$((NOW + 120))'}')"
t_contains "naming name" '"detail":"name: 1 to 255 bytes"' "$(body)"
t_check "until before for" 422 "$(post '{"name": "x", "components": ["Sign-in"], "scheduled_for": '$((NOW + 120))', "scheduled_until": '$((NOW + 60))'}')"
t_contains "naming scheduled_until" "scheduled_until: after scheduled_for" "$(body)"
t_check "a bad time" 422 "$(post '{"name": "x", "components": ["Sign-in"], "scheduled_for": "tomorrow", "scheduled_until": '$((NOW + 60))'}')"
t_contains "naming scheduled_for" "scheduled_for: an RFC 3339 date-time" "$(body)"
t_check "not JSON" 400 "$(post '{')"

t_check "upcoming.json" "MNT-2" "$(get scheduled-maintenances/upcoming.json | jq -r '[.scheduled_maintenances[].id] | join(",")')"
t_check "active.json" "MNT-1" "$(get scheduled-maintenances/active.json | jq -r '[.scheduled_maintenances[].id] | join(",")')"
t_check "scheduled-maintenances.json, newest window first" "MNT-2,MNT-1" \
    "$(get scheduled-maintenances.json | jq -r '[.scheduled_maintenances[].id] | join(",")')"
SUM=$(get summary.json)
t_check "summary.json lists both" "MNT-2,MNT-1" "$(jq -r '[.scheduled_maintenances[].id] | join(",")' <<<"$SUM")"
t_check "Sign-in under maintenance" "under_maintenance" "$(jq -r '.components[] | select(.name == "Sign-in") | .status' <<<"$SUM")"
t_check "Subscriptions not yet" "operational" "$(jq -r '.components[] | select(.name == "Subscriptions") | .status' <<<"$SUM")"
t_check "the indicator" "maintenance Service Under Maintenance" \
    "$(get status.json | jq -r '"\(.status.indicator) \(.status.description)"')"
t_check "no internal names" 0 "$(get scheduled-maintenances.json | grep -c -E 'cdn-primary|player-web|drm-license|api-gateway|auth-')"
PAGE=$(curl -s "$BASE/status")
t_contains "the page: the section" '<h2 class="maint">Scheduled maintenance</h2>' "$PAGE"
t_contains "the page: the window" "since $(iso $((NOW - 60))) &middot; until $(iso $((NOW + 3600)))" "$PAGE"
t_contains "the page: Sign-in" "<span>Sign-in</span><span>Under maintenance</span>" "$PAGE"
t_check "the viewer list" "MNT-2,MNT-1" "$(curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/maintenances" | jq -r '[.scheduled_maintenances[].id] | join(",")')"

t_check "delete MNT-2" 204 "$(status DELETE /v1/maintenances/MNT-2 -H "Authorization: Bearer $RESP")"
t_check "delete it again" 404 "$(status DELETE /v1/maintenances/MNT-2 -H "Authorization: Bearer $RESP")"
t_check "upcoming is empty" 0 "$(get scheduled-maintenances/upcoming.json | jq '.scheduled_maintenances | length')"

stop_server
start_server "$D" || exit 1
t_check "MNT-1 survives a restart" "MNT-1 in_progress" "$(get scheduled-maintenances/active.json | jq -r '.scheduled_maintenances[0] | "\(.id) \(.status)"')"
t_done
