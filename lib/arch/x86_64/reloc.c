/* reloc: moves a patch window's instructions to a trampoline; see reloc.h for the
 * rules. */
#include "reloc.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

int reloc_capstone_open(csh *handle)
{
	if (cs_open(CS_ARCH_X86, CS_MODE_64, handle) != CS_ERR_OK)
		return -ENOMEM;
	if (cs_option(*handle, CS_OPT_DETAIL, CS_OPT_ON) != CS_ERR_OK) {
		cs_close(handle);
		return -EINVAL;
	}
	return 0;
}

static pthread_key_t thread_cs_key;
static int thread_cs_key_rc = -1;

static void thread_cs_close(void *p)
{
	csh h = (csh)(uintptr_t)p;
	cs_close(&h);
}

static void thread_cs_key_create(void)
{
	thread_cs_key_rc = pthread_key_create(&thread_cs_key, thread_cs_close);
}

int reloc_capstone_thread(csh *handle)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, thread_cs_key_create);
	if (thread_cs_key_rc != 0)
		return -ENOMEM;
	void *p = pthread_getspecific(thread_cs_key);
	if (p) {
		*handle = (csh)(uintptr_t)p;
		return 0;
	}
	int rc = reloc_capstone_open(handle);
	if (rc == 0 && pthread_setspecific(thread_cs_key, (void *)(uintptr_t)*handle) != 0) {
		cs_close(handle);
		rc = -ENOMEM;
	}
	return rc;
}

static bool in_group(const cs_insn *insn, uint8_t group)
{
	const cs_detail *d = insn->detail;
	for (uint8_t i = 0; i < d->groups_count; i++)
		if (d->groups[i] == group)
			return true;
	return false;
}

/* Where the disp32 of insn's [rip+disp32] operand is: its offset in the bytes, 0
 * when insn has no such operand, -1 when it has one whose bytes cannot be found.
 * In 64-bit mode a rip displacement is always 32 bits, whatever the operand size
 * (capstone 4 reports disp_size 2 after a 0x66 prefix), so the 4 bytes at
 * disp_offset must read back as the displacement. */
static int rip_disp_offset(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;
	bool rip = false;
	for (uint8_t i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_RIP)
			rip = true;
	if (!rip)
		return 0;
	uint8_t off = x->encoding.disp_offset;
	int32_t disp;
	if (off == 0 || off + 4u > insn->size)
		return -1;
	memcpy(&disp, insn->bytes + off, 4);
	return disp == (int32_t)x->disp ? off : -1;
}

/* An operand addressed relative to EIP (rip with an 0x67 prefix) wraps at 4 GiB. */
static bool eip_relative(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;
	for (uint8_t i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_EIP)
			return true;
	return false;
}

const char *reloc_refusal(const cs_insn *insn)
{
	if (insn->id == X86_INS_INVALID || !insn->detail)
		return "capstone does not know it";
	switch (insn->id) {
	case X86_INS_LOOP:
	case X86_INS_LOOPE:
	case X86_INS_LOOPNE:
	case X86_INS_JRCXZ:
	case X86_INS_JECXZ:
	case X86_INS_JCXZ:
		return "it has only a rel8 form, which cannot reach back from a trampoline";
	case X86_INS_XBEGIN:
		return "a transaction's abort address cannot be moved";
	case X86_INS_SYSCALL:
	case X86_INS_SYSENTER:
	case X86_INS_UD2:
	case X86_INS_UD2B:
	case X86_INS_UD0:
	case X86_INS_HLT:
		return "it traps or enters the kernel";
	}
	if (in_group(insn, CS_GRP_CALL))
		return "a return address inside a trampoline is fatal to Go's unwinder";
	if (in_group(insn, CS_GRP_RET) || in_group(insn, CS_GRP_IRET))
		return "a ret can only end a return window";
	if (in_group(insn, CS_GRP_INT))
		return "it traps or enters the kernel";
	if (in_group(insn, CS_GRP_JUMP)) {
		const cs_x86 *x = &insn->detail->x86;
		if (insn->id == X86_INS_LJMP)
			return "a far jump";
		if (x->op_count != 1 || x->operands[0].type != X86_OP_IMM)
			return "an indirect jump's targets are unknown";
		/* Only the plain encodings are re-encoded: a prefixed branch (bnd, hint)
		 * would need its prefixes carried over. */
		const uint8_t *b = insn->bytes;
		bool plain = (insn->size == 2 && (b[0] == 0xEB || (b[0] & 0xF0) == 0x70)) ||
			     (insn->size == 5 && b[0] == 0xE9) ||
			     (insn->size == 6 && b[0] == 0x0F && (b[1] & 0xF0) == 0x80);
		if (!plain)
			return "a branch with prefixes";
	}
	if (eip_relative(insn))
		return "an eip-relative operand wraps at 4 GiB";
	if (rip_disp_offset(insn) < 0)
		return "its rip displacement cannot be found in its bytes";
	return NULL;
}

