#!/usr/bin/env bash
# Resume points shared by replicas through PostgreSQL (resume.shared, docs/internals/resume.md
# "Several replicas"). A throwaway PostgreSQL (127.0.0.1, port PG_PORT, default 18630) holds
# the store of two servers, A and B (each its own DATA/resume; A polls every 200 ms, B every
# 20 ms). A PUT to one answers from the other within its poll interval and a margin;
# conflicting writes of a paused TV and a playing phone, sent to A and B at once, end with the
# phone's point on both; two reports of one device with different seq sent to A and B end
# with the higher on both; both take writes at once for 2 s and each answers every write
# either acknowledged (a row skipped by a cursor would lose some for ever); A is killed with
# SIGKILL during a storm of writes and batches: every acknowledged write is on B, and on A
# after its restart; after both compacted their logs (the base uploaded, rows trimmed) a third
# server C with an empty data directory joins and answers the same continue-watching rows.
# Skipped (77) without PostgreSQL.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/postgres_lib.sh"
pg_need
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; pg_stop; t_cleanup' EXIT

pg_start "${PG_PORT:-18630}" || exit 1
PG=(--set store.backend=postgres --set "store.postgres=$PG_CONNINFO")
NODE=(--modules resume "${PG[@]}" --set resume.log_compact_mib=1)
# A and C poll at the default 200 ms; B every 20 ms, so that it reads often enough to catch a
# row committed after a later one (2b), were the ids not committed in order
POLL=(--set resume.shared_poll_ms=200)
FAST=(--set resume.shared_poll_ms=20)
mkdir -p "$T_TMP/A" "$T_TMP/B" "$T_TMP/C"
ING=$("$ONCUE_BIN" token create --data "$T_TMP/A" --postgres "$PG_CONNINFO" --role ingest \
    --name it-ing 2>/dev/null | tail -1)
VIEW=$("$ONCUE_BIN" token create --data "$T_TMP/A" --postgres "$PG_CONNINFO" --role viewer \
    --name it-view 2>/dev/null | tail -1)

serve_node A "$T_TMP/A" "${NODE[@]}" "${POLL[@]}" || exit 1
serve_node B "$T_TMP/B" "${NODE[@]}" "${FAST[@]}" || exit 1
t_check "no per-node resume warning when shared" 0 "$(grep -c "resume.*node's own" "$T_TMP/A.log")"
t_contains "A says it shares" "shared through PostgreSQL as node" "$(cat "$T_TMP/A.log")"
NOW=$(($(date +%s) * 1000))

put() { # put URL PROFILE TITLE BODY: prints the status
    curl -s -o /dev/null -w '%{http_code}' -X PUT "$1/v1/resume/$2/$3" \
        -H "Authorization: Bearer $ING" -d "$4"
}
get() { # get URL PATH JQ: prints the field
    curl -s "$1/v1/resume/$2" -H "Authorization: Bearer $VIEW" | jq -c -r "$3"
}
caught_up() { # caught_up URL...: waits (up to 10 s) until each has folded every row there is
    local u last cur
    last=$(pg_sql "SELECT coalesce(max(id), 0) FROM resume_changes")
    for u in "$@"; do
        for _ in $(seq 1 200); do
            cur=$(curl -s "$u/metrics" | awk '/^oncue_resume_shared_cursor /{printf "%d", $2}')
            [ "${cur:-0}" -ge "$last" ] && break
            sleep 0.05
        done
    done
}

# 1. A write to one replica is read on the other within its poll interval and a margin: to B
# (20 ms), then to A (200 ms).
seen_within() { # seen_within NAME URL TITLE POS POLL_MS: PUTs were made; waits, then checks
    local s ms
    s=$(date +%s%N)
    for _ in $(seq 1 80); do
        [ "$(get "$2" "p1/$3" .position_ms)" = "$4" ] && break
        sleep 0.0125
    done
    ms=$((($(date +%s%N) - s) / 1000000))
    echo "  $1 answered the other's write after $ms ms"
    t_check "$1 answers the other's point" "$4 phone" "$(get "$2" "p1/$3" '"\(.position_ms) \(.device)"')"
    t_check "$1: within $5 ms + 800 ms margin" 1 "$([ "$ms" -le $(($5 + 800)) ] && echo 1 || echo 0)"
}
t_check "PUT to A" 200 "$(put "$A_URL" p1 t1 "$(resume_report phone 1 1234567 paused "$NOW")")"
seen_within B "$B_URL" t1 1234567 20
t_check "PUT to B" 200 "$(put "$B_URL" p1 t0 "$(resume_report phone 1 1234000 paused "$((NOW - 1))")")"
seen_within A "$A_URL" t0 1234000 200

# 2. Conflicts sent to both at once: the paused TV to A, the playing phone to B, ten rounds
# each in parallel; then one device's seq 5 to A and seq 6 to B.
for i in $(seq 1 10); do
    put "$A_URL" p2 t2 "$(resume_report tv "$i" 600000 paused "$((NOW + i))")" >/dev/null &
    j1=$!
    put "$B_URL" p2 t2 "$(resume_report phone "$i" $((900000 + i * 1000)) playing "$((NOW + i))")" \
        >/dev/null &
    wait "$j1" $!
