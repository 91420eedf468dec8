#!/usr/bin/env bash
# The reconcile with the storage-held lease, fencing and maintenance (sim storage backend, whose
# clock the test drives), against three real libvirtd daemons; mgmtvm-maint and mgmtvm-status.
source "$(dirname "$0")/lib.sh"
plan 110
source "$(dirname "$0")/mgmtvm_bed.sh"

SIM=$T/sim
mkdir -p "$SIM" "$T/state"
# The storage's clock: a lease of 3 ticks x 10 s = 30 s on it.
clock() { echo "$1" >"$SIM/clock"; }
clock 1000
echo node1 >"$SIM/master"
CONF=$T/mgmtvm.json
cat >"$CONF" <<JSON
{
  "node": "node1",
  "vm": {"name": "mgmt", "domain_xml": "$XML"},
  "nodes": {"node1": {"libvirt": "$(uri 1)"}, "node2": {"libvirt": "$(uri 2)"},
            "node3": {"libvirt": "$(uri 3)"}},
  "storage": {"backend": "sim", "dir": "$SIM", "timeout_s": 1},
  "lease": {"ticks": 3, "tick_s": 10},
  "deadlines": {"tick_s": 20, "peer_s": 2, "stop_s": 2},
  "state_dir": "$T/state"
}
JSON
tick() { # tick NODE [args...]
    local node=$1
    shift
    run timeout 60 mgmtvm-reconcile --config "$CONF" --node "$node" --json "$@"
}
lease() { jq -r "$1" "$SIM/lease.json"; }

echo "# the master takes the lease before it starts the VM, and renews it every tick"
tick node1
expect_eq "$(json .action),$(json .rule)" "start,master-start" "master starts the VM"
expect_eq "$(lease .node),$(lease .epoch),$(lease .expires)" "node1,1,1030" "it holds lease epoch 1 until 1030"
expect_eq "$(where)" "running|absent|absent" "one copy, on node1"
clock 1010
tick node1
expect_eq "$(json .rule),$(json '.observations.lease.view')" "master-running-here,mine" "next tick: lease is mine"
expect_eq "$(lease .epoch),$(lease .expires)" "1,1040" "renewed: same epoch, later expiry"

echo "# the holder dies (libvirtd frozen, no more ticks); node2 becomes master"
freeze node1
echo node2 >"$SIM/master"
clock 1020
tick node2
expect_eq "$RC" 0 "node2 tick exits 0"
expect_eq "$(json .rule),$(json .observations.nodes.node1.running)" "master-lease-held,unknown" "node1 silent, lease still live: no start"
expect_match "$(json .reason)" "lease is held by node1" "the reason names the holder"
clock 1039
tick node2
expect_eq "$(json .rule)" "master-lease-held" "one second before expiry: still no start"
expect_eq "$(state node2)|$(state node3)" "absent|absent" "not started before the lease expired"

echo "# the tick is killed between taking the lease and fencing: the next one fences first"
echo "slow 60" >"$SIM/fence"
clock 1041
"$STORKIT_BIN/mgmtvm-reconcile" --config "$CONF" --node node2 --json >/dev/null 2>&1 &
killed=$!
for _ in $(seq 100); do
    [ "$(lease .node)" = node2 ] && break
    sleep 0.1
done
kill -KILL "$killed"
wait "$killed" 2>/dev/null
expect_eq "$(lease .node),$(lease .epoch),$(state node2)" "node2,2,absent" "killed while fencing: lease epoch 2 taken, nothing started"

echo "# fencing fails: no start"
echo fail >"$SIM/fence"
tick node2
expect_eq "$RC" 1 "a failed fencing fails the tick"
expect_match "$(json .msg)" "not starting: fencing the other clients of the VM's volume \\(epoch 2\\) failed" "and says so"
expect_eq "$(state node2)" "absent" "the VM was not started"
expect_eq "$(lease .node),$(lease .epoch)" "node2,2" "node2 took the lease (epoch 2) but did not start"

echo "# fencing works again: the takeover completes"
rm "$SIM/fence"
clock 1045
tick node2
expect_eq "$(json .action),$(json .rule)" "start,master-takeover" "takeover past the silent node1"
expect_eq "$(state node2),$(lease .epoch),$(lease .expires)" "running,2,1075" "the VM runs on node2, under epoch 2 renewed at the start (1045 + 30)"
expect_eq "$(jq -r '(.epoch | tostring) + " by " + .by' "$SIM/fence.log" | tail -n1)" "2 by node2" "node2 fenced every other client under epoch 2 first"
# Two fencings: epoch 1's first start (a lease with no record may have had a holder) and this one.
expect_eq "$(wc -l <"$SIM/fence.log")" 2 "fenced once for this takeover"

