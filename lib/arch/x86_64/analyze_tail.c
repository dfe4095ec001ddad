/* analyze_tail: the last try before an int3. A return whose window is 2 to 4 bytes
 * (`L: xor eax,eax; pop rbp; ret`, `L: add rax,rbx; ret`, the ret a branch target or
 * the instruction before it) and finds no padding in rel8 reach, neither its own nor
 * the previous function's, may still hop if another window of the same plan, the
 * entry's or a return's, can grow to 10 bytes: its jmp rel32 covers the first 5, and
 * the 5 after it, which nothing enters any more (no branch targets a window past its
 * first byte), hold the hop's jmp rel32 to the int3 site's trampoline. Seen in Go 1.21+
 * code that ends in clusters of short exits (strconv.IsPrint, unicode.is32, the
 * compiler's type:.eq.* functions, protobuf's sizeVarint*).
 *
 * Why the hop sits right at the window's sixth byte: the patcher refuses to write
 * under a thread stopped inside a write (patch.h), and the window's jump and the hop
 * are two writes, [addr, addr + 5) and [addr + 5, addr + 10). Any instruction boundary
 * from addr + 1 to addr + 9 lies inside one of them, so no thread can be left to run
 * the original instructions into the hop. One past the hop, a thread goes on in the
 * original code as past any longer window's jump. Both writes belong to one function,
 * which golat writes and takes out in one batch (hook.c).
 *
 * The window grows by the rules that made it (analyze.c): whole instructions that
 * reloc can move, no branch target past its first byte, no ret or tail jump inside,
 * nothing that may fault where RSP has moved, and no byte that any other write of the
 * plan (a window, a hop, a steered branch) uses. A window that steers branches, hops,
 * borrows padding or is a twin's hop target keeps its shape. A thread on the hop's
 * jmp stands for the site's first byte (window.c registers every hop,
 * sigown_add_jump).
 *
 * Tried first: a twin. When another return window in rel8 reach, written with a jump,
 * holds the same instructions (nops aside) and nothing position-dependent, the site's
 * jmp rel8 goes to that window's first byte and nothing else is written: its
 * trampoline does the same work (go1.27's unicode.is32 ends in three `xor eax,eax;
 * pop rbp; ret`). A thread that took the jmp stands at the twin's first byte, a state
 * the same code gives at the same RSP; the site keeps its own trampoline for
 * goroutines that resume inside its bytes (window.c, map_resume).
 *
 * The same tail also holds the hops of steered branches (tail_steer): a ret that only
 * rel8 branches reach, with no padding in their reach, gets the window that
 * analyze_redirect.c would give it (redirect_site), its hop and its branches' hop cut
 * from the bytes past another window's jump, grown to 10 bytes or more (go1.27's
 * math.ldexp: `jnp L; ret` reached by a ja and a jne, its two hops in its entry window
 * grown to 15 bytes). Written as tail_hop's: the window's jump, and each hop a write of
 * its own, in one batch. The host keeps its shape: a plan that would shrink it (a branch
 * in it steered) is dropped. A window that steers rel32 branches may be a host: they are
 * rewritten in place, to copies of targets that stay in it. */
#include "analyze_tail.h"

#include <errno.h>
#include <string.h>

#include "reloc.h"

#define TAIL_WINDOW (2 * RELOC_JMP32_LEN)

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Whether [at, at + len) touches a byte any write of plan uses, or the code any window
 * runs, but skip's. */
static bool taken(const struct analyze_plan *plan, const struct analyze_window *skip, uint64_t at,
		  uint64_t len)
{
	for (size_t i = 0; i <= plan->nsites; i++) {
		const struct analyze_window *w = i ? &plan->sites[i - 1] : &plan->entry;
		if (w == skip)
			continue;
		uint32_t span = w->len > w->code_len ? w->len : w->code_len;
		if (overlap(at, len, w->addr, span) || (w->hop && overlap(at, len, w->hop_addr, RELOC_JMP32_LEN)))
			return true;
	}
	for (size_t i = 0; i < plan->nredirs; i++) {
		const struct analyze_redirect *r = &plan->redirs[i];
		if (overlap(at, len, r->from, r->from_len) ||
		    (r->hop_addr && overlap(at, len, r->hop_addr, RELOC_JMP32_LEN)) ||
		    (r->shared && r->hop_addr == skip->addr))
			return true;
	}
	return false;
}

