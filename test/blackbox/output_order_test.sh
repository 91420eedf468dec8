#!/usr/bin/env bash
# What each reader gets on stdout, byte for byte, and in which order beside stderr: the web
# server a CGI answer (also on a failure, also with --json), a --json reader one object only, a
# person at a terminal each line where it happened among the diagnostics. pxe_report_test runs
# the CGI behind a real lighttpd, which hides the exact bytes and cannot be made to fail the
# write locally; here the tool gets the CGI variables lighttpd would set.
source "$(dirname "$0")/lib.sh"
plan 19

command -v script >/dev/null || { fail "needs script (util-linux)"; exit 1; }

# tty CMD...: runs CMD on a terminal (stdout and stderr interleaved as a person sees them);
# the lines in $OUT, the exit code in $RC.
tty() {
    script -qefc "$(printf '%q ' "$@")" /dev/null </dev/null >"$T/.tty"
    RC=$?
    OUT=$(tr -d '\r' <"$T/.tty")
}

# --- pxe-report as CGI ----------------------------------------------------------------------
S=$T/state
pxe-report --state-dir "$S" add 52:54:00:12:00:01 198.18.0.101 host1
TOKEN=00112233445566778899aabbccddeeff
cat >"$S/installs.json" <<EOF
{"nodes": {"host1": {"state": "install", "token": "$TOKEN", "mac": "52:54:00:12:00:01",
                     "ip": "198.18.0.101", "boot_files": []}}}
EOF
cgi() { env GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=198.18.0.101 REQUEST_METHOD=GET "$@"; }
answer() { printf 'Status: %s\r\nContent-Type: text/plain\r\n\r\n%s\n' "$1" "$2"; }

run cgi QUERY_STRING="node=host1&token=$TOKEN&phase=installing" pxe-report --state-dir "$S"
expect_eq "$RC" 0 "a phase report exits 0"
expect_eq "$OUT" "$(answer "200 OK" "recorded installing for host1")" \
    "the answer is the status line, the content type and the body"
run cgi QUERY_STRING="node=host1&token=$TOKEN&phase=installing" pxe-report --state-dir "$S" --json
expect_eq "$(head -4 <<<"$OUT")" "$(answer "200 OK" "recorded installing for host1")" \
    "with --json the answer comes first"
expect_eq "$(tail -n +5 <<<"$OUT" | jq -r '.msg')" "host1: phase installing" \
    "then the JSON object"
run cgi QUERY_STRING='phase=Not+Valid' pxe-report --state-dir "$S"
expect_eq "$RC,$OUT" "0,$(answer "400 Bad Request" "refused: phase 'Not Valid': expected lower-case letters, digits, - and _")" \
    "a bad phase gets 400 and says why"
expect_match "$ERR" "^pxe-report: warning: report from 198.18.0.101: refused: phase 'Not Valid'" \
    "and the server's error log gets a warning"

mv "$S/events.jsonl" "$T/events.jsonl"
mkdir "$S/events.jsonl" # the log cannot be read: the report is not recorded
run cgi QUERY_STRING="node=host1&token=$TOKEN&phase=done" pxe-report --state-dir "$S"
expect_eq "$RC" 1 "a report that cannot be recorded fails the run"
expect_eq "$OUT" "$(answer "500 Internal Server Error" "the report could not be recorded")" \
    "and still answers 500"
expect_match "$ERR" "^pxe-report: error: .*events.jsonl" "the error names the file"
run cgi QUERY_STRING="node=host1&token=$TOKEN&phase=done" pxe-report --state-dir "$S" --json
expect_eq "$(head -4 <<<"$OUT")" "$(answer "500 Internal Server Error" "the report could not be recorded")" \
    "with --json the 500 answer comes first"
expect_eq "$(tail -n +5 <<<"$OUT" | jq -r '[.failed, .rc] | join(" ")')" "true 1" \
    "then the failed result as JSON"
tty env GATEWAY_INTERFACE=CGI/1.1 REMOTE_ADDR=198.18.0.101 REQUEST_METHOD=GET \
    QUERY_STRING="node=host1&token=$TOKEN&phase=done" pxe-report --state-dir "$S"
expect_match "$OUT" $'^Status: 500 [^\n]*\nContent-Type: text/plain\n\nthe report could not be recorded\npxe-report: error: ' \
    "on a terminal the answer shows before the error"
rmdir "$S/events.jsonl"
mv "$T/events.jsonl" "$S/events.jsonl"

# --- pxe-report by hand -----------------------------------------------------------------------
run pxe-report --state-dir "$S" -n add 52:54:00:12:00:02 198.18.0.102
expect_match "$OUT" '^would record \{"action":"add",.*"mac":"52:54:00:12:00:02".*\}$' \
    "-n says what it would record, in one line"
run pxe-report --state-dir "$S" -n --json add 52:54:00:12:00:02 198.18.0.102
expect_eq "$(wc -l <<<"$OUT"),$(jq -r .event.mac <<<"$OUT")" "1,52:54:00:12:00:02" \
    "with --json stdout is the JSON object alone"
run pxe-report --state-dir "$S" table
expect_eq "$(head -1 <<<"$OUT")" \
    "NODE         BMC             MAC               DHCP-IP         LEASED               PHASE" \
    "the table's header"
expect_match "$(sed -n 2p <<<"$OUT")" \
    '^-            -               52:54:00:12:00:01 198.18.0.101    [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z installing$' \
    "a row: the lease with its time in UTC and its phase"

# --- bmc-power: lines where they happened ---------------------------------------------------
mkdir -p "$T/repo"
: >"$T/repo/os-1.iso"
printf 'url --url={{repo_url}}\n' >"$T/ks.in"
printf '#!/bin/sh\n' >"$T/hook"
chmod 755 "$T/hook"
(umask 077 && echo secret >"$T/bmc.pw")
cat >"$T/pxe.json" <<JSON
{
  "bmc": {"subnet": "127.0.9.0/24", "user": "admin", "password_file": "$T/bmc.pw"},
  "data": {"subnet": "198.18.7.0/24", "pool": "198.18.7.100-198.18.7.150"},
  "server": {"interface": "lo", "address": "198.18.7.1", "hook": "$T/hook", "user": "nobody"},
  "iso": {"repository": "$T/repo", "version": "os-1"},
  "paths": {"state_dir": "$T/pxe-state"},
  "install": {"template": "$T/ks.in"},
  "nodes": {"node1": {"mac": "52:54:00:12:01:01"}, "node2": {"mac": "52:54:00:12:01:02"}}
}
JSON
tty bmc-power --config "$T/pxe.json" -v status
expect_eq "$RC" 1 "nodes without a BMC address fail the run"
expect_eq "$OUT" "node1: failed: no BMC address
node2: failed: no BMC address
bmc-power: status on 0 BMCs, 64 at a time
bmc-power: error: status: 2 of 2 BMCs failed: node1 (no BMC address), node2 (no BMC address)" \
    "on a terminal each node's line comes before what follows it on stderr"
run bmc-power --config "$T/pxe.json" --json status
expect_eq "$(wc -l <<<"$OUT"),$(jq -r '.bmcs | length' <<<"$OUT")" "1,2" \
    "with --json stdout is the JSON object alone"
done_testing
