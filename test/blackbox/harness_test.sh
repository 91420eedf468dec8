#!/usr/bin/env bash
# The black-box harness itself (lib.sh): a test that aborts part-way, exits early, runs more or
# fewer checks than it planned, or has a failing check never passes.
source "$(dirname "$0")/lib.sh"
plan 14

# child NAME BODY: runs a test script whose checks are BODY, in a scratch directory.
child() {
    mkdir -p "$T/c"
    { echo "source '$STORKIT_SRC/test/blackbox/lib.sh'"; echo "$2"; } >"$T/c/$1_test.sh"
    run bash "$T/c/$1_test.sh"
}

child ok $'plan 2\npass a\npass b\ndone_testing'
expect_eq "$RC:$(tail -n1 <<<"$OUT")" "0:2 passed, 0 failed" "a complete run of its plan passes"
child unbound $'plan 2\necho "scratch=$T"\npass a\necho "$no_such_variable"\npass b\ndone_testing'
expect_eq "$RC" 1 "an unbound variable fails the test"
expect_match "$OUT" "stopped after 1 checks" "and says where it stopped"
scratch=$(sed -n 's/^scratch=//p' <<<"$OUT")
[ -n "$scratch" ] && [ ! -e "$scratch" ] && pass "an aborted test still removes its scratch directory" ||
    fail "an aborted test still removes its scratch directory" "'$scratch' is left"
child bare_exit $'plan 2\npass a\nexit 1\npass b\ndone_testing'
expect_eq "$RC" 1 "a bare exit 1 fails the test"
child early_exit $'plan 2\npass a\nexit 0\npass b\ndone_testing'
expect_eq "$RC" 1 "an exit 0 before done_testing fails the test"
child crash $'plan 2\npass a\nkill -SEGV $$\npass b\ndone_testing'
[ "$RC" -ne 0 ] && pass "a crash fails the test" || fail "a crash fails the test" "exit $RC"
child fewer $'plan 3\npass a\npass b\ndone_testing'
expect_eq "$RC" 1 "fewer checks than planned fail the test"
expect_match "$OUT" "2 checks ran, 3 planned" "and says so"
child more $'plan 1\npass a\npass b\ndone_testing'
expect_eq "$RC" 1 "more checks than planned fail the test"
child noplan $'pass a\ndone_testing'
expect_eq "$RC" 1 "a test without a plan fails"
child failing $'plan 2\npass a\nfail b\ndone_testing'
expect_eq "$RC:$(tail -n1 <<<"$OUT")" "1:1 passed, 1 failed" "a failed check fails the test"
child skipped $'plan 2\nskip_all "no widget here"\npass a\ndone_testing'
expect_eq "$RC" 77 "skip_all exits 77 (CTest: skipped)"
expect_match "$OUT" "skipped: no widget here" "and says why"
done_testing
