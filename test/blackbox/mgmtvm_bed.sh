# Shared by the management-VM black-box tests: three real libvirtd daemons (test driver) under
# $T/lv, removed at exit, and helpers to look at the VM's real state on each node.
NODES=$STORKIT_SRC/scripts/testbed/libvirt-nodes
XML=$STORKIT_SRC/test/fixtures/mgmt.xml
export BASE=$T/lv
"$NODES" up 3 >/dev/null || { fail "libvirt test bed starts"; exit 1; }
at_exit "$NODES" down

uri() { "$NODES" uri "${1#node}"; }
# state NODE: the VM's state there: running / shut off / absent
state() {
    local s
    s=$(virsh -c "$(uri "$1")" domstate mgmt 2>/dev/null) || { echo absent; return; }
    echo "$s" | head -n1
}
vm_on() { virsh -q -c "$(uri "$1")" create "$XML" >/dev/null; }
vm_off() { virsh -q -c "$(uri "$1")" destroy mgmt >/dev/null 2>&1 || true; }
all_off() { vm_off node1; vm_off node2; vm_off node3; }
where() { echo "$(state node1)|$(state node2)|$(state node3)"; }
# freeze NODE / thaw NODE: SIGSTOP / SIGCONT that node's libvirtd
freeze() { kill -STOP "$("$NODES" pid "${1#node}")"; at_exit kill -CONT "$("$NODES" pid "${1#node}")"; }
thaw() { kill -CONT "$("$NODES" pid "${1#node}")"; }
