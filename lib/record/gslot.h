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
 * threads, so the frames need no lock. A thread caches the slot of the goroutine it
 * ran last and keeps it after the goroutine's calls returned (a goroutine calling a
 * hooked function in a loop claims nothing per call). Another thread that runs g
 * takes the slot over with one compare-and-swap of the key; the caching thread gives
 * an idle slot back (key 0) with one too, when it moves on to another goroutine. Both
 * are CAS on the key, so exactly one wins, and a cached slot is used only while its
 * key still names this thread.
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

/* Maps the first segment. 0 or -ENOMEM. */
int gslot_init(void);
/* The slot of g, taken over for holder if another thread holds it; with create, a
 * new one when g has none (goid 0: the caller starts it afresh). 0, or -1 when g
 * has none (create 0) or none could be had. */
int gslot_get(uint64_t g, uint32_t holder, int create, struct gref *out);
/* Gives r back if holder still holds it and it has no frames. */
void gslot_release(const struct gref *r, uint32_t holder);
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
