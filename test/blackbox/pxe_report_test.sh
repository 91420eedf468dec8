#!/usr/bin/env bash
# pxe-report fed by the real servers: dnsmasq runs it as its dhcp-script for leases of real
# DHCP clients (busybox udhcpc) and for TFTP transfers, and lighttpd runs it as CGI for install
# phases. Server and clients live in two network namespaces of this test joined by a veth pair
# (198.18.0.0/15 addresses only), removed at exit.
source "$(dirname "$0")/lib.sh"
plan 66

ID=$$
NS_S=storkit-pxs-$ID NS_C=storkit-pxc-$ID
VS=pxs$ID VC=pxc$ID
NET=198.18.$((RANDOM % 250 + 1))
SRV=$NET.1
STATE=$T/state
N=6 # clients
mac() { printf '52:54:00:5e:%02x:%02x' $((ID % 256)) "$1"; }

at_exit ip netns del "$NS_S"
at_exit ip netns del "$NS_C"
ip netns add "$NS_S" && ip netns add "$NS_C" || { fail "namespaces can be created"; exit 1; }
for ns in "$NS_S" "$NS_C"; do
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add "$VS" netns "$NS_S" type veth peer name "$VC" netns "$NS_C"
ip -n "$NS_S" addr add "$SRV/24" dev "$VS"
ip -n "$NS_S" link set "$VS" up
ip -n "$NS_C" link set "$VC" up
# Each client is a macvlan interface with its own MAC on the client end of the veth.
for k in $(seq 1 $N); do
    ip -n "$NS_C" link add link "$VC" name "c$k" address "$(mac "$k")" type macvlan mode bridge
    ip -n "$NS_C" link set "c$k" up
done

mkdir -p "$T/tftp" "$T/www"
head -c 3000 /dev/urandom >"$T/tftp/pxelinux.0"
echo "DEFAULT install" >"$T/tftp/default.cfg"
chmod -R a+rX "$T/tftp"
cat >"$T/dnsmasq.conf" <<EOF
port=0
interface=$VS
bind-interfaces
dhcp-authoritative
no-ping
dhcp-range=$NET.100,$NET.150,255.255.255.0,1h
dhcp-leasefile=$T/dnsmasq.leases
dhcp-script=$STORKIT_BIN/pxe-report
enable-tftp
tftp-root=$T/tftp
pid-file=$T/dnsmasq.pid
log-facility=$T/dnsmasq.log
EOF
expect_rc 0 "the dnsmasq config passes dnsmasq --test" dnsmasq --test --conf-file="$T/dnsmasq.conf"
# dnsmasq hands its environment to the script: that is how the hook finds the state directory.
ip netns exec "$NS_S" env STORKIT_PXE_STATE_DIR="$STATE" dnsmasq --conf-file="$T/dnsmasq.conf"
at_exit 'kill $(cat '"$T"'/dnsmasq.pid)'

cat >"$T/lighttpd.conf" <<EOF
server.modules = ("mod_alias", "mod_cgi", "mod_setenv")
server.document-root = "$T/www"
server.bind = "$SRV"
server.port = 8080
server.errorlog = "$T/lighttpd.log"
alias.url = ("/storkit/report" => "$STORKIT_BIN/pxe-report")
\$HTTP["url"] =~ "^/storkit/report" {
  cgi.assign = ("" => "")
}
setenv.add-environment = ("STORKIT_PXE_STATE_DIR" => "$STATE")
EOF
ip netns exec "$NS_S" lighttpd -D -f "$T/lighttpd.conf" 2>>"$T/lighttpd.log" &
LIGHTTPD=$!
at_exit kill $LIGHTTPD

# lines FILE: how many lines it has (0 when missing)
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
# wait_lines FILE N: until FILE has N lines (dnsmasq runs its script after answering)
wait_lines() {
    for _ in $(seq 100); do [ "$(lines "$1")" -ge "$2" ] && return 0; sleep 0.05; done
    return 1
}
leases() { jq -r "$1" "$STATE/leases.json"; }

