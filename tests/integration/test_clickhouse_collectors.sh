#!/usr/bin/env bash
# Collectors into ClickHouse, and GET /v1/qoe answered from it (docs/internals/scale.md).
#
# Two real clickhouse-servers (started here, 127.0.0.1, HTTP / native ports CH_PORT_BASE + 0
# to 3, default 18640 to 18643) are the two shards of a cluster; the table is a Distributed
# table over them, sharded by batch id. Two collectors (`oncue serve --modules ingest`), each
# talking to its own shard, take the beacons and CDN log lines; they share the sessions as a
# load balancer hashing on the session would. The same events also go to one embedded
# server (the SQLite default). Midway one collector is killed with SIGKILL between two
# acknowledged bodies and restarted (its ingest log is replayed). Then:
#   - before any minute closes, a query node (`--modules qoe`, qoe.clickhouse_query) already
#     counts every acknowledged start (open minutes go in as partial rows every
#     qoe.clickhouse_partial_s), and single beacons become queryable within 10 s;
#   - ClickHouse holds exactly the acknowledged starts and edge requests, every minute once;
#   - a collector whose shipping watermark is lost ships nothing twice (batch ids);
#   - the query node answers every metric, over several shapes (steps, group-bys, filters,
#     top-k), as the embedded server does, to 1e-9.
# Skipped (77) without clickhouse-server.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/clickhouse_lib.sh"
ch_need
P=${CH_PORT_BASE:-18640}
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; ch_stop; t_cleanup' EXIT

CH_EXTRA="<remote_servers><oncue_it>
  <shard><replica><host>127.0.0.1</host><port>$((P + 1))</port></replica></shard>
  <shard><replica><host>127.0.0.1</host><port>$((P + 3))</port></replica></shard>
</oncue_it></remote_servers>"
# settings that cannot work stop the start, naming the setting; credentials are not logged
bad() { # bad DATA ARGS...: the server's log of a start that must fail
    "$ONCUE_BIN" serve --data "$T_TMP/bad" --listen 127.0.0.1:0 "$@" 2>&1
    echo "rc=$?"
}
t_contains "shipping without a URL" \
    "qoe.clickhouse_ship, qoe.clickhouse_query and qoe.clickhouse_pull need qoe.clickhouse_url" \
    "$(bad --modules ingest --set qoe.clickhouse_ship=true)"
t_contains "a table name that is not a name" "qoe.clickhouse_table: letters, digits" \
    "$(bad --modules qoe --set qoe.clickhouse_query=true --set qoe.clickhouse_url=http://h \
        --set 'qoe.clickhouse_table=t; DROP TABLE x')"
t_contains "not an HTTP URL" "qoe.clickhouse_url: an http:// or https:// URL" \
    "$(bad --modules qoe --set qoe.clickhouse_query=true --set qoe.clickhouse_url=tcp://h:9000)"
t_contains "... and the start fails" "rc=1" \
    "$(bad --modules qoe --set qoe.clickhouse_query=true --set qoe.clickhouse_url=tcp://h:9000)"

t0=$(date +%s.%N)
ch_start "$((P + 2))" "$((P + 3))" || exit 1
SHARD1=$CH_URL
ch_start "$P" "$((P + 1))" || exit 1
SHARD0=$CH_URL # ch_sql asks this one (CH_URL stays this)
echo "two clickhouse-servers $(ch_sql 'SELECT version()') ready in $(echo "$(date +%s.%N) - $t0" | bc) s"

CH_ARGS=(--set qoe.clickhouse_table=it_minutes --set qoe.clickhouse_cluster=oncue_it)
COLLECT=(--modules ingest --clock replay "${CH_ARGS[@]}" --set qoe.clickhouse_ship=true)
COLLECT0=("${COLLECT[@]}" --set "qoe.clickhouse_url=$SHARD0")
COLLECT1=("${COLLECT[@]}" --set "qoe.clickhouse_url=$SHARD1")
for n in 0 1; do
    eval "ING$n=\$(new_token \"\$T_TMP/c$n\" ingest it-ingest | tail -1)"
    eval "serve_node C$n \"\$T_TMP/c$n\" \"\${COLLECT$n[@]}\"" || exit 1
done
INGE=$(new_token "$T_TMP/e" ingest it-ingest | tail -1)
VIEWE=$(new_token "$T_TMP/e" viewer it-view | tail -1)
serve_node E "$T_TMP/e" --modules ingest --clock replay || exit 1

