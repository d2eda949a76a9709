#!/usr/bin/env bash
# The whole scaled deployment, end to end (docs/deploy.md, docs/internals/scale.md, lease.md).
#
# Two real clickhouse-servers are two shards (HTTP / native ports CH_PORT_BASE + 0 to 3,
# default 18650 to 18653); one PostgreSQL (PG_PORT, default 18654) holds the control plane's
# state and lease. Three collectors (`oncue serve --modules ingest`) ship to the shards; two
# control-plane replicas (store.backend postgres, lease.postgres, lease.ttl_s 6) fill their
# cubes from ClickHouse (qoe.clickhouse_pull) and run alert, incident and rca; a PagerDuty
# receiver (python3) counts pages. `oncue sim --scenario emea-cdn` is split by session over
# the collectors, as a load balancer hashing on the session would, and the same events go to
# one embedded server (the default: every module, SQLite). Midway a collector is killed with
# SIGKILL and restarted (its ingest log replays); once the incident is paged, the replica
# holding the lease is killed with SIGKILL. Then:
#   - ClickHouse holds exactly the acknowledged starts, every closed minute once;
#   - the survivor takes the lease within 1.33 x ttl (plus a second of polling);
#   - there is exactly one incident, paged exactly once (one PagerDuty trigger), with the
#     severity, service, team and cause slice the embedded server found on the same events;
#   - the survivor's own alert evaluation saw the page still firing and joined that incident.
# Skipped (77) without clickhouse-server or PostgreSQL.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/clickhouse_lib.sh"
. "$(dirname "$0")/postgres_lib.sh"
ch_need
pg_need
P=${CH_PORT_BASE:-18650}
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; ch_stop; pg_stop; t_cleanup' EXIT
t_start=$(date +%s)

CH_EXTRA="<remote_servers><oncue_e2e>
  <shard><replica><host>127.0.0.1</host><port>$((P + 1))</port></replica></shard>
  <shard><replica><host>127.0.0.1</host><port>$((P + 3))</port></replica></shard>
</oncue_e2e></remote_servers>"
ch_start "$((P + 2))" "$((P + 3))" || exit 1
SHARD1=$CH_URL
ch_start "$P" "$((P + 1))" || exit 1
SHARD0=$CH_URL
pg_start "${PG_PORT:-18654}" || exit 1
echo "two clickhouse-servers and PostgreSQL $(pg_sql 'SHOW server_version') ready"

# the PagerDuty receiver: one line per event, "ACTION DEDUP_KEY SEVERITY COMPONENT GROUP"
cat > "$T_TMP/pd.py" <<'PY'
import http.server, json, sys
port, log = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        p = body.get("payload", {})
        with open(log, "a") as f:
            f.write("%s %s %s %s %s\n" % (body.get("event_action"), body.get("dedup_key"),
                    p.get("severity", "-"), p.get("component", "-") or "-", p.get("group", "-") or "-"))
        self.send_response(202); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", port), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
: > "$T_TMP/pd.log"
python3 "$T_TMP/pd.py" 0 "$T_TMP/pd.log" > "$T_TMP/pd.port" &
PIDS+=($!)
for _ in $(seq 1 50); do [ -s "$T_TMP/pd.port" ] && break; sleep 0.1; done
PD=http://127.0.0.1:$(cat "$T_TMP/pd.port")
cat > "$T_TMP/hooks.yaml" <<EOF
- name: pager
  kind: pagerduty
  url: $PD/v2/enqueue
  secret: R0UTINGKEY0123456789abcdef012345
EOF
HOOKS=(--set incident.outbound_allow=127.0.0.1 --set "incident.webhooks_file=$T_TMP/hooks.yaml")

held() { curl -s -m 5 "$1/metrics" | awk '/^oncue_lease_held\{/{printf "%d", $2}'; }

# the embedded default: every module, SQLite, the same events
INGE=$(new_token "$T_TMP/e" ingest it-ingest | tail -1)
VIEWE=$(new_token "$T_TMP/e" viewer it-view | tail -1)
serve_node E "$T_TMP/e" --clock replay || exit 1

