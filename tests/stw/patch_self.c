/* Proves that patch writes live code safely: a C function of this very binary,
 * target() (return 1), is patched to return 2 — either with a `jmp rel32` to
 * target2() over its first instruction, or with `mov eax,2; ret` — and unpatched,
 * thousands of times, while two threads call it in a loop:
 *   - no crash, and every value the callers see is 1 or 2 (both are seen);
 *   - saved bytes are the original ones, and unpatching restores them;
 *   - the page's protection afterwards is exactly what it was (/proc/self/maps), and
 *     patching windows on two pages at once leaves no extra mappings behind;
 *   - patching with no other thread (as in an LD_PRELOAD constructor) works;
 *   - never under a thread: a thread spinning inside a window, or inside an avoided
 *     range, makes the patch fail with -EBUSY and a reason, and nothing is written;
 *   - errors: -EFAULT (unmapped), -EINVAL (overlap, empty), -ESTALE (revert of bytes
 *     that changed since).
 * Built with -fcf-protection=none so that target() starts with `mov eax,1` (no endbr64).
 * Usage: patch_self [cycles] */
#include "stw_test.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#include "patch.h"
#include "stw.h"

/* noipa: no inlining, and no identical-code folding of target with far_target (GCC's
 * -fipa-icf would make one body serve both names). optimize: the same two instructions
 * in the Debug and ASan builds (-O0 -fno-omit-frame-pointer) as in the others. */
#define PATCHABLE(align) __attribute__((noipa, aligned(align), optimize("O2", "omit-frame-pointer")))
PATCHABLE(64) int target(void) { return 1; }
PATCHABLE(64) int target2(void) { return 2; }
PATCHABLE(4096) int far_target(void) { return 1; } /* its own page */

/* A loop a thread cannot leave until spin_stop is set: pc always in [spin, spin_end),
 * 16 bytes in all, so that one 16-byte write covers every pc it can have. Each turn
 * advances spin_turns: a turn counted proves the thread is inside the loop (a sleep
 * after it said it was about to enter proved nothing on a loaded machine). */
extern char spin[], spin_end[];
volatile char spin_stop;
volatile uint32_t spin_turns;
__asm__(".text\n"
	".p2align 6\n"
	"spin:\n"
	"1: incl spin_turns(%rip)\n"
	"   cmpb $0, spin_stop(%rip)\n"
	"   je 1b\n"
	"   ret\n"
	"spin_end:\n");

static int (*volatile call_target)(void) = target;
static _Atomic bool quit;
static _Atomic uint64_t seen[3], bad;

static void *caller(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&quit, memory_order_relaxed)) {
		int v = call_target();
		if (v == 1 || v == 2)
			atomic_fetch_add_explicit(&seen[v], 1, memory_order_relaxed);
		else
			atomic_fetch_add(&bad, 1);
	}
	return NULL;
}

static void *spinner(void *arg)
{
	(void)arg;
	((void (*)(void))spin)();
	return NULL;
}

static const uint8_t original[6] = { 0xb8, 0x01, 0, 0, 0, 0xc3 }; /* mov eax,1; ret */

/* The write of one cycle: a jmp to target2, or mov eax,2; ret. */
static struct patch_write make_write(int kind)
{
	struct patch_write w = { .addr = (uint64_t)(uintptr_t)target };
	if (kind == 0) {
		int32_t rel = (int32_t)((int64_t)(uintptr_t)target2 - (int64_t)(w.addr + 5));
		w.len = 5;
		w.bytes[0] = 0xe9;
		memcpy(w.bytes + 1, &rel, 4);
	} else {
		static const uint8_t mov2[6] = { 0xb8, 0x02, 0, 0, 0, 0xc3 };
		w.len = 6;
		memcpy(w.bytes, mov2, 6);
	}
	return w;
}

