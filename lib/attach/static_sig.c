/* static_sig: golat's signal handlers in a static Go program, from the command's side
 * (the handler itself is the agent's: lib/agent/sig.c). So that a plan may hop through
 * padding, place an int3 or steer branches (ANALYZE_SIGNALS_OWNED), as on the cgo
 * route, with every thread held and before any jump leads into a trampoline:
 *  - the translation tables that window_build registered in this process (xlate.c,
 *    sigown_add_*), merged with the ones an earlier attach left in the agent, are
 *    written into the program and golat_sigtab pointed at them (never freed there:
 *    a handler may still read an old table);
 *  - runtime.rt_sigaction's entry jumps (through a thunk in code memory, within reach
 *    of the text) to golat_agent_rt_sigaction (lib/arch/x86_64/agent/sigrt.S): Go
 *    installing a handler later finds golat's still in front, and reads back its own;
 *  - the agent puts golat's handler in front of Go's (AGENT_SIG_OWN).
 * A static_detach that leaves nothing hooked gives the signals back (AGENT_SIG_GIVE_BACK)
 * and the original rt_sigaction, once no thread is in golat's code. */
#define _GNU_SOURCE
#include "static_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>

#include "sigown.h"
#include "window.h"

/* A thread stopped before runtime.rt_sigaction's system call (window_rt_sigaction) can
 * start over at its entry: the instructions up to it only load registers from the
 * stack. */
#define RT_SYSCALL ARCH_RT_SIGACTION_SYSCALL

int static_sig_stage(struct codemem *cm, uint64_t to, uint64_t *thunk, char *err, size_t n)
{
	void *buf;
	int rc = codemem_alloc(cm, 16, 16, &buf, err, n);
	if (rc)
		return rc;
	arch_emit_thunk(buf, 16, to); /* 14 bytes on x86-64 */
	*thunk = codemem_addr(cm, buf);
	return 0;
}

/* The agent's current tables, read into *t (malloc'd arrays). 0 or -errno. */
static int pull(struct static_ctx *s, uint64_t at, struct sigtab *t)
{
	struct sigtab r;
	int rc = inject_mem_read(&s->t, at, &r, sizeof(r));
	if (rc)
		return rc;
	void *tr = malloc(r.ntr * sizeof(*r.tr) + 1), *j = malloc(r.nj * sizeof(*r.j) + 1),
	     *trap = malloc(r.nt * sizeof(*r.trap) + 1);
	if (!tr || !j || !trap)
		rc = -ENOMEM;
	if (rc == 0 && r.ntr)
		rc = inject_mem_read(&s->t, (uint64_t)(uintptr_t)r.tr, tr, r.ntr * sizeof(*r.tr));
	if (rc == 0 && r.nj)
		rc = inject_mem_read(&s->t, (uint64_t)(uintptr_t)r.j, j, r.nj * sizeof(*r.j));
	if (rc == 0 && r.nt)
		rc = inject_mem_read(&s->t, (uint64_t)(uintptr_t)r.trap, trap, r.nt * sizeof(*r.trap));
	*t = (struct sigtab){ r.ntr, r.nj, r.nt, tr, j, trap };
	if (rc)
		sigown_table_free(t);
	return rc;
}

/* The tables of this process's trampolines and the agent's, into the program. */
static int publish(struct static_ctx *s, uint64_t ptr_at)
{
	uint64_t cur = 0;
	struct sigtab old = { 0 }, t;
	int rc = inject_mem_read(&s->t, ptr_at, &cur, 8);
	if (rc == 0 && cur)
		rc = pull(s, cur, &old);
	if (rc == 0)
		rc = sigown_table(cur ? &old : NULL, &t);
	sigown_table_free(&old);
	if (rc)
		return rc;
	size_t ltr = t.ntr * sizeof(*t.tr), lj = t.nj * sizeof(*t.j), lt = t.nt * sizeof(*t.trap);
	size_t len = sizeof(t) + ltr + lj + lt;
	uint8_t *img = malloc(len);
	uint64_t at = 0;
	if (!img)
		rc = -ENOMEM;
	if (rc == 0)
		rc = static_alloc(s, len, &at);
	if (rc == 0) {
		struct sigtab h = { t.ntr, t.nj, t.nt, (const void *)(uintptr_t)(at + sizeof(t)),
				    (const void *)(uintptr_t)(at + sizeof(t) + ltr),
				    (const void *)(uintptr_t)(at + sizeof(t) + ltr + lj) };
		memcpy(img, &h, sizeof(h));
		memcpy(img + sizeof(t), t.tr, ltr);
		memcpy(img + sizeof(t) + ltr, t.j, lj);
		memcpy(img + sizeof(t) + ltr + lj, t.trap, lt);
		rc = inject_mem_write(&s->t, at, img, len);
	}
	if (rc == 0)
		rc = inject_mem_write(&s->t, ptr_at, &at, 8);
	free(img);
	sigown_table_free(&t);
	return rc;
}

