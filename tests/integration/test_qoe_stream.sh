#!/usr/bin/env bash
# Long GET /v1/qoe answers are streamed (issue 26, "long answers stream"): past 256 KiB the
# answer leaves as a chunked body while it is formatted (src/qoe/qpool.c, src/http/stream.c),
# so what the request holds is the query's result and a buffer of a few hundred KiB, not the
# answer's text and JSON tree. Over simulator data, against the real server:
# - a short answer has Content-Length; a long one (the worst the default cost check allows,
#   about 4.6 MB) has Transfer-Encoding: chunked, parses, and is byte for byte the answer the
#   server builds whole (qoe.query_threads=0 answers on the worker, unstreamed); the same
#   for the worst /api/v1/query_range (831 KB);
# - HTTP/1.0 gets the same bytes as a body that ends with the connection; HEAD gets the
#   length and no body; two long answers on one keep-alive connection both arrive whole;
# - with the caps raised, a 45 MB answer parses and the server's peak RSS (VmHWM, reset
#   before it through /proc/PID/clear_refs) grows by less than 8 bytes a value (the result)
#   plus 24 MiB (the query's own work and the buffers), and less than 3/4 of the answer's
#   size; the old path held its JSON tree and text (152 bytes a value) on top;
# - a client that stops reading is dropped after http.timeout_s and the stream is gone.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest it-sim | tail -1)
VIEW=$(new_token "$D" viewer it-view | tail -1)
T0=1772479800
ASAN=""
if ldd "$ONCUE_BIN" 2>/dev/null | grep -q libasan; then
    ASAN=1 # a small quarantine that is given back, so RSS is the server's memory
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16:allocator_release_to_os_interval_ms=100
fi
BIG=(--set qoe.query_max_cells=3000000 --set qoe.query_max_answer_bytes=134217728
    --set http.request_memory_bytes=1073741824 --set http.timeout_s=2)
start_server "$D" --clock replay --modules builtin,auth,ingest,qoe "${BIG[@]}" || exit 1
"$ONCUE_BIN" sim --target "$BASE" --token "$ING" --speed 0 --batch 5000 --scenario emea-cdn \
    --viewers 3000 --start $T0 --duration 40m --seed 3 2> "$T_TMP/sim.log"
t_check "sim posted" 0 $?
# a restart closes the minutes still open, so every server below answers from the same data
stop_server
start_server "$D" --clock replay --modules builtin,auth,ingest,qoe "${BIG[@]}" || exit 1
to=$((T0 + 40 * 60))
worst="metric=rebuffer_ratio&from=$((to - 250 * 60))&to=$to&step=60&group_by=isp,title,player_version&top=1000"
small="metric=plays&from=$T0&to=$to&step=600&group_by=cdn"
# get FILE QUERY [curl args]: the answer's body into FILE, its headers into FILE.h
get() {
    local f=$1 q=$2; shift 2
    curl -s -D "$f.h" -o "$f" -H "Authorization: Bearer $VIEW" "$@" "$BASE/v1/qoe?$q" -w '%{http_code}'
}
hdr() { grep -i "^$2:" "$1.h" | tr -d '\r' | cut -d' ' -f2- | head -1; }

t_check "a short answer" 200 "$(get "$T_TMP/s" "$small")"
t_check "... with Content-Length" "$(stat -c %s "$T_TMP/s")" "$(hdr "$T_TMP/s" Content-Length)"
t_check "... not chunked" "" "$(hdr "$T_TMP/s" Transfer-Encoding)"
t_check "... parses" "plays 2" "$(jq -r '"\(.metric) \(.series | length)"' "$T_TMP/s")"

t_check "the worst default answer" 200 "$(get "$T_TMP/w" "$worst")"
t_check "... chunked" "chunked" "$(hdr "$T_TMP/w" Transfer-Encoding)"
t_check "... without Content-Length" "" "$(hdr "$T_TMP/w" Content-Length)"
t_check "... parses: 1000 groups x 250 points" "1000 250" \
    "$(jq -r '"\(.series | length) \(.series[0].points | length)"' "$T_TMP/w")"
