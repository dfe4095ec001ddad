/* callers: per-thread caller tables in the stats file. See callers.h. */
#include "callers.h"

#include "spin.h"
#include "sys.h"

#define FIRST_BITS 8
#define MAX_BITS 22 /* K_SHIFT leaves 24 bits of hash */
#define SPARE_MAX 4096
/* Entries past the probes for keys whose probes are all taken (linear probing at half
 * load leaves a few runs longer than STATS_CALLER_PROBES): C finds them there, the
 * fast path does not, and the table grows only when these run out too. */
#define OVERFLOW 32

_Static_assert(K_PROBES == STATS_CALLER_PROBES && K_KEY == 0 && K_CALLS == 8 && K_SUM == 16 && K_SELF == 24 &&
	       STATS_NOSITE == STATS_CALLER_NOSITE,
	       "recfast.h: struct stats_caller");

/* Tables of threads that exited, for the next threads. */
struct spare {
	struct stats_caller *t;
	uint32_t mask, used;
};
static struct spare *spares;
static uint32_t nspares;
static int spares_lock;

static uint32_t pages_for(uint32_t mask)
{
	uint64_t bytes = ((uint64_t)mask + 1 + STATS_CALLER_PROBES + OVERFLOW) * sizeof(struct stats_caller);
	return (uint32_t)((bytes + STATS_PAGE - 1) / STATS_PAGE);
}

static int take_spare(struct tramp_thread *m)
{
	int got = 0;
	spin_lock(&spares_lock);
	if (nspares) {
		struct spare s = spares[--nspares];
		m->callers = s.t;
		m->cmask = s.mask;
		m->cused = s.used;
		got = 1;
	}
	spin_unlock(&spares_lock);
	return got;
}

/* Starts a new table for this thread: a spare one first (when it has none yet), else
 * twice the size of its last. */
static int new_table(struct tramp_thread *m, struct statsfile *sf)
{
	if (!m->callers && take_spare(m))
		return 0;
	uint32_t bits = FIRST_BITS;
	while (m->callers && (1u << bits) <= m->cmask + 1u && bits < MAX_BITS)
		bits++;
	if (m->callers && (1u << bits) <= m->cmask + 1u)
		return -1; /* as big as tables get: the calls that find no room are lost */
	uint32_t mask = (1u << bits) - 1;
	struct stats_caller *t = statsfile_pages(sf, STATS_PG_CALLERS, m->tid, pages_for(mask));
	if (!t)
		return -1;
	m->callers = t;
	m->cmask = mask;
	m->cused = 0;
	return 0;
}

/* Key's entry among the n from e, made in the first free one (unless the table is
 * half full: time for a bigger one); NULL when there is none. */
static struct stats_caller *find_in(struct tramp_thread *m, struct stats_caller *e, int n, uint64_t key)
{
	for (int i = 0; i < n; i++, e++) {
		if (e->key == key)
			return e;
		if (e->key == 0) {
			if (m->cused >= (m->cmask + 1) / 2)
				return NULL;
			m->cused++;
			__atomic_store_n(&e->key, key, __ATOMIC_RELEASE);
			return e;
		}
	}
	return NULL;
}

static struct stats_caller *find(struct tramp_thread *m, uint64_t key, uint32_t site, uint32_t fn1)
{
	struct stats_caller *e = find_in(m, m->callers + callers_hash(site, fn1, m->cmask), STATS_CALLER_PROBES, key);
	if (!e && m->cused < (m->cmask + 1) / 2)
		e = find_in(m, m->callers + m->cmask + 1 + STATS_CALLER_PROBES, OVERFLOW, key);
	return e;
}

struct stats_caller *callers_entry(struct tramp_thread *m, struct statsfile *sf, uint32_t fn, uint32_t site)
{
	uint32_t fn1 = fn + 1;
	uint64_t key = (uint64_t)site << 32 | fn1;
	if (!m->callers && new_table(m, sf) != 0)
		return NULL;
	struct stats_caller *e = find(m, key, site, fn1);
	if (e)
		return e;
	if (new_table(m, sf) != 0)
		return NULL;
	return find(m, key, site, fn1);
}

void callers_thread_exit(struct tramp_thread *m)
{
	if (!m->callers)
		return;
	spin_lock(&spares_lock);
	if (!spares) {
		long p = sys_mmap(0, SPARE_MAX * sizeof(*spares), SYS_PROT_READ | SYS_PROT_WRITE,
				  SYS_MAP_PRIVATE | SYS_MAP_ANONYMOUS, -1, 0);
		spares = sys_failed(p) ? NULL : (struct spare *)p;
	}
	/* Beyond SPARE_MAX the table stays in the file with its counts, unused. */
	if (spares && nspares < SPARE_MAX)
		spares[nspares++] = (struct spare){ m->callers, m->cmask, m->cused };
	spin_unlock(&spares_lock);
	m->callers = NULL;
	m->cmask = 0;
	m->cused = 0;
}
