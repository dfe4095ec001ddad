/* csim: see csim.h. */
#include "csim.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { GPR_X, GPR_W, VEC, ZR, OTHER };

/* Kind and number of a capstone register, by its name (x0..x30, w0..w30, xzr/wzr,
 * b/h/s/d/q vector registers). */
static int reg_of(csh cs, unsigned reg, int *num)
{
	const char *n = cs_reg_name(cs, reg);
	*num = -1;
	if (!n)
		return OTHER;
	if (strcmp(n, "xzr") == 0 || strcmp(n, "wzr") == 0)
		return ZR;
	if (strcmp(n, "fp") == 0 || strcmp(n, "x29") == 0)
		return *num = 29, GPR_X;
	if (strcmp(n, "lr") == 0 || strcmp(n, "x30") == 0)
		return *num = 30, GPR_X;
	if ((n[0] == 'x' || n[0] == 'w') && n[1] >= '0' && n[1] <= '9') {
		*num = atoi(n + 1);
		return n[0] == 'x' ? GPR_X : GPR_W;
	}
	if (strchr("bhsdq", n[0]) && n[1] >= '0' && n[1] <= '9') {
		*num = atoi(n + 1);
		return VEC;
	}
	return OTHER;
}

uint64_t csim_loaded(uint64_t addr, unsigned size, bool sign)
{
	uint64_t v = (addr * 0x9e3779b97f4a7c15ull) ^ 0xa5a5a5a55a5a5a5aull;
	if (size == 4)
		v = sign ? (uint64_t)(int64_t)(int32_t)v : (uint32_t)v;
	return v;
}

bool csim_cond(int cc, unsigned nzcv)
{
	bool n = nzcv & 8, z = nzcv & 4, c = nzcv & 2, v = nzcv & 1;
	switch (cc - 1) {
	case 0: return z;
	case 1: return !z;
	case 2: return c;
	case 3: return !c;
	case 4: return n;
	case 5: return !n;
	case 6: return v;
	case 7: return !v;
	case 8: return c && !z;
	case 9: return !(c && !z);
	case 10: return n == v;
	case 11: return n != v;
	case 12: return !z && n == v;
	case 13: return !(!z && n == v);
	default: return true; /* AL, NV */
	}
}

struct sim {
	csh cs;
	struct csim_result *r;
	char *err;
	size_t errlen;
};

static int fail(struct sim *s, const cs_insn *in, const char *what)
{
	snprintf(s->err, s->errlen, "csim: %s %s at 0x%" PRIx64 ": %s", in->mnemonic, in->op_str, in->address, what);
	return -1;
}

static uint64_t get(struct sim *s, unsigned reg)
{
	int n;
	int k = reg_of(s->cs, reg, &n);
	if (k == GPR_X)
		return s->r->x[n];
	if (k == GPR_W)
		return (uint32_t)s->r->x[n];
	return 0;
}

static void set(struct sim *s, unsigned reg, uint64_t v)
{
	int n;
	int k = reg_of(s->cs, reg, &n);
	if (k == GPR_X)
		s->r->x[n] = v;
	else if (k == GPR_W)
		s->r->x[n] = (uint32_t)v;
}

/* A load of operand 1 into operand 0 (literal: an immediate address; else [Xn, #d]). */
static int load(struct sim *s, const cs_insn *in)
{
	const cs_arm64 *a = &in->detail->arm64;
	if (a->op_count != 2)
		return fail(s, in, "unexpected operands");
	const cs_arm64_op *src = &a->operands[1];
	uint64_t addr;
	if (src->type == ARM64_OP_IMM)
		addr = (uint64_t)src->imm;
	else if (src->type == ARM64_OP_MEM && src->mem.index == ARM64_REG_INVALID)
		addr = get(s, src->mem.base) + (uint64_t)(int64_t)src->mem.disp;
	else
		return fail(s, in, "unexpected addressing");
	if (in->id == ARM64_INS_PRFM) {
		s->r->prefetch = true;
		s->r->paddr = addr;
		return 0;
	}
	int n;
	int k = reg_of(s->cs, a->operands[0].reg, &n);
	const char *name = cs_reg_name(s->cs, a->operands[0].reg);
	if (k == VEC) {
		s->r->vreg = n;
		s->r->vaddr = addr;
		s->r->vsize = name[0] == 's' ? 4 : name[0] == 'd' ? 8 : 16;
		return 0;
	}
	unsigned size = k == GPR_W || in->id == ARM64_INS_LDRSW ? 4 : 8;
	set(s, a->operands[0].reg, csim_loaded(addr, size, in->id == ARM64_INS_LDRSW));
	return 0;
}

