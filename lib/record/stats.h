/* stats: the live stats file — layout shared by its writer (the recorder in the host
 * program, through statsfile.c) and its readers (the final report, `golat report`,
 * `golat top`).
 *
 * One file per process, mapped shared, so a reader sees the counters live and nothing
 * recorded is lost when the program is killed: the kernel keeps the pages. Its regions
 * are sized for a million functions and millions of pages; the file is as long as the
 * pages claimed so far (file_size is the longest it may become, what a reader maps),
 * and sparse: no byte of it is written before the space under it was reserved with
 * fallocate: on a full tmpfs a write to a hole of a shared mapping is SIGBUS, and the
 * host would die of it. What cannot be reserved is not recorded (counted in `lost`).
 *
 *   [0, 4096)              struct stats_header
 *   [fn_off, ...)          struct stats_fn[fn_cap]   what each function id is
 *   [name_off, ...)        name_cap bytes            the functions' names, NUL-ended
 *   [dir_off, ...)         struct stats_page[page_cap]  what each page holds
 *   [page_off, ...)        page_cap pages of 4096 bytes, claimed in order (npages)
 *
 * A page is one of:
 *  - CELLS: the cells of one thread for the 16 function ids [16k, 16k + 16): one
 *    thread writes it, with plain stores (no atomic read-modify-write on the hot path;
 *    a goroutine that moves between threads updates the cells of the thread it is on).
 *    A thread gets such a page the first time it records one of those functions, so
 *    memory follows the (thread, function) pairs that really occur.
 *  - BLOCKS: 16 blocks of 256 bytes, for the functions' shared histograms, written
 *    with atomic adds.
 *  - CALLERS: part of one thread's caller table (struct stats_caller, 128 a page): per
 *    (function, call site) pair, the calls, their time and their self time. A table is
 *    2^k + STATS_CALLER_PROBES entries on consecutive pages, open-addressed; one thread
 *    writes it with plain stores, as its cells. When it fills, the thread starts a
 *    bigger one and the old one keeps its counts: readers add every entry of every
 *    CALLERS page that has the same key.
 *  - SLOW: 16 records of the slowest calls (struct stats_slow); each function that had
 *    a call gets `slowest` consecutive ones in one page, written under a lock by the
 *    thread whose call beat the slowest so far, behind a sequence count.
 *
 * Histograms are log-linear in cycles: values below 32 exactly, then 32 buckets per
 * power of two, so a percentile taken at a bucket's midpoint is within 1/64 (1.6%) of
 * the truth. Bucket b lies in octave b / 32. A cell keeps a window of STATS_WIN octaves
 * in 16-bit counters, placed where the thread's first timed call of the function fell;
 * a duration outside the window, and the 65,536 of a counter that wraps, go to the
 * function's shared histogram: an octave table (one block of 40 block ids) whose
 * octaves are blocks of 32 64-bit counters, made on first use. Readers add the windows
 * of every cell and the shared histogram.
 *
 * Readers sum the cells; 8-byte aligned loads are never torn, so a live read is a
 * consistent-enough snapshot (a call may be in `entries` and not yet in `calls`).
 *
 * Times are TSC cycles (ns of CLOCK_MONOTONIC with STATS_F_MONOTONIC, on a CPU whose
 * TSC is not invariant); a reader converts with the header's two (tsc, monotonic ns)
 * pairs: the one taken at start and the newest (refreshed every second while the
 * program runs, and at exit). */
#ifndef GOLAT_STATS_H
#define GOLAT_STATS_H

#include <stdint.h>
#include <time.h>

#include "arch.h"

#define STATS_MAGIC "GOLATST2" /* kept: the version field tells the layouts apart */
#define STATS_VERSION 3
#define STATS_HEADER_SIZE 4096
#define STATS_PAGE 4096
#define STATS_NAME_MAX 200 /* bytes of a name kept, NUL included; longer ones end in "..." */

