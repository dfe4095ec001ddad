/* window: one function's patch plan in this binary, and the trampoline and jumps
 * of each of its windows. See window.h. Split from hook.c, which decides what to
 * hook and when; this file owns what one window becomes. */
#include "window.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch.h"
#include "reloc.h"
#include "sigown.h"
#include "tramp.h"
#include "xlate.h"

static bool read_ptr(void *ctx, uint64_t addr, uint64_t *value)
{
	return elf_read_ptr(&((const struct gobin *)ctx)->elf, addr, value);
}

static const char *name_at(void *ctx, uint64_t addr)
{
	const struct gobin_func *f = gobin_func_at(ctx, addr);
	return f && f->entry == addr ? f->name : NULL;
}

void window_input(const struct gobin *gb, const struct gobin_func *f, const uint8_t *code, unsigned opts,
		  struct analyze_input *in)
{
	*in = (struct analyze_input){
		.name = f->name, .entry = f->entry, .end = f->end, .code = code, .flag = f->flag,
		.opts = opts, .read_ptr = read_ptr, .name_at = name_at, .ctx = (void *)gb,
	};
}

/* The padding of the function before f that its own plan leaves free, for f's hops
 * (analyze_input.prev_pad_lo). What a plan takes of its own padding does not depend
 * on its neighbour, so this costs one more plan, not a chain of them. A function that
 * cannot be planned uses none of its padding: golat never writes there (its own
 * exit-path hooks of refused runtime functions write an entry window and nothing
 * else, hook.c exit_hook). Only where signals are golat's: a hop needs them. */
static void prev_padding(const struct gobin *gb, const struct gobin_func *f, struct analyze_input *in)
{
	const struct gobin_func *p = f > gb->funcs ? f - 1 : NULL;
	const uint8_t *code = p ? gobin_code(gb, p) : NULL;
	if (!code || p->end != f->entry || p->end <= p->entry)
		return;
	struct analyze_input pin;
	struct analyze_plan plan;
	char why[256];
	window_input(gb, p, code, in->opts, &pin);
	int rc = analyze_func(&pin, &plan, why, sizeof(why));
	if (plan.pad_end) {
		in->prev_pad_lo = plan.pad_end;
		in->prev_pad_hi = p->end;
	}
	if (rc == 0)
		analyze_plan_free(&plan);
}

int window_plan(const struct gobin *gb, const struct gobin_func *f, bool owned, struct analyze_plan *plan,
		char *reason, size_t n)
{
	const uint8_t *code = gobin_code(gb, f);
	if (!code || f->end <= f->entry) {
		snprintf(reason, n, "%s: code not in the file", f->name);
		return -EINVAL;
	}
	struct analyze_input in;
	window_input(gb, f, code, owned ? ANALYZE_SIGNALS_OWNED : 0, &in);
	if (owned)
		prev_padding(gb, f, &in);
	int rc = analyze_func(&in, plan, reason, n);
	if (rc || owned)
		return rc;
	/* A 2-byte hop puts a 5-byte jump in the function's 0xCC padding, where the
	 * pc tables end: a SIGPROF or a preemption landing on it makes the runtime's
	 * unwinder throw "invalid pc-encoded table" (runtime/symtab.go, pcvalue), unless
	 * golat's handler hands Go the window's first byte instead. */
	const struct analyze_window *hop = plan->entry.hop ? &plan->entry : NULL;
	for (size_t i = 0; !hop && i < plan->nsites; i++)
		hop = plan->sites[i].hop ? &plan->sites[i] : NULL;
	if (!hop)
		return 0;
	snprintf(reason, n, "%s: %s at +%#llx has no 5-byte window (a jump through the padding "
		 "would stand where Go's unwinder has no table)", f->name,
		 hop == &plan->entry ? "the entry" : "return", (unsigned long long)(hop->addr - f->entry));
	analyze_plan_free(plan);
	return -ENOSPC;
}

/* Registers where a goroutine stopped inside window w must resume: the relocated
 * copy of each instruction after the window's first byte. Async preemption can stop
 * a goroutine at any instruction of Go code (runtime/preempt.go, isAsyncSafePoint:
 * epilogues included), and golat_tramp_resume redirects it. Inside the bytes the
 * jump overwrote it could not go on at all; past them the original bytes stay, but
 * a goroutine that sigown handed to Go as stopped at one of them (it was in the
 * relocated copy) must go back there too: in a return window the original ret lies
 * past them, and going on in the original would skip the exit's record. A window of
 * length 0 (nothing written, its branches steered) maps its first instruction too:
 * that original is never run again but by a goroutine Go resumes there. */
static int map_resume(const struct reloc_place *place, size_t nplace, size_t from, const char *name,
		      char *reason, size_t n)
{
	for (size_t i = from; i < nplace; i++)
		if (tramp_resume_add(place[i].orig, place[i].copy) != 0) {
			snprintf(reason, n, "%s: no memory for the resume table", name);
			return -ENOMEM;
		}
	return 0;
}

