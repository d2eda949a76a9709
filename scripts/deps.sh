#!/usr/bin/env bash
# deps.sh - installs the Debian packages oncue needs, or says which to install.
#
#   scripts/deps.sh build   what building and running needs (make demo)
#   scripts/deps.sh check   that plus what the tests need (make check)
#   scripts/deps.sh bench   that plus what bench/ compares against (nginx, wrk, redis-server)
#
# As root, missing packages are installed with apt-get; otherwise the one apt-get line to run
# is printed and the script fails.
set -euo pipefail

build_pkgs=(gcc make cmake pkg-config libevent-dev libcurl4-openssl-dev libsqlite3-dev
            libsodium-dev libssl-dev libyaml-dev libjansson-dev libmaxminddb-dev zlib1g-dev liblz4-dev libexpat1-dev libpq-dev curl sqlite3)
check_pkgs=(clang-format prometheus prometheus-alertmanager chromium ffmpeg clickhouse-server postgresql
            libmaxmind-db-writer-perl jq man-db systemd)
bench_pkgs=(nginx wrk redis-server)

want=("${build_pkgs[@]}")
[ "${1:-build}" = check ] && want+=("${check_pkgs[@]}")
[ "${1:-build}" = bench ] && want+=("${check_pkgs[@]}" "${bench_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "oncue needs these Debian packages; run as root:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
