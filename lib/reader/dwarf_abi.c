/* dwarf_abi: Go types read from DWARF, and where Go's register ABI puts a value of one.
 *
 * A type is reduced to what the assignment needs: its register-sized leaves in order
 * (a string's pointer and length, a struct's fields' leaves...), or the verdict that it
 * never goes in registers. The rules are cmd/compile/internal/abi/abiutils.go
 * (assignParam, tryAllocRegs, allocateRegs) with the counts of
 * cmd/compile/internal/types/size.go (intRegs, floatRegs) and the prose of
 * cmd/compile/abi-internal.md, identical from Go 1.17 to 1.27:
 *   - a zero-sized value takes no register;
 *   - a scalar or pointer-shaped value takes one integer register, a float one float
 *     register, a complex two; a string, slice or interface is a struct of 2, 3, 2 words;
 *   - a struct takes its fields' registers in order; an array of 0 elements none, of
 *     1 element its element's, of more: it never goes in registers (255 in size.go);
 *   - a value goes in registers only if all of its leaves fit in what is left of the
 *     9 integer and 15 float registers (16 and 16 on arm64); otherwise the whole value goes on the stack and
 *     the registers stay free for later parameters;
 *   - results are assigned afresh from the first register.
 * Go's linker tags every type with DW_AT_go_kind (a reflect.Kind: internal/abi/type.go,
 * written by cmd/link/internal/ld/dwarf.go newtype); without one (a C unit) the DWARF
 * tag and encoding say the kind. */
#include "dwarf_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Deeper nesting of typedefs, structs and arrays than this gives an unknown type. */
#define DWARF_MAX_TYPE_DEPTH 16
/* A struct with more fields than this is not read (an unknown type): more than all
 * 32 registers unless most are zero-sized. */
#define DWARF_MAX_FIELDS 64

/* reflect.Kind (internal/abi/type.go) */
enum {
	GK_BOOL = 1, GK_INT, GK_INT8, GK_INT16, GK_INT32, GK_INT64, GK_UINT, GK_UINT8, GK_UINT16,
	GK_UINT32, GK_UINT64, GK_UINTPTR, GK_FLOAT32, GK_FLOAT64, GK_COMPLEX64, GK_COMPLEX128,
	GK_ARRAY, GK_CHAN, GK_FUNC, GK_INTERFACE, GK_MAP, GK_POINTER, GK_SLICE, GK_STRING,
	GK_STRUCT, GK_UNSAFE_POINTER, GK_MAX
};

static const struct { uint8_t kind, size; } dwarf_gokinds[GK_MAX] = {
	[GK_BOOL] = { DWARF_KIND_BOOL, 1 },
	[GK_INT] = { DWARF_KIND_INT, 8 }, [GK_INT8] = { DWARF_KIND_INT, 1 },
	[GK_INT16] = { DWARF_KIND_INT, 2 }, [GK_INT32] = { DWARF_KIND_INT, 4 },
	[GK_INT64] = { DWARF_KIND_INT, 8 },
	[GK_UINT] = { DWARF_KIND_UINT, 8 }, [GK_UINT8] = { DWARF_KIND_UINT, 1 },
	[GK_UINT16] = { DWARF_KIND_UINT, 2 }, [GK_UINT32] = { DWARF_KIND_UINT, 4 },
	[GK_UINT64] = { DWARF_KIND_UINT, 8 }, [GK_UINTPTR] = { DWARF_KIND_UINT, 8 },
	[GK_FLOAT32] = { DWARF_KIND_FLOAT, 4 }, [GK_FLOAT64] = { DWARF_KIND_FLOAT, 8 },
	[GK_COMPLEX64] = { DWARF_KIND_FLOAT, 8 }, [GK_COMPLEX128] = { DWARF_KIND_FLOAT, 16 },
	[GK_ARRAY] = { DWARF_KIND_ARRAY, 0 }, [GK_CHAN] = { DWARF_KIND_POINTER, 8 },
	[GK_FUNC] = { DWARF_KIND_POINTER, 8 }, [GK_INTERFACE] = { DWARF_KIND_IFACE, 16 },
	[GK_MAP] = { DWARF_KIND_POINTER, 8 }, [GK_POINTER] = { DWARF_KIND_POINTER, 8 },
	[GK_SLICE] = { DWARF_KIND_SLICE, 24 }, [GK_STRING] = { DWARF_KIND_STRING, 16 },
	[GK_STRUCT] = { DWARF_KIND_STRUCT, 0 }, [GK_UNSAFE_POINTER] = { DWARF_KIND_POINTER, 8 },
};

