#!/usr/bin/env python3
"""Damaged copies of Go binaries: truncations, a corrupted pclntab header, flipped bytes.

    mutate.py [--ref REF] [--flips N] OUTDIR BINARY...

writes OUTDIR/<name of BINARY>.<mutation> for each mutation and prints one manifest line
per file, "<expect> <path>", where expect is
  error  the damage leaves no readable Go binary: golat must refuse it (one `golat: `
         line on stderr, exit status 1..123);
  any    golat may read it or refuse it, but must not crash, hang or print half a result.
Used by badinput.py (the test) and make-corpus.sh (fuzzing seeds). ref locates pclntab
(it reads stripped binaries with its scan path). The damage is deterministic: the same
binary always gives the same copies.
"""
import argparse
import json
import os
import random
import struct
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check import Elf  # noqa: E402  (one small ELF reader for both scripts)


def file_offset(elf, addr):
    for vaddr, off, size in elf.loads:
        if vaddr <= addr < vaddr + size:
            return off + addr - vaddr
    raise ValueError(f"address {addr:#x} is not in the file")


def pclntab_extent(elf, ref, path):
    """File offsets [start, end) of pclntab: from its header to the end of the section
    holding it (.gopclntab, or .data.rel.ro in externally linked PIE)."""
    info = json.loads(subprocess.run([ref, "info", path], capture_output=True, text=True,
                                     check=True).stdout)
    start = file_offset(elf, int(info["pclntab"], 16))
    end = len(elf.data)
    for addr, off, size in elf.sections.values():
        if off <= start < off + size and size:
            end = min(end, off + size)
    return start, end, info


def mutations(path, ref, flips=6):
    """[(suffix, expect, bytes)] for one binary. Without ref (None, or it cannot read
    the binary) only the damage that needs no pclntab address."""
    data = open(path, "rb").read()
    elf = Elf(path)
    shoff = struct.unpack_from("<Q", data, 40)[0]
    out = [
        ("trunc-64", "error", data[:64]),            # the ELF header and nothing else
        ("trunc-1k", "error", data[:1024]),
        ("trunc-end-1", "error", data[:-1]),          # one byte short
    ]
    if 0 < shoff < len(data):
        out.append(("trunc-shdr", "any", data[:shoff]))  # segments intact, no sections
    try:
        start, end, _ = pclntab_extent(elf, ref, path) if ref else (None, None, None)
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError):
        start = None
    if start is None:
        return out
    mid = start + (end - start) // 2
    rnd = random.Random(os.path.basename(path))  # deterministic per binary name
    out += [
        ("trunc-pclnhdr", "error", data[:start + 32]),  # inside the pclntab header
        ("trunc-midpcln", "error", data[:mid]),
        ("trunc-pclnend", "error", data[:end - 8]),    # just short of pclntab's end
    ]

    def patched(off, raw):
        b = bytearray(data)
        b[off:off + len(raw)] = raw
        return bytes(b)

    out += [
        ("badmagic", "error", patched(start, b"\0\0\0\0")),
        ("hdr-ptrsize", "any", patched(start + 7, b"\x04")),
        ("hdr-nfunc", "any", patched(start + 8, struct.pack("<Q", 1 << 62))),
        ("hdr-nfunc-1", "any", patched(start + 8, struct.pack("<Q", 1))),
        ("hdr-funcname", "any", patched(start + 32, struct.pack("<Q", (1 << 63) - 8))),
        ("hdr-pclnoff", "any", patched(start + 64, struct.pack("<Q", 0xfffffff0))),
        ("shoff-huge", "any", patched(40, struct.pack("<Q", 1 << 62))),
        ("phnum-0", "any", patched(56, struct.pack("<H", 0))),
    ]
    # The functab (pairs of u32 at pclnOffset): entries out of order, beyond the text,
    # and func offsets pointing outside pclntab.
    pcln_off = struct.unpack_from("<Q", data, start + 64)[0]
    ftab = start + pcln_off
    if ftab + 64 <= end:
        out += [
            ("ftab-unsorted", "any", patched(ftab + 8, struct.pack("<I", 0xfffffff0))),
            ("ftab-funcoff", "any", patched(ftab + 12, struct.pack("<I", 0xfffffff0))),
            ("ftab-zero", "any", patched(ftab, bytes(64))),
        ]
    for i in range(flips):
        b = bytearray(data)
        for _ in range(8 << i):  # 8 to 256 flipped bytes
            off = rnd.randrange(start, end)
            b[off] ^= rnd.randrange(1, 256)
        out.append((f"flip-{i}", "any", bytes(b)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", help="ref/ built; without it, only damage needing no pclntab")
    ap.add_argument("--flips", type=int, default=6, help="copies with flipped bytes")
    ap.add_argument("outdir")
    ap.add_argument("binaries", nargs="+")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    for path in a.binaries:
        for suffix, expect, blob in mutations(path, a.ref, a.flips):
            dst = os.path.join(a.outdir, f"{os.path.basename(path)}.{suffix}")
            with open(dst, "wb") as f:
                f.write(blob)
            print(expect, dst)


if __name__ == "__main__":
    main()
