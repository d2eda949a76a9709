#!/usr/bin/env bash
# The service catalog over real HTTP: reads need viewer, writes admin; bodies with unknown
# fields or unknown references get 422 naming them; cycles and dangling dependents are
# refused; routing, blast radius and on-call answer by value; edits are audited and survive a
# restart; `oncue catalog check` lints a file; POST /v1/catalog/reload re-reads catalog.file.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ADMIN=$(new_token "$D" admin it-admin)
VIEW=$(new_token "$D" viewer it-view)
A=(-H "Authorization: Bearer $ADMIN")
V=(-H "Authorization: Bearer $VIEW")
start_server "$D" || exit 1

# --- reads ---
t_check "services need a token" 401 "$(status GET /v1/services)"
t_check "viewer lists services" 200 "$(status GET /v1/services "${V[@]}")"
t_contains "example catalog served" '"name":"cdn-secondary"' "$(body)"
t_check "one service" 200 "$(status GET /v1/services/cdn-primary "${V[@]}")"
t_contains "its owner" '"team":"cdn-ops","escalation_lead":"ines"' "$(body)"
t_check "unknown service 404" 404 "$(status GET /v1/services/nope "${V[@]}")"
t_check "blast radius" 200 "$(status GET /v1/services/origin/blast-radius "${V[@]}")"
t_check "blast radius by value" '{"service":"origin","affected_services":["origin-shield","cdn-primary","cdn-secondary","manifest-service","player-mobile","player-tv","player-web"],"slices":["cdn=primary","cdn=secondary","device=mobile","device=set_top","device=smart_tv","device=web","player=avplay","player=avplayer","player=dash.js","player=exoplayer","player=gstreamer","player=hls.js","player=roku-player","player=shaka"]}' "$(body)"
t_check "upstream" 200 "$(status GET /v1/services/cdn-primary/upstream "${V[@]}")"
t_check "upstream by value" '{"service":"cdn-primary","upstream":["origin-shield","origin","packager","media-storage"]}' "$(body)"
t_check "downstream" 200 "$(status GET /v1/services/billing/downstream "${V[@]}")"
t_contains "downstream by value" '"downstream":["entitlements","api-gateway","drm-license","manifest-service",' "$(body)"
t_check "route a slice" 200 "$(status GET '/v1/route?slice=cdn:primary,region:EMEA&at=2026-11-25T19:43:00Z' "${V[@]}")"
t_contains "pages the CDN owner" '"service":"cdn-primary","team":"cdn-ops","escalation_lead":"ines","oncall":"chen"' "$(body)"
t_contains "escalation plan" '"escalation":[{"at":"2026-11-25T19:43:00Z","round":0,"step":0,"notify":"oncall","target":"cdn-ops","person":"chen"},{"at":"2026-11-25T19:48:00Z","round":0,"step":1,"notify":"person","target":"ines","person":"ines"},' "$(body)"
t_check "most specific wins" 200 "$(status GET '/v1/route?slice=cdn:primary,live:true' "${V[@]}")"
t_contains "live edge" '"service":"live-edge","team":"live-ops"' "$(body)"
t_check "route by service" 200 "$(status GET '/v1/route?service=auth' "${V[@]}")"
t_contains "identity team" '"team":"identity"' "$(body)"
t_check "nothing serves it" 404 "$(status GET '/v1/route?slice=region:EMEA' "${V[@]}")"
t_check "bad slice 422" 422 "$(status GET '/v1/route?slice=colour:red' "${V[@]}")"
t_contains "names the dimension" 'unknown dimension \"colour\"' "$(body)"
t_check "on-call override" 200 "$(status GET '/v1/oncall?team=cdn-ops&at=2026-12-25T12:00:00Z' "${V[@]}")"
t_check "on-call by value" '{"team":"cdn-ops","person":"bjorn","from":"2026-12-24T00:00:00Z","to":"2026-12-27T00:00:00Z","override":true}' "$(body)"
t_check "on-call unknown team" 404 "$(status GET '/v1/oncall?team=nope' "${V[@]}")"
t_check "teams" 200 "$(status GET /v1/teams "${V[@]}")"
t_contains "team rotation" '"people":["amara","bjorn","chen","dara"],"handoff":"monday 09:00"' "$(body)"

