/* golat attach and golat detach, for a statically linked Go program: there is no
 * libgolat.so in it to talk to, so golat holds every thread through ptrace
 * (static_hold_all, lib/attach/static_world.c), hooks or unhooks from outside
 * (static_attach, static_detach: lib/attach/static.h), and lets them go. The lock of
 * the cgo route (inject_lock) keeps two golats from doing it at once; SIGINT and its
 * kind wait while the threads are held, since a program let go half patched would
 * crash. How long the threads were held is said on the summary line.
 *
 * A window (-d) counts, as for a cgo program, only the functions this attach hooked:
 * functions hooked before are left out and listed as skipped (those an earlier window
 * hooked and unhooked are not: they only keep their names in the stats file), and at
 * the end only the window's functions are unhooked (by their exact names). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "config.h"
#include "gobin.h"
#include "inject.h"
#include "proc.h"
#include "report.h"
#include "static.h"
#include "statsread.h"
#include "target.h"

pid_t cli_static_target(const char *pidarg)
{
	char *end, exe[64], err[256];
	long pid = strtol(pidarg, &end, 10);
	if (*end || pid <= 0 || pid > 0x3fffffff)
		return 0; /* the cgo route says what is wrong with it */
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	struct gobin gb;
	if (gobin_open(&gb, exe, err, sizeof(err)) != 0)
		return 0; /* not readable, or not Go: the cgo route says why */
	bool is_static = gb.nolibc;
	gobin_close(&gb);
	return is_static ? (pid_t)pid : 0;
}

/* Every thread of pid held, under the lock, golat's stop signals held back. */
struct held {
	pid_t pid;
	int lock;
	sigset_t prev;
	struct static_hold h;
	uint64_t one_ns; /* how long one thread was held before, for the trampolines */
};

static int hold(struct held *s, pid_t pid, bool attach, const struct static_opts *o, struct static_prep *prep,
		char *err, size_t n)
{
	*s = (struct held){ .pid = pid, .lock = -1 };
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	sigprocmask(SIG_BLOCK, &stop, &s->prev);
	/* An unhook waits its turn (up to 30 s): a window whose unhook gave up when
	 * another golat held the lock would leave its functions hooked for good. */
	int rc;
	for (int tries = 0; (rc = inject_lock(pid, err, n)) == -EBUSY && !attach && tries < 1500; tries++)
		nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	if (rc < 0)
		return rc;
	s->lock = rc;
	/* Under the lock: the agent, code memory and every trampoline with one thread
	 * held, the others running on (static_attach's stage_only); then all of them
	 * only for the checks and the jumps. */
	if (attach && prep) {
		struct static_hold one = { 0 };
		struct static_opts so = *o;
		struct static_result sr;
		so.stage_only = true;
		rc = static_hold_one(&one, pid, pid, err, n);
		if (rc == 0)
			rc = static_attach(&one.w, &so, &sr, err, n);
		static_hold_release(&one);
		s->one_ns = one.first_ns ? one.released_ns - one.first_ns : 0;
		static_hold_free(&one);
		static_result_free(&sr);
		if (rc)
			return rc;
	}
	return static_hold_all(&s->h, pid, err, n);
}

static uint64_t let_go(struct held *s)
{
	static_hold_release(&s->h);
	uint64_t ns = s->h.first_ns ? s->h.released_ns - s->h.first_ns : 0;
	static_hold_free(&s->h);
	if (s->lock >= 0)
		inject_unlock(s->pid, s->lock);
	sigprocmask(SIG_SETMASK, &s->prev, NULL);
	return ns;
}

/* Hooks (specs) or unhooks (detach: specs, NULL all) with every thread held. 0, or
 * 1 after saying why. */
