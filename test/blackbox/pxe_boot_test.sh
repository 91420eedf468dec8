#!/usr/bin/env bash
# pxe-provision boot, status and discover against real BMCs (ipmi_sim on loopback) and a real
# dnsmasq running prepare's generated config with pxe-report as its dhcp-script. Nodes 1-5 have
# known MACs and go in waves; node 6's BMC is frozen; nodes 7-9 have no MAC: 7 and 8 start a
# DHCP client (busybox udhcpc, in a network namespace joined by a veth) when their BMC boots
# them, node 9 never asks for an address. The BMCs record every chassis command with its time.
source "$(dirname "$0")/lib.sh"
plan 72

for cmd in xorriso dnsmasq busybox ip jq ipmi_sim; do
    command -v "$cmd" >/dev/null || { fail "needs $cmd (scripts/deps installs it)"; exit 1; }
done

source "$(dirname "$0")/pxe_bed.sh"
export SILENT=6
unset WRONG_PASSWORD
bmcs_up 9
provisioning_net bt
D=$T/out
STATE=$D/state/pxe
mac() { printf '52:54:00:6b:%02x:%02x' $((ID % 256)) "$1"; }
# Nodes 7 and 8: a NIC (macvlan) each, and a boot program that asks DHCP for an address.
printf '#!/bin/sh\n[ "$1" = bound ] && echo "$ip" >>"$LOG"\nexit 0\n' >"$T/udhcpc.sh"
chmod +x "$T/udhcpc.sh"
for k in 7 8; do
    ip -n "$NS_C" link add link "$VC" name "n$k" address "$(mac "$k")" type macvlan mode bridge
    ip -n "$NS_C" link set "n$k" up
    cat >"$BASE/bmc$k/node/on-boot" <<EOF
#!/bin/sh
exec ip netns exec $NS_C env LOG=$T/leases.n$k busybox udhcpc -i n$k -n -q -t 10 -T 1 -s $T/udhcpc.sh
EOF
    chmod +x "$BASE/bmc$k/node/on-boot"
done

# --- an installable image and the configuration ------------------------------------------------
tiny_image
nodes=""
for k in 1 2 3 4 5 6; do nodes+="\"node$k\": {\"bmc\": \"$NET.$k\", \"mac\": \"$(mac "$k")\"}, "; done
nodes+="\"node7\": {\"bmc\": \"$NET.7\"}, \"node8\": {\"bmc\": \"$NET.8\"}, \"node9\": {\"bmc\": \"$NET.9\"}"
cat >"$T/base.json" <<EOF
{
  "bmc": {"subnet": "$NET.0/24", "user": "admin", "password_file": "$T/bmc.pw",
          "timeout_ms": 1000, "retries": 0},
  "data": {"subnet": "$DNET.0/24", "pool": "$DNET.100-$DNET.150", "gateway": "$SRV"},
  "server": {"interface": "$VS", "address": "$SRV", "hook": "$STORKIT_BIN/pxe-report", "user": "nobody"},
  "iso": {"repository": "$T/repo", "version": "os-1"},
  "paths": {"tftp_root": "$D/tftp", "http_root": "$D/www", "dnsmasq_conf": "$D/etc/dnsmasq.conf",
            "lighttpd_conf": "$D/etc/lighttpd.conf", "state_dir": "$D/state"},
  "boot": {"loader": "native"},
  "install": {"template": "$T/ks.in"},
  "power": {"wave": 2, "interval_s": 1, "bind_timeout_s": 8},
  "nodes": {$nodes}
}
EOF
CFG=$T/pxe.json
cp "$T/base.json" "$CFG"
PP=(pxe-provision --config "$CFG")

