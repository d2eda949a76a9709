#!/usr/bin/env bash
# Shedding by queueing delay (ingest.shed_target_ms, ingest.shed_interval_ms): a server with one
# HTTP worker, posted to by `oncue bench ingest` over 128 connections with 500 events a body
# (far more than one worker serves within 20 ms on any machine), answers part of POST /v1/events with 503, Retry-After: 1 and a detail
# naming the setting, counts each in oncue_ingest_shed_total, and meanwhile answers every
# /healthz and /metrics with 200. At light load (one client posting one body after another),
# before and after the flood, nothing is shed. With ingest.shed_target_ms=0 the same flood is
# never shed. Asserts behaviour, not timings: how long requests waited depends on the machine.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest shed-ingest | tail -1)

# sample.py BASE TOKEN SECONDS: for SECONDS, two threads post one small body after another
# (each over its own kept-alive connection) and a third asks /healthz and /metrics in turn.
# Prints one line per answer: "post STATUS RETRY_AFTER DETAIL" or "get PATH STATUS".
cat > "$T_TMP/sample.py" <<'PY'
import http.client, json, sys, threading, time
base, token, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
host, port = base.split("//")[1].split(":")
end, lines, lock = time.time() + secs, [], threading.Lock()
def conn():
    return http.client.HTTPConnection(host, int(port), timeout=30)
def poster(k):
    c, i = conn(), 0
    while time.time() < end:
        body = json.dumps({"ts": int(time.time() * 1000), "type": "heartbeat",
                           "session": "shed-%d-%d" % (k, i), "playing_ms": 1000,
                           "rebuffer_ms": 0})
        c.request("POST", "/v1/events", body, {"Authorization": "Bearer " + token,
                                               "Content-Type": "application/x-ndjson"})
        r = c.getresponse()
        data = r.read()
        detail = json.loads(data).get("detail", "-").replace(" ", "~") if r.status != 200 else "-"
        with lock:
            lines.append("post %d %s %s" % (r.status, r.getheader("Retry-After") or "-", detail))
        i += 1
def getter():
    c = conn()
    while time.time() < end:
        for path in ("/healthz", "/metrics"):
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            with lock:
                lines.append("get %s %d" % (path, r.status))
        time.sleep(0.01)
ts = [threading.Thread(target=poster, args=(k,)) for k in (1, 2)]
ts.append(threading.Thread(target=getter))
for t in ts: t.start()
for t in ts: t.join()
print("\n".join(lines))
PY

# light N: N bodies posted one after another over one connection; prints their statuses
light() {
    python3 - "$BASE" "$ING" "$1" <<'PY'
import http.client, json, sys, time
base, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
host, port = base.split("//")[1].split(":")
c, codes = http.client.HTTPConnection(host, int(port), timeout=30), {}
for i in range(n):
    body = json.dumps({"ts": int(time.time() * 1000), "type": "heartbeat",
                       "session": "light-%d" % i, "playing_ms": 1000, "rebuffer_ms": 0})
    c.request("POST", "/v1/events", body, {"Authorization": "Bearer " + token})
    r = c.getresponse()
    r.read()
    codes[r.status] = codes.get(r.status, 0) + 1
    time.sleep(0.005)
print(" ".join("%dx%d" % (k, v) for k, v in sorted(codes.items())))
PY
}
metric() { curl -s "$BASE/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
# flood SECONDS: the bench over 128 connections; its figures into $T_TMP/bench
flood() {
    "$ONCUE_BIN" bench ingest --target "$BASE" --token "$ING" --duration "$1" \
        --connections 128 --batch 500 > "$T_TMP/bench" 2>&1
}
bench_count() { awk -v k="$1" '/^answers_200/ {for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}' "$T_TMP/bench"; }

start_server "$D" --modules builtin,auth,qoe,ingest --set http.workers=1 || exit 1
t_check "light load before: every body accepted" "200x40" "$(light 40)"
t_check "nothing shed" 0 "$(metric oncue_ingest_shed_total)"

python3 "$T_TMP/sample.py" "$BASE" "$ING" 6 > "$T_TMP/samples" &
S=$!
flood 6
wait "$S"
grep -m3 -E '^(answers|latency_[25])' "$T_TMP/bench"
shed=$(bench_count answers_503)
echo "the flood: $(bench_count answers_200) answered 200, $shed 503; the sampler: $(grep -c '^post 200' "$T_TMP/samples") 200, $(grep -c '^post 503' "$T_TMP/samples") 503"
t_check "flood: bodies shed with 503" 1 "$([ "${shed:-0}" -gt 0 ] && echo 1 || echo 0)"
t_check "flood: and bodies still accepted" 1 "$([ "$(bench_count answers_200)" -gt 0 ] && echo 1 || echo 0)"
t_check "flood: no other answer" 0 "$(bench_count other)"
t_check "sampler: some of its bodies shed too" 1 "$([ "$(grep -c '^post 503' "$T_TMP/samples")" -gt 0 ] && echo 1 || echo 0)"
t_check "every 503 with Retry-After: 1" "" "$(awk '$1 == "post" && $2 == 503 && $3 != 1' "$T_TMP/samples" | head -1)"
t_contains "the detail names the setting" "(ingest.shed_target_ms)" \
    "$(awk '$1 == "post" && $2 == 503 {print $4; exit}' "$T_TMP/samples" | tr '~' ' ')"
t_check "sampler: only 200 and 503 for bodies" "" "$(awk '$1 == "post" && $2 != 200 && $2 != 503' "$T_TMP/samples" | head -1)"
t_check "/healthz asked during the flood" 1 "$([ "$(grep -c '^get /healthz' "$T_TMP/samples")" -gt 0 ] && echo 1 || echo 0)"
t_check "/healthz and /metrics never shed: all 200" "" "$(awk '$1 == "get" && $3 != 200' "$T_TMP/samples" | head -1)"
t_check "every shed body counted once" "$((shed + $(grep -c '^post 503' "$T_TMP/samples")))" \
    "$(metric oncue_ingest_shed_total)"
t_check "none counted as behind" 0 "$(metric oncue_ingest_overloaded_total)"
sleep 1
t_check "light load after: every body accepted" "200x40" "$(light 40)"
stop_server
t_check "clean stop" 0 "$SERVER_RC"

start_server "$D" --modules builtin,auth,qoe,ingest --set http.workers=1 \
    --set ingest.shed_target_ms=0 || exit 1
flood 3
t_check "ingest.shed_target_ms=0: the same flood, nothing shed" "0 0" \
    "$(bench_count answers_503) $(metric oncue_ingest_shed_total)"
t_check "... every body accepted" 1 "$([ "$(bench_count answers_200)" -gt 0 ] && echo 1 || echo 0)"
stop_server
t_check "clean stop" 0 "$SERVER_RC"
t_done