/* Whether window w may grow at all: a plain jmp rel32 over its own instructions. The
 * branches it steers may be rel32 ones (rewritten in place to their targets' copies,
 * which stay in it), not rel8 ones, whose hops may lie in its own bytes. */
static bool plain(const struct analyze_plan *plan, const struct analyze_window *w)
{
	for (uint32_t k = w->redir; k < w->redir + w->nredir; k++)
		if (plan->redirs[k].hop_addr)
			return false;
	return !w->hop && !w->int3 && w->len == w->code_len && w->len >= RELOC_JMP32_LEN;
}

/* Whether any of ins[from, to) writes RSP. */
static bool writes_rsp(const struct fn *f, uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++)
		if (f->ins[i].flags & INS_WRSP)
			return true;
	return false;
}

/* The entry window w grown forward to TAIL_WINDOW bytes: its new code_len, or 0. */
static uint32_t grow_forward(const struct fn *f, const struct analyze_plan *plan, const struct analyze_window *w)
{
	int64_t i = fn_index_at(f, (uint32_t)(w->addr + w->code_len - f->in->entry));
	if (i < 0)
		return 0;
	bool wrsp = writes_rsp(f, 0, (uint32_t)i);
	uint32_t bytes = w->code_len;
	for (; bytes < TAIL_WINDOW; i++) {
		if (i >= f->nins)
			return 0;
		const struct ins *in = &f->ins[i];
		if ((in->flags & (INS_TARGET | INS_RET | INS_EXIT)) || in->refusal ||
		    ((in->flags & INS_FAULT) && wrsp) || bytes + in->len > ANALYZE_MAX_CODE ||
		    taken(plan, w, f->in->entry + in->off, in->len))
			return 0;
		wrsp |= (in->flags & INS_WRSP) != 0;
		bytes += in->len;
	}
	return bytes;
}

/* Return window w grown backward to TAIL_WINDOW bytes: its new first instruction's
 * index, or -1. */
static int64_t grow_backward(const struct fn *f, const struct analyze_plan *plan, const struct analyze_window *w)
{
	int64_t first = fn_index_at(f, (uint32_t)(w->addr - f->in->entry));
	if (first < 0)
		return -1;
	uint32_t end = (uint32_t)first, bytes = w->code_len;
	while (end < f->nins && f->ins[end].off < w->addr - f->in->entry + w->code_len)
		end++;
	bool wrsp = writes_rsp(f, (uint32_t)first, end);
	while (bytes < TAIL_WINDOW) {
		if (first == 0 || (f->ins[first].flags & INS_TARGET))
			return -1; /* the first would be inside */
		const struct ins *in = &f->ins[first - 1];
		if ((in->flags & (INS_RET | INS_EXIT)) || in->refusal || ((in->flags & INS_FAULT) && wrsp) ||
		    bytes + in->len > ANALYZE_MAX_CODE || taken(plan, w, f->in->entry + in->off, in->len))
			return -1;
		wrsp |= (in->flags & INS_WRSP) != 0;
		bytes += in->len;
		first--;
	}
	return first;
}

/* Whether ins[i, end) and ins[j, jend) are the same instructions, nops left out: a nop
 * does nothing, and Go puts some before a ret to align a loop head after it. */
static bool same_code(const struct fn *f, uint32_t i, uint32_t end, uint32_t j, uint32_t jend)
{
	const uint8_t *code = f->in->code;
	for (;; i++, j++) {
		while (i < end && (f->ins[i].flags & INS_NOP))
			i++;
		while (j < jend && (f->ins[j].flags & INS_NOP))
			j++;
		if (i == end || j == jend)
			return i == end && j == jend;
		if (f->ins[i].len != f->ins[j].len || memcmp(code + f->ins[i].off, code + f->ins[j].off, f->ins[i].len))
			return false;
	}
}