# --- bad config ----------------------------------------------------------------------------
jq '.power.wave = 0' "$T/base.json" >"$T/bad.json"
expect_rc 2 "power.wave 0 is a config error" pxe-provision --config "$T/bad.json" boot
expect_match "$ERR" "power.wave" "the error names the key"
jq '.bmc.cipher_suite = 4' "$T/base.json" >"$T/bad.json"
expect_rc 2 "an unknown cipher suite is a config error" pxe-provision --config "$T/bad.json" boot
expect_eq "$(cat "$BASE"/bmc*/node/events.log | wc -l)" 0 "no BMC saw a command"

# --- prepare, and dnsmasq running its config with pxe-report as the hook -------------------------
expect_rc 0 "prepare" "${PP[@]}" prepare
ip netns exec "$NS_S" dnsmasq --conf-file="$D/etc/dnsmasq.conf" --no-ping \
    --pid-file="$T/dnsmasq.pid" --log-facility="$T/dnsmasq.log"
at_exit 'kill $(cat '"$T"'/dnsmasq.pid)'

# --- a dry run ------------------------------------------------------------------------------
expect_rc 0 "boot -n" "${PP[@]}" boot -n
expect_eq "$OUT" "would power on node1 node2" "-n names the first wave"
expect_eq "$(cat "$BASE"/bmc*/node/events.log | wc -l)" 0 "-n sent nothing"

# --- boot: waves of two, node 6 dead, nodes 7-9 bound by order ------------------------------
run "${PP[@]}" boot --json
expect_eq "$RC" 1 "boot exits 1: a node failed and one stayed unbound"
expect_eq "$(json '.states.booted | join(" ")')" "node1 node2 node3 node4 node5" \
    "nodes 1-5 booted"
expect_eq "$(json '.states.failed | join(" ")')" node6 "node 6 (frozen BMC) failed"
expect_eq "$(json '.states.bound | join(" ")')" "node7 node8" "nodes 7 and 8 were bound"
expect_eq "$(json '.states.unbound | join(" ")')" node9 "node 9 is reported unbound"
expect_match "$(json .msg)" "needs attention: node6 \(failed\), node9 \(unbound\)" \
    "the message names them"
expect_eq "$(json '.nodes.node7.mac + " " + .nodes.node8.mac')" "$(mac 7) $(mac 8)" \
    "each MAC-less node got the MAC of the NIC that booted with it"
expect_eq "$(jq -r '.nodes.node7.mac + " " + .nodes.node8.mac' "$STATE/nodes.json")" \
    "$(mac 7) $(mac 8)" "the learned MACs are in the node table for prepare"

# power-on time of node K as its BMC recorded it, and the order of its commands
t_on() { awk '$2 == "set" && $3 == "power" && $4 == 1 {print $1; exit}' "$BASE/bmc$1/node/events.log"; }
ok=0
for k in 1 2 3 4 5 7 8 9; do
    [ "$(head -3 "$BASE/bmc$k/node/events.log" | cut -d' ' -f2- | tr '\n' '|')" = \
        "set boot pxe|set power 1|boot pxe|" ] && ok=$((ok + 1))
