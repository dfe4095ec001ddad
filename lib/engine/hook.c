/* hook: the engine that hooks and unhooks functions of this process. See hook.h. */
#include "hook.h"
#include "hook_int.h"
#include "hookargs.h"
#include "hookskip.h"
#include "window.h"
#include "sigown.h"
#include "xlate.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "codemem.h"
#include "grow.h"
#include "log.h"
#include "patch.h"
#include "recthread.h"
#include "reloc.h"
#include "slowest.h"
#include "spec.h"
#include "statsfile.h"
#include "stw.h"
#include "tramp.h"

struct hook_state hook_state = { .mu = PTHREAD_MUTEX_INITIALIZER };

int hook_plan(const struct gobin *gb, const struct gobin_func *f, struct analyze_plan *plan,
	      char *reason, size_t n)
{
	/* Signals are golat's first in a cgo program the loader preloads it into
	 * (sigown.h): in this process once sigown_init succeeded; for `golat list`, in
	 * any dynamically linked program with runtime/cgo. And in a program without libc
	 * whose rt_sigaction golat can redirect (golat attach and run put the agent's
	 * handler in front there: lib/attach/static_sig.c). */
	bool owned = (gb->dynamic && gb->cgo && (gb != &E.gb || sigown_active())) ||
		     (gb != &E.gb && gb->nolibc && window_rt_sigaction(gb));
	return window_plan(gb, f, owned, plan, reason, n);
}

int hook_build_window(const struct analyze_window *w, const struct analyze_redirect *redirs, bool entry,
			uint32_t id, const struct gobin_func *f, struct patch_write *out, size_t *nout,
			char *reason, size_t n)
{
	return window_build(&E.gb, &E.cm, w, redirs, entry, id, f, out, nout, reason, n);
}

/* The recorder, and (libgolat only: recthread.h) the watch on recording threads'
 * exits. rec_init names what failed without formatting (it runs in the agent too,
 * where there is no libc): the message is made here. */
static int start_recorder(const struct rec_config *rcfg, char *reason, size_t n)
{
	if (rec_thread_init() != 0) {
		snprintf(reason, n, "cannot make a thread key for the recorder");
		return -EAGAIN;
	}
	const char *why = "the recorder";
	int rc = rec_init(rcfg, &why);
	if (rc)
		snprintf(reason, n, "%s: %s", why, strerror(-rc));
	return rc;
}

