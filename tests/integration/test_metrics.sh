#!/usr/bin/env bash
# /metrics as Prometheus tooling reads it: after the simulator filled a few minutes (so the QoE
# gauges are present), `promtool check metrics` finds nothing to complain about; names are in
# base units (seconds, bytes), the startup percentiles are one family with a percentile label,
# and the standard process_* collector is there.
. "$(dirname "$0")/lib.sh"
PROMTOOL=$(command -v promtool || true)
[ -n "$PROMTOOL" ] || { echo "promtool is missing (scripts/deps.sh check installs prometheus)"; exit 1; }
D=$T_TMP/data
ING=$(new_token "$D" ingest it-ing)
VIEW=$(new_token "$D" viewer it-view)
start_server "$D" --clock replay || exit 1
"$ONCUE_BIN" sim --target "$BASE" --token "$ING" --speed 600 --viewers 500 --duration 8m \
    --scenario blip --seed 3 2>"$T_TMP/sim.log"
t_check "sim exits 0" 0 $?
for _ in $(seq 1 50); do # the qoe timer closes minutes every second
    curl -s -H "Authorization: Bearer $VIEW" "$BASE/metrics" >"$T_TMP/m.txt"
    grep -q '^oncue_qoe_startup_seconds{' "$T_TMP/m.txt" && break
    sleep 0.2
done
t_check "QoE gauges present" 1 "$(grep -c '^# TYPE oncue_qoe_startup_seconds gauge' "$T_TMP/m.txt")"
"$PROMTOOL" check metrics <"$T_TMP/m.txt" >"$T_TMP/promtool.out" 2>&1
t_check "promtool check metrics: exit 0" 0 $?
t_check "promtool check metrics: no complaint" "" "$(cat "$T_TMP/promtool.out")"
t_check "both startup percentiles in one family" "50 95" \
    "$(grep '^oncue_qoe_startup_seconds{' "$T_TMP/m.txt" | grep -o 'percentile="[0-9]*"' |
        cut -d'"' -f2 | sort -un | tr '\n' ' ' | sed 's/ $//')"
t_check "startup in seconds (under a minute)" 0 \
    "$(grep '^oncue_qoe_startup_seconds{' "$T_TMP/m.txt" | awk '$2 >= 60 || $2 <= 0' | wc -l)"
t_check "bitrate in bytes per second" 1 \
    "$(grep -c '^# TYPE oncue_qoe_avg_bitrate_bytes_per_second gauge' "$T_TMP/m.txt")"
for f in process_cpu_seconds_total process_resident_memory_bytes process_virtual_memory_bytes \
    process_open_fds process_max_fds process_start_time_seconds; do
    t_check "$f exported" 1 "$(grep -c "^$f [0-9]" "$T_TMP/m.txt")"
done
t_check "resident memory is plausible (1 MB to 4 GB)" 1 \
    "$(awk '/^process_resident_memory_bytes / {print ($2 > 1e6 && $2 < 4e9)}' "$T_TMP/m.txt")"
t_done
