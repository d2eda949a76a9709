#!/usr/bin/env bash
# Catalog search over real HTTP: titles in as a JSON array and as NDJSON (admin only), search
# as a viewer (typos, prefixes, filters, facets), 401/403 by role, refusals naming the field,
# replacement and deletion becoming searchable at once, and restarts: after a clean stop (the
# snapshot) and after kill -9 (the snapshot plus the rows written after it); the snapshot
# timer putting new titles in static order and compacting replaced ones.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ADM=$(new_token "$D" admin search-admin)
VIEW=$(new_token "$D" viewer search-viewer)
ING=$(new_token "$D" ingest search-ingest)
start_server "$D" || exit 1

post() { status POST /v1/titles -H "Authorization: Bearer ${2:-$ADM}" --data-binary "$1"; }
search() { status GET "/v1/search?$1" -H "Authorization: Bearer $VIEW"; }
ids() { search "$1" >/dev/null; jq -r '[.hits[].id] | join(" ")' <<<"$(body)"; }
detail() { jq -r .detail <<<"$(body)"; }

TITLES='[
 {"id":"m1","title":"The Matrix","year":1999,"genres":["action","scifi"],"people":["Keanu Reeves"],"language":"en","popularity":900,"regions":["us","fr"],"entitlements":["basic"]},
 {"id":"m2","title":"Rocky II","year":1979,"genres":["drama"],"people":["Sylvester Stallone"],"language":"en","popularity":300,"regions":["us"]},
 {"id":"m3","title":"Amélie","original_title":"Le Fabuleux Destin d'\''Amélie Poulain","year":2001,"genres":["comedy"],"language":"fr","popularity":400,"regions":["fr"],"entitlements":["premium"]}
]'
t_check "POST as admin" 200 "$(post "$TITLES")"
t_check "POST answers counts" "3 0 3" "$(jq -r '"\(.added) \(.replaced) \(.titles)"' <<<"$(body)")"
t_check "POST NDJSON" 200 "$(post $'{"id":"s1","title":"Breaking Bad","kind":"series","year":2008,"genres":["drama"],"popularity":1000}\n{"id":"e1","title":"Ozymandias","kind":"episode","series":"Breaking Bad","season":5,"episode":14,"year":2013}\n')"
t_check "NDJSON counts" "2 5" "$(jq -r '"\(.added) \(.titles)"' <<<"$(body)")"
t_check "POST as viewer is refused" 403 "$(post "$TITLES" "$VIEW")"
t_check "POST as ingest is refused" 403 "$(post "$TITLES" "$ING")"
t_check "POST without a token" 401 "$(status POST /v1/titles --data-binary "$TITLES")"

