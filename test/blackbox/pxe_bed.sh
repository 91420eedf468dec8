# Shared by the install tests: simulated BMCs on a loopback /24 of their own, and a provisioning
# network of two namespaces joined by a veth, all removed at exit.

# bmcs_up N: N ipmi_sim BMCs under $T/bmc (scripts/testbed/bmc-sim, with the caller's SILENT and
# WRONG_PASSWORD), their HOST:PORT lines in $T/hosts; sets and exports BASE, PORT and NET.
# Ends the test when they do not start.
bmcs_up() {
    SIM=$STORKIT_SRC/scripts/testbed/bmc-sim
    export BASE=$T/bmc PORT=623
    at_exit "$SIM" down
    # A /24 of loopback addresses of our own, so that parallel runs do not meet.
    for _ in 1 2 3 4 5; do
        export NET=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))
        "$SIM" up "$1" >"$T/hosts" 2>"$T/sim.err" && return 0
        "$SIM" down
    done
    fail "$1 simulated BMCs start" "$(cat "$T/sim.err")"
    done_testing
}

# provisioning_net TAG: namespaces NS_S (the server, address SRV on interface VS) and NS_C (the
# clients' side, interface VC, up, no address), named with TAG and the test's pid; DNET is the
# /24 from 198.18.0.0/15 it uses. Ends the test when they cannot be made.
provisioning_net() {
    ID=$$
    NS_S=storkit-${1}s-$ID NS_C=storkit-${1}c-$ID VS=${1}s$ID VC=${1}c$ID
    DNET=198.18.$((RANDOM % 250 + 1))
    SRV=$DNET.1
    at_exit ip netns del "$NS_S"
    at_exit ip netns del "$NS_C"
    ip netns add "$NS_S" && ip netns add "$NS_C" || { fail "namespaces can be created"; done_testing; }
    for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done
    ip link add "$VS" netns "$NS_S" type veth peer name "$VC" netns "$NS_C"
    ip -n "$NS_S" addr add "$SRV/24" dev "$VS"
    ip -n "$NS_S" link set "$VS" up
    ip -n "$NS_C" link set "$VC" up
}

# tiny_image: what prepare needs besides the config, for tests that install nothing for real:
# $T/repo/os-1.iso (an image with a random kernel and initrd where the RHEL family has them),
# $T/ks.in (a one-line install template) and $T/bmc.pw (the BMCs' password, mode 0600).
tiny_image() {
    local tree=$T/iso
    mkdir -p "$tree/images/pxeboot" "$T/repo"
    head -c 100000 /dev/urandom >"$tree/images/pxeboot/vmlinuz"
    head -c 200000 /dev/urandom >"$tree/images/pxeboot/initrd.img"
    xorriso -as mkisofs -quiet -R -J -o "$T/repo/os-1.iso" "$tree" 2>/dev/null
    printf 'url --url={{repo_url}}\n' >"$T/ks.in"
    (umask 077 && echo secret >"$T/bmc.pw")
}
