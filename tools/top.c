/* golat top: a live table of a program's hooked functions, refreshed every interval,
 * sorted by total time (or self time, p99, calls) and filtered by name (a substring, or
 * a glob as in GOLAT_FUNCS). The numbers are the report's (lib/report/report.c); the
 * calls/s column is the difference between two snapshots.
 *
 * On a terminal (stdin and stdout both) it takes keys, as top(1) users expect: t s p c
 * sort, / types a filter (Enter keeps it, Esc drops it), Esc clears it, q quits; the
 * terminal's raw mode is undone on every way out (top_term.c). Otherwise it prints
 * plain tables, as scripts and tests read them. */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"
#include "statsread.h"
#include "target.h"
#include "top.h"
#include "fmath.h"

#define NAME_MAX_W 60

static const char TOP_USAGE[] = "usage: golat top [STATS_FILE or PID] [-n N] [-d SECONDS] "
				"[--sort total|self|p99|calls] [--filter PATTERN]\n";
static const char TOP_KEYS[] =
	"keys: t s p c sort by total, self, p99, calls; / filter (a substring or a glob);\n"
	"      Esc clear the filter; q quit\n";

enum top_sort { SORT_TOTAL, SORT_SELF, SORT_P99, SORT_CALLS, NSORTS };
static const char *const SORT_NAMES[NSORTS] = { "total", "self", "p99", "calls" };

struct top {
	struct stats_view v;
	uint64_t *prev;    /* calls per id at the previous refresh */
	uint32_t nprev;
	double prev_t;     /* monotonic seconds of the previous refresh, 0 before the first */
	uint64_t *hist;
	bool tty;          /* stdout is a terminal: one screen, drawn over */
	bool keys;         /* and stdin is one too: raw mode, keys */
	enum top_sort sort;
	char filter[128];  /* "" shows every function */
	bool typing;       /* after '/': keys go to the filter */
	char where[96];    /* " (in container 1a2b3c4d5e6f)" for a container's process, else "" */
};

static double now_s(void)
{
	return (double)cli_mono_ns() / 1e9;
}

/* A pattern with a glob character is a glob over the whole name, as in GOLAT_FUNCS;
 * any other a substring. */
static bool matches(const char *pat, const char *name)
{
	if (!*pat)
		return true;
	if (strpbrk(pat, "*?["))
		return fnmatch(pat, name, 0) == 0;
	return strstr(name, pat) != NULL;
}

struct ranked {
	double key, total;
	uint32_t id;
};

