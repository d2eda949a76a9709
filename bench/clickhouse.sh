#!/usr/bin/env bash
# clickhouse.sh - a collector shipping wide minutes to ClickHouse, and GET /v1/qoe from
# ClickHouse against the embedded store on the same events (docs/internals/scale.md).
#
#   bench/clickhouse.sh [ONCUE_BIN]     (LEAVES=50000 MINUTES=3 PORT=18680 by default)
#
# Starts one clickhouse-server (HTTP PORT, native PORT+1), one collector (`--modules ingest`,
# replay clock, shipping) and one embedded server, posts MINUTES minutes of one heartbeat per
# session a minute with LEAVES distinct dimension combinations (one session each) to both,
# closes the minutes with a later event, and prints: the events/s the collector acknowledged
# and the CPU seconds it spent on them, each shipped minute (rows, bytes, insert time, from the
# collector's log) and the CPU seconds ClickHouse spent taking them, and the latency of a few
# /v1/qoe queries on both servers (best of 5). This collector ships closed minutes only
# (qoe.clickhouse_partial_s=0).
#
# Then freshness, on the wall clock (bench/clickhouse_fresh.py): a second clickhouse-server
# (HTTP PORT+2, native PORT+3) joins as the second shard of a Distributed table; three
# collectors (shipping open minutes every qoe.clickhouse_partial_s: the default unless
# PARTIAL_S is set) take LOAD_EPS heartbeats a second over LEAVES sessions (split by session, as
# a load balancer would) for FRESH_S seconds, while SAMPLES single starts, each posted at a
# random moment, are timed until the query node (GET /v1/qoe from ClickHouse) counts them:
# beacon-to-queryable p50, p95 and max; events/s acknowledged, rows/s inserted, CPU seconds;
# first QUIET_S seconds of load alone give the CPU per event (collectors) and per row
# (ClickHouse) without queries.
set -u
BIN=${1:-build/rel/oncue}
LEAVES=${LEAVES:-50000}
MINUTES=${MINUTES:-3}
PORT=${PORT:-18680}
LOAD_EPS=${LOAD_EPS:-10000}
FRESH_S=${FRESH_S:-120}
SAMPLES=${SAMPLES:-40}
QUIET_S=${QUIET_S:-30}
PARTIAL_S=${PARTIAL_S:-}
T_TMP=$(mktemp -d /tmp/oncue-bench-ch.XXXXXX)
. "$(dirname "$0")/../tests/integration/clickhouse_lib.sh"
ch_need
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; ch_stop; rm -rf "$T_TMP"' EXIT

CH_EXTRA="<remote_servers><bench>
  <shard><replica><host>127.0.0.1</host><port>$((PORT + 1))</port></replica></shard>
  <shard><replica><host>127.0.0.1</host><port>$((PORT + 3))</port></replica></shard>
</bench></remote_servers>"
ch_start "$((PORT + 2))" "$((PORT + 3))" || exit 1
SHARD1=$CH_URL
CH1_PID=$CH_PID
ch_start "$PORT" "$((PORT + 1))" || exit 1
CH0_PID=$CH_PID
# cpu PID...: the user + system CPU seconds the processes have used so far
cpu() {
    local p t=0
    for p in "$@"; do
        t=$(awk -v hz="$(getconf CLK_TCK)" -v t="$t" '{printf "%.2f", t + ($14 + $15) / hz}' "/proc/$p/stat")
    done
    echo "$t"
}
start() { # start NAME DATA ARGS...: sets NAME (its URL)
    local name=$1 data=$2 port="" i
    shift 2
    : > "$T_TMP/$name.log"
    "$BIN" serve --data "$data" --listen 127.0.0.1:0 "$@" 2> "$T_TMP/$name.log" &
    PIDS+=($!)
    printf -v "${name}_PID" '%s' "$!"
    for i in $(seq 1 200); do
        port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$T_TMP/$name.log" | cut -d: -f2)
        [ -n "$port" ] && break
        sleep 0.05
    done
    printf -v "$name" 'http://127.0.0.1:%s' "$port"
}
TC=$("$BIN" token create --data "$T_TMP/c" --role ingest --name b 2>/dev/null | tail -1)
TE=$("$BIN" token create --data "$T_TMP/e" --role ingest --name b 2>/dev/null | tail -1)
VE=$("$BIN" token create --data "$T_TMP/e" --role viewer --name v 2>/dev/null | tail -1)
VQ=$("$BIN" token create --data "$T_TMP/q" --role viewer --name v 2>/dev/null | tail -1)
start C "$T_TMP/c" --modules ingest --clock replay --set "qoe.clickhouse_url=$CH_URL" \
    --set qoe.clickhouse_ship=true --set qoe.clickhouse_partial_s=0 --set store.synchronous=normal
