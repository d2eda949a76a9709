#!/usr/bin/env python3
"""clickhouse_fresh.py - beacon-to-queryable through collectors into ClickHouse.

Run by bench/clickhouse.sh:
  clickhouse_fresh.py "URL1 URL2 URL3" "TOKEN1 TOKEN2 TOKEN3" QUERY_URL QUERY_TOKEN \
                      LEAVES EPS SECONDS SAMPLES "COLLECTOR_PIDS" "CLICKHOUSE_PIDS" QUIET_S

A thread posts EPS heartbeats a second (ten bodies a second, event time = now) over LEAVES
sessions, session j to collector j % N, as a load balancer hashing on the session would. Meanwhile
SAMPLES single starts (region "probe"), each posted to the next collector at a random moment,
are timed from the post until GET /v1/qoe on the query node (answering from ClickHouse) counts
them. The load goes on for at least SECONDS. Prints the events/s acknowledged and the p50, p95
and max beacon-to-queryable. Before the first start, QUIET_S seconds of load alone (no queries)
measure the CPU the collectors spend per event and ClickHouse per row inserted.
"""
import http.client
import json
import os
import random
import sys
import threading
import time
import urllib.parse


def conn(url):
    return http.client.HTTPConnection(urllib.parse.urlparse(url).netloc, timeout=60)


def cpu(pids):  # user + system CPU seconds the processes used so far
    t = 0.0
    for p in pids:
        with open("/proc/%s/stat" % p) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        t += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return t


def rows(urls):  # rows the collectors inserted so far (closed and partial)
    n = 0
    for u in urls:
        c = conn(u)
        c.request("GET", "/metrics")
        for line in c.getresponse().read().decode().splitlines():
            if line.startswith(("oncue_qoe_clickhouse_rows_total ",
                                "oncue_qoe_clickhouse_partial_rows_total ")):
                n += int(float(line.split()[1]))
    return n


def main():
    urls, toks = sys.argv[1].split(), sys.argv[2].split()
    q, qtok = sys.argv[3], sys.argv[4]
    leaves, eps, secs, samples = (int(x) for x in sys.argv[5:9])
    cpids, hpids, quiet = sys.argv[9].split(), sys.argv[10].split(), int(sys.argv[11])
    state = {"stop": False, "sent": 0, "failed": 0}

    def load():
        cs = [conn(u) for u in urls]
        per, j, nxt = max(1, eps // 10), 0, time.time()
        while not state["stop"]:
            now = int(time.time() * 1000)
            bodies = [[] for _ in urls]
            for _ in range(per):
                k = j % leaves
                bodies[k % len(urls)].append(
                    '{"ts":%d,"type":"heartbeat","session":"s%d","playing_ms":10000,'
                    '"rebuffer_ms":%d,"bitrate_kbps":%d,"region":"r%d","country":"c%d",'
                    '"cdn":"cdn%d","pop":"p%d","device":"d%d","title":"t%d"}'
                    % (now, k, k % 7 * 100, 1000 + k % 11 * 300, k % 5, k % 40, k % 3, k % 97,
                       k % 6, k // 6))
                j += 1
            for i, b in enumerate(bodies):
                cs[i].request("POST", "/v1/events", "\n".join(b),
                              {"Authorization": "Bearer " + toks[i]})
                r = cs[i].getresponse()
                r.read()
                if r.status == 200:
                    state["sent"] += len(b)
                else:
                    state["failed"] += len(b)
            nxt += 0.1
            time.sleep(max(0.0, nxt - time.time()))

    th = threading.Thread(target=load)
    t_start = time.time()
    th.start()
    time.sleep(5)
    s0, r0, c0, h0, w0 = state["sent"], rows(urls), cpu(cpids), cpu(hpids), time.time()
    time.sleep(quiet)
    s1, r1, c1, h1, w1 = state["sent"], rows(urls), cpu(cpids), cpu(hpids), time.time()
    print("load alone for %.1f s: %d events acknowledged, %d rows inserted (%.0f rows/s); "
          "collectors %.2f CPU s (%.0f events per CPU second), clickhouse-servers %.2f CPU s "
          "(%.0f rows per CPU second, merges included)"
          % (w1 - w0, s1 - s0, r1 - r0, (r1 - r0) / (w1 - w0), c1 - c0, (s1 - s0) / max(c1 - c0, 0.01),
             h1 - h0, (r1 - r0) / max(h1 - h0, 0.01)))
    sys.stdout.flush()
    qc = conn(q)
    lo = int(t_start) // 60 * 60

    def plays():
        hi = (int(time.time()) // 60 + 2) * 60
        qc.request("GET", "/v1/qoe?metric=plays&filter=region:probe&from=%d&to=%d&step=%d"
                   % (lo, hi, hi - lo), headers={"Authorization": "Bearer " + qtok})
        r = qc.getresponse()
        body = r.read()
        if r.status != 200:
            raise SystemExit("GET /v1/qoe: %d %s" % (r.status, body[:300]))
        d = json.loads(body)
        return sum(p[1] or 0 for s in d.get("series", []) for p in s["points"])

    cs = [conn(u) for u in urls]
    lat = []
    while len(lat) < samples:
        time.sleep(random.uniform(0, 3))  # not in step with the shippers' passes
        n = len(lat)
        i = n % len(urls)
        t0 = time.time()
        body = ('{"ts":%d,"type":"start","session":"probe%d","outcome":"success",'
                '"startup_ms":800,"region":"probe"}' % (t0 * 1000, n))
        cs[i].request("POST", "/v1/events", body, {"Authorization": "Bearer " + toks[i]})
        cs[i].getresponse().read()
        while plays() < n + 1:
            if time.time() - t0 > 60:
                raise SystemExit("probe %d not queryable after 60 s" % n)
            time.sleep(0.05)
        lat.append(time.time() - t0)
    while time.time() - t_start < secs:
        time.sleep(0.5)
    state["stop"] = True
    th.join()
    el = time.time() - t_start
    lat.sort()

    def pct(p):  # nearest rank
        return lat[min(len(lat) - 1, max(0, -(-int(p * 100) * len(lat) // 100) - 1))]

    print("%d collectors: %d heartbeats acknowledged in %.1f s (%.0f events/s), %d refused"
          % (len(urls), state["sent"], el, state["sent"] / el, state["failed"]))
    print("beacon-to-queryable over %d starts: p50 %.2f s, p95 %.2f s, max %.2f s"
          % (len(lat), pct(0.50), pct(0.95), lat[-1]))


if __name__ == "__main__":
    main()
