/* serve_page: golat serve's page and its JSON endpoints, and the once-a-second
 * sampling that draws the heat maps (doc/page.md).
 *
 *   GET /                          the page (tools/page/index.html, embedded)
 *   GET /api/procs                 the live golat processes (as /metrics finds them)
 *   GET /api/funcs?pid=&q=&page=   a page of PAGE_PER functions, slowest total first,
 *                                  those whose name holds q (any case)
 *   GET /api/func?pid=&id=         one function's details; starts its heat map
 *   GET /api/heat?pid=&id=         its heat map so far: one column a second
 *
 * What the sampling reads, and its bounds. A heat map exists only for a function the
 * page asked for (a "watch"): at most WATCH_MAX of them, each dropped WATCH_IDLE_MS
 * after the page last asked, the least recently asked evicted first. A watch keeps
 * WATCH_SECS columns of PAGE_ROWS 32-bit counts (~190 KB) and the histogram it saw at
 * the last tick (10 KB): the whole sampling holds at most ~3.3 MB. Each second, each
 * watch reads its one function's histogram with pread(2) (lib/report/statspread.c: the
 * header, new directory entries, the function's cells and blocks: a few KB, whatever
 * the file's size; a process with 10,000 functions has a stats file of ~100 MB). No
 * tick reads through a mapping: a file truncated under serve (golat's writer never
 * shrinks one, but any process of the user may) cannot SIGBUS it; the read comes up
 * short and the watch is dropped. The other endpoints read the file into private
 * memory (STATS_OPEN_COPY, as /metrics does), answer and close it: nothing of theirs
 * stays, and no truncation reaches them either. */
#define _GNU_SOURCE /* strcasestr */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "callsite.h"
#include "cli.h"
#include "report.h"
#include "serve_page.h"
#include "statspread.h"

#define PAGE_PER 50
#define WATCH_MAX 16
#define WATCH_SECS 300
#define WATCH_IDLE_MS 120000
#define TICK_MS 1000
#define PROCS_MAX 1024 /* processes one /api/procs lists */

struct watch {
	uint32_t pid, id;
	int64_t asked_ms;
	struct stats_hist_reader r;   /* its function, read with pread */
	double tsc_hz;                /* the rate when the watch started */
	uint64_t prev[STATS_BUCKETS]; /* the histogram at the last tick */
	uint32_t ncols, head;         /* ring: the newest column is head - 1 */
	int64_t t[WATCH_SECS];        /* the Unix second each column counts */
	double p50[WATCH_SECS], p99[WATCH_SECS];
	uint32_t cells[WATCH_SECS][PAGE_ROWS];
};

struct page_server {
	const struct cli_dirs *dirs;
	bool args;
	int64_t next_tick;
	struct watch *w[WATCH_MAX];
};

struct page_server *page_server_new(const struct cli_dirs *dirs, bool args)
{
	struct page_server *ps = calloc(1, sizeof(*ps));
	if (ps) {
		ps->dirs = dirs;
		ps->args = args;
	}
	return ps;
}

static void watch_drop(struct page_server *ps, int i)
{
	if (!ps->w[i])
		return;
	stats_hist_reader_close(&ps->w[i]->r);
	free(ps->w[i]);
	ps->w[i] = NULL;
}

void page_server_free(struct page_server *ps)
{
	if (!ps)
		return;
	for (int i = 0; i < WATCH_MAX; i++)
		watch_drop(ps, i);
	free(ps);
}

/* ---- finding a process's file ---- */

/* Opens the stats file of live process pid among those serve looks at (as /metrics:
 * --dir, else golat's directories and the containers'), copied, checked as a scan of
 * a shared directory must (STATS_OPEN_OWNED). pid 0: calls each (up to PROCS_MAX)
 * with its snapshot instead. 0, or -ENOENT. */
