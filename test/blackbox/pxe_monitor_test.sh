#!/usr/bin/env bash
# pxe-monitor on real services: ipmi_sim BMCs power three nodes on (pxe-provision boot), each a
# network namespace with a NIC on the provisioning network; dnsmasq and lighttpd run the configs
# prepare generated, with pxe-report as their hook and CGI. Node 1 leases and posts started,
# heartbeat and finished over HTTP; node 2 leases, starts and posts failed; node 3 is powered
# but never asks for an address. With compressed deadlines, the monitor must report success,
# failure and a DHCP timeout for the right nodes, the timeout on the first tick after its
# deadline, tell the feedback file and the notify command once each, and leave pxe-provision
# status showing each result.
source "$(dirname "$0")/lib.sh"
plan 31

for cmd in xorriso dnsmasq lighttpd busybox curl ip jq ipmi_sim; do
    command -v "$cmd" >/dev/null || { fail "needs $cmd (scripts/deps installs it)"; done_testing; }
done

source "$(dirname "$0")/pxe_bed.sh"
unset WRONG_PASSWORD SILENT
bmcs_up 3
provisioning_net mn
D=$T/out
STATE=$D/state/pxe
mac() { printf '52:54:00:6d:%02x:%02x' $((ID % 256)) "$1"; }

# Each node: its own namespace with a NIC (a macvlan on the client side of the veth).
cat >"$T/udhcpc.sh" <<'EOF'
#!/bin/sh
case $1 in bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/24" dev "$interface" ;; esac
exit 0
EOF
chmod +x "$T/udhcpc.sh"
for k in 1 2 3; do
    ns=storkit-mn$k-$ID
    at_exit ip netns del "$ns"
    ip netns add "$ns"
    ip -n "$NS_C" link add link "$VC" name "n$k" address "$(mac "$k")" type macvlan mode bridge
    ip -n "$NS_C" link set "n$k" netns "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "n$k" up
done
# What node K's "installer" does once its BMC boots it: lease, then report over HTTP with the
# node's name and its install's token (which a real node finds in its kickstart).
installer() { # K PHASE:DETAIL...
    local k=$1 ns=storkit-mn$1-$ID
    shift
    {
        echo '#!/bin/sh'
        echo "ip netns exec $ns busybox udhcpc -i n$k -n -q -t 10 -T 1 -s $T/udhcpc.sh || exit 1"
        echo "token=\$(jq -r .nodes.node$k.token $T/out/state/pxe/installs.json)"
        for p in "$@"; do
            echo "sleep 0.5"
            echo "ip netns exec $ns curl -s --max-time 5 -o /dev/null -d node=node$k -d token=\$token --data-urlencode 'phase=${p%%:*}' --data-urlencode 'detail=${p#*:}' http://$SRV:8080/storkit/report"
        done
    } >"$BASE/bmc$k/node/on-boot"
    chmod +x "$BASE/bmc$k/node/on-boot"
}
installer 1 started: heartbeat:packages finished:
installer 2 started: "failed:anaconda: no disk found"

# --- the configuration: deadlines in seconds ---------------------------------------------------
tiny_image
printf '#!/bin/sh\necho "$STORKIT_NODE $STORKIT_RESULT $STORKIT_PHASE $STORKIT_DETAIL" >>%s/notified\n' "$T" >"$T/notify"
chmod 755 "$T/notify"
cat >"$T/pxe.json" <<EOF
{
  "bmc": {"subnet": "$NET.0/24", "user": "admin", "password_file": "$T/bmc.pw",
          "timeout_ms": 1000, "retries": 0},
  "data": {"subnet": "$DNET.0/24", "pool": "$DNET.100-$DNET.150", "gateway": "$SRV"},
  "server": {"interface": "$VS", "address": "$SRV", "hook": "$STORKIT_BIN/pxe-report", "user": "nobody", "http_port": 8080},
  "iso": {"repository": "$T/repo", "version": "os-1"},
  "paths": {"tftp_root": "$D/tftp", "http_root": "$D/www", "dnsmasq_conf": "$D/etc/dnsmasq.conf",
            "lighttpd_conf": "$D/etc/lighttpd.conf", "state_dir": "$D/state"},
  "boot": {"loader": "native"},
  "install": {"template": "$T/ks.in"},
  "power": {"wave": 3, "interval_s": 1},
  "monitor": {"dhcp_s": 8, "kickstart_s": 8, "heartbeat_s": 8, "install_s": 60,
              "notify": ["$T/notify"]},
  "nodes": {"node1": {"bmc": "$NET.1", "mac": "$(mac 1)"}, "node2": {"bmc": "$NET.2", "mac": "$(mac 2)"},
            "node3": {"bmc": "$NET.3", "mac": "$(mac 3)"}}
}
EOF
chmod 600 "$T/pxe.json"
CFG=$T/pxe.json

