/* coverage: runs the analyzer on every function of Go binaries and says how many
 * golat can patch, and why the others are skipped.
 *
 *   coverage [-v] [-n TOP] [-p PREFIX] [--min PCT] BINARY...
 *
 * For each binary: functions in pclntab, those refused by policy (runtime,
 * assembly), those without a ret (tail-call wrappers, functions that never
 * return), and of the functions that return with a ret, the share patchable, with
 * the most common skip reasons (offsets and instructions' operands folded so
 * that alike reasons count together). Every window of every plan is also
 * relocated with reloc_window 1 GiB away, so the relocator sees real code.
 * -v prints every skipped function's reason, -p the plans of the functions whose
 * names start with PREFIX. With --min, the exit status is 1
 * when a binary's patchable share of returning functions is below PCT. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "gobin.h"
#include "reloc.h"

struct reason_count {
	char *text;
	size_t n;
	char example[512];
};

struct tally {
	size_t funcs, policy, noret, returning, patched, hops, whole, borrow, sites, reloc_fail;
	struct reason_count *reasons;
	size_t nreasons, capreasons;
};

static bool read_ptr(void *ctx, uint64_t addr, uint64_t *value)
{
	const struct gobin *gb = ctx;
	return elf_read_ptr(&gb->elf, addr, value);
}

static const char *name_at(void *ctx, uint64_t addr)
{
	const struct gobin_func *f = gobin_func_at(ctx, addr);
	return f && f->entry == addr ? f->name : NULL;
}

/* Folds a reason into its kind: no function name, no numbers, instructions
 * reduced to their mnemonic. */
