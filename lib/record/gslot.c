/* gslot: see gslot.h. Compiled like the recorder, which calls it: general registers
 * only, no sanitizer, no libc (system calls: sys.h), no TLS. */
#include "gslot.h"

#include "spin.h"
#include "sys.h"

#define SEG_BITS0 16 /* 64 Ki slots in the first segment */
#define SEG_GROWTH 2 /* each next one 4x larger */
#define SEGS 6       /* up to 64 Ki << 10 = 64 Mi slots */
#define PROBE 16     /* slots a g may use in a segment: two cache lines of keys */
#define EXT_CHUNK 64 /* extension blocks mapped at once */
#define POOL_BITS 12 /* slots mapped at once: 256 KiB */
#define POOL_CHUNKS (1u << 14)

/* A segment's keys, and for each the index of its slot in the pool: the keys are
 * spread by the hash, the slots are dense, so memory follows the calls in flight. */
struct seg {
	uint64_t *keys;
	uint32_t *idx;
	uint32_t bits;
};

static struct seg segs[SEGS];
static uint32_t nsegs;     /* published with a release store after segs[nsegs - 1] */
static int grow_lock;      /* adding a segment, and the extension free list */
static int pool_lock;      /* the slot pool */
static struct gslot *pool[POOL_CHUNKS];
static uint32_t pool_top;  /* slots ever cut from the pool */
static uint32_t pool_free = UINT32_MAX; /* first free slot, linked through gslot.next */
static uint64_t in_use;    /* slots claimed and not given back */
static struct gframe *ext_free; /* free extension blocks, linked through their first word */

static void *map(uint64_t len)
{
	/* Not MAP_NORESERVE: under strict overcommit the mapping is refused here, not
	 * killed later when a page is touched. */
	long p = sys_mmap(0, len, SYS_PROT_READ | SYS_PROT_WRITE, SYS_MAP_PRIVATE | SYS_MAP_ANONYMOUS, -1, 0);
	return sys_failed(p) ? 0 : (void *)p;
}

static int add_segment(uint32_t i)
{
	uint32_t bits = SEG_BITS0 + SEG_GROWTH * i;
	uint64_t cap = 1ull << bits;
	uint64_t *keys = map(cap * sizeof(uint64_t));
	uint32_t *idx = keys ? map(cap * sizeof(uint32_t)) : 0;
	if (!idx) {
		if (keys)
			sys_munmap(keys, cap * sizeof(uint64_t));
		return -1;
	}
	segs[i] = (struct seg){ keys, idx, bits };
	__atomic_store_n(&nsegs, i + 1, __ATOMIC_RELEASE);
	return 0;
}

int gslot_init(void)
{
	if (__atomic_load_n(&nsegs, __ATOMIC_ACQUIRE))
		return 0;
	spin_lock(&grow_lock);
	int rc = nsegs ? 0 : add_segment(0);
	spin_unlock(&grow_lock);
	return rc ? -SYS_ENOMEM : 0;
}

static struct gslot *slot_at(uint32_t i)
{
	return &pool[i >> POOL_BITS][i & ((1u << POOL_BITS) - 1)];
}

/* A slot from the pool: its index, or UINT32_MAX when no memory. */
static uint32_t pool_get(void)
{
	spin_lock(&pool_lock);
	uint32_t i = pool_free;
	if (i != UINT32_MAX) {
		pool_free = slot_at(i)->next;
	} else if (pool_top >> POOL_BITS < POOL_CHUNKS) {
		uint32_t c = pool_top >> POOL_BITS;
		if (!pool[c])
			pool[c] = map(sizeof(struct gslot) << POOL_BITS);
		if (pool[c])
			i = pool_top++;
	}
	spin_unlock(&pool_lock);
	return i;
}

static void pool_put(uint32_t i)
{
	spin_lock(&pool_lock);
	slot_at(i)->next = pool_free;
	pool_free = i;
	spin_unlock(&pool_lock);
}

