#!/usr/bin/env bash
# The management VM on a real Ceph cluster (the ceph backend, CTest fixture "ceph": monitors
# a, b, c for node1..3) and three real libvirtd daemons; a lease of 3 ticks of 5 s: storage-health, the published flow,
# and a failover with fencing, whose timeline is printed. A writer process plays each running
# copy's disk client on the real image, so fencing cuts a real client off.
source "$(dirname "$0")/lib.sh"
plan 25
[ -n "${STORKIT_CEPH_CONF:-}" ] || { fail "STORKIT_CEPH_CONF is set (run through ctest)"; done_testing; }
CEPH_BED=$STORKIT_CEPH_BED
CEPH_BASE=$STORKIT_CEPH_BASE
ceph_bed() { BASE=$CEPH_BASE "$CEPH_BED" "$@"; }
source "$(dirname "$0")/mgmtvm_bed.sh"

IMAGE=mgmtvm-$$
rbd -c "$STORKIT_CEPH_CONF" create --size 16M "$IMAGE"
at_exit rbd -c "$STORKIT_CEPH_CONF" rm --no-progress "$IMAGE"
mkdir -p "$T/state"
CONF=$T/mgmtvm.json
cat >"$CONF" <<JSON
{
  "node": "node1",
  "vm": {"name": "mgmt", "domain_xml": "$XML"},
  "nodes": {"node1": {"libvirt": "$(uri 1)"}, "node2": {"libvirt": "$(uri 2)"},
            "node3": {"libvirt": "$(uri 3)"}},
  "storage": {"backend": "ceph", "conf": "$STORKIT_CEPH_CONF", "image": "$IMAGE",
              "monitors": {"node1": "a", "node2": "b", "node3": "c"}, "timeout_s": 3},
  "lease": {"ticks": 3, "tick_s": 5},
  "deadlines": {"tick_s": 30, "peer_s": 1, "stop_s": 1},
  "state_dir": "$T/state"
}
JSON
tick() { run timeout 60 mgmtvm-reconcile --config "$CONF" --node "$1" --json; }
t0=$(date +%s.%N)
at() { awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN{printf "%.1f s", a-b}'; }
# The node whose monitor leads the quorum.
leader() {
    local n
    for n in node1 node2 node3; do
        [ "$("$STORKIT_BIN/storage-health" --config "$CONF" --node $n --json 2>/dev/null |
            jq -r '.checks[] | select(.check == "master") | .value')" = yes ] && { echo $n; return; }
    done
}
writers=()
writer() { # NODE: a disk client for NODE's copy, logging to $T/writes.NODE
    "$STORKIT_BIN/rbd_writer" "$STORKIT_CEPH_CONF" rbd "$IMAGE" "$T/writes.$1" &
    writers+=($!)
    at_exit kill "$!"
    for _ in $(seq 100); do grep -q '^ok' "$T/writes.$1" 2>/dev/null && return; sleep 0.05; done
}

echo "# storage-health: every probe, each with its time"
run storage-health --config "$CONF" --node node2
expect_eq "$RC" 0 "healthy: exit 0"
expect_match "$OUT" "^service +yes +[0-9.]+ ms +ceph: quorum a,b,c" "service: the quorum"
expect_match "$OUT" $'\n'"volume +yes +[0-9.]+ ms +ceph: rbd/$IMAGE reads" "volume: the image reads"
expect_match "$OUT" $'\n'"lease +free .*never held" "lease: never held"
sed "s|\"image\": \"$IMAGE\"|\"image\": \"nosuch-$$\"|" "$CONF" >"$T/missing.json"
run storage-health --config "$T/missing.json"
expect_eq "$RC,$(grep '^volume' <<<"$OUT" | awk '{print $2}')" "1,no" "a missing image: volume no, exit 1"

echo "# the quorum leader's node starts the VM under the lease; the others do nothing"
L=$(leader)
expect_match "$L" "^node[123]$" "one node's monitor leads ($L)"
for n in node1 node2 node3; do
    tick $n
    [ $n = "$L" ] && started=$(json .action),$(json .rule)
done
expect_eq "$started" "start,master-start" "the master starts the VM"
expect_eq "$(state "$L")" "running" "it runs on $L"
run storage-health --config "$CONF" --node "$L" --json
expect_match "$(json '.checks[] | select(.check == "lease") | .detail')" "^by $L, epoch 1, " "$L holds lease epoch 1"
writer "$L"
run storage-health --config "$CONF" --json
expect_match "$(json '.checks[] | select(.check == "clients") | .detail')" "^$IMAGE open by client\\.[0-9]+ at " "storage-health: the running copy's disk client"
run mgmtvm-status --config "$CONF"
expect_match "$OUT" "volume: $IMAGE open by client\\.[0-9]+" "mgmtvm-status shows who has the volume open"

echo "# failover: $L hangs (its libvirtd and its monitor stopped, no more ticks)"
mon=$(tr 123 abc <<<"${L#node}")
tick "$L"  # its last renewal: the lease runs 15 s from here
t0=$(date +%s.%N)
freeze "$L"
ceph_bed freeze "mon.$mon"
at_exit ceph_bed thaw "mon.$mon"
echo "# timeline: 0.0 s $L hangs"
M=""
for _ in $(seq 40); do
    M=$(leader)
    [ -n "$M" ] && [ "$M" != "$L" ] && break
    sleep 0.25
done
echo "# timeline: $(at) monitor quorum has a new leader: $M"
expect_match "$M" "^node[123]$" "another monitor leads ($M)"
tick "$M"
expect_eq "$(json .rule)" "master-lease-held" "$M waits: $L's lease is live"
echo "# timeline: $(at) first tick of $M: $(json .reason)"
# A fencing not confirmed within storage.timeout_s (the OSD has not dropped the old copy's
# watch yet) is unknown: that tick starts nothing and the next one fences again.
steps=""
for _ in $(seq 30); do
    tick "$M"
    steps+="$(json '.steps | join(";")');"
    [ "$(json .action),$(json .failed)" = start,false ] && break
    [ "$(json .action)" = start ] && echo "# timeline: $(at) $M: $(json .msg)"
    sleep 0.5
done
echo "# timeline: $(at) $M: $(json .msg)"
fenced=$(date +%s.%N)
expect_eq "$(json .action),$(json .rule)" "start,master-takeover" "after the lease expired $M takes over"
# The lease epoch of the take-over: 2 when the first tick that acquires also starts; a later
# one when such a tick then stopped short (its fencing answered past storage.timeout_s), since
# every acquire takes the next epoch.
E=$(grep -o 'acquired epoch [0-9]*' <<<"$steps" | tail -1 | awk '{print $3}')
expect_match "${E:-none}" "^([2-9]|[1-9][0-9]+)$" "under a new lease epoch (${E:-none})"
# The start follows a confirmed fencing at that epoch: this tick's (naming the client it
# blocklisted), or, when that one's answer came too late (a client whose monitor hangs hunts
# for another), the next tick's, which finds the client gone. The writes below prove the cut
# either way.
expect_match "$steps" "fenced: (blocklisted client\\.[0-9]+ at 127\\.0\\.0\\.1:0/[0-9]+|no client had $IMAGE open) \\(epoch ${E:-none}\\)" "after fencing $L's disk client"
expect_eq "$(state "$M")" "running" "the VM runs on $M"
# The old copy learns it is cut off when its next write fails: at once (-108) when it gets the
# new OSD map, or at its op timeout when its monitor is the hung one.
for _ in $(seq 200); do grep -q '^refused' "$T/writes.$L" && break; sleep 0.05; done
refused=$(grep '^refused' "$T/writes.$L" || true)
expect_match "$refused" "^refused" "$L's copy cannot write any more"
echo "# timeline: $(awk -v a="$(awk '{print $3}' <<<"$refused")" -v b="$t0" 'BEGIN{printf "%.1f s", a-b}') $L's disk client: write refused ($(awk '{print $4}' <<<"$refused"))"
late=$(awk -v f="$fenced" '$1 == "ok" && $3 > f' "$T/writes.$L" | wc -l)
expect_eq "$late" 0 "no write of $L's copy was accepted after the fencing"
writer "$M"

echo "# $L comes back: it stops its stale copy; one copy runs"
ceph_bed thaw "mon.$mon"
thaw "$L"
for _ in $(seq 40); do
    run storage-health --config "$CONF" --node "$L"
    [ "$RC" = 0 ] && break
    sleep 0.25
done
expect_eq "$RC" 0 "$L's storage is healthy again"
tick "$L"
expect_eq "$(json .action),$(json .rule)" "stop,lease-lost-stop" "$L stops its copy: the lease is $M's"
expect_match "$(state "$L"),$(state "$M")" "^(absent|shut off),running$" "one copy, on $M"
for n in node1 node2 node3; do tick $n; done
expect_eq "$(json .failed)" "false" "every node ticks cleanly afterwards"
run storage-health --config "$CONF" --node "$M" --json
expect_match "$(json '.checks[] | select(.check == "lease") | .detail')" "^by $M, epoch ${E:-none}, " "$M holds lease epoch ${E:-none}"
expect_eq "$(grep -c '^refused' "$T/writes.$M")" 0 "$M's copy writes"
done_testing
