#!/usr/bin/env bash
# The Ansible playbooks of packaging/ansible, run by Debian's ansible-playbook against this
# machine (connection local) as two storage nodes and a control machine: they install the
# package built by package_test (CTest fixture "storkit_deb", or STORKIT_DEB=FILE), write each
# node's mgmtvm.json from the inventory, deploy the management VM once on the test bed's Ceph
# cluster (fixture "ceph") with two real libvirtd daemons, copy the domain XML, install the tick
# on both nodes, then prepare the network installs and power two ipmi_sim BMCs on. A second run
# reports changed=0; --check runs pass -n and change nothing.
source "$(dirname "$0")/lib.sh"
plan 21

[ "$(id -u)" = 0 ] || skip_all "installs a package: needs root"
if dpkg-query -W -f='${Status}' storkit 2>/dev/null | grep -q "ok installed"; then
    skip_all "a storkit package is installed on this machine already"
fi
for cmd in ansible-playbook xorriso ipmi_sim jq rbd virsh; do
    command -v "$cmd" >/dev/null || { fail "needs $cmd (scripts/deps installs it)"; done_testing; }
done
[ -n "${STORKIT_CEPH_CONF:-}" ] || { fail "STORKIT_CEPH_CONF is set (run through ctest)"; done_testing; }
deb=${STORKIT_DEB:-$(ls "${STORKIT_PACKAGES:-/nonexistent}"/storkit_*.deb 2>/dev/null | head -1)}
[ -f "$deb" ] || { fail "a package to install (package_test builds it, or STORKIT_DEB=FILE)"; done_testing; }
C=$STORKIT_CEPH_CONF
IMAGE=ansible-$$
PLAYS=$STORKIT_SRC/packaging/ansible

had_user=0
getent passwd storkit-pxe >/dev/null && had_user=1
at_exit "dpkg -P storkit"
[ "$had_user" = 1 ] || at_exit "deluser --system storkit-pxe"
source "$(dirname "$0")/deploy_bed.sh"
deploy_bed "$IMAGE"
source "$(dirname "$0")/pxe_bed.sh"
unset SILENT WRONG_PASSWORD
bmcs_up 2
tiny_image

# --- the inventory: node1 and node2 (both this machine, each with its own files and libvirtd),
# and the control machine ctl -------------------------------------------------------------------
mkdir -p "$T/node1/units" "$T/node2/units" "$T/ctl"
mac() { printf '52:54:00:a7:%02x:%02x' $(($$ % 256)) "$1"; }
node_vars() { # N
    jq -n --arg t "$T/node$1" --arg uri "$(cat "$T/q$1.uri")" --arg c "$C" --arg image "$IMAGE" '{
        storkit_node: ("node" + ($t | .[-1:])),
        storkit_libvirt_uri: $uri, storkit_libvirt_local: $uri,
        storkit_mgmtvm_config: ($t + "/mgmtvm.json"),
        storkit_cron_file: ($t + "/cron"), storkit_unit_dir: ($t + "/units"),
        storkit_mgmtvm: {vm: {name: "mgmt", domain_xml: ($t + "/mgmt.xml")},
                         storage: {backend: "ceph", conf: $c, image: $image},
                         lease: {tick_s: 30}, state_dir: ($t + "/state")}}'
}
jq -n --arg T "$T" --arg deb "$deb" --arg net "$NET" --argjson n1 "$(node_vars 1)" \
    --argjson n2 "$(node_vars 2)" --arg m1 "$(mac 1)" --arg m2 "$(mac 2)" '{
  all: {vars: {ansible_connection: "local", ansible_python_interpreter: "/usr/bin/python3",
               ansible_become: false, storkit_package_file: $deb,
               storkit_package_dest: ($T + "/{{ inventory_hostname }}.deb")},
        children: {
          storage: {hosts: {node1: $n1, node2: $n2},
                    vars: {storkit_deploy_args: ["--size", "8M", "--virt-type", "qemu",
                                                 "--memory", "64M"]}},
          pxe_control: {hosts: {ctl: {
            storkit_pxe_config: ($T + "/ctl/pxe.json"), storkit_pxe_reload: false,
            storkit_pxe: {
              bmc: {subnet: ($net + ".0/24"), user: "admin", password_file: ($T + "/bmc.pw"),
                    timeout_ms: 1000, retries: 0},
              data: {subnet: "198.18.7.0/24", pool: "198.18.7.100-198.18.7.150",
                     gateway: "198.18.7.1"},
              server: {interface: "pxe0", address: "198.18.7.1"},
              iso: {repository: ($T + "/repo"), version: "os-1"},
              paths: {tftp_root: ($T + "/ctl/tftp"), http_root: ($T + "/ctl/www"),
                      dnsmasq_conf: ($T + "/ctl/dnsmasq.conf"),
                      lighttpd_conf: ($T + "/ctl/lighttpd.conf"), state_dir: ($T + "/ctl/state")},
              boot: {loader: "native"},
              install: {template: ($T + "/ks.in")},
              power: {interval_s: 0.1},
              nodes: {node1: {bmc: ($net + ".1"), mac: $m1}, node2: {bmc: ($net + ".2"), mac: $m2}}
            }}}}}}}' >"$T/inventory.yml"

