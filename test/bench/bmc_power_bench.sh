#!/usr/bin/env bash
# Power status and power-on across 20, 50 and 98 real IPMI BMCs (ipmi_sim on loopback), in one
# run: storkit's bmc-power side by side with FreeIPMI's ipmipower (one process, an event loop
# over all BMCs) and with a sequential loop of `ipmitool -I lanplus -C 3` processes (how the
# published method powers nodes one by one). Prints the median wall time of RUNS runs (default
# 7) and the ratios. The runs of the tools are interleaved (a different order each round), so a
# change in the machine's load hits all of them alike.
#
#   test/bench/bmc_power_bench.sh [RUNS]        (after scripts/build)
#
# What each does for "on": bmc-power reads the state, powers up, and reads the state back until
# it shows on; `ipmipower --on --wait-until-on` powers up and polls until on; plain
# `ipmipower --on` and `ipmitool power on` only send the power-up. Before every power-on run all
# nodes are switched off (not timed), and after it every node must be on, or the bench stops.
# No password is on a command line: bmc-power and ipmitool read a 0600 file, ipmipower a 0600
# config file.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${STORKIT_BIN:-$SRC/build/bin}
RUNS=${1:-7}
SIZES=${SIZES:-"20 50 98"}
MAX=98
W=$(mktemp -d /tmp/storkit-bench.XXXXXX)
chmod 755 "$W"
export BASE=$W/bmc PORT=623
unset SILENT WRONG_PASSWORD
SIM=$SRC/scripts/testbed/bmc-sim
trap '"$SIM" down >/dev/null 2>&1; rm -rf "$W"' EXIT

for _ in 1 2 3 4 5; do
    export NET=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
    "$SIM" up $MAX >/dev/null 2>"$W/sim.err" && break
    "$SIM" down
    NET=
done
[ -n "$NET" ] || { cat "$W/sim.err" >&2; exit 1; }

PW=$W/pw IPMIPOWER_CONF=$W/ipmipower.conf
(umask 077 && echo secret >"$PW" && printf 'username admin\npassword secret\n' >"$IPMIPOWER_CONF")

# The tools, for N BMCs. Each prints nothing and returns non-zero when a BMC failed.
bmc_power() { "$BIN/bmc-power" --hosts "$NET.[1-$1]" --password-file "$PW" "$2" >/dev/null; }
ipmipower_() { # N ACTION...; ipmipower exits 0 even when BMCs fail: count its "ok"/state lines
    local n=$1 out
    shift
    out=$(ipmipower --config-file "$IPMIPOWER_CONF" -h "$NET.[1-$n]" -D LAN_2_0 -W opensesspriv "$@")
    [ "$(grep -cE ': (ok|on|off)$' <<<"$out")" = "$n" ]
}
ipmitool_loop() { # N ACTION: one ipmitool process per BMC, one after another
    local i
    for i in $(seq 1 "$1"); do
        ipmitool -I lanplus -C 3 -H "$NET.$i" -p "$PORT" -U admin -f "$PW" power "$2" >/dev/null || return 1
    done
}
all_off() { "$BIN/bmc-power" --hosts "$NET.[1-$MAX]" --password-file "$PW" off >/dev/null; }
check_on() { # N: every node 1..N is on
    local i
    for i in $(seq 1 "$1"); do
        [ "$(cat "$BASE/bmc$i/node/power")" = 1 ] || { echo "node$i is not on after $2" >&2; exit 1; }
    done
}

# timed NAME CMD...: appends CMD's wall time in ms to $W/NAME
timed() {
    local name=$1 t0 t1
    shift
    t0=$EPOCHREALTIME
    "$@" || { echo "$name: failed" >&2; exit 1; }
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f\n", (b - a) * 1000}' >>"$W/$name"
}
median() { sort -n "$W/$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1fx", a / b}'; }

status_tools=(bmc-power ipmipower ipmitool)
on_tools=(bmc-power ipmipower-wait ipmipower ipmitool)
run_status() { # TOOL N
    case $1 in
    bmc-power) timed "status-$2-$1" bmc_power "$2" status ;;
    ipmipower) timed "status-$2-$1" ipmipower_ "$2" --stat ;;
    ipmitool) timed "status-$2-$1" ipmitool_loop "$2" status ;;
    esac
}
run_on() { # TOOL N
    all_off
    case $1 in
    bmc-power) timed "on-$2-$1" bmc_power "$2" on ;;
    ipmipower-wait) timed "on-$2-$1" ipmipower_ "$2" --on --wait-until-on ;;
    ipmipower) timed "on-$2-$1" ipmipower_ "$2" --on ;;
    ipmitool) timed "on-$2-$1" ipmitool_loop "$2" on ;;
    esac
    check_on "$2" "$1"
}

echo "bmc-power vs ipmipower vs an ipmitool loop: $MAX ipmi_sim BMCs on $NET.1-$MAX:$PORT, $RUNS runs each, $(nproc) cores"
for n in $SIZES; do
    run_status bmc-power "$n" # warm-up: page cache, ARP-free loopback, first sessions
    for r in $(seq 1 "$RUNS"); do
        for k in 0 1 2; do run_status "${status_tools[$(((r + k) % 3))]}" "$n"; done
        for k in 0 1 2 3; do run_on "${on_tools[$(((r + k) % 4))]}" "$n"; done
    done
done

row() { printf '%-5s %-7s %10s %10s %10s %10s %10s %10s %10s\n' "$@"; }
echo
row "" "" "bmc-power" ipmipower ipmipower ipmitool ipmipower ipmipower ipmitool
row BMCs action "" "" "-wait" loop "/bmc-power" "-wait/b-p" "/bmc-power"
for n in $SIZES; do
    b=$(median "status-$n-bmc-power") p=$(median "status-$n-ipmipower") t=$(median "status-$n-ipmitool")
    row "$n" status "$b" "$p" - "$t" "$(ratio "$p" "$b")" - "$(ratio "$t" "$b")"
    b=$(median "on-$n-bmc-power") pw=$(median "on-$n-ipmipower-wait") p=$(median "on-$n-ipmipower")
    t=$(median "on-$n-ipmitool")
    row "$n" on "$b" "$p" "$pw" "$t" "$(ratio "$p" "$b")" "$(ratio "$pw" "$b")" "$(ratio "$t" "$b")"
done
echo
echo "wall ms, medians of $RUNS runs; ratios > 1 mean bmc-power is faster. ipmipower: default fan-out (64),"
echo "bmc-power: default window (64). 'on' for bmc-power = read state, power up, read back until on;"
echo "ipmipower-wait = --on --wait-until-on; ipmipower and ipmitool = power-up command only."
