/* sig: golat's signal handler in a static Go program, in front of Go's for the signals
 * whose meaning depends on the interrupted PC (DESIGN.md, "Owning the signals"): what
 * lib/engine/sigown.c does in libgolat.so, without libc. Go installs its handlers there
 * with raw rt_sigaction system calls (runtime.rt_sigaction, runtime/sys_linux_amd64.s),
 * so there is no sigaction to preload: the golat command asks the agent to step in
 * front (agent_sig(AGENT_SIG_OWN), with every thread held, read from the kernel what
 * Go installed) and to step back (AGENT_SIG_GIVE_BACK, Go's handlers put back exactly).
 *
 * The handler translates a PC in a trampoline or on a hop into the original
 * instruction (lib/engine/sigtab.h: the tables the command built and wrote into the
 * program, at golat_sigtab), sends a thread that hit golat's int3 to its trampoline,
 * calls Go's handler (runtime.sigtramp: C's calling convention, the kernel's
 * arguments) with the translated context, and puts back what Go left alone. It runs on
 * the thread's signal stack (Go's gsignal stack: SA_ONSTACK, Go's flags, mask and
 * restorer kept), where Go's handler expects to run. */
#include "agent.h"

#include "sigtab.h"
#include "sys.h"
#include "tramp.h"

#define NSIGS 65
#define K_SIGILL 4
#define K_SIGTRAP 5
#define K_SIGBUS 7
#define K_SIGFPE 8
#define K_SIGSEGV 11
#define K_SIGPROF 27
#define K_SIGURG 23
#define K_SA_SIGINFO 0x4ul
#define K_SA_ONSTACK 0x08000000ul
#define K_SIG_DFL 0ul
#define K_SIG_IGN 1ul
#define NR_rt_sigaction 13
#define NR_tgkill 234

/* The kernel's struct sigaction on x86-64 (Go's sigactiont has the same layout). */
struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

static const int owned_sigs[] = { K_SIGSEGV, K_SIGBUS, K_SIGFPE, K_SIGILL, K_SIGTRAP, K_SIGPROF, K_SIGURG };
#define NOWNED (sizeof(owned_sigs) / sizeof(owned_sigs[0]))

/* The tables the command writes (static_sig.c): NULL until the first attach's. */
__attribute__((visibility("hidden"))) const struct sigtab *golat_sigtab;

#define SLOTS 8 /* Go's handlers kept per signal: a handler may still read an old one */
static struct ksigaction ring[NSIGS][SLOTS];
static struct ksigaction *go_act[NSIGS]; /* what Go installed, as Go sees it */
static unsigned next_slot[NSIGS];
static int owning;
static uint64_t *trap_count;

static long k_sigaction(long sig, const struct ksigaction *a, struct ksigaction *old)
{
	return sys_call6(NR_rt_sigaction, sig, (long)a, (long)old, 8, 0, 0);
}

static int owned(long sig)
{
	for (unsigned i = 0; i < NOWNED; i++)
		if (owned_sigs[i] == sig)
			return 1;
	return 0;
}

/* Hands the signal to what Go installed for it. */
static void forward(int sig, void *info, void *ctx)
{
	const struct ksigaction *a = __atomic_load_n(&go_act[sig], __ATOMIC_ACQUIRE);
	if (!a || a->handler == K_SIG_IGN)
		return;
	if (a->handler == K_SIG_DFL) {
		/* Go asked for the default action while the signal was on its way: take it,
		 * as the kernel would have. */
		k_sigaction(sig, a, 0);
		sys_call3(NR_tgkill, sys_getpid(), sys_gettid(), sig);
		return;
	}
	((void (*)(int, void *, void *))(uintptr_t)a->handler)(sig, info, ctx);
}

static void handler(int sig, void *info, void *ctx)
{
	ucontext_t *uc = ctx; /* the kernel's, as glibc's header draws it: arch_uc_* (arch.h) */
	const struct sigtab *t = __atomic_load_n(&golat_sigtab, __ATOMIC_ACQUIRE);
	uint64_t to;
	if (sig == K_SIGTRAP && sigtab_trap(t, arch_uc_pc(uc) - ARCH_TRAP_PC_AFTER, &to)) { /* golat's int3 */
		uint64_t *n = __atomic_load_n(&trap_count, __ATOMIC_ACQUIRE);
		if (n)
			__atomic_fetch_add(n, 1, __ATOMIC_RELAXED);
		arch_uc_set_pc(uc, to);
		return;
	}
	uint64_t pc = arch_uc_pc(uc), sp = arch_uc_sp(uc), orig = pc, osp = sp;
	bool tr = sigtab_translate(t, pc, sig, &orig) ||
		  (sig == K_SIGPROF && sigtab_recording(t, tramp_self(), &orig, &osp, arch_uc_desc(uc)));
	if (tr) {
		arch_uc_set_pc(uc, orig);
		arch_uc_set_sp(uc, osp);
	}
	forward(sig, info, ctx);
	/* Left alone: back where the thread really was. Changed (sigpanic, or
	 * asyncPreempt with orig pushed as its return address): Go's now. */
	if (tr && arch_uc_pc(uc) == orig && arch_uc_sp(uc) == osp) {
		arch_uc_set_pc(uc, pc);
		arch_uc_set_sp(uc, sp);
	}
}