# a collector whose URL carries credentials logs it without them (shipping fails: no such user)
serve_node S "$T_TMP/s" --modules ingest --set qoe.clickhouse_ship=true \
    --set "qoe.clickhouse_url=http://oncue:s3cret-pw@127.0.0.1:$P" || exit 1
t_contains "the URL is logged without its password" "http://***@127.0.0.1:$P" "$(cat "$T_TMP/S.log")"
t_check "... nowhere" 0 "$(grep -c s3cret-pw "$T_TMP/S.log")"
kill "$S_PID"

# the query node, up before the beacons: it sees open minutes as partial rows
VIEWQ=$(new_token "$T_TMP/q" viewer it-view | tail -1)
serve_node Q "$T_TMP/q" --modules qoe --clock replay "${CH_ARGS[@]}" --set "qoe.clickhouse_url=$SHARD0" \
    --set qoe.clickhouse_query=true ||
    exit 1
# plays URL TOKEN FROM TO: the plays counted over [FROM, TO) in one point (0 when none)
plays() {
    curl -s -m 20 -H "Authorization: Bearer $2" \
        "$1/v1/qoe?metric=plays&from=$3&to=$4&step=$(($4 - $3))" |
        jq '[.series[]?.points[][1] // 0] | add // 0'
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# The beacons: 90 sessions over 6 minutes from T0, dimensions fixed per session, a start
# (success, failure or exit) and a heartbeat every 10 s, one in ten sessions crashing (an
# error event, then nothing) two minutes in; batch B holds event times
# [T0 + 10 B s, T0 + 10 (B + 1) s). Session J goes to collector J % 2.
T0=1772479800000 # 2026-03-02 19:30 UTC
NB=36
gen() { # gen B PART: batch B, PART 0 or 1 (that collector's sessions) or all
    awk -v t0="$T0" -v b="$1" -v part="$2" 'BEGIN {
        split("EMEA NA APAC", reg, " "); split("akamai fastly", cdn, " ");
        split("tv web mobile console", dev, " ");
        lo = t0 + b * 10000; hi = lo + 10000;
        for (j = 0; j < 90; j++) {
            if (part != "all" && j % 2 != part) continue;
            dims = sprintf("\"region\":\"%s\",\"cdn\":\"%s\",\"device\":\"%s\"",
                           reg[j % 3 + 1], cdn[int(j / 3) % 2 + 1], dev[j % 4 + 1]);
            st = t0 + (j % 6) * 10000 + j;
            if (st >= lo && st < hi) {
                if (j % 10 == 0) out = "\"outcome\":\"failure\",\"error_code\":\"E1\"";
                else if (j % 10 == 1) out = "\"outcome\":\"exit\"";
                else out = sprintf("\"outcome\":\"success\",\"startup_ms\":%d", 300 + (j * 37) % 4000);
                printf "{\"ts\":%.0f,\"type\":\"start\",\"session\":\"s%d\",%s,%s}\n", st, j, out, dims;
            }
            if (j % 10 < 2) continue;
            for (k = 1; st + k * 10000 < t0 + 360000; k++) {
                ts = st + k * 10000;
                crash = j % 10 == 9 && k == 12 + j % 3;
                if (crash && ts >= lo && ts < hi)
                    printf "{\"ts\":%.0f,\"type\":\"error\",\"session\":\"s%d\"," \
                           "\"error_code\":\"PLAYER_CRASH\",%s}\n", ts, j, dims;
                if (crash) break;
                if (ts < lo || ts >= hi) continue;
                rb = (j % 7 == 0 && k % 3 == 0) ? 1500 : 0;
                printf "{\"ts\":%.0f,\"type\":\"heartbeat\",\"session\":\"s%d\",\"playing_ms\":%d," \
                       "\"rebuffer_ms\":%d,\"bitrate_kbps\":%d,%s}\n",
                       ts, j, 10000 - rb, rb, 1000 + (j % 5) * 750, dims;
            }
        }
    }'
}

