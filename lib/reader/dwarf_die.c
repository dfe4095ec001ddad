/* dwarf_die: the unit and DIE reader of DWARF 2 to 5 (see dwarf_int.h).
 *
 * Owns unit headers (32- and 64-bit DWARF, every DWARF 5 unit type), abbreviation
 * tables (parsed once per table and kept: Go's units all share one; an abbreviation
 * whose attributes all have fixed sizes is skipped in one step), attribute forms
 * (DW_FORM_*, indirect included, and the GNU extensions), strings through
 * .debug_str, .debug_line_str and .debug_str_offsets, and the few attributes a
 * search decodes: name, type, data member location, declaration, and for dwarf_args*.c
 * a function's entry (DW_FORM_addr or addrx through .debug_addr), a parameter's origin
 * and result flag, a type's size, encoding, element count and Go kind. It knows nothing
 * of compression: it reads .debug_info through dwarf_info_at. */
#include "dwarf_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Real tables hold tens to a few thousand abbreviations (gcc, clang, Go: ~50). */
#define DWARF_MAX_ABBREVS (1u << 16)
#define DWARF_MAX_ATTRS (1u << 20)
/* The longest unit header: 64-bit DWARF 5 type unit. */
#define DWARF_MAX_CU_HEADER 40

/* Byte size of a form in this unit, -1 when it varies per value, -2 when unknown. */
static int dwarf_form_size(uint32_t form, const struct dwarf_cu *cu)
{
	switch (form) {
	case DW_FORM_flag_present: case DW_FORM_implicit_const:
		return 0;
	case DW_FORM_data1: case DW_FORM_ref1: case DW_FORM_flag: case DW_FORM_strx1:
	case DW_FORM_addrx1:
		return 1;
	case DW_FORM_data2: case DW_FORM_ref2: case DW_FORM_strx2: case DW_FORM_addrx2:
		return 2;
	case DW_FORM_strx3: case DW_FORM_addrx3:
		return 3;
	case DW_FORM_data4: case DW_FORM_ref4: case DW_FORM_ref_sup4: case DW_FORM_strx4:
	case DW_FORM_addrx4:
		return 4;
	case DW_FORM_data8: case DW_FORM_ref8: case DW_FORM_ref_sig8: case DW_FORM_ref_sup8:
		return 8;
	case DW_FORM_data16:
		return 16;
	case DW_FORM_addr:
		return cu->addr_size;
	case DW_FORM_ref_addr: /* an address in DWARF 2, an offset since 3 */
		return cu->version <= 2 ? cu->addr_size : cu->off_size;
	case DW_FORM_strp: case DW_FORM_sec_offset: case DW_FORM_line_strp:
	case DW_FORM_strp_sup: case DW_FORM_GNU_ref_alt: case DW_FORM_GNU_strp_alt:
		return cu->off_size;
	case DW_FORM_string: case DW_FORM_block: case DW_FORM_block1: case DW_FORM_block2:
	case DW_FORM_block4: case DW_FORM_exprloc: case DW_FORM_sdata: case DW_FORM_udata:
	case DW_FORM_ref_udata: case DW_FORM_indirect: case DW_FORM_strx: case DW_FORM_addrx:
	case DW_FORM_loclistx: case DW_FORM_rnglistx: case DW_FORM_GNU_addr_index:
	case DW_FORM_GNU_str_index:
		return -1;
	default:
		return -2;
	}
}

/* Reads (or, ignoring the result, skips) one attribute value. The variable-size
 * forms come first: they are what a DIE walk spends its time on. */
