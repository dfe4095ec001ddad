/* Proves that codemem hands out trampoline memory that
 *   - lies within rel32 reach (±2 GiB) of the whole range given, every byte;
 *   - never overlaps a mapping that existed before (checked against a snapshot of
 *     /proc/self/maps read with stdio, independent of codemem's reader);
 *   - is read-write and not executable until sealed, read-execute and not writable
 *     after (W^X), and runs: a generated `mov eax,42; ret` returns 42;
 *   - prefers the gap just below the range, skips a gap someone else took, and gives
 *     a request larger than a chunk a chunk of its own;
 * and that a range wider than the reach is refused with -EINVAL. */
#include "stw_test.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "codemem.h"

static void check_reach(uint64_t lo, uint64_t hi, uint64_t a, size_t len)
{
	const int64_t lim = INT32_MAX;
	int64_t d1 = (int64_t)(a + len) - (int64_t)lo, d2 = (int64_t)hi - (int64_t)a;
	CHECK(d1 < lim && d1 > -lim && d2 < lim && d2 > -lim,
	      "0x%llx+%zu is out of rel32 reach of [0x%llx, 0x%llx)", (unsigned long long)a, len,
	      (unsigned long long)lo, (unsigned long long)hi);
}

/* Many small trampolines and one large one around [lo, hi); runs one of them. */
static void exercise(const char *name, uint64_t lo, uint64_t hi, bool expect_below)
{
	char reason[256], perms[5];
	struct codemem cm;
	REQUIRE(codemem_init(&cm, lo, hi, 0, reason, sizeof reason) == 0, "%s: %s", name, reason);
	char *maps = test_slurp_maps();
	void *p[1200];
	size_t len[1200];
	for (int i = 0; i < 1200; i++) {
		len[i] = i == 600 ? 200 * 1024 : 16 + (size_t)(i % 7) * 24;
		REQUIRE(codemem_alloc(&cm, len[i], 16, &p[i], reason, sizeof reason) == 0, "%s: %s",
			name, reason);
		uint64_t a = (uint64_t)(uintptr_t)p[i];
		CHECK(a % 16 == 0, "%s: unaligned 0x%llx", name, (unsigned long long)a);
		check_reach(lo, hi, a, len[i]);
		CHECK(codemem_reaches(&cm, a, len[i]) && codemem_owns(&cm, a, len[i]), "%s: 0x%llx",
		      name, (unsigned long long)a);
		CHECK(test_free_in(maps, a, a + len[i]), "%s: 0x%llx+%zu overlaps an older mapping",
		      name, (unsigned long long)a, len[i]);
		memset(p[i], 0xcc, len[i]); /* writable before sealing */
		if (expect_below)
			CHECK(a + len[i] <= lo, "%s: 0x%llx is not below the range", name,
			      (unsigned long long)a);
	}
	for (int i = 1; i < 1200; i++)
		for (int j = i - 1; j >= 0 && j > i - 3; j--)
			CHECK((char *)p[i] >= (char *)p[j] + len[j] || (char *)p[j] >= (char *)p[i] + len[i],
			      "%s: allocations %d and %d overlap", name, i, j);
	CHECK(cm.nchunks >= 3, "%s: %zu chunks (expected several, one for the big request)", name,
	      cm.nchunks);
	static const uint8_t ret42[] = { 0xb8, 42, 0, 0, 0, 0xc3 }; /* mov eax,42; ret */
	memcpy(p[7], ret42, sizeof ret42);
	CHECK(test_perms((uint64_t)(uintptr_t)p[7], perms) && strcmp(perms, "rw-p") == 0,
	      "%s: before sealing: %s", name, perms);
	REQUIRE(codemem_seal(&cm, reason, sizeof reason) == 0, "%s: %s", name, reason);
	CHECK(test_perms((uint64_t)(uintptr_t)p[7], perms) && strcmp(perms, "r-xp") == 0,
	      "%s: after sealing: %s", name, perms);
	int (*fn)(void) = (int (*)(void))p[7];
	CHECK(fn() == 42, "%s: generated code returned %d", name, fn());
	void *after;
	REQUIRE(codemem_alloc(&cm, 32, 16, &after, reason, sizeof reason) == 0, "%s", reason);
	CHECK(test_perms((uint64_t)(uintptr_t)after, perms) && strcmp(perms, "rw-p") == 0,
	      "%s: a sealed chunk was reused (%s)", name, perms);
	printf("codemem: %s [0x%llx, 0x%llx): %zu chunks, first at 0x%llx, last at 0x%llx\n", name,
	       (unsigned long long)lo, (unsigned long long)hi, cm.nchunks,
	       (unsigned long long)cm.chunks[0].base,
	       (unsigned long long)cm.chunks[cm.nchunks - 1].base);
	free(maps);
	codemem_fini(&cm);
}

/* The gap just below the range is taken by someone else: codemem goes around it. */
static void taken_gap(void)
{
	char reason[256];
	uint64_t lo = 0x40000000, hi = 0x40100000; /* free in a PIE test binary */
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	void *block = mmap((void *)(uintptr_t)(lo - 16 * page), 16 * page, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	REQUIRE(block != MAP_FAILED, "cannot map the blocker");
	struct codemem cm;
	void *p;
	REQUIRE(codemem_init(&cm, lo, hi, 0, reason, sizeof reason) == 0, "%s", reason);
	REQUIRE(codemem_alloc(&cm, 64, 16, &p, reason, sizeof reason) == 0, "%s", reason);
	uint64_t a = (uint64_t)(uintptr_t)p;
	CHECK(a + 64 <= lo - 16 * page, "landed at 0x%llx, in or above the blocker",
	      (unsigned long long)a);
	CHECK(lo - 16 * page - (a + 64) < (1u << 20), "0x%llx is not the next gap down",
	      (unsigned long long)a);
	check_reach(lo, hi, a, 64);
	codemem_fini(&cm);
	munmap(block, 16 * page);
}

int main(void)
{
	char reason[256];
	struct codemem cm;
	CHECK(codemem_init(&cm, 0x400000, 0x400000 + (3ULL << 30), 0, reason, sizeof reason) ==
		      -EINVAL, "3 GiB range accepted");
	CHECK(codemem_init(&cm, 0x500000, 0x500000, 0, reason, sizeof reason) == -EINVAL,
	      "empty range accepted");

	/* This binary's own text (PIE, high), and the libc text: whatever surrounds them. */
	char *maps = test_slurp_maps();
	unsigned long long tlo = 0, thi = 0, llo = 0, lhi = 0;
	for (char *line = strtok(maps, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long a, b;
		char perms[5];
		if (sscanf(line, "%llx-%llx %4s", &a, &b, perms) == 3 && perms[2] == 'x') {
			if (a <= (uintptr_t)main && (uintptr_t)main < b)
				tlo = a, thi = b;
			if (a <= (uintptr_t)memcpy && (uintptr_t)memcpy < b)
				llo = a, lhi = b;
		}
	}
	free(maps);
	REQUIRE(tlo && llo, "cannot find the text mappings");
	exercise("own text", tlo, thi, true);
	exercise("libc text", llo, lhi, false);
	/* A non-PIE Go binary's text: below it only [mmap_min_addr, 0x400000). */
	exercise("non-PIE layout", 0x401000, 0x401000 + (64 << 20), true);
	taken_gap();
	return test_exit("codemem_test");
}