# CDN log lines (edge requests, no player) for minutes 1 to 4 only, so that some minutes
# have edge columns and others not: genedge B PART, line I going to collector I % 2.
genedge() {
    awk -v t0="$T0" -v b="$1" -v part="$2" 'BEGIN {
        if (b < 6 || b >= 30) exit;
        for (i = 0; i < 4 + b % 3; i++) {
            if (part != "all" && i % 2 != part) continue;
            printf "{\"timestamp\":\"%.0f.%d00\",\"pop\":\"%s\",\"status\":%d,", \
                   t0 / 1000 + b * 10 + i * 2, i, (i % 2 ? "AMS" : "FRA"), (i == 3 ? 503 : 200);
            printf "\"cache_status\":\"%s\",\"ttfb_ms\":%d}\n", (i % 3 ? "HIT" : "MISS"), 10 + i * 7 + b;
        }
    }'
}

# post URL TOKEN FILE: prints the accepted count (empty when the post failed).
post() {
    curl -s -m 20 -X POST "$1/v1/events" -H "Authorization: Bearer $2" --data-binary @"$3" |
        jq -r '.accepted // empty'
}

acked_starts=0
acked_edge=0
killed=0
for b in $(seq 0 $((NB - 1))); do
    gen "$b" all > "$T_TMP/all"
    [ -s "$T_TMP/all" ] && post "$E_URL" "$INGE" "$T_TMP/all" > /dev/null
    for n in 0 1; do
        gen "$b" "$n" > "$T_TMP/part"
        [ -s "$T_TMP/part" ] || continue
        url_var="C${n}_URL" tok_var="ING$n"
        a=$(post "${!url_var}" "${!tok_var}" "$T_TMP/part")
        t_check "batch $b collector $n acknowledged" "$(wc -l < "$T_TMP/part")" "$a"
        acked_starts=$((acked_starts + $(grep -c '"type":"start"' "$T_TMP/part")))
        genedge "$b" "$n" > "$T_TMP/edge"
        [ -s "$T_TMP/edge" ] || continue
        a=$(curl -s -m 20 -X POST "${!url_var}/v1/cdn-logs?format=fastly&region=EMEA" \
            -H "Authorization: Bearer ${!tok_var}" --data-binary @"$T_TMP/edge" | jq -r .accepted)
        t_check "batch $b collector $n: CDN log lines acknowledged" "$(wc -l < "$T_TMP/edge")" "$a"
        acked_edge=$((acked_edge + a))
    done
    genedge "$b" all > "$T_TMP/edge"
    [ -s "$T_TMP/edge" ] && curl -s -m 20 -X POST "$E_URL/v1/cdn-logs?format=fastly&region=EMEA" \
        -H "Authorization: Bearer $INGE" --data-binary @"$T_TMP/edge" > /dev/null
    if [ "$b" -eq 20 ]; then # mid-stream: minutes closed, shipped, open and logged
        kill -9 "$C0_PID"
        wait "$C0_PID" 2>/dev/null
        serve_node C0 "$T_TMP/c0" "${COLLECT0[@]}" || exit 1
        t_contains "the killed collector replayed its log" "ingest: replayed" "$(cat "$T_TMP/C0.log")"
        killed=1
    fi
done
t_check "one collector was killed mid-stream" 1 "$killed"
acked_at=$(now_ms)

# Before the late heartbeat the last minutes are still open on the collectors (event time
# has not passed them by ingest.allowed_lateness_s): the query node counts every
# acknowledged start anyway, from the closed minutes and the open minutes' partial rows.
from=$((T0 / 1000))
want=$((T0 / 1000 + 360))
seen=""
for _ in $(seq 1 300); do
    seen=$(plays "$Q_URL" "$VIEWQ" "$from" "$want")
    [ "$seen" = "$acked_starts" ] && break
    sleep 0.1
done
fresh_ms=$(($(now_ms) - acked_at))
echo "every acknowledged start queryable $fresh_ms ms after the last acknowledgement"
t_check "open minutes: the query node counts every acknowledged start" "$acked_starts" "$seen"
t_check "... within 10 s of the last acknowledgement" 1 "$((fresh_ms < 10000))"
partials=$(curl -s "$C1_URL/metrics" | awk '/^oncue_qoe_clickhouse_partials_total /{printf "%d", $2}')
t_check "collector 1 inserted partial rows" 1 "$((partials > 0))"

# one heartbeat ten minutes later closes every minute of the data (not in the queried range)
late=$((T0 + 960000))
for pair in "$E_URL $INGE" "$C0_URL $ING0" "$C1_URL $ING1"; do
    set -- $pair
    echo "{\"ts\":$late,\"type\":\"heartbeat\",\"session\":\"late\",\"playing_ms\":1000}" > "$T_TMP/late"
    post "$1" "$2" "$T_TMP/late" > /dev/null
