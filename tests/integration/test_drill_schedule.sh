#!/usr/bin/env bash
# test_drill_schedule.sh - the practice and review cadence: `oncue drill schedule FILE` lists
# and runs drills on a cadence and keeps their scorecards (`oncue drill history`); `oncue
# catalog check --runbooks DIR --drills DIR` names runbooks not reviewed in six months and
# services not drilled in the last quarter. Bad schedule files are FILE:LINE problems.
. "$(dirname "$0")/lib.sh"
B=$ONCUE_BIN
W=$T_TMP
cd "$W" || exit 1

cat >"$W/drills.yaml" <<'EOF'
# the team's drill calendar
drills:
  - name: cdn-failover
    scenario: emea-cdn
    every: 90d
    viewers: 2000
    seed: 1
    services: [cdn-secondary]
  - name: drm
    scenario: drm-outage
    every: 30d
    viewers: 2000
    seed: 3
EOF

# 1. never run: both due
out=$("$B" drill schedule "$W/drills.yaml" --out "$W/out" --json)
t_check "never run: both due" "cdn-failover:true:null drm:true:null" \
    "$(jq -r '[.drills[] | "\(.name):\(.due):\(.last_run)"] | join(" ")' <<<"$out")"

# 2. --run runs both, keeps two scorecards named by schedule
"$B" drill schedule "$W/drills.yaml" --out "$W/out" --run >"$W/run1.out" 2>"$W/run1.err"
t_check "--run exits 0 when both pass" 0 "$?"
t_check "two PASS lines" 2 "$(grep -c '^drill .*: PASS in .* s; scorecard ' "$W/run1.out")"
t_check "two scorecards kept" 2 "$(ls "$W/out/scorecards" | grep -c '\.json$')"
cdn=$(ls "$W"/out/scorecards/*-emea-cdn-seed1.json)
t_check "the scorecard names its schedule, services and incident's service" \
    "cdn-failover cdn-secondary cdn-primary true" \
    "$(jq -r '"\(.schedule) \(.services | join(",")) \(.service) \(.pass)"' "$cdn")"
t_check "ran_at is the wall clock (today)" "$(date -u +%F)" "$(jq -r '.ran_at[0:10]' "$cdn")"

# 3. listed with their last run; not due now, due past the cadence
out=$("$B" drill schedule "$W/drills.yaml" --out "$W/out" --json)
t_check "after the run: not due, last run passed" "cdn-failover:false:true drm:false:true" \
    "$(jq -r '[.drills[] | "\(.name):\(.due):\(.last_pass)"] | join(" ")' <<<"$out")"
out=$("$B" drill schedule "$W/drills.yaml" --out "$W/out" --at now+31d --json)
t_check "31 days on: the monthly drill is due, the quarterly one not" "false true" \
    "$(jq -r '[.drills[] | .due] | join(" ")' <<<"$out")"
txt=$("$B" drill schedule "$W/drills.yaml" --out "$W/out")
t_contains "the table" "cdn-failover         emea-cdn           90d" "$txt"
t_contains "the table's result" "PASS" "$txt"

# 4. nothing due: --run runs nothing
"$B" drill schedule "$W/drills.yaml" --out "$W/out" --run >"$W/run2.out"
t_check "nothing due: exit 0" 0 "$?"
t_check "nothing due: says so" "no drill is due" "$(cat "$W/run2.out")"
t_check "still two scorecards" 2 "$(ls "$W/out/scorecards" | grep -c '\.json$')"

# 5. a plain drill keeps its scorecard too; history lists all three, newest first
"$B" drill blip --viewers 2000 --seed 2 --out "$W/out" >"$W/blip.out"
t_contains "a plain drill prints where its scorecard is" "scorecard              $W/out/scorecards/" \
    "$(cat "$W/blip.out")"
h=$("$B" drill history --out "$W/out" --json)
t_check "history: three, newest first" "blip drm-outage emea-cdn" \
    "$(jq -r '[.scorecards[].scenario] | join(" ")' <<<"$h")"
t_check "history --scenario" "emea-cdn" \
    "$("$B" drill history --out "$W/out" --scenario emea-cdn --json | jq -r '[.scorecards[].scenario] | join(" ")')"
t_contains "history as a table" "cdn-failover       emea-cdn" "$("$B" drill history --out "$W/out")"
echo '{"ran_at": ' >"$W/out/scorecards/zz-broken.json"
"$B" drill history --out "$W/out" >/dev/null 2>"$W/hist.err"
t_check "a broken scorecard file is skipped and counted" \
    "oncue drill history: 1 scorecard files did not read as JSON" "$(cat "$W/hist.err")"
rm "$W/out/scorecards/zz-broken.json"
t_check "an empty history says so" "no drill scorecards in $W/none/scorecards" \
    "$("$B" drill history --out "$W/none")"

# 6. catalog check --drills: services drilled this quarter are not named
"$B" catalog check --drills "$W/out" >"$W/cc.out" 2>&1
t_check "catalog check --drills exits 1 (services never drilled)" 1 "$?"
names=$(grep -o 'service [a-z-]*: no drill' "$W/cc.out" | cut -d' ' -f2 | tr -d ':' | tr '\n' ' ')
for s in cdn-primary cdn-secondary drm-license; do
    case " $names" in *" $s "*) t_check "$s drilled: not named" no yes ;; *) t_check "$s drilled: not named" yes yes ;; esac
done
t_contains "a service never drilled names its catalog line" \
    "examples/catalog.yaml:211: service origin: no drill in the last quarter (never drilled)" \
    "$(cat "$W/cc.out")"
t_check "21 of the 24 services of the example catalog named" 21 "$(grep -c 'no drill in the last quarter' "$W/cc.out")"
"$B" catalog check --drills "$W/out" --at "$(($(date +%s) + 93 * 86400))" >"$W/cc2.out" 2>&1
t_contains "93 days on: the drilled service is due again, with its last drill" \
    "service cdn-primary: no drill in the last quarter (last $(date -u +%F), passed)" \
    "$(cat "$W/cc2.out")"
t_check "93 days on: all 24 named" 24 "$(grep -c 'no drill in the last quarter' "$W/cc2.out")"

# 7. catalog check --runbooks: the shipped runbooks are reviewed; old and missing dates named
mkdir -p "$W/rb"
cp "$ONCUE_SRC"/examples/runbooks/*.yaml "$W/rb/"
"$B" catalog check --runbooks "$W/rb" >"$W/rb.out" 2>&1
t_check "the shipped runbooks are reviewed: exit 0, and it says what it checked" \
    "0 examples/catalog.yaml: 24 services, no problems; 5 runbooks in $W/rb, each reviewed in the last six months" \
    "$? $(cat "$W/rb.out")"
sed -i 's/^reviewed: .*/reviewed: 2026-01-15/' "$W/rb/rebuffering.yaml"
sed -i '/^reviewed: /d' "$W/rb/start-failures.yaml"
"$B" catalog check --runbooks "$W/rb" --at 2026-12-06T12:00:00Z >"$W/rb.out" 2>&1
t_check "two runbooks named, exit 1" "1 2" "$? $(grep -c 'runbook' "$W/rb.out")"
t_contains "an old review names its line, age and due date" \
    "$W/rb/rebuffering.yaml:8: runbook rebuffering: last reviewed 2026-01-15, 325 days ago (due every six months, by 2026-07-17)" \
    "$(cat "$W/rb.out")"
t_contains "a runbook without a review date" \
    "$W/rb/start-failures.yaml:1: runbook start-failures: no reviewed: date (YYYY-MM-DD); runbooks are peer-reviewed every six months" \
    "$(cat "$W/rb.out")"
sed -i 's/^reviewed: .*/reviewed: last spring/' "$W/rb/rebuffering.yaml"
"$B" runbook check "$W/rb/rebuffering.yaml" >"$W/rc.out" 2>&1
t_check "runbook check: a malformed review date is FILE:LINE" \
    "$W/rb/rebuffering.yaml:8: reviewed: the date of the last review, YYYY-MM-DD, got 'last spring'" \
    "$(cat "$W/rc.out")"
sed -i 's/^reviewed: .*/reviewed: 2099-01-01/' "$W/rb/rebuffering.yaml"
"$B" runbook check "$W/rb/rebuffering.yaml" >"$W/rc.out" 2>&1
t_check "runbook check: a review date in the future" \
    "$W/rb/rebuffering.yaml:8: reviewed: a date in the future" "$(cat "$W/rc.out")"

# 8. bad schedule files: one FILE:LINE line each, exit 2, nothing run
bad() { # bad NAME EXPECTED YAML
    printf '%s\n' "$3" >"$W/bad.yaml"
    "$B" drill schedule "$W/bad.yaml" --out "$W/badout" --run >"$W/bad.out" 2>&1
    t_check "$1" "2 $2" "$? $(cat "$W/bad.out")"
}
bad "no drills list" "$W/bad.yaml:1: drills: a list of drills (name, scenario, every) is required" \
    'drill: []'
bad "an unknown scenario, with a suggestion" \
    "$W/bad.yaml:3: drills[0]: scenario: unknown scenario emea-cnd; did you mean emea-cdn?" \
    $'drills:\n  - name: a\n    scenario: emea-cnd\n    every: 90d'
bad "a cadence out of range" \
    "$W/bad.yaml:4: drills[0]: every: required, a duration from 1h to 400d (90d, 4w, 12h)" \
    $'drills:\n  - name: a\n    scenario: blip\n    every: 5m'
bad "an unknown key" \
    "$W/bad.yaml:4: drills[0]: unknown key 'cadence' (name, scenario, every, viewers, seed, services)" \
    $'drills:\n  - name: a\n    scenario: blip\n    cadence: 90d'
bad "a duplicate name" "$W/bad.yaml:5: drills[1]: name: a is also drills[0]'s" \
    $'drills:\n  - {name: a, scenario: blip, every: 90d}\n\n\n  - {name: a, scenario: blip, every: 30d}'
bad "viewers out of range" "$W/bad.yaml:2: drills[0]: viewers: a number from 1 to 4000000" \
    $'drills:\n  - {name: a, scenario: blip, every: 90d, viewers: 0}'
t_check "nothing ran for a bad file" no "$([ -e "$W/badout" ] && echo yes || echo no)"
"$B" drill schedule >/dev/null 2>"$W/nofile.err"
t_check "no FILE: exit 2 and why" "2 oncue drill schedule: name the schedule FILE (see --help)" \
    "$? $(cat "$W/nofile.err")"
"$B" drill schedule "$W/missing.yaml" >/dev/null 2>"$W/missing.err"
t_contains "a missing file names it" "$W/missing.yaml: cannot open" "$(cat "$W/missing.err")"

t_done