bool reloc_rel32_reaches(uint64_t next, uint64_t to)
{
	int64_t d = (int64_t)(to - next);
	return d >= INT32_MIN && d <= INT32_MAX;
}

static void put32(uint8_t *p, int32_t v)
{
	memcpy(p, &v, 4);
}

int reloc_jmp32(uint8_t out[RELOC_JMP32_LEN], uint64_t from, uint64_t to)
{
	uint64_t next = from + RELOC_JMP32_LEN;
	if (!reloc_rel32_reaches(next, to))
		return -ERANGE;
	out[0] = 0xE9;
	put32(out + 1, (int32_t)(to - next));
	return 0;
}

int reloc_jmp8(uint8_t out[RELOC_JMP8_LEN], uint64_t from, uint64_t to)
{
	int64_t d = (int64_t)(to - (from + RELOC_JMP8_LEN));
	if (d < INT8_MIN || d > INT8_MAX)
		return -ERANGE;
	out[0] = 0xEB;
	out[1] = (uint8_t)(int8_t)d;
	return 0;
}

/* One relocated instruction. */
struct emit {
	uint8_t *out;
	size_t cap, len;
	char *reason;
	size_t reasonlen;
};

static int emit_room(struct emit *e, size_t n)
{
	if (e->len + n > e->cap) {
		snprintf(e->reason, e->reasonlen, "relocated code needs more than %zu bytes", e->cap);
		return -ENOSPC;
	}
	return 0;
}

/* jmp/jcc of any width becomes E9 rel32 / 0F 8x rel32 at dst. */
static int emit_branch(struct emit *e, const cs_insn *insn, uint64_t dst)
{
	const uint8_t *b = insn->bytes;
	uint64_t to = (uint64_t)insn->detail->x86.operands[0].imm;
	bool jmp = b[0] == 0xEB || b[0] == 0xE9;
	size_t n = jmp ? 5 : 6;
	int rc = emit_room(e, n);
	if (rc)
		return rc;
	uint64_t next = dst + n;
	if (!reloc_rel32_reaches(next, to)) {
		snprintf(e->reason, e->reasonlen,
			 "%s at 0x%" PRIx64 " to 0x%" PRIx64 " is out of rel32 reach from 0x%" PRIx64,
			 insn->mnemonic, insn->address, to, dst);
		return -ERANGE;
	}
	uint8_t *p = e->out + e->len;
	if (jmp) {
		p[0] = 0xE9;
	} else {
		uint8_t cc = (b[0] == 0x0F ? b[1] : b[0]) & 0x0F;
		p[0] = 0x0F;
		p[1] = 0x80 | cc;
	}
	put32(p + n - 4, (int32_t)(to - next));
	e->len += n;
	return 0;
}

/* Copies insn to dst, adjusting a [rip+disp32] operand if it has one (reloc_refusal
 * has checked that its displacement can be found). */
static int emit_copy(struct emit *e, const cs_insn *insn, uint64_t dst)
{
	int rc = emit_room(e, insn->size);
	if (rc)
		return rc;
	uint8_t *p = e->out + e->len;
	memcpy(p, insn->bytes, insn->size);
	int off = rip_disp_offset(insn);
	if (off > 0) {
		int32_t old;
		memcpy(&old, insn->bytes + off, 4);
		/* Same length, so the target next+disp stays put when disp grows by the
		 * distance the instruction moved back. */
		int64_t disp = (int64_t)old + (int64_t)(insn->address - dst);
		if (disp < INT32_MIN || disp > INT32_MAX) {
			snprintf(e->reason, e->reasonlen,
				 "%s %s at 0x%" PRIx64 ": its rip-relative operand is out of reach from 0x%" PRIx64,
				 insn->mnemonic, insn->op_str, insn->address, dst);
			return -ERANGE;
		}
		put32(p + off, (int32_t)disp);
	}
	e->len += insn->size;
	return 0;
}

