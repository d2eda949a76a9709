#!/usr/bin/env bash
# A drill's runbook run end to end against the real server: `oncue sim emea-cdn` opens INC-1
# (rebuffering in EMEA on the primary CDN) on a replay clock; `oncue runbook check` passes the
# shipped runbooks and names the line of each problem in a bad one; a dry run shows what each
# step would do and records nothing; the run checks the metric, records the manual notes and
# waits at its decision; a viewer may read but not approve; the test approves over the API and
# the shift-cdn mitigation runs; the timeline shows every step with the runbook's version and
# hash; a second run waits again and `oncue runbook skip` skips the mitigation; the automation
# report shows both runs' coverage and INC-1's cycle times; your own runbooks from runbook.dir
# run too: a webhook action refused on a loopback address not allowed, then allowed and verified by a
# Standard Webhooks receiver; a failed check stops a run unless it says on_fail: continue.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest it-sim | tail -1)
VIEW=$(new_token "$D" viewer it-view | tail -1)
RESP=$(new_token "$D" responder alice | tail -1)
T0=1772479800 # 2026-03-02 19:30 UTC, emea-cdn's begin

# 1. the lint: the shipped runbooks pass; a bad one fails with FILE:LINE per problem
"$ONCUE_BIN" runbook check "$ONCUE_SRC"/examples/runbooks/*.yaml > "$T_TMP/check.out" 2>&1
t_check "shipped runbooks lint clean" "0 5 runbooks ok" "$? $(cat "$T_TMP/check.out")"
cat > "$T_TMP/bad.yaml" <<'YAML'
kind: bad
steps:
  - name: look
    type: check
    do: "look"
    query: incident.colour
    expect: "== red"
  - name: wait
    type: decision
    do: "shift?"
  - name: shift
    type: action
    do: "shift"
    run: "oncue mitigate teleport --region EMEA"
  - name: later
    type: chore
    do: "x"
YAML
"$ONCUE_BIN" runbook check "$T_TMP/bad.yaml" 2> "$T_TMP/check.err"
t_check "a bad runbook fails" 1 $?
t_check "the unknown step type, on its line" \
    "$T_TMP/bad.yaml:16: type: unknown step type 'chore' (check, action, decision, or none for a manual note)" \
    "$(cat "$T_TMP/check.err")"
sed -i '/name: later/,$d' "$T_TMP/bad.yaml"
"$ONCUE_BIN" runbook check "$T_TMP/bad.yaml" 2> "$T_TMP/check.err"
t_check "unknown field and mitigation, each on its step's line" \
    "1 $T_TMP/bad.yaml:3: unknown query field 'incident.colour'|$T_TMP/bad.yaml:11: unknown mitigation: kind: one of shift-cdn, backup-origin, flag, rollback" \
    "$? $(sed 's/ (incident fields.*//' "$T_TMP/check.err" | paste -sd'|')"

# 2. an incident from the simulator
echo '{"ttl": 10, "pathways": ["primary", "secondary"]}' > "$T_TMP/policy.json"
start_server "$D" --clock replay --set steer.policy_file="$T_TMP/policy.json" || exit 1
"$ONCUE_BIN" sim --target "$BASE" --token "$ING" --speed 0 --batch 5000 --scenario emea-cdn \
    --viewers 3000 --start $T0 --duration 30m --seed 3 2> "$T_TMP/sim.log"
t_check "sim exits 0" 0 $?
for _ in $(seq 1 300); do # the alert, incident and rca timers tick every second
    curl -s -H "Authorization: Bearer $VIEW" "$BASE/v1/incidents/INC-1" > "$T_TMP/inc.json"
    jq -e '.causes | length > 0' "$T_TMP/inc.json" >/dev/null 2>&1 && break
    sleep 0.2
done
t_check "INC-1 is rebuffering in EMEA on primary" 'rebuffering_share {"region":"EMEA","cdn":"primary"}' \
    "$(jq -r '"\(.title | split(" ")[0]) \(.slice | tojson)"' "$T_TMP/inc.json")"