static int dwarf_type_get(struct dwarf_ctx *c, struct dwarf_types *tt, uint64_t off,
			  unsigned depth, const struct dwarf_tinfo **ti);

static void dwarf_leaf(struct dwarf_tinfo *t, uint8_t kind, uint64_t size)
{
	if (t->state != DWARF_WHERE_REGS)
		return;
	if (t->nleaf == DWARF_MAX_LEAVES) { /* more than every register: tryAllocRegs fails */
		t->state = DWARF_WHERE_STACK;
		return;
	}
	t->leaf[t->nleaf++] = (struct dwarf_part){ .kind = kind, .size = (uint8_t)size };
}

/* Alignments are at most 8 on amd64 and arm64; a larger one is only ever a malformed size. */
static uint8_t dwarf_align_of(uint64_t size)
{
	return size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1;
}

/* Appends the leaves of u (a field, an array's only element) to t, which is aligned as
 * strictly as u. */
static void dwarf_merge(struct dwarf_tinfo *t, const struct dwarf_tinfo *u)
{
	if (u->align > t->align)
		t->align = u->align;
	if (u->state == DWARF_WHERE_UNKNOWN || t->state == DWARF_WHERE_UNKNOWN)
		t->state = DWARF_WHERE_UNKNOWN;
	else if (u->state == DWARF_WHERE_STACK)
		t->state = DWARF_WHERE_STACK;
	for (uint8_t i = 0; i < u->nleaf && t->state == DWARF_WHERE_REGS; i++)
		dwarf_leaf(t, u->leaf[i].kind, u->leaf[i].size);
}

/* The leaves of a scalar, string, slice or interface of kind t->kind. Integers wider
 * than a register do not exist on amd64 or arm64; a size we cannot believe is unknown. */
static void dwarf_scalar(struct dwarf_tinfo *t, bool complex)
{
	t->align = dwarf_align_of(complex ? t->size / 2 : t->size);
	switch (t->kind) {
	case DWARF_KIND_STRING: case DWARF_KIND_SLICE: /* synthString, synthSlice */
		dwarf_leaf(t, DWARF_KIND_POINTER, 8);
		dwarf_leaf(t, DWARF_KIND_INT, 8);
		if (t->kind == DWARF_KIND_SLICE)
			dwarf_leaf(t, DWARF_KIND_INT, 8);
		return;
	case DWARF_KIND_IFACE: /* synthIface */
		dwarf_leaf(t, DWARF_KIND_POINTER, 8);
		dwarf_leaf(t, DWARF_KIND_POINTER, 8);
		return;
	case DWARF_KIND_FLOAT:
		if (complex && (t->size == 8 || t->size == 16)) {
			dwarf_leaf(t, DWARF_KIND_FLOAT, t->size / 2);
			dwarf_leaf(t, DWARF_KIND_FLOAT, t->size / 2);
			return;
		}
		break;
	}
	if (t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8)
		dwarf_leaf(t, t->kind, t->size);
	else
		t->state = DWARF_WHERE_UNKNOWN;
}

/* Reads the children of the struct or array DIE just decoded: the types of its
 * members (into types, at most max) or, for an array, its element count. */
static size_t dwarf_children(const struct dwarf_ctx *c, struct dwarf_cu *cu, struct dwarf_rd *r,
			     const struct dwarf_abbrev *ab, uint64_t *types, size_t max,
			     uint64_t *count, bool *ok)
{
	size_t n = 0;
	struct dwarf_die d;

	*ok = true;
	for (size_t level = ab->children; level > 0 && *ok; level += ab && ab->children) {
		if (dwarf_die_head(c, r, &ab)) {
			*ok = false;
		} else if (!ab) {
			level--;
		} else if (level > 1 || (ab->tag != DW_TAG_member && ab->tag != DW_TAG_subrange_type)) {
			dwarf_die_skip(c, cu, r, ab);
		} else if (dwarf_die_attrs(c, cu, r, ab, &d)) {
			*ok = false;
		} else if (ab->tag == DW_TAG_subrange_type) {
			*ok = d.has_count;
			*count = d.count;
		} else if (n == max) {
			*ok = false; /* too many fields to read */
		} else {
			types[n++] = d.type;
		}
	}
	return n;
}

