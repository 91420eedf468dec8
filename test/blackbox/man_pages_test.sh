#!/usr/bin/env bash
# Every tool has a man page; every option its --help lists is documented there, and every option
# the page's OPTIONS section lists is in --help; a list of choices in --help is the list of items
# the page describes. Every page refers to storkit(7), the shared conventions, which names every
# tool.
source "$(dirname "$0")/lib.sh"
plan 167

for tool in "$STORKIT_SRC"/tools/*.cc; do
    name=$(basename "$tool" .cc)
    page=$STORKIT_SRC/man/$name.1
    if [ ! -f "$page" ]; then
        fail "$name has a man page" "missing $page"
        continue
    fi
    pass "$name has a man page"
    grep -q '^\.BR storkit (7)' "$page" && pass "$name's page refers to storkit(7)" ||
        fail "$name's page refers to storkit(7)"
    grep -qF "fB$(sed 's/-/\\-/g' <<<"$name")\fR(1)" "$STORKIT_SRC/man/storkit.7" &&
        pass "storkit(7) names $name" || fail "storkit(7) names $name"
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
    # A positional argument that takes one of a list ("status|on|...|discover"): the list in
    # --help and the items (.TP then .B NAME) of the page's DESCRIPTION are the same words.
    choices=$(awk '/^Positionals:/{p=1;next} p&&/^  [a-z]/{print $NF} p&&/^$/{p=0}' <<<"$OUT" |
        grep '|' | tr '|' '\n' | sort)
    if [ -n "$choices" ]; then
        items=$(awk '/^\.SH/{d=($0==".SH DESCRIPTION")} d&&prev==".TP"&&/^\.B /{print $2} {prev=$0}' \
            "$page" | sed 's/\\-/-/g' | sort)
        expect_eq "$items" "$choices" "$name: the choices in --help are the items of DESCRIPTION"
    fi
    for opt in $(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$helps" | sort -u); do
        grep -qF -- "$opt" <<<"$text" && pass "$name: $opt documented" ||
            fail "$name: $opt documented" "$page does not mention $opt"
    done
    # And back: every option an item of the page's OPTIONS section names (the tag line after
    # .TP) is an option of the tool or of one of its subcommands.
    options='(^|[ ,])--?[a-zA-Z][a-zA-Z0-9-]*'
    known=$(grep -oE -- "$options" <<<"$helps" | sed 's/^[ ,]//' | sort -u)
    listed=$(awk '/^\.SH/{o=($0==".SH OPTIONS")} o&&prev==".TP"{print} {prev=$0}' "$page" |
        sed 's/\\-/-/g; s/\\f[BIRP]//g; s/^\.B //' | grep -oE -- "$options" | sed 's/^[ ,]//' | sort -u)
    missing=
    for opt in $listed; do grep -qxF -- "$opt" <<<"$known" || missing="$missing $opt"; done
    if [ -z "$listed" ]; then
        fail "$name: every option the page lists is in --help" "no option items in $page"
    elif [ -n "$missing" ]; then
        fail "$name: every option the page lists is in --help" "$page lists$missing; no --help has"
    else
        pass "$name: every option the page lists is in --help"
    fi
done
done_testing
