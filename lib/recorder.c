/* recorder: per-goroutine shadow stacks, per-thread shards of the stats file. See
 * recorder.h. Built with -mgeneral-regs-only: golat_tramp_common saves only general
 * registers, so nothing here may touch a vector register. */
#include "recorder.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define GSLOTS (1u << 15) /* goroutines (g structs) tracked at once */
#define GPROBES 64

struct frame {
	uint32_t fn;
	uint32_t gen;   /* the function's attach generation at the entry */
	uint64_t depth; /* g.stack.hi - SP at the entry */
	uint64_t tsc;   /* at the entry; 0 when this call is not timed */
};

struct gstate {
	uint64_t g;    /* the key: g structs are reused, never freed */
	uint64_t goid; /* a new goroutine on a reused g starts afresh */
	uint32_t n;
	uint32_t _pad;
	/* Depth of the shallowest call not tracked because the shadow stack was full,
	 * 0 when none: calls deeper than it are let through until it returns or is
	 * unwound. A depth, not a count, so that morestack re-entries and panics
	 * cannot leave it out of step. */
	uint64_t untracked;
	struct frame f[REC_FRAMES];
};

/* This thread's cells, and whether it shares the last shard with other threads. */
struct mine {
	struct stats_cell *cells;
	int shared;
	uint64_t last_g; /* the goroutine this thread recorded last, and its slot: */
	struct gstate *last_s; /* a goroutine usually makes many calls in a row */
};

static struct rec_config cfg;
static uint32_t max_fns; /* cfg.sf->h->max_fns, read on every call */
static struct gstate *gtab;
/* Attach generation per function id: a frame entered under an older generation
 * belongs to a call that was in flight when its function was detached. */
static uint32_t *gens;
static uint64_t lost; /* atomic: no shard to count in */
static __thread struct mine me __attribute__((tls_model("initial-exec")));

int rec_init(const struct rec_config *c, char *reason, size_t n)
{
	if (gtab)
		return 0;
	cfg = *c;
	if (cfg.sample == 0)
		cfg.sample = 1;
	max_fns = cfg.sf ? cfg.sf->h->max_fns : 0;
	void *p = mmap(NULL, GSLOTS * sizeof(struct gstate), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(reason, n, "cannot map the recorder's goroutine table: %s", strerror(errno));
		return -ENOMEM;
	}
	gtab = p;
	p = mmap(NULL, REC_MAX_FNS * sizeof(uint32_t), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(reason, n, "cannot map the recorder's generations: %s", strerror(errno));
		return -ENOMEM;
	}
	gens = p;
	return 0;
}

void rec_new_generation(uint32_t fn)
{
	if (gens && fn < REC_MAX_FNS)
		__atomic_fetch_add(&gens[fn], 1, __ATOMIC_RELEASE);
}

/* This thread's cells: its own shard, claimed on its first hooked call. */
static struct mine *mine(void)
{
	if (__builtin_expect(me.cells != NULL, 1))
		return &me;
	struct stats_header *h = cfg.sf->h;
	uint32_t i = __atomic_fetch_add(&h->nshards, 1, __ATOMIC_RELAXED);
	me.shared = i >= h->max_shards - 1 && h->max_shards > 0;
	if (me.shared)
		i = h->max_shards - 1;
	struct stats_shard *s = statsfile_shard(cfg.sf, i);
	if (!me.shared)
		s->tid = (uint32_t)syscall(SYS_gettid);
	me.cells = statsfile_cells(s);
	return &me;
}

/* Adds to a counter: plainly in a shard of our own, atomically in the shared one. */
#define ADD(m, field, v)                                                   \
	do {                                                                   \
		if ((m)->shared)                                               \
			__atomic_fetch_add(&(field), (v), __ATOMIC_RELAXED);   \
		else                                                           \
			(field) += (v);                                        \
	} while (0)

static inline uint64_t load64(uint64_t addr)
{
	return *(const volatile uint64_t *)addr;
}

static inline uint64_t current_g(void)
{
	uint64_t g;
	__asm__ volatile("movq %%fs:(%1), %0" : "=r"(g) : "r"(cfg.g_tls));
	return g;
}

