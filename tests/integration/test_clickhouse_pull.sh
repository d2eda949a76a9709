#!/usr/bin/env bash
# A control-plane node's cube filled from ClickHouse (qoe.clickhouse_pull, chpull.c): a minute
# one collector has not closed is held back, then taken without it once a minute ten minutes
# later is whole; when that collector's rows arrive later, the minute is read again and
# replaces the one in the cube, so its plays count every collector's starts once.
#
# One real clickhouse-server (started here, 127.0.0.1, HTTP / native ports CH_PORT_BASE + 0
# and + 1, default 18670 and 18671); two collectors (`oncue serve --modules ingest`, replay
# clock) ship to it; the node under test runs `--modules qoe` with qoe.clickhouse_pull only
# (so /v1/qoe answers from its cube). Skipped (77) without clickhouse-server.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/clickhouse_lib.sh"
ch_need
P=${CH_PORT_BASE:-18670}
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; ch_stop; t_cleanup' EXIT
ch_start "$P" "$((P + 1))" || exit 1

CH_ARGS=(--set qoe.clickhouse_table=it_pull --set "qoe.clickhouse_url=$CH_URL")
for n in 0 1; do
    eval "ING$n=\$(new_token \"\$T_TMP/c$n\" ingest it-ingest | tail -1)"
    serve_node "C$n" "$T_TMP/c$n" --modules ingest --clock replay "${CH_ARGS[@]}" \
        --set qoe.clickhouse_ship=true || exit 1
done

T0=1772479800 # 2026-03-02 19:30 UTC: minute M; M - 1 before it
start() { # start TS SESSION: a successful start at unix second TS
    printf '{"ts":%d000,"type":"start","session":"%s","outcome":"success","startup_ms":800,"region":"EMEA"}\n' "$1" "$2"
}
hb() { printf '{"ts":%d000,"type":"heartbeat","session":"%s","playing_ms":10000,"region":"EMEA"}\n' "$1" "$2"; }
post() { # post N LINES: to collector N, in event-time order
    curl -s -m 10 -o /dev/null -w '%{http_code}' -X POST "$(eval echo "\$C$1_URL")/v1/events" \
        -H "Authorization: Bearer $(eval echo "\$ING$1")" --data-binary "$2"
}
plays() { # plays FROM TO: the node's plays over [FROM, TO) in one point
    curl -s -m 20 -H "Authorization: Bearer $VIEW" \
        "$P_URL/v1/qoe?metric=plays&from=$1&to=$2&step=$(($2 - $1))" |
        jq '[.series[]?.points[][1] // 0] | add // 0'
}
metric() { curl -s -m 5 "$P_URL/metrics" | awk -v n="$1" '$1 == n {printf "%d", $2}'; }
wait_for() { # wait_for SECONDS CMD WANT: polls CMD every 0.2 s until it prints WANT
    for _ in $(seq 1 $(($1 * 5))); do
        [ "$($2)" = "$3" ] && return 0
        sleep 0.2
    done
}

# C1 takes one start in M - 1 and then nothing: it ships M - 1 as partial rows only. C0 takes
# a start in M - 1, three in M, and heartbeats 14 and 18 minutes later: it closes M - 1, M and
# M + 14 (two minutes of lateness allowed).
t_check "C1: one start in M - 1" 200 "$(post 1 "$(start $((T0 - 58)) s1a)")"
t_check "C0: M - 1, M and later" 200 "$(post 0 "$(start $((T0 - 59)) s0a; start $((T0 + 1)) s0b
start $((T0 + 2)) s0c; start $((T0 + 3)) s0d; hb $((T0 + 840)) s0b; hb $((T0 + 1080)) s0b)")"
# the node starts once ClickHouse holds C1's partial M - 1 and C0's closed M + 14
shipped() {
    ch_sql "SELECT count() FROM (SELECT t, batch, max(ver) AS v FROM it_pull GROUP BY t, batch)
        WHERE (t = toDateTime($((T0 - 60))) AND v < 18446744073709551615)
        OR (t = toDateTime($((T0 + 840))) AND v = 18446744073709551615) FORMAT TabSeparated"
}
wait_for 30 shipped 2
t_check "ClickHouse holds C1's partial M - 1 and C0's closed M + 14" 2 "$(shipped)"
VIEW=$(new_token "$T_TMP/p" viewer it-view | tail -1)
serve_node P "$T_TMP/p" --modules qoe --clock replay "${CH_ARGS[@]}" --set qoe.clickhouse_pull=true ||
    exit 1
upto() { metric oncue_qoe_clickhouse_pulled_upto_seconds; }
pulled_past() { [ "$(upto)" -ge $((T0 + 900)) ] 2>/dev/null && echo yes; }
wait_for 30 pulled_past yes
t_check "the node pulled past M + 14" yes "$(pulled_past)"
t_check "M - 1 and M taken without C1's closed rows" 2 "$(metric oncue_qoe_clickhouse_pulled_partial_total)"
t_check "plays in M: C0's three" 3 "$(plays "$T0" $((T0 + 60)))"
t_check "plays in M - 1: C0's and C1's partial one" 2 "$(plays $((T0 - 60)) "$T0")"
t_check "nothing revised yet" 0 "$(metric oncue_qoe_clickhouse_pulled_revised_total)"

# C1's rows of M arrive late (it closes M - 1 and M): the node reads both again
t_check "C1: two starts in M, late" 200 "$(post 1 "$(start $((T0 + 10)) s1b; start $((T0 + 11)) s1c; hb $((T0 + 1080)) s1b)")"
revised() { [ "$(metric oncue_qoe_clickhouse_pulled_revised_total)" -ge 2 ] 2>/dev/null && echo yes; }
wait_for 30 revised yes
t_check "M - 1 and M read again" 2 "$(metric oncue_qoe_clickhouse_pulled_revised_total)"
t_check "plays in M: both collectors' five" 5 "$(plays "$T0" $((T0 + 60)))"
t_check "plays in M - 1: still two (nothing counted twice)" 2 "$(plays $((T0 - 60)) "$T0")"
t_check "plays over both: seven" 7 "$(plays $((T0 - 60)) $((T0 + 60)))"
sleep 2 # two more passes: nothing grew, nothing is read again
t_check "... and no minute is read again while nothing grows" 2 "$(metric oncue_qoe_clickhouse_pulled_revised_total)"
t_contains "the revision is logged" "read again from ClickHouse" "$(cat "$T_TMP/P.log")"
t_done