# --- search ---
t_check "search as viewer" 200 "$(search 'q=matrx')"
t_check "one typo finds the title" "m1 The Matrix" "$(jq -r '.hits[0] | "\(.id) \(.title)"' <<<"$(body)")"
t_check "hit fields" "1999 movie en action,scifi" "$(jq -r '.hits[0] | "\(.year) \(.kind) \(.language) \(.genres | join(","))"' <<<"$(body)")"
t_check "took_ms is a number" number "$(jq -r '.took_ms | type' <<<"$(body)")"
t_check "search without a token" 401 "$(status GET '/v1/search?q=matrix')"
t_check "search as ingest is refused" 403 "$(status GET '/v1/search?q=matrix' -H "Authorization: Bearer $ING")"
t_check "Rocky 2 finds Rocky II" m2 "$(ids 'q=rocky%202')"
t_check "folding: amelie" m3 "$(ids 'q=amelie')"
t_check "original title" m3 "$(ids 'q=poulain')"
t_check "prefix as you type (the episode by its series)" "s1 e1" "$(ids 'q=breaki')"
t_check "a typo inside the prefix: transposed" "s1 e1" "$(ids 'q=brekai')"
t_check "a typo inside the prefix: substituted" "e1" "$(ids 'q=ozima')"
t_check "a typo inside the prefix: dropped" "m3" "$(ids 'q=pouli')"
t_check "a typo inside the prefix: doubled" "m2" "$(ids 'q=rocky%20sttal')"
S_TYPO=$(search 'q=ozima' >/dev/null; jq -r '.hits[0].score' <<<"$(body)")
S_EXACT=$(search 'q=ozyma' >/dev/null; jq -r '.hits[0].score' <<<"$(body)")
t_check "the typo scores below the completion as typed" true "$(jq -n "$S_TYPO < $S_EXACT")"
t_check "no prefix, no prefix typo" "" "$(ids 'q=ozima&prefix=false')"
t_check "people" m1 "$(ids 'q=keanu')"
t_check "series finds its episode too" "s1 e1" "$(ids 'q=breaking%20bad')"
t_check "filter kind" e1 "$(ids 'q=breaking%20bad&kind=episode')"
t_check "filter genre" s1 "$(ids 'q=bad&genre=drama')"
t_check "filter genre out" "" "$(ids 'q=rocky&genre=comedy')"
t_check "filter years" "m1" "$(ids 'q=matrix&year_min=1990&year_max=2000')"
t_check "filter years out" "" "$(ids 'q=matrix&year_min=2000')"
t_check "filter region" "m3" "$(ids 'q=amelie&region=fr')"
t_check "filter region out" "" "$(ids 'q=rocky&region=fr')"
t_check "filter entitlement" "m3" "$(ids 'q=amelie&entitlement=premium')"
t_check "filter language" "" "$(ids 'q=amelie&language=en')"
search 'q=bad' >/dev/null
t_check "facets: kinds" "series:1 episode:1" "$(jq -r '[.facets.kind[] | "\(.value):\(.count)"] | join(" ")' <<<"$(body)")"
t_check "facets: years newest first" "2013 2008" "$(jq -r '[.facets.year[].value] | join(" ")' <<<"$(body)")"
t_check "total" 2 "$(jq -r .total <<<"$(body)")"
t_check "facets counted exactly" false "$(jq -r .facets_sampled <<<"$(body)")"
t_check "limit" 1 "$(search 'q=bad&limit=1' >/dev/null; jq '.hits | length' <<<"$(body)")"

# --- refusals name the field ---
t_check "missing title" 422 "$(post '[{"id":"x"}]')"
t_contains "names [0].title" "[0].title" "$(detail)"
t_check "bad year" 422 "$(post '[{"id":"x","title":"X"},{"id":"y","title":"Y","year":"1999"}]')"
t_contains "names [1].year" "[1].year" "$(detail)"
t_check "bad kind" 422 "$(post '[{"id":"x","title":"X","kind":"film"}]')"
t_contains "names kind" "[0].kind" "$(detail)"
t_check "unknown field" 422 "$(post '[{"id":"x","title":"X","colour":"red"}]')"
t_contains "names colour" "[0].colour: unknown field" "$(detail)"
t_check "NUL in a string" 422 "$(post '[{"id":"x","title":"a\u0000b"}]')"
t_contains "names the NUL field" "[0].title" "$(detail)"
t_check "not JSON" 400 "$(post '[{"id":')"
t_check "problem+json" "application/problem+json" "$(curl -s -o /dev/null -w '%{content_type}' -X POST "$BASE/v1/titles" -H "Authorization: Bearer $ADM" -d '[1')"
t_check "bad NDJSON line" 400 "$(post $'{"id":"a","title":"A"}\n{"id"')"
t_contains "names the line" "line 2" "$(detail)"
t_check "limit out of range" 422 "$(search 'q=x&limit=1000')"
t_contains "names limit" "limit" "$(detail)"
t_check "missing q" 422 "$(search 'limit=3')"
t_contains "names q" "q: required" "$(detail)"
t_check "refused writes changed nothing" 5 "$(post '[{"id":"m9","title":"Nine"},{"id":"m10"}]' >/dev/null; search 'q=nine' >/dev/null; jq -r '.total + 5' <<<"$(body)")"