static void fold(const char *reason, char *out, size_t len)
{
	const char *p = strstr(reason, ": ");
	p = p ? p + 2 : reason;
	size_t o = 0;
	while (*p && o + 4 < len) {
		if (p[0] == '0' && p[1] == 'x') {
			out[o++] = 'N';
			p += 2;
			while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
				p++;
		} else if (*p == '`') {
			out[o++] = *p++;
			while (*p && *p != '`' && *p != ' ')
				out[o++] = *p++, (void)0;
			while (*p && *p != '`')
				p++;
			if (*p)
				out[o++] = *p++;
		} else if (strncmp(p, "tail jump to ", 13) == 0) {
			memcpy(out + o, "tail jump to F", 14);
			o += 14;
			p += 13;
			while (*p && *p != ';' && !(p[0] == ' ' && p[1] == 'b'))
				p++;
		} else if (strncmp(p, "hook ", 5) == 0 && strstr(p, " instead")) {
			memcpy(out + o, "hook F instead", 14);
			o += 14;
			p = strstr(p, " instead") + 8;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = 0;
}

static void count_reason(struct tally *t, const char *reason)
{
	char kind[512];
	fold(reason, kind, sizeof kind);
	for (size_t i = 0; i < t->nreasons; i++)
		if (strcmp(t->reasons[i].text, kind) == 0) {
			t->reasons[i].n++;
			return;
		}
	if (t->nreasons == t->capreasons) {
		t->capreasons = t->capreasons ? 2 * t->capreasons : 32;
		t->reasons = realloc(t->reasons, t->capreasons * sizeof *t->reasons);
		if (!t->reasons)
			abort();
	}
	struct reason_count *r = &t->reasons[t->nreasons++];
	r->text = strdup(kind);
	r->n = 1;
	snprintf(r->example, sizeof r->example, "%s", reason);
}

static int by_count(const void *a, const void *b)
{
	const struct reason_count *x = a, *y = b;
	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->text, y->text);
}

/* Relocates one window 1 GiB away; counts failures (there should be none). */
static void try_reloc(const struct gobin *gb, const struct gobin_func *fn, const uint8_t *code,
		      const struct analyze_window *w, struct tally *t, bool verbose)
{
	uint8_t out[RELOC_MAX_OUT(ANALYZE_MAX_CODE)];
	char why[256];
	size_t n;
	if (w->code_len > ANALYZE_MAX_CODE) {
		t->reloc_fail++;
		if (verbose)
			printf("  window of %s has %u bytes\n", fn->name, w->code_len);
		return;
	}
	uint64_t dst = w->addr + (1ull << 30);
	int rc = reloc_window(code + (w->addr - fn->entry), w->code_len, w->addr, dst,
			      w->ret ? RELOC_DROP_RET : 0, out, sizeof out, &n, why, sizeof why);
	if (rc) {
		t->reloc_fail++;
		if (verbose)
			printf("  reloc %s: %s\n", fn->name, why);
	}
	(void)gb;
}

static void print_window(const char *kind, const struct analyze_window *w, uint64_t entry)
{
	printf(" %s +0x%" PRIx64 "+%u", kind, w->addr - entry, w->len);
	if (w->code_len != w->len)
		printf("(%u)", w->code_len);
	if (w->hop)
		printf(" hop@+0x%" PRIx64, w->hop_addr - entry);
}

static void print_plan(const struct gobin_func *fn, const struct analyze_plan *p)
{
	printf("  plan %s:", fn->name);
	print_window(p->entry.ret ? "whole" : "entry", &p->entry, fn->entry);
	for (size_t s = 0; s < p->nsites; s++)
		print_window("ret", &p->sites[s], fn->entry);
	printf("\n");
}

static void analyze_all(const struct gobin *gb, struct tally *t, bool verbose, const char *show)
{
	for (size_t i = 0; i < gb->nfuncs; i++) {
		const struct gobin_func *fn = &gb->funcs[i];
		const uint8_t *code = gobin_code(gb, fn);
		struct analyze_input in = {
			.name = fn->name, .entry = fn->entry, .end = fn->end, .code = code,
			.flag = fn->flag, .read_ptr = read_ptr, .name_at = name_at, .ctx = (void *)gb,
		};
		struct analyze_plan plan;
		char reason[512];
		t->funcs++;
		int rc = code ? analyze_func(&in, &plan, reason, sizeof reason) : -EINVAL;
		if (!code)
			snprintf(reason, sizeof reason, "%s: no code in the file", fn->name);
		if (rc == -EPERM) {
			t->policy++;
			continue;
		}
		if (rc == -ENOENT) {
			t->noret++;
			count_reason(t, reason);
			continue;
		}
		t->returning++;
		if (rc) {
			count_reason(t, reason);
			if (verbose)
				printf("  skip %s\n", reason);
			continue;
		}
		t->patched++;
		if (show && strncmp(fn->name, show, strlen(show)) == 0)
			print_plan(fn, &plan);
		t->whole += plan.entry.ret;
		t->sites += plan.nsites;
		bool hop = plan.entry.hop, borrow = plan.entry.len > plan.entry.code_len;
		try_reloc(gb, fn, code, &plan.entry, t, verbose);
		for (size_t s = 0; s < plan.nsites; s++) {
			hop |= plan.sites[s].hop;
			borrow |= plan.sites[s].len > plan.sites[s].code_len;
			try_reloc(gb, fn, code, &plan.sites[s], t, verbose);
		}
		t->hops += hop;
		t->borrow += borrow;
		analyze_plan_free(&plan);
	}
}

static double pct(size_t a, size_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0;
}

int main(int argc, char **argv)
{
	bool verbose = false;
	const char *show = NULL;
	size_t top = 10;
	double min = -1;
	int status = 0, i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-v") == 0)
			verbose = true;
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			top = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc)
			show = argv[++i];
		else if (strcmp(argv[i], "--min") == 0 && i + 1 < argc)
			min = strtod(argv[++i], NULL);
		else
			break;
	}
	if (i == argc) {
		fprintf(stderr, "usage: coverage [-v] [-n TOP] [-p PREFIX] [--min PCT] BINARY...\n");
		return 2;
	}
	for (; i < argc; i++) {
		struct gobin gb;
		char err[256];
		if (gobin_open(&gb, argv[i], err, sizeof err)) {
			fprintf(stderr, "%s: %s\n", argv[i], err);
			status = 1;
			continue;
		}
		struct tally t = { 0 };
		analyze_all(&gb, &t, verbose, show);
		double share = pct(t.patched, t.returning);
		printf("%s (%s): %zu functions; %zu refused by policy (runtime, assembly); %zu without a ret\n",
		       argv[i], gb.go_version[0] ? gb.go_version : "unknown Go", t.funcs, t.policy, t.noret);
		printf("  returning with a ret: %zu, patchable %zu (%.2f%%): with a hop %zu, borrowing padding %zu,"
		       " whole-function window %zu; %zu return sites; relocation failures %zu\n",
		       t.returning, t.patched, share, t.hops, t.borrow, t.whole, t.sites, t.reloc_fail);
		qsort(t.reasons, t.nreasons, sizeof *t.reasons, by_count);
		for (size_t r = 0; r < t.nreasons && r < top; r++)
			printf("  %6zu  %s\n          e.g. %s\n", t.reasons[r].n, t.reasons[r].text,
			       t.reasons[r].example);
		if ((min >= 0 && share < min) || t.reloc_fail)
			status = 1;
		for (size_t r = 0; r < t.nreasons; r++)
			free(t.reasons[r].text);
		free(t.reasons);
		gobin_close(&gb);
	}
	return status;
}
