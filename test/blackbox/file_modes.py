#!/usr/bin/env python3
"""Checks the modes of the files the tools wrote against storkit(7)'s FILE MODES section.

Usage: file_modes.py MAN_PAGE NAME=DIR... -- ROOT...
Each entry of the section is a .TP tag of \\fI...\\fR patterns (placeholders such as
<paths.tftp_root> are given as NAME=DIR; ** spans directories, * does not) and a body that
starts with the mode; every path is owned by root unless the entry says "owned by the last
writer". Every file, directory and symlink under each ROOT is matched against the
entries in order; the first match gives the mode it must have (a directory of a "0644 (0755 for
a directory...)" entry must be 0755, a file 0644 or, where the entry allows programs, 0755;
symlinks are not checked). Prints one line per problem, then "checked N paths, E entries used",
and the entries no path matched as "unused: PATTERN". Exits 1 on any problem.
"""
import os
import re
import stat
import sys


def entries(man_path, places):
    text = open(man_path, encoding="utf-8").read()
    section = text.split(".SH FILE MODES", 1)[1].split("\n.SH ", 1)[0]
    out = []
    lines = section.split("\n")
    for i, line in enumerate(lines):
        if line != ".TP":
            continue
        tag, body = lines[i + 1], lines[i + 2]
        mode = re.match(r"(\d{4})", body)
        if not mode:
            sys.exit(f"storkit.7 FILE MODES: entry {tag!r} does not start with a mode")
        dirs_too = "0755 for a directory" in body
        programs = "program" in body.split(")")[0]
        any_owner = "owned by the last writer" in " ".join(lines[i + 2:i + 5])
        for pat in re.findall(r"\\fI(.*?)\\fR", tag):
            pat = pat.replace("\\-", "-")
            for name, where in places.items():
                pat = pat.replace(f"<{name}>", where)
            if "<" in pat:
                continue  # a place this run does not have
            rx = ""
            k = 0
            while k < len(pat):
                if pat.startswith("**", k):
                    rx += ".*"
                    k += 2
                elif pat[k] == "*":
                    rx += "[^/]*"
                    k += 1
                else:
                    rx += re.escape(pat[k])
                    k += 1
            out.append({"pattern": pat, "rx": re.compile(rx + r"\Z"), "mode": int(mode.group(1), 8),
                        "dirs": dirs_too, "programs": programs, "any_owner": any_owner,
                        "used": 0})
    return out


def main():
    args = sys.argv[1:]
    man = args.pop(0)
    split = args.index("--")
    places = dict(a.split("=", 1) for a in args[:split])
    roots = args[split + 1:]
    rules = entries(man, places)
    problems, checked = [], 0
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in [""] + dirnames + filenames:
                path = os.path.join(dirpath, name) if name else dirpath
                if not name and dirpath != root:
                    continue
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    continue
                rule = next((r for r in rules if r["rx"].match(path)), None)
                if rule is None:
                    if path != root:
                        problems.append(f"{path}: no entry of storkit(7) FILE MODES covers it")
                    continue
                rule["used"] += 1
                checked += 1
                mode = stat.S_IMODE(st.st_mode)
                want = {rule["mode"]}
                if stat.S_ISDIR(st.st_mode) and rule["dirs"]:
                    want = {0o755}
                elif rule["programs"] and stat.S_ISREG(st.st_mode):
                    want.add(0o755)
                if mode not in want:
                    problems.append(f"{path}: mode {mode:04o}, storkit(7) says "
                                    f"{' or '.join(f'{w:04o}' for w in sorted(want))} "
                                    f"({rule['pattern']})")
                if st.st_uid != 0 and not rule["any_owner"]:
                    problems.append(f"{path}: owned by uid {st.st_uid}, not root")
    for p in problems:
        print(p)
    print(f"checked {checked} paths, {sum(1 for r in rules if r['used'])} entries used")
    for r in rules:
        if not r["used"]:
            print(f"unused: {r['pattern']}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
