/* golat run, for a statically linked Go program (CGO_ENABLED=0: no PT_INTERP, so no
 * loader to honour LD_PRELOAD). golat starts it as its child under ptrace, lets it run
 * into runtime.main (to its start of sysmon), hooks it from outside while every
 * thread is held (static_attach, lib/attach/static.h), lets it go, and waits for it:
 * when it ends, by any path (exit, a signal, kill -9), golat writes the final report
 * from its stats file, as the preloaded library would at exit, and exits with its
 * status (128 + the signal, as a shell says it).
 *
 * Why runtime.main: by then rt0_go and schedinit have run (Go's signal handlers are
 * installed, the heap and m0 exist, g is in FS: runtime/proc.go, schedinit and main)
 * and no user code has. golat holds it where main starts sysmon, the program's first
 * clone, seen as a system call stop: nothing is planted in its text (an int3 there
 * would kill it if golat died before taking it out).
 *
 * The child waits before its exec, in a read of a pipe whose only writer is golat, and
 * golat seizes it there, then closes the pipe, rather than PTRACE_TRACEME: only a seized
 * tracee (and the threads it makes, with PTRACE_O_TRACECLONE) can be stopped with
 * PTRACE_INTERRUPT, which holding every thread needs. No PTRACE_O_EXITKILL: a golat
 * killed while it hooks leaves the program running (the kernel lets its threads go),
 * hooked in part, each function whole (doc/attach.md, "If golat is killed meanwhile"),
 * for golat detach. A golat killed before it seized the child closes the pipe by dying:
 * the child's read ends and the program runs, unhooked. (A child that stopped itself
 * with SIGSTOP instead stayed stopped for good when golat died at that instant.)
 *
 * The host program comes first: when the hooking fails, golat says why on a
 * `golat: ` line and lets the program run unhooked, as the library does. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "gobin.h"
#include "hookskip.h"
#include "inject.h"
#include "log.h"
#include "paths.h"
#include "report.h"
#include "static.h"
#include "statsread.h"

/* What golat run knows of its child. */
struct child {
	pid_t pid;
	int status;        /* its wait status, once it ended */
	bool ended;
	struct config cfg; /* the GOLAT_* variables, read as the library reads them */
	char output[PATH_MAX], stats[PATH_MAX]; /* with %p its pid; stats "": the default */
	bool stats_named;  /* GOLAT_STATS named the file: it stays after the report */
	struct static_result r;
	bool hooked;
};

static volatile sig_atomic_t forward_to;

/* SIGINT, SIGTERM, SIGHUP, SIGQUIT sent to golat go on to the program, which golat
 * stands for. One from the terminal (si_code > 0) reached the whole foreground process
 * group, the program too: sending it again would deliver it twice. */
static void forward(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (forward_to > 0 && si->si_code <= 0)
		kill((pid_t)forward_to, sig);
}

