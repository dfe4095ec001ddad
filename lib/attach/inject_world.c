/* inject_world: every thread of the target is stopped, each one only as long as
 * golat needs to see where it is: it is let go (PTRACE_DETACH) the moment it has been
 * looked at, unless it is the best placed so far to call dlopen. No moment needs all of
 * them stopped at once (golat writes no code through ptrace: the library patches with
 * its own stop of the world), and on two busy cores waiting for the last thread to get
 * a CPU and stop took up to 20 ms, the others frozen meanwhile. Nor may they stay
 * stopped during dlopen: one of them may hold a lock the loader or malloc needs (a
 * thread inside malloc in a cgo call), and dlopen would wait for it for ever.
 *
 * PTRACE_SEIZE, not PTRACE_ATTACH: it sends no SIGSTOP (the program would see a stop
 * it never asked for, and a group stop to undo), and it makes PTRACE_INTERRUPT
 * available, which stops a thread wherever it is, a blocking system call included,
 * without a signal. PTRACE_O_TRACECLONE: a thread created by a seized thread is
 * attached by the kernel and reports its first stop; golat lets it go too. A signal
 * that reaches a thread before its interrupt stop is delivered at once. */
#define _GNU_SOURCE
#include "inject_int.h"
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "grow.h"

uint64_t inject_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_alarm(int sig)
{
	(void)sig; /* only to end a waitpid with EINTR */
}

pid_t inject_wait(pid_t tid, int *status, int ms)
{
	/* A blocking waitpid, cut short by a one-shot timer: a stop is seen the moment
	 * it happens (polling would add its period to every stop the world waits for). */
	static bool armed;
	if (!armed) {
		struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
		sigaction(SIGALRM, &sa, NULL);
		armed = true;
	}
	pid_t k = waitpid(tid, status, __WALL | WNOHANG);
	if (k != 0)
		return k < 0 ? -errno : k;
	struct itimerval on = { .it_value = { ms / 1000, (ms % 1000) * 1000 + 1 } }, off = { 0 };
	setitimer(ITIMER_REAL, &on, NULL);
	k = waitpid(tid, status, __WALL);
	int e = errno;
	setitimer(ITIMER_REAL, &off, NULL);
	if (k < 0 && e == EINTR)
		return 0;
	return k < 0 ? -e : k;
}

static struct inj_thread *find(struct inj_world *w, pid_t tid)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->t[i].tid == tid)
			return &w->t[i];
	return NULL;
}

static struct inj_thread *add(struct inj_world *w, pid_t tid)
{
	if (array_grow(&w->t, w->n, &w->cap, sizeof(*w->t), 64))
		return NULL;
	w->t[w->n] = (struct inj_thread){ .tid = tid, .stop = INJ_RUNNING, .asked_ns = inject_now_ns() };
	return &w->t[w->n++];
}

static bool group_stop_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Whether FS points at a glibc thread control block, whose first word is its own
 * address (tcbhead_t.tcb, the x86-64 TLS ABI): dlopen needs the thread's libc TLS.
 * A thread Go made without pthread_create (no cgo) has FS at its m.tls instead. */
static bool has_tcb(const struct inj_thread *th, const struct inj_target *t)
{
	uint64_t self = 0;
	return ARCH_REGS_TP(th->regs) && inject_mem_read(t, ARCH_REGS_TP(th->regs), &self, 8) == 0 &&
	       self == ARCH_REGS_TP(th->regs);
}

/* Futex waits are where idle Go threads sleep (runtime.futexsleep): a thread there
 * holds no lock and its absence for a few milliseconds goes unseen. 0: unfit. */
static int score(const struct inj_thread *th, const struct inj_target *t)
{
	if (ARCH_REGS_PC(th->regs) < t->text_lo || ARCH_REGS_PC(th->regs) >= t->text_hi)
		return 0; /* not in Go code: it may be inside libc, holding one of its locks */
	if (!has_tcb(th, t))
		return 0;
	long nr = (long)ARCH_REGS_SYSNO(th->regs);
	return nr == SYS_futex ? 3 : nr >= 0 ? 2 : 1;
}

/* Lets a stopped thread go (a signal it stopped for is delivered by the detach). */
static void let_go(struct inj_world *w, struct inj_thread *th, int sig)
{
	ptrace(PTRACE_DETACH, th->tid, 0, sig);
	th->stop = INJ_GONE;
	uint64_t ns = inject_now_ns() - th->seen_ns;
	w->stopped++;
	if (ns > w->max_ns)
		w->max_ns = ns;
}

/* The interrupt stop of th: keep it if it is the best so far, else let it go. */
static void look_at(struct inj_world *w, struct inj_thread *th)
{
	inject_die_point();
	int s = arch_getregs(th->tid, &th->regs) == 0 ? score(th, w->target) : 0;
	if (s <= w->best_score) {
		let_go(w, th, 0);
		return;
	}
	struct inj_thread *old = w->best.tid ? find(w, w->best.tid) : NULL;
	if (old)
		let_go(w, old, 0);
	th->stop = INJ_HELD;
	w->best = *th;
	w->best_score = s;
}

