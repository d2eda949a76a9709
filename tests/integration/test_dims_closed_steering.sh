#!/usr/bin/env bash
# A closed cdn list taken from the topology (docs/internals/limits.md "Dimension values"):
# with ingest.cdns=steering the cdn values kept are the steering policy's pathways and clones.
# A listed CDN is counted under its name, any other as `other`; the list follows the policy
# when an admin replaces it (PUT /v1/steering/policies) and when steer.policy_file is re-read
# on SIGHUP, and a CDN dropped from the policy counts as `other` from then on while its past
# minutes keep its name. (ingest.regions=steering: test_dims_closed_regions.sh.)
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ADMIN=$(new_token "$D" admin admin)
ING=$(new_token "$D" ingest player)
VIEW=$(new_token "$D" viewer view)
echo '{"ttl": 30, "pathways": ["primary", "secondary"]}' >"$T_TMP/policy.json"
SET=(--clock replay --set ingest.cdns=steering --set steer.policy_file="$T_TMP/policy.json")
M=1800000000 # a minute start (2027-01-15T08:00:00Z)

start_server "$D" "${SET[@]}" || exit 1
t_contains "the log names the list" "cdn values kept (ingest.cdns=steering): primary,secondary" \
    "$(cat "$T_TMP/server.log")"

# post SECONDS CDN...: one start event per CDN at M + SECONDS; echoes "accepted"
post() {
    local s=$1 i=0 c
    shift
    : >"$T_TMP/ev"
    for c in "$@"; do
        printf '{"ts":%d,"type":"start","session":"s%d-%d","outcome":"success","startup_ms":900,"cdn":"%s"}\n' \
            "$(((M + s) * 1000 + i))" "$s" "$i" "$c" >>"$T_TMP/ev"
        i=$((i + 1))
    done
    curl -s -H "Authorization: Bearer $ING" -H 'Content-Type: application/x-ndjson' \
        --data-binary @"$T_TMP/ev" "$BASE/v1/events" | jq -r .accepted
}
folded() { curl -s "$BASE/metrics" | grep '^oncue_ingest_values_folded_total{dim="cdn"}' | awk '{print $2}'; }
# plays FROM TO: "cdn=plays" over [M + FROM, M + TO), sorted
plays() {
    curl -s -H "Authorization: Bearer $VIEW" \
        "$BASE/v1/qoe?metric=plays&from=$((M + $1))&to=$((M + $2))&step=$(($2 - $1))&group_by=cdn&top=100" |
        jq -r '[.series[] | "\(.group.cdn)=\(.points[0][1])"] | sort | join(" ")'
}
labels() { curl -s -H "Authorization: Bearer $VIEW" "$BASE/api/v1/label/cdn/values" | jq -r '.data | join(" ")'; }

t_check "every event is accepted" 4 "$(post 1 primary secondary evil-cdn junk)"
t_check "the two outside the policy fold" 2 "$(folded)"
t_check "the listed CDNs are label values, the others are not" "other primary secondary unknown" "$(labels)"

# an admin replaces the policy: tertiary (a clone of primary) in, secondary out
status PUT /v1/steering/policies -H "Authorization: Bearer $ADMIN" \
    -d '{"ttl": 30, "pathways": ["primary", "tertiary"], "clones": [{"id": "primary-b", "base": "primary", "host": "b.example.com"}]}' >/dev/null
t_check "the policy is replaced" '["primary","tertiary"]' "$(body | jq -c .pathways)"
t_check "events with the new list" 4 "$(post 70 primary tertiary primary-b secondary)"
t_check "only secondary, no longer a pathway, folds" 3 "$(folded)"
t_check "tertiary and the clone get ids" "other primary primary-b secondary tertiary unknown" "$(labels)"

# the policy file re-read on SIGHUP: secondary back, tertiary out
echo '{"ttl": 30, "pathways": ["primary", "secondary"]}' >"$T_TMP/policy.json"
kill -HUP "$SERVER_PID"
for _ in $(seq 1 50); do grep -q 'SIGHUP' "$T_TMP/server.log" && break; sleep 0.1; done
t_contains "the policy is re-read" "steer: policy re-read from $T_TMP/policy.json" \
    "$(grep 'SIGHUP' "$T_TMP/server.log" | tail -1)"
t_check "events after SIGHUP" 3 "$(post 130 secondary tertiary primary)"
t_check "tertiary folds now" 4 "$(folded)"

post 400 primary >/dev/null # closes the minutes above (lateness 120 s)
t_check "minute 0: the unlisted CDNs count as other" "other=2 primary=1 secondary=1" "$(plays 0 60)"
t_check "minute 1: secondary was out of the policy" "other=1 primary-b=1 primary=1 tertiary=1" "$(plays 60 120)"
t_check "minute 2: tertiary was out" "other=1 primary=1 secondary=1" "$(plays 120 180)"
stop_server
t_check "the server stopped cleanly" 0 "$SERVER_RC"
t_done
