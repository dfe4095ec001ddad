/* hook: the engine — turns "hook these functions of this process" into trampolines
 * and patched jumps, and takes them out again.
 *
 * For each function: analyze decides the windows (or why not), reloc moves each
 * window's instructions into a trampoline (tramp) in code memory within rel32 reach
 * (codemem), and patch writes the jumps with the world stopped (stw). Trampolines are
 * built once per function and kept: a detached function re-attaches with the same
 * jumps, and a thread still inside an old trampoline finishes in it. All of one
 * attach or detach is one stop of the world.
 *
 * hook.c hooks and unhooks the user's functions; hookown.c puts in and takes out
 * golat's own patches (the return hook of runtime.asyncPreempt, the process-exit
 * hooks); hook_int.h is what they share.
 *
 * Thread-safe (one lock, never held while calling into the program). */
#ifndef GOLAT_HOOK_H
#define GOLAT_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <capstone/capstone.h>

#include "analyze.h"
#include "gobin.h"
#include "recorder.h"

/* One function golat would not or could not hook, and why. */
struct hook_skip {
	char name[256]; /* the function, or the spec when unmatched (may be cut) */
	char spec[256]; /* the spec that selected it */
	int unmatched;    /* a spec that selects nothing, not a function */
	char reason[200];
};

/* A selected function that is (attach) or was (detach) hooked, and what this call did. */
struct hook_fn {
	uint32_t func;  /* index in hook_binary()->funcs */
	uint32_t id;    /* the recorder's id: the function's record in the stats file */
	bool changed;   /* this call hooked (unhooked) it; false: it already was (was not) */
};

struct hook_result {
	size_t selected; /* functions the specs selected */
	size_t hooked;   /* newly hooked (unhooked) by this call */
	size_t already;  /* already hooked (already unhooked) before it */
	struct hook_fn *fns; /* malloc'd: the hooked ones and the already hooked ones */
	size_t nfns;
	struct hook_skip *skips; /* malloc'd; hook_result_free */
	size_t nskips;     /* functions skipped, plus unmatched specs */
	size_t skips_cap;  /* room in skips */
	size_t nunmatched; /* of which specs that select nothing */
	unsigned stops;      /* stops of the world it made */
	uint64_t stopped_ns; /* how long the world was stopped, all stops together */
	uint64_t elapsed_ns; /* the whole call: planning, building, patching */
	size_t tramp_bytes;  /* code memory the trampolines of this call took */
	size_t threads;      /* threads frozen */
};

/* Decides whether f of gb can be hooked, filling plan (free it with
 * analyze_plan_free) or reason. Pure: used by `golat list` too. */
int hook_plan(const struct gobin *gb, const struct gobin_func *f, struct analyze_plan *plan,
	      char *reason, size_t n);

struct hook_config {
	const char *stats_path; /* GOLAT_STATS, or NULL for the default */
	uint32_t sample;        /* GOLAT_SAMPLE */
	uint32_t slowest;       /* GOLAT_SLOWEST: slowest calls kept per function */
	int monotonic;          /* time with CLOCK_MONOTONIC rather than the TSC */
	void (*on_process_exit)(int code, int signaled); /* see struct rec_config */
};

/* Reads this process's binary, creates the stats file and prepares the engine.
 * Idempotent (later calls return 0 and ignore cfg). 0, -ENOEXEC when the program is
 * not Go, or another negative errno, with a reason. A stats file that could not be
 * created is not an error: the stats live in memory and *warn says why. */
int hook_init(const struct hook_config *cfg, char *reason, size_t n, char *warn, size_t wn);
const struct gobin *hook_binary(void);
struct statsfile *hook_stats(void);

/* Hooks the entry of runtime.exit, which every exit path of Go reaches (return from
 * main.main, os.Exit, log.Fatal, a fatal panic: runtime/proc.go main, os/proc.go Exit),
 * and of runtime.dieFromSignal (a signal the program does not handle, such as SIGTERM
 * or SIGINT: runtime/signal_unix.go sighandler, _SigKill), so that
 * cfg->on_process_exit runs first. Built once; a no-op while they are in.
 * *stopped_ns (when not NULL): how long the world was stopped for it (0: no stop). */
int hook_exit_path(uint64_t *stopped_ns, char *reason, size_t n);

/* When no function is hooked, takes golat's own patches out of the text too (the
 * return hook of runtime.asyncPreempt and the exit-path hooks), so that the program's
 * code is byte for byte what it was before golat wrote anything: what `golat detach`
 * promises. The next hook_attach puts the return hook back before anything else, and
 * hook_exit_path the exit hooks (their trampolines are kept: the same bytes again).
 * 0 (done, or nothing to take out), -EBUSY when functions are still hooked, or an
 * error of patch_revert with a reason; *stopped_ns as for hook_exit_path. */
int hook_idle(uint64_t *stopped_ns, char *reason, size_t n);
/* Patches of golat's own in the text now (0 to 3): see hook_idle. */
int hook_own_patches(void);

/* Hooks every function the specs select (GOLAT_FUNCS syntax). Returns 0 when the
 * patching succeeded (skipped functions are listed in res, not errors), else a
 * negative errno with a reason and nothing patched. */
int hook_attach(const char *specs, struct hook_result *res, char *reason, size_t n);
/* Unhooks the hooked functions the specs select; res->hooked counts them. */
int hook_detach(const char *specs, struct hook_result *res, char *reason, size_t n);
/* Unhooks exactly these functions (indices in hook_binary()->funcs) where they are
 * hooked: what a window of `golat attach -d` hooked, whatever specs others used. */
int hook_detach_funcs(const uint32_t *funcs, size_t nfuncs, struct hook_result *res, char *reason,
		      size_t n);
/* How many functions are hooked now. */
size_t hook_active(void);
void hook_result_free(struct hook_result *res);

/* Says that the Go runtime may be running (anything after the constructor): from then
 * on a change is made only if a goroutine that async preemption stopped inside a
 * window can be redirected (runtime.asyncPreempt's end is hooked). */
void hook_runtime_started(void);

/* Sets the sampling rate (GOLAT_SAMPLE) of a started engine: 0 when it is sample now,
 * -EBUSY when functions were hooked already at another rate (one rate per process:
 * the stats file has one), with the reason. */
int hook_set_sample(uint32_t sample, char *reason, size_t n);

/* Gives back the memory of what the engine only needs again for a later attach. */
void hook_trim(void);

/* Sums the counts of every hooked function named name (ABI wrappers share names).
 * -ENOENT when none was ever hooked. */
int hook_counts(const char *name, struct rec_counts *out);

#endif
