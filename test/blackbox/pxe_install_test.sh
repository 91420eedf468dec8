#!/usr/bin/env bash
# A real network install, end to end, with storkit's own tools only: pxe-provision prepares the
# test installer's ISO (scripts/testbed/pxe-installer: Debian's kernel and a busybox installer
# that runs the kickstart's %pre, %post and %onerror sections) and boots three nodes over
# ipmi_sim BMCs. A node's BMC, powering it into PXE, starts QEMU (TCG, OVMF: UEFI) on a tap in
# the client namespace; dnsmasq and lighttpd run prepare's configs in the server namespace;
# GRUB fetches the kernel over TFTP, the installer its kickstart over HTTP, and the kickstart's
# reporting sections post to pxe-report. Node 1 installs (UEFI), node 2's kickstart makes its
# installer fail, node 3 is powered but never boots, node 4 installs with BIOS firmware
# (SeaBIOS and the NIC's iPXE ROM, then pxelinux). pxe-monitor ticks until all are done and must
# report success, failure and a DHCP timeout for the right nodes, each on the first tick after it.
# STORKIT_INSTALL_NODES=N (default 4) adds installing nodes (UEFI) for a longer run by hand.
source "$(dirname "$0")/lib.sh"
plan 24

for cmd in xorriso dnsmasq lighttpd ip jq ipmi_sim qemu-system-x86_64 cpio; do
    command -v "$cmd" >/dev/null || { fail "needs $cmd (scripts/deps installs it)"; done_testing; }
done
for f in /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_VARS_4M.fd; do
    [ -f "$f" ] || { fail "needs $f (scripts/deps installs ovmf)"; done_testing; }
done
N=${STORKIT_INSTALL_NODES:-4}
[ "$N" -ge 4 ] || N=4

mkdir -p "$T/repo"
CACHE=${STORKIT_INSTALLER_CACHE:-$STORKIT_BIN/../testbed-installer}
if ! CACHE=$CACHE "$STORKIT_SRC/scripts/testbed/pxe-installer" build "$T/repo/os-test.iso" 2>"$T/installer.err"; then
    fail "the test installer builds" "$(cat "$T/installer.err")"
    done_testing
fi

# The lab: BMCs, namespaces, and a QEMU machine behind every BMC but node 3's.
LAB=$STORKIT_SRC/scripts/testbed/pxe-lab
export BASE=$T/lab NOBOOT=3 BIOS=4
at_exit "$LAB" down
if ! lab=$("$LAB" up "$N" 2>"$T/lab.err"); then
    fail "the lab starts" "$(cat "$T/lab.err")"
    done_testing
fi
eval "$lab"
mac() { "$LAB" mac "$1"; }
BMCS=$BASE/bmc
D=$T/out
STATE=$D/state/pxe

printf 'network --hostname={{name}}\nurl --url={{repo_url}}\n# storkit-test: fail {{fail}}\n' >"$T/ks.in"
(umask 077 && echo secret >"$T/bmc.pw")
nodes=""
for k in $(seq 1 "$N"); do nodes+="${nodes:+, }\"node$k\": {\"bmc\": \"$NET.$k\", \"mac\": \"$(mac "$k")\"}"; done
cat >"$T/pxe.json" <<EOF
{
  "bmc": {"subnet": "$NET.0/24", "user": "admin", "password_file": "$T/bmc.pw",
          "timeout_ms": 2000, "retries": 1},
  "data": {"subnet": "$DNET.0/24", "pool": "$DNET.100-$DNET.150", "gateway": "$SRV"},
  "server": {"interface": "$VS", "address": "$SRV", "hook": "$STORKIT_BIN/pxe-report", "user": "nobody", "http_port": 8080},
  "iso": {"repository": "$T/repo", "version": "os-test"},
  "paths": {"tftp_root": "$D/tftp", "http_root": "$D/www", "dnsmasq_conf": "$D/etc/dnsmasq.conf",
            "lighttpd_conf": "$D/etc/lighttpd.conf", "state_dir": "$D/state"},
  "boot": {"firmware": "auto", "loader": "native",
           "kernel_args": "inst.ks={{ks_url}} console=ttyS0 quiet"},
  "install": {"template": "$T/ks.in", "vars": {"fail": "node2"}},
  "power": {"wave": $N, "interval_s": 1},
  "monitor": {"dhcp_s": 45, "kickstart_s": 120, "heartbeat_s": 60, "install_s": 400},
  "nodes": {$nodes}
}
EOF
chmod 600 "$T/pxe.json"
CFG=$T/pxe.json

