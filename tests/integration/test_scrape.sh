#!/usr/bin/env bash
# test_scrape.sh - the real `oncue serve` scrapes two real exporters over HTTP (Prometheus
# text written by a small exporter and served by python3's http.server): a DRM license
# server whose error share crosses its rule opens exactly one incident owned by the team the
# catalog names (drm), and recovery resolves the alert; an origin whose scrape fails twice is
# down (an incident for media-pipeline) and comes back up; a body that does not parse names
# its line; the API lists targets and series; /metrics re-exports the scrape; `oncue catalog
# check --signals` names the services with no signal; a service pushing OTLP/HTTP metrics
# (JSON) feeds its push target and its rules the same way.
. "$(dirname "$0")/lib.sh"

W="$T_TMP/www"
mkdir -p "$W"
# The exporter: every 0.2 s it rewrites the license server's counters from the mode in
# $T_TMP/mode (ok: 50 ok requests a second; fail: 50 ok and 50 failing), atomically.
echo ok >"$T_TMP/mode"
cat >"$T_TMP/exporter.py" <<'PY'
import os, sys, time
www, mode_file = sys.argv[1], sys.argv[2]
ok = bad = 0
while True:
    mode = open(mode_file).read().strip()
    ok += 10
    if mode == "fail":
        bad += 10
    if mode == "garbage":
        body = "# TYPE license_requests_total counter\nlicense_requests_total{drm=\"widevine\",code=\"200\"} 1\nlicense_requests_total{drm=\"widevine\" 2\n"
    else:
        body = ("# HELP license_requests_total License requests answered.\n"
                "# TYPE license_requests_total counter\n"
                f'license_requests_total{{drm="widevine",code="200"}} {ok}\n'
                f'license_requests_total{{drm="widevine",code="500"}} {bad}\n'
                "# TYPE license_latency_seconds gauge\n"
                'license_latency_seconds{drm="widevine"} 0.042\n')
    with open(os.path.join(www, "drm.tmp"), "w") as f:
        f.write(body)
    os.replace(os.path.join(www, "drm.tmp"), os.path.join(www, "drm"))
    time.sleep(0.2)
PY
python3 "$T_TMP/exporter.py" "$W" "$T_TMP/mode" &
EXP_PID=$!
printf '# TYPE origin_up gauge\norigin_up 1\n' >"$W/origin"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$W" >"$T_TMP/http.log" 2>&1 &
HTTP_PID=$!
trap 'kill $EXP_PID $HTTP_PID 2>/dev/null; t_cleanup' EXIT
for _ in $(seq 1 100); do
    PORT=$(grep -o 'port [0-9]*' "$T_TMP/http.log" | head -1 | cut -d' ' -f2)
    [ -n "$PORT" ] && [ -s "$W/drm" ] && break
    sleep 0.1
done
t_check "the exporters serve" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/drm")"

cat >"$T_TMP/scrape.yaml" <<YML
- name: drm
  service: drm-license
  url: http://127.0.0.1:$PORT/drm
  interval_s: 0.5
  rules:
    - name: license_errors
      metric: license_requests_total
      match: {code: "~5.."}
      rate: true
      per: license_requests_total
      op: ">"
      threshold: 0.2
      for_s: 1
      summary: license requests fail
    - name: license_slow
      metric: license_latency_seconds
      agg: max
      op: ">"
      threshold: 1
      level: notify
- name: origin
  service: origin
  url: http://127.0.0.1:$PORT/origin
  interval_s: 0.5
- name: packager-push
  service: packager
  push: otlp
  interval_s: 1
  down_after: 3
  rules:
    - name: manifest_stale
      metric: manifest_age_seconds
      agg: max
      op: ">"
      threshold: 6
YML

D="$T_TMP/data"
mkdir -p "$D"
VIEW=$(new_token "$D" viewer it-view)
ING=$(new_token "$D" ingest it-push)
start_server "$D" --modules catalog,qoe,alert,incident,scrape --set scrape.file="$T_TMP/scrape.yaml" \
    --set scrape.outbound_allow=127.0.0.1 --set scrape.timeout_ms=1000 || t_done