/* Executes one instruction; *next is where control goes. */
static int step(struct sim *s, const cs_insn *in, uint64_t *next)
{
	const cs_arm64 *a = &in->detail->arm64;
	const cs_arm64_op *op = a->operands;
	*next = in->address + 4;
	switch (in->id) {
	case ARM64_INS_NOP:
		return 0;
	case ARM64_INS_ADR:
	case ARM64_INS_ADRP:
		set(s, op[0].reg, (uint64_t)op[1].imm);
		return 0;
	case ARM64_INS_MOVZ:
	case ARM64_INS_MOVK: {
		unsigned sh = op[1].shift.type == ARM64_SFT_LSL ? op[1].shift.value : 0;
		uint64_t v = (uint64_t)op[1].imm << sh;
		uint64_t keep = in->id == ARM64_INS_MOVK ? get(s, op[0].reg) & ~(0xffffull << sh) : 0;
		set(s, op[0].reg, keep | v);
		return 0;
	}
	case ARM64_INS_ADD:
		if (a->op_count != 3 || op[2].type != ARM64_OP_IMM || op[2].shift.type)
			return fail(s, in, "only ADD Xd, Xn, #imm12");
		set(s, op[0].reg, get(s, op[1].reg) + (uint64_t)op[2].imm);
		return 0;
	case ARM64_INS_MOV:
		if (a->op_count != 2 || op[1].type != ARM64_OP_REG)
			return fail(s, in, "only MOV Xd, Xm");
		set(s, op[0].reg, get(s, op[1].reg));
		return 0;
	case ARM64_INS_LDR:
	case ARM64_INS_LDRSW:
	case ARM64_INS_PRFM:
		return load(s, in);
	case ARM64_INS_B:
		if (a->cc == ARM64_CC_INVALID || csim_cond(a->cc, s->r->nzcv_in))
			*next = (uint64_t)op[0].imm;
		return 0;
	case ARM64_INS_BL:
		s->r->x[30] = in->address + 4;
		*next = (uint64_t)op[0].imm;
		return 0;
	case ARM64_INS_CBZ:
	case ARM64_INS_CBNZ:
		if ((get(s, op[0].reg) == 0) == (in->id == ARM64_INS_CBZ))
			*next = (uint64_t)op[1].imm;
		return 0;
	case ARM64_INS_TBZ:
	case ARM64_INS_TBNZ: {
		bool set_bit = (get(s, op[0].reg) >> op[1].imm) & 1;
		if (set_bit == (in->id == ARM64_INS_TBNZ))
			*next = (uint64_t)op[2].imm;
		return 0;
	}
	case ARM64_INS_BR:
		*next = get(s, op[0].reg);
		return 0;
	case ARM64_INS_BLR: {
		uint64_t t = get(s, op[0].reg);
		s->r->x[30] = in->address + 4;
		*next = t;
		return 0;
	}
	case ARM64_INS_RET:
		*next = a->op_count ? get(s, op[0].reg) : s->r->x[30];
		return 0;
	}
	return fail(s, in, "not simulated");
}

int csim_run(csh cs, const uint32_t *words, size_t n, uint64_t pc, const struct csim_state *in,
	     struct csim_result *out, char *err, size_t errlen)
{
	struct sim s = { .cs = cs, .r = out, .err = err, .errlen = errlen };
	memset(out, 0, sizeof *out);
	memcpy(out->x, in->x, sizeof out->x);
	out->nzcv_in = in->nzcv;
	out->vreg = -1;
	uint64_t at = pc;
	while (at >= pc && at < pc + 4 * n) {
		cs_insn *insn;
		const uint32_t *w = &words[(at - pc) / 4];
		if (cs_disasm(cs, (const uint8_t *)w, 4, at, 1, &insn) != 1) {
			snprintf(err, errlen, "csim: capstone cannot decode %08" PRIx32 " at 0x%" PRIx64, *w, at);
			return -1;
		}
		uint64_t next;
		int rc = step(&s, insn, &next);
		cs_free(insn, 1);
		if (rc)
			return rc;
		if (++out->steps > 64) {
			snprintf(err, errlen, "csim: more than 64 steps (a loop?)");
			return -1;
		}
		at = next;
	}
	out->exit_pc = at == pc + 4 * n ? CSIM_FALLTHROUGH : at;
	return 0;
}

const char *csim_same(const struct csim_result *o, uint64_t from, const struct csim_result *r, int scratch,
		      char *buf, size_t len)
{
	/* A branch to from + 4 and running on are the same thing: the trampoline goes on
	 * to from + 4 after the relocated words. */
	uint64_t oexit = o->exit_pc == from + 4 ? CSIM_FALLTHROUGH : o->exit_pc;
	uint64_t rexit = r->exit_pc == from + 4 ? CSIM_FALLTHROUGH : r->exit_pc;
	if (oexit != rexit) {
		snprintf(buf, len, "exit 0x%" PRIx64 " instead of 0x%" PRIx64, rexit, oexit);
		return buf;
	}
	for (int i = 0; i < 31; i++)
		if (i != scratch && o->x[i] != r->x[i]) {
			snprintf(buf, len, "x%d = 0x%" PRIx64 " instead of 0x%" PRIx64, i, r->x[i], o->x[i]);
			return buf;
		}
	if (o->vreg != r->vreg || o->vaddr != r->vaddr || o->vsize != r->vsize) {
		snprintf(buf, len, "vector load v%d of %u at 0x%" PRIx64 " instead of v%d of %u at 0x%" PRIx64, r->vreg,
			 r->vsize, r->vaddr, o->vreg, o->vsize, o->vaddr);
		return buf;
	}
	if (r->prefetch && (!o->prefetch || o->paddr != r->paddr)) {
		snprintf(buf, len, "prefetch of 0x%" PRIx64 " that the original does not do", r->paddr);
		return buf;
	}
	return NULL;
}
