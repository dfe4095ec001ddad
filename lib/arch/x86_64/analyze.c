/* analyze: chooses a function's patch windows (see analyze.h for the plan and
 * DESIGN.md "Patching safely" for the rules). analyze_decode.c decodes; this file
 * grows the windows and hands out padding for hops.
 *
 * A window is a run of whole instructions [first, end) (indices into fn.ins):
 *  - it may hold a branch target only at its first instruction, because any other
 *    target would land in the middle of the jump written over it;
 *  - every instruction but a final ret must be one reloc can move;
 *  - an instruction that may fault on program data moves only if RSP there equals
 *    RSP at the entry: at the entry, when nothing before it in the window writes
 *    RSP; before a ret, when nothing between it and the ret writes RSP (a ret
 *    pops the return address its caller pushed, so RSP at a ret is RSP at entry).
 * Windows grow one instruction at a time until they reach 5 bytes, the entry
 * window forward from the entry, return windows backward from their ret. */
#include "analyze.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze_decode.h"
#include "analyze_redirect.h"
#include "analyze_tail.h"
#include "gobin.h"
#include "reloc.h"

#define JMP32 RELOC_JMP32_LEN
#define JMP8 RELOC_JMP8_LEN

/* Why a window stopped growing before 5 bytes. */
enum stop {
	STOP_NONE,
	STOP_TARGET,  /* ins[at] is a branch target and would be inside */
	STOP_REFUSED, /* ins[at] cannot be relocated */
	STOP_FAULT,   /* ins[at] may fault where RSP moved (ins[rsp] wrote it) */
	STOP_FLOOR,   /* ins[at] belongs to the entry window or ends the previous site */
	STOP_END,     /* the instructions ran out */
};

struct extent {
	uint32_t first, end; /* instructions [first, end) */
	uint32_t bytes;      /* their size */
	bool ret;            /* ends with a ret */
	enum stop stop;
	uint32_t at, rsp;
};

struct planner {
	struct fn *f;
	struct analyze_plan *plan;
	struct extent entry;
	struct pools pools; /* padding (its own, the previous function's) and dead nops */
	size_t redirs_cap; /* of plan->redirs */
};

/* The entry window: forward from the entry, through the first ret if it comes
 * before 5 bytes (a whole window). */
static void grow_entry(const struct fn *f, struct extent *e)
{
	int64_t wrsp = -1;
	*e = (struct extent){ 0 };
	uint32_t i = 0;
	while (e->bytes < JMP32) {
		const struct ins *in = i < f->nins ? &f->ins[i] : NULL;
		enum stop stop = STOP_NONE;
		if (!in)
			stop = STOP_END;
		else if (i > 0 && (in->flags & INS_TARGET))
			stop = STOP_TARGET;
		else if (in->flags & INS_RET)
			e->ret = true;
		else if (in->refusal)
			stop = STOP_REFUSED;
		else if ((in->flags & INS_FAULT) && wrsp >= 0)
			stop = STOP_FAULT;
		if (stop != STOP_NONE) {
			e->stop = stop;
			e->at = i;
			e->rsp = (uint32_t)wrsp;
			break;
		}
		if ((in->flags & INS_WRSP) && wrsp < 0)
			wrsp = i;
		e->bytes += in->len;
		i++;
		if (e->ret)
			break;
	}
	e->end = i;
}

/* The window of the ret at ins[r]: backward from it, not below ins[floor]. */
static void grow_site(const struct fn *f, uint32_t r, uint32_t floor, struct extent *e)
{
	int64_t wrsp = -1; /* the nearest instruction after the window's start writing RSP */
	*e = (struct extent){ .first = r, .end = r + 1, .bytes = f->ins[r].len, .ret = true };
	while (e->bytes < JMP32) {
		enum stop stop = STOP_NONE;
		uint32_t p = e->first - 1;
		if (f->ins[e->first].flags & INS_TARGET) {
			stop = STOP_TARGET;
			p = e->first;
		} else if (e->first == floor) {
			stop = STOP_FLOOR;
		} else if (f->ins[p].refusal) {
			stop = STOP_REFUSED;
		} else if ((f->ins[p].flags & INS_FAULT) && wrsp >= 0) {
			stop = STOP_FAULT;
		}
		if (stop != STOP_NONE) {
			e->stop = stop;
			e->at = p;
			e->rsp = (uint32_t)wrsp;
			break;
		}
		if (f->ins[p].flags & INS_WRSP)
			wrsp = p;
		e->first = p;
		e->bytes += f->ins[p].len;
	}
}

