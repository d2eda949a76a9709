#!/usr/bin/env bash
# The playback audit for royalties: beacons of known plays and watch time for two titles in two
# regions on one UTC day (and around it) go through the real ingest into the QoE cube; GET
# /v1/billing/royalties/DAY answers the day's plays, attempts and watch time per title and
# region exactly (as CSV and JSON, the early minutes read back from the store, the last ones
# from memory), refuses a day the cube has not closed (409) and a malformed day (422); POST
# .../seal seals the report into the billing audit chain (once: a second seal of the same
# report stands on the first); `oncue billing royalties export` writes the same bytes and
# `royalties verify` proves the exported files unchanged against the audit, refusing an edited
# one and a file of an unsealed day; after a restart the sealed export is byte-identical.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest roy-ingest | tail -1)
VIEW=$(new_token "$D" viewer roy-viewer | tail -1)
ADMIN=$(new_token "$D" admin roy-admin | tail -1)
T0=$(date -u -d 2026-03-02 +%s) # the day under audit, 00:00 UTC
DAY=2026-03-02
start_server "$D" --clock replay --modules builtin,auth,ingest,qoe,billing || exit 1
ms() { echo $(((T0 + $1) * 1000)); }
ev() { # SECONDS-INTO-DAY SESSION TITLE REGION REST-OF-JSON
    printf '{"ts":%s,"session":"%s","title":"%s","region":"%s",%s}\n' "$(ms "$1")" "$2" "$3" "$4" "$5"
}
{
    ev 600 s1 "Film, \\\"The\\\"" EMEA '"type":"start","outcome":"success","startup_ms":800'
    ev 660 s1 "Film, \\\"The\\\"" EMEA '"type":"heartbeat","playing_ms":60000,"rebuffer_ms":0,"bitrate_kbps":3000'
    ev 720 s1 "Film, \\\"The\\\"" EMEA '"type":"heartbeat","playing_ms":30000,"rebuffer_ms":2000,"bitrate_kbps":3000'
    ev 900 s2 "Film, \\\"The\\\"" EMEA '"type":"start","outcome":"failure","error_code":"E1"'
    ev 3600 s3 t2 NA '"type":"start","outcome":"success","startup_ms":900'
    ev 3660 s3 t2 NA '"type":"heartbeat","playing_ms":45000,"rebuffer_ms":5000,"bitrate_kbps":2000'
    ev 7200 s4 t2 EMEA '"type":"start","outcome":"exit"'
    ev -600 s5 t2 NA '"type":"start","outcome":"success","startup_ms":700'
    ev -500 s5 t2 NA '"type":"heartbeat","playing_ms":10000,"rebuffer_ms":0,"bitrate_kbps":2000'
    ev 86340 s6 t2 NA '"type":"heartbeat","playing_ms":20000,"rebuffer_ms":0,"bitrate_kbps":2000'
} >"$T_TMP/day.ndjson"
post() { status POST /v1/events -H "Authorization: Bearer $ING" -H 'Content-Type: application/x-ndjson' --data-binary "@$1"; }
t_check "beacons of the day" 200 "$(post "$T_TMP/day.ndjson")"
roy() { status GET "/v1/billing/royalties/$1" -H "Authorization: Bearer $VIEW"; }
t_check "the day is not closed yet: 409" 409 "$(roy "$DAY")"
t_contains "says so" "is not complete" "$(body)"
# an event an hour into the next day moves the watermark past the day's end
ev 90000 s7 t2 NA '"type":"start","outcome":"success","startup_ms":500' >"$T_TMP/next.ndjson"
# (the day's closed minutes may still wait for the store: ingest then answers 503 with
# Retry-After, and a client retries, as here)
for _ in $(seq 1 100); do
    code=$(post "$T_TMP/next.ndjson")
    [ "$code" = 503 ] || break
    sleep 0.1
done
t_check "next day's beacon" 200 "$code"
for _ in $(seq 1 200); do # the cube folds what ingest acknowledged shortly after
    [ "$(roy "$DAY")" = 200 ] && break
    sleep 0.05
done
t_check "a malformed day: 422" 422 "$(roy 2026-02-30)"
t_contains "names the field" "day:" "$(body)"
t_check "a bad format: 422" 422 "$(roy "$DAY?format=xml")"
t_check "a viewer may not seal" 403 "$(status POST "/v1/billing/royalties/$DAY/seal" -H "Authorization: Bearer $VIEW")"

t_check "JSON report" 200 "$(roy "$DAY?format=json")"
J=$(body)
t_check "rows: plays, attempts, watch time per title and region" \
    'Film, "The" EMEA 1 2 90000|t2 EMEA 0 1 0|t2 NA 1 1 65000|' \
    "$(jq -j '.rows[] | "\(.title) \(.region) \(.plays) \(.attempts) \(.watch_ms)|"' <<<"$J")"
