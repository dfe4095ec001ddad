/* libFuzzer target for the stats reader: any bytes as a stats file, through
 * validation, the snapshot, every histogram and all three formats. Whatever the
 * bytes, nothing may read outside them (ASan) or overflow (UBSan). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "statsread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The reader wants an 8-byte aligned mapping; an exact-size copy keeps ASan's
	 * redzone right after the last byte. */
	uint8_t *buf = aligned_alloc(8, (size + 7) & ~(size_t)7);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct stats_view v;
	char err[256];
	if (stats_view_mem(&v, buf, size, err, sizeof(err)) == 0) {
		static FILE *null;
		if (!null)
			null = fopen("/dev/null", "w");
		static const struct report_skip skip = { "main.*", "main.x", "a reason" };
		for (int f = REPORT_TEXT; f <= REPORT_PROM; f++) {
			struct report_opts o = { .format = (enum report_format)f, .skipped = &skip, .nskipped = 1 };
			report_write(null, &v, &o);
		}
	} else if (!err[0]) {
		abort(); /* a rejection always says why */
	}
	free(buf);
	return 0;
}
