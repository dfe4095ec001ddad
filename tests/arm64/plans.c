/* plans: the arm64 hook sites of every function of arm64 Go binaries, and what
 * share of them golat could patch.
 *
 *   plans [--min PCT] BINARY...
 *
 * Each binary is read with lib/reader (functions from pclntab, with their flags). As
 * tests/analyze/coverage.c counts for x86-64: functions refused by policy (runtime.*
 * and the packages the runtime calls, assembly, stack switching, linker markers:
 * arm64_go_policy), those without a RET, and of those that return, the share "fully
 * patchable": the entry relocates and every RET takes its B, for trampolines 1 MiB
 * past the end of text. Besides, the entry instruction of every function (the
 * refused ones too) is relocated 100 MiB either way, 3 GiB and 8 GiB away (the far
 * forms), and each PC-relative one is run through csim against the original, under
 * every flag state (the others must come out copied as is): any failure is counted
 * and fails the run, as a coverage under PCT does. Prints the entry instructions by kind, the
 * literal-pool words found, and the reasons of what cannot be patched. */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arm64.h"
#include "arm64_go.h"
#include "csim.h"
#include "gobin.h"

struct tally {
	size_t funcs, policy, noret, returning, full, sites, sites_ok, entry_bad, data_funcs, targets;
	size_t relocs, reloc_fail, runs;
	size_t kinds[ARM64_REFUSED + 1];
	uint32_t data, pad, unknown;
	char example[3][512];
};

static const char *const kind_names[] = { "other", "adr", "adrp", "ldr literal", "b", "bl", "b.cond",
					  "cbz/cbnz", "tbz/tbnz", "blr", "ret", "refused" };

/* Relocates insn from `from` to `to` and compares it with the original under csim. */
static void check_reloc(csh cs, const struct gobin_func *fn, uint32_t insn, uint64_t from, uint64_t to,
			struct tally *t)
{
	uint32_t out[ARM64_RELOC_MAX];
	size_t n;
	char why[256], err[256], diff[256];
	if (arm64_refusal(insn))
		return;
	t->relocs++;
	if (arm64_reloc(insn, from, to, ARM64_SCRATCH_GO, out, &n, why, sizeof why)) {
		if (t->reloc_fail++ < 10)
			printf("  reloc %s: %s\n", fn->name, why);
		return;
	}
	enum arm64_kind kind = arm64_kind(insn);
	if (kind == ARM64_OTHER || kind == ARM64_RET) { /* copied: csim knows few of these */
		if (n != 1 || out[0] != insn) {
			if (t->reloc_fail++ < 10)
				printf("  reloc %s: %08" PRIx32 " not copied as is\n", fn->name, insn);
		}
		return;
	}
	for (unsigned k = 0; k < 16; k++) {
		struct csim_state s = { .nzcv = k };
		struct csim_result a, b;
		for (int i = 0; i < 31; i++)
			s.x[i] = (k & 1) ? 0 : 0x0101010101010101ull * (uint64_t)(i + 1);
		const char *d = NULL;
		if (csim_run(cs, &insn, 1, from, &s, &a, err, sizeof err) || csim_run(cs, out, n, to, &s, &b, err, sizeof err))
			d = err;
		else
			d = csim_same(&a, from, &b, ARM64_SCRATCH_GO, diff, sizeof diff);
		t->runs++;
		if (d) {
			if (t->reloc_fail++ < 10)
				printf("  reloc %s (%08" PRIx32 " to 0x%" PRIx64 "): %s\n", fn->name, insn, to, d);
			return;
		}
	}
}

