/* golat.c: the shared object's entry points — the constructor that LD_PRELOAD runs
 * before the Go runtime starts, the reports it writes while the program runs and when
 * it exits, the public API of include/golat.h, and the changes the control socket
 * asks for (control.h), which go through the same code as golat_attach. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <signal.h>

#include "config.h"
#include "control.h"
#include "golat.h"
#include "goprobe.h"
#include "hook.h"
#include "heatring.h"
#include "hookskip.h"
#include "log.h"
#include "proc.h"
#include "report.h"
#include "sigown.h"
#include "statsread.h"
#include "stw.h"

#define GOLAT_API __attribute__((visibility("default")))

static struct {
	struct config cfg;
	struct hook_result first; /* the constructor's attach: its skips go in reports */
	pthread_mutex_t report_mu;
	pthread_mutex_t start_mu; /* starting the engine: the constructor, the API, control */
	int reports;              /* reports were asked for at start: GOLAT_FUNCS, _OUTPUT
				   * or _INTERVAL set (else only `golat attach` hooks) */
	int exiting;              /* atomic: an exit path was reached */
	int exit_done;            /* atomic: the final report is written (or failed) */
	int ticker_up;            /* the ticker thread runs */
	uint32_t wake;            /* futex: the ticker is asked to write the final report */
} G = { .report_mu = PTHREAD_MUTEX_INITIALIZER, .start_mu = PTHREAD_MUTEX_INITIALIZER };

static __thread char last_error[512];

static int fail(int rc, const char *reason)
{
	snprintf(last_error, sizeof(last_error), "%s", reason);
	return rc;
}

static const char *go_version(void)
{
	const struct gobin *gb = hook_binary();
	return gb && gb->go_version[0] ? gb->go_version : "unknown Go version";
}

/* Logs what an attach did: one info line, unmatched specs, every skip at debug. */
static void log_result(const struct hook_result *r)
{
	for (size_t i = 0; i < r->nskips; i++) {
		if (r->skips[i].unmatched)
			log_info("GOLAT_FUNCS: '%s' matches no function", r->skips[i].name);
		else
			log_debug("skipped %s: %s", r->skips[i].name, r->skips[i].reason);
	}
	char top[256];
	hook_skips_top(r->skips, r->nskips, top, sizeof(top));
	log_info("pid %d (%s): hooked %zu of %zu selected functions in %.1f ms (%.1f KiB of "
		 "trampolines), skipped %zu%s%s%s", (int)getpid(), go_version(), r->hooked + r->already,
		 r->selected, r->elapsed_ns / 1e6, r->tramp_bytes / 1024.0, r->nskips - r->nunmatched,
		 *top ? " (" : "", top, *top ? ")" : "");
}

/* Renders the report to f. */
static int render(FILE *f, enum report_format fmt, char *err, size_t n)
{
	struct statsfile *sf = hook_stats();
	struct stats_view v;
	rec_flush_lost();
	statsfile_pair(sf);
	int rc = stats_view_mem(&v, sf->h, sf->h->file_size, err, n);
	if (rc)
		return rc;
	v.fd = sf->fd; /* the file's length bounds the pages read */
	struct report_skip *sk = calloc(G.first.nskips + 1, sizeof(*sk));
	if (!sk)
		return -ENOMEM;
	for (size_t i = 0; i < G.first.nskips; i++)
		sk[i] = (struct report_skip){ G.first.skips[i].spec, G.first.skips[i].name,
					      G.first.skips[i].reason };
	struct report_opts o = { .format = fmt, .skipped = sk, .nskipped = G.first.nskips,
				 .bin = hook_binary() };
	rc = report_write(f, &v, &o);
	free(sk);
	stats_close(&v);
	if (rc)
		snprintf(err, n, "%s", strerror(-rc));
	return rc;
}

