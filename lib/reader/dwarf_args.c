/* dwarf_args: the index of Go function signatures (see dwarf_args.h for the contract).
 *
 * One walk over every unit of .debug_info picks the DW_TAG_subprogram DIEs whose entry
 * is wanted and the DW_TAG_formal_parameter DIEs right under them. Go lists parameters
 * in declaration order, the receiver first, then the results, which it marks with
 * DW_AT_variable_parameter (cmd/compile/internal/dwarfgen/dwarf.go, createDwarfVars);
 * since Go 1.22 an unnamed or blank parameter is listed as ~p0, ~p1... (before, it is
 * missing, and so are the receivers of 1.21's wrappers: the pclntab's argument frame
 * catches it, dwarf_args_check). A function out of line that was also inlined elsewhere
 * names its parameters through DW_AT_abstract_origin. Only after the walk are origins
 * followed and types read (dwarf_abi.c), with a table of units for random access, so
 * that a type is read once.
 *
 * What the DWARF does not say, the ABI does:
 *   - a closure (F.func1) lists its declared parameters; its context pointer comes in
 *     RDX (abi-internal.md, "closure context pointer"), outside the nine registers, and
 *     its captured variables are not parameters, unless the compiler turned a closure
 *     called where it is written into a plain function (walk/closure.go,
 *     directClosureCall), which then lists them as parameters ("&x" for one by
 *     reference);
 *   - a method value wrapper (T.M-fm, DW_AT_trampoline) is such a closure too;
 *   - the dictionary of a shaped generic function (noder/reader.go shapeSig) is a real
 *     integer argument that the DWARF of Go before 1.27 does not list: it is added,
 *     marked synthetic (see dwarf_dict_at). */
#define _GNU_SOURCE /* memmem */
#include "dwarf_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const dwarf_reg_names[DWARF_NREGS] = {
	"rax", "rbx", "rcx", "rdi", "rsi", "r8", "r9", "r10", "r11",
	"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
	"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12", "f13", "f14", "f15",
};

/* A function or parameter as the walk found it, before origins and types are read. */
struct dwarf_rawfn {
	uint64_t entry, origin;
	int64_t frame;    /* _func.args as the caller gave it, or -1 */
	const char *name;
	bool wrapper;
	unsigned gominor; /* of the unit's producer: go1.N; 0 unknown */
	size_t first, n;  /* its slice of dwarf_build.rp */
};

struct dwarf_rawparam {
	const char *name;
	uint64_t type, origin;
	bool result;
};

struct dwarf_want {
	uint64_t entry;
	int64_t frame; /* -1: not given */
	bool taken;    /* the first DIE of an entry wins */
};

struct dwarf_build {
	struct dwarf_ctx c;
	const struct elf_image *im;
	uint64_t *abi0; /* sorted entries of .abi0 symbols, read at the first frame mismatch */
	size_t nabi0;
	bool abi0_read;
	struct dwarf_want *want; /* sorted by entry, unique */
	size_t nwant;
	struct dwarf_rawfn *fn;
	size_t nfn, fncap;
	struct dwarf_rawparam *rp;
	size_t nrp, rpcap;
	struct dwarf_types tt;
};

/* Strings are kept as offsets into str while it grows, turned into pointers at the end. */
struct dwarf_args {
	struct dwarf_func_sig *f; /* sorted by entry */
	size_t nf, fcap;
	struct dwarf_param *p;
	size_t np, pcap;
	struct dwarf_part *part;
	size_t npart, partcap;
	char *str;
	size_t nstr, strcap;
};

#define DWARF_MAX_ITEMS (SIZE_MAX / 64)

static int dwarf_want_cmp(const void *x, const void *y)
{
	const struct dwarf_want *a = x, *b = y;
	return a->entry < b->entry ? -1 : a->entry > b->entry;
}

/* The wanted entry, or NULL. */
static struct dwarf_want *dwarf_wanted(const struct dwarf_build *b, uint64_t entry)
{
	struct dwarf_want key = { .entry = entry };
	return bsearch(&key, b->want, b->nwant, sizeof(key), dwarf_want_cmp);
}

