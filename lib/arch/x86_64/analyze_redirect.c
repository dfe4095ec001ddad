/* analyze_redirect: a return window for a ret that has none, by steering branches.
 * Internal to analyze (analyze.c calls it before it falls back on an int3).
 *
 * A return window must hold no branch target past its first byte: the jump written
 * over it would cut the target in two. In Go code the targets that stop a window
 * are mostly the ret itself (a frameless leaf: `test rax,rax; jle L; lea rax,[...];
 * L: ret`) or an epilogue instruction that an early exit joins (`L: pop rbp; ret`
 * after a call). Each such target is reached by direct branches inside the function
 * (decode keeps them, analyze_decode.h struct edge). If every one of them can be
 * rewritten, the window may take the target in: each branch is steered to the
 * target's relocated copy in the window's trampoline, where it runs with the
 * registers and RSP it would have had at the original (the copy of instruction k
 * follows the copies of the ones before it, as the original does). A rel32 branch
 * gets a new displacement (a trampoline is within rel32 reach of the text); a rel8
 * one cannot reach a trampoline, so it goes through 5 bytes of the function's padding
 * holding a jmp rel32, shared by the branches to one target.
 *
 * Refused (the caller falls back on an int3): a target reached by a jump table or by
 * anything but jmp/jcc rel8/rel32 (INS_FIXED), a branch from inside the window itself
 * (reloc refuses a branch into its own window), a rel8 branch with no padding left in
 * its reach. A branch that another window would relocate is found afterwards, once
 * every window is known (redirect_conflict). */
#include "analyze_redirect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "reloc.h"

bool pad_take(struct pad *p, int64_t from_end, int64_t *at)
{
	if (p->hi - p->lo < RELOC_JMP32_LEN)
		return false;
	int64_t a = p->down ? p->hi - RELOC_JMP32_LEN : p->lo;
	if (a - from_end > INT8_MAX || a - from_end < INT8_MIN)
		return false;
	if (p->down)
		p->hi = a;
	else
		p->lo = a + RELOC_JMP32_LEN;
	*at = a;
	return true;
}

/* Whether control never falls through ins[i] into the next instruction: a ret or a
 * direct jmp (EB, E9). */
static bool no_fall_through(const struct fn *f, uint32_t i)
{
	uint8_t op = f->in->code[f->ins[i].off];
	return (f->ins[i].flags & INS_RET) || (op == 0xeb && f->ins[i].len == 2) ||
	       (op == 0xe9 && f->ins[i].len == 5);
}

/* Whether an instruction of window w depends on its address (RIP-relative memory, a branch: its bytes
 * would then mean another address at another place). */
static bool pc_relative(const struct fn *f, const struct analyze_window *w)
{
	int64_t i = fn_index_at(f, (uint32_t)(w->addr - f->in->entry));
	for (; i >= 0 && i < f->nins && f->ins[i].off < w->addr - f->in->entry + w->code_len; i++)
		if (f->ins[i].flags & INS_PCREL)
			return true;
	return false;
}

bool pools_take(struct pools *p, int64_t from_end, int64_t *at)
{
	if (pad_take(&p->self, from_end, at))
		return true;
	for (uint32_t i = 0; i < p->n; i++)
		if (!(p->off >> i & 1) && pad_take(&p->v[i], from_end, at))
			return true;
	return false;
}

void dead_runs(const struct fn *f, struct pools *p)
{
	int64_t lo = -1;
	for (uint32_t i = 1; i <= f->nins && p->n < POOLS_MAX; i++) {
		const struct ins *in = i < f->nins ? &f->ins[i] : NULL;
		bool dead = in && (in->flags & (INS_NOP | INS_TARGET)) == INS_NOP &&
			    (lo >= 0 || no_fall_through(f, i - 1));
		if (dead && lo < 0)
			lo = in->off;
		if (!dead && lo >= 0) {
			int64_t hi = in ? in->off : f->body_len;
			if (hi - lo >= RELOC_JMP32_LEN)
				p->v[p->n++] = (struct pad){ lo, hi, false };
			lo = -1;
		}
	}
}

static int push(struct analyze_plan *plan, size_t *cap, struct analyze_redirect r)
{
	if (array_grow(&plan->redirs, plan->nredirs, cap, sizeof(*plan->redirs), 8))
		return -ENOMEM;
	plan->redirs[plan->nredirs++] = r;
	return 0;
}

/* The first instruction of the window of the ret at ins[r], grown backward through
 * targets that can be steered, not below ins[floor], up to REDIRECT_GROW bytes (a
 * window of 10 or more has 5 bytes past its jump that nothing runs: a hop fits);
 * *bytes its size. */
