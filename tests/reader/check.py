#!/usr/bin/env python3
"""Compares `golat list --json` and `golat info --json` with the reference (ref/) on the
builds of prog/ that compare.sh made for one Go toolchain.

    check.py --cli GOLAT --ref REF --go GO --work DIR VARIANT...

A variant is a file DIR/prog.VARIANT. Its name says what it is a copy of:
  BASE        a build with symbols and DWARF (exe, pie, static, xstatic): ref reads it
              with symbols, which is independent evidence;
  BASE.strip  `strip` of BASE: code does not move, so golat on it must print what ref
              prints on BASE (and the g offsets ref read from BASE's DWARF);
  BASE.sw     BASE rebuilt with -ldflags='-s -w': nothing but the binary itself, so ref
              reads it with its scan path (a second implementation of golat's idea, made
              trustworthy by the self-check below), and its (name, size) pairs must equal
              BASE's, read with symbols.
Self-check of the reference: on every BASE, ref's scan path must agree with its symbol
path. Prints one line per variant with the number of functions compared; on a mismatch,
a readable diff of the first differences. Exit status 1 if anything failed.
"""
import argparse
import bisect
import collections
import fnmatch
import json
import os
import re
import struct
import subprocess
import sys

FAILED = []
MAX_DIFF = 12


def fail(where, msg):
    FAILED.append(where)
    print(f"FAIL {where}: {msg}")


def run(cmd, timeout=180):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           errors="replace")
    except subprocess.TimeoutExpired:
        return None, "", f"timed out after {timeout} s"
    return p.returncode, p.stdout, p.stderr


def run_json(where, cmd):
    """Runs cmd, which must exit 0 and print JSON; returns it or None (after a FAIL)."""
    rc, out, err = run(cmd)
    shown = " ".join(os.path.basename(c) if os.path.isabs(c) else c for c in cmd)
    if rc != 0:
        fail(where, f"`{shown}` exited {rc}: {err.strip()[:400]}")
        return None
    if "Sanitizer" in err or "runtime error" in err:
        fail(where, f"`{shown}` reported: {err.strip()[:400]}")
    try:
        return json.loads(out)
    except json.JSONDecodeError as e:
        fail(where, f"`{shown}` printed invalid JSON ({e}): {out[:200]!r}")
        return None


def hexint(v):
    """A link-time address as the contract writes it: a "0x..." string."""
    if isinstance(v, str) and re.fullmatch(r"0x[0-9a-f]+", v):
        return int(v, 16)
    raise ValueError(f"{v!r} is not a lower-case 0x hex string")


# ---------------------------------------------------------------------------- list

def func_tuples(where, arr):
    """(entry, end, name) of a `list --json` array, checking its shape and order."""
    if not isinstance(arr, list):
        fail(where, f"list output is a {type(arr).__name__}, not an array")
        return None
    out = []
    for i, f in enumerate(arr):
        try:
            out.append((hexint(f["entry"]), hexint(f["end"]), f["name"]))
        except (KeyError, TypeError, ValueError) as e:
            fail(where, f"element {i} {str(f)[:120]}: {e}")
            return None
    for i in range(1, len(out)):
        if out[i][0] < out[i - 1][0]:
            fail(where, f"not in entry order: {fmt(out[i-1])} before {fmt(out[i])}")
            break
    return out


def fmt(t):
    return f"{t[0]:#x}-{t[1]:#x} {t[2]}"


def diff_funcs(where, got, want, what="ref"):
    """Multiset comparison of (entry, end, name); names are not unique (ABI wrappers)."""
    g, w = collections.Counter(got), collections.Counter(want)
    if g == w:
        return True
    missing = sorted((w - g).elements())
    extra = sorted((g - w).elements())
    msg = [f"golat has {len(got)} functions, {what} {len(want)}; "
           f"{len(missing)} missing from golat, {len(extra)} not in {what}"]
    if len(got) == len(want):
        # A systematic error (wrong text start) shows as one constant shift.
        shifts = {a[0] - b[0] for a, b in zip(sorted(got), sorted(want))}
        if len(shifts) == 1 and 0 not in shifts:
            msg.append(f"every entry is off by {shifts.pop():+#x} (text start?)")
    # Pair up same-name differences: usually a wrong end or entry.
    by_name = {}
    for t in missing:
        by_name.setdefault(t[2], []).append(t)
    shown = 0
    for t in extra:
        if shown >= MAX_DIFF:
            break
        if by_name.get(t[2]):
            m = by_name[t[2]].pop(0)
            msg.append(f"  {t[2]}: golat {t[0]:#x}-{t[1]:#x}, {what} {m[0]:#x}-{m[1]:#x}")
            shown += 1
    left_missing = [t for v in by_name.values() for t in v]
    paired = {t[2] for t in extra} & {t[2] for t in missing}
    for t in sorted(left_missing)[:MAX_DIFF]:
        msg.append(f"  only in {what}: {fmt(t)}")
    for t in [t for t in extra if t[2] not in paired][:MAX_DIFF]:
        msg.append(f"  only in golat: {fmt(t)}")
    fail(where, "\n".join(msg))
    return False


