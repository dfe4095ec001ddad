/* static: hooking a Go program without libc (statically linked, or a PIE built without
 * cgo: gobin.nolibc) from outside — golat run (a program started under ptrace and held
 * at runtime.main's entry) and golat attach (a running one). Go owns FS there and there
 * is no library beside it, so golat reads and analyses the binary itself, maps the
 * freestanding agent (lib/agent/agent.h) and the trampolines into the process, and
 * writes the jumps through /proc/PID/mem while every thread is stopped. The same
 * analysis, relocation, trampolines, recorder and stats file as the preloaded library,
 * and, as there, golat's signal handler in front of Go's (the agent's: static_sig.c), so
 * plans use ANALYZE_SIGNALS_OWNED (hops through padding, int3s, steered branches).
 *
 * Files: static_prep.c (reading and planning, no thread held), static_attach.c (the
 * attach: trampolines with one thread held, jumps with all), static.c (what attach and
 * detach share, and the detach), static_agent.c (mapping and starting the agent),
 * static_mem.c (code memory, the text and the resume table in the target),
 * static_world.c (holding threads), static_sig.c (the signal handlers and their tables). */
#ifndef GOLAT_STATIC_H
#define GOLAT_STATIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch.h" /* arch_regs */
#include "hook.h" /* struct hook_skip */

/* Every thread of the process, each in a ptrace stop of the caller's, with its
 * registers as the stop found them. */
struct static_thread {
	pid_t tid;
	arch_regs regs;
};
struct static_world {
	pid_t pid;
	struct static_thread *t;
	size_t n;
};

struct static_prep; /* static_prepare */
struct target;      /* lib/target.h */

struct static_opts {
	const char *specs;      /* GOLAT_FUNCS syntax */
	uint32_t sample;        /* GOLAT_SAMPLE, 0 = 1 */
	uint32_t slowest;       /* GOLAT_SLOWEST */
	/* NULL: golat-<pid>.stats in the process's /dev/shm (else its $TMPDIR), named by
	 * the pid it sees itself as, made from here through its root (lib/target.h) and
	 * given to its user. Else a path that golat and the process both see (golat run). */
	const char *stats_path;
	const char *agent;      /* golat-agent.so as golat reads it: its bytes go into a
				 * memfd the process makes (it needs nothing of golat's files) */
	bool monotonic;         /* time with CLOCK_MONOTONIC (GOLAT_CLOCK, or no invariant TSC) */
	/* static_prepare's for this pid and specs: the planning done before the threads
	 * were held. NULL: static_attach plans with them held. */
	struct static_prep *prep;
	/* With prep: stop after the part that needs one thread held (the agent, code
	 * memory, every trampoline built and written: nothing reaches them yet), kept in
	 * prep; a second static_attach with every thread held and the same prep writes
	 * the jumps. So the threads are held only for the checks and the writes. */
	bool stage_only;
};

struct static_result {
	size_t selected, hooked, already;
	struct hook_skip *skips; /* malloc'd: static_result_free */
	size_t nskips, skips_cap, nunmatched;
	char stats_path[4096];   /* the stats file the agent writes, as golat reaches it */
	bool agent_loaded;       /* this call mapped the agent (false: it was there) */
	uint64_t stopped_ns;     /* from the first write to the last */
	size_t tramp_bytes;
};

/* The part of static_attach that needs no thread held, to be done before holding
 * them: pid's executable read and every function specs selects planned (capstone
 * decodes each whole: most of an attach's time). 0 with *out (static_prep_free), or a
 * negative errno with err as static_attach's. */
int static_prepare(pid_t pid, const char *specs, struct static_prep **out, char *err, size_t n);
void static_prep_free(struct static_prep *p);

