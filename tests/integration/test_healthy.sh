#!/usr/bin/env bash
# 24 simulated hours of healthy traffic at 2,000 concurrent viewers (`oncue drill healthy`:
# the shipped topology from midnight, no fault, through the modules `oncue serve` runs) fire no
# alert of any level and open no incident. tests/long/test_healthy_scale.sh runs the same at
# 80,000 and 800,000 viewers (`make check-long`).
. "$(dirname "$0")/lib.sh"
"$ONCUE_BIN" drill healthy --viewers 2000 --json > "$T_TMP/score.json"
t_check "drill healthy exits 0" 0 $?
t_check "24 simulated hours" 86400 "$(jq .simulated_s "$T_TMP/score.json")"
t_check "no fault" null "$(jq .fault_start "$T_TMP/score.json")"
t_check "no alert of any level" '{"page":0,"notify":0,"backlog":0}' \
    "$(jq -c .alerts_fired "$T_TMP/score.json")"
t_check "no incident" 0 "$(jq .incidents_opened "$T_TMP/score.json")"
t_check "pass" true "$(jq .pass "$T_TMP/score.json")"
# --from and --duration choose the stretch of the day; bad values are usage errors
"$ONCUE_BIN" drill healthy --viewers 500 --from 18:30 --duration 30m --json > "$T_TMP/s2.json"
t_check "half an hour from 18:30" 1800 "$(jq .simulated_s "$T_TMP/s2.json")"
"$ONCUE_BIN" drill healthy --from 24:00 2> "$T_TMP/err" >/dev/null
t_check "--from 24:00 is a usage error" 2 $?
t_contains "named" "--from: a time of day, HH:MM (UTC)" "$(cat "$T_TMP/err")"
"$ONCUE_BIN" drill healthy --duration 30s 2> "$T_TMP/err" >/dev/null
t_check "--duration 30s is a usage error" 2 $?
t_done