t_check "totals" "2 4 155000" "$(jq -j '.totals | "\(.plays) \(.attempts) \(.watch_ms)"' <<<"$J")"
t_check "the day's bounds" "$DAY $T0 $((T0 + 86400))" "$(jq -j '"\(.day) \(.from) \(.to)"' <<<"$J")"
# the same numbers as the QoE API's plays for the day (title and region groups)
q=$(curl -s "$BASE/v1/qoe?metric=plays&from=$T0&to=$((T0 + 86400))&step=86400&group_by=title,region" \
    -H "Authorization: Bearer $VIEW" | jq -j '[.series[] | "\(.group.title) \(.group.region) \(.points[0][1])"] | sort | join("|")')
t_check "attempts agree with GET /v1/qoe plays" 'Film, "The" EMEA 2|t2 EMEA 1|t2 NA 1' "$q"

t_check "CSV report" 200 "$(roy "$DAY?format=csv")"
printf 'day,title,region,plays,attempts,watch_ms\r\n2026-03-02,"Film, ""The""",EMEA,1,2,90000\r\n2026-03-02,t2,EMEA,0,1,0\r\n2026-03-02,t2,NA,1,1,65000\r\n' >"$T_TMP/want.csv"
t_check "CSV bytes (RFC 4180 quoting)" "" "$(cmp "$T_TMP/body" "$T_TMP/want.csv" 2>&1)"
hdr=$(curl -s -D - -o /dev/null "$BASE/v1/billing/royalties/$DAY?format=csv" -H "Authorization: Bearer $VIEW" | tr -d '\r')
t_contains "not sealed yet" "Oncue-Sealed: 0" "$hdr"
t_contains "text/csv" "Content-Type: text/csv" "$hdr"

# export with the CLI, before sealing
"$ONCUE_BIN" billing royalties export "$DAY" --target "$BASE" --token "$VIEW" --out "$T_TMP/r.csv"
t_check "CLI export (csv)" 0 $?
t_check "the CLI wrote the API's bytes" "" "$(cmp "$T_TMP/r.csv" "$T_TMP/want.csv" 2>&1)"
"$ONCUE_BIN" billing royalties export "$DAY" --format json --target "$BASE" --token "$VIEW" --out "$T_TMP/r.json"
t_check "CLI export (json)" 0 $?

seal() { status POST "/v1/billing/royalties/$1/seal" -H "Authorization: Bearer $ADMIN"; }
t_check "seal" 200 "$(seal "$DAY")"
S=$(body)
t_check "a new seal" false "$(jq .already_sealed <<<"$S")"
t_check "sealed hashes are the files'" "$(sha256sum <"$T_TMP/r.csv" | cut -d' ' -f1) $(sha256sum <"$T_TMP/r.json" | cut -d' ' -f1)" \
    "$(jq -j '"\(.csv_sha256) \(.json_sha256)"' <<<"$S")"
AID=$(jq .audit_id <<<"$S")
t_check "seal again: the first stands" 200 "$(seal "$DAY")"
t_check "same audit row" "true $AID" "$(body | jq -j '"\(.already_sealed) \(.audit_id)"')"
t_check "the next day is not closed: 409" 409 "$(seal 2026-03-03)"
hdr=$(curl -s -D - -o /dev/null "$BASE/v1/billing/royalties/$DAY?format=json" -H "Authorization: Bearer $VIEW" | tr -d '\r')
t_contains "sealed: the audit row" "Oncue-Sealed: $AID" "$hdr"
"$ONCUE_BIN" billing royalties seal "$DAY" --target "$BASE" --token "$ADMIN" >"$T_TMP/seal.out"
t_check "CLI seal" 0 $?
t_contains "CLI seal: already sealed" '"already_sealed":true' "$(cat "$T_TMP/seal.out")"
stop_server

v() { "$ONCUE_BIN" billing royalties verify "$1" --data "$D"; }
out=$(v "$T_TMP/r.csv")
t_check "verify the CSV" 0 $?
t_contains "names the seal" "verified: the csv report of $DAY sealed in audit row $AID" "$out"
out=$(v "$T_TMP/r.json")
t_check "verify the JSON" 0 $?
sed 's/,1,2,90000/,1,2,9000/' "$T_TMP/r.csv" >"$T_TMP/edited.csv"
out=$(v "$T_TMP/edited.csv")
t_check "an edited file is not verified" 1 $?
t_contains "says why" "NOT VERIFIED: no seal in the audit has this file's SHA-256" "$out"
"$ONCUE_BIN" billing audit verify --data "$D" >/dev/null
t_check "the audit chain verifies" 0 $?

# after a restart (the day's early minutes only in the store) the export is the sealed bytes
start_server "$D" --clock replay --modules builtin,auth,ingest,qoe,billing --set qoe.memory_minutes=1 || exit 1
t_check "export after restart" 200 "$(roy "$DAY?format=csv")"
t_check "byte-identical" "" "$(cmp "$T_TMP/body" "$T_TMP/r.csv" 2>&1)"
stop_server
start_server "$D" --modules billing || exit 1
t_check "a sealed day without the qoe module: its seal" 200 "$(roy "$DAY?format=csv")"
t_check "an unsealed day without the qoe module: 503" 503 "$(roy 2026-03-01)"
t_contains "says why" "the qoe module is not running" "$(body)"
stop_server
t_done