done
expect_eq "$ok" 8 "every node got PXE as its boot device before power-up"
# The waves, in order: {1,2} {3,4} {5,6} {7} {8} {9}; node 6 never answered.
waves=("1 2" "3 4" "5" "7" "8" "9")
in_order=0 spaced=0
for ((w = 1; w < ${#waves[@]}; w++)); do
    last=0 first=
    for k in ${waves[w - 1]}; do last=$(awk -v a="$last" -v b="$(t_on "$k")" 'BEGIN {print (b > a) ? b : a}'); done
    for k in ${waves[w]}; do first=${first:-$(t_on "$k")}; first=$(awk -v a="$first" -v b="$(t_on "$k")" 'BEGIN {print (b < a) ? b : a}'); done
    awk -v a="$last" -v b="$first" 'BEGIN {exit !(b > a)}' && in_order=$((in_order + 1))
    # interval_s is 1: a wave never starts sooner than that after the one before
    awk -v a="$last" -v b="$first" 'BEGIN {exit !(b - a >= 1)}' && spaced=$((spaced + 1))
done
expect_eq "$in_order" 5 "the waves powered on in node order"
expect_eq "$spaced" 5 "each wave at least interval_s after the one before"
# node 8 was only powered once node 7 was bound (one at a time while binding by order)
b7=$(jq -r '.nodes.node7.bound_at' "$STATE/boot.json")
expect_eq "$(awk -v a="$b7" -v b="$(t_on 8)" 'BEGIN {print (b > a) ? "after" : "before"}')" after \
    "node 8 powered on only after node 7 was bound"

# --- status: the BMC -> MAC -> DHCP address table ----------------------------------------------
run "${PP[@]}" status --json
expect_eq "$RC" 0 "status exits 0"
ip7=$(tail -1 "$T/leases.n7")
expect_eq "$(json '.table.nodes[] | select(.name == "node7") | [.bmc, .mac, .ip, .boot] | join(" ")')" \
    "$NET.7 $(mac 7) $ip7 bound" "node 7's row: BMC, learned MAC, its lease, boot state"
expect_eq "$(json '.table.nodes[] | select(.name == "node6") | .boot')" failed "node 6 shows failed"
expect_eq "$(jq -r '.nodes[] | select(.name == "node8") | .mac' "$STATE/table.json")" "$(mac 8)" \
    "table.json, the monitor's copy, has the binding"
run "${PP[@]}" status
expect_match "$(grep '^node7 ' <<<"$OUT")" "$NET.7 +$(mac 7) +$ip7 " "status prints the table"

# --- bmc-power on the nodes of the same config ----------------------------------------------
run bmc-power --config "$CFG" status
expect_eq "$RC" 1 "bmc-power --config: node 6 fails, so exit 1"
expect_eq "$(grep -c ': on$' <<<"$OUT")" 7 "the nodes that booted read on"
expect_match "$(grep '^node9 ' <<<"$OUT")" ": off$" "node 9, given up, was powered off"
expect_match "$(sed -n 7p <<<"$OUT")" "^node7 $NET.7:623: on$" "lines start with the node name"
expect_match "$ERR" "node6 $NET.6:623 \(" "the failure names the node"
run bmc-power --config "$CFG" --nodes 'node[1-2],node9' --json status
expect_eq "$RC/$(json '[.bmcs[].node] | join(" ")')" "0/node1 node2 node9" "--nodes picks nodes by name"
expect_rc 2 "--nodes with an unknown node is a usage error" \
    bmc-power --config "$CFG" --nodes node42 status

# --- prepare makes the bound nodes' reservations; boot again installs them -------------------
expect_rc 0 "prepare after binding" "${PP[@]}" prepare
expect_eq "$(cut -d, -f1 "$D/state/pxe/dhcp-hosts/node7")" "$(mac 7)" "node 7 has its reservation"
run "${PP[@]}" boot --json
expect_eq "$(json '.states.booted | join(" ")')" "node1 node2 node3 node4 node5 node7 node8" \
    "the second run boots the bound nodes and leaves the others as they were"
expect_eq "$(grep -c 'set power 1' "$BASE/bmc1/node/events.log")" 1 "node 1 was not powered again"
expect_eq "$(tail -4 "$BASE/bmc7/node/events.log" | cut -d' ' -f2- | tr '\n' '|')" \
    "set boot pxe|set power 0|set power 1|boot pxe|" "node 7 was cycled into PXE again"
reserved7=$(jq -r '.nodes.node7.ip' "$STATE/nodes.json")
# Up to 15 s: the power-on starts the client (udhcpc: 10 tries, 1 s apart) after boot returns.
for _ in $(seq 300); do [ "$(tail -1 "$T/leases.n7")" = "$reserved7" ] && break; sleep 0.05; done
expect_eq "$(tail -1 "$T/leases.n7")" "$reserved7" "this time node 7 got its reserved address"
[ "$(tail -1 "$T/leases.n7")" = "$reserved7" ] || {
    echo "# node 7's leases: $(tr '\n' ' ' <"$T/leases.n7")"
    echo "# its reservation: $(cat "$D/state/pxe/dhcp-hosts/node7")"
    grep -iE "$(mac 7)|dhcp-hosts|inotify|read " "$T/dnsmasq.log" | tail -30 | sed 's/^/# dnsmasq: /'
}

# --- installed nodes are never powered, running ones never cycled, unless asked ---------------
cycles() { grep -c 'set power 1' "$BASE/bmc$1/node/events.log"; }
expect_rc 0 "node1's install finished (recorded by root on the control machine)" \
    pxe-report --state-dir "$STATE" phase "$(mac 1)" finished
expect_eq "$(jq -r .nodes.node1.state "$STATE/installs.json")" installed "node1 is installed"
c1=$(cycles 1) c2=$(cycles 2)
run "${PP[@]}" boot --restart --json
expect_eq "$RC/$(json .nodes.node1.state)/$(json .nodes.node2.state)" 1/installed/running \
    "boot --restart: node1 stays installed, node2 (on, not marked) is running: exit 1"
expect_eq "$(cycles 1)/$(cycles 2)" "$c1/$c2" "neither was power-cycled"
expect_match "$(json .msg)" "needs attention: .*node2 \(running\)" "the message names the running nodes"
run "${PP[@]}" boot --force node1 --json
expect_eq "$(json .nodes.node1.state)/$(cycles 1)" "booted/$((c1 + 1))" \
    "boot --force node1 powers it although it is installed"
token2=$(jq -r .nodes.node2.token "$STATE/installs.json")
run "${PP[@]}" reinstall node2 --json
expect_eq "$RC/$(json .nodes.node2.state)/$(json '.reinstall | join(" ")')" 0/booted/node2 \
    "reinstall node2: exit 0, booted"
expect_eq "$(cycles 2)" "$((c2 + 1))" "node2 was power-cycled into PXE"
new2=$(jq -r '.nodes.node2 | .state + " " + .reason + " " + .token' "$STATE/installs.json")
expect_match "$new2" "^install reinstall [0-9a-f]{32}$" "the install book marks it for a reinstall"
[ "${new2##* }" != "$token2" ] && pass "with a new token" || fail "with a new token" "$new2"
expect_match "$(cat "$D/state/pxe/ks/node2.cfg")" "node=node2&token=${new2##* }" \
    "its kickstart carries the new token"
expect_rc 2 "reinstall of an unknown node is a usage error" "${PP[@]}" reinstall node42

# --- one step at a time (cron) ---------------------------------------------------------------
# boot reads only what powering needs: the image is gone and the template broken here (prepare
# has used them). The bmc section's password is wrong: node 1 logs in with its group's password
# file, node 2 with its own.
(umask 077 && echo wrong >"$T/wrong.pw")
printf 'url {{repo_url\n' >"$T/broken.in"
jq ".paths.state_dir = \"$T/state2\" | .power.interval_s = 600 | .iso.version = \"gone\" |
    .install.template = \"$T/broken.in\" | .bmc.password_file = \"$T/wrong.pw\" |
    .groups = {rack1: {bmc_password_file: \"$T/bmc.pw\"}} |
    .nodes = {node1: (.nodes.node1 + {group: \"rack1\"}),
              node2: (.nodes.node2 + {bmc_password_file: \"$T/bmc.pw\"}), node3: .nodes.node3}" \
    "$T/base.json" >"$T/step.json"
# Powered on above: off first, as nodes waiting for their first install are.
expect_rc 0 "the step nodes are off" bmc-power --config "$CFG" --nodes "node[1-3]" off
before=$(cat "$BASE"/bmc*/node/events.log | grep -c 'set power 1')
expect_rc 0 "boot --step" pxe-provision --config "$T/step.json" boot --step
expect_eq "$OUT" "" "a boot that went well prints nothing off a terminal (cron mails output)"
expect_eq "$(cat "$BASE"/bmc*/node/events.log | grep -c 'set power 1')" $((before + 2)) \
    "one wave: two nodes powered"
expect_eq "$(jq -r '[.nodes.node1.state, .nodes.node2.state] | join(" ")' "$T/state2/pxe/boot.json")" \
    "booted booted" "nodes 1 and 2 logged in with their group's and their own password file"
expect_rc 0 "boot --step again, before the interval" pxe-provision --config "$T/step.json" boot --step
expect_eq "$OUT" "" "nothing is due yet"
after=$(cat "$BASE"/bmc*/node/events.log | grep -c 'set power 1')
expect_eq "$((after - before))" 2 "two power-ups in all"
expect_eq "$(jq -r '.nodes.node3.state' "$T/state2/pxe/boot.json")" pending "node 3 waits its turn"
# On a terminal (script(1) gives it one) boot draws a bar of the nodes that are through.
tty_out=$(script -qec "pxe-provision --config '$T/step.json' boot --step" /dev/null </dev/null)
expect_match "$tty_out" "boot +\[#+-+\] +[0-9]+% +2/3 nodes" "on a terminal boot shows its progress: 2 of 3 nodes"

# --- discover: a config without nodes --------------------------------------------------------
jq ".paths.state_dir = \"$T/state3\" | del(.nodes)" "$T/base.json" >"$T/disc.json"
run pxe-provision --config "$T/disc.json" discover --json
expect_eq "$RC" 0 "discover exits 0"
expect_eq "$(json '.added | join(" ")')" "node001 node002 node003 node004 node005 node007 node008 node009" \
    "every BMC that answers becomes a node named after its address (6 is frozen)"
expect_eq "$(jq -r '.nodes.node004.bmc' "$T/state3/pxe/nodes.json")" "$NET.4" \
    "the node table has their BMC addresses"
run pxe-provision --config "$T/disc.json" discover --json
expect_eq "$(json '.added | length')" 0 "a second discover adds nothing"

# --- enroll: nodes boot in the order they were enrolled, not by name ----------------------------
jq ".paths.state_dir = \"$T/state4\" | .power.interval_s = 0.2 | del(.nodes)" "$T/base.json" >"$T/enr.json"
run pxe-provision --config "$T/enr.json" enroll zz-first --bmc "$NET.5" --mac "$(mac 5)" --json
expect_eq "$RC,$(json .changed),$(json .msg)" "0,true,enrolled zz-first (BMC $NET.5, MAC $(mac 5)), number 1 in the boot order" "enroll a node"
run pxe-provision --config "$T/enr.json" enroll aa-second --bmc "$NET.4" --mac "$(mac 4)"
expect_eq "$RC" 0 "enroll another"
run pxe-provision --config "$T/enr.json" enroll zz-first --bmc "$NET.5" --json
expect_eq "$RC,$(json .changed)" "0,false" "enrolling it again changes nothing"
run pxe-provision --config "$T/enr.json" enroll other --bmc "$NET.4"
expect_eq "$RC,$ERR" "1,pxe-provision: error: enroll other: BMC $NET.4 is node aa-second's" "a BMC another node has is refused"
run pxe-provision --config "$T/enr.json" enroll Bad_Name --bmc "$NET.7"
expect_eq "$RC" 2 "a name that is not a DNS label is a usage error"
expect_rc 0 "prepare the enrolled nodes" pxe-provision --config "$T/enr.json" prepare
expect_rc 0 "they are off" bmc-power --config "$T/enr.json" off
run pxe-provision --config "$T/enr.json" boot -v
expect_eq "$(cut -d' ' -f1 <<<"$OUT" | tr '\n' ' ')" "zz-first aa-second " "boot powers them in enrollment order"
done_testing
