/* static: hooking a static Go program from outside, every thread held (static.h).
 *
 * The sequence of an attach:
 *  1. the binary (/proc/PID/exe) read with the binary reader, its load bias from the
 *     process's auxiliary vector (AT_ENTRY: a Go PIE without libc is still relocated
 *     by ld.so, then runs as a static program);
 *  2. a scratch area mapped in the target by system calls run on a held thread, the
 *     agent found or mapped, and golat_agent_init run there, on the stats file this
 *     side made (or the one the agent already writes, found in /proc/PID/maps);
 *  3. every selected function planned without owning signals (no hop, no int3, no
 *     steered branch: Go's handlers are in front, lib/engine/window.c) and its
 *     trampolines built here, to run at addresses in the target's code memory, with
 *     the agent's stubs as targets;
 *  4. the trampolines written, the resume table handed to the agent, and the jumps
 *     written over the windows, runtime.asyncPreempt's end first in the batch: no
 *     thread runs between the first write and the last, so their order does not
 *     matter to threads, only to goroutines parked by asynchronous preemption, which
 *     resume through asyncPreempt's ret once the threads run (lib/engine/tramp.h).
 * A function with a thread stopped inside one of its windows (past the first byte) is
 * skipped with that reason: the thread would resume inside a jump. */
#define _GNU_SOURCE
#include "static_int.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "analyze.h"
#include "gobin.h"
#include "recorder.h"
#include "spec.h"
#include "statsfile.h"
#include "tramp.h"
#include "window.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* s->t for w->pid and its binary gb (read): its memory and text. */
static int open_target(struct static_ctx *s, const struct static_world *w, const struct gobin *gb)
{
	char mem[64];
	s->t.pid = w->pid;
	s->w = w;
	snprintf(mem, sizeof(mem), "/proc/%d/mem", (int)w->pid);
	if ((s->t.memfd = open(mem, O_RDWR | O_CLOEXEC)) < 0) {
		int rc = -errno;
		snprintf(s->err, s->errn, "cannot open %s: %s", mem, strerror(-rc));
		return rc == -ENOENT ? -ESRCH : -EIO;
	}
	s->t.text_lo = gb->funcs[0].entry + gb->bias;
	s->t.text_hi = gb->funcs[gb->nfuncs - 1].end + gb->bias;
	return static_text_load(s);
}

/* Takes the first thread of the world for system calls, and maps the scratch area. */
static int begin_calls(struct static_ctx *s)
{
	int rc = inject_text_scan(&s->t, s->err, s->errn);
	if (rc)
		return rc;
	struct inj_thread th = { .tid = s->w->t[0].tid, .stop = INJ_HELD, .regs = s->w->t[0].regs };
	if ((rc = inject_call_begin(&s->call, &s->t, &th, s->err, s->errn)))
		return rc;
	s->call_on = true;
	if ((rc = static_alloc(s, SCRATCH_SIZE, &s->scratch)) && !s->err[0])
		snprintf(s->err, s->errn, "cannot map golat's scratch memory in pid %d: %s", (int)s->t.pid,
			 strerror(-rc));
	return rc;
}

static void end_target(struct static_ctx *s)
{
	char err[256];
	uint64_t ret;
	if (s->scratch)
		static_sys(s, SYS_munmap, s->scratch, SCRATCH_SIZE, 0, 0, 0, 0, &ret);
	if (s->call_on)
		inject_call_restore(&s->call, err, sizeof(err));
	if (s->t.memfd >= 0)
		close(s->t.memfd);
	free(s->text);
	free(s->dirty);
}

/* The stats file the agent of pid writes: a shared mapping of a file whose header
 * names pid. */
static bool stats_of(pid_t pid, char *out, size_t n)
{
	char path[64], line[4352];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	bool found = false;
	while (f && !found && fgets(line, sizeof(line), f)) {
		char perms[8] = "";
		int pos = 0;
		if (sscanf(line, "%*x-%*x %7s %*s %*s %*s %n", perms, &pos) < 1 || pos == 0 || perms[3] != 's')
			continue;
		char *name = line + pos;
		name[strcspn(name, "\n")] = 0;
		struct stats_header h;
		int fd = open(name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		found = pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) && memcmp(h.magic, STATS_MAGIC, 8) == 0 &&
			h.pid == (uint32_t)pid;
		close(fd);
		if (found)
			snprintf(out, n, "%s", name);
	}
	if (f)
		fclose(f);
	return found;
}