static uint32_t grow(const struct fn *f, uint32_t r, uint32_t floor, uint32_t *bytes)
{
	uint32_t first = r;
	bool wrsp = false;
	*bytes = f->ins[r].len;
	while (*bytes < REDIRECT_GROW && first > floor) {
		const struct ins *p = &f->ins[first - 1];
		if ((f->ins[first].flags & INS_FIXED) || p->refusal || ((p->flags & INS_FAULT) && wrsp))
			break;
		wrsp |= (p->flags & INS_WRSP) != 0;
		first--;
		*bytes += p->len;
	}
	return first;
}

/* A return window of plan, written with a jump, whose instructions are the same bytes
 * as ins[t] up to the ret ins[r], within rel8 reach of the branch s: its trampoline
 * does what running [t, r] would (the bytes hold no position-dependent operand:
 * relocated alike, both end in the same ret with the same RSP). NULL when none. */
static const struct analyze_window *twin(const struct fn *f, const struct analyze_plan *plan, uint32_t t,
					 uint32_t r, const struct ins *s)
{
	uint64_t entry = f->in->entry;
	uint32_t len = f->ins[r].off + f->ins[r].len - f->ins[t].off;
	const uint8_t *code = f->in->code;
	for (size_t i = 0; i < plan->nsites; i++) {
		const struct analyze_window *w = &plan->sites[i];
		int64_t d = (int64_t)(w->addr - entry) - (int64_t)(s->off + s->len);
		if (w->int3 || w->len == 0 || w->code_len != len || d > INT8_MAX || d < INT8_MIN ||
		    w->addr == entry + f->ins[t].off || memcmp(code + (w->addr - entry), code + f->ins[t].off, len) ||
		    pc_relative(f, w))
			continue;
		return w;
	}
	return NULL;
}

/* Makes the return window w of an earlier site start after ins[s], a branch that must
 * be steered and that w would otherwise carry into its trampoline unsteered: [s + 1,
 * its ret], through a hop when under 5 bytes. Only a window that steers nothing
 * itself and has no int3. 0, or -ENOSPC with w unchanged. */
static int shrink(const struct fn *f, struct analyze_window *w, uint32_t s, struct pools *pools)
{
	uint64_t entry = f->in->entry;
	int64_t r = w->len ? fn_index_at(f, (uint32_t)(w->addr + w->code_len - 1 - entry)) : -1;
	if (r < 0 || w->int3 || w->nredir || pools->share || !(f->ins[r].flags & INS_RET) || s + 1 > (uint32_t)r ||
	    pools->nundo == sizeof(pools->undo) / sizeof(pools->undo[0]))
		return -ENOSPC;
	uint32_t off = f->ins[s + 1].off, bytes = f->ins[r].off + f->ins[r].len - off;
	struct analyze_window n = { .addr = entry + off, .len = bytes, .code_len = bytes, .ret = true };
	int64_t hop = 0;
	if (bytes < RELOC_JMP8_LEN)
		return -ENOSPC;
	if (bytes < RELOC_JMP32_LEN) {
		if (!pools_take(pools, off + RELOC_JMP8_LEN, &hop))
			return -ENOSPC;
		n.hop = true;
		n.hop_addr = entry + (uint64_t)hop;
	}
	pools->undo[pools->nundo].w = w;
	pools->undo[pools->nundo++].was = *w;
	*w = n;
	return 0;
}

/* The earlier site window of plan that holds ins[s], or NULL. */
static struct analyze_window *holder(const struct fn *f, struct analyze_plan *plan, uint32_t s, uint64_t before)
{
	uint64_t at = f->in->entry + f->ins[s].off;
	for (size_t i = 0; i < plan->nsites; i++) {
		struct analyze_window *w = &plan->sites[i];
		if (w->addr < before && at >= w->addr && at < w->addr + w->len)
			return w;
	}
	return NULL;
}

/* Steers the branches into ins[t] (inside the window [first, end)) to its copy. */
static int steer(const struct fn *f, uint32_t t, uint32_t first, uint32_t end, struct pools *pools,
		 struct analyze_plan *plan, size_t *cap)
{
	uint64_t entry = f->in->entry;
	int64_t hop = 0;
	bool have = false;
	uint32_t n;
	const struct edge *e = fn_sources(f, t, &n);
	for (uint32_t k = 0; k < n; k++) {
		const struct ins *s = &f->ins[e[k].from];
		if (e[k].from >= first && e[k].from < end)
			return -EINVAL;
		struct analyze_window *h = holder(f, plan, e[k].from, entry + f->ins[first].off);
		if (h && shrink(f, h, e[k].from, pools) != 0)
			return -EINVAL;
		struct analyze_redirect r = { .from = entry + s->off, .from_len = s->len,
					      .to = entry + f->ins[t].off };
		if (s->len == RELOC_JMP8_LEN) {
			if (!have)
				have = pools_take(pools, s->off + s->len, &hop);
			int64_t d = hop - (int64_t)(s->off + s->len);
			r.hop_addr = entry + (uint64_t)hop;
			if (!have || d > INT8_MAX || d < INT8_MIN) {
				const struct analyze_window *w = pools->share ? twin(f, plan, t, end - 1, s) : NULL;
				if (!w)
					return -ENOSPC;
				r.hop_addr = w->addr;
				r.shared = true;
			}
		}
		int rc = push(plan, cap, r);
		if (rc)
			return rc;
	}
	return 0;
}


