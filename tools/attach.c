/* golat attach: hooks functions of a running Go program through its control socket
 * (lib/control/control.h); a program started without golat first gets libgolat.so
 * loaded through ptrace (lib/attach/inject.h); a statically linked one is hooked from
 * outside instead (attach_static.c). Without -d the hooks stay and `golat report`/`golat top` read the
 * program live. With -d it is a window: attach, wait, report what the window recorded
 * (the difference of two snapshots of the stats file: lib/report/statsdelta.c), detach.
 *
 * A window counts only calls that began and ended inside it, nothing half: its
 * functions were not hooked when it opened (functions hooked before are left out of
 * it and listed as skipped), the recorder counts a call only when it saw both its
 * entry and its return, and calls in flight from an earlier attach cannot complete
 * into it (attach generations: lib/record/recorder.h). The window belongs to the connection:
 * if golat is killed, the library unhooks it by itself. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "control_client.h"
#include "inject.h"
#include "report.h"
#include "statsread.h"
#include "target.h"

static const char ATTACH_USAGE[] =
	"usage: golat attach PID [-f SPECS] [-d SECONDS] [-o OUTPUT] [-s N]\n";

struct attach_opts {
	const char *pid, *specs, *output;
	double seconds; /* 0: no window */
	unsigned sample;
};

static int parse(int argc, char **argv, struct attach_opts *o)
{
	*o = (struct attach_opts){ .specs = "main.*" };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		if (a[0] != '-') {
			if (o->pid)
				return -1;
			o->pid = a;
			continue;
		}
		if (!v || strlen(a) != 2 || !strchr("fdos", a[1]))
			return -1;
		i++;
		if (a[1] == 'f')
			o->specs = v;
		else if (a[1] == 'o')
			o->output = v;
		else if (a[1] == 'd' && ((o->seconds = strtod(v, &end)) <= 0 || *end || o->seconds > 1e7))
			return -1;
		else if (a[1] == 's') {
			long n = strtol(v, &end, 10);
			if (*end || n < 1 || n > 0x7fffffff)
				return -1;
			o->sample = (unsigned)n;
		}
	}
	return o->pid && *o->specs ? 0 : -1;
}

/* After the library is loaded, its control thread makes the socket: a moment later. */
static int connect_loaded(struct ctl_conn *c, pid_t pid, const char *lib, char *err, size_t n)
{
	int rc = -ENOENT;
	for (int i = 0; i < 250; i++) {
		rc = ctl_open(c, pid, lib, err, n);
		if (rc != -ENOENT && rc != -ENOTCONN && rc != -ECONNREFUSED)
			return rc;
		nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	}
	return rc;
}

/* A program started without golat: libgolat.so loaded through ptrace, then the socket. */
static int load_and_open(pid_t pid, const char *lib, struct ctl_conn *c)
{
	struct inject_result ir;
	char err[1024];
	int rc = inject_golat(pid, lib, &ir, err, sizeof(err));
	if (rc)
		return cli_fail("%s", err);
	if (!ir.already)
		fprintf(stderr, "golat: pid %d: libgolat.so loaded through ptrace: %u threads stopped one "
			"by one, each let go at most %.0f us after its stop (all in %.0f us), then thread %d "
			"alone %.1f ms for dlopen; %u signal%s passed on%s\n",
			(int)pid, ir.nthreads, ir.stop_max_ns / 1e3, ir.looked_ns / 1e3, ir.tid, ir.held_ns / 1e6, ir.passed,
			ir.passed == 1 ? "" : "s",
			ir.handler == 1 ? "; golat's signal handlers are in front of Go's" : "");
	if (!ir.already && ir.handler == 0)
		fprintf(stderr, "golat: pid %d: golat's signal handler is not in front of Go's: a fault in "
			"a relocated instruction would not be translated\n", (int)pid);
	if (connect_loaded(c, pid, lib, err, sizeof(err)) != 0)
		return cli_fail("%s", err);
	return 0;
}

