/* arm64_go: a Go binary's functions planned for hooking on arm64, the one way `golat
 * list` and the arm64 tests (tests/arm64/plans.c, selfpatch.c) plan them: the functions
 * lib/reader finds, lib/engine's name policy, then arm64_plan_func on their bytes. */
#ifndef GOLAT_ARM64_GO_H
#define GOLAT_ARM64_GO_H

#include "arm64.h"
#include "gobin.h"

/* Where the plans put the trampolines: 1 MiB past the end of the last function, on a
 * page boundary (every B of a binary under 127 MiB of text reaches). */
uint64_t arm64_go_tramp(const struct gobin *gb);

/* Why golat leaves f out whatever its code, or NULL: the runtime and what it calls
 * (analyze_name_policy), assembly and stack switching (pclntab's funcFlag), the
 * linker's markers ("go:textfipsstart": zero words, no code). As x86-64's analyzer
 * refuses them. */
const char *arm64_go_policy(const struct gobin_func *f);

/* Plans f for trampolines at tramp (arm64_go_tramp, or the caller's own): 0 with
 * *plan (release it with arm64_plan_free), or -EPERM (arm64_go_policy), -ENOENT (no
 * code in the file) or arm64_plan_func's error, with why ("NAME: reason"). */
int arm64_go_plan(const struct gobin *gb, const struct gobin_func *f, uint64_t tramp, struct arm64_plan *plan,
		  char *why, size_t whylen);

/* Whether golat can hook the whole of a planned function: it returns, its entry moves
 * and each RET takes its B. Else false with why ("NAME: reason"). */
bool arm64_go_hookable(const struct gobin_func *f, const struct arm64_plan *plan, char *why, size_t whylen);

#endif