api() { curl -s -H "Authorization: Bearer $VIEW" "$BASE$1"; }
# target NAME JQ: the jq expression over target NAME of GET /v1/scrape/targets
target() { api /v1/scrape/targets | jq -r --arg n "$1" ".targets[] | select(.name == \$n) | $2"; }
# wait_until SECONDS COMMAND...: runs COMMAND every 0.2 s until it prints "yes"
wait_until() {
    local until=$(( $(date +%s%N) / 1000000 + $1 * 1000 )); shift
    while [ $(( $(date +%s%N) / 1000000 )) -lt "$until" ]; do
        [ "$("$@")" = yes ] && { echo yes; return 0; }
        sleep 0.2
    done
    echo no
}
state_is() { [ "$(target "$1" .state)" = "$2" ] && echo yes; }
errors_zero() { [ "$(target drm '.rules[0].value')" = 0 ] && echo yes; }
error_named() { target drm .error | grep -q 'line 3: ' && echo yes; }
rule_active() { target drm ".rules[] | select(.name == \"$1\") | if .active then \"yes\" else \"no\" end"; }
rule_clear() { target drm ".rules[] | select(.name == \"$1\") | if .active then \"no\" else \"yes\" end"; }
incidents() { api /v1/incidents; }
# inc_of SERVICE: "alert_id service team level firing" of each incident of SERVICE
inc_of() {
    incidents | jq -r --arg s "$1" '[.incidents[] | select(.service == $s)] | map("\(.alerts[0].alert_id) \(.service) \(.team) \(.alerts[0].level) \(.alerts[0].firing)") | join(";")'
}

# 1. both targets are up; the license server's rate has a value and does not breach
t_check "the license server is up" yes "$(wait_until 5 state_is drm up)"
t_check "the origin is up" yes "$(wait_until 5 state_is origin up)"
t_check "healthy: the error share is 0" yes "$(wait_until 5 errors_zero)"
t_check "the license server's series are kept" "3 prometheus" "$(target drm '"\(.series) \(.format)"')"
S=$(api "/v1/scrape/series?target=drm&metric=license_requests_total")
t_check "two series of license_requests_total, counters" "2 counter" \
    "$(printf '%s' "$S" | jq -r '"\(.series | length) \(.series[0].type)"')"
# the exporter steps its counters every 0.2 s, so a rate between two scrapes that a loaded
# machine brought closer than 0.5 s can read 0 or 100: the check waits for a regular pair
ok_rate() {
    api "/v1/scrape/series?target=drm&metric=license_requests_total" |
        jq -r '.series[] | select(.labels.code == "200") | .rate | if . > 30 and . < 70 then "yes" else "no \(.)" end'
}
t_check "ok requests grow 50 a second" yes "$(wait_until 5 ok_rate)"
M=$(curl -s "$BASE/metrics")
t_contains "/metrics: the target is up" 'oncue_scrape_up{target="drm",service="drm-license"} 1' "$M"
t_contains "/metrics: the rule's value" 'oncue_scrape_rule_value{target="drm",service="drm-license",rule="license_errors"} 0' "$M"
t_check "no incident while healthy" "" "$(incidents | jq -r '.incidents[].id')"

# 2. the license server fails half its requests: one incident owned by drm
echo fail >"$T_TMP/mode"
t_check "license_errors fires" yes "$(wait_until 10 rule_active license_errors)"
t_contains "its detail" "license requests fail: license_errors is 0.5 > 0.2" "$(target drm '.findings[0].detail')"
sleep 2 # more failing scrapes: still one alert, one incident
t_check "exactly one incident, for drm-license, owned by drm, paging" \
    "scrape/drm/license_errors drm-license drm page true" "$(inc_of drm-license)"
t_check "one incident in all" 1 "$(incidents | jq '.incidents | length')"

# 3. recovery resolves the alert
echo ok >"$T_TMP/mode"
t_check "license_errors recovers" yes "$(wait_until 10 rule_clear license_errors)"
t_check "the alert resolved with it" "scrape/drm/license_errors drm-license drm page false" "$(inc_of drm-license)"
t_check "still one incident" 1 "$(incidents | jq '.incidents | length')"
t_check "the firing is recorded: source scrape, linked to the incident" "scrape true" \
    "$(api /v1/alerts | jq -r '[.recent[] | select(.alert_id == "scrape/drm/license_errors")][0] | "\(.source) \(.incident_id != null)"')"

# 4. the origin stops answering its scrape (404): down after two failures, an incident for
# media-pipeline; back up when it answers
mv "$W/origin" "$W/origin.off"
t_check "the origin is down" yes "$(wait_until 5 state_is origin down)"
# a viewer sees the URL cut after its host (test_scrape_url_redact.sh)
t_contains "down says why" "2 scrapes failed: http://127.0.0.1:$PORT/"$'\u2026'" answered 404" "$(target origin '.findings[0].detail')"
t_check "one incident for the origin, owned by media-pipeline" \
    "scrape/origin/down origin media-pipeline page true" "$(inc_of origin)"
