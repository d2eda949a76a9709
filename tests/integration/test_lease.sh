#!/usr/bin/env bash
# Two control-plane replicas, one lease (docs/internals/lease.md).
#
# A throwaway PostgreSQL (started here, 127.0.0.1, port PG_PORT, default 18850) holds the
# lease row. Two replicas (`oncue serve` with alert and incident, replay clock, lease.ttl_s 3)
# take the same beacons of `oncue sim emea-cdn`: only the holder evaluates alerts and runs the
# incident tick, so only it fires the EMEA page and opens an incident; the other pages
# nobody. The holder is killed with SIGKILL: the other takes the lease within 1.33 x ttl (plus
# a second of polling) and its alert evaluation runs. A replica stopped gracefully gives the
# lease up at once; a holder that loses PostgreSQL stops running the timers within the ttl.
# Skipped (77) without PostgreSQL.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postgres_lib.sh"
pg_need
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; pg_stop; t_cleanup' EXIT

PORT=${PG_PORT:-18850}
t0=$(date +%s.%N)
pg_start "$PORT" || exit 1
echo "PostgreSQL $(pg_sql 'SHOW server_version') ready in $(echo "$(date +%s.%N) - $t0" | bc) s"

t_contains "a lease name that is not a name stops the start" "lease.name: letters, digits" \
    "$("$ONCUE_BIN" serve --data "$T_TMP/bad" --listen 127.0.0.1:0 --modules alert \
        --set "lease.postgres=$PG_CONNINFO" --set 'lease.name=a b' 2>&1)"

held() { # held URL: the replica's oncue_lease_held
    curl -s -m 5 "$1/metrics" | awk '/^oncue_lease_held\{/{printf "%d", $2}'
}
wait_held() { # wait_held URL WANT SECONDS: polls every 0.1 s; prints the ms it took
    local s e
    s=$(date +%s%N)
    for _ in $(seq 1 $(($3 * 10))); do
        [ "$(held "$1")" = "$2" ] && break
        sleep 0.1
    done
    e=$(date +%s%N)
    echo $(((e - s) / 1000000))
}
pages() { # pages URL TOKEN: the EMEA page among the replica's recent alerts (0 or 1)
    curl -s -m 5 -H "Authorization: Bearer $2" "$1/v1/alerts" |
        jq '[.recent[]? | select(.alert_id == "stalled-viewers-region-cdn-page/region=EMEA,cdn=primary")] | length'
}
incidents() { # incidents URL TOKEN: how many incidents the replica opened
    curl -s -m 5 -H "Authorization: Bearer $2" "$1/v1/incidents" | jq '.incidents | length'
}

REPLICA=(--clock replay --modules ingest,qoe,slo,alert,incident --set "lease.postgres=$PG_CONNINFO"
    --set lease.ttl_s=3)
for n in A B; do
    eval "ING$n=\$(new_token \"\$T_TMP/$n\" ingest it-sim | tail -1)"
    eval "VIEW$n=\$(new_token \"\$T_TMP/$n\" viewer it-view | tail -1)"
done
serve_node A "$T_TMP/A" "${REPLICA[@]}" || exit 1
ms=$(wait_held "$A_URL" 1 10)
t_check "the first replica takes the lease" 1 "$(held "$A_URL")"
echo "  in $ms ms"
serve_node B "$T_TMP/B" "${REPLICA[@]}" || exit 1
sleep 2 # two renewals of B's
t_check "the second does not" 0 "$(held "$B_URL")"
t_check "... one row, held by A" 1 "$(pg_sql "SELECT count(*) FROM oncue_leases WHERE name = 'oncue'")"
t_contains "B logged it renews" "lease oncue: renewing every 1000 ms" "$(cat "$T_TMP/B.log")"

# the same beacons to both, as two replicas reading the same data would see them
T0=1772479800 # 2026-03-02 19:30 UTC, emea-cdn's begin
for n in A B; do
    url_var="${n}_URL" tok_var="ING$n"
    "$ONCUE_BIN" sim --target "${!url_var}" --token "${!tok_var}" --speed 0 --batch 5000 \
        --scenario emea-cdn --viewers 3000 --start $T0 --duration 30m --seed 3 2> "$T_TMP/sim$n.log"
    t_check "sim into $n exits 0" 0 $?
done
for _ in $(seq 1 100); do
    [ "$(pages "$A_URL" "$VIEWA")" = 1 ] && break
    sleep 0.1
done
sleep 2 # two more ticks of B's timers, were they to run
t_check "the holder fired the EMEA page" 1 "$(pages "$A_URL" "$VIEWA")"
t_check "... and opened an incident" 1 "$(($(incidents "$A_URL" "$VIEWA") >= 1))"
t_check "the other replica fired nothing" 0 "$(pages "$B_URL" "$VIEWB")"
t_check "... and paged nobody: no incident" 0 "$(incidents "$B_URL" "$VIEWB")"

# kill -9 the holder: B takes over once the row expires
kill -9 "$A_PID"
ms=$(wait_held "$B_URL" 1 10)
echo "the survivor took the lease $ms ms after the holder was killed (ttl 3 s)"
t_check "the survivor takes the lease" 1 "$(held "$B_URL")"
t_check "... within 1.33 x ttl plus a second of polling" 1 "$((ms <= 5000))"
# a replay clock moves with event time only: one more beacon lets B's timers run
echo "{\"ts\":$(((T0 + 1860) * 1000)),\"type\":\"heartbeat\",\"session\":\"late\",\"playing_ms\":1000,\"region\":\"NA\"}" |
    curl -s -o /dev/null -X POST "$B_URL/v1/events" -H "Authorization: Bearer $INGB" --data-binary @-
for _ in $(seq 1 50); do
    [ "$(pages "$B_URL" "$VIEWB")" = 1 ] && break
    sleep 0.1
done
t_check "... and its alert evaluation runs (its own cube fires the EMEA page)" 1 \
    "$(pages "$B_URL" "$VIEWB")"

# a graceful stop gives the lease up: a new replica takes it on its first renewal
serve_node C "$T_TMP/C" "${REPLICA[@]}" || exit 1
kill "$B_PID"
wait "$B_PID" 2>/dev/null
t_contains "the stopped replica gave the lease up" "lease oncue: given up" "$(cat "$T_TMP/B.log")"
ms=$(wait_held "$C_URL" 1 5)
echo "the new replica took the lease $ms ms after the other stopped"
t_check "the new replica takes it" 1 "$(held "$C_URL")"
t_check "... within one renewal (1 s) plus polling" 1 "$((ms <= 2000))"

# PostgreSQL gone: the holder stops running the timers within the ttl, and keeps serving
# (the last renewal that succeeded came before PostgreSQL was gone: count from then)
pg_stop
ms=$(wait_held "$C_URL" 0 10)
echo "the holder let the lease go $ms ms after PostgreSQL was gone"
t_check "without PostgreSQL the lease is not held" 0 "$(held "$C_URL")"
t_check "... within the ttl (3 s)" 1 "$((ms <= 3000))"
fails=$(curl -s "$C_URL/metrics" | awk '/^oncue_lease_failures_total\{/{printf "%d", $2}')
t_check "... the failed renewals are counted" 1 "$((fails > 0))"
t_check "... and the replica still answers" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' "$C_URL/healthz")"
t_check "the conninfo is never logged" 0 "$(cat "$T_TMP"/*.log | grep -c "port=$PORT user=oncue")"
t_done