int cli_ctl_open(const char *pidarg, struct ctl_conn *c, bool load)
{
	char *end, lib[PATH_MAX], err[1024];
	long pid = strtol(pidarg, &end, 10);
	if (*end || pid <= 0 || pid > 0x3fffffff)
		return cli_fail("'%s' is not a process id", pidarg);
	bool have_lib = cli_find_lib(lib, true) == 0;
	int rc = ctl_open(c, (pid_t)pid, have_lib ? lib : NULL, err, sizeof(err));
	if (rc == -EACCES && load)
		inject_refused((pid_t)pid, have_lib ? lib : NULL, err, sizeof(err));
	if (rc == -ENOENT && load && have_lib)
		return load_and_open((pid_t)pid, lib, c);
	if (rc == -ENOTCONN && load) /* another golat loaded it just now: its socket is coming */
		rc = connect_loaded(c, (pid_t)pid, have_lib ? lib : NULL, err, sizeof(err));
	if (rc != 0)
		return cli_fail("%s", err);
	return 0;
}

void cli_say_skips(const struct ctl_reply *r)
{
	for (size_t i = 0; i < r->nrecs; i++) {
		const struct ctl_rec *k = &r->recs[i];
		if (strcmp(k->kind, "unmatched") == 0 && k->nf >= 1)
			fprintf(stderr, "golat: '%s' matches no function\n", k->f[0]);
		else if (strcmp(k->kind, "skipped") == 0 && k->nf >= 3)
			fprintf(stderr, "golat: skipped %s: %s\n", k->f[1], k->f[2]);
	}
}

/* The stats file the reply names, as golat reaches it: the program names it as it sees
 * it, which is under /proc/PID/root from here when it runs in a container (target.h).
 * "" when it has none. */
static const char *stats_path(const struct ctl_conn *c, const struct ctl_reply *r, char *buf, size_t n)
{
	const char *in = "";
	for (size_t i = 0; i < r->nrecs && !*in; i++)
		if (strcmp(r->recs[i].kind, "stats") == 0 && r->recs[i].nf)
			in = r->recs[i].f[0];
	if (!*in || target_path(&c->target, in, buf, n) != 0)
		return "";
	return buf;
}

/* Without -d: hook, say what happened, leave the hooks in. */
static int attach_for_good(const struct attach_opts *o, struct ctl_conn *c)
{
	char req[8192], err[512], path[4200];
	struct ctl_reply r;
	snprintf(req, sizeof(req), "attach\t%s", o->specs);
	if (o->sample)
		snprintf(req + strlen(req), sizeof(req) - strlen(req), "\tsample=%u", o->sample);
	if (ctl_call(c, req, &r, err, sizeof(err)) != 0)
		return cli_fail("pid %d: %s", (int)c->pid, err);
	if (!r.ok) {
		int rc = cli_fail("pid %d: %s", (int)c->pid, r.why);
		ctl_reply_free(&r);
		return rc;
	}
	cli_say_skips(&r);
	uint64_t hooked = ctl_key(&r, "hooked", 0), already = ctl_key(&r, "already", 0);
	int rc = 0;
	if (hooked + already == 0)
		rc = cli_fail("pid %d: nothing hooked: '%s' selects no function golat can hook",
			      (int)c->pid, o->specs);
	else
		fprintf(stderr, "golat: pid %d: hooked %llu function%s (%llu were already), skipped %llu; "
			"the world stopped %.0f us; live: golat report %d, golat top %d; stats in %s\n",
			(int)c->pid, (unsigned long long)hooked, hooked == 1 ? "" : "s",
			(unsigned long long)already,
			(unsigned long long)ctl_key(&r, "skipped", 0), ctl_key(&r, "stopped_ns", 0) / 1e3,
			(int)c->pid, (int)c->pid, *stats_path(c, &r, path, sizeof(path)) ? path : "memory only");
	ctl_reply_free(&r);
	return rc;
}