/* The N of "go1.N" in a Go producer string, 0 when it is not one. */
static unsigned dwarf_gominor(const char *producer)
{
	const char *v = producer ? strstr(producer, " go1.") : NULL;
	unsigned n = 0;

	for (v = v ? v + 5 : NULL; v && *v >= '0' && *v <= '9' && n < 1000; v++)
		n = n * 10 + (unsigned)(*v - '0');
	return n;
}

/* A subprogram DIE just decoded: the start of a wanted function, or nothing. */
static int dwarf_args_func(struct dwarf_build *b, const struct dwarf_die *d, unsigned gominor,
			   bool *collect)
{
	struct dwarf_want *w = d->has_low_pc ? dwarf_wanted(b, d->low_pc) : NULL;

	*collect = false;
	if (!w || w->taken)
		return 0;
	int err = dwarf_grow((void **)&b->fn, &b->fncap, b->nfn, sizeof(*b->fn), DWARF_MAX_ITEMS);
	if (err)
		return err;
	w->taken = true;
	b->fn[b->nfn++] = (struct dwarf_rawfn){ .entry = d->low_pc, .origin = d->origin,
		.frame = w->frame,
		.name = d->name, .wrapper = d->trampoline, .gominor = gominor, .first = b->nrp };
	*collect = true;
	return 0;
}

static int dwarf_args_param(struct dwarf_build *b, const struct dwarf_die *d)
{
	int err = dwarf_grow((void **)&b->rp, &b->rpcap, b->nrp, sizeof(*b->rp), DWARF_MAX_ITEMS);
	if (err)
		return err;
	b->rp[b->nrp++] = (struct dwarf_rawparam){ .name = d->name, .type = d->type,
		.origin = d->origin, .result = d->var_param };
	b->fn[b->nfn - 1].n++;
	return 0;
}

/* Walks the DIEs of one entered unit. depth is that of the next DIE (the unit's own
 * is 0); params_at the depth of the parameters of the function being collected, 0
 * when none is. */
static int dwarf_args_unit(struct dwarf_build *b, struct dwarf_cu *cu)
{
	struct dwarf_ctx *c = &b->c;
	struct dwarf_rd r = dwarf_info_at(c, cu->die, cu->end);
	const struct dwarf_abbrev *ab;
	struct dwarf_die d;
	size_t depth = 0, params_at = 0;
	unsigned gominor = 0;
	bool collect;
	int err;

	while (r.p < r.end) {
		if ((err = dwarf_die_head(c, &r, &ab)))
			return err;
		if (!ab) {
			depth -= depth > 0;
			params_at = depth < params_at ? 0 : params_at;
			continue;
		}
		bool param = params_at && depth == params_at && ab->tag == DW_TAG_formal_parameter;
		if (param || ab->tag == DW_TAG_subprogram || (depth == 0 && ab->tag == DW_TAG_compile_unit)) {
			if ((err = dwarf_die_attrs(c, cu, &r, ab, &d)))
				return err;
			if (param) {
				err = dwarf_args_param(b, &d);
			} else if (ab->tag == DW_TAG_compile_unit) {
				gominor = dwarf_gominor(d.producer);
			} else {
				err = dwarf_args_func(b, &d, gominor, &collect);
				params_at = collect && ab->children ? depth + 1 : 0;
			}
			if (err)
				return err;
		} else {
			dwarf_die_skip(c, cu, &r, ab);
		}
		depth += ab->children;
	}
	return r.bad ? -EINVAL : 0;
}

/* The one walk: every unit, remembered for the lookups that follow. */
static int dwarf_args_walk(struct dwarf_build *b)
{
	struct dwarf_ctx *c = &b->c;
	struct dwarf_cu cu;

	for (uint64_t at = 0; at < c->info.len; at = cu.end) {
		int err = dwarf_cu_header(c, at, &cu);
		if (err)
			return err;
		if (!cu.version)
			continue;
		if ((err = dwarf_cu_enter(c, &cu)) || (err = dwarf_cu_remember(c, &cu)) ||
		    (err = dwarf_args_unit(b, &cu)))
			return err;
	}
	c->units_done = true;
	return 0;
}

/* ---- from raw records to the index ---------------------------------------------- */