# ---------------------------------------------------------------------------- ELF bits

class Elf:
    """Just enough ELF64 to read a word at a link-time address and the section names."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        self.type = struct.unpack_from("<H", d, 16)[0]
        phoff, shoff = struct.unpack_from("<QQ", d, 32)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", d, 54)
        self.loads = []
        self.interp = False
        for i in range(phnum):
            p_type, _, p_off, p_vaddr, _, p_filesz = struct.unpack_from(
                "<IIQQQQ", d, phoff + i * phentsize)
            if p_type == 1:
                self.loads.append((p_vaddr, p_off, p_filesz))
            elif p_type == 3:
                self.interp = True
        self.sections = {}
        if shoff and shnum and shstrndx < shnum:
            strtab_off = struct.unpack_from("<Q", d, shoff + shstrndx * shentsize + 24)[0]
            for i in range(shnum):
                name, _, _, addr, off, size = struct.unpack_from(
                    "<IIQQQQ", d, shoff + i * shentsize)
                end = d.index(b"\0", strtab_off + name)
                self.sections[d[strtab_off + name:end].decode()] = (addr, off, size)

    def u64(self, addr):
        for vaddr, off, size in self.loads:
            if vaddr <= addr and addr + 8 <= vaddr + size:
                return struct.unpack_from("<Q", self.data, off + addr - vaddr)[0]
        return None


def s64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


FS_RE = re.compile(r"%fs:(?:(-?0x[0-9a-f]+)|\((%\w+)\))")
IMM_RE = re.compile(r"\bmov[lq]?\s+\$(0x[0-9a-f]+),(%\w+)")
GOT_RE = re.compile(r"\bmov[q]?\s+[-0-9a-fx]*\(%rip\),(%\w+)\s+#\s*([0-9a-f]+)")


def objdump_gtls(path, funcs):
    """The g displacements of the runtime's own %fs: accesses, from `objdump -d`.

    funcs is ref's function list for this code (sorted by entry), used to keep only
    accesses inside runtime.* functions (C code linked in has TLS of its own).
    Forms: `mov %fs:0xfffffffffffffff8,%r14` (exe); in PIE the linker relaxes the
    initial-exec access to `mov $-8,%rcx; mov %fs:(%rcx),...`, or keeps a GOT load
    `mov X(%rip),%rcx` whose word holds the offset. Returns a Counter of offsets."""
    elf = Elf(path)
    entries = [f[0] for f in funcs]
    rc, out, err = run(["objdump", "-d", "-w", "--no-show-raw-insn", path], timeout=300)
    if rc != 0:
        return None, f"objdump failed: {err.strip()[:200]}"
    found = collections.Counter()
    prev = collections.deque(maxlen=6)
    for line in out.splitlines():
        m = FS_RE.search(line) if "%fs:" in line else None
        if m:
            addr = int(line.split(":", 1)[0].strip() or "0", 16)
            i = bisect.bisect_right(entries, addr) - 1
            if i >= 0 and funcs[i][0] <= addr < funcs[i][1] and funcs[i][2].startswith("runtime."):
                disp = None
                if m.group(1):
                    disp = s64(int(m.group(1), 16) & ((1 << 64) - 1))
                    if disp == 0:
                        disp = None  # %fs:0 is the TCB self-pointer, not g
                else:
                    reg = m.group(2)
                    for p in reversed(prev):
                        im = IMM_RE.search(p)
                        if im and im.group(2) == reg:
                            disp = s64(int(im.group(1), 16))  # imm32, sign-extended
                            break
                        gm = GOT_RE.search(p)
                        if gm and gm.group(1) == reg:
                            w = elf.u64(int(gm.group(2), 16))
                            disp = s64(w) if w is not None else None
                            break
                if disp is not None:
                    found[disp] += 1
        prev.append(line)
    return found, None


# ---------------------------------------------------------------------------- checks

class Ctx:
    def __init__(self, a):
        self.cli, self.ref, self.go, self.work = a.cli, a.ref, a.go, a.work
        self.pcline = a.pcline
        rc, out, _ = run([self.go, "version"])
        m = re.search(r"go version (go\S+)", out or "")
        self.goversion = m.group(1) if m else "?"
        self.tag = self.goversion
        self.cache = {}

    def path(self, v):
        return os.path.join(self.work, "prog." + v)

    def ref_json(self, cmd, v, scan=False):
        key = (cmd, v, scan)
        if key not in self.cache:
            args = [self.ref, cmd] + (["-scan"] if scan else []) + [self.path(v)]
            self.cache[key] = run_json(f"{self.tag} {v} (ref)", args)
        return self.cache[key]

    def ref_funcs(self, v, scan=False):
        arr = self.ref_json("list", v, scan)
        return None if arr is None else func_tuples(f"{self.tag} {v} (ref)", arr)


def check_ref_self(ctx, base):
    """ref's scan path (used for -s -w builds) must agree with its symbol path."""
    where = f"{ctx.tag} {base} ref self-check"
    a, b = ctx.ref_funcs(base), ctx.ref_funcs(base, scan=True)
    ia, ib = ctx.ref_json("info", base), ctx.ref_json("info", base, scan=True)
    if None in (a, b, ia, ib):
        return
    if a != b:
        diff_funcs(where, b, a, "ref symbols")
    for k in ("pclntab", "text", "nfuncs", "pclntab_magic"):
        if ia[k] != ib[k]:
            fail(where, f"{k}: symbols {ia[k]}, scan {ib[k]}")


