/* golat top: a live table of a program's hooked functions, refreshed every interval,
 * slowest total first. The numbers are the report's (lib/report/report.c); the calls/s
 * column is the difference between two snapshots. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"
#include "statsread.h"

#define NAME_MAX_W 60

static const char TOP_USAGE[] = "usage: golat top [STATS_FILE or PID] [-n N] [-d SECONDS]\n";

struct top {
	struct stats_view v;
	uint64_t *prev;    /* calls per id at the previous refresh */
	uint32_t nprev;
	double prev_t;     /* monotonic seconds of the previous refresh, 0 before the first */
	uint64_t *hist;
	bool tty;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Calls per second of f: since the previous refresh, or over the whole run first. */
static double rate(const struct top *t, const struct stats_snapshot *s, const struct stats_func *f,
		   double now)
{
	if (t->prev_t > 0 && now > t->prev_t) {
		uint64_t before = f->id < t->nprev ? t->prev[f->id] : 0;
		return f->calls >= before ? (double)(f->calls - before) / (now - t->prev_t) : 0;
	}
	return s->elapsed_ns ? (double)f->calls * 1e9 / (double)s->elapsed_ns : 0;
}

static void put_name(const char *name, int w)
{
	char buf[STATS_NAME_MAX + NAME_MAX_W];
	int n = (int)strlen(name);
	if (n > w)
		snprintf(buf, sizeof(buf), "%.*s...", w - 3, name);
	else
		snprintf(buf, sizeof(buf), "%-*s", w, name);
	report_put_clean(stdout, buf);
}

static void title(const struct stats_snapshot *s, size_t n)
{
	char el[32];
	report_human_ns(el, sizeof(el), (double)s->elapsed_ns, " ");
	printf("golat top: pid %u ", s->pid);
	report_put_clean(stdout, s->exe[0] ? s->exe : "?");
	fputs(" (", stdout);
	report_put_clean(stdout, s->go_version[0] ? s->go_version : "unknown Go version");
	printf(") %s, %zu functions%s\n", el, n,
	       s->flags & STATS_F_EXITED ? ", exited" : s->alive ? "" : ", not running");
}

static void row(const struct top *t, const struct stats_snapshot *s, const struct stats_func *f,
		int w, double now)
{
	struct report_fn r;
	report_fn_compute(&t->v, s, f, t->hist, &r);
	char m[16] = "-", p50[16] = "-", p99[16] = "-", mx[16] = "-", tot[16] = "-";
	if (r.count) { /* no timed call yet: nothing to show but dashes */
		report_human_ns(m, sizeof(m), r.mean_ns, "");
		report_human_ns(p50, sizeof(p50), r.p50_ns, "");
		report_human_ns(p99, sizeof(p99), r.p99_ns, "");
		report_human_ns(mx, sizeof(mx), r.max_ns, "");
		report_human_ns(tot, sizeof(tot), r.total_ns, "");
	}
	double cps = rate(t, s, f, now);
	put_name(f->name, w);
	printf(" %10llu %9.*f %9llu %8llu %8s %8s %8s %8s %8s\n", (unsigned long long)f->calls,
	       cps < 10 ? 1 : 0, cps, (unsigned long long)f->in_flight, (unsigned long long)f->abandoned,
	       m, p50, p99, mx, tot);
}

/* Rows that fit the terminal, or all of them when stdout is not one. */
static size_t rows_fit(const struct top *t, size_t n)
{
	struct winsize ws;
	if (!t->tty || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row < 4)
		return n;
	return n < (size_t)ws.ws_row - 3 ? n : (size_t)ws.ws_row - 3;
}

static void table(struct top *t, const struct stats_snapshot *s, const uint32_t *ids, size_t n)
{
	double now = now_s();
	int w = 8;
	for (size_t i = 0; i < n; i++) {
		int k = (int)strlen(s->fns[ids[i]].name);
		w = k > w ? k : w;
	}
	w = w < NAME_MAX_W ? w : NAME_MAX_W;
	if (t->tty)
		fputs("\033[H\033[2J", stdout);
	title(s, n);
	printf("%-*s %10s %9s %9s %8s %8s %8s %8s %8s %8s\n", w, "FUNCTION", "CALLS", "CALLS/S",
	       "IN FLIGHT", "PANICKED", "MEAN", "P50", "P99", "MAX", "TOTAL");
	size_t shown = rows_fit(t, n);
	for (size_t i = 0; i < shown; i++)
		row(t, s, &s->fns[ids[i]], w, now);
	fflush(stdout);
	/* Remember the calls for the next interval's rates. */
	uint64_t *p = realloc(t->prev, (s->nfns ? s->nfns : 1) * sizeof(*p));
	if (p) {
		for (uint32_t id = 0; id < s->nfns; id++)
			p[id] = s->fns[id].calls;
		t->prev = p;
		t->nprev = s->nfns;
		t->prev_t = now;
	}
}

/* One refresh; returns 1 when the program is gone (nothing will change), -1 on error. */
static int refresh(struct top *t)
{
	struct stats_snapshot s;
	if (stats_snapshot(&t->v, &s) != 0) {
		stats_snapshot_free(&s);
		return -1;
	}
	uint32_t *ids = malloc((s.nfns ? s.nfns : 1) * sizeof(*ids));
	if (!ids) {
		stats_snapshot_free(&s);
		return -1;
	}
	size_t n = report_order(&s, ids);
	table(t, &s, ids, n);
	int gone = !s.alive;
	free(ids);
	stats_snapshot_free(&s);
	return gone;
}

static int parse(int argc, char **argv, const char **arg, long *count, double *delay)
{
	for (int i = 1; i < argc; i++) {
		char *end = NULL;
		if ((strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "-d") == 0) && i + 1 < argc) {
			bool n = argv[i][1] == 'n';
			const char *val = argv[++i];
			if (n)
				*count = strtol(val, &end, 10);
			else
				*delay = strtod(val, &end);
			if (!*val || *end || (n ? *count < 1 : !(*delay > 0 && *delay < 1e6)))
				return -1;
		} else if (argv[i][0] == '-' || *arg)
			return -1;
		else
			*arg = argv[i];
	}
	return 0;
}

int cmd_top(int argc, char **argv)
{
	const char *arg = NULL;
	long count = 0; /* refreshes; 0: until the program ends or we are interrupted */
	double delay = 1;
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(TOP_USAGE, stdout);
		return 0;
	}
	if (parse(argc, argv, &arg, &count, &delay) != 0) {
		fputs(TOP_USAGE, stderr);
		return 2;
	}
	struct top t = { .tty = isatty(STDOUT_FILENO) };
	t.hist = malloc(STATS_BUCKETS * sizeof(*t.hist));
	if (!t.hist)
		return cli_fail("out of memory");
	if (cli_open_stats(arg, &t.v)) {
		free(t.hist);
		return 1;
	}
	int rc = 0;
	for (long k = 0; count == 0 || k < count; k++) {
		if (k && !t.tty)
			putchar('\n');
		int gone = refresh(&t);
		if (gone < 0)
			rc = cli_fail("out of memory");
		if (gone || (count && k + 1 == count))
			break;
		struct timespec ts = { (time_t)delay, (long)((delay - floor(delay)) * 1e9) };
		nanosleep(&ts, NULL);
	}
	stats_close(&t.v);
	free(t.prev);
	free(t.hist);
	return rc;
}
