#!/usr/bin/env bash
# pxe-provision prepare, end to end: ISO images built with xorriso, bad configs and bad images,
# then the generated configs run by a real dnsmasq and a real lighttpd in one network namespace,
# with real DHCP (busybox udhcpc, BIOS and UEFI client architectures), TFTP and HTTP clients
# (curl) in another, joined by a veth. Addresses are from 198.18.0.0/15 only.
. "$STORKIT_SRC/test/blackbox/lib.sh"
plan 134

for cmd in xorriso dnsmasq lighttpd busybox curl ip jq grub-script-check sha256sum; do
    command -v "$cmd" >/dev/null || { fail "needs $cmd (scripts/deps installs it)"; exit 1; }
done

W=$T/work       # image sources
REPO=$T/repo    # the ISO repository
D=$T/out        # everything pxe-provision writes
CFG=$T/pxe.json
SRV=198.18.0.1
MAC1=52:54:00:5a:00:01 MAC2=52:54:00:5a:00:02 MAC4=52:54:00:5a:00:04 MAC9=52:54:00:5a:00:09
NS_S=skpxs$$ NS_C=skpxc$$ VS=skvs$$ VC=skvc$$
mkdir -p "$W" "$REPO"

# --- ISO images -----------------------------------------------------------------------------
tree=$W/rocky
mkdir -p "$tree/images/pxeboot" "$tree/BaseOS/Packages" "$tree/repodata"
head -c 400000 /dev/urandom >"$tree/images/pxeboot/vmlinuz"
head -c 1500000 /dev/urandom >"$tree/images/pxeboot/initrd.img"
head -c 20000 /dev/urandom >"$tree/BaseOS/Packages/storage-1.0.rpm"
echo '<repomd/>' >"$tree/repodata/repomd.xml"
ln -s BaseOS "$tree/latest"                      # a symlink that stays inside
xorriso -as mkisofs -quiet -R -J -o "$REPO/rocky-9.iso" "$tree" 2>/dev/null
(cd "$REPO" && sha256sum rocky-9.iso >rocky-9.iso.sha256)

# Same content, but the repository's checksum file is wrong.
cp "$REPO/rocky-9.iso" "$REPO/tampered.iso"
echo "$(printf '0%.0s' {1..64})  tampered.iso" >"$REPO/tampered.iso.sha256"

# A symlink that escapes the extraction directory.
evil=$W/evil
mkdir -p "$evil/images/pxeboot"
cp "$tree/images/pxeboot/"* "$evil/images/pxeboot/"
ln -s ../../../../etc/shadow "$evil/images/pxeboot/escape"
xorriso -as mkisofs -quiet -R -J -o "$REPO/evil.iso" "$evil" 2>/dev/null

# --- configuration ---------------------------------------------------------------------------
cat >"$T/hook" <<EOF
#!/bin/sh
# Records every call (dnsmasq's dhcp-script: add|old|del MAC IP [name]; the CGI), then runs
# pxe-report.
echo "user=\$(id -un) args=\$* method=\${REQUEST_METHOD:-} query=\${QUERY_STRING:-}" >>$T/hook.log
exec $STORKIT_BIN/pxe-report "\$@"
EOF
chmod 755 "$T/hook"
: >"$T/hook.log"
chmod 666 "$T/hook.log"
cat >"$T/ks.in" <<'EOF'
# kickstart for {{name}}
network --bootproto=static --ip={{ip}} --netmask={{netmask}} --gateway={{gateway}} --hostname={{fqdn}}
url --url={{repo_url}}
timezone {{timezone}}
%post
curl -s "{{report_url}}?node={{name}}&state=installed"
%end
EOF
cat >"$T/base.json" <<EOF
{
  "bmc": {"subnet": "198.18.64.0/24", "user": "admin", "password_file": "$T/bmc.pw"},
  "data": {"subnet": "198.18.0.0/24", "pool": "198.18.0.100-198.18.0.150",
           "gateway": "$SRV", "dns": ["$SRV"], "domain": "stor.test"},
  "server": {"interface": "$VS", "address": "$SRV", "hook": "$T/hook", "user": "nobody"},
  "iso": {"repository": "$REPO", "version": "rocky-9"},
  "paths": {"tftp_root": "$D/tftp", "http_root": "$D/www",
            "dnsmasq_conf": "$D/etc/dnsmasq.conf", "lighttpd_conf": "$D/etc/lighttpd.conf",
            "state_dir": "$D/state"},
  "boot": {"firmware": "auto", "loader": "native"},
  "install": {"template": "$T/ks.in", "vars": {"timezone": "Etc/UTC"}},
  "nodes": {
    "node1": {"bmc": "198.18.64.11", "mac": "$MAC1"},
    "node2": {"bmc": "198.18.64.12", "mac": "$MAC2", "ip": "198.18.0.50"},
    "node3": {"bmc": "198.18.64.13"}
  }
}
EOF
# config JQ_FILTER: writes $CFG from the base config changed by the filter.
config() { jq "$1" "$T/base.json" >"$CFG"; }
prepare() { run pxe-provision --config "$CFG" prepare "$@"; }
nothing_written() { [ ! -e "$D" ] && pass "$1: nothing written" || fail "$1: $D exists"; }

