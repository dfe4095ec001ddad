/* sigown: see sigown.h. */
#define _GNU_SOURCE /* RTLD_NEXT */
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

static const struct sigtab *published;
static struct sigtab_tramp *pend_tr;
static size_t npend_tr, cap_tr;
static struct sigtab_jump *pend_j;
static size_t npend_j, cap_j;
static struct sigtab_jump *pend_t;
static size_t npend_t, cap_t;

static bool owned(int sig)
{
	for (size_t i = 0; i < sizeof(owned_sigs) / sizeof(owned_sigs[0]); i++)
		if (owned_sigs[i] == sig)
			return true;
	return false;
}

bool sigown_translate(uint64_t pc, int sig, uint64_t *orig)
{
	return sigtab_translate(__atomic_load_n(&published, __ATOMIC_ACQUIRE), pc, sig, orig);
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
	if (sig == SIGTRAP) { /* one of golat's int3s (the pc is past it): on to its trampoline */
		uint64_t to;
		if (sigtab_trap(__atomic_load_n(&published, __ATOMIC_ACQUIRE), arch_uc_pc(uc) - ARCH_TRAP_PC_AFTER, &to)) {
			uint64_t *n = __atomic_load_n(&trap_count, __ATOMIC_ACQUIRE);
			if (n)
				__atomic_fetch_add(n, 1, __ATOMIC_RELAXED);
			arch_uc_set_pc(uc, to);
			errno = saved;
			return;
		}
	}
	uint64_t pc = arch_uc_pc(uc), sp = arch_uc_sp(uc), orig = 0, osp = sp;
	orig = pc;
	bool tr = sigown_translate(pc, sig, &orig) ||
		  (sig == SIGPROF && sigtab_recording(__atomic_load_n(&published, __ATOMIC_ACQUIRE), tramp_self(),
							   &orig, &osp, arch_uc_desc(uc)));
	if (tr) {
		arch_uc_set_pc(uc, orig);
		arch_uc_set_sp(uc, osp);
	}
	forward(sig, info, ctx);
	/* Left alone: back where the thread really was. Changed (sigpanic, or
	 * asyncPreempt with orig pushed as its return address): the program's now. */
	if (tr && arch_uc_pc(uc) == orig && arch_uc_sp(uc) == osp) {
		arch_uc_set_pc(uc, pc);
		arch_uc_set_sp(uc, sp);
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
		/* The program's action recorded first: a signal arriving between the two must
		 * find it, never the one it replaces (a SIGURG dropped would stop Go's
		 * preemption of that thread for good: runtime.preemptM sends no other while
		 * m.signalPending is set). */
		struct sigaction k, *was = app[sig];
		kernel_action(act, &k);
		remember(sig, act);
		if ((rc = real_sigaction(sig, &k, NULL)) != 0)
			__atomic_store_n(&app[sig], was, __ATOMIC_RELEASE);
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
	struct sigtab_tramp *r = &pend_tr[npend_tr++];
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
static int push(struct sigtab_jump **v, size_t *n, size_t *cap, uint64_t pc, uint64_t orig)
{
	if (array_grow(v, *n, cap, sizeof(**v), 64))
		return -ENOMEM;
	(*v)[(*n)++] = (struct sigtab_jump){ pc, orig };
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
	uint64_t x = ((const struct sigtab_tramp *)a)->lo, y = ((const struct sigtab_tramp *)b)->lo;
	return x < y ? -1 : x > y;
}

static int by_pc(const void *a, const void *b)
{
	uint64_t x = ((const struct sigtab_jump *)a)->pc, y = ((const struct sigtab_jump *)b)->pc;
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

int sigown_table(const struct sigtab *old, struct sigtab *out)
{
	*out = (struct sigtab){ .ntr = (old ? old->ntr : 0) + npend_tr, .nj = (old ? old->nj : 0) + npend_j,
				.nt = (old ? old->nt : 0) + npend_t };
	out->tr = merged(old ? old->tr : NULL, old ? old->ntr : 0, pend_tr, npend_tr, sizeof(*out->tr), by_lo);
	out->j = merged(old ? old->j : NULL, old ? old->nj : 0, pend_j, npend_j, sizeof(*out->j), by_pc);
	out->trap = merged(old ? old->trap : NULL, old ? old->nt : 0, pend_t, npend_t, sizeof(*out->trap), by_pc);
	if (!out->tr || !out->j || !out->trap) {
		sigown_table_free(out);
		return -ENOMEM;
	}
	npend_tr = npend_j = npend_t = 0;
	return 0;
}

void sigown_table_free(struct sigtab *t)
{
	free((void *)t->tr), free((void *)t->j), free((void *)t->trap);
	*t = (struct sigtab){ 0 };
}

int sigown_publish(void)
{
	if (npend_tr == 0 && npend_j == 0 && npend_t == 0)
		return 0;
	struct sigtab *t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	if (sigown_table(published, t) != 0) {
		free(t);
		return -ENOMEM;
	}
	__atomic_store_n(&published, t, __ATOMIC_RELEASE);
	return 0;
}