/* Renders into an already open descriptor (a device, a FIFO, /dev/stderr). */
static int write_to_fd(int fd, const char *out, enum report_format fmt, char *err, size_t n)
{
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		snprintf(err, n, "cannot write %.300s: %s", out, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	int rc = render(f, fmt, err, n);
	if (fclose(f) != 0 && rc == 0) {
		snprintf(err, n, "cannot write %.300s: %s", out, strerror(errno));
		rc = -EIO;
	}
	return rc;
}

/* Writes the report where GOLAT_OUTPUT says. A regular file (or a new one) is
 * replaced atomically, so that a reader never sees half a report, even with
 * GOLAT_INTERVAL; anything else that exists (/dev/null, a FIFO, a terminal) is
 * written in place: renaming over it would replace the device by a file. */
static int write_report(char *err, size_t n)
{
	const char *out = G.cfg.output;
	if (!*out || strcmp(out, "-") == 0) {
		int rc = render(stderr, REPORT_TEXT, err, n);
		fflush(stderr);
		return rc;
	}
	enum report_format fmt = report_format_for_path(out);
	struct stat st;
	if (stat(out, &st) == 0 && !S_ISREG(st.st_mode))
		return write_to_fd(open(out, O_WRONLY | O_CLOEXEC | O_NONBLOCK), out, fmt, err, n);
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.golat-tmp-%d", out, (int)getpid());
	int rc = write_to_fd(open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644),
			     tmp, fmt, err, n);
	if (rc == 0 && rename(tmp, out) != 0) {
		snprintf(err, n, "cannot rename %.200s to %.200s: %s", tmp, out, strerror(errno));
		rc = -EIO;
	}
	if (rc)
		unlink(tmp);
	return rc;
}

/* Says once that the stats ran out of space (the recorder cannot: it runs inside the
 * program's calls). What could not be recorded is in the report's `lost`. */
static void warn_if_full(void)
{
	static int warned;
	struct statsfile *sf = hook_stats();
	int e;
	if (warned || !sf || !statsfile_full(sf, &e))
		return;
	warned = 1;
	log_info("cannot reserve space for the stats in %s (%s): calls that need more are not "
		 "recorded (the report counts them as lost); the program runs on",
		 sf->path[0] ? sf->path : "memory", strerror(e));
}

