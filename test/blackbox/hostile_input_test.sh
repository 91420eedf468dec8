#!/usr/bin/env bash
# Hostile input, as a machine that is not trusted yet or a broken storage program would give
# it: storage command programs that hang, flood stdout, print garbage or die oddly; DHCP hook
# arguments (host names, vendor classes) with shell metacharacters, newlines, "../", huge and
# invalid UTF-8 values; CGI requests that are oversized, malformed, forged or from the wrong
# address; state files that are truncated or of the wrong type. Each time: an answer or one
# clear error, nothing executed, nothing written outside the state directory, no hang past
# the deadline, no unbounded memory.
. "$STORKIT_SRC/test/blackbox/lib.sh"
plan 48

# --- storage command programs -----------------------------------------------------------------
P=$T/progs
mkdir -p "$P" "$T/mstate"
prog() { printf '#!/bin/sh\n%s\n' "$2" >"$P/$1" && chmod 755 "$P/$1"; }
prog hang 'exec sleep 100'
prog flood 'exec yes storkit'
prog garbage 'head -c 100000 /dev/urandom; exit 0'
prog odd 'exit 255'
prog segv 'kill -SEGV $$'
prog fine 'exit 0'
storage_config() {  # FILE SERVICE-PROGRAM
    cat >"$1" <<EOF
{"node": "node1", "vm": {"name": "mgmt", "domain_xml": "$T/mgmt.xml"},
 "nodes": {"node1": {"libvirt": "test:///default"}},
 "storage": {"backend": "command", "service_health": ["$P/$2"], "volume_health": ["$P/fine"],
             "is_master": ["$P/fine"], "timeout_s": 2},
 "state_dir": "$T/mstate"}
EOF
    chmod 600 "$1"
}
for p in hang flood garbage odd segv; do
    storage_config "$T/$p.json" "$p"
    start=$EPOCHREALTIME
    /usr/bin/time -f %M -o "$T/rss" storage-health --config "$T/$p.json" --json >"$T/out" 2>"$T/err"
    rc=$?
    ms=$(((${EPOCHREALTIME/./} - ${start/./}) / 1000))
    service=$(jq -r '.data.service // .service // empty' "$T/out" 2>/dev/null | head -c 200)
    expect_eq "$(jq -e . "$T/out" >/dev/null 2>&1 && echo json)" json "$p: --json output is one JSON object"
    want=unknown
    [ "$p" = garbage ] && want=yes  # the exit code is the answer; what it prints is ignored
    expect_eq "$(jq -r '.checks[] | select(.check == "service") | .value' "$T/out" 2>/dev/null)" "$want" \
        "$p: the service answer is $want"
    ((ms < 6000)) && pass "$p: done in $ms ms (timeout 2 s)" || fail "$p: done within the deadline" "$ms ms"
    rss=$(tail -1 "$T/rss")
    ((rss < 200000)) && pass "$p: max RSS $((rss / 1024)) MB" ||
        fail "$p: bounded memory" "max RSS $rss kB"
done
storage_config "$T/fine.json" fine
run storage-health --config "$T/fine.json" --json
expect_match "$RC $(jq -c . <<<"$OUT")" '^0 ' "a program that answers gives an answer (the probe itself works)"

# --- DHCP hook arguments ----------------------------------------------------------------------
S=$T/pxe
mkdir -p "$S"
: >"$T/hook.results"
before=$(cd "$T" && find . -path ./pxe -prune -o -print | sort)
long=$(head -c 10000 /dev/zero | tr '\0' a)
names=('$(touch '"$T"'/pwned)' '`touch '"$T"'/pwned`' "; touch $T/pwned" $'two\nlines' '../../../etc/passwd'
    "$long" $'\xff\xfe\xc3\x28invalid' '--state-dir=/tmp' "-rf" "")
i=0
for name in "${names[@]}"; do
    i=$((i + 1))
    mac=$(printf '52:54:00:66:00:%02x' "$i")
    DNSMASQ_VENDOR_CLASS="PXEClient\$(id)$name" DNSMASQ_TAGS="known $name" \
        pxe-report --state-dir "$S" add "$mac" "198.18.0.$((100 + i))" "$name" >"$T/out" 2>"$T/err"
    echo "$? $(head -c 300 "$T/err" | tr '\n' ' ')" >>"$T/hook.results"
