#!/usr/bin/env bash
# resume.sh - cross-device resume writes and reads against Redis, side by side in one run, on
# loopback with the same client count: single unpipelined writes (oncue PUT vs Redis SET),
# batched writes (oncue POST /v1/resume), reads (oncue GET vs Redis GET) with p99. Redis runs
# with appendonly yes, appendfsync everysec. Prints both and the ratio (a figure, never
# pass/fail). PUTs and GETs are sent by `oncue bench resume` (one thread and connection per
# client), or with CLIENT=wrk by wrk -t1 (one event-driven thread, like redis-benchmark and
# bench/billing.sh's checks): fewer wake-ups of client threads, so less of the server's CPU
# per answer, but one client thread, which a busy machine starves. Batches: oncue bench.
#
#   bench/resume.sh [ONCUE_BIN]   (default build/rel/oncue; needs Debian redis-server, and
#                                  wrk with CLIENT=wrk: scripts/deps.sh bench)
#   env: DURATION (s per oncue run, default 10), CONNS (clients, default 50),
#        CLIENT (oncue or wrk, default oncue),
#        WORKERS (oncue http.workers, default 2), SYNC (store.synchronous: full or normal,
#        default full), BATCH (reports per POST, default 1000), BATCH_CONNS (default 4),
#        N (Redis requests per test, default 300000),
#        PG (a libpq conninfo: the store on that PostgreSQL, resume.shared on: each commit is
#        inserted there too; default empty: SQLite, the single-node path), PG_PID (its
#        postmaster's PID: the CPU of its backends is printed per operation as well)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BIN=${1:-${ONCUE_BIN:-build/rel/oncue}}
DURATION=${DURATION:-10}
CONNS=${CONNS:-50}
WORKERS=${WORKERS:-2}
SYNC=${SYNC:-full}
BATCH=${BATCH:-1000}
BATCH_CONNS=${BATCH_CONNS:-4}
N=${N:-300000}
CLIENT=${CLIENT:-oncue}
TOOLS="redis-server redis-benchmark"
[ "$CLIENT" = wrk ] && TOOLS="$TOOLS wrk"
for t in $TOOLS; do
    command -v $t >/dev/null ||
        { echo "bench/resume.sh: needs $t (scripts/deps.sh bench)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench/resume.sh: no oncue binary at $BIN (make build)" >&2; exit 1; }