# --- usage and the man page ------------------------------------------------------------------
expect_rc 2 "no subcommand is a usage error" pxe-provision --config "$T/base.json"
expect_rc 2 "an unknown subcommand is a usage error" pxe-provision frobnicate
expect_rc 0 "--help" pxe-provision --help
# roff writes "-" as "\-"; compare plain text.
man=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$STORKIT_SRC/man/pxe-provision.1")
opts=$( (pxe-provision --help; pxe-provision prepare --help) | grep -oE -- '--[a-z][a-z-]+' | sort -u)
missing=
for o in $opts; do grep -qF -- "$o" <<<"$man" || missing="$missing $o"; done
expect_eq "${missing:-none}" none "the man page documents every option of --help"

# --- bad configs: one clear error each (exit 2), nothing written ------------------------------
bad_config() {  # NAME JQ_FILTER REGEX
    config "$2"
    prepare
    expect_eq "$RC" 2 "$1: exit 2"
    expect_match "$ERR" "^pxe-provision: error: $CFG: $3" "$1: the error names it"
    expect_eq "$(wc -l <<<"$ERR")" 1 "$1: one line on stderr"
    nothing_written "$1"
}
bad_config "overlapping subnets" '.bmc.subnet = "198.18.0.0/16"' \
    "key 'data.subnet': 198.18.0.0/24 overlaps bmc.subnet 198.18.0.0/16"
bad_config "pool outside the subnet" '.data.pool = "198.18.0.200-198.18.1.20"' \
    "key 'data.pool': 198.18.0.200-198.18.1.20 is outside data.subnet"
bad_config "duplicate MAC" ".nodes.node3.mac = \"$MAC1\"" \
    "key 'nodes.node3.mac': $MAC1 is also the mac of node node1"
bad_config "duplicate IP" '.nodes.node3.ip = "198.18.0.50"' \
    "key 'nodes.node3.ip': 198.18.0.50 is also the ip of node node2"
bad_config "missing ISO" '.iso.version = "rocky-10"' \
    "key 'iso.version': no image .*/rocky-10.iso in the repository \(available: evil, rocky-9, tampered\)"
bad_config "unknown template variable" ".boot.kernel_args = \"ks={{kickstart}}\"" \
    "key 'boot.kernel_args': boot.kernel_args:1: unknown variable \{\{kickstart\}\}"
bad_config "a typo in a key" '.data.gatway = .data.gateway' "key 'data.gatway': unknown key"
bad_config "pool too small" '.data.pool = "198.18.0.100-198.18.0.100"' \
    "key 'data.pool': 198.18.0.100-198.18.0.100 has 1 addresses, too few for 2 nodes"
# pxe-report reads the same file as root (dnsmasq's hook): a misspelt key or a value of the
# wrong type is refused as prepare refuses it, never read as the default state directory.
config '.paths.state_dri = .paths.state_dir | del(.paths.state_dir)'
run pxe-report --config "$CFG" table
expect_match "$RC $ERR" "^2 .*$CFG: key 'paths.state_dri': unknown key" "pxe-report: a misspelt key of its config is refused"
nothing_written "pxe-report with a misspelt key"
config '.paths.state_dir = 5'
run pxe-report --config "$CFG" table
expect_match "$RC $ERR" "^2 .*$CFG: key 'paths.state_dir': " "pxe-report: a value of the wrong type is refused"
# A hook that is not executable yet is still checked: whoever may write it may make it so.
chmod 666 "$T/hook"
config '.'
prepare
expect_eq "$RC" 2 "a hook others can write, not executable: exit 2"
expect_match "$ERR" "hook server.hook $T/hook: it is writable by group or others \\(mode 0666\\)" \
    "a hook others can write, not executable: named with its mode"
