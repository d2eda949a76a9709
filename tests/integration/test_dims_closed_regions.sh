#!/usr/bin/env bash
# A closed region list taken from the topology steering already holds (docs/internals/limits.md
# "Dimension values"): with ingest.regions=steering the region values kept are the regions of
# steering's region map (steer.geoip_regions, else the built-in EMEA, NA, LATAM, APAC) and the
# regions the policy's rules, flags and auto.regions name. A listed region is counted under its
# name, any other as `other` without taking one of the dimension's values; the list follows the
# policy when an admin replaces it (PUT /v1/steering/policies) and when steer.policy_file is
# re-read on SIGHUP.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ADMIN=$(new_token "$D" admin admin)
ING=$(new_token "$D" ingest player)
VIEW=$(new_token "$D" viewer view)
echo '{"ttl": 30, "pathways": ["primary"], "rules": [{"name": "r1", "region": "ANZ", "priority": ["primary"]}]}' \
    >"$T_TMP/policy.json"
SET=(--clock replay --set ingest.regions=steering --set steer.policy_file="$T_TMP/policy.json"
    --set steer.geoip_regions="continent:EU=EMEA,continent:NA=NA,country:IN=INDIA")
M=1800000000 # a minute start (2027-01-15T08:00:00Z)

start_server "$D" "${SET[@]}" || exit 1
t_contains "the log names the list: the map's regions, then the policy's" \
    "region values kept (ingest.regions=steering): EMEA,NA,INDIA,ANZ" "$(cat "$T_TMP/server.log")"

# post SECONDS REGION...: one start event per region at M + SECONDS; echoes "accepted"
post() {
    local s=$1 i=0 r
    shift
    : >"$T_TMP/ev"
    for r in "$@"; do
        printf '{"ts":%d,"type":"start","session":"s%d-%d","outcome":"success","startup_ms":900,"region":"%s"}\n' \
            "$(((M + s) * 1000 + i))" "$s" "$i" "$r" >>"$T_TMP/ev"
        i=$((i + 1))
    done
    curl -s -H "Authorization: Bearer $ING" -H 'Content-Type: application/x-ndjson' \
        --data-binary @"$T_TMP/ev" "$BASE/v1/events" | jq -r .accepted
}
folded() { curl -s "$BASE/metrics" | grep '^oncue_ingest_values_folded_total{dim="region"}' | awk '{print $2}'; }
# plays FROM TO: "region=plays" over [M + FROM, M + TO), sorted
plays() {
    curl -s -H "Authorization: Bearer $VIEW" \
        "$BASE/v1/qoe?metric=plays&from=$((M + $1))&to=$((M + $2))&step=$(($2 - $1))&group_by=region&top=100" |
        jq -r '[.series[] | "\(.group.region)=\(.points[0][1])"] | sort | join(" ")'
}
labels() { curl -s -H "Authorization: Bearer $VIEW" "$BASE/api/v1/label/region/values" | jq -r '.data | join(" ")'; }

t_check "every event is accepted" 6 "$(post 1 EMEA NA INDIA ANZ LATAM junk-1)"
t_check "the two steering does not know fold" 2 "$(folded)"
t_check "the known regions are label values, the others are not" "ANZ EMEA INDIA NA other unknown" "$(labels)"

# a junk flood: 500 distinct values fold into other and take no value of the dimension
post 20 $(seq -f 'junk-%g' 1 500) >/dev/null
t_check "the flood folds" 502 "$(folded)"
t_check "and takes no value" "ANZ EMEA INDIA NA other unknown" "$(labels)"

# an admin replaces the policy: ANZ out, APAC (auto.regions) and LATAM (a flag's region) in
status PUT /v1/steering/policies -H "Authorization: Bearer $ADMIN" \
    -d '{"ttl": 30, "pathways": ["primary"], "auto": {"enabled": true, "regions": ["APAC"]}, "flags": [{"name": "f", "on": true, "region": "LATAM"}]}' >/dev/null
t_check "the policy is replaced" '["APAC"]' "$(body | jq -c .auto.regions)"
t_contains "the log names the new list" "region values kept (ingest.regions=steering): EMEA,NA,INDIA,LATAM,APAC" \
    "$(tail -5 "$T_TMP/server.log")"
t_check "events with the new list" 4 "$(post 70 APAC LATAM ANZ EMEA)"
t_check "only ANZ, no longer named, folds" 503 "$(folded)"

# the policy file re-read on SIGHUP: ANZ back, APAC and LATAM out
kill -HUP "$SERVER_PID"
for _ in $(seq 1 50); do grep -q 'SIGHUP' "$T_TMP/server.log" && break; sleep 0.1; done
t_contains "the policy is re-read" "steer: policy re-read from $T_TMP/policy.json" \
    "$(grep 'SIGHUP' "$T_TMP/server.log" | tail -1)"
t_check "events after SIGHUP" 3 "$(post 130 ANZ APAC NA)"
t_check "APAC folds now" 504 "$(folded)"

post 400 NA >/dev/null # closes the minutes above (lateness 120 s)
t_check "minute 0: the unknown regions count as other" "ANZ=1 EMEA=1 INDIA=1 NA=1 other=502" "$(plays 0 60)"
t_check "minute 1: ANZ was out of the policy" "APAC=1 EMEA=1 LATAM=1 other=1" "$(plays 60 120)"
t_check "minute 2: APAC was out" "ANZ=1 NA=1 other=1" "$(plays 120 180)"
stop_server
t_check "the server stopped cleanly" 0 "$SERVER_RC"

# no policy and no steer.geoip_regions: the built-in map's four regions
rm -rf "$D"
start_server "$D" --clock replay --set ingest.regions=steering || exit 1
t_contains "the built-in map" "region values kept (ingest.regions=steering): EMEA,NA,LATAM,APAC" \
    "$(cat "$T_TMP/server.log")"
stop_server
t_done
