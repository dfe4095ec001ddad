/* goprobe: is this process a Go program? Asked by the constructor of every program
 * libgolat.so is loaded into — children inherit LD_PRELOAD, so shells, sleep and the
 * like ask too — before anything else: it must cost next to nothing and say nothing.
 * gobin_open_self answers for sure but reads the whole function table; this answers
 * from what the loader has already mapped, and only when that is silent from a few
 * hundred bytes of the executable's section headers. */
#ifndef GOLAT_GOPROBE_H
#define GOLAT_GOPROBE_H

#include <stdbool.h>

/* True when the main executable carries Go's marks: a note of owner "Go" (the Go
 * linker writes .note.go.buildid into every ELF it links, internally or through the
 * system linker: cmd/link/internal/ld/elf.go, addgonote), or, for a binary built with
 * -buildid= (no note), a .go.buildinfo or .gopclntab section. A binary with neither
 * (no build id and no section headers) is taken for not Go: golat stays inert there. */
bool goprobe_self(void);

#endif