echo "# the old holder comes back: it finds the lease gone and stops its copy"
thaw node1
echo node2 >"$SIM/master"
tick node1
expect_eq "$(json .action),$(json .rule)" "stop,lease-lost-stop" "node1 stops its stale copy"
expect_eq "$(where)" "absent|running|absent" "one copy left, on node2"

echo "# a holder that cannot renew keeps the VM while its lease holds, and stops when it runs out"
# Nobody can take the lease before 1075, and a taker fences this copy first: a lease store that
# stops answering for two ticks stops nothing.
echo fail >"$SIM/nodes/node2/lease" 2>/dev/null || { mkdir -p "$SIM/nodes/node2"; echo fail >"$SIM/nodes/node2/lease"; }
clock 1050
tick node2
expect_eq "$(json .action),$(json .observations.renew_overdue)" "none,false" "first failed renewal: keeps running"
expect_eq "$(state node2)" "running" "still running after one failed renewal"
clock 1060
tick node2
expect_eq "$(json .action),$(state node2)" "none,running" "second failed renewal, 15 s left on the lease: still running"
expect_match "$(json '.steps | join(";")')" "lease: 15 s left on the last renewal" "and says how long the lease holds"
clock 1075
tick node2
expect_eq "$(json .action),$(json .rule),$(state node2)" "stop,lease-overdue-stop,absent" "the lease ran out unrenewed: stops"
rm "$SIM/nodes/node2/lease"
clock 1076
tick node2
expect_eq "$(json .action),$(lease .epoch)" "start,3" "once the storage answers, it starts again under a new epoch"
echo "electing" >"$SIM/nodes/node2/master"
tick node2
expect_eq "$(json .action),$(json .rule),$(state node2)" "none,master-unknown-keep,running" "a master election does not stop the VM running under a valid lease"
rm "$SIM/nodes/node2/master"

echo "# maintenance: global freezes every tick, and expires by itself"
all_off
run mgmtvm-maint --config "$CONF" set --global --for 30s --reason "storage upgrade"
expect_eq "$RC" 0 "mgmtvm-maint set --global exits 0"
tick node2
expect_eq "$(json .action),$(json .rule)" "none,maintenance-global" "global maintenance: no start"
expect_eq "$(json .observations.maintenance)" "global" "the trace shows it"
run mgmtvm-maint --config "$CONF" show --json
expect_eq "$(json .maintenance.global.reason),$(json .maintenance.global.active)" "storage upgrade,true" "show lists it"
clock 1107
tick node2
expect_eq "$(json .action)" "start" "after its expiry the master starts the VM"
run mgmtvm-maint --config "$CONF" show --json
expect_eq "$(json .maintenance.global.active)" "false" "show: global maintenance expired"

echo "# maintenance of one node: it hands the VM off and never starts it"
run mgmtvm-maint --config "$CONF" set --node node2 --for 1h
expect_eq "$RC" 0 "mgmtvm-maint set --node exits 0"
tick node2
expect_eq "$(json .action),$(json .rule)" "stop,maintenance-handoff" "node2 hands the VM off"
expect_eq "$(lease .released)" "true" "and releases the lease"
tick node2
expect_eq "$(json .action),$(json .rule)" "none,maintenance-node" "node2 (master) does not start it again"
echo node3 >"$SIM/master"
tick node3
expect_eq "$(json .action),$(json .rule)" "start,master-start" "the new master starts it at once"
expect_eq "$(json '.steps[0]')" "lease: acquired epoch 5" "a released lease needs no fencing"
expect_eq "$(wc -l <"$SIM/fence.log")" 2 "no new fencing"
run mgmtvm-maint --config "$CONF" clear --node node2
expect_eq "$RC" 0 "mgmtvm-maint clear exits 0"
run mgmtvm-maint --config "$CONF" set
expect_eq "$RC" 2 "set without --global or --node is a usage error"
run mgmtvm-maint --config "$CONF" set --node node9
expect_eq "$RC" 2 "an unknown node is a usage error"
run mgmtvm-maint --config "$CONF" set --global --for soon
expect_eq "$RC" 2 "a bad duration is a usage error"
expect_match "$ERR" "--for soon: expected a duration like 90s" "and says what is expected"