static void forward_signals(void)
{
	struct sigaction sa = { .sa_sigaction = forward, .sa_flags = SA_SIGINFO | SA_RESTART };
	int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static bool group_stop_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* The child: waits for golat to seize it (gate: the pipe's read end, -1 when not
 * traced) until golat closes the pipe or dies, then becomes the program. The pipe is
 * close-on-exec; exec puts the signal dispositions golat changed back to their
 * defaults. */
static void become(const char *exe, char **argv, const int gate[2])
{
	if (gate[0] >= 0) {
		char b;
		close(gate[1]);
		while (read(gate[0], &b, 1) < 0 && errno == EINTR)
			;
	}
	execv(exe, argv);
	dprintf(2, "golat: cannot run %s: %s\n", exe, strerror(errno));
	_exit(127);
}

/* Seizes the child waiting before its exec, lets it go on (closes *gate, the pipe's
 * write end, whatever happens) and follows it to the exec's stop. 0, or -ESRCH when
 * it ended first (c->status), or -errno (the child then runs on, untraced). */
static int seize_to_exec(struct child *c, int *gate)
{
	int st;
	int rc = ptrace(PTRACE_SEIZE, c->pid, 0, PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC) != 0 ? -errno : 0;
	close(*gate);
	*gate = -1;
	if (rc)
		return rc;
	for (;;) {
		if (waitpid(c->pid, &st, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			c->ended = true;
			c->status = st;
			return -ESRCH;
		}
		int event = st >> 16;
		if (event == PTRACE_EVENT_EXEC)
			return 0;
		ptrace(PTRACE_CONT, c->pid, 0, event ? 0 : WSTOPSIG(st));
	}
}

/* Runs the program, stopping at each system call of its first thread (PTRACE_SYSCALL:
 * stops only a live golat sees; nothing that traps without it), until that thread's
 * first clone has returned: runtime.main starting sysmon (newm(sysmon), its first act:
 * rt0_go and schedinit have run, Go's signal handlers are in, no package's init has;
 * runtime/proc.go, main). No thread is made before it. The tid held at the clone's
 * syscall-exit stop (the new thread waits in its first stop for static_hold_all), 0
 * when the program ended first (c->status), or -errno. Signals on the way are
 * delivered, and a group stop (SIGSTOP, Ctrl-Z) stays a stop until SIGCONT. */
static pid_t to_runtime_main(struct child *c, char *err, size_t n)
{
	bool in_clone = false;
	if (ptrace(PTRACE_SETOPTIONS, c->pid, 0, PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD) != 0 ||
	    ptrace(PTRACE_SYSCALL, c->pid, 0, 0) != 0) {
		snprintf(err, n, "PTRACE_SYSCALL: %s", strerror(errno));
		return -errno;
	}
	for (;;) {
		int st;
		if (waitpid(c->pid, &st, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, n, "waiting for runtime.main: %s", strerror(errno));
			return -errno;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			c->ended = true;
			c->status = st;
			return 0;
		}
		int event = st >> 16, sig = WSTOPSIG(st);
		struct user_regs_struct regs;
		if (sig == (SIGTRAP | 0x80) && ptrace(PTRACE_GETREGS, c->pid, 0, &regs) == 0 &&
		    regs.orig_rax == SYS_clone) {
			if (in_clone && regs.rax != (uint64_t)-ENOSYS)
				return c->pid; /* its exit: sysmon made */
			in_clone = true;
		}
		if (event == PTRACE_EVENT_STOP && group_stop_sig(sig))
			ptrace(PTRACE_LISTEN, c->pid, 0, 0);
		else
			ptrace(PTRACE_SYSCALL, c->pid, 0, event || sig == (SIGTRAP | 0x80) ? 0 : sig);
	}
}

/* What the library says at start, for this program: unmatched specs, every skip at
 * debug, then one line (lib/golat.c, log_result). */
static void say_hooked(const struct child *c, const struct gobin *gb, const struct static_hold *h,
		       uint64_t elapsed_ns)
{
	const struct static_result *r = &c->r;
	for (size_t i = 0; i < r->nskips; i++) {
		if (r->skips[i].unmatched)
			log_info("GOLAT_FUNCS: '%s' matches no function", r->skips[i].name);
		else
			log_debug("skipped %s: %s", r->skips[i].name, r->skips[i].reason);
	}
	if (!c->hooked)
		return;
	char top[256];
	hook_skips_top(r->skips, r->nskips, top, sizeof(top));
	log_info("pid %d (%s): hooked %zu of %zu selected functions in %.1f ms (%.1f KiB of "
		 "trampolines), skipped %zu%s%s%s; %zu thread%s held %.0f us (patching %.0f us)",
		 (int)c->pid, gb->go_version[0] ? gb->go_version : "go version unknown",
		 r->hooked + r->already, r->selected, elapsed_ns / 1e6, r->tramp_bytes / 1024.0,
		 r->nskips - r->nunmatched, *top ? " (" : "", top, *top ? ")" : "", h->w.n,
		 h->w.n == 1 ? "" : "s", (h->released_ns - h->first_ns) / 1e3, r->stopped_ns / 1e3);
	if (r->stats_path[0])
		log_info("live stats in %s (golat report %d)", r->stats_path, (int)c->pid);
}

/* Every thread held in runtime.main (at sysmon's clone), hooked, let go. The program runs on
 * whatever happens here, unless it ended. */
static void hook_at_main(struct child *c, pid_t tid, const struct gobin *gb, const char *agent)
{
	struct static_hold h = { .exitkill = false };
	struct static_opts o = { .specs = c->cfg.funcs, .sample = c->cfg.sample, .slowest = c->cfg.slowest,
				 .stats_path = c->stats[0] ? c->stats : NULL, .agent = agent,
				 .monotonic = c->cfg.monotonic };
	char err[1024];
	uint64_t t0 = cli_mono_ns();
	/* Planned with only the trapped thread stopped, before the others are held. */
	struct static_prep *prep = NULL;
	int rc = static_prepare(c->pid, o.specs, &prep, err, sizeof(err));
	o.prep = prep;
	if (rc == 0 && (rc = static_hold_add(&h, tid)) != 0)
		snprintf(err, sizeof(err), "reading thread %d's registers: %s", (int)tid, strerror(-rc));
	if (rc == 0)
		rc = static_hold_all(&h, c->pid, err, sizeof(err));
	if (rc == 0) {
		rc = static_attach(&h.w, &o, &c->r, err, sizeof(err));
		c->hooked = rc == 0;
	}
	uint64_t elapsed = cli_mono_ns() - t0;
	static_hold_release(&h);
	if (h.exited) {
		c->ended = true;
		c->status = h.status;
	}
	static_prep_free(prep);
	say_hooked(c, gb, &h, elapsed);
	if (rc && !c->ended)
		log_info("not hooking anything: %s (%s); pid %d runs unhooked", err, strerror(-rc), (int)c->pid);
	static_hold_free(&h);
}

/* The stats file of the program: the one static_attach made, else (golat attach hooked
 * it later) where the library would have made it. */
static void stats_file(const struct child *c, char *out, size_t n)
{
	if (c->r.stats_path[0]) {
		snprintf(out, n, "%s", c->r.stats_path);
		return;
	}
	if (c->stats[0]) {
		snprintf(out, n, "%s", c->stats);
		return;
	}
	for (int i = 0; i < 2; i++)
		if (paths_default_stats(out, n, (int)c->pid, i) == 0 && access(out, F_OK) == 0)
			return;
	out[0] = 0;
}

static int exit_status(const struct child *c)
{
	if (WIFSIGNALED(c->status))
		return 128 + WTERMSIG(c->status);
	return WIFEXITED(c->status) ? WEXITSTATUS(c->status) : 1;
}

/* The report, where GOLAT_OUTPUT says (lib/golat.c's write_report: stderr, or the
 * path's format); after the final one (not periodic) the stats file goes unless
 * GOLAT_STATS named it. */
static void report(const struct child *c, bool periodic)
{
	char path[PATH_MAX], err[512];
	stats_file(c, path, sizeof(path));
	if (path[0] && !periodic)
		static_ended(path, exit_status(c)); /* its exit, and the clock pair that times it */
	struct stats_view v;
	if (!path[0] || stats_open(&v, path, err, sizeof(err)) != 0) {
		if (c->hooked)
			log_info("final report not written: %s", path[0] ? err : "no stats file");
		return;
	}
	struct report_skip *sk = calloc(c->r.nskips + 1, sizeof(*sk));
	for (size_t i = 0; sk && i < c->r.nskips; i++)
		sk[i] = (struct report_skip){ c->r.skips[i].spec, c->r.skips[i].name, c->r.skips[i].reason };
	const char *out = c->output[0] && strcmp(c->output, "-") != 0 ? c->output : NULL;
	int rc = cli_report_to(out, stderr, &v, NULL, sk, sk ? c->r.nskips : 0);
	stats_close(&v);
	free(sk);
	if (rc)
		log_info("final report not written: %s%s%s; the stats stay in %s (golat report %s)",
			 out ? out : "", out ? ": " : "", strerror(-rc), path, path);
	else if (!c->stats_named && !periodic)
		unlink(path);
}

/* Waits for the program to end; with GOLAT_INTERVAL, rewrites the report meanwhile. */
static void wait_end(struct child *c)
{
	uint64_t every = (uint64_t)(c->cfg.interval * 1e9), next = cli_mono_ns() + every;
	while (!c->ended) {
		/* Any tid, __WALL: a thread that exited while golat traced it stays a zombie
		 * until its tracer reaps it, and the process's own exit waits for it. */
		int st;
		pid_t k = waitpid(-1, &st, __WALL | (every ? WNOHANG : 0));
		if (k == c->pid && (WIFEXITED(st) || WIFSIGNALED(st))) {
			c->ended = true;
			c->status = st;
		} else if (k < 0 && errno != EINTR) {
			c->ended = true; /* not our child any more: nothing to wait for */
			c->status = 0;
		} else if (every && k <= 0) {
			nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
			if (cli_mono_ns() >= next) {
				next += every;
				report(c, true);
			}
		}
	}
}

/* The GOLAT_* environment as the library reads it, its paths with the child's pid. */
static void read_config(struct child *c)
{
	config_read(&c->cfg);
	const char *out = getenv("GOLAT_OUTPUT"), *stats = getenv("GOLAT_STATS");
	c->output[0] = c->stats[0] = 0;
	if (out && *out && !paths_expand(c->output, sizeof(c->output), out, (int)c->pid))
		c->output[0] = 0;
	if (stats && *stats && !paths_expand(c->stats, sizeof(c->stats), stats, (int)c->pid))
		c->stats[0] = 0;
	c->stats_named = c->stats[0] != 0;
}


int cli_run_static(const char *exe, char **argv)
{
	struct child c = { 0 };
	char agent[PATH_MAX], err[1024];
	const char *funcs = getenv("GOLAT_FUNCS");
	bool trace = funcs != NULL; /* GOLAT_FUNCS unset: hook nothing, say nothing (SPEC.md) */
	if (trace && cli_find_agent(agent, false))
		return 1;
	struct gobin gb;
	int rc = gobin_open(&gb, exe, err, sizeof(err));
	if (rc)
		return cli_fail("%s", err);
	/* Until the program is let go, golat does not die of these signals: they are
	 * forwarded to it instead (golat would leave it hooked in part). */
	forward_signals();
	int gate[2] = { -1, -1 };
	if (trace && pipe2(gate, O_CLOEXEC) != 0) {
		gobin_close(&gb);
		return cli_fail("cannot run %s: pipe: %s", exe, strerror(errno));
	}
	fflush(NULL);
	c.pid = fork();
	if (c.pid < 0) {
		gobin_close(&gb);
		if (trace) {
			close(gate[0]);
			close(gate[1]);
		}
		return cli_fail("cannot run %s: fork: %s", exe, strerror(errno));
	}
	if (c.pid == 0)
		become(exe, argv, gate);
	forward_to = c.pid;
	if (trace) {
		close(gate[0]);
		inject_die_point(); /* a golat killed now: the program runs, unhooked */
	}
	read_config(&c);
	if (trace) {
		rc = seize_to_exec(&c, &gate[1]);
		pid_t tid = 0;
		if (rc == 0)
			tid = to_runtime_main(&c, err, sizeof(err));
		else if (rc != -ESRCH)
			snprintf(err, sizeof(err), "PTRACE_SEIZE: %s", strerror(-rc));
		if (tid > 0)
			hook_at_main(&c, tid, &gb, agent);
		else if (!c.ended && (rc || tid < 0)) {
			log_info("not hooking anything: %s; pid %d runs unhooked", err, (int)c.pid);
			ptrace(PTRACE_DETACH, c.pid, 0, 0);
		}
	}
	wait_end(&c);
	if (trace || c.output[0])
		report(&c, false);
	static_result_free(&c.r);
	gobin_close(&gb);
	return exit_status(&c);
}