echo "# before anything was powered"
run pxe-monitor --config "$CFG"
expect_eq "$RC" 1 "no table yet: exit 1"
expect_match "$ERR" "$STATE/table.json: no table" "the error names the table"

echo "# prepare, the servers on its configs, boot"
expect_rc 0 "prepare" pxe-provision --config "$CFG" prepare
ip netns exec "$NS_S" dnsmasq --conf-file="$D/etc/dnsmasq.conf" --no-ping \
    --pid-file="$T/dnsmasq.pid" --log-facility="$T/dnsmasq.log"
at_exit 'kill $(cat '"$T"'/dnsmasq.pid)'
ip netns exec "$NS_S" lighttpd -D -f "$D/etc/lighttpd.conf" 2>>"$T/lighttpd.log" &
at_exit kill $!
expect_rc 0 "boot" pxe-provision --config "$CFG" boot
expect_eq "$(jq -r '[.nodes[] | select(.powered_at != null) | .name] | join(" ")' "$STATE/table.json")" \
    "node1 node2 node3" "table.json carries every node's power-on time"

echo "# the monitor, ticking until every install has a result"
run timeout 90 pxe-monitor --config "$CFG" --watch --interval 0.5 --json
expect_eq "$RC" 1 "--watch ends, failed: not every install succeeded"
expect_eq "$(json '.counts | [.watching, .succeeded, .failed_or_timed_out] | map(tostring) | join(" ")')" "0 1 2" "none watched, one succeeded, two did not"
FB=$STATE/feedback.jsonl
result() { jq -r --arg n "$1" 'select(.node == $n) | .result + " " + .phase + " " + .detail' "$FB"; }
expect_eq "$(result node1)" "succeeded finished " "node 1 succeeded"
expect_eq "$(result node2)" "failed failed anaconda: no disk found" "node 2 failed, with the installer's words"
expect_eq "$(result node3)" "timed-out dhcp no DHCP lease 8 s after power-on" "node 3 timed out waiting for DHCP"
p3=$(jq -r '.nodes[] | select(.name == "node3") | .powered_at' "$STATE/table.json")
t3=$(jq -r 'select(.node == "node3") | .time' "$FB")
expect_eq "$(awk -v p="$p3" -v t="$t3" 'BEGIN {d = t - p; print (d > 8 && d < 8 + 0.5 + 1.5) ? "on time" : d}')" "on time" \
    "the timeout came on the first tick after the deadline"
t1=$(jq -r 'select(.node == "node1") | .time' "$FB")
f1=$(jq -r 'select(.kind == "phase" and .phase == "finished") | .time' "$STATE/events.jsonl")
expect_eq "$(awk -v f="$f1" -v t="$t1" 'BEGIN {d = t - f; print (d >= 0 && d < 2) ? "soon" : d}')" "soon" \
    "the success was reported on the tick after the node said so"
expect_eq "$(sort "$T/notified")" "node1 succeeded finished 
node2 failed failed anaconda: no disk found
node3 timed-out dhcp no DHCP lease 8 s after power-on" "the notify command ran once per result"

echo "# the control machine sees the results"
run pxe-provision --config "$CFG" status --json
expect_eq "$(json '[.table.nodes[] | .name + "=" + .result] | join(" ")')" \
    "node1=succeeded node2=failed node3=timed-out" "status --json: each node's result"
