/* static_world: every thread of a static Go program held at once, for static_attach
 * and static_detach (static.h): they write jumps over code any thread may be running,
 * so no thread may run until the last write is done. inject_world.c holds each thread
 * only while it looks at it (the cgo route writes no code through ptrace); this holds
 * them all, and counts how long, for the user.
 *
 * PTRACE_SEIZE and PTRACE_INTERRUPT, not PTRACE_ATTACH: no SIGSTOP the program would
 * see, and a thread blocked in a system call stops too. PTRACE_O_TRACECLONE: a thread
 * made meanwhile is seized by the kernel and reports a first stop, which holds it; the
 * task list is read again until a pass finds no thread golat does not have. A signal
 * that reaches a thread before its interrupt stop is delivered at once (the interrupt
 * stays pending and stops the thread right after, inside Go's handler): never
 * swallowed. One that arrives while the thread is held stays pending in the kernel and
 * is delivered when PTRACE_DETACH lets the thread go. */
#define _GNU_SOURCE
#include "inject_int.h"
#include "inject.h"
#include "static.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "grow.h"

#define HOLD_MS 2000 /* every thread stopped within this, or golat gives up */

static bool in(const pid_t *v, size_t n, pid_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == tid)
			return true;
	return false;
}

static bool held(const struct static_hold *h, pid_t tid)
{
	for (size_t i = 0; i < h->w.n; i++)
		if (h->w.t[i].tid == tid)
			return true;
	return false;
}

static int push_pending(struct static_hold *h, pid_t tid)
{
	if (in(h->pending, h->npending, tid) || held(h, tid))
		return 0;
	if (array_grow(&h->pending, h->npending, &h->pcap, sizeof(*h->pending), 32))
		return -ENOMEM;
	h->pending[h->npending++] = tid;
	return 0;
}

static void drop_pending(struct static_hold *h, pid_t tid)
{
	for (size_t i = 0; i < h->npending; i++)
		if (h->pending[i] == tid)
			h->pending[i--] = h->pending[--h->npending];
}

int static_hold_add(struct static_hold *h, pid_t tid)
{
	if (held(h, tid))
		return 0;
	if (array_grow(&h->w.t, h->w.n, &h->cap, sizeof(*h->w.t), 32))
		return -ENOMEM;
	struct static_thread *th = &h->w.t[h->w.n];
	inject_die_point(); /* held, then golat gone: the kernel lets the thread run on */
	if (arch_getregs(tid, &th->regs) != 0)
		return -errno;
	th->tid = tid;
	h->w.n++;
	drop_pending(h, tid);
	if (!h->first_ns)
		h->first_ns = inject_now_ns();
	return 0;
}

static bool group_stop_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* One event of a tracee while the world is being stopped. */
static int on_event(struct static_hold *h, pid_t tid, int st)
{
	int event = st >> 16, sig = WSTOPSIG(st);
	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		drop_pending(h, tid);
		if (tid == h->w.pid) {
			h->exited = true; /* golat run: its own child, reaped here */
			h->status = st;
		}
		return 0;
	}
	if (event == PTRACE_EVENT_STOP) {
		/* The interrupt golat asked for, a new thread's first stop, or a group stop
		 * (SIGSTOP): each is a ptrace stop with every register readable. A thread held
		 * in a group stop stays in it after PTRACE_DETACH, as the program asked. */
		h->group_stop |= group_stop_sig(sig);
		return static_hold_add(h, tid);
	}
	if (event == PTRACE_EVENT_CLONE) {
		unsigned long child = 0;
		if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &child) == 0 && push_pending(h, (pid_t)child))
			return -ENOMEM;
		/* Stopped inside clone(2), where no one could run a system call on it: let it
		 * finish the call, and stop it again just after. */
		ptrace(PTRACE_CONT, tid, 0, 0);
		ptrace(PTRACE_INTERRUPT, tid, 0, 0);
		return push_pending(h, tid);
	}
	if (event == 0) {
		/* A signal came before the interrupt: deliver it now, never swallow it. */
		if (ptrace(PTRACE_CONT, tid, 0, sig) == 0)
			h->passed++;
		return 0;
	}
	ptrace(PTRACE_CONT, tid, 0, 0);
	return 0;
}

/* Seizes every thread of /proc/PID/task golat does not hold or wait for yet, then
 * interrupts them all: seizing stops nothing, so the threads stop as close together
 * as the kernel can schedule them, not one system call apart. The number of new ones,
 * or -errno. */
static int seize_new(struct static_hold *h)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)h->w.pid);
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	long opts = PTRACE_O_TRACECLONE | (h->exitkill ? PTRACE_O_EXITKILL : 0);
	size_t from = h->npending;
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d))) {
		pid_t tid = (pid_t)atoi(e->d_name);
		if (tid <= 0 || held(h, tid) || in(h->pending, h->npending, tid))
			continue;
		if (ptrace(PTRACE_SEIZE, tid, 0, opts) != 0) {
			if (errno == ESRCH)
				continue; /* it exited since the listing */
			if (errno != EPERM || !inject_traced_by_us(h->w.pid, tid)) {
				rc = -errno;
				break;
			}
		}
		rc = push_pending(h, tid);
	}
	closedir(d);
	if (h->npending > from && !h->first_ns)
		h->first_ns = inject_now_ns();
	for (size_t i = from; i < h->npending; i++)
		ptrace(PTRACE_INTERRUPT, h->pending[i], 0, 0);
	return rc ? rc : (int)(h->npending - from);
}

