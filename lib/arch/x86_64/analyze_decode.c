/* analyze_decode: decodes one function for analyze (see analyze_decode.h): its
 * instructions, the facts the window rules read, and every branch target,
 * jump tables included. */
#include "analyze_decode.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "reloc.h"

/* Entries read from one jump table at most; Go's tables are bounded by the
 * switch's case count (cmd/compile/internal/walk/switch.go, minCases 8 and a
 * density rule), far below this. */
#define JUMP_TABLE_MAX 4096

/* The 64-bit general register that r is part of, 0..15, or -1. */
static int gpr(x86_reg r)
{
	static const x86_reg names[16][5] = {
		{ X86_REG_RAX, X86_REG_EAX, X86_REG_AX, X86_REG_AL, X86_REG_AH },
		{ X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH },
		{ X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL, X86_REG_DH },
		{ X86_REG_RBX, X86_REG_EBX, X86_REG_BX, X86_REG_BL, X86_REG_BH },
		{ X86_REG_RSP, X86_REG_ESP, X86_REG_SP, X86_REG_SPL, X86_REG_INVALID },
		{ X86_REG_RBP, X86_REG_EBP, X86_REG_BP, X86_REG_BPL, X86_REG_INVALID },
		{ X86_REG_RSI, X86_REG_ESI, X86_REG_SI, X86_REG_SIL, X86_REG_INVALID },
		{ X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL, X86_REG_INVALID },
	};
	if (r == X86_REG_INVALID)
		return -1;
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 5; j++)
			if (names[i][j] == r)
				return i;
	if (r >= X86_REG_R8 && r <= X86_REG_R15)
		return 8 + (r - X86_REG_R8);
	if (r >= X86_REG_R8B && r <= X86_REG_R15B)
		return 8 + (r - X86_REG_R8B);
	if (r >= X86_REG_R8D && r <= X86_REG_R15D)
		return 8 + (r - X86_REG_R8D);
	if (r >= X86_REG_R8W && r <= X86_REG_R15W)
		return 8 + (r - X86_REG_R8W);
	return -1;
}
#define GPR_RSP 4

/* May this instruction fault on program data? Memory operands based on RSP
 * (the goroutine stack), RIP (the binary's own data), [r14+disp] (g: Go ≥1.17
 * ABIInternal keeps it in R14, cmd/compile/abi-internal.md), fs/gs (TLS) and
 * absolute addresses cannot; any other base (a nil receiver in rax) can. lea and
 * the multi-byte nop name memory without touching it. A div can fault too (#DE). */
static bool ins_can_fault(const cs_insn *insn)
{
	switch (insn->id) {
	case X86_INS_LEA:
	case X86_INS_NOP:
	case X86_INS_PREFETCH:
	case X86_INS_PREFETCHNTA:
	case X86_INS_PREFETCHT0:
	case X86_INS_PREFETCHT1:
	case X86_INS_PREFETCHT2:
	case X86_INS_PREFETCHW:
		return false;
	case X86_INS_DIV:
	case X86_INS_IDIV:
		return true;
	}
	const cs_x86 *x = &insn->detail->x86;
	for (uint8_t i = 0; i < x->op_count; i++) {
		const cs_x86_op *op = &x->operands[i];
		if (op->type != X86_OP_MEM)
			continue;
		const x86_op_mem *m = &op->mem;
		if (m->segment == X86_REG_FS || m->segment == X86_REG_GS)
			continue;
		if (m->base == X86_REG_RIP || m->base == X86_REG_RSP)
			continue;
		if (m->base == X86_REG_R14 && m->index == X86_REG_INVALID)
			continue;
		if (m->base == X86_REG_INVALID && m->index == X86_REG_INVALID)
			continue;
		return true;
	}
	return false;
}

/* A growable array of addresses. */
struct addrs {
	uint64_t *v;
	size_t n, cap;
};

static int addrs_push(struct addrs *a, uint64_t x)
{
	if (array_grow(&a->v, a->n, &a->cap, sizeof(*a->v), 64))
		return -ENOMEM;
	a->v[a->n++] = x;
	return 0;
}

/* What the pass knows about registers, to find jump tables. Go ≥1.19 compiles a
 * dense switch to `lea rT, [rip+table]; jmp qword ptr [rT + rI*8]`
 * (cmd/compile/internal/amd64/ssa.go, BlockAMD64JUMPTABLE); the form
 * `mov rJ, [rT + rI*8]; jmp rJ` is recognised as well. Tracking is linear, across
 * blocks: a wrong association can only add targets, which is conservative. */
struct regs {
	uint64_t table[16];  /* register holds the address of a table */
	uint64_t loaded[16]; /* register holds an entry loaded from this table */
	uint16_t has_table, has_loaded;
};

