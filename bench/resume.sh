#!/usr/bin/env bash
# resume.sh - cross-device resume writes and reads against Redis, side by side in one run, on
# loopback with the same client count: single unpipelined writes (oncue PUT vs Redis SET),
# batched writes (oncue POST /v1/resume), reads (oncue GET vs Redis GET) with p99. Single
# writes run in ROUNDS alternated rounds (a Redis SET run, then each oncue server's PUT run),
# since this kind of machine's disk changes speed within minutes: each round's ratio is
# printed, and the table holds the medians. Redis runs
# with appendonly yes, appendfsync everysec. Prints both and the ratio (a figure, never
# pass/fail), and the CPU of the server and of the client per operation (steadier than
# throughput on a shared machine). PUTs and GETs are sent by `oncue bench resume` with
# THREADS event-loop threads over the CONNS connections (default 1, as redis-benchmark), or
# with CLIENT=wrk by wrk -t1 (Lua formats each request: dearer for the client). Batches: oncue
# bench, BATCH_CONNS connections of a thread each. With OLD=BIN a second server binary runs
# the same phases right after, driven by the same client (ONCUE_BIN's `oncue bench`), and is
# printed side by side.
#
#   bench/resume.sh [ONCUE_BIN]   (default build/rel/oncue; needs Debian redis-server, and
#                                  wrk with CLIENT=wrk: scripts/deps.sh bench)
#   env: DURATION (s per oncue run, default 10), CONNS (clients, default 50),
#        CLIENT (oncue or wrk, default oncue), THREADS (oncue bench threads, default 1),
#        WORKERS (oncue http.workers; default the cores the client leaves, nproc - THREADS,
#        at least 1: the server's threads and the client's share the machine, and a worker that
#        waits for a core holds its connections' answers), SYNC (store.synchronous: full or normal,
#        default full), BATCH (reports per POST, default 1000), BATCH_CONNS (default 4),
#        N (Redis requests per test, default 300000), ROUNDS (single-write rounds, default 3),
#        OLD (a second oncue binary),
#        PG (a libpq conninfo: the store on that PostgreSQL, resume.shared on: each commit is
#        inserted there too; default empty: SQLite, the single-node path), PG_PID (its
#        postmaster's PID: the CPU of its backends is printed per operation as well)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BIN=${1:-${ONCUE_BIN:-build/rel/oncue}}
DURATION=${DURATION:-10}
CONNS=${CONNS:-50}
SYNC=${SYNC:-full}
BATCH=${BATCH:-1000}
BATCH_CONNS=${BATCH_CONNS:-4}
N=${N:-300000}
ROUNDS=${ROUNDS:-3}
CLIENT=${CLIENT:-oncue}
THREADS=${THREADS:-1}
WORKERS=${WORKERS:-$(($(nproc) > THREADS + 1 ? $(nproc) - THREADS : 1))}
OLD=${OLD:-}
TOOLS="redis-server redis-benchmark"
[ "$CLIENT" = wrk ] && TOOLS="$TOOLS wrk"
for t in $TOOLS; do
    command -v $t >/dev/null ||
        { echo "bench/resume.sh: needs $t (scripts/deps.sh bench)" >&2; exit 1; }
done
for b in "$BIN" $OLD; do
    [ -x "$b" ] || { echo "bench/resume.sh: no oncue binary at $b (make build)" >&2; exit 1; }
