#!/usr/bin/env bash
# Three concurrent worst-case GET /v1/qoe queries (issue 26, finding 1): the largest the cost
# check lets through (1000 groups x 250 points = qoe.query_max_cells), over simulator data,
# three at a time, three rounds. The queries run on the query threads (qoe.query_threads, 5
# nicer than the HTTP workers) and their answers leave their worker without a copy, so
# /healthz, asked every 20 ms meanwhile over one kept-alive connection, answers every time,
# 95% of the time within 100 ms and every time within 500 ms, less what the probe and the
# workers waited for a CPU the machine's other work held (probe.py); the server's RSS peaks
# within 160 MiB of where it started and falls back to within 48 MiB after the answers
# (malloc_trim) instead of staying at its peak (on the sanitizer build: the peak under 448
# MiB). Prints the figures docs/internals/limits.md quotes. The same for the worst PromQL query_range the cost check lets through (sum by the
# same three labels, 250 points): it runs on the same threads, so /healthz holds the same
# bounds. Past qoe.query_queue waiting queries the answer is 503 with Retry-After, for both
# APIs.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest it-sim | tail -1)
VIEW=$(new_token "$D" viewer it-view | tail -1)
T0=1772479800
# On the sanitizer build ASan's allocator holds freed memory in its quarantine (256 MiB by
# default) and keeps it: a smaller one that it returns makes the RSS figures the server's.
ASAN=""
if ldd "$ONCUE_BIN" 2>/dev/null | grep -q libasan; then
    ASAN=1
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16:allocator_release_to_os_interval_ms=100
fi
start_server "$D" --clock replay --modules builtin,auth,ingest,qoe || exit 1
"$ONCUE_BIN" sim --target "$BASE" --token "$ING" --speed 0 --batch 5000 --scenario emea-cdn \
    --viewers 3000 --start $T0 --duration 40m --seed 3 2> "$T_TMP/sim.log"
t_check "sim posted" 0 $?
to=$((T0 + 40 * 60))
worst="metric=rebuffer_ratio&from=$((to - 250 * 60))&to=$to&step=60&group_by=isp,title,player_version&top=1000"
q() { status GET "/v1/qoe?$1" -H "Authorization: Bearer $VIEW"; }
t_check "one minute more is over the cost check" 422 "$(q "${worst/from=$((to - 250 * 60))/from=$((to - 251 * 60))}")"
t_contains "at qoe.query_max_cells" "at most 250000 fit" "$(body)"
t_check "the worst allowed query answers" 200 "$(q "$worst")"
t_check "with 1000 groups x 250 points" "1000 250" "$(body | jq -r '"\(.series | length) \(.series[0].points | length)"')"
sleep 1 # the first answer's memory given back

# load.py: 3 rounds of 3 concurrent queries while RSS is read every 5 ms; prints "statuses
# rss_start_kb rss_peak_kb rss_end_kb answer_bytes". Meanwhile probe.py asks /healthz every
# 20 ms over one kept-alive connection (its own process: a thread of load.py would wait for
# Python's lock, not for the server; curl started anew for each probe would time its own
# connection and, on a busy machine, its own start).
cat > "$T_TMP/load.py" <<'PY'
import sys, threading, time, urllib.request
base, token, query, pid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def rss():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
start, peak, done, statuses, sizes = rss(), 0, threading.Event(), [], []
def sample():
    global peak
    while not done.is_set():
        peak = max(peak, rss()); time.sleep(0.005)
def one():
    req = urllib.request.Request(base + query, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=120) as r:
        sizes.append(len(r.read())); statuses.append(r.status)
bg = threading.Thread(target=sample)
bg.start()
for _ in range(3):
    qs = [threading.Thread(target=one) for _ in range(3)]
    for t in qs: t.start()
    for t in qs: t.join()
time.sleep(0.5)
done.set()
bg.join()
print(",".join(map(str, sorted(set(statuses)))) + "x%d" % len(statuses), start, max(peak, start),
      rss(), max(sizes))
PY
# probe.py BASE OUT STOP PID: one line for each /healthz until the file STOP exists: "status
# seconds own_wait_s worker_wait_s", the last two from the scheduler's counts
# (/proc/.../schedstat): how long, during that probe, the probe waited for a CPU, and the
# worker that served it (of the server's HTTP workers, threads "oncue-http", those that ran
# during the probe; the least of their waits when both did). Time spent waiting for a CPU is
# the machine's (2 cores shared by several engineers' builds and tests): the test asserts on
# the rest, where a worker held behind a copy, a lock or a long handler shows (it runs or
# sleeps then, it does not wait for a CPU); the query threads' priority is checked apart.
# The rest still holds waits these counts do not show (in CI, with other tests beside, one
# probe of 94 came to 101 ms less its CPU waits), so the bounds are 100 ms for 95% of
# the probes and 500 ms for each: a query run on the worker instead (qoe.query_threads=0)
# breaks one or the other on the sanitizer build (two runs, less the CPU waits: GET /v1/qoe, a
# probe held 1,296 and 991 ms; query_range, the 95th percentile 163 and 170 ms;
# docs/internals/limits.md).
cat > "$T_TMP/probe.py" <<'PY'
import http.client, os, sys, time
base, out, stop, pid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
host, port = base.split("//")[1].split(":")
def waited(path):
    try:
        with open(path) as f:
            return int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