struct pass {
	struct fn *f;
	csh cs;
	struct regs regs;
	struct addrs targets; /* pairs: the target's address, the branch's offset */
	struct addrs tables;  /* pairs: the table's address, the jmp's offset */
};

static bool is_table_mem(const struct regs *r, const x86_op_mem *m, uint64_t *table)
{
	int b = gpr(m->base);
	if (b < 0 || !(r->has_table >> b & 1) || m->index == X86_REG_INVALID || m->scale != 8)
		return false;
	*table = r->table[b] + (uint64_t)m->disp;
	return true;
}

/* An indirect jump: a jump table, or a tail call through a register. */
static int see_indirect_jump(struct pass *ps, const cs_insn *insn, uint32_t idx)
{
	const cs_x86_op *op = &insn->detail->x86.operands[0];
	uint64_t table;
	bool found = false;
	if (op->type == X86_OP_MEM) {
		found = is_table_mem(&ps->regs, &op->mem, &table);
	} else if (op->type == X86_OP_REG) {
		int r = gpr(op->reg);
		if (r >= 0 && (ps->regs.has_loaded >> r & 1)) {
			table = ps->regs.loaded[r];
			found = true;
		}
	}
	if (found) {
		int rc = addrs_push(&ps->tables, table);
		return rc ? rc : addrs_push(&ps->tables, ps->f->ins[idx].off);
	}
	struct fn *f = ps->f;
	if (op->type == X86_OP_MEM && op->mem.index != X86_REG_INVALID && op->mem.base != X86_REG_RIP) {
		/* Looks like a table we could not place: its targets are unknown. */
		snprintf(f->reason, f->reasonlen, "%s: jump through an unknown table at +0x%" PRIx32,
			 f->name, f->ins[idx].off);
		return -EINVAL;
	}
	f->ins[idx].flags |= INS_EXIT;
	if (f->exit_idx < 0) {
		f->exit_idx = idx;
		f->exit_indirect = true;
	}
	return 0;
}

/* Updates the register facts after insn (which reads before it writes). */
static void track_regs(struct pass *ps, const cs_insn *insn, const cs_regs wr, uint8_t nwr)
{
	struct regs *r = &ps->regs;
	const cs_x86 *x = &insn->detail->x86;
	uint64_t table = 0;
	int dst = -1, kind = 0; /* 1: dst holds a table, 2: an entry of one */
	if (x->op_count == 2 && x->operands[0].type == X86_OP_REG && x->operands[1].type == X86_OP_MEM) {
		const x86_op_mem *m = &x->operands[1].mem;
		dst = gpr(x->operands[0].reg);
		if (insn->id == X86_INS_LEA && m->base == X86_REG_RIP && m->index == X86_REG_INVALID) {
			table = insn->address + insn->size + (uint64_t)m->disp;
			kind = 1;
		} else if (insn->id == X86_INS_MOV && x->operands[0].size == 8 &&
			   is_table_mem(r, m, &table)) {
			kind = 2;
		}
	}
	for (uint8_t i = 0; i < nwr; i++) {
		int g = gpr(wr[i]);
		if (g >= 0) {
			r->has_table &= ~(1u << g);
			r->has_loaded &= ~(1u << g);
		}
	}
	if (dst >= 0 && kind == 1) {
		r->table[dst] = table;
		r->has_table |= 1u << dst;
	} else if (dst >= 0 && kind == 2) {
		r->loaded[dst] = table;
		r->has_loaded |= 1u << dst;
	}
}

