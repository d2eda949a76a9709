#!/usr/bin/env bash
# billing.sh - entitlement checks against Redis GET, side by side, on loopback over keep-alive
# connections at each client count of a sweep (oncue GET /v1/entitlements/{account} with a
# viewer token vs Redis GET of a 160-byte value, the two alternated per count), then verified,
# durably committed webhooks (signed Standard Webhooks renewals, each answered only after its
# transaction committed with store.synchronous=full). Prints, for every count, checks/s, p50
# and p99 of both, the ratio, and each server's CPU time per request (/proc/PID/stat: moves
# less than the wall figures on a shared machine); figures, never pass/fail. The checks are
# driven by wrk (one event-driven thread, like redis-benchmark: the comparison) and, at the
# largest count, by `oncue bench billing --mode check` (one thread per connection). The events
# the server counted show every answered webhook was committed.
#
#   bench/billing.sh [ONCUE_BIN]   (default build/rel/oncue; needs Debian redis-server and
#                                   wrk: scripts/deps.sh bench, apt-get install -y wrk)
#   env: DURATION (s per oncue run, default 10), CONNS (client counts swept, default
#        "8 16 32 50"; the webhooks and the thread-per-connection checks use the largest),
#        WORKERS (oncue http.workers, default 2), SYNC (store.synchronous, default full),
#        ACCOUNTS (default 10000), N (Redis GETs per count, default 300000)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BIN=${1:-${ONCUE_BIN:-build/rel/oncue}}
DURATION=${DURATION:-10}
CONNS=${CONNS:-8 16 32 50}
WORKERS=${WORKERS:-2}
SYNC=${SYNC:-full}
ACCOUNTS=${ACCOUNTS:-10000}
N=${N:-300000}
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
for t in redis-server redis-benchmark wrk; do
    command -v $t >/dev/null ||
        { echo "bench/billing.sh: needs $t (scripts/deps.sh bench)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench/billing.sh: no oncue binary at $BIN (make build)" >&2; exit 1; }