/* Can the entry window grow through the ret at ins[r] (a whole window)? Used when
 * that ret has no window of its own because the entry window is in its way. */
static bool grow_entry_through(const struct fn *f, struct extent *e, uint32_t r)
{
	bool wrsp = false;
	for (uint32_t i = 0; i < e->end; i++)
		wrsp |= (f->ins[i].flags & INS_WRSP) != 0;
	uint32_t bytes = e->bytes;
	for (uint32_t i = e->end; i < r; i++) {
		const struct ins *in = &f->ins[i];
		if ((in->flags & INS_TARGET) || in->refusal || ((in->flags & INS_FAULT) && wrsp))
			return false;
		wrsp |= (in->flags & INS_WRSP) != 0;
		bytes += in->len;
	}
	if (f->ins[r].flags & INS_TARGET)
		return false;
	e->end = r + 1;
	e->bytes = bytes + f->ins[r].len;
	e->ret = true;
	e->stop = STOP_NONE;
	return true;
}

/* Says why e stopped short, into buf. */
static void describe_stop(const struct fn *f, const struct extent *e, char *buf, size_t len)
{
	char what[160], rsp[160];
	if (e->stop == STOP_END || e->stop == STOP_NONE) {
		/* The entry window ran into the end, or ended with a ret. */
		snprintf(buf, len, "the code is %" PRIu32 " bytes up to %s", e->bytes,
			 e->ret ? "its ret" : "its end");
		return;
	}
	fn_describe(f, e->at, what, sizeof what);
	switch (e->stop) {
	case STOP_TARGET:
		snprintf(buf, len, "%s is a branch target", what);
		break;
	case STOP_REFUSED:
		snprintf(buf, len, "%s cannot be relocated: %s", what, f->ins[e->at].refusal);
		break;
	case STOP_FAULT:
		fn_describe(f, e->rsp, rsp, sizeof rsp);
		snprintf(buf, len, "%s may fault where RSP is not its value at entry (%s writes RSP)",
			 what, rsp);
		break;
	case STOP_FLOOR:
		snprintf(buf, len, "%s belongs to %s", what,
			 f->ins[e->at].flags & INS_RET ? "the previous return" : "the entry window");
		break;
	default:
		snprintf(buf, len, "?");
	}
}

static int fail_window(struct planner *pl, const struct extent *e, const char *site, const char *fallback)
{
	struct fn *f = pl->f;
	char why[400];
	describe_stop(f, e, why, sizeof why);
	snprintf(f->reason, f->reasonlen, "%s: %s has no 5-byte window (%s) and %s", f->name, site, why,
		 fallback);
	return e->stop == STOP_REFUSED || e->stop == STOP_FAULT ? -ENOTSUP : -ENOSPC;
}

static void set_window(const struct fn *f, const struct extent *e, struct analyze_window *w)
{
	*w = (struct analyze_window){
		.addr = f->in->entry + f->ins[e->first].off,
		.len = e->bytes,
		.code_len = e->bytes,
		.ret = e->ret,
	};
}

/* The window that ends with the function's last instruction, a ret, may take
 * padding to reach 5 bytes. It gets its bytes first, right after the body; hops
 * share what is left. Returns whether it borrows. */
static bool reserve_padding(struct planner *pl, const struct extent *e)
{
	const struct fn *f = pl->f;
	if (e->bytes >= JMP32 || !e->ret || e->end != f->nins)
		return false;
	uint32_t need = JMP32 - e->bytes;
	if (f->body_len + need > f->len)
		return false;
	pl->pools.v[POOL_OWN].lo = f->body_len + need;
	return true;
}

/* Gives a hop window its 5 padding bytes. Windows ask in address order, so the
 * earliest, farthest from the padding, gets the nearest slot. */