wsize=$(stat -c %s "$T_TMP/w")
t_check "... of several MB" 1 "$([ "$wsize" -gt 2000000 ] && echo 1 || echo 0)"
t_check "... ending in a new line" "7d0a" "$(tail -c 2 "$T_TMP/w" | od -An -tx1 | tr -d ' \n')"

t_check "HTTP/1.0" 200 "$(get "$T_TMP/w10" "$worst" -0)"
t_check "... not chunked: the body ends with the connection" "close" "$(hdr "$T_TMP/w10" Connection)"
t_check "... the same bytes" 0 "$(cmp -s "$T_TMP/w" "$T_TMP/w10"; echo $?)"
t_check "HEAD" 200 "$(get "$T_TMP/hd" "$worst" -I)"
t_check "... the length, no body" "$wsize" "$(hdr "$T_TMP/hd" Content-Length)"
curl -s -o "$T_TMP/k1" -o "$T_TMP/k2" -w '%{num_connects} ' -H "Authorization: Bearer $VIEW" \
    "$BASE/v1/qoe?$worst" "$BASE/v1/qoe?$worst" > "$T_TMP/conns"
t_check "two long answers on one connection" "1 0 " "$(cat "$T_TMP/conns")"
t_check "... both whole" "0 0" "$(cmp -s "$T_TMP/w" "$T_TMP/k1"; echo -n "$? "; cmp -s "$T_TMP/w" "$T_TMP/k2"; echo $?)"

# PromQL: the worst query_range the default cost check allows (831 KB) is streamed too
prom="/api/v1/query_range?query=sum%20by%20(isp,title,player_version)%20(oncue_qoe_rebuffer_ratio)&start=$((to - 249 * 60))&end=$to&step=60"
pget() { curl -s -D "$1.h" -o "$1" -H "Authorization: Bearer $VIEW" "$BASE$2" -w '%{http_code}'; }
t_check "query_range: the worst default answer" 200 "$(pget "$T_TMP/p" "$prom")"
t_check "... chunked" "chunked" "$(hdr "$T_TMP/p" Transfer-Encoding)"
t_check "... parses: 1000 series" "success 1000" "$(jq -r '"\(.status) \(.data.result | length)"' "$T_TMP/p")"
t_check "an instant query" 200 "$(pget "$T_TMP/pi" "/api/v1/query?query=sum%20by%20(cdn)%20(oncue_qoe_plays)&time=$to")"
t_check "... with Content-Length" "$(stat -c %s "$T_TMP/pi")" "$(hdr "$T_TMP/pi" Content-Length)"

# 45 MB: 1000 groups x 2500 points (the simulator's 40 minutes and nulls before them)
big="metric=rebuffer_ratio&from=$((to - 2500 * 60))&to=$to&step=60&group_by=isp,title,player_version&top=1000"
sleep 1 # the earlier answers' memory given back
rss() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$SERVER_PID/status"; }
echo 5 > "/proc/$SERVER_PID/clear_refs" # VmHWM starts again from VmRSS
rss0=$(rss VmRSS)
t_check "a 45 MB answer" 200 "$(get "$T_TMP/b" "$big")"
peak=$(rss VmHWM)
bsize=$(stat -c %s "$T_TMP/b")
t_check "... parses: 1000 groups x 2500 points" "1000 2500" \
    "$(jq -r '"\(.series | length) \(.series[0].points | length)"' "$T_TMP/b")"
grow=$(((peak - rss0) * 1024))
values=$((1000 * 2500))
echo "answer of $bsize bytes ($values values): RSS $rss0 kB before, peak $peak kB: grew $grow bytes ($((grow * 100 / bsize))% of the answer, $((grow / values)) bytes a value)"
if [ -z "$ASAN" ]; then
    t_check "peak growth under 8 bytes a value + 24 MiB" 1 "$([ "$grow" -lt $((values * 8 + (24 << 20))) ] && echo 1 || echo 0)"
    t_check "peak growth under 3/4 of the answer" 1 "$([ "$grow" -lt $((bsize * 3 / 4)) ] && echo 1 || echo 0)"
