/* analyze: decides, for one Go function, which bytes golat overwrites (its patch
 * plan), or why it must not be touched. Pure: it reads bytes and writes a plan; the
 * patcher and the trampoline builder act on it. The planner is the instruction
 * set's (lib/arch/arch.h): what follows is x86-64's, lib/arch/x86_64/analyze*.c.
 *
 * The plan (DESIGN.md, "Patching safely"):
 *  - the function is decoded whole with capstone (Go puts no data in text); every
 *    direct branch target and every jump-table target is collected, and a window
 *    may hold a target only at its first byte;
 *  - the entry window covers at least 5 bytes from the entry (a jmp rel32), made
 *    of instructions reloc can move; its trampoline records the entry, then runs
 *    them, then jumps back;
 *  - one window per ret ("site"): the ret and as few instructions before it as
 *    make 5 bytes; after the function's last ret, the 0xCC padding may complete
 *    it; its trampoline runs the instructions, records the exit, and returns;
 *  - a window that cannot reach 5 bytes gets a 2-byte jmp rel8 "hop" into the
 *    function's own padding, where the 5-byte jmp rel32 goes;
 *  - where golat owns the signals (ANALYZE_SIGNALS_OWNED), a return window cut short by
 *    a branch target may take the target in, the branches to it steered to its copy
 *    (struct analyze_redirect, analyze_redirect.c); a return window of 2 to 4 bytes
 *    with no padding in reach may jump to a twin (a window of the same instructions)
 *    or hop into the 5 bytes past the jump of another window of the plan, grown to
 *    10 bytes for it, where the hops of its steered branches may go too
 *    (analyze_tail.c); only a return left without any window gets an int3;
 *  - when a ret falls inside the first 5 bytes (`xor eax,eax; ret`), or right
 *    after them with no room for a window of its own (`test rax,rax; jne L; ret`),
 *    the entry window ends with that ret: a "whole" window whose trampoline records
 *    the entry, runs the instructions, records the exit and returns;
 *  - an instruction that may fault on program data (a nil dereference: any memory
 *    operand not based on RSP, RIP, [r14+disp] (g) or TLS) moves only where RSP
 *    still holds its value at entry: in the entry window when no instruction
 *    before it writes RSP, in a return window when none between it and the ret
 *    does (a ret pops what the call pushed, so RSP at a ret is RSP at entry). A
 *    fault in the trampoline then finds the Go caller's return address at [rsp]
 *    and becomes an ordinary nil-pointer panic (runtime/signal_amd64.go,
 *    preparePanic); anywhere else it would kill the process.
 *
 * Using a plan (the trampoline builder and the patcher):
 *  - each window's instructions are moved with reloc_window(code + (addr - entry),
 *    code_len, ..., ret ? RELOC_DROP_RET : 0); an entry window's trampoline then
 *    jumps back to addr + code_len; a return window's records the exit and returns;
 *    a whole window's (entry.ret) records the entry, runs them, records the exit
 *    and returns;
 *  - written: a jmp rel32 (5 bytes) at addr, or for a hop a jmp rel8 (2 bytes) at
 *    addr and the jmp rel32 at hop_addr. The rest of [addr, addr + len) is never
 *    entered again (no branch targets it) and may stay as it is;
 *  - a thread must not be stopped strictly inside [addr, addr + len) while it is
 *    written (stw + patch check that). A goroutine that is not on a thread but
 *    was preempted asynchronously (runtime/preempt.go) at an instruction boundary
 *    inside the written bytes would resume inside the jump: Go does not mark
 *    epilogues (`add rsp; pop rbp; ret`) as unsafe points, so windows are written
 *    before the Go runtime starts (constructor), where no goroutine exists yet;
 *  - branches to the entry re-enter the entry trampoline at the same RSP: the
 *    morestack tail's `jmp entry` after growing the stack
 *    (cmd/internal/obj/x86/obj6.go, stacksplit), and rarely a loop whose header is
 *    the entry. The recorder counts them as the same call.
 *
 * Addresses are link-time; the caller adds the load bias. */
#ifndef GOLAT_ANALYZE_H
#define GOLAT_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct analyze_input {
	const char *name;   /* Go symbol name, for reasons and the name policy */
	uint64_t entry, end; /* [entry, end) includes the 0xCC padding tail */
	const uint8_t *code; /* the end-entry bytes of the function as in the file */
	uint8_t flag;       /* pclntab funcFlag (GOBIN_FLAG_*): ASM and SPWRITE are refused */
	unsigned opts;      /* ANALYZE_* below */
	/* Reads the 8-byte pointer at link-time address addr, relocations applied
	 * (jump tables). NULL: a function with a jump table is refused. */
	bool (*read_ptr)(void *ctx, uint64_t addr, uint64_t *value);
	/* The name of the function at addr (tail-jump targets, for reasons), or
	 * NULL. Optional. */
	const char *(*name_at)(void *ctx, uint64_t addr);
	void *ctx;
	/* [prev_pad_lo, prev_pad_hi): the tail of the previous function's 0xCC padding,
	 * ending at this entry, that the previous function never uses (its plan's
	 * pad_end up to its end): rel8 jumps near this entry may hop there. 0, 0: none. */
	uint64_t prev_pad_lo, prev_pad_hi;
};

