/* test_reloc: lib/arch/arm64's relocator, encoders and site finder, on this host.
 *  1. exact words for every relocated kind, in reach and out of it (the encodings
 *     hand-computed in the comments: field positions from the Arm ARM, C4.1);
 *  2. every PC-relative kind, with many immediates and registers, moved to 13
 *     distances (near, past ±32 KiB, ±1 MiB, ±128 MiB, ±4 GiB), each relocated
 *     sequence and its original run through csim (capstone's decoding, not ours)
 *     under every flag state and both outcomes of each register test: the same
 *     exit, the same registers (scratch apart), the same address loaded;
 *  3. the refusals and their reasons; the encoders' reach at its exact edges;
 *  4. the site finder's hazards on hand-made functions (a literal pool holding a
 *     RET's bits, padding, a loop to the entry, a trap at the entry, a one-word
 *     function, a trampoline out of reach).
 * Exits 1 on the first failure, saying which. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arm64.h"
#include "csim.h"

static csh cs;
static unsigned checks;

#define FAIL(...)                                                                            \
	do {                                                                                 \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                          \
		fprintf(stderr, __VA_ARGS__);                                                \
		fputc('\n', stderr);                                                         \
		exit(1);                                                                     \
	} while (0)

static void print_words(const char *tag, const uint32_t *w, size_t n, uint64_t pc)
{
	fprintf(stderr, "  %s:\n", tag);
	for (size_t i = 0; i < n; i++) {
		cs_insn *in;
		size_t k = cs_disasm(cs, (const uint8_t *)&w[i], 4, pc + 4 * i, 1, &in);
		fprintf(stderr, "    %08" PRIx32 "  %s %s\n", w[i], k ? in->mnemonic : "?", k ? in->op_str : "");
		if (k)
			cs_free(in, k);
	}
}

#define F 0x10000000ull /* where the originals sit */

/* 1. Exact words. */
struct exact {
	const char *what;
	uint32_t insn;
	uint64_t to;
	int scratch;
	size_t n;
	uint32_t w[ARM64_RELOC_MAX];
};

