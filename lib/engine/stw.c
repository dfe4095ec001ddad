/* stw: stop the world (see stw.h for the rules callers follow).
 *
 * The protocol, for one stop with epoch e (never 0):
 *   stopper                                   frozen thread (in stw_handler)
 *   gate = e, arrived = 0
 *   slot[i].req = cookie(e, i)
 *   rt_tgsigqueueinfo(tid, 34, cookie) ─────► CAS slot[i].req: cookie → 0 (claim)
 *                                             slot[i].pc, sp = ucontext pc, sp
 *   futex-wait until arrived == expected ◄─── arrived++ (release), futex wake
 *   … the caller writes code …                futex-wait while gate == e
 *   arch_serialize, membarrier SYNC_CORE
 *   gate = 0, futex wake all ───────────────► arch_serialize, return
 *   (arch_serialize: cpuid on x86-64, lib/arch/arch.h)
 *
 * The claim CAS is what makes late or stale signals harmless: a signal whose stop
 * is over (the thread blocked it and unblocked it later, or the stopper gave up on
 * it) finds req != cookie and returns at once. The stopper gives up on a thread the
 * same way (CAS cookie → 0): whoever wins the CAS decides whether the thread counts.
 * A thread that won its claim is a few instructions from arriving, so the stopper
 * waits for every claimed thread even when the stop fails: after stw_stop returns,
 * no handler still writes into the slots.
 *
 * Only raw system calls are used between sending the first signal and releasing the
 * last thread: no malloc, no stdio (a frozen thread may hold their locks). The raw
 * system call is stw_sys.h's; the thread listing and thread states come from the raw
 * readers of proc.c, which keep the same rule. */
#define _GNU_SOURCE
#include "stw.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "arch.h"
#include "proc.h"
#include "stw_sys.h"

#define STW_MAGIC 0x676cULL       /* "gl", top 16 bits of the cookie */
#define STW_SEEN_SIZE (2 * STW_MAX_THREADS)
#define STW_MAX_ROUNDS 64         /* listings before "threads keep appearing" */
#define STW_REAP_FIRST_NS 2000000 /* look for exited threads after 2 ms… */
#define STW_REAP_EVERY_NS 5000000 /* …then every 5 ms */

enum stw_state { STW_PENDING, STW_FROZEN, STW_GONE, STW_ABANDONED };

struct stw_slot {
	_Atomic uint64_t req; /* the cookie while a signal is expected, else 0 */
	uint64_t cookie;      /* stopper's copy */
	uint64_t pc, sp;      /* written by the handler before it counts itself */
	int tid;
	uint8_t state;        /* enum stw_state, stopper-private */
};

/* State of the stop under way, private to the stopper (it holds stw_owner). */
struct stw_run {
	uint32_t epoch;
	int self;
	size_t nslots, ngone;
	int fail_tid;   /* first thread that did not arrive */
	size_t nlate;   /* how many did not */
};

static struct stw_slot stw_slots[STW_MAX_THREADS];
static int stw_seen[STW_SEEN_SIZE]; /* open-addressing set of tids of this stop */
static char stw_dents[16384] __attribute__((aligned(8))); /* proc_tasks buffer, under stw_owner */
static _Atomic uint32_t stw_arrived; /* futex: frozen threads of this stop */
static _Atomic uint32_t stw_want;    /* arrivals the stopper waits for: only the last wakes it */
static _Atomic uint32_t stw_gate;    /* futex: epoch while closed, 0 when open */
static _Atomic int stw_owner;        /* futex lock: tid of the stopper, 0 when free */
static uint32_t stw_epoch;
static int stw_dead_leader;          /* a zombie main thread never answers */
static struct sigaction stw_prev;    /* handler found at install, chained */
static _Atomic bool stw_ready;
static bool stw_sync_core;

/* ---- raw system calls ------------------------------------------------------ */

/* STW_SYS (stw_sys.h): inline system calls, returning -errno; no errno, no PLT slot. */

static int stw_gettid(void) { return (int)STW_SYS(SYS_gettid, 0, 0, 0, 0, 0, 0); }
static int stw_getpid(void) { return (int)STW_SYS(SYS_getpid, 0, 0, 0, 0, 0, 0); }

/* clock_gettime is the vDSO through libc: first called by stw_warm, not while frozen. */
static uint64_t stw_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void stw_futex_wait(void *addr, uint32_t val, uint64_t timeout_ns)
{
	struct timespec ts = { (time_t)(timeout_ns / 1000000000u), (long)(timeout_ns % 1000000000u) };
	STW_SYS(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, timeout_ns ? &ts : NULL, 0, 0);
}

