/* selfpatch: plans the patching of every hookable function of an arm64 Go executable
 * (non-PIE: its link-time addresses are its run-time ones) with trampolines that do
 * nothing but what the replaced word did, and writes the plan for selfpatch_so.c,
 * which applies it in the program's constructor under qemu-aarch64 (selfpatch.sh).
 *
 *   selfpatch BINARY OUT
 *
 * The trampolines sit in one area 1 MiB past the end of the executable's last
 * segment. For each function that arm64_plan_func finds fully patchable (the filter
 * of plans.c: no runtime, assembly or linker markers): an entry trampoline, the
 * relocated entry word (arm64_reloc, scratch R16) then the jump back to entry + 4;
 * one per RET, holding the RET. OUT: "A64PATCH", the area's address, its length and
 * the number of patches (u64 each), the area's bytes, then per patch its address (u64),
 * the B to write there (u32) and 0 for an entry, 1 for a return (u32). */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arm64.h"
#include "arm64_go.h"
#include "gobin.h"

struct patch {
	uint64_t addr;
	uint32_t word, kind;
};

static uint32_t *area;
static size_t area_words, area_cap;
static struct patch *patches;
static size_t npatches, patch_cap;

static void grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return;
	*cap = need * 2;
	*p = realloc(*p, *cap * size);
	if (!*p) {
		fprintf(stderr, "selfpatch: out of memory\n");
		exit(2);
	}
}

static void emit(const uint32_t *w, size_t n)
{
	grow((void **)&area, &area_cap, area_words + n, 4);
	memcpy(area + area_words, w, 4 * n);
	area_words += n;
}

static void add_patch(uint64_t at, uint64_t tramp, uint32_t kind)
{
	uint32_t b;
	if (arm64_b(&b, at, tramp)) {
		fprintf(stderr, "selfpatch: B from 0x%" PRIx64 " to 0x%" PRIx64 " out of reach\n", at, tramp);
		exit(1);
	}
	grow((void **)&patches, &patch_cap, npatches + 1, sizeof *patches);
	patches[npatches++] = (struct patch){ at, b, kind };
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: selfpatch BINARY OUT\n");
		return 2;
	}
	struct gobin gb;
	char err[256];
	if (gobin_open(&gb, argv[1], err, sizeof err)) {
		printf("SKIP: lib/reader cannot read %s: %s\n", argv[1], err);
		return 77;
	}
	if (gb.elf.eh.e_machine != EM_AARCH64 || gb.elf.eh.e_type != ET_EXEC) {
		fprintf(stderr, "selfpatch: %s is not a non-PIE arm64 executable\n", argv[1]);
		return 1;
	}
	uint64_t top = 0;
	for (size_t i = 0; i < gb.elf.phnum; i++)
		if (gb.elf.ph[i].p_type == PT_LOAD && gb.elf.ph[i].p_vaddr + gb.elf.ph[i].p_memsz > top)
			top = gb.elf.ph[i].p_vaddr + gb.elf.ph[i].p_memsz;
	const uint64_t base = ((top + 0xfffff) & ~0xfffffull) + (1u << 20);
	size_t entries = 0, rets = 0, skipped = 0, hookable = 0;
	for (size_t i = 0; i < gb.nfuncs; i++) {
		const struct gobin_func *fn = &gb.funcs[i];
		const uint8_t *code = gobin_code(&gb, fn);
		if (!code || arm64_go_policy(fn))
			continue;
		hookable++;
		uint64_t tramp = base + 4 * area_words;
		struct arm64_plan p;
		if (arm64_go_plan(&gb, fn, tramp, &p, err, sizeof err)) {
			skipped++;
			continue;
		}
		bool all = p.entry_ok;
		for (size_t s = 0; s < p.nsites; s++)
			all &= p.sites[s].patchable;
		if (!all) {
			skipped++;
			arm64_plan_free(&p);
			continue;
		}
		if (!p.entry_is_ret) {
			uint32_t w[ARM64_RELOC_MAX + ARM64_JUMP_MAX];
			size_t n, k;
			if (arm64_reloc(p.entry_insn, fn->entry, tramp, ARM64_SCRATCH_GO, w, &n, err, sizeof err) ||
			    arm64_jump(w + n, &k, tramp + 4 * n, fn->entry + 4, ARM64_SCRATCH_GO)) {
				fprintf(stderr, "selfpatch: %s: %s\n", fn->name, err);
				return 1;
			}
			emit(w, n + k);
			add_patch(fn->entry, tramp, 0);
			entries++;
		}
		for (size_t s = 0; s < p.nsites; s++) {
			uint32_t ret;
			memcpy(&ret, code + (p.sites[s].addr - fn->entry), 4);
			add_patch(p.sites[s].addr, base + 4 * area_words, 1);
			emit(&ret, 1);
			rets++;
		}
		arm64_plan_free(&p);
	}
	FILE *f = fopen(argv[2], "wb");
	uint64_t hdr[3] = { base, 4 * (uint64_t)area_words, npatches };
	if (!f || fwrite("A64PATCH", 1, 8, f) != 8 || fwrite(hdr, 8, 3, f) != 3 ||
	    fwrite(area, 4, area_words, f) != area_words || fwrite(patches, sizeof *patches, npatches, f) != npatches ||
	    fclose(f)) {
		fprintf(stderr, "selfpatch: cannot write %s\n", argv[2]);
		return 1;
	}
	printf("selfpatch: %s (%s): %zu hookable functions, %zu entries and %zu returns planned, %zu skipped;"
	       " trampolines at 0x%" PRIx64 ", %zu bytes\n",
	       argv[1], gb.go_version, hookable, entries, rets, skipped, base, 4 * area_words);
	gobin_close(&gb);
	return 0;
}
