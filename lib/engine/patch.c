/* patch: write bytes into live code with the world stopped (protocol in patch.h).
 *
 * Everything that allocates or formats runs before the stop or after the resume;
 * between them only memcmp/memcpy on the windows and mprotect system calls run, and
 * what went wrong is recorded in struct patch_plan to be worded afterwards. */
#define _GNU_SOURCE
#include "patch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"
#include "proc.h"
#include "stw.h"

#define PATCH_BACKOFF_US_MAX 10000
/* Stops that time out before giving up: on two loaded cores a thread that is inside a
 * signal handler (signals blocked) may wait long for a CPU; six stops of 200 ms give it
 * more than a second before golat says which thread blocks the stop signal. */
#define PATCH_STOP_RETRIES 6

/* Pages made writable together: one mprotect each way. */
struct patch_span {
	uint64_t lo, hi; /* page aligned */
	int prot;        /* exact protection before the patch, the same on all of it */
};

enum patch_fail { PATCH_OK, PATCH_UNDER_THREAD, PATCH_IN_AVOID, PATCH_PROTECT, PATCH_RESTORE,
		  PATCH_STALE };

struct patch_plan {
	struct patch_write *w;
	size_t n;
	size_t *order; /* indexes of w by address */
	struct patch_span *spans; /* sorted, disjoint */
	size_t nspans, changed;   /* changed: pages made writable */
	const struct patch_opts *o;
	bool revert;
	/* the last failure, worded after the resume */
	enum patch_fail fail;
	int fail_errno, fail_tid;
	uint64_t fail_pc, fail_addr;
};

static uint64_t patch_page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t patch_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- before the stop: validate, sort, learn the protections ---------------------- */

static int patch_cmp_order(const void *a, const void *b, void *ctx)
{
	const struct patch_write *w = ctx;
	uint64_t x = w[*(const size_t *)a].addr, y = w[*(const size_t *)b].addr;
	return x < y ? -1 : x > y;
}

static int patch_cmp_span(const void *a, const void *b)
{
	uint64_t x = ((const struct patch_span *)a)->lo, y = ((const struct patch_span *)b)->lo;
	return x < y ? -1 : x > y;
}

static int patch_sort(struct patch_plan *p, char *reason, size_t rn)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct patch_write *w = &p->w[i];
		if (w->len == 0 || w->len > PATCH_MAX_LEN || w->addr + w->len < w->addr) {
			snprintf(reason, rn, "bad window at 0x%llx: %u bytes",
				 (unsigned long long)w->addr, w->len);
			return -EINVAL;
		}
		p->order[i] = i;
	}
	qsort_r(p->order, p->n, sizeof *p->order, patch_cmp_order, p->w);
	for (size_t i = 1; i < p->n; i++) {
		const struct patch_write *a = &p->w[p->order[i - 1]], *b = &p->w[p->order[i]];
		if (a->addr + a->len > b->addr) {
			snprintf(reason, rn, "windows at 0x%llx and 0x%llx overlap",
				 (unsigned long long)a->addr, (unsigned long long)b->addr);
			return -EINVAL;
		}
	}
	return 0;
}

/* True when [lo, hi) is mapped without a hole, all of it with protection prot. */
static bool patch_uniform(const struct proc_vma *v, size_t nv, uint64_t lo, uint64_t hi,
			  int prot)
{
	for (const struct proc_vma *m = proc_vma_find(v, nv, lo); m; m++) {
		if (m->prot != prot)
			return false;
		if (m->hi >= hi)
			return true;
		if (m + 1 == v + nv || m[1].lo != m->hi)
			return false;
	}
	return false;
}

/* The pages touched, with their protection from /proc/self/maps, merged into spans:
 * two pages go in one span when everything between them is mapped with the same
 * protection. Why not page by page: a private file mapping made writable is charged
 * (VM_ACCOUNT) and gets its own anon_vma, so each page changed alone would stay a
 * mapping of its own after the restore; hooking thousands of functions would leave
 * thousands of mappings (vm.max_map_count is 65530). Spans leave a handful, and two
 * mprotect calls for a text of any size. */
