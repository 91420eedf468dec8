#!/usr/bin/env bash
# pxe-report (dnsmasq's hook, run once per lease) under concurrent runs, some killed with
# SIGKILL at seeded random points while they append to the event log and rewrite the lease
# table and the joined table. After every round:
#   - every event whose run exited 0 (acknowledged to dnsmasq) is in the event log, and in the
#     table the next run builds: none is lost;
#   - every line of the event log is one whole event;
#   - leases.json and table.json are whole JSON documents (the old or the new version);
#   - a later run leaves no temp file of a killed one behind.
# STORKIT_CRASH_ROUNDS (default 20) rounds of 30 runs, about a third of them killed;
# STORKIT_CRASH_SEED repeats a run.
. "$STORKIT_SRC/test/blackbox/lib.sh"
ROUNDS=${STORKIT_CRASH_ROUNDS:-20}
SEED=${STORKIT_CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}
PER=30
plan $((ROUNDS * 4 + 2))
echo "# seed $SEED, $ROUNDS rounds of $PER concurrent runs"
RANDOM=$SEED
S=$T/pxe
mkdir -p "$S"
STATE=$STORKIT_SRC/test/blackbox/tree_state.py

acked=$T/acked
: >"$acked"
kills=0
for ((r = 1; r <= ROUNDS; r++)); do
    pids=() macs=()
    for ((k = 0; k < PER; k++)); do
        mac=$(printf '52:54:%02x:%02x:00:%02x' $((r / 256)) $((r % 256)) "$k")
        pxe-report --state-dir "$S" add "$mac" "198.18.$((r % 250)).$((k + 10))" "n$r-$k" \
            >/dev/null 2>&1 &
        pids+=($!) macs+=("$mac")
    done
    # A third of them, each after a random delay of up to 40 ms.
    for ((k = 0; k < PER; k += 3)); do
        j=$((RANDOM % PER))
        (sleep "0.0$(printf %02d $((RANDOM % 40)))"; kill -KILL "${pids[j]}" 2>/dev/null) &
    done
    for ((k = 0; k < PER; k++)); do
        if wait "${pids[k]}" 2>/dev/null; then
            echo "${macs[k]}" >>"$acked"
        else
            kills=$((kills + 1))
        fi
    done
    wait 2>/dev/null
    # What was acknowledged is in the log; every line of it is whole.
    lost=$(grep -cvxFf <(jq -r '.mac // empty' "$S/events.jsonl" 2>/dev/null) "$acked")
    expect_eq "$lost" 0 "round $r: no acknowledged event lost from the log"
    torn=$(while IFS= read -r line; do jq -e . <<<"$line" >/dev/null 2>&1 || echo x; done <"$S/events.jsonl" | wc -l)
    expect_eq "$torn" 0 "round $r: every line of the log is a whole event"
    ok=1
    for f in leases.json table.json; do
        [ -e "$S/$f" ] && ! jq -e . "$S/$f" >/dev/null 2>&1 && ok=0
    done
    expect_eq "$ok" 1 "round $r: leases.json and table.json are whole"
    run pxe-report --state-dir "$S" --json table
    missing=$(grep -cvxFf <(jq -r '.table.unbound[].mac' <<<"$OUT" 2>/dev/null) "$acked")
    expect_eq "$RC $missing" "0 0" "round $r: the next run's table has every acknowledged MAC"
done
echo "# $((ROUNDS * PER)) runs, $kills killed, $(wc -l <"$acked") acknowledged"
python3 "$STATE" temps "$S" >"$T/temps"
expect_eq "$(wc -l <"$T/temps")" 0 "no temp file of a killed run is left after the next runs $(head -3 "$T/temps")"
expect_eq "$((kills > 0))" 1 "some runs were killed ($kills)"
done_testing
