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
t_done
