/* heatread: the ring of per-interval counts, read as hostile bytes (heatread.h). */
#include "heatread.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statsread.h"

#define HEAT_ROWS (STATS_BUCKETS / HEAT_ROW_BUCKETS)

/* Here, beside the reader, so that the reader's fuzz build needs no writer. */
bool heatring_path(const char *stats_path, char *out, size_t n)
{
	size_t len = strlen(stats_path);
	if (len > 6 && strcmp(stats_path + len - 6, ".stats") == 0)
		len -= 6;
	return *stats_path && (size_t)snprintf(out, n, "%.*s.heat", (int)len, stats_path) < n;
}

/* Walks the entries of a slot's body: true when they are well formed and nfns of them
 * fill exactly used bytes. */
static bool entries_ok(const uint8_t *p, size_t used, uint32_t nfns)
{
	size_t at = 0;
	for (uint32_t k = 0; k < nfns; k++) {
		struct heat_entry e;
		if (used - at < sizeof(e))
			return false;
		memcpy(&e, p + at, sizeof(e));
		at += sizeof(e);
		if (e.ncells == 0 || e.ncells > HEAT_ROWS || (used - at) / sizeof(struct heat_cell) < e.ncells)
			return false;
		for (uint32_t c = 0; c < e.ncells; c++) {
			struct heat_cell cell;
			memcpy(&cell, p + at, sizeof(cell));
			at += sizeof(cell);
			if (cell.row >= HEAT_ROWS)
				return false;
		}
	}
	return at == used;
}

static int by_index(const void *x, const void *y)
{
	uint64_t a = ((const struct heat_interval *)x)->index, b = ((const struct heat_interval *)y)->index;
	return a < b ? -1 : a > b;
}

int heat_ring_parse(struct heat_ring *r, const uint8_t *data, size_t len)
{
	struct heat_header h;
	memset(r, 0, sizeof(*r));
	if (len < HEAT_HEADER)
		return -EINVAL;
	memcpy(&h, data, sizeof(h));
	if (memcmp(h.magic, HEAT_MAGIC, sizeof(h.magic)) != 0 || h.version != HEAT_VERSION ||
	    h.row_buckets != HEAT_ROW_BUCKETS || h.slots == 0 || h.slots > HEAT_SLOTS ||
	    h.slot_bytes <= sizeof(struct heat_slot) || h.slot_bytes > HEAT_SLOT_BYTES || h.slot_bytes % 8)
		return -EINVAL;
	uint32_t fit = (uint32_t)((len - HEAT_HEADER) / h.slot_bytes);
	uint32_t slots = h.slots < fit ? h.slots : fit;
	r->iv = calloc(slots ? slots : 1, sizeof(*r->iv));
	if (!r->iv)
		return -ENOMEM;
	for (uint32_t i = 0; i < slots; i++) {
		size_t at = HEAT_HEADER + (size_t)i * h.slot_bytes;
		struct heat_slot sl;
		memcpy(&sl, data + at, sizeof(sl));
		size_t room = h.slot_bytes - sizeof(sl);
		if (sl.seq == 0 || sl.seq & 1 || sl.used > room || sl.index % h.slots != i ||
		    !entries_ok(data + at + sizeof(sl), sl.used, sl.nfns))
			continue;
		double hz = (double)sl.tsc_hz_milli / 1000;
		r->iv[r->n++] = (struct heat_interval){ .index = sl.index, .t0_ns = sl.t0_ns, .t1_ns = sl.t1_ns,
							.tsc_hz = hz >= 1e6 && hz <= 1e11 ? hz : 0,
							.nfns = sl.nfns, .dropped = sl.dropped,
							.off = at + sizeof(sl), .used = sl.used };
	}
	qsort(r->iv, r->n, sizeof(*r->iv), by_index);
	r->buf = (uint8_t *)data;
	r->len = len;
	return 0;
}

int heat_ring_read(struct heat_ring *r, const char *stats_path)
{
	char path[4200];
	memset(r, 0, sizeof(*r));
	if (!heatring_path(stats_path, path, sizeof(path)))
		return -ENOENT;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -EINVAL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	uint8_t *buf = malloc(HEAT_FILE_SIZE);
	size_t len = 0;
	while (buf && len < HEAT_FILE_SIZE) {
		ssize_t k = read(fd, buf + len, HEAT_FILE_SIZE - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	int rc = buf ? heat_ring_parse(r, buf, len) : -ENOMEM;
	/* seq read again, after the slot: a writer that moved it meanwhile tore it. */
	uint32_t keep = 0;
	for (uint32_t i = 0; rc == 0 && i < r->n; i++) {
		uint32_t before, after;
		size_t at = r->iv[i].off - sizeof(struct heat_slot);
		memcpy(&before, buf + at, sizeof(before));
		if (pread(fd, &after, sizeof(after), (off_t)at) == (ssize_t)sizeof(after) && after == before)
			r->iv[keep++] = r->iv[i];
	}
	r->n = keep;
	close(fd);
	if (rc) {
		free(buf);
		memset(r, 0, sizeof(*r));
		return rc;
	}
	r->own = true;
	return 0;
}

void heat_ring_free(struct heat_ring *r)
{
	if (r->own)
		free(r->buf);
	free(r->iv);
	memset(r, 0, sizeof(*r));
}

uint32_t heat_ring_cells(const struct heat_ring *r, uint32_t i, uint32_t fn, const uint8_t **cells)
{
	const uint8_t *p = r->buf + r->iv[i].off;
	size_t at = 0;
	for (uint32_t k = 0; k < r->iv[i].nfns; k++) { /* checked by heat_ring_parse */
		struct heat_entry e;
		memcpy(&e, p + at, sizeof(e));
		at += sizeof(e);
		if (e.fn == fn) {
			*cells = p + at;
			return e.ncells;
		}
		at += (size_t)e.ncells * sizeof(struct heat_cell);
	}
	return 0;
}
