/* gslot: the goroutines that have hooked calls in flight, and those calls — the
 * recorder's only state that is not per thread.
 *
 * A goroutine (its g) gets a slot at its first hooked entry and gives it back when its
 * last hooked call in flight has returned, so slots follow the calls in flight, not
 * the goroutines that ever ran: a burst of a million goroutines takes a million slots
 * and returns them all. Keys live in segments of open-addressed tables: 64 Ki keys
 * first, each new segment four times the last, added when no segment has a free key
 * where a g hashes (16 keys, two cache lines). Lookups search every segment. Each key
 * names a slot of a dense pool (slots given back are reused first), so the memory
 * that slots take follows the calls in flight, however the keys are spread.
 *
 * A slot's key is holder << 48 | g: the g it belongs to and the thread (a 16-bit
 * index) that may use it. Only the thread running g ever changes a slot's frames; a
 * goroutine runs on one thread at a time and Go's scheduler orders its moves between
 * threads, so the frames need no lock. A thread caches the slot of each goroutine it
 * ran lately and keeps it after the goroutine's calls returned (a goroutine calling a
 * hooked function in a loop claims nothing per call). Another thread that runs g
 * takes the slot over with one compare-and-swap of the key; the caching thread gives
 * an idle slot back (key 0) with one too, when another goroutine takes its entry. Both
 * are CAS on the key, so exactly one wins, and a cached slot is used only while its
 * key still names this thread.
 *
 * A thread caches the slots of the last goroutines it ran, not of one: a server
 * switches goroutines between almost every two hooked calls, and a cache of one g
 * made each switch a release and a search of the segments (two CAS and a hash),
 * 40-50 ns. The cache (struct gslot_cached) has GSLOT_CACHE entries per thread, in
 * sets of two (one cache line) chosen by g, mapped on the thread's first call: the fast
 * path (recfast.S) finds g's set with a multiply and a shift, looks at both entries,
 * and uses the slot while the key still names this thread. Two ways, not one: 8
 * goroutines in a direct-mapped table of 128 collide one time in five, and two that
 * collide evict each other at every switch. A thread holds at most GSLOT_CACHE idle
 * slots.
 *
 * An entry names its slot only while the table's key is the entry's whole key, holder
 * and g: every use compares all of it, the give-back too (gslot_release). An entry
 * outlives its key when another thread takes the slot over and gives it back, and its
 * thread may then claim the same place for another goroutine hashing there: a
 * give-back that compared the holder alone took that goroutine's key and put a slot
 * into the pool that was in it already or in use, and two goroutines recorded into
 * one slot (tests/fastpath: test_gslot.c, churn). Only a thread writes keys with its
 * holder, each in gslot_get, whose slot it caches at once: so while the key is the
 * entry's, the slot is too.
 *
 * The first GSLOT_INLINE frames are in the slot; deeper ones in an extension block
 * of the same thread's making, given back when the goroutine's calls all returned. */
#ifndef GOLAT_GSLOT_H
#define GOLAT_GSLOT_H

#include <stdint.h>

#define GSLOT_INLINE 2
#define GSLOT_EXT 254
#define GSLOT_FRAMES (GSLOT_INLINE + GSLOT_EXT) /* hooked frames deep per goroutine that are tracked */
#define GSLOT_G_MASK ((1ull << 48) - 1)

/* One hooked call in flight. */
struct gframe {
	uint32_t id;    /* function id | attach generation << REC_GEN_SHIFT */
	uint32_t depth; /* g.stack.hi - SP at the entry */
	uint64_t tsc;   /* at the entry; 0 when this call is not timed */
	uint64_t pc;    /* its return address: the call site, so the caller */
	uint64_t child; /* cycles its timed hooked callees took, for its self time */
	uint64_t args[9]; /* the integer argument registers at the entry (with GOLAT_SLOWEST) */
};

struct gslot {
	uint64_t goid;     /* a new goroutine on a reused g starts afresh */
	uint32_t n;        /* frames in flight */
	/* Depth of the shallowest call not tracked because the frames were full (or no
	 * extension could be had), 0 when none: calls deeper than it are let through
	 * until it returns or is unwound. A depth, not a count, so that morestack
	 * re-entries and panics cannot leave it out of step. */
	uint32_t untracked;
	struct gframe *ext; /* frames GSLOT_INLINE.., or NULL */
	uint32_t self;      /* its index in the pool */
	uint32_t next;      /* the next free slot, while free */
	struct gframe f[GSLOT_INLINE];
} __attribute__((aligned(64))); /* whole cache lines: threads run goroutines of adjacent slots */

/* A slot and its key. */
struct gref {
	uint64_t *key;
	struct gslot *s;
};

/* A thread's cache entry: g's slot, usable while *keyp == key (gslot_cache_set). */
struct gslot_cached {
	uint64_t g;     /* 0: empty */
	uint64_t key;   /* holder << 48 | g */
	uint64_t *keyp; /* where the slot's key is */
	struct gslot *s;
};
#define GSLOT_CACHE_BITS 7 /* log2 of the sets */
#define GSLOT_CACHE_WAYS 2
#define GSLOT_CACHE (GSLOT_CACHE_WAYS << GSLOT_CACHE_BITS)
#define GSLOT_CACHE_MUL 0x9e3779b1u

/* The set of g in cache c (GSLOT_CACHE_WAYS entries, the most recently filled first):
 * recfast.S computes the same. */
static inline struct gslot_cached *gslot_cache_set(struct gslot_cached *c, uint64_t g)
{
	return &c[((uint32_t)g * GSLOT_CACHE_MUL >> (32 - GSLOT_CACHE_BITS)) * GSLOT_CACHE_WAYS];
}

/* Maps the first segment. 0 or -ENOMEM. */
int gslot_init(void);
/* The slot of g, taken over for holder if another thread holds it; with create, a
 * new one when g has none (goid 0: the caller starts it afresh). 0, or -1 when g
 * has none (create 0) or none could be had. */
int gslot_get(uint64_t g, uint32_t holder, int create, struct gref *out);
/* Gives r back if its key is still key (holder << 48 | g, as the cache entry that
 * names r holds it) and it has no frames. */
void gslot_release(const struct gref *r, uint64_t key);
/* A new cache, all empty: NULL when no memory. */
struct gslot_cached *gslot_cache_new(void);
/* g's slot through cache c, when its entry missed: the goroutine that had the entry
 * gives its slot back (gslot_release), and g's slot is found or, with create, made
 * (gslot_get) and cached. NULL when g has none or none could be had. */
struct gslot *gslot_cache_fill(struct gslot_cached *c, uint64_t g, uint32_t holder, int create);
/* The thread ends: every slot it caches goes back (when idle), and the cache. */
void gslot_cache_free(struct gslot_cached *c);
/* Frame i of s (i < GSLOT_FRAMES), or NULL when it is an extension frame and s has
 * none (gslot_extend makes it). */
static inline struct gframe *gslot_frame(struct gslot *s, uint32_t i)
{
	return i < GSLOT_INLINE ? &s->f[i] : s->ext ? &s->ext[i - GSLOT_INLINE] : (struct gframe *)0;
}
/* Gives s an extension block (the thread's *spare first, the one it kept); 0 or -1. */
int gslot_extend(struct gslot *s, struct gframe **spare);
/* Gives s's extension block back (its goroutine has no frames past the slot's): kept
 * in the thread's *spare (struct tramp_thread, ext_spare) when that is empty. */
void gslot_shrink(struct gslot *s, struct gframe **spare);
/* This thread ends: its spare extension block goes back. */
void gslot_thread_exit(struct gframe **spare);

#endif