static int give_hop(struct planner *pl, const struct extent *e, struct analyze_window *w,
		    const char *site)
{
	const struct fn *f = pl->f;
	uint32_t at = f->ins[e->first].off;
	if (e->bytes < JMP8)
		return fail_window(pl, e, site, "is too short even for a 2-byte jump into padding");
	if (f->body_len == f->len)
		return fail_window(pl, e, site, "the function has no padding for a hop");
	struct pad *own = &pl->pools.v[POOL_OWN];
	if (own->lo + JMP32 > own->hi)
		return fail_window(pl, e, site, "no padding left for a hop");
	int64_t hop;
	if (!pad_take(own, at + JMP8, &hop))
		return fail_window(pl, e, site, "no padding within reach");
	w->hop = true;
	w->hop_addr = f->in->entry + (uint64_t)hop;
	return 0;
}

/* A return with no window: its ret alone (at ret, an address), replaced by an int3
 * that golat's SIGTRAP handler (sigown.h) turns into a jump to the trampoline. A
 * signal per call, but the function is timed, and the one byte written is an
 * instruction of its own: branches to the ret land on the int3. */
static void trap_window(uint64_t ret, struct analyze_window *w)
{
	*w = (struct analyze_window){ .addr = ret, .len = 1, .code_len = 1, .ret = true, .int3 = true };
}

static int finish(struct planner *pl, const struct extent *e, uint32_t floor, bool borrows,
		  struct analyze_window *w, const char *site)
{
	set_window(pl->f, e, w);
	if (e->bytes >= JMP32)
		return 0;
	if (borrows) {
		w->len = JMP32;
		return 0;
	}
	int rc = give_hop(pl, e, w, site);
	if (!rc || !e->ret || w == &pl->plan->entry || !(pl->f->in->opts & ANALYZE_SIGNALS_OWNED))
		return rc;
	/* Signals are golat's: steer the branches that cut the window, else an int3. */
	const struct fn *f = pl->f;
	pl->f->reason[0] = 0;
	pl->pools.off = 1u << POOL_PREV;
	rc = redirect_site(f, e->end - 1, floor, &pl->pools, pl->plan, &pl->redirs_cap, w);
	if (rc == -ENOMEM)
		return rc;
	if (rc)
		trap_window(f->in->entry + f->ins[e->end - 1].off, w);
	return 0;
}

/* The sites left with an int3 try again with the previous function's padding, once
 * every site has had its turn at its own: what a plan takes of its own padding must
 * not depend on its neighbour (analyze_input.prev_pad_lo), and from here on nothing
 * takes any of it. */
static int finish_with_prev(struct planner *pl, const struct extent *sites, size_t n)
{
	const struct fn *f = pl->f;
	pl->pools.off = 1u << POOL_OWN;
	for (size_t i = 0; i < n; i++) {
		struct analyze_window *w = &pl->plan->sites[i];
		if (!w->int3)
			continue;
		uint32_t floor = i ? sites[i - 1].end : pl->entry.end;
		int rc = redirect_site(f, sites[i].end - 1, floor, &pl->pools, pl->plan, &pl->redirs_cap, w);
		if (rc == -ENOMEM)
			return rc;
		if (rc)
			trap_window(f->in->entry + f->ins[sites[i].end - 1].off, w);
	}
	return 0;
}

/* A steered branch that another window would relocate: that site gets an int3. */
static void settle_conflicts(struct analyze_plan *plan)
{
	int64_t i;
	while ((i = redirect_conflict(plan)) >= 0) {
		struct analyze_window *w = &plan->sites[i];
		trap_window(w->addr + w->code_len - 1, w);
	}
}

/* The first ret after the entry window may find that window in its way, 5 bytes
 * not being there between them (`test rax,rax; jne L; ret`). Then the entry window
 * grows through it instead, unless padding already completes it. */
static bool merge_first_site(struct planner *pl, const struct extent *site)
{
	const struct fn *f = pl->f;
	if (pl->entry.ret || pl->entry.bytes < JMP32 || site->bytes >= JMP32 ||
	    site->stop != STOP_FLOOR || site->first != pl->entry.end)
		return false;
	if (site->end == f->nins && f->len - f->body_len >= JMP32 - site->bytes)
		return false;
	return grow_entry_through(f, &pl->entry, site->end - 1);
}

/* The sites still left with an int3 try a hop into another window's tail
 * (analyze_tail.c). plan->sites may have lost its first (redirect_whole): the site of
 * extent k is found by its ret. */
