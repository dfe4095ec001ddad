/* recorder: per-goroutine shadow stacks (gslot.c), per-thread cells of the stats
 * file. See recorder.h. Built with -mgeneral-regs-only: golat_tramp_common saves only
 * general registers, so nothing here may touch a vector register. Freestanding, in
 * both builds (libgolat.so and golat-agent.so): system calls only (sys.h), the
 * thread's block through tramp_self. */
#include "recorder.h"

#include <stddef.h>

#include "arch.h"
#include "callers.h"
#include "gslot.h"
#include "recfast.h"
#include "recthread.h"
#include "slowest.h"
#include "sys.h"
#include "vdso.h"

#define GEN_MASK ((1u << (32 - REC_GEN_SHIFT)) - 1)

/* This thread's view is struct tramp_thread (tramp.h): the goroutine it recorded
 * last and that one's slot, and where its cells are. recfast.S reads the same fields. */

_Static_assert(offsetof(struct tramp_thread, busy) == T_BUSY && offsetof(struct tramp_thread, save) == T_SAVE &&
	       offsetof(struct tramp_thread, now) == T_NOW && offsetof(struct tramp_thread, gcache) == T_GCACHE &&
	       offsetof(struct tramp_thread, dir) == T_DIR &&
	       offsetof(struct tramp_thread, ndir) == T_NDIR && offsetof(struct tramp_thread, desc) == T_DESC &&
	       offsetof(struct tramp_thread, stack_top) == T_STACK_TOP &&
	       offsetof(struct tramp_thread, ext_spare) == T_EXT_SPARE &&
	       sizeof(struct tramp_thread) <= T_HDR,
	       "recfast.h: struct tramp_thread");
_Static_assert(offsetof(struct gslot_cached, g) == E_G && offsetof(struct gslot_cached, key) == E_KEY &&
	       offsetof(struct gslot_cached, keyp) == E_KEYP && offsetof(struct gslot_cached, s) == E_SLOT &&
	       sizeof(struct gslot_cached) == 1 << E_SHIFT && GSLOT_CACHE_BITS == E_BITS &&
	       GSLOT_CACHE_WAYS == 2 &&
	       GSLOT_CACHE_MUL == E_MUL, "recfast.h: struct gslot_cached");
_Static_assert(offsetof(struct gslot, goid) == S_GOID && offsetof(struct gslot, n) == S_N &&
	       offsetof(struct gslot, untracked) == S_UNTRACKED && offsetof(struct gslot, ext) == S_EXT &&
	       offsetof(struct gslot, f) == S_F0 && sizeof(struct gframe) == F_SIZE &&
	       GSLOT_INLINE == S_INLINE && GSLOT_FRAMES == S_FRAMES &&
	       offsetof(struct gframe, id) == F_ID && offsetof(struct gframe, depth) == F_DEPTH &&
	       offsetof(struct gframe, tsc) == F_TSC && offsetof(struct gframe, pc) == F_PC &&
	       offsetof(struct gframe, child) == F_CHILD && offsetof(struct gframe, args) == F_ARGS,
	       "recfast.h: struct gslot");
_Static_assert(offsetof(struct tramp_thread, callers) == T_CALLERS && offsetof(struct tramp_thread, cmask) == T_CMASK &&
	       offsetof(struct tramp_thread, scratch) == T_SCRATCH,
	       "recfast.h: struct tramp_thread callers");
_Static_assert(offsetof(struct stats_cell, entries) == C_ENTRIES && offsetof(struct stats_cell, calls) == C_CALLS &&
	       offsetof(struct stats_cell, timed) == C_TIMED && offsetof(struct stats_cell, sum) == C_SUM &&
	       offsetof(struct stats_cell, min) == C_MIN && offsetof(struct stats_cell, max) == C_MAX &&
	       offsetof(struct stats_cell, seq) == C_SEQ && offsetof(struct stats_cell, base) == C_BASE &&
	       offsetof(struct stats_cell, win) == C_WIN && STATS_WIN == 3 && STATS_MAX_EXP == 44 &&
	       STATS_CELLS_PER_PAGE == 16 && REC_GEN_SHIFT == 20, "recfast.h: struct stats_cell");

/* What recfast.S reads (set once, by rec_init). */
extern uint64_t golat_rec_g_tls;
extern uint32_t *golat_rec_gens;
extern uint32_t golat_rec_on, golat_rec_goid, golat_rec_sample, golat_rec_args;
extern uint64_t golat_rec_pcbase;
#ifdef GOLAT_AGENT
extern uint64_t *golat_rec_lost;
#endif

