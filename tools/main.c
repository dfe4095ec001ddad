/* golat: the command line. `golat list` and `golat info` read Go binaries with the
 * library's own reader (lib/gobin.c). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "golat.h"

static const char USAGE[] =
	"usage: golat list [--json] EXE [SPEC...]   every function of a Go binary (stripped or not)\n"
	"       golat info [--json] EXE             Go version, pclntab, g's TLS slot and fields\n"
	"       golat run [-f SPECS] [-o OUTPUT] [-s N] [-i SECONDS] -- CMD [ARGS]\n"
	"                                           run CMD with the library injected\n"
	"       golat report [STATS_FILE|PID] [--json|--text|--prom]\n"
	"                                           render a live or dead program's stats\n"
	"       golat top [STATS_FILE|PID] [-n N] [-d SECONDS]\n"
	"                                           a live table, refreshed every second\n"
	"       golat version\n"
	"SPEC is an exact Go name or a glob (*, ?, [...]); !SPEC excludes its matches.\n";

int cli_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("golat: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(USAGE, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(argv[1], "info") == 0)
		return cmd_info(argc - 1, argv + 1);
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "report") == 0)
		return cmd_report(argc - 1, argv + 1);
	if (strcmp(argv[1], "top") == 0)
		return cmd_top(argc - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0) {
		printf("golat %s\n", golat_version());
		return 0;
	}
	fprintf(stderr, "golat: unknown command '%s'\n%s", argv[1], USAGE);
	return 2;
}
