#!/usr/bin/env bash
# mgmtvm-reconcile and mgmtvm-maint killed with SIGKILL at seeded random points while they
# write: the tick its node state (in state_dir) and the lease (the sim's lease.json, what the
# storage holds), mgmtvm-maint the maintenance record (the sim's shared store); three real
# libvirtd daemons, node1 the master. Killed ticks take turns: one renews the lease of a
# running VM, one starts the VM under a live lease, one finds the lease expired and acquires,
# fences and starts. After every kill:
#   - the node state, the lease and the maintenance record are each a whole JSON document;
#   - the next tick exits 0 and converges: the VM runs once, on node1, under node1's lease;
#   - the next mgmtvm-maint run exits 0 and its change shows;
#   - once that tick has run, no temp file of a killed writer is left in state_dir.
# STORKIT_CRASH_TICKS (default 40) kills of each tool. A run is repeated by the seed and the
# two kill windows it prints: STORKIT_CRASH_SEED, STORKIT_CRASH_TICK_MS, STORKIT_CRASH_MAINT_MS.
source "$(dirname "$0")/lib.sh"
KILLS=${STORKIT_CRASH_TICKS:-40}
SEED=${STORKIT_CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}
plan 12
RANDOM=$SEED
source "$(dirname "$0")/mgmtvm_bed.sh"

SIM=$T/sim
STATE=$T/state
mkdir -p "$SIM" "$STATE"
now=1000
echo "$now" >"$SIM/clock"
echo node1 >"$SIM/master"
CONF=$T/mgmtvm.json
# The lease lives on the sim's clock (3 ticks of 60 s); storage calls get a generous real-time
# deadline, so that a slow fsync on a loaded machine is not taken for a failure.
cat >"$CONF" <<JSON
{
  "node": "node1",
  "vm": {"name": "mgmt", "domain_xml": "$XML"},
  "nodes": {"node1": {"libvirt": "$(uri 1)"}, "node2": {"libvirt": "$(uri 2)"},
            "node3": {"libvirt": "$(uri 3)"}},
  "storage": {"backend": "sim", "dir": "$SIM", "timeout_s": 5},
  "lease": {"ticks": 3, "tick_s": 60},
  "deadlines": {"tick_s": 50, "peer_s": 2, "stop_s": 2},
  "state_dir": "$STATE"
}
JSON
# step [N]: N ticks' worth of time (default 1) on the storage's clock.
step() {
    now=$((now + 60 * ${1:-1}))
    echo "$now" >"$SIM/clock"
}
tick() { run timeout 60 mgmtvm-reconcile --config "$CONF" --node node1 --json; }
maint() { run timeout 60 mgmtvm-maint --config "$CONF" "$@"; }
# ms_of CMD...: runs CMD in this shell, its time in ms in $T/ms.
ms_of() {
    local s=$EPOCHREALTIME
    "$@"
    echo $(((${EPOCHREALTIME/./} - ${s/./}) / 1000)) >"$T/ms"
}
# kill_at MS CMD...: runs CMD, killed with SIGKILL after MS ms (under a second) if it still
# runs; counts the runs the kill cut short.
kill_at() {
    local ms=$1
    shift
    "$@" >/dev/null 2>&1 &
    local pid=$!
    sleep "$(printf '0.%03d' "$ms")"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ $? = 137 ] && killed=$((killed + 1))
    return 0
}
# torn: the managed files that are not a whole JSON document, if any.
torn() {
    local f
    for f in "$STATE"/mgmtvm.node1.json "$SIM/lease.json" "$SIM/shared/maintenance"; do
        [ -e "$f" ] || continue
        jq -e . "$f" >/dev/null 2>&1 || echo "$f: $(head -c 200 "$f")"
    done
}
leftovers() { find "$STATE" -name '.*.tmp.*' -printf '%f\n'; }
# note VAR TEXT: appends a finding to VAR, the first three of them in full.
note() {
    local -n v=$1
    if [ "$(grep -c '^kill ' <<<"$v")" -lt 3 ]; then
        v+="$2"$'\n'
    elif [[ $v != *"(and more)"* ]]; then
        v+="(and more)"$'\n'
    fi
}
# window MS: a kill window under a second.
window() { [ "$1" -lt 1000 ] && echo "$1" || echo 999; }

echo "# clean runs: how long a tick and a maintenance change take"
tick
expect_eq "$RC,$(json .action),$(where)" "0,start,running|absent|absent" "a clean tick starts the VM on node1"
# The longest tick: the lease expired and the VM stopped (acquire, fence, start).
vm_off node1
step 4
ms_of mgmtvm-reconcile --config "$CONF" --node node1 >/dev/null 2>&1
tick_ms=$(window "${STORKIT_CRASH_TICK_MS:-$(cat "$T/ms")}")
ms_of maint set --node node2 --reason clean
maint_ms=$(window "${STORKIT_CRASH_MAINT_MS:-$(cat "$T/ms")}")
expect_eq "$RC,$(maint show --json && json '.maintenance.nodes.node2.reason'),$(where)" \
    "0,clean,running|absent|absent" "a clean mgmtvm-maint set shows; the VM was started again"
