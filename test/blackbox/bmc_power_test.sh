#!/usr/bin/env bash
# bmc-power against 22 real IPMI BMCs (OpenIPMI's ipmi_sim on loopback addresses): BMC 1 never
# answers (its process is frozen), BMC 21 has another password than the one bmc-power is given.
# Each simulated node records every chassis command with a timestamp (scripts/testbed/bmc-sim),
# so the checks look at what the BMCs really saw, not only at what bmc-power says.
source "$(dirname "$0")/lib.sh"
plan 101

SIM=$STORKIT_SRC/scripts/testbed/bmc-sim
export BASE=$T/bmc PORT=623 SILENT=1 WRONG_PASSWORD=21
N=22
at_exit "$SIM" down

# A /24 of loopback addresses of our own, so that parallel runs do not meet.
for _ in 1 2 3 4 5; do
    export NET=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
    "$SIM" up $N >"$T/hosts" 2>"$T/sim.err" && break
    "$SIM" down
    NET=
done
if [ -z "$NET" ]; then
    fail "22 simulated BMCs start" "$(cat "$T/sim.err")"
    exit 1
fi
pass "22 simulated BMCs start on $NET.1-$N"

PW=$T/pw
echo secret >"$PW"
chmod 600 "$PW"
DEAD=$NET.1:$PORT
WRONG=$NET.21:$PORT
LIVE="$NET.[2-20,22]"      # the 20 BMCs that work
ALL="$NET.[1-$N]:$PORT"
BP=(bmc-power --password-file "$PW" --timeout-ms 2000 --retries 1)
ALL_OUTPUT=""
record() { ALL_OUTPUT+="$OUT$ERR"; }

# node I's state as bmc-sim keeps it
power() { "$SIM" power "$1"; }
bootdev() { "$SIM" boot "$1"; }
events() { "$SIM" events "$1"; }
count_events() { # WHAT: how many live nodes logged a line matching WHAT
    local i n=0
    for i in $(seq 2 20) 22; do events "$i" | grep -q -- "$1" && n=$((n + 1)); done
    echo $n
}
all_live() { # CMD: is CMD's output the same for every live node? prints it
    local i v first
    first=$("$@" 2)
    for i in $(seq 3 20) 22; do
        v=$("$@" "$i")
        [ "$v" = "$first" ] || { echo "node$i: $v"; return; }
    done
    echo "$first"
}

# --- bad input: exit 2, and nothing reaches any BMC -------------------------------------------
expect_rc 2 "an unknown action is a usage error" "${BP[@]}" --hosts "$LIVE" boot
expect_rc 2 "a backwards range is a usage error" "${BP[@]}" --hosts "$NET.[9-2]" on
expect_match "$ERR" "\[9-2\].*backwards" "the message names the bad range"
expect_rc 2 "a host given twice is a usage error" "${BP[@]}" --hosts "$LIVE,$NET.5" on
chmod 644 "$PW"
expect_rc 2 "a password file others can read is refused" "${BP[@]}" --hosts "$LIVE" on
expect_match "$ERR" "$PW: mode 0644" "the refusal names the file and its mode"
chmod 600 "$PW"
expect_rc 2 "no password at all is a usage error" \
    env -u STORKIT_IPMI_PASSWORD bmc-power --hosts "$LIVE" on
expect_match "$ERR" "STORKIT_IPMI_PASSWORD" "the message says where a password may come from"
expect_rc 2 "a password cannot be given on the command line" \
    bmc-power --hosts "$LIVE" --password secret on
expect_rc 2 "a cipher suite FreeIPMI lacks is a usage error" \
    "${BP[@]}" --hosts "$LIVE" --cipher-suite 4 on
for opt in "--retries -1" "--timeout-ms 0" "--cipher-suite -1"; do
    # shellcheck disable=SC2086 # the option and its value
    run bmc-power --password-file "$PW" --hosts "$LIVE" $opt on
    expect_eq "$RC ${ERR//$'\n'/ }" "2 bmc-power: error: ${opt% *} ${opt#* }: $(case $opt in
        --retries*) echo "expected 0 to 10" ;; --timeout-ms*) echo "expected 100 to 600000" ;;
        *) echo "not a cipher suite FreeIPMI supports (0-3, 6-8, 11, 12, 15-17)" ;; esac)" \
        "$opt is refused, not taken for 'not given'"
done
expect_rc 2 "--subnet goes with discover only" "${BP[@]}" --hosts "$LIVE" --subnet "$NET.0/24" on
expect_rc 2 "discover needs --subnet" bmc-power discover
expect_rc 2 "discover refuses a subnet with host bits set" \
    bmc-power --subnet "$NET.7/24" discover
