/* golat list / golat info: what the reader finds in a Go binary. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arm64_go.h"
#include "cli.h"
#include "dwarf_args.h"
#include "gobin.h"
#include "hook.h"
#include "json.h"
#include "spec.h"
#include "window.h"

/* Which signal handling `golat list` plans for (--signals): the one golat would have in
 * the binary (hook_plan: owned in a cgo program), or either one forced, to compare. */
enum list_signals { SIGNALS_AUTO, SIGNALS_OWNED, SIGNALS_GO };

struct list_opts {
	int json, args, totals, lines;
	enum list_signals signals;
	uint64_t tramp; /* an arm64 binary's: where its plans put the trampolines */
};

/* How the returns of the listed functions are hooked (analyze.h): by a 5-byte jmp over
 * their own window, a 2-byte hop through padding, steered branches (a window that took a
 * branch target in), an int3, or inside the entry's whole window; on arm64 each RET
 * by the one B that replaces it (arm64.h). */
struct ret_counts {
	size_t returns, jmp5, hop, steered, int3, whole, b;
	size_t hop_body, hop_twin; /* of hop: to a jump in the body (another window's tail, dead nops), to a twin */
};

struct list_totals {
	size_t funcs, patchable, with_int3;
	struct ret_counts r;
};

/* Parses "[--json] [--args] [--lines] [--totals] [--signals=auto|owned|go] EXE [SPEC...]";
 * returns the index of EXE in argv, or -1. */
static int parse_args(int argc, char **argv, struct list_opts *o)
{
	int i = 1;
	*o = (struct list_opts){ 0 };
	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0)
			o->json = 1;
		else if (strcmp(argv[i], "--args") == 0)
			o->args = 1;
		else if (strcmp(argv[i], "--totals") == 0)
			o->totals = 1;
		else if (strcmp(argv[i], "--lines") == 0)
			o->lines = 1;
		else if (strcmp(argv[i], "--signals=auto") == 0)
			o->signals = SIGNALS_AUTO;
		else if (strcmp(argv[i], "--signals=owned") == 0)
			o->signals = SIGNALS_OWNED;
		else if (strcmp(argv[i], "--signals=go") == 0)
			o->signals = SIGNALS_GO;
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else
			return -1;
	}
	return i < argc ? i : -1;
}

static int open_exe(struct gobin *gb, const char *path)
{
	char err[512];
	return gobin_open(gb, path, err, sizeof(err)) ? cli_fail("%s", err) : 0;
}

/* The signatures of the functions specs match (one walk over the DWARF), or NULL after
 * saying why there are none. */
static struct dwarf_args *list_sigs(const struct gobin *gb, const struct spec_set *specs,
				    const char *path)
{
	uint64_t *e = malloc((gb->nfuncs + 1) * sizeof(*e));
	uint32_t *frames = malloc((gb->nfuncs + 1) * sizeof(*frames));
	struct dwarf_args *ix = NULL;
	size_t n = 0;

	if (!e || !frames) {
		free(e);
		free(frames);
		cli_fail("out of memory");
		return NULL;
	}
	for (size_t i = 0; i < gb->nfuncs; i++)
		if (spec_match(specs, gb->funcs[i].name)) {
			frames[n] = gb->funcs[i].args;
			e[n++] = gb->funcs[i].entry;
		}
	int err = dwarf_args_index(&gb->elf, e, frames, n, &ix);
	free(e);
	free(frames);
	if (err == -ENOENT)
		cli_fail("%s has no DWARF (stripped?): no signatures for --args", path);
	else if (err)
		cli_fail("%s: no signatures for --args: its DWARF: %s", path, strerror(-err));
	return ix;
}

/* One parameter as JSON: {"name","type","kind","size","where"} and, in registers,
 * "regs" (["rbx","rcx"]: a part per register, floats as "x0"...). */
