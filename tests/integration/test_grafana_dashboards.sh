#!/usr/bin/env bash
# The shipped Grafana dashboards (packaging/grafana/*.json), checked against real series.
#
# Each is a dashboard JSON model of schemaVersion 38 or later. Its data sources are inputs:
# ${DS_PROMETHEUS}, oncue's own Prometheus-compatible API (the QoE cube), and, on the boards
# of the scraped services and the prober, ${DS_METRICS}, a Prometheus server that scrapes
# oncue's /metrics. Every panel and target uses a declared input, every template variable
# reads label values.
#
# The simulator feeds both: the last three minutes of beacons and CDN log lines posted at once
# (as much as ingest.allowed_lateness_s keeps; the minutes before the current one complete at
# once), then a real-time run whose exporters (the DRM license server, live
# packager and origin) the server scrapes with examples/scrape.yaml's rules, while its prober
# polls a live HLS stream served by hls_live.py, one of whose two pathways is frozen. The
# scenario fails PlayReady licenses, stalls the packager and makes the origin answer 503, so
# every target has an active finding. Debian's Prometheus 2.42 scrapes the server's /metrics.
#
# Then every expression of every panel, with its variables at "All" and at a pick of two of
# their real values (as Grafana substitutes them), must answer "success" with at least one
# series: a ${DS_PROMETHEUS} expression parses with `oncue promql check` and runs on the
# server's /api/v1/query_range over the last 10 minutes at 1m, a ${DS_METRICS} one on
# Prometheus's /api/v1/query.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PROM_BIN=$(command -v prometheus || true)
if [ -z "$PROM_BIN" ]; then
    echo "SKIP: needs Debian's prometheus (scripts/deps.sh installs it)"
    exit 77
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
XPORT=$(free_port)
HPORT=$(free_port)
PPORT=$(free_port)
SIM_PID="" HLS_PID="" PROM_PID=""
cleanup() {
    for p in $SIM_PID $HLS_PID $PROM_PID; do kill "$p" 2>/dev/null; done
    t_cleanup
}
trap cleanup EXIT

# The live stream: pathway cdn-b frozen from the start (stale, origins_disagree).
(cd "$T_TMP" && touch b.stop && exec python3 "$ROOT/tests/integration/hls_live.py" "$HPORT") &
HLS_PID=$!
cat >"$T_TMP/probes.yaml" <<YML
- name: live
  kind: hls
  service: live-packager
  poll_s: 1
  urls:
    cdn-a: http://127.0.0.1:$HPORT/a/live.m3u8
    cdn-b: http://127.0.0.1:$HPORT/b/live.m3u8
YML
sed -e "s/127.0.0.1:9464/127.0.0.1:$XPORT/" -e 's/for_s: 10/for_s: 1/' -e 's/interval_s: 5/interval_s: 1/' \
    -e 's/interval_s: 2/interval_s: 1/' "$ROOT/examples/scrape.yaml" >"$T_TMP/scrape.yaml"
cat >"$T_TMP/faults.yaml" <<'YML'
name: war-room
description: PlayReady license failures, a live packager stall and origin 503s, all at once
begin: "19:30"
duration: 15m
expect_incident: true
faults:
  - name: playready-license-failure
    slice: {device: smart_tv, drm: playready}
    start: "19:30:02"
    ramp: 10s
    duration: 14m
    effect: {start_failure: 0.95, error_code: DRM_LICENSE_FAILED}
  - name: live-manifest-stale
    slice: {live: "true"}
    start: "19:30:02"
    ramp: 10s
    duration: 14m
    effect: {rebuffer_max: 0.85, exit_before_start: 0.35, startup_factor: 4}
  - name: origin-503
    slice: {}
    start: "19:30:02"
    ramp: 10s
    duration: 14m
    effect: {start_failure: 0.2, error_code: HTTP_503}
YML

D=$T_TMP/data
VIEW=$(new_token "$D" viewer it-view | tail -1)
ING=$(new_token "$D" ingest it-sim | tail -1)
start_server "$D" --modules builtin,auth,catalog,ingest,qoe,scrape,probe \
    --set scrape.file="$T_TMP/scrape.yaml" --set scrape.outbound_allow=127.0.0.1 \
    --set probe.file="$T_TMP/probes.yaml" --set probe.outbound_allow=127.0.0.1 || exit 1