static void dwarf_form(struct dwarf_rd *r, const struct dwarf_cu *cu, uint32_t form,
		       int64_t implicit, struct dwarf_val *v)
{
	const uint8_t *nul;
	uint64_t len;
	int n;

	/* DW_FORM_indirect names the real form in the data; one level is all DWARF
	 * producers use, a few are tolerated, a chain is malformed. */
	for (int hops = 0; form == DW_FORM_indirect; hops++) {
		uint64_t f = dwarf_leb(r, false);
		form = hops < 4 && f <= UINT16_MAX && f != DW_FORM_implicit_const ? (uint32_t)f : 0;
	}
	*v = (struct dwarf_val){ 0 };
	switch (form) {
	case DW_FORM_string:
		nul = r->bad ? NULL : memchr(r->p, 0, (size_t)(r->end - r->p));
		if (!nul) {
			dwarf_need(r, UINT64_MAX);
			return;
		}
		v->blk = r->p;
		v->len = (uint64_t)(nul - r->p);
		r->p = nul + 1;
		return;
	case DW_FORM_sdata:
		v->u = dwarf_leb(r, true);
		return;
	case DW_FORM_udata: case DW_FORM_ref_udata: case DW_FORM_strx: case DW_FORM_addrx:
	case DW_FORM_loclistx: case DW_FORM_rnglistx: case DW_FORM_GNU_addr_index:
	case DW_FORM_GNU_str_index:
		v->u = dwarf_leb(r, false);
		return;
	case DW_FORM_implicit_const:
		v->u = (uint64_t)implicit;
		return;
	case DW_FORM_flag_present:
		v->u = 1;
		return;
	case DW_FORM_block1: len = dwarf_uint(r, 1); break;
	case DW_FORM_block2: len = dwarf_uint(r, 2); break;
	case DW_FORM_block4: len = dwarf_uint(r, 4); break;
	case DW_FORM_block: case DW_FORM_exprloc: len = dwarf_leb(r, false); break;
	default:
		n = dwarf_form_size(form, cu);
		if (n < 0) /* unknown */
			dwarf_need(r, UINT64_MAX);
		else if (n <= 8)
			v->u = dwarf_uint(r, (unsigned)n);
		else
			dwarf_skip(r, (uint64_t)n);
		return;
	}
	if (dwarf_need(r, len)) {
		v->blk = r->p;
		v->len = len;
		r->p += len;
	}
}