done

# shipped_upto URL: the collector's oncue_qoe_clickhouse_shipped_upto_seconds.
shipped_upto() {
    curl -s "$1/metrics" | awk '/^oncue_qoe_clickhouse_shipped_upto_seconds /{printf "%d", $2}'
}
for n in 0 1; do
    url_var="C${n}_URL"
    for _ in $(seq 1 300); do
        [ "$(shipped_upto "${!url_var}")" -ge "$want" ] 2>/dev/null && break
        sleep 0.1
    done
    t_check "collector $n shipped every minute of the data" 1 \
        "$(($(shipped_upto "${!url_var}") >= want))"
done

range="t >= toDateTime($((T0 / 1000))) AND t < toDateTime($want)"
# every read keeps the newest version of each batch (the closed minute's, once shipped)
newest="(batch, ver) GLOBAL IN (SELECT batch, max(ver) FROM it_minutes WHERE $range GROUP BY batch)"
final=18446744073709551615
echo "starts acknowledged by the collectors: $acked_starts"
t_check "ClickHouse holds exactly the acknowledged starts" "$acked_starts" \
    "$(ch_sql "SELECT sum(starts) FROM it_minutes FINAL WHERE $range AND $newest")"
t_check "... every minute's newest version is its closed one" 12 \
    "$(ch_sql "SELECT uniqExact(batch) FROM it_minutes WHERE $range AND ver = $final")"
t_check "... also without FINAL: no closed minute was inserted twice" "$acked_starts" \
    "$(ch_sql "SELECT sum(starts) FROM it_minutes WHERE $range AND ver = $final")"
t_check "ClickHouse holds exactly the acknowledged edge requests" "$acked_edge" \
    "$(ch_sql "SELECT sum(edge_req) FROM it_minutes FINAL WHERE $range AND $newest")"
t_check "one batch per collector and minute" 12 \
    "$(ch_sql "SELECT uniqExact(batch) FROM it_minutes WHERE $range")"
s0=$(ch_sql "SELECT count() FROM it_minutes_local")
s1=$(curl -s --data-binary "SELECT count() FROM it_minutes_local" "$SHARD1/")
echo "rows on the shards: $s0 and $s1"
t_check "both shards hold rows" 1 "$((s0 > 0 && s1 > 0))"

# a lost watermark: collector 1 ships its minutes again, finds them there, inserts none
kill "$C1_PID"
wait "$C1_PID" 2>/dev/null
rows_before=$(ch_sql "SELECT count() FROM it_minutes WHERE ver = $final")
sqlite3 "$T_TMP/c1/oncue.db" "UPDATE store_meta SET value = 0 WHERE key = 'qoe.clickhouse_shipped_upto'"
serve_node C1 "$T_TMP/c1" "${COLLECT1[@]}" || exit 1
for _ in $(seq 1 300); do
    [ "$(shipped_upto "$C1_URL")" -ge "$want" ] 2>/dev/null && break
    sleep 0.1
done
skipped=$(curl -s "$C1_URL/metrics" | awk '/^oncue_qoe_clickhouse_skipped_total /{printf "%d", $2}')
t_check "the re-shipped minutes were found and skipped" 1 "$((skipped >= 6))"
t_check "no row was inserted again" "$rows_before" \
    "$(ch_sql "SELECT count() FROM it_minutes WHERE ver = $final")"

# The query node answers from ClickHouse as the embedded server does from its cube.
metrics="vsf_rate ebvs_rate rebuffer_ratio rebuffering_share avg_bitrate_kbps startup_p50_ms
startup_p95_ms plays concurrent_viewers concurrent_rebuffering_share edge_requests edge_5xx_rate
edge_cache_miss_rate edge_origin_pulls edge_ttfb_ms vpf_rate"
shapes=("step=60" "step=120&group_by=region,cdn" "step=360&group_by=device"
    "step=60&filter=region:EMEA,region:NA,cdn:fastly&group_by=device"
    "step=180&group_by=region,device&top=3" "step=60&filter=device:nosuch"
    "step=120&from_shift=60" "step=60&group_by=pop,region")