static int patch_spans(struct patch_plan *p, char *reason, size_t rn)
{
	uint64_t page = patch_page_size(), mask = ~(page - 1);
	size_t k = 0;
	for (size_t i = 0; i < p->n; i++) {
		uint64_t first = p->w[i].addr & mask, last = (p->w[i].addr + p->w[i].len - 1) & mask;
		p->spans[k++] = (struct patch_span){ first, first + page, 0 };
		if (last != first)
			p->spans[k++] = (struct patch_span){ last, last + page, 0 };
	}
	qsort(p->spans, k, sizeof *p->spans, patch_cmp_span);

	struct proc_vma *v;
	size_t nv, m = 0;
	int err = proc_maps(&v, &nv, reason, rn);
	if (err)
		return err;
	for (size_t i = 0; i < k; i++) {
		struct patch_span sp = p->spans[i], *prev = m ? &p->spans[m - 1] : NULL;
		const struct proc_vma *vma = proc_vma_find(v, nv, sp.lo);
		if (!vma) {
			snprintf(reason, rn, "0x%llx is not mapped", (unsigned long long)sp.lo);
			free(v);
			return -EFAULT;
		}
		sp.prot = vma->prot;
		if (prev && prev->prot == sp.prot && patch_uniform(v, nv, prev->lo, sp.hi, sp.prot))
			prev->hi = sp.hi > prev->hi ? sp.hi : prev->hi;
		else
			p->spans[m++] = sp;
	}
	p->nspans = m;
	free(v);
	return 0;
}

/* ---- with the world stopped: no malloc, no stdio ---------------------------------- */

/* mprotect through syscall(), whose PLT slot stw has bound before the stop (stw_warm),
 * and byte loops instead of memcpy/memcmp, for the same reason: nothing between stop
 * and resume may enter the dynamic linker. Volatile also keeps the compiler from
 * turning the loops back into library calls. */
static int patch_mprotect(uint64_t addr, uint64_t len, int prot)
{
	return syscall(SYS_mprotect, (void *)(uintptr_t)addr, len, prot) == 0 ? 0 : errno;
}

static void patch_copy(volatile uint8_t *dst, const volatile uint8_t *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = src[i];
}

