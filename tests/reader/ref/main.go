// ref is the reference side of golat's reader conformance tests: it prints what
// `golat list --json` and `golat info --json` must print, computed from the Go standard
// library (debug/elf, debug/gosym, debug/buildinfo, debug/dwarf) rather than from
// golat's own parser.
//
//	ref list [-scan] EXE   JSON array of every pclntab function: name, entry, end
//	ref info [-scan] EXE   JSON object: go_version, pclntab, text, nfuncs, g_tls, goff...
//	ref lines [-scan] EXE  "0xPC FILE:LINE" for a sample of PCs (debug/gosym's PCToLine)
//
// With symbols (.symtab), pclntab is the .gopclntab section or the runtime.pclntab
// symbol and the text start is the runtime.text symbol: independent evidence. Without
// symbols (or with -scan), see scan.go: that path re-implements the idea golat uses on
// stripped binaries, so it checks golat's arithmetic but is not independent evidence.
// The tests therefore compare golat on a stripped copy with ref on the unstripped original.
package main

import (
	"bufio"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

type jsonFunc struct {
	Name  string `json:"name"`
	Entry string `json:"entry"`
	End   string `json:"end"`
}

type jsonGoff struct {
	StackLo     uint64 `json:"stack_lo"`
	StackHi     uint64 `json:"stack_hi"`
	Stackguard0 uint64 `json:"stackguard0"`
	M           uint64 `json:"m"`
	Goid        uint64 `json:"goid"`
	Source      string `json:"source"`
}

type jsonInfo struct {
	Path          string    `json:"path"`
	Arch          string    `json:"arch"`
	PCQuantum     int       `json:"pc_quantum"`
	GoVersion     string    `json:"go_version"`
	MainPath      string    `json:"main_path"`
	MainModule    string    `json:"main_module"`
	MainVersion   string    `json:"main_version"`
	PclntabMagic  string    `json:"pclntab_magic"`
	Pclntab       string    `json:"pclntab"`
	PclntabSource string    `json:"pclntab_source"`
	Text          string    `json:"text"`
	TextSource    string    `json:"text_source"` // ref only: runtime.text, header or moduledata
	Nfuncs        int       `json:"nfuncs"`
	PIE           bool      `json:"pie"`
	Dynamic       bool      `json:"dynamic"`
	Symtab        bool      `json:"symtab"`
	DWARF         bool      `json:"dwarf"`
	GTLS          *int64    `json:"g_tls,omitempty"`
	GTLSSource    string    `json:"g_tls_source,omitempty"`
	Goff          *jsonGoff `json:"goff,omitempty"`
}

func hex(v uint64) string { return fmt.Sprintf("0x%x", v) }

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ref: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	args := os.Args[1:]
	if len(args) < 2 {
		fail("usage: ref list|info|lines [-scan] EXE")
	}
	cmd, args := args[0], args[1:]
	forceScan := false
	if args[0] == "-scan" {
		forceScan, args = true, args[1:]
	}
	if len(args) != 1 {
		fail("usage: ref list|info|lines [-scan] EXE")
	}
	path := args[0]
	f, err := elf.Open(path)
	if err != nil {
		fail("%s: %v", path, err)
	}
	defer f.Close()
	img := newImage(f)
	pt, err := findPclntab(img, forceScan)
	if err != nil {
		fail("%s: %v", path, err)
	}

	enc := json.NewEncoder(os.Stdout)
	switch cmd {
	case "list":
		out := make([]jsonFunc, 0, len(pt.table.Funcs))
		for _, fn := range pt.table.Funcs {
			out = append(out, jsonFunc{fn.Name, hex(fn.Entry), hex(fn.End)})
		}
		must(enc.Encode(out))
	case "info":
		info := jsonInfo{
			Path:          path,
			PclntabMagic:  fmt.Sprintf("0x%x", pt.magic),
			Pclntab:       hex(pt.addr),
			PclntabSource: pt.source,
			Text:          hex(pt.text),
			TextSource:    pt.textSource,
			Nfuncs:        len(pt.table.Funcs),
			PIE:           f.Type == elf.ET_DYN,
			Dynamic:       hasProg(f, elf.PT_INTERP),
			Symtab:        f.Section(".symtab") != nil,
			DWARF:         f.Section(".debug_info") != nil || f.Section(".zdebug_info") != nil,
		}
		q, arch := machineArch(f.Machine)
		info.Arch, info.PCQuantum = arch, int(q)
		if bi, err := buildinfo.ReadFile(path); err == nil {
			info.GoVersion = bi.GoVersion
			info.MainPath, info.MainModule, info.MainVersion = bi.Path, bi.Main.Path, bi.Main.Version
			for _, s := range bi.Settings {
				if s.Key == "GOARCH" && s.Value != arch {
					fail("%s: ELF machine %v, but buildinfo says GOARCH=%s", path, f.Machine, s.Value)
				}
			}
		}
		// g in TLS is amd64's: arm64 keeps g in R28, and its runtime.tlsg (cgo only)
		// is a save slot, in a TLS block of the other variant.
		if off, ok := gTLS(img); ok && arch == "amd64" {
			info.GTLS, info.GTLSSource = &off, "runtime.tlsg"
		}
		if info.DWARF {
			goff, err := gOffsets(f)
			if err != nil {
				fail("%s: %v", path, err)
			}
			info.Goff = goff
		}
		must(enc.Encode(info))
	case "lines":
		// Source positions by debug/gosym: every function's entry, and every PC of
		// each fifth function and of main's (at most 200 a function), stepping by
		// the quantum of the architecture (not read from the table: ref's own).
		q, _ := machineArch(f.Machine)
		w := bufio.NewWriter(os.Stdout)
		for i, fn := range pt.table.Funcs {
			n := 0
			for pc := fn.Entry; pc < fn.End && n < 200; pc += uint64(q) {
				file, line, _ := pt.table.PCToLine(pc)
				if file == "" {
					fmt.Fprintf(w, "0x%x ?\n", pc)
				} else {
					fmt.Fprintf(w, "0x%x %s:%d\n", pc, file, line)
				}
				if n++; i%5 != 0 && !strings.HasPrefix(fn.Name, "main.") {
					break
				}
			}
		}
		must(w.Flush())
	default:
		fail("unknown command %q", cmd)
	}
}

func must(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func hasProg(f *elf.File, t elf.ProgType) bool {
	for _, p := range f.Progs {
		if p.Type == t {
			return true
		}
	}
	return false
}

// machineArch gives the GOARCH of an ELF machine and its pclntab PC quantum, the
// linker's minimum instruction size (cmd/internal/sys/arch.go, MinLC).
func machineArch(m elf.Machine) (byte, string) {
	switch m {
	case elf.EM_X86_64:
		return 1, "amd64"
	case elf.EM_AARCH64:
		return 4, "arm64"
	}
	fail("unsupported ELF machine %v", m)
	return 0, ""
}
