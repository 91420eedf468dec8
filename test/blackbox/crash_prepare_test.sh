#!/usr/bin/env bash
# pxe-provision prepare killed with SIGKILL at seeded random points while it rewrites the files
# of a cluster. Two configs, A and B, differ in every kickstart (a template variable), in the
# (fixed) address of every seventh node, and in a tenth of the nodes (removed from A, added in B). Each
# round runs prepare towards the other config, kills it after a random delay within a clean
# run's time, and checks:
#   - every file of the trees it writes (TFTP and HTTP roots, dnsmasq/lighttpd configs, the
#     state directory) holds its old or its new version, never a torn or mixed one;
#   - a temp file the kill left behind is readable by nobody but root (at most one, the file
#     that was being renamed at that instant, has its final mode);
#   - the next run succeeds, leaves no temp file anywhere, and gives exactly what a clean run
#     gives, with every kickstart carrying its node's token from installs.json.
# STORKIT_CRASH_KILLS (default 200) rounds over STORKIT_CRASH_NODES (default 500) nodes;
# STORKIT_CRASH_SEED repeats a run (it is printed). By hand, e.g. 2000 kills:
#   STORKIT_CRASH_KILLS=2000 STORKIT_BIN=build/bin STORKIT_SRC=. bash test/blackbox/crash_prepare_test.sh
. "$STORKIT_SRC/test/blackbox/lib.sh"
. "$STORKIT_SRC/test/blackbox/pxe_bed.sh"
KILLS=${STORKIT_CRASH_KILLS:-200}
NODES=${STORKIT_CRASH_NODES:-500}
SEED=${STORKIT_CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}
plan $((KILLS * 3 + 7))
command -v xorriso >/dev/null || { fail "needs xorriso (scripts/deps installs it)"; done_testing; }
STATE=$STORKIT_SRC/test/blackbox/tree_state.py
echo "# seed $SEED, $KILLS kills, $NODES nodes"
RANDOM=$SEED

W=$T D=$T/out
tiny_image
(umask 077 && echo '$6$salt$hash' >"$T/rootpw")

