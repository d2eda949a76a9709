#!/usr/bin/env bash
# sdk.sh - the browser beacon plugin (sdk/web) with real players (CTest label browser).
#
# Builds sdk/web with the esbuild of its own lock file (npm ci into the work dir) and checks
# every bundle (core plus one adapter) is at most 5 KB gzipped; makes a 40 s HLS fMP4, DASH and
# progressive MP4 stream with ffmpeg; starts `oncue serve` (ingest and qoe, replay clock) on
# 127.0.0.1 port 0; and runs sdk_players.mjs, which plays the streams
# with hls.js, dash.js, Shaka Player and a bare <video> in Debian's headless chromium and checks
# what the plugin sent and what /v1/qoe then says. Exits 77 (CTest SKIP) after saying why when
# chromium, ffmpeg, node or the npm packages cannot be installed.
#
# Environment: ONCUE_BIN (the binary), ONCUE_BROWSER_WORK (work dir; default a temp dir).
set -uo pipefail
: "${ONCUE_BIN:?ONCUE_BIN must point at the oncue binary}"
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${ONCUE_BROWSER_WORK:-$(mktemp -d /tmp/oncue-sdk.XXXXXX)}
SERVER_PID=""
mkdir -p "$WORK"
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null' EXIT

. "$HERE/lib.sh"
browser_setup ffmpeg

# The plugin, built from its sources by the esbuild of sdk/web/package-lock.json.
SDK_NODE=$WORK/sdk-node
mkdir -p "$SDK_NODE"
if ! cmp -s "$ROOT/sdk/web/package-lock.json" "$SDK_NODE/package-lock.json" ||
    [ ! -d "$SDK_NODE/node_modules/esbuild" ]; then
    cp "$ROOT/sdk/web/package.json" "$ROOT/sdk/web/package-lock.json" "$SDK_NODE/"
    (cd "$SDK_NODE" && npm ci --no-audit --no-fund) >"$WORK/sdk-npm.log" 2>&1 ||
        skip "npm ci (esbuild for sdk/web) failed (see $WORK/sdk-npm.log)"
fi
SDK_DIST=$WORK/sdk-dist
rm -rf "$SDK_DIST"
node "$ROOT/sdk/web/build.mjs" --out "$SDK_DIST" --node-modules "$SDK_NODE/node_modules" ||
    { echo "FAIL: sdk/web/build.mjs (a bundle over 5 KB gzipped, or the build failed)"; exit 1; }

# The streams: 40 s of H.264 High + AAC-LC, 2 s segments, as HLS fMP4, DASH and one MP4 file.
STREAM=$WORK/stream
if [ ! -f "$STREAM/dash/stream.mpd" ] || [ ! -f "$STREAM/hls/media.m3u8" ] ||
    [ ! -f "$STREAM/mp4/video.mp4" ]; then
    rm -rf "$STREAM"
    mkdir -p "$STREAM/hls" "$STREAM/dash" "$STREAM/mp4"
    src=(-f lavfi -i testsrc=size=640x360:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000
         -t 40)
    enc=(-c:v libx264 -profile:v high -level 3.0 -pix_fmt yuv420p -preset veryfast -b:v 800k
         -g 50 -keyint_min 50 -sc_threshold 0 -c:a aac -b:a 96k -ac 2)
    (cd "$STREAM/hls" && nice -n 10 ffmpeg -loglevel error -y "${src[@]}" "${enc[@]}" -f hls \
        -hls_time 2 -hls_playlist_type vod -hls_segment_type fmp4 \
        -hls_fmp4_init_filename init.mp4 -hls_segment_filename 'seg_%03d.m4s' \
        -master_pl_name ffmaster.m3u8 media.m3u8) || { echo "FAIL: ffmpeg (HLS)"; exit 1; }
    (cd "$STREAM/dash" && nice -n 10 ffmpeg -loglevel error -y "${src[@]}" "${enc[@]}" -f dash \
        -seg_duration 2 -use_template 1 -use_timeline 0 \
        -adaptation_sets "id=0,streams=v id=1,streams=a" \
        -init_seg_name 'init-$RepresentationID$.m4s' \
        -media_seg_name 'chunk-$RepresentationID$-$Number%05d$.m4s' stream.mpd) ||
        { echo "FAIL: ffmpeg (DASH)"; exit 1; }
    (cd "$STREAM/mp4" && nice -n 10 ffmpeg -loglevel error -y "${src[@]}" "${enc[@]}" \
        -movflags +faststart video.mp4) || { echo "FAIL: ffmpeg (MP4)"; exit 1; }
fi

# The server: ingest and qoe on a replay clock (minutes close as event time moves on). The
# admin token creates the public ingest key for the page's origin once that is known; the
# ingest token posts the one late event that closes the minutes.
DATA=$WORK/data
rm -rf "$DATA"
tok() { "$ONCUE_BIN" token create --data "$DATA" --role "$1" --name "sdk-$1" 2>/dev/null; }
INGEST_TOKEN=$(tok ingest) && VIEWER_TOKEN=$(tok viewer) && ADMIN_TOKEN=$(tok admin) ||
    { echo "FAIL: oncue token create"; exit 1; }
start_oncue "$WORK/server.log" --data "$DATA" --clock replay --modules builtin,auth,ingest,qoe ||
    exit 1

export ONCUE_BIN ONCUE_SERVER INGEST_TOKEN VIEWER_TOKEN ADMIN_TOKEN WORK NODE_DIR SDK_DIST STREAM_DIR=$STREAM
cp "$HERE/sdk_players.mjs" "$NODE_DIR/"
node "$NODE_DIR/sdk_players.mjs"
