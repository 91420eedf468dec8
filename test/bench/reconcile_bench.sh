#!/usr/bin/env bash
# One healthy no-op tick on an N-node test bed (default 3), storkit's mgmtvm-reconcile side by
# side with the published method's own form: a shell script that asks the same storage
# commands and every node through virsh. Prints wall time and max RSS (medians of RUNS runs,
# default 21, the forms interleaved) and the ratios. With STORKIT_BIN_BEFORE set to another
# build's bin directory, that build's tick runs in the same rounds as a third form (what a
# change did to the tick).
#   test/bench/reconcile_bench.sh [RUNS] [NODES]        (after scripts/build)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${STORKIT_BIN:-$SRC/build/bin}
BEFORE=${STORKIT_BIN_BEFORE:-}
RUNS=${1:-21}
N=${2:-3}
W=$(mktemp -d /tmp/storkit-bench.XXXXXX)
chmod 755 "$W"
export BASE=$W/lv
NODES=$SRC/scripts/testbed/libvirt-nodes
trap '"$NODES" down >/dev/null 2>&1; rm -rf "$W"' EXIT
"$NODES" up "$N" >/dev/null
STOR=$SRC/test/fixtures/stor-check XML=$SRC/test/fixtures/mgmt.xml
mkdir -p "$W/stor" "$W/state"
echo node1 >"$W/stor/master"
uris=() entries=()
for ((i = 1; i <= N; i++)); do
    uris+=("$("$NODES" uri $i)")
    entries+=("\"node$i\": {\"libvirt\": \"${uris[i - 1]}\"}")
done
cat >"$W/mgmtvm.json" <<JSON
{"node": "node1", "vm": {"name": "mgmt", "domain_xml": "$XML"},
 "nodes": {$(IFS=,; echo "${entries[*]}")},
 "storage": {"backend": "command", "service_health": ["$STOR", "$W/stor", "service"],
             "volume_health": ["$STOR", "$W/stor", "volume"], "is_master": ["$STOR", "$W/stor", "master"]},
 "deadlines": {"tick_s": 45, "peer_s": 5, "stop_s": 20}, "state_dir": "$W/state"}
JSON
u1=${uris[0]} uN=${uris[N - 1]}
virsh -q -c "$u1" create "$XML" >/dev/null

# The published flow as a shell script, as an operator would write it for cron.
cat >"$W/tick.sh" <<SH
#!/bin/sh
export STORKIT_NODE=node1
runs_here() { timeout 5 virsh -c "$u1" domstate mgmt 2>/dev/null | grep -q running; }
if ! timeout 10 $STOR $W/stor service; then
    runs_here && timeout 60 virsh -c "$u1" destroy mgmt
    exit 0
fi
timeout 10 $STOR $W/stor volume || exit 0
if timeout 10 $STOR $W/stor master; then
    for u in ${uris[*]}; do
        timeout 5 virsh -c "\$u" domstate mgmt 2>/dev/null | grep -q running && exit 0
    done
    timeout 60 virsh -c "$u1" create "$XML"
else
    runs_here && timeout 60 virsh -c "$u1" destroy mgmt
fi
exit 0
SH
chmod +x "$W/tick.sh"

# scenario TITLE: every form as the test bed stands now, interleaved (one run of each per
# round, RUNS rounds after 3 warm-up rounds), each timed from this shell's clock around
# /usr/bin/time, which gives its max RSS.
median() { sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
once() {  # once OUTFILE CMD...
    local out=$1 start end
    shift
    start=$EPOCHREALTIME
    /usr/bin/time -f "%M" -o "$W/.t" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
    end=$EPOCHREALTIME
    echo "$(echo "($end - $start) * 1000" | bc -l) $(cat "$W/.t")" >>"$out"
}
col() { cut -d' ' -f"$2" "$W/$1" | median; }
scenario() {
    local i
    for ((i = 0; i < RUNS + 3; i++)); do
        ((i == 3)) && : >"$W/s" && : >"$W/h" && : >"$W/b"
        once "$W/s" "$BIN/mgmtvm-reconcile" --config "$W/mgmtvm.json"
        once "$W/h" "$W/tick.sh"
        [ -z "$BEFORE" ] || once "$W/b" "$BEFORE/mgmtvm-reconcile" --config "$W/mgmtvm.json"
    done
    local sw hw sm hm
    sw=$(col s 1) sm=$(col s 2) hw=$(col h 1) hm=$(col h 2)
    printf '%-40s %8.1f ms %8.1f ms %6.2fx %8.1f MB %8.1f MB' "$1" "$sw" "$hw" \
        "$(echo "$hw / $sw" | bc -l)" "$(echo "$sm / 1024" | bc -l)" "$(echo "$hm / 1024" | bc -l)"
    [ -z "$BEFORE" ] || printf ' %8.1f ms %6.2fx' "$(col b 1)" "$(echo "$(col b 1) / $sw" | bc -l)"
    echo
}

printf '%-40s %11s %11s %7s %11s %11s' "healthy no-op tick, $N nodes, $RUNS runs" "storkit" "shell" "speed" "RSS storkit" "RSS shell"
[ -z "$BEFORE" ] || printf ' %11s %7s' "before" "speed"
echo
scenario "master, the VM runs here"
virsh -q -c "$u1" destroy mgmt >/dev/null
virsh -q -c "$uN" create "$XML" >/dev/null
scenario "master, the VM runs on node$N"
echo node2 >"$W/stor/master"
scenario "not master, the VM runs elsewhere"
[ "$(virsh -c "$uN" domstate mgmt | head -n1)" = running ] || { echo "the VM stopped running" >&2; exit 1; }