done
put "$A_URL" p2 t3 "$(resume_report laptop 5 500000 paused "$NOW")" >/dev/null &
j1=$!
put "$B_URL" p2 t3 "$(resume_report laptop 6 700000 paused "$NOW")" >/dev/null &
wait "$j1" $!
caught_up "$A_URL" "$B_URL"
want='"phone 910000 10 playing"'
t_check "A: the playing phone beats the paused TV" "$want" \
    "$(get "$A_URL" p2/t2 '"\(.device) \(.position_ms) \(.seq) \(.state)"' | jq -c -R .)"
t_check "B: the same winner" "$want" \
    "$(get "$B_URL" p2/t2 '"\(.device) \(.position_ms) \(.seq) \(.state)"' | jq -c -R .)"
t_check "A: the device's higher seq from B" "6 700000" "$(get "$A_URL" p2/t3 '"\(.seq) \(.position_ms)"')"
t_check "B: the same" "6 700000" "$(get "$B_URL" p2/t3 '"\(.seq) \(.position_ms)"')"
t_check "A and B: the same point, field for field" "$(get "$A_URL" p2/t2 .)" "$(get "$B_URL" p2/t2 .)"

# 2b. Both replicas' leaders insert at once (three writers on each, 2 s): ids drawn out of
# order commit in order (the advisory lock), so neither replica's cursor passes a row it has
# not read. A replica that skipped one would miss that row's acknowledged writes for ever.
both() { # both URL W: PUTs to titles of their own for 2 s; the acknowledged ones in both.W
    local i=0 end=$(($(date +%s%N) + 2000000000))
    while [ "$(date +%s%N)" -lt "$end" ]; do
        i=$((i + 1))
        [ "$(put "$1" both "w$2-$i" "$(resume_report "dev$2" "$i" $((i * 1000)) paused "$NOW")")" = 200 ] &&
            echo "w$2-$i $((i * 1000))" >>"$T_TMP/both.$2"
    done
}
JOBS=()
for w in 1 2 3; do
    both "$A_URL" "a$w" &
    JOBS+=($!)
    both "$B_URL" "b$w" &
    JOBS+=($!)
done
wait "${JOBS[@]}"
caught_up "$A_URL" "$B_URL"
for n in A B; do
    u="${n}_URL"
    lost=0
    while read -r title pos; do
        [ "$(get "${!u}" "both/$title" .position_ms)" = "$pos" ] || lost=$((lost + 1))
    done < <(cat "$T_TMP"/both.*)
    t_check "$n: every write acknowledged by either replica ($(cat "$T_TMP"/both.* | wc -l))" 0 "$lost"
done

# 3. kill -9 of A during a storm of writes to A (and one writer to B).
writer() { # writer URL W: single PUTs, each to its own title; the acknowledged ones in ok.W
    local i code
    for i in $(seq 1 3000); do
        code=$(put "$1" storm "w$2-$i" "$(resume_report "dev$2" "$i" $((i * 1000)) paused "$NOW" 7200000)")
        [ "$code" = 000 ] || [ -e "$T_TMP/stop" ] && break
        [ "$code" = 200 ] && echo "w$2-$i $((i * 1000))" >>"$T_TMP/ok.$2"
    done
}
batcher() { # batches of 100 to A; the acknowledged batch numbers in batches
    local b i body code
    for b in $(seq 1 300); do
        body="["
        for i in $(seq 1 100); do
            body="$body{\"profile\":\"stormb\",\"title\":\"b$b-$i\",\"position_ms\":$((1000000 + b * 1000 + i)),\"duration_ms\":7200000,\"device\":\"tv\",\"session\":\"s\",\"seq\":$b,\"state\":\"paused\",\"ts\":$NOW}," 
        done
        code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$A_URL/v1/resume" \
            -H "Authorization: Bearer $ING" -d "${body%,}]")
        [ "$code" = 000 ] && break
        [ "$code" = 200 ] && echo "$b" >>"$T_TMP/batches"
    done
}
JOBS=()
for w in 1 2 3; do
    writer "$A_URL" $w &
    JOBS+=($!)
done
writer "$B_URL" 4 & # both leaders insert at once: the ids must still commit in order
JOBS+=($!)
batcher &
JOBS+=($!)
for _ in $(seq 1 400); do
    n=$(cat "$T_TMP"/ok.* 2>/dev/null | wc -l)
    nb=$(cat "$T_TMP/batches" 2>/dev/null | wc -l)
    [ "$n" -ge 150 ] && [ "$nb" -ge 3 ] && break
    sleep 0.05