cat >"$T/udhcpc.sh" <<'EOF'
#!/bin/sh
[ "$1" = bound ] && echo "$ip" >"$DIR/ip.$interface"
exit 0
EOF
chmod +x "$T/udhcpc.sh"

# --- leases of real DHCP clients, one after the other (as nodes powered on one at a time) ----
for k in $(seq 1 $N); do
    since[k]=$(date +%s.%N)
    ip netns exec "$NS_C" env DIR="$T" busybox udhcpc -i "c$k" -n -q -t 5 -T 1 \
        -s "$T/udhcpc.sh" -x "hostname:client$k" >>"$T/udhcpc.log" 2>&1
    wait_lines "$STATE/events.jsonl" "$k"
done
got=0
for k in $(seq 1 $N); do [ -s "$T/ip.c$k" ] && got=$((got + 1)); done
expect_eq "$got" $N "every client got a lease"
expect_eq "$(lines "$STATE/events.jsonl")" $N "dnsmasq ran the hook once per lease"
expect_eq "$(jq -r .action "$STATE/events.jsonl" | sort -u)" add "each was a new lease (add)"
ok=0
for k in $(seq 1 $N); do
    [ "$(leases ".leases[] | select(.mac == \"$(mac "$k")\") | .ip")" = "$(cat "$T/ip.c$k")" ] &&
        ok=$((ok + 1))
done
expect_eq "$ok" $N "every MAC maps to the address its client really got"
expect_eq "$(leases '.leases[] | select(.mac == "'"$(mac 3)"'") | .hostname')" client3 \
    "the host name the client sent is kept"
expect_eq "$(leases '[.leases[] | select(.active and .first_was_add)] | length')" $N \
    "all leases are active"
expect_eq "$(jq -r '.unbound | length' "$STATE/table.json")" $N \
    "without a node table, table.json lists every lease as unbound"

# Binding by order (what pxe-provision does for nodes without a configured MAC): for the client
# started at since[k], the first MAC that is new since then and not yet bound must be its own.
bound='[]'
order_ok=0
for k in $(seq 1 $N); do
    m=$(leases "[.leases[] | select(.first_was_add and .first_seen >= ${since[k]}
                 and (.mac as \$m | $bound | index(\$m) | not))] | min_by(.first_seen) | .mac")
    [ "$m" = "$(mac "$k")" ] && order_ok=$((order_ok + 1))
    bound=$(jq -c --arg m "$m" '. + [$m]' <<<"$bound")
done
expect_eq "$order_ok" $N "each client's MAC is the first new one after its start"

# --- TFTP transfers are tied to the MAC that holds the address --------------------------------
ip -n "$NS_C" addr add "$(cat "$T/ip.c2")/24" dev c2
for f in pxelinux.0 default.cfg; do
    ip netns exec "$NS_C" curl -s --max-time 5 --interface c2 -o "$T/got.$f" "tftp://$SRV/$f"
done
expect_eq "$(cmp -s "$T/got.pxelinux.0" "$T/tftp/pxelinux.0" && echo same)" same \
    "the client fetched the boot file over TFTP"
wait_lines "$STATE/events.jsonl" $((N + 2))
expect_eq "$(leases '.leases[] | select(.mac == "'"$(mac 2)"'") | [.boot_files[].file | split("/") | last] | join(" ")')" \
    "pxelinux.0 default.cfg" "both transfers are listed under client 2's MAC, in order"
expect_eq "$(leases '.leases[] | select(.mac == "'"$(mac 2)"'") | .boot_files[0].size')" 3000 \
    "with the size dnsmasq sent"

# --- a release (dhcp_release makes dnsmasq drop the lease and call the hook with "del") ------
ip netns exec "$NS_S" dhcp_release "$VS" "$(cat "$T/ip.c5")" "$(mac 5)"
wait_lines "$STATE/events.jsonl" $((N + 3))
expect_eq "$(leases '.leases[] | select(.mac == "'"$(mac 5)"'") | .active')" false \
    "a released lease is marked inactive"

