/* stats: the live stats file — layout shared by its writer (the recorder in the host
 * program) and its readers (the final report, `golat report`, `golat top`).
 *
 * One file per process, mapped shared, so a reader sees the counters live and nothing
 * recorded is lost when the program is killed: the kernel keeps the pages. Layout:
 *
 *   [0, 4096)            struct stats_header
 *   [fn_off, ...)        struct stats_fn[max_fns]      what each function id is
 *   [shard_off, ...)     max_shards shards of shard_size bytes: struct stats_shard,
 *                        then struct stats_cell[max_fns]
 *
 * A shard belongs to one thread, which is its only writer: plain stores, no atomic
 * read-modify-write on the hot path (a goroutine that moves between threads updates
 * the shard of the thread it is on). Threads beyond max_shards share the last shard
 * with atomic adds. Readers sum the shards; 8-byte aligned loads are never torn, so a
 * live read is a consistent-enough snapshot (a call may be in `entries` and not yet in
 * `calls`). The file is sparse: a page exists once a thread touched it.
 *
 * Times are TSC cycles (ns of CLOCK_MONOTONIC with STATS_F_MONOTONIC, on a CPU whose
 * TSC is not invariant); a reader converts with the header's two (tsc, monotonic ns)
 * pairs: the one taken at start and the newest (refreshed every second while the
 * program runs, and at exit). Histograms are log-linear in cycles: values below 32
 * exactly, then 32 buckets per power of two, so a percentile taken at a bucket's
 * midpoint is within 1/64 (1.6%) of the truth. */
#ifndef GOLAT_STATS_H
#define GOLAT_STATS_H

#include <stdint.h>
#include <time.h>

#define STATS_MAGIC "GOLATST1"
#define STATS_VERSION 1
#define STATS_HEADER_SIZE 4096
#define STATS_NAME_MAX 200 /* bytes of a name kept, NUL included; longer ones end in "..." */

#define STATS_SUB_BITS 5
#define STATS_SUB (1u << STATS_SUB_BITS) /* buckets per power of two */
#define STATS_MAX_EXP 44                  /* values >= 2^44 cycles share the last bucket */
#define STATS_BUCKETS ((STATS_MAX_EXP - STATS_SUB_BITS + 1) * STATS_SUB)

/* header.flags */
#define STATS_F_EXITED 0x1   /* the program reached Go's exit path */
#define STATS_F_REPORTED 0x2 /* the final report was written */
#define STATS_F_MONOTONIC 0x8 /* "cycles" are CLOCK_MONOTONIC ns: the TSC was not usable */

struct stats_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint64_t file_size;
	uint32_t pid;
	uint32_t flags;          /* STATS_F_* */
	uint32_t max_fns, max_shards;
	uint32_t nfns;           /* ids in use: [0, nfns); published with a release store */
	uint32_t nshards;        /* shards claimed (may exceed max_shards: the rest share the last) */
	uint64_t fn_off, shard_off, shard_size;
	uint64_t tsc_start, mono_start_ns, real_start_ns; /* at load */
	uint64_t tsc_last, mono_last_ns;                  /* newest pair: seqlock-written */
	uint32_t pair_seq;       /* odd while tsc_last/mono_last_ns are being written */
	uint32_t sample;         /* GOLAT_SAMPLE: 1 in sample calls is timed */
	uint64_t exit_code;      /* valid with STATS_F_EXITED */
	uint64_t lost;           /* calls let through unrecorded (no stack, no g slot, too deep) */
	char exe[256];
	char go_version[32];
	uint64_t start_time; /* of the writer process (proc_start_time): pid reuse shows */
};

struct stats_fn {
	char name[STATS_NAME_MAX];
	uint64_t entry;   /* link-time address (what `golat list` shows) */
	uint32_t hooked;  /* 1 while hooked */
	uint32_t _pad;
	uint64_t _spare[5];
};

struct stats_shard {
	uint32_t tid;
	uint32_t _pad;
	uint64_t _spare[7];
	/* struct stats_cell cells[max_fns] follow */
};

struct stats_cell {
	uint64_t entries;   /* calls entered (a morestack re-entry is the same call) */
	uint64_t calls;     /* calls whose entry and return were both seen */
	uint64_t abandoned; /* entered, then unwound by a panic or lost with their goroutine */
	uint64_t timed;     /* calls timed (1 in sample) */
	uint64_t sum;       /* cycles of the timed calls */
	uint64_t min, max;  /* cycles; min 0 = none yet */
	uint64_t seq;       /* entries seen by this shard, for sampling */
	uint64_t hist[STATS_BUCKETS];
};

/* What the recorder counts time in: the TSC, or CLOCK_MONOTONIC in ns. */
static inline uint64_t stats_clock(int monotonic)
{
	if (!monotonic)
		return __builtin_ia32_rdtsc();
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* the vDSO: no vector registers, no lock */
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The bucket of a duration of c cycles. */
static inline uint32_t stats_bucket(uint64_t c)
{
	if (c < STATS_SUB)
		return (uint32_t)c;
	uint32_t e = 63u - (uint32_t)__builtin_clzll(c); /* 2^e <= c */
	if (e >= STATS_MAX_EXP)
		return STATS_BUCKETS - 1;
	uint32_t sub = (uint32_t)(c >> (e - STATS_SUB_BITS)) & (STATS_SUB - 1);
	return (e - STATS_SUB_BITS + 1) * STATS_SUB + sub;
}

/* The smallest value of bucket b, and the first value past it. */
static inline uint64_t stats_bucket_lo(uint32_t b)
{
	if (b < STATS_SUB)
		return b;
	uint32_t e = b / STATS_SUB - 1 + STATS_SUB_BITS, sub = b % STATS_SUB;
	return (uint64_t)(STATS_SUB + sub) << (e - STATS_SUB_BITS);
}
static inline uint64_t stats_bucket_hi(uint32_t b)
{
	if (b < STATS_SUB)
		return b + 1;
	uint32_t e = b / STATS_SUB - 1 + STATS_SUB_BITS;
	return stats_bucket_lo(b) + (1ull << (e - STATS_SUB_BITS));
}

static inline uint64_t stats_shard_size(uint32_t max_fns)
{
	uint64_t s = sizeof(struct stats_shard) + (uint64_t)max_fns * sizeof(struct stats_cell);
	return (s + 4095) & ~4095ull;
}

#endif
