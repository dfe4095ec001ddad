/* sigown: see sigown.h. */
#define _GNU_SOURCE /* RTLD_NEXT, REG_RIP */
#include "sigown.h"
#include "spin.h"

#include "recfast.h"
#include "tramp.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "grow.h"

/* The signals whose meaning depends on the interrupted PC. */
static const int owned_sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGPROF, SIGURG };

#define SLOTS 8 /* program handlers kept per signal: a handler may still read an old one */

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
static sigaction_fn real_sigaction;
static int active;

/* What the program installed, as it sees it: app[sig] points into ring[sig]. */
static struct sigaction ring[NSIG][SLOTS];
static struct sigaction *app[NSIG];
static unsigned next_slot[NSIG];
static int mu; /* sigaction calls; never taken by the handler */

/* One trampoline's points: pc = lo + toff[i] stands for orig + ooff[i]. */
struct tramp_rec {
	uint64_t lo, orig;
	uint16_t len;
	uint8_t n, _pad;
	uint8_t entry, exit; /* 1 + offset from orig of what recording stands for, 0 none */
	uint32_t any; /* bit i: point i is translated for every signal */
	uint8_t toff[SIGOWN_POINTS], ooff[SIGOWN_POINTS];
};

struct jump_rec {
	uint64_t pc, orig;
};

/* A published table: sorted, immutable, never freed. */
struct table {
	size_t ntr, nj, nt;
	struct tramp_rec *tr;
	struct jump_rec *j;
	struct jump_rec *trap; /* pc: the int3; orig: where it sends the thread */
};

static struct table *published;
static struct tramp_rec *pend_tr;
static size_t npend_tr, cap_tr;
static struct jump_rec *pend_j;
static size_t npend_j, cap_j;
static struct jump_rec *pend_t;
static size_t npend_t, cap_t;

static bool owned(int sig)
{
	for (size_t i = 0; i < sizeof(owned_sigs) / sizeof(owned_sigs[0]); i++)
		if (owned_sigs[i] == sig)
			return true;
	return false;
}

/* The record of pc in a sorted array of n, and its orig. */
static bool find_jump(const struct jump_rec *j, size_t n, uint64_t pc, uint64_t *orig)
{
	size_t a = 0, b = n;
	while (a < b) {
		size_t m = (a + b) / 2;
		if (j[m].pc < pc)
			a = m + 1;
		else
			b = m;
	}
	if (a < n && j[a].pc == pc) {
		*orig = j[a].orig;
		return true;
	}
	return false;
}

/* The trampoline record holding address pc, or NULL. */
static const struct tramp_rec *tramp_at(const struct table *t, uint64_t pc)
{
	size_t a = 0, b = t->ntr; /* the last record with lo <= pc */
	while (a < b) {
		size_t m = (a + b) / 2;
		if (t->tr[m].lo <= pc)
			a = m + 1;
		else
			b = m;
	}
	return a > 0 && pc < t->tr[a - 1].lo + t->tr[a - 1].len ? &t->tr[a - 1] : NULL;
}

bool sigown_translate(uint64_t pc, int sig, uint64_t *orig)
{
	const struct table *t = __atomic_load_n(&published, __ATOMIC_ACQUIRE);
	if (!t)
		return false;
	const struct tramp_rec *r = tramp_at(t, pc);
	if (r) {
		for (unsigned i = 0; i < r->n; i++)
			if (r->lo + r->toff[i] == pc) {
				if (!(r->any >> i & 1) && sig != SIGPROF)
					return false;
				*orig = r->orig + r->ooff[i];
				return true;
			}
		return false;
	}
	return find_jump(t->j, t->nj, pc, orig);
}

/* Hands the signal to what the program installed for it. */
static void forward(int sig, siginfo_t *info, void *ctx)
{
	const struct sigaction *a = __atomic_load_n(&app[sig], __ATOMIC_ACQUIRE);
	if (!a || a->sa_handler == SIG_IGN)
		return;
	if (a->sa_handler == SIG_DFL) {
		/* The program asked for the default action while we were on our way here:
		 * take it, as the kernel would have. */
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		real_sigaction(sig, &dfl, NULL);
		syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
		return;
	}
	if (a->sa_flags & SA_SIGINFO)
		a->sa_sigaction(sig, info, ctx);
	else
		a->sa_handler(sig);
}