typedef void (*each_fn)(void *arg, const struct stats_view *v, const struct stats_snapshot *s);
static int find_procs(const struct page_server *ps, uint32_t pid, struct stats_view *out, each_fn each,
		      void *arg)
{
	glob_t g;
	struct stats_found *o = NULL;
	size_t nf = (size_t)cli_find_stats_files(&g, ps->dirs), no = 0, shown = 0;
	if (!(ps->dirs && ps->dirs->n) && stats_find_other(&o, &no) != 0)
		no = 0;
	int rc = -ENOENT;
	/* Read into private memory, as /metrics reads: a file truncated under serve while
	 * it answers cannot SIGBUS it. The descriptor stays for a watch's pread reader. */
	const unsigned flags = STATS_OPEN_OWNED | STATS_OPEN_COPY | STATS_OPEN_KEEP_FD;
	for (size_t i = 0; i < nf + no && rc != 0 && shown < PROCS_MAX; i++) {
		struct stats_view v;
		struct stats_snapshot s;
		char err[512];
		if (i >= nf && o[i - nf].pid == 0)
			continue; /* its writer exited */
		if ((i < nf ? stats_open_opts(&v, g.gl_pathv[i], flags, err, sizeof(err))
			    : stats_open_found(&v, &o[i - nf], flags, err, sizeof(err))) != 0)
			continue;
		uint32_t here = v.pid_here ? v.pid_here : v.hdr->pid;
		bool keep = false, gone = here == STATS_PID_GONE || (kill((pid_t)here, 0) != 0 && errno == ESRCH);
		/* A dead writer's file is not summed (a directory may hold many of them). */
		if (!gone && (pid == 0 || here == pid) && stats_snapshot(&v, &s) == 0) {
			if (s.alive && pid == 0) {
				each(arg, &v, &s);
				shown++;
			}
			keep = s.alive && pid != 0;
			stats_snapshot_free(&s);
		}
		if (keep) {
			*out = v;
			rc = 0;
		} else {
			stats_close(&v);
		}
	}
	free(o);
	globfree(&g);
	return rc;
}

/* ---- the query string ---- */

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The value of key in query q ("a=1&b=2"), percent-decoded into buf; false if absent. */
static bool query(const char *q, const char *key, char *buf, size_t n)
{
	size_t kl = strlen(key);
	while (q && *q) {
		const char *end = q + strcspn(q, "&");
		if ((size_t)(end - q) > kl && strncmp(q, key, kl) == 0 && q[kl] == '=') {
			size_t k = 0;
			for (const char *c = q + kl + 1; c < end && k + 1 < n; c++) {
				if (*c == '%' && c + 2 < end && hexval(c[1]) >= 0 && hexval(c[2]) >= 0) {
					buf[k++] = (char)(hexval(c[1]) * 16 + hexval(c[2]));
					c += 2;
				} else {
					buf[k++] = *c == '+' ? ' ' : *c;
				}
			}
			buf[k] = 0;
			return true;
		}
		q = *end ? end + 1 : end;
	}
	return false;
}

static bool query_u32(const char *q, const char *key, uint32_t *out)
{
	char buf[16], *end;
	if (!query(q, key, buf, sizeof(buf)) || !buf[0])
		return false;
	unsigned long x = strtoul(buf, &end, 10);
	*out = (uint32_t)x;
	return !*end && x <= UINT32_MAX;
}

/* ---- the sampling ---- */

static int64_t real_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

/* The watch of (pid, id), made when absent (evicting the least recently asked); NULL
 * when the process is not found or memory is short. */
static struct watch *watch_get(struct page_server *ps, uint32_t pid, uint32_t id, int64_t now)
{
	int free_i = -1, old = 0;
	for (int i = 0; i < WATCH_MAX; i++) {
		struct watch *w = ps->w[i];
		if (w && w->pid == pid && w->id == id) {
			w->asked_ms = now;
			return w;
		}
		if (!w && free_i < 0)
			free_i = i;
		if (w && ps->w[old] && w->asked_ms < ps->w[old]->asked_ms)
			old = i;
	}
	if (free_i < 0) {
		watch_drop(ps, old);
		free_i = old;
	}
	struct watch *w = calloc(1, sizeof(*w));
	struct stats_snapshot s;
	struct stats_view v;
	uint64_t total;
	if (!w || find_procs(ps, pid, &v, NULL, NULL) != 0) {
		free(w);
		return NULL;
	}
	int rc = stats_hist_reader_open(&w->r, &v, id);
	if (rc == 0 && stats_snapshot(&v, &s) == 0) {
		w->tsc_hz = s.tsc_hz;
		stats_snapshot_free(&s);
	}
	stats_close(&v);
	if (rc != 0 || stats_hist_read(&w->r, w->prev, &total) == -ESTALE) {
		stats_hist_reader_close(&w->r);
		free(w);
		return NULL;
	}
	w->pid = pid;
	w->id = id;
	w->asked_ms = now;
	ps->w[free_i] = w;
	return w;
}

