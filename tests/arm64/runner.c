/* runner: executes relocated A64 forms on arm64 (under qemu-aarch64 here) and
 * compares each with its original instruction run in place. Built for arm64 by
 * reloc.sh with lib/arch/arm64's encode.c and reloc.c, statically.
 *
 * For each instruction and distance: the original word at `from`, its relocation at
 * `to` (arm64_reloc, scratch X16), BRK #1 wherever control may land (after each, at
 * the branch target), data at the literal address. Each is entered from run_at with
 * the same registers and flags; the BRK (or a fault) stops it, and the handler takes
 * the registers from the signal frame. Same landing (after the original is after the
 * relocation), same X0-X30 (X16, the scratch, and X17, run_at's jump register,
 * aside), same SIMD register loaded, same fault address: else it fails, saying which.
 * Prints one line with the counts; exit 0 when all agree. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "arm64.h"

#define BRK1 0xd4200020u

struct ctx {
	uint64_t x[31];
	uint64_t nzcv;
	uint64_t pc;
};

struct stop {
	int sig;
	uint64_t pc, addr;
	uint64_t x[31];
	uint8_t v[32][16];
};

void run_at(struct ctx *c);
/* Loads X0-X15, X16, X19-X30 and NZCV from *c and branches to c->pc through X17. */
__asm__(".text\n"
	".global run_at\n"
	"run_at:\n"
	"	ldr x1, [x0, #248]\n"
	"	msr nzcv, x1\n"
	"	ldr x17, [x0, #256]\n"
	"	ldp x2, x3, [x0, #16]\n"
	"	ldp x4, x5, [x0, #32]\n"
	"	ldp x6, x7, [x0, #48]\n"
	"	ldp x8, x9, [x0, #64]\n"
	"	ldp x10, x11, [x0, #80]\n"
	"	ldp x12, x13, [x0, #96]\n"
	"	ldp x14, x15, [x0, #112]\n"
	"	ldr x16, [x0, #128]\n"
	"	ldr x19, [x0, #152]\n"
	"	ldp x20, x21, [x0, #160]\n"
	"	ldp x22, x23, [x0, #176]\n"
	"	ldp x24, x25, [x0, #192]\n"
	"	ldp x26, x27, [x0, #208]\n"
	"	ldp x28, x29, [x0, #224]\n"
	"	ldr x30, [x0, #240]\n"
	"	ldp x0, x1, [x0]\n"
	"	br x17\n");

static sigjmp_buf jb;
static struct stop got;

static void on_stop(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;
	got.sig = sig;
	got.pc = uc->uc_mcontext.pc;
	got.addr = (uint64_t)si->si_addr;
	memcpy(got.x, uc->uc_mcontext.regs, sizeof got.x);
	/* The frame's records (<asm/sigcontext.h>, through <signal.h>): FPSIMD holds V0-V31. */
	struct _aarch64_ctx *h = (struct _aarch64_ctx *)(void *)uc->uc_mcontext.__reserved;
	while (h->magic && h->size) {
		if (h->magic == FPSIMD_MAGIC) {
			memcpy(got.v, ((struct fpsimd_context *)h)->vregs, sizeof got.v);
			break;
		}
		h = (struct _aarch64_ctx *)(void *)((char *)h + h->size);
	}
	siglongjmp(jb, 1);
}

/* Pages mapped so far (never unmapped: each case writes the words it relies on). */
static uint64_t pages[4096];
static size_t npages;

static int map_page(uint64_t addr)
{
	uint64_t pg = addr & ~0xfffull;
	for (size_t i = 0; i < npages; i++)
		if (pages[i] == pg)
			return 0;
	if (npages == sizeof pages / sizeof pages[0])
		return -1;
	void *p = mmap((void *)pg, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)pg)
		return -1;
	uint32_t *w = p;
	for (int i = 0; i < 1024; i++)
		w[i] = BRK1;
	pages[npages++] = pg;
	return 0;
}

static void put(uint64_t addr, uint32_t w)
{
	if (map_page(addr)) {
		fprintf(stderr, "runner: cannot map 0x%" PRIx64 "\n", addr);
		exit(2);
	}
	*(volatile uint32_t *)addr = w;
	__builtin___clear_cache((char *)addr, (char *)addr + 4);
}

static void run(uint64_t pc, const struct ctx *in, struct stop *out)
{
	struct ctx c = *in;
	c.pc = pc;
	memset(&got, 0, sizeof got);
	if (sigsetjmp(jb, 1) == 0)
		run_at(&c);
	*out = got;
}

static const uint32_t insns[] = {
	0x10000081, 0x70000083, 0x1080001e, 0x1000009f, 0x10800003, /* ADR */
	0xb0000002, 0x90fffff0, 0xf000001e, 0x90800005,             /* ADRP */
	0x18000207, 0x58ffff07, 0x98000409, 0xd8000100, 0x1c000041, /* LDR W, X, LDRSW, PRFM, S */
	0x5c000042, 0x9c000043, 0x9c000083, 0x58000110, 0x5880001d, /* D, Q, Q +16, X16, X29 -1 MiB */
	0x14000010, 0x17fffff0, 0x16000000, 0x15ffffff, 0x14000001, /* B */
	0x94000040, 0x97ffffff, 0x96000000,                         /* BL */
	0x54000200, 0x54000201, 0x5400020a, 0x5400020d, 0x5400020e, /* B.EQ, NE, GE, LE, AL */
	0xb4000205, 0xb5fffe05, 0x34000210, 0x3400021e, 0xb4800005, /* CBZ/CBNZ */
	0x36180201, 0x37180201, 0xb6f80205, 0x3707fe10, 0x36040005, /* TBZ/TBNZ */
	0xd63f0060, 0xd63f03c0, 0xd63f0200,                         /* BLR X3, X30, X16 */
	0xd65f03c0, 0x91000420,                                     /* RET, ADD */
};

