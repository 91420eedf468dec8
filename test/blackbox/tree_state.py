#!/usr/bin/env python3
"""What a directory tree that storkit writes holds, for the crash tests.

  tree_state.py snap DIR OUT         a digest of every file and symlink under DIR (OUT, JSON)
  tree_state.py between OLD NEW CUR  every path of CUR holds OLD's or NEW's version (or is
                                     absent where one of them lacks it); prints each that does not
  tree_state.py same WANT CUR        CUR equals WANT; prints each difference
  tree_state.py temps DIR            temp files (.NAME.tmp.PID[.XXXXXX]) under DIR: "MODE PATH"
  tree_state.py tokens STATE         each kickstart in STATE/ks carries its node's token from
                                     STATE/installs.json; prints each that does not

Digests leave out what differs between two clean runs by design: the random report token of a
node (kept in installs.json and written into its kickstart) and the time a node's state began.
A state file that does not parse as JSON gets the digest "torn", which no clean run produces.
Lock files and the file-set manifest (stat figures of the files) are left out.
"""
import hashlib
import json
import os
import re
import stat
import sys

TEMP = re.compile(r"^\..+\.tmp\.[0-9]+(\.[A-Za-z0-9]{6})?$")
TOKEN = re.compile(rb"token=[0-9a-f]+")


def digest(path, rel):
    with open(path, "rb") as f:
        data = f.read()
    if rel.endswith(".json"):
        try:
            doc = json.loads(data)
        except ValueError:
            return "torn"
        if rel.endswith("installs.json"):
            for node in doc.get("nodes", {}).values():
                node.pop("since", None)
                node.pop("token", None)
        data = json.dumps(doc, sort_keys=True).encode()
    elif "/ks/" in rel:
        data = TOKEN.sub(b"token=T", data)
    return hashlib.sha256(data).hexdigest()[:20]


def snap(root):
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if TEMP.match(name) or name.endswith("lock") or name == "files.manifest":
                continue
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = "link:" + os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                out[rel] = digest(path, rel)
    return out


def temps(root):
    found = []
    for dirpath, dirs, files in os.walk(root):
        for name in files + dirs:
            if TEMP.match(name):
                path = os.path.join(dirpath, name)
                found.append((stat.S_IMODE(os.lstat(path).st_mode), path))
    return sorted(found)


def load(path):
    with open(path) as f:
        return json.load(f)


def main(argv):
    cmd = argv[1]
    if cmd == "snap":
        with open(argv[3], "w") as f:
            json.dump(snap(argv[2]), f)
        return 0
    if cmd == "temps":
        for mode, path in temps(argv[2]):
            print(f"{mode:04o} {path}")
        return 0
    if cmd == "tokens":
        book = load(os.path.join(argv[2], "installs.json"))["nodes"]
        bad = 0
        ks = os.path.join(argv[2], "ks")
        for name in sorted(n for n in os.listdir(ks) if not n.startswith(".")):
            node = name[:-4]
            with open(os.path.join(ks, name), "rb") as f:
                seen = set(TOKEN.findall(f.read()))
            want = {b"token=" + book.get(node, {}).get("token", "").encode()}
            if seen != want:
                print(f"{name}: tokens {sorted(seen)}, installs.json has {sorted(want)}")
                bad += 1
        return 1 if bad else 0
    if cmd == "between":
        old, new, cur = load(argv[2]), load(argv[3]), load(argv[4])
        bad = 0
        for path in sorted(set(old) | set(new) | set(cur)):
            if cur.get(path) not in (old.get(path), new.get(path)):
                print(f"{path}: {cur.get(path)} is neither the old {old.get(path)} nor the new "
                      f"{new.get(path)}")
                bad += 1
        return 1 if bad else 0
    if cmd == "same":
        want, cur = load(argv[2]), load(argv[3])
        bad = 0
        for path in sorted(set(want) | set(cur)):
            if want.get(path) != cur.get(path):
                print(f"{path}: {cur.get(path)}, a clean run gives {want.get(path)}")
                bad += 1
        return 1 if bad else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
