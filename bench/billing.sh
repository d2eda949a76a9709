#!/usr/bin/env bash
# billing.sh - entitlement checks against Redis GET, side by side in one run, on loopback with
# the same client count over keep-alive connections (oncue GET /v1/entitlements/{account} with
# a viewer token vs Redis GET of a 160-byte value), then verified, durably committed webhooks
# (signed Standard Webhooks renewals, each answered only after its transaction committed with
# store.synchronous=full). Prints both and the ratio (a figure, never pass/fail), and the
# events the server counted, to show every answered webhook was committed. The checks are
# driven twice: by wrk (one event-driven thread, like redis-benchmark: the comparison) and by
# `oncue bench billing --mode check` (one thread per connection).
#
#   bench/billing.sh [ONCUE_BIN]   (default build/rel/oncue; needs Debian redis-server and
#                                   wrk: scripts/deps.sh bench, apt-get install -y wrk)
#   env: DURATION (s per oncue run, default 10), CONNS (clients, default 50),
#        WORKERS (oncue http.workers, default 2), SYNC (store.synchronous, default full),
#        ACCOUNTS (default 10000), N (Redis requests per test, default 300000)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BIN=${1:-${ONCUE_BIN:-build/rel/oncue}}
DURATION=${DURATION:-10}
CONNS=${CONNS:-50}
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

# --- Redis: GET of 160-byte values, CONNS clients ---
RPORT=$(free_port)
mkdir -p "$W/redis"
redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$W/redis" \
    >"$W/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-benchmark -p "$RPORT" -c "$CONNS" -n "$N" -r "$ACCOUNTS" -d 160 -t set,get --csv \
    >"$W/redis.csv" 2>/dev/null
redis_field() { grep "^\"$1\"" "$W/redis.csv" | tr -d '"' | cut -d, -f"$2"; }
r_get=$(redis_field GET 2); r_get_p99=$(redis_field GET 7)

# --- oncue: the billing module alone ---
VIEW=$("$BIN" token create --data "$W/data" --role viewer --name bench-viewer 2>/dev/null)
"$BIN" serve --data "$W/data" --listen 127.0.0.1:0 --modules billing \
    --set http.workers="$WORKERS" --set store.synchronous="$SYNC" \
    --set billing.standard_secrets="$SECRET" 2>"$W/oncue.log" &
PIDS+=($!)
port=$(listen_port "$W/oncue.log" "${PIDS[-1]}")
[ -n "$port" ] || { echo "oncue did not start:"; cat "$W/oncue.log"; exit 1; }
U=http://127.0.0.1:$port
fig() { grep "^$2 " "$1" | cut -d' ' -f2; }
"$BIN" bench billing --target "$U" --mode webhook --secret "$SECRET" --connections "$CONNS" \
    --accounts "$ACCOUNTS" --duration "$DURATION" >"$W/webhook.txt"
m=$(curl -s "$U/metrics")
events=$(grep '^oncue_billing_events_total{provider="standard"' <<<"$m" | awk '{s += $2} END {print s}')
commits=$(grep '^oncue_billing_commits_total ' <<<"$m" | cut -d' ' -f2)
"$BIN" bench billing --target "$U" --mode check --token "$VIEW" --connections "$CONNS" \
    --accounts "$ACCOUNTS" --duration "$DURATION" >"$W/check.txt"
cat >"$W/check.lua" <<'LUA'
local n = tonumber(os.getenv("ACCOUNTS"))
wrk.headers["Authorization"] = "Bearer " .. os.getenv("VIEW")
request = function()
    return wrk.format("GET", "/v1/entitlements/bacct-" .. math.random(0, n - 1) ..
                      "?title=t1&region=US")
end
LUA
ACCOUNTS=$ACCOUNTS VIEW=$VIEW wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$W/check.lua" "$U" \
    >"$W/wrk.txt"
to_ms() { # wrk's "812.00us", "1.23ms" or "1.02s" -> milliseconds
    awk -v v="$1" 'BEGIN { u = v; sub(/[0-9.]+/, "", u); x = v + 0;
        printf "%.3f", u == "us" ? x / 1000 : u == "s" ? x * 1000 : x }'
}
w_rps=$(awk '/Requests\/sec/ {printf "%d", $2}' "$W/wrk.txt")
w_p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$W/wrk.txt")")
w_p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$W/wrk.txt")")
w_bad=$(awk '/Non-2xx/ {print $NF}' "$W/wrk.txt" | grep . || echo 0)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo "oncue: http.workers=$WORKERS store.synchronous=$SYNC; Redis: no persistence;"
echo "clients $CONNS, loopback, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-40s %14s %14s %8s\n' "" oncue redis ratio
printf '%-40s %14s %14s %8s\n' "entitlement checks/s, wrk (GET vs GET)" "$w_rps" "$r_get" \
    "$(ratio "$w_rps" "$r_get")"
printf '%-40s %14s %14s\n' "check p99 ms, wrk" "$w_p99" "$r_get_p99"
printf '%-40s %14s\n' "check p50 ms, wrk" "$w_p50"
printf '%-40s %14s\n' "checks not answered 200, wrk" "$w_bad"
printf '%-40s %14s\n' "checks/s, oncue bench (thread each)" "$(fig "$W/check.txt" requests/s)"
printf '%-40s %14s\n' "check p99 ms, oncue bench" "$(fig "$W/check.txt" latency_p99_ms)"
printf '%-40s %14s\n' "verified committed webhooks/s" "$(fig "$W/webhook.txt" requests/s)"
printf '%-40s %14s\n' "webhook p99 ms" "$(fig "$W/webhook.txt" latency_p99_ms)"
printf '%-40s %14s\n' "failed requests (check/webhook)" \
    "$(grep -h '^requests ' "$W"/check.txt "$W"/webhook.txt | cut -d' ' -f4 | paste -sd/)"
printf '%-40s %14s\n' "webhooks answered / events counted" \
    "$(grep '^requests ' "$W/webhook.txt" | cut -d' ' -f2)/$events"
printf '%-40s %14s\n' "webhooks per commit" "$(ratio "$events" "$commits")"