echo "# mgmtvm-status: the whole cluster at a glance"
tick node1; tick node2
run mgmtvm-status --config "$CONF"
expect_eq "$RC" 0 "status exits 0"
expect_match "$OUT" "node3 +ok +master +running" "table: node3 is master and runs the VM"
expect_match "$OUT" "lease: held by node3, epoch 5, expires in 30 s" "table: the lease"
expect_match "$OUT" "node1 +ok +- +absent +- +none \\([0-9]+s ago\\)" "table: node1's last decision and its age"
run mgmtvm-status --config "$CONF" --json
expect_eq "$(json '.vm_running_on | join(",")')" "node3" "json: the VM runs on node3"
expect_eq "$(json .lease.holder),$(json .lease.epoch),$(json .lease.live)" "node3,5,true" "json: lease holder"
expect_eq "$(json .nodes.node3.last_decision.rule)" "master-start" "json: node3's last decision"
vm_on node1
run mgmtvm-status --config "$CONF" --json
expect_eq "$RC" 1 "two copies: status fails"
expect_eq "$(json .msg)" "the VM runs on 2 nodes at once" "and says so"
vm_off node1
freeze node2
run timeout 30 mgmtvm-status --config "$CONF" --json
expect_eq "$(json .nodes.node2.vm_running)" "unknown" "a silent node's VM state is unknown"
thaw node2

echo "# node maintenance ends by itself at its expiry"
clock 1200
tick node3
run mgmtvm-maint --config "$CONF" set --node node3 --for 20s --reason "firmware"
tick node3
expect_eq "$(json .rule)" "maintenance-handoff" "node3 hands off under node maintenance"
tick node3
expect_eq "$(json .rule),$(state node3)" "maintenance-node,absent" "and does not start it while in maintenance"
clock 1221
tick node3
expect_eq "$(json .action),$(json .observations.maintenance)" "start,none" "after the expiry node3 (master) starts it again"

echo "# a copy whose lease another node held meanwhile is restarted, not adopted"
# node3 runs the VM under lease epoch 6 (until 1251). Its management plane hangs; node1 becomes
# master and takes over once the lease ran out, fencing node3's clients; then node1 loses power
# before node3 comes back. node3's copy may have lost its disk to that fencing.
freeze node3
echo node1 >"$SIM/master"
clock 1260
tick node1
expect_eq "$(json .action),$(json .rule)" "start,master-takeover" "node1 takes over past the silent node3"
expect_eq "$(jq -r '(.epoch | tostring) + " by " + .by' "$SIM/fence.log" | tail -n1)" "7 by node1" "node1 fenced every other client (node3's) under epoch 7"
"$NODES" kill 1
clock 1300
thaw node3
echo node3 >"$SIM/master"
tick node3
expect_eq "$(json .action),$(json .rule)" "stop,lease-lapsed-stop" "node3 stops its copy instead of taking the lapsed lease"
expect_match "$(json .reason)" "^node1 held the lease while the VM ran here" "the reason names the node that held it"
expect_eq "$(state node3),$(lease .node),$(lease .epoch)" "absent,node1,7" "the VM is stopped and the lease left alone"
clock 1310
tick node3
expect_eq "$(json .action),$(json .rule)" "start,master-takeover" "the master starts the VM afresh"
expect_eq "$(jq -r '(.epoch | tostring) + " by " + .by' "$SIM/fence.log" | tail -n1)" "8 by node3" "after fencing every other client (node1's) under epoch 8"
expect_eq "$(state node3),$(lease .node),$(lease .epoch)" "running,node3,8" "one fresh copy, under a new epoch"

echo "# the VM is gone from its holder, no longer the master: the lease goes back at once"
fences=$(wc -l <"$SIM/fence.log")
vm_off node3
echo node2 >"$SIM/master"  # node1 lost power above
clock 1315
tick node3
expect_eq "$RC,$(json .rule),$(lease .released)" "0,slave-idle,true" "node3 releases the lease of a VM it no longer runs"
expect_match "$(json '.steps | join(";")')" "lease: the VM is gone from here: released epoch 8" "and says why"
run mgmtvm-status --config "$CONF"
expect_match "$OUT" $'\n'"lease: released by node3, epoch 8"$'\n' "status: a lease released before its term has no age (never a negative one)"
tick node2
expect_eq "$(json .action),$(json '.steps[0]')" "start,lease: acquired epoch 9" "the new master starts it at once, not after the lease ran out"
expect_eq "$(wc -l <"$SIM/fence.log")" "$fences" "without fencing: nobody else could hold the disk"