mv "$W/origin.off" "$W/origin"
t_check "the origin is up again" yes "$(wait_until 5 state_is origin up)"
t_check "its alert resolved" "scrape/origin/down origin media-pipeline page false" "$(inc_of origin)"

# 5. a body that does not parse: the scrape fails naming the line, the series stay
echo garbage >"$T_TMP/mode"
t_check "a parse error names the line" yes "$(wait_until 5 error_named)"
t_contains "the error text" "127.0.0.1:$PORT/"$'\u2026'": line 3: ',' or '}' was expected after the label drm" "$(target drm .error)"
t_check "the series are kept" 3 "$(target drm .series)"
echo ok >"$T_TMP/mode"

# 6. the API's errors name the field
t_check "series without target: 400" 400 "$(status GET /v1/scrape/series -H "Authorization: Bearer $VIEW")"
t_contains "names target" "target" "$(body)"
t_check "an unknown target: 404" 404 "$(status GET '/v1/scrape/series?target=nope' -H "Authorization: Bearer $VIEW")"

# 7. a service that pushes OTLP/HTTP metrics (JSON) feeds its push target the same way
otlp() { # SERVICE AGE [CONTENT_TYPE]: posts one gauge manifest_age_seconds{stream="live"}
    curl -s -o "$T_TMP/body" -w '%{http_code}' -X POST "$BASE/v1/metrics" \
        -H "Authorization: Bearer $ING" -H "Content-Type: ${3:-application/json}" \
        -d '{"resourceMetrics": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "'"$1"'"}}]},
             "scopeMetrics": [{"metrics": [{"name": "manifest_age_seconds", "gauge": {"dataPoints": [
               {"asDouble": '"$2"', "attributes": [{"key": "stream", "value": {"stringValue": "live"}}]}]}}]}]}]}'
}
t_check "before any push the target's state is unknown" unknown "$(target packager-push .state)"
t_check "an OTLP push is taken" "200 {}" "$(otlp packager 1.5) $(body)"
t_check "the push target is up with its series" "up 1" "$(target packager-push '"\(.state) \(.series)"')"
t_check "a push with the manifest 20 s old" 200 "$(otlp packager 20)"
# origin depends on packager and the origin's incident (section 4) is still open: the
# packager's alert joins it rather than opening a second one
alert_of() { api /v1/alerts | jq -r --arg id "$1" '[.recent[] | select(.alert_id == $id)][0] | "\(.source) \(.level) \(.incident_id != null) \(.resolved_at != null)"'; }
t_check "manifest_stale fired from the pushed gauge, paging, in an incident" "scrape page true false" \
    "$(alert_of scrape/packager-push/manifest_stale)"
t_check "the origin's open incident took it (origin depends on packager)" "origin media-pipeline" \
    "$(api /v1/incidents | jq -r '.incidents[] | select(any(.alerts[]; .alert_id == "scrape/packager-push/manifest_stale")) | "\(.service) \(.team)"')"
t_check "a push for a service with no push target is counted, not kept" \
    '200 1 service.name "nobody" has no push target in scrape.file' \
    "$(otlp nobody 1) $(body | jq -r '"\(.partialSuccess.rejectedDataPoints) \(.partialSuccess.errorMessage)"')"
t_check "protobuf is refused: 415" 415 "$(otlp packager 1 application/x-protobuf)"
t_contains "naming Content-Type" "Content-Type" "$(body)"
t_check "a push with the manifest fresh again" 200 "$(otlp packager 1)"
t_check "manifest_stale resolved" "scrape page true true" "$(alert_of scrape/packager-push/manifest_stale)"
t_check "no push for 3 intervals: the push target is down" yes "$(wait_until 8 state_is packager-push down)"
t_contains "down says so" "no OTLP push for" "$(target packager-push '.findings[0].detail')"

# 8. SIGHUP with a broken file keeps the targets; a fixed one is read again
cp "$T_TMP/scrape.yaml" "$T_TMP/scrape.good"
printf -- '- name: drm\n  url: ftp://x\n' >"$T_TMP/scrape.yaml"
kill -HUP "$SERVER_PID"
sleep 0.5
t_contains "a broken file is refused with its reason" "scrape: kept the targets scraped: drm: url must be an http:// or https:// URL" "$(cat "$T_TMP/server.log")"
t_check "the targets stay" 3 "$(api /v1/scrape/targets | jq '.targets | length')"
stop_server
t_check "the server stopped cleanly" 0 "$SERVER_RC"