def comm(t):
    try:
        with open("/proc/%s/task/%s/comm" % (pid, t)) as f:
            return f.read().strip()
    except OSError:
        return ""
workers = [t for t in os.listdir("/proc/%s/task" % pid) if comm(t) == "oncue-http"]
def stat(path):
    try:
        with open(path) as f:
            a = f.read().split()
            return int(a[0]), int(a[1])
    except (OSError, IndexError, ValueError):
        return 0, 0
def sample():
    return (waited("/proc/thread-self/schedstat"),
            [stat("/proc/%s/task/%s/schedstat" % (pid, t)) for t in workers])
c = http.client.HTTPConnection(host, int(port), timeout=5)
with open(out, "w") as f:
    while not os.path.exists(stop):
        own0, w0 = sample()
        t0 = time.perf_counter()
        try:
            c.request("GET", "/healthz")
            r = c.getresponse()
            r.read()
            st = r.status
        except OSError:
            st, c = 0, http.client.HTTPConnection(host, int(port), timeout=5)
        t1 = time.perf_counter()
        own1, w1 = sample()
        ran = [b[1] - a[1] for a, b in zip(w0, w1) if b[0] > a[0]]
        ww = min(ran or [0])
        f.write("%d %.6f %.6f %.6f\n" % (st, t1 - t0, (own1 - own0) / 1e9, ww / 1e9))
        f.flush()
        time.sleep(0.02)
