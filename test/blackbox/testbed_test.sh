#!/usr/bin/env bash
# The libvirt test bed itself (scripts/testbed/libvirt-nodes): its daemons must not share
# anything with each other or with the machine's own libvirtd. Every libvirtd of a user takes a
# blocking lock on one token file while it handles a connection (as root
# /run/libvirt/common/system.token); a daemon that holds it while a test SIGSTOPs it, or any
# other process holding it, would hang every daemon that shares the file.
source "$(dirname "$0")/lib.sh"
plan 7

NODES=$STORKIT_SRC/scripts/testbed/libvirt-nodes
export BASE=$T/lv
at_exit "'$NODES' down"

if [ "$(id -u)" = 0 ]; then
    TOKEN=/run/libvirt/common/system.token
else
    TOKEN=${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/libvirt/common/system.token
fi
if [ ! -e "$TOKEN" ]; then
    mkdir -p "$(dirname "$TOKEN")"
    install -m 600 /dev/null "$TOKEN"
    # Removed afterwards only while still empty: a real libvirtd may have filled it meanwhile.
    at_exit "[ -s '$TOKEN' ] || rm -f '$TOKEN'"
fi

# Hold the machine's token lock (an fcntl write lock on its first byte, as libvirtd takes it)
# for the whole test. struct flock on x86_64: type, whence, pad, start, len, pid, pad.
perl -e 'use Fcntl; open(my $f, "+<", $ARGV[0]) or die "$ARGV[0]: $!";
         fcntl($f, F_SETLKW, pack("s s x4 q q i x4", F_WRLCK, SEEK_SET, 0, 1, 0)) or die "lock: $!";
         $| = 1; print "locked\n"; sleep 300' "$TOKEN" >"$T/locker.out" &
LOCKER=$!
at_exit "kill $LOCKER"
for _ in $(seq 100); do [ -s "$T/locker.out" ] && break; sleep 0.05; done
expect_eq "$(cat "$T/locker.out")" locked "the machine's libvirt token is locked by another process"

expect_rc 0 "two test bed nodes start while the machine's token is locked" \
    timeout 60 "$NODES" up 2
URI1=$("$NODES" uri 1)
URI2=$("$NODES" uri 2)
expect_rc 0 "node1 answers while the machine's token is locked" \
    timeout 10 virsh -c "$URI1" domstate test

# Freeze node1 (as a test does), then node2 must still answer and a restarted node2 come up.
kill -STOP "$("$NODES" pid 1)"
at_exit "kill -CONT $("$NODES" pid 1)"
expect_rc 0 "node2 answers while node1 is frozen" timeout 10 virsh -c "$URI2" domstate test
expect_rc 0 "node2 restarts while node1 is frozen" timeout 60 "$NODES" restart 2
expect_rc 0 "the restarted node2 answers" timeout 10 virsh -c "$URI2" domstate test
kill -CONT "$("$NODES" pid 1)"

# The daemons never touched the machine's runtime directory: each has its own.
expect_eq "$(find "$BASE"/node*/private -name system.token | wc -l)" 2 \
    "each node has its own libvirt token"
done_testing