echo "# prepare, and the servers on its configs"
expect_rc 0 "prepare" pxe-provision --config "$CFG" prepare
ip netns exec "$NS_S" dnsmasq --conf-file="$D/etc/dnsmasq.conf" --no-ping \
    --pid-file="$T/dnsmasq.pid" --log-facility="$T/dnsmasq.log"
at_exit 'kill $(cat '"$T"'/dnsmasq.pid)'
ip netns exec "$NS_S" lighttpd -D -f "$D/etc/lighttpd.conf" 2>>"$T/lighttpd.log" &
at_exit kill $!
expect_match "$(cat "$STATE/ks/node1.cfg")" "storkit_report started" "the kickstart carries the reporting sections"

echo "# boot, then the monitor until every install has its result"
t0=$(date +%s.%N)
expect_rc 0 "boot powers every node into PXE" pxe-provision --config "$CFG" boot
run timeout 600 pxe-monitor --config "$CFG" --watch --interval 1 --json
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}')
echo "# $N nodes powered, and every result in, in $took s"
expect_eq "$RC" 1 "--watch ends, failed: not every install succeeded"
expect_eq "$(json '.counts | [.watching, .succeeded, .failed_or_timed_out] | map(tostring) | join(" ")')" \
    "0 $((N - 2)) 2" "the monitor's table ends with no node still watched"
FB=$STATE/feedback.jsonl
result() { jq -r --arg n "$1" 'select(.node == $n) | .result + " " + .phase' "$FB"; }
expect_eq "$(result node1)" "succeeded finished" "node 1 installed"
expect_eq "$(result node2)" "failed failed" "node 2's installer failed"
expect_match "$(jq -r 'select(.node == "node2") | .detail' "$FB")" "error: no disk found for node2" "with the tail of its log"
expect_eq "$(result node3)" "timed-out dhcp" "node 3 never asked for an address"
ok=0
for k in $(seq 4 "$N"); do [ "$(result "node$k")" = "succeeded finished" ] && ok=$((ok + 1)); done
expect_eq "$ok" "$((N - 3))" "node 4 (BIOS) and every further node installed"
p3=$(jq -r '.nodes[] | select(.name == "node3") | .powered_at' "$STATE/table.json")
t3=$(jq -r 'select(.node == "node3") | .time' "$FB")
expect_eq "$(awk -v p="$p3" -v t="$t3" 'BEGIN {d = t - p; print (d > 45 && d < 45 + 1 + 2) ? "on time" : d}')" "on time" \
    "the DHCP timeout came on the first tick after its deadline"
expect_match "$(cat "$BMCS/bmc1/node/console.log")" "installer: installed" "node 1's console shows the install"