static const struct exact exacts[] = {
	/* ADR X1, #+0x10 = 0 immlo(30:29)=00 10000 immhi(23:5)=4 Rd=1. At F+0x1000 the
	 * offset is -0xff0: imm21 0x1ff010, immlo 0, immhi 0x7fc04 (<<5 = 0xff8080). */
	{ "adr in reach", 0x10000081, F + 0x1000, 16, 1, { 0x10ff8081 } },
	/* 2 MiB away ADR does not reach: ADRP X1 of F's page, -0x200 pages (imm21 0x1ffe00:
	 * immlo 0, immhi 0x7ff80 <<5 = 0xfff000), then ADD X1, X1, #0x10 (imm12 at 21:10:
	 * 0x10<<10 = 0x4000, Rn=1 at 9:5, Rd=1). */
	{ "adr by adrp+add", 0x10000081, F + 0x200000, 16, 2, { 0x90fff001, 0x91004021 } },
	/* ADRP X2, #+1 page: immlo=1 (bit 29). From F+2 MiB: -0x1ff pages, imm21 0x1ffe01:
	 * immlo 1, immhi 0x7ff80. */
	{ "adrp in reach", 0xb0000002, F + 0x200000, 16, 1, { 0xb0fff002 } },
	/* 8 GiB away: X2 = F + 0x1000 = 0x10001000 by MOVZ X2, #0x1000 (sf 10 100101 hw=0
	 * imm16(20:5)=0x1000 Rd=2) and MOVK X2, #0x1000, LSL #16 (hw=1 at 22:21). */
	{ "adrp by movz/movk", 0xb0000002, F + 0x200000000ull, 16, 2, { 0xd2820002, 0xf2a20002 } },
	/* LDR X3, #+0x20: opc=01 011 V=0 00 imm19=8 Rt=3. From F+0x1000: imm19 -0x3f8 =
	 * 0x7fc08 (<<5 = 0xff8100). */
	{ "ldr x literal in reach", 0x58000103, F + 0x1000, 16, 1, { 0x58ff8103 } },
	/* 2 MiB: ADRP X3, then LDR X3, [X3, #0x20] (0xf9400000, imm12 = 0x20/8 = 4 at 21:10,
	 * Rn=3, Rt=3): the page offset folds into the load, no scratch. */
	{ "ldr x literal far", 0x58000103, F + 0x200000, ARM64_NO_SCRATCH, 2, { 0x90fff003, 0xf9401063 } },
	/* LDR Q4, #+0x18: opc=10 V=1 imm19=6 Rt=4. 0x18 is no multiple of 16: ADRP X16,
	 * ADD X16, X16, #0x18 (0x18<<10 = 0x6000, Rn=Rd=16), LDR Q4, [X16] (0x3dc00000). */
	{ "ldr q literal far", 0x9c0000c4, F + 0x200000, 16, 3, { 0x90fff010, 0x91006210, 0x3dc00204 } },
	/* PRFM PLDL1KEEP, #+0x20 out of reach: a NOP (d503201f). */
	{ "prfm far", 0xd8000100, F + 0x200000, 16, 1, { 0xd503201f } },
	/* B.NE #+0x40: 01010100 imm19=0x10 o0=0 cond=0001. 2 MiB away: B.EQ #+8 (imm19=2,
	 * cond 0000) over B to F+0x40 from F+2 MiB+4: -0x7fff1 words, imm26 0x3f8000f. */
	{ "b.ne far", 0x54000201, F + 0x200000, 16, 2, { 0x54000040, 0x17f8000f } },
	/* CBZ X5, #+0x40: sf=1 011010 op=0 imm19=0x10 Rt=5. 144 MiB away: CBNZ X5, #+16
	 * (op bit 24 flipped, imm19=4) over ADRP X16 (-0x9000 pages: imm21 0x1f7000, immhi
	 * 0x7dc00) + ADD X16, X16, #0x40 + BR X16 (1101011 0000 11111 000000 Rn=16 00000). */
	{ "cbz beyond a B", 0xb4000205, F + 0x9000000, 16, 4, { 0xb5000085, 0x90fb8010, 0x91010210, 0xd61f0200 } },
	/* The same without a scratch register: refused (n 0). */
	{ "cbz beyond a B, no scratch", 0xb4000205, F + 0x9000000, ARM64_NO_SCRATCH, 0, { 0 } },
	/* TBNZ W1, #3, #+0x40: b5=0 011011 op=1 b40(23:19)=3 imm14(18:5)=0x10 Rt=1. 64 KiB
	 * away (TB reaches 32 KiB): TBZ W1, #3, #+8 then B: -0x3ff1 words. */
	{ "tbnz far", 0x37180201, F + 0x10000, 16, 2, { 0x36180041, 0x17ffc00f } },
	/* BL #+0x100 (100101 imm26=0x40). LR = F + 4 (ADRP X30 + ADD X30, X30, #4:
	 * 0x4<<10, Rn=Rd=30), then B to F+0x100 from F+2 MiB+8: -0x7ffc2 words. */
	{ "bl far", 0x94000040, F + 0x200000, 16, 3, { 0x90fff01e, 0x910013de, 0x17f8003e } },
	/* BLR X30: MOV X16, X30 (ORR X16, XZR, X30: 0xaa0003e0 | Rm=30 at 20:16 | Rd=16),
	 * LR = F + 4, BR X16. */
	{ "blr x30", 0xd63f03c0, F + 0x200000, 16, 4, { 0xaa1e03f0, 0x90fff01e, 0x910013de, 0xd61f0200 } },
	/* B.AL far is a plain jump: B to F+0x40 from F+2 MiB. */
	{ "b.al far", 0x5400020e, F + 0x200000, 16, 1, { 0x17f80010 } },
	/* ADR XZR writes nothing: NOP. */
	{ "adr xzr", 0x1000009f, F + 0x200000, 16, 1, { 0xd503201f } },
	/* RET and anything without a PC-relative operand: as is. */
	{ "ret", 0xd65f03c0, F + 0x200000, 16, 1, { 0xd65f03c0 } },
	{ "ldr x16, [x28, #16]", 0xf9400b90, F + 0x200000, 16, 1, { 0xf9400b90 } },
};

