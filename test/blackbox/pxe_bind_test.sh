#!/usr/bin/env bash
# pxe-provision boot binding MACs to nodes that have none, against real BMCs (ipmi_sim) and a
# real dnsmasq running prepare's config with pxe-report as its dhcp-script. A MAC binds to the
# right node or to none:
#   node1  a slow machine: it asks for an address 10 s after power-on, past its 8 s window (a
#          machine that is off asks nothing: its boot program checks the power first)
#   node2  asks after 3 s: its own MAC, never node1's late one
#   node3  two NICs ask at once: which is its own cannot be told; both are unclaimed
#   node4  its BMC stops answering after power-on: its power-off cannot be read back, so no
#          node without a MAC is powered until it can (node5 waits)
#   node5  asks at once
#   node6  its MAC is in the config
# Then `unbind` takes node2's MAC away, and the MAC binds again when node2 boots again.
source "$(dirname "$0")/lib.sh"
plan 30

for cmd in xorriso dnsmasq busybox ip jq ipmi_sim; do
    command -v "$cmd" >/dev/null || { fail "needs $cmd (scripts/deps installs it)"; exit 1; }
done

source "$(dirname "$0")/pxe_bed.sh"
unset SILENT WRONG_PASSWORD
bmcs_up 6
provisioning_net bd
D=$T/out
STATE=$D/state/pxe
mac() { printf '52:54:00:6c:%02x:%02x' $((ID % 256)) "0x$1"; }
printf '#!/bin/sh\n[ "$1" = bound ] && echo "$ip" >>"$LOG"\nexit 0\n' >"$T/udhcpc.sh"
chmod +x "$T/udhcpc.sh"
# nic NAME MAC: a NIC (macvlan) on the clients' side of the provisioning network.
nic() {
    ip -n "$NS_C" link add link "$VC" name "$1" address "$2" type macvlan mode bridge
    ip -n "$NS_C" link set "$1" up
}
# ask NIC: the line of a boot program that asks DHCP for an address on NIC, logging the answer.
ask() {
    echo "ip netns exec $NS_C env LOG=$T/leases.$1 busybox udhcpc -i $1 -n -q -t 10 -T 1 -s $T/udhcpc.sh"
}
# on_boot K SCRIPT: node K's boot program ($1 is its node directory).
on_boot() {
    printf '#!/bin/sh\n%s\n' "$2" >"$BASE/bmc$1/node/on-boot"
    chmod +x "$BASE/bmc$1/node/on-boot"
}
for n in 1 2 3a 3b 5; do nic "n$n" "$(mac "$n")"; done
on_boot 1 "sleep 10; [ \"\$(cat \"\$1/power\")\" = 1 ] || exit 0; $(ask n1)"
on_boot 2 "sleep 3; $(ask n2)"
on_boot 3 "$(ask n3a) & $(ask n3b) & wait"
on_boot 4 "sleep 1.5; BASE=$BASE NET=$NET PORT=$PORT $SIM stop 4"
on_boot 5 "$(ask n5)"
at_exit "$SIM" cont 4

# --- an installable image and the configuration ------------------------------------------------
tiny_image
nodes=""
for k in 1 2 3 4 5; do nodes+="\"node$k\": {\"bmc\": \"$NET.$k\"}, "; done
nodes+="\"node6\": {\"bmc\": \"$NET.6\", \"mac\": \"$(mac 6)\"}"
CFG=$T/pxe.json
cat >"$CFG" <<EOF
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
  "power": {"wave": 1, "interval_s": 1, "bind_timeout_s": 8},
  "nodes": {$nodes}
}
EOF
PP=(pxe-provision --config "$CFG")
expect_rc 0 "prepare" "${PP[@]}" prepare
ip netns exec "$NS_S" dnsmasq --conf-file="$D/etc/dnsmasq.conf" --no-ping \
    --pid-file="$T/dnsmasq.pid" --log-facility="$T/dnsmasq.log"
at_exit 'kill $(cat '"$T"'/dnsmasq.pid)'
events() { cut -d' ' -f2- "$BASE/bmc$1/node/events.log" | tr '\n' '|'; }

# --- the first run --------------------------------------------------------------------------
run "${PP[@]}" boot --json
expect_eq "$RC" 1 "boot exits 1: nodes were given up"
expect_eq "$(json .nodes.node2.mac)" "$(mac 2)" \
    "node 2 is bound to its own MAC, not to the late lease of node 1"
