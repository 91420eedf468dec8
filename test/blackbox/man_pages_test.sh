#!/usr/bin/env bash
# Every tool has a man page, and every option its --help lists is documented there.
source "$(dirname "$0")/lib.sh"
plan 87

for tool in "$STORKIT_SRC"/tools/*.cc; do
    name=$(basename "$tool" .cc)
    page=$STORKIT_SRC/man/$name.1
    if [ ! -f "$page" ]; then
        fail "$name has a man page" "missing $page"
        continue
    fi
    pass "$name has a man page"
    # roff writes "-" as "\-"; compare plain text.
    text=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$page")
    run "$STORKIT_BIN/$name" --help
    expect_eq "$RC" 0 "$name --help exits 0"
    # Subcommands' options too: "--help" of each listed subcommand.
    helps=$OUT
    for sub in $(awk '/^Subcommands:/{s=1;next} s&&/^  [a-z]/{print $1} s&&/^$/{s=0}' <<<"$OUT"); do
        helps+=$'\n'$("$STORKIT_BIN/$name" "$sub" --help 2>/dev/null)
        grep -qw -- "$sub" <<<"$text" && pass "$name: subcommand $sub documented" ||
            fail "$name: subcommand $sub documented"
    done
    for opt in $(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$helps" | sort -u); do
        grep -qF -- "$opt" <<<"$text" && pass "$name: $opt documented" ||
            fail "$name: $opt documented" "$page does not mention $opt"
    done
done
done_testing
