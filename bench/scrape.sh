#!/usr/bin/env bash
# scrape.sh - the scraper's own cost: python3's http.server serves one exposition body of
# SERIES counter series (about 73 bytes each); `oncue serve` scrapes it as TARGETS targets every
# second, each with one rate rule over every series, for RUN_S seconds; prints the server's CPU
# time (utime + stime from /proc) per scrape and per sample, its resident memory, and the load
# average (a figure, never pass/fail; the server does nothing else).
#
#   bench/scrape.sh [ONCUE_BIN]   (default build/rel/oncue)
#   env: SERIES (default 10000), TARGETS (default 5), RUN_S (default 30), PORT (default 18131)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-${ONCUE_BIN:-build/rel/oncue}}
[ -x "$BIN" ] || { echo "bench/scrape.sh: no oncue binary at $BIN (make build)" >&2; exit 1; }
SERIES=${SERIES:-10000} TARGETS=${TARGETS:-5} RUN_S=${RUN_S:-30} PORT=${PORT:-18131}
W=$(mktemp -d /tmp/oncue-scrape-bench.XXXXXX)
HTTP_PID="" SERVER_PID=""
trap '[ -n "$SERVER_PID" ] && kill $SERVER_PID; [ -n "$HTTP_PID" ] && kill $HTTP_PID; rm -rf "$W"' EXIT
mkdir -p "$W/www" "$W/data"
python3 - "$W" "$SERIES" "$TARGETS" "$PORT" <<'PY'
import sys
w, n, t, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with open(f"{w}/www/metrics", "w") as f:
    f.write("# TYPE http_requests_total counter\n")
    for i in range(n):
        f.write(f'http_requests_total{{route="/api/v{i%50}/item",code="{200+i%5}",pod="pod-{i//50}"}} {i*7}\n')
with open(f"{w}/targets.yaml", "w") as f:
    for k in range(t):
        f.write(f"""- name: t{k}
  url: http://127.0.0.1:{port}/metrics
  interval_s: 1
  rules:
    - {{name: errors, metric: http_requests_total, match: {{code: "~5.."}}, rate: true,
       per: http_requests_total, op: ">", threshold: 0.5}}
""")
PY
(cd "$W/www" && exec python3 -m http.server "$PORT" --bind 127.0.0.1 >/dev/null 2>&1) &
HTTP_PID=$!
"$BIN" serve --data "$W/data" --listen 127.0.0.1:0 --modules scrape --set scrape.file="$W/targets.yaml" \
    --set scrape.outbound_allow=127.0.0.1 --set scrape.max_series=$((SERIES * 2)) 2>"$W/server.log" &
SERVER_PID=$!
sleep 5 # the first scrapes, series created
ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
a=$(ticks)
sleep "$RUN_S"
b=$(ticks)
hz=$(getconf CLK_TCK)
awk -v t="$((b - a))" -v hz="$hz" -v s="$RUN_S" -v n="$TARGETS" -v k="$SERIES" 'BEGIN {
    cpu = t / hz; scrapes = s * n
    printf "%d targets x %d series every 1 s for %d s: %.2f s CPU (%.1f%% of a core)\n", n, k, s, cpu, 100 * cpu / s
    printf "per scrape of %d series: %.1f ms CPU; per sample: %.2f us\n", k, 1000 * cpu / scrapes, 1e6 * cpu / (scrapes * k)
}'
grep VmRSS "/proc/$SERVER_PID/status"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
