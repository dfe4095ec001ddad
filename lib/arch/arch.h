/* arch: what golat needs from the instruction set, behind one interface.
 *
 * One folder per ISA, lib/arch/<isa>/, chosen by CMake from CMAKE_SYSTEM_PROCESSOR
 * (lib/CMakeLists.txt, GOLAT_ARCH): its files are built into golat_core and the agent
 * like any other, and its arch_isa.h (the inline half of this interface: what the hot
 * path and the signal handlers call) is found on the include path. The aim: no file
 * outside lib/arch/<isa>/ knows which ISA it runs on, and a port adds a folder that
 * provides everything below and changes nothing else; what still knows is listed
 * further down, with why.
 *
 * What depends on the instruction set, and where it lives (x86-64 today):
 *
 *   the clock            arch_clock (rdtsc)                          arch_isa.h
 *   code changed live    arch_serialize (cpuid), arch_code_written    arch_isa.h
 *   g, thread block      arch_g (fs:[tls]), arch_agent_block (fs:0)   arch_isa.h
 *   signal context       arch_uc_* (ucontext gregs; stw, sigown and   arch_isa.h
 *                        the agent's handler)
 *   ptrace registers     arch_regs, ARCH_REGS_*, arch_getregs,       arch_isa.h,
 *                        arch_regs_restart/_syscall/_call, the code   x86_64/regs.c
 *                        borrowed from the Go text (arch_seq_*)
 *   the stub, fast path  golat_tramp_common, golat_rec_fast,         x86_64/tramp.S,
 *                        golat_tramp_resume; TRAMP_SELF               recfast.S,
 *                                                                     tramp_self.h
 *   the stub's layout    TRAMP_REG_* (saved registers), TRAMP_STUB_*, arch_isa.h
 *                        ARCH_ABI_INT_REGS (argument registers)
 *   trampolines          tramp_emit_*, tramp_size (tramp.h)          x86_64/tramp_emit.c
 *   the agent's entry    golat_agent_rt_sigaction, where a static     x86_64/agent/
 *   from Go              program's runtime.rt_sigaction jumps         sigrt.S (agent only)
 *   decode, plan and     analyze_func (the plan: analyze.h), reloc_*  x86_64/analyze*.c,
 *   relocate             (capstone x86, 5-byte windows, rel8 hops,    reloc.c
 *                        int3s, steered branches)
 *   Go's assembly known  runtime.asyncPreempt's epilogue,             x86_64/gocode.c
 *   by its bytes         runtime.rt_sigaction; the thunk to the agent
 *
 * For arm64 (lib/arch/arm64/arm64.h, arm64_*, built on every host today): its
 * struct arm64_plan (the entry word and every RET, each patchable or not with its
 * reason) is analyze.h's plan with one 4-byte window per site, no hop, twin or int3,
 * so an arm64 analyze_func is arm64_plan_func and a conversion; arm64_reloc is
 * reloc_window's counterpart, and arm64_b/arm64_jump the jumps tramp_emit_* write.
 * The rest is this header's list, to be written in lib/arch/arm64/.
 *
 * Still outside lib/arch, and why (x86-64 code in a shared folder):
 *   - lib/engine/analyze.h: the plan's shape is shared, but its comment and some of
 *     its fields (hop, twin, int3, redirects) are the x86-64 planner's.
 *   - lib/engine/window.c, xlate.c: they build each window's trampoline and jumps
 *     from the x86-64 relocator's output (reloc_window, reloc_place, reloc_jmp32/
 *     jmp8, 0xcc). Cutting them apart is the arm64 port's first step: the
 *     relocation and the jump bytes behind arch.h, the bookkeeping (codemem, resume
 *     and signal tables) shared.
 *   - lib/attach/inject_frame.c: the rt_sigreturn frame golat writes (x86-64
 *     sigcontext and XSAVE area, NT_X86_XSTATE), and inject_call.c's save of that
 *     area; an arm64 frame is another layout (fpsimd_context).
 *   - lib/engine/sigown.c's and lib/glibc_compat.h's symbol versions
 *     (GLIBC_2.2.5 is x86-64's first; arm64's is GLIBC_2.17); the agent's
 *     relocations (R_X86_64_RELATIVE, applied by lib/attach/static_agent.c).
 *   - the stats file keeps 9 argument registers (STATS_ARGS, x86-64's ABIInternal
 *     integer registers; arm64 has 16): a format decision, not the ISA folder's.
 *   - outside the folders this split may change: lib/sys.h (raw syscall asm for the
 *     agent), lib/config.c (cpuid: is the TSC invariant), lib/report/statsagg.c
 *     (__rdtsc to rate a live process's clock), tools/run_static.c (orig_rax).
 */
#ifndef GOLAT_ARCH_H
#define GOLAT_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch_isa.h"

/* ---- the clock ----------------------------------------------------------------
 * uint64_t arch_clock(void): the counter golat times calls in, readable from user
 * space on every thread, never going back on one thread (x86-64: rdtsc, invariant on
 * every CPU golat runs on; arm64: CNTVCT_EL0). Its rate is measured against
 * CLOCK_MONOTONIC by whoever reads a stats file (lib/report/statsagg.c). */