/* A return window of plan, written with a jump at its first byte, with the same
 * instructions as ins[first, end) (but nops) and within rel8 reach of its first byte
 * + 2: its trampoline does what running them would (no position-dependent operand:
 * analyze_decode.h INS_PCREL; both end in the same ret at the same RSP). The rule
 * analyze_redirect.c's twins follow. */
static const struct analyze_window *twin(const struct fn *f, const struct analyze_plan *plan, uint32_t first,
					 uint32_t end, const struct analyze_window *w)
{
	uint64_t entry = f->in->entry, at = entry + f->ins[first].off;
	for (uint32_t i = first; i < end; i++)
		if (f->ins[i].flags & INS_PCREL)
			return NULL;
	for (size_t i = 0; i < plan->nsites; i++) {
		const struct analyze_window *d = &plan->sites[i];
		int64_t dist = (int64_t)(d->addr - (at + RELOC_JMP8_LEN));
		int64_t j = fn_index_at(f, (uint32_t)(d->addr - entry));
		if (d == w || d->int3 || d->twin || d->len == 0 || dist > INT8_MAX || dist < INT8_MIN || j < 0)
			continue;
		uint32_t jend = (uint32_t)j;
		while (jend < f->nins && f->ins[jend].off < d->addr - entry + d->code_len)
			jend++;
		if (same_code(f, first, end, (uint32_t)j, jend))
			return d;
	}
	return NULL;
}

/* Whether a twin hop (a site's, or a steered branch's) leads to d's first byte: d may
 * then not start elsewhere. */
static bool twin_target(const struct analyze_plan *plan, const struct analyze_window *d)
{
	for (size_t i = 0; i < plan->nsites; i++)
		if (plan->sites[i].twin && plan->sites[i].hop_addr == d->addr)
			return true;
	for (size_t i = 0; i < plan->nredirs; i++)
		if (plan->redirs[i].shared && plan->redirs[i].hop_addr == d->addr)
			return true;
	return false;
}

/* Window d of plan (entry: the entry's) grown to at least TAIL_WINDOW bytes: its new
 * first byte in *addr and its length, or 0. */
static uint32_t grown(const struct fn *f, const struct analyze_plan *plan, const struct analyze_window *d,
		      bool entry, uint64_t *addr)
{
	*addr = d->addr;
	if (d->code_len >= TAIL_WINDOW)
		return d->code_len;
	if (entry)
		return grow_forward(f, plan, d);
	if (twin_target(plan, d))
		return 0;
	int64_t k = grow_backward(f, plan, d);
	if (k < 0)
		return 0;
	*addr = f->in->entry + f->ins[k].off;
	return (uint32_t)(d->addr + d->code_len - *addr);
}

/* Window i of plan (0: the entry's) as the host of hops past its jump: *d, and once
 * grown its first byte in *addr and its length, at least TAIL_WINDOW; 0 when it is w,
 * or may not grow. */
static uint32_t host(const struct fn *f, struct analyze_plan *plan, const struct analyze_window *w, size_t i,
		     struct analyze_window **d, uint64_t *addr)
{
	*d = i ? &plan->sites[i - 1] : &plan->entry;
	*addr = 0;
	if (*d == w || !plain(plan, *d) || (*d)->ret != (i > 0))
		return 0;
	uint32_t len = grown(f, plan, *d, i == 0, addr);
	return len < TAIL_WINDOW ? 0 : len;
}