def check_list(ctx, v):
    base, _, kind = v.partition(".")
    where = f"{ctx.tag} {v} list"
    # With symbols: the build itself; a strip copy: its original; -s -w: only the scan.
    want = ctx.ref_funcs(v if kind == "sw" else base, scan=(kind == "sw"))
    got_arr = run_json(where, [ctx.cli, "list", "--json", ctx.path(v)])
    if want is None or got_arr is None:
        return 0
    got = func_tuples(where, got_arr)
    if got is None:
        return 0
    ok = diff_funcs(where, got, want, "ref" if kind != "sw" else "ref scan")
    if kind == "sw":
        twin = ctx.ref_funcs(base)
        if twin is not None:
            sizes = lambda fs: collections.Counter((n, e - s) for s, e, n in fs)
            if sizes(got) != sizes(twin):
                d1 = sorted((sizes(twin) - sizes(got)).elements())[:MAX_DIFF]
                d2 = sorted((sizes(got) - sizes(twin)).elements())[:MAX_DIFF]
                fail(where, f"(name, size) pairs differ from {base} read with symbols:\n"
                     f"  only in {base}: {d1}\n  only in golat: {d2}")
                ok = False
    return len(want)


def check_text_mode(ctx, v, nfuncs):
    where = f"{ctx.tag} {v} list (text)"
    rc, out, err = run([ctx.cli, "list", ctx.path(v)])
    if rc != 0:
        fail(where, f"exited {rc}: {err.strip()[:300]}")
    elif "main.main" not in out or len(out.splitlines()) < nfuncs:
        fail(where, f"{len(out.splitlines())} lines for {nfuncs} functions, "
             f"main.main {'present' if 'main.main' in out else 'absent'}")
    rc, out, err = run([ctx.cli, "info", ctx.path(v)])
    if rc != 0 or ctx.goversion not in out:
        fail(f"{ctx.tag} {v} info (text)", f"exited {rc}, go version "
             f"{'present' if ctx.goversion in out else 'absent'}: {err.strip()[:300]}")


def spec_matches(spec, name):
    """A spec matches an exact name, or as a glob (`*`, `?`, `[...]`; `*` crosses `.` and `/`)."""
    return name == spec or fnmatch.fnmatchcase(name, spec)


def expect_specs(funcs, specs):
    pos = [s for s in specs if not s.startswith("!")]
    neg = [s[1:] for s in specs if s.startswith("!")]
    return [f for f in funcs
            if (not pos or any(spec_matches(s, f[2]) for s in pos))
            and not any(spec_matches(s, f[2]) for s in neg)]