/* The first of the PROBE slots g may use in segment s. */
static uint64_t home(const struct seg *s, uint64_t g)
{
	uint64_t h = ((g >> 3) * 0x9e3779b97f4a7c15ull) >> (64 - s->bits);
	return h & ~(uint64_t)(PROBE - 1);
}

/* Finds g's slot in any segment and makes it holder's: 1 found, 0 none, -1 the key
 * changed under us (look again). */
static int find(uint64_t g, uint64_t mine, uint32_t n, struct gref *out)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct seg *s = &segs[i];
		uint64_t at = home(s, g);
		for (uint32_t j = 0; j < PROBE; j++) {
			uint64_t *kp = &s->keys[at + j];
			uint64_t k = __atomic_load_n(kp, __ATOMIC_ACQUIRE);
			if ((k & GSLOT_G_MASK) != g || k == 0)
				continue;
			if (k != mine && !__atomic_compare_exchange_n(kp, &k, mine, 0, __ATOMIC_ACQ_REL,
								      __ATOMIC_ACQUIRE))
				return -1; /* given back, or taken by another thread, meanwhile */
			*out = (struct gref){ kp, slot_at(s->idx[at + j]) };
			return 1;
		}
	}
	return 0;
}

/* Claims a free key for g in the first segment with room where g hashes, with slot
 * number i: 1, or 0 when every segment's probe is full. Older segments first, so
 * that they fill before a new one spreads its keys over more memory. The slot index
 * is written after the key: only the thread running g reads it, after this. */
