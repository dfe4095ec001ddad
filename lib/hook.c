/* hook: the engine that hooks and unhooks functions of this process. See hook.h. */
#include "hook.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codemem.h"
#include "log.h"
#include "patch.h"
#include "reloc.h"
#include "spec.h"
#include "statsfile.h"
#include "stw.h"
#include "tramp.h"

#define TRAMP_STACKS 1024 /* threads that can record; more are let through unrecorded */
#define STATS_SHARDS 128  /* threads with a shard of their own; more share the last */
/* Trampoline ids that are not functions of the recorder. */
#define PROCEXIT_ID (UINT32_MAX - 2) /* + TRAMP_PROCEXIT_EXIT or _SIGNAL */
#define RESUME_ID (UINT32_MAX - 3)

/* A function hooked at least once. Its trampolines and jumps are built once. */
struct hfn {
	const struct gobin_func *f;
	struct patch_write *w; /* the jumps: one per window, two for a hop */
	size_t nw;
	int active;
};

static struct {
	pthread_mutex_t mu;
	int ready;
	struct gobin gb;
	struct codemem cm;
	struct statsfile sf;
	csh cs;
	int resume_hooked;   /* runtime.asyncPreempt's end is hooked: attach is safe at run time */
	char resume_why[200]; /* why not */
	int runtime_started; /* after the constructor: goroutines may be parked anywhere */
	struct hfn *fns; /* index = recorder function id */
	size_t nfns, cap;
} E = { .mu = PTHREAD_MUTEX_INITIALIZER };

static bool read_ptr(void *ctx, uint64_t addr, uint64_t *value)
{
	return elf_read_ptr(&((const struct gobin *)ctx)->elf, addr, value);
}

static const char *name_at(void *ctx, uint64_t addr)
{
	const struct gobin_func *f = gobin_func_at(ctx, addr);
	return f && f->entry == addr ? f->name : NULL;
}

int hook_plan(const struct gobin *gb, const struct gobin_func *f, struct analyze_plan *plan,
	      char *reason, size_t n)
{
	const uint8_t *code = gobin_code(gb, f);
	if (!code || f->end <= f->entry) {
		snprintf(reason, n, "%s: code not in the file", f->name);
		return -EINVAL;
	}
	struct analyze_input in = {
		.name = f->name, .entry = f->entry, .end = f->end, .code = code, .flag = f->flag,
		.read_ptr = read_ptr, .name_at = name_at, .ctx = (void *)gb,
	};
	return analyze_func(&in, plan, reason, n);
}

static int build_window(const struct analyze_window *w, bool entry, uint32_t id,
			const struct gobin_func *f, struct patch_write *out, size_t *nout,
			char *reason, size_t n);
static int exit_hook_plan(const char *name, struct analyze_plan *plan, const struct gobin_func **fp,
			  char *reason, size_t n);

/* Hooks the return of runtime.asyncPreempt (golat_tramp_resume), before anything
 * else is patched: from then on, a goroutine preempted inside a window resumes in
 * its trampoline. Called with E.mu held. */
static int hook_resume(char *reason, size_t n)
{
	struct analyze_plan plan;
	const struct gobin_func *f;
	int rc = exit_hook_plan("runtime.asyncPreempt", &plan, &f, reason, n);
	if (rc)
		return rc;
	struct patch_write *w = calloc(2 * plan.nsites + 1, sizeof(*w));
	size_t nw = 0;
	for (size_t i = 0; w && rc == 0 && i < plan.nsites; i++) {
		size_t k = 0;
		rc = build_window(&plan.sites[i], false, RESUME_ID, f, w + nw, &k, reason, n);
		nw += k;
	}
	if (!w)
		rc = -ENOMEM;
	if (rc == 0 && plan.nsites == 0) {
		snprintf(reason, n, "runtime.asyncPreempt has no return");
		rc = -ENOTSUP;
	}
	analyze_plan_free(&plan);
	if (rc == 0 && (rc = codemem_seal(&E.cm, reason, n)) == 0)
		rc = patch_apply(w, nw, NULL, reason, n);
	free(w);
	return rc;
}