static struct rec_config cfg;
/* Attach generation per function id: a frame entered under an older generation
 * belongs to a call that was in flight when its function was detached. */
static uint32_t *gens;
#ifndef GOLAT_AGENT
static uint64_t lost;        /* atomic: calls recorded nowhere */
#endif
static uint32_t holders;     /* atomic: thread indices given out */
static vdso_clock_fn clock_fn; /* with cfg.monotonic: the vDSO's clock_gettime, or NULL */

int rec_init(const struct rec_config *c, const char **why)
{
	if (gens)
		return 0;
	cfg = *c;
	if (cfg.sample == 0)
		cfg.sample = 1;
	if (gslot_init() != 0 || slowest_init() != 0) {
		*why = "cannot map the recorder's goroutine table";
		return -SYS_ENOMEM;
	}
	long p = sys_mmap(NULL, REC_MAX_FNS * sizeof(uint32_t), SYS_PROT_READ | SYS_PROT_WRITE,
			  SYS_MAP_PRIVATE | SYS_MAP_ANONYMOUS, -1, 0);
	if (sys_failed(p)) {
		*why = "cannot map the recorder's generations";
		return (int)p;
	}
	gens = (uint32_t *)p;
	if (cfg.monotonic)
		clock_fn = vdso_clock_gettime();
	golat_rec_g_tls = (uint64_t)cfg.g_tls;
	golat_rec_gens = gens;
	golat_rec_goid = cfg.goid;
	golat_rec_sample = cfg.sample;
	golat_rec_pcbase = cfg.pcbase;
	golat_rec_args = cfg.sf->h->slowest != 0;
#ifdef GOLAT_AGENT
	golat_rec_lost = &cfg.sf->h->lost;
#endif
	/* The fast path times with the TSC and reads g.stack.hi at a fixed offset. */
	__atomic_store_n(&golat_rec_on, !cfg.monotonic && cfg.stack_hi == G_STACK_HI, __ATOMIC_RELEASE);
	return 0;
}

void rec_set_sample(uint32_t sample)
{
	cfg.sample = sample ? sample : 1;
	__atomic_store_n(&golat_rec_sample, cfg.sample, __ATOMIC_RELEASE);
}

void rec_new_generation(uint32_t fn)
{
	if (gens && fn < REC_MAX_FNS)
		__atomic_fetch_add(&gens[fn], 1, __ATOMIC_RELEASE);
}

/* libgolat.so adds them up here and writes the sum to the header at each report
 * (rec_flush_lost). The agent has no report of its own to run (the command reads the
 * file), so it counts them in the header as they happen, as tramp.S does with the
 * calls it lets through (golat_rec_lost). */
static void count_lost(void)
{
#ifdef GOLAT_AGENT
	__atomic_fetch_add(&cfg.sf->h->lost, 1, __ATOMIC_RELAXED);
#else
	__atomic_fetch_add(&lost, 1, __ATOMIC_RELAXED);
#endif
}

/* Grows this thread's directory to hold group k: a new mapping, the old one copied
 * and unmapped (only this thread ever reads it). */
static int grow_dir(struct tramp_thread *m, uint32_t k)
{
	uint32_t want = m->ndir ? m->ndir : 512;
	while (want <= k)
		want *= 2;
	long p = sys_mmap(NULL, want * sizeof(struct stats_cell *), SYS_PROT_READ | SYS_PROT_WRITE,
			  SYS_MAP_PRIVATE | SYS_MAP_ANONYMOUS, -1, 0);
	if (sys_failed(p))
		return -1;
	struct stats_cell **d = (struct stats_cell **)p;
	for (uint32_t i = 0; i < m->ndir; i++)
		d[i] = m->dir[i];
	if (m->dir)
		sys_munmap(m->dir, m->ndir * sizeof(*d));
	m->dir = d;
	m->ndir = want;
	return 0;
}

/* This thread's cell for function fn, its page claimed (and reserved) on first use;
 * NULL when the stats file has no space left. */
