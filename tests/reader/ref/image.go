package main

import (
	"debug/elf"
	"encoding/binary"
	"io"
)

// image gives link-time-address access to the loaded contents of an ELF file (its
// PT_LOAD segments) and to its symbols, when it has any.
type image struct {
	f    *elf.File
	segs []segment
	syms map[string]elf.Symbol // .symtab, empty when stripped
	// relative holds R_X86_64_RELATIVE (R_AARCH64_RELATIVE) relocations (address -> addend): in PIE the
	// dynamic loader writes those pointers, the file may hold anything there.
	relative map[uint64]uint64
}

type segment struct {
	vaddr uint64
	data  []byte // file contents (p_filesz bytes); the rest of p_memsz is zero
	memsz uint64
	flags elf.ProgFlag
}

func newImage(f *elf.File) *image {
	img := &image{f: f, syms: map[string]elf.Symbol{}, relative: map[uint64]uint64{}}
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		data, err := io.ReadAll(p.Open())
		if err != nil {
			continue
		}
		img.segs = append(img.segs, segment{p.Vaddr, data, p.Memsz, p.Flags})
	}
	if syms, err := f.Symbols(); err == nil {
		for _, s := range syms {
			if _, dup := img.syms[s.Name]; !dup {
				img.syms[s.Name] = s
			}
		}
	}
	for _, s := range f.Sections {
		if s.Type != elf.SHT_RELA {
			continue
		}
		data, err := s.Data()
		if err != nil {
			continue
		}
		for i := 0; i+24 <= len(data); i += 24 {
			off := binary.LittleEndian.Uint64(data[i:])
			info := binary.LittleEndian.Uint64(data[i+8:])
			add := binary.LittleEndian.Uint64(data[i+16:])
			typ := uint32(info)
			if (f.Machine == elf.EM_X86_64 && elf.R_X86_64(typ) == elf.R_X86_64_RELATIVE) ||
				(f.Machine == elf.EM_AARCH64 && elf.R_AARCH64(typ) == elf.R_AARCH64_RELATIVE) {
				img.relative[off] = add
			}
		}
	}
	return img
}

// bytesAt returns the file bytes from addr to the end of its segment's file contents.
func (img *image) bytesAt(addr uint64) []byte {
	for _, s := range img.segs {
		if addr >= s.vaddr && addr < s.vaddr+uint64(len(s.data)) {
			return s.data[addr-s.vaddr:]
		}
	}
	return nil
}

// ptr reads the pointer stored at addr as the running program would see it before
// adding the PIE load bias: the relocation addend if the loader writes one there.
func (img *image) ptr(addr uint64) (uint64, bool) {
	if v, ok := img.relative[addr]; ok {
		return v, true
	}
	b := img.bytesAt(addr)
	if len(b) < 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b), true
}

func (img *image) inText(addr uint64) bool {
	for _, s := range img.segs {
		if s.flags&elf.PF_X != 0 && addr >= s.vaddr && addr < s.vaddr+s.memsz {
			return true
		}
	}
	return false
}
