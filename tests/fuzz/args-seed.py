#!/usr/bin/env python3
"""args-seed.py EXE OUT: writes a seed for fuzz_dwarf_args from a Go binary built with
-ldflags=-compressdwarf=false: the entries of its main.* functions (up to 32, from nm)
and its uncompressed debug sections, in the layout fuzz_dwarf_args.c reads."""
import struct
import subprocess
import sys

NAMES = [".debug_info", ".debug_abbrev", ".debug_addr", ".debug_str", ".debug_str_offsets"]


def sections(path):
    data = open(path, "rb").read()
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    hdrs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    stroff, strsize = hdrs[shstrndx][4], hdrs[shstrndx][5]
    out = {}
    for h in hdrs:
        end = data.index(b"\0", stroff + h[0])
        name = data[stroff + h[0]:end].decode()
        if h[2] & 0x800:  # SHF_COMPRESSED: not for seeds
            continue
        out[name] = data[h[4]:h[4] + h[5]]
    return out


def main():
    exe, out = sys.argv[1], sys.argv[2]
    nm = subprocess.run(["nm", exe], capture_output=True, text=True, check=True).stdout
    entries = [int(l.split()[0], 16) for l in nm.splitlines()
               if len(l.split()) == 3 and l.split()[2].startswith("main.")][:32]
    secs = sections(exe)
    blob = bytes([len(entries)]) + b"".join(struct.pack("<Q", e) for e in entries)
    for n in NAMES:
        s = secs.get(n, b"")
        blob += struct.pack("<I", len(s)) + s
    open(out, "wb").write(blob)


main()
