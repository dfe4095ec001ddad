/* gtls: where the running goroutine's g pointer lives in thread-local storage.
 *
 * Go on linux/amd64 keeps g in a TLS slot (runtime.tlsg) read with the FS segment:
 * -8(FS) in ordinary binaries, but a cgo binary linked with -extldflags=-static puts
 * libc's TLS first and the slot moves (-0x58 was seen). So we read the offset from the
 * runtime's own code, which is what the running program itself uses: the first
 * `mov …, fs:[disp]` or, in PIE where the linker relaxes the initial-exec access
 * (cmd/internal/obj/x86/obj6.go, -shared TLS), `mov reg, imm; mov …, fs:[reg]`.
 * runtime.cgocallback always touches it (asm_amd64.s: "get_tls(CX); MOVQ g(CX), BX").
 *
 * Go on linux/arm64 keeps g in a register, R28 (cmd/internal/obj/arm64/a.out.go, REGG),
 * in Go code and in the runtime's assembly alike; the TLS slot runtime.tls_g only keeps
 * it across cgo calls (runtime/tls_arm64.s, save_g/load_g). There is nothing to find:
 * g_reg says so. */
#include <capstone/capstone.h>
#include <string.h>

#include "gobin.h"

/* Scans one function; true with *off when it finds an FS-relative access of g. */
static bool scan_func(const struct gobin *gb, const struct gobin_func *f, csh cs, int64_t *off)
{
	const uint8_t *code = gobin_code(gb, f);
	if (!code || f->end - f->entry > 1 << 16)
		return false;
	cs_insn *insn;
	size_t n = cs_disasm(cs, code, f->end - f->entry, f->entry, 0, &insn);
	bool found = false;
	int64_t imm[X86_REG_ENDING] = { 0 }; /* last `mov reg, imm` seen, by register */
	bool has_imm[X86_REG_ENDING] = { false };
	for (size_t i = 0; i < n && !found; i++) {
		const cs_x86 *x = &insn[i].detail->x86;
		if (insn[i].id != X86_INS_MOV || x->op_count != 2)
			continue;
		const cs_x86_op *dst = &x->operands[0], *src = &x->operands[1];
		if (dst->type == X86_OP_REG && src->type == X86_OP_IMM && dst->size == 8) {
			imm[dst->reg] = src->imm;
			has_imm[dst->reg] = true;
			continue;
		}
		const cs_x86_op *m = src->type == X86_OP_MEM ? src : dst;
		if (m->type != X86_OP_MEM || m->mem.segment != X86_REG_FS || m->size != 8 ||
		    m->mem.index != X86_REG_INVALID)
			continue;
		if (m->mem.base == X86_REG_INVALID) {
			*off = m->mem.disp;
			found = true;
		} else if (m->mem.base < X86_REG_ENDING && has_imm[m->mem.base]) {
			*off = imm[m->mem.base] + m->mem.disp;
			found = true;
		}
	}
	cs_free(insn, n);
	return found;
}

static const char *const CANDIDATES[] = {
	"runtime.cgocallback", "runtime.gogo", "runtime.mcall", "runtime.systemstack",
	"runtime.asmcgocall", "runtime.rt0_go",
};

void gtls_find(struct gobin *gb)
{
	if (gb->arch == GOBIN_ARCH_ARM64) {
		gb->g_reg = "r28";
		return;
	}
	csh cs;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	int64_t off;
	for (size_t i = 0; i < sizeof(CANDIDATES) / sizeof(*CANDIDATES) && !gb->has_g_tls; i++) {
		const struct gobin_func *f = gobin_func_named(gb, CANDIDATES[i]);
		if (f && scan_func(gb, f, cs, &off)) {
			gb->has_g_tls = true;
			gb->g_tls = off;
			gb->g_tls_source = CANDIDATES[i];
		}
	}
	/* Renamed or inlined away in some release: any runtime function will do. */
	for (size_t i = 0; i < gb->nfuncs && !gb->has_g_tls; i++) {
		const struct gobin_func *f = &gb->funcs[i];
		if (strncmp(f->name, "runtime.", 8) == 0 && scan_func(gb, f, cs, &off)) {
			gb->has_g_tls = true;
			gb->g_tls = off;
			gb->g_tls_source = "runtime code";
		}
	}
	cs_close(&cs);
}