# 9. `oncue catalog check --signals`: services with no signal at all (no alert rule watching a
# slice it serves, no probed stream, no scraped or pushed target), and list items naming
# services the catalog does not have
cat >"$T_TMP/probes.yaml" <<'YML'
- {name: live, kind: hls, service: live-packager, url: "https://a.example/live.m3u8"}
- {name: vod, kind: hls, service: no-such-service, url: "https://a.example/vod.m3u8"}
YML
CAT="$(dirname "$0")/../../examples/catalog.yaml"
line_of() { awk -v n="$1" '/^services:/ { s = 1 } s && $0 == "  - name: " n { print NR; exit }' "$CAT"; }
out=$("$ONCUE_BIN" catalog check --scrape "$T_TMP/scrape.good" --probes "$T_TMP/probes.yaml")
rc=$?
t_check "catalog check exits 1 on silent services" 1 "$rc"
t_contains "a probed stream naming an unknown service" \
    "$T_TMP/probes.yaml: stream vod names service no-such-service, which is not in the catalog" "$out"
t_contains "a service serving no slice, with no signal, names its line" \
    "examples/catalog.yaml:$(line_of ads): service ads: no signal: it serves no beacon slice, and no probed stream or scraped target names it" "$out"
t_contains "a service whose slices no shipped rule watches (cdn x live) is silent" \
    "examples/catalog.yaml:$(line_of live-edge): service live-edge: no signal: no alert rule watches a slice it serves, and no probed stream or scraped target names it" "$out"
t_check "the scraped (drm-license, origin), pushed (packager), probed (live-packager) and rule-watched services are not listed" "" \
    "$(printf '%s\n' "$out" | grep -E 'service (drm-license|origin|packager|live-packager|cdn-primary|isp-interconnect|player-tv):')"
t_check "14 silent services in the example catalog" 14 "$(printf '%s\n' "$out" | grep -c 'no signal')"
# A rule on live streams per CDN watches live-edge (cdn=primary,live=true) and live-packager
# (live=true); the burn-rate rules of the shipped SLOs load with them.
{ cat "$(dirname "$0")/../../examples/rules.yaml"; cat <<'YML'
  - name: live-rebuffering-cdn-page
    metric: concurrent_rebuffering_share
    filter: {live: "true"}
    group_by: [cdn]
    op: ">"
    threshold: 0.05
    for: 3m
    level: page
YML
} >"$T_TMP/rules.yaml"
out=$("$ONCUE_BIN" catalog check --rules "$T_TMP/rules.yaml" 2>&1)
t_contains "--rules alone runs the check and says what was not given" \
    "examples/catalog.yaml:$(line_of origin): service origin: no signal: it serves no beacon slice, and no probed stream or scraped target names it (no --probes, --server nor --scrape given)" "$out"
t_check "a rule on live=true by cdn watches live-edge and live-packager" "" \
    "$(printf '%s\n' "$out" | grep -E 'service (live-edge|live-packager):')"
t_check "15 silent services with those rules and nothing else" 15 "$(printf '%s\n' "$out" | grep -c 'no signal')"
out=$("$ONCUE_BIN" catalog check --rules "$T_TMP/no-such-rules.yaml" 2>&1)
t_check "rules that do not load are the problem" "$T_TMP/no-such-rules.yaml: cannot open: No such file or directory" "$out"
# --server: the streams a running server probes, those added through the API included
ADMIN=$(new_token "$D" admin it-admin)
start_server "$D" --modules catalog,probe || t_done
t_check "a stream is added through the API" 201 "$(status POST /v1/probes -H "Authorization: Bearer $ADMIN" \
    -d '{"name":"edge","kind":"hls","service":"live-edge","url":"https://edge.example/live.m3u8"}')"
out=$("$ONCUE_BIN" catalog check --server "$BASE" --token "$VIEW" 2>&1)
t_check "a stream probed through the API is live-edge's signal" "" "$(printf '%s\n' "$out" | grep 'service live-edge:')"
t_contains "--server without files says so" \
    "service ads: no signal: it serves no beacon slice, and no probed stream or scraped target names it (no --scrape given)" "$out"
stop_server
out=$("$ONCUE_BIN" catalog check --server "$BASE" 2>&1)
t_contains "a server that does not answer is a problem" "$BASE/v1/probes: cannot read the probed streams: " "$out"
out=$("$ONCUE_BIN" catalog check --signals 2>&1)
t_contains "without files it says so" "names it (no --probes, --server nor --scrape given)" "$out"
t_check "plain check is unchanged" 0 "$("$ONCUE_BIN" catalog check >/dev/null 2>&1; echo $?)"
t_done