static void plan_all(const struct gobin *gb, csh cs, struct tally *t)
{
	uint64_t tramp = arm64_go_tramp(gb);
	for (size_t i = 0; i < gb->nfuncs; i++) {
		const struct gobin_func *fn = &gb->funcs[i];
		const uint8_t *code = gobin_code(gb, fn);
		t->funcs++;
		if (code && fn->end - fn->entry >= 4) {
			/* Every function's entry, the runtime's and assembly's too, relocated far. */
			uint32_t insn;
			memcpy(&insn, code, 4);
			for (uint64_t d = 100ull << 20; d; d = d == 100ull << 20 ? 3ull << 30 : d == 3ull << 30 ? 8ull << 30 : 0)
				check_reloc(cs, fn, insn, fn->entry, fn->entry + d, t);
			check_reloc(cs, fn, insn, fn->entry, fn->entry - (100ull << 20), t);
		}
		struct arm64_plan p;
		char why[256];
		int rc = arm64_go_plan(gb, fn, tramp, &p, why, sizeof why);
		if (rc == -EPERM) {
			t->policy++;
			continue;
		}
		if (rc) {
			t->returning++;
			t->entry_bad++;
			if (t->entry_bad <= 3)
				snprintf(t->example[t->entry_bad - 1], sizeof t->example[0], "%s", why);
			continue;
		}
		t->kinds[arm64_kind(p.entry_insn)]++;
		t->data += p.ndata;
		t->data_funcs += p.ndata > 0;
		t->pad += p.npad;
		t->unknown += p.nunknown;
		t->targets += p.entry_is_target;
		if (p.nsites == 0) {
			t->noret++;
			arm64_plan_free(&p);
			continue;
		}
		t->returning++;
		for (size_t s = 0; s < p.nsites; s++)
			t->sites_ok += p.sites[s].patchable;
		t->sites += p.nsites;
		if (arm64_go_hookable(fn, &p, why, sizeof why))
			t->full++;
		else if (++t->entry_bad <= 3)
			snprintf(t->example[t->entry_bad - 1], sizeof t->example[0], "%s", why);
		arm64_plan_free(&p);
	}
}

/* Whether path is an arm64 ELF file (e_machine, at byte 18, is EM_AARCH64). */
static bool arm64_elf(const char *path)
{
	unsigned char h[20] = { 0 };
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(h, 1, sizeof h, f) : 0;
	if (f)
		fclose(f);
	return n == sizeof h && memcmp(h, ELFMAG, SELFMAG) == 0 && (h[18] | h[19] << 8) == EM_AARCH64;
}

int main(int argc, char **argv)
{
	double min = -1;
	int i = 1, status = 0;
	if (i + 1 < argc && strcmp(argv[i], "--min") == 0) {
		min = strtod(argv[i + 1], NULL);
		i += 2;
	}
	if (i == argc) {
		fprintf(stderr, "usage: plans [--min PCT] BINARY...\n");
		return 2;
	}
	csh cs;
	if (cs_open(CS_ARCH_ARM64, CS_MODE_ARM, &cs) != CS_ERR_OK || cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON)) {
		fprintf(stderr, "plans: cannot open capstone's ARM64 mode\n");
		return 2;
	}
	for (; i < argc; i++) {
		struct gobin gb;
		char err[256];
		if (!arm64_elf(argv[i])) {
			fprintf(stderr, "%s: not an arm64 ELF file\n", argv[i]);
			status = 1;
			continue;
		}
		if (gobin_open(&gb, argv[i], err, sizeof err)) {
			/* The reader learns arm64 in issue 21, part 2: until it does, say so. */
			printf("SKIP: lib/reader cannot read the arm64 binary %s: %s\n", argv[i], err);
			status = status ? status : 77;
			continue;
		}
		struct tally t = { 0 };
		plan_all(&gb, cs, &t);
		double share = t.returning ? 100.0 * (double)t.full / (double)t.returning : 0;
		printf("%s (%s): %zu functions; %zu refused by policy (runtime, assembly, linker markers); %zu without a ret\n",
		       argv[i], gb.go_version[0] ? gb.go_version : "unknown Go", t.funcs, t.policy, t.noret);
		printf("  returning with a ret: %zu, fully patchable %zu (%.2f%%); %zu return sites, %zu patchable;"
		       " %zu entries a branch target\n",
		       t.returning, t.full, share, t.sites, t.sites_ok, t.targets);
		printf("  entry instructions:");
		for (int k = 0; k <= ARM64_REFUSED; k++)
			if (t.kinds[k])
				printf(" %s %zu", kind_names[k], t.kinds[k]);
		printf("\n  literal-pool words %u in %zu functions; padding words %u; other words capstone 4 does not"
		       " know %u\n", t.data, t.data_funcs, t.pad, t.unknown);
		printf("  entry relocations at +100 MiB, -100 MiB, +3 GiB, +8 GiB: %zu, %zu csim runs, %zu failed\n",
		       t.relocs, t.runs, t.reloc_fail);
		for (size_t e = 0; e < t.entry_bad && e < 3; e++)
			printf("  not patchable, e.g. %s\n", t.example[e]);
		if ((min >= 0 && share < min) || t.reloc_fail)
			status = 1;
		gobin_close(&gb);
	}
	cs_close(&cs);
	return status;
}