/* The q-th quantile of a histogram of total calls, in ns at its bucket's middle. */
static double hist_quantile(double tsc_hz, const uint64_t *h, uint64_t total, double q)
{
	uint64_t want = (uint64_t)(q * (double)total + 0.999999), seen = 0;
	for (uint32_t b = 0; b < STATS_BUCKETS && total && tsc_hz > 0; b++)
		if ((seen += h[b]) >= want && h[b])
			return stats_bucket_mid(b) * 1e9 / tsc_hz;
	return 0;
}

/* One second of w: what its function's histogram gained since the last tick. false:
 * the watch is to be dropped (its file shrank under it). */
static bool watch_tick(struct watch *w, int64_t t)
{
	uint64_t cur[STATS_BUCKETS], d[STATS_BUCKETS], total = 0;
	int rc = stats_hist_read(&w->r, cur, &total);
	if (rc == -ESTALE || rc == -EBADF)
		return false;
	if (rc == -ENOMEM)
		return true; /* try again next second */
	total = 0;
	uint32_t *col = w->cells[w->head];
	memset(col, 0, sizeof(w->cells[0]));
	for (uint32_t b = 0; b < STATS_BUCKETS; b++) {
		d[b] = cur[b] >= w->prev[b] ? cur[b] - w->prev[b] : 0;
		total += d[b];
		col[b / PAGE_ROW_BUCKETS] += (uint32_t)d[b];
	}
	w->t[w->head] = t;
	w->p50[w->head] = hist_quantile(w->tsc_hz, d, total, 0.5);
	w->p99[w->head] = hist_quantile(w->tsc_hz, d, total, 0.99);
	memcpy(w->prev, cur, sizeof(cur));
	w->head = (w->head + 1) % WATCH_SECS;
	w->ncols += w->ncols < WATCH_SECS;
	return true;
}

int64_t page_server_tick(struct page_server *ps, int64_t now_ms)
{
	if (now_ms < ps->next_tick)
		return ps->next_tick;
	int64_t t = real_s() - 1; /* the second that just ended */
	for (int i = 0; i < WATCH_MAX; i++) {
		struct watch *w = ps->w[i];
		if (w && (now_ms - w->asked_ms > WATCH_IDLE_MS || !watch_tick(w, t)))
			watch_drop(ps, i);
	}
	/* Keep the cadence (a late tick does not push the next ones back) unless far behind. */
	ps->next_tick = now_ms - ps->next_tick < TICK_MS ? ps->next_tick + TICK_MS : now_ms + TICK_MS;
	return ps->next_tick;
}

/* ---- the answers ---- */

static void heat_json(FILE *out, const struct watch *w)
{
	fprintf(out, "{\"pid\":%u,\"id\":%u,\"cols\":[", w->pid, w->id);
	for (uint32_t k = 0; k < w->ncols; k++) {
		uint32_t i = (w->head + WATCH_SECS - w->ncols + k) % WATCH_SECS;
		fprintf(out, "%s{\"t\":%lld,\"p50_ns\":%.6g,\"p99_ns\":%.6g,\"cells\":[", k ? "," : "",
			(long long)w->t[i], w->p50[i], w->p99[i]);
		for (uint32_t r = 0, first = 1; r < PAGE_ROWS; r++)
			if (w->cells[i][r]) {
				fprintf(out, "%s[%u,%u]", first ? "" : ",", r, w->cells[i][r]);
				first = 0;
			}
		fputs("]}", out);
	}
	fputs("]}", out);
}

struct proc_list {
	FILE *out;
	unsigned n;
	uint32_t pid[PROCS_MAX]; /* listed: a second file of a pid (a stale one) is not */
};

static void proc_each(void *arg, const struct stats_view *v, const struct stats_snapshot *s)
{
	struct proc_list *l = arg;
	(void)v;
	for (unsigned i = 0; i < l->n; i++)
		if (l->pid[i] == s->pid)
			return;
	if (l->n < PROCS_MAX)
		l->pid[l->n] = s->pid;
	if (l->n++)
		fputc(',', l->out);
	page_json_proc(l->out, s);
}