/* The shadow stack of g, claiming a slot on first sight. */
static struct gstate *gstate(uint64_t g, int create)
{
	uint32_t h = (uint32_t)(((g >> 4) * 0x9e3779b97f4a7c15ull) >> 40) & (GSLOTS - 1);
	for (uint32_t i = 0; i < GPROBES; i++) {
		struct gstate *s = &gtab[(h + i) & (GSLOTS - 1)];
		uint64_t k = __atomic_load_n(&s->g, __ATOMIC_ACQUIRE);
		if (k == g)
			return s;
		if (k != 0)
			continue;
		if (!create)
			return NULL;
		uint64_t zero = 0;
		if (__atomic_compare_exchange_n(&s->g, &zero, g, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
		    zero == g)
			return s;
	}
	return NULL;
}

static void abandon(struct mine *m, struct gstate *s)
{
	s->n--;
	ADD(m, m->cells[s->f[s->n].fn].abandoned, 1);
}

/* The frame on top is this call: same depth, same function, same attach. */
static bool is_top(const struct gstate *s, uint32_t fn, uint64_t depth)
{
	const struct frame *t = &s->f[s->n - 1];
	return t->depth == depth && t->fn == fn && t->gen == __atomic_load_n(&gens[fn], __ATOMIC_RELAXED);
}

static void on_entry(struct gstate *s, struct mine *m, uint32_t fn, uint64_t depth)
{
	if (s->untracked) {
		if (depth > s->untracked) {
			__atomic_fetch_add(&lost, 1, __ATOMIC_RELAXED);
			return;
		}
		s->untracked = 0; /* at or above it: the untracked calls are gone */
	}
	while (s->n && s->f[s->n - 1].depth >= depth) {
		if (is_top(s, fn, depth))
			return; /* the same call, back at its entry after morestack */
		abandon(m, s);
	}
	if (s->n == REC_FRAMES) {
		s->untracked = depth;
		__atomic_fetch_add(&lost, 1, __ATOMIC_RELAXED);
		return;
	}
	struct stats_cell *c = &m->cells[fn];
	ADD(m, c->entries, 1);
	bool take = true;
	if (cfg.sample > 1) {
		take = c->seq % cfg.sample == 0;
		ADD(m, c->seq, 1);
	}
	/* Last, so that the bookkeeping above is not part of the call's time. */
	s->f[s->n++] = (struct frame){
		.fn = fn, .gen = __atomic_load_n(&gens[fn], __ATOMIC_RELAXED), .depth = depth,
		.tsc = take ? stats_clock(cfg.monotonic) : 0
	};
}

static void timed(struct mine *m, struct stats_cell *c, uint64_t d)
{
	ADD(m, c->timed, 1);
	ADD(m, c->sum, d);
	ADD(m, c->hist[stats_bucket(d)], 1);
	if (m->shared) {
		uint64_t v = __atomic_load_n(&c->max, __ATOMIC_RELAXED);
		while (d > v && !__atomic_compare_exchange_n(&c->max, &v, d, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
		v = __atomic_load_n(&c->min, __ATOMIC_RELAXED);
		while ((v == 0 || d < v) &&
		       !__atomic_compare_exchange_n(&c->min, &v, d, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
		return;
	}
	if (d > c->max)
		c->max = d;
	if (c->min == 0 || d < c->min)
		c->min = d;
}

static void on_exit(struct gstate *s, struct mine *m, uint32_t fn, uint64_t depth, uint64_t now)
{
	if (s->untracked) {
		if (depth >= s->untracked) {
			if (depth == s->untracked)
				s->untracked = 0; /* the shallowest untracked call returns */
			return;
		}
		s->untracked = 0;
	}
	while (s->n && s->f[s->n - 1].depth > depth)
		abandon(m, s);
	if (!s->n || !is_top(s, fn, depth))
		return; /* entered before the hook existed: not counted */
	const struct frame *f = &s->f[--s->n];
	struct stats_cell *c = &m->cells[fn];
	ADD(m, c->calls, 1);
	/* A goroutine that moved to a CPU whose TSC is a little behind (some VMs) could
	 * see time go backwards: that is a call of no measurable length, not 2^64. */
	if (f->tsc)
		timed(m, c, now > f->tsc ? now - f->tsc : 0);
}

/* runtime.exit (ABI0: the code is at 8(SP), sys_linux_amd64.s) or
 * runtime.dieFromSignal (ABIInternal: the signal is in RAX, signal_unix.go). */
static void process_exit(const struct tramp_desc *d, uint64_t sp, const uint64_t *regs)
{
	if (!cfg.on_process_exit)
		return;
	if (d->fn == TRAMP_PROCEXIT_EXIT)
		cfg.on_process_exit((int)*(const int32_t *)(sp + 8), 0);
	else
		cfg.on_process_exit(128 + (int)(uint32_t)regs[TRAMP_REG_RAX], 1);
}

__attribute__((visibility("hidden"))) void tramp_record(const struct tramp_desc *d, uint64_t sp,
							const uint64_t *regs)
{
	uint64_t now = d->kind == TRAMP_EXIT ? stats_clock(cfg.monotonic) : 0;
	if (__builtin_expect(d->kind == TRAMP_PROCEXIT, 0)) {
		process_exit(d, sp, regs);
		return;
	}
	uint64_t g = current_g();
	if (!g || d->fn >= max_fns) {
		__atomic_fetch_add(&lost, 1, __ATOMIC_RELAXED);
		return;
	}
	struct mine *m = mine();
	struct gstate *s = m->last_g == g ? m->last_s : gstate(g, d->kind == TRAMP_ENTRY);
	if (!s) {
		if (d->kind == TRAMP_ENTRY)
			__atomic_fetch_add(&lost, 1, __ATOMIC_RELAXED);
		return;
	}
	m->last_g = g;
	m->last_s = s;
	uint64_t goid = load64(g + cfg.goid);
	if (s->goid != goid) { /* a new goroutine on a reused g: the old one ended */
		while (s->n)
			abandon(m, s);
		s->goid = goid;
		s->untracked = 0;
	}
	uint64_t depth = load64(g + cfg.stack_hi) - sp;
	if (d->kind == TRAMP_ENTRY)
		on_entry(s, m, d->fn, depth);
	else
		on_exit(s, m, d->fn, depth, now);
}

void rec_counts(uint32_t fn, struct rec_counts *out)
{
	memset(out, 0, sizeof(*out));
	if (!cfg.sf || fn >= cfg.sf->h->max_fns)
		return;
	const struct stats_header *h = cfg.sf->h;
	uint32_t n = __atomic_load_n(&h->nshards, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < n && i < h->max_shards; i++) {
		const volatile struct stats_cell *c = &statsfile_cells(statsfile_shard(cfg.sf, i))[fn];
		out->entries += c->entries;
		out->calls += c->calls;
		out->abandoned += c->abandoned;
	}
}

void rec_flush_lost(void)
{
	if (cfg.sf)
		cfg.sf->h->lost = __atomic_load_n(&lost, __ATOMIC_RELAXED) + tramp_busy;
}
