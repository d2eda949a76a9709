#!/usr/bin/env bash
# The webhook-storm drill against a live server: `oncue drill webhook-storm` posts a signed
# storm (shuffled, duplicated, delayed) and prints the ground-truth scorecard: zero state
# regressions, zero events applied twice, zero lost, PASS (exit 0); a second drill against the
# same server passes too (its ids carry their own prefix); --json gives the same figures as one
# object; a server that refuses the storm's signatures fails the drill (exit 1).
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
VIEW=$(new_token "$D" viewer drill-viewer)
SW=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
start_server "$D" --modules billing --set "billing.standard_secrets=$SW" || exit 1
out=$("$ONCUE_BIN" drill webhook-storm --target "$BASE" --secret "$SW" --token "$VIEW" --subscriptions 300)
t_check "the drill passes" 0 $?
echo "$out"
t_contains "PASS" "drill webhook-storm (seed 1, 300 subscriptions" "$out"
t_contains "scorecard: regressions" "state regressions      0" "$out"
t_contains "scorecard: applied twice" "applied twice          0" "$out"
t_contains "scorecard: lost" "lost                   0" "$out"
j=$("$ONCUE_BIN" drill webhook-storm --target "$BASE" --secret "$SW" --token "$VIEW" --subscriptions 200 --seed 7 --json)
t_check "a second drill on the same server passes" 0 $?
t_check "JSON scorecard" "webhook-storm 7 200 0 0 0 0 true" \
    "$(jq -j '"\(.scenario) \(.seed) \(.subscriptions) \(.refused) \(.regressions) \(.applied_twice) \(.lost) \(.pass)"' <<<"$j")"
t_check "every event delivered at least once" 1 "$(jq '(.deliveries >= .events) and (.events >= 200) | if . then 1 else 0 end' <<<"$j")"
"$ONCUE_BIN" drill webhook-storm --target "$BASE" --secret whsec_b25jdWUgYmlsbGluZzogdGhlIG9sZCBrZXk= \
    --token "$VIEW" --subscriptions 20 >"$T_TMP/bad.out"
t_check "wrong secret: the drill fails" 1 $?
t_contains "FAIL" ": FAIL" "$(cat "$T_TMP/bad.out")"
"$ONCUE_BIN" drill webhook-storm --subscriptions 20 2>"$T_TMP/err"
t_check "no target: usage error" 2 $?
t_contains "says what is needed" "--target http://HOST:PORT, --secret and --token are needed" "$(cat "$T_TMP/err")"
t_contains "listed among the scenarios" "webhook-storm" "$("$ONCUE_BIN" drill --help)"
stop_server TERM
t_check "server exits cleanly" 0 "$SERVER_RC"
t_done
