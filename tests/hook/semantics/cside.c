/* The C side of the semantics program: a plain C function, C calling back into Go
 * (from the calling thread and from a thread C creates), and golat_counts looked up at
 * run time (the program is not linked against golat: the library is LD_PRELOADed, or
 * absent). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>

#include "_cgo_export.h"

int sem_counts(const char *name, struct sem_gcounts *out)
{
	int (*f)(const char *, struct sem_gcounts *) =
		(int (*)(const char *, struct sem_gcounts *))dlsym(RTLD_DEFAULT, "golat_counts");
	if (!f)
		return -ENOSYS;
	return f(name, out);
}

int c_add(int a, int b)
{
	return a + b;
}

/* Calls the Go function goSquare n times: hooked Go code under a C frame. */
int c_callback(int n)
{
	int s = 0;
	for (int i = 0; i < n; i++)
		s += goSquare(i);
	return s;
}

static void *callback_thread(void *arg)
{
	int n = *(int *)arg;
	*(int *)arg = c_callback(n);
	return NULL;
}

/* Calls goSquare n times from a thread C created: Go runs it on an extra M. */
int c_thread_callback(int n)
{
	pthread_t t;
	int v = n;
	if (pthread_create(&t, NULL, callback_thread, &v) != 0)
		return -1;
	pthread_join(t, NULL);
	return v;
}
