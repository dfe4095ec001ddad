/* patch: write bytes into live code, safely, and take them back out.
 *
 * One call writes a batch of small windows (each at most 16 bytes: a `jmp rel32` over
 * an entry or a return, a `jmp rel8` hop, a trampoline's jump target), runtime
 * addresses. The protocol, per attempt:
 *   1. before anything stops: read /proc/self/maps for the exact protection of every
 *      page touched (proc_maps), and allocate what the batch needs;
 *   2. stop the world (stw);
 *   3. if a frozen thread's pc lies inside a window, or inside one of the extra
 *      ranges the caller names (trampolines being rewritten), resume, sleep, retry —
 *      never write under a thread; after the last attempt fail with the reason;
 *   4. make each touched page that is not writable read-write-execute (execute kept:
 *      the page may hold code this very thread is running); pages of one mapping
 *      are changed together, in one span, to keep the number of mappings flat;
 *   5. save the bytes there, write the new ones;
 *   6. give every page back its exact original protection;
 *   7. resume: stw_resume serializes this core, membarrier SYNC_CORE, and each frozen
 *      thread runs cpuid before it returns to the code (Intel SDM vol. 3, 8.1.3).
 * With no other thread (an LD_PRELOAD constructor) step 2 stops nothing.
 *
 * Because nothing runs while the bytes change, a write need not be atomic, and a
 * window may be any length up to 16. What the stop cannot see: a goroutine that is
 * not on a thread (parked, or preempted asynchronously) and will resume at a pc
 * inside a window. The caller must choose windows whose instruction boundaries make
 * that harmless (a window that replaces whole instructions and is only entered at its
 * first byte), as the analyzer does.
 *
 * Never aborts, never prints: errors are a negative errno and a reason. Not to be
 * called while the world is stopped (it stops it itself). */
#ifndef GOLAT_PATCH_H
#define GOLAT_PATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PATCH_MAX_LEN 16
#define PATCH_ATTEMPTS_DEFAULT 50
#define PATCH_BACKOFF_US_DEFAULT 100 /* doubled after each attempt, up to 10 ms */

struct patch_write {
	uint64_t addr;                 /* runtime address of the first byte */
	uint8_t len;                   /* 1..PATCH_MAX_LEN */
	uint8_t bytes[PATCH_MAX_LEN];  /* what patch_apply writes */
	uint8_t saved[PATCH_MAX_LEN];  /* what it replaced (filled by patch_apply) */
};

struct patch_range {
	uint64_t lo, hi; /* [lo, hi) */
};

/* What one call did, for logs and tests. */
struct patch_stats {
	unsigned attempts;   /* stops made (1 when no thread was in the way) */
	size_t threads;      /* threads frozen by the successful stop */
	size_t pages;        /* pages made writable and restored (the windows' pages and
			      * those between them in the same mapping: see patch.c) */
	uint64_t stopped_ns; /* time the world stayed stopped in the successful stop */
};

struct patch_opts {
	const struct patch_range *avoid; /* no frozen pc may lie in these either */
	size_t navoid;
	unsigned attempts;   /* 0: PATCH_ATTEMPTS_DEFAULT */
	unsigned backoff_us; /* 0: PATCH_BACKOFF_US_DEFAULT */
	unsigned timeout_ms; /* per stop, see struct stw; 0: its default */
	/* A frozen pc at a window's first byte is not in the way: that thread will run
	 * the new bytes from their start. Set it only when every window begins on an
	 * instruction boundary of both the old and the new code (analyzer windows do);
	 * it halves the retries on hot entries. */
	bool start_ok;
	struct patch_stats *stats; /* filled when not NULL */
};

/* Writes every w[i].bytes at w[i].addr, saving what was there in w[i].saved, all in
 * one stop. opts may be NULL. Windows may not overlap. Returns 0 with every write
 * done, or a negative errno with none done and a reason:
 *   -EINVAL   a window is empty, longer than 16 bytes or overlaps another
 *   -EFAULT   "0x4a1f20 is not mapped"
 *   -EBUSY    "thread 1234 stays at 0x4a1f22, inside the window at 0x4a1f20, after
 *              50 attempts" (or inside an avoided range)
 *   -ETIMEDOUT, -EDEADLK, …  from stw_stop, with its reason
 *   -EACCES   mprotect refused to make a page writable
 * and one case where the writes did happen:
 *   -ENOTRECOVERABLE  the bytes are written but a page's protection could not be
 *              restored (it stays writable); treat the patch as applied. */
int patch_apply(struct patch_write *w, size_t n, const struct patch_opts *opts, char *reason,
		size_t rn);

/* The inverse, under the same protocol: checks that every window still holds
 * w[i].bytes (else -ESTALE, "0x4a1f20 changed since it was patched", and nothing is
 * written), then writes w[i].saved back. */
int patch_revert(struct patch_write *w, size_t n, const struct patch_opts *opts, char *reason,
		 size_t rn);

#endif