H() { echo "Authorization: Bearer $1"; }
# start_slow ARGS...: start_server, then up to 30 s more for a server still starting (ASan on
# a loaded machine reopens the stored minutes slowly; start_server gives it 10 s)
start_slow() {
    start_server "$@" >/dev/null && return 0
    local port=""
    for _ in $(seq 1 300); do
        port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$T_TMP/server.log" | head -1 | cut -d: -f2)
        [ -n "$port" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$port" ] || { echo "server did not start:"; cat "$T_TMP/server.log"; return 1; }
    BASE="http://127.0.0.1:$port"
}

# 3. a dry run says what each step would do and records nothing
t_check "dry run answers 200" 200 "$(status POST /v1/incidents/INC-1/runbook -H "$(H "$RESP")" \
    -d '{"dry_run": true}')"
t_check "each step's type and what it would do" \
    "check:passed note:manual note:manual note:manual decision:would wait action:would run note:manual note:manual" \
    "$(body | jq -r '[.steps[] | "\(.type):\(.status)"] | join(" ")')"
t_check "the action it would run" \
    "would run: oncue mitigate shift-cdn --region EMEA --from primary --to secondary" \
    "$(body | jq -r '.steps[5].detail')"
t_check "a dry run records nothing" 404 "$(status GET /v1/incidents/INC-1/runbook -H "$(H "$VIEW")")"
t_check "... and writes nothing on the timeline" 0 \
    "$(curl -s -H "$(H "$VIEW")" "$BASE/v1/incidents/INC-1" |
        jq '[.timeline[] | select((.text // "") | startswith("runbook "))] | length')"
t_check "a viewer may not run it" 403 "$(status POST /v1/incidents/INC-1/runbook -H "$(H "$VIEW")" -d '{}')"
t_check "an unknown runbook is named" "404 runbook: no runbook named nope (GET /v1/runbooks)" \
    "$(status POST /v1/incidents/INC-1/runbook -H "$(H "$RESP")" -d '{"runbook": "nope"}') $(body | jq -r .detail)"
t_check "an unknown member is named" "422 dryrun: not a member of this body" \
    "$(status POST /v1/incidents/INC-1/runbook -H "$(H "$RESP")" -d '{"dryrun": true}') $(body | jq -r .detail)"

# 4. the run: the check passes, the notes are recorded, the decision waits (a person has
#    announced the incident first, as the runbook's manual step says)
t_check "a person posts the first status update" 200 "$(status POST /v1/incidents/INC-1/status \
    -H "$(H "$RESP")" -d '{"status": "investigating", "body": "Rebuffering in EMEA; on it."}')"
t_check "the run starts" 201 "$(status POST /v1/incidents/INC-1/runbook -H "$(H "$RESP")" -d '{}')"
t_check "it waits at the decision (step 5)" "waiting 5 rebuffering 2" \
    "$(body | jq -r '"\(.state) \(.waiting_step) \(.runbook) \(.version)"')"
t_check "the check saw the metric above 0" "passed" "$(body | jq -r '.steps[0].status')"
t_contains "... with its value" "qoe.rebuffering_share = 0." "$(body | jq -r '.steps[0].detail')"
t_contains "the dashboards note names the owning service's board (cdn-primary is a cdn)" \
    "The owning service's board: the CDN edge board (console #/dashboards?d=cdn)." \
    "$(body | jq -r '.steps[3].detail')"
HASH=$(body | jq -r .hash)
t_check "the content hash is the file's" \
    "sha256:$(sha256sum "$ONCUE_SRC/examples/runbooks/rebuffering.yaml" | cut -c1-12)" "$HASH"
t_check "no mitigation yet" 0 "$(curl -s -H "$(H "$VIEW")" "$BASE/v1/mitigations" |
    jq '.mitigations | length')"
t_check "a second run waits for the first" 409 \
    "$(status POST /v1/incidents/INC-1/runbook -H "$(H "$RESP")" -d '{}')"
t_check "a viewer reads the run" "200 waiting" \
    "$(status GET /v1/incidents/INC-1/runbook -H "$(H "$VIEW")") $(body | jq -r .state)"
t_check "a viewer may not approve" 403 \
    "$(status POST /v1/incidents/INC-1/runbook/approve -H "$(H "$VIEW")" -d '{}')"