/* Copies s into the index's strings; returns its offset in *off. */
static int dwarf_args_str(struct dwarf_args *ix, const char *s, size_t *off)
{
	size_t len = s ? strlen(s) : 0;

	if (ix->nstr + len + 1 > ix->strcap) {
		size_t ncap = ix->strcap ? ix->strcap : 4096;
		while (ncap < ix->nstr + len + 1)
			ncap *= 2;
		char *p = realloc(ix->str, ncap);
		if (!p)
			return -ENOMEM;
		ix->str = p;
		ix->strcap = ncap;
	}
	*off = ix->nstr;
	memcpy(ix->str + ix->nstr, s ? s : "", len);
	ix->str[ix->nstr + len] = 0;
	ix->nstr += len + 1;
	return 0;
}

/* The name, type and result flag of a parameter, through its abstract origin. */
static int dwarf_args_origin(struct dwarf_build *b, struct dwarf_rawparam *p)
{
	struct dwarf_cu cu = { 0 };
	const struct dwarf_abbrev *ab;
	struct dwarf_rd r;
	struct dwarf_die d;

	if (p->origin == DWARF_NO_REF)
		return 0;
	int err = dwarf_die_at(&b->c, p->origin, &cu, &r, &ab, &d);
	if (err)
		return err == -ENOMEM ? err : 0; /* then its type is unknown */
	p->name = p->name ? p->name : d.name;
	p->type = p->type != DWARF_NO_REF ? p->type : d.type;
	p->result = p->result || d.var_param;
	return 0;
}

/* Appends one parameter of type ti to the index, its registers assigned. */
static int dwarf_args_add(struct dwarf_args *ix, struct dwarf_abi *st, const char *name,
			  bool result, const struct dwarf_tinfo *ti, bool synthetic)
{
	struct dwarf_part parts[DWARF_MAX_LEAVES];
	size_t noff, toff;
	int err = dwarf_grow((void **)&ix->p, &ix->pcap, ix->np, sizeof(*ix->p), DWARF_MAX_ITEMS);

	if (!err)
		err = dwarf_args_str(ix, name, &noff);
	if (!err)
		err = dwarf_args_str(ix, ti->name, &toff);
	if (err)
		return err;
	struct dwarf_param *p = &ix->p[ix->np++];
	*p = (struct dwarf_param){ .name = (const char *)noff, .type = (const char *)toff,
		.kind = ti->kind, .size = ti->size, .align = ti->align, .result = result,
		.synthetic = synthetic };
	p->nparts = dwarf_abi_assign(st, p, ti, parts);
	p->part = (const struct dwarf_part *)ix->npart;
	for (uint8_t i = 0; i < p->nparts && !err; i++) {
		err = dwarf_grow((void **)&ix->part, &ix->partcap, ix->npart, sizeof(*ix->part),
				 DWARF_MAX_ITEMS);
		if (!err)
			ix->part[ix->npart++] = parts[i];
	}
	return err;
}

static int dwarf_u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

/* Reads the entries of the ABI0 wrappers of Go functions, which the linker names
 * "pkg.F.abi0" in .symtab (cmd/link, abiDecorate); a binary with DWARF keeps its
 * .symtab unless stripped on purpose. Without, no function is known to be ABI0. */
static int dwarf_abi0_read(struct dwarf_build *b)
{
	size_t symlen = 0, strlen_ = 0, cap = 0;
	const Elf64_Shdr *sh = elf_section(b->im, ".symtab");
	const uint8_t *sym = elf_section_data(b->im, sh, &symlen);
	const uint8_t *str = sh && sh->sh_link < b->im->shnum
				     ? elf_section_data(b->im, &b->im->sh[sh->sh_link], &strlen_) : NULL;

	b->abi0_read = true;
	for (size_t i = 0; sym && str && i + 1 <= symlen / sizeof(Elf64_Sym); i++) {
		Elf64_Sym e;
		memcpy(&e, sym + i * sizeof(e), sizeof(e));
		const uint8_t *name = e.st_name < strlen_ ? str + e.st_name : NULL;
		const uint8_t *nul = name ? memchr(name, 0, strlen_ - e.st_name) : NULL;
		if (!nul || nul - name < 5 || memcmp(nul - 5, ".abi0", 5) != 0)
			continue;
		int err = dwarf_grow((void **)&b->abi0, &cap, b->nabi0, sizeof(*b->abi0), DWARF_MAX_ITEMS);
		if (err)
			return err;
		b->abi0[b->nabi0++] = e.st_value;
	}
	if (b->nabi0)
		qsort(b->abi0, b->nabi0, sizeof(*b->abi0), dwarf_u64_cmp);
	return 0;
}