echo "# the holder's own libvirtd hangs: it stops renewing after lease.ticks ticks"
freeze node2
for t in 1320 1330; do
    clock $t
    tick node2
done
expect_eq "$(json .rule),$(lease .expires)" "master-blind,1360" "two silent ticks: still renewed (the VM may run)"
clock 1340
tick node2
expect_eq "$(lease .node),$(lease .expires)" "node2,1360" "the third silent tick does not renew"
expect_match "$(json '.steps | join(";")')" "not renewed: this node's libvirt has not answered for 3 ticks" "and says why"
echo node3 >"$SIM/master"
clock 1361
tick node3
expect_eq "$(json .action),$(json '.steps[0]'),$(state node3)" "start,lease: acquired epoch 10,running" "the master takes over once it ran out"
expect_eq "$(jq -r '(.epoch | tostring) + " by " + .by' "$SIM/fence.log" | tail -n1)" "10 by node3" "behind a fence of node2's copy"
thaw node2
tick node2
expect_eq "$(json .action),$(json .rule),$(where)" "stop,lease-lost-stop,absent|absent|running" "node2, answering again, stops its fenced copy"

echo "# a maintenance record that cannot be read: observe only, and fail the tick"
vm_off node3
mkdir -p "$SIM/nodes/node3"
echo fail >"$SIM/nodes/node3/shared"
clock 1370
tick node3
expect_eq "$RC,$(json .action),$(json .rule),$(state node3)" "1,none,maintenance-unknown,absent" "the master does not start the VM on an unread record"
expect_match "$(json '.steps | join(";")')" "maintenance unreadable: sim: nodes/node3/shared says fail" "and says why"
rm "$SIM/nodes/node3/shared"
tick node3
expect_eq "$RC,$(json .action),$(state node3)" "0,start,running" "once it reads again, it starts the VM"

echo "# only the master asks the other nodes' libvirt"
tick node3
expect_eq "$(json '.observations.nodes | keys | join(",")')" "node1,node2,node3" "the master (node3) asked every node"
tick node2
expect_eq "$(json .rule),$(json '.observations.nodes | keys | join(",")')" "slave-idle,node2" "a non-master asked only its own libvirt"

echo "# placement: sticky keeps the VM where it runs when the master moves; follow-master moves it"
echo node2 >"$SIM/master"
tick node3
expect_eq "$(json .action),$(json .rule),$(where)" "none,sticky-keep,absent|absent|running" "sticky (the default): node3 keeps the VM"
tick node2
expect_eq "$(json .action),$(json .rule)" "none,master-running-elsewhere" "and the new master leaves it there"
jq '.placement = "follow-master"' "$CONF" >"$T/follow.json"
run timeout 60 mgmtvm-reconcile --config "$T/follow.json" --node node3 --json
expect_eq "$(json .action),$(json .rule),$(lease .released)" "stop,slave-stop,true" "follow-master: node3 stops it and releases the lease"
run timeout 60 mgmtvm-reconcile --config "$T/follow.json" --node node2 --json
expect_eq "$(json .action),$(where)" "start,absent|running|absent" "and the master starts it (a cold restart)"

echo "# a VM paused by an operator is reported as paused, and left paused"
virsh -q -c "$(uri 2)" suspend mgmt >/dev/null
tick node2
expect_eq "$(json .action),$(json .rule),$(json .observations.nodes.node2.state),$(json .observations.nodes.node2.paused_by)" "none,master-running-here,paused,operator" "the tick reports who paused it and does not resume it"
run timeout 60 mgmtvm-status --config "$CONF"
expect_match "$OUT" "node2 +ok +master +paused \\(operator\\)" "mgmtvm-status shows the pause and its reason"
virsh -q -c "$(uri 2)" resume mgmt >/dev/null