int hook_init(const struct hook_config *hc, char *reason, size_t n, char *warn, size_t wn)
{
	pthread_mutex_lock(&E.mu);
	int rc = 0;
	*warn = 0;
	if (E.ready)
		goto out;
	if ((rc = gobin_open_self(&E.gb, reason, n)) != 0)
		goto out;
	if (E.gb.nolibc) {
		/* Go sets FS to its own per-thread block (settls) over the one libc and
		 * this library's TLS live in: nothing of ours may run on its threads. */
		snprintf(reason, n, "this Go program was built without cgo: Go owns FS, where libgolat.so "
			 "keeps its thread state; run it with golat run, which hooks it from outside");
		rc = -ENOTSUP;
		goto fail;
	}
	if (!E.gb.has_g_tls || !E.gb.goff.goid) {
		snprintf(reason, n, "cannot tell where this Go version (%s) keeps the goroutine",
			 E.gb.go_version[0] ? E.gb.go_version : "unknown");
		rc = -ENOTSUP;
		goto fail;
	}
	if ((rc = statsfile_create(&E.sf, hc->stats_path, NULL, warn, wn))) {
		snprintf(reason, n, "cannot map memory for the stats: %s", strerror(-rc));
		goto fail;
	}
	E.sf.h->sample = hc->sample ? hc->sample : 1;
	if (hc->monotonic)
		statsfile_use_monotonic(&E.sf);
	snprintf(E.sf.h->go_version, sizeof(E.sf.h->go_version), "%.31s", E.gb.go_version);
	E.sf.h->text_base = E.gb.text;
	sigown_count_traps(&E.sf.h->traps);
	E.sf.h->slowest = hc->slowest < STATS_SLOWEST_MAX ? hc->slowest : STATS_SLOWEST_MAX;
	struct rec_config rcfg = { .g_tls = E.gb.g_tls, .stack_hi = E.gb.goff.stack_hi,
				   .goid = E.gb.goff.goid, .sample = E.sf.h->sample, .sf = &E.sf,
				   .monotonic = hc->monotonic, .pcbase = E.gb.text + E.gb.bias,
				   .on_process_exit = hc->on_process_exit };
	/* Trampolines must reach the text (jumps) and the data that relocated
	 * [rip+disp] operands address: the whole loaded image. */
	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t i = 0; i < E.gb.elf.phnum; i++) {
		const Elf64_Phdr *p = &E.gb.elf.ph[i];
		if (p->p_type != PT_LOAD)
			continue;
		lo = p->p_vaddr < lo ? p->p_vaddr : lo;
		hi = p->p_vaddr + p->p_memsz > hi ? p->p_vaddr + p->p_memsz : hi;
	}
	lo += E.gb.bias;
	hi += E.gb.bias;
	if ((rc = start_recorder(&rcfg, reason, n)) ||
	    (rc = codemem_init(&E.cm, lo, hi, 0, reason, n)) || (rc = stw_init(reason, n)) ||
	    (rc = reloc_capstone_open(&E.cs)))
		goto fail;
	if (!(E.idx = malloc(E.gb.nfuncs * sizeof(*E.idx)))) {
		rc = -ENOMEM;
		goto fail;
	}
	memset(E.idx, 0xff, E.gb.nfuncs * sizeof(*E.idx)); /* -1 */
	E.ready = 1;
	/* Put in by the first hook_attach, before anything else. */
	E.resume_ok = hook_build_resume(E.resume_why, sizeof(E.resume_why)) == 0;
	goto out;
fail:
	gobin_close(&E.gb);
out:
	pthread_mutex_unlock(&E.mu);
	return rc;
}

struct statsfile *hook_stats(void)
{
	return E.ready ? &E.sf : NULL;
}

const struct gobin *hook_binary(void)
{
	return E.ready ? &E.gb : NULL;
}

/* Plans and builds everything for a function hooked for the first time. */
static int build_fn(struct hfn *h, uint32_t id, char *reason, size_t n)
{
	struct analyze_plan plan;
	int rc = hook_plan(&E.gb, h->f, &plan, reason, n);
	if (rc)
		return rc;
	size_t nwin = 1 + plan.nsites;
	h->w = calloc(2 * (nwin + plan.nredirs), sizeof(*h->w)); /* window_build's most */
	h->nw = 0;
	for (size_t i = 0; h->w && rc == 0 && i < nwin; i++) {
		size_t k = 0;
		const struct analyze_window *w = i == 0 ? &plan.entry : &plan.sites[i - 1];
		rc = hook_build_window(w, plan.redirs, i == 0, id, h->f, h->w + h->nw, &k, reason, n);
		h->nw += k;
	}
	if (!h->w)
		rc = -ENOMEM;
	analyze_plan_free(&plan);
	if (rc) {
		free(h->w);
		h->w = NULL;
		h->nw = 0;
	}
	return rc;
}

static struct hfn *find_hfn(const struct gobin_func *f)
{
	int32_t i = E.idx[f - E.gb.funcs];
	return i >= 0 ? &E.fns[i] : NULL;
}

static int add_skip(struct hook_result *res, const char *spec, const char *name, const char *reason,
		    int unmatched)
{
	return hook_skip_add(&res->skips, &res->nskips, &res->skips_cap, &res->nunmatched, spec, name, reason,
			     unmatched);
}

