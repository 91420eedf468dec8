#!/usr/bin/env bash
# mgmtvm-deploy on the test bed's Ceph cluster (CTest fixture "ceph") and two real libvirtd
# daemons with the QEMU and secret drivers (scripts/testbed/libvirt-qemu-node): the plan (-n)
# changes nothing; a deploy creates the image, imports a qcow2 file whose bytes read back
# identical, writes the domain XML, defines the secret and the domain on both nodes (same UUID,
# autostart off) and writes the crontab; QEMU then starts the VM from that definition and opens
# its RBD disk with the key from the secret; a rerun changes nothing; a drifted definition is
# shown by mgmtvm-status and put back; a different VM of the same name is left alone; --timer
# writes units for lease.tick_s; an image in use is never imported over; bad input is one
# clear error.
source "$(dirname "$0")/lib.sh"
plan 52
[ -n "${STORKIT_CEPH_CONF:-}" ] || { fail "STORKIT_CEPH_CONF is set (run through ctest)"; done_testing; }
C=$STORKIT_CEPH_CONF
IMAGE=deploy-$$
source "$(dirname "$0")/deploy_bed.sh"
deploy_bed "$IMAGE"
head -c 3M /dev/urandom >"$T/disk.raw"
qemu-img convert -f raw -O qcow2 "$T/disk.raw" "$T/disk.qcow2"
write_config() { # FILE IMAGE [LEASE_TICK_S]
    cat >"$1" <<JSON
{"node": "node1", "vm": {"name": "mgmt", "domain_xml": "$T/mgmt.xml"},
 "nodes": {"node1": {"libvirt": "$U1"}, "node2": {"libvirt": "$U2"}},
 "storage": {"backend": "ceph", "conf": "$C", "image": "$2"},
 "lease": {"tick_s": ${3:-60}}, "state_dir": "$T/state"}
JSON
    chmod 600 "$1"
}
write_config "$T/mgmtvm.json" "$IMAGE"
deploy() {
    run mgmtvm-deploy --config "$T/mgmtvm.json" --cron-file "$T/cron" --unit-dir "$T/units" \
        --virt-type qemu --memory 64M "$@"
}
v1() { virsh -q -c "$U1" "$@" 2>&1; }
v2() { virsh -q -c "$U2" "$@" 2>&1; }

