/* sigtab: see sigtab.h. Runs in signal handlers: no libc, no lock, no allocation. */
#include "sigtab.h"

#include "recfast.h"
#include "tramp.h"

#define SIGTAB_SIGPROF 27 /* Linux's SIGPROF: the agent has no <signal.h> of its own */

/* The record of pc in a sorted array of n, and its orig. */
static bool find_jump(const struct sigtab_jump *j, uint64_t n, uint64_t pc, uint64_t *orig)
{
	uint64_t a = 0, b = n;
	while (a < b) {
		uint64_t m = (a + b) / 2;
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
static const struct sigtab_tramp *tramp_at(const struct sigtab *t, uint64_t pc)
{
	uint64_t a = 0, b = t->ntr; /* the last record with lo <= pc */
	while (a < b) {
		uint64_t m = (a + b) / 2;
		if (t->tr[m].lo <= pc)
			a = m + 1;
		else
			b = m;
	}
	return a > 0 && pc < t->tr[a - 1].lo + t->tr[a - 1].len ? &t->tr[a - 1] : 0;
}

bool sigtab_translate(const struct sigtab *t, uint64_t pc, int sig, uint64_t *orig)
{
	if (!t)
		return false;
	const struct sigtab_tramp *r = tramp_at(t, pc);
	if (r) {
		for (unsigned i = 0; i < r->n; i++)
			if (r->lo + r->toff[i] == pc) {
				if (!(r->any >> i & 1) && sig != SIGTAB_SIGPROF)
					return false;
				*orig = r->orig + r->ooff[i];
				return true;
			}
		return false;
	}
	return find_jump(t->j, t->nj, pc, orig);
}

bool sigtab_trap(const struct sigtab *t, uint64_t pc, uint64_t *to)
{
	return t && find_jump(t->trap, t->nt, pc, to);
}

static bool in(uint64_t pc, void (*lo)(void), void (*hi)(void))
{
	return pc >= (uint64_t)(uintptr_t)lo && pc < (uint64_t)(uintptr_t)hi;
}

/* While this thread records a hooked call it is in golat's recorder, or in a system
 * call the recorder made: the sample belongs to that call's function, at its entry or
 * at its ret, with the goroutine's SP (saved at the top of the recorder's stack once
 * golat_tramp_common has switched to it). */
bool sigtab_recording(const struct sigtab *t, const struct tramp_thread *me, uint64_t *pc, uint64_t *sp,
		      uint64_t r12)
{
	const struct tramp_desc *d;
	/* In the stubs R12 is the descriptor, busy or not yet; past them only busy
	 * and the descriptor kept in the thread's block say it. */
	if (in(*pc, golat_rec_fast, golat_rec_fast_end) || in(*pc, golat_tramp_common, golat_tramp_common_end))
		d = (const struct tramp_desc *)(uintptr_t)r12;
	else if (me && __atomic_load_n(&me->busy, __ATOMIC_RELAXED))
		d = me->desc;
	else
		return false;
	const struct sigtab_tramp *r = t && d ? tramp_at(t, (uint64_t)(uintptr_t)d) : 0;
	uint8_t off = !r ? 0 : d->kind == TRAMP_ENTRY ? r->entry : d->kind == TRAMP_EXIT ? r->exit : 0;
	if (!off)
		return false;
	/* On the thread's stack or, before it has one, on the bootstrap stack: the
	 * goroutine's SP is at the top of either. */
	uint64_t top = me ? me->stack_top : 0, boot = (uint64_t)(uintptr_t)golat_tramp_boot,
		 boot_top = (uint64_t)(uintptr_t)golat_tramp_boot_top;
	if (top && *sp >= top - TRAMP_STACK && *sp < top)
		*sp = *(const uint64_t *)(top - 8);
	else if (*sp >= boot && *sp < boot_top)
		*sp = *(const uint64_t *)(boot_top - 8);
	*pc = r->orig + off - 1u;
	return true;
}
