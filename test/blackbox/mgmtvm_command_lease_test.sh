#!/usr/bin/env bash
# The command backend's optional lease, fencing and shared store, driven by a file-based
# stand-in (test/fixtures/stor-lease) in real time: a lease of 3 ticks of 2 s.
source "$(dirname "$0")/lib.sh"
plan 25
source "$(dirname "$0")/mgmtvm_bed.sh"

STOR=$STORKIT_SRC/test/fixtures/stor-check
LEASE=$STORKIT_SRC/test/fixtures/stor-lease
S=$T/stor
mkdir -p "$S" "$T/state"
echo node1 >"$S/master"
CONF=$T/mgmtvm.json
cat >"$CONF" <<JSON
{
  "node": "node1",
  "vm": {"name": "mgmt", "domain_xml": "$XML"},
  "nodes": {"node1": {"libvirt": "$(uri 1)"}, "node2": {"libvirt": "$(uri 2)"},
            "node3": {"libvirt": "$(uri 3)"}},
  "storage": {"backend": "command", "timeout_s": 1,
              "service_health": ["$STOR", "$S", "service"],
              "volume_health": ["$STOR", "$S", "volume"],
              "is_master": ["$STOR", "$S", "master"],
              "lease_acquire": ["$LEASE", "$S", "acquire"],
              "lease_renew": ["$LEASE", "$S", "renew"],
              "lease_release": ["$LEASE", "$S", "release"],
              "lease_holder": ["$LEASE", "$S", "holder"],
              "fence": ["$LEASE", "$S", "fence"],
              "shared_get": ["$LEASE", "$S", "get"],
              "shared_put": ["$LEASE", "$S", "put"]},
  "lease": {"ticks": 3, "tick_s": 2},
  "deadlines": {"tick_s": 20, "peer_s": 1.5, "stop_s": 2},
  "state_dir": "$T/state"
}
JSON
tick() { run timeout 60 mgmtvm-reconcile --config "$CONF" --node "$1" --json; }

touch "$S/acquire-fail"
tick node1
expect_eq "$RC,$(json .rule),$(state node1)" "1,master-start,absent" "an acquire that fails fails the tick, nothing started"
expect_match "$(json .msg)" "not starting: lease not acquired: .*lease pool unreachable" "with the command's words"
rm "$S/acquire-fail"
tick node1
expect_eq "$(json .action),$(json '.steps[0]')" "start,lease: acquired epoch 1" "master acquires the lease through lease_acquire and starts"
expect_eq "$(cut -d' ' -f1,2 "$S/lease")" "node1 1" "lease_holder: node1, epoch 1"
expect_eq "$(json .observations.lease.holder),$(json .observations.lease.epoch)" "node1,1" "the trace reads the holder back"
tick node1
expect_eq "$(json .observations.lease.view),$(json .rule)" "mine,master-running-here" "renewed on the next tick"

freeze node1
echo node2 >"$S/master"
tick node2
expect_eq "$(json .rule)" "master-lease-held" "node1 silent but its lease is live: no start"
sleep 6.5
touch "$S/fence-fail"
tick node2
expect_eq "$RC,$(json .rule)" "1,master-takeover" "lease expired: takeover, but fencing fails"
expect_match "$(json .msg)" "fencing the other clients .*failed: .*cannot reach the monitors" "the fence command's own words are shown"
expect_eq "$(state node2)" "absent" "not started without fencing"
rm "$S/fence-fail"
tick node2
expect_eq "$(json .action)" "start" "fencing works: the VM starts on node2"
expect_eq "$(tail -n1 "$S/fenced")" "epoch 2 by node2" "fence got the epoch node2 holds"
expect_eq "$(head -n1 "$S/fenced")" "epoch 1 by node1" "the first start fenced too: a lease with no record may have had a holder"
expect_eq "$(state node2)" "running" "the VM runs on node2"
thaw node1
tick node1
expect_eq "$(json .action),$(json .rule)" "stop,lease-lost-stop" "node1 stops its stale copy"

run mgmtvm-maint --config "$CONF" set --global --for 1h
expect_eq "$RC" 0 "maintenance through shared_put"
expect_eq "$(jq -r '.global.until != null' "$S/shared.maintenance")" "true" "stored by shared_put"
tick node2
expect_eq "$(json .rule)" "maintenance-global" "every node reads it through shared_get"
run mgmtvm-status --config "$CONF" --json
expect_eq "$(json .nodes.node1.last_decision.rule),$(json .maintenance_global)" "lease-lost-stop,true" "status reads published decisions"

echo "# operators on three machines change maintenance at once: shared_put replaces only what was read"
run mgmtvm-maint --config "$CONF" clear --global
# Three machines, each its own state directory, in a cluster of six nodes.
for n in node1 node2 node3; do
    mkdir -p "$T/state-$n"
    jq --arg d "$T/state-$n" --arg u "$(uri 1)" \
        '.state_dir = $d | .nodes += {node4: {libvirt: $u}, node5: {libvirt: $u}, node6: {libvirt: $u}}' \
        "$CONF" >"$T/machine-$n.json"
done
lost=0
for round in 1 2 3 4 5; do
    pids=()
    for n in node1 node2 node3; do
        for m in node1 node2; do
            target=$([ "$m" = node1 ] && echo "$n" || echo "node$((${n#node} + 3))")
            "$STORKIT_BIN/mgmtvm-maint" --config "$T/machine-$n.json" set --node "$target" --for 1h --reason "round $round" >/dev/null 2>"$T/maint.$n.$m.err" &
            pids+=($!)
        done
    done
    wait "${pids[@]}" || true
    run mgmtvm-maint --config "$T/machine-node1.json" show --json
    [ "$(json '.maintenance.nodes | keys | join(",")')" = "node1,node2,node3,node4,node5,node6" ] || lost=$((lost + 1))
    for n in node1 node2 node3 node4 node5 node6; do
        "$STORKIT_BIN/mgmtvm-maint" --config "$T/machine-node1.json" clear --node $n >/dev/null
    done
done
expect_eq "$lost" 0 "5 rounds of 6 concurrent sets from three state directories: every entry kept"
expect_eq "$(cat "$T"/maint.*.err)" "" "none of them failed"

# A BMC password exported where the tick runs (for bmc-power, say) is not handed to the storage
# commands it starts; the rest of the environment is.
printf '#!/bin/sh\nout=$1\nshift\nenv >"$out"\nexec "$@"\n' >"$T/env-dump"
chmod 0755 "$T/env-dump"
jq --arg d "$T/env-dump" --arg o "$T/child-env" '.storage.service_health = [$d, $o] + .storage.service_health' \
    "$CONF" >"$T/env.json"
export STORKIT_IPMI_PASSWORD=pw-must-not-leak STORKIT_TEST_MARK=kept
run mgmtvm-reconcile --config "$T/env.json" --node node3 --json
unset STORKIT_IPMI_PASSWORD STORKIT_TEST_MARK
expect_match "$(cat "$T/child-env" 2>/dev/null)" "STORKIT_TEST_MARK=kept" "the storage command ran with the tick's environment"
expect_eq "$(grep -c pw-must-not-leak "$T/child-env")" 0 "but without STORKIT_IPMI_PASSWORD"

sed 's|"lease_release": \[[^]]*\],||' "$CONF" >"$T/bad.json"
run mgmtvm-reconcile --config "$T/bad.json"
expect_eq "$RC" 2 "an incomplete set of lease commands is a config error"
expect_match "$ERR" "needs all four of lease_acquire, lease_renew, lease_release and lease_holder" "it names them"
done_testing