def check_specs(ctx, v):
    """Function selection, against the same rules applied to ref's list in Python."""
    base = v.partition(".")[0]
    funcs = ctx.ref_funcs(base)
    if funcs is None:
        return 0
    # Generic instantiations: "main.Sum[...]" (Go 1.19-1.2x pclntab) or with shapes
    # spelled out, "main.Sum[go.shape.int]": either way an exact name full of glob syntax.
    generic = sorted({f[2] for f in funcs if f[2].startswith("main.") and "[" in f[2]})
    cases = [
        ["main.main"],
        ["main.*"],
        ["main.*", "!main.init*"],
        ["!runtime.*"],
        ["main.fi?"],
        ["main.[cf]*"],
        ["main.(*Circle).*", "main.Rect.*"],
        ["runtime.gogo*", "main.counter.func1"],
    ] + [[g] for g in generic[:2]]
    n = 0
    for specs in cases:
        where = f"{ctx.tag} {v} list {' '.join(repr(s) for s in specs)}"
        want = expect_specs(funcs, specs)
        unmatched = [s for s in specs if not s.startswith("!") and not expect_specs(funcs, [s])]
        if not want or unmatched:
            fail(where, f"test setup: {unmatched or specs} match nothing in ref")
            continue
        arr = run_json(where, [ctx.cli, "list", "--json", ctx.path(v)] + specs)
        got = func_tuples(where, arr) if arr is not None else None
        if got is not None and diff_funcs(where, got, want):
            n += 1
    # A spec that matches nothing: an empty array, or a one-line error.
    where = f"{ctx.tag} {v} list 'main.no_such_function'"
    rc, out, err = run([ctx.cli, "list", "--json", ctx.path(v), "main.no_such_function"])
    if rc == 0:
        try:
            if json.loads(out) != []:
                fail(where, f"expected [], got {out[:200]}")
        except json.JSONDecodeError:
            fail(where, f"invalid JSON: {out[:200]!r}")
    elif rc is None or rc < 0 or not err.startswith("golat: "):
        fail(where, f"exited {rc}, stderr {err[:200]!r}")
    return n


def check_gtls(ctx, v, got, orig, gtls_seen, expect, problems):
    """amd64: g's TLS offset, from the linker's runtime.tlsg (when it exists) and the
    runtime's code."""
    base, _, kind = v.partition(".")
    code_of = v if kind == "sw" else base
    if code_of not in gtls_seen:
        funcs = ctx.ref_funcs(code_of, scan=(kind == "sw"))
        gtls_seen[code_of] = objdump_gtls(ctx.path(code_of), funcs) if funcs else (None, "no ref list")
    seen, err = gtls_seen[code_of]
    want_tls = set()
    if err:
        problems.append(f"g_tls: cannot check against the code: {err}")
    elif len(seen) != 1:
        problems.append(f"test setup: runtime %fs: accesses of {code_of} give {dict(seen)}")
    else:
        want_tls.add(next(iter(seen)))
    if orig.get("g_tls") is not None and kind != "sw":
        want_tls.add(orig["g_tls"])
    if len(want_tls) > 1:
        problems.append(f"test setup: runtime.tlsg says {orig.get('g_tls')}, code says {dict(seen)}")
    elif want_tls:
        expect("g_tls", want_tls.pop())
    if not isinstance(got.get("g_tls_source"), str) or not got.get("g_tls_source"):
        problems.append(f"g_tls_source: {got.get('g_tls_source')!r}")


