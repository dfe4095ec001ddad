/* recorder: what runs on every hooked entry and exit — the hot path behind
 * golat_tramp_common (tramp.S), on the thread's own stack, with no lock in the common
 * case, no libc call but system calls, and no vector register (compiled with
 * -mgeneral-regs-only).
 *
 * Calls are keyed by goroutine and stack depth, never by thread (goroutines move
 * between threads): g comes from its TLS slot, depth = g.stack.hi - SP, which stays
 * the same when Go copies a stack. Each goroutine with hooked calls in flight has a
 * slot (gslot.h) holding a shadow stack of them:
 *  - an entry at the depth and function on top of it is the same call coming back
 *    (morestack and synchronous preemption jump back to the entry:
 *    cmd/internal/obj/x86/obj6.go, stacksplit), not a new call;
 *  - an entry or exit finds the frames deeper than itself abandoned (a panic or
 *    runtime.Goexit unwound them) and drops them, counted as panicked;
 *  - an exit whose frame is not on top was entered before the hook existed: ignored.
 * So a call is counted whole — its entry and its return both seen through hooks — or
 * not at all; entries - calls - panicked is what is in flight.
 *
 * Counters live in the calling thread's cells in the stats file (stats.h): a thread is
 * its cells' only writer, so the hot path has no atomic read-modify-write and shares
 * no cache line with another thread. A thread finds its cell for function fn through
 * a directory of its own (fn / 16 -> page), filled the first time it records one of
 * those functions. A timed call costs two rdtsc: one at its entry, one at its return.
 *
 * Beyond its function's counters, a call leaves (SPEC.md, "Each function also
 * carries"): its call site (the return address its entry finds at [SP]) with its
 * calls, time and self time in the thread's caller table (callers.h); its time in its
 * parent frame's child time, so that the parent's self time leaves it out; and, when
 * it is one of its function's slowest so far, a record with its goroutine, site and
 * argument and result registers (slowest.h). The entry keeps the argument registers
 * in the frame for that (with GOLAT_SLOWEST above 0).
 * Whatever cannot be recorded (no g, no slot, no space for a cell) is counted in the
 * header's `lost`, and the program runs on. */
#ifndef GOLAT_RECORDER_H
#define GOLAT_RECORDER_H

#include <stdint.h>

#include "statsfile.h"
#include "tramp.h"

#define REC_GEN_SHIFT 20
#define REC_MAX_FNS (1u << REC_GEN_SHIFT) /* function ids are 0..REC_MAX_FNS-1 */

struct rec_config {
	int64_t g_tls;     /* g is at fs:[g_tls] */
	uint32_t stack_hi; /* offsets in runtime.g */
	uint32_t goid;
	uint32_t sample;   /* time 1 call in sample, per function and thread */
	int monotonic;     /* time with CLOCK_MONOTONIC: the TSC is not invariant */
	struct statsfile *sf; /* where the counters live (its header's slowest: GOLAT_SLOWEST) */
	uint64_t pcbase;      /* runtime.text in this process: caller sites are offsets from it */
	/* TRAMP_PROCEXIT: Go is about to exit_group (signaled 0), or to die of a signal
	 * it does not handle (signaled 1, code 128 + the signal). */
	void (*on_process_exit)(int code, int signaled);
};

struct rec_counts {
	uint64_t entries;   /* calls entered */
	uint64_t calls;     /* calls completed */
	uint64_t abandoned; /* entered, then unwound by a panic (or the goroutine ended) */
};

/* Maps the recorder's tables. Returns 0, or a negative errno with *why naming what
 * failed (a constant string: the caller adds the errno's text, as the recorder has no
 * libc to format with). */
int rec_init(const struct rec_config *cfg, const char **why);
/* Sums the cells of every thread for function id fn (racy but never torn). */
void rec_counts(uint32_t fn, struct rec_counts *out);
/* Changes the sampling rate: only while no function was ever hooked, so that no
 * call is inside the recorder and every count in the stats file was made at it. */
void rec_set_sample(uint32_t sample);
/* Starts a new attach generation for function id fn (before it is attached again):
 * frames of its calls still in flight from the last attach no longer match. */
void rec_new_generation(uint32_t fn);
/* Adds the calls let through unrecorded to the stats header. */
void rec_flush_lost(void);

/* Called by golat_tramp_common only: regs points at the saved registers. */
void tramp_record(const struct tramp_desc *d, uint64_t sp, const uint64_t *regs);

#endif