static int by_key(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static double sort_key(struct top *t, const struct stats_snapshot *s, const struct stats_func *f)
{
	struct report_fn r;
	switch (t->sort) {
	case SORT_SELF:
		return report_self_ns(s, f);
	case SORT_CALLS:
		return (double)f->calls;
	case SORT_P99: /* only this key needs the histogram of every function */
		report_fn_compute(&t->v, s, f, t->hist, &r);
		return r.count ? r.p99_ns : -1;
	default:
		return report_total_ns(s, f);
	}
}

/* The functions a report shows that match the filter, in t->sort order, into ids;
 * returns how many, and the report's count in *all. */
static size_t order(struct top *t, const struct stats_snapshot *s, uint32_t *ids, size_t *all)
{
	size_t n = report_order(s, ids), m = 0;
	*all = n;
	struct ranked *r = malloc((n ? n : 1) * sizeof(*r));
	for (size_t i = 0; i < n; i++) {
		const struct stats_func *f = &s->fns[ids[i]];
		if (!matches(t->filter, f->name))
			continue;
		if (r)
			r[m] = (struct ranked){ sort_key(t, s, f), report_total_ns(s, f), f->id };
		ids[m++] = f->id; /* without memory for sorting: filtered, by total */
	}
	if (r) {
		qsort(r, m, sizeof(*r), by_key);
		for (size_t i = 0; i < m; i++)
			ids[i] = r[i].id;
	}
	free(r);
	return m;
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

static void title(const struct top *t, const struct stats_snapshot *s, size_t n, size_t all)
{
	char el[32];
	report_human_ns(el, sizeof(el), (double)s->elapsed_ns, " ");
	printf("golat top: pid %u%s ", s->pid, t->where);
	report_put_clean(stdout, s->exe[0] ? s->exe : "?");
	fputs(" (", stdout);
	report_put_clean(stdout, s->go_version[0] ? s->go_version : "unknown Go version");
	printf(") %s, %zu functions%s, by %s", el, all,
	       s->flags & STATS_F_EXITED ? ", exited" : s->alive ? "" : ", not running",
	       SORT_NAMES[t->sort]);
	if (t->filter[0]) {
		fputs(", filter '", stdout);
		report_put_clean(stdout, t->filter);
		printf("': %zu", n);
	}
	putchar('\n');
}

/* The column heads; on a terminal the sort column's in reverse video. */
static void head(const struct top *t, int w)
{
	static const struct {
		const char *name;
		int w, sort; /* sort: the key it shows, or -1 */
	} cols[] = { { "CALLS", 10, SORT_CALLS }, { "CALLS/S", 9, -1 }, { "IN FLIGHT", 9, -1 },
		     { "PANICKED", 8, -1 },       { "MEAN", 8, -1 },    { "P50", 8, -1 },
		     { "P99", 8, SORT_P99 },      { "MAX", 8, -1 },     { "TOTAL", 8, SORT_TOTAL },
		     { "SELF", 8, SORT_SELF } };
	printf("%-*s", w, "FUNCTION");
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		bool hl = t->tty && cols[i].sort == (int)t->sort;
		printf(" %s%*s%s", hl ? "\033[7m" : "", cols[i].w, cols[i].name, hl ? "\033[0m" : "");
	}
	putchar('\n');
}

static void row(const struct top *t, const struct stats_snapshot *s, const struct stats_func *f,
		int w, double now)
{
	struct report_fn r;
	report_fn_compute(&t->v, s, f, t->hist, &r);
	char m[16] = "-", p50[16] = "-", p99[16] = "-", mx[16] = "-", tot[16] = "-", self[16] = "-";
	if (r.count) { /* no timed call yet: nothing to show but dashes */
		report_human_ns(m, sizeof(m), r.mean_ns, "");
		report_human_ns(p50, sizeof(p50), r.p50_ns, "");
		report_human_ns(p99, sizeof(p99), r.p99_ns, "");
		report_human_ns(mx, sizeof(mx), r.max_ns, "");
		report_human_ns(tot, sizeof(tot), r.total_ns, "");
	}
	if (f->self) /* 0: a recorder that does not count self time yet */
		report_human_ns(self, sizeof(self), r.self_ns, "");
	double cps = rate(t, s, f, now);
	put_name(f->name, w);
	printf(" %10llu %9.*f %9llu %8llu %8s %8s %8s %8s %8s %8s\n", (unsigned long long)f->calls,
	       cps < 10 ? 1 : 0, cps, (unsigned long long)f->in_flight, (unsigned long long)f->abandoned,
	       m, p50, p99, mx, tot, self);
}

/* The last line on a terminal that takes keys: what they do, or the filter being typed. */
static void status(const struct top *t)
{
	if (t->typing) {
		fputs("filter (a substring or a glob; Enter keeps it, Esc drops it): ", stdout);
		report_put_clean(stdout, t->filter);
		fputs("_", stdout);
	} else {
		fputs("t total  s self  p p99  c calls  / filter  Esc clear filter  q quit", stdout);
	}
}

/* Rows that fit the terminal, or all of them when stdout is not one. */
static size_t rows_fit(const struct top *t, size_t n)
{
	struct winsize ws;
	if (!t->tty || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row < 4)
		return n;
	return n < (size_t)ws.ws_row - 3 ? n : (size_t)ws.ws_row - 3;
}

/* Draws the table; tick: a refresh, whose calls are the next one's rates (a redraw
 * after a key is not). */
static void table(struct top *t, const struct stats_snapshot *s, const uint32_t *ids, size_t n,
		  size_t all, bool tick)
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
	title(t, s, n, all);
	head(t, w);
	size_t shown = rows_fit(t, n);
	for (size_t i = 0; i < shown; i++)
		row(t, s, &s->fns[ids[i]], w, now);
	if (t->keys)
		status(t);
	fflush(stdout);
	uint64_t *p = tick ? realloc(t->prev, (s->nfns ? s->nfns : 1) * sizeof(*p)) : NULL;
	if (p) { /* remember the calls for the next interval's rates */
		for (uint32_t id = 0; id < s->nfns; id++)
			p[id] = s->fns[id].calls;
		t->prev = p;
		t->nprev = s->nfns;
		t->prev_t = now;
	}
}

/* One refresh (tick) or redraw; returns 1 when the program is gone (nothing will
 * change), -1 on error. */
static int refresh(struct top *t, bool tick)
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
	size_t all, n = order(t, &s, ids, &all);
	table(t, &s, ids, n, all, tick);
	int gone = !s.alive;
	free(ids);
	stats_snapshot_free(&s);
	return gone;
}

/* A key: 1 when the table must be drawn again, 0 when it changes nothing, -1 to quit. */
static int key(struct top *t, int c)
{
	size_t l = strlen(t->filter);
	if (t->typing) {
		if (c == '\r' || c == '\n')
			t->typing = false;
		else if (c == TOP_KEY_ESC)
			t->typing = false, t->filter[0] = 0;
		else if ((c == 127 || c == 8) && l)
			t->filter[l - 1] = 0;
		else if (c == 21) /* Ctrl-U */
			t->filter[0] = 0;
		else if (c >= 32 && c < 127 && l + 1 < sizeof(t->filter))
			t->filter[l] = (char)c, t->filter[l + 1] = 0;
		else
			return 0;
		return 1;
	}
	const char *k = strchr("tspc", c | 0x20);
	if (c != 0 && k) {
		t->sort = (enum top_sort)(k - "tspc");
		return 1;
	}
	if (c == 'q' || c == 'Q')
		return -1;
	if (c == '/')
		t->typing = true, t->filter[0] = 0;
	else if (c == TOP_KEY_ESC && l)
		t->filter[0] = 0;
	else
		return 0;
	return 1;
}