/* Function ids the stats file has room for: what the first specs select, plus room
 * for golat_attach later. */
static uint32_t fn_room(const char *specs)
{
	size_t n = 0;
	struct spec_set ss = { 0 };
	if (specs && spec_add_list(&ss, specs) == 0) {
		spec_resolve(&ss, &E.gb);
		for (size_t i = 0; i < E.gb.nfuncs; i++)
			n += spec_match(&ss, E.gb.funcs[i].name);
	}
	spec_free(&ss);
	n = n + 256 > 1024 ? n + 256 : 1024;
	return n > REC_MAX_FNS ? REC_MAX_FNS : (uint32_t)n;
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
	if (!E.gb.has_g_tls || !E.gb.goff.goid) {
		snprintf(reason, n, "cannot tell where this Go version (%s) keeps the goroutine",
			 E.gb.go_version[0] ? E.gb.go_version : "unknown");
		rc = -ENOTSUP;
		goto fail;
	}
	if ((rc = statsfile_create(&E.sf, hc->stats_path, fn_room(hc->specs), STATS_SHARDS, warn, wn))) {
		snprintf(reason, n, "cannot map memory for the stats: %s", strerror(-rc));
		goto fail;
	}
	E.sf.h->sample = hc->sample ? hc->sample : 1;
	if (hc->monotonic)
		statsfile_use_monotonic(&E.sf);
	snprintf(E.sf.h->go_version, sizeof(E.sf.h->go_version), "%.31s", E.gb.go_version);
	struct rec_config rcfg = { .g_tls = E.gb.g_tls, .stack_hi = E.gb.goff.stack_hi,
				   .goid = E.gb.goff.goid, .sample = E.sf.h->sample, .sf = &E.sf,
				   .monotonic = hc->monotonic,
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
	if ((rc = rec_init(&rcfg, reason, n)) || (rc = tramp_init(TRAMP_STACKS, reason, n)) ||
	    (rc = codemem_init(&E.cm, lo, hi, 0, reason, n)) || (rc = stw_init(reason, n)) ||
	    (rc = reloc_capstone_open(&E.cs)))
		goto fail;
	E.ready = 1;
	E.resume_hooked = hook_resume(E.resume_why, sizeof(E.resume_why)) == 0;
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

/* Registers where a goroutine stopped inside window w must resume: the relocated
 * copy of each instruction that starts after the window's first byte and inside the
 * bytes the jump overwrites (beyond them the original bytes stay). Async preemption
 * can stop a goroutine at any instruction of Go code (runtime/preempt.go,
 * isAsyncSafePoint: epilogues included), and golat_tramp_resume redirects it. */
static int map_resume(const struct analyze_window *w, const uint8_t *src, uint64_t at,
		      uint64_t dst, const char *name, char *reason, size_t n)
{
	size_t jlen = w->hop ? RELOC_JMP8_LEN : RELOC_JMP32_LEN, cnt;
	cs_insn *insn;
	cnt = cs_disasm(E.cs, src, w->code_len, at, 0, &insn);
	int rc = 0;
	for (size_t i = 1; i < cnt && rc == 0 && insn[i].address < at + jlen; i++) {
		size_t off = insn[i].address - at, olen;
		uint8_t tmp[RELOC_MAX_OUT(32)];
		if ((rc = reloc_window(src, off, at, dst, 0, tmp, sizeof(tmp), &olen, reason, n)) == 0 &&
		    (rc = tramp_resume_add(at + off, dst + olen)) != 0)
			snprintf(reason, n, "%s: too many windows hooked (resume table full)", name);
	}
	cs_free(insn, cnt);
	return rc;
}

/* Builds the trampoline for window w of function id and the jump(s) into it. id
 * PROCEXIT_ID + TRAMP_PROCEXIT_*: a process-exit hook; RESUME_ID: asyncPreempt's end. */
static int build_window(const struct analyze_window *w, bool entry, uint32_t id,
			const struct gobin_func *f, struct patch_write *out, size_t *nout,
			char *reason, size_t n)
{
	uint64_t bias = E.gb.bias, at = w->addr + bias;
	const uint8_t *src = gobin_code(&E.gb, f) + (w->addr - f->entry);
	bool whole = entry && w->ret;
	uint8_t rel[RELOC_MAX_OUT(32)];
	size_t rlen;
	if (w->code_len > 32) {
		snprintf(reason, n, "%s: window of %u bytes at +%#llx", f->name, w->code_len,
			 (unsigned long long)(w->addr - f->entry));
		return -EINVAL;
	}
	void *buf;
	int rc = codemem_alloc(&E.cm, tramp_size(sizeof(rel), whole), 16, &buf, reason, n);
	if (rc)
		return rc;
	uint64_t t = (uint64_t)(uintptr_t)buf;
	size_t code_at = entry ? tramp_entry_code_offset() : tramp_exit_code_offset();
	rc = reloc_window(src, w->code_len, at, t + code_at, w->ret ? RELOC_DROP_RET : 0, rel,
			  sizeof(rel), &rlen, reason, n);
	if (rc)
		return rc;
	if (id >= PROCEXIT_ID)
		tramp_emit_procexit(buf, t, rel, rlen, at + w->code_len, id - PROCEXIT_ID);
	else if (id == RESUME_ID)
		tramp_emit_resume(buf, t, rel, rlen);
	else if (whole)
		tramp_emit_whole(buf, t, rel, rlen, id);
	else if (entry)
		tramp_emit_entry(buf, t, rel, rlen, at + w->code_len, id);
	else
		tramp_emit_exit(buf, t, rel, rlen, id);
	if (id < RESUME_ID && (rc = map_resume(w, src, at, t + code_at, f->name, reason, n)) != 0)
		return rc;
	*nout = 0;
	struct patch_write *jw = &out[(*nout)++];
	memset(jw, 0, sizeof(*jw));
	jw->addr = at;
	if (!w->hop) {
		jw->len = RELOC_JMP32_LEN;
		return reloc_jmp32(jw->bytes, at, t);
	}
	jw->len = RELOC_JMP8_LEN;
	if ((rc = reloc_jmp8(jw->bytes, at, w->hop_addr + bias)) != 0)
		return rc;
	struct patch_write *hw = &out[(*nout)++];
	memset(hw, 0, sizeof(*hw));
	hw->addr = w->hop_addr + bias;
	hw->len = RELOC_JMP32_LEN;
	return reloc_jmp32(hw->bytes, hw->addr, t);
}

/* Plans and builds everything for a function hooked for the first time. */
static int build_fn(struct hfn *h, uint32_t id, char *reason, size_t n)
{
	struct analyze_plan plan;
	int rc = hook_plan(&E.gb, h->f, &plan, reason, n);
	if (rc)
		return rc;
	size_t nwin = 1 + plan.nsites;
	h->w = calloc(2 * nwin, sizeof(*h->w));
	h->nw = 0;
	for (size_t i = 0; h->w && rc == 0 && i < nwin; i++) {
		size_t k = 0;
		const struct analyze_window *w = i == 0 ? &plan.entry : &plan.sites[i - 1];
		rc = build_window(w, i == 0, id, h->f, h->w + h->nw, &k, reason, n);
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
	for (size_t i = 0; i < E.nfns; i++)
		if (E.fns[i].f == f)
			return &E.fns[i];
	return NULL;
}

static int add_skip(struct hook_result *res, const char *spec, const char *name, const char *reason,
		    int unmatched)
{
	struct hook_skip *s = realloc(res->skips, (res->nskips + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	res->skips = s;
	snprintf(s[res->nskips].name, sizeof(s->name), "%s", name);
	snprintf(s[res->nskips].spec, sizeof(s->spec), "%s", spec ? spec : "");
	s[res->nskips].unmatched = unmatched;
	res->nunmatched += unmatched != 0;
	snprintf(s[res->nskips].reason, sizeof(s->reason), "%s", reason);
	res->nskips++;
	return 0;
}

/* The hfn of f, built on first use; NULL with a skip recorded when it cannot be. */
static struct hfn *prepare(const struct gobin_func *f, const char *spec, struct hook_result *res)
{
	struct hfn *h = find_hfn(f);
	if (h)
		return h->w ? h : NULL;
	char why[256];
	if (E.nfns >= E.sf.h->max_fns) {
		add_skip(res, spec, f->name, "too many functions hooked", 0);
		return NULL;
	}
	if (E.nfns == E.cap) {
		size_t cap = E.cap ? 2 * E.cap : 256;
		struct hfn *v = realloc(E.fns, cap * sizeof(*v));
		if (!v)
			return NULL;
		E.fns = v;
		E.cap = cap;
	}
	h = &E.fns[E.nfns];
	*h = (struct hfn){ .f = f };
	int rc = build_fn(h, (uint32_t)E.nfns, why, sizeof(why));
	E.nfns++; /* kept even when refused: the refusal is remembered */
	if (rc) {
		add_skip(res, spec, f->name, why, 0);
		return NULL;
	}
	return h;
}

/* Collects the selected functions whose state is not `want`, as indices into E.fns
 * (which prepare() may move). */
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
	*out = calloc(E.gb.nfuncs, sizeof(**out));
	*nout = 0;
	for (size_t i = 0; *out && i < E.gb.nfuncs; i++) {
		const struct gobin_func *f = &E.gb.funcs[i];
		if (!spec_match(&ss, f->name))
			continue;
		res->selected++;
		struct hfn *h = want ? prepare(f, spec_which(&ss, f->name), res) : find_hfn(f);
		if (!h || !h->w)
			continue;
		if (h->active == want)
			res->already++;
		else
			(*out)[(*nout)++] = (size_t)(h - E.fns);
	}
	spec_free(&ss);
	return *out ? 0 : -ENOMEM;
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
	struct patch_opts o = { .stats = &st };
	int rc = 0;
	if (nw && want && (rc = codemem_seal(&E.cm, reason, n)) == 0)
		rc = patch_apply(w, nw, &o, reason, n);
	else if (nw && !want)
		rc = patch_revert(w, nw, &o, reason, n);
	if (rc == 0) {
		nw = 0;
		for (size_t i = 0; i < nh; i++) {
			struct hfn *h = &E.fns[idx[i]];
			for (size_t k = 0; k < h->nw; k++)
				h->w[k] = w[nw++]; /* keeps the saved bytes */
			h->active = want;
			statsfile_set_fn(&E.sf, (uint32_t)idx[i], h->f->name, h->f->entry, want);
			log_debug("%s %s at %#llx", want ? "hooked" : "unhooked", h->f->name,
				  (unsigned long long)(h->f->entry + E.gb.bias));
		}
		res->hooked = nh;
		res->stopped_ns = st.stopped_ns;
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

static int change(const char *specs, int want, struct hook_result *res, char *reason, size_t n)
{
	memset(res, 0, sizeof(*res));
	uint64_t t0 = now_ns();
	if (!E.ready) {
		snprintf(reason, n, "golat is not initialised (not a Go program?)");
		return -ENOEXEC;
	}
	pthread_mutex_lock(&E.mu);
	if (E.runtime_started && !E.resume_hooked) {
		snprintf(reason, n, "cannot patch while goroutines run: %s", E.resume_why);
		pthread_mutex_unlock(&E.mu);
		return -ENOTSUP;
	}
	size_t before = tramp_bytes_used();
	size_t *idx = NULL, nh = 0;
	int rc = collect(specs, want, res, &idx, &nh, reason, n);
	if (rc == 0)
		rc = flip(idx, nh, want, res, reason, n);
	free(idx);
	res->tramp_bytes = tramp_bytes_used() - before;
	res->elapsed_ns = now_ns() - t0;
	pthread_mutex_unlock(&E.mu);
	return rc;
}

int hook_attach(const char *specs, struct hook_result *res, char *reason, size_t n)
{
	return change(specs, 1, res, reason, n);
}

int hook_detach(const char *specs, struct hook_result *res, char *reason, size_t n)
{
	return change(specs, 0, res, reason, n);
}

void hook_result_free(struct hook_result *res)
{
	free(res->skips);
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
		rec_counts((uint32_t)i, &c);
		out->entries += c.entries;
		out->calls += c.calls;
		out->abandoned += c.abandoned;
		found = 1;
	}
	pthread_mutex_unlock(&E.mu);
	return found ? 0 : -ENOENT;
}

/* Plans one of the runtime functions golat hooks for itself, vetted here rather than
 * by the name policy: runtime.exit (assembly: MOVL code+0(FP), DI; MOVL $231, AX;
 * SYSCALL), runtime.dieFromSignal (Go, on the signal stack) and runtime.asyncPreempt
 * (assembly). None of them is ever preempted or its window run by two paths. */
static int exit_hook_plan(const char *name, struct analyze_plan *plan, const struct gobin_func **fp,
			  char *reason, size_t n)
{
	const struct gobin_func *f = gobin_func_named(&E.gb, name);
	const uint8_t *code = f ? gobin_code(&E.gb, f) : NULL;
	if (!code) {
		snprintf(reason, n, "no %s in this program", name);
		return -ENOENT;
	}
	struct analyze_input in = {
		.name = f->name, .entry = f->entry, .end = f->end, .code = code, .flag = 0,
		.opts = ANALYZE_NO_NAME_POLICY, .read_ptr = read_ptr, .name_at = name_at, .ctx = &E.gb,
	};
	*fp = f;
	return analyze_func(&in, plan, reason, n);
}

/* Plans and builds the entry hook of one exit-path function (no return hooks). */
static int exit_hook(const char *name, uint32_t which, struct patch_write *w, size_t *nw,
		     char *reason, size_t n)
{
	struct analyze_plan plan;
	const struct gobin_func *f;
	int rc = exit_hook_plan(name, &plan, &f, reason, n);
	if (rc)
		return rc;
	if (plan.entry.ret || plan.entry.hop) {
		snprintf(reason, n, "%s has an unexpected shape", name);
		rc = -ENOTSUP;
	} else {
		rc = build_window(&plan.entry, true, PROCEXIT_ID + which, f, w, nw, reason, n);
	}
	analyze_plan_free(&plan);
	return rc;
}

int hook_exit_path(char *reason, size_t n)
{
	if (!E.ready) {
		snprintf(reason, n, "golat is not initialised");
		return -ENOEXEC;
	}
	struct patch_write w[4];
	size_t nw = 0, k = 0;
	pthread_mutex_lock(&E.mu);
	int rc = exit_hook("runtime.exit", TRAMP_PROCEXIT_EXIT, w, &nw, reason, n);
	char why[256];
	/* Without it, a program killed by SIGTERM leaves only its stats file. */
	if (rc == 0 && exit_hook("runtime.dieFromSignal", TRAMP_PROCEXIT_SIGNAL, w + nw, &k, why,
				 sizeof(why)) == 0)
		nw += k;
	else if (rc == 0)
		log_info("no report when killed by a signal: %s", why);
	if (rc == 0 && (rc = codemem_seal(&E.cm, reason, n)) == 0)
		rc = patch_apply(w, nw, NULL, reason, n);
	pthread_mutex_unlock(&E.mu);
	return rc;
}

void hook_runtime_started(void)
{
	E.runtime_started = 1;
}
