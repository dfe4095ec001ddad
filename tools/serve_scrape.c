/* golat serve, the scrape: the body of GET /metrics, read live from every golat stats
 * file of this user at each request (serve.c is the HTTP side).
 *
 * Which files: golat-*.stats in the directories of --dir, else in those `golat report`
 * looks in (/dev/shm and $TMPDIR): cli_find_stats_files. Each is opened as a scan of a
 * shared directory must (STATS_OPEN_OWNED: no link followed, this user's, mode 0600)
 * and copied (STATS_OPEN_COPY: one truncated or removed mid-scrape is read as it was
 * or left out, never a SIGBUS), whichever directory it is in.
 *
 * Which processes: only live ones. A file whose writer exited or died stays on disk
 * (a killed program's report), but its series must disappear from the scrape, so that
 * Prometheus marks them stale instead of repeating a dead process's last values
 * forever. Two files of one pid (a stale one in $TMPDIR, say) would give duplicate
 * series, which makes Prometheus refuse the whole scrape: the first one is kept. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "serve.h"
#include "statsread.h"

/* One live process of a scrape. */
struct proc {
	struct stats_view v;
	struct stats_snapshot s;
	uint32_t *ids;
	size_t n;
	char pid[16];
	struct report_label labels[2];
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

/* Opens path into p when it is a live process's file not already in ps[0, n): 1,
 * or 0 when it is left out (and p holds nothing), counted in st. */
static int load(struct proc *p, const struct proc *ps, size_t n, const char *path,
		struct serve_counts *st)
{
	char err[512];
	memset(p, 0, sizeof(*p));
	if (named_for_dead_pid(path)) {
		st->exited++;
		return 0;
	}
	if (stats_open_opts(&p->v, path, STATS_OPEN_OWNED | STATS_OPEN_COPY, err, sizeof(err)) != 0) {
		st->unreadable++;
		return 0;
	}
	int keep = 0;
	if (stats_snapshot(&p->v, &p->s) != 0)
		st->unreadable++;
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
	snprintf(p->pid, sizeof(p->pid), "%u", p->s.pid);
	p->labels[0] = (struct report_label){ "pid", p->pid };
	p->labels[1] = (struct report_label){ "exe", p->s.exe };
	st->live++;
	return 1;
}

/* golat serve's own family: how many stats files each scrape found, by state. */
static void files_family(FILE *out, const struct serve_counts *st)
{
	fputs("# HELP golat_serve_stats_files Stats files golat serve found at this scrape, by state.\n"
	      "# TYPE golat_serve_stats_files gauge\n",
	      out);
	fprintf(out, "golat_serve_stats_files{state=\"live\"} %u\n", st->live);
	fprintf(out, "golat_serve_stats_files{state=\"exited\"} %u\n", st->exited);
	fprintf(out, "golat_serve_stats_files{state=\"unreadable\"} %u\n", st->unreadable);
	fprintf(out, "golat_serve_stats_files{state=\"duplicate\"} %u\n", st->duplicate);
}

static int render(FILE *out, const struct proc *ps, size_t n, const struct serve_counts *st,
		  struct report_prom_bounds *bounds)
{
	struct report_prom_src *src = calloc(n ? n : 1, sizeof(*src));
	if (!src)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		src[i] = (struct report_prom_src){ &ps[i].v, &ps[i].s, ps[i].ids, ps[i].n,
						   ps[i].labels, 2 };
	int rc = report_prom_multi(out, src, n, bounds);
	free(src);
	if (rc == 0)
		files_family(out, st);
	return rc;
}

int serve_scrape(char **body, size_t *len, struct serve_counts *st, struct report_prom_bounds *bounds,
		 const struct cli_dirs *dirs)
{
	*body = NULL;
	*len = 0;
	memset(st, 0, sizeof(*st));
	glob_t g;
	size_t nfiles = (size_t)cli_find_stats_files(&g, dirs), n = 0;
	struct proc *ps = calloc(nfiles ? nfiles : 1, sizeof(*ps));
	FILE *out = ps ? open_memstream(body, len) : NULL;
	int rc = out ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < nfiles; i++)
		n += (size_t)load(&ps[n], ps, n, g.gl_pathv[i], st);
	if (rc == 0)
		rc = render(out, ps, n, st, bounds);
	if (out && (fclose(out) != 0 || !*body) && rc == 0)
		rc = -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		free(ps[i].ids);
		stats_snapshot_free(&ps[i].s);
		stats_close(&ps[i].v);
	}
	free(ps);
	globfree(&g);
	if (rc) {
		free(*body);
		*body = NULL;
		*len = 0;
	}
	return rc;
}
