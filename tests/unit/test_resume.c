/* The resume table, read the way the end of runtime.asyncPreempt reads it: through
 * golat_tramp_resume (tramp.S) itself, not a C copy of its probe. Proves that
 *   - every pc added is redirected, through many doublings of the table (GOLAT_FUNCS='*'
 *     on a large program adds hundreds of thousands);
 *   - a pc never added resumes where it was going;
 *   - a table replaced by a bigger one still answers (a reader may be probing it). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "tramp.h"

/* A caller that "returns from asyncPreempt" to pc: it pushes where the code at pc
 * returns to, then pc, clears eax and jumps to golat_tramp_resume, whose ret goes to
 * pc or to what the table says. Returns what the code it landed in left in eax. */
uint64_t resume_to(uint64_t pc);
__asm__(".text\n"
	"resume_to:\n"
	"	leaq 1f(%rip), %rax\n"
	"	pushq %rax\n"
	"	pushq %rdi\n"
	"	xorl %eax, %eax\n"
	"	jmp golat_tramp_resume\n"
	"1:	ret\n");

static int failures;

#define CHECK(cond, ...)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			printf("FAIL: " __VA_ARGS__);                                     \
			printf("\n");                                                     \
			failures++;                                                       \
		}                                                                         \
	} while (0)

#define N 600000 /* entries: far more than the first table holds */
#define SLOT 8   /* bytes per landing place */

/* Landing places: in `from` a bare ret (eax stays 0: not redirected), in `to`
 * mov eax,1; ret (redirected), one every SLOT bytes. */
static uint8_t *landing(int redirected)
{
	size_t len = (size_t)(N + 1) * SLOT;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	static const uint8_t mov_ret[SLOT] = { 0xb8, 1, 0, 0, 0, 0xc3, 0xcc, 0xcc };
	for (size_t i = 0; i <= N; i++) {
		memset(p + i * SLOT, 0xcc, SLOT);
		if (redirected)
			memcpy(p + i * SLOT, mov_ret, SLOT);
		else
			p[i * SLOT] = 0xc3;
	}
	return mprotect(p, len, PROT_READ | PROT_EXEC) == 0 ? p : NULL;
}

/* A probe in C of table t, for a table left behind by a growth. */
static uint64_t lookup(const struct tramp_resume_tab *t, uint64_t pc)
{
	for (uint64_t i = (pc * TRAMP_RESUME_MUL) >> t->shift;; i = (i + 1) & t->mask) {
		if (t->slot[i][0] == pc)
			return t->slot[i][1];
		if (t->slot[i][0] == 0)
			return 0;
	}
}

int main(void)
{
	uint8_t *from = landing(0), *to = landing(1);
	if (!from || !to) {
		printf("FAIL: cannot map the landing places\n");
		return 1;
	}
	uint64_t f = (uint64_t)(uintptr_t)from, t0 = (uint64_t)(uintptr_t)to;
	CHECK(resume_to(f) == 0, "no table yet: pc changed");
	CHECK(tramp_resume_add(f, t0) == 0, "first add");
	CHECK(resume_to(f) == 1, "a pc in the table is not redirected");
	CHECK(resume_to(f + SLOT) == 0, "a pc not in the table was redirected");
	const struct tramp_resume_tab *first = golat_resume_tab;

	for (uint64_t i = 1; i < N; i++)
		if (tramp_resume_add(f + i * SLOT, t0 + i * SLOT) != 0) {
			CHECK(0, "add %llu failed", (unsigned long long)i);
			break;
		}
	const struct tramp_resume_tab *t = golat_resume_tab;
	CHECK(t != first && t->mask + 1 >= 2 * N, "the table did not grow: %llu slots",
	      (unsigned long long)t->mask + 1);
	size_t missing = 0;
	for (uint64_t i = 0; i < N; i++)
		missing += resume_to(f + i * SLOT) != 1;
	CHECK(missing == 0, "%zu of %d pcs not redirected after the growths", missing, N);
	CHECK(resume_to(f + (uint64_t)N * SLOT) == 0, "after growing: a pc not in the table was redirected");
	CHECK(lookup(first, f) == t0, "the table left behind no longer answers");
	CHECK(tramp_resume_add(f, f) == 0 && resume_to(f) == 1, "a pc's mapping changed");
	printf("resume table: %d entries in %llu slots\n", N, (unsigned long long)t->mask + 1);
	return failures != 0;
}