static void stw_futex_wake(void *addr, int n)
{
	STW_SYS(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, 0, 0, 0);
}

/* Resolves now the libc functions that this module and patch call while the world is
 * stopped, so that no lazy binding happens then. (Linking with -z now makes this
 * moot.) */
static void stw_warm(void)
{
	int e = errno;
	stw_now_ns();
	syscall(SYS_getpid);
	errno = e;
}

/* ---- the handler (runs on every frozen thread) ----------------------------- */

static void stw_chain(int sig, siginfo_t *si, void *uc)
{
	if (stw_prev.sa_flags & SA_SIGINFO) {
		if (stw_prev.sa_sigaction)
			stw_prev.sa_sigaction(sig, si, uc);
	} else if (stw_prev.sa_handler != SIG_DFL && stw_prev.sa_handler != SIG_IGN) {
		stw_prev.sa_handler(sig);
	}
	/* SIG_DFL would have terminated the process for a stray signal 34: we swallow it
	 * instead, a profiler should not add ways to die. */
}

static void stw_handler(int sig, siginfo_t *si, void *ucv)
{
	uint64_t cookie = (uint64_t)(uintptr_t)si->si_value.sival_ptr;

	if (si->si_code != SI_QUEUE || si->si_pid != stw_getpid() || cookie >> 48 != STW_MAGIC) {
		stw_chain(sig, si, ucv);
		return;
	}
	uint32_t idx = (uint32_t)(cookie & 0xffff);
	uint32_t epoch = (uint32_t)(cookie >> 16);
	uint64_t want = cookie;
	if (idx >= STW_MAX_THREADS ||
	    !atomic_compare_exchange_strong(&stw_slots[idx].req, &want, 0))
		return; /* late: that stop is over, or gave up on us */
	const ucontext_t *uc = ucv;
	stw_slots[idx].pc = arch_uc_pc(uc);
	stw_slots[idx].sp = arch_uc_sp(uc);
	/* seq_cst pairs with stw_wait_arrivals: either it sees this arrival, or this
	 * sees the count it waits for (a stale, smaller one only wakes it once more). */
	uint32_t now_in = atomic_fetch_add(&stw_arrived, 1) + 1;
	if (now_in >= atomic_load(&stw_want))
		stw_futex_wake(&stw_arrived, 1);
	while (atomic_load_explicit(&stw_gate, memory_order_acquire) == epoch)
		stw_futex_wait(&stw_gate, epoch, 0);
	arch_serialize(); /* this core now fetches the code as it is in memory (arch.h) */
}

/* ---- install ---------------------------------------------------------------- */

static bool stw_is_ours(const struct sigaction *sa)
{
	return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == stw_handler;
}

bool stw_installed(void)
{
	struct sigaction cur;
	return sigaction(STW_SIGNAL, NULL, &cur) == 0 && stw_is_ours(&cur);
}

/* Expedited SYNC_CORE registration also makes the kernel serialize each core that
 * switches to one of our threads (sync_core_before_usermode), which covers threads
 * that migrate after the stop; the per-thread cpuid covers the rest. */
static void stw_membarrier_register(void)
{
	long cmds = STW_SYS(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0, 0, 0, 0);
	if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE) &&
	    STW_SYS(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0, 0, 0,
		    0) == 0)
		stw_sync_core = true;
}

static int stw_install(char *reason, size_t n)
{
	struct sigaction cur, act;

	if (sigaction(STW_SIGNAL, NULL, &cur) != 0) {
		int e = errno;
		snprintf(reason, n, "cannot read the handler of signal %d: %s", STW_SIGNAL, strerror(e));
		return -e;
	}
	if (stw_is_ours(&cur))
		return 0;
	stw_prev = cur; /* before ours is live: the handler reads it */
	memset(&act, 0, sizeof act);
	act.sa_sigaction = stw_handler;
	/* SA_ONSTACK: Go throws when a signal lands on a goroutine stack
	 * (runtime/signal_unix.go, sigNotOnStack). SA_RESTART: interrupted reads and
	 * waits resume. All signals blocked while frozen: a frozen thread must run
	 * nothing but this handler, not a nested Go handler on code being patched. */
	act.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigfillset(&act.sa_mask);
	if (sigaction(STW_SIGNAL, &act, NULL) != 0) {
		int e = errno;
		snprintf(reason, n, "cannot install the handler of signal %d: %s", STW_SIGNAL, strerror(e));
		return -e;
	}
	if (!atomic_load(&stw_ready)) {
		stw_membarrier_register();
		stw_warm();
	}
	atomic_store(&stw_ready, true);
	return 0;
}