static void answer_funcs(FILE *out, const struct stats_view *v, const char *q)
{
	struct stats_snapshot s;
	char pat[256] = "";
	uint32_t page = 0;
	query(q, "q", pat, sizeof(pat));
	query_u32(q, "page", &page);
	if (stats_snapshot(v, &s) != 0) {
		fputs("{\"error\":\"out of memory\"}", out);
		return;
	}
	uint32_t *ids = malloc((s.nfns ? s.nfns : 1) * sizeof(*ids));
	uint64_t *hist = malloc(STATS_BUCKETS * sizeof(*hist));
	size_t n = ids && hist ? report_order(&s, ids) : 0, m = 0;
	for (size_t i = 0; i < n; i++) /* the matching ones, in order */
		if (!pat[0] || strcasestr(s.fns[ids[i]].name, pat))
			ids[m++] = ids[i];
	fprintf(out, "{\"pid\":%u,\"total\":%zu,\"page\":%u,\"per\":%d,\"funcs\":[", s.pid, m, page, PAGE_PER);
	for (size_t i = (size_t)page * PAGE_PER, k = 0; i < m && k < PAGE_PER; i++, k++) {
		if (k)
			fputc(',', out);
		page_json_row(out, v, &s, &s.fns[ids[i]], hist);
	}
	fputs("]}", out);
	free(ids);
	free(hist);
	stats_snapshot_free(&s);
}

static void answer_func(FILE *out, const struct stats_view *v, uint32_t id, const struct watch *w, bool args)
{
	struct stats_snapshot s;
	if (stats_snapshot(v, &s) != 0) {
		fputs("null", out);
		return;
	}
	if (id >= s.nfns) {
		fputs("null", out);
		stats_snapshot_free(&s);
		return;
	}
	struct callsite cs;
	callsite_open(&cs, &s, NULL);
	fputs("{\"func\":", out);
	page_json_func(out, v, &s, &cs, &s.fns[id], NULL, args);
	fputs(",\"heat\":", out);
	if (w)
		heat_json(out, w);
	else
		fputs("null", out);
	fputc('}', out);
	callsite_close(&cs);
	stats_snapshot_free(&s);
}

/* The JSON of an /api path; *status set. */
static void api(struct page_server *ps, FILE *out, const char *path, const char *q, const char **status)
{
	uint32_t pid = 0, id = 0;
	struct stats_view v;
	*status = "200 OK";
	if (strcmp(path, "/api/procs") == 0) {
		fprintf(out, "{\"args\":%s,\"procs\":[", ps->args ? "true" : "false");
		static struct proc_list l; /* one at a time: serve has one thread */
		l = (struct proc_list){ .out = out };
		find_procs(ps, 0, NULL, proc_each, &l);
		fputs("]}", out);
		return;
	}
	bool funcs = strcmp(path, "/api/funcs") == 0, func = strcmp(path, "/api/func") == 0,
	     heat = strcmp(path, "/api/heat") == 0;
	if (!funcs && !func && !heat) {
		*status = "404 Not Found";
		fputs("{\"error\":\"no such endpoint\"}", out);
		return;
	}
	if (!query_u32(q, "pid", &pid) || pid == 0 || (!funcs && !query_u32(q, "id", &id))) {
		*status = "400 Bad Request";
		fputs("{\"error\":\"pid and id are numbers\"}", out);
		return;
	}
	struct watch *w = funcs ? NULL : watch_get(ps, pid, id, (int64_t)(cli_mono_ns() / 1000000));
	if (heat) {
		if (w)
			heat_json(out, w);
		else
			fputs("null", out);
		return;
	}
	if (find_procs(ps, pid, &v, NULL, NULL) != 0) {
		*status = "404 Not Found";
		fputs("{\"error\":\"no live golat process has that pid\"}", out);
		return;
	}
	if (funcs)
		answer_funcs(out, &v, q);
	else
		answer_func(out, &v, id, w, ps->args);
	stats_close(&v);
}

bool page_server_route(struct page_server *ps, const char *target, const char **status, const char **type,
		       char **body, size_t *len)
{
	char path[64];
	size_t pl = strcspn(target, "?#");
	const char *q = target[pl] == '?' ? target + pl + 1 : "";
	if (pl >= sizeof(path))
		return false;
	memcpy(path, target, pl);
	path[pl] = 0;
	*body = NULL;
	*len = 0;
	if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
		*status = "200 OK";
		*type = "text/html; charset=utf-8";
		*body = malloc(serve_page_html_len);
		if (*body) {
			memcpy(*body, serve_page_html, serve_page_html_len);
			*len = serve_page_html_len;
		}
		return true;
	}
	if (strncmp(path, "/api/", 5) != 0)
		return false;
	*type = "application/json";
	FILE *out = open_memstream(body, len);
	if (!out)
		return true;
	api(ps, out, path, q, status);
	if (fclose(out) != 0) {
		free(*body);
		*body = NULL;
		*len = 0;
	}
	return true;
}
