#!/usr/bin/env bash
# The public status page as status aggregators poll it: Statuspage's /api/v2/*.json paths on
# the real server with the example catalog. Components carry public names (never internal
# service names) and ids stable across requests and restarts; times come from the incidents
# (not "now" on every request); a resolved incident leaves summary.json and stays in
# incidents.json with its updates. The publish gate: a new incident is a draft until a person
# publishes it (the API, the CLI, a public status update) or its severity's rule does
# (incident.publish_sev2_after_s, set to 2 s here); a test alert's incident never by rule.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
RESP=$(new_token "$D" responder it-resp)
start_server "$D" --set incident.publish_sev2_after_s=2 || exit 1
get() { curl -s "$BASE/api/v2/$1"; }

t_check "summary.json without a token" 200 "$(status GET /api/v2/summary.json)"
t_check "all operational" "none All Systems Operational" \
    "$(body | jq -r '"\(.status.indicator) \(.status.description)"')"
t_check "components: Video playback first" "Video playback" "$(get components.json | jq -r '.components[0].name')"
t_check "public names only: no service name of the catalog" 0 \
    "$(get components.json | grep -c -E 'cdn-primary|player-web|drm-license|api-gateway')"
t_contains "a catalog public_name" '"Video streaming"' "$(get components.json | jq -c '[.components[].name]')"
t_contains "a name from the kind" '"Sign-in"' "$(get components.json | jq -c '[.components[].name]')"
IDS1=$(get components.json | jq -c '[.components[] | [.name, .id]]')
# before any incident: the page and its components date from the first start, not the request
T1=$(get summary.json | jq -c '[.page.updated_at, ([.components[] | .created_at, .updated_at] | unique)]')
t_check "before any incident, one time for the page and its components" 1 \
    "$(jq '.[1] | length' <<<"$T1")"
sleep 1.1
t_check "and it is not the request's time" "$T1" \
    "$(get summary.json | jq -c '[.page.updated_at, ([.components[] | .created_at, .updated_at] | unique)]')"
t_check "it is the first start" "$(jq -r '.[0]' <<<"$T1")" "$(jq -r '.[1][0]' <<<"$T1")"
for p in status.json incidents.json incidents/unresolved.json scheduled-maintenances.json \
    scheduled-maintenances/upcoming.json scheduled-maintenances/active.json; do
    t_check "GET /api/v2/$p" 200 "$(status GET "/api/v2/$p")"
done
t_check "no maintenance kept" "[]" "$(get scheduled-maintenances/active.json | jq -c .scheduled_maintenances)"

t_check "declare on the primary CDN in EMEA" 201 "$(status POST /v1/incidents -H "Authorization: Bearer $RESP" \
    -d '{"alert_id": "reb/EMEA", "metric": "rebuffering_share", "slice": {"region": "EMEA", "cdn": "primary"},
         "value": 0.08, "threshold": 0.05, "op": ">", "level": "page", "summary": "rebuffering"}')"
t_check "a draft: not on summary.json" 0 "$(get summary.json | jq '.incidents | length')"
t_check "a draft: not in incidents.json" 0 "$(get incidents.json | jq '.incidents | length')"
t_check "a draft: not on the HTML page" 0 "$(curl -s "$BASE/status" | grep -c 'Buffering during playback')"
t_check "the API says draft" "null SEV2" \
    "$(curl -s -H "Authorization: Bearer $RESP" "$BASE/v1/incidents/INC-1" | jq -r '"\(.published_at) \(.severity)"')"
t_check "publish without a token" 401 "$(status POST /v1/incidents/INC-1/publish)"
t_check "publish" 200 "$(status POST /v1/incidents/INC-1/publish -H "Authorization: Bearer $RESP")"
t_check "published by the person" "it-resp true" "$(body | jq -r '"\(.published_by) \(.published_at > 0)"')"
t_check "publish twice conflicts" 409 "$(status POST /v1/incidents/INC-1/publish -H "Authorization: Bearer $RESP")"
t_contains "naming who did" "already published by it-resp" "$(body)"
t_check "publish an unknown incident" 404 "$(status POST /v1/incidents/INC-99/publish -H "Authorization: Bearer $RESP")"
t_contains "the timeline says who published" "published on the status page by it-resp" \
    "$(curl -s -H "Authorization: Bearer $RESP" "$BASE/v1/incidents/INC-1" | jq -r '.timeline[].text')"
