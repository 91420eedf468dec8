#!/usr/bin/env bash
# The Debian package, built from this tree (scripts/package) and installed on this machine:
# every tool runs from /usr/sbin, every man page and completion is found, the units verify,
# /etc/storkit is root's only, the cron file runs nothing, the example install config prepares,
# and removing the package keeps the configuration while purging removes it.
# STORKIT_DEB=FILE tests a package built before instead of building one (about 8 minutes on
# 2 cores). The package is left in STORKIT_PACKAGES (ctest: build/packages) for ansible_test.
source "$(dirname "$0")/lib.sh"
plan 23

[ "$(id -u)" = 0 ] || skip_all "installs a package: needs root"
if dpkg-query -W -f='${Status}' storkit 2>/dev/null | grep -q "ok installed"; then
    skip_all "a storkit package is installed on this machine already"
fi
for cmd in dpkg-buildpackage lintian systemd-analyze man xorriso rpmspec rpmlint; do
    command -v "$cmd" >/dev/null || { fail "needs $cmd (scripts/deps installs it)"; done_testing; }
done

tools=()
for t in "$STORKIT_SRC"/tools/*.cc; do tools+=("$(basename "$t" .cc)"); done
version=$(sed -n 's/^project(storkit VERSION \([0-9.]*\).*/\1/p' "$STORKIT_SRC/CMakeLists.txt")

# --- build ------------------------------------------------------------------------------------
if [ -n "${STORKIT_DEB:-}" ]; then
    deb=$STORKIT_DEB
    pass "a package built before: $deb"
else
    out=${STORKIT_PACKAGES:-$T/out}
    rm -f "$out"/storkit_*
    run "$STORKIT_SRC/scripts/package" "$out"
    expect_eq "$RC" 0 "scripts/package builds the package, lintian finds no error"
    [ "$RC" = 0 ] || echo "$ERR" | tail -20
    grep -E '^[EWI]: ' "$out/lintian.txt" 2>/dev/null | sed 's/^/# lintian: /'
    deb=$(ls "$out"/storkit_*.deb 2>/dev/null | head -1)
fi
[ -f "$deb" ] || { fail "there is a package to install"; done_testing; }
expect_eq "$(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)" "storkit $version" \
    "the package is storkit $version"
expect_match "$(dpkg-deb -f "$deb" Recommends)" "dnsmasq-base, lighttpd, ipxe" \
    "dnsmasq, lighttpd and iPXE are recommended"
expect_match "$(dpkg-deb -f "$deb" Depends)" "libvirt0.*" "the libraries found by the build are dependencies"

# The RPM spec parses (rpmspec) and rpmlint finds no error in it; scripts/package --rpm builds
# the RPM itself (by hand: it compiles everything once more).
run rpmspec -P "$STORKIT_SRC/packaging/rpm/storkit.spec"
lint=$(rpmlint "$STORKIT_SRC/packaging/rpm/storkit.spec" 2>&1 | grep -E ' [0-9]+ errors,')
expect_match "$RC $(grep -c '^Version: *'"$version"'$' <<<"$OUT") $lint" "^0 1 .* 0 errors," \
    "the RPM spec parses, says version $version, and rpmlint finds no error in it"

# --- install ----------------------------------------------------------------------------------
had_user=0
getent passwd storkit-pxe >/dev/null && had_user=1
at_exit "dpkg -P storkit"
[ "$had_user" = 1 ] || at_exit "deluser --system storkit-pxe"
run dpkg -i "$deb"
expect_eq "$RC" 0 "dpkg -i installs it"
ok=0 bad=""
for t in "${tools[@]}"; do
    if [ "$("/usr/sbin/$t" --version 2>&1)" = "$t $version" ] && "/usr/sbin/$t" --help >/dev/null 2>&1; then
        ok=$((ok + 1))
    else
        bad+=" $t"
    fi