/* Hooks the functions opts->specs selects in w->pid, mapping the agent first when it
 * is not there yet. On return every thread is still stopped, its registers as found
 * (a thread golat ran system calls on is put back exactly, but left with
 * PTRACE_O_TRACESYSGOOD as its only ptrace option), except that a thread stopped
 * inside a window golat writes (past its first byte) is moved to the same instruction's
 * copy in the trampoline (its RIP changed, in w->t too); the caller lets them go.
 * 0, or a negative errno with one sentence in err (no "golat: " prefix):
 *   -ESRCH   the process is gone
 *   -ENOEXEC not a statically linked Go program golat can read, or the agent is unusable
 *   -ENOENT  no function could be hooked (every spec unmatched or refused: r->skips says)
 *   -ENOMEM  no room in the target (code memory within ±2 GiB of its text)
 *   -EIO     reading or writing its memory failed, or no stats file could be made where
 *            the process sees it (its /dev/shm full, or neither it nor $TMPDIR there)
 *   -EPERM   this user cannot reach the process's namespaces (lib/target.h)
 *   -EEXIST  the process has the agent of another golat build (one agent per process) */
int static_attach(const struct static_world *w, const struct static_opts *opts, struct static_result *r,
		  char *err, size_t n);
/* Unhooks the functions specs selects (NULL: every hooked one): their original bytes
 * back from the binary file, the trampolines left in place for a thread still inside
 * one; prep: static_prepare_detach's (NULL: planned with the threads held). Same
 * contract and errors. */
int static_detach(const struct static_world *w, const char *specs, const struct static_prep *prep,
		  struct static_result *r, char *err, size_t n);
/* The part of static_detach that needs no thread held: the binary read and the hooked
 * functions specs selects (NULL: all) planned again. As static_prepare. */
int static_prepare_detach(pid_t pid, const char *specs, struct static_prep **out, char *err, size_t n);
void static_result_free(struct static_result *r);
/* The stats file the agent in t's process writes (a shared mapping of a file whose
 * header names the pid the process sees itself as): the path as golat reaches it in
 * here, and as the process names it in inside (NULL: not wanted). false when there
 * is none. */
bool static_stats_of(const struct target *t, char *here, char *inside, size_t n);
/* After the program ended (code: its exit status, or 128 + the signal that killed
 * it): marks its stats file exited with that code and records the last (TSC, ns)
 * pair, from which reports convert cycles to time. 0 or -errno. */
int static_ended(const char *stats_path, int code);

/* static_world.c: every thread of the process in a ptrace stop of the caller's at
 * once, for static_attach and static_detach. Zero it and set exitkill before use. */
struct static_hold {
	struct static_world w;       /* the threads held, registers as their stop found them */
	size_t cap;
	pid_t *pending;              /* asked to stop (or seized by the kernel), not stopped yet */
	size_t npending, pcap;
	bool exitkill;               /* PTRACE_O_EXITKILL: golat run's own child dies with golat
				      * while golat holds it (it would be left half patched) */
	uint64_t first_ns, all_ns;   /* CLOCK_MONOTONIC: the first thread stopped, the last */
	uint64_t released_ns;        /* the last let go */
	unsigned passed;             /* signals that came meanwhile, delivered */
	bool group_stop;             /* a thread was held in a group stop (SIGSTOP) */
	bool exited;                 /* the process ended meanwhile, and golat reaped it (its */
	int status;                  /* parent: golat run); its wait status */
};
/* Adds a thread already in a ptrace stop of the caller's (golat run's breakpoint). */
int static_hold_add(struct static_hold *h, pid_t tid);
/* Seizes and stops every thread of pid (PTRACE_SEIZE, PTRACE_INTERRUPT,
 * PTRACE_O_TRACECLONE), threads already traced by the caller included, until a listing
 * of /proc/PID/task finds none it does not hold. 0, or -errno with err set (no "golat: "):
 *   -ESRCH the process exited   -EAGAIN a thread did not stop within 2 s
 *   -EPERM the kernel refuses ptrace, -EBUSY another tracer holds it (inject_refused_static
 *          says why and names golat run)
 * On error the threads held so far stay held: static_hold_release lets them go. */
int static_hold_all(struct static_hold *h, pid_t pid, char *err, size_t n);
/* Seizes and stops thread tid of pid alone (static_attach's stage_only), the others
 * running on. 0, or -errno with err as static_hold_all's. */
int static_hold_one(struct static_hold *h, pid_t pid, pid_t tid, char *err, size_t n);
/* PTRACE_DETACH of every thread, held or still stopping; h->w still lists them (counts). */
void static_hold_release(struct static_hold *h);
void static_hold_free(struct static_hold *h);

#endif