static void print_param_json(const struct dwarf_param *p)
{
	static const char *const where[] = { [DWARF_WHERE_REGS] = "regs",
		[DWARF_WHERE_STACK] = "stack", [DWARF_WHERE_NONE] = "none",
		[DWARF_WHERE_UNKNOWN] = "unknown" };

	printf("{\"name\":");
	json_string(stdout, p->name);
	printf(",\"type\":");
	json_string(stdout, p->type);
	printf(",\"kind\":\"%s\",\"size\":%llu,\"where\":\"%s\"", dwarf_kind_name(p->kind),
	       (unsigned long long)p->size, where[p->where]);
	if (p->where == DWARF_WHERE_REGS) {
		fputs(",\"regs\":[", stdout);
		for (uint8_t i = 0; i < p->nparts; i++)
			printf("%s\"%s\"", i ? "," : "", dwarf_reg_names[p->part[i].reg]);
		putchar(']');
	}
	putchar('}');
}

/* The parameters (results false) or results of s, as text or as JSON array elements. */
static void print_params(const struct dwarf_func_sig *s, bool results, int json)
{
	char where[128];
	int n = 0;

	for (size_t i = 0; i < s->nparams; i++) {
		const struct dwarf_param *p = &s->param[i];
		if (p->result != results)
			continue;
		fputs(n++ ? (json ? "," : ", ") : "", stdout);
		if (json) {
			print_param_json(p);
		} else {
			dwarf_param_where(p, where, sizeof(where));
			printf("%s %s [%s]", p->name, p->type[0] ? p->type : "?", where);
		}
	}
}

/* After a function's row: its signature with the registers of each part. */
static void print_sig(const struct dwarf_args *ix, const struct gobin_func *f, int json)
{
	const struct dwarf_func_sig *s;

	static const char *const notes[] = {
		[DWARF_SIG_ABI0] = "  (ABI0: all on the stack)",
		[DWARF_SIG_INCOMPLETE] = "  (the DWARF leaves a parameter out: registers unsure)",
	};

	if (dwarf_func_args(ix, f->entry, &s) != 0) {
		if (json)
			fputs(",\"args\":null,\"results\":null,\"args_check\":null", stdout);
		return;
	}
	fputs(json ? ",\"args\":[" : "           (", stdout);
	print_params(s, false, json);
	fputs(json ? "],\"results\":[" : ") (", stdout);
	print_params(s, true, json);
	if (json)
		printf("],\"args_check\":\"%s\"", dwarf_check_name(s->check));
	else
		printf(")%s\n", notes[s->check] ? notes[s->check] : "");
}

/* --lines: where f starts in the source, the position of its entry PC, as text
 * ("  main.go:42") or as the JSON keys "file" and "line" (null when the tables give
 * none: some assembly functions). */
static void print_line(const struct gobin *gb, const struct gobin_func *f, int json)
{
	const char *file;
	int32_t line;
	bool ok = gobin_pc_line(gb, f->entry, &file, &line) == 0;

	if (!json) {
		if (ok)
			printf("  %s:%d", file, (int)line);
		return;
	}
	fputs(",\"file\":", stdout);
	if (ok) {
		json_string(stdout, file);
		printf(",\"line\":%d", (int)line);
	} else {
		fputs("null,\"line\":null", stdout);
	}
}

/* Adds how each return of plan is hooked to c. */
static void count_returns(const struct analyze_plan *plan, struct ret_counts *c)
{
	if (plan->entry.ret) {
		c->returns++;
		c->whole++;
	}
	for (size_t i = 0; i < plan->nsites; i++) {
		const struct analyze_window *w = &plan->sites[i];
		c->returns++;
		if (w->int3)
			c->int3++;
		else if (w->nredir || w->len == 0)
			c->steered++;
		else if (w->hop) {
			c->hop++;
			c->hop_twin += w->twin;
			c->hop_body += !w->twin && w->hop_addr >= plan->entry.addr && w->hop_addr < plan->body_end;
		}
		else
			c->jmp5++;
	}
}

/* The JSON of c: x86-64's keys, and "b" first for an arm64 binary. */
static void print_counts_json(const struct gobin *gb, const struct ret_counts *c)
{
	printf("{\"returns\":%zu,", c->returns);
	if (gb->arch == GOBIN_ARCH_ARM64)
		printf("\"b\":%zu,", c->b);
	printf("\"jmp5\":%zu,\"hop\":%zu,\"steered\":%zu,\"int3\":%zu,\"whole\":%zu,"
	       "\"hop_body\":%zu,\"hop_twin\":%zu}", c->jmp5, c->hop, c->steered, c->int3, c->whole,
	       c->hop_body, c->hop_twin);
}

