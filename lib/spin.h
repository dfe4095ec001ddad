/* spin: the one lock golat's code takes where a mutex cannot go — on the recorder's
 * path (inside the program's calls, maybe inside a signal handler's thread) and in
 * sigaction with signals blocked. A holder is never interrupted by the same lock's
 * taker on its own thread (the recorder is never nested; sigaction blocks signals),
 * so spinning cannot deadlock; after 100 rounds it yields, for a holder that sits in
 * a system call (fallocate, mmap) or was descheduled. No libc call (sched_yield is
 * the system call itself: the recorder runs where there is no libc, sys.h), no vector
 * register. */
#ifndef GOLAT_SPIN_H
#define GOLAT_SPIN_H

#include "sys.h"

static inline void spin_lock(int *l)
{
	for (unsigned spins = 0; __atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE); spins++) {
		if (spins > 100)
			sys_sched_yield();
		else
			__builtin_ia32_pause();
	}
}

static inline void spin_unlock(int *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

#endif