/* The window [first, r] (bytes long; 0: nothing written, every target in it steered),
 * its hop and its targets' branches, from pools. 0 or -errno, nothing kept on
 * failure. */
static int try_window(const struct fn *f, uint32_t first, uint32_t r, uint32_t bytes, struct pools *pools,
		      struct analyze_plan *plan, size_t *cap, struct analyze_window *w)
{
	struct pools pools0 = *pools;
	size_t n0 = plan->nredirs;
	int rc = 0;
	pools->nundo = 0;
	*w = (struct analyze_window){ .addr = f->in->entry + f->ins[first].off, .len = bytes,
				      .code_len = f->ins[r].off + f->ins[r].len - f->ins[first].off,
				      .ret = true, .redir = (uint32_t)n0 };
	for (uint32_t t = first; !bytes && t <= r; t++)
		if (f->ins[t].flags & INS_FIXED)
			return -EINVAL;
	if (bytes >= 2 * RELOC_JMP32_LEN)
		pools->self = (struct pad){ f->ins[first].off + RELOC_JMP32_LEN, f->ins[first].off + bytes, false };
	if (bytes && bytes < RELOC_JMP32_LEN) {
		int64_t hop = 0;
		w->hop = pools_take(pools, f->ins[first].off + RELOC_JMP8_LEN, &hop);
		w->hop_addr = f->in->entry + (uint64_t)hop;
		rc = w->hop ? 0 : -ENOSPC;
	}
	for (uint32_t t = bytes ? first + 1 : first; rc == 0 && t <= r; t++)
		if (f->ins[t].flags & INS_TARGET)
			rc = steer(f, t, first, r + 1, pools, plan, cap);
	if (rc) {
		while (pools->nundo)
			*pools->undo[pools->nundo - 1].w = pools->undo[pools->nundo - 1].was, pools->nundo--;
		*pools = pools0;
		plan->nredirs = n0;
		return rc;
	}
	pools->self = (struct pad){ 0 };
	w->nredir = (uint32_t)(plan->nredirs - n0);
	return 0;
}

int redirect_site(const struct fn *f, uint32_t r, uint32_t floor, struct pools *pools,
		  struct analyze_plan *plan, size_t *cap, struct analyze_window *w)
{
	uint32_t bytes, low = grow(f, r, floor, &bytes);
	/* The shortest window first: each instruction it takes in may be one more target
	 * to steer, or a branch that may then not be steered (it would be inside). */
	int rc = -ENOSPC;
	bytes = f->ins[r].len;
	for (uint32_t first = r; first + 1 > low && rc != 0 && rc != -ENOMEM; first--) {
		if (first < r)
			bytes += f->ins[first].len;
		if (bytes >= RELOC_JMP8_LEN)
			rc = try_window(f, first, r, bytes, pools, plan, cap, w);
		if (first == 0)
			break;
	}
	if (rc == 0 || rc == -ENOMEM)
		return rc;
	/* Only branches reach the code from ins[z] to this ret (what comes before z does
	 * not fall through): steered, they leave it unused, and nothing is written
	 * over it (len 0). Its trampoline holds the copy, the exit stub and a ret. */
	uint32_t z = r, span = f->ins[r].len;
	while (z > floor && z > 0 && !no_fall_through(f, z - 1) && !f->ins[z - 1].refusal &&
	       r - z + 1 < REDIRECT_WHOLE_INSNS && span + f->ins[z - 1].len <= ANALYZE_MAX_WHOLE)
		span += f->ins[--z].len;
	if (z > 0 && z >= floor && no_fall_through(f, z - 1) && (f->ins[z].flags & INS_TARGET))
		rc = try_window(f, z, r, 0, pools, plan, cap, w);
	return rc;
}

/* Whether [a, a + alen) and [b, b + blen) share a byte. */
static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static bool in_window(const struct analyze_window *w, uint64_t at, uint32_t len)
{
	return overlap(w->addr, w->len, at, len) || (w->hop && overlap(w->hop_addr, RELOC_JMP32_LEN, at, len));
}