/* A profiling signal while this thread records a hooked call (busy: it is in
 * golat's recorder, or in a system call the recorder made): the sample belongs to
 * that call's function, at its entry or at its ret, with the goroutine's SP (saved at
 * the top of the recorder's stack once golat_tramp_common has switched to it). */
static bool in(uint64_t pc, void (*lo)(void), void (*hi)(void))
{
	return pc >= (uint64_t)(uintptr_t)lo && pc < (uint64_t)(uintptr_t)hi;
}

static bool recording(uint64_t *pc, uint64_t *sp, uint64_t r12)
{
	struct tramp_thread *me = tramp_self();
	const struct tramp_desc *d;
	/* In the stubs R12 is the descriptor, busy or not yet; past them only busy
	 * and the descriptor kept in TLS say it. */
	if (in(*pc, golat_rec_fast, golat_rec_fast_end) || in(*pc, golat_tramp_common, golat_tramp_common_end))
		d = (const struct tramp_desc *)(uintptr_t)r12;
	else if (__atomic_load_n(&me->busy, __ATOMIC_RELAXED))
		d = me->desc;
	else
		return false;
	const struct table *t = __atomic_load_n(&published, __ATOMIC_ACQUIRE);
	const struct tramp_rec *r = t && d ? tramp_at(t, (uint64_t)(uintptr_t)d) : NULL;
	uint8_t off = !r ? 0 : d->kind == TRAMP_ENTRY ? r->entry : d->kind == TRAMP_EXIT ? r->exit : 0;
	if (!off)
		return false;
	/* On the thread's stack or, before it has one, on the bootstrap stack: the
	 * goroutine's SP is at the top of either. */
	uint64_t top = me->stack_top, boot = (uint64_t)(uintptr_t)golat_tramp_boot,
		 boot_top = (uint64_t)(uintptr_t)golat_tramp_boot_top;
	if (top && *sp >= top - TRAMP_STACK && *sp < top)
		*sp = *(const uint64_t *)(top - 8);
	else if (*sp >= boot && *sp < boot_top)
		*sp = *(const uint64_t *)(boot_top - 8);
	*pc = r->orig + off - 1u;
	return true;
}

/* Where the int3s taken are counted (the stats file's header), or NULL. */
static uint64_t *trap_count;

void sigown_count_traps(uint64_t *where)
{
	__atomic_store_n(&trap_count, where, __ATOMIC_RELEASE);
}

static void handler(int sig, siginfo_t *info, void *ctx)
{
	int saved = errno;
	ucontext_t *uc = ctx;
	greg_t *gr = uc->uc_mcontext.gregs;
	if (sig == SIGTRAP) { /* one of golat's int3s (RIP is past it): on to its trampoline */
		const struct table *t = __atomic_load_n(&published, __ATOMIC_ACQUIRE);
		uint64_t to;
		if (t && find_jump(t->trap, t->nt, (uint64_t)gr[REG_RIP] - 1, &to)) {
			uint64_t *n = __atomic_load_n(&trap_count, __ATOMIC_ACQUIRE);
			if (n)
				__atomic_fetch_add(n, 1, __ATOMIC_RELAXED);
			gr[REG_RIP] = (greg_t)to;
			errno = saved;
			return;
		}
	}
	uint64_t pc = (uint64_t)gr[REG_RIP], sp = (uint64_t)gr[REG_RSP], orig = 0, osp = sp;
	orig = pc;
	bool tr = sigown_translate(pc, sig, &orig) ||
		  (sig == SIGPROF && recording(&orig, &osp, (uint64_t)gr[REG_R12]));
	if (tr) {
		gr[REG_RIP] = (greg_t)orig;
		gr[REG_RSP] = (greg_t)osp;
	}
	forward(sig, info, ctx);
	/* Left alone: back where the thread really was. Changed (sigpanic, or
	 * asyncPreempt with orig pushed as its return address): the program's now. */
	if (tr && (uint64_t)gr[REG_RIP] == orig && (uint64_t)gr[REG_RSP] == osp) {
		gr[REG_RIP] = (greg_t)pc;
		gr[REG_RSP] = (greg_t)sp;
	}
	errno = saved;
}