# --- updates and deletion are searchable at once ---
t_check "replace" 200 "$(post '[{"id":"m1","title":"The Matrix Resurrections","year":2021}]')"
t_check "replace counts" "0 1" "$(jq -r '"\(.added) \(.replaced)"' <<<"$(body)")"
t_check "new title found" m1 "$(ids 'q=resurrections')"
t_check "old fields gone" "" "$(ids 'q=keanu')"
t_check "delete" 200 "$(status DELETE /v1/titles/m2 -H "Authorization: Bearer $ADM")"
t_check "deleted is not found" "" "$(ids 'q=rocky')"
t_check "delete again" 404 "$(status DELETE /v1/titles/m2 -H "Authorization: Bearer $ADM")"
t_check "delete as viewer" 403 "$(status DELETE /v1/titles/m3 -H "Authorization: Bearer $VIEW")"
m=$(curl -s "$BASE/metrics" | grep oncue_search_)
t_contains "titles gauge" "oncue_search_titles 4" "$m"
t_contains "deleted counter" 'oncue_search_writes_total{op="deleted"} 1' "$m"

# --- restart after a clean stop: the snapshot ---
stop_server TERM
t_check "snapshot written at stop" yes "$([ -s "$D/search.idx" ] && echo yes)"
start_server "$D" || exit 1
t_contains "loaded from the snapshot" "read from the snapshot" "$(cat "$T_TMP/server.log")"
t_check "found after restart" m1 "$(ids 'q=resurections')"
t_check "deleted stays deleted" "" "$(ids 'q=rocky')"
t_check "facets after restart" "drama:1" "$(search 'q=breaking' >/dev/null; jq -r '[.facets.genre[] | "\(.value):\(.count)"] | join(" ")' <<<"$(body)")"

# --- kill -9 after more writes: the snapshot plus the later rows ---
t_check "write before the crash" 200 "$(post '[{"id":"n1","title":"Nosferatu","year":1922}]')"
t_check "delete before the crash" 200 "$(status DELETE /v1/titles/m3 -H "Authorization: Bearer $ADM")"
stop_server KILL
start_server "$D" || exit 1
t_check "write survives kill -9" n1 "$(ids 'q=nosferatu')"
t_check "delete survives kill -9" "" "$(ids 'q=amelie')"
t_check "older titles too" m1 "$(ids 'q=matrix')"
stop_server TERM

# --- the snapshot timer puts new titles in static order, and compacts once replaced titles
# hold a quarter of the slots ---
start_server "$D" --set search.snapshot_interval_s=1 || exit 1
many() { # many WORD: 1,200 titles c0..c1199 named "WORD N", popularity N, as NDJSON
    for i in $(seq 0 1199); do printf '{"id":"c%d","title":"%s %d","popularity":%d}\n' "$i" "$1" "$i" "$i"; done
}
t_check "1,200 titles" 200 "$(post "$(many alpha)")"
for _ in $(seq 1 50); do grep -q "put in static order" "$T_TMP/server.log" && break; sleep 0.1; done
t_contains "put in static order (with the 3 slots of the earlier replacement and deletions)" "3 slots of replaced or deleted titles dropped" "$(cat "$T_TMP/server.log")"
t_check "ranked the same: most popular first" "c1199 c1198 c1197" "$(ids 'q=alpha&limit=3')"
t_check "a rare one" c77 "$(ids 'q=alpha%2077&prefix=false')"
t_check "the earlier titles" m1 "$(ids 'q=matrix')"
t_check "all replaced" "0 1200" "$(post "$(many omega)" >/dev/null; jq -r '"\(.added) \(.replaced)"' <<<"$(body)")"
for _ in $(seq 1 50); do grep -q "1200 slots of replaced" "$T_TMP/server.log" && break; sleep 0.1; done
t_contains "compacted" "1200 slots of replaced or deleted titles dropped" "$(cat "$T_TMP/server.log")"
t_check "old words gone" 0 "$(search 'q=alpha' >/dev/null; jq -r .total <<<"$(body)")"
t_check "new words found" 1200 "$(search 'q=omega' >/dev/null; jq -r .total <<<"$(body)")"
t_check "one of them" c77 "$(ids 'q=omega%2077&prefix=false')"
t_check "most popular first" "c1199 c1198" "$(ids 'q=omega&limit=2')"
stop_server TERM
start_server "$D" || exit 1
t_check "compacted snapshot read back" c77 "$(ids 'q=omega%2077&prefix=false')"
t_check "and the rest" m1 "$(ids 'q=matrix')"
stop_server TERM
t_done