/* Settles s->check against the frame size the compiler recorded (-1: none given). The
 * parameters are still ix->p from s->param as an index (dwarf_args_finish turns it into
 * a pointer). An ABI0 wrapper takes everything on the stack (abi-internal.md: ABI0 is
 * the stack-based ABI of assembly), whatever the DWARF it shares with the Go function
 * suggests: it is one when its symbol says so and its frame is ABI0's. */
static int dwarf_args_check(struct dwarf_build *b, struct dwarf_args *ix,
			    struct dwarf_func_sig *s, int64_t frame)
{
	struct dwarf_param *p = ix->p + (size_t)s->param;
	struct dwarf_func_sig view = *s;
	uint64_t size;
	int err = 0;

	view.param = p;
	s->check = frame < 0 ? DWARF_SIG_UNCHECKED : DWARF_SIG_OK;
	if (frame < 0 || (dwarf_sig_frame_size(&view, false, &size) == 0 && size == (uint64_t)frame))
		return 0;
	s->check = DWARF_SIG_INCOMPLETE;
	if (!b->abi0_read && (err = dwarf_abi0_read(b)))
		return err;
	if (!bsearch(&s->entry, b->abi0, b->nabi0, sizeof(*b->abi0), dwarf_u64_cmp) ||
	    dwarf_sig_frame_size(&view, true, &size) || size != (uint64_t)frame)
		return 0;
	s->check = DWARF_SIG_ABI0;
	for (size_t i = 0; i < s->nparams; i++) {
		p[i].where = p[i].size ? DWARF_WHERE_STACK : DWARF_WHERE_NONE;
		p[i].nparts = 0;
	}
	return 0;
}

/* Where the dictionary goes among the parameters of a function, or -1 when it takes
 * none. A shaped instantiation (a "go.shape." type argument in its name) takes one;
 * a closure inside one (F[go.shape.int].func1, .gowrap1, -range1) and a method value
 * wrapper (-fm) get theirs from their context instead. The dictionary comes first
 * (Go 1.19's noder/stencil.go, and every function), except that the unified IR of
 * Go 1.20 on keeps a method's receiver a receiver, which the ABI assigns before the
 * parameters (noder/reader.go shapeSig; abiutils.go ABIAnalyzeFuncType). */
static int dwarf_dict_at(const char *name, unsigned gominor)
{
	const char *close = name ? strrchr(name, ']') : NULL;

	if (!close || !memmem(name, (size_t)(close - name), "go.shape.", 9))
		return -1;
	const char *rest = close + 1 + (close[1] == ')');
	if (*rest == 0)
		return 0;
	if (*rest != '.' || !rest[1] || strpbrk(rest + 1, ".-") ||
	    (strncmp(rest + 1, "func", 4) == 0 && rest[5] >= '0' && rest[5] <= '9') ||
	    strncmp(rest + 1, "gowrap", 6) == 0 || strncmp(rest + 1, "deferwrap", 9) == 0)
		return -1;
	return gominor && gominor < 20 ? 0 : 1;
}

/* The type the DWARF of Go before 1.27 does not give the dictionary: a pointer. */
static const struct dwarf_tinfo dwarf_dict_type = {
	.off = DWARF_NO_REF, .name = "*[]uintptr", .size = 8, .align = 8, .kind = DWARF_KIND_POINTER,
	.state = DWARF_WHERE_REGS, .nleaf = 1, .leaf = { { .kind = DWARF_KIND_POINTER, .size = 8 } },
};