/* plan_func for an arm64 binary, which lib/arch/arm64 plans (arm64_go.h): one B per
 * site, the entry and each RET, to trampolines at tramp; no int3, nothing steered. */
static int plan_func_arm64(const struct gobin *gb, const struct gobin_func *f, uint64_t tramp,
			   struct ret_counts *c, char *why, size_t whylen)
{
	struct arm64_plan plan;
	if (arm64_go_plan(gb, f, tramp, &plan, why, whylen) != 0)
		return 0;
	bool ok = arm64_go_hookable(f, &plan, why, whylen);
	if (ok) {
		c->returns += plan.nsites;
		c->b += plan.nsites;
	}
	arm64_plan_free(&plan);
	return ok;
}

/* Plans f's hooks as golat would (x86-64: lib/engine's analyzer): 1 with c and
 * *steered (why: a note for returns through an int3), or 0 with why golat cannot
 * patch it. */
static int plan_func(const struct gobin *gb, const struct gobin_func *f, const struct list_opts *o,
		     struct ret_counts *c, int *steered, char *why, size_t whylen)
{
	if (gb->arch == GOBIN_ARCH_ARM64)
		return plan_func_arm64(gb, f, o->tramp, c, why, whylen);
	struct analyze_plan plan;
	int rc = o->signals == SIGNALS_AUTO ? hook_plan(gb, f, &plan, why, whylen)
					    : window_plan(gb, f, o->signals == SIGNALS_OWNED, &plan, why, whylen);
	if (rc != 0)
		return 0;
	*steered = (int)plan.entry.nredir;
	for (size_t i = 0; i < plan.nsites; i++)
		*steered += (int)plan.sites[i].nredir;
	count_returns(&plan, c);
	if (c->int3)
		snprintf(why, whylen, "%s: %zu return%s through an int3: a signal per call", f->name, c->int3,
			 c->int3 > 1 ? "s" : "");
	analyze_plan_free(&plan);
	return 1;
}

/* Prints one function with whether golat can hook it, and why not, and with ix its
 * signature; adds it to t. */
static void print_func(const struct gobin *gb, const struct gobin_func *f, const struct list_opts *o,
		       bool first, const struct dwarf_args *ix, struct list_totals *t)
{
	struct ret_counts c = { 0 };
	char why[256] = "";
	int steered = 0;
	int ok = plan_func(gb, f, o, &c, &steered, why, sizeof(why));
	t->funcs++;
	t->patchable += ok;
	t->with_int3 += c.int3 > 0;
	t->r.returns += c.returns;
	t->r.jmp5 += c.jmp5;
	t->r.hop += c.hop;
	t->r.steered += c.steered;
	t->r.int3 += c.int3;
	t->r.whole += c.whole;
	t->r.b += c.b;
	t->r.hop_body += c.hop_body;
	t->r.hop_twin += c.hop_twin;
	if (o->totals)
		return;
	/* The reason starts with the function's name, which the row already shows. */
	const char *r = strncmp(why, f->name, strlen(f->name)) == 0 && why[strlen(f->name)] == ':'
				? why + strlen(f->name) + 2 : why;
	if (!o->json) {
		bool note = !ok || c.int3;
		printf("%#10llx %#10llx %6llu  %-3s %s%s%s%s", (unsigned long long)f->entry,
		       (unsigned long long)f->end, (unsigned long long)(f->end - f->entry),
		       ok ? "yes" : "no", f->name, note ? "  (" : "", note ? r : "", note ? ")" : "");
		if (o->lines)
			print_line(gb, f, false);
		putchar('\n');
		if (ix)
			print_sig(ix, f, o->json);
		return;
	}
	printf("%s\n {\"name\":", first ? "" : ",");
	json_string(stdout, f->name);
	/* golat's additions to SPEC.md's keys: "traps", returns hooked through an int3;
	 * "steered", branches golat rewrites so that a return has a window (analyze.h,
	 * struct analyze_redirect); "returns", how each return is hooked (count_returns),
	 * null when the function is not patchable. */
	printf(",\"entry\":\"%#llx\",\"end\":\"%#llx\",\"patchable\":%s,\"traps\":%zu,\"steered\":%d,"
	       "\"returns\":", (unsigned long long)f->entry, (unsigned long long)f->end,
	       ok ? "true" : "false", c.int3, steered);
	if (ok)
		print_counts_json(gb, &c);
	else
		fputs("null", stdout);
	fputs(",\"reason\":", stdout);
	if (ok && !c.int3)
		fputs("null", stdout);
	else
		json_string(stdout, r);
	if (o->lines)
		print_line(gb, f, true);
	if (ix)
		print_sig(ix, f, o->json);
	putchar('}');
}

