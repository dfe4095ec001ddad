/* fleet_hist FUNCTION FILE...: function FUNCTION's fine histogram in each stats file, for
 * fleet.sh's exact quantiles: per file a line "file PATH HZ" (its TSC rate), then one line
 * "LO HI COUNT" per non-empty bucket, in cycles ([LO, HI)). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statsread.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: fleet_hist FUNCTION FILE...\n");
		return 2;
	}
	uint64_t *hist = malloc(STATS_BUCKETS * sizeof(*hist));
	if (!hist)
		return 1;
	for (int a = 2; a < argc; a++) {
		struct stats_view v;
		struct stats_snapshot s;
		char err[256];
		if (stats_open(&v, argv[a], err, sizeof(err)) != 0 || stats_snapshot(&v, &s) != 0) {
			fprintf(stderr, "fleet_hist: %s: %s\n", argv[a], err);
			return 1;
		}
		printf("file %s %.17g\n", argv[a], s.tsc_hz);
		for (uint32_t id = 0; id < s.nfns; id++) {
			if (strcmp(s.fns[id].name, argv[1]) != 0)
				continue;
			stats_func_hist(&v, &s, id, hist);
			for (uint32_t b = 0; b < STATS_BUCKETS; b++)
				if (hist[b])
					printf("%llu %llu %llu\n", (unsigned long long)stats_bucket_lo(b),
					       (unsigned long long)stats_bucket_hi(b), (unsigned long long)hist[b]);
		}
		stats_snapshot_free(&s);
		stats_close(&v);
	}
	free(hist);
	return 0;
}