expect_eq "$(json .nodes.node1.state)" unbound "node 1 is given up"
expect_match "$(json .nodes.node1.error)" "no new lease within 8 s of its power-on; powered off" \
    "node 1's error says why and that it was powered off"
expect_eq "$(events 1)" "set boot pxe|set power 1|boot pxe|set power 0|" \
    "node 1 was powered off when given up"
expect_eq "$(cat "$T/leases.n1" 2>/dev/null)" "" "so node 1 never leased an address"
expect_eq "$(json .nodes.node3.state)" unbound "node 3, two new MACs in its window, is given up"
expect_match "$(json .nodes.node3.error)" "2 new MACs leased within its window \($(mac 3a), $(mac 3b)\)" \
    "its error names both MACs"
expect_eq "$(json "[.unclaimed[\"$(mac 3a)\"].why, .unclaimed[\"$(mac 3b)\"].why] | unique | .[]")" \
    "leased in the window of node3 beside another new MAC" "both of node 3's MACs are unclaimed"
expect_eq "$("$SIM" power 3)" 0 "node 3 is off"
expect_eq "$(json .nodes.node4.state)" off-failed "node 4's power-off could not be read back"
expect_eq "$(json .nodes.node5.state)" pending "so node 5, without a MAC, was not powered"
expect_eq "$(events 5)" "" "node 5's BMC saw nothing"
expect_eq "$(json .nodes.node6.state)" booted "node 6, its MAC known, was powered all the same"
expect_match "$(json .msg)" "node4 \(off-failed\)" "the message names node 4"
expect_match "$(json .msg)" "2 unclaimed leases" "and counts the unclaimed leases"

run "${PP[@]}" status --json
expect_eq "$(json "[.table.unbound[] | select(.mac == \"$(mac 3a)\")][0].unclaimed")" \
    "leased in the window of node3 beside another new MAC" "status shows why a lease is unclaimed"

# --- node 4's BMC answers again: the next run powers it off, then goes on -----------------------
"$SIM" cont 4
run "${PP[@]}" boot --json
expect_eq "$(json .nodes.node4.state)" unbound "node 4 is off now: unbound"
expect_eq "$(json .nodes.node5.mac)" "$(mac 5)" "node 5 was powered and bound to its MAC"
expect_eq "$(json .nodes.node2.mac)" "$(mac 2)" "node 2 kept its binding"

# --- unbind ---------------------------------------------------------------------------------
run "${PP[@]}" unbind node6
expect_eq "$RC" 2 "a MAC the config gives cannot be unbound"
expect_match "$ERR" "nodes.node6.mac" "the error names the key to change"
run "${PP[@]}" unbind node1
expect_eq "$RC/$ERR" "2/pxe-provision: error: unbind: node node1 has no learned MAC" \
    "a node without a learned MAC cannot be unbound"
before=$(cat "$STATE/nodes.json")
run "${PP[@]}" unbind node2 -n
expect_eq "$RC/$(cat "$STATE/nodes.json")" "0/$before" "unbind -n changes nothing"
expect_rc 0 "unbind node2" "${PP[@]}" unbind node2
expect_eq "$(jq -r '.nodes.node2.mac // ""' "$STATE/nodes.json")" "" \
    "node 2's MAC is gone from the node table"
expect_match "$(jq -r ".unclaimed[\"$(mac 2)\"].why" "$STATE/boot.json")" "unbound from node2" \
    "its MAC is unclaimed, saying why"
expect_eq "$(ls "$STATE/dhcp-hosts/" | tr '\n' ' ')" "node5 node6 " \
    "prepare ran: node 2's reservation is gone"

# --- node 2 boots again: its MAC asks again inside its window and binds -------------------------
run "${PP[@]}" boot --force node2 --json
expect_eq "$(json .nodes.node2.state)/$(json .nodes.node2.mac)" "bound/$(mac 2)" \
    "the unclaimed MAC binds to node 2 when it asks again in node 2's window"
[ "$(json .nodes.node2.state)" = bound ] || {
    echo "#   node2: $(json .nodes.node2.error)"
    grep -h '"dhcp"' "$STATE/events.jsonl" | jq -c '[.action, .mac, .time]' | sed 's/^/#   /'
}

done_testing
