/* The goroutine table and the threads' caches of it (lib/record/gslot.c), driven by hand
 * with made-up g addresses and thread indices, no Go needed. A cache entry a thread keeps
 * may outlive the key it was made for: another thread takes the slot over and gives it
 * back, and the key's place in the table is claimed again, by the first thread, for
 * another goroutine that hashes there. Giving the stale entry back then must change
 * nothing: it once took the newer goroutine's key and put into the free pool a slot that
 * another goroutine was using (or that the pool held already), and two goroutines
 * recorded into one slot (scale_goroutines_go1.24: a fault in golat's code). Proves:
 *   - a stale entry given back (its set evicted) leaves the key now in its place alone;
 *   - live goroutines never share a slot, and the pool never hands one out twice;
 *   - a thread's end (gslot_cache_free) gives back its idle slots, and only them. */
#include <stdint.h>
#include <stdio.h>

#include "gslot.h"

static int failures;

#define CHECK(cond, ...)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			printf("FAIL: " __VA_ARGS__);                                     \
			printf("\n");                                                     \
			failures++;                                                       \
		}                                                                         \
	} while (0)

/* gslot.c's hash of g to the first of its 16 keys in the first segment (64 Ki keys):
 * goroutines with the same group compete for the same keys. */
static uint64_t group(uint64_t g)
{
	return (((g >> 3) * 0x9e3779b97f4a7c15ull) >> (64 - 16)) & ~15ull;
}

static struct gslot_cached *set_of(struct gslot_cached *c, uint64_t g)
{
	return gslot_cache_set(c, g);
}

/* The next g after *from (made-up addresses, 8-aligned, like runtime.g's) for which
 * want(g) holds. */
static uint64_t next_g(uint64_t *from, int (*want)(uint64_t, const void *), const void *arg)
{
	for (uint64_t g = *from + 0x1a8;; g += 0x1a8)
		if (want(g, arg)) {
			*from = g;
			return g;
		}
}

struct rel {
	uint64_t g;
	struct gslot_cached *c;
};

/* Same key group as a->g, another cache set. */
static int same_group_other_set(uint64_t g, const void *arg)
{
	const struct rel *a = arg;
	return group(g) == group(a->g) && set_of(a->c, g) != set_of(a->c, a->g);
}

/* Same cache set as a->g, another key group. */
static int same_set_other_group(uint64_t g, const void *arg)
{
	const struct rel *a = arg;
	return group(g) != group(a->g) && set_of(a->c, g) == set_of(a->c, a->g);
}

static int any(uint64_t g, const void *arg)
{
	(void)g;
	(void)arg;
	return 1;
}

int main(void)
{
	if (gslot_init() != 0) {
		printf("FAIL: gslot_init\n");
		return 1;
	}
	enum { A = 1, B = 2, C = 3 }; /* thread indices (holders) */
	struct gslot_cached *ca = gslot_cache_new(), *cb = gslot_cache_new(), *cc = gslot_cache_new();
	if (!ca || !cb || !cc) {
		printf("FAIL: gslot_cache_new\n");
		return 1;
	}
	uint64_t at = 0xc000100000;
	uint64_t g = next_g(&at, any, 0), h = next_g(&at, any, 0);
	struct rel rg = { g, ca };
	uint64_t g1 = next_g(&at, same_group_other_set, &rg);
	uint64_t g2 = next_g(&at, same_set_other_group, &rg), g3 = next_g(&at, same_set_other_group, &rg);

	/* g runs on thread A (its first hooked call there: a slot), then on B, which takes
	 * the slot over and, at its end, gives it back; h's slot, made on C, goes back
	 * after g's, so that the pool hands h's out next and keeps g's. A's entry of g
	 * stays: A has not run g since. */
	struct gslot *sg = gslot_cache_fill(ca, g, A, 1);
	CHECK(sg && gslot_cache_fill(cb, g, B, 0) == sg, "B takes g's slot over");
	struct gslot *sh = gslot_cache_fill(cc, h, C, 1);
	CHECK(sh && sh != sg, "h has a slot of its own");
	gslot_cache_free(cb);
	gslot_cache_free(cc);
	struct gslot_cached *eg = set_of(ca, g);
	CHECK(eg->g == g && *eg->keyp == 0, "A's entry of g is stale: its key was given back");

	/* g1 hashes where g did: A claims the same key for it, with h's slot. */
	struct gslot *s1 = gslot_cache_fill(ca, g1, A, 1);
	struct gslot_cached *e1 = set_of(ca, g1);
	CHECK(s1 == sh, "g1 gets the slot given back last (h's)");
	CHECK(e1->g == g1 && e1->keyp == eg->keyp, "g1's key is where g's was");

	/* g2 and g3 fall in g's cache set: g3 evicts g's stale entry, which gives it back.
	 * g1's key must stay, and g2 and g3 (g2 takes g's old slot from the pool) must not
	 * share one. */
	struct gslot *s2 = gslot_cache_fill(ca, g2, A, 1);
	struct gslot *s3 = gslot_cache_fill(ca, g3, A, 1);
	CHECK(s2 && s3 && s2 != s3, "g2 and g3 share a slot (%p): a slot went to the pool twice",
	      (void *)s2);
	CHECK(*e1->keyp == e1->key, "g1's key was taken by the stale entry of g given back");
	CHECK(gslot_cache_fill(ca, g1, A, 0) == s1, "g1 still finds its slot");
	CHECK(s1 != s2 && s1 != s3, "g1's slot was given to another goroutine");

	/* Frames in flight keep a slot through the thread's end; idle ones go back. */
	s2->n = 1;
	gslot_cache_free(ca);
	struct gslot_cached *cd = gslot_cache_new();
	CHECK(cd && gslot_cache_fill(cd, g2, B, 0) == s2, "g2's busy slot outlived A's cache");
	struct gslot *fresh[3];
	uint64_t gf = at + 0x100000;
	for (int i = 0; i < 3; i++) {
		fresh[i] = gslot_cache_fill(cd, gf + 0x1a8 * (uint64_t)i, B, 1);
		CHECK(fresh[i] && fresh[i] != s2, "a new goroutine got g2's busy slot");
		for (int j = 0; j < i; j++)
			CHECK(fresh[i] != fresh[j], "two new goroutines got one slot");
	}
	if (failures)
		printf("%d check(s) failed\n", failures);
	else
		printf("ok: a stale cache entry given back leaves the table and the pool alone\n");
	return failures != 0;
}
