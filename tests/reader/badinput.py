#!/usr/bin/env python3
"""Runs golat on bad input and checks that it fails cleanly.

    badinput.py --cli GOLAT --ref REF --work DIR GO_BINARY...

Each input is run as `golat list --json F`, `golat info --json F` and `golat list F`
under `timeout 10`. A refusal must be: exit status 1..123 (124 is timeout's "it hung",
125+ are timeout failures and signals), exactly one line on stderr starting `golat: `,
nothing on stdout. Inputs marked "any" (damage golat may tolerate) may also succeed,
with valid JSON. Nothing may mention a Sanitizer. Inputs of failed cases are kept in
DIR, the others removed (they are megabytes each).
"""
import argparse
import json
import os
import random
import shutil
import stat
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mutate  # noqa: E402

COMMANDS = [["list", "--json"], ["info", "--json"], ["list"]]


def non_go_inputs(work, cli):
    """[(label, path, expect)] of inputs that are not Go binaries at all."""
    d = os.path.join(work, "nongo")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)

    def write(name, data):
        p = os.path.join(d, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    rnd = random.Random(42)
    loop_a, loop_b = os.path.join(d, "loop-a"), os.path.join(d, "loop-b")
    os.symlink(loop_b, loop_a)
    os.symlink(loop_a, loop_b)
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    inputs = [
        ("missing file", os.path.join(d, "no-such-file"), "error"),
        ("directory", d, "error"),
        ("zero-length file", write("empty", b""), "error"),
        ("/dev/null", "/dev/null", "error"),
        ("symlink loop", loop_a, "error"),
        ("text file", write("text", b"#!/bin/sh\necho not a binary\n" * 40), "error"),
        ("random bytes", write("random", bytes(rnd.randrange(256) for _ in range(8192))), "error"),
        ("ELF magic only", write("elfmagic", b"\x7fELF"), "error"),
        ("ELF header of zeros", write("elfzero", b"\x7fELF\x02\x01\x01" + bytes(57)), "error"),
        ("ELF, not Go (the golat command)", cli, "error"),
        # A FIFO with no writer: open(2) blocks unless the reader checks the file type
        # first. Not a file anyone means to pass, but "never a hang" covers it.
        ("FIFO", fifo, "error"),
    ]
    for label, cands in (("ELF, not Go (/bin/true)", ["/bin/true", "/usr/bin/true"]),
                         ("ELF shared library, not Go (libc)",
                          ["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/libc.so.6"])):
        for c in cands:
            if os.path.exists(c):
                inputs.append((label, c, "error"))
                break
    return inputs


def check_one(cli, label, path, expect):
    """Returns a list of problems (empty when golat behaved)."""
    problems = []
    for cmd in COMMANDS:
        argv = ["timeout", "10", cli] + cmd + [path]
        p = subprocess.run(argv, capture_output=True)
        out = p.stdout.decode(errors="replace")
        err = p.stderr.decode(errors="replace")
        shown = f"golat {' '.join(cmd)} <{label}>"
        lines = err.splitlines()
        if "Sanitizer" in err:
            problems.append(f"{shown}: sanitizer report:\n{err[:1500]}")
            continue
        if p.returncode == 124:
            problems.append(f"{shown}: hung (killed after 10 s)")
            continue
        if p.returncode < 0 or p.returncode >= 125:
            problems.append(f"{shown}: exit status {p.returncode} (a signal?); stderr {err[:300]!r}")
            continue
        if p.returncode == 0:
            if expect == "error":
                problems.append(f"{shown}: succeeded, must refuse; stdout {out[:200]!r}")
            elif "--json" in cmd:
                try:
                    json.loads(out)
                except json.JSONDecodeError as e:
                    problems.append(f"{shown}: succeeded with invalid JSON ({e}): {out[:200]!r}")
            continue
        if len(lines) != 1 or not lines[0].startswith("golat: "):
            problems.append(f"{shown}: exit {p.returncode}, stderr must be one `golat: ` line, "
                            f"got {len(lines)}: {err[:400]!r}")
        if out:
            problems.append(f"{shown}: exit {p.returncode} but printed {out[:200]!r}")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--ref", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("binaries", nargs="+")
    a = ap.parse_args()
    failed = 0
    cases = 0
    for label, path, expect in non_go_inputs(a.work, a.cli):
        problems = check_one(a.cli, label, path, expect)
        cases += 1
        failed += bool(problems)
        print(("FAIL " if problems else "ok   ") + label)
        for pr in problems:
            print("     " + pr)
    # Good binaries must of course be read (otherwise "refuses everything" would pass).
    for path in a.binaries:
        for cmd in COMMANDS:
            p = subprocess.run(["timeout", "60", a.cli] + cmd + [path], capture_output=True)
            if p.returncode != 0:
                failed += 1
                print(f"FAIL undamaged {os.path.basename(path)}: golat {' '.join(cmd)} exited "
                      f"{p.returncode}: {p.stderr.decode(errors='replace')[:300]}")
    mdir = os.path.join(a.work, "damaged")
    shutil.rmtree(mdir, ignore_errors=True)
    os.makedirs(mdir)
    for path in a.binaries:
        for suffix, expect, blob in mutate.mutations(path, a.ref):
            dst = os.path.join(mdir, f"{os.path.basename(path)}.{suffix}")
            with open(dst, "wb") as f:
                f.write(blob)
            os.chmod(dst, stat.S_IRWXU)
            label = f"{os.path.basename(path)}.{suffix} ({expect})"
            problems = check_one(a.cli, label, dst, expect)
            cases += 1
            failed += bool(problems)
            print(("FAIL " if problems else "ok   ") + label, flush=True)
            for pr in problems:
                print("     " + pr)
            if not problems:
                os.remove(dst)
    print(f"badinput: {cases} inputs x {len(COMMANDS)} commands, {failed} failed"
          + (f" (failing inputs kept in {mdir})" if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