export ANSIBLE_HOME=$T/ansible-home ANSIBLE_LOCAL_TEMP=$T/ansible-tmp ANSIBLE_NOCOLOR=1 \
    ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_FORCE_COLOR=0
play() { # ARGS...: both playbooks; OUT holds the output, RECAP "HOST ok changed failed" lines
    run ansible-playbook -i "$T/inventory.yml" "$PLAYS/mgmtvm.yml" "$PLAYS/provision.yml" "$@"
    RECAP=$(sed -n 's/^\([a-z0-9]*\) *: ok=\([0-9]*\) *changed=\([0-9]*\) *unreachable=0 *failed=\([0-9]*\).*/\1 changed=\3 failed=\4/p' <<<"$OUT" |
        awk '{c[$1] += substr($2, 9); f[$1] += substr($3, 8)} END {for (h in c) print h, "changed=" c[h], "failed=" f[h]}' | sort)
}
changed() { # the tasks that changed, as "HOST: TASK" lines
    awk '/^TASK \[/ {t = $0; sub(/^TASK \[/, "", t); sub(/\] \**$/, "", t)} /^changed: \[/ {h = $2; gsub(/[\[\]]/, "", h); print h ": " t}' <<<"$OUT"
}

echo "# --check before anything is installed: nothing done"
play --check
expect_eq "$RC $(grep -c 'failed=0' <<<"$RECAP")" "0 3" "the check run succeeds on all three hosts"
expect_eq "$(dpkg-query -W -f='${Status}' storkit 2>/dev/null || true)$(find "$T/node1" "$T/ctl" -type f)" "" \
    "nothing is installed or written"

echo "# the first run"
play
expect_eq "$RC" 0 "ansible-playbook succeeds" 
[ "$RC" = 0 ] || echo "$OUT" | grep -B2 -A12 'fatal:\|FAILED' | head -60 | sed 's/^/    /'
# node1 and node2 install the package on one machine at once: which of them installs it varies.
expect_eq "$(sed 's/changed=[1-9][0-9]*/changed/' <<<"$RECAP")" "ctl changed failed=0
node1 changed failed=0
node2 changed failed=0" "every host changed something, none failed"
changed | sed 's/^/# /'
expect_eq "$(dpkg-query -W -f='${Status} ${Version}' storkit)" "install ok installed $(dpkg-deb -f "$deb" Version)" \
    "the package is installed"
for n in 1 2; do
    expect_eq "$(stat -c '%a %U' "$T/node$n/mgmtvm.json") $(jq -r '.node + " " + (.nodes | keys | join(","))' "$T/node$n/mgmtvm.json")" \
        "600 root node$n node1,node2" "node$n's mgmtvm.json: root's, its own name, both nodes"
