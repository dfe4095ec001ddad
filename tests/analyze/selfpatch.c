/* selfpatch: an LD_PRELOAD library that proves the analyzer's plans and the
 * relocator's code on a real Go program, with nothing else of golat in the way.
 *
 * Its constructor runs before the Go runtime starts (one thread, no goroutine), reads
 * /proc/self/exe, and patches every function the analyzer accepts whose name starts
 * with $SELFPATCH (empty: all), each window to a trampoline that does only what the
 * window did: an entry trampoline runs the relocated instructions and jumps back
 * past the window; a return or whole one runs them and returns. No recording. If a
 * plan puts a window over a branch target, or reloc mis-encodes an instruction, the
 * program crashes or prints something else: selfpatch.sh compares its output with
 * an unpatched run. $SELFPATCH_SKIP (a name prefix) leaves functions out, for
 * bisecting. $SELFPATCH_BREAK=1 makes every trampoline a ud2, so that the test can
 * show it notices when patched code runs wrong; $SELFPATCH_NOPOLICY=1 patches the
 * runtime too (a stress of the analyzer, not something golat does). One summary
 * line goes to stderr. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "analyze.h"
#include "gobin.h"
#include "reloc.h"

struct tramp_area {
	uint8_t *base;
	size_t size, used;
};

static bool read_ptr(void *ctx, uint64_t addr, uint64_t *value)
{
	return elf_read_ptr(&((const struct gobin *)ctx)->elf, addr, value);
}

/* Trampoline memory within rel32 reach of the text: hint-and-check. */
static int tramp_map(struct tramp_area *a, uint64_t lo, uint64_t hi, size_t size)
{
	size = (size + 0xfff) & ~(size_t)0xfff;
	for (uint64_t step = 1; step < 64; step++) {
		uint64_t off = step << 24; /* 16 MiB steps */
		uint64_t hints[2] = { (hi + off) & ~0xfffull, lo > off + size ? (lo - off - size) & ~0xfffull : 0 };
		for (int k = 0; k < 2; k++) {
			if (!hints[k])
				continue;
			void *p = mmap((void *)hints[k], size, PROT_READ | PROT_WRITE | PROT_EXEC,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
			if (p == MAP_FAILED)
				continue;
			if (reloc_rel32_reaches(lo, (uint64_t)p) && reloc_rel32_reaches(hi, (uint64_t)p + size) &&
			    reloc_rel32_reaches((uint64_t)p, lo) && reloc_rel32_reaches((uint64_t)p + size, hi)) {
				a->base = p;
				a->size = size;
				return 0;
			}
			munmap(p, size);
		}
	}
	return -ENOMEM;
}

/* Builds one window's trampoline and writes the jump(s) to it. */
static int patch_window(struct tramp_area *a, const struct gobin *gb, const struct gobin_func *fn,
			const struct analyze_window *w, bool broken, char *why, size_t whylen)
{
	const uint8_t *code = gobin_code(gb, fn) + (w->addr - fn->entry);
	uint64_t at = w->addr + gb->bias;
	size_t need = RELOC_MAX_OUT(w->code_len) + RELOC_JMP32_LEN;
	if (a->used + need > a->size) {
		snprintf(why, whylen, "trampoline area full");
		return -ENOSPC;
	}
	uint8_t *t = a->base + a->used;
	size_t n;
	int rc = reloc_window(code, w->code_len, at, (uint64_t)t, w->ret ? RELOC_DROP_RET : 0, t, need, &n,
			      why, whylen);
	if (rc)
		return rc;
	if (w->ret) {
		t[n++] = 0xc3;
	} else if ((rc = reloc_jmp32(t + n, (uint64_t)t + n, at + w->code_len)) != 0) {
		snprintf(why, whylen, "jump back out of reach");
		return rc;
	} else {
		n += RELOC_JMP32_LEN;
	}
	if (broken) {
		t[0] = 0x0f;
		t[1] = 0x0b;
	}
	a->used += (n + 15) & ~(size_t)15;
	if (w->hop) {
		uint64_t slot = w->hop_addr + gb->bias;
		if (reloc_jmp8((uint8_t *)at, at, slot) || reloc_jmp32((uint8_t *)slot, slot, (uint64_t)t)) {
			snprintf(why, whylen, "hop does not encode");
			return -ERANGE;
		}
		return 0;
	}
	if (reloc_jmp32((uint8_t *)at, at, (uint64_t)t)) {
		snprintf(why, whylen, "trampoline out of reach");
		return -ERANGE;
	}
	return 0;
}

static bool selected(const char *name, const char *want, const char *skip)
{
	return strncmp(name, want, strlen(want)) == 0 && !(skip && *skip && strncmp(name, skip, strlen(skip)) == 0);
}

/* The executable's text: [lo, hi) at run time, from its executable PT_LOAD. */
static int text_range(const struct gobin *gb, uint64_t *lo, uint64_t *hi)
{
	for (size_t i = 0; i < gb->elf.phnum; i++) {
		const Elf64_Phdr *ph = &gb->elf.ph[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			*lo = (ph->p_vaddr + gb->bias) & ~0xfffull;
			*hi = (ph->p_vaddr + ph->p_memsz + gb->bias + 0xfff) & ~0xfffull;
			return 0;
		}
	}
	return -ENOENT;
}

__attribute__((constructor)) static void selfpatch(void)
{
	const char *want = getenv("SELFPATCH"), *skip = getenv("SELFPATCH_SKIP");
	bool broken = getenv("SELFPATCH_BREAK") != NULL;
	bool nopolicy = getenv("SELFPATCH_NOPOLICY") != NULL;
	struct gobin gb;
	char err[256];
	if (!want || gobin_open_self(&gb, err, sizeof err) != 0)
		return;
	struct analyze_plan *plans = calloc(gb.nfuncs, sizeof *plans);
	size_t nplans = 0, nwin = 0, tsize = 0;
	for (size_t i = 0; plans && i < gb.nfuncs; i++) {
		const struct gobin_func *fn = &gb.funcs[i];
		const uint8_t *code = gobin_code(&gb, fn);
		struct analyze_input in = { .name = fn->name, .entry = fn->entry, .end = fn->end, .code = code,
					    .flag = fn->flag, .read_ptr = read_ptr, .ctx = &gb,
					    .opts = nopolicy ? ANALYZE_NO_NAME_POLICY : 0 };
		if (!code || !selected(fn->name, want, skip) ||
		    analyze_func(&in, &plans[i], err, sizeof err) != 0)
			continue;
		nplans++;
		nwin += 1 + plans[i].nsites;
		tsize += RELOC_MAX_OUT(plans[i].entry.code_len) + 32;
		for (size_t s = 0; s < plans[i].nsites; s++)
			tsize += RELOC_MAX_OUT(plans[i].sites[s].code_len) + 32;
	}
	uint64_t lo, hi;
	struct tramp_area area = { 0 };
	if (!plans || text_range(&gb, &lo, &hi) || tramp_map(&area, lo, hi, tsize) ||
	    mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
		fprintf(stderr, "selfpatch: cannot set up\n");
		_exit(111);
	}
	for (size_t i = 0; i < gb.nfuncs; i++) {
		const struct analyze_plan *p = &plans[i];
		if (!p->ninsns)
			continue;
		const struct gobin_func *fn = &gb.funcs[i];
		int rc = patch_window(&area, &gb, fn, &p->entry, broken, err, sizeof err);
		for (size_t s = 0; rc == 0 && s < p->nsites; s++)
			rc = patch_window(&area, &gb, fn, &p->sites[s], broken, err, sizeof err);
		if (rc) {
			/* Half-patched code would be wrong: stop here. */
			fprintf(stderr, "selfpatch: %s: %s\n", fn->name, err);
			_exit(111);
		}
	}
	mprotect((void *)lo, hi - lo, PROT_READ | PROT_EXEC);
	mprotect(area.base, area.size, PROT_READ | PROT_EXEC);
	fprintf(stderr, "selfpatch: patched %zu functions, %zu windows, %zu bytes of trampolines\n", nplans, nwin,
		area.used);
	for (size_t i = 0; i < gb.nfuncs; i++)
		if (plans[i].ninsns)
			analyze_plan_free(&plans[i]);
	free(plans);
	/* gb stays open: its strings are not needed after this, but closing it would
	 * unmap the file under nothing; keep it simple and leak it. */
}
