#!/usr/bin/env bash
# kill -9 during a storm of resume writes, then restart: no acknowledged write is lost.
# Four writers PUT single reports (each to its own title, and each advancing its own running
# title with a rising seq) and one posts batches of 100; a 200 means the write was committed.
# The server is killed with SIGKILL while they run; after a restart every acknowledged title
# must answer its position, and every running title at least the last acknowledged seq. Then
# the log is compacted into a snapshot (resume.log_compact_mib=1), killed again, and checked
# again.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest crash-ingest)
VIEW=$(new_token "$D" viewer crash-viewer)
start_server "$D" || exit 1
NOW=$(( $(date +%s) * 1000 ))

# report DEVICE SEQ POS: playing, at NOW, of a 2-hour title
report() { resume_report "$1" "$2" "$3" playing "$NOW" 7200000; }

writer() {
    local w=$1 i code
    for i in $(seq 1 2000); do
        code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$BASE/v1/resume/crash/w$w-$i" \
            -H "Authorization: Bearer $ING" -d "$(report "dev$w" "$i" $((i * 1000)))")
        [ "$code" = 000 ] && break
        [ "$code" = 200 ] && echo "w$w-$i $((i * 1000))" >>"$T_TMP/ok.$w"
        code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$BASE/v1/resume/crash/run$w" \
            -H "Authorization: Bearer $ING" -d "$(report "dev$w" "$i" $((i * 1000)))")
        [ "$code" = 000 ] && break
        [ "$code" = 200 ] && echo "$i" >"$T_TMP/run.$w"
    done
}

batcher() {
    local b i body code
    for b in $(seq 1 500); do
        body="["
        for i in $(seq 1 100); do
            body="$body{\"profile\":\"crashb\",\"title\":\"b$b-$i\",\"position_ms\":$((1000000 + b * 1000 + i)),\"duration_ms\":7200000,\"device\":\"tv\",\"session\":\"s\",\"seq\":$b,\"state\":\"paused\",\"ts\":$NOW},"
        done
        body="${body%,}]"
        code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/v1/resume" \
            -H "Authorization: Bearer $ING" -d "$body")
        [ "$code" = 000 ] && break
        [ "$code" = 200 ] && echo "$b" >>"$T_TMP/batches"
    done
}

for w in 1 2 3 4; do writer $w & done
batcher &
# Kill once enough writes have landed, while the writers are still going.
for _ in $(seq 1 400); do
    n=$(cat "$T_TMP"/ok.* 2>/dev/null | wc -l)
    nb=$(cat "$T_TMP/batches" 2>/dev/null | wc -l)
    [ "$n" -ge 200 ] && [ "$nb" -ge 3 ] && break
    sleep 0.05
done
stop_server KILL
wait
n_acked=$(cat "$T_TMP"/ok.* | wc -l)
n_batches=$(cat "$T_TMP/batches" 2>/dev/null | wc -l)
echo "acknowledged before kill -9: $n_acked single writes, $n_batches batches of 100"
t_check "single writes were acknowledged" 1 "$([ "$n_acked" -ge 200 ] && echo 1 || echo 0)"
t_check "batches were acknowledged" 1 "$([ "$n_batches" -ge 3 ] && echo 1 || echo 0)"

# verify WHEN: every acknowledged write of the storm answers as acknowledged.
verify() {
    t_check "$1: readyz" 200 "$(status GET /readyz)"
    lost=0
    while read -r title pos; do
        got=$(curl -s "$BASE/v1/resume/crash/$title" -H "Authorization: Bearer $VIEW" | jq -r .position_ms)
        [ "$got" = "$pos" ] || { lost=$((lost + 1)); echo "lost: $title (want $pos, got $got)"; }
    done < <(cat "$T_TMP"/ok.*)
    t_check "$1: acknowledged single writes lost" 0 "$lost"
    behind=0
    for w in 1 2 3 4; do
        [ -f "$T_TMP/run.$w" ] || continue
        want=$(cat "$T_TMP/run.$w")
        got=$(curl -s "$BASE/v1/resume/crash/run$w" -H "Authorization: Bearer $VIEW" | jq -r .seq)
        [ "$got" -ge "$want" ] 2>/dev/null || { behind=$((behind + 1)); echo "run$w: seq $got < acknowledged $want"; }
    done
    t_check "$1: running titles behind their last acknowledged seq" 0 "$behind"
    lost=0
    for b in $(cat "$T_TMP/batches" 2>/dev/null); do
        for i in 1 50 100; do
            got=$(curl -s "$BASE/v1/resume/crashb/b$b-$i" -H "Authorization: Bearer $VIEW" | jq -r .position_ms)
            [ "$got" = $((1000000 + b * 1000 + i)) ] || { lost=$((lost + 1)); echo "lost: b$b-$i (got $got)"; }
        done
    done
    t_check "$1: acknowledged batch items lost" 0 "$lost"
}

start_server "$D" || exit 1
verify "restart after kill -9"
# The continue-watching row of the batch profile lists its points (at most its limit).
t_check "row after restart" 200 "$(status GET '/v1/resume/crashb?limit=5' -H "Authorization: Bearer $VIEW")"
t_check "row has 5 items" 5 "$(jq '.items | length' "$T_TMP/body")"

# Compaction: with resume.log_compact_mib=1, three batches of 10,000 reports (about 1.5 MiB
# of log) make the log write a snapshot; kill -9 after it, and everything is still there.
stop_server TERM
start_server "$D" --set resume.log_compact_mib=1 || exit 1
for b in 1 2 3; do
    awk -v b="$b" -v now="$NOW" 'BEGIN { printf "["; for (i = 1; i <= 10000; i++)
        printf "%s{\"profile\":\"big%d\",\"title\":\"t%d\",\"position_ms\":%d,\"duration_ms\":7200000,\"device\":\"tv\",\"session\":\"s\",\"seq\":1,\"state\":\"paused\",\"ts\":%s}",
            (i > 1 ? "," : ""), b, i, i, now; printf "]" }' >"$T_TMP/big.json"
    t_check "batch of 10,000 ($b)" 200 \
        "$(status POST /v1/resume -H "Authorization: Bearer $ING" --data-binary @"$T_TMP/big.json")"
done
snaps=0
for _ in $(seq 1 100); do
    snaps=$(curl -s "$BASE/metrics" | awk '/^oncue_resume_snapshots_total / { print $2 }')
    [ "${snaps:-0}" -ge 1 ] 2>/dev/null && break
    sleep 0.1
done
t_check "a snapshot was written" 1 "$([ "${snaps:-0}" -ge 1 ] 2>/dev/null && echo 1 || echo 0)"
ls "$D/resume" >"$T_TMP/files"
t_check "one snapshot file" 1 "$(grep -c '^snapshot$' "$T_TMP/files")"
stop_server KILL
start_server "$D" || exit 1
verify "restart after compaction and kill -9"
t_check "big batch item" 4999 \
    "$(curl -s "$BASE/v1/resume/big2/t4999" -H "Authorization: Bearer $VIEW" | jq -r .position_ms)"
t_check "big batch's last item" 10000 \
    "$(curl -s "$BASE/v1/resume/big3/t10000" -H "Authorization: Bearer $VIEW" | jq -r .position_ms)"
stop_server TERM
t_done
