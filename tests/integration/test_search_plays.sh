#!/usr/bin/env bash
# Popularity from what viewers play, over real HTTP: two titles of the same text, the one with
# the larger popularity field first; beacons of starts for the other go through the real
# ingest into the QoE cube (replay clock: event time), and within a few folds
# (search.popularity_refresh_s 1) it ranks first with "popularity_from": "plays"; a title the
# catalog does not hold and the "other" value count for nothing; the plays survive a restart
# (the cube's stored minutes); eight days later (the default window is 168 hours) they have
# left the window and the fields rule again; with search.popularity_window_h 0 plays are
# never used.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ADM=$(new_token "$D" admin plays-admin | tail -1)
VIEW=$(new_token "$D" viewer plays-viewer | tail -1)
ING=$(new_token "$D" ingest plays-ingest | tail -1)
T0=$(date -u -d 2026-03-02T10:00:00 +%s)
serve() { start_server "$D" --clock replay --modules builtin,auth,ingest,qoe,search \
    --set search.popularity_refresh_s=1 "$@"; }
serve || exit 1

post_titles() { status POST /v1/titles -H "Authorization: Bearer $ADM" --data-binary "$1"; }
hits() { # QUERY -> "id:from id:from"
    status GET "/v1/search?$1" -H "Authorization: Bearer $VIEW" >/dev/null
    jq -r '[.hits[] | "\(.id):\(.popularity_from)"] | join(" ")' <<<"$(body)"
}
beacons() { status POST /v1/events -H "Authorization: Bearer $ING" \
    -H 'Content-Type: application/x-ndjson' --data-binary "@$1"; }
# start S TITLE SECONDS: one successful start of session S at T0 + SECONDS
start() { printf '{"ts":%s,"session":"%s","title":"%s","region":"EMEA","type":"start","outcome":"success","startup_ms":900}\n' \
    "$(((T0 + $3) * 1000))" "$1" "$2"; }
# wait_hits QUERY EXPECTED: polls up to 15 s for the search to answer EXPECTED
wait_hits() {
    local got=""
    for _ in $(seq 1 150); do
        got=$(hits "$1")
        [ "$got" = "$2" ] && break
        sleep 0.1
    done
    echo "$got"
}

t_check "titles" 200 "$(post_titles '[
 {"id":"nt-a","title":"Night Train","year":2001,"popularity":20},
 {"id":"nt-b","title":"Night Train","year":2001,"popularity":2}
]')"
t_check "by their fields first" "nt-a:field nt-b:field" "$(hits 'q=night%20train')"

{
    for i in $(seq 1 40); do start "a$i" nt-b $((i * 10)); done # 40 starts of nt-b
    for i in $(seq 1 90); do start "g$i" ghost-title $((i * 5)); done  # not in the catalog
    start late ghost-title 1500                                         # closes the minutes before
} >"$T_TMP/plays.ndjson"
t_check "beacons" 200 "$(beacons "$T_TMP/plays.ndjson")"
t_check "40 plays outrank a field of 20" "nt-b:plays nt-a:field" \
    "$(wait_hits 'q=night%20train' 'nt-b:plays nt-a:field')"
metric() { curl -s "$BASE/metrics" | awk -v n="$1" '$1 == n {print $2}'; }
t_check "titles played (the ghost is not one)" 1 "$(metric oncue_search_titles_played)"

# after a restart the cube's stored minutes give the same plays back
stop_server
t_check "clean stop" 0 "$SERVER_RC"
serve || exit 1
# (a replay clock starts at 0 again: the next event sets it, and the window with it)
start back ghost-title 1600 >"$T_TMP/back.ndjson"
t_check "a beacon after the restart" 200 "$(beacons "$T_TMP/back.ndjson")"
t_check "plays after a restart" "nt-b:plays nt-a:field" \
    "$(wait_hits 'q=night%20train' 'nt-b:plays nt-a:field')"

# eight days on, the plays have left the 168-hour window: the fields rule again
start later ghost-title $((8 * 86400)) >"$T_TMP/later.ndjson"
for _ in $(seq 1 100); do # ingest may answer 503 while the closed minutes wait for the store
    code=$(beacons "$T_TMP/later.ndjson")
    [ "$code" = 503 ] || break
    sleep 0.1
done
t_check "a beacon eight days later" 200 "$code"
t_check "plays out of the window" "nt-a:field nt-b:field" \
    "$(wait_hits 'q=night%20train' 'nt-a:field nt-b:field')"
t_check "no title played" 0 "$(metric oncue_search_titles_played)"
stop_server

# window 0: the fields only, whatever is played
D2=$T_TMP/data2
ADM=$(new_token "$D2" admin plays-admin | tail -1)
VIEW=$(new_token "$D2" viewer plays-viewer | tail -1)
ING=$(new_token "$D2" ingest plays-ingest | tail -1)
D=$D2; serve --set search.popularity_window_h=0 || exit 1
post_titles '[{"id":"nt-a","title":"Night Train","year":2001,"popularity":20},
 {"id":"nt-b","title":"Night Train","year":2001,"popularity":2}]' >/dev/null
t_check "beacons (window 0)" 200 "$(beacons "$T_TMP/plays.ndjson")"
sleep 2.5 # two folds would have happened
t_check "window 0: fields only" "nt-a:field nt-b:field" "$(hits 'q=night%20train')"
stop_server
t_done