echo "# each node's timeline, from its power-on"
for k in 1 2 4; do
    p=$(jq -r --arg n "node$k" '.nodes[] | select(.name == $n) | .powered_at' "$STATE/table.json")
    ip=$(jq -r --arg n "node$k" '.nodes[] | select(.name == $n) | .ip' "$STATE/table.json")
    line=$(jq -r --arg m "$(mac "$k")" --arg ip "$ip" --argjson p "$p" \
        'select(.time >= $p) | select(.mac == $m or (.kind == "tftp" and .ip == $ip and (.file | test("core.efi|pxelinux.0|vmlinuz|initrd")))) |
         select(.kind != "phase" or .phase != "heartbeat") |
         (.time - $p | floor | tostring) + "s " + .kind + " " +
         (if .kind == "tftp" then (.file | sub(".*/"; "")) elif .kind == "dhcp" then .action else .phase end)' \
        "$STATE/events.jsonl" | tr '\n' ',')
    echo "#   node$k: $line"
done
ip1=$(jq -r '.nodes[] | select(.name == "node1") | .ip' "$STATE/table.json")
# dnsmasq reports a TFTP transfer when it ends; GRUB leaves the last block of a large file
# unacknowledged, so the initrd's transfer may end (dnsmasq's retransmits timing out) 30 s later.
for _ in $(seq 120); do
    jq -r --arg ip "$ip1" 'select(.kind == "tftp" and .ip == $ip) | .file' "$STATE/events.jsonl" |
        grep -q initrd.img && break
    sleep 0.5
done
expect_match "$(jq -r --arg ip "$ip1" 'select(.kind == "tftp" and .ip == $ip) | .file' "$STATE/events.jsonl" | tr '\n' ' ')" \
    "vmlinuz.*initrd.img" "node 1 fetched its kernel and initrd over TFTP"
ip4=$(jq -r '.nodes[] | select(.name == "node4") | .ip' "$STATE/table.json")
expect_match "$(jq -r --arg ip "$ip4" 'select(.kind == "tftp" and .ip == $ip) | .file' "$STATE/events.jsonl" | tr '\n' ' ')" \
    "pxelinux.0 .*vmlinuz.*initrd.img" "node 4 (BIOS) came through pxelinux"
expect_eq "$(jq -r --arg m "$(mac 1)" 'select(.kind == "phase" and .mac == $m) | .phase' "$STATE/events.jsonl" | grep -v heartbeat | tr '\n' ' ')" \
    "started finished " "node 1 reported started, then finished"

echo "# the control machine's view"
run pxe-provision --config "$CFG" status --json
expect_eq "$(json '[.table.nodes[] | select(.name == "node1" or .name == "node2" or .name == "node3") | .name + "=" + .result] | join(" ")')" \
    "node1=succeeded node2=failed node3=timed-out" "pxe-provision status shows each result"

echo "# the hand-off: an installed node that boots from the network again is not reinstalled"
grub1=$D/tftp/boot/grub/grub.cfg-01-$(mac 1 | tr : -)
pxe4=$D/tftp/pxelinux.cfg/01-$(mac 4 | tr : -)
expect_eq "$(jq -r '[.nodes.node1.state, .nodes.node2.state, .nodes.node4.state] | join(" ")' "$STATE/installs.json")" \
    "installed install installed" "the install book: nodes 1 and 4 installed, node 2 still to install"
expect_eq "$(tail -1 "$grub1")/$(grep -c vmlinuz "$grub1")" "exit/0" "node 1's GRUB config now leaves for the local disk"
expect_match "$(cat "$pxe4")" "LOCALBOOT 0" "node 4's pxelinux config boots the local disk"
expect_rc 0 "prepare again" pxe-provision --config "$CFG" prepare
expect_eq "$(cat "$grub1" "$pxe4" | grep -c vmlinuz)/$(ls "$STATE/ks" | tr '\n' ' ')" "0/node2.cfg node3.cfg " \
    "keeps them on the local disk, and serves only the nodes still to install a kickstart"
n_before=$(wc -l <"$STATE/events.jsonl")
since() { tail -n +$((n_before + 1)) "$STATE/events.jsonl" | jq -c --arg ip "$ip1" --arg m "$(mac 1)" \
    'select(.ip == $ip or .mac == $m) | select(.phase != "heartbeat")'; }
expect_rc 0 "node 1 is power-cycled into PXE" bmc-power --config "$CFG" --nodes node1 pxe-boot
for _ in $(seq 120); do since | grep -q 'grub.cfg-01-' && break; sleep 0.5; done
sleep 10
expect_match "$(since)" '"file":"[^"]*grub.cfg-01-' "node 1 booted from the network and read its GRUB config"
expect_eq "$(since | grep -c 'vmlinuz\|"kind":"phase"')" 0 "but fetched no installer and reported no install"
done_testing