expect_eq "$(count_events set)" 0 "no BMC saw a command after the usage errors"

# --- dry run --------------------------------------------------------------------------------
expect_rc 0 "-n on says what it would do" "${BP[@]}" --hosts "$LIVE" -n on
expect_eq "$(grep -c 'would power on unless on' <<<"$OUT")" 20 "one line per BMC"
expect_eq "$(count_events set)" 0 "-n sent nothing"

# --- power on with a dead and a wrong-password BMC in the range ------------------------------
# A window of 4 with the dead BMC first: it holds one worker for its two 2 s attempts while
# the other three work through the remaining 21 BMCs.
run "${BP[@]}" --hosts "$ALL" --window 4 --json on
record
expect_eq "$RC" 1 "on over all 22 exits 1 (two BMCs failed)"
expect_eq "$(json '[.bmcs[] | select(.ok)] | length')" 20 "20 BMCs report success"
expect_eq "$(json "[.bmcs[] | select(.ok and .power == \"on\" and .was == \"off\" and .changed)] | length")" 20 \
    "all 20 read back on, were off, changed"
expect_eq "$(all_live power)" 1 "every live node is powered on"
expect_eq "$(count_events 'set power 1')" 20 "every live BMC got exactly the power-up"
expect_eq "$(json "[.bmcs[].host] | .[0], .[20], .[21]" | tr '\n' ' ')" "$DEAD $WRONG $NET.22:$PORT " \
    "results come in the order of --hosts"
expect_match "$(json ".bmcs[] | select(.host == \"$WRONG\") | .error")" "password" \
    "the wrong password is named"
expect_eq "$(json ".bmcs[] | select(.host == \"$WRONG\") | .attempts")" 1 \
    "a wrong password is not tried again"
expect_eq "$(power 21)" 0 "the wrong-password node stayed off"
expect_match "$(json ".bmcs[] | select(.host == \"$DEAD\") | .error")" "timeout" \
    "the dead BMC timed out"
expect_eq "$(json ".bmcs[] | select(.host == \"$DEAD\") | .attempts")" 2 "the dead BMC got a retry"
expect_eq "$(json ".bmcs[] | select(.host == \"$DEAD\") | .elapsed_ms >= 4000")" true \
    "the dead BMC cost its deadline twice"
expect_match "$(json .msg)" "2 of 22 BMCs failed: $DEAD \(.*timeout\), $WRONG \(.*password" \
    "the result names both failures"
# The dead BMC must delay nobody: every other BMC's power-up, as the BMC itself recorded it,
# happened before bmc-power gave up on the dead one.
dead_done=$(json ".bmcs[] | select(.host == \"$DEAD\") | .finished")
late=0
for i in $(seq 2 20) 22; do
    t=$(events "$i" | awk '$2 == "set" && $3 == "power" {print $1; exit}')
    awk -v t="$t" -v d="$dead_done" 'BEGIN {exit !(t < d)}' || late=$((late + 1))
done
expect_eq "$late" 0 "every live BMC was powered on before the dead one's deadline ran out"
expect_eq "$(json "[.bmcs[] | select(.ok and .finished > $dead_done)] | length")" 0 \
    "every live BMC finished before the dead one"

# Without --json, every BMC gets its line on stdout and the failures are named on stderr.
run bmc-power --password-file "$PW" --timeout-ms 1000 --retries 0 --hosts "$DEAD,$WRONG,$NET.2" status
expect_eq "$RC" 1 "a run where BMCs failed exits 1"
expect_eq "$(cut -d' ' -f2- <<<"$OUT" | tr '\n' '|')" "failed: session: connection timeout|failed: session: password invalid|on|" \
    "one line per BMC, failures included"
expect_match "$ERR" "^bmc-power: error: status: 2 of 3 BMCs failed: $DEAD \(.*\), $WRONG \(" \
    "stderr names the failed BMCs"

# --- idempotence and --detailed-exitcode --------------------------------------------------------
expect_rc 0 "on again exits 0" "${BP[@]}" --hosts "$LIVE" --detailed-exitcode on
expect_eq "$OUT$ERR" "" "an action that went well prints nothing off a terminal (cron mails output)"
expect_rc 0 "on again with -v exits 0" "${BP[@]}" --hosts "$LIVE" --detailed-exitcode -v on
record
expect_eq "$(grep -c ': on (unchanged)$' <<<"$OUT")" 20 "with -v every BMC says unchanged"
once=0
for i in $(seq 2 20) 22; do [ "$(events "$i" | grep -c 'set power')" = 1 ] && once=$((once + 1)); done
expect_eq "$once" 20 "no second power-up was sent"
expect_rc 3 "off exits 3 with --detailed-exitcode" "${BP[@]}" --hosts "$LIVE" --detailed-exitcode -v off
record
expect_eq "$(grep -c ': off (was on)$' <<<"$OUT")" 20 "every BMC says off (was on)"
expect_eq "$(all_live power)" 0 "every live node is off"

# --- status, text output ----------------------------------------------------------------------
expect_rc 0 "status exits 0" "${BP[@]}" --hosts "$LIVE" status
record
expect_eq "$(head -1 <<<"$OUT")" "$NET.2:$PORT: off" "status prints host:port: state"
expect_eq "$(grep -c ': off$' <<<"$OUT")" 20 "every BMC reads off"

# --- one-time PXE boot override ----------------------------------------------------------------
run "${BP[@]}" --hosts "$LIVE" --json pxe
record
expect_eq "$RC" 0 "pxe exits 0"
expect_eq "$(json '[.bmcs[] | select(.boot.device == "pxe" and .boot_mode == "bios")] | length')" 20 \
    "the boot device reads back as PXE everywhere"
expect_eq "$(all_live bootdev)" pxe "every node will boot from PXE next"
expect_eq "$(all_live power)" 0 "pxe does not touch the power"
run "${BP[@]}" --hosts "$LIVE" --json --efi pxe
expect_eq "$(json '[.bmcs[] | select(.ok and .boot_mode == "efi" and .boot.device == "pxe")] | length')" 20 \
    "pxe --efi reads back PXE (ipmi_sim keeps no EFI bit: the bit itself is a unit test)"

# --- PXE boot now: boot device first, then power-up --------------------------------------------
# Node 2 runs a program at every boot, as a real node would start its firmware's PXE client.
printf '#!/bin/sh\necho "$2" >>"$1/booted"\n' >"$BASE/bmc2/node/on-boot"
chmod +x "$BASE/bmc2/node/on-boot"
run "${BP[@]}" --hosts "$LIVE" --json pxe-boot
record
expect_eq "$RC" 0 "pxe-boot of nodes that are off exits 0"
expect_eq "$(json '[.bmcs[] | select(.power == "on" and .was == "off" and .sent[-1] == "power up")] | length')" 20 \
    "each was powered up and reads back on"
expect_eq "$(all_live power)" 1 "every node is on"
expect_eq "$(all_live bootdev)" default "the override was used up by the boot"
order_ok=0
for i in $(seq 2 20) 22; do
    # The last three events: override set, power-up, and the boot it caused, from PXE.
    last=$(events "$i" | tail -3 | cut -d' ' -f2- | tr '\n' '|')
    [ "$last" = "set boot pxe|set power 1|boot pxe|" ] && order_ok=$((order_ok + 1))
done
expect_eq "$order_ok" 20 "every node got its boot device before power-up and booted from PXE"
ts_ok=0
for i in $(seq 2 20) 22; do
    events "$i" | tail -3 | awk 'NR == 1 {b = $1} NR == 2 {p = $1} END {exit !(b <= p)}' &&
        ts_ok=$((ts_ok + 1))
done
expect_eq "$ts_ok" 20 "the recorded time of the override is not after the power-up"
for _ in $(seq 100); do [ -s "$BASE/bmc2/node/booted" ] && break; sleep 0.02; done
expect_eq "$(cat "$BASE/bmc2/node/booted" 2>/dev/null)" pxe "the node's boot program ran with PXE"

run "${BP[@]}" --hosts "$NET.[2-4]" --json pxe-boot
expect_eq "$(json '[.bmcs[] | select(.ok and .sent[-1] == "power cycle" and .power == "on")] | length')" 3 \
    "pxe-boot of nodes that are on cycles them"
expect_eq "$(events 3 | tail -4 | cut -d' ' -f2- | tr '\n' '|')" \
    "set boot pxe|set power 0|set power 1|boot pxe|" "the cycled node booted from PXE"

# --- cycle, reset, soft ------------------------------------------------------------------------
run "${BP[@]}" --hosts "$LIVE" --json cycle
record
expect_eq "$(json '[.bmcs[] | select(.ok and .power == "on" and .sent == ["power cycle"])] | length')" 20 \
    "cycle sends one power cycle and reads back on"
expect_eq "$(events 9 | tail -3 | cut -d' ' -f2- | tr '\n' '|')" \
    "set power 0|set power 1|boot default|" "the node went off and on again"
run "${BP[@]}" --hosts "$LIVE" --json reset
expect_eq "$(json '[.bmcs[] | select(.ok and .power == "on" and .sent == ["hard reset"])] | length')" 20 \
    "reset sends one hard reset and reads back on"
expect_eq "$(count_events 'set reset 1')" 20 "every BMC recorded the reset"
run "${BP[@]}" --hosts "$LIVE" --json soft
expect_eq "$(json '[.bmcs[] | select(.ok and .was == "on" and .sent == ["soft shutdown"])] | length')" 20 \
    "soft asks for a shutdown"
expect_eq "$(count_events 'set shutdown 1')" 20 "every BMC passed the shutdown on"
expect_eq "$(all_live power)" 0 "every node shut down"
run "${BP[@]}" --hosts "$LIVE" --json cycle
expect_eq "$(json '[.bmcs[] | select(.ok and .was == "off" and .power == "on" and .sent == ["power up"])] | length')" 20 \
    "cycle of a node that is off powers it up"

# --- a power cycle whose answer was lost -------------------------------------------------------
# BMC 5 carries the cycle out but answers after bmc-power gave up waiting; BMC 6 answers as late
# and never carries it out (scripts/testbed/bmc-chassis.cc, DIR/stall). The next attempt only
# looks: a cycle counts as done only when the read-back proves it.
echo "1.5 apply" >"$BASE/bmc5/node/stall"
echo "1.5 drop" >"$BASE/bmc6/node/stall"
run bmc-power --password-file "$PW" --timeout-ms 1000 --retries 2 --settle-ms 2000 \
    --hosts "$NET.[5-6]" --json pxe-boot
expect_eq "$RC" 1 "a cycle nobody can prove fails the run"
expect_eq "$(json '.bmcs[0] | [.ok, .attempts > 1, .power, (.sent | map(select(. == "power cycle")) | length)] | map(tostring) | join(" ")')" \
    "true true on 1" "the late answer of a cycle that happened: proven by the used PXE override, sent once"
expect_match "$(events 5 | cut -d' ' -f2- | tr '\n' '|')" "stall apply\|(set power 0\|)+set power 1\|boot pxe\|" \
    "node 5 did cycle into PXE"
expect_match "$(json '.bmcs[1].error')" \
    "^the answer to power cycle was lost, and nothing read back proves it was carried out \(power on throughout, the PXE override still set\)" \
    "a cycle that never happened is not reported done"
expect_eq "$(events 6 | sed -n '/stall drop/,$p' | grep -c 'boot')" 0 "node 6 indeed never restarted"

# --- password from the environment, cipher suites --------------------------------------------
run env STORKIT_IPMI_PASSWORD=secret bmc-power --hosts "$LIVE" status
record
expect_eq "$RC" 0 "the password can come from STORKIT_IPMI_PASSWORD"
run env STORKIT_IPMI_PASSWORD=wrong bmc-power --hosts "$NET.[2-3]" --retries 3 --json status
expect_eq "$RC" 1 "a wrong password fails"
expect_eq "$(json '[.bmcs[] | select(.attempts == 1 and (.error | test("password")))] | length')" 2 \
    "a wrong password fails at once, without retries"
expect_rc 0 "cipher suite 1 works too" "${BP[@]}" --hosts "$LIVE" --cipher-suite 1 status
run bmc-power --password-file "$PW" --hosts "$NET.[2-3]" --retries 0 --cipher-suite 17 status
expect_eq "$RC" 1 "a cipher suite the BMC lacks fails (the option reaches the BMC)"

# --- discovery -------------------------------------------------------------------------------
run bmc-power --subnet "$NET.0/24" --timeout-ms 1500 --json discover
record
expect_eq "$RC" 0 "discover exits 0"
want=$(for i in $(seq 2 $N); do echo "$NET.$i:$PORT"; done)
expect_eq "$(json '.bmcs[].host')" "$want" \
    "discover finds exactly the 21 BMCs that answer (the frozen one does not), in address order"
expect_eq "$(json '.bmcs[0].name, .bmcs[20].name' | tr '\n' ' ')" "node002 node022 " \
    "names come from the address"
expect_eq "$(json '[.bmcs[] | select(.ipmi_v20)] | length')" 21 "every BMC offers IPMI 2.0"
run bmc-power --subnet "$NET.0/24" --timeout-ms 1000 discover
expect_eq "$(sed -n 2p <<<"$OUT")" "node003 $NET.3:$PORT" "discover prints name and host:port"

# --- the nodes of a pxe-provision config, each with its own login -----------------------------
# Power control reads only what it needs: this config's image is missing and its install
# template broken (prepare would refuse both), and yet its nodes answer. The bmc section's
# password is wrong for every BMC: n02 and n03 log in with their group's password file, n21
# (whose BMC has another password than all the others) with its own.
(umask 077 && echo wrong-default >"$T/default.pw" && echo not-secret >"$T/n21.pw" &&
    echo wrong >"$T/n03.pw")
printf 'host {{name}} {{no_such_variable}\n' >"$T/broken.in"
cat >"$T/pxe.json" <<EOF
{
  "bmc": {"subnet": "$NET.0/24", "user": "admin", "password_file": "$T/default.pw",
          "timeout_ms": 2000, "retries": 0},
  "data": {"subnet": "198.18.201.0/24", "pool": "198.18.201.100-198.18.201.150"},
  "server": {"interface": "lo", "address": "198.18.201.1"},
  "iso": {"repository": "$T/no-repository", "version": "gone-1"},
  "paths": {"state_dir": "$T/pxe-state"},
  "install": {"template": "$T/broken.in"},
  "groups": {"rack-a": {"bmc_password_file": "$PW"}},
  "nodes": {"n02": {"bmc": "$NET.2", "group": "rack-a"}, "n03": {"bmc": "$NET.3", "group": "rack-a"},
            "n21": {"bmc": "$NET.21", "bmc_password_file": "$T/n21.pw"}}
}
EOF
CFG=$T/pxe.json
on_off() { sed 's/^1$/on/; s/^0$/off/'; }
run bmc-power --config "$CFG" --json status
record
expect_eq "$RC" 0 "a config without its image and with a broken template still powers its nodes"
expect_eq "$(json '[.bmcs[] | select(.ok) | .node] | join(" ")')" "n02 n03 n21" \
    "every node answers, n21 with its own password, the others with their group's"
expect_eq "$(json '[.bmcs[] | .power] | join(" ")')" \
    "$(power 2 | on_off) $(power 3 | on_off) $(power 21 | on_off)" \
    "each reads the power state its BMC has"
bootdev21=$(bootdev 21)
run bmc-power --config "$CFG" --nodes n21 pxe
record
expect_eq "$RC/$bootdev21/$(bootdev 21)" "0/default/pxe" "n21's own login changes its BMC's state"
# A wrong password in one node's own file fails that node alone.
jq ".nodes.n03.bmc_password_file = \"$T/n03.pw\"" "$CFG" >"$T/pxe-n03.json"
run bmc-power --config "$T/pxe-n03.json" --json status
record
expect_eq "$RC/$(json '[.bmcs[] | select(.ok) | .node] | join(" ")')" "1/n02 n21" \
    "a wrong password in n03's file fails n03 alone"
expect_match "$(json '.bmcs[] | select(.node == "n03") | .error')" "password" \
    "n03's error says password"
expect_match "$(json .msg)" "^status: 1 of 3 BMCs failed: n03 $NET.3:$PORT \(" "the message names n03"
# The command line wins over every node's login: then n21's BMC refuses it.
run bmc-power --config "$CFG" --password-file "$PW" --json status
record
expect_eq "$RC/$(json '[.bmcs[] | select(.ok | not) | .node] | join(" ")')" "1/n21" \
    "--password-file overrides the nodes' and groups' password files"
# What power control reads is checked: file and key named, exit 2.
jq '.nodes.n02.group = "rack-b"' "$CFG" >"$T/pxe-bad.json"
expect_rc 2 "an unknown group is a config error" bmc-power --config "$T/pxe-bad.json" status
expect_eq "$ERR" "bmc-power: error: $T/pxe-bad.json: key 'nodes.n02.group': \"rack-b\" is no group of groups (known: rack-a)" \
    "the error names the file and the key"
chmod 644 "$T/n21.pw"
expect_rc 2 "a node's password file others can read is refused" bmc-power --config "$CFG" status
expect_match "$ERR" "$CFG: key 'nodes.n21.bmc_password_file': BMC password file $T/n21.pw: mode 0644" \
    "the refusal names the key, the file and its mode"

# --- the dead BMC comes back ------------------------------------------------------------------
"$SIM" cont 1
expect_rc 0 "once it runs again, the formerly dead BMC answers" "${BP[@]}" --hosts "$DEAD" status

# --- the password never shows -----------------------------------------------------------------
if grep -q secret <<<"$ALL_OUTPUT"; then fail "the password appears in no output"; else
    pass "the password appears in no output"; fi
done_testing
