/* sigown: golat's signal handler in front of the program's, for the signals whose
 * meaning depends on the interrupted PC (DESIGN.md, "Owning the signals").
 *
 * Go decides what a signal means from the PC in its context: SIGPROF walks the stack
 * from it (a PC with no pcsp entry throws "invalid pc-encoded table"), SIGURG asks
 * whether it is an async safe point and may push it as asyncPreempt's return address,
 * SIGSEGV/SIGBUS/SIGFPE push it as sigpanic's caller. A PC inside a trampoline, or on
 * a jump golat wrote into a function's padding, means nothing to Go. So golat's
 * handler runs first and hands the program's handler a context in which such a PC
 * names the original instruction (with the same RSP: a relocated instruction runs
 * with the RSP the original would have), then puts the PC back if the program's
 * handler left it alone. A fault in a relocated load then panics and recovers exactly
 * as unhooked, and a goroutine that Go preempts there resumes in the original code,
 * which golat_tramp_resume leads back into the trampoline where it must.
 *
 * In cgo programs Go installs its handlers through libc's sigaction
 * (runtime/cgo/gcc_sigaction.c, x_cgo_sigaction), and so does C code: golat's
 * sigaction, first in the symbol search order with LD_PRELOAD, records what the
 * program asks for, installs golat's handler with the same mask and flags in its
 * place, and answers a read-back with what the program installed. Signals whose
 * handler is SIG_DFL or SIG_IGN are the program's, untouched.
 *
 * Translation points come from the engine (hook.c) as trampolines are built: for
 * each, where its instructions start and which original instruction each stands for.
 * They are published before the jumps into them are written, as sorted arrays that
 * the handler reads without a lock and that are never freed (a handler may still be
 * reading an old one). */
#ifndef GOLAT_SIGOWN_H
#define GOLAT_SIGOWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sigtab.h" /* SIGOWN_POINTS, the tables */

/* One instruction of a trampoline and the original one it stands for. `any`: a
 * relocated instruction, translated for every signal; else a stub instruction of
 * golat's, translated for SIGPROF only (a profile sample is attributed to the hooked
 * function, but no other handler may act on a PC where golat's bookkeeping is half
 * done). */
struct sigown_point {
	uint64_t pc, orig;
	bool any;
};

/* Finds libc's sigaction and puts golat's handler in front of every handler already
 * installed for the signals it translates (for a library loaded into a running
 * program). 0 or -ENOSYS with a reason. Idempotent. */
int sigown_init(char *reason, size_t n);
/* True once sigown_init succeeded: hops and relocated faulting instructions are safe. */
bool sigown_active(void);

/* Adds the points of the trampoline [lo, hi) (in any order), and a jump golat
 * writes at pc (a hop in a function's padding) that stands for orig. entry and exit:
 * what a profiling signal stands for while golat records the entry or the exit of
 * this trampoline's function (0: it records none). They take effect at
 * sigown_publish. -ENOMEM, -E2BIG. */
int sigown_add_tramp(uint64_t lo, uint64_t hi, const struct sigown_point *p, size_t n, uint64_t entry,
		     uint64_t exit);
int sigown_add_jump(uint64_t pc, uint64_t orig);
/* An int3 golat writes at pc: a SIGTRAP from it sends the thread to `to` (the
 * trampoline), and the program's handler never sees it. */
int sigown_add_trap(uint64_t pc, uint64_t to);
/* Counts each int3 taken at *where (atomically; NULL: not counted). */
void sigown_count_traps(uint64_t *where);
/* Makes everything added so far visible to the handler; call it before writing the
 * jumps that lead into the new trampolines. -ENOMEM (the old tables stay). */
int sigown_publish(void);

/* Everything added so far, and old's records (a table read back from a program, or
 * NULL), merged and sorted into *out (malloc'd arrays: sigown_table_free); what was
 * added is cleared. For the golat command, which builds a static program's tables
 * and writes them into its agent (lib/attach/static_sig.c). 0 or -ENOMEM. */
int sigown_table(const struct sigtab *old, struct sigtab *out);
void sigown_table_free(struct sigtab *t);

/* libc's sigaction as the program sees it (golat.c's sigaction, which LD_PRELOAD puts
 * first, calls it): records and answers with the program's handler, installs golat's. */
struct sigaction;
int sigown_sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* The original PC that pc stands for, for signal sig; false when none. */
bool sigown_translate(uint64_t pc, int sig, uint64_t *orig);

#endif