W=$(mktemp -d /tmp/oncue-bench-resume.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"' EXIT
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
redis-benchmark -p "$RPORT" -c "$CONNS" -n "$N" -r 100000 -d 160 -t set,get --csv \
    >"$W/redis.csv" 2>/dev/null
# "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms",...
redis_field() { grep "^\"$1\"" "$W/redis.csv" | tr -d '"' | cut -d, -f"$2"; }
r_set=$(redis_field SET 2); r_set_p99=$(redis_field SET 7)
r_get=$(redis_field GET 2); r_get_p99=$(redis_field GET 7)

# --- oncue: the resume module alone ---
PG=${PG:-}
STORE=()
TOKPG=()
if [ -n "$PG" ]; then
    STORE=(--set store.backend=postgres --set "store.postgres=$PG")
    TOKPG=(--postgres "$PG")
fi
ING=$("$BIN" token create --data "$W/data" "${TOKPG[@]}" --role ingest --name "bench-ingest-$$" 2>/dev/null | tail -1)
VIEW=$("$BIN" token create --data "$W/data" "${TOKPG[@]}" --role viewer --name "bench-viewer-$$" 2>/dev/null | tail -1)
"$BIN" serve --data "$W/data" --listen 127.0.0.1:0 --modules resume "${STORE[@]}" \
    --set http.workers="$WORKERS" --set store.synchronous="$SYNC" 2>"$W/oncue.log" &
PIDS+=($!)
port=$(listen_port "$W/oncue.log" "${PIDS[-1]}")
[ -n "$port" ] || { echo "oncue did not start:"; cat "$W/oncue.log"; exit 1; }
U=http://127.0.0.1:$port
OPID=${PIDS[-1]}
fig() { grep "^$2 " "$1" | cut -d' ' -f2; }
# the server's CPU (user + system clock ticks from /proc/PID/stat), steadier than throughput
# on a shared machine
ticks() { awk '{print $14 + $15}' "/proc/$OPID/stat"; }
# PostgreSQL's: the postmaster's children (its backends, the WAL writer), with PG_PID
pg_ticks() {
    [ -n "${PG_PID:-}" ] || { echo 0; return; }
    local p t=0
    for p in $(pgrep -P "$PG_PID"); do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}
HZ=$(getconf CLK_TCK)
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
c0=$(ticks)
g0=$(pg_ticks)
if [ "$CLIENT" != wrk ]; then
    "$BIN" bench resume --target "$U" --token "$ING" --mode put --connections "$CONNS" \
        --points 100 --duration "$DURATION" >"$W/put.txt"
else
    run_wrk put "$ING" "$W/put.txt"
fi
c1=$(ticks)
g1=$(pg_ticks)
m=$(curl -s "$U/metrics")
commits=$(grep '^oncue_resume_commits_total ' <<<"$m" | cut -d' ' -f2)
changes=$(grep '^oncue_resume_committed_changes_total ' <<<"$m" | cut -d' ' -f2)
"$BIN" bench resume --target "$U" --token "$ING" --mode batch --connections "$BATCH_CONNS" \
    --batch "$BATCH" --points 100000 --duration "$DURATION" >"$W/batch.txt"
c2=$(ticks)
g2=$(pg_ticks)
if [ "$CLIENT" != wrk ]; then
    "$BIN" bench resume --target "$U" --token "$VIEW" --mode get --connections "$CONNS" \
        --points 100 --duration "$DURATION" >"$W/get.txt"
else
    run_wrk get "$VIEW" "$W/get.txt"
fi
c3=$(ticks)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo "oncue: http.workers=$WORKERS store.synchronous=$SYNC$([ -n "$PG" ] && echo ", store on PostgreSQL, resume.shared"); Redis: appendfsync everysec;"
echo "PUT and GET sent by $([ "$CLIENT" = wrk ] && echo "wrk -t1" || echo "oncue bench resume (a thread per client)");"
echo "clients $CONNS, loopback, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %14s %14s %8s\n' "" oncue redis ratio
printf '%-34s %14s %14s %8s\n' "single writes/s (PUT vs SET)" "$(fig "$W/put.txt" requests/s)" \
    "$r_set" "$(ratio "$(fig "$W/put.txt" requests/s)" "$r_set")"
printf '%-34s %14s %14s\n' "single write p99 ms" "$(fig "$W/put.txt" latency_p99_ms)" "$r_set_p99"
printf '%-34s %14s %14s\n' "batched positions/s ($BATCH_CONNS x $BATCH)" \
    "$(fig "$W/batch.txt" positions/s)" "-"
printf '%-34s %14s %14s\n' "batch request p99 ms" "$(fig "$W/batch.txt" latency_p99_ms)" "-"
printf '%-34s %14s %14s %8s\n' "reads/s (GET vs GET)" "$(fig "$W/get.txt" requests/s)" \
    "$r_get" "$(ratio "$(fig "$W/get.txt" requests/s)" "$r_get")"
printf '%-34s %14s %14s\n' "read p99 ms" "$(fig "$W/get.txt" latency_p99_ms)" "$r_get_p99"
printf '%-34s %14s\n' "failed requests (put/batch/get)" \
    "$(grep -h '^requests ' "$W"/put.txt "$W"/batch.txt "$W"/get.txt | cut -d' ' -f4 | paste -sd/)"
printf '%-34s %14s\n' "single writes per group commit" "$(ratio "$changes" "$commits")"
# us of server CPU per operation: ticks * 1e6 / HZ / operations
per_op() { awk -v t="$1" -v hz="$HZ" -v n="$2" 'BEGIN { if (n > 0) printf "%.2f", t * 1e6 / hz / n; else print "-" }'; }
nreq() { grep '^requests ' "$1" | cut -d' ' -f2; }
printf '%-34s %14s\n' "server CPU us per PUT" "$(per_op $((c1 - c0)) "$(nreq "$W/put.txt")")"
printf '%-34s %14s\n' "server CPU us per batched position" \
    "$(per_op $((c2 - c1)) $(($(nreq "$W/batch.txt") * BATCH)))"
printf '%-34s %14s\n' "server CPU us per GET" "$(per_op $((c3 - c2)) "$(nreq "$W/get.txt")")"
if [ -n "${PG_PID:-}" ]; then
    printf '%-34s %14s\n' "PostgreSQL CPU us per PUT" "$(per_op $((g1 - g0)) "$(nreq "$W/put.txt")")"
    printf '%-34s %14s\n' "PostgreSQL CPU us per batched pos." \
        "$(per_op $((g2 - g1)) $(($(nreq "$W/batch.txt") * BATCH)))"
fi
