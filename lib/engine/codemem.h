/* codemem: memory for trampolines, within rel32 reach (±2 GiB) of the code that jumps
 * to them, found in the gaps of /proc/self/maps (read by proc.h's proc_maps).
 *
 * A `jmp rel32` written over a function's entry or return reaches ±2 GiB from the
 * site; the trampoline jumps back and its relocated `[rip+disp32]` operands point into
 * the binary's data. So every byte handed out here must reach, with a signed 32-bit
 * displacement, every byte of one range given at init: pass the whole image (text,
 * rodata, data, bss), not only the text, when relocated operands may point there.
 *
 * Memory comes in chunks (64 KiB by default, bigger as more is mapped, so that the
 * tens of MiB of GOLAT_FUNCS='*' take tens of chunks, not thousands: each costs a
 * read of /proc/self/maps) mapped into gaps of the address space
 * with MAP_FIXED_NOREPLACE, so that no existing mapping is ever clobbered (on kernels
 * before 4.17 the flag is ignored and the address is a hint: a chunk that lands
 * elsewhere is unmapped and the next gap is tried). Chunks closest below the range
 * are preferred (away from the brk heap, which grows up from the end of bss), then
 * the highest ones above it within reach.
 *
 * W^X: a chunk is read-write while trampolines are written into it, read-execute once
 * codemem_seal has run, and never both. Nothing jumps into a chunk before it is
 * sealed (the patcher writes the jumps after sealing), so sealing needs no stopped
 * world. A sealed chunk is never written again by codemem (its unused tail is
 * abandoned); a caller that rewrites bytes of a sealed trampoline does it through
 * patch, with the world stopped. Chunks are never unmapped nor made non-executable:
 * a thread may still be running in one, long after its hook was removed.
 *
 * codemem_alloc and codemem_seal call mmap, mprotect and malloc: call them before
 * stopping the world, never while it is stopped. Not thread-safe: one owner per
 * struct codemem.
 *
 * Another process (a static Go program golat hooks from outside, lib/attach/static.h):
 * with struct codemem_remote, chunks are mapped read-execute in that process through
 * its callbacks, found in the gaps of its /proc/PID/maps, and written there whole by
 * codemem_seal from a local copy. codemem_alloc then hands out pointers into the
 * local copy; codemem_addr says where each byte will run. */
#ifndef GOLAT_CODEMEM_H
#define GOLAT_CODEMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CODEMEM_CHUNK_DEFAULT (64u * 1024)
/* A new chunk is a quarter of what is already mapped, at least chunk_size and at
 * most this. Pages of a chunk never written cost no memory. */
#define CODEMEM_CHUNK_MAX (4u * 1024 * 1024)
/* Largest distance allowed between a chunk byte and a range byte: rel32 reaches
 * 2^31 from the end of an instruction; a page of slack covers instruction lengths. */
#define CODEMEM_REACH ((uint64_t)INT32_MAX + 1 - 4096)

struct codemem_chunk {
	uint64_t base;
	size_t size, used;
	bool sealed;
	uint8_t *local; /* where codemem_alloc's pointers point: (uint8_t *)base, or a copy */
};

/* Code memory in another process. */
struct codemem_remote {
	int pid;
	/* Maps size bytes read-execute at exactly at (as MAP_FIXED_NOREPLACE): 0, or
	 * -EEXIST when something is there, or another -errno. */
	int (*map)(void *ctx, uint64_t at, size_t size);
	/* Writes len bytes at at: 0 or -errno. */
	int (*write)(void *ctx, uint64_t at, const void *buf, size_t len);
	void *ctx;
};

struct codemem {
	uint64_t lo, hi;             /* the range every byte must reach */
	uint64_t reach_lo, reach_hi; /* chunks lie inside [reach_lo, reach_hi) */
	size_t chunk_size;
	struct codemem_chunk *chunks; /* every chunk ever mapped, in mapping order */
	size_t nchunks, cap;
	size_t mapped;                /* bytes of all chunks */
	uint64_t last;                /* the latest allocation (codemem_trim) */
	const struct codemem_remote *remote; /* NULL: this process */
};

/* Prepares cm for trampolines that must reach [lo, hi) (runtime addresses). No
 * memory is mapped yet. chunk_size 0 means CODEMEM_CHUNK_DEFAULT (rounded up to
 * pages). Returns 0, or -EINVAL when the range is empty or wider than the reach. */
int codemem_init(struct codemem *cm, uint64_t lo, uint64_t hi, size_t chunk_size, char *reason,
		 size_t n);

/* The same for code memory in another process (remote outlives cm). */
int codemem_init_remote(struct codemem *cm, const struct codemem_remote *remote, uint64_t lo, uint64_t hi,
			size_t chunk_size, char *reason, size_t n);

/* Where the byte at p (from codemem_alloc) runs: p itself for this process. */
uint64_t codemem_addr(const struct codemem *cm, const void *p);

/* Hands out len bytes aligned to align (a power of two, at most a page) in a
 * writable, not yet executable chunk, mapping a new chunk when needed (a request
 * larger than a chunk gets a chunk of its own). Returns 0 with *out set, or:
 *   -ENOMEM "no free gap of 64 KiB within ±2 GiB of [0x401000, 0x8f2000)"
 *   -EINVAL bad align or len. */
int codemem_alloc(struct codemem *cm, size_t len, size_t align, void **out, char *reason,
		  size_t n);

/* Gives back the end of the latest allocation p, keeping its first used bytes: for a
 * caller that had to ask for the worst case before knowing the size. */
void codemem_trim(struct codemem *cm, void *p, size_t used);

/* Makes every chunk written since the last seal read-execute. Further allocations go
 * to new chunks. Returns 0 or a negative errno with a reason. */
int codemem_seal(struct codemem *cm, char *reason, size_t n);

/* True when [addr, addr+len) lies inside a chunk of cm. */
bool codemem_owns(const struct codemem *cm, uint64_t addr, size_t len);

/* True when every byte of [addr, addr+len) reaches every byte of the range. */
bool codemem_reaches(const struct codemem *cm, uint64_t addr, size_t len);

/* Frees the bookkeeping. The chunks stay mapped and executable, by design. */
void codemem_fini(struct codemem *cm);

#endif