def check_info(ctx, v, gtls_seen):
    base, _, kind = v.partition(".")
    where = f"{ctx.tag} {v} info"
    got = run_json(where, [ctx.cli, "info", "--json", ctx.path(v)])
    self_ref = ctx.ref_json("info", v, scan=(kind != ""))  # this file: flags, scan result
    orig = ctx.ref_json("info", base)                      # the build with symbols
    if got is None or self_ref is None or orig is None:
        return
    if not isinstance(got, dict):
        fail(where, f"info output is a {type(got).__name__}, not an object")
        return
    addr_ref = self_ref if kind == "sw" else orig
    problems = []

    def expect(key, want, conv=None):
        if key not in got:
            problems.append(f"{key} missing (want {want!r})")
            return
        val = got[key]
        try:
            val = conv(val) if conv else val
        except (ValueError, TypeError) as e:
            problems.append(f"{key}: {e}")
            return
        if val != want:
            show = lambda x: hex(x) if conv is hexint else repr(x)
            problems.append(f"{key}: golat {show(val)}, want {show(want)}")

    # Go version: the toolchain, `go version -m`, and debug/buildinfo all agree.
    rc, out, _ = run([ctx.go, "version", "-m", ctx.path(v)])
    m = re.match(r"\S+: (go\S+)", out or "")
    for src, ver in (("toolchain", ctx.goversion), ("go version -m", m and m.group(1)),
                     ("debug/buildinfo", self_ref["go_version"])):
        if ver != ctx.goversion:
            problems.append(f"test setup: {src} says {ver}, toolchain {ctx.goversion}")
    expect("go_version", ctx.goversion)
    for k in ("main_path", "main_module", "main_version"):  # debug/buildinfo's Path, Main
        expect(k, self_ref[k])
    if got.get("path") not in (ctx.path(v), os.path.realpath(ctx.path(v))):
        problems.append(f"path: golat {got.get('path')!r}, want {ctx.path(v)!r}")
    expect("pclntab_magic", hexint(addr_ref["pclntab_magic"]), hexint)
    expect("pclntab", hexint(addr_ref["pclntab"]), hexint)
    expect("text", hexint(addr_ref["text"]), hexint)
    expect("nfuncs", addr_ref["nfuncs"])
    for k in ("pie", "dynamic", "symtab", "dwarf"):
        expect(k, self_ref[k])
    # Where pclntab was found: the section when there is one at that address.
    if self_ref["pclntab_source"] == ".gopclntab":
        allowed = {".gopclntab"}
    else:
        allowed = {"runtime.pclntab", "scan"} if self_ref["symtab"] else {"scan"}
    if got.get("pclntab_source") not in allowed:
        problems.append(f"pclntab_source: golat {got.get('pclntab_source')!r}, "
                        f"want one of {sorted(allowed)}")

    # The architecture, from the ELF machine (ref checks it against buildinfo's GOARCH),
    # and the PC quantum its linker writes into pclntab's header.
    expect("arch", orig["arch"])
    expect("pc_quantum", orig["pc_quantum"])
    if orig["arch"] == "arm64":
        # g lives in R28 (cmd/internal/obj/arm64, REGG): there is no TLS slot to find.
        expect("g_tls", None)
        expect("g_reg", "r28")
    else:
        expect("g_reg", None)
        check_gtls(ctx, v, got, orig, gtls_seen, expect, problems)

    # g field offsets: DWARF of this build, or of the twin with symbols.
    dwarf = orig.get("goff")
    goff = got.get("goff")
    if not isinstance(goff, dict):
        problems.append(f"goff missing or not an object: {goff!r}")
    elif dwarf is None:
        problems.append(f"test setup: ref found no DWARF runtime.g in {base}")
    else:
        for k in ("stack_lo", "stack_hi", "stackguard0", "m", "goid"):
            if goff.get(k) != dwarf[k]:
                problems.append(f"goff.{k}: golat {goff.get(k)!r}, DWARF of {base} {dwarf[k]}")
        want_src = "dwarf" if self_ref["dwarf"] else "table"
        if goff.get("source") != want_src:
            problems.append(f"goff.source: golat {goff.get('source')!r}, want {want_src!r}")
    if problems:
        fail(where, "\n  ".join([""] + problems))


# Where `golat list --args` must put the parameters of prog's main.wide and main.mixed
# (abi-internal.md: amd64 RAX, RBX, RCX, RDI, RSI, R8-R11 and X0-X14; arm64 R0-R15 and
# F0-F15), as [(name, regs)] with "stack" for a parameter in memory; then the results.
ABI_CASES = {
    "amd64": {
        "main.wide": ([(n, [r]) for n, r in zip("abcdefghi", ["rax", "rbx", "rcx", "rdi", "rsi",
                                                                "r8", "r9", "r10", "r11"])]
                      + [(n, "stack") for n in "jkl"], [("~r0", ["rax"])]),
        "main.mixed": ([("a", ["rax"]), ("x", ["x0"]), ("b", ["rbx"]), ("y", ["x1"])],
                       [("~r0", ["x0"])]),
    },
    "arm64": {
        "main.wide": ([(n, [f"r{i}"]) for i, n in enumerate("abcdefghijkl")], [("~r0", ["r0"])]),
        "main.mixed": ([("a", ["r0"]), ("x", ["f0"]), ("b", ["r1"]), ("y", ["f1"])],
                       [("~r0", ["f0"])]),
    },
}