t_check "approving another step is refused" "409 step: the run waits at step 5, not 6" \
    "$(status POST /v1/incidents/INC-1/runbook/approve -H "$(H "$RESP")" -d '{"step": 6}') $(body | jq -r .detail)"

# 5. the test approves the decision: the action runs, the run finishes
t_check "approved" 200 \
    "$(status POST /v1/incidents/INC-1/runbook/approve -H "$(H "$RESP")" -d '{"step": 5}')"
t_check "every step's result" \
    "done|passed manual manual manual approved done manual manual|2 of 8, 6 by a person" \
    "$(body | jq -r '"\(.state)|\([.steps[].status] | join(" "))|\(.automated) of \(.steps_total), \(.manual) by a person"')"
t_check "the mitigation ran" \
    "ran: oncue mitigate shift-cdn --region EMEA --from primary --to secondary" \
    "$(body | jq -r '.steps[5].detail | sub(" \\(mitigation.*"; "")')"
t_check "approved by alice" "alice" "$(body | jq -r '.steps[4].by')"
t_check "the policy has the shift" "1" "$(curl -s -H "$(H "$VIEW")" "$BASE/v1/mitigations" |
    jq '[.. | objects | select(.kind? == "shift-cdn")] | length > 0' | grep -c true)"
curl -s -H "$(H "$VIEW")" "$BASE/v1/incidents/INC-1" > "$T_TMP/inc.json"
LABEL="runbook rebuffering version 2 ($HASH)"
t_check "the timeline: started, 8 steps, the approval, finished; each with the version" \
    "started step1 step2 step3 step4 step5 step5 step6 step7 step8 done" \
    "$(jq -r --arg l "$LABEL" '[.timeline[] | .text // "" | select(startswith($l)) | ltrimstr($l + " ") |
        if startswith("step ") then "step" + (split(" ")[1] | split("/")[0]) else split(":")[0] | split(" ")[0] end] | join(" ")' "$T_TMP/inc.json")"
t_check "who and what of the decision" \
    "alice|$LABEL step 5/8 approve mitigation [decision]: approved: approved by alice: Run the mitigation" \
    "$(jq -r --arg l "$LABEL" '[.timeline[] | select((.text // "") | startswith($l + " step 5/8") and contains("approved"))][0] |
        "\(.actor // .by)|\(.text | split(" the next step")[0])"' "$T_TMP/inc.json")"

# 6. the CLI: a second run waits again; `oncue runbook skip` skips the mitigation
export ONCUE_SERVER=$BASE ONCUE_TOKEN=$RESP
"$ONCUE_BIN" runbook run INC-1 > "$T_TMP/run.out"
t_check "oncue runbook run waits" "0 waiting at step 5: oncue runbook approve|skip INC-1" \
    "$? $(tail -1 "$T_TMP/run.out")"
"$ONCUE_BIN" runbook skip INC-1 --step 5 > "$T_TMP/skip.out"
t_check "oncue runbook skip: the decision and its action skipped" "0 skipped skipped" \
    "$? $(sed -n 's/^  [56]\. [a-z ]* \[[a-z]*\] \([a-z]*\):.*/\1/p' "$T_TMP/skip.out" | paste -sd' ')"
t_contains "the run is done" "runbook rebuffering version 2 ($HASH): done, 1 of 8" "$(head -1 "$T_TMP/skip.out")"
"$ONCUE_BIN" runbook approve INC-1 2> "$T_TMP/approve.err"
t_check "nothing waits to approve" "1 oncue runbook: POST /v1/incidents/INC-1/runbook/approve: HTTP 409: INC-1: its rebuffering run is done, not waiting for a decision" \
    "$? $(cat "$T_TMP/approve.err")"

# 7. the automation report: the two runs' coverage and INC-1's cycle times
"$ONCUE_BIN" report automation --json > "$T_TMP/report.json"
t_check "per runbook: 2 runs, 3 of 16 steps without a person" "rebuffering 2 16 3 0.1875" \
    "$(jq -r '.runbooks[] | "\(.runbook) \(.runs) \(.steps) \(.automated) \(.automated_share)"' "$T_TMP/report.json")"
