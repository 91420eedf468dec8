#!/usr/bin/env bash
# Start-up cost of the tools: pxe-report recording one DHCP event (dnsmasq starts it per lease,
# lighttpd per CGI request), a healthy no-op mgmtvm-reconcile tick (every minute on every node),
# and `--version` of every other tool (loading it and its libraries), for one or two builds side
# by side in one run. Prints the median
# wall time of RUNS runs (default 20) and the median max RSS.
#   test/bench/startup_bench.sh [BIN [OTHER_BIN]] [RUNS]     (after scripts/build)
# e.g. test/bench/startup_bench.sh build/bin /tmp/old/build/bin: ratios are BIN / OTHER_BIN.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BINS=()
RUNS=20
for a in "$@"; do
    if [[ $a =~ ^[0-9]+$ ]]; then RUNS=$a; else BINS+=("$(cd "$a" && pwd)"); fi
done
[ ${#BINS[@]} -gt 0 ] || BINS=("$SRC/build/bin")
W=$(mktemp -d /tmp/storkit-bench.XXXXXX)
chmod 755 "$W"
export BASE=$W/lv
NODES=$SRC/scripts/testbed/libvirt-nodes
trap '"$NODES" down >/dev/null 2>&1; rm -rf "$W"' EXIT
"$NODES" up 1 >/dev/null
STOR=$SRC/test/fixtures/stor-check XML=$SRC/test/fixtures/mgmt.xml
mkdir -p "$W/stor" "$W/state" "$W/pxe"
echo node1 >"$W/stor/master"
u1=$("$NODES" uri 1)
cat >"$W/mgmtvm.json" <<JSON
{"node": "node1", "vm": {"name": "mgmt", "domain_xml": "$XML"},
 "nodes": {"node1": {"libvirt": "$u1"}},
 "storage": {"backend": "command", "service_health": ["$STOR", "$W/stor", "service"],
             "volume_health": ["$STOR", "$W/stor", "volume"], "is_master": ["$STOR", "$W/stor", "master"]},
 "deadlines": {"tick_s": 45, "peer_s": 5, "stop_s": 20}, "state_dir": "$W/state"}
JSON
virsh -q -c "$u1" create "$XML" >/dev/null

# Runs are interleaved (build after build, round after round) after 3 warm-up rounds, so a
# change in the machine's load touches every build alike. Each run is timed from this shell
# around /usr/bin/time, which also gives its max RSS.
args_for() {
    case $1 in
        pxe-report) echo "$2/pxe-report --state-dir $W/pxe old 52:54:00:00:00:01 198.18.0.10 node1" ;;
        mgmtvm-reconcile) echo "$2/mgmtvm-reconcile --config $W/mgmtvm.json" ;;
        *) echo "$2/$1 --version" ;;  # the others: loading the program and its libraries
    esac
}
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

printf '%-18s %-40s %10s %9s\n' "command" "build" "median" "max RSS"
for cmd in pxe-report mgmtvm-reconcile mgmtvm-status mgmtvm-maint bmc-power pxe-provision; do
    for ((round = 0; round < RUNS + 3; round++)); do
        for ((b = 0; b < ${#BINS[@]}; b++)); do
            read -r -a argv <<<"$(args_for "$cmd" "${BINS[b]}")"
            t0=$EPOCHREALTIME
            /usr/bin/time -f "%M" -o "$W/.rss" "${argv[@]}" >/dev/null 2>"$W/.err" ||
                { echo "$cmd (${BINS[b]}) failed: $(cat "$W/.err")" >&2; exit 1; }
            t1=$EPOCHREALTIME
            ((round < 3)) && continue
            echo "$t0 $t1" | awk '{printf "%.3f\n", ($2 - $1) * 1000}' >>"$W/ms.$b"
            tail -n1 "$W/.rss" >>"$W/rss.$b"
        done
    done
    for ((b = 0; b < ${#BINS[@]}; b++)); do
        ms=$(median <"$W/ms.$b")
        rss=$(median <"$W/rss.$b")
        ((b == 0)) && first=$ms
        ratio=""
        ((b > 0)) && ratio=$(printf '  %.2fx of the first' "$(echo "$ms / $first" | bc -l)")
        printf '%-18s %-40s %7.2f ms %6.1f MB%s\n' "$cmd" "${BINS[b]}" "$ms" \
            "$(echo "$rss / 1024" | bc -l)" "$ratio"
        rm -f "$W/ms.$b" "$W/rss.$b"
    done
done
