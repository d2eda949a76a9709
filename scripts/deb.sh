#!/usr/bin/env bash
# deb.sh BUILD_DIR OUT_DIR - builds the Debian package of what `cmake --install BUILD_DIR`
# installs (the binary, oncue(1), bash and zsh completions, the systemd unit, the default
# /etc/oncue/oncue.yaml as a conffile) and prints its path. Depends is computed from the
# shared libraries the binary links (ldd, then dpkg -S). Used by `make deb`.
set -euo pipefail
build=${1:?usage: scripts/deb.sh BUILD_DIR OUT_DIR}
out=${2:?usage: scripts/deb.sh BUILD_DIR OUT_DIR}
for c in dpkg-deb dpkg ldd readelf; do
    command -v "$c" >/dev/null || { echo "deb.sh: $c is missing" >&2; exit 1; }
done
stage=$(mktemp -d "${TMPDIR:-/tmp}/oncue-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
cmake --build "$build" --target oncue oncue_share >/dev/null
DESTDIR=$stage cmake --install "$build" --prefix /usr >/dev/null
gzip -9n "$stage/usr/share/man/man1/oncue.1" # Debian ships manual pages compressed
bin=$stage/usr/bin/oncue
version=$("$bin" --version | awk '{print $2}')
arch=$(dpkg --print-architecture)
# the package of every shared library the binary names (DT_NEEDED), once each, sorted
needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
depends=$(for n in $needed; do
    lib=$(ldd "$bin" | awk -v n="$n" '$1 == n && $3 ~ /^\// {print $3}')
    [ -n "$lib" ] || continue
    dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true
done | cut -d: -f1 | sort -u | paste -sd, | sed 's/,/, /g')
mkdir -p "$stage/DEBIAN"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: oncue
Version: $version
Architecture: $arch
Maintainer: oncue developers <oncue@localhost>
Section: net
Priority: optional
Depends: $depends
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Description: reliability control plane for video-streaming platforms
 oncue watches what viewers experience (player beacons aggregated into a QoE
 cube), opens one incident per fault with the right severity and owner, runs
 the mitigation, keeps the timeline and the status page, and writes the review.
 Start it with: systemctl enable --now oncue
CONTROL
printf "%s\n" /etc/oncue/oncue.yaml /etc/oncue/drills.yaml >"$stage/DEBIAN/conffiles"
mkdir -p "$out"
deb=$out/oncue_${version}_${arch}.deb
dpkg-deb --root-owner-group --build "$stage" "$deb" >/dev/null
echo "$deb"
