/* dwarf_args: the parameters and results of Go functions, and the registers that hold
 * them, from the DWARF of an ELF image.
 *
 * golat keeps, for the slowest calls of a hooked function, the nine integer argument
 * registers of Go's ABIInternal at entry and the same nine at return. This names them:
 * for a function identified by its entry (the DW_AT_low_pc of its DW_TAG_subprogram,
 * a link-time address), its parameters then its results, in order, each with its
 * name, Go type name, kind, and which registers hold its parts, assigned exactly as
 * cmd/compile/internal/abi/abiutils.go does (the rules are in dwarf_abi.c).
 *
 * Build an index once for all the entries wanted (one walk over .debug_info, however
 * many functions), then look functions up in it. Every byte of the image is untrusted:
 * malformed DWARF gives an error, or a parameter marked DWARF_WHERE_UNKNOWN, never an
 * out-of-bounds read. The index owns every string and array it hands out. */
#ifndef GOLAT_DWARF_ARGS_H
#define GOLAT_DWARF_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elfimg.h"

/* The integer registers of Go's ABIInternal on amd64, in assignment order
 * (cmd/compile/abi-internal.md, "amd64 architecture"): part registers 0-8. Part
 * registers 9-23 are the float registers X0-X14, which golat does not capture.
 * On arm64 ("arm64 architecture") the integer registers are R0-R15 and the float
 * ones F0-F15: part registers 24-39 and 40-55. One numbering for both, so that a part
 * names its register without the binary at hand; the image's e_machine chooses. */
#define DWARF_INT_REGS 9
#define DWARF_FLOAT_REGS 15
#define DWARF_REG_X0 DWARF_INT_REGS
#define DWARF_ARM64_INT_REGS 16
#define DWARF_ARM64_FLOAT_REGS 16
#define DWARF_REG_R0 (DWARF_INT_REGS + DWARF_FLOAT_REGS)
#define DWARF_REG_F0 (DWARF_REG_R0 + DWARF_ARM64_INT_REGS)
#define DWARF_NREGS (DWARF_REG_F0 + DWARF_ARM64_FLOAT_REGS)
extern const char *const dwarf_reg_names[DWARF_NREGS]; /* "rax"... "x14", "r0"... "f15" */

enum dwarf_kind {
	DWARF_KIND_OTHER,   /* a type we do not read; its parts are raw words */
	DWARF_KIND_INT,     /* int, int8 ... int64 (size says which) */
	DWARF_KIND_UINT,    /* uint, uint8 ... uint64, uintptr */
	DWARF_KIND_BOOL,
	DWARF_KIND_FLOAT,   /* float32, float64, complex64, complex128: float registers */
	DWARF_KIND_POINTER, /* pointers, unsafe.Pointer, maps, chans, funcs: one word */
	DWARF_KIND_STRING,  /* parts: data pointer, length */
	DWARF_KIND_SLICE,   /* parts: array pointer, length, capacity */
	DWARF_KIND_IFACE,   /* parts: type or itab pointer, data pointer */
	DWARF_KIND_STRUCT,  /* parts: its fields' parts, in order */
	DWARF_KIND_ARRAY,   /* in registers only with 0 or 1 element */
};

enum dwarf_where {
	DWARF_WHERE_REGS,    /* every part in a register: part[] says which */
	DWARF_WHERE_STACK,   /* the whole value in memory: it did not fit (abiutils.go) */
	DWARF_WHERE_NONE,    /* zero-sized: nothing to show */
	DWARF_WHERE_UNKNOWN, /* its type could not be read; so is every later one's */
};

/* One register-sized piece of a value: which register, and what it holds. */
struct dwarf_part {
	uint8_t reg;  /* dwarf_reg_names: amd64 0-8 integer, 9-23 X0-X14; arm64 24-39
		       * R0-R15, 40-55 F0-F15 */
	uint8_t kind; /* enum dwarf_kind of the scalar: INT, UINT, BOOL, FLOAT, POINTER */
	uint8_t size; /* bytes of the register that are meaningful: 1, 2, 4 or 8 */
};

struct dwarf_param {
	const char *name;  /* "x"; "~r0", "~p0" for unnamed ones; ".dict" for a dictionary */
	const char *type;  /* Go's name for the type: "int", "*main.T", "[]uint8"; "" if none */
	enum dwarf_kind kind;
	uint64_t size;     /* bytes */
	uint8_t align;     /* bytes */
	bool result;       /* a result (DW_AT_variable_parameter), assigned from register 0 again */
	bool synthetic;    /* not in the DWARF: the dictionary Go before 1.27 does not list,
			    * or an unnamed pointer receiver Go before 1.22 leaves out */
	enum dwarf_where where;
	uint8_t nparts;    /* with DWARF_WHERE_REGS */
	const struct dwarf_part *part;
};

/* What the argument frame the compiler recorded for the function (_func.args in the
 * pclntab, when the caller gives it) says of the signature. */
