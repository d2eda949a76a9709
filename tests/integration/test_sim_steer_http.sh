#!/usr/bin/env bash
# `oncue sim --steer` against the real server: the simulated players fetch their steering
# manifest from GET /v1/steering/hls/sim every TTL and play the pathway it puts first, and
# read GET /v1/flags, so a steering policy or a flag set on the server changes what the
# posted beacons show (the server's own /v1/qoe). Without a policy (503) players stay put.
. "$(dirname "$0")/lib.sh"
ING=$(new_token "$T_TMP/a" ingest it-sim | tail -1)
VIEW=$(new_token "$T_TMP/a" viewer it-view | tail -1)
T0=1772479800 # 2026-03-02 19:30 UTC, the scenarios' begin
q() { curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/qoe?$1"; }
# drm_run LOG: 18 minutes of drm-outage with --steer; prints PlayReady TVs' VSF during the fault
drm_run() {
    "$ONCUE_BIN" sim --target "$BASE" --token "$ING" --speed 0 --steer --viewers 300 --start $T0 \
        --scenario drm-outage --duration 18m --seed 3 2> "$1" || echo "sim failed"
    q "metric=vsf_rate&from=$((T0 + 11 * 60))&to=$((T0 + 16 * 60))&filter=drm:playready,device:smart_tv" |
        jq '.series[0].points[0][1]'
}

# 1. The default order puts secondary first: every player moves there.
cat > "$T_TMP/policy.json" <<'JSON'
{"ttl": 10, "pathways": ["secondary", "primary"]}
JSON
start_server "$T_TMP/a" --clock replay --modules builtin,auth,ingest,qoe,steer \
    --set steer.policy_file="$T_TMP/policy.json" || exit 1
"$ONCUE_BIN" sim --target "$BASE" --token "$ING" --speed 0 --steer --viewers 300 --start $T0 \
    --duration 8m --seed 3 2> "$T_TMP/sim.log"
t_check "sim exits 0" 0 $?
fetched=$(sed -n 's/.* \([0-9]*\) steering manifests followed, \([0-9]*\) fetches failed/\1 \2/p' "$T_TMP/sim.log")
t_check "manifests fetched, none failed" "1 0" "$(echo "$fetched" | awk '{print ($1 > 1000) " " $2}')"
got=$(q "metric=concurrent_viewers&from=$((T0 + 120))&to=$((T0 + 360))&group_by=cdn" |
    jq -r '[.series[] | "\(.group.cdn)=\(.points[0][1] > 0)"] | sort | join(" ")')
t_check "every viewer on secondary" "secondary=true" "$got"
t_contains "steering requests counted" 'oncue_steer_requests_total{protocol="hls"}' \
    "$(curl -s "$BASE/metrics")"
stop_server

# 2. drm-outage with the runbook's flag already on for smart TVs: the TVs read it and are
#    spared, so PlayReady's start failures stay at baseline through the fault.
ING=$(new_token "$T_TMP/b" ingest it-sim | tail -1)
VIEW=$(new_token "$T_TMP/b" viewer it-view | tail -1)
cat > "$T_TMP/flag.json" <<'JSON'
{"ttl": 10, "pathways": ["primary", "secondary"],
 "flags": [{"name": "drm-fallback-playready", "on": true, "device": "smart_tv"}]}
JSON
start_server "$T_TMP/b" --clock replay --modules builtin,auth,ingest,qoe,steer \
    --set steer.policy_file="$T_TMP/flag.json" || exit 1
vsf=$(drm_run "$T_TMP/sim2.log")
t_check "flag spares PlayReady TVs" true "$(echo "$vsf" | awk '{print ($1 < 0.05) ? "true" : $0}')"
stop_server

# 3. Without the flag the same run fails most PlayReady starts on TVs; without a policy
#    (503) the players keep their pathway and the sim pauses its fetches.
ING=$(new_token "$T_TMP/c" ingest it-sim | tail -1)
VIEW=$(new_token "$T_TMP/c" viewer it-view | tail -1)
start_server "$T_TMP/c" --clock replay --modules builtin,auth,ingest,qoe,steer || exit 1
vsf=$(drm_run "$T_TMP/sim3.log")
t_check "no flag: the fault shows" true "$(echo "$vsf" | awk '{print ($1 > 0.8) ? "true" : $0}')"
failed=$(sed -n 's/.* \([0-9]*\) steering manifests followed, \([0-9]*\) fetches failed/\1 \2/p' "$T_TMP/sim3.log")
t_check "no policy: nothing followed, fetches paused" "0 1" \
    "$(echo "$failed" | awk '{print $1 " " ($2 > 0 && $2 < 100)}')"
t_check "--steer needs a server" 2 "$("$ONCUE_BIN" sim --stdout --steer 2>/dev/null; echo $?)"
t_done