echo "# confirm-down: the operator's word that node2 is off lets the master take over at once"
"$NODES" kill 2
echo node3 >"$SIM/master"
epoch=$(lease .epoch)
tick node3
expect_eq "$(json .rule),$(state node3)" "master-lease-held,absent" "node2 is silent and its lease live: node3 waits"
run mgmtvm-maint --config "$CONF" --json confirm-down node3
expect_eq "$RC,$(json .msg)" "1,node3 does not hold the lease (held by node2): nothing to take over" "confirming a node that holds no lease changes nothing"
run mgmtvm-maint --config "$CONF" --json confirm-down node2 --reason "PDU switched off"
expect_eq "$RC" 0 "confirm-down node2 exits 0"
expect_match "$(json .msg)" "confirmed node2 down: the master may take its lease \\(epoch $epoch\\)" "and says what follows"
tick node3
expect_eq "$(json .action),$(state node3),$(lease .node),$(lease .epoch)" "start,running,node3,$((epoch + 1))" "node3 takes the lease over before it expires and starts the VM"
expect_match "$(json '.steps | join(";")')" "confirmed down by node1" "the trace says on whose word"
expect_eq "$(jq -r '(.epoch | tostring) + " by " + .by' "$SIM/fence.log" | tail -n1)" "$((epoch + 1)) by node3" "behind a fence"
run timeout 60 mgmtvm-status --config "$CONF"
expect_match "$OUT" "confirmed down: node2 \\(lease epoch $epoch, by node1: PDU switched off\\)" "mgmtvm-status shows the confirmation"

echo "# ticks that keep coming much later than lease.tick_s are named"
now=$(cat "$SIM/clock")
clock $((now + 40)); tick node3
clock $((now + 80)); tick node3
expect_eq "$(json .action),$(json .failed)" "none,false" "node3 keeps the VM"
expect_match "$(json '.warnings[0]')" "^the last ticks began 40 s and 40 s apart, but lease.tick_s is 10 s: the lease may run out between renewals" "two late ticks in a row: a warning in the trace"
expect_match "$ERR" "warning: the last ticks began 40 s and 40 s apart" "and on stderr"
clock $((now + 90)); tick node3
expect_eq "$(json '.warnings | length')" 0 "one tick on time: no warning"

echo "# operators changing maintenance at once never lose each other's change"
lost=0
for round in 1 2 3 4 5; do
    pids=()
    for n in node1 node2 node3 node1 node2 node3; do
        "$STORKIT_BIN/mgmtvm-maint" --config "$CONF" set --node $n --for 1h --reason "round $round" >/dev/null 2>&1 &
        pids+=($!)
    done
    wait "${pids[@]}"
    run mgmtvm-maint --config "$CONF" show --json
    [ "$(json '.maintenance.nodes | keys | join(",")')" = "node1,node2,node3" ] || lost=$((lost + 1))
    for n in node1 node2 node3; do "$STORKIT_BIN/mgmtvm-maint" --config "$CONF" clear --node $n >/dev/null; done
done
expect_eq "$lost" 0 "5 rounds of 6 concurrent mgmtvm-maint set: every node's entry kept"

echo "# the lease store loses its record while node3 runs the VM: the next start fences first"
expect_eq "$(state node3)" running "node3 runs the VM"
"$NODES" start 1 >/dev/null  # node1 was powered off above: it comes back, empty
rm "$SIM/lease.json"
freeze node3
echo node1 >"$SIM/master"
clock $(($(cat "$SIM/clock") + 100))
fences=$(wc -l <"$SIM/fence.log")
tick node1
expect_eq "$(json .action),$(lease .node),$(lease .epoch)" "start,node1,1" "node1 starts under a new epoch 1"
expect_eq "$(wc -l <"$SIM/fence.log"),$(jq -r '(.epoch | tostring) + " by " + .by' "$SIM/fence.log" | tail -n1)" "$((fences + 1)),1 by node1" "having fenced node3's copy, though it fenced a higher epoch before"

echo "# the record turns unreadable while node1 runs the VM: shown, and replaced behind a fence"
printf '{"node": "node1", "epoch": 1, "expires": null}\n' >"$SIM/lease.json"
run mgmtvm-status --config "$CONF"
expect_match "$OUT" $'\n'"lease: unreadable \\($SIM/lease.json: .*\\): the next start replaces it behind a fence"$'\n' \
    "mgmtvm-status says the record cannot be read"
run mgmtvm-status --config "$CONF" --json
expect_match "$(json .lease.unreadable)" "^$SIM/lease.json: " "--json: lease.unreadable names the record"
vm_off node1
clock $(($(cat "$SIM/clock") + 10))
fences=$(wc -l <"$SIM/fence.log")
tick node1
expect_eq "$RC,$(json .action),$(lease .node),$(lease .expires | grep -c '^[0-9]')" "0,start,node1,1" \
    "the master starts the VM again under a readable lease"
expect_match "$(json '.steps | join(";")')" "lease: replaced a record that could not be read \\($SIM/lease.json: " \
    "the trace says the record was replaced"
expect_eq "$(wc -l <"$SIM/fence.log")" "$((fences + 1))" "after fencing the other clients"
done_testing
