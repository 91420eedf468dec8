#!/usr/bin/env bash
# The long fault-injection run: SCHEDULES seeded schedules (default 1000) of random faults
# against 3-5 real libvirtd daemons and the sim storage backend, then the figures: schedules,
# ticks, faults, double-runs found, and the worst and median time to recover in ticks.
#   test/bench/mgmtvm_fault_bench.sh [SCHEDULES] [SEED]     (after scripts/build)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${STORKIT_BIN:-$SRC/build/bin}
exec "$BIN/mgmtvm_fault" --bin "$BIN" --src "$SRC" --schedules "${1:-1000}" --seed "${2:-1000}"