def check_args(ctx, v, arch):
    """The argument registers `golat list --args --json` names, on a build with DWARF."""
    where = f"{ctx.tag} {v} list --args"
    arr = run_json(where, [ctx.cli, "list", "--args", "--json", ctx.path(v), "main.wide", "main.mixed"])
    if arr is None:
        return
    shape = lambda ps: [(p.get("name"), p.get("regs") if p.get("where") == "regs" else p.get("where"))
                        for p in ps or []]
    got = {f.get("name"): (shape(f.get("args")), shape(f.get("results"))) for f in arr}
    for name, want in ABI_CASES[arch].items():
        have = got.get(name)
        if have != (want[0], want[1]):
            fail(where, f"{name}: golat {have}, want {want}")


def check_lines(ctx, v):
    """Source positions: of sampled PCs by gobin_pc_line (reader_pcline), of every entry by
    `golat list --lines --json`, against debug/gosym's PCToLine on the same file."""
    where = f"{ctx.tag} {v} lines"
    rc, out, err = run([ctx.ref, "lines"] + (["-scan"] if "." in v else []) + [ctx.path(v)])
    if rc != 0:
        fail(where, f"ref lines exited {rc}: {err.strip()[:300]}")
        return
    want = out.splitlines()
    pcs = "".join(l.split(" ", 1)[0] + "\n" for l in want)
    try:
        p = subprocess.run([ctx.pcline, ctx.path(v)], input=pcs, capture_output=True, text=True,
                           timeout=180, errors="replace")
    except subprocess.TimeoutExpired:
        fail(where, "reader_pcline timed out")
        return
    got = p.stdout.splitlines()
    if p.returncode != 0 or len(got) != len(want):
        fail(where, f"reader_pcline exited {p.returncode} with {len(got)} lines for {len(want)}: "
             f"{p.stderr.strip()[:300]}")
        return
    bad = [(w, g) for w, g in zip(want, got) if w != g]
    if bad:
        fail(where, f"{len(bad)} of {len(want)} PCs differ from debug/gosym:\n" +
             "\n".join(f"  gosym {w}, golat {g}" for w, g in bad[:MAX_DIFF]))
    entries = {int(l.split(" ", 1)[0], 16): l.split(" ", 1)[1] for l in want}
    arr = run_json(where, [ctx.cli, "list", "--lines", "--json", ctx.path(v)])
    diff = []
    for f in arr or []:
        pos = f"{f.get('file')}:{f.get('line')}" if f.get("file") is not None else "?"
        e = hexint(f["entry"])
        if e in entries and entries[e] != pos:
            diff.append(f"  {f['name']}: gosym {entries[e]}, golat list {pos}")
    if diff:
        fail(where, f"{len(diff)} entries differ:\n" + "\n".join(diff[:MAX_DIFF]))
    return len(want)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--ref", required=True)
    ap.add_argument("--go", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--pcline", help="tests/reader/pcline.c, built: source positions are checked")
    ap.add_argument("--specs-on", action="append", default=[],
                    help="variants to run the function-selection cases on")
    ap.add_argument("variants", nargs="+")
    a = ap.parse_args()
    ctx = Ctx(a)
    gtls_seen = {}
    total = 0
    for v in a.variants:
        if "." not in v:
            check_ref_self(ctx, v)
    for v in a.variants:
        before = len(FAILED)
        n = check_list(ctx, v)
        check_info(ctx, v, gtls_seen)
        if n:
            check_text_mode(ctx, v, n)
        nspec = check_specs(ctx, v) if v in a.specs_on else 0
        if "." not in v and ctx.ref_json("info", v) and ctx.ref_json("info", v).get("dwarf"):
            check_args(ctx, v, ctx.ref_json("info", v)["arch"])
        npcs = check_lines(ctx, v) if ctx.pcline and not v.endswith(".strip") else None
        total += n
        status = "ok" if len(FAILED) == before else "FAILED"
        extra = f", {nspec} selection cases" if v in a.specs_on else ""
        extra += f", {npcs} PCs' lines" if npcs else ""
        print(f"{ctx.tag} {v}: {n} functions compared{extra}: {status}", flush=True)
    print(f"{ctx.tag}: {total} functions compared in {len(a.variants)} variants, "
          f"{len(FAILED)} failures")
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
