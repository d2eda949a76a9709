# lib.sh - what the browser tests share (sourced by run.sh and console.sh): SKIP with exit 77,
# Debian chromium, ffmpeg and node installed with apt when root, and the npm packages of the
# committed lock file installed with npm ci into $WORK/node (never into the source tree).
#
# Needs $WORK (the test's work directory) and $HERE (tests/browser); sets $NODE_DIR.

skip() {
    echo "SKIP: $*"
    echo "0 passed, 0 failed, 1 skipped"
    exit 77
}

# browser_setup [DEBIAN_COMMAND...]: installs what is missing among chromium, node/npm and
# the commands named, then the npm packages.
browser_setup() {
    local need=() c
    command -v chromium >/dev/null || need+=(chromium)
    command -v npm >/dev/null || need+=(nodejs npm)
    for c in "$@"; do
        command -v "$c" >/dev/null || need+=("$c")
    done
    if [ ${#need[@]} -gt 0 ]; then
        [ "$(id -u)" -eq 0 ] ||
            skip "not root, cannot install ${need[*]} (run: apt-get install -y ${need[*]})"
        echo "installing: ${need[*]}"
        export DEBIAN_FRONTEND=noninteractive
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"; } \
            >"$WORK/apt.log" 2>&1 || skip "apt-get install ${need[*]} failed (see $WORK/apt.log)"
    fi
    NODE_DIR=$WORK/node
    mkdir -p "$NODE_DIR"
    if ! cmp -s "$HERE/package-lock.json" "$NODE_DIR/package-lock.json" ||
        [ ! -d "$NODE_DIR/node_modules/playwright-core" ]; then
        cp "$HERE/package.json" "$HERE/package-lock.json" "$NODE_DIR/"
        (cd "$NODE_DIR" && npm ci --no-audit --no-fund) >"$WORK/npm.log" 2>&1 ||
            skip "npm ci (playwright-core, hls.js, dashjs, shaka-player) failed (see $WORK/npm.log)"
    fi
}

# start_oncue LOG ARGS...: starts `oncue serve ARGS` on 127.0.0.1 port 0 and sets SERVER_PID
# and ONCUE_SERVER; returns 1 (after printing the log) if it does not start.
start_oncue() {
    local log=$1 port=""
    shift
    # Emptied here, not by the background job's redirection, which may come after the first
    # grep below: a work dir reused from an earlier run would give that run's port.
    : >"$log"
    "$ONCUE_BIN" serve --listen 127.0.0.1:0 "$@" 2>"$log" &
    SERVER_PID=$!
    for _ in $(seq 1 200); do
        port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$log" | head -1 | cut -d: -f2)
        [ -n "$port" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$port" ] || { echo "FAIL: oncue serve did not start"; cat "$log"; return 1; }
    ONCUE_SERVER=http://127.0.0.1:$port
}