static void one_cycle(int i, uint64_t *lat, uint64_t *stopped, unsigned retries[2])
{
	char reason[256];
	struct patch_stats st;
	/* Every other pair of cycles lets a caller sit at the first byte (both writes
	 * keep the instruction boundary there). */
	struct patch_opts o = { .stats = &st, .timeout_ms = 2000, .start_ok = i & 2 };
	struct patch_write w = make_write(i & 1);
	uint64_t t0 = test_now_ns();
	int err = patch_apply(&w, 1, &o, reason, sizeof reason);
	lat[i] = test_now_ns() - t0;
	stopped[i] = st.stopped_ns;
	REQUIRE(err == 0, "cycle %d: patch_apply: %d %s", i, err, reason);
	retries[!!o.start_ok] += st.attempts - 1;
	CHECK(memcmp(w.saved, original, w.len) == 0, "cycle %d: saved bytes differ", i);
	CHECK(target() == 2, "cycle %d: patched target() returns %d", i, target());
	err = patch_revert(&w, 1, &o, reason, sizeof reason);
	REQUIRE(err == 0, "cycle %d: patch_revert: %d %s", i, err, reason);
	retries[!!o.start_ok] += st.attempts - 1;
	CHECK(memcmp((void *)target, original, 6) == 0, "cycle %d: not restored", i);
}

static int count_maps_lines(void)
{
	char *maps = test_slurp_maps();
	int n = 0;
	for (char *c = maps; *c; c++)
		n += *c == '\n';
	free(maps);
	return n;
}

/* Two windows a page or more apart, in one batch: the protection goes back, and the
 * number of mappings does not grow with each patch. */
static void test_two_pages(void)
{
	char reason[256], perms[5];
	uint64_t pa = (uint64_t)(uintptr_t)target, pb = (uint64_t)(uintptr_t)far_target;
	CHECK(pa / 4096 != pb / 4096, "target and far_target share a page");
	int before = -1;
	for (int i = 0; i < 200; i++) {
		struct patch_write w[2] = { make_write(1), make_write(1) };
		w[1].addr = pb;
		REQUIRE(patch_apply(w, 2, NULL, reason, sizeof reason) == 0, "two pages: %s", reason);
		CHECK(target() == 2 && far_target() == 2, "two pages not patched");
		REQUIRE(patch_revert(w, 2, NULL, reason, sizeof reason) == 0, "two pages: %s", reason);
		if (i == 0)
			before = count_maps_lines(); /* the first patch may split the text once */
	}
	int after = count_maps_lines();
	CHECK(after <= before, "mappings grew from %d to %d", before, after);
	CHECK(test_perms(pb, perms) && strcmp(perms, "r-xp") == 0, "far page is %s", perms);
	CHECK(far_target() == 1 && target() == 1, "two pages not restored");
}

static void test_errors(void)
{
	char reason[256];
	struct patch_write w = make_write(0);
	w.addr = 0x1000; /* below mmap_min_addr: never mapped */
	CHECK(patch_apply(&w, 1, NULL, reason, sizeof reason) == -EFAULT, "unmapped: %s", reason);
	struct patch_write two[2] = { make_write(0), make_write(1) };
	CHECK(patch_apply(two, 2, NULL, reason, sizeof reason) == -EINVAL, "overlap: %s", reason);
	w = make_write(0);
	w.len = 0;
	CHECK(patch_apply(&w, 1, NULL, reason, sizeof reason) == -EINVAL, "empty: %s", reason);

	struct patch_write a = make_write(0), b = make_write(1);
	REQUIRE(patch_apply(&a, 1, NULL, reason, sizeof reason) == 0, "%s", reason);
	REQUIRE(patch_apply(&b, 1, NULL, reason, sizeof reason) == 0, "%s", reason);
	CHECK(patch_revert(&a, 1, NULL, reason, sizeof reason) == -ESTALE, "stale: %s", reason);
	CHECK(target() == 2, "a failed revert wrote");
	REQUIRE(patch_revert(&b, 1, NULL, reason, sizeof reason) == 0, "%s", reason);
	REQUIRE(patch_revert(&a, 1, NULL, reason, sizeof reason) == 0, "%s", reason);
	CHECK(memcmp((void *)target, original, 6) == 0, "not restored after the stale test");
}