nothing_written "a hook others can write, not executable"
chmod 644 "$T/hook"
prepare --json
expect_match "$RC $(jq -r '.notes[]' <<<"$OUT")" "^0 .*hook $T/hook \\(server.hook\\) is not executable" \
    "a root-only hook that is not executable is a note"
chmod 755 "$T/hook"
rm -rf "$D"
# Three bad keys in three sections: one run names each on a line of its own, then exits 2.
config '.bmc.timeout_ms = 50 | .data.gatway = "198.18.0.1" | .power = {"wave": "2"}'
prepare
expect_eq "$RC" 2 "three bad keys: exit 2"
expect_eq "$(wc -l <<<"$ERR")" 3 "three bad keys: one line each"
for key in bmc.timeout_ms data.gatway power.wave; do
    grep -qF "pxe-provision: error: $CFG: key '$key': " <<<"$ERR" &&
        pass "three bad keys: $key named" || fail "three bad keys: $key named" "$ERR"
done
nothing_written "three bad keys"

# --- bad images: refused (exit 1), nothing written -------------------------------------------
config '.iso.version = "tampered"'
prepare --json
expect_eq "$RC" 1 "wrong .sha256: exit 1"
expect_match "$(json .msg)" "tampered.iso: SHA-256 is [0-9a-f]{64} but the repository's checksum file says 0{64}" \
    "wrong .sha256: the error names both checksums"
nothing_written "wrong .sha256"
config '.iso.version = "evil"'
prepare --json
expect_eq "$RC" 1 "escaping symlink: exit 1"
expect_match "$(json .msg)" 'evil.iso: symlink "images/pxeboot/escape" -> "../../../../etc/shadow" points outside the image' \
    "escaping symlink: the error names the entry"
nothing_written "escaping symlink"
prepare -n --json
expect_eq "$RC" 1 "escaping symlink is refused in a dry run too"

# --- dry run -----------------------------------------------------------------------------------
config .
prepare -n --json
expect_eq "$RC" 0 "dry run: exit 0"
expect_eq "$(json .changed)" true "dry run: would change"
expect_match "$(json '.changed_files | join(" ")')" "$D/etc/dnsmasq.conf .*dhcp-hosts/node1" \
    "dry run: lists the files it would write"
nothing_written "dry run"
prepare -n
expect_match "$OUT" "would extract $REPO/rocky-9.iso" "dry run without --json says what it would do"

# --- prepare -----------------------------------------------------------------------------------
prepare --json --detailed-exitcode
expect_eq "$RC" 3 "prepare: exit 3 (changed) with --detailed-exitcode"
expect_eq "$(json .image.extracted)" true "prepare: the image was extracted"
expect_eq "$(json .image.family)/$(json .image.kernel)" rhel/images/pxeboot/vmlinuz "prepare: found the RHEL layout"
expect_eq "$(json .nodes)/$(json .nodes_without_mac)" 3/1 "prepare: 3 nodes, 1 without a MAC"
expect_eq "$(json '.restart | join(",")')" dnsmasq,lighttpd "prepare: says dnsmasq and lighttpd need a restart"
expect_eq "$(json .notes)" "[]" "prepare: no notes"
run dnsmasq --test --conf-file="$D/etc/dnsmasq.conf"
expect_eq "$RC" 0 "dnsmasq --test accepts the generated config"
run lighttpd -tt -f "$D/etc/lighttpd.conf"
expect_eq "$RC/$ERR" "0/" "lighttpd -tt accepts the generated config"
rejected=
for g in "$D"/tftp/boot/grub/grub.cfg*; do grub-script-check "$g" || rejected="$rejected $g"; done
expect_eq "${rejected:-none}" none "grub-script-check accepts every GRUB config"
expect_eq "$(cat "$D/state/pxe/dhcp-hosts/node1")" "$MAC1,198.18.0.100,node1" "node1 reserved at the first pool address"
expect_eq "$(cat "$D/state/pxe/dhcp-hosts/node2")" "$MAC2,198.18.0.50,node2" "node2 reserved at its fixed address"
[ ! -e "$D/state/pxe/dhcp-hosts/node3" ] && pass "node3 (no MAC yet) has no reservation" || fail "node3 has a reservation"
expect_eq "$(jq -r '.nodes.node3.ip' "$D/state/pxe/nodes.json")" 198.18.0.101 "node3's address is recorded in the node table"
cmp -s "$tree/BaseOS/Packages/storage-1.0.rpm" "$D/www/storkit/images/rocky-9/BaseOS/Packages/storage-1.0.rpm" &&
    pass "the package tree is served from the extracted image" || fail "package tree"