/* Waits up to delay seconds for keys, redrawing after those that change the table.
 * Returns 1 to quit (q, a signal, the terminal gone), -1 on error, else 0. */
static int wait_keys(struct top *t, double delay)
{
	double end = now_s() + delay;
	while (!cli_stop_signal) {
		double left = end - now_s();
		if (left <= 0)
			return 0;
		int keys[64], n = top_term_keys((int)fm_ceil(left * 1000), keys, 64), redraw = top_redraw;
		if (n < 0)
			return 1;
		top_redraw = 0;
		for (int i = 0; i < n; i++) {
			int r = key(t, keys[i]);
			if (r < 0)
				return 1;
			redraw |= r;
		}
		if (redraw && refresh(t, false) < 0)
			return -1;
	}
	return 1;
}

static void wait_plain(double delay)
{
	struct timespec ts = { (time_t)delay, (long)((delay - fm_floor(delay)) * 1e9) };
	nanosleep(&ts, NULL);
}

/* A flag's value: "--sort KEY" or "--sort=KEY"; NULL when argv[*i] is not that flag. */
static const char *flag(int argc, char **argv, int *i, const char *name)
{
	size_t l = strlen(name);
	if (strncmp(argv[*i], name, l) != 0)
		return NULL;
	if (argv[*i][l] == '=')
		return argv[*i] + l + 1;
	if (argv[*i][l] == 0 && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

static int parse_sort(const char *v, enum top_sort *sort)
{
	for (int k = 0; k < NSORTS; k++)
		if (strcmp(v, SORT_NAMES[k]) == 0) {
			*sort = (enum top_sort)k;
			return 0;
		}
	return -1;
}

static int parse(int argc, char **argv, const char **arg, long *count, double *delay, struct top *t)
{
	for (int i = 1; i < argc; i++) {
		char *end = NULL;
		const char *v;
		if ((strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "-d") == 0) && i + 1 < argc) {
			bool n = argv[i][1] == 'n';
			const char *val = argv[++i];
			if (n)
				*count = strtol(val, &end, 10);
			else
				*delay = strtod(val, &end);
			if (!*val || *end || (n ? *count < 1 : !(*delay > 0 && *delay < 1e6)))
				return -1;
		} else if ((v = flag(argc, argv, &i, "--sort"))) {
			if (parse_sort(v, &t->sort) != 0)
				return -1;
		} else if ((v = flag(argc, argv, &i, "--filter"))) {
			if (strlen(v) >= sizeof(t->filter))
				return -1;
			strcpy(t->filter, v);
		} else if (argv[i][0] == '-' || *arg)
			return -1;
		else
			*arg = argv[i];
	}
	return 0;
}

/* Where the writer runs, said once in every title: the container it is in (the pid
 * in the title is golat's, the one `golat top PID` takes), or the pid it sees itself as
 * in other namespaces. */
static void where(struct top *t)
{
	struct stats_snapshot s;
	struct target tg;
	char err[256];
	if (stats_snapshot(&t->v, &s) == 0 && s.alive && target_open(&tg, (pid_t)s.pid, err, sizeof(err)) == 0)
		target_where(&tg, t->where, sizeof(t->where));
	else if (s.nspid != s.pid)
		snprintf(t->where, sizeof(t->where), " (%u in its namespace)", s.nspid);
	stats_snapshot_free(&s);
}

static int run(struct top *t, long count, double delay)
{
	int rc = 0;
	for (long k = 0; !cli_stop_signal && (count == 0 || k < count); k++) {
		if (k && !t->tty)
			putchar('\n');
		int gone = refresh(t, true);
		if (gone < 0)
			rc = cli_fail("out of memory");
		if (gone || (count && k + 1 == count))
			break;
		int w = 0;
		if (t->keys)
			w = wait_keys(t, delay);
		else
			wait_plain(delay);
		if (w < 0)
			rc = cli_fail("out of memory");
		if (w)
			break;
	}
	return rc;
}

int cmd_top(int argc, char **argv)
{
	const char *arg = NULL;
	long count = 0; /* refreshes; 0: until the program ends or we are interrupted */
	double delay = 1;
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(TOP_USAGE, stdout);
		fputs(TOP_KEYS, stdout);
		return 0;
	}
	struct top t = { .tty = isatty(STDOUT_FILENO) };
	if (parse(argc, argv, &arg, &count, &delay, &t) != 0) {
		fputs(TOP_USAGE, stderr);
		return 2;
	}
	t.hist = malloc(STATS_BUCKETS * sizeof(*t.hist));
	if (!t.hist)
		return cli_fail("out of memory");
	if (cli_open_stats(arg, NULL, &t.v)) {
		free(t.hist);
		return 1;
	}
	where(&t);
	t.keys = t.tty && isatty(STDIN_FILENO) && top_term_raw() == 0;
	int rc = run(&t, count, delay);
	if (t.keys) {
		top_term_restore();
		putchar('\n'); /* the prompt after the status line, not on it */
	}
	stats_close(&t.v);
	free(t.prev);
	free(t.hist);
	return rc;
}
