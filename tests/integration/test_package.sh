#!/usr/bin/env bash
# The Debian package (scripts/deb.sh) of this build, installed with dpkg into a throwaway
# root: oncue --version runs from it, the manual page renders without a warning, the bash
# completion completes, the systemd unit passes systemd-analyze verify without a complaint,
# and the default /etc/oncue/oncue.yaml loads.
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(dirname "$ONCUE_BIN")
for c in dpkg dpkg-deb readelf; do
    command -v "$c" >/dev/null || { echo "SKIP: $c is missing"; exit 77; }
done
DEB=$("$SRC/scripts/deb.sh" "$BUILD" "$T_TMP/out")
t_check "deb.sh builds a package" 0 $?
t_check "package name" "oncue" "$(dpkg-deb -f "$DEB" Package)"
t_check "its version is the binary's" "$("$ONCUE_BIN" --version | awk '{print $2}')" "$(dpkg-deb -f "$DEB" Version)"
t_contains "depends on the libraries it links" "libevent-2.1-7" "$(dpkg-deb -f "$DEB" Depends)"
t_check "the settings file and the drill calendar are conffiles" "/etc/oncue/oncue.yaml /etc/oncue/drills.yaml" \
    "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles | tr '\n' ' ' | sed 's/ $//')"

R=$T_TMP/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
: >"$R/var/lib/dpkg/status"
dpkg --root="$R" --force-not-root --force-depends --force-script-chrootless --log=/dev/null \
    -i "$DEB" >"$T_TMP/dpkg.log" 2>&1
t_check "dpkg -i into a throwaway root" 0 $?
t_check "dpkg knows it installed" "install ok installed" \
    "$(dpkg --root="$R" -s oncue 2>/dev/null | sed -n 's/^Status: //p')"
t_check "oncue --version from the installed tree" "oncue $(dpkg-deb -f "$DEB" Version)" \
    "$("$R/usr/bin/oncue" --version)"
for f in usr/share/man/man1/oncue.1.gz usr/share/bash-completion/completions/oncue \
    usr/share/zsh/vendor-completions/_oncue lib/systemd/system/oncue.service etc/oncue/oncue.yaml \
    lib/systemd/system/oncue-drills.service lib/systemd/system/oncue-drills.timer \
    etc/oncue/drills.yaml; do
    t_check "installed: /$f" 1 "$([ -s "$R/$f" ] && echo 1)"
done

if command -v man >/dev/null; then
    W=$(MANWIDTH=80 man --warnings -l "$R/usr/share/man/man1/oncue.1.gz" 2>&1 >"$T_TMP/man.txt")
    t_check "the manual page renders without a warning" "" "$W"
    t_contains "it lists the commands" "mitigate" "$(cat "$T_TMP/man.txt")"
    t_contains "and the server's flags" "--listen" "$(cat "$T_TMP/man.txt")"
fi
t_check "bash completion: a command" "incident" "$(bash -c ". '$R/usr/share/bash-completion/completions/oncue'
    COMP_WORDS=(oncue inci); COMP_CWORD=1; _oncue; echo \"\${COMPREPLY[*]}\"")"
t_check "bash completion: a flag" "--viewers" "$(bash -c ". '$R/usr/share/bash-completion/completions/oncue'
    COMP_WORDS=(oncue drill --vie); COMP_CWORD=2; _oncue; echo \"\${COMPREPLY[*]}\"")"

if command -v systemd-analyze >/dev/null; then
    # verify checks ExecStart exists: point it at the installed tree's binary
    sed "s|/usr/bin/oncue|$R/usr/bin/oncue|" "$R/lib/systemd/system/oncue.service" >"$T_TMP/oncue.service"
    V=$(systemd-analyze verify --man=no "$T_TMP/oncue.service" 2>&1)
    t_check "systemd-analyze verify: exit 0" 0 $?
    t_check "systemd-analyze verify: no complaint" "" "$V"
    for u in oncue-drills.service oncue-drills.timer; do
        sed "s|/usr/bin/oncue|$R/usr/bin/oncue|" "$R/lib/systemd/system/$u" >"$T_TMP/$u"
    done
    V=$(systemd-analyze verify --man=no "$T_TMP/oncue-drills.timer" "$T_TMP/oncue-drills.service" 2>&1)
    t_check "systemd-analyze verify of the drills' timer and service: no complaint" "" "$V"
fi
"$R/usr/bin/oncue" drill schedule "$R/etc/oncue/drills.yaml" --out "$T_TMP/drills" >"$T_TMP/sched.out" 2>&1
t_check "the shipped drill calendar reads: six drills, all due" "0 6" \
    "$? $(grep -c '(due)$' "$T_TMP/sched.out")"
"$R/usr/bin/oncue" serve --config "$R/etc/oncue/oncue.yaml" --help >/dev/null 2>"$T_TMP/conf.err"
t_check "the default settings file loads" 0 $?
t_done