static bool patch_same(const volatile uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* The window containing pc, by binary search over the sorted windows, or NULL. */
static const struct patch_write *patch_window_at(const struct patch_plan *p, uint64_t pc)
{
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->w[p->order[mid]].addr <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct patch_write *w = &p->w[p->order[lo - 1]];
	return pc < w->addr + w->len ? w : NULL;
}

/* True when a frozen thread is in the way; records which. */
static bool patch_conflict(struct patch_plan *p, const struct stw *s)
{
	int tid;
	uint64_t pc;
	for (size_t i = 0; stw_thread(s, i, &tid, &pc, NULL); i++) {
		const struct patch_write *w = patch_window_at(p, pc);
		if (w && !(p->o->start_ok && pc == w->addr)) {
			p->fail = PATCH_UNDER_THREAD;
			p->fail_tid = tid;
			p->fail_pc = pc;
			p->fail_addr = w->addr;
			return true;
		}
		for (size_t j = 0; j < p->o->navoid; j++) {
			if (pc >= p->o->avoid[j].lo && pc < p->o->avoid[j].hi) {
				p->fail = PATCH_IN_AVOID;
				p->fail_tid = tid;
				p->fail_pc = pc;
				p->fail_addr = p->o->avoid[j].lo;
				return true;
			}
		}
	}
	return false;
}

/* Gives spans [0, upto) their original protection back. Returns 0 or an errno. */
static int patch_restore(struct patch_plan *p, size_t upto)
{
	int first_err = 0;
	for (size_t i = 0; i < upto; i++) {
		const struct patch_span *sp = &p->spans[i];
		if (sp->prot & PROT_WRITE)
			continue;
		int e = patch_mprotect(sp->lo, sp->hi - sp->lo, sp->prot);
		if (e && !first_err) {
			first_err = e;
			p->fail_addr = sp->lo;
		}
	}
	return first_err;
}

/* Makes every span writable, keeping it executable (this thread may be running code
 * in it). On failure the spans already changed get their protection back. */
static int patch_unprotect(struct patch_plan *p)
{
	p->changed = 0;
	for (size_t i = 0; i < p->nspans; i++) {
		const struct patch_span *sp = &p->spans[i];
		if (sp->prot & PROT_WRITE)
			continue;
		int e = patch_mprotect(sp->lo, sp->hi - sp->lo, PROT_READ | PROT_WRITE | PROT_EXEC);
		if (e) {
			p->fail = PATCH_PROTECT;
			p->fail_errno = e;
			p->fail_addr = sp->lo;
			patch_restore(p, i);
			return -e;
		}
		p->changed += (sp->hi - sp->lo) / patch_page_size();
	}
	return 0;
}

/* Steps 4 to 6 of the protocol. */
static int patch_write_frozen(struct patch_plan *p)
{
	int err = patch_unprotect(p);
	if (err)
		return err;
	for (size_t i = 0; p->revert && i < p->n; i++) {
		const struct patch_write *w = &p->w[i];
		if (!patch_same((const volatile uint8_t *)(uintptr_t)w->addr, w->bytes, w->len)) {
			p->fail = PATCH_STALE;
			p->fail_addr = w->addr;
			patch_restore(p, p->nspans);
			return -ESTALE;
		}
	}
	for (size_t i = 0; i < p->n; i++) {
		struct patch_write *w = &p->w[i];
		volatile uint8_t *at = (volatile uint8_t *)(uintptr_t)w->addr;
		if (p->revert) {
			patch_copy(at, w->saved, w->len);
		} else {
			patch_copy(w->saved, at, w->len);
			patch_copy(at, w->bytes, w->len);
		}
		arch_code_written(w->addr, w->len); /* x86-64: nothing; see arch.h */
	}
	int e = patch_restore(p, p->nspans);
	if (e) {
		p->fail = PATCH_RESTORE;
		p->fail_errno = e;
		return -ENOTRECOVERABLE;
	}
	return 0;
}

/* ---- the protocol --------------------------------------------------------------- */

static void patch_reason(const struct patch_plan *p, unsigned attempts, char *reason, size_t rn)
{
	unsigned long long pc = p->fail_pc, addr = p->fail_addr;
	switch (p->fail) {
	case PATCH_UNDER_THREAD:
		snprintf(reason, rn, "thread %d stays at 0x%llx, inside the window at 0x%llx (+%llu), "
			 "after %u attempts", p->fail_tid, pc, addr, pc - addr, attempts);
		break;
	case PATCH_IN_AVOID:
		snprintf(reason, rn, "thread %d stays at 0x%llx, inside the range at 0x%llx that must "
			 "not run during the patch, after %u attempts", p->fail_tid, pc, addr, attempts);
		break;
	case PATCH_PROTECT:
		snprintf(reason, rn, "cannot make the page at 0x%llx writable: %s", addr,
			 strerror(p->fail_errno));
		break;
	case PATCH_RESTORE:
		snprintf(reason, rn, "bytes written, but the protection of the page at 0x%llx could "
			 "not be restored (it stays writable): %s", addr, strerror(p->fail_errno));
		break;
	case PATCH_STALE:
		snprintf(reason, rn, "0x%llx changed since it was patched", addr);
		break;
	case PATCH_OK:
		break;
	}
}

static void patch_backoff(unsigned *us)
{
	struct timespec ts = { 0, (long)*us * 1000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	*us = *us * 2 > PATCH_BACKOFF_US_MAX ? PATCH_BACKOFF_US_MAX : *us * 2;
}

/* Stops, checks, writes, resumes; again while a thread is in the way. */
static int patch_attempts(struct patch_plan *p, char *reason, size_t rn)
{
	const struct patch_opts *o = p->o;
	unsigned max = o->attempts ? o->attempts : PATCH_ATTEMPTS_DEFAULT;
	unsigned us = o->backoff_us ? o->backoff_us : PATCH_BACKOFF_US_DEFAULT;
	unsigned timeouts = 0;
	for (unsigned attempt = 1;; attempt++) {
		struct stw s = { .timeout_ms = o->timeout_ms };
		int err = stw_stop(&s, reason, rn);
		if (err == -ETIMEDOUT && ++timeouts < PATCH_STOP_RETRIES && attempt < max) {
			patch_backoff(&us);
			continue;
		}
		if (err)
			return err;
		uint64_t t0 = patch_now_ns();
		if (patch_conflict(p, &s)) {
			stw_resume(&s);
			if (attempt >= max) {
				patch_reason(p, attempt, reason, rn);
				return -EBUSY;
			}
			patch_backoff(&us);
			continue;
		}
		size_t threads = stw_count(&s);
		err = patch_write_frozen(p);
		stw_resume(&s);
		uint64_t t1 = patch_now_ns();
		if (err) {
			patch_reason(p, attempt, reason, rn);
			return err;
		}
		if (o->stats)
			*o->stats = (struct patch_stats){ .attempts = attempt, .threads = threads,
							  .pages = p->changed, .stopped_ns = t1 - t0 };
		return 0;
	}
}

static int patch_run(struct patch_write *w, size_t n, const struct patch_opts *opts, bool revert,
		     char *reason, size_t rn)
{
	static const struct patch_opts none;
	struct patch_plan p = { .w = w, .n = n, .o = opts ? opts : &none, .revert = revert };
	if (n == 0)
		return 0;
	p.order = malloc(n * sizeof *p.order);
	p.spans = malloc(2 * n * sizeof *p.spans);
	int err = -ENOMEM;
	if (!p.order || !p.spans)
		snprintf(reason, rn, "out of memory for %zu windows", n);
	else if ((err = patch_sort(&p, reason, rn)) == 0 && (err = patch_spans(&p, reason, rn)) == 0)
		err = patch_attempts(&p, reason, rn);
	free(p.order);
	free(p.spans);
	return err;
}

int patch_apply(struct patch_write *w, size_t n, const struct patch_opts *opts, char *reason,
		size_t rn)
{
	return patch_run(w, n, opts, false, reason, rn);
}

int patch_revert(struct patch_write *w, size_t n, const struct patch_opts *opts, char *reason,
		 size_t rn)
{
	return patch_run(w, n, opts, true, reason, rn);
}
