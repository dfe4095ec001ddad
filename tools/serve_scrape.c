/* golat serve, the scrape: the body of GET /metrics, read live from every golat stats
 * file of this user at each request (serve.c is the HTTP side).
 *
 * Which files: golat-*.stats in the directories of --dir, else in those `golat report`
 * looks in (/dev/shm and $TMPDIR: cli_find_stats_files) and in the /dev/shm and /tmp
 * of every container this user may look into (stats_find_other). Each is opened as a
 * scan of a shared directory must (STATS_OPEN_OWNED: no link followed, mode 0600, this
 * user's, or in a container its writer's) and copied (STATS_OPEN_COPY: one truncated
 * or removed mid-scrape is read as it was or left out, never a SIGBUS), whichever
 * directory it is in.
 *
 * Which labels: pid (as golat sees it: from the host, the host's, which `golat report
 * PID` takes; golat_process_info says the pid it sees itself as), exe, and where they
 * apply container_id, pod and namespace (lib/target.h); then those of --label.
 *
 * Which format: the text, the protobuf (report_pb.h), or the service discovery's list
 * of targets (/targets: one per process, each scraped at /metrics?pid=N).
 *
 * Which processes: only live ones. A file whose writer exited or died stays on disk
 * (a killed program's report), but its series must disappear from the scrape, so that
 * Prometheus marks them stale instead of repeating a dead process's last values
 * forever; a container's file whose writer no process of the container is any more
 * counts as exited too. Two files of one pid (a stale one in $TMPDIR, say) would give
 * duplicate series, which makes Prometheus refuse the whole scrape: the first one is
 * kept. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "report.h"
#include "report_pb.h"
#include "serve.h"
#include "statsread.h"
#include "target.h"

/* One live process of a scrape. */
struct proc {
	struct stats_view v;
	struct stats_snapshot s;
	uint32_t *ids;
	size_t n;
	char pid[16], nspid[16];
	struct target t; /* where it runs: its container, pod and namespace */
	struct report_label labels[5 + SERVE_LABELS_MAX];
	size_t nlabels;
	double hz; /* the rate its native buckets are mapped with (serve_rate) */
};

/* Whether golat-<pid>.stats names a pid that no longer exists: such a file need not
 * be read (a directory may hold many of them). A file of any other name is read. */
static bool named_for_dead_pid(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	if (strncmp(b, "golat-", 6) != 0 || !(b[6] >= '0' && b[6] <= '9'))
		return false;
	char *end;
	long pid = strtol(b + 6, &end, 10);
	if (strcmp(end, ".stats") != 0 || pid <= 0 || pid > 0x3fffffff)
		return false;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* The labels of p's series: pid (golat's, the host's from the host) and exe, then
 * container_id, pod and namespace where they apply. A process golat cannot look into
 * (gone meanwhile) keeps the first two. */
static void labels(struct proc *p, const struct serve_conf *c)
{
	char err[256];
	snprintf(p->pid, sizeof(p->pid), "%u", p->s.pid);
	snprintf(p->nspid, sizeof(p->nspid), "%u", p->s.nspid);
	p->labels[0] = (struct report_label){ "pid", p->pid };
	p->labels[1] = (struct report_label){ "exe", p->s.exe };
	p->nlabels = 2;
	if (target_open(&p->t, (pid_t)p->s.pid, err, sizeof(err)) == 0) {
		if (p->t.container[0])
			p->labels[p->nlabels++] = (struct report_label){ "container_id", p->t.container };
		if (p->t.pod[0])
			p->labels[p->nlabels++] = (struct report_label){ "pod", p->t.pod };
		if (p->t.k8s_ns[0])
			p->labels[p->nlabels++] = (struct report_label){ "namespace", p->t.k8s_ns };
	}
	for (size_t i = 0; i < c->nextra; i++)
		p->labels[p->nlabels++] = c->extra[i];
}

/* The labels golat's own series use: --label may not take them. */
static const char *const own_labels[] = { "function", "pid", "nspid", "exe", "container_id", "pod",
					  "namespace", "state", "le", "quantile" };

bool serve_label_ok(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);
	bool ok = n > 0 && !(name[0] >= '0' && name[0] <= '9') &&
		  strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
	if (!ok) {
		snprintf(err, errlen, "'%s' is not a label name (letters, digits and _, not first a digit)",
			 name);
		return false;
	}
	if (strncmp(name, "__", 2) == 0) {
		snprintf(err, errlen, "'%s': names beginning with __ are Prometheus's own", name);
		return false;
	}
	for (size_t i = 0; i < sizeof(own_labels) / sizeof(*own_labels); i++)
		if (strcmp(name, own_labels[i]) == 0) {
			snprintf(err, errlen, "'%s' is a label of golat's own series", name);
			return false;
		}
	return true;
}