static void tail_hops(struct planner *pl, const struct extent *sites, size_t n)
{
	const struct fn *f = pl->f;
	struct analyze_plan *plan = pl->plan;
	for (size_t i = 0; i < plan->nsites; i++) {
		struct analyze_window *w = &plan->sites[i];
		for (size_t k = 0; w->int3 && k < n; k++)
			if (f->in->entry + f->ins[sites[k].end - 1].off == w->addr)
				tail_hop(f, plan, sites[k].first, sites[k].end, w);
	}
}

/* The sites still left with an int3 steer their branches through hops in another
 * window's tail (analyze_tail.c, tail_steer). */
static int tail_steers(struct planner *pl, const struct extent *sites, size_t n)
{
	const struct fn *f = pl->f;
	struct analyze_plan *plan = pl->plan;
	for (size_t i = 0; i < plan->nsites; i++) {
		struct analyze_window *w = &plan->sites[i];
		for (size_t k = 0; w->int3 && k < n; k++) {
			if (f->in->entry + f->ins[sites[k].end - 1].off != w->addr)
				continue;
			int rc = tail_steer(f, plan, sites[k].end - 1, k ? sites[k - 1].end : pl->entry.end,
					    &pl->redirs_cap, w);
			if (rc == -ENOMEM)
				return rc;
		}
	}
	return 0;
}

static int plan_windows(struct planner *pl, struct extent *sites)
{
	struct fn *f = pl->f;
	struct analyze_plan *plan = pl->plan;
	size_t n = 0;
	grow_entry(f, &pl->entry);
	uint32_t floor = pl->entry.end;
	for (uint32_t r = pl->entry.end; r < f->nins; r++) {
		if (!(f->ins[r].flags & INS_RET))
			continue;
		grow_site(f, r, floor, &sites[n]);
		floor = r + 1;
		if (n == 0 && merge_first_site(pl, &sites[0]))
			continue;
		n++;
	}
	bool borrows = reserve_padding(pl, n ? &sites[n - 1] : &pl->entry);
	int rc = finish(pl, &pl->entry, 0, borrows && n == 0, &plan->entry, "the entry");
	for (size_t i = 0; i < n && rc == 0; i++) {
		char site[64];
		snprintf(site, sizeof site, "return at +0x%" PRIx32, f->ins[sites[i].end - 1].off);
		uint32_t floor = i ? sites[i - 1].end : pl->entry.end;
		rc = finish(pl, &sites[i], floor, borrows && i == n - 1, &plan->sites[i], site);
		plan->nsites = i + 1;
	}
	if (rc == 0 && (f->in->opts & ANALYZE_SIGNALS_OWNED))
		rc = finish_with_prev(pl, sites, n);
	if (rc == 0 && plan->nredirs)
		settle_conflicts(plan);
	if (rc == 0 && (f->in->opts & ANALYZE_SIGNALS_OWNED))
		rc = redirect_twins(f, &pl->pools, plan, &pl->redirs_cap);
	if (rc == 0 && n && plan->sites[0].int3 && (f->in->opts & ANALYZE_SIGNALS_OWNED)) {
		pl->pools.off = 0;
		rc = redirect_whole(f, sites[0].end - 1, &pl->pools, plan, &pl->redirs_cap);
		if (rc == 0)
			memmove(plan->sites, plan->sites + 1, --plan->nsites * sizeof(*plan->sites));
		rc = rc == -ENOMEM ? rc : 0;
	}
	if (rc == 0 && (f->in->opts & ANALYZE_SIGNALS_OWNED)) {
		tail_hops(pl, sites, n);
		rc = tail_steers(pl, sites, n);
	}
	return rc;
}

/* A function without a ret, or with an exit that is not a ret. */
static int refuse_exit(const struct fn *f, uint32_t nrets)
{
	const struct analyze_input *in = f->in;
	uint32_t at = f->ins[f->exit_idx].off;
	const char *to = NULL;
	char addr[32];
	if (!f->exit_indirect) {
		to = in->name_at ? in->name_at(in->ctx, f->exit_to) : NULL;
		if (!to) {
			snprintf(addr, sizeof addr, "0x%" PRIx64, f->exit_to);
			to = addr;
		}
	}
	if (nrets == 0 && !f->exit_indirect) {
		const char *why = to != addr ? analyze_name_policy(to) : NULL;
		if (why)
			snprintf(f->reason, f->reasonlen, "%s: no return: ends in a tail jump to %s, which "
				 "golat refuses too (%s)", f->name, to, why);
		else
			snprintf(f->reason, f->reasonlen, "%s: no return: ends in a tail jump to %s; hook %s "
				 "instead", f->name, to, to);
		return -ENOENT;
	}
	if (nrets == 0) {
		snprintf(f->reason, f->reasonlen, "%s: no return: ends in an indirect tail call at +0x%" PRIx32
			 " (a method wrapper); hook the method it calls instead", f->name, at);
		return -ENOENT;
	}
	if (f->exit_indirect)
		snprintf(f->reason, f->reasonlen, "%s: leaves by an indirect tail call at +0x%" PRIx32
			 " besides returning: that exit would go untimed", f->name, at);
	else
		snprintf(f->reason, f->reasonlen, "%s: leaves by a tail jump at +0x%" PRIx32 " to %s besides "
			 "returning: that exit would go untimed", f->name, at, to);
	return -ENOTSUP;
}

