/* golat report: renders a live or dead program's stats file with the library's own
 * renderer (lib/report/report.c); and how report and top find that file. */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "report.h"
#include "serve_page.h"
#include "statsread.h"
#include "target.h"

bool cli_dirs_add(struct cli_dirs *d, const char *dir)
{
	if (d->n == CLI_DIRS_MAX)
		return false;
	d->path[d->n++] = dir;
	return true;
}

int cli_dirs_check(struct cli_dirs *d)
{
	size_t k = 0;
	for (size_t i = 0; i < d->n; i++) {
		struct stat st;
		if (stat(d->path[i], &st) != 0)
			return cli_fail("--dir %s: %s", d->path[i], strerror(errno));
		if (!S_ISDIR(st.st_mode))
			return cli_fail("--dir %s: not a directory", d->path[i]);
		bool seen = false;
		for (size_t j = 0; j < k; j++)
			seen |= d->dev[j] == st.st_dev && d->ino[j] == st.st_ino;
		if (seen)
			continue;
		d->path[k] = d->path[i];
		d->dev[k] = st.st_dev;
		d->ino[k++] = st.st_ino;
	}
	d->n = k;
	return 0;
}

/* Appends dir's golat-*.stats to g, dir taken literally: a \, *, ? or [ in its name
 * (a TMPDIR or --dir of any name) is escaped rather than read as a pattern. */
static void glob_dir(glob_t *g, const char *dir)
{
	char pat[8400];
	size_t k = 0;
	for (const char *c = dir; *c && k < sizeof(pat) - 32; c++) {
		if (strchr("\\*?[", *c))
			pat[k++] = '\\';
		pat[k++] = *c;
	}
	snprintf(pat + k, sizeof(pat) - k, "/golat-*.stats");
	glob(pat, g->gl_pathc ? GLOB_APPEND : 0, NULL, g);
}

static const char *tmpdir(void)
{
	const char *tmp = getenv("TMPDIR");
	return tmp && *tmp ? tmp : "/tmp";
}

int cli_find_stats_files(glob_t *g, const struct cli_dirs *d)
{
	memset(g, 0, sizeof(*g));
	if (d && d->n) {
		for (size_t i = 0; i < d->n; i++)
			glob_dir(g, d->path[i]);
	} else {
		glob_dir(g, "/dev/shm");
		if (strcmp(tmpdir(), "/dev/shm") != 0)
			glob_dir(g, tmpdir());
	}
	return (int)g->gl_pathc;
}

/* "pid 4242 (in container 1a2b3c4d5e6f)" for a container's file, its path when its
 * writer exited. */
static void name_found(char *out, size_t n, const struct stats_found *f)
{
	struct target t;
	char err[256], where[96];
	if (!f->pid)
		snprintf(out, n, "%s", f->path);
	else
		snprintf(out, n, "pid %d%s", (int)f->pid,
			 target_open(&t, f->pid, err, sizeof(err)) == 0 ? target_where(&t, where, sizeof(where)) : "");
}

/* With no argument, the one stats file there is, in golat's directories (or d's) and,
 * without d, in those of every container this user may see: several are an error
 * naming them. */
static int open_single(const struct cli_dirs *d, struct stats_view *v)
{
	glob_t g;
	struct stats_found *o = NULL;
	size_t no = 0;
	int n = cli_find_stats_files(&g, d), rc;
	if ((!d || !d->n) && stats_find_other(&o, &no) != 0)
		no = 0;
	char err[512];
	if (n + no == 0) {
		char where[2048] = "";
		if (!d || !d->n)
			snprintf(where, sizeof(where), "/dev/shm or %s", tmpdir());
		for (size_t i = 0; d && i < d->n; i++)
			snprintf(where + strlen(where), sizeof(where) - strlen(where), "%s%s",
				 i ? ", " : "", d->path[i]);
		rc = cli_fail("no stats file in %s (golat-*.stats)%s: name a file or a pid", where,
			      !d || !d->n ? ", nor in any container's" : "");
	} else if (n + no == 1 && n) {
		rc = stats_open(v, g.gl_pathv[0], err, sizeof(err)) ? cli_fail("%s", err) : 0;
	} else if (n + no == 1) {
		rc = stats_open_found(v, &o[0], 0, err, sizeof(err)) ? cli_fail("%s", err) : 0;
	} else {
		char list[2048] = "", one[400];
		for (size_t i = 0; i < n + no && strlen(list) < sizeof(list) - 400; i++) {
			if (i < (size_t)n)
				snprintf(one, sizeof(one), "%s", g.gl_pathv[i]);
			else
				name_found(one, sizeof(one), &o[i - n]);
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "", one);
		}
		rc = cli_fail("%zu stats files, name one (or a pid): %s%s", n + no, list,
			      strlen(list) >= sizeof(list) - 400 ? ", ..." : "");
	}
	free(o);
	globfree(&g);
	return rc;
}