enum dwarf_sig_check {
	DWARF_SIG_UNCHECKED,  /* no frame size given */
	DWARF_SIG_OK,         /* the frame is the one the register assignment implies */
	DWARF_SIG_ABI0,       /* the ABI0 wrapper of a Go function called from assembly (a
			       * .abi0 symbol at the entry, and ABI0's frame, where everything
			       * is on the stack), which has the Go function's DWARF. Every
			       * parameter is then marked DWARF_WHERE_STACK (or NONE) */
	DWARF_SIG_INCOMPLETE, /* neither: the DWARF leaves a parameter out (a blank or unnamed
			       * one before Go 1.22, the parameters of a method value wrapper
			       * in Go 1.19), and the registers shown for those after it are
			       * wrong; or an assembly function, whose DWARF lists none */
};

struct dwarf_func_sig {
	uint64_t entry;
	const char *name;  /* the DW_TAG_subprogram's name (or its abstract origin's) */
	bool wrapper;      /* DW_AT_trampoline: a compiler-made wrapper (method value, ...) */
	enum dwarf_sig_check check;
	size_t nparams;    /* parameters (receiver first, then the declared ones) and results */
	const struct dwarf_param *param;
};

struct dwarf_args; /* opaque: the index */

/* Walks .debug_info once and keeps the signatures of the functions whose entries are
 * among entries[0, n) (any order, duplicates allowed). Functions without a DWARF
 * subprogram are simply absent from the index. frames, NULL or n sizes in the same
 * order (gobin_func.args, the pclntab's _func.args), lets each signature be checked
 * (enum dwarf_sig_check) and repaired where it can be: do give it, or an ABI0 wrapper's
 * registers and a parameter the DWARF leaves out go unnoticed.
 * Returns 0 with *out set (free it with dwarf_args_free);
 *   -ENOENT     the image has no DWARF (stripped): found in microseconds;
 *   -EINVAL     the DWARF is malformed;
 *   -EOPNOTSUPP a section is compressed with something other than zlib;
 *   -ENOMEM     out of memory. */
int dwarf_args_index(const struct elf_image *im, const uint64_t *entries, const uint32_t *frames,
		     size_t n, struct dwarf_args **out);

/* The signature of the function at entry: 0 with *sig set, or -ENOENT when the index
 * has none (not asked for, or no DWARF for it). *sig lives as long as the index. */
int dwarf_func_args(const struct dwarf_args *ix, uint64_t entry,
		    const struct dwarf_func_sig **sig);

/* The size of the argument frame the register ABI gives s: its stack-assigned
 * parameters and results, then a spill slot per register-assigned parameter
 * (abiutils.go, ArgWidth); with abi0, the frame of ABI0, where all of them are on the
 * stack. The compiler records the function's own as _func.args in the pclntab: this is
 * what dwarf_args_index checks the signatures with. Returns 0 with *size, or -EINVAL
 * when a type is unknown. */
int dwarf_sig_frame_size(const struct dwarf_func_sig *s, bool abi0, uint64_t *size);

/* Number of functions found. */
size_t dwarf_args_count(const struct dwarf_args *ix);

void dwarf_args_free(struct dwarf_args *ix);

/* Reads len bytes of the traced process at addr into buf; false when it cannot (the
 * address is not mapped, say). It must be safe for any address. */
typedef bool (*dwarf_read_fn)(void *arg, uint64_t addr, void *buf, size_t len);

/* Bytes of a string's contents dwarf_arg_format shows before "...". */
#define DWARF_ARG_TEXT_MAX 64

/* Formats the value of p from the nine integer registers regs (RAX, RBX, RCX, RDI, RSI,
 * R8-R11 at entry for a parameter, at return for a result) into buf, NUL-terminated
 * (golat records amd64's registers only: a part in an arm64 register shows as "<r3>"):
 *   integers in decimal, signed or not, of their size (the rest of the register is
 *   junk); bool true/false; pointers 0x hex or nil; a string Go-quoted, at most
 *   DWARF_ARG_TEXT_MAX bytes of it read through read (NULL: no contents), then "...";
 *   a slice "0xPTR len=N cap=M"; an interface "(0xTYPE, 0xDATA)" or nil; a struct or
 *   an array "{part, part}"; a part in a float register "<xN>"; on the stack "<stack>";
 *   zero-sized "{}"; unknown "?".
 * Returns the length it wrote (truncated to size - 1), or -EINVAL for bad arguments. */
int dwarf_arg_format(const struct dwarf_param *p, const uint64_t regs[DWARF_INT_REGS],
		     dwarf_read_fn read, void *arg, char *buf, size_t size);

/* Where p is, as text: its registers joined by commas ("rbx,rcx", "rdi,x0,rsi"; on
 * arm64 "r1,r2", "r0,f0"), or
 * "stack", "none" (zero-sized), "unknown". Returns the length (truncated as snprintf). */
int dwarf_param_where(const struct dwarf_param *p, char *buf, size_t size);

/* "int", "uint", "bool", "float", "pointer", "string", "slice", "interface", "struct",
 * "array", "other". */
const char *dwarf_kind_name(enum dwarf_kind kind);

/* "unchecked", "ok", "abi0", "incomplete". */
const char *dwarf_check_name(enum dwarf_sig_check check);

#endif
