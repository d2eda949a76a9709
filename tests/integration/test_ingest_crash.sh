#!/usr/bin/env bash
# kill -9 at five points of a replay, then restart: no acknowledged beacon is lost and none is
# counted twice. One writer posts batches of 40 plays (start events, one second of event time
# apart) into `oncue serve --clock replay`; each 200 answer's "accepted" is counted as
# acknowledged. The server is killed with SIGKILL five times at random points and restarted
# (the ingest log is replayed: events of minutes already stored are refused as too old); at
# the end one event ten minutes later closes every minute and the stored plays must equal
# the acknowledged ones, give or take the batch in flight at each kill (answered to nobody,
# so either count is right).
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest crash-ingest | tail -1)
VIEW=$(new_token "$D" viewer crash-view | tail -1)
T0=1772479800000 # 2026-03-02 19:30 UTC
BATCH=40
echo 0 > "$T_TMP/next"

# body I: BATCH successful starts at T0 + I seconds, sessions b-I-J (unique).
body() {
    local i=$1 j
    for j in $(seq 1 $BATCH); do
        printf '{"ts":%d,"type":"start","session":"b-%d-%d","outcome":"success","startup_ms":800,"region":"EMEA","cdn":"primary"}\n' \
            $((T0 + i * 1000 + j)) "$i" "$j"
    done
}

# writer: posts batches from $T_TMP/next on until a post gets no answer.
writer() {
    local i ans
    i=$(cat "$T_TMP/next")
    while :; do
        body "$i" > "$T_TMP/body.$i"
        ans=$(curl -s -m 10 -X POST "$BASE/v1/events" -H "Authorization: Bearer $ING" \
            --data-binary @"$T_TMP/body.$i") || break
        echo "$ans" | jq -r .accepted >> "$T_TMP/acked"
        i=$((i + 1))
        echo "$i" > "$T_TMP/next"
    done
    echo $((i + 1)) > "$T_TMP/next" # the batch in flight is never sent again
}

# nacked: batches acknowledged so far.
nacked() {
    if [ -f "$T_TMP/acked" ]; then wc -l < "$T_TMP/acked"; else echo 0; fi
}

for kill in 1 2 3 4 5; do
    start_server "$D" --clock replay || exit 1
    writer &
    wpid=$!
    # kill once 20 to 39 more batches were acknowledged (a random point, the same amount of
    # work however slow the build: under ASan on a busy machine a fixed sleep saw few)
    want=$(($(nacked) + 20 + RANDOM % 20))
    for _ in $(seq 1 600); do
        [ "$(nacked)" -ge "$want" ] && break
        sleep 0.05
    done
    stop_server KILL
    wait "$wpid"
    echo "kill $kill: $(nacked) batches acknowledged so far"
done
acked=$(awk '{s += $1} END {print s}' "$T_TMP/acked")
batches=$(cat "$T_TMP/next")
t_check "at least 100 batches acknowledged across five kills" 1 "$((acked / BATCH >= 100))"

start_server "$D" --clock replay || exit 1
t_contains "the log was replayed" "ingest: replayed" "$(cat "$T_TMP/server.log")"
end=$((T0 + batches * 1000 + 600000))
t_check "an event 10 minutes later" 200 "$(status POST /v1/events -H "Authorization: Bearer $ING" \
    --data-binary "{\"ts\":$end,\"type\":\"heartbeat\",\"session\":\"late\",\"playing_ms\":1000,\"rebuffer_ms\":0}")"
sleep 2 # the closed minutes reach the store
stored=$(curl -s -H "Authorization: Bearer $VIEW" \
    "$BASE/v1/qoe?metric=plays&from=$((T0 / 1000 - 60))&to=$((end / 1000))&step=1d" |
    jq '[.series[].points[][1]] | add')
echo "plays acknowledged: $acked; stored after five kills: $stored"
t_check "no acknowledged play lost" 1 "$((stored >= acked))"
t_check "none counted twice (at most the five batches in flight)" 1 \
    "$((stored <= acked + 5 * BATCH))"
ls -la "$D/ingest-wal"
stop_server TERM
t_check "the log is trimmed once its minutes are stored" 1 \
    "$(($(du -sk "$D/ingest-wal" | cut -f1) < 64))"
t_done