done
expect_eq "$(rbd -c "$C" info "$IMAGE" --format json | jq .size)" $((8 << 20)) "the deploy made the 8 MiB RBD image"
UUID=$(sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' "$T/node1/mgmt.xml")
expect_eq "$(virsh -q -c "$(cat "$T/q1.uri")" domuuid mgmt),$(virsh -q -c "$(cat "$T/q2.uri")" domuuid mgmt)" \
    "$UUID,$UUID" "both libvirtds define the VM from the one domain XML"
expect_eq "$(cmp "$T/node1/mgmt.xml" "$T/node2/mgmt.xml" && stat -c %a "$T/node2/mgmt.xml")" 600 \
    "node2 has a copy of the domain XML"
for n in 1 2; do
    expect_match "$(cat "$T/node$n/units/storkit-mgmtvm-reconcile.timer")" "OnUnitActiveSec=30s" \
        "node$n's timer runs the tick every lease.tick_s"
done
expect_eq "$(grep -c '^changed: \[node1\]' <<<"$(awk '/Deploy the management VM/,/^$/' <<<"$OUT")")" 1 \
    "the deploy ran once, on node1"
expect_match "$(ls "$T/ctl/tftp" "$T/ctl/dnsmasq.conf" 2>&1)" "pxelinux.cfg" "prepare wrote the boot files"
run bmc-power --config "$T/ctl/pxe.json" --nodes node1,node2 --json status
expect_eq "$(json '[.bmcs[].power] | join(",")' 2>/dev/null || echo "$OUT")" "on,on" "boot powered both nodes on"

echo "# the second run: nothing to do"
play
expect_eq "$RC" 0 "ansible-playbook succeeds again"
expect_eq "$RECAP" "ctl changed=0 failed=0
node1 changed=0 failed=0
node2 changed=0 failed=0" "changed=0 on every host"
changed | sed 's/^/# /'

echo "# --check: what would change is reported (storkit's -n), nothing is made"
jq '.all.children.pxe_control.hosts.ctl.storkit_pxe.data.domain = "stor.example"
    | .all.children.storage.hosts.node2.storkit_mgmtvm.lease.tick_s = 20' "$T/inventory.yml" >"$T/inv2"
mv "$T/inv2" "$T/inventory.yml"
rm "$T/ctl/dnsmasq.conf" "$T/node2/units/storkit-mgmtvm-reconcile.timer"
find "$T/node1" "$T/node2" "$T/ctl" -type f -exec md5sum {} + | sort >"$T/before"
play --check
expect_eq "$RC" 0 "the check run succeeds"
expect_eq "$(changed | sort | tr '\n' '|')" \
    "ctl: Prepare the DHCP, TFTP and HTTP configuration and the boot files|ctl: Write the install configuration|node2: Install the reconcile's tick on every node|node2: Write the management-VM configuration|" \
    "it reports the changed configurations, and the files prepare -n and mgmtvm-deploy -n would write"
find "$T/node1" "$T/node2" "$T/ctl" -type f -exec md5sum {} + | sort >"$T/after"
expect_eq "$(diff "$T/before" "$T/after")" "" "no file changed, none was written"

echo "# a busy tool (exit 75) is retried until the lock is free"
# The lock is held until the play shows a retry, however long the play takes to reach prepare
# (at most 120 s).
(
    exec 9>>"$T/ctl/state/pxe/lock"
    flock 9
    touch "$T/locked"
    for _ in $(seq 1200); do [ -e "$T/release" ] && break; sleep 0.1; done
) &
locker=$!
until [ -e "$T/locked" ]; do sleep 0.1; done
ansible-playbook -i "$T/inventory.yml" "$PLAYS/mgmtvm.yml" "$PLAYS/provision.yml" \
    -e storkit_busy_delay=2 -e storkit_busy_retries=30 --limit ctl >"$T/busy.out" 2>&1 &
player=$!
for _ in $(seq 1200); do
    grep -q '^FAILED - RETRYING: \[ctl\]: Prepare' "$T/busy.out" && break
    kill -0 "$player" 2>/dev/null || break
    sleep 0.1
done
touch "$T/release"
wait "$player"
RC=$?
wait "$locker"
expect_eq "$RC $(grep -c '^FAILED - RETRYING: \[ctl\]: Prepare' "$T/busy.out" | sed 's/^[1-9][0-9]*$/retried/')" "0 retried" \
    "prepare found the lock held, was retried and succeeded once it was free"

done_testing
