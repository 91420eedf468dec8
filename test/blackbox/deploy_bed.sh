# Shared by the tests that deploy the management VM on the test bed's Ceph cluster ($C): the
# RBD image IMAGE and its lease object removed at exit, and two real libvirtd daemons with the
# QEMU and secret drivers (scripts/testbed/libvirt-qemu-node) under $T/q1 and $T/q2, stopped at
# exit, their URIs in $T/q1.uri, $T/q2.uri, U1 and U2. Ends the test when they do not start.
deploy_bed() { # IMAGE
    local n qnode=$STORKIT_SRC/scripts/testbed/libvirt-qemu-node
    at_exit rados -c "$C" -p rbd rm "storkit.$1"
    at_exit rbd -c "$C" rm --no-progress "$1"
    for n in 1 2; do
        at_exit BASE="$T/q$n" "$qnode" down
        BASE="$T/q$n" "$qnode" up >"$T/q$n.uri" 2>"$T/q$n.err" ||
            { fail "libvirtd with the qemu driver starts" "$(cat "$T/q$n.err")"; done_testing; }
    done
    U1=$(cat "$T/q1.uri")
    U2=$(cat "$T/q2.uri")
}