static void test_exact(void)
{
	for (size_t i = 0; i < sizeof exacts / sizeof exacts[0]; i++) {
		const struct exact *e = &exacts[i];
		uint32_t out[ARM64_RELOC_MAX];
		size_t n;
		char why[256] = "";
		int rc = arm64_reloc(e->insn, F, e->to, e->scratch, out, &n, why, sizeof why);
		if (e->n == 0) {
			if (rc != -EINVAL || !why[0])
				FAIL("%s: expected a refusal, got %d", e->what, rc);
			printf("exact %-28s refused: %s\n", e->what, why);
			continue;
		}
		if (rc || n != e->n || memcmp(out, e->w, 4 * n) != 0) {
			print_words("got", out, n, e->to);
			print_words("expected", e->w, e->n, e->to);
			FAIL("%s: rc %d (%s)", e->what, rc, why);
		}
		printf("exact %-28s %zu word%s\n", e->what, n, n > 1 ? "s" : "");
		checks++;
	}
}

/* 2. The sweep. */
static const uint32_t sweep_insns[] = {
	0x10000081, 0x70000083, 0x1080001e, 0x1000009f, 0x10800003, /* ADR: +0x10, +0x13, -1 MiB into X30, XZR */
	0xb0000002, 0x90fffff0, 0xf000001e, 0x90800005,             /* ADRP +1 page, -1 into X16, X30, -4 GiB */
	0x18000207, 0x58ffff07, 0x98000409, 0xd8000100, 0x1c000041, /* LDR W, X (-0x20), LDRSW, PRFM, S */
	0x5c000042, 0x9c000043, 0x9c000083, 0x5800001f, 0x58000110, 0x5880001d, /* D, Q, Q +16, XZR, X16, X29 -1 MiB */
	0x14000010, 0x17fffff0, 0x16000000, 0x15ffffff, 0x14000001, /* B +0x40, -0x40, -128 MiB, +128 MiB-4, +4 */
	0x94000040, 0x97ffffff, 0x96000000,                         /* BL */
	0xb4000205, 0xb5fffe05, 0x34000210, 0x3400021e, 0xb4800005, /* CBZ/CBNZ X5, W16, W30, -1 MiB */
	0x36180201, 0x37180201, 0xb6f80205, 0x3707fe10, 0x36040005, /* TBZ/TBNZ W1 #3, X5 #63, X16 #0 back, W5 #0 -32 KiB */
	0xd63f0060, 0xd63f03c0, 0xd63f0200,                         /* BLR X3, X30, X16 */
	0xd65f03c0, 0xd61f00a0, 0x91000420, 0xd503201f,             /* RET, BR X5, ADD X0, X1, #1, NOP */
};

static const int64_t distances[] = {
	0x1000,     -0x1000,     0x8000,      0x40000,      0x100000,     -0x100000,     0x200000,
	0x7fffffc, 0x9000000,   -0x9000000,  0x80000000ll, 0x180000000ll, -0x180000000ll,
};

/* The states a word is run in: every flag combination, and for CB/TB the tested
 * register zero, all ones and a pattern. */
static void state(struct csim_state *s, unsigned k)
{
	for (int i = 0; i < 31; i++)
		s->x[i] = 0x0101010101010101ull * (uint64_t)(i + 1);
	s->nzcv = k & 15;
	uint64_t v = (k >> 4) == 0 ? 0 : (k >> 4) == 1 ? ~0ull : 0x8000000000000008ull;
	s->x[1] = s->x[5] = s->x[16] = s->x[30] = v ? v : 0;
	if ((k >> 4) == 0) /* the CB tests want zero, but BLR/BR targets must be aligned */
		s->x[3] = 0x2000000;
}