# The last three minutes of beacons and CDN log lines, then the exporters in real time.
now=$(date +%s)
"$ONCUE_BIN" sim --target "$BASE" --token "$ING" --scenario "$T_TMP/faults.yaml" --viewers 300 \
    --speed 0 --start $((now - 180)) --duration 3m --edge-logs --seed 3 >/dev/null 2>"$T_TMP/backfill.log"
t_check "the backfill posted" 0 $?
"$ONCUE_BIN" sim --target "$BASE" --token "$ING" --scenario "$T_TMP/faults.yaml" --viewers 100 \
    --speed 1 --exporters "127.0.0.1:$XPORT" >/dev/null 2>"$T_TMP/sim.log" &
SIM_PID=$!

cat >"$T_TMP/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: oncue
    static_configs: [{targets: ["${BASE#http://}"]}]
YML
"$PROM_BIN" --config.file="$T_TMP/prometheus.yml" --storage.tsdb.path="$T_TMP/prom" \
    --web.listen-address="127.0.0.1:$PPORT" >"$T_TMP/prom.log" 2>&1 &
PROM_PID=$!
PROM=http://127.0.0.1:$PPORT

# Until each target and the stream have an active finding, in oncue's /metrics and in
# Prometheus (at most 60 s).
want="drm-license live-packager origin live"
active() {
    curl -s "$PROM/api/v1/query" --data-urlencode \
        'query=count by (target) (oncue_scrape_finding_active) or count by (stream) (oncue_probe_finding_active)' |
        jq -r '[.data.result[].metric | .target // .stream] | sort | join(" ")'
}
for _ in $(seq 1 120); do
    [ "$(active)" = "$(tr ' ' '\n' <<<"$want" | sort | paste -sd' ')" ] && break
    sleep 0.5
done
t_check "every target and the stream have an active finding in Prometheus" \
    "$(tr ' ' '\n' <<<"$want" | sort | paste -sd' ')" "$(active)"
sleep 3 # a few more scrapes, for rate()