/* One event of a tracee while the threads are looked at. */
static void on_event(struct inj_world *w, pid_t tid, int st)
{
	struct inj_thread *th = find(w, tid);
	if (!th && !(th = add(w, tid))) {
		ptrace(PTRACE_DETACH, tid, 0, 0);
		return;
	}
	int event = st >> 16, sig = WSTOPSIG(st);
	th->seen_ns = inject_now_ns();
	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		th->stop = INJ_GONE;
	} else if (event == PTRACE_EVENT_STOP && !group_stop_sig(sig)) {
		look_at(w, th); /* the stop PTRACE_INTERRUPT asked for, or a new thread's first */
	} else if (event == PTRACE_EVENT_STOP) {
		w->group_stop = true; /* PTRACE_DETACH leaves it in the group stop */
		let_go(w, th, 0);
	} else if (event == PTRACE_EVENT_CLONE) {
		unsigned long child = 0;
		if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &child) == 0 && !find(w, (pid_t)child))
			add(w, (pid_t)child); /* it reports its first stop: let go then */
		th = find(w, tid);
		th->seen_ns = inject_now_ns();
		let_go(w, th, 0);
	} else if (event == 0) {
		/* A signal came first: deliver it now (the interrupt stays pending and
		 * stops the thread right after), never swallow it. */
		if (ptrace(PTRACE_CONT, tid, 0, sig) == 0)
			w->passed++;
	} else {
		ptrace(PTRACE_CONT, tid, 0, 0);
	}
}

bool inject_traced_by_us(pid_t pid, pid_t tid)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	FILE *f = fopen(path, "re");
	int tracer = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	if (f)
		fclose(f);
	return tracer == getpid();
}

/* Seizes and interrupts every thread /proc/PID/task lists that we do not have yet.
 * The number seized, or -errno. */
static int seize_new(struct inj_world *w)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)w->pid);
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	int fresh = 0, rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d))) {
		pid_t tid = (pid_t)atoi(e->d_name);
		if (tid <= 0 || find(w, tid))
			continue;
		if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACECLONE) != 0) {
			if (errno == ESRCH)
				continue; /* it exited since the listing */
			if (errno == EPERM && inject_traced_by_us(w->pid, tid)) {
				if (!add(w, tid))
					rc = -ENOMEM;
				continue;
			}
			rc = -errno;
			break;
		}
		if (!add(w, tid))
			rc = -ENOMEM;
		ptrace(PTRACE_INTERRUPT, tid, 0, 0);
		fresh++;
	}
	closedir(d);
	return rc ? rc : fresh;
}

static size_t running(const struct inj_world *w)
{
	size_t k = 0;
	for (size_t i = 0; i < w->n; i++)
		k += w->t[i].stop == INJ_RUNNING;
	return k;
}

int inject_world_pick(struct inj_world *w, char *err, size_t n)
{
	uint64_t until = inject_now_ns() + 2000000000ull;
	/* Two listings: a thread made by one not seized yet shows in the second. */
	for (int pass = 0; pass < 2; pass++) {
		int fresh = seize_new(w);
		if (fresh < 0) {
			snprintf(err, n, "PTRACE_SEIZE: %s", strerror(-fresh));
			return fresh;
		}
		while (running(w) > 0) {
			int st;
			pid_t tid = inject_wait(-1, &st, 200);
			if (tid < 0 || (tid == 0 && inject_now_ns() > until)) {
				snprintf(err, n, "%zu of pid %d's threads did not stop within 2 s", running(w),
					 (int)w->pid);
				return -EAGAIN;
			}
			if (tid > 0)
				on_event(w, tid, st);
		}
		if (proc_gone((int)w->pid)) {
			snprintf(err, n, "pid %d exited", (int)w->pid);
			return -ESRCH;
		}
	}
	return 0;
}

/* Lets go a thread that has not stopped yet (an error cut the wait short):
 * PTRACE_DETACH works only on a stopped tracee. */
static void release_running(struct inj_world *w, struct inj_thread *th)
{
	int st;
	ptrace(PTRACE_INTERRUPT, th->tid, 0, 0);
	pid_t k = inject_wait(th->tid, &st, 1000);
	if (k <= 0 || WIFEXITED(st) || WIFSIGNALED(st)) {
		th->stop = INJ_GONE;
		return;
	}
	int sig = (st >> 16) == 0 && WSTOPSIG(st) != (SIGTRAP | 0x80) ? WSTOPSIG(st) : 0;
	th->seen_ns = inject_now_ns();
	w->passed += sig != 0;
	let_go(w, th, sig);
}

void inject_world_release(struct inj_world *w, pid_t keep)
{
	for (size_t i = 0; i < w->n; i++) {
		struct inj_thread *th = &w->t[i];
		if (th->tid == keep || th->stop == INJ_GONE)
			continue;
		if (th->stop == INJ_RUNNING)
			release_running(w, th);
		else
			let_go(w, th, 0);
	}
}

void inject_world_free(struct inj_world *w)
{
	free(w->t);
	w->t = NULL;
	w->n = w->cap = 0;
}
