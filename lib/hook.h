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
 * Thread-safe (one lock, never held while calling into the program). */
#ifndef GOLAT_HOOK_H
#define GOLAT_HOOK_H

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

struct hook_result {
	size_t selected; /* functions the specs selected */
	size_t hooked;   /* newly hooked by this call */
	size_t already;  /* already hooked before it */
	struct hook_skip *skips; /* malloc'd; hook_result_free */
	size_t nskips;     /* functions skipped, plus unmatched specs */
	size_t skips_cap;  /* room in skips */
	size_t nunmatched; /* of which specs that select nothing */
	uint64_t stopped_ns; /* how long the world was stopped */
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
 * cfg->on_process_exit runs first. */
int hook_exit_path(char *reason, size_t n);

/* Hooks every function the specs select (GOLAT_FUNCS syntax). Returns 0 when the
 * patching succeeded (skipped functions are listed in res, not errors), else a
 * negative errno with a reason and nothing patched. */
int hook_attach(const char *specs, struct hook_result *res, char *reason, size_t n);
/* Unhooks the hooked functions the specs select; res->hooked counts them. */
int hook_detach(const char *specs, struct hook_result *res, char *reason, size_t n);
void hook_result_free(struct hook_result *res);

/* Says that the Go runtime may be running (anything after the constructor): from then
 * on a change is made only if a goroutine that async preemption stopped inside a
 * window can be redirected (runtime.asyncPreempt's end is hooked). */
void hook_runtime_started(void);

/* Gives back the memory of what the engine only needs again for a later attach. */
void hook_trim(void);

/* Sums the counts of every hooked function named name (ABI wrappers share names).
 * -ENOENT when none was ever hooked. */
int hook_counts(const char *name, struct rec_counts *out);

#endif
