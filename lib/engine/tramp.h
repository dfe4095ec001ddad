/* tramp: the code a hooked function's patched jump leads to.
 *
 * Per window, hook.c builds a small trampoline in code memory (see tramp_build_*):
 *
 *   entry:   lea r12,[rip+desc]; jmp [rip+common]   -> records the entry
 *            <the window's instructions, relocated>; jmp back past the window
 *   return:  <the window's instructions without the ret, relocated>
 *            lea r12,[rip+desc]; jmp [rip+common]   -> records the exit
 *            ret
 *   whole:   both, around a body that ends in the ret (functions of a few bytes)
 *
 * golat_tramp_common (tramp.S) is the one stub they all jump to. It may touch only
 * R12 and R13 (dead at a Go function's entry and at its ret in ABIInternal:
 * cmd/compile/internal/abi, "R12, R13: scratch") before it has switched to a stack of
 * its own, because the goroutine may have as little as a few bytes of stack left.
 * Then it saves every register that carries arguments or results (RAX RBX RCX RDX
 * RDI RSI R8-R11), calls the recorder with the descriptor and the goroutine's SP,
 * restores them and jumps to desc->resume. X registers are untouched: the recorder is
 * compiled with -mgeneral-regs-only and calls nothing. Flags are clobbered: they are
 * dead at both points (Go passes nothing in flags across a call or a return).
 *
 * That is x86-64's drawing: its stub, fast path and emitters are lib/arch/x86_64/
 * (tramp.S, recfast.S, tramp_emit.c), the registers the stub saves and the stub's
 * length are its arch_isa.h's (TRAMP_REG_*, TRAMP_STUB_*). Another instruction set
 * draws its own behind the same descriptors, thread block, entry points and emitters
 * declared here. */
#ifndef GOLAT_TRAMP_H
#define GOLAT_TRAMP_H

#include <stddef.h>
#include <stdint.h>

#include "arch.h"

struct stats_caller;
struct gframe;
struct gslot_cached;

enum tramp_kind {
	TRAMP_ENTRY = 1,
	TRAMP_EXIT = 2,
	TRAMP_PROCEXIT = 3, /* fn: TRAMP_PROCEXIT_EXIT or TRAMP_PROCEXIT_SIGNAL */
};
#define TRAMP_PROCEXIT_EXIT 0   /* runtime.exit: about to exit_group */
#define TRAMP_PROCEXIT_SIGNAL 1 /* runtime.dieFromSignal: about to die of a signal */

/* Read by golat_tramp_common at [r12]: keep resume first. */
struct tramp_desc {
	uint64_t resume; /* where the stub continues */
	uint32_t fn;     /* recorder's function id */
	uint32_t kind;   /* enum tramp_kind */
};

/* Each thread's block: the recorder's state for this thread, read by its fast path
 * in assembly (recfast.S, offsets in recfast.h). Where it lives depends on the build
 * (tramp_self, and TRAMP_SELF in lib/arch/x86_64/tramp_self.h for assembly):
 *  - libgolat.so: initial-exec TLS, tramp_tls (tramp.S). Small: a library that dlopen
 *    loads late (golat attach to a program started without golat, lib/attach/) gets
 *    its initial-exec TLS from glibc's static TLS surplus, about 1.5 KiB, shared with
 *    every other such library. So the recorder's stack is not here: stack_top points
 *    to one mapped on the thread's first recorded call (tramp_stack_map), given back
 *    when the thread exits (recthread.c).
 *  - golat-agent.so (GOLAT_AGENT, static Go programs, lib/agent/agent.h): there is no
 *    TLS but Go's, and Go owns FS: its base is &m.tls[1] (runtime/sys_linux_amd64.s,
 *    settls: "ADDQ $8, DI // ELF wants to use -8(FS)"), g is at fs:-8, and m.tls[1..5]
 *    (fs:0 .. fs:0x20) are never used by Go on linux/amd64 and are zero in a new m
 *    (runtime/runtime2.go, m.tls; allocm). So fs:0 holds a pointer to the block, 0
 *    until the thread's first recorded call maps the block with its stack
 *    (tramp_stack_map); once the thread has exited, the next new thread takes the
 *    block and stack over (recstack.c).
 * New fields go at the end only: recfast.S reads the others at fixed offsets. */
struct tramp_thread {
	uint64_t busy;           /* 1 while in the recorder: a nested call is let through */
	uint64_t save[7];        /* the fast path's saved registers */
	uint64_t now;            /* the exit's TSC */
	/* The goroutines this thread ran lately and their slots, direct-mapped by g
	 * (gslot.h, struct gslot_cached): NULL until its first recorded call. */
	struct gslot_cached *gcache;
	uint64_t slow;           /* calls the fast path gave to C, not yet added to the header */
	uint64_t _free[2];       /* room for hot fields to come */
	struct stats_cell **dir; /* cell page of function group k = fn / 16, or NULL */
	uint32_t ndir;
	uint32_t holder;         /* this thread's index in slot keys, 0 until its first call */
	uint32_t tid;
	uint32_t _pad;
	/* The descriptor of the trampoline the thread is recording for, written before
	 * busy: a profiling signal in golat's code is a sample of that function (sigown). */
	const struct tramp_desc *desc;
	struct stats_caller *callers; /* this thread's caller table (callers.c), or NULL */
	uint32_t cmask;          /* its hash mask: 2^k - 1 */
	uint32_t cused;          /* its entries in use */
	uint64_t scratch;        /* recfast.S's */
	/* The top of this thread's recorder stack (TRAMP_STACK bytes below it), 0 until
	 * golat_tramp_common first needs it. */
	uint64_t stack_top;
	struct gframe *ext_spare; /* an extension block kept for the next deep goroutine (gslot.c) */
};
#ifdef GOLAT_AGENT
/* This thread's block, NULL before its first recorded call; the recorder's C runs only
 * after golat_tramp_common has made it. */