static int claim(uint64_t g, uint64_t mine, uint32_t n, uint32_t i, struct gref *out)
{
	for (uint32_t k = 0; k < n; k++) {
		const struct seg *s = &segs[k];
		uint64_t at = home(s, g);
		for (uint32_t j = 0; j < PROBE; j++) {
			uint64_t *kp = &s->keys[at + j], zero = 0;
			if (__atomic_load_n(kp, __ATOMIC_RELAXED) != 0 ||
			    !__atomic_compare_exchange_n(kp, &zero, mine, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
				continue;
			s->idx[at + j] = i;
			*out = (struct gref){ kp, slot_at(i) };
			return 1;
		}
	}
	return 0;
}

/* Gives g a new slot: 1, 0 when no key is free where it hashes, -1 no memory. */
static int make(uint64_t g, uint64_t mine, uint32_t n, struct gref *out)
{
	uint32_t i = pool_get();
	if (i == UINT32_MAX)
		return -1;
	if (!claim(g, mine, n, i, out)) {
		pool_put(i);
		return 0;
	}
	{
		struct gslot *sl = out->s;
		sl->self = i;
		sl->goid = 0;
		sl->n = 0;
		sl->untracked = 0;
		sl->ext = 0;
		__atomic_fetch_add(&in_use, 1, __ATOMIC_RELAXED);
		return 1;
	}
}

int gslot_get(uint64_t g, uint32_t holder, int create, struct gref *out)
{
	uint64_t mine = (uint64_t)holder << 48 | (g & GSLOT_G_MASK);
	for (;;) {
		uint32_t n = __atomic_load_n(&nsegs, __ATOMIC_ACQUIRE);
		int r = find(g, mine, n, out);
		if (r < 0)
			continue;
		if (r > 0)
			return 0;
		if (!create)
			return -1;
		/* g has no slot, and only this thread (running g) could make one. */
		int m = make(g, mine, n, out);
		if (m)
			return m > 0 ? 0 : -1;
		spin_lock(&grow_lock);
		int rc = 0;
		if (nsegs == n)
			rc = n < SEGS ? add_segment(n) : -1;
		spin_unlock(&grow_lock);
		if (rc)
			return -1;
	}
}

void gslot_release(const struct gref *r, uint64_t key)
{
	/* The whole key, not only its holder: a cache entry outlives its key when another
	 * thread takes the slot over and gives it back, and this thread may have claimed
	 * the same place since, for another goroutine hashing there. That key is not
	 * r's: taking it would give r->s back a second time (or while another goroutine
	 * uses it) and leave the newer goroutine without its key. Only this thread writes
	 * its own holder's keys, and it caches the slot of each it wrote: while the key is
	 * still `key`, r->s is its slot. */
	uint64_t k = __atomic_load_n(r->key, __ATOMIC_RELAXED);
	if (k != key || r->s->n != 0 || r->s->ext)
		return;
	if (!__atomic_compare_exchange_n(r->key, &k, 0, 0, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		return;
	/* Ours alone now: no key names it, and no thread uses a slot whose key it does
	 * not hold. */
	__atomic_fetch_sub(&in_use, 1, __ATOMIC_RELAXED);
	pool_put(r->s->self);
}

struct gslot_cached *gslot_cache_new(void)
{
	return map(GSLOT_CACHE * sizeof(struct gslot_cached));
}

struct gslot *gslot_cache_fill(struct gslot_cached *c, uint64_t g, uint32_t holder, int create)
{
	/* g's entry when it has one (its slot taken by another thread meanwhile);
	 * otherwise the first, the other one moving to the second place and the
	 * goroutine there giving its slot back. */
	struct gslot_cached *set = gslot_cache_set(c, g), *e = set;
	if (set[1].g == g) {
		e = &set[1];
	} else if (set[0].g != g) {
		if (set[1].g)
			gslot_release(&(struct gref){ set[1].keyp, set[1].s }, set[1].key);
		set[1] = set[0];
	}
	_Static_assert(GSLOT_CACHE_WAYS == 2, "two ways");
	e->g = 0;
	struct gref r;
	if (gslot_get(g, holder, create, &r) != 0)
		return 0;
	*e = (struct gslot_cached){ g, (uint64_t)holder << 48 | (g & GSLOT_G_MASK), r.key, r.s };
	return r.s;
}

void gslot_cache_free(struct gslot_cached *c)
{
	for (uint32_t i = 0; i < GSLOT_CACHE; i++)
		if (c[i].g)
			gslot_release(&(struct gref){ c[i].keyp, c[i].s }, c[i].key);
	sys_munmap(c, GSLOT_CACHE * sizeof(struct gslot_cached));
}

int gslot_extend(struct gslot *s, struct gframe **spare)
{
	struct gframe *b = *spare;
	if (b) {
		*spare = 0;
	} else {
		spin_lock(&grow_lock);
		if (!ext_free) {
			uint8_t *c = map((uint64_t)EXT_CHUNK * GSLOT_EXT * sizeof(struct gframe));
			for (uint32_t i = 0; c && i < EXT_CHUNK; i++) {
				struct gframe *e = (struct gframe *)(c + (uint64_t)i * GSLOT_EXT * sizeof(struct gframe));
				*(struct gframe **)e = ext_free;
				ext_free = e;
			}
		}
		b = ext_free;
		if (b)
			ext_free = *(struct gframe **)b;
		spin_unlock(&grow_lock);
		if (!b)
			return -1;
	}
	s->ext = b;
	return 0;
}

void gslot_shrink(struct gslot *s, struct gframe **spare)
{
	struct gframe *b = s->ext;
	if (!b)
		return;
	s->ext = 0;
	if (!*spare) { /* one kept per thread: deep goroutines come back */
		*spare = b;
		return;
	}
	spin_lock(&grow_lock);
	*(struct gframe **)b = ext_free;
	ext_free = b;
	spin_unlock(&grow_lock);
}

void gslot_thread_exit(struct gframe **spare)
{
	struct gframe *b = *spare;
	if (!b)
		return;
	*spare = 0;
	spin_lock(&grow_lock);
	*(struct gframe **)b = ext_free;
	ext_free = b;
	spin_unlock(&grow_lock);
}