/* What the kernel must have for a program handler a: golat's handler with a's mask
 * and flags (SA_SIGINFO added), or a itself for SIG_DFL and SIG_IGN. */
static void kernel_action(const struct sigaction *a, struct sigaction *k)
{
	*k = *a;
	if (a->sa_handler == SIG_DFL || a->sa_handler == SIG_IGN)
		return;
	k->sa_sigaction = handler;
	k->sa_flags |= SA_SIGINFO;
}

/* Records a as the program's handler for sig (lock held). */
static void remember(int sig, const struct sigaction *a)
{
	struct sigaction *slot = &ring[sig][next_slot[sig]++ % SLOTS];
	*slot = *a;
	__atomic_store_n(&app[sig], slot, __ATOMIC_RELEASE);
}

/* The sigaction golat's stands in front of: the next one after it (another preloaded
 * library's, or libc's), or, where dlsym is not loaded (libdl.so.2 before glibc 2.34:
 * glibc_compat.h), libc's own under its old exported name. */
extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);
__asm__(".symver __sigaction, __sigaction@GLIBC_2.2.5");
static sigaction_fn next_sigaction(void)
{
	sigaction_fn f = GOLAT_BOUND(dlsym) ? (sigaction_fn)dlsym(RTLD_NEXT, "sigaction") : NULL;
	return f ? f : __sigaction;
}

int sigown_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	if (!real_sigaction)
		real_sigaction = next_sigaction();
	if (!real_sigaction) {
		errno = ENOSYS;
		return -1;
	}
	if (sig <= 0 || sig >= NSIG || !owned(sig) || !__atomic_load_n(&active, __ATOMIC_ACQUIRE))
		return real_sigaction(sig, act, old);
	/* Signals blocked meanwhile: a handler of this thread that calls sigaction must
	 * not spin on the lock its own thread holds. */
	sigset_t all, prev;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &prev);
	spin_lock(&mu);
	int rc = 0;
	struct sigaction cur;
	if (!app[sig] && (rc = real_sigaction(sig, NULL, &cur)) == 0)
		remember(sig, &cur);
	if (rc == 0 && old)
		*old = *app[sig];
	if (rc == 0 && act) {
		struct sigaction k;
		kernel_action(act, &k);
		if ((rc = real_sigaction(sig, &k, NULL)) == 0)
			remember(sig, act);
	}
	spin_unlock(&mu);
	pthread_sigmask(SIG_SETMASK, &prev, NULL);
	return rc;
}

int sigown_init(char *reason, size_t n)
{
	if (__atomic_load_n(&active, __ATOMIC_ACQUIRE))
		return 0;
	if (!real_sigaction)
		real_sigaction = next_sigaction();
	if (!real_sigaction) {
		snprintf(reason, n, "cannot find libc's sigaction");
		return -ENOSYS;
	}
	sigset_t all, prev;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &prev);
	spin_lock(&mu);
	/* Handlers installed before us (a library loaded into a running program): ours
	 * goes in front of each. */
	for (size_t i = 0; i < sizeof(owned_sigs) / sizeof(owned_sigs[0]); i++) {
		int sig = owned_sigs[i];
		struct sigaction cur, k;
		if (app[sig] || real_sigaction(sig, NULL, &cur) != 0)
			continue;
		remember(sig, &cur);
		kernel_action(&cur, &k);
		if (k.sa_sigaction != cur.sa_sigaction)
			real_sigaction(sig, &k, NULL);
	}
	__atomic_store_n(&active, 1, __ATOMIC_RELEASE);
	spin_unlock(&mu);
	pthread_sigmask(SIG_SETMASK, &prev, NULL);
	return 0;
}

bool sigown_active(void)
{
	return __atomic_load_n(&active, __ATOMIC_ACQUIRE);
}

