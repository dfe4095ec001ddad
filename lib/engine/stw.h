/* stw: stop the world — freeze every other thread of this process, so that patch can
 * write into live text with nothing executing, then thaw them.
 *
 * How: each thread listed in /proc/self/task gets a real-time signal (STW_SIGNAL, 34)
 * sent with rt_tgsigqueueinfo and a cookie in si_value; the handler records the
 * interrupted pc and sp, announces its arrival and waits on a futex until
 * stw_resume; then it executes cpuid, a serializing instruction, so that it sees the
 * bytes written while it was frozen (Intel SDM vol. 3, 8.1.3 "Handling Self- and
 * Cross-Modifying Code"). The listing is repeated until it finds no new thread:
 * frozen threads cannot create more.
 *
 * Why signal 34: the Go runtime takes over signals 35–64 on its threads and drops the
 * ones it does not want, but leaves 32–34 to libc/C code (runtime/sigtab_linux_generic.go,
 * flags _SigSetStack+_SigUnblock: initsig installs no handler for them, only adds
 * SA_ONSTACK to one it finds, and every M unblocks them). glibc reserves 32 and 33
 * for itself; 34 is the SIGRTMIN that glibc gives applications. A handler of ours
 * installed by an LD_PRELOAD constructor stays ours after the Go runtime starts.
 * If someone else owns signal 34, their handler is chained for every signal that is
 * not a stop request of ours.
 *
 * Rules for callers:
 *  - While the world is stopped, call nothing that takes a user-space lock (malloc,
 *    stdio, dlopen, pthread_mutex of code the frozen threads share): a frozen thread
 *    may hold it. System calls (mprotect, read, write) are fine. Nor a libc function
 *    called for the first time through a lazily bound PLT slot (the resolver runs):
 *    stw_init calls clock_gettime, syscall and errno once for this; anything else
 *    must have been called before the stop (or link with -z now).
 *  - Stops are serialized by a lock of this module. A thread that asks for a stop
 *    while another stop is under way waits for it, and is frozen by it meanwhile
 *    (the wait is interruptible by STW_SIGNAL). Asking for a stop from a signal
 *    handler that interrupted this thread's own stop fails with -EDEADLK instead of
 *    deadlocking; a handler that blocks STW_SIGNAL on another thread makes that
 *    stop time out (-ETIMEDOUT), never hang. Frozen threads run only this module's
 *    handler, so they cannot ask for a stop.
 *  - A thread that does not arrive within the timeout (it blocks the signal, as Go
 *    does around fork, or it sits in an uninterruptible wait) makes the stop fail
 *    cleanly: every thread that did arrive is released and the reason names the
 *    thread. Threads that exit during the stop are simply left out.
 *  - The signal interrupts system calls of every thread. The handler has SA_RESTART,
 *    so read, write, wait and the like resume; calls that signal(7) lists as never
 *    restarted (nanosleep, epoll_wait, poll, select, futex waits with a timeout…)
 *    return EINTR as they do for any signal (Go retries them all: it sends SIGURG
 *    and SIGPROF itself).
 *
 * Not async-signal-safe except where stated; not usable in a child after fork while
 * a stop was under way in the parent. */
#ifndef GOLAT_STW_H
#define GOLAT_STW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STW_SIGNAL 34 /* SIGRTMIN as the kernel numbers it; see above */
#define STW_MAX_THREADS 8192
#define STW_TIMEOUT_MS_DEFAULT 200

/* One stop. Fill timeout_ms (0 = STW_TIMEOUT_MS_DEFAULT) and leave the rest zero. */
struct stw {
	unsigned timeout_ms; /* how long a thread may take to arrive, per listing round */

	/* private */
	size_t n;        /* threads frozen (not counting the caller) */
	uint32_t epoch;  /* of the stop in force, 0 when none */
	bool stopped;
};

/* Installs the handler of STW_SIGNAL (the handler found there is kept and chained;
 * a no-op when ours is in place, a reinstall when someone replaced it) and registers
 * for membarrier SYNC_CORE when the kernel has it. Safe in an LD_PRELOAD constructor
 * before the Go runtime starts, and later from any thread while it runs. Returns 0, or
 * a negative errno with a reason. stw_stop installs it on first use, but refuses
 * (-EBUSY) to reinstall it behind the back of whoever replaced it. */
int stw_init(char *reason, size_t n);

/* True when STW_SIGNAL's current handler is this module's (Go did not take it). */
bool stw_installed(void);

/* Freezes every other thread. Returns 0 with the world stopped (call stw_resume
 * exactly once), or a negative errno with the world running and a reason:
 *   -ETIMEDOUT  "thread 1234 (name) did not stop within 200 ms (it blocks signal 34)"
 *   -EDEADLK    called from a signal handler that interrupted this thread's stop
 *   -E2BIG      more than STW_MAX_THREADS threads
 *   -EBUSY      STW_SIGNAL's handler was replaced by someone else
 *   -EAGAIN     the kernel refused to queue the signal (RLIMIT_SIGPENDING)
 * With no other thread (an LD_PRELOAD constructor) it stops nothing and succeeds. */
int stw_stop(struct stw *s, char *reason, size_t n);

/* Thaws the threads frozen by stw_stop. Before releasing them it makes the writes of
 * this thread visible as code everywhere: cpuid here, membarrier SYNC_CORE when
 * registered, and each released thread executes cpuid before it returns. */
void stw_resume(struct stw *s);

/* Number of frozen threads (the caller excluded). Valid between stop and resume. */
size_t stw_count(const struct stw *s);

/* The i-th frozen thread: tid, and the pc and sp it was interrupted at (where it
 * will continue). False when i >= stw_count. */
bool stw_thread(const struct stw *s, size_t i, int *tid, uint64_t *pc, uint64_t *sp);
bool stw_pc(const struct stw *s, size_t i, uint64_t *pc, uint64_t *sp);

/* True when some frozen thread's pc lies in [lo, hi); *i (if not NULL) is its index.
 * The patcher's rule: never write under a thread. */
bool stw_pc_in(const struct stw *s, uint64_t lo, uint64_t hi, size_t *i);

#endif