run pxe-provision --config "$CFG" status
expect_match "$(grep '^node3 ' <<<"$OUT")" " timed-out$" "status: a RESULT column"

echo "# later ticks say nothing again"
lines=$(wc -l <"$FB")
run pxe-monitor --config "$CFG"
expect_eq "$RC,$(wc -l <"$FB"),$(wc -l <"$T/notified")" "0,$lines,3" "a tick after all are done adds nothing"
expect_eq "$OUT$ERR" "" "and prints nothing off a terminal (cron mails output)"
run pxe-monitor --config "$CFG" -v
expect_match "$OUT" "node3 +dhcp +timed-out " "with -v it shows the table"
expect_eq "$(grep -c . <<<"$OUT")" 4 "a header and one row per node"

echo "# a monitor on another machine, reading the table over HTTP"
jq ".monitor.feedback = \"$T/remote.jsonl\" | del(.monitor.notify)" "$CFG" >"$T/remote.json"
chmod 600 "$T/remote.json"
run ip netns exec "storkit-mn1-$ID" "$STORKIT_BIN/pxe-monitor" --config "$T/remote.json" --state-dir "$T/remote" \
    --table "http://$SRV:8080/storkit/table.json"
expect_eq "$RC,$ERR" "0," "it ticks"
expect_eq "$(jq -r '.node + " " + .result + " " + .phase' "$T/remote.jsonl" | sort | tr '\n' ',')" \
    "node1 succeeded finished,node2 failed failed,node3 timed-out dhcp," "it finds the same results"
run ip netns exec "storkit-mn1-$ID" "$STORKIT_BIN/pxe-monitor" --config "$T/remote.json" --state-dir "$T/remote" \
    --table "http://$SRV:8081/storkit/table.json"
expect_match "$RC,$ERR" "^1,pxe-monitor: error: http://$SRV:8081/storkit/table.json: .*" "a table nobody serves: one error naming the URL"

echo "# a node installed again is watched again"
expect_rc 0 "reinstall powers them again" pxe-provision --config "$CFG" reinstall "node[1-3]"
run pxe-monitor --config "$CFG" --json
expect_eq "$(json '.nodes.node3.result')" "" "node 3's new install is watched afresh"

echo "# retries: a missed deadline power-cycles the node into PXE once before it counts"
jq ".monitor.retries = 1 | .monitor.feedback = \"$T/retry.jsonl\" | del(.monitor.notify)" "$CFG" >"$T/retry.json"
chmod 600 "$T/retry.json"
ons=$(grep -c 'set power 1' "$BASE/bmc3/node/events.log")
run timeout 90 pxe-monitor --config "$T/retry.json" --state-dir "$T/retry" --watch --interval 0.5
expect_eq "$(jq -r 'select(.node == "node3") | .result + " " + .phase' "$T/retry.jsonl" | tr '\n' ',')" \
    "retry dhcp,timed-out dhcp," "node 3: one power-cycle, then the timeout"
expect_eq "$(($(grep -c 'set power 1' "$BASE/bmc3/node/events.log") - ons))" 1 "its BMC powered it on once more"
expect_eq "$(tail -1 "$BASE/bmc3/node/events.log" | cut -d' ' -f2-)" "boot pxe" "into PXE"

echo "# bad input: one clear error"
jq '.monitor.dhcp_s = -1' "$CFG" >"$T/bad.json" && chmod 600 "$T/bad.json"
run pxe-monitor --config "$T/bad.json"
expect_eq "$RC" 2 "a negative deadline is a config error"
expect_match "$ERR" "monitor.dhcp_s" "the error names the key"
echo '{"nodes": 3}' >"$T/table.json"
run pxe-monitor --config "$CFG" --table "$T/table.json"
expect_eq "$RC,$ERR" "1,pxe-monitor: error: $T/table.json: not a node table" "a table that is not one"
exec 9>"$STATE/monitor/lock"
flock 9
run pxe-monitor --config "$CFG"
expect_eq "$RC" 75 "another monitor holds the lock: exit 75"
exec 9>&-
done_testing