/* ---- the window (-d) ---- */

/* The stats file before the window: what it holds now, if it is there and live. */
struct before {
	bool have;
	struct stats_view v;
	struct stats_snapshot s;
	struct stats_saved h;
};

static void before_take(struct before *b, pid_t pid)
{
	char err[512];
	memset(b, 0, sizeof(*b));
	b->v.fd = -1;
	if (stats_open_pid(&b->v, pid, err, sizeof(err)) != 0)
		return;
	if (stats_snapshot(&b->v, &b->s) == 0 && b->s.alive && stats_save_hists(&b->v, &b->s, &b->h) == 0) {
		b->have = true;
		return;
	}
	stats_snapshot_free(&b->s);
	stats_close(&b->v);
}

static void before_drop(struct before *b)
{
	if (b->have) {
		stats_saved_free(&b->h);
		stats_snapshot_free(&b->s);
	}
	b->have = false;
}

/* The functions of the window, and what the report lists as left out. */
struct window {
	uint32_t *ids;
	size_t nids;
	struct report_skip *skips;
	size_t nskips;
	uint64_t t0, t1;          /* CLOCK_MONOTONIC ns: hooked, unhooked */
	uint64_t in_ns, out_ns;   /* the world stopped, at attach and at detach */
	unsigned in_stops, out_stops;
	int patches;              /* golat's own patches left after the window */
	bool died;
	char already[160], kept[160]; /* the reasons of functions left out */
};


static void window_add_skip(struct window *w, const char *spec, const char *name, const char *why)
{
	struct report_skip *k = realloc(w->skips, (w->nskips + 1) * sizeof(*k));
	if (!k)
		return;
	w->skips = k;
	k[w->nskips++] = (struct report_skip){ spec, name, why };
}

/* Reads the attach reply into w: the ids it hooked and what it left out. */
static void window_from_attach(struct window *w, const struct ctl_reply *r, pid_t pid)
{
	snprintf(w->already, sizeof(w->already), "hooked before this window (GOLAT_FUNCS or an "
		 "earlier golat attach): its calls are in golat report %d, not here", (int)pid);
	snprintf(w->kept, sizeof(w->kept), "hooked for good by another golat attach during the "
		 "window: it stays, and its calls are in golat report %d", (int)pid);
	w->ids = calloc(r->nrecs ? r->nrecs : 1, sizeof(*w->ids));
	for (size_t i = 0; i < r->nrecs; i++) {
		const struct ctl_rec *k = &r->recs[i];
		if (strcmp(k->kind, "hooked") == 0 && k->nf >= 3 && w->ids)
			w->ids[w->nids++] = (uint32_t)strtoul(k->f[0], NULL, 10);
		else if (strcmp(k->kind, "already") == 0 && k->nf >= 3)
			window_add_skip(w, k->f[2], k->f[2], w->already);
		else if (strcmp(k->kind, "skipped") == 0 && k->nf >= 3)
			window_add_skip(w, k->f[0], k->f[1], k->f[2]);
		else if (strcmp(k->kind, "unmatched") == 0 && k->nf >= 1)
			window_add_skip(w, k->f[0], k->f[0], "matches no function");
	}
	w->t0 = ctl_key(r, "at_ns", cli_mono_ns());
	w->in_ns = ctl_key(r, "stopped_ns", 0);
	w->in_stops = (unsigned)ctl_key(r, "stops", 0);
}