/* A struct's or an array's leaves, from its DIE just decoded into d. */
static int dwarf_aggregate(struct dwarf_ctx *c, struct dwarf_types *tt, struct dwarf_cu *cu,
			   struct dwarf_rd *r, const struct dwarf_abbrev *ab,
			   const struct dwarf_die *d, unsigned depth, struct dwarf_tinfo *t)
{
	uint64_t fields[DWARF_MAX_FIELDS], count = UINT64_MAX;
	const struct dwarf_tinfo *u;
	bool ok;
	/* Collected first: reading a field's type may enter another unit and table. */
	size_t n = dwarf_children(c, cu, r, ab, fields, DWARF_MAX_FIELDS, &count, &ok);

	if (!ok || !d->has_size) {
		t->state = DWARF_WHERE_UNKNOWN;
		return 0;
	}
	t->align = 1;
	if (t->kind == DWARF_KIND_ARRAY) {
		if (count == UINT64_MAX)
			t->state = DWARF_WHERE_UNKNOWN;
		n = 0;
		fields[n++] = d->type; /* its leaves (one element) or just its alignment */
	}
	for (size_t i = 0; i < n && t->state != DWARF_WHERE_UNKNOWN; i++) {
		int err = dwarf_type_get(c, tt, fields[i], depth + 1, &u);
		if (err)
			return err;
		dwarf_merge(t, u);
	}
	if (t->kind == DWARF_KIND_ARRAY && count != 1 && t->state != DWARF_WHERE_UNKNOWN) {
		t->nleaf = 0; /* size.go CalcArraySize: only 0 or 1 element in registers */
		t->state = count ? DWARF_WHERE_STACK : DWARF_WHERE_REGS;
	}
	return 0;
}

/* t takes the layout of the type d names (a typedef, a qualifier, a named Go type
 * whose DIE is a typedef of its struct), keeping its own name and kind if it has them. */
static int dwarf_follow(struct dwarf_ctx *c, struct dwarf_types *tt, const struct dwarf_die *d,
			unsigned depth, struct dwarf_tinfo *t)
{
	const struct dwarf_tinfo *u;
	struct dwarf_tinfo own = *t;
	int err = dwarf_type_get(c, tt, d->type, depth + 1, &u);

	if (err)
		return err;
	*t = *u;
	t->off = own.off;
	if (own.name)
		t->name = own.name;
	if (own.kind != DWARF_KIND_OTHER && own.kind != t->kind && t->state != DWARF_WHERE_UNKNOWN)
		t->state = DWARF_WHERE_UNKNOWN; /* the go_kind contradicts the DIE it names */
	return 0;
}

/* The kind of a type DIE without DW_AT_go_kind, from its tag and encoding; false for a
 * DIE that only names another type. */
static bool dwarf_tag_kind(uint32_t tag, const struct dwarf_die *d, uint8_t *kind, bool *complex)
{
	*complex = false;
	switch (tag) {
	case DW_TAG_base_type:
		switch (d->encoding) {
		case DW_ATE_boolean: *kind = DWARF_KIND_BOOL; break;
		case DW_ATE_signed: case DW_ATE_signed_char: *kind = DWARF_KIND_INT; break;
		case DW_ATE_unsigned: case DW_ATE_unsigned_char: *kind = DWARF_KIND_UINT; break;
		case DW_ATE_float: *kind = DWARF_KIND_FLOAT; break;
		case DW_ATE_complex_float: *kind = DWARF_KIND_FLOAT; *complex = true; break;
		default: *kind = DWARF_KIND_OTHER;
		}
		return true;
	case DW_TAG_pointer_type: case DW_TAG_subroutine_type:
		*kind = DWARF_KIND_POINTER;
		return true;
	case DW_TAG_structure_type:
		*kind = DWARF_KIND_STRUCT;
		return true;
	case DW_TAG_array_type:
		*kind = DWARF_KIND_ARRAY;
		return true;
	default:
		*kind = DWARF_KIND_OTHER;
		return false;
	}
}

/* Reads the type DIE at t->off into t (state REGS on entry). */
static int dwarf_type_read(struct dwarf_ctx *c, struct dwarf_types *tt, unsigned depth,
			   struct dwarf_tinfo *t)
{
	struct dwarf_cu cu = { 0 };
	const struct dwarf_abbrev *ab;
	struct dwarf_die d;
	struct dwarf_rd r;
	bool complex = false, named;
	int err = depth > DWARF_MAX_TYPE_DEPTH ? -EINVAL : dwarf_die_at(c, t->off, &cu, &r, &ab, &d);