int tail_hop(const struct fn *f, struct analyze_plan *plan, uint32_t first, uint32_t end,
	     struct analyze_window *w)
{
	uint64_t entry = f->in->entry, at = entry + f->ins[first].off;
	uint32_t bytes = f->ins[end - 1].off + f->ins[end - 1].len - f->ins[first].off;
	if (bytes < RELOC_JMP8_LEN || bytes >= RELOC_JMP32_LEN || taken(plan, w, at, bytes))
		return -ENOSPC;
	const struct analyze_window *t = twin(f, plan, first, end, w);
	if (t) {
		*w = (struct analyze_window){ .addr = at, .len = bytes, .code_len = bytes, .ret = true,
					      .hop = true, .hop_addr = t->addr, .twin = true };
		return 0;
	}
	for (size_t i = 0; i <= plan->nsites; i++) {
		struct analyze_window *d;
		uint64_t addr;
		uint32_t len = host(f, plan, w, i, &d, &addr);
		uint64_t hop = addr + RELOC_JMP32_LEN;
		int64_t dist = (int64_t)(hop - (at + RELOC_JMP8_LEN));
		if (!len || dist > INT8_MAX || dist < INT8_MIN || overlap(at, bytes, addr, len) ||
		    taken(plan, d, hop, RELOC_JMP32_LEN))
			continue;
		d->addr = addr;
		d->len = d->code_len = len;
		*w = (struct analyze_window){ .addr = at, .len = bytes, .code_len = bytes, .ret = true,
					      .hop = true, .hop_addr = hop };
		return 0;
	}
	return -ENOSPC;
}

/* Whether window w (its bytes, the code it runs, its hop) shares a byte with [at, at + len). */
static bool window_meets(const struct analyze_window *w, uint64_t at, uint64_t len)
{
	uint32_t span = w->len > w->code_len ? w->len : w->code_len;
	return overlap(at, len, w->addr, span) || (w->hop && overlap(at, len, w->hop_addr, RELOC_JMP32_LEN));
}

/* Whether w's bytes, code or hop share a byte with another window of plan (the floor
 * kept it clear of the windows planned before it, not of those grown since), but its
 * hop with d, whose tail holds it. */
static bool crosses(const struct analyze_plan *plan, const struct analyze_window *w,
		    const struct analyze_window *d)
{
	uint32_t span = w->len > w->code_len ? w->len : w->code_len;
	for (size_t i = 0; i <= plan->nsites; i++) {
		const struct analyze_window *x = i ? &plan->sites[i - 1] : &plan->entry;
		if (x != w && (window_meets(x, w->addr, span) ||
			       (w->hop && x != d && window_meets(x, w->hop_addr, RELOC_JMP32_LEN))))
			return true;
	}
	return false;
}

int tail_steer(const struct fn *f, struct analyze_plan *plan, uint32_t r, uint32_t floor, size_t *cap,
	       struct analyze_window *w)
{
	uint64_t entry = f->in->entry;
	for (size_t i = 0; i <= plan->nsites; i++) {
		struct analyze_window *d;
		uint64_t addr;
		uint32_t len = host(f, plan, w, i, &d, &addr);
		if (!len)
			continue;
		/* The only pool: the bytes past d's jump that no hop holds yet (tail_hop's), the
		 * first for the site's own hop. */
		uint32_t lo = RELOC_JMP32_LEN;
		while (lo + RELOC_JMP32_LEN <= len && taken(plan, d, addr + lo, len - lo))
			lo++;
		if (lo + RELOC_JMP32_LEN > len)
			continue;
		struct pools p = { .n = 1,
				   .v = { { (int64_t)(addr - entry + lo), (int64_t)(addr - entry + len), false } } };
		struct analyze_window dwas = *d, wwas = *w;
		size_t n0 = plan->nredirs;
		d->addr = addr;
		d->len = d->code_len = len;
		int rc = redirect_site(f, r, floor, &p, plan, cap, w);
		if (rc == -ENOMEM) {
			*d = dwas, *w = wwas;
			return rc;
		}
		/* Kept only if d still has the shape its pool was cut from: a branch steered
		 * out of it would have shrunk it (analyze_redirect.c, shrink), its jump then
		 * where the pool was. */
		if (rc == 0 && !p.nundo && d->addr == addr && d->len == len && !crosses(plan, w, d) &&
		    redirect_conflict(plan) < 0)
			return 0;
		while (rc == 0 && p.nundo) /* windows shrunk for a branch that was steered */
			*p.undo[p.nundo - 1].w = p.undo[p.nundo - 1].was, p.nundo--;
		*d = dwas, *w = wwas;
		plan->nredirs = n0;
	}
	return -ENOSPC;
}
