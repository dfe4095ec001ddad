/* recfast: the layout the recorder's fast path in assembly (lib/arch/<isa>/recfast.S)
 * reads, shared with the C that owns each structure (recorder.c checks every offset
 * with _Static_assert). Included by C and by assembly: #defines only. How assembly
 * finds this thread's block is the ISA's: TRAMP_SELF, lib/arch/<isa>/tramp_self.h. */
#ifndef GOLAT_RECFAST_H
#define GOLAT_RECFAST_H

/* struct tramp_thread (tramp.h): each thread's TLS block. */
#define T_BUSY 0    /* 1 while the thread is in the recorder */
#define T_SAVE 8    /* 7 registers: rax rbx rcx rdx rsi rdi r8 */
#define T_NOW 64    /* the exit's TSC, when every call is timed */
#define T_GCACHE 72 /* struct gslot_cached[GSLOT_CACHE]: g -> slot, or 0 */
#define T_DIR 104   /* struct stats_cell *dir[ndir]: cell pages by group */
#define T_NDIR 112  /* u32 */
#define T_DESC 128  /* the trampoline's descriptor the thread is recording for */
#define T_CALLERS 136 /* struct stats_caller *: this thread's caller table, or 0 */
#define T_CMASK 144 /* u32: its entries - STATS_CALLER_PROBES - 1 (a power of two - 1) */
#define T_SCRATCH 152 /* the fast path's caller entry, while it computes the bucket */
#define T_STACK_TOP 160 /* the top of the thread's recorder stack, 0 until mapped */
#define T_EXT_SPARE 168 /* gslot.c's */
#define T_HDR 192   /* the block's size: room for fields to come */

/* struct gslot_cached (gslot.h): a thread's cache entry, GSLOT_CACHE of them in sets of
 * two (GSLOT_CACHE_WAYS). */
#define E_G 0
#define E_KEY 8
#define E_KEYP 16
#define E_SLOT 24
#define E_SHIFT 5        /* log2 of its size */
#define E_BITS 7         /* GSLOT_CACHE_BITS: log2 of the sets */
#define E_MUL 0x9e3779b1 /* the set: (u32)g * E_MUL >> (32 - E_BITS) (gslot_cache_set) */

/* struct gslot (gslot.h) and struct gframe. */
#define S_GOID 0
#define S_N 8
#define S_UNTRACKED 12
#define S_EXT 16
#define S_F0 32
#define S_INLINE 2   /* GSLOT_INLINE: frames in the slot; the next ones in its ext block */
#define S_FRAMES 256 /* GSLOT_FRAMES */
#define F_SIZE 104
#define F_ID 0
#define F_DEPTH 4
#define F_TSC 8
#define F_PC 16
#define F_CHILD 24
#define F_ARGS 32

/* struct stats_caller (stats.h). */
#define K_KEY 0
#define K_CALLS 8
#define K_SUM 16
#define K_SELF 24
#define K_PROBES 8 /* STATS_CALLER_PROBES */
#define STATS_NOSITE 0xffffffff /* STATS_CALLER_NOSITE */
#define K_MUL1 0x85ebca6b /* the hash of a caller key (callers.h, callers_hash) */
#define K_MUL2 0x9e3779b1
#define K_SHIFT 8

/* struct stats_cell (stats.h). */
#define C_ENTRIES 0
#define C_CALLS 8
#define C_TIMED 24
#define C_SUM 32
#define C_MIN 40
#define C_MAX 48
#define C_SEQ 56
#define C_BASE 60
#define C_WIN 64

#define G_STACK_HI 8 /* runtime.g.stack.hi in every Go since 1.17 (the fast path needs it) */

#endif
