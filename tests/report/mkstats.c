/* mkstats: writes the demo stats file (fixture.h) for the CLI tests and the fuzzer's
 * seeds; with a prefix, also the reports the library would write for it, with a
 * skipped list, as PREFIX.txt, PREFIX.json and PREFIX.prom. With --live PID the file
 * says that process wrote it and has not exited (a live file, for `golat top`); with
 * --small it has one function and one shard (a fuzzer seed that mutates faster, and
 * calls from 1 to 100,000 cycles: the widest histogram). Usage:
 * mkstats [--live PID] [--small] OUT.stats [PREFIX] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "report.h"

static int write_report(const struct stats_view *v, const char *prefix, const char *ext)
{
	static const struct report_skip skips[] = {
		{ "main.tiny", "main.tiny", "return at +0x9 has no 5-byte window" },
		{ "main.nothing*", "main.nothing*", "matches no function" },
	};
	char path[4096];
	snprintf(path, sizeof(path), "%s%s", prefix, ext);
	FILE *f = fopen(path, "w");
	if (!f)
		return perror(path), 1;
	struct report_opts o = { .format = report_format_for_path(path), .skipped = skips, .nskipped = 2 };
	int rc = report_write(f, v, &o);
	return (fclose(f) != 0 || rc != 0) ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct fixture fx;
	long live = 0;
	int small = 0;
	for (;;) {
		if (argc > 2 && strcmp(argv[1], "--live") == 0) {
			live = strtol(argv[2], NULL, 10);
			argc -= 2;
			argv += 2;
		} else if (argc > 1 && strcmp(argv[1], "--small") == 0) {
			small = 1;
			argc--;
			argv++;
		} else {
			break;
		}
	}
	if (argc < 2 || argc > 3) {
		fputs("usage: mkstats [--live PID] [--small] OUT.stats [PREFIX]\n", stderr);
		return 2;
	}
	if (small ? fixture_init(&fx, 1) : fixture_demo(&fx))
		return 1;
	if (small) {
		uint32_t id = fixture_fn(&fx, "main.handle", 0x401000);
		for (uint64_t c = 1; c < 100000; c = c * 3 / 2 + 1)
			fixture_call(&fx, 0, id, c);
	}
	if (live) {
		fx.h->pid = (uint32_t)live;
		fx.h->flags &= ~(uint32_t)STATS_F_EXITED;
	}
	if (fixture_write(&fx, argv[1]) != 0)
		return perror(argv[1]), 1;
	int rc = 0;
	if (argc == 3) {
		struct stats_view v;
		char err[256];
		if (stats_view_mem(&v, fx.buf, fx.len, err, sizeof(err)) != 0)
			return fprintf(stderr, "mkstats: %s\n", err), 1;
		rc = write_report(&v, argv[2], ".txt") | write_report(&v, argv[2], ".json") |
		     write_report(&v, argv[2], ".prom");
	}
	fixture_free(&fx);
	return rc;
}
