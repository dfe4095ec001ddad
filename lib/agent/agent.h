/* agent: the part of golat that runs inside a statically linked Go program.
 *
 * A static Go program has no dynamic loader and no libc, and Go owns FS there (g at
 * fs:-8, FS's base is &m.tls[1]: runtime/sys_linux_amd64.s, settls and clone). So
 * `golat run` and `golat attach` map into it golat-agent.so: the trampoline stubs and
 * the recorder (lib/arch/x86_64/tramp.S and recfast.S, lib/record/), built from the
 * same sources as libgolat.so but freestanding (system calls only, no TLS of its own:
 * each thread's recorder block hangs off m.tls[1], a slot Go leaves unused on
 * linux/amd64), linked with no relocation but R_X86_64_RELATIVE and no undefined
 * symbol. Everything else (reading the binary, analysis, trampolines, patching,
 * reports) stays in the golat command, which works on the process through ptrace
 * (lib/attach/static*.c).
 *
 * The command maps the agent's PT_LOAD segments into the target (from a memfd the
 * target makes and golat fills: the target may be in a container, with none of
 * golat's files in sight), applies its relocations, and calls its ELF entry point,
 * golat_agent_init, on a thread it holds, on a stack of its own, with a struct
 * agent_config it wrote into the target. stats_path is the stats file as the target
 * names it, in its own mount namespace. */
#ifndef GOLAT_AGENT_H
#define GOLAT_AGENT_H

#include <stdint.h>

#define AGENT_ABI 3 /* bump when struct agent_config changes */

/* agent_config.sig_op: what to do with the signal handlers (lib/agent/sig.c). */
#define AGENT_SIG_OWN 1       /* golat's handler in front of Go's */
#define AGENT_SIG_GIVE_BACK 2 /* Go's handlers back, exactly as Go installed them */

struct agent_config {
	/* in: what the command read from the binary and the options */
	uint32_t abi;       /* AGENT_ABI */
	uint32_t sample;    /* GOLAT_SAMPLE (0 or 1: every call timed) */
	int64_t g_tls;      /* g is at fs:[g_tls] */
	uint32_t stack_hi;  /* offsets in runtime.g */
	uint32_t goid;
	uint64_t pcbase;    /* runtime.text in the target: caller sites are offsets from it */
	uint32_t monotonic; /* time with CLOCK_MONOTONIC: the TSC is not invariant */
	uint32_t _pad;
	char stats_path[4096]; /* the stats file the command made for this process (it names the
				* functions); the agent opens it and maps it shared */
	/* out: filled by golat_agent_init */
	int32_t err;         /* 0, or the negative errno of what failed */
	uint32_t _pad2;
	char reason[256];    /* what failed, for the user */
	uint64_t rec_fast;          /* golat_rec_fast: where every trampoline jumps */
	uint64_t tramp_resume;      /* golat_tramp_resume, and where it ends */
	uint64_t tramp_resume_end;
	uint64_t resume_tab;        /* the address of golat_resume_tab (a pointer the command sets) */
	uint64_t gens;              /* golat_rec_gens's array: one uint32_t per function id */
	uint64_t text_lo, text_hi; /* [lo, hi) of the agent's own code: a thread stopped
				 * there is in golat's code */
	uint64_t text_regs; /* slowest_text_table(): a uint16_t per function id, which the
			     * command writes (slowest_text_word) for the string arguments
			     * whose text the slowest calls keep */
	/* in: AGENT_SIG_*, or 0 */
	uint32_t sig_op;
	uint32_t sig_owning; /* out: golat's handlers are in front (after sig_op) */
	uint64_t entry;      /* out: golat_agent_init, for a later call */
	uint64_t sigtab;     /* out: the address of golat_sigtab, the pointer to the signal
			      * translation tables the command writes (lib/engine/sigtab.h) */
	uint64_t rt_sigaction; /* out: golat_agent_rt_sigaction, where runtime.rt_sigaction
				* is redirected (lib/arch/x86_64/agent/sigrt.S) */
};

/* lib/agent/sig.c: does op (AGENT_SIG_*, 0: nothing) and counts golat's int3s taken at
 * *traps. 0 or -errno. */
long agent_sig(uint32_t op, uint64_t *traps);
int agent_sig_owning(void);

/* The agent's ELF entry point. Returns cfg->err. Idempotent: a second call only fills
 * the out fields. */
int golat_agent_init(struct agent_config *cfg);

#endif