/* Waits until every pending thread (of tid, or of any with -1) is held. */
static int wait_pending(struct static_hold *h, pid_t tid, uint64_t until, char *err, size_t n)
{
	pid_t pid = h->w.pid;
	while (h->npending > 0) {
		int st;
		pid_t k = inject_wait(tid, &st, 200);
		if (k < 0 || (k == 0 && inject_now_ns() > until)) {
			snprintf(err, n, "%zu of pid %d's threads did not stop within %d ms", h->npending, (int)pid,
				 HOLD_MS);
			return -EAGAIN;
		}
		int rc = k > 0 ? on_event(h, k, st) : 0;
		if (rc) {
			snprintf(err, n, "holding pid %d's threads: %s", (int)pid, strerror(-rc));
			return rc;
		}
		if (h->exited) {
			snprintf(err, n, "pid %d exited", (int)pid);
			return -ESRCH;
		}
	}
	return 0;
}

int static_hold_all(struct static_hold *h, pid_t pid, char *err, size_t n)
{
	h->w.pid = pid;
	uint64_t until = inject_now_ns() + HOLD_MS * 1000000ull;
	for (;;) {
		int fresh = seize_new(h);
		if (fresh == -ESRCH || h->exited) {
			snprintf(err, n, "pid %d exited", (int)pid);
			return -ESRCH;
		}
		if (fresh == -EPERM)
			return inject_refused_static(pid, err, n);
		if (fresh < 0) {
			snprintf(err, n, "PTRACE_SEIZE of pid %d: %s", (int)pid, strerror(-fresh));
			return fresh;
		}
		if (fresh == 0 && h->npending == 0)
			break; /* a listing with nothing new, every thread held */
		int rc = wait_pending(h, -1, until, err, n);
		if (rc)
			return rc;
	}
	h->all_ns = inject_now_ns();
	return 0;
}

int static_hold_one(struct static_hold *h, pid_t pid, pid_t tid, char *err, size_t n)
{
	h->w.pid = pid;
	if (ptrace(PTRACE_SEIZE, tid, 0, 0) != 0 && (errno != EPERM || !inject_traced_by_us(pid, tid))) {
		int e = errno;
		if (e == EPERM)
			return inject_refused_static(pid, err, n);
		snprintf(err, n, e == ESRCH ? "pid %d exited" : "PTRACE_SEIZE of pid %d: %s", (int)pid, strerror(e));
		return e == ESRCH ? -ESRCH : -e;
	}
	int rc = push_pending(h, tid);
	if (rc)
		return rc;
	h->first_ns = inject_now_ns();
	ptrace(PTRACE_INTERRUPT, tid, 0, 0);
	if ((rc = wait_pending(h, tid, inject_now_ns() + HOLD_MS * 1000000ull, err, n)))
		return rc;
	h->all_ns = inject_now_ns();
	return 0;
}

/* A thread that was asked to stop and has not yet (an error cut the wait short):
 * PTRACE_DETACH needs a stopped tracee, so wait for its stop first. */
static void release_pending(struct static_hold *h, pid_t tid)
{
	int st;
	ptrace(PTRACE_INTERRUPT, tid, 0, 0);
	for (int i = 0; i < 4; i++) {
		pid_t k = inject_wait(tid, &st, 500);
		if (k <= 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
			if (k == h->w.pid && (WIFEXITED(st) || WIFSIGNALED(st))) {
				h->exited = true;
				h->status = st;
			}
			return;
		}
		int event = st >> 16, sig = WSTOPSIG(st);
		if (event == 0 && sig != (SIGTRAP | 0x80)) { /* a signal: deliver it with the detach */
			h->passed++;
			ptrace(PTRACE_DETACH, tid, 0, sig);
			return;
		}
		if (event == PTRACE_EVENT_CLONE) {
			ptrace(PTRACE_CONT, tid, 0, 0);
			continue;
		}
		ptrace(PTRACE_DETACH, tid, 0, 0);
		return;
	}
}

void static_hold_release(struct static_hold *h)
{
	for (size_t i = 0; i < h->w.n; i++)
		ptrace(PTRACE_DETACH, h->w.t[i].tid, 0, 0);
	while (h->npending > 0) {
		pid_t tid = h->pending[--h->npending];
		release_pending(h, tid);
	}
	h->released_ns = inject_now_ns();
}

void static_hold_free(struct static_hold *h)
{
	free(h->w.t);
	free(h->pending);
	h->w.t = NULL;
	h->pending = NULL;
	h->w.n = h->cap = h->npending = h->pcap = 0;
}