done
expect_eq "$(grep -cvE '^(0|2) ' "$T/hook.results")" 0 "hostile host names: each recorded (0) or refused (2) $(grep -vE '^(0|2) ' "$T/hook.results" | head -2)"
[ ! -e "$T/pwned" ] && pass "hostile host names: nothing executed" || fail "hostile host names: nothing executed"
after=$(cd "$T" && find . -path ./pxe -prune -o -print | sort)
expect_eq "$(diff <(echo "$before") <(echo "$after") | grep -c '^>')" 0 "hostile host names: nothing written outside the state directory"
expect_eq "$(jq -c . "$S/events.jsonl" >/dev/null 2>&1 && echo ok)" ok "the event log is valid JSON lines"
expect_eq "$(wc -l <"$S/events.jsonl")" "$(grep -c '^0 ' "$T/hook.results")" "one line per recorded event, however odd the name"
run pxe-report --state-dir "$S" --json table
expect_eq "$RC" 0 "the table is built from them"
expect_eq "$(jq -r '.table.unbound | length' <<<"$OUT" 2>/dev/null || echo bad)" \
    "$(grep -c '^0 ' "$T/hook.results")" "every recorded MAC is a row of the table"
run pxe-report --state-dir "$S" add 52:54:00:66:00:01 198.18.0.1 "a" "extra" "args" "here"
expect_match "$RC" '^[02]$' "extra arguments: recorded or refused, not a crash"
for bad in "zz:zz:zz:zz:zz:zz" "52:54:00:66:00" "52:54:00:66:00:01:02" "../x"; do
    run pxe-report --state-dir "$S" add "$bad" 198.18.0.9 n
    expect_match "$RC $ERR" "^2 .*$(printf %s "$bad" | sed 's/[.]/[.]/g')" "a bad MAC ($bad) is refused, named"
done
run pxe-report --state-dir "$S" add 52:54:00:66:00:09 "198.18.0.999" n
expect_match "$RC $ERR" "^2 .*198.18.0.999" "a bad address is refused, named"
run pxe-report --state-dir "$S" tftp "-1" 198.18.0.9 "/etc/shadow"
expect_match "$RC" '^[02]$' "a TFTP event with a negative size: recorded or refused"

# --- CGI requests -----------------------------------------------------------------------------
cgi() {  # METHOD REMOTE QUERY [BODY [LENGTH]]
    local body=${4:-}
    printf '%s' "$body" | env -i PATH="$PATH" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD="$1" \
        REMOTE_ADDR="$2" QUERY_STRING="$3" CONTENT_LENGTH="${5:-${#body}}" \
        timeout 10 pxe-report --state-dir "$S" >"$T/out" 2>"$T/err"
    RC=$?
    STATUS=$(head -1 "$T/out" | tr -d '\r')
}
cgi POST 198.18.0.101 "" "" 100000000
expect_match "$RC $STATUS" "Status: 400" "a 100 MB Content-Length: 400 at once"
cgi POST 198.18.0.101 "" "node=x" -5
expect_match "$STATUS" "Status: 400" "a negative Content-Length: 400"
cgi POST 198.18.0.101 "" "node=%zz&phase=%"
expect_match "$STATUS" "Status: 400" "a malformed body: 400"
cgi POST 198.18.0.101 "" "node=node1&token=forged&phase=finished&mac=52:54:00:66:00:01"
expect_match "$STATUS" "Status: 403" "a forged report for a node with no install: 403"
cgi GET 198.18.0.101 "ks=../../etc/shadow"
expect_match "$STATUS" "Status: 403" "a kickstart path with ../: 403"
cgi GET 198.18.0.101 "ks=$(head -c 5000 /dev/zero | tr '\0' a)"
expect_match "$STATUS" "Status: 403" "a kickstart name of 5000 bytes: 403"
cgi POST "not-an-address" "" "node=node1&phase=started"
expect_match "$STATUS" "Status: 40[03]" "a request without a valid source address: refused"
expect_eq "$(jq -c . "$S/events.jsonl" >/dev/null 2>&1 && echo ok)" ok "the event log is still valid JSON lines"
[ "$(stat -c %s "$S/table.json")" -lt 200000 ] && pass "the table stayed small ($(stat -c %s "$S/table.json") bytes)" ||
    fail "the table stayed small" "$(stat -c %s "$S/table.json") bytes"

# --- truncated or wrongly typed state files ---------------------------------------------------
cp "$S/leases.json" "$T/leases.good"
head -c 100 "$T/leases.good" >"$S/leases.json"
run pxe-report --state-dir "$S" add 52:54:00:66:00:30 198.18.0.130 late
expect_match "$RC $ERR" "^1 .*leases.json" "a truncated lease table: one error naming it"
echo '[1, 2, 3]' >"$S/leases.json"
run pxe-report --state-dir "$S" table
expect_match "$RC $ERR" "^1 .*leases.json: not a lease table" "a lease table of the wrong type: named"
rm "$S/leases.json"
run pxe-report --state-dir "$S" --json table
expect_eq "$RC" 0 "without the lease table, the event log rebuilds it"
echo '{"nodes": {"n1": {"state": "bogus"}}}' >"$S/installs.json"
cgi POST 198.18.0.101 "" "node=n1&token=x&phase=started"
expect_match "$RC $STATUS" "Status: 500" "a broken install book: 500, the node retries"
done_testing