files=("$ROOT"/packaging/grafana/*.json)
t_check "nine dashboards" 9 "${#files[@]}"

# values DS LABEL MATCH: the label's values as Grafana's label_values() reads them.
values() {
    if [ "$1" = '${DS_PROMETHEUS}' ]; then
        curl -s -H "Authorization: Bearer $VIEW" "$BASE/api/v1/label/$2/values"
    elif [ -n "$3" ]; then
        curl -s "$PROM/api/v1/label/$2/values" -G --data-urlencode "match[]=$3"
    else
        curl -s "$PROM/api/v1/label/$2/values"
    fi | jq -r '.data[]'
}
# nonempty DS EXPR: "success N" (N series) of the expression on its data source.
nonempty() {
    if [ "$1" = '${DS_PROMETHEUS}' ]; then
        curl -s -H "Authorization: Bearer $VIEW" "$BASE/api/v1/query_range" -G \
            --data-urlencode "query=$2" --data-urlencode "start=$((now - 600))" \
            --data-urlencode "end=$(date +%s)" --data-urlencode step=60
    else
        curl -s "$PROM/api/v1/query" --data-urlencode "query=$2"
    fi | jq -r '"\(.status) \(if (.data.result | length) > 0 then "series" else "none: \(.error // "")" end)"'
}

# the beacons' side too: until the players' heartbeats give a rebuffer ratio per CDN and POP
# (at most 60 s; under load the first sessions are still starting when the findings are up)
for _ in $(seq 1 120); do
    [ "$(nonempty '${DS_PROMETHEUS}' 'sum by (cdn, pop) (oncue_qoe_rebuffer_ratio)')" = "success series" ] &&
        break
    sleep 0.5
done

for f in "${files[@]}"; do
    n=$(basename "$f")
    t_check "$n: JSON" 0 "$(jq empty "$f" >/dev/null 2>&1; echo $?)"
    t_check "$n: schemaVersion >= 38" true "$(jq '.schemaVersion >= 38' "$f")"
    t_check "$n: a DS_PROMETHEUS input" prometheus \
        "$(jq -r '.__inputs[] | select(.name == "DS_PROMETHEUS") | .pluginId' "$f")"
    t_check "$n: every input is a Prometheus data source" true \
        "$(jq '[.__inputs[] | .type == "datasource" and .pluginId == "prometheus"] | all' "$f")"
    t_check "$n: every panel, target and variable uses a declared input" true \
        "$(jq '[.__inputs[] | "${\(.name)}"] as $in | [(.panels[] | .datasource.uid, .targets[].datasource.uid),
               .templating.list[].datasource.uid] | all(. as $u | $in | index($u))' "$f")"
    t_check "$n: each target uses its panel's data source" true \
        "$(jq '[.panels[] | .datasource.uid as $p | .targets[] | .datasource.uid == $p] | all' "$f")"
    t_check "$n: variables read label values" true \
        "$(jq '[.templating.list[] | .definition | startswith("label_values(")] | all' "$f")"
    t_check "$n: unique uid" 1 "$(grep -l "\"uid\": \"$(jq -r .uid "$f")\"" "${files[@]}" | wc -l)"

    # Each variable's two substitutions: "All" (its allValue, or the alternation of all its
    # values as Grafana writes it without one; a variable without All: its default) and a
    # pick of two values. Variables resolve in order (target reads $service). Fields are split
    # on US (0x1f): a tab would merge an empty allValue with its neighbours.
    declare -A ALLV=() PICK=()
    while IFS=$'\x1f' read -r name ds def all inc cur; do
        inner=${def#label_values(}
        inner=${inner%)}
        if [[ $inner == *,* ]]; then
            match=${inner%,*} label=${inner##*, }
        else
            match="" label=$inner
        fi
        for v in "${!ALLV[@]}"; do match=${match//\$$v/${ALLV[$v]}}; done
        mapfile -t vals < <(values "$ds" "$label" "$match")
        t_check "$n: variable $name has values" yes "$([ "${#vals[@]}" -gt 0 ] && echo yes)"
        if [ "$inc" = false ]; then
            t_check "$n: variable $name's default $cur is one of its values" yes \
                "$(printf '%s\n' "${vals[@]}" | grep -qx "$cur" && echo yes)"
            ALLV[$name]=$cur PICK[$name]=$cur
            continue
        fi
        if [ -n "$all" ]; then ALLV[$name]=$all; else ALLV[$name]="($(IFS='|'; echo "${vals[*]}"))"; fi
        PICK[$name]="($(IFS='|'; echo "${vals[*]:0:2}"))"
    done < <(jq -r '.templating.list[] | [.name, .datasource.uid, .definition, (.allValue // ""),
                    (.includeAll | tostring), (.current.value[0] // "")] | join("\u001f")' "$f")

    jq -r '.panels[].targets[] | [.datasource.uid, .expr] | @tsv' "$f" >"$T_TMP/exprs"
    t_check "$n: panels have expressions" yes "$([ "$(wc -l <"$T_TMP/exprs")" -ge 6 ] && echo yes)"
    while IFS=$'\t' read -r ds expr; do
        for pass in all pick; do
            e=${expr//\$__rate_interval/1m}
            for v in "${!ALLV[@]}"; do
                if [ $pass = all ]; then e=${e//\$$v/${ALLV[$v]}}; else e=${e//\$$v/${PICK[$v]}}; fi
            done
            if [ "$ds" = '${DS_PROMETHEUS}' ]; then
                out=$("$ONCUE_BIN" promql check "$e"); rc=$?
                t_check "$n: parses: $out" 0 "$rc"
            fi
            # the simulator keeps posting in real time: a narrow pick (two players of two
            # regions on two CDNs) may have its first starts still coming (at most 60 s; the
            # suite run in parallel on two cores slows the simulator)
            got=$(nonempty "$ds" "$e")
            for _ in $(seq 1 120); do
                [ "$got" = "success series" ] && break
                sleep 0.5
                got=$(nonempty "$ds" "$e")
            done
            t_check "$n: $ds answers with series: $e" "success series" "$got"
        done
    done <"$T_TMP/exprs"
    unset ALLV PICK
done
t_done
