/* static_attach: hooking a static Go program from outside (static.h), in two stages
 * so that most of the work is done while the program runs:
 *  - stage (one thread held, the others running; or every thread, when the caller
 *    does it all at once): the agent found or mapped and started on that thread, the
 *    stats file made or reopened and the functions named in it, code memory mapped,
 *    and every trampoline built here for addresses there and written there. Nothing
 *    can reach a trampoline before the jumps exist, so writing them needs no stop;
 *  - finish (every thread held): the text read once; each function's windows checked
 *    against it (still the binary's bytes) and against the threads (one stopped inside
 *    a window, past its first byte, is moved to the same instruction's copy in the
 *    trampoline, as a preempted goroutine would resume: the resume table's mapping; a
 *    function with no copy for it is skipped); the resume table handed to the agent,
 *    runtime.asyncPreempt's end hooked, and the jumps written, a run of changed text
 *    pages at a time. No thread runs between the first write and the last; goroutines
 *    parked by asynchronous preemption resume through asyncPreempt's ret afterwards,
 *    where the resume table sends them on (lib/engine/tramp.h).
 * Plans come from static_prepare (static_prep.c), made before any thread is held,
 * owning the signals (static_sig.c) where golat knows the program's rt_sigaction: then,
 * with every thread held and before the jumps, golat's handler goes in front of Go's. */
#define _GNU_SOURCE
#include "static_int.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "grow.h"
#include "recorder.h"
#include "statsfile.h"
#include "tramp.h"
#include "window.h"

/* A function whose trampolines are built: its writes are st->w[w0, w1). */
struct staged_fn {
	const struct static_prep_fn *pf;
	uint32_t id;
	bool again; /* hooked before: a new generation (recorder.h) */
	size_t w0, w1;
};

struct thread_move {
	size_t thread; /* index in the world */
	uint64_t to;
};

struct static_stage {
	struct statsfile sf;
	bool fresh;               /* this attach made the stats file */
	bool agent_loaded;
	struct agent_config cfg;
	struct codemem cm;
	struct codemem_remote remote;
	struct patch_write *w;    /* every write: asyncPreempt's end first (nres of them) */
	size_t nw, cap, nres;
	struct staged_fn *fns;
	size_t nfns;
	struct static_result r;   /* what staging skipped */
	uint64_t sig_thunk;       /* runtime.rt_sigaction's way to the agent (static_sig.c) */
};

/* The directory of the process's new stats file, opened in its root: its /dev/shm,
 * or its $TMPDIR when it has none or a read-only one (as the preloaded library
 * chooses: statsfile.c, default_path). The fd with here and inside set, or -errno
 * with why. */
static int stats_dir(const struct target *tg, char *here, char *inside, size_t n, char *why, size_t wn)
{
	int fd = -ENOENT;
	*why = 0;
	for (int dir = 0; dir < 2; dir++) {
		const char *d = dir == 0 ? "/dev/shm" : tg->tmpdir;
		struct statvfs vfs;
		if ((fd = target_stats(tg, dir, inside, here, n)) == 0 && (fd = target_open_dir(tg, d)) >= 0 &&
		    fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) {
			close(fd);
			fd = -EROFS;
		}
		if (fd >= 0)
			return fd;
		size_t k = strlen(why);
		snprintf(why + k, wn - k, "%s%s %s (%s)", dir ? "; " : "", fd == -EROFS ? "read-only" : "no", d,
			 strerror(-fd));
	}
	return fd;
}

/* A new stats file for the process: where opts say, else in stats_dir's, made through
 * its root, named by the pid it sees, owned by its user. inside: the path the process
 * opens. 0 or -EIO with s->err. */