done
W=$(mktemp -d /tmp/oncue-bench-resume.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$W"' EXIT
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- Redis: SET and GET, 160-byte values (an oncue report is about as long), 50 clients ---
RPORT=$(free_port)
mkdir -p "$W/redis"
redis-server --port "$RPORT" --bind 127.0.0.1 --appendonly yes --appendfsync everysec \
    --save "" --dir "$W/redis" >"$W/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
# redis_run TESTS OUT: one redis-benchmark run as CSV
redis_run() {
    redis-benchmark -p "$RPORT" -c "$CONNS" -n "$N" -r 100000 -d 160 -t "$1" --csv >"$2" 2>/dev/null
}
# "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms",...
redis_field() { grep "^\"$1\"" "$2" | tr -d '"' | cut -d, -f"$3"; }
redis_run get "$W/redis.get.csv"
r_get=$(redis_field GET "$W/redis.get.csv" 2); r_get_p99=$(redis_field GET "$W/redis.get.csv" 7)

# --- oncue: the resume module alone ---
fig() { grep "^$2 " "$1" | cut -d' ' -f2; }
PG=${PG:-}
STORE=()
TOKPG=()
if [ -n "$PG" ]; then
    STORE=(--set store.backend=postgres --set "store.postgres=$PG")
    TOKPG=(--postgres "$PG")
fi
# PostgreSQL's CPU: the postmaster's children (its backends, the WAL writer), with PG_PID
pg_ticks() {
    [ -n "${PG_PID:-}" ] || { echo 0; return; }
    local p t=0
    for p in $(pgrep -P "$PG_PID"); do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}
HZ=$(getconf CLK_TCK)
TIMEFORMAT='%U %S' # bash's time: the client's user and system seconds
# wrk: request(), one thread; 100 points per client as oncue bench's --points 100, one device,
# seq rising from the start time in us (a rerun supersedes): a point's writes are 100 x
# CONNS requests apart, so none is stale or coalesced
cat >"$W/put.lua" <<'LUA'
local i, n, seq0 = 0, tonumber(os.getenv("POINTS")), tonumber(os.getenv("SEQ0"))
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["Content-Type"] = "application/json"
request = function()
    local k, seq = i % n, seq0 + i
    i = i + 1
    return wrk.format("PUT", "/v1/resume/bp" .. k .. "/t" .. (k % 7), nil, string.format(
        '{"position_ms":%d,"duration_ms":7200000,"device":"bench","session":"s1",' ..
        '"seq":%d,"state":"playing","ts":%d}', seq * 1000 % 7200000, seq, os.time() * 1000))
end
LUA
cat >"$W/get.lua" <<'LUA'
local n = tonumber(os.getenv("POINTS"))
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
request = function()
    local k = math.random(0, n - 1)
    return wrk.format("GET", "/v1/resume/bp" .. k .. "/t" .. (k % 7))
end
LUA
to_ms() { # wrk's "812.00us", "1.23ms" or "1.02s" -> milliseconds
    awk -v v="$1" 'BEGIN { u = v; sub(/[0-9.]+/, "", u); x = v + 0;
        printf "%.3f", u == "us" ? x / 1000 : u == "s" ? x * 1000 : x }'
}
# run_wrk MODE TOKEN OUT: writes OUT in oncue bench's "key value" lines
run_wrk() {
    POINTS=$((CONNS * 100)) SEQ0=$(($(date +%s%N) / 1000)) TOKEN=$2 wrk -t1 -c"$CONNS" \
        -d"${DURATION}s" --latency -s "$W/$1.lua" "$U" >"$3.wrk"
    local n bad
    n=$(awk '/requests in/ {print $1}' "$3.wrk")
    bad=$(awk '/Non-2xx/ {print $NF}' "$3.wrk" | grep . || echo 0)
    bad=$((bad + $(awk '/Socket errors/ {s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) s += $i; print s}' "$3.wrk" | grep . || echo 0)))
    {
        echo "requests $n failed $bad"
        awk '/Requests\/sec/ {printf "requests/s %d\n", $2}' "$3.wrk"
        echo "latency_p99_ms $(to_ms "$(awk '$1 == "99%" {print $2}' "$3.wrk")")"
    } >"$3"
}
# start_oncue SERVER_BIN TAG: starts a server with its data in $W/TAG and writes its PID, port
# and ingest and viewer tokens to $W/TAG.env
start_oncue() {
    local sbin=$1 tag=$2 d=$W/$2 ing view opid port
    ing=$("$sbin" token create --data "$d" "${TOKPG[@]}" --role ingest \
        --name "bench-ingest-$tag-$$" 2>/dev/null | tail -1)
    view=$("$sbin" token create --data "$d" "${TOKPG[@]}" --role viewer \
        --name "bench-viewer-$tag-$$" 2>/dev/null | tail -1)
    "$sbin" serve --data "$d" --listen 127.0.0.1:0 --modules resume "${STORE[@]}" \
        --set http.workers="$WORKERS" --set store.synchronous="$SYNC" 2>"$W/$tag.log" &
    opid=$!
    PIDS+=($opid)
    port=$(listen_port "$W/$tag.log" "$opid")
    [ -n "$port" ] || { echo "oncue did not start:"; cat "$W/$tag.log"; exit 1; }
    echo "$opid $port $ing $view" >"$W/$tag.env"
}
# phase TAG NAME MODE [ARGS]: one run of the client against TAG's server, timed; writes
# $W/TAG.NAME.txt (the client's figures, then "cpu_s", "client_cpu_s" and "pg_cpu_s" lines)
phase() {
    local tag=$1 name=$2 mode=$3 opid port ing view tok c0 c1 g0 g1
    shift 3
    read -r opid port ing view <"$W/$tag.env"
    U=http://127.0.0.1:$port
    tok=$ing
    [ "$mode" = get ] && tok=$view
    # the server's CPU (user + system clock ticks from /proc/PID/stat)
    c0=$(awk '{print $14 + $15}' "/proc/$opid/stat")
    g0=$(pg_ticks)
    if [ "$CLIENT" = wrk ] && [ "$mode" != batch ]; then
        { time run_wrk "$mode" "$tok" "$W/$tag.$name.txt"; } 2>"$W/$tag.$name.time"
    else
        { time "$BIN" bench resume --target "$U" --token "$tok" --mode "$mode" "$@" \
            --duration "$DURATION" >"$W/$tag.$name.txt"; } 2>"$W/$tag.$name.time"
    fi
    c1=$(awk '{print $14 + $15}' "/proc/$opid/stat")
    g1=$(pg_ticks)
    echo "cpu_s $(awk -v t=$((c1 - c0)) -v hz="$HZ" 'BEGIN { print t / hz }')" >>"$W/$tag.$name.txt"
    echo "client_cpu_s $(awk '{print $1 + $2}' "$W/$tag.$name.time")" >>"$W/$tag.$name.txt"
    echo "pg_cpu_s $(awk -v t=$((g1 - g0)) -v hz="$HZ" 'BEGIN { print t / hz }')" >>"$W/$tag.$name.txt"
}
stop_oncue() { # stop_oncue TAG
    local opid
    read -r opid _ <"$W/$1.env"
    kill "$opid"
    wait "$opid" 2>/dev/null || true
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
    else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
sum() { awk '{ s += $1 } END { print s + 0 }'; }
# The disk's speed at a synced small write, over written space as the log's commits are (dd
# oflag=dsync: one write and its sync each): a group commit waits for one, Redis's everysec
# for none, and on this kind of virtual disk it swings from about 0.1 to 3 ms within minutes
# (docs/internals/resume.md, "The disk decides the single-write figure").
disk_us() {
    dd if=/dev/zero of="$W/disk" bs=1000 count=300 2>/dev/null
    dd if=/dev/zero of="$W/disk" bs=1000 count=300 conv=notrunc oflag=dsync 2>&1 |
        awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") printf "%.0f", $(i - 1) * 1e6 / 300 }'
}
TAGS="new"
[ -n "$OLD" ] && TAGS="new old"
DISK0=$(disk_us)
start_oncue "$BIN" new
[ -n "$OLD" ] && start_oncue "$OLD" old
# Single writes: ROUNDS rounds of a Redis SET run, then each server's PUT run
ROUNDLINES=()
for r in $(seq 1 "$ROUNDS"); do
    redis_run set "$W/redis.set.$r.csv"
    line="round $r: Redis SET/s $(redis_field SET "$W/redis.set.$r.csv" 2)"
    for t in $TAGS; do
        phase "$t" "put.$r" put --connections "$CONNS" --threads "$THREADS" --points 100
        v=$(grep '^requests/s ' "$W/$t.put.$r.txt" | cut -d' ' -f2)
        line+=", $t PUT/s $v ($(awk -v a="$v" -v b="$(redis_field SET "$W/redis.set.$r.csv" 2)" \
            'BEGIN { if (b > 0) printf "%.2f", a / b }'))"
    done
    ROUNDLINES+=("$line")
done
r_set=$(for r in $(seq 1 "$ROUNDS"); do redis_field SET "$W/redis.set.$r.csv" 2; done | median)
r_set_p99=$(for r in $(seq 1 "$ROUNDS"); do redis_field SET "$W/redis.set.$r.csv" 7; done | median)
for t in $TAGS; do
    # the rounds as one: the medians of the rates and p99s, the sums of requests and CPU
    rf() { for r in $(seq 1 "$ROUNDS"); do grep "^$1 " "$W/$t.put.$r.txt" | cut -d' ' -f"${2:-2}"; done; }
    {
        echo "requests/s $(rf requests/s | median)"
        echo "latency_p99_ms $(rf latency_p99_ms | median)"
        echo "requests $(rf requests | sum) failed $(rf requests 4 | sum)"
        for k in cpu_s client_cpu_s pg_cpu_s; do echo "$k $(rf $k | sum)"; done
    } >"$W/$t.put.txt"
    read -r _ port _ <"$W/$t.env"
    m=$(curl -s "http://127.0.0.1:$port/metrics")
    echo "$(grep '^oncue_resume_committed_changes_total ' <<<"$m" | cut -d' ' -f2)" \
        "$(grep '^oncue_resume_commits_total ' <<<"$m" | cut -d' ' -f2)" >"$W/$t.group"
done
for t in $TAGS; do
    phase "$t" batch batch --connections "$BATCH_CONNS" --threads "$BATCH_CONNS" \
        --batch "$BATCH" --points 100000
    phase "$t" get get --connections "$CONNS" --threads "$THREADS" --points 100
    stop_oncue "$t"
done
DISK1=$(disk_us)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
nreq() { grep '^requests ' "$1" | cut -d' ' -f2; }
# us of CPU per operation: seconds * 1e6 / operations
per_op() { awk -v s="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.2f", s * 1e6 / n; else print "-" }'; }
# row LABEL REDIS_VALUE RATIO(0/1) CMD...: one line; CMD TAG prints the oncue figure
row() {
    local label=$1 rv=$2 want_ratio=$3 line v ratios=""
    shift 3
    line=$(printf '%-36s' "$label")
    for t in $TAGS; do
        v=$("$@" "$t")
        line+=$(printf ' %12s' "$v")
        [ "$want_ratio" = 1 ] && ratios+=$(printf ' %8s' "$(ratio "$v" "$rv")")
    done
    line+=$(printf ' %12s' "$rv")
    echo "$line$ratios"
}
f_put() { fig "$W/$1.put.txt" requests/s; }
f_put99() { fig "$W/$1.put.txt" latency_p99_ms; }
f_bat() { fig "$W/$1.batch.txt" positions/s; }
f_bat99() { fig "$W/$1.batch.txt" latency_p99_ms; }
f_get() { fig "$W/$1.get.txt" requests/s; }
f_get99() { fig "$W/$1.get.txt" latency_p99_ms; }
f_failed() { grep -h '^requests ' "$W/$1".{put,batch,get}.txt | cut -d' ' -f4 | paste -sd/; }
f_group() { read -r ch co <"$W/$1.group"; ratio "$ch" "$co"; }
f_cpu() { per_op "$(fig "$W/$1.$2.txt" "$3")" $(($(nreq "$W/$1.$2.txt") * ${4:-1})); }
echo "oncue: http.workers=$WORKERS store.synchronous=$SYNC$([ -n "$PG" ] && echo ", store on PostgreSQL, resume.shared"); Redis: appendfsync everysec;"
echo "PUT and GET sent by $([ "$CLIENT" = wrk ] && echo "wrk -t1" ||
    echo "oncue bench resume ($THREADS event-loop thread(s))");"