W=$(mktemp -d /tmp/oncue-bench-billing.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"' EXIT
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

for c in $CONNS; do
    [[ "$c" =~ ^[1-9][0-9]*$ ]] || { echo "bench/billing.sh: CONNS: client counts, not '$c'" >&2; exit 1; }
done
MAXC=$(tr ' ' '\n' <<<"$CONNS" | sort -n | tail -1)
TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
us_per() { # ticks before, after, requests -> microseconds of CPU per request
    awk -v a="$1" -v b="$2" -v n="$3" -v t="$TCK" 'BEGIN { if (n > 0) printf "%.1f", (b - a) / t * 1e6 / n; else print "-" }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# --- Redis: 160-byte values over ACCOUNTS keys, set once ---
RPORT=$(free_port)
mkdir -p "$W/redis"
redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$W/redis" \
    >"$W/redis.log" 2>&1 &
PIDS+=($!)
RPID=$!
for _ in $(seq 1 100); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-benchmark -p "$RPORT" -c "$MAXC" -n "$N" -r "$ACCOUNTS" -d 160 -t set --csv >/dev/null 2>&1

# --- oncue: the billing module alone ---
VIEW=$("$BIN" token create --data "$W/data" --role viewer --name bench-viewer 2>/dev/null)
"$BIN" serve --data "$W/data" --listen 127.0.0.1:0 --modules billing \
    --set http.workers="$WORKERS" --set store.synchronous="$SYNC" \
    --set billing.standard_secrets="$SECRET" 2>"$W/oncue.log" &
PIDS+=($!)
OPID=$!
port=$(listen_port "$W/oncue.log" "$OPID")
[ -n "$port" ] || { echo "oncue did not start:"; cat "$W/oncue.log"; exit 1; }
U=http://127.0.0.1:$port
fig() { grep "^$2 " "$1" | cut -d' ' -f2; }
"$BIN" bench billing --target "$U" --mode webhook --secret "$SECRET" --connections "$MAXC" \
    --accounts "$ACCOUNTS" --duration "$DURATION" >"$W/webhook.txt"
m=$(curl -s "$U/metrics")
events=$(grep '^oncue_billing_events_total{provider="standard"' <<<"$m" | awk '{s += $2} END {print s}')
commits=$(grep '^oncue_billing_commits_total ' <<<"$m" | cut -d' ' -f2)
"$BIN" bench billing --target "$U" --mode check --token "$VIEW" --connections "$MAXC" \
    --accounts "$ACCOUNTS" --duration "$DURATION" >"$W/check.txt"
cat >"$W/check.lua" <<'LUA'
local n = tonumber(os.getenv("ACCOUNTS"))
wrk.headers["Authorization"] = "Bearer " .. os.getenv("VIEW")
request = function()
    return wrk.format("GET", "/v1/entitlements/bacct-" .. math.random(0, n - 1) ..
                      "?title=t1&region=US")
end
LUA
to_ms() { # wrk's "812.00us", "1.23ms" or "1.02s" -> milliseconds
    awk -v v="$1" 'BEGIN { u = v; sub(/[0-9.]+/, "", u); x = v + 0;
        printf "%.3f", u == "us" ? x / 1000 : u == "s" ? x * 1000 : x }'
}
redis_field() { grep "^\"$2\"" "$1" | tr -d '"' | cut -d, -f"$3"; }

# --- the sweep: at each client count, Redis GET then oncue checks (wrk) ---
echo "oncue: http.workers=$WORKERS store.synchronous=$SYNC; Redis: no persistence;"
echo "loopback, keep-alive, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "entitlement checks (oncue, wrk -t1, ${DURATION}s) vs Redis GET (redis-benchmark, $N GETs):"
printf '%7s %10s %8s %8s %9s %10s %8s %8s %9s %7s %6s\n' clients checks/s p50_ms p99_ms \
    us_cpu/chk GET/s p50_ms p99_ms us_cpu/GET ratio load
bad_all=0
for c in $CONNS; do
    r0=$(cpu_ticks "$RPID")
    redis-benchmark -p "$RPORT" -c "$c" -n "$N" -r "$ACCOUNTS" -d 160 -t get --csv \
        >"$W/redis-$c.csv" 2>/dev/null
    r1=$(cpu_ticks "$RPID")
    r_get=$(redis_field "$W/redis-$c.csv" GET 2)
    r_p50=$(redis_field "$W/redis-$c.csv" GET 5)
    r_p99=$(redis_field "$W/redis-$c.csv" GET 7)
    o0=$(cpu_ticks "$OPID")
    ACCOUNTS=$ACCOUNTS VIEW=$VIEW wrk -t1 -c"$c" -d"${DURATION}s" --latency -s "$W/check.lua" \
        "$U" >"$W/wrk-$c.txt"
    o1=$(cpu_ticks "$OPID")
    w_n=$(awk '/requests in/ {print $1}' "$W/wrk-$c.txt")
    w_rps=$(awk '/Requests\/sec/ {printf "%d", $2}' "$W/wrk-$c.txt")
    w_p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$W/wrk-$c.txt")")
    w_p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$W/wrk-$c.txt")")
    w_bad=$(awk '/Non-2xx/ {print $NF}' "$W/wrk-$c.txt" | grep . || echo 0)
    w_err=$(awk '/Socket errors/ {print}' "$W/wrk-$c.txt")
    bad_all=$((bad_all + w_bad))
    printf '%7s %10s %8s %8s %9s %10s %8s %8s %9s %7s %6s\n' "$c" "$w_rps" "$w_p50" "$w_p99" \
        "$(us_per "$o0" "$o1" "$w_n")" "${r_get%.*}" "$r_p50" "$r_p99" \
        "$(us_per "$r0" "$r1" "$N")" "$(ratio "$w_rps" "$r_get")" "$(cut -d' ' -f1 /proc/loadavg)"
    [ -z "$w_err" ] || echo "        wrk at $c clients: $w_err"
done
echo "(ratio: oncue checks/s over Redis GET/s; us_cpu: the server's user+system CPU time per"
echo " request, /proc/PID/stat ticks of 1/$TCK s)"
printf '%-44s %14s\n' "checks not answered 200, wrk (all counts)" "$bad_all"
printf '%-44s %14s\n' "checks/s, oncue bench ($MAXC threads)" "$(fig "$W/check.txt" requests/s)"
printf '%-44s %14s\n' "check p99 ms, oncue bench" "$(fig "$W/check.txt" latency_p99_ms)"
printf '%-44s %14s\n' "verified committed webhooks/s ($MAXC clients)" "$(fig "$W/webhook.txt" requests/s)"
printf '%-44s %14s\n' "webhook p99 ms" "$(fig "$W/webhook.txt" latency_p99_ms)"
printf '%-44s %14s\n' "failed requests (check/webhook)" \
    "$(grep -h '^requests ' "$W"/check.txt "$W"/webhook.txt | cut -d' ' -f4 | paste -sd/)"
printf '%-44s %14s\n' "webhooks answered / events counted" \
    "$(grep '^requests ' "$W/webhook.txt" | cut -d' ' -f2)/$events"
printf '%-44s %14s\n' "webhooks per commit" "$(ratio "$events" "$commits")"