/* The rate p's native buckets are mapped with: the one it had at its first scrape. The
 * processes no longer alive are forgotten. */
static void rate(struct proc *p, struct serve_conf *c)
{
	for (size_t i = 0; i < c->nrates; i++)
		if (c->rates[i].pid == p->s.pid && c->rates[i].tsc_start == p->s.tsc_start) {
			p->hz = c->rates[i].hz;
			return;
		}
	p->hz = p->s.tsc_hz;
	if (!(p->hz > 0))
		return;
	for (size_t i = 0; i < c->nrates;)
		if (kill((pid_t)c->rates[i].pid, 0) != 0 && errno == ESRCH)
			c->rates[i] = c->rates[--c->nrates];
		else
			i++;
	struct serve_rate *r = realloc(c->rates, (c->nrates + 1) * sizeof(*r));
	if (!r)
		return; /* this scrape's rate: the next one may differ a little */
	c->rates = r;
	r[c->nrates++] = (struct serve_rate){ p->s.pid, p->s.tsc_start, p->hz };
}

/* Opens a file into p when it is a live process's not already in ps[0, n): path,
 * one of golat's directories', or f, a container's. 1, or 0 when it is left out (and
 * p holds nothing), counted in st. */
static int load(struct proc *p, const struct proc *ps, size_t n, const char *path,
		const struct stats_found *f, struct serve_counts *st, struct serve_conf *c, uint32_t pid)
{
	char err[512];
	memset(p, 0, sizeof(*p));
	if (f ? f->pid == 0 : named_for_dead_pid(path)) {
		st->exited++;
		return 0;
	}
	unsigned flags = STATS_OPEN_OWNED | STATS_OPEN_COPY;
	if ((f ? stats_open_found(&p->v, f, flags, err, sizeof(err))
	       : stats_open_opts(&p->v, path, flags, err, sizeof(err))) != 0) {
		st->unreadable++;
		return 0;
	}
	int keep = 0;
	if (stats_snapshot(&p->v, &p->s) != 0)
		st->unreadable++;
	else if (pid && p->s.pid != pid)
		; /* /metrics?pid= another's */
	else if (!p->s.alive)
		st->exited++;
	else if ((p->ids = malloc((p->s.nfns ? p->s.nfns : 1) * sizeof(*p->ids))) == NULL)
		st->unreadable++;
	else
		keep = 1;
	for (size_t i = 0; keep && i < n; i++)
		if (ps[i].s.pid == p->s.pid) {
			st->duplicate++;
			keep = 0;
		}
	if (!keep) {
		free(p->ids);
		stats_snapshot_free(&p->s);
		stats_close(&p->v);
		return 0;
	}
	p->n = report_order(&p->s, p->ids);
	labels(p, c);
	rate(p, c);
	st->live++;
	return 1;
}

static const char INFO_HELP[] =
	"The processes of the golat series, value 1: pid is the process as golat serve sees it "
	"(from the host, the host's: the pid golat report, top and attach take there), nspid the one "
	"it sees itself as (in a container, its own numbering).";
static const char FILES_HELP[] = "Stats files golat serve found at this scrape, by state.";

/* Which process each pid is: in a container, pid (golat's) is not the one it sees
 * itself as, which names its stats file there and its own logs. */
static int info_family(FILE *out, const struct proc *ps, size_t n, bool pb)
{
	struct report_label(*l)[6 + SERVE_LABELS_MAX] = calloc(n ? n : 1, sizeof(*l));
	struct report_gauge *g = calloc(n ? n : 1, sizeof(*g));
	int rc = l && g ? 0 : -ENOMEM;
	if (!pb && rc == 0)
		fprintf(out, "# HELP golat_process_info %s\n# TYPE golat_process_info gauge\n", INFO_HELP);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		memcpy(l[i], ps[i].labels, ps[i].nlabels * sizeof(*l[i]));
		l[i][ps[i].nlabels] = (struct report_label){ "nspid", ps[i].nspid };
		g[i] = (struct report_gauge){ l[i], ps[i].nlabels + 1, 1 };
		if (!pb)
			report_prom_sample(out, "golat_process_info", l[i], ps[i].nlabels + 1, 1);
	}
	if (pb && rc == 0)
		rc = report_pb_gauges(out, "golat_process_info", INFO_HELP, g, n);
	free(l);
	free(g);
	return rc;
}