static int stats_create(struct static_ctx *s, const struct target *tg, const struct static_opts *o,
			struct statsfile *sf, char *inside, size_t n)
{
	char here[4096], warn[512] = "", where[160];
	struct stats_writer wr = { .pid = tg->pid, .nspid = tg->nspid, .dirfd = -1, .uid = tg->uid, .gid = tg->gid };
	int rc = 0;
	if (o->stats_path)
		snprintf(here, sizeof(here), "%s", o->stats_path);
	else
		rc = wr.dirfd = stats_dir(tg, here, inside, n < sizeof(here) ? n : sizeof(here), warn, sizeof(warn));
	if (o->stats_path)
		snprintf(inside, n, "%s", o->stats_path);
	if (rc >= 0)
		rc = statsfile_create_for(sf, &wr, here, NULL, warn, sizeof(warn));
	if (wr.dirfd >= 0)
		close(wr.dirfd);
	if (rc == 0 && !sf->path[0]) {
		statsfile_close(sf); /* it fell back to memory: the agent needs a file */
		rc = -EIO;
	}
	if (rc) {
		snprintf(s->err, s->errn, "cannot make the stats file for pid %d%s: %s", (int)tg->pid,
			 target_where(tg, where, sizeof(where)), warn[0] ? warn : strerror(-rc));
		return -EIO;
	}
	return 0;
}

