#!/usr/bin/env bash
# pxe-provision prepare for 1,000 and 10,000 nodes: a full generation (empty output, image
# already in the cache), a rerun that changes nothing, and a run where one node changed (its
# address: one reservation and one kickstart to rewrite). Side by side with the form an operator
# would write by hand and Cobbler's sync takes: a script that regenerates every file of every
# node on each run, one process per templated file. Prints wall time and max RSS, medians of
# RUNS runs each (default 5), and the ratios. storkit and the script run interleaved, after one
# warm-up run each, and every row measures both on that row's own work.
#   test/bench/pxe_prepare_bench.sh [RUNS] [SIZES]     (after scripts/build)
#   e.g. test/bench/pxe_prepare_bench.sh 5 "1000 10000";  PEER=0 skips the script;
#   TMPDIR=/dev/shm puts everything on tmpfs, without the disk file system's cost.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${STORKIT_BIN:-$SRC/build/bin}
RUNS=${1:-5}
SIZES=${2:-1000 10000}
PEER=${PEER:-1}
LOADER=${LOADER:-ipxe}
W=$(mktemp -d "${TMPDIR:-/tmp}/storkit-bench.XXXXXX")
chmod 755 "$W"
trap 'rm -rf "$W"' EXIT
D=$W/out

# A small RHEL-like image; its extraction is cached by content and not part of the figures.
mkdir -p "$W/tree/images/pxeboot" "$W/tree/BaseOS/Packages" "$W/repo"
head -c 8000000 /dev/urandom >"$W/tree/images/pxeboot/vmlinuz"
head -c 30000000 /dev/urandom >"$W/tree/images/pxeboot/initrd.img"
echo rpm >"$W/tree/BaseOS/Packages/a.rpm"
xorriso -as mkisofs -quiet -R -J -o "$W/repo/rhel-9.iso" "$W/tree" 2>/dev/null
cat >"$W/ks.in" <<'EOF'
# kickstart for {{name}} ({{bmc}})
text
url --url={{repo_url}}
network --bootproto=static --ip={{ip}} --netmask={{netmask}} --gateway={{gateway}} --nameserver={{dns}} --hostname={{fqdn}}
rootpw --iscrypted {{root_hash}}
timezone {{timezone}} --utc
zerombr
clearpart --all --initlabel
autopart --type=lvm
%post
curl -s "{{report_url}}?node={{name}}&state=installed"
%end
EOF

