/* gobin: the one reader of Go binaries, shared by the library (on its own process)
 * and the CLI (on a file).
 *
 * From the ELF image it takes what golat needs to hook functions:
 *  - every function of pclntab (name, entry, end, flags), found by section name or,
 *    in stripped and externally linked PIE binaries where there is no .gopclntab, by
 *    scanning the loaded segments for a header that validates (pclntab.c);
 *  - the Go version, main package and module from .go.buildinfo (buildinfo.c);
 *  - where the g pointer lives in TLS and the g field offsets the recorder reads
 *    (gtls.c; DWARF when present, else a table keyed by the Go version).
 * All addresses are link-time; `bias` is what the running process adds (PIE). */
#ifndef GOLAT_GOBIN_H
#define GOLAT_GOBIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elfimg.h"

/* The instruction set a binary is for, from its ELF header's e_machine. Everything the
 * reader yields is the same for both but what names the ISA: the pclntab's PC quantum
 * (1 on amd64, 4 on arm64, as its header says), where g lives (a TLS slot on amd64,
 * R28 on arm64) and the argument registers (dwarf_args.h). Code that decodes or
 * patches instructions asks gb->arch before it does. */
enum gobin_arch {
	GOBIN_ARCH_AMD64,
	GOBIN_ARCH_ARM64,
};

/* Go's name of the architecture (GOARCH): "amd64", "arm64". */
const char *gobin_arch_name(enum gobin_arch arch);

/* pclntab funcFlag bits: internal/abi/symtab.go (runtime/symtab.go before 1.21). */
#define GOBIN_FLAG_TOPFRAME 0x1
#define GOBIN_FLAG_SPWRITE 0x2
#define GOBIN_FLAG_ASM 0x4

struct gobin_func {
	uint64_t entry; /* link-time address */
	uint64_t end;   /* next function's entry (the tail up to it is padding: 0xCC on
			 * amd64, zero words on arm64) */
	const char *name; /* NUL-terminated, inside the image */
	uint8_t flag;   /* GOBIN_FLAG_*; 0 before Go 1.17 */
	uint32_t args;  /* _func.args: bytes of its argument frame (the ABI's ArgWidth) */
	uint8_t funcid; /* abi.FuncID: nonzero for special runtime functions */
};

/* Offsets into runtime.g that the recorder reads. */
struct gobin_goff {
	uint32_t stack_lo, stack_hi, stackguard0, m, goid;
	const char *source; /* "dwarf" or "table" */
};

struct gobin {
	struct elf_image elf;
	void *map; /* the file mapping, when gobin opened the file */
	size_t map_len;
	enum gobin_arch arch;

	uint32_t pcln_magic;
	uint8_t pc_quantum; /* the header's minimum instruction size: 1 amd64, 4 arm64 */
	uint64_t pclntab;   /* link-time address of the pclntab header */
	uint64_t text;      /* runtime.text: pclntab entries are offsets from it */
	const char *pclntab_source; /* ".gopclntab", "runtime.pclntab" or "scan" */
	struct gobin_func *funcs; /* sorted by entry */
	size_t nfuncs;

	char go_version[64]; /* "go1.22.12", or "" when buildinfo is missing */
	int go_minor;        /* 22 for go1.22.12; 0 when unknown */
	/* From its module information ("" when not recorded): the main package, its
	 * module and the module's version ("(devel)" for a build in the module's tree). */
	char main_path[256], main_module[256], main_version[128];

	bool has_g_tls;
	int64_t g_tls;       /* g is at fs:[g_tls] (amd64) */
	const char *g_tls_source; /* how it was found */
	/* Where g lives when it is not in TLS: "r28" on arm64 (cmd/internal/obj/arm64:
	 * REGG; runtime/tls_arm64.s saves it to TLS only around cgo calls), else NULL. */
	const char *g_reg;
	struct gobin_goff goff;

	bool pie;     /* ET_DYN executable */
	bool dynamic; /* has PT_INTERP: the loader honours LD_PRELOAD */
	/* It imports libc's sigaction: runtime/cgo is linked in and the runtime installs
	 * its signal handlers through it (runtime/cgo/gcc_sigaction.c), where golat can
	 * stand in front of them (sigown.h). */
	bool cgo;
	/* Nothing but Go runs in it, and Go owns FS (runtime/sys_linux_amd64.s, settls):
	 * statically linked, or a PIE with a loader but no library (go build
	 * -buildmode=pie without cgo). The loader would preload libgolat.so there with a
	 * libc that cannot live beside Go, so golat hooks it from outside
	 * (lib/attach/static.h): the "static route". */
	bool nolibc;
	bool has_symtab;
	bool has_dwarf;
	uint64_t bias; /* load bias of the running image (gobin_open_self), else 0 */
};

/* Reads the Go binary at path. Returns 0, or a negative errno-style code with a
 * one-line reason in err ("not a Go binary: no pclntab found"). */
int gobin_open(struct gobin *gb, const char *path, char *err, size_t errlen);
/* The same for bytes in memory (the buffer must outlive gb); used by the fuzzer. */
int gobin_open_mem(struct gobin *gb, const void *data, size_t size, char *err, size_t errlen);
/* Reads /proc/self/exe and sets bias from the auxiliary vector. */
int gobin_open_self(struct gobin *gb, char *err, size_t errlen);
void gobin_close(struct gobin *gb);

/* The function containing link-time pc, or NULL. */
const struct gobin_func *gobin_func_at(const struct gobin *gb, uint64_t pc);
/* The first function named name, or NULL (names are not unique: ABI wrappers). */
const struct gobin_func *gobin_func_named(const struct gobin *gb, const char *name);
/* The source position of link-time pc, as the runtime's tables give it (funcline):
 * 0 with *file (a path inside the image) and *line; -ENOENT when no function holds pc
 * or the tables give it no position (assembly without line information), -EINVAL
 * when they are malformed. Decodes the function's tables from its start. */
int gobin_pc_line(const struct gobin *gb, uint64_t pc, const char **file, int32_t *line);
/* The bytes of a function's code [entry, end) in the image, or NULL. */
const uint8_t *gobin_code(const struct gobin *gb, const struct gobin_func *f);

/* Parts, each in its own file; called by gobin_open_mem in this order. */
int pclntab_read(struct gobin *gb, char *err, size_t errlen);
void buildinfo_read(struct gobin *gb);
void gtls_find(struct gobin *gb);
void goff_find(struct gobin *gb);

/* An unsigned LEB128 varint (Go's encoding/binary Uvarint) of at most 10 bytes among
 * the avail at p: true with *v and the bytes it took. */
static inline bool gobin_uvarint(const uint8_t *p, size_t avail, uint64_t *v, size_t *used)
{
	*v = 0;
	for (size_t i = 0; i < avail && i < 10; i++) {
		*v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*used = i + 1;
			return true;
		}
	}
	return false;
}

#endif