echo "# -n: the plan, and nothing done"
deploy --image-file "$T/disk.qcow2" --size 8M -n --detailed-exitcode
expect_eq "$RC" 3 "exit 3: changes planned"
expect_match "$OUT" "^image: would create rbd/$IMAGE \\(8.0 MiB\\)
import: would import $T/disk.qcow2 \\(qcow2, 3.0 MiB\\) into rbd/$IMAGE and compare
domain: would write $T/mgmt.xml \\(UUID [0-9a-f-]{36}, 64 MiB, 2 vCPUs, disk rbd/$IMAGE, 3 monitors\\)
secret: node1: would define [0-9a-f-]{36} \\(client.admin's key\\)
secret: node2: would define [0-9a-f-]{36} \\(client.admin's key\\)
define: node1: would define mgmt \\(checksum [0-9a-f]{16}, autostart off\\)
define: node2: would define mgmt \\(checksum [0-9a-f]{16}, autostart off\\)
tick: would write $T/cron$" "one line per step and node"
expect_eq "$ERR" "" "nothing on stderr"
rbd -c "$C" info "$IMAGE" >/dev/null 2>&1 && fail "no image made" || pass "no image made"
expect_eq "$(ls "$T/cron" "$T/mgmt.xml" 2>/dev/null)" "" "no crontab and no domain XML written"
expect_eq "$(v1 list --all --name; v1 secret-list; v2 list --all --name; v2 secret-list)" "" "no domain and no secret defined on either node"

echo "# deploy"
deploy --image-file "$T/disk.qcow2" --size 8M --json
expect_eq "$RC,$(json .changed)" "0,true" "exit 0, changed"
expect_eq "$(json '[.steps[] | .step + (if .node then "@" + .node else "" end) + "=" + (.changed | tostring)] | join(" ")')" \
    "image=true import=true domain=true secret@node1=true secret@node2=true define@node1=true define@node2=true tick=true" "every step changed, on every node"
expect_match "$(json '.steps[1].detail')" "it reads back identical" "the import was compared"
expect_eq "$(rbd -c "$C" info "$IMAGE" --format json | jq .size)" $((8 << 20)) "an 8 MiB image"
rbd -c "$C" export --no-progress "$IMAGE" "$T/back.raw" 2>/dev/null
expect_eq "$(head -c 3M "$T/back.raw" | cmp - "$T/disk.raw" && echo same)" same "its first 3 MiB are the file's bytes"
expect_eq "$(tail -c +$((3 * 1048576 + 1)) "$T/back.raw" | tr -d '\0' | wc -c)" 0 "the rest reads zeros"
expect_match "$(cat "$T/cron")" $'\n'"\\* \\* \\* \\* \\* root $STORKIT_BIN/mgmtvm-reconcile --config $T/mgmtvm.json --syslog" "the crontab runs the tick every minute"
XML=$(cat "$T/mgmt.xml")
expect_match "$XML" "<source protocol='rbd' name='rbd/$IMAGE'>" "the domain's disk is the RBD image"
expect_match "$XML" "error_policy='stop' rerror_policy='stop'" "a lost cluster pauses the guest"
MONS=$(ceph -c "$C" mon dump --format json 2>/dev/null | jq -r '[.mons[].public_addrs.addrvec[] | select(.type == "v1") | .addr] | join(" ")')
expect_eq "$(grep -o "<host name='[^']*' port='[0-9]*'/>" "$T/mgmt.xml" | sed "s/<host name='\\(.*\\)' port='\\(.*\\)'\\/>/\\1:\\2/" | paste -sd' ')" "$MONS" "every monitor of the monmap, at its v1 address"
UUID=$(sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' "$T/mgmt.xml")
SECRET=$(sed -n "s:.*<secret type='ceph' uuid='\\(.*\\)'/>.*:\\1:p" "$T/mgmt.xml")
KEY=$(ceph -c "$C" auth get-key client.admin 2>/dev/null)
expect_eq "$(v1 secret-get-value "$SECRET"),$(v2 secret-get-value "$SECRET")" "$KEY,$KEY" "both nodes' secret holds client.admin's key"
expect_eq "$(v1 domuuid mgmt),$(v2 domuuid mgmt)" "$UUID,$UUID" "both nodes define the VM with the XML's UUID"
expect_eq "$(v1 dominfo mgmt | grep -c 'Autostart: *disable'),$(v2 dominfo mgmt | grep -c 'Autostart: *disable')" "1,1" "autostart off on both"
run mgmtvm-status --config "$T/mgmtvm.json"
SUM=$(sed -n 's/^definition: the same on every node (checksum \([0-9a-f]*\))$/\1/p' <<<"$OUT")
expect_match "$OUT" $'\n'"definition: the same on every node \\(checksum [0-9a-f]{16}\\)"$'\n' "mgmtvm-status: one definition everywhere"

echo "# QEMU starts the VM from that definition and opens its disk with the secret's key"
v1 start mgmt >/dev/null
expect_eq "$(v1 domstate mgmt)" running "node1 runs it"
watchers=""
for _ in $(seq 50); do
    watchers=$(rbd -c "$C" status "$IMAGE" --format json 2>/dev/null | jq '.watchers | length')
    [ "$watchers" = 1 ] && break
    sleep 0.1
done
expect_eq "$watchers" 1 "its QEMU has the image open"
v1 destroy mgmt >/dev/null

echo "# a rerun changes nothing"
touch -d '2020-01-01' "$T/cron"
deploy --image-file "$T/disk.qcow2" --size 8M --detailed-exitcode
expect_eq "$RC" 0 "exit 0: nothing changed"
expect_eq "$OUT" "image: rbd/$IMAGE is there (8.0 MiB)
import: rbd/$IMAGE was imported from $T/disk.qcow2 (qcow2) before: not again
domain: $T/mgmt.xml is there (checksum $SUM)
secret: node1: $SECRET holds client.admin's key
secret: node2: $SECRET holds client.admin's key
define: node1: mgmt is defined (checksum $SUM)
define: node2: mgmt is defined (checksum $SUM)
tick: $T/cron is in place" "every step says what is there"
expect_eq "$(stat -c %Y "$T/cron")" "$(date -d 2020-01-01 +%s)" "the crontab is left alone"
deploy --size 16M
expect_match "$OUT" "image: grow rbd/$IMAGE from 8.0 MiB to 16.0 MiB" "a larger --size grows the image"

echo "# a definition that drifted is shown, and put back"
sed 's/>64</>96</' "$T/mgmt.xml" >"$T/other.xml"
v2 define "$T/other.xml" >/dev/null
v1 autostart mgmt >/dev/null
run mgmtvm-status --config "$T/mgmtvm.json" --json
expect_eq "$(json .definition_same),$(json .nodes.node1.definition),$(json .nodes.node2.definition)" "false,$SUM,null" "mgmtvm-status --json: node2's definition is not the deployed one"
run mgmtvm-status --config "$T/mgmtvm.json"
expect_match "$OUT" "definition: DIFFERS: node1 $SUM, node2 none \\(rerun mgmtvm-deploy\\)" "mgmtvm-status names the node that differs"
deploy
expect_match "$OUT" "define: node1: mgmt is defined \\(checksum $SUM\\); autostart off again
define: node2: redefine mgmt \\(checksum $SUM, autostart off\\)" "the rerun puts both back"
expect_eq "$(v2 dumpxml --inactive mgmt | grep -c '<memory unit=.KiB.>65536<'),$(v1 dominfo mgmt | grep -c 'Autostart: *disable')" "1,1" "node2 has the deployed memory again, node1 autostart off"
sed -i 's/>64</>128</' "$T/mgmt.xml"
deploy --detailed-exitcode
expect_eq "$RC" 3 "an edited domain XML is a change"
NEWSUM=$(sed -n 's/^domain: .* is there (checksum \([0-9a-f]*\))$/\1/p' <<<"$OUT")
expect_match "$OUT" "define: node1: redefine mgmt \\(checksum $NEWSUM, autostart off\\)
define: node2: redefine mgmt \\(checksum $NEWSUM, autostart off\\)" "it is defined again on every node"

echo "# another VM of the same name is never replaced"
v2 undefine mgmt >/dev/null
sed "s:<uuid>.*</uuid>:<uuid>$(cat /proc/sys/kernel/random/uuid)</uuid>:" "$T/mgmt.xml" >"$T/stranger.xml"
v2 define "$T/stranger.xml" >/dev/null
deploy
expect_eq "$RC" 1 "exit 1"
expect_match "$OUT" "define: node1: mgmt is defined" "node1 is still checked"
expect_match "$OUT" "define: node2: FAILED: libvirt .*: domain mgmt has UUID [0-9a-f-]+, the definition $UUID: a different VM of the same name; undefine it first" "node2's failure names both UUIDs"
expect_match "$ERR" "deploy: failed: define on node2; rerun once the node answers" "the error names the step and the node"
expect_eq "$(v2 domuuid mgmt)" "$(sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' "$T/stranger.xml")" "the other VM is left as it was"
v2 undefine mgmt >/dev/null
deploy
expect_eq "$RC,$(v2 domuuid mgmt)" "0,$UUID" "once it is gone, the rerun defines ours"

echo "# --timer: units with the lease's period instead of cron"
write_config "$T/t30.json" "$IMAGE" 30
mkdir "$T/units"
run mgmtvm-deploy --config "$T/t30.json" --cron-file "$T/cron" --unit-dir "$T/units" --timer
expect_eq "$RC" 0 "exit 0"
expect_match "$OUT" "tick: write $T/units/storkit-mgmtvm-reconcile.service
tick: write $T/units/storkit-mgmtvm-reconcile.timer
tick: remove $T/cron \\(the timer runs the tick\\)" "both units written, the crontab removed"
expect_match "$(cat "$T/units/storkit-mgmtvm-reconcile.timer")" "OnUnitActiveSec=30s" "the timer's period is lease.tick_s"
expect_match "$(cat "$T/units/storkit-mgmtvm-reconcile.service")" "ExecStart=$STORKIT_BIN/mgmtvm-reconcile --config $T/t30.json --syslog" "the service runs one tick"
expect_eq "$(cd "$T/units" && SYSTEMD_LOG_LEVEL=err systemd-analyze verify --man=no ./storkit-mgmtvm-reconcile.timer ./storkit-mgmtvm-reconcile.service 2>&1 | grep -v 'not executable\|Failed to .* bus\|Permission denied')" "" "systemd-analyze verify finds nothing"
echo "# other services" >"$T/units/storkit-mgmtvm-reconcile.timer"
run mgmtvm-deploy --config "$T/t30.json" --cron-file "$T/cron" --unit-dir "$T/units" --timer
expect_match "$RC,$ERR" "^1,.*storkit-mgmtvm-reconcile.timer: not written by mgmtvm-deploy: left alone" "a unit someone else wrote is not replaced"

echo "# an image in use is never imported over"
IMAGE2=inuse-$$
at_exit rbd -c "$C" rm --no-progress "$IMAGE2"
rbd -c "$C" create --size 8M "$IMAGE2"
write_config "$T/inuse.json" "$IMAGE2"
"$STORKIT_BIN/rbd_writer" "$C" rbd "$IMAGE2" "$T/writes" &
writer=$!
at_exit kill "$writer"
for _ in $(seq 100); do grep -q '^ok' "$T/writes" 2>/dev/null && break; sleep 0.05; done
run mgmtvm-deploy --config "$T/inuse.json" --cron-file "$T/cron2" --image-file "$T/disk.qcow2"
expect_eq "$RC" 1 "exit 1"
expect_match "$ERR" "import into rbd/$IMAGE2: $IMAGE2 open by client\\.[0-9]+ at .*: the VM may run" "names the client that has it open"
kill "$writer"

echo "# bad input: one clear error, nothing changed"
deploy --size 12Q
expect_eq "$RC,$ERR" "2,mgmtvm-deploy: error: --size 12Q: expected a positive number of bytes, or with K, M, G or T" "a bad size"
deploy --image-file "$T/nonesuch.qcow2"
expect_eq "$RC" 1 "a missing file: exit 1"
expect_match "$ERR" "$T/nonesuch.qcow2: qemu-img cannot read it" "names the file"
run mgmtvm-deploy --config "$T/t30.json" --cron-file "$T/cron3" --size 8M
expect_match "$RC,$ERR" "^1,.*lease.tick_s is 30 s, but cron runs the tick every 60 s" "a lease tick that cron cannot keep"
expect_eq "$(ls "$T/cron3" 2>/dev/null)" "" "and nothing written"
sed 's:<name>mgmt</name>:<name>other</name>:' "$T/mgmt.xml" >"$T/named.xml" && cp "$T/named.xml" "$T/mgmt.xml"
deploy
expect_eq "$RC,$ERR" "2,mgmtvm-deploy: error: $T/mgmt.xml: domain <name> is \"other\", vm.name is \"mgmt\"" "a domain XML for another VM"
done_testing
