#!/usr/bin/env bash
# The long fault-injection run: SCHEDULES seeded schedules (default 1000) of random faults
# against 3-5 real libvirtd daemons and the sim storage backend, then the figures: schedules,
# ticks, faults by kind, rules reached, accepted-write conflicts, the worst and median time to
# recover in ticks, tick failures and the VM starts seen under the placement policy (default
# sticky; run both policies with one seed to compare restarts over the same schedules).
#   test/bench/mgmtvm_fault_bench.sh [SCHEDULES] [SEED] [sticky|follow-master]   (after scripts/build)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${STORKIT_BIN:-$SRC/build/bin}
exec "$BIN/mgmtvm_fault" --bin "$BIN" --src "$SRC" --schedules "${1:-1000}" --seed "${2:-1000}" \
    --placement "${3:-sticky}"