else # ASan's shadow and redzones: twice as much
    t_check "peak growth under 16 bytes a value + 48 MiB (sanitizer build)" 1 "$([ "$grow" -lt $((values * 16 + (48 << 20))) ] && echo 1 || echo 0)"
fi

# A client that asks and never reads: dropped after http.timeout_s (2 s here) of no progress
cat > "$T_TMP/stall.py" <<'PY'
import os, socket, sys, time
host, port = sys.argv[1].split("//")[1].split(":")
s = socket.create_connection((host, int(port)))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(("GET /v1/qoe?%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % (sys.argv[3], sys.argv[2])).encode())
while not os.path.exists(sys.argv[4]):  # reads nothing until the test says so
    time.sleep(0.05)
got = b""
s.settimeout(10)
while True:
    try:
        d = s.recv(1 << 20)
    except (ConnectionResetError, socket.timeout):
        break
    if not d:
        break
    got += d
print(len(got), 1 if got.endswith(b"\r\n0\r\n\r\n") else 0)
PY
# streams() polls oncue_http_open_streams until it reads $1 (at most $2 tenths of a second)
streams() {
    local n i
    for i in $(seq 1 "$2"); do
        n=$(curl -s "$BASE/metrics" | awk '$1 == "oncue_http_open_streams" {print $2}')
        [ "$n" = "$1" ] && break
        sleep 0.1
    done
    echo "$n"
}
python3 "$T_TMP/stall.py" "$BASE" "$VIEW" "$big" "$T_TMP/go" > "$T_TMP/stall" &
P=$!
# the query runs first (seconds on a loaded sanitizer build); its stream opens once it is done
t_check "a stalled client's stream is open" 1 "$(streams 1 600)"
t_check "... closed by the server while the client reads nothing" 0 "$(streams 0 300)"
touch "$T_TMP/go"
wait $P
read -r got whole < "$T_TMP/stall"
echo "the stalled client got $got bytes of $bsize before it was dropped"
t_check "... is dropped: its answer is incomplete (no last chunk)" "0" "$whole"
t_check "... got less than the answer" 1 "$([ "$got" -lt "$bsize" ] && echo 1 || echo 0)"
t_check "... and the stream is gone" 0 "$(streams 0 1)"
t_check "/healthz answers" 200 "$(status GET /healthz)"
t_check "no sanitizer report" "" "$(grep -m1 -E 'runtime error|AddressSanitizer|LeakSanitizer' "$T_TMP/server.log")"
stop_server
t_check "clean stop" 0 "$SERVER_RC"

# The same query answered whole on the HTTP worker (no query threads: never streamed)
start_server "$D" --clock replay --modules builtin,auth,ingest,qoe --set qoe.query_threads=0 || exit 1
t_check "unstreamed: the worst default answer" 200 "$(get "$T_TMP/u" "$worst")"
t_check "... with Content-Length" "$wsize" "$(hdr "$T_TMP/u" Content-Length)"
t_check "... byte for byte the streamed one" 0 "$(cmp -s "$T_TMP/w" "$T_TMP/u"; echo $?)"
t_check "... and equal once parsed" true "$(jq -n --slurpfile a "$T_TMP/w" --slurpfile b "$T_TMP/u" '$a == $b')"
t_check "unstreamed: the worst default query_range" 200 "$(pget "$T_TMP/pu" "$prom")"
t_check "... with Content-Length" "$(stat -c %s "$T_TMP/p")" "$(hdr "$T_TMP/pu" Content-Length)"
t_check "... byte for byte the streamed one" 0 "$(cmp -s "$T_TMP/p" "$T_TMP/pu"; echo $?)"
stop_server
t_check "clean stop" 0 "$SERVER_RC"
t_done