static int dwarf_args_one(struct dwarf_build *b, struct dwarf_args *ix, struct dwarf_abi *st,
			  const struct dwarf_rawparam *p, bool synthetic)
{
	const struct dwarf_tinfo *ti = &dwarf_dict_type;
	int err = synthetic ? 0 : dwarf_type_info(&b->c, &b->tt, p->type, &ti);

	return err ? err : dwarf_args_add(ix, st, p->name, p->result, ti, synthetic);
}

/* Adds the signature of f to the index: its name, then its parameters in ABI order;
 * with recv (a type name), a pointer receiver the DWARF does not list first. */
static int dwarf_args_fn(struct dwarf_build *b, struct dwarf_args *ix, const struct dwarf_rawfn *f,
			 const char *recv)
{
	struct dwarf_rawparam fn = { .name = f->name, .type = 0, .origin = f->origin };
	struct dwarf_rawparam dict = { .name = ".dict" };
	struct dwarf_tinfo rt = dwarf_dict_type;
	struct dwarf_abi st = dwarf_abi_start(b->im);
	size_t noff, listed = SIZE_MAX, k = 0;
	int err = dwarf_args_origin(b, &fn);

	if (err || (err = dwarf_grow((void **)&ix->f, &ix->fcap, ix->nf, sizeof(*ix->f),
				     DWARF_MAX_ITEMS)) || (err = dwarf_args_str(ix, fn.name, &noff)))
		return err;
	ix->f[ix->nf++] = (struct dwarf_func_sig){ .entry = f->entry, .name = (const char *)noff,
		.wrapper = f->wrapper, .param = (const struct dwarf_param *)ix->np };
	int at = dwarf_dict_at(fn.name, f->gominor);
	rt.name = recv;
	if (recv)
		err = dwarf_args_add(ix, &st, "~p0", false, &rt, true);
	for (size_t i = 0; i < f->n && !err; i++) {
		struct dwarf_rawparam *p = &b->rp[f->first + i];
		err = dwarf_args_origin(b, p);
		if (p->name && strcmp(p->name, ".dict") == 0 && !p->result && listed == SIZE_MAX)
			listed = i;
	}
	for (size_t i = 0; i <= f->n && !err; i++) {
		const struct dwarf_rawparam *p = i < f->n ? &b->rp[f->first + i] : NULL;
		if (at >= 0 && (k == (size_t)at || !p || p->result)) { /* never after a result */
			err = dwarf_args_one(b, ix, &st, listed < f->n ? &b->rp[f->first + listed] : &dict,
					     listed == SIZE_MAX);
			at = -1;
			k++;
		}
		if (p && i != listed && !err) {
			err = dwarf_args_one(b, ix, &st, p, false);
			k++;
		}
	}
	ix->f[ix->nf - 1].nparams = ix->np - (size_t)ix->f[ix->nf - 1].param;
	return err ? err : dwarf_args_check(b, ix, &ix->f[ix->nf - 1], f->frame);
}

/* The pointer type of the receiver of a method named pkg.(*T).M: "*pkg.T" into out;
 * false for any other name (a generic type's method too: its dictionary would move). */
static bool dwarf_ptr_recv(const char *name, char *out, size_t size)
{
	const char *open = strstr(name, ".(*"), *close = open ? strstr(open, ").") : NULL;

	if (!close || strpbrk(close + 2, ".-") || memchr(open, '[', (size_t)(close - open)))
		return false;
	int n = snprintf(out, size, "*%.*s.%.*s", (int)(open - name), name,
			 (int)(close - open - 3), open + 3);
	return n > 0 && (size_t)n < size;
}

/* dwarf_args_fn, and when the frame says the DWARF left a parameter out of a method
 * with a pointer receiver, the signature again with a pointer receiver first: Go before
 * 1.22 leaves out an unnamed receiver (func (*T) M()), and 1.21 the receiver of the
 * wrappers it makes ((*T).M for T.M). Kept only if the frame then agrees. */
