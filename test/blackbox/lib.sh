# Shared by every black-box test (test/blackbox/*_test.sh): a scratch directory removed at
# exit, clean-up hooks, and checks that count results. A test declares how many checks it runs
# (`plan N`) and ends with `done_testing`. The run ends with the line "N passed, N failed" and
# exits 0 only when every check passed, exactly the planned number ran, and the script reached
# done_testing: an abort part-way (an unbound variable, a bare `exit`, a crash) fails the test.
# `skip_all REASON` exits 77, which CTest reports as skipped.
set -u
: "${STORKIT_BIN:?set STORKIT_BIN to the bin directory of a build}"
: "${STORKIT_SRC:?set STORKIT_SRC to the source tree}"
export PATH="$STORKIT_BIN:$PATH"

T=$(mktemp -d /tmp/storkit-test.XXXXXX)
chmod 755 "$T"
_passed=0
_failed=0
_planned=""
_complete=0
_skipped=0
_cleanups=()

# plan N: the test runs exactly N checks.
plan() { _planned=$1; }
# done_testing: the last line of every test; reaching it is what makes a run complete.
done_testing() {
    _complete=1
    exit 0
}
# skip_all REASON: the test cannot run here (CTest shows it as skipped, never as passed).
skip_all() {
    echo "skipped: $1"
    _skipped=1
    exit 77
}

# at_exit CMD...: run CMD when the test ends (last registered runs first).
at_exit() { _cleanups+=("$*"); }

_finish() {
    local rc=$1 i ran
    for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[i]}" >/dev/null 2>&1 || true; done
    [ -n "${STORKIT_KEEP:-}" ] && echo "kept $T" >&2 || rm -rf "$T"
    [ "$_skipped" = 1 ] && return 77
    ran=$((_passed + _failed))
    if [ "$_complete" != 1 ]; then
        fail "the test ran to its end" "it stopped after $ran checks (exit $rc) before done_testing"
    elif [ -z "$_planned" ]; then
        fail "the test states its plan" "no 'plan N' line"
    elif [ "$ran" != "$_planned" ]; then
        fail "the test ran its plan" "$ran checks ran, $_planned planned"
    fi
    echo "$_passed passed, $_failed failed"
    [ "$_failed" -eq 0 ]
}
trap '_finish $?; exit $?' EXIT
trap 'exit 130' INT TERM

pass() { _passed=$((_passed + 1)); echo "ok - $1"; }
fail() { _failed=$((_failed + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && echo "    $2"; return 0; }

# run CMD...: runs CMD, stdout in $OUT, stderr in $ERR, exit code in $RC.
run() {
    "$@" >"$T/.out" 2>"$T/.err"
    RC=$?
    OUT=$(cat "$T/.out")
    ERR=$(cat "$T/.err")
}

# expect_rc WANT NAME CMD...: runs CMD and checks its exit code.
expect_rc() {
    local want=$1 name=$2
    shift 2
    run "$@"
    if [ "$RC" = "$want" ]; then pass "$name"; else fail "$name" "exit $RC, expected $want; stderr: $ERR"; fi
}

# expect_eq GOT WANT NAME
expect_eq() {
    if [ "$1" = "$2" ]; then pass "$3"; else fail "$3" "got '$1', expected '$2'"; fi
}

# expect_match TEXT REGEX NAME
expect_match() {
    if [[ $1 =~ $2 ]]; then pass "$3"; else fail "$3" "'$1' does not match /$2/"; fi
}

# json FILTER: applies a jq filter to $OUT.
json() { jq -r "$1" <<<"$OUT"; }
