/* fixture: see fixture.h. */
#include "fixture.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fixture_failures;

int fixture_init(struct fixture *fx, uint32_t max_fns, uint32_t max_shards)
{
	uint64_t fn_end = STATS_HEADER_SIZE + (uint64_t)max_fns * sizeof(struct stats_fn);
	uint64_t shard_off = (fn_end + 4095) & ~4095ull;
	fx->len = shard_off + (uint64_t)max_shards * stats_shard_size(max_fns);
	if (posix_memalign((void **)&fx->buf, 4096, fx->len) != 0)
		return -1;
	memset(fx->buf, 0, fx->len);
	struct stats_header *h = fx->h = (struct stats_header *)fx->buf;
	memcpy(h->magic, STATS_MAGIC, 8);
	h->version = STATS_VERSION;
	h->header_size = STATS_HEADER_SIZE;
	h->file_size = fx->len;
	h->pid = FIXTURE_PID;
	h->flags = STATS_F_EXITED;
	h->max_fns = max_fns;
	h->max_shards = max_shards;
	h->fn_off = STATS_HEADER_SIZE;
	h->shard_off = shard_off;
	h->shard_size = stats_shard_size(max_fns);
	h->tsc_start = 1000000000000ull;
	h->mono_start_ns = 5000000000ull;
	h->tsc_last = h->tsc_start + (uint64_t)(FIXTURE_HZ * (FIXTURE_ELAPSED_NS / 1e9));
	h->mono_last_ns = h->mono_start_ns + FIXTURE_ELAPSED_NS;
	h->sample = 1;
	strcpy(h->exe, "./service");
	strcpy(h->go_version, "go1.22.12");
	return 0;
}

void fixture_free(struct fixture *fx)
{
	free(fx->buf);
	memset(fx, 0, sizeof(*fx));
}

uint32_t fixture_fn(struct fixture *fx, const char *name, uint64_t entry)
{
	uint32_t id = fx->h->nfns++;
	struct stats_fn *f = (struct stats_fn *)(fx->buf + fx->h->fn_off) + id;
	strncpy(f->name, name, sizeof(f->name) - 1);
	f->entry = entry;
	f->hooked = 1;
	return id;
}

struct stats_cell *fixture_cell(struct fixture *fx, uint32_t shard, uint32_t id)
{
	if (shard >= fx->h->nshards)
		fx->h->nshards = shard + 1;
	uint8_t *s = fx->buf + fx->h->shard_off + shard * fx->h->shard_size;
	return (struct stats_cell *)(s + sizeof(struct stats_shard)) + id;
}

void fixture_call(struct stats_cell *c, uint64_t cycles)
{
	c->entries++;
	c->calls++;
	c->seq++;
	c->timed++;
	c->sum += cycles;
	if (c->min == 0 || cycles < c->min)
		c->min = cycles;
	if (cycles > c->max)
		c->max = cycles;
	c->hist[stats_bucket(cycles)]++;
}

/* Writes only the pages that hold a nonzero byte, so the file is as sparse as one the
 * recorder filled. */
int fixture_write(const struct fixture *fx, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int rc = ftruncate(fd, (off_t)fx->len);
	static const uint8_t zero[4096];
	for (size_t off = 0; rc == 0 && off < fx->len; off += 4096) {
		size_t n = fx->len - off < 4096 ? fx->len - off : 4096;
		if (memcmp(fx->buf + off, zero, n) != 0 && pwrite(fd, fx->buf + off, n, (off_t)off) != (ssize_t)n)
			rc = -1;
	}
	return close(fd) == 0 ? rc : -1;
}

int fixture_demo(struct fixture *fx)
{
	if (fixture_init(fx, 8, 4) != 0)
		return -1;
	uint32_t handle = fixture_fn(fx, "main.handle", 0x6f3a20);
	uint32_t fast = fixture_fn(fx, "main.fast", 0x401000);
	uint32_t odd = fixture_fn(fx, "main.\"odd\"\\name\n", 0x402000);
	uint32_t stuck = fixture_fn(fx, "main.stuck", 0x403000);
	fixture_fn(fx, "main.unused", 0x404000);
	static const unsigned split[3] = { 500, 300, 200 };
	for (uint32_t sh = 0; sh < 3; sh++)
		for (unsigned i = 0; i < split[sh]; i++)
			fixture_call(fixture_cell(fx, sh, handle), 2000000);
	fixture_cell(fx, 0, handle)->entries += 2;  /* in flight */
	fixture_cell(fx, 2, handle)->entries += 1;  /* unwound by a panic */
	fixture_cell(fx, 2, handle)->abandoned += 1;
	for (unsigned i = 0; i < 500; i++) /* 100 ns to 10 us: 200 to 20,000 cycles */
		fixture_call(fixture_cell(fx, i % 2, fast), 200 + (uint64_t)i * 19800 / 499);
	for (unsigned i = 0; i < 10; i++)
		fixture_call(fixture_cell(fx, 1, odd), 4000);
	fixture_cell(fx, 3, stuck)->entries = 3;
	return 0;
}
