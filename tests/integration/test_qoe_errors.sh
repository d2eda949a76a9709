#!/usr/bin/env bash
# GET /v1/qoe/errors over the real server: beacons posted to /v1/events (failed starts and
# error events with their codes, a success, a failure without a code) come back as codes by
# count, each with its kinds and the values it came from; from/to/top are checked; viewers
# only.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
VIEW=$(new_token "$D" viewer it-view | tail -1)
ING=$(new_token "$D" ingest it-ing | tail -1)
start_server "$D" --modules builtin,auth,ingest,qoe || exit 1
now_ms=$(( $(date +%s) * 1000 ))
ev() { # TYPE OUTCOME CODE DEVICE DRM: one event line (CODE "-": none)
    local code=""
    [ "$3" != - ] && code=",\"error_code\":\"$3\""
    local outcome=""
    [ "$2" != - ] && outcome=",\"outcome\":\"$2\""
    printf '{"ts":%s,"type":"%s","session":"s%s","region":"EMEA","device":"%s","drm":"%s"%s%s}\n' \
        "$now_ms" "$1" "$RANDOM" "$4" "$5" "$outcome" "$code"
}
{
    for _ in 1 2 3; do ev start failure DRM_LICENSE_FAILED smart_tv playready; done
    ev start failure DRM_LICENSE_FAILED roku playready
    ev error - PLAYER_CRASH web widevine
    ev error - PLAYER_CRASH web fairplay
    ev start failure - web widevine
    echo "{\"ts\":$now_ms,\"type\":\"start\",\"session\":\"ok\",\"outcome\":\"success\",\"startup_ms\":800}"
} >"$T_TMP/events.ndjson"
t_check "the events are accepted" 8 "$(curl -s -H "Authorization: Bearer $ING" \
    -H 'Content-Type: application/x-ndjson' --data-binary @"$T_TMP/events.ndjson" "$BASE/v1/events" |
    jq .accepted)"
get() { curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/qoe/errors$1"; }
t_check "codes by count" "DRM_LICENSE_FAILED:4:4:0 PLAYER_CRASH:2:0:2 unknown:1:1:0" \
    "$(get "" | jq -r '[.codes[] | "\(.code):\(.events):\(.start_failures):\(.playback_errors)"] | join(" ")')"
t_check "all error events, over one minute" "7 1" "$(get "" | jq -r '"\(.events) \(.minutes)"')"
t_check "a code's share" 0.571 "$(get "" | jq -r '.codes[0].share * 1000 | floor / 1000')"
t_check "its devices" "smart_tv:3:0.75 roku:1:0.25" \
    "$(get "" | jq -r '.codes[0].slices[] | select(.dimension == "device") | [.top[] | "\(.value):\(.events):\(.share)"] | join(" ")')"
t_check "its DRM system" "playready 1" \
    "$(get "" | jq -r '.codes[0].slices[] | select(.dimension == "drm") | "\(.top[0].value) \(.distinct)"')"
t_check "every dimension is listed" 13 "$(get "" | jq '.codes[0].slices | length')"
t_check "top=1" "DRM_LICENSE_FAILED" "$(get "?top=1" | jq -r '[.codes[].code] | join(" ")')"
t_check "an hour ago: nothing" "0 0" "$(get "?from=now-2h&to=now-1h" | jq -r '"\(.events) \(.codes | length)"')"
t_check "ISO 8601 from" 7 "$(get "?from=$(date -u -d @$(( now_ms / 1000 - 300 )) +%Y-%m-%dT%H:%M:%SZ)" | jq .events)"
t_check "top=0: 422" 422 "$(status GET "/v1/qoe/errors?top=0" -H "Authorization: Bearer $VIEW")"
t_contains "names top" "top" "$(jq -r .detail "$T_TMP/body")"
t_check "from=yesterday: 422" 422 "$(status GET "/v1/qoe/errors?from=yesterday" -H "Authorization: Bearer $VIEW")"
t_contains "names from" "from:" "$(jq -r .detail "$T_TMP/body")"
t_check "to before from: 422" 422 "$(status GET "/v1/qoe/errors?from=now&to=now-1h" -H "Authorization: Bearer $VIEW")"
t_check "no token: 401" 401 "$(status GET /v1/qoe/errors)"
t_check "an ingest token: 403" 403 "$(status GET /v1/qoe/errors -H "Authorization: Bearer $ING")"
t_done
