#!/usr/bin/env bash
# The ceph backend against the Ceph CLI an operator's shell tick would run, on a throw-away
# cluster (scripts/testbed/ceph-cluster) in one run:
#   probe: storage-health (service, volume, master, lease, shared store; one process, librados)
#          vs `ceph health` + `ceph quorum_status` (the pair a shell tick needs at the least)
#   tick:  a no-op mgmtvm-reconcile on the master that runs the VM (probes, lease renewed,
#          decision published) vs the shell form: ceph health, ceph quorum_status | jq, rbd info,
#          virsh domstate (no lease: the CLI has no compare-and-swap to keep one)
# Median wall time of RUNS runs (default 20) after 3 warm-up rounds, runs interleaved; median
# max RSS.
#   test/bench/ceph_bench.sh [RUNS]      (after scripts/build)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${STORKIT_BIN:-$SRC/build/bin}
RUNS=${1:-20}
W=$(mktemp -d /tmp/storkit-bench.XXXXXX)
chmod 755 "$W"
CEPH="$SRC/scripts/testbed/ceph-cluster"
NODES=$SRC/scripts/testbed/libvirt-nodes
cleanup() {
    BASE=$W/ceph PORT=26789 "$CEPH" down >/dev/null 2>&1 || true
    BASE=$W/lv "$NODES" down >/dev/null 2>&1 || true
    rm -rf "$W"
}
trap cleanup EXIT
BASE=$W/ceph PORT=26789 "$CEPH" up >/dev/null
CONF=$W/ceph/ceph.conf
rbd -c "$CONF" create --size 16M mgmtvm
BASE=$W/lv "$NODES" up 1 >/dev/null
u1=$(BASE=$W/lv "$NODES" uri 1)
XML=$SRC/test/fixtures/mgmt.xml
leader=$(ceph -c "$CONF" quorum_status -f json 2>/dev/null | jq -r .quorum_leader_name)
mkdir -p "$W/state"
cat >"$W/mgmtvm.json" <<JSON
{"node": "node1", "vm": {"name": "mgmt", "domain_xml": "$XML"},
 "nodes": {"node1": {"libvirt": "$u1"}},
 "storage": {"backend": "ceph", "conf": "$CONF", "image": "mgmtvm", "monitors": {"node1": "$leader"}},
 "state_dir": "$W/state"}
JSON
chmod 600 "$W/mgmtvm.json"
"$BIN/mgmtvm-reconcile" --config "$W/mgmtvm.json"  # starts the VM: later ticks are no-ops
cat >"$W/shell-tick" <<SH
#!/bin/sh
# The published flow as a shell tick on Ceph: health, master, volume, where the VM runs.
set -e
ceph -c $CONF health >/dev/null
[ "\$(ceph -c $CONF quorum_status -f json | jq -r .quorum_leader_name)" = "$leader" ]
rbd -c $CONF info mgmtvm >/dev/null
virsh -c '$u1' domstate mgmt >/dev/null
SH
cat >"$W/cli-pair" <<SH
#!/bin/sh
ceph -c $CONF health >/dev/null && ceph -c $CONF quorum_status -f json >/dev/null
SH
chmod +x "$W/shell-tick" "$W/cli-pair"

median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
rows=("probe|$BIN/storage-health --config $W/mgmtvm.json|$W/cli-pair"
      "tick|$BIN/mgmtvm-reconcile --config $W/mgmtvm.json|$W/shell-tick")
printf '%-6s %-22s %10s %10s   %-22s %10s %10s   %s\n' row storkit median "max RSS" peer median \
    "max RSS" "peer/storkit"
for row in "${rows[@]}"; do
    IFS='|' read -r name ours theirs <<<"$row"
    rm -f "$W"/ms.* "$W"/rss.*
    for ((round = 0; round < RUNS + 3; round++)); do
        for who in ours theirs; do
            read -r -a argv <<<"${!who}"
            t0=$EPOCHREALTIME
            /usr/bin/time -f "%M" -o "$W/.rss" "${argv[@]}" >"$W/.out" 2>"$W/.err" ||
                { echo "$name ($who) failed: $(cat "$W/.out" "$W/.err")" >&2; exit 1; }
            t1=$EPOCHREALTIME
            ((round < 3)) && continue
            echo "$t0 $t1" | awk '{printf "%.3f\n", ($2 - $1) * 1000}' >>"$W/ms.$who"
            tail -n1 "$W/.rss" >>"$W/rss.$who"
        done
    done
    mo=$(median <"$W/ms.ours") mt=$(median <"$W/ms.theirs")
    ro=$(median <"$W/rss.ours") rt=$(median <"$W/rss.theirs")
    printf '%-6s %-22s %8.1f ms %7d KB   %-22s %8.1f ms %7d KB   %.1fx\n' "$name" \
        "$(basename "${ours%% *}")" "$mo" "$ro" "$(basename "${theirs%% *}")" "$mt" "$rt" \
        "$(awk -v a="$mt" -v b="$mo" 'BEGIN{print a/b}')"
done