/* ---- the lock ---------------------------------------------------------------- */

/* A futex lock that knows its owner, so that a stop asked for by a signal handler
 * that interrupted this thread's own stop fails instead of deadlocking. Waiting is
 * interruptible by STW_SIGNAL: a waiter is frozen like everyone else. An owner that
 * is not a thread of this process (a child forked while the parent's stop was under
 * way inherits the lock) is taken over. */
static int stw_lock(int self)
{
	for (;;) {
		int cur = 0;
		if (atomic_compare_exchange_strong(&stw_owner, &cur, self))
			return 0;
		if (cur == self)
			return -EDEADLK;
		if (STW_SYS(SYS_tgkill, stw_getpid(), cur, 0, 0, 0, 0) == -ESRCH &&
		    atomic_compare_exchange_strong(&stw_owner, &cur, self))
			return 0;
		stw_futex_wait(&stw_owner, (uint32_t)cur, 100000000); /* recheck every 100 ms */
	}
}

static void stw_unlock(void)
{
	atomic_store(&stw_owner, 0);
	stw_futex_wake(&stw_owner, 1);
}

int stw_init(char *reason, size_t n)
{
	int self = stw_gettid();
	int err = stw_lock(self);
	if (err) {
		snprintf(reason, n, "stw_init called from a signal handler during a stop on this thread");
		return err;
	}
	err = stw_install(reason, n);
	stw_unlock();
	return err;
}

/* ---- listing and signalling ------------------------------------------------ */

/* Where tid is in the set of this stop, or the free cell where it would go. */
static size_t stw_seen_cell(int tid)
{
	size_t h = ((uint32_t)tid * 2654435761u) % STW_SEEN_SIZE;
	while (stw_seen[h] != 0 && stw_seen[h] != tid)
		h = (h + 1) % STW_SEEN_SIZE;
	return h;
}

/* Empties the set. Keys go in the reverse order of insertion (the order of the
 * slots): with linear probing, every key still present lies on the probe path of a
 * later one, so each key is found before the holes its removal leaves matter. */
static void stw_seen_clear(size_t nslots)
{
	for (size_t i = nslots; i-- > 0;) {
		stw_seen[stw_seen_cell(stw_slots[i].tid)] = 0;
	}
}

static int stw_send(const struct stw_slot *slot)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	si.si_signo = STW_SIGNAL;
	si.si_code = SI_QUEUE;
	si.si_pid = stw_getpid();
	si.si_uid = (uid_t)STW_SYS(SYS_getuid, 0, 0, 0, 0, 0, 0);
	si.si_value.sival_ptr = (void *)(uintptr_t)slot->cookie;
	return (int)STW_SYS(SYS_rt_tgsigqueueinfo, si.si_pid, slot->tid, STW_SIGNAL, &si, 0, 0);
}

/* Signals the threads of one listing not signalled yet. Returns how many, or <0. */
static int stw_list_and_signal(struct stw_run *r, struct proc_tasks *tasks)
{
	int added = 0, tid = proc_tasks_rewind(tasks);
	if (tid < 0)
		return tid;
	while ((tid = proc_tasks_next(tasks)) > 0) {
		if (tid == r->self || (tid == stw_dead_leader && tid == stw_getpid()))
			continue;
		size_t cell = stw_seen_cell(tid);
		if (stw_seen[cell] == tid)
			continue; /* signalled in an earlier round */
		if (r->nslots == STW_MAX_THREADS)
			return -E2BIG;
		stw_seen[cell] = tid; /* every key has a slot: stw_seen_clear */
		struct stw_slot *slot = &stw_slots[r->nslots];
		slot->tid = tid;
		slot->state = STW_PENDING;
		slot->cookie = STW_MAGIC << 48 | (uint64_t)r->epoch << 16 | r->nslots;
		atomic_store(&slot->req, slot->cookie);
		r->nslots++;
		int e = stw_send(slot);
		if (e == -ESRCH) { /* exited since the listing: nothing queued */
			atomic_store(&slot->req, 0);
			slot->state = STW_GONE;
			r->ngone++;
		} else if (e) {
			atomic_store(&slot->req, 0);
			slot->state = STW_ABANDONED;
			r->fail_tid = tid;
			return e;
		} else {
			added++;
		}
	}
	return tid < 0 ? tid : added; /* -errno of the listing, or its end */
}