/* The jump written over window w (at its run-time address at) into its trampoline t:
 * an int3, a jmp rel32, or a jmp rel8 to a hop and the hop; for a twin (analyze.h) the
 * jmp rel8 alone, to the first byte of a window of the same bytes. */
static int window_jumps(const struct analyze_window *w, uint64_t at, uint64_t t, uint64_t bias,
			struct patch_write *out, size_t *nout)
{
	struct patch_write *jw = &out[(*nout)++];
	memset(jw, 0, sizeof(*jw));
	jw->addr = at;
	if (w->int3) {
		jw->len = 1;
		jw->bytes[0] = 0xcc;
		return 0;
	}
	if (!w->hop) {
		jw->len = RELOC_JMP32_LEN;
		return reloc_jmp32(jw->bytes, at, t);
	}
	jw->len = RELOC_JMP8_LEN;
	int rc = reloc_jmp8(jw->bytes, at, w->hop_addr + bias);
	if (rc || w->twin) /* a twin's jump is its own window's, written with it */
		return rc;
	struct patch_write *hw = &out[(*nout)++];
	memset(hw, 0, sizeof(*hw));
	hw->addr = w->hop_addr + bias;
	hw->len = RELOC_JMP32_LEN;
	return reloc_jmp32(hw->bytes, hw->addr, t);
}

/* The branches steered into window w (analyze.h, struct analyze_redirect), each to
 * the relocated copy of its target (place: the window's instructions, relocated): a
 * rel32 branch rewritten whole with its new displacement (same opcode, same length:
 * the instruction stays one instruction, at its PC), a rel8 one to its hop, and each
 * hop once, a jmp rel32 that stands for the target (sigown_add_jump: a goroutine
 * stopped there is at the target, with the target's RSP). */
static int steer_writes(const struct analyze_redirect *redirs, const struct analyze_window *w,
			const struct reloc_place *place, size_t nplace, const uint8_t *code, uint64_t entry,
			uint64_t bias, struct patch_write *out, size_t *nout, char *reason, size_t n)
{
	for (uint32_t k = w->redir; k < w->redir + w->nredir; k++) {
		const struct analyze_redirect *r = &redirs[k];
		uint64_t from = r->from + bias, copy = 0;
		for (size_t i = 0; i < nplace && !copy; i++)
			copy = place[i].orig == r->to + bias ? place[i].copy : 0;
		struct patch_write *bw = &out[(*nout)++];
		memset(bw, 0, sizeof(*bw));
		bw->addr = from;
		bw->len = (uint8_t)r->from_len;
		memcpy(bw->bytes, code + (r->from - entry), r->from_len); /* as analyze saw it */
		uint64_t to = r->hop_addr ? r->hop_addr + bias : copy;
		int64_t d = (int64_t)(to - (from + r->from_len));
		if (!copy || (r->hop_addr ? d < INT8_MIN || d > INT8_MAX : !reloc_rel32_reaches(from + r->from_len, to))) {
			snprintf(reason, n, "the branch at %#llx cannot be steered to %#llx",
				 (unsigned long long)from, (unsigned long long)to);
			return -ERANGE;
		}
		if (r->hop_addr)
			bw->bytes[1] = (uint8_t)(int8_t)d;
		else
			memcpy(bw->bytes + r->from_len - 4, &(int32_t){ (int32_t)d }, 4);
		bool first = true; /* of the redirects sharing this hop */
		for (uint32_t j = w->redir; j < k && first; j++)
			first = redirs[j].hop_addr != r->hop_addr;
		if (!r->hop_addr || !first || r->shared)
			continue;
		int rc = sigown_add_jump(r->hop_addr + bias, r->to + bias);
		uint8_t jmp[RELOC_JMP32_LEN];
		if (rc || (rc = reloc_jmp32(jmp, r->hop_addr + bias, copy)) != 0)
			return rc;
		if (r->hop_addr >= w->addr && r->hop_addr < w->addr + w->len) {
			/* A hop in the window's own bytes past its jump: one write with the
			 * jump, so that no thread stopped at an instruction there (the hop's
			 * first byte, say) sees the hop written under it (patch.h). */
			size_t o = r->hop_addr - w->addr, end = o + RELOC_JMP32_LEN;
			if (end > PATCH_MAX_LEN) {
				snprintf(reason, n, "a hop at +%zu of the window at %#llx", o,
					 (unsigned long long)(w->addr + bias));
				return -E2BIG;
			}
			for (size_t i = out[0].len; i < end; i++) /* the bytes between stay */
				out[0].bytes[i] = code[w->addr - entry + i];
			memcpy(out[0].bytes + o, jmp, sizeof(jmp));
			out[0].len = (uint8_t)(end > out[0].len ? end : out[0].len);
			continue;
		}
		struct patch_write *hw = &out[(*nout)++];
		memset(hw, 0, sizeof(*hw));
		hw->addr = r->hop_addr + bias;
		hw->len = RELOC_JMP32_LEN;
		memcpy(hw->bytes, jmp, sizeof(jmp));
	}
	return 0;
}