start E "$T_TMP/e" --modules ingest --clock replay --set store.synchronous=normal

T0=1772479800
python3 - "$T_TMP" "$LEAVES" "$MINUTES" "$T0" <<'EOF'
import sys
d, leaves, minutes, t0 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
per = 10000
for m in range(minutes):
    for f in range(0, leaves, per):
        with open(f"{d}/b-{m}-{f // per:04d}.ndjson", "w") as out:
            for j in range(f, min(f + per, leaves)):
                out.write('{"ts":%d,"type":"heartbeat","session":"s%d","playing_ms":%d,'
                          '"rebuffer_ms":%d,"bitrate_kbps":%d,"region":"r%d","country":"c%d",'
                          '"cdn":"cdn%d","pop":"p%d","device":"d%d","title":"t%d"}\n'
                          % ((t0 + m * 60 + 5) * 1000 + j % 50000, j, 10000 - j % 7 * 100,
                             j % 7 * 100, 1000 + j % 11 * 300, j % 5, j % 40, j % 3, j % 97,
                             j % 6, j // 6))
EOF
n=$(cat "$T_TMP"/b-*.ndjson | wc -l)
c0=$(cpu "$C_PID")
s=$(date +%s.%N)
for f in "$T_TMP"/b-*.ndjson; do
    curl -s -o /dev/null -X POST "$C/v1/events" -H "Authorization: Bearer $TC" --data-binary @"$f"
done
e=$(date +%s.%N)
c1=$(cpu "$C_PID")
echo "collector: $n events acknowledged in $(echo "$e - $s" | bc) s ($(echo "$n / ($e - $s)" | bc) events/s, one connection, bodies of 10,000)"
echo "collector CPU: $(echo "$c1 - $c0" | bc) s for $n events ($(echo "$n / ($c1 - $c0)" | bc) events per CPU second)"
for f in "$T_TMP"/b-*.ndjson; do
    curl -s -o /dev/null -X POST "$E/v1/events" -H "Authorization: Bearer $TE" --data-binary @"$f"
done
h0=$(cpu "$CH0_PID")
late="{\"ts\":$(((T0 + 3600) * 1000)),\"type\":\"heartbeat\",\"session\":\"late\",\"playing_ms\":1}"
curl -s -o /dev/null -X POST "$C/v1/events" -H "Authorization: Bearer $TC" --data-binary "$late"
curl -s -o /dev/null -X POST "$E/v1/events" -H "Authorization: Bearer $TE" --data-binary "$late"
for i in $(seq 1 600); do
    [ "$(grep -c 'shipped:' "$T_TMP/C.log")" -ge "$MINUTES" ] && break
    sleep 0.1
done
grep -o 'minute [0-9]* shipped: [^"]*' "$T_TMP/C.log"
sleep 1
h1=$(cpu "$CH0_PID")
rows=$(ch_sql 'SELECT count() FROM oncue_minutes')
echo "rows in ClickHouse: $rows; clickhouse-server CPU meanwhile: $(echo "$h1 - $h0" | bc) s ($(echo "$rows / ($h1 - $h0 + 0.01)" | bc) rows per CPU second, its merges included)"
start Q "$T_TMP/q" --modules qoe --set "qoe.clickhouse_url=$CH_URL" --set qoe.clickhouse_query=true
best() { # best URL TOKEN QUERY: the fastest of 5, in ms
    local i t b=999999
    for i in 1 2 3 4 5; do
        t=$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $2" "$1/v1/qoe?$3")
        t=$(echo "$t * 1000 / 1" | bc)
        [ "$t" -lt "$b" ] && b=$t
    done
    echo "$b"
}
R="from=$T0&to=$((T0 + MINUTES * 60))"
for qs in "metric=concurrent_viewers&$R&step=60" "metric=rebuffer_ratio&$R&group_by=region,cdn" \
    "metric=avg_bitrate_kbps&$R&group_by=title&top=10" "metric=rebuffering_share&$R&group_by=pop&step=60"; do
    echo "GET /v1/qoe?$qs: embedded $(best "$E" "$VE" "$qs") ms, ClickHouse $(best "$Q" "$VQ" "$qs") ms"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- freshness: three collectors, two shards, the wall clock ----
FRESH=(--set qoe.clickhouse_table=fresh_minutes --set qoe.clickhouse_cluster=bench)
[ -n "$PARTIAL_S" ] && FRESH+=(--set "qoe.clickhouse_partial_s=$PARTIAL_S")
FURLS=()
FTOKS=()
FPIDS=()
for i in 1 2 3; do
    shard=$CH_URL
    [ "$i" -eq 2 ] && shard=$SHARD1 # every shard needs the tables: one collector creates them
    FTOKS+=("$("$BIN" token create --data "$T_TMP/f$i" --role ingest --name b 2>/dev/null | tail -1)")
    start "F$i" "$T_TMP/f$i" --modules ingest "${FRESH[@]}" --set "qoe.clickhouse_url=$shard" \
        --set qoe.clickhouse_ship=true --set store.synchronous=normal
    u="F$i" p="F${i}_PID"
    FURLS+=("${!u}")
    FPIDS+=("${!p}")
done
VQ2=$("$BIN" token create --data "$T_TMP/q2" --role viewer --name v 2>/dev/null | tail -1)
start Q2 "$T_TMP/q2" --modules qoe "${FRESH[@]}" --set "qoe.clickhouse_url=$CH_URL" \
    --set qoe.clickhouse_query=true
metric() { # metric URL NAME: a counter of a collector's /metrics
    curl -s "$1/metrics" | awk -v n="$2" '$1 == n {printf "%d", $2}'
}
rows_now() {
    local u t=0
    for u in "${FURLS[@]}"; do
        t=$((t + $(metric "$u" oncue_qoe_clickhouse_rows_total) + \
            $(metric "$u" oncue_qoe_clickhouse_partial_rows_total)))
    done
    echo "$t"
}
r0=$(rows_now)
fc0=$(cpu "${FPIDS[@]}")
hc0=$(cpu "$CH0_PID" "$CH1_PID")
s=$(date +%s.%N)
python3 "$(dirname "$0")/clickhouse_fresh.py" "${FURLS[*]}" "${FTOKS[*]}" "$Q2" "$VQ2" \
    "$LEAVES" "$LOAD_EPS" "$FRESH_S" "$SAMPLES" "${FPIDS[*]}" "$CH0_PID $CH1_PID" "${QUIET_S:-30}"
e=$(date +%s.%N)
fc1=$(cpu "${FPIDS[@]}")
hc1=$(cpu "$CH0_PID" "$CH1_PID")
r1=$(rows_now)
for u in "${FURLS[@]}"; do
    echo "collector $u: $(metric "$u" oncue_qoe_clickhouse_partials_total) partial inserts ($(metric "$u" oncue_qoe_clickhouse_partial_rows_total) rows), $(metric "$u" oncue_qoe_clickhouse_inserts_total) closed minutes"
done
echo "rows inserted by the three collectors: $((r1 - r0)) in $(echo "$e - $s" | bc) s ($(echo "($r1 - $r0) / ($e - $s)" | bc) rows/s)"
echo "CPU: collectors $(echo "$fc1 - $fc0" | bc) s, clickhouse-servers $(echo "$hc1 - $hc0" | bc) s over $(echo "$e - $s" | bc) s"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