done
expect_eq "$ok$bad" "${#tools[@]}" "every tool in /usr/sbin answers --version and --help"
ok=0 bad=""
for page in "${tools[@]/%/.1}" storkit.7; do
    man -w "${page%.*}" >/dev/null 2>&1 && [ "$(man -w "${page##*.}" "${page%.*}")" != "" ] &&
        ok=$((ok + 1)) || bad+=" $page"
done
expect_eq "$ok$bad" "$((${#tools[@]} + 1))" "man -w finds every page, storkit(7) too"
ok=0
for t in "${tools[@]}"; do
    grep -q "^complete -F .* $t\$" "/usr/share/bash-completion/completions/$t" 2>/dev/null && ok=$((ok + 1))
done
expect_eq "$ok" "${#tools[@]}" "every tool's bash completion is installed"
units=(/lib/systemd/system/storkit-*.service /lib/systemd/system/storkit-*.timer)
expect_eq "${#units[@]}" 6 "four services and two timers are installed"
expect_eq "$(systemd-analyze verify "${units[@]}" 2>&1)" "" "systemd-analyze verify finds nothing"
expect_eq "$(systemctl is-enabled storkit-mgmtvm-reconcile.timer 2>/dev/null || true)" disabled \
    "the reconcile timer is not enabled by the install"
expect_eq "$(stat -c '%a %U' /etc/storkit)" "700 root" "/etc/storkit is root's only"
expect_eq "$(grep -cv '^#\|^$' /etc/cron.d/storkit)" 0 "every line of /etc/cron.d/storkit is a comment"
expect_eq "$(getent passwd storkit-pxe | cut -d: -f7)" /usr/sbin/nologin \
    "the CGI's user storkit-pxe exists, without a login"

# --- the example install config prepares ------------------------------------------------------
ex=/usr/share/doc/storkit/examples
expect_eq "$(ls "$ex" | tr '\n' ' ')" "ansible kickstart.cfg.in mgmtvm.json preseed.cfg.in pxe.json " \
    "the examples are installed"
mkdir -p "$T/ex/iso/images/pxeboot" "$T/ex/repo"
head -c 1000 /dev/urandom >"$T/ex/iso/images/pxeboot/vmlinuz"
head -c 1000 /dev/urandom >"$T/ex/iso/images/pxeboot/initrd.img"
xorriso -as mkisofs -quiet -R -J -o "$T/ex/repo/rocky-9.4.iso" "$T/ex/iso" 2>/dev/null
(umask 077 && echo secret >"$T/ex/bmc.password" && echo secret >"$T/ex/bmc-rack2.password" &&
    echo '$6$salt$hash' >"$T/ex/rootpw.hash")
jq --arg d "$T/ex" '
    .bmc.password_file = $d + "/bmc.password"
    | .groups.rack2.bmc_password_file = $d + "/bmc-rack2.password"
    | .install.secret_files.rootpw = $d + "/rootpw.hash"
    | .iso.repository = $d + "/repo"
    | .server.user = "storkit-pxe"
    | .paths = {tftp_root: ($d + "/tftp"), http_root: ($d + "/www"), state_dir: ($d + "/state"),
                dnsmasq_conf: ($d + "/dnsmasq.conf"), lighttpd_conf: ($d + "/lighttpd.conf")}' \
    "$ex/pxe.json" >"$T/ex/pxe.json"
run /usr/sbin/pxe-provision --config "$T/ex/pxe.json" prepare -n
expect_eq "$RC" 0 "the example pxe.json, its paths moved here, passes prepare -n"
[ "$RC" = 0 ] || echo "    $ERR"

# --- remove and purge -------------------------------------------------------------------------
run dpkg -r storkit
expect_eq "$RC" 0 "dpkg -r removes it"
expect_eq "$(ls /usr/sbin/pxe-provision /lib/systemd/system/storkit-pxe-monitor.timer 2>&1 | grep -c 'No such')" 2 \
    "the tools and units are gone"
expect_eq "$(ls /etc/cron.d/storkit 2>/dev/null)" /etc/cron.d/storkit "the cron file, a conffile, stays"
run dpkg -P storkit
expect_eq "$RC" 0 "dpkg -P purges it"
expect_eq "$(ls -d /etc/cron.d/storkit /etc/storkit 2>&1 | grep -c 'No such')" 2 \
    "purging removes the cron file and the empty /etc/storkit"
expect_eq "$(dpkg-query -W -f='${Status}' storkit 2>/dev/null || true)" "" "no trace in dpkg"

done_testing
