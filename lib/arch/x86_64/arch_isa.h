/* arch_isa.h, x86-64: the inline half of lib/arch/arch.h for this instruction set.
 * Included by arch.h only (CMake puts lib/arch/x86_64 on the include path when
 * CMAKE_SYSTEM_PROCESSOR is x86_64); the contract of each function is there. */
#ifndef GOLAT_ARCH_ISA_H
#define GOLAT_ARCH_ISA_H

#include <stdint.h>
#include <sys/user.h>
#include <ucontext.h>

/* ---- the clock ---------------------------------------------------------------- */

static inline uint64_t arch_clock(void)
{
	return __builtin_ia32_rdtsc();
}

/* ---- code changed while other threads run --------------------------------------- */

/* cpuid is serializing (Intel SDM vol. 3, 8.1.3): after it this core fetches the code
 * as it is in memory now, not as it was prefetched before the stop. */
static inline void arch_serialize(void)
{
	unsigned a = 0, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d) : : "memory");
}

/* x86 keeps instruction fetch coherent with stores (Intel SDM vol. 3, 8.1.3): only
 * the serializing of arch_serialize is needed, nothing per address. */
static inline void arch_code_written(uint64_t addr, uint64_t len)
{
	(void)addr, (void)len;
}

/* ---- g and the thread block ------------------------------------------------------ */

/* g is at fs:[tls] (the reader finds tls: gtls.c; R14 holds it too in Go code, but not
 * in the C and assembly golat runs from). */
static inline uint64_t arch_g(uint64_t tls)
{
	uint64_t g;
	__asm__ volatile("movq %%fs:(%1), %0" : "=r"(g) : "r"(tls));
	return g;
}

/* The agent's block pointer lives in m.tls[1], at fs:0 (tramp.h says why that word is
 * free); the assembly's TRAMP_SELF (tramp_self.h) reads the same word. */
static inline void *arch_agent_block(void)
{
	void *t;
	__asm__("movq %%fs:0, %0" : "=r"(t));
	return t;
}

static inline void arch_agent_set_block(void *t)
{
	__asm__ volatile("movq %0, %%fs:0" : : "r"(t) : "memory");
}

/* ---- a signal's saved context ----------------------------------------------------- */

/* uc_mcontext.gregs indexes (sys/ucontext.h REG_*, the kernel's struct sigcontext);
 * numbers, so that a file need not define _GNU_SOURCE to use them. */
#define ARCH_UC_R12 4
#define ARCH_UC_RSP 15
#define ARCH_UC_RIP 16
#ifdef REG_RIP
_Static_assert(REG_R12 == ARCH_UC_R12 && REG_RSP == ARCH_UC_RSP && REG_RIP == ARCH_UC_RIP, "gregs");
#endif

static inline uint64_t arch_uc_pc(const ucontext_t *uc)
{
	return (uint64_t)uc->uc_mcontext.gregs[ARCH_UC_RIP];
}

static inline uint64_t arch_uc_sp(const ucontext_t *uc)
{
	return (uint64_t)uc->uc_mcontext.gregs[ARCH_UC_RSP];
}

static inline void arch_uc_set_pc(ucontext_t *uc, uint64_t pc)
{
	uc->uc_mcontext.gregs[ARCH_UC_RIP] = (greg_t)pc;
}

static inline void arch_uc_set_sp(ucontext_t *uc, uint64_t sp)
{
	uc->uc_mcontext.gregs[ARCH_UC_RSP] = (greg_t)sp;
}

/* R12: the stub's descriptor register (tramp.h). */
static inline uint64_t arch_uc_desc(const ucontext_t *uc)
{
	return (uint64_t)uc->uc_mcontext.gregs[ARCH_UC_R12];
}

/* The int3 golat writes over a return with no window: the kernel reports the trap with
 * the pc past it. */
#define ARCH_TRAP_PC_AFTER 1

/* ---- the trampolines (tramp.h) ------------------------------------------------------ */

/* The registers golat_tramp_common saved, as its third argument sees them. */
enum { TRAMP_REG_R11, TRAMP_REG_R10, TRAMP_REG_R9, TRAMP_REG_R8, TRAMP_REG_RSI, TRAMP_REG_RDI,
       TRAMP_REG_RDX, TRAMP_REG_RCX, TRAMP_REG_RBX, TRAMP_REG_RAX };
/* Those that carry integer arguments and results, in ABIInternal's order: RAX RBX RCX
 * RDI RSI R8 R9 R10 R11 (cmd/compile/abi-internal.md). */
#define ARCH_ABI_INT_REGS                                                                        \
	{ TRAMP_REG_RAX, TRAMP_REG_RBX, TRAMP_REG_RCX, TRAMP_REG_RDI, TRAMP_REG_RSI, TRAMP_REG_R8, \
	  TRAMP_REG_R9, TRAMP_REG_R10, TRAMP_REG_R11 }
#define ARCH_ABI_INT_NREGS 9

/* A stub: lea r12,[rip+desc] (TRAMP_STUB_LEA bytes), then jmp [rip+ptr]. */
#define TRAMP_STUB_LEA 7
#define TRAMP_STUB_LEN 13

/* ---- a stopped thread's registers (ptrace) ----------------------------------------- */

typedef struct user_regs_struct arch_regs;
#define ARCH_REGS_PC(r) ((r).rip)
#define ARCH_REGS_SP(r) ((r).rsp)
#define ARCH_REGS_SYSNO(r) ((r).orig_rax)
#define ARCH_REGS_RET(r) ((r).rax)
#define ARCH_REGS_TP(r) ((r).fs_base)

#define ARCH_RT_SIGACTION_SYSCALL 25 /* gocode.c */

#define ARCH_SEQ_SYSCALL_RET_LEN 3
#define ARCH_SEQ_GO_SIGRETURN_LEN 9
#define ARCH_SEQ_RETV_LEN 6

#endif