t_check "per incident: the last run, 1 of 8" "INC-1 rebuffering 2 1 8" \
    "$(jq -r '.incidents[0] | "\(.incident_id) \(.runbook) \(.runbook_runs) \(.automated) \(.steps)"' "$T_TMP/report.json")"
inc=$(curl -s -H "$(H "$VIEW")" "$BASE/v1/incidents/INC-1")
detected=$(jq '[.alerts[].fired_at] | min' <<<"$inc")
t_check "cycle times measured from the first alert" \
    "$(jq -c --argjson d "$detected" '[.opened_at - $d, ([.timeline[] | select(.kind == "status_update")][0].at - $d), (if .mitigated_at then .mitigated_at - $d else null end), (if ([.alerts[] | select(.firing or .cleared_at == null)] | length) == 0 then ([.alerts[].cleared_at] | max) - $d else null end)]' <<<"$inc")" \
    "$(jq -c '.incidents[0] | [.to_declaration_s, .to_first_update_s, .to_mitigation_s, .to_relief_s]' "$T_TMP/report.json")"
t_check "the decision waited at twice" "rebuffering approve mitigation 2" \
    "$(jq -r '.manual_cost[0] | "\(.runbook) \(.step) \(.waits)"' "$T_TMP/report.json")"
"$ONCUE_BIN" report automation > "$T_TMP/report.txt"
t_contains "the text report" "rebuffering                  2     16          3   18.8%" "$(cat "$T_TMP/report.txt")"
t_check "days out of range" 422 "$(status GET '/v1/reports/automation?days=0' -H "$(H "$VIEW")")"
stop_server
t_check "the server stops cleanly (first run)" 0 "$SERVER_RC"

# 8. your own runbook from runbook.dir with a signed webhook action: a loopback address not in
#    runbook.outbound_allow is refused; an allowed one gets a message it can verify
mkdir -p "$T_TMP/rb"
cat > "$T_TMP/recv.py" <<'PY'
import base64, hashlib, hmac, http.server, json, sys
key = base64.b64decode(open(sys.argv[1]).read().strip()[6:])
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        mid, ts = self.headers["webhook-id"], self.headers["webhook-timestamp"]
        mac = base64.b64encode(hmac.new(key, f"{mid}.{ts}.".encode() + body,
                                        hashlib.sha256).digest()).decode()
        ok = ("v1," + mac) in self.headers["webhook-signature"].split(" ")
        d = json.loads(body)
        with open(sys.argv[2], "a") as f:
            f.write(f"{self.path} {ok} {d['type']} {d['data']['incident_id']} {d['data']['runbook']} {d['data']['version']}\n")
        self.send_response(204); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[3], "w").write(str(s.server_port))
s.serve_forever()
PY
echo "whsec_$(printf 'runbook-test-key-32-bytes-long!!' | base64)" > "$T_TMP/keys"
python3 "$T_TMP/recv.py" "$T_TMP/keys" "$T_TMP/got" "$T_TMP/port" &
RECV=$!
trap 'kill $RECV 2>/dev/null; t_cleanup' EXIT # the receiver goes too, whatever happens
for _ in $(seq 1 50); do [ -s "$T_TMP/port" ] && break; sleep 0.1; done
PORT=$(cat "$T_TMP/port")
cat > "$T_TMP/rb/cdn-hook.yaml" <<YAML
kind: cdn-hook
version: "1"
metrics: [edge_5xx_rate]
steps:
  - name: still open
    type: check
    do: "Is {incident} still open?"
    query: incident.state
    expect: "!= resolved"
  - name: tell the CDN
    type: action
    do: "Tell the CDN about {slice}"
    webhook: "http://127.0.0.1:$PORT/hook?i={incident}"
YAML
cat > "$T_TMP/rb/strict.yaml" <<'YAML'
kind: strict
metrics: [edge_5xx_rate]
steps:
  - name: resolved already
    type: check
    do: "Resolved?"
    query: incident.state
    expect: "== resolved"
    on_fail: continue
  - name: severe enough
    type: check
    do: "SEV1?"
    query: incident.severity
    expect: "== SEV1"
  - name: shift
    type: action
    do: "shift"
    run: "oncue mitigate shift-cdn --region {region} --from {cdn} --to {alternate}"