# --- install phases over HTTP (lighttpd runs pxe-report as CGI): a node's own reports only ------
# What prepare would have written: node02 (client 2) is to be installed, with its token, its
# kickstart and a loader config.
IP2=$(cat "$T/ip.c2")
TOKEN=0123456789abcdef0123456789abcdef
LOADER=$T/tftp/pxelinux.cfg/01-$(mac 2 | tr : -)
mkdir -p "$T/tftp/pxelinux.cfg" "$STATE/ks"
printf 'DEFAULT install\nLABEL install\n  KERNEL vmlinuz\n' >"$LOADER"
echo "# kickstart of node02" >"$STATE/ks/node02.cfg"
cat >"$STATE/installs.json" <<EOF
{"nodes": {"node02": {"state": "install", "reason": "new", "token": "$TOKEN", "mac": "$(mac 2)",
                      "ip": "$IP2", "since": 1, "boot_files": ["$LOADER"]}}}
EOF
ip -n "$NS_C" addr add "$(cat "$T/ip.c4")/24" dev c4
for _ in $(seq 100); do ip netns exec "$NS_C" curl -s --max-time 1 -o /dev/null "http://$SRV:8080/" && break; sleep 0.05; done
from() { # CLIENT CURL-ARGS...: the HTTP status of a request from that client's address
    local c=$1
    shift
    ip netns exec "$NS_C" curl -s --max-time 5 --interface "$c" -o "$T/body" -w '%{http_code}' "$@"
}
post() { from "$1" --data "$2" "http://$SRV:8080/storkit/report"; }
expect_eq "$(post c2 "node=node02&token=$TOKEN&phase=installing&detail=packages+50%25")" 200 \
    "node02's report, with its token, from its address is accepted"
expect_eq "$(leases '.leases[] | select(.mac == "'"$(mac 2)"'") | .phase + " " + .phase_detail')" \
    "installing packages 50%" "it is recorded for node02's MAC"
expect_eq "$(post c2 "node=node02&token=ffffffffffffffffffffffffffffffff&phase=failed")" 403 \
    "a wrong token is refused (403)"
expect_eq "$(cat "$T/body")" "refused: wrong token for node node02" "the answer says why"
expect_eq "$(post c2 "mac=$(mac 2)&phase=failed")" 403 "a report without node and token is refused"
expect_eq "$(post c2 "node=node09&token=$TOKEN&phase=failed")" 403 "a report for an unknown node is refused"
expect_eq "$(post c4 "node=node02&token=$TOKEN&phase=failed")" 403 \
    "node02's token from another machine's address is refused"
expect_eq "$(cat "$T/body")" "refused: node node02 reports from its own address $IP2, not from $(cat "$T/ip.c4")" \
    "the answer names both addresses"
expect_eq "$(from c2 "http://$SRV:8080/storkit/report?phase=Not+Valid")" 400 "a bad phase gets 400"
expect_match "$(cat "$T/body")" "phase" "the answer says what is wrong"
expect_eq "$(from c2 "http://$SRV:8080/storkit/report?ks=node02")" 200 "node02's kickstart goes to its own address"
expect_eq "$(cat "$T/body")" "# kickstart of node02" "as prepare wrote it"
expect_eq "$(from c4 "http://$SRV:8080/storkit/report?ks=node02")" 403 "and to no other address"
expect_eq "$(leases .refused.count)/$(leases '.refused.last[-1].ip')" "6/$(cat "$T/ip.c4")" \
    "every refusal is counted, with the sender"
expect_match "$(grep -c 'refused:' "$T/lighttpd.log")" "^6$" "and logged in the server's error log"
expect_eq "$(leases '.leases[] | select(.mac == "'"$(mac 2)"'") | .phase')" installing \
    "no refused report changed node02's phase"

