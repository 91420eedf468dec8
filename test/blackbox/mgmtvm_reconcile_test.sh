#!/usr/bin/env bash
# mgmtvm-reconcile against three real libvirtd daemons (test driver) and a storage stand-in:
# every row of the published flow, an unknown peer, overlapping ticks, deadlines and bad configs.
# Each check looks at the real domain state afterwards, through virsh.
source "$(dirname "$0")/lib.sh"
plan 122

source "$(dirname "$0")/mgmtvm_bed.sh"
STOR=$STORKIT_SRC/test/fixtures/stor-check
S=$T/stor
mkdir -p "$S" "$T/state"
echo node1 >"$S/master"

# write_config FILE [deadlines-json] [storage-timeout]
write_config() {
    cat >"$1" <<JSON
{
  "node": "node1",
  "vm": {"name": "mgmt", "domain_xml": "${XML_PATH:-$XML}"},
  "nodes": {"node1": {"libvirt": "$(uri 1)"},
            "node2": {"libvirt": "$(uri 2)"},
            "node3": {"libvirt": "$(uri 3)"}},
  "storage": {"backend": "command",
              "service_health": ["$STOR", "$S", "service"],
              "volume_health": ["$STOR", "$S", "volume"],
              "is_master": ["$STOR", "$S", "master"],
              "timeout_s": ${3:-2}},
  "deadlines": ${2:-{\"tick_s\": 20, \"peer_s\": 2, \"stop_s\": 5\}},
  "state_dir": "$T/state"
}
JSON
}
CONF=$T/mgmtvm.json
write_config "$CONF"

healthy() { rm -f "$S"/*.service "$S/volume"; echo node1 >"$S/master"; }
tick() { # tick NODE [args...]: one tick with --json; sets RC/OUT/ERR
    local node=$1
    shift
    run timeout 60 mgmtvm-reconcile --config "$CONF" --node "$node" --json "$@"
}

echo "# step 5: the master starts the VM when it runs nowhere"
tick node1
expect_eq "$RC" 0 "master tick exits 0"
expect_eq "$(json .action),$(json .rule),$(json .changed)" "start,master-start,true" "master decides start"
expect_eq "$(where)" "running|absent|absent" "the VM runs on the master only"
expect_eq "$(json .observations.nodes.node2.running)" "no" "peer node2 answered: not running"

tick node1
expect_eq "$(json .action),$(json .rule),$(json .changed)" "none,master-running-here,false" "second master tick changes nothing"
expect_eq "$(where)" "running|absent|absent" "still one copy"

all_off
tick node1 --detailed-exitcode
expect_eq "$RC" 3 "--detailed-exitcode: 3 when the tick changed something"
tick node1 --detailed-exitcode
expect_eq "$RC" 0 "--detailed-exitcode: 0 when nothing changed"
all_off
run mgmtvm-reconcile --config "$CONF" --node node1 --detailed-exitcode
expect_eq "$RC" 3 "--detailed-exitcode without --json: 3 when the tick changed something"
expect_eq "$ERR" "" "and a change is no error: nothing on stderr (cron mails it)"

echo "# step 5: the master does nothing while the VM runs elsewhere"
all_off; vm_on node2
tick node1
expect_eq "$(json .action),$(json .rule)" "none,master-running-elsewhere" "master sees the VM on node2"
expect_eq "$(json .reason)" "the VM runs on node2" "reason names the node"
expect_eq "$(where)" "absent|running|absent" "master did not start a second copy"

echo "# step 6: a slave stops the VM that runs on it, and leaves it alone otherwise"
tick node2
expect_eq "$RC" 0 "slave tick exits 0"
expect_eq "$(json .action),$(json .rule),$(json .changed)" "stop,slave-stop,true" "slave stops the VM"
expect_eq "$(where)" "absent|absent|absent" "the VM is gone from node2"
tick node3
expect_eq "$(json .action),$(json .rule)" "none,slave-idle" "idle slave does nothing"
tick node1
expect_eq "$(where)" "running|absent|absent" "the next master tick brings it back on the master"

echo "# step 2: storage service unhealthy"
echo fail >"$S/node1.service"
tick node1
expect_eq "$(json .action),$(json .rule)" "stop,service-down-stop" "unhealthy master stops its VM"
expect_eq "$(json .observations.service.value),$(json .observations.volume)" "no,null" "flow stops asking after the service"
expect_eq "$(where)" "absent|absent|absent" "VM stopped on node1"
tick node1
expect_eq "$(json .action),$(json .rule)" "none,service-down" "unhealthy node without the VM does nothing"
expect_eq "$(where)" "absent|absent|absent" "nothing started"
echo weird >"$S/node1.service"
vm_on node1
tick node1
expect_eq "$(json .observations.service.value),$(json .action)" "unknown,stop" "an unknown service answer counts as unhealthy"
expect_match "$(json .observations.service.detail)" "exit 3" "the answer's detail is reported"
expect_eq "$(where)" "absent|absent|absent" "VM stopped on unknown service health"

echo "# step 3: volume unhealthy: nothing happens"
healthy; echo fail >"$S/volume"
tick node1
expect_eq "$(json .action),$(json .rule)" "none,volume-down" "master does nothing with a bad volume"
expect_eq "$(where)" "absent|absent|absent" "nothing started"
vm_on node2
tick node2
expect_eq "$(json .action),$(json .rule)" "none,volume-down" "slave leaves the VM alone with a bad volume"
expect_eq "$(where)" "absent|running|absent" "VM untouched on node2"
vm_off node2

echo "# the storage command hangs: unknown after storage.timeout_s"
healthy; echo hang >"$S/node1.service"
write_config "$CONF" "" 1
tick node1
expect_eq "$(json .observations.service.value),$(json .rule)" "unknown,service-down" "a hung health check is unknown"
expect_match "$(json .observations.service.detail)" "timed out after 1 s" "timeout is reported"
healthy; write_config "$CONF"

echo "# an unknown peer never counts as 'not running'"
freeze node3
tick node1
expect_eq "$RC" 0 "tick with a stopped peer daemon returns"
expect_eq "$(json .action),$(json .rule)" "none,master-peer-unknown" "master does not start while node3 is unknown"
expect_eq "$(json .observations.nodes.node3.running)" "unknown" "node3 is reported unknown"
expect_match "$(json .observations.nodes.node3.error)" "no answer within 2000 ms" "the peer deadline is named"
expect_eq "$(state node1)|$(state node2)" "absent|absent" "VM not started"
sed 's|"state_dir"|"allow_start_with_unknown_peers": true, "state_dir"|' "$CONF" >"$T/allow.json"
run mgmtvm-reconcile --config "$T/allow.json" --node node1 --json
expect_eq "$(json .action),$(json .rule)" "start,master-start-unknown" "allow_start_with_unknown_peers: the published behaviour starts it"
expect_eq "$(state node1)" "running" "started past the silent peer"
vm_off node1
thaw node3
tick node1
expect_eq "$(json .action)" "start" "once node3 answers again, the master starts the VM"
all_off

echo "# this node's own libvirt is silent"
freeze node1
tick node1
expect_eq "$RC" 1 "a silent local libvirt fails the tick"
expect_eq "$(json .rule),$(json .failed)" "master-blind,true" "the master cannot tell"
thaw node1

echo "# a dead peer (daemon gone) is unknown too"
"$NODES" restart 3 >/dev/null
healthy
kill "$("$NODES" pid 3)"; sleep 0.5
tick node1
expect_eq "$(json .observations.nodes.node3.running),$(json .action)" "unknown,none" "a missing daemon is unknown"
expect_match "$(json .observations.nodes.node3.error)" "cannot connect" "the connect failure is named"
"$NODES" restart 3 >/dev/null

echo "# ticks never overlap"
echo hang >"$S/master"
write_config "$CONF" '{"tick_s": 30, "peer_s": 2, "stop_s": 5}' 5
mgmtvm-reconcile --config "$CONF" --node node1 >/dev/null 2>&1 &
first=$!
sleep 1
run mgmtvm-reconcile --config "$CONF" --node node1
expect_eq "$RC" 75 "a second tick while one runs exits 75"
expect_match "$ERR" "another run holds the lock" "it says why"
wait "$first"
healthy; write_config "$CONF"

run mgmtvm-reconcile --config "$CONF" --node node2 -v
expect_match "$ERR" "node2: no lease: two nodes that both take themselves for the master in one minute" "-v warns that without a lease two masters can both start"

echo "# the whole tick has a deadline, for what ignores its own"
# The config check keeps every bounded call within the tick, so only a call that does not keep
# its deadline can overrun: the sim's "stall" plays a storage client that blocks for good.
SIMD=$T/sim-deadline
mkdir -p "$SIMD/nodes/node1" "$T/state-deadline"
echo node1 >"$SIMD/master"
echo "stall 30" >"$SIMD/nodes/node1/service"
cat >"$T/deadline.json" <<JSON
{"node": "node1", "vm": {"name": "mgmt", "domain_xml": "$XML"},
 "nodes": {"node1": {"libvirt": "$(uri 1)"}, "node2": {"libvirt": "$(uri 2)"}},
 "storage": {"backend": "sim", "dir": "$SIMD", "timeout_s": 0.2},
 "deadlines": {"tick_s": 5, "peer_s": 0.5, "stop_s": 0.5}, "state_dir": "$T/state-deadline"}
JSON
run timeout 60 mgmtvm-reconcile --config "$T/deadline.json" --json
expect_eq "$RC" 1 "a tick past deadlines.tick_s fails"
expect_match "$(json .msg)" "tick exceeded its deadline of 5 s" "and says so"
expect_eq "$(jq -r '.last.rule + "," + (.last.failed | tostring)' "$T/state-deadline/mgmtvm.node1.json")" "tick-deadline,true" "the overrun is this node's recorded last decision"
healthy; write_config "$CONF"

echo "# dry run says what it would do and does nothing"
tick node1 -n
expect_eq "$(json .action),$(json .changed),$(json .dry_run)" "start,false,true" "dry run decides start"
expect_match "$(json .msg)" "would start" "message says would"
expect_eq "$(where)" "absent|absent|absent" "dry run started nothing"

echo "# persistent definitions: started from it, and autostart is always switched off"
virsh -q -c "$(uri 1)" define "$XML" >/dev/null
virsh -q -c "$(uri 1)" autostart mgmt >/dev/null
tick node1
expect_eq "$(json .action),$(json .changed)" "start,true" "master starts the defined domain"
expect_eq "$(virsh -c "$(uri 1)" dominfo mgmt | awk '/^Persistent/{print $2}')" "yes" "it runs from the persistent definition"
expect_eq "$(virsh -c "$(uri 1)" dominfo mgmt | awk '/^Autostart/{print $2}')" "disable" "autostart was switched off"
virsh -q -c "$(uri 2)" define "$XML" >/dev/null
virsh -q -c "$(uri 2)" autostart mgmt >/dev/null
tick node2
expect_eq "$(json .action),$(json .changed)" "none,true" "a slave switches autostart off too"
expect_eq "$(virsh -c "$(uri 2)" dominfo mgmt | awk '/^Autostart/{print $2}')" "disable" "autostart off on node2"
echo node2 >"$S/master"
tick node1
expect_eq "$(json .action)" "stop" "when mastership moves, the old master stops the VM"
expect_eq "$(state node1)" "shut off" "the defined domain is shut off, not undefined"
tick node2
expect_eq "$(json .action)" "start" "and the new master starts it"
expect_eq "$(where)" "shut off|running|absent" "one copy, on node2"
virsh -q -c "$(uri 2)" destroy mgmt >/dev/null
virsh -q -c "$(uri 1)" undefine mgmt >/dev/null
virsh -q -c "$(uri 2)" undefine mgmt >/dev/null
healthy

echo "# a domain definition whose <name> differs is refused"
sed 's|<name>mgmt</name>|<name>other</name>|' "$XML" >"$T/other.xml"
XML_PATH=$T/other.xml write_config "$CONF"
tick node1
expect_eq "$RC" 1 "start with a mismatched definition fails"
expect_match "$(json .msg)" "domain <name> is \"other\", expected \"mgmt\"" "the mismatch is named"
expect_eq "$(where)" "absent|absent|absent" "nothing started"

echo "# a domain definition anyone could have written is refused"
cp "$XML" "$T/open.xml"
chmod 666 "$T/open.xml"
XML_PATH=$T/open.xml write_config "$CONF"
tick node1
expect_eq "$RC" 1 "start from a world-writable definition fails"
expect_match "$(json .msg)" "domain definition vm.domain_xml $T/open.xml: it is writable by group or others \\(mode 0666\\)" \
    "the definition and its mode are named"
expect_eq "$(where)" "absent|absent|absent" "nothing started from it"
mkfifo "$T/fifo.xml"
XML_PATH=$T/fifo.xml write_config "$CONF"
tick node1
expect_match "$RC $(json .msg)" "^1 .*$T/fifo.xml: not a regular file" "a FIFO as the definition fails at once"
write_config "$CONF"

echo "# bad configs: exit 2, one clear message, nothing touched"
vm_on node2
rm -rf "$T/state"
bad() { # NAME EXPECTED-MESSAGE-REGEX : $T/bad.json must already be written
    run mgmtvm-reconcile --config "$T/bad.json" --node node2
    expect_eq "$RC" 2 "$1: exit 2"
    expect_match "$ERR" "$2" "$1: message"
    expect_eq "$(echo "$ERR" | wc -l)" 1 "$1: one line"
    expect_eq "$(state node2)" "running" "$1: the VM is untouched"
    [ ! -e "$T/state" ] && pass "$1: no state written" || fail "$1: no state written"
}
sed "s|$T/state|$T/state|" "$CONF" >"$T/bad.json"; echo '}' >>"$T/bad.json"
bad "trailing garbage" "bad.json:[0-9]+:[0-9]+: invalid JSON"
sed 's|"node": "node1",|"node": "node1", "nodez": 1,|' "$CONF" >"$T/bad.json"
bad "unknown key" "key 'nodez': unknown key"
sed 's|"timeout_s": 2|"timeout_s": "2"|' "$CONF" >"$T/bad.json"
bad "wrong type" "key 'storage.timeout_s': expected a number greater than 0 and at most 600, got the string \"2\""
sed 's|"timeout_s": 2|"timeout_s": 5|' "$CONF" >"$T/bad.json"
bad "deadlines that cannot fit" "key 'deadlines.tick_s': a tick that stops the VM can take 25.5 s, more than deadlines.tick_s \\(20 s\\)"
sed "s|\"$STOR\", \"\$S\", \"master\"|\"stor-check\", \"master\"|; s|\\[\"$STOR\", \"$S\", \"master\"\\]|[\"stor-check\"]|" "$CONF" >"$T/bad.json"
bad "relative command" "key 'storage.is_master': the program must be an absolute path"
sed 's|"libvirt": "test+unix:///default?socket=[^"]*node3[^"]*"|"uri": "x"|' "$CONF" >"$T/bad.json"
bad "node without libvirt" "key 'nodes.node3.uri': unknown key"
# Three bad keys in three sections: one run names each on a line of its own, then exits 2.
sed 's|"node": "node1",|"node": "node1", "nodez": 1,|; s|"timeout_s": 2|"timeout_s": "2"|; s|"tick_s": 20|"tick_s": 0|' "$CONF" >"$T/bad.json"
run mgmtvm-reconcile --config "$T/bad.json" --node node2
expect_eq "$RC" 2 "three bad keys: exit 2"
expect_eq "$(echo "$ERR" | wc -l)" 3 "three bad keys: one line each"
for key in nodez deadlines.tick_s storage.timeout_s; do
    grep -qE "^mgmtvm-reconcile: error: .*/bad.json: key '$key': " <<<"$ERR" &&
        pass "three bad keys: $key named" || fail "three bad keys: $key named" "$ERR"
done
expect_eq "$(state node2)" "running" "three bad keys: the VM is untouched"
[ ! -e "$T/state" ] && pass "three bad keys: no state written" || fail "three bad keys: no state written"
cp "$CONF" "$T/bad.json"; chmod 666 "$T/bad.json"
bad "world-writable config" "writable by group or others \\(mode 0666\\)"
rm -f "$T/bad.json"
cp "$STOR" "$T/stor-check-open"; chmod 777 "$T/stor-check-open"
sed "s|\"$STOR\", \"$S\", \"volume\"|\"$T/stor-check-open\", \"$S\", \"volume\"|" "$CONF" >"$T/bad.json"
bad "world-writable command" "command storage.volume_health .*writable by group or others \\(mode 0777\\)"
run mgmtvm-reconcile --config "$T/missing.json"
expect_eq "$RC" 2 "missing config: exit 2"
expect_match "$ERR" "missing.json: cannot read config: no such file" "missing config: message"
run mgmtvm-reconcile --config "$CONF" --node node9
expect_eq "$RC" 2 "unknown --node: exit 2"
expect_match "$ERR" "--node node9: not one of the nodes" "unknown --node: message"
run mgmtvm-reconcile --frobnicate
expect_eq "$RC" 2 "unknown option: exit 2"
expect_eq "$(state node2)" "running" "after all bad configs the VM still runs where it did"
done_testing