static struct stats_cell *cell_slow(struct tramp_thread *m, uint32_t fn)
{
	uint32_t k = fn / STATS_CELLS_PER_PAGE;
	if (k >= m->ndir && grow_dir(m, k) != 0)
		return NULL;
	struct stats_cell *p = statsfile_page(cfg.sf, STATS_PG_CELLS, m->tid, k);
	if (!p)
		return NULL;
	m->dir[k] = p;
	return &p[fn % STATS_CELLS_PER_PAGE];
}

static inline struct stats_cell *cell(struct tramp_thread *m, uint32_t fn)
{
	uint32_t k = fn / STATS_CELLS_PER_PAGE;
	if (__builtin_expect(k < m->ndir && m->dir[k] != NULL, 1))
		return &m->dir[k][fn % STATS_CELLS_PER_PAGE];
	return cell_slow(m, fn);
}

/* The time now, on the stats header's clock (stats.h, stats_clock, which calls libc:
 * there is none here, so the vDSO is called directly, vdso.h). */
static inline uint64_t rec_clock(void)
{
	if (!cfg.monotonic)
		return arch_clock();
	struct sys_timespec ts;
	if (!clock_fn || clock_fn(SYS_CLOCK_MONOTONIC, &ts) != 0)
		sys_clock_gettime(SYS_CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.sec * 1000000000ull + (uint64_t)ts.nsec;
}

static inline uint64_t load64(uint64_t addr)
{
	return *(const volatile uint64_t *)addr;
}

static inline uint64_t current_g(void)
{
	return arch_g(cfg.g_tls);
}

static inline uint32_t frame_id(uint32_t fn)
{
	return fn | (__atomic_load_n(&gens[fn], __ATOMIC_RELAXED) & GEN_MASK) << REC_GEN_SHIFT;
}

static inline struct gframe *top(struct gslot *s)
{
	return gslot_frame(s, s->n - 1);
}

/* Drops the frame on top: a call that a panic or Goexit unwound. */
static void abandon(struct tramp_thread *m, struct gslot *s)
{
	uint32_t fn = top(s)->id & (REC_MAX_FNS - 1);
	s->n--;
	struct stats_cell *c = cell(m, fn);
	if (c)
		c->panicked++;
	else
		count_lost();
}

/* A new goroutine on a reused g: the old one's calls ended with it. */
static void restart(struct tramp_thread *m, struct gslot *s, uint64_t goid)
{
	while (s->n)
		abandon(m, s);
	s->untracked = 0;
	gslot_shrink(s, &m->ext_spare);
	s->goid = goid;
}

/* The first call on this thread: its index for slot keys, and (libgolat) a watch on
 * its exit (recthread.h). */
static void thread_start(struct tramp_thread *m)
{
	m->holder = __atomic_add_fetch(&holders, 1, __ATOMIC_RELAXED) % 0xffff + 1;
	m->tid = (uint32_t)sys_gettid();
	__atomic_fetch_add(&cfg.sf->h->nthreads, 1, __ATOMIC_RELAXED);
	rec_thread_watch(m);
}

void rec_thread_gone(struct tramp_thread *m)
{
	if (m->gcache)
		gslot_cache_free(m->gcache);
	m->gcache = NULL;
	__atomic_fetch_add(&cfg.sf->h->slowpath, m->slow, __ATOMIC_RELAXED);
	m->slow = 0;
	for (uint32_t k = 0; k < m->ndir; k++)
		if (m->dir[k])
			statsfile_page_free(cfg.sf, m->dir[k], k);
	if (m->dir)
		sys_munmap(m->dir, m->ndir * sizeof(*m->dir));
	m->dir = NULL;
	m->ndir = 0;
	callers_thread_exit(m);
	gslot_thread_exit(&m->ext_spare);
}

/* g's slot when its entry in this thread's cache missed: found or, at an entry, made
 * (gslot_cache_fill), the goroutine that had the entry giving its slot back. */
static struct gslot *switch_to(struct tramp_thread *m, uint64_t g, int create)
{
	if (__builtin_expect(m->holder == 0, 0))
		thread_start(m);
	if (!m->gcache && !(m->gcache = gslot_cache_new()))
		return NULL;
	return gslot_cache_fill(m->gcache, g, m->holder, create);
}

/* Where golat_tramp_common saved ABIInternal's integer argument and result registers,
 * in their order (arch.h, ARCH_ABI_INT_REGS). */
static const uint8_t abi_saved[STATS_ARGS] = ARCH_ABI_INT_REGS;
_Static_assert(ARCH_ABI_INT_NREGS == STATS_ARGS, "a slowest call keeps every argument register");

/* The registers golat_tramp_common saved, in ABIInternal's order of integer arguments
 * and results. */
static void abi_regs(const uint64_t *regs, uint64_t *out)
{
	for (int i = 0; i < STATS_ARGS; i++)
		out[i] = regs[abi_saved[i]];
}

/* A call site as caller keys hold it: its offset from runtime.text. */
static inline uint32_t site_of(uint64_t pc)
{
	uint64_t off = pc - cfg.pcbase;
	return off < STATS_CALLER_NOSITE ? (uint32_t)off : STATS_CALLER_NOSITE;
}

static void on_entry(struct gslot *s, struct tramp_thread *m, uint32_t fn, uint64_t depth, uint64_t sp,
		     const uint64_t *regs)
{
	if (s->untracked) {
		if (depth > s->untracked) {
			count_lost();
			return;
		}
		s->untracked = 0; /* at or above it: the untracked calls are gone */
	}
	uint32_t id = frame_id(fn);
	while (s->n && top(s)->depth >= depth) {
		const struct gframe *t = top(s);
		if (t->depth == depth && t->id == id)
			return; /* the same call, back at its entry after morestack */
		abandon(m, s);
	}
	struct gframe *f = s->n < GSLOT_FRAMES ? gslot_frame(s, s->n) : NULL;
	if (!f && s->n == GSLOT_INLINE && gslot_extend(s, &m->ext_spare) == 0)
		f = gslot_frame(s, s->n);
	struct stats_cell *c = f ? cell(m, fn) : NULL;
	if (!c) {
		s->untracked = (uint32_t)depth;
		count_lost();
		return;
	}
	c->entries++;
	/* 1 in sample entries is timed: seq counts down the ones to skip first. */
	bool take = cfg.sample <= 1 || c->seq == 0;
	if (cfg.sample > 1)
		c->seq = take ? cfg.sample - 1 : c->seq - 1;
	f->id = id;
	f->depth = (uint32_t)depth;
	f->pc = load64(sp); /* the return address: the entry is the function's first byte */
	f->child = 0;
	if (golat_rec_args)
		abi_regs(regs, f->args);
	s->n++;
	/* Last, so that the bookkeeping above is not part of the call's time. */
	f->tsc = take ? rec_clock() : 0;
}

/* Counts a completed call of fn whose frame f is on top of s, and pops it: its cell,
 * its caller entry (with its self time), its parent's child time, and the slowest
 * calls when it is one. */
static void complete(struct gslot *s, struct tramp_thread *m, uint32_t fn, uint64_t now,
		     const uint64_t *regs)
{
	struct gframe *f = top(s);
	uint64_t tsc = f->tsc;
	/* A goroutine that moved to a CPU whose TSC is a little behind (some VMs) could
	 * see time go backwards: that is a call of no measurable length, not 2^64. */
	uint64_t d = tsc && now > tsc ? now - tsc : 0;
	uint32_t site = site_of(f->pc);
	struct stats_cell *c = cell(m, fn);
	struct stats_caller *e = c ? callers_entry(m, cfg.sf, fn, site) : NULL;
	if (c && tsc && d > golat_rec_slowmin[fn]) {
		uint64_t results[STATS_ARGS];
		abi_regs(regs, results);
		slowest_offer(cfg.sf, fn, f, s->goid, site, d, results);
	}
	uint64_t child = f->child;
	s->n--;
	if (s->n && tsc)
		top(s)->child += d;
	if (s->n == 0 && s->ext)
		gslot_shrink(s, &m->ext_spare);
	if (!c) {
		count_lost();
		return;
	}
	c->calls++;
	if (e) {
		e->calls++;
		e->sum += tsc ? d : 0;
		e->self += tsc && d > child ? d - child : 0;
	}
	if (tsc)
		statsfile_time(cfg.sf, c, fn, d);
}

static void on_exit(struct gslot *s, struct tramp_thread *m, uint32_t fn, uint64_t depth, uint64_t now,
		    const uint64_t *regs)
{
	if (s->untracked) {
		if (depth >= s->untracked) {
			if (depth == s->untracked)
				s->untracked = 0; /* the shallowest untracked call returns */
			return;
		}
		s->untracked = 0;
	}
	while (s->n && top(s)->depth > depth)
		abandon(m, s);
	if (!s->n)
		return; /* entered before the hook existed: not counted */
	const struct gframe *f = top(s);
	if (f->depth != depth || f->id != frame_id(fn))
		return;
	complete(s, m, fn, now, regs);
}

/* runtime.exit (ABI0: the code is at 8(SP), sys_linux_amd64.s) or
 * runtime.dieFromSignal (ABIInternal: the signal is in the first integer register,
 * RAX on x86-64, signal_unix.go). */
static void process_exit(const struct tramp_desc *d, uint64_t sp, const uint64_t *regs)
{
	if (!cfg.on_process_exit)
		return;
	if (d->fn == TRAMP_PROCEXIT_EXIT)
		cfg.on_process_exit((int)*(const int32_t *)(sp + 8), 0);
	else
		cfg.on_process_exit(128 + (int)(uint32_t)regs[abi_saved[0]], 1);
}

__attribute__((visibility("hidden"))) void tramp_record(const struct tramp_desc *d, uint64_t sp,
							const uint64_t *regs)
{
	/* An exit's time: the fast path's, when it read the clock before it gave the call
	 * to C (every call timed), so that a duration is the same whichever path records
	 * it; a cell's window is placed at its first duration, and durations the C path
	 * alone measured longer would keep the fast path's outside it for good. Every call
	 * reaches C through the fast path, after it read the clock (tramp.S starts an
	 * agent thread's first call over from there once its block is made). */
	struct tramp_thread *m = tramp_self();
	uint64_t now = d->kind != TRAMP_EXIT ? 0
		       : golat_rec_on && cfg.sample == 1 ? m->now : rec_clock();
	if (__builtin_expect(d->kind == TRAMP_PROCEXIT, 0)) {
		process_exit(d, sp, regs);
		return;
	}
	uint64_t g = current_g();
	uint32_t fn = d->fn;
	if (!g || fn >= REC_MAX_FNS) {
		count_lost();
		return;
	}
	/* Calls the fast path gave to C, added to the header 64 at a time (the rest when
	 * the thread ends): a goroutine switch must not be one (tests/fastpath). */
	if (__builtin_expect(++m->slow == 64, 0)) {
		__atomic_fetch_add(&cfg.sf->h->slowpath, 64, __ATOMIC_RELAXED);
		m->slow = 0;
	}
	struct gslot *s;
	struct gslot_cached *e = m->gcache ? gslot_cache_set(m->gcache, g) : NULL;
	if (e && e->g != g)
		e++; /* the set's other entry */
	if (__builtin_expect(e && e->g == g && __atomic_load_n(e->keyp, __ATOMIC_RELAXED) == e->key, 1))
		s = e->s;
	else if (!(s = switch_to(m, g, d->kind == TRAMP_ENTRY))) {
		if (d->kind == TRAMP_ENTRY)
			count_lost();
		return;
	}
	uint64_t goid = load64(g + cfg.goid);
	if (__builtin_expect(s->goid != goid, 0))
		restart(m, s, goid);
	uint64_t depth = load64(g + cfg.stack_hi) - sp;
	if (d->kind == TRAMP_ENTRY)
		on_entry(s, m, fn, depth, sp, regs);
	else
		on_exit(s, m, fn, depth, now, regs);
}

void rec_counts(uint32_t fn, struct rec_counts *out)
{
	*out = (struct rec_counts){ 0 };
	if (!cfg.sf)
		return;
	const struct stats_header *h = cfg.sf->h;
	uint32_t np = __atomic_load_n(&h->npages, __ATOMIC_ACQUIRE);
	const struct stats_page *dir = (const void *)((const char *)h + h->dir_off);
	uint32_t want = (uint32_t)STATS_PG_CELLS << 24 | fn / STATS_CELLS_PER_PAGE;
	for (uint32_t i = 0; i < np; i++) {
		if (dir[i].what != want)
			continue;
		const volatile struct stats_cell *c =
			(const struct stats_cell *)((const char *)h + h->page_off + (uint64_t)i * STATS_PAGE) +
			fn % STATS_CELLS_PER_PAGE;
		out->entries += c->entries;
		out->calls += c->calls;
		out->abandoned += c->panicked;
	}
}

void rec_flush_lost(void)
{
#ifndef GOLAT_AGENT
	if (cfg.sf)
		cfg.sf->h->lost = __atomic_load_n(&lost, __ATOMIC_RELAXED) + tramp_busy;
#endif
}
