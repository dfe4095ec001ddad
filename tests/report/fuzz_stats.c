/* libFuzzer target for the stats reader: any bytes as a stats file, through
 * validation, the snapshot, every histogram and all three formats; and the same bytes
 * as a ring of per-interval counts (heatread.c), its header's fixed fields forced so
 * that the mutations reach the slots. Whatever the bytes, nothing may read outside
 * them (ASan) or overflow (UBSan). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heatread.h"
#include "report.h"
#include "statsread.h"

/* data as a ring: every cell heat_ring_cells gives must be in the page's rows. */
static void fuzz_ring(const uint8_t *data, size_t size)
{
	if (size < HEAT_HEADER)
		return;
	uint8_t *buf = malloc(size);
	if (!buf)
		return;
	memcpy(buf, data, size);
	struct heat_header h = { .version = HEAT_VERSION, .row_buckets = HEAT_ROW_BUCKETS,
				 .slots = 1 + data[8] % 64, .slot_bytes = 64 + 8 * (data[12] % 64) };
	memcpy(h.magic, HEAT_MAGIC, sizeof(h.magic));
	memcpy(buf, &h, sizeof(h));
	struct heat_ring r;
	if (heat_ring_parse(&r, buf, size) == 0) {
		for (uint32_t i = 0; i < r.n; i++)
			for (uint32_t fn = 0; fn < 4; fn++) {
				const uint8_t *p;
				uint32_t n = heat_ring_cells(&r, i, fn, &p);
				for (uint32_t c = 0; c < n; c++) {
					struct heat_cell cell;
					memcpy(&cell, p + c * sizeof(cell), sizeof(cell));
					if (cell.row >= STATS_BUCKETS / HEAT_ROW_BUCKETS)
						abort();
				}
			}
		heat_ring_free(&r);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_ring(data, size);
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