/* --totals: one JSON object (--json) or line for every listed function together. */
static void print_totals(const struct gobin *gb, const struct list_opts *o, const struct list_totals *t)
{
	/* What hook_plan chooses for a file: signals owned in a cgo program, and in a
	 * static one whose rt_sigaction golat redirects (x86-64: arm64's plans have no
	 * int3, whatever the signal handling). */
	bool arm64 = gb->arch == GOBIN_ARCH_ARM64;
	bool planned = (gb->dynamic && gb->cgo) || (!arm64 && gb->nolibc && window_rt_sigaction(gb));
	bool owned = o->signals == SIGNALS_OWNED || (o->signals == SIGNALS_AUTO && planned);
	double pct = t->patchable ? 100.0 * (double)t->with_int3 / (double)t->patchable : 0;
	if (!o->json) {
		printf("signals %s: %zu functions, %zu patchable, %zu with an int3 (%.3f%%); returns %zu: ",
		       owned ? "owned" : "go", t->funcs, t->patchable, t->with_int3, pct, t->r.returns);
		if (arm64)
			printf("b %zu\n", t->r.b);
		else
			printf("jmp5 %zu, hop %zu, steered %zu, int3 %zu, whole %zu\n", t->r.jmp5, t->r.hop,
			       t->r.steered, t->r.int3, t->r.whole);
		return;
	}
	printf("{\"arch\":\"%s\",\"signals\":\"%s\",\"planned\":\"%s\",\"go_version\":",
	       gobin_arch_name(gb->arch), owned ? "owned" : "go", planned ? "owned" : "go");
	json_string(stdout, gb->go_version);
	printf(",\"dynamic\":%s,\"functions\":%zu,\"patchable\":%zu,\"with_int3\":%zu,\"int3_pct\":%.4f,"
	       "\"returns\":", gb->dynamic ? "true" : "false", t->funcs, t->patchable, t->with_int3, pct);
	print_counts_json(gb, &t->r);
	puts("}");
}

int cmd_list(int argc, char **argv)
{
	struct list_opts o;
	int exe = parse_args(argc, argv, &o);
	if (exe < 0) {
		fputs("usage: golat list [--json] [--args] [--lines] [--totals] [--signals=auto|owned|go] EXE "
		      "[SPEC...]\n", stderr);
		return 2;
	}
	struct gobin gb;
	if (open_exe(&gb, argv[exe]))
		return 1;
	struct spec_set specs = { 0 };
	for (int i = exe + 1; i < argc; i++)
		if (spec_add(&specs, argv[i]) != 0) {
			gobin_close(&gb);
			return cli_fail("bad spec '%s'", argv[i]);
		}
	spec_resolve(&specs, &gb);
	if (gb.arch == GOBIN_ARCH_ARM64)
		o.tramp = arm64_go_tramp(&gb);
	struct dwarf_args *ix = o.args && !o.totals ? list_sigs(&gb, &specs, argv[exe]) : NULL;
	if (o.totals)
		;
	else if (o.json)
		putchar('[');
	else
		printf("%10s %10s %6s  %-3s %s\n", "ENTRY", "END", "SIZE", "OK", "NAME");
	struct list_totals t = { 0 };
	for (size_t i = 0; i < gb.nfuncs; i++)
		if (spec_match(&specs, gb.funcs[i].name))
			print_func(&gb, &gb.funcs[i], &o, t.funcs == 0, ix, &t);
	if (o.totals)
		print_totals(&gb, &o, &t);
	else if (o.json)
		puts("\n]");
	else
		printf("%zu functions, %zu patchable\n", t.funcs, t.patchable);
	int rc = 0;
	for (size_t k = 0; k < specs.n; k++)
		if (specs.v[k].matches == 0)
			rc = cli_fail("%s'%s' matches no function", specs.v[k].negative ? "!" : "",
				      specs.v[k].text);
	dwarf_args_free(ix);
	spec_free(&specs);
	gobin_close(&gb);
	return rc;
}