/* A path through /proc/PID/root or /proc/PID/cwd (a container's file, as the lists of
 * report and top name a dead one): its header's pid is that namespace's, so whether
 * its writer lives is asked of PID when it is the writer, and of no one else. */
static void writer_through_proc(const char *path, struct stats_view *v)
{
	char err[256];
	pid_t pid = target_path_pid(path);
	struct target t;
	if (!pid || target_open(&t, pid, err, sizeof(err)) != 0 || !t.other_pidns)
		return;
	v->pid_here = (uint32_t)t.nspid == v->hdr->pid ? (uint32_t)pid : STATS_PID_GONE;
}

int cli_open_stats(const char *arg, const struct cli_dirs *dirs, struct stats_view *v)
{
	char err[512];
	if (!arg)
		return open_single(dirs, v);
	if (*arg && strspn(arg, "0123456789") == strlen(arg)) {
		long pid = strtol(arg, NULL, 10);
		if (pid <= 0 || pid > 0x3fffffff)
			return cli_fail("no such process: %s", arg);
		return stats_open_pid(v, (pid_t)pid, err, sizeof(err)) ? cli_fail("%s", err) : 0;
	}
	if (stats_open(v, arg, err, sizeof(err)))
		return cli_fail("%s", err);
	writer_through_proc(arg, v);
	return 0;
}

int cli_report_to(const char *output, FILE *dflt, const struct stats_view *v, const struct stats_snapshot *s,
		  const struct report_skip *skips, size_t nskips)
{
	const char *out = output && *output && strcmp(output, "-") != 0 ? output : NULL;
	struct report_opts ro = { .format = out ? report_format_for_path(out) : REPORT_TEXT, .skipped = skips,
				  .nskipped = nskips };
	FILE *f = out ? fopen(out, "we") : dflt;
	if (!f)
		return -errno;
	int rc = s ? report_render(f, v, s, &ro) : report_write(f, v, &ro);
	if ((out ? fclose(f) : fflush(f)) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

static const char REPORT_USAGE[] =
	"usage: golat report [STATS_FILE or PID | --dir DIR...] [--json|--text|--prom|--html FILE [--args]]\n";

/* --html FILE: the page of golat serve with v's data inlined (serve_page_json.c). */
static int write_html(const char *path, const struct stats_view *v, bool args)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "we");
	if (!f)
		return cli_fail("%s: %s", path, strerror(errno));
	int rc = page_write_html(f, v, args);
	if ((f == stdout ? fflush(f) : fclose(f)) != 0 && rc == 0)
		rc = -errno;
	return rc ? cli_fail("cannot write %s: %s", path, strerror(-rc)) : 0;
}

int cmd_report(int argc, char **argv)
{
	struct report_opts o = { .format = REPORT_TEXT };
	struct cli_dirs dirs = { .n = 0 };
	const char *arg = NULL, *html = NULL;
	bool usage = false, args = false;
	for (int i = 1; i < argc && !usage; i++) {
		if (strcmp(argv[i], "--json") == 0)
			o.format = REPORT_JSON;
		else if (strcmp(argv[i], "--text") == 0)
			o.format = REPORT_TEXT;
		else if (strcmp(argv[i], "--prom") == 0)
			o.format = REPORT_PROM;
		else if (strcmp(argv[i], "--html") == 0 && i + 1 < argc)
			html = argv[++i];
		else if (strncmp(argv[i], "--html=", 7) == 0)
			html = argv[i] + 7;
		else if (strcmp(argv[i], "--args") == 0)
			args = true;
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			usage = !cli_dirs_add(&dirs, argv[++i]);
		else if (strncmp(argv[i], "--dir=", 6) == 0)
			usage = !cli_dirs_add(&dirs, argv[i] + 6);
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(REPORT_USAGE, stdout);
			return 0;
		} else if (argv[i][0] == '-' || arg)
			usage = true;
		else
			arg = argv[i];
	}
	/* A named file or pid is opened as named: a --dir beside it would mean nothing. */
	if (usage || (arg && dirs.n) || (args && !html) || (html && !*html)) {
		fputs(REPORT_USAGE, stderr);
		return 2;
	}
	if (cli_dirs_check(&dirs))
		return 1;
	struct stats_view v;
	if (cli_open_stats(arg, &dirs, &v))
		return 1;
	if (html) {
		int h = write_html(html, &v, args);
		stats_close(&v);
		return h;
	}
	int rc = report_write(stdout, &v, &o);
	stats_close(&v);
	if (rc)
		return cli_fail("cannot write the report: %s", strerror(-rc));
	return 0;
}