int64_t redirect_conflict(const struct analyze_plan *plan)
{
	for (size_t i = 0; i < plan->nsites; i++) {
		const struct analyze_window *w = &plan->sites[i];
		for (uint32_t k = w->redir; k < w->redir + w->nredir; k++) {
			const struct analyze_redirect *r = &plan->redirs[k];
			bool bad = in_window(&plan->entry, r->from, r->from_len);
			for (size_t j = 0; !bad && j < plan->nsites; j++)
				bad = in_window(&plan->sites[j], r->from, r->from_len);
			if (bad)
				return (int64_t)i;
		}
	}
	return -1;
}

/* Whether a steered branch, redirs[k] for k in [from, to), lies in w. */
static bool steered_in(const struct analyze_plan *plan, size_t from, size_t to, const struct analyze_window *w)
{
	for (size_t k = from; k < to; k++)
		if (in_window(w, plan->redirs[k].from, plan->redirs[k].from_len))
			return true;
	return false;
}

int redirect_whole(const struct fn *f, uint32_t r, struct pools *pools, struct analyze_plan *plan,
		   size_t *cap)
{
	const struct analyze_window *e = &plan->entry;
	if (e->ret || e->hop || e->len != e->code_len || r + 1 > REDIRECT_WHOLE_INSNS)
		return -ENOSPC;
	uint32_t bytes = 0;
	bool wrsp = false;
	for (uint32_t i = 0; i <= r; i++) {
		const struct ins *in = &f->ins[i];
		if ((i > 0 && (in->flags & INS_FIXED)) || (i < r && in->refusal) ||
		    ((in->flags & INS_FAULT) && wrsp))
			return -ENOSPC;
		wrsp |= (in->flags & INS_WRSP) != 0;
		bytes += in->len;
	}
	if (bytes > ANALYZE_MAX_WHOLE)
		return -ENOSPC;
	struct analyze_window w = { .addr = f->in->entry, .len = bytes, .code_len = bytes, .ret = true,
				    .redir = (uint32_t)plan->nredirs };
	/* The bytes past the jump written at the entry are never run again: the first
	 * pool for the rel8 branches' jumps, nearest to them. Not the function's own
	 * padding: whether this runs depends on the previous function's (the first site
	 * may have found a window there), and what a plan takes of its own padding must
	 * not (analyze_plan.pad_end). */
	struct pools p = *pools;
	if (p.n == POOLS_MAX)
		p.n--;
	memmove(p.v + 1, p.v, p.n * sizeof(p.v[0]));
	p.v[0] = (struct pad){ RELOC_JMP32_LEN, bytes, false };
	p.n++;
	p.off = (pools->off | 1u << POOL_OWN) << 1;
	size_t n0 = plan->nredirs;
	int rc = 0;
	for (uint32_t t = 1; rc == 0 && t <= r; t++)
		if (f->ins[t].flags & INS_TARGET)
			rc = steer(f, t, 0, r + 1, &p, plan, cap);
	/* Branches steered here must not be in later windows, nor others' in this one. */
	for (size_t i = 1; rc == 0 && i < plan->nsites; i++)
		if (steered_in(plan, n0, plan->nredirs, &plan->sites[i]))
			rc = -EINVAL;
	if (rc == 0 && steered_in(plan, 0, n0, &w))
		rc = -EINVAL;
	if (rc) {
		plan->nredirs = n0;
		return rc;
	}
	w.nredir = (uint32_t)(plan->nredirs - n0);
	plan->entry = w;
	memcpy(pools->v, p.v + 1, pools->n * sizeof(p.v[0]));
	return 0;
}

int redirect_twins(const struct fn *f, struct pools *pools, struct analyze_plan *plan, size_t *cap)
{
	uint64_t entry = f->in->entry;
	for (size_t i = 0; i < plan->nsites; i++) {
		struct analyze_window *w = &plan->sites[i], was = *w;
		if (!w->int3)
			continue;
		/* Not below the window before it (the entry's, or the previous site's). */
		const struct analyze_window *prev = i ? &plan->sites[i - 1] : &plan->entry;
		int64_t r = fn_index_at(f, (uint32_t)(w->addr - entry));
		int64_t floor = fn_index_at(f, (uint32_t)(prev->addr + prev->code_len - entry));
		if (r < 0 || floor < 0)
			continue;
		struct pools p0 = *pools;
		size_t n0 = plan->nredirs;
		pools->off = 1u << POOL_OWN;
		pools->share = true;
		int rc = redirect_site(f, (uint32_t)r, (uint32_t)floor, pools, plan, cap, w);
		pools->share = false;
		if (rc == -ENOMEM)
			return rc;
		if (rc || redirect_conflict(plan) >= 0) {
			*w = was;
			*pools = p0;
			plan->nredirs = n0;
		}
	}
	return 0;
}
