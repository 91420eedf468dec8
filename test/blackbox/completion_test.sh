#!/usr/bin/env bash
# Bash completion, as the build writes it for each tool (build/completion/TOOL, from the tool's
# own option parser), loaded into bash and asked as bash asks it at a TAB: every subcommand
# and every option --help lists completes, and so do the words of a choice, and file names
# after an option that takes a file.
source "$(dirname "$0")/lib.sh"
DIR=$STORKIT_BIN/../completion
# One check per tool, one more per tool with subcommands, and eight on particular words.
ntools=0 nsubs=0
for tool in "$STORKIT_SRC"/tools/*.cc; do
    ntools=$((ntools + 1))
    "$STORKIT_BIN/$(basename "$tool" .cc)" --help | grep -q '^Subcommands:' && nsubs=$((nsubs + 1))
done
plan $((ntools + nsubs + 8))
# complete TOOL WORD...: what bash offers for the last WORD after TOOL WORD...
complete_words() {
    local tool=$1
    shift
    bash -c '
        source "$1"
        shift
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        fn=$(complete -p "$1" | sed "s/.*-F \([^ ]*\) .*/\1/")
        "$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        [ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$DIR/$tool" "$tool" "$@"
}

for tool in "$STORKIT_SRC"/tools/*.cc; do
    name=$(basename "$tool" .cc)
    help=$("$STORKIT_BIN/$name" --help)
    subs=$(awk '/^Subcommands:/{s=1;next} s&&/^  [a-z]/{print $1} s&&/^$/{s=0}' <<<"$help")
    opts=$(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$help" | grep -vx -- '--help' | sort -u)
    offered=$(complete_words "$name" "")
    missing=""
    for w in $subs $opts; do grep -qxF -- "$w" <<<"$offered" || missing+=" $w"; done
    expect_eq "$missing" "" "$name: every subcommand and option of --help completes"
    [ -n "$subs" ] || continue
    for sub in $subs; do
        sopts=$("$STORKIT_BIN/$name" "$sub" --help | grep -oE -- '--[a-z][a-z0-9-]*' | grep -vx -- '--help' | sort -u)
        got=$(complete_words "$name" "$sub" --)
        missing=""
        for w in $sopts; do grep -qxF -- "$w" <<<"$got" || missing+=" $w"; done
        [ -z "$missing" ] || { fail "$name $sub: its options complete" "missing:$missing"; continue 2; }
    done
    pass "$name: each subcommand's options complete after it"
done

expect_eq "$(complete_words pxe-provision re | tr '\n' ' ')" "reinstall " "pxe-provision re<TAB>: reinstall"
expect_eq "$(complete_words pxe-provision boot --f | tr '\n' ' ')" "--force " \
    "pxe-provision boot --f<TAB>: --force"
expect_eq "$(complete_words bmc-power pxe | tr '\n' ' ')" "pxe pxe-boot " "bmc-power pxe<TAB>: the two PXE actions"
touch "$T/pw.secret"
expect_eq "$(complete_words bmc-power --password-file "$T/pw" | tr '\n' ' ')" "$T/pw.secret " \
    "a file name after --password-file"
expect_eq "$(complete_words bmc-power --hosts "" | tr '\n' ' ')" "" "nothing to offer after --hosts"
expect_eq "$(complete_words mgmtvm-status --js | tr '\n' ' ')" "--json " "a common option"
expect_eq "$("$STORKIT_BIN/pxe-monitor" --bash-completion | cmp - "$DIR/pxe-monitor" && echo same)" same \
    "the file the build wrote is what the tool prints"
expect_eq "$(grep -c -- '--bash-completion' <<<"$("$STORKIT_BIN/pxe-monitor" --help)")" 0 \
    "--bash-completion is not in --help"

done_testing
