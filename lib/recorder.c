/* recorder: per-goroutine shadow stacks and per-thread counters. See recorder.h.
 * Built with -mgeneral-regs-only: golat_tramp_common saves only general registers. */
#include "recorder.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define GSLOTS (1u << 15) /* goroutines (g structs) tracked at once */
#define GPROBES 64
#define MAX_SHARDS 512

struct frame {
	uint32_t fn;
	uint32_t _pad;
	uint64_t depth; /* g.stack.hi - SP at the entry */
};

struct gstate {
	uint64_t g;    /* the key: g structs are reused, never freed */
	uint64_t goid; /* a new goroutine on a reused g starts afresh */
	uint32_t n;
	uint32_t overflow; /* frames deeper than REC_FRAMES, not tracked */
	struct frame f[REC_FRAMES];
};

struct shard {
	uint64_t lost;
	uint64_t _pad[7];
	struct rec_counts fn[REC_MAX_FNS];
};

static struct rec_config cfg;
static struct gstate *gtab;
static struct shard *shards;
static uint32_t nshards;
static uint64_t lost_global; /* no shard to count in */
static __thread struct shard *my_shard __attribute__((tls_model("initial-exec")));

static void *map_tables(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

int rec_init(const struct rec_config *c, char *reason, size_t n)
{
	if (gtab)
		return 0;
	cfg = *c;
	gtab = map_tables(GSLOTS * sizeof(struct gstate));
	shards = map_tables(MAX_SHARDS * sizeof(struct shard));
	if (!gtab || !shards) {
		snprintf(reason, n, "cannot map the recorder's tables: %s", strerror(errno));
		return -ENOMEM;
	}
	return 0;
}

static struct shard *shard(void)
{
	struct shard *s = my_shard;
	if (__builtin_expect(s != NULL, 1))
		return s;
	uint32_t i = __atomic_fetch_add(&nshards, 1, __ATOMIC_RELAXED);
	if (i >= MAX_SHARDS)
		return NULL;
	return my_shard = &shards[i];
}

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

static void on_entry(struct gstate *s, struct shard *sh, uint32_t fn, uint64_t depth)
{
	if (s->overflow) {
		if (s->n && depth > s->f[s->n - 1].depth) {
			s->overflow++;
			sh->lost++;
			return;
		}
		s->overflow = 0; /* shallower than the tracked top: the deep ones are gone */
	}
	while (s->n && s->f[s->n - 1].depth >= depth) {
		const struct frame *t = &s->f[s->n - 1];
		if (t->depth == depth && t->fn == fn)
			return; /* the same call, back at its entry after morestack */
		sh->fn[t->fn].abandoned++;
		s->n--;
	}
	if (s->n == REC_FRAMES) {
		s->overflow = 1;
		sh->lost++;
		return;
	}
	s->f[s->n++] = (struct frame){ .fn = fn, .depth = depth };
	sh->fn[fn].entries++;
}

static void on_exit(struct gstate *s, struct shard *sh, uint32_t fn, uint64_t depth)
{
	if (s->overflow && s->n && depth > s->f[s->n - 1].depth) {
		s->overflow--;
		return;
	}
	while (s->n && s->f[s->n - 1].depth > depth) {
		sh->fn[s->f[s->n - 1].fn].abandoned++;
		s->n--;
	}
	if (s->n && s->f[s->n - 1].depth == depth && s->f[s->n - 1].fn == fn) {
		s->n--;
		sh->fn[fn].calls++;
	}
}

__attribute__((visibility("hidden"))) void tramp_record(const struct tramp_desc *d, uint64_t sp)
{
	struct shard *sh = shard();
	uint64_t g = current_g();
	if (!sh || !g || d->fn >= REC_MAX_FNS) {
		__atomic_fetch_add(&lost_global, 1, __ATOMIC_RELAXED);
		return;
	}
	struct gstate *s = gstate(g, d->kind == TRAMP_ENTRY);
	if (!s) {
		sh->lost += d->kind == TRAMP_ENTRY;
		return;
	}
	uint64_t goid = load64(g + cfg.goid);
	if (s->goid != goid) { /* a new goroutine on a reused g */
		s->goid = goid;
		s->n = 0;
		s->overflow = 0;
	}
	uint64_t depth = load64(g + cfg.stack_hi) - sp;
	if (d->kind == TRAMP_ENTRY)
		on_entry(s, sh, d->fn, depth);
	else
		on_exit(s, sh, d->fn, depth);
}

void rec_counts(uint32_t fn, struct rec_counts *out)
{
	memset(out, 0, sizeof(*out));
	uint32_t n = __atomic_load_n(&nshards, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < n && i < MAX_SHARDS && fn < REC_MAX_FNS; i++) {
		const volatile struct rec_counts *c = &shards[i].fn[fn];
		out->entries += c->entries;
		out->calls += c->calls;
		out->abandoned += c->abandoned;
	}
}

uint64_t rec_lost(void)
{
	uint64_t n = __atomic_load_n(&lost_global, __ATOMIC_RELAXED) + tramp_busy + tramp_nostack;
	uint32_t k = __atomic_load_n(&nshards, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < k && i < MAX_SHARDS; i++)
		n += *(volatile uint64_t *)&shards[i].lost;
	return n;
}