static int dwarf_args_fn_checked(struct dwarf_build *b, struct dwarf_args *ix,
				 const struct dwarf_rawfn *f)
{
	size_t nf = ix->nf, np = ix->np, npart = ix->npart, nstr = ix->nstr;
	char recv[256];
	int err = dwarf_args_fn(b, ix, f, NULL);

	if (err || ix->f[nf].check != DWARF_SIG_INCOMPLETE ||
	    !dwarf_ptr_recv(ix->str + (size_t)ix->f[nf].name, recv, sizeof(recv)))
		return err;
	for (int retry = 0; retry < 2; retry++) {
		ix->nf = nf, ix->np = np, ix->npart = npart, ix->nstr = nstr;
		if ((err = dwarf_args_fn(b, ix, f, retry ? NULL : recv)) || ix->f[nf].check == DWARF_SIG_OK)
			break;
	}
	return err;
}

static int dwarf_sig_cmp(const void *x, const void *y)
{
	const struct dwarf_func_sig *a = x, *b = y;
	return a->entry < b->entry ? -1 : a->entry > b->entry;
}

/* Turns the offsets the index was built with into pointers, and sorts it. */
static void dwarf_args_finish(struct dwarf_args *ix)
{
	for (size_t i = 0; i < ix->np; i++) {
		struct dwarf_param *p = &ix->p[i];
		p->name = ix->str + (size_t)p->name;
		p->type = ix->str + (size_t)p->type;
		p->part = p->nparts ? ix->part + (size_t)p->part : NULL;
	}
	for (size_t i = 0; i < ix->nf; i++) {
		struct dwarf_func_sig *f = &ix->f[i];
		f->name = ix->str + (size_t)f->name;
		f->param = f->nparams ? ix->p + (size_t)f->param : NULL;
	}
	if (ix->nf)
		qsort(ix->f, ix->nf, sizeof(*ix->f), dwarf_sig_cmp);
}

/* The wanted entries, sorted and unique. */
static int dwarf_args_want(struct dwarf_build *b, const uint64_t *entries, const uint32_t *frames,
			   size_t n)
{
	if (!(b->want = calloc(n ? n : 1, sizeof(*b->want))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		b->want[i] = (struct dwarf_want){ entries[i], frames ? (int64_t)frames[i] : -1, false };
	qsort(b->want, n, sizeof(*b->want), dwarf_want_cmp);
	for (size_t i = 0; i < n; i++)
		if (b->nwant == 0 || b->want[b->nwant - 1].entry != b->want[i].entry)
			b->want[b->nwant++] = b->want[i];
	return 0;
}

int dwarf_args_index(const struct elf_image *im, const uint64_t *entries, const uint32_t *frames,
		     size_t n, struct dwarf_args **out)
{
	struct dwarf_build b = { 0 };
	struct dwarf_args *ix = NULL;

	if (!im || !out || (n && !entries) || n > DWARF_MAX_ITEMS)
		return -EINVAL;
	*out = NULL;
	b.im = im;
	int err = dwarf_ctx_open(&b.c, im);
	if (!err && !(ix = calloc(1, sizeof(*ix))))
		err = -ENOMEM;
	if (!err && n)
		err = dwarf_args_want(&b, entries, frames, n);
	if (!err && n)
		err = dwarf_args_walk(&b);
	for (size_t i = 0; i < b.nfn && !err; i++)
		err = dwarf_args_fn_checked(&b, ix, &b.fn[i]);
	dwarf_types_free(&b.tt);
	dwarf_ctx_close(&b.c);
	free(b.want);
	free(b.abi0);
	free(b.fn);
	free(b.rp);
	if (err) {
		dwarf_args_free(ix);
		return err;
	}
	dwarf_args_finish(ix);
	*out = ix;
	return 0;
}

int dwarf_func_args(const struct dwarf_args *ix, uint64_t entry, const struct dwarf_func_sig **sig)
{
	struct dwarf_func_sig key = { .entry = entry };

	*sig = ix && ix->nf ? bsearch(&key, ix->f, ix->nf, sizeof(key), dwarf_sig_cmp) : NULL;
	return *sig ? 0 : -ENOENT;
}

size_t dwarf_args_count(const struct dwarf_args *ix)
{
	return ix ? ix->nf : 0;
}

void dwarf_args_free(struct dwarf_args *ix)
{
	if (!ix)
		return;
	free(ix->f);
	free(ix->p);
	free(ix->part);
	free(ix->str);
	free(ix);
}
