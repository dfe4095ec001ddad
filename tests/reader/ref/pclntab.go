package main

import (
	"debug/gosym"
	"encoding/binary"
	"errors"
	"fmt"
)

// Magic numbers of the pclntab header whose entries are offsets from a text start
// (Go 1.18+: runtime/symtab.go pcHeader, debug/gosym/pclntab.go go12magic...).
const (
	magic118 = 0xfffffff0 // Go 1.18-1.19
	magic120 = 0xfffffff1 // Go 1.20+
)

type pclntab struct {
	addr       uint64 // link-time address of the header
	magic      uint32
	source     string // ".gopclntab", "runtime.pclntab" or "scan"
	text       uint64 // runtime.text: function entries are offsets from it
	textSource string // "runtime.text", "header" or "moduledata"
	table      *gosym.Table
}

// findPclntab locates pclntab the way a tool with symbols does: the .gopclntab section
// (internally linked and non-PIE binaries) or the runtime.pclntab symbol (externally
// linked PIE merges it into .data.rel.ro), and the text start from the runtime.text
// symbol, which in cgo binaries is not the start of .text (C code comes first).
// Without symbols, or when forced, it falls back to scan.go.
func findPclntab(img *image, forceScan bool) (*pclntab, error) {
	text, haveText := img.syms["runtime.text"]
	if forceScan || !haveText {
		return scanPclntab(img)
	}
	pt := &pclntab{text: text.Value, textSource: "runtime.text"}
	if s := img.f.Section(".gopclntab"); s != nil {
		pt.addr, pt.source = s.Addr, ".gopclntab"
	} else if sym, ok := img.syms["runtime.pclntab"]; ok {
		pt.addr, pt.source = sym.Value, "runtime.pclntab"
	} else {
		return nil, errors.New("symbols present but no .gopclntab and no runtime.pclntab")
	}
	data := img.bytesAt(pt.addr)
	if len(data) < 8 {
		return nil, fmt.Errorf("pclntab at 0x%x is outside the file", pt.addr)
	}
	pt.magic = binary.LittleEndian.Uint32(data)
	tab, err := loadTable(data, pt.text)
	if err != nil {
		return nil, err
	}
	pt.table = tab
	return pt, nil
}

// loadTable parses pclntab with debug/gosym. gosym trusts its input (it can panic on
// garbage), so candidates found by scanning go through here under recover.
func loadTable(data []byte, text uint64) (tab *gosym.Table, err error) {
	defer func() {
		if r := recover(); r != nil {
			tab, err = nil, fmt.Errorf("debug/gosym: %v", r)
		}
	}()
	switch m := binary.LittleEndian.Uint32(data); m {
	case magic118, magic120:
	default:
		return nil, fmt.Errorf("pclntab magic 0x%x is not a Go 1.18+ one", m)
	}
	lt := gosym.NewLineTable(data, text)
	tab, err = gosym.NewTable(nil, lt)
	if err != nil {
		return nil, err
	}
	if len(tab.Funcs) == 0 {
		return nil, errors.New("pclntab has no functions")
	}
	return tab, nil
}
