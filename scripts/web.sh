#!/usr/bin/env bash
# web.sh - builds the web console bundle (web/dist/), or checks that the committed one is current.
#
#   scripts/web.sh build   npm ci (pinned by web/package-lock.json) into build/web/node_modules
#                          when the lock file changed, then web/build.mjs -> web/dist/ (only
#                          files whose bytes changed are rewritten)
#   scripts/web.sh check   builds into a temp dir and compares it with the committed web/dist/
#                          (exit 1 naming stale files; the lint/web_bundle test)
#
# Node and npm come from Debian (installed with apt-get when missing and running as root).
# Packages are never installed into the source tree. Where npm cannot install, the exit
# status is 77 after a line saying why (CTest SKIP; `make` goes on with the committed dist).
#
# Environment: ONCUE_WEB_WORK (default build/web: node_modules and the npm log),
# npm_config_cache (default $ONCUE_WEB_WORK/npm-cache).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WEB=$ROOT/web
WORK=${ONCUE_WEB_WORK:-$ROOT/build/web}
export npm_config_cache=${npm_config_cache:-$WORK/npm-cache}
cmd=${1:-build}

unavailable() {
    if [ "$cmd" = check ]; then
        echo "SKIP: $*"
    else
        echo "web.sh: $*" >&2
    fi
    exit 77
}

# Node and npm: Debian's, installed when missing and we are root.
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    [ "$(id -u)" -eq 0 ] || unavailable "node/npm missing and not root (run: apt-get install -y nodejs npm)"
    mkdir -p "$WORK"
    echo "installing: nodejs npm"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm; } \
        >"$WORK/apt.log" 2>&1 || unavailable "apt-get install nodejs npm failed (see $WORK/apt.log)"
fi

# The pinned packages, into $WORK/node_modules, reinstalled when the lock file changes.
mkdir -p "$WORK"
if ! cmp -s "$WEB/package-lock.json" "$WORK/package-lock.json" ||
    [ ! -d "$WORK/node_modules/esbuild" ]; then
    rm -f "$WORK/package-lock.json"
    cp "$WEB/package.json" "$WORK/package.json"
    if ! (cd "$WORK" && cp "$WEB/package-lock.json" . &&
          npm ci --no-audit --no-fund --loglevel=error) >"$WORK/npm.log" 2>&1; then
        rm -f "$WORK/package-lock.json"
        unavailable "npm ci of web/package-lock.json failed (see $WORK/npm.log)"
    fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oncue-web.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
node "$WEB/build.mjs" --out "$tmp/dist" --node-modules "$WORK/node_modules" || {
    echo "web.sh: web/build.mjs failed" >&2
    exit 1
}

case "$cmd" in
build)
    # Rewrite only what changed, so an unchanged bundle keeps its timestamps.
    mkdir -p "$WEB/dist"
    (cd "$tmp/dist" && find . -type f | sort) | while read -r f; do
        if ! cmp -s "$tmp/dist/$f" "$WEB/dist/$f"; then
            mkdir -p "$(dirname "$WEB/dist/$f")"
            cp "$tmp/dist/$f" "$WEB/dist/$f"
            echo "web: wrote web/dist/${f#./}"
        fi
    done
    (cd "$WEB/dist" && find . -type f | sort) | while read -r f; do
        [ -f "$tmp/dist/$f" ] || { rm -f "$WEB/dist/$f"; echo "web: removed web/dist/${f#./}"; }
    done
    ;;
check)
    if ! diff -r "$tmp/dist" "$WEB/dist" >/dev/null 2>&1; then
        echo "web/dist/ is stale (it does not match what web/src/ builds):"
        diff -rq "$tmp/dist" "$WEB/dist" 2>&1 | sed -E \
            -e "s|^Files $tmp/dist/([^ ]*) and .* differ$|  web/dist/\1 (out of date)|" \
            -e "s|^Only in $tmp/dist(/[^:]*)?: (.*)$|  web/dist\1/\2 (missing)|" \
            -e "s|^Only in $WEB/dist(/[^:]*)?: (.*)$|  web/dist\1/\2 (no longer built)|" \
            -e "s|//|/|g"
        echo "run make web and commit web/dist/"
        exit 1
    fi
    echo "web/dist/ matches web/src/ (1 passed)"
    ;;
*)
    echo "usage: scripts/web.sh build|check" >&2
    exit 2
    ;;
esac