/* Functions another attach adopted leave the window (the end reply's kept). */
static void window_from_end(struct window *w, const struct ctl_reply *r)
{
	for (size_t i = 0; i < r->nrecs; i++) {
		const struct ctl_rec *k = &r->recs[i];
		if (strcmp(k->kind, "kept") != 0 || k->nf < 3)
			continue;
		uint32_t id = (uint32_t)strtoul(k->f[0], NULL, 10);
		for (size_t j = 0; j < w->nids; j++)
			if (w->ids[j] == id)
				w->ids[j--] = w->ids[--w->nids];
		window_add_skip(w, k->f[2], k->f[2], w->kept);
	}
	w->t1 = ctl_key(r, "at_ns", cli_mono_ns());
	w->out_ns = ctl_key(r, "stopped_ns", 0);
	w->out_stops = (unsigned)ctl_key(r, "stops", 0);
	w->patches = (int)ctl_key(r, "patches", 0);
}

/* Waits out the window: its time, a signal, or the end of the process. */
static void window_wait(struct window *w, struct ctl_conn *c, double seconds)
{
	uint64_t until = w->t0 + (uint64_t)(seconds * 1e9);
	for (;;) {
		uint64_t now = cli_mono_ns();
		if (cli_stop_signal || now >= until)
			return;
		uint64_t left = (until - now + 999999) / 1000000;
		int k = ctl_wait_closed(c, left > 60000 ? 60000 : (int)left);
		if (k == 1) {
			w->died = true;
			return;
		}
	}
}

/* Writes the window's report: text on stdout, or OUTPUT as GOLAT_OUTPUT would. */
static int window_report(const struct attach_opts *o, const struct window *w,
			 const struct stats_view *v, const struct stats_snapshot *d)
{
	const char *out = o->output && strcmp(o->output, "-") != 0 ? o->output : NULL;
	int rc = cli_report_to(out, stdout, v, d, w->skips, w->nskips);
	if (rc)
		return cli_fail("cannot write the report%s%s: %s", out ? " to " : "", out ? out : "",
				strerror(-rc));
	return 0;
}

/* After the window: b, the difference, the report. */
static int window_finish(const struct attach_opts *o, struct window *w, struct before *a,
			 struct stats_view *v, pid_t pid)
{
	struct stats_snapshot b, d;
	char err[512];
	if (stats_snapshot(v, &b) != 0)
		return cli_fail("out of memory");
	int rc = stats_delta(v, a->have ? &a->s : NULL, a->have ? &a->h : NULL, &b, w->ids, w->nids,
			     &d, err, sizeof(err));
	stats_snapshot_free(&b);
	if (rc)
		return cli_fail("pid %d: the window's numbers: %s", (int)pid, err);
	d.elapsed_ns = w->t1 > w->t0 ? w->t1 - w->t0 : 0;
	/* The process as the caller named it: in a container the header has the pid it
	 * sees itself as (1, another process here), which the snapshot took for dead; the
	 * report finds the binary that names its call sites through /proc/<this pid>/exe
	 * while it lives. */
	d.pid = (uint32_t)pid;
	d.alive = !w->died;
	rc = window_report(o, w, v, &d);
	stats_snapshot_free(&d);
	return rc;
}

/* Opens the file the attach reply names, keeping the snapshot taken before the
 * window only if it is that same file (else its counts mean nothing here) — and
 * without one, takes it now: a window a little shorter, never a wrong one. */
static int window_stats(struct before *a, struct stats_view *v, const char *path)
{
	char err[512];
	struct stat st1, st2;
	if (a->have && fstat(a->v.fd, &st1) == 0 && stat(path, &st2) == 0 && st1.st_dev == st2.st_dev &&
	    st1.st_ino == st2.st_ino) {
		*v = a->v;
		return 0;
	}
	if (a->v.fd >= 0 || a->v.base) {
		before_drop(a);
		stats_close(&a->v);
	}
	if (stats_open(v, path, err, sizeof(err)) != 0)
		return cli_fail("%s", err);
	if (stats_snapshot(v, &a->s) == 0 && stats_save_hists(v, &a->s, &a->h) == 0)
		a->have = true;
	return 0;
}

