/* agent: golat-agent.so's entry point, golat_agent_init (agent.h): it maps the stats
 * file the command made and starts the recorder, then tells the command where the
 * stubs and the recorder's tables are. The rest of golat-agent.so is libgolat.so's
 * recorder and stubs, built freestanding (lib/agent/agent.cmake).
 *
 * It runs once per process, on a thread of the Go program that the command holds, on
 * a stack the command gave it (64 KiB), with Go's FS: it may use neither TLS nor libc
 * (system calls only: lib/record/sys.h), and it touches no thread's block (fs:0):
 * each thread makes its own on its first recorded call (recstack.c). */
#include "agent.h"

#include "recorder.h"
#include "slowest.h"
#include "statsfile.h"
#include "sys.h"
#include "tramp.h"

/* What recfast.S and tramp.S define (recorder.c reads the same). */
extern uint32_t *golat_rec_gens;
extern const struct sigtab *golat_sigtab __attribute__((visibility("hidden")));
void golat_agent_rt_sigaction(void) __attribute__((visibility("hidden")));

static struct statsfile sf;
static int started; /* rec_init succeeded: a second call only fills the out fields */

/* golat-agent.so's first and last bytes as loaded: the command maps its PT_LOAD
 * segments as one image, so [__ehdr_start, _end) holds all its code (and headers and
 * data, in which no thread ever stops). */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern const char _end[] __attribute__((visibility("hidden")));

static void say(struct agent_config *cfg, const char *what, const char *path)
{
	uint64_t i = 0;
	for (; *what && i + 1 < sizeof(cfg->reason); what++)
		cfg->reason[i++] = *what;
	for (; path && *path && i + 1 < sizeof(cfg->reason); path++)
		cfg->reason[i++] = *path;
	cfg->reason[i] = 0;
}

static int fail(struct agent_config *cfg, long err, const char *what, const char *path)
{
	say(cfg, what, path);
	cfg->err = (int32_t)err;
	return cfg->err;
}

/* The header the command wrote is one this recorder knows (stats.h). */
static int header_ok(const struct stats_header *h, uint64_t size)
{
	static const char magic[8] = STATS_MAGIC;
	for (int i = 0; i < 8; i++)
		if (h->magic[i] != magic[i])
			return 0;
	return h->version == STATS_VERSION && h->header_size == STATS_HEADER_SIZE &&
	       h->page_off >= STATS_HEADER_SIZE && h->page_off <= size && h->dir_off < h->page_off &&
	       h->file_size == h->page_off + (uint64_t)h->page_cap * STATS_PAGE;
}

/* Maps the stats file shared, as long as its header says the layout is (the file
 * grows to it page by page: statscell.c, lengthen), without ever writing the header's
 * layout or shortening the file: the command made it and reads it. */
static int map_stats(struct agent_config *cfg)
{
	const char *path = cfg->stats_path;
	cfg->stats_path[sizeof(cfg->stats_path) - 1] = 0;
	long fd = sys_openat(SYS_AT_FDCWD, path, SYS_O_RDWR | SYS_O_CLOEXEC, 0);
	if (fd < 0)
		return fail(cfg, fd, "cannot open ", path);
	struct sys_stat st;
	long rc = sys_fstat((int)fd, &st);
	if (rc < 0 || st.size < STATS_HEADER_SIZE) {
		sys_close((int)fd);
		return fail(cfg, rc < 0 ? rc : -SYS_EINVAL, "not a golat stats file: ", path);
	}
	/* The header page first, for the layout's size. */
	long p = sys_mmap(0, STATS_HEADER_SIZE, SYS_PROT_READ, SYS_MAP_SHARED, (int)fd, 0);
	if (sys_failed(p)) {
		sys_close((int)fd);
		return fail(cfg, p, "cannot map ", path);
	}
	const struct stats_header *h0 = (const struct stats_header *)p;
	int ok = header_ok(h0, (uint64_t)st.size);
	uint64_t size = h0->file_size;
	sys_munmap((void *)p, STATS_HEADER_SIZE);
	if (!ok) {
		sys_close((int)fd);
		return fail(cfg, -SYS_EINVAL, "not a golat stats file of this version: ", path);
	}
	p = sys_mmap(0, size, SYS_PROT_READ | SYS_PROT_WRITE, SYS_MAP_SHARED, (int)fd, 0);
	if (sys_failed(p)) {
		sys_close((int)fd);
		return fail(cfg, p, "cannot map ", path);
	}
	sf.h = (struct stats_header *)p;
	sf.fd = (int)fd;
	uint64_t i = 0;
	for (; path[i] && i + 1 < sizeof(sf.path); i++)
		sf.path[i] = path[i];
	sf.path[i] = 0;
	sf.user_path = true; /* the command's to remove */
	sf.blk_next = STATS_BLOCKS_PER_PAGE; /* no page cut yet: the first cut claims one */
	sf.slow_next = STATS_SLOW_PER_PAGE;
	sf.length = (uint64_t)st.size;
	sf.header_ok = true; /* the command reserved it when it made the file */
	return 0;
}

static void fill_out(struct agent_config *cfg)
{
	cfg->err = 0;
	cfg->reason[0] = 0;
	cfg->rec_fast = (uint64_t)(uintptr_t)&golat_rec_fast;
	cfg->tramp_resume = (uint64_t)(uintptr_t)&golat_tramp_resume;
	cfg->tramp_resume_end = (uint64_t)(uintptr_t)golat_tramp_resume_end;
	cfg->resume_tab = (uint64_t)(uintptr_t)&golat_resume_tab;
	cfg->gens = (uint64_t)(uintptr_t)golat_rec_gens;
	cfg->text_lo = (uint64_t)(uintptr_t)__ehdr_start;
	cfg->text_hi = (uint64_t)(uintptr_t)_end;
	cfg->text_regs = (uint64_t)(uintptr_t)slowest_text_table();
	cfg->entry = (uint64_t)(uintptr_t)golat_agent_init;
	cfg->sigtab = (uint64_t)(uintptr_t)&golat_sigtab;
	cfg->rt_sigaction = (uint64_t)(uintptr_t)golat_agent_rt_sigaction;
	cfg->sig_owning = (uint32_t)agent_sig_owning();
}

__attribute__((visibility("default"))) int golat_agent_init(struct agent_config *cfg)
{
	if (cfg->abi != AGENT_ABI)
		return fail(cfg, -SYS_EINVAL, "golat-agent.so and the golat command do not match (agent ABI)", 0);
	if (!started) {
		int rc = sf.h ? 0 : map_stats(cfg);
		if (rc)
			return rc;
		struct rec_config rc_cfg = { .g_tls = cfg->g_tls, .stack_hi = cfg->stack_hi, .goid = cfg->goid,
					     .sample = cfg->sample, .monotonic = cfg->monotonic != 0, .sf = &sf,
					     .pcbase = cfg->pcbase, .on_process_exit = 0 };
		const char *why = "";
		if ((rc = rec_init(&rc_cfg, &why)) != 0)
			return fail(cfg, rc, why, 0);
		started = 1;
	}
	long rc = agent_sig(cfg->sig_op, &sf.h->traps);
	fill_out(cfg);
	if (rc)
		return fail(cfg, rc, cfg->sig_op == AGENT_SIG_OWN ? "cannot put golat's signal handlers in front of Go's"
								 : "cannot put Go's signal handlers back", 0);
	return 0;
}
