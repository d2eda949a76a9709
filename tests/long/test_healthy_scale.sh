#!/usr/bin/env bash
# 24 simulated hours of healthy traffic at 80,000 and 800,000 concurrent viewers fire no alert
# of any level (tests/integration/test_healthy.sh does 2,000 in `make check`). About 16 minutes
# and 2 h 45 min of one core on the release build (800,000 measured 2026-12-06: 9,884 s wall,
# 2.43 GB RSS, 0 alerts): run by `make check-long`, not by `make check`.
# ONCUE_HEALTHY_VIEWERS="80000" runs one size.
. "$(dirname "$0")/../integration/lib.sh"
for v in ${ONCUE_HEALTHY_VIEWERS:-80000 800000}; do
    "$ONCUE_BIN" drill healthy --viewers "$v" --json > "$T_TMP/score-$v.json"
    t_check "$v viewers: drill healthy exits 0" 0 $?
    jq -c '{viewers, simulated_s, alerts_fired, incidents_opened, wall_s, reasons}' \
        "$T_TMP/score-$v.json"
    t_check "$v viewers: 24 simulated hours" 86400 "$(jq .simulated_s "$T_TMP/score-$v.json")"
    t_check "$v viewers: no alert of any level" '{"page":0,"notify":0,"backlog":0}' \
        "$(jq -c .alerts_fired "$T_TMP/score-$v.json")"
    t_check "$v viewers: no incident" 0 "$(jq .incidents_opened "$T_TMP/score-$v.json")"
done
t_done