/* The stats file: the agent's own when it has one, else a new one for pid. */
static int stats_open(struct static_ctx *s, const struct gobin *gb, const struct static_opts *o,
		      struct statsfile *sf, bool *fresh)
{
	char path[4096], warn[512] = "";
	*fresh = !stats_of(s->t.pid, path, sizeof(path));
	int rc = *fresh ? statsfile_create_for(sf, s->t.pid, o->stats_path, NULL, warn, sizeof(warn))
			: statsfile_reopen(sf, path, warn, sizeof(warn));
	if (rc == 0 && !sf->path[0]) {
		/* statsfile_create_for fell back to memory: the agent needs a file. */
		rc = -EIO;
	}
	if (rc) {
		snprintf(s->err, s->errn, "cannot make the stats file for pid %d: %s", (int)s->t.pid,
			 warn[0] ? warn : strerror(-rc));
		return -EIO;
	}
	if (*fresh) {
		struct stats_header *h = sf->h;
		h->sample = o->sample ? o->sample : 1;
		snprintf(h->go_version, sizeof(h->go_version), "%.31s", gb->go_version);
		h->text_base = gb->text;
		h->slowest = o->slowest < STATS_SLOWEST_MAX ? o->slowest : STATS_SLOWEST_MAX;
		if (o->monotonic)
			statsfile_use_monotonic(sf);
	}
	return 0;
}

/* Whether the target's bytes of [addr, addr + len) are the file's. */
static bool text_is_file(struct static_ctx *s, const struct gobin *gb, const struct gobin_func *f, uint64_t addr,
			 size_t len)
{
	uint8_t mem[64];
	const uint8_t *file = gobin_code(gb, f);
	if (!file || len > sizeof(mem) || static_text_read(s, addr + gb->bias, mem, len) != 0)
		return false;
	return memcmp(mem, file + (addr - f->entry), len) == 0;
}

struct attach_state;
static int add_move(struct attach_state *st, size_t thread, uint64_t to);

/* One function's windows built, checked against the threads and the text. 0 with the
 * writes appended to st->w, or a reason. A thread stopped inside a window, past its
 * first byte, is moved to that instruction's copy in the trampoline (the resume
 * table's mapping: the same instruction, with the same registers and stack), as a
 * goroutine preempted there would be; without a copy the function is skipped. */
static int build_fn(struct static_ctx *s, struct attach_state *st, const struct static_prep_fn *pf,
		    uint32_t id, char *why, size_t wn);
/* runtime.asyncPreempt's end, jumping to the agent's golat_tramp_resume, unless it
 * does already. */
static int build_resume(struct static_ctx *s, const struct gobin *gb, struct codemem *cm, struct patch_write *out,
			size_t *nout)
{
	const struct gobin_func *f = gobin_func_named(gb, "runtime.asyncPreempt");
	struct analyze_window w;
	*nout = 0;
	if (!f || !window_async_preempt(gb, f, &w)) {
		snprintf(s->err, s->errn, "runtime.asyncPreempt %s", f ? "does not end as expected" : "not found");
		return -ENOEXEC;
	}
	if (!text_is_file(s, gb, f, w.addr, w.len))
		return 0; /* an earlier attach put it in */
	if (static_thread_in(s->w, w.addr + gb->bias, w.len, true)) {
		snprintf(s->err, s->errn, "a thread of pid %d is in runtime.asyncPreempt's last instructions; "
			 "attach again", (int)s->t.pid);
		return -EAGAIN;
	}
	return window_build(gb, cm, &w, NULL, false, RESUME_ID, f, out, nout, s->err, s->errn);
}

/* The recorder id of each function the stats file names already, by entry. */
static uint32_t known_id(const struct statsfile *sf, uint64_t entry, bool *hooked)
{
	const struct stats_header *h = sf->h;
	const struct stats_fn *fn = (const struct stats_fn *)((const char *)h + h->fn_off);
	for (uint32_t i = 0; i < h->nfns; i++)
		if (fn[i].entry == entry) {
			*hooked = fn[i].hooked != 0;
			return i;
		}
	*hooked = false;
	return UINT32_MAX;
}