YAML
sed -e 's/^kind: cdn-hook/kind: other-hook/' -e 's/127.0.0.1:/127.0.0.2:/' \
    "$T_TMP/rb/cdn-hook.yaml" > "$T_TMP/rb/other-hook.yaml"
start_slow "$D" --clock replay --set runbook.dir="$T_TMP/rb" --set runbook.webhook_keys_file="$T_TMP/keys" \
    --set runbook.outbound_allow=127.0.0.1/32 || exit 1
t_check "GET /v1/runbooks lists yours first" "cdn-hook dir 1 check,action" \
    "$(curl -s -H "$(H "$VIEW")" "$BASE/v1/runbooks" | jq -r '.runbooks[0] | "\(.name) \(.source) \(.version) \([.steps[].type] | join(","))"')"
t_check "a restart forgets the run (the timeline keeps it)" 404 \
    "$(status GET /v1/incidents/INC-1/runbook -H "$(H "$VIEW")")"
status POST /v1/incidents/INC-1/runbook -H "$(H "$RESP")" -d '{"runbook": "other-hook"}' >/dev/null
t_check "a loopback address not allowed is refused" "failed" "$(body | jq -r '.state')"
t_contains "... naming the setting" "runbook.outbound_allow" "$(body | jq -r '.steps[1].detail')"
status POST /v1/incidents/INC-1/runbook -H "$(H "$RESP")" -d '{"runbook": "cdn-hook"}' >/dev/null
t_check "allowed: the webhook action is done (the URL's path and query not shown)" "done done POST http://127.0.0.1:$PORT/…: HTTP 204" \
    "$(body | jq -r '"\(.state) \(.steps[1].status) \(.steps[1].detail)"')"
t_check "the receiver verified the signature" "/hook?i=INC-1 True runbook.action INC-1 cdn-hook 1" \
    "$(cat "$T_TMP/got" 2>/dev/null)"
status POST /v1/incidents/INC-1/runbook -H "$(H "$RESP")" -d '{"runbook": "strict"}' >/dev/null
t_check "a failed check goes on with on_fail: continue, else stops the run" \
    "failed|failed failed|incident.state = mitigated (expected == resolved)" \
    "$(body | jq -r '"\(.state)|\([.steps[].status] | join(" "))|\(.steps[0].detail)"')"
# SIGHUP re-reads runbook.dir; a broken file keeps the runbooks in force, naming FILE:LINE
printf 'kind: later\nsteps:\n  - name: a\n    do: "look"\n' > "$T_TMP/rb/later.yaml"
kill -HUP "$SERVER_PID"
for _ in $(seq 1 300); do grep -q 'SIGHUP' "$T_TMP/server.log" && break; sleep 0.1; done
t_contains "SIGHUP re-reads the directory" "runbook: 4 runbooks from $T_TMP/rb" \
    "$(grep 'SIGHUP' "$T_TMP/server.log" | tail -1)"
printf 'kind: broken\nsteps:\n  - name: a\n    do: "x"\n    type: chek\n' > "$T_TMP/rb/zz.yaml"
kill -HUP "$SERVER_PID"
for _ in $(seq 1 300); do [ "$(grep -c 'SIGHUP' "$T_TMP/server.log")" -ge 2 ] && break; sleep 0.1; done
t_contains "a broken runbook keeps those in force" \
    "runbook: kept the runbooks it had: $T_TMP/rb/zz.yaml:5: type: unknown step type 'chek'" \
    "$(grep 'SIGHUP' "$T_TMP/server.log" | tail -1)"
t_check "... the three" "cdn-hook later other-hook strict" \
    "$(curl -s -H "$(H "$VIEW")" "$BASE/v1/runbooks" | jq -r '[.runbooks[] | select(.source == "dir") | .name] | join(" ")')"
kill $RECV
stop_server
t_check "the server stops cleanly (no sanitizer report)" "0 0" \
    "$SERVER_RC $(grep -c 'Sanitizer\|runtime error' "$T_TMP/server.log")"
t_done