/* Never under a thread: the spinner's pc is always inside [spin, spin_end). */
static void test_under_thread(void)
{
	char reason[256];
	pthread_t th;
	pthread_create(&th, NULL, spinner, NULL);
	REQUIRE(spin_end - spin == 16, "the spin loop is %d bytes, not 16", (int)(spin_end - spin));
	for (int i = 0; spin_turns == 0; i++) {
		REQUIRE(i < 200000, "the spinner thread did not turn once in 20 s");
		usleep(100);
	}
	struct patch_opts o = { .attempts = 5, .backoff_us = 100 };
	struct patch_write w = { .addr = (uint64_t)(uintptr_t)spin, .len = 16 };
	memset(w.bytes, 0x90, sizeof w.bytes); /* nops: would break the loop */
	uint8_t before[16];
	memcpy(before, spin, 16);
	int err = patch_apply(&w, 1, &o, reason, sizeof reason);
	CHECK(err == -EBUSY && strstr(reason, "inside the window"), "under a thread: %d %s", err,
	      reason);
	CHECK(memcmp(before, spin, 16) == 0, "wrote under a thread");
	printf("patch_self: refused as expected: %s\n", reason);

	struct patch_range avoid = { (uint64_t)(uintptr_t)spin, (uint64_t)(uintptr_t)spin_end };
	o.avoid = &avoid;
	o.navoid = 1;
	w = make_write(0);
	err = patch_apply(&w, 1, &o, reason, sizeof reason);
	CHECK(err == -EBUSY && strstr(reason, "must not run"), "avoided range: %d %s", err, reason);
	CHECK(memcmp((void *)target, original, 6) == 0, "wrote despite the avoided range");
	spin_stop = 1;
	pthread_join(th, NULL);
}

int main(int argc, char **argv)
{
	int cycles = argc > 1 ? atoi(argv[1]) : 5000;
	char reason[256], perms0[5], perms1[5];
	REQUIRE(memcmp((void *)target, original, 6) == 0,
		"target() does not start with mov eax,1; ret (built without -O2 "
		"-fcf-protection=none?): %02x %02x %02x %02x", ((uint8_t *)target)[0],
		((uint8_t *)target)[1], ((uint8_t *)target)[2], ((uint8_t *)target)[3]);
	REQUIRE(test_perms((uint64_t)(uintptr_t)target, perms0), "target not in maps");

	/* Alone, as in a constructor: stw stops nothing. */
	struct patch_stats st;
	struct patch_opts o = { .stats = &st };
	struct patch_write w = make_write(0);
	REQUIRE(patch_apply(&w, 1, &o, reason, sizeof reason) == 0, "alone: %s", reason);
	CHECK(target() == 2 && st.threads == 0, "alone: target %d threads %zu", target(), st.threads);
	REQUIRE(patch_revert(&w, 1, &o, reason, sizeof reason) == 0, "alone: %s", reason);

	test_errors();
	test_two_pages();
	test_under_thread();

	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, caller, NULL);
	uint64_t *lat = calloc((size_t)cycles, sizeof *lat), *stopped = calloc((size_t)cycles, 8);
	unsigned retries[2] = { 0, 0 };
	uint64_t t0 = test_now_ns();
	for (int i = 0; i < cycles; i++)
		one_cycle(i, lat, stopped, retries);
	double secs = (double)(test_now_ns() - t0) / 1e9;
	atomic_store(&quit, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);

	REQUIRE(test_perms((uint64_t)(uintptr_t)target, perms1), "target not in maps");
	CHECK(strcmp(perms0, perms1) == 0, "protection %s became %s", perms0, perms1);
	CHECK(atomic_load(&bad) == 0, "%llu calls returned neither 1 nor 2",
	      (unsigned long long)atomic_load(&bad));
	CHECK(atomic_load(&seen[1]) > 0 && atomic_load(&seen[2]) > 0, "saw 1: %llu, 2: %llu",
	      (unsigned long long)seen[1], (unsigned long long)seen[2]);
	printf("patch_self: %d patch+unpatch cycles in %.2f s with 2 callers (%llu calls saw 1, "
	       "%llu saw 2, 0 other), retries (caller inside the window) %u, %u with start_ok; "
	       "patch_apply median "
	       "%.1f us p99 %.1f us; world stopped median %.1f us p99 %.1f us; page %s before "
	       "and after\n", cycles, secs, (unsigned long long)seen[1], (unsigned long long)seen[2],
	       retries[0], retries[1], test_percentile(lat, (size_t)cycles, 50) / 1e3,
	       test_percentile(lat, (size_t)cycles, 99) / 1e3,
	       test_percentile(stopped, (size_t)cycles, 50) / 1e3,
	       test_percentile(stopped, (size_t)cycles, 99) / 1e3, perms1);
	free(lat);
	free(stopped);
	return test_exit("patch_self");
}
