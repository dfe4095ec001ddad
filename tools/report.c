/* golat report: renders a live or dead program's stats file with the library's own
 * renderer (lib/report/report.c); and how report and top find that file. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "statsread.h"

int cli_find_stats_files(glob_t *g)
{
	const char *tmp = getenv("TMPDIR");
	char pat[2][4200];
	snprintf(pat[0], sizeof(pat[0]), "/dev/shm/golat-*.stats");
	snprintf(pat[1], sizeof(pat[1]), "%s/golat-*.stats", tmp && *tmp ? tmp : "/tmp");
	memset(g, 0, sizeof(*g));
	glob(pat[0], 0, NULL, g);
	if (strcmp(pat[0], pat[1]) != 0)
		glob(pat[1], g->gl_pathc ? GLOB_APPEND : 0, NULL, g);
	return (int)g->gl_pathc;
}

/* With no argument, the one stats file there is: several are an error naming them. */
static int open_single(struct stats_view *v)
{
	glob_t g;
	int n = cli_find_stats_files(&g), rc;
	if (n == 0) {
		const char *tmp = getenv("TMPDIR");
		rc = cli_fail("no stats file in /dev/shm or %s (golat-*.stats): name a file or a pid",
			      tmp && *tmp ? tmp : "/tmp");
	} else if (n == 1) {
		char err[512];
		rc = stats_open(v, g.gl_pathv[0], err, sizeof(err)) ? cli_fail("%s", err) : 0;
	} else {
		char list[2048] = "";
		for (int i = 0; i < n && strlen(list) < sizeof(list) - 300; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
				 g.gl_pathv[i]);
		rc = cli_fail("%d stats files, name one (or a pid): %s%s", n, list,
			      strlen(list) >= sizeof(list) - 300 ? ", ..." : "");
	}
	globfree(&g);
	return rc;
}

int cli_open_stats(const char *arg, struct stats_view *v)
{
	char err[512];
	if (!arg)
		return open_single(v);
	if (*arg && strspn(arg, "0123456789") == strlen(arg)) {
		long pid = strtol(arg, NULL, 10);
		if (pid <= 0 || pid > 0x3fffffff)
			return cli_fail("no such process: %s", arg);
		return stats_open_pid(v, (pid_t)pid, err, sizeof(err)) ? cli_fail("%s", err) : 0;
	}
	return stats_open(v, arg, err, sizeof(err)) ? cli_fail("%s", err) : 0;
}

static const char REPORT_USAGE[] =
	"usage: golat report [STATS_FILE or PID] [--json|--text|--prom]\n";

int cmd_report(int argc, char **argv)
{
	struct report_opts o = { .format = REPORT_TEXT };
	const char *arg = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			o.format = REPORT_JSON;
		else if (strcmp(argv[i], "--text") == 0)
			o.format = REPORT_TEXT;
		else if (strcmp(argv[i], "--prom") == 0)
			o.format = REPORT_PROM;
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(REPORT_USAGE, stdout);
			return 0;
		} else if (argv[i][0] == '-' || arg) {
			fputs(REPORT_USAGE, stderr);
			return 2;
		} else
			arg = argv[i];
	}
	struct stats_view v;
	if (cli_open_stats(arg, &v))
		return 1;
	int rc = report_write(stdout, &v, &o);
	stats_close(&v);
	if (rc)
		return cli_fail("cannot write the report: %s", strerror(-rc));
	return 0;
}