expect_eq "$(readlink "$D/www/storkit/images/rocky-9/latest")" BaseOS "an inside symlink is kept"
cache_ino=$(stat -c %i "$D"/state/pxe/images/*/)

prepare --json --detailed-exitcode
expect_eq "$RC" 0 "rerun: exit 0 (nothing changed)"
expect_eq "$(json .changed)/$(json '.changed_files | length')/$(json .image.extracted)" false/0/false \
    "rerun: no file written, no extraction"
expect_eq "$(stat -c %i "$D"/state/pxe/images/*/)" "$cache_ino" "rerun: the image cache is untouched"

# Runs never overlap: while another holds the lock (here: this shell), exit 75 at once.
exec {lockfd}>"$D/state/pxe/lock"
flock -n "$lockfd"
expect_rc 75 "a second run while one holds the lock exits 75" pxe-provision --config "$CFG" prepare
exec {lockfd}>&-

config '.nodes.node1.ip = "198.18.0.60"'
prepare --json
expect_eq "$(json '.changed_files | join(" ")')" "$D/state/pxe/dhcp-hosts/node1 $D/state/pxe/ks/node1.cfg" \
    "one node's address changed: only its reservation and kickstart are rewritten"
expect_eq "$(json '.reload | join(",")')/$(json '.restart | length')" dnsmasq/0 \
    "a changed reservation asks for a dnsmasq SIGHUP, not a restart"
config .
# --reload goes through systemctl and the package's units, which this test does not install:
# it fails, naming what to do, after writing the files all the same.
prepare --reload
expect_match "$RC/$ERR" "^1/pxe-provision: error: --reload: (systemd does not run here: reload storkit-pxe-dnsmasq.service yourself|systemctl reload storkit-pxe-dnsmasq.service: )" \
    "prepare --reload names the unit it could not reload"
prepare --json
expect_eq "$(json '.changed_files | length')" 0 "and back: --reload wrote the files"

# --- the generated configs, served for real ----------------------------------------------------
ip netns add "$NS_S" && at_exit ip netns del "$NS_S"
ip netns add "$NS_C" && at_exit ip netns del "$NS_C"
ip link add "$VS" netns "$NS_S" type veth peer name "$VC" netns "$NS_C"
ip -n "$NS_S" addr add "$SRV/24" dev "$VS"
for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" link set "$VS" up
ip -n "$NS_C" link set "$VC" up

start_dnsmasq() {
    ip netns exec "$NS_S" dnsmasq --keep-in-foreground --conf-file="$D/etc/dnsmasq.conf" \
        --log-facility="$T/dnsmasq.log" --pid-file="$T/dnsmasq.pid" &
    DNSMASQ=$!
    at_exit kill "$DNSMASQ"
}
start_dnsmasq
ip netns exec "$NS_S" lighttpd -D -f "$D/etc/lighttpd.conf" 2>"$T/lighttpd.log" &
LIGHTTPD=$!
at_exit kill "$LIGHTTPD"

in_client() { ip netns exec "$NS_C" "$@"; }
fetch() { in_client curl -sf --max-time 5 --retry 20 --retry-delay 0 --retry-connrefused "$@"; }

cat >"$T/udhcpc.sh" <<'EOF'
#!/bin/sh
# udhcpc event script: configure the address, record what the server offered.
case $1 in
bound | renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    echo "ip=$ip boot_file=${boot_file:-} siaddr=${siaddr:-}" >"$LOG"
    ;;
esac
EOF
chmod 755 "$T/udhcpc.sh"
# dhcp NAME MAC ARCH [extra udhcpc args]: a client interface with MAC asks for a lease with
# client architecture ARCH (option 93: 0000 BIOS, 0007 x86-64 UEFI). Sets $LEASE.
dhcp() {
    local name=$1 mac=$2 arch=$3
    shift 3
    in_client ip link del "$name" 2>/dev/null
    in_client ip link add "$name" link "$VC" address "$mac" type macvlan mode bridge
    in_client ip link set "$name" up
    LOG=$T/lease-$name in_client busybox udhcpc -f -q -n -t 10 -T 1 -i "$name" -s "$T/udhcpc.sh" \
        -x "0x5d:$arch" "$@" >/dev/null 2>&1
    LEASE=$(cat "$T/lease-$name" 2>/dev/null)
}