static int change(pid_t pid, bool attach, const struct static_opts *o, struct static_result *r,
		  uint64_t *held_ns, size_t *threads, uint64_t *one_ns)
{
	struct held s = { .lock = -1 };
	char err[1024];
	memset(r, 0, sizeof(*r));
	/* Planning needs no thread held: done first, while the program runs. */
	struct static_prep *prep = NULL;
	struct static_opts po = *o;
	int rc = attach ? static_prepare(pid, o->specs, &prep, err, sizeof(err))
			: static_prepare_detach(pid, o->specs, &prep, err, sizeof(err));
	po.prep = prep;
	if (rc == 0)
		rc = hold(&s, pid, attach, &po, prep, err, sizeof(err));
	if (rc == 0)
		rc = attach ? static_attach(&s.h.w, &po, r, err, sizeof(err))
			    : static_detach(&s.h.w, o->specs, prep, r, err, sizeof(err));
	*threads = s.h.w.n;
	*one_ns = s.one_ns;
	*held_ns = s.pid ? let_go(&s) : 0;
	static_prep_free(prep);
	for (size_t i = 0; i < r->nskips; i++) {
		if (r->skips[i].unmatched)
			fprintf(stderr, "golat: '%s' matches no function\n", r->skips[i].name);
		else
			fprintf(stderr, "golat: skipped %s: %s\n", r->skips[i].name, r->skips[i].reason);
	}
	if (rc == -ENOENT && attach)
		return cli_fail("pid %d: nothing hooked: '%s' selects no function golat can hook", (int)pid,
				o->specs);
	if (!rc)
		return 0;
	char named[32]; /* a sentence that names the pid already is not prefixed with it */
	snprintf(named, sizeof(named), "pid %d ", (int)pid);
	return strstr(err, named) ? cli_fail("%s", err) : cli_fail("pid %d: %s", (int)pid, err);
}

static int attach_for_good(pid_t pid, const struct static_opts *o)
{
	struct static_result r;
	uint64_t held_ns, one_ns;
	size_t threads;
	int rc = change(pid, true, o, &r, &held_ns, &threads, &one_ns);
	if (rc == 0)
		fprintf(stderr, "golat: pid %d: hooked %zu function%s (%zu were already), skipped %zu; "
			"%zu thread%s held %.0f us (patching %.0f us), after one held %.0f us for the "
			"trampolines; live: golat report %d, golat top %d; stats in %s\n", (int)pid, r.hooked,
			r.hooked == 1 ? "" : "s", r.already, r.nskips - r.nunmatched, threads, threads == 1 ? "" : "s",
			held_ns / 1e3, r.stopped_ns / 1e3, one_ns / 1e3, (int)pid, (int)pid, r.stats_path);
	static_result_free(&r);
	return rc;
}

/* ---- the window (-d) ---- */

struct swindow {
	struct stats_view v;
	struct stats_snapshot a, b, d;
	struct stats_saved ah;
	bool have_a;
	uint32_t *ids;
	size_t nids;
	char *names;          /* the window's functions, as specs for static_detach */
	struct report_skip *skips;
	size_t nskips;
	uint64_t t0, t1;
	char already[200];
};

/* The link-time entries of the functions hooked now in v's file (stats_fn.hooked),
 * malloc'd, their count in *n. A function a window hooked and unhooked again keeps
 * its name (and id) in the file: named is not hooked. */
static uint64_t *hooked_now(const struct stats_view *v, size_t *n)
{
	uint32_t nfns = __atomic_load_n(&v->hdr->nfns, __ATOMIC_ACQUIRE);
	nfns = nfns < v->fn_cap ? nfns : v->fn_cap;
	const struct stats_fn *fn = (const struct stats_fn *)(v->base + v->fn_off);
	uint64_t *e = calloc(nfns + 1, sizeof(*e));
	*n = 0;
	for (uint32_t i = 0; e && i < nfns; i++)
		if (__atomic_load_n(&fn[i].hooked, __ATOMIC_ACQUIRE))
			e[(*n)++] = fn[i].entry;
	return e;
}

static bool listed(const uint64_t *v, size_t n, uint64_t entry)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == entry)
			return true;
	return false;
}