# config N VARIANT: the pxe.json of variant a or b for N nodes (and a tenth more in b).
config() {
    local n=$1 v=$2
    cat <<EOF
{
  "bmc": {"subnet": "198.19.0.0/17", "user": "admin", "password_file": "$T/bmc.pw"},
  "data": {"subnet": "198.18.0.0/17", "pool": "198.18.1.0-198.18.127.254",
           "gateway": "198.18.0.1", "dns": ["198.18.0.1"], "domain": "stor.example"},
  "server": {"interface": "eth1", "address": "198.18.0.2", "hook": "$T/hook", "user": "nobody"},
  "iso": {"repository": "$T/repo", "version": "os-1"},
  "paths": {"tftp_root": "$D/tftp", "http_root": "$D/www", "dnsmasq_conf": "$D/etc/dnsmasq.conf",
            "lighttpd_conf": "$D/etc/lighttpd.conf", "state_dir": "$D/state"},
  "boot": {"firmware": "auto", "loader": "native"},
  "install": {"template": "$T/ks.in", "vars": {"timezone": "UTC-$v"},
              "secret_files": {"root_hash": "$T/rootpw"}},
  "nodes": {
EOF
    awk -v n="$n" -v v="$v" 'BEGIN {
        first = 1
        for (i = 1; i <= n + int(n / 10); i++) {
            if (v == "a" && i > n) continue
            if (v == "b" && i <= int(n / 10)) continue
            # Fixed addresses: what prepare writes depends on the config alone, not on the
            # order in which earlier runs handed out pool addresses.
            net = (v == "b" && i % 7 == 0) ? 64 : 1
            printf "%s    \"node%05d\": {\"ip\": \"198.18.%d.%d\", \"bmc\": \"198.19.%d.%d\", \"mac\": \"52:54:00:%02x:%02x:%02x\"}",
                (first ? "" : ",\n"), i, net + int(i / 250), i % 250 + 1, int(i / 250), i % 250 + 1,
                int(i / 65536) % 256, int(i / 256) % 256, i % 256
            first = 0
        }
        print ""
    }'
    printf '  }\n}\n'
}
printf '# kickstart for {{name}} at {{ip}}\nurl --url={{repo_url}}\ntimezone {{timezone}}\nrootpw --iscrypted {{root_hash}}\n' >"$T/ks.in"
(umask 077 && config "$NODES" a >"$T/a.json" && config "$NODES" b >"$T/b.json")
prepare() { pxe-provision --config "$T/$1.json" prepare >"$T/prepare.out" 2>&1; }

# Clean runs: what A and B give, and how long a run from one to the other takes.
ms_of() { local s=$EPOCHREALTIME; "$@"; local rc=$?; echo $(((${EPOCHREALTIME/./} - ${s/./}) / 1000)) >"$T/ms"; return $rc; }
prepare a && python3 "$STATE" snap "$D" "$T/A"
expect_eq "$?" 0 "a clean prepare of config A"
ms_of prepare b && python3 "$STATE" snap "$D" "$T/B"
expect_eq "$?" 0 "a clean prepare of config B"
run_ms=$(cat "$T/ms")
ms_of prepare a
# The shorter of the two, so that most kills land while prepare runs.
run_ms=$(((run_ms < $(cat "$T/ms") ? run_ms : $(cat "$T/ms")) + 5))
python3 "$STATE" snap "$D" "$T/cur"
run python3 "$STATE" same "$T/A" "$T/cur"
expect_eq "$RC" 0 "A, B and A again converge to a clean A $(echo "$OUT" | head -3)"
echo "# a run from one config to the other takes about $run_ms ms"

from=a to=b
alive=0 leftovers=0 max_open=0
for ((k = 1; k <= KILLS; k++)); do
    delay=$((RANDOM % run_ms))
    pxe-provision --config "$T/$to.json" prepare >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -KILL "$pid" 2>/dev/null && alive=$((alive + 1))
    wait "$pid" 2>/dev/null

    python3 "$STATE" snap "$D" "$T/cur"
    FROM=$(echo "$from" | tr ab AB) TO=$(echo "$to" | tr ab AB)
    run python3 "$STATE" between "$T/$FROM" "$T/$TO" "$T/cur"
    [ "$RC" = 0 ] && pass "kill $k after $delay ms: every file old or new" ||
        fail "kill $k after $delay ms: every file old or new" "$(echo "$OUT" | head -5)"
    python3 "$STATE" temps "$D" >"$T/temps"
    n=$(wc -l <"$T/temps")
    readable=$(grep -vc '^0[0-7]00 ' "$T/temps")
    leftovers=$((leftovers + n))
    ((n > max_open)) && max_open=$n
    ((readable <= 1)) && pass "kill $k: $n temp files left, $readable readable by others" ||
        fail "kill $k: temp files left are root's alone" "$readable of $n: $(grep -v '^0[0-7]00 ' "$T/temps" | head -3)"

    prepare "$to"
    rc=$?
    python3 "$STATE" snap "$D" "$T/cur"
    python3 "$STATE" same "$T/$TO" "$T/cur" >"$T/diff"
    same=$?
    python3 "$STATE" tokens "$D/state/pxe" >>"$T/diff"
    tokens=$?
    python3 "$STATE" temps "$D" >>"$T/diff"
    if [ "$rc" = 0 ] && [ "$same" = 0 ] && [ "$tokens" = 0 ] && [ ! -s "$T/diff" ]; then
        pass "kill $k: the next run converges to a clean $TO, no temp file left"
    else
        fail "kill $k: the next run converges to a clean $TO, no temp file left" \
            "exit $rc: $(head -c 300 "$T/prepare.out") $(head -5 "$T/diff")"
    fi
    tmp=$from from=$to to=$tmp
done
echo "# $KILLS kill points ($alive while prepare ran), $leftovers temp files left by kills" \
    "(at most $max_open at once)"
expect_eq "$((alive > KILLS / 2))" 1 "most kills hit a running prepare ($alive of $KILLS)"

# Both directions once more from scratch: the state directory alone is not enough to skip work.
rm -rf "$D/tftp"
prepare "$from"
python3 "$STATE" snap "$D" "$T/cur"
FROM=$(echo "$from" | tr ab AB)
run python3 "$STATE" same "$T/$FROM" "$T/cur"
expect_eq "$RC" 0 "a lost TFTP root is written again in full $(echo "$OUT" | head -3)"
prepare "$from"
expect_eq "$(grep -c . "$T/prepare.out" >/dev/null; pxe-provision --config "$T/$from.json" prepare --json | jq '.changed_files | length')" 0 \
    "a run after that changes nothing"
# Under umask 000 nothing prepare creates is writable by others.
rm -rf "$D"
(umask 000 && pxe-provision --config "$T/$from.json" prepare >"$T/prepare.out" 2>&1)
expect_eq "$? $(find "$D" ! -type l -perm -o+w | head -3)" "0 " "under umask 000 nothing prepare creates is world-writable"
done_testing