static int refuse_by_flag_or_name(const struct analyze_input *in, const char *name, char *reason,
				  size_t reasonlen)
{
	const char *why = NULL;
	if (!(in->opts & ANALYZE_NO_NAME_POLICY))
		why = analyze_name_policy(in->name);
	/* funcFlag: internal/abi/symtab.go (runtime/symtab.go before 1.21). */
	if (!why && (in->flag & GOBIN_FLAG_ASM))
		why = "assembly function: it need not follow the Go ABI (g in R14, X15 zero, a frame "
		      "the unwinder knows)";
	if (!why && (in->flag & GOBIN_FLAG_SPWRITE))
		why = "writes SP beyond its frame (funcFlag_SPWRITE): it switches stacks";
	if (!why)
		return 0;
	snprintf(reason, reasonlen, "%s: %s", name, why);
	return -EPERM;
}

int analyze_func(const struct analyze_input *in, struct analyze_plan *plan, char *reason,
		 size_t reasonlen)
{
	const char *name = in->name ? in->name : "?";
	*plan = (struct analyze_plan){ 0 };
	int rc = refuse_by_flag_or_name(in, name, reason, reasonlen);
	if (rc)
		return rc;
	struct fn f;
	rc = fn_decode(&f, in, reason, reasonlen);
	if (rc)
		return rc;
	uint32_t nrets = 0;
	for (uint32_t i = 0; i < f.nins; i++)
		nrets += (f.ins[i].flags & INS_RET) != 0;
	if (f.exit_idx >= 0) {
		rc = refuse_exit(&f, nrets);
	} else if (nrets == 0) {
		snprintf(reason, reasonlen, "%s: never returns (no ret: it panics, exits or loops)", name);
		rc = -ENOENT;
	}
	struct planner pl = { .f = &f, .plan = plan };
	pl.pools.v[POOL_OWN] = (struct pad){ f.body_len, f.len, false };
	if (in->prev_pad_lo < in->prev_pad_hi && in->prev_pad_hi == in->entry)
		pl.pools.v[POOL_PREV] = (struct pad){ (int64_t)(in->prev_pad_lo - in->entry), 0, true };
	pl.pools.n = 2;
	if (in->opts & ANALYZE_SIGNALS_OWNED)
		dead_runs(&f, &pl.pools);
	if (rc == 0) {
		plan->sites = calloc(nrets, sizeof *plan->sites);
		if (!plan->sites) {
			snprintf(reason, reasonlen, "%s: out of memory", name);
			rc = -ENOMEM;
		}
	}
	struct extent *sites = NULL;
	if (rc == 0 && !(sites = calloc(nrets, sizeof *sites))) {
		snprintf(reason, reasonlen, "%s: out of memory", name);
		rc = -ENOMEM;
	}
	if (rc == 0)
		rc = plan_windows(&pl, sites);
	free(sites);
	plan->body_end = in->entry + f.body_len;
	plan->pad_end = in->entry + (uint64_t)pl.pools.v[POOL_OWN].lo;
	plan->ninsns = f.nins;
	plan->ntargets = f.ntargets;
	fn_free(&f);
	if (rc) {
		uint64_t body_end = plan->body_end;
		analyze_plan_free(plan);
		plan->body_end = plan->pad_end = body_end; /* nothing of its padding is used */
	}
	return rc;
}

void analyze_plan_free(struct analyze_plan *plan)
{
	free(plan->sites);
	free(plan->redirs);
	*plan = (struct analyze_plan){ 0 };
}
