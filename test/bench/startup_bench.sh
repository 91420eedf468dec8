#!/usr/bin/env bash
# Start-up cost of the tools started most often: pxe-report recording one DHCP event (dnsmasq
# starts it per lease, lighttpd per CGI request) and a healthy no-op mgmtvm-reconcile tick
# (every minute on every node), for one or two builds side by side in one run. Prints the median
# wall time of RUNS runs (hyperfine, default 20) and the median max RSS.
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
 "deadlines": {"tick_s": 45, "peer_s": 5, "stop_s": 60}, "state_dir": "$W/state"}
JSON
virsh -q -c "$u1" create "$XML" >/dev/null

median_ms() { jq '.results[0].median * 1000' "$1"; }
rss_mb() {
    for ((i = 0; i < RUNS; i++)); do
        /usr/bin/time -f "%M" -o "$W/.t" "$@" >/dev/null 2>&1 || true
        cat "$W/.t"
    done | sort -n | awk '{a[NR]=$1} END{printf "%.1f", a[int((NR+1)/2)]/1024}'
}

printf '%-22s %-40s %10s %9s\n' "command" "build" "median" "max RSS"
declare -A first
for cmd in pxe-report mgmtvm-reconcile; do
    for bin in "${BINS[@]}"; do
        if [ "$cmd" = pxe-report ]; then
            args=("$bin/pxe-report" --state-dir "$W/pxe" old 52:54:00:00:00:01 198.18.0.10 node1)
        else
            args=("$bin/mgmtvm-reconcile" --config "$W/mgmtvm.json")
        fi
        hyperfine -N -w 3 -r "$RUNS" --export-json "$W/h.json" "${args[*]}" >/dev/null 2>&1 ||
            { echo "$cmd ($bin): the command failed" >&2; exit 1; }
        ms=$(median_ms "$W/h.json")
        rss=$(rss_mb "${args[@]}")
        ratio=""
        [ -n "${first[$cmd]:-}" ] && ratio=$(printf '  %.2fx of the first' "$(echo "$ms / ${first[$cmd]}" | bc -l)")
        first[$cmd]=${first[$cmd]:-$ms}
        printf '%-22s %-40s %7.2f ms %6s MB%s\n' "$cmd" "$bin" "$ms" "$rss" "$ratio"
    done
done
