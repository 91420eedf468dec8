#!/usr/bin/env bash
# Library code never writes to stdout: a tool's output goes through its Report, which only the
# runner (lib/core/runner.cc) prints, so --json, silence on success and --syslog hold for every
# tool. This fails, naming file and line, when code under lib/ writes to stdout by itself.
# Usage: lib_no_stdout_test.sh [SOURCE_TREE]   (default: $STORKIT_SRC)
set -u
SRC=${1:-${STORKIT_SRC:?give the source tree, or set STORKIT_SRC}}
RUNNER=lib/core/runner.cc

# What writes to stdout in C++, looked for in code with its comments removed.
WRITES='\b(std::)?w?cout\b|(^|[^[:alnum:]_])v?printf[[:space:]]*\(|(^|[^[:alnum:]_])(puts|putchar)[[:space:]]*\(|fmt::print[[:space:]]*\(|\bstdout\b|\bwrite[[:space:]]*\([[:space:]]*(1|STDOUT_FILENO)[[:space:]]*,'

# writers DIR: "path:line: code" for every line of a C++ file under DIR (paths relative to DIR)
# that writes to stdout, the runner excepted.
writers() {
    local dir=$1 f
    (cd "$dir" && find lib -type f \( -name '*.cc' -o -name '*.h' -o -name '*.cpp' -o -name '*.hpp' \) |
        sort) | while read -r f; do
        [ "$f" = "$RUNNER" ] && continue
        sed -E 's://.*$::; s:/\*([^*]|\*+[^*/])*\*+/::g' "$dir/$f" | grep -nE "$WRITES" | sed "s|^|$f:|"
    done
}

passed=0 failed=0
check() { # check NAME GOT WANT
    if [ "$2" = "$3" ]; then
        passed=$((passed + 1)) && echo "ok - $1"
    else
        failed=$((failed + 1)) && echo "not ok - $1" && echo "$2" | sed 's/^/    /'
    fi
}

# The check itself must be able to fail: every way of writing below is caught, and none of the
# look-alikes is.
T=$(mktemp -d /tmp/storkit-lint.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/lib/x" "$T/lib/core"
cat >"$T/lib/x/bad.cc" <<'CODE'
    std::cout << "x\n";
    if (v) std::cout << report.msg << std::endl;
    cout << x;
    std::wcout << L"x";
    printf("%d\n", n);
    std::printf("%d\n", n);
    ::puts("x");
    putchar('\n');
    fmt::print("{}\n", x);
    fmt::print(stdout, "{}\n", x);
    fprintf(stdout, "x");
    std::fputs(s, stdout);
    fwrite(buf, 1, n, stdout);
    ::write(STDOUT_FILENO, buf, n);
    (void)!::write(1, buf, n);
CODE
cat >"$T/lib/x/good.cc" <<'CODE'
    // std::cout << "a comment is no output";
    report.line("printed by the runner");  // not std::cout
    snprintf(buf, sizeof buf, "%d", n); /* printf("x") */
    fprintf(stderr, "x");
    std::string s = fmt::format("{}", x);
    bool tty = ::isatty(STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out.w, 1);
    ::write(fd, buf, n);
    std::string stdout_text; std::string output = cout_like;
CODE
printf '    std::cout << report.text;\n' >"$T/lib/core/runner.cc"
check "every way of writing to stdout is caught" "$(writers "$T" | grep -c '^lib/x/bad.cc:')" \
    "$(wc -l <"$T/lib/x/bad.cc")"
check "comments, stderr, formatting and isatty are not" "$(writers "$T" | grep -v '^lib/x/bad.cc:')" ""

n=$(find "$SRC/lib" -type f \( -name '*.cc' -o -name '*.h' \) 2>/dev/null | wc -l)
check "there is a library to look at ($n files under $SRC/lib)" "$([ "$n" -gt 0 ] && echo yes)" yes
check "no library file but $RUNNER writes to stdout" "$(writers "$SRC")" ""

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