/* The image's loaded range: trampolines must reach all of it (relocated operands
 * point into its data). */
static void image_range(const struct gobin *gb, uint64_t *lo, uint64_t *hi)
{
	*lo = UINT64_MAX;
	*hi = 0;
	for (size_t i = 0; i < gb->elf.phnum; i++) {
		const Elf64_Phdr *p = &gb->elf.ph[i];
		if (p->p_type != PT_LOAD)
			continue;
		*lo = p->p_vaddr < *lo ? p->p_vaddr : *lo;
		*hi = p->p_vaddr + p->p_memsz > *hi ? p->p_vaddr + p->p_memsz : *hi;
	}
	*lo += gb->bias;
	*hi += gb->bias;
}

struct thread_move {
	size_t thread; /* index in the world */
	uint64_t to;
};

struct attach_state {
	struct thread_move *moves; /* threads stopped inside windows, to their copies */
	size_t nmoves, moves_cap;
	const struct gobin *gb; /* the prep's */
	struct statsfile sf;
	struct codemem cm;
	struct agent_config cfg;
	struct patch_write *w;
	size_t nw, cap;
	uint32_t *ids; /* the ids this attach hooks */
	size_t nids;
	uint32_t *again; /* of which ids hooked before: a new generation */
	size_t nagain;
};