/* The hfn of f, built on first use; NULL with a skip recorded when it cannot be. */
static struct hfn *prepare(const struct gobin_func *f, const char *spec, struct hook_result *res)
{
	struct hfn *h = find_hfn(f);
	if (h)
		return h->w ? h : NULL;
	char why[256];
	if (E.nids >= REC_MAX_FNS) {
		snprintf(why, sizeof(why), "too many functions hooked (%u at most)", REC_MAX_FNS);
		add_skip(res, spec, f->name, why, 0);
		return NULL;
	}
	if (array_grow(&E.fns, E.nfns, &E.cap, sizeof(*E.fns), 256))
		return NULL;
	h = &E.fns[E.nfns];
	*h = (struct hfn){ .f = f, .id = E.nids };
	int rc = build_fn(h, h->id, why, sizeof(why));
	E.idx[f - E.gb.funcs] = (int32_t)E.nfns++; /* kept when refused: no second try */
	/* Its record in the stats file is reserved before any call can reach it. */
	if (rc == 0 && (rc = statsfile_set_fn(&E.sf, h->id, f->name, f->entry, false)) != 0) {
		snprintf(why, sizeof(why), "no room for it in the stats file (%s)",
			 rc == -ENOSPC ? "cannot reserve space" : "function table full");
		free(h->w);
		h->w = NULL;
		h->nw = 0;
	}
	if (rc) {
		add_skip(res, spec, f->name, why, 0);
		return NULL;
	}
	E.nids++;
	return h;
}

/* The functions E.fns[idx[0, n)] were hooked: which string arguments their slowest
 * calls keep the text of. */
static void keep_text(const size_t *idx, size_t n)
{
	uint16_t *words = malloc(n * sizeof(*words));
	uint32_t *frames = malloc(n * sizeof(*frames));
	uint64_t *entries = malloc(n * sizeof(*entries));
	for (size_t i = 0; words && frames && entries && i < n; i++) {
		entries[i] = E.fns[idx[i]].f->entry;
		frames[i] = E.fns[idx[i]].f->args;
	}
	if (words && frames && entries && hookargs_text(&E.gb, entries, frames, n, words))
		for (size_t i = 0; i < n; i++)
			if (words[i])
				slowest_set_text(E.fns[idx[i]].id, words[i]);
	free(words);
	free(frames);
	free(entries);
}

/* Sorts one selected function f: prepared (attach) or found (detach), then counted
 * as already in state `want`, or its place in E.fns added to out (prepare() may move
 * E.fns: indices, not pointers). The result lists it in res->fns either way. */
static void select_fn(const struct gobin_func *f, const char *spec, int want,
		      struct hook_result *res, size_t *out, size_t *nout)
{
	res->selected++;
	struct hfn *h = want ? prepare(f, spec, res) : find_hfn(f);
	if (!h || !h->w)
		return;
	bool change = h->active != want;
	if (change)
		out[(*nout)++] = (size_t)(h - E.fns);
	else
		res->already++;
	if (want || change) /* a detach lists what it unhooks, not what never was hooked */
		res->fns[res->nfns++] = (struct hook_fn){ (uint32_t)(f - E.gb.funcs), h->id, change };
}

/* Room for a result's list and the indices of up to max functions. */
static int collect_alloc(size_t max, struct hook_result *res, size_t **out, size_t *nout)
{
	*nout = 0;
	*out = calloc(max ? max : 1, sizeof(**out));
	res->fns = calloc(max ? max : 1, sizeof(*res->fns));
	return *out && res->fns ? 0 : -ENOMEM;
}

/* Collects the functions the specs select whose state is not `want`. */
static int collect(const char *specs, int want, struct hook_result *res, size_t **out,
		   size_t *nout, char *reason, size_t n)
{
	struct spec_set ss = { 0 };
	int rc = spec_add_list(&ss, specs);
	if (rc) {
		snprintf(reason, n, "bad specs '%s'", specs);
		spec_free(&ss);
		return rc;
	}
	spec_resolve(&ss, &E.gb);
	for (size_t k = 0; k < ss.n; k++)
		if (ss.v[k].matches == 0 && !ss.v[k].negative)
			add_skip(res, ss.v[k].text, ss.v[k].text, "matches no function", 1);
	rc = collect_alloc(E.gb.nfuncs, res, out, nout);
	for (size_t i = 0; rc == 0 && i < E.gb.nfuncs; i++)
		if (spec_match(&ss, E.gb.funcs[i].name))
			select_fn(&E.gb.funcs[i], spec_which(&ss, E.gb.funcs[i].name), want, res, *out, nout);
	spec_free(&ss);
	return rc;
}

