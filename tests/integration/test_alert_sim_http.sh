#!/usr/bin/env bash
# The acceptance path over real HTTP: `oncue sim emea-cdn` posts beacons at full speed into a
# server on a replay clock; the server's own alert timer evaluates the closed minutes and
# fires stalled-viewers-region-cdn-page/region=EMEA,cdn=primary (at = since + its 3-minute window, since after the
# fault starts), nothing pages outside EMEA, and GET /v1/slos shows the rebuffer-ratio budget
# being spent.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest it-sim | tail -1)
VIEW=$(new_token "$D" viewer it-view | tail -1)
T0=1772479800    # 2026-03-02 19:30 UTC, emea-cdn's begin
FAULT=1772480580 # 19:43, the fault's start
start_server "$D" --clock replay --modules builtin,auth,ingest,qoe,slo,alert || exit 1

"$ONCUE_BIN" sim --target "$BASE" --token "$ING" --speed 0 --batch 5000 --scenario emea-cdn \
    --viewers 3000 --start $T0 --duration 30m --seed 3 2> "$T_TMP/sim.log"
t_check "sim exits 0" 0 $?

# The watermark closes minutes up to the last event - 120 s; the timer runs every second.
for i in $(seq 1 100); do
    curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/alerts" > "$T_TMP/alerts.json"
    jq -e '.recent[] | select(.alert_id == "stalled-viewers-region-cdn-page/region=EMEA,cdn=primary")' \
        "$T_TMP/alerts.json" >/dev/null && break
    sleep 0.1
done
page=$(jq -c '[.recent[] | select(.alert_id == "stalled-viewers-region-cdn-page/region=EMEA,cdn=primary")][0]' \
    "$T_TMP/alerts.json")
t_contains "EMEA page fired" '"rule":"stalled-viewers-region-cdn-page","metric":"rebuffering_share","slice":{"region":"EMEA","cdn":"primary"}' "$page"
since=$(jq '.since' <<<"$page")
echo "  EMEA page: since fault +$((since - FAULT)) s, at fault +$(( $(jq .at <<<"$page") - FAULT)) s"
at=$(jq '.at' <<<"$page")
t_check "fired after its whole window" $((since + 180)) "$at"
t_check "the condition started after the fault" 1 $((since >= FAULT && since <= FAULT + 300))
t_check "every page is in EMEA" 0 \
    "$(jq '[.recent[] | select(.level == "page" and .slice.region != "EMEA")] | length' "$T_TMP/alerts.json")"
t_check "one EMEA page" 1 \
    "$(jq '[.recent[] | select(.alert_id == "stalled-viewers-region-cdn-page/region=EMEA,cdn=primary")] | length' "$T_TMP/alerts.json")"
curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/slos" > "$T_TMP/slos.json"
t_check "rebuffer-ratio burning faster than allowed" 1 \
    "$(jq '[.slos[] | select(.name == "rebuffer-ratio" and .burn_rate_1h > 1)] | length' "$T_TMP/slos.json")"
t_done