PY
# load PATH?QUERY: the rounds above while /healthz is asked; checks and prints the figures
load() {
    python3 "$T_TMP/load.py" "$BASE" "$VIEW" "$1" "$SERVER_PID" > "$T_TMP/load" &
    L=$!
    rm -f "$T_TMP/stop"
    python3 "$T_TMP/probe.py" "$BASE" "$T_TMP/hz" "$T_TMP/stop" "$SERVER_PID" &
    P=$!
    wait "$L"
    touch "$T_TMP/stop"
    wait "$P"
    read -r st rss0 peak rss1 size < "$T_TMP/load"
    n=$(grep -c . "$T_TMP/hz")
    slow=$(awk '$2 >= 0.1' "$T_TMP/hz" | grep -c .)
    # the server's part of each probe: less the CPU waits above
    awk '{s = $2 - $3 - $4; printf "%d %.6f\n", $1, (s > 0 ? s : 0)}' "$T_TMP/hz" > "$T_TMP/hz_server"
    held=$(awk '$2 >= 0.1' "$T_TMP/hz_server" | grep -c .)
    awk '$2 >= 0.1 {print "  a probe of " $2 " s: the probe waited " $3 " s for a CPU, its worker " $4 " s"}' "$T_TMP/hz"
    echo "${1%%\?*}: 9 worst-case answers of $size bytes, 3 at a time: /healthz asked $n times: median $(ms 0.5) ms, 95th percentile $(ms 0.95) ms, at most $(ms 1) ms ($slow at 100 ms or more; less the waits for a CPU: 95th percentile $(ms 0.95 "$T_TMP/hz_server") ms, at most $(ms 1 "$T_TMP/hz_server") ms, $held at 100 ms or more); load average $(cut -d' ' -f1 /proc/loadavg); RSS $rss0 kB before, peak $peak kB, $rss1 kB after"
    t_check "${1%%\?*}: /healthz answered every time" 0 "$(awk '$1 != 200' "$T_TMP/hz" | grep -c .)"
    t_check "${1%%\?*}: nine answers, all 200" "200x9" "$st"
    t_check "${1%%\?*}: /healthz asked at least 20 times" 1 "$([ "$n" -ge 20 ] && echo 1 || echo 0)"
    t_check "${1%%\?*}: /healthz under 100 ms at the 95th percentile, less the waits for a CPU" 1 \
        "$([ "$(ms 0.95 "$T_TMP/hz_server")" -lt 100 ] && echo 1 || echo 0)"
    t_check "${1%%\?*}: /healthz under 500 ms every time, less the waits for a CPU" 0 \
        "$(awk '$2 >= 0.5' "$T_TMP/hz_server" | grep -c .)"
    if [ -z "$ASAN" ]; then
        t_check "${1%%\?*}: RSS peak within 160 MiB of the start" 1 "$([ $((peak - rss0)) -lt 163840 ] && echo 1 || echo 0)"
        t_check "${1%%\?*}: memory given back: RSS within 48 MiB of the start after" 1 "$([ $((rss1 - rss0)) -lt 49152 ] && echo 1 || echo 0)"
    else # ASan's allocator, not glibc's, holds freed memory, and its shadow moves the start
        t_check "${1%%\?*}: RSS peak under 448 MiB (sanitizer build)" 1 "$([ "$peak" -lt 458752 ] && echo 1 || echo 0)"
    fi
}
ms() { sort -k2 -n "${2:-$T_TMP/hz}" | awk -v q="$1" '{a[NR] = $2} END {i = int(NR * q + 0.999); printf "%.0f", a[i < 1 ? 1 : i] * 1000}'; }
# The query threads yield to the workers: 5 nicer than them (the process's own nice value
# may be anything: ctest runs under nice -n 10)
nices() { for t in /proc/"$SERVER_PID"/task/*; do [ "$(cat "$t/comm")" = "$1" ] && awk '{print $19}' "$t/stat"; done | sort -u | tr '\n' ' '; }
hn=$(nices oncue-http)
t_check "the query threads run 5 nicer than the HTTP workers" "$(( ${hn% } + 5 > 19 ? 19 : ${hn% } + 5 )) " "$(nices oncue-query)"
load "/v1/qoe?$worst"

# PromQL: point k covers the step that ends at start + k * step, so 250 points end at $to
prom="/api/v1/query_range?query=sum%20by%20(isp,title,player_version)%20(oncue_qoe_rebuffer_ratio)&start=$((to - 249 * 60))&end=$to&step=60"
t_check "query_range: one point more is over the cost check" 422 \
    "$(status GET "${prom/start=$((to - 249 * 60))/start=$((to - 250 * 60))}" -H "Authorization: Bearer $VIEW")"
t_contains "... at qoe.query_max_cells, as an execution error" '"errorType":"execution"' "$(body)"
t_check "the worst allowed query_range answers" 200 "$(status GET "$prom" -H "Authorization: Bearer $VIEW")"
# 1000 groups x 250 points are computed; the answer leaves out the points without data (the
# simulator ran 40 minutes of the 250)
t_check "with 1000 series of at most 40 values" "1000 1" \
    "$(body | jq -r '"\(.data.result | length) \(if (.data.result | map(.values | length) | max) <= 40 then 1 else 0 end)"')"
sleep 1
load "$prom"
t_check "no sanitizer report" "" "$(grep -m1 -E 'runtime error|AddressSanitizer' "$T_TMP/server.log")"
stop_server
t_check "clean stop" 0 "$SERVER_RC"

# One query thread and room for one waiting query: of four at once, one runs, at most one
# waits and the others are refused with 503 and Retry-After (qoe.query_queue).
start_server "$D" --clock replay --modules builtin,auth,ingest,qoe \
    --set qoe.query_threads=1 --set qoe.query_queue=1 || exit 1
CURLS=""
for i in 1 2 3 4; do
    curl -s -o "$T_TMP/q$i" -D "$T_TMP/h$i" -w '%{http_code}\n' -H "Authorization: Bearer $VIEW" \
        "$BASE/v1/qoe?$worst" > "$T_TMP/s$i" &
    CURLS="$CURLS $!"
done
wait $CURLS
codes=$(cat "$T_TMP"/s? | sort | tr '\n' ' ' | sed 's/ $//')
echo "four at once: $codes"
# one runs and one waits; whether the first had left the queue when the last came decides
# whether the second is answered or refused
t_check "one or two answered, the rest refused" 1 \
    "$([ "$codes" = "200 200 503 503" ] || [ "$codes" = "200 503 503 503" ] && echo 1 || echo 0)"
i=$(grep -l 503 "$T_TMP"/s1 "$T_TMP"/s2 "$T_TMP"/s3 "$T_TMP"/s4 | head -1 | grep -o '[0-9]$')
t_contains "the refusal says why" "1 GET /v1/qoe queries are waiting already (qoe.query_queue): retry" \
    "$(cat "$T_TMP/q${i:-0}")"
t_contains "with Retry-After" "Retry-After: 1" "$(cat "$T_TMP/h${i:-0}")"
CURLS=""
for i in 1 2 3 4; do
    curl -s -o "$T_TMP/q$i" -D "$T_TMP/h$i" -w '%{http_code}\n' -H "Authorization: Bearer $VIEW" \
        "$BASE$prom" > "$T_TMP/s$i" &
    CURLS="$CURLS $!"
done
wait $CURLS
codes=$(cat "$T_TMP"/s? | sort | tr '\n' ' ' | sed 's/ $//')
echo "four query_range at once: $codes"
t_check "query_range: one or two answered, the rest refused" 1 \
    "$([ "$codes" = "200 200 503 503" ] || [ "$codes" = "200 503 503 503" ] && echo 1 || echo 0)"
i=$(grep -l 503 "$T_TMP"/s1 "$T_TMP"/s2 "$T_TMP"/s3 "$T_TMP"/s4 | head -1 | grep -o '[0-9]$')
t_contains "the refusal is Prometheus's envelope" \
    '"errorType":"unavailable","error":"1 queries are waiting for a query thread already (qoe.query_queue): retry"' \
    "$(cat "$T_TMP/q${i:-0}")"
t_contains "with Retry-After" "Retry-After: 1" "$(cat "$T_TMP/h${i:-0}")"
stop_server
t_check "clean stop" 0 "$SERVER_RC"
t_done
