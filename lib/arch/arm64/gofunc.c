/* gofunc: a Go function's arm64 plan with golat's policy (arm64_go.h). */
#include "arm64_go.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "analyze.h"

uint64_t arm64_go_tramp(const struct gobin *gb)
{
	uint64_t end = 0;
	for (size_t i = 0; i < gb->nfuncs; i++)
		if (gb->funcs[i].end > end)
			end = gb->funcs[i].end;
	return (end + (1u << 20)) & ~0xfffull;
}

const char *arm64_go_policy(const struct gobin_func *f)
{
	const char *why = analyze_name_policy(f->name);
	/* funcFlag: internal/abi/symtab.go (runtime/symtab.go before 1.21). */
	if (!why && (f->flag & GOBIN_FLAG_ASM))
		why = "assembly function: it need not follow the Go ABI (R16/R17 free, g in R28, a frame the "
		      "unwinder knows)";
	if (!why && (f->flag & GOBIN_FLAG_SPWRITE))
		why = "writes SP beyond its frame (funcFlag_SPWRITE): it switches stacks";
	/* go:textfipsstart and go:textfipsend (go1.24+) mark the FIPS module's text. */
	if (!why && strncmp(f->name, "go:", 3) == 0)
		why = "a linker marker, not a function";
	return why;
}

int arm64_go_plan(const struct gobin *gb, const struct gobin_func *f, uint64_t tramp, struct arm64_plan *plan,
		  char *why, size_t whylen)
{
	const char *policy = arm64_go_policy(f);
	const uint8_t *code = gobin_code(gb, f);
	char r[192];
	memset(plan, 0, sizeof *plan);
	if (policy) {
		snprintf(why, whylen, "%s: %s", f->name, policy);
		return -EPERM;
	}
	if (!code) {
		snprintf(why, whylen, "%s: no code in the file", f->name);
		return -ENOENT;
	}
	int rc = arm64_plan_func(code, f->end - f->entry, f->entry, tramp, ARM64_SCRATCH_GO, plan, r, sizeof r);
	if (rc)
		snprintf(why, whylen, "%s: %s", f->name, r);
	return rc;
}

bool arm64_go_hookable(const struct gobin_func *f, const struct arm64_plan *plan, char *why, size_t whylen)
{
	if (plan->nsites == 0) {
		snprintf(why, whylen, "%s: no return: no RET (it panics, exits, loops or ends in a tail call)", f->name);
		return false;
	}
	if (!plan->entry_ok) {
		snprintf(why, whylen, "%s: %s", f->name, plan->entry_why);
		return false;
	}
	for (size_t i = 0; i < plan->nsites; i++)
		if (!plan->sites[i].patchable) {
			snprintf(why, whylen, "%s: the RET at +0x%" PRIx64 ": %s", f->name,
				 plan->sites[i].addr - f->entry, plan->sites[i].why);
			return false;
		}
	return true;
}
