#!/usr/bin/env bash
# Three concurrent worst-case GET /v1/qoe queries (issue 26, finding 1): the largest the cost
# check lets through (1000 groups x 250 points = qoe.query_max_cells), over simulator data,
# three at a time, three rounds. The queries run on the query threads (qoe.query_threads), so
# /healthz answers within 100 ms meanwhile; the server's RSS stays within a stated bound of
# where it started, and falls back after the answers (malloc_trim) instead of staying at
# its peak. Prints the figures docs/internals/limits.md quotes. Past qoe.query_queue waiting
# queries the answer is 503 with Retry-After.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest it-sim | tail -1)
VIEW=$(new_token "$D" viewer it-view | tail -1)
T0=1772479800
# On the sanitizer build ASan's allocator holds freed memory in its quarantine (256 MiB by
# default) and keeps it: a smaller one that it returns makes the RSS figures the server's.
if ldd "$ONCUE_BIN" 2>/dev/null | grep -q libasan; then
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

# load.py: 3 rounds of 3 concurrent queries while /healthz is asked every 20 ms and RSS read
# every 5 ms; prints "statuses healthz_max_ms rss_start_kb rss_peak_kb rss_end_kb answer_bytes"
cat > "$T_TMP/load.py" <<'PY'
import sys, threading, time, urllib.request
base, token, query, pid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def rss():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
start, peak, done, statuses, sizes, hz = rss(), 0, threading.Event(), [], [], []
def sample():
    global peak
    while not done.is_set():
        peak = max(peak, rss()); time.sleep(0.005)
def health():
    while not done.is_set():
        t = time.monotonic()
        with urllib.request.urlopen(base + "/healthz", timeout=10) as r:
            r.read()
        hz.append((time.monotonic() - t) * 1000); time.sleep(0.02)
def one():
    req = urllib.request.Request(base + "/v1/qoe?" + query, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=120) as r:
        sizes.append(len(r.read())); statuses.append(r.status)
bg = [threading.Thread(target=sample), threading.Thread(target=health)]
for t in bg: t.start()
for _ in range(3):
    qs = [threading.Thread(target=one) for _ in range(3)]
    for t in qs: t.start()
    for t in qs: t.join()
time.sleep(0.5)
done.set()
for t in bg: t.join()
print(",".join(map(str, sorted(set(statuses)))) + "x%d" % len(statuses), "%.1f" % max(hz),
      start, max(peak, start), rss(), max(sizes))
PY
read -r st hz rss0 peak rss1 size <<<"$(python3 "$T_TMP/load.py" "$BASE" "$VIEW" "$worst" "$SERVER_PID")"
echo "9 worst-case answers of $size bytes, 3 at a time: /healthz at most $hz ms; RSS $rss0 kB before, peak $peak kB, $rss1 kB after"
t_check "nine answers, all 200" "200x9" "$st"
t_check "/healthz within 100 ms throughout" 1 "$(awk -v t="$hz" 'BEGIN {print (t < 100)}')"
t_check "RSS peak within 160 MiB of the start" 1 "$([ $((peak - rss0)) -lt 163840 ] && echo 1 || echo 0)"
t_check "memory given back: RSS within 48 MiB of the start after" 1 "$([ $((rss1 - rss0)) -lt 49152 ] && echo 1 || echo 0)"
t_check "no sanitizer report" "" "$(grep -m1 -E 'runtime error|AddressSanitizer' "$T_TMP/server.log")"
stop_server
t_check "clean stop" 0 "$SERVER_RC"

# One query thread and room for one waiting query: of four at once, one runs, one waits and
# two are refused with 503 and Retry-After (qoe.query_queue).
start_server "$D" --clock replay --modules builtin,auth,ingest,qoe \
    --set qoe.query_threads=1 --set qoe.query_queue=1 || exit 1
CURLS=""
for i in 1 2 3 4; do
    curl -s -o "$T_TMP/q$i" -D "$T_TMP/h$i" -w '%{http_code}\n' -H "Authorization: Bearer $VIEW" \
        "$BASE/v1/qoe?$worst" > "$T_TMP/s$i" &
    CURLS="$CURLS $!"
done
wait $CURLS
t_check "two answered, two refused" "200 200 503 503" "$(cat "$T_TMP"/s? | sort | tr '\n' ' ' | sed 's/ $//')"
i=$(grep -l 503 "$T_TMP"/s1 "$T_TMP"/s2 "$T_TMP"/s3 "$T_TMP"/s4 | head -1 | grep -o '[0-9]$')
t_contains "the refusal says why" "1 GET /v1/qoe queries are waiting already (qoe.query_queue): retry" \
    "$(cat "$T_TMP/q${i:-0}")"
t_contains "with Retry-After" "Retry-After: 1" "$(cat "$T_TMP/h${i:-0}")"
stop_server
t_check "clean stop" 0 "$SERVER_RC"
t_done
