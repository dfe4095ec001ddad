#!/usr/bin/env python3
"""The executable's code as a running process has it, read through /proc/PID/mem:
every mapping of the executable file with execute permission, adjacent ones joined
(making a page writable to patch it leaves it a mapping of its own: the kernel keeps
VM_ACCOUNT on it, mm/mprotect.c, so the same bytes may come in more pieces).

  text.py save PID OUT   writes it to OUT
  text.py same PID REF   exits 0 when it is byte for byte REF, else 1 saying where it differs
"""
import os
import pickle
import sys


def text(pid):
    exe = os.readlink(f"/proc/{pid}/exe")
    spans = []
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for line in maps:
            parts = line.split(maxsplit=5)
            if len(parts) < 6 or "x" not in parts[1] or parts[5].strip() != exe:
                continue
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            mem.seek(lo)
            code = mem.read(hi - lo)
            if spans and spans[-1][1] == lo:
                spans[-1] = (spans[-1][0], hi, spans[-1][2] + code)
            else:
                spans.append((lo, hi, code))
    if not spans:
        sys.exit(f"FAIL: no executable mapping of {exe} in pid {pid}")
    return spans


def main():
    cmd, pid, path = sys.argv[1], sys.argv[2], sys.argv[3]
    now = text(pid)
    if cmd == "save":
        with open(path, "wb") as f:
            pickle.dump(now, f)
        print(f"{sum(hi - lo for lo, hi, _ in now)} bytes of text in {len(now)} mapping(s)")
        return
    with open(path, "rb") as f:
        ref = pickle.load(f)
    if [(lo, hi) for lo, hi, _ in ref] != [(lo, hi) for lo, hi, _ in now]:
        sys.exit(f"the text mappings moved: {[(hex(a), hex(b)) for a, b, _ in now]}")
    for (lo, _, a), (_, _, b) in zip(ref, now):
        if a != b:
            diff = [i for i in range(len(a)) if a[i] != b[i]]
            sys.exit(f"{len(diff)} bytes differ, the first at {hex(lo + diff[0])}: "
                     f"{a[diff[0]:diff[0] + 8].hex()} then, {b[diff[0]:diff[0] + 8].hex()} now")
    print("the text is byte for byte as before")


main()