SUM=$(get summary.json)
t_check "one unresolved incident" "INC-1" "$(jq -r '[.incidents[].id] | join(",")' <<<"$SUM")"
t_check "its public name" "Buffering during playback in EMEA" "$(jq -r '.incidents[0].name' <<<"$SUM")"
t_check "its components: playback and the public name of cdn-primary" '["Video playback","Video streaming"]' \
    "$(jq -c '[.incidents[0].components[].name]' <<<"$SUM")"
t_check "Video streaming degraded" "partial_outage" \
    "$(jq -r '.components[] | select(.name == "Video streaming") | .status' <<<"$SUM")"
t_check "the internal title is not shown" 0 "$(grep -c 'rebuffering_share\|cdn=primary' <<<"$SUM")"
U1=$(get status.json | jq -r .page.updated_at)
sleep 1.1
t_check "updated_at is the last change, not now" "$U1" "$(get status.json | jq -r .page.updated_at)"

t_check "a public update" 200 "$(status POST /v1/incidents/INC-1/status -H "Authorization: Bearer $RESP" \
    -d '{"status": "identified", "body": "Traffic is moving to another CDN."}')"
t_check "resolve (forced)" 200 "$(status POST /v1/incidents/INC-1/resolve -H "Authorization: Bearer $RESP" \
    -d '{"force": true, "reason": "synthetic check"}')"
t_check "unresolved is empty" 0 "$(get incidents/unresolved.json | jq '.incidents | length')"
t_check "summary back to operational" "none" "$(get summary.json | jq -r .status.indicator)"
H=$(get incidents.json | jq -c '.incidents[0]')
t_check "history keeps it, resolved, with resolved_at" "INC-1 resolved true" \
    "$(jq -r '"\(.id) \(.status) \(.resolved_at != null)"' <<<"$H")"
t_check "its updates, newest first (resolved added)" \
    'resolved:This incident has been resolved.|identified:Traffic is moving to another CDN.' \
    "$(jq -r '[.incident_updates[] | "\(.status):\(.body)"] | join("|")' <<<"$H")"
t_check "update ids and incident ids" "INC-1-resolved INC-1" \
    "$(jq -r '"\(.incident_updates[0].id) \(.incident_updates[1].incident_id)"' <<<"$H")"
PAGE=$(curl -s "$BASE/status")
t_contains "the HTML page lists it as past" "Past incidents" "$PAGE"
t_contains "under today's date, with its update" \
    "<h3 class=\"day\">$(date -u +%F)</h3><section class=\"inc\" id=\"INC-1\">" "$PAGE"
t_contains "the update on the page" "<b>identified</b> &mdash; Traffic is moving to another CDN." "$PAGE"
t_check "14 days of history" 14 "$(grep -o '<h3 class="day">' <<<"$PAGE" | wc -l)"
# uptime: 90 UTC days per component from the published incidents
UP=$(get uptime.json)
t_check "uptime.json: 90 days" "90 90" "$(jq -r '"\(.days) \(.components[0].days | length)"' <<<"$UP")"
t_check "same components and ids as components.json" "$IDS1" "$(jq -c '[.components[] | [.name, .id]]' <<<"$UP")"
t_check "the last day is today" "$(date -u +%F)" "$(jq -r '.components[0].days[-1].date' <<<"$UP")"
t_check "observed from the first start (today)" "$(date -u +%F)" "$(jq -r '.observed_from[:10]' <<<"$UP")"
INC1=$(curl -s -H "Authorization: Bearer $RESP" "$BASE/v1/incidents/INC-1")
MIN=$(jq '((.resolved_at + 59) / 60 | floor) - (.opened_at / 60 | floor)' <<<"$INC1")
t_check "Video streaming: today partial outage for the incident's minutes" "partial_outage $MIN" \
    "$(jq -r '.components[] | select(.name == "Video streaming") | .days[-1] | "\(.status) \(.partial_outage_minutes)"' <<<"$UP")"
