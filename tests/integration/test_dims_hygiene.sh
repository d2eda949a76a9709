#!/usr/bin/env bash
# Dimension hygiene over real HTTP (docs/internals/limits.md "Dimension values"): an ingest
# token floods 500 made-up titles; it adds only its budget of new values a minute (the rest
# count as `other`, the events are not refused), so a real title from another token right
# after is counted under its own name. With the dimension full a new title folds into
# `other`; once the junk has not been seen for ingest.value_idle_s it ages out, its id goes
# to the next real title, its past plays count under `other`, and a restart brings none of it
# back. Before that, junk (values seen in few events, idle ingest.junk_idle_s) is recycled
# early once the dimension is nearly full. Closed lists: a region outside ingest.regions
# counts as `other`.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
JUNK=$(new_token "$D" ingest junk)
REAL=$(new_token "$D" ingest real)
VIEW=$(new_token "$D" viewer view)
SET=(--clock replay --set ingest.value_idle_s=600 --set ingest.new_values_per_minute=20
    --set ingest.max_values_per_dim=22 --set ingest.junk_idle_s=300 --set ingest.regions=emea,apac)
start_server "$D" "${SET[@]}" || exit 1
M=1800000000 # a minute start (2027-01-15T08:00:00Z)

# post TOKEN SECONDS TITLE... : one start event per title at M + SECONDS, echoes "accepted"
post() {
    local tok=$1 s=$2 i=0 t
    shift 2
    : >"$T_TMP/ev"
    for t in "$@"; do
        printf '{"ts":%d,"type":"start","session":"s%d-%s","outcome":"success","startup_ms":900,"title":"%s","region":"emea"}\n' \
            "$(((M + s) * 1000 + i))" "$s" "$t" "$t" >>"$T_TMP/ev"
        i=$((i + 1))
    done
    curl -s -H "Authorization: Bearer $tok" -H 'Content-Type: application/x-ndjson' \
        --data-binary @"$T_TMP/ev" "$BASE/v1/events" | jq -r .accepted
}
# plays FROM TO: "title=plays" of each title over [M + FROM, M + TO), sorted
plays() {
    curl -s -H "Authorization: Bearer $VIEW" \
        "$BASE/v1/qoe?metric=plays&from=$((M + $1))&to=$((M + $2))&step=$(($2 - $1))&group_by=title&top=100" |
        jq -r '[.series[] | "\(.group.title)=\(.points[0][1])"] | sort | join(" ")'
}
metric() { curl -s "$BASE/metrics" | grep "^$1" | awk '{print $2}'; }
distinct() {
    curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/qoe/dimensions" |
        jq -r '.dimensions[] | select(.name == "title") | .distinct'
}
# wait_aged N: until N title values aged out since the server started
wait_aged() {
    for i in $(seq 1 50); do
        [ "$(metric 'oncue_ingest_values_aged_total{dim="title"}')" = "$1" ] && break
        sleep 0.2
    done
    metric 'oncue_ingest_values_aged_total{dim="title"}'
}
labels() {
    curl -s -H "Authorization: Bearer $VIEW" "$BASE/api/v1/label/title/values" | jq -r '.data | join(" ")'
}

titles=()
for i in $(seq 0 499); do titles+=("junk-$i"); done
t_check "the flood's 500 events are all accepted" 500 "$(post "$JUNK" 1 "${titles[@]}")"
t_check "480 new values refused: over the junk token's budget of 20 a minute" 480 \
    "$(metric 'oncue_ingest_values_refused_total{dim="title"}')"
t_check "a real title from another token right after" 1 "$(post "$REAL" 2 real-show)"
t_check "the dimension holds unknown, other, 20 junk and the real title" 23 "$(distinct)"
# the junk token's next minute: one more value fills the dimension (22 + unknown + other)
t_check "the junk token adds one more in its next minute" 3 "$(post "$JUNK" 61 junk-500 junk-501 junk-502)"
t_check "past the cap the title folds" 2 "$(metric 'oncue_ingest_values_folded_total{dim="title"}')"
t_check "a real new title while the junk is young folds too" 1 "$(post "$REAL" 62 real-two)"
t_check "and is counted as folded" 3 "$(metric 'oncue_ingest_values_folded_total{dim="title"}')"
post "$REAL" 200 real-show >/dev/null # closes minute 0 (lateness 120 s)
m0=$(plays 0 60)
t_check "minute 0: the 20 junk titles with ids count under their names" 20 \
    "$(echo "$m0" | tr ' ' '\n' | grep -c '^junk-[0-9]*=1$')"
t_contains "minute 0: the refused junk counts as other" "other=480 " "$m0"
t_contains "minute 0: the real title under its own name" " real-show=1" "$m0"
t_check "a region outside ingest.regions counts as other" 1 "$(
    printf '{"ts":%d,"type":"start","session":"r1","outcome":"success","startup_ms":900,"region":"mars"}' \
        "$(((M + 201) * 1000))" |
        curl -s -H "Authorization: Bearer $REAL" --data-binary @- "$BASE/v1/events" | jq .accepted)"
t_check "and is counted as folded" 1 "$(metric 'oncue_ingest_values_folded_total{dim="region"}')"

# a restart within the period: the junk is still there (it is stored with when it was seen)
stop_server
start_server "$D" "${SET[@]}" || exit 1
t_check "after a restart within the period the junk is still known" 24 "$(distinct)"
t_contains "junk-0 is a label value" "junk-0" "$(labels)"

# 400 s on, the dimension still full: junk idle for ingest.junk_idle_s is recycled early, the
# least recently seen first, until 16 ids (the reserve) are free
post "$REAL" 400 real-show >/dev/null
t_check "16 junk values recycled early" 16 "$(wait_aged 16)"
t_check "the dimension holds 8 values" 8 "$(distinct)"
t_check "a real new title now gets its own name" 1 "$(post "$REAL" 420 real-two)"
t_check "nothing folded since the restart" 0 "$(metric 'oncue_ingest_values_folded_total{dim="title"}')"

# 1000 s on: the rest of the junk (last seen in minutes 0 and 1) is idle past 600 s
post "$REAL" 1000 real-show real-two >/dev/null
t_check "the other 5 junk values aged out" 21 "$(wait_aged 21)"
t_check "the dimension holds unknown, other, real-show and real-two" 4 "$(distinct)"
t_check "another real new title gets its own name" 1 "$(post "$REAL" 1001 real-three)"
post "$REAL" 1300 real-show >/dev/null
t_check "its minute counts it under its name" "real-show=1 real-three=1 real-two=1" "$(plays 960 1020)"
t_check "real-two's minute" "real-two=1" "$(plays 420 480)"
t_check "minute 0 of the aged junk now counts under other" "other=500 real-show=1" "$(plays 0 60)"

# a restart beyond the period: none of the junk comes back, reused ids keep their new names
stop_server
start_server "$D" "${SET[@]}" || exit 1
t_check "after a restart: unknown, other, real-show, real-two, real-three" 5 "$(distinct)"
t_check "label values" "other real-show real-three real-two unknown" "$(labels)"
t_check "minute 0 after the restart" "other=500 real-show=1" "$(plays 0 60)"
t_check "real-three's minute after the restart" "real-show=1 real-three=1 real-two=1" "$(plays 960 1020)"
t_check "a junk title sent again is new (and the junk token's budget applies)" 1 \
    "$(post "$JUNK" 1400 junk-0)"
t_check "it has an id of its own again" 6 "$(distinct)"
stop_server
t_check "the server stopped cleanly" 0 "$SERVER_RC"
t_done
