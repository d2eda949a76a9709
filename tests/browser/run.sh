#!/usr/bin/env bash
# run.sh - the real-player steering test (CTest label browser).
#
# Installs what it needs (Debian chromium and ffmpeg with apt when root; playwright-core,
# hls.js and dashjs with npm ci into a build-local directory), makes a short HLS fMP4 and DASH
# stream with ffmpeg, starts `oncue serve` on 127.0.0.1 port 0 with a two-CDN steering policy,
# and runs steer_players.mjs. Where something cannot be installed it exits 77 (CTest SKIP)
# after printing why; it never passes silently.
#
# Environment: ONCUE_BIN (the binary), ONCUE_BROWSER_WORK (work dir; default a temp dir).
set -uo pipefail
: "${ONCUE_BIN:?ONCUE_BIN must point at the oncue binary}"
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${ONCUE_BROWSER_WORK:-$(mktemp -d /tmp/oncue-browser.XXXXXX)}
TTL=5
SERVER_PID=""
mkdir -p "$WORK"
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null' EXIT

. "$HERE/lib.sh"
browser_setup ffmpeg

# The stream: 90 s of H.264 High + AAC-LC, 2 s segments, as HLS fMP4 and as DASH.
STREAM=$WORK/stream
if [ ! -f "$STREAM/dash/stream.mpd" ] || [ ! -f "$STREAM/hls/media.m3u8" ]; then
    rm -rf "$STREAM"
    mkdir -p "$STREAM/hls" "$STREAM/dash"
    src=(-f lavfi -i testsrc=size=640x360:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000
         -t 90)
    enc=(-c:v libx264 -profile:v high -level 3.0 -pix_fmt yuv420p -preset veryfast -b:v 800k
         -g 50 -keyint_min 50 -sc_threshold 0 -c:a aac -b:a 96k -ac 2)
    (cd "$STREAM/hls" && ffmpeg -loglevel error -y "${src[@]}" "${enc[@]}" -f hls -hls_time 2 \
        -hls_playlist_type vod -hls_segment_type fmp4 -hls_fmp4_init_filename init.mp4 \
        -hls_segment_filename 'seg_%03d.m4s' -master_pl_name ffmaster.m3u8 media.m3u8) ||
        { echo "FAIL: ffmpeg (HLS)"; exit 1; }
    (cd "$STREAM/dash" && ffmpeg -loglevel error -y "${src[@]}" "${enc[@]}" -f dash \
        -seg_duration 2 -use_template 1 -use_timeline 0 \
        -adaptation_sets "id=0,streams=v id=1,streams=a" \
        -init_seg_name 'init-$RepresentationID$.m4s' \
        -media_seg_name 'chunk-$RepresentationID$-$Number%05d$.m4s' stream.mpd) ||
        { echo "FAIL: ffmpeg (DASH)"; exit 1; }
fi

# The oncue server with a two-CDN policy, and a responder token for `oncue mitigate`.
DATA=$WORK/data
rm -rf "$DATA"
echo "{\"ttl\": $TTL, \"pathways\": [\"cdn-a\", \"cdn-b\"]}" >"$WORK/policy.json"
ONCUE_TOKEN=$("$ONCUE_BIN" token create --data "$DATA" --role responder --name browser 2>/dev/null) ||
    { echo "FAIL: oncue token create"; exit 1; }
start_oncue "$WORK/server.log" --data "$DATA" --modules steer \
    --set steer.policy_file="$WORK/policy.json" || exit 1

export ONCUE_BIN ONCUE_TOKEN ONCUE_SERVER WORK NODE_DIR STREAM_DIR=$STREAM STEER_TTL=$TTL
# Run from NODE_DIR so that its imports resolve in the installed node_modules.
cp "$HERE/steer_players.mjs" "$NODE_DIR/"
node "$NODE_DIR/steer_players.mjs"