/* The stats file: the agent's own when it has one, else a new one (stats_create). */
static int stats_open(struct static_ctx *s, const struct target *tg, const struct gobin *gb,
		      const struct static_opts *o, struct statsfile *sf, bool *fresh, char *inside, size_t insn)
{
	char path[4096], warn[512] = "";
	*fresh = !static_stats_of(tg, path, inside, insn < sizeof(path) ? insn : sizeof(path));
	int rc = *fresh ? stats_create(s, tg, o, sf, inside, insn) : statsfile_reopen(sf, path, warn, sizeof(warn));
	if (rc && !*fresh)
		snprintf(s->err, s->errn, "cannot reopen the stats file of pid %d: %s", (int)s->t.pid, warn);
	if (rc)
		return -EIO;
	char why[256];
	if (!*fresh && !statsfile_sample_fits(sf->h->sample, o->sample, why, sizeof(why))) {
		/* The agent times at the rate it started with (rec_init), into this file. */
		snprintf(s->err, s->errn, "%s", why);
		statsfile_close(sf);
		return -EBUSY;
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

/* The recorder id the stats file gives the function at entry, or UINT32_MAX. */
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

static int room(struct static_stage *g, size_t more)
{
	if (g->nw + more <= g->cap)
		return 0;
	size_t c = (g->cap + more) * 2;
	struct patch_write *v = realloc(g->w, c * sizeof(*v));
	if (!v)
		return -ENOMEM;
	g->w = v;
	g->cap = c;
	return 0;
}

/* The trampolines of one planned function, and the writes into g->w. */
static int build_fn(struct static_stage *g, const struct gobin *gb, const struct static_prep_fn *pf, uint32_t id,
		    char *why, size_t wn)
{
	const struct gobin_func *f = &gb->funcs[pf->func];
	size_t nwin = 1 + pf->plan.nsites, start = g->nw;
	int rc = room(g, 2 * nwin);
	for (size_t i = 0; rc == 0 && i < nwin; i++) {
		const struct analyze_window *w = i == 0 ? &pf->plan.entry : &pf->plan.sites[i - 1];
		size_t k = 0;
		rc = window_build(gb, &g->cm, w, pf->plan.redirs, i == 0, id, f, g->w + g->nw, &k, why, wn);
		g->nw += k;
	}
	if (rc)
		g->nw = start;
	return rc;
}

/* Every planned function built (ids from the stats file, new ones named there). */
static int build_all(struct static_stage *g, const struct static_prep *prep)
{
	const struct gobin *gb = &prep->gb;
	g->fns = calloc(prep->nfns + 1, sizeof(*g->fns));
	if (!g->fns)
		return -ENOMEM;
	uint32_t next = g->sf.h->nfns;
	for (size_t i = 0; i < prep->nfns; i++) {
		const struct static_prep_fn *pf = &prep->fns[i];
		const struct gobin_func *f = &gb->funcs[pf->func];
		bool hooked;
		uint32_t id = known_id(&g->sf, f->entry, &hooked);
		if (hooked) {
			g->r.already++;
			continue;
		}
		char why[256];
		bool fresh = id == UINT32_MAX;
		if (fresh && next >= REC_MAX_FNS) {
			static_skip(&g->r, pf->spec, f->name, "too many functions hooked", 0);
			continue;
		}
		uint32_t use = fresh ? next : id;
		size_t w0 = g->nw;
		int b = build_fn(g, gb, pf, use, why, sizeof(why));
		if (b == -ENOMEM || b == -ESRCH)
			return b;
		/* Named before any call can reach it. */
		if (b == 0 && fresh && statsfile_set_fn(&g->sf, use, f->name, f->entry, false) != 0) {
			snprintf(why, sizeof(why), "no room for it in the stats file");
			b = -ENOSPC;
		}
		if (b) {
			static_skip(&g->r, pf->spec, f->name, why, 0);
			continue;
		}
		next += fresh;
		g->fns[g->nfns++] = (struct staged_fn){ pf, use, !fresh, w0, g->nw };
	}
	return 0;
}

/* The agent's slowest_text_table for the staged functions (slowest.h): which string
 * argument their slowest calls keep the text of. Read and written as one run of ids:
 * the new ones follow each other. Harmless before the jumps: only a call records. */
static int write_text(struct static_ctx *s, const struct static_stage *g)
{
	uint32_t lo = UINT32_MAX, hi = 0;
	for (size_t i = 0; i < g->nfns; i++)
		if (g->fns[i].pf->text) {
			lo = g->fns[i].id < lo ? g->fns[i].id : lo;
			hi = g->fns[i].id > hi ? g->fns[i].id : hi;
		}
	if (lo > hi || !g->cfg.text_regs)
		return 0;
	size_t len = (hi - lo + 1) * sizeof(uint16_t);
	uint16_t *words = malloc(len);
	if (!words)
		return -ENOMEM;
	uint64_t at = g->cfg.text_regs + lo * sizeof(uint16_t);
	int rc = inject_mem_read(&s->t, at, words, len);
	for (size_t i = 0; rc == 0 && i < g->nfns; i++)
		if (g->fns[i].pf->text)
			words[g->fns[i].id - lo] = g->fns[i].pf->text;
	if (rc == 0)
		rc = inject_mem_write(&s->t, at, words, len);
	if (rc)
		snprintf(s->err, s->errn, "cannot write the agent's table of string arguments: %s", strerror(-rc));
	free(words);
	return rc;
}

static int stage(const struct static_world *w, const struct static_opts *o, struct static_prep *prep,
		 struct static_stage *g, char *err, size_t n)
{
	struct static_ctx s = { .t.memfd = -1, .err = err, .errn = n };
	const struct gobin *gb = &prep->gb;
	int rc = static_open_target(&s, w, gb, false);
	if (rc == 0)
		rc = static_begin_calls(&s);
	char inside[4096];
	if (rc == 0)
		rc = stats_open(&s, &prep->tg, gb, o, &g->sf, &g->fresh, inside, sizeof(inside));
	if (rc == 0) {
		g->cfg = (struct agent_config){ .abi = AGENT_ABI, .sample = g->sf.h->sample, .g_tls = gb->g_tls,
						.stack_hi = gb->goff.stack_hi, .goid = gb->goff.goid,
						.pcbase = gb->text + gb->bias,
						.monotonic = (g->sf.h->flags & STATS_F_MONOTONIC) != 0 };
		/* The agent opens it in its own mount namespace: the process's name for it. */
		snprintf(g->cfg.stats_path, sizeof(g->cfg.stats_path), "%s", inside);
		rc = static_agent(&s, o->agent, &g->cfg);
		g->agent_loaded = s.agent_loaded;
	}
	if (rc == 0) {
		uint64_t lo, hi;
		image_range(gb, &lo, &hi);
		static_codemem(&s);
		g->remote = s.remote;
		tramp_set_stubs(g->cfg.rec_fast, g->cfg.tramp_resume);
		rc = codemem_init_remote(&g->cm, &g->remote, lo, hi, 0, err, n);
	}
	/* runtime.asyncPreempt's end first: finish drops it when it is in already. */
	const struct gobin_func *ap = gobin_func_named(gb, "runtime.asyncPreempt");
	struct analyze_window aw;
	if (rc == 0 && (!ap || !window_async_preempt(gb, ap, &aw))) {
		snprintf(err, n, "runtime.asyncPreempt %s", ap ? "does not end as expected" : "not found");
		rc = -ENOEXEC;
	}
	if (rc == 0 && (rc = room(g, 2)) == 0 &&
	    (rc = window_build(gb, &g->cm, &aw, NULL, false, RESUME_ID, ap, g->w, &g->nres, err, n)) == 0)
		g->nw = g->nres;
	if (rc == 0 && prep->owned)
		rc = static_sig_stage(&g->cm, g->cfg.rt_sigaction, &g->sig_thunk, err, n);
	if (rc == 0)
		rc = build_all(g, prep);
	if (rc == 0)
		rc = write_text(&s, g);
	/* Written now: no thread can reach them before the jumps. */
	if (rc == 0)
		rc = codemem_seal(&g->cm, err, n);
	g->remote.ctx = NULL; /* s ends here; nothing maps or writes code memory after */
	static_end(&s);
	return rc;
}

static int add_move(struct thread_move **v, size_t *nv, size_t *cap, size_t thread, uint64_t to)
{
	if (array_grow(v, *nv, cap, sizeof(**v), 8))
		return -ENOMEM;
	(*v)[(*nv)++] = (struct thread_move){ thread, to };
	return 0;
}

/* Whether function sf's windows can be written now: still the binary's bytes, and every
 * thread inside one movable to its copy (the moves appended). 0, or a reason. */
static int check_fn(struct static_ctx *s, const struct gobin *gb, const struct staged_fn *sf,
		    struct thread_move **mv, size_t *nmv, size_t *mcap, char *why, size_t wn)
{
	const struct gobin_func *f = &gb->funcs[sf->pf->func];
	const struct analyze_plan *plan = &sf->pf->plan;
	for (size_t i = 0; i < 1 + plan->nsites; i++) {
		const struct analyze_window *w = i == 0 ? &plan->entry : &plan->sites[i - 1];
		if (!w->len)
			continue;
		if (!static_text_is_file(s, gb, f, w->addr, w->len)) {
			snprintf(why, wn, "%s: its code in pid %d is not the binary's at +%#llx (hooked by another tool?)",
				 f->name, (int)s->t.pid, (unsigned long long)(w->addr - f->entry));
			return -EEXIST;
		}
		uint64_t lo = w->addr + gb->bias, hi = lo + w->len;
		for (size_t t = 0; t < s->w->n; t++) {
			uint64_t pc = ARCH_REGS_PC(s->w->t[t].regs), to;
			if (pc <= lo || pc >= hi)
				continue;
			if (!(to = tramp_resume_find(pc))) {
				snprintf(why, wn, "%s: thread %d was stopped inside it, at +%#llx; attach again", f->name,
					 (int)s->w->t[t].tid, (unsigned long long)(pc - gb->bias - f->entry));
				return -EAGAIN;
			}
			if (add_move(mv, nmv, mcap, t, to))
				return -ENOMEM;
		}
	}
	return 0;
}

/* The moves, the resume table, the generations, the functions marked hooked, then their
 * jumps. keep[] says which staged functions go in. */
static int write_all(struct static_ctx *s, struct static_stage *g, const bool *keep, const struct thread_move *mv,
		     size_t nmv, bool resume_in, struct static_result *r)
{
	int rc = static_resume_pull(s, g->cfg.resume_tab);
	if (rc == 0)
		rc = static_resume_publish(s, g->cfg.resume_tab);
	for (size_t i = 0; rc == 0 && i < g->nfns; i++) {
		if (!keep[i] || !g->fns[i].again)
			continue;
		/* Frames of calls in flight since the last attach no longer match (recorder.h). */
		uint32_t gen;
		uint64_t at = g->cfg.gens + 4ull * g->fns[i].id;
		if ((rc = inject_mem_read(&s->t, at, &gen, 4)) == 0) {
			gen++;
			rc = inject_mem_write(&s->t, at, &gen, 4);
		}
	}
	for (size_t i = 0; rc == 0 && i < nmv; i++) {
		struct static_thread *t = &s->w->t[mv[i].thread];
		ARCH_REGS_PC(t->regs) = mv[i].to;
		if (s->call_on && t->tid == s->call.tid)
			ARCH_REGS_PC(s->call.regs) = ARCH_REGS_PC(t->regs); /* static_end puts these back */
		else if (arch_setregs(t->tid, &t->regs) != 0)
			rc = -errno;
		if (rc)
			snprintf(s->err, s->errn, "cannot move thread %d out of a window: %s", (int)t->tid, strerror(-rc));
	}
	/* Marked hooked before their jumps go in. A golat killed between the two then leaves
	 * functions marked whose text may still be the file's, which a later detach puts back
	 * as they are (it writes the file's bytes where they differ), and never jumps that no
	 * mark names: a later attach would take them for another tool's, and no detach would
	 * take them out. */
	for (size_t i = 0; rc == 0 && i < g->nfns; i++)
		if (keep[i])
			statsfile_set_fn(&g->sf, g->fns[i].id, "", 0, true);
	uint64_t t0 = static_now_ns();
	if (rc == 0 && !resume_in)
		rc = static_write(s, g->w, g->nres);
	for (size_t i = 0; rc == 0 && i < g->nfns; i++)
		if (keep[i])
			rc = static_write(s, g->w + g->fns[i].w0, g->fns[i].w1 - g->fns[i].w0);
	r->stopped_ns = static_now_ns() - t0;
	for (size_t i = 0; rc == 0 && i < g->nfns; i++)
		if (keep[i])
			r->hooked++;
	if (rc == 0)
		statsfile_pair(&g->sf); /* as static_detach does */
	return rc;
}

static int finish(const struct static_world *w, struct static_prep *prep, struct static_stage *g,
		  struct static_result *r, char *err, size_t n)
{
	struct static_ctx s = { .t.memfd = -1, .err = err, .errn = n };
	const struct gobin *gb = &prep->gb;
	bool *keep = calloc(g->nfns + 1, sizeof(*keep));
	struct thread_move *mv = NULL;
	size_t nmv = 0, mcap = 0;
	int rc = keep ? static_open_target(&s, w, gb, true) : -ENOMEM;
	if (rc == 0)
		rc = static_begin_calls(&s);
	if (rc == 0 && static_thread_in(w, g->cfg.tramp_resume, g->cfg.tramp_resume_end - g->cfg.tramp_resume, false)) {
		snprintf(err, n, "a thread of pid %d is in golat's resume stub; attach again", (int)w->pid);
		rc = -EAGAIN;
	}
	/* asyncPreempt's end: in already (an earlier attach), or written now. */
	const struct gobin_func *ap = gobin_func_named(gb, "runtime.asyncPreempt");
	struct analyze_window aw;
	bool resume_in = false;
	if (rc == 0 && ap && window_async_preempt(gb, ap, &aw)) {
		resume_in = !static_text_is_file(&s, gb, ap, aw.addr, aw.len);
		if (!resume_in && static_thread_in(w, aw.addr + gb->bias, aw.len, true)) {
			snprintf(err, n, "a thread of pid %d is in runtime.asyncPreempt's last instructions; attach again",
				 (int)w->pid);
			rc = -EAGAIN;
		}
	}
	size_t kept = 0;
	for (size_t i = 0; rc == 0 && i < g->nfns; i++) {
		char why[256];
		size_t m0 = nmv;
		int c = check_fn(&s, gb, &g->fns[i], &mv, &nmv, &mcap, why, sizeof(why));
		if (c == -ENOMEM)
			rc = c;
		else if (c) {
			nmv = m0;
			static_skip(r, g->fns[i].pf->spec, gb->funcs[g->fns[i].pf->func].name, why, 0);
		} else {
			keep[i] = true;
			kept++;
		}
	}
	if (rc == 0 && kept == 0) {
		snprintf(err, n, "no function of pid %d could be hooked", (int)w->pid);
		rc = r->already ? 0 : -ENOENT;
	} else if (rc == 0) {
		/* Signals golat's before the jumps that need it (hops, int3s) lead anywhere. */
		rc = prep->owned ? static_sig_finish(&s, gb, &g->cfg, g->sig_thunk) : 0;
		if (rc == 0)
			rc = write_all(&s, g, keep, mv, nmv, resume_in, r);
	}
	free(keep);
	free(mv);
	static_end(&s);
	return rc;
}

void static_stage_free(struct static_stage *g)
{
	if (!g)
		return;
	free(g->w);
	free(g->fns);
	codemem_fini(&g->cm);
	if (g->sf.h)
		statsfile_close(&g->sf);
	static_result_free(&g->r);
	free(g);
}

int static_attach(const struct static_world *w, const struct static_opts *o, struct static_result *r, char *err,
		  size_t n)
{
	memset(r, 0, sizeof(*r));
	*err = 0;
	struct static_prep *own = NULL, *prep = o->prep;
	int rc = w->n ? 0 : -ESRCH;
	if (rc == 0 && !prep && (rc = static_prepare(w->pid, o->specs, &own, err, n)) == 0)
		prep = own;
	if (rc == 0 && !prep->stage) {
		struct static_stage *g = calloc(1, sizeof(*g));
		if (!g)
			rc = -ENOMEM;
		else if ((g->sf.fd = -1, rc = stage(w, o, prep, g, err, n)) != 0) {
			if (g->fresh && g->sf.h && !g->agent_loaded)
				unlink(g->sf.path); /* no agent writes it */
			static_stage_free(g);
		} else {
			prep->stage = g;
		}
		tramp_set_stubs(0, 0);
		if (rc == 0 && o->stage_only)
			return 0; /* finished by the next call, with every thread held */
	}
	struct static_stage *g = rc == 0 ? prep->stage : NULL;
	if (rc == 0) {
		r->selected = prep->pre.selected;
		r->already = g->r.already;
		for (size_t i = 0; i < prep->pre.nskips; i++)
			static_skip(r, prep->pre.skips[i].spec, prep->pre.skips[i].name, prep->pre.skips[i].reason,
				    prep->pre.skips[i].unmatched);
		for (size_t i = 0; i < g->r.nskips; i++)
			static_skip(r, g->r.skips[i].spec, g->r.skips[i].name, g->r.skips[i].reason, 0);
		snprintf(r->stats_path, sizeof(r->stats_path), "%s", g->sf.path);
		r->agent_loaded = g->agent_loaded;
		rc = finish(w, prep, g, r, err, n);
	}
	if (g) {
		for (size_t i = 0; i < g->cm.nchunks; i++)
			r->tramp_bytes += g->cm.chunks[i].used;
		if (rc && g->fresh && g->sf.h && !g->agent_loaded)
			unlink(g->sf.path); /* no agent writes it */
	}
	tramp_set_stubs(0, 0);
	static_prep_free(own);
	return rc;
}