done
kill -9 "$A_PID"
touch "$T_TMP/stop"
wait "$A_PID" "${JOBS[@]}" 2>/dev/null
n_acked=$(cat "$T_TMP"/ok.* | wc -l)
n_batches=$(cat "$T_TMP/batches" 2>/dev/null | wc -l)
echo "  acknowledged by A before kill -9: $n_acked single writes, $n_batches batches of 100"
t_check "A acknowledged writes and batches" 1 "$([ "$n_acked" -ge 150 ] && [ "$n_batches" -ge 3 ] && echo 1 || echo 0)"
t_check "B takes a write while A is down" 200 \
    "$(put "$B_URL" p3 t1 "$(resume_report tv 1 777000 paused "$NOW" 7200000)")"
caught_up "$B_URL"

verify() { # verify URL WHO: every acknowledged write of the storm answers on URL
    local lost=0 title pos b got
    while read -r title pos; do
        got=$(get "$1" "storm/$title" .position_ms)
        [ "$got" = "$pos" ] || { lost=$((lost + 1)); [ $lost -le 3 ] && echo "lost on $2: $title ($got)"; }
    done < <(cat "$T_TMP"/ok.*)
    t_check "$2: acknowledged single writes lost" 0 "$lost"
    lost=0
    for b in $(cat "$T_TMP/batches"); do
        for i in 1 50 100; do
            got=$(get "$1" "stormb/b$b-$i" .position_ms)
            [ "$got" = $((1000000 + b * 1000 + i)) ] || lost=$((lost + 1))
        done
    done
    t_check "$2: items of acknowledged batches lost" 0 "$lost"
}
verify "$B_URL" B
serve_node A "$T_TMP/A" "${NODE[@]}" "${POLL[@]}" || exit 1
verify "$A_URL" "A after restart"
t_check "A after restart has B's write made while it was down" 777000 "$(get "$A_URL" p3/t1 .position_ms)"

# 4. Enough to compact both logs (resume.log_compact_mib=1): 3 x 10,000 reports to B.
for b in 1 2 3; do
    jq -n -c --argjson b "$b" --argjson now "$NOW" '[range(0; 10000) | {profile: "bulk",
        title: "t\(.)", position_ms: (1000 * $b + .), duration_ms: 7200000, device: "tv",
        session: "s", seq: $b, state: "paused", ts: $now}]' >"$T_TMP/bulk.json"
    t_check "bulk batch $b to B" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X POST \
        "$B_URL/v1/resume" -H "Authorization: Bearer $ING" --data-binary @"$T_TMP/bulk.json")"
done
snaps() { curl -s "$1/metrics" | awk '/^oncue_resume_snapshots_total /{printf "%d", $2}'; }
for _ in $(seq 1 100); do
    [ "$(snaps "$A_URL")" -ge 1 ] && [ "$(snaps "$B_URL")" -ge 1 ] && break
    sleep 0.1
done
t_check "A compacted (its folded changes count)" 1 "$([ "$(snaps "$A_URL")" -ge 1 ] && echo 1 || echo 0)"
t_check "B compacted" 1 "$([ "$(snaps "$B_URL")" -ge 1 ] && echo 1 || echo 0)"
caught_up "$A_URL" "$B_URL"
for _ in $(seq 1 100); do # the second snapshot's trim
    [ "$(pg_sql "SELECT trimmed FROM resume_base")" -gt 0 ] 2>/dev/null && break
    sleep 0.1
done
trimmed=$(pg_sql "SELECT trimmed FROM resume_base")
echo "  base up to row $(pg_sql 'SELECT cursor FROM resume_base'), trimmed up to $trimmed," \
    "$(pg_sql 'SELECT count(*) FROM resume_changes') rows left"
t_check "rows every replica passed were trimmed" 1 "$([ "${trimmed:-0}" -gt 0 ] && echo 1 || echo 0)"

# 5. A third server with an empty data directory joins.
t_check "one more write to A" 200 \
    "$(put "$A_URL" p1 t9 "$(resume_report phone 1 2400000 paused "$((NOW + 60000))" 7200000)")"
serve_node C "$T_TMP/C" "${NODE[@]}" "${POLL[@]}" || exit 1
t_contains "C loaded the base" "loading the base" "$(cat "$T_TMP/C.log")"
caught_up "$A_URL" "$B_URL" "$C_URL"
for p in p1 p2 p3 storm stormb; do
    t_check "C's continue-watching row of $p is A's" "$(get "$A_URL" "$p?limit=200" .)" \
        "$(get "$C_URL" "$p?limit=200" .)"
    t_check "B's continue-watching row of $p is A's" "$(get "$A_URL" "$p?limit=200" .)" \
        "$(get "$B_URL" "$p?limit=200" .)"
done
t_check "C: p1's row, most recent first" "t9 t1 t0" "$(get "$C_URL" p1 '[.items[].title] | join(" ")')"
t_check "C: a bulk point" "3017" "$(get "$C_URL" bulk/t17 .position_ms)"
t_check "C: a storm write" "1000" "$(get "$C_URL" storm/w1-1 .position_ms)"
for n in A B C; do
    u="${n}_URL"
    t_check "$n: no shared read errors" 0 \
        "$(curl -s "${!u}/metrics" | awk '/^oncue_resume_shared_read_errors_total /{printf "%d", $2}')"
done
t_done