# config N CHANGED: writes $W/pxe.json for N nodes; CHANGED=1 gives node00001 a fixed address.
config() {
    local n=$1 changed=$2
    {
        cat <<EOF
{
  "bmc": {"subnet": "198.19.0.0/17", "user": "admin", "password_file": "$W/bmc.pw"},
  "data": {"subnet": "198.18.0.0/17", "pool": "198.18.1.0-198.18.127.254",
           "gateway": "198.18.0.1", "dns": ["198.18.0.1"], "domain": "stor.example"},
  "server": {"interface": "eth1", "address": "198.18.0.2", "hook": "$W/hook", "user": "nobody"},
  "iso": {"repository": "$W/repo", "version": "rhel-9"},
  "paths": {"tftp_root": "$D/tftp", "http_root": "$D/www", "dnsmasq_conf": "$D/etc/dnsmasq.conf",
            "lighttpd_conf": "$D/etc/lighttpd.conf", "state_dir": "$D/state"},
  "boot": {"firmware": "auto", "loader": "$LOADER"},
  "install": {"template": "$W/ks.in", "vars": {"timezone": "UTC", "root_hash": "\$6\$x\$y"}},
  "nodes": {
EOF
        awk -v n="$n" -v ch="$changed" 'BEGIN {
            for (i = 1; i <= n; i++) {
                ip = (i == 1 && ch) ? "\"ip\": \"198.18.0.77\", " : ""
                printf "    \"node%05d\": {%s\"bmc\": \"198.19.%d.%d\", \"mac\": \"52:54:00:%02x:%02x:%02x\"}%s\n",
                    i, ip, int(i / 250), i % 250 + 1, int(i / 65536) % 256, int(i / 256) % 256, i % 256,
                    (i < n ? "," : "")
            }
        }'
        echo '  }'
        echo '}'
    } >"$W/pxe.json"
}

# The hand-written form: every file of every node, every run; sed per templated file.
cat >"$W/naive.sh" <<'EOF'
#!/bin/sh
# naive.sh NODES-FILE OUT: lines "name mac ip"
out=$2
mkdir -p "$out/hosts" "$out/ks" "$out/ipxe"
while read -r name mac ip; do
    echo "$mac,$ip,$name" >"$out/hosts/$name"
    sed -e "s/{{name}}/$name/g; s/{{ip}}/$ip/g; s/{{bmc}}/-/g; s|{{[a-z_]*}}|x|g" "$KS" >"$out/ks/$name.cfg"
    hy=$(echo "$mac" | tr : -)
    printf '#!ipxe\nkernel http://198.18.0.2/images/vmlinuz initrd=initrd inst.ks=http://198.18.0.2/ks/%s.cfg\ninitrd --name initrd http://198.18.0.2/images/initrd.img\nboot\n' "$name" >"$out/ipxe/$hy.ipxe"
done <"$1"
EOF
chmod +x "$W/naive.sh"

# pair "STORKIT-BEFORE" "PEER-BEFORE": "wall rss wall rss" for storkit (${PP[@]}) and the
# script (${NAIVE[@]}), medians over RUNS rounds; each round runs one storkit run and one script
# run, each after its own BEFORE (not timed); a first round warms both up and is not counted.
# Wall time from the shell's clock around /usr/bin/time (about 1 ms of its own; its %e has only
# 10 ms steps); max RSS from /usr/bin/time.
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
once() {  # once OUTFILE CMD...
    local out=$1 start end
    shift
    start=$EPOCHREALTIME
    /usr/bin/time -f "%M" -o "$W/.t" "$@" >/dev/null 2>"$W/.err" ||
        { echo "failed: $*" >&2; cat "$W/.err" >&2; exit 1; }
    end=$EPOCHREALTIME
    echo "$(echo "$end - $start" | bc -l) $(cat "$W/.t")" >>"$out"
}
pair() {
    local i
    : >"$W/.s"
    : >"$W/.p"
    for ((i = 0; i <= RUNS; i++)); do
        eval "$1"
        once "$W/.s" "${PP[@]}"
        if [ "$PEER" = 1 ]; then
            eval "$2"
            once "$W/.p" "${NAIVE[@]}"
        fi
        if ((i == 0)); then : >"$W/.s"; : >"$W/.p"; fi
    done
    local p="-"
    [ "$PEER" = 1 ] && p="$(cut -d' ' -f1 "$W/.p" | median) $(cut -d' ' -f2 "$W/.p" | median)"
    echo "$(cut -d' ' -f1 "$W/.s" | median) $(cut -d' ' -f2 "$W/.s" | median) $p"
}
row() {  # TITLE "wall rss peer_wall peer_rss" (peer "-" when not measured)
    local title=$1 sw sm pw pm
    read -r sw sm pw pm <<<"$2"
    if [ "$pw" != - ]; then
        printf '%-34s %9.1f ms %7.1f MB %11.0f ms %7.1f MB %8.1fx\n' "$title" \
            "$(echo "$sw*1000" | bc -l)" "$(echo "$sm/1024" | bc -l)" \
            "$(echo "$pw*1000" | bc -l)" "$(echo "$pm/1024" | bc -l)" "$(echo "$pw/$sw" | bc -l)"
    else
        printf '%-34s %9.1f ms %7.1f MB %11s    %7s    %8s\n' "$title" \
            "$(echo "$sw*1000" | bc -l)" "$(echo "$sm/1024" | bc -l)" - - -
    fi
}

PP=("$BIN/pxe-provision" --config "$W/pxe.json" prepare)
echo "pxe-provision prepare, loader $LOADER, median of $RUNS runs, $(nproc) CPUs," \
    "files on $(df --output=fstype "$W" | tail -1), load average $(cut -d' ' -f1 /proc/loadavg)"
printf '%-34s %12s %10s %14s %10s %9s\n' "" "storkit" "max RSS" "regenerate-all" "max RSS" "speed"
NAIVE=("$W/naive.sh" "$W/nodes.txt" "$W/naive")
export KS=$W/ks.in
for n in $SIZES; do
    config "$n" 0
    "${PP[@]}" >/dev/null  # extracts the image into the cache once
    # nodes.txt follows pxe.json: node00001 at 198.18.0.77 when the config gives it that address.
    nodes_txt='awk -v n="$n" -v ch="$(grep -c 198.18.0.77 "$W/pxe.json")" "BEGIN { for (i = 1; i <= n; i++)
        printf \"node%05d 52:54:00:%02x:%02x:%02x %s\\n\", i, int(i/65536)%256, int(i/256)%256, i%256,
            (i == 1 && ch) ? \"198.18.0.77\" : sprintf(\"198.18.%d.%d\", 1 + int((i-1)/254), (i-1)%254 + 1) }" >"$W/nodes.txt"'
    eval "$nodes_txt"
    # Full generation: both start from empty output.
    full=$(pair "rm -rf '$D/tftp' '$D/www' '$D/etc' '$D/state/pxe/dhcp-hosts' '$D/state/pxe/files.manifest' '$D/state/pxe/nodes.json'" \
        "rm -rf '$W/naive'")
    # Nothing changed: both rerun over their own previous output.
    again=$(pair true true)
    # One node changed: every round flips node00001's address, for both.
    flip='if grep -q 198.18.0.77 "$W/pxe.json"; then config $n 0; else config $n 1; fi; '"$nodes_txt"
    one=$(pair "$flip" true)
    changed=$("${PP[@]}" --json | jq '.changed_files | length')
    row "$n nodes: full generation" "$full"
    row "$n nodes: rerun, nothing changed" "$again"
    row "$n nodes: one node changed" "$one"
    [ "$changed" = 0 ] || { echo "a rerun changed $changed files" >&2; exit 1; }
done
echo
echo "Published, not measured here: Cobbler sync 9.2 s for 542 systems (17 ms/system);"
echo "xCAT nodeset 269 s for 2,500 nodes (108 ms/node)."