# the server started today: the days before have no data (the page does not claim them as up)
t_check "Sign-in untouched: 100% over today, no data before" "100 no_data,operational" \
    "$(jq -r '.components[] | select(.name == "Sign-in") | "\(.uptime_percentage) \([.days[].status] | unique | join(","))"' <<<"$UP")"
t_check "yesterday: no data (before the first start)" "no_data 0" \
    "$(jq -r '.components[0].days[-2] | "\(.status) \(.partial_outage_minutes)"' <<<"$UP")"
t_check "no internal name in uptime.json" 0 "$(grep -c -E 'cdn-primary|player-web|drm-license|api-gateway' <<<"$UP")"
NC=$(jq '.components | length' <<<"$UP")
t_check "90 bars per component on the page" $((90 * NC)) "$(grep -o '<span class="d ' <<<"$PAGE" | wc -l)"
t_contains "a bar titled with the date and minutes" \
    "<span class=\"d partial_outage\" title=\"$(date -u +%F): partial outage $MIN min\">" "$PAGE"
t_contains "the uptime percentage, and since when it counts (the first start)" \
    "% uptime since $(date -u +%F)</span>" "$PAGE"

# the SEV2 rule publishes a draft 2 s after it opened; never one a test alert opened
declare_sev2() {
    status POST /v1/incidents -H "Authorization: Bearer $RESP" -d "{\"alert_id\": \"$1\",
        \"metric\": \"vsf_rate\", \"slice\": {\"region\": \"$2\"}, \"value\": 0.2, \"threshold\": 0.05,
        \"op\": \">\", \"level\": \"page\", \"summary\": \"failures\"$3}"
}
t_check "a test alert's incident" 201 "$(declare_sev2 vsf/APAC APAC ', "test": true')"
t_check "INC-2 is a test" "INC-2 true" "$(body | jq -r '"\(.incident_id) \(.test)"')"
t_check "an ordinary one" 201 "$(declare_sev2 vsf/LATAM LATAM '')"
t_check "INC-3" "INC-3 SEV2" "$(body | jq -r '"\(.incident_id) \(.severity)"')"
for _ in $(seq 1 50); do
    [ "$(get incidents/unresolved.json | jq '.incidents | length')" != 0 ] && break
    sleep 0.2
done
t_check "the rule published INC-3 only" "INC-3" "$(get incidents/unresolved.json | jq -r '[.incidents[].id] | join(",")')"
t_contains "published by rule" "published on the status page by rule (SEV2 still open" \
    "$(curl -s -H "Authorization: Bearer $RESP" "$BASE/v1/incidents/INC-3" | jq -r '.timeline[].text')"
t_check "cli publish" 0 "$(ONCUE_SERVER=$BASE ONCUE_TOKEN=$RESP "$ONCUE_BIN" incident publish INC-2 >/dev/null; echo $?)"
t_check "now both" "INC-3,INC-2" "$(get incidents/unresolved.json | jq -r '[.incidents[].id] | join(",")')"
t_check "cli publish twice fails" 1 "$(ONCUE_SERVER=$BASE ONCUE_TOKEN=$RESP "$ONCUE_BIN" incident publish INC-2 2>/dev/null >/dev/null; echo $?)"

stop_server
start_server "$D" || exit 1
t_check "component ids survive a restart" "$IDS1" "$(get components.json | jq -c '[.components[] | [.name, .id]]')"
t_check "history survives a restart" "INC-1 resolved" "$(get incidents.json | jq -r '.incidents[] | select(.id == "INC-1") | "\(.id) \(.status)"')"
t_check "publication survives a restart" "it-resp" \
    "$(curl -s -H "Authorization: Bearer $RESP" "$BASE/v1/incidents/INC-1" | jq -r .published_by)"
t_done