dhcp bios1 "$MAC1" 0000
expect_eq "$LEASE" "ip=198.18.0.100 boot_file=pxelinux.0 siaddr=$SRV" "BIOS client node1: reserved address, pxelinux.0"
dhcp uefi2 "$MAC2" 0007
expect_eq "$LEASE" "ip=198.18.0.50 boot_file=boot/grub/x86_64-efi/core.efi siaddr=$SRV" \
    "UEFI client node2: reserved address, GRUB"
in_client ip link del uefi2
dhcp stranger "$MAC9" 0000
expect_match "$LEASE" "^ip=198\.18\.0\.1[0-9][0-9] boot_file= " "an unknown machine gets an address but no boot file"
in_client ip link del stranger
expect_match "$(cat "$T/hook.log" 2>/dev/null)" "user=root args=--state-dir $D/state/pxe add $MAC1 198.18.0.100 node1" \
    "dnsmasq ran the hook for the lease, told the state directory prepare used"

tftp_same() {  # URL-PATH LOCAL-FILE NAME
    rm -f "$T/got"
    fetch -o "$T/got" "tftp://$SRV/$1" && cmp -s "$T/got" "$2" && pass "$3" || fail "$3" "tftp://$SRV/$1"
}
tftp_same pxelinux.cfg/01-52-54-00-5a-00-01 "$D/tftp/pxelinux.cfg/01-52-54-00-5a-00-01" \
    "TFTP: node1's pxelinux config"
tftp_same boot/grub/grub.cfg-01-52-54-00-5a-00-02 "$D/tftp/boot/grub/grub.cfg-01-52-54-00-5a-00-02" \
    "TFTP: node2's GRUB config"
tftp_same pxelinux.0 /usr/lib/PXELINUX/pxelinux.0 "TFTP: pxelinux.0 from the pxelinux package"
tftp_same storkit/images/rocky-9/images/pxeboot/vmlinuz "$tree/images/pxeboot/vmlinuz" \
    "TFTP: the kernel is byte-identical to the one in the image"
tftp_same storkit/images/rocky-9/images/pxeboot/initrd.img "$tree/images/pxeboot/initrd.img" \
    "TFTP: the initrd is byte-identical to the one in the image"
grep -q "storkit/images/rocky-9/images/pxeboot/vmlinuz" "$D/tftp/pxelinux.cfg/01-52-54-00-5a-00-01" &&
    pass "node1's pxelinux config names that kernel" || fail "pxelinux kernel path"

# The kickstart goes to node1's own address only, through the CGI (lighttpd runs as nobody).
in_client ip -br addr | grep -q ' 198\.18\.0\.100/' || in_client ip addr add 198.18.0.100/24 dev "$VC"
in_client ip addr add 198.18.0.77/24 dev "$VC"
ks=$(fetch --interface 198.18.0.100 "http://$SRV/storkit/ks/node1.cfg")
expect_match "$ks" "--ip=198.18.0.100 --netmask=255.255.255.0 --gateway=$SRV --hostname=node1.stor.test" \
    "HTTP: node1's kickstart has its address and name"
expect_match "$ks" "url --url=http://$SRV/storkit/images/rocky-9"$'\n'"timezone Etc/UTC" "HTTP: ... the repository URL and its variables"
fetch -o "$T/got" "http://$SRV/storkit/images/rocky-9/BaseOS/Packages/storage-1.0.rpm" &&
    cmp -s "$T/got" "$tree/BaseOS/Packages/storage-1.0.rpm" && pass "HTTP: packages are served" ||
    fail "HTTP: packages"
expect_eq "$(in_client curl -s --max-time 5 --interface 198.18.0.77 -o /dev/null -w '%{http_code}' \
    "http://$SRV/storkit/ks/node1.cfg")" 403 "HTTP: node1's kickstart is refused to another address"
expect_eq "$(ps -o user= -p "$LIGHTTPD")" nobody "lighttpd runs as server.user, not root"
expect_eq "$(stat -c '%a %U:%G' "$D/state/pxe" "$D/state/pxe/ks/node1.cfg" "$D/state/pxe/installs.json" | tr '\n' ' ')" \
    "2771 root:nogroup 640 root:nogroup 660 root:nogroup " \
    "the state, kickstarts and tokens: root and the CGI's group only"