static unsigned sweep_one(uint32_t insn, uint64_t from, uint64_t to, int scratch, unsigned *words)
{
	uint32_t out[ARM64_RELOC_MAX];
	size_t n;
	char why[256], diff[256], err[256];
	uint64_t t;
	if (arm64_kind(insn) != ARM64_ADR && arm64_kind(insn) != ARM64_ADRP && arm64_target(insn, from, &t) &&
	    t >= to && t < to + 4 * ARM64_RELOC_MAX)
		return 0; /* a branch into its own copy: no trampoline sits on a target */
	int rc = arm64_reloc(insn, from, to, scratch, out, &n, why, sizeof why);
	if (rc == -EINVAL && scratch == ARM64_NO_SCRATCH && strstr(why, "scratch"))
		return 0; /* it needs one: checked with one */
	if (rc)
		FAIL("%08" PRIx32 " from 0x%" PRIx64 " to 0x%" PRIx64 ": %s", insn, from, to, why);
	if (n < 1 || n > ARM64_RELOC_MAX)
		FAIL("%08" PRIx32 ": %zu words", insn, n);
	*words += (unsigned)n;
	unsigned runs = 0;
	for (unsigned k = 0; k < 48; k++) {
		struct csim_state s;
		struct csim_result a, b;
		state(&s, k);
		if (csim_run(cs, &insn, 1, from, &s, &a, err, sizeof err) ||
		    csim_run(cs, out, n, to, &s, &b, err, sizeof err)) {
			print_words("relocated", out, n, to);
			FAIL("%08" PRIx32 " to 0x%" PRIx64 ": %s", insn, to, err);
		}
		const char *d = csim_same(&a, from, &b, scratch, diff, sizeof diff);
		if (d) {
			print_words("original", &insn, 1, from);
			print_words("relocated", out, n, to);
			FAIL("%08" PRIx32 " from 0x%" PRIx64 " to 0x%" PRIx64 " (state %u): %s", insn, from, to, k, d);
		}
		runs++;
	}
	return runs;
}

static void test_sweep(void)
{
	unsigned runs = 0, words = 0, relocs = 0;
	/* from in the middle of a page, and at its last word (ADRP's page changes at +4). */
	const uint64_t froms[] = { 0x4000012340ull, 0x4000012ffcull };
	for (size_t f = 0; f < 2; f++)
		for (size_t i = 0; i < sizeof sweep_insns / sizeof sweep_insns[0]; i++)
			for (size_t d = 0; d < sizeof distances / sizeof distances[0]; d++)
				for (int sc = 0; sc < 2; sc++) {
					unsigned r = sweep_one(sweep_insns[i], froms[f], froms[f] + (uint64_t)distances[d],
							       sc ? ARM64_SCRATCH_GO : ARM64_NO_SCRATCH, &words);
					relocs += r > 0;
					runs += r;
				}
	printf("sweep: %u relocations (%u words) of %zu instructions to %zu distances, %u runs compared by csim\n",
	       relocs, words, sizeof sweep_insns / sizeof sweep_insns[0], sizeof distances / sizeof distances[0],
	       runs);
	checks += runs;
}

/* 3. Refusals and encoders. */
static void test_refusals(void)
{
	static const struct {
		uint32_t insn;
		const char *what;
	} refused[] = {
		{ 0xd4000001, "svc #0" },  { 0xd4200000, "brk #0" },   { 0xd4400000, "hlt #0" },
		{ 0x00000000, "udf #0" },  { 0xd65f0bff, "retaa" },    { 0xd63f081f, "blraa x0, sp" },
		{ 0xd69f03e0, "eret" },    { 0xdc000040, "ldr literal opc 11 V 1 (unallocated)" },
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		uint32_t out[ARM64_RELOC_MAX];
		size_t n = 99;
		char why[256] = "";
		int rc = arm64_reloc(refused[i].insn, F, F + 0x1000, 16, out, &n, why, sizeof why);
		if (rc != -EINVAL || n != 0 || !strstr(why, "cannot be relocated"))
			FAIL("%s: rc %d n %zu why '%s'", refused[i].what, rc, n, why);
		printf("refused %-40s %s\n", refused[i].what, why);
		checks++;
	}
	/* Literal loads that need the scratch register, given none. */
	static const uint32_t need[] = { 0x9c000043 /* LDR Q3 */, 0x5800001f /* LDR XZR */, 0x94000040 /* BL 8 GiB */ };
	for (size_t i = 0; i < 3; i++) {
		uint32_t out[ARM64_RELOC_MAX];
		size_t n;
		char why[256] = "";
		uint64_t to = i == 2 ? F + 0x200000000ull : F + 0x200000;
		if (arm64_reloc(need[i], F, to, ARM64_NO_SCRATCH, out, &n, why, sizeof why) != -EINVAL ||
		    !strstr(why, "scratch"))
			FAIL("%08" PRIx32 " without scratch: '%s'", need[i], why);
		checks++;
	}
	uint32_t out[ARM64_RELOC_MAX];
	size_t n;
	char why[256];
	if (arm64_reloc(0xd503201f, F, F + 2, 16, out, &n, why, sizeof why) != -EINVAL)
		FAIL("unaligned to accepted");
	if (arm64_reloc(0xd503201f, F, F + 4, 30, out, &n, why, sizeof why) != -EINVAL)
		FAIL("x30 as scratch accepted");
	checks += 2;
}

