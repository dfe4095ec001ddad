/* tramp: the resume table golat_tramp_resume reads (tramp.h). The trampolines
 * themselves are the instruction set's: lib/arch/<isa>/tramp_emit.c; the per-thread
 * stacks of the stub are lib/record/recstack.c's. */
#include "tramp.h"

#include <errno.h>
#include <stddef.h>
#include <sys/mman.h>

_Static_assert(offsetof(struct tramp_resume_tab, shift) == 0 &&
	       offsetof(struct tramp_resume_tab, mask) == 8 &&
	       offsetof(struct tramp_resume_tab, slot) == 16, "tramp.S reads these offsets");

#define RESUME_MIN_BITS 12 /* 4096 slots (64 KiB) to begin with */

static size_t resume_used;

/* The slot of pc in t: the same hash and probe order as golat_tramp_resume. */
static uint64_t *resume_slot(struct tramp_resume_tab *t, uint64_t pc)
{
	uint64_t i = (pc * TRAMP_RESUME_MUL) >> t->shift;
	while (t->slot[i][0] != pc && t->slot[i][0] != 0)
		i = (i + 1) & t->mask;
	return t->slot[i];
}

/* Replaces the table by one of 2^bits slots holding the same entries. The entries are
 * copied before the new table is published (a release store: a reader that loads the
 * pointer sees them), and the old table is never unmapped: a thread may have loaded
 * its address just before and still be probing it, at any later time. The tables left
 * behind add up to less than the current one. */
static int resume_grow(unsigned bits)
{
	struct tramp_resume_tab *old = golat_resume_tab, *t;
	size_t slots = (size_t)1 << bits;
	void *p = mmap(NULL, sizeof(*t) + slots * sizeof(t->slot[0]), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	t = p;
	t->shift = 64 - bits;
	t->mask = slots - 1;
	for (uint64_t i = 0; old && i <= old->mask; i++) {
		if (old->slot[i][0] == 0)
			continue;
		uint64_t *e = resume_slot(t, old->slot[i][0]);
		e[0] = old->slot[i][0];
		e[1] = old->slot[i][1];
	}
	__atomic_store_n(&golat_resume_tab, t, __ATOMIC_RELEASE);
	return 0;
}

uint64_t tramp_resume_find(uint64_t pc)
{
	struct tramp_resume_tab *t = golat_resume_tab;
	const uint64_t *e = t && pc ? resume_slot(t, pc) : NULL;
	return e && e[0] == pc ? e[1] : 0;
}

int tramp_resume_add(uint64_t pc, uint64_t to)
{
	struct tramp_resume_tab *t = golat_resume_tab;
	if (t && resume_slot(t, pc)[0] == pc)
		return 0; /* the mapping of a pc never changes */
	/* At most half full: probes stay short, and an empty slot always ends one. */
	if (!t || resume_used + 1 > (t->mask + 1) / 2) {
		int rc = resume_grow(t ? 65 - (unsigned)t->shift : RESUME_MIN_BITS);
		if (rc)
			return rc;
		t = golat_resume_tab;
	}
	uint64_t *e = resume_slot(t, pc);
	e[1] = to;
	__atomic_store_n(&e[0], pc, __ATOMIC_RELEASE); /* the key last: readers take no lock */
	resume_used++;
	return 0;
}