#define STATS_SUB_BITS 5
#define STATS_SUB (1u << STATS_SUB_BITS) /* buckets per power of two */
#define STATS_MAX_EXP 44                  /* values >= 2^44 cycles share the last bucket */
#define STATS_BUCKETS ((STATS_MAX_EXP - STATS_SUB_BITS + 1) * STATS_SUB)
#define STATS_OCTAVES (STATS_BUCKETS / STATS_SUB) /* 40 */
#define STATS_WIN 3 /* octaves a cell counts itself: a range of 8x */

#define STATS_CELLS_PER_PAGE 16
#define STATS_BLOCK 256
#define STATS_BLOCKS_PER_PAGE (STATS_PAGE / STATS_BLOCK)

/* header.flags */
#define STATS_F_EXITED 0x1    /* the program reached Go's exit path */
#define STATS_F_REPORTED 0x2  /* the final report was written */
#define STATS_F_MONOTONIC 0x8 /* "cycles" are CLOCK_MONOTONIC ns: the TSC was not usable */
#define STATS_F_FULL 0x10     /* space ran out: some calls went unrecorded (lost) */

struct stats_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint64_t file_size;    /* the whole layout: the file grows up to it as pages are claimed */
	uint32_t pid;
	uint32_t flags;        /* STATS_F_* */
	uint32_t fn_cap;       /* ids the function table has room for */
	uint32_t nfns;         /* ids in use: [0, nfns); published with a release store */
	uint32_t page_cap;     /* pages the page region has room for */
	uint32_t npages;       /* pages claimed: [0, npages); published with a release store */
	uint64_t fn_off, name_off, name_cap, dir_off, page_off;
	uint64_t name_used;    /* bytes of the name region in use */
	uint64_t tsc_start, mono_start_ns, real_start_ns; /* at load */
	uint64_t tsc_last, mono_last_ns;                  /* newest pair: seqlock-written */
	uint32_t pair_seq;     /* odd while tsc_last/mono_last_ns are being written */
	uint32_t sample;       /* GOLAT_SAMPLE: 1 in sample calls is timed */
	uint64_t exit_code;    /* valid with STATS_F_EXITED */
	uint64_t lost;         /* calls let through unrecorded (no g, nested, no space) */
	char exe[256];
	char go_version[32];
	uint64_t start_time;   /* of the writer process (proc_start_time): pid reuse shows */
	uint32_t nthreads;     /* threads that recorded */
	uint32_t _pad;
	uint64_t unbinned;     /* timed durations that no histogram could take (no space) */
	uint64_t text_base;    /* link-time runtime.text: caller sites are offsets from it */
	uint32_t slowest;      /* GOLAT_SLOWEST: records of the slowest calls per function */
	uint32_t _pad2;
	uint64_t traps;        /* returns golat reached through an int3: a signal each */
	/* Calls the recorder's fast path (recfast.S) gave to its C: a thread's first,
	 * a goroutine's first on a thread, frames past the inline ones, a panic's
	 * leftovers, a new caller site, a slowest call, a duration outside the cell's
	 * window. Added 64 at a time per thread (recorder.c). */
	uint64_t slowpath;
};
/* tests/fastpath reads slowpath at its offset, from Go. */
_Static_assert(__builtin_offsetof(struct stats_header, slowpath) == 496, "stats_header.slowpath");

struct stats_fn {
	uint64_t entry;    /* link-time address (what `golat list` shows) */
	uint64_t name;     /* offset of its name in the name region */
	uint32_t name_len; /* bytes, NUL excluded */
	uint32_t hooked;   /* 1 while hooked */
	uint32_t hist;     /* 1 + block id of its octave table, 0 = none yet */
	uint32_t slow;     /* 1 + index of its first slowest-call record, 0 = none yet */
	uint64_t _spare[4];
};

enum stats_page_kind {
	STATS_PG_NONE = 0,
	STATS_PG_CELLS = 1,
	STATS_PG_BLOCKS = 2,
	STATS_PG_CALLERS = 3,
	STATS_PG_SLOW = 4,
};