static void test_encoders(void)
{
	uint32_t w[ARM64_JUMP_MAX];
	size_t n;
	/* B: imm26 words, so +0x7fffffc (0x1ffffff) and -0x8000000 (0x2000000) are the edges. */
	if (arm64_b(w, F, F + 0x7fffffc) || w[0] != 0x15ffffff)
		FAIL("b +128 MiB-4: %08" PRIx32, w[0]);
	if (arm64_b(w, F + 0x8000000, F) || w[0] != 0x16000000)
		FAIL("b -128 MiB: %08" PRIx32, w[0]);
	if (arm64_b(w, F, F + 0x8000000) != -ERANGE || arm64_b(w, F + 0x8000004, F) != -ERANGE)
		FAIL("b beyond reach accepted");
	if (arm64_b(w, F, F + 2) != -ERANGE)
		FAIL("b to an unaligned target accepted");
	if (arm64_bl(w, F, F + 0x100) || w[0] != 0x94000040)
		FAIL("bl +0x100: %08" PRIx32, w[0]);
	if (arm64_b_reaches(F, F + 0x8000000) || !arm64_b_reaches(F, F - 0x8000000))
		FAIL("b_reaches edges");
	/* Jumps: B, then ADRP (+ADD) + BR, then MOVZ/MOVK + BR; each checked by csim. */
	static const struct {
		int64_t d;
		size_t n;
	} jumps[] = { { 0x7fffffc, 1 }, { 0x8000000, 2 }, { -0x8000004, 3 }, { 0x7ffff000, 2 },
		      { 0x100000000ll, 3 }, { 0x123456788ll, 4 }, { (int64_t)(0x1234567890abcdf0ull - F), 5 } };
	for (size_t i = 0; i < sizeof jumps / sizeof jumps[0]; i++) {
		uint64_t from = F, to = F + (uint64_t)jumps[i].d;
		if (arm64_jump(w, &n, from, to, 17) || n != jumps[i].n)
			FAIL("jump %#" PRIx64 ": %zu words, not %zu", (uint64_t)jumps[i].d, n, jumps[i].n);
		struct csim_state s = { { 0 }, 0 };
		struct csim_result r;
		char err[256];
		if (csim_run(cs, w, n, from, &s, &r, err, sizeof err) || r.exit_pc != to) {
			print_words("jump", w, n, from);
			FAIL("jump %#" PRIx64 " lands at 0x%" PRIx64 " %s", (uint64_t)jumps[i].d, r.exit_pc, err);
		}
		if (n > 1 && arm64_jump(w, &n, from, to, ARM64_NO_SCRATCH) != -EINVAL)
			FAIL("a far jump without scratch accepted");
		checks++;
	}
	printf("encoders: B/BL edges and %zu jumps checked\n", sizeof jumps / sizeof jumps[0]);
}

/* 4. The site finder. */
struct func {
	const char *what;
	uint32_t w[16];
	size_t n;
	uint64_t tramp; /* relative to the entry; 0: default */
	bool entry_ok, entry_is_ret, entry_is_target;
	size_t nsites, npatchable;
	uint32_t ndata, npad, nunknown;
};