/* ---- waiting ------------------------------------------------------------------ */

/* Takes out of the count the signalled threads that exited, or are zombies (a main
 * thread that called pthread_exit stays listed but never handles a signal). */
static void stw_reap(struct stw_run *r)
{
	for (size_t i = 0; i < r->nslots; i++) {
		struct stw_slot *slot = &stw_slots[i];
		if (slot->state != STW_PENDING || atomic_load(&slot->req) == 0)
			continue;
		char st = proc_task_state(slot->tid); /* raw: no libc while threads are frozen */
		if (st != 0 && st != 'Z' && st != 'X')
			continue;
		uint64_t want = slot->cookie;
		if (atomic_compare_exchange_strong(&slot->req, &want, 0)) {
			slot->state = STW_GONE;
			r->ngone++;
			if (slot->tid == stw_getpid())
				stw_dead_leader = slot->tid;
		}
	}
}

/* Waits until every signalled thread that did not exit has arrived. */
static int stw_wait_arrivals(struct stw_run *r, uint64_t timeout_ns)
{
	uint64_t start = stw_now_ns(), next_reap = start + STW_REAP_FIRST_NS;
	for (;;) {
		atomic_store(&stw_want, (uint32_t)(r->nslots - r->ngone));
		uint32_t a = atomic_load(&stw_arrived);
		if (a >= r->nslots - r->ngone)
			return 0;
		uint64_t now = stw_now_ns();
		if (now >= next_reap || now >= start + timeout_ns) {
			bool last = now >= start + timeout_ns;
			stw_reap(r);
			next_reap = now + STW_REAP_EVERY_NS;
			if (last && atomic_load(&stw_arrived) < r->nslots - r->ngone)
				return -ETIMEDOUT;
			continue;
		}
		uint64_t until = next_reap < start + timeout_ns ? next_reap : start + timeout_ns;
		stw_futex_wait(&stw_arrived, a, until - now);
	}
}

/* After a failure: give up on every thread not claimed yet, and wait for the claimed
 * ones to count themselves (they are past the claim, a few instructions away; this
 * wait cannot block on anything but the scheduler). */
static void stw_abandon(struct stw_run *r)
{
	size_t claimed = 0;
	for (size_t i = 0; i < r->nslots; i++) {
		struct stw_slot *slot = &stw_slots[i];
		if (slot->state != STW_PENDING)
			continue;
		uint64_t want = slot->cookie;
		if (atomic_compare_exchange_strong(&slot->req, &want, 0)) {
			slot->state = STW_ABANDONED;
			if (!r->fail_tid)
				r->fail_tid = slot->tid;
			r->nlate++;
		} else {
			claimed++;
		}
	}
	uint32_t a;
	atomic_store(&stw_want, (uint32_t)claimed);
	while ((a = atomic_load(&stw_arrived)) < claimed)
		stw_futex_wait(&stw_arrived, a, 0);
}

static void stw_open_gate(void)
{
	atomic_store_explicit(&stw_gate, 0, memory_order_release);
	stw_futex_wake(&stw_gate, INT_MAX);
}

/* ---- stop and resume ------------------------------------------------------- */

/* Explains why thread tid did not arrive, from /proc (the world runs again). */
static void stw_explain_late(const struct stw_run *r, unsigned ms, char *reason, size_t n)
{
	struct proc_task_status st;
	proc_task_status(r->fail_tid, &st); /* what it cannot read stays "?" */
	bool blocked = st.sigblk & (1ULL << (STW_SIGNAL - 1));
	snprintf(reason, n, "thread %d (%s, state %c)%s did not stop within %u ms%s", r->fail_tid,
		 st.name, st.state, r->nlate > 1 ? " and others" : "", ms,
		 blocked ? " (it blocks signal 34)" : "");
}

/* Moves the frozen threads to the front of the slots, for stw_thread. */
static size_t stw_compact(const struct stw_run *r)
{
	size_t k = 0;
	for (size_t i = 0; i < r->nslots; i++) {
		if (stw_slots[i].state != STW_FROZEN)
			continue;
		stw_slots[k].tid = stw_slots[i].tid;
		stw_slots[k].pc = stw_slots[i].pc;
		stw_slots[k].sp = stw_slots[i].sp;
		stw_slots[k].state = STW_FROZEN;
		k++;
	}
	return k;
}