# three collectors: collector 2 shares shard 0
CH_ARGS=(--set qoe.clickhouse_table=e2e_minutes --set qoe.clickhouse_cluster=oncue_e2e)
COLLECT=(--modules ingest --clock replay "${CH_ARGS[@]}" --set qoe.clickhouse_ship=true)
SHARD_OF=("$SHARD0" "$SHARD1" "$SHARD0")
for n in 0 1 2; do
    eval "ING$n=\$(new_token \"\$T_TMP/c$n\" ingest it-ingest | tail -1)"
    serve_node "C$n" "$T_TMP/c$n" "${COLLECT[@]}" --set "qoe.clickhouse_url=${SHARD_OF[$n]}" || exit 1
done

# two control-plane replicas on one PostgreSQL database, one lease, the same key file
PG=$PG_CONNINFO
VIEWR=$("$ONCUE_BIN" token create --data "$T_TMP/r0" --postgres "$PG" --role viewer --name it-view \
    2>/dev/null | tail -1)
mkdir -p "$T_TMP/r1"
cp "$T_TMP/r0/oncue.key" "$T_TMP/r1/oncue.key"
REPLICA=(--clock replay --modules auth,catalog,steer,qoe,slo,alert,incident,rca
    --set store.backend=postgres --set "store.postgres=$PG" --set "lease.postgres=$PG"
    --set lease.ttl_s=6 "${CH_ARGS[@]}" --set "qoe.clickhouse_url=$SHARD0"
    --set qoe.clickhouse_query=true --set qoe.clickhouse_pull=true "${HOOKS[@]}")
serve_node R0 "$T_TMP/r0" "${REPLICA[@]}" || exit 1
for _ in $(seq 1 50); do [ "$(held "$R0_URL")" = 1 ] && break; sleep 0.1; done
serve_node R1 "$T_TMP/r1" "${REPLICA[@]}" || exit 1
t_check "replica 0 holds the lease" 1 "$(held "$R0_URL")"

# the events: emea-cdn, 30 minutes from 19:30, 3,000 viewers, in chunks of 5,000 lines; chunk K
# of collector N holds the lines of chunk K whose session hashes to N (its first hex digit)
T0=1772479800
"$ONCUE_BIN" sim --stdout --scenario emea-cdn --viewers 3000 --start $T0 --duration 30m --seed 3 \
    > "$T_TMP/sim.ndjson" 2> "$T_TMP/sim.log"
t_check "sim --stdout exits 0" 0 $?
mkdir -p "$T_TMP/chunks"
awk -v dir="$T_TMP/chunks" '{
    k = int((NR - 1) / 5000);
    match($0, /"session":"[0-9a-f]/);
    n = (index("0123456789abcdef", substr($0, RSTART + 11, 1)) - 1) % 3;
    print > (dir "/all." k);
    print > (dir "/c" n "." k);
}' "$T_TMP/sim.ndjson"
NCHUNK=$(ls "$T_TMP/chunks" | grep -c '^all\.')
echo "$(wc -l < "$T_TMP/sim.ndjson") events in $NCHUNK chunks"

post() { # post URL TOKEN FILE: prints the accepted count (empty when the post failed)
    curl -s -m 30 -X POST "$1/v1/events" -H "Authorization: Bearer $2" --data-binary @"$3" |
        jq -r '.accepted // empty'
}
acked_starts=0
bad_posts=0
feed() { # feed FROM TO: chunks [FROM, TO) to the embedded server and to the collectors
    local k n f a posts
    for k in $(seq "$1" $(($2 - 1))); do
        # the four posts of a chunk at once (the servers' pids are not waited for)
        post "$E_URL" "$INGE" "$T_TMP/chunks/all.$k" > /dev/null &
        posts=($!)
        for n in 0 1 2; do
            f=$T_TMP/chunks/c$n.$k
            : > "$T_TMP/acked.$n"
            [ -s "$f" ] || continue
            url_var="C${n}_URL" tok_var="ING$n"
            post "${!url_var}" "${!tok_var}" "$f" > "$T_TMP/acked.$n" &
            posts+=($!)
        done
        wait "${posts[@]}"
        for n in 0 1 2; do
            f=$T_TMP/chunks/c$n.$k
            [ -s "$f" ] || continue
            a=$(cat "$T_TMP/acked.$n")
            if [ "$a" = "$(wc -l < "$f")" ]; then
                acked_starts=$((acked_starts + $(grep -c '"type":"start"' "$f")))
            else
                bad_posts=$((bad_posts + 1))
                echo "chunk $k collector $n: accepted [$a] of $(wc -l < "$f")"
            fi
        done
        if [ "$k" -eq 40 ]; then # mid-stream: kill -9 collector 1, restart it on its data
            kill -9 "$C1_PID"
            wait "$C1_PID" 2>/dev/null
            serve_node C1 "$T_TMP/c1" "${COLLECT[@]}" --set "qoe.clickhouse_url=$SHARD1" || return 1
        fi
    done
}
t_feed=$(date +%s.%N)
KILL_AT=$((NCHUNK * 3 / 4))
feed 0 "$KILL_AT" || exit 1
t_contains "the killed collector replayed its log" "ingest: replayed" "$(cat "$T_TMP/C1.log")"