static const struct func funcs[] = {
	/* A Go function with a frame: the stack check, the frame, one RET, the morestack
	 * tail that branches back to the entry. */
	{ "go prologue",
	  { 0xf9400b90, 0xeb3063ff, 0x540000c9, 0xf81f0ffe, 0xf81f83fd, 0xa97ffbfd, 0x910043ff, 0xd65f03c0,
	    0xaa1e03e3, 0x94000000, 0x17fffff6, 0, 0, 0, 0, 0 },
	  16, 0, true, false, true, 1, 1, 0, 5, 0 },
	/* A literal pool after the RET holds the bits of a RET (d65f03c0) and is read by
	 * the LDR W27 at the entry: one site, not two. */
	{ "pool holding a ret", { 0x1800005b, 0xd65f03c0, 0xd65f03c0, 0 }, 4, 0, true, false, false, 1, 1, 1, 1, 0 },
	/* An 8-byte pool entry read by LDR X: both words are data. */
	{ "8-byte pool", { 0x5800005b, 0xd65f03c0, 0xd65f03c0, 0xd65f03c0 }, 4, 0, true, false, false, 1, 1, 2, 0, 0 },
	/* `RET` alone: the entry is the return. */
	{ "one word", { 0xd65f03c0, 0, 0, 0 }, 4, 0, true, true, false, 1, 1, 0, 3, 0 },
	/* A trap at the entry cannot move; its RET can still be patched. */
	{ "svc at the entry", { 0xd4000001, 0xd65f03c0 }, 2, 0, false, false, false, 1, 1, 0, 0, 0 },
	/* A word capstone 4 does not know at the entry (LDAPR X0, [X1] of Armv8.3 here) is
	 * refused: an instruction newer than this relocator may be PC-relative. */
	{ "unknown entry", { 0xf8bfc020, 0xd65f03c0 }, 2, 0, false, false, false, 1, 1, 0, 0, 1 },
	/* Trampoline 200 MiB away: neither the entry nor the RET reach. */
	{ "trampoline out of reach", { 0xd503201f, 0xd65f03c0 }, 2, 200u << 20, false, false, false, 1, 0, 0, 0, 0 },
	/* A tail call: no RET, no site. */
	{ "tail call", { 0xaa0003e1, 0x14000100 }, 2, 0, true, false, false, 0, 0, 0, 0, 0 },
};

static void test_plans(void)
{
	for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++) {
		const struct func *f = &funcs[i];
		uint64_t entry = 0x401000, tramp = entry + (f->tramp ? f->tramp : 0x100000);
		struct arm64_plan p;
		char why[256];
		if (arm64_plan_func((const uint8_t *)f->w, 4 * f->n, entry, tramp, ARM64_SCRATCH_GO, &p, why, sizeof why))
			FAIL("%s: %s", f->what, why);
		size_t ok = 0;
		for (size_t s = 0; s < p.nsites; s++)
			ok += p.sites[s].patchable;
		if (p.entry_ok != f->entry_ok || p.entry_is_ret != f->entry_is_ret ||
		    p.entry_is_target != f->entry_is_target || p.nsites != f->nsites || ok != f->npatchable ||
		    p.ndata != f->ndata || p.npad != f->npad || p.nunknown != f->nunknown)
			FAIL("%s: entry_ok %d (%s) ret %d target %d sites %zu patchable %zu data %u pad %u unknown %u",
			     f->what, p.entry_ok, p.entry_why, p.entry_is_ret, p.entry_is_target, p.nsites, ok, p.ndata,
			     p.npad, p.nunknown);
		printf("plan %-24s entry %s%s%s, %zu/%zu returns patchable, %u data, %u padding, %u unknown\n",
		       f->what, p.entry_ok ? "ok" : "refused: ", p.entry_ok ? "" : p.entry_why,
		       p.entry_is_target ? " (a branch target)" : "", ok, p.nsites, p.ndata, p.npad, p.nunknown);
		arm64_plan_free(&p);
		checks++;
	}
	struct arm64_plan p;
	char why[256];
	uint32_t w = 0xd65f03c0;
	if (arm64_plan_func((const uint8_t *)&w, 3, 0x1000, 0, 16, &p, why, sizeof why) != -EINVAL)
		FAIL("a partial word accepted");
	checks++;
}

int main(void)
{
	if (cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &cs) != CS_ERR_OK || cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON))
		FAIL("cannot open capstone's ARM64 mode");
	test_exact();
	test_sweep();
	test_refusals();
	test_encoders();
	test_plans();
	cs_close(&cs);
	printf("arm64 reloc: %u checks passed\n", checks);
	return 0;
}