static int stw_freeze(struct stw_run *r, uint64_t timeout_ns)
{
	struct proc_tasks tasks;
	int err = proc_tasks_open(&tasks, stw_dents, sizeof stw_dents);
	if (err)
		return err;
	for (int round = 0;; round++) {
		int added = stw_list_and_signal(r, &tasks);
		if (added < 0) {
			err = added;
			break;
		}
		err = stw_wait_arrivals(r, timeout_ns);
		if (err || added == 0)
			break;
		if (round == STW_MAX_ROUNDS) {
			err = -EAGAIN;
			break;
		}
	}
	proc_tasks_close(&tasks);
	return err;
}

static void stw_fail_reason(int err, const struct stw_run *r, unsigned ms, char *reason, size_t n)
{
	if (err == -ETIMEDOUT)
		stw_explain_late(r, ms, reason, n);
	else if (err == -E2BIG)
		snprintf(reason, n, "more than %d threads to stop", STW_MAX_THREADS);
	else if (r->fail_tid) /* EAGAIN: RLIMIT_SIGPENDING */
		snprintf(reason, n, "cannot queue signal %d to thread %d: %s", STW_SIGNAL, r->fail_tid,
			 strerror(-err));
	else if (err == -EAGAIN)
		snprintf(reason, n, "threads kept appearing through %d listings", STW_MAX_ROUNDS);
	else
		snprintf(reason, n, "cannot list /proc/self/task: %s", strerror(-err));
}

int stw_stop(struct stw *s, char *reason, size_t n)
{
	struct stw_run r = { .self = stw_gettid() };
	unsigned ms = s->timeout_ms ? s->timeout_ms : STW_TIMEOUT_MS_DEFAULT;

	s->n = 0;
	s->stopped = false;
	int err = stw_lock(r.self);
	if (err) {
		snprintf(reason, n, "stw_stop called from a signal handler during a stop on this thread");
		return err;
	}
	if (atomic_load(&stw_ready) && !stw_installed()) {
		snprintf(reason, n, "the handler of signal %d was replaced by someone else", STW_SIGNAL);
		stw_unlock();
		return -EBUSY;
	}
	if ((err = stw_install(reason, n)) != 0) {
		stw_unlock();
		return err;
	}
	if (++stw_epoch == 0)
		stw_epoch = 1;
	r.epoch = stw_epoch;
	atomic_store(&stw_arrived, 0);
	atomic_store(&stw_gate, r.epoch);

	err = stw_freeze(&r, (uint64_t)ms * 1000000u);
	stw_seen_clear(r.nslots);
	if (err) {
		stw_abandon(&r);
		stw_open_gate();
		stw_unlock();
		stw_fail_reason(err, &r, ms, reason, n);
		return err;
	}
	for (size_t i = 0; i < r.nslots; i++)
		if (stw_slots[i].state == STW_PENDING)
			stw_slots[i].state = STW_FROZEN;
	s->n = stw_compact(&r);
	s->epoch = r.epoch;
	s->stopped = true;
	return 0;
}

void stw_resume(struct stw *s)
{
	if (!s->stopped)
		return;
	arch_serialize(); /* this core now fetches the code as it is in memory (arch.h) */
	if (stw_sync_core)
		STW_SYS(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0, 0, 0, 0);
	stw_open_gate();
	s->stopped = false;
	s->n = 0;
	s->epoch = 0;
	stw_unlock();
}

size_t stw_count(const struct stw *s)
{
	return s->stopped ? s->n : 0;
}

bool stw_thread(const struct stw *s, size_t i, int *tid, uint64_t *pc, uint64_t *sp)
{
	if (!s->stopped || i >= s->n)
		return false;
	if (tid)
		*tid = stw_slots[i].tid;
	if (pc)
		*pc = stw_slots[i].pc;
	if (sp)
		*sp = stw_slots[i].sp;
	return true;
}

bool stw_pc(const struct stw *s, size_t i, uint64_t *pc, uint64_t *sp)
{
	return stw_thread(s, i, NULL, pc, sp);
}

bool stw_pc_in(const struct stw *s, uint64_t lo, uint64_t hi, size_t *i)
{
	for (size_t k = 0; k < stw_count(s); k++) {
		if (stw_slots[k].pc >= lo && stw_slots[k].pc < hi) {
			if (i)
				*i = k;
			return true;
		}
	}
	return false;
}