/* analyze_input.opts */
#define ANALYZE_NO_NAME_POLICY 0x1 /* skip analyze_name_policy: for golat's own hooks
				      on runtime functions it has vetted */
#define ANALYZE_SIGNALS_OWNED 0x2  /* golat's signal handler runs first (sigown.h): an
				      instruction that may fault moves wherever RSP
				      stands, its fault reaches Go at the original PC */

/* The most instruction bytes a window holds (code_len): a window stops growing at
 * 5 bytes, so it is at most 4 + 15 (the longest x86 instruction); a whole window
 * adds the 4 bytes up to its ret. */
#define ANALYZE_MAX_CODE 23

/* One patch window, [addr, addr + len). */
struct analyze_window {
	uint64_t addr;     /* first byte overwritten (the entry, or where a return window starts) */
	uint32_t len;      /* bytes the window spans: code_len, plus the padding it
			      borrows after the function's last ret; 0: code up to a ret
			      that only branches reach, all steered (nredir), nothing
			      written: its trampoline holds a copy of code_len bytes */
	uint32_t code_len; /* [addr, addr + code_len) are instructions the trampoline
			      runs (the final ret of a return window included) */
	bool ret;          /* the instructions end with a ret (return and whole windows) */
	bool hop;          /* code_len < 5: write jmp rel8 to hop_addr at addr, and the
			      jmp rel32 to the trampoline at hop_addr */
	uint64_t hop_addr; /* 5 bytes within rel8 reach of addr + 2: of the padding, or
			      (analyze_tail.c) the 5 right past another window's jump */
	bool twin;         /* hop: hop_addr is the first byte of another return window of
			      the same bytes (analyze_tail.c), its jump written there already:
			      only the jmp rel8 is written. This window's trampoline serves
			      goroutines resumed inside its bytes (window.c, map_resume) */
	bool int3;         /* a return with no window at all: an int3 replaces its ret
			      (code_len 1), and golat's SIGTRAP handler sends the thread
			      to the trampoline (ANALYZE_SIGNALS_OWNED only) */
	uint32_t redir, nredir; /* plan->redirs[redir, redir + nredir): the branches into
				   this window's instructions past its first, steered to
				   their copies in its trampoline */
};

/* A branch inside the function whose target lies inside a return window past its first
 * byte (a ret that is a branch target, say). The jump written over the window would cut
 * that target in two, so the branch is steered to the target's relocated copy in the
 * window's trampoline (analyze_redirect.c):
 *  - a jmp/jcc rel32 at `from` gets a new displacement (from_len bytes rewritten);
 *  - a jmp/jcc rel8 goes, rewritten, to hop_addr in the function's padding, where a
 *    jmp rel32 leads to the copy (branches to one target share that hop).
 * The branch instruction itself stays where it was, the same length and condition:
 * a PC on it is still the original's for Go. A thread on the hop stands for the target
 * (sigown_add_jump). */
struct analyze_redirect {
	uint64_t from;     /* the branch instruction */
	uint32_t from_len; /* 2 (rel8), 5 (jmp rel32) or 6 (jcc rel32) */
	uint64_t to;       /* its original target, inside the window */
	uint64_t hop_addr; /* rel8 only: 5 bytes of padding within its reach; else 0 */
	bool shared;       /* hop_addr is the first byte of another return window of the
			      same bytes (its jump is there already): nothing to write */
};

struct analyze_plan {
	/* The entry window. entry.ret: it is a whole window ending with a ret. */
	struct analyze_window entry;
	/* Every other ret, by address. */
	struct analyze_window *sites;
	size_t nsites;
	struct analyze_redirect *redirs; /* windows index into it (analyze_window.redir) */
	size_t nredirs;
	uint64_t body_end; /* first byte of the padding tail */
	uint64_t pad_end;  /* first byte of it that no hop or window of this plan takes;
			      it does not depend on prev_pad_*, so the next function may
			      take [pad_end, end) */
	uint32_t ninsns;   /* instructions decoded */
	uint32_t ntargets; /* distinct branch targets inside the function */
};

/* Fills plan for the function described by in. Returns 0; on failure a negative
 * errno-style code, plan empty, and a reason naming the function:
 *   -EPERM   refused by policy: assembly, stack-switching, runtime, fork child
 *   -ENOENT  no ret: a tail call (the reason names the function to hook instead)
 *            or a function that never returns
 *   -EINVAL  undecodable bytes, a jump table that cannot be read, a branch into
 *            the middle of an instruction, a ret with an immediate
 *   -ENOSPC  some site has no window of 5 bytes and no padding within reach
 *   -ENOTSUP a site whose instructions may not move (a call within the first 5
 *            bytes, a fault where RSP has moved, an untimed exit)
 *   -ENOMEM
 * plan must be released with analyze_plan_free after success. After a failure past
 * decoding, plan is empty but for body_end and pad_end (= body_end), for the next
 * function's prev_pad_lo. */
int analyze_func(const struct analyze_input *in, struct analyze_plan *plan, char *reason,
		 size_t reasonlen);
void analyze_plan_free(struct analyze_plan *plan);

/* Why a function named name must not be hooked whatever its code, as a phrase
 * ("runtime function: ..."), or NULL. Runtime code runs on g0 and signal stacks,
 * without a g, or between fork and exec, where a trampoline cannot. */
const char *analyze_name_policy(const char *name);

#endif
