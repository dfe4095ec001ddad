/* static_int: what the files of the static route share (static.h is the interface). */
#ifndef GOLAT_STATIC_INT_H
#define GOLAT_STATIC_INT_H

#include "agent.h"
#include "analyze.h"
#include "gobin.h"
#include "codemem.h"
#include "inject_int.h"
#include "patch.h"
#include "static.h"
#include "target.h"

/* The scratch area golat maps in the target for one attach or detach: the agent's
 * configuration, the name of the memfd the agent goes into, and the stack
 * golat_agent_init runs on. */
#define SCRATCH_CFG 0
#define SCRATCH_PATH 8192
#define SCRATCH_SIZE (128u * 1024)

struct static_ctx {
	struct inj_target t;       /* pid, /proc/PID/mem, a syscall and an int3 in its text */
	struct inj_call call;      /* the thread golat runs system calls on */
	bool call_on;
	const struct static_world *w;
	uint64_t scratch;          /* SCRATCH_SIZE bytes in the target, 0 until mapped */
	uint64_t agent_entry;
	bool agent_loaded;         /* this run mapped it */
	struct codemem_remote remote;
	uint8_t *text;             /* [t.text_lo, t.text_hi) as read once the threads were held */
	uint8_t *dirty;            /* a byte per page of it: changed here, not yet written */
	char *err;
	size_t errn;
};

/* One function of a static_prep: its plan, made before any thread is held. */
struct static_prep_fn {
	uint32_t func; /* index in gb.funcs */
	char *spec;    /* the spec that selected it */
	struct analyze_plan plan;
	uint16_t text; /* the string argument its slowest calls keep the text of
			* (slowest_text_word), 0 = none */
};
struct static_stage; /* static_attach.c */
void static_stage_free(struct static_stage *g);
struct static_prep {
	struct static_stage *stage; /* what static_attach did with one thread held, or NULL */
	pid_t pid;
	struct target tg; /* how golat reaches it: its root, the pid it sees, its uid */
	struct gobin gb; /* /proc/PID/exe, with its load bias */
	struct static_prep_fn *fns;
	size_t nfns, cap;
	bool owned;               /* planned with golat's signal handler in front
				   * (window_rt_sigaction found: ANALYZE_SIGNALS_OWNED) */
	struct static_result pre; /* selected, and what was skipped while planning */
	char stats[4096];         /* static_prepare_detach: the agent's stats file */
};

/* static.c */
uint64_t static_now_ns(void);
/* s->t for w->pid and its binary gb: /proc/PID/mem, the text's range, and with text a
 * copy of the text (static_text_load). 0 or -errno with s->err. */
int static_open_target(struct static_ctx *s, const struct static_world *w, const struct gobin *gb, bool text);
/* Takes w->t[0] for system calls (inject_call) and maps the scratch area there. */
int static_begin_calls(struct static_ctx *s);
/* Unmaps the scratch area, puts the thread back, closes what s opened. */
void static_end(struct static_ctx *s);
/* Whether the target's bytes of f's [addr, addr + len) (link-time) are the file's. */
bool static_text_is_file(struct static_ctx *s, const struct gobin *gb, const struct gobin_func *f, uint64_t addr,
			 size_t len);

/* static_prep.c */
int static_skip(struct static_result *r, const char *spec, const char *name, const char *why, int unmatched);
/* Reads pid's executable, checks it for the static route, and sets its load bias. 0,
 * or -ESRCH / -ENOEXEC with err. */
int static_read_binary(pid_t pid, struct gobin *gb, char *err, size_t n);
/* *t for pid (target_open): 0, or -ESRCH / -EPERM with err. */
int static_target(pid_t pid, struct target *t, char *err, size_t n);

/* static_agent.c */
/* A system call on the held thread: 0 with *ret, or -errno (the call's own, or
 * golat's failure to run it, with s->err set). */
int static_sys(struct static_ctx *s, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
	       uint64_t a4, uint64_t a5, uint64_t *ret);
/* Finds the agent in the target, or maps it, then runs golat_agent_init with cfg
 * (filled with its out fields). 0 or -errno with s->err. */
int static_agent(struct static_ctx *s, const char *agent, struct agent_config *cfg);
/* The agent already in the target (its golat_agent_init in *entry, read from its ELF
 * header there), or false. */
bool static_agent_find(struct static_ctx *s, uint64_t *entry);
/* Runs golat_agent_init (at entry) with cfg on the held thread, cfg's out fields read
 * back. 0 or -errno with s->err. */
int static_agent_call(struct static_ctx *s, uint64_t entry, struct agent_config *cfg);

/* static_sig.c: golat's signal handlers in front of Go's (lib/agent/sig.c). */
/* The thunk in cm that runtime.rt_sigaction's redirect jumps through to `to` (the
 * agent's golat_agent_rt_sigaction): its address in *thunk. 0 or -errno with err. */
int static_sig_stage(struct codemem *cm, uint64_t to, uint64_t *thunk, char *err, size_t n);
/* Every thread held, before the jumps: the translation tables into the agent,
 * runtime.rt_sigaction redirected, golat's handlers in front. 0 or -errno with s->err. */
int static_sig_finish(struct static_ctx *s, const struct gobin *gb, struct agent_config *cfg, uint64_t thunk);
/* Every thread held, nothing hooked any more: runtime.rt_sigaction's bytes and Go's
 * handlers back, unless a thread is in golat's code (then a reason in *why, and 0).
 * 0 or -errno with s->err. */
int static_sig_give_back(struct static_ctx *s, const struct gobin *gb, char *why, size_t wn);

/* static_mem.c */
/* Sets s->remote up for codemem_init_remote. */
void static_codemem(struct static_ctx *s);
/* Maps len bytes read-write in the target: 0 with *at, or -errno. */
int static_alloc(struct static_ctx *s, uint64_t len, uint64_t *at);
/* A thread of the world stopped strictly inside [addr, addr + len) (strict: past
 * its first byte, where a jump written at addr would cut an instruction), or anywhere
 * in it: its tid, else 0. */
pid_t static_thread_in(const struct static_world *w, uint64_t addr, uint64_t len, bool strict);
/* Reads the target's text once: the copy that static_text_read and static_text_put
 * work on (tens of thousands of small reads and writes through /proc/PID/mem took
 * most of a big attach's hold). 0 or -errno. */
int static_text_load(struct static_ctx *s);
/* len bytes at addr: from the copy inside the text, else from the target. */
int static_text_read(struct static_ctx *s, uint64_t addr, void *buf, size_t len);
/* Changes the copy (saved: its old bytes, or NULL), for static_text_flush. */
int static_text_put(struct static_ctx *s, uint64_t addr, const void *bytes, size_t len, void *saved);
/* Writes every page of the text changed since, one write per run of pages. */
int static_text_flush(struct static_ctx *s);
/* The batch into the text copy and out to the target, each write's old bytes into
 * saved. */
int static_write(struct static_ctx *s, struct patch_write *w, size_t n);
/* Publishes the resume table built in this process (tramp_resume_add) to the
 * agent's golat_resume_tab, with the entries of the one there before. */
int static_resume_publish(struct static_ctx *s, uint64_t tab_ptr);
/* Adds the target's current resume table (at the pointer tab_ptr) to this process's. */
int static_resume_pull(struct static_ctx *s, uint64_t tab_ptr);

#endif