/* golat serve's own family: how many stats files each scrape found, by state. */
static int files_family(FILE *out, const struct serve_counts *st, bool pb)
{
	static const struct report_label state[4] = {
		{ "state", "live" }, { "state", "exited" }, { "state", "unreadable" }, { "state", "duplicate" }
	};
	const unsigned v[4] = { st->live, st->exited, st->unreadable, st->duplicate };
	struct report_gauge g[4];
	if (!pb)
		fprintf(out, "# HELP golat_serve_stats_files %s\n# TYPE golat_serve_stats_files gauge\n",
			FILES_HELP);
	for (int i = 0; i < 4; i++) {
		g[i] = (struct report_gauge){ &state[i], 1, v[i] };
		if (!pb)
			report_prom_sample(out, "golat_serve_stats_files", &state[i], 1, v[i]);
	}
	return pb ? report_pb_gauges(out, "golat_serve_stats_files", FILES_HELP, g, 4) : 0;
}

/* The HTTP service discovery's answer (also a file_sd file): one target per process,
 * this server scraped at /metrics?pid=N, with the process's labels. */
static void targets(FILE *out, const struct proc *ps, size_t n, const char *self)
{
	fputc('[', out);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n{\"targets\":[" : "\n{\"targets\":[", out);
		json_string(out, self);
		fprintf(out, "],\"labels\":{\"__metrics_path__\":\"/metrics\",\"__param_pid\":\"%s\"",
			ps[i].pid);
		for (size_t k = 0; k < ps[i].nlabels; k++) {
			fputc(',', out);
			json_string(out, ps[i].labels[k].name);
			fputc(':', out);
			json_string(out, ps[i].labels[k].value);
		}
		fputs("}}", out);
	}
	fputs("\n]\n", out);
}

static int render(FILE *out, const struct proc *ps, size_t n, const struct serve_counts *st,
		  struct serve_conf *c, enum serve_format fmt, const char *self)
{
	if (fmt == SERVE_TARGETS) {
		targets(out, ps, n, self);
		return 0;
	}
	struct report_prom_src *src = calloc(n ? n : 1, sizeof(*src));
	double *hz = calloc(n ? n : 1, sizeof(*hz));
	int rc = src && hz ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		src[i] = (struct report_prom_src){ &ps[i].v, &ps[i].s, ps[i].ids, ps[i].n,
						   ps[i].labels, ps[i].nlabels };
		hz[i] = ps[i].hz;
	}
	bool pb = fmt == SERVE_PROTOBUF;
	if (rc == 0)
		rc = pb ? report_prom_pb(out, src, hz, n, &c->bounds) : report_prom_multi(out, src, n, &c->bounds);
	free(src);
	free(hz);
	if (rc == 0)
		rc = info_family(out, ps, n, pb);
	if (rc == 0)
		rc = files_family(out, st, pb);
	return rc;
}

int serve_scrape(char **body, size_t *len, struct serve_counts *st, struct serve_conf *c,
		 enum serve_format fmt, uint32_t pid, const char *self)
{
	*body = NULL;
	*len = 0;
	memset(st, 0, sizeof(*st));
	glob_t g;
	struct stats_found *o = NULL;
	const struct cli_dirs *dirs = c->dirs;
	size_t nfiles = (size_t)cli_find_stats_files(&g, dirs), no = 0, n = 0;
	/* --dir: only there. Else the containers' too. */
	int rc = dirs && dirs->n ? 0 : stats_find_other(&o, &no);
	struct proc *ps = rc == 0 ? calloc(nfiles + no ? nfiles + no : 1, sizeof(*ps)) : NULL;
	FILE *out = ps ? open_memstream(body, len) : NULL;
	rc = out ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < nfiles; i++)
		n += (size_t)load(&ps[n], ps, n, g.gl_pathv[i], NULL, st, c, pid);
	for (size_t i = 0; rc == 0 && i < no; i++)
		n += (size_t)load(&ps[n], ps, n, NULL, &o[i], st, c, pid);
	if (rc == 0 && pid && n == 0)
		rc = -ESRCH;
	if (rc == 0)
		rc = render(out, ps, n, st, c, fmt, self);
	if (out && (fclose(out) != 0 || !*body) && rc == 0)
		rc = -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		free(ps[i].ids);
		stats_snapshot_free(&ps[i].s);
		stats_close(&ps[i].v);
	}
	free(ps);
	free(o);
	globfree(&g);
	if (rc) {
		free(*body);
		*body = NULL;
		*len = 0;
	}
	return rc;
}