echo "clients $CONNS, loopback, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "oncue: $BIN${OLD:+; old: $OLD (same client)}"
echo "disk: a synced 1,000-byte write took $DISK0 us before oncue's runs, $DISK1 us after (dd oflag=dsync)"
printf '%s\n' "${ROUNDLINES[@]}"
head=$(printf '%-36s %12s' "" oncue)
[ -n "$OLD" ] && head+=$(printf ' %12s' old)
head+=$(printf ' %12s %8s' redis ratio)
[ -n "$OLD" ] && head+=$(printf ' %8s' "old ratio")
echo "$head"
row "single writes/s (PUT vs SET, median)" "$r_set" 1 f_put
row "single write p99 ms (median)" "$r_set_p99" 0 f_put99
row "batched positions/s ($BATCH_CONNS x $BATCH)" - 0 f_bat
row "batch request p99 ms" - 0 f_bat99
row "reads/s (GET vs GET)" "$r_get" 1 f_get
row "read p99 ms" "$r_get_p99" 0 f_get99
row "failed requests (put/batch/get)" - 0 f_failed
row "single writes per group commit" - 0 f_group
c_put() { f_cpu "$1" put cpu_s; }
c_bat() { f_cpu "$1" batch cpu_s "$BATCH"; }
c_get() { f_cpu "$1" get cpu_s; }
k_put() { f_cpu "$1" put client_cpu_s; }
k_bat() { f_cpu "$1" batch client_cpu_s "$BATCH"; }
k_get() { f_cpu "$1" get client_cpu_s; }
row "server CPU us per PUT" - 0 c_put
row "server CPU us per batched position" - 0 c_bat
row "server CPU us per GET" - 0 c_get
row "client CPU us per PUT" - 0 k_put
row "client CPU us per batched position" - 0 k_bat
row "client CPU us per GET" - 0 k_get
if [ -n "${PG_PID:-}" ]; then
    g_put() { f_cpu "$1" put pg_cpu_s; }
    g_bat() { f_cpu "$1" batch pg_cpu_s "$BATCH"; }
    row "PostgreSQL CPU us per PUT" - 0 g_put
    row "PostgreSQL CPU us per batched position" - 0 g_bat
fi
