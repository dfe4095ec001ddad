package main

import "debug/elf"

// gTLS returns where g lives relative to the thread pointer (%fs), from the linker's own
// record of it: the TLS symbol runtime.tlsg (runtime/tls_stub.go, cmd/link) is at
// st_value within the executable's TLS block, and on x86-64 (TLS variant II) the
// executable's block ends at the thread pointer, rounded up to the block's alignment:
// offset = st_value - roundup(PT_TLS p_memsz, p_align). 8 bytes of TLS holding only
// runtime.tlsg give the familiar -8; glibc's own TLS in a -extldflags=-static link
// moves it. Internally linked binaries (CGO_ENABLED=0) have neither symbol nor PT_TLS:
// the compiler hard-codes -8(FS) there, checked by the scripts from the code itself.
func gTLS(img *image) (int64, bool) {
	sym, ok := img.syms["runtime.tlsg"]
	if !ok || elf.ST_TYPE(sym.Info) != elf.STT_TLS {
		return 0, false
	}
	for _, p := range img.f.Progs {
		if p.Type != elf.PT_TLS {
			continue
		}
		align := p.Align
		if align == 0 {
			align = 1
		}
		size := (p.Memsz + align - 1) / align * align
		return int64(sym.Value) - int64(size), true
	}
	return 0, false
}