static int attach_window(const struct attach_opts *o, struct ctl_conn *c)
{
	cli_catch_stop(); /* the wait ends */
	struct before a;
	before_take(&a, c->pid);
	char req[8192], err[512], path[4200];
	snprintf(req, sizeof(req), "attach\t%s\twindow", o->specs);
	if (o->sample)
		snprintf(req + strlen(req), sizeof(req) - strlen(req), "\tsample=%u", o->sample);
	struct ctl_reply r;
	struct window w = { 0 };
	struct stats_view v = { .fd = -1 };
	int rc = ctl_call(c, req, &r, err, sizeof(err)) ? cli_fail("pid %d: %s", (int)c->pid, err)
		 : !r.ok ? cli_fail("pid %d: %s", (int)c->pid, r.why) : 0;
	if (rc == 0) {
		cli_say_skips(&r);
		window_from_attach(&w, &r, c->pid);
		if (w.nids == 0)
			rc = cli_fail("pid %d: nothing to time: '%s' selects no function that was not "
				      "hooked already and that golat can hook", (int)c->pid, o->specs);
		else if (!*stats_path(c, &r, path, sizeof(path)))
			rc = cli_fail("pid %d keeps its stats in memory only (no stats file could be made: "
				      "see its golat: lines), so a window cannot be read", (int)c->pid);
		else
			rc = window_stats(&a, &v, path);
	}
	if (rc == 0)
		window_wait(&w, c, o->seconds);
	/* The end of the window, even when something failed after the attach. */
	struct ctl_reply e = { 0 };
	if (r.ok && !w.died && ctl_call(c, "end", &e, err, sizeof(err)) != 0)
		w.died = true;
	if (e.last && !e.ok && rc == 0)
		rc = cli_fail("pid %d: the window could not be closed: %s", (int)c->pid, e.why);
	if (e.ok)
		window_from_end(&w, &e);
	else if (w.died)
		w.t1 = cli_mono_ns();
	if (rc == 0)
		rc = window_finish(o, &w, &a, &v, c->pid);
	if (rc == 0 && w.died)
		rc = cli_fail("pid %d exited %.2f s into the window: the report covers that part",
			      (int)c->pid, (w.t1 - w.t0) / 1e9);
	else if (rc == 0)
		fprintf(stderr, "golat: pid %d: %zu function%s timed for %.2f s%s; the world stopped %.0f us "
			"to attach (%u stop%s), %.0f us to detach (%u stop%s); %s\n", (int)c->pid, w.nids,
			w.nids == 1 ? "" : "s", (w.t1 - w.t0) / 1e9, cli_stop_signal ? " (interrupted)" : "",
			w.in_ns / 1e3, w.in_stops, w.in_stops == 1 ? "" : "s", w.out_ns / 1e3, w.out_stops,
			w.out_stops == 1 ? "" : "s",
			w.patches ? "other hooks stay in (golat detach removes them)"
				  : "its code is as it was before");
	before_drop(&a);
	if (a.v.base && a.v.base != v.base)
		stats_close(&a.v);
	stats_close(&v);
	ctl_reply_free(&e);
	ctl_reply_free(&r);
	free(w.ids);
	free(w.skips);
	return rc;
}

int cmd_attach(int argc, char **argv)
{
	struct attach_opts o;
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(ATTACH_USAGE, stdout);
		return 0;
	}
	if (parse(argc, argv, &o) != 0) {
		fputs(ATTACH_USAGE, stderr);
		return 2;
	}
	if (o.output && !o.seconds)
		return cli_fail("-o writes the report of a window: give -d SECONDS too (without -d, "
				"golat report PID reads the program live)");
	pid_t spid = cli_static_target(o.pid);
	if (spid)
		return cli_attach_static(spid, o.specs, o.sample, o.seconds, o.output);
	struct ctl_conn c;
	if (cli_ctl_open(o.pid, &c, true))
		return 1;
	int rc = o.seconds ? attach_window(&o, &c) : attach_for_good(&o, &c);
	ctl_close(&c);
	return rc;
}