[ ! -e "$D/www/storkit/ks/node1.cfg" ] && pass "no kickstart under the document root" || fail "a served kickstart"
token=$(jq -r .nodes.node1.token "$D/state/pxe/installs.json")
expect_eq "$(fetch --interface 198.18.0.100 --data "node=node1&token=$token&phase=started" "http://$SRV/storkit/report")" \
    "recorded started for node1" "HTTP: /storkit/report runs pxe-report as CGI: node1's report with its token"
expect_match "$(grep method=POST "$T/hook.log")" "user=nobody args=--state-dir $D/state/pxe method=POST" \
    "the CGI ran as nobody, told the state directory"

# A new node needs no dnsmasq restart: its reservation file is read on the fly.
config ".nodes.node4 = {\"bmc\": \"198.18.64.14\", \"mac\": \"$MAC4\"}"
prepare --json
expect_eq "$(json '.restart | length')/$(json '.reload | length')" 0/0 "adding a node needs no restart"
dhcp bios4 "$MAC4" 0000
expect_eq "$LEASE" "ip=198.18.0.102 boot_file=pxelinux.0 siaddr=$SRV" \
    "the running dnsmasq serves the new node's reservation"
in_client ip link del bios4

# --- iPXE: first stage from TFTP, the rest over HTTP ---------------------------------------------
config '.boot.loader = "ipxe"'
prepare --json
expect_eq "$(json '.restart | join(",")')" dnsmasq "switching to iPXE restarts dnsmasq only"
expect_match "$(json '.removed_files | join(" ")')" "pxelinux.cfg/01-52-54-00-5a-00-01" \
    "the pxelinux configs are removed"
[ ! -e "$D/tftp/pxelinux.cfg/01-52-54-00-5a-00-01" ] && pass "... and gone" || fail "pxelinux config left"
run dnsmasq --test --conf-file="$D/etc/dnsmasq.conf"
expect_eq "$RC" 0 "dnsmasq --test accepts the iPXE config"
kill "$DNSMASQ" && wait "$DNSMASQ" 2>/dev/null
start_dnsmasq
dhcp bios1 "$MAC1" 0000
expect_eq "$LEASE" "ip=198.18.0.100 boot_file=undionly.kpxe siaddr=$SRV" "iPXE, BIOS client: undionly.kpxe"
dhcp uefi2 "$MAC2" 0007
expect_eq "$LEASE" "ip=198.18.0.50 boot_file=snponly.efi siaddr=$SRV" "iPXE, UEFI client: snponly.efi"
dhcp uefi2 "$MAC2" 0007 -x 0x4d:69505845
expect_eq "$LEASE" "ip=198.18.0.50 boot_file=http://$SRV/storkit/boot.ipxe siaddr=$SRV" \
    "iPXE itself (user class iPXE) is sent to the HTTP script"
tftp_same snponly.efi /usr/lib/ipxe/snponly.efi "TFTP: snponly.efi from the ipxe package"
expect_match "$(fetch "http://$SRV/storkit/boot.ipxe")" 'chain http://198.18.0.1/storkit/ipxe/\$\{mac:hexhyp\}.ipxe' \
    "HTTP: boot.ipxe chains to the node's script"
script=$(fetch "http://$SRV/storkit/ipxe/52-54-00-5a-00-02.ipxe")
expect_match "$script" "kernel http://$SRV/storkit/images/rocky-9/images/pxeboot/vmlinuz initrd=initrd inst.ks=http://$SRV/storkit/ks/node2.cfg" \
    "HTTP: node2's iPXE script boots the kernel with its kickstart"
fetch -o "$T/got" "http://$SRV/storkit/images/rocky-9/images/pxeboot/initrd.img" &&
    cmp -s "$T/got" "$tree/images/pxeboot/initrd.img" && pass "HTTP: the initrd is byte-identical" ||
    fail "HTTP: initrd"

# --- every combination of firmware and loader (and DNS on or off) gives configs the servers accept
for fw in auto bios uefi; do
    for loader in ipxe native; do
        dns=false
        [ "$loader" = native ] && dns=true
        config ".boot = {firmware: \"$fw\", loader: \"$loader\"} | .server.dns = $dns"
        prepare --json
        expect_eq "$RC" 0 "prepare with firmware $fw, loader $loader"
        run dnsmasq --test --conf-file="$D/etc/dnsmasq.conf"
        expect_eq "$RC" 0 "dnsmasq --test: firmware $fw, loader $loader"
        run lighttpd -tt -f "$D/etc/lighttpd.conf"
        expect_eq "$RC/$ERR" "0/" "lighttpd -tt: firmware $fw, loader $loader"
    done
done
done_testing
