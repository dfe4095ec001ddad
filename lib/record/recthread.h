/* recthread: seeing a recording thread exit, so that what it holds goes back (its idle
 * goroutine slot, its cell pages and caller table to the next thread, its directory,
 * its spare extension block, its recorder stack).
 *
 * libgolat.so takes a pthread key, whose destructor runs on the exiting thread after
 * the last Go code on it (recthread.c). golat-agent.so (GOLAT_AGENT) has no libc: there
 * the kernel clears a word of the block when the thread exits, and the next thread
 * that needs a block gives back what the ended one held and takes its block and stack
 * over (recstack.c). */
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
#endif
/* recorder.c: gives back what m's thread held, but its stack and block: on the thread
 * as it exits (libgolat), or on the next thread to need a block once it has (agent). */
void rec_thread_gone(struct tramp_thread *m);

#endif