/* Makes room for element n of *arr, up to max elements. */
int dwarf_grow(void **arr, size_t *cap, size_t n, size_t elem, size_t max)
{
	if (n < *cap)
		return 0;
	if (n >= max)
		return -EINVAL;
	size_t ncap = *cap ? *cap * 2 : 64;
	void *p = reallocarray(*arr, ncap, elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Parses one abbreviation's attribute specifications, up to the (0, 0) pair. */
static int dwarf_abbrev_attrs(struct dwarf_rd *r, struct dwarf_abbrevs *t,
			      struct dwarf_abbrev *a, const struct dwarf_cu *cu)
{
	a->attr = t->nat;
	a->fixed = 0;
	for (;;) {
		uint64_t name = dwarf_leb(r, false), form = dwarf_leb(r, false);
		if (r->bad)
			return -EINVAL;
		if (name == 0 && form == 0)
			break;
		int size = dwarf_form_size(form <= UINT16_MAX ? (uint32_t)form : 0, cu);
		int err = size == -2 ? -EINVAL :
			  dwarf_grow((void **)&t->at, &t->atcap, t->nat, sizeof(*t->at), DWARF_MAX_ATTRS);
		if (err)
			return err;
		t->at[t->nat++] = (struct dwarf_attr){
			.name = name <= UINT32_MAX ? (uint32_t)name : 0,
			.form = (uint16_t)form,
			.size = (int16_t)size,
			.implicit = form == DW_FORM_implicit_const ? (int64_t)dwarf_leb(r, true) : 0,
		};
		a->fixed = size < 0 || a->fixed < 0 ? -1 : a->fixed + size;
	}
	a->nattr = t->nat - a->attr;
	return 0;
}

static int dwarf_abbrev_cmp(const void *x, const void *y)
{
	const struct dwarf_abbrev *a = x, *b = y;
	return a->code < b->code ? -1 : a->code > b->code;
}

/* Loads the abbreviation table of cu into c->ab, unless it is already there.
 * Units may take turns between tables; c->abbrev_left keeps a hostile file from
 * making every unit re-parse a large one. */
static int dwarf_abbrevs_load(struct dwarf_ctx *c, const struct dwarf_cu *cu)
{
	struct dwarf_abbrevs *t = &c->ab;
	bool sorted = true;

	if (t->valid && t->off == cu->abbrev_off && t->version == cu->version &&
	    t->addr_size == cu->addr_size && t->off_size == cu->off_size)
		return 0;
	*t = (struct dwarf_abbrevs){ .a = t->a, .cap = t->cap, .at = t->at, .atcap = t->atcap };
	struct dwarf_rd r = dwarf_rd_at(&c->abbrev, cu->abbrev_off, c->abbrev.len);
	for (uint64_t code; (code = dwarf_leb(&r, false)) != 0 || r.bad;) {
		int err = r.bad ? -EINVAL : dwarf_grow((void **)&t->a, &t->cap, t->n, sizeof(*t->a),
						       DWARF_MAX_ABBREVS);
		if (err)
			return err;
		struct dwarf_abbrev *a = &t->a[t->n];
		uint64_t tag = dwarf_leb(&r, false);
		a->code = code;
		a->tag = tag <= UINT32_MAX ? (uint32_t)tag : 0;
		a->children = dwarf_uint(&r, 1) != 0;
		if ((err = dwarf_abbrev_attrs(&r, t, a, cu)))
			return err;
		sorted = sorted && (t->n == 0 || t->a[t->n - 1].code < code);
		t->n++;
	}
	uint64_t used = (uint64_t)(r.p - c->abbrev.p) - cu->abbrev_off;
	if (used > c->abbrev_left)
		return -EINVAL;
	c->abbrev_left -= used;
	if (!sorted)
		qsort(t->a, t->n, sizeof(*t->a), dwarf_abbrev_cmp);
	t->valid = true;
	t->off = cu->abbrev_off;
	t->version = cu->version;
	t->addr_size = cu->addr_size;
	t->off_size = cu->off_size;
	return 0;
}

static const struct dwarf_abbrev *dwarf_abbrev_find(const struct dwarf_abbrevs *t, uint64_t code)
{
	/* Producers number abbreviations 1, 2, 3...: try the direct slot first. */
	if (code - 1 < t->n && t->a[code - 1].code == code)
		return &t->a[code - 1];
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->a[mid].code == code)
			return &t->a[mid];
		if (t->a[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Reads the header of the unit at .debug_info offset off (DWARF 5: 7.5.1;
 * DWARF 2-4 put the abbreviation offset before the address size). */
int dwarf_cu_header(struct dwarf_ctx *c, uint64_t off, struct dwarf_cu *cu)
{
	uint64_t hdr_end = c->info.len - off > DWARF_MAX_CU_HEADER ? off + DWARF_MAX_CU_HEADER
								     : c->info.len;
	struct dwarf_rd r = dwarf_info_at(c, off, hdr_end);
	uint64_t len = dwarf_uint(&r, 4);
	uint8_t unit_type = 0;

	cu->off_size = len == 0xffffffff ? 8 : 4; /* 64-bit DWARF */
	if (cu->off_size == 8)
		len = dwarf_uint(&r, 8);
	if (r.bad || (cu->off_size == 4 && len >= 0xfffffff0) ||
	    len > c->info.len - (uint64_t)(r.p - c->info.p))
		return -EINVAL;
	cu->start = off;
	cu->end = (uint64_t)(r.p - c->info.p) + len;
	if (len < (uint64_t)(r.end - r.p))
		r.end = r.p + len;
	cu->version = (uint16_t)dwarf_uint(&r, 2);
	if (cu->version < 2 || cu->version > 5) {
		cu->version = 0; /* its length is all we need to step over it */
		return r.bad ? -EINVAL : 0;
	}
	if (cu->version == 5) {
		unit_type = (uint8_t)dwarf_uint(&r, 1);
		cu->addr_size = (uint8_t)dwarf_uint(&r, 1);
		cu->abbrev_off = dwarf_uint(&r, cu->off_size);
	} else {
		cu->abbrev_off = dwarf_uint(&r, cu->off_size);
		cu->addr_size = (uint8_t)dwarf_uint(&r, 1);
	}
	if (unit_type == DW_UT_skeleton || unit_type == DW_UT_split_compile)
		dwarf_skip(&r, 8); /* dwo_id */
	if (unit_type == DW_UT_type || unit_type == DW_UT_split_type)
		dwarf_skip(&r, 8 + cu->off_size); /* type_signature, type_offset */
	if (r.bad || (cu->addr_size != 4 && cu->addr_size != 8))
		return -EINVAL;
	cu->die = (uint64_t)(r.p - c->info.p);
	/* Without DW_AT_str_offsets_base, strx indexes count from just past the
	 * .debug_str_offsets header (DWARF 5: 7.26). */
	cu->str_base = cu->off_size == 8 ? 16 : 8;
	cu->addr_base = cu->str_base; /* likewise past the .debug_addr header (7.27) */
	return 0;
}

/* A NUL-terminated string at off in s, or NULL if it does not end inside s. */
static const char *dwarf_sec_str(const struct dwarf_sec *s, uint64_t off)
{
	if (off >= s->len || !memchr(s->p + off, 0, s->len - off))
		return NULL;
	return (const char *)s->p + off;
}

/* The string an attribute value names, or NULL when it is not a string we can
 * resolve (or not a string at all). Go writes DW_FORM_string, gcc strp and
 * line_strp, clang's DWARF 5 strx1. */
static const char *dwarf_string(const struct dwarf_ctx *c, const struct dwarf_cu *cu,
				uint32_t form, const struct dwarf_val *v)
{
	const struct dwarf_sec *so = &c->str_offsets;

	switch (form) {
	case DW_FORM_string:
		return (const char *)v->blk; /* dwarf_form checked the NUL */
	case DW_FORM_strp:
		return dwarf_sec_str(&c->str, v->u);
	case DW_FORM_line_strp:
		return dwarf_sec_str(&c->line_str, v->u);
	case DW_FORM_strx: case DW_FORM_strx1: case DW_FORM_strx2: case DW_FORM_strx3:
	case DW_FORM_strx4: case DW_FORM_GNU_str_index:
		if (cu->str_base > so->len || v->u >= (so->len - cu->str_base) / cu->off_size)
			return NULL;
		struct dwarf_rd r = dwarf_rd_at(so, cu->str_base + v->u * cu->off_size, so->len);
		return dwarf_sec_str(&c->str, dwarf_uint(&r, cu->off_size));
	default:
		return NULL;
	}
}

/* The absolute .debug_info offset a reference points at, or DWARF_NO_REF for
 * references into other files (supplementary, split, type units by signature). */
static uint64_t dwarf_ref(const struct dwarf_cu *cu, uint32_t form, const struct dwarf_val *v)
{
	switch (form) {
	case DW_FORM_ref1: case DW_FORM_ref2: case DW_FORM_ref4: case DW_FORM_ref8:
	case DW_FORM_ref_udata:
		return v->u < cu->end - cu->start ? cu->start + v->u : DWARF_NO_REF;
	case DW_FORM_ref_addr: /* Go refers to types this way, across units */
		return v->u;
	default:
		return DWARF_NO_REF;
	}
}

/* DW_AT_data_member_location: a constant since DWARF 3 (Go, gcc, clang), a
 * location expression DW_OP_plus_uconst N in DWARF 2. */
static void dwarf_member_loc(uint32_t form, const struct dwarf_val *v, struct dwarf_die *d)
{
	d->loc_state = -1;
	if (v->blk && form != DW_FORM_string) {
		struct dwarf_rd r = { v->blk, v->blk + v->len, false };
		uint8_t op = (uint8_t)dwarf_uint(&r, 1);
		d->loc = dwarf_leb(&r, false);
		if ((op == DW_OP_plus_uconst || op == DW_OP_constu) && !r.bad && r.p == r.end)
			d->loc_state = 1;
	} else if (form == DW_FORM_data1 || form == DW_FORM_data2 || form == DW_FORM_data4 ||
		   form == DW_FORM_data8 || form == DW_FORM_udata || form == DW_FORM_implicit_const ||
		   (form == DW_FORM_sdata && (int64_t)v->u >= 0)) {
		d->loc = v->u;
		d->loc_state = 1;
	}
}

/* An address attribute: DW_FORM_addr in the DIE, or (DWARF 5, Go since 1.25) an
 * index into the unit's slice of .debug_addr. */
static bool dwarf_address(const struct dwarf_ctx *c, const struct dwarf_cu *cu, uint32_t form,
			  const struct dwarf_val *v, uint64_t *addr)
{
	switch (form) {
	case DW_FORM_addr:
		*addr = v->u;
		return true;
	case DW_FORM_addrx: case DW_FORM_addrx1: case DW_FORM_addrx2: case DW_FORM_addrx3:
	case DW_FORM_addrx4: case DW_FORM_GNU_addr_index:
		if (cu->addr_base > c->addr.len || v->u >= (c->addr.len - cu->addr_base) / cu->addr_size)
			return false;
		struct dwarf_rd r = dwarf_rd_at(&c->addr, cu->addr_base + v->u * cu->addr_size,
						c->addr.len);
		*addr = dwarf_uint(&r, cu->addr_size);
		return !r.bad;
	default:
		return false;
	}
}

/* The attributes only functions, parameters and their types have (dwarf_args*.c). */
static void dwarf_attr_func(const struct dwarf_ctx *c, struct dwarf_cu *cu,
			    const struct dwarf_attr *at, const struct dwarf_val *v, struct dwarf_die *d)
{
	switch (at->name) {
	case DW_AT_low_pc:
		d->has_low_pc = dwarf_address(c, cu, at->form, v, &d->low_pc);
		break;
	case DW_AT_abstract_origin:
		d->origin = dwarf_ref(cu, at->form, v);
		break;
	case DW_AT_variable_parameter:
		d->var_param = v->u != 0;
		break;
	case DW_AT_trampoline:
		d->trampoline = v->u != 0 || v->blk;
		break;
	case DW_AT_byte_size:
		d->size = v->u;
		d->has_size = !v->blk;
		break;
	case DW_AT_count: case DW_AT_upper_bound: /* Go writes count; C, upper bound */
		d->count = v->u + (at->name == DW_AT_upper_bound);
		d->has_count = !v->blk && (at->name == DW_AT_count || v->u != UINT64_MAX);
		break;
	case DW_AT_encoding:
		d->encoding = (uint8_t)v->u;
		break;
	case DW_AT_go_kind:
		d->go_kind = (uint8_t)v->u;
		break;
	case DW_AT_addr_base:
		cu->addr_base = v->u;
		break;
	case DW_AT_producer:
		d->producer = dwarf_string(c, cu, at->form, v);
		break;
	}
}

/* Decodes the attributes of a DIE whose abbreviation ab was just read. */
int dwarf_die_attrs(const struct dwarf_ctx *c, struct dwarf_cu *cu, struct dwarf_rd *r,
			   const struct dwarf_abbrev *ab, struct dwarf_die *d)
{
	*d = (struct dwarf_die){ .type = DWARF_NO_REF, .origin = DWARF_NO_REF };
	for (size_t i = 0; i < ab->nattr && !r->bad; i++) {
		const struct dwarf_attr *at = &c->ab.at[ab->attr + i];
		struct dwarf_val v;
		dwarf_form(r, cu, at->form, at->implicit, &v);
		if (at->name == DW_AT_name)
			d->name = dwarf_string(c, cu, at->form, &v);
		else if (at->name == DW_AT_type)
			d->type = dwarf_ref(cu, at->form, &v);
		else if (at->name == DW_AT_data_member_location)
			dwarf_member_loc(at->form, &v, d);
		else if (at->name == DW_AT_declaration)
			d->decl = v.u != 0;
		else if (at->name == DW_AT_str_offsets_base)
			cu->str_base = v.u;
		else
			dwarf_attr_func(c, cu, at, &v, d);
	}
	return r->bad ? -EINVAL : 0;
}

void dwarf_die_skip(const struct dwarf_ctx *c, const struct dwarf_cu *cu,
			   struct dwarf_rd *r, const struct dwarf_abbrev *ab)
{
	struct dwarf_val v;

	if (ab->fixed >= 0) {
		dwarf_skip(r, (uint64_t)ab->fixed);
		return;
	}
	for (size_t i = 0; i < ab->nattr && !r->bad; i++) {
		const struct dwarf_attr *at = &c->ab.at[ab->attr + i];
		if (at->size >= 0)
			dwarf_skip(r, (uint64_t)at->size);
		else
			dwarf_form(r, cu, at->form, at->implicit, &v);
	}
}

/* Reads a DIE's abbreviation code into *ab, NULL for a null entry (the end of a
 * list of siblings). -EINVAL for an unknown code or a short read. */
int dwarf_die_head(const struct dwarf_ctx *c, struct dwarf_rd *r,
			  const struct dwarf_abbrev **ab)
{
	uint64_t code = dwarf_leb(r, false);

	*ab = code && !r->bad ? dwarf_abbrev_find(&c->ab, code) : NULL;
	return r->bad || (code && !*ab) ? -EINVAL : 0;
}

/* Makes cu the unit being read: its abbreviations loaded and, for DWARF 5, its
 * DW_AT_str_offsets_base taken from the unit DIE. */
int dwarf_cu_enter(struct dwarf_ctx *c, struct dwarf_cu *cu)
{
	struct dwarf_rd r = dwarf_info_at(c, cu->die, cu->end);
	const struct dwarf_abbrev *ab;
	struct dwarf_die d;
	int err = dwarf_abbrevs_load(c, cu);

	if (err || cu->version < 5 || (err = dwarf_die_head(c, &r, &ab)) || !ab)
		return err;
	return dwarf_die_attrs(c, cu, &r, ab, &d);
}

/* dwarf_cu_find with the table of every unit: a binary search. */
static int dwarf_cu_lookup(struct dwarf_ctx *c, uint64_t off, struct dwarf_cu *cu)
{
	size_t lo = 0, hi = c->nunits;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (off < c->units[mid].start) {
			hi = mid;
		} else if (off >= c->units[mid].end) {
			lo = mid + 1;
		} else {
			*cu = c->units[mid];
			return off < cu->die ? -EINVAL : dwarf_abbrevs_load(c, cu);
		}
	}
	return -ENOENT; /* in a unit of a version we do not read, or past them all */
}

int dwarf_cu_remember(struct dwarf_ctx *c, const struct dwarf_cu *cu)
{
	int err = dwarf_grow((void **)&c->units, &c->unitcap, c->nunits, sizeof(*c->units),
			     SIZE_MAX / sizeof(*c->units));
	if (!err)
		c->units[c->nunits++] = *cu;
	return err;
}

/* Finds and enters the unit holding .debug_info offset off. Units are stepped
 * over by their length alone: a few thousand header reads at most. */
int dwarf_cu_find(struct dwarf_ctx *c, uint64_t off, struct dwarf_cu *cu)
{
	if (off == DWARF_NO_REF)
		return -ENOENT;
	if (cu->version && off >= cu->die && off < cu->end)
		return 0;
	if (c->units_done)
		return dwarf_cu_lookup(c, off, cu);
	for (uint64_t at = 0; at < c->info.len; at = cu->end) {
		int err = dwarf_cu_header(c, at, cu);
		if (err)
			return err;
		if (off < cu->end)
			return !cu->version ? -ENOENT : off < cu->die ? -EINVAL : dwarf_cu_enter(c, cu);
	}
	return -EINVAL;
}

int dwarf_die_at(struct dwarf_ctx *c, uint64_t off, struct dwarf_cu *cu, struct dwarf_rd *r,
		 const struct dwarf_abbrev **ab, struct dwarf_die *d)
{
	int err = dwarf_cu_find(c, off, cu);

	if (err)
		return err;
	*r = dwarf_info_at(c, off, cu->end);
	if ((err = dwarf_die_head(c, r, ab)))
		return err;
	return *ab ? dwarf_die_attrs(c, cu, r, *ab, d) : -EINVAL;
}