/* What page i holds: written once, before the page is published through npages. */
struct stats_page {
	uint32_t owner; /* CELLS: the thread's tid */
	uint32_t what;  /* kind << 24 | index (CELLS: the 16-function group k) */
};

struct stats_cell {
	uint64_t entries;   /* calls entered (a morestack re-entry is the same call) */
	uint64_t calls;     /* calls whose entry and return were both seen */
	uint64_t panicked;  /* entered, then unwound by a panic or Goexit, or lost with their goroutine */
	uint64_t timed;     /* calls timed (1 in sample) */
	uint64_t sum;       /* cycles of the timed calls */
	uint64_t min, max;  /* cycles; min 0 = none yet */
	uint32_t seq;       /* entries to let by untimed before the next timed one (GOLAT_SAMPLE) */
	uint8_t base;       /* 1 + the window's first octave; 0 = no window yet */
	uint8_t _pad;
	uint16_t spills;    /* durations that fell outside the window since it was placed */
	uint16_t win[STATS_WIN * STATS_SUB];
};

/* One (function, call site) pair of a thread's caller table. The key is written last,
 * when the entry is made; the counters are the owning thread's plain stores. */
struct stats_caller {
	uint64_t key;  /* (uint64_t)site << 32 | (1 + function id); 0 = empty */
	uint64_t calls; /* calls from the site that completed */
	uint64_t sum;   /* cycles of those of them timed */
	uint64_t self;  /* the same, less the time their goroutine spent in hooked calls they made */
};
#define STATS_CALLERS_PER_PAGE (STATS_PAGE / sizeof(struct stats_caller))
#define STATS_CALLER_PROBES 8   /* entries past its hash a key may sit at */
#define STATS_CALLER_NOSITE 0xffffffffu /* a return address outside the Go text */

/* One of the slowest calls of a function. seq is odd while it is being written. */
#define STATS_ARGS 9 /* RAX RBX RCX RDI RSI R8 R9 R10 R11: ABIInternal's integer registers */
#define STATS_SLOW_TEXT 72
struct stats_slow {
	uint32_t seq;
	uint32_t site;    /* the caller's return address, as a caller key's site */
	uint64_t cycles;  /* its duration; 0 = no call yet */
	uint64_t tsc;     /* at its entry (a time on the header's clock) */
	uint64_t goid;    /* its goroutine */
	uint64_t args[STATS_ARGS];    /* the registers at its entry */
	uint64_t results[STATS_ARGS]; /* and at its return */
	uint8_t text_reg; /* 1 + the argument register whose string's bytes are in text, 0 = none */
	uint8_t text_len;
	uint8_t _pad[6];
	char text[STATS_SLOW_TEXT];
};
#define STATS_SLOW_PER_PAGE (STATS_PAGE / sizeof(struct stats_slow))
#define STATS_SLOWEST_MAX STATS_SLOW_PER_PAGE /* a function's records share one page */

_Static_assert(sizeof(struct stats_cell) * STATS_CELLS_PER_PAGE == STATS_PAGE, "cell size");
_Static_assert(sizeof(struct stats_caller) == 32 && sizeof(struct stats_slow) == 256, "record sizes");
_Static_assert(sizeof(struct stats_fn) == 64, "fn size");
_Static_assert(STATS_OCTAVES * 4 <= STATS_BLOCK && STATS_SUB * 8 == STATS_BLOCK, "block size");

/* What the recorder counts time in: the ISA's counter (arch_clock: the TSC on x86-64),
 * or CLOCK_MONOTONIC in ns. */
static inline uint64_t stats_clock(int monotonic)
{
	if (!monotonic)
		return arch_clock();
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

/* The first octave of a window that should hold octave o: one below it, so that the
 * window spans half to four times the first duration seen. */
static inline uint32_t stats_win_first(uint32_t o)
{
	uint32_t f = o ? o - 1 : 0;
	return f + STATS_WIN > STATS_OCTAVES ? STATS_OCTAVES - STATS_WIN : f;
}

#endif