/* Records a as Go's handler for sig. */
static void remember(int sig, const struct ksigaction *a)
{
	struct ksigaction *slot = &ring[sig][next_slot[sig]++ % SLOTS];
	*slot = *a;
	__atomic_store_n(&go_act[sig], slot, __ATOMIC_RELEASE);
}

/* What the kernel must have for Go's action a: golat's handler with a's flags, mask and
 * restorer, or a itself for SIG_DFL and SIG_IGN. */
static void kernel_action(const struct ksigaction *a, struct ksigaction *k)
{
	*k = *a;
	if (a->handler == K_SIG_DFL || a->handler == K_SIG_IGN)
		return;
	k->handler = (uint64_t)(uintptr_t)handler;
	k->flags |= K_SA_SIGINFO | K_SA_ONSTACK;
}

/* In front of every owned signal's handler (a handler of ours already there is kept,
 * with what Go had recorded). 0 or -errno. */
static long own(void)
{
	for (unsigned i = 0; i < NOWNED; i++) {
		int sig = owned_sigs[i];
		struct ksigaction cur, k;
		long rc = k_sigaction(sig, 0, &cur);
		if (rc < 0)
			return rc;
		if (cur.handler == (uint64_t)(uintptr_t)handler)
			continue;
		remember(sig, &cur);
		kernel_action(&cur, &k);
		if (k.handler != cur.handler && (rc = k_sigaction(sig, &k, 0)) < 0)
			return rc;
	}
	__atomic_store_n(&owning, 1, __ATOMIC_RELEASE);
	return 0;
}

/* Go's own handlers back where golat's stands. */
static long give_back(void)
{
	__atomic_store_n(&owning, 0, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < NOWNED; i++) {
		int sig = owned_sigs[i];
		struct ksigaction cur;
		long rc = k_sigaction(sig, 0, &cur);
		if (rc < 0)
			return rc;
		if (cur.handler == (uint64_t)(uintptr_t)handler && go_act[sig] && (rc = k_sigaction(sig, go_act[sig], 0)) < 0)
			return rc;
	}
	return 0;
}

long agent_sig(uint32_t op, uint64_t *traps)
{
	__atomic_store_n(&trap_count, traps, __ATOMIC_RELEASE);
	return op == AGENT_SIG_OWN ? own() : op == AGENT_SIG_GIVE_BACK ? give_back() : 0;
}

int agent_sig_owning(void)
{
	return __atomic_load_n(&owning, __ATOMIC_ACQUIRE);
}

/* runtime.rt_sigaction's body, redirected here (golat_agent_rt_sigaction, sigrt.S, on a
 * stack of the agent's): Go installing or reading a handler. For an owned signal while
 * golat owns them, Go's action is recorded and golat's installed in its place, and a
 * read-back answers with Go's own. Returns what the system call would. */
__attribute__((visibility("hidden"))) long agent_rt_sigaction(long sig, const struct ksigaction *act,
							     struct ksigaction *old, uint64_t size)
{
	if (size != 8 || sig <= 0 || sig >= NSIGS || !owned(sig) || !__atomic_load_n(&owning, __ATOMIC_ACQUIRE))
		return sys_call6(NR_rt_sigaction, sig, (long)act, (long)old, (long)size, 0, 0);
	struct ksigaction prev, k;
	long rc = 0;
	if (go_act[sig])
		prev = *go_act[sig];
	else if ((rc = k_sigaction(sig, 0, &prev)) < 0)
		return rc;
	if (act) {
		/* Go's action recorded first: a signal arriving between the two must find it,
		 * never the one it replaces (a SIGURG dropped would stop the M's preemption for
		 * good: runtime.preemptM sends no other while m.signalPending is set). */
		struct ksigaction a = *act, *was = go_act[sig];
		kernel_action(&a, &k);
		remember((int)sig, &a);
		if ((rc = k_sigaction(sig, &k, 0)) < 0) {
			__atomic_store_n(&go_act[sig], was, __ATOMIC_RELEASE);
			return rc;
		}
	}
	if (old)
		*old = prev;
	return 0;
}