# The hand-off: "finished" rewrites the node's loader config to boot the local disk at once.
expect_eq "$(post c2 "node=node02&token=$TOKEN&phase=finished")" 200 "node02's finished report is accepted"
expect_eq "$(cat "$T/body")" "recorded finished for node02; its next boot is from the local disk" \
    "the answer says what happens next"
expect_match "$(cat "$LOADER")" "LOCALBOOT 0" "node02's loader config now boots the local disk"
expect_eq "$(jq -r .nodes.node02.state "$STATE/installs.json")" installed "the install book says installed"
expect_eq "$(from c2 "http://$SRV:8080/storkit/report?ks=node02")" 403 "an installed node gets no kickstart"
expect_eq "$(grep -c '"kind":"phase"' "$STATE/events.jsonl")/$(grep -c '"kind":"refused"' "$STATE/events.jsonl")" \
    2/7 "the log holds the two good reports and the seven refusals"
n_events=$(lines "$STATE/events.jsonl")

# --- the joined table: nodes.json (pxe-provision's node table) says which MAC is whose -------
cat >"$STATE/nodes.json" <<EOF
{"nodes": {"node01": {"bmc": "198.19.0.11", "mac": "$(mac 1)"},
           "node02": {"bmc": "198.19.0.12", "mac": "$(mac 2 | tr a-f A-F)"},
           "node03": {"bmc": "198.19.0.13"}}}
EOF
run pxe-report --state-dir "$STATE" --json table
expect_eq "$RC" 0 "pxe-report table exits 0"
expect_eq "$(json '.table.nodes[] | select(.name == "node02") | [.bmc, .mac, .ip, .phase] | join(" ")')" \
    "198.19.0.12 $(mac 2) $(cat "$T/ip.c2") finished" "a node row joins BMC -> MAC -> DHCP address"
expect_eq "$(json '.table.nodes[] | select(.name == "node03") | .ip')" null \
    "a node without a known MAC has no address yet"
expect_eq "$(json '.table.unbound | length')" $((N - 2)) "the other leases stay unbound"
run pxe-report --state-dir "$STATE" table
expect_match "$(grep '^node01 ' <<<"$OUT")" "198.19.0.11 +$(mac 1) +$(cat "$T/ip.c1")" \
    "the text table shows node, BMC, MAC and address"
expect_match "$OUT" "refused reports: 7, the last from $(cat "$T/ip.c2") at .*: kickstart of node02: installed" \
    "and the refused reports"
# The next event rewrites table.json with the node rows too.
ip netns exec "$NS_C" env DIR="$T" busybox udhcpc -i c1 -n -q -t 5 -T 1 -s "$T/udhcpc.sh" \
    >>"$T/udhcpc.log" 2>&1
wait_lines "$STATE/events.jsonl" $((n_events + 1))
expect_eq "$(jq -r '.nodes[0] | .name + " " + .ip' "$STATE/table.json")" "node01 $(cat "$T/ip.c1")" \
    "table.json, the monitor's copy, has the node rows"
expect_eq "$(jq -r '.action' <(tail -1 "$STATE/events.jsonl"))" old "a renewal is an 'old' event"

# --- the event log rotated or truncated: updates go on ------------------------------------------
mv "$STATE/events.jsonl" "$STATE/events.jsonl.1"
expect_rc 0 "an event after the log was rotated" pxe-report --state-dir "$STATE" add "$(mac 7)" 198.18.250.7 h7
expect_eq "$(leases '.leases[] | select(.mac == "'"$(mac 7)"'") | .ip')" 198.18.250.7 \
    "is in the lease table (the new log is read from its start)"
: >"$STATE/events.jsonl"
expect_rc 0 "an event after the log was truncated" pxe-report --state-dir "$STATE" add "$(mac 8)" 198.18.250.8 h8
expect_eq "$(leases '.leases[] | select(.mac == "'"$(mac 8)"'") | .ip')/$(leases .applied_bytes)" \
    "198.18.250.8/$(stat -c %s "$STATE/events.jsonl")" "is in the lease table too, which covers the new log"