	if (err) {
		t->state = DWARF_WHERE_UNKNOWN;
		return err == -ENOMEM ? err : 0;
	}
	/* A generic function's parameters have the type .param0, a local typedef of the
	 * shape (go.shape.int): the shape is the better name. */
	t->name = d.name && strncmp(d.name, ".param", 6) != 0 ? d.name : NULL;
	if (d.go_kind) {
		named = d.go_kind < GK_MAX && dwarf_gokinds[d.go_kind].size;
		t->kind = d.go_kind < GK_MAX ? dwarf_gokinds[d.go_kind].kind : DWARF_KIND_OTHER;
		t->size = named ? dwarf_gokinds[d.go_kind].size : d.size;
		complex = d.go_kind == GK_COMPLEX64 || d.go_kind == GK_COMPLEX128;
	} else {
		named = dwarf_tag_kind(ab->tag, &d, &t->kind, &complex);
		t->size = t->kind == DWARF_KIND_POINTER ? cu.addr_size : d.size;
	}
	bool aggregate = t->kind == DWARF_KIND_STRUCT || t->kind == DWARF_KIND_ARRAY;
	if (aggregate && (ab->tag == DW_TAG_structure_type || ab->tag == DW_TAG_array_type))
		return dwarf_aggregate(c, tt, &cu, &r, ab, &d, depth, t);
	if (aggregate || (!named && t->kind == DWARF_KIND_OTHER && d.type != DWARF_NO_REF))
		return dwarf_follow(c, tt, &d, depth, t);
	if (t->kind == DWARF_KIND_OTHER)
		t->state = DWARF_WHERE_UNKNOWN;
	else
		dwarf_scalar(t, complex);
	return 0;
}

/* The slot of off in the open-addressing table (empty, or off's). */
static size_t dwarf_type_slot(const struct dwarf_types *tt, uint64_t off)
{
	size_t i = (size_t)((off * 0x9e3779b97f4a7c15ull) >> 20) & (tt->nslot - 1);

	while (tt->slot[i] && tt->t[tt->slot[i] - 1].off != off)
		i = (i + 1) & (tt->nslot - 1);
	return i;
}

/* Adds an entry for off, growing the table at half full. */
static int dwarf_type_add(struct dwarf_types *tt, uint64_t off, size_t *idx)
{
	if (tt->n == tt->cap) {
		size_t ncap = tt->cap ? tt->cap * 2 : 256;
		struct dwarf_tinfo *t = ncap < UINT32_MAX ? reallocarray(tt->t, ncap, sizeof(*t)) : NULL;
		if (!t)
			return -ENOMEM;
		tt->t = t;
		tt->cap = ncap;
	}
	if (2 * (tt->n + 1) > tt->nslot) {
		size_t nslot = tt->nslot ? tt->nslot * 2 : 1024;
		uint32_t *slot = calloc(nslot, sizeof(*slot));
		if (!slot)
			return -ENOMEM;
		free(tt->slot);
		tt->slot = slot;
		tt->nslot = nslot;
		for (size_t i = 0; i < tt->n; i++)
			tt->slot[dwarf_type_slot(tt, tt->t[i].off)] = (uint32_t)i + 1;
	}
	*idx = tt->n++;
	tt->t[*idx] = (struct dwarf_tinfo){ .off = off, .state = DWARF_WHERE_UNKNOWN };
	tt->slot[dwarf_type_slot(tt, off)] = (uint32_t)*idx + 1;
	return 0;
}

/* A type is read once. It is entered as unknown before it is read, so that a type
 * reaching itself (only malformed DWARF does: Go's recursive types go through
 * pointers, which are not followed) is unknown instead of an endless recursion, and
 * each DIE costs one read however hostile the file. */