incidents() { # incidents URL TOKEN: the incidents' ids
    curl -s -m 5 -H "Authorization: Bearer $2" "$1/v1/incidents" | jq -r '.incidents[]? | "INC-\(.id)"' |
        sort -V | tr '\n' ' ' | xargs
}
shape() { # shape URL TOKEN ID: severity, service, team and the cause slices
    curl -s -m 5 -H "Authorization: Bearer $2" "$1/v1/incidents/$3" |
        jq -c '[.severity, .service, .team, (.causes | map(.element) | sort)]'
}
firing() { # firing URL: the page-level alerts firing on a replica
    curl -s -m 5 "$1/metrics" | awk '/^oncue_alerts_firing\{level="page"/{s += $2} END {printf "%d", s}'
}
for _ in $(seq 1 2400); do # the replicas fill their cubes as the collectors close minutes
    [ "$(pg_sql "SELECT count(*) FROM incidents")" -ge 1 ] && grep -q '^trigger ' "$T_TMP/pd.log" &&
        break
    sleep 0.1
done
# the holder now (on a loaded machine a renewal may have come late and the lease moved)
H=R0 O=R1
[ "$(held "$R1_URL")" = 1 ] && H=R1 O=R0
HURL=${H}_URL HPID=${H}_PID OURL=${O}_URL
t_check "the lease holder opened an incident" "INC-1" "$(incidents "${!HURL}" "$VIEWR")"
t_check "... and paged it" 1 "$(grep -c '^trigger ' "$T_TMP/pd.log")"
echo "the holder ($H)'s incident: $(shape "${!HURL}" "$VIEWR" INC-1)"
t_check "the other replica never held the lease" 0 "$(grep -c 'held by this replica' "$T_TMP/$O.log")"
t_check "... and evaluates nothing: no page firing" 0 "$(firing "${!OURL}")"

# kill -9 the replica holding the lease while the fault is still on
kill -9 "${!HPID}"
wait "${!HPID}" 2>/dev/null
s=$(date +%s%N)
for _ in $(seq 1 150); do [ "$(held "${!OURL}")" = 1 ] && break; sleep 0.1; done
ms=$((($(date +%s%N) - s) / 1000000))
echo "the survivor took the lease $ms ms after the holder was killed (ttl 6 s)"
t_check "the survivor takes the lease" 1 "$(held "${!OURL}")"
t_check "... within 1.33 x ttl plus a second of polling" 1 "$((ms <= 9000))"
S_URL=${!OURL}

feed "$KILL_AT" "$NCHUNK" || exit 1
t_feed=$(echo "$(date +%s.%N) - $t_feed" | bc)
t_check "every post to a collector was acknowledged in full" 0 "$bad_posts"

# the embedded server's incident, before the late heartbeat below moves its clock on
for _ in $(seq 1 100); do
    [ -n "$(incidents "$E_URL" "$VIEWE")" ] && break
    sleep 0.1
done
want=$(shape "$E_URL" "$VIEWE" INC-1)
echo "the embedded server's incident: $want"
t_check "the embedded server opened one incident" "INC-1" "$(incidents "$E_URL" "$VIEWE")"

# a heartbeat twenty minutes on closes every minute of the data on every collector
late=$(((T0 + 3000) * 1000))
echo "{\"ts\":$late,\"type\":\"heartbeat\",\"session\":\"late\",\"playing_ms\":1000}" > "$T_TMP/late"
for pair in "$E_URL $INGE" "$C0_URL $ING0" "$C1_URL $ING1" "$C2_URL $ING2"; do
    set -- $pair
    post "$1" "$2" "$T_TMP/late" > /dev/null
done
end=$((T0 + 1800))
shipped_upto() {
    curl -s "$1/metrics" | awk '/^oncue_qoe_clickhouse_shipped_upto_seconds /{printf "%d", $2}'
}
for n in 0 1 2; do
    url_var="C${n}_URL"
    for _ in $(seq 1 300); do
        [ "$(shipped_upto "${!url_var}")" -ge "$end" ] 2>/dev/null && break
        sleep 0.1
    done
    t_check "collector $n shipped every minute of the data" 1 \
        "$(($(shipped_upto "${!url_var}") >= end))"