# --- writes ---
NEW='{"name":"cdn-tertiary","kind":"cdn","team":"cdn-ops","escalation_lead":"ines","runbook":"https://r/x","rollback_doc":"https://r/y","serves":["cdn=tertiary"],"depends_on":["origin-shield"]}'
t_check "viewer cannot create" 403 "$(status POST /v1/services "${V[@]}" -d "$NEW")"
t_check "unknown fields 422" 422 "$(status POST /v1/services "${A[@]}" -d '{"name":"x","kind":"cdn","colour":1,"size":2}')"
t_contains "names the fields" 'unknown fields \"colour\", \"size\"' "$(body)"
t_contains "problem+json" '"status":422' "$(body)"
t_check "unknown references 422" 422 "$(status POST /v1/services "${A[@]}" -d '{"name":"x","kind":"cdn","team":"ghosts","depends_on":["origin","phantom"]}')"
t_check "names the references" 'depends_on: unknown service \"phantom\"; team: unknown team \"ghosts\"' "$(body | sed 's/.*"detail":"\(.*\)","instance".*/\1/')"
t_check "create 201" 201 "$(status POST /v1/services "${A[@]}" -d "$NEW")"
t_check "create twice 409" 409 "$(status POST /v1/services "${A[@]}" -d "$NEW")"
t_check "routes to the new service" 200 "$(status GET '/v1/route?slice=cdn:tertiary' "${V[@]}")"
t_contains "new owner" '"service":"cdn-tertiary"' "$(body)"
t_check "cycle refused" 422 "$(status PUT /v1/services/origin "${A[@]}" -d '{"kind":"origin","depends_on":["player-web"]}')"
t_contains "cycle named" 'cycle: origin -> player-web -> manifest-service -> origin-shield -> origin' "$(body)"
t_check "path and body disagree" 422 "$(status PUT /v1/services/origin "${A[@]}" -d '{"name":"other","kind":"origin"}')"
t_check "replace 200" 200 "$(status PUT /v1/services/search "${A[@]}" -d '{"kind":"search","team":"discovery","escalation_lead":"dev","tier":2,"depends_on":["catalog-metadata"]}')"
t_contains "replaced" '"escalation_lead":"dev"' "$(body)"
t_check "delete with dependents 409" 409 "$(status DELETE /v1/services/origin "${A[@]}")"
t_contains "names dependents" 'services depend on origin: origin-shield' "$(body)"
t_check "delete 204" 204 "$(status DELETE /v1/services/player-tv "${A[@]}")"
t_check "deleted" 404 "$(status GET /v1/services/player-tv "${V[@]}")"
t_check "audit lists the edits" 200 "$(status GET '/v1/audit' "${A[@]}")"
t_contains "audited create" '/v1/services' "$(body)"
t_contains "audited delete" 'player-tv' "$(body)"

# --- restart: edits persist over the example ---
stop_server
start_server "$D" || exit 1
t_check "created survives" 200 "$(status GET /v1/services/cdn-tertiary "${V[@]}")"
t_check "replaced survives" 200 "$(status GET /v1/services/search "${V[@]}")"
t_contains "replaced lead" '"escalation_lead":"dev"' "$(body)"
t_check "deleted stays deleted" 404 "$(status GET /v1/services/player-tv "${V[@]}")"
stop_server

# --- a catalog file, reload, and the lint ---
cat >"$T_TMP/cat.yaml" <<'YAML'
people:
  - {name: lee}
teams:
  - {name: web, oncall: {people: [lee]}}
services:
  - {name: api, kind: api, team: web, escalation_lead: lee, runbook: r, rollback_doc: d}
YAML
start_server "$T_TMP/data2" --set catalog.file="$T_TMP/cat.yaml" || exit 1
ADMIN2=$(new_token "$T_TMP/data2" admin it-admin2)
t_check "file catalog" 200 "$(status GET /v1/services "-H" "Authorization: Bearer $ADMIN2")"
t_check "one service" '{"services":[{"name":"api","kind":"api","team":"web","escalation_lead":"lee","runbook":"r","rollback_doc":"d","serves":[],"depends_on":[],"raci":{"responsible":[],"accountable":[],"consulted":[],"informed":[]}}]}' "$(body)"
printf '  - {name: web, kind: player, depends_on: [api, ghost]}\n' >>"$T_TMP/cat.yaml"
t_check "reload" 200 "$(status POST /v1/catalog/reload -H "Authorization: Bearer $ADMIN2")"
t_contains "reloaded count" '"services":2' "$(body)"
printf '  - {name: bad, kind: nope}\n' >>"$T_TMP/cat.yaml"
t_check "bad reload 422" 422 "$(status POST /v1/catalog/reload -H "Authorization: Bearer $ADMIN2")"
t_contains "names file and line" 'cat.yaml:8: service \"bad\": field \"kind\": unknown kind \"nope\"' "$(body)"
t_check "old catalog kept" 200 "$(status GET /v1/services/web -H "Authorization: Bearer $ADMIN2")"
stop_server
sed -i '$d' "$T_TMP/cat.yaml"
out=$("$ONCUE_BIN" catalog check --file "$T_TMP/cat.yaml")
t_check "check exits 1" 1 "$?"
t_check "check lines" "$T_TMP/cat.yaml:7: service web: no owner
$T_TMP/cat.yaml:7: service web: no escalation lead
$T_TMP/cat.yaml:7: service web: no runbook
$T_TMP/cat.yaml:7: service web: no rollback doc
$T_TMP/cat.yaml:7: service web: depends on unknown service ghost" "$out"
"$ONCUE_BIN" catalog check 2>/dev/null
t_check "example is clean" 0 "$?"
t_done
