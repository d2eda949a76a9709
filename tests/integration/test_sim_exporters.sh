#!/usr/bin/env bash
# test_sim_exporters.sh - the simulator's exporters scraped end to end: `oncue sim
# --exporters` plays a scenario whose PlayReady license failures and live manifest stall show
# in the simulated DRM license server's and live packager's metrics; the real `oncue serve`
# scrapes them with the rules of examples/scrape.yaml (intervals and holds shortened) and
# opens one incident for each, owned by the catalog's team, within seconds of the fault (the
# beacons' QoE alerts need the minute to close first), the runbook's dashboard step naming
# the DRM license board for the license server's; each alert resolves when its fault ends.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

XPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -e "s/127.0.0.1:9464/127.0.0.1:$XPORT/" -e 's/for_s: 10/for_s: 2/' -e 's/interval_s: 5/interval_s: 1/' \
    -e 's/interval_s: 2/interval_s: 1/' "$ROOT/examples/scrape.yaml" >"$T_TMP/scrape.yaml"
cat >"$T_TMP/faults.yaml" <<'YML'
name: exporters
description: PlayReady license failures 5 s in, then the live manifest stalls 30 s in
begin: "19:30"
duration: 60s
expect_incident: true
faults:
  - name: playready-license-failure
    slice: {device: smart_tv, drm: playready}
    start: "19:30:05"
    ramp: 1m
    duration: 15s
    effect: {start_failure: 0.95, error_code: DRM_LICENSE_FAILED}
  - name: live-manifest-stale
    slice: {live: "true"}
    start: "19:30:30"
    ramp: 30s
    duration: 15s
    effect: {rebuffer_max: 0.85, exit_before_start: 0.35, startup_factor: 4}
YML

D="$T_TMP/data"
mkdir -p "$D"
VIEW=$(new_token "$D" viewer it-view)
RESP=$(new_token "$D" responder it-resp)
ING=$(new_token "$D" ingest it-sim)
start_server "$D" --modules catalog,qoe,ingest,alert,incident,scrape,runbook \
    --set scrape.file="$T_TMP/scrape.yaml" --set scrape.outbound_allow=127.0.0.1 || t_done
"$ONCUE_BIN" sim --target "$BASE" --token "$ING" --scenario "$T_TMP/faults.yaml" --viewers 300 \
    --speed 1 --exporters "127.0.0.1:$XPORT" 2>"$T_TMP/sim.log" &
SIM_PID=$!
trap 'kill $SIM_PID 2>/dev/null; t_cleanup' EXIT
T0=$(date +%s)

api() { curl -s -H "Authorization: Bearer $VIEW" "$BASE$1"; }
# inc_of SERVICE: "alert_id team level firing" of the incidents of SERVICE
inc_of() {
    api /v1/incidents | jq -r --arg s "$1" '[.incidents[] | select(.service == $s)] | map("\(.alerts[0].alert_id) \(.team) \(.alerts[0].level) \(.alerts[0].firing)") | join(";")'
}
# fired_at ALERT_ID: when the alert's latest firing started (unix seconds)
fired_at() {
    api /v1/alerts | jq -r --arg id "$1" '[.recent[] | select(.alert_id == $id)][0].since // empty'
}
wait_for_text() { # SECONDS EXPECTED COMMAND...: until COMMAND prints EXPECTED; prints the last
    local until=$(( $(date +%s) + $1 )) want=$2 out=""; shift 2
    while [ "$(date +%s)" -le "$until" ]; do
        out=$("$@")
        [ "$out" = "$want" ] && break
        sleep 0.5
    done
    echo "$out"
}

for _ in $(seq 1 50); do
    curl -sf "http://127.0.0.1:$XPORT/drm-license/metrics" >/dev/null && break
    sleep 0.1
done
t_contains "the license server exports per DRM system" 'drm_license_requests_total{drm="playready",code="500"} 0' \
    "$(curl -s "http://127.0.0.1:$XPORT/drm-license/metrics")"
t_contains "the packager exports the manifest age" 'packager_manifest_age_seconds{stream="live"}' \
    "$(curl -s "http://127.0.0.1:$XPORT/live-packager/metrics")"

# 1. PlayReady fails from t+5 s: one incident for drm-license, owned by drm
t_check "one incident for drm-license, owned by drm, paging" \
    "scrape/drm-license/playready_errors drm page true" \
    "$(wait_for_text 20 'scrape/drm-license/playready_errors drm page true' inc_of drm-license)"
since=$(fired_at scrape/drm-license/playready_errors)
echo "     playready_errors fired at t+$((since - T0)) s (the fault starts at t+5 s)"
t_check "fired within 8 s of the fault (t+5 s)" yes \
    "$([ -n "$since" ] && [ $((since - T0)) -le 13 ] && echo yes || echo "no (t+$((since - T0)) s)")"
INC=$(api /v1/incidents | jq -r '[.incidents[] | select(.service == "drm-license")][0].incident_id')
t_check "a runbook's dry run on the license server's incident: 200" 200 \
    "$(status POST "/v1/incidents/$INC/runbook" -H "Authorization: Bearer $RESP" -d '{"dry_run": true}')"
t_contains "its dashboard step names the owning service's board (drm-license is a drm service)" \
    "The owning service's board: the DRM license board (console #/dashboards?d=drm)." \
    "$(body | jq -r '.steps[] | select(.name == "check dashboards") | .detail')"
echo "     dry run's first step: $(body | jq -c '.steps[0] | {name, status, detail}')"
t_contains "its first check reads the viewers' start failures (the slice's service is no dimension)" \
    "vsf_rate" "$(body | jq -r '.steps[0].detail')"
t_check "and no step met an unknown dimension" "" \
    "$(body | jq -r '[.steps[].detail // "" | select(test("unknown dimension"))] | join("; ")')"
t_check "resolved once the fault ends (t+20 s)" \
    "scrape/drm-license/playready_errors drm page false" \
    "$(wait_for_text 20 'scrape/drm-license/playready_errors drm page false' inc_of drm-license)"

# 2. the live manifest stalls from t+30 s: one incident for live-packager, owned by live-ops
t_check "one incident for live-packager, owned by live-ops" \
    "scrape/live-packager/manifest_stale live-ops page true" \
    "$(wait_for_text 25 'scrape/live-packager/manifest_stale live-ops page true' inc_of live-packager)"
since=$(fired_at scrape/live-packager/manifest_stale)
echo "     manifest_stale fired at t+$((since - T0)) s (the stall starts at t+30 s)"
t_check "flagged within 10 s of the stall (t+30 s: 6 s of age, a scrape, a second)" yes \
    "$([ -n "$since" ] && [ $((since - T0)) -le 40 ] && echo yes || echo "no (t+$((since - T0)) s)")"
t_check "resolved once the packager publishes again (t+45 s)" \
    "scrape/live-packager/manifest_stale live-ops page false" \
    "$(wait_for_text 20 'scrape/live-packager/manifest_stale live-ops page false' inc_of live-packager)"
t_check "the origin never breached" "" "$(inc_of origin)"
t_check "the origin's target is up" up \
    "$(api /v1/scrape/targets | jq -r '.targets[] | select(.name == "origin") | .state')"
kill $SIM_PID 2>/dev/null
wait $SIM_PID 2>/dev/null
stop_server
t_check "the server stopped cleanly" 0 "$SERVER_RC"
t_done
