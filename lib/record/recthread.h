/* recthread: seeing a recording thread exit, so that what it holds goes back (its idle
 * goroutine slot, its cell pages and caller table to the next thread, its directory,
 * its spare extension block, its recorder stack). libgolat.so only: it takes a
 * pthread key, whose destructor runs after the last Go code on the thread.
 *
 * golat-agent.so (GOLAT_AGENT) has no libc and so no thread-exit hook: there a
 * thread's exit is simply not observed. Its block, stack and cells stay where they
 * are (the counts stay readable in the stats file, which is all that matters), and a
 * static Go program's threads are few and long-lived: Go exits an M only for a
 * goroutine that ends locked to its thread (runtime/proc.go, goexit0 -> mexit). */
#ifndef GOLAT_RECTHREAD_H
#define GOLAT_RECTHREAD_H

#include "tramp.h"

#ifdef GOLAT_AGENT
static inline void rec_thread_watch(struct tramp_thread *m)
{
	(void)m;
}
#else
/* Makes the thread key (once). 0, or -EAGAIN when the process has no key left. */
int rec_thread_init(void);
/* This thread records from now on (m is its block): rec_thread_gone(m), then its
 * stack unmapped, when it exits. pthread_setspecific only stores a pointer in the
 * thread's own block: safe on the recorder's path (no vector register, no lock). */
void rec_thread_watch(struct tramp_thread *m);
/* recorder.c: gives back what m's thread holds, but its stack. */
void rec_thread_gone(struct tramp_thread *m);
#endif

#endif