int sigown_add_tramp(uint64_t lo, uint64_t hi, const struct sigown_point *p, size_t n, uint64_t entry,
		     uint64_t exit)
{
	if (n == 0)
		return 0;
	uint64_t base = p[0].orig;
	for (size_t i = 1; i < n; i++)
		base = p[i].orig < base ? p[i].orig : base;
	if (n > SIGOWN_POINTS || hi - lo > UINT16_MAX || (entry && (entry < base || entry - base >= UINT8_MAX)) ||
	    (exit && (exit < base || exit - base >= UINT8_MAX)))
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		if (p[i].pc < lo || p[i].pc - lo > UINT8_MAX || p[i].orig - base > UINT8_MAX)
			return -E2BIG;
	if (array_grow(&pend_tr, npend_tr, &cap_tr, sizeof(*pend_tr), 256))
		return -ENOMEM;
	struct tramp_rec *r = &pend_tr[npend_tr++];
	memset(r, 0, sizeof(*r));
	r->lo = lo;
	r->orig = base;
	r->len = (uint16_t)(hi - lo);
	r->n = (uint8_t)n;
	r->entry = entry ? (uint8_t)(entry - base + 1) : 0;
	r->exit = exit ? (uint8_t)(exit - base + 1) : 0;
	for (size_t i = 0; i < n; i++) {
		r->toff[i] = (uint8_t)(p[i].pc - lo);
		r->ooff[i] = (uint8_t)(p[i].orig - base);
		r->any |= (uint32_t)p[i].any << i;
	}
	return 0;
}

/* Appends {pc, orig} to a pending array that grows by doubling. */
static int push(struct jump_rec **v, size_t *n, size_t *cap, uint64_t pc, uint64_t orig)
{
	if (array_grow(v, *n, cap, sizeof(**v), 64))
		return -ENOMEM;
	(*v)[(*n)++] = (struct jump_rec){ pc, orig };
	return 0;
}

int sigown_add_jump(uint64_t pc, uint64_t orig)
{
	return push(&pend_j, &npend_j, &cap_j, pc, orig);
}

int sigown_add_trap(uint64_t pc, uint64_t to)
{
	return push(&pend_t, &npend_t, &cap_t, pc, to);
}

static int by_lo(const void *a, const void *b)
{
	uint64_t x = ((const struct tramp_rec *)a)->lo, y = ((const struct tramp_rec *)b)->lo;
	return x < y ? -1 : x > y;
}

static int by_pc(const void *a, const void *b)
{
	uint64_t x = ((const struct jump_rec *)a)->pc, y = ((const struct jump_rec *)b)->pc;
	return x < y ? -1 : x > y;
}

/* old's n records and the pending ones, in a new sorted array; NULL: no memory. */
static void *merged(const void *old, size_t nold, const void *pend, size_t npend, size_t size,
		    int (*cmp)(const void *, const void *))
{
	char *v = malloc((nold + npend ? nold + npend : 1) * size);
	if (!v)
		return NULL;
	if (nold)
		memcpy(v, old, nold * size);
	if (npend)
		memcpy(v + nold * size, pend, npend * size);
	qsort(v, nold + npend, size, cmp);
	return v;
}

int sigown_publish(void)
{
	if (npend_tr == 0 && npend_j == 0 && npend_t == 0)
		return 0;
	const struct table *old = published;
	struct table *t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct table){ .ntr = (old ? old->ntr : 0) + npend_tr, .nj = (old ? old->nj : 0) + npend_j,
			     .nt = (old ? old->nt : 0) + npend_t };
	t->tr = merged(old ? old->tr : NULL, old ? old->ntr : 0, pend_tr, npend_tr, sizeof(*t->tr), by_lo);
	t->j = merged(old ? old->j : NULL, old ? old->nj : 0, pend_j, npend_j, sizeof(*t->j), by_pc);
	t->trap = merged(old ? old->trap : NULL, old ? old->nt : 0, pend_t, npend_t, sizeof(*t->trap), by_pc);
	if (!t->tr || !t->j || !t->trap) {
		free(t->tr), free(t->j), free(t->trap), free(t);
		return -ENOMEM;
	}
	__atomic_store_n(&published, t, __ATOMIC_RELEASE);
	npend_tr = npend_j = npend_t = 0;
	return 0;
}