/* The window's functions: those hooked now that were not before (before: nbefore
 * entries); those hooked before are listed as skipped. */
static int window_fns(struct swindow *w, const uint64_t *before, size_t nbefore, pid_t pid)
{
	snprintf(w->already, sizeof(w->already), "hooked before this window (an earlier golat "
		 "attach): its calls are in golat report %d, not here", (int)pid);
	size_t len = 1, nnow;
	uint64_t *now = hooked_now(&w->v, &nnow);
	w->ids = calloc(w->a.nfns + 1, sizeof(*w->ids));
	w->skips = calloc(w->a.nfns + 1, sizeof(*w->skips));
	for (uint32_t i = 0; i < w->a.nfns; i++)
		len += strlen(w->a.fns[i].name) + 1;
	w->names = calloc(len, 1);
	if (!now || !w->ids || !w->skips || !w->names) {
		free(now);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < w->a.nfns; i++) {
		const struct stats_func *f = &w->a.fns[i];
		if (!listed(now, nnow, f->entry))
			continue; /* an earlier window's, unhooked since */
		if (listed(before, nbefore, f->entry)) {
			w->skips[w->nskips++] = (struct report_skip){ f->name, f->name, w->already };
			continue;
		}
		w->ids[w->nids++] = f->id;
		if (*w->names)
			strcat(w->names, ",");
		strcat(w->names, f->name);
	}
	free(now);
	return 0;
}

static void window_wait(pid_t pid, double seconds, uint64_t t0)
{
	uint64_t until = t0 + (uint64_t)(seconds * 1e9);
	while (!cli_stop_signal && cli_mono_ns() < until && !proc_gone((int)pid))
		nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
}

static void window_free(struct swindow *w)
{
	if (w->have_a) {
		stats_saved_free(&w->ah);
		stats_snapshot_free(&w->a);
	}
	stats_close(&w->v);
	free(w->ids);
	free(w->names);
	free(w->skips);
}

/* The functions hooked before the window (hooked_now), in the stats file the agent
 * writes, if there is one (wherever the process runs: static_stats_of reaches it
 * through its root). NULL when there is none. */
static uint64_t *hooked_before(pid_t pid, size_t *n)
{
	struct stats_view v;
	struct target t;
	char err[512], path[4096];
	*n = 0;
	if (target_open(&t, pid, err, sizeof(err)) != 0 || !static_stats_of(&t, path, NULL, sizeof(path)) ||
	    stats_open(&v, path, err, sizeof(err)) != 0)
		return NULL;
	uint64_t *e = hooked_now(&v, n);
	stats_close(&v);
	return e;
}

static int window_end(pid_t pid, const char *output, struct swindow *w, double out_us, bool died)
{
	char err[512];
	if (stats_snapshot(&w->v, &w->b) != 0)
		return cli_fail("out of memory");
	int rc = stats_delta(&w->v, &w->a, &w->ah, &w->b, w->ids, w->nids, &w->d, err, sizeof(err));
	stats_snapshot_free(&w->b);
	if (rc)
		return cli_fail("pid %d: the window's numbers: %s", (int)pid, err);
	w->d.elapsed_ns = w->t1 - w->t0;
	/* The process as the caller named it: in a container the header has the pid it
	 * sees itself as (1, say), another process here; the report finds its binary, for
	 * names and arguments, through this one's /proc/PID/exe. */
	w->d.pid = (uint32_t)pid;
	w->d.alive = !died;
	rc = cli_report_to(output, stdout, &w->v, &w->d, w->skips, w->nskips);
	stats_snapshot_free(&w->d);
	if (rc)
		return cli_fail("cannot write the report: %s", strerror(-rc));
	if (died)
		return cli_fail("pid %d exited %.2f s into the window: the report covers that part", (int)pid,
				(w->t1 - w->t0) / 1e9);
	fprintf(stderr, "golat: pid %d: %zu function%s timed for %.2f s%s; threads held %.0f us to "
		"unhook them; the functions of the window are as they were before\n", (int)pid, w->nids,
		w->nids == 1 ? "" : "s", (w->t1 - w->t0) / 1e9, cli_stop_signal ? " (interrupted)" : "",
		out_us);
	return 0;
}

