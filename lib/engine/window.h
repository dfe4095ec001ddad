/* window: what golat makes of one function of a Go binary: its patch plan (analyze,
 * with what this binary tells about it) and, for each window of the plan, the
 * trampoline in code memory and the jumps the patcher writes (tramp, reloc, xlate,
 * sigown). Used by the engine (hook.c) and, for plans, by `golat list`. */
#ifndef GOLAT_WINDOW_H
#define GOLAT_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze.h"
#include "codemem.h"
#include "gobin.h"
#include "patch.h"

/* Trampoline ids that are not functions of the recorder. */
#define PROCEXIT_ID (UINT32_MAX - 2) /* + TRAMP_PROCEXIT_EXIT or _SIGNAL */
#define RESUME_ID (UINT32_MAX - 3)

/* The analyzer's input for f of gb (code: its bytes), with opts (ANALYZE_*). */
void window_input(const struct gobin *gb, const struct gobin_func *f, const uint8_t *code, unsigned opts,
		  struct analyze_input *in);

/* hook_plan for a process whose signals golat owns (owned) or not. */
int window_plan(const struct gobin *gb, const struct gobin_func *f, bool owned, struct analyze_plan *plan,
		char *reason, size_t n);

/* Builds the trampoline for window w of function f (recorder id id, or PROCEXIT_ID +
 * TRAMP_PROCEXIT_*, or RESUME_ID) in cm, registers its resume and signal translation
 * points, and fills out[*nout] with what to write: the jump (none for a window of
 * length 0; two writes for a hop), then for each branch steered into it (redirs, the
 * plan's, indexed by w->redir) the rewritten branch and, once per hop, the hop: at
 * most 2 + 2 * w->nredir writes. 0 or -errno with a reason. */
int window_build(const struct gobin *gb, struct codemem *cm, const struct analyze_window *w,
		 const struct analyze_redirect *redirs, bool entry, uint32_t id, const struct gobin_func *f,
		 struct patch_write *out, size_t *nout, char *reason, size_t n);

/* runtime.asyncPreempt's epilogue as a return window of its own (its ret hooked
 * with golat_tramp_resume), or false when it does not end as expected. */
bool window_async_preempt(const struct gobin *gb, const struct gobin_func *f, struct analyze_window *w);

/* runtime.rt_sigaction of a program without libc, where Go installs its signal
 * handlers, when its body is the one golat knows (so that golat can redirect it to its
 * agent and own the signals there: lib/attach/static_sig.c), or NULL. */
const struct gobin_func *window_rt_sigaction(const struct gobin *gb);

#endif
