/* golat: the command line. `golat list` and `golat info` read Go binaries with the
 * library's own reader (lib/reader/gobin.c). This file dispatches the verbs and answers
 * -h/--help, help VERB and -V/--version for all of them. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "golat.h"

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("golat %s\n", golat_version());
	return 0;
}

/* Each verb's synopsis and what it does, as `golat --help` and `golat help VERB` print
 * them; man/golat.1 says the same at length. */
static const struct verb {
	const char *name;
	int (*run)(int argc, char **argv); /* NULL: help, answered by main */
	const char *synopsis, *what;
} VERBS[] = {
	{ "list", cmd_list, "list [--json] [--args] [--totals] [--signals=auto|owned|go] EXE [SPEC...]",
	  "every function of a Go binary (stripped or not): can golat hook it, and if not why" },
	{ "info", cmd_info, "info [--json] EXE", "Go version, pclntab, g's TLS slot and fields" },
	{ "run", cmd_run, "run [-f SPECS] [-o OUTPUT] [-s N] [-i SECONDS] [--] CMD [ARGS]",
	  "run CMD with the library injected (a static Go program: hooked from outside)" },
	{ "report", cmd_report, "report [STATS_FILE|PID|--dir DIR...] [--json|--text|--prom|--html FILE [--args]]",
	  "render a live or dead program's stats; --dir: the only golat-*.stats in DIR;\n"
	  "           --html: serve's page in one file (argument values only with --args)" },
	{ "top", cmd_top,
	  "top [STATS_FILE|PID] [-n N] [-d SECONDS] [--sort total|self|p99|calls] [--filter PATTERN]",
	  "a live table, refreshed every second; keys t s p c sort, / filter, Esc clear, q quit" },
	{ "attach", cmd_attach, "attach PID [-f SPECS] [-d SECONDS] [-o OUTPUT] [-s N]",
	  "hook a running Go program started with libgolat.so; with -d, report a window and detach" },
	{ "detach", cmd_detach, "detach PID [-f SPECS]",
	  "unhook functions of a running program (default: all); its code is as before" },
	{ "serve", cmd_serve, "serve [--listen ADDR] [--dir DIR]... [--args]",
	  "HTTP GET /metrics: Prometheus text of every live golat process of this user;\n"
	  "           GET /: a page of them, heat maps (argument values only with --args);\n"
	  "           ADDR :PORT, HOST:PORT or [IPV6]:PORT (default 127.0.0.1:9464);\n"
	  "           --dir: golat-*.stats files in DIR only, not /dev/shm and $TMPDIR" },
	{ "version", cmd_version, "version", "golat's version (also -V, --version)" },
	{ "help", NULL, "help [VERB]", "this text, or one verb's (also -h, --help, VERB --help)" },
};
#define NVERBS (sizeof(VERBS) / sizeof(VERBS[0]))

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < NVERBS; i++)
		if (strcmp(VERBS[i].name, name) == 0)
			return &VERBS[i];
	return NULL;
}

static void usage(FILE *f)
{
	for (size_t i = 0; i < NVERBS; i++)
		fprintf(f, "%s golat %s\n           %s\n", i ? "      " : "usage:", VERBS[i].synopsis,
			VERBS[i].what);
	fputs("SPEC is an exact Go name or a glob (*, ?, [...]); !SPEC excludes its matches.\n"
	      "Environment: GOLAT_FUNCS, GOLAT_OUTPUT, GOLAT_STATS, GOLAT_SAMPLE, GOLAT_INTERVAL,\n"
	      "GOLAT_LOG, GOLAT_CLOCK (the library), GOLAT_LIB, GOLAT_AGENT (golat run, attach).\n"
	      "See golat(1), golat(7).\n",
	      f);
}

static bool is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

uint64_t cli_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

volatile sig_atomic_t cli_stop_signal;

static void on_stop(int sig)
{
	cli_stop_signal = sig;
}

void cli_catch_stop(void)
{
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

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
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *arg = argv[1];
	if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0)
		return cmd_version(argc - 1, argv + 1);
	if (is_help(arg) || (strcmp(arg, "help") == 0 && argc == 2)) {
		usage(stdout);
		return 0;
	}
	/* `golat help VERB` and `golat VERB -h`: that verb's synopsis, here for every verb
	 * alike (list and info would take -h for a file name). */
	bool help = strcmp(arg, "help") == 0;
	const struct verb *v = find_verb(help ? argv[2] : arg);
	if (v && (help || (argc == 3 && is_help(argv[2])))) {
		printf("usage: golat %s\n       %s\n", v->synopsis, v->what);
		return 0;
	}
	if (v && v->run)
		return v->run(argc - 1, argv + 1);
	fprintf(stderr, "golat: unknown %s '%s' (golat --help lists them)\n",
		help || arg[0] != '-' ? "command" : "option", help ? argv[2] : arg);
	return 2;
}
