/* reader_pcline EXE: the source position of each link-time PC read from stdin (one hex
 * number a line), as gobin_pc_line gives it: "0xPC FILE:LINE", or "0xPC ?" when it
 * gives none. check.py feeds it the PCs ref/ prints with debug/gosym's answer. */
#include <stdio.h>
#include <stdlib.h>

#include "gobin.h"

int main(int argc, char **argv)
{
	struct gobin gb;
	char err[512], buf[128];

	if (argc != 2) {
		fputs("usage: reader_pcline EXE <PCS\n", stderr);
		return 2;
	}
	if (gobin_open(&gb, argv[1], err, sizeof(err)) != 0) {
		fprintf(stderr, "reader_pcline: %s\n", err);
		return 1;
	}
	while (fgets(buf, sizeof(buf), stdin)) {
		unsigned long long pc = strtoull(buf, NULL, 16);
		const char *file;
		int32_t line;
		if (gobin_pc_line(&gb, pc, &file, &line) == 0)
			printf("%#llx %s:%d\n", pc, file, (int)line);
		else
			printf("%#llx ?\n", pc);
	}
	gobin_close(&gb);
	return 0;
}