/* Records one decoded instruction. */
static int see(struct pass *ps, const cs_insn *insn)
{
	struct fn *f = ps->f;
	if (f->nins == f->capins) {
		uint32_t cap = f->capins ? 2 * f->capins : 256;
		struct ins *v = realloc(f->ins, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		f->ins = v;
		f->capins = cap;
	}
	uint32_t idx = f->nins++;
	struct ins *in = &f->ins[idx];
	*in = (struct ins){ .off = (uint32_t)(insn->address - f->in->entry), .len = (uint8_t)insn->size };

	cs_regs rd, wr;
	uint8_t nrd = 0, nwr = 0;
	if (cs_regs_access(ps->cs, insn, rd, &nrd, wr, &nwr) != CS_ERR_OK) {
		/* Unknown effects: assume the worst of it. */
		nwr = 0;
		in->flags |= INS_WRSP;
		ps->regs = (struct regs){ 0 };
	}
	for (uint8_t i = 0; i < nwr; i++)
		if (gpr(wr[i]) == GPR_RSP)
			in->flags |= INS_WRSP;
	if (ins_can_fault(insn) && !(f->in->opts & ANALYZE_SIGNALS_OWNED))
		in->flags |= INS_FAULT;
	if (insn->id == X86_INS_NOP || (insn->size == 2 && insn->bytes[0] == 0x66 && insn->bytes[1] == 0x90))
		in->flags |= INS_NOP;
	if (insn->id == X86_INS_RET && insn->size == 1) {
		in->flags |= INS_RET;
	} else if (insn->id == X86_INS_RET) {
		/* ret imm16 or a prefixed ret: Go emits neither. */
		snprintf(f->reason, f->reasonlen, "%s: unexpected %s %s at +0x%" PRIx32, f->name,
			 insn->mnemonic, insn->op_str, in->off);
		return -EINVAL;
	} else {
		in->refusal = reloc_refusal(insn);
	}

	const cs_x86 *x = &insn->detail->x86;
	for (uint8_t i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_RIP)
			in->flags |= INS_PCREL;
	if (cs_insn_group(ps->cs, insn, CS_GRP_BRANCH_RELATIVE))
		in->flags |= INS_PCREL;
	bool jump = cs_insn_group(ps->cs, insn, CS_GRP_JUMP), call = cs_insn_group(ps->cs, insn, CS_GRP_CALL);
	int rc = 0;
	if ((jump || call || cs_insn_group(ps->cs, insn, CS_GRP_BRANCH_RELATIVE)) && x->op_count == 1 &&
	    x->operands[0].type == X86_OP_IMM) {
		uint64_t to = (uint64_t)x->operands[0].imm;
		if (to >= f->in->entry && to < f->in->end) {
			rc = addrs_push(&ps->targets, to);
			if (rc == 0)
				rc = addrs_push(&ps->targets, in->off);
		} else if (jump) {
			in->flags |= INS_EXIT;
			if (f->exit_idx < 0) {
				f->exit_idx = idx;
				f->exit_to = to;
			}
		}
	} else if (jump) {
		rc = see_indirect_jump(ps, insn, idx);
	}
	track_regs(ps, insn, wr, nwr);
	return rc;
}

int64_t fn_index_at(const struct fn *f, uint32_t off)
{
	uint32_t lo = 0, hi = f->nins;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (f->ins[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < f->nins && f->ins[lo].off == off ? (int64_t)lo : -1;
}

/* Whether the branch at ins[i] is a jmp or jcc whose displacement golat can rewrite
 * (rel8: EB, 70-7F; rel32: E9, 0F 80-8F). Go emits no prefix on them. */
static bool steerable(const struct fn *f, uint32_t i)
{
	const uint8_t *p = f->in->code + f->ins[i].off;
	uint8_t n = f->ins[i].len;
	if (n == 2)
		return p[0] == 0xeb || (p[0] & 0xf0) == 0x70;
	if (n == 5)
		return p[0] == 0xe9;
	return n == 6 && p[0] == 0x0f && (p[1] & 0xf0) == 0x80;
}

/* Marks the instruction at address `to` as a target of what is at +from (an
 * instruction when edge, a jump table's jmp otherwise). */
static int mark_target(struct fn *f, uint64_t to, const char *what, uint32_t from, bool edge)
{
	uint32_t off = (uint32_t)(to - f->in->entry);
	int64_t idx = off < f->body_len ? fn_index_at(f, off) : -1;
	if (idx < 0) {
		snprintf(f->reason, f->reasonlen, "%s: %s at +0x%" PRIx32 " lands at +0x%" PRIx32
			 ", not on an instruction", f->name, what, from, off);
		return -EINVAL;
	}
	if (!(f->ins[idx].flags & INS_TARGET))
		f->ntargets++;
	f->ins[idx].flags |= INS_TARGET;
	int64_t src = edge ? fn_index_at(f, from) : -1;
	if (src < 0 || !steerable(f, (uint32_t)src)) {
		f->ins[idx].flags |= INS_FIXED;
		return 0;
	}
	f->edges[f->nedges++] = (struct edge){ (uint32_t)idx, (uint32_t)src };
	return 0;
}

static int by_to(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;
	return x->to != y->to ? (x->to < y->to ? -1 : 1) : (x->from > y->from) - (x->from < y->from);
}

const struct edge *fn_sources(const struct fn *f, uint32_t to, uint32_t *n)
{
	uint32_t a = 0, b = f->nedges;
	while (a < b) {
		uint32_t m = (a + b) / 2;
		if (f->edges[m].to < to)
			a = m + 1;
		else
			b = m;
	}
	uint32_t e = a;
	while (e < f->nedges && f->edges[e].to == to)
		e++;
	*n = e - a;
	return f->edges + a;
}

/* Reads each jump table while its entries point into the function's body. */
static int read_tables(struct pass *ps)
{
	struct fn *f = ps->f;
	const struct analyze_input *in = f->in;
	uint64_t body_end = in->entry + f->body_len;
	for (size_t t = 0; t < ps->tables.n; t += 2) {
		uint64_t table = ps->tables.v[t];
		uint32_t jmp = (uint32_t)ps->tables.v[t + 1];
		if (!in->read_ptr) {
			snprintf(f->reason, f->reasonlen, "%s: jump table at +0x%" PRIx32 " and no reader for it",
				 f->name, jmp);
			return -EINVAL;
		}
		size_t k = 0;
		uint64_t to;
		for (; k < JUMP_TABLE_MAX; k++) {
			if (!in->read_ptr(in->ctx, table + 8 * k, &to) || to < in->entry || to >= body_end)
				break;
			int rc = mark_target(f, to, "jump table entry for the jmp", jmp, false);
			if (rc)
				return rc;
		}
		if (k == 0) {
			snprintf(f->reason, f->reasonlen, "%s: jump table 0x%" PRIx64 " of the jmp at +0x%" PRIx32
				 " cannot be read", f->name, table, jmp);
			return -EINVAL;
		}
	}
	return 0;
}

/* Decodes [entry, entry + trim) and whatever the last instruction needs beyond. */
static int decode_body(struct pass *ps, uint32_t trim)
{
	struct fn *f = ps->f;
	cs_insn *insn = cs_malloc(ps->cs);
	if (!insn)
		return -ENOMEM;
	const uint8_t *p = f->in->code;
	size_t left = f->len;
	uint64_t addr = f->in->entry;
	int rc = 0;
	while (rc == 0 && (uint32_t)(p - f->in->code) < trim) {
		uint32_t off = (uint32_t)(p - f->in->code);
		if (!cs_disasm_iter(ps->cs, &p, &left, &addr, insn)) {
			snprintf(f->reason, f->reasonlen, "%s: cannot decode the instruction at +0x%" PRIx32,
				 f->name, off);
			rc = -EINVAL;
			break;
		}
		rc = see(ps, insn);
	}
	f->body_len = (uint32_t)(p - f->in->code);
	cs_free(insn, 1);
	return rc;
}

int fn_decode(struct fn *f, const struct analyze_input *in, char *reason, size_t reasonlen)
{
	*f = (struct fn){ .in = in, .name = in->name ? in->name : "?", .exit_idx = -1,
			  .reason = reason, .reasonlen = reasonlen };
	if (!in->code || in->end <= in->entry || in->end - in->entry > UINT32_MAX) {
		snprintf(reason, reasonlen, "%s: no code", f->name);
		return -EINVAL;
	}
	f->len = (uint32_t)(in->end - in->entry);
	uint32_t trim = f->len;
	while (trim > 0 && in->code[trim - 1] == 0xCC)
		trim--;
	if (trim == 0) {
		snprintf(reason, reasonlen, "%s: only padding, no instructions", f->name);
		return -EINVAL;
	}
	struct pass ps = { .f = f };
	int rc = reloc_capstone_thread(&ps.cs);
	if (rc) {
		snprintf(reason, reasonlen, "%s: cannot open capstone", f->name);
		return rc;
	}
	rc = decode_body(&ps, trim);
	if (rc == 0 && ps.targets.n && !(f->edges = malloc(ps.targets.n / 2 * sizeof(*f->edges))))
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < ps.targets.n; i += 2)
		rc = mark_target(f, ps.targets.v[i], "the branch", (uint32_t)ps.targets.v[i + 1], true);
	if (rc == 0 && f->nedges)
		qsort(f->edges, f->nedges, sizeof(*f->edges), by_to);
	if (rc == 0)
		rc = read_tables(&ps);
	free(ps.targets.v);
	free(ps.tables.v);
	if (rc == -ENOMEM)
		snprintf(reason, reasonlen, "%s: out of memory", f->name);
	if (rc)
		fn_free(f);
	return rc;
}

void fn_free(struct fn *f)
{
	free(f->ins);
	free(f->edges);
	f->ins = NULL;
	f->edges = NULL;
	f->nedges = 0;
	f->nins = f->capins = 0;
}

void fn_describe(const struct fn *f, uint32_t idx, char *buf, size_t len)
{
	const struct ins *in = &f->ins[idx];
	csh cs;
	cs_insn *insn = NULL;
	if (reloc_capstone_thread(&cs) == 0 &&
	    cs_disasm(cs, f->in->code + in->off, in->len, f->in->entry + in->off, 1, &insn) == 1) {
		snprintf(buf, len, "`%s%s%s` at +0x%" PRIx32, insn->mnemonic,
			 insn->op_str[0] ? " " : "", insn->op_str, in->off);
		cs_free(insn, 1);
		return;
	}
	snprintf(buf, len, "the instruction at +0x%" PRIx32, in->off);
}