/* The same for a list of functions (indices into E.gb.funcs) to unhook. */
static int collect_funcs(const uint32_t *funcs, size_t nfuncs, struct hook_result *res,
			 size_t **out, size_t *nout, char *reason, size_t n)
{
	int rc = collect_alloc(nfuncs, res, out, nout);
	uint8_t *seen = calloc(E.gb.nfuncs ? E.gb.nfuncs : 1, 1); /* one given twice counts once */
	if (rc == 0 && !seen)
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < nfuncs; i++) {
		if (funcs[i] >= E.gb.nfuncs) {
			snprintf(reason, n, "no function %u (the program has %zu)", funcs[i], E.gb.nfuncs);
			rc = -EINVAL;
		} else if (!seen[funcs[i]]++) {
			select_fn(&E.gb.funcs[funcs[i]], E.gb.funcs[funcs[i]].name, 0, res, *out, nout);
		}
	}
	free(seen);
	return rc;
}

/* Applies (want=1) or reverts (want=0) the jumps of hs in one stop of the world. */
static int flip(const size_t *idx, size_t nh, int want, struct hook_result *res, char *reason,
		size_t n)
{
	size_t nw = 0;
	for (size_t i = 0; i < nh; i++)
		nw += E.fns[idx[i]].nw;
	struct patch_write *w = calloc(nw ? nw : 1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	nw = 0;
	for (size_t i = 0; i < nh; i++)
		for (size_t k = 0; k < E.fns[idx[i]].nw; k++)
			w[nw++] = E.fns[idx[i]].w[k];
	struct patch_stats st = { 0 };
	/* A thread inside golat_tramp_resume may hold a resume table from before this
	 * call's windows were added (tramp.h, tramp_resume_add). */
	const struct patch_range resume = { (uint64_t)(uintptr_t)golat_tramp_resume,
					    (uint64_t)(uintptr_t)golat_tramp_resume_end };
	struct patch_opts o = { .stats = &st, .avoid = &resume, .navoid = 1 };
	int rc = 0;
	for (size_t i = 0; want && i < nh; i++)
		rec_new_generation(E.fns[idx[i]].id);
	if (want && E.sf.h->slowest)
		keep_text(idx, nh); /* before the first call can be one of the slowest */
	if (nw && want && (rc = codemem_seal(&E.cm, reason, n)) == 0)
		rc = sigown_publish() ?: patch_apply(w, nw, &o, reason, n);
	else if (nw && !want)
		rc = patch_revert(w, nw, &o, reason, n);
	if (rc == 0) {
		nw = 0;
		for (size_t i = 0; i < nh; i++) {
			struct hfn *h = &E.fns[idx[i]];
			for (size_t k = 0; k < h->nw; k++)
				h->w[k] = w[nw++]; /* keeps the saved bytes */
			h->active = want;
			E.nactive += want ? 1 : -1;
			statsfile_set_fn(&E.sf, h->id, h->f->name, h->f->entry, want);
			log_debug("%s %s at %#llx", want ? "hooked" : "unhooked", h->f->name,
				  (unsigned long long)(h->f->entry + E.gb.bias));
		}
		res->hooked = nh;
		res->stops += nw != 0;
		res->stopped_ns += st.stopped_ns;
		res->threads = st.threads;
	}
	free(w);
	return rc;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static size_t tramp_bytes_used(void)
{
	size_t n = 0;
	for (size_t i = 0; i < E.cm.nchunks; i++)
		n += E.cm.chunks[i].used;
	return n;
}

/* Hooks (want 1) or unhooks what specs select, or (specs NULL) the functions funcs. */
static int change(const char *specs, const uint32_t *funcs, size_t nfuncs, int want,
		  struct hook_result *res, char *reason, size_t n)
{
	memset(res, 0, sizeof(*res));
	uint64_t t0 = now_ns();
	if (!E.ready) {
		snprintf(reason, n, "golat is not initialised (not a Go program?)");
		return -ENOEXEC;
	}
	pthread_mutex_lock(&E.mu);
	int rc = 0;
	if (E.runtime_started && !E.resume_ok) {
		snprintf(reason, n, "cannot patch while goroutines run: %s", E.resume_why);
		rc = -ENOTSUP;
	}
	size_t before = tramp_bytes_used();
	size_t *idx = NULL, nh = 0;
	if (rc == 0)
		rc = specs ? collect(specs, want, res, &idx, &nh, reason, n)
			   : collect_funcs(funcs, nfuncs, res, &idx, &nh, reason, n);
	if (rc == 0 && want && nh && E.resume_ok && !E.resume_in) { /* first, or after hook_idle */
		struct patch_stats st = { 0 };
		if ((rc = hook_resume_in(&st, E.resume_why, sizeof(E.resume_why))) != 0 && E.runtime_started) {
			snprintf(reason, n, "cannot hook runtime.asyncPreempt's return: %s", E.resume_why);
		} else if (rc) { /* before the runtime nothing is preempted: go on without it */
			E.resume_ok = 0;
			rc = 0;
		}
		res->stops += st.attempts != 0;
		res->stopped_ns += st.stopped_ns;
	}
	if (rc == 0)
		rc = flip(idx, nh, want, res, reason, n);
	for (size_t i = 0; rc && i < res->nfns; i++)
		res->fns[i].changed = false; /* nothing was patched */
	free(idx);
	/* collect made room for every function of the program: keep what is used. */
	if (res->nfns == 0) {
		free(res->fns);
		res->fns = NULL;
	} else {
		struct hook_fn *fit = realloc(res->fns, res->nfns * sizeof(*fit));
		res->fns = fit ? fit : res->fns;
	}
	res->tramp_bytes = tramp_bytes_used() - before;
	res->elapsed_ns = now_ns() - t0;
	pthread_mutex_unlock(&E.mu);
	return rc;
}

int hook_attach(const char *specs, struct hook_result *res, char *reason, size_t n)
{
	return change(specs, NULL, 0, 1, res, reason, n);
}

int hook_detach(const char *specs, struct hook_result *res, char *reason, size_t n)
{
	return change(specs, NULL, 0, 0, res, reason, n);
}

int hook_detach_funcs(const uint32_t *funcs, size_t nfuncs, struct hook_result *res, char *reason,
		      size_t n)
{
	return change(NULL, funcs, nfuncs, 0, res, reason, n);
}

size_t hook_active(void)
{
	pthread_mutex_lock(&E.mu);
	size_t k = E.nactive;
	pthread_mutex_unlock(&E.mu);
	return k;
}

void hook_result_free(struct hook_result *res)
{
	free(res->skips);
	free(res->fns);
	memset(res, 0, sizeof(*res));
}

int hook_counts(const char *name, struct rec_counts *out)
{
	memset(out, 0, sizeof(*out));
	int found = 0;
	pthread_mutex_lock(&E.mu);
	for (size_t i = 0; i < E.nfns; i++) {
		if (!E.fns[i].w || strcmp(E.fns[i].f->name, name) != 0)
			continue;
		struct rec_counts c;
		rec_counts(E.fns[i].id, &c);
		out->entries += c.entries;
		out->calls += c.calls;
		out->abandoned += c.abandoned;
		found = 1;
	}
	pthread_mutex_unlock(&E.mu);
	return found ? 0 : -ENOENT;
}

int hook_set_sample(uint32_t sample, char *reason, size_t n)
{
	if (!E.ready)
		return -ENOEXEC;
	pthread_mutex_lock(&E.mu);
	int rc = 0;
	uint32_t now = E.sf.h->sample;
	if (E.nids && !statsfile_sample_fits(now, sample, reason, n)) {
		rc = -EBUSY;
	} else if (sample != now) { /* nothing was ever hooked: no count was made at the old rate */
		E.sf.h->sample = sample;
		rec_set_sample(sample);
	}
	pthread_mutex_unlock(&E.mu);
	return rc;
}

void hook_runtime_started(void)
{
	E.runtime_started = 1;
}

void hook_trim(void)
{
	/* Our read-only map of the executable is only read again by a later attach;
	 * its pages are clean and come back from the page cache when touched. */
	if (E.ready && E.gb.map)
		madvise(E.gb.map, E.gb.map_len, MADV_DONTNEED);
}
