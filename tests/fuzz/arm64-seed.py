#!/usr/bin/env python3
"""arm64-seed.py OUT: writes a small linux/arm64 Go binary image (about 1 KB) for the
reader's fuzzer: an ELF header for EM_AARCH64, one loaded segment, a Go 1.20+ pclntab
(PC quantum 4, three functions with pcfile and pcln tables, a cutab and a filetab) in
.gopclntab and a .go.buildinfo blob. No code: the reader does not decode arm64
instructions. The real arm64 builds of reader_arm64_go1.N are megabytes each; this
seed gives the fuzzer the arm64 paths (quantum, AARCH64 relocations, positions) from
the start. Layouts: runtime/symtab.go (pcHeader, _func, pcvalue), debug/buildinfo.
Check: `golat list --lines OUT` reads main.main at x.go:3, main.f at x.go:7."""
import struct
import sys

BASE = 0x10000       # link-time address of the file's first byte
TEXT = BASE + 0x1000  # runtime.text: the function entries are offsets from it
FUNCS = [  # name, size in bytes, first line, line steps (one per 4-byte instruction)
    ("main.main", 16, 3, [0, 1, 1, 2]),
    ("main.f", 8, 7, [0, 1]),
    ("runtime.main", 8, 10, [0, 0]),
]
FILES = ["x.go", "runtime/proc.go"]


def uvarint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def zigzag(d):
    return ((d << 1) ^ (d >> 31)) & 0xFFFFFFFF


def pctable(values, quantum=4):
    """pcvalue encoding: runs of one value as (value delta, pc delta in quanta), then 0."""
    out, prev, i = bytearray(), -1, 0
    while i < len(values):
        j = i
        while j < len(values) and values[j] == values[i]:
            j += 1
        out += uvarint(zigzag(values[i] - prev)) + uvarint(j - i)
        prev, i = values[i], j
    return bytes(out + b"\0")


def pclntab():
    names = b"".join(n.encode() + b"\0" for n, *_ in FUNCS)
    cutab = struct.pack("<2I", 0, len(FILES[0]) + 1)  # one unit, file 0 and 1
    filetab = b"".join(f.encode() + b"\0" for f in FILES)
    pctab, offs = bytearray(b"\0"), []  # offset 0 means "no table"
    for name, size, line, steps in FUNCS:
        fileno = [1 if name.startswith("runtime.") else 0] * (size // 4)
        tabs = []
        for vals in (fileno, [line + s for s in steps]):
            tabs.append(len(pctab))
            pctab += pctable(vals)
        offs.append(tabs)
    hdr_len = 72
    off_names = hdr_len
    off_cu = off_names + len(names)
    off_files = off_cu + len(cutab)
    off_pc = off_files + len(filetab)
    off_pcln = (off_pc + len(pctab) + 7) & ~7
    n = len(FUNCS)
    ftab_len = (2 * n + 1) * 4
    funcs, ftab, entry, name_off = bytearray(), bytearray(), 0, 0
    for (name, size, line, _), (pcfile, pcln) in zip(FUNCS, offs):
        funcoff = ftab_len + len(funcs)
        ftab += struct.pack("<II", entry, funcoff)
        # _func: entryoff nameoff args deferreturn pcsp pcfile pcln npcdata cuOffset
        # startLine funcID flag _ nfuncdata
        funcs += struct.pack("<IiiIIIIIIiBBBB", entry, name_off, 0, 0, 0, pcfile, pcln, 0, 0,
                             line, 0, 0, 0, 0)
        entry += size
        name_off += len(name) + 1
    ftab += struct.pack("<I", entry)
    hdr = struct.pack("<IBBBBQQQQQQQQ", 0xFFFFFFF1, 0, 0, 4, 8, n, len(FILES), TEXT,
                      off_names, off_cu, off_files, off_pc, off_pcln)
    body = hdr + names + cutab + filetab + bytes(pctab)
    return body + bytes(off_pcln - len(body)) + bytes(ftab) + bytes(funcs)


def buildinfo():
    ver = b"go1.22.0"
    blob = b"\xff Go buildinf:" + bytes([8, 2]) + bytes(16)
    return blob + uvarint(len(ver)) + ver + uvarint(0)


def main():
    out = sys.argv[1]
    sections = [(".gopclntab", pclntab()), (".go.buildinfo", buildinfo())]
    shstr = b"\0" + b"".join(n.encode() + b"\0" for n, _ in sections) + b".shstrtab\0"
    data, addrs = bytearray(64 + 56), []  # ELF header, one program header
    for _, body in sections:
        data += bytes(-len(data) % 16)
        addrs.append(len(data))
        data += body
    shstr_at = len(data)
    data += shstr
    data += bytes(-len(data) % 8)
    shoff = len(data)
    shdrs = [bytes(64)]
    name = 1
    for (sname, body), at in zip(sections, addrs):
        shdrs.append(struct.pack("<IIQQQQIIQQ", name, 1, 2, BASE + at, at, len(body), 0, 0, 16, 0))
        name += len(sname) + 1
    shdrs.append(struct.pack("<IIQQQQIIQQ", name, 3, 0, 0, shstr_at, len(shstr), 0, 0, 1, 0))
    data += b"".join(shdrs)
    # One loaded segment: the file, then the text's addresses (no bytes: no code).
    struct.pack_into("<IIQQQQQQ", data, 64, 1, 5, 0, BASE, BASE, len(data), 0x1000 + 64, 0x1000)
    struct.pack_into("<16sHHIQQQIHHHHHH", data, 0, b"\x7fELF\x02\x01\x01" + bytes(9), 2, 183, 1,
                     TEXT, 64, shoff, 0, 64, 56, 1, 64, len(shdrs), len(shdrs) - 1)
    with open(out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