static void info_json(const struct gobin *gb, const char *path)
{
	const struct gobin_goff *o = &gb->goff;
	printf("{\"path\":");
	json_string(stdout, path);
	printf(",\"arch\":\"%s\",\"go_version\":", gobin_arch_name(gb->arch));
	json_string(stdout, gb->go_version);
	printf(",\"main_path\":");
	json_string(stdout, gb->main_path);
	printf(",\"main_module\":");
	json_string(stdout, gb->main_module);
	printf(",\"main_version\":");
	json_string(stdout, gb->main_version);
	printf(",\"pclntab_magic\":\"%#x\",\"pclntab\":\"%#llx\",\"pclntab_source\":\"%s\","
	       "\"text\":\"%#llx\",\"nfuncs\":%zu,\"pie\":%s,\"dynamic\":%s,\"symtab\":%s,"
	       "\"dwarf\":%s,",
	       gb->pcln_magic, (unsigned long long)gb->pclntab, gb->pclntab_source,
	       (unsigned long long)gb->text, gb->nfuncs, gb->pie ? "true" : "false",
	       gb->dynamic ? "true" : "false", gb->has_symtab ? "true" : "false",
	       gb->has_dwarf ? "true" : "false");
	if (gb->has_g_tls)
		printf("\"g_tls\":%lld,\"g_tls_source\":\"%s\",", (long long)gb->g_tls, gb->g_tls_source);
	else
		printf("\"g_tls\":null,\"g_tls_source\":null,");
	printf("\"g_reg\":");
	if (gb->g_reg)
		printf("\"%s\",", gb->g_reg);
	else
		printf("null,");
	printf("\"pc_quantum\":%u,", gb->pc_quantum);
	printf("\"goff\":{\"stack_lo\":%u,\"stack_hi\":%u,\"stackguard0\":%u,\"m\":%u,\"goid\":%u,"
	       "\"source\":\"%s\"}}\n",
	       o->stack_lo, o->stack_hi, o->stackguard0, o->m, o->goid, o->source);
}

static void info_text(const struct gobin *gb, const char *path)
{
	printf("%s: %s %s, %s%s, %s\n", path, gobin_arch_name(gb->arch),
	       gb->go_version[0] ? gb->go_version : "unknown Go version",
	       gb->pie ? "PIE" : "non-PIE", gb->dynamic ? " dynamically linked" : " statically linked",
	       gb->has_symtab ? "with symbols" : "stripped");
	if (gb->main_module[0])
		printf("  main      %s (module %s %s)\n", gb->main_path, gb->main_module, gb->main_version);
	else if (gb->main_path[0])
		printf("  main      %s (no module)\n", gb->main_path);
	printf("  pclntab   %#llx (magic %#x, found by %s), %zu functions, text %#llx\n",
	       (unsigned long long)gb->pclntab, gb->pcln_magic, gb->pclntab_source, gb->nfuncs,
	       (unsigned long long)gb->text);
	if (gb->has_g_tls)
		printf("  g         fs:%lld (from %s)\n", (long long)gb->g_tls, gb->g_tls_source);
	else if (gb->g_reg)
		printf("  g         in register %s (no TLS slot)\n", gb->g_reg);
	else
		printf("  g         TLS slot not found\n");
	printf("  g fields  stack.hi +%u, m +%#x, goid +%#x (from %s)\n", gb->goff.stack_hi,
	       gb->goff.m, gb->goff.goid, gb->goff.source);
}

int cmd_info(int argc, char **argv)
{
	struct list_opts o;
	int exe = parse_args(argc, argv, &o);
	if (exe < 0 || exe + 1 != argc || o.args || o.totals || o.signals) {
		fputs("usage: golat info [--json] EXE\n", stderr);
		return 2;
	}
	struct gobin gb;
	if (open_exe(&gb, argv[exe]))
		return 1;
	(o.json ? info_json : info_text)(&gb, argv[exe]);
	gobin_close(&gb);
	return 0;
}
