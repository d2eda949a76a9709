#!/usr/bin/env bash
# The cross-device scenario over real HTTP in real time (resume.idle_s=1 so it runs in
# seconds): a laptop whose clock is 6 hours ahead watches first; the phone picks up, pauses
# and keeps repeating its point; the TV plays on and goes silent. The TV's point must win
# (the laptop's future clock is clamped, the phone's repeats do not move its point), also
# after a restart; then the TV finishes the title, which leaves the continue-watching row.
. "$(dirname "$0")/lib.sh"
D=$T_TMP/data
ING=$(new_token "$D" ingest dev-ingest)
VIEW=$(new_token "$D" viewer dev-viewer)
start_server "$D" --set resume.idle_s=1 || exit 1
now() { echo $(( $(date +%s%N) / 1000000 )); }
SKEW=$((6 * 3600 * 1000))

# report DEVICE SEQ POS STATE TS
send() {
    status PUT /v1/resume/fam/movie -H "Authorization: Bearer $ING" \
        -d "$(resume_report "$1" "$2" "$3" "$4" "$5" 7200000)" >/dev/null
}
point() {
    curl -s "$BASE/v1/resume/fam/movie" -H "Authorization: Bearer $VIEW" |
        jq -r '"\(.device) \(.position_ms) \(.state)"'
}

# The laptop: 0 -> 5 min, paused; its clock says 6 hours later.
for i in 0 1 2 3 4 5; do send laptop $((i + 1)) $((i * 60000)) playing $(( $(now) + SKEW )); done
send laptop 7 300000 paused $(( $(now) + SKEW ))
t_check "laptop's point" "laptop 300000 paused" "$(point)"
sleep 0.3
# The phone: 5 -> 15 min, paused.
for i in 0 1 2; do send phone $((i + 1)) $((300000 + i * 300000)) playing "$(now)"; done
send phone 4 900000 paused "$(now)"
t_check "the phone's later point beats the laptop's future clock" "phone 900000 paused" "$(point)"
# The TV plays 15 -> 45 min while the phone keeps repeating its pause.
seq=1
for i in $(seq 0 9); do
    send tv $seq $((900000 + i * 200000)) playing "$(now)"
    send phone $((5 + i)) 900000 paused "$(now)"
    seq=$((seq + 1))
    sleep 0.1
done
t_check "the playing TV beats the paused phone" "tv 2700000 playing" "$(point)"
# The TV is switched off (no pause); the phone goes on repeating for longer than idle_s.
for i in $(seq 0 7); do
    send phone $((20 + i)) 900000 paused "$(now)"
    sleep 0.25
done
t_check "the silent TV's point still beats the repeated pause" "tv 2700000 playing" "$(point)"
m=$(curl -s "$BASE/metrics")
t_contains "repeats were coalesced" 'oncue_resume_writes_total{outcome="coalesced"} 18' "$m"
t_contains "moves were applied" 'oncue_resume_writes_total{outcome="applied"} 21' "$m"

stop_server TERM
start_server "$D" --set resume.idle_s=1 || exit 1
t_check "after a restart" "tv 2700000 playing" "$(point)"
t_check "in the continue-watching row" "movie" \
    "$(curl -s "$BASE/v1/resume/fam" -H "Authorization: Bearer $VIEW" | jq -r '.items[0].title')"
# The TV finishes the title: ended wins and the title leaves the row.
send tv 20 7200000 ended "$(now)"
send phone 40 900000 paused "$(now)"
t_check "ended wins" "tv 7200000 ended" "$(point)"
t_check "watched: out of the row" 0 \
    "$(curl -s "$BASE/v1/resume/fam" -H "Authorization: Bearer $VIEW" | jq '.items | length')"
stop_server TERM
t_done