/* A branch back into the window lands on bytes the patch jump overwrote, except
 * at the first byte, which holds the jump itself. */
static bool into_window(const cs_insn *insn, uint64_t src, size_t len)
{
	if (!in_group(insn, CS_GRP_JUMP))
		return false;
	uint64_t to = (uint64_t)insn->detail->x86.operands[0].imm;
	return to > src && to < src + len;
}

static int relocate_one(struct emit *e, const cs_insn *insn, uint64_t src, size_t len,
			uint64_t dst, bool last, unsigned flags)
{
	if (last && (flags & RELOC_DROP_RET)) {
		if (insn->id != X86_INS_RET || insn->size != 1) {
			snprintf(e->reason, e->reasonlen,
				 "window at 0x%" PRIx64 " does not end with a plain ret", src);
			return -EINVAL;
		}
		return 0;
	}
	const char *why = reloc_refusal(insn);
	if (why) {
		snprintf(e->reason, e->reasonlen, "%s%s%s at 0x%" PRIx64 " cannot be relocated: %s",
			 insn->mnemonic, insn->op_str[0] ? " " : "", insn->op_str, insn->address, why);
		return -EINVAL;
	}
	if (into_window(insn, src, len)) {
		snprintf(e->reason, e->reasonlen,
			 "%s %s at 0x%" PRIx64 " jumps into its own window", insn->mnemonic,
			 insn->op_str, insn->address);
		return -EINVAL;
	}
	if (in_group(insn, CS_GRP_JUMP))
		return emit_branch(e, insn, dst);
	return emit_copy(e, insn, dst);
}

int reloc_window(const uint8_t *code, size_t len, uint64_t src, uint64_t dst, unsigned flags,
		 uint8_t *out, size_t cap, size_t *outlen, char *reason, size_t reasonlen)
{
	struct emit e = { .out = out, .cap = cap, .reason = reason, .reasonlen = reasonlen };
	csh cs;
	int rc = reloc_capstone_thread(&cs);
	if (rc) {
		snprintf(reason, reasonlen, "cannot open capstone");
		return rc;
	}
	cs_insn *insn = cs_malloc(cs);
	if (!insn) {
		snprintf(reason, reasonlen, "out of memory");
		return -ENOMEM;
	}
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = src;
	while (left > 0) {
		if (!cs_disasm_iter(cs, &p, &left, &addr, insn)) {
			snprintf(reason, reasonlen, "cannot decode the instruction at 0x%" PRIx64, addr);
			rc = -EINVAL;
			break;
		}
		rc = relocate_one(&e, insn, src, len, dst + e.len, left == 0, flags);
		if (rc)
			break;
	}
	/* cs_disasm_iter never decodes past the buffer, so an instruction that would
	 * straddle the window's end shows up as a decode failure above. */
	cs_free(insn, 1);
	*outlen = rc ? 0 : e.len;
	return rc;
}

int reloc_map(const uint8_t *code, size_t len, uint64_t src, uint64_t dst, struct reloc_place *place,
	      size_t cap, size_t *n, char *reason, size_t reasonlen)
{
	csh cs;
	*n = 0;
	if (reloc_capstone_thread(&cs) != 0) {
		snprintf(reason, reasonlen, "cannot open capstone");
		return -ENOMEM;
	}
	cs_insn *insn;
	size_t cnt = cs_disasm(cs, code, len, src, 0, &insn);
	int rc = 0;
	if (cnt == 0 || cnt > cap) {
		snprintf(reason, reasonlen, "window at %#llx: %s", (unsigned long long)src,
			 cnt ? "too many instructions" : "cannot decode it");
		rc = -EINVAL;
	}
	for (size_t i = 0; rc == 0 && i < cnt; i++) {
		size_t off = insn[i].address - src, olen = 0;
		uint8_t tmp[RELOC_MAX_OUT(32)];
		if (off && (rc = reloc_window(code, off, src, dst, 0, tmp, sizeof(tmp), &olen, reason,
					      reasonlen)) != 0)
			break;
		place[i] = (struct reloc_place){ insn[i].address, dst + olen, insn[i].id == X86_INS_RET };
		*n = i + 1;
	}
	cs_free(insn, cnt);
	return rc;
}