static inline struct tramp_thread *tramp_self(void)
{
	return arch_agent_block();
}
#else
extern __thread struct tramp_thread tramp_tls __attribute__((tls_model("initial-exec")));
static inline struct tramp_thread *tramp_self(void)
{
	return &tramp_tls;
}
#endif

/* Bytes of each thread's recorder stack (a guard page below it). 8 KiB: the recorder
 * uses well under 1 KiB; anything bigger (reports) runs on golat's own thread. */
#define TRAMP_STACK 8192
#define TRAMP_GUARD 4096 /* the guard page below it */

/* Called by golat_tramp_common on the shared bootstrap stack (golat_tramp_boot,
 * tramp.S, taken under a spin lock) when this thread has no recorder stack yet
 * (recstack.c). libgolat: maps one and sets tramp_tls.stack_top (left 0 when it
 * cannot: the call goes unrecorded); recthread.c gives it back when the thread exits.
 * Agent: maps the stack and the block together and stores the block at fs:0 (left 0
 * when it cannot). */
void tramp_stack_map(void);
/* The bootstrap stack: [golat_tramp_boot, golat_tramp_boot_top). */
extern char golat_tramp_boot[], golat_tramp_boot_top[];

/* Bytes a trampoline for a window with relocated code of reloc_len bytes needs. */
size_t tramp_size(size_t reloc_len, int whole);

/* Stub entry points: the fast path every trampoline jumps to (recfast.S), which
 * falls back on the general one, and the stub's own counter (calls it could not
 * record: nested in a signal handler). */
void golat_rec_fast(void);
void golat_tramp_common(void);
/* Where the two stubs end: R12 holds the descriptor from their first byte to there
 * (the C they call may reuse it). */
void golat_rec_fast_end(void);
void golat_tramp_common_end(void);
extern uint64_t tramp_busy;
/* The resume fixup at the end of runtime.asyncPreempt, and its table: open
 * addressing with linear probing, keys written last, never removed. golat_tramp_resume
 * (tramp.S) reads it at any moment without a lock, through one load of
 * golat_resume_tab: the table carries its own shift and mask, so that a reader never
 * pairs one table's size with another's slots. Keep the layout in step with tramp.S
 * (shift at +0, mask at +8, slots from +16). */
void golat_tramp_resume(void);
struct tramp_resume_tab {
	uint64_t shift;     /* 64 - log2(slots): pc's first slot is (pc * TRAMP_RESUME_MUL) >> shift */
	uint64_t mask;      /* slots - 1 */
	uint64_t slot[][2]; /* {pc, to}; pc 0: empty */
};
extern struct tramp_resume_tab *golat_resume_tab;
#define TRAMP_RESUME_MUL 0x9e3779b97f4a7c15ull /* tramp.S repeats it */
/* Says that a goroutine stopped at pc (inside an overwritten window) must resume at
 * to (the same instruction, relocated). Single writer; never removed. The table
 * doubles before it is half full: a bigger one is filled and then published, and
 * the old one stays mapped for a reader that may still be probing it. 0, or -ENOMEM.
 * So a thread inside golat_tramp_resume may hold a table without the newest entries:
 * a patch made while threads run must not stop one in [golat_tramp_resume,
 * golat_tramp_resume_end) (patch_opts.avoid), or it could return into a window
 * written meanwhile. One that enters after the stop loads the newest table. */
int tramp_resume_add(uint64_t pc, uint64_t to);
extern const char golat_tramp_resume_end[];
/* Where tramp_resume_add said a goroutine stopped at pc resumes, or 0. */
uint64_t tramp_resume_find(uint64_t pc);

/* Makes the emitters below jump to these stubs (golat_rec_fast, golat_tramp_resume)
 * instead of this process's: the agent's, in a static program golat hooks from
 * outside (lib/attach/static.h). 0, 0: this process's again. */
void tramp_set_stubs(uint64_t fast, uint64_t resume);

/* Emitters: write a trampoline at buf, which will run at address at. `code` holds
 * the window's relocated instructions (reloc_window output for address at+offset
 * returned by tramp_*_code_offset). Return the bytes written. */
size_t tramp_entry_code_offset(void);
size_t tramp_emit_entry(uint8_t *buf, uint64_t at, const uint8_t *code, size_t len, uint64_t back,
			uint32_t fn);
size_t tramp_exit_code_offset(void);
size_t tramp_emit_exit(uint8_t *buf, uint64_t at, const uint8_t *code, size_t len, uint32_t fn);
/* runtime.asyncPreempt's end: its epilogue (ret dropped), then jmp golat_tramp_resume,
 * which returns itself. No register is touched on the way. */
size_t tramp_emit_resume(uint8_t *buf, uint64_t at, const uint8_t *code, size_t len);
/* The process-exit hook: like an entry, with kind TRAMP_PROCEXIT. */
size_t tramp_emit_procexit(uint8_t *buf, uint64_t at, const uint8_t *code, size_t len, uint64_t back,
			   uint32_t which);
/* A whole window: entry record, code (ret dropped), exit record, ret. */
size_t tramp_emit_whole(uint8_t *buf, uint64_t at, const uint8_t *code, size_t len, uint32_t fn);

#endif