static int attach_window(pid_t pid, const struct static_opts *o, double seconds, const char *output)
{
	cli_catch_stop();
	size_t nbefore;
	uint64_t *before = hooked_before(pid, &nbefore);
	struct swindow w = { .v = { .fd = -1 } };
	struct static_result r;
	uint64_t held_ns, one_ns;
	size_t threads;
	char err[512];
	int rc = change(pid, true, o, &r, &held_ns, &threads, &one_ns);
	w.t0 = cli_mono_ns();
	if (rc == 0 && stats_open(&w.v, r.stats_path, err, sizeof(err)) != 0)
		rc = cli_fail("%s", err);
	if (rc == 0 && (stats_snapshot(&w.v, &w.a) != 0 || stats_save_hists(&w.v, &w.a, &w.ah) != 0))
		rc = cli_fail("out of memory");
	w.have_a = rc == 0;
	if (rc == 0 && window_fns(&w, before, nbefore, pid) != 0)
		rc = cli_fail("out of memory");
	if (rc == 0 && w.nids == 0)
		rc = cli_fail("pid %d: nothing to time: '%s' selects no function that was not hooked "
			      "already and that golat can hook", (int)pid, o->specs);
	if (rc == 0) {
		fprintf(stderr, "golat: pid %d: %zu thread%s held %.0f us to hook %zu function%s (one held %.0f us "
			"before, for the trampolines)\n", (int)pid, threads, threads == 1 ? "" : "s", held_ns / 1e3,
			w.nids, w.nids == 1 ? "" : "s", one_ns / 1e3);
		window_wait(pid, seconds, w.t0);
	}
	/* The end of the window, even when something failed after the attach. */
	bool died = proc_gone((int)pid);
	uint64_t out_ns = 0;
	w.t1 = cli_mono_ns();
	if (r.hooked && !died && (!w.names || *w.names)) {
		struct static_result u;
		struct static_opts uo = *o;
		uo.specs = w.names ? w.names : o->specs; /* the stats file could not be read: all of SPECS */
		int rc2 = change(pid, false, &uo, &u, &out_ns, &threads, &one_ns);
		static_result_free(&u);
		if (rc == 0)
			rc = rc2;
	}
	if (rc == 0)
		rc = window_end(pid, output, &w, out_ns / 1e3, died);
	window_free(&w);
	free(before);
	static_result_free(&r);
	return rc;
}

int cli_attach_static(pid_t pid, const char *specs, unsigned sample, double seconds, const char *output)
{
	char agent[PATH_MAX];
	if (cli_find_agent(agent, false))
		return 1;
	struct config cfg;
	config_read(&cfg); /* GOLAT_SLOWEST, GOLAT_LOG as for the library */
	struct static_opts o = { .specs = specs, .sample = sample, .slowest = cfg.slowest, .agent = agent,
				 .monotonic = cfg.monotonic };
	return seconds > 0 ? attach_window(pid, &o, seconds, output) : attach_for_good(pid, &o);
}

int cli_detach_static(pid_t pid, const char *specs)
{
	struct static_opts o = { .specs = specs && *specs ? specs : NULL };
	struct static_result r;
	uint64_t held_ns;
	size_t threads;
	uint64_t one_ns;
	int rc = change(pid, false, &o, &r, &held_ns, &threads, &one_ns);
	if (rc == 0)
		fprintf(stderr, "golat: pid %d: unhooked %zu function%s; %zu thread%s held %.0f us "
			"(patching %.0f us); their code is as it was before golat\n", (int)pid, r.hooked,
			r.hooked == 1 ? "" : "s", threads, threads == 1 ? "" : "s", held_ns / 1e3,
			r.stopped_ns / 1e3);
	static_result_free(&r);
	return rc;
}