compared=0
for m in $metrics; do
    for s in "${shapes[@]}"; do
        f=$from
        case "$s" in *from_shift=60*) f=$((from + 60)); s=${s%&from_shift=60} ;; esac
        qs="metric=$m&from=$f&to=$want&$s"
        curl -s -H "Authorization: Bearer $VIEWE" "$E_URL/v1/qoe?$qs" > "$T_TMP/e.json"
        curl -s -H "Authorization: Bearer $VIEWQ" "$Q_URL/v1/qoe?$qs" > "$T_TMP/q.json"
        # same groups in the same order, same points, values within 1e-9 (relative past 1)
        d=$(jq -n --slurpfile a "$T_TMP/e.json" --slurpfile b "$T_TMP/q.json" '
            def close(x; y): if x == null or y == null then x == y
                else ((x - y) | fabs) <= 1e-9 * ([1, (x | fabs)] | max) end;
            ($a[0].series | length) as $n
            | if $n != ($b[0].series | length) then "series: \($n) vs \($b[0].series | length)"
              else [range($n) as $i | $a[0].series[$i] as $x | $b[0].series[$i] as $y
                    | if $x.group != $y.group then "group \($x.group) vs \($y.group)"
                      elif ($x.points | length) != ($y.points | length) then "points"
                      else (range($x.points | length) as $k
                            | select(($x.points[$k][0] != $y.points[$k][0])
                                     or (close($x.points[$k][1]; $y.points[$k][1]) | not))
                            | "point \($k): \($x.points[$k]) vs \($y.points[$k])")
                      end] | first // "same" end')
        [ "$d" = '"same"' ] || echo "  $qs: $d"
        [ "$d" = '"same"' ] && compared=$((compared + 1))
    done
done
n=$(($(echo $metrics | wc -w) * ${#shapes[@]}))
t_check "every metric and shape: ClickHouse answers as the embedded store ($n queries)" "$n" \
    "$compared"
nonnull=$(curl -s -H "Authorization: Bearer $VIEWQ" \
    "$Q_URL/v1/qoe?metric=plays&from=$from&to=$want&step=360" | jq '.series[0].points[0][1]')
t_check "the query node counts every acknowledged start" "$acked_starts" "$nonnull"
t_check "... and every acknowledged edge request" "$acked_edge" \
    "$(curl -s -H "Authorization: Bearer $VIEWQ" \
        "$Q_URL/v1/qoe?metric=edge_requests&from=$from&to=$want&step=360" |
        jq '.series[0].points[0][1]')"
t_check "a bad metric is still 422 on the query node" 422 \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $VIEWQ" \
        "$Q_URL/v1/qoe?metric=nope&from=$from&to=$want")"

# Freshness: single starts posted to collector 0 in a minute twenty minutes on (open there),
# each timed from its post until the query node counts it.
fmin=$((T0 / 1000 + 1200))
lat=()
for i in $(seq 1 10); do
    echo "{\"ts\":$(((fmin + i) * 1000)),\"type\":\"start\",\"session\":\"f$i\",\"outcome\":\"success\",\"startup_ms\":900,\"region\":\"EMEA\"}" > "$T_TMP/f"
    sleep "0.$((RANDOM % 10))" # not in step with the shipper's passes
    s=$(now_ms)
    post "$C0_URL" "$ING0" "$T_TMP/f" > /dev/null
    for _ in $(seq 1 400); do
        [ "$(plays "$Q_URL" "$VIEWQ" "$fmin" "$((fmin + 60))")" = "$i" ] && break
        sleep 0.05
    done
    lat+=($(($(now_ms) - s)))
done
sorted=$(printf '%s\n' "${lat[@]}" | sort -n | tr '\n' ' ')
echo "beacon-to-queryable (ms, sorted): $sorted"
t_check "every single beacon queryable on the query node within 10 s" 1 \
    "$(($(printf '%s\n' "${lat[@]}" | sort -n | tail -1) < 10000))"
t_check "... and counted once" 10 "$(plays "$Q_URL" "$VIEWQ" "$fmin" "$((fmin + 60))")"

ch_stop
[ "$T_FAIL" -eq 0 ] || tail -n 5 "$T_TMP"/*.log
t_check "ClickHouse down: the query node answers 500, not a crash" 500 \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $VIEWQ" \
        "$Q_URL/v1/qoe?metric=plays&from=$from&to=$want")"
t_done