static const int64_t distances[] = {
	0x1000, -0x1000, 0x40000, -0x200000, 0x7fff000, 0x9000000, -0x9000000, 0x180000000ll,
};

/* The registers a case starts with; k picks flags and the tested registers' values. */
static void state(struct ctx *c, unsigned k, uint64_t code)
{
	for (int i = 0; i < 31; i++)
		c->x[i] = 0x0101010101010101ull * (uint64_t)(i + 1);
	c->nzcv = (uint64_t)(k & 15) << 28;
	uint64_t v = (k >> 4) == 0 ? 0 : (k >> 4) == 1 ? ~0ull : 0x8000000000000008ull;
	c->x[1] = c->x[5] = c->x[16] = v;
	/* BLR/RET targets: a BRK in a page of their own. */
	c->x[3] = c->x[30] = code + 0x800000;
	if ((k >> 4) == 1)
		c->x[16] = code + 0x800000;
}

static int compare(uint32_t insn, uint64_t from, uint64_t to, size_t n, unsigned k, const struct stop *a,
		   const struct stop *b)
{
	/* Landing at from + 4 is going on after the instruction, as the trampoline does
	 * after the relocated words (a B #4 relocated lands there directly). */
	uint64_t alanding = a->pc == from + 4 ? to + 4 * n : a->pc;
	uint64_t blanding = b->pc == from + 4 ? to + 4 * n : b->pc;
	const char *what = NULL;
	int reg = -1;
	if (a->sig != b->sig)
		what = "signal";
	else if (alanding != blanding)
		what = "landing";
	else if (a->sig != SIGTRAP && a->addr != b->addr)
		what = "fault address";
	for (int i = 0; !what && i < 31; i++)
		if (i != 16 && i != 17 && a->x[i] != b->x[i])
			what = "register", reg = i;
	unsigned rt = insn & 31;
	if (!what && (insn & 0x3f000000u) == 0x1c000000u && memcmp(a->v[rt], b->v[rt], 16) != 0)
		what = "vector register", reg = (int)rt;
	if (!what)
		return 0;
	fprintf(stderr,
		"runner: %08" PRIx32 " from 0x%" PRIx64 " to 0x%" PRIx64 " (state %u): %s %d differs: sig %d/%d pc 0x%" PRIx64
		"/0x%" PRIx64 " x%d 0x%" PRIx64 "/0x%" PRIx64 "\n",
		insn, from, to, k, what, reg, a->sig, b->sig, alanding, blanding, reg < 0 ? 0 : reg,
		reg < 0 ? 0 : a->x[reg % 31], reg < 0 ? 0 : b->x[reg % 31]);
	return 1;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_stop;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGTRAP, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	const uint64_t base = 0x1000000000ull; /* 64 GiB: far from the program and qemu */
	unsigned cases = 0, runs = 0, bad = 0;
	for (size_t i = 0; i < sizeof insns / sizeof insns[0]; i++)
		for (size_t d = 0; d < sizeof distances / sizeof distances[0]; d++) {
			uint32_t insn = insns[i];
			uint64_t from = base + 0x12340, to = from + (uint64_t)distances[d], target = 0;
			uint32_t out[ARM64_RELOC_MAX];
			size_t n;
			char why[256];
			bool has = arm64_target(insn, from, &target);
			enum arm64_kind kind = arm64_kind(insn);
			if (has && kind != ARM64_ADR && kind != ARM64_ADRP && target >= to && target < to + 64)
				continue;
			if (arm64_reloc(insn, from, to, ARM64_SCRATCH_GO, out, &n, why, sizeof why)) {
				fprintf(stderr, "runner: %s\n", why);
				return 1;
			}
			put(from, insn);
			put(from + 4, BRK1);
			for (size_t w = 0; w < n; w++)
				put(to + 4 * w, out[w]);
			put(to + 4 * n, BRK1);
			put(from + 0x800000, BRK1);
			if (has && kind != ARM64_ADR && kind != ARM64_ADRP && kind != ARM64_LDR_LIT)
				put(target, BRK1);
			if (kind == ARM64_LDR_LIT && (target + 16 <= from || target >= from + 8))
				for (unsigned w = 0; w < 4; w++)
					put(target + 4 * w, 0x11223344u * (w + 1) ^ (uint32_t)target);
			bool varied = kind == ARM64_BCOND || kind == ARM64_CBZ || kind == ARM64_TBZ;
			for (unsigned k = 0; k < (varied ? 48u : 32u); k += varied ? 1 : 16) {
				struct ctx c;
				struct stop a, b;
				state(&c, k, from);
				run(from, &c, &a);
				run(to, &c, &b);
				bad += compare(insn, from, to, n, k, &a, &b);
				runs++;
			}
			cases++;
		}
	printf("arm64 execution: %u relocations run, %u runs compared, %u differ\n", cases, runs, bad);
	return bad ? 1 : 0;
}
