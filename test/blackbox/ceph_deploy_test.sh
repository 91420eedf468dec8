#!/usr/bin/env bash
# mgmtvm-deploy on the test bed's Ceph cluster (CTest fixture "ceph"): the plan (-n) changes
# nothing; a deploy creates the image, imports a qcow2 file whose bytes read back identical and
# writes the crontab; a rerun changes nothing; an image in use is never imported over; bad
# input is one clear error.
source "$(dirname "$0")/lib.sh"
plan 22
[ -n "${STORKIT_CEPH_CONF:-}" ] || { fail "STORKIT_CEPH_CONF is set (run through ctest)"; done_testing; }
C=$STORKIT_CEPH_CONF
IMAGE=deploy-$$
at_exit rados -c "$C" -p rbd rm "storkit.$IMAGE"
at_exit rbd -c "$C" rm --no-progress "$IMAGE"
head -c 3M /dev/urandom >"$T/disk.raw"
qemu-img convert -f raw -O qcow2 "$T/disk.raw" "$T/disk.qcow2"
write_config() { # FILE IMAGE [LEASE_TICK_S]
    cat >"$1" <<JSON
{"node": "node1", "vm": {"name": "mgmt", "domain_xml": "$T/mgmt.xml"},
 "nodes": {"node1": {"libvirt": "test:///default"}},
 "storage": {"backend": "ceph", "conf": "$C", "image": "$2"},
 "lease": {"tick_s": ${3:-60}}, "state_dir": "$T/state"}
JSON
    chmod 600 "$1"
}
write_config "$T/mgmtvm.json" "$IMAGE"
deploy() { run mgmtvm-deploy --config "$T/mgmtvm.json" --cron-file "$T/cron" "$@"; }

echo "# -n: the plan, and nothing done"
deploy --image-file "$T/disk.qcow2" --size 8M -n --detailed-exitcode
expect_eq "$RC" 3 "exit 3: changes planned"
expect_eq "$OUT" "image: would create rbd/$IMAGE (8.0 MiB)
import: would import $T/disk.qcow2 (qcow2, 3.0 MiB) into rbd/$IMAGE and compare
tick: would write $T/cron" "one line per step"
expect_eq "$ERR" "" "nothing on stderr"
rbd -c "$C" info "$IMAGE" >/dev/null 2>&1 && fail "no image made" || pass "no image made"
[ -e "$T/cron" ] && fail "no crontab written" || pass "no crontab written"

echo "# deploy"
deploy --image-file "$T/disk.qcow2" --size 8M --json
expect_eq "$RC,$(json .changed)" "0,true" "exit 0, changed"
expect_eq "$(json '[.steps[] | .step + "=" + (.changed | tostring)] | join(" ")')" "image=true import=true tick=true" "every step changed"
expect_match "$(json '.steps[1].detail')" "it reads back identical" "the import was compared"
expect_eq "$(rbd -c "$C" info "$IMAGE" --format json | jq .size)" $((8 << 20)) "an 8 MiB image"
rbd -c "$C" export --no-progress "$IMAGE" "$T/back.raw" 2>/dev/null
expect_eq "$(head -c 3M "$T/back.raw" | cmp - "$T/disk.raw" && echo same)" same "its first 3 MiB are the file's bytes"
expect_eq "$(tail -c +$((3 * 1048576 + 1)) "$T/back.raw" | tr -d '\0' | wc -c)" 0 "the rest reads zeros"
expect_match "$(cat "$T/cron")" $'\n'"\\* \\* \\* \\* \\* root $STORKIT_BIN/mgmtvm-reconcile --config $T/mgmtvm.json --syslog" "the crontab runs the tick every minute"

echo "# a rerun changes nothing"
touch -d '2020-01-01' "$T/cron"
deploy --image-file "$T/disk.qcow2" --size 8M --detailed-exitcode
expect_eq "$RC" 0 "exit 0: nothing changed"
expect_match "$OUT" "import: rbd/$IMAGE was imported from $T/disk.qcow2 \\(qcow2\\) before: not again" "the import is not repeated"
expect_eq "$(stat -c %Y "$T/cron")" "$(date -d 2020-01-01 +%s)" "the crontab is left alone"
deploy --size 16M
expect_match "$OUT" "image: grow rbd/$IMAGE from 8.0 MiB to 16.0 MiB" "a larger --size grows the image"

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

echo "# bad input: one clear error"
deploy --size 12Q
expect_eq "$RC,$ERR" "2,mgmtvm-deploy: error: --size 12Q: expected a positive number of bytes, or with K, M, G or T" "a bad size"
deploy --image-file "$T/nonesuch.qcow2"
expect_eq "$RC" 1 "a missing file: exit 1"
expect_match "$ERR" "$T/nonesuch.qcow2: qemu-img cannot read it" "names the file"
write_config "$T/t30.json" "$IMAGE" 30
run mgmtvm-deploy --config "$T/t30.json" --cron-file "$T/cron3" --size 8M
expect_match "$RC,$ERR" "^1,.*lease.tick_s is 30 s, but cron runs the tick every 60 s" "a lease tick that cron cannot keep"
done_testing