static int dwarf_type_get(struct dwarf_ctx *c, struct dwarf_types *tt, uint64_t off,
			  unsigned depth, const struct dwarf_tinfo **ti)
{
	static const struct dwarf_tinfo unknown = { .off = DWARF_NO_REF,
						    .state = DWARF_WHERE_UNKNOWN };
	struct dwarf_tinfo t = { .off = off, .state = DWARF_WHERE_REGS };
	size_t idx;
	int err;

	*ti = &unknown;
	if (off == DWARF_NO_REF)
		return 0;
	if (tt->nslot && tt->slot[idx = dwarf_type_slot(tt, off)]) {
		*ti = &tt->t[tt->slot[idx] - 1];
		return 0;
	}
	if ((err = dwarf_type_add(tt, off, &idx)) || (err = dwarf_type_read(c, tt, depth, &t)))
		return err;
	tt->t[idx] = t;
	*ti = &tt->t[idx];
	return 0;
}

int dwarf_type_info(struct dwarf_ctx *c, struct dwarf_types *tt, uint64_t off,
		    const struct dwarf_tinfo **ti)
{
	return dwarf_type_get(c, tt, off, 0, ti);
}

void dwarf_types_free(struct dwarf_types *tt)
{
	free(tt->t);
	free(tt->slot);
	*tt = (struct dwarf_types){ 0 };
}

struct dwarf_abi dwarf_abi_start(const struct elf_image *im)
{
	if (im->eh.e_machine == EM_AARCH64)
		return (struct dwarf_abi){ .nint = DWARF_ARM64_INT_REGS, .nfloat = DWARF_ARM64_FLOAT_REGS,
					   .int0 = DWARF_REG_R0, .float0 = DWARF_REG_F0 };
	return (struct dwarf_abi){ .nint = DWARF_INT_REGS, .nfloat = DWARF_FLOAT_REGS, .int0 = 0,
				   .float0 = DWARF_REG_X0 };
}

uint8_t dwarf_abi_assign(struct dwarf_abi *st, struct dwarf_param *p, const struct dwarf_tinfo *ti,
			 struct dwarf_part *parts)
{
	unsigned ints = 0, floats = 0;

	if (p->result && !st->results) { /* abiutils.go: rUsed is reset before the results */
		st->ints = st->floats = 0;
		st->unknown = false;
		st->results = true;
	}
	if (st->unknown || ti->state == DWARF_WHERE_UNKNOWN) {
		st->unknown = true; /* how many registers it took is unknown too */
		p->where = DWARF_WHERE_UNKNOWN;
		return 0;
	}
	if (ti->size == 0) { /* tryAllocRegs: zero-sized values are "stack allocated" */
		p->where = DWARF_WHERE_NONE;
		return 0;
	}
	for (uint8_t i = 0; i < ti->nleaf; i++)
		ti->leaf[i].kind == DWARF_KIND_FLOAT ? floats++ : ints++;
	if (ti->state == DWARF_WHERE_STACK || ints > st->nint - st->ints ||
	    floats > st->nfloat - st->floats) {
		p->where = DWARF_WHERE_STACK; /* and the registers stay free for later ones */
		return 0;
	}
	for (uint8_t i = 0; i < ti->nleaf; i++) {
		parts[i] = ti->leaf[i];
		parts[i].reg = (uint8_t)(ti->leaf[i].kind == DWARF_KIND_FLOAT
						 ? st->float0 + st->floats++ : st->int0 + st->ints++);
	}
	p->where = DWARF_WHERE_REGS;
	return ti->nleaf;
}

/* nextSlot in abiutils.go: the value's offset in an area, which grows past it. */
static uint64_t dwarf_next_slot(uint64_t *area, const struct dwarf_param *p)
{
	uint64_t a = p->align ? p->align : 1, at = (*area + a - 1) / a * a;

	*area = at + p->size;
	return at;
}

int dwarf_sig_frame_size(const struct dwarf_func_sig *s, bool abi0, uint64_t *size)
{
	uint64_t stack = 0, spill = 0;
	bool results = false;

	for (size_t i = 0; i < s->nparams; i++) {
		const struct dwarf_param *p = &s->param[i];
		if (p->where == DWARF_WHERE_UNKNOWN || p->size > (1ull << 40))
			return -EINVAL;
		if (p->result && !results) /* ABIAnalyzeFuncType rounds between the two */
			stack = (stack + 7) & ~7ull;
		results = results || p->result;
		if (abi0 || p->where != DWARF_WHERE_REGS) /* zero-sized: tryAllocRegs is nil */
			dwarf_next_slot(&stack, p);
		else if (!p->result) /* a register-assigned parameter has a spill slot */
			dwarf_next_slot(&spill, p);
	}
	*size = ((stack + 7) & ~7ull) + ((spill + 7) & ~7ull);
	return 0;
}
