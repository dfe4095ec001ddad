package main

// The symbol-less path, for binaries built with -ldflags='-s -w' (and for -scan).
//
// This is a second implementation of the idea golat itself uses on stripped binaries
// (scan the loaded data for a pclntab header, take the text start from the header or
// from runtime.firstmoduledata), written from the Go sources, not from golat's code. Two
// implementations agreeing is a check of the arithmetic, NOT independent evidence: the
// independent evidence is ref on an unstripped build (symbols) compared with golat on
// its stripped copy. The test scripts also run this path on unstripped builds and
// require it to agree with the symbol path, which is what makes it trustworthy on the
// -s -w builds where nothing else is available.

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// Offsets in runtime.moduledata (runtime/symtab.go), the same in Go 1.18-1.27:
// pcHeader *pcHeader at 0, funcnametab []byte at 8, then cutab, filetab, pctab,
// pclntable, ftab (slices, 24 bytes each), findfunctab, minpc, maxpc, text at 176.
const (
	mdFuncnametab = 8
	mdText        = 176
)

// Offsets in pcHeader (runtime/symtab.go): nfunc at 8, textStart at 24 (Go 1.18-1.24;
// Go 1.26 keeps the slot but no longer fills it: "used to be textStart ... requires a
// relocation"), funcnameOffset at 32.
const (
	hdrNfunc          = 8
	hdrTextStart      = 24
	hdrFuncnameOffset = 32
)

func scanPclntab(img *image) (*pclntab, error) {
	quantum, _ := machineArch(img.f.Machine)
	var errs []error
	for _, s := range img.segs {
		// Every segment is searched (the header is 8-byte aligned data, wherever the
		// linker put it); candidates must then validate.
		for off := int((8 - s.vaddr%8) % 8); off+64 <= len(s.data); off += 8 {
			m := binary.LittleEndian.Uint32(s.data[off:])
			if m != magic118 && m != magic120 {
				continue
			}
			h := s.data[off:]
			if h[4] != 0 || h[5] != 0 || h[6] != quantum || h[7] != 8 {
				continue
			}
			addr := s.vaddr + uint64(off)
			pt, err := tryHeader(img, addr, h)
			if err != nil {
				errs = append(errs, fmt.Errorf("candidate 0x%x: %w", addr, err))
				continue
			}
			return pt, nil
		}
	}
	if len(errs) == 0 {
		return nil, errors.New("no pclntab header found")
	}
	msg := "no valid pclntab header:"
	for _, e := range errs {
		msg += " " + e.Error() + ";"
	}
	return nil, errors.New(msg)
}

func tryHeader(img *image, addr uint64, h []byte) (*pclntab, error) {
	nfunc := binary.LittleEndian.Uint64(h[hdrNfunc:])
	if nfunc == 0 || nfunc > 1<<24 {
		return nil, fmt.Errorf("implausible nfunc %d", nfunc)
	}
	pt := &pclntab{addr: addr, magic: binary.LittleEndian.Uint32(h), source: "scan"}
	if s := img.f.Section(".gopclntab"); s != nil && s.Addr == addr {
		pt.source = ".gopclntab"
	}
	hdrText, hdrOK := img.ptr(addr + hdrTextStart)
	hdrOK = hdrOK && hdrText != 0 && img.inText(hdrText)
	mdText, mdOK := moduledataText(img, addr, binary.LittleEndian.Uint64(h[hdrFuncnameOffset:]))
	switch {
	case hdrOK && mdOK && hdrText != mdText:
		return nil, fmt.Errorf("header textStart 0x%x != moduledata.text 0x%x", hdrText, mdText)
	case hdrOK:
		pt.text, pt.textSource = hdrText, "header"
	case mdOK:
		pt.text, pt.textSource = mdText, "moduledata"
	default:
		return nil, errors.New("no text start: header slot empty and no moduledata points here")
	}
	tab, err := loadTable(h, pt.text)
	if err != nil {
		return nil, err
	}
	if uint64(len(tab.Funcs)) != nfunc {
		return nil, fmt.Errorf("gosym found %d functions, header says %d", len(tab.Funcs), nfunc)
	}
	if !sort.SliceIsSorted(tab.Funcs, func(i, j int) bool { return tab.Funcs[i].Entry < tab.Funcs[j].Entry }) {
		return nil, errors.New("function entries not sorted")
	}
	for _, fn := range tab.Funcs {
		if fn.Entry < pt.text || fn.End < fn.Entry || !img.inText(fn.Entry) {
			return nil, fmt.Errorf("function %q at 0x%x outside text", fn.Name, fn.Entry)
		}
	}
	pt.table = tab
	return pt, nil
}

// moduledataText finds runtime.firstmoduledata as the data word that points to the
// pclntab header and whose funcnametab slice points at header+funcnameOffset, and
// returns its text field. In PIE those pointers are RELATIVE relocations
// (the file may hold zero); elsewhere they are plain words in the data segments.
func moduledataText(img *image, hdr, funcnameOffset uint64) (uint64, bool) {
	var cands []uint64
	for at, addend := range img.relative {
		if addend == hdr {
			cands = append(cands, at)
		}
	}
	for _, s := range img.segs {
		if s.flags&elf.PF_W == 0 {
			continue
		}
		for off := int((8 - s.vaddr%8) % 8); off+8 <= len(s.data); off += 8 {
			if binary.LittleEndian.Uint64(s.data[off:]) == hdr {
				cands = append(cands, s.vaddr+uint64(off))
			}
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i] < cands[j] })
	for _, md := range cands {
		if p, ok := img.ptr(md + mdFuncnametab); !ok || p != hdr+funcnameOffset {
			continue
		}
		if text, ok := img.ptr(md + mdText); ok && text != 0 && img.inText(text) {
			return text, true
		}
	}
	return 0, false
}