/* The final report, once, then the stats file goes (unless GOLAT_STATS named it). */
static void final_report(void)
{
	struct statsfile *sf = hook_stats();
	char err[512];
	warn_if_full();
	if (G.cfg.interval > 0) /* the last interval's counts (heatring.h) */
		heatring_tick(sf, (uint32_t)(G.cfg.interval * 1000));
	pthread_mutex_lock(&G.report_mu);
	int rc = write_report(err, sizeof(err));
	pthread_mutex_unlock(&G.report_mu);
	if (rc == 0) {
		__atomic_fetch_or(&sf->h->flags, STATS_F_REPORTED, __ATOMIC_RELEASE);
		statsfile_remove(sf);
		heatring_remove(sf);
	} else if (sf->path[0]) {
		log_info("final report not written: %s; the stats stay in %s (golat report %s)", err,
			 sf->path, sf->path);
	} else {
		log_info("final report not written: %s", err);
	}
	__atomic_store_n(&G.exit_done, 1, __ATOMIC_RELEASE);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* An exit path was reached (recorder.c, TRAMP_PROCEXIT), on a thread of the program,
 * on its small golat stack (tramp.S); other threads still run. The ticker thread,
 * with a stack of its own, writes the report, and we wait for it: at most 10 s for
 * runtime.exit, 3 s for runtime.dieFromSignal, where we are inside Go's signal
 * handler and the report could deadlock on a lock the interrupted code holds (stdio,
 * malloc). Either way the stats file keeps everything. A second thread that exits
 * meanwhile waits too, so that exit_group cannot cut the report short. */
static void on_process_exit(int code, int signaled)
{
	int waits = signaled ? 3000 : 10000;
	if (!__atomic_exchange_n(&G.exiting, 1, __ATOMIC_ACQ_REL)) {
		struct statsfile *sf = hook_stats();
		sf->h->exit_code = (uint64_t)(int64_t)code;
		__atomic_fetch_or(&sf->h->flags, STATS_F_EXITED, __ATOMIC_RELEASE);
		statsfile_pair(sf);
		rec_flush_lost();
		control_exit();
		if (!G.reports) { /* only golat attach hooked: its stats file stays for it */
			__atomic_store_n(&G.exit_done, 1, __ATOMIC_RELEASE);
			return;
		}
		if (!G.ticker_up) {
			log_info("no report: golat's thread is not running; the stats stay in %s",
				 sf->path[0] ? sf->path : "memory only");
			return;
		}
		__atomic_store_n(&G.wake, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, &G.wake, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
	for (int i = 0; i < waits && !__atomic_load_n(&G.exit_done, __ATOMIC_ACQUIRE); i++)
		sleep_ms(1);
}

/* golat's own thread: refreshes the TSC/clock pair every second (so that a reader of
 * a killed program's file can still convert cycles) and rewrites the report every
 * GOLAT_INTERVAL seconds. */
static void *ticker(void *arg)
{
	(void)arg;
	double since = 0;
	for (;;) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		syscall(SYS_futex, &G.wake, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
		if (__atomic_load_n(&G.wake, __ATOMIC_ACQUIRE)) {
			final_report(); /* asked by on_process_exit for a dying process */
			return NULL;
		}
		since += 0.1;
		statsfile_pair(hook_stats());
		rec_flush_lost();
		warn_if_full();
		if (G.cfg.interval <= 0 || since + 1e-9 < G.cfg.interval ||
		    __atomic_load_n(&G.exiting, __ATOMIC_ACQUIRE))
			continue;
		since = 0;
		char err[512];
		pthread_mutex_lock(&G.report_mu);
		int rc = __atomic_load_n(&G.exiting, __ATOMIC_ACQUIRE) ? 0 : write_report(err, sizeof(err));
		pthread_mutex_unlock(&G.report_mu);
		if (rc)
			log_info("periodic report not written: %s", err);
		heatring_tick(hook_stats(), (uint32_t)(G.cfg.interval * 1000));
	}
	return NULL;
}

/* An unwritable GOLAT_OUTPUT is found now, not at exit: the report goes to stderr. */
static void check_output(void)
{
	char *out = G.cfg.output, dir[4096];
	if (!*out || strcmp(out, "-") == 0)
		return;
	snprintf(dir, sizeof(dir), "%s", out);
	const char *d = dirname(dir);
	struct stat st;
	const char *why;
	if (stat(out, &st) == 0 && !S_ISREG(st.st_mode))
		/* /dev/null, a FIFO, a terminal: written in place, its directory untouched */
		why = access(out, W_OK) != 0 ? strerror(errno) : NULL;
	else
		why = access(d, W_OK | X_OK) != 0 ? strerror(errno)
		      : access(out, F_OK) == 0 && access(out, W_OK) != 0 ? strerror(errno) : NULL;
	if (!why)
		return;
	log_info("GOLAT_OUTPUT=%s cannot be written (%s); the report goes to stderr", out, why);
	out[0] = 0;
}

static int init_engine(char *why, size_t n)
{
	char warn[512];
	struct hook_config hc = { .stats_path = G.cfg.stats[0] ? G.cfg.stats : NULL,
				  .sample = G.cfg.sample, .slowest = G.cfg.slowest,
				  .monotonic = G.cfg.monotonic,
				  .on_process_exit = on_process_exit };
	int rc = hook_init(&hc, why, n, warn, sizeof(warn));
	if (rc == 0 && *warn && G.cfg.stats[0])
		log_info("GOLAT_STATS=%s: %s; no live stats file, the final report still works",
			 G.cfg.stats, warn);
	else if (rc == 0 && *warn)
		log_info("no live stats file (%s): the final report still works", warn);
	/* In front of the program's signal handlers: before the Go runtime installs them
	 * (the constructor), or now, for a program that runs already. */
	if (rc == 0 && sigown_init(warn, sizeof(warn)) != 0)
		log_info("%s: hops into padding and relocated loads stay refused", warn);
	return rc;
}

/* golat's thread takes no signal but the stop-the-world one (the mask is inherited):
 * the program's process-wide signals go to the program's threads. A SIGPROF of Go's
 * process-wide timer (setitimer), which Go counts only on threads without a timer of
 * their own, landed on this thread asleep in its futex and showed in CPU profiles as
 * external code at libc's syscall(): 3% to 17% of a hooked tight loop's samples. */
static void start_ticker(void)
{
	sigset_t all, old;
	sigfillset(&all);
	sigdelset(&all, STW_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &a, ticker, NULL);
	if (rc != 0)
		log_info("no periodic reports: cannot start a thread: %s", strerror(rc));
	else
		G.ticker_up = 1;
	pthread_attr_destroy(&a);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The engine, started on first use after the constructor (golat_attach, golat attach),
 * with 1 call in `sample` timed (0: GOLAT_SAMPLE). golat has one sampling rate per
 * process. */
static int engine_up(uint32_t sample, char *why, size_t n)
{
	pthread_mutex_lock(&G.start_mu);
	int rc = 0;
	struct statsfile *sf = hook_stats();
	if (!sf) {
		G.cfg.sample = sample ? sample : G.cfg.sample;
		if ((rc = init_engine(why, n)) == 0 && G.reports)
			check_output();
	} else if (sample && hook_set_sample(sample, why, n) != 0) {
		rc = -EINVAL;
	}
	pthread_mutex_unlock(&G.start_mu);
	return rc;
}

/* Once something is hooked: the exit hooks, which mark the stats file at exit and
 * remove the control socket (and write the final report when reports were asked for
 * at start), and the ticker, which keeps the file's clock pair fresh. */
static void engine_hooked(uint64_t *stopped_ns)
{
	char why[256];
	pthread_mutex_lock(&G.start_mu);
	if (hook_exit_path(stopped_ns, why, sizeof(why)) != 0)
		log_info("no report at exit: %s (the stats file still has everything)", why);
	if (!G.ticker_up)
		start_ticker();
	pthread_mutex_unlock(&G.start_mu);
}

/* What golat_attach, golat_detach and the control socket share: hooks what specs
 * select, or unhooks what specs (or, specs NULL, funcs) select. When a change leaves
 * nothing hooked in a program where only attaches hooked, golat takes its own patches
 * out too: the code is then byte for byte as before (hook_idle). */
static int engine_change(int attach, const char *specs, const uint32_t *funcs, size_t nfuncs,
			 uint32_t sample, struct hook_result *r, char *why, size_t n)
{
	memset(r, 0, sizeof(*r));
	uint64_t own_ns = 0, idle_ns = 0;
	int rc = attach ? engine_up(sample, why, n) : 0;
	if (rc)
		return rc;
	if (!hook_stats())
		return 0; /* a detach before any attach: nothing is hooked */
	hook_runtime_started(); /* only the constructor runs before the runtime */
	rc = attach ? hook_attach(specs, r, why, n)
	     : specs ? hook_detach(specs, r, why, n) : hook_detach_funcs(funcs, nfuncs, r, why, n);
	if (rc == 0 && attach && hook_active())
		engine_hooked(&own_ns);
	char w2[256];
	if (rc == 0 && !G.reports && hook_active() == 0 && hook_own_patches() &&
	    hook_idle(&idle_ns, w2, sizeof(w2)) != 0)
		log_info("golat's own patches stay in the code: %s", w2);
	r->stops += (own_ns != 0) + (idle_ns != 0);
	r->stopped_ns += own_ns + idle_ns;
	hook_trim();
	return rc;
}

/* golat_attach and golat_detach: the number of functions changed, or -errno. */
static int api_change(const char *specs, int attach)
{
	char why[512];
	struct hook_result r;
	int rc = engine_change(attach, specs, NULL, 0, 0, &r, why, sizeof(why));
	if (rc == 0)
		rc = (int)r.hooked;
	else
		fail(rc, why);
	hook_result_free(&r);
	return rc;
}

GOLAT_API int golat_attach(const char *specs)
{
	return api_change(specs, 1);
}

GOLAT_API int golat_detach(const char *specs)
{
	return api_change(specs, 0);
}

static int control_attach(const char *specs, uint32_t sample, struct hook_result *r, char *why,
			  size_t n)
{
	return engine_change(1, specs, NULL, 0, sample, r, why, n);
}

static int control_detach(const char *specs, const uint32_t *funcs, size_t nfuncs,
			  struct hook_result *r, char *why, size_t n)
{
	return engine_change(0, specs, funcs, nfuncs, 0, r, why, n);
}

/* The control socket (control.h): golat attach and golat detach reach the program
 * through it. Said only when reports were asked for: otherwise golat is silent. */
static void start_control(void)
{
	static const struct control_ops ops = { control_attach, control_detach };
	char why[512];
	int rc = control_start(&ops, why, sizeof(why));
	if (rc)
		log_msg(G.reports ? LOG_INFO : LOG_DEBUG, "no control socket: %s (golat attach cannot "
			"reach this process)", why);
}

GOLAT_API int golat_counts(const char *name, struct golat_counts *out)
{
	struct rec_counts c;
	int rc = hook_counts(name, &c);
	if (rc)
		return fail(rc, "function was never hooked");
	*out = (struct golat_counts){ c.entries, c.calls, c.abandoned };
	return 0;
}

/* Ahead of libc's in the symbol search order (LD_PRELOAD): Go's handlers, and C's,
 * are installed through here, so that golat's handler runs first (sigown.h). */
GOLAT_API int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return sigown_sigaction(sig, act, old);
}

GOLAT_API const char *golat_error(void)
{
	return last_error;
}

/* At load time the Go runtime has not started, so this is the only thread and
 * nothing needs freezing. A program that is not Go stays inert and silent (goprobe:
 * no thread, no socket, no output). A Go program gets the control socket; with
 * GOLAT_FUNCS it is also hooked now, else nothing more happens until golat attach. */
/* Whether the process has other threads: a library loaded by golat attach through
 * ptrace (lib/attach) finds the Go runtime running; LD_PRELOAD runs us before it. */
static bool loaded_late(void)
{
	static char buf[4096] __attribute__((aligned(8)));
	struct proc_tasks t;
	int n = 0;
	if (proc_tasks_open(&t, buf, sizeof(buf)) != 0)
		return false;
	while (proc_tasks_next(&t) > 0)
		n++;
	proc_tasks_close(&t);
	return n > 1;
}

__attribute__((constructor)) static void golat_init(void)
{
	if (!goprobe_self())
		return;
	log_hold();
	config_read(&G.cfg);
	if (!golat_threads_ok()) {
		/* glibc before 2.34 without libpthread.so.0 loaded: a Go program that is
		 * not cgo but dynamically linked (glibc_compat.h). */
		log_release(1);
		log_info("not hooking anything: this program has no libpthread.so.0 loaded "
			 "(glibc before 2.34, and not built with cgo), which golat needs");
		return;
	}
	if (G.cfg.funcs && loaded_late()) {
		/* The constructor's attach assumes a single thread (nothing to freeze):
		 * in a running program, hooks come through the control socket only. */
		log_release(1);
		log_info("loaded into a running program: GOLAT_FUNCS is ignored (golat attach -f "
			 "hooks functions)");
		G.cfg.funcs = NULL;
		log_hold();
	}
	G.reports = G.cfg.funcs || *G.cfg.output || G.cfg.interval > 0;
	if (!G.cfg.funcs) {
		log_release(0); /* GOLAT_FUNCS unset: nothing to say (SPEC.md) */
		/* A Go program: its runtime will install its handlers through golat's, for
		 * what `golat attach` hooks later. */
		char why[256];
		sigown_init(why, sizeof(why));
		start_control();
		return;
	}
	char why[512] = "";
	int rc = init_engine(why, sizeof(why));
	log_release(rc != -ENOEXEC); /* not Go after all: inert and silent, by contract */
	if (rc == -ENOEXEC)
		return;
	if (rc) {
		log_info("not hooking anything: %s", why);
		return;
	}
	check_output();
	if ((rc = hook_attach(G.cfg.funcs, &G.first, why, sizeof(why))) != 0) {
		log_info("not hooking anything: %s (%s)", why, strerror(-rc));
		return;
	}
	free(G.first.fns); /* only its skips are kept, for the reports */
	G.first.fns = NULL;
	G.first.nfns = 0;
	log_result(&G.first);
	if ((rc = hook_exit_path(NULL, why, sizeof(why))) != 0)
		log_info("no report at exit: %s (the stats file still has everything)", why);
	start_ticker();
	struct statsfile *sf = hook_stats();
	if (sf->path[0])
		log_info("live stats in %s (golat report %d)", sf->path, (int)getpid());
	start_control();
	hook_trim();
}