/* Builds the trampoline for window w of function id and the jump(s) into it. id
 * PROCEXIT_ID + TRAMP_PROCEXIT_*: a process-exit hook; RESUME_ID: asyncPreempt's end. */
int window_build(const struct gobin *gb, struct codemem *cm, const struct analyze_window *w,
		 const struct analyze_redirect *redirs, bool entry, uint32_t id, const struct gobin_func *f,
		 struct patch_write *out, size_t *nout, char *reason, size_t n)
{
	uint64_t bias = gb->bias, at = w->addr + bias;
	const uint8_t *src = gobin_code(gb, f) + (w->addr - f->entry);
	bool whole = entry && w->ret;
	uint8_t rel[RELOC_MAX_OUT(32)];
	size_t rlen;
	if (w->code_len > 32) {
		snprintf(reason, n, "%s: window of %u bytes at +%#llx", f->name, w->code_len,
			 (unsigned long long)(w->addr - f->entry));
		return -EINVAL;
	}
	void *buf;
	int rc = codemem_alloc(cm, tramp_size(sizeof(rel), whole), 16, &buf, reason, n);
	if (rc)
		return rc;
	uint64_t t = codemem_addr(cm, buf);
	size_t code_at = entry ? tramp_entry_code_offset() : tramp_exit_code_offset();
	rc = reloc_window(src, w->code_len, at, t + code_at, w->ret ? RELOC_DROP_RET : 0, rel,
			  sizeof(rel), &rlen, reason, n);
	if (rc)
		return rc;
	size_t used;
	if (id >= PROCEXIT_ID)
		used = tramp_emit_procexit(buf, t, rel, rlen, at + w->code_len, id - PROCEXIT_ID);
	else if (id == RESUME_ID)
		used = tramp_emit_resume(buf, t, rel, rlen);
	else if (whole)
		used = tramp_emit_whole(buf, t, rel, rlen, id);
	else if (entry)
		used = tramp_emit_entry(buf, t, rel, rlen, at + w->code_len, id);
	else
		used = tramp_emit_exit(buf, t, rel, rlen, id);
	/* The room was asked for the longest relocation; most are the window's length. */
	codemem_trim(cm, buf, used);
	struct reloc_place place[RELOC_MAX_INSNS];
	size_t nplace;
	if ((rc = reloc_map(src, w->code_len, at, t + code_at, place, RELOC_MAX_INSNS, &nplace, reason, n)))
		return rc;
	if (id < RESUME_ID && (rc = map_resume(place, nplace, w->len == 0 ? 0 : 1, f->name, reason, n)) != 0)
		return rc;
	/* Where a signal in it must look to Go as if it had come in the original. */
	if (id != RESUME_ID &&
	    (rc = xlate_window(place, nplace, at, w->code_len, rlen,
			       whole ? XLATE_WHOLE : entry ? XLATE_ENTRY : XLATE_EXIT, t, used, reason, n)) != 0)
		return rc;
	if (w->hop && !w->twin && (rc = sigown_add_jump(w->hop_addr + bias, at)) != 0)
		return rc;
	if (w->int3 && (rc = sigown_add_trap(at, t)) != 0)
		return rc;
	*nout = 0;
	if (w->len && (rc = window_jumps(w, at, t, bias, out, nout)) != 0)
		return rc;
	return steer_writes(redirs, w, place, nplace, gobin_code(gb, f), f->entry, bias, out, nout, reason, n);
}

/* runtime.asyncPreempt's epilogue, matched by its bytes (arch.h, arch_async_preempt_end:
 * on x86-64 the code before it saves AVX-512 mask registers that capstone 4 cannot
 * decode). Returns the window, or false. */
bool window_async_preempt(const struct gobin *gb, const struct gobin_func *f, struct analyze_window *w)
{
	const uint8_t *code = gobin_code(gb, f);
	size_t start, end;
	if (!code || !arch_async_preempt_end(code, f->end - f->entry, &start, &end))
		return false;
	*w = (struct analyze_window){ .addr = f->entry + start, .len = (uint32_t)(end - start),
				      .code_len = (uint32_t)(end - start), .ret = true };
	return true;
}

/* runtime.rt_sigaction, ABI0, with the body golat knows (arch.h, arch_is_rt_sigaction).
 * Named with ".abi0" where Go calls it through a wrapper. */
const struct gobin_func *window_rt_sigaction(const struct gobin *gb)
{
	static const char *const names[] = { "runtime.rt_sigaction.abi0", "runtime.rt_sigaction" };
	for (size_t i = 0; i < 2; i++) {
		const struct gobin_func *f = gobin_func_named(gb, names[i]);
		const uint8_t *code = f ? gobin_code(gb, f) : NULL;
		if (code && arch_is_rt_sigaction(code, f->end - f->entry))
			return f;
	}
	return NULL;
}
