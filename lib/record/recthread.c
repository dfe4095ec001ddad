/* recthread: the exit of a thread that recorded, in libgolat.so (recthread.h). Not
 * part of golat-agent.so. */
#include "recthread.h"

#include <errno.h>
#include <pthread.h>

#include "sys.h"

static pthread_key_t exit_key; /* its destructor runs when a recording thread exits */
static int key_made;

/* A thread that recorded ends (its TLS destructors run after the last Go code on it):
 * its idle goroutine slot, its cell pages, its directory and its stack go back, and
 * the next threads go on counting in those pages. */
static void thread_exit(void *arg)
{
	struct tramp_thread *m = arg;
	if (m != tramp_self()) /* not this thread's: nothing to give back */
		return;
	rec_thread_gone(m);
	/* Destructors run on the thread's own stack, never on this one. */
	if (m->stack_top)
		sys_munmap((void *)(uintptr_t)(m->stack_top - TRAMP_STACK - TRAMP_GUARD), TRAMP_STACK + TRAMP_GUARD);
	m->stack_top = 0;
}

int rec_thread_init(void)
{
	if (key_made)
		return 0;
	if (pthread_key_create(&exit_key, thread_exit) != 0)
		return -EAGAIN;
	key_made = 1;
	return 0;
}

void rec_thread_watch(struct tramp_thread *m)
{
	pthread_setspecific(exit_key, m);
}
