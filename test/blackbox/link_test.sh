#!/usr/bin/env bash
# Each tool loads the shared libraries of the library parts it uses and no others (lib/*/
# CMakeLists.txt): pxe-report, started per DHCP lease and per CGI request, and mgmtvm-reconcile,
# started every minute on every node, must not pay for IPMI, ISO, libvirt or Ceph code they never run.
# And an install ships no private shared library.
source "$(dirname "$0")/lib.sh"
plan 59

# The libraries each part adds, as their SONAME prefixes.
libvirt="libvirt"
bmc="libfreeipmi libgcrypt"
pxe="libarchive libnettle libcurl"
ceph="librados librbd"

# needed TOOL: the direct NEEDED entries of a tool's ELF header, one per line.
needed() { readelf -d "$STORKIT_BIN/$1" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'; }

# expect_not_needed TOOL PREFIX...: TOOL needs no library named PREFIX*.
expect_not_needed() {
    local tool=$1 lib bad
    shift
    for lib in "$@"; do
        bad=$(needed "$tool" | grep "^$lib" || true)
        [ -z "$bad" ] && pass "$tool does not load $lib" || fail "$tool does not load $lib" "NEEDED: $bad"
    done
}
# expect_needed TOOL PREFIX: TOOL does need it (the check above can see a library at all).
expect_needed() {
    needed "$1" | grep -q "^$2" && pass "$1 loads $2" || fail "$1 loads $2" "NEEDED: $(needed "$1" | tr '\n' ' ')"
}

expect_not_needed pxe-report $libvirt $bmc $pxe $ceph
all=$(ldd "$STORKIT_BIN/pxe-report" | awk '{print $1}' | tr '\n' ' ')
for lib in $libvirt $bmc $pxe $ceph; do
    [[ " $all" != *" $lib"* ]] && pass "pxe-report loads no $lib, even indirectly" ||
        fail "pxe-report loads no $lib, even indirectly" "ldd: $all"
done
for tool in mgmtvm-reconcile mgmtvm-status mgmtvm-maint; do expect_not_needed $tool $bmc $pxe; done
expect_needed mgmtvm-reconcile libvirt
expect_needed mgmtvm-reconcile librados
expect_not_needed bmc-power $libvirt $pxe $ceph
expect_needed bmc-power libfreeipmi
expect_not_needed pxe-provision $libvirt $ceph
expect_not_needed pxe-monitor $libvirt $ceph
expect_needed pxe-provision libarchive

for tool in "$STORKIT_SRC"/tools/*.cc; do
    name=$(basename "$tool" .cc)
    bad=$(needed "$name" | grep '^libstorkit' || true)
    [ -z "$bad" ] && pass "$name loads no libstorkit shared library" || fail "$name loads no libstorkit shared library" "$bad"
done

# An install holds the tools and man pages, and no shared library of storkit's own.
run cmake --install "$STORKIT_BIN/.." --prefix "$T/inst"
expect_eq "$RC" 0 "cmake --install into a scratch prefix"
libs=$(find "$T/inst" -name '*.so*' -o -name '*.a' | tr '\n' ' ')
expect_eq "$libs" "" "the install holds no library"
[ -x "$T/inst/sbin/mgmtvm-reconcile" ] && pass "the install holds the tools (in sbin)" || fail "the install holds the tools"
done_testing
