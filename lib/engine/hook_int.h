/* hook_int: what the engine's files share (hook.c: hooking and unhooking the user's
 * functions; hookown.c: golat's own patches, the return hook of runtime.asyncPreempt
 * and the process-exit hooks). See hook.h for the API. */
#ifndef GOLAT_HOOK_INT_H
#define GOLAT_HOOK_INT_H

#include <capstone/capstone.h>
#include <pthread.h>

#include "codemem.h"
#include "gobin.h"
#include "hook.h"
#include "patch.h"
#include "statsfile.h"
#include "window.h"

/* A function hooked at least once. Its trampolines and jumps are built once. */
struct hfn {
	const struct gobin_func *f;
	struct patch_write *w; /* the jumps: one per window, two for a hop; NULL: refused */
	size_t nw;
	uint32_t id;           /* the recorder's function id (stats file slot) */
	int active;
};

/* The engine, one per process (E in the engine's files). */
struct hook_state {
	pthread_mutex_t mu;
	int ready;
	struct gobin gb;
	struct codemem cm;
	struct statsfile sf;
	csh cs;
	/* runtime.asyncPreempt's end: attach is safe at run time once it is hooked. */
	struct patch_write resume_w[2];
	size_t resume_nw;
	int resume_ok;        /* its trampoline is built */
	int resume_in;        /* and its jump is in the text */
	char resume_why[200]; /* why it could not be built */
	struct patch_write exit_w[4]; /* the exit-path hooks (hook_exit_path) */
	size_t exit_nw;
	int exit_built, exit_in;
	size_t nactive;      /* functions hooked now */
	int runtime_started; /* after the constructor: goroutines may be parked anywhere */
	struct hfn *fns; /* every function ever prepared, hooked or refused */
	size_t nfns, cap;
	int32_t *idx;    /* by index in gb.funcs: its place in fns, or -1 */
	uint32_t nids;   /* recorder ids handed out */
};
extern struct hook_state hook_state;
#define E hook_state

/* window_build in E's binary and code memory. */
int hook_build_window(const struct analyze_window *w, const struct analyze_redirect *redirs, bool entry,
		      uint32_t id, const struct gobin_func *f, struct patch_write *out, size_t *nout,
		      char *reason, size_t n);

/* hookown.c. Both with E.mu held. Builds the return hook of runtime.asyncPreempt
 * (golat_tramp_resume); puts it in, before any window is patched. */
int hook_build_resume(char *reason, size_t n);
int hook_resume_in(struct patch_stats *st, char *reason, size_t n);

#endif