/* ---- code changed while other threads run -------------------------------------
 * void arch_serialize(void): after it this core executes the code as it is in memory
 * now (x86-64: cpuid; arm64: ISB). Run by every thread stw released, and by the
 * patcher.
 * void arch_code_written(uint64_t addr, uint64_t len): the bytes [addr, addr + len)
 * were written as code; makes them visible to instruction fetch on every core
 * (x86-64: nothing; arm64: DC CVAU / IC IVAU, __builtin___clear_cache). */

/* ---- g and the thread block ---------------------------------------------------
 * uint64_t arch_g(uint64_t tls): the running goroutine's g as C sees it (x86-64:
 * fs:[tls], tls from the reader; arm64: g lives in R28 alone, which the stub must
 * hand to C).
 * void *arch_agent_block(void), arch_agent_set_block(void *): the agent's per-thread
 * block pointer in a word Go leaves free in its own TLS (x86-64: fs:0, m.tls[1]). */

/* ---- a signal's saved context -------------------------------------------------
 * arch_uc_pc, arch_uc_sp, arch_uc_set_pc, arch_uc_set_sp (ucontext_t *): the
 * interrupted pc and stack pointer; arch_uc_desc: the register the trampoline stub
 * carries its struct tramp_desc in (x86-64: R12).
 * ARCH_TRAP_PC_AFTER: bytes between the trap instruction golat writes and the pc the
 * kernel reports for it (x86-64 int3: 1; arm64 BRK: 0). */

/* ---- the stub, the fast path and the trampolines (tramp.h) ---------------------
 * The ISA's folder provides tramp.S (golat_tramp_common, golat_tramp_resume,
 * libgolat's tramp_tls), recfast.S (golat_rec_fast), tramp_self.h (TRAMP_SELF: the
 * thread's block, for them) and tramp_emit.c (tramp_size, tramp_emit_*,
 * tramp_set_stubs), to tramp.h's contract; and in arch_isa.h TRAMP_REG_* (the order
 * the stub saves registers in, as tramp_record's third argument sees them),
 * ARCH_ABI_INT_REGS / ARCH_ABI_INT_NREGS (those that carry ABIInternal's integer
 * arguments and results, in their order) and TRAMP_STUB_LEA / TRAMP_STUB_LEN (the
 * stub's instruction boundaries, for xlate.c). */

/* ---- decode, plan, relocate ----------------------------------------------------
 * analyze_func (lib/engine/analyze.h: the plan) and, today, the x86-64 relocator's
 * reloc_* (x86_64/reloc.h), which window.c and xlate.c call directly. */

/* ---- the Go runtime's assembly, recognized by its bytes (x86_64/gocode.c) -----
 * runtime.asyncPreempt's epilogue: whether code (len bytes, the function's with its
 * padding) ends with the one golat knows, and then its bytes [*start, *end). */
bool arch_async_preempt_end(const uint8_t *code, size_t len, size_t *start, size_t *end);
/* Whether code (len bytes) is runtime.rt_sigaction as golat knows it (a program
 * without libc); its system call instruction is at ARCH_RT_SIGACTION_SYSCALL, and a
 * thread stopped before it can start over at the entry. */
bool arch_is_rt_sigaction(const uint8_t *code, size_t len);
/* Fills len bytes at buf with a jump to the absolute address to that touches no
 * register, then traps; returns the jump's length, 0 when len is too short. */
size_t arch_emit_thunk(uint8_t *buf, size_t len, uint64_t to);

/* ---- a stopped thread's registers (ptrace; lib/attach) ------------------------
 * arch_regs: the general registers as ptrace reads them (x86-64: user_regs_struct).
 * ARCH_REGS_PC, _SP (r): the pc and stack pointer, lvalues; ARCH_REGS_SYSNO: the
 * system call a syscall stop is in, -1 for none (writing -1 keeps the kernel from
 * restarting one); ARCH_REGS_RET: a system call's result; ARCH_REGS_TP: the thread
 * pointer (x86-64: fs_base). */
/* 0, or -1 with errno (x86-64: PTRACE_GETREGS/SETREGS; arm64 has only
 * PTRACE_GETREGSET NT_PRSTATUS, and the call number in NT_ARM_SYSTEM_CALL). */
int arch_getregs(pid_t tid, arch_regs *r);
int arch_setregs(pid_t tid, const arch_regs *r);
/* r with an interrupted system call set to run again, as the kernel would on the way
 * back from a handler (the -ERESTART* codes), and no restart left pending. */
arch_regs arch_regs_restart(arch_regs r);
/* Loads the system call nr with arguments a into r, for a `syscall` run there. */
void arch_regs_syscall(arch_regs *r, long nr, const uint64_t a[6]);
/* Loads two integer arguments of a C call into r. */
void arch_regs_call(arch_regs *r, uint64_t a0, uint64_t a1);
/* Code sequences golat borrows from a Go program's text (inject_proc.c says why):
 * a system call then a return; Go's rt_sigreturn (ends with the system call, so
 * a stop at its entry has pc = start + ARCH_SEQ_GO_SIGRETURN_LEN); and a store of a
 * function's result into the word at K(SP) then a return (arch_seq_retv: whether p,
 * ARCH_SEQ_RETV_LEN bytes, is one, and its K). */
extern const uint8_t arch_seq_syscall_ret[ARCH_SEQ_SYSCALL_RET_LEN];
extern const uint8_t arch_seq_go_sigreturn[ARCH_SEQ_GO_SIGRETURN_LEN];
bool arch_seq_retv(const uint8_t *p, unsigned *k);

#endif