static int add_move(struct attach_state *st, size_t thread, uint64_t to)
{
	if (st->nmoves == st->moves_cap) {
		size_t cap = st->moves_cap ? 2 * st->moves_cap : 8;
		struct thread_move *v = realloc(st->moves, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		st->moves = v;
		st->moves_cap = cap;
	}
	st->moves[st->nmoves++] = (struct thread_move){ thread, to };
	return 0;
}

/* Moves the threads of st->w stopped strictly inside window w (built) to their copies. */
static int move_threads(struct static_ctx *s, struct attach_state *st, const struct gobin_func *f,
			const struct analyze_window *w, char *why, size_t wn)
{
	uint64_t lo = w->addr + st->gb->bias, hi = lo + w->len;
	for (size_t i = 0; i < s->w->n; i++) {
		uint64_t pc = s->w->t[i].regs.rip, to;
		if (pc <= lo || pc >= hi)
			continue;
		if (!(to = tramp_resume_find(pc))) {
			snprintf(why, wn, "%s: thread %d was stopped inside it, at +%#llx; attach again", f->name,
				 (int)s->w->t[i].tid, (unsigned long long)(pc - st->gb->bias - f->entry));
			return -EAGAIN;
		}
		if (add_move(st, i, to))
			return -ENOMEM;
	}
	return 0;
}

static int build_fn(struct static_ctx *s, struct attach_state *st, const struct static_prep_fn *pf,
		    uint32_t id, char *why, size_t wn)
{
	const struct gobin *gb = st->gb;
	const struct gobin_func *f = &gb->funcs[pf->func];
	const struct analyze_plan *plan = &pf->plan;
	int rc = 0;
	size_t nwin = 1 + plan->nsites;
	if (st->nw + 2 * nwin > st->cap) {
		size_t c = (st->cap + 2 * nwin) * 2;
		struct patch_write *v = realloc(st->w, c * sizeof(*v));
		if (!v)
			return -ENOMEM;
		st->w = v;
		st->cap = c;
	}
	size_t start = st->nw, moves = st->nmoves;
	for (size_t i = 0; rc == 0 && i < nwin; i++) {
		const struct analyze_window *w = i == 0 ? &plan->entry : &plan->sites[i - 1];
		if (w->len && !text_is_file(s, gb, f, w->addr, w->len)) {
			snprintf(why, wn, "%s: its code in pid %d is not the binary's at +%#llx (hooked by another tool?)",
				 f->name, (int)s->t.pid, (unsigned long long)(w->addr - f->entry));
			rc = -EEXIST;
			break;
		}
		size_t k = 0;
		rc = window_build(gb, &st->cm, w, plan->redirs, i == 0, id, f, st->w + st->nw, &k, why, wn);
		st->nw += k;
		if (rc == 0 && w->len)
			rc = move_threads(s, st, f, w, why, wn);
	}
	if (rc) {
		st->nw = start;
		st->nmoves = moves;
	}
	return rc;
}

/* Builds what prep planned; fills r and st. */
static int build_all(struct static_ctx *s, struct attach_state *st, const struct static_prep *prep,
		     struct static_result *r)
{
	const struct gobin *gb = st->gb;
	int rc = 0;
	r->selected = prep->pre.selected;
	for (size_t i = 0; rc == 0 && i < prep->pre.nskips; i++) {
		const struct hook_skip *k = &prep->pre.skips[i];
		rc = static_skip(r, k->spec, k->name, k->reason, k->unmatched);
	}
	st->ids = calloc(prep->nfns + 1, sizeof(*st->ids));
	st->again = calloc(prep->nfns + 1, sizeof(*st->again));
	if (!st->ids || !st->again)
		rc = -ENOMEM;
	uint32_t next = st->sf.h->nfns;
	for (size_t i = 0; rc == 0 && i < prep->nfns; i++) {
		const struct static_prep_fn *pf = &prep->fns[i];
		const struct gobin_func *f = &gb->funcs[pf->func];
		bool hooked;
		uint32_t id = known_id(&st->sf, f->entry, &hooked);
		if (hooked) {
			r->already++;
			continue;
		}
		char why[256];
		bool fresh = id == UINT32_MAX;
		if (fresh && next >= REC_MAX_FNS) {
			static_skip(r, pf->spec, f->name, "too many functions hooked", 0);
			continue;
		}
		uint32_t use = fresh ? next : id;
		int b = build_fn(s, st, pf, use, why, sizeof(why));
		if (b == -ENOMEM || b == -ESRCH) {
			rc = b;
			break;
		}
		if (b == 0 && fresh && statsfile_set_fn(&st->sf, use, f->name, f->entry, false) != 0) {
			snprintf(why, sizeof(why), "no room for it in the stats file");
			b = -ENOSPC;
		}
		if (b) {
			static_skip(r, pf->spec, f->name, why, 0);
			continue;
		}
		next += fresh;
		st->ids[st->nids++] = use;
		if (!fresh)
			st->again[st->nagain++] = use;
	}
	return rc;
}

/* Every write, with the world still stopped: trampolines, resume table, jumps. */
static int write_all(struct static_ctx *s, struct attach_state *st, struct static_result *r)
{
	int rc = codemem_seal(&st->cm, s->err, s->errn);
	if (rc == 0)
		rc = static_resume_pull(s, st->cfg.resume_tab);
	if (rc == 0)
		rc = static_resume_publish(s, st->cfg.resume_tab);
	for (size_t i = 0; rc == 0 && i < st->nagain; i++) {
		/* Frames of calls in flight since the last attach no longer match (recorder.h). */
		uint32_t g;
		uint64_t at = st->cfg.gens + 4ull * st->again[i];
		rc = inject_mem_read(&s->t, at, &g, 4);
		g++;
		if (rc == 0)
			rc = inject_mem_write(&s->t, at, &g, 4);
	}
	for (size_t i = 0; rc == 0 && i < st->nmoves; i++) {
		struct static_thread *t = &s->w->t[st->moves[i].thread];
		t->regs.rip = st->moves[i].to;
		if (s->call_on && t->tid == s->call.tid)
			s->call.regs.rip = t->regs.rip; /* inject_call_restore puts these back */
		else if (ptrace(PTRACE_SETREGS, t->tid, 0, &t->regs) != 0)
			rc = -errno;
		if (rc)
			snprintf(s->err, s->errn, "cannot move thread %d out of a window: %s", (int)t->tid, strerror(-rc));
	}
	uint64_t t0 = now_ns();
	if (rc == 0)
		rc = static_write(s, st->w, st->nw);
	r->stopped_ns = now_ns() - t0;
	if (rc)
		return rc;
	for (size_t i = 0; i < st->nids; i++)
		statsfile_set_fn(&st->sf, st->ids[i], "", 0, true);
	r->hooked = st->nids;
	return 0;
}

static void attach_free(struct attach_state *st)
{
	free(st->moves);
	free(st->w);
	free(st->ids);
	free(st->again);
	codemem_fini(&st->cm);
	if (st->sf.h)
		statsfile_close(&st->sf);
	tramp_set_stubs(0, 0);
}

int static_attach(const struct static_world *w, const struct static_opts *o, struct static_result *r, char *err,
		  size_t n)
{
	memset(r, 0, sizeof(*r));
	*err = 0;
	struct static_ctx s = { .t.memfd = -1, .err = err, .errn = n };
	struct attach_state st = { .sf.fd = -1 };
	struct static_prep *own = NULL;
	const struct static_prep *prep = o->prep;
	bool fresh = false;
	int rc = w->n ? 0 : -ESRCH;
	if (rc == 0 && !prep && (rc = static_prepare(w->pid, o->specs, &own, err, n)) == 0)
		prep = own;
	if (rc == 0) {
		st.gb = &prep->gb;
		rc = open_target(&s, w, st.gb);
	}
	if (rc == 0)
		rc = begin_calls(&s);
	if (rc == 0)
		rc = stats_open(&s, st.gb, o, &st.sf, &fresh);
	if (rc == 0) {
		snprintf(r->stats_path, sizeof(r->stats_path), "%s", st.sf.path);
		st.cfg = (struct agent_config){ .abi = AGENT_ABI, .sample = st.sf.h->sample, .g_tls = st.gb->g_tls,
						.stack_hi = st.gb->goff.stack_hi, .goid = st.gb->goff.goid,
						.pcbase = st.gb->text + st.gb->bias,
						.monotonic = (st.sf.h->flags & STATS_F_MONOTONIC) != 0 };
		snprintf(st.cfg.stats_path, sizeof(st.cfg.stats_path), "%s", st.sf.path);
		rc = static_agent(&s, o->agent, &st.cfg);
		r->agent_loaded = s.agent_loaded;
	}
	if (rc == 0) {
		uint64_t lo, hi;
		image_range(st.gb, &lo, &hi);
		static_codemem(&s);
		tramp_set_stubs(st.cfg.rec_fast, st.cfg.tramp_resume);
		rc = codemem_init_remote(&st.cm, &s.remote, lo, hi, 0, err, n);
	}
	if (rc == 0 && static_thread_in(w, st.cfg.tramp_resume, st.cfg.tramp_resume_end - st.cfg.tramp_resume, false)) {
		snprintf(err, n, "a thread of pid %d is in golat's resume stub; attach again", (int)w->pid);
		rc = -EAGAIN;
	}
	size_t nres = 0;
	if (rc == 0) {
		st.cap = 16;
		if (!(st.w = calloc(st.cap, sizeof(*st.w))))
			rc = -ENOMEM;
		else if ((rc = build_resume(&s, st.gb, &st.cm, st.w, &nres)) == 0)
			st.nw = nres;
	}
	if (rc == 0)
		rc = build_all(&s, &st, prep, r);
	if (rc == 0 && st.nids == 0) {
		snprintf(err, n, "no function of pid %d could be hooked", (int)w->pid);
		rc = r->already ? 0 : -ENOENT;
	}
	if (rc == 0 && st.nids)
		rc = write_all(&s, &st, r);
	for (size_t i = 0; i < st.cm.nchunks; i++)
		r->tramp_bytes += st.cm.chunks[i].used;
	if (rc && fresh && st.sf.h && !s.agent_loaded)
		unlink(st.sf.path); /* no agent writes it */
	attach_free(&st);
	end_target(&s);
	static_prep_free(own);
	return rc;
}

int static_detach(const struct static_world *w, const char *specs, struct static_result *r, char *err, size_t n)
{
	memset(r, 0, sizeof(*r));
	*err = 0;
	struct static_ctx s = { .t.memfd = -1, .err = err, .errn = n };
	struct gobin gb = { 0 };
	struct statsfile sf = { .fd = -1 };
	struct spec_set ss = { 0 };
	char path[4096], warn[512];
	int rc = w->n ? static_read_binary(w->pid, &gb, err, n) : -ESRCH;
	if (rc == 0)
		rc = open_target(&s, w, &gb);
	if (rc == 0 && !stats_of(w->pid, path, sizeof(path))) {
		snprintf(err, n, "pid %d has no golat agent writing a stats file", (int)w->pid);
		rc = -ENOENT;
	} else if (rc == 0 && (rc = statsfile_reopen(&sf, path, warn, sizeof(warn))) != 0) {
		snprintf(err, n, "%s", warn);
	}
	if (rc == 0) {
		snprintf(r->stats_path, sizeof(r->stats_path), "%s", path);
		if (specs && spec_add_list(&ss, specs) != 0) {
			snprintf(err, n, "bad specs '%s'", specs);
			rc = -EINVAL;
		}
		spec_resolve(&ss, &gb);
	}
	struct stats_fn *fns = rc == 0 ? (struct stats_fn *)((char *)sf.h + sf.h->fn_off) : NULL;
	size_t left = 0;
	for (uint32_t id = 0; rc == 0 && id < sf.h->nfns; id++) {
		if (!fns[id].hooked)
			continue;
		const struct gobin_func *f = gobin_func_at(&gb, fns[id].entry);
		if (!f || f->entry != fns[id].entry || (specs && !spec_match(&ss, f->name))) {
			left++;
			continue;
		}
		r->selected++;
		struct analyze_plan plan;
		char why[256];
		if (window_plan(&gb, f, false, &plan, why, sizeof(why)) != 0) {
			static_skip(r, specs ? specs : "*", f->name, why, 0);
			left++;
			continue;
		}
		/* Its original bytes, from the file, wherever they differ. */
		pid_t tid = 0;
		for (size_t i = 0; !tid && i < 1 + plan.nsites; i++) {
			const struct analyze_window *aw = i == 0 ? &plan.entry : &plan.sites[i - 1];
			if (aw->len)
				tid = static_thread_in(w, aw->addr + gb.bias, aw->len, true);
		}
		for (size_t i = 0; !tid && rc == 0 && i < 1 + plan.nsites; i++) {
			const struct analyze_window *aw = i == 0 ? &plan.entry : &plan.sites[i - 1];
			if (aw->len && !text_is_file(&s, &gb, f, aw->addr, aw->len))
				rc = static_text_put(&s, aw->addr + gb.bias, gobin_code(&gb, f) + (aw->addr - f->entry),
						     aw->len, NULL);
		}
		analyze_plan_free(&plan);
		if (tid) {
			snprintf(why, sizeof(why), "%s: thread %d was stopped inside it; detach again", f->name, (int)tid);
			static_skip(r, specs ? specs : "*", f->name, why, 0);
			left++;
			continue;
		}
		if (rc == 0) {
			statsfile_set_fn(&sf, id, "", 0, false);
			r->hooked++;
		}
	}
	/* Nothing hooked any more: asyncPreempt's end back too, so that the text is the
	 * file's again. A goroutine parked inside a window now resumes in the original. */
	const struct gobin_func *ap = rc == 0 && left == 0 ? gobin_func_named(&gb, "runtime.asyncPreempt") : NULL;
	struct analyze_window aw;
	if (ap && window_async_preempt(&gb, ap, &aw) && !text_is_file(&s, &gb, ap, aw.addr, aw.len) &&
	    !static_thread_in(w, aw.addr + gb.bias, aw.len, true))
		rc = static_text_put(&s, aw.addr + gb.bias, gobin_code(&gb, ap) + (aw.addr - ap->entry), aw.len, NULL);
	uint64_t t0 = now_ns();
	if (rc == 0)
		rc = static_text_flush(&s);
	r->stopped_ns = now_ns() - t0;
	if (rc == -EIO || rc == -EFAULT)
		snprintf(err, n, "cannot write pid %d's text: %s", (int)w->pid, strerror(-rc));
	spec_free(&ss);
	if (sf.h)
		statsfile_close(&sf);
	gobin_close(&gb);
	end_target(&s);
	return rc;
}

int static_ended(const char *stats_path, int code)
{
	struct statsfile sf;
	char warn[512];
	int rc = statsfile_reopen(&sf, stats_path, warn, sizeof(warn));
	if (rc)
		return rc;
	/* The agent could not: Go's exit path was not hooked, and kill -9 leaves no
	 * time. One machine, one TSC: this process's pair is the program's. */
	sf.h->exit_code = (uint64_t)(int64_t)code;
	__atomic_fetch_or(&sf.h->flags, STATS_F_EXITED, __ATOMIC_RELEASE);
	statsfile_pair(&sf);
	statsfile_close(&sf);
	return 0;
}

void static_result_free(struct static_result *r)
{
	free(r->skips);
	r->skips = NULL;
	r->nskips = r->skips_cap = 0;
}