done
pulled_upto() {
    curl -s "$1/metrics" | awk '/^oncue_qoe_clickhouse_pulled_upto_seconds /{printf "%d", $2}'
}
for _ in $(seq 1 300); do
    [ "$(pulled_upto "$S_URL")" -ge "$end" ] 2>/dev/null && break
    sleep 0.1
done
t_check "the survivor's cube holds every minute of the data" 1 "$(($(pulled_upto "$S_URL") >= end))"
sleep 3 # three ticks of the survivor's alert evaluation and incident tick

range="t >= toDateTime($T0) AND t < toDateTime($end)"
newest="(batch, ver) GLOBAL IN (SELECT batch, max(ver) FROM e2e_minutes WHERE $range GROUP BY batch)"
final=18446744073709551615
echo "starts acknowledged by the collectors: $acked_starts"
t_check "ClickHouse holds exactly the acknowledged starts" "$acked_starts" \
    "$(ch_sql "SELECT sum(starts) FROM e2e_minutes FINAL WHERE $range AND $newest")"
t_check "... also without FINAL: no closed minute inserted twice" "$acked_starts" \
    "$(ch_sql "SELECT sum(starts) FROM e2e_minutes WHERE $range AND ver = $final")"
t_check "... which are all the simulated starts" "$(grep -c '"type":"start"' "$T_TMP/sim.ndjson")" \
    "$acked_starts"
t_check "one closed batch per collector and minute" 90 \
    "$(ch_sql "SELECT uniqExact(batch) FROM e2e_minutes WHERE $range AND ver = $final")"
t_check "the survivor counts the same starts from its own cube" "$acked_starts" \
    "$(curl -s -H "Authorization: Bearer $VIEWR" \
        "$S_URL/v1/qoe?metric=plays&from=$T0&to=$end&step=1800" | jq '.series[0].points[0][1]')"

# the replicas' incidents: one, in PostgreSQL
t_check "one incident in PostgreSQL" 1 "$(pg_sql "SELECT count(*) FROM incidents")"
t_check "... the survivor lists that one" "INC-1" "$(incidents "$S_URL" "$VIEWR")"
t_check "... with the embedded server's severity, service, team and cause" "$want" \
    "$(shape "$S_URL" "$VIEWR" INC-1)"
t_check "the replicas' cubes (caches of ClickHouse) wrote nothing to PostgreSQL" "0 0" \
    "$(pg_sql "SELECT count(*) FROM qoe_values") $(pg_sql "SELECT count(*) FROM qoe_minutes")"
t_check "the survivor answers INC-1 as PostgreSQL holds it (read back before each use)" \
    "$(pg_sql "SELECT state || ' SEV' || severity FROM incidents WHERE id = 1")" \
    "$(curl -s -H "Authorization: Bearer $VIEWR" "$S_URL/v1/incidents/INC-1" | jq -r '"\(.state) \(.severity)"')"
t_check "every notification queued was sent once: one attempt per outbox row" \
    "$(pg_sql "SELECT count(*) FROM incident_outbox WHERE state = 'delivered'")" \
    "$(pg_sql "SELECT count(*) FROM incident_attempts")"
t_check "... and none is left pending" 0 \
    "$(pg_sql "SELECT count(*) FROM incident_outbox WHERE state <> 'delivered'")"
t_check "one page: one PagerDuty trigger" 1 "$(grep -c '^trigger ' "$T_TMP/pd.log")"
t_check "... for INC-1" "oncue/INC-1" "$(awk '$1 == "trigger" {print $2}' "$T_TMP/pd.log")"
t_check "no dedup key was triggered twice" "" \
    "$(awk '$1 == "trigger" {print $2}' "$T_TMP/pd.log" | sort | uniq -d)"
fired=$(firing "$S_URL")
echo "page alerts firing on the survivor: $fired"
t_check "the survivor's own evaluation fires the page (it joined INC-1)" 1 "$((fired >= 1))"

echo "fed $(wc -l < "$T_TMP/sim.ndjson") events twice (collectors and embedded) in $t_feed s; \
whole test $(($(date +%s) - t_start)) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$T_FAIL" -eq 0 ] || tail -n 8 "$T_TMP"/*.log
t_done
