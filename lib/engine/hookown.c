/* hookown: golat's own patches in the program, beside the user's functions: the
 * return hook of runtime.asyncPreempt (a goroutine preempted inside a window resumes
 * in its trampoline: it goes in before any window), and the entry hooks of the
 * process's ways out (runtime.exit, runtime.dieFromSignal: the report at exit); and
 * taking them out again once nothing is hooked (hook_idle). See hook.h. */
#include "hook_int.h"

#include <errno.h>
#include <stdio.h>

#include "analyze.h"
#include "log.h"
#include "sigown.h"
#include "tramp.h"

/* Builds the return hook of runtime.asyncPreempt (golat_tramp_resume). Called with
 * E.mu held. */
int hook_build_resume(char *reason, size_t n)
{
	const struct gobin_func *f = gobin_func_named(&E.gb, "runtime.asyncPreempt");
	struct analyze_window w;
	if (!f || !window_async_preempt(&E.gb, f, &w)) {
		snprintf(reason, n, "runtime.asyncPreempt %s", f ? "does not end as expected" : "not found");
		return -ENOTSUP;
	}
	return hook_build_window(&w, NULL, false, RESUME_ID, f, E.resume_w, &E.resume_nw, reason, n);
}

/* Puts the return hook of runtime.asyncPreempt in, before any window is patched:
 * from then on, a goroutine preempted inside a window resumes in its trampoline.
 * Called with E.mu held. */
int hook_resume_in(struct patch_stats *st, char *reason, size_t n)
{
	if (E.resume_in)
		return 0;
	struct patch_opts o = { .stats = st };
	int rc = codemem_seal(&E.cm, reason, n);
	if (rc == 0)
		rc = sigown_publish() ?: patch_apply(E.resume_w, E.resume_nw, st ? &o : NULL, reason, n);
	E.resume_in = rc == 0 || rc == -ENOTRECOVERABLE;
	return E.resume_in ? 0 : rc;
}

/* Plans one of the runtime functions golat hooks for itself, vetted here rather than
 * by the name policy: runtime.exit (assembly: MOVL code+0(FP), DI; MOVL $231, AX;
 * SYSCALL) and runtime.dieFromSignal (Go, on the signal stack). Neither is ever
 * preempted, and only their entry windows are used. */
static int exit_hook_plan(const char *name, struct analyze_plan *plan, const struct gobin_func **fp,
			  char *reason, size_t n)
{
	const struct gobin_func *f = gobin_func_named(&E.gb, name);
	const uint8_t *code = f ? gobin_code(&E.gb, f) : NULL;
	if (!code) {
		snprintf(reason, n, "no %s in this program", name);
		return -ENOENT;
	}
	struct analyze_input in;
	window_input(&E.gb, f, code, ANALYZE_NO_NAME_POLICY, &in);
	in.flag = 0;
	*fp = f;
	return analyze_func(&in, plan, reason, n);
}

/* Plans and builds the entry hook of one exit-path function (no return hooks). */
static int exit_hook(const char *name, uint32_t which, struct patch_write *w, size_t *nw,
		     char *reason, size_t n)
{
	struct analyze_plan plan;
	const struct gobin_func *f;
	int rc = exit_hook_plan(name, &plan, &f, reason, n);
	if (rc)
		return rc;
	if (plan.entry.ret || plan.entry.hop) {
		snprintf(reason, n, "%s has an unexpected shape", name);
		rc = -ENOTSUP;
	} else {
		rc = hook_build_window(&plan.entry, NULL, true, PROCEXIT_ID + which, f, w, nw, reason, n);
	}
	analyze_plan_free(&plan);
	return rc;
}

int hook_exit_path(uint64_t *stopped_ns, char *reason, size_t n)
{
	if (stopped_ns)
		*stopped_ns = 0;
	if (!E.ready) {
		snprintf(reason, n, "golat is not initialised");
		return -ENOEXEC;
	}
	size_t k = 0;
	pthread_mutex_lock(&E.mu);
	int rc = 0;
	if (!E.exit_built) {
		rc = exit_hook("runtime.exit", TRAMP_PROCEXIT_EXIT, E.exit_w, &E.exit_nw, reason, n);
		char why[256];
		/* Without it, a program killed by SIGTERM leaves only its stats file. */
		if (rc == 0 && exit_hook("runtime.dieFromSignal", TRAMP_PROCEXIT_SIGNAL,
					 E.exit_w + E.exit_nw, &k, why, sizeof(why)) == 0)
			E.exit_nw += k;
		else if (rc == 0)
			log_info("no report when killed by a signal: %s", why);
		E.exit_built = rc == 0;
	}
	struct patch_stats st = { 0 };
	struct patch_opts o = { .stats = &st };
	if (rc == 0 && !E.exit_in && (rc = codemem_seal(&E.cm, reason, n)) == 0)
		rc = sigown_publish() ?: patch_apply(E.exit_w, E.exit_nw, &o, reason, n);
	if (stopped_ns)
		*stopped_ns = st.stopped_ns;
	if (rc == 0 || rc == -ENOTRECOVERABLE)
		E.exit_in = 1;
	pthread_mutex_unlock(&E.mu);
	return rc;
}

int hook_idle(uint64_t *stopped_ns, char *reason, size_t n)
{
	if (stopped_ns)
		*stopped_ns = 0;
	if (!E.ready)
		return 0;
	pthread_mutex_lock(&E.mu);
	int rc = 0;
	if (E.nactive) {
		snprintf(reason, n, "%zu functions are still hooked", E.nactive);
		rc = -EBUSY;
	}
	/* Both in one stop: nothing of golat's is left half in. A goroutine parked in
	 * asyncPreempt resumes through the original epilogue, which is right now that no
	 * window is patched; one inside a trampoline finishes there (they are kept). */
	struct patch_write w[6];
	size_t nw = 0;
	for (size_t i = 0; rc == 0 && E.resume_in && i < E.resume_nw; i++)
		w[nw++] = E.resume_w[i];
	for (size_t i = 0; rc == 0 && E.exit_in && i < E.exit_nw; i++)
		w[nw++] = E.exit_w[i];
	struct patch_stats st = { 0 };
	struct patch_opts o = { .stats = &st };
	if (rc == 0 && nw)
		rc = patch_revert(w, nw, &o, reason, n);
	if (stopped_ns)
		*stopped_ns = st.stopped_ns;
	if (rc == 0 && nw) {
		E.resume_in = E.exit_in = 0;
		log_debug("golat's own patches taken out: the text is as it was");
	}
	pthread_mutex_unlock(&E.mu);
	return rc;
}

int hook_own_patches(void)
{
	pthread_mutex_lock(&E.mu);
	int k = (E.resume_in ? (int)E.resume_nw : 0) + (E.exit_in ? (int)E.exit_nw : 0);
	pthread_mutex_unlock(&E.mu);
	return k;
}