/* runtime.rt_sigaction's entry redirected to the agent (through thunk), unless it is
 * already. A thread stopped before its SYSCALL starts over at the entry. */
static int redirect(struct static_ctx *s, const struct gobin *gb, uint64_t thunk)
{
	const struct gobin_func *f = window_rt_sigaction(gb);
	if (!f || !thunk)
		return -ENOEXEC;
	uint64_t at = f->entry + gb->bias;
	if (!static_text_is_file(s, gb, f, f->entry, 5))
		return 0; /* an earlier attach's */
	int64_t rel = (int64_t)(thunk - (at + 5));
	if (rel != (int32_t)rel)
		return -ENOEXEC;
	for (size_t i = 0; i < s->w->n; i++) {
		struct static_thread *t = &s->w->t[i];
		if (ARCH_REGS_PC(t->regs) <= at || ARCH_REGS_PC(t->regs) > at + RT_SYSCALL)
			continue;
		ARCH_REGS_PC(t->regs) = at;
		if (s->call_on && t->tid == s->call.tid)
			ARCH_REGS_PC(s->call.regs) = at; /* static_end puts these back */
		else if (arch_setregs(t->tid, &t->regs) != 0)
			return -ESRCH;
	}
	uint8_t jmp[5] = { 0xe9 };
	int32_t r32 = (int32_t)rel;
	memcpy(jmp + 1, &r32, 4);
	int rc = static_text_put(s, at, jmp, 5, NULL);
	return rc ? rc : static_text_flush(s);
}

int static_sig_finish(struct static_ctx *s, const struct gobin *gb, struct agent_config *cfg, uint64_t thunk)
{
	int rc = publish(s, cfg->sigtab);
	if (rc) {
		snprintf(s->err, s->errn, "cannot write golat's signal tables into pid %d: %s", (int)s->t.pid,
			 strerror(-rc));
		return rc == -ESRCH ? rc : -EIO;
	}
	if ((rc = redirect(s, gb, thunk)) != 0) {
		snprintf(s->err, s->errn, "cannot keep golat's signal handlers in front in pid %d: %s", (int)s->t.pid,
			 rc == -ENOEXEC ? "runtime.rt_sigaction is not the one golat knows" : strerror(-rc));
		return rc == -ESRCH ? rc : -EIO;
	}
	if (cfg->sig_owning)
		return 0;
	cfg->sig_op = AGENT_SIG_OWN;
	rc = static_agent_call(s, cfg->entry, cfg);
	cfg->sig_op = 0;
	return rc;
}

/* Whether a thread of the world is outside the program's text and the vDSO: in golat's
 * code (a trampoline, the agent) or on its way there. */
static pid_t thread_in_golat(struct static_ctx *s)
{
	char path[64], line[512];
	unsigned long long vlo = 0, vhi = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)s->t.pid);
	FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "[vdso]") && sscanf(line, "%llx-%llx", &vlo, &vhi) == 2)
			break;
	if (f)
		fclose(f);
	for (size_t i = 0; i < s->w->n; i++) {
		uint64_t pc = ARCH_REGS_PC(s->w->t[i].regs);
		if (!(pc >= s->t.text_lo && pc < s->t.text_hi) && !(pc >= vlo && pc < vhi))
			return s->w->t[i].tid;
	}
	return 0;
}

int static_sig_give_back(struct static_ctx *s, const struct gobin *gb, char *why, size_t wn)
{
	const struct gobin_func *f = window_rt_sigaction(gb);
	uint64_t entry;
	*why = 0;
	if (!f)
		return 0; /* golat never owned them */
	/* The original back in any case: the text is the file's again. */
	bool redirected = !static_text_is_file(s, gb, f, f->entry, 5);
	int rc = redirected ? static_text_put(s, f->entry + gb->bias, gobin_code(gb, f), 5, NULL) : 0;
	if (rc == 0 && redirected)
		rc = static_text_flush(s);
	if (rc || !static_agent_find(s, &entry))
		return rc;
	/* Go's handlers back only once no thread can be in a trampoline, where a fault of a
	 * relocated instruction needs golat's translation. Else golat's stay in front (they
	 * hand every signal on to Go's, as recorded), until a later detach: the agent
	 * knows whether they are in (AGENT_SIG_GIVE_BACK puts back only where they are). */
	pid_t tid = thread_in_golat(s);
	if (tid) {
		snprintf(why, wn, "thread %d was in golat's code: golat's signal handlers stay in front of Go's "
				  "(harmless; golat detach again puts Go's back)", (int)tid);
		return 0;
	}
	if (!s->call_on)
		rc = static_begin_calls(s);
	struct agent_config cfg = { .abi = AGENT_ABI, .sig_op = AGENT_SIG_GIVE_BACK };
	if (rc == 0)
		rc = static_agent_call(s, entry, &cfg);
	if (rc && rc != -ESRCH) { /* an agent of another build, say: the detach is done all the same */
		snprintf(why, wn, "cannot put Go's signal handlers back: %s", s->err);
		s->err[0] = 0;
		rc = 0;
	}
	return rc;
}