# --- many hook runs at once -----------------------------------------------------------------
P=$T/parallel
pids=()
for i in $(seq 1 40); do
    pxe-report --state-dir "$P" add "52:54:00:99:00:$(printf %02x "$i")" "198.18.200.$i" "h$i" &
    pids+=($!)
done
for _ in $(seq 1 5); do
    pxe-report --state-dir "$P" table >/dev/null &
    pids+=($!)
done
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
expect_eq "$failed" 0 "45 concurrent runs all succeed"
expect_eq "$(lines "$P/events.jsonl")" 40 "40 concurrent runs left 40 log lines"
expect_eq "$(jq -r '.leases | length' "$P/leases.json")" 40 "and 40 leases"
expect_eq "$(jq -r '.unbound | length' "$P/table.json")" 40 "and a whole table.json"
expect_eq "$(jq -r '.applied_bytes' "$P/leases.json")" "$(stat -c %s "$P/events.jsonl")" \
    "the lease table covers the whole log"

# --- bad input, dry run, hostile host names ----------------------------------------------------
before=$(stat -c %s "$P/events.jsonl")
expect_rc 2 "a malformed MAC is a usage error" pxe-report --state-dir "$P" add 52:54 198.18.0.1
expect_rc 2 "a bad address is a usage error" pxe-report --state-dir "$P" add "$(mac 1)" 198.18.0.300
expect_rc 0 "-n only says what it would record" pxe-report --state-dir "$P" -n add "$(mac 1)" 198.18.0.9
expect_rc 0 "calls that are not recorded (init) are fine" pxe-report --state-dir "$P" init
expect_eq "$(stat -c %s "$P/events.jsonl")" "$before" "none of these wrote anything"
expect_rc 0 "a host name that looks like an option is just a name" \
    pxe-report --state-dir "$P" add "$(mac 9)" 198.18.0.9 -n
expect_eq "$(jq -r '.leases[] | select(.mac == "'"$(mac 9)"'") | .hostname' "$P/leases.json")" -n \
    "it is recorded as the host name"
expect_rc 2 "without arguments and outside CGI there is nothing to do" \
    env -u GATEWAY_INTERFACE pxe-report --state-dir "$P"
echo "# root never follows a symlink in the state directory, nor a config others can write"
S2=$T/state2
mkdir -p "$S2"
echo keep >"$T/target"
ln -s "$T/target" "$S2/events.jsonl"
run pxe-report --state-dir "$S2" add 52:54:00:aa:bb:cc 198.18.0.9 nodex
expect_match "$RC $ERR" "^1 .*$S2/events.jsonl: a symbolic link; refused" "a symlinked event log is refused"
expect_eq "$(cat "$T/target")" keep "and what it points at is untouched"
rm "$S2/events.jsonl"
rm -f "$S2/report.lock"
ln -s "$T/made-by-root" "$S2/report.lock"
run pxe-report --state-dir "$S2" table
expect_match "$RC $ERR" "^1 .*report.lock: a symbolic link, not a lock file" "a symlinked lock file is refused"
[ ! -e "$T/made-by-root" ] && pass "and nothing is created where it points" || fail "and nothing is created where it points"
printf '{"paths": {"state_dir": "%s/elsewhere"}}\n' "$T" >"$T/open.json"
chmod 666 "$T/open.json"
run pxe-report --config "$T/open.json" add 52:54:00:aa:bb:cc 198.18.0.9 nodex
expect_match "$RC $ERR" "^2 .*config $T/open.json: it is writable by group or others \\(mode 0666\\)" \
    "a config others can write is refused"
[ ! -e "$T/elsewhere" ] && pass "and nothing is written where it says" || fail "and nothing is written where it says"
done_testing
