#!/usr/bin/env bash
# steer.sh - the steering endpoint vs nginx serving a static file of the same bytes, side by
# side in one run, with wrk over keep-alive loopback. Prints requests/s and latency
# percentiles for both and their ratio (a figure, never pass/fail).
#
#   bench/steer.sh [ONCUE_BIN]      (default build/rel/oncue; needs Debian nginx and wrk)
#   env: DURATION (s, default 10), CONNS (default 50), THREADS (wrk, default 1),
#        WORKERS (oncue http.workers and nginx worker_processes, default 2),
#        ROUNDS (interleaved nginx/oncue rounds, default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BIN=${1:-${ONCUE_BIN:-build/rel/oncue}}
DURATION=${DURATION:-10}
CONNS=${CONNS:-50}
THREADS=${THREADS:-1}
WORKERS=${WORKERS:-2}
ROUNDS=${ROUNDS:-3}
for t in nginx wrk; do
    command -v $t >/dev/null || [ -x /usr/sbin/$t ] ||
        { echo "bench/steer.sh: needs $t (apt-get install -y nginx wrk)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "bench/steer.sh: no oncue binary at $BIN (make build)" >&2; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
W=$(mktemp -d /tmp/oncue-bench-steer.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"' EXIT

# A realistic policy: two CDNs, a clone, a weighted regional rule and a device rule.
cat >"$W/policy.json" <<'JSON'
{"ttl": 10, "pathways": ["cdn-a", "cdn-b"],
 "clones": [{"id": "cdn-c", "base": "cdn-a", "host": "c.example.net", "params": {"k": "v"}}],
 "rules": [{"name": "emea-20", "region": "EMEA", "priority": ["cdn-b"], "percent": 20},
           {"name": "tv", "device": "tv", "priority": ["cdn-c"]}]}
JSON
"$BIN" serve --data "$W/data" --listen 127.0.0.1:0 --modules steer --log-level warn \
    --set http.workers="$WORKERS" --set steer.policy_file="$W/policy.json" 2>"$W/oncue.log" &
PIDS+=($!)
port=$(listen_port "$W/oncue.log" "${PIDS[-1]}")
[ -n "$port" ] || { echo "oncue did not start"; cat "$W/oncue.log"; exit 1; }
URL="http://127.0.0.1:$port/v1/steering/hls/movie?region=EMEA&session=4f2a9c01&_HLS_pathway=cdn-a&_HLS_throughput=985600"

# nginx serves the very bytes the endpoint answers, as a static file.
mkdir -p "$W/www" "$W/nginx"
chmod 755 "$W" "$W/www" # nginx workers run as www-data
curl -s "$URL" >"$W/www/steer.json"
NPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$W/nginx/nginx.conf" <<EOF
worker_processes $WORKERS;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $W/nginx; proxy_temp_path $W/nginx; fastcgi_temp_path $W/nginx;
    uwsgi_temp_path $W/nginx; scgi_temp_path $W/nginx;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NPORT;
        location / { root $W/www; default_type application/json;
                     add_header Cache-Control no-store; add_header Access-Control-Allow-Origin *; }
    }
}
EOF
"$NGINX" -c "$W/nginx/nginx.conf" -g 'daemon off;' &
PIDS+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$NPORT/steer.json" >/dev/null && break; sleep 0.05; done

bytes=$(wc -c <"$W/www/steer.json")
echo "body: $bytes bytes (same for both); wrk -t$THREADS -c$CONNS -d${DURATION}s; workers $WORKERS"
run() { # NAME URL -> prints one line, sets RPS
    local out
    out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency "$2")
    RPS=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    printf '%-16s %10s req/s  p50 %8s  p99 %8s  non-2xx %s\n' "$1" "$RPS" \
        "$(echo "$out" | awk '$1=="50%" {print $2}')" "$(echo "$out" | awk '$1=="99%" {print $2}')" \
        "$(echo "$out" | awk '/Non-2xx/ {print $NF}' | grep . || echo 0)"
}
# Interleaved rounds, so that load from elsewhere on the machine hits both alike.
NG=0
ON=0
for r in $(seq 1 "$ROUNDS"); do
    run "nginx static" "http://127.0.0.1:$NPORT/steer.json"
    NG=$(awk -v a="$NG" -v b="$RPS" 'BEGIN {print a + b}')
    run "oncue steering" "$URL"
    ON=$(awk -v a="$ON" -v b="$RPS" 'BEGIN {print a + b}')
    # reference: the same server's cheapest route, to tell the http layer's cost from steering's
    run "oncue /healthz" "http://127.0.0.1:$port/healthz"
done
echo "mean over $ROUNDS rounds: nginx $(awk -v a="$NG" -v n="$ROUNDS" 'BEGIN {printf "%.0f", a / n}')" \
    "req/s, oncue $(awk -v a="$ON" -v n="$ROUNDS" 'BEGIN {printf "%.0f", a / n}') req/s," \
    "ratio oncue/nginx $(awk -v a="$ON" -v b="$NG" 'BEGIN {printf "%.2f", a / b}')"