maint clear --node node2
echo "# seed $SEED, $KILLS kills of each tool; kill windows: tick $tick_ms ms, maintenance change $maint_ms ms"
echo "# (repeat: STORKIT_CRASH_SEED=$SEED STORKIT_CRASH_TICK_MS=$tick_ms STORKIT_CRASH_MAINT_MS=$maint_ms)"

echo "# $KILLS ticks killed at random points"
killed=0 bad_torn="" bad_tick="" bad_left=""
epoch0=$(jq -r .epoch "$SIM/lease.json")
for ((i = 1; i <= KILLS; i++)); do
    case $((i % 3)) in
    1) step ;;                  # a renewal
    2) step && vm_off node1 ;;  # a start under a live lease
    0) step 4 && vm_off node1 ;; # an acquire, a fencing and a start
    esac
    kill_at $((RANDOM % (tick_ms + 1))) mgmtvm-reconcile --config "$CONF" --node node1 --json
    t=$(torn)
    [ -z "$t" ] || note bad_torn "kill $i: $t"
    step
    tick
    got="$RC,$(json .failed),$(where),$(jq -r .node "$SIM/lease.json")"
    [ "$got" = "0,false,running|absent|absent,node1" ] || note bad_tick "kill $i: $got: $(json .msg)"
    l=$(leftovers)
    [ -z "$l" ] || note bad_left "kill $i: $l"
done
echo "# $killed of $KILLS ticks were still running when killed"
# Each third round lets the lease expire: the killed tick or the next one acquires anew.
epochs=$(($(jq -r .epoch "$SIM/lease.json") - epoch0))
expect_eq "$((epochs >= KILLS / 3))" 1 "the lease was acquired anew in every third round ($epochs times)"
expect_eq "$bad_torn" "" "after every killed tick the node state and the lease are whole"
expect_eq "$bad_tick" "" "the next tick exits 0: the VM runs once, on node1, under its lease"
expect_eq "$bad_left" "" "no temp file of a killed tick is left once the next tick has run"
expect_match "$killed" "^[1-9]" "some ticks were killed while they ran"
# A kill between a temp file's write and its rename is a window of microseconds that random
# kills seldom hit: the leftover such a kill leaves is planted here, beside a live writer's
# temp file, which must stay.
true &
dead=$!
wait "$dead"
echo '{"torn' >"$STATE/.mgmtvm.node1.json.tmp.$dead"
echo '{"live' >"$STATE/.mgmtvm.node1.json.tmp.$$"
step
tick
expect_eq "$RC,$(leftovers | tr '\n' ' ')" "0,.mgmtvm.node1.json.tmp.$$ " \
    "a tick removes a dead writer's temp file from state_dir, not a live one's"
rm -f "$STATE/.mgmtvm.node1.json.tmp.$$"

echo "# $KILLS maintenance changes killed at random points"
killed=0 bad_torn="" bad_maint=""
for ((i = 1; i <= KILLS; i++)); do
    if [ $((i % 2)) = 1 ]; then
        kill_at $((RANDOM % (maint_ms + 1))) mgmtvm-maint --config "$CONF" set --node node2 --reason "r$i"
    else
        kill_at $((RANDOM % (maint_ms + 1))) mgmtvm-maint --config "$CONF" clear --node node2
    fi
    t=$(torn)
    [ -z "$t" ] || note bad_torn "kill $i: $t"
    maint show --json
    before=$RC
    if [ $((i % 2)) = 1 ]; then
        maint set --node node2 --reason "r$i"
        got="$before,$RC,$(maint show --json && json '.maintenance.nodes.node2.reason')"
        want="0,0,r$i"
    else
        maint clear --node node2
        got="$before,$RC,$(maint show --json && json '.maintenance.nodes.node2 // "none"')"
        want="0,0,none"
    fi
    [ "$got" = "$want" ] || note bad_maint "kill $i: $got, not $want: $ERR"
done
echo "# $killed of $KILLS changes were still running when killed"
expect_match "$killed" "^[1-9]" "some changes were killed while they ran"
expect_eq "$bad_torn" "" "after every killed change the maintenance record is whole"
expect_eq "$bad_maint" "" "the record reads, and the next change goes through and shows"
step
tick
expect_eq "$RC,$(leftovers)" "0," "the next tick leaves no temp file in state_dir"
done_testing
