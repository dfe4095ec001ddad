/* golat list / golat info: what the reader finds in a Go binary. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "gobin.h"
#include "hook.h"
#include "json.h"
#include "spec.h"

/* Parses "[--json] EXE [SPEC...]"; returns the index of EXE in argv, or -1. */
static int parse_args(int argc, char **argv, int *json)
{
	int i = 1;
	*json = 0;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0)
			*json = 1;
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

/* Prints one function with whether golat can hook it, and why not. */
static int print_func(const struct gobin *gb, const struct gobin_func *f, int json, int first)
{
	struct analyze_plan plan;
	char why[256] = "";
	int ok = hook_plan(gb, f, &plan, why, sizeof(why)) == 0, traps = 0, steered = 0;
	if (ok) {
		steered = (int)plan.entry.nredir;
		for (size_t i = 0; i < plan.nsites; i++)
			steered += (int)plan.sites[i].nredir;
		for (size_t i = 0; i < plan.nsites; i++)
			traps += plan.sites[i].int3;
		if (traps)
			snprintf(why, sizeof(why), "%s: %d return%s through an int3: a signal per call", f->name,
				 traps, traps > 1 ? "s" : "");
		analyze_plan_free(&plan);
	}
	/* The reason starts with the function's name, which the row already shows. */
	const char *r = strncmp(why, f->name, strlen(f->name)) == 0 && why[strlen(f->name)] == ':'
				? why + strlen(f->name) + 2 : why;
	if (!json) {
		bool note = !ok || traps;
		printf("%#10llx %#10llx %6llu  %-3s %s%s%s%s\n", (unsigned long long)f->entry,
		       (unsigned long long)f->end, (unsigned long long)(f->end - f->entry),
		       ok ? "yes" : "no", f->name, note ? "  (" : "", note ? r : "", note ? ")" : "");
		return ok;
	}
	printf("%s\n {\"name\":", first ? "" : ",");
	json_string(stdout, f->name);
	/* golat's additions to SPEC.md's keys: "traps", returns hooked through an int3;
	 * "steered", branches golat rewrites so that a return has a window (analyze.h,
	 * struct analyze_redirect). */
	printf(",\"entry\":\"%#llx\",\"end\":\"%#llx\",\"patchable\":%s,\"traps\":%d,\"steered\":%d,"
	       "\"reason\":", (unsigned long long)f->entry, (unsigned long long)f->end, ok ? "true" : "false", traps,
	       steered);
	if (ok && !traps)
		fputs("null", stdout);
	else
		json_string(stdout, r);
	putchar('}');
	return ok;
}

int cmd_list(int argc, char **argv)
{
	int json, exe = parse_args(argc, argv, &json);
	if (exe < 0) {
		fputs("usage: golat list [--json] EXE [SPEC...]\n", stderr);
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
	if (json)
		putchar('[');
	else
		printf("%10s %10s %6s  %-3s %s\n", "ENTRY", "END", "SIZE", "OK", "NAME");
	size_t n = 0, ok = 0;
	for (size_t i = 0; i < gb.nfuncs; i++)
		if (spec_match(&specs, gb.funcs[i].name))
			ok += print_func(&gb, &gb.funcs[i], json, n++ == 0);
	if (json)
		puts("\n]");
	else
		printf("%zu functions, %zu patchable\n", n, ok);
	int rc = 0;
	for (size_t k = 0; k < specs.n; k++)
		if (specs.v[k].matches == 0)
			rc = cli_fail("%s'%s' matches no function", specs.v[k].negative ? "!" : "",
				      specs.v[k].text);
	spec_free(&specs);
	gobin_close(&gb);
	return rc;
}

static void info_json(const struct gobin *gb, const char *path)
{
	const struct gobin_goff *o = &gb->goff;
	printf("{\"path\":");
	json_string(stdout, path);
	printf(",\"go_version\":");
	json_string(stdout, gb->go_version);
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
	printf("\"goff\":{\"stack_lo\":%u,\"stack_hi\":%u,\"stackguard0\":%u,\"m\":%u,\"goid\":%u,"
	       "\"source\":\"%s\"}}\n",
	       o->stack_lo, o->stack_hi, o->stackguard0, o->m, o->goid, o->source);
}

static void info_text(const struct gobin *gb, const char *path)
{
	printf("%s: %s, %s%s, %s\n", path, gb->go_version[0] ? gb->go_version : "unknown Go version",
	       gb->pie ? "PIE" : "non-PIE", gb->dynamic ? " dynamically linked" : " statically linked",
	       gb->has_symtab ? "with symbols" : "stripped");
	printf("  pclntab   %#llx (magic %#x, found by %s), %zu functions, text %#llx\n",
	       (unsigned long long)gb->pclntab, gb->pcln_magic, gb->pclntab_source, gb->nfuncs,
	       (unsigned long long)gb->text);
	if (gb->has_g_tls)
		printf("  g         fs:%lld (from %s)\n", (long long)gb->g_tls, gb->g_tls_source);
	else
		printf("  g         TLS slot not found\n");
	printf("  g fields  stack.hi +%u, m +%#x, goid +%#x (from %s)\n", gb->goff.stack_hi,
	       gb->goff.m, gb->goff.goid, gb->goff.source);
}

int cmd_info(int argc, char **argv)
{
	int json, exe = parse_args(argc, argv, &json);
	if (exe < 0 || exe + 1 != argc) {
		fputs("usage: golat info [--json] EXE\n", stderr);
		return 2;
	}
	struct gobin gb;
	if (open_exe(&gb, argv[exe]))
		return 1;
	(json ? info_json : info_text)(&gb, argv[exe]);
	gobin_close(&gb);
	return 0;
}
